/* One model shared by many threads: the same results as one thread, and a last error per thread. */
#include "api.h"

/* ------------------------------------------------------------------------ */
/* The shared model and what the thread tests compute                        */
/* ------------------------------------------------------------------------ */

const avpgan_model *g_model;
avpgan_model_info g_info;

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

void test_threads_share_model(void)
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

void test_last_error_thread_local(const float *nan_features, size_t n_frames)
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

