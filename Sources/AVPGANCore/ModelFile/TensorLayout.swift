/// The tensors a config implies, by name and shape, in file order — the reference's
/// `nn.Sequential` layouts (docs/model-format.md), computed in one place for the reader,
/// the writer and the tests. The only place that spells a model file's tensor names.
public enum TensorLayout {
    // MARK: Names

    /// Whether tensor `name` belongs to `network` (its name starts with "`network`.").
    public static func belongs(_ name: String, to network: NetworkName) -> Bool {
        name.hasPrefix(network.rawValue + ".")
    }

    /// The module of voice-encoder block `i`'s Conv1d (`i == voiceWidths.count`: the final one,
    /// with bias); its tensors are `<module>.weight` (and `.bias`).
    public static func voiceConv(_ i: Int) -> String { "voice_encoder.model.\(3 * i)" }

    /// The module of voice-encoder block `i`'s BatchNorm1d: `.weight`, `.bias`, `.running_mean`,
    /// `.running_var`.
    public static func voiceBatchNorm(_ i: Int) -> String { "voice_encoder.model.\(3 * i + 1)" }

    /// The discriminator's and the classifier's weights (bias-free linear heads).
    public static let discriminatorWeight = "discriminator.model.weight"
    public static let classifierWeight = "classifier.model.weight"

    // MARK: Layout

    /// The module index of each layer's convolution and, when present, its CBAM, for a
    /// generator or face encoder with `layers` widths (plus the final conv).
    static func convIndices(layers: Int, cbam: Bool) -> (conv: [Int], cbam: [Int?], final: Int) {
        var index = 0
        var conv: [Int] = [], attention: [Int?] = []
        for i in 0..<layers {
            conv.append(index)
            index += 2  // conv, activation
            if cbam && i > 0 { attention.append(index); index += 1 } else { attention.append(nil) }
        }
        return (conv, attention, index)
    }

    /// The window of layer `layer` of the generator (`transposed`) or the face encoder: the first
    /// is k4 s1 p0 (generator, 1x1 -> 4x4) or k1 (face encoder), the last k1 (generator) or
    /// k4 s1 p0 (face encoder, 4x4 -> 1x1), the ones between k4 s2 p1.
    static func geometry(transposed: Bool, layer i: Int, last: Bool) -> ConvGeometry {
        switch (transposed, i, last) {
        case (true, 0, _): return .square(4)
        case (true, _, true): return .square(1)
        case (false, 0, _): return .square(1)
        case (false, _, true): return .square(4)
        default: return .square(4, stride: 2, padding: 1)
        }
    }

    public static func cbamHidden(_ channels: Int, reduction: Int) -> Int { max(channels / reduction, 1) }

    /// Expected `(name, shape)` pairs for `config`, in file order.
    public static func tensors(for config: ModelConfig) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        let e = config.embedDim
        // Voice encoder.
        var c = config.nMels
        for (i, o) in config.voiceWidths.enumerated() {
            out.append(("\(voiceConv(i)).weight", [o, c, 3]))
            for t in ["weight", "bias", "running_mean", "running_var"] { out.append(("\(voiceBatchNorm(i)).\(t)", [o])) }
            c = o
        }
        out.append(("\(voiceConv(config.voiceWidths.count)).weight", [e, c, 3]))
        out.append(("\(voiceConv(config.voiceWidths.count)).bias", [e]))
        // Generator: ConvTranspose2d weights are [in, out, k, k].
        if config.has(.generator) {
            out += convStack("generator", config: config, widths: config.generatorWidths, input: e, transposed: true)
        }
        if config.has(.faceEncoder) {
            out += convStack("face_encoder", config: config, widths: config.faceWidths, input: 3, transposed: false)
        }
        if config.has(.discriminator) { out.append((discriminatorWeight, [1, e])) }
        if config.has(.classifier) { out.append((classifierWeight, [config.identities, e])) }
        return out
    }

    private static func convStack(_ network: String, config: ModelConfig, widths: [Int], input: Int, transposed: Bool) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        let (conv, cbam, final) = convIndices(layers: widths.count, cbam: config.hasCBAM(NetworkName(rawValue: network)!))
        var c = input
        for (i, o) in widths.enumerated() {
            let k = i == 0 ? (transposed ? 4 : 1) : 4
            let shape = transposed ? [c, o, k, k] : [o, c, k, k]
            let p = "\(network).model.\(conv[i])"
            if config.spectralNorm == .stored && config.spectrallyNormalised(NetworkName(rawValue: network)!, layer: i, last: false) {
                out += [("\(p).weight_orig", shape), ("\(p).weight_u", [o]), ("\(p).weight_v", [shape.reduce(1, *) / o])]
            } else {
                out.append(("\(p).weight", shape))
            }
            out.append(("\(p).bias", [o]))
            if let a = cbam[i] {
                let h = cbamHidden(o, reduction: config.cbamReduction)
                let q = "\(network).model.\(a)"
                out += [("\(q).mlp.0.weight", [h, o, 1, 1]), ("\(q).mlp.2.weight", [o, h, 1, 1]),
                        ("\(q).spatial.weight", [1, 2, config.cbamKernel, config.cbamKernel])]
            }
            c = o
        }
        let finalShape = transposed ? [c, 3, 1, 1] : [config.embedDim, c, 4, 4]
        out.append(("\(network).model.\(final).weight", finalShape))
        out.append(("\(network).model.\(final).bias", [finalShape[transposed ? 1 : 0]]))
        return out
    }
}
