/// A training session or run that may be one rank of a data-parallel run (`GradientReducer`):
/// `EnhancerTrainingSession`, `PriorTrainingSession`, `VoiceEncoderPretrainingRun`.
public protocol DataParallelRank: AnyObject {
    /// The ranks of a data-parallel run, nil when it trains alone.
    var reducer: GradientReducer? { get }
}

extension DataParallelRank {
    /// Whether this process writes the checkpoints, the log, the sheets and the exported file:
    /// rank 0, or the only process.
    public var isLead: Bool { (reducer?.rank ?? 0) == 0 }
}
