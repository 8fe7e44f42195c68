@testable import AVPGANCore
import XCTest

/// `NarrowGEMM.gemmTN` (the library's AVX-512 kernel where the CPU has it, OpenBLAS elsewhere)
/// against sums in Double, on shapes that cover its register block's edges: outputs not a
/// multiple of 16 or 32, columns not a multiple of 8, row counts not a multiple of its chunk,
/// strides wider than the rows, and an empty sum.
final class NarrowGEMMTests: XCTestCase, GradientChecking {
    func testMatchesDirectSums() {
        // (m, n, k): the generator's 4x4 layer at batch 1 (tiny and wider), and edges.
        let shapes = [(512, 16, 64), (64, 16, 32), (7, 5, 10), (33, 9, 17), (40, 16, 3), (1, 1, 1), (48, 8, 0), (70, 13, 33)]
        for (m, n, k) in shapes {
            let (lda, ldb, ldc) = (m + 3, n + 2, n + 5)
            let a = values(max(k, 1) * lda, seed: UInt64(m * 1000 + k)), b = values(max(k, 1) * ldb, seed: UInt64(n + 7))
            var c = [Float](repeating: .nan, count: m * ldc)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer {
                        NarrowGEMM.gemmTN(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                          c: $0.baseAddress!, ldc: ldc)
                    }
                }
            }
            var worst = 0.0
            for o in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for r in 0..<k { sum += Double(a[r * lda + o]) * Double(b[r * ldb + j]) }
                    worst = max(worst, abs(Double(c[o * ldc + j]) - sum))
                }
                for j in n..<ldc { XCTAssert(c[o * ldc + j].isNaN, "(\(m), \(n), \(k)): wrote past column \(n) in row \(o)") }
            }
            XCTAssertLessThan(worst, 1e-5 * Double(max(k, 1)), "(\(m), \(n), \(k)): largest difference \(worst)")
        }
    }

    /// The kernel adds each output's products in order of k: the same outputs whether computed
    /// in one call or in blocks of rows of C (as threads split a layer).
    func testSplitOutputsGiveTheSameBits() throws {
        let (m, n, k) = (96, 16, 40)
        try XCTSkipUnless(NarrowGEMM.usesKernel(columns: n), "no AVX-512 F: OpenBLAS computes these GEMMs")
        let a = values(k * m, seed: 3), b = values(k * n, seed: 4)
        var whole = [Float](repeating: 0, count: m * n), parts = whole
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                whole.withUnsafeMutableBufferPointer {
                    NarrowGEMM.gemmTN(m: m, n: n, k: k, a: a.baseAddress!, lda: m, b: b.baseAddress!, ldb: n, c: $0.baseAddress!, ldc: n)
                }
                parts.withUnsafeMutableBufferPointer { c in
                    for first in stride(from: 0, to: m, by: 16) {
                        NarrowGEMM.gemmTN(m: 16, n: n, k: k, a: a.baseAddress! + first, lda: m, b: b.baseAddress!, ldb: n,
                                          c: c.baseAddress! + first * n, ldc: n)
                    }
                }
            }
        }
        XCTAssertEqual(whole, parts)
    }
}
