/// Checkpoints of an `EnhancerTrainingStep`: a safetensors file with every network's weights
/// (`g.`, `ema.`, `d.`, `left_eye.`, `right_eye.`, `mouth.` before the state_dict names), Adam's
/// two moments of every trained tensor (`adam.exp_avg.` / `adam.exp_avg_sq.` before those), and
/// in its metadata the enhancer's config (as an enhancer file states it), the discriminators'
/// shapes, the settings, the step counter, each optimiser's step and the noise generator's
/// state, so that a run resumed from it continues bit-identically. Read back through
/// `CheckpointValues` (the checked reader: exact names and shapes, finite values, second
/// moments not negative); the perceptual and face networks are the caller's, as at the start.
extension EnhancerTrainingStep {
    static let checkpointKey = "avpgan.enhancer_training"

    /// The networks and optimisers of the checkpoint by prefix.
    private var groups: [TrainingCheckpointGroup] {
        let layout = EnhancerLayout.tensors(for: config).map(\.name)
        var out: [(String, [String: FloatStorage], [String], OptimizedParameters?)] = [
            ("g", generatorParameters.values, layout, generatorParameters), ("ema", ema, emaNames, nil)]
        if let d = discriminator { out.append(("d", d.parameters, d.names, discriminatorParameters)) }
        for (k, c) in components.enumerated() { out.append((Self.componentNames[k], c.parameters, c.names, componentParameters[k])) }
        return out
    }

    /// The checkpoint's bytes; `metadata` adds a caller's keys (a session's sampler position),
    /// which must not be the checkpoint's own.
    func checkpoint(metadata extra: [String: String] = [:]) -> [UInt8] {
        let s = settings
        var fields: [String: String] = [
            "step": String(stepCount), "rng": String(rng.state), "losses": EnhancerLossWeights.Term.allCases.map { "\($0.rawValue)=\(s.losses[$0])" }
                .joined(separator: ","),
            "generator_adam": "\(s.generatorLR),\(s.generatorBetas.0),\(s.generatorBetas.1)",
            "discriminator_adam": "\(s.discriminatorLR),\(s.discriminatorBetas.0),\(s.discriminatorBetas.1)",
            "component_adam": "\(s.componentLR),\(s.componentBetas.0),\(s.componentBetas.1)", "eps": "\(s.eps)",
            "reg_every": String(s.regEvery), "r1_weight": "\(s.r1Weight)", "ema_decay": "\(s.emaDecay)",
        ]
        if let d = discriminator?.config {
            fields["discriminator"] = "\(d.size),\(d.channelMultiplier),\(d.narrow),\(d.stddevGroup)"
        }
        if let c = components.first {
            fields["component_widths"] = ["conv1.1.bias", "conv2.2.bias", "conv4.2.bias"].map { String(c.parameters[$0]!.count) }.joined(separator: ",")
        }
        return TrainingCheckpointGroups.serialize(groups, key: Self.checkpointKey, metadata: config.metadata.merging(extra) { own, _ in own },
                                                  fields: fields)
    }

    /// A trainer in the state of `bytes` (from `checkpoint()`). Throws `modelFormat` naming
    /// the field or tensor that is missing or wrong, `invalidArgument` when a network that the
    /// stored loss weights need is not given.
    convenience init(checkpoint bytes: [UInt8], perceptual: VGG19Features?, face: FaceNetwork?) throws {
        let file = try Safetensors(bytes: bytes)
        let key = Self.checkpointKey
        let fields = try TrainingCheckpointGroups.fields(file, key: key, what: "enhancer training checkpoint", noun: "an enhancer training checkpoint")
        let config = try EnhancerConfig.parse(metadata: file.metadata)
        var s = EnhancerTrainingSettings()
        do { s.losses = try EnhancerLossWeights(parsing: try fields.text("losses")) } catch let e as AVPGANError where e.kind == .invalidArgument {
            throw AVPGANError.format("enhancer training checkpoint: metadata \(key).losses: \(e.message)")
        }
        let g = try fields.numbers("generator_adam", 3), d = try fields.numbers("discriminator_adam", 3), c = try fields.numbers("component_adam", 3)
        (s.generatorLR, s.generatorBetas) = (g[0], (g[1], g[2]))
        (s.discriminatorLR, s.discriminatorBetas) = (d[0], (d[1], d[2]))
        (s.componentLR, s.componentBetas) = (c[0], (c[1], c[2]))
        s.eps = try fields.numbers("eps", 1)[0]
        s.regEvery = try fields.integer("reg_every")
        s.r1Weight = try fields.numbers("r1_weight", 1)[0]
        s.emaDecay = try fields.numbers("ema_decay", 1)[0]
        do { try s.validate() } catch let e as AVPGANError { throw AVPGANError.format("enhancer training checkpoint: \(e.message)") }
        guard let rng = UInt64(try fields.text("rng")) else { throw AVPGANError.format("enhancer training checkpoint: metadata \(key).rng is not a state") }

        // The layout the metadata implies, then every value through the checked reader.
        var discriminatorConfig: StyleGAN2Discriminator.Config?
        if s.losses.isEnabled(.adversarial) {
            let v = try fields.numbers("discriminator", 4)
            guard v[0] == v[0].rounded(), v[3] == v[3].rounded(), v[3] >= 1, v[0] >= 4, v[0] <= 1024 else {
                throw AVPGANError.format("enhancer training checkpoint: metadata \(key).discriminator is not size, multiplier, narrow, group")
            }
            discriminatorConfig = .init(size: Int(v[0]), channelMultiplier: v[1], narrow: v[2], stddevGroup: Int(v[3]))
        }
        var widths: (Int, Int, Int)?
        if s.losses.isEnabled(.facialComponents) || s.losses.isEnabled(.componentStyle) {
            let w = try fields.numbers("component_widths", 3).map { Int(exactly: $0) ?? 0 }
            guard w.allSatisfy({ (1...ModelConfig.maxWidth).contains($0) }) else {
                throw AVPGANError.format("enhancer training checkpoint: metadata \(key).component_widths is not three widths")
            }
            widths = (w[0], w[1], w[2])
        }
        let enhancer = EnhancerLayout.tensors(for: config)
        let noises = Set((0..<config.noiseCount).map { "stylegan_decoder.noises.noise\($0)" })
        var groups: [(prefix: String, shapes: [(name: String, shape: [Int])], trained: [String])] = [
            ("g", enhancer, enhancer.map(\.name).filter { !noises.contains($0) && !$0.hasPrefix("toRGB.") }),
            ("ema", enhancer.filter { !noises.contains($0.name) }, [])]
        if let dc = discriminatorConfig {
            let shapes = try StyleGAN2Discriminator.shapes(dc).map { (name: $0.0, shape: $0.1) }
            groups.append(("d", shapes, shapes.map(\.name)))
        }
        if let widths {
            let shapes = FacialComponentDiscriminator.shapes(widths: widths).map { (name: $0.0, shape: $0.1) }
            for part in Self.componentNames { groups.append((part, shapes, shapes.map(\.name))) }
        }
        let read = try TrainingCheckpointGroups.read(file, groups: groups, kind: "an enhancer training checkpoint of this configuration")
        let tensors = read.tensors
        var ema = tensors("ema")
        for name in noises { ema[name] = read.all["g.\(name)"] }
        let discriminator = try discriminatorConfig.map { try StyleGAN2Discriminator(config: $0, values: tensors("d")) }
        let components = try widths.map { w in try Self.componentNames.map { try FacialComponentDiscriminator(widths: w, values: tensors($0)) } }
        try self.init(generator: tensors("g"), config: config, ema: ema, discriminator: discriminator, components: components,
                      perceptual: perceptual, face: face, settings: s, seed: 0)
        self.rng = SplitMix(seed: rng)
        stepCount = try fields.integer("step")
        try TrainingCheckpointGroups.restoreOptimizers(self.groups, fields: fields, expAvg: read.expAvg, expAvgSq: read.expAvgSq)
    }
}
