/// What the two face-folder trainers (`EnhancerTrainingStep`, `PriorTrainingStep`) do alike as
/// ranks of a data-parallel run: joining the ranks, taking whole groups of their StyleGAN2
/// discriminator's minibatch standard deviation (`EnhancerBatchShare`), summing a network's
/// gradients and the losses over the ranks in one reduction before each Adam step, and the
/// (face) discriminator's softplus step that does so.
protocol FaceTrainerRanks: AnyObject {
    /// The ranks of a data-parallel run (`distribute`), nil when training alone.
    var reducer: GradientReducer? { get set }
    /// The reduction's buffer (slot 0).
    var reduction: Workspace { get }
    /// The group size of the discriminator whose groups a rank keeps whole (nil: none).
    var stddevGroup: Int? { get }
    /// The StyleGAN2 discriminator's tape.
    var discriminatorPass: DiscriminatorPass { get }
    /// The loss that ended the last step, when one was not finite.
    var nonFiniteLoss: (name: String, value: Float)? { get set }
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

    /// `distribute(over:state:)` for a session whose global batch is `batch`, after checking
    /// that the batch gives every rank whole discriminator groups (`EnhancerBatchShare`).
    func distribute(over reducer: GradientReducer, batch: Int, state: [UInt8]) throws {
        _ = try EnhancerBatchShare.rows(batch: batch, group: stddevGroup, rank: reducer.rank, size: reducer.size)
        try distribute(over: reducer, state: state)
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

    /// The StyleGAN2 discriminator `d`'s softplus step on `fake` and `real` (`batch` images each,
    /// R1 at `r1Weight`, nil: none), its gradients and losses summed over the ranks (`weight`:
    /// this rank's share) before Adam. Returns `l_d`, `real_score`, `fake_score` and, with R1,
    /// `l_d_r1`. A non-finite loss is kept in `nonFiniteLoss` and thrown as `invalidArgument`
    /// "step `step`: the `what`'s <loss> is <value>; `untouched`".
    func softplusStep(_ d: StyleGAN2Discriminator, _ parameters: OptimizedParameters, fake: UnsafePointer<Float>, real: [Float],
                      batch: Int, r1Weight: Double?, weight: Float, step: Int, what: String, untouched: String) throws -> [String: Float] {
        let (losses, bad) = try real.withUnsafeBufferPointer { real in
            try d.softplusStep(fake: fake, real: real.baseAddress!, batch: batch, r1Weight: r1Weight, parameters: parameters,
                               pass: discriminatorPass, reducer: reducer) { losses in
                try reduceAcrossRanks(parameters, losses: &losses, weight: weight)
            }
        }
        if let bad {
            nonFiniteLoss = bad
            throw AVPGANError.invalid("step \(step): the \(what)'s \(bad.name) is \(bad.value); \(untouched)")
        }
        return losses
    }
}
