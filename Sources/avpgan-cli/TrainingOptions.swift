import AVPGANCore

/// The options every training command reads the same way into its session's `Options`
/// (`train`, `train-voice`, `train-enhancer`, `train-prior`): the step count, the checkpoint
/// cadence and folder, the log and resume. Each command checks their ranges with its own.
protocol TrainingScheduleOptions {
    var steps: Int { get set }
    var checkpointEvery: Int { get set }
    var checkpointDirectory: String? { get set }
    var logPath: String? { get set }
    var resume: Bool { get set }
}

extension TrainingScheduleOptions {
    /// Reads --steps (default 1000), --checkpoint-every (100), --checkpoint-dir, --log and
    /// --resume; exits 2 on a count that is not an integer.
    mutating func readSchedule(_ o: Options, flags: Set<String>) {
        steps = o.integer("--steps", default: 1000)
        checkpointEvery = o.integer("--checkpoint-every", default: 100)
        checkpointDirectory = o.values["--checkpoint-dir"]
        logPath = o.values["--log"]
        resume = flags.contains("--resume")
    }
}

extension GANTrainingSession.Options: TrainingScheduleOptions {}
extension VoiceEncoderTrainingSession.Options: TrainingScheduleOptions {}
extension EnhancerTrainingSession.Options: TrainingScheduleOptions {}
extension PriorTrainingSession.Options: TrainingScheduleOptions {}
