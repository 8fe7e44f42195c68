@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Data-parallel face-prior training: two ranks (in-process `ThreadReducer`s), each on its rows
/// of a global batch of 8 (one minibatch-deviation group of 4 each), train as one process on the
/// whole batch to float summation order: a step with the R1 and path-length terms on gives the
/// same gradients of the generator and the discriminator and the same losses, with a path batch
/// of 4 (two images a rank) and of 1 (none on rank 1); the ranks stay bit-identical; a stop asked
/// on one rank stops both after the same step, rank 0 alone writes, and a two-rank resume
/// finishes with the one-process run's losses.
final class PriorDataParallelTests: XCTestCase {
    typealias Step = PriorTrainingStepTests

    /// A global batch of 8 real faces in [-1, 1].
    static var real: [Float] {
        var rng = SplitMix(seed: 17)
        return (0..<(8 * 3 * 32 * 32)).map { _ in 2 * rng.unit() - 1 }
    }

    /// Both networks' gradient buffers by "network/tensor", copied.
    static func gradients(_ t: PriorTrainingStep) -> [String: FloatStorage] {
        var out: [String: FloatStorage] = [:]
        for (group, p) in [("generator", t.generatorParameters), ("discriminator", t.discriminatorParameters)] {
            for name in p.trained { out["\(group)/\(name)"] = try! FloatStorage(p.gradients[name]!.array) }
        }
        return out
    }

    /// Two steps of one process and of two ranks with R1 and the path-length term at every step
    /// (path batch 8 / `shrink`): after the first, both networks' gradients; the losses of both.
    func compareTwoRanks(shrink: Int) throws -> (losses: Float, gradients: Float) {
        let a = try Fixtures.Arrays("\(Step.root)/step.safetensors")
        var settings = Step.settings
        (settings.dRegEvery, settings.gRegEvery, settings.pathBatchShrink) = (1, 1, shrink)
        let real = Self.real
        let single = try Step.trainer(a, settings: settings, seed: 9)
        var expected = [try single.step(real: real, batch: 8)]
        let firstGradients = Self.gradients(single)
        expected.append(try single.step(real: real, batch: 8))
        XCTAssertNotNil(expected[0]["l_d_r1"], "an R1 step")
        XCTAssertNotNil(expected[0]["l_g_path"], "a path-length step")

        let ranks = try ThreadReducer.onTwoRanks { rank, reducer -> (losses: [[String: Float]], gradients: [String: FloatStorage], state: [UInt8]) in
            let t = try Step.trainer(a, settings: settings, seed: 9)
            try t.distribute(over: reducer, state: t.checkpoint())
            XCTAssertEqual(try t.rows(batch: 8), rank == 0 ? [0, 2, 4, 6] : [1, 3, 5, 7], "rank \(rank): one whole group of 4")
            let first = try t.step(real: real, batch: 8)
            let gradients = Self.gradients(t)
            return ([first, try t.step(real: real, batch: 8)], gradients, t.checkpoint())
        }
        let worstLoss = TwoRankChecks.compareLosses(ranks, expected, tolerance: 1e-4, what: "shrink \(shrink), ")
        var worstGradient: Float = 0
        for group in ["generator", "discriminator"] {
            let names = firstGradients.keys.filter { $0.hasPrefix(group + "/") }
            let error = EnhancerDataParallelTests.relative(ranks[0].gradients, firstGradients, Array(names))
            worstGradient = max(worstGradient, error)
            XCTAssertLessThanOrEqual(error, 1e-4, "shrink \(shrink), \(group): the 2-rank gradient differs from the whole batch's by \(error) of its largest")
        }
        print("prior data-parallel step, 2 ranks against 1 process, batch 8, path batch \(max(1, 8 / shrink)): losses relative \(worstLoss), gradients relative \(worstGradient)")
        return (worstLoss, worstGradient)
    }

    func testTwoRanksStepAsOneProcessWithThePathBatchShared() throws {
        _ = try compareTwoRanks(shrink: 2)
    }

    func testTwoRanksStepAsOneProcessWithARankWithoutPathImages() throws {
        _ = try compareTwoRanks(shrink: 8)
    }

    func testABatchWithoutAGroupPerRankIsRefused() throws {
        let root = Fixtures.temporaryDirectory("prior-data-parallel-refused")
        defer { Fixtures.removeDirectory(root) }
        try EnhancerTrainingSessionTests.writeFaces("\(root)/faces", count: 6)
        let errors = try ThreadReducer.onTwoRanks { _, reducer -> String in
            do {
                _ = try self.session("x", root: root, steps: 1, batch: 4, reducer: reducer)
                return "trained"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(errors.allSatisfy { $0.contains("at least 8") }, "both ranks refuse a batch of 4 naming one that would do: \(errors)")
    }

    func session(_ dir: String, root: String, steps: Int, resume: Bool = false, batch: Int? = 8, reducer: GradientReducer? = nil)
        throws -> PriorTrainingSession {
        var o = PriorTrainingSession.Options()
        (o.steps, o.batchSize, o.checkpointEvery, o.resume, o.sheetSamples) = (steps, resume ? nil : batch, 2, resume, 4)
        o.checkpointDirectory = "\(root)/\(dir)"
        var recipe = PriorTrainingSession.Recipe()
        recipe.widths = .tiny
        return try PriorTrainingSession(faces: "\(root)/faces", options: o, recipe: recipe, reducer: reducer, fingerprint: "test")
    }

    /// A straight 4-step run in one process (a path-length step at 4); on two ranks, a stop
    /// asked on rank 1 only before step 3 stops both after step 2, rank 0 alone writes, and a
    /// two-rank resume finishes: the log's losses equal the one-process run's.
    func testSessionStopsTogetherAndResumesOnTwoRanks() throws {
        let root = Fixtures.temporaryDirectory("prior-data-parallel")
        defer { Fixtures.removeDirectory(root) }
        try EnhancerTrainingSessionTests.writeFaces("\(root)/faces", count: 10)
        let (straight, worst) = try TwoRankChecks.stopAndResume(root: root, steps: 4, compared: { Array($0.keys) }) {
            try self.session($0, root: root, steps: 4, resume: $1, reducer: $2)
        }
        XCTAssertNotNil(straight[3]["l_g_path"], "step 4 is a path-length step")
        let sheets = try FileManager.default.contentsOfDirectory(atPath: "\(root)/two/samples").sorted()
        XCTAssertEqual(sheets, ["step-000002.png", "step-000004.png"], "rank 0 writes each sheet once")
        print("prior data-parallel session, 4 steps with a stop and a resume: losses relative to one process \(worst)")
    }
}
