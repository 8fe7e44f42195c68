@testable import AVPGANCore

extension Fixtures {
    /// A `GANTrainer` of the golden avpgan model's config (`model-sn-stored.safetensors`) as
    /// `adjust` changes it: fresh generator and face encoder (`NetworkInitializer`, seed 3), the
    /// golden voice encoder.
    static func goldenTrainer(_ adjust: (inout ModelConfig) -> Void) throws -> GANTrainer {
        let golden = try Safetensors(bytes: try FileIO.read("\(Fixtures.golden("avpgan"))/model-sn-stored.safetensors"))
        var config = try ModelConfig.parse(metadata: golden.metadata)
        adjust(&config)
        var tensors = NetworkInitializer.tensors(for: config, seed: 3)
        for e in golden.entries where e.name.hasPrefix("voice_encoder.") { tensors[e.name] = try golden.floats(e) }
        return try GANTrainer(config: config, tensors: tensors)
    }

    /// One step of `trainer` on a seeded batch of 3 (40 frames of 64 mel bands each, faces in
    /// [-1, 1), voices labelled 0, 1, 2 and faces 2, 1, 0, noise 0.01): its losses.
    static func stepOnRandomBatch(_ trainer: GANTrainer) throws -> [Float] {
        let n = 3, frames = 40, s = trainer.config.imageSize, e = trainer.config.embedDim
        var rng = SplitMix(seed: 9)
        let voices = (0..<(n * frames * 64)).map { _ in rng.unit() * 2 - 1 }
        let faces = (0..<(n * 3 * s * s)).map { _ in rng.unit() * 2 - 1 }
        return try trainer.step(voices: voices, frames: frames, voiceLabels: [0, 1, 2], faces: faces, faceLabels: [2, 1, 0],
                                noise: [Float](repeating: 0.01, count: n * e))
    }
}
