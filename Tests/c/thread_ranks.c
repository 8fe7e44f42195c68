/* thread_ranks.c — the host's allreduce for threads as ranks and the threads that run them
 * (thread_ranks.h). */
#define _POSIX_C_SOURCE 200809L
#include "thread_ranks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t barrier;
static float *deposits[RANKS];
static size_t deposit_counts[RANKS];

int thread_allreduce(float *values, size_t count, void *user_data)
{
    int rank = *(int *)user_data, r, ok = 1;
    float *sum;
    size_t i;
    deposits[rank] = malloc(count * sizeof(float));
    if (deposits[rank] == NULL) return -1;
    memcpy(deposits[rank], values, count * sizeof(float));
    deposit_counts[rank] = count;
    pthread_barrier_wait(&barrier);
    sum = calloc(count, sizeof(float));
    for (r = 0; r < RANKS; r++) {
        if (sum == NULL || deposit_counts[r] != count) ok = 0;
        for (i = 0; ok && i < count; i++) sum[i] += deposits[r][i];
    }
    pthread_barrier_wait(&barrier);
    free(deposits[rank]);
    if (ok) memcpy(values, sum, count * sizeof(float));
    free(sum);
    return ok ? 0 : -2;
}

void run_as_ranks(void *(*run_rank)(void *), void *runs, size_t run_size)
{
    pthread_t threads[RANKS];
    int r;
    pthread_barrier_init(&barrier, NULL, RANKS);
    for (r = 0; r < RANKS; r++) pthread_create(&threads[r], NULL, run_rank, (char *)runs + (size_t)r * run_size);
    for (r = 0; r < RANKS; r++) pthread_join(threads[r], NULL);
    pthread_barrier_destroy(&barrier);
}
