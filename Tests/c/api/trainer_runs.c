/* What the face-folder trainer tests share (api.h, "trainer runs"): named status checks and the
 * record of a run's progress and abort callbacks. */
#include "api.h"

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
