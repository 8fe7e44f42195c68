@testable import AVPGANCore
import XCTest

/// The enhancer's L1 loss and loss weights; parity with basicsr's L1Loss by PyTorch autograd
/// (Tests/Fixtures/enhancer-losses/l1.safetensors, tools/fixtures/make_enhancer_loss_fixtures.py).
final class EnhancerLossTests: XCTestCase {
    static func fixture(_ name: String) throws -> Fixtures.Arrays {
        try Fixtures.Arrays("\(Fixtures.root)/enhancer-losses/\(name).safetensors")
    }

    /// Fails unless `actual` is within 1e-4 of `expected`, relative to its largest value.
    static func assertClose(_ actual: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let scale = max(expected.map(abs).max() ?? 0, 1e-30)
        let (diff, at) = maxAbsDifference(actual, expected)
        XCTAssertLessThanOrEqual(diff, 1e-4 * scale, "\(what): max |swift - torch| = \(diff) at \(at), scale \(scale)",
                                 file: file, line: line)
    }

    func testL1MatchesTorchIncludingZeroGradientAtTies() throws {
        let a = try Self.fixture("l1")
        let x = try a.floats("x"), target = try a.floats("target"), expected = try a.floats("grad.x")
        var grad = [Float](repeating: .nan, count: x.count)
        let loss = L1Loss.evaluate(output: x, target: target, count: x.count, weight: 0.1, gradOutput: &grad)
        Self.assertClose([loss], try a.floats("loss"), "L1 loss")
        Self.assertClose(grad, expected, "L1 gradient")
        let ties = (0..<x.count).filter { x[$0] == target[$0] }
        XCTAssertGreaterThan(ties.count, 0, "the fixture has exact ties")
        XCTAssertTrue(ties.allSatisfy { grad[$0] == 0 && expected[$0] == 0 }, "sign(0) = 0 where output equals target")
        let lossOnly = L1Loss.evaluate(output: x, target: target, count: x.count, weight: 0.1, gradOutput: nil)
        XCTAssertEqual(lossOnly, loss)
    }

    func testL1IsTheSameAtAnyThreadCount() throws {
        // Longer than one reduction block, so that the sum has several parts.
        let n = 3 * L1Loss.block + 17
        let x = (0..<n).map { Float(sin(Double($0) * 0.37)) }, y = (0..<n).map { Float(cos(Double($0) * 0.11)) }
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        var results: [Float] = []
        for threads in [1, 3] {
            try Threads.set(threads)
            results.append(L1Loss.evaluate(output: x, target: y, count: n, weight: 1, gradOutput: nil))
        }
        XCTAssertEqual(results[0], results[1])
        let exact = zip(x, y).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(n)
        XCTAssertEqual(Double(results[0]), exact, accuracy: 1e-6 * exact)
    }

    func testLossWeightsDefaultToThePapersAndZeroTurnsATermOff() throws {
        let w = EnhancerLossWeights()
        XCTAssertEqual(w.l1, 0.1); XCTAssertEqual(w.perceptual, 1); XCTAssertEqual(w.adversarial, 0.1)
        XCTAssertEqual(w.facialComponents, 1); XCTAssertEqual(w.componentStyle, 200); XCTAssertEqual(w.identity, 10)
        XCTAssertEqual(w.perceptualStyle, 0)
        XCTAssertEqual(EnhancerLossWeights.gfpganV1.perceptualStyle, 50)
        XCTAssertFalse(w.enabledTerms.contains(.perceptualStyle))
        XCTAssertEqual(w.enabledTerms.count, EnhancerLossWeights.Term.allCases.count - 1)

        let parsed = try EnhancerLossWeights(parsing: "identity=0, l1=1.5,perceptualStyle=50")
        XCTAssertEqual(parsed.l1, 1.5)
        XCTAssertFalse(parsed.isEnabled(.identity))
        XCTAssertTrue(parsed.isEnabled(.perceptualStyle))
        XCTAssertEqual(parsed.perceptual, 1)
    }

    func testBadLossWeightsAreRefusedByName() {
        for (text, needle) in [("l1=-1", "l1"), ("gan=1", "NAME=VALUE"), ("identity=abc", "not a number"),
                               ("perceptual=inf", "perceptual"), ("l1", "NAME=VALUE")] {
            XCTAssertThrowsError(try EnhancerLossWeights(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(needle), "\(text): \(error)")
            }
        }
    }

    func testAdversarialLossesMatchBasicsrGANLoss() throws {
        let a = try Self.fixture("adversarial")
        let logits = try a.floats("logits")
        XCTAssertTrue(logits.contains { $0 > 20 } && logits.contains { $0 < -20 }, "the fixture crosses softplus's threshold")
        for (kind, name) in [(AdversarialLoss.Kind.softplus, "wgan_softplus"), (.vanilla, "vanilla")] {
            for real in [true, false] {
                for (role, weight) in [("generator", Float(0.1)), ("discriminator", 1)] {
                    let key = "\(name).\(real ? "real" : "fake").\(role)"
                    var grad = [Float](repeating: .nan, count: logits.count)
                    let loss = AdversarialLoss.evaluate(logits: logits, count: logits.count, kind: kind, targetIsReal: real,
                                                        weight: weight, gradLogits: &grad)
                    Self.assertClose([loss], try a.floats(key), key)
                    Self.assertClose(grad, try a.floats("grad.\(key)"), "d\(key)/dlogits")
                }
            }
        }
    }
}
