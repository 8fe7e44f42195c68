/// The StyleGAN2 discriminator's own training step, as both GFPGAN's loop (the face
/// discriminator, `EnhancerTrainingStep`) and basicsr's StyleGAN2Model (the face prior's,
/// `PriorTrainingStep`) take it: softplus losses of the fake images and the real ones, at a
/// regularised step the lazy R1 penalty on the real ones, then Adam.
extension StyleGAN2Discriminator {
    /// One step on `fake` and `real`, both `[N, 3, S, S]`. `r1Weight`: the penalty's weight at a
    /// regularised step (`r1_reg_weight / 2 · reg_every`), nil at the others. Returns the losses
    /// under upstream's names (`l_d`, `real_score`, `fake_score` and, at a regularised step,
    /// `l_d_r1`) and, when one of them is not finite, its name and value: then neither the
    /// parameters nor Adam's moments have changed (only the gradients in `parameters`).
    /// Data-parallel: `reducer` makes R1's step the whole batch's, and `beforeUpdate` sums the
    /// gradients in `parameters` and the losses over the ranks before the check and Adam.
    func softplusStep(fake: UnsafePointer<Float>, real: UnsafePointer<Float>, batch n: Int, r1Weight: Double?,
                      parameters: OptimizedParameters, pass: DiscriminatorPass, reducer: GradientReducer? = nil,
                      beforeUpdate: (inout [String: Float]) throws -> Void = { _ in }) throws
        -> (losses: [String: Float], nonFinite: (name: String, value: Float)?) {
        parameters.zeroGradients()
        var losses: [String: Float] = [:], total: Float = 0
        for (images, isReal) in [(fake, false), (real, true)] {
            let scores = try forward(images, batch: n, pass: pass)
            var gradScores = [Float](repeating: 0, count: n)
            total += AdversarialLoss.evaluate(logits: scores, count: n, kind: .softplus, targetIsReal: isReal, weight: 1,
                                              gradLogits: &gradScores)
            try backward(pass, gradScores: gradScores, gradients: parameters.gradients, gradImages: nil)
            losses[isReal ? "real_score" : "fake_score"] = Float(scores.reduce(0.0) { $0 + Double($1) } / Double(n))
        }
        losses["l_d"] = total
        if let r1Weight {
            let penalty = try r1Penalty(real, batch: n, weight: Float(r1Weight), gradients: parameters.gradients, pass: pass,
                                        reducer: reducer)
            losses["l_d_r1"] = Float(r1Weight) * penalty
        }
        try beforeUpdate(&losses)
        if let bad = losses.first(where: { !$0.value.isFinite }) { return (losses, (bad.key, bad.value)) }
        parameters.update()
        parametersChanged()
        return (losses, nil)
    }
}
