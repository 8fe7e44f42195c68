@testable import AVPGANCore
import XCTest

/// `EnhancerBatchSampler` and its prefetcher: seeded epochs, GFPGAN's mirroring with the
/// landmarks, determinism at any thread count; and the landmarks file with its refusals.
final class EnhancerBatchSamplerTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws { root = Fixtures.temporaryDirectory("batches") }
    override func tearDown() {
        try? Threads.set(0)
        Fixtures.removeDirectory(root)
    }

    /// No stage on: the input is the truth (already 8-bit levels).
    static var identity: FaceDegradation {
        var d = FaceDegradation()
        (d.blurSigma, d.downsample, d.noiseSigma, d.jpegQuality) = (nil, nil, nil, nil)
        return d
    }

    func testBatchesAreSeededAndTheSameAtAnyThreadCount() throws {
        try EnhancerFaceSetTests.writeFaces(root, folders: ["a", "b"], count: 4, size: 64)
        let set = try EnhancerFaceSet(folder: root)
        var degradation = FaceDegradation()
        degradation.kernelSize = 21
        func batches(threads: Int, seed: UInt64) throws -> [EnhancerBatch] {
            try Threads.set(threads)
            var sampler = EnhancerBatchSampler(faces: set, degradation: degradation, seed: seed)
            return try (0..<3).map { _ in try sampler.next(batch: 3) }
        }
        let one = try batches(threads: 1, seed: 4), two = try batches(threads: 2, seed: 4)
        for (a, b) in zip(one, two) {
            XCTAssertEqual(a.input, b.input, "degraded inputs differ between 1 and 2 threads")
            XCTAssertEqual(a.truth, b.truth)
            XCTAssertEqual(a.faces, b.faces)
        }
        XCTAssertNotEqual(one.map(\.input), try batches(threads: 2, seed: 5).map(\.input), "another seed gives other batches")
        XCTAssertNotEqual(one[0].input, one[0].truth, "the default degradation changes the input")
        for b in one {
            XCTAssertTrue((b.input + b.truth).allSatisfy { $0 >= -1 && $0 <= 1 }, "values outside [-1, 1]")
            XCTAssertEqual(b.input.count, 3 * 3 * 64 * 64)
        }

        // The position is the whole state: set back, the sampler and the prefetcher redraw the same.
        try Threads.set(2)
        var sampler = EnhancerBatchSampler(faces: set, degradation: degradation, seed: 4)
        sampler.position = 3
        XCTAssertEqual(try sampler.next(batch: 3).input, one[1].input, "position 3 does not redraw the second batch")
        let prefetcher = EnhancerBatchPrefetcher(EnhancerBatchSampler(faces: set, degradation: degradation, seed: 4))
        XCTAssertEqual(try prefetcher.next(batch: 3).input, one[0].input, "the prefetcher's first batch differs")
        XCTAssertEqual(try prefetcher.next(batch: 3).input, one[1].input, "the prefetcher's second batch differs")
        XCTAssertEqual(prefetcher.position, 6)
        prefetcher.position = 3
        XCTAssertEqual(try prefetcher.next(batch: 3).input, one[1].input, "a restored position does not redraw its batch")
    }

    func testEachEpochIsAShuffleOfTheTrainingFaces() throws {
        try EnhancerFaceSetTests.writeFaces(root, folders: ["a"], count: 6, size: 64)
        var options = EnhancerFaceSet.Options()
        options.validationFraction = 0.34
        let set = try EnhancerFaceSet(folder: root, options: options)
        XCTAssertEqual(set.training.count, 4)
        var sampler = EnhancerBatchSampler(faces: set, degradation: Self.identity, seed: 2)
        let drawn = try sampler.next(batch: 3).faces + sampler.next(batch: 5).faces
        XCTAssertEqual(Array(drawn[..<4]).sorted(), set.training, "epoch 0 is not a permutation of the training faces")
        XCTAssertEqual(Array(drawn[4...]).sorted(), set.training, "epoch 1 is not a permutation of the training faces")
        XCTAssertEqual(Array(drawn[..<4]), sampler.order(epoch: 0))
        XCTAssertNotEqual(sampler.order(epoch: 0), sampler.order(epoch: 1), "two epochs in the same order")
        XCTAssertEqual(sampler.epoch, 2)
        XCTAssertThrowsError(try sampler.next(batch: 0))
    }

    func testMirroringFlipsTheFaceAndItsLandmarksAsGFPGANDoes() throws {
        let paths = try EnhancerFaceSetTests.writeFaces(root, folders: ["a"], count: 4, size: 64)
        let entries = paths.enumerated().map { i, path in
            "\"\(path)\": {\"left_eye\": [\(20 + i), 26, 4], \"right_eye\": [44, 26.5, 4], \"mouth\": [32, 42, 6]}"
        }
        try FileIO.write(Array(("{" + entries.joined(separator: ", ") + "}").utf8), to: "\(root)/landmarks.json")
        let set = try EnhancerFaceSet(folder: root)
        XCTAssertTrue(set.hasLandmarksFile)
        var sampler = EnhancerBatchSampler(faces: set, degradation: Self.identity, seed: 3)
        let batch = try sampler.next(batch: 12)
        XCTAssertTrue(batch.mirrored.contains(true) && batch.mirrored.contains(false), "12 samples all mirrored alike: \(batch.mirrored)")
        let floats = 3 * 64 * 64
        for row in 0..<12 {
            let face = batch.faces[row], flip = batch.mirrored[row]
            let truth = Array(batch.truth[(row * floats)..<((row + 1) * floats)])
            XCTAssertEqual(truth, set.planes(face, mirrored: flip).map { $0 * 2 - 1 }, "row \(row)'s truth is not its face (mirrored: \(flip))")
            XCTAssertEqual(Array(batch.input[(row * floats)..<((row + 1) * floats)]), truth, "with no stage on the input is the truth")
            let c = batch.components[row]
            let leftX = Float(20 + face)
            if flip {
                XCTAssertEqual(c.leftEye, .init(centerX: 64 - 44, centerY: 26.5, halfLength: 4), "the mirrored left eye is the right eye at 64 - x")
                XCTAssertEqual(c.rightEye, .init(centerX: 64 - leftX, centerY: 26, halfLength: 4))
                XCTAssertEqual(c.mouth.centerX, 32)
            } else {
                XCTAssertEqual(c.leftEye, .init(centerX: leftX, centerY: 26, halfLength: 4))
            }
        }
        sampler.mirror = false
        XCTAssertFalse(try sampler.next(batch: 8).mirrored.contains(true), "mirror off still mirrors")
    }

    func testRefusesBadLandmarksByName() throws {
        let paths = try EnhancerFaceSetTests.writeFaces(root, folders: ["a"], count: 2, size: 64)
        let good = "{\"left_eye\": [12, 13, 2], \"right_eye\": [20, 13, 2], \"mouth\": [16, 21, 3]}"
        func refused(_ text: String, _ words: [String], line: UInt = #line) throws {
            try FileIO.write(Array(text.utf8), to: "\(root)/landmarks.json")
            XCTAssertThrowsError(try EnhancerFaceSet(folder: root), line: line) { error in
                for word in words { XCTAssertTrue("\(error)".contains(word), "the error does not mention '\(word)': \(error)", line: line) }
            }
        }
        try refused("{\"a/0.png\": ", ["landmarks.json", "not valid JSON"])
        try refused("[1, 2]", ["landmarks.json", "one JSON object"])
        try refused("{\"\(paths[0])\": \(good)}", ["no landmarks for 1 of the 2 faces", paths[1]])
        try refused("{\"\(paths[0])\": \(good), \"\(paths[1])\": \(good), \"a/9.png\": \(good)}", ["a/9.png", "not a PNG or JPEG face"])
        let outside = good.replacingOccurrences(of: "[16, 21, 3]", with: "[16, 70, 3]")
        try refused("{\"\(paths[0])\": \(good), \"\(paths[1])\": \(outside)}", [paths[1], "mouth centre", "outside the 64 x 64"])
        let short = good.replacingOccurrences(of: "[20, 13, 2]", with: "[20, 13]")
        try refused("{\"\(paths[0])\": \(short), \"\(paths[1])\": \(good)}", [paths[0], "right_eye", "three numbers"])
        let empty = good.replacingOccurrences(of: "[12, 13, 2]", with: "[12, 13, 0]")
        try refused("{\"\(paths[0])\": \(empty), \"\(paths[1])\": \(good)}", [paths[0], "left_eye half side 0"])
        try refused("{\"\(paths[0])\": 3, \"\(paths[1])\": \(good)}", [paths[0], "must be an object"])
        try FileIO.write(Array("{\"\(paths[0])\": \(good), \"\(paths[1])\": \(good)}".utf8), to: "\(root)/landmarks.json")
        XCTAssertEqual(try EnhancerFaceSet(folder: root).components(1).mouth, .init(centerX: 16, centerY: 21, halfLength: 3))
    }
}
