/// How a training session's `train` call ended (`EnhancerTrainingSession`, `PriorTrainingSession`).
public enum TrainingSessionOutcome: Equatable, Sendable {
    /// All steps taken (of the run, or of the piece asked for); at the run's last step the
    /// checkpoint and the log are saved.
    case finished
    /// `shouldStop` said stop (on any rank of a data-parallel session); the checkpoint and the
    /// log are saved.
    case stopped
    /// Step `step` met a non-finite loss (`message` says which): nothing was saved over the
    /// checkpoint of step `lastCheckpoint` (nil: none was written); the log is saved.
    case diverged(step: Int, message: String, lastCheckpoint: Int?)
}
