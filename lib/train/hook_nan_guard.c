/*
 * The NaN guard (always on): a non-finite loss stops training before its backward, and a non-finite gradient norm
 * (the optimizer refuses the step) is reported the same way; both messages name the epoch, the iteration and the
 * last checkpoint written, after which nothing more is written.
 */
#include <math.h>
#include <stdlib.h>

#include "train/hook.h"
#include "train/hook_config.h"

static const char *last_good(const sscma_train_loop *loop)
{
    return loop->last_checkpoint[0] != '\0' ? loop->last_checkpoint : "(none written)";
}

static sscma_status check_loss(sscma_hook *h, sscma_train_loop *loop, const sscma_hook_iter *it)
{
    (void)h;
    if (isfinite(it->loss))
        return SSCMA_OK;
    return sscma_fail(SSCMA_ERR_NUMERIC, WHERE, "epoch %lld, iteration %lld: the loss is %g; training stopped, the "
                      "last good checkpoint is %s", (long long)loop->epoch + 1, (long long)loop->epoch_iter + 1,
                      it->loss, last_good(loop));
}

static sscma_status explain_update(sscma_hook *h, sscma_train_loop *loop, sscma_status status)
{
    (void)h;
    if (status != SSCMA_ERR_NUMERIC)
        return status;
    return sscma_fail(SSCMA_ERR_NUMERIC, WHERE, "epoch %lld, iteration %lld: the gradients are not finite; training "
                      "stopped, the last good checkpoint is %s", (long long)loop->epoch + 1,
                      (long long)loop->epoch_iter + 1, last_good(loop));
}

static void destroy(sscma_hook *h)
{
    sscma_mfree(h->ctx, h);
}

static const sscma_hook_ops nan_guard_ops = {
    .name = "NaNGuard", .after_forward = check_loss, .update_failed = explain_update, .destroy = destroy,
};

sscma_status sscma_hook_nan_guard_create(const sscma_context *ctx, sscma_hook **out)
{
    sscma_hook *h = sscma_malloc(ctx, sizeof *h);
    if (h == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the NaN guard");
    h->ops = &nan_guard_ops;
    h->ctx = ctx;
    *out = h;
    return SSCMA_OK;
}
