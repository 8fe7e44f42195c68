/* Data-parallel face-prior training (avpgan_prior_trainer) through the C API's
 * gradient-reduction hook, with two threads as ranks: the suite of face_data_parallel.h (two
 * ranks equal one trainer on the whole batch within 1e-4 relative over 4 steps, rank 0 alone
 * writes the checkpoint, the sample sheet and the prior, the params of before the
 * data-parallel fields train alone, refusals) on the prior trainer at tiny widths, 32 px. Step 4
 * takes the path-length term (every 4 steps), whose faces the ranks share too.
 *
 * usage: test_prior_data_parallel (makes and removes its own faces under /tmp) */
#define _XOPEN_SOURCE 700
#include "face_data_parallel.h"

static avpgan_status create(const face_trainer_args *a, void **out)
{
    avpgan_prior_trainer_params p;
    avpgan_prior_trainer_params_init(&p, sizeof p);
    FACE_PARAMS_FROM_ARGS(p, avpgan_prior_trainer_params, a);
    p.checkpoint_every = 4;
    p.sheet_samples = 4;
    return avpgan_prior_trainer_create(&p, (avpgan_prior_trainer **)out);
}

static avpgan_status run(void *t, uint64_t steps, face_rank_run *r)
{
    return avpgan_prior_trainer_run(t, steps, face_run_progress, r, NULL, NULL, NULL);
}

static avpgan_status export_file(void *t, const char *path) { return avpgan_prior_trainer_export(t, path); }

static void free_trainer(void *t) { avpgan_prior_trainer_free(t); }

static void path_term_on_step_4(const face_rank_run *single)
{
    check((single->present[3] & (1u << AVPGAN_PRIOR_LOSS_G_PATH)) != 0, "step 4 takes the path-length term");
}

int main(void)
{
    static const face_trainer_ops ops = {"prior", "prior-checkpoint.safetensors", "samples/step-000004.png", "truncation",
                                         AVPGAN_PRIOR_N_LOSSES, 4, create, run, export_file, free_trainer};
    return face_data_parallel_suite(&ops, path_term_on_step_4);
}
