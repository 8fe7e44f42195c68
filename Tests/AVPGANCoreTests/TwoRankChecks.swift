@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What the two-rank stop-and-resume check needs of a face-folder session
/// (`EnhancerTrainingSession`, `PriorTrainingSession`).
protocol TwoRankTrainingSession: AnyObject {
    associatedtype StepReport
    static var logName: String { get }
    var step: Int { get }
    var firstStep: Int { get }
    func train(until: Int?, onStep: (StepReport) -> Void, shouldStop: () -> Bool) throws -> TrainingSessionOutcome
    func export(to path: String) throws
    /// A step report's losses under upstream's log names.
    static func losses(_ report: StepReport) -> [String: Float]
}

extension EnhancerTrainingSession: TwoRankTrainingSession {
    static func losses(_ report: StepReport) -> [String: Float] { report.losses }
}

extension PriorTrainingSession: TwoRankTrainingSession {
    static func losses(_ report: StepReport) -> [String: Float] { report.losses }
}

/// The checks the enhancer's and the prior's data-parallel tests (`EnhancerDataParallelTests`,
/// `PriorDataParallelTests`) make alike, on two in-process ranks (`ThreadReducer`).
enum TwoRankChecks {
    /// The data-parallel sessions' shared check: a straight run of `steps` steps in one process
    /// (folder `<root>/one`); on two ranks (folder `<root>/two`), a stop asked on rank 1 only before
    /// step 3 stops both after step 2; a two-rank resume finishes with both ranks reporting the same
    /// losses, rank 0 alone exporting; rank 0's log has every step once, and its losses named in
    /// `compared(straight step's losses)` equal the straight run's within 1e-4 (relative).
    /// `session(folder, resume, reducer)` makes a session of `steps` steps. Returns the straight
    /// run's losses, step by step, and the largest relative difference.
    static func stopAndResume<S: TwoRankTrainingSession>(root: String, steps: Int, compared: ([String: Float]) -> [String],
                                                         session: @escaping (String, Bool, GradientReducer?) throws -> S) throws
        -> (straight: [[String: Float]], worst: Double) {
        var straight: [[String: Float]] = []
        XCTAssertEqual(try session("one", false, nil).train(until: nil, onStep: { straight.append(S.losses($0)) }, shouldStop: { false }),
                       .finished)
        let stopped = try ThreadReducer.onTwoRanks { rank, reducer -> (TrainingSessionOutcome, Int) in
            let s = try session("two", false, reducer)
            var asked = 0
            let outcome = try s.train(until: nil, onStep: { _ in }, shouldStop: { asked += 1; return rank == 1 && asked == 3 })
            return (outcome, s.step)
        }
        XCTAssertEqual(stopped.map(\.0), [.stopped, .stopped], "a stop asked on rank 1 stops both ranks")
        XCTAssertEqual(stopped.map(\.1), [2, 2], "both ranks stop after the same step")
        var resumed: [[[String: Float]]] = [[], []]
        let finished = try ThreadReducer.onTwoRanks { rank, reducer -> TrainingSessionOutcome in
            let s = try session("two", true, reducer)
            XCTAssertEqual(s.firstStep, 2, "rank \(rank) resumes from the stop's checkpoint")
            var mine: [[String: Float]] = []
            let outcome = try s.train(until: nil, onStep: { mine.append(S.losses($0)) }, shouldStop: { false })
            resumed[rank] = mine
            try s.export(to: "\(root)/two-rank\(rank).safetensors")
            return outcome
        }
        XCTAssertEqual(finished, [.finished, .finished])
        XCTAssertEqual(resumed[0], resumed[1], "both ranks report the same losses")
        XCTAssertTrue(access("\(root)/two-rank0.safetensors", F_OK) == 0 && access("\(root)/two-rank1.safetensors", F_OK) != 0,
                      "rank 0 alone exports")
        let log = String(decoding: try FileIO.read("\(root)/two/\(S.logName)"), as: UTF8.self)
        let lines = try log.split(separator: "\n").map { try JSON.parse(String($0)) }.filter { $0["validation"] == nil }
        XCTAssertEqual(lines.compactMap { $0["step"]?.integerValue }, (1...steps).map(Int64.init), "rank 0's log has every step once")
        var worst = 0.0
        for (line, want) in zip(lines, straight) {
            for name in compared(want) {
                let got = try XCTUnwrap(line[name]?.doubleValue, "step \(line["step"]!): \(name) is logged")
                let value = Double(try XCTUnwrap(want[name], "\(name) is reported"))
                worst = max(worst, abs(got - value) / max(abs(value), 1e-3))
            }
        }
        XCTAssertLessThanOrEqual(worst, 1e-4, "the two-rank run's losses differ from one process's by \(worst) (relative)")
        return (straight, worst)
    }

    /// The two ranks' `ranks` (each: its losses step by step, its gradients after the first
    /// step, its checkpoint after the last) against one process's `expected` losses: the ranks'
    /// checkpoints and losses are the same bits; every step has the same loss terms, each within
    /// `tolerance` relative (to max(|value|, 1e-3); `what` begins the messages). Returns the
    /// largest relative difference.
    static func compareLosses(_ ranks: [(losses: [[String: Float]], gradients: [String: FloatStorage], state: [UInt8])],
                              _ expected: [[String: Float]], tolerance: Float, what: String = "") -> Float {
        XCTAssertTrue(ranks[0].state == ranks[1].state, "the two ranks' checkpoints differ after two steps")
        XCTAssertEqual(ranks[0].losses, ranks[1].losses, "both ranks report the same (global) losses")
        var worst: Float = 0
        for (step, want) in expected.enumerated() {
            XCTAssertEqual(Set(ranks[0].losses[step].keys), Set(want.keys), "step \(step + 1): the same loss terms")
            for (name, value) in want {
                let got = ranks[0].losses[step][name]!, error = abs(got - value) / max(abs(value), 1e-3)
                worst = max(worst, error)
                XCTAssertLessThanOrEqual(error, tolerance, "\(what)step \(step + 1) \(name): 2 ranks \(got), 1 process \(value)")
            }
        }
        return worst
    }
}
