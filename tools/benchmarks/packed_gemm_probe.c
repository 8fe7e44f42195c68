/* An experiment for docs/performance.md, not part of the library: does a GEMM whose weight
 * operand was packed once (at model load) beat OpenBLAS, which packs it on every call, on the
 * narrow shapes of a single portrait (batch 1)? tools/benchmarks/bench_packed_gemm.py builds and times it.
 *
 * C[m, n] = Aᵀ X with A stored [k, lda] row-major (the transposed convolutions' weights, columns
 * 0..<m used) and X [k, n] row-major (ldx), C row-major (ldc). The kernel holds a 16 x 6 block
 * of C in twelve AVX2 registers and streams A's panel and X's row once per k. */
#include <immintrin.h>
#include <stddef.h>

/* Panels of 16 columns of A: panel p holds A[kk][16 p + i] at packed[(p k + kk) 16 + i], the
 * last panel padded with zeros. `packed` holds ceil(m / 16) * 16 * k floats. */
void probe_pack(int m, int k, const float *a, int lda, float *packed) {
    for (int p = 0; p * 16 < m; p++)
        for (int kk = 0; kk < k; kk++)
            for (int i = 0; i < 16; i++) {
                int col = p * 16 + i;
                packed[((size_t)p * k + kk) * 16 + i] = col < m ? a[(size_t)kk * lda + col] : 0.0f;
            }
}

/* `stride` = 16 reads the packed panels; `stride` = lda reads A where it lies (no packing). */
__attribute__((target("avx2,fma")))
static void gemm_panels(int m, int n, int k, const float *a, size_t panel_step, size_t stride,
                        const float *x, int ldx, float *c, int ldc) {
    for (int p = 0; p * 16 < m; p++) {
        const float *w = a + (size_t)p * panel_step;
        int rows = m - p * 16 < 16 ? m - p * 16 : 16;
        for (int j0 = 0; j0 < n; j0 += 6) {
            int cols = n - j0 < 6 ? n - j0 : 6;
            __m256 acc[6][2];
            for (int j = 0; j < 6; j++) acc[j][0] = acc[j][1] = _mm256_setzero_ps();
            const float *xj = x + j0;
            if (cols == 6) {  /* the whole 16 x 6 block in registers */
                __m256 a0 = acc[0][0], a1 = acc[0][1], b0 = a0, b1 = a0, c0 = a0, c1 = a0,
                       d0 = a0, d1 = a0, e0 = a0, e1 = a0, f0 = a0, f1 = a0, v;
                for (int kk = 0; kk < k; kk++) {
                    __m256 w0 = _mm256_loadu_ps(w + kk * stride), w1 = _mm256_loadu_ps(w + kk * stride + 8);
                    const float *xk = xj + (size_t)kk * ldx;
                    v = _mm256_broadcast_ss(xk + 0); a0 = _mm256_fmadd_ps(w0, v, a0); a1 = _mm256_fmadd_ps(w1, v, a1);
                    v = _mm256_broadcast_ss(xk + 1); b0 = _mm256_fmadd_ps(w0, v, b0); b1 = _mm256_fmadd_ps(w1, v, b1);
                    v = _mm256_broadcast_ss(xk + 2); c0 = _mm256_fmadd_ps(w0, v, c0); c1 = _mm256_fmadd_ps(w1, v, c1);
                    v = _mm256_broadcast_ss(xk + 3); d0 = _mm256_fmadd_ps(w0, v, d0); d1 = _mm256_fmadd_ps(w1, v, d1);
                    v = _mm256_broadcast_ss(xk + 4); e0 = _mm256_fmadd_ps(w0, v, e0); e1 = _mm256_fmadd_ps(w1, v, e1);
                    v = _mm256_broadcast_ss(xk + 5); f0 = _mm256_fmadd_ps(w0, v, f0); f1 = _mm256_fmadd_ps(w1, v, f1);
                }
                acc[0][0] = a0; acc[0][1] = a1; acc[1][0] = b0; acc[1][1] = b1; acc[2][0] = c0; acc[2][1] = c1;
                acc[3][0] = d0; acc[3][1] = d1; acc[4][0] = e0; acc[4][1] = e1; acc[5][0] = f0; acc[5][1] = f1;
            } else {  /* the last, narrower block of columns */
                for (int kk = 0; kk < k; kk++) {
                    __m256 w0 = _mm256_loadu_ps(w + kk * stride), w1 = _mm256_loadu_ps(w + kk * stride + 8);
                    const float *xk = xj + (size_t)kk * ldx;
                    for (int j = 0; j < cols; j++) {
                        __m256 v = _mm256_broadcast_ss(xk + j);
                        acc[j][0] = _mm256_fmadd_ps(w0, v, acc[j][0]);
                        acc[j][1] = _mm256_fmadd_ps(w1, v, acc[j][1]);
                    }
                }
            }
            float t[6][16];
            for (int j = 0; j < 6; j++) { _mm256_storeu_ps(t[j], acc[j][0]); _mm256_storeu_ps(t[j] + 8, acc[j][1]); }
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) c[(size_t)(p * 16 + i) * ldc + j0 + j] = t[j][i];
        }
    }
}

void probe_gemm_packed(int m, int n, int k, const float *packed, const float *x, int ldx, float *c, int ldc) {
    gemm_panels(m, n, k, packed, (size_t)k * 16, 16, x, ldx, c, ldc);
}

/* Only for m a multiple of 16 (reads 16 columns of A per panel). */
void probe_gemm_unpacked(int m, int n, int k, const float *a, int lda, const float *x, int ldx, float *c, int ldc) {
    gemm_panels(m, n, k, a, 16, (size_t)lda, x, ldx, c, ldc);
}
