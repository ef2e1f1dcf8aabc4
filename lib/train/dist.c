/* lib/train/dist.h with MPI: MPI_COMM_WORLD of the job the process was launched in. */
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/dist.h"

struct sscma_dist {
    sscma_context *ctx;
    int rank, size;
    bool mpi; /* false: a job of one, MPI not used */
};

static void finalize_at_exit(void)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized)
        MPI_Finalize();
}

/* Whether a launcher started this process as part of an MPI job (OpenMPI's mpirun, PMI/PMIx as srun sets). */
static bool launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", NULL};
    for (int i = 0; vars[i] != NULL; i++)
        if (getenv(vars[i]) != NULL)
            return true;
    return false;
}

sscma_status sscma_dist_join(sscma_context *ctx, sscma_dist **out)
{
    sscma_dist *d = sscma_calloc(ctx, 1, sizeof *d);
    if (d == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the trainer's job");
    d->ctx = ctx, d->rank = 0, d->size = 1;
    const char *opt_out = getenv("SSCMA_MPI");
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    bool want = !finalized && (initialized || launched_by_mpi()) && !(opt_out != NULL && strcmp(opt_out, "0") == 0);
    if (want && !initialized) {
        int provided = 0;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
            sscma_mfree(ctx, d);
            return SSCMA_FAIL(SSCMA_ERR_IO, "MPI_Init_thread failed: cannot join the MPI job (SSCMA_MPI=0 trains "
                              "alone)");
        }
        atexit(finalize_at_exit);
    }
    if (want) {
        MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &d->size);
        /* MPI_COMM_WORLD keeps MPI's default handler, MPI_ERRORS_ARE_FATAL: a failed collective (a lost peer) ends
         * the whole job with MPI's message rather than leaving a rank waiting */
        d->mpi = true;
    }
    *out = d;
    return SSCMA_OK;
}

void sscma_dist_leave(sscma_dist *d)
{
    if (d != NULL)
        sscma_mfree(d->ctx, d);
}

int32_t sscma_dist_rank(const sscma_dist *d)
{
    return d->rank;
}

int32_t sscma_dist_size(const sscma_dist *d)
{
    return d->size;
}

static sscma_status mpi_failed(const char *call, int code)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", code);
    return sscma_fail(SSCMA_ERR_IO, call, "%s", text);
}

sscma_status sscma_dist_sum(sscma_dist *d, double *values, int64_t n)
{
    if (d->size == 1 || n == 0)
        return SSCMA_OK;
    /* in slices that fit MPI's int count */
    for (int64_t at = 0; at < n; at += 1 << 30) {
        int count = (int)(n - at < (1 << 30) ? n - at : 1 << 30);
        int rc = MPI_Allreduce(MPI_IN_PLACE, values + at, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_failed("MPI_Allreduce", rc);
    }
    return SSCMA_OK;
}

sscma_status sscma_dist_broadcast(sscma_dist *d, void *data, size_t bytes)
{
    if (d->size == 1 || bytes == 0)
        return SSCMA_OK;
    for (size_t at = 0; at < bytes; at += (size_t)1 << 30) {
        int count = (int)(bytes - at < ((size_t)1 << 30) ? bytes - at : (size_t)1 << 30);
        int rc = MPI_Bcast((char *)data + at, count, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_failed("MPI_Bcast", rc);
    }
    return SSCMA_OK;
}

void sscma_dist_abort(sscma_dist *d, const char *message)
{
    if (!d->mpi || d->size == 1)
        return;
    fprintf(stderr, "sscma: rank %d of %d: %s; stopping the job\n", d->rank, d->size, message);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
}
