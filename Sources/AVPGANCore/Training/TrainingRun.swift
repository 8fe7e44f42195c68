/// Algorithm 1 over a data set: batches from a `BatchSampler`, 0.05 N(0, 1) embedding noise from
/// the same seeded generator, one `GANTrainer` step each; checkpoints that resume bit-identically
/// (the networks, Adam, the step and the generator state).
public final class TrainingRun {
    public static let noiseStd: Float = 0.05

    let trainer: GANTrainer
    var sampler: BatchSampler
    public private(set) var step: Int
    public let batchSize: Int
    public var config: ModelConfig { trainer.config }

    /// Widths of the trained networks: the paper's (`full`) or the test size (`tiny`).
    public enum Widths: String, Sendable {
        case full, tiny
        var generator: [Int] { self == .full ? [1024, 512, 256, 128, 64] : [128, 64, 32, 16, 16] }
        var face: [Int] { self == .full ? [32, 64, 128, 256, 512] : [8, 16, 32, 32, 64] }
    }

    /// A fresh run: the frozen voice encoder from `voiceEncoderFile` (any model file), new
    /// generator, face encoder and heads for `arch` at `widths`, seeded by `seed`.
    public init(arch: Architecture, widths: Widths, voiceEncoderFile: String, index: DatasetIndex, cache: FeatureCache,
                batchSize: Int, seed: UInt64, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let file = try Safetensors(bytes: try FileIO.read(voiceEncoderFile))
        let source = try ModelConfig.parse(metadata: file.metadata)
        var tensors: [String: [Float]] = [:]
        for e in file.entries where e.name.hasPrefix("voice_encoder.") { tensors[e.name] = try file.floats(e) }
        let config = ModelConfig(arch: arch, networks: NetworkName.allCases, nMels: source.nMels, embedDim: source.embedDim,
                                 voiceWidths: source.voiceWidths, generatorWidths: widths.generator, faceWidths: widths.face,
                                 identities: index.train.count, spectralNorm: arch.hasSpectralNorm ? .stored : SpectralNormStorage.none)
        tensors.merge(NetworkInitializer.tensors(for: config, seed: seed)) { a, _ in a }
        trainer = try GANTrainer(config: config, tensors: tensors)
        sampler = try BatchSampler(index: index, cache: cache, seed: seed &+ 1, progress: progress)
        step = 0
        self.batchSize = batchSize
    }

    /// A run resumed from `checkpoint` on the same data set.
    public init(checkpoint: TrainingCheckpoint, index: DatasetIndex, cache: FeatureCache, batchSize: Int,
                progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard checkpoint.config.identities == index.train.count else {
            throw AVPGANError.invalid("the checkpoint was trained on \(checkpoint.config.identities) identities, the data set has \(index.train.count)")
        }
        trainer = try GANTrainer(checkpoint: checkpoint)
        sampler = try BatchSampler(index: index, cache: cache, seed: 0, progress: progress)
        sampler.randomState = checkpoint.rng
        step = checkpoint.step
        self.batchSize = batchSize
    }

    /// One step; returns the five losses (d_real, d_fake, c_real, g_fake, g_class).
    public func next() throws -> [Float] {
        let batch = sampler.next(batch: batchSize)
        let noise = sampler.gaussians(batchSize * config.embedDim, std: TrainingRun.noiseStd)
        let losses = try trainer.step(voices: batch.voices, frames: batch.frames, voiceLabels: batch.voiceLabels,
                                      faces: batch.faces, faceLabels: batch.faceLabels, noise: noise)
        step += 1
        return losses
    }

    public func checkpoint() -> TrainingCheckpoint { trainer.checkpoint(step: step, rng: sampler.randomState) }
}
