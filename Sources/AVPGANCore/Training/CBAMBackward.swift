/// CBAM in training mode: `forward` (not in place) records what `backward` needs; the
/// parameters are those of an inference `CBAM` (reduce `[hidden, C]`, expand `[C, hidden]`,
/// the spatial `Conv2d` 2 -> 1, groups 1, no bias).
///
/// Forward, as the reference: `g = sigmoid(MLP(avgpool x) + MLP(maxpool x))` per (channel, image),
/// `x1 = x (o + g)`, `s = sigmoid(conv([mean_c x1; max_c x1]))` per (image, pixel),
/// `y = x1 (o + s)`, with `o` the gate's offset (0 for the reference's `sigmoid` gate, 1 for
/// `residual`). The tape keeps `g` and `s` themselves, so the sigmoids' derivatives
/// `g (1 - g)`, `s (1 - s)` are torch's whatever the offset.
/// Backward follows torch's autograd rules: the adaptive max pool sends its gradient to the
/// FIRST maximal element of the plane (torch's index), while `amax` over channels splits it
/// evenly among tied maxima (torch's `amax` backward); the ReLU's gradient at 0 is 0.
/// One tape per concurrent use; its memory is kept and grows to the largest shape seen.
final class CBAMTraining {
    let cbam: CBAM
    private let workspace = Workspace()
    private var shape = (batch: 0, height: 0, width: 0)
    private var argmax: [Int] = []
    // Tape (workspace slots): 0 pooled [C, 2N] (avg | max), 1 hidden [hid, 2N] (after ReLU),
    // 2 gate [C, N], 3 spatialIn [2, N, H, W], 4 s [N, H, W], 5 conv cols, 6.. backward scratch.
    private var pooled: UnsafeMutablePointer<Float>!
    private var hiddenOut: UnsafeMutablePointer<Float>!
    private var gate: UnsafeMutablePointer<Float>!
    private var spatialIn: UnsafeMutablePointer<Float>!
    private var spatialGate: UnsafeMutablePointer<Float>!
    private var cols: UnsafeMutablePointer<Float>!

    init(_ cbam: CBAM) {
        precondition(cbam.spatial.geometry.groups == 1 && cbam.spatial.inChannels == 2 && cbam.spatial.outChannels == 1)
        self.cbam = cbam
    }

    /// y = CBAM(x). `x`: `C x N x H x W`; `out` same shape, OVERWRITTEN, must not alias `x`.
    /// Keep `x` unchanged until `backward`.
    func forward(_ x: FeatureMap, into out: FeatureMap) throws {
        let c = cbam.channels, hid = cbam.hidden, n = x.batch, plane = x.plane, offset = cbam.gate.offset
        shape = (n, x.height, x.width)
        pooled = try workspace.slot(0, count: 2 * c * n)
        hiddenOut = try workspace.slot(1, count: 2 * hid * n)
        let mlpOut = try workspace.slot(6, count: 2 * c * n)
        gate = try workspace.slot(2, count: c * n)
        spatialIn = try workspace.slot(3, count: 2 * n * plane)
        spatialGate = try workspace.slot(4, count: n * plane)
        cols = try workspace.slot(5, count: max(1, cbam.spatial.backwardScratchCount(batch: n, h: x.height, w: x.width)))
        if argmax.count < c * n { argmax = [Int](repeating: 0, count: c * n) }
        let pooled = self.pooled!, hiddenOut = self.hiddenOut!, gate = self.gate!
        // 1. Pools; the max pool's index is the first maximum (torch). Parallel over channels.
        argmax.withUnsafeMutableBufferPointer { arg in
            let arg = arg.baseAddress!
            parallelFor(c, costPerItem: 2 * n * plane) { ch in
                for b in 0..<n {
                    let p = x.channel(ch) + b * plane
                    var best = p[0], at = 0
                    for i in 0..<plane where p[i] > best || p[i].isNaN { best = p[i]; at = i }
                    pooled[ch * 2 * n + b] = Float(doubleSum(p, count: plane) / Double(plane))
                    pooled[ch * 2 * n + n + b] = best
                    arg[ch * n + b] = at
                }
            }
        }
        // 2. Shared MLP on both pools.
        BLAS.gemm(m: hid, n: 2 * n, k: c, a: cbam.reduce.pointer, lda: c, b: pooled, ldb: 2 * n, c: hiddenOut, ldc: 2 * n)
        for i in 0..<(hid * 2 * n) where !(hiddenOut[i] > 0) { hiddenOut[i] = 0 }
        BLAS.gemm(m: c, n: 2 * n, k: hid, a: cbam.expand.pointer, lda: hid, b: hiddenOut, ldb: 2 * n, c: mlpOut, ldc: 2 * n)
        for ch in 0..<c {
            for b in 0..<n { gate[ch * n + b] = sigmoid(mlpOut[ch * 2 * n + b] + mlpOut[ch * 2 * n + n + b]) }
        }
        // 3. x1 = x (o + g) into out; mean and max over channels (in channel order), per image.
        let meanMap = spatialIn!, maxMap = spatialIn! + n * plane
        let inv = 1 / Float(c)
        parallelFor(n, costPerItem: 3 * c * plane) { b in
            let mean = meanMap + b * plane, peak = maxMap + b * plane
            mean.update(repeating: 0, count: plane)
            peak.update(repeating: -Float.infinity, count: plane)
            for ch in 0..<c {
                let g = offset + gate[ch * n + b]
                let p = x.channel(ch) + b * plane, o = out.channel(ch) + b * plane
                for i in 0..<plane {
                    let v = p[i] * g
                    o[i] = v
                    mean[i] += v
                    peak[i] = max(peak[i], v)
                }
            }
            for i in 0..<plane { mean[i] *= inv }
        }
        // 4. Spatial gate.
        cbam.spatial.forward(FeatureMap(data: spatialIn, channels: 2, batch: n, height: x.height, width: x.width),
                             into: FeatureMap(data: spatialGate, channels: 1, batch: n, height: x.height, width: x.width),
                             cols: cols)
        let spatialGate = self.spatialGate!
        parallelFor(n, costPerItem: 16 * plane) { b in
            let s = spatialGate + b * plane
            for i in 0..<plane { s[i] = sigmoid(s[i]) }
        }
        // 5. y = x1 (o + s).
        parallelFor(c, costPerItem: n * plane) { ch in
            for b in 0..<n {
                let o = out.channel(ch) + b * plane, s = spatialGate + b * plane
                for i in 0..<plane { o[i] *= offset + s[i] }
            }
        }
    }

    /// Reverse mode of the last `forward` (same `x`). `gradInput` is OVERWRITTEN (must not alias
    /// `x` or `gradOutput`); `gradReduce` `[hidden, C]`, `gradExpand` `[C, hidden]` and
    /// `gradSpatial` `[1, 2, k, k]` are ACCUMULATED.
    func backward(input x: FeatureMap, gradOutput dy: FeatureMap, gradInput dx: FeatureMap,
                  gradReduce: UnsafeMutablePointer<Float>, gradExpand: UnsafeMutablePointer<Float>,
                  gradSpatial: UnsafeMutablePointer<Float>) throws {
        let c = cbam.channels, hid = cbam.hidden, n = x.batch, plane = x.plane, offset = cbam.gate.offset
        precondition(shape == (n, x.height, x.width), "backward needs the shape of the last forward")
        let dz = try workspace.slot(7, count: n * plane)
        let inv = 1 / Float(c)
        let dSpatialIn = try workspace.slot(8, count: 2 * n * plane)
        let ties = try workspace.slot(9, count: n * plane)
        let dMlp = try workspace.slot(10, count: 2 * c * n)
        let dHidden = try workspace.slot(11, count: 2 * hid * n)
        let dPooled = try workspace.slot(12, count: 2 * c * n)
        let gate = self.gate!, s = self.spatialGate!, maxMap = spatialIn! + n * plane
        // ds = Σ_c dy x1 (in channel order; the offset adds no derivative); dz = ds s (1 - s);
        // ties counts the channels at the max. Parallel over images.
        parallelFor(n, costPerItem: 3 * c * plane) { b in
            let z = dz + b * plane, t = ties + b * plane, m = maxMap + b * plane, sb = s + b * plane
            z.update(repeating: 0, count: plane)
            t.update(repeating: 0, count: plane)
            for ch in 0..<c {
                let g = offset + gate[ch * n + b]
                let p = x.channel(ch) + b * plane, d = dy.channel(ch) + b * plane
                for i in 0..<plane {
                    let v = p[i] * g
                    z[i] += d[i] * v
                    if v == m[i] { t[i] += 1 }
                }
            }
            for i in 0..<plane { z[i] *= (1 - sb[i]) * sb[i] }
        }
        // Spatial convolution backward.
        let spatialMap = FeatureMap(data: spatialIn, channels: 2, batch: n, height: x.height, width: x.width)
        cbam.spatial.backward(input: spatialMap,
                              gradOutput: FeatureMap(data: dz, channels: 1, batch: n, height: x.height, width: x.width),
                              gradInput: FeatureMap(data: dSpatialIn, channels: 2, batch: n, height: x.height, width: x.width),
                              gradWeight: gradSpatial, gradBias: nil, cols: cols)
        let dMean = dSpatialIn, dMax = dSpatialIn + n * plane
        // dx1 = dy (o + s) + dMean / C + dMax / ties at the max; dgate = Σ_p dx1 x;
        // dx = dx1 (o + g). Parallel over channels.
        parallelFor(c, costPerItem: 4 * n * plane) { ch in
            for b in 0..<n {
                let sigma = gate[ch * n + b], g = offset + sigma
                let p = x.channel(ch) + b * plane, d = dy.channel(ch) + b * plane, o = dx.channel(ch) + b * plane
                let sb = s + b * plane, dm = dMean + b * plane, dM = dMax + b * plane
                let t = ties + b * plane, m = maxMap + b * plane
                // dg in four Double lanes (lane i % 4), as `doubleSum`.
                @inline(__always) func dx1(_ i: Int) -> Float {
                    let v = p[i] * g
                    var d1 = d[i] * (offset + sb[i]) + dm[i] * inv
                    if v == m[i] { d1 += dM[i] / t[i] }
                    o[i] = d1 * g
                    return d1
                }
                var acc = SIMD4<Double>()
                var i = 0
                while i + 4 <= plane {
                    let a = dx1(i), b = dx1(i + 1), c = dx1(i + 2), e = dx1(i + 3)
                    acc += SIMD4<Double>(Double(a), Double(b), Double(c), Double(e)) * SIMD4<Double>(Double(p[i]), Double(p[i + 1]), Double(p[i + 2]), Double(p[i + 3]))
                    i += 4
                }
                var dg = (acc[0] + acc[1]) + (acc[2] + acc[3])
                while i < plane { dg += Double(dx1(i)) * Double(p[i]); i += 1 }
                let pre = Float(dg) * ((1 - sigma) * sigma)
                dMlp[ch * 2 * n + b] = pre
                dMlp[ch * 2 * n + n + b] = pre
            }
        }
        // MLP backward.
        BLAS.gemm(transB: true, m: c, n: hid, k: 2 * n, a: dMlp, lda: 2 * n, b: hiddenOut, ldb: 2 * n,
                  beta: 1, c: gradExpand, ldc: hid)
        BLAS.gemm(transA: true, m: hid, n: 2 * n, k: c, a: cbam.expand.pointer, lda: hid, b: dMlp, ldb: 2 * n,
                  c: dHidden, ldc: 2 * n)
        for i in 0..<(hid * 2 * n) where !(hiddenOut[i] > 0) { dHidden[i] = 0 }
        BLAS.gemm(transB: true, m: hid, n: c, k: 2 * n, a: dHidden, lda: 2 * n, b: pooled, ldb: 2 * n,
                  beta: 1, c: gradReduce, ldc: c)
        BLAS.gemm(transA: true, m: c, n: 2 * n, k: hid, a: cbam.reduce.pointer, lda: c, b: dHidden, ldb: 2 * n,
                  c: dPooled, ldc: 2 * n)
        // Pools backward, parallel over channels.
        let invPlane = 1 / Float(plane)
        argmax.withUnsafeBufferPointer { arg in
            let arg = arg.baseAddress!
            parallelFor(c, costPerItem: n * plane) { ch in
                for b in 0..<n {
                    let o = dx.channel(ch) + b * plane
                    let avg = dPooled[ch * 2 * n + b] * invPlane
                    for i in 0..<plane { o[i] += avg }
                    o[arg[ch * n + b]] += dPooled[ch * 2 * n + n + b]
                }
            }
        }
    }
}
