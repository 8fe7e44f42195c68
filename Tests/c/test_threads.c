/*
 * test_threads.c — one model shared by many threads: each thread makes portraits from its own
 * recordings (avpgan_portrait_pcm) and embeddings (avpgan_model_embed); every result must equal,
 * byte for byte, what one thread computed first. Run under ThreadSanitizer by `make test-tsan`
 * and AddressSanitizer by `make test-asan`; `make stress` runs it long.
 *
 *   test_threads MODEL.safetensors THREADS PORTRAITS_PER_THREAD
 *
 * Prints "threads: N portraits on T threads match single-threaded output" or the first
 * mismatch; exits 1 on a mismatch or error, 2 on bad usage.
 */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avpgan.h"

#define RATE 16000
#define N_VOICES 4
#define N_SAMPLES (RATE * 6 / 5)

static avpgan_model *model;
static float voices[N_VOICES][N_SAMPLES];
static uint8_t *expected[N_VOICES];
static float expected_embedding[N_VOICES][64];
static float features[N_VOICES][200 * 64];
static size_t image_bytes, embed_dim;
static int per_thread;

/* Voice k: harmonics of a k-dependent pitch under a syllable envelope. */
static void make_voice(int k)
{
    const double pi = 3.14159265358979323846;
    for (int i = 0; i < N_SAMPLES; i++) {
        double t = (double)i / RATE, f0 = 110 + 35 * k, env = 0.5 + 0.5 * sin(2 * pi * (2.5 + k) * t), s = 0;
        for (int h = 1; h <= 5; h++) s += sin(2 * pi * f0 * h * t) / h;
        voices[k][i] = (float)(0.25 * env * s);
    }
    for (int i = 0; i < 200 * 64; i++) features[k][i] = (float)sin(0.01 * i * (k + 1));
}

/* One portrait of voice k into out; 0 on success. */
static int portrait(int k, uint8_t *out)
{
    size_t needed = 0;
    avpgan_status s = avpgan_portrait_pcm(model, voices[k], N_SAMPLES, RATE, NULL, out, image_bytes, &needed, NULL);
    if (s != AVPGAN_OK) fprintf(stderr, "portrait_pcm(voice %d): %s: %s\n", k, avpgan_status_string(s), avpgan_last_error());
    return s == AVPGAN_OK ? 0 : -1;
}

static int embed(int k, float *out)
{
    size_t needed = 0;
    avpgan_status s = avpgan_model_embed(model, features[k], 200, 64, out, embed_dim, &needed);
    if (s != AVPGAN_OK) fprintf(stderr, "model_embed(voice %d): %s: %s\n", k, avpgan_status_string(s), avpgan_last_error());
    return s == AVPGAN_OK ? 0 : -1;
}

/* Thread body: per_thread portraits and embeddings, cycling through the voices from a
 * thread-dependent start; returns the number of mismatches or errors. */
static void *worker(void *arg)
{
    intptr_t id = (intptr_t)arg, bad = 0;
    uint8_t *pixels = malloc(image_bytes);
    float embedding[64];
    if (pixels == NULL) return (void *)1;
    for (int i = 0; i < per_thread; i++) {
        int k = (int)((id + i) % N_VOICES);
        if (portrait(k, pixels) != 0 || memcmp(pixels, expected[k], image_bytes) != 0) {
            fprintf(stderr, "thread %d portrait %d (voice %d) differs from the single-threaded one\n", (int)id, i, k);
            bad++;
        }
        if (embed(k, embedding) != 0 || memcmp(embedding, expected_embedding[k], embed_dim * sizeof(float)) != 0) {
            fprintf(stderr, "thread %d embedding %d (voice %d) differs from the single-threaded one\n", (int)id, i, k);
            bad++;
        }
    }
    free(pixels);
    return (void *)bad;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atoi(argv[2]) < 1 || atoi(argv[3]) < 1) {
        fprintf(stderr, "usage: %s MODEL.safetensors THREADS PORTRAITS_PER_THREAD\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]);
    per_thread = atoi(argv[3]);
    if (avpgan_model_load_file(argv[1], NULL, &model) != AVPGAN_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], avpgan_last_error());
        return 2;
    }
    avpgan_model_info info;
    info.struct_size = sizeof info;
    avpgan_model_get_info(model, &info);
    if (info.embed_dim > 64) {
        fprintf(stderr, "embed_dim %u > 64: use a smaller model\n", info.embed_dim);
        return 2;
    }
    image_bytes = 3u * info.image_size * info.image_size;
    embed_dim = info.embed_dim;
    for (int k = 0; k < N_VOICES; k++) {
        make_voice(k);
        expected[k] = malloc(image_bytes);
        if (expected[k] == NULL || portrait(k, expected[k]) != 0 || embed(k, expected_embedding[k]) != 0) return 1;
    }
    pthread_t *ids = malloc(sizeof *ids * (size_t)threads);
    if (ids == NULL) return 1;
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&ids[t], NULL, worker, (void *)(intptr_t)t) != 0) return 1;
    }
    intptr_t bad = 0;
    for (int t = 0; t < threads; t++) {
        void *r;
        pthread_join(ids[t], &r);
        bad += (intptr_t)r;
    }
    free(ids);
    for (int k = 0; k < N_VOICES; k++) free(expected[k]);
    avpgan_model_free(model);
    if (bad != 0) {
        printf("threads: %ld of %d results differ or failed\n", (long)bad, 2 * threads * per_thread);
        return 1;
    }
    printf("threads: %d portraits and %d embeddings on %d threads match single-threaded output\n",
           threads * per_thread, threads * per_thread, threads);
    return 0;
}
