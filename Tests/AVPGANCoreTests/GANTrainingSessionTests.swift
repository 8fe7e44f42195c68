@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `GANTrainingSession` (`avpgan train`'s loop): the checkpoint cadence, the JSONL log with its
/// health fields, the sample sheets, a stop that saves, a resume that continues the log and lands
/// on the straight run's checkpoint, and --stop-on-collapse keeping the last healthy checkpoint.
final class GANTrainingSessionTests: XCTestCase {
    var root = ""

    /// `voices/<id>/<k>.wav` (3 speakers, 2 tones each) and `faces/<id>/0.png` (a flat colour each).
    override func setUpWithError() throws {
        root = Fixtures.temporaryDirectory("gan-session")
        Fixtures.writeToneSpeakers(root, tones: [2, 2, 2])
        mkdir("\(root)/faces", 0o755)
        for i in 0..<3 {
            mkdir("\(root)/faces/s\(i)", 0o755)
            let pixels = [UInt8](repeating: UInt8(40 + 80 * i), count: 64 * 64 * 3)
            try FileIO.write(try PNGCodec.encodeRGB8(pixels, width: 64, height: 64), to: "\(root)/faces/s\(i)/0.png")
        }
    }

    override func tearDown() { Fixtures.removeDirectory(root) }

    func session(_ dir: String, steps: Int, resume: Bool = false, stopOnCollapse: Bool = false,
                 warmUp: Int = TrainingHealth.defaultWarmUp) throws -> GANTrainingSession {
        var o = GANTrainingSession.Options()
        o.steps = steps
        o.batchSize = 4
        o.checkpointEvery = 2
        o.samplesEvery = 2
        o.checkpointDirectory = "\(root)/\(dir)"
        o.resume = resume
        o.stopOnCollapse = stopOnCollapse
        var recipe = GANTrainingSession.Recipe()
        recipe.widths = .tiny
        recipe.voiceEncoderFile = "\(Fixtures.golden("avpgan"))/model.safetensors"
        recipe.healthWarmUp = warmUp
        let index = try DatasetIndex(voices: "\(root)/voices", faces: "\(root)/faces")
        let cache = try FeatureCache(directory: "\(root)/cache", options: FrontEndOptions(vad: false))
        return try GANTrainingSession(options: o, recipe: recipe, index: index, cache: cache)
    }

    /// The `step` field of each line of `dir`'s log.
    func logSteps(_ dir: String) throws -> [Int] {
        let text = String(decoding: try FileIO.read("\(root)/\(dir)/\(GANTrainingSession.logName)"), as: UTF8.self)
        return try text.split(separator: "\n").map { line in
            guard let step = try JSON.parse(String(line))["step"]?.integerValue else { throw AVPGANError.invalid("no step in \(line)") }
            return Int(step)
        }
    }

    func testStopSavesAndResumeContinuesBitIdentically() throws {
        let straight = try session("A", steps: 4)
        var reports: [GANTrainingSession.StepReport] = []
        XCTAssertEqual(try straight.train(onStep: { reports.append($0) }), .finished)
        XCTAssertEqual(reports.map(\.step), [1, 2, 3, 4], "one report per step")
        XCTAssertTrue(reports.allSatisfy { $0.losses.count == TrainingRun.lossNames.count && $0.losses.allSatisfy(\.isFinite) })
        XCTAssertEqual(try logSteps("A"), [1, 2, 3, 4], "one log line per step")
        let sheets = (1...4).filter { access("\(root)/A/\(GANTrainingSession.samplesFolder)/step-00000\($0).png", R_OK) == 0 }
        XCTAssertEqual(sheets, [2, 4], "a sample sheet every samplesEvery steps")

        let stopped = try session("B", steps: 4)
        var asked = 0
        XCTAssertEqual(try stopped.train(shouldStop: { asked += 1; return asked > 3 }), .stopped, "a stop ends the run early")
        XCTAssertEqual(stopped.run.step, 3, "three steps before the fourth question said stop")
        XCTAssertEqual(try logSteps("B"), [1, 2, 3], "the stop saves the log")
        let resumed = try session("B", steps: 4, resume: true)
        XCTAssertEqual(resumed.firstStep, 3, "the stop saved the checkpoint of step 3")
        XCTAssertEqual(try resumed.train(), .finished)
        XCTAssertEqual(try logSteps("B"), [1, 2, 3, 4], "the log continues across the resume")
        XCTAssertEqual(try FileIO.read("\(root)/A/\(GANTrainingSession.checkpointName)"),
                       try FileIO.read("\(root)/B/\(GANTrainingSession.checkpointName)"),
                       "stopped and resumed lands on the straight run's checkpoint")
    }

    /// Judged from step 3, a fresh generator's faces are all alike: collapse at step 3, so the
    /// checkpoint of step 2 is the last healthy one and the log has the step that raised it;
    /// resumed from that checkpoint, the log goes on from step 2 (one line per step).
    func testStopOnCollapseKeepsTheLastHealthyCheckpoint() throws {
        let s = try session("C", steps: 10, stopOnCollapse: true, warmUp: 3)
        var raised: [TrainingHealth.Warning] = []
        XCTAssertEqual(try s.train(onStep: { raised += $0.newWarnings.map(\.warning) }), .collapsed(lastHealthyCheckpoint: 2))
        XCTAssertEqual(s.run.step, 3)
        XCTAssertTrue(raised.contains(.collapse), "the step report carries the new warning: \(raised)")
        XCTAssertEqual(try logSteps("C"), [1, 2, 3])
        let kept = try TrainingCheckpoint(bytes: try FileIO.read("\(root)/C/\(GANTrainingSession.checkpointName)"))
        XCTAssertEqual(kept.step, 2, "the collapsed step is not saved over the healthy checkpoint")
        let resumed = try session("C", steps: 3, resume: true)
        XCTAssertEqual(try resumed.train(), .finished)
        XCTAssertEqual(try logSteps("C"), [1, 2, 3], "a resumed run's log drops the lines after its checkpoint's step")
    }

    func testOptionsAreChecked() throws {
        var o = GANTrainingSession.Options()
        o.batchSize = 0
        let index = try DatasetIndex(voices: "\(root)/voices", faces: "\(root)/faces")
        let cache = try FeatureCache(directory: "\(root)/cache")
        XCTAssertThrowsError(try GANTrainingSession(options: o, recipe: .init(), index: index, cache: cache), "batch size 0")
        o.batchSize = 4
        o.resume = true
        XCTAssertThrowsError(try GANTrainingSession(options: o, recipe: .init(), index: index, cache: cache), "resume without a checkpoint")
    }
}
