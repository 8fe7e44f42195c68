/* The enhancer trainer at tiny widths on drawn 32 px faces: params_init, every refusal of create
 * and load_checkpoint (a status and a message naming the cause, *out NULL), step, run with
 * progress and abort, one call at a time, save, resume equal to the straight run bit for bit,
 * export, validate, and NULL handles. */
#include "api.h"
#include "drawn_faces.h"

#include <sys/stat.h>

#define FACE 32
#define AREA "enhancer trainer"

/* A step from inside a run's progress callback (refused: busy). */
static avpgan_status step_from_callback(void *trainer)
{
    return avpgan_enhancer_trainer_step(trainer, NULL, NULL);
}

/* The refusals of create: each a status naming the cause, and *out NULL. */
static void test_create_refusals(const avpgan_enhancer_trainer_params *good, const char *dir)
{
    avpgan_enhancer_trainer_params p;
    avpgan_enhancer_trainer *t = (avpgan_enhancer_trainer *)(void *)&sentinel_target;
    char mixed[1024], few[1024], missing[1024];
    snprintf(mixed, sizeof mixed, "%s/mixed", dir);
    snprintf(few, sizeof few, "%s/few", dir);
    snprintf(missing, sizeof missing, "%s/no/such/folder", dir);
    check(drawn_faces_write(mixed, 3, FACE, 64) == 0 && drawn_faces_write(few, 1, FACE, 0) == 0, strerror(errno), "enhancer trainer: refusal folders written");

    expect_named(AREA, avpgan_enhancer_trainer_create(NULL, &t), AVPGAN_E_INVALID_ARGUMENT, "params", "create(NULL params)");
    check(t == NULL, "not NULL", "enhancer trainer: a refused create sets *out_trainer to NULL");
    expect_named(AREA, avpgan_enhancer_trainer_create(good, NULL), AVPGAN_E_INVALID_ARGUMENT, "out_trainer", "create(NULL out)");
#define REFUSED(field_change, status, needle, what) \
    do { p = *good; field_change; t = (avpgan_enhancer_trainer *)(void *)&sentinel_target; \
         expect_named(AREA, avpgan_enhancer_trainer_create(&p, &t), status, needle, what); \
         check(t == NULL, "not NULL", "enhancer trainer: %s leaves *out_trainer NULL", what); \
         avpgan_enhancer_trainer_free(t == (avpgan_enhancer_trainer *)(void *)&sentinel_target ? NULL : t); } while (0)
    REFUSED(p.struct_size = 8, AVPGAN_E_INVALID_ARGUMENT, "struct_size", "create(struct_size 8)");
    REFUSED(p.faces_dir = NULL, AVPGAN_E_INVALID_ARGUMENT, "faces_dir", "create(no faces_dir)");
    REFUSED(p.faces_dir = "", AVPGAN_E_INVALID_ARGUMENT, "faces_dir", "create(empty faces_dir)");
    REFUSED(p.faces_dir = missing, AVPGAN_E_IO, "does not exist", "create(missing folder)");
    REFUSED(p.faces_dir = mixed, AVPGAN_E_INVALID_ARGUMENT, "odd.png", "create(faces of mixed sizes)");
    REFUSED(p.faces_dir = few, AVPGAN_E_INVALID_ARGUMENT, "at least 2", "create(one face)");
    REFUSED(p.size = 48, AVPGAN_E_INVALID_ARGUMENT, "48", "create(size 48)");
    REFUSED(p.size = 64, AVPGAN_E_INVALID_ARGUMENT, "64", "create(size 64 on 32 px faces)");
    REFUSED(p.widths = 7, AVPGAN_E_INVALID_ARGUMENT, "widths", "create(widths 7)");
    REFUSED(p.narrow = -1, AVPGAN_E_INVALID_ARGUMENT, "narrow", "create(narrow -1)");
    REFUSED(p.loss_l1 = -1, AVPGAN_E_INVALID_ARGUMENT, "l1", "create(loss_l1 -1)");
    REFUSED(p.loss_adversarial = NAN, AVPGAN_E_INVALID_ARGUMENT, "adversarial", "create(loss_adversarial NaN)");
    REFUSED(p.lr = INFINITY, AVPGAN_E_INVALID_ARGUMENT, "lr", "create(lr inf)");
    REFUSED(p.batch_size = 5000, AVPGAN_E_INVALID_ARGUMENT, "batch_size", "create(batch 5000)");
    REFUSED(p.batch_size = 6, AVPGAN_E_INVALID_ARGUMENT, "batch of 6", "create(batch 6 with the adversarial loss)");
    REFUSED(p.checkpoint_every = 0, AVPGAN_E_INVALID_ARGUMENT, "checkpoint_every", "create(checkpoint_every 0)");
    REFUSED(p.validation_fraction = 1, AVPGAN_E_INVALID_ARGUMENT, "validation fraction", "create(validation_fraction 1)");
    REFUSED(p.validation_low_size = 2, AVPGAN_E_INVALID_ARGUMENT, "validation input size", "create(validation_low_size 2)");
    REFUSED(p.init_enhancer = missing, AVPGAN_E_IO, "no/such", "create(missing init enhancer)");
    REFUSED(p.perceptual = missing, AVPGAN_E_IO, "no/such", "create(missing VGG file)");
#undef REFUSED
}

/* Runs n steps and records them; returns the status. */
static avpgan_status run_steps(avpgan_enhancer_trainer *t, uint64_t n, run_record *rs, uint64_t *done)
{
    run_record_reset(rs, t, NULL, (uint64_t)-1);
    rs->n_losses = AVPGAN_ENHANCER_N_LOSSES;
    return avpgan_enhancer_trainer_run(t, n, on_run_progress, rs, on_run_abort, rs, done);
}

void test_enhancer_trainer(void)
{
    face_trainer_paths f;
    avpgan_enhancer_trainer_params p;
    avpgan_enhancer_trainer_info info;
    avpgan_enhancer_validation val;
    avpgan_enhancer_trainer *t = NULL, *u = NULL;
    float losses[AVPGAN_ENHANCER_N_LOSSES];
    uint32_t present = 0;
    uint64_t done = 0;
    run_record ra, rb;
    int i, finite = 1;

    if (face_trainer_paths_make(&f, AREA, "enhancer-checkpoint.safetensors", 8, FACE) != 0) return;

    /* ---- names and params ---- */
    check(avpgan_enhancer_loss_name(AVPGAN_ENHANCER_LOSS_G_PIX) != NULL && strcmp(avpgan_enhancer_loss_name(AVPGAN_ENHANCER_LOSS_G_PIX), "l_g_pix") == 0
          && strcmp(avpgan_enhancer_loss_name(AVPGAN_ENHANCER_LOSS_D_MOUTH), "l_d_mouth") == 0
          && avpgan_enhancer_loss_name(AVPGAN_ENHANCER_N_LOSSES) == NULL && avpgan_enhancer_loss_name(-1) == NULL,
          "wrong names", "enhancer trainer: avpgan_enhancer_loss_name gives upstream's names, NULL out of range");
    expect_named(AREA, avpgan_enhancer_trainer_params_init(NULL, sizeof p), AVPGAN_E_INVALID_ARGUMENT, "params", "params_init(NULL)");
    expect_named(AREA, avpgan_enhancer_trainer_params_init(&p, 4), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "params_init(size 4)");
    expect_named(AREA, avpgan_enhancer_trainer_params_init(&p, sizeof p), AVPGAN_OK, NULL, "params_init");
    check(p.struct_size == sizeof p && p.batch_size == 0 && p.checkpoint_every == 100 && p.loss_l1 == 0.1f && p.loss_identity == 10.0f
          && p.loss_component_style == 200.0f && p.lr == 2e-3 && p.seed == 1 && p.widths == AVPGAN_ENHANCER_WIDTHS_SMALL,
          "other defaults", "enhancer trainer: params_init fills the paper's defaults");
    p.faces_dir = f.faces;
    p.widths = AVPGAN_ENHANCER_WIDTHS_TINY;
    p.batch_size = 2;
    p.seed = 3;
    p.validation_fraction = 0.25;
    test_create_refusals(&p, f.dir);

    /* ---- a tiny run ---- */
    p.checkpoint_dir = f.ckdir;
    p.checkpoint_every = 1000;
    expect_named(AREA, avpgan_enhancer_trainer_create(&p, &t), AVPGAN_OK, NULL, "create(tiny, 32 px, batch 2)");
    if (t == NULL) goto done;
    info.struct_size = sizeof info;
    expect_named(AREA, avpgan_enhancer_trainer_get_info(t, &info), AVPGAN_OK, NULL, "get_info");
    check(info.step == 0 && info.size == FACE && info.batch_size == 2 && info.n_faces == 8 && info.n_validation_faces == 2
          && info.n_training_faces == 6 && info.num_style_feat == 8 && info.loss_weights[0] == 0.1f && info.loss_weights[1] == 0.0f
          && info.loss_weights[6] == 0.0f && info.loss_weights[3] == 0.1f && info.losses_present == 0,
          "other values", "enhancer trainer: info: step 0, 32 px, 8 faces (2 held out), perceptual and identity off without their files");
    expect_named(AREA, avpgan_enhancer_trainer_step(t, losses, &present), AVPGAN_OK, NULL, "step");
    for (i = 0; i < AVPGAN_ENHANCER_N_LOSSES; i++) finite = finite && isfinite(losses[i]);
    check(finite && (present & (1u << AVPGAN_ENHANCER_LOSS_G_PIX)) && (present & (1u << AVPGAN_ENHANCER_LOSS_D))
          && (present & (1u << AVPGAN_ENHANCER_LOSS_G_GAN_MOUTH)) && !(present & (1u << AVPGAN_ENHANCER_LOSS_G_PERCEP))
          && !(present & (1u << AVPGAN_ENHANCER_LOSS_IDENTITY)) && losses[AVPGAN_ENHANCER_LOSS_G_PIX] > 0
          && losses[AVPGAN_ENHANCER_LOSS_G_PERCEP] == 0,
          "wrong losses or mask", "enhancer trainer: a step's losses are finite, the mask names those computed (pix, d, components; not percep, identity)");
    expect_named(AREA, avpgan_enhancer_trainer_save(t, f.ck1), AVPGAN_OK, NULL, "save at step 1");
    expect_named(AREA, run_steps(t, 2, &ra, &done), AVPGAN_OK, NULL, "run 2 steps");
    check(done == 2 && ra.calls == 2 && ra.order_ok, "wrong counts", "enhancer trainer: run reports each step in order (steps_done 2)");
    expect_named(AREA, avpgan_enhancer_trainer_export(t, f.a_file), AVPGAN_OK, NULL, "export");
    expect_named(AREA, avpgan_enhancer_trainer_get_info(t, &info), AVPGAN_OK, NULL, "get_info after run");
    check(info.step == 3 && memcmp(info.losses, ra.losses[1], sizeof info.losses) == 0 && info.losses_present == ra.present[1],
          "other values", "enhancer trainer: info holds step 3 and the last step's losses");

    /* ---- resume: bit-identical to the straight run ---- */
    expect_named(AREA, avpgan_enhancer_trainer_load_checkpoint(f.ck1, &p, &u), AVPGAN_OK, NULL, "load_checkpoint(step 1)");
    if (u != NULL) {
        expect_named(AREA, run_steps(u, 2, &rb, &done), AVPGAN_OK, NULL, "run 2 steps after resuming");
        check(memcmp(ra.losses, rb.losses, 2 * sizeof ra.losses[0]) == 0, "losses differ",
              "enhancer trainer: the resumed run's losses equal the straight run's bit for bit");
        expect_named(AREA, avpgan_enhancer_trainer_export(u, f.b_file), AVPGAN_OK, NULL, "export after resuming");
        check(files_equal(f.a_file, f.b_file), "files differ", "enhancer trainer: the resumed run exports the same enhancer file");
        avpgan_enhancer_trainer_free(u);
        u = NULL;
    }
    {
        avpgan_enhancer *e = NULL;
        expect_named(AREA, avpgan_enhancer_load_file(f.a_file, NULL, &e), AVPGAN_OK, NULL, "the exported enhancer loads");
        avpgan_enhancer_free(e);
    }

    /* ---- abort, busy, validate ---- */
    run_record_reset(&ra, t, NULL, 1);
    ra.n_losses = AVPGAN_ENHANCER_N_LOSSES;
    remove(f.auto_ck);
    expect_named(AREA, avpgan_enhancer_trainer_run(t, 5, on_run_progress, &ra, on_run_abort, &ra, &done), AVPGAN_E_ABORTED, "abort callback", "run 5, abort after 1");
    check(done == 1 && ra.calls == 1 && access(f.auto_ck, R_OK) == 0, "no checkpoint or wrong count",
          "enhancer trainer: an aborted run stops between steps and writes its checkpoint into checkpoint_dir");
    run_record_reset(&ra, t, step_from_callback, (uint64_t)-1);
    ra.n_losses = AVPGAN_ENHANCER_N_LOSSES;
    expect_named(AREA, avpgan_enhancer_trainer_run(t, 1, on_run_progress, &ra, on_run_abort, &ra, &done), AVPGAN_OK, NULL, "run 1 with a reentrant call");
    check(ra.reenter_status == AVPGAN_E_INVALID_ARGUMENT && strstr(ra.reenter_error, "busy") != NULL, ra.reenter_error,
          "enhancer trainer: a call from inside the progress callback is refused (busy)");
    val.struct_size = sizeof val;
    expect_named(AREA, avpgan_enhancer_trainer_validate(t, &val), AVPGAN_OK, NULL, "validate");
    check(val.step == 5 && val.n_faces == 2 && val.low_size == 16 && isfinite(val.psnr) && isfinite(val.ssim) && val.bicubic_psnr > 10,
          "other values", "enhancer trainer: validation measures the 2 held-out faces from 16 px (psnr %.2f, bicubic %.2f dB)", val.psnr, val.bicubic_psnr);

    /* ---- refusals on a trainer and of load_checkpoint ---- */
    val.struct_size = 0;
    expect_named(AREA, avpgan_enhancer_trainer_validate(t, &val), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "validate(struct_size 0)");
    info.struct_size = 0;
    expect_named(AREA, avpgan_enhancer_trainer_get_info(t, &info), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "get_info(struct_size 0)");
    expect_named(AREA, avpgan_enhancer_trainer_run(t, 0, NULL, NULL, NULL, NULL, &done), AVPGAN_E_INVALID_ARGUMENT, "n_steps", "run(0 steps)");
    expect_named(AREA, avpgan_enhancer_trainer_save(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "path", "save(NULL path)");
    expect_named(AREA, avpgan_enhancer_trainer_save(t, "/nonexistent-dir/x.safetensors"), AVPGAN_E_IO, "nonexistent", "save(into a missing folder)");
    expect_named(AREA, avpgan_enhancer_trainer_get_info(NULL, &info), AVPGAN_E_INVALID_ARGUMENT, "trainer", "get_info(NULL trainer)");
    expect_named(AREA, avpgan_enhancer_trainer_step(NULL, losses, &present), AVPGAN_E_INVALID_ARGUMENT, "trainer", "step(NULL trainer)");
    expect_named(AREA, avpgan_enhancer_trainer_run(NULL, 1, NULL, NULL, NULL, NULL, &done), AVPGAN_E_INVALID_ARGUMENT, "trainer", "run(NULL trainer)");
    expect_named(AREA, avpgan_enhancer_trainer_save(NULL, f.ck1), AVPGAN_E_INVALID_ARGUMENT, "trainer", "save(NULL trainer)");
    expect_named(AREA, avpgan_enhancer_trainer_export(NULL, f.a_file), AVPGAN_E_INVALID_ARGUMENT, "trainer", "export(NULL trainer)");
    expect_named(AREA, avpgan_enhancer_trainer_validate(NULL, &val), AVPGAN_E_INVALID_ARGUMENT, "trainer", "validate(NULL trainer)");
    avpgan_enhancer_trainer_free(NULL);
    u = (avpgan_enhancer_trainer *)(void *)&sentinel_target;
    expect_named(AREA, avpgan_enhancer_trainer_load_checkpoint(NULL, &p, &u), AVPGAN_E_INVALID_ARGUMENT, "path", "load_checkpoint(NULL path)");
    check(u == NULL, "not NULL", "enhancer trainer: a refused load sets *out_trainer to NULL");
    expect_named(AREA, avpgan_enhancer_trainer_load_checkpoint("", &p, &u), AVPGAN_E_INVALID_ARGUMENT, "path", "load_checkpoint(empty path)");
    expect_named(AREA, avpgan_enhancer_trainer_load_checkpoint("/nonexistent.safetensors", &p, &u), AVPGAN_E_IO, "nonexistent", "load_checkpoint(missing file)");
    expect_named(AREA, avpgan_enhancer_trainer_load_checkpoint(f.a_file, &p, &u), AVPGAN_E_MODEL_FORMAT, "enhancer session checkpoint", "load_checkpoint(an enhancer file)");
    p.faces_dir = f.other;
    expect_named(AREA, avpgan_enhancer_trainer_load_checkpoint(f.ck1, &p, &u), AVPGAN_E_INVALID_ARGUMENT, "another face folder", "load_checkpoint(7 other faces)");
    avpgan_enhancer_trainer_free(u);
    u = NULL;
    p.faces_dir = f.faces;
    p.batch_size = 4;
    expect_named(AREA, avpgan_enhancer_trainer_load_checkpoint(f.ck1, &p, &u), AVPGAN_E_INVALID_ARGUMENT, "batches of 2", "load_checkpoint(another batch size)");
    check(u == NULL, "not NULL", "enhancer trainer: every refused load leaves *out_trainer NULL");
    avpgan_enhancer_trainer_free(t);
done:
    nftw(f.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
