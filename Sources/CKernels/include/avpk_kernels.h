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
 * so the result does not depend on how callers split m. Keeps its running sums (n x m floats,
 * m rounded up to 16) in a buffer of the calling thread's, reused by the thread's later calls,
 * grown when a call needs more and freed when the thread ends: one allocation per thread and
 * size, none per call after that (the same sums one output at a time if it cannot grow).
 * Safe to call from any number of threads at once. Requires avpk_avx512_available(). */
void avpk_gemm_tn_avx512(int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                         float *c, long ldc);

/* The sub-pixel Winograd layer's input transform (Kernels/SubPixelWinograd.swift), one input
 * channel, parity (py, px): for image b < batch (at x + b * plane, h x w floats row-major, h and
 * w even) and tile (ty, tx) of its (h / 2) x (w / 2), with d the 3x3 patch from row
 * 2 ty + py - 1 and column 2 tx + px - 1 (zero outside the image), writes component xi (0...8,
 * row-major) of Bᵀ d B, Bᵀ = [1 -1 0; 0 1 0; 0 -1 1], to v[xi * step + tile], tile =
 * (b * h / 2 + ty) * w / 2 + tx. Bit-identical to the Swift transform. Requires
 * avpk_avx512_available(). */
void avpk_subpixel_input_avx512(const float *x, long plane, int batch, int h, int w, int py, int px,
                                float *v, long step);

/* Its output transform, one output channel, parity (py, px), tiles [first, end): from the
 * products m[xi * stride + tile] (xi 0...8), Aᵀ m A (Aᵀ = [1 1 0; 0 1 1]) per tile, whose four
 * values go to rows 4 ty + py + {0, 2} and columns 4 tx + px + {0, 2} of image b of y (at
 * y + b * plane, height x width, tile = (b * height / 4 + ty) * width / 4 + tx). Writes no other
 * element of y. Bit-identical to the Swift transform. Requires avpk_avx512_available(). */
void avpk_subpixel_output_avx512(const float *m, long stride, long first, long end, int py, int px,
                                 float *y, long plane, int height, int width);

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
