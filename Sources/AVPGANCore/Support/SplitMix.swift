#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64: the library's one deterministic generator (synthetic data, weight
/// initialisation, batch sampling, embedding noise). The same seed gives the same numbers on
/// every machine. Its draws come at two precisions, and each caller keeps the one its outputs
/// were defined with, so that seeded results never change:
/// - `unit()` / `gaussian()`: 24-bit uniforms, Float (training, synthesis);
/// - `openUnitDouble()` / `preciseGaussian()`: 53-bit uniforms in (0, 1), Double (seeded
///   embeddings and portrait noise).
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 24 bits.
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in (0, 1), 53 bits: never 0, so its logarithm is finite.
    mutating func openUnitDouble() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }

    /// Standard normal (Box-Muller on two 24-bit uniforms).
    mutating func gaussian() -> Float {
        let u1 = max(Double(unit()), 1e-12), u2 = Double(unit())
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Standard normal (Box-Muller on two 53-bit uniforms).
    mutating func preciseGaussian() -> Double {
        let u1 = openUnitDouble(), u2 = openUnitDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
