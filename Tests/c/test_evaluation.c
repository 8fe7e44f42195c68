/*
 * test_evaluation.c — the evaluation, voice-training and synthetic-data functions of libavpgan:
 * argument checks, results, callbacks and abort.
 *
 *   test_evaluation MODEL.safetensors DATA FACE.safetensors SCRATCH
 *     MODEL: Tests/Fixtures/golden/avpgan/model.safetensors; DATA: `avpgan synth-data` of 3
 *     speakers x 2 recordings x 2 faces; FACE: a face-recognition model file; SCRATCH: an
 *     empty folder for the files the calls write.
 *
 * Prints one line per check ("ok   ..." or "FAIL ...") and "evaluation: N passed, M failed";
 * exits 1 when any check failed, 2 on bad usage.
 */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avpgan.h"

static int n_passed, n_failed;

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    printf("%s ", ok ? "ok  " : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok) printf(" (last error: %s)", avpgan_last_error());
    printf("\n");
    if (ok) n_passed++; else n_failed++;
}

static void expect(avpgan_status got, avpgan_status want, const char *what)
{
    check(got == want, "%s -> %s (got %s: %d)", what, avpgan_status_string(want), avpgan_status_string(got), (int)got);
}

static int file_starts_with(const char *path, const char *magic, size_t n)
{
    char buf[16] = {0};
    FILE *f = fopen(path, "rb");
    size_t got;
    if (!f) return 0;
    got = fread(buf, 1, n, f);
    fclose(f);
    return got == n && memcmp(buf, magic, n) == 0;
}

static int n_progress;
static uint64_t last_done, last_total;
static void on_progress(uint64_t done, uint64_t total, void *user)
{
    (void)user;
    n_progress++;
    last_done = done;
    last_total = total;
}

static int abort_after;   /* the abort callback says stop once it has been asked this often */
static int n_asked;
static int on_abort(void *user)
{
    (void)user;
    return ++n_asked > abort_after;
}

static int n_steps_seen;
static int losses_finite;
static void on_step(uint64_t step, uint64_t steps, float loss, double accuracy, void *user)
{
    (void)steps; (void)user;
    n_steps_seen++;
    if (!(isfinite(loss) && loss > 0 && accuracy >= 0 && accuracy <= 1 && step >= 1)) losses_finite = 0;
}

static void test_pixel_retrieval(const avpgan_model *model, const char *voices, const char *faces, const char *scratch)
{
    avpgan_pixel_retrieval_params p;
    avpgan_pixel_retrieval_result r;
    char cache[1024], grid[1024];
    snprintf(cache, sizeof cache, "%s/cache", scratch);
    snprintf(grid, sizeof grid, "%s/retrieval.png", scratch);

    expect(avpgan_pixel_retrieval_params_init(NULL, sizeof p), AVPGAN_E_INVALID_ARGUMENT, "pixel_retrieval_params_init(NULL)");
    expect(avpgan_pixel_retrieval_params_init(&p, 4), AVPGAN_E_INVALID_ARGUMENT, "pixel_retrieval_params_init(struct_size 4)");
    expect(avpgan_pixel_retrieval_params_init(&p, sizeof p), AVPGAN_OK, "pixel_retrieval_params_init");
    check(p.eval_split == AVPGAN_EVAL_SPLIT_TEST && p.split == AVPGAN_SPLIT_TEST_LIST && p.voices_dir == NULL && p.grid_png == NULL,
          "pixel retrieval defaults: the held-out identities, no grid");
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    p.voices_dir = voices;
    p.faces_dir = faces;
    p.cache_dir = "";
    expect(avpgan_pixel_retrieval_evaluate(model, &p, &r), AVPGAN_E_INVALID_ARGUMENT, "pixel_retrieval_evaluate(cache_dir \"\")");
    p.cache_dir = cache;
    expect(avpgan_pixel_retrieval_evaluate(NULL, &p, &r), AVPGAN_E_INVALID_ARGUMENT, "pixel_retrieval_evaluate(NULL model)");
    expect(avpgan_pixel_retrieval_evaluate(model, NULL, &r), AVPGAN_E_INVALID_ARGUMENT, "pixel_retrieval_evaluate(NULL params)");
    expect(avpgan_pixel_retrieval_evaluate(model, &p, NULL), AVPGAN_E_INVALID_ARGUMENT, "pixel_retrieval_evaluate(NULL result)");
    p.eval_split = 7;
    expect(avpgan_pixel_retrieval_evaluate(model, &p, &r), AVPGAN_E_INVALID_ARGUMENT, "pixel_retrieval_evaluate(eval_split 7)");
    check(strstr(avpgan_last_error(), "eval_split") != NULL, "the message names params.eval_split: %s", avpgan_last_error());
    p.eval_split = AVPGAN_EVAL_SPLIT_ALL;
    p.grid_png = grid;
    p.progress = on_progress;
    p.abort_fn = on_abort;
    abort_after = 0; n_asked = 0; n_progress = 0;
    expect(avpgan_pixel_retrieval_evaluate(model, &p, &r), AVPGAN_E_ABORTED, "pixel_retrieval_evaluate stopped by its abort callback");
    check(n_progress == 0 && access(grid, F_OK) != 0, "an aborted retrieval reports no progress and writes no grid");
    abort_after = 1000000; n_asked = 0; n_progress = 0;
    expect(avpgan_pixel_retrieval_evaluate(model, &p, &r), AVPGAN_OK, "pixel_retrieval_evaluate on every identity");
    check(r.n_identities == 3 && r.n_recordings >= 1 && r.n_recordings <= 6, "3 identities, %u recordings with speech", r.n_recordings);
    check(fabs(r.chance_top1 - 1.0 / 3) < 1e-12 && fabs(r.chance_mean_rank - 2) < 1e-12, "chance of 3 identities: top-1 1/3, mean rank 2");
    check(r.top1 >= 0 && r.top1 <= r.top5 && r.top5 <= 1 && r.mean_rank >= 1 && r.mean_rank <= 3,
          "generated: top-1 %.3f <= top-5 %.3f, mean rank %.2f in [1, 3]", r.top1, r.top5, r.mean_rank);
    check(r.real_top1 == 1.0, "every real picture is nearest its own identity's mean picture (real top-1 %.3f)", r.real_top1);
    check(n_progress == 6 && last_done == 6 && last_total == 6 && n_asked == 6, "progress after each of 6 recordings, abort asked before each");
    check(file_starts_with(grid, "\x89PNG", 4), "the grid is a PNG file");
}

/* The rows of the last avpgan_face_similarity_evaluate of test_face_similarity (2 s and the whole recording). */
static avpgan_face_similarity evaluated[3];

static void test_face_similarity(const avpgan_model *model, const avpgan_face_model *face, const char *voices, const char *faces,
                                 const char *scratch)
{
    avpgan_face_similarity_params p;
    avpgan_face_similarity rows[8];
    const avpgan_model *models[1];
    const avpgan_model *no_models[1] = {NULL};
    double seconds[2] = {2, 0}, bad[1] = {-1};
    const char *labels[1] = {"golden"};
    char out_dir[1024], json[1024];
    size_t needed = 0, i;
    models[0] = model;
    snprintf(out_dir, sizeof out_dir, "%s/eval", scratch);
    snprintf(json, sizeof json, "%s/eval/eval.json", scratch);

    expect(avpgan_face_similarity_params_init(&p, sizeof p), AVPGAN_OK, "face_similarity_params_init");
    check(p.rows == 8 && p.seconds == NULL && p.n_seconds == 0 && p.out_dir == NULL, "face similarity defaults: 8 rows, lengths 2, 4, 6, 8");
    p.voices_dir = voices;
    p.faces_dir = faces;
    p.eval_split = AVPGAN_EVAL_SPLIT_ALL;
    expect(avpgan_face_similarity_evaluate(models, 1, face, &p, NULL, 0, &needed), AVPGAN_OK, "face_similarity size query");
    check(needed == 5, "default lengths: 4 rows for one model and the real faces' row (needed %zu)", needed);
    expect(avpgan_face_similarity_evaluate(models, 0, face, &p, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "face_similarity(n_models 0)");
    expect(avpgan_face_similarity_evaluate(no_models, 1, face, &p, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "face_similarity(models[0] NULL)");
    expect(avpgan_face_similarity_evaluate(models, 1, NULL, &p, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "face_similarity(NULL face model)");
    p.seconds = bad;
    p.n_seconds = 1;
    expect(avpgan_face_similarity_evaluate(models, 1, face, &p, NULL, 0, &needed), AVPGAN_E_INVALID_ARGUMENT, "face_similarity size query (seconds -1)");
    check(strstr(avpgan_last_error(), "params.seconds[0]") != NULL, "the message names params.seconds[0]: %s", avpgan_last_error());
    p.seconds = seconds;
    p.n_seconds = 2;
    expect(avpgan_face_similarity_evaluate(models, 1, face, &p, rows, 2, &needed), AVPGAN_E_BUFFER_TOO_SMALL, "face_similarity(capacity 2 of 3)");
    check(needed == 3, "needed is 3 rows");
    p.identities = "nobody";
    expect(avpgan_face_similarity_evaluate(models, 1, face, &p, rows, 8, &needed), AVPGAN_E_INVALID_ARGUMENT, "face_similarity(identities \"nobody\")");
    check(strstr(avpgan_last_error(), "nobody") != NULL, "the message names the identity: %s", avpgan_last_error());
    p.identities = NULL;
    p.model_labels = labels;
    p.face_model_label = "random face model";
    p.out_dir = out_dir;
    p.abort_fn = on_abort;
    p.progress = on_progress;
    abort_after = 0; n_asked = 0;
    expect(avpgan_face_similarity_evaluate(models, 1, face, &p, rows, 8, &needed), AVPGAN_E_ABORTED, "face_similarity stopped by its abort callback");
    abort_after = 1000000; n_asked = 0; n_progress = 0;
    expect(avpgan_face_similarity_evaluate(models, 1, face, &p, rows, 8, &needed), AVPGAN_OK, "face_similarity at 2 s and the whole recording");
    check(needed == 3 && rows[0].model_index == 0 && rows[1].model_index == 0 && rows[2].model_index == 1,
          "rows: the model at each length, then the real faces");
    check(rows[0].seconds == 2 && rows[1].seconds == 0, "the rows carry their lengths (2, 0 = whole)");
    for (i = 0; i < 3; i++) {
        const avpgan_face_similarity *r = &rows[i];
        int finite = isfinite(r->own) && isfinite(r->impostor) && isfinite(r->difference) && isfinite(r->difference_low) &&
                     isfinite(r->difference_high) && isfinite(r->voiced_seconds);
        check(finite && r->own >= -1 && r->own <= 1 && r->top1 >= 0 && r->top1 <= r->top5 && r->top5 <= 1 && r->n_identities == 3,
              "row %zu: finite, cosine %.3f in [-1, 1], top-1 %.2f <= top-5 %.2f", i, r->own, r->top1, r->top5);
    }
    check(rows[2].unavailable & AVPGAN_FACE_SIMILARITY_NO_VOICED_SECONDS, "the real faces' row has no voiced seconds");
    check(n_progress > 0 && last_done == last_total && last_total == 12, "progress reaches its total (12 portraits: %llu)",
          (unsigned long long)last_total);
    check(file_starts_with(json, "{", 1), "out_dir receives eval.json");
    memcpy(evaluated, rows, sizeof evaluated);
}

/* The same evaluation in steps: the recordings, their portraits in two shares joined, and the
 * scoring give the rows of avpgan_face_similarity_evaluate bit for bit. */
static void test_face_similarity_steps(const avpgan_model *model, const avpgan_face_model *face, const char *voices,
                                       const char *faces)
{
    avpgan_face_similarity_params p;
    avpgan_face_similarity_portraits_params q;
    avpgan_face_similarity rows[3];
    const avpgan_model *models[1];
    double seconds[2] = {2, 0};
    const char *paths[16];
    char *list, *at;
    uint8_t *records;
    const uint8_t *parts[1];
    size_t needed = 0, count = 0, first = 0, rest = 0, sizes[1], i;
    models[0] = model;
    expect(avpgan_face_similarity_params_init(&p, sizeof p), AVPGAN_OK, "face_similarity_params_init");
    p.voices_dir = voices;
    p.faces_dir = faces;
    p.eval_split = AVPGAN_EVAL_SPLIT_ALL;
    p.seconds = seconds;
    p.n_seconds = 2;
    expect(avpgan_face_similarity_recordings(&p, NULL, 0, &needed, &count), AVPGAN_OK, "face_similarity_recordings size query");
    check(count == 6 && needed > 6, "6 recordings (%zu), %zu bytes of paths", count, needed);
    list = malloc(needed);
    expect(avpgan_face_similarity_recordings(&p, list, needed, &needed, NULL), AVPGAN_OK, "face_similarity_recordings");
    for (i = 0, at = list; i < count && i < 16; i++, at += strlen(at) + 1) paths[i] = at;

    expect(avpgan_face_similarity_portraits_params_init(&q, sizeof q), AVPGAN_OK, "face_similarity_portraits_params_init");
    check(q.seconds == NULL && q.n_seconds == 0 && q.progress == NULL, "portraits defaults: lengths 2, 4, 6, 8");
    q.seconds = seconds;
    q.n_seconds = 2;
    expect(avpgan_face_similarity_portraits(model, paths, 2, &q, NULL, 0, &first), AVPGAN_OK, "face_similarity_portraits size query");
    expect(avpgan_face_similarity_portraits(model, paths + 2, count - 2, &q, NULL, 0, &rest), AVPGAN_OK, "size query of the rest");
    check(first > 0 && rest == first * 2, "every record has one size (%zu bytes for 2, %zu for 4)", first, rest);
    records = malloc(first + rest);
    expect(avpgan_face_similarity_portraits(model, paths, 2, &q, records, first - 1, &needed), AVPGAN_E_BUFFER_TOO_SMALL,
           "face_similarity_portraits(capacity one byte short)");
    expect(avpgan_face_similarity_portraits(model, paths, 2, &q, records, first, &needed), AVPGAN_OK, "portraits of the first share");
    expect(avpgan_face_similarity_portraits(model, paths + 2, count - 2, &q, records + first, rest, &needed), AVPGAN_OK,
           "portraits of the second share");
    parts[0] = records;
    sizes[0] = first + rest;
    expect(avpgan_face_similarity_score(models, 1, face, &p, parts, sizes, NULL, 0, &needed), AVPGAN_OK, "face_similarity_score size query");
    check(needed == 3, "score: 3 rows (%zu)", needed);
    expect(avpgan_face_similarity_score(models, 1, face, &p, parts, sizes, rows, 3, &needed), AVPGAN_OK, "face_similarity_score");
    check(memcmp(rows, evaluated, sizeof rows) == 0, "the steps give the rows of avpgan_face_similarity_evaluate bit for bit");
    sizes[0] = first;
    expect(avpgan_face_similarity_score(models, 1, face, &p, parts, sizes, rows, 3, &needed), AVPGAN_E_INVALID_ARGUMENT,
           "face_similarity_score(the first share only)");
    check(strstr(avpgan_last_error(), "6 recordings") != NULL, "the message counts the recordings: %s", avpgan_last_error());
    free(records);
    free(list);
}

/* Pixel retrieval in steps: the recordings, their embeddings in two shares joined, and the
 * ranking give avpgan_pixel_retrieval_evaluate's result bit for bit. */
static void test_pixel_retrieval_steps(const avpgan_model *model, const char *voices, const char *faces, const char *scratch)
{
    avpgan_pixel_retrieval_params p;
    avpgan_pixel_retrieval_embeddings_params q;
    avpgan_pixel_retrieval_result one, steps;
    const char *paths[16];
    char cache[1024], *list, *at;
    uint8_t *records;
    size_t needed = 0, count = 0, first = 0, rest = 0, i;
    snprintf(cache, sizeof cache, "%s/cache", scratch);
    expect(avpgan_pixel_retrieval_params_init(&p, sizeof p), AVPGAN_OK, "pixel_retrieval_params_init");
    p.voices_dir = voices;
    p.faces_dir = faces;
    p.eval_split = AVPGAN_EVAL_SPLIT_ALL;
    p.cache_dir = cache;
    memset(&one, 0, sizeof one);
    memset(&steps, 0, sizeof steps);
    one.struct_size = steps.struct_size = sizeof one;
    expect(avpgan_pixel_retrieval_evaluate(model, &p, &one), AVPGAN_OK, "pixel_retrieval_evaluate (the one call)");
    expect(avpgan_pixel_retrieval_recordings(&p, NULL, 0, &needed, &count), AVPGAN_OK, "pixel_retrieval_recordings size query");
    check(count == 6, "6 recordings (%zu)", count);
    list = malloc(needed);
    expect(avpgan_pixel_retrieval_recordings(&p, list, needed, &needed, NULL), AVPGAN_OK, "pixel_retrieval_recordings");
    for (i = 0, at = list; i < count && i < 16; i++, at += strlen(at) + 1) paths[i] = at;
    expect(avpgan_pixel_retrieval_embeddings_params_init(&q, sizeof q), AVPGAN_OK, "pixel_retrieval_embeddings_params_init");
    q.cache_dir = "";
    expect(avpgan_pixel_retrieval_embeddings(model, paths, 1, &q, NULL, 0, &first), AVPGAN_E_INVALID_ARGUMENT,
           "embeddings size query (cache_dir \"\")");
    q.cache_dir = cache;
    expect(avpgan_pixel_retrieval_embeddings(model, paths, 1, &q, NULL, 0, &first), AVPGAN_OK, "embeddings size query");
    expect(avpgan_pixel_retrieval_embeddings(model, paths + 1, count - 1, &q, NULL, 0, &rest), AVPGAN_OK, "size query of the rest");
    check(first > 0 && rest == 5 * first, "every record has one size (%zu for 1, %zu for 5)", first, rest);
    records = malloc(first + rest);
    expect(avpgan_pixel_retrieval_embeddings(model, paths, 1, &q, records, first, &needed), AVPGAN_OK, "embeddings of the first share");
    expect(avpgan_pixel_retrieval_embeddings(model, paths + 1, count - 1, &q, records + first, rest, &needed), AVPGAN_OK,
           "embeddings of the second share");
    expect(avpgan_pixel_retrieval_score(model, &p, records, first + rest, &steps), AVPGAN_OK, "pixel_retrieval_score");
    check(memcmp(&one, &steps, sizeof one) == 0, "the steps give avpgan_pixel_retrieval_evaluate's result bit for bit");
    expect(avpgan_pixel_retrieval_score(model, &p, records + first, rest, &steps), AVPGAN_E_INVALID_ARGUMENT,
           "pixel_retrieval_score(the second share only)");
    check(strstr(avpgan_last_error(), "6 recordings") != NULL, "the message counts the recordings: %s", avpgan_last_error());
    free(records);
    free(list);
}

static void test_voice_training(const char *voices, const char *scratch)
{
    avpgan_voice_training_params p;
    avpgan_voice_training_result r;
    char cache[1024], ckpt[1024], out[1024], log[1024];
    snprintf(cache, sizeof cache, "%s/cache", scratch);
    snprintf(ckpt, sizeof ckpt, "%s/voice-ckpt", scratch);
    snprintf(out, sizeof out, "%s/encoder.safetensors", scratch);
    snprintf(log, sizeof log, "%s/voice-ckpt/train-voice.jsonl", scratch);

    expect(avpgan_voice_training_params_init(&p, sizeof p), AVPGAN_OK, "voice_training_params_init");
    check(p.steps == 1000 && p.batch_size == 64 && p.checkpoint_every == 100 && fabs(p.lr - 2e-4) < 1e-12 && p.seed == 1 &&
          p.widths == AVPGAN_WIDTHS_FULL && p.resume == 0, "voice training defaults as avpgan train-voice's");
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    expect(avpgan_voice_encoder_train(NULL, &r), AVPGAN_E_INVALID_ARGUMENT, "voice_encoder_train(NULL params)");
    p.voices_dir = voices;
    p.cache_dir = cache;
    p.widths = AVPGAN_WIDTHS_TINY;
    p.steps = 2;
    p.batch_size = 4;
    p.checkpoint_every = 1;
    expect(avpgan_voice_encoder_train(&p, &r), AVPGAN_E_INVALID_ARGUMENT, "voice_encoder_train(output NULL)");
    p.output = out;
    p.batch_size = 1;
    expect(avpgan_voice_encoder_train(&p, &r), AVPGAN_E_INVALID_ARGUMENT, "voice_encoder_train(batch_size 1)");
    p.batch_size = 4;
    p.lr = NAN;
    expect(avpgan_voice_encoder_train(&p, &r), AVPGAN_E_INVALID_ARGUMENT, "voice_encoder_train(lr NaN)");
    p.lr = 2e-4;
    p.resume = 1;
    expect(avpgan_voice_encoder_train(&p, &r), AVPGAN_E_INVALID_ARGUMENT, "voice_encoder_train(resume without checkpoint_dir)");
    p.resume = 0;
    p.checkpoint_dir = ckpt;
    p.progress = on_step;
    n_steps_seen = 0; losses_finite = 1;
    expect(avpgan_voice_encoder_train(&p, &r), AVPGAN_OK, "voice_encoder_train 2 steps");
    check(r.first_step == 0 && r.step == 2 && r.n_speakers >= 2 && r.embed_dim > 0 && r.held_out_correct <= r.n_held_out,
          "result: steps 0..2, %u speakers, %u/%u held out correct", r.n_speakers, r.held_out_correct, r.n_held_out);
    check(n_steps_seen == 2 && losses_finite, "progress after each step with a finite loss and an accuracy in [0, 1]");
    check(access(out, R_OK) == 0 && access(log, R_OK) == 0, "the encoder file and the log are written");
    p.resume = 1;
    p.steps = 6;
    p.abort_fn = on_abort;
    abort_after = 1; n_asked = 0;
    expect(avpgan_voice_encoder_train(&p, &r), AVPGAN_E_ABORTED, "voice_encoder_train resumed and stopped by its abort callback");
    check(r.first_step == 2 && r.step == 3, "the resumed run took one step before the abort (steps %llu..%llu)",
          (unsigned long long)r.first_step, (unsigned long long)r.step);
    abort_after = 1000000;
    expect(avpgan_voice_encoder_train(&p, &r), AVPGAN_OK, "voice_encoder_train resumed from the aborted run's checkpoint");
    check(r.first_step == 3 && r.step == 6, "it continues at step 3 and reaches 6");
}

static void test_synthetic(const char *scratch)
{
    avpgan_synthetic_params p;
    char dir[1024], face[1024];
    snprintf(dir, sizeof dir, "%s/synth", scratch);
    snprintf(face, sizeof face, "%s/synth/faces/id0001/0.png", scratch);
    expect(avpgan_synthetic_params_init(&p, sizeof p), AVPGAN_OK, "synthetic_params_init");
    check(p.speakers == 20 && p.utterances == 4 && p.faces == 4 && p.seed == 1, "synthetic defaults as avpgan synth-data's");
    expect(avpgan_synthetic_dataset_write(NULL, &p), AVPGAN_E_INVALID_ARGUMENT, "synthetic_dataset_write(NULL dir)");
    p.speakers = 1;
    expect(avpgan_synthetic_dataset_write(dir, &p), AVPGAN_E_INVALID_ARGUMENT, "synthetic_dataset_write(speakers 1)");
    check(strstr(avpgan_last_error(), "params.speakers") != NULL, "the message names params.speakers: %s", avpgan_last_error());
    p.speakers = 2;
    p.utterances = 1;
    p.faces = 1;
    p.abort_fn = on_abort;
    p.progress = on_progress;
    abort_after = 0; n_asked = 0;
    expect(avpgan_synthetic_dataset_write(dir, &p), AVPGAN_E_ABORTED, "synthetic_dataset_write stopped by its abort callback");
    abort_after = 1000000; n_progress = 0;
    expect(avpgan_synthetic_dataset_write(dir, &p), AVPGAN_OK, "synthetic_dataset_write of 2 speakers");
    check(n_progress == 2 && last_done == 2 && last_total == 2, "progress after each speaker");
    check(file_starts_with(face, "\x89PNG", 4), "faces/id0001/0.png is a PNG file");
}

int main(int argc, char **argv)
{
    avpgan_model *model = NULL;
    avpgan_face_model *face = NULL;
    char voices[1024], faces[1024];
    if (argc != 5) {
        fprintf(stderr, "usage: %s MODEL.safetensors DATA FACE.safetensors SCRATCH\n", argv[0]);
        return 2;
    }
    snprintf(voices, sizeof voices, "%s/voices", argv[2]);
    snprintf(faces, sizeof faces, "%s/faces", argv[2]);
    if (avpgan_model_load_file(argv[1], NULL, &model) != AVPGAN_OK ||
        avpgan_face_model_load_file(argv[3], NULL, &face) != AVPGAN_OK) {
        fprintf(stderr, "cannot load the models: %s\n", avpgan_last_error());
        return 2;
    }
    test_pixel_retrieval(model, voices, faces, argv[4]);
    test_face_similarity(model, face, voices, faces, argv[4]);
    test_face_similarity_steps(model, face, voices, faces);
    test_pixel_retrieval_steps(model, voices, faces, argv[4]);
    test_voice_training(voices, argv[4]);
    test_synthetic(argv[4]);
    avpgan_face_model_free(face);
    avpgan_model_free(model);
    printf("evaluation: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
