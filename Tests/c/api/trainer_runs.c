/* What the face-folder trainer tests share (api.h, "trainer runs"): their folders, named status
 * checks and the record of a run's progress and abort callbacks. */
#include "api.h"
#include "drawn_faces.h"

int face_trainer_paths_make(face_trainer_paths *p, const char *area, const char *checkpoint, int n_faces, uint32_t side)
{
    snprintf(p->dir, sizeof p->dir, "%s", "/tmp/avpgan-test-trainer-XXXXXX");
    if (mkdtemp(p->dir) == NULL) { check(0, strerror(errno), "%s: mkdtemp", area); return -1; }
    snprintf(p->faces, sizeof p->faces, "%s/faces", p->dir);
    snprintf(p->other, sizeof p->other, "%s/other", p->dir);
    snprintf(p->ckdir, sizeof p->ckdir, "%s/ck", p->dir);
    snprintf(p->auto_ck, sizeof p->auto_ck, "%s/ck/%s", p->dir, checkpoint);
    snprintf(p->ck1, sizeof p->ck1, "%s/step1.safetensors", p->dir);
    snprintf(p->a_file, sizeof p->a_file, "%s/a.safetensors", p->dir);
    snprintf(p->b_file, sizeof p->b_file, "%s/b.safetensors", p->dir);
    check(drawn_faces_write(p->faces, n_faces, side, 0) == 0 && drawn_faces_write(p->other, 7, side, 0) == 0, strerror(errno),
          "%s: faces written", area);
    return 0;
}

void expect_named(const char *area, avpgan_status got, avpgan_status want, const char *needle, const char *what)
{
    const char *err = avpgan_last_error();
    int ok = got == want && (needle == NULL || strstr(err, needle) != NULL);
    check(ok, err, "%s: %s -> %s (got %s, \"%s\")", area, what, status_name(want), status_name(got), err);
}

void run_record_reset(run_record *r, void *trainer, avpgan_status (*reenter)(void *trainer), uint64_t abort_after)
{
    memset(r, 0, sizeof *r);
    r->trainer = trainer;
    r->reenter = reenter;
    r->order_ok = 1;
    r->abort_after = abort_after;
}

void on_run_progress(uint64_t done, uint64_t total, const float *losses, uint32_t present, void *user)
{
    run_record *r = user;
    if (done != r->calls + 1 || done > total) r->order_ok = 0;
    if (r->calls < 4) {
        memcpy(r->losses[r->calls], losses, r->n_losses * sizeof(float));
        r->present[r->calls] = present;
    }
    r->calls++;
    if (r->reenter) {
        r->reenter_status = r->reenter(r->trainer);
        snprintf(r->reenter_error, sizeof r->reenter_error, "%s", avpgan_last_error());
    }
}

int on_run_abort(void *user)
{
    run_record *r = user;
    return r->abort_calls++ >= r->abort_after;
}
