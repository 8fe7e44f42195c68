/* Data-parallel enhancer training (avpgan_enhancer_trainer) through the C API's
 * gradient-reduction hook, with two threads as ranks: the suite of face_data_parallel.h (two
 * ranks equal one trainer on the whole batch within 1e-4 relative over 3 steps, rank 0 alone
 * writes, the params of before the data-parallel fields train alone, refusals) on the enhancer
 * trainer at tiny widths, 32 px, the perceptual loss off (no VGG file).
 *
 * usage: test_enhancer_data_parallel (makes and removes its own faces under /tmp) */
#define _XOPEN_SOURCE 700
#include "face_data_parallel.h"

static avpgan_status create(const face_trainer_args *a, void **out)
{
    avpgan_enhancer_trainer_params p;
    avpgan_enhancer_trainer_params_init(&p, sizeof p);
    FACE_PARAMS_FROM_ARGS(p, avpgan_enhancer_trainer_params, a);
    p.checkpoint_every = 3;
    p.validation_fraction = 0.1;
    p.sheet_rows = 0;
    return avpgan_enhancer_trainer_create(&p, (avpgan_enhancer_trainer **)out);
}

static avpgan_status run(void *t, uint64_t steps, face_rank_run *r)
{
    return avpgan_enhancer_trainer_run(t, steps, face_run_progress, r, NULL, NULL, NULL);
}

static avpgan_status export_file(void *t, const char *path) { return avpgan_enhancer_trainer_export(t, path); }

static void free_trainer(void *t) { avpgan_enhancer_trainer_free(t); }

int main(void)
{
    static const face_trainer_ops ops = {"enhancer", "enhancer-checkpoint.safetensors", NULL, "validation_low_size",
                                         AVPGAN_ENHANCER_N_LOSSES, 3, create, run, export_file, free_trainer};
    return face_data_parallel_suite(&ops, NULL);
}
