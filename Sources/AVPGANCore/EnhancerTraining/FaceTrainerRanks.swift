/// What the two face-folder trainers (`EnhancerTrainingStep`, `PriorTrainingStep`) do alike as
/// ranks of a data-parallel run: joining the ranks, taking whole groups of their StyleGAN2
/// discriminator's minibatch standard deviation (`EnhancerBatchShare`), and summing a network's
/// gradients and the losses over the ranks in one reduction before each Adam step.
protocol FaceTrainerRanks: AnyObject {
    /// The ranks of a data-parallel run (`distribute`), nil when training alone.
    var reducer: GradientReducer? { get set }
    /// The reduction's buffer (slot 0).
    var reduction: Workspace { get }
    /// The group size of the discriminator whose groups a rank keeps whole (nil: none).
    var stddevGroup: Int? { get }
}

extension FaceTrainerRanks {
    /// Makes this trainer one rank of a data-parallel run. Collective: every rank calls it at the
    /// same point with a trainer in the same state; `state` is what the caller knows must agree
    /// (for a session, its checkpoint bytes: weights, Adam, EMA, generator, sampler, data), and
    /// any difference throws on every rank with the same message.
    func distribute(over reducer: GradientReducer, state: [UInt8]) throws {
        guard reducer.size >= 1, (0..<reducer.size).contains(reducer.rank) else {
            throw AVPGANError.invalid("rank \(reducer.rank) of \(reducer.size) is not a rank")
        }
        try RankAgreement.require(SHA256.hex(state), reducer: reducer,
                                  what: "the ranks were started with different arguments, faces or checkpoints")
        self.reducer = reducer
    }

    /// The rows of a global batch of `batch` this rank computes, in its order (all of them when
    /// it trains alone). Throws `invalidArgument` when there are fewer groups than ranks.
    func rows(batch: Int) throws -> [Int] {
        guard let reducer else { return Array(0..<batch) }
        return try EnhancerBatchShare.rows(batch: batch, group: stddevGroup, rank: reducer.rank, size: reducer.size)
    }

    /// Replaces `parameters`' gradients and `losses` by their sums over the ranks, each rank's
    /// scaled by `weight` (for a mean over the batch: its rows / the global batch's), through
    /// one reduction (every trained tensor in `parameters.trained` order, then the losses by
    /// sorted name). Collective; nothing when training alone.
    func reduceAcrossRanks(_ parameters: OptimizedParameters?, losses: inout [String: Float], weight: Float) throws {
        guard let reducer else { return }
        let names = losses.keys.sorted(), trained = parameters?.trained ?? []
        let total = trained.reduce(names.count) { $0 + parameters!.gradients[$1]!.count }
        let flat = try reduction.slot(0, count: total)
        flat.update(repeating: 0, count: total)
        var at = 0
        for name in trained {
            let g = parameters!.gradients[name]!
            BLAS.axpy(g.count, alpha: weight, x: g.pointer, y: flat + at)
            at += g.count
        }
        for name in names { flat[at] = weight * losses[name]!; at += 1 }
        try reducer.sum(flat, count: total)
        at = 0
        for name in trained {
            let g = parameters!.gradients[name]!
            g.pointer.update(from: flat + at, count: g.count)
            at += g.count
        }
        for name in names { losses[name] = flat[at]; at += 1 }
    }
}
