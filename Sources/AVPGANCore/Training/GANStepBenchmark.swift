/// One `GANTrainer.step` on fixed random data, for `avpgan bench --train`: the paper's widths
/// (`TrainingRun.Widths.full`, the reference's FULL), a random frozen voice encoder (64 mel
/// bands, widths 256-384-576-864, embedding 64), freshly initialised g, f, d, c, and a batch of
/// `batch` voices of `frames` frames, faces `3 x 64 x 64`, labels and noise drawn from `seed`.
/// The same shapes as tools/benchmarks/bench_train_torch.py feeds the reference's `gan_step`.
public final class GANStepBenchmark {
    let trainer: GANTrainer
    let voices: [Float], faces: [Float], noise: [Float]
    let voiceLabels: [Int], faceLabels: [Int]
    let frames: Int

    public init(arch: Architecture, batch: Int, frames: Int, identities: Int = 100, seed: UInt64 = 1) throws {
        guard batch >= 1, frames >= 16, identities >= 1 else { throw AVPGANError.invalid("bench --train needs batch >= 1, frames >= 16") }
        let widths = TrainingRun.Widths.full
        let config = ModelConfig(arch: arch, networks: NetworkName.allCases, nMels: LogMelExtractor.bands, embedDim: widths.embed,
                                 voiceWidths: widths.voice, generatorWidths: widths.generator, faceWidths: widths.face,
                                 identities: identities, spectralNorm: arch.hasSpectralNorm ? .stored : SpectralNormStorage.none)
        var rng = SplitMix(seed: seed)
        var tensors = NetworkInitializer.tensors(for: config, seed: seed)
        // The voice encoder: uniform ±1/sqrt(fan_in) convolutions, BatchNorm at its initial state.
        for (name, shape) in TensorLayout.tensors(for: config) where TensorLayout.belongs(name, to: .voiceEncoder) {
            let count = shape.reduce(1, *)
            if shape.count == 1 {
                let one = name.hasSuffix(".running_var") || (name.hasSuffix(".weight"))
                tensors[name] = [Float](repeating: one ? 1 : 0, count: count)
            } else {
                let bound = 1 / Float(shape[1] * shape[2]).squareRoot()
                tensors[name] = (0..<count).map { _ in (2 * rng.unit() - 1) * bound }
            }
        }
        trainer = try GANTrainer(config: config, tensors: tensors)
        self.frames = frames
        voices = (0..<(batch * frames * LogMelExtractor.bands)).map { _ in rng.gaussian() }
        faces = (0..<(batch * 3 * config.imageSize * config.imageSize)).map { _ in 2 * rng.unit() - 1 }
        noise = (0..<(batch * config.embedDim)).map { _ in 0.05 * rng.gaussian() }
        voiceLabels = (0..<batch).map { _ in Int(rng.next() % UInt64(identities)) }
        faceLabels = (0..<batch).map { _ in Int(rng.next() % UInt64(identities)) }
    }

    /// One training step on the fixed batch; returns the five losses.
    @discardableResult
    public func step() throws -> [Float] {
        try trainer.step(voices: voices, frames: frames, voiceLabels: voiceLabels, faces: faces, faceLabels: faceLabels, noise: noise)
    }
}
