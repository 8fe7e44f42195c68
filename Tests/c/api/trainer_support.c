/* What the trainer tests share: step counts, loss checks, the callbacks of avpgan_trainer_run and explicit batches. */
#include "api.h"

int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

uint64_t trainer_step(avpgan_trainer *t)
{
    avpgan_trainer_info info;
    info.struct_size = sizeof info;
    if (avpgan_trainer_get_info(t, &info) != AVPGAN_OK) {
        return (uint64_t)-1;
    }
    return info.step;
}

int losses_ok(const float *l)
{
    int i;
    for (i = 0; i < AVPGAN_N_LOSSES; i++) {
        if (!(l[i] > 0.0f && l[i] < 100.0f)) {
            return 0;
        }
    }
    return 1;
}


void on_progress(uint64_t done, uint64_t total, const float *losses, void *user)
{
    run_state *s = user;
    s->calls++;
    if (done != s->calls || done > total) {
        s->order_ok = 0;
    }
    s->last_done = done;
    s->last_total = total;
    if (losses == NULL || !losses_ok(losses)) {
        s->losses_ok = 0;
    } else {
        memcpy(s->last, losses, sizeof s->last);
    }
}

int on_abort(void *user)
{
    run_state *s = user;
    s->abort_calls++;
    return s->abort_after != 0 && s->abort_calls > s->abort_after;
}

int abort_always(void *user)
{
    (void)user;
    return 1;
}

void on_progress_reenter(uint64_t done, uint64_t total, const float *losses, void *user)
{
    run_state *s = user;
    avpgan_trainer_info info;
    float l[AVPGAN_N_LOSSES];
    on_progress(done, total, losses, user);
    if (s->reenter) {
        info.struct_size = sizeof info;
        s->reenter_step = avpgan_trainer_step(s->trainer, l);
        s->reenter_info = avpgan_trainer_get_info(s->trainer, &info);
        s->reenter = 0;
    }
}

static void *other_thread_main(void *arg)
{
    run_state *s = arg;
    float l[AVPGAN_N_LOSSES];
    s->other_status = avpgan_trainer_step(s->trainer, l);
    snprintf(s->other_error, sizeof s->other_error, "%s", avpgan_last_error());
    return NULL;
}

void on_progress_other_thread(uint64_t done, uint64_t total, const float *losses, void *user)
{
    run_state *s = user;
    pthread_t th;
    on_progress(done, total, losses, user);
    if (s->other_thread) {
        s->other_thread = 0;
        if (pthread_create(&th, NULL, other_thread_main, s) == 0) {
            pthread_join(th, NULL);
        } else {
            s->other_status = AVPGAN_OK;
        }
    }
}


int batch_alloc(batch *b, size_t n, size_t t, size_t e, size_t s, int32_t ids)
{
    size_t i;
    b->n = n;
    b->t = t;
    b->e = e;
    b->s = s;
    b->voices = malloc(n * t * 64 * sizeof(float));
    b->faces = malloc(n * 3 * s * s * sizeof(float));
    b->noise = malloc(n * e * sizeof(float));
    if (!b->voices || !b->faces || !b->noise || n > 4) {
        return -1;
    }
    fill_uniform(b->voices, n * t * 64, -2.0, 2.0);
    fill_uniform(b->faces, n * 3 * s * s, -1.0, 1.0);
    fill_uniform(b->noise, n * e, -0.05, 0.05);
    for (i = 0; i < n; i++) {
        b->voice_labels[i] = (int32_t)(i % (size_t)ids);
        b->face_labels[i] = (int32_t)((i + 1) % (size_t)ids);
    }
    return 0;
}

void batch_free(batch *b)
{
    free(b->voices);
    free(b->faces);
    free(b->noise);
}

avpgan_status gan_step(avpgan_trainer *t, const batch *b, float *losses)
{
    return avpgan_trainer_gan_step(t, b->n, b->t, 64, b->voices, b->voice_labels, b->faces,
                                   b->face_labels, b->noise, losses);
}
