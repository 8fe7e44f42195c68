/// GFPGAN's R1 regularisation of the discriminator on real images (basicsr's `r1_penalty`):
/// with F the sum of the batch's scores and `g = ∂F/∂x` the images' gradient,
/// `P = ‖g‖² / N` (squared per image, summed over its values, averaged over the images).
///
/// Its parameter gradient is `∇θP = (2 / N) (∂g/∂θ)ᵀ g`, a Hessian-vector product. Upstream gets
/// it exactly by double backward; here it is APPROXIMATED by central differences of the
/// parameter gradient along g: `∇θP ≈ (2 / N) [∇θF(x + εg) − ∇θF(x − εg)] / (2ε)`, two more
/// forward and backward passes, with ε such that the step `εg` has an RMS of `step` (images in
/// [−1, 1]). The shifted passes keep the LeakyReLU pattern of the pass at x (`frozen`), as double
/// backward does (it takes LeakyReLU's second derivative as 0): the network is then linear in
/// the images but for the minibatch standard deviation, and the difference is exact up to
/// O(ε²) from that and float rounding. Measured against upstream in `DiscriminatorTests`.
extension StyleGAN2Discriminator {
    /// Returns P for `images[N, 3, S, S]` and ADDS `weight · ∇θP` to `gradients`; `pass`
    /// holds the record of the forward at the images afterwards.
    func r1Penalty(_ images: UnsafePointer<Float>, batch n: Int, weight: Float, gradients: [String: FloatStorage],
                   pass: DiscriminatorPass, step: Double = 1e-3, reducer: GradientReducer? = nil) throws -> Float {
        let count = n * 3 * config.size * config.size, ones = [Float](repeating: 1, count: n)
        var g = [Float](repeating: 0, count: count)
        let discarded = try zeroGradients(), shiftedPass = DiscriminatorPass()
        _ = try forward(images, batch: n, pass: pass)
        try g.withUnsafeMutableBufferPointer { try backward(pass, gradScores: ones, gradients: discarded, gradImages: $0.baseAddress!) }
        var squares = 0.0
        for v in g { squares += Double(v) * Double(v) }
        let penalty = Float(squares / Double(n))
        // Data-parallel: every rank asks (collective), whatever its own g.
        let mean = try meanSquare(squares, count: count, over: reducer)
        guard mean > 0, weight != 0 else { return penalty }
        let epsilon = step / mean.squareRoot()
        var shifted = [Float](repeating: 0, count: count)
        func parameterGradient(_ sign: Double) throws -> [String: FloatStorage] {
            for i in 0..<count { shifted[i] = Float(Double(images[i]) + sign * epsilon * Double(g[i])) }
            let result = try zeroGradients()
            _ = try shifted.withUnsafeBufferPointer { try forward($0.baseAddress!, batch: n, pass: shiftedPass, frozen: pass) }
            try backward(shiftedPass, gradScores: ones, gradients: result, gradImages: nil, frozen: pass)
            return result
        }
        let plus = try parameterGradient(1), minus = try parameterGradient(-1)
        let factor = Float(Double(weight) * 2 / Double(n) / (2 * epsilon))
        for (name, target) in gradients {
            let a = plus[name]!.pointer, b = minus[name]!.pointer, t = target.pointer
            for i in 0..<target.count { t[i] += factor * (a[i] - b[i]) }
        }
        return penalty
    }

    /// The mean of the squares of g over the images of every rank (`squares` and `count` this
    /// rank's), so that every rank of a data-parallel step takes the same ε as one process on
    /// the whole batch would (to float summation order); alone, `squares / count`.
    private func meanSquare(_ squares: Double, count: Int, over reducer: GradientReducer?) throws -> Double {
        guard let reducer else { return squares / Double(count) }
        var sums: [Float] = [Float(squares), Float(count)]
        try sums.withUnsafeMutableBufferPointer { try reducer.sum($0.baseAddress!, count: 2) }
        return Double(sums[0]) / Double(sums[1])
    }
}
