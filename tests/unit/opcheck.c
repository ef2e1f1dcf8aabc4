#define _POSIX_C_SOURCE 200809L
#include "opcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float test_rng_uniform(test_rng *r)
{
    r->state = r->state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)(r->state >> 40) * (1.0f / 16777216.0f);
}

float test_rng_normal(test_rng *r)
{
    float u1 = test_rng_uniform(r), u2 = test_rng_uniform(r);
    if (u1 < 1e-7f)
        u1 = 1e-7f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

sscma_pool *test_context_pool(sscma_context *ctx)
{
    return ctx->pool;
}

static size_t desc_bytes(const sscma_desc *d)
{
    size_t n = (size_t)sscma_desc_numel(d);
    return (n == 0 ? 1 : n) * 4; /* f32 and i32 */
}

static void *zalloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n == 0 ? 64 : sscma_align_bytes(n)) != 0)
        return NULL;
    memset(p, 0, n == 0 ? 64 : sscma_align_bytes(n));
    return p;
}

sscma_status op_run_init(op_run *run, sscma_context *ctx, const char *op, const void *attrs, int32_t n_in,
                         const sscma_desc *in)
{
    memset(run, 0, sizeof *run);
    run->def = sscma_op_find(op);
    if (run->def == NULL)
        return sscma_fail(SSCMA_ERR_NOT_FOUND, "op_run_init", "no op named %s", op);
    run->attrs = attrs;
    run->n_in = n_in;
    run->pool = ctx->pool;
    run->training = true;
    run->seed = 1234;
    sscma_desc out[SSCMA_OP_MAX_OUTPUTS];
    sscma_status st = sscma_op_infer(run->def, attrs, in, n_in, out, &run->n_out, &run->sizes);
    if (st != SSCMA_OK)
        return st;
    for (int32_t i = 0; i < n_in; i++) {
        run->in[i].desc = in[i];
        run->in[i].data = zalloc(desc_bytes(&in[i]));
        run->din[i].desc = in[i];
        run->din[i].data = (run->def->nondiff_inputs >> i) & 1u || in[i].dtype != SSCMA_DTYPE_F32
                               ? NULL
                               : zalloc(desc_bytes(&in[i]));
    }
    for (int32_t i = 0; i < run->n_out; i++) {
        run->out[i].desc = out[i];
        run->out[i].data = zalloc(desc_bytes(&out[i]));
        run->dout[i].desc = out[i];
        run->dout[i].data = zalloc(desc_bytes(&out[i]));
    }
    run->saved = zalloc(run->sizes.saved_bytes);
    run->workspace = zalloc(run->sizes.workspace_bytes);
    return SSCMA_OK;
}

void op_run_free(op_run *run)
{
    for (int32_t i = 0; i < run->n_in; i++) {
        free(run->in[i].data);
        free(run->din[i].data);
    }
    for (int32_t i = 0; i < run->n_out; i++) {
        free(run->out[i].data);
        free(run->dout[i].data);
    }
    free(run->saved);
    free(run->workspace);
    memset(run, 0, sizeof *run);
}

static sscma_op_exec exec_of(op_run *run)
{
    sscma_op_exec e = {run->pool, run->attrs, run->in, run->n_in, run->out, run->n_out, run->saved,
                       run->workspace, run->training, run->seed};
    return e;
}

sscma_status op_run_forward(op_run *run)
{
    sscma_op_exec e = exec_of(run);
    return run->def->forward(&e);
}

void op_run_zero_grads(op_run *run)
{
    for (int32_t i = 0; i < run->n_in; i++)
        if (run->din[i].data != NULL)
            memset(run->din[i].data, 0, desc_bytes(&run->din[i].desc));
}

void op_run_backward_only(op_run *run)
{
    sscma_op_exec e = exec_of(run);
    run->def->backward(&e, run->dout, run->din);
}

void op_run_backward(op_run *run)
{
    op_run_zero_grads(run);
    op_run_backward_only(run);
}
