/// What the two face-folder trainers (`EnhancerTrainingStep`, `PriorTrainingStep`) do alike as
/// ranks of a data-parallel run: joining the ranks, and summing a network's gradients and the
/// losses over them in one reduction before each Adam step.
enum FaceTrainerRanks {
    /// Checks that `reducer` names a rank and that every rank holds the same `state` (a
    /// trainer's checkpoint bytes, and what else its caller knows must agree). Collective:
    /// every rank calls it at the same point; a difference throws on every rank with the same
    /// message.
    static func join(_ reducer: GradientReducer, state: [UInt8]) throws {
        guard reducer.size >= 1, (0..<reducer.size).contains(reducer.rank) else {
            throw AVPGANError.invalid("rank \(reducer.rank) of \(reducer.size) is not a rank")
        }
        try RankAgreement.require(SHA256.hex(state), reducer: reducer,
                                  what: "the ranks were started with different arguments, faces or checkpoints")
    }

    /// Replaces `parameters`' gradients and `losses` by their sums over the ranks, each rank's
    /// scaled by `weight` (for a mean over the batch: its rows / the global batch's), through
    /// one reduction in `buffer`'s slot 0 (every trained tensor in `parameters.trained` order,
    /// then the losses by sorted name). Collective.
    static func sum(_ parameters: OptimizedParameters?, losses: inout [String: Float], weight: Float, over reducer: GradientReducer,
                    buffer: Workspace) throws {
        let names = losses.keys.sorted(), trained = parameters?.trained ?? []
        let total = trained.reduce(names.count) { $0 + parameters!.gradients[$1]!.count }
        let flat = try buffer.slot(0, count: total)
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
