/* Which vector extensions this CPU and its OS allow (see avpk_kernels.h). Each answer is read
 * from CPUID once, then cached (every thread computes the same value, so a race is harmless). */
#include "avpk_kernels.h"
#include <cpuid.h>

static int read_avx512(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) return 0; /* SSE, AVX, opmask, ZMM0-15 upper, ZMM16-31 state */
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx >> 16) & 1; /* AVX512F */
}

static int read_sha_ni(void) {
    unsigned eax, ebx, ecx, edx;
    int ssse3_sse41 = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 9)) && (ecx & (1u << 19));
    return ssse3_sse41 && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && ((ebx >> 29) & 1); /* SHA */
}

/* `*state`: -1 until read, then `read()`'s answer. */
static int cached(int *state, int (*read)(void)) {
    int value = __atomic_load_n(state, __ATOMIC_RELAXED);
    if (value < 0) {
        value = read();
        __atomic_store_n(state, value, __ATOMIC_RELAXED);
    }
    return value;
}

static int avx512_state = -1, sha_ni_state = -1;

int avpk_avx512_available(void) { return cached(&avx512_state, read_avx512); }

int avpk_sha_ni_available(void) { return cached(&sha_ni_state, read_sha_ni); }
