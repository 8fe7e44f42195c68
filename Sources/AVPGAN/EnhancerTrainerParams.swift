import AVPGANCore
import CAVPGAN

// avpgan_enhancer_trainer_params: defaults, and their reading into a session's options and recipe.

enum EnhancerTrainerStructSize {
    static let params = MemoryLayout<avpgan_enhancer_trainer_params>.stride
    /// The size of the first released params (up to validation_low_size): a caller built
    /// against it gets the defaults (alone) for the data-parallel fields.
    static let firstParams = MemoryLayout<avpgan_enhancer_trainer_params>.offset(of: \avpgan_enhancer_trainer_params.allreduce)!
    static let info = MemoryLayout<avpgan_enhancer_trainer_info>.stride
    static let validation = MemoryLayout<avpgan_enhancer_validation>.stride
}

let defaultEnhancerTrainerParams: avpgan_enhancer_trainer_params = {
    let recipe = EnhancerTrainingSession.Recipe(), options = EnhancerTrainingSession.Options(), w = recipe.losses
    return avpgan_enhancer_trainer_params(
        struct_size: EnhancerTrainerStructSize.params, faces_dir: nil, checkpoint_dir: nil, size: 0,
        widths: Int32(AVPGAN_ENHANCER_WIDTHS_SMALL.rawValue), channel_multiplier: 0, narrow: 0, init_enhancer: nil,
        perceptual: nil, face_model: nil, loss_l1: w.l1, loss_perceptual: w.perceptual, loss_perceptual_style: w.perceptualStyle,
        loss_adversarial: w.adversarial, loss_facial_components: w.facialComponents, loss_component_style: w.componentStyle,
        loss_identity: w.identity, lr: EnhancerTrainingSettings().generatorLR, batch_size: 0, seed: recipe.seed,
        validation_fraction: recipe.validationFraction, checkpoint_every: UInt32(options.checkpointEvery),
        sheet_rows: UInt32(options.sheetRows), validation_low_size: 0, allreduce: nil, allreduce_user_data: nil, rank: 0, n_ranks: 0)
}()

/// What the C API calls the session's widths.
private let enhancerWidthCodes: [(Int32, EnhancerTrainingSession.Widths)] = [
    (Int32(AVPGAN_ENHANCER_WIDTHS_SMALL.rawValue), .small), (Int32(AVPGAN_ENHANCER_WIDTHS_FULL.rawValue), .full),
    (Int32(AVPGAN_ENHANCER_WIDTHS_TINY.rawValue), .tiny),
]

/// The losses of a step in avpgan_enhancer_loss order, under upstream's log names.
let enhancerLossNames = ["l_g_pix", "l_g_percep", "l_g_style", "l_g_gan", "l_g_gan_left_eye", "l_g_gan_right_eye", "l_g_gan_mouth",
                         "l_g_comp_style_loss", "l_identity", "l_d", "real_score", "fake_score", "l_d_r1", "l_d_left_eye",
                         "l_d_right_eye", "l_d_mouth"]

/// The loss weights in avpgan_enhancer_trainer_params order.
let enhancerWeightTerms: [EnhancerLossWeights.Term] = [.l1, .perceptual, .perceptualStyle, .adversarial, .facialComponents,
                                                       .componentStyle, .identity]

/// The session's options and recipe from a caller's params (checked by name; the session checks the rest).
enum EnhancerTrainerArguments {
    static func params(_ pointer: UnsafePointer<avpgan_enhancer_trainer_params>?) throws -> avpgan_enhancer_trainer_params {
        try Argument.params(try Argument.require(pointer, "params"), defaults: defaultEnhancerTrainerParams,
                            minimumSize: EnhancerTrainerStructSize.firstParams, name: "params")
    }

    /// The session's widths of an avpgan_enhancer_widths code (nil: not one).
    static func widths(_ code: Int32) -> EnhancerTrainingSession.Widths? {
        enhancerWidthCodes.first(where: { $0.0 == code })?.1
    }

    static func options(_ p: avpgan_enhancer_trainer_params) throws -> EnhancerTrainingSession.Options {
        // Without a folder there is nothing to checkpoint into: no automatic validations either.
        var o: EnhancerTrainingSession.Options = try SessionTrainerFolder(directory: p.checkpoint_dir, every: p.checkpoint_every,
                                                                          batch: p.batch_size).options()
        guard p.sheet_rows <= 4096 else { throw AVPGANError(.invalidArgument, "params.sheet_rows is \(p.sheet_rows), expected 0...4096") }
        o.sheetRows = Int(p.sheet_rows)
        o.validationLowSize = p.validation_low_size == 0 ? nil : Int(p.validation_low_size)
        return o
    }

    /// The recipe of a new run; a resumed run reads only its network files.
    static func recipe(_ p: avpgan_enhancer_trainer_params) throws -> EnhancerTrainingSession.Recipe {
        var r = EnhancerTrainingSession.Recipe()
        r.perceptualPath = try DatasetArguments.optionalString(p.perceptual, "params.perceptual")
        r.faceModelPath = try DatasetArguments.optionalString(p.face_model, "params.face_model")
        r.initPath = try DatasetArguments.optionalString(p.init_enhancer, "params.init_enhancer")
        r.size = p.size == 0 ? nil : Int(p.size)
        guard let widths = widths(p.widths) else {
            throw AVPGANError(.invalidArgument, "params.widths is \(p.widths), not an avpgan_enhancer_widths value (SMALL 0, FULL 1, TINY 2)")
        }
        r.widths = widths
        for (name, value) in [("channel_multiplier", p.channel_multiplier), ("narrow", p.narrow)] where !(value.isFinite && value >= 0) {
            throw AVPGANError(.invalidArgument, "params.\(name) is \(value); expected 0 (the widths' own) or a positive number")
        }
        r.channelMultiplier = p.channel_multiplier == 0 ? nil : p.channel_multiplier
        r.narrow = p.narrow == 0 ? nil : p.narrow
        let weights = [p.loss_l1, p.loss_perceptual, p.loss_perceptual_style, p.loss_adversarial, p.loss_facial_components,
                       p.loss_component_style, p.loss_identity]
        for (term, weight) in zip(enhancerWeightTerms, weights) { r.losses[term] = weight }
        r.lr = p.lr
        r.seed = p.seed
        r.validationFraction = p.validation_fraction
        return r
    }
}
