@testable import AVPGANCore
import XCTest

/// The face prior's files and checkpoints: a resumed run continues bit-identically, a damaged
/// checkpoint is refused by name, the prior file carries upstream's names and the EMA weights,
/// and a fresh enhancer takes its decoder from a prior unchanged and refuses one that does not fit.
final class PriorFileTests: XCTestCase {
    static let config = PriorConfig(outSize: 32, styleDim: 8, mlpLayers: 2, channelMultiplier: 1, narrow: 1.0 / 64)

    static func freshTrainer(seed: UInt64 = 3) throws -> PriorTrainingStep {
        let d = try UpstreamInitialization.discriminator(.init(size: 32, channelMultiplier: 1, narrow: 1.0 / 64), seed: seed + 1)
        var settings = PriorTrainingSettings()
        (settings.dRegEvery, settings.gRegEvery) = (2, 1)  // the path-length term at both steps, R1 at step 2
        return try PriorTrainingStep(generator: try UpstreamInitialization.prior(config, seed: seed), config: config, discriminator: d,
                                     settings: settings, seed: seed + 2)
    }

    static func real(_ seed: UInt64) -> [Float] {
        var rng = SplitMix(seed: seed)
        return (0..<(2 * 3 * 32 * 32)).map { _ in 2 * rng.unit() - 1 }
    }

    func testResumeIsBitIdentical() throws {
        let trainer = try Self.freshTrainer()
        _ = try trainer.step(real: Self.real(1), batch: 2)
        let saved = trainer.checkpoint()
        let resumed = try PriorTrainingStep(checkpoint: saved)
        XCTAssertEqual(resumed.checkpoint(), saved, "a checkpoint read back writes different bytes")
        for t in [trainer, resumed] { _ = try t.step(real: Self.real(2), batch: 2) }
        XCTAssertEqual(resumed.stepCount, 2)
        XCTAssertTrue(resumed.checkpoint() == trainer.checkpoint(), "the resumed run's second step (R1 and path length, from the saved running mean) differs from the unbroken run's")
    }

    func testDamagedCheckpointIsRefusedByName() throws {
        let trainer = try Self.freshTrainer()
        let file = try Safetensors(bytes: trainer.checkpoint())
        var tensors: [SafetensorsWriter.Tensor] = []
        for e in file.entries where e.name != "ema.to_rgb1.bias" {
            tensors.append(.init(name: e.name, shape: e.shape, floats: try file.floats(e)))
        }
        XCTAssertThrowsError(try PriorTrainingStep(checkpoint: SafetensorsWriter.serialize(tensors, metadata: file.metadata))) { error in
            XCTAssertTrue("\(error)".contains("ema.to_rgb1.bias"), "the message does not name the missing tensor: \(error)")
        }
        var metadata = file.metadata
        metadata["avpgan.prior_training.reg_every"] = "4"
        XCTAssertThrowsError(try PriorTrainingStep(checkpoint: SafetensorsWriter.serialize(tensors, metadata: metadata))) { error in
            XCTAssertTrue("\(error)".contains("reg_every"), "the message does not name the bad field: \(error)")
        }
        metadata = file.metadata
        metadata["avpgan.prior_training.discriminator"] = "32,1e300,1,4"
        XCTAssertThrowsError(try PriorTrainingStep(checkpoint: SafetensorsWriter.serialize(tensors, metadata: metadata))) { error in
            XCTAssertTrue("\(error)".contains("discriminator"), "the message does not name the bad field: \(error)")
        }
    }

    func testPriorFileHoldsTheEMAUnderUpstreamNames() throws {
        let trainer = try Self.freshTrainer()
        _ = try trainer.step(real: Self.real(1), batch: 2)
        let file = try Safetensors(bytes: trainer.priorFile())
        XCTAssertEqual(file.entry("style_mlp.3.weight")?.shape, [8, 8])
        XCTAssertEqual(file.entry("style_convs.1.modulated_conv.weight")?.shape, [1, 8, 8, 3, 3])
        XCTAssertEqual(file.entry("noises.noise0")?.shape, [1, 1, 4, 4])
        XCTAssertEqual(file.entries.count, Self.config.tensors.count, "the prior file has tensors other than upstream's state_dict")
        let (config, tensors) = try PriorFile.read(bytes: trainer.priorFile())
        XCTAssertEqual(config, Self.config)
        for (name, values) in tensors { XCTAssertEqual(values, trainer.ema[name]!.array, "prior tensor \(name) is not the EMA's") }
        XCTAssertNotEqual(tensors["to_rgb1.bias"], trainer.generatorParameters.values["to_rgb1.bias"]!.array,
                          "the prior file holds the trained generator, not its EMA")
    }

    func testEnhancerDecoderStartsFromThePrior() throws {
        let trainer = try Self.freshTrainer()
        let prior = try PriorFile.read(bytes: trainer.priorFile())
        let enhancer = EnhancerConfig(outSize: 32, styleDim: 8, channelMultiplier: 1, narrow: 1.0 / 64, mlpLayers: 2)
        let tensors = try UpstreamInitialization.enhancer(enhancer, prior: prior, seed: 9)
        XCTAssertEqual(Set(tensors.keys), Set(EnhancerLayout.tensors(for: enhancer).map(\.name)))
        for (name, values) in prior.tensors {
            XCTAssertEqual(tensors["stylegan_decoder.\(name)"], values, "decoder tensor \(name) did not come through unchanged")
        }
        let u = tensors["conv_body_first.weight"]!, bound = 1 / Float(3).squareRoot()
        XCTAssertTrue(u.allSatisfy { abs($0) <= bound } && Set(u).count == u.count, "the U-Net's stem is not torch's default draw")
        // The network runs on them.
        let storages = try tensors.mapValues { try FloatStorage($0) }
        _ = EnhancerNetwork(weights: EnhancerWeights(storages: storages, config: enhancer), config: enhancer)

        for (bad, what) in [(EnhancerConfig(outSize: 64, styleDim: 8, channelMultiplier: 1, narrow: 1.0 / 64, mlpLayers: 2), "64 px"),
                            (EnhancerConfig(outSize: 32, styleDim: 8, channelMultiplier: 1, narrow: 1.0 / 32, mlpLayers: 2), "narrow 0.03125")] {
            XCTAssertThrowsError(try UpstreamInitialization.enhancer(bad, prior: prior, seed: 9)) { error in
                let e = error as? AVPGANError
                XCTAssertEqual(e?.kind, .invalidArgument)
                XCTAssertTrue(e?.message.contains(what) == true && e?.message.contains("32 px") == true,
                              "the refusal does not say what the prior is and what the enhancer needs: \(error)")
            }
        }
    }

    func testEnhancerFileIsNotAPrior() throws {
        let config = EnhancerConfig(outSize: 32, styleDim: 8, channelMultiplier: 1, narrow: 1.0 / 64, mlpLayers: 2)
        let tensors = EnhancerLayout.tensors(for: config).map { SafetensorsWriter.Tensor(name: $0.name, shape: $0.shape,
                                                                                          floats: [Float](repeating: 0, count: $0.shape.reduce(1, *))) }
        XCTAssertThrowsError(try PriorFile.read(bytes: SafetensorsWriter.serialize(tensors, metadata: config.metadata))) { error in
            XCTAssertTrue("\(error)".contains("a face prior"), "the message does not say a prior was expected: \(error)")
        }
    }
}
