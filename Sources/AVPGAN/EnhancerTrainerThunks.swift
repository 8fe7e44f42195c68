import AVPGANCore
import CAVPGAN
#if canImport(Glibc)
import Glibc
#endif

// Enhancer trainer entry points: params, create, load, free, info, step, run, save, export, validate.

typealias EnhancerTrainerHandle = SessionTrainerHandle<EnhancerTrainingSession>

private func enhancerTrainer(_ handle: OpaquePointer?) throws -> EnhancerTrainerHandle { try .from(handle) }

/// A new session on `faces`, one rank of the data-parallel run of the params' reducer (checked
/// after the rest of the params), and that reducer.
private func session(_ p: avpgan_enhancer_trainer_params, faces: String, options: EnhancerTrainingSession.Options,
                     recipe: EnhancerTrainingSession.Recipe) throws -> (EnhancerTrainingSession, GradientReducer?) {
    let reducer = try CallbackReducer.from(p)
    return (try EnhancerTrainingSession(faces: faces, options: options, recipe: recipe, reducer: reducer), reducer)
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
    SessionTrainerCalls.open(out, cName: "avpgan_enhancer_trainer", lossNames: enhancerLossNames) { _ in
        let p = try EnhancerTrainerArguments.params(params)
        return try session(p, faces: try SessionTrainerFolder.faces(p.faces_dir), options: try EnhancerTrainerArguments.options(p),
                           recipe: try EnhancerTrainerArguments.recipe(p))
    }
}

@_cdecl("avpgan_enhancer_trainer_load_checkpoint")
public func avpgan_enhancer_trainer_load_checkpoint(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_enhancer_trainer_params>?,
                                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    SessionTrainerCalls.open(out, loading: path, cName: "avpgan_enhancer_trainer", lossNames: enhancerLossNames) { path in
        let p = try EnhancerTrainerArguments.params(params)
        let faces = try SessionTrainerFolder.faces(p.faces_dir)
        var options = try EnhancerTrainerArguments.options(p)
        (options.resume, options.resumeFrom) = (true, path)
        // The run's recipe is its checkpoint's: only the loss networks' files are read again.
        var recipe = EnhancerTrainingSession.Recipe()
        let given = try EnhancerTrainerArguments.recipe(p)
        (recipe.perceptualPath, recipe.faceModelPath) = (given.perceptualPath, given.faceModelPath)
        return try session(p, faces: faces, options: options, recipe: recipe)
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
