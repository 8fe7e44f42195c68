/* C = Aᵀ · B for narrow B (see avpk_kernels.h), AVX-512 F.
 *
 * A (k x m, the weights) is far larger than B and C and is read once, in order: its rows are
 * taken in chunks of AVPK_ROWS consecutive rows (one contiguous run of memory), and every
 * output is advanced over a chunk before the next chunk is touched; the running sums wait in a
 * transposed copy of C (`sums`, n x m, in the cache), which is transposed into C at the end.
 * Register block: 32 outputs (two vectors of 16, loaded from A's row) by up to AVPK_COLS = 8
 * columns (B[r][j] broadcast), 16 accumulators: per row, 2 loads of A, one broadcast per column,
 * 16 FMAs (the fastest of 64x6, 48x8, 32x8, 64x4 and 32x12 on the generator's shapes, one
 * thread, tools/benchmarks/narrow_gemm_probe.c). The sums live in a buffer of the calling
 * thread's, reused by its later calls (no allocation per call once it is large enough). The
 * next chunk's lines of the block's outputs are prefetched while it runs. Outputs past a
 * multiple of 16 are masked. For each output the products are added in order r = 0, 1, ...,
 * k-1, whatever m and n are. */
#include "avpk_kernels.h"
#include <immintrin.h>
#include <pthread.h>
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

/* The calling thread's buffer of running sums, reused by its later calls: grown (never shrunk)
 * to `count` floats when smaller, freed when the thread ends (a pthread key's destructor).
 * NULL when it cannot grow, or when the key could not be made (then no buffer is kept). */
static pthread_key_t sums_key;
static pthread_once_t sums_once = PTHREAD_ONCE_INIT;
static int sums_key_made;
static __thread float *sums_buffer;
static __thread size_t sums_capacity;

static void make_sums_key(void) { sums_key_made = pthread_key_create(&sums_key, free) == 0; }

static float *thread_sums(size_t count) {
    if (count <= sums_capacity) return sums_buffer;
    pthread_once(&sums_once, make_sums_key);
    if (!sums_key_made) return NULL;
    float *grown = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
    if (!grown || pthread_setspecific(sums_key, grown) != 0) {
        free(grown);
        return NULL;
    }
    free(sums_buffer);
    sums_buffer = grown;
    sums_capacity = count;
    return grown;
}

AVPK_ATTR void avpk_gemm_tn_avx512(int m, int n, int k, const float *a, long lda, const float *b, long ldb,
                                   float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    long lds = (m + 15) / 16 * 16;
    float *sums = k > 0 ? thread_sums((size_t)lds * n) : NULL;
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
}
