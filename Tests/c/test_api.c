/*
 * test_api.c — C-API misuse and edge cases of libavpgan.
 *
 *   test_api MODEL.safetensors [DATA]  (Tests/Fixtures/golden/avpgan/model.safetensors; DATA a
 *                                      data set from `avpgan synth-data` of 3 speakers: with it,
 *                                      the trainer is tested too, at tiny widths)
 *
 * Prints one line per check ("ok   ..." or "FAIL ...") and finally
 * "api: N passed, M failed"; exits 1 when any check failed, 2 on bad usage.
 *
 * Build (from the repository root):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -pthread -Iinclude Tests/c/test_api.c \
 *      -Lbuild/lib -lavpgan -o test_api
 */
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

/* ------------------------------------------------------------------------ */
/* Reporting                                                                 */
/* ------------------------------------------------------------------------ */

static int n_passed, n_failed;

static const char *status_name(int s)
{
    switch (s) {
    case AVPGAN_OK: return "AVPGAN_OK";
    case AVPGAN_E_INVALID_ARGUMENT: return "AVPGAN_E_INVALID_ARGUMENT";
    case AVPGAN_E_BUFFER_TOO_SMALL: return "AVPGAN_E_BUFFER_TOO_SMALL";
    case AVPGAN_E_OUT_OF_MEMORY: return "AVPGAN_E_OUT_OF_MEMORY";
    case AVPGAN_E_IO: return "AVPGAN_E_IO";
    case AVPGAN_E_MODEL_FORMAT: return "AVPGAN_E_MODEL_FORMAT";
    case AVPGAN_E_UNSUPPORTED: return "AVPGAN_E_UNSUPPORTED";
    case AVPGAN_E_MISSING_NETWORK: return "AVPGAN_E_MISSING_NETWORK";
    case AVPGAN_E_AUDIO_FORMAT: return "AVPGAN_E_AUDIO_FORMAT";
    case AVPGAN_E_NO_SPEECH: return "AVPGAN_E_NO_SPEECH";
    case AVPGAN_E_ABORTED: return "AVPGAN_E_ABORTED";
    case AVPGAN_E_INTERNAL: return "AVPGAN_E_INTERNAL";
    default: return "(unknown status)";
    }
}

/* Records one check: prints "ok   <what>" or "FAIL <what>: <why>". */
static void check(int ok, const char *why, const char *fmt, ...)
{
    va_list ap;
    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok && why != NULL && *why != '\0') {
        printf(": %s", why);
    }
    printf("\n");
    fflush(stdout);
    if (ok) {
        n_passed++;
    } else {
        n_failed++;
    }
}

/* Checks a status against the expected one, and the thread's last error:
 * non-empty after a failure, "" after a success. Reads avpgan_last_error()
 * before anything else can call into the library. */
static void expect(avpgan_status got, avpgan_status want, const char *fmt, ...)
{
    const char *err = avpgan_last_error();
    char why[1024];
    char what[512];
    int ok;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    why[0] = '\0';
    if (got != want) {
        ok = 0;
        snprintf(why, sizeof why, "got %s (%d), want %s; last_error \"%s\"", status_name(got),
                 (int)got, status_name(want), err ? err : "(NULL)");
    } else if (err == NULL) {
        ok = 0;
        snprintf(why, sizeof why, "avpgan_last_error() returned NULL");
    } else if (want != AVPGAN_OK && err[0] == '\0') {
        ok = 0;
        snprintf(why, sizeof why, "%s as expected, but avpgan_last_error() is empty",
                 status_name(got));
    } else if (want == AVPGAN_OK && err[0] != '\0') {
        ok = 0;
        snprintf(why, sizeof why, "OK, but avpgan_last_error() is \"%s\", want \"\"", err);
    } else {
        ok = 1;
    }
    if (ok && want != AVPGAN_OK) {
        check(1, NULL, "%s -> %s (\"%s\")", what, status_name(want), err);
    } else {
        check(ok, why, "%s -> %s", what, status_name(want));
    }
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x243F6A8885A308D3ULL;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static void fill_uniform(float *x, size_t n, double lo, double hi)
{
    size_t i;
    for (i = 0; i < n; i++) {
        x[i] = (float)(lo + (hi - lo) * uniform());
    }
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long len;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) {
        return -1;
    }
    ok = fwrite(data, 1, size, f) == size;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* A non-NULL pointer that the library must overwrite with NULL on failure. */
static int sentinel_target;
#define SENTINEL ((avpgan_model *)(void *)&sentinel_target)

/* ------------------------------------------------------------------------ */
/* The shared model and what the thread tests compute                        */
/* ------------------------------------------------------------------------ */

static const avpgan_model *g_model;
static avpgan_model_info g_info;

enum { N_THREADS = 8, ROUNDS = 3, BATCH = 2 };

typedef struct work {
    /* inputs */
    float *features;
    size_t n_frames;
    float *embeddings; /* BATCH x E */
    /* outputs */
    float *embedding;  /* E */
    float *images;     /* BATCH x 3 x S x S */
    uint8_t *pixels;   /* BATCH x S x S x 3 */
    avpgan_status status;
    char error[256];
} work;

static size_t image_floats(void)
{
    return (size_t)BATCH * 3 * g_info.image_size * g_info.image_size;
}

static int work_alloc(work *w, size_t n_frames)
{
    size_t e = g_info.embed_dim, m = g_info.n_mels;
    memset(w, 0, sizeof *w);
    w->n_frames = n_frames;
    w->features = malloc(n_frames * m * sizeof(float));
    w->embeddings = malloc(BATCH * e * sizeof(float));
    w->embedding = malloc(e * sizeof(float));
    w->images = malloc(image_floats() * sizeof(float));
    w->pixels = malloc(image_floats());
    return w->features && w->embeddings && w->embedding && w->images && w->pixels ? 0 : -1;
}

static void work_free(work *w)
{
    free(w->features);
    free(w->embeddings);
    free(w->embedding);
    free(w->images);
    free(w->pixels);
}

/* Runs embed, generate and generate_rgb8 (minmax) on w's inputs. */
static void work_run(work *w)
{
    avpgan_generate_params gp;
    size_t e = g_info.embed_dim, needed = 0;
    avpgan_status st;

    w->status = AVPGAN_OK;
    w->error[0] = '\0';
    st = avpgan_model_embed(g_model, w->features, w->n_frames, g_info.n_mels, w->embedding, e,
                            &needed);
    if (st == AVPGAN_OK) {
        st = avpgan_model_generate(g_model, w->embeddings, BATCH, e, w->images, image_floats(),
                                   &needed);
    }
    if (st == AVPGAN_OK) {
        st = avpgan_generate_params_init(&gp, sizeof gp);
    }
    if (st == AVPGAN_OK) {
        gp.pixels = AVPGAN_PIXELS_MINMAX;
        st = avpgan_model_generate_rgb8(g_model, w->embeddings, BATCH, e, &gp, w->pixels,
                                        image_floats(), &needed);
    }
    if (st != AVPGAN_OK) {
        w->status = st;
        snprintf(w->error, sizeof w->error, "%s", avpgan_last_error());
    }
}

typedef struct thread_job {
    work *reference; /* the sequential result to compare against */
    work mine;
    int mismatches;
    avpgan_status status;
    char error[256];
} thread_job;

static pthread_barrier_t g_barrier;

static void *thread_main(void *arg)
{
    thread_job *job = arg;
    size_t e = g_info.embed_dim, m = g_info.n_mels;
    int r;
    pthread_barrier_wait(&g_barrier);
    for (r = 0; r < ROUNDS; r++) {
        memcpy(job->mine.features, job->reference->features, job->mine.n_frames * m * sizeof(float));
        memcpy(job->mine.embeddings, job->reference->embeddings, BATCH * e * sizeof(float));
        work_run(&job->mine);
        if (job->mine.status != AVPGAN_OK) {
            job->status = job->mine.status;
            memcpy(job->error, job->mine.error, sizeof job->error);
            return NULL;
        }
        if (memcmp(job->mine.embedding, job->reference->embedding, e * sizeof(float)) != 0 ||
            memcmp(job->mine.images, job->reference->images, image_floats() * sizeof(float)) != 0 ||
            memcmp(job->mine.pixels, job->reference->pixels, image_floats()) != 0) {
            job->mismatches++;
        }
    }
    return NULL;
}

static void test_threads_share_model(void)
{
    work ref[N_THREADS];
    thread_job jobs[N_THREADS];
    pthread_t tid[N_THREADS];
    int i, started = 0, ok = 1;
    size_t e = g_info.embed_dim, m = g_info.n_mels;

    for (i = 0; i < N_THREADS; i++) {
        if (work_alloc(&ref[i], 20 + 13 * (size_t)i) != 0 ||
            work_alloc(&jobs[i].mine, 20 + 13 * (size_t)i) != 0) {
            check(0, "out of memory", "threads: allocate buffers");
            return;
        }
        fill_uniform(ref[i].features, ref[i].n_frames * m, -2.0, 2.0);
        fill_uniform(ref[i].embeddings, BATCH * e, -0.3, 0.3);
        work_run(&ref[i]);
        if (ref[i].status != AVPGAN_OK) {
            check(0, ref[i].error, "threads: sequential reference run %d -> %s", i,
                  status_name(ref[i].status));
            return;
        }
        jobs[i].reference = &ref[i];
        jobs[i].mismatches = 0;
        jobs[i].status = AVPGAN_OK;
        jobs[i].error[0] = '\0';
    }
    pthread_barrier_init(&g_barrier, NULL, N_THREADS);
    for (i = 0; i < N_THREADS; i++) {
        if (pthread_create(&tid[i], NULL, thread_main, &jobs[i]) != 0) {
            break;
        }
        started++;
    }
    check(started == N_THREADS, "pthread_create failed", "threads: start %d threads", N_THREADS);
    if (started != N_THREADS) {
        exit(1); /* the barrier would never open */
    }
    for (i = 0; i < N_THREADS; i++) {
        pthread_join(tid[i], NULL);
    }
    pthread_barrier_destroy(&g_barrier);
    for (i = 0; i < N_THREADS; i++) {
        if (jobs[i].status != AVPGAN_OK) {
            char why[400];
            snprintf(why, sizeof why, "%s: %s", status_name(jobs[i].status), jobs[i].error);
            check(0, why, "threads: thread %d computed without error", i);
            ok = 0;
        } else if (jobs[i].mismatches) {
            char why[128];
            snprintf(why, sizeof why, "%d of %d rounds differ", jobs[i].mismatches, ROUNDS);
            check(0, why, "threads: thread %d results bit-identical to the sequential run", i);
            ok = 0;
        }
    }
    check(ok, "see above",
          "threads: %d threads x %d rounds sharing one model (embed, generate, generate_rgb8) "
          "bit-identical to sequential calls",
          N_THREADS, ROUNDS);
    for (i = 0; i < N_THREADS; i++) {
        work_free(&ref[i]);
        work_free(&jobs[i].mine);
    }
}

/* The last error is thread-local. */
typedef struct tl_job {
    const char *missing_path;
    int iterations;
    int fresh_empty;      /* last_error was "" before this thread's first call */
    int wrong_status;
    int wrong_message;
    char first[512];
} tl_job;

static void *tl_io_thread(void *arg)
{
    tl_job *job = arg;
    avpgan_model *m = NULL;
    int i;
    const char *e = avpgan_last_error();
    job->fresh_empty = e != NULL && e[0] == '\0';
    pthread_barrier_wait(&g_barrier);
    for (i = 0; i < job->iterations; i++) {
        avpgan_status st = avpgan_model_load_file(job->missing_path, NULL, &m);
        const char *msg = avpgan_last_error();
        if (st != AVPGAN_E_IO) {
            job->wrong_status++;
            avpgan_model_free(m);
            m = NULL;
            continue;
        }
        if (i == 0) {
            snprintf(job->first, sizeof job->first, "%s", msg);
        } else if (strcmp(msg, job->first) != 0) {
            job->wrong_message++;
        }
    }
    return NULL;
}

static void test_last_error_thread_local(const float *nan_features, size_t n_frames)
{
    pthread_t tid;
    tl_job job;
    char mine[512];
    float out[1024];
    int i, wrong_status = 0, wrong_message = 0;
    avpgan_status st;

    memset(&job, 0, sizeof job);
    job.missing_path = "/nonexistent-avpgan-dir/model.safetensors";
    job.iterations = 200;

    /* This thread fails first, with a different cause. */
    st = avpgan_model_embed(g_model, nan_features, n_frames, g_info.n_mels, out,
                            g_info.embed_dim, NULL);
    snprintf(mine, sizeof mine, "%s", avpgan_last_error());
    check(st == AVPGAN_E_INVALID_ARGUMENT && mine[0] != '\0', status_name(st),
          "thread-local: main thread's NaN embed fails with a message");

    pthread_barrier_init(&g_barrier, NULL, 2);
    if (pthread_create(&tid, NULL, tl_io_thread, &job) != 0) {
        check(0, "pthread_create failed", "thread-local: start a thread");
        return;
    }
    pthread_barrier_wait(&g_barrier);
    /* While the other thread fails with IO errors, this one keeps failing
     * with INVALID_ARGUMENT and must always see its own message. */
    for (i = 0; i < job.iterations; i++) {
        st = avpgan_model_embed(g_model, nan_features, n_frames, g_info.n_mels, out,
                                g_info.embed_dim, NULL);
        if (st != AVPGAN_E_INVALID_ARGUMENT) {
            wrong_status++;
        } else if (strcmp(avpgan_last_error(), mine) != 0) {
            wrong_message++;
        }
    }
    pthread_join(tid, NULL);
    pthread_barrier_destroy(&g_barrier);

    check(job.fresh_empty, "it was not \"\"", "thread-local: a new thread's avpgan_last_error() is \"\"");
    check(job.wrong_status == 0 && job.first[0] != '\0', "wrong status or empty message",
          "thread-local: the other thread's %d missing-file loads -> AVPGAN_E_IO with a message",
          job.iterations);
    check(strcmp(job.first, mine) != 0, "the two threads saw the same message",
          "thread-local: the two threads' messages differ (\"%s\" vs \"%s\")", mine, job.first);
    check(job.wrong_message == 0 && wrong_message == 0 && wrong_status == 0,
          "a thread saw a message other than its own",
          "thread-local: concurrent failures keep each thread's own message "
          "(%d + %d mismatches, %d wrong statuses)",
          job.wrong_message, wrong_message, wrong_status);
    check(strcmp(avpgan_last_error(), mine) == 0, avpgan_last_error(),
          "thread-local: after the other thread finished, this thread's message is unchanged");
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------ */
/* Trainer                                                                   */
/* ------------------------------------------------------------------------ */

/* A non-NULL trainer pointer that the library must overwrite with NULL on failure. */
#define TRAINER_SENTINEL ((avpgan_trainer *)(void *)&sentinel_target)

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static uint64_t trainer_step(avpgan_trainer *t)
{
    avpgan_trainer_info info;
    info.struct_size = sizeof info;
    if (avpgan_trainer_get_info(t, &info) != AVPGAN_OK) {
        return (uint64_t)-1;
    }
    return info.step;
}

static int losses_ok(const float *l)
{
    int i;
    for (i = 0; i < AVPGAN_N_LOSSES; i++) {
        if (!(l[i] > 0.0f && l[i] < 100.0f)) {
            return 0;
        }
    }
    return 1;
}

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

static void on_progress(uint64_t done, uint64_t total, const float *losses, void *user)
{
    run_state *s = user;
    s->calls++;
    if (done != s->calls || done > total) {
        s->order_ok = 0;
    }
    s->last_done = done;
    s->last_total = total;
    if (losses == NULL || !losses_ok(losses)) {
        s->losses_ok = 0;
    } else {
        memcpy(s->last, losses, sizeof s->last);
    }
}

static int on_abort(void *user)
{
    run_state *s = user;
    s->abort_calls++;
    return s->abort_after != 0 && s->abort_calls > s->abort_after;
}

static int abort_always(void *user)
{
    (void)user;
    return 1;
}

static void on_progress_reenter(uint64_t done, uint64_t total, const float *losses, void *user)
{
    run_state *s = user;
    avpgan_trainer_info info;
    float l[AVPGAN_N_LOSSES];
    on_progress(done, total, losses, user);
    if (s->reenter) {
        info.struct_size = sizeof info;
        s->reenter_step = avpgan_trainer_step(s->trainer, l);
        s->reenter_info = avpgan_trainer_get_info(s->trainer, &info);
        s->reenter = 0;
    }
}

static void *other_thread_main(void *arg)
{
    run_state *s = arg;
    float l[AVPGAN_N_LOSSES];
    s->other_status = avpgan_trainer_step(s->trainer, l);
    snprintf(s->other_error, sizeof s->other_error, "%s", avpgan_last_error());
    return NULL;
}

static void on_progress_other_thread(uint64_t done, uint64_t total, const float *losses, void *user)
{
    run_state *s = user;
    pthread_t th;
    on_progress(done, total, losses, user);
    if (s->other_thread) {
        s->other_thread = 0;
        if (pthread_create(&th, NULL, other_thread_main, s) == 0) {
            pthread_join(th, NULL);
        } else {
            s->other_status = AVPGAN_OK;
        }
    }
}

/* An explicit batch: n voices of t frames (frame-major), faces, labels, noise. */
typedef struct batch {
    size_t n, t, e, s;
    float *voices, *faces, *noise;
    int32_t voice_labels[4], face_labels[4];
} batch;

static int batch_alloc(batch *b, size_t n, size_t t, size_t e, size_t s, int32_t ids)
{
    size_t i;
    b->n = n;
    b->t = t;
    b->e = e;
    b->s = s;
    b->voices = malloc(n * t * 64 * sizeof(float));
    b->faces = malloc(n * 3 * s * s * sizeof(float));
    b->noise = malloc(n * e * sizeof(float));
    if (!b->voices || !b->faces || !b->noise || n > 4) {
        return -1;
    }
    fill_uniform(b->voices, n * t * 64, -2.0, 2.0);
    fill_uniform(b->faces, n * 3 * s * s, -1.0, 1.0);
    fill_uniform(b->noise, n * e, -0.05, 0.05);
    for (i = 0; i < n; i++) {
        b->voice_labels[i] = (int32_t)(i % (size_t)ids);
        b->face_labels[i] = (int32_t)((i + 1) % (size_t)ids);
    }
    return 0;
}

static void batch_free(batch *b)
{
    free(b->voices);
    free(b->faces);
    free(b->noise);
}

static avpgan_status gan_step(avpgan_trainer *t, const batch *b, float *losses)
{
    return avpgan_trainer_gan_step(t, b->n, b->t, 64, b->voices, b->voice_labels, b->faces,
                                   b->face_labels, b->noise, losses);
}

static void test_trainer(const char *model_path, const char *data)
{
    char dir[] = "/tmp/avpgan-test-trainer-XXXXXX";
    char voices[1024], faces[1024], cache[1024], ckpt0[1024], ckpt1[1024], exported[1024];
    char missing_dir[1024], holdout[1024], garbage[1024], meta[1024], gated[1024];
    avpgan_trainer_params tp, big_tp[2];
    avpgan_trainer_info info;
    avpgan_trainer *t = NULL, *u = NULL, *out = NULL;
    float l1[AVPGAN_N_LOSSES], l2[AVPGAN_N_LOSSES];
    float losses_a[3][AVPGAN_N_LOSSES], losses_b[3][AVPGAN_N_LOSSES];
    uint64_t done = 0, before;
    batch b;
    run_state rs;
    int i;

    if (mkdtemp(dir) == NULL) {
        check(0, strerror(errno), "trainer: mkdtemp");
        return;
    }
    snprintf(voices, sizeof voices, "%s/voices", data);
    snprintf(faces, sizeof faces, "%s/faces", data);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(ckpt0, sizeof ckpt0, "%s/ckpt0.safetensors", dir);
    snprintf(ckpt1, sizeof ckpt1, "%s/ckpt1.safetensors", dir);
    snprintf(exported, sizeof exported, "%s/model.safetensors", dir);
    snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/x.safetensors", dir);
    snprintf(holdout, sizeof holdout, "%s/holdout.txt", dir);
    snprintf(meta, sizeof meta, "%s/vox1_meta.csv", dir);
    snprintf(garbage, sizeof garbage, "%s/garbage.safetensors", dir);
    snprintf(gated, sizeof gated, "%s/residual-gate.safetensors", dir);

    /* ---- params ---- */
    expect(avpgan_trainer_params_init(NULL, sizeof tp), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_params_init(NULL)");
    /* The first header's struct ended with split (sizeof = offsetof(stop_on_collapse)). */
    expect(avpgan_trainer_params_init(&tp, offsetof(avpgan_trainer_params, stop_on_collapse) - 1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_params_init(&p, first sizeof - 1)");
    expect(avpgan_trainer_params_init(&tp, sizeof tp), AVPGAN_OK, "avpgan_trainer_params_init");
    check(tp.struct_size == sizeof tp && tp.arch == AVPGAN_ARCH_AVPGAN && tp.widths == AVPGAN_WIDTHS_FULL &&
              tp.batch_size == 64 && tp.seed == 1 && tp.voices_dir == NULL && tp.faces_dir == NULL &&
              tp.test_list == NULL && tp.voice_encoder == NULL && tp.cache_dir == NULL &&
              tp.split == AVPGAN_SPLIT_TEST_LIST && tp.generator_spectral_norm == 1 && tp.stop_on_collapse == 0 &&
              tp.health_warm_up == 500 && tp.meta_file == NULL && tp.allreduce == NULL && tp.n_ranks == 0 &&
              tp.generator_cbam == 1 && tp.cbam_reduction == 16 && tp.cbam_gate == AVPGAN_CBAM_GATE_SIGMOID,
          "wrong defaults",
          "avpgan_trainer_params defaults (avpgan, full, batch 64, seed 1, no paths, generator spectral norm, "
          "warn only, warm-up 500, generator CBAM, CBAM reduction 16, sigmoid CBAM gate)");

    /* ---- create: errors ---- */
    tp.widths = AVPGAN_WIDTHS_TINY;
    tp.batch_size = 2;
    tp.seed = 5;
    tp.voices_dir = voices;
    tp.faces_dir = faces;
    tp.voice_encoder = model_path;
    tp.cache_dir = cache;
    out = TRAINER_SENTINEL;
    expect(avpgan_trainer_create(NULL, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(NULL params)");
    check(out == NULL, "not NULL", "avpgan_trainer_create failure sets *out_trainer = NULL");
    expect(avpgan_trainer_create(&tp, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(NULL out)");
    tp.voices_dir = NULL;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(voices_dir NULL)");
    tp.voices_dir = voices;
    tp.faces_dir = "";
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(faces_dir \"\")");
    tp.faces_dir = faces;
    tp.voice_encoder = NULL;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(voice_encoder NULL)");
    tp.voice_encoder = model_path;
    tp.cache_dir = NULL;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cache_dir NULL)");
    tp.cache_dir = cache;
    tp.arch = 3;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(arch 3)");
    tp.arch = AVPGAN_ARCH_AVPGAN;
    tp.widths = 2;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(widths 2)");
    tp.widths = AVPGAN_WIDTHS_TINY;
    tp.batch_size = 0;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(batch_size 0)");
    tp.batch_size = 4097;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(batch_size 4097)");
    tp.batch_size = 2;
    tp.generator_spectral_norm = 2;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(generator_spectral_norm 2)");
    tp.generator_spectral_norm = 1;
    tp.health_warm_up = 0;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(health_warm_up 0)");
    tp.health_warm_up = 500;
    tp.generator_cbam = -1;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(generator_cbam -1)");
    tp.generator_cbam = 1;
    tp.cbam_reduction = 0;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cbam_reduction 0)");
    tp.cbam_reduction = 65537;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cbam_reduction 65537)");
    tp.cbam_reduction = 16;
    tp.cbam_gate = 2;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cbam_gate 2)");
    check(strstr(avpgan_last_error(), "cbam_gate") != NULL, avpgan_last_error(), "the cbam_gate error names the field");
    tp.cbam_gate = AVPGAN_CBAM_GATE_SIGMOID;
    tp.cbam_reduction = 16;
    tp.struct_size = 8;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(struct_size 8)");
    tp.struct_size = sizeof tp;
    memset(big_tp, 0, sizeof big_tp);
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = sizeof big_tp;
    ((unsigned char *)big_tp)[sizeof tp + 3] = 1;
    expect(avpgan_trainer_create(&big_tp[0], &out), AVPGAN_E_UNSUPPORTED,
           "avpgan_trainer_create(newer struct with a non-zero unknown field)");
    tp.voices_dir = "/nonexistent-avpgan-dir/voices";
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_IO, "avpgan_trainer_create(voices_dir missing)");
    tp.voices_dir = voices;
    tp.voice_encoder = "/nonexistent-avpgan-dir/model.safetensors";
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_IO, "avpgan_trainer_create(voice_encoder missing)");
    tp.voice_encoder = model_path;

    /* ---- create: a caller of the first header (struct_size up to split; what follows is
     *      its padding, here garbage) gets the defaults of the new fields ---- */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = offsetof(avpgan_trainer_params, stop_on_collapse);
    big_tp[0].generator_spectral_norm = 0;
    big_tp[0].stop_on_collapse = 1;
    expect(avpgan_trainer_create(&big_tp[0], &t), AVPGAN_OK, "avpgan_trainer_create(the first header's struct_size)");
    if (t != NULL) {
        info.struct_size = offsetof(avpgan_trainer_info, health);
        info.health = 99;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info(the first header's struct_size)");
        check(info.health == 99 && info.n_trained_parameters > 0, "wrote past struct_size",
              "avpgan_trainer_get_info fills only the first header's fields");
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.generator_spectral_norm == 1 && info.health == 0 && info.health_step == 0, "padding was read",
              "an old-size params struct (padding 0): generator spectral norm on (the default), healthy");
        avpgan_trainer_free(t);
        t = NULL;
    }
    tp.generator_spectral_norm = 0;
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(generator_spectral_norm 0)");
    if (t != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.generator_spectral_norm == 0, "on", "generator_spectral_norm 0 reaches the trainer");
        avpgan_trainer_free(t);
        t = NULL;
    }
    tp.generator_spectral_norm = 1;

    /* ---- the CBAM recipe options reach the trainer; a struct_size from before them (the
     *      bytes after it garbage) keeps their defaults ---- */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = offsetof(avpgan_trainer_params, generator_cbam);
    big_tp[0].generator_cbam = 7;
    big_tp[0].cbam_reduction = 0;
    expect(avpgan_trainer_create(&big_tp[0], &t), AVPGAN_OK, "avpgan_trainer_create(struct_size before generator_cbam)");
    if (t != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.generator_cbam == 1 && info.cbam_reduction == 16, "fields past struct_size were read",
              "an older params struct: CBAM in the generator, reduction 16 (the defaults)");
        avpgan_trainer_free(t);
        t = NULL;
    }
    tp.generator_cbam = 0;
    tp.cbam_reduction = 4;
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(generator_cbam 0, cbam_reduction 4)");
    if (t != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.generator_cbam == 0 && info.cbam_reduction == 4, "ignored",
              "generator_cbam 0 and cbam_reduction 4 reach the trainer");
        avpgan_trainer_free(t);
        t = NULL;
    }
    tp.generator_cbam = 1;
    tp.cbam_reduction = 16;
    /* The CBAM gate: a struct_size from before it keeps the sigmoid gate; the residual gate
     * reaches the trainer and its checkpoint. */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = offsetof(avpgan_trainer_params, cbam_gate);
    big_tp[0].cbam_gate = 9;
    expect(avpgan_trainer_create(&big_tp[0], &t), AVPGAN_OK, "avpgan_trainer_create(struct_size before cbam_gate)");
    if (t != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.cbam_gate == AVPGAN_CBAM_GATE_SIGMOID, "a field past struct_size was read",
              "an older params struct: the sigmoid CBAM gate (the default)");
        avpgan_trainer_free(t);
        t = NULL;
    }
    tp.cbam_gate = AVPGAN_CBAM_GATE_RESIDUAL;
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(cbam_gate residual)");
    if (t != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.cbam_gate == AVPGAN_CBAM_GATE_RESIDUAL, "ignored", "cbam_gate residual reaches the trainer");
        expect(avpgan_trainer_save(t, gated), AVPGAN_OK, "avpgan_trainer_save(residual gate)");
        avpgan_trainer_free(t);
        t = NULL;
        expect(avpgan_trainer_load_checkpoint(gated, NULL, &t), AVPGAN_OK, "avpgan_trainer_load_checkpoint(residual gate)");
        if (t != NULL) {
            info.struct_size = sizeof info;
            expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
            check(info.cbam_gate == AVPGAN_CBAM_GATE_RESIDUAL, "lost", "the checkpoint keeps the residual CBAM gate");
            avpgan_trainer_free(t);
            t = NULL;
        }
    }
    tp.cbam_gate = AVPGAN_CBAM_GATE_SIGMOID;

    /* ---- stop_on_collapse: judged from the first step (health_warm_up 1), a fresh
     *      generator's faces are all alike (their spread ~1e-5, the threshold 0.01), so the
     *      run stops after one step with a message naming the warning ---- */
    tp.stop_on_collapse = 1;
    tp.health_warm_up = 1;
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(stop_on_collapse, health_warm_up 1)");
    if (t != NULL) {
        done = 0;
        expect(avpgan_trainer_run(t, 5, NULL, NULL, NULL, NULL, &done), AVPGAN_E_ABORTED,
               "avpgan_trainer_run stops on collapse");
        check(done == 1 && strstr(avpgan_last_error(), "collapse") != NULL, avpgan_last_error(),
              "stop_on_collapse: one step taken, the message names the collapse");
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check((info.health & AVPGAN_HEALTH_COLLAPSE) && info.health_step == 1 && info.batch_spread >= 0.0f &&
                  info.batch_spread < 0.01f,
              "wrong health", "info.health has AVPGAN_HEALTH_COLLAPSE since step 1, a tiny batch spread");
        expect(avpgan_trainer_save(t, ckpt0), AVPGAN_OK, "avpgan_trainer_save(unhealthy)");
        avpgan_trainer_free(t);
        t = NULL;
        expect(avpgan_trainer_load_checkpoint(ckpt0, NULL, &t), AVPGAN_OK, "avpgan_trainer_load_checkpoint(unhealthy)");
        if (t != NULL) {
            info.struct_size = sizeof info;
            expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
            check((info.health & AVPGAN_HEALTH_COLLAPSE) && info.health_step == 1, "lost",
                  "the checkpoint keeps the health warning");
            avpgan_trainer_free(t);
            t = NULL;
        }
    }
    tp.stop_on_collapse = 0;
    tp.health_warm_up = 500;

    /* ---- create ---- */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = sizeof big_tp;
    ((unsigned char *)big_tp)[sizeof tp + 3] = 0;
    expect(avpgan_trainer_create(&big_tp[0], &t), AVPGAN_OK,
           "avpgan_trainer_create(tiny, batch 2, newer struct with a zero tail)");
    if (t == NULL) {
        check(0, "no trainer", "avpgan_trainer_create returned a trainer");
        goto done;
    }
    avpgan_trainer_free(t);
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(tiny, batch 2)");
    if (t == NULL) {
        goto done;
    }

    /* ---- info ---- */
    info.struct_size = sizeof info;
    expect(avpgan_trainer_get_info(NULL, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_get_info(NULL trainer)");
    expect(avpgan_trainer_get_info(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_get_info(NULL info)");
    info.struct_size = 4;
    expect(avpgan_trainer_get_info(t, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_get_info(struct_size 4)");
    info.struct_size = sizeof info;
    expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
    check(info.step == 0 && info.arch == AVPGAN_ARCH_AVPGAN && strcmp(info.arch_name, "avpgan") == 0 &&
              info.n_mels == 64 && info.embed_dim == g_info.embed_dim && info.image_size == 64 &&
              info.n_identities == 3 && info.batch_size == 2 && info.has_dataset == 1 &&
              info.n_generator_widths == 5 && info.generator_widths[0] == 128 && info.n_face_widths == 5 &&
              info.face_widths[4] == 64 && info.n_voice_widths == g_info.n_voice_widths &&
              info.n_trained_parameters > 0 && info.health == 0 && info.generator_spectral_norm == 1,
          "wrong info", "trainer info: step 0, avpgan, 3 identities, batch 2, tiny widths, data set");

    /* ---- step ---- */
    expect(avpgan_trainer_step(NULL, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_step(NULL trainer)");
    expect(avpgan_trainer_step(t, l1), AVPGAN_OK, "avpgan_trainer_step");
    check(losses_ok(l1), "losses out of (0, 100)", "avpgan_trainer_step: five losses %.4f %.4f %.4f %.4f %.4f",
          l1[0], l1[1], l1[2], l1[3], l1[4]);
    expect(avpgan_trainer_step(t, NULL), AVPGAN_OK, "avpgan_trainer_step(losses NULL)");
    check(trainer_step(t) == 2, "wrong step", "two steps counted");

    /* ---- gan_step: errors change nothing ---- */
    if (batch_alloc(&b, 2, 24, info.embed_dim, 64, (int32_t)info.n_identities) != 0) {
        check(0, "malloc", "trainer: batch");
        goto done;
    }
    expect(avpgan_trainer_save(t, ckpt0), AVPGAN_OK, "avpgan_trainer_save");
    before = trainer_step(t);
    expect(avpgan_trainer_gan_step(NULL, 2, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL trainer)");
    expect(avpgan_trainer_gan_step(t, 0, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n 0)");
    expect(avpgan_trainer_gan_step(t, 4097, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n 4097)");
    expect(avpgan_trainer_gan_step(t, 2, 0, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n_frames 0)");
    expect(avpgan_trainer_gan_step(t, 2, (size_t)1 << 21, 64, b.voices, b.voice_labels, b.faces, b.face_labels,
                                   b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n_frames 2^21)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 63, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n_mels 63)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, NULL, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL voices)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, NULL, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL voice_labels)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, b.voice_labels, NULL, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL faces)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, b.voice_labels, b.faces, NULL, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL face_labels)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, NULL, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL noise)");
    b.voice_labels[1] = -1;
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(voice label -1)");
    b.voice_labels[1] = (int32_t)info.n_identities;
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(voice label = n_identities)");
    b.voice_labels[1] = 1;
    b.face_labels[0] = (int32_t)info.n_identities + 7;
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(face label out of range)");
    b.face_labels[0] = 1;
    b.voices[100] = strtof("nan", NULL);
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NaN in voices)");
    b.voices[100] = 0.5f;
    b.faces[3] = strtof("inf", NULL);
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(inf in faces)");
    b.faces[3] = 0.5f;
    b.noise[1] = strtof("-inf", NULL);
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(-inf in noise)");
    b.noise[1] = 0.01f;
    check(trainer_step(t) == before, "step moved", "refused batches take no step");
    expect(gan_step(t, &b, l1), AVPGAN_OK, "avpgan_trainer_gan_step(n 2, 24 frames)");
    check(losses_ok(l1), "losses out of (0, 100)", "avpgan_trainer_gan_step: five losses");
    check(trainer_step(t) == before + 1, "step did not move", "avpgan_trainer_gan_step counts one step");

    /* ---- load_checkpoint without a data set: continues bit-identically ---- */
    out = TRAINER_SENTINEL;
    expect(avpgan_trainer_load_checkpoint(NULL, NULL, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(NULL path)");
    check(out == NULL, "not NULL", "avpgan_trainer_load_checkpoint failure sets *out_trainer = NULL");
    expect(avpgan_trainer_load_checkpoint(ckpt0, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(NULL out)");
    expect(avpgan_trainer_load_checkpoint("/nonexistent-avpgan-dir/c.safetensors", NULL, &out), AVPGAN_E_IO,
           "avpgan_trainer_load_checkpoint(missing file)");
    expect(avpgan_trainer_load_checkpoint(model_path, NULL, &out), AVPGAN_E_MODEL_FORMAT,
           "avpgan_trainer_load_checkpoint(a model file, not a checkpoint)");
    write_file(garbage, "not a safetensors file at all", 29);
    expect(avpgan_trainer_load_checkpoint(garbage, NULL, &out), AVPGAN_E_MODEL_FORMAT,
           "avpgan_trainer_load_checkpoint(garbage)");
    expect(avpgan_trainer_load_checkpoint(ckpt0, NULL, &u), AVPGAN_OK, "avpgan_trainer_load_checkpoint(no data set)");
    if (u != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(u, &info), AVPGAN_OK, "avpgan_trainer_get_info(loaded)");
        check(info.step == before && info.has_dataset == 0 && info.batch_size == 0 && info.n_identities == 3,
              "wrong info", "loaded trainer: step %lu, no data set", (unsigned long)info.step);
        expect(gan_step(u, &b, l2), AVPGAN_OK, "avpgan_trainer_gan_step(loaded)");
        check(memcmp(l1, l2, sizeof l1) == 0, "losses differ",
              "save, refused batches, load: the same batch gives bit-identical losses");
        expect(avpgan_trainer_step(u, l2), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_step(no data set)");
        done = 99;
        expect(avpgan_trainer_run(u, 2, NULL, NULL, NULL, NULL, &done), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_trainer_run(no data set)");
        check(done == 0, "steps_done not 0", "avpgan_trainer_run(no data set): *steps_done 0");
        avpgan_trainer_free(u);
        u = NULL;
    }

    /* ---- load_checkpoint with a data set ---- */
    tp.voices_dir = voices;
    tp.faces_dir = NULL;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(voices_dir without faces_dir)");
    tp.faces_dir = faces;
    write_file(holdout, "id0002\n", 7);
    tp.test_list = holdout;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(data set of 2 identities, checkpoint of 3)");
    tp.split = AVPGAN_SPLIT_INITIAL_LETTER;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(initial-letter split with a test_list)");
    tp.test_list = NULL;
    tp.split = 7;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(split 7)");
    tp.split = AVPGAN_SPLIT_INITIAL_LETTER;
    /* synth-data names identities id0000...: all start with i, so all three train. */
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &u), AVPGAN_OK,
           "avpgan_trainer_load_checkpoint(initial-letter split: 3 training identities as the checkpoint)");
    avpgan_trainer_free(u);
    u = NULL;
    /* The VoxCeleb layout: a meta table joins voice folders to face folders; its Set column
     * is the corpus's own split. Here the ids join to themselves and id0002 is a test speaker. */
    tp.split = AVPGAN_SPLIT_CORPUS_SET;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(AVPGAN_SPLIT_CORPUS_SET without meta_file)");
    check(strstr(avpgan_last_error(), "meta_file") != NULL, avpgan_last_error(),
          "the corpus-set error names params.meta_file");
    {
        static const char table[] = "VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet\n"
                                    "id0000\tid0000\tm\tUSA\tdev\nid0001\tid0001\tf\tUK\tdev\nid0002\tid0002\tm\tUK\ttest\n";
        write_file(meta, table, sizeof table - 1);
        tp.meta_file = meta;
        expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_trainer_load_checkpoint(corpus split holds out id0002: 2 identities, checkpoint of 3)");
        tp.split = AVPGAN_SPLIT_INITIAL_LETTER;
        expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &u), AVPGAN_OK,
               "avpgan_trainer_load_checkpoint(meta_file joined, initial-letter split: 3 identities)");
        avpgan_trainer_free(u);
        u = NULL;
        write_file(meta, "id,name\nid0000,x\n", 18);
        expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_trainer_load_checkpoint(meta_file not a VoxCeleb table)");
        check(strstr(avpgan_last_error(), "VoxCeleb1 ID") != NULL, avpgan_last_error(),
              "a table without the VoxCeleb columns is named as such");
        tp.meta_file = NULL;
    }
    tp.split = AVPGAN_SPLIT_TEST_LIST;
    expect(avpgan_trainer_save(t, ckpt1), AVPGAN_OK, "avpgan_trainer_save(after gan_step)");
    for (i = 0; i < 3; i++) {
        expect(avpgan_trainer_step(t, losses_a[i]), AVPGAN_OK, "avpgan_trainer_step %d (straight)", i);
    }
    expect(avpgan_trainer_load_checkpoint(ckpt1, &tp, &u), AVPGAN_OK, "avpgan_trainer_load_checkpoint(data set)");
    if (u != NULL) {
        for (i = 0; i < 3; i++) {
            expect(avpgan_trainer_step(u, losses_b[i]), AVPGAN_OK, "avpgan_trainer_step %d (resumed)", i);
        }
        check(memcmp(losses_a, losses_b, sizeof losses_a) == 0, "losses differ",
              "save, load with the data set, 3 steps: bit-identical to 3 straight steps");
        check(trainer_step(u) == trainer_step(t), "steps differ", "resumed step count equals the straight one");
        avpgan_trainer_free(u);
        u = NULL;
    }

    /* ---- run: progress, abort ---- */
    before = trainer_step(t);
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    expect(avpgan_trainer_run(NULL, 2, NULL, NULL, NULL, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_run(NULL trainer)");
    expect(avpgan_trainer_run(t, 0, NULL, NULL, NULL, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_run(n_steps 0)");
    expect(avpgan_trainer_run(t, 3, on_progress, &rs, on_abort, &rs, &done), AVPGAN_OK, "avpgan_trainer_run(3)");
    check(done == 3 && rs.calls == 3 && rs.last_done == 3 && rs.last_total == 3 && rs.order_ok && rs.losses_ok &&
              rs.abort_calls == 3 && trainer_step(t) == before + 3,
          "wrong progress", "run(3): progress 1/3..3/3 with losses, abort asked 3 times, 3 steps (done %lu)",
          (unsigned long)done);
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    rs.abort_after = 2;
    before = trainer_step(t);
    expect(avpgan_trainer_run(t, 5, on_progress, &rs, on_abort, &rs, &done), AVPGAN_E_ABORTED,
           "avpgan_trainer_run(5, abort after 2)");
    check(done == 2 && rs.calls == 2 && trainer_step(t) == before + 2, "wrong count",
          "aborted run: *steps_done 2, 2 progress calls, 2 steps taken");
    before = trainer_step(t);
    expect(avpgan_trainer_run(t, 2, NULL, NULL, abort_always, NULL, &done), AVPGAN_E_ABORTED,
           "avpgan_trainer_run(abort before the first step)");
    check(done == 0 && trainer_step(t) == before, "steps taken", "abort before the first step: nothing done");
    expect(avpgan_trainer_run(t, 1, NULL, NULL, NULL, NULL, NULL), AVPGAN_OK,
           "avpgan_trainer_run(1, no callbacks, steps_done NULL)");

    /* ---- one call at a time ---- */
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    rs.trainer = t;
    rs.reenter = 1;
    rs.reenter_step = rs.reenter_info = AVPGAN_OK;
    expect(avpgan_trainer_run(t, 1, on_progress_reenter, &rs, NULL, NULL, &done), AVPGAN_OK,
           "avpgan_trainer_run(1, progress calls back into the trainer)");
    check(rs.reenter_step == AVPGAN_E_INVALID_ARGUMENT && rs.reenter_info == AVPGAN_E_INVALID_ARGUMENT,
          "reentrant call not refused", "calls on the trainer from its progress callback are refused (%s, %s)",
          status_name(rs.reenter_step), status_name(rs.reenter_info));
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    rs.trainer = t;
    rs.other_thread = 1;
    before = trainer_step(t);
    expect(avpgan_trainer_run(t, 2, on_progress_other_thread, &rs, NULL, NULL, &done), AVPGAN_OK,
           "avpgan_trainer_run(2, another thread calls the trainer meanwhile)");
    check(rs.other_status == AVPGAN_E_INVALID_ARGUMENT && strstr(rs.other_error, "busy") != NULL,
          rs.other_error, "a call from another thread during a run is refused: %s \"%s\"",
          status_name(rs.other_status), rs.other_error);
    check(trainer_step(t) == before + 2, "wrong step", "the run was not disturbed (2 steps)");

    /* ---- save, export ---- */
    expect(avpgan_trainer_save(NULL, ckpt1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_save(NULL trainer)");
    expect(avpgan_trainer_save(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_save(NULL path)");
    expect(avpgan_trainer_save(t, ""), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_save(\"\")");
    expect(avpgan_trainer_save(t, missing_dir), AVPGAN_E_IO, "avpgan_trainer_save(missing directory)");
    expect(avpgan_trainer_export(NULL, exported), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_export(NULL trainer)");
    expect(avpgan_trainer_export(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_export(NULL path)");
    expect(avpgan_trainer_export(t, missing_dir), AVPGAN_E_IO, "avpgan_trainer_export(missing directory)");
    expect(avpgan_trainer_export(t, exported), AVPGAN_OK, "avpgan_trainer_export");
    {
        avpgan_model *m = NULL;
        avpgan_model_info mi;
        float emb[AVPGAN_MAX_EMBED], *img;
        size_t k, e;
        expect(avpgan_model_load_file(exported, NULL, &m), AVPGAN_OK, "avpgan_model_load_file(exported)");
        if (m != NULL) {
            mi.struct_size = sizeof mi;
            expect(avpgan_model_get_info(m, &mi), AVPGAN_OK, "avpgan_model_get_info(exported)");
            check(mi.arch == AVPGAN_ARCH_AVPGAN && mi.n_generator_widths == 5 && mi.generator_widths[0] == 128,
                  "wrong model", "the exported model is the trainer's avpgan generator");
            e = mi.embed_dim;
            for (k = 0; k < e; k++) {
                emb[k] = 0.1f; /* any finite embedding: the generator takes it as given */
            }
            img = malloc(3 * 64 * 64 * sizeof(float));
            if (img != NULL) {
                expect(avpgan_model_generate(m, emb, 1, e, img, 3 * 64 * 64, NULL), AVPGAN_OK,
                       "avpgan_model_generate(exported)");
                free(img);
            }
            avpgan_model_free(m);
        }
    }
    avpgan_trainer_free(NULL);
    batch_free(&b);

done:
    avpgan_trainer_free(t);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- face recognition ---- */

typedef struct {
    const avpgan_face_model *model;
    const uint8_t *image;
    size_t width, height;
    float out[1024];
    avpgan_status status;
} face_job;

static void *face_thread(void *arg)
{
    face_job *j = arg;
    int i;
    for (i = 0; i < 3 && j->status == AVPGAN_OK; i++) {
        j->status = avpgan_face_model_embed_rgb8(j->model, j->image, j->width, j->height, 0, j->out, 1024, NULL);
    }
    return NULL;
}

static void test_face(const char *face_path, const char *voice_model_path)
{
    avpgan_face_model *fm = NULL, *fm2 = (avpgan_face_model *)&sentinel_target;
    avpgan_face_model_info fi;
    avpgan_model *vm = (avpgan_model *)&sentinel_target;
    unsigned char *bytes;
    size_t size = 0, needed = 0, D, w = 75, h = 91, x, y, c;
    uint8_t *image, *padded;
    float *e1, *e2, sim = 0, zero[4] = {0, 0, 0, 0}, nan4[4];
    const char *msg;
    pthread_t threads[4];
    face_job jobs[4];
    int i, same;

    expect(avpgan_face_model_load_file(NULL, NULL, &fm2), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_face_model_load_file(NULL path)");
    check(fm2 == NULL, "out not cleared", "a failed face-model load sets *out_model to NULL");
    expect(avpgan_face_model_load_file("/nonexistent/face.safetensors", NULL, &fm), AVPGAN_E_IO,
           "avpgan_face_model_load_file(missing file)");
    expect(avpgan_face_model_load_file(voice_model_path, NULL, &fm), AVPGAN_E_MODEL_FORMAT,
           "avpgan_face_model_load_file(a voice-portrait model)");
    msg = avpgan_last_error();
    check(strstr(msg, "avpgan_model_load_file") != NULL, msg,
          "loading a voice model as a face model names the right loader");
    expect(avpgan_model_load_file(face_path, NULL, &vm), AVPGAN_E_MODEL_FORMAT,
           "avpgan_model_load_file(a face model)");
    msg = avpgan_last_error();
    check(strstr(msg, "avpgan_face_model_load_file") != NULL && vm == NULL, msg,
          "loading a face model as a voice model names the right loader");

    expect(avpgan_face_model_load_file(face_path, NULL, &fm), AVPGAN_OK, "avpgan_face_model_load_file(%s)", face_path);
    if (fm == NULL) return;
    memset(&fi, 0, sizeof fi);
    expect(avpgan_face_model_get_info(fm, &fi), AVPGAN_E_INVALID_ARGUMENT, "face info with struct_size 0");
    fi.struct_size = sizeof fi;
    expect(avpgan_face_model_get_info(fm, &fi), AVPGAN_OK, "avpgan_face_model_get_info");
    check(fi.input_size == 112 && fi.embed_dim >= 1 && fi.embed_dim <= 1024 && fi.n_parameters > 0 && fi.input_std > 0,
          "implausible info", "face info: %s, input %u, embed_dim %u, %llu parameters", fi.arch_name,
          (unsigned)fi.input_size, (unsigned)fi.embed_dim, (unsigned long long)fi.n_parameters);
    D = fi.embed_dim;

    image = malloc(w * h * 3);
    padded = malloc((w * 3 + 5) * h);
    e1 = malloc(D * sizeof(float));
    e2 = malloc(D * sizeof(float));
    if (!image || !padded || !e1 || !e2) { check(0, "out of memory", "face test buffers"); goto done; }
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (c = 0; c < 3; c++) {
                uint8_t v = (uint8_t)((x * 7 + y * 13 + c * 50 + (x * y) % 17) & 0xFF);
                image[(y * w + x) * 3 + c] = v;
                padded[y * (w * 3 + 5) + x * 3 + c] = v;
            }

    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, 0, NULL, 0, &needed), AVPGAN_OK, "face embed size query");
    check(needed == D, "wrong size", "the size query reports embed_dim (%lu)", (unsigned long)needed);
    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, 0, e1, D - 1, &needed), AVPGAN_E_BUFFER_TOO_SMALL,
           "face embed into D - 1 floats");
    expect(avpgan_face_model_embed_rgb8(fm, image, 0, h, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "face embed width 0");
    expect(avpgan_face_model_embed_rgb8(fm, image, w, 16385, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "face embed height 16385");
    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, w * 3 - 1, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "face embed row_stride < width * 3");
    expect(avpgan_face_model_embed_rgb8(fm, NULL, w, h, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "face embed NULL pixels");
    expect(avpgan_face_model_embed_rgb8(NULL, image, w, h, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "face embed NULL model");
    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, 0, e1, D, NULL), AVPGAN_OK, "face embed %lux%lu", (unsigned long)w,
           (unsigned long)h);
    expect(avpgan_face_model_embed_rgb8(fm, padded, w, h, w * 3 + 5, e2, D, NULL), AVPGAN_OK, "face embed with row padding");
    check(memcmp(e1, e2, D * sizeof(float)) == 0, "embeddings differ", "row_stride padding gives the same embedding");

    expect(avpgan_cosine(e1, e2, D, &sim), AVPGAN_OK, "avpgan_cosine(e, e)");
    check(fabsf(sim - 1) < 1e-6f, "not 1", "cosine of an embedding with itself is 1 (%.8f)", (double)sim);
    for (i = 0; i < (int)D; i++) e2[i] = -e1[i];
    expect(avpgan_cosine(e1, e2, D, &sim), AVPGAN_OK, "avpgan_cosine(e, -e)");
    check(fabsf(sim + 1) < 1e-6f, "not -1", "cosine with the negated embedding is -1 (%.8f)", (double)sim);
    expect(avpgan_cosine(e1, zero, 4, &sim), AVPGAN_OK, "avpgan_cosine(e, 0)");
    check(sim == 0, "not 0", "cosine with a zero vector is 0");
    memcpy(nan4, e1, sizeof nan4);
    nan4[2] = strtof("nan", NULL);
    expect(avpgan_cosine(e1, nan4, 4, &sim), AVPGAN_E_INVALID_ARGUMENT, "avpgan_cosine with a NaN");
    expect(avpgan_cosine(e1, e1, 0, &sim), AVPGAN_E_INVALID_ARGUMENT, "avpgan_cosine with n = 0");
    expect(avpgan_cosine(e1, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_cosine with NULL out");

    /* The same model from a buffer, and a truncated buffer. */
    bytes = read_file(face_path, &size);
    if (bytes != NULL) {
        expect(avpgan_face_model_load_buffer(bytes, size, NULL, &fm2), AVPGAN_OK, "avpgan_face_model_load_buffer");
        if (fm2 != NULL) {
            expect(avpgan_face_model_embed_rgb8(fm2, image, w, h, 0, e2, D, NULL), AVPGAN_OK, "face embed (buffer-loaded)");
            check(memcmp(e1, e2, D * sizeof(float)) == 0, "embeddings differ", "file- and buffer-loaded face models agree");
            avpgan_face_model_free(fm2);
        }
        fm2 = (avpgan_face_model *)&sentinel_target;
        expect(avpgan_face_model_load_buffer(bytes, size / 2, NULL, &fm2), AVPGAN_E_MODEL_FORMAT, "a truncated face model");
        check(fm2 == NULL, "out not cleared", "a failed buffer load sets *out_model to NULL");
        free(bytes);
    }

    /* Four threads embed at once and get the sequential result. */
    for (i = 0; i < 4; i++) {
        jobs[i].model = fm;
        jobs[i].image = image;
        jobs[i].width = w;
        jobs[i].height = h;
        jobs[i].status = AVPGAN_OK;
        pthread_create(&threads[i], NULL, face_thread, &jobs[i]);
    }
    same = 1;
    for (i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        same = same && jobs[i].status == AVPGAN_OK && memcmp(jobs[i].out, e1, D * sizeof(float)) == 0;
    }
    check(same, "a thread failed or differed", "4 threads embedding with one face model agree with the sequential result");

done:
    avpgan_face_model_free(fm);
    avpgan_face_model_free(NULL);
    free(image);
    free(padded);
    free(e1);
    free(e2);
}

int main(int argc, char **argv)
{
    const char *path;
    unsigned char *file = NULL, *copy = NULL;
    size_t file_size = 0;
    avpgan_model *model = NULL, *m = NULL;
    avpgan_model_params mp;
    avpgan_generate_params gp;
    avpgan_model_info info;
    size_t E, M, S, T = 37, needed;
    float *features = NULL, *embedding = NULL, *embs = NULL, *images = NULL, *big = NULL;
    uint8_t *pixels = NULL;
    char tmp_path[] = "/tmp/avpgan-test-api-XXXXXX";
    int tmp_fd;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.safetensors [DATA [FACE_MODEL.safetensors]]\n", argv[0]);
        return 2;
    }
    path = argv[1];

    /* ---- version and status strings ---- */
    {
        const char *v = avpgan_version();
        uint32_t n = avpgan_version_number();
        char buf[64];
        int codes[] = {AVPGAN_OK, AVPGAN_E_INVALID_ARGUMENT, AVPGAN_E_BUFFER_TOO_SMALL,
                       AVPGAN_E_OUT_OF_MEMORY, AVPGAN_E_IO, AVPGAN_E_MODEL_FORMAT,
                       AVPGAN_E_UNSUPPORTED, AVPGAN_E_MISSING_NETWORK, AVPGAN_E_AUDIO_FORMAT,
                       AVPGAN_E_NO_SPEECH, AVPGAN_E_ABORTED, AVPGAN_E_INTERNAL};
        int unknown[] = {1, -11, -99, -101, 12345, -2147483647 - 1};
        size_t i;
        snprintf(buf, sizeof buf, "%u.%u.%u", (unsigned)(n / 10000), (unsigned)(n / 100 % 100),
                 (unsigned)(n % 100));
        check(v != NULL && strcmp(v, buf) == 0, v ? v : "(NULL)",
              "avpgan_version() \"%s\" agrees with avpgan_version_number() %u", v ? v : "(NULL)",
              (unsigned)n);
        check(AVPGAN_VERSION_COMPATIBLE(), "incompatible", "AVPGAN_VERSION_COMPATIBLE(): library %u serves header %d",
              (unsigned)n, AVPGAN_VERSION_NUMBER);
        check(n / 10000 == AVPGAN_VERSION_MAJOR, "major version differs",
              "library major version %u == header's %d", (unsigned)(n / 10000),
              AVPGAN_VERSION_MAJOR);
        for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            const char *s = avpgan_status_string((avpgan_status)codes[i]);
            check(s != NULL && s[0] != '\0', "NULL or empty", "avpgan_status_string(%s) = \"%s\"",
                  status_name(codes[i]), s ? s : "(NULL)");
        }
        for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
            const char *s = avpgan_status_string((avpgan_status)unknown[i]);
            check(s != NULL && strcmp(s, "unknown status") == 0, s ? s : "(NULL)",
                  "avpgan_status_string(%d) = \"unknown status\"", unknown[i]);
        }
    }

    /* ---- params_init ---- */
    expect(avpgan_model_params_init(NULL, sizeof mp), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(NULL, sizeof)");
    expect(avpgan_model_params_init(&mp, 0), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(&p, 0)");
    expect(avpgan_model_params_init(&mp, 3), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(&p, 3)");
    expect(avpgan_model_params_init(&mp, sizeof mp - 1), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(&p, sizeof - 1)");
    {
        /* A caller built against a later header passes a larger struct: the known fields get
           their defaults, the unknown tail is zeroed; a non-zero tail on input is refused. */
        union { avpgan_model_params p; unsigned char bytes[sizeof(avpgan_model_params) + 8]; } big;
        size_t i, tail_zero = 1;
        memset(&big, 0xAB, sizeof big);
        expect(avpgan_model_params_init(&big.p, sizeof big), AVPGAN_OK,
               "avpgan_model_params_init(&p, sizeof + 8) (a newer header's larger struct)");
        for (i = sizeof(avpgan_model_params); i < sizeof big; i++) tail_zero &= big.bytes[i] == 0;
        check(tail_zero && big.p.inference_only == 1 && big.p.struct_size == sizeof big, "tail not zeroed or defaults wrong",
              "avpgan_model_params_init(larger struct) sets defaults and zeroes the unknown tail");
        big.bytes[sizeof big - 1] = 1;
        {
            avpgan_model *m2 = NULL;
            expect(avpgan_model_load_file(path, &big.p, &m2), AVPGAN_E_UNSUPPORTED,
                   "avpgan_model_load_file(params with an unknown non-zero field)");
            avpgan_model_free(m2);
        }
    }
    expect(avpgan_model_params_init(&mp, sizeof mp), AVPGAN_OK, "avpgan_model_params_init(&p, sizeof)");
    check(mp.struct_size == sizeof mp && mp.max_header_bytes == 0 && mp.inference_only == 1,
          "wrong defaults",
          "avpgan_model_params_init defaults (struct_size %lu, max_header_bytes %llu, inference_only %d)",
          (unsigned long)mp.struct_size, (unsigned long long)mp.max_header_bytes,
          (int)mp.inference_only);
    expect(avpgan_generate_params_init(NULL, sizeof gp), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_generate_params_init(NULL, sizeof)");
    expect(avpgan_generate_params_init(&gp, 0), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_generate_params_init(&p, 0)");
    {
        union { avpgan_generate_params p; unsigned char bytes[sizeof(avpgan_generate_params) + 8]; } big;
        memset(&big, 0xAB, sizeof big);
        expect(avpgan_generate_params_init(&big.p, sizeof big), AVPGAN_OK,
               "avpgan_generate_params_init(&p, sizeof + 8) (a newer header's larger struct)");
        check(big.p.pixels == AVPGAN_PIXELS_MODEL_DEFAULT && big.bytes[sizeof big - 1] == 0, "defaults or tail wrong",
              "avpgan_generate_params_init(larger struct) sets defaults and zeroes the unknown tail");
    }
    expect(avpgan_generate_params_init(&gp, sizeof gp), AVPGAN_OK,
           "avpgan_generate_params_init(&p, sizeof)");
    check(gp.struct_size == sizeof gp && gp.pixels == AVPGAN_PIXELS_MODEL_DEFAULT, "wrong defaults",
          "avpgan_generate_params_init defaults (pixels %d)", (int)gp.pixels);

    /* ---- audio decoding and PNG encoding: misuse ---- */
    {
        /* A 0.1 s, 16-bit mono WAV at 8 kHz made here. */
        unsigned char wav[44 + 1600];
        unsigned i;
        size_t needed = 0;
        float tiny[4];
        avpgan_audio_info ai;
        uint8_t px[2 * 2 * 3] = {0}, pngbuf[8];
        memset(wav, 0, sizeof wav);
        memcpy(wav, "RIFF", 4); wav[4] = (unsigned char)((36 + 1600) & 255); wav[5] = (unsigned char)((36 + 1600) >> 8);
        memcpy(wav + 8, "WAVEfmt ", 8); wav[16] = 16; wav[20] = 1; wav[22] = 1;
        wav[24] = 0x40; wav[25] = 0x1f; /* 8000 Hz */ wav[28] = 0x80; wav[29] = 0x3e; /* bytes/s */ wav[32] = 2; wav[34] = 16;
        memcpy(wav + 36, "data", 4); wav[40] = 1600 & 255; wav[41] = 1600 >> 8;
        for (i = 0; i < 800; i++) { short v = (short)((i % 40) * 500 - 10000); wav[44 + 2 * i] = (unsigned char)(v & 255); wav[45 + 2 * i] = (unsigned char)((v >> 8) & 255); }
        memset(&ai, 0, sizeof ai);
        ai.struct_size = sizeof ai;
        expect(avpgan_decode_buffer(wav, sizeof wav, 16000, NULL, 0, &needed, &ai), AVPGAN_OK,
               "avpgan_decode_buffer(NULL, 0) size query");
        check(needed == 1600 && ai.sample_rate == 16000 && ai.original_rate == 8000 && ai.channels == 1, "wrong info",
              "decode size query: needed %lu, rate %u <- %u, channels %u, format \"%s\"", (unsigned long)needed,
              (unsigned)ai.sample_rate, (unsigned)ai.original_rate, (unsigned)ai.channels, ai.format);
        expect(avpgan_decode_buffer(wav, sizeof wav, 16000, tiny, 4, &needed, NULL), AVPGAN_E_BUFFER_TOO_SMALL,
               "avpgan_decode_buffer(short buffer)");
        expect(avpgan_decode_buffer(NULL, 10, 16000, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_decode_buffer(NULL data)");
        expect(avpgan_decode_buffer(wav, sizeof wav, 7, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_decode_buffer(target_rate 7)");
        expect(avpgan_decode_buffer(wav, 20, 16000, NULL, 0, &needed, NULL), AVPGAN_E_AUDIO_FORMAT,
               "avpgan_decode_buffer(truncated header)");
        expect(avpgan_decode_file(NULL, 16000, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_decode_file(NULL path)");
        expect(avpgan_decode_file("/nonexistent/voice.wav", 16000, NULL, 0, &needed, NULL), AVPGAN_E_IO,
               "avpgan_decode_file(missing file)");
        expect(avpgan_decode_file("/", 16000, NULL, 0, &needed, NULL), AVPGAN_E_IO, "avpgan_decode_file(a directory)");
        ai.struct_size = 3;
        expect(avpgan_decode_buffer(wav, sizeof wav, 0, NULL, 0, &needed, &ai), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_decode_buffer(info.struct_size 3)");
        expect(avpgan_png_encode(NULL, 2, 2, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "avpgan_png_encode(NULL pixels)");
        expect(avpgan_png_encode(px, 0, 2, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "avpgan_png_encode(width 0)");
        expect(avpgan_png_encode(px, 2, 2, NULL, 0, &needed), AVPGAN_OK, "avpgan_png_encode size query");
        expect(avpgan_png_encode(px, 2, 2, pngbuf, sizeof pngbuf, &needed), AVPGAN_E_BUFFER_TOO_SMALL,
               "avpgan_png_encode(8-byte buffer)");
    }

    /* ---- features and portraits: misuse and no speech ---- */
    {
        avpgan_model *pm = NULL;
        avpgan_portrait_params pp;
        avpgan_frontend_params fp;
        avpgan_features_info fi;
        avpgan_portrait_info pi;
        static float silence[16000];
        float one[4] = {0, 0.5f, 0, 0};
        uint8_t face[64 * 64 * 3];
        size_t needed = 0;
        FILE *probe;
        expect(avpgan_model_load_file(path, NULL, &pm), AVPGAN_OK, "load model for portraits");
        expect(avpgan_portrait_params_init(&pp, sizeof pp), AVPGAN_OK, "avpgan_portrait_params_init");
        check(pp.vad == 1 && pp.vad_mode == 2 && pp.seconds == 0 && pp.provenance == 1 && pp.timestamp == 0 && pp.noise == 0,
              "wrong defaults", "avpgan_portrait_params_init defaults");
        expect(avpgan_frontend_params_init(&fp, sizeof fp), AVPGAN_OK, "avpgan_frontend_params_init");
        fi.struct_size = sizeof fi;
        pi.struct_size = sizeof pi;
        expect(avpgan_features_from_pcm(silence, 16000, 16000, &fp, NULL, 0, &needed, &fi), AVPGAN_E_NO_SPEECH,
               "avpgan_features_from_pcm(1 s of silence)");
        expect(avpgan_features_from_pcm(silence, 0, 16000, NULL, NULL, 0, &needed, NULL), AVPGAN_E_NO_SPEECH,
               "avpgan_features_from_pcm(0 samples)");
        expect(avpgan_features_from_pcm(NULL, 100, 16000, NULL, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_features_from_pcm(NULL samples)");
        fp.vad_mode = 7;
        expect(avpgan_features_from_pcm(silence, 16000, 16000, &fp, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_features_from_pcm(vad_mode 7)");
        fp.vad_mode = 2;
        fp.vad = 0;
        expect(avpgan_features_from_pcm(one, 4, 16000, &fp, NULL, 0, &needed, &fi), AVPGAN_OK,
               "avpgan_features_from_pcm(4 samples, VAD off) size query");
        check(needed == 1000 * 64 && fi.n_frames == 1000 && fi.n_computed == 1, "wrong sizes",
              "features of 4 samples: needed %lu, frames %u, computed %u", (unsigned long)needed, (unsigned)fi.n_frames,
              (unsigned)fi.n_computed);
        expect(avpgan_portrait_pcm(NULL, one, 4, 16000, NULL, face, sizeof face, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_portrait_pcm(NULL model)");
        expect(avpgan_portrait_pcm(pm, silence, 16000, 16000, NULL, face, sizeof face, &needed, &pi), AVPGAN_E_NO_SPEECH,
               "avpgan_portrait_pcm(silence)");
        expect(avpgan_portrait_pcm(pm, one, 4, 16000, NULL, face, 10, &needed, NULL), AVPGAN_E_BUFFER_TOO_SMALL,
               "avpgan_portrait_pcm(10-byte buffer)");
        pp.vad = 0;
        pp.pixels = 9;
        expect(avpgan_portrait_pcm(pm, one, 4, 16000, &pp, face, sizeof face, &needed, &pi), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_portrait_pcm(pixels 9)");
        pp.pixels = AVPGAN_PIXELS_CLAMP;
        expect(avpgan_portrait_pcm(pm, one, 4, 16000, &pp, face, sizeof face, &needed, &pi), AVPGAN_OK,
               "avpgan_portrait_pcm(4 samples, VAD off)");
        check(pi.embed_dim == 16 && pi.n_frames == 1000, "wrong info", "portrait info: embed_dim %u, frames %u",
              (unsigned)pi.embed_dim, (unsigned)pi.n_frames);
        expect(avpgan_portrait_file(pm, NULL, "/tmp/x.png", NULL, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_portrait_file(NULL voice)");
        expect(avpgan_portrait_file(pm, "/nonexistent/v.wav", "/tmp/avpgan-test-never.png", NULL, NULL), AVPGAN_E_IO,
               "avpgan_portrait_file(missing voice)");
        expect(avpgan_portrait_file(pm, path, "/tmp/avpgan-test-never.png", NULL, NULL), AVPGAN_E_AUDIO_FORMAT,
               "avpgan_portrait_file(a model file as the voice)");
        probe = fopen("/tmp/avpgan-test-never.png", "rb");
        check(probe == NULL, "a PNG was written", "avpgan_portrait_file writes nothing on failure");
        if (probe) fclose(probe);
        avpgan_model_free(pm);
    }

    /* ---- threads setting ---- */
    {
        int32_t before = avpgan_get_num_threads();
        check(before >= 1, "not positive", "avpgan_get_num_threads() = %d", (int)before);
        expect(avpgan_set_num_threads(-1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_set_num_threads(-1)");
        expect(avpgan_set_num_threads(before), AVPGAN_OK, "avpgan_set_num_threads(%d)", (int)before);
    }

    /* ---- loading: NULL pointers ---- */
    m = SENTINEL;
    expect(avpgan_model_load_file(NULL, NULL, &m), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_file(NULL path)");
    check(m == NULL, "*out_model was not set to NULL", "avpgan_model_load_file failure sets *out_model = NULL");
    expect(avpgan_model_load_file(path, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_file(out_model NULL)");
    m = SENTINEL;
    expect(avpgan_model_load_buffer(NULL, 100, NULL, &m), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_buffer(NULL data, 100)");
    check(m == NULL, "*out_model was not set to NULL", "avpgan_model_load_buffer failure sets *out_model = NULL");

    file = read_file(path, &file_size);
    if (file == NULL) {
        fprintf(stderr, "test_api: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    expect(avpgan_model_load_buffer(file, file_size, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_buffer(out_model NULL)");

    /* ---- loading: bad files ---- */
    m = SENTINEL;
    expect(avpgan_model_load_file("/nonexistent-avpgan-dir/none.safetensors", NULL, &m), AVPGAN_E_IO,
           "avpgan_model_load_file(nonexistent path)");
    check(m == NULL, "*out_model was not set to NULL", "failed load_file leaves *out_model NULL");
    m = SENTINEL;
    expect(avpgan_model_load_file("/tmp", NULL, &m), AVPGAN_E_IO, "avpgan_model_load_file(\"/tmp\", a directory)");
    check(m == NULL, "*out_model was not set to NULL", "failed load_file leaves *out_model NULL");
    {
        unsigned char noise[4096];
        unsigned char empty[1] = {0};
        size_t i;
        for (i = 0; i < sizeof noise; i++) {
            noise[i] = (unsigned char)(uniform() * 256.0);
        }
        m = SENTINEL;
        expect(avpgan_model_load_buffer(noise, sizeof noise, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(4096 random bytes)");
        check(m == NULL, "*out_model was not set to NULL", "failed load_buffer leaves *out_model NULL");
        /* A small header length followed by garbage. */
        noise[0] = 16;
        for (i = 1; i < 8; i++) {
            noise[i] = 0;
        }
        expect(avpgan_model_load_buffer(noise, sizeof noise, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(header length 16 + random bytes)");
        expect(avpgan_model_load_buffer(empty, 0, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(0 bytes)");
        expect(avpgan_model_load_buffer(file, 7, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(first 7 bytes)");
        expect(avpgan_model_load_buffer(file, 8, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(first 8 bytes)");
        expect(avpgan_model_load_buffer(file, file_size / 2, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(first half of the model file)");
        expect(avpgan_model_load_buffer(file, file_size - 1, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(model file minus its last byte)");
    }
    tmp_fd = mkstemp(tmp_path);
    if (tmp_fd >= 0) {
        close(tmp_fd);
        if (write_file(tmp_path, file, file_size / 2) == 0) {
            m = SENTINEL;
            expect(avpgan_model_load_file(tmp_path, NULL, &m), AVPGAN_E_MODEL_FORMAT,
                   "avpgan_model_load_file(truncated copy of the model file)");
            check(m == NULL, "*out_model was not set to NULL", "failed load_file leaves *out_model NULL");
        } else {
            check(0, tmp_path, "write a truncated copy of the model file");
        }
        remove(tmp_path);
    } else {
        check(0, strerror(errno), "create a temporary file");
    }
    /* A format newer than the library: same length, so the framing is intact. */
    copy = malloc(file_size);
    if (copy != NULL) {
        const char *key = "\"avpgan.format\"";
        size_t klen = strlen(key), i, hit = 0;
        memcpy(copy, file, file_size);
        for (i = 8; i + klen < file_size && i < 8 + 1000000; i++) {
            if (memcmp(copy + i, key, klen) == 0) {
                size_t j = i + klen;
                while (j < file_size && (copy[j] == ' ' || copy[j] == ':')) {
                    j++;
                }
                if (j + 2 < file_size && copy[j] == '"' && copy[j + 1] == '1' && copy[j + 2] == '"') {
                    copy[j + 1] = '9';
                    hit = 1;
                }
                break;
            }
        }
        if (hit) {
            expect(avpgan_model_load_buffer(copy, file_size, NULL, &m), AVPGAN_E_UNSUPPORTED,
                   "avpgan_model_load_buffer(model with avpgan.format \"9\")");
        } else {
            printf("skip avpgan.format \"9\": no \"avpgan.format\":\"1\" found in the header\n");
        }
    }
    /* A header cap smaller than the header. */
    expect(avpgan_model_params_init(&mp, sizeof mp), AVPGAN_OK, "avpgan_model_params_init");
    mp.max_header_bytes = 16;
    expect(avpgan_model_load_buffer(file, file_size, &mp, &m), AVPGAN_E_MODEL_FORMAT,
           "avpgan_model_load_buffer(max_header_bytes 16)");
    /* A params struct whose struct_size is wrong. */
    mp.max_header_bytes = 0;
    mp.struct_size = 0;
    expect(avpgan_model_load_buffer(file, file_size, &mp, &m), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_buffer(params.struct_size 0)");
    mp.struct_size = sizeof mp;

    /* ---- a good load ---- */
    expect(avpgan_model_load_file(path, NULL, &model), AVPGAN_OK, "avpgan_model_load_file(%s)", path);
    if (model == NULL) {
        printf("api: %d passed, %d failed\n", n_passed, n_failed + 1);
        return 1;
    }
    expect(avpgan_model_load_buffer(file, file_size, &mp, &m), AVPGAN_OK,
           "avpgan_model_load_buffer(the model file, default params)");
    avpgan_model_free(m);
    m = NULL;
    avpgan_model_free(NULL);
    check(1, NULL, "avpgan_model_free(NULL) returns");

    /* ---- get_info ---- */
    memset(&info, 0, sizeof info);
    expect(avpgan_model_get_info(NULL, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(NULL model)");
    expect(avpgan_model_get_info(model, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(NULL info)");
    info.struct_size = 0;
    expect(avpgan_model_get_info(model, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(struct_size 0)");
    info.struct_size = 3;
    expect(avpgan_model_get_info(model, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(struct_size 3)");
    info.struct_size = sizeof info - 1;
    expect(avpgan_model_get_info(model, &info), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_get_info(struct_size sizeof - 1)");
    {
        /* A caller built against a later header passes a larger struct. */
        union {
            avpgan_model_info info;
            unsigned char bytes[sizeof(avpgan_model_info) + 64];
        } bigger;
        memset(&bigger, 0, sizeof bigger);
        bigger.info.struct_size = sizeof bigger;
        expect(avpgan_model_get_info(model, &bigger.info), AVPGAN_OK,
               "avpgan_model_get_info(struct_size sizeof + 64)");
        check(bigger.info.embed_dim > 0 && bigger.info.struct_size == sizeof bigger, "fields not filled",
              "avpgan_model_get_info(larger struct) fills the known fields");
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    expect(avpgan_model_get_info(model, &info), AVPGAN_OK, "avpgan_model_get_info(sizeof)");
    check(strcmp(info.arch_name, "avpgan") == 0 && info.arch == AVPGAN_ARCH_AVPGAN, info.arch_name,
          "info: arch %d \"%s\"", (int)info.arch, info.arch_name);
    check(info.n_mels > 0 && info.embed_dim > 0 && info.image_size > 0 && info.image_channels == 3,
          "zero sizes", "info: n_mels %u embed_dim %u image %ux%ux%u", (unsigned)info.n_mels,
          (unsigned)info.embed_dim, (unsigned)info.image_size, (unsigned)info.image_size,
          (unsigned)info.image_channels);
    check(info.n_voice_widths >= 1 && info.n_voice_widths <= AVPGAN_MAX_LAYERS &&
              info.n_generator_widths >= 1 && info.n_generator_widths <= AVPGAN_MAX_LAYERS &&
              info.image_size == 4u << (info.n_generator_widths - 1),
          "inconsistent widths", "info: %u voice widths, %u generator widths, image_size = 4 * 2^(L-1)",
          (unsigned)info.n_voice_widths, (unsigned)info.n_generator_widths);
    check(info.n_face_widths == 0 && info.n_identities == 0, "heads reported for inference_only",
          "info: inference-only load has no face encoder/classifier");
    check(info.default_pixels == AVPGAN_PIXELS_CLAMP || info.default_pixels == AVPGAN_PIXELS_MINMAX,
          "MODEL_DEFAULT or unknown", "info: default_pixels %d", (int)info.default_pixels);
    check(info.n_parameters > 0, "zero", "info: n_parameters %llu", (unsigned long long)info.n_parameters);
    g_model = model;
    g_info = info;

    E = info.embed_dim;
    M = info.n_mels;
    S = info.image_size;
    features = malloc(T * M * sizeof(float));
    embedding = malloc((E + 1) * sizeof(float));
    embs = malloc(2 * E * sizeof(float));
    images = malloc(2 * 3 * S * S * sizeof(float));
    pixels = malloc(2 * S * S * 3);
    big = calloc((size_t)65537 * E, sizeof(float));
    if (!features || !embedding || !embs || !images || !pixels || !big) {
        fprintf(stderr, "test_api: out of memory\n");
        return 2;
    }
    fill_uniform(features, T * M, -2.0, 2.0);
    fill_uniform(embs, 2 * E, -0.3, 0.3);

    /* ---- embed ---- */
    expect(avpgan_model_embed(NULL, features, T, M, embedding, E, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_embed(NULL model)");
    expect(avpgan_model_embed(model, NULL, T, M, embedding, E, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_embed(NULL features)");
    expect(avpgan_model_embed(model, features, T, M, NULL, E, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_embed(NULL embedding, capacity E)");
    expect(avpgan_model_embed(model, features, 0, M, embedding, E, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_embed(n_frames 0)");
    expect(avpgan_model_embed(model, features, T, M - 1, embedding, E, &needed),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_embed(n_mels %lu, model has %lu)",
           (unsigned long)(M - 1), (unsigned long)M);
    expect(avpgan_model_embed(model, features, T - 1, M + 1, embedding, E, &needed),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_embed(n_mels %lu, model has %lu)",
           (unsigned long)(M + 1), (unsigned long)M);
    expect(avpgan_model_embed(model, features, T, 0, embedding, E, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_embed(n_mels 0)");
    {
        float saved = features[5 * M + 3];
        features[5 * M + 3] = strtof("nan", NULL);
        expect(avpgan_model_embed(model, features, T, M, embedding, E, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_embed(a NaN in the features)");
        features[5 * M + 3] = strtof("inf", NULL);
        expect(avpgan_model_embed(model, features, T, M, embedding, E, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_embed(+inf in the features)");
        features[(T - 1) * M + M - 1] = strtof("-inf", NULL);
        features[5 * M + 3] = saved;
        expect(avpgan_model_embed(model, features, T, M, embedding, E, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_embed(-inf in the last feature)");
        features[(T - 1) * M + M - 1] = 0.5f;
    }
    needed = 0;
    expect(avpgan_model_embed(model, features, T, M, embedding, E - 1, &needed),
           AVPGAN_E_BUFFER_TOO_SMALL, "avpgan_model_embed(capacity E - 1)");
    check(needed == E, "wrong *needed", "avpgan_model_embed short buffer: *needed %lu == E %lu",
          (unsigned long)needed, (unsigned long)E);
    needed = 0;
    expect(avpgan_model_embed(model, features, T, M, NULL, 0, &needed), AVPGAN_OK,
           "avpgan_model_embed(NULL, 0) size query");
    check(needed == E, "wrong *needed", "avpgan_model_embed size query: *needed %lu == E %lu",
          (unsigned long)needed, (unsigned long)E);
    needed = 0;
    expect(avpgan_model_embed(model, features, T, M, embedding, E + 1, &needed), AVPGAN_OK,
           "avpgan_model_embed(capacity E + 1)");
    check(needed == E, "wrong *needed", "avpgan_model_embed: *needed %lu == E %lu", (unsigned long)needed,
          (unsigned long)E);
    {
        double norm2 = 0.0;
        size_t i;
        for (i = 0; i < E; i++) {
            norm2 += (double)embedding[i] * embedding[i];
        }
        check(norm2 > 0.9998 && norm2 < 1.0002, "not a unit vector", "avpgan_model_embed: |e|^2 = %.6f",
              norm2);
    }
    expect(avpgan_model_embed(model, features, 1, M, embedding, E, NULL), AVPGAN_OK,
           "avpgan_model_embed(1 frame, needed NULL)");

    /* last_error is "" after a successful call that follows a failure. */
    avpgan_model_embed(model, features, 0, M, embedding, E, &needed);
    expect(avpgan_model_get_info(model, &info), AVPGAN_OK,
           "avpgan_model_get_info after a failure (last_error reset to \"\")");
    avpgan_model_embed(model, features, 0, M, embedding, E, &needed);
    expect(avpgan_model_params_init(&mp, sizeof mp), AVPGAN_OK,
           "avpgan_model_params_init after a failure (last_error reset to \"\")");
    avpgan_model_load_file("/nonexistent-avpgan-dir/x", NULL, &m);
    expect(avpgan_model_embed(model, features, T, M, embedding, E, &needed), AVPGAN_OK,
           "avpgan_model_embed after a failure (last_error reset to \"\")");

    /* ---- generate (raw) ---- */
    {
        size_t want = 2 * 3 * S * S;
        expect(avpgan_model_generate(NULL, embs, 2, E, images, want, &needed), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_model_generate(NULL model)");
        expect(avpgan_model_generate(model, NULL, 2, E, images, want, &needed), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_model_generate(NULL embeddings)");
        expect(avpgan_model_generate(model, embs, 2, E, NULL, want, &needed), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_model_generate(NULL images, capacity > 0)");
        expect(avpgan_model_generate(model, embs, 0, E, images, want, &needed), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_model_generate(n 0)");
        expect(avpgan_model_generate(model, embs, 2, E - 1, images, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate(embed_dim E - 1)");
        expect(avpgan_model_generate(model, embs, 1, E + 1, images, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate(embed_dim E + 1)");
        expect(avpgan_model_generate(model, big, 65537, E, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_model_generate(n 65537, size query)");
        embs[E + 2] = strtof("nan", NULL);
        expect(avpgan_model_generate(model, embs, 2, E, images, want, &needed), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_model_generate(a NaN in the embeddings)");
        embs[E + 2] = 0.1f;
        needed = 0;
        expect(avpgan_model_generate(model, embs, 2, E, images, want - 1, &needed),
               AVPGAN_E_BUFFER_TOO_SMALL, "avpgan_model_generate(capacity n*3*S*S - 1)");
        check(needed == want, "wrong *needed", "avpgan_model_generate short buffer: *needed %lu == %lu",
              (unsigned long)needed, (unsigned long)want);
        needed = 0;
        expect(avpgan_model_generate(model, embs, 2, E, NULL, 0, &needed), AVPGAN_OK,
               "avpgan_model_generate(NULL, 0) size query");
        check(needed == want, "wrong *needed", "avpgan_model_generate size query: *needed %lu == %lu",
              (unsigned long)needed, (unsigned long)want);
        needed = 0;
        expect(avpgan_model_generate(model, embs, 2, E, images, want, &needed), AVPGAN_OK,
               "avpgan_model_generate(n 2)");
        check(needed == want, "wrong *needed", "avpgan_model_generate: *needed %lu == %lu",
              (unsigned long)needed, (unsigned long)want);
    }

    /* ---- generate_rgb8 ---- */
    {
        size_t want = 2 * S * S * 3;
        int bad_pixels[] = {-1, 3, 99};
        size_t i;
        expect(avpgan_generate_params_init(&gp, sizeof gp), AVPGAN_OK, "avpgan_generate_params_init");
        expect(avpgan_model_generate_rgb8(NULL, embs, 2, E, &gp, pixels, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(NULL model)");
        expect(avpgan_model_generate_rgb8(model, NULL, 2, E, &gp, pixels, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(NULL embeddings)");
        expect(avpgan_model_generate_rgb8(model, embs, 2, E, &gp, NULL, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(NULL pixels, capacity > 0)");
        expect(avpgan_model_generate_rgb8(model, embs, 0, E, &gp, pixels, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(n 0)");
        expect(avpgan_model_generate_rgb8(model, embs, 2, E - 1, &gp, pixels, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(embed_dim E - 1)");
        expect(avpgan_model_generate_rgb8(model, big, 65537, E, &gp, NULL, 0, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(n 65537, size query)");
        for (i = 0; i < sizeof bad_pixels / sizeof bad_pixels[0]; i++) {
            gp.pixels = bad_pixels[i];
            expect(avpgan_model_generate_rgb8(model, embs, 2, E, &gp, pixels, want, &needed),
                   AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(pixels %d)", bad_pixels[i]);
        }
        gp.pixels = AVPGAN_PIXELS_CLAMP;
        gp.struct_size = 0;
        expect(avpgan_model_generate_rgb8(model, embs, 2, E, &gp, pixels, want, &needed),
               AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_generate_rgb8(params.struct_size 0)");
        gp.struct_size = sizeof gp;
        needed = 0;
        expect(avpgan_model_generate_rgb8(model, embs, 2, E, &gp, pixels, want - 1, &needed),
               AVPGAN_E_BUFFER_TOO_SMALL, "avpgan_model_generate_rgb8(capacity n*S*S*3 - 1)");
        check(needed == want, "wrong *needed", "avpgan_model_generate_rgb8 short buffer: *needed %lu == %lu",
              (unsigned long)needed, (unsigned long)want);
        needed = 0;
        expect(avpgan_model_generate_rgb8(model, embs, 2, E, &gp, NULL, 0, &needed), AVPGAN_OK,
               "avpgan_model_generate_rgb8(NULL, 0) size query");
        check(needed == want, "wrong *needed", "avpgan_model_generate_rgb8 size query: *needed %lu == %lu",
              (unsigned long)needed, (unsigned long)want);
        expect(avpgan_model_generate_rgb8(model, embs, 2, E, NULL, pixels, want, &needed), AVPGAN_OK,
               "avpgan_model_generate_rgb8(params NULL)");
        {
            /* clamp mapping of the raw output (the definition in avpgan.h) */
            size_t n, c, y, x, off = 0, worst = 0;
            gp.pixels = AVPGAN_PIXELS_CLAMP;
            expect(avpgan_model_generate_rgb8(model, embs, 2, E, &gp, pixels, want, NULL), AVPGAN_OK,
                   "avpgan_model_generate_rgb8(clamp, needed NULL)");
            for (n = 0; n < 2; n++) {
                for (c = 0; c < 3; c++) {
                    for (y = 0; y < S; y++) {
                        for (x = 0; x < S; x++) {
                            double v = images[((n * 3 + c) * S + y) * S + x];
                            long p;
                            size_t d;
                            v = v < -1.0 ? -1.0 : v > 1.0 ? 1.0 : v;
                            p = (long)((v + 1.0) / 2.0 * 255.0 + 0.5);
                            d = (size_t)labs(p - (long)pixels[((n * S + y) * S + x) * 3 + c]);
                            if (d) {
                                off++;
                            }
                            if (d > worst) {
                                worst = d;
                            }
                        }
                    }
                }
            }
            check(worst <= 1 && off <= 8, "pixels disagree with the raw output",
                  "generate_rgb8(clamp) is the clamp mapping of generate (interleaved RGB): "
                  "%lu values off by <= %lu",
                  (unsigned long)off, (unsigned long)worst);
        }
    }

    /* ---- threads ---- */
    {
        float *nan_features = malloc(T * M * sizeof(float));
        if (nan_features != NULL) {
            memcpy(nan_features, features, T * M * sizeof(float));
            nan_features[M + 1] = strtof("nan", NULL);
            test_last_error_thread_local(nan_features, T);
            free(nan_features);
        }
    }
    test_threads_share_model();
    if (argc >= 3) {
        test_trainer(path, argv[2]);
    }
    if (argc == 4) {
        test_face(argv[3], path);
    }

    avpgan_model_free(model);
    free(file);
    free(copy);
    free(features);
    free(embedding);
    free(embs);
    free(images);
    free(pixels);
    free(big);

    printf("api: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
