/*
 * api.h — what the files of the test_api suite (Tests/c/test_api.c and the .c files here) share:
 * the reporting every check goes through, the helpers, the shared model of the thread tests
 * and each file's entry points. Each file covers one area of the C API.
 */
#ifndef AVPGAN_TEST_API_H
#define AVPGAN_TEST_API_H

#define _XOPEN_SOURCE 700

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avpgan.h"

/* ---- reporting and helpers (check.c) ---- */

/* Checks passed and failed so far; main prints them as "api: N passed, M failed". */
extern int n_passed, n_failed;
const char *status_name(int s);
/* Records one check: prints "ok   <what>" or "FAIL <what>: <why>". */
void check(int ok, const char *why, const char *fmt, ...);
/* Checks a status against the expected one, and the thread's last error: non-empty after a
 * failure, "" after a success. */
void expect(avpgan_status got, avpgan_status want, const char *fmt, ...);
/* A seeded uniform number in [0, 1); the sequence is the suite's, in the order of the calls. */
double uniform(void);
void fill_uniform(float *x, size_t n, double lo, double hi);
unsigned char *read_file(const char *path, size_t *size);
int write_file(const char *path, const void *data, size_t size);
/* 1 when both files can be read and hold the same bytes. */
int files_equal(const char *a, const char *b);
/* Non-NULL pointers that the library must overwrite with NULL on failure. */
extern int sentinel_target;
#define SENTINEL ((avpgan_model *)(void *)&sentinel_target)
#define TRAINER_SENTINEL ((avpgan_trainer *)(void *)&sentinel_target)

/* ---- the areas, in the order main runs them ---- */

/* basics.c: versions and status strings, params_init, decoding and PNG misuse, the front end
 * and portraits on misuse and silence, the thread-count setting. */
void test_version_and_status(void);
void test_params_init(const char *model_path);
void test_audio_and_png_misuse(void);
void test_portrait_misuse(const char *model_path);
void test_threads_setting(void);

/* loading.c: NULL pointers, bad files, a good load (NULL when it failed), get_info. */
void test_load_arguments(const char *model_path);
void test_load_bad_files(const unsigned char *file, size_t file_size);
avpgan_model *test_good_load(const char *model_path, const unsigned char *file, size_t file_size);
void test_get_info(const avpgan_model *model, avpgan_model_info *info);

/* inference.c: embed, generate and generate_rgb8 on misuse and on good input, then the thread
 * tests with the features it made (returns 2 when out of memory, else 0). */
int test_inference(avpgan_model *model, const avpgan_model_info *info);

/* threads.c: the model every thread test shares (set by main after get_info). */
extern const avpgan_model *g_model;
extern avpgan_model_info g_info;
void test_threads_share_model(void);
void test_last_error_thread_local(const float *nan_features, size_t n_frames);

/* trainer.c, trainer_create.c, trainer_support.c: the trainer at tiny widths on DATA. */
void test_trainer(const char *model_path, const char *data);

/* enhancer_trainer.c: the enhancer trainer at tiny widths on drawn 32 px faces. */
void test_enhancer_trainer(void);

/* prior_trainer.c: the face-prior trainer at tiny widths on drawn 32 px faces. */
void test_prior_trainer(void);

/* ---- trainer runs (trainer_runs.c): what the enhancer and prior trainer tests share ---- */

/* The folders and files of a face-folder trainer test: dir (fresh under /tmp) holding faces/ and other/ (7
 * faces), ckdir (dir/ck, not made) and auto_ck (the checkpoint the trainer writes there), and the
 * paths ck1, a_file and b_file. */
typedef struct {
    char dir[64], faces[1024], other[1024], ckdir[1024], auto_ck[1100], ck1[1024], a_file[1024], b_file[1024];
} face_trainer_paths;
/* Makes dir with n_faces drawn faces of side px in faces/ and 7 in other/ (`checkpoint`: the
 * file name of auto_ck). Returns 0, or -1 after a failed check (nothing to remove). */
int face_trainer_paths_make(face_trainer_paths *p, const char *area, const char *checkpoint, int n_faces, uint32_t side);

/* Checks a status and that the last error names `needle` (NULL: any); `area` starts the line. */
void expect_named(const char *area, avpgan_status got, avpgan_status want, const char *needle, const char *what);

/* What the progress and abort callbacks of a trainer's run saw (user data of both): the first
 * 4 steps' losses (n_losses floats each) and masks, whether `done` counted up by one, and the
 * status of `reenter(trainer)` called from inside the progress callback (when set). */
typedef struct {
    void *trainer;
    avpgan_status (*reenter)(void *trainer);
    size_t n_losses;
    uint64_t calls, abort_after, abort_calls;
    int order_ok;
    float losses[4][AVPGAN_ENHANCER_N_LOSSES];
    uint32_t present[4];
    avpgan_status reenter_status;
    char reenter_error[256];
} run_record;
/* Clears *r for a run that aborts before step abort_after + 1 ((uint64_t)-1: never); set
 * r->n_losses (at most AVPGAN_ENHANCER_N_LOSSES) after. */
void run_record_reset(run_record *r, void *trainer, avpgan_status (*reenter)(void *trainer), uint64_t abort_after);
/* An avpgan_enhancer_progress_fn and avpgan_prior_progress_fn recording into a run_record. */
void on_run_progress(uint64_t done, uint64_t total, const float *losses, uint32_t present, void *user);
/* An avpgan_abort_fn: non-zero once it has been asked abort_after times. */
int on_run_abort(void *user);

/* face.c: the face-recognition API. */
void test_face(const char *face_path, const char *voice_model_path);

/* ---- the trainer tests' shared pieces (trainer_support.c) ---- */

/* The paths one trainer test run uses, under its scratch directory. */
typedef struct trainer_paths {
    const char *model_path;
    char dir[64], voices[1024], faces[1024], cache[1024], ckpt0[1024], ckpt1[1024], exported[1024];
    char missing_dir[1024], holdout[1024], garbage[1024], meta[1024], gated[1024];
} trainer_paths;

/* trainer_create.c: params_init and create's checks; leaves *tp as the tests' tiny run. */
void test_trainer_create(const trainer_paths *p, avpgan_trainer_params *tp);

int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw);
uint64_t trainer_step(avpgan_trainer *t);
int losses_ok(const float *l);

/* What the callbacks of avpgan_trainer_run record. */
typedef struct run_state {
    avpgan_trainer *trainer;
    uint64_t calls, last_done, last_total, abort_after, abort_calls;
    int order_ok, losses_ok;
    float last[AVPGAN_N_LOSSES];
    /* reentrant calls from the progress callback */
    int reenter;
    avpgan_status reenter_step, reenter_info;
    /* a call from another thread while the run is in a callback */
    int other_thread;
    avpgan_status other_status;
    char other_error[256];
} run_state;

/* An explicit batch: n voices of t frames (frame-major), faces, labels, noise. */
typedef struct batch {
    size_t n, t, e, s;
    float *voices, *faces, *noise;
    int32_t voice_labels[4], face_labels[4];
} batch;

void on_progress(uint64_t done, uint64_t total, const float *losses, void *user);
int on_abort(void *user);
int abort_always(void *user);
void on_progress_reenter(uint64_t done, uint64_t total, const float *losses, void *user);
void on_progress_other_thread(uint64_t done, uint64_t total, const float *losses, void *user);
int batch_alloc(batch *b, size_t n, size_t t, size_t e, size_t s, int32_t ids);
void batch_free(batch *b);
avpgan_status gan_step(avpgan_trainer *t, const batch *b, float *losses);

#endif
