@testable import AVPGANCore
import XCTest

/// `PriorTrainingSession` (`avpgan train-prior`'s loop) at 32 px with tiny widths: a stop that
/// saves and a resume at another thread count that lands on the straight run's checkpoint and
/// prior file, the log and the sample sheets, the export read back as a prior that starts a new
/// enhancer's decoder (and is refused by one of other widths), a non-finite loss that keeps the
/// last checkpoint, training in pieces with the checkpoint kept elsewhere (as the C handle does),
/// and the set-up's refusals.
final class PriorTrainingSessionTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = Fixtures.temporaryDirectory("prior-session")
        try EnhancerTrainingSessionTests.writeFaces("\(root)/faces", count: 6)
    }

    override func tearDown() {
        try? Threads.set(0)
        Fixtures.removeDirectory(root)
    }

    func session(_ dir: String, steps: Int, resume: Bool = false, lr: Double? = nil, every: Int = 2, batch: Int? = nil,
                 truncation: Float = 1, faces: String? = nil) throws -> PriorTrainingSession {
        var o = PriorTrainingSession.Options()
        (o.steps, o.batchSize, o.checkpointEvery, o.resume) = (steps, batch, every, resume)
        o.checkpointDirectory = "\(root)/\(dir)"
        (o.sheetSamples, o.truncation) = (4, truncation)
        var recipe = PriorTrainingSession.Recipe()
        (recipe.widths, recipe.lr) = (.tiny, lr)
        return try PriorTrainingSession(faces: faces ?? "\(root)/faces", options: o, recipe: recipe)
    }

    func checkpoint(_ dir: String) throws -> [UInt8] { try FileIO.read("\(root)/\(dir)/\(PriorTrainingSession.checkpointName)") }

    func logSteps(_ dir: String) throws -> [Int] {
        let text = String(decoding: try FileIO.read("\(root)/\(dir)/\(PriorTrainingSession.logName)"), as: UTF8.self)
        return try text.split(separator: "\n").map { line in
            let value = try JSON.parse(String(line))
            XCTAssertNotNil(value["l_d"]?.doubleValue, "a log line without upstream's l_d: \(line)")
            XCTAssertNotNil(value["l_g"]?.doubleValue, "a log line without upstream's l_g: \(line)")
            return Int(try XCTUnwrap(value["step"]?.integerValue, "no step in \(line)"))
        }
    }

    func testStopSavesAndResumeLandsOnTheStraightRunAtAnotherThreadCount() throws {
        try Threads.set(1)
        let straight = try session("A", steps: 4)
        var reports: [PriorTrainingSession.StepReport] = []
        XCTAssertEqual(try straight.train(onStep: { reports.append($0) }), .finished)
        XCTAssertEqual(reports.map(\.step), [1, 2, 3, 4], "one report per step")
        XCTAssertEqual(reports.filter(\.checkpointed).map(\.step), [2, 4], "a checkpoint every 2 steps")
        XCTAssertTrue(reports.allSatisfy { r in ["l_d", "real_score", "fake_score", "l_g"].allSatisfy { r.losses[$0]?.isFinite == true } },
                      "each report carries upstream's finite losses: \(reports.map(\.losses))")
        XCTAssertNotNil(reports[3].losses["l_g_path"], "step 4 is a path-length step (net_g_reg_every 4)")
        XCTAssertEqual(try logSteps("A"), [1, 2, 3, 4])
        for step in [2, 4] {
            let sheet = try PNGCodec.decodeRGB8(try FileIO.read("\(root)/A/samples/step-00000\(step).png"))
            XCTAssertEqual([sheet.width, sheet.height], [4 * 32 + 5 * 2, 32 + 2 * 2], "step \(step)'s sheet is one row of 4 samples")
        }
        XCTAssertNotEqual(try straight.samplesPNG(), try session("T", steps: 0, truncation: 0).samplesPNG(),
                          "truncation 0 gave the untruncated sheet")

        try Threads.set(2)
        let stopped = try session("B", steps: 4)
        var asked = 0
        XCTAssertEqual(try stopped.train(shouldStop: { asked += 1; return asked > 3 }), .stopped, "a stop ends the run early")
        XCTAssertEqual(stopped.step, 3, "three steps before the fourth question said stop")
        let resumed = try session("B", steps: 4, resume: true)
        XCTAssertEqual(resumed.firstStep, 3, "the stop saved the checkpoint of step 3")
        XCTAssertEqual(try resumed.train(), .finished)
        XCTAssertEqual(try logSteps("B"), [1, 2, 3, 4], "the log continues across the resume")
        XCTAssertEqual(try checkpoint("A"), try checkpoint("B"), "stopped at 2 threads and resumed lands on the straight run's checkpoint at 1 thread")

        try straight.export(to: "\(root)/A.safetensors")
        try resumed.export(to: "\(root)/B.safetensors")
        XCTAssertEqual(try FileIO.read("\(root)/A.safetensors"), try FileIO.read("\(root)/B.safetensors"), "the exported priors differ")
        let prior = try PriorFile.read(path: "\(root)/A.safetensors")
        XCTAssertEqual(prior.config, straight.config, "the export does not read back as the trained prior")
        for (name, values) in prior.tensors { XCTAssertEqual(values, straight.trainer.ema[name]!.array, "prior tensor \(name) is not the EMA's") }

        // The prior starts a new enhancer's decoder (a session's recipe), and one of other widths refuses it.
        var recipe = EnhancerTrainingSession.Recipe()
        (recipe.widths, recipe.priorPath, recipe.losses) = (.tiny, "\(root)/A.safetensors", try EnhancerLossWeights(parsing: "perceptual=0,perceptualStyle=0"))
        let (tensors, config) = try EnhancerTrainingSession.generator(recipe, size: 32)
        XCTAssertEqual(config.prior, prior.config)
        for (name, values) in prior.tensors {
            XCTAssertEqual(tensors["stylegan_decoder.\(name)"], values, "decoder tensor \(name) is not the prior's")
        }
        recipe.widths = .small
        XCTAssertThrowsError(try EnhancerTrainingSession.generator(recipe, size: 32)) { error in
            XCTAssertTrue("\(error)".contains("does not fit") && "\(error)".contains("narrow 0.015625"), "the refusal does not say what the prior is: \(error)")
        }
        (recipe.widths, recipe.initPath) = (.tiny, "\(root)/A.safetensors")
        XCTAssertThrowsError(try EnhancerTrainingSession.generator(recipe, size: 32)) { error in
            XCTAssertTrue("\(error)".contains("give one of them"), "a prior with an enhancer to fine-tune was not refused: \(error)")
        }
    }

    /// A learning rate of 1e30 blows the networks up within the first step (the
    /// discriminator's update makes the generator's loss NaN): the run ends with no checkpoint.
    /// A run checkpointed at step 1 whose checkpoint is then given that learning rate diverges
    /// at step 2 on resuming, and the checkpoint on disk stays step 1's, untouched.
    func testNonFiniteLossKeepsTheLastGoodCheckpoint() throws {
        let first = try session("N", steps: 3, lr: 1e30, every: 1)
        guard case .diverged(1, let message, nil) = try first.train() else { return XCTFail("lr 1e30 did not diverge at step 1") }
        XCTAssertTrue(message.contains("nan") || message.contains("inf"), "the message names the value: \(message)")
        XCTAssertTrue(message.contains("no checkpoint was written"), "the message says nothing was kept: \(message)")

        _ = try session("M", steps: 1).train()
        let file = try Safetensors(bytes: try checkpoint("M"))
        var metadata = file.metadata
        metadata["avpgan.prior_training.adam"] = "1e+30,1e+30,0.0,0.99,1e-08"
        let tensors = try file.entries.map { SafetensorsWriter.Tensor(name: $0.name, shape: $0.shape, floats: try file.floats($0)) }
        let poisoned = SafetensorsWriter.serialize(tensors, metadata: metadata)
        try FileIO.write(poisoned, to: "\(root)/M/\(PriorTrainingSession.checkpointName)")
        let outcome = try session("M", steps: 3, resume: true, every: 1).train()
        guard case .diverged(2, let kept, 1) = outcome else { return XCTFail("the resumed run at lr 1e30 did not diverge at step 2: \(outcome)") }
        XCTAssertTrue(kept.contains("step 1 is kept"), "the message says what is kept: \(kept)")
        XCTAssertEqual(try checkpoint("M"), poisoned, "the checkpoint on disk is not step 1's")
        XCTAssertEqual(try logSteps("M"), [1], "the log has the good step")
    }

    /// A host that trains in pieces (`train(until:)`, as the C handle does) and keeps the
    /// checkpoint bytes elsewhere (`checkpoint()`, `Options.resumeFrom`) lands on the straight
    /// run: a piece saves nothing at its end, and the resumed run exports the same prior.
    func testPiecesAndACheckpointKeptElsewhereContinueTheRun() throws {
        let straight = try session("P", steps: 4, every: 100)
        XCTAssertEqual(try straight.train(), .finished)
        try straight.export(to: "\(root)/straight.safetensors")

        let pieces = try session("Q", steps: 4, every: 100)
        var reports: [Int] = []
        XCTAssertEqual(try pieces.train(until: 2, onStep: { reports.append($0.steps) }), .finished)
        XCTAssertEqual(pieces.step, 2, "the piece ends at its step")
        XCTAssertEqual(reports, [2, 2], "a piece reports its own end as the step count")
        XCTAssertNil(try? checkpoint("Q"), "a piece that ends before options.steps wrote a checkpoint")
        try FileIO.write(pieces.checkpoint(), to: "\(root)/kept.safetensors")
        var o = PriorTrainingSession.Options()
        (o.steps, o.batchSize, o.checkpointEvery, o.resume, o.resumeFrom) = (4, nil, 100, true, "\(root)/kept.safetensors")
        let resumed = try PriorTrainingSession(faces: "\(root)/faces", options: o)
        XCTAssertEqual(resumed.firstStep, 2, "resumeFrom did not continue the kept checkpoint")
        XCTAssertEqual(try resumed.train(), .finished)
        try resumed.export(to: "\(root)/pieces.safetensors")
        XCTAssertEqual(try FileIO.read("\(root)/pieces.safetensors"), try FileIO.read("\(root)/straight.safetensors"),
                       "two pieces and a kept checkpoint did not export the straight run's prior")
        o.resumeFrom = "\(root)/missing.safetensors"
        XCTAssertThrowsError(try PriorTrainingSession(faces: "\(root)/faces", options: o)) { error in
            XCTAssertTrue("\(error)".contains("missing.safetensors"), "the refusal does not name the missing file: \(error)")
        }
    }

    func testRefusals() throws {
        func refused(_ words: [String], _ make: () throws -> PriorTrainingSession, line: UInt = #line) {
            XCTAssertThrowsError(try make(), line: line) { error in
                for w in words { XCTAssertTrue("\(error)".contains(w), "'\(w)' not in: \(error)", line: line) }
            }
        }
        refused(["resuming needs"]) { try self.session("R", steps: 1, resume: true) }
        refused(["batch of 6", "groups"]) { try self.session("R", steps: 1, batch: 6) }
        refused(["truncation"]) { try self.session("R", steps: 1, truncation: .nan) }
        _ = try session("R", steps: 0).train()
        refused(["batches of 4", "not 2"]) { try self.session("R", steps: 1, resume: true, batch: 2) }
        try EnhancerTrainingSessionTests.writeFaces("\(root)/other", count: 7, seed: 6)
        refused(["another face folder", "7"]) { try self.session("R", steps: 1, resume: true, faces: "\(self.root)/other") }
    }
}
