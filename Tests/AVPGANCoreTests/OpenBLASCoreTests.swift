@testable import AVPGANCore
import Foundation
import XCTest

/// `OpenBLASCore`: which kernels replace OpenBLAS's Prescott fallback, and that the switch
/// happened on this machine when its CPU has AVX2 (the GEMMs still right afterwards).
final class OpenBLASCoreTests: XCTestCase {
    private let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    func testReplacementFollowsTheCPUFlags() {
        XCTAssertEqual(OpenBLASCore.replacement(current: "Prescott", flags: avx512, forced: false), "SkylakeX")
        XCTAssertEqual(OpenBLASCore.replacement(current: "Prescott", flags: ["sse3", "avx", "avx2", "fma"], forced: false), "Haswell")
        // AVX-512 without one of the five SkylakeX needs: Haswell.
        XCTAssertEqual(OpenBLASCore.replacement(current: "Prescott", flags: avx512.subtracting(["avx512vl"]), forced: false), "Haswell")
        XCTAssertNil(OpenBLASCore.replacement(current: "Prescott", flags: ["sse3", "avx"], forced: false))
        XCTAssertNil(OpenBLASCore.replacement(current: "Prescott", flags: [], forced: false))
    }

    func testAVX512ReplacesHaswellAndZenOnly() {
        XCTAssertEqual(OpenBLASCore.replacement(current: "Haswell", flags: avx512, forced: false), "SkylakeX")
        XCTAssertEqual(OpenBLASCore.replacement(current: "Zen", flags: avx512, forced: false), "SkylakeX")
        let avx2: Set<String> = ["avx", "avx2", "fma"]
        for core in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "Sandybridge"] {
            XCTAssertNil(OpenBLASCore.replacement(current: core, flags: avx2, forced: false), core)
        }
        for core in ["SkylakeX", "Cooperlake", "Sandybridge"] {
            XCTAssertNil(OpenBLASCore.replacement(current: core, flags: avx512, forced: false), core)
        }
    }

    func testTheUsersChoiceIsKept() {
        for core in ["Prescott", "Haswell"] {
            XCTAssertNil(OpenBLASCore.replacement(current: core, flags: avx512, forced: true), core)
        }
    }

    func testThisMachinesKernelsAfterABLASCall() {
        var c: [Float] = [0, 0, 0, 0]
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        BLAS.gemm(m: 2, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [19, 22, 43, 50])
        let flags = OpenBLASCore.cpuFlags(), forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        print("OpenBLAS core: \(OpenBLASCore.name) (OPENBLAS_CORETYPE \(forced ?? "unset"), avx2 \(flags.contains("avx2")), avx512f \(flags.contains("avx512f")))")
        if forced == nil, flags.contains("avx2"), flags.contains("fma") {
            XCTAssertNotEqual(OpenBLASCore.name.lowercased(), "prescott", "a CPU with AVX2 left on OpenBLAS's SSE3 kernels")
        }
    }
}
