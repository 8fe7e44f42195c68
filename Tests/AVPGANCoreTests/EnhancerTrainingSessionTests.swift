@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `EnhancerTrainingSession` (`avpgan train-enhancer`'s loop) at 32 px with tiny widths: the
/// checkpoint and validation cadence, the log, a stop that saves and a resume that lands on the
/// straight run's bytes at another thread count, a non-finite loss that keeps the last
/// checkpoint, a checkpoint write that fails (file size limit) leaving the previous one whole,
/// and the set-up's refusals.
final class EnhancerTrainingSessionTests: XCTestCase {
    var root = ""
    static let vgg = "\(Fixtures.root)/enhancer-step/vgg19-w32.safetensors"

    /// `faces/a/0..7.png`: procedural 64 px faces averaged down to 32 px.
    override func setUpWithError() throws {
        root = Fixtures.temporaryDirectory("enhancer-session")
        try Self.writeFaces("\(root)/faces", count: 8)
    }

    override func tearDown() {
        try? Threads.set(0)
        Fixtures.removeDirectory(root)
    }

    static func writeFaces(_ folder: String, count: Int, seed: UInt64 = 5) throws {
        try FileIO.makeDirectory(folder)
        try FileIO.makeDirectory("\(folder)/a")
        for (k, speaker) in SyntheticSpeaker.make(count: count, seed: seed).enumerated() {
            let big = try SyntheticFace.draw(speaker, index: 0, size: 64)
            var small = [UInt8](repeating: 0, count: 32 * 32 * 3)
            for y in 0..<32 { for x in 0..<32 { for c in 0..<3 {
                let sum = [(0, 0), (0, 1), (1, 0), (1, 1)].reduce(0) { $0 + Int(big[((2 * y + $1.0) * 64 + 2 * x + $1.1) * 3 + c]) }
                small[(y * 32 + x) * 3 + c] = UInt8((sum + 2) / 4)
            } } }
            try FileIO.write(try PNGCodec.encodeRGB8(small, width: 32, height: 32), to: "\(folder)/a/\(k).png")
        }
    }

    func session(_ dir: String, steps: Int, resume: Bool = false, lr: Double? = nil, every: Int = 2,
                 batch: Int? = nil, faces: String? = nil, degradation: FaceDegradation = FaceDegradation()) throws -> EnhancerTrainingSession {
        var o = EnhancerTrainingSession.Options()
        o.steps = steps
        o.batchSize = batch
        o.checkpointEvery = every
        o.checkpointDirectory = "\(root)/\(dir)"
        o.resume = resume
        o.sheetRows = 2
        var recipe = EnhancerTrainingSession.Recipe()
        recipe.widths = .tiny
        recipe.perceptualPath = Self.vgg
        recipe.lr = lr
        recipe.validationFraction = 0.25
        recipe.degradation = degradation
        return try EnhancerTrainingSession(faces: faces ?? "\(root)/faces", options: o, recipe: recipe)
    }

    func checkpoint(_ dir: String) throws -> [UInt8] { try FileIO.read("\(root)/\(dir)/\(EnhancerTrainingSession.checkpointName)") }

    /// The steps of the loss lines and of the validation lines of `dir`'s log.
    func logSteps(_ dir: String) throws -> (losses: [Int], validations: [Int]) {
        let text = String(decoding: try FileIO.read("\(root)/\(dir)/\(EnhancerTrainingSession.logName)"), as: UTF8.self)
        var out: ([Int], [Int]) = ([], [])
        for line in text.split(separator: "\n") {
            let value = try JSON.parse(String(line))
            guard let step = value["step"]?.integerValue else { throw AVPGANError.invalid("no step in \(line)") }
            if value["validation"] != nil { out.1.append(Int(step)) } else {
                XCTAssertNotNil(value["l_g_pix"]?.doubleValue, "a loss line without upstream's l_g_pix: \(line)")
                out.0.append(Int(step))
            }
        }
        return out
    }

    func testStopSavesAndResumeLandsOnTheStraightRunAtAnotherThreadCount() throws {
        try Threads.set(1)
        let straight = try session("A", steps: 4)
        XCTAssertTrue(straight.notes.contains { $0.contains("identity") }, "no face model: the identity loss is said to be off: \(straight.notes)")
        XCTAssertFalse(straight.losses.isEnabled(.identity))
        var reports: [EnhancerTrainingSession.StepReport] = []
        XCTAssertEqual(try straight.train(onStep: { reports.append($0) }), .finished)
        XCTAssertEqual(reports.map(\.step), [1, 2, 3, 4], "one report per step")
        XCTAssertTrue(reports.allSatisfy { r in ["l_g_pix", "l_g_percep", "l_g_gan", "l_d"].allSatisfy { r.losses[$0]?.isFinite == true } },
                      "each report carries upstream's finite losses: \(reports.map(\.losses))")
        XCTAssertEqual(reports.filter { $0.validation != nil }.map(\.step), [2, 4], "validation at each checkpoint")
        let v = try XCTUnwrap(reports.last?.validation)
        XCTAssertEqual(v.faces, 2)
        XCTAssertTrue(v.enhancerPSNR.isFinite && v.bicubicPSNR > 10, "validation numbers: \(v)")
        XCTAssertEqual(try logSteps("A").losses, [1, 2, 3, 4])
        XCTAssertEqual(try logSteps("A").validations, [2, 4])
        for step in [2, 4] {
            let sheet = try PNGCodec.decodeRGB8(try FileIO.read("\(root)/A/samples/step-00000\(step).png"))
            XCTAssertEqual([sheet.width, sheet.height], [3 * 32 + 4 * 2, 2 * 32 + 3 * 2], "step \(step)'s sheet is 2 rows of input | output | truth")
        }

        try Threads.set(2)
        let stopped = try session("B", steps: 4)
        var asked = 0
        XCTAssertEqual(try stopped.train(shouldStop: { asked += 1; return asked > 3 }), .stopped, "a stop ends the run early")
        XCTAssertEqual(stopped.step, 3, "three steps before the fourth question said stop")
        let resumed = try session("B", steps: 4, resume: true)
        XCTAssertEqual(resumed.firstStep, 3, "the stop saved the checkpoint of step 3")
        XCTAssertEqual(try resumed.train(), .finished)
        XCTAssertEqual(try logSteps("B").losses, [1, 2, 3, 4], "the log continues across the resume")
        XCTAssertEqual(try checkpoint("A"), try checkpoint("B"), "stopped at 2 threads and resumed lands on the straight run's checkpoint at 1 thread")

        try straight.export(to: "\(root)/A.safetensors")
        try resumed.export(to: "\(root)/B.safetensors")
        XCTAssertEqual(try FileIO.read("\(root)/A.safetensors"), try FileIO.read("\(root)/B.safetensors"), "the exported enhancers differ")
        let enhancer = try Enhancer(path: "\(root)/A.safetensors")
        XCTAssertEqual(enhancer.config, straight.config, "the export does not load as the trained enhancer")
    }

    /// A recipe's degradation makes the inputs, and a resumed run keeps its checkpoint's, not
    /// the one its recipe names.
    func testResumeKeepsTheRunsDegradation() throws {
        let mild = try FaceDegradation(parsing: "blur=0.2:1,downsample=1.5:2.5,noise=0:3,jpeg=90:100")
        let first = try session("D", steps: 1, every: 1, degradation: mild)
        XCTAssertEqual(first.degradation, mild)
        XCTAssertEqual(try first.train(), .finished)
        let resumed = try session("D", steps: 2, resume: true, every: 1)
        XCTAssertEqual(resumed.degradation, mild, "the resumed run took its recipe's degradation, not its checkpoint's")
        XCTAssertEqual(try resumed.train(), .finished)
        XCTAssertEqual(try session("E", steps: 2, every: 1, degradation: mild).train(), .finished)
        XCTAssertTrue(try checkpoint("D") == checkpoint("E"), "resumed with its recipe's degradation, the run left the straight mild run")
        XCTAssertEqual(try session("F", steps: 2, every: 1).train(), .finished)
        XCTAssertFalse(try checkpoint("E") == checkpoint("F"), "the recipe's degradation changed nothing: GFPGAN's made the same run")
    }

    /// A learning rate of 1e30 blows the weights up after one step: the next loss is not
    /// finite, the run ends, and the checkpoint on disk is the last good step's, untouched.
    func testNonFiniteLossKeepsTheLastGoodCheckpoint() throws {
        let s = try session("N", steps: 6, lr: 1e30, every: 1)
        var saved: [Int: [UInt8]] = [:]
        let outcome = try s.train(onStep: { r in saved[r.step] = try? self.checkpoint("N") })
        guard case .diverged(let step, let message, let last) = outcome else { return XCTFail("lr 1e30 did not diverge: \(outcome)") }
        XCTAssertGreaterThanOrEqual(step, 2)
        XCTAssertEqual(last, step - 1, "the last checkpoint is the step before: \(message)")
        XCTAssertTrue(message.contains("nan") || message.contains("inf"), "the message names the value: \(message)")
        XCTAssertTrue(message.contains("step \(step - 1) is kept"), "the message says what is kept: \(message)")
        XCTAssertEqual(try checkpoint("N"), saved[step - 1], "the checkpoint on disk is not step \(step - 1)'s")
        XCTAssertEqual(try logSteps("N").losses, Array(1..<step), "the log has the good steps")
        XCTAssertEqual(try session("N", steps: 6, resume: true).firstStep, step - 1, "the kept checkpoint does not resume")
    }

    /// A file size limit below the checkpoint's size makes its write fail as a full disk does
    /// (EFBIG instead of ENOSPC, through the same write path): the session says so, and the
    /// previous checkpoint is byte for byte the same, with no temporary file left beside it.
    func testFailedCheckpointWriteLeavesThePreviousOneIntact() throws {
        let s = try session("F", steps: 2, every: 1)
        var first: [UInt8] = [], saved = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        defer {
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
            signal(SIGXFSZ, oldHandler)
        }
        XCTAssertThrowsError(try s.train(onStep: { r in
            guard r.step == 1, let bytes = try? self.checkpoint("F") else { return }
            first = bytes
            var limit = saved
            limit.rlim_cur = rlim_t(bytes.count / 2)
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        })) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("step 2") && message.contains("step 1 is left as it was"), message)
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        XCTAssertFalse(first.isEmpty, "no checkpoint after step 1")
        XCTAssertEqual(try checkpoint("F"), first, "the failed write changed the previous checkpoint")
        let dir = try XCTUnwrap(opendir("\(root)/F"))
        defer { closedir(dir) }
        let left = DatasetIndex.entries(dir).filter { $0.contains(".tmp-") }
        XCTAssertEqual(left, [], "temporary files left behind")
    }

    func testRefusals() throws {
        func refused(_ words: [String], _ make: () throws -> EnhancerTrainingSession, line: UInt = #line) {
            XCTAssertThrowsError(try make(), line: line) { error in
                for w in words { XCTAssertTrue("\(error)".contains(w), "'\(w)' not in: \(error)", line: line) }
            }
        }
        refused(["resuming needs"]) { try self.session("R", steps: 1, resume: true) }
        refused(["batch of 6", "groups"]) { try self.session("R", steps: 1, batch: 6) }
        _ = try session("R", steps: 0).train()
        refused(["batches of 4", "not 2"]) { try self.session("R", steps: 1, resume: true, batch: 2) }
        try Self.writeFaces("\(root)/other", count: 8, seed: 6)
        try FileIO.write(try FileIO.read("\(root)/other/a/0.png"), to: "\(root)/other/a/extra.png")
        refused(["another face folder", "9"]) { try self.session("R", steps: 1, resume: true, faces: "\(self.root)/other") }
    }
}
