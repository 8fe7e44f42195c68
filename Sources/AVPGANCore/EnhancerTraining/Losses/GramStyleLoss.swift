/// GFPGAN's facial-component style loss (the paper's Gram-matrix feature style loss, λ 200):
/// for features `x[N, C, H, W]` of the restored face and `y` of the truth (the truth's a
/// constant), `weight · mean over n, i, j of |G(x)[n] − G(y)[n]|` with the Gram matrix
/// `G(x)[n] = F Fᵀ / (C H W)`, F the image's features as `[C, H W]` (GFPGAN's `_gram_mat`
/// and L1Loss). Its gradient: `dF = (S + Sᵀ) F / (C H W)` with
/// `S = weight · sign(G(x) − G(y)) / (N C²)`. The Gram matrices are OpenBLAS GEMMs.
enum GramStyleLoss {
    /// The loss; `gradient` (OVERWRITTEN, the shape of `x`) if given.
    static func evaluate(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, batch n: Int, channels c: Int, plane: Int,
                         weight: Float = 1, gradient: UnsafeMutablePointer<Float>? = nil) throws -> Float {
        precondition(n > 0 && c > 0 && plane > 0)
        let gx = try FloatStorage(count: c * c), gy = try FloatStorage(count: c * c), s = try FloatStorage(count: c * c)
        let norm = 1 / Float(c * plane), step = weight / Float(n * c * c)
        var sum = 0.0
        for image in 0..<n {
            let fx = x + image * c * plane, fy = y + image * c * plane
            BLAS.gemm(transB: true, m: c, n: c, k: plane, alpha: norm, a: fx, lda: plane, b: fx, ldb: plane, c: gx.pointer, ldc: c)
            BLAS.gemm(transB: true, m: c, n: c, k: plane, alpha: norm, a: fy, lda: plane, b: fy, ldb: plane, c: gy.pointer, ldc: c)
            for i in 0..<(c * c) {
                let d = gx.pointer[i] - gy.pointer[i]
                sum += Double(abs(d))
                s.pointer[i] = d > 0 ? step : (d < 0 ? -step : 0)
            }
            guard let gradient else { continue }
            // S + Sᵀ, then dF = (S + Sᵀ) F / (C H W).
            for i in 0..<c { for j in 0..<i { let v = s.pointer[i * c + j] + s.pointer[j * c + i]; s.pointer[i * c + j] = v; s.pointer[j * c + i] = v } }
            for i in 0..<c { s.pointer[i * c + i] *= 2 }
            BLAS.gemm(m: c, n: plane, k: c, alpha: norm, a: s.pointer, lda: c, b: fx, ldb: plane, c: gradient + image * c * plane, ldc: plane)
        }
        return weight * Float(sum / Double(n * c * c))
    }
}
