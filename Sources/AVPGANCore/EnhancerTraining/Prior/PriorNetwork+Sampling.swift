/// Sampling from a prior, as upstream's StyleGAN2GeneratorClean does outside training: the
/// mean style vector (`mean_latent`) and the truncation trick (`truncation`,
/// `truncation_latent`), which training never uses.
extension PriorNetwork {
    /// The mean of the style MLP's w over `count` z drawn standard normal from `rng`
    /// (upstream's `mean_latent(count)`), `[S]`.
    func meanLatent(count: Int, rng: inout SplitMix) throws -> [Float] {
        guard count > 0 else { throw AVPGANError.invalid("the mean style vector needs at least one sample, not \(count)") }
        let s = config.styleDim, z = (0..<(count * s)).map { _ in rng.gaussian() }
        let record = try FloatStorage(count: mlp.recordCount(vectors: count))
        z.withUnsafeBufferPointer { mlp.forward($0.baseAddress!, vectors: count, record: record.pointer) }
        let w = mlp.output(record: record.pointer, vectors: count)
        var mean = [Double](repeating: 0, count: s)
        for i in 0..<count { for f in 0..<s { mean[f] += Double(w[i * s + f]) } }
        return withExtendedLifetime(record) { mean.map { Float($0 / Double(count)) } }
    }

    /// Images `[N, 3, S, S]` for z `[N, S]`: `w' = mean + ψ (w − mean)` (ψ = `truncation`;
    /// 1 leaves w as it is and needs no mean), the same w' for every layer, the given noise
    /// planes `[N, noiseFloats]`.
    func sample(z: [Float], batch n: Int, truncation: Float, meanLatent: [Float]?, noises: UnsafePointer<Float>,
                into images: UnsafeMutablePointer<Float>) throws {
        let s = config.styleDim, l = config.latentCount
        guard z.count == n * s else { throw AVPGANError.invalid("sampling \(n) images needs z of [\(n), \(s)], not \(z.count) floats") }
        guard truncation.isFinite else { throw AVPGANError.invalid("the truncation is \(truncation); it must be finite") }
        if truncation != 1 {
            guard let meanLatent, meanLatent.count == s else {
                throw AVPGANError.invalid("truncation \(truncation) needs the mean style vector of \(s) values")
            }
        }
        let record = try FloatStorage(count: mlp.recordCount(vectors: n)), latents = try FloatStorage(count: n * l * s)
        z.withUnsafeBufferPointer { mlp.forward($0.baseAddress!, vectors: n, record: record.pointer) }
        let w = mlp.output(record: record.pointer, vectors: n)
        for i in 0..<n {
            for f in 0..<s {
                let v = truncation == 1 ? w[i * s + f] : meanLatent![f] + truncation * (w[i * s + f] - meanLatent![f])
                for k in 0..<l { latents.pointer[(i * l + k) * s + f] = v }
            }
        }
        try trainingForward(latents: latents.pointer, batch: n, noises: noises, pass: PriorTrainingPass(), into: images)
        withExtendedLifetime((record, latents)) {}
    }
}
