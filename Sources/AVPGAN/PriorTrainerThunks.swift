import AVPGANCore
import CAVPGAN

// Face-prior trainer entry points (avpgan train-prior as a handle): params, create, load, free,
// info, step, run, save, export. The handle and the step, run and file thunks' bodies are the
// enhancer trainer's (SessionTrainerHandle.swift).

typealias PriorTrainerHandle = SessionTrainerHandle<PriorTrainingSession>

private let priorParamsSize = MemoryLayout<avpgan_prior_trainer_params>.stride
/// The size of the first released params (up to truncation): a caller built against it gets
/// the defaults (alone) for the data-parallel fields.
private let firstPriorParamsSize = MemoryLayout<avpgan_prior_trainer_params>.offset(of: \avpgan_prior_trainer_params.allreduce)!
private let priorInfoSize = MemoryLayout<avpgan_prior_trainer_info>.stride

/// The losses of a prior step in avpgan_prior_loss order, under upstream's log names.
let priorLossNames = ["l_d", "real_score", "fake_score", "l_d_r1", "l_g", "l_g_path", "path_length"]
private let priorLossNameStrings = SessionTrainerCalls.cStrings(priorLossNames)

private let defaultPriorTrainerParams: avpgan_prior_trainer_params = {
    let recipe = PriorTrainingSession.Recipe(), options = PriorTrainingSession.Options()
    return avpgan_prior_trainer_params(
        struct_size: priorParamsSize, faces_dir: nil, checkpoint_dir: nil, size: 0, widths: Int32(AVPGAN_ENHANCER_WIDTHS_SMALL.rawValue),
        lr: PriorTrainingSettings().generatorLR, seed: recipe.seed, batch_size: 0, checkpoint_every: UInt32(options.checkpointEvery),
        sheet_samples: UInt32(options.sheetSamples), truncation: options.truncation, allreduce: nil, allreduce_user_data: nil, rank: 0,
        n_ranks: 0)
}()

/// The session's options and recipe from a caller's params (checked by name; the session checks the rest).
private enum PriorTrainerArguments {
    static func params(_ pointer: UnsafePointer<avpgan_prior_trainer_params>?) throws -> avpgan_prior_trainer_params {
        try Argument.params(try Argument.require(pointer, "params"), defaults: defaultPriorTrainerParams,
                            minimumSize: firstPriorParamsSize, name: "params")
    }

    static func options(_ p: avpgan_prior_trainer_params) throws -> PriorTrainingSession.Options {
        var o: PriorTrainingSession.Options = try SessionTrainerFolder(directory: p.checkpoint_dir, every: p.checkpoint_every,
                                                                       batch: p.batch_size).options()
        guard p.sheet_samples <= 256 else { throw AVPGANError(.invalidArgument, "params.sheet_samples is \(p.sheet_samples), expected 0...256") }
        o.sheetSamples = Int(p.sheet_samples)
        guard p.truncation.isFinite else { throw AVPGANError(.invalidArgument, "params.truncation is \(p.truncation), expected a finite number (1: none)") }
        o.truncation = p.truncation
        return o
    }

    /// The recipe of a new run (a resumed run takes its checkpoint's).
    static func recipe(_ p: avpgan_prior_trainer_params) throws -> PriorTrainingSession.Recipe {
        var r = PriorTrainingSession.Recipe()
        r.size = p.size == 0 ? nil : Int(p.size)
        guard let widths = EnhancerTrainerArguments.widths(p.widths) else {
            throw AVPGANError(.invalidArgument, "params.widths is \(p.widths), not an avpgan_enhancer_widths value (SMALL 0, FULL 1, TINY 2)")
        }
        r.widths = widths
        guard p.lr.isFinite, p.lr >= 0 else { throw AVPGANError(.invalidArgument, "params.lr is \(p.lr), expected a finite number >= 0") }
        r.lr = p.lr
        r.seed = p.seed
        return r
    }
}

/// A new session on `faces`, one rank of the data-parallel run of the params' reducer (checked
/// after the rest of the params), and that reducer.
private func session(_ p: avpgan_prior_trainer_params, faces: String, options: PriorTrainingSession.Options,
                     recipe: PriorTrainingSession.Recipe = .init()) throws -> (PriorTrainingSession, GradientReducer?) {
    let reducer = try CallbackReducer.from(p)
    return (try PriorTrainingSession(faces: faces, options: options, recipe: recipe, reducer: reducer), reducer)
}

@_cdecl("avpgan_prior_loss_name")
public func avpgan_prior_loss_name(_ loss: Int32) -> UnsafePointer<CChar>? {
    SessionTrainerCalls.name(loss, in: priorLossNameStrings)
}

@_cdecl("avpgan_prior_trainer_params_init")
public func avpgan_prior_trainer_params_init(_ params: UnsafeMutablePointer<avpgan_prior_trainer_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultPriorTrainerParams, minimumSize: firstPriorParamsSize)
}

@_cdecl("avpgan_prior_trainer_create")
public func avpgan_prior_trainer_create(_ params: UnsafePointer<avpgan_prior_trainer_params>?,
                                        _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    SessionTrainerCalls.open(out, cName: "avpgan_prior_trainer", lossNames: priorLossNames) { _ in
        let p = try PriorTrainerArguments.params(params)
        return try session(p, faces: try SessionTrainerFolder.faces(p.faces_dir), options: try PriorTrainerArguments.options(p),
                           recipe: try PriorTrainerArguments.recipe(p))
    }
}

@_cdecl("avpgan_prior_trainer_load_checkpoint")
public func avpgan_prior_trainer_load_checkpoint(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_prior_trainer_params>?,
                                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    SessionTrainerCalls.open(out, loading: path, cName: "avpgan_prior_trainer", lossNames: priorLossNames) { path in
        let p = try PriorTrainerArguments.params(params)
        let faces = try SessionTrainerFolder.faces(p.faces_dir)
        var options = try PriorTrainerArguments.options(p)
        (options.resume, options.resumeFrom) = (true, path)
        return try session(p, faces: faces, options: options)
    }
}

@_cdecl("avpgan_prior_trainer_free")
public func avpgan_prior_trainer_free(_ handle: OpaquePointer?) {
    PriorTrainerHandle.free(handle)
}

@_cdecl("avpgan_prior_trainer_get_info")
public func avpgan_prior_trainer_get_info(_ handle: OpaquePointer?, _ info: UnsafeMutablePointer<avpgan_prior_trainer_info>?) -> Int32 {
    CallBoundary.run {
        let t = try PriorTrainerHandle.from(handle)
        let info = try Argument.require(info, "info")
        let full = try t.exclusive { t in
            let s = t.session, c = s.config
            var full = avpgan_prior_trainer_info()
            full.step = UInt64(s.step)
            (full.size, full.num_style_feat, full.num_mlp) = (UInt32(c.outSize), UInt32(c.styleDim), UInt32(c.mlpLayers))
            (full.channel_multiplier, full.narrow) = (c.channelMultiplier, c.narrow)
            full.batch_size = UInt32(s.batchSize)
            (full.n_faces, full.n_training_faces) = (UInt32(s.faces.count), UInt32(s.faces.training.count))
            Argument.copyValues(t.lastLosses.values, into: &full.losses)
            full.losses_present = t.lastLosses.present
            return full
        }
        try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: priorInfoSize, name: "info")
    }
}

@_cdecl("avpgan_prior_trainer_step")
public func avpgan_prior_trainer_step(_ handle: OpaquePointer?, _ losses: UnsafeMutablePointer<Float>?,
                                      _ present: UnsafeMutablePointer<UInt32>?) -> Int32 {
    SessionTrainerCalls.step(PriorTrainingSession.self, handle, losses, present)
}

@_cdecl("avpgan_prior_trainer_run")
public func avpgan_prior_trainer_run(_ handle: OpaquePointer?, _ steps: UInt64,
                                     _ progress: avpgan_prior_progress_fn?, _ progressUser: UnsafeMutableRawPointer?,
                                     _ abort: avpgan_abort_fn?, _ abortUser: UnsafeMutableRawPointer?,
                                     _ stepsDone: UnsafeMutablePointer<UInt64>?) -> Int32 {
    SessionTrainerCalls.run(PriorTrainingSession.self, handle, steps, progress, progressUser, abort, abortUser, stepsDone)
}

@_cdecl("avpgan_prior_trainer_save")
public func avpgan_prior_trainer_save(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    SessionTrainerCalls.save(PriorTrainingSession.self, handle, path)
}

@_cdecl("avpgan_prior_trainer_export")
public func avpgan_prior_trainer_export(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    SessionTrainerCalls.export(PriorTrainingSession.self, handle, path)
}
