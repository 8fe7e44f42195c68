/* Inference on the loaded model: embed, generate and generate_rgb8 on every kind of misuse and
 * on good input (sizes, size queries, unit embeddings, the clamp mapping), last_error reset
 * after a success, then the thread-local last error with the features made here. */
#include "api.h"

int test_inference(avpgan_model *model, const avpgan_model_info *model_info)
{
    avpgan_model *m = NULL;
    avpgan_model_params mp;
    avpgan_generate_params gp;
    avpgan_model_info info = *model_info;
    size_t E, M, S, T = 37, needed;
    float *features = NULL, *embedding = NULL, *embs = NULL, *images = NULL, *big = NULL;
    uint8_t *pixels = NULL;

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

    free(features);
    free(embedding);
    free(embs);
    free(images);
    free(pixels);
    free(big);
    return 0;
}
