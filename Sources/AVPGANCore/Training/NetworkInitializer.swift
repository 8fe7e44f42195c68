/// Fresh weights for the trained networks, drawn (from a seed) from the distributions of
/// torch's default initialisation: every weight and bias uniform in ±1/sqrt(fan_in), with
/// fan_in = size(1) x kernel taps (torch's rule for Conv2d, ConvTranspose2d and Linear);
/// spectral norm's u and v normalised Gaussians.
enum NetworkInitializer {
    /// Tensors of the generator, face encoder and heads of `config` (spectral norm stored).
    static func tensors(for config: ModelConfig, seed: UInt64) -> [String: [Float]] {
        var rng = SplitMix(seed: seed)
        var out: [String: [Float]] = [:]
        var fanIn: [String: Int] = [:]
        let layout = TensorLayout.tensors(for: config).filter { !TensorLayout.belongs($0.name, to: .voiceEncoder) }
        for (name, shape) in layout where name.hasSuffix(".weight") || name.hasSuffix(".weight_orig") {
            let fan = shape.count > 1 ? shape[1] * shape.dropFirst(2).reduce(1, *) : shape[0]
            fanIn[String(name.prefix { $0 != "." }) + "|" + String(name.dropLast(name.hasSuffix("_orig") ? ".weight_orig".count : ".weight".count))] = fan
        }
        for (name, shape) in layout {
            let count = shape.reduce(1, *)
            if name.hasSuffix(".weight_u") || name.hasSuffix(".weight_v") {
                var v = (0..<count).map { _ in rng.gaussian() }
                let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                for i in v.indices { v[i] /= norm }
                out[name] = v
                continue
            }
            let module = String(name[..<name.lastIndex(of: ".")!])
            let fan = name.hasSuffix(".bias") ? (fanIn[String(name.prefix { $0 != "." }) + "|" + module] ?? shape[0])
                : (shape.count > 1 ? shape[1] * shape.dropFirst(2).reduce(1, *) : shape[0])
            let bound = 1 / Float(max(fan, 1)).squareRoot()
            out[name] = (0..<count).map { _ in (2 * rng.unit() - 1) * bound }
        }
        return out
    }
}
