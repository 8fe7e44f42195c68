import CKernels

/// `C = Aᵀ · B` for a narrow `B` without repacking `A`: the library's own AVX-512 kernel
/// (`Sources/CKernels/gemm_tn_avx512.c`) where the CPU has AVX-512 F, else OpenBLAS.
///
/// OpenBLAS copies `A` into its packed layout on every call. When `A` is the weights (`k x m`,
/// tens of MiB) and `B` has a few columns (a generator layer at batch 1), that copy costs as
/// much as the products (`sgemm_otcopy` was a third of the generator's CPU time at batch 1,
/// docs/performance.md). The kernel streams `A` once, in order. It adds each output's products
/// in order of `k`, so its results do not depend on how callers split `m`; they differ from
/// OpenBLAS's in the last bits (another order of the same sums).
enum NarrowGEMM {
    /// Columns of `B` up to which the kernel is faster than OpenBLAS (SkylakeX kernels, one
    /// thread, the generator's per-tap shapes: 3.2 against 5.4 ms at 16 columns, level at 64;
    /// `tools/benchmarks/narrow_gemm_probe.c`).
    static let maximumColumns = 16

    /// True when this CPU runs the kernel (CPUID and the OS's saved state, read once).
    static let available = avpk_avx512_available() != 0

    /// True when `gemmTN` over `n` columns takes the kernel.
    static func usesKernel(columns n: Int) -> Bool { available && n <= maximumColumns }

    /// `C[m x n] = Aᵀ · B`: `A` stored `k x m` (row stride `lda`), `B` `k x n` (`ldb`), `C`
    /// `m x n` (`ldc`), all row-major; `C` is overwritten.
    static func gemmTN(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if usesKernel(columns: n) {
            avpk_gemm_tn_avx512(Int32(m), Int32(n), Int32(k), a, lda, b, ldb, c, ldc)
        } else {
            BLAS.gemm(transA: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
        }
    }
}
