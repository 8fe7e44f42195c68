/*
 * test_size_queries.c — a size query ((NULL, 0) for the output) checks every argument the real
 * call would, so that a caller never gets a size for a call that is bound to fail.
 *
 *   test_size_queries MODEL.safetensors
 *
 * Prints "ok   ..."/"FAIL ..." per check and "size-queries: N passed, M failed".
 */
#include <stdio.h>
#include <string.h>

#include "avpgan.h"

static int n_passed, n_failed;

static void expect(avpgan_status got, avpgan_status want, const char *what)
{
    int ok = got == want;
    printf("%s %s -> %s%s%s\n", ok ? "ok  " : "FAIL", what, avpgan_status_string(got), ok ? "" : ", expected ",
           ok ? "" : avpgan_status_string(want));
    if (ok) n_passed++; else n_failed++;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: test_size_queries MODEL\n"); return 2; }
    avpgan_model *m = NULL;
    if (avpgan_model_load_file(argv[1], NULL, &m) != AVPGAN_OK) { fprintf(stderr, "%s\n", avpgan_last_error()); return 2; }
    avpgan_model_info info;
    info.struct_size = sizeof info;
    avpgan_model_get_info(m, &info);
    const size_t E = info.embed_dim, M = info.n_mels, T = 50;
    static float features[50 * 64], embeddings[2 * 256], samples[16000];
    size_t needed = 0;

    expect(avpgan_model_embed(m, features, T, M, NULL, 0, &needed), AVPGAN_OK, "embed size query");
    expect(needed == E ? AVPGAN_OK : AVPGAN_E_INTERNAL, AVPGAN_OK, "embed size query gives embed_dim");
    expect(avpgan_model_embed(m, features, T, M + 1, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "embed size query, wrong n_mels");
    expect(avpgan_model_embed(m, features, 0, M, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "embed size query, n_frames 0");
    expect(avpgan_model_embed(m, NULL, T, M, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "embed size query, NULL features");

    expect(avpgan_model_generate(m, embeddings, 2, E, NULL, 0, &needed), AVPGAN_OK, "generate size query");
    expect(avpgan_model_generate(m, embeddings, 2, E + 1, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "generate size query, wrong embed_dim");
    expect(avpgan_model_generate(m, NULL, 2, E, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "generate size query, NULL embeddings");
    expect(avpgan_model_generate_rgb8(m, embeddings, 1, E + 1, NULL, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "generate_rgb8 size query, wrong embed_dim");
    expect(avpgan_model_generate_rgb8(m, NULL, 1, E, NULL, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "generate_rgb8 size query, NULL embeddings");
    expect(avpgan_model_generate_rgb8(m, embeddings, 0, E, NULL, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "generate_rgb8 size query, n 0");

    expect(avpgan_portrait_pcm(m, samples, 16000, 16000, NULL, NULL, 0, &needed, NULL), AVPGAN_OK, "portrait_pcm size query");
    expect(avpgan_portrait_pcm(m, samples, 16000, 7, NULL, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "portrait_pcm size query, sample rate 7");
    expect(avpgan_portrait_pcm(m, NULL, 16000, 16000, NULL, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "portrait_pcm size query, NULL samples");
    expect(avpgan_portrait_pcm(m, samples, 0, 16000, NULL, NULL, 0, &needed, NULL), AVPGAN_E_NO_SPEECH,
           "portrait_pcm size query, no samples");

    avpgan_model_free(m);
    printf("size-queries: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
