/*
 * test_portrait_rgb8.c — from an audio file or its bytes to RGB8 pixels in one call
 * (avpgan_portrait_file_rgb8, avpgan_portrait_buffer_rgb8): the same pixels as decoding and
 * avpgan_portrait_pcm, size queries without decoding, bad arguments refused by name.
 *
 *   test_portrait_rgb8 MODEL.safetensors VOICE.wav
 *
 * Prints "ok   ..."/"FAIL ..." per check and "portrait-rgb8: N passed, M failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avpgan.h"

static int n_passed, n_failed;

static void check(int ok, const char *what)
{
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, ok ? "" : ": ", ok ? "" : avpgan_last_error());
    if (ok) n_passed++; else n_failed++;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: test_portrait_rgb8 MODEL VOICE\n"); return 2; }
    avpgan_model *m = NULL;
    if (avpgan_model_load_file(argv[1], NULL, &m) != AVPGAN_OK) { fprintf(stderr, "%s\n", avpgan_last_error()); return 2; }

    size_t needed = 0;
    check(avpgan_portrait_file_rgb8(m, argv[2], NULL, NULL, 0, &needed, NULL) == AVPGAN_OK && needed == 64 * 64 * 3,
          "file: a size query gives S x S x 3 without decoding");
    uint8_t *a = malloc(needed), *b = malloc(needed), *c = malloc(needed);
    avpgan_portrait_info info;
    info.struct_size = sizeof info;
    check(avpgan_portrait_file_rgb8(m, argv[2], NULL, a, needed, &needed, &info) == AVPGAN_OK && info.voiced_seconds > 0.5,
          "file: one call from the path to pixels");

    /* The same pixels by the long way: decode, then avpgan_portrait_pcm. */
    size_t n = 0;
    avpgan_decode_file(argv[2], 16000, NULL, 0, &n, NULL);
    float *samples = malloc(n * sizeof *samples);
    avpgan_decode_file(argv[2], 16000, samples, n, &n, NULL);
    check(avpgan_portrait_pcm(m, samples, n, 16000, NULL, b, needed, &needed, NULL) == AVPGAN_OK && memcmp(a, b, needed) == 0,
          "file: the same pixels as decode + avpgan_portrait_pcm");

    FILE *f = fopen(argv[2], "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)size);
    size_t got = fread(bytes, 1, (size_t)size, f);
    fclose(f);
    check(got == (size_t)size && avpgan_portrait_buffer_rgb8(m, bytes, got, NULL, c, needed, &needed, NULL) == AVPGAN_OK &&
          memcmp(a, c, needed) == 0, "buffer: the same pixels from the file's bytes");

    check(avpgan_portrait_file_rgb8(m, "/no/such.wav", NULL, NULL, 0, &needed, NULL) == AVPGAN_E_IO,
          "file: a size query for a missing file is AVPGAN_E_IO");
    check(avpgan_portrait_file_rgb8(m, NULL, NULL, a, needed, &needed, NULL) == AVPGAN_E_INVALID_ARGUMENT, "file: NULL path");
    check(avpgan_portrait_file_rgb8(m, argv[2], NULL, a, 10, &needed, NULL) == AVPGAN_E_BUFFER_TOO_SMALL && needed == 64 * 64 * 3,
          "file: a too-small buffer reports the size");
    check(avpgan_portrait_buffer_rgb8(m, NULL, 10, NULL, NULL, 0, &needed, NULL) == AVPGAN_E_INVALID_ARGUMENT,
          "buffer: NULL data, even in a size query");
    check(avpgan_portrait_buffer_rgb8(m, bytes, 0, NULL, c, needed, &needed, NULL) == AVPGAN_E_AUDIO_FORMAT, "buffer: empty");
    check(avpgan_portrait_buffer_rgb8(m, bytes, 40, NULL, c, needed, &needed, NULL) == AVPGAN_E_AUDIO_FORMAT,
          "buffer: a truncated file is AVPGAN_E_AUDIO_FORMAT");
    check(avpgan_portrait_buffer_rgb8(m, bytes, (size_t)1 << 63, NULL, c, needed, &needed, NULL) == AVPGAN_E_INVALID_ARGUMENT,
          "buffer: a size of 2^63 is refused");

    free(a); free(b); free(c); free(samples); free(bytes);
    avpgan_model_free(m);
    printf("portrait-rgb8: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
