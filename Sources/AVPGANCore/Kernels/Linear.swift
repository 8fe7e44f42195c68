/// `y = x Wᵀ (+ b)` for a batch: x `[batch, in]`, W `[out, in]` (torch's layout), y `[batch, out]`.
struct Linear {
    let weight: FloatStorage
    let bias: FloatStorage?
    let inFeatures: Int
    let outFeatures: Int

    func forward(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>) {
        BLAS.gemm(transB: true, m: batch, n: outFeatures, k: inFeatures,
                  a: x, lda: inFeatures, b: weight.pointer, ldb: inFeatures, c: y, ldc: outFeatures)
        if let bias {
            for r in 0..<batch { for o in 0..<outFeatures { y[r * outFeatures + o] += bias.pointer[o] } }
        }
    }
}
