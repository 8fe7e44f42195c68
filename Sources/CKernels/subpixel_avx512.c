/* The sub-pixel Winograd F(2x2, 2x2) input and output transforms (see avpk_kernels.h and
 * Kernels/SubPixelWinograd.swift), AVX-512 F: 16 tiles of one tile row per vector, masked tails.
 *
 * Input: for the patch rows p0, p1, p2 of a tile row, the row differences q0 = p0 - p1, q1 = p1,
 * q2 = p2 - p1 are taken on whole vectors of input columns (masked loads give the zeros outside
 * the image), then each q row's even, odd and next-even columns are picked by permutes and give
 * e0 - e1, e1, e2 - e1. Output: the sums of the Swift code, then each vector of 16 output
 * columns gathers its 4 tiles' two values by a permute and is stored under a mask of this
 * parity's columns. Every element sees the same float operations, in the same order, as the
 * Swift code's: the results are bit-identical to it. */
#include "avpk_kernels.h"
#include <immintrin.h>

#define AVPK_ATTR __attribute__((target("avx512f")))

/* Lanes i of a 16-float load starting at column s with 0 <= s + i < w. */
static inline __mmask16 columns_inside(long s, long w) {
    long lo = s < 0 ? -s : 0, hi = w - s < 16 ? w - s : 16;
    if (hi <= lo) return 0;
    unsigned all = hi >= 16 ? 0xFFFFu : (1u << hi) - 1;
    return (__mmask16)(all & ~((1u << lo) - 1));
}

/* The first n lanes (0...16). */
static inline __mmask16 first_lanes(long n) { return (__mmask16)(n >= 16 ? 0xFFFF : n <= 0 ? 0 : (1u << n) - 1); }

AVPK_ATTR void avpk_subpixel_input_avx512(const float *x, long plane, int batch, int h, int w, int py, int px,
                                          float *v, long step) {
    const int across = w / 2, down = h / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    for (int b = 0; b < batch; b++) {
        const float *image = x + b * plane;
        for (int ty = 0; ty < down; ty++) {
            float *row_v = v + (long)(b * down + ty) * across;
            for (int tx = 0; tx < across; tx += 16) {
                const long s = 2L * tx + px - 1; /* the first patch column */
                const __mmask16 ma = columns_inside(s, w), mb = columns_inside(s + 16, w), mc = columns_inside(s + 32, w);
                __m512 pa[3], pb[3], pc[3];
                for (int r = 0; r < 3; r++) {
                    const int y = 2 * ty + py - 1 + r;
                    if (y < 0 || y >= h) {
                        pa[r] = pb[r] = pc[r] = _mm512_setzero_ps();
                        continue;
                    }
                    const float *line = image + (long)y * w + s;
                    pa[r] = _mm512_maskz_loadu_ps(ma, line);
                    pb[r] = _mm512_maskz_loadu_ps(mb, line + 16);
                    pc[r] = _mm512_maskz_loadu_ps(mc, line + 32);
                }
                const __mmask16 out = first_lanes(across - tx);
                for (int a = 0; a < 3; a++) {
                    __m512 qa, qb, qc;
                    if (a == 1) {
                        qa = pa[1], qb = pb[1], qc = pc[1];
                    } else {
                        qa = _mm512_sub_ps(pa[a], pa[1]), qb = _mm512_sub_ps(pb[a], pb[1]), qc = _mm512_sub_ps(pc[a], pc[1]);
                    }
                    const __m512 e0 = _mm512_permutex2var_ps(qa, even, qb), e1 = _mm512_permutex2var_ps(qa, odd, qb);
                    const __m512 e2 = _mm512_permutex2var_ps(e0, next, qc);
                    float *base = row_v + (long)(a * 3) * step + tx;
                    _mm512_mask_storeu_ps(base, out, _mm512_sub_ps(e0, e1));
                    _mm512_mask_storeu_ps(base + step, out, e1);
                    _mm512_mask_storeu_ps(base + 2 * step, out, _mm512_sub_ps(e2, e1));
                }
            }
        }
    }
}

AVPK_ATTR void avpk_subpixel_output_avx512(const float *m, long stride, long first, long end, int py, int px,
                                           float *y, long plane, int height, int width) {
    const long across = width / 4, down = height / 4;
    /* Output column j of a vector of 16 takes tile j / 4 of its four: left (j % 4 == px) or right. */
    __m512i pick[4];
    for (int k = 0; k < 4; k++) {
        int idx[16];
        for (int j = 0; j < 16; j++) idx[j] = (j % 4 >= 2 ? 16 : 0) + 4 * k + j / 4;
        pick[k] = _mm512_loadu_si512(idx);
    }
    const __mmask16 parity = (__mmask16)(px ? 0xAAAA : 0x5555);
    for (long row = first / across; row * across < end; row++) {
        const long b = row / down, ty = row % down, start = row * across;
        float *top = y + b * plane + (4 * ty + py) * width, *bottom = top + 2 * width;
        long tx = first - start > 0 ? first - start : 0;
        const long stop = end - start < across ? end - start : across;
        for (; tx < stop; tx += 16) {
            const long n = stop - tx < 16 ? stop - tx : 16;
            const __mmask16 lanes = first_lanes(n);
            const float *t = m + start + tx;
#define AVPK_M(xi) _mm512_maskz_loadu_ps(lanes, t + (xi) * stride)
            const __m512 m4 = AVPK_M(4);
            const __m512 a0 = _mm512_add_ps(AVPK_M(0), AVPK_M(3)), a1 = _mm512_add_ps(AVPK_M(1), m4);
            const __m512 a2 = _mm512_add_ps(AVPK_M(2), AVPK_M(5));
            const __m512 b0 = _mm512_add_ps(AVPK_M(3), AVPK_M(6)), b1 = _mm512_add_ps(m4, AVPK_M(7));
            const __m512 b2 = _mm512_add_ps(AVPK_M(5), AVPK_M(8));
#undef AVPK_M
            const __m512 tl = _mm512_add_ps(a0, a1), tr = _mm512_add_ps(a1, a2);
            const __m512 bl = _mm512_add_ps(b0, b1), br = _mm512_add_ps(b1, b2);
            for (int k = 0; 4 * k < n; k++) {
                const __mmask16 mask = parity & first_lanes(4 * (n - 4 * k));
                _mm512_mask_storeu_ps(top + 4 * tx + 16 * k, mask, _mm512_permutex2var_ps(tl, pick[k], tr));
                _mm512_mask_storeu_ps(bottom + 4 * tx + 16 * k, mask, _mm512_permutex2var_ps(bl, pick[k], br));
            }
        }
    }
}
