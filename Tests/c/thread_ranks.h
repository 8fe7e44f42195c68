/*
 * thread_ranks.h — threads that play the ranks of a data-parallel run through the C API's
 * gradient-reduction hook (avpgan_allreduce_fn), shared by Tests/c/test_data_parallel.c,
 * test_voice_data_parallel.c, test_enhancer_data_parallel.c and test_prior_data_parallel.c:
 * the host's allreduce (a barrier and a shared buffer, as a host would plug in MPI, NCCL or
 * Gloo) and the starting and joining of one thread per rank.
 */
#ifndef AVPGAN_TEST_THREAD_RANKS_H
#define AVPGAN_TEST_THREAD_RANKS_H

#include <stddef.h>

/* The ranks of every run: thread_allreduce waits for this many callers. */
#define RANKS 2

/* An avpgan_allreduce_fn for threads as ranks: user_data points to the caller's rank (an int
 * in 0..RANKS-1). Every rank deposits its values, then every rank adds all deposits in rank
 * order, so each gets the same bits. Returns 0; -1 when the deposit cannot be allocated, -2 when
 * the ranks passed different counts or the sum cannot be allocated (values are then left as
 * they were). Only between run_as_ranks's threads. */
int thread_allreduce(float *values, size_t count, void *user_data);

/* Runs run_rank(&runs[r]) on its own thread for each rank r (runs: RANKS items of run_size
 * bytes each, set up by the caller) and returns once all have returned. */
void run_as_ranks(void *(*run_rank)(void *), void *runs, size_t run_size);

#endif
