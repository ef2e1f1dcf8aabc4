/*
 * dropout: in training, y = x * m / (1 - p) with m[i] = (u(seed, i) >= p), u a counter-based uniform number, so the
 * mask depends only on the seed and the element index (any thread count) and backward recomputes it instead of
 * saving it:  dx += dy * m / (1 - p). In evaluation y = x. p = 1 drops everything.
 */
#include <string.h>

#include "ops/op.h"

static sscma_status dropout_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                  int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_dropout_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "dropout", "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require("dropout", "input", &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    if (!(a->p >= 0.0f && a->p <= 1.0f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "dropout", "p is %g; expected 0..1", (double)a->p);
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

typedef struct dropout_job {
    float p, scale;
    uint64_t seed;
    const float *src;
    float *dst;
    bool add;
} dropout_job;

SSCMA_KERNEL static void dropout_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const dropout_job *j = arg;
    for (int64_t i = begin; i < end; i++) {
        float v = sscma_uniform(j->seed, 0x64726f70ULL /* "drop" */, (uint64_t)i) >= j->p ? j->src[i] * j->scale
                                                                                           : 0.0f;
        if (j->add)
            j->dst[i] += v;
        else
            j->dst[i] = v;
    }
}

static void run(const sscma_op_exec *e, const float *src, float *dst, bool add)
{
    const sscma_dropout_attrs *a = e->attrs;
    int64_t n = sscma_desc_numel(&e->in[0].desc);
    if (!e->training || a->p == 0.0f) {
        for (int64_t i = 0; i < n; i++)
            dst[i] = add ? dst[i] + src[i] : src[i];
        return;
    }
    dropout_job job = {a->p, a->p < 1.0f ? 1.0f / (1.0f - a->p) : 0.0f, e->seed, src, dst, add};
    sscma_parallel_for(e->pool, n, 16384, dropout_task, &job);
}

static sscma_status dropout_forward(const sscma_op_exec *e)
{
    run(e, e->in[0].data, e->out[0].data, false);
    return SSCMA_OK;
}

static void dropout_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data != NULL)
        run(e, dout[0].data, din[0].data, true);
}

static const sscma_attr_field dropout_fields[] = {
    SSCMA_ATTR(sscma_dropout_attrs, p, SSCMA_ATTR_F32, 0.5),
    SSCMA_ATTR_END,
};

const sscma_op_def sscma_op_dropout = {
    .id = SSCMA_OP_DROPOUT,
    .name = "dropout", .attrs_size = sizeof(sscma_dropout_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = dropout_infer, .forward = dropout_forward, .backward = dropout_backward,
    .attr_fields = dropout_fields,
};
