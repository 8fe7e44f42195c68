/// The discriminators' parts of `EnhancerTrainingStep`: their terms of the generator's loss
/// (the networks frozen: their parameter gradients are discarded) and their own steps.
/// Workspace slots 20...29.
extension EnhancerTrainingStep {
    /// `l_g_gan`: the softplus loss of the face discriminator's scores of the output as real,
    /// times the adversarial weight; its gradient is ADDED into `gradOutput`.
    func adversarialGradient(_ d: StyleGAN2Discriminator, output: UnsafePointer<Float>, batch n: Int,
                             into gradOutput: UnsafeMutablePointer<Float>) throws -> Float {
        let count = n * 3 * config.outSize * config.outSize
        let scores = try d.forward(output, batch: n, pass: discriminatorPass)
        var gradScores = [Float](repeating: 0, count: n)
        let loss = AdversarialLoss.evaluate(logits: scores, count: n, kind: .softplus, targetIsReal: true,
                                            weight: settings.losses.adversarial, gradLogits: &gradScores)
        for g in discardedDiscriminator.values { g.pointer.update(repeating: 0, count: g.count) }
        let gradImages = try buffers.slot(20, count: count)
        try d.backward(discriminatorPass, gradScores: gradScores, gradients: discardedDiscriminator, gradImages: gradImages)
        parallelBlocks(count, costPerItem: 1) { r in for i in r { gradOutput[i] += gradImages[i] } }
        return loss
    }

    /// The component terms: per component the vanilla loss of its discriminator's score map of
    /// the output's crop as real (`l_g_gan_left_eye`, `_right_eye`, `_mouth`, times the
    /// facial-component weight) and the Gram style loss of its features against the truth's
    /// (`l_g_comp_style_loss`, summed over the components); gradients ADDED into `gradOutput`.
    func componentGradients(_ crops: ComponentCrops, into gradOutput: UnsafeMutablePointer<Float>) throws -> [String: Float] {
        let n = crops.batch, w = settings.losses
        var losses: [String: Float] = [:], style: Double = 0
        var cropGrads: [UnsafePointer<Float>] = []
        for (k, d) in components.enumerated() {
            let side = crops.sides[k]
            let fake = try d.forward(crops.output[k], batch: n, side: side, pass: componentPass)
            let scores = fake.scores, count = scores.channels * scores.row
            let gradScores = try buffers.slot(21, count: count)
            gradScores.update(repeating: 0, count: count)
            if w.isEnabled(.facialComponents) {
                losses["l_g_gan_" + Self.componentNames[k]] = AdversarialLoss.evaluate(
                    logits: scores.data, count: count, kind: .vanilla, targetIsReal: true, weight: w.facialComponents, gradLogits: gradScores)
            }
            var gradFeatures: (UnsafePointer<Float>, UnsafePointer<Float>)? = nil
            if w.isEnabled(.componentStyle) {
                let real = try d.forward(crops.truth[k], batch: n, side: side, pass: componentTruthPass)
                let (f0, f1) = fake.features
                let g0 = FeatureMap(data: try buffers.slot(22, count: f0.channels * f0.row), channels: f0.channels, batch: f0.batch,
                                    height: f0.height, width: f0.width)
                let g1 = FeatureMap(data: try buffers.slot(23, count: f1.channels * f1.row), channels: f1.channels, batch: f1.batch,
                                    height: f1.height, width: f1.width)
                g0.data.update(repeating: 0, count: f0.channels * f0.row)
                g1.data.update(repeating: 0, count: f1.channels * f1.row)
                style += Double(try ComponentStyleLoss.evaluate(
                    output: [.init(first: f0, second: f1)], truth: [.init(first: real.features.0, second: real.features.1)],
                    weight: w.componentStyle, gradOutput: [.init(first: g0, second: g1)], workspace: styleWorkspace))
                gradFeatures = (UnsafePointer(g0.data), UnsafePointer(g1.data))
            }
            let discarded = discardedComponents[k]
            for g in discarded.values { g.pointer.update(repeating: 0, count: g.count) }
            let gradCrop = try buffers.slot(25 + k, count: n * 3 * side * side)
            try d.backward(fake, gradScores: gradScores, gradFeatures: gradFeatures, gradients: discarded, gradCrops: gradCrop,
                           pass: componentPass)
            cropGrads.append(UnsafePointer(gradCrop))
        }
        if w.isEnabled(.componentStyle) { losses["l_g_comp_style_loss"] = Float(style) }
        try crops.backward(cropGrads, into: gradOutput, workspace: buffers)
        return losses
    }

    static let componentNames = ["left_eye", "right_eye", "mouth"]

    /// The face discriminator's step: softplus losses of the output (fake) and the truth
    /// (real), the R1 penalty on the truth at steps divisible by `regEvery`, then Adam.
    /// Returns `l_d`, `real_score`, `fake_score` and, at a regularised step, `l_d_r1`.
    /// `weight`: this rank's share of a data-parallel batch (`reduceAcrossRanks`).
    func discriminatorStep(_ d: StyleGAN2Discriminator, _ parameters: OptimizedParameters, output: UnsafePointer<Float>,
                           truths: [Float], batch n: Int, weight share: Float = 1) throws -> [String: Float] {
        let r1Weight = stepCount % settings.regEvery == 0 ? settings.r1StepWeight : nil
        return try softplusStep(d, parameters, fake: output, real: truths, batch: n, r1Weight: r1Weight, weight: share, step: stepCount,
                                what: "face discriminator", untouched: "it was not updated")
    }

    /// The three component discriminators' steps on the crops of the output (fake) and the
    /// truth (real), vanilla GAN losses (upstream takes the fake's from its softplus criterion,
    /// the same function: softplus(x) = BCE-with-logits(x, 0)), then Adam each.
    func componentDiscriminatorSteps(_ crops: ComponentCrops, weight share: Float = 1) throws -> [String: Float] {
        var losses: [String: Float] = [:]
        for (k, d) in components.enumerated() {
            let parameters = componentParameters[k], side = crops.sides[k]
            parameters.zeroGradients()
            var total: Float = 0
            for (images, real) in [(crops.output[k], false), (crops.truth[k], true)] {
                let record = try d.forward(images, batch: crops.batch, side: side, pass: componentPass)
                let count = record.scores.channels * record.scores.row, gradScores = try buffers.slot(21, count: count)
                total += AdversarialLoss.evaluate(logits: record.scores.data, count: count, kind: .vanilla, targetIsReal: real, weight: 1,
                                                  gradLogits: gradScores)
                try d.backward(record, gradScores: gradScores, gradFeatures: nil, gradients: parameters.gradients, gradCrops: nil,
                               pass: componentPass)
            }
            var loss = ["l_d_" + Self.componentNames[k]: total]
            try reduceAcrossRanks(parameters, losses: &loss, weight: share)
            total = loss.values.first!
            losses["l_d_" + Self.componentNames[k]] = total
            guard total.isFinite else {
                nonFiniteLoss = ("l_d_" + Self.componentNames[k], total)
                throw AVPGANError.invalid("step \(stepCount): the \(Self.componentNames[k]) discriminator's loss is \(total); it was not updated")
            }
            parameters.update()
            d.parametersChanged()
        }
        return losses
    }
}
