/// basicsr's PerceptualLoss with GFPGAN's options (criterion L1, `use_input_norm` and
/// `range_norm` true, pre-ReLU features): for each tapped layer k with weight w_k,
/// `perceptual = pw · Σ_k w_k · mean |φ_k(output) - φ_k(truth)|` and
/// `style = sw · Σ_k w_k · mean |gram(φ_k(output)) - gram(φ_k(truth))|` (`GramStyleLoss`), the
/// truth's features detached. A weight of 0 skips its term; with both 0 nothing is run.
struct PerceptualLoss {
    /// GFPGAN's train_gfpgan_v1.yml layers and weights: conv1_2 0.1, conv2_2 0.1, conv3_4 1,
    /// conv4_4 1, conv5_4 1.
    static let gfpganLayers: [(name: String, weight: Float)] =
        [("conv1_2", 0.1), ("conv2_2", 0.1), ("conv3_4", 1), ("conv4_4", 1), ("conv5_4", 1)]

    let network: VGG19Features
    /// Tapped convolutions (indices 0..<16, increasing) and their weights.
    let layers: [(conv: Int, weight: Float)]

    init(network: VGG19Features, layers: [(name: String, weight: Float)] = PerceptualLoss.gfpganLayers) throws {
        var taps: [(conv: Int, weight: Float)] = []
        for (name, weight) in layers {
            guard let i = VGG19Features.convIndex(named: name) else {
                throw AVPGANError.invalid("perceptual layer \(name) is not a VGG-19 convolution (conv1_1 … conv5_4)")
            }
            guard weight.isFinite, weight >= 0 else { throw AVPGANError.invalid("perceptual layer \(name) has weight \(weight)") }
            guard !taps.contains(where: { $0.conv == i }) else { throw AVPGANError.invalid("perceptual layer \(name) is named twice") }
            taps.append((i, weight))
        }
        guard !taps.isEmpty else { throw AVPGANError.invalid("the perceptual loss needs at least one layer") }
        self.network = network
        self.layers = taps.sorted { $0.conv < $1.conv }
    }

    /// Memory one caller reuses across steps: the two forward tapes and the tap gradients.
    final class Scratch {
        let output = VGG19Features.Tape()
        let truth = VGG19Features.Tape()
        let workspace = Workspace()
        init() {}
    }

    /// The two terms for NCHW images `output` and `truth` (`[batch, 3, height, width]`, in the
    /// network's input range). `gradOutput` (if non-nil) is OVERWRITTEN with d(perceptual +
    /// style)/d(output). Terms with weight 0 are returned as 0 and not computed.
    func evaluate(output: UnsafePointer<Float>, truth: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                  perceptualWeight: Float, styleWeight: Float, gradOutput: UnsafeMutablePointer<Float>?,
                  scratch: Scratch) throws -> (perceptual: Float, style: Float) {
        let count = batch * 3 * height * width
        guard perceptualWeight != 0 || styleWeight != 0 else {
            gradOutput?.update(repeating: 0, count: count)
            return (0, 0)
        }
        let depth = layers.last!.conv + 1
        try network.forward(truth, batch: batch, height: height, width: width, depth: depth, tape: scratch.truth)
        try network.forward(output, batch: batch, height: height, width: width, depth: depth, tape: scratch.output)
        var perceptual: Double = 0, style: Double = 0
        var grads: [Int: UnsafePointer<Float>] = [:]
        let gramScratch = try scratch.workspace.slot(0, count: layers.map {
            GramStyleLoss.scratchCount(scratch.output.features($0.conv)) }.max()!)
        for (k, layer) in layers.enumerated() {
            let x = scratch.output.features(layer.conv), y = scratch.truth.features(layer.conv)
            let n = x.channels * x.row
            var g: UnsafeMutablePointer<Float>? = nil
            if gradOutput != nil {
                g = try scratch.workspace.slot(1 + k, count: n)
                g!.update(repeating: 0, count: n)
                grads[layer.conv] = UnsafePointer(g!)
            }
            if perceptualWeight != 0 {
                // Gradient weight pw · w_k, as torch's chain multiplies them (the loss sums in Double).
                let l = L1Loss.evaluate(output: x.data, target: y.data, count: n, weight: perceptualWeight * layer.weight,
                                        gradOutput: g)
                perceptual += Double(l)
            }
            if styleWeight != 0 {
                let gradMap = g.map { FeatureMap(data: $0, channels: x.channels, batch: x.batch, height: x.height, width: x.width) }
                style += Double(GramStyleLoss.evaluate(x, target: y, weight: styleWeight * layer.weight, gradX: gradMap,
                                                       scratch: gramScratch))
            }
        }
        if let gradOutput { try network.backward(tape: scratch.output, tapGradients: grads, into: gradOutput) }
        return (Float(perceptual), Float(style))
    }
}
