/* The calls that need no loaded model, or only their own: versions and status strings, the
 * params_init contract, decoding and PNG misuse, the front end and portraits on misuse and
 * silence, the thread-count setting. */
#include "api.h"

void test_version_and_status(void)
{
    {
        const char *v = avpgan_version();
        uint32_t n = avpgan_version_number();
        char buf[64];
        int codes[] = {AVPGAN_OK, AVPGAN_E_INVALID_ARGUMENT, AVPGAN_E_BUFFER_TOO_SMALL,
                       AVPGAN_E_OUT_OF_MEMORY, AVPGAN_E_IO, AVPGAN_E_MODEL_FORMAT,
                       AVPGAN_E_UNSUPPORTED, AVPGAN_E_MISSING_NETWORK, AVPGAN_E_AUDIO_FORMAT,
                       AVPGAN_E_NO_SPEECH, AVPGAN_E_ABORTED, AVPGAN_E_INTERNAL};
        int unknown[] = {1, -11, -99, -101, 12345, -2147483647 - 1};
        size_t i;
        snprintf(buf, sizeof buf, "%u.%u.%u", (unsigned)(n / 10000), (unsigned)(n / 100 % 100),
                 (unsigned)(n % 100));
        check(v != NULL && strcmp(v, buf) == 0, v ? v : "(NULL)",
              "avpgan_version() \"%s\" agrees with avpgan_version_number() %u", v ? v : "(NULL)",
              (unsigned)n);
        check(AVPGAN_VERSION_COMPATIBLE(), "incompatible", "AVPGAN_VERSION_COMPATIBLE(): library %u serves header %d",
              (unsigned)n, AVPGAN_VERSION_NUMBER);
        check(n / 10000 == AVPGAN_VERSION_MAJOR, "major version differs",
              "library major version %u == header's %d", (unsigned)(n / 10000),
              AVPGAN_VERSION_MAJOR);
        for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            const char *s = avpgan_status_string((avpgan_status)codes[i]);
            check(s != NULL && s[0] != '\0', "NULL or empty", "avpgan_status_string(%s) = \"%s\"",
                  status_name(codes[i]), s ? s : "(NULL)");
        }
        for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
            const char *s = avpgan_status_string((avpgan_status)unknown[i]);
            check(s != NULL && strcmp(s, "unknown status") == 0, s ? s : "(NULL)",
                  "avpgan_status_string(%d) = \"unknown status\"", unknown[i]);
        }
    }
}

void test_params_init(const char *model_path)
{
    const char *path = model_path;
    avpgan_model_params mp;
    avpgan_generate_params gp;

    expect(avpgan_model_params_init(NULL, sizeof mp), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(NULL, sizeof)");
    expect(avpgan_model_params_init(&mp, 0), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(&p, 0)");
    expect(avpgan_model_params_init(&mp, 3), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(&p, 3)");
    expect(avpgan_model_params_init(&mp, sizeof mp - 1), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_model_params_init(&p, sizeof - 1)");
    {
        /* A caller built against a later header passes a larger struct: the known fields get
           their defaults, the unknown tail is zeroed; a non-zero tail on input is refused. */
        union { avpgan_model_params p; unsigned char bytes[sizeof(avpgan_model_params) + 8]; } big;
        size_t i, tail_zero = 1;
        memset(&big, 0xAB, sizeof big);
        expect(avpgan_model_params_init(&big.p, sizeof big), AVPGAN_OK,
               "avpgan_model_params_init(&p, sizeof + 8) (a newer header's larger struct)");
        for (i = sizeof(avpgan_model_params); i < sizeof big; i++) tail_zero &= big.bytes[i] == 0;
        check(tail_zero && big.p.inference_only == 1 && big.p.struct_size == sizeof big, "tail not zeroed or defaults wrong",
              "avpgan_model_params_init(larger struct) sets defaults and zeroes the unknown tail");
        big.bytes[sizeof big - 1] = 1;
        {
            avpgan_model *m2 = NULL;
            expect(avpgan_model_load_file(path, &big.p, &m2), AVPGAN_E_UNSUPPORTED,
                   "avpgan_model_load_file(params with an unknown non-zero field)");
            avpgan_model_free(m2);
        }
    }
    expect(avpgan_model_params_init(&mp, sizeof mp), AVPGAN_OK, "avpgan_model_params_init(&p, sizeof)");
    check(mp.struct_size == sizeof mp && mp.max_header_bytes == 0 && mp.inference_only == 1,
          "wrong defaults",
          "avpgan_model_params_init defaults (struct_size %lu, max_header_bytes %llu, inference_only %d)",
          (unsigned long)mp.struct_size, (unsigned long long)mp.max_header_bytes,
          (int)mp.inference_only);
    expect(avpgan_generate_params_init(NULL, sizeof gp), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_generate_params_init(NULL, sizeof)");
    expect(avpgan_generate_params_init(&gp, 0), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_generate_params_init(&p, 0)");
    {
        union { avpgan_generate_params p; unsigned char bytes[sizeof(avpgan_generate_params) + 8]; } big;
        memset(&big, 0xAB, sizeof big);
        expect(avpgan_generate_params_init(&big.p, sizeof big), AVPGAN_OK,
               "avpgan_generate_params_init(&p, sizeof + 8) (a newer header's larger struct)");
        check(big.p.pixels == AVPGAN_PIXELS_MODEL_DEFAULT && big.bytes[sizeof big - 1] == 0, "defaults or tail wrong",
              "avpgan_generate_params_init(larger struct) sets defaults and zeroes the unknown tail");
    }
    expect(avpgan_generate_params_init(&gp, sizeof gp), AVPGAN_OK,
           "avpgan_generate_params_init(&p, sizeof)");
    check(gp.struct_size == sizeof gp && gp.pixels == AVPGAN_PIXELS_MODEL_DEFAULT, "wrong defaults",
          "avpgan_generate_params_init defaults (pixels %d)", (int)gp.pixels);
}

void test_audio_and_png_misuse(void)
{
    {
        /* A 0.1 s, 16-bit mono WAV at 8 kHz made here. */
        unsigned char wav[44 + 1600];
        unsigned i;
        size_t needed = 0;
        float tiny[4];
        avpgan_audio_info ai;
        uint8_t px[2 * 2 * 3] = {0}, pngbuf[8];
        memset(wav, 0, sizeof wav);
        memcpy(wav, "RIFF", 4); wav[4] = (unsigned char)((36 + 1600) & 255); wav[5] = (unsigned char)((36 + 1600) >> 8);
        memcpy(wav + 8, "WAVEfmt ", 8); wav[16] = 16; wav[20] = 1; wav[22] = 1;
        wav[24] = 0x40; wav[25] = 0x1f; /* 8000 Hz */ wav[28] = 0x80; wav[29] = 0x3e; /* bytes/s */ wav[32] = 2; wav[34] = 16;
        memcpy(wav + 36, "data", 4); wav[40] = 1600 & 255; wav[41] = 1600 >> 8;
        for (i = 0; i < 800; i++) { short v = (short)((i % 40) * 500 - 10000); wav[44 + 2 * i] = (unsigned char)(v & 255); wav[45 + 2 * i] = (unsigned char)((v >> 8) & 255); }
        memset(&ai, 0, sizeof ai);
        ai.struct_size = sizeof ai;
        expect(avpgan_decode_buffer(wav, sizeof wav, 16000, NULL, 0, &needed, &ai), AVPGAN_OK,
               "avpgan_decode_buffer(NULL, 0) size query");
        check(needed == 1600 && ai.sample_rate == 16000 && ai.original_rate == 8000 && ai.channels == 1, "wrong info",
              "decode size query: needed %lu, rate %u <- %u, channels %u, format \"%s\"", (unsigned long)needed,
              (unsigned)ai.sample_rate, (unsigned)ai.original_rate, (unsigned)ai.channels, ai.format);
        expect(avpgan_decode_buffer(wav, sizeof wav, 16000, tiny, 4, &needed, NULL), AVPGAN_E_BUFFER_TOO_SMALL,
               "avpgan_decode_buffer(short buffer)");
        expect(avpgan_decode_buffer(NULL, 10, 16000, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_decode_buffer(NULL data)");
        expect(avpgan_decode_buffer(wav, sizeof wav, 7, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_decode_buffer(target_rate 7)");
        expect(avpgan_decode_buffer(wav, 20, 16000, NULL, 0, &needed, NULL), AVPGAN_E_AUDIO_FORMAT,
               "avpgan_decode_buffer(truncated header)");
        expect(avpgan_decode_file(NULL, 16000, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_decode_file(NULL path)");
        expect(avpgan_decode_file("/nonexistent/voice.wav", 16000, NULL, 0, &needed, NULL), AVPGAN_E_IO,
               "avpgan_decode_file(missing file)");
        expect(avpgan_decode_file("/", 16000, NULL, 0, &needed, NULL), AVPGAN_E_IO, "avpgan_decode_file(a directory)");
        ai.struct_size = 3;
        expect(avpgan_decode_buffer(wav, sizeof wav, 0, NULL, 0, &needed, &ai), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_decode_buffer(info.struct_size 3)");
        expect(avpgan_png_encode(NULL, 2, 2, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "avpgan_png_encode(NULL pixels)");
        expect(avpgan_png_encode(px, 0, 2, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "avpgan_png_encode(width 0)");
        expect(avpgan_png_encode(px, 2, 2, NULL, 0, &needed), AVPGAN_OK, "avpgan_png_encode size query");
        expect(avpgan_png_encode(px, 2, 2, pngbuf, sizeof pngbuf, &needed), AVPGAN_E_BUFFER_TOO_SMALL,
               "avpgan_png_encode(8-byte buffer)");
    }
}

void test_portrait_misuse(const char *model_path)
{
    const char *path = model_path;
    {
        avpgan_model *pm = NULL;
        avpgan_portrait_params pp;
        avpgan_frontend_params fp;
        avpgan_features_info fi;
        avpgan_portrait_info pi;
        static float silence[16000];
        float one[4] = {0, 0.5f, 0, 0};
        uint8_t face[64 * 64 * 3];
        size_t needed = 0;
        FILE *probe;
        expect(avpgan_model_load_file(path, NULL, &pm), AVPGAN_OK, "load model for portraits");
        expect(avpgan_portrait_params_init(&pp, sizeof pp), AVPGAN_OK, "avpgan_portrait_params_init");
        check(pp.vad == 1 && pp.vad_mode == 2 && pp.seconds == 0 && pp.provenance == 1 && pp.timestamp == 0 && pp.noise == 0,
              "wrong defaults", "avpgan_portrait_params_init defaults");
        expect(avpgan_frontend_params_init(&fp, sizeof fp), AVPGAN_OK, "avpgan_frontend_params_init");
        fi.struct_size = sizeof fi;
        pi.struct_size = sizeof pi;
        expect(avpgan_features_from_pcm(silence, 16000, 16000, &fp, NULL, 0, &needed, &fi), AVPGAN_E_NO_SPEECH,
               "avpgan_features_from_pcm(1 s of silence)");
        expect(avpgan_features_from_pcm(silence, 0, 16000, NULL, NULL, 0, &needed, NULL), AVPGAN_E_NO_SPEECH,
               "avpgan_features_from_pcm(0 samples)");
        expect(avpgan_features_from_pcm(NULL, 100, 16000, NULL, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_features_from_pcm(NULL samples)");
        fp.vad_mode = 7;
        expect(avpgan_features_from_pcm(silence, 16000, 16000, &fp, NULL, 0, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_features_from_pcm(vad_mode 7)");
        fp.vad_mode = 2;
        fp.vad = 0;
        expect(avpgan_features_from_pcm(one, 4, 16000, &fp, NULL, 0, &needed, &fi), AVPGAN_OK,
               "avpgan_features_from_pcm(4 samples, VAD off) size query");
        check(needed == 1000 * 64 && fi.n_frames == 1000 && fi.n_computed == 1, "wrong sizes",
              "features of 4 samples: needed %lu, frames %u, computed %u", (unsigned long)needed, (unsigned)fi.n_frames,
              (unsigned)fi.n_computed);
        expect(avpgan_portrait_pcm(NULL, one, 4, 16000, NULL, face, sizeof face, &needed, NULL), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_portrait_pcm(NULL model)");
        expect(avpgan_portrait_pcm(pm, silence, 16000, 16000, NULL, face, sizeof face, &needed, &pi), AVPGAN_E_NO_SPEECH,
               "avpgan_portrait_pcm(silence)");
        expect(avpgan_portrait_pcm(pm, one, 4, 16000, NULL, face, 10, &needed, NULL), AVPGAN_E_BUFFER_TOO_SMALL,
               "avpgan_portrait_pcm(10-byte buffer)");
        pp.vad = 0;
        pp.pixels = 9;
        expect(avpgan_portrait_pcm(pm, one, 4, 16000, &pp, face, sizeof face, &needed, &pi), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_portrait_pcm(pixels 9)");
        pp.pixels = AVPGAN_PIXELS_CLAMP;
        expect(avpgan_portrait_pcm(pm, one, 4, 16000, &pp, face, sizeof face, &needed, &pi), AVPGAN_OK,
               "avpgan_portrait_pcm(4 samples, VAD off)");
        check(pi.embed_dim == 16 && pi.n_frames == 1000, "wrong info", "portrait info: embed_dim %u, frames %u",
              (unsigned)pi.embed_dim, (unsigned)pi.n_frames);
        expect(avpgan_portrait_file(pm, NULL, "/tmp/x.png", NULL, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_portrait_file(NULL voice)");
        expect(avpgan_portrait_file(pm, "/nonexistent/v.wav", "/tmp/avpgan-test-never.png", NULL, NULL), AVPGAN_E_IO,
               "avpgan_portrait_file(missing voice)");
        expect(avpgan_portrait_file(pm, path, "/tmp/avpgan-test-never.png", NULL, NULL), AVPGAN_E_AUDIO_FORMAT,
               "avpgan_portrait_file(a model file as the voice)");
        probe = fopen("/tmp/avpgan-test-never.png", "rb");
        check(probe == NULL, "a PNG was written", "avpgan_portrait_file writes nothing on failure");
        if (probe) fclose(probe);
        avpgan_model_free(pm);
    }
}

void test_threads_setting(void)
{
    {
        int32_t before = avpgan_get_num_threads();
        check(before >= 1, "not positive", "avpgan_get_num_threads() = %d", (int)before);
        expect(avpgan_set_num_threads(-1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_set_num_threads(-1)");
        expect(avpgan_set_num_threads(before), AVPGAN_OK, "avpgan_set_num_threads(%d)", (int)before);
    }
}
