/// The face prior's sample sheets: `options.sheetSamples` faces of the EMA generator in rows of
/// four, from z and noise planes drawn from the run's seed (the same at every checkpoint of a
/// run, resumed or not, so sheets compare across steps), the style vectors truncated by
/// `options.truncation` toward the mean over 4096 z (`PriorNetwork.sample`, `meanLatent`).
extension PriorTrainingSession {
    /// The sheet of the current EMA generator as PNG bytes (empty with no samples).
    public func samplesPNG() throws -> [UInt8] {
        let n = options.sheetSamples
        guard n > 0 else { return [] }
        let prior = try PriorNetwork(values: trainer.ema, config: config)
        var random = SplitMix(seed: EnhancerBatchSampler.mix(recipeSeed, 8, 0x5E))
        let z = (0..<(n * config.styleDim)).map { _ in random.gaussian() }
        let noises = (0..<(n * config.noiseFloats)).map { _ in random.gaussian() }
        var mean: [Float]?
        if options.truncation != 1 {
            var meanRandom = SplitMix(seed: EnhancerBatchSampler.mix(recipeSeed, 9, 0x3E))
            mean = try prior.meanLatent(count: 4096, rng: &meanRandom)
        }
        var images = [Float](repeating: 0, count: n * 3 * config.outSize * config.outSize)
        try noises.withUnsafeBufferPointer { planes in
            try images.withUnsafeMutableBufferPointer {
                try prior.sample(z: z, batch: n, truncation: options.truncation, meanLatent: mean, noises: planes.baseAddress!,
                                 into: $0.baseAddress!)
            }
        }
        return try FaceGrid.png(images, count: n, size: config.outSize, columns: 4)
    }

    /// Writes the sheet of the current step into the samples folder (nothing without a folder,
    /// nor on a data-parallel rank other than 0).
    func writeSheet() throws {
        guard options.checkpointDirectory != nil, isLead else { return }
        try record.writeSheet(try samplesPNG(), step: trainer.stepCount)
    }
}
