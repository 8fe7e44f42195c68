@testable import AVPGANCore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Gradients of the losses (BCE with a sigmoid, log-softmax NLL and cross-entropy) against
/// finite differences and closed forms, and Adam against steps worked by hand.
final class LossAndAdamTests: XCTestCase, GradientChecking {
    // MARK: Losses

    func testBCEWithSigmoid() {
        // Hand values: p = sigmoid(0) = 0.5, t = 1; p = sigmoid(2), t = 0.
        var g = [Float](repeating: .nan, count: 2)
        let loss = Losses.bceWithSigmoid(logits: [0, 2], targets: [1, 0], count: 2, gradLogits: &g)
        let p2 = 1 / (1 + exp(-2.0 as Double))
        XCTAssertEqual(Double(loss), (0.6931471805599453 - log(1 - p2)) / 2, accuracy: 1e-6)
        XCTAssertEqual(Double(g[0]), -0.25, accuracy: 1e-7)
        XCTAssertEqual(Double(g[1]), p2 / 2, accuracy: 1e-7)
        // torch's clamp: log(1 - sigmoid(200)) = log 0 -> -100, and the gradient is 0 there.
        var g2: [Float] = [.nan, .nan]
        let clamped = Losses.bceWithSigmoid(logits: [200, -200], targets: [0, 1], count: 2, gradLogits: &g2)
        XCTAssertEqual(clamped, 100)
        XCTAssertEqual(g2, [0, 0])
        // Finite differences on random logits and targets in {0, 1}.
        let x = values(8, seed: 600).map { $0 * 3 }, t: [Float] = [1, 0, 0, 1, 1, 0, 1, 0]
        var gx = [Float](repeating: .nan, count: 8)
        _ = Losses.bceWithSigmoid(logits: x, targets: t, count: 8, gradLogits: &gx)
        check("bce(sigmoid)", x, analytic: gx, h: 1e-2) { Double(Losses.bceWithSigmoid(logits: $0, targets: t, count: 8, gradLogits: nil)) }
    }

    func testLogSoftmaxNLLAndCrossEntropy() {
        let logits: [Float] = [1, 2, 3, 1, 1, 1], labels = [2, 0]
        let lse0: Double = log(exp(1.0 as Double) + exp(2.0 as Double) + exp(3.0 as Double))
        let expected = ((lse0 - 3) + log(3)) / 2   // 0.7531...
        var lp = [Float](repeating: 0, count: 6)
        Losses.logSoftmax(logits, rows: 2, classes: 3, into: &lp)
        var gl = [Float](repeating: .nan, count: 6)
        let nll = Losses.nll(logProbs: lp, labels: labels, classes: 3, gradLogProbs: &gl)
        XCTAssertEqual(Double(nll), expected, accuracy: 1e-6)
        XCTAssertEqual(gl, [0, 0, -0.5, -0.5, 0, 0])
        var gce = [Float](repeating: .nan, count: 6)
        XCTAssertEqual(Double(Losses.crossEntropy(logits: logits, labels: labels, classes: 3, gradLogits: &gce)), expected, accuracy: 1e-6)
        // Hand gradient of CE: (softmax - onehot) / rows.
        let sm0 = [1.0, 2, 3].map { exp($0 - lse0) }
        let third: Double = 1.0 / 3
        let handCE: [Double] = [sm0[0] / 2, sm0[1] / 2, (sm0[2] - 1) / 2, (third - 1) / 2, third / 2, third / 2]
        for i in 0..<6 { XCTAssertEqual(Double(gce[i]), handCE[i], accuracy: 1e-7) }
        // The chain log_softmax backward(nll backward) equals the fused gradient.
        var chain = [Float](repeating: .nan, count: 6)
        Losses.logSoftmaxBackward(output: lp, gradOutput: gl, rows: 2, classes: 3, into: &chain)
        for i in 0..<6 { XCTAssertEqual(chain[i], gce[i], accuracy: 1e-7) }
        // Finite differences: log_softmax + NLL, and log_softmax alone against random weights.
        let rows = 4, classes = 5
        let x = values(rows * classes, seed: 700).map { $0 * 2 }, lab = [3, 0, 4, 1]
        var g = [Float](repeating: .nan, count: x.count)
        _ = Losses.crossEntropy(logits: x, labels: lab, classes: classes, gradLogits: &g)
        check("cross entropy", x, analytic: g, h: 1e-2) { Double(Losses.crossEntropy(logits: $0, labels: lab, classes: classes, gradLogits: nil)) }
        let r = values(rows * classes, seed: 701)
        var y = [Float](repeating: 0, count: x.count), dx = [Float](repeating: .nan, count: x.count)
        Losses.logSoftmax(x, rows: rows, classes: classes, into: &y)
        Losses.logSoftmaxBackward(output: y, gradOutput: r, rows: rows, classes: classes, into: &dx)
        check("log softmax", x, analytic: dx, h: 1e-2) { x in
            var y = [Float](repeating: 0, count: x.count)
            Losses.logSoftmax(x, rows: rows, classes: classes, into: &y)
            return self.weighted(y, r)
        }
    }

    // MARK: Adam

    func testAdamAgainstHandSteps() throws {
        // Step 1, p = 1, g = 0.5: m = 0.25, v = 0.00025, step_size = 2e-4 / 0.5, denom = 0.5 + 1e-8.
        let adam = try AdamState(count: 1)
        var p: [Float] = [1]
        adam.update(param: &p, grad: [0.5])
        XCTAssertEqual(p[0], 0.9998, accuracy: 1e-7)
        XCTAssertEqual(adam.expAvg.pointer[0], 0.25)
        XCTAssertEqual(Double(adam.expAvgSq.pointer[0]), 0.00025, accuracy: 1e-10)
        // Several steps on a vector against the formula in Double.
        let n = 9
        let state = try AdamState(count: n)
        var q = values(n, seed: 800)
        var qd = q.map(Double.init), m = [Double](repeating: 0, count: n), v = m
        for t in 1...5 {
            let g = values(n, seed: 800 + UInt64(t)).map { $0 * Float(t) }
            state.update(param: &q, grad: g)
            let bc1 = 1 - pow(0.5, Double(t)), bc2 = 1 - pow(0.999, Double(t))
            for i in 0..<n {
                let gi = Double(g[i])
                m[i] = 0.5 * m[i] + 0.5 * gi
                v[i] = 0.999 * v[i] + 0.001 * gi * gi
                qd[i] -= 2e-4 / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + 1e-8)
            }
        }
        XCTAssertEqual(state.step, 5)
        for i in 0..<n { XCTAssertEqual(Double(q[i]), qd[i], accuracy: 1e-6) }
    }
}
