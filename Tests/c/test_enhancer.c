/* The enhancer part of the C API: load, info, avpgan_enhance and avpgan_enhance_raw on
 * caller buffers, progress and abort, threads, the portrait params' enhancer, and every kind
 * of bad input (corrupt, truncated, wrong-kind files, NaN/Inf weights, wrong image size,
 * stride, buffers) giving a status and a message that names the cause.
 *
 *   test_enhancer ENHANCER.safetensors VOICE_MODEL.safetensors
 *
 * ENHANCER is a small enhancer (Tests/Fixtures/enhancer), VOICE_MODEL a voice-portrait model.
 * Prints one line per check; exits 1 when any check failed. */
#include "avpgan.h"

#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_passed, n_failed;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (ok) n_passed++; else n_failed++;
}

/* A status and, for an error, a non-empty message containing `needle` (when not NULL). */
static void expect(avpgan_status got, avpgan_status want, const char *needle, const char *what)
{
    const char *err = avpgan_last_error();
    int ok = got == want && (want == AVPGAN_OK ? err[0] == '\0' : err[0] != '\0')
             && (needle == NULL || strstr(err, needle) != NULL);
    printf("%s %s -> %s (got %s, \"%s\")\n", ok ? "ok  " : "FAIL", what, avpgan_status_string(want),
           avpgan_status_string(got), err);
    if (ok) n_passed++; else n_failed++;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) { free(data); data = NULL; }
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* The offset of the data buffer of a safetensors image: 8 + the u64 header length. */
static size_t data_start(const unsigned char *bytes)
{
    uint64_t n = 0;
    int i;
    for (i = 7; i >= 0; i--) n = (n << 8) | bytes[i];
    return 8 + (size_t)n;
}

/* Loads a copy of `bytes` with one float of the data buffer (at float index `at`, from the end
 * when negative) replaced by `value`; returns the status. */
static avpgan_status load_with_float(const unsigned char *bytes, size_t size, long at, float value)
{
    unsigned char *copy = malloc(size);
    size_t offset = at >= 0 ? data_start(bytes) + 4 * (size_t)at : size - 4 * (size_t)(-at);
    avpgan_enhancer *e = NULL;
    avpgan_status s;
    memcpy(copy, bytes, size);
    memcpy(copy + offset, &value, 4);
    s = avpgan_enhancer_load_buffer(copy, size, NULL, &e);
    free(copy);
    avpgan_enhancer_free(e);
    return s;
}

typedef struct {
    int calls, stop_after;
    uint64_t last_done, total;
} counter;

static void on_progress(uint64_t done, uint64_t total, void *user)
{
    counter *c = user;
    c->calls++;
    c->last_done = done;
    c->total = total;
}

static int on_abort(void *user)
{
    counter *c = user;
    return c->stop_after >= 0 && c->calls >= c->stop_after;
}

typedef struct {
    const avpgan_enhancer *e;
    const uint8_t *image;
    uint8_t *out;
    size_t out_size;
    avpgan_status status;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->status = avpgan_enhance(j->e, j->image, 20, 13, 0, NULL, j->out, j->out_size, NULL);
    return NULL;
}

int main(int argc, char **argv)
{
    avpgan_enhancer *e = NULL, *bad = (avpgan_enhancer *)&n_passed;
    avpgan_enhancer_info info;
    avpgan_enhance_params params;
    avpgan_model *model = NULL;
    unsigned char *bytes, *truncated;
    uint8_t image[13 * 20 * 3], padded[13 * 70];
    uint8_t *out, *out2;
    float *raw_in, *raw_out;
    size_t size, needed = 0, s, n_out, i;
    counter c;
    char what[160];

    if (argc != 3) {
        fprintf(stderr, "usage: %s ENHANCER.safetensors VOICE_MODEL.safetensors\n", argv[0]);
        return 2;
    }
    bytes = read_file(argv[1], &size);
    if (!bytes) { fprintf(stderr, "cannot read %s\n", argv[1]); return 2; }

    /* Loading and refusing. */
    expect(avpgan_enhancer_load_file(NULL, NULL, &bad), AVPGAN_E_INVALID_ARGUMENT, "path", "load_file(NULL path)");
    check(bad == NULL, "a failed load leaves *out_enhancer NULL");
    expect(avpgan_enhancer_load_file(argv[1], NULL, NULL), AVPGAN_E_INVALID_ARGUMENT, "out_enhancer", "load_file(NULL out)");
    expect(avpgan_enhancer_load_file("/nonexistent/e.safetensors", NULL, &e), AVPGAN_E_IO, NULL, "load_file(missing file)");
    expect(avpgan_enhancer_load_file(argv[2], NULL, &e), AVPGAN_E_MODEL_FORMAT, "avpgan_model_load_file",
           "load_file(a voice-portrait model): names the right loader");
    expect(avpgan_model_load_file(argv[1], NULL, &model), AVPGAN_E_MODEL_FORMAT, "avpgan_enhancer_load_file",
           "avpgan_model_load_file(an enhancer): names the enhancer loader");
    expect(avpgan_enhancer_load_buffer(bytes, 0, NULL, &e), AVPGAN_E_MODEL_FORMAT, NULL, "load_buffer(zero-size buffer)");
    expect(avpgan_enhancer_load_buffer(NULL, 10, NULL, &e), AVPGAN_E_INVALID_ARGUMENT, "data", "load_buffer(NULL data)");
    expect(avpgan_enhancer_load_buffer(bytes, size / 2, NULL, &e), AVPGAN_E_MODEL_FORMAT, NULL, "load_buffer(truncated file)");
    truncated = malloc(size);
    memcpy(truncated, bytes, size);
    truncated[8] = '['; /* the JSON header no longer starts with { */
    expect(avpgan_enhancer_load_buffer(truncated, size, NULL, &e), AVPGAN_E_MODEL_FORMAT, "header", "load_buffer(corrupt header)");
    free(truncated);
    expect(load_with_float(bytes, size, 0, NAN), AVPGAN_E_MODEL_FORMAT, "non-finite", "load_buffer(a NaN weight)");
    expect(load_with_float(bytes, size, -1, INFINITY), AVPGAN_E_MODEL_FORMAT, "non-finite", "load_buffer(an Inf weight)");
    expect(avpgan_enhancer_load_buffer(bytes, size, NULL, &e), AVPGAN_OK, NULL, "load_buffer(the file)");
    avpgan_enhancer_free(e);
    avpgan_enhancer_free(NULL);
    e = NULL;
    expect(avpgan_enhancer_load_file(argv[1], NULL, &e), AVPGAN_OK, NULL, "load_file(the file)");

    /* Info. */
    memset(&info, 0, sizeof info);
    expect(avpgan_enhancer_get_info(e, &info), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "get_info(struct_size 0)");
    info.struct_size = sizeof info;
    expect(avpgan_enhancer_get_info(e, &info), AVPGAN_OK, NULL, "get_info");
    s = info.size;
    check(strcmp(info.arch_name, "gfpgan-v1-clean") == 0 && s >= 32 && info.n_parameters > 0 && info.file_bytes == size
              && strlen(info.sha256) == 64,
          "info: arch gfpgan-v1-clean, size, parameters, file bytes, a 64-digit SHA-256");
    n_out = 3 * s * s;
    out = malloc(n_out);
    out2 = malloc(n_out);

    /* avpgan_enhance: sizes, strides, buffers. */
    for (i = 0; i < sizeof image; i++) image[i] = (uint8_t)(i * 7 + 3);
    expect(avpgan_enhance(NULL, image, 20, 13, 0, NULL, out, n_out, NULL), AVPGAN_E_INVALID_ARGUMENT, "enhancer", "enhance(NULL enhancer)");
    expect(avpgan_enhance(e, image, 20, 13, 0, NULL, NULL, 0, &needed), AVPGAN_OK, NULL, "enhance size query");
    check(needed == n_out, "the size query gives S x S x 3");
    needed = 0;
    expect(avpgan_enhance(e, image, 20, 13, 0, NULL, out, n_out - 1, &needed), AVPGAN_E_BUFFER_TOO_SMALL, NULL, "enhance(a buffer one byte short)");
    check(needed == n_out, "a too-small buffer still reports the size needed");
    expect(avpgan_enhance(e, image, 20, 13, 0, NULL, out, 0, NULL), AVPGAN_E_BUFFER_TOO_SMALL, NULL, "enhance(zero-size output buffer)");
    expect(avpgan_enhance(e, image, 0, 13, 0, NULL, out, n_out, NULL), AVPGAN_E_INVALID_ARGUMENT, "pixels", "enhance(width 0)");
    expect(avpgan_enhance(e, image, 20, 16385, 0, NULL, out, n_out, NULL), AVPGAN_E_INVALID_ARGUMENT, "16384", "enhance(height 16385)");
    expect(avpgan_enhance(e, image, 20, 13, 59, NULL, out, n_out, NULL), AVPGAN_E_INVALID_ARGUMENT, "row_stride", "enhance(row stride < width * 3)");
    expect(avpgan_enhance(e, NULL, 20, 13, 0, NULL, out, n_out, NULL), AVPGAN_E_INVALID_ARGUMENT, "pixels", "enhance(NULL pixels)");
    expect(avpgan_enhance(e, image, 20, 13, 0, NULL, out, n_out, NULL), AVPGAN_OK, NULL, "enhance(20 x 13 picture)");
    for (i = 0; i < 13; i++) {
        memcpy(padded + i * 70, image + i * 60, 60);
        memset(padded + i * 70 + 60, 0xAB, 10);
    }
    expect(avpgan_enhance(e, padded, 20, 13, 70, NULL, out2, n_out, NULL), AVPGAN_OK, NULL, "enhance(row stride 70)");
    check(memcmp(out, out2, n_out) == 0, "a padded row stride gives the same bytes");

    /* Determinism at any thread count, and threads sharing one enhancer. */
    avpgan_set_num_threads(1);
    expect(avpgan_enhance(e, image, 20, 13, 0, NULL, out2, n_out, NULL), AVPGAN_OK, NULL, "enhance at 1 thread");
    check(memcmp(out, out2, n_out) == 0, "1 thread gives the same bytes as the default");
    avpgan_set_num_threads(0);
    {
        pthread_t threads[3];
        job jobs[3];
        int same = 1;
        for (i = 0; i < 3; i++) {
            jobs[i].e = e;
            jobs[i].image = image;
            jobs[i].out = malloc(n_out);
            jobs[i].out_size = n_out;
            pthread_create(&threads[i], NULL, run_job, &jobs[i]);
        }
        for (i = 0; i < 3; i++) {
            pthread_join(threads[i], NULL);
            same = same && jobs[i].status == AVPGAN_OK && memcmp(jobs[i].out, out, n_out) == 0;
            free(jobs[i].out);
        }
        check(same, "three threads sharing the enhancer get the same bytes");
    }

    /* Params, progress and abort. */
    expect(avpgan_enhance_params_init(&params, 4), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "enhance_params_init(struct_size 4)");
    expect(avpgan_enhance_params_init(&params, sizeof params), AVPGAN_OK, NULL, "enhance_params_init");
    memset(&c, 0, sizeof c);
    c.stop_after = -1;
    params.progress = on_progress;
    params.progress_user_data = &c;
    params.abort_fn = on_abort;
    params.abort_user_data = &c;
    expect(avpgan_enhance(e, image, 20, 13, 0, &params, out2, n_out, NULL), AVPGAN_OK, NULL, "enhance with progress");
    snprintf(what, sizeof what, "progress told every stage (%d calls, last %llu of %llu)", c.calls,
             (unsigned long long)c.last_done, (unsigned long long)c.total);
    check(c.calls > 0 && (uint64_t)c.calls == c.total && c.last_done == c.total, what);
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    memset(out2, 0x5A, n_out);
    expect(avpgan_enhance(e, image, 20, 13, 0, &params, out2, n_out, NULL), AVPGAN_E_ABORTED, "abort", "enhance aborted after 2 stages");
    for (i = 0; i < n_out && out2[i] == 0x5A; i++) {}
    check(i == n_out && c.calls == 2, "an aborted enhance stops at once and leaves the output untouched");

    /* avpgan_enhance_raw. */
    raw_in = malloc(2 * n_out * sizeof(float));
    raw_out = malloc(2 * n_out * sizeof(float));
    for (i = 0; i < 2 * n_out; i++) raw_in[i] = (float)((i % 97) / 48.0 - 1.0);
    expect(avpgan_enhance_raw(e, raw_in, 0, NULL, raw_out, 2 * n_out, NULL), AVPGAN_E_INVALID_ARGUMENT, "n is 0", "enhance_raw(n 0)");
    expect(avpgan_enhance_raw(e, raw_in, 2, NULL, NULL, 0, &needed), AVPGAN_OK, NULL, "enhance_raw size query");
    check(needed == 2 * n_out, "enhance_raw needs n x 3 x S x S floats");
    expect(avpgan_enhance_raw(e, raw_in, 2, NULL, raw_out, 2 * n_out, NULL), AVPGAN_OK, NULL, "enhance_raw(2 images)");
    for (i = 0; i < 2 * n_out && isfinite(raw_out[i]); i++) {}
    check(i == 2 * n_out, "enhance_raw's output is finite");
    raw_in[5] = NAN;
    expect(avpgan_enhance_raw(e, raw_in, 2, NULL, raw_out, 2 * n_out, NULL), AVPGAN_E_INVALID_ARGUMENT, "finite", "enhance_raw(a NaN input)");

    /* The portrait params' enhancer: the size query follows it; an older struct has none. */
    expect(avpgan_model_load_file(argv[2], NULL, &model), AVPGAN_OK, NULL, "load the voice model");
    {
        avpgan_portrait_params pp;
        float samples[16] = {0};
        avpgan_model_info mi;
        mi.struct_size = sizeof mi;
        avpgan_model_get_info(model, &mi);
        avpgan_portrait_params_init(&pp, sizeof pp);
        check(pp.enhancer == NULL, "portrait params default to no enhancer");
        pp.enhancer = e;
        expect(avpgan_portrait_pcm(model, samples, 16, 16000, &pp, NULL, 0, &needed, NULL), AVPGAN_OK, NULL,
               "portrait size query with an enhancer");
        check(needed == n_out, "a portrait with an enhancer is S x S x 3");
        pp.struct_size = offsetof(avpgan_portrait_params, enhancer);
        expect(avpgan_portrait_pcm(model, samples, 16, 16000, &pp, NULL, 0, &needed, NULL), AVPGAN_OK, NULL,
               "portrait size query with the struct as 0.1.0 first declared it");
        check(needed == 3 * (size_t)mi.image_size * mi.image_size, "the older struct has no enhancer: the generator's size");
    }
    avpgan_model_free(model);

    avpgan_enhancer_free(e);
    free(out);
    free(out2);
    free(raw_in);
    free(raw_out);
    free(bytes);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
