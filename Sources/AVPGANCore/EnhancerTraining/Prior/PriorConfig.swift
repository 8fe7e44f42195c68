// Prior/: the StyleGAN2 face prior that GFPGAN's decoder starts from (issue 17;
// docs/enhancer-training.md, "The face prior"). `PriorNetwork` is upstream's
// StyleGAN2GeneratorClean for training (style MLP, constant, StyleConvs and ToRGBs, which are
// the enhancer decoder's own training blocks), `PriorTrainingStep` one step of basicsr's
// StyleGAN2Model with its Adam, EMA and checkpoints, and `PriorFile` the EMA generator written
// under upstream's names and read back into a fresh trainable enhancer.

/// The constructor arguments of upstream's StyleGAN2GeneratorClean that shape a face prior:
/// exactly those GFPGANv1Clean passes to its decoder, so a prior fits an enhancer when they
/// agree (`EnhancerConfig.prior`). Widths follow `EnhancerConfig.channels(resolution:...)`.
public struct PriorConfig: Equatable, Sendable {
    /// Output side in pixels, a power of two in `EnhancerConfig.sizeRange`.
    public var outSize: Int
    /// Length of z and of every style vector w (`num_style_feat`).
    public var styleDim: Int
    /// Linear layers of the style MLP (`num_mlp`), at least 1 to train from z.
    public var mlpLayers: Int
    public var channelMultiplier: Double
    public var narrow: Double

    public init(outSize: Int, styleDim: Int = 512, mlpLayers: Int = 8, channelMultiplier: Double = 2, narrow: Double = 1) {
        self.outSize = outSize
        self.styleDim = styleDim
        self.mlpLayers = mlpLayers
        self.channelMultiplier = channelMultiplier
        self.narrow = narrow
    }

    /// The enhancer config whose decoder has exactly this prior's tensors (the U-Net's
    /// settings are upstream's defaults; they do not touch the decoder).
    var decoderConfig: EnhancerConfig {
        EnhancerConfig(outSize: outSize, styleDim: styleDim, channelMultiplier: channelMultiplier, narrow: narrow, mlpLayers: mlpLayers)
    }

    var logSize: Int { outSize.trailingZeroBitCount }
    /// Style vectors the synthesis reads (upstream's `num_latent`).
    var latentCount: Int { 2 * logSize - 2 }
    /// StyleConvs, hence noise planes (upstream's `num_layers`).
    var noiseCount: Int { 2 * logSize - 3 }
    /// Side of StyleConv i's noise plane (4, 8, 8, 16, 16, ...).
    static func noiseSide(_ i: Int) -> Int { 1 << ((i + 5) / 2) }
    /// Floats of one image's noise planes, concatenated in layer order.
    var noiseFloats: Int { (0..<noiseCount).reduce(0) { $0 + Self.noiseSide($1) * Self.noiseSide($1) } }
    /// Synthesis channels at resolution `r`.
    func channels(_ r: Int) -> Int { decoderConfig.decoderChannels(r) }
    /// Resolutions of the levels after the 4 px start: 8, 16, …, outSize.
    var levels: [Int] { (3...logSize).map { 1 << $0 } }

    /// Upstream StyleGAN2GeneratorClean's state_dict `(name, shape)` pairs (parameters and the
    /// stored noises `noises.noiseK`): the enhancer layout's `stylegan_decoder.` tensors.
    var tensors: [(name: String, shape: [Int])] {
        let prefix = EnhancerNetworkPrefix.decoder
        return EnhancerLayout.tensors(for: decoderConfig).compactMap { t in
            t.name.hasPrefix(prefix) ? (String(t.name.dropFirst(prefix.count)), t.shape) : nil
        }
    }

    /// Names of the stored noise buffers (not parameters: not trained, not averaged).
    var noiseNames: [String] { (0..<noiseCount).map { "noises.noise\($0)" } }

    /// Throws `invalidArgument` naming the setting outside its range.
    func validate() throws {
        guard EnhancerConfig.sizeRange.contains(outSize), outSize & (outSize - 1) == 0 else {
            throw AVPGANError.invalid("the prior's size is \(outSize); it must be a power of two in \(EnhancerConfig.sizeRange)")
        }
        guard (1...4096).contains(styleDim) else { throw AVPGANError.invalid("the prior's style length is \(styleDim); it must be in 1...4096") }
        guard (1...64).contains(mlpLayers) else { throw AVPGANError.invalid("the prior's style MLP has \(mlpLayers) layers; it must have 1...64") }
        for (name, v) in [("channel multiplier", channelMultiplier), ("narrow", narrow)] where !(v.isFinite && v > 0 && v <= 64) {
            throw AVPGANError.invalid("the prior's \(name) is \(v); it must be in (0, 64]")
        }
        for r in [4] + levels where !(1...ModelConfig.maxWidth).contains(channels(r)) {
            throw AVPGANError.invalid("channel multiplier \(channelMultiplier) and narrow \(narrow) give the prior \(channels(r)) channels at \(r) px; expected 1...\(ModelConfig.maxWidth)")
        }
    }
}

/// Where the decoder's tensors sit in an enhancer file.
enum EnhancerNetworkPrefix {
    static let decoder = "stylegan_decoder."
}

extension EnhancerConfig {
    /// The face prior whose tensors this enhancer's decoder has.
    public var prior: PriorConfig {
        PriorConfig(outSize: outSize, styleDim: styleDim, mlpLayers: mlpLayers, channelMultiplier: channelMultiplier, narrow: narrow)
    }
}
