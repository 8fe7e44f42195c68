/// StyleGAN2's modulated convolution as upstream's ModulatedConv2d computes it for one image:
/// the style vector goes through the layer's own linear map to one scale per input channel,
/// the weights `[O, C, k, k]` are scaled by it and, when demodulating, each output row is
/// divided by `sqrt(sum of its squares + 1e-8)`. The per-image weights are made once per call
/// (`modulate`) and the convolution is then an ordinary `SameConv` GEMM.
struct ModulatedConv {
    /// `[O, C k k]` row-major (upstream's `[1, O, C, k, k]`).
    let weight: FloatStorage
    /// The modulation linear map `[C, styleDim]` and its bias `[C]`.
    let modulationWeight: FloatStorage
    let modulationBias: FloatStorage
    let outChannels: Int
    let inChannels: Int
    let kernel: Int
    let styleDim: Int
    let demodulate: Bool

    var depth: Int { inChannels * kernel * kernel }

    /// Writes the image's weights `into[O, C k k]`: `gain * W * s[c]` (demodulated when the
    /// layer demodulates) for the style vector `style[styleDim]`. `styleScratch`: C floats.
    func modulate(style: UnsafePointer<Float>, gain: Float, styleScratch s: UnsafeMutablePointer<Float>,
                  into w: UnsafeMutablePointer<Float>) {
        BLAS.gemv(rows: inChannels, cols: styleDim, a: modulationWeight.pointer, lda: styleDim, x: style, y: s)
        for c in 0..<inChannels { s[c] += modulationBias.pointer[c] }
        let taps = kernel * kernel, depth = self.depth
        let src = weight.pointer
        parallelFor(outChannels, costPerItem: 3 * depth) { o in
            let row = w + o * depth, from = src + o * depth
            var sum: Double = 0  // torch's sum is pairwise; a Double one is as close to exact
            for c in 0..<inChannels {
                let scale = s[c]
                for t in 0..<taps {
                    let v = from[c * taps + t] * scale
                    row[c * taps + t] = v
                    sum += Double(v) * Double(v)
                }
            }
            let factor = demodulate ? gain / (Float(sum) + 1e-8).squareRoot() : gain
            if factor != 1 { for i in 0..<depth { row[i] *= factor } }
        }
    }
}

/// A StyleGAN2 StyleConv: the modulated, demodulated 3x3 convolution (after a bilinear x2
/// upsampling when `upsample`), times sqrt 2, plus the stored noise plane times a learned
/// weight, plus a per-channel bias, through LeakyReLU(0.2).
struct StyleConv {
    let conv: ModulatedConv
    let upsample: Bool
    /// The noise injection's weight and the stored noise plane `[side, side]`.
    let noiseWeight: Float
    let noise: FloatStorage
    let bias: FloatStorage
}

/// A StyleGAN2 ToRGB: a modulated 1x1 convolution to 3 channels without demodulation, plus a
/// bias, plus the previous level's RGB upsampled x2 (none at 4 px).
struct ToRGB {
    let conv: ModulatedConv
    let bias: FloatStorage
}
