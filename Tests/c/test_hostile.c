/*
 * test_hostile.c — arguments and inputs that once killed the host process (issue 13), through
 * the C API: size_t values of 2^63 or more, huge finite samples, a huge `seconds`, output paths
 * that are devices or FIFOs. Each must give a status and a message naming the cause.
 *
 *   test_hostile MODEL.safetensors SCRATCH_DIR
 *
 * Prints "ok   ..." or "FAIL ..." per check and "hostile: N passed, M failed"; exits 1 when a
 * check failed, 2 on bad usage. Built by `make test-c` (and by the sanitizer targets).
 */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avpgan.h"

static int n_passed, n_failed;

/* Records one check; on failure prints the status and the library's message. */
static void check(int ok, avpgan_status status, const char *fmt, ...)
{
    va_list ap;
    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok) {
        printf(": status %d (%s), last error \"%s\"", (int)status, avpgan_status_string(status), avpgan_last_error());
    }
    printf("\n");
    fflush(stdout);
    if (ok) n_passed++; else n_failed++;
}

/* The status is `want` and the last error contains `needle` (when not NULL). */
static void expect(avpgan_status got, avpgan_status want, const char *needle, const char *what)
{
    const char *err = avpgan_last_error();
    int ok = got == want && (needle == NULL || strstr(err, needle) != NULL);
    check(ok, got, "%s -> %s%s%s", what, avpgan_status_string(want), needle ? " naming " : "", needle ? needle : "");
}

#define N_RATE 16000
#define N_SPEECH (N_RATE * 3 / 2)

/* A voiced-looking signal (harmonics under a syllable envelope) in [-1, 1]. */
static void speech(float *x, size_t n)
{
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / N_RATE, env = 0.5 + 0.5 * sin(2 * pi * 3 * t), s = 0;
        for (int k = 1; k <= 4; k++) s += sin(2 * pi * 140 * k * t) / k;
        x[i] = (float)(0.3 * env * s);
    }
}

/* Writes a mono 16 kHz IEEE-float WAV of `n` samples; returns 0 on success. */
static int write_float_wav(const char *path, const float *x, uint32_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) return -1;
    uint32_t data = 4 * n, riff = 36 + data, fmt_size = 16, rate = N_RATE, bytes_per_s = 4 * N_RATE;
    uint16_t format = 3, channels = 1, align = 4, bits = 32;
    fwrite("RIFF", 1, 4, f); fwrite(&riff, 4, 1, f); fwrite("WAVEfmt ", 1, 8, f); fwrite(&fmt_size, 4, 1, f);
    fwrite(&format, 2, 1, f); fwrite(&channels, 2, 1, f); fwrite(&rate, 4, 1, f); fwrite(&bytes_per_s, 4, 1, f);
    fwrite(&align, 2, 1, f); fwrite(&bits, 2, 1, f); fwrite("data", 1, 4, f); fwrite(&data, 4, 1, f);
    size_t written = fwrite(x, 4, n, f);
    return fclose(f) == 0 && written == n ? 0 : -1;
}

/* size_t arguments of 2^63 and more arrive in Swift as negative Ints: each is refused by name. */
static void huge_sizes(const avpgan_model *model, const float *pcm)
{
    const size_t huge[] = { (size_t)1 << 63, SIZE_MAX };
    const char *names[] = { "9223372036854775808", "18446744073709551615" };
    static const unsigned char bytes[16] = { 0 };
    float features[64 * 4] = { 0 }, embedding[64];
    static uint8_t pixels[3 * 64 * 64];
    size_t needed = 0;
    for (int i = 0; i < 2; i++) {
        size_t h = huge[i];
        avpgan_model *m = NULL;
        avpgan_face_model *fm = NULL;
        expect(avpgan_model_load_buffer(bytes, h, NULL, &m), AVPGAN_E_INVALID_ARGUMENT, names[i], "model_load_buffer(size huge)");
        check(m == NULL, AVPGAN_OK, "model_load_buffer(size huge) leaves *out NULL");
        expect(avpgan_face_model_load_buffer(bytes, h, NULL, &fm), AVPGAN_E_INVALID_ARGUMENT, names[i], "face_model_load_buffer(size huge)");
        expect(avpgan_decode_buffer(bytes, h, 0, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT, names[i], "decode_buffer(size huge)");
        expect(avpgan_features_from_pcm(pcm, h, N_RATE, NULL, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT, "n_samples is",
               "features_from_pcm(n_samples huge)");
        expect(avpgan_portrait_pcm(model, pcm, h, N_RATE, NULL, pixels, sizeof pixels, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "n_samples is", "portrait_pcm(n_samples huge)");
        expect(avpgan_model_embed(model, features, h, 64, embedding, 64, &needed), AVPGAN_E_INVALID_ARGUMENT, "n_frames is",
               "model_embed(n_frames huge)");
        expect(avpgan_model_embed(model, features, 4, h, embedding, 64, &needed), AVPGAN_E_INVALID_ARGUMENT, "n_mels is",
               "model_embed(n_mels huge)");
        expect(avpgan_model_generate(model, embedding, h, 16, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "n is",
               "model_generate(n huge)");
        expect(avpgan_model_embed(model, features, 4, 64, embedding, h, &needed), AVPGAN_E_INVALID_ARGUMENT, names[i],
               "model_embed(capacity huge)");
        check(strstr(avpgan_last_error(), "holds -1") == NULL, AVPGAN_OK, "a huge capacity is not reported as \"holds -1\"");
        expect(avpgan_cosine(embedding, embedding, h, features), AVPGAN_E_INVALID_ARGUMENT, "n is", "cosine(n huge)");
        avpgan_portrait_params p;
        expect(avpgan_portrait_params_init(&p, h), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "portrait_params_init(struct_size huge)");
    }
}

/* Huge finite samples (which used to trap converting to int16 for the VAD) and a huge `seconds`. */
static void extreme_audio(const avpgan_model *model, float *pcm, const char *dir)
{
    avpgan_frontend_params fp;
    avpgan_features_info all, capped;
    size_t needed = 0;
    avpgan_frontend_params_init(&fp, sizeof fp);
    all.struct_size = sizeof all;
    expect(avpgan_features_from_pcm(pcm, N_SPEECH, N_RATE, &fp, NULL, 0, &needed, &all), AVPGAN_OK, NULL, "features of speech");
    for (int k = 0; k < 3; k++) {
        const double seconds[] = { 1e15, 1e300, 9.3e18 };
        fp.seconds = seconds[k];
        capped.struct_size = sizeof capped;
        expect(avpgan_features_from_pcm(pcm, N_SPEECH, N_RATE, &fp, NULL, 0, &needed, &capped), AVPGAN_OK, NULL,
               "features_from_pcm(seconds huge)");
        check(capped.n_computed == all.n_computed, AVPGAN_OK, "seconds %g selects all %u frames (got %u)", seconds[k],
              all.n_computed, capped.n_computed);
    }
    avpgan_portrait_params pp;
    avpgan_portrait_params_init(&pp, sizeof pp);
    pp.seconds = 1e15;
    uint8_t pixels[3 * 64 * 64];
    avpgan_model_info mi;
    mi.struct_size = sizeof mi;
    avpgan_model_get_info(model, &mi);
    size_t want = 3u * mi.image_size * mi.image_size;
    if (want <= sizeof pixels) {
        expect(avpgan_portrait_pcm(model, pcm, N_SPEECH, N_RATE, &pp, pixels, want, &needed, NULL), AVPGAN_OK, NULL,
               "portrait_pcm(seconds 1e15)");
    }

    const float values[] = { 1e30f, -3e38f, 2.9e14f / 32768, 70000.0f };
    for (int k = 0; k < 4; k++) {
        for (int i = 100; i < 110; i++) pcm[i] = values[k];
        avpgan_frontend_params_init(&fp, sizeof fp);
        expect(avpgan_features_from_pcm(pcm, N_SPEECH, N_RATE, &fp, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "sample 100", "features_from_pcm(huge finite sample)");
        expect(avpgan_portrait_pcm(model, pcm, N_SPEECH, N_RATE, NULL, pixels, want, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "beyond", "portrait_pcm(huge finite sample)");
    }
    char wav[4096], png[4096];
    snprintf(wav, sizeof wav, "%s/loud.wav", dir);
    snprintf(png, sizeof png, "%s/loud.png", dir);
    pcm[100] = 1e30f;
    check(write_float_wav(wav, pcm, N_SPEECH) == 0, AVPGAN_OK, "wrote %s", wav);
    expect(avpgan_portrait_file(model, wav, png, NULL, NULL), AVPGAN_E_AUDIO_FORMAT, "sample 100", "portrait_file(float WAV, 1e30)");
    check(access(png, F_OK) != 0, AVPGAN_OK, "portrait_file(float WAV, 1e30) wrote no PNG");
    speech(pcm, N_SPEECH);
}

/* Outputs go only to regular files: a FIFO or a device is an error and stays what it was. */
static void special_outputs(const avpgan_model *model, const float *pcm, const char *dir)
{
    char wav[4096], fifo[4096], tmp[4200];
    snprintf(wav, sizeof wav, "%s/voice.wav", dir);
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    check(write_float_wav(wav, pcm, N_SPEECH) == 0, AVPGAN_OK, "wrote %s", wav);
    unlink(fifo);
    check(mkfifo(fifo, 0600) == 0, AVPGAN_OK, "made FIFO %s", fifo);
    expect(avpgan_portrait_file(model, wav, fifo, NULL, NULL), AVPGAN_E_IO, "a FIFO, not a regular file", "portrait_file(-> FIFO)");
    struct stat st;
    check(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), AVPGAN_OK, "the FIFO is still a FIFO");
    snprintf(tmp, sizeof tmp, "%s.tmp-%d-1", fifo, (int)getpid());
    check(access(tmp, F_OK) != 0, AVPGAN_OK, "no temporary file beside the FIFO");
    unlink(fifo);
    expect(avpgan_portrait_file(model, wav, dir, NULL, NULL), AVPGAN_E_IO, "a directory", "portrait_file(-> directory)");
    if (access("/dev/null", W_OK) == 0) {
        struct stat before, after;
        stat("/dev/null", &before);
        expect(avpgan_portrait_file(model, wav, "/dev/null", NULL, NULL), AVPGAN_E_IO, "character device", "portrait_file(-> /dev/null)");
        check(stat("/dev/null", &after) == 0 && S_ISCHR(after.st_mode) && after.st_rdev == before.st_rdev, AVPGAN_OK,
              "/dev/null is still the null device");
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.safetensors SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    avpgan_model *model = NULL;
    avpgan_status s = avpgan_model_load_file(argv[1], NULL, &model);
    if (s != AVPGAN_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], avpgan_last_error());
        return 2;
    }
    float *pcm = malloc(N_SPEECH * sizeof *pcm);
    if (pcm == NULL) return 2;
    speech(pcm, N_SPEECH);
    huge_sizes(model, pcm);
    extreme_audio(model, pcm, argv[2]);
    special_outputs(model, pcm, argv[2]);
    free(pcm);
    avpgan_model_free(model);
    printf("hostile: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
