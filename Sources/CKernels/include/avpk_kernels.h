/* CKernels: the few hand-vectorised kernels of libavpgan that OpenBLAS has no entry for.
 * Internal to the library (not part of include/avpgan.h; the symbols stay local to
 * libavpgan.so). Every function here is chosen at run time: call only when its *_available()
 * says so. */
#ifndef AVPK_KERNELS_H
#define AVPK_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this CPU and the OS allow AVX-512 F (CPUID leaf 7 EBX bit 16, and XCR0 has the
 * opmask, ZMM and upper-16 state enabled), else 0. Read once, then cached. */
int avpk_avx512_available(void);

/* C[m x n] = Aᵀ · B for narrow n, reading A once and never repacking it:
 * A is stored k x m (row c holds the m outputs' weights of input c, row stride lda),
 * B is k x n (row stride ldb), C is m x n (row stride ldc), all row-major floats.
 * C is overwritten. For each output (o, j) the products are added in order c = 0, 1, ...,
 * so the result does not depend on how callers split m. Allocates n x m floats of running sums
 * for the call (the same sums one output at a time if that fails). Requires
 * avpk_avx512_available(). */
void avpk_gemm_tn_avx512(int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                         float *c, long ldc);

/* SHA-256's 64 round constants (FIPS 180-4), for any implementation. */
const unsigned *avpk_sha256_round_constants(void);

/* 1 when this CPU has the SHA extensions with SSSE3 and SSE4.1 (CPUID), else 0. */
int avpk_sha_ni_available(void);

/* SHA-256 (FIPS 180-4) compression of `blocks` 64-byte blocks at `data` into `state` (H0...H7,
 * native-endian words), with the SHA extensions. Requires avpk_sha_ni_available(). */
void avpk_sha256_blocks(unsigned state[8], const void *data, long blocks);

#ifdef __cplusplus
}
#endif
#endif
