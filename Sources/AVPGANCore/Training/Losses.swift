#if canImport(Glibc)
import Glibc
#endif

/// Training losses with their gradients, in Float as torch computes them (sums in Double).
enum Losses {
    /// `F.binary_cross_entropy(sigmoid(x), target)` with mean reduction over `count` values:
    /// `p = sigmoid(x)`, `loss = -mean(t max(log p, -100) + (1 - t) max(log1p(-p), -100))`.
    /// `gradLogits` (if non-nil) is OVERWRITTEN with dloss/dx through torch's own chain:
    /// BCE backward `(p - t) / max((1 - p) p, 1e-12) / count`, then sigmoid backward `· (1 - p) p`.
    static func bceWithSigmoid(
        logits x: UnsafePointer<Float>, targets t: UnsafePointer<Float>, count: Int,
        gradLogits: UnsafeMutablePointer<Float>?
    ) -> Float {
        var sum: Double = 0
        let inv = 1 / Float(count)
        for i in 0..<count {
            let p = sigmoid(x[i])
            // torch's CPU kernel: (t - 1) max(log1p(-p), -100) - t max(log p, -100).
            let logP = max(logf(p), -100)
            let log1mP = max(log1pf(-p), -100)
            sum += Double((t[i] - 1) * log1mP - t[i] * logP)
            if let gradLogits {
                let dp = (p - t[i]) / max((1 - p) * p, 1e-12) * inv
                gradLogits[i] = dp * ((1 - p) * p)
            }
        }
        return Float(sum / Double(count))
    }

    /// Row-wise `log_softmax` of `x` `[rows, classes]` into `out` (OVERWRITTEN; may be `x`):
    /// `x - max - log Σ exp(x - max)`.
    static func logSoftmax(_ x: UnsafePointer<Float>, rows: Int, classes: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * classes, o = out + r * classes
            var peak = -Float.infinity
            for j in 0..<classes { peak = max(peak, row[j]) }
            var s: Double = 0
            for j in 0..<classes { s += Double(expf(row[j] - peak)) }
            let lse = Float(log(s))
            for j in 0..<classes { o[j] = row[j] - peak - lse }
        }
    }

    /// Reverse mode of `logSoftmax` from its output `y`: `dx = dy - exp(y) Σ dy` per row
    /// (OVERWRITTEN; `dx` may alias `dy`).
    static func logSoftmaxBackward(output y: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                                   rows: Int, classes: Int, into dx: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var s: Float = 0
            for j in 0..<classes { s += dy[r * classes + j] }
            for j in 0..<classes { let k = r * classes + j; dx[k] = dy[k] - expf(y[k]) * s }
        }
    }

    /// `F.nll_loss(logProbs, labels)`, mean over `rows`: `-mean_r logProbs[r, labels[r]]`.
    /// `gradLogProbs` (if non-nil) is OVERWRITTEN: `-1/rows` at each label, 0 elsewhere.
    static func nll(logProbs: UnsafePointer<Float>, labels: [Int], classes: Int,
                    gradLogProbs: UnsafeMutablePointer<Float>?) -> Float {
        let rows = labels.count
        var sum: Double = 0
        for r in 0..<rows {
            precondition(labels[r] >= 0 && labels[r] < classes)
            sum += Double(logProbs[r * classes + labels[r]])
        }
        if let g = gradLogProbs {
            g.update(repeating: 0, count: rows * classes)
            for r in 0..<rows { g[r * classes + labels[r]] = -1 / Float(rows) }
        }
        return Float(-sum / Double(rows))
    }

    /// `F.cross_entropy(logits, labels)` = NLL(log_softmax(logits)), mean over rows.
    /// `gradLogits` (if non-nil) is OVERWRITTEN with `(softmax - onehot) / rows`.
    static func crossEntropy(logits x: UnsafePointer<Float>, labels: [Int], classes: Int,
                             gradLogits: UnsafeMutablePointer<Float>?) -> Float {
        let rows = labels.count
        var sum: Double = 0
        for r in 0..<rows {
            let row = x + r * classes
            var peak = -Float.infinity
            for j in 0..<classes { peak = max(peak, row[j]) }
            var s: Double = 0
            for j in 0..<classes { s += Double(expf(row[j] - peak)) }
            let lse = Float(log(s))
            sum += Double(row[labels[r]] - peak - lse)
            if let g = gradLogits {
                for j in 0..<classes {
                    let p = expf(row[j] - peak - lse)
                    g[r * classes + j] = (p - (j == labels[r] ? 1 : 0)) / Float(rows)
                }
            }
        }
        return Float(-sum / Double(rows))
    }
}
