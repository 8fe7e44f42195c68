@testable import AVPGANCore
import XCTest

/// Three whole steps of `EnhancerTrainingStep` against GFPGAN's loop run by PyTorch on the
/// upstream modules (Tests/Fixtures/enhancer-step, made by tools/fixtures/make_enhancer_step_fixtures.py:
/// 32 px, tiny widths, batch 2, every term but identity, an R1 step at step 2, the same noise
/// planes): each logged loss and every final tensor of the generator, its EMA, the face
/// discriminator and the three component discriminators.
final class EnhancerTrainingStepTests: XCTestCase {
    static let root = "\(Fixtures.root)/enhancer-step"
    static let config = EnhancerConfig(outSize: 32, styleDim: 8, channelMultiplier: 1, narrow: 1.0 / 64, mlpLayers: 1,
                                       differentW: true, sftHalf: true, inputIsLatent: false)
    static let discriminatorConfig = StyleGAN2Discriminator.Config(size: 32, channelMultiplier: 1, narrow: 1.0 / 64)
    static let parts = ["left_eye", "right_eye", "mouth"]

    static var settings: EnhancerTrainingSettings {
        var s = EnhancerTrainingSettings()
        s.losses = .gfpganV1
        s.losses.identity = 0
        s.regEvery = 2
        return s
    }

    /// The tensors of `prefix.` without the prefix.
    static func tensors(_ a: Fixtures.Arrays, _ prefix: String, _ names: [String]) throws -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for name in names { out[name] = try a.floats("\(prefix).\(name)") }
        return out
    }

    /// A trainer in the fixture's initial state.
    static func trainer(_ a: Fixtures.Arrays, settings: EnhancerTrainingSettings = settings, seed: UInt64 = 1) throws -> EnhancerTrainingStep {
        let names = EnhancerLayout.tensors(for: config).map(\.name)
        let d = try StyleGAN2Discriminator(config: discriminatorConfig,
                                           values: try tensors(a, "d", try StyleGAN2Discriminator.shapes(discriminatorConfig).map(\.0)))
        let components = try parts.map { part in
            try FacialComponentDiscriminator(widths: (4, 8, 16), values: try tensors(a, part, FacialComponentDiscriminator.shapes(widths: (4, 8, 16)).map(\.0)))
        }
        return try EnhancerTrainingStep(generator: try tensors(a, "g", names), config: config, discriminator: d, components: components,
                                        perceptual: try VGG19Features(path: "\(root)/vgg19-w32.safetensors"), face: nil,
                                        settings: settings, seed: seed)
    }

    static func batch(_ a: Fixtures.Arrays, step: Int) throws -> (EnhancerTrainingBatch, [[Float]]) {
        let marks = try a.floats("landmarks")
        let components = (0..<2).map { i -> FacialComponents in
            func c(_ k: Int) -> FacialComponents.Component {
                let o = (i * 3 + k) * 3
                return .init(centerX: marks[o], centerY: marks[o + 1], halfLength: marks[o + 2])
            }
            return FacialComponents(leftEye: c(0), rightEye: c(1), mouth: c(2))
        }
        let noise = try a.floats("step\(step).noise"), f = noise.count / 2
        return (EnhancerTrainingBatch(inputs: try a.floats("step\(step).input"), truths: try a.floats("step\(step).truth"), count: 2,
                                      components: components), [Array(noise[..<f]), Array(noise[f...])])
    }

    /// The largest |swift − torch| over the largest |torch| of a tensor.
    func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        XCTAssertEqual(actual.count, expected.count)
        return maxAbsDifference(actual, expected).value / max(expected.map(abs).max() ?? 0, 1e-30)
    }

    func testThreeStepsMatchUpstream() throws {
        let a = try Fixtures.Arrays("\(Self.root)/step.safetensors")
        let trainer = try Self.trainer(a)
        for step in 1...3 {
            let (batch, noises) = try Self.batch(a, step: step)
            let losses = try trainer.step(batch, noises: noises)
            var names = ["l_g_pix", "l_g_percep", "l_g_style", "l_g_gan", "l_g_comp_style_loss", "l_d", "real_score", "fake_score"]
            names += Self.parts.flatMap { ["l_g_gan_\($0)", "l_d_\($0)"] }
            if step == 2 { names.append("l_d_r1") }
            XCTAssertEqual(Set(losses.keys), Set(names), "step \(step): the logged terms")
            for name in names {
                let expected = try a.floats("step\(step).loss.\(name)")[0]
                guard let actual = losses[name] else { continue }
                XCTAssertLessThanOrEqual(abs(actual - expected), 1e-4 * abs(expected), "step \(step) \(name): swift \(actual), torch \(expected)")
            }
        }
        // The generator, its EMA and the component discriminators: relative 1e-4 per tensor.
        var worst: [String: (Float, String)] = [:]
        func compare(_ group: String, _ values: [String: FloatStorage], _ names: [String], tolerance: Float) throws {
            for name in names {
                let e = relativeError(values[name]!.array, try a.floats("final.\(group).\(name)"))
                if e > (worst[group]?.0 ?? -1) { worst[group] = (e, name) }
                XCTAssertLessThanOrEqual(e, tolerance, "\(group) \(name) after 3 steps: relative error \(e)")
            }
        }
        try compare("g", trainer.generatorParameters.values, trainer.emaNames, tolerance: 1e-4)
        try compare("ema", trainer.ema, trainer.emaNames, tolerance: 1e-4)
        for (k, part) in Self.parts.enumerated() {
            try compare(part, trainer.components[k].parameters, trainer.components[k].names, tolerance: 1e-4)
        }
        // The face discriminator went through the R1 step too (its term alone: `testR1Term`).
        let d = trainer.discriminator!
        try compare("d", d.parameters, d.names, tolerance: 1e-4)
        print("enhancer step parity, worst relative error per network: " + worst.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value.0) (\($0.value.1))" }.joined(separator: ", "))
    }

    /// The R1 term of step 2 alone (weight 10 / 2 · 2, its Hessian-vector product a central
    /// difference: R1Penalty.swift) on the discriminator after step 1, against upstream's double
    /// backward (`r1.grad.*`): relative error per tensor and over all parameters.
    func testR1Term() throws {
        let a = try Fixtures.Arrays("\(Self.root)/step.safetensors")
        let trainer = try Self.trainer(a)
        let (batch, noises) = try Self.batch(a, step: 1)
        _ = try trainer.step(batch, noises: noises)
        let d = trainer.discriminator!, grads = try d.zeroGradients(), truth = try a.floats("step2.truth")
        _ = try truth.withUnsafeBufferPointer {
            try d.r1Penalty($0.baseAddress!, batch: 2, weight: Float(Self.settings.r1StepWeight), gradients: grads, pass: DiscriminatorPass())
        }
        // Per tensor the weights' errors are bounded; the biases' R1 gradients are small (they
        // act through the minibatch statistic only), so their error is only bounded overall.
        var worst: [Bool: (Float, String)] = [true: (0, ""), false: (0, "")], all: ([Float], [Float]) = ([], [])
        for name in d.names {
            let actual = grads[name]!.array, expected = try a.floats("r1.grad.\(name)")
            all.0 += actual
            all.1 += expected
            guard expected.contains(where: { $0 != 0 }) else { continue }
            let e = relativeError(actual, expected), weight = name.hasSuffix("weight")
            if e > worst[weight]!.0 { worst[weight] = (e, name) }
            if weight { XCTAssertLessThanOrEqual(e, 1e-3, "R1 gradient of \(name): relative error \(e)") }
        }
        let overall = relativeError(all.0, all.1)
        XCTAssertLessThanOrEqual(overall, 1e-4, "R1 gradient over all parameters: relative error \(overall)")
        print("enhancer step R1 term: relative error over all parameters \(overall), worst weight \(worst[true]!.1) \(worst[true]!.0), worst bias \(worst[false]!.1) \(worst[false]!.0)")
    }

    /// One step at 1 and at 3 threads: the same checkpoint bytes.
    func testSameBytesAtAnyThreadCount() throws {
        defer { try? Threads.set(0) }
        let a = try Fixtures.Arrays("\(Self.root)/step.safetensors")
        var saved: [[UInt8]] = []
        for threads in [1, 3] {
            try Threads.set(threads)
            let trainer = try Self.trainer(a, seed: 5)
            _ = try trainer.step(try Self.batch(a, step: 2).0)
            saved.append(trainer.checkpoint())
        }
        XCTAssertTrue(saved[0] == saved[1], "one step at 1 and at 3 threads gave different states")
    }
}
