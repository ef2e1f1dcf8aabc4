/* lib/train/dist.h with MPI: MPI_COMM_WORLD of the job the process was launched in. */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/dist.h"

struct sscma_dist {
    sscma_context *ctx;
    int rank, size;
    bool mpi; /* false: a job of one, MPI not used */
    double timeout_s;    /* SSCMA_MPI_TIMEOUT: the longest wait for a collective */
    size_t bucket_bytes; /* SSCMA_MPI_BUCKET_KB * 1024 */
    MPI_Request *pending; /* background sums not yet waited for */
    int n_pending, cap_pending;
};

#define DEFAULT_TIMEOUT_S 600.0
#define DEFAULT_BUCKET_KB 1024

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A positive number from the environment variable `name` (its default when unset) within [lo, hi]. */
static sscma_status env_number(const char *name, double fallback, double lo, double hi, double *out)
{
    const char *text = getenv(name);
    *out = fallback;
    if (text == NULL)
        return SSCMA_OK;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, name, "expected a number in [%g, %g], got '%s'", lo, hi, text);
    *out = v;
    return SSCMA_OK;
}

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
    double timeout_s = 0.0, bucket_kb = 0.0;
    sscma_status st = env_number("SSCMA_MPI_TIMEOUT", DEFAULT_TIMEOUT_S, 0.001, 1e9, &timeout_s);
    if (st == SSCMA_OK)
        st = env_number("SSCMA_MPI_BUCKET_KB", DEFAULT_BUCKET_KB, 0.0, 1 << 20, &bucket_kb);
    if (st != SSCMA_OK) {
        sscma_mfree(ctx, d);
        return st;
    }
    d->timeout_s = timeout_s, d->bucket_bytes = (size_t)(bucket_kb * 1024.0);
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

static sscma_status wait_for(sscma_dist *d, int count, MPI_Request *reqs, const char *what, const char *call);

void sscma_dist_leave(sscma_dist *d)
{
    if (d == NULL)
        return;
    /* pending sums only remain after an error (the trainer waits for them otherwise); their buffers are about to
     * go: wait for them, under the watchdog */
    if (d->n_pending > 0)
        wait_for(d, d->n_pending, d->pending, "a gradient sum left pending", "MPI_Iallreduce");
    sscma_mfree(d->ctx, d->pending);
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

/* The watchdog: polls `reqs` until they complete; past the deadline, names the wait and ends the job. */
static sscma_status wait_for(sscma_dist *d, int count, MPI_Request *reqs, const char *what, const char *call)
{
    const double deadline = now_s() + d->timeout_s;
    for (;;) {
        int done = 0;
        int rc = MPI_Testall(count, reqs, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_failed(call, rc);
        if (done)
            return SSCMA_OK;
        if (now_s() > deadline) {
            char message[256];
            snprintf(message, sizeof message, "%s (%s) did not complete within %g s (SSCMA_MPI_TIMEOUT): another rank "
                     "is stuck or gone", what, call, d->timeout_s);
            sscma_dist_abort(d, message);
            return sscma_fail(SSCMA_ERR_IO, call, "%s", message); /* not reached: MPI_Abort does not return */
        }
        sched_yield(); /* oversubscribed ranks: let the one we wait for run */
    }
}

sscma_status sscma_dist_sum(sscma_dist *d, const char *what, double *values, int64_t n)
{
    if (d->size == 1 || n == 0)
        return SSCMA_OK;
    /* in slices that fit MPI's int count */
    for (int64_t at = 0; at < n; at += 1 << 30) {
        int count = (int)(n - at < (1 << 30) ? n - at : 1 << 30);
        MPI_Request req;
        int rc = MPI_Iallreduce(MPI_IN_PLACE, values + at, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &req);
        sscma_status st = rc == MPI_SUCCESS ? wait_for(d, 1, &req, what, "MPI_Allreduce") : mpi_failed("MPI_Iallreduce", rc);
        if (st != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

sscma_status sscma_dist_broadcast(sscma_dist *d, const char *what, void *data, size_t bytes)
{
    if (d->size == 1 || bytes == 0)
        return SSCMA_OK;
    for (size_t at = 0; at < bytes; at += (size_t)1 << 30) {
        int count = (int)(bytes - at < ((size_t)1 << 30) ? bytes - at : (size_t)1 << 30);
        MPI_Request req;
        int rc = MPI_Ibcast((char *)data + at, count, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
        sscma_status st = rc == MPI_SUCCESS ? wait_for(d, 1, &req, what, "MPI_Bcast") : mpi_failed("MPI_Ibcast", rc);
        if (st != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

sscma_status sscma_dist_sum_start(sscma_dist *d, double *values, int64_t n)
{
    if (d->size == 1 || n == 0)
        return SSCMA_OK;
    if (n > (1 << 30))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "MPI_Iallreduce", "%lld values in one background sum: at most "
                          "2^30", (long long)n);
    if (d->n_pending == d->cap_pending) {
        int cap = d->cap_pending > 0 ? 2 * d->cap_pending : 16;
        MPI_Request *p = sscma_mrealloc(d->ctx, d->pending, (size_t)cap * sizeof *p);
        if (p == NULL)
            return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot track %d background sums", cap);
        d->pending = p, d->cap_pending = cap;
    }
    int rc = MPI_Iallreduce(MPI_IN_PLACE, values, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD,
                            &d->pending[d->n_pending]);
    if (rc != MPI_SUCCESS)
        return mpi_failed("MPI_Iallreduce", rc);
    d->n_pending++;
    return SSCMA_OK;
}

void sscma_dist_sum_progress(sscma_dist *d)
{
    if (d->n_pending > 0) {
        int done = 0;
        MPI_Testall(d->n_pending, d->pending, &done, MPI_STATUSES_IGNORE); /* errors show in the wait */
    }
}

sscma_status sscma_dist_sum_wait_all(sscma_dist *d, const char *what)
{
    if (d->n_pending == 0)
        return SSCMA_OK;
    sscma_status st = wait_for(d, d->n_pending, d->pending, what, "MPI_Iallreduce");
    if (st == SSCMA_OK) /* after an error the requests may be live: sscma_dist_leave waits for them again */
        d->n_pending = 0;
    return st;
}

size_t sscma_dist_bucket_bytes(const sscma_dist *d)
{
    return d->bucket_bytes;
}

void sscma_dist_abort(sscma_dist *d, const char *message)
{
    if (!d->mpi || d->size == 1)
        return;
    fprintf(stderr, "sscma: rank %d of %d: %s; stopping the job\n", d->rank, d->size, message);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
}
