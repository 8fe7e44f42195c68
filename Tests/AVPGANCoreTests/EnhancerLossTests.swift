@testable import AVPGANCore
import XCTest

/// The enhancer's pixel L1, component style and adversarial losses against basicsr's L1Loss,
/// GFPGAN's Gram matrices and basicsr's GANLoss under autograd (Tests/Fixtures/enhancer-training/losses.safetensors, made by
/// tools/make_enhancer_training_fixtures.py): values and gradients within 1e-5 relative.
final class EnhancerLossTests: XCTestCase {
    func fixture() throws -> Fixtures.Arrays { try Fixtures.Arrays("\(Fixtures.root)/enhancer-training/losses.safetensors") }

    func assertClose(_ actual: [Float], _ expected: [Float], _ what: String) {
        XCTAssertEqual(actual.count, expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        let scale = max(expected.map(abs).max() ?? 0, 1e-30)
        let (diff, at) = maxAbsDifference(actual, expected)
        XCTAssertLessThanOrEqual(diff, 1e-5 * scale, "\(what): max |swift - torch| = \(diff) at \(at), scale \(scale)")
    }

    func testPixelL1MatchesBasicsr() throws {
        let a = try fixture(), p = try a.floats("prediction"), t = try a.floats("target")
        var gradient = [Float](repeating: .nan, count: p.count)
        let loss = p.withUnsafeBufferPointer { pp in
            t.withUnsafeBufferPointer { tp in
                gradient.withUnsafeMutableBufferPointer {
                    PixelL1Loss.evaluate(pp.baseAddress!, tp.baseAddress!, count: p.count, weight: 0.1, gradient: $0.baseAddress!)
                }
            }
        }
        assertClose([loss], try a.floats("l1"), "L1 loss")
        assertClose(gradient, try a.floats("grad.l1"), "L1 gradient")
        XCTAssertEqual(gradient[0], 0, "the gradient where prediction equals target")
    }

    func testGramStyleMatchesGFPGAN() throws {
        let a = try fixture(), x = try a.floats("features"), y = try a.floats("target_features"), shape = a.shape("features")
        var gradient = [Float](repeating: .nan, count: x.count)
        let loss = try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeBufferPointer { yp in
                try gradient.withUnsafeMutableBufferPointer {
                    try GramStyleLoss.evaluate(xp.baseAddress!, yp.baseAddress!, batch: shape[0], channels: shape[1], plane: shape[2] * shape[3],
                                               weight: 200, gradient: $0.baseAddress!)
                }
            }
        }
        assertClose([loss], try a.floats("style"), "style loss")
        assertClose(gradient, try a.floats("grad.style"), "style gradient")
        let same = try x.withUnsafeBufferPointer { try GramStyleLoss.evaluate($0.baseAddress!, $0.baseAddress!, batch: 2, channels: 4, plane: 30) }
        XCTAssertEqual(same, 0, "the style loss of features with themselves")
    }

    func testSoftplusAdversarialMatchesBasicsr() throws {
        let a = try fixture(), scores = try a.floats("scores")
        for (label, real) in [("gan_real", true), ("gan_fake", false)] {
            let (loss, gradient) = SoftplusAdversarialLoss.evaluate(scores: scores, real: real, weight: 0.1)
            assertClose([loss], try a.floats(label), "\(label) loss")
            assertClose(gradient, try a.floats("grad.\(label)"), "\(label) gradient")
        }
    }
}
