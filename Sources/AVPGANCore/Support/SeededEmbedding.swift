#if canImport(Glibc)
import Glibc
#endif

/// Deterministic Gaussian values and unit vectors from a seed (SplitMix64 + Box-Muller), for
/// demos, embedding noise and tests: the same seed gives the same numbers on every machine.
public enum SeededEmbedding {
    /// `count` standard-normal values.
    public static func gaussians(seed: UInt64, count: Int) -> [Float] {
        var state = seed
        func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (Double(z >> 11) + 0.5) / Double(1 << 53)
        }
        return (0..<count).map { _ -> Float in
            Float((-2 * log(next())).squareRoot() * cos(2 * Double.pi * next()))
        }
    }

    /// A unit vector of `dimension` values.
    public static func make(seed: UInt64, dimension: Int) -> [Float] {
        var v = gaussians(seed: seed, count: dimension)
        let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        for i in v.indices { v[i] /= norm }
        return v
    }
}
