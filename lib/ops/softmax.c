/*
 * softmax and log_softmax along the last axis (max subtracted for stability; sums in double).
 *   softmax:     y = e^(x - max) / sum e^(x - max)      dx += y * (dy - sum(dy * y))
 *   log_softmax: y = x - max - log sum e^(x - max)      dx += dy - e^y * sum(dy)
 */
#include <math.h>

#include "ops/kernels.h"
#include "ops/op.h"

static sscma_status softmax_infer_named(const char *op, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                        int32_t *n_out, sscma_op_sizes *sizes)
{
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require(op, "input", &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    if (in[0].rank < 1 || in[0].dims[in[0].rank - 1] < 1)
        return sscma_fail(SSCMA_ERR_SHAPE, op, "input needs a non-empty last axis");
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

typedef struct softmax_job {
    bool log;
    int64_t c;
    const float *x, *y, *dy;
    float *out, *dx;
} softmax_job;

void sscma_softmax_row(const float *x, float *y, int64_t c, bool log_output)
{
    float max = x[0];
    for (int64_t i = 1; i < c; i++)
        max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int64_t i = 0; i < c; i++)
        sum += exp((double)x[i] - max);
    if (log_output) {
        double lse = log(sum);
        for (int64_t i = 0; i < c; i++)
            y[i] = (float)((double)x[i] - max - lse);
    } else {
        for (int64_t i = 0; i < c; i++)
            y[i] = (float)(exp((double)x[i] - max) / sum);
    }
}

static void forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const softmax_job *j = arg;
    for (int64_t r = begin; r < end; r++)
        sscma_softmax_row(j->x + r * j->c, j->out + r * j->c, j->c, j->log);
}

static void backward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const softmax_job *j = arg;
    for (int64_t r = begin; r < end; r++) {
        const float *y = j->y + r * j->c, *dy = j->dy + r * j->c;
        float *dx = j->dx + r * j->c;
        double s = 0.0;
        if (j->log) {
            for (int64_t i = 0; i < j->c; i++)
                s += dy[i];
            for (int64_t i = 0; i < j->c; i++)
                dx[i] += (float)(dy[i] - exp((double)y[i]) * s);
        } else {
            for (int64_t i = 0; i < j->c; i++)
                s += (double)dy[i] * y[i];
            for (int64_t i = 0; i < j->c; i++)
                dx[i] += (float)(y[i] * (dy[i] - s));
        }
    }
}

static softmax_job job_of(const sscma_op_exec *e, bool log)
{
    const sscma_desc *d = &e->in[0].desc;
    softmax_job job = {log, d->dims[d->rank - 1], e->in[0].data, e->out[0].data, NULL, e->out[0].data, NULL};
    return job;
}

static sscma_status run_forward(const sscma_op_exec *e, bool log)
{
    softmax_job job = job_of(e, log);
    sscma_parallel_for(e->pool, sscma_desc_numel(&e->in[0].desc) / job.c, 1 + 4096 / job.c, forward_task, &job);
    return SSCMA_OK;
}

static void run_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din, bool log)
{
    if (din[0].data == NULL)
        return;
    softmax_job job = job_of(e, log);
    job.dy = dout[0].data, job.dx = din[0].data;
    sscma_parallel_for(e->pool, sscma_desc_numel(&e->in[0].desc) / job.c, 1 + 4096 / job.c, backward_task, &job);
}

static sscma_status softmax_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                  int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    return softmax_infer_named("softmax", in, n_in, out, n_out, sizes);
}
static sscma_status log_softmax_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                      int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    return softmax_infer_named("log_softmax", in, n_in, out, n_out, sizes);
}
static sscma_status softmax_forward(const sscma_op_exec *e) { return run_forward(e, false); }
static sscma_status log_softmax_forward(const sscma_op_exec *e) { return run_forward(e, true); }
static void softmax_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    run_backward(e, dout, din, false);
}
static void log_softmax_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    run_backward(e, dout, din, true);
}

static const sscma_attr_field softmax_fields[] = {SSCMA_ATTR_END};

const sscma_op_def sscma_op_softmax = {
    .id = SSCMA_OP_SOFTMAX,
    .name = "softmax", .attrs_size = sizeof(sscma_softmax_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = softmax_infer, .forward = softmax_forward, .backward = softmax_backward,
    .attr_fields = softmax_fields,
};

const sscma_op_def sscma_op_log_softmax = {
    .id = SSCMA_OP_LOG_SOFTMAX,
    .name = "log_softmax", .attrs_size = sizeof(sscma_softmax_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = log_softmax_infer, .forward = log_softmax_forward, .backward = log_softmax_backward,
    .attr_fields = softmax_fields,
};
