/* The generator's batch-1 per-tap GEMMs (16 taps of C[O x n] = Tᵀ[O x C] · X[C x n], T the
 * regrouped weights [C][O], SubPixelWinograd.col2imColumns) by OpenBLAS and by the library's
 * AVX-512 kernel (Sources/CKernels), one thread, this thread's CPU time, minimum of 20 calls,
 * warm caches, and the two results' largest difference. Build and run from the repository root:
 *
 * (with clang, which SwiftPM builds the kernel with: the same kernel built by GCC 12 -O2 took
 * 5.8 ms against 3.2 ms on the first shape below)
 *   clang -O2 -ISources/CKernels/include tools/benchmarks/narrow_gemm_probe.c Sources/CKernels/[a-z]*.c \
 *      -o build/narrow_gemm_probe -lopenblas -lm
 *   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 build/narrow_gemm_probe 1024 512 16
 * (arguments: C O n; OPENBLAS_CORETYPE as the library selects it on this CPU, docs/performance.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
#include "avpk_kernels.h"

static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 4 || !avpk_avx512_available()) {
        fprintf(stderr, "usage: %s C O n (needs AVX-512 F)\n", argv[0]);
        return 2;
    }
    int C = atoi(argv[1]), O = atoi(argv[2]), n = atoi(argv[3]), taps = 16, reps = 20;
    size_t pairs = (size_t)C * O, out = (size_t)O * taps * n;
    float *w = malloc(4 * taps * pairs), *x = malloc(4 * (size_t)C * n), *c1 = malloc(4 * out), *c2 = malloc(4 * out);
    for (size_t i = 0; i < taps * pairs; i++) w[i] = (float)((i * 7919) % 1009) / 504.5f - 1;
    for (size_t i = 0; i < (size_t)C * n; i++) x[i] = (float)((i * 31) % 97) / 48.f - 1;
    double blas = 1e9, own = 1e9;
    for (int r = 0; r < reps; r++) {
        double t = cpu();
        for (int tap = 0; tap < taps; tap++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, n, C, 1, w + tap * pairs, O, x, n, 0, c1 + tap * n, taps * n);
        t = cpu() - t;
        if (t < blas) blas = t;
        t = cpu();
        for (int tap = 0; tap < taps; tap++) avpk_gemm_tn_avx512(O, n, C, w + tap * pairs, O, x, n, c2 + tap * n, taps * n);
        t = cpu() - t;
        if (t < own) own = t;
    }
    double diff = 0, flops = 2.0 * taps * pairs * n;
    for (size_t i = 0; i < out; i++) diff = fmax(diff, fabs(c1[i] - c2[i]));
    printf("C=%d O=%d n=%d (OpenBLAS core %s): OpenBLAS %.3f ms (%.0f GFLOP/s), AVX-512 kernel %.3f ms (%.0f GFLOP/s), "
           "largest difference %.2e\n", C, O, n, openblas_get_corename(), blas * 1e3, flops / blas / 1e9, own * 1e3,
           flops / own / 1e9, diff);
    free(w), free(x), free(c1), free(c2);
    return 0;
}
