/*
 * data_parallel_checks.h — what the data-parallel test programs (Tests/c/test_data_parallel.c,
 * test_voice_data_parallel.c, test_enhancer_data_parallel.c, test_prior_data_parallel.c) check alike: a counted pass or
 * failure per check (printing the library's last error on a failure), the summary line that is
 * the program's exit status, and how far two ranks' run is from one process's (worst relative
 * loss difference, largest output difference). Header-only: include it in the test program's
 * one file.
 */
#ifndef AVPGAN_TEST_DATA_PARALLEL_CHECKS_H
#define AVPGAN_TEST_DATA_PARALLEL_CHECKS_H

#include "avpgan.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>

static int failures, passes;

/* Counts and prints one check: "ok   what", or "FAIL what (last error: ...)". */
static inline void check(int ok, const char *what)
{
    if (ok) {
        passes++;
        printf("ok   %s\n", what);
    } else {
        failures++;
        printf("FAIL %s (last error: %s)\n", what, avpgan_last_error());
    }
}

/* Prints "name: P passed, F failed" and returns the exit status: 0 when nothing failed. */
static inline int check_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, passes, failures);
    return failures == 0 ? 0 : 1;
}

/* The largest |got - want| / max(|want|, 1e-6) over n losses. */
static inline double worst_relative_difference(const float *got, const float *want, size_t n)
{
    double worst = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double rel = fabs((double)got[i] - want[i]) / fmax(fabs((double)want[i]), 1e-6);
        if (rel > worst) worst = rel;
    }
    return worst;
}

/* The largest |a - b| over n values. */
static inline double largest_difference(const float *a, const float *b, size_t n)
{
    double largest = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > largest) largest = d;
    }
    return largest;
}

#endif
