/// Upstream's StyleGAN2GeneratorClean (gfpgan/archs/stylegan2_clean_arch.py) over tensors held
/// by name (`PriorConfig.tensors`): the style MLP, the constant 4x4 input, StyleConv 1 and
/// ToRGB 1, then per level an upsampling StyleConv, a StyleConv and a ToRGB whose skip is the
/// previous RGB. The layers are the enhancer decoder's own (`StyleConv`, `ToRGB` with their
/// training passes), sharing the storages: a trainer updates those in place and makes a new
/// network after each update (`init(values:config:)` is cheap; the noise weights are copied).
/// The forward and reverse passes are `PriorNetwork+Forward` and `+Backward`.
struct PriorNetwork {
    let config: PriorConfig
    /// Every tensor of `config.tensors` by its upstream name.
    let values: [String: FloatStorage]
    let mlp: StyleMLP
    /// `[d4, 4, 4]`.
    let constant: FloatStorage
    let styleConv1: StyleConv
    let toRGB1: ToRGB
    /// Two per level, the first upsampling.
    let styleConvs: [StyleConv]
    let toRGBs: [ToRGB]

    /// The network over `values`, which must hold every tensor of `config.tensors` with its
    /// shape's count (checked: `invalidArgument` naming the first that does not).
    init(values: [String: FloatStorage], config: PriorConfig) throws {
        try config.validate()
        var shapes: [String: [Int]] = [:]
        for t in config.tensors {
            guard let v = values[t.name], v.count == t.shape.reduce(1, *) else {
                throw AVPGANError.invalid("prior tensor \(t.name) is missing or not of shape \(t.shape)")
            }
            shapes[t.name] = t.shape
        }
        if let extra = values.keys.first(where: { shapes[$0] == nil }) {
            throw AVPGANError.invalid("tensor \(extra) is not part of a prior of \(config.outSize) px with num_mlp \(config.mlpLayers)")
        }
        self.config = config
        self.values = values
        func modulated(_ name: String, demodulate: Bool) -> ModulatedConv {
            let s = shapes["\(name).modulated_conv.weight"]!
            return ModulatedConv(weight: values["\(name).modulated_conv.weight"]!,
                                 modulationWeight: values["\(name).modulated_conv.modulation.weight"]!,
                                 modulationBias: values["\(name).modulated_conv.modulation.bias"]!,
                                 outChannels: s[1], inChannels: s[2], kernel: s[3], styleDim: config.styleDim, demodulate: demodulate)
        }
        func styleConv(_ name: String, noise: Int, upsample: Bool) -> StyleConv {
            StyleConv(conv: modulated(name, demodulate: true), upsample: upsample, noiseWeight: values["\(name).weight"]!.pointer[0],
                      noise: values["noises.noise\(noise)"]!, bias: values["\(name).bias"]!)
        }
        func toRGB(_ name: String) -> ToRGB { ToRGB(conv: modulated(name, demodulate: false), bias: values["\(name).bias"]!) }
        mlp = StyleMLP(layers: (0..<config.mlpLayers).map { k in
            (values[Self.mlpName(k, "weight")]!, values[Self.mlpName(k, "bias")]!)
        }, length: config.styleDim)
        constant = values["constant_input.weight"]!
        styleConv1 = styleConv("style_conv1", noise: 0, upsample: false)
        toRGB1 = toRGB("to_rgb1")
        styleConvs = (0..<(2 * config.levels.count)).map { styleConv("style_convs.\($0)", noise: $0 + 1, upsample: $0 % 2 == 0) }
        toRGBs = config.levels.indices.map { toRGB("to_rgbs.\($0)") }
    }

    /// The upstream name of the style MLP's linear layer k (`style_mlp.0` is NormStyleCode,
    /// then Linear and LeakyReLU alternate).
    static func mlpName(_ k: Int, _ field: String) -> String { "style_mlp.\(2 * k + 1).\(field)" }
}
