/* Data-parallel training through the C API's gradient-reduction hook: two threads play two
 * ranks with an allreduce of their own (a barrier and a shared buffer, as a host would plug in
 * MPI, NCCL or Gloo), and their run equals one trainer on the whole batch to float summation
 * order; ranks that disagree, a rank outside 0..n_ranks-1, a missing hook and a failing hook
 * are refused with a status and a message.
 *
 * usage: test_data_parallel VOICE_ENCODER.safetensors DATA_DIR (as avpgan synth-data writes) */
#define _POSIX_C_SOURCE 200809L
#include "avpgan.h"
#include "data_parallel_checks.h"
#include "thread_ranks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STEPS 3
#define BATCH 7 /* odd: rank 0 takes 4 rows, rank 1 takes 3 */

static int failing_allreduce(float *values, size_t count, void *user_data)
{
    (void)values;
    (void)count;
    (void)user_data;
    return 42;
}

static char voices[1024], faces[1024], cache[1024], encoder[1024];

static void base_params(avpgan_trainer_params *p, uint64_t seed)
{
    avpgan_trainer_params_init(p, sizeof *p);
    p->widths = AVPGAN_WIDTHS_TINY;
    p->batch_size = BATCH;
    p->seed = seed;
    p->voices_dir = voices;
    p->faces_dir = faces;
    p->cache_dir = cache;
    p->voice_encoder = encoder;
}

typedef struct {
    int rank;
    uint64_t seed;
    avpgan_status create_status;
    char create_error[512];
    float losses[STEPS][AVPGAN_N_LOSSES];
    avpgan_status step_status;
    avpgan_trainer *trainer;
} rank_run;

static void *run_rank(void *arg)
{
    rank_run *run = arg;
    avpgan_trainer_params p;
    int s;
    base_params(&p, run->seed);
    p.allreduce = thread_allreduce;
    p.allreduce_user_data = &run->rank;
    p.rank = (uint32_t)run->rank;
    p.n_ranks = RANKS;
    run->create_status = avpgan_trainer_create(&p, &run->trainer);
    snprintf(run->create_error, sizeof run->create_error, "%s", avpgan_last_error());
    if (run->create_status != AVPGAN_OK) return NULL;
    for (s = 0; s < STEPS; s++) {
        run->step_status = avpgan_trainer_step(run->trainer, run->losses[s]);
        if (run->step_status != AVPGAN_OK) break;
    }
    return NULL;
}

static void run_ranks(rank_run runs[RANKS], uint64_t seed0, uint64_t seed1)
{
    int r;
    for (r = 0; r < RANKS; r++) {
        memset(&runs[r], 0, sizeof runs[r]);
        runs[r].rank = r;
        runs[r].seed = r == 0 ? seed0 : seed1;
    }
    run_as_ranks(run_rank, runs, sizeof runs[0]);
}

/* The generator's raw faces for 4 fixed embeddings of the model file at path. */
static int faces_of(const char *path, float *out, size_t n_out)
{
    avpgan_model *m = NULL;
    avpgan_model_info info;
    float e[4 * 64];
    size_t i, needed = 0;
    int ok;
    if (avpgan_model_load_file(path, NULL, &m) != AVPGAN_OK) return 0;
    info.struct_size = sizeof info;
    avpgan_model_get_info(m, &info);
    for (i = 0; i < 4 * info.embed_dim; i++) e[i] = (float)sin((double)i * 0.7) / 3.0f;
    ok = avpgan_model_generate(m, e, 4, info.embed_dim, out, n_out, &needed) == AVPGAN_OK;
    avpgan_model_free(m);
    return ok;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/avpgan-data-parallel-XXXXXX", one_path[1100], two_path[1100];
    avpgan_trainer_params p;
    avpgan_trainer *single = NULL, *t = NULL;
    float expected[STEPS][AVPGAN_N_LOSSES];
    static float faces_one[4 * 3 * 64 * 64], faces_two[4 * 3 * 64 * 64];
    rank_run runs[RANKS];
    double worst, face_diff;
    size_t i;
    int s;
    if (argc != 3) {
        fprintf(stderr, "usage: %s VOICE_ENCODER.safetensors DATA_DIR\n", argv[0]);
        return 2;
    }
    if (mkdtemp(dir) == NULL) return 2;
    snprintf(encoder, sizeof encoder, "%s", argv[1]);
    snprintf(voices, sizeof voices, "%s/voices", argv[2]);
    snprintf(faces, sizeof faces, "%s/faces", argv[2]);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(one_path, sizeof one_path, "%s/one.safetensors", dir);
    snprintf(two_path, sizeof two_path, "%s/two.safetensors", dir);

    /* One trainer on the whole batch. */
    base_params(&p, 1);
    check(avpgan_trainer_create(&p, &single) == AVPGAN_OK, "one trainer on the whole batch");
    for (s = 0; single != NULL && s < STEPS; s++) avpgan_trainer_step(single, expected[s]);
    check(single != NULL && avpgan_trainer_export(single, one_path) == AVPGAN_OK, "export of the one-process run");
    avpgan_trainer_free(single);

    /* Two ranks through the hook. */
    run_ranks(runs, 1, 1);
    check(runs[0].create_status == AVPGAN_OK && runs[1].create_status == AVPGAN_OK, "both ranks create their trainer");
    check(runs[0].step_status == AVPGAN_OK && runs[1].step_status == AVPGAN_OK, "both ranks take 3 steps");
    check(memcmp(runs[0].losses, runs[1].losses, sizeof runs[0].losses) == 0, "both ranks report the same global losses");
    worst = worst_relative_difference(&runs[0].losses[0][0], &expected[0][0], STEPS * AVPGAN_N_LOSSES);
    printf("     worst relative loss difference over %d steps: %.3g\n", STEPS, worst);
    check(worst <= 1e-4, "2 ranks' losses equal one process's within 1e-4 relative");
    check(runs[0].trainer != NULL && avpgan_trainer_export(runs[0].trainer, two_path) == AVPGAN_OK,
          "rank 0 exports (export is not collective)");
    for (i = 0; i < RANKS; i++) avpgan_trainer_free(runs[i].trainer);
    check(faces_of(one_path, faces_one, sizeof faces_one / sizeof(float)) &&
              faces_of(two_path, faces_two, sizeof faces_two / sizeof(float)),
          "both exported models generate");
    face_diff = largest_difference(faces_one, faces_two, sizeof faces_one / sizeof(float));
    printf("     largest difference of the exported models' faces: %.3g\n", face_diff);
    check(face_diff < 1e-3, "the exported models' faces agree within 1e-3");

    /* Ranks that disagree (different seeds: different weights) fail on every rank. */
    run_ranks(runs, 1, 2);
    check(runs[0].create_status == AVPGAN_E_INVALID_ARGUMENT && runs[1].create_status == AVPGAN_E_INVALID_ARGUMENT,
          "ranks created with different seeds are refused on both ranks");
    check(strstr(runs[0].create_error, "different") != NULL, runs[0].create_error);

    /* Bad hooks. */
    base_params(&p, 1);
    p.n_ranks = 2;
    check(avpgan_trainer_create(&p, &t) == AVPGAN_E_INVALID_ARGUMENT && strstr(avpgan_last_error(), "allreduce") != NULL,
          "n_ranks 2 without an allreduce is refused, naming it");
    p.allreduce = failing_allreduce;
    p.rank = 2;
    check(avpgan_trainer_create(&p, &t) == AVPGAN_E_INVALID_ARGUMENT && strstr(avpgan_last_error(), "params.rank") != NULL,
          "rank 2 of 2 is refused, naming params.rank");
    p.rank = 1;
    check(avpgan_trainer_create(&p, &t) == AVPGAN_E_IO && strstr(avpgan_last_error(), "returned 42") != NULL && t == NULL,
          "an allreduce that fails fails the call with AVPGAN_E_IO and its code");
    p.n_ranks = 1;
    check(avpgan_trainer_create(&p, &t) == AVPGAN_OK, "n_ranks 1 trains alone (the hook is unused)");
    avpgan_trainer_free(t);

    return check_summary("data-parallel");
}
