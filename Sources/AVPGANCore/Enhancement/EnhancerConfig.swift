/// The `avpgan.*` metadata of an enhancer file (docs/enhancer-format.md): the GFPGANv1Clean
/// network of the upstream `gfpgan` package (a U-Net whose features steer a StyleGAN2 decoder
/// through CS-SFT), described by the constructor arguments upstream takes. Every width follows
/// from them by upstream's own formulas (`channels(resolution:)`), so the same code runs the
/// 512 px v1.3/v1.4 networks and the small test fixtures.
public struct EnhancerConfig: Equatable, Sendable {
    /// The `avpgan.arch` of an enhancer file.
    public static let archName = "gfpgan-v1-clean"
    public static let sizeRange = 32...1024

    /// Output (and input) side in pixels, a power of two in `sizeRange`.
    public var outSize: Int
    /// Length of one style vector (`num_style_feat`).
    public var styleDim: Int
    public var channelMultiplier: Double
    public var narrow: Double
    /// Linear layers of the decoder's style MLP (`num_mlp`); used only when `inputIsLatent` is false.
    public var mlpLayers: Int
    /// One style vector per decoder layer (`different_w`) rather than one for all.
    public var differentW: Bool
    /// CS-SFT modulates the second half of the decoder's channels (`sft_half`), not all of them.
    public var sftHalf: Bool
    /// The U-Net's style code goes to the decoder as is, without the style MLP.
    public var inputIsLatent: Bool

    public init(outSize: Int, styleDim: Int = 512, channelMultiplier: Double = 2, narrow: Double = 1, mlpLayers: Int = 8,
                differentW: Bool = true, sftHalf: Bool = true, inputIsLatent: Bool = true) {
        self.outSize = outSize
        self.styleDim = styleDim
        self.channelMultiplier = channelMultiplier
        self.narrow = narrow
        self.mlpLayers = mlpLayers
        self.differentW = differentW
        self.sftHalf = sftHalf
        self.inputIsLatent = inputIsLatent
    }

    /// log2 of the output side (upstream's `log_size`).
    public var logSize: Int { outSize.trailingZeroBitCount }
    /// Style vectors the decoder reads (upstream's `num_latent`).
    public var latentCount: Int { 2 * logSize - 2 }
    /// Style convolutions of the decoder, hence stored noise planes (upstream's `num_layers`).
    public var noiseCount: Int { 2 * logSize - 3 }
    /// Values of the U-Net's style code.
    public var styleCodeLength: Int { differentW ? latentCount * styleDim : styleDim }

    /// Upstream's channel table: `int(512 * n)` up to 32 px, then `int(256 * m * n)`,
    /// `int(128 * m * n)`, … halving per octave, with n = narrow (decoder) or narrow * 0.5 (U-Net).
    static func channels(resolution r: Int, multiplier m: Double, narrow n: Double) -> Int {
        let value: Double
        switch r {
        case ...32: value = 512 * n
        default: value = Double(256 * 64 / r) * m * n  // 64 -> 256, 128 -> 128, ... 1024 -> 16
        }
        return Int(value.rounded(.towardZero))
    }

    /// Decoder (StyleGAN2) channels at resolution `r`.
    public func decoderChannels(_ r: Int) -> Int { EnhancerConfig.channels(resolution: r, multiplier: channelMultiplier, narrow: narrow) }
    /// U-Net channels at resolution `r`.
    public func unetChannels(_ r: Int) -> Int { EnhancerConfig.channels(resolution: r, multiplier: channelMultiplier, narrow: narrow * 0.5) }
    /// Channels each CS-SFT condition (scale or shift) has at resolution `r`.
    public func conditionChannels(_ r: Int) -> Int { sftHalf ? unetChannels(r) : 2 * unetChannels(r) }
    /// The first decoder channel that CS-SFT modulates at resolution `r` (upstream splits at C // 2).
    public func sftFirstChannel(_ r: Int) -> Int { sftHalf ? decoderChannels(r) / 2 : 0 }

    /// Resolutions of the decoder's levels after the 4 px start: 8, 16, …, outSize.
    public var levels: [Int] { (3...logSize).map { 1 << $0 } }

    /// Whether `metadata` names the enhancer architecture.

    /// Reads and checks the `avpgan.*` metadata of an enhancer file.
    public static func parse(metadata: [String: String]) throws -> EnhancerConfig {
        try FileMetadata.checkFormat(metadata)
        let arch = try FileMetadata.arch(metadata)
        guard arch == archName else {
            throw FileMetadata.wrongKind(arch: arch, expected: .enhancer,
                                         unknown: "metadata avpgan.arch is \"\(arch)\", not \"\(archName)\" (an enhancer)")
        }
        let json = try FileMetadata.config(metadata)
        let field = json.field, integer = json.integer
        func number(_ name: String) throws -> Double {
            let v = try field(name)
            guard let d = v.doubleValue, d.isFinite, d > 0, d <= 64 else {
                throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected a number in (0, 64]")
            }
            return d
        }
        func flag(_ name: String) throws -> Bool {
            let v = try field(name)
            guard case let .bool(b) = v else { throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected true or false") }
            return b
        }
        guard let kind = json["kind"]?.stringValue, kind == "enhancer" else {
            throw AVPGANError.format("avpgan.config field kind is \(json["kind"]?.serialized ?? "missing"), expected \"enhancer\"")
        }
        let size = try integer("out_size", sizeRange)
        guard size & (size - 1) == 0 else {
            throw AVPGANError.format("avpgan.config field out_size is \(size), expected a power of two in \(sizeRange)")
        }
        let config = EnhancerConfig(
            outSize: size, styleDim: try integer("num_style_feat", 1...4096),
            channelMultiplier: try number("channel_multiplier"), narrow: try number("narrow"),
            mlpLayers: try integer("num_mlp", 0...64), differentW: try flag("different_w"),
            sftHalf: try flag("sft_half"), inputIsLatent: try flag("input_is_latent"))
        try config.checkWidths()
        return config
    }

    /// Every width must be 1...`ModelConfig.maxWidth`, and CS-SFT's conditions must cover the
    /// decoder channels they modulate.
    func checkWidths() throws {
        for r in [4] + levels {
            for (what, c) in [("decoder", decoderChannels(r)), ("U-Net", unetChannels(r))] {
                guard (1...ModelConfig.maxWidth).contains(c) else {
                    throw AVPGANError.format("channel_multiplier \(channelMultiplier) and narrow \(narrow) give the \(what) \(c) channels at \(r) px; expected 1...\(ModelConfig.maxWidth)")
                }
            }
        }
        for r in levels {
            let modulated = decoderChannels(r) - sftFirstChannel(r)
            guard modulated == conditionChannels(r) else {
                throw AVPGANError.format("at \(r) px the decoder's CS-SFT modulates \(modulated) channels but the U-Net's conditions have \(conditionChannels(r)) (sft_half \(sftHalf), channel_multiplier \(channelMultiplier), narrow \(narrow))")
            }
        }
    }

    /// The `avpgan.*` metadata that describes this config.
    public var metadata: [String: String] {
        func int(_ v: Int) -> JSONValue { .number(Double(v), integer: Int64(v)) }
        let fields: [(String, JSONValue)] = [
            ("kind", .string("enhancer")), ("out_size", int(outSize)), ("num_style_feat", int(styleDim)),
            ("channel_multiplier", .number(channelMultiplier, integer: nil)), ("narrow", .number(narrow, integer: nil)),
            ("num_mlp", int(mlpLayers)), ("different_w", .bool(differentW)), ("sft_half", .bool(sftHalf)),
            ("input_is_latent", .bool(inputIsLatent)),
        ]
        return ["avpgan.format": String(ModelConfig.formatVersion), "avpgan.arch": EnhancerConfig.archName,
                "avpgan.config": JSONValue.object(fields).serialized]
    }
}
