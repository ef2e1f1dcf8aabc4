/* lib/train/dist.h without MPI (built with -Dmpi=disabled, or auto without OpenMPI): every job has one process. */
#include "train/dist.h"

struct sscma_dist {
    sscma_context *ctx;
};

sscma_status sscma_dist_join(sscma_context *ctx, sscma_dist **out)
{
    sscma_dist *d = sscma_calloc(ctx, 1, sizeof *d);
    if (d == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the trainer's job");
    d->ctx = ctx;
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
    (void)d;
    return 0;
}

int32_t sscma_dist_size(const sscma_dist *d)
{
    (void)d;
    return 1;
}

sscma_status sscma_dist_sum(sscma_dist *d, const char *what, double *values, int64_t n)
{
    (void)d, (void)what, (void)values, (void)n;
    return SSCMA_OK;
}

sscma_status sscma_dist_broadcast(sscma_dist *d, const char *what, void *data, size_t bytes)
{
    (void)d, (void)what, (void)data, (void)bytes;
    return SSCMA_OK;
}

sscma_status sscma_dist_sum_start(sscma_dist *d, double *values, int64_t n)
{
    (void)d, (void)values, (void)n;
    return SSCMA_OK;
}

void sscma_dist_sum_progress(sscma_dist *d)
{
    (void)d;
}

sscma_status sscma_dist_sum_wait_all(sscma_dist *d, const char *what)
{
    (void)d, (void)what;
    return SSCMA_OK;
}

size_t sscma_dist_bucket_bytes(const sscma_dist *d)
{
    (void)d;
    return 0;
}

void sscma_dist_abort(sscma_dist *d, const char *message)
{
    (void)d, (void)message;
}
