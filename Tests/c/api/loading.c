/* Loading a model: NULL pointers, files that are not models (missing, a directory, noise,
 * truncated, a newer format, a header over the cap), a good load, and get_info. */
#include "api.h"

void test_load_arguments(const char *model_path)
{
    const char *path = model_path;
    avpgan_model *m;

    m = SENTINEL;
    expect(avpgan_model_load_file(NULL, NULL, &m), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_file(NULL path)");
    check(m == NULL, "*out_model was not set to NULL", "avpgan_model_load_file failure sets *out_model = NULL");
    expect(avpgan_model_load_file(path, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_file(out_model NULL)");
    m = SENTINEL;
    expect(avpgan_model_load_buffer(NULL, 100, NULL, &m), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_buffer(NULL data, 100)");
    check(m == NULL, "*out_model was not set to NULL", "avpgan_model_load_buffer failure sets *out_model = NULL");
}

void test_load_bad_files(const unsigned char *file, size_t file_size)
{
    avpgan_model *m = NULL;
    avpgan_model_params mp;
    unsigned char *copy = NULL;
    char tmp_path[] = "/tmp/avpgan-test-api-XXXXXX";
    int tmp_fd;

    expect(avpgan_model_load_buffer(file, file_size, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_buffer(out_model NULL)");

    m = SENTINEL;
    expect(avpgan_model_load_file("/nonexistent-avpgan-dir/none.safetensors", NULL, &m), AVPGAN_E_IO,
           "avpgan_model_load_file(nonexistent path)");
    check(m == NULL, "*out_model was not set to NULL", "failed load_file leaves *out_model NULL");
    m = SENTINEL;
    expect(avpgan_model_load_file("/tmp", NULL, &m), AVPGAN_E_IO, "avpgan_model_load_file(\"/tmp\", a directory)");
    check(m == NULL, "*out_model was not set to NULL", "failed load_file leaves *out_model NULL");
    {
        unsigned char noise[4096];
        unsigned char empty[1] = {0};
        size_t i;
        for (i = 0; i < sizeof noise; i++) {
            noise[i] = (unsigned char)(uniform() * 256.0);
        }
        m = SENTINEL;
        expect(avpgan_model_load_buffer(noise, sizeof noise, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(4096 random bytes)");
        check(m == NULL, "*out_model was not set to NULL", "failed load_buffer leaves *out_model NULL");
        /* A small header length followed by garbage. */
        noise[0] = 16;
        for (i = 1; i < 8; i++) {
            noise[i] = 0;
        }
        expect(avpgan_model_load_buffer(noise, sizeof noise, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(header length 16 + random bytes)");
        expect(avpgan_model_load_buffer(empty, 0, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(0 bytes)");
        expect(avpgan_model_load_buffer(file, 7, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(first 7 bytes)");
        expect(avpgan_model_load_buffer(file, 8, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(first 8 bytes)");
        expect(avpgan_model_load_buffer(file, file_size / 2, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(first half of the model file)");
        expect(avpgan_model_load_buffer(file, file_size - 1, NULL, &m), AVPGAN_E_MODEL_FORMAT,
               "avpgan_model_load_buffer(model file minus its last byte)");
    }
    tmp_fd = mkstemp(tmp_path);
    if (tmp_fd >= 0) {
        close(tmp_fd);
        if (write_file(tmp_path, file, file_size / 2) == 0) {
            m = SENTINEL;
            expect(avpgan_model_load_file(tmp_path, NULL, &m), AVPGAN_E_MODEL_FORMAT,
                   "avpgan_model_load_file(truncated copy of the model file)");
            check(m == NULL, "*out_model was not set to NULL", "failed load_file leaves *out_model NULL");
        } else {
            check(0, tmp_path, "write a truncated copy of the model file");
        }
        remove(tmp_path);
    } else {
        check(0, strerror(errno), "create a temporary file");
    }
    /* A format newer than the library: same length, so the framing is intact. */
    copy = malloc(file_size);
    if (copy != NULL) {
        const char *key = "\"avpgan.format\"";
        size_t klen = strlen(key), i, hit = 0;
        memcpy(copy, file, file_size);
        for (i = 8; i + klen < file_size && i < 8 + 1000000; i++) {
            if (memcmp(copy + i, key, klen) == 0) {
                size_t j = i + klen;
                while (j < file_size && (copy[j] == ' ' || copy[j] == ':')) {
                    j++;
                }
                if (j + 2 < file_size && copy[j] == '"' && copy[j + 1] == '1' && copy[j + 2] == '"') {
                    copy[j + 1] = '9';
                    hit = 1;
                }
                break;
            }
        }
        if (hit) {
            expect(avpgan_model_load_buffer(copy, file_size, NULL, &m), AVPGAN_E_UNSUPPORTED,
                   "avpgan_model_load_buffer(model with avpgan.format \"9\")");
        } else {
            printf("skip avpgan.format \"9\": no \"avpgan.format\":\"1\" found in the header\n");
        }
    }
    /* A header cap smaller than the header. */
    expect(avpgan_model_params_init(&mp, sizeof mp), AVPGAN_OK, "avpgan_model_params_init");
    mp.max_header_bytes = 16;
    expect(avpgan_model_load_buffer(file, file_size, &mp, &m), AVPGAN_E_MODEL_FORMAT,
           "avpgan_model_load_buffer(max_header_bytes 16)");
    /* A params struct whose struct_size is wrong. */
    mp.max_header_bytes = 0;
    mp.struct_size = 0;
    expect(avpgan_model_load_buffer(file, file_size, &mp, &m), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_load_buffer(params.struct_size 0)");
    mp.struct_size = sizeof mp;
    free(copy);
}

avpgan_model *test_good_load(const char *model_path, const unsigned char *file, size_t file_size)
{
    const char *path = model_path;
    avpgan_model *model = NULL, *m = NULL;
    avpgan_model_params mp;

    avpgan_model_params_init(&mp, sizeof mp); /* its checks are test_params_init's */
    expect(avpgan_model_load_file(path, NULL, &model), AVPGAN_OK, "avpgan_model_load_file(%s)", path);
    if (model == NULL) {
        return NULL;
    }
    expect(avpgan_model_load_buffer(file, file_size, &mp, &m), AVPGAN_OK,
           "avpgan_model_load_buffer(the model file, default params)");
    avpgan_model_free(m);
    m = NULL;
    avpgan_model_free(NULL);
    check(1, NULL, "avpgan_model_free(NULL) returns");
    return model;
}

void test_get_info(const avpgan_model *model, avpgan_model_info *out_info)
{
    avpgan_model_info info;

    memset(&info, 0, sizeof info);
    expect(avpgan_model_get_info(NULL, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(NULL model)");
    expect(avpgan_model_get_info(model, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(NULL info)");
    info.struct_size = 0;
    expect(avpgan_model_get_info(model, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(struct_size 0)");
    info.struct_size = 3;
    expect(avpgan_model_get_info(model, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_model_get_info(struct_size 3)");
    info.struct_size = sizeof info - 1;
    expect(avpgan_model_get_info(model, &info), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_get_info(struct_size sizeof - 1)");
    {
        /* A caller built against a later header passes a larger struct. */
        union {
            avpgan_model_info info;
            unsigned char bytes[sizeof(avpgan_model_info) + 64];
        } bigger;
        memset(&bigger, 0, sizeof bigger);
        bigger.info.struct_size = sizeof bigger;
        expect(avpgan_model_get_info(model, &bigger.info), AVPGAN_OK,
               "avpgan_model_get_info(struct_size sizeof + 64)");
        check(bigger.info.embed_dim > 0 && bigger.info.struct_size == sizeof bigger, "fields not filled",
              "avpgan_model_get_info(larger struct) fills the known fields");
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    expect(avpgan_model_get_info(model, &info), AVPGAN_OK, "avpgan_model_get_info(sizeof)");
    check(strcmp(info.arch_name, "avpgan") == 0 && info.arch == AVPGAN_ARCH_AVPGAN, info.arch_name,
          "info: arch %d \"%s\"", (int)info.arch, info.arch_name);
    check(info.n_mels > 0 && info.embed_dim > 0 && info.image_size > 0 && info.image_channels == 3,
          "zero sizes", "info: n_mels %u embed_dim %u image %ux%ux%u", (unsigned)info.n_mels,
          (unsigned)info.embed_dim, (unsigned)info.image_size, (unsigned)info.image_size,
          (unsigned)info.image_channels);
    check(info.n_voice_widths >= 1 && info.n_voice_widths <= AVPGAN_MAX_LAYERS &&
              info.n_generator_widths >= 1 && info.n_generator_widths <= AVPGAN_MAX_LAYERS &&
              info.image_size == 4u << (info.n_generator_widths - 1),
          "inconsistent widths", "info: %u voice widths, %u generator widths, image_size = 4 * 2^(L-1)",
          (unsigned)info.n_voice_widths, (unsigned)info.n_generator_widths);
    check(info.n_face_widths == 0 && info.n_identities == 0, "heads reported for inference_only",
          "info: inference-only load has no face encoder/classifier");
    check(info.default_pixels == AVPGAN_PIXELS_CLAMP || info.default_pixels == AVPGAN_PIXELS_MINMAX,
          "MODEL_DEFAULT or unknown", "info: default_pixels %d", (int)info.default_pixels);
    check(info.n_parameters > 0, "zero", "info: n_parameters %llu", (unsigned long long)info.n_parameters);
    *out_info = info;
}
