import AVPGANCore
import CAVPGAN

// avpgan_enhancer_trainer_params: defaults, and their reading into a session's options and recipe.

enum EnhancerTrainerStructSize {
    static let params = MemoryLayout<avpgan_enhancer_trainer_params>.stride
    static let info = MemoryLayout<avpgan_enhancer_trainer_info>.stride
    static let validation = MemoryLayout<avpgan_enhancer_validation>.stride
}

/// A C host steps the session in pieces (`train(until:)`): its run has no end of its own.
let enhancerTrainerOpenEnd = 1 << 62

let defaultEnhancerTrainerParams: avpgan_enhancer_trainer_params = {
    let recipe = EnhancerTrainingSession.Recipe(), options = EnhancerTrainingSession.Options(), w = recipe.losses
    return avpgan_enhancer_trainer_params(
        struct_size: EnhancerTrainerStructSize.params, faces_dir: nil, checkpoint_dir: nil, size: 0,
        widths: Int32(AVPGAN_ENHANCER_WIDTHS_SMALL.rawValue), channel_multiplier: 0, narrow: 0, init_enhancer: nil,
        perceptual: nil, face_model: nil, loss_l1: w.l1, loss_perceptual: w.perceptual, loss_perceptual_style: w.perceptualStyle,
        loss_adversarial: w.adversarial, loss_facial_components: w.facialComponents, loss_component_style: w.componentStyle,
        loss_identity: w.identity, lr: EnhancerTrainingSettings().generatorLR, batch_size: 0, seed: recipe.seed,
        validation_fraction: recipe.validationFraction, checkpoint_every: UInt32(options.checkpointEvery),
        sheet_rows: UInt32(options.sheetRows), validation_low_size: 0)
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

/// A step's losses as the C API hands them out: AVPGAN_ENHANCER_N_LOSSES floats and the mask of those computed.
struct EnhancerStepLosses {
    var values = [Float](repeating: 0, count: enhancerLossNames.count)
    var present: UInt32 = 0

    init() {}

    init(_ losses: [String: Float]) {
        for (i, name) in enhancerLossNames.enumerated() {
            if let v = losses[name] { values[i] = v; present |= 1 << UInt32(i) }
        }
    }

    func write(_ losses: UnsafeMutablePointer<Float>?, _ present: UnsafeMutablePointer<UInt32>?) {
        losses?.update(from: values, count: values.count)
        present?.pointee = self.present
    }
}

/// The session's options and recipe from a caller's params (checked by name; the session checks the rest).
enum EnhancerTrainerArguments {
    static func params(_ pointer: UnsafePointer<avpgan_enhancer_trainer_params>?) throws -> avpgan_enhancer_trainer_params {
        try Argument.params(try Argument.require(pointer, "params"), defaults: defaultEnhancerTrainerParams,
                            minimumSize: EnhancerTrainerStructSize.params, name: "params")
    }

    static func faces(_ p: avpgan_enhancer_trainer_params) throws -> String {
        try DatasetArguments.string(p.faces_dir, "params.faces_dir")
    }

    static func options(_ p: avpgan_enhancer_trainer_params) throws -> EnhancerTrainingSession.Options {
        var o = EnhancerTrainingSession.Options()
        o.steps = enhancerTrainerOpenEnd
        o.checkpointDirectory = try optionalString(p.checkpoint_dir, "params.checkpoint_dir")
        guard p.checkpoint_every >= 1 else { throw AVPGANError(.invalidArgument, "params.checkpoint_every is 0, expected at least 1") }
        // Without a folder there is nothing to checkpoint into: no automatic validations either.
        o.checkpointEvery = o.checkpointDirectory == nil ? enhancerTrainerOpenEnd : Int(p.checkpoint_every)
        guard p.batch_size <= 4096 else { throw AVPGANError(.invalidArgument, "params.batch_size is \(p.batch_size), expected 1...4096 (0: the default)") }
        o.batchSize = p.batch_size == 0 ? nil : Int(p.batch_size)
        guard p.sheet_rows <= 4096 else { throw AVPGANError(.invalidArgument, "params.sheet_rows is \(p.sheet_rows), expected 0...4096") }
        o.sheetRows = Int(p.sheet_rows)
        o.validationLowSize = p.validation_low_size == 0 ? nil : Int(p.validation_low_size)
        return o
    }

    /// The recipe of a new run; a resumed run reads only its network files.
    static func recipe(_ p: avpgan_enhancer_trainer_params) throws -> EnhancerTrainingSession.Recipe {
        var r = EnhancerTrainingSession.Recipe()
        r.perceptualPath = try optionalString(p.perceptual, "params.perceptual")
        r.faceModelPath = try optionalString(p.face_model, "params.face_model")
        r.initPath = try optionalString(p.init_enhancer, "params.init_enhancer")
        r.size = p.size == 0 ? nil : Int(p.size)
        guard let widths = enhancerWidthCodes.first(where: { $0.0 == p.widths })?.1 else {
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

    private static func optionalString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String? {
        guard pointer != nil else { return nil }
        return try DatasetArguments.string(pointer, name)
    }
}
