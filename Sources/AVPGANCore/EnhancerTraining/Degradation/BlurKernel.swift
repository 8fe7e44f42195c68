#if canImport(Glibc)
import Glibc
#endif

/// A normalised 2-D Gaussian blur kernel as basicsr's `bivariate_Gaussian` makes it (GFPGAN's
/// training degradation): on the `size x size` grid of offsets `-size/2 ... size/2` (x the
/// column, y the row), `exp(-½ [x y] Σ⁻¹ [x y]ᵀ)` with `Σ = R(θ) diag(σx², σy²) R(θ)ᵀ`,
/// divided by its sum. Isotropic kernels use `σx` alone. Computed in Double.
enum BlurKernel {
    /// `[size, size]` row-major taps summing to 1; `size` odd.
    static func gaussian(size: Int, sigmaX: Double, sigmaY: Double, theta: Double) -> [Float] {
        precondition(size % 2 == 1 && sigmaX > 0 && sigmaY > 0)
        let c = cos(theta), s = sin(theta)
        // Σ = U D Uᵀ with U = [[c, -s], [s, c]].
        let a = c * c * sigmaX * sigmaX + s * s * sigmaY * sigmaY
        let b = c * s * (sigmaX * sigmaX - sigmaY * sigmaY)
        let d = s * s * sigmaX * sigmaX + c * c * sigmaY * sigmaY
        let det = a * d - b * b
        let (ia, ib, id) = (d / det, -b / det, a / det)
        let half = size / 2
        var taps = [Double](repeating: 0, count: size * size)
        var total = 0.0
        for row in 0..<size {
            let y = Double(row - half)
            for col in 0..<size {
                let x = Double(col - half)
                let v = exp(-0.5 * (ia * x * x + 2 * ib * x * y + id * y * y))
                taps[row * size + col] = v
                total += v
            }
        }
        return taps.map { Float($0 / total) }
    }
}
