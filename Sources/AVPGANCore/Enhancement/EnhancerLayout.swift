/// The tensors of an enhancer file: exactly upstream GFPGANv1Clean's state_dict names and
/// shapes (docs/enhancer-format.md), so that a converted release checkpoint needs no renaming.
public enum EnhancerLayout {
    /// Expected `(name, shape)` pairs for `config`, in upstream's state_dict order.
    public static func tensors(for config: EnhancerConfig) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        func conv(_ name: String, _ o: Int, _ i: Int, _ k: Int, bias: Bool = true) {
            out.append(("\(name).weight", [o, i, k, k]))
            if bias { out.append(("\(name).bias", [o])) }
        }
        let size = config.outSize
        let u = config.unetChannels, d = config.decoderChannels, s = config.styleDim
        // U-Net encoder: 1x1 stem, residual blocks halving the side down to 4 px, a 3x3 conv.
        conv("conv_body_first", u(size), 3, 1)
        for (j, r) in config.levels.reversed().enumerated() {
            let i = u(r), o = u(r / 2)
            conv("conv_body_down.\(j).conv1", i, i, 3)
            conv("conv_body_down.\(j).conv2", o, i, 3)
            conv("conv_body_down.\(j).skip", o, i, 1, bias: false)
        }
        conv("final_conv", u(4), u(4), 3)
        // U-Net decoder: residual blocks doubling the side back, and its (unused) RGB heads.
        for (j, r) in config.levels.enumerated() {
            let i = u(r / 2), o = u(r)
            conv("conv_body_up.\(j).conv1", i, i, 3)
            conv("conv_body_up.\(j).conv2", o, i, 3)
            conv("conv_body_up.\(j).skip", o, i, 1, bias: false)
        }
        for (j, r) in config.levels.enumerated() { conv("toRGB.\(j)", 3, u(r), 1) }
        out.append(("final_linear.weight", [config.styleCodeLength, u(4) * 16]))
        out.append(("final_linear.bias", [config.styleCodeLength]))
        // StyleGAN2 decoder.
        let p = "stylegan_decoder"
        for k in 0..<config.mlpLayers {
            out.append(("\(p).style_mlp.\(2 * k + 1).weight", [s, s]))
            out.append(("\(p).style_mlp.\(2 * k + 1).bias", [s]))
        }
        out.append(("\(p).constant_input.weight", [1, d(4), 4, 4]))
        func styleConv(_ name: String, _ i: Int, _ o: Int) {
            out.append(("\(name).weight", [1]))
            out.append(("\(name).bias", [1, o, 1, 1]))
            modulated(name, i, o, 3)
        }
        func modulated(_ name: String, _ i: Int, _ o: Int, _ k: Int) {
            out.append(("\(name).modulated_conv.weight", [1, o, i, k, k]))
            out.append(("\(name).modulated_conv.modulation.weight", [i, s]))
            out.append(("\(name).modulated_conv.modulation.bias", [i]))
        }
        func toRGB(_ name: String, _ i: Int) {
            out.append(("\(name).bias", [1, 3, 1, 1]))
            modulated(name, i, 3, 1)
        }
        styleConv("\(p).style_conv1", d(4), d(4))
        toRGB("\(p).to_rgb1", d(4))
        for (j, r) in config.levels.enumerated() {
            styleConv("\(p).style_convs.\(2 * j)", d(r / 2), d(r))
            styleConv("\(p).style_convs.\(2 * j + 1)", d(r), d(r))
        }
        for (j, r) in config.levels.enumerated() { toRGB("\(p).to_rgbs.\(j)", d(r)) }
        for i in 0..<config.noiseCount {
            let r = 1 << ((i + 5) / 2)
            out.append(("\(p).noises.noise\(i)", [1, 1, r, r]))
        }
        // CS-SFT conditions: two 3x3 convs each for scale and shift per level.
        for name in ["condition_scale", "condition_shift"] {
            for (j, r) in config.levels.enumerated() {
                conv("\(name).\(j).0", u(r), u(r), 3)
                conv("\(name).\(j).2", config.conditionChannels(r), u(r), 3)
            }
        }
        return out
    }
}
