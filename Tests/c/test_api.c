/*
 * test_api.c — C-API misuse and edge cases of libavpgan. This file is main; the checks live in
 * Tests/c/api/, one file per area (basics, loading, inference, threads, trainer, enhancer trainer, face), and
 * main runs them in this order.
 *
 *   test_api MODEL.safetensors [DATA [FACE_MODEL.safetensors]]
 *       MODEL: Tests/Fixtures/golden/avpgan/model.safetensors; DATA: a data set from
 *       `avpgan synth-data` of 3 speakers (with it, the trainer is tested too, at tiny widths, and the
 *       enhancer trainer on faces it draws);
 *       FACE_MODEL: a face-recognition model (with it, the face API is tested too).
 *
 * Prints one line per check ("ok   ..." or "FAIL ...") and finally
 * "api: N passed, M failed"; exits 1 when any check failed, 2 on bad usage.
 *
 * Build (from the repository root):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -pthread -Iinclude Tests/c/test_api.c \
 *      $(ls Tests/c/api/[a-z]*.c) -Lbuild/lib -lavpgan -lm -o test_api
 */
#include "api/api.h"

int main(int argc, char **argv)
{
    const char *path;
    unsigned char *file = NULL;
    size_t file_size = 0;
    avpgan_model *model = NULL;
    avpgan_model_info info;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.safetensors [DATA [FACE_MODEL.safetensors]]\n", argv[0]);
        return 2;
    }
    path = argv[1];

    test_version_and_status();
    test_params_init(path);
    test_audio_and_png_misuse();
    test_portrait_misuse(path);
    test_threads_setting();

    test_load_arguments(path);
    file = read_file(path, &file_size);
    if (file == NULL) {
        fprintf(stderr, "test_api: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    test_load_bad_files(file, file_size);
    model = test_good_load(path, file, file_size);
    if (model == NULL) {
        printf("api: %d passed, %d failed\n", n_passed, n_failed + 1);
        return 1;
    }
    test_get_info(model, &info);
    g_model = model;
    g_info = info;
    if (test_inference(model, &info) != 0) {
        return 2;
    }
    test_threads_share_model();
    if (argc >= 3) {
        test_trainer(path, argv[2]);
        test_enhancer_trainer();
        test_prior_trainer();
    }
    if (argc == 4) {
        test_face(argv[3], path);
    }

    avpgan_model_free(model);
    free(file);
    printf("api: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
