#if canImport(Glibc)
import Glibc
#endif

/// A face-prior training session (`avpgan train-prior`): basicsr's StyleGAN2 training
/// (`PriorTrainingStep`) on a face folder (`EnhancerFaceSet`; the batches are its training
/// faces, mirrored at random, not degraded: `EnhancerBatchSampler` with `degrades` off) taken
/// to a number of steps, with, as `EnhancerTrainingSession` (`TrainingSessionRecord`,
/// `FaceSessionState`):
/// - a checkpoint every `checkpointEvery` steps and at the end
///   (`<checkpointDirectory>/prior-checkpoint.safetensors`: the step's checkpoint plus the
///   sampler's position and the data's fingerprint), written atomically;
/// - at each checkpoint a sample sheet of the EMA generator (`PriorTrainingSession+Samples`):
///   the same z and noise at every checkpoint of the run, `<checkpointDirectory>/samples/step-NNNNNN.png`;
/// - a JSONL log, per step `{"step", "l_d", "real_score", "fake_score", "l_g", ["l_d_r1"],
///   ["l_g_path", "path_length"], "steps_per_second"}`, written with each checkpoint and at
///   least every 10 s;
/// - resume from the checkpoint, bit-identical to an uninterrupted run at any thread count;
/// - a stop request that saves and ends; a non-finite loss ends the run without saving over
///   the last good checkpoint (`Outcome.diverged`).
/// At the end, `export` writes the EMA generator as a prior file (`PriorFile`).
/// With a `GradientReducer` it is one rank of a data-parallel session
/// (`PriorTrainingStep+DataParallel`): every rank draws the same batches and steps alike, a stop
/// is agreed so that all ranks stop after the same step, and rank 0 alone writes the
/// checkpoints, the log, the sheets and the exported file.
public final class PriorTrainingSession: DataParallelRank {
    public struct Options: Sendable {
        /// The step count to reach (a resumed run counts from its checkpoint's step).
        public var steps = 1000
        /// Faces per step; nil: 4 for a new run, the checkpoint's when resuming.
        public var batchSize: Int?
        public var checkpointEvery = 100
        /// Where the checkpoint, the samples and (unless `logPath` is set) the log go; nil: nowhere.
        public var checkpointDirectory: String?
        /// The JSONL log; nil: `<checkpointDirectory>/train-prior.jsonl`, or none.
        public var logPath: String?
        /// Continue from the checkpoint in `checkpointDirectory` (the recipe is then its own).
        public var resume = false
        /// With `resume`: the checkpoint file to continue instead of the one in `checkpointDirectory`
        /// (a host that keeps its checkpoints elsewhere).
        public var resumeFrom: String?
        /// Faces on each sample sheet; 0: no sheets.
        public var sheetSamples = 16
        /// The sheets' truncation ψ (upstream's `truncation`; 1: none).
        public var truncation: Float = 1

        public init() {}
    }

    /// What a new run trains.
    public struct Recipe: Sendable {
        /// Training size: nil takes the faces'.
        public var size: Int?
        /// The prior's widths: those of the enhancer decoder of these widths
        /// (`EnhancerTrainingSession.Widths`, num_mlp 8), so that a prior of `.small` fits a new
        /// enhancer of `.small` at the same size.
        public var widths: EnhancerTrainingSession.Widths = .small
        /// Learning rate of the generator and the discriminator (nil: upstream's 2e-3).
        public var lr: Double?
        /// Seeds the networks, the draws, the batches, the split and the sheets' z.
        public var seed: UInt64 = 1

        public init() {}
    }

    /// What one step did, for progress reports.
    public struct StepReport {
        public var step: Int, steps: Int
        /// The step's losses under upstream's log names.
        public var losses: [String: Float]
        public var stepsPerSecond: Double
        /// Seconds left at the current rate.
        public var secondsLeft: Double
        /// A checkpoint was written after this step.
        public var checkpointed: Bool
    }

    public typealias Outcome = TrainingSessionOutcome

    public static let checkpointName = "prior-checkpoint.safetensors"
    public static let logName = "train-prior.jsonl"
    public static let samplesFolder = TrainingSessionRecord.samplesFolder
    static let metadataKey = "avpgan.prior_session"
    /// The face set holds out at least one face; the prior does not validate, so no more.
    static let validationFraction = 0.0

    public let options: Options
    public let faces: EnhancerFaceSet
    public let config: PriorConfig
    public let batchSize: Int
    public var checkpointPath: String? { record.checkpointPath }
    public var logPath: String? { record.logPath }
    /// The step the session started from (0, or the checkpoint's).
    public let firstStep: Int
    /// Steps taken so far.
    public var step: Int { trainer.stepCount }

    let trainer: PriorTrainingStep
    let batches: EnhancerBatchPrefetcher
    let samplerSeed: UInt64
    let recipeSeed: UInt64
    let record: TrainingSessionRecord
    /// The ranks of a data-parallel session, nil alone (`isLead`: this process writes).
    public var reducer: GradientReducer? { trainer.reducer }
    /// The rows of each global batch this rank computes (all of them alone).
    public var rows: [Int] { (try? trainer.rows(batch: batchSize)) ?? [] }
    /// Floats each data-parallel step adds up over the ranks (at most).
    public var reducedFloatsPerStep: Int { trainer.reducedFloatsPerStep }

    /// Checks the options, reads the faces, makes the checkpoint folder, and starts a new run
    /// from `recipe` or continues the checkpoint.
    /// With a `reducer`, this is one rank of a data-parallel session (collective): every rank
    /// must be given the same options, recipe, faces and checkpoint (and the same `fingerprint`
    /// of what else the caller knows, such as its command line), which is checked; the batch
    /// must give each rank whole groups of the discriminator (`EnhancerBatchShare`).
    public init(faces folder: String, options: Options, recipe: Recipe = Recipe(), reducer: GradientReducer? = nil,
                fingerprint: String = "") throws {
        guard options.steps >= 0, options.checkpointEvery >= 1, (0...256).contains(options.sheetSamples),
              options.truncation.isFinite, options.batchSize.map({ (1...4096).contains($0) }) ?? true else {
            throw AVPGANError.invalid("steps is \(options.steps), batch size \(options.batchSize.map(String.init) ?? "default"), checkpoint interval \(options.checkpointEvery), sheet samples \(options.sheetSamples), truncation \(options.truncation); expected steps >= 0, batch size 1...4096, interval >= 1, samples 0...256, a finite truncation")
        }
        self.options = options
        let dir = options.checkpointDirectory
        if options.resume {
            let bytes = try TrainingSessionRecord.resumeBytes(directory: dir, checkpointName: Self.checkpointName,
                                                              resumeFrom: options.resumeFrom)
            let state = try FaceSessionState(metadata: try Safetensors(bytes: bytes).metadata, key: Self.metadataKey,
                                             what: "prior session checkpoint")
            faces = try state.faces(folder: folder, batch: options.batchSize)
            trainer = try PriorTrainingStep(checkpoint: bytes)
            guard trainer.config.outSize == faces.size else {
                throw AVPGANError.format("prior session checkpoint: the prior makes \(trainer.config.outSize) px faces, its faces are \(faces.size) px")
            }
            (batchSize, samplerSeed, recipeSeed) = (state.batch, state.samplerSeed, state.splitSeed)
            var sampler = Self.sampler(faces, seed: samplerSeed)
            sampler.position = state.position
            batches = EnhancerBatchPrefetcher(sampler)
        } else {
            var faceOptions = EnhancerFaceSet.Options(size: recipe.size)
            (faceOptions.seed, faceOptions.validationFraction) = (recipe.seed, Self.validationFraction)
            faces = try EnhancerFaceSet(folder: folder, options: faceOptions)
            let config = recipe.widths.config(size: faces.size).prior
            do { try config.validate(); try recipe.widths.config(size: faces.size).checkWidths() } catch let e as AVPGANError {
                throw AVPGANError.invalid(e.message)
            }
            batchSize = options.batchSize ?? 4
            let dc = StyleGAN2Discriminator.Config(size: config.outSize, channelMultiplier: config.channelMultiplier, narrow: config.narrow)
            guard MinibatchStddev.groupSize(batch: batchSize, group: dc.stddevGroup) != nil else {
                throw AVPGANError.invalid("a batch of \(batchSize) does not divide into the discriminator's groups of min(\(batchSize), \(dc.stddevGroup)): use a multiple of \(dc.stddevGroup) or fewer than \(dc.stddevGroup)")
            }
            var settings = PriorTrainingSettings()
            if let lr = recipe.lr { (settings.generatorLR, settings.discriminatorLR) = (lr, lr) }
            let mix = EnhancerBatchSampler.mix
            trainer = try PriorTrainingStep(generator: try EnhancerInitializer.prior(config, seed: mix(recipe.seed, 1, 0xE1)), config: config,
                                            discriminator: try EnhancerInitializer.discriminator(dc, seed: mix(recipe.seed, 2, 0xD1)),
                                            settings: settings, seed: mix(recipe.seed, 6, 0x0153))
            (samplerSeed, recipeSeed) = (mix(recipe.seed, 7, 0x5A), recipe.seed)
            batches = EnhancerBatchPrefetcher(Self.sampler(faces, seed: samplerSeed))
        }
        config = trainer.config
        firstStep = trainer.stepCount
        record = TrainingSessionRecord(directory: dir, checkpointName: Self.checkpointName, logPath: options.logPath, logName: Self.logName,
                                       firstStep: firstStep, writes: (reducer?.rank ?? 0) == 0)
        if let reducer { try trainer.distribute(over: reducer, batch: batchSize, state: Array(fingerprint.utf8) + checkpoint()) }
        try record.open(resumed: options.resume)
    }

    /// The batches of real faces: mirrored at random, not degraded.
    static func sampler(_ faces: EnhancerFaceSet, seed: UInt64) -> EnhancerBatchSampler {
        var sampler = EnhancerBatchSampler(faces: faces, seed: seed)
        sampler.degrades = false
        return sampler
    }

    /// Steps until `options.steps` or until `shouldStop()` (asked before every step) says stop,
    /// saving and writing a sheet every `checkpointEvery` steps and at the end; a non-finite
    /// loss ends the run (`Outcome.diverged`), keeping the last checkpoint. Errors (a failed
    /// save) are thrown with the state of the last checkpoint written. `until` (at most
    /// `options.steps`) ends this call at that step instead, for a host that trains in pieces:
    /// checkpoints and sheets still fall every `checkpointEvery` steps and at `options.steps`,
    /// and a piece that ends before `options.steps` saves nothing at its end.
    public func train(until: Int? = nil, onStep: (StepReport) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Outcome {
        try loop(until: until, onStep: onStep, shouldStop: shouldStop)
    }

    /// Writes the checkpoint and the log (where they have a place), each atomically. A failed
    /// write throws `.io` saying that the previous checkpoint is left as it was.
    public func save() throws {
        try record.save(step: trainer.stepCount) { checkpoint() }
    }

    /// The checkpoint of the current step as `save` writes it (for a host that keeps it elsewhere:
    /// `Options.resumeFrom` continues it).
    public func checkpoint() -> [UInt8] {
        let state = FaceSessionState(faces: faces, position: batches.position, samplerSeed: samplerSeed, batch: batchSize,
                                     splitSeed: recipeSeed, validationFraction: Self.validationFraction)
        return trainer.checkpoint(metadata: state.metadata(key: Self.metadataKey))
    }

    /// Writes the EMA generator as a prior file (rank 0 alone in a data-parallel session).
    public func export(to path: String) throws {
        guard isLead else { return }
        try FileIO.write(trainer.priorFile(), to: path)
    }
}

/// The prior's part of the face-folder sessions' loop: a step on the batch's real faces, and at
/// a checkpoint the sample sheet.
extension PriorTrainingSession: FaceSessionLoop {
    var schedule: (steps: Int, every: Int) { (options.steps, options.checkpointEvery) }
    var hasNonFiniteLoss: Bool { trainer.nonFiniteLoss != nil }

    func step(on batch: EnhancerBatch) throws -> [String: Float] { try trainer.step(real: batch.truth, batch: batch.count) }

    func report(losses: [String: Float], target: Int, rate: Double, secondsLeft: Double, checkpoint: Bool) throws -> StepReport {
        if checkpoint { try writeSheet() }
        return StepReport(step: step, steps: target, losses: losses, stepsPerSecond: rate, secondsLeft: secondsLeft,
                          checkpointed: checkpoint)
    }
}
