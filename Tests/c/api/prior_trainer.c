/* The face-prior trainer at tiny widths on drawn 32 px faces: params_init, every refusal of
 * create and load_checkpoint (a status and a message naming the cause, *out NULL), step, run
 * with progress and abort, one call at a time, save, resume equal to the straight run bit for
 * bit (losses and exported prior file), and NULL handles. */
#include "api.h"
#include "drawn_faces.h"

#define FACE 32
#define AREA "prior trainer"

/* A step from inside a run's progress callback (refused: busy). */
static avpgan_status step_from_callback(void *trainer)
{
    return avpgan_prior_trainer_step(trainer, NULL, NULL);
}

/* Runs n steps and records them; returns the status. */
static avpgan_status run_steps(avpgan_prior_trainer *t, uint64_t n, run_record *rs, uint64_t *done)
{
    run_record_reset(rs, t, NULL, (uint64_t)-1);
    rs->n_losses = AVPGAN_PRIOR_N_LOSSES;
    return avpgan_prior_trainer_run(t, n, on_run_progress, rs, on_run_abort, rs, done);
}

/* The refusals of create: each a status naming the cause, and *out NULL. */
static void test_create_refusals(const avpgan_prior_trainer_params *good, const char *dir)
{
    avpgan_prior_trainer_params p;
    avpgan_prior_trainer *t = (avpgan_prior_trainer *)(void *)&sentinel_target;
    char mixed[1024], few[1024], missing[1024];
    snprintf(mixed, sizeof mixed, "%s/mixed", dir);
    snprintf(few, sizeof few, "%s/few", dir);
    snprintf(missing, sizeof missing, "%s/no/such/folder", dir);
    check(drawn_faces_write(mixed, 3, FACE, 64) == 0 && drawn_faces_write(few, 1, FACE, 0) == 0, strerror(errno),
          "prior trainer: refusal folders written");

    expect_named(AREA, avpgan_prior_trainer_create(NULL, &t), AVPGAN_E_INVALID_ARGUMENT, "params", "create(NULL params)");
    check(t == NULL, "not NULL", "prior trainer: a refused create sets *out_trainer to NULL");
    expect_named(AREA, avpgan_prior_trainer_create(good, NULL), AVPGAN_E_INVALID_ARGUMENT, "out_trainer", "create(NULL out)");
#define REFUSED(field_change, status, needle, what) \
    do { p = *good; field_change; t = (avpgan_prior_trainer *)(void *)&sentinel_target; \
         expect_named(AREA, avpgan_prior_trainer_create(&p, &t), status, needle, what); \
         check(t == NULL, "not NULL", "prior trainer: %s leaves *out_trainer NULL", what); \
         avpgan_prior_trainer_free(t == (avpgan_prior_trainer *)(void *)&sentinel_target ? NULL : t); } while (0)
    REFUSED(p.struct_size = 8, AVPGAN_E_INVALID_ARGUMENT, "struct_size", "create(struct_size 8)");
    REFUSED(p.struct_size = 1 << 20, AVPGAN_E_INVALID_ARGUMENT, "struct_size", "create(struct_size 1 MiB)");
    REFUSED(p.faces_dir = NULL, AVPGAN_E_INVALID_ARGUMENT, "faces_dir", "create(no faces_dir)");
    REFUSED(p.faces_dir = "", AVPGAN_E_INVALID_ARGUMENT, "faces_dir", "create(empty faces_dir)");
    REFUSED(p.checkpoint_dir = "", AVPGAN_E_INVALID_ARGUMENT, "checkpoint_dir", "create(empty checkpoint_dir)");
    REFUSED(p.faces_dir = missing, AVPGAN_E_IO, "does not exist", "create(missing folder)");
    REFUSED(p.faces_dir = mixed, AVPGAN_E_INVALID_ARGUMENT, "odd.png", "create(faces of mixed sizes)");
    REFUSED(p.faces_dir = few, AVPGAN_E_INVALID_ARGUMENT, "at least 2", "create(one face)");
    REFUSED(p.size = 48, AVPGAN_E_INVALID_ARGUMENT, "48", "create(size 48)");
    REFUSED(p.size = 64, AVPGAN_E_INVALID_ARGUMENT, "64", "create(size 64 on 32 px faces)");
    REFUSED(p.widths = 7, AVPGAN_E_INVALID_ARGUMENT, "widths", "create(widths 7)");
    REFUSED(p.widths = -1, AVPGAN_E_INVALID_ARGUMENT, "widths", "create(widths -1)");
    REFUSED(p.lr = NAN, AVPGAN_E_INVALID_ARGUMENT, "lr", "create(lr NaN)");
    REFUSED(p.lr = -1, AVPGAN_E_INVALID_ARGUMENT, "lr", "create(lr -1)");
    REFUSED(p.batch_size = 5000, AVPGAN_E_INVALID_ARGUMENT, "batch_size", "create(batch 5000)");
    REFUSED(p.batch_size = 6, AVPGAN_E_INVALID_ARGUMENT, "batch of 6", "create(batch 6: not whole discriminator groups)");
    REFUSED(p.checkpoint_every = 0, AVPGAN_E_INVALID_ARGUMENT, "checkpoint_every", "create(checkpoint_every 0)");
    REFUSED(p.sheet_samples = 300, AVPGAN_E_INVALID_ARGUMENT, "sheet_samples", "create(sheet_samples 300)");
    REFUSED(p.truncation = INFINITY, AVPGAN_E_INVALID_ARGUMENT, "truncation", "create(truncation inf)");
#undef REFUSED
}

/* The refusals on a trainer and of NULL trainers. */
static void test_trainer_refusals(avpgan_prior_trainer *t, const char *ck)
{
    avpgan_prior_trainer_info info;
    float losses[AVPGAN_PRIOR_N_LOSSES];
    uint32_t present = 0;
    uint64_t done = 7;
    info.struct_size = 0;
    expect_named(AREA, avpgan_prior_trainer_get_info(t, &info), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "get_info(struct_size 0)");
    expect_named(AREA, avpgan_prior_trainer_get_info(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "info", "get_info(NULL info)");
    expect_named(AREA, avpgan_prior_trainer_run(t, 0, NULL, NULL, NULL, NULL, &done), AVPGAN_E_INVALID_ARGUMENT, "n_steps", "run(0 steps)");
    check(done == 0, "not 0", "prior trainer: a refused run sets steps_done to 0");
    expect_named(AREA, avpgan_prior_trainer_run(t, (uint64_t)1 << 41, NULL, NULL, NULL, NULL, NULL), AVPGAN_E_INVALID_ARGUMENT, "n_steps",
                 "run(2^41 steps)");
    expect_named(AREA, avpgan_prior_trainer_save(t, NULL), AVPGAN_E_INVALID_ARGUMENT, "path", "save(NULL path)");
    expect_named(AREA, avpgan_prior_trainer_export(t, ""), AVPGAN_E_INVALID_ARGUMENT, "path", "export(empty path)");
    expect_named(AREA, avpgan_prior_trainer_save(t, "/nonexistent-dir/x.safetensors"), AVPGAN_E_IO, "nonexistent", "save(into a missing folder)");
    info.struct_size = sizeof info;
    expect_named(AREA, avpgan_prior_trainer_get_info(NULL, &info), AVPGAN_E_INVALID_ARGUMENT, "trainer", "get_info(NULL trainer)");
    expect_named(AREA, avpgan_prior_trainer_step(NULL, losses, &present), AVPGAN_E_INVALID_ARGUMENT, "trainer", "step(NULL trainer)");
    expect_named(AREA, avpgan_prior_trainer_run(NULL, 1, NULL, NULL, NULL, NULL, &done), AVPGAN_E_INVALID_ARGUMENT, "trainer", "run(NULL trainer)");
    expect_named(AREA, avpgan_prior_trainer_save(NULL, ck), AVPGAN_E_INVALID_ARGUMENT, "trainer", "save(NULL trainer)");
    expect_named(AREA, avpgan_prior_trainer_export(NULL, ck), AVPGAN_E_INVALID_ARGUMENT, "trainer", "export(NULL trainer)");
    avpgan_prior_trainer_free(NULL);
}

/* The refusals of load_checkpoint: each a status naming the cause, and *out NULL. */
static void test_load_refusals(avpgan_prior_trainer_params p, const char *ck, const char *prior_file, const char *other)
{
    avpgan_prior_trainer *u = (avpgan_prior_trainer *)(void *)&sentinel_target;
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(NULL, &p, &u), AVPGAN_E_INVALID_ARGUMENT, "path", "load_checkpoint(NULL path)");
    check(u == NULL, "not NULL", "prior trainer: a refused load sets *out_trainer to NULL");
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(ck, NULL, &u), AVPGAN_E_INVALID_ARGUMENT, "params", "load_checkpoint(NULL params)");
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(ck, &p, NULL), AVPGAN_E_INVALID_ARGUMENT, "out_trainer", "load_checkpoint(NULL out)");
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint("", &p, &u), AVPGAN_E_INVALID_ARGUMENT, "path", "load_checkpoint(empty path)");
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint("/nonexistent.safetensors", &p, &u), AVPGAN_E_IO, "nonexistent",
                 "load_checkpoint(missing file)");
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(prior_file, &p, &u), AVPGAN_E_MODEL_FORMAT, "prior session checkpoint",
                 "load_checkpoint(an exported prior, not a checkpoint)");
    p.faces_dir = other;
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(ck, &p, &u), AVPGAN_E_INVALID_ARGUMENT, "another face folder",
                 "load_checkpoint(7 other faces)");
    p.faces_dir = NULL;
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(ck, &p, &u), AVPGAN_E_INVALID_ARGUMENT, "faces_dir", "load_checkpoint(no faces_dir)");
    check(u == NULL, "not NULL", "prior trainer: every refused load leaves *out_trainer NULL");
}

void test_prior_trainer(void)
{
    face_trainer_paths f;
    avpgan_prior_trainer_params p;
    avpgan_prior_trainer_info info;
    avpgan_prior_trainer *t = NULL, *u = NULL;
    float losses[AVPGAN_PRIOR_N_LOSSES];
    uint32_t present = 0;
    uint64_t done = 0;
    run_record ra, rb;
    int i, finite = 1;

    if (face_trainer_paths_make(&f, AREA, "prior-checkpoint.safetensors", 6, FACE) != 0) return;

    /* ---- names and params ---- */
    check(avpgan_prior_loss_name(AVPGAN_PRIOR_LOSS_D) != NULL && strcmp(avpgan_prior_loss_name(AVPGAN_PRIOR_LOSS_D), "l_d") == 0
          && strcmp(avpgan_prior_loss_name(AVPGAN_PRIOR_LOSS_PATH_LENGTH), "path_length") == 0
          && avpgan_prior_loss_name(AVPGAN_PRIOR_N_LOSSES) == NULL && avpgan_prior_loss_name(-1) == NULL,
          "wrong names", "prior trainer: avpgan_prior_loss_name gives upstream's names, NULL out of range");
    expect_named(AREA, avpgan_prior_trainer_params_init(NULL, sizeof p), AVPGAN_E_INVALID_ARGUMENT, "params", "params_init(NULL)");
    expect_named(AREA, avpgan_prior_trainer_params_init(&p, 4), AVPGAN_E_INVALID_ARGUMENT, "struct_size", "params_init(size 4)");
    expect_named(AREA, avpgan_prior_trainer_params_init(&p, sizeof p), AVPGAN_OK, NULL, "params_init");
    check(p.struct_size == sizeof p && p.batch_size == 0 && p.checkpoint_every == 100 && p.lr == 2e-3 && p.seed == 1
          && p.widths == AVPGAN_ENHANCER_WIDTHS_SMALL && p.sheet_samples == 16 && p.truncation == 1.0f && p.faces_dir == NULL,
          "other defaults", "prior trainer: params_init fills upstream's defaults");
    p.faces_dir = f.faces;
    p.widths = AVPGAN_ENHANCER_WIDTHS_TINY;
    p.batch_size = 2;
    p.seed = 3;
    p.sheet_samples = 4;
    test_create_refusals(&p, f.dir);

    /* ---- a tiny run ---- */
    p.checkpoint_dir = f.ckdir;
    p.checkpoint_every = 1000;
    expect_named(AREA, avpgan_prior_trainer_create(&p, &t), AVPGAN_OK, NULL, "create(tiny, 32 px, batch 2)");
    if (t == NULL) goto done;
    info.struct_size = sizeof info;
    expect_named(AREA, avpgan_prior_trainer_get_info(t, &info), AVPGAN_OK, NULL, "get_info");
    check(info.step == 0 && info.size == FACE && info.batch_size == 2 && info.n_faces == 6 && info.n_training_faces == 5
          && info.num_style_feat == 8 && info.num_mlp == 8 && info.losses_present == 0,
          "other values", "prior trainer: info: step 0, 32 px, 6 faces (1 held out), num_style_feat 8, num_mlp 8");
    expect_named(AREA, avpgan_prior_trainer_step(t, losses, &present), AVPGAN_OK, NULL, "step");
    for (i = 0; i < AVPGAN_PRIOR_N_LOSSES; i++) finite = finite && isfinite(losses[i]);
    check(finite && present == ((1u << AVPGAN_PRIOR_LOSS_D) | (1u << AVPGAN_PRIOR_LOSS_REAL_SCORE) | (1u << AVPGAN_PRIOR_LOSS_FAKE_SCORE)
                                | (1u << AVPGAN_PRIOR_LOSS_G))
          && losses[AVPGAN_PRIOR_LOSS_D] > 0 && losses[AVPGAN_PRIOR_LOSS_G_PATH] == 0,
          "wrong losses or mask", "prior trainer: step 1's losses are finite and the mask names l_d, the scores and l_g only");
    expect_named(AREA, avpgan_prior_trainer_save(t, f.ck1), AVPGAN_OK, NULL, "save at step 1");
    expect_named(AREA, run_steps(t, 3, &ra, &done), AVPGAN_OK, NULL, "run 3 steps");
    check(done == 3 && ra.calls == 3 && ra.order_ok, "wrong counts", "prior trainer: run reports each step in order (steps_done 3)");
    check((ra.present[2] & (1u << AVPGAN_PRIOR_LOSS_G_PATH)) && (ra.present[2] & (1u << AVPGAN_PRIOR_LOSS_PATH_LENGTH))
          && !(ra.present[1] & (1u << AVPGAN_PRIOR_LOSS_G_PATH)) && isfinite(ra.losses[2][AVPGAN_PRIOR_LOSS_G_PATH]),
          "wrong mask", "prior trainer: step 4 (and not 3) computes the path-length terms (net_g_reg_every 4)");
    expect_named(AREA, avpgan_prior_trainer_export(t, f.a_file), AVPGAN_OK, NULL, "export");
    expect_named(AREA, avpgan_prior_trainer_get_info(t, &info), AVPGAN_OK, NULL, "get_info after run");
    check(info.step == 4 && memcmp(info.losses, ra.losses[2], sizeof info.losses) == 0 && info.losses_present == ra.present[2],
          "other values", "prior trainer: info holds step 4 and the last step's losses");

    /* ---- resume: bit-identical to the straight run ---- */
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(f.ck1, &p, &u), AVPGAN_OK, NULL, "load_checkpoint(step 1)");
    if (u != NULL) {
        expect_named(AREA, run_steps(u, 3, &rb, &done), AVPGAN_OK, NULL, "run 3 steps after resuming");
        check(memcmp(ra.losses, rb.losses, 3 * sizeof ra.losses[0]) == 0 && memcmp(ra.present, rb.present, sizeof ra.present) == 0,
              "losses differ", "prior trainer: the resumed run's losses equal the straight run's bit for bit");
        expect_named(AREA, avpgan_prior_trainer_export(u, f.b_file), AVPGAN_OK, NULL, "export after resuming");
        check(files_equal(f.a_file, f.b_file), "files differ", "prior trainer: the resumed run exports the same prior file");
        avpgan_prior_trainer_free(u);
        u = NULL;
    }

    /* ---- abort, busy ---- */
    run_record_reset(&ra, t, NULL, 1);
    ra.n_losses = AVPGAN_PRIOR_N_LOSSES;
    remove(f.auto_ck);
    expect_named(AREA, avpgan_prior_trainer_run(t, 5, on_run_progress, &ra, on_run_abort, &ra, &done), AVPGAN_E_ABORTED, "abort callback",
                 "run 5, abort after 1");
    check(done == 1 && ra.calls == 1 && access(f.auto_ck, R_OK) == 0, "no checkpoint or wrong count",
          "prior trainer: an aborted run stops between steps and writes its checkpoint into checkpoint_dir");
    run_record_reset(&ra, t, step_from_callback, (uint64_t)-1);
    ra.n_losses = AVPGAN_PRIOR_N_LOSSES;
    expect_named(AREA, avpgan_prior_trainer_run(t, 1, on_run_progress, &ra, on_run_abort, &ra, &done), AVPGAN_OK, NULL, "run 1 with a reentrant call");
    check(ra.reenter_status == AVPGAN_E_INVALID_ARGUMENT && strstr(ra.reenter_error, "busy") != NULL, ra.reenter_error,
          "prior trainer: a call from inside the progress callback is refused (busy)");

    test_trainer_refusals(t, f.ck1);
    p.checkpoint_dir = NULL;
    test_load_refusals(p, f.ck1, f.a_file, f.other);
    p.batch_size = 4;
    u = (avpgan_prior_trainer *)(void *)&sentinel_target;
    expect_named(AREA, avpgan_prior_trainer_load_checkpoint(f.ck1, &p, &u), AVPGAN_E_INVALID_ARGUMENT, "batches of 2", "load_checkpoint(another batch size)");
    check(u == NULL, "not NULL", "prior trainer: a load refused for its batch size leaves *out_trainer NULL");
    avpgan_prior_trainer_free(t);
done:
    nftw(f.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
