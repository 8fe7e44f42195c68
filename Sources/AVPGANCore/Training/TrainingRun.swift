/// Algorithm 1 over a data set: batches from a `BatchSampler`, 0.05 N(0, 1) embedding noise from
/// the same seeded generator, one `GANTrainer` step each; checkpoints that resume bit-identically
/// (the networks, Adam, the step and the generator state). A run resumed without a data set
/// takes only explicit batches (`ganStep`).
public final class TrainingRun {
    public static let noiseStd: Float = 0.05
    /// Whether a new run puts spectral norm on the generator by default: yes, as the reference
    /// (turning it off did not make avpgan learn better: docs/training-design.md, "Why avpgan
    /// collapsed").
    public static let defaultGeneratorSpectralNorm = true
    /// Whether a new avpgan run puts CBAM in the generator by default: yes, as the reference.
    public static let defaultGeneratorCBAM = true
    /// CBAM's channel-MLP reduction of a new run (hidden width `max(C / r, 1)`): 16, as the reference.
    public static let defaultCBAMReduction = 16
    /// How a new run's CBAMs gate: `residual`, `x (1 + M)`, with which avpgan learns where the
    /// reference's `sigmoid` gate collapses (docs/training-design.md, "Third round" and
    /// "Fourth round"). Model files without a `cbam_gate` field still mean `sigmoid`.
    public static let defaultCBAMGate = CBAMGate.residual
    /// The losses a step returns, in this order.
    public static let lossNames = ["d_real", "d_fake", "c_real", "g_fake", "g_class"]

    let trainer: GANTrainer
    /// Draws the data set's batches, the next one in the background during a step.
    var sampler: BatchPrefetcher?
    /// The sampler's generator state when there is no sampler (kept for checkpoints).
    private var detachedRandomState: UInt64
    public private(set) var step: Int
    /// What the run's losses and generated faces say about its health (kept in checkpoints).
    public private(set) var health = TrainingHealth()
    /// The batch spread of the last step's generated faces (`TrainingHealth`).
    public var lastSpread: Float { trainer.lastSpread }
    /// Batch size of `next()`; 0 without a data set.
    public let batchSize: Int
    public var config: ModelConfig { trainer.config }
    /// Whether `next()` can draw batches (the run was made or resumed with a data set).
    public var hasDataset: Bool { sampler != nil }

    /// Widths of the trained networks: the paper's (`full`) or the test size (`tiny`).
    public enum Widths: String, Sendable {
        case full, tiny
        var generator: [Int] { self == .full ? [1024, 512, 256, 128, 64] : [128, 64, 32, 16, 16] }
        var face: [Int] { self == .full ? [32, 64, 128, 256, 512] : [8, 16, 32, 32, 64] }
    }

    /// A fresh run: the frozen voice encoder from `voiceEncoderFile` (any model file), new
    /// generator, face encoder and heads for `arch` at `widths`, seeded by `seed`.
    /// `generatorSpectralNorm` false keeps spectral norm on the face encoder only
    /// (`ModelConfig.generatorSpectralNorm`; ignored for voice2face). `generatorCBAM` false keeps
    /// CBAM in the face encoder only, `cbamReduction` sets CBAM's channel-MLP reduction r
    /// (`ModelConfig.generatorCBAM`, `.cbamReduction`; both ignored without CBAM), `cbamGate`
    /// how every CBAM's attention maps multiply (`ModelConfig.cbamGate`; ignored without CBAM,
    /// kept in checkpoints and exported models). `healthWarmUp`:
    /// steps before `health` judges anything.
    public init(arch: Architecture, widths: Widths, voiceEncoderFile: String, index: DatasetIndex, cache: FeatureCache,
                batchSize: Int, seed: UInt64, generatorSpectralNorm: Bool = TrainingRun.defaultGeneratorSpectralNorm,
                generatorCBAM: Bool = TrainingRun.defaultGeneratorCBAM, cbamReduction: Int = TrainingRun.defaultCBAMReduction,
                cbamGate: CBAMGate = TrainingRun.defaultCBAMGate, healthWarmUp: Int = TrainingHealth.defaultWarmUp, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let file = try Safetensors(bytes: try FileIO.read(voiceEncoderFile))
        let reader = try WeightReader(file: file, config: try ModelConfig.parse(metadata: file.metadata))  // checked as a model
        let source = reader.config
        var tensors: [String: [Float]] = [:]
        for (name, _) in TensorLayout.tensors(for: source) where TensorLayout.belongs(name, to: .voiceEncoder) {
            tensors[name] = try reader.floats(name)
        }
        var config = ModelConfig(arch: arch, networks: NetworkName.allCases, nMels: source.nMels, embedDim: source.embedDim,
                                 voiceWidths: source.voiceWidths, generatorWidths: widths.generator, faceWidths: widths.face,
                                 identities: index.train.count, spectralNorm: arch.hasSpectralNorm ? .stored : SpectralNormStorage.none)
        config.generatorSpectralNorm = generatorSpectralNorm || !arch.hasSpectralNorm
        config.generatorCBAM = generatorCBAM || !arch.hasCBAM
        guard (1...ModelConfig.maxWidth).contains(cbamReduction) else {
            throw AVPGANError.invalid("cbam reduction is \(cbamReduction), expected 1...\(ModelConfig.maxWidth)")
        }
        if arch.hasCBAM {
            config.cbamReduction = cbamReduction
            config.cbamGate = cbamGate
        }
        tensors.merge(NetworkInitializer.tensors(for: config, seed: seed)) { a, _ in a }
        trainer = try GANTrainer(config: config, tensors: tensors)
        sampler = BatchPrefetcher(try BatchSampler(index: index, cache: cache, seed: seed &+ 1, progress: progress))
        detachedRandomState = 0
        step = 0
        health = TrainingHealth(warmUp: healthWarmUp)
        self.batchSize = batchSize
    }

    /// A run resumed from `checkpoint` on the same data set.
    public init(checkpoint: TrainingCheckpoint, index: DatasetIndex, cache: FeatureCache, batchSize: Int,
                progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard checkpoint.config.identities == index.train.count else {
            throw AVPGANError.invalid("the checkpoint was trained on \(checkpoint.config.identities) identities, the data set has \(index.train.count)")
        }
        trainer = try GANTrainer(checkpoint: checkpoint)
        var sampler = try BatchSampler(index: index, cache: cache, seed: 0, progress: progress)
        sampler.randomState = checkpoint.rng
        self.sampler = BatchPrefetcher(sampler)
        detachedRandomState = checkpoint.rng
        step = checkpoint.step
        health = checkpoint.health
        self.batchSize = batchSize
    }

    /// A run resumed from `checkpoint` without a data set: `ganStep` trains on the caller's
    /// batches, `next()` throws. Its checkpoints keep the sampler state of `checkpoint`.
    public init(checkpoint: TrainingCheckpoint) throws {
        trainer = try GANTrainer(checkpoint: checkpoint)
        sampler = nil
        detachedRandomState = checkpoint.rng
        step = checkpoint.step
        health = checkpoint.health
        batchSize = 0
    }

    /// Throws unless the run has a data set to draw batches from.
    public func requireDataset() throws {
        guard sampler != nil else {
            throw AVPGANError.invalid("this trainer has no data set (it was loaded from a checkpoint without voices and faces directories): only explicit batches (gan_step) can train it")
        }
    }

    /// One step on a batch from the data set; returns the five losses (d_real, d_fake, c_real,
    /// g_fake, g_class).
    public func next() throws -> [Float] {
        try requireDataset()
        var (batch, noise) = sampler!.next(batchSize: batchSize, noiseCount: batchSize * config.embedDim)
        if let reducer = trainer.reducer {
            // Every rank drew the whole global batch alike; it computes its own rows of it.
            let rows = BatchSlice.rows(batch: batchSize, rank: reducer.rank, size: reducer.size)
            batch = batch.slice(rows)
            trainer.globalBatch = batchSize
            noise = Array(noise[(rows.lowerBound * config.embedDim)..<(rows.upperBound * config.embedDim)])
        }
        let losses = try trainer.step(voices: batch.voices, frames: batch.frames, voiceLabels: batch.voiceLabels,
                                      faces: batch.faces, faceLabels: batch.faceLabels, noise: noise)
        step += 1
        health.observe(losses: losses, spread: trainer.lastBatch > 1 ? trainer.lastSpread : nil, identities: config.identities, step: step)
        return losses
    }

    /// Largest batch and crop `ganStep` accepts.
    public static let maxBatch = 4096
    public static let maxFrames = 1 << 20

    /// One step of Algorithm 1 on the caller's batch, as the reference's `gan_step(voice,
    /// voice_label, face, face_label, noise)`: `voices` `[n, frames, nMels]` frame-major (the
    /// transpose of torch's `[n, mels, frames]`), `faces` `[n, 3, S, S]`, `noise` `[n, E]` (added
    /// to the normalised embedding, which is then normalised again), labels in
    /// `0..<identities`. Everything is checked before anything changes: a rejected batch leaves
    /// the run as it was. Returns the five losses (d_real, d_fake, c_real, g_fake, g_class).
    public func ganStep(voices: [Float], frames: Int, voiceLabels: [Int], faces: [Float], faceLabels: [Int],
                        noise: [Float]) throws -> [Float] {
        let n = voiceLabels.count, c = config, s = c.imageSize
        guard (1...TrainingRun.maxBatch).contains(n) else { throw AVPGANError.invalid("n is \(n), expected 1...\(TrainingRun.maxBatch)") }
        guard (1...TrainingRun.maxFrames).contains(frames) else {
            throw AVPGANError.invalid("frames is \(frames), expected 1...\(TrainingRun.maxFrames)")
        }
        guard c.nMels == LogMelExtractor.bands else {
            throw AVPGANError(.unsupported, "the trainer's voice encoder takes \(c.nMels) bands; training supports \(LogMelExtractor.bands)")
        }
        guard faceLabels.count == n else { throw AVPGANError.invalid("there are \(n) voice labels but \(faceLabels.count) face labels") }
        func count(_ values: [Float], _ expected: Int, _ name: String, _ layout: String) throws {
            guard values.count == expected else {
                throw AVPGANError.invalid("\(name) has \(values.count) values; \(layout) needs \(expected)")
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw AVPGANError.invalid("\(name)[\(i)] is \(values[i]); every value must be finite")
            }
        }
        try count(voices, n * frames * c.nMels, "voices", "[n \(n), frames \(frames), n_mels \(c.nMels)]")
        try count(faces, n * 3 * s * s, "faces", "[n \(n), 3, \(s), \(s)]")
        try count(noise, n * c.embedDim, "noise", "[n \(n), embed_dim \(c.embedDim)]")
        for (name, labels) in [("voice_labels", voiceLabels), ("face_labels", faceLabels)] {
            if let i = labels.firstIndex(where: { !(0..<c.identities).contains($0) }) {
                throw AVPGANError.invalid("\(name)[\(i)] is \(labels[i]); the trainer has \(c.identities) identities (labels 0...\(c.identities - 1))")
            }
        }
        if let reducer = trainer.reducer {
            // Each rank gives its own rows; the global batch is their total.
            var rows: [Float] = [Float(n)]
            try rows.withUnsafeMutableBufferPointer { try reducer.sum($0.baseAddress!, count: 1) }
            trainer.globalBatch = Int(rows[0])
        }
        let losses = try trainer.step(voices: voices, frames: frames, voiceLabels: voiceLabels, faces: faces,
                                      faceLabels: faceLabels, noise: noise)
        step += 1
        health.observe(losses: losses, spread: trainer.lastBatch > 1 ? trainer.lastSpread : nil, identities: config.identities, step: step)
        return losses
    }

    public func checkpoint() -> TrainingCheckpoint {
        var c = trainer.checkpoint(step: step, rng: sampler?.randomState ?? detachedRandomState)
        c.health = health
        return c
    }
}
