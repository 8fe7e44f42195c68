/// Data-parallel enhancer training (`GradientReducer`, as `TrainingRun` does for Algorithm 1):
/// every rank is given the same global batch (the sampler and the degradation seeded alike),
/// draws the noise planes of the whole batch (so its generator stays in step), computes the
/// losses and gradients of its own rows (`EnhancerBatchShare`), and the ranks add their
/// gradients and losses, each scaled by the rank's share of the batch, before every Adam step
/// of every network. Every loss is a mean over the batch's images, so the sums are the global
/// batch's gradients and losses: weights, EMA, checkpoints and the reported losses are the same
/// on every rank, and equal the one-process run's to float summation order.
extension EnhancerTrainingStep: FaceTrainerRanks {
    var stddevGroup: Int? { discriminator?.config.stddevGroup }

    /// Floats one data-parallel step sends through the reducer (every trained tensor's gradient
    /// once, plus the losses), for reports.
    var reducedFloatsPerStep: Int {
        ([generatorParameters] + (discriminatorParameters.map { [$0] } ?? []) + componentParameters).reduce(0) { sum, p in
            p.trained.reduce(sum) { $0 + p.gradients[$1]!.count }
        } + 16
    }
}

/// Which rows of a global batch a rank of a data-parallel enhancer run computes.
public enum EnhancerBatchShare {
    /// Rows of a batch of `batch` for `rank` of `size`, in the order the rank computes them.
    /// The face discriminator's minibatch standard deviation (`group`: its `stddevGroup`, nil
    /// without one) couples the images of a group: with g = min(batch, group) and m = batch / g
    /// sets, set s is the rows {k·m + s : k < g} (upstream's `view(group, -1, ...)`). A rank takes
    /// whole sets (`BatchSlice` over the m sets) and orders its rows k-major, so that its own
    /// batch of g·(its sets) groups exactly the same images. Throws `invalidArgument` when there
    /// are fewer sets than ranks (the message names a batch that would do).
    public static func rows(batch: Int, group: Int?, rank: Int, size: Int) throws -> [Int] {
        let g = group.map { min(batch, $0) } ?? 1
        guard g > 0, batch % g == 0 else {
            throw AVPGANError.invalid("a batch of \(batch) does not divide into the face discriminator's groups of \(g)")
        }
        let sets = batch / g
        guard sets >= size else {
            let need = size * (group ?? 1)
            if let group {
                throw AVPGANError.invalid("a batch of \(batch) makes \(sets) group\(sets == 1 ? "" : "s") for the face discriminator's minibatch standard deviation (groups of \(group), each kept whole on one rank): \(size) ranks need a batch of at least \(need) (a multiple of \(group))")
            }
            throw AVPGANError.invalid("a batch of \(batch) is smaller than the \(size) ranks; each rank needs at least one face")
        }
        let mine = BatchSlice.rows(batch: sets, rank: rank, size: size)
        return (0..<g).flatMap { k in mine.map { k * sets + $0 } }
    }
}

extension EnhancerTrainingBatch {
    /// The batch of the rows `rows` of this one, in that order (inputs, truths and landmarks alike).
    func rows(_ rows: [Int], size: Int) -> EnhancerTrainingBatch {
        let image = 3 * size * size
        var inputs: [Float] = [], truths: [Float] = []
        inputs.reserveCapacity(rows.count * image)
        truths.reserveCapacity(rows.count * image)
        for r in rows {
            inputs += self.inputs[(r * image)..<((r + 1) * image)]
            truths += self.truths[(r * image)..<((r + 1) * image)]
        }
        return EnhancerTrainingBatch(inputs: inputs, truths: truths, count: rows.count, components: components.map { c in rows.map { c[$0] } })
    }
}
