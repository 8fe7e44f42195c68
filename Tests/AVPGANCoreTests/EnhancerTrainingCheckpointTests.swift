@testable import AVPGANCore
import XCTest

/// `EnhancerTrainingStep`'s checkpoints, seeded noise and skipped terms, on the networks of
/// Tests/Fixtures/enhancer-step (32 px, tiny widths).
final class EnhancerTrainingCheckpointTests: XCTestCase {
    typealias Step = EnhancerTrainingStepTests

    func fixture() throws -> Fixtures.Arrays { try Fixtures.Arrays("\(Step.root)/step.safetensors") }

    /// The fixture's batch of `step`, landmarks given at odd steps and the template at even ones.
    func batch(_ a: Fixtures.Arrays, _ step: Int) throws -> EnhancerTrainingBatch {
        var b = try Step.batch(a, step: step).0
        if step % 2 == 0 { b.components = nil }
        return b
    }

    /// Save after step 1, load, run steps 2 and 3 (an R1 step and one after it): the same
    /// checkpoint bytes and losses as three steps without the interruption; noise drawn by the
    /// trainers' own generator.
    func testResumeIsBitIdentical() throws {
        let a = try fixture()
        let straight = try Step.trainer(a, seed: 7)
        var straightLosses: [[String: Float]] = []
        for k in 1...3 { straightLosses.append(try straight.step(try batch(a, k))) }

        let first = try Step.trainer(a, seed: 7)
        _ = try first.step(try batch(a, 1))
        let saved = first.checkpoint()
        let vgg = try VGG19Features(path: "\(Step.root)/vgg19-w32.safetensors")
        let resumed = try EnhancerTrainingStep(checkpoint: saved, perceptual: vgg, face: nil)
        XCTAssertEqual(resumed.checkpoint(), saved, "a loaded checkpoint saves back to the same bytes")
        XCTAssertEqual(resumed.settings, Step.settings, "the settings come back from the checkpoint")
        for k in 2...3 {
            XCTAssertEqual(try resumed.step(try batch(a, k)), straightLosses[k - 1], "step \(k)'s losses after resuming")
        }
        XCTAssertEqual(resumed.stepCount, 3)
        XCTAssertTrue(resumed.checkpoint() == straight.checkpoint(), "the state after resuming differs from the uninterrupted run's")
    }

    /// Another seed draws other noise: the output (and so the L1 loss) changes.
    func testSeedChangesTheNoise() throws {
        let a = try fixture()
        let one = try Step.trainer(a, seed: 1).step(try batch(a, 1)), two = try Step.trainer(a, seed: 2).step(try batch(a, 1))
        XCTAssertNotEqual(one["l_g_pix"], two["l_g_pix"], "seeds 1 and 2 gave the same L1 loss: the noise is not drawn")
    }

    /// With the discriminator terms at 0 no discriminator is needed and only the image terms are logged.
    func testTermsOfWeightZeroNeedNoNetwork() throws {
        let a = try fixture()
        var settings = Step.settings
        settings.losses.adversarial = 0
        settings.losses.facialComponents = 0
        settings.losses.componentStyle = 0
        let names = EnhancerLayout.tensors(for: Step.config).map(\.name)
        let trainer = try EnhancerTrainingStep(generator: try Step.tensors(a, "g", names), config: Step.config, discriminator: nil,
                                               components: nil, perceptual: try VGG19Features(path: "\(Step.root)/vgg19-w32.safetensors"),
                                               face: nil, settings: settings, seed: 3)
        let losses = try trainer.step(try batch(a, 1))
        XCTAssertEqual(Set(losses.keys), ["l_g_pix", "l_g_percep", "l_g_style"])
        var on = Step.settings
        on.losses.identity = 0
        XCTAssertThrowsError(try EnhancerTrainingStep(generator: try Step.tensors(a, "g", names), config: Step.config, discriminator: nil,
                                                      components: nil, perceptual: nil, face: nil, settings: on, seed: 3)) { error in
            XCTAssertTrue("\(error)".contains("perceptual") || "\(error)".contains("discriminator"), "\(error)")
        }
    }

    /// Bad batches and checkpoints are clear errors, and a refused batch changes nothing.
    func testBadInputIsRefused() throws {
        let a = try fixture()
        let trainer = try Step.trainer(a)
        let before = trainer.checkpoint()
        var b = try batch(a, 1)
        b.truths[5] = .nan
        XCTAssertThrowsError(try trainer.step(b)) { XCTAssertTrue("\($0)".contains("non-finite"), "\($0)") }
        b = try batch(a, 1)
        b.components![1].mouth.centerX = 40
        XCTAssertThrowsError(try trainer.step(b)) { XCTAssertTrue("\($0)".contains("mouth"), "\($0)") }
        b = try batch(a, 1)
        b.inputs.removeLast()
        XCTAssertThrowsError(try trainer.step(b)) { XCTAssertTrue("\($0)".contains("[2, 3, 32, 32]"), "\($0)") }
        XCTAssertEqual(trainer.checkpoint(), before, "a refused batch changed the trainer")

        let file = try Safetensors(bytes: before)
        var metadata = file.metadata
        metadata["\(EnhancerTrainingStep.checkpointKey).reg_every"] = "x"
        let tensors = file.entries.map { SafetensorsWriter.Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape, data: file.rawBytes($0)) }
        XCTAssertThrowsError(try EnhancerTrainingStep(checkpoint: SafetensorsWriter.serialize(tensors, metadata: metadata), perceptual: nil,
                                                      face: nil)) { XCTAssertTrue("\($0)".contains("reg_every"), "\($0)") }
        var negative = tensors
        let i = negative.firstIndex { $0.name.hasPrefix(CheckpointValues.secondMomentPrefix) }!
        negative[i] = .init(name: negative[i].name, shape: negative[i].shape, floats: [Float](repeating: -1, count: negative[i].shape[0]))
        XCTAssertThrowsError(try EnhancerTrainingStep(checkpoint: SafetensorsWriter.serialize(negative, metadata: file.metadata), perceptual: nil,
                                                      face: nil)) { XCTAssertTrue("\($0)".contains("negative"), "\($0)") }
    }
}
