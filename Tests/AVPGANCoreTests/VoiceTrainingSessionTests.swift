@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `VoiceEncoderTrainingSession` (train-voice's loop): the checkpoint cadence, the JSONL log, a
/// stop that saves, and a resume that continues the log and lands on the straight run's bytes.
final class VoiceTrainingSessionTests: XCTestCase {
    var root = ""

    /// `voices/<id>/<k>.wav`: 3 speakers with 2 tones each (1.5 and 2 s).
    override func setUpWithError() throws {
        root = Fixtures.temporaryDirectory("session")
        Fixtures.writeToneSpeakers(root, tones: [2, 2, 2])
    }

    override func tearDown() { Fixtures.removeDirectory(root) }

    func session(_ dir: String, steps: Int, resume: Bool = false) throws -> VoiceEncoderTrainingSession {
        var o = VoiceEncoderTrainingSession.Options()
        o.steps = steps
        o.batchSize = 4
        o.checkpointEvery = 2
        o.checkpointDirectory = "\(root)/\(dir)"
        o.resume = resume
        o.widths = .tiny
        let index = try DatasetIndex(voices: "\(root)/voices", faces: nil)
        let cache = try FeatureCache(directory: "\(root)/cache", options: FrontEndOptions(vad: false))
        return try VoiceEncoderTrainingSession(options: o, index: index, cache: cache)
    }

    func logSteps(_ dir: String) throws -> [Int] {
        let text = String(decoding: try FileIO.read("\(root)/\(dir)/\(VoiceEncoderTrainingSession.logName)"), as: UTF8.self)
        return text.split(separator: "\n").map { line in
            let after = line.split(separator: ":")[1]
            return Int(String(after.split(separator: ",")[0]).trimmingWhitespace)!
        }
    }

    func testStopSavesAndResumeContinuesBitIdentically() throws {
        let straight = try session("A", steps: 4)
        var reports: [VoiceEncoderTrainingSession.StepReport] = []
        XCTAssertTrue(try straight.train(onStep: { reports.append($0) }))
        XCTAssertEqual(reports.map(\.step), [1, 2, 3, 4], "one report per step")
        XCTAssertTrue(reports.allSatisfy { $0.loss.isFinite && (0...1).contains($0.runningAccuracy) && $0.batchSize == 4 })
        XCTAssertEqual(try logSteps("A"), [1, 2, 3, 4], "one log line per step")

        let stopped = try session("B", steps: 4)
        var asked = 0
        XCTAssertFalse(try stopped.train(shouldStop: { asked += 1; return asked > 3 }), "a stop ends the run early")
        XCTAssertEqual(stopped.run.step, 3, "three steps before the fourth question said stop")
        XCTAssertEqual(try logSteps("B"), [1, 2, 3], "the stop saves the log")
        let resumed = try session("B", steps: 4, resume: true)
        XCTAssertEqual(resumed.firstStep, 3, "the stop saved the checkpoint of step 3")
        XCTAssertTrue(try resumed.train())
        XCTAssertEqual(try logSteps("B"), [1, 2, 3, 4], "the log continues across the resume")
        XCTAssertEqual(try FileIO.read("\(root)/A/\(VoiceEncoderTrainingSession.checkpointName)"),
                       try FileIO.read("\(root)/B/\(VoiceEncoderTrainingSession.checkpointName)"),
                       "stopped and resumed lands on the straight run's checkpoint")
    }

    func testOptionsAreChecked() throws {
        var o = VoiceEncoderTrainingSession.Options()
        o.batchSize = 1
        let index = try DatasetIndex(voices: "\(root)/voices", faces: nil)
        let cache = try FeatureCache(directory: "\(root)/cache")
        XCTAssertThrowsError(try VoiceEncoderTrainingSession(options: o, index: index, cache: cache), "batch size 1")
        o.batchSize = 4
        o.resume = true
        XCTAssertThrowsError(try VoiceEncoderTrainingSession(options: o, index: index, cache: cache), "resume without a checkpoint")
    }
}
