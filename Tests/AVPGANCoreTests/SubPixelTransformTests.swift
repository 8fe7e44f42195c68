@testable import AVPGANCore
import XCTest

/// The sub-pixel Winograd transforms' AVX-512 kernels (`Sources/CKernels/subpixel_avx512.c`)
/// against the Swift code: the same bits in every element they write, and the same elements
/// left untouched, on the generator's sides, odd tile counts, rows longer than one vector and
/// output tile ranges that start and end inside a row. Skipped on CPUs without AVX-512 F.
final class SubPixelTransformTests: XCTestCase {
    /// (batch, height, width) of the input: tiles across 1, 2, 3, 4, 8, 16, 17 and 18.
    static let shapes = [(1, 2, 2), (3, 4, 4), (2, 8, 8), (1, 6, 10), (2, 16, 16), (1, 32, 32), (2, 4, 34), (1, 10, 36)]

    override func setUpWithError() throws {
        try XCTSkipUnless(SubPixelWinograd.vectorised, "this CPU has no AVX-512 F: only the Swift transforms run")
    }

    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Int(s % 2_000_001) - 1_000_000) / 333_333
        }
    }

    func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    func testInputTransformIsBitIdentical() {
        let channels = 3
        for (batch, h, w) in Self.shapes {
            // A view of images 1... of a larger map, as the generator's passes make them.
            var x = values(channels * (batch + 1) * h * w, seed: UInt64(h * 100 + w))
            let tiles = batch * (h / 2) * (w / 2), step = channels * tiles + 7
            x.withUnsafeMutableBufferPointer { xb in
                let map = FeatureMap(data: xb.baseAddress!, channels: channels, batch: batch + 1, height: h, width: w).images(1..<batch + 1)
                for parity in 0..<4 {
                    var results: [[Float]] = []
                    for vectorised in [false, true] {
                        var v = [Float](repeating: .nan, count: 9 * step)
                        v.withUnsafeMutableBufferPointer { vb in
                            for c in 0..<channels {
                                SubPixelWinograd.transformInput(map, channel: c, py: parity / 2, px: parity % 2, tiles: tiles,
                                                                into: vb.baseAddress!, stride: step, vectorised: vectorised)
                            }
                        }
                        results.append(v)
                    }
                    XCTAssertEqual(bits(results[0]), bits(results[1]), "input \(batch)x\(h)x\(w), parity \(parity)")
                    XCTAssertFalse(results[1].prefix(channels * tiles).contains { $0.isNaN }, "input \(batch)x\(h)x\(w): a value not written")
                }
            }
        }
    }

    func testOutputTransformIsBitIdentical() {
        for (batch, h, w) in Self.shapes {
            let tiles = batch * (h / 2) * (w / 2), stride = tiles + 5
            let m = values(9 * stride, seed: UInt64(h * 7 + w))
            // Whole ranges, and ranges cut inside a row (as the GEMM blocks cut them).
            let cuts = [0..<tiles, (tiles / 3)..<(tiles - tiles / 5), 1..<max(1, tiles - 1)]
            for range in cuts where !range.isEmpty {
                for parity in 0..<4 {
                    var results: [[Float]] = []
                    for vectorised in [false, true] {
                        var y = [Float](repeating: .nan, count: batch * 4 * h * w)
                        y.withUnsafeMutableBufferPointer { yb in
                            m.withUnsafeBufferPointer { mb in
                                let out = FeatureMap(data: yb.baseAddress!, channels: 1, batch: batch, height: 2 * h, width: 2 * w)
                                SubPixelWinograd.transformOutput(mb.baseAddress!, stride: stride, tiles: range, py: parity / 2,
                                                                 px: parity % 2, into: out, channel: 0, vectorised: vectorised)
                            }
                        }
                        results.append(y)
                    }
                    XCTAssertEqual(bits(results[0]), bits(results[1]), "output \(batch)x\(h)x\(w), tiles \(range), parity \(parity)")
                    XCTAssertEqual(results[1].filter { !$0.isNaN }.count, 4 * range.count, "output \(batch)x\(h)x\(w): values written")
                }
            }
        }
    }
}
