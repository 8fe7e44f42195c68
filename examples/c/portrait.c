/*
 * portrait: a voice recording in, a face portrait PNG out.
 *
 *   portrait MODEL.safetensors VOICE.(wav|flac|ogg|mp3) OUT.png [SECONDS]
 *
 * Uses libavpgan's one-call API: the library decodes the recording (any format and rate),
 * keeps the voiced parts (WebRTC VAD), computes log-mel features, runs the voice encoder
 * and the generator, and writes a PNG with provenance text chunks.
 *
 * Build: cc -std=c99 -Wall -Wextra -Werror -Iinclude examples/c/portrait.c -Lbuild/lib -lavpgan
 */
#include <avpgan.h>

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what, avpgan_status status)
{
    fprintf(stderr, "portrait: %s: %s (%s)\n", what, avpgan_last_error(), avpgan_status_string(status));
    return 1;
}

int main(int argc, char **argv)
{
    avpgan_model *model = NULL;
    avpgan_portrait_params params;
    avpgan_portrait_info info;
    avpgan_status status;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s MODEL.safetensors VOICE OUT.png [SECONDS]\n", argv[0]);
        return 2;
    }
    if (avpgan_version_number() / 10000 != AVPGAN_VERSION_MAJOR) {
        fprintf(stderr, "portrait: built for libavpgan %s but running with %s\n", AVPGAN_VERSION_STRING, avpgan_version());
        return 1;
    }

    status = avpgan_model_load_file(argv[1], NULL, &model);
    if (status != AVPGAN_OK) return fail(argv[1], status);

    avpgan_portrait_params_init(&params, sizeof params);
    if (argc == 5) params.seconds = atof(argv[4]); /* the first SECONDS of voiced audio */

    info.struct_size = sizeof info;
    status = avpgan_portrait_file(model, argv[2], argv[3], &params, &info);
    if (status != AVPGAN_OK) {
        avpgan_model_free(model);
        return fail(argv[2], status);
    }
    printf("%s -> %s: %.2f s of voice (of %.2f s), %u feature frames, embedding [%.3f %.3f %.3f ...]\n",
           argv[2], argv[3], info.voiced_seconds, info.input_seconds, (unsigned)info.n_frames,
           info.embedding[0], info.embedding[1], info.embedding[2]);
    avpgan_model_free(model);
    return 0;
}
