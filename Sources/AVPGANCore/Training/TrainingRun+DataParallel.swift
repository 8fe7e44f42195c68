/// A `TrainingRun` spread over ranks (`GradientReducer`): each rank draws the same global batch,
/// computes its rows (`BatchSlice`), and the gradients are added before every optimizer step.
extension TrainingRun {
    /// Makes this run one rank of a data-parallel run. Every rank must call it at the same point
    /// with a run in the same state (same networks, optimizer and sampler state, same data set),
    /// which it checks: `fingerprint` covers what the caller knows of its set-up (arguments,
    /// data), and the run adds its step, sampler state and a digest of its weights. Throws on
    /// any difference between ranks, on every rank, with the same message.
    public func distribute(over reducer: GradientReducer, fingerprint: String) throws {
        guard reducer.size >= 1, (0..<reducer.size).contains(reducer.rank) else {
            throw AVPGANError.invalid("rank \(reducer.rank) of \(reducer.size) is not a rank")
        }
        if hasDataset && batchSize < reducer.size {
            throw AVPGANError.invalid("the batch of \(batchSize) is smaller than the \(reducer.size) ranks; each rank needs at least one row")
        }
        var digest = SHA256()
        digest.update(Array("\(fingerprint)|step \(step)|rng \(checkpoint().rng)|batch \(batchSize)".utf8))
        for p in trainer.trainedParameters {
            digest.update(UnsafeRawBufferPointer(start: p.value.pointer, count: p.count * MemoryLayout<Float>.size))
            digest.update(UnsafeRawBufferPointer(start: p.adam.expAvg.pointer, count: p.count * MemoryLayout<Float>.size))
        }
        try RankAgreement.require(digest.hexDigest(), reducer: reducer,
                                  what: "the ranks were started with different arguments, data or checkpoints")
        trainer.reducer = reducer
        trainer.globalBatch = batchSize
    }

    /// Floats a data-parallel step sends through the reducer: every trained parameter's
    /// gradient once (the D step's f, d, c and the G step's g), plus the spread sums and losses.
    public var reducedFloatsPerStep: Int {
        trainer.trainedParameters.reduce(0) { $0 + $1.count } + 2 * 3 * config.imageSize * config.imageSize + 5
    }

    /// This rank's share of data-parallel training, or nil when it trains alone.
    public var reducer: GradientReducer? { trainer.reducer }
}

/// Checks with a sum-only reduction that every rank holds the same text: each rank adds the
/// characters of the text's hex SHA-256 and their squares. The sums are size x its own values
/// exactly when the ranks' values have zero variance, that is, all agree; so every rank reaches
/// the same verdict. The values are integers below 128 and their squares below 2^14, so the
/// float sums are exact up to `maximumRanks`.
public enum RankAgreement {
    static let maximumRanks = 1 << 10

    public static func require(_ text: String, reducer: GradientReducer, what: String) throws {
        guard reducer.size <= maximumRanks else {
            throw AVPGANError(.unsupported, "\(reducer.size) ranks; data-parallel training supports up to \(maximumRanks)")
        }
        let bytes = Array(SHA256.hex(Array(text.utf8)).utf8)
        var values = bytes.map { Float($0) } + bytes.map { Float($0) * Float($0) } + [1]
        let own = values
        try values.withUnsafeMutableBufferPointer { try reducer.sum($0.baseAddress!, count: $0.count) }
        let ranks = values.last!
        guard ranks == Float(reducer.size) else {
            throw AVPGANError.invalid("\(Int(ranks)) ranks answered where \(reducer.size) were expected")
        }
        guard zip(values, own).allSatisfy({ $0 == $1 * ranks }) else {
            throw AVPGANError.invalid("\(what): the \(reducer.size) ranks do not all hold the same state")
        }
    }
}
