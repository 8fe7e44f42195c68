import AVPGANCore
import CAVPGAN

// Voice-encoder pre-training entry points (avpgan train-voice).

private let voiceParamsSize = MemoryLayout<avpgan_voice_training_params>.stride
/// The size of the first released avpgan_voice_training_params (up to abort_user_data): a
/// caller built against it gets the defaults (alone) for the data-parallel fields.
private let voiceParamsFirstSize = MemoryLayout<avpgan_voice_training_params>.offset(of: \avpgan_voice_training_params.allreduce)!
private let voiceResultSize = MemoryLayout<avpgan_voice_training_result>.stride

private let defaultVoiceParams: avpgan_voice_training_params = {
    let o = VoiceEncoderTrainingSession.Options()
    return avpgan_voice_training_params(
        struct_size: voiceParamsSize, voices_dir: nil, test_list: nil, split: Int32(AVPGAN_SPLIT_TEST_LIST.rawValue),
        widths: Int32(AVPGAN_WIDTHS_FULL.rawValue), cache_dir: nil, output: nil, checkpoint_dir: nil, log_path: nil, resume: 0,
        steps: UInt64(o.steps), batch_size: UInt32(o.batchSize), checkpoint_every: UInt32(o.checkpointEvery), lr: o.lr, seed: o.seed,
        progress: nil, progress_user_data: nil, abort_fn: nil, abort_user_data: nil,
        allreduce: nil, allreduce_user_data: nil, rank: 0, n_ranks: 0)
}()

@_cdecl("avpgan_voice_training_params_init")
public func avpgan_voice_training_params_init(_ params: UnsafeMutablePointer<avpgan_voice_training_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultVoiceParams, minimumSize: voiceParamsFirstSize)
}

/// The session options of `p`, every field checked.
private func sessionOptions(_ p: avpgan_voice_training_params) throws -> VoiceEncoderTrainingSession.Options {
    var o = VoiceEncoderTrainingSession.Options()
    guard p.steps <= UInt64(1) << 40 else { throw AVPGANError(.invalidArgument, "params.steps is \(p.steps), expected 0...2^40") }
    guard (2...4096).contains(p.batch_size) else { throw AVPGANError(.invalidArgument, "params.batch_size is \(p.batch_size), expected 2...4096") }
    guard p.checkpoint_every >= 1 else { throw AVPGANError(.invalidArgument, "params.checkpoint_every is 0, expected at least 1") }
    guard p.lr.isFinite, p.lr > 0, p.lr < 1 else { throw AVPGANError(.invalidArgument, "params.lr is \(p.lr), expected a number in (0, 1)") }
    switch p.widths {
    case Int32(AVPGAN_WIDTHS_FULL.rawValue): o.widths = .full
    case Int32(AVPGAN_WIDTHS_TINY.rawValue): o.widths = .tiny
    default: throw AVPGANError(.invalidArgument, "params.widths is \(p.widths), not an avpgan_widths value")
    }
    guard p.resume == 0 || p.resume == 1 else { throw AVPGANError(.invalidArgument, "params.resume is \(p.resume), expected 0 or 1") }
    o.steps = Int(p.steps)
    o.batchSize = Int(p.batch_size)
    o.checkpointEvery = Int(p.checkpoint_every)
    o.lr = p.lr
    o.seed = p.seed
    o.resume = p.resume != 0
    o.checkpointDirectory = try p.checkpoint_dir.map { try DatasetArguments.string($0, "params.checkpoint_dir") }
    o.logPath = try p.log_path.map { try DatasetArguments.string($0, "params.log_path") }
    if o.resume && o.checkpointDirectory == nil {
        throw AVPGANError(.invalidArgument, "params.resume is 1 but params.checkpoint_dir is NULL; resuming reads its voice-checkpoint.safetensors")
    }
    return o
}

/// What the ranks of data-parallel pre-training must agree on besides the run's state.
private func voiceFingerprint(_ p: avpgan_voice_training_params) -> String {
    [p.voices_dir, p.test_list].map { $0.map { String(cString: $0) } ?? "-" }.joined(separator: "|")
        + "|split \(p.split)|widths \(p.widths)|steps \(p.steps)|batch \(p.batch_size)|lr \(p.lr)|seed \(p.seed)|resume \(p.resume)"
}

@_cdecl("avpgan_voice_encoder_train")
public func avpgan_voice_encoder_train(_ params: UnsafePointer<avpgan_voice_training_params>?,
                                       _ result: UnsafeMutablePointer<avpgan_voice_training_result>?) -> Int32 {
    CallBoundary.run {
        if let result { try Argument.structSize(result.pointee.struct_size, minimum: voiceResultSize, name: "result") }
        let p = try Argument.params(try Argument.require(params, "params"), defaults: defaultVoiceParams,
                                    minimumSize: voiceParamsFirstSize, name: "params")
        let options = try sessionOptions(p)
        let output = try DatasetArguments.string(p.output, "params.output")
        let cache = try DatasetArguments.cache(p.cache_dir, orDefault: true)
        let index = try DatasetArguments.index(voices: p.voices_dir, faces: nil, required: false, testList: p.test_list, split: p.split)
        // Collective with ranks: every rank checks that all hold the same state before any trains.
        let session = try VoiceEncoderTrainingSession(options: options, index: index, cache: cache, reducer: try CallbackReducer.from(p),
                                                      fingerprint: voiceFingerprint(p))
        let progress = p.progress, user = p.progress_user_data
        let finished = try session.train(onStep: { r in
            progress?(UInt64(r.step), UInt64(r.steps), r.loss, r.runningAccuracy, user)
        }, shouldStop: stopAsker(p.abort_fn, p.abort_user_data))
        let run = session.run
        var full = avpgan_voice_training_result(
            struct_size: voiceResultSize, first_step: UInt64(session.firstStep), step: UInt64(run.step),
            n_speakers: UInt32(run.speakerNames.count), n_held_out: UInt32(run.heldOutCount), held_out_correct: 0,
            embed_dim: UInt32(run.config.embedDim), steps_per_second: session.stepsPerSecond)
        if finished {
            try session.export(to: output)
            full.held_out_correct = UInt32(try run.heldOutAccuracy().correct)
        }
        if let result { try Argument.fill(result, with: full, size: result.pointee.struct_size, minimumSize: voiceResultSize, name: "result") }
        if !finished {
            let whose = run.reducer == nil ? "the abort callback" : "an abort callback (of this rank or another)"
            throw AVPGANError(.aborted, "\(whose) stopped training at step \(run.step) of \(options.steps); the checkpoint is saved\(options.checkpointDirectory == nil ? " nowhere (no params.checkpoint_dir)" : ", resume with params.resume = 1")")
        }
    }
}
