/// GFPGAN's facial-component feature style loss (the paper's eq. 10, λ_fs = 200): each
/// component discriminator (left eye, right eye, mouth) gives features of the output's crop and
/// of the truth's crop at two scales, and
/// `loss = weight · Σ_components (0.5 · G(f₀, g₀) + G(f₁, g₁))`, `G` the L1 distance of Gram
/// matrices (`GramStyleLoss`, weight 1), the truth's features detached.
enum ComponentStyleLoss {
    /// One component's features at the discriminator's two scales (CNHW maps).
    struct Features {
        var first: FeatureMap
        var second: FeatureMap
    }

    /// Returns the loss; `gradOutput` (if non-nil, maps shaped as `output`'s) gets the gradient
    /// with respect to the output's features ADDED.
    static func evaluate(output: [Features], truth: [Features], weight: Float, gradOutput: [Features]?,
                         workspace: Workspace) throws -> Float {
        precondition(output.count == truth.count && (gradOutput?.count ?? output.count) == output.count)
        let largest = output.flatMap { [$0.first, $0.second] }.map(GramStyleLoss.scratchCount).max() ?? 0
        let scratch = try workspace.slot(0, count: largest)
        var sum: Double = 0
        for k in output.indices {
            // weight · 0.5 and weight, as torch's chain multiplies them into the gradient.
            sum += Double(GramStyleLoss.evaluate(output[k].first, target: truth[k].first, weight: weight * 0.5,
                                                 gradX: gradOutput?[k].first, scratch: scratch))
            sum += Double(GramStyleLoss.evaluate(output[k].second, target: truth[k].second, weight: weight,
                                                 gradX: gradOutput?[k].second, scratch: scratch))
        }
        return Float(sum)
    }
}
