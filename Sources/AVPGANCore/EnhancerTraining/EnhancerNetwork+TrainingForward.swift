/// GFPGANv1Clean's forward pass for training, one image, recording into an
/// `EnhancerTrainingPass`: the same arithmetic as `forward` (upstream's order: the U-Net, the
/// style code, the decoder with CS-SFT), with the noise planes given (upstream's
/// `randomize_noise` draws them afresh; `randomize_noise=False` uses the stored ones). The
/// U-Net's auxiliary RGB heads (GFPGAN's pyramid loss) are not computed.
extension EnhancerNetwork {
    /// `out[3, S, S]` for `x[3, S, S]`; `noises[i]` is StyleConv i's plane (i = 0 the 4 px
    /// one, then two per level), `noiseCount` of them, kept by pointer until the backward.
    func trainingForward(_ x: UnsafePointer<Float>, noises: [UnsafePointer<Float>], pass: EnhancerTrainingPass,
                         into out: UnsafeMutablePointer<Float>) throws {
        let c = config, w = weights, size = c.outSize, threads = Threads.count, ws = pass.scratch
        guard noises.count == c.noiseCount else { throw AVPGANError.invalid("the enhancer needs \(c.noiseCount) noise planes, not \(noises.count)") }
        pass.slots = 0
        pass.noises = noises
        pass.down = []
        pass.levels = []
        pass.mlp = []
        let input = try pass.take(3 * size * size)
        input.update(from: x, count: 3 * size * size)
        pass.input = input
        let stem = try pass.take(w.stem.outChannels * size * size)
        try w.stem.trainingForward(input, side: size, lrelu: true, into: stem, threads: threads, scratch: ws)
        pass.stem = stem
        var feat = UnsafePointer(stem), side = size
        for b in w.down {
            let record = try pass.record(for: b, side: side), output = try pass.take(b.conv2.outChannels * side * side / 4)
            try b.trainingForward(feat, side: side, record: record, into: output, threads: threads, scratch: ws)
            pass.down.append((record, output))
            feat = UnsafePointer(output)
            side /= 2
        }
        let final = try pass.take(w.finalConv.outChannels * 16)
        try w.finalConv.trainingForward(feat, side: 4, lrelu: true, into: final, threads: threads, scratch: ws)
        pass.final = final
        let code = try pass.take(c.styleCodeLength)
        BLAS.gemv(rows: c.styleCodeLength, cols: 16 * w.finalConv.outChannels, a: w.linearWeight.pointer, lda: 16 * w.finalConv.outChannels,
                  x: final, y: code)
        for i in 0..<c.styleCodeLength { code[i] += w.linearBias.pointer[i] }
        pass.code = code
        let latents = try makeTrainingLatents(code: code, pass: pass)
        pass.latents = latents
        func latent(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(latents + i * c.styleDim) }

        // The decoder's 4 px start.
        let start = try pass.take(w.constant.count)
        start.update(from: w.constant.pointer, count: w.constant.count)
        let first = try pass.take(w.styleConv1.conv.outChannels * 16), firstRGB = try pass.take(3 * 16)
        try styleConv(w.styleConv1, start, side: 4, style: latent(0), noise: noises[0], into: first, scratch: ws, threads: threads)
        try toRGB(w.toRGB1, first, side: 4, style: latent(1), skip: nil, into: firstRGB, scratch: ws, threads: threads)
        (pass.start, pass.firstConv, pass.firstRGB) = (start, first, firstRGB)
        var decoded = UnsafePointer(first), rgb = UnsafePointer(firstRGB), unet = UnsafePointer(final)
        for (j, r) in c.levels.enumerated() {
            let half = r / 2, u = c.unetChannels(half), skip = pass.down[c.levels.count - 1 - j].output
            let unetInput = try pass.take(u * half * half)
            for i in 0..<(u * half * half) { unetInput[i] = unet[i] + skip[i] }
            let block = w.up[j], record = try pass.record(for: block, side: half), unetOutput = try pass.take(block.conv2.outChannels * r * r)
            try block.trainingForward(unetInput, side: half, record: record, into: unetOutput, threads: threads, scratch: ws)
            let cond = c.conditionChannels(r)
            let scaleHidden = try pass.take(w.conditionScale[j].0.outChannels * r * r), scale = try pass.take(cond * r * r)
            let shiftHidden = try pass.take(w.conditionShift[j].0.outChannels * r * r), shift = try pass.take(cond * r * r)
            try w.conditionScale[j].0.trainingForward(unetOutput, side: r, lrelu: true, into: scaleHidden, threads: threads, scratch: ws)
            try w.conditionScale[j].1.trainingForward(scaleHidden, side: r, lrelu: false, into: scale, threads: threads, scratch: ws)
            try w.conditionShift[j].0.trainingForward(unetOutput, side: r, lrelu: true, into: shiftHidden, threads: threads, scratch: ws)
            try w.conditionShift[j].1.trainingForward(shiftHidden, side: r, lrelu: false, into: shift, threads: threads, scratch: ws)
            let d = c.decoderChannels(r)
            let upConv = try pass.take(d * r * r), modulated = try pass.take(d * r * r), conv = try pass.take(d * r * r)
            let levelRGB = try pass.take(3 * r * r)
            try styleConv(w.styleConvs[2 * j], decoded, side: half, style: latent(2 * j + 1), noise: noises[2 * j + 1], into: upConv,
                          scratch: ws, threads: threads)
            CSSFT.forward(upConv, channels: d, first: c.sftFirstChannel(r), plane: r * r, scale: scale, shift: shift, into: modulated)
            try styleConv(w.styleConvs[2 * j + 1], modulated, side: r, style: latent(2 * j + 2), noise: noises[2 * j + 2], into: conv,
                          scratch: ws, threads: threads)
            try toRGB(w.toRGBs[j], conv, side: r, style: latent(2 * j + 3), skip: rgb, into: levelRGB, scratch: ws, threads: threads)
            pass.levels.append(.init(unetInput: unetInput, block: record, unetOutput: unetOutput, scaleHidden: scaleHidden, scale: scale,
                                     shiftHidden: shiftHidden, shift: shift, upConv: upConv, modulated: modulated, conv: conv, rgb: levelRGB))
            (decoded, rgb, unet) = (UnsafePointer(conv), UnsafePointer(levelRGB), UnsafePointer(unetOutput))
        }
        out.update(from: rgb, count: 3 * size * size)
    }

    func styleConv(_ layer: StyleConv, _ x: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>, noise: UnsafePointer<Float>,
                   into y: UnsafeMutablePointer<Float>, scratch: Workspace, threads: Int) throws {
        let work = try scratch.slot(0, count: layer.trainingScratchCount(side: side, threads: threads))
        layer.forward(input: x, side: side, style: style, noise: noise, into: y, threads: threads, scratch: work)
    }

    func toRGB(_ layer: ToRGB, _ x: UnsafePointer<Float>, side: Int, style: UnsafePointer<Float>, skip: UnsafePointer<Float>?,
               into y: UnsafeMutablePointer<Float>, scratch: Workspace, threads: Int) throws {
        let work = try scratch.slot(0, count: layer.trainingScratchCount(side: side, threads: threads))
        layer.forward(input: x, side: side, style: style, skip: skip, into: y, threads: threads, scratch: work)
    }

    /// `makeLatents` with the style MLP's intermediate values recorded.
    private func makeTrainingLatents(code: UnsafePointer<Float>, pass: EnhancerTrainingPass) throws -> UnsafeMutablePointer<Float> {
        let c = config, s = c.styleDim, n = c.latentCount, vectors = c.differentW ? n : 1
        let out = try pass.take(n * s)
        out.update(from: code, count: vectors * s)
        if !c.inputIsLatent {
            normalizeStyleCode(out, vectors: vectors, length: s)
            let normalized = try pass.take(vectors * s)
            normalized.update(from: out, count: vectors * s)
            pass.normalized = normalized
            for v in 0..<vectors {
                let x = out + v * s
                var layers: [UnsafeMutablePointer<Float>] = []
                for (weight, bias) in weights.mlp {
                    let y = try pass.take(s)
                    BLAS.gemv(rows: s, cols: s, a: weight.pointer, lda: s, x: x, y: y)
                    for f in 0..<s { let v = y[f] + bias.pointer[f]; y[f] = v > 0 ? v : v * 0.2 }
                    x.update(from: y, count: s)
                    layers.append(y)
                }
                pass.mlp.append(layers)
            }
        }
        if !c.differentW { for l in 1..<n { (out + l * s).update(from: out, count: s) } }
        return out
    }
}
