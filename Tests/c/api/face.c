/* The face-recognition API: loading, info, embeddings of any size, misuse, threads. */
#include "api.h"

typedef struct {
    const avpgan_face_model *model;
    const uint8_t *image;
    size_t width, height;
    float out[1024];
    avpgan_status status;
} face_job;

static void *face_thread(void *arg)
{
    face_job *j = arg;
    int i;
    for (i = 0; i < 3 && j->status == AVPGAN_OK; i++) {
        j->status = avpgan_face_model_embed_rgb8(j->model, j->image, j->width, j->height, 0, j->out, 1024, NULL);
    }
    return NULL;
}

void test_face(const char *face_path, const char *voice_model_path)
{
    avpgan_face_model *fm = NULL, *fm2 = (avpgan_face_model *)&sentinel_target;
    avpgan_face_model_info fi;
    avpgan_model *vm = (avpgan_model *)&sentinel_target;
    unsigned char *bytes;
    size_t size = 0, needed = 0, D, w = 75, h = 91, x, y, c;
    uint8_t *image, *padded;
    float *e1, *e2, sim = 0, zero[4] = {0, 0, 0, 0}, nan4[4];
    const char *msg;
    pthread_t threads[4];
    face_job jobs[4];
    int i, same;

    expect(avpgan_face_model_load_file(NULL, NULL, &fm2), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_face_model_load_file(NULL path)");
    check(fm2 == NULL, "out not cleared", "a failed face-model load sets *out_model to NULL");
    expect(avpgan_face_model_load_file("/nonexistent/face.safetensors", NULL, &fm), AVPGAN_E_IO,
           "avpgan_face_model_load_file(missing file)");
    expect(avpgan_face_model_load_file(voice_model_path, NULL, &fm), AVPGAN_E_MODEL_FORMAT,
           "avpgan_face_model_load_file(a voice-portrait model)");
    msg = avpgan_last_error();
    check(strstr(msg, "avpgan_model_load_file") != NULL, msg,
          "loading a voice model as a face model names the right loader");
    expect(avpgan_model_load_file(face_path, NULL, &vm), AVPGAN_E_MODEL_FORMAT,
           "avpgan_model_load_file(a face model)");
    msg = avpgan_last_error();
    check(strstr(msg, "avpgan_face_model_load_file") != NULL && vm == NULL, msg,
          "loading a face model as a voice model names the right loader");

    expect(avpgan_face_model_load_file(face_path, NULL, &fm), AVPGAN_OK, "avpgan_face_model_load_file(%s)", face_path);
    if (fm == NULL) return;
    memset(&fi, 0, sizeof fi);
    expect(avpgan_face_model_get_info(fm, &fi), AVPGAN_E_INVALID_ARGUMENT, "face info with struct_size 0");
    fi.struct_size = sizeof fi;
    expect(avpgan_face_model_get_info(fm, &fi), AVPGAN_OK, "avpgan_face_model_get_info");
    check(fi.input_size == 112 && fi.embed_dim >= 1 && fi.embed_dim <= 1024 && fi.n_parameters > 0 && fi.input_std > 0,
          "implausible info", "face info: %s, input %u, embed_dim %u, %llu parameters", fi.arch_name,
          (unsigned)fi.input_size, (unsigned)fi.embed_dim, (unsigned long long)fi.n_parameters);
    D = fi.embed_dim;

    image = malloc(w * h * 3);
    padded = malloc((w * 3 + 5) * h);
    e1 = malloc(D * sizeof(float));
    e2 = malloc(D * sizeof(float));
    if (!image || !padded || !e1 || !e2) { check(0, "out of memory", "face test buffers"); goto done; }
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (c = 0; c < 3; c++) {
                uint8_t v = (uint8_t)((x * 7 + y * 13 + c * 50 + (x * y) % 17) & 0xFF);
                image[(y * w + x) * 3 + c] = v;
                padded[y * (w * 3 + 5) + x * 3 + c] = v;
            }

    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, 0, NULL, 0, &needed), AVPGAN_OK, "face embed size query");
    check(needed == D, "wrong size", "the size query reports embed_dim (%lu)", (unsigned long)needed);
    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, 0, e1, D - 1, &needed), AVPGAN_E_BUFFER_TOO_SMALL,
           "face embed into D - 1 floats");
    expect(avpgan_face_model_embed_rgb8(fm, image, 0, h, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "face embed width 0");
    expect(avpgan_face_model_embed_rgb8(fm, image, w, 16385, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "face embed height 16385");
    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, w * 3 - 1, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "face embed row_stride < width * 3");
    expect(avpgan_face_model_embed_rgb8(fm, NULL, w, h, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "face embed NULL pixels");
    expect(avpgan_face_model_embed_rgb8(NULL, image, w, h, 0, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "face embed NULL model");
    expect(avpgan_face_model_embed_rgb8(fm, image, w, h, 0, e1, D, NULL), AVPGAN_OK, "face embed %lux%lu", (unsigned long)w,
           (unsigned long)h);
    expect(avpgan_face_model_embed_rgb8(fm, padded, w, h, w * 3 + 5, e2, D, NULL), AVPGAN_OK, "face embed with row padding");
    check(memcmp(e1, e2, D * sizeof(float)) == 0, "embeddings differ", "row_stride padding gives the same embedding");

    expect(avpgan_cosine(e1, e2, D, &sim), AVPGAN_OK, "avpgan_cosine(e, e)");
    check(fabsf(sim - 1) < 1e-6f, "not 1", "cosine of an embedding with itself is 1 (%.8f)", (double)sim);
    for (i = 0; i < (int)D; i++) e2[i] = -e1[i];
    expect(avpgan_cosine(e1, e2, D, &sim), AVPGAN_OK, "avpgan_cosine(e, -e)");
    check(fabsf(sim + 1) < 1e-6f, "not -1", "cosine with the negated embedding is -1 (%.8f)", (double)sim);
    expect(avpgan_cosine(e1, zero, 4, &sim), AVPGAN_OK, "avpgan_cosine(e, 0)");
    check(sim == 0, "not 0", "cosine with a zero vector is 0");
    memcpy(nan4, e1, sizeof nan4);
    nan4[2] = strtof("nan", NULL);
    expect(avpgan_cosine(e1, nan4, 4, &sim), AVPGAN_E_INVALID_ARGUMENT, "avpgan_cosine with a NaN");
    expect(avpgan_cosine(e1, e1, 0, &sim), AVPGAN_E_INVALID_ARGUMENT, "avpgan_cosine with n = 0");
    expect(avpgan_cosine(e1, e1, D, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_cosine with NULL out");

    /* The same model from a buffer, and a truncated buffer. */
    bytes = read_file(face_path, &size);
    if (bytes != NULL) {
        expect(avpgan_face_model_load_buffer(bytes, size, NULL, &fm2), AVPGAN_OK, "avpgan_face_model_load_buffer");
        if (fm2 != NULL) {
            expect(avpgan_face_model_embed_rgb8(fm2, image, w, h, 0, e2, D, NULL), AVPGAN_OK, "face embed (buffer-loaded)");
            check(memcmp(e1, e2, D * sizeof(float)) == 0, "embeddings differ", "file- and buffer-loaded face models agree");
            avpgan_face_model_free(fm2);
        }
        fm2 = (avpgan_face_model *)&sentinel_target;
        expect(avpgan_face_model_load_buffer(bytes, size / 2, NULL, &fm2), AVPGAN_E_MODEL_FORMAT, "a truncated face model");
        check(fm2 == NULL, "out not cleared", "a failed buffer load sets *out_model to NULL");
        free(bytes);
    }

    /* Four threads embed at once and get the sequential result. */
    for (i = 0; i < 4; i++) {
        jobs[i].model = fm;
        jobs[i].image = image;
        jobs[i].width = w;
        jobs[i].height = h;
        jobs[i].status = AVPGAN_OK;
        pthread_create(&threads[i], NULL, face_thread, &jobs[i]);
    }
    same = 1;
    for (i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        same = same && jobs[i].status == AVPGAN_OK && memcmp(jobs[i].out, e1, D * sizeof(float)) == 0;
    }
    check(same, "a thread failed or differed", "4 threads embedding with one face model agree with the sequential result");

done:
    avpgan_face_model_free(fm);
    avpgan_face_model_free(NULL);
    free(image);
    free(padded);
    free(e1);
    free(e2);
}
