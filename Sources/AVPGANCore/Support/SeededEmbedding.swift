/// Deterministic Gaussian values and unit vectors from a seed (`SplitMix.preciseGaussian`), for
/// demos, embedding noise and tests: the same seed gives the same numbers on every machine.
public enum SeededEmbedding {
    /// `count` standard-normal values.
    public static func gaussians(seed: UInt64, count: Int) -> [Float] {
        var rng = SplitMix(seed: seed)
        return (0..<count).map { _ in Float(rng.preciseGaussian()) }
    }

    /// A unit vector of `dimension` values.
    public static func make(seed: UInt64, dimension: Int) -> [Float] {
        var v = gaussians(seed: seed, count: dimension)
        let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        for i in v.indices { v[i] /= norm }
        return v
    }
}
