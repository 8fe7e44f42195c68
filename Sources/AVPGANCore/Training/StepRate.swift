/// Steps per second since a start (the start of a session's `train`).
struct StepRate {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    init() { start = clock.now }

    /// `steps` taken since the start, per second.
    func perSecond(_ steps: Int) -> Double {
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(steps) / max(seconds, 1e-9)
    }
}
