extension Linear {
    /// Reverse mode of `forward`: x `[batch, in]`, dy `[batch, out]`.
    /// `gradInput` (if non-nil) is OVERWRITTEN with `dy · W` `[batch, in]`;
    /// `gradWeight` `[out, in]` gets `dyᵀ · x` ADDED; `gradBias` `[out]` gets `Σ_batch dy` ADDED.
    func backward(
        input x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, batch: Int,
        gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
        gradBias: UnsafeMutablePointer<Float>?
    ) {
        if let gradInput {
            BLAS.gemm(m: batch, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures,
                      b: weight.pointer, ldb: inFeatures, c: gradInput, ldc: inFeatures)
        }
        if let gradWeight {
            BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: batch, a: dy, lda: outFeatures,
                      b: x, ldb: inFeatures, beta: 1, c: gradWeight, ldc: inFeatures)
        }
        if let gradBias {
            for o in 0..<outFeatures {
                var s: Float = 0
                for r in 0..<batch { s += dy[r * outFeatures + o] }
                gradBias[o] += s
            }
        }
    }
}
