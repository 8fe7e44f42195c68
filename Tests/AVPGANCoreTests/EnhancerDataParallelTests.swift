@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Data-parallel enhancer training: two ranks (in-process `ThreadReducer`s), each on its rows of
/// every global batch of 8 (whole minibatch-stddev groups, `EnhancerBatchShare`), train as one
/// process on the whole batch to float summation order: the step's gradients of every network,
/// its losses (R1 step included), and a session's log; the ranks stay bit-identical to each
/// other; a stop asked on one rank stops both after the same step; rank 0 alone writes; and a
/// stopped two-rank run resumes on two ranks.
final class EnhancerDataParallelTests: XCTestCase {
    typealias Step = EnhancerTrainingStepTests

    /// The largest |a − b| over the largest |b| of all of `names` in two tensor sets.
    static func relative(_ a: [String: FloatStorage], _ b: [String: FloatStorage], _ names: [String]) -> Float {
        var d: Float = 0, scale: Float = 0
        for n in names {
            let x = a[n]!.array, y = b[n]!.array
            d = max(d, zip(x, y).map { abs($0 - $1) }.max() ?? 0)
            scale = max(scale, y.map { abs($0) }.max() ?? 0)
        }
        return d / max(scale, 1e-30)
    }

    /// The fixture's steps 1...3 (two faces each) and step 1 with input and truth swapped, as
    /// one batch of 8, with landmarks.
    func globalBatch(_ a: Fixtures.Arrays) throws -> EnhancerTrainingBatch {
        var parts = try (1...3).map { try Step.batch(a, step: $0).0 }
        parts.append(EnhancerTrainingBatch(inputs: parts[0].truths, truths: parts[0].inputs, count: 2, components: parts[0].components))
        return EnhancerTrainingBatch(inputs: parts.flatMap(\.inputs), truths: parts.flatMap(\.truths), count: 8,
                                     components: parts.flatMap { $0.components! })
    }

    func testShareKeepsTheDiscriminatorGroupsWhole() throws {
        XCTAssertEqual(try EnhancerBatchShare.rows(batch: 8, group: 4, rank: 0, size: 2), [0, 2, 4, 6], "set 0 of groups {k·2 + s}")
        XCTAssertEqual(try EnhancerBatchShare.rows(batch: 8, group: 4, rank: 1, size: 2), [1, 3, 5, 7])
        XCTAssertEqual(try EnhancerBatchShare.rows(batch: 5, group: nil, rank: 1, size: 2), [3, 4], "no discriminator: BatchSlice's rows")
        XCTAssertThrowsError(try EnhancerBatchShare.rows(batch: 4, group: 4, rank: 0, size: 2)) { error in
            XCTAssertTrue("\(error)".contains("at least 8"), "the refusal names a batch that would do: \(error)")
        }
    }

    /// Two steps (the second regularised by R1) of one process on the batch of 8 and of two ranks
    /// on 4 rows each: the same losses and, after the first step, the same gradients of the
    /// generator, the face discriminator and the three component discriminators.
    func testTwoRanksStepAsOneProcessOnTheWholeBatch() throws {
        let a = try Fixtures.Arrays("\(Step.root)/step.safetensors")
        let batch = try globalBatch(a)
        let single = try Step.trainer(a, seed: 3)
        var expected: [[String: Float]] = []
        expected.append(try single.step(batch))
        let firstGradients = single.allGradients().mapValues { try! FloatStorage($0.array) }
        expected.append(try single.step(batch))
        XCTAssertNotNil(expected[1]["l_d_r1"], "step 2 is an R1 step")

        let ranks = try ThreadReducer.onTwoRanks { rank, reducer -> (losses: [[String: Float]], gradients: [String: FloatStorage], state: [UInt8]) in
            let t = try Step.trainer(a, seed: 3)
            try t.distribute(over: reducer, state: t.checkpoint())
            let first = try t.step(batch)
            let gradients = t.allGradients().mapValues { try! FloatStorage($0.array) }
            return ([first, try t.step(batch)], gradients, t.checkpoint())
        }
        let worstLoss = TwoRankChecks.compareLosses(ranks, expected, tolerance: 1e-5)
        var worstGradient: Float = 0
        for (group, names) in single.gradientGroups {
            let error = Self.relative(ranks[0].gradients, firstGradients, names)
            worstGradient = max(worstGradient, error)
            XCTAssertLessThanOrEqual(error, 1e-5, "\(group): the 2-rank gradient differs from the whole batch's by \(error) of its largest")
        }
        print("enhancer data-parallel step, 2 ranks against 1 process, batch 8: losses relative \(worstLoss), gradients relative \(worstGradient)")
    }

    func session(_ dir: String, root: String, steps: Int, resume: Bool = false, reducer: GradientReducer? = nil)
        throws -> EnhancerTrainingSession {
        var o = EnhancerTrainingSession.Options()
        o.steps = steps
        o.batchSize = resume ? nil : 8
        o.checkpointEvery = 2
        o.checkpointDirectory = "\(root)/\(dir)"
        o.resume = resume
        o.sheetRows = 1
        var recipe = EnhancerTrainingSession.Recipe()
        recipe.widths = .tiny
        recipe.perceptualPath = EnhancerTrainingSessionTests.vgg
        recipe.validationFraction = 0.2
        return try EnhancerTrainingSession(faces: "\(root)/faces", options: o, recipe: recipe, reducer: reducer, fingerprint: "test")
    }

    /// A straight 3-step run in one process; on two ranks, a stop asked on rank 1 only before
    /// step 3 stops both after step 2, rank 0 alone writes, and a two-rank resume finishes:
    /// the log's losses equal the one-process run's.
    func testSessionStopsTogetherAndResumesOnTwoRanks() throws {
        let root = Fixtures.temporaryDirectory("enhancer-data-parallel")
        defer { Fixtures.removeDirectory(root) }
        try EnhancerTrainingSessionTests.writeFaces("\(root)/faces", count: 10)
        let (_, worst) = try TwoRankChecks.stopAndResume(root: root, steps: 3,
                                                               compared: { _ in ["l_g_pix", "l_g_percep", "l_g_gan", "l_d", "l_d_left_eye"] }) {
            try self.session($0, root: root, steps: 3, resume: $1, reducer: $2)
        }
        print("enhancer data-parallel session, 3 steps with a stop and a resume: losses relative to one process \(worst)")
    }
}

extension EnhancerTrainingStep {
    /// Every network's gradient buffers by "network/tensor".
    func allGradients() -> [String: FloatStorage] {
        var out: [String: FloatStorage] = [:]
        for (group, p) in optimized { for (name, g) in p.gradients { out["\(group)/\(name)"] = g } }
        return out
    }

    /// The gradient names of each network.
    var gradientGroups: [(String, [String])] { optimized.map { group, p in (group, p.trained.map { "\(group)/\($0)" }) } }

    private var optimized: [(String, OptimizedParameters)] {
        [("generator", generatorParameters)] + (discriminatorParameters.map { [("face discriminator", $0)] } ?? [])
            + componentParameters.enumerated().map { ("\(Self.componentNames[$0.offset]) discriminator", $0.element) }
    }
}
