/// Spectral normalisation in torch's eval mode: the effective weight is
/// `weight_orig / σ`, `σ = u · (W v)`, with the stored `u` and `v` (no power iteration), where
/// `W` is `weight_orig` with dimension `dim` moved first and flattened to `[shape[dim], rest]`
/// (`dim` 0 for Conv2d, 1 for ConvTranspose2d).
enum SpectralNorm {
    /// - Parameters:
    ///   - weight: `weight_orig`, row-major with `shape`.
    ///   - u: `shape[dim]` floats. - v: `count / shape[dim]` floats.
    /// - Returns: the effective weight, same shape; throws when σ is zero or not finite.
    static func effectiveWeight(_ weight: [Float], shape: [Int], dim: Int, u: [Float], v: [Float], name: String) throws -> [Float] {
        precondition(dim == 0 || dim == 1)
        let rows = shape[dim]
        let cols = weight.count / rows
        // W with `dim` first: for dim 1, [a, b, rest...] -> [b, a, rest...].
        var matrix = weight
        if dim == 1 {
            let a = shape[0], inner = weight.count / (shape[0] * shape[1])
            for i in 0..<a {
                for o in 0..<rows {
                    for t in 0..<inner { matrix[(o * a + i) * inner + t] = weight[(i * rows + o) * inner + t] }
                }
            }
        }
        var wv = [Float](repeating: 0, count: rows)
        matrix.withUnsafeBufferPointer { m in
            v.withUnsafeBufferPointer { v in
                wv.withUnsafeMutableBufferPointer { y in
                    BLAS.gemv(rows: rows, cols: cols, a: m.baseAddress!, lda: cols, x: v.baseAddress!, y: y.baseAddress!)
                }
            }
        }
        var sigma: Float = 0
        for i in 0..<rows { sigma += u[i] * wv[i] }
        guard sigma.isFinite, sigma != 0 else {
            throw AVPGANError.format("tensor \(name): spectral norm σ = u·(W v) is \(sigma); weight_u/weight_v are unusable")
        }
        return weight.map { $0 / sigma }
    }
}
