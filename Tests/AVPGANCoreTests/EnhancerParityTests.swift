@testable import AVPGANCore
import XCTest

/// The enhancer against upstream gfpgan's GFPGANv1Clean (Tests/Fixtures/enhancer, made by
/// tools/fixtures/make_enhancer_fixtures.py from the upstream package with random weights).
final class EnhancerParityTests: XCTestCase {
    static let configs = ["s32-half-latent", "s64-full-mlp", "s128-half-mlp-w"]

    static func enhancer(_ name: String) throws -> Enhancer {
        try Enhancer(path: "\(Fixtures.root)/enhancer/enhancer-\(name).safetensors")
    }

    static func arrays(_ name: String) throws -> Fixtures.Arrays {
        try Fixtures.Arrays("\(Fixtures.root)/enhancer/\(name).safetensors")
    }

    func testRawOutputMatchesUpstream() throws {
        for name in Self.configs {
            let e = try Self.enhancer(name), a = try Self.arrays(name)
            let x = try a.floats("input"), expected = try a.floats("output")
            let n = a.shape("input")[0]
            XCTAssertEqual(a.shape("input"), [n, 3, e.size, e.size], "\(name): fixture input shape")
            var out = [Float](repeating: .nan, count: expected.count)
            try e.enhanceRaw(x, count: n, into: &out)
            let scale = expected.map(abs).max()!
            let (diff, at) = maxAbsDifference(out, expected)
            XCTAssertLessThanOrEqual(diff, 1e-3 * scale,
                                     "\(name): max |libavpgan - upstream| = \(diff) at \(at) (output scale \(scale))")
        }
    }

    func testRGB8MatchesUpstreamPipeline() throws {
        for name in Self.configs {
            let e = try Self.enhancer(name), a = try Self.arrays(name)
            let shape = a.shape("rgb8_input"), pixels = a.bytes("rgb8_input"), expected = a.bytes("rgb8_output")
            var out = [UInt8](repeating: 0, count: 3 * e.size * e.size)
            try e.enhanceRGB8(pixels, width: shape[1], height: shape[0], rowStride: 3 * shape[1], into: &out)
            let worst = zip(out, expected).map { abs(Int($0) - Int($1)) }.max()!
            XCTAssertLessThanOrEqual(worst, 1, "\(name): an RGB8 output differs from upstream's by \(worst) levels")
        }
    }

    /// A row stride wider than the row gives the same bytes as the packed picture.
    func testRowStride() throws {
        let e = try Self.enhancer("s32-half-latent"), a = try Self.arrays("s32-half-latent")
        let shape = a.shape("rgb8_input"), pixels = a.bytes("rgb8_input")
        let (h, w) = (shape[0], shape[1])
        var padded = [UInt8](repeating: 77, count: h * (3 * w + 5))
        for y in 0..<h { for x in 0..<(3 * w) { padded[y * (3 * w + 5) + x] = pixels[y * 3 * w + x] } }
        var packedOut = [UInt8](repeating: 0, count: 3 * e.size * e.size), paddedOut = packedOut
        try e.enhanceRGB8(pixels, width: w, height: h, rowStride: 3 * w, into: &packedOut)
        try e.enhanceRGB8(padded, width: w, height: h, rowStride: 3 * w + 5, into: &paddedOut)
        XCTAssertEqual(packedOut, paddedOut, "a padded row stride changed the output")
    }

    /// The same bytes at 1 and 2 threads (the tiling depends on the shapes only).
    func testDeterministicAcrossThreadCounts() throws {
        let e = try Self.enhancer("s128-half-mlp-w"), a = try Self.arrays("s128-half-mlp-w")
        let x = try a.floats("input")
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            try Threads.set(threads)
            var out = [Float](repeating: 0, count: x.count)
            try e.enhanceRaw(x, count: 2, into: &out)
            results.append(out)
        }
        try Threads.set(0)
        XCTAssertEqual(results[0], results[1], "1 and 2 threads gave different outputs")
        XCTAssertEqual(results[0], results[2], "1 and 3 threads gave different outputs")
    }

    func testProgressReportsEveryStageAndAborts() throws {
        let e = try Self.enhancer("s64-full-mlp"), a = try Self.arrays("s64-full-mlp")
        let x = try a.floats("input")
        var out = [Float](repeating: 0, count: x.count)
        var seen: [(Int, Int)] = []
        try e.enhanceRaw(x, count: 2, into: &out) { done, total in seen.append((done, total)); return true }
        XCTAssertEqual(seen.map(\.0), Array(0...16), "progress must be told at the start and after every stage of both images (4 + 4 each)")
        XCTAssertTrue(seen.allSatisfy { $0.1 == 16 }, "progress total")
        XCTAssertThrowsError(try e.enhanceRaw(x, count: 2, into: &out) { done, _ in done < 3 }) { error in
            XCTAssertEqual((error as? AVPGANError)?.kind, .aborted, "a progress callback returning false must abort")
        }
    }

    func testConfigRoundTripsAndDescribesFile() throws {
        let e = try Self.enhancer("s64-full-mlp")
        XCTAssertEqual(e.config, EnhancerConfig(outSize: 64, styleDim: 16, channelMultiplier: 2, narrow: 1.0 / 32, mlpLayers: 2,
                                                differentW: false, sftHalf: false, inputIsLatent: false))
        XCTAssertEqual(try EnhancerConfig.parse(metadata: e.config.metadata), e.config)
        XCTAssertEqual(e.config.decoderChannels(64), 16)
        XCTAssertEqual(e.config.unetChannels(64), 8)
    }
}
