/*
 * batch_norm over the last (channel) axis, PyTorch semantics.
 *
 * Inputs: x [..., C], gamma [C], beta [C], running_mean [C], running_var [C] (the last two are updated in place by
 * a training forward: running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance).
 *   training:   y = (x - mean_B) * invstd_B * gamma + beta,  invstd_B = 1 / sqrt(var_B + eps)  (biased var_B)
 *   evaluation: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta
 * Backward (training), with xhat = (x - mean_B) * invstd_B and M rows:
 *   dbeta = sum dy,  dgamma = sum dy * xhat,  dx += gamma * invstd_B / M * (M * dy - dbeta - xhat * dgamma)
 * Statistics are summed in double per channel, split over channels (thread-count independent).
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"

#define OP "batch_norm"

static sscma_status bn_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                             int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_batch_norm_attrs *a = attrs;
    static const char *const names[5] = {"input x", "gamma", "beta", "running_mean", "running_var"};
    if (n_in != 5)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP,
                          "takes 5 inputs (x, gamma, beta, running_mean, running_var), got %d", n_in);
    sscma_status st = sscma_desc_require(OP, names[0], &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    if (in[0].rank < 2)
        return sscma_fail(SSCMA_ERR_SHAPE, OP, "input x has rank %d; expected at least 2 ([N, ..., C])",
                          (int)in[0].rank);
    int64_t c = in[0].dims[in[0].rank - 1];
    for (int i = 1; i < 5; i++) {
        if ((st = sscma_desc_require(OP, names[i], &in[i], SSCMA_DTYPE_F32, 1)) != SSCMA_OK)
            return st;
        if (in[i].dims[0] != c)
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "%s has %lld elements; x has %lld channels (last axis)",
                              names[i], (long long)in[i].dims[0], (long long)c);
    }
    if (!(a->eps > 0.0f) || !(a->momentum >= 0.0f && a->momentum <= 1.0f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "eps %g must be > 0 and momentum %g in 0..1",
                          (double)a->eps, (double)a->momentum);
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = sscma_align_bytes(2 * (size_t)c * sizeof(float)); /* batch mean, invstd */
    sizes->workspace_bytes = sscma_align_bytes(2 * (size_t)c * sizeof(float)); /* scale, shift or dgamma, dbeta */
    return SSCMA_OK;
}

typedef struct bn_job {
    int64_t rows, c;
    const float *x, *dy;
    float *y, *dx;
    const float *mean, *invstd, *gamma;
    const float *scale, *shift;   /* forward: y = x * scale + shift */
    double *sum_dy, *sum_dy_xhat; /* backward sums */
    float *mean_out, *var_out;    /* statistics (biased var) */
} bn_job;

/* Per-channel mean and biased variance, two passes in double. */
static void stats_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bn_job *j = arg;
    for (int64_t ch = begin; ch < end; ch++) {
        double sum = 0.0;
        for (int64_t r = 0; r < j->rows; r++)
            sum += j->x[r * j->c + ch];
        double mean = sum / (double)j->rows, sq = 0.0;
        for (int64_t r = 0; r < j->rows; r++) {
            double d = j->x[r * j->c + ch] - mean;
            sq += d * d;
        }
        j->mean_out[ch] = (float)mean;
        j->var_out[ch] = (float)(sq / (double)j->rows);
    }
}

static void affine_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bn_job *j = arg;
    for (int64_t r = begin; r < end; r++) {
        const float *x = j->x + r * j->c;
        float *y = j->y + r * j->c;
        for (int64_t ch = 0; ch < j->c; ch++)
            y[ch] = x[ch] * j->scale[ch] + j->shift[ch];
    }
}

static sscma_status bn_forward(const sscma_op_exec *e)
{
    const sscma_batch_norm_attrs *a = e->attrs;
    const sscma_desc *xd = &e->in[0].desc;
    int64_t c = xd->dims[xd->rank - 1];
    int64_t rows = c > 0 ? sscma_desc_numel(xd) / c : 0;
    const float *gamma = e->in[1].data, *beta = e->in[2].data;
    float *running_mean = e->in[3].data, *running_var = e->in[4].data;
    float *scale = e->workspace, *shift = scale + c;
    float *mean = e->saved, *invstd = mean + c;
    bn_job job = {.rows = rows, .c = c, .x = e->in[0].data, .y = e->out[0].data, .scale = scale, .shift = shift};
    if (e->training && rows > 0) {
        float *var = invstd; /* the variance lands in invstd's place first */
        job.mean_out = mean;
        job.var_out = var;
        sscma_parallel_for(e->pool, c, 4, stats_task, &job);
        for (int64_t ch = 0; ch < c; ch++) {
            double v = var[ch];
            double unbiased = rows > 1 ? v * (double)rows / (double)(rows - 1) : v;
            running_mean[ch] = (float)((1.0 - a->momentum) * running_mean[ch] + a->momentum * mean[ch]);
            running_var[ch] = (float)((1.0 - a->momentum) * running_var[ch] + a->momentum * unbiased);
            invstd[ch] = (float)(1.0 / sqrt(v + (double)a->eps));
            scale[ch] = gamma[ch] * invstd[ch];
            shift[ch] = beta[ch] - mean[ch] * scale[ch];
        }
    } else {
        for (int64_t ch = 0; ch < c; ch++) {
            float inv = (float)(1.0 / sqrt((double)running_var[ch] + (double)a->eps));
            scale[ch] = gamma[ch] * inv;
            shift[ch] = beta[ch] - running_mean[ch] * scale[ch];
        }
    }
    sscma_parallel_for(e->pool, rows, 1 + 16384 / (c > 0 ? c : 1), affine_task, &job);
    return SSCMA_OK;
}

/* sum dy and sum dy * xhat per channel (xhat from mean/invstd). */
static void grad_sums_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bn_job *j = arg;
    for (int64_t ch = begin; ch < end; ch++) {
        double s = 0.0, sx = 0.0;
        const double m = j->mean[ch], inv = j->invstd[ch];
        for (int64_t r = 0; r < j->rows; r++) {
            double dy = j->dy[r * j->c + ch];
            s += dy;
            sx += dy * ((j->x[r * j->c + ch] - m) * inv);
        }
        j->sum_dy[ch] = s;
        j->sum_dy_xhat[ch] = sx;
    }
}

/* dx += k1 * dy - k2 - xhat * k3 over a block of `width` channels inside rows of stride c. */
typedef struct bn_dx_job {
    int64_t c, width;
    const float *x, *dy, *mean, *invstd, *k1, *k2, *k3;
    float *dx;
} bn_dx_job;

static void dx_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bn_dx_job *j = arg;
    for (int64_t r = begin; r < end; r++) {
        const float *x = j->x + r * j->c, *dy = j->dy + r * j->c;
        float *dx = j->dx + r * j->c;
        for (int64_t t = 0; t < j->width; t++) {
            float xhat = (x[t] - j->mean[t]) * j->invstd[t];
            dx[t] += j->k1[t] * dy[t] - j->k2[t] - xhat * j->k3[t];
        }
    }
}

static void bn_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_batch_norm_attrs *a = e->attrs;
    const sscma_desc *xd = &e->in[0].desc;
    int64_t c = xd->dims[xd->rank - 1];
    int64_t rows = c > 0 ? sscma_desc_numel(xd) / c : 0;
    if (rows == 0)
        return;
    const float *gamma = e->in[1].data;
    float *mean_buf = e->workspace, *invstd_buf = mean_buf + c;
    const float *mean, *invstd;
    if (e->training) {
        mean = e->saved;
        invstd = (const float *)e->saved + c;
    } else {
        const float *rm = e->in[3].data, *rv = e->in[4].data;
        for (int64_t ch = 0; ch < c; ch++) {
            mean_buf[ch] = rm[ch];
            invstd_buf[ch] = (float)(1.0 / sqrt((double)rv[ch] + (double)a->eps));
        }
        mean = mean_buf;
        invstd = invstd_buf;
    }
    /* Sums in double: C entries each; kept on the stack in blocks to avoid allocating. */
    enum { BLOCK = 256 };
    double sum_dy[BLOCK], sum_dy_xhat[BLOCK];
    float k1[BLOCK], k2[BLOCK], k3[BLOCK];
    float *dx = din[0].data, *dgamma = din[1].data, *dbeta = din[2].data;
    for (int64_t c0 = 0; c0 < c; c0 += BLOCK) {
        int64_t width = c - c0 < BLOCK ? c - c0 : BLOCK;
        /* A column block of the [rows, c] matrices: same strides, offset pointers. */
        bn_job job = {.rows = rows, .c = c, .x = (const float *)e->in[0].data + c0, .dy = (const float *)dout[0].data + c0,
                      .mean = mean + c0, .invstd = invstd + c0, .sum_dy = sum_dy, .sum_dy_xhat = sum_dy_xhat};
        sscma_parallel_for(e->pool, width, 4, grad_sums_task, &job);
        for (int64_t t = 0; t < width; t++) {
            int64_t ch = c0 + t;
            if (dbeta != NULL)
                dbeta[ch] += (float)sum_dy[t];
            if (dgamma != NULL)
                dgamma[ch] += (float)sum_dy_xhat[t];
            double gi = (double)gamma[ch] * invstd[ch];
            k1[t] = (float)gi;
            if (e->training) {
                k2[t] = (float)(gi * sum_dy[t] / (double)rows);
                k3[t] = (float)(gi * sum_dy_xhat[t] / (double)rows);
            } else {
                k2[t] = 0.0f, k3[t] = 0.0f;
            }
        }
        if (dx != NULL) {
            bn_dx_job dj = {c, width, (const float *)e->in[0].data + c0, (const float *)dout[0].data + c0,
                            mean + c0, invstd + c0, k1, k2, k3, dx + c0};
            sscma_parallel_for(e->pool, rows, 1 + 16384 / width, dx_task, &dj);
        }
    }
}

const sscma_op_def sscma_op_batch_norm = {
    .name = "batch_norm",
    .attrs_size = sizeof(sscma_batch_norm_attrs),
    .min_inputs = 5,
    .max_inputs = 5,
    .nondiff_inputs = (1u << 3) | (1u << 4),
    .infer = bn_infer,
    .forward = bn_forward,
    .backward = bn_backward,
};
