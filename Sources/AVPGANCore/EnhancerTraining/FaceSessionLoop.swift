/// The training loop both face-folder sessions (`EnhancerTrainingSession`,
/// `PriorTrainingSession`) run, over what each does its own way: its step on a batch, what it
/// does at a checkpoint (validation, a sheet) and its report.
protocol FaceSessionLoop: AnyObject {
    associatedtype StepReport
    /// The checkpoint, the log, the sheets and the rate.
    var record: TrainingSessionRecord { get }
    /// The ranks of a data-parallel session (a stop is agreed over them), nil alone.
    var reducer: GradientReducer? { get }
    /// The batches, `batchSize` faces each.
    var batches: EnhancerBatchPrefetcher { get }
    var batchSize: Int { get }
    /// Steps taken so far.
    var step: Int { get }
    /// The run's last step (`options.steps`) and the steps between checkpoints.
    var schedule: (steps: Int, every: Int) { get }
    /// Whether the last step met a non-finite loss (its error is then the run's divergence).
    var hasNonFiniteLoss: Bool { get }
    /// One step on `batch`: its losses under upstream's log names.
    func step(on batch: EnhancerBatch) throws -> [String: Float]
    /// The report of the step just taken; `target` is the step this call ends at, `checkpoint`
    /// says that the step takes a checkpoint (the session does its checkpoint work here, before
    /// the loop saves).
    func report(losses: [String: Float], target: Int, rate: Double, secondsLeft: Double, checkpoint: Bool) throws -> StepReport
    func save() throws
}

extension FaceSessionLoop {
    /// Steps until `schedule.steps`, or `until` (at most that) for a host that trains in
    /// pieces, or until `shouldStop()` (asked before every step, agreed over the ranks) says stop,
    /// which saves. Checkpoints fall every `schedule.every` steps and at `schedule.steps`; a
    /// piece that ends before `schedule.steps` saves nothing at its end. A non-finite loss
    /// ends the run (`.diverged`) keeping the last checkpoint; the log is written.
    func loop(until: Int?, onStep: (StepReport) -> Void, shouldStop: () -> Bool) throws -> TrainingSessionOutcome {
        record.startClock()
        let (steps, every) = schedule
        let target = min(until ?? steps, steps)
        while step < target {
            let stopAsked = shouldStop()
            if try reducer?.anyRank(stopAsked) ?? stopAsked {
                try save()
                return .stopped
            }
            let batch = try batches.next(batch: batchSize)
            let attempted = step + 1
            let losses: [String: Float]
            do {
                losses = try self.step(on: batch)
            } catch let e as AVPGANError where hasNonFiniteLoss {
                return .diverged(step: attempted, message: try record.diverged(e.message), lastCheckpoint: record.lastCheckpoint)
            }
            let rate = record.rate(at: step)
            try record.logStep(step, losses: losses, stepsPerSecond: rate)
            let checkpoint = TrainingSessionRecord.isCheckpoint(step, every: every, last: steps)
            let report = try report(losses: losses, target: target, rate: rate,
                                    secondsLeft: Double(target - step) / max(rate, 1e-9), checkpoint: checkpoint)
            if checkpoint { try save() }
            onStep(report)
        }
        if target == steps, record.lastCheckpoint != step { try save() }
        return .finished
    }
}
