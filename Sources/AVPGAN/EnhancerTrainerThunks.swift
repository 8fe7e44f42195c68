import AVPGANCore
import CAVPGAN
#if canImport(Glibc)
import Glibc
#endif

// Enhancer trainer entry points: params, create, load, free, info, step, run, save, export, validate.

typealias EnhancerTrainerHandle = SessionTrainerHandle<EnhancerTrainingSession>

private func enhancerTrainer(_ handle: OpaquePointer?) throws -> EnhancerTrainerHandle { try .from(handle) }

/// A new session on `faces` as the handle's (one rank of a data-parallel run with a reducer).
private func publish(faces: String, options: EnhancerTrainingSession.Options, recipe: EnhancerTrainingSession.Recipe,
                     _ p: avpgan_enhancer_trainer_params, _ out: UnsafeMutablePointer<OpaquePointer?>) throws {
    let reducer = try CallbackReducer.from(p)
    let session = try EnhancerTrainingSession(faces: faces, options: options, recipe: recipe, reducer: reducer)
    EnhancerTrainerHandle.publish(session, cName: "avpgan_enhancer_trainer", lossNames: enhancerLossNames, ranks: reducer?.size ?? 1, out)
}

@_cdecl("avpgan_enhancer_loss_name")
public func avpgan_enhancer_loss_name(_ loss: Int32) -> UnsafePointer<CChar>? {
    SessionTrainerCalls.name(loss, in: enhancerLossNameStrings)
}

private let enhancerLossNameStrings = SessionTrainerCalls.cStrings(enhancerLossNames)

@_cdecl("avpgan_enhancer_trainer_params_init")
public func avpgan_enhancer_trainer_params_init(_ params: UnsafeMutablePointer<avpgan_enhancer_trainer_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultEnhancerTrainerParams, minimumSize: EnhancerTrainerStructSize.firstParams)
}

@_cdecl("avpgan_enhancer_trainer_create")
public func avpgan_enhancer_trainer_create(_ params: UnsafePointer<avpgan_enhancer_trainer_params>?,
                                           _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return CallBoundary.run {
        let out = try Argument.require(out, "out_trainer")
        let p = try EnhancerTrainerArguments.params(params)
        let faces = try EnhancerTrainerArguments.faces(p)
        try publish(faces: faces, options: try EnhancerTrainerArguments.options(p), recipe: try EnhancerTrainerArguments.recipe(p), p, out)
    }
}

@_cdecl("avpgan_enhancer_trainer_load_checkpoint")
public func avpgan_enhancer_trainer_load_checkpoint(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_enhancer_trainer_params>?,
                                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return CallBoundary.run {
        let out = try Argument.require(out, "out_trainer")
        let path = try DatasetArguments.string(path, "path")
        let p = try EnhancerTrainerArguments.params(params)
        let faces = try EnhancerTrainerArguments.faces(p)
        var options = try EnhancerTrainerArguments.options(p)
        options.resume = true
        options.resumeFrom = path
        var recipe = EnhancerTrainingSession.Recipe()
        let given = try EnhancerTrainerArguments.recipe(p)
        (recipe.perceptualPath, recipe.faceModelPath) = (given.perceptualPath, given.faceModelPath)
        try publish(faces: faces, options: options, recipe: recipe, p, out)
    }
}

@_cdecl("avpgan_enhancer_trainer_free")
public func avpgan_enhancer_trainer_free(_ handle: OpaquePointer?) {
    EnhancerTrainerHandle.free(handle)
}

@_cdecl("avpgan_enhancer_trainer_get_info")
public func avpgan_enhancer_trainer_get_info(_ handle: OpaquePointer?, _ info: UnsafeMutablePointer<avpgan_enhancer_trainer_info>?) -> Int32 {
    CallBoundary.run {
        let t = try enhancerTrainer(handle)
        let info = try Argument.require(info, "info")
        let full = try t.exclusive { t in
            let s = t.session, c = s.config
            var full = avpgan_enhancer_trainer_info()
            full.step = UInt64(s.step)
            full.size = UInt32(c.outSize)
            full.num_style_feat = UInt32(c.styleDim)
            full.channel_multiplier = c.channelMultiplier
            full.narrow = c.narrow
            full.batch_size = UInt32(s.batchSize)
            full.n_faces = UInt32(s.faces.count)
            full.n_training_faces = UInt32(s.faces.training.count)
            full.n_validation_faces = UInt32(s.faces.validation.count)
            Argument.copyValues(enhancerWeightTerms.map { s.losses[$0] }, into: &full.loss_weights)
            Argument.copyValues(t.lastLosses.values, into: &full.losses)
            full.losses_present = t.lastLosses.present
            return full
        }
        try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: EnhancerTrainerStructSize.info, name: "info")
    }
}

@_cdecl("avpgan_enhancer_trainer_step")
public func avpgan_enhancer_trainer_step(_ handle: OpaquePointer?, _ losses: UnsafeMutablePointer<Float>?,
                                         _ present: UnsafeMutablePointer<UInt32>?) -> Int32 {
    SessionTrainerCalls.step(EnhancerTrainingSession.self, handle, losses, present)
}

@_cdecl("avpgan_enhancer_trainer_run")
public func avpgan_enhancer_trainer_run(_ handle: OpaquePointer?, _ steps: UInt64,
                                        _ progress: avpgan_enhancer_progress_fn?, _ progressUser: UnsafeMutableRawPointer?,
                                        _ abort: avpgan_abort_fn?, _ abortUser: UnsafeMutableRawPointer?,
                                        _ stepsDone: UnsafeMutablePointer<UInt64>?) -> Int32 {
    SessionTrainerCalls.run(EnhancerTrainingSession.self, handle, steps, progress, progressUser, abort, abortUser, stepsDone)
}

@_cdecl("avpgan_enhancer_trainer_save")
public func avpgan_enhancer_trainer_save(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    SessionTrainerCalls.save(EnhancerTrainingSession.self, handle, path)
}

@_cdecl("avpgan_enhancer_trainer_export")
public func avpgan_enhancer_trainer_export(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    SessionTrainerCalls.export(EnhancerTrainingSession.self, handle, path)
}

@_cdecl("avpgan_enhancer_trainer_validate")
public func avpgan_enhancer_trainer_validate(_ handle: OpaquePointer?, _ result: UnsafeMutablePointer<avpgan_enhancer_validation>?) -> Int32 {
    CallBoundary.run {
        let t = try enhancerTrainer(handle)
        let result = try Argument.require(result, "result")
        try Argument.structSize(result.pointee.struct_size, minimum: EnhancerTrainerStructSize.validation, name: "result")
        let full = try t.exclusive { t in
            let s = t.session, report = try s.validate()
            return avpgan_enhancer_validation(struct_size: EnhancerTrainerStructSize.validation, step: UInt64(s.step),
                                              n_faces: UInt32(report.faces), low_size: UInt32(s.validationLowSize),
                                              psnr: report.enhancerPSNR, ssim: report.enhancerSSIM,
                                              bicubic_psnr: report.bicubicPSNR, bicubic_ssim: report.bicubicSSIM)
        }
        try Argument.fill(result, with: full, size: result.pointee.struct_size, minimumSize: EnhancerTrainerStructSize.validation, name: "result")
    }
}
