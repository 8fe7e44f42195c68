@testable import AVPGANCore
import XCTest

/// Randomly damaged model files (fixed seed): every one either loads and then runs without
/// trapping, or is refused as `.modelFormat` with a message.
final class ModelFileFuzzTests: XCTestCase {
    func testDamagedFilesNeverCrash() throws {
        let good = try Fixtures.bytes("\(Fixtures.golden("avpgan"))/model.safetensors")
        var headerEnd = 8
        for i in 0..<8 { headerEnd += Int(good[i]) << (8 * i) }
        var rng = SystemRandomNumberGenerator.Seeded(seed: 2026)
        var refused = 0, loaded = 0
        for trial in 0..<400 {
            var bytes = good
            switch trial % 3 {
            case 0: for _ in 0..<Int.random(in: 1...3, using: &rng) { bytes[Int.random(in: 0..<headerEnd, using: &rng)] = .random(in: 0...255, using: &rng) }
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            default: for _ in 0..<Int.random(in: 1...40, using: &rng) { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = .random(in: 0...255, using: &rng) }
            }
            do {
                let model = try Model(bytes: bytes)
                loaded += 1
                let e = model.embedDim
                let embeddings = (0..<(2 * e)).map { _ in Float.random(in: -1...1, using: &rng) }
                var pixels = [UInt8](repeating: 0, count: 2 * model.imageFloats)
                try model.generateRGB8(embeddings: embeddings, count: 2, embedDim: e, pixels: .minmax, into: &pixels)
                var out = [Float](repeating: 0, count: e)
                let features = (0..<(9 * 64)).map { _ in Float.random(in: -3...3, using: &rng) }
                try model.embed(features: features, frames: 9, melBands: 64, into: &out)
            } catch let error as AVPGANError {
                refused += 1
                XCTAssertTrue(error.kind == .modelFormat || error.kind == .unsupported, "trial \(trial): \(error)")
                XCTAssertFalse(error.message.isEmpty, "trial \(trial): empty message")
            }
        }
        XCTAssertGreaterThan(refused, 100, "most damaged headers must be refused")
        XCTAssertEqual(refused + loaded, 400)
    }
}

extension SystemRandomNumberGenerator {
    /// A seeded xorshift generator, so the damaged files are the same on every run.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed | 1 }
        mutating func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
    }
}
