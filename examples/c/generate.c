/*
 * generate.c — make one face with libavpgan and write it as a PPM image.
 *
 *   generate MODEL.safetensors OUT.ppm [SEED]
 *
 * The face is generated from a pseudo-random unit embedding made from SEED
 * (default 1), so the same seed always gives the same face. A real program
 * would take the embedding from avpgan_model_embed() on a recording's log-mel
 * features instead.
 *
 * Build (from the repository root, after `make build`):
 *
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude examples/c/generate.c \
 *      -Lbuild/lib -lavpgan -o generate
 *   LD_LIBRARY_PATH=build/lib ./generate model.safetensors face.ppm 42
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "avpgan.h"

/* Prints a failed call's status and the library's message (which is local to
 * this thread and names the cause), and returns 1 for main's exit code. */
static int report(const char *what, avpgan_status status)
{
    fprintf(stderr, "generate: %s failed: %s (%d): %s\n", what, avpgan_status_string(status),
            (int)status, avpgan_last_error());
    return 1;
}

/* A 64-bit linear congruential generator (Knuth's MMIX constants). */
static uint64_t lcg_next(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return *state;
}

/* A uniform double in [0, 1) from the top 53 bits. */
static double uniform(uint64_t *state)
{
    return (double)(lcg_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* An approximately standard-normal number: the sum of 12 uniforms minus 6
 * (mean 0, variance 1). Needs no libm, unlike Box-Muller. */
static double gaussian(uint64_t *state)
{
    double sum = 0.0;
    int i;
    for (i = 0; i < 12; i++) {
        sum += uniform(state);
    }
    return sum - 6.0;
}

/* Square root by Newton's method (x > 0), again to stay off libm. */
static double newton_sqrt(double x)
{
    double r = x > 1.0 ? x : 1.0;
    int i;
    for (i = 0; i < 100; i++) {
        double next = 0.5 * (r + x / r);
        if (next >= r) {
            break; /* converged: the iteration decreases monotonically from above */
        }
        r = next;
    }
    return r;
}

/* Fills v[0..n-1] with a deterministic random direction: Gaussian components,
 * then divided by the L2 norm, so |v| = 1 (the voice encoder's embeddings are
 * unit vectors, which is what the generator was trained on). */
static void random_unit_vector(float *v, size_t n, uint64_t seed)
{
    uint64_t state = seed ^ 0x9E3779B97F4A7C15ULL;
    double norm2 = 0.0;
    size_t i;
    lcg_next(&state); /* mix the seed in before the first draw */
    for (i = 0; i < n; i++) {
        double g = gaussian(&state);
        v[i] = (float)g;
        norm2 += g * g;
    }
    if (norm2 > 0.0) {
        double inv = 1.0 / newton_sqrt(norm2);
        for (i = 0; i < n; i++) {
            v[i] = (float)(v[i] * inv);
        }
    } else {
        v[0] = 1.0f;
    }
}

static void print_widths(const char *name, const uint32_t *w, uint32_t n)
{
    uint32_t i;
    printf("  %-17s[", name);
    for (i = 0; i < n; i++) {
        printf(i ? ", %u" : "%u", (unsigned)w[i]);
    }
    printf("]\n");
}

static void print_info(const avpgan_model_info *info)
{
    printf("model:\n");
    printf("  arch             %s\n", info->arch_name);
    printf("  format           %u\n", (unsigned)info->format_version);
    printf("  n_mels           %u\n", (unsigned)info->n_mels);
    printf("  embed_dim        %u\n", (unsigned)info->embed_dim);
    printf("  image            %u x %u x %u\n", (unsigned)info->image_size,
           (unsigned)info->image_size, (unsigned)info->image_channels);
    print_widths("voice_widths", info->voice_widths, info->n_voice_widths);
    print_widths("generator_widths", info->generator_widths, info->n_generator_widths);
    printf("  default pixels   %s\n",
           info->default_pixels == AVPGAN_PIXELS_MINMAX ? "minmax" : "clamp");
    printf("  parameters       %llu\n", (unsigned long long)info->n_parameters);
}

/* Writes a size x size image of interleaved RGB bytes as binary PPM (P6). */
static int write_ppm(const char *path, const uint8_t *rgb, uint32_t size)
{
    size_t bytes = (size_t)size * size * 3;
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (fprintf(f, "P6\n%u %u\n255\n", (unsigned)size, (unsigned)size) < 0 ||
        fwrite(rgb, 1, bytes, f) != bytes) {
        perror(path);
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *model_path, *out_path;
    uint64_t seed = 1;
    avpgan_model *model = NULL;
    avpgan_model_info info;
    avpgan_generate_params gen;
    avpgan_status st;
    float *embedding = NULL;
    uint8_t *pixels = NULL;
    size_t needed = 0;
    int rc = 1;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.safetensors OUT.ppm [SEED]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    out_path = argv[2];
    if (argc == 4) {
        char *end = NULL;
        seed = (uint64_t)strtoull(argv[3], &end, 0);
        if (end == argv[3] || *end != '\0') {
            fprintf(stderr, "generate: SEED must be an integer, got \"%s\"\n", argv[3]);
            return 2;
        }
    }

    /* The header we compiled against and the library we run with must share
     * the major version. */
    if (avpgan_version_number() / 10000 != AVPGAN_VERSION_MAJOR) {
        fprintf(stderr, "generate: libavpgan %s is incompatible with header %s\n",
                avpgan_version(), AVPGAN_VERSION_STRING);
        return 1;
    }
    printf("libavpgan %s\n", avpgan_version());

    /* Load with default params (NULL): only the voice encoder and generator. */
    st = avpgan_model_load_file(model_path, NULL, &model);
    if (st != AVPGAN_OK) {
        return report("avpgan_model_load_file", st);
    }

    /* Info structs are filled up to the struct_size we set. */
    info.struct_size = sizeof info;
    st = avpgan_model_get_info(model, &info);
    if (st != AVPGAN_OK) {
        rc = report("avpgan_model_get_info", st);
        goto done;
    }
    print_info(&info);

    embedding = malloc(info.embed_dim * sizeof *embedding);
    if (embedding == NULL) {
        fprintf(stderr, "generate: out of memory\n");
        goto done;
    }
    random_unit_vector(embedding, info.embed_dim, seed);

    /* Params structs: init with the library's defaults, then set fields. */
    st = avpgan_generate_params_init(&gen, sizeof gen);
    if (st != AVPGAN_OK) {
        rc = report("avpgan_generate_params_init", st);
        goto done;
    }
    gen.pixels = AVPGAN_PIXELS_MODEL_DEFAULT;

    /* (NULL, 0) is a size query: it fills `needed` and computes nothing. */
    st = avpgan_model_generate_rgb8(model, embedding, 1, info.embed_dim, &gen, NULL, 0, &needed);
    if (st != AVPGAN_OK) {
        rc = report("avpgan_model_generate_rgb8 (size query)", st);
        goto done;
    }
    if (needed != (size_t)info.image_size * info.image_size * 3) {
        fprintf(stderr, "generate: unexpected size %lu for a %u x %u RGB image\n",
                (unsigned long)needed, (unsigned)info.image_size, (unsigned)info.image_size);
        goto done;
    }

    pixels = malloc(needed);
    if (pixels == NULL) {
        fprintf(stderr, "generate: out of memory\n");
        goto done;
    }
    st = avpgan_model_generate_rgb8(model, embedding, 1, info.embed_dim, &gen, pixels, needed,
                                    &needed);
    if (st != AVPGAN_OK) {
        rc = report("avpgan_model_generate_rgb8", st);
        goto done;
    }

    if (write_ppm(out_path, pixels, info.image_size) != 0) {
        goto done;
    }
    printf("wrote %s (%u x %u, seed %llu)\n", out_path, (unsigned)info.image_size,
           (unsigned)info.image_size, (unsigned long long)seed);
    rc = 0;

done:
    free(pixels);
    free(embedding);
    avpgan_model_free(model); /* NULL is fine */
    return rc;
}
