/// Fresh networks for training an enhancer from scratch, initialised by the rules upstream's
/// constructors apply (the distributions, not torch's random numbers: the draws come from
/// `SplitMix(seed)` in layout order, so a seed gives the same tensors on every machine):
/// - GFPGANv1Clean's U-Net, CS-SFT conditions, RGB heads and style-code linear layer
///   (`nn.Conv2d`, `nn.Linear`): torch's default, weight and bias uniform in ±1/√fan_in;
/// - the decoder's style MLP: Kaiming normal for LeakyReLU 0.2 (std `√(2 / 1.04) / √fan_in`),
///   bias 0; each modulation: Kaiming normal, linear (std `1 / √num_style_feat`), bias 1; each
///   modulated convolution: N(0, 1) / √(in · k²); the constant input and the stored noises:
///   N(0, 1); the noise strengths and the StyleConv and ToRGB biases: 0;
/// - basicsr's `StyleGAN2Discriminator` and GFPGAN's `FacialComponentDiscriminator` (equalised
///   layers): every weight N(0, 1), every bias 0.
enum EnhancerInitializer {
    /// Every tensor of the enhancer layout of `config`, by name.
    static func generator(_ config: EnhancerConfig, seed: UInt64) -> [String: [Float]] {
        var random = SplitMix(seed: seed)
        var out: [String: [Float]] = [:], fanIn: [String: Int] = [:]
        func normal(_ count: Int, std: Float) -> [Float] { (0..<count).map { _ in random.gaussian() * std } }
        func uniform(_ count: Int, bound: Float) -> [Float] { (0..<count).map { _ in (random.unit() * 2 - 1) * bound } }
        for (name, shape) in EnhancerLayout.tensors(for: config) {
            let count = shape.reduce(1, *)
            let layer = String(name.prefix(upTo: name.lastIndex(of: ".")!))
            if name.hasPrefix("stylegan_decoder.") {
                let mlpGain = Float((2.0 / (1 + 0.2 * 0.2)).squareRoot())
                if name.contains(".style_mlp.") {
                    out[name] = name.hasSuffix(".weight") ? normal(count, std: mlpGain / Float(shape[1]).squareRoot())
                                                          : [Float](repeating: 0, count: count)
                } else if name.hasSuffix(".modulation.weight") {
                    out[name] = normal(count, std: 1 / Float(shape[1]).squareRoot())
                } else if name.hasSuffix(".modulation.bias") {
                    out[name] = [Float](repeating: 1, count: count)
                } else if name.hasSuffix(".modulated_conv.weight") {
                    out[name] = normal(count, std: 1 / Float(shape[2] * shape[3] * shape[4]).squareRoot())
                } else if name.hasSuffix("constant_input.weight") || name.contains(".noises.") {
                    out[name] = normal(count, std: 1)
                } else {
                    out[name] = [Float](repeating: 0, count: count)  // noise strengths, StyleConv and ToRGB biases
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
