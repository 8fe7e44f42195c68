@testable import AVPGANCore
import XCTest

/// Sampling with the truncation trick: ψ 1 is the training forward's image, ψ 0 sends every z
/// to the mean style vector (two images with the same noise planes are then the same).
final class PriorSamplingTests: XCTestCase {
    func testTruncation() throws {
        let config = PriorFileTests.config, n = 2, image = 3 * 32 * 32
        let prior = try PriorNetwork(values: try UpstreamInitialization.prior(config, seed: 4).mapValues { try FloatStorage($0) }, config: config)
        var rng = SplitMix(seed: 8)
        let z = (0..<(n * config.styleDim)).map { _ in rng.gaussian() }
        let plane = (0..<config.noiseFloats).map { _ in rng.gaussian() }, noises = plane + plane
        let mean = try prior.meanLatent(count: 64, rng: &rng)
        var trained = [Float](repeating: 0, count: n * image), full = trained, truncated = trained
        try noises.withUnsafeBufferPointer { planes in
            try trained.withUnsafeMutableBufferPointer {
                try prior.trainingForward(styles: PriorStyles(z: z, vectors: 1), batch: n, noises: planes.baseAddress!, pass: PriorTrainingPass(),
                                          into: $0.baseAddress!)
            }
            try full.withUnsafeMutableBufferPointer {
                try prior.sample(z: z, batch: n, truncation: 1, meanLatent: nil, noises: planes.baseAddress!, into: $0.baseAddress!)
            }
            try truncated.withUnsafeMutableBufferPointer {
                try prior.sample(z: z, batch: n, truncation: 0, meanLatent: mean, noises: planes.baseAddress!, into: $0.baseAddress!)
            }
        }
        XCTAssertEqual(full, trained, "sampling with truncation 1 differs from the training forward")
        XCTAssertNotEqual(Array(full[..<image]), Array(full[image...]), "two z gave the same image")
        XCTAssertEqual(Array(truncated[..<image]), Array(truncated[image...]), "truncation 0 did not send both z to the mean style")
        XCTAssertThrowsError(try noises.withUnsafeBufferPointer { planes in
            try truncated.withUnsafeMutableBufferPointer {
                try prior.sample(z: z, batch: n, truncation: 0.5, meanLatent: nil, noises: planes.baseAddress!, into: $0.baseAddress!)
            }
        }, "truncation without a mean style vector was accepted")
    }
}
