/* C = Aᵀ · B for narrow B (see avpk_kernels.h), AVX-512 F.
 *
 * A (k x m, the weights) is far larger than B and C and is read once, in order: its rows are
 * taken in chunks of AVPK_ROWS consecutive rows (one contiguous run of memory), and every
 * output is advanced over a chunk before the next chunk is touched; the running sums wait in a
 * transposed copy of C (`sums`, n x m, in the cache), which is transposed into C at the end.
 * Register block: 32 outputs (two vectors of 16, loaded from A's row) by up to AVPK_COLS = 8
 * columns (B[r][j] broadcast), 16 accumulators: per row, 2 loads of A, one broadcast per column,
 * 16 FMAs (the fastest of 64x6, 48x8, 32x8, 64x4 and 32x12 on the generator's shapes, one
 * thread, tools/benchmarks/narrow_gemm_probe.c). The next chunk's lines of the block's
 * outputs are prefetched while it runs. Outputs past a multiple of 16 are masked. For each
 * output the products are added in order r = 0, 1, ..., k-1, whatever m and n are. */
#include "avpk_kernels.h"
#include <immintrin.h>
#include <stdlib.h>

#define AVPK_ATTR __attribute__((target("avx512f")))
#define AVPK_ROWS 16   /* rows of A per chunk */
#define AVPK_VECS 2    /* vectors of 16 outputs per block */
#define AVPK_COLS 8    /* columns per block */

/* One block: `cols` (1...AVPK_COLS) columns from `b`, the outputs of `a` masked by `rows`,
 * rows [r0, r1) of A; running sums at `s` (row stride `lds`), zero before the first chunk. */
static inline __attribute__((always_inline)) AVPK_ATTR void block(
    int cols, int r0, int r1, int k, const float *a, long lda, const __mmask16 *rows,
    const float *b, long ldb, float *s, long lds) {
    __m512 acc[AVPK_VECS][AVPK_COLS];
    for (int j = 0; j < cols; j++)
        for (int v = 0; v < AVPK_VECS; v++)
            acc[v][j] = r0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows[v], s + j * lds + 16 * v);
    for (int r = r0; r < r1; r++) {
        const float *row = a + r * lda, *x = b + r * ldb;
        if (r + AVPK_ROWS < k)
            for (int v = 0; v < AVPK_VECS; v++) _mm_prefetch((const char *)(row + AVPK_ROWS * lda + 16 * v), _MM_HINT_T0);
        __m512 w[AVPK_VECS];
        for (int v = 0; v < AVPK_VECS; v++) w[v] = _mm512_maskz_loadu_ps(rows[v], row + 16 * v);
        for (int j = 0; j < cols; j++) {
            __m512 xj = _mm512_set1_ps(x[j]);
            for (int v = 0; v < AVPK_VECS; v++) acc[v][j] = _mm512_fmadd_ps(w[v], xj, acc[v][j]);
        }
    }
    for (int j = 0; j < cols; j++)
        for (int v = 0; v < AVPK_VECS; v++) _mm512_mask_storeu_ps(s + j * lds + 16 * v, rows[v], acc[v][j]);
}

AVPK_ATTR void avpk_gemm_tn_avx512(int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                                   float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    long lds = (m + 15) / 16 * 16;
    float *sums = k > 0 ? aligned_alloc(64, (size_t)lds * n * sizeof(float)) : NULL;
    if (!sums) { /* k == 0 (C = 0, an empty sum), or no memory: the same sums, one output at a time */
        for (int o = 0; o < m; o++)
            for (int j = 0; j < n; j++) {
                float t = 0;
                for (int r = 0; r < k; r++) t += a[r * lda + o] * b[r * ldb + j];
                c[(long)o * ldc + j] = t;
            }
        return;
    }
    for (int r0 = 0; r0 < k; r0 += AVPK_ROWS) {
        int r1 = r0 + AVPK_ROWS < k ? r0 + AVPK_ROWS : k;
        for (int o = 0; o < m; o += 16 * AVPK_VECS) {
            __mmask16 rows[AVPK_VECS];
            for (int v = 0; v < AVPK_VECS; v++) {
                int left = m - o - 16 * v;
                rows[v] = (__mmask16)(left >= 16 ? 0xFFFF : left <= 0 ? 0 : (1u << left) - 1);
            }
            for (int j = 0; j < n; j += AVPK_COLS) {
                const float *ao = a + o, *bj = b + j;
                float *s = sums + j * lds + o;
                switch (n - j) { /* constant column counts keep the accumulators in registers */
                case 1: block(1, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                case 2: block(2, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                case 3: block(3, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                case 4: block(4, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                case 5: block(5, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                case 6: block(6, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                case 7: block(7, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                default: block(AVPK_COLS, r0, r1, k, ao, lda, rows, bj, ldb, s, lds); break;
                }
            }
        }
    }
    for (int o = 0; o < m; o++)
        for (int j = 0; j < n; j++) c[(long)o * ldc + j] = sums[j * lds + o];
    free(sums);
}
