/// Data-parallel face-prior training (`GradientReducer`, as `EnhancerTrainingStep+DataParallel`):
/// every rank is given the same global batch of real faces (the sampler seeded alike) and
/// draws every random number of the whole batch (z, mixing, injection index, noise planes, the
/// path-length batch and its image noise) from the same seeded generator, so all ranks stay in
/// step; each computes its own rows (`EnhancerBatchShare`: whole minibatch-deviation groups of
/// the discriminator for the fake and the real images, `BatchSlice` of the path-length batch).
/// - The discriminator step: the softplus losses and the R1 term (its ε from the whole batch's
///   image gradient) are local means, so gradients and losses are summed scaled by the rank's
///   share of the batch before Adam.
/// - The generator step: the adversarial gradient enters scaled by the share; the path-length
///   term takes the mean path length, its penalty and its step ε over every rank's images
///   (`sumOverRanks`), so its gradient is each image's exact part and is summed unscaled with
///   the adversarial one in one reduction before Adam.
/// Weights, Adam, EMA, the running mean path length, checkpoints and the reported losses are
/// then the same on every rank, and equal one process's on the whole batch to float summation
/// order.
extension PriorTrainingStep: FaceTrainerRanks {
    var stddevGroup: Int? { discriminator.config.stddevGroup }

    /// The rows of a path-length batch of `batch` this rank computes (possibly none).
    func pathRows(batch: Int) -> [Int] {
        guard let reducer else { return Array(0..<batch) }
        return Array(BatchSlice.rows(batch: batch, rank: reducer.rank, size: reducer.size))
    }

    /// `values` summed over the ranks (through floats); `values` alone. Collective.
    func sumOverRanks(_ values: [Double]) throws -> [Double] {
        guard let reducer else { return values }
        var sums = values.map { Float($0) }
        try sums.withUnsafeMutableBufferPointer { try reducer.sum($0.baseAddress!, count: $0.count) }
        return sums.map { Double($0) }
    }

    /// Floats one data-parallel step sends through the reducer at most (every trained tensor's
    /// gradient once, the losses, and the small sums of the R1 and path-length terms), for reports.
    var reducedFloatsPerStep: Int {
        [generatorParameters, discriminatorParameters].reduce(0) { sum, p in p.trained.reduce(sum) { $0 + p.gradients[$1]!.count } } + 16
    }
}

extension PriorDraw {
    /// The draw of the images `rows` of this draw of `batch` images, in that order (z of every
    /// style vector and the noise planes alike; mixing and injection index unchanged).
    func rows(_ rows: [Int], batch: Int, styleDim s: Int, noiseFloats: Int) -> PriorDraw {
        guard rows != Array(0..<batch) else { return self }
        var z: [Float] = [], planes: [Float] = []
        z.reserveCapacity(styles.vectors * rows.count * s)
        planes.reserveCapacity(rows.count * noiseFloats)
        for v in 0..<styles.vectors {
            for r in rows { z += styles.z[((v * batch + r) * s)..<((v * batch + r + 1) * s)] }
        }
        for r in rows { planes += noises[(r * noiseFloats)..<((r + 1) * noiseFloats)] }
        return PriorDraw(styles: PriorStyles(z: z, vectors: styles.vectors, injectIndex: styles.injectIndex), noises: planes)
    }
}

extension Array where Element == Float {
    /// The images `rows` of `[N, image]` values, in that order (self when `rows` is every image).
    func images(_ rows: [Int], image: Int) -> [Float] {
        guard rows != [Int](0..<(count / Swift.max(image, 1))) else { return self }
        var out: [Float] = []
        out.reserveCapacity(rows.count * image)
        for r in rows { out += self[(r * image)..<((r + 1) * image)] }
        return out
    }
}
