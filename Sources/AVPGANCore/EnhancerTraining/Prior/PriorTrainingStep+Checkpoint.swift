/// Checkpoints of a `PriorTrainingStep`: a safetensors file with the generator (`g.` before
/// upstream's names, its stored noises too), the EMA copy (`ema.`, every tensor) and the
/// discriminator (`d.`), Adam's two moments of every trained tensor (`adam.exp_avg.` /
/// `adam.exp_avg_sq.` before those), and in its metadata the prior's config (as a prior file
/// states it), the discriminator's shape, the settings, the step counter, each optimiser's step,
/// the path-length term's running mean (its bits) and the noise generator's state, so that a
/// resumed run continues bit-identically. Read back through `CheckpointValues` (the checked
/// reader: exact names and shapes, finite values, second moments not negative).
extension PriorTrainingStep {
    static let checkpointKey = "avpgan.prior_training"

    private var groups: [TrainingCheckpointGroup] {
        let layout = config.tensors.map(\.name)
        return [("g", generatorParameters.values, layout, generatorParameters), ("ema", ema, layout, nil),
                ("d", discriminator.parameters, discriminator.names, discriminatorParameters)]
    }

    /// The checkpoint's bytes; `extra` metadata (a session's own fields) is added to the
    /// step's, whose keys win.
    func checkpoint(metadata extra: [String: String] = [:]) -> [UInt8] {
        let s = settings, d = discriminator.config
        let fields: [String: String] = [
            "step": String(stepCount), "rng": String(rng.state),
            "adam": "\(s.generatorLR),\(s.discriminatorLR),\(s.betas.0),\(s.betas.1),\(s.eps)",
            "reg_every": "\(s.gRegEvery),\(s.dRegEvery)", "r1_weight": "\(s.r1Weight)", "mixing_prob": "\(s.mixingProb)",
            "ema_decay": "\(s.emaDecay)", "path": "\(s.pathRegWeight),\(s.pathBatchShrink),\(s.pathDecay)",
            "mean_path_length": String(meanPathLength.bitPattern), "discriminator": "\(d.size),\(d.channelMultiplier),\(d.narrow),\(d.stddevGroup)",
        ]
        return TrainingCheckpointGroups.serialize(groups, key: Self.checkpointKey,
                                                  metadata: PriorFile.metadata(config).merging(extra) { own, _ in own }, fields: fields)
    }

    /// A trainer in the state of `bytes` (from `checkpoint()`). Throws `modelFormat` naming
    /// the field or tensor that is missing or wrong.
    convenience init(checkpoint bytes: [UInt8]) throws {
        let file = try Safetensors(bytes: bytes)
        let key = Self.checkpointKey
        let fields = try TrainingCheckpointGroups.fields(file, key: key, what: "prior training checkpoint", noun: "a face-prior training checkpoint")
        let config = try PriorFile.parse(metadata: file.metadata)
        var s = PriorTrainingSettings()
        let adam = try fields.numbers("adam", 5), every = try fields.numbers("reg_every", 2)
        (s.generatorLR, s.discriminatorLR, s.betas, s.eps) = (adam[0], adam[1], (adam[2], adam[3]), adam[4])
        guard every.allSatisfy({ $0 == $0.rounded() && $0 >= 1 && $0 <= 1e6 }) else {
            throw AVPGANError.format("prior training checkpoint: metadata \(key).reg_every is not two intervals")
        }
        (s.gRegEvery, s.dRegEvery) = (Int(every[0]), Int(every[1]))
        s.r1Weight = try fields.numbers("r1_weight", 1)[0]
        s.mixingProb = try fields.numbers("mixing_prob", 1)[0]
        s.emaDecay = try fields.numbers("ema_decay", 1)[0]
        let path = try fields.numbers("path", 3)
        guard path[1] == path[1].rounded(), path[1] >= 1, path[1] <= 1e6 else {
            throw AVPGANError.format("prior training checkpoint: metadata \(key).path is not weight, batch shrink, decay")
        }
        (s.pathRegWeight, s.pathBatchShrink, s.pathDecay) = (path[0], Int(path[1]), path[2])
        guard let bits = UInt32(try fields.text("mean_path_length")), Float(bitPattern: bits).isFinite else {
            throw AVPGANError.format("prior training checkpoint: metadata \(key).mean_path_length is not a float's bits")
        }
        let meanPathLength = Float(bitPattern: bits)
        do { try s.validate() } catch let e as AVPGANError { throw AVPGANError.format("prior training checkpoint: \(e.message)") }
        guard let rng = UInt64(try fields.text("rng")) else { throw AVPGANError.format("prior training checkpoint: metadata \(key).rng is not a state") }
        let v = try fields.numbers("discriminator", 4)
        guard v[0] == Double(config.outSize), v[1] > 0, v[1] <= 64, v[2] > 0, v[2] <= 64, v[3] == v[3].rounded(), v[3] >= 1, v[3] <= 1024 else {
            throw AVPGANError.format("prior training checkpoint: metadata \(key).discriminator is not size \(config.outSize), multiplier, narrow, group")
        }
        let dc = StyleGAN2Discriminator.Config(size: Int(v[0]), channelMultiplier: v[1], narrow: v[2], stddevGroup: Int(v[3]))
        let dShapes: [(name: String, shape: [Int])]
        do { dShapes = try StyleGAN2Discriminator.shapes(dc).map { (name: $0.0, shape: $0.1) } } catch let e as AVPGANError {
            throw AVPGANError.format("prior training checkpoint: \(e.message)")
        }
        let noises = Set(config.noiseNames)
        let prior = config.tensors
        let groups: [(prefix: String, shapes: [(name: String, shape: [Int])], trained: [String])] = [
            ("g", prior, prior.map(\.name).filter { !noises.contains($0) }), ("ema", prior, []), ("d", dShapes, dShapes.map(\.name))]
        let read = try TrainingCheckpointGroups.read(file, groups: groups, kind: "a face-prior training checkpoint of this configuration")
        let tensors = read.tensors
        let discriminator = try StyleGAN2Discriminator(config: dc, values: tensors("d"))
        try self.init(generator: tensors("g"), config: config, ema: tensors("ema"), discriminator: discriminator, settings: s, seed: 0)
        self.rng = SplitMix(seed: rng)
        stepCount = try fields.integer("step")
        self.meanPathLength = meanPathLength
        try TrainingCheckpointGroups.restoreOptimizers(self.groups, fields: fields, expAvg: read.expAvg, expAvgSq: read.expAvgSq)
    }
}
