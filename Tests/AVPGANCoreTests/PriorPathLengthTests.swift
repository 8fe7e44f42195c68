@testable import AVPGANCore
import XCTest

/// The path-length term against upstream's g_path_regularize
/// (Tests/Fixtures/prior-step/path.safetensors: step 1 of the same draws with net_g_reg_every 1,
/// one fresh sample, the same image noise): its loss and path length, its parameter gradient
/// (a central difference here, double backward upstream) and the generator after the step.
final class PriorPathLengthTests: XCTestCase {
    static var settings: PriorTrainingSettings {
        var s = PriorTrainingSettings()
        (s.dRegEvery, s.gRegEvery, s.pathRegWeight) = (4, 1, 2)
        return s
    }

    func testPathLengthTermMatchesUpstream() throws {
        let a = try Fixtures.Arrays("\(PriorTrainingStepTests.root)/step.safetensors")
        let p = try Fixtures.Arrays("\(PriorTrainingStepTests.root)/path.safetensors")
        let path = (draw: try PriorTrainingStepTests.draw(p, "path"), y: try p.floats("path.y"))
        // The term alone on the initial generator.
        let alone = try PriorTrainingStepTests.trainer(a, settings: Self.settings)
        alone.generatorParameters.zeroGradients()
        let term = try alone.pathLengthTerm(path.draw, batch: 1, y: path.y)
        for (name, value) in [("l_g_path", term.loss), ("path_length", term.pathLength)] {
            let expected = try p.floats("loss.\(name)")[0]
            XCTAssertLessThanOrEqual(abs(value - expected), 1e-4 * abs(expected), "\(name): swift \(value), torch \(expected)")
        }
        var actual: [Float] = [], expected: [Float] = []
        for name in alone.generator.parameterNames {
            actual += alone.generatorParameters.gradients[name]!.array
            expected += try p.floats("final.path.grad.\(name)")
        }
        var difference: Double = 0, norm: Double = 0
        for i in expected.indices {
            difference += Double(actual[i] - expected[i]) * Double(actual[i] - expected[i])
            norm += Double(expected[i]) * Double(expected[i])
        }
        let overall = (difference / norm).squareRoot()
        print("prior path-length gradient: relative error over all parameters \(overall)")
        XCTAssertLessThanOrEqual(overall, 1e-3, "the path-length term's parameter gradient: relative error \(overall)")
        // The whole step with it.
        let trainer = try PriorTrainingStepTests.trainer(a, settings: Self.settings)
        let losses = try trainer.step(real: try a.floats("step1.real"), batch: 2,
                                      draws: (try PriorTrainingStepTests.draw(a, "step1.d"), try PriorTrainingStepTests.draw(a, "step1.g")),
                                      pathDraw: path)
        XCTAssertEqual(Set(losses.keys), ["l_d", "real_score", "fake_score", "l_g", "l_g_path", "path_length"])
        var worst: Float = 0
        for name in trainer.generator.parameterNames {
            let e = maxAbsDifference(trainer.generatorParameters.values[name]!.array, try p.floats("final.g.\(name)")).value
                / max(try p.floats("final.g.\(name)").map(abs).max()!, 1e-30)
            worst = max(worst, e)
            XCTAssertLessThanOrEqual(e, 1e-3, "g \(name) after the path-length step: relative error \(e)")
        }
        print("prior path-length step: worst relative error of the generator \(worst)")
    }
}
