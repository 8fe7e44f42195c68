#if canImport(Glibc)
import Glibc
#endif

/// Fresh weights as upstream's constructors make them (the distributions; the draws are the
/// seeded generator's, in layout order), for training from scratch:
/// - the prior (StyleGAN2GeneratorClean): style MLP weights normal with std
///   `sqrt(2 / (1 + 0.2²)) / sqrt(S)` (kaiming, leaky_relu 0.2, fan_in), biases 0; modulation
///   weights normal with std `1 / sqrt(S)`, biases 1; convolution weights normal over
///   `sqrt(C k²)`; noise weights and biases 0; the constant and the stored noises standard normal;
/// - basicsr's StyleGAN2Discriminator: every weight standard normal (its equalised layers
///   scale at run time), every bias 0;
/// - the rest of GFPGANv1Clean (U-Net, style-code linear layer, CS-SFT conditions): torch's
///   default for nn.Conv2d and nn.Linear, weights and biases uniform in ±1 / sqrt(fan_in).
enum UpstreamInitialization {
    /// A fresh prior of `config`, every tensor of `config.tensors` by name.
    static func prior(_ config: PriorConfig, seed: UInt64) throws -> [String: [Float]] {
        try config.validate()
        var rng = SplitMix(seed: seed), out: [String: [Float]] = [:]
        let s = config.styleDim
        for t in config.tensors {
            let count = t.shape.reduce(1, *), name = t.name
            func normal(_ std: Double) -> [Float] { (0..<count).map { _ in Float(Double(rng.gaussian()) * std) } }
            if name.hasPrefix("style_mlp.") {
                out[name] = name.hasSuffix(".weight") ? normal((2 / (1 + 0.04)).squareRoot() / Double(s).squareRoot())
                    : [Float](repeating: 0, count: count)
            } else if name.hasSuffix("modulation.weight") {
                out[name] = normal(1 / Double(s).squareRoot())
            } else if name.hasSuffix("modulation.bias") {
                out[name] = [Float](repeating: 1, count: count)
            } else if name.hasSuffix("modulated_conv.weight") {
                out[name] = normal(1 / Double(t.shape[2] * t.shape[3] * t.shape[4]).squareRoot())
            } else if name == "constant_input.weight" || name.hasPrefix("noises.") {
                out[name] = normal(1)
            } else {
                out[name] = [Float](repeating: 0, count: count)  // noise weights, StyleConv and ToRGB biases
            }
        }
        return out
    }

    /// A fresh basicsr StyleGAN2Discriminator of `config`.
    static func discriminator(_ config: StyleGAN2Discriminator.Config, seed: UInt64) throws -> StyleGAN2Discriminator {
        var rng = SplitMix(seed: seed), values: [String: [Float]] = [:]
        for (name, shape) in try StyleGAN2Discriminator.shapes(config) {
            let count = shape.reduce(1, *)
            values[name] = name.hasSuffix(".bias") ? [Float](repeating: 0, count: count) : (0..<count).map { _ in rng.gaussian() }
        }
        return try StyleGAN2Discriminator(config: config, values: values)
    }

    /// A fresh trainable GFPGANv1Clean of `config` whose StyleGAN2 decoder is the given
    /// prior's tensors unchanged (GFPGAN's `decoder_load_path`), the rest drawn as torch's
    /// defaults. Throws `invalidArgument` when the prior is not the decoder this enhancer has.
    static func enhancer(_ config: EnhancerConfig, prior: (config: PriorConfig, tensors: [String: [Float]]),
                         seed: UInt64) throws -> [String: [Float]] {
        let wanted = config.prior
        guard prior.config == wanted else {
            func describe(_ p: PriorConfig) -> String {
                "\(p.outSize) px, style length \(p.styleDim), num_mlp \(p.mlpLayers), channel multiplier \(p.channelMultiplier), narrow \(p.narrow)"
            }
            throw AVPGANError.invalid("the prior is \(describe(prior.config)), but this enhancer's decoder needs \(describe(wanted))")
        }
        var rng = SplitMix(seed: seed), out: [String: [Float]] = [:]
        let decoder = EnhancerNetworkPrefix.decoder
        var fanIn: [String: Int] = [:]
        for t in EnhancerLayout.tensors(for: config) where t.name.hasSuffix(".weight") {
            fanIn[String(t.name.dropLast(".weight".count))] = t.shape.dropFirst().reduce(1, *)
        }
        for t in EnhancerLayout.tensors(for: config) {
            if t.name.hasPrefix(decoder) {
                let name = String(t.name.dropFirst(decoder.count))
                guard let v = prior.tensors[name], v.count == t.shape.reduce(1, *) else {
                    throw AVPGANError.invalid("prior tensor \(name) is missing or not of shape \(t.shape)")
                }
                out[t.name] = v
                continue
            }
            let layer = t.name.hasSuffix(".weight") ? String(t.name.dropLast(7)) : String(t.name.dropLast(5))
            let bound = 1 / Double(fanIn[layer]!).squareRoot()
            out[t.name] = (0..<t.shape.reduce(1, *)).map { _ in Float((2 * Double(rng.unit()) - 1) * bound) }
        }
        return out
    }
}
