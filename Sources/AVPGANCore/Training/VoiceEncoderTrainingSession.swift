/// A voice-encoder pre-training session (`avpgan train-voice` and the C API's voice-encoder training):
/// a `VoiceEncoderPretrainingRun` taken to a number of steps, with a checkpoint every
/// `checkpointEvery` steps and at the end (`<checkpointDirectory>/voice-checkpoint.safetensors`),
/// a JSONL log with one line per step (`{"step", "loss", "correct", "batch",
/// "steps_per_second"}`), and resume from that checkpoint with the log continued.
public final class VoiceEncoderTrainingSession {
    public struct Options: Sendable {
        /// The step count to reach (a resumed run counts from its checkpoint's step).
        public var steps = 1000
        public var batchSize = 64
        public var checkpointEvery = 100
        /// Where the checkpoint (and, unless `logPath` is set, the log) go; nil: nowhere.
        public var checkpointDirectory: String?
        /// The JSONL log; nil: `<checkpointDirectory>/train-voice.jsonl`, or none.
        public var logPath: String?
        /// Continue from the checkpoint in `checkpointDirectory`.
        public var resume = false
        /// A fresh run's widths, learning rate and seed (a resumed run keeps its own).
        public var widths: TrainingRun.Widths = .full
        public var lr = 2e-4
        public var seed: UInt64 = 1

        public init() {}
    }

    /// What one step did, for progress reports.
    public struct StepReport: Sendable {
        public var step: Int
        public var steps: Int
        public var loss: Float
        public var correct: Int
        public var batchSize: Int
        public var stepsPerSecond: Double
        /// The crops classified correctly over the last `accuracyWindow` steps.
        public var runningAccuracy: Double
        public var accuracyWindow: Int
    }

    public static let checkpointName = "voice-checkpoint.safetensors"
    public static let logName = "train-voice.jsonl"

    public let run: VoiceEncoderPretrainingRun
    public let options: Options
    public var checkpointPath: String? { record.checkpointPath }
    public var logPath: String? { record.logPath }
    /// The step the session started from (0, or the checkpoint's).
    public let firstStep: Int
    /// Steps per second of the last `train` call so far.
    public private(set) var stepsPerSecond = 0.0
    /// The checkpoint and the log (`TrainingSessionRecord`).
    private let record: TrainingSessionRecord

    /// Checks the options, makes the checkpoint folder, and starts the run fresh or from the
    /// checkpoint (`loading(done, total)` while the voices' features are loaded).
    /// With a `reducer`, this is one rank of a data-parallel session (collective; the ranks'
    /// states and `fingerprint`s must agree, `VoiceEncoderPretrainingRun.distribute`): steps and
    /// the log count global steps, rank 0 alone writes the checkpoint, the log and the model.
    public init(options: Options, index: DatasetIndex, cache: FeatureCache, reducer: GradientReducer? = nil,
                fingerprint: String = "", loading: (Int, Int) -> Void = { _, _ in }) throws {
        guard options.steps >= 0, (2...4096).contains(options.batchSize), options.checkpointEvery >= 1 else {
            throw AVPGANError(.invalidArgument, "steps is \(options.steps), batch size \(options.batchSize), checkpoint interval \(options.checkpointEvery); expected steps >= 0, batch size 2...4096, interval >= 1")
        }
        guard options.lr.isFinite, options.lr > 0, options.lr < 1 else {
            throw AVPGANError(.invalidArgument, "the learning rate is \(options.lr), expected a number in (0, 1)")
        }
        if options.resume {
            let bytes = try TrainingSessionRecord.resumeBytes(directory: options.checkpointDirectory,
                                                              checkpointName: VoiceEncoderTrainingSession.checkpointName)
            run = try VoiceEncoderPretrainingRun(checkpoint: try VoiceTrainingCheckpoint(bytes: bytes),
                                                 index: index, cache: cache, batchSize: options.batchSize, progress: loading)
        } else {
            run = try VoiceEncoderPretrainingRun(widths: options.widths, index: index, cache: cache, batchSize: options.batchSize,
                                                 seed: options.seed, lr: options.lr, progress: loading)
        }
        self.options = options
        firstStep = run.step
        record = TrainingSessionRecord(directory: options.checkpointDirectory, checkpointName: VoiceEncoderTrainingSession.checkpointName,
                                       logPath: options.logPath, logName: VoiceEncoderTrainingSession.logName, firstStep: firstStep,
                                       writes: (reducer?.rank ?? 0) == 0)
        try record.open(resumed: options.resume, samples: false)
        if let reducer { try run.distribute(over: reducer, fingerprint: fingerprint) }
    }

    /// Writes the checkpoint and the log (where they have a place); only rank 0 of a
    /// data-parallel session writes.
    public func save() throws {
        try record.save(step: run.step) { try run.checkpoint().serialize() }
    }

    /// Steps until `options.steps` or until `shouldStop()` (asked before every step) says
    /// stop; saves every `checkpointEvery` steps and at the end. Returns true when all steps
    /// were taken, false when stopped early (the state is saved and can be resumed).
    public func train(onStep: (StepReport) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Bool {
        let clock = StepRate()
        let window = 20, batch = options.batchSize
        var recent: [Int] = []
        while run.step < options.steps {
            let stopAsked = shouldStop()
            if try run.reducer?.anyRank(stopAsked) ?? stopAsked { try save(); return false }
            let (loss, correct) = try run.next()
            guard loss.isFinite else {
                throw AVPGANError(.modelFormat, "training step \(run.step) gave a non-finite loss: the weights overflow float32; resume from the last checkpoint with a smaller learning rate")
            }
            recent.append(correct)
            if recent.count > window { recent.removeFirst() }
            let rate = clock.perSecond(run.step - firstStep)
            stepsPerSecond = rate
            record.append("{\"step\": \(run.step), \"loss\": \(loss), \"correct\": \(correct), \"batch\": \(batch), \"steps_per_second\": \(fixed(rate, 3))}")
            onStep(StepReport(step: run.step, steps: options.steps, loss: loss, correct: correct, batchSize: batch, stepsPerSecond: rate,
                              runningAccuracy: Double(recent.reduce(0, +)) / Double(recent.count * batch), accuracyWindow: recent.count))
            if run.step % options.checkpointEvery == 0 { try save() }
        }
        try save()
        return true
    }

    /// Writes the encoder-only model file of the current state to `path` (rank 0 alone in a
    /// data-parallel session).
    public func export(to path: String) throws {
        guard record.writes else { return }
        try FileIO.write(try run.exportModel(), to: path)
    }
}
