/* Data-parallel voice-encoder pre-training (avpgan_voice_encoder_train) through the C API's
 * gradient-reduction hook: two threads play two ranks with an allreduce of their own (a
 * barrier and a shared buffer), BatchNorm is synchronised through it, and the run equals one
 * call on the whole batch to float summation order; rank 0 alone writes; ranks that disagree
 * and a missing hook are refused with a status and a message.
 *
 * usage: test_voice_data_parallel DATA_DIR (as avpgan synth-data writes) */
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
#define BATCH 7 /* odd: rank 0 takes 4 crops, rank 1 takes 3 */

static char voices[1024], cache[1024];

typedef struct {
    int rank;
    uint64_t seed;
    char output[1100], checkpoints[1100];
    float losses[STEPS];
    int steps_seen;
    avpgan_status status;
    char error[512];
} rank_run;

static void on_step(uint64_t step, uint64_t steps, float loss, double accuracy, void *user_data)
{
    rank_run *run = user_data;
    (void)steps;
    (void)accuracy;
    if (step >= 1 && step <= STEPS) run->losses[step - 1] = loss;
    run->steps_seen++;
}

static void base_params(avpgan_voice_training_params *p, rank_run *run)
{
    avpgan_voice_training_params_init(p, sizeof *p);
    p->voices_dir = voices;
    p->cache_dir = cache;
    p->widths = AVPGAN_WIDTHS_TINY;
    p->steps = STEPS;
    p->batch_size = BATCH;
    p->checkpoint_every = 1;
    p->lr = 1e-3;
    p->seed = run->seed;
    p->output = run->output;
    p->checkpoint_dir = run->checkpoints;
    p->progress = on_step;
    p->progress_user_data = run;
}

static void *run_rank(void *arg)
{
    rank_run *run = arg;
    avpgan_voice_training_params p;
    avpgan_voice_training_result r;
    base_params(&p, run);
    p.allreduce = thread_allreduce;
    p.allreduce_user_data = &run->rank;
    p.rank = (uint32_t)run->rank;
    p.n_ranks = RANKS;
    r.struct_size = sizeof r;
    run->status = avpgan_voice_encoder_train(&p, &r);
    snprintf(run->error, sizeof run->error, "%s", avpgan_last_error());
    return NULL;
}

static void run_ranks(rank_run runs[RANKS], const char *dir, const char *name, uint64_t seed1)
{
    int r;
    for (r = 0; r < RANKS; r++) {
        memset(&runs[r], 0, sizeof runs[r]);
        runs[r].rank = r;
        runs[r].seed = r == 0 ? 1 : seed1;
        /* The same paths on both ranks, as on a shared file system: rank 0 alone writes. */
        snprintf(runs[r].output, sizeof runs[r].output, "%s/%s.safetensors", dir, name);
        snprintf(runs[r].checkpoints, sizeof runs[r].checkpoints, "%s/%s", dir, name);
    }
    run_as_ranks(run_rank, runs, sizeof runs[0]);
}

/* The embedding of fixed features by the encoder file at path. */
static int embed(const char *path, float out[64])
{
    static float features[300 * 64];
    avpgan_model *m = NULL;
    size_t i, needed = 0;
    int ok;
    for (i = 0; i < 300 * 64; i++) features[i] = (float)((i * 7919) % 1009) / 504.5f - 1.0f;
    if (avpgan_model_load_file(path, NULL, &m) != AVPGAN_OK) return 0;
    ok = avpgan_model_embed(m, features, 300, 64, out, 64, &needed) == AVPGAN_OK;
    avpgan_model_free(m);
    return ok;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/avpgan-voice-data-parallel-XXXXXX", log_path[1200];
    avpgan_voice_training_params p;
    avpgan_voice_training_result r;
    rank_run one, runs[RANKS];
    float e_one[64], e_two[64];
    double worst, e_diff;
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    if (mkdtemp(dir) == NULL) return 2;
    snprintf(voices, sizeof voices, "%s/voices", argv[1]);
    snprintf(cache, sizeof cache, "%s/cache", dir);

    /* One call on the whole batch. */
    memset(&one, 0, sizeof one);
    one.seed = 1;
    snprintf(one.output, sizeof one.output, "%s/one.safetensors", dir);
    snprintf(one.checkpoints, sizeof one.checkpoints, "%s/one", dir);
    base_params(&p, &one);
    r.struct_size = sizeof r;
    check(avpgan_voice_encoder_train(&p, &r) == AVPGAN_OK && one.steps_seen == STEPS, "one process pre-trains 3 steps");

    /* Two ranks through the hook. */
    run_ranks(runs, dir, "two", 1);
    check(runs[0].status == AVPGAN_OK && runs[1].status == AVPGAN_OK, "both ranks pre-train 3 steps");
    check(memcmp(runs[0].losses, runs[1].losses, sizeof runs[0].losses) == 0, "both ranks report the same global losses");
    worst = worst_relative_difference(runs[0].losses, one.losses, STEPS);
    printf("     worst relative loss difference over %d steps: %.3g\n", STEPS, worst);
    check(worst <= 1e-4, "2 ranks' losses equal one process's within 1e-4 relative");
    check(embed(one.output, e_one) && embed(runs[0].output, e_two), "both encoder files load and embed");
    e_diff = largest_difference(e_one, e_two, 16);
    printf("     largest difference of the encoders' embeddings: %.3g\n", e_diff);
    check(e_diff < 1e-3, "the exported encoders' embeddings agree within 1e-3");
    snprintf(log_path, sizeof log_path, "%s/two/train-voice.jsonl", dir);
    check(access(log_path, R_OK) == 0, "rank 0 writes the log into the checkpoint folder");

    /* Ranks that disagree (different seeds: different weights) fail on every rank. */
    run_ranks(runs, dir, "mixed", 2);
    check(runs[0].status == AVPGAN_E_INVALID_ARGUMENT && runs[1].status == AVPGAN_E_INVALID_ARGUMENT,
          "ranks started with different seeds are refused on both ranks");
    check(strstr(runs[0].error, "different") != NULL, runs[0].error);
    snprintf(log_path, sizeof log_path, "%s/mixed.safetensors", dir);
    check(access(log_path, F_OK) != 0, "refused ranks write no model");

    /* A missing hook. */
    base_params(&p, &one);
    p.n_ranks = 2;
    check(avpgan_voice_encoder_train(&p, &r) == AVPGAN_E_INVALID_ARGUMENT && strstr(avpgan_last_error(), "allreduce") != NULL,
          "n_ranks 2 without an allreduce is refused, naming it");

    return check_summary("voice data-parallel");
}
