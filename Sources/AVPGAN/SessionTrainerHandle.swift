import AVPGANCore
import CAVPGAN
#if canImport(Glibc)
import Glibc
#endif

// What the face-folder trainer handles (avpgan_enhancer_trainer, avpgan_prior_trainer) share:
// the handle over a session, one call at a time, training in pieces, the losses as C arrays,
// and the bodies of their free, step, run, save and export thunks.

/// A face-folder training session as a C trainer handle drives it (`EnhancerTrainingSession`,
/// `PriorTrainingSession`): trained in pieces, its checkpoint as bytes, exported to a file.
protocol SteppedTrainingSession: AnyObject {
    associatedtype Report: SteppedTrainingReport
    var step: Int { get }
    var checkpointPath: String? { get }
    func train(until: Int?, onStep: (Report) -> Void, shouldStop: () -> Bool) throws -> TrainingSessionOutcome
    func checkpoint() -> [UInt8]
    func export(to path: String) throws
}

/// What a session reports after a step: its number and its losses under upstream's log names.
protocol SteppedTrainingReport {
    var step: Int { get }
    var losses: [String: Float] { get }
}

extension EnhancerTrainingSession: SteppedTrainingSession {}
extension EnhancerTrainingSession.StepReport: SteppedTrainingReport {}
extension PriorTrainingSession: SteppedTrainingSession {}
extension PriorTrainingSession.StepReport: SteppedTrainingReport {}

/// A C host steps a session in pieces (`train(until:)`): its run has no end of its own.
let sessionTrainerOpenEnd = 1 << 62

/// A step's losses as the C API hands them out: one float per name (the header's enum order)
/// and the mask of those computed.
struct StepLosses {
    var values: [Float]
    var present: UInt32 = 0

    init(names: [String], _ losses: [String: Float] = [:]) {
        values = [Float](repeating: 0, count: names.count)
        for (i, name) in names.enumerated() {
            if let v = losses[name] { values[i] = v; present |= 1 << UInt32(i) }
        }
    }

    func write(_ losses: UnsafeMutablePointer<Float>?, _ present: UnsafeMutablePointer<UInt32>?) {
        losses?.update(from: values, count: values.count)
        present?.pointee = self.present
    }
}

/// A trainer handle: the session, the last step's losses, and the flag that keeps calls on it
/// from overlapping (a mutex only ever try-locked, so a second caller gets an error instead of
/// waiting or racing). `cName` is the handle's C type ("avpgan_enhancer_trainer"), `lossNames`
/// the header's losses in order, `ranks` the data-parallel ranks the session is one of.
final class SessionTrainerHandle<Session: SteppedTrainingSession> {
    let session: Session
    let cName: String
    let lossNames: [String]
    let ranks: Int
    var lastLosses: StepLosses
    private let mutex = PThreadMutex()

    init(_ session: Session, cName: String, lossNames: [String], ranks: Int = 1) {
        (self.session, self.cName, self.lossNames, self.ranks) = (session, cName, lossNames, ranks)
        lastLosses = StepLosses(names: lossNames)
    }

    /// The handle's name in messages ("enhancer trainer").
    var kind: String { cName.dropFirst("avpgan_".count).split(separator: "_").joined(separator: " ") }

    /// The handle behind a C pointer (made by `publish`).
    static func from(_ handle: OpaquePointer?) throws -> SessionTrainerHandle {
        let handle = try Argument.require(handle, "trainer")
        return Unmanaged<SessionTrainerHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// Hands the caller a retained handle on `session`.
    static func publish(_ session: Session, cName: String, lossNames: [String], ranks: Int = 1,
                        _ out: UnsafeMutablePointer<OpaquePointer?>) {
        let handle = SessionTrainerHandle(session, cName: cName, lossNames: lossNames, ranks: ranks)
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }

    /// The body of a `*_free` thunk.
    static func free(_ handle: OpaquePointer?) {
        guard let handle else { return }
        Unmanaged<SessionTrainerHandle>.fromOpaque(UnsafeRawPointer(handle)).release()
    }

    /// Runs `body` as the only call on this trainer, or throws when another is in progress.
    func exclusive<T>(_ body: (SessionTrainerHandle) throws -> T) throws -> T {
        guard mutex.tryLock() else {
            throw AVPGANError(.invalidArgument, "the \(kind) is busy: another call on it is in progress (another thread, or a callback of \(cName)_run); one call at a time")
        }
        defer { mutex.unlock() }
        return try body(self)
    }

    /// Up to `steps` steps (at least 1), each reported to `onStep`, asking `shouldStop` before
    /// each; a stopped run has saved into the checkpoint folder (if any) and throws `.aborted`,
    /// a diverged one throws `.modelFormat` with the session's message.
    func train(_ steps: Int, onStep: (Int, StepLosses) -> Void, shouldStop: () -> Bool) throws {
        let first = session.step
        let outcome = try session.train(until: first + steps, onStep: { report in
            lastLosses = StepLosses(names: lossNames, report.losses)
            onStep(report.step - first, lastLosses)
        }, shouldStop: shouldStop)
        switch outcome {
        case .finished: return
        case .stopped:
            let saved = session.checkpointPath.map { "; the checkpoint was written to \($0)" } ?? ""
            let whose = ranks > 1 ? "an abort callback (of this rank or another)" : "the abort callback"
            throw AVPGANError(.aborted, "\(whose) stopped the run after \(session.step - first) of \(steps) steps (at step \(session.step))\(saved)")
        case let .diverged(_, message, _):
            throw AVPGANError(.modelFormat, "the run diverged: \(message); continue from the last checkpoint")
        }
    }
}

/// The options of both face sessions that `SessionTrainerFolder` sets.
protocol SessionTrainerOptions {
    init()
    var steps: Int { get set }
    var checkpointDirectory: String? { get set }
    var checkpointEvery: Int { get set }
    var batchSize: Int? { get set }
}

extension EnhancerTrainingSession.Options: SessionTrainerOptions {}
extension PriorTrainingSession.Options: SessionTrainerOptions {}

/// The params fields both face trainers have, checked: the checkpoint folder, its cadence and the batch.
struct SessionTrainerFolder {
    /// The checkpoint folder (nil: none).
    var directory: String?
    /// Steps between checkpoints; open-ended without a folder (nothing to checkpoint into).
    var every: Int
    /// Faces per step (nil: the default, or the checkpoint's).
    var batch: Int?

    init(directory: UnsafePointer<CChar>?, every: UInt32, batch: UInt32) throws {
        self.directory = try DatasetArguments.optionalString(directory, "params.checkpoint_dir")
        guard every >= 1 else { throw AVPGANError(.invalidArgument, "params.checkpoint_every is 0, expected at least 1") }
        self.every = self.directory == nil ? sessionTrainerOpenEnd : Int(every)
        guard batch <= 4096 else { throw AVPGANError(.invalidArgument, "params.batch_size is \(batch), expected 1...4096 (0: the default)") }
        self.batch = batch == 0 ? nil : Int(batch)
    }

    /// The params' face folder (`faces_dir`), which both trainers require.
    static func faces(_ dir: UnsafePointer<CChar>?) throws -> String {
        try DatasetArguments.string(dir, "params.faces_dir")
    }

    /// A session's default options with these fields, for a run in pieces (open-ended steps).
    func options<Options: SessionTrainerOptions>() -> Options {
        var o = Options()
        o.steps = sessionTrainerOpenEnd
        (o.checkpointDirectory, o.checkpointEvery, o.batchSize) = (directory, every, batch)
        return o
    }
}

/// The bodies of the thunks both trainer handles have, one each.
enum SessionTrainerCalls {
    typealias Progress = @convention(c) (UInt64, UInt64, UnsafePointer<Float>?, UInt32, UnsafeMutableRawPointer?) -> Void

    /// The body of a `*_create` thunk (`loading` nil) or a `*_load_checkpoint` thunk (`loading`:
    /// its path argument, checked after `out`): `*out` stays NULL unless `make` (given the
    /// checkpoint's path when loading) returns a session, which becomes the handle, one rank of
    /// the data-parallel run of the reducer `make` also returns (nil: alone).
    static func open<S: SteppedTrainingSession>(_ out: UnsafeMutablePointer<OpaquePointer?>?, loading path: UnsafePointer<CChar>?? = nil,
                                                cName: String, lossNames: [String],
                                                _ make: (_ checkpoint: String?) throws -> (S, GradientReducer?)) -> Int32 {
        out?.pointee = nil
        return CallBoundary.run {
            let out = try Argument.require(out, "out_trainer")
            let checkpoint = try path.map { try DatasetArguments.string($0, "path") }
            let (session, reducer) = try make(checkpoint)
            SessionTrainerHandle<S>.publish(session, cName: cName, lossNames: lossNames, ranks: reducer?.size ?? 1, out)
        }
    }

    /// One step, its losses written to `losses` and `present` (either may be NULL).
    static func step<S: SteppedTrainingSession>(_ type: S.Type, _ handle: OpaquePointer?, _ losses: UnsafeMutablePointer<Float>?,
                        _ present: UnsafeMutablePointer<UInt32>?) -> Int32 {
        CallBoundary.run {
            try SessionTrainerHandle<S>.from(handle).exclusive { t in
                try t.train(1, onStep: { _, _ in }, shouldStop: { false })
                t.lastLosses.write(losses, present)
            }
        }
    }

    /// `steps` steps with progress after each and the abort callback before each.
    static func run<S: SteppedTrainingSession>(_ type: S.Type, _ handle: OpaquePointer?, _ steps: UInt64, _ progress: Progress?,
                       _ progressUser: UnsafeMutableRawPointer?, _ abort: avpgan_abort_fn?, _ abortUser: UnsafeMutableRawPointer?,
                       _ stepsDone: UnsafeMutablePointer<UInt64>?) -> Int32 {
        stepsDone?.pointee = 0
        return CallBoundary.run {
            try SessionTrainerHandle<S>.from(handle).exclusive { t in
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

    /// Writes the checkpoint of the current step to `path`, atomically.
    static func save<S: SteppedTrainingSession>(_ type: S.Type, _ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
        write(type, handle, path) { try FileIO.write($0.checkpoint(), to: $1) }
    }

    /// Writes the session's exported file (the EMA generator) to `path`.
    static func export<S: SteppedTrainingSession>(_ type: S.Type, _ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
        write(type, handle, path) { try $0.export(to: $1) }
    }

    /// Runs `body` on the trainer's session and the path (as the only call on the trainer).
    private static func write<S: SteppedTrainingSession>(_ type: S.Type, _ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?,
                                 _ body: (S, String) throws -> Void) -> Int32 {
        CallBoundary.run {
            let t = try SessionTrainerHandle<S>.from(handle)
            let path = try DatasetArguments.string(path, "path")
            try t.exclusive { try body($0.session, path) }
        }
    }

    /// A loss name as a C string that lives as long as the process (nil out of range).
    static func name(_ loss: Int32, in names: [UnsafePointer<CChar>]) -> UnsafePointer<CChar>? {
        guard loss >= 0, Int(loss) < names.count else { return nil }
        return names[Int(loss)]
    }

    /// The names as C strings that live as long as the process.
    static func cStrings(_ names: [String]) -> [UnsafePointer<CChar>] { names.map { UnsafePointer(strdup($0)!) } }
}
