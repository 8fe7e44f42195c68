import AVPGANCore
import CAVPGAN
#if canImport(Glibc)
import Glibc
#endif

// Enhancer trainer entry points: params, create, load, free, info, step, run, save, export, validate.

/// An enhancer trainer handle: the session, the last step's losses, and the flag that keeps
/// calls on it from overlapping (a mutex only ever try-locked, so a second caller gets an
/// error instead of waiting or racing).
final class EnhancerTrainerHandle {
    let session: EnhancerTrainingSession
    var lastLosses = EnhancerStepLosses()
    private let mutex = PThreadMutex()

    init(_ session: EnhancerTrainingSession) { self.session = session }

    /// Runs `body` as the only call on this trainer, or throws when another is in progress.
    func exclusive<T>(_ body: (EnhancerTrainerHandle) throws -> T) throws -> T {
        guard mutex.tryLock() else {
            throw AVPGANError(.invalidArgument, "the enhancer trainer is busy: another call on it is in progress (another thread, or a callback of avpgan_enhancer_trainer_run); one call at a time")
        }
        defer { mutex.unlock() }
        return try body(self)
    }

    /// Up to `steps` steps (at least 1), each reported to `onStep`, asking `shouldStop` before
    /// each; a stopped run has saved into the checkpoint folder (if any) and throws `.aborted`,
    /// a diverged one throws `.modelFormat` with the session's message.
    func train(_ steps: Int, onStep: (Int, EnhancerStepLosses) -> Void, shouldStop: () -> Bool) throws {
        let first = session.step
        let outcome = try session.train(until: first + steps, onStep: { report in
            lastLosses = EnhancerStepLosses(report.losses)
            onStep(report.step - first, lastLosses)
        }, shouldStop: shouldStop)
        switch outcome {
        case .finished: return
        case .stopped:
            let saved = session.checkpointPath.map { "; the checkpoint was written to \($0)" } ?? ""
            throw AVPGANError(.aborted, "the abort callback stopped the run after \(session.step - first) of \(steps) steps (at step \(session.step))\(saved)")
        case let .diverged(_, message, _):
            throw AVPGANError(.modelFormat, "the run diverged: \(message); continue from the last checkpoint")
        }
    }
}

private func enhancerTrainer(_ handle: OpaquePointer?) throws -> EnhancerTrainerHandle {
    let handle = try Argument.require(handle, "trainer")
    return Unmanaged<EnhancerTrainerHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

private func publish(_ session: EnhancerTrainingSession, _ out: UnsafeMutablePointer<OpaquePointer?>) {
    out.pointee = OpaquePointer(Unmanaged.passRetained(EnhancerTrainerHandle(session)).toOpaque())
}

@_cdecl("avpgan_enhancer_loss_name")
public func avpgan_enhancer_loss_name(_ loss: Int32) -> UnsafePointer<CChar>? {
    guard loss >= 0, Int(loss) < enhancerLossNames.count else { return nil }
    return EnhancerLossNameStrings.pointers[Int(loss)]
}

/// The loss names as C strings that live as long as the process.
private enum EnhancerLossNameStrings {
    static let pointers: [UnsafePointer<CChar>] = enhancerLossNames.map { UnsafePointer(strdup($0)!) }
}

@_cdecl("avpgan_enhancer_trainer_params_init")
public func avpgan_enhancer_trainer_params_init(_ params: UnsafeMutablePointer<avpgan_enhancer_trainer_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultEnhancerTrainerParams, minimumSize: EnhancerTrainerStructSize.params)
}

@_cdecl("avpgan_enhancer_trainer_create")
public func avpgan_enhancer_trainer_create(_ params: UnsafePointer<avpgan_enhancer_trainer_params>?,
                                           _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return CallBoundary.run {
        let out = try Argument.require(out, "out_trainer")
        let p = try EnhancerTrainerArguments.params(params)
        let faces = try EnhancerTrainerArguments.faces(p)
        publish(try EnhancerTrainingSession(faces: faces, options: try EnhancerTrainerArguments.options(p),
                                            recipe: try EnhancerTrainerArguments.recipe(p)), out)
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
        publish(try EnhancerTrainingSession(faces: faces, options: options, recipe: recipe), out)
    }
}

@_cdecl("avpgan_enhancer_trainer_free")
public func avpgan_enhancer_trainer_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<EnhancerTrainerHandle>.fromOpaque(UnsafeRawPointer(handle)).release()
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
    CallBoundary.run {
        let t = try enhancerTrainer(handle)
        try t.exclusive { t in
            try t.train(1, onStep: { _, _ in }, shouldStop: { false })
            t.lastLosses.write(losses, present)
        }
    }
}

@_cdecl("avpgan_enhancer_trainer_run")
public func avpgan_enhancer_trainer_run(_ handle: OpaquePointer?, _ steps: UInt64,
                                        _ progress: avpgan_enhancer_progress_fn?, _ progressUser: UnsafeMutableRawPointer?,
                                        _ abort: avpgan_abort_fn?, _ abortUser: UnsafeMutableRawPointer?,
                                        _ stepsDone: UnsafeMutablePointer<UInt64>?) -> Int32 {
    stepsDone?.pointee = 0
    return CallBoundary.run {
        let t = try enhancerTrainer(handle)
        try t.exclusive { t in
            guard (1...(UInt64(1) << 40)).contains(steps) else {
                throw AVPGANError(.invalidArgument, "n_steps is \(steps), expected 1...2^40")
            }
            try t.train(Int(steps), onStep: { done, losses in
                stepsDone?.pointee = UInt64(done)
                if let progress { losses.values.withUnsafeBufferPointer { progress(UInt64(done), steps, $0.baseAddress, losses.present, progressUser) } }
            }, shouldStop: { abort.map { $0(abortUser) != 0 } ?? false })
        }
    }
}

/// Runs `write` on the trainer's session and the path (as the only call on the trainer).
private func writeEnhancerTrainerFile(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                                      _ write: (EnhancerTrainingSession, String) throws -> Void) -> Int32 {
    CallBoundary.run {
        let t = try enhancerTrainer(handle)
        let path = try DatasetArguments.string(path, "path")
        try t.exclusive { try write($0.session, path) }
    }
}

@_cdecl("avpgan_enhancer_trainer_save")
public func avpgan_enhancer_trainer_save(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    writeEnhancerTrainerFile(handle, path) { try FileIO.write($0.checkpoint(), to: $1) }
}

@_cdecl("avpgan_enhancer_trainer_export")
public func avpgan_enhancer_trainer_export(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    writeEnhancerTrainerFile(handle, path) { try $0.export(to: $1) }
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
