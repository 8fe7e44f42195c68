/* Data-parallel GAN training from C with the host's own MPI communicator: every rank makes a
 * trainer with the same params, its rank, and an allreduce that sums over MPI_COMM_WORLD; the
 * library shares each global batch out and sums gradients before every optimizer step. Rank 0
 * writes the model.
 *
 *   mpicc train_mpi.c -o train_mpi -lavpgan
 *   mpirun -np 4 ./train_mpi VOICE_ENCODER.safetensors DATA_DIR STEPS OUT.safetensors
 *
 * DATA_DIR holds voices/<identity>/ and faces/<identity>/ (as avpgan synth-data writes). */
#include <avpgan.h>
#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>

/* The library's reduction, as MPI does it: an in-place float sum over all ranks. */
static int mpi_sum(float *values, size_t count, void *user_data)
{
    MPI_Comm comm = *(MPI_Comm *)user_data;
    while (count > 0) {
        int n = count > (size_t)1 << 30 ? 1 << 30 : (int)count; /* MPI counts are int */
        if (MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, comm) != MPI_SUCCESS) return 1;
        values += n;
        count -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Comm comm = MPI_COMM_WORLD;
    avpgan_trainer_params p;
    avpgan_trainer *t = NULL;
    float losses[AVPGAN_N_LOSSES];
    char voices[4096], faces[4096], cache[4096];
    int rank, size;
    long steps, s;
    avpgan_status st;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (argc != 5 || (steps = strtol(argv[3], NULL, 10)) < 1) {
        if (rank == 0) fprintf(stderr, "usage: %s VOICE_ENCODER DATA_DIR STEPS OUT.safetensors\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    snprintf(voices, sizeof voices, "%s/voices", argv[2]);
    snprintf(faces, sizeof faces, "%s/faces", argv[2]);
    snprintf(cache, sizeof cache, "%s/feature-cache", argv[2]);

    avpgan_trainer_params_init(&p, sizeof p);
    p.widths = AVPGAN_WIDTHS_TINY;
    p.batch_size = 16; /* the global batch: each rank computes its share */
    p.voices_dir = voices;
    p.faces_dir = faces;
    p.cache_dir = cache;
    p.voice_encoder = argv[1];
    p.allreduce = mpi_sum;
    p.allreduce_user_data = &comm;
    p.rank = (uint32_t)rank;
    p.n_ranks = (uint32_t)size;

    /* Collective: fails on every rank if the ranks disagree. A failure on one rank alone
     * would leave the others waiting inside the library, so any failure ends the job. */
    if ((st = avpgan_trainer_create(&p, &t)) != AVPGAN_OK) {
        fprintf(stderr, "rank %d: avpgan_trainer_create: %s\n", rank, avpgan_last_error());
        MPI_Abort(comm, 1);
    }
    for (s = 0; s < steps; s++) {
        if ((st = avpgan_trainer_step(t, losses)) != AVPGAN_OK) {
            fprintf(stderr, "rank %d: avpgan_trainer_step: %s\n", rank, avpgan_last_error());
            MPI_Abort(comm, 1);
        }
        if (rank == 0) printf("step %ld  d_real %.4f  d_fake %.4f  g_class %.4f\n", s + 1, losses[0], losses[1], losses[4]);
    }
    if (rank == 0 && avpgan_trainer_export(t, argv[4]) != AVPGAN_OK) {
        fprintf(stderr, "avpgan_trainer_export: %s\n", avpgan_last_error());
        MPI_Abort(comm, 1);
    }
    if (rank == 0) printf("%d ranks trained %ld steps; wrote %s\n", size, steps, argv[4]);
    avpgan_trainer_free(t);
    MPI_Finalize();
    return 0;
}
