/* The trainer's params_init and create: defaults, every refused argument, structs of older and
 * newer headers, the recipe options, and stop_on_collapse. */
#include "api.h"

/* Creates a trainer of `params` (`what`: the call, for the report), reads its info into `info`
 * and frees it; 0 when it was not created. */
static int created_info(const avpgan_trainer_params *params, const char *what, avpgan_trainer_info *info)
{
    avpgan_trainer *t = NULL;
    expect(avpgan_trainer_create(params, &t), AVPGAN_OK, what);
    if (t == NULL) return 0;
    info->struct_size = sizeof *info;
    expect(avpgan_trainer_get_info(t, info), AVPGAN_OK, "avpgan_trainer_get_info");
    avpgan_trainer_free(t);
    return 1;
}

void test_trainer_create(const trainer_paths *p, avpgan_trainer_params *out_tp)
{
    const char *model_path = p->model_path, *voices = p->voices, *faces = p->faces, *cache = p->cache;
    const char *ckpt0 = p->ckpt0, *gated = p->gated;
    avpgan_trainer_params tp, big_tp[2];
    avpgan_trainer_info info;
    avpgan_trainer *t = NULL, *out = NULL;
    uint64_t done = 0;

    /* ---- params ---- */
    expect(avpgan_trainer_params_init(NULL, sizeof tp), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_params_init(NULL)");
    /* The first header's struct ended with split (sizeof = offsetof(stop_on_collapse)). */
    expect(avpgan_trainer_params_init(&tp, offsetof(avpgan_trainer_params, stop_on_collapse) - 1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_params_init(&p, first sizeof - 1)");
    expect(avpgan_trainer_params_init(&tp, sizeof tp), AVPGAN_OK, "avpgan_trainer_params_init");
    check(tp.struct_size == sizeof tp && tp.arch == AVPGAN_ARCH_AVPGAN && tp.widths == AVPGAN_WIDTHS_FULL &&
              tp.batch_size == 64 && tp.seed == 1 && tp.voices_dir == NULL && tp.faces_dir == NULL &&
              tp.test_list == NULL && tp.voice_encoder == NULL && tp.cache_dir == NULL &&
              tp.split == AVPGAN_SPLIT_TEST_LIST && tp.generator_spectral_norm == 1 && tp.stop_on_collapse == 0 &&
              tp.health_warm_up == 500 && tp.meta_file == NULL && tp.allreduce == NULL && tp.n_ranks == 0 &&
              tp.generator_cbam == 1 && tp.cbam_reduction == 16 && tp.cbam_gate == AVPGAN_CBAM_GATE_RESIDUAL,
          "wrong defaults",
          "avpgan_trainer_params defaults (avpgan, full, batch 64, seed 1, no paths, generator spectral norm, "
          "warn only, warm-up 500, generator CBAM, CBAM reduction 16, residual CBAM gate)");

    /* ---- create: errors ---- */
    tp.widths = AVPGAN_WIDTHS_TINY;
    tp.batch_size = 2;
    tp.seed = 5;
    tp.voices_dir = voices;
    tp.faces_dir = faces;
    tp.voice_encoder = model_path;
    tp.cache_dir = cache;
    out = TRAINER_SENTINEL;
    expect(avpgan_trainer_create(NULL, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(NULL params)");
    check(out == NULL, "not NULL", "avpgan_trainer_create failure sets *out_trainer = NULL");
    expect(avpgan_trainer_create(&tp, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(NULL out)");
    tp.voices_dir = NULL;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(voices_dir NULL)");
    tp.voices_dir = voices;
    tp.faces_dir = "";
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(faces_dir \"\")");
    tp.faces_dir = faces;
    tp.voice_encoder = NULL;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(voice_encoder NULL)");
    tp.voice_encoder = model_path;
    tp.cache_dir = NULL;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cache_dir NULL)");
    tp.cache_dir = cache;
    tp.arch = 3;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(arch 3)");
    tp.arch = AVPGAN_ARCH_AVPGAN;
    tp.widths = 2;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(widths 2)");
    tp.widths = AVPGAN_WIDTHS_TINY;
    tp.batch_size = 0;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(batch_size 0)");
    tp.batch_size = 4097;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(batch_size 4097)");
    tp.batch_size = 2;
    tp.generator_spectral_norm = 2;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(generator_spectral_norm 2)");
    tp.generator_spectral_norm = 1;
    tp.health_warm_up = 0;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(health_warm_up 0)");
    tp.health_warm_up = 500;
    tp.generator_cbam = -1;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(generator_cbam -1)");
    tp.generator_cbam = 1;
    tp.cbam_reduction = 0;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cbam_reduction 0)");
    tp.cbam_reduction = 65537;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cbam_reduction 65537)");
    tp.cbam_reduction = 16;
    tp.cbam_gate = 2;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(cbam_gate 2)");
    check(strstr(avpgan_last_error(), "cbam_gate") != NULL, avpgan_last_error(), "the cbam_gate error names the field");
    tp.cbam_gate = AVPGAN_CBAM_GATE_SIGMOID;
    tp.cbam_reduction = 16;
    tp.struct_size = 8;
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_create(struct_size 8)");
    tp.struct_size = sizeof tp;
    memset(big_tp, 0, sizeof big_tp);
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = sizeof big_tp;
    ((unsigned char *)big_tp)[sizeof tp + 3] = 1;
    expect(avpgan_trainer_create(&big_tp[0], &out), AVPGAN_E_UNSUPPORTED,
           "avpgan_trainer_create(newer struct with a non-zero unknown field)");
    tp.voices_dir = "/nonexistent-avpgan-dir/voices";
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_IO, "avpgan_trainer_create(voices_dir missing)");
    tp.voices_dir = voices;
    tp.voice_encoder = "/nonexistent-avpgan-dir/model.safetensors";
    expect(avpgan_trainer_create(&tp, &out), AVPGAN_E_IO, "avpgan_trainer_create(voice_encoder missing)");
    tp.voice_encoder = model_path;

    /* ---- create: a caller of the first header (struct_size up to split; what follows is
     *      its padding, here garbage) gets the defaults of the new fields ---- */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = offsetof(avpgan_trainer_params, stop_on_collapse);
    big_tp[0].generator_spectral_norm = 0;
    big_tp[0].stop_on_collapse = 1;
    expect(avpgan_trainer_create(&big_tp[0], &t), AVPGAN_OK, "avpgan_trainer_create(the first header's struct_size)");
    if (t != NULL) {
        info.struct_size = offsetof(avpgan_trainer_info, health);
        info.health = 99;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info(the first header's struct_size)");
        check(info.health == 99 && info.n_trained_parameters > 0, "wrote past struct_size",
              "avpgan_trainer_get_info fills only the first header's fields");
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.generator_spectral_norm == 1 && info.health == 0 && info.health_step == 0, "padding was read",
              "an old-size params struct (padding 0): generator spectral norm on (the default), healthy");
        avpgan_trainer_free(t);
        t = NULL;
    }
    tp.generator_spectral_norm = 0;
    if (created_info(&tp, "avpgan_trainer_create(generator_spectral_norm 0)", &info))
        check(info.generator_spectral_norm == 0, "on", "generator_spectral_norm 0 reaches the trainer");
    tp.generator_spectral_norm = 1;

    /* ---- the CBAM recipe options reach the trainer; a struct_size from before them (the
     *      bytes after it garbage) keeps their defaults ---- */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = offsetof(avpgan_trainer_params, generator_cbam);
    big_tp[0].generator_cbam = 7;
    big_tp[0].cbam_reduction = 0;
    if (created_info(&big_tp[0], "avpgan_trainer_create(struct_size before generator_cbam)", &info))
        check(info.generator_cbam == 1 && info.cbam_reduction == 16, "fields past struct_size were read",
              "an older params struct: CBAM in the generator, reduction 16 (the defaults)");
    tp.generator_cbam = 0;
    tp.cbam_reduction = 4;
    if (created_info(&tp, "avpgan_trainer_create(generator_cbam 0, cbam_reduction 4)", &info))
        check(info.generator_cbam == 0 && info.cbam_reduction == 4, "ignored",
              "generator_cbam 0 and cbam_reduction 4 reach the trainer");
    tp.generator_cbam = 1;
    tp.cbam_reduction = 16;
    /* The CBAM gate: a struct_size from before it keeps the sigmoid gate it was built with
     * (the default is residual since the field exists); the residual gate reaches the trainer
     * and its checkpoint. */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = offsetof(avpgan_trainer_params, cbam_gate);
    big_tp[0].cbam_gate = 9;
    if (created_info(&big_tp[0], "avpgan_trainer_create(struct_size before cbam_gate)", &info))
        check(info.cbam_gate == AVPGAN_CBAM_GATE_SIGMOID, "a field past struct_size was read",
              "an older params struct: the sigmoid CBAM gate its caller was built with");
    tp.cbam_gate = AVPGAN_CBAM_GATE_RESIDUAL;
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(cbam_gate residual)");
    if (t != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check(info.cbam_gate == AVPGAN_CBAM_GATE_RESIDUAL, "ignored", "cbam_gate residual reaches the trainer");
        expect(avpgan_trainer_save(t, gated), AVPGAN_OK, "avpgan_trainer_save(residual gate)");
        avpgan_trainer_free(t);
        t = NULL;
        expect(avpgan_trainer_load_checkpoint(gated, NULL, &t), AVPGAN_OK, "avpgan_trainer_load_checkpoint(residual gate)");
        if (t != NULL) {
            info.struct_size = sizeof info;
            expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
            check(info.cbam_gate == AVPGAN_CBAM_GATE_RESIDUAL, "lost", "the checkpoint keeps the residual CBAM gate");
            avpgan_trainer_free(t);
            t = NULL;
        }
    }
    tp.cbam_gate = AVPGAN_CBAM_GATE_SIGMOID;

    /* ---- stop_on_collapse: judged from the first step (health_warm_up 1), a fresh
     *      generator's faces are all alike (their spread ~1e-5, the threshold 0.01), so the
     *      run stops after one step with a message naming the warning ---- */
    tp.stop_on_collapse = 1;
    tp.health_warm_up = 1;
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(stop_on_collapse, health_warm_up 1)");
    if (t != NULL) {
        done = 0;
        expect(avpgan_trainer_run(t, 5, NULL, NULL, NULL, NULL, &done), AVPGAN_E_ABORTED,
               "avpgan_trainer_run stops on collapse");
        check(done == 1 && strstr(avpgan_last_error(), "collapse") != NULL, avpgan_last_error(),
              "stop_on_collapse: one step taken, the message names the collapse");
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
        check((info.health & AVPGAN_HEALTH_COLLAPSE) && info.health_step == 1 && info.batch_spread >= 0.0f &&
                  info.batch_spread < 0.01f,
              "wrong health", "info.health has AVPGAN_HEALTH_COLLAPSE since step 1, a tiny batch spread");
        expect(avpgan_trainer_save(t, ckpt0), AVPGAN_OK, "avpgan_trainer_save(unhealthy)");
        avpgan_trainer_free(t);
        t = NULL;
        expect(avpgan_trainer_load_checkpoint(ckpt0, NULL, &t), AVPGAN_OK, "avpgan_trainer_load_checkpoint(unhealthy)");
        if (t != NULL) {
            info.struct_size = sizeof info;
            expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
            check((info.health & AVPGAN_HEALTH_COLLAPSE) && info.health_step == 1, "lost",
                  "the checkpoint keeps the health warning");
            avpgan_trainer_free(t);
            t = NULL;
        }
    }
    tp.stop_on_collapse = 0;
    tp.health_warm_up = 500;
    *out_tp = tp;
}
