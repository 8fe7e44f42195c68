import AVPGANCore
import CAVPGAN
#if canImport(Glibc)
import Glibc
#endif

// Trainer entry points: params, create, load, free, info, gan_step, step, run, save, export.

private enum TrainerStructSize {
    static let params = MemoryLayout<avpgan_trainer_params>.stride
    static let info = MemoryLayout<avpgan_trainer_info>.stride
    /// sizeof both structs before generator_spectral_norm and the health fields were added.
    static let paramsFirst = MemoryLayout<avpgan_trainer_params>.offset(of: \.stop_on_collapse)!
    /// sizeof the params struct before cbam_gate was added (0.x callers built before the gate).
    static let paramsBeforeCBAMGate = MemoryLayout<avpgan_trainer_params>.offset(of: \.cbam_gate)!
    static let infoFirst = MemoryLayout<avpgan_trainer_info>.offset(of: \.health)!
}

private let defaultTrainerParams = avpgan_trainer_params(
    struct_size: TrainerStructSize.params, arch: Architecture.avpgan.code, widths: Int32(AVPGAN_WIDTHS_FULL.rawValue),
    batch_size: 64, seed: 1, voices_dir: nil, faces_dir: nil, test_list: nil, voice_encoder: nil, cache_dir: nil,
    split: Int32(AVPGAN_SPLIT_TEST_LIST.rawValue), generator_spectral_norm: TrainingRun.defaultGeneratorSpectralNorm ? 1 : 0,
    stop_on_collapse: 0, health_warm_up: UInt32(TrainingHealth.defaultWarmUp), meta_file: nil,
    allreduce: nil, allreduce_user_data: nil, rank: 0, n_ranks: 0,
    generator_cbam: TrainingRun.defaultGeneratorCBAM ? 1 : 0, cbam_reduction: UInt32(TrainingRun.defaultCBAMReduction),
    cbam_gate: TrainingRun.defaultCBAMGate.code)

/// The caller's trainer params over the defaults. generator_spectral_norm sits where the
/// first struct had its tail padding, so a struct_size that does not reach stop_on_collapse
/// (a caller compiled before both fields) keeps its default rather than padding bytes. A caller
/// compiled before cbam_gate keeps the gate it was built with, the reference's sigmoid, so its
/// runs stay what they were; the residual default reaches callers that know the field.
private func trainerParams(_ params: UnsafePointer<avpgan_trainer_params>?) throws -> avpgan_trainer_params {
    var p = try Argument.params(params, defaults: defaultTrainerParams, minimumSize: TrainerStructSize.paramsFirst, name: "params")
    if p.struct_size < TrainerStructSize.paramsFirst + MemoryLayout<Int32>.size {
        p.generator_spectral_norm = defaultTrainerParams.generator_spectral_norm
    }
    if p.struct_size < TrainerStructSize.paramsBeforeCBAMGate + MemoryLayout<Int32>.size {
        p.cbam_gate = CBAMGate.sigmoid.code
    }
    return p
}

/// A trainer handle: the run and the flag that keeps calls on it from overlapping (a mutex
/// only ever try-locked, so a second caller gets an error instead of waiting or racing).
final class TrainerHandle {
    let run: TrainingRun
    /// params.stop_on_collapse: avpgan_trainer_run stops when a step raises a health warning.
    let stopOnCollapse: Bool
    private let mutex = PThreadMutex()

    init(_ run: TrainingRun, stopOnCollapse: Bool) {
        self.run = run
        self.stopOnCollapse = stopOnCollapse
    }

    /// Runs `body` as the only call on this trainer, or throws when another is in progress.
    func exclusive<T>(_ body: (TrainingRun) throws -> T) throws -> T {
        guard mutex.tryLock() else {
            throw AVPGANError(.invalidArgument, "the trainer is busy: another call on it is in progress (another thread, or a callback of avpgan_trainer_run); one call at a time")
        }
        defer { mutex.unlock() }
        return try body(run)
    }
}

private func trainerFromHandle(_ handle: OpaquePointer?) throws -> TrainerHandle {
    let handle = try Argument.require(handle, "trainer")
    return Unmanaged<TrainerHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

private func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    try DatasetArguments.string(pointer, name)
}

private func batchSize(_ p: avpgan_trainer_params) throws -> Int {
    guard (1...UInt32(TrainingRun.maxBatch)).contains(p.batch_size) else {
        throw AVPGANError(.invalidArgument, "params.batch_size is \(p.batch_size), expected 1...\(TrainingRun.maxBatch)")
    }
    return Int(p.batch_size)
}

/// What the ranks of a data-parallel trainer must agree on besides the trainer's state.
private func dataFingerprint(_ p: avpgan_trainer_params) -> String {
    [p.voices_dir, p.faces_dir, p.test_list, p.meta_file].map { $0.map { String(cString: $0) } ?? "-" }.joined(separator: "|")
        + "|split \(p.split)|batch \(p.batch_size)"
}

/// The data set of `p`: index and feature cache; nil when neither directory is set.
private func dataset(_ p: avpgan_trainer_params, required: Bool) throws -> (DatasetIndex, FeatureCache)? {
    if !required && p.voices_dir == nil && p.faces_dir == nil { return nil }
    _ = try string(p.voices_dir, "params.voices_dir")
    _ = try string(p.faces_dir, "params.faces_dir")
    let cache = try DatasetArguments.cache(p.cache_dir)
    return (try DatasetArguments.index(voices: p.voices_dir, faces: p.faces_dir, required: true, testList: p.test_list, split: p.split, meta: p.meta_file), cache)
}

private func publish(_ run: TrainingRun, _ p: avpgan_trainer_params, _ out: UnsafeMutablePointer<OpaquePointer?>) throws {
    if let reducer = try CallbackReducer.from(p) {
        // Collective: every rank checks that all hold the same state before any trains.
        try run.distribute(over: reducer, fingerprint: dataFingerprint(p))
    }
    out.pointee = OpaquePointer(Unmanaged.passRetained(TrainerHandle(run, stopOnCollapse: p.stop_on_collapse != 0)).toOpaque())
}

@_cdecl("avpgan_trainer_params_init")
public func avpgan_trainer_params_init(_ params: UnsafeMutablePointer<avpgan_trainer_params>?, _ size: Int) -> Int32 {
    ParamsInit.fill(params, size: size, defaults: defaultTrainerParams, minimumSize: TrainerStructSize.paramsFirst)
}

@_cdecl("avpgan_trainer_create")
public func avpgan_trainer_create(_ params: UnsafePointer<avpgan_trainer_params>?,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.create(into: out, outName: "out_trainer") { out in
        let p = try trainerParams(try Argument.require(params, "params"))
        guard let arch = Architecture.allCases.first(where: { $0.code == p.arch }) else {
            throw AVPGANError(.invalidArgument, "params.arch is \(p.arch), not an avpgan_arch value")
        }
        let widths: TrainingRun.Widths
        switch p.widths {
        case Int32(AVPGAN_WIDTHS_FULL.rawValue): widths = .full
        case Int32(AVPGAN_WIDTHS_TINY.rawValue): widths = .tiny
        default: throw AVPGANError(.invalidArgument, "params.widths is \(p.widths), not an avpgan_widths value")
        }
        guard p.generator_spectral_norm == 0 || p.generator_spectral_norm == 1 else {
            throw AVPGANError(.invalidArgument, "params.generator_spectral_norm is \(p.generator_spectral_norm), expected 0 or 1")
        }
        guard p.generator_cbam == 0 || p.generator_cbam == 1 else {
            throw AVPGANError(.invalidArgument, "params.generator_cbam is \(p.generator_cbam), expected 0 or 1")
        }
        guard (1...UInt32(ModelConfig.maxWidth)).contains(p.cbam_reduction) else {
            throw AVPGANError(.invalidArgument, "params.cbam_reduction is \(p.cbam_reduction), expected 1...\(ModelConfig.maxWidth)")
        }
        guard let cbamGate = CBAMGate.allCases.first(where: { $0.code == p.cbam_gate }) else {
            throw AVPGANError(.invalidArgument, "params.cbam_gate is \(p.cbam_gate), not an avpgan_cbam_gate value (AVPGAN_CBAM_GATE_SIGMOID 0, AVPGAN_CBAM_GATE_RESIDUAL 1)")
        }
        guard p.health_warm_up >= 1 else { throw AVPGANError(.invalidArgument, "params.health_warm_up is 0, expected at least 1") }
        let batch = try batchSize(p)
        let encoder = try string(p.voice_encoder, "params.voice_encoder")
        let (index, cache) = try dataset(p, required: true)!
        try publish(try TrainingRun(arch: arch, widths: widths, voiceEncoderFile: encoder, index: index, cache: cache,
                                batchSize: batch, seed: p.seed, generatorSpectralNorm: p.generator_spectral_norm != 0,
                                generatorCBAM: p.generator_cbam != 0, cbamReduction: Int(p.cbam_reduction), cbamGate: cbamGate,
                                healthWarmUp: Int(p.health_warm_up)), p, out)
    }
}

@_cdecl("avpgan_trainer_load_checkpoint")
public func avpgan_trainer_load_checkpoint(_ path: UnsafePointer<CChar>?, _ params: UnsafePointer<avpgan_trainer_params>?,
                                           _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    HandleLoading.create(into: out, outName: "out_trainer") { out in
        let path = try string(path, "path")
        let p = try trainerParams(params)
        let data = try dataset(p, required: false)
        let batch = data == nil ? 0 : try batchSize(p)
        let checkpoint = try TrainingCheckpoint(bytes: try FileIO.read(path))
        if let (index, cache) = data {
            try publish(try TrainingRun(checkpoint: checkpoint, index: index, cache: cache, batchSize: batch), p, out)
        } else {
            try publish(try TrainingRun(checkpoint: checkpoint), p, out)
        }
    }
}

@_cdecl("avpgan_trainer_free")
public func avpgan_trainer_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<TrainerHandle>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("avpgan_trainer_get_info")
public func avpgan_trainer_get_info(_ handle: OpaquePointer?, _ info: UnsafeMutablePointer<avpgan_trainer_info>?) -> Int32 {
    CallBoundary.run {
        let t = try trainerFromHandle(handle)
        let info = try Argument.require(info, "info")
        let full = try t.exclusive { run in
            var full = avpgan_trainer_info()
            let c = run.config
            full.step = UInt64(run.step)
            full.arch = c.arch.code
            Argument.copyName(c.arch.rawValue, into: &full.arch_name)
            full.n_mels = UInt32(c.nMels)
            full.embed_dim = UInt32(c.embedDim)
            full.image_size = UInt32(c.imageSize)
            full.n_identities = UInt32(c.identities)
            full.batch_size = UInt32(run.batchSize)
            full.has_dataset = run.hasDataset ? 1 : 0
            func put<T>(_ widths: [Int], _ count: inout UInt32, _ array: inout T) {
                count = UInt32(min(widths.count, Int(AVPGAN_MAX_LAYERS)))
                Argument.copyValues(widths.map { UInt32($0) }, into: &array)
            }
            put(c.voiceWidths, &full.n_voice_widths, &full.voice_widths)
            put(c.generatorWidths, &full.n_generator_widths, &full.generator_widths)
            put(c.faceWidths, &full.n_face_widths, &full.face_widths)
            full.n_trained_parameters = UInt64(TrainingCheckpoint.trainedParameters(c).reduce(0) { $0 + $1.shape.reduce(1, *) })
            full.health = run.health.bits
            full.generator_spectral_norm = c.spectrallyNormalised(.generator, layer: 1, last: false) ? 1 : 0
            full.health_step = UInt64(run.health.raised.first?.step ?? 0)
            full.batch_spread = run.lastSpread
            full.generator_cbam = c.hasCBAM(.generator) ? 1 : 0
            full.cbam_reduction = UInt32(c.cbamReduction)
            full.cbam_gate = c.cbamGate.code
            return full
        }
        try Argument.fill(info, with: full, size: info.pointee.struct_size, minimumSize: TrainerStructSize.infoFirst, name: "info")
    }
}

/// `count` elements of `name` at `pointer` as an array (the count is checked for overflow first).
private func copy<T>(_ pointer: UnsafePointer<T>?, _ count: Int, _ name: String) throws -> [T] {
    Array(UnsafeBufferPointer(start: try Argument.require(pointer, name), count: count))
}

private func product(_ factors: [Int], _ name: String) throws -> Int {
    try factors.reduce(1) { acc, f in
        let (r, overflow) = acc.multipliedReportingOverflow(by: f)
        guard !overflow, r <= 1 << 33 else { throw AVPGANError(.invalidArgument, "\(name) would hold more than 2^33 values") }
        return r
    }
}

private func putLosses(_ losses: [Float], _ out: UnsafeMutablePointer<Float>?) {
    out?.update(from: losses, count: min(losses.count, Int(AVPGAN_N_LOSSES)))
}

/// The losses of step `step`, or `AVPGAN_E_MODEL_FORMAT` when one is NaN or infinite: the inputs
/// are checked finite, so the weights have overflowed float32 (no call returns NaN with OK).
private func finiteLosses(_ losses: [Float], step: Int) throws -> [Float] {
    guard losses.allSatisfy(\.isFinite) else {
        throw AVPGANError(.modelFormat, "training step \(step) gave non-finite losses \(losses): the weights overflow float32 (finite but extreme values); the trainer's state is no longer usable, reload the last checkpoint")
    }
    return losses
}

@_cdecl("avpgan_trainer_gan_step")
public func avpgan_trainer_gan_step(_ handle: OpaquePointer?, _ n: Int, _ frames: Int, _ mels: Int,
                                    _ voices: UnsafePointer<Float>?, _ voiceLabels: UnsafePointer<Int32>?,
                                    _ faces: UnsafePointer<Float>?, _ faceLabels: UnsafePointer<Int32>?,
                                    _ noise: UnsafePointer<Float>?, _ losses: UnsafeMutablePointer<Float>?) -> Int32 {
    CallBoundary.run {
        let t = try trainerFromHandle(handle)
        let result = try t.exclusive { run in
            let c = run.config, s = c.imageSize
            try Argument.size(n, "n")
            try Argument.size(frames, "n_frames")
            try Argument.size(mels, "n_mels")
            guard (1...TrainingRun.maxBatch).contains(n) else { throw AVPGANError(.invalidArgument, "n is \(n), expected 1...\(TrainingRun.maxBatch)") }
            guard (1...TrainingRun.maxFrames).contains(frames) else {
                throw AVPGANError(.invalidArgument, "n_frames is \(frames), expected 1...\(TrainingRun.maxFrames)")
            }
            guard mels == c.nMels else { throw AVPGANError(.invalidArgument, "n_mels is \(mels); the trainer's voice encoder takes \(c.nMels)") }
            let v = try copy(voices, try product([n, frames, mels], "voices"), "voices")
            let vl = try copy(voiceLabels, n, "voice_labels").map(Int.init)
            let f = try copy(faces, n * 3 * s * s, "faces")
            let fl = try copy(faceLabels, n, "face_labels").map(Int.init)
            let z = try copy(noise, n * c.embedDim, "noise")
            return try finiteLosses(try run.ganStep(voices: v, frames: frames, voiceLabels: vl, faces: f, faceLabels: fl, noise: z),
                                    step: run.step)
        }
        putLosses(result, losses)
    }
}

@_cdecl("avpgan_trainer_step")
public func avpgan_trainer_step(_ handle: OpaquePointer?, _ losses: UnsafeMutablePointer<Float>?) -> Int32 {
    CallBoundary.run {
        let t = try trainerFromHandle(handle)
        putLosses(try t.exclusive { run in try finiteLosses(try run.next(), step: run.step) }, losses)
    }
}

@_cdecl("avpgan_trainer_run")
public func avpgan_trainer_run(_ handle: OpaquePointer?, _ steps: UInt64,
                               _ progress: avpgan_trainer_progress_fn?, _ progressUser: UnsafeMutableRawPointer?,
                               _ abort: avpgan_abort_fn?, _ abortUser: UnsafeMutableRawPointer?,
                               _ stepsDone: UnsafeMutablePointer<UInt64>?) -> Int32 {
    stepsDone?.pointee = 0
    return CallBoundary.run {
        let t = try trainerFromHandle(handle)
        try t.exclusive { run in
            guard (1...(UInt64(1) << 40)).contains(steps) else {
                throw AVPGANError(.invalidArgument, "n_steps is \(steps), expected 1...2^40")
            }
            try run.requireDataset()
            var done: UInt64 = 0
            while done < steps {
                // An abort on any rank stops them all after the same step.
                let abortAsked = abort.map { $0(abortUser) != 0 } ?? false
                if try run.reducer?.anyRank(abortAsked) ?? abortAsked {
                    let whose = run.reducer == nil ? "the abort callback" : "an abort callback (of this rank or another)"
                    throw AVPGANError(.aborted, "\(whose) stopped the run after \(done) of \(steps) steps (at step \(run.step))")
                }
                let raisedBefore = run.health.raised.count
                let losses = try finiteLosses(try run.next(), step: run.step)
                done += 1
                stepsDone?.pointee = done
                if let progress { losses.withUnsafeBufferPointer { progress(done, steps, $0.baseAddress, progressUser) } }
                if t.stopOnCollapse && run.health.raised.dropFirst(raisedBefore).contains(where: { $0.warning.stopsRun }) {
                    let new = run.health.raised.dropFirst(raisedBefore).map { "\($0.warning.rawValue) (\($0.warning.meaning))" }
                    throw AVPGANError(.aborted, "stop_on_collapse stopped the run after \(done) of \(steps) steps (at step \(run.step)): \(new.joined(separator: "; ")); the trainer's state is that of the unhealthy step, so keep the last checkpoint saved before it")
                }
            }
        }
    }
}

/// Writes to `path` the file `bytes` makes of the trainer's current checkpoint.
private func writeTrainerFile(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                              _ bytes: @escaping (TrainingCheckpoint) throws -> [UInt8]) -> Int32 {
    CallBoundary.run {
        let t = try trainerFromHandle(handle)
        let path = try string(path, "path")
        let data = try t.exclusive { try bytes($0.checkpoint()) }
        try FileIO.write(data, to: path)
    }
}

@_cdecl("avpgan_trainer_save")
public func avpgan_trainer_save(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    writeTrainerFile(handle, path) { try $0.serialize() }
}

@_cdecl("avpgan_trainer_export")
public func avpgan_trainer_export(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    writeTrainerFile(handle, path) { try $0.exportModel() }
}
