/// A GAN training session (`avpgan train`): a `TrainingRun` taken to a number of steps, with a
/// checkpoint every `checkpointEvery` steps and at the end
/// (`<checkpointDirectory>/checkpoint.safetensors`), a sample sheet every `samplesEvery` steps
/// (`<checkpointDirectory>/samples/step-NNNNNN.png`, `TrainingSamples`), a JSONL log with one
/// line per step (`{"step", "d_real", "d_fake", "c_real", "g_fake", "g_class", "spread",
/// "warnings", "steps_per_second"}`), resume from that checkpoint with the log continued, and
/// an optional stop when the run's health says it collapsed (`TrainingHealth`).
///
/// Data-parallel: make the session on every rank, then `distribute` it (collective); steps and
/// the log count global steps, rank 0 alone writes the checkpoint, the log, the samples and
/// the model.
public final class GANTrainingSession {
    public struct Options: Sendable {
        /// The step count to reach (a resumed run counts from its checkpoint's step).
        public var steps = 1000
        public var batchSize = 64
        public var checkpointEvery = 100
        /// Steps between sample sheets; 0: none. Sheets need a `checkpointDirectory`.
        public var samplesEvery = 100
        /// Where the checkpoint, the samples and (unless `logPath` is set) the log go; nil: nowhere.
        public var checkpointDirectory: String?
        /// The JSONL log; nil: `<checkpointDirectory>/train.jsonl`, or none.
        public var logPath: String?
        /// Continue from the checkpoint in `checkpointDirectory`.
        public var resume = false
        /// End the run at the first step that raises a warning that stops runs
        /// (`TrainingHealth.Warning.stopsRun`), keeping the last checkpoint written before it.
        public var stopOnCollapse = false

        public init() {}
    }

    /// What a fresh run trains: the arguments of `TrainingRun(arch:widths:voiceEncoderFile:...)`
    /// (a resumed run takes all of them from its checkpoint).
    public struct Recipe: Sendable {
        public var arch: Architecture = .avpgan
        public var widths: TrainingRun.Widths = .full
        /// Any model file holding a voice encoder.
        public var voiceEncoderFile = ""
        public var seed: UInt64 = 1
        public var generatorSpectralNorm = TrainingRun.defaultGeneratorSpectralNorm
        public var generatorCBAM = TrainingRun.defaultGeneratorCBAM
        public var cbamReduction = TrainingRun.defaultCBAMReduction
        public var cbamGate = TrainingRun.defaultCBAMGate
        public var healthWarmUp = TrainingHealth.defaultWarmUp

        public init() {}
    }

    /// What one step did, for progress reports.
    public struct StepReport {
        public var step: Int
        public var steps: Int
        /// The step's losses, named by `TrainingRun.lossNames`.
        public var losses: [Float]
        public var stepsPerSecond: Double
        /// The health warnings this step raised (the run's all are in `run.health`).
        public var newWarnings: [(warning: TrainingHealth.Warning, step: Int)]
    }

    /// How `train` ended.
    public enum Outcome: Equatable, Sendable {
        /// All steps taken; the checkpoint and the log are saved.
        case finished
        /// `shouldStop` said stop (on any rank); the checkpoint and the log are saved.
        case stopped
        /// `stopOnCollapse` ended the run: the log is saved, the checkpoint is left as the last
        /// healthy save wrote it (`lastHealthyCheckpoint`, its step; nil: none was written).
        case collapsed(lastHealthyCheckpoint: Int?)
    }

    public static let checkpointName = "checkpoint.safetensors"
    public static let logName = "train.jsonl"
    public static let samplesFolder = TrainingSessionRecord.samplesFolder

    public let run: TrainingRun
    public let options: Options
    public var checkpointPath: String? { record.checkpointPath }
    public var logPath: String? { record.logPath }
    /// The step the session started from (0, or the checkpoint's).
    public let firstStep: Int
    /// The checkpoint, the log and the sample sheets (`TrainingSessionRecord`).
    private let record: TrainingSessionRecord
    private let samples: TrainingSamples?
    /// The step of the last checkpoint written while the run was healthy (a resumed run's own).
    private var lastHealthyCheckpoint: Int?

    /// Checks the options, makes the checkpoint folder, and starts the run fresh from `recipe`
    /// or from the checkpoint (`loading(done, total)` while the data set's features are loaded).
    /// `rank`: this process's rank in a data-parallel session (rank 0 alone writes files and
    /// loads the sample recordings).
    public init(options: Options, recipe: Recipe, index: DatasetIndex, cache: FeatureCache, rank: Int = 0,
                loading: (Int, Int) -> Void = { _, _ in }) throws {
        guard options.steps >= 0, (1...TrainingRun.maxBatch).contains(options.batchSize), options.checkpointEvery >= 1,
              options.samplesEvery >= 0 else {
            throw AVPGANError(.invalidArgument, "steps is \(options.steps), batch size \(options.batchSize), checkpoint interval \(options.checkpointEvery), sample interval \(options.samplesEvery); expected steps >= 0, batch size 1...\(TrainingRun.maxBatch), intervals >= 1 and >= 0")
        }
        let dir = options.checkpointDirectory
        if options.resume {
            let bytes = try TrainingSessionRecord.resumeBytes(directory: dir, checkpointName: GANTrainingSession.checkpointName)
            run = try TrainingRun(checkpoint: try TrainingCheckpoint(bytes: bytes), index: index,
                                  cache: cache, batchSize: options.batchSize, progress: loading)
        } else {
            run = try TrainingRun(arch: recipe.arch, widths: recipe.widths, voiceEncoderFile: recipe.voiceEncoderFile, index: index,
                                  cache: cache, batchSize: options.batchSize, seed: recipe.seed,
                                  generatorSpectralNorm: recipe.generatorSpectralNorm, generatorCBAM: recipe.generatorCBAM,
                                  cbamReduction: recipe.cbamReduction, cbamGate: recipe.cbamGate,
                                  healthWarmUp: recipe.healthWarmUp, progress: loading)
        }
        self.options = options
        firstStep = run.step
        record = TrainingSessionRecord(directory: dir, checkpointName: GANTrainingSession.checkpointName, logPath: options.logPath,
                                       logName: GANTrainingSession.logName, firstStep: firstStep, writes: rank == 0)
        let drawsSamples = dir != nil && record.writes && options.samplesEvery > 0
        try record.open(resumed: options.resume, samples: drawsSamples)
        samples = drawsSamples ? try TrainingSamples(index: index, cache: cache) : nil
        if options.resume && !run.health.raised.contains(where: { $0.warning.stopsRun }) { lastHealthyCheckpoint = run.step }
    }

    /// Makes this session one rank of a data-parallel session (collective: every rank calls it
    /// with the same `fingerprint` of its set-up; `TrainingRun.distribute`).
    public func distribute(over reducer: GradientReducer, fingerprint: String) throws {
        try run.distribute(over: reducer, fingerprint: fingerprint)
    }

    /// Writes the checkpoint and the log (where they have a place); rank 0 alone writes.
    public func save() throws {
        try record.save(step: run.step) { try run.checkpoint().serialize() }
    }

    /// Steps until `options.steps`, until `shouldStop()` (asked before every step, agreed over
    /// the ranks) says stop, or until a collapse when `options.stopOnCollapse`; saves every
    /// `checkpointEvery` steps and at the end, draws samples every `samplesEvery` steps.
    public func train(onStep: (StepReport) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Outcome {
        let clock = StepRate()
        while run.step < options.steps {
            let stopAsked = shouldStop()
            if try run.reducer?.anyRank(stopAsked) ?? stopAsked {
                try save()
                return .stopped
            }
            let warningsBefore = run.health.raised.count
            let losses = try run.next()
            let rate = clock.perSecond(run.step - firstStep)
            let fields = zip(TrainingRun.lossNames, losses).map { "\"\($0)\": \($1)" }.joined(separator: ", ")
            let warnings = run.health.warnings.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            record.append("{\"step\": \(run.step), \(fields), \"spread\": \(run.lastSpread), \"warnings\": [\(warnings)], \"steps_per_second\": \(fixed(rate, 3))}")
            let new = Array(run.health.raised.dropFirst(warningsBefore))
            onStep(StepReport(step: run.step, steps: options.steps, losses: losses, stepsPerSecond: rate, newWarnings: new))
            if options.stopOnCollapse && new.contains(where: { $0.warning.stopsRun }) {
                try record.writeLog()
                return .collapsed(lastHealthyCheckpoint: lastHealthyCheckpoint)
            }
            if run.step % options.checkpointEvery == 0 {
                try save()
                if !run.health.raised.contains(where: { $0.warning.stopsRun }) { lastHealthyCheckpoint = run.step }
            }
            if options.samplesEvery > 0 && run.step % options.samplesEvery == 0 { try drawSamples() }
        }
        try save()
        return .finished
    }

    /// Writes the inference model file of the current state to `path` (rank 0 alone).
    public func export(to path: String) throws {
        guard record.writes else { return }
        try FileIO.write(try run.checkpoint().exportModel(), to: path)
    }

    /// The sample sheet of the current step, when the session draws samples.
    private func drawSamples() throws {
        guard let samples, !samples.features.isEmpty else { return }
        let model = try Model(bytes: try run.checkpoint().exportModel())
        try record.writeSheet(try samples.png(model: model, step: run.step), step: run.step)
    }
}
