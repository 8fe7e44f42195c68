/// The Gram-matrix style loss of basicsr's PerceptualLoss (`style_weight`) and of GFPGAN's
/// facial-component feature style loss: for each image n of a CNHW map, `F_n` its features as a
/// `[c, h·w]` matrix and `gram_n = F_n F_nᵀ / (c·h·w)`; the loss is
/// `weight · mean |gram(x) - gram(y)|` over all `n·c·c` entries (torch's `L1Loss`), `y` the
/// detached target.
enum GramStyleLoss {
    /// Floats of workspace `evaluate` uses for `map`'s shape: two Gram matrices and their gradient.
    static func scratchCount(_ map: FeatureMap) -> Int { 3 * map.batch * map.channels * map.channels }

    /// Gram matrices `[batch, c, c]` of `map` into `out` (OVERWRITTEN); one GEMM per image.
    static func gram(_ map: FeatureMap, into out: UnsafeMutablePointer<Float>) {
        let c = map.channels, norm = Float(c * map.plane)
        for n in 0..<map.batch {
            let f = UnsafePointer(map.data + n * map.plane), g = out + n * c * c
            BLAS.gemm(transB: true, m: c, n: c, k: map.plane, a: f, lda: map.stride, b: f, ldb: map.stride, c: g, ldc: c)
            for i in 0..<(c * c) { g[i] /= norm }
        }
    }

    /// Returns the loss of `x` against `target` (same shape). `gradX` (if non-nil, same shape
    /// and stride as `x`) gets dloss/dx ADDED: with `dG = weight / (n c c) · sign(gram(x) - gram(y))`
    /// (sign(0) = 0), `dF_n += (dG_n + dG_nᵀ) F_n / (c h w)`. `scratch`: `scratchCount(x)` floats.
    static func evaluate(_ x: FeatureMap, target y: FeatureMap, weight: Float, gradX: FeatureMap?,
                         scratch: UnsafeMutablePointer<Float>) -> Float {
        precondition(x.channels == y.channels && x.batch == y.batch && x.plane == y.plane)
        let c = x.channels, count = x.batch * c * c
        let gx = scratch, gy = scratch + count, dG = scratch + 2 * count
        gram(x, into: gx)
        gram(y, into: gy)
        let loss = L1Loss.evaluate(output: gx, target: gy, count: count, weight: weight, gradOutput: gradX == nil ? nil : dG)
        guard let gradX else { return loss }
        let norm = Float(c * x.plane)
        for n in 0..<x.batch {
            let d = dG + n * c * c
            // torch's chain: the division's backward (dG / norm), then bmm's: dG F + dGᵀ F.
            for i in 0..<(c * c) { d[i] /= norm }
            for i in 0..<c {
                for j in (i + 1)..<max(c, i + 1) {
                    let s = d[i * c + j] + d[j * c + i]
                    d[i * c + j] = s
                    d[j * c + i] = s
                }
                d[i * c + i] *= 2
            }
            BLAS.gemm(m: c, n: x.plane, k: c, a: d, lda: c, b: x.data + n * x.plane, ldb: x.stride,
                      beta: 1, c: gradX.data + n * gradX.plane, ldc: gradX.stride)
        }
        return loss
    }
}
