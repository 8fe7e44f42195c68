/// Voice-encoder pre-training spread over ranks (`GradientReducer`): each rank draws the same
/// global batch (one crop length for all), trains on its rows (`BatchSlice`) with BatchNorm
/// synchronised over the ranks, and the gradients are summed before every Adam step, so the
/// weights and running statistics stay identical on every rank.
extension VoiceEncoderPretrainingRun: DataParallelRank {
    /// Makes this run one rank of a data-parallel run. Collective: every rank calls it at the
    /// same point with a run in the same state, which it checks (`fingerprint`: what the caller
    /// knows of its set-up, arguments and data; the run adds its step, sampler state, batch,
    /// weights, running statistics and Adam moments). Throws on every rank on any difference.
    public func distribute(over reducer: GradientReducer, fingerprint: String) throws {
        guard reducer.size >= 1, (0..<reducer.size).contains(reducer.rank) else {
            throw AVPGANError.invalid("rank \(reducer.rank) of \(reducer.size) is not a rank")
        }
        guard batchSize >= reducer.size else {
            throw AVPGANError.invalid("the batch of \(batchSize) is smaller than the \(reducer.size) ranks; each rank needs at least one crop")
        }
        var digest = SHA256()
        digest.update(Array("\(fingerprint)|step \(step)|rng \(sampler.randomState)|batch \(batchSize)|tracked \(trainer.encoder.batchesTracked)".utf8))
        func add(_ p: UnsafePointer<Float>, _ count: Int) {
            digest.update(UnsafeRawBufferPointer(start: p, count: count * MemoryLayout<Float>.size))
        }
        for p in trainer.parameters {
            add(p.value.pointer, p.count)
            add(p.adam.expAvg.pointer, p.count)
        }
        for b in trainer.encoder.blocks {
            add(b.runningMean.pointer, b.outChannels)
            add(b.runningVar.pointer, b.outChannels)
        }
        try RankAgreement.require(digest.hexDigest(), reducer: reducer,
                                  what: "the ranks were started with different arguments, data or checkpoints")
        trainer.distribute(over: reducer, globalBatch: batchSize)
    }

    /// This rank's share of data-parallel training, or nil when it trains alone (`isLead`:
    /// whether this process writes checkpoints, logs and the model).
    public var reducer: GradientReducer? { trainer.reducer }

    /// Floats a data-parallel step sends through the reducer: every parameter's gradient, the
    /// loss and the count, and per BatchNorm layer its sums, deviations and backward sums.
    public var reducedFloatsPerStep: Int {
        trainer.parameters.reduce(2) { $0 + $1.count } + trainer.encoder.blocks.reduce(0) { $0 + 4 * $1.outChannels + 1 }
    }
}
