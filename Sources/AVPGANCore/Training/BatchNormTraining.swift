#if canImport(Glibc)
import Glibc
#endif

/// BatchNorm1d/2d in training mode, as torch defines it: per channel, over all of batch and
/// positions (`m = batch * h * w` values), `y = (x - mean) / sqrt(var + eps) * gamma + beta`
/// with the batch mean and the BIASED batch variance. The running statistics are updated as
/// torch does: `running = (1 - momentum) * running + momentum * batchStat`, the running
/// variance with the UNBIASED variance (`var * m / (m - 1)`), and `numBatchesTracked += 1`.
/// Statistics are accumulated in Double.
struct BatchNormTraining {
    var channels: Int
    var eps: Float = 1e-5
    var momentum: Float = 0.1

    /// - Parameters:
    ///   - x: `channels x batch x h x w` (CNHW). - out: same shape, OVERWRITTEN; may be `x` itself.
    ///   - gamma, beta: `channels` floats each.
    ///   - runningMean, runningVar: `channels` floats, UPDATED in place.
    ///   - saveMean, saveInvStd: `channels` floats, OVERWRITTEN with the batch mean and
    ///     `1 / sqrt(var + eps)` for `backward`.
    func forward(
        _ x: FeatureMap, into out: FeatureMap,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
        numBatchesTracked: inout Int,
        saveMean: UnsafeMutablePointer<Float>, saveInvStd: UnsafeMutablePointer<Float>
    ) {
        precondition(x.channels == channels && out.channels == channels && out.row == x.row)
        let m = x.row
        precondition(m > 1, "BatchNorm training needs more than one value per channel")
        parallelFor(channels, costPerItem: 4 * m) { c in
            let p = x.channel(c)
            var s: Double = 0
            for i in 0..<m { s += Double(p[i]) }
            let mean = s / Double(m)
            var q: Double = 0
            for i in 0..<m { let d = Double(p[i]) - mean; q += d * d }
            let variance = q / Double(m)
            let invStd = Float(1 / (variance + Double(eps)).squareRoot())
            let meanF = Float(mean)
            saveMean[c] = meanF
            saveInvStd[c] = invStd
            let scale = invStd * gamma[c], shift = beta[c]
            let o = out.channel(c)
            for i in 0..<m { o[i] = (p[i] - meanF) * scale + shift }
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * meanF
            runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(variance * Double(m) / Double(m - 1))
        }
        numBatchesTracked += 1
    }

    /// Reverse mode of `forward`. With `x̂ = (x - mean) * invStd`:
    /// `dGamma += Σ dy x̂`, `dBeta += Σ dy` (ACCUMULATE), and dX (OVERWRITTEN; may alias `dy`)
    /// `= gamma * invStd / m * (m dy - Σ dy - x̂ Σ dy x̂)`.
    /// - Parameters: `x` the forward's input; `saveMean`, `saveInvStd` from `forward`.
    func backward(
        input x: FeatureMap, gradOutput dy: FeatureMap, gradInput dx: FeatureMap?,
        gamma: UnsafePointer<Float>, saveMean: UnsafePointer<Float>, saveInvStd: UnsafePointer<Float>,
        gradGamma: UnsafeMutablePointer<Float>?, gradBeta: UnsafeMutablePointer<Float>?
    ) {
        let m = x.row
        parallelFor(channels, costPerItem: 4 * m) { c in
            let p = x.channel(c), g = dy.channel(c)
            let mean = saveMean[c], invStd = saveInvStd[c]
            let (sumDy, sumDyXhat) = Self.gradientSums(x: p, dy: g, count: m, mean: mean, invStd: invStd)
            gradGamma?[c] += Float(sumDyXhat)
            gradBeta?[c] += Float(sumDy)
            guard let dx else { return }
            let a = Float(sumDy / Double(m)), b = Float(sumDyXhat / Double(m))
            Self.writeGradInput(x: p, dy: g, into: dx.channel(c), count: m, mean: mean, invStd: invStd,
                                k: gamma[c] * invStd, a: a, b: b)
        }
    }

    /// (Σ dy, Σ dy x̂) over the `m` values of one channel, summed in Double, with
    /// `x̂ = (x - mean) * invStd`: the sums `backward` (one process or over ranks) needs.
    @inline(__always)
    static func gradientSums(x p: UnsafePointer<Float>, dy g: UnsafePointer<Float>, count m: Int, mean: Float,
                             invStd: Float) -> (sumDy: Double, sumDyXhat: Double) {
        var sumDy: Double = 0, sumDyXhat: Double = 0
        for i in 0..<m {
            let xhat = (p[i] - mean) * invStd
            sumDy += Double(g[i])
            sumDyXhat += Double(g[i]) * Double(xhat)
        }
        return (sumDy, sumDyXhat)
    }

    /// One channel's dX, OVERWRITTEN into `o` (which may be `dy` itself): `o = k (dy - a - x̂ b)`
    /// with `x̂ = (x - mean) * invStd`, `k = gamma * invStd` and `a`, `b` the means of Σ dy and
    /// Σ dy x̂ per value of the batch.
    @inline(__always)
    static func writeGradInput(x p: UnsafePointer<Float>, dy g: UnsafePointer<Float>, into o: UnsafeMutablePointer<Float>,
                               count m: Int, mean: Float, invStd: Float, k: Float, a: Float, b: Float) {
        for i in 0..<m {
            let xhat = (p[i] - mean) * invStd
            o[i] = k * (g[i] - a - xhat * b)
        }
    }
}
