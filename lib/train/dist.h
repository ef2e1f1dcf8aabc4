/*
 * Data-parallel training over MPI (docs/distributed.md): the trainer's view of the job it runs in. Internal; no
 * public symbol. dist.c implements it with MPI (built with -Dmpi=enabled, or auto and OpenMPI found); dist_none.c,
 * built otherwise, is the same interface for a job of one process, so the trainer has one code path.
 *
 * Joining: a process launched by mpirun/mpiexec (OMPI_COMM_WORLD_SIZE), srun or another PMI launcher (PMI_SIZE,
 * PMIX_RANK), or whose application already called MPI_Init, works in MPI_COMM_WORLD. When libsscma initialised MPI
 * itself (MPI_Init_thread, MPI_THREAD_SERIALIZED: only the trainer's thread calls MPI, one call at a time), it
 * calls MPI_Finalize at process exit (atexit), after every trainer is gone: MPI may be initialised only once per
 * process, so a later trainer of the same process reuses it. An application that initialised MPI finalises it.
 * SSCMA_MPI=0 in the environment keeps a process out of MPI (a job of one) even under a launcher.
 */
#ifndef SSCMA_LIB_TRAIN_DIST_H
#define SSCMA_LIB_TRAIN_DIST_H
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

typedef struct sscma_dist sscma_dist;

/* Joins the job (see above) or, outside one, makes a job of one. Errors: SSCMA_ERR_OUT_OF_MEMORY, SSCMA_ERR_IO
 * (MPI failed to initialise: the message says so). */
sscma_status sscma_dist_join(sscma_context *ctx, sscma_dist **out);
/* Leaves the job (frees the handle; MPI stays initialised until exit). NULL-safe. */
void sscma_dist_leave(sscma_dist *d);

/* This process's rank in [0, size) and the job's size (1 outside MPI). */
int32_t sscma_dist_rank(const sscma_dist *d);
int32_t sscma_dist_size(const sscma_dist *d);

/* Sums `values` over the ranks in place (MPI_Allreduce, MPI_SUM on doubles); every rank gets the same bits. */
sscma_status sscma_dist_sum(sscma_dist *d, double *values, int64_t n);
/* Copies rank 0's `bytes` at `data` to every rank. */
sscma_status sscma_dist_broadcast(sscma_dist *d, void *data, size_t bytes);
/* Stops every rank of the job (MPI_Abort) after printing "sscma: rank R of N: <message>; stopping the job" to
 * stderr; returns only in a job of one. */
void sscma_dist_abort(sscma_dist *d, const char *message);

#endif /* SSCMA_LIB_TRAIN_DIST_H */
