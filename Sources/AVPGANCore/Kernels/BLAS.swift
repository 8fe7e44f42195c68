// Kernels/: the numerical building blocks every network uses. Convolutions, transposed
// convolutions and linear layers are GEMMs on OpenBLAS, whose one door is `BLAS` (here), and
// `NarrowGEMM` the library's own AVX-512 kernel for GEMMs of a few columns (Sources/CKernels);
// `Convolution`, `ConvTranspose2d`, `Col2im`, `DepthwiseConv` and `Linear` lay the data out for
// them (`SubPixelWinograd` computes the generator's upsampling layers with fewer products),
// `Epilogue` and `Activation` finish their outputs, `CBAM` is the attention block,
// `SpectralNorm` the weight normalisation, `Reductions` and `VectorReductions` the sums, and
// `FeatureMap` the layout of an activation.

import CBLAS

/// The one door to OpenBLAS: row-major single-precision GEMM/GEMV and the thread pool size.
/// Every call first makes sure OpenBLAS runs the kernels this CPU supports (`OpenBLASCore`).
enum BLAS {
    /// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major; op(A) is m x k, op(B) is k x n.
    /// `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored.
    @inline(__always)
    static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        OpenBLASCore.ensure()
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// y[m] = alpha * op(A) x + beta * y, A stored row-major as rows x cols.
    static func gemv(
        trans: Bool = false, rows: Int, cols: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        OpenBLASCore.ensure()
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blasint(rows), blasint(cols),
                    alpha, a, blasint(lda), x, 1, beta, y, 1)
    }

    static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        OpenBLASCore.ensure()
        return cblas_sdot(blasint(n), x, 1, y, 1)
    }

    /// y += alpha x over `n` contiguous floats.
    static func axpy(_ n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        OpenBLASCore.ensure()
        cblas_saxpy(blasint(n), alpha, x, 1, y, 1)
    }

    static func setThreads(_ n: Int) {
        OpenBLASCore.ensure()
        openblas_set_num_threads(Int32(n))
    }

    /// OpenBLAS's process-wide thread count.
    static var threads: Int {
        OpenBLASCore.ensure()
        return Int(openblas_get_num_threads())
    }
}
