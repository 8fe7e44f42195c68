/*
 * face_data_parallel.h — the suite the face-folder trainers' data-parallel test programs
 * (Tests/c/test_enhancer_data_parallel.c, test_prior_data_parallel.c) run alike, each on its
 * trainer through a face_trainer_ops: two threads play two ranks (thread_ranks.h), each
 * computes half of every batch of 8 (whole groups of 4 of the discriminator's minibatch
 * deviation), and the run equals one trainer on the whole batch within 1e-4 relative (the
 * tolerance of Tests/cli's mpirun suites); both ranks report the same bits; rank 0 alone writes
 * the checkpoint (and sheet) and the exported file; a caller built against the params of before
 * the data-parallel fields trains alone; a missing hook, a rank outside 0..n_ranks-1, a batch
 * without a whole group per rank and ranks that disagree are refused with a status and a
 * message. Header-only: include it in the test program's one file.
 */
#ifndef AVPGAN_TEST_FACE_DATA_PARALLEL_H
#define AVPGAN_TEST_FACE_DATA_PARALLEL_H

#include "avpgan.h"
#include "api/drawn_faces.h"
#include "data_parallel_checks.h"
#include "thread_ranks.h"

#include <ftw.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FACE_RUN_MAX_STEPS 4
#define FACE_RUN_MAX_LOSSES 16
#define FACE_BATCH 8 /* two groups of 4 for the discriminator: one per rank */

/* What a trainer is made with: the program copies these into its params. */
typedef struct {
    const char *faces, *checkpoint_dir; /* checkpoint_dir NULL: none */
    uint64_t seed;
    uint32_t batch;
    avpgan_allreduce_fn allreduce;
    void *allreduce_user_data;
    uint32_t rank, n_ranks;
    int first_size; /* struct_size up to the field before allreduce (a caller of the first header) */
} face_trainer_args;

/* Copies `a` (a const face_trainer_args *) into the params `p` of type `type` (both face
 * trainers' params have these fields by these names), after params_init has filled `p`. */
#define FACE_PARAMS_FROM_ARGS(p, type, a)                                                \
    do {                                                                                 \
        if ((a)->first_size) (p).struct_size = offsetof(type, allreduce);                \
        (p).faces_dir = (a)->faces;                                                      \
        (p).checkpoint_dir = (a)->checkpoint_dir;                                        \
        (p).widths = AVPGAN_ENHANCER_WIDTHS_TINY;                                        \
        (p).batch_size = (a)->batch;                                                     \
        (p).seed = (a)->seed;                                                            \
        (p).allreduce = (a)->allreduce;                                                  \
        (p).allreduce_user_data = (a)->allreduce_user_data;                              \
        (p).rank = (a)->rank;                                                            \
        (p).n_ranks = (a)->n_ranks;                                                      \
    } while (0)

/* One rank's (or one lone trainer's) run: statuses, and `n_losses` losses per step. */
typedef struct {
    int rank;
    uint64_t seed;
    int train;
    size_t n_losses;
    avpgan_status create_status, run_status, export_status;
    float losses[FACE_RUN_MAX_STEPS * FACE_RUN_MAX_LOSSES];
    uint32_t present[FACE_RUN_MAX_STEPS];
} face_rank_run;

/* One trainer type, as the suite drives it. */
typedef struct {
    const char *name;         /* "enhancer", "prior" */
    const char *checkpoint;   /* its checkpoint file's name in checkpoint_dir */
    const char *sheet;        /* a sample sheet the run writes there (NULL: none) */
    const char *first_fields; /* the last field of the first params ("truncation") */
    size_t n_losses;
    int steps;                /* steps of each run, at most FACE_RUN_MAX_STEPS */
    avpgan_status (*create)(const face_trainer_args *a, void **out);
    /* `steps` steps, each step's losses recorded through face_run_progress into *run. */
    avpgan_status (*run)(void *trainer, uint64_t steps, face_rank_run *run);
    avpgan_status (*export_file)(void *trainer, const char *path);
    void (*free_trainer)(void *trainer);
} face_trainer_ops;

static const face_trainer_ops *face_ops;
static char face_faces[1024], face_ckdir[1100], face_exported[1100];

/* An avpgan_enhancer_progress_fn / avpgan_prior_progress_fn (the same signature) recording
 * step `done`'s losses and mask into the face_rank_run `user`. */
static inline void face_run_progress(uint64_t done, uint64_t total, const float *losses, uint32_t present, void *user)
{
    face_rank_run *run = user;
    (void)total;
    if (done >= 1 && done <= FACE_RUN_MAX_STEPS) {
        memcpy(&run->losses[(done - 1) * run->n_losses], losses, run->n_losses * sizeof *losses);
        run->present[done - 1] = present;
    }
}

static inline face_trainer_args face_args(uint64_t seed)
{
    face_trainer_args a;
    memset(&a, 0, sizeof a);
    a.faces = face_faces;
    a.seed = seed;
    a.batch = FACE_BATCH;
    return a;
}

/* One rank: create (collective), and with run->train run the steps and export. */
static inline void *face_run_rank(void *arg)
{
    face_rank_run *run = arg;
    face_trainer_args a = face_args(run->seed);
    void *t = NULL;
    a.checkpoint_dir = face_ckdir;
    a.allreduce = thread_allreduce;
    a.allreduce_user_data = &run->rank;
    a.rank = (uint32_t)run->rank;
    a.n_ranks = RANKS;
    run->create_status = face_ops->create(&a, &t);
    if (t != NULL && run->train) {
        run->run_status = face_ops->run(t, (uint64_t)face_ops->steps, run);
        if (run->run_status != AVPGAN_OK) printf("  rank %d: %s\n", run->rank, avpgan_last_error());
        run->export_status = face_ops->export_file(t, face_exported);
    }
    face_ops->free_trainer(t);
    return NULL;
}

/* Runs a face_run_rank per rank r on its thread, rank 0 seeded 5 and the others `seed1`. */
static inline void face_run_ranks(face_rank_run runs[RANKS], uint64_t seed1, int train)
{
    int r;
    for (r = 0; r < RANKS; r++) {
        memset(&runs[r], 0, sizeof runs[r]);
        runs[r].n_losses = face_ops->n_losses;
        runs[r].rank = r;
        runs[r].seed = r == 0 ? 5 : seed1;
        runs[r].train = train;
    }
    run_as_ranks(face_run_rank, runs, sizeof runs[0]);
}

/* One trainer alone on `a`; returns its status, its losses in *run. */
static inline avpgan_status face_alone(const face_trainer_args *a, face_rank_run *run)
{
    void *t = NULL;
    avpgan_status s;
    memset(run, 0, sizeof *run);
    run->n_losses = face_ops->n_losses;
    if ((s = face_ops->create(a, &t)) != AVPGAN_OK) return s;
    s = face_ops->run(t, (uint64_t)face_ops->steps, run);
    face_ops->free_trainer(t);
    return s;
}

/* The worst |got - want| / max(|want|, 1e-3) of two runs' losses (the floor of Tests/cli's
 * suites: scores near 0 are compared absolutely), or -1 when a step computed other losses in
 * the two runs, or none. */
static inline double face_runs_difference(const face_rank_run *got, const face_rank_run *want)
{
    double worst = 0, d;
    size_t i, n = want->n_losses;
    int s;
    for (s = 0; s < face_ops->steps; s++) {
        if (got->present[s] != want->present[s] || want->present[s] == 0) return -1;
        for (i = 0; i < n; i++) {
            d = fabs((double)got->losses[s * n + i] - want->losses[s * n + i]) / fmax(fabs((double)want->losses[s * n + i]), 1e-3);
            if (!(d <= worst)) worst = d;
        }
    }
    return worst;
}

static inline int face_remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Whether creating a trainer from `a` is refused with AVPGAN_E_INVALID_ARGUMENT and a message
 * holding `words`, with no trainer made. */
static inline int face_refused(const face_trainer_args *a, const char *words)
{
    void *t = NULL;
    return face_ops->create(a, &t) == AVPGAN_E_INVALID_ARGUMENT && t == NULL && strstr(avpgan_last_error(), words) != NULL;
}

/* The suite on `ops`' trainer; `single` receives the lone trainer's run for the program's own
 * checks (made before they run). Returns the exit status. */
static inline int face_data_parallel_suite(const face_trainer_ops *ops, void (*more)(const face_rank_run *single))
{
    char dir[] = "/tmp/avpgan-face-data-parallel-XXXXXX", msg[256], ck[1200], sheet[1200], name[64];
    face_rank_run single, old_size, runs[RANKS];
    face_trainer_args a;
    double worst;

    face_ops = ops;
    if (mkdtemp(dir) == NULL) { perror("mkdtemp"); return 1; }
    snprintf(face_faces, sizeof face_faces, "%s/faces", dir);
    snprintf(face_ckdir, sizeof face_ckdir, "%s/ck", dir);
    snprintf(face_exported, sizeof face_exported, "%s/%s.safetensors", dir, ops->name);
    snprintf(ck, sizeof ck, "%s/%s", face_ckdir, ops->checkpoint);
    snprintf(sheet, sizeof sheet, "%s/%s", face_ckdir, ops->sheet != NULL ? ops->sheet : ops->checkpoint);
    if (drawn_faces_write(face_faces, 10, 32, 0) != 0) { perror("writing faces"); return 1; }

    /* One process on the whole batch. */
    a = face_args(5);
    snprintf(msg, sizeof msg, "one %s trainer alone on batches of %d runs %d steps", ops->name, FACE_BATCH, ops->steps);
    check(face_alone(&a, &single) == AVPGAN_OK, msg);
    if (more != NULL) more(&single);

    /* The same on two ranks: each computes 4 faces of every batch. */
    face_run_ranks(runs, 5, 1);
    check(runs[0].create_status == AVPGAN_OK && runs[1].create_status == AVPGAN_OK, "both ranks create their trainer (collective)");
    check(runs[0].run_status == AVPGAN_OK && runs[1].run_status == AVPGAN_OK, "both ranks run every step");
    check(memcmp(runs[0].losses, runs[1].losses, sizeof runs[0].losses) == 0 && memcmp(runs[0].present, runs[1].present, sizeof runs[0].present) == 0,
          "both ranks report the same losses of the whole batch, bit for bit");
    worst = face_runs_difference(&runs[0], &single);
    snprintf(msg, sizeof msg, "two ranks' losses equal one trainer's on the whole batch within 1e-4 relative (worst %.3g over %d steps)", worst, ops->steps);
    check(worst >= 0 && worst <= 1e-4, msg);
    check(runs[0].export_status == AVPGAN_OK && runs[1].export_status == AVPGAN_OK && access(face_exported, R_OK) == 0,
          "export succeeds on both ranks and rank 0 writes the exported file");
    check(access(ck, R_OK) == 0 && access(sheet, R_OK) == 0, "rank 0 writes the last step's checkpoint (and sheet) into the shared checkpoint_dir");

    /* A caller built against the params of before the data-parallel fields trains alone, whatever lies past its struct. */
    a = face_args(5);
    a.first_size = 1;
    a.n_ranks = RANKS;
    a.rank = 1;
    snprintf(msg, sizeof msg, "a struct_size up to %s trains alone (the fields past it are not read), as one trainer does", ops->first_fields);
    check(face_alone(&a, &old_size) == AVPGAN_OK && memcmp(old_size.losses, single.losses, sizeof single.losses) == 0, msg);

    /* Refusals that need no other rank. */
    a = face_args(5);
    a.n_ranks = RANKS;
    check(face_refused(&a, "allreduce"), "n_ranks 2 without an allreduce is refused, naming allreduce");
    a.allreduce = thread_allreduce;
    a.rank = RANKS;
    check(face_refused(&a, "params.rank"), "rank 2 of 2 ranks is refused, naming params.rank");
    a.rank = 0;
    a.batch = 4;
    check(face_refused(&a, "at least 8"), "a batch of 4 on 2 ranks (one discriminator group) is refused, naming the batch that would do");

    /* Ranks that disagree (another seed, so other networks) fail on both ranks. */
    face_run_ranks(runs, 6, 0);
    check(runs[0].create_status == AVPGAN_E_INVALID_ARGUMENT && runs[1].create_status == AVPGAN_E_INVALID_ARGUMENT,
          "ranks created with different seeds are refused on every rank");

    nftw(dir, face_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    snprintf(name, sizeof name, "%s data-parallel", ops->name);
    return check_summary(name);
}

#endif
