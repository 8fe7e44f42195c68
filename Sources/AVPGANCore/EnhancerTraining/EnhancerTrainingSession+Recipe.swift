/// What a new enhancer training session trains (`EnhancerTrainingSession.Recipe`) and how it
/// makes its networks: the generator fresh (`EnhancerInitializer`) at one of the `Widths`, its
/// decoder from a face prior (`priorPath`), or all of it from an enhancer file (`initPath`,
/// fine-tuning), the discriminators always fresh, the loss
/// networks from their files, each loss without its network turned off (one note each).
extension EnhancerTrainingSession {
    /// Shapes of a new enhancer; every one keeps GFPGAN v1.3/v1.4's layout (`different_w`,
    /// `sft_half`, `input_is_latent`, 8 MLP layers unused by the latent input).
    public enum Widths: String, CaseIterable, Sendable {
        /// v1.3/v1.4's widths: num_style_feat 512, channel_multiplier 2, narrow 1.
        case full
        /// num_style_feat 64, channel_multiplier 1, narrow 0.25 (3.2M parameters at 128 px).
        case small
        /// num_style_feat 8, channel_multiplier 1, narrow 1/64 (tests).
        case tiny

        /// The enhancer of these widths at `size` px; `channelMultiplier` and `narrow` replace
        /// the preset's when given.
        public func config(size: Int, channelMultiplier: Double? = nil, narrow: Double? = nil) -> EnhancerConfig {
            let (style, m, n): (Int, Double, Double) = switch self {
            case .full: (512, 2, 1)
            case .small: (64, 1, 0.25)
            case .tiny: (8, 1, 1.0 / 64)
            }
            return EnhancerConfig(outSize: size, styleDim: style, channelMultiplier: channelMultiplier ?? m, narrow: narrow ?? n, mlpLayers: 8,
                                  differentW: true, sftHalf: true, inputIsLatent: true)
        }
    }

    public struct Recipe: Sendable {
        /// Training size: nil takes the faces' (a fine-tuned enhancer's must match it).
        public var size: Int?
        public var widths: Widths = .small
        public var channelMultiplier: Double?
        public var narrow: Double?
        /// An enhancer file to fine-tune (a converted GFPGAN or one of ours): the generator and
        /// its EMA start from it, the discriminators fresh; `size` and the widths are its own.
        public var initPath: String?
        /// A face-prior file (`avpgan train-prior`, `PriorFile`) for a new enhancer's decoder
        /// (GFPGAN's `decoder_load_path`), the rest fresh; it must be the decoder of `widths`
        /// at the training size. Exclusive with `initPath`.
        public var priorPath: String?
        /// A face-recognition model (`tools/converters/convert_face.py`) for the identity loss.
        public var faceModelPath: String?
        /// A VGG-19 file (`tools/converters/convert_vgg.py`) for the perceptual losses.
        public var perceptualPath: String?
        /// The loss weights (the paper's by default); a loss whose network is not given is off.
        public var losses = EnhancerLossWeights()
        /// Learning rate of the generator and the discriminators (nil: upstream's 2e-3).
        public var lr: Double?
        /// The generator's Adam betas (nil: upstream's (0, 0.99), made for the adversarial game;
        /// a run on the pixel loss alone learns faster with momentum, e.g. (0.9, 0.99)).
        public var generatorBetas: (Double, Double)?
        /// Decay of the generator's averaged (EMA) copy, the one exported and validated (nil:
        /// upstream's 0.5^(32/10000) ≈ 0.99778, a half-life of about 312 steps; a run of a few
        /// hundred steps needs a shorter one, or its EMA keeps much of the random start).
        public var emaDecay: Double?
        /// Seeds the networks, the noise, the batches and the held-out split.
        public var seed: UInt64 = 1
        /// Share of the faces held out for validation (`EnhancerFaceSet.Options`).
        public var validationFraction = 0.05
        /// How the training inputs are made from the faces (GFPGAN's ranges by default).
        public var degradation = FaceDegradation()

        public init() {}
    }

    /// The loss networks of `recipe` (nil where no file is given).
    static func lossNetworks(_ recipe: Recipe) throws -> (perceptual: VGG19Features?, face: FaceNetwork?) {
        (try recipe.perceptualPath.map { try VGG19Features(path: $0) }, try recipe.faceModelPath.map { try FaceModel(path: $0).network })
    }

    /// The settings of a new run: `recipe`'s losses, those without a network turned off, each
    /// with a note saying so.
    static func settings(_ recipe: Recipe, notes: inout [String]) throws -> EnhancerTrainingSettings {
        var s = EnhancerTrainingSettings()
        s.losses = recipe.losses
        if recipe.perceptualPath == nil && (s.losses.isEnabled(.perceptual) || s.losses.isEnabled(.perceptualStyle)) {
            s.losses.perceptual = 0
            s.losses.perceptualStyle = 0
            notes.append("the perceptual loss is off: no VGG-19 file was given (tools/converters/convert_vgg.py makes one)")
        }
        if recipe.faceModelPath == nil && s.losses.isEnabled(.identity) {
            s.losses.identity = 0
            notes.append("the identity loss is off: no face-recognition model was given (tools/converters/convert_face.py makes one)")
        }
        if let lr = recipe.lr { (s.generatorLR, s.discriminatorLR, s.componentLR) = (lr, lr, lr) }
        if let decay = recipe.emaDecay { s.emaDecay = decay }
        if let betas = recipe.generatorBetas { s.generatorBetas = betas }
        try s.validate()
        return s
    }

    /// The generator's tensors and config of a new run on faces of `size` px.
    static func generator(_ recipe: Recipe, size: Int) throws -> ([String: [Float]], EnhancerConfig) {
        guard recipe.initPath == nil || recipe.priorPath == nil else {
            throw AVPGANError.invalid("a prior starts a new enhancer's decoder and an enhancer file to fine-tune is a whole one: give one of them")
        }
        guard let path = recipe.initPath else {
            let config = recipe.widths.config(size: size, channelMultiplier: recipe.channelMultiplier, narrow: recipe.narrow)
            do { try config.checkWidths() } catch let e as AVPGANError { throw AVPGANError.invalid(e.message) }
            let prior = try recipe.priorPath.map { try PriorFile.read(path: $0) }
            do {
                return (try EnhancerInitializer.generator(config, seed: EnhancerBatchSampler.mix(recipe.seed, 1, 0xE1), prior: prior), config)
            } catch let e as AVPGANError where prior != nil {
                throw AVPGANError.invalid("the face prior '\(recipe.priorPath!)' does not fit: \(e.message) (the recipe's widths at the faces' size)")
            }
        }
        let file = try Safetensors(bytes: try FileIO.read(path, limit: Enhancer.maxFileBytes))
        let config = try EnhancerConfig.parse(metadata: file.metadata)
        let layout = EnhancerLayout.tensors(for: config)
        let tensors = try CheckedTensors(file: file, expected: layout, missing: "an enhancer of \(config.outSize) px",
                                         extra: "an enhancer of \(config.outSize) px")
        var values: [String: [Float]] = [:]
        for t in layout { values[t.name] = try tensors.floats(t.name) }
        return (values, config)
    }

    /// The fresh discriminators a run with `settings` needs for an enhancer of `config`: the face
    /// discriminator at its size with channel_multiplier 1 (GFPGAN's training options) and its
    /// narrow; the component discriminators at GFPGAN's widths (64, 128, 256) times that narrow.
    static func discriminators(_ config: EnhancerConfig, settings: EnhancerTrainingSettings, seed: UInt64, batch: Int) throws
        -> (StyleGAN2Discriminator?, [FacialComponentDiscriminator]?) {
        var face: StyleGAN2Discriminator?
        if settings.losses.isEnabled(.adversarial) {
            let c = StyleGAN2Discriminator.Config(size: config.outSize, channelMultiplier: 1, narrow: config.narrow)
            guard MinibatchStddev.groupSize(batch: batch, group: c.stddevGroup) != nil else {
                throw AVPGANError.invalid("a batch of \(batch) does not divide into the face discriminator's groups of min(\(batch), \(c.stddevGroup)): use a multiple of \(c.stddevGroup) or fewer than \(c.stddevGroup)")
            }
            face = try EnhancerInitializer.discriminator(c, seed: EnhancerBatchSampler.mix(seed, 2, 0xD1))
        }
        guard settings.losses.isEnabled(.facialComponents) || settings.losses.isEnabled(.componentStyle) else { return (face, nil) }
        let w = [64.0, 128, 256].map { max(1, Int($0 * config.narrow)) }
        let parts = try (0..<3).map { try EnhancerInitializer.component(widths: (w[0], w[1], w[2]), seed: EnhancerBatchSampler.mix(seed, 3 + UInt64($0), 0xC1)) }
        return (face, parts)
    }
}
