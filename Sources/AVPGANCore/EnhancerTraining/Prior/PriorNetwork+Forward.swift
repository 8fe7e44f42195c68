/// The prior's forward pass for training, recording into a `PriorTrainingPass`: from z
/// through the style MLP (`trainingForward(styles:...)`, upstream's `forward(styles)`), or from
/// style vectors w as given (`trainingForward(latents:...)`, upstream's `input_is_latent`),
/// then the synthesis image by image with the given noise planes (upstream's
/// `randomize_noise` draws them; a trainer draws them from its seeded generator).
extension PriorNetwork {
    /// Images `[N, 3, S, S]` from `styles` (z `[V, N, S]`); `noises` is `[N, noiseFloats]`,
    /// each image's planes in layer order, kept by pointer until the backward.
    func trainingForward(styles: PriorStyles, batch n: Int, noises: UnsafePointer<Float>, pass: PriorTrainingPass,
                         into images: UnsafeMutablePointer<Float>) throws {
        let c = config, s = c.styleDim, v = styles.vectors
        guard v == 1 || v == 2, styles.z.count == v * n * s else {
            throw AVPGANError.invalid("the prior needs z of [1 or 2, \(n), \(s)], not \(styles.z.count) floats for \(v) vectors")
        }
        if let i = styles.injectIndex, v != 2 || !(1..<c.latentCount).contains(i) {
            throw AVPGANError.invalid("style mixing needs two z and an injection index in 1..<\(c.latentCount), not \(i)")
        }
        pass.slots = 0
        let record = try pass.take(mlp.recordCount(vectors: v * n))
        styles.z.withUnsafeBufferPointer { mlp.forward($0.baseAddress!, vectors: v * n, record: record) }
        let w = mlp.output(record: record, vectors: v * n)
        let latents = try pass.take(n * c.latentCount * s)
        for i in 0..<n {
            for l in 0..<c.latentCount {
                (latents + (i * c.latentCount + l) * s).update(from: w + (styles.source(ofLayer: l) * n + i) * s, count: s)
            }
        }
        pass.styles = styles
        pass.mlpRecord = record
        try synthesize(latents: latents, batch: n, noises: noises, pass: pass, into: images)
    }

    /// Images `[N, 3, S, S]` from style vectors `latents[N, L, S]` (upstream's
    /// `input_is_latent=True` with a `[N, L, S]` latent), copied into the pass. `frozen`: a
    /// pass of the same batch whose StyleConv outputs choose every LeakyReLU's slope (for the
    /// path-length term's differences; `StyleConv.forward`'s `pattern`).
    func trainingForward(latents given: UnsafePointer<Float>, batch n: Int, noises: UnsafePointer<Float>, pass: PriorTrainingPass,
                         into images: UnsafeMutablePointer<Float>, frozen: PriorTrainingPass? = nil) throws {
        if let frozen, frozen.images.count != n { throw AVPGANError.invalid("a frozen pattern of \(frozen.images.count) images for \(n)") }
        pass.slots = 0
        let count = n * config.latentCount * config.styleDim, latents = try pass.take(count)
        latents.update(from: given, count: count)
        pass.styles = nil
        pass.mlpRecord = nil
        try synthesize(latents: latents, batch: n, noises: noises, pass: pass, into: images, frozen: frozen)
    }

    /// The synthesis of each image from its `[L, S]` block of `latents` (inside the pass).
    private func synthesize(latents: UnsafeMutablePointer<Float>, batch n: Int, noises: UnsafePointer<Float>, pass: PriorTrainingPass,
                            into images: UnsafeMutablePointer<Float>, frozen: PriorTrainingPass? = nil) throws {
        let c = config, s = c.styleDim, size = c.outSize, threads = Threads.count
        pass.images = []
        func scratch(_ count: Int) throws -> UnsafeMutablePointer<Float> { try pass.scratch.slot(0, count: count) }
        for i in 0..<n {
            let styles = latents + i * c.latentCount * s
            func style(_ l: Int) -> UnsafePointer<Float> { UnsafePointer(styles + l * s) }
            var planes: [UnsafePointer<Float>] = [], offset = i * c.noiseFloats
            for k in 0..<c.noiseCount { planes.append(noises + offset); offset += PriorConfig.noiseSide(k) * PriorConfig.noiseSide(k) }
            let d4 = c.channels(4), first = try pass.take(d4 * 16), firstRGB = try pass.take(3 * 16)
            let reference = frozen?.images[i]
            styleConv1.forward(input: constant.pointer, side: 4, style: style(0), noise: planes[0], into: first, threads: threads,
                               scratch: try scratch(styleConv1.trainingScratchCount(side: 4, threads: threads)),
                               pattern: reference.map { UnsafePointer($0.firstConv) })
            toRGB1.forward(input: first, side: 4, style: style(1), skip: nil, into: firstRGB, threads: threads,
                           scratch: try scratch(toRGB1.trainingScratchCount(side: 4, threads: threads)))
            var record = PriorTrainingPass.Image(latents: styles, noises: planes, firstConv: first, firstRGB: firstRGB, levels: [])
            var features = UnsafePointer(first), rgb = UnsafePointer(firstRGB)
            for (j, r) in c.levels.enumerated() {
                let d = c.channels(r), conv1 = styleConvs[2 * j], conv2 = styleConvs[2 * j + 1], toRGB = toRGBs[j]
                let upConv = try pass.take(d * r * r), conv = try pass.take(d * r * r)
                let out = j == c.levels.count - 1 ? images + i * 3 * size * size : try pass.take(3 * r * r)
                conv1.forward(input: features, side: r / 2, style: style(2 * j + 1), noise: planes[2 * j + 1], into: upConv, threads: threads,
                              scratch: try scratch(conv1.trainingScratchCount(side: r / 2, threads: threads)),
                              pattern: reference.map { UnsafePointer($0.levels[j].upConv) })
                conv2.forward(input: upConv, side: r, style: style(2 * j + 2), noise: planes[2 * j + 2], into: conv, threads: threads,
                              scratch: try scratch(conv2.trainingScratchCount(side: r, threads: threads)),
                              pattern: reference.map { UnsafePointer($0.levels[j].conv) })
                toRGB.forward(input: conv, side: r, style: style(2 * j + 3), skip: rgb, into: out, threads: threads,
                              scratch: try scratch(toRGB.trainingScratchCount(side: r, threads: threads)))
                record.levels.append((upConv, conv, out))
                (features, rgb) = (UnsafePointer(conv), UnsafePointer(out))
            }
            pass.images.append(record)
        }
    }
}
