/* Which vector extensions this CPU and its OS allow (see avpk_kernels.h). */
#include "avpk_kernels.h"
#include <cpuid.h>

static int avx512_state = -1; /* -1 not read yet; written once, same value by every thread */

static int read_avx512(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) return 0; /* SSE, AVX, opmask, ZMM0-15 upper, ZMM16-31 state */
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx >> 16) & 1; /* AVX512F */
}

int avpk_avx512_available(void) {
    int state = __atomic_load_n(&avx512_state, __ATOMIC_RELAXED);
    if (state < 0) {
        state = read_avx512();
        __atomic_store_n(&avx512_state, state, __ATOMIC_RELAXED);
    }
    return state;
}
