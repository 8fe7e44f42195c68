#if canImport(Glibc)
import Glibc
#endif

/// An enhancer training session (`avpgan train-enhancer`): GFPGAN's training loop
/// (`EnhancerTrainingStep`) on a face folder (`EnhancerFaceSet`, batches from
/// `EnhancerBatchSampler`) taken to a number of steps, with
/// - a checkpoint every `checkpointEvery` steps and at the end
///   (`<checkpointDirectory>/enhancer-checkpoint.safetensors`: the step's checkpoint plus the
///   sampler's position and the data's fingerprint), written atomically (`FileIO.write`: a
///   failed write, a full disk, leaves the previous checkpoint as it was);
/// - at each checkpoint, validation of the EMA generator on the held-out faces
///   (`EnhancerValidation`: PSNR and SSIM against bicubic) and its sample sheet, input | output
///   | truth (`<checkpointDirectory>/samples/step-NNNNNN.png`);
/// - a JSONL log (written with each checkpoint, and at least every 10 s): per step `{"step", <upstream's loss names>, "steps_per_second"}`, per
///   validation `{"step", "validation": {"faces", "psnr", "ssim", "bicubic_psnr", "bicubic_ssim"}}`;
/// - resume from the checkpoint, bit-identical to an uninterrupted run, the log continued from
///   the checkpoint's step;
/// - a stop request that saves and ends; a non-finite loss ends the run without saving over the
///   last good checkpoint (`Outcome.diverged`).
/// At the end, `export` writes the EMA generator as an enhancer file.
/// With a `GradientReducer` it is one rank of a data-parallel session
/// (`EnhancerTrainingStep+DataParallel`): every rank draws the same batches and steps alike, a
/// stop is agreed so that all ranks stop after the same step, and rank 0 alone validates and
/// writes the checkpoints, the log, the sheets and the exported file.
public final class EnhancerTrainingSession: DataParallelRank {
    public struct Options: Sendable {
        /// The step count to reach (a resumed run counts from its checkpoint's step).
        public var steps = 1000
        /// Faces per step; nil: 4 for a new run, the checkpoint's when resuming (another size
        /// would not continue the same run, so it is refused).
        public var batchSize: Int?
        public var checkpointEvery = 100
        /// Where the checkpoint, the samples and (unless `logPath` is set) the log go; nil: nowhere.
        public var checkpointDirectory: String?
        /// The JSONL log; nil: `<checkpointDirectory>/train-enhancer.jsonl`, or none.
        public var logPath: String?
        /// Continue from the checkpoint in `checkpointDirectory` (the recipe is then its own).
        public var resume = false
        /// With `resume`: the checkpoint file to continue instead of the one in `checkpointDirectory`
        /// (a host that keeps its checkpoints elsewhere).
        public var resumeFrom: String?
        /// Rows of each sample sheet (held-out faces); 0: validation without sheets.
        public var sheetRows = 8
        /// Side of validation's low-resolution inputs; nil: 64 (the portraits' size), at most half the training size.
        public var validationLowSize: Int?

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
        /// The validation run after this step (at checkpoints), if any.
        public var validation: EnhancerValidation.Report?
    }

    /// How `train` ended.
    public typealias Outcome = TrainingSessionOutcome

    public static let checkpointName = "enhancer-checkpoint.safetensors"
    public static let logName = "train-enhancer.jsonl"
    public static let samplesFolder = TrainingSessionRecord.samplesFolder
    static let metadataKey = "avpgan.enhancer_session"

    public let options: Options
    public let faces: EnhancerFaceSet
    public let config: EnhancerConfig
    public let batchSize: Int
    public var checkpointPath: String? { record.checkpointPath }
    public var logPath: String? { record.logPath }
    /// The step the session started from (0, or the checkpoint's).
    public let firstStep: Int
    /// What the set-up turned off or chose, to be told once (a loss without its network).
    public private(set) var notes: [String] = []
    /// The losses of the run (after turning off those without a network).
    public var losses: EnhancerLossWeights { trainer.settings.losses }
    /// Steps taken so far.
    public var step: Int { trainer.stepCount }

    let trainer: EnhancerTrainingStep
    let batches: EnhancerBatchPrefetcher
    let samplerSeed: UInt64
    let recipeSeed: UInt64
    let validationFraction: Double
    /// How the run makes its inputs (the recipe's, or the checkpoint's when resuming).
    public let degradation: FaceDegradation
    /// The checkpoint, the log, the sheets and the rate (`TrainingSessionRecord`).
    let record: TrainingSessionRecord
    /// The ranks of a data-parallel session, nil alone (`isLead`: this process writes).
    public var reducer: GradientReducer? { trainer.reducer }
    /// The rows of each global batch this rank computes (all of them alone).
    public var rows: [Int] { (try? trainer.rows(batch: batchSize)) ?? [] }
    /// Floats each data-parallel step adds up over the ranks.
    public var reducedFloatsPerStep: Int { trainer.reducedFloatsPerStep }

    /// Checks the options, reads the faces, makes the checkpoint folder, and starts a new run
    /// from `recipe` or continues the checkpoint (then only `recipe`'s network files are read:
    /// the losses the checkpoint has on need them again).
    /// With a `reducer`, this is one rank of a data-parallel session (collective): every rank
    /// must be given the same options, recipe, faces and checkpoint (and the same `fingerprint`
    /// of what else the caller knows, such as its command line), which is checked; the batch
    /// must give each rank whole groups of the face discriminator (`EnhancerBatchShare`).
    public init(faces folder: String, options: Options, recipe: Recipe = Recipe(), reducer: GradientReducer? = nil,
                fingerprint: String = "") throws {
        guard options.steps >= 0, options.checkpointEvery >= 1, options.sheetRows >= 0,
              options.batchSize.map({ (1...4096).contains($0) }) ?? true else {
            throw AVPGANError.invalid("steps is \(options.steps), batch size \(options.batchSize.map(String.init) ?? "default"), checkpoint interval \(options.checkpointEvery), sheet rows \(options.sheetRows); expected steps >= 0, batch size 1...4096, interval >= 1, rows >= 0")
        }
        self.options = options
        let dir = options.checkpointDirectory
        let networks = try Self.lossNetworks(recipe)
        var faceOptions = EnhancerFaceSet.Options()
        if options.resume {
            let bytes = try TrainingSessionRecord.resumeBytes(directory: dir, checkpointName: Self.checkpointName,
                                                              resumeFrom: options.resumeFrom)
            let metadata = try Safetensors(bytes: bytes).metadata
            let state = try FaceSessionState(metadata: metadata, key: Self.metadataKey, what: "enhancer session checkpoint")
            faces = try state.faces(folder: folder, batch: options.batchSize)
            do {
                trainer = try EnhancerTrainingStep(checkpoint: bytes, perceptual: networks.perceptual, face: networks.face)
            } catch let e as AVPGANError where e.kind == .invalidArgument {
                throw AVPGANError.invalid("resuming: \(e.message); the checkpoint's run has this loss on, so its network must be given again")
            }
            batchSize = state.batch
            samplerSeed = state.samplerSeed
            recipeSeed = state.splitSeed
            validationFraction = state.validationFraction
            degradation = try Self.degradation(metadata: metadata)
            var sampler = EnhancerBatchSampler(faces: faces, degradation: degradation, seed: samplerSeed)
            sampler.position = state.position
            batches = EnhancerBatchPrefetcher(sampler)
        } else {
            var size = recipe.size
            var initial: ([String: [Float]], EnhancerConfig)?
            if recipe.initPath != nil {
                let (tensors, config) = try Self.generator(recipe, size: 0)
                if let s = size, s != config.outSize {
                    throw AVPGANError.invalid("the enhancer to fine-tune makes \(config.outSize) px faces, not \(s) px")
                }
                size = config.outSize
                initial = (tensors, config)
            }
            faceOptions.size = size
            faceOptions.seed = recipe.seed
            faceOptions.validationFraction = recipe.validationFraction
            faces = try EnhancerFaceSet(folder: folder, options: faceOptions)
            let (tensors, config) = try initial ?? Self.generator(recipe, size: faces.size)
            var notes: [String] = []
            let settings = try Self.settings(recipe, notes: &notes)
            batchSize = options.batchSize ?? 4
            let (d, components) = try Self.discriminators(config, settings: settings, seed: recipe.seed, batch: batchSize)
            trainer = try EnhancerTrainingStep(generator: tensors, config: config, discriminator: d, components: components,
                                               perceptual: networks.perceptual, face: networks.face, settings: settings,
                                               seed: EnhancerBatchSampler.mix(recipe.seed, 6, 0x0153))
            samplerSeed = EnhancerBatchSampler.mix(recipe.seed, 7, 0x5A)
            recipeSeed = recipe.seed
            validationFraction = recipe.validationFraction
            try recipe.degradation.validate()
            degradation = recipe.degradation
            batches = EnhancerBatchPrefetcher(EnhancerBatchSampler(faces: faces, degradation: degradation, seed: samplerSeed))
            self.notes = notes
        }
        config = trainer.config
        firstStep = trainer.stepCount
        if let low = options.validationLowSize, !(4...config.outSize).contains(low) {
            throw AVPGANError.invalid("the validation input size \(low) must lie in 4...\(config.outSize)")
        }
        record = TrainingSessionRecord(directory: dir, checkpointName: Self.checkpointName, logPath: options.logPath, logName: Self.logName,
                                       firstStep: firstStep, writes: (reducer?.rank ?? 0) == 0)
        if let reducer { try trainer.distribute(over: reducer, batch: batchSize, state: Array(fingerprint.utf8) + checkpoint()) }
        try record.open(resumed: options.resume)
    }

    /// Steps until `options.steps` or until `shouldStop()` (asked before every step) says stop,
    /// saving and validating every `checkpointEvery` steps and at the end; a non-finite loss
    /// ends the run (`Outcome.diverged`), keeping the last checkpoint. Errors (a failed save)
    /// are thrown with the state of the last checkpoint written. `until` (at most
    /// `options.steps`) ends this call at that step instead, for a host that trains in pieces:
    /// checkpoints and validations still fall every `checkpointEvery` steps and at
    /// `options.steps`, and a piece that ends before `options.steps` saves nothing at its end.
    public func train(until: Int? = nil, onStep: (StepReport) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Outcome {
        try loop(until: until, onStep: onStep, shouldStop: shouldStop)
    }

    /// Writes the checkpoint and the log (where they have a place), each atomically. A failed
    /// write throws `.io` saying that the previous checkpoint is left as it was. Only rank 0 of
    /// a data-parallel session writes.
    public func save() throws {
        try record.save(step: trainer.stepCount) { trainer.checkpoint(metadata: stateMetadata) }
    }

    /// The checkpoint of the current step as `save` writes it (for a host that keeps it elsewhere:
    /// `Options.resumeFrom` continues it).
    public func checkpoint() -> [UInt8] {
        trainer.checkpoint(metadata: stateMetadata)
    }

    /// Writes the EMA generator as an enhancer file (rank 0 alone in a data-parallel session).
    public func export(to path: String) throws {
        guard isLead else { return }
        try FileIO.write(trainer.enhancerFile(), to: path)
    }

    /// Side of validation's low-resolution inputs: `options.validationLowSize`, or min(64, size / 2).
    public var validationLowSize: Int { options.validationLowSize ?? min(64, config.outSize / 2) }

    /// Validates the EMA generator on the held-out faces, logs the result and writes its sheet.
    public func validate() throws -> EnhancerValidation.Report {
        var o = EnhancerValidation.Options()
        o.lowSize = validationLowSize
        o.sheetRows = options.checkpointDirectory == nil ? 0 : options.sheetRows
        let report = try EnhancerValidation.run(try Enhancer(bytes: trainer.enhancerFile()), faces: faces, options: o)
        let step = trainer.stepCount
        record.append("{\"step\": \(step), \"validation\": {\"faces\": \(report.faces), \"low_size\": \(o.lowSize), \"psnr\": \(report.enhancerPSNR), \"ssim\": \(report.enhancerSSIM), \"bicubic_psnr\": \(report.bicubicPSNR), \"bicubic_ssim\": \(report.bicubicSSIM)}}")
        try record.writeSheet(report.sheet, step: step)
        return report
    }
}

/// The enhancer's part of the face-folder sessions' loop: a step on a degraded batch, and at a
/// checkpoint the validation (rank 0 alone) that its report carries.
extension EnhancerTrainingSession: FaceSessionLoop {
    var schedule: (steps: Int, every: Int) { (options.steps, options.checkpointEvery) }
    var hasNonFiniteLoss: Bool { trainer.nonFiniteLoss != nil }

    func step(on batch: EnhancerBatch) throws -> [String: Float] {
        try trainer.step(EnhancerTrainingBatch(inputs: batch.input, truths: batch.truth, count: batch.count, components: batch.components))
    }

    func report(losses: [String: Float], target: Int, rate: Double, secondsLeft: Double, checkpoint: Bool) throws -> StepReport {
        StepReport(step: step, steps: target, losses: losses, stepsPerSecond: rate, secondsLeft: secondsLeft,
                   validation: checkpoint && isLead ? try validate() : nil)
    }
}
