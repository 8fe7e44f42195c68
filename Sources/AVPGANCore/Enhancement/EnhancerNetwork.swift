/// GFPGANv1Clean's forward pass for one image `[3, S, S]` in [-1, 1], as upstream computes
/// it with `randomize_noise=False` (the stored noise): the U-Net encoder, the style code,
/// then level by level the U-Net decoder block, its CS-SFT scale and shift, and the StyleGAN2
/// decoder's two StyleConvs and ToRGB at that level. (Upstream computes every condition
/// first and runs the decoder after; interleaving the levels gives the same numbers and keeps
/// only one level's conditions in memory. The U-Net's own RGB heads do not reach the output
/// and are not computed.) All scratch comes from the caller's `Workspace`.
final class EnhancerNetwork {
    let config: EnhancerConfig
    let weights: EnhancerWeights

    /// Floats of the largest map of each role (see `forward`).
    private let unetFloats, halfFloats, upFloats, decoderFloats, conditionFloats, skipFloats, modulatedFloats: Int
    private let skipOffsets: [Int]
    /// The most channels of any map.
    private let widest: Int

    /// Steps `forward` reports: one per encoder block and one per decoder level.
    var steps: Int { 2 * config.levels.count }

    convenience init(file: Safetensors, config: EnhancerConfig) throws {
        self.init(weights: try EnhancerWeights(file: file, config: config), config: config)
    }

    init(weights: EnhancerWeights, config: EnhancerConfig) {
        self.config = config
        self.weights = weights
        let levels = config.levels, u = config.unetChannels, d = config.decoderChannels
        unetFloats = ([4] + levels).map { u($0) * $0 * $0 }.max()!
        halfFloats = levels.map { u($0) * $0 * $0 / 4 }.max()!
        upFloats = levels.map { max(u($0 / 2), d($0 / 2)) * $0 * $0 }.max()!
        decoderFloats = ([4] + levels).map { d($0) * $0 * $0 }.max()!
        conditionFloats = levels.map { config.conditionChannels($0) * $0 * $0 }.max()!
        var offsets: [Int] = [], total = 0
        for r in levels.reversed() { offsets.append(total); total += u(r / 2) * r * r / 4 }
        skipOffsets = offsets
        widest = ([4] + levels).map { max(u($0), d($0), config.conditionChannels($0)) }.max()!
        skipFloats = total
        modulatedFloats = ([weights.styleConv1] + weights.styleConvs).map { $0.conv.outChannels * $0.conv.depth }.max()!
    }

    /// `out[3, S, S]` (before clamping) for `x[3, S, S]`; `step` runs after each of `steps`
    /// stages and may throw to stop.
    func forward(_ x: UnsafePointer<Float>, workspace ws: Workspace, into out: UnsafeMutablePointer<Float>,
                 step: () throws -> Void) throws {
        let c = config, w = weights, size = c.outSize
        // Read once: scratch is sized for it, and another thread may change the setting.
        let threads = Threads.count
        var feat = try ws.slot(0, count: unetFloats), spare = try ws.slot(1, count: unetFloats)
        let temp = try ws.slot(2, count: unetFloats)
        let half1 = try ws.slot(3, count: halfFloats), half2 = try ws.slot(4, count: halfFloats)
        let upBuffer = try ws.slot(5, count: upFloats)
        let decoded = try ws.slot(6, count: decoderFloats), decodedSpare = try ws.slot(7, count: decoderFloats)
        let scale = try ws.slot(8, count: conditionFloats), shift = try ws.slot(9, count: conditionFloats)
        let skips = try ws.slot(10, count: skipFloats)
        var rgb = try ws.slot(11, count: 3 * size * size), rgbSpare = try ws.slot(12, count: 3 * size * size)
        let modulated = try ws.slot(13, count: modulatedFloats)
        let latents = try ws.slot(15, count: max(c.latentCount, 1) * c.styleDim + c.styleCodeLength)
        let vector = try ws.slot(16, count: max(widest, c.styleDim))
        let resampleScratch = try ws.slot(17, count: 4 * threads * size)

        /// Any convolution of the network: 3x3 ones by Winograd F(2x2, 3x3) (the weights
        /// transformed here), 1x1 ones as one GEMM.
        func convolve(weights: UnsafePointer<Float>, outChannels: Int, inChannels: Int, kernel: Int,
                      _ input: UnsafePointer<Float>, side: Int, into y: UnsafeMutablePointer<Float>,
                      accumulate: Bool, epilogue: SameConv.Epilogue?) throws {
            if kernel == 3 {
                let u = try ws.slot(19, count: 16 * outChannels * inChannels)
                WinogradConv.transformWeights(weights, outChannels: outChannels, inChannels: inChannels, into: u)
                let scratch = try ws.slot(14, count: WinogradConv.scratchCount(outChannels: outChannels, channels: inChannels, height: side, width: side, threads: threads))
                WinogradConv.forward(weights: u, outChannels: outChannels, input: input, channels: inChannels, height: side,
                                     width: side, into: y, accumulate: accumulate, threads: threads, scratch: scratch, epilogue: epilogue)
            } else {
                let scratch = try ws.slot(14, count: SameConv.scratchCount(channels: inChannels, width: side, height: side, kernel: kernel, threads: threads))
                SameConv.forward(weights: weights, outChannels: outChannels, kernel: kernel, input: input, channels: inChannels,
                                 height: side, width: side, into: y, accumulate: accumulate, threads: threads, scratch: scratch, epilogue: epilogue)
            }
        }
        func conv(_ layer: PlainConv, _ input: UnsafePointer<Float>, side: Int, into y: UnsafeMutablePointer<Float>,
                  lrelu: Bool, accumulate: Bool = false) throws {
            try convolve(weights: layer.weight.pointer, outChannels: layer.outChannels, inChannels: layer.inChannels,
                         kernel: layer.kernel, input, side: side, into: y, accumulate: accumulate, epilogue: layer.epilogue(lrelu: lrelu))
        }
        func resize(_ input: UnsafePointer<Float>, channels: Int, side: Int, up: Bool, into y: UnsafeMutablePointer<Float>) {
            Bilinear.resize(input, channels: channels, height: side, width: side, up: up, threads: threads, into: y, scratch: resampleScratch)
        }
        /// Upstream's ResBlock on `input` (side `side`), into `y`.
        func block(_ b: ResidualBlock, _ input: UnsafePointer<Float>, side: Int, into y: UnsafeMutablePointer<Float>) throws {
            let n = b.conv1.inChannels
            try conv(b.conv1, input, side: side, into: temp, lrelu: true)
            let resized = b.up ? upBuffer : half1, outSide = b.up ? 2 * side : side / 2
            resize(temp, channels: n, side: side, up: b.up, into: resized)
            try conv(b.conv2, resized, side: outSide, into: y, lrelu: true)
            let shortcut = b.up ? upBuffer : half2
            resize(input, channels: n, side: side, up: b.up, into: shortcut)
            try conv(b.skip, shortcut, side: outSide, into: y, lrelu: false, accumulate: true)
        }
        /// A StyleConv on `input` (side `side`, before any upsampling) with style `style`,
        /// CS-SFT by `(scale, shift)` on its channels from `sftFirst` when given.
        func styleConv(_ layer: StyleConv, _ input: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>,
                       sft: (first: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>)?,
                       into y: UnsafeMutablePointer<Float>) throws {
            let m = layer.conv
            m.modulate(style: style, gain: Float(2).squareRoot(), styleScratch: vector, into: modulated)
            var source = input, outSide = side
            if layer.upsample {
                resize(input, channels: m.inChannels, side: side, up: true, into: upBuffer)
                source = UnsafePointer(upBuffer)
                outSide = 2 * side
            }
            let noise = layer.noise.pointer, noiseWeight = layer.noiseWeight, bias = layer.bias.pointer
            let planeSize = outSide * outSide
            try convolve(weights: modulated, outChannels: m.outChannels, inChannels: m.inChannels, kernel: m.kernel, source,
                         side: outSide, into: y, accumulate: false) { o, plane, pixels in
                let b = bias[o]
                for p in pixels { let v = plane[p] + noiseWeight * noise[p] + b; plane[p] = v > 0 ? v : v * 0.2 }
                if let sft, o >= sft.first {
                    let s = sft.scale + (o - sft.first) * planeSize, t = sft.shift + (o - sft.first) * planeSize
                    for p in pixels { plane[p] = plane[p] * s[p] + t[p] }
                }
            }
        }
        /// A ToRGB of `input` (side `side`): `y = conv + bias`, plus `y`'s prior contents with `accumulate`.
        func toRGB(_ layer: ToRGB, _ input: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>,
                   accumulate: Bool, into y: UnsafeMutablePointer<Float>) {
            let m = layer.conv
            m.modulate(style: style, gain: 1, styleScratch: vector, into: modulated)
            let bias = layer.bias.pointer
            // A 1x1 convolution multiplies the input directly: it takes no scratch.
            SameConv.forward(weights: modulated, outChannels: 3, kernel: 1, input: input, channels: m.inChannels,
                             height: side, width: side, into: y, accumulate: accumulate, threads: threads, scratch: vector) { o, plane, pixels in
                let b = bias[o]
                for p in pixels { plane[p] += b }
            }
        }

        // U-Net encoder: the stem, then blocks halving the side; each block's output is a skip.
        try conv(w.stem, x, side: size, into: feat, lrelu: true)
        var input = UnsafePointer(feat), side = size
        for (j, b) in w.down.enumerated() {
            let target = skips + skipOffsets[j]
            try block(b, input, side: side, into: target)
            input = UnsafePointer(target)
            side /= 2
            try step()
        }
        try conv(w.finalConv, input, side: 4, into: feat, lrelu: true)

        // The style code and the decoder's style vectors.
        let code = latents + max(c.latentCount, 1) * c.styleDim
        BLAS.gemv(rows: c.styleCodeLength, cols: 16 * w.finalConv.outChannels, a: w.linearWeight.pointer,
                  lda: 16 * w.finalConv.outChannels, x: feat, y: code)
        for i in 0..<c.styleCodeLength { code[i] += w.linearBias.pointer[i] }
        makeLatents(code: code, scratch: vector, into: latents)
        func latent(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(latents + i * c.styleDim) }

        // The decoder's 4 px start.
        let start = try ws.slot(18, count: w.constant.count)
        start.update(from: w.constant.pointer, count: w.constant.count)
        try styleConv(w.styleConv1, start, side: 4, style: latent(0), sft: nil, into: decoded)
        toRGB(w.toRGB1, decoded, side: 4, style: latent(1), accumulate: false, into: rgb)

        // Level by level: the U-Net block and its conditions, then the decoder at that side.
        for (j, r) in c.levels.enumerated() {
            let skip = skips + skipOffsets[c.levels.count - 1 - j]
            let n = c.unetChannels(r / 2) * (r / 2) * (r / 2)
            for i in 0..<n { feat[i] += skip[i] }
            try block(w.up[j], feat, side: r / 2, into: spare)
            swap(&feat, &spare)
            try conv(w.conditionScale[j].0, feat, side: r, into: temp, lrelu: true)
            try conv(w.conditionScale[j].1, temp, side: r, into: scale, lrelu: false)
            try conv(w.conditionShift[j].0, feat, side: r, into: temp, lrelu: true)
            try conv(w.conditionShift[j].1, temp, side: r, into: shift, lrelu: false)

            try styleConv(w.styleConvs[2 * j], decoded, side: r / 2, style: latent(2 * j + 1),
                          sft: (c.sftFirstChannel(r), UnsafePointer(scale), UnsafePointer(shift)), into: decodedSpare)
            try styleConv(w.styleConvs[2 * j + 1], decodedSpare, side: r, style: latent(2 * j + 2), sft: nil, into: decoded)
            resize(rgb, channels: 3, side: r / 2, up: true, into: rgbSpare)
            toRGB(w.toRGBs[j], decoded, side: r, style: latent(2 * j + 3), accumulate: true, into: rgbSpare)
            swap(&rgb, &rgbSpare)
            try step()
        }
        out.update(from: rgb, count: 3 * size * size)
    }

    /// The decoder's `latentCount` style vectors `into[latentCount, S]` from the style code:
    /// one per layer (`different_w`) or the one repeated, through the style MLP unless
    /// `input_is_latent`. Upstream normalises a `[N, L, S]` code over its dimension 1 (the
    /// layers) and a `[N, S]` one over the features; both are kept as they are.
    private func makeLatents(code: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let c = config, s = c.styleDim, n = c.latentCount
        let vectors = c.differentW ? n : 1
        out.update(from: code, count: vectors * s)
        if !c.inputIsLatent {
            // NormStyleCode: x * rsqrt(mean(x^2 over dim 1) + 1e-8).
            normalizeStyleCode(out, vectors: vectors, length: s)
            for v in 0..<vectors {
                let x = out + v * s
                for (weight, bias) in weights.mlp {
                    BLAS.gemv(rows: s, cols: s, a: weight.pointer, lda: s, x: x, y: scratch)
                    for f in 0..<s { let y = scratch[f] + bias.pointer[f]; x[f] = y > 0 ? y : y * 0.2 }
                }
            }
        }
        if !c.differentW { for l in 1..<n { (out + l * s).update(from: out, count: s) } }
    }

    /// NormStyleCode in place: over the layers of a `[L, S]` code, else over the features.
    /// `vectors` > 1 exactly for a `different_w` code (its `latentCount` is at least 4). Shared
    /// by inference (`makeLatents`) and training (`makeTrainingLatents`).
    func normalizeStyleCode(_ x: UnsafeMutablePointer<Float>, vectors: Int, length s: Int) {
        if vectors > 1 {
            for f in 0..<s {
                var sum: Float = 0
                for l in 0..<vectors { sum += x[l * s + f] * x[l * s + f] }
                let factor = 1 / (sum / Float(vectors) + 1e-8).squareRoot()
                for l in 0..<vectors { x[l * s + f] *= factor }
            }
        } else {
            var sum: Float = 0
            for f in 0..<s { sum += x[f] * x[f] }
            let factor = 1 / (sum / Float(s) + 1e-8).squareRoot()
            for f in 0..<s { x[f] *= factor }
        }
    }
}
