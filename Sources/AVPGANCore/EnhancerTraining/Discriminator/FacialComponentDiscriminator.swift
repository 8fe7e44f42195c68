/// GFPGAN's facial-component discriminator (`FacialComponentDiscriminator`, one each for the
/// left eye, right eye and mouth crops): five StyleGAN2 conv layers (3x3, FusedLeakyReLU; the
/// second and fourth blurred and strided), then a 3x3 conv with a bias to a one-channel score
/// map. It also returns the features after the third and fifth layers, which the Gram style loss
/// compares. Widths `(64, 128, 256)` upstream; other widths for tests. Parameters are named as
/// upstream's state_dict; maps are CNHW over the batch, crops NCHW `[N, 3, H, W]` (square).
final class FacialComponentDiscriminator {
    /// What `forward` keeps for `backward`: every layer's output and the blurred inputs.
    struct Record {
        var input: FeatureMap, outputs: [FeatureMap], blurred: [UnsafeMutablePointer<Float>?]
        let cols: UnsafeMutablePointer<Float>
        /// The score map `[N, 1, side / 4, side / 4]` and the two feature maps (CNHW views of `outputs`).
        var scores: FeatureMap { outputs[5] }
        var features: (FeatureMap, FeatureMap) { (outputs[2], outputs[4]) }
    }

    let layers: [DiscriminatorConv]
    let parameters: [String: FloatStorage]
    let names: [String]

    /// The parameters' names and shapes for widths `w`.
    static func shapes(widths w: (Int, Int, Int) = (64, 128, 256)) -> [(String, [Int])] {
        [("conv1.0.weight", [w.0, 3, 3, 3]), ("conv1.1.bias", [w.0]), ("conv2.1.weight", [w.1, w.0, 3, 3]), ("conv2.2.bias", [w.1]),
         ("conv3.0.weight", [w.1, w.1, 3, 3]), ("conv3.1.bias", [w.1]), ("conv4.1.weight", [w.2, w.1, 3, 3]), ("conv4.2.bias", [w.2]),
         ("conv5.0.weight", [w.2, w.2, 3, 3]), ("conv5.1.bias", [w.2]), ("final_conv.0.weight", [1, w.2, 3, 3]), ("final_conv.0.bias", [1])]
    }

    init(widths w: (Int, Int, Int) = (64, 128, 256), values: [String: [Float]]) throws {
        guard w.0 > 0, w.1 > 0, w.2 > 0 else { throw AVPGANError.invalid("component discriminator widths \(w) must be positive") }
        let shapes = Self.shapes(widths: w)
        var parameters: [String: FloatStorage] = [:]
        for (name, shape) in shapes {
            guard let v = values[name], v.count == shape.reduce(1, *) else {
                throw AVPGANError.invalid("component discriminator parameter \(name) is missing or not of shape \(shape)")
            }
            parameters[name] = try FloatStorage(v)
        }
        self.parameters = parameters
        names = shapes.map(\.0)
        let plan: [(String, String, Int, Int, Bool)] = [("conv1.0", "conv1.1", 3, w.0, false), ("conv2.1", "conv2.2", w.0, w.1, true),
                                                        ("conv3.0", "conv3.1", w.1, w.1, false), ("conv4.1", "conv4.2", w.1, w.2, true),
                                                        ("conv5.0", "conv5.1", w.2, w.2, false)]
        layers = try plan.map {
            try DiscriminatorConv(weight: "\($0.0).weight", bias: "\($0.1).bias", inChannels: $0.2, outChannels: $0.3, kernel: 3, downsample: $0.4)
        } + [try DiscriminatorConv(weight: "final_conv.0.weight", bias: "final_conv.0.bias", activate: false, inChannels: w.2, outChannels: 1,
                                   kernel: 3, downsample: false)]
        for layer in layers { layer.prepare(parameters) }
    }

    func zeroGradients() throws -> [String: FloatStorage] { try parameters.mapValues { try FloatStorage(count: $0.count) } }

    /// Refreshes the layers' scaled weights after the parameters changed (an optimiser step).
    func parametersChanged() { for layer in layers { layer.prepare(parameters) } }

    /// Runs `crops[N, 3, side, side]` (side at least 4; an odd side halves down as upstream's
    /// strided convolutions do: 5 -> 2 -> 1), recording into `pass`'s workspace.
    func forward(_ crops: UnsafePointer<Float>, batch n: Int, side: Int, pass: DiscriminatorPass) throws -> Record {
        guard n > 0, side >= 4 else { throw AVPGANError.invalid("component crops must be square with a side of at least 4, not \(side)") }
        pass.batch = n
        pass.slots = 0
        var sides: [Int] = [], s = side
        for layer in layers { sides.append(s); s = layer.outputSide(s) }
        let cols = try pass.take(zip(layers, sides).map { $0.conv.scratchCount(batch: n, h: $0.convSide($1), w: $0.convSide($1)) }.max()!)
        let x = try pass.map(3, side)
        for image in 0..<n { for c in 0..<3 { (x.channel(c) + image * side * side).update(from: crops + (image * 3 + c) * side * side, count: side * side) } }
        var record = Record(input: x, outputs: [], blurred: [], cols: cols), h = x
        for (layer, s) in zip(layers, sides) {
            let blurred = layer.downsample ? try pass.take(layer.inChannels * n * layer.convSide(s) * layer.convSide(s)) : nil
            let y = try pass.map(layer.outChannels, layer.outputSide(s))
            layer.forward(h, blurred: blurred, into: y, bias: UnsafePointer(parameters[layer.biasName!]!.pointer), cols: cols)
            record.outputs.append(y)
            record.blurred.append(blurred)
            h = y
        }
        return record
    }

    /// From the score map's gradient (`gradScores`, `[N, 1, side/4, side/4]` NCHW) and, if given,
    /// the two features' gradients (CNHW, the features' shapes), ADDS the parameters' gradients
    /// and OVERWRITES `gradCrops` (`[N, 3, side, side]`) if given.
    func backward(_ record: Record, gradScores: UnsafePointer<Float>, gradFeatures: (UnsafePointer<Float>, UnsafePointer<Float>)?,
                  gradients: [String: FloatStorage], gradCrops: UnsafeMutablePointer<Float>?, pass: DiscriminatorPass) throws {
        let n = record.input.batch, side = record.input.height, first = pass.slots
        defer { pass.slots = first }
        let weightGrad = try pass.take(layers.map { $0.outChannels * $0.inChannels * 9 }.max()!)
        let inputs = [record.input] + record.outputs.dropLast()
        let blurredGrad = try pass.take(zip(layers, inputs).map { $0.inChannels * n * $0.convSide($1.height) * $0.convSide($1.height) }.max()!)
        var dy = try pass.map(1, record.scores.height)
        dy.data.update(from: gradScores, count: dy.row)  // one channel: NCHW and CNHW agree
        for k in layers.indices.reversed() {
            let layer = layers[k], input = k > 0 ? record.outputs[k - 1] : record.input
            let dx = try pass.map(layer.inChannels, input.height)
            layer.backward(input: input, blurred: record.blurred[k], output: record.outputs[k], gradOutput: dy, gradInput: dx,
                           gradients: gradients, blurredGrad: blurredGrad, weightGrad: weightGrad, cols: record.cols)
            if let gradFeatures, k == 3 || k == 5 {
                // dx is the gradient of output k - 1: features 2 (after conv3) and 4 (after conv5).
                let extra = k == 3 ? gradFeatures.0 : gradFeatures.1
                for i in 0..<(dx.channels * dx.row) { dx.data[i] += extra[i] }
            }
            dy = dx
        }
        if let gradCrops {
            for image in 0..<n { for c in 0..<3 { (gradCrops + (image * 3 + c) * side * side).update(from: dy.channel(c) + image * side * side, count: side * side) } }
        }
    }
}
