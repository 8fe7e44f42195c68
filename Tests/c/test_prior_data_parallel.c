/* Data-parallel face-prior training (avpgan_prior_trainer) through the C API's
 * gradient-reduction hook: two threads play two ranks with the allreduce of thread_ranks.h,
 * each computes half of every batch (one whole group of the discriminator's minibatch
 * deviation, and half of the path-length term's faces), and 4 steps (step 4 with the
 * path-length term) equal one trainer on the whole batch within 1e-4 relative (the tolerance
 * of Tests/cli/test_mpi_train_prior.py); rank 0 alone writes; a missing hook, a rank outside
 * 0..n_ranks-1, a batch without a whole group per rank and ranks that disagree are refused
 * with a status and a message; a caller built against the params of before the data-parallel
 * fields trains alone.
 *
 * usage: test_prior_data_parallel (makes and removes its own faces under /tmp) */
#define _XOPEN_SOURCE 700
#include "avpgan.h"
#include "api/drawn_faces.h"
#include "data_parallel_checks.h"
#include "thread_ranks.h"

#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STEPS 4 /* step 4 takes the path-length term (every 4 steps) */
#define BATCH 8 /* two groups of 4 for the discriminator: one per rank */
#define N AVPGAN_PRIOR_N_LOSSES

static char faces[1024], ckdir[1100], exported[1100];

static void base_params(avpgan_prior_trainer_params *p, uint64_t seed)
{
    avpgan_prior_trainer_params_init(p, sizeof *p);
    p->faces_dir = faces;
    p->widths = AVPGAN_ENHANCER_WIDTHS_TINY;
    p->batch_size = BATCH;
    p->seed = seed;
    p->sheet_samples = 4;
}

typedef struct {
    int rank;
    uint64_t seed;
    int train;
    avpgan_status create_status, run_status, export_status;
    float losses[STEPS * N];
    uint32_t present[STEPS];
} rank_run;

static void on_progress(uint64_t done, uint64_t total, const float *losses, uint32_t present, void *user)
{
    rank_run *run = user;
    (void)total;
    if (done >= 1 && done <= STEPS) {
        memcpy(&run->losses[(done - 1) * N], losses, N * sizeof *losses);
        run->present[done - 1] = present;
    }
}

/* One rank: create (collective), and with run->train run STEPS steps and export. */
static void *run_rank(void *arg)
{
    rank_run *run = arg;
    avpgan_prior_trainer_params p;
    avpgan_prior_trainer *t = NULL;
    base_params(&p, run->seed);
    p.checkpoint_dir = ckdir;
    p.checkpoint_every = STEPS;
    p.allreduce = thread_allreduce;
    p.allreduce_user_data = &run->rank;
    p.rank = (uint32_t)run->rank;
    p.n_ranks = RANKS;
    run->create_status = avpgan_prior_trainer_create(&p, &t);
    if (t != NULL && run->train) {
        run->run_status = avpgan_prior_trainer_run(t, STEPS, on_progress, run, NULL, NULL, NULL);
        run->export_status = avpgan_prior_trainer_export(t, exported);
    }
    avpgan_prior_trainer_free(t);
    return NULL;
}

static void run_ranks(rank_run runs[RANKS], uint64_t seed1, int train)
{
    int r;
    for (r = 0; r < RANKS; r++) {
        memset(&runs[r], 0, sizeof runs[r]);
        runs[r].rank = r;
        runs[r].seed = r == 0 ? 5 : seed1;
        runs[r].train = train;
    }
    run_as_ranks(run_rank, runs, sizeof runs[0]);
}

/* One trainer alone on `p`; returns its status, its losses in *run. */
static avpgan_status alone(const avpgan_prior_trainer_params *p, rank_run *run)
{
    avpgan_prior_trainer *t = NULL;
    avpgan_status s;
    memset(run, 0, sizeof *run);
    if ((s = avpgan_prior_trainer_create(p, &t)) != AVPGAN_OK) return s;
    s = avpgan_prior_trainer_run(t, STEPS, on_progress, run, NULL, NULL, NULL);
    avpgan_prior_trainer_free(t);
    return s;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    char dir[] = "/tmp/avpgan-prior-data-parallel-XXXXXX", msg[256], ck[1200], sheet[1200];
    avpgan_prior_trainer_params p;
    avpgan_prior_trainer *t = NULL;
    rank_run single, old_size, runs[RANKS];
    double worst;

    if (mkdtemp(dir) == NULL) { perror("mkdtemp"); return 1; }
    snprintf(faces, sizeof faces, "%s/faces", dir);
    snprintf(ckdir, sizeof ckdir, "%s/ck", dir);
    snprintf(exported, sizeof exported, "%s/prior.safetensors", dir);
    snprintf(ck, sizeof ck, "%s/prior-checkpoint.safetensors", ckdir);
    snprintf(sheet, sizeof sheet, "%s/samples/step-000004.png", ckdir);
    if (drawn_faces_write(faces, 10, 32, 0) != 0) { perror("writing faces"); return 1; }

    /* One process on the whole batch. */
    base_params(&p, 5);
    check(alone(&p, &single) == AVPGAN_OK, "one prior trainer alone on batches of 8 runs 4 steps");
    check((single.present[STEPS - 1] & (1u << AVPGAN_PRIOR_LOSS_G_PATH)) != 0, "step 4 takes the path-length term");

    /* The same on two ranks: each computes 4 faces of every batch. */
    run_ranks(runs, 5, 1);
    check(runs[0].create_status == AVPGAN_OK && runs[1].create_status == AVPGAN_OK, "both ranks create their trainer (collective)");
    check(runs[0].run_status == AVPGAN_OK && runs[1].run_status == AVPGAN_OK, "both ranks run 4 steps");
    check(memcmp(runs[0].losses, runs[1].losses, sizeof runs[0].losses) == 0 && memcmp(runs[0].present, runs[1].present, sizeof runs[0].present) == 0,
          "both ranks report the same losses of the whole batch, bit for bit");
    worst = memcmp(single.present, runs[0].present, sizeof single.present) == 0
                ? worst_relative_difference(runs[0].losses, single.losses, STEPS * N) : -1;
    snprintf(msg, sizeof msg, "two ranks' losses equal one trainer's on the whole batch within 1e-4 relative (worst %.3g over %d steps)", worst, STEPS);
    check(worst >= 0 && worst <= 1e-4, msg);
    check(runs[0].export_status == AVPGAN_OK && runs[1].export_status == AVPGAN_OK && access(exported, R_OK) == 0,
          "export succeeds on both ranks and rank 0 writes the prior file");
    check(access(ck, R_OK) == 0 && access(sheet, R_OK) == 0, "rank 0 writes the checkpoint and the sample sheet of step 4 into checkpoint_dir");

    /* A caller built against the params of before the data-parallel fields trains alone, whatever lies past its struct. */
    base_params(&p, 5);
    p.struct_size = offsetof(avpgan_prior_trainer_params, allreduce);
    p.n_ranks = RANKS;
    p.rank = 1;
    check(alone(&p, &old_size) == AVPGAN_OK && memcmp(old_size.losses, single.losses, sizeof single.losses) == 0,
          "a struct_size up to truncation trains alone (the fields past it are not read), as one trainer does");

    /* Refusals that need no other rank. */
    base_params(&p, 5);
    p.n_ranks = RANKS;
    check(avpgan_prior_trainer_create(&p, &t) == AVPGAN_E_INVALID_ARGUMENT && t == NULL && strstr(avpgan_last_error(), "allreduce") != NULL,
          "n_ranks 2 without an allreduce is refused, naming allreduce");
    p.allreduce = thread_allreduce;
    p.rank = RANKS;
    check(avpgan_prior_trainer_create(&p, &t) == AVPGAN_E_INVALID_ARGUMENT && t == NULL && strstr(avpgan_last_error(), "params.rank") != NULL,
          "rank 2 of 2 ranks is refused, naming params.rank");
    p.rank = 0;
    p.batch_size = 4;
    check(avpgan_prior_trainer_create(&p, &t) == AVPGAN_E_INVALID_ARGUMENT && t == NULL && strstr(avpgan_last_error(), "at least 8") != NULL,
          "a batch of 4 on 2 ranks (one discriminator group) is refused, naming the batch that would do");

    /* Ranks that disagree (another seed, so other networks) fail on both ranks. */
    run_ranks(runs, 6, 0);
    check(runs[0].create_status == AVPGAN_E_INVALID_ARGUMENT && runs[1].create_status == AVPGAN_E_INVALID_ARGUMENT,
          "ranks created with different seeds are refused on every rank");

    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_summary("prior data-parallel");
}
