/// basicsr's `StyleGAN2Discriminator` (GFPGAN's image discriminator) for training: a 1x1
/// stem, residual blocks halving the side down to 4 px (`(conv2(conv1(x)) + skip(x)) / sqrt 2`,
/// the second conv and the skip blurred and strided), the minibatch standard deviation as one
/// more channel, a 3x3 conv, and two equalised linear layers to one score per image.
/// Parameters are named and shaped as upstream's `state_dict`; `forward` records what
/// `backward` needs in a `DiscriminatorPass`. Images are NCHW `[N, 3, S, S]`; inside, maps are
/// CNHW over the batch, so every convolution is one GEMM for the batch.
final class StyleGAN2Discriminator {
    struct Config: Equatable, Sendable {
        var size: Int
        var channelMultiplier: Double = 2
        var narrow: Double = 1
        var stddevGroup = 4

        /// Upstream's width at resolution r.
        func channels(_ r: Int) -> Int { r <= 32 ? Int(512 * narrow) : Int(Double(16384 / r) * channelMultiplier * narrow) }
    }

    let config: Config
    /// Every parameter, by its state_dict name.
    let parameters: [String: FloatStorage]
    /// The names in state_dict order.
    let names: [String]
    let stem: DiscriminatorConv, finalConv: DiscriminatorConv
    let blocks: [(conv1: DiscriminatorConv, conv2: DiscriminatorConv, skip: DiscriminatorConv)]
    var convs: [DiscriminatorConv] { [stem] + blocks.flatMap { [$0.conv1, $0.conv2, $0.skip] } + [finalConv] }
    /// Width at 4 px and the hidden linear layer's.
    var last: Int { config.channels(4) }

    /// The parameters' names and shapes for `config`, in state_dict order.
    static func shapes(_ c: Config) throws -> [(String, [Int])] {
        var size = c.size, log = 0
        while size > 1 && size % 2 == 0 { size /= 2; log += 1 }
        guard size == 1, (4...1024).contains(c.size) else { throw AVPGANError.invalid("discriminator size \(c.size) is not a power of two in 4...1024") }
        guard ([4] + (2...log).map { 1 << $0 }).allSatisfy({ c.channels($0) >= 1 }), c.stddevGroup >= 1 else {
            throw AVPGANError.invalid("discriminator widths must be at least 1 (channel multiplier \(c.channelMultiplier), narrow \(c.narrow))")
        }
        var out: [(String, [Int])] = [("conv_body.0.0.weight", [c.channels(c.size), 3, 1, 1]), ("conv_body.0.1.bias", [c.channels(c.size)])]
        var r = c.size, i = 1
        while r > 4 {
            let n = c.channels(r), o = c.channels(r / 2), p = "conv_body.\(i)"
            out += [("\(p).conv1.0.weight", [n, n, 3, 3]), ("\(p).conv1.1.bias", [n]), ("\(p).conv2.1.weight", [o, n, 3, 3]),
                    ("\(p).conv2.2.bias", [o]), ("\(p).skip.1.weight", [o, n, 1, 1])]
            r /= 2
            i += 1
        }
        let l = c.channels(4)
        return out + [("final_conv.0.weight", [l, l + 1, 3, 3]), ("final_conv.1.bias", [l]), ("final_linear.0.weight", [l, 16 * l]),
                      ("final_linear.0.bias", [l]), ("final_linear.1.weight", [1, l]), ("final_linear.1.bias", [1])]
    }

    /// The network with `values` (every parameter by name, each of its shape's size).
    init(config: Config, values: [String: [Float]]) throws {
        self.config = config
        let shapes = try Self.shapes(config)
        var parameters: [String: FloatStorage] = [:]
        for (name, shape) in shapes {
            guard let v = values[name] else { throw AVPGANError.invalid("discriminator parameter \(name) is missing") }
            guard v.count == shape.reduce(1, *) else { throw AVPGANError.invalid("discriminator parameter \(name) has \(v.count) values, not \(shape)") }
            parameters[name] = try FloatStorage(v)
        }
        if let extra = values.keys.first(where: { parameters[$0] == nil }) {
            throw AVPGANError.invalid("discriminator parameter \(extra) is not one of this configuration's")
        }
        self.parameters = parameters
        names = shapes.map(\.0)
        stem = try DiscriminatorConv(weight: "conv_body.0.0.weight", bias: "conv_body.0.1.bias", inChannels: 3,
                                     outChannels: config.channels(config.size), kernel: 1, downsample: false)
        var blocks: [(DiscriminatorConv, DiscriminatorConv, DiscriminatorConv)] = []
        var r = config.size
        while r > 4 {
            let n = config.channels(r), o = config.channels(r / 2), p = "conv_body.\(blocks.count + 1)"
            blocks.append((try DiscriminatorConv(weight: "\(p).conv1.0.weight", bias: "\(p).conv1.1.bias", inChannels: n, outChannels: n,
                                                 kernel: 3, downsample: false),
                           try DiscriminatorConv(weight: "\(p).conv2.1.weight", bias: "\(p).conv2.2.bias", inChannels: n, outChannels: o,
                                                 kernel: 3, downsample: true),
                           try DiscriminatorConv(weight: "\(p).skip.1.weight", bias: nil, inChannels: n, outChannels: o, kernel: 1,
                                                 downsample: true)))
            r /= 2
        }
        self.blocks = blocks
        let l = config.channels(4)
        finalConv = try DiscriminatorConv(weight: "final_conv.0.weight", bias: "final_conv.1.bias", inChannels: l + 1, outChannels: l,
                                          kernel: 3, downsample: false)
        for conv in convs { conv.prepare(parameters) }
    }

    /// Refreshes the convolutions' scaled weights after the parameters changed.
    func parametersChanged() { for conv in convs { conv.prepare(parameters) } }

    /// Zeroed gradient buffers, one per parameter.
    func zeroGradients() throws -> [String: FloatStorage] {
        try parameters.mapValues { try FloatStorage(count: $0.count) }
    }
}
