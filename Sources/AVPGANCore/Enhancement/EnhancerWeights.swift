/// A plain convolution of the U-Net or the CS-SFT condition branches: `weight[O, C k k]`
/// row-major (torch's `[O, C, k, k]`), an optional bias `[O]`; stride 1, padding k / 2.
struct PlainConv {
    let weight: FloatStorage
    let bias: FloatStorage?
    let outChannels: Int
    let inChannels: Int
    let kernel: Int

    /// What follows the convolution, plane by plane: `+ bias`, then LeakyReLU 0.2 when `lrelu`
    /// (upstream's `F.leaky_relu_`); nil when there is neither. Inference and training use it.
    func epilogue(lrelu: Bool) -> SameConv.Epilogue? {
        let bias = self.bias?.pointer
        guard bias != nil || lrelu else { return nil }
        return { o, plane, pixels in
            let b = bias?[o] ?? 0
            if lrelu {
                for p in pixels { let v = plane[p] + b; plane[p] = v > 0 ? v : v * 0.2 }
            } else {
                for p in pixels { plane[p] += b }
            }
        }
    }
}

/// Upstream's ResBlock: `lrelu(conv2(resample(lrelu(conv1(x))))) + skip(resample(x))`, with
/// bilinear resampling by 0.5 (down) or 2 (up) and a bias-free 1x1 skip convolution.
struct ResidualBlock {
    let conv1: PlainConv
    let conv2: PlainConv
    let skip: PlainConv
    let up: Bool
}

/// Every tensor of an enhancer file, checked (names, shapes, finite values) against the
/// layout its config implies and arranged by layer.
struct EnhancerWeights {
    let stem: PlainConv
    let down: [ResidualBlock]
    let finalConv: PlainConv
    let up: [ResidualBlock]
    /// The style-code linear layer `[styleCodeLength, u4 * 16]` and its bias.
    let linearWeight: FloatStorage
    let linearBias: FloatStorage
    /// The decoder's style MLP (`num_mlp` linear layers `[S, S]`, each followed by LeakyReLU 0.2).
    let mlp: [(weight: FloatStorage, bias: FloatStorage)]
    /// The decoder's constant 4x4 input `[d4, 4, 4]`.
    let constant: FloatStorage
    let styleConv1: StyleConv
    let toRGB1: ToRGB
    /// Two StyleConvs per level (the first upsamples) and one ToRGB per level.
    let styleConvs: [StyleConv]
    let toRGBs: [ToRGB]
    /// Per level: the two convolutions (3x3 + LeakyReLU, 3x3) of the CS-SFT scale and shift.
    let conditionScale: [(PlainConv, PlainConv)]
    let conditionShift: [(PlainConv, PlainConv)]
    let parameterCount: Int

    init(file: Safetensors, config: EnhancerConfig) throws {
        let layout = EnhancerLayout.tensors(for: config)
        let tensors = try CheckedTensors(
            file: file, expected: layout,
            missing: "an enhancer of \(config.outSize) px, sft_half \(config.sftHalf), num_mlp \(config.mlpLayers)",
            extra: "an enhancer of \(config.outSize) px with num_mlp \(config.mlpLayers)")
        // Read every tensor once, so that a non-finite value anywhere (even in the U-Net's
        // RGB heads, which restoration does not use) is refused at load.
        var values: [String: FloatStorage] = [:]
        for t in layout { values[t.name] = try tensors.storage(t.name) }
        self.init(storages: values, config: config)
    }

    /// The layers over `storages` (every tensor of `EnhancerLayout.tensors(for: config)`, each
    /// of its shape's size, as `init(file:)` checked them), sharing them: a trainer updates the
    /// storages in place and makes new weights after each update (the noise weights are copied).
    init(storages values: [String: FloatStorage], config: EnhancerConfig) {
        var shapes: [String: [Int]] = [:]
        for t in EnhancerLayout.tensors(for: config) { shapes[t.name] = t.shape }
        parameterCount = shapes.values.reduce(0) { $0 + $1.reduce(1, *) }
        func get(_ name: String) -> FloatStorage { values[name]! }
        func shape(_ name: String) -> [Int] { shapes[name]! }
        func plain(_ name: String, bias: Bool = true) -> PlainConv {
            let s = shape("\(name).weight")
            return PlainConv(weight: get("\(name).weight"), bias: bias ? get("\(name).bias") : nil,
                             outChannels: s[0], inChannels: s[1], kernel: s[2])
        }
        func block(_ name: String, up: Bool) -> ResidualBlock {
            ResidualBlock(conv1: plain("\(name).conv1"), conv2: plain("\(name).conv2"), skip: plain("\(name).skip", bias: false), up: up)
        }
        func modulated(_ name: String, demodulate: Bool) -> ModulatedConv {
            let s = shape("\(name).modulated_conv.weight")
            return ModulatedConv(weight: get("\(name).modulated_conv.weight"),
                                 modulationWeight: get("\(name).modulated_conv.modulation.weight"),
                                 modulationBias: get("\(name).modulated_conv.modulation.bias"),
                                 outChannels: s[1], inChannels: s[2], kernel: s[3], styleDim: config.styleDim, demodulate: demodulate)
        }
        func styleConv(_ name: String, noise: Int, upsample: Bool) -> StyleConv {
            StyleConv(conv: modulated(name, demodulate: true), upsample: upsample, noiseWeight: get("\(name).weight").pointer[0],
                      noise: get("stylegan_decoder.noises.noise\(noise)"), bias: get("\(name).bias"))
        }
        func toRGB(_ name: String) -> ToRGB { ToRGB(conv: modulated(name, demodulate: false), bias: get("\(name).bias")) }

        let levels = config.levels.indices
        stem = plain("conv_body_first")
        down = levels.map { block("conv_body_down.\($0)", up: false) }
        finalConv = plain("final_conv")
        up = levels.map { block("conv_body_up.\($0)", up: true) }
        linearWeight = get("final_linear.weight")
        linearBias = get("final_linear.bias")
        let p = "stylegan_decoder"
        mlp = (0..<config.mlpLayers).map { (get("\(p).style_mlp.\(2 * $0 + 1).weight"), get("\(p).style_mlp.\(2 * $0 + 1).bias")) }
        constant = get("\(p).constant_input.weight")
        styleConv1 = styleConv("\(p).style_conv1", noise: 0, upsample: false)
        toRGB1 = toRGB("\(p).to_rgb1")
        styleConvs = (0..<(2 * config.levels.count)).map { styleConv("\(p).style_convs.\($0)", noise: $0 + 1, upsample: $0 % 2 == 0) }
        toRGBs = levels.map { toRGB("\(p).to_rgbs.\($0)") }
        conditionScale = levels.map { (plain("condition_scale.\($0).0"), plain("condition_scale.\($0).2")) }
        conditionShift = levels.map { (plain("condition_shift.\($0).0"), plain("condition_shift.\($0).2")) }
    }
}
