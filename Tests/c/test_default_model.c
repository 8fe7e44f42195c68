/*
 * test_default_model.c — avpgan_default_model_path and avpgan_default_enhancer_path: where a C
 * host finds the default model and the default enhancer.
 *
 *   test_default_model CHECKOUT_ROOT   (run against the checkout's build/lib/libavpgan.so.0)
 *
 * Prints "ok   ..." or "FAIL ..." per check and "default-model: N passed, M failed"; exits 1
 * when a check failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avpgan.h"

static int n_passed, n_failed;

static void check(int ok, const char *what, const char *detail)
{
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, ok || !detail ? "" : ": ", ok || !detail ? "" : detail);
    if (ok) n_passed++; else n_failed++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_default_model CHECKOUT_ROOT\n");
        return 2;
    }
    char expected[4096];
    snprintf(expected, sizeof expected, "%s/models/default.safetensors", argv[1]);

    unsetenv("AVPGAN_MODEL");
    size_t needed = 0;
    avpgan_status s = avpgan_default_model_path(NULL, 0, &needed);
    check(s == AVPGAN_OK && needed == strlen(expected) + 1, "(NULL, 0) asks for the size, NUL included",
          avpgan_last_error());

    char path[4096];
    s = avpgan_default_model_path(path, sizeof path, &needed);
    check(s == AVPGAN_OK && strcmp(path, expected) == 0,
          "a library in a checkout's build/lib finds the checkout's models/default.safetensors", path);

    char small[8];
    s = avpgan_default_model_path(small, sizeof small, &needed);
    check(s == AVPGAN_E_BUFFER_TOO_SMALL && needed == strlen(expected) + 1, "a too-small buffer reports the size",
          avpgan_last_error());

    s = avpgan_default_model_path(NULL, 16, &needed);
    check(s == AVPGAN_E_INVALID_ARGUMENT, "NULL path with a capacity is refused", avpgan_last_error());

    setenv("AVPGAN_MODEL", expected, 1);
    s = avpgan_default_model_path(path, sizeof path, &needed);
    check(s == AVPGAN_OK && strcmp(path, expected) == 0, "$AVPGAN_MODEL is taken when it exists", path);

    setenv("AVPGAN_MODEL", "/no/such/model.safetensors", 1);
    s = avpgan_default_model_path(path, sizeof path, &needed);
    check(s == AVPGAN_E_IO && strstr(avpgan_last_error(), "$AVPGAN_MODEL (/no/such/model.safetensors)") != NULL,
          "a missing $AVPGAN_MODEL is AVPGAN_E_IO naming it, never replaced by another model", avpgan_last_error());

    setenv("AVPGAN_MODEL", expected, 1);
    avpgan_model *model = NULL;
    s = avpgan_default_model_path(path, sizeof path, &needed);
    if (s == AVPGAN_OK) s = avpgan_model_load_file(path, NULL, &model);
    check(s == AVPGAN_OK && model != NULL, "the path it gives loads", avpgan_last_error());
    avpgan_model_free(model);

    char expected_enhancer[4096];
    snprintf(expected_enhancer, sizeof expected_enhancer, "%s/models/default-enhancer.safetensors", argv[1]);
    unsetenv("AVPGAN_ENHANCER");
    s = avpgan_default_enhancer_path(path, sizeof path, &needed);
    check(s == AVPGAN_OK && strcmp(path, expected_enhancer) == 0 && needed == strlen(expected_enhancer) + 1,
          "a library in a checkout's build/lib finds the checkout's models/default-enhancer.safetensors",
          s == AVPGAN_OK ? path : avpgan_last_error());
    avpgan_enhancer *enhancer = NULL;
    if (s == AVPGAN_OK) s = avpgan_enhancer_load_file(path, NULL, &enhancer);
    check(s == AVPGAN_OK && enhancer != NULL, "the default enhancer's path loads as an enhancer", avpgan_last_error());
    avpgan_enhancer_free(enhancer);

    setenv("AVPGAN_ENHANCER", "/no/such/enhancer.safetensors", 1);
    s = avpgan_default_enhancer_path(path, sizeof path, &needed);
    check(s == AVPGAN_E_IO && strstr(avpgan_last_error(), "$AVPGAN_ENHANCER (/no/such/enhancer.safetensors)") != NULL
              && strstr(avpgan_last_error(), "no default enhancer") != NULL,
          "a missing $AVPGAN_ENHANCER is AVPGAN_E_IO naming it, never replaced by another file", avpgan_last_error());
    s = avpgan_default_enhancer_path(small, sizeof small, &needed);
    check(s == AVPGAN_E_IO, "the lookup fails before the buffer is judged", avpgan_last_error());
    unsetenv("AVPGAN_ENHANCER");

    printf("default-model: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
