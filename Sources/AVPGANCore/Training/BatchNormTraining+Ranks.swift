/// Synchronised BatchNorm: the training-mode BatchNorm of `BatchNormTraining` when the batch is
/// spread over ranks (`GradientReducer`), each rank holding its own rows. Every rank normalises
/// with the WHOLE batch's mean and biased variance, its backward uses the whole batch's
/// per-channel sums, and the running statistics (unbiased variance over the whole batch) are
/// updated identically on every rank: the result is the one-process layer on the whole batch
/// to float summation order.
///
/// The statistics are reduced in two rounds, as the one-process layer computes them in two
/// passes: first the per-channel sums (→ the global mean), then the sums of squared deviations
/// from that global mean (→ the global M2). One round of sum and sum of squares would be a
/// single reduction, but `E[x²] − E[x]²` cancels catastrophically when a channel's mean is large
/// beside its spread, and the partial sums travel as float; centring on the global mean first
/// keeps the variance accurate (its error is second order in the mean's). The second round
/// costs one reduction of `channels` floats per layer, nothing beside the step.
extension BatchNormTraining {
    /// Where this rank's rows sit in the whole batch.
    struct Ranks {
        let reducer: GradientReducer
        /// Values per channel over all ranks (global batch x positions); the forward checks it
        /// against the ranks' own counts.
        let count: Int
        /// At least `2 * channels + 1` floats for the reductions, OVERWRITTEN.
        let scratch: UnsafeMutablePointer<Float>
    }

    /// `forward` with the statistics of the whole batch over `ranks` (a collective call: every
    /// rank calls it at the same point). Shapes and outputs as `forward`'s.
    func forward(
        _ x: FeatureMap, into out: FeatureMap,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
        numBatchesTracked: inout Int,
        saveMean: UnsafeMutablePointer<Float>, saveInvStd: UnsafeMutablePointer<Float>,
        across ranks: Ranks
    ) throws {
        precondition(x.channels == channels && out.channels == channels && out.row == x.row)
        let m = x.row, sums = ranks.scratch, squares = ranks.scratch + channels + 1
        parallelFor(channels, costPerItem: m) { c in
            let p = x.channel(c)
            var s: Double = 0
            for i in 0..<m { s += Double(p[i]) }
            sums[c] = Float(s)
        }
        sums[channels] = Float(m)
        try ranks.reducer.sum(sums, count: channels + 1)
        guard sums[channels] == Float(ranks.count), ranks.count > 1 else {
            throw AVPGANError.invalid("synchronised BatchNorm: the ranks hold \(Int(sums[channels])) values per channel, expected \(ranks.count) (more than one)")
        }
        let total = Double(ranks.count)
        parallelFor(channels, costPerItem: m) { c in
            let p = x.channel(c), mean = Double(sums[c]) / total
            var q: Double = 0
            for i in 0..<m { let d = Double(p[i]) - mean; q += d * d }
            squares[c] = Float(q)
        }
        try ranks.reducer.sum(squares, count: channels)
        parallelFor(channels, costPerItem: 2 * m) { c in
            let mean = Double(sums[c]) / total, variance = Double(squares[c]) / total
            let invStd = Float(1 / (variance + Double(eps)).squareRoot())
            let meanF = Float(mean)
            saveMean[c] = meanF
            saveInvStd[c] = invStd
            let scale = invStd * gamma[c], shift = beta[c]
            let p = x.channel(c), o = out.channel(c)
            for i in 0..<m { o[i] = (p[i] - meanF) * scale + shift }
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * meanF
            runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(variance * total / (total - 1))
        }
        numBatchesTracked += 1
    }

    /// `backward` over `ranks` (collective): `dy` must be the gradient of the WHOLE batch's
    /// loss. dGamma and dBeta get this rank's share ADDED (the ranks' shares sum to the whole
    /// batch's, as the other parameters' gradients); dX uses the whole batch's sums.
    func backward(
        input x: FeatureMap, gradOutput dy: FeatureMap, gradInput dx: FeatureMap?,
        gamma: UnsafePointer<Float>, saveMean: UnsafePointer<Float>, saveInvStd: UnsafePointer<Float>,
        gradGamma: UnsafeMutablePointer<Float>?, gradBeta: UnsafeMutablePointer<Float>?,
        across ranks: Ranks
    ) throws {
        let m = x.row, sumDy = ranks.scratch, sumDyXhat = ranks.scratch + channels
        parallelFor(channels, costPerItem: 2 * m) { c in
            let p = x.channel(c), g = dy.channel(c)
            let mean = saveMean[c], invStd = saveInvStd[c]
            let (a, b) = Self.gradientSums(x: p, dy: g, count: m, mean: mean, invStd: invStd)
            gradGamma?[c] += Float(b)
            gradBeta?[c] += Float(a)
            sumDy[c] = Float(a)
            sumDyXhat[c] = Float(b)
        }
        try ranks.reducer.sum(ranks.scratch, count: 2 * channels)
        guard let dx else { return }
        let total = Double(ranks.count)
        parallelFor(channels, costPerItem: 2 * m) { c in
            let p = x.channel(c), g = dy.channel(c)
            let mean = saveMean[c], invStd = saveInvStd[c]
            let a = Float(Double(sumDy[c]) / total), b = Float(Double(sumDyXhat[c]) / total)
            Self.writeGradInput(x: p, dy: g, into: dx.channel(c), count: m, mean: mean, invStd: invStd,
                                k: gamma[c] * invStd, a: a, b: b)
        }
    }
}
