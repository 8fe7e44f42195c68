@testable import AVPGANCore
import XCTest

/// The synthetic voice-face data: deterministic, and faces that identify their speaker.
final class SyntheticDataTests: XCTestCase {
    func testSpeakersAndFacesAreDeterministic() {
        XCTAssertEqual(SyntheticSpeaker.make(count: 12, seed: 3), SyntheticSpeaker.make(count: 12, seed: 3))
        XCTAssertNotEqual(SyntheticSpeaker.make(count: 12, seed: 3), SyntheticSpeaker.make(count: 12, seed: 4))
        let s = SyntheticSpeaker.make(count: 1, seed: 3)[0]
        XCTAssertEqual(SyntheticFace.draw(s, index: 2), SyntheticFace.draw(s, index: 2))
        XCTAssertNotEqual(SyntheticFace.draw(s, index: 1), SyntheticFace.draw(s, index: 2), "pictures of one speaker vary")
        XCTAssertEqual(SyntheticSpeaker.make(count: 10, seed: 1).filter(\.heldOut).count, 2, "every fifth speaker is held out")
    }

    func testFacesAreCloserWithinAnIdentityThanAcross() {
        let speakers = SyntheticSpeaker.make(count: 12, seed: 7)
        let faces = speakers.map { s in (0..<3).map { SyntheticFace.draw(s, index: $0).map(Float.init) } }
        func distance(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        var nearestIsOwn = 0, total = 0
        for (i, pictures) in faces.enumerated() {
            let probe = pictures[0]
            let own = min(distance(probe, pictures[1]), distance(probe, pictures[2]))
            let other = faces.enumerated().filter { $0.offset != i }.flatMap { $0.element }.map { distance(probe, $0) }.min()!
            if own < other { nearestIsOwn += 1 }
            total += 1
        }
        XCTAssertGreaterThanOrEqual(nearestIsOwn, total * 3 / 4,
                                    "only \(nearestIsOwn)/\(total) faces have their own identity as nearest neighbour")
    }
}
