/// The generator's path-length regularisation (basicsr's `g_path_regularize`, run by
/// StyleGAN2Model every `net_g_reg_every` steps on `max(1, N / path_batch_shrink)` fresh
/// samples): with y standard normal over `√(S²)` per pixel and `G = ∂(Σ img · y)/∂w` (w the
/// `[L, S]` style vectors), each image's path length is `pl = √(mean_l Σ_s G²)`; the running
/// mean moves `a ← a + 0.01 (mean pl − a)`, and the penalty `P = mean (pl − a)²` enters the
/// generator's loss times `pathRegWeight · gRegEvery` (a depends on pl too, as upstream's).
///
/// P's parameter gradient is a second derivative (upstream: double backward). With
/// `v = ∂(weighted P)/∂G`, it is `∇θ (G · v)` with v fixed, the derivative of the ordinary
/// backward along v: here APPROXIMATED by central differences, `[∇F(w + εv) − ∇F(w − εv)] / 2ε`
/// for F = Σ img · y, two more synthesis passes and backward passes with the LeakyReLU pattern
/// of the pass at w (double backward's own treatment: its second derivative is 0); the style
/// vectors' part goes back through the style MLP from the pass at w. ε makes the step's RMS
/// `step` (the style vectors are of order 1). As the R1 term's (R1Penalty.swift).
extension PriorTrainingStep {
    /// Adds the term's gradient to the generator's and returns `(l_g_path, path_length)`
    /// (upstream's log values: the weighted penalty and the mean path length), and the new
    /// running mean. `draw` is the fresh batch, `y` its `[n, 3, S, S]` image noise.
    /// Data-parallel: `draw` and `y` are this rank's `n` images (possibly none) of the `total`
    /// of every rank; the mean, the penalty and ε are the whole batch's (collective), and the
    /// gradient added is this rank's images' part of it.
    func pathLengthTerm(_ draw: PriorDraw, batch n: Int, of total: Int? = nil, y: [Float], step: Double = 1e-3) throws
        -> (loss: Float, pathLength: Float, mean: Float) {
        let c = config, s = c.styleDim, l = c.latentCount, size = c.outSize, count = n * l * s, all = total ?? n
        let base = PriorTrainingPass(), shifted = PriorTrainingPass()
        let images = try buffers.slot(3, count: max(n, 1) * 3 * size * size), planes = try buffers.slot(4, count: max(draw.noises.count, 1))
        planes.update(from: draw.noises, count: draw.noises.count)
        var g = [Float](repeating: 0, count: count)
        if n > 0 {
            try generator.trainingForward(styles: draw.styles, batch: n, noises: planes, pass: base, into: images)
            let discarded = try generator.zeroGradients()
            try y.withUnsafeBufferPointer { y in
                try g.withUnsafeMutableBufferPointer {
                    try generator.trainingBackward(base, gradImages: y.baseAddress!, gradients: discarded, gradLatents: $0.baseAddress!)
                }
            }
        }
        // Path lengths, the running mean (torch's float arithmetic), the penalty and v.
        var lengths = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var sum: Double = 0
            for k in 0..<(l * s) { sum += Double(g[i * l * s + k]) * Double(g[i * l * s + k]) }
            lengths[i] = Float(sum / Double(l)).squareRoot()
        }
        let lengthSum = try sumOverRanks([lengths.reduce(0.0) { $0 + Double($1) }])[0]
        let meanLength = Float(lengthSum / Double(all))
        let decay = Float(settings.pathDecay), average = meanPathLength + decay * (meanLength - meanPathLength)
        let deviationSum = lengthSum - Double(all) * Double(average)
        let weight = settings.pathRegWeight * Double(settings.gRegEvery)
        var v = [Float](repeating: 0, count: count), penalty: Double = 0, squares: Double = 0
        for i in 0..<n {
            penalty += Double(lengths[i] - average) * Double(lengths[i] - average)
            guard lengths[i] > 0 else { continue }
            let dP = 2 / Double(all) * Double(lengths[i] - average) - 2 / Double(all) * deviationSum * Double(decay) / Double(all)
            let scale = Float(weight * dP / (Double(l) * Double(lengths[i])))
            for k in 0..<(l * s) { v[i * l * s + k] = scale * g[i * l * s + k] }
        }
        for x in v { squares += Double(x) * Double(x) }
        let sums = try sumOverRanks([penalty, squares])
        let loss = Float(weight * sums[0] / Double(all))
        guard sums[1] > 0, n > 0 else { return (loss, meanLength, average) }
        let epsilon = step / (sums[1] / Double(all * l * s)).squareRoot()
        // The two shifted passes: synthesis parameters' and style vectors' gradients.
        var latentsShifted = [Float](repeating: 0, count: count), dPlus = latentsShifted, dMinus = latentsShifted
        func shiftedGradient(_ sign: Double, _ dLatents: inout [Float]) throws -> [String: FloatStorage] {
            for img in 0..<n {
                let w = base.images[img].latents
                for k in 0..<(l * s) { latentsShifted[img * l * s + k] = Float(Double(w[k]) + sign * epsilon * Double(v[img * l * s + k])) }
            }
            let result = try generator.zeroGradients()
            try latentsShifted.withUnsafeBufferPointer { w in
                try generator.trainingForward(latents: w.baseAddress!, batch: n, noises: planes, pass: shifted, into: images, frozen: base)
            }
            try y.withUnsafeBufferPointer { y in
                try dLatents.withUnsafeMutableBufferPointer {
                    try generator.trainingBackward(shifted, gradImages: y.baseAddress!, gradients: result, gradLatents: $0.baseAddress!,
                                                   frozen: base)
                }
            }
            return result
        }
        let plus = try shiftedGradient(1, &dPlus), minus = try shiftedGradient(-1, &dMinus)
        let factor = Float(1 / (2 * epsilon)), gradients = generatorParameters.gradients
        for (name, target) in gradients where !name.hasPrefix("style_mlp.") {
            let a = plus[name]!.pointer, b = minus[name]!.pointer, t = target.pointer
            for i in 0..<target.count { t[i] += factor * (a[i] - b[i]) }
        }
        for k in 0..<count { dPlus[k] = factor * (dPlus[k] - dMinus[k]) }
        try dPlus.withUnsafeBufferPointer { try generator.styleBackward(base, gradLatents: $0.baseAddress!, gradients: gradients, gradZ: nil) }
        return (loss, meanLength, average)
    }
}
