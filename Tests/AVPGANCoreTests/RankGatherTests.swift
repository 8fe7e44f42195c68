@testable import AVPGANCore
import XCTest

/// Gathering bytes on rank 0 through a sum-only reducer: exact, in rank order, for any sizes
/// (empty, not a multiple of 3, across the reduction's pieces), nothing on the other ranks.
final class RankGatherTests: XCTestCase {
    /// Runs each rank on a thread of its own (the ranks meet at barriers, so all must run at
    /// once, whatever the number of CPUs).
    func gather(_ payloads: [[UInt8]]) throws -> [[[UInt8]]] {
        let reducers = ThreadReducer.group(payloads.count)
        nonisolated(unsafe) var results: [Result<[[UInt8]], Error>] = payloads.map { _ in .success([]) }
        let done = DispatchGroup()
        for rank in payloads.indices {
            done.enter()
            Thread {
                results[rank] = Result { try RankGather.toRoot(payloads[rank], reducer: reducers[rank]) }
                done.leave()
            }.start()
        }
        done.wait()
        return try results.map { try $0.get() }
    }

    func testSmallPayloadsArriveExactlyInRankOrder() throws {
        var rng = SplitMix(seed: 3)
        let payloads: [[UInt8]] = [(0..<10).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, [], [255, 0, 255, 1],
                                   (0..<1).map { _ in 0xFF }]
        let got = try gather(payloads)
        XCTAssertEqual(got[0], payloads, "rank 0 holds every rank's bytes, in rank order")
        for rank in 1..<payloads.count { XCTAssertEqual(got[rank], [], "rank \(rank) keeps nothing") }
    }

    func testPayloadsAcrossTheReductionsPieces() throws {
        // 2,333,334 + 2,000,000 floats: the second rank's bytes straddle the first piece's end.
        var rng = SplitMix(seed: 4)
        let payloads: [[UInt8]] = [7_000_001, 6_000_000].map { n in (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        XCTAssertGreaterThan((7_000_001 + 2) / 3 + 2_000_000, RankGather.pieceFloats)
        let got = try gather(payloads)
        XCTAssertTrue(got[0] == payloads, "the bytes arrive unchanged across the pieces")
        XCTAssertEqual(got[1].count, 0)
    }
}
