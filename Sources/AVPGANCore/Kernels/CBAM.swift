/// How a CBAM applies its two attention maps `M = sigmoid(...)` (`avpgan.config` field
/// `cbam_gate`, absent = `sigmoid`).
public enum CBAMGate: String, CaseIterable, Sendable {
    /// The reference's CBAM: `x' = x Mc(x)`, `y = x' Ms(x')`.
    case sigmoid
    /// Residual attention (Wang et al. 2017): `x' = x (1 + Mc(x))`, `y = x' (1 + Ms(x'))`; an
    /// untrained gate near 0.5 scales by ~1.5 instead of ~0.5, a gate of 0 is the identity
    /// (docs/training-design.md, "Third round").
    case residual

    /// What is added to each attention map before it multiplies: 0 or 1.
    var offset: Float { self == .residual ? 1 : 0 }
}

/// Convolutional Block Attention Module (Woo et al. 2018) as the reference defines it:
/// channel gate `sigmoid(MLP(avgpool x) + MLP(maxpool x))` with the MLP two bias-free 1x1
/// convolutions `C -> hidden -> C` and a ReLU between, then spatial gate
/// `sigmoid(conv_kxk([mean_c x'; max_c x']))`, padding k/2, no bias; each gate multiplies as
/// `gate` says (the reference's `sigmoid`: `offset + M` with offset 0). Applied in place.
struct CBAM {
    let channels: Int
    let hidden: Int
    /// `[hidden, C]` (torch `mlp.0.weight` `[hidden, C, 1, 1]`).
    let reduce: FloatStorage
    /// `[C, hidden]` (torch `mlp.2.weight` `[C, hidden, 1, 1]`).
    let expand: FloatStorage
    /// The spatial convolution, 2 -> 1 channels.
    let spatial: Conv2d
    /// How the attention maps multiply.
    var gate: CBAMGate = .sigmoid

    /// Floats of scratch `apply` needs for `batch` images of `h x w`.
    func scratchCount(batch: Int, h: Int, w: Int) -> Int {
        let pooled = 2 * channels * batch + 2 * hidden * batch + 2 * channels * batch + channels * batch
        let maps = 2 * batch * h * w + batch * h * w
        return pooled + maps + spatial.scratchCount(batch: batch, h: h, w: w)
    }

    func apply(_ x: FeatureMap, scratch: UnsafeMutablePointer<Float>) {
        let n = x.batch, c = channels, plane = x.plane, offset = self.gate.offset
        // Scratch layout.
        let pooled = scratch                      // [C, 2N]: avg | max
        let hiddenOut = pooled + 2 * c * n        // [hidden, 2N]
        let mlpOut = hiddenOut + 2 * hidden * n   // [C, 2N]
        let gate = mlpOut + 2 * c * n             // [C, N]
        let spatialIn = gate + c * n              // [2, N, H, W]
        let spatialOut = spatialIn + 2 * n * plane  // [1, N, H, W]
        let cols = spatialOut + n * plane

        // 1. Average and max over each image plane of each channel.
        parallelFor(c, costPerItem: x.row) { ch in
            for b in 0..<n {
                let (sum, peak) = sumAndMax(x.channel(ch) + b * plane, count: plane)
                pooled[ch * 2 * n + b] = sum / Float(plane)
                pooled[ch * 2 * n + n + b] = peak
            }
        }
        // 2. The shared MLP on both pools at once (two GEMMs), gates summed, squashed and offset
        //    (torch's `1 + sigmoid(g)` rounds the sum before it multiplies; so does this).
        BLAS.gemm(m: hidden, n: 2 * n, k: c, a: reduce.pointer, lda: c, b: pooled, ldb: 2 * n, c: hiddenOut, ldc: 2 * n)
        for i in 0..<(hidden * 2 * n) where hiddenOut[i] < 0 { hiddenOut[i] = 0 }
        BLAS.gemm(m: c, n: 2 * n, k: hidden, a: expand.pointer, lda: hidden, b: hiddenOut, ldb: 2 * n, c: mlpOut, ldc: 2 * n)
        for ch in 0..<c {
            for b in 0..<n { gate[ch * n + b] = offset + sigmoid(mlpOut[ch * 2 * n + b] + mlpOut[ch * 2 * n + n + b]) }
        }
        // 3. Channel-gated mean and max over channels, per pixel (x itself is rescaled in 5).
        let meanMap = spatialIn, maxMap = spatialIn + n * plane
        parallelFor(n, costPerItem: c * plane) { b in
            let mean = meanMap + b * plane, peak = maxMap + b * plane
            mean.update(repeating: 0, count: plane)
            peak.update(repeating: -Float.infinity, count: plane)
            for ch in 0..<c {
                let g = gate[ch * n + b]
                let p = UnsafePointer(x.channel(ch) + b * plane)
                for i in 0..<plane {
                    let v = p[i] * g
                    mean[i] += v
                    peak[i] = max(peak[i], v)
                }
            }
            let inv = 1 / Float(c)
            for i in 0..<plane { mean[i] *= inv }
        }
        // 4. The spatial convolution over [mean; max].
        let input = FeatureMap(data: spatialIn, channels: 2, batch: n, height: x.height, width: x.width)
        let output = FeatureMap(data: spatialOut, channels: 1, batch: n, height: x.height, width: x.width)
        spatial.forward(input, into: output, cols: cols)
        // 5. x = (x * channel gate) * spatial gate, in that order (torch's rounding).
        parallelFor(n * plane, costPerItem: 32) { i in spatialOut[i] = offset + sigmoid(spatialOut[i]) }
        parallelFor(c, costPerItem: x.row) { ch in
            for b in 0..<n {
                let g = gate[ch * n + b]
                let p = x.channel(ch) + b * plane
                let s = UnsafePointer(spatialOut + b * plane)
                for i in 0..<plane { p[i] = (p[i] * g) * s[i] }
            }
        }
    }
}
