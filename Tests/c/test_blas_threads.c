/*
 * test_blas_threads.c — libavpgan never leaves the host's OpenBLAS thread count changed.
 *
 *   test_blas_threads MODEL.safetensors   (linked with -lavpgan -lopenblas)
 *
 * A host that uses OpenBLAS itself sets its thread count; loading a model, generating faces
 * (also from four threads at once) and the library's failures must all give it back. Prints
 * "ok   ..."/"FAIL ..." per check and "blas-threads: N passed, M failed".
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "avpgan.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);
int openblas_get_parallel(void);

static int n_passed, n_failed;

static void check(int ok, const char *what)
{
    printf("%s %s (OpenBLAS threads now %d)\n", ok ? "ok  " : "FAIL", what, openblas_get_num_threads());
    if (ok) n_passed++; else n_failed++;
}

static avpgan_model *model;

static void *generate(void *arg)
{
    (void)arg;
    float e[256] = {1.0f};
    uint8_t rgb[64 * 64 * 3];
    size_t needed = 0;
    avpgan_model_info info;
    info.struct_size = sizeof info;
    avpgan_model_get_info(model, &info);
    for (int i = 0; i < 20; i++)
        if (avpgan_model_generate_rgb8(model, e, 1, info.embed_dim, NULL, rgb, sizeof rgb, &needed) != AVPGAN_OK) return (void *)1;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: test_blas_threads MODEL\n"); return 2; }
    if (openblas_get_parallel() == 0) {
        printf("blas-threads: the OpenBLAS here is single-threaded: nothing to check\n0 passed, 0 failed\n");
        return 0;
    }
    openblas_set_num_threads(2);
    int host = openblas_get_num_threads();
    check(avpgan_model_load_file(argv[1], NULL, &model) == AVPGAN_OK && openblas_get_num_threads() == host,
          "loading a model keeps the host's count");
    check(generate(NULL) == NULL && openblas_get_num_threads() == host, "generating keeps it");
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, generate, NULL);
    int failed = 0;
    for (int i = 0; i < 4; i++) { void *r; pthread_join(t[i], &r); failed |= r != NULL; }
    check(!failed && openblas_get_num_threads() == host, "four threads generating at once give it back");
    avpgan_model *bad = NULL;
    check(avpgan_model_load_file("/no/such/model", NULL, &bad) == AVPGAN_E_IO && openblas_get_num_threads() == host,
          "a failed call gives it back too");
    avpgan_model_free(model);
    printf("blas-threads: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
