/* The trainer at tiny widths on a synth-data set: create, info, step, gan_step's refusals,
 * checkpoints with and without a data set (bit-identical resumption), run with progress and
 * abort, one call at a time, save and export. */
#include "api.h"

void test_trainer(const char *model_path, const char *data)
{
    trainer_paths p;
    const char *voices = p.voices, *faces = p.faces, *ckpt0 = p.ckpt0, *ckpt1 = p.ckpt1, *exported = p.exported;
    const char *missing_dir = p.missing_dir, *holdout = p.holdout, *garbage = p.garbage, *meta = p.meta;
    avpgan_trainer_params tp, big_tp[2];
    avpgan_trainer_info info;
    avpgan_trainer *t = NULL, *u = NULL, *out = NULL;
    float l1[AVPGAN_N_LOSSES], l2[AVPGAN_N_LOSSES];
    float losses_a[3][AVPGAN_N_LOSSES], losses_b[3][AVPGAN_N_LOSSES];
    uint64_t done = 0, before;
    batch b;
    run_state rs;
    int i;

    p.model_path = model_path;
    snprintf(p.dir, sizeof p.dir, "%s", "/tmp/avpgan-test-trainer-XXXXXX");
    if (mkdtemp(p.dir) == NULL) {
        check(0, strerror(errno), "trainer: mkdtemp");
        return;
    }
    snprintf(p.voices, sizeof p.voices, "%s/voices", data);
    snprintf(p.faces, sizeof p.faces, "%s/faces", data);
    snprintf(p.cache, sizeof p.cache, "%s/cache", p.dir);
    snprintf(p.ckpt0, sizeof p.ckpt0, "%s/ckpt0.safetensors", p.dir);
    snprintf(p.ckpt1, sizeof p.ckpt1, "%s/ckpt1.safetensors", p.dir);
    snprintf(p.exported, sizeof p.exported, "%s/model.safetensors", p.dir);
    snprintf(p.missing_dir, sizeof p.missing_dir, "%s/no/such/dir/x.safetensors", p.dir);
    snprintf(p.holdout, sizeof p.holdout, "%s/holdout.txt", p.dir);
    snprintf(p.meta, sizeof p.meta, "%s/vox1_meta.csv", p.dir);
    snprintf(p.garbage, sizeof p.garbage, "%s/garbage.safetensors", p.dir);
    snprintf(p.gated, sizeof p.gated, "%s/residual-gate.safetensors", p.dir);

    test_trainer_create(&p, &tp);
    /* A newer header's larger struct: what follows the known fields is zero. */
    memset(big_tp, 0, sizeof big_tp);

    /* ---- create ---- */
    memcpy(&big_tp[0], &tp, sizeof tp);
    big_tp[0].struct_size = sizeof big_tp;
    ((unsigned char *)big_tp)[sizeof tp + 3] = 0;
    expect(avpgan_trainer_create(&big_tp[0], &t), AVPGAN_OK,
           "avpgan_trainer_create(tiny, batch 2, newer struct with a zero tail)");
    if (t == NULL) {
        check(0, "no trainer", "avpgan_trainer_create returned a trainer");
        goto done;
    }
    avpgan_trainer_free(t);
    expect(avpgan_trainer_create(&tp, &t), AVPGAN_OK, "avpgan_trainer_create(tiny, batch 2)");
    if (t == NULL) {
        goto done;
    }

    /* ---- info ---- */
    info.struct_size = sizeof info;
    expect(avpgan_trainer_get_info(NULL, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_get_info(NULL trainer)");
    expect(avpgan_trainer_get_info(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_get_info(NULL info)");
    info.struct_size = 4;
    expect(avpgan_trainer_get_info(t, &info), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_get_info(struct_size 4)");
    info.struct_size = sizeof info;
    expect(avpgan_trainer_get_info(t, &info), AVPGAN_OK, "avpgan_trainer_get_info");
    check(info.step == 0 && info.arch == AVPGAN_ARCH_AVPGAN && strcmp(info.arch_name, "avpgan") == 0 &&
              info.n_mels == 64 && info.embed_dim == g_info.embed_dim && info.image_size == 64 &&
              info.n_identities == 3 && info.batch_size == 2 && info.has_dataset == 1 &&
              info.n_generator_widths == 5 && info.generator_widths[0] == 128 && info.n_face_widths == 5 &&
              info.face_widths[4] == 64 && info.n_voice_widths == g_info.n_voice_widths &&
              info.n_trained_parameters > 0 && info.health == 0 && info.generator_spectral_norm == 1,
          "wrong info", "trainer info: step 0, avpgan, 3 identities, batch 2, tiny widths, data set");

    /* ---- step ---- */
    expect(avpgan_trainer_step(NULL, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_step(NULL trainer)");
    expect(avpgan_trainer_step(t, l1), AVPGAN_OK, "avpgan_trainer_step");
    check(losses_ok(l1), "losses out of (0, 100)", "avpgan_trainer_step: five losses %.4f %.4f %.4f %.4f %.4f",
          l1[0], l1[1], l1[2], l1[3], l1[4]);
    expect(avpgan_trainer_step(t, NULL), AVPGAN_OK, "avpgan_trainer_step(losses NULL)");
    check(trainer_step(t) == 2, "wrong step", "two steps counted");

    /* ---- gan_step: errors change nothing ---- */
    if (batch_alloc(&b, 2, 24, info.embed_dim, 64, (int32_t)info.n_identities) != 0) {
        check(0, "malloc", "trainer: batch");
        goto done;
    }
    expect(avpgan_trainer_save(t, ckpt0), AVPGAN_OK, "avpgan_trainer_save");
    before = trainer_step(t);
    expect(avpgan_trainer_gan_step(NULL, 2, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL trainer)");
    expect(avpgan_trainer_gan_step(t, 0, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n 0)");
    expect(avpgan_trainer_gan_step(t, 4097, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n 4097)");
    expect(avpgan_trainer_gan_step(t, 2, 0, 64, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n_frames 0)");
    expect(avpgan_trainer_gan_step(t, 2, (size_t)1 << 21, 64, b.voices, b.voice_labels, b.faces, b.face_labels,
                                   b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n_frames 2^21)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 63, b.voices, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(n_mels 63)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, NULL, b.voice_labels, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL voices)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, NULL, b.faces, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL voice_labels)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, b.voice_labels, NULL, b.face_labels, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL faces)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, b.voice_labels, b.faces, NULL, b.noise, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL face_labels)");
    expect(avpgan_trainer_gan_step(t, 2, 24, 64, b.voices, b.voice_labels, b.faces, b.face_labels, NULL, l1),
           AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NULL noise)");
    b.voice_labels[1] = -1;
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(voice label -1)");
    b.voice_labels[1] = (int32_t)info.n_identities;
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(voice label = n_identities)");
    b.voice_labels[1] = 1;
    b.face_labels[0] = (int32_t)info.n_identities + 7;
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(face label out of range)");
    b.face_labels[0] = 1;
    b.voices[100] = strtof("nan", NULL);
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(NaN in voices)");
    b.voices[100] = 0.5f;
    b.faces[3] = strtof("inf", NULL);
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(inf in faces)");
    b.faces[3] = 0.5f;
    b.noise[1] = strtof("-inf", NULL);
    expect(gan_step(t, &b, l1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_gan_step(-inf in noise)");
    b.noise[1] = 0.01f;
    check(trainer_step(t) == before, "step moved", "refused batches take no step");
    expect(gan_step(t, &b, l1), AVPGAN_OK, "avpgan_trainer_gan_step(n 2, 24 frames)");
    check(losses_ok(l1), "losses out of (0, 100)", "avpgan_trainer_gan_step: five losses");
    check(trainer_step(t) == before + 1, "step did not move", "avpgan_trainer_gan_step counts one step");

    /* ---- load_checkpoint without a data set: continues bit-identically ---- */
    out = TRAINER_SENTINEL;
    expect(avpgan_trainer_load_checkpoint(NULL, NULL, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(NULL path)");
    check(out == NULL, "not NULL", "avpgan_trainer_load_checkpoint failure sets *out_trainer = NULL");
    expect(avpgan_trainer_load_checkpoint(ckpt0, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(NULL out)");
    expect(avpgan_trainer_load_checkpoint("/nonexistent-avpgan-dir/c.safetensors", NULL, &out), AVPGAN_E_IO,
           "avpgan_trainer_load_checkpoint(missing file)");
    expect(avpgan_trainer_load_checkpoint(model_path, NULL, &out), AVPGAN_E_MODEL_FORMAT,
           "avpgan_trainer_load_checkpoint(a model file, not a checkpoint)");
    write_file(garbage, "not a safetensors file at all", 29);
    expect(avpgan_trainer_load_checkpoint(garbage, NULL, &out), AVPGAN_E_MODEL_FORMAT,
           "avpgan_trainer_load_checkpoint(garbage)");
    expect(avpgan_trainer_load_checkpoint(ckpt0, NULL, &u), AVPGAN_OK, "avpgan_trainer_load_checkpoint(no data set)");
    if (u != NULL) {
        info.struct_size = sizeof info;
        expect(avpgan_trainer_get_info(u, &info), AVPGAN_OK, "avpgan_trainer_get_info(loaded)");
        check(info.step == before && info.has_dataset == 0 && info.batch_size == 0 && info.n_identities == 3,
              "wrong info", "loaded trainer: step %lu, no data set", (unsigned long)info.step);
        expect(gan_step(u, &b, l2), AVPGAN_OK, "avpgan_trainer_gan_step(loaded)");
        check(memcmp(l1, l2, sizeof l1) == 0, "losses differ",
              "save, refused batches, load: the same batch gives bit-identical losses");
        expect(avpgan_trainer_step(u, l2), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_step(no data set)");
        done = 99;
        expect(avpgan_trainer_run(u, 2, NULL, NULL, NULL, NULL, &done), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_trainer_run(no data set)");
        check(done == 0, "steps_done not 0", "avpgan_trainer_run(no data set): *steps_done 0");
        avpgan_trainer_free(u);
        u = NULL;
    }

    /* ---- load_checkpoint with a data set ---- */
    tp.voices_dir = voices;
    tp.faces_dir = NULL;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(voices_dir without faces_dir)");
    tp.faces_dir = faces;
    write_file(holdout, "id0002\n", 7);
    tp.test_list = holdout;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(data set of 2 identities, checkpoint of 3)");
    tp.split = AVPGAN_SPLIT_INITIAL_LETTER;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(initial-letter split with a test_list)");
    tp.test_list = NULL;
    tp.split = 7;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(split 7)");
    tp.split = AVPGAN_SPLIT_INITIAL_LETTER;
    /* synth-data names identities id0000...: all start with i, so all three train. */
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &u), AVPGAN_OK,
           "avpgan_trainer_load_checkpoint(initial-letter split: 3 training identities as the checkpoint)");
    avpgan_trainer_free(u);
    u = NULL;
    /* The VoxCeleb layout: a meta table joins voice folders to face folders; its Set column
     * is the corpus's own split. Here the ids join to themselves and id0002 is a test speaker. */
    tp.split = AVPGAN_SPLIT_CORPUS_SET;
    expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_load_checkpoint(AVPGAN_SPLIT_CORPUS_SET without meta_file)");
    check(strstr(avpgan_last_error(), "meta_file") != NULL, avpgan_last_error(),
          "the corpus-set error names params.meta_file");
    {
        static const char table[] = "VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet\n"
                                    "id0000\tid0000\tm\tUSA\tdev\nid0001\tid0001\tf\tUK\tdev\nid0002\tid0002\tm\tUK\ttest\n";
        write_file(meta, table, sizeof table - 1);
        tp.meta_file = meta;
        expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_trainer_load_checkpoint(corpus split holds out id0002: 2 identities, checkpoint of 3)");
        tp.split = AVPGAN_SPLIT_INITIAL_LETTER;
        expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &u), AVPGAN_OK,
               "avpgan_trainer_load_checkpoint(meta_file joined, initial-letter split: 3 identities)");
        avpgan_trainer_free(u);
        u = NULL;
        write_file(meta, "id,name\nid0000,x\n", 18);
        expect(avpgan_trainer_load_checkpoint(ckpt0, &tp, &out), AVPGAN_E_INVALID_ARGUMENT,
               "avpgan_trainer_load_checkpoint(meta_file not a VoxCeleb table)");
        check(strstr(avpgan_last_error(), "VoxCeleb1 ID") != NULL, avpgan_last_error(),
              "a table without the VoxCeleb columns is named as such");
        tp.meta_file = NULL;
    }
    tp.split = AVPGAN_SPLIT_TEST_LIST;
    expect(avpgan_trainer_save(t, ckpt1), AVPGAN_OK, "avpgan_trainer_save(after gan_step)");
    for (i = 0; i < 3; i++) {
        expect(avpgan_trainer_step(t, losses_a[i]), AVPGAN_OK, "avpgan_trainer_step %d (straight)", i);
    }
    expect(avpgan_trainer_load_checkpoint(ckpt1, &tp, &u), AVPGAN_OK, "avpgan_trainer_load_checkpoint(data set)");
    if (u != NULL) {
        for (i = 0; i < 3; i++) {
            expect(avpgan_trainer_step(u, losses_b[i]), AVPGAN_OK, "avpgan_trainer_step %d (resumed)", i);
        }
        check(memcmp(losses_a, losses_b, sizeof losses_a) == 0, "losses differ",
              "save, load with the data set, 3 steps: bit-identical to 3 straight steps");
        check(trainer_step(u) == trainer_step(t), "steps differ", "resumed step count equals the straight one");
        avpgan_trainer_free(u);
        u = NULL;
    }

    /* ---- run: progress, abort ---- */
    before = trainer_step(t);
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    expect(avpgan_trainer_run(NULL, 2, NULL, NULL, NULL, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_run(NULL trainer)");
    expect(avpgan_trainer_run(t, 0, NULL, NULL, NULL, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT,
           "avpgan_trainer_run(n_steps 0)");
    expect(avpgan_trainer_run(t, 3, on_progress, &rs, on_abort, &rs, &done), AVPGAN_OK, "avpgan_trainer_run(3)");
    check(done == 3 && rs.calls == 3 && rs.last_done == 3 && rs.last_total == 3 && rs.order_ok && rs.losses_ok &&
              rs.abort_calls == 3 && trainer_step(t) == before + 3,
          "wrong progress", "run(3): progress 1/3..3/3 with losses, abort asked 3 times, 3 steps (done %lu)",
          (unsigned long)done);
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    rs.abort_after = 2;
    before = trainer_step(t);
    expect(avpgan_trainer_run(t, 5, on_progress, &rs, on_abort, &rs, &done), AVPGAN_E_ABORTED,
           "avpgan_trainer_run(5, abort after 2)");
    check(done == 2 && rs.calls == 2 && trainer_step(t) == before + 2, "wrong count",
          "aborted run: *steps_done 2, 2 progress calls, 2 steps taken");
    before = trainer_step(t);
    expect(avpgan_trainer_run(t, 2, NULL, NULL, abort_always, NULL, &done), AVPGAN_E_ABORTED,
           "avpgan_trainer_run(abort before the first step)");
    check(done == 0 && trainer_step(t) == before, "steps taken", "abort before the first step: nothing done");
    expect(avpgan_trainer_run(t, 1, NULL, NULL, NULL, NULL, NULL), AVPGAN_OK,
           "avpgan_trainer_run(1, no callbacks, steps_done NULL)");

    /* ---- one call at a time ---- */
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    rs.trainer = t;
    rs.reenter = 1;
    rs.reenter_step = rs.reenter_info = AVPGAN_OK;
    expect(avpgan_trainer_run(t, 1, on_progress_reenter, &rs, NULL, NULL, &done), AVPGAN_OK,
           "avpgan_trainer_run(1, progress calls back into the trainer)");
    check(rs.reenter_step == AVPGAN_E_INVALID_ARGUMENT && rs.reenter_info == AVPGAN_E_INVALID_ARGUMENT,
          "reentrant call not refused", "calls on the trainer from its progress callback are refused (%s, %s)",
          status_name(rs.reenter_step), status_name(rs.reenter_info));
    memset(&rs, 0, sizeof rs);
    rs.order_ok = rs.losses_ok = 1;
    rs.trainer = t;
    rs.other_thread = 1;
    before = trainer_step(t);
    expect(avpgan_trainer_run(t, 2, on_progress_other_thread, &rs, NULL, NULL, &done), AVPGAN_OK,
           "avpgan_trainer_run(2, another thread calls the trainer meanwhile)");
    check(rs.other_status == AVPGAN_E_INVALID_ARGUMENT && strstr(rs.other_error, "busy") != NULL,
          rs.other_error, "a call from another thread during a run is refused: %s \"%s\"",
          status_name(rs.other_status), rs.other_error);
    check(trainer_step(t) == before + 2, "wrong step", "the run was not disturbed (2 steps)");

    /* ---- save, export ---- */
    expect(avpgan_trainer_save(NULL, ckpt1), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_save(NULL trainer)");
    expect(avpgan_trainer_save(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_save(NULL path)");
    expect(avpgan_trainer_save(t, ""), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_save(\"\")");
    expect(avpgan_trainer_save(t, missing_dir), AVPGAN_E_IO, "avpgan_trainer_save(missing directory)");
    expect(avpgan_trainer_export(NULL, exported), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_export(NULL trainer)");
    expect(avpgan_trainer_export(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "avpgan_trainer_export(NULL path)");
    expect(avpgan_trainer_export(t, missing_dir), AVPGAN_E_IO, "avpgan_trainer_export(missing directory)");
    expect(avpgan_trainer_export(t, exported), AVPGAN_OK, "avpgan_trainer_export");
    {
        avpgan_model *m = NULL;
        avpgan_model_info mi;
        float emb[AVPGAN_MAX_EMBED], *img;
        size_t k, e;
        expect(avpgan_model_load_file(exported, NULL, &m), AVPGAN_OK, "avpgan_model_load_file(exported)");
        if (m != NULL) {
            mi.struct_size = sizeof mi;
            expect(avpgan_model_get_info(m, &mi), AVPGAN_OK, "avpgan_model_get_info(exported)");
            check(mi.arch == AVPGAN_ARCH_AVPGAN && mi.n_generator_widths == 5 && mi.generator_widths[0] == 128,
                  "wrong model", "the exported model is the trainer's avpgan generator");
            e = mi.embed_dim;
            for (k = 0; k < e; k++) {
                emb[k] = 0.1f; /* any finite embedding: the generator takes it as given */
            }
            img = malloc(3 * 64 * 64 * sizeof(float));
            if (img != NULL) {
                expect(avpgan_model_generate(m, emb, 1, e, img, 3 * 64 * 64, NULL), AVPGAN_OK,
                       "avpgan_model_generate(exported)");
                free(img);
            }
            avpgan_model_free(m);
        }
    }
    avpgan_trainer_free(NULL);
    batch_free(&b);

done:
    avpgan_trainer_free(t);
    nftw(p.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
