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
public final class EnhancerTrainingSession {
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
    public enum Outcome: Equatable, Sendable {
        /// All steps taken; the checkpoint and the log are saved.
        case finished
        /// `shouldStop` said stop; the checkpoint and the log are saved.
        case stopped
        /// Step `step` met a non-finite loss (`message` says which): nothing was saved over the
        /// checkpoint of step `lastCheckpoint` (nil: none was written); the log is saved.
        case diverged(step: Int, message: String, lastCheckpoint: Int?)
    }

    public static let checkpointName = "enhancer-checkpoint.safetensors"
    public static let logName = "train-enhancer.jsonl"
    public static let samplesFolder = "samples"
    static let metadataKey = "avpgan.enhancer_session"
    /// Most time between writes of the log when no checkpoint writes it.
    static let logInterval = Duration.seconds(10)

    public let options: Options
    public let faces: EnhancerFaceSet
    public let config: EnhancerConfig
    public let batchSize: Int
    public let checkpointPath: String?
    public let logPath: String?
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
    private var log: [UInt8] = []
    private var lastCheckpoint: Int?

    /// Checks the options, reads the faces, makes the checkpoint folder, and starts a new run
    /// from `recipe` or continues the checkpoint (then only `recipe`'s network files are read:
    /// the losses the checkpoint has on need them again).
    public init(faces folder: String, options: Options, recipe: Recipe = Recipe()) throws {
        guard options.steps >= 0, options.checkpointEvery >= 1, options.sheetRows >= 0,
              options.batchSize.map({ (1...4096).contains($0) }) ?? true else {
            throw AVPGANError.invalid("steps is \(options.steps), batch size \(options.batchSize.map(String.init) ?? "default"), checkpoint interval \(options.checkpointEvery), sheet rows \(options.sheetRows); expected steps >= 0, batch size 1...4096, interval >= 1, rows >= 0")
        }
        self.options = options
        let dir = options.checkpointDirectory
        checkpointPath = dir.map { "\($0)/\(Self.checkpointName)" }
        logPath = options.logPath ?? dir.map { "\($0)/\(Self.logName)" }
        let networks = try Self.lossNetworks(recipe)
        var faceOptions = EnhancerFaceSet.Options()
        if options.resume {
            guard let checkpointPath, access(checkpointPath, R_OK) == 0 else {
                throw AVPGANError.invalid("resuming needs a checkpoint folder holding \(Self.checkpointName)")
            }
            let bytes = try FileIO.read(checkpointPath)
            let state = try SessionState(metadata: try Safetensors(bytes: bytes).metadata)
            faceOptions.size = state.size
            faceOptions.seed = state.splitSeed
            faceOptions.validationFraction = state.validationFraction
            faces = try EnhancerFaceSet(folder: folder, options: faceOptions)
            guard Self.fingerprint(faces) == state.fingerprint else {
                throw AVPGANError.invalid("the checkpoint was trained on another face folder (\(state.faceCount) faces of \(state.size) px with other names or order; '\(folder)' has \(faces.count)): resume on the same faces")
            }
            if let b = options.batchSize, b != state.batch {
                throw AVPGANError.invalid("the checkpoint's run has batches of \(state.batch), not \(b): a resumed run keeps its batch size")
            }
            do {
                trainer = try EnhancerTrainingStep(checkpoint: bytes, perceptual: networks.perceptual, face: networks.face)
            } catch let e as AVPGANError where e.kind == .invalidArgument {
                throw AVPGANError.invalid("resuming: \(e.message); the checkpoint's run has this loss on, so its network must be given again")
            }
            batchSize = state.batch
            samplerSeed = state.samplerSeed
            recipeSeed = state.splitSeed
            validationFraction = state.validationFraction
            var sampler = EnhancerBatchSampler(faces: faces, seed: samplerSeed)
            sampler.position = state.position
            batches = EnhancerBatchPrefetcher(sampler)
            lastCheckpoint = trainer.stepCount
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
            batches = EnhancerBatchPrefetcher(EnhancerBatchSampler(faces: faces, seed: samplerSeed))
            self.notes = notes
        }
        config = trainer.config
        firstStep = trainer.stepCount
        if let low = options.validationLowSize, !(4...config.outSize).contains(low) {
            throw AVPGANError.invalid("the validation input size \(low) must lie in 4...\(config.outSize)")
        }
        if let dir {
            try FileIO.makeDirectory(dir)
            try FileIO.makeDirectory("\(dir)/\(Self.samplesFolder)")
        }
        if options.resume, let logPath, let old = try? FileIO.read(logPath) { log = Self.lines(old, upTo: firstStep) }
    }

    /// Steps until `options.steps` or until `shouldStop()` (asked before every step) says stop,
    /// saving and validating every `checkpointEvery` steps and at the end; a non-finite loss
    /// ends the run (`Outcome.diverged`), keeping the last checkpoint. Errors (a failed save)
    /// are thrown with the state of the last checkpoint written.
    public func train(onStep: (StepReport) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> Outcome {
        let clock = ContinuousClock(), start = clock.now
        var logWritten = start
        while trainer.stepCount < options.steps {
            if shouldStop() {
                try save()
                return .stopped
            }
            let batch = try batches.next(batch: batchSize)
            let attempted = trainer.stepCount + 1
            let losses: [String: Float]
            do {
                losses = try trainer.step(EnhancerTrainingBatch(inputs: batch.input, truths: batch.truth, count: batch.count,
                                                                components: batch.components))
            } catch let e as AVPGANError where trainer.nonFiniteLoss != nil {
                if let logPath { try FileIO.write(log, to: logPath) }
                let kept = lastCheckpoint.map { " the checkpoint of step \($0) is kept" } ?? " no checkpoint was written"
                return .diverged(step: attempted, message: "\(e.message);\(kept), nothing was saved after it", lastCheckpoint: lastCheckpoint)
            }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let rate = Double(trainer.stepCount - firstStep) / max(seconds, 1e-9)
            let fields = losses.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
            log += Array("{\"step\": \(trainer.stepCount), \(fields), \"steps_per_second\": \(fixed(rate, 3))}\n".utf8)
            if let logPath, clock.now - logWritten >= Self.logInterval {
                try FileIO.write(log, to: logPath)  // a long run's log is followed between checkpoints
                logWritten = clock.now
            }
            var report = StepReport(step: trainer.stepCount, steps: options.steps, losses: losses, stepsPerSecond: rate,
                                    secondsLeft: Double(options.steps - trainer.stepCount) / max(rate, 1e-9))
            if trainer.stepCount % options.checkpointEvery == 0 || trainer.stepCount == options.steps {
                report.validation = try validate()
                try save()
            }
            onStep(report)
        }
        if lastCheckpoint != trainer.stepCount { try save() }
        return .finished
    }

    /// Writes the checkpoint and the log (where they have a place), each atomically. A failed
    /// write throws `.io` saying that the previous checkpoint is left as it was.
    public func save() throws {
        if let checkpointPath {
            do {
                try FileIO.write(trainer.checkpoint(metadata: stateMetadata), to: checkpointPath)
            } catch let e as AVPGANError {
                let kept = lastCheckpoint.map { "the checkpoint of step \($0) is left as it was" } ?? "no checkpoint was written"
                throw AVPGANError(e.kind, "saving the checkpoint of step \(trainer.stepCount) failed (\(e.message)); \(kept)")
            }
            lastCheckpoint = trainer.stepCount
        }
        if let logPath { try FileIO.write(log, to: logPath) }
    }

    /// Writes the EMA generator as an enhancer file.
    public func export(to path: String) throws {
        try FileIO.write(trainer.enhancerFile(), to: path)
    }

    /// Validates the EMA generator on the held-out faces, logs the result and writes its sheet.
    public func validate() throws -> EnhancerValidation.Report {
        var o = EnhancerValidation.Options()
        o.lowSize = options.validationLowSize ?? min(64, config.outSize / 2)
        o.sheetRows = options.checkpointDirectory == nil ? 0 : options.sheetRows
        let report = try EnhancerValidation.run(try Enhancer(bytes: trainer.enhancerFile()), faces: faces, options: o)
        let step = trainer.stepCount
        log += Array("{\"step\": \(step), \"validation\": {\"faces\": \(report.faces), \"low_size\": \(o.lowSize), \"psnr\": \(report.enhancerPSNR), \"ssim\": \(report.enhancerSSIM), \"bicubic_psnr\": \(report.bicubicPSNR), \"bicubic_ssim\": \(report.bicubicSSIM)}}\n".utf8)
        if let dir = options.checkpointDirectory, !report.sheet.isEmpty {
            let digits = String(step), padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
            try FileIO.write(report.sheet, to: "\(dir)/\(Self.samplesFolder)/step-\(padded).png")
        }
        return report
    }
}
