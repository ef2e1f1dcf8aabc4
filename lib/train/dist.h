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
 * (MPI failed to initialise: the message says so), SSCMA_ERR_INVALID_ARGUMENT (SSCMA_MPI_TIMEOUT or
 * SSCMA_MPI_BUCKET_KB is not a number in range). */
sscma_status sscma_dist_join(sscma_context *ctx, sscma_dist **out);
/* Leaves the job (frees the handle; MPI stays initialised until exit). NULL-safe. */
void sscma_dist_leave(sscma_dist *d);

/* This process's rank in [0, size) and the job's size (1 outside MPI). */
int32_t sscma_dist_rank(const sscma_dist *d);
int32_t sscma_dist_size(const sscma_dist *d);

/*
 * Every collective below is started non-blocking and waited for against a deadline: SSCMA_MPI_TIMEOUT seconds
 * (default 600; read at join). A collective that has not completed by then means another rank is stuck (or gone
 * without MPI noticing): the rank prints "sscma: rank R of N: <what> (<MPI call>) did not complete within T s
 * (SSCMA_MPI_TIMEOUT): another rank is stuck or gone; stopping the job" and calls MPI_Abort, which ends every rank.
 * `what` names the reduction for that message ("the gradient sum", "SyncBN's sums", ...).
 */

/* Sums `values` over the ranks in place (MPI_SUM on doubles); every rank gets the same bits. */
sscma_status sscma_dist_sum(sscma_dist *d, const char *what, double *values, int64_t n);
/* Copies rank 0's `bytes` at `data` to every rank. */
sscma_status sscma_dist_broadcast(sscma_dist *d, const char *what, void *data, size_t bytes);

/*
 * Background sums (the gradient buckets, overlapped with the backward pass): sum_start begins summing values[0..n)
 * in place (MPI_Iallreduce; n <= 2^30); the values must stay untouched until sum_wait_all returns. Every rank must
 * start the same sums in the same order, interleaved the same way with the blocking calls above. sum_progress gives
 * MPI a chance to move the pending ones on (OpenMPI progresses non-blocking collectives mostly inside MPI calls);
 * sum_wait_all waits for all of them (the deadline applies).
 */
sscma_status sscma_dist_sum_start(sscma_dist *d, double *values, int64_t n);
void sscma_dist_sum_progress(sscma_dist *d);
sscma_status sscma_dist_sum_wait_all(sscma_dist *d, const char *what);

/* The gradient bucket size in bytes of doubles: SSCMA_MPI_BUCKET_KB (default 1024); 0 asks for one sum after the
 * whole backward pass (no overlap). */
size_t sscma_dist_bucket_bytes(const sscma_dist *d);

/* Stops every rank of the job (MPI_Abort) after printing "sscma: rank R of N: <message>; stopping the job" to
 * stderr; returns only in a job of one. */
void sscma_dist_abort(sscma_dist *d, const char *message);

#endif /* SSCMA_LIB_TRAIN_DIST_H */
