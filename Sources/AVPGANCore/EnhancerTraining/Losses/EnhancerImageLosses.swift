/// The terms of the enhancer's generator loss that compare the output image with the truth
/// (L1, perceptual, perceptual style, identity), weighted by `EnhancerLossWeights`, with the
/// summed gradient with respect to the output. A term of weight 0 is not computed and needs no
/// network. The discriminator terms (adversarial, facial components) are the trainer's, on the
/// discriminators' logits (`AdversarialLoss`) and features (`GramStyleLoss`).
final class EnhancerImageLosses {
    let weights: EnhancerLossWeights
    let perceptual: PerceptualLoss?
    let identity: IdentityLoss?
    private let perceptualScratch = PerceptualLoss.Scratch()
    private let identityScratch = IdentityLoss.Scratch()
    private let workspace = Workspace()

    /// The terms this type computes.
    static let terms: [EnhancerLossWeights.Term] = [.l1, .perceptual, .perceptualStyle, .identity]

    /// Throws `invalidArgument` when a term is on but its network is missing.
    init(weights: EnhancerLossWeights, perceptualNetwork: VGG19Features?, faceNetwork: FaceNetwork?) throws {
        try weights.validate()
        if weights.isEnabled(.perceptual) || weights.isEnabled(.perceptualStyle) {
            guard let perceptualNetwork else {
                throw AVPGANError.invalid("the perceptual loss is on (weights \(weights.perceptual), style \(weights.perceptualStyle)) but no VGG-19 network was given (make one with tools/converters/convert_vgg.py), or set its weights to 0")
            }
            perceptual = try PerceptualLoss(network: perceptualNetwork)
        } else {
            perceptual = nil
        }
        if weights.isEnabled(.identity) {
            guard let faceNetwork else {
                throw AVPGANError.invalid("the identity loss is on (weight \(weights.identity)) but no face-recognition model was given (tools/converters/convert_face.py), or set its weight to 0")
            }
            identity = IdentityLoss(network: faceNetwork)
        } else {
            identity = nil
        }
        self.weights = weights
    }

    /// Each enabled term's weighted value for NCHW images `[batch, 3, size, size]` in [-1, 1];
    /// `gradOutput` (if non-nil) is OVERWRITTEN with the gradient of their sum.
    func evaluate(output: UnsafePointer<Float>, truth: UnsafePointer<Float>, batch: Int, size: Int,
                  gradOutput: UnsafeMutablePointer<Float>?) throws -> [EnhancerLossWeights.Term: Float] {
        let count = batch * 3 * size * size
        var values: [EnhancerLossWeights.Term: Float] = [:]
        gradOutput?.update(repeating: 0, count: count)
        let term = try gradOutput.map { _ in try workspace.slot(0, count: count) }
        func add() {
            guard let gradOutput, let term else { return }
            parallelBlocks(count, costPerItem: 1) { r in for i in r { gradOutput[i] += term[i] } }
        }
        if weights.isEnabled(.l1) {
            values[.l1] = L1Loss.evaluate(output: output, target: truth, count: count, weight: weights.l1, gradOutput: term)
            add()
        }
        if let perceptual {
            let r = try perceptual.evaluate(output: output, truth: truth, batch: batch, height: size, width: size,
                                            perceptualWeight: weights.perceptual, styleWeight: weights.perceptualStyle,
                                            gradOutput: term, scratch: perceptualScratch)
            if weights.isEnabled(.perceptual) { values[.perceptual] = r.perceptual }
            if weights.isEnabled(.perceptualStyle) { values[.perceptualStyle] = r.style }
            add()
        }
        if let identity {
            values[.identity] = try identity.evaluate(output: output, truth: truth, batch: batch, size: size,
                                                      weight: weights.identity, gradOutput: term, scratch: identityScratch)
            add()
        }
        return values
    }
}
