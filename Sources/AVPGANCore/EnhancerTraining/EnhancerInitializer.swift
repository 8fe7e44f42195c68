/// Fresh networks for training an enhancer or its face prior from scratch, initialised by the
/// rules upstream's constructors apply (the distributions, not torch's random numbers: the
/// draws come from `SplitMix(seed)` in layout order, so a seed gives the same tensors on every
/// machine). The one place that decides how a fresh network's tensors are made:
/// - a StyleGAN2 generator (the face prior, StyleGAN2GeneratorClean, and the enhancer's
///   decoder, the same network): the style MLP Kaiming normal for LeakyReLU 0.2 (std
///   `√(2 / 1.04) / √fan_in`), bias 0; each modulation: Kaiming normal, linear (std
///   `1 / √num_style_feat`), bias 1; each modulated convolution: N(0, 1) / √(in · k²); the
///   constant input and the stored noises: N(0, 1); the noise strengths and the StyleConv and
///   ToRGB biases: 0;
/// - GFPGANv1Clean's U-Net, CS-SFT conditions, RGB heads and style-code linear layer
///   (`nn.Conv2d`, `nn.Linear`): torch's default, weight and bias uniform in ±1/√fan_in;
/// - basicsr's `StyleGAN2Discriminator` and GFPGAN's `FacialComponentDiscriminator` (equalised
///   layers): every weight N(0, 1), every bias 0.
enum EnhancerInitializer {
    /// Every tensor of the enhancer layout of `config`, by name. With `prior`, the decoder's
    /// tensors are the prior's unchanged (GFPGAN's `decoder_load_path`) and only the rest is
    /// drawn; a prior that is not this enhancer's decoder (size, widths, MLP depth) throws
    /// `invalidArgument` saying what the prior is and what the enhancer needs.
    static func generator(_ config: EnhancerConfig, seed: UInt64,
                          prior: (config: PriorConfig, tensors: [String: [Float]])? = nil) throws -> [String: [Float]] {
        if let prior, prior.config != config.prior {
            func describe(_ p: PriorConfig) -> String {
                "\(p.outSize) px, style length \(p.styleDim), num_mlp \(p.mlpLayers), channel multiplier \(p.channelMultiplier), narrow \(p.narrow)"
            }
            throw AVPGANError.invalid("the prior is \(describe(prior.config)), but this enhancer's decoder needs \(describe(config.prior))")
        }
        var random = SplitMix(seed: seed)
        var out: [String: [Float]] = [:], fanIn: [String: Int] = [:]
        func uniform(_ count: Int, bound: Float) -> [Float] { (0..<count).map { _ in (random.unit() * 2 - 1) * bound } }
        let decoder = EnhancerNetworkPrefix.decoder
        for (name, shape) in EnhancerLayout.tensors(for: config) {
            let count = shape.reduce(1, *)
            let layer = String(name.prefix(upTo: name.lastIndex(of: ".")!))
            if name.hasPrefix(decoder) {
                let inner = String(name.dropFirst(decoder.count))
                if let prior {
                    guard let v = prior.tensors[inner], v.count == count else {
                        throw AVPGANError.invalid("prior tensor \(inner) is missing or not of shape \(shape)")
                    }
                    out[name] = v
                } else {
                    out[name] = styleGAN2Tensor(inner, shape: shape, random: &random)
                }
            } else if name.hasSuffix(".weight") {
                let fan = shape.dropFirst().reduce(1, *)
                fanIn[layer] = fan
                out[name] = uniform(count, bound: 1 / Float(fan).squareRoot())
            } else {
                out[name] = uniform(count, bound: 1 / Float(fanIn[layer] ?? 1).squareRoot())
            }
        }
        return out
    }

    /// A fresh face prior of `config`: every tensor of `config.tensors` by name.
    static func prior(_ config: PriorConfig, seed: UInt64) throws -> [String: [Float]] {
        try config.validate()
        var random = SplitMix(seed: seed), out: [String: [Float]] = [:]
        for t in config.tensors { out[t.name] = styleGAN2Tensor(t.name, shape: t.shape, random: &random) }
        return out
    }

    /// One tensor of a StyleGAN2GeneratorClean under its own name (no `stylegan_decoder.`).
    private static func styleGAN2Tensor(_ name: String, shape: [Int], random: inout SplitMix) -> [Float] {
        let count = shape.reduce(1, *)
        func normal(std: Float) -> [Float] { (0..<count).map { _ in random.gaussian() * std } }
        if name.hasPrefix("style_mlp.") {
            let gain = Float((2.0 / (1 + 0.2 * 0.2)).squareRoot())
            return name.hasSuffix(".weight") ? normal(std: gain / Float(shape[1]).squareRoot()) : [Float](repeating: 0, count: count)
        } else if name.hasSuffix(".modulation.weight") {
            return normal(std: 1 / Float(shape[1]).squareRoot())
        } else if name.hasSuffix(".modulation.bias") {
            return [Float](repeating: 1, count: count)
        } else if name.hasSuffix(".modulated_conv.weight") {
            return normal(std: 1 / Float(shape[2] * shape[3] * shape[4]).squareRoot())
        } else if name == "constant_input.weight" || name.hasPrefix("noises.") {
            return normal(std: 1)
        }
        return [Float](repeating: 0, count: count)  // noise strengths, StyleConv and ToRGB biases
    }

    /// A face discriminator of `config`, equalised weights N(0, 1), biases 0.
    static func discriminator(_ config: StyleGAN2Discriminator.Config, seed: UInt64) throws -> StyleGAN2Discriminator {
        try StyleGAN2Discriminator(config: config, values: equalised(try StyleGAN2Discriminator.shapes(config), seed: seed))
    }

    /// One facial-component discriminator of widths `w`, equalised weights N(0, 1), biases 0.
    static func component(widths w: (Int, Int, Int), seed: UInt64) throws -> FacialComponentDiscriminator {
        try FacialComponentDiscriminator(widths: w, values: equalised(FacialComponentDiscriminator.shapes(widths: w), seed: seed))
    }

    private static func equalised(_ shapes: [(String, [Int])], seed: UInt64) -> [String: [Float]] {
        var random = SplitMix(seed: seed)
        var out: [String: [Float]] = [:]
        for (name, shape) in shapes {
            let count = shape.reduce(1, *)
            out[name] = name.hasSuffix(".bias") ? [Float](repeating: 0, count: count) : (0..<count).map { _ in random.gaussian() }
        }
        return out
    }
}
