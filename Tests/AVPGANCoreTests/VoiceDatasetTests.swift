@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Voices-only data sets (`DatasetIndex(voices:faces: nil)`) and the pre-training sampler.
final class VoiceDatasetTests: XCTestCase {
    var root = ""

    /// `voices/<id>/<k>.wav`: 3 speakers with 3, 2 and 1 tones (1.5–2.5 s); no faces folder.
    override func setUpWithError() throws {
        root = Fixtures.temporaryDirectory("voices")
        Fixtures.writeToneSpeakers(root, tones: [3, 2, 1])
    }

    override func tearDown() { Fixtures.removeDirectory(root) }

    func testVoicesOnlyIndexHoldsOutAndSamples() throws {
        let index = try DatasetIndex(voices: "\(root)/voices", faces: nil)
        XCTAssertEqual(index.train.map(\.name), ["s0", "s1", "s2"], "every speaker with voices, no faces needed")
        XCTAssertTrue(index.train.allSatisfy { $0.faces.isEmpty })
        XCTAssertThrowsError(try DatasetIndex(voices: "\(root)/voices", faces: "\(root)/voices"), "with faces, identities need faces")
        let cache = try FeatureCache(directory: "\(root)/cache", options: FrontEndOptions(vad: false))
        var sampler = try VoiceBatchSampler(index: index, cache: cache, seed: 3)
        XCTAssertEqual(sampler.heldOut.map(\.label), [0, 1], "the last recording of each speaker with two or more")
        XCTAssertEqual(sampler.heldOut[0].utterance.frames, 40000 / 160 + 1, "s0's third (2.5 s) recording")
        XCTAssertEqual(sampler.train.map(\.count), [2, 1, 1])
        let state = sampler.randomState
        let a = sampler.next(batch: 6)
        XCTAssertTrue((300...800).contains(a.frames))
        XCTAssertEqual(a.voices.count, 6 * a.frames * 64)
        XCTAssertTrue(a.labels.allSatisfy { (0..<3).contains($0) })
        sampler.randomState = state
        let b = sampler.next(batch: 6)
        XCTAssertEqual(a.voices, b.voices, "the generator state replays the batch")
        XCTAssertEqual(a.labels, b.labels)
    }
}
