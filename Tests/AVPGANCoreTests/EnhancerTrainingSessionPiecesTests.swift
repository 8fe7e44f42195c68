@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `EnhancerTrainingSession` trained in pieces (`train(until:)`, as the C API's step and run do)
/// and resumed from a checkpoint file kept outside its folder (`Options.resumeFrom`): the same
/// enhancer as one straight run, and a piece that ends before `options.steps` saves nothing.
final class EnhancerTrainingSessionPiecesTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        // As the command and the C API do: OpenBLAS's own threads would make the runs differ.
        Threads.useSingleThreadedBLAS()
        root = Fixtures.temporaryDirectory("enhancer-session-pieces")
        try EnhancerTrainingSessionTests.writeFaces("\(root)/faces", count: 8)
    }

    override func tearDown() { Fixtures.removeDirectory(root) }

    func session(_ dir: String, resumeFrom: String? = nil) throws -> EnhancerTrainingSession {
        var o = EnhancerTrainingSession.Options()
        o.steps = 4
        o.checkpointEvery = 100
        o.checkpointDirectory = "\(root)/\(dir)"
        o.sheetRows = 0
        o.resume = resumeFrom != nil
        o.resumeFrom = resumeFrom
        var recipe = EnhancerTrainingSession.Recipe()
        recipe.widths = .tiny
        recipe.validationFraction = 0.25
        return try EnhancerTrainingSession(faces: "\(root)/faces", options: o, recipe: recipe)
    }

    func testPiecesAndACheckpointKeptElsewhereLandOnTheStraightRun() throws {
        let straight = try session("A")
        var straightLosses: [[String: Float]] = []
        XCTAssertEqual(try straight.train(onStep: { straightLosses.append($0.losses) }), .finished)
        try straight.export(to: "\(root)/A.safetensors")

        let first = try session("B")
        var reported: [Int] = []
        var pieceLosses: [[String: Float]] = []
        XCTAssertEqual(try first.train(until: 1, onStep: { reported.append($0.step); pieceLosses.append($0.losses) }), .finished)
        XCTAssertEqual(first.step, 1, "train(until: 1) stops after step 1")
        XCTAssertEqual(reported, [1])
        XCTAssertFalse(access("\(root)/B/\(EnhancerTrainingSession.checkpointName)", F_OK) == 0,
                       "a piece ending before options.steps (and off the checkpoint interval) must save nothing")
        try FileIO.write(first.checkpoint(), to: "\(root)/kept-elsewhere.safetensors")

        let resumed = try session("C", resumeFrom: "\(root)/kept-elsewhere.safetensors")
        XCTAssertEqual(resumed.firstStep, 1)
        XCTAssertEqual(try resumed.train(until: 3, onStep: { pieceLosses.append($0.losses) }), .finished)
        XCTAssertEqual(resumed.step, 3)
        XCTAssertEqual(try resumed.train(until: 99, onStep: { pieceLosses.append($0.losses) }), .finished,
                       "until beyond options.steps stops at options.steps")
        for (k, (a, b)) in zip(straightLosses, pieceLosses).enumerated() {
            XCTAssertEqual(a, b, "step \(k + 1): the pieces' losses are not the straight run's")
        }
        XCTAssertEqual(resumed.step, 4)
        XCTAssertTrue(access("\(root)/C/\(EnhancerTrainingSession.checkpointName)", F_OK) == 0, "reaching options.steps saves")
        try resumed.export(to: "\(root)/C.safetensors")
        XCTAssertEqual(try FileIO.read("\(root)/A.safetensors"), try FileIO.read("\(root)/C.safetensors"),
                       "1 step, a checkpoint kept elsewhere, 2 steps, 1 step: not the straight run's enhancer")
    }

    func testResumingFromAMissingFileSaysWhich() {
        XCTAssertThrowsError(try session("D", resumeFrom: "\(root)/nowhere.safetensors")) { error in
            let e = error as? AVPGANError
            XCTAssertEqual(e?.kind, .io)
            XCTAssertTrue(e?.message.contains("nowhere.safetensors") ?? false, "\(error)")
        }
    }
}
