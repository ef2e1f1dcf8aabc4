/*
 * Pooling over H and W of NHWC, PyTorch semantics.
 *   max_pool:  y = max over the window (padding never wins); backward routes dy to the first maximum (saved index)
 *   avg_pool:  y = sum over the window / divisor, divisor = window clipped to the padded input
 *              (count_include_pad) or the number of real input pixels in it; backward spreads dy / divisor
 *   global_avg_pool, global_max_pool: [N, H, W, C] -> [N, 1, 1, C]
 * Output size: floor((H + 2p - k) / s) + 1, or ceil in ceil_mode, where a last window must start inside the
 * input or its left padding, as PyTorch.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ops/op.h"

typedef struct pool_geom {
    int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw;
} pool_geom;

static int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode)
{
    int64_t num = in + 2 * p - k;
    if (num < 0)
        return 0;
    int64_t out = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + p)
        out--;
    return out;
}

static sscma_status pool_geometry(const char *op, const sscma_pool_attrs *a, const sscma_desc *in, int32_t n_in,
                                  pool_geom *g)
{
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require(op, "input", &in[0], SSCMA_DTYPE_F32, 4);
    if (st != SSCMA_OK)
        return st;
    if (a->kernel_h < 1 || a->kernel_w < 1 || a->stride_h < 1 || a->stride_w < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "kernel %dx%d and stride %dx%d must be >= 1", a->kernel_h,
                          a->kernel_w, a->stride_h, a->stride_w);
    if (a->pad_h < 0 || a->pad_w < 0 || 2 * a->pad_h > a->kernel_h || 2 * a->pad_w > a->kernel_w)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op,
                          "padding %dx%d must be between 0 and half the kernel %dx%d", a->pad_h, a->pad_w,
                          a->kernel_h, a->kernel_w);
    g->n = in[0].dims[0], g->h = in[0].dims[1], g->w = in[0].dims[2], g->c = in[0].dims[3];
    g->kh = a->kernel_h, g->kw = a->kernel_w, g->sh = a->stride_h, g->sw = a->stride_w;
    g->ph = a->pad_h, g->pw = a->pad_w;
    g->oh = pooled_size(g->h, g->kh, g->sh, g->ph, a->ceil_mode);
    g->ow = pooled_size(g->w, g->kw, g->sw, g->pw, a->ceil_mode);
    if (g->oh < 1 || g->ow < 1) {
        char text[200];
        sscma_desc_format(&in[0], text, sizeof text);
        return sscma_fail(SSCMA_ERR_SHAPE, op, "input %s is smaller than the %lldx%lld window", text,
                          (long long)g->kh, (long long)g->kw);
    }
    return SSCMA_OK;
}

static sscma_status pool_infer_common(const char *op, bool is_max, const void *attrs, const sscma_desc *in,
                                      int32_t n_in, sscma_desc *out, int32_t *n_out, sscma_op_sizes *sizes)
{
    pool_geom g;
    sscma_status st = pool_geometry(op, attrs, in, n_in, &g);
    if (st != SSCMA_OK)
        return st;
    const int64_t dims[4] = {g.n, g.oh, g.ow, g.c};
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 4, dims);
    *n_out = 1;
    sizes->saved_bytes = is_max ? sscma_align_bytes((size_t)(g.n * g.oh * g.ow * g.c) * sizeof(int32_t)) : 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

typedef struct pool_job {
    const pool_geom *g;
    const sscma_pool_attrs *a;
    const float *x, *dy;
    float *y, *dx;
    int32_t *argmax; /* flat index h * W + w of the winner, per output element */
} pool_job;

SSCMA_KERNEL static void max_forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / g->oh, oh = r % g->oh;
        int64_t h0 = oh * g->sh - g->ph, h1 = h0 + g->kh < g->h ? h0 + g->kh : g->h;
        if (h0 < 0)
            h0 = 0;
        for (int64_t ow = 0; ow < g->ow; ow++) {
            int64_t w0 = ow * g->sw - g->pw, w1 = w0 + g->kw < g->w ? w0 + g->kw : g->w;
            if (w0 < 0)
                w0 = 0;
            float *y = j->y + ((n * g->oh + oh) * g->ow + ow) * g->c;
            int32_t *idx = j->argmax != NULL ? j->argmax + ((n * g->oh + oh) * g->ow + ow) * g->c : NULL;
            for (int64_t ch = 0; ch < g->c; ch++) {
                float best = -INFINITY;
                int64_t where = h0 * g->w + w0;
                for (int64_t ih = h0; ih < h1; ih++)
                    for (int64_t iw = w0; iw < w1; iw++) {
                        float v = j->x[((n * g->h + ih) * g->w + iw) * g->c + ch];
                        if (v > best || isnan(v)) {
                            best = v;
                            where = ih * g->w + iw;
                            if (isnan(v))
                                goto done; /* NaN propagates, as in PyTorch */
                        }
                    }
            done:
                y[ch] = best;
                if (idx != NULL)
                    idx[ch] = (int32_t)where;
            }
        }
    }
}

SSCMA_KERNEL static void max_backward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    for (int64_t n = begin; n < end; n++) /* split over samples: their dx regions are disjoint */
        for (int64_t o = 0; o < g->oh * g->ow; o++) {
            const float *dy = j->dy + (n * g->oh * g->ow + o) * g->c;
            const int32_t *idx = j->argmax + (n * g->oh * g->ow + o) * g->c;
            for (int64_t ch = 0; ch < g->c; ch++)
                j->dx[(n * g->h * g->w + idx[ch]) * g->c + ch] += dy[ch];
        }
}

/* The divisor of one avg window, and its clipped extent. */
static int64_t avg_window(const pool_geom *g, const sscma_pool_attrs *a, int64_t oh, int64_t ow, int64_t *h0,
                          int64_t *h1, int64_t *w0, int64_t *w1)
{
    int64_t hs = oh * g->sh - g->ph, ws = ow * g->sw - g->pw;
    int64_t he = hs + g->kh < g->h + g->ph ? hs + g->kh : g->h + g->ph;
    int64_t we = ws + g->kw < g->w + g->pw ? ws + g->kw : g->w + g->pw;
    int64_t padded = (he - hs) * (we - ws);
    *h0 = hs < 0 ? 0 : hs, *w0 = ws < 0 ? 0 : ws;
    *h1 = he < g->h ? he : g->h, *w1 = we < g->w ? we : g->w;
    return a->count_include_pad ? padded : (*h1 - *h0) * (*w1 - *w0);
}

SSCMA_KERNEL static void avg_forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / g->oh, oh = r % g->oh;
        for (int64_t ow = 0; ow < g->ow; ow++) {
            int64_t h0, h1, w0, w1;
            int64_t div = avg_window(g, j->a, oh, ow, &h0, &h1, &w0, &w1);
            float *y = j->y + ((n * g->oh + oh) * g->ow + ow) * g->c;
            memset(y, 0, (size_t)g->c * sizeof *y);
            for (int64_t ih = h0; ih < h1; ih++)
                for (int64_t iw = w0; iw < w1; iw++) {
                    const float *x = j->x + ((n * g->h + ih) * g->w + iw) * g->c;
                    for (int64_t ch = 0; ch < g->c; ch++)
                        y[ch] += x[ch];
                }
            float inv = div > 0 ? 1.0f / (float)div : 0.0f;
            for (int64_t ch = 0; ch < g->c; ch++)
                y[ch] *= inv;
        }
    }
}

SSCMA_KERNEL static void avg_backward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    for (int64_t n = begin; n < end; n++)
        for (int64_t oh = 0; oh < g->oh; oh++)
            for (int64_t ow = 0; ow < g->ow; ow++) {
                int64_t h0, h1, w0, w1;
                int64_t div = avg_window(g, j->a, oh, ow, &h0, &h1, &w0, &w1);
                float inv = div > 0 ? 1.0f / (float)div : 0.0f;
                const float *dy = j->dy + ((n * g->oh + oh) * g->ow + ow) * g->c;
                for (int64_t ih = h0; ih < h1; ih++)
                    for (int64_t iw = w0; iw < w1; iw++) {
                        float *dx = j->dx + ((n * g->h + ih) * g->w + iw) * g->c;
                        for (int64_t ch = 0; ch < g->c; ch++)
                            dx[ch] += dy[ch] * inv;
                    }
            }
}

static sscma_status max_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                              int32_t *n_out, sscma_op_sizes *sizes)
{
    return pool_infer_common("max_pool", true, attrs, in, n_in, out, n_out, sizes);
}

static sscma_status avg_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                              int32_t *n_out, sscma_op_sizes *sizes)
{
    return pool_infer_common("avg_pool", false, attrs, in, n_in, out, n_out, sizes);
}

static sscma_status pool_run(const sscma_op_exec *e, bool is_max)
{
    pool_geom g;
    sscma_status st = pool_geometry(is_max ? "max_pool" : "avg_pool", e->attrs, &e->in[0].desc, e->n_in, &g);
    if (st != SSCMA_OK)
        return st;
    pool_job job = {&g, e->attrs, e->in[0].data, NULL, e->out[0].data, NULL, is_max ? e->saved : NULL};
    sscma_parallel_for(e->pool, g.n * g.oh, 1, is_max ? max_forward_task : avg_forward_task, &job);
    return SSCMA_OK;
}

static void pool_back(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din, bool is_max)
{
    pool_geom g;
    if (din[0].data == NULL || pool_geometry("pool", e->attrs, &e->in[0].desc, e->n_in, &g) != SSCMA_OK)
        return;
    pool_job job = {&g, e->attrs, e->in[0].data, dout[0].data, NULL, din[0].data, is_max ? e->saved : NULL};
    sscma_parallel_for(e->pool, g.n, 1, is_max ? max_backward_task : avg_backward_task, &job);
}

static sscma_status max_forward(const sscma_op_exec *e) { return pool_run(e, true); }
static sscma_status avg_forward(const sscma_op_exec *e) { return pool_run(e, false); }
static void max_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    pool_back(e, dout, din, true);
}
static void avg_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    pool_back(e, dout, din, false);
}

static const sscma_attr_field pool_fields[] = {
    SSCMA_ATTR(sscma_pool_attrs, kernel_h, SSCMA_ATTR_I32, 2), SSCMA_ATTR(sscma_pool_attrs, kernel_w, SSCMA_ATTR_I32, 2),
    SSCMA_ATTR(sscma_pool_attrs, stride_h, SSCMA_ATTR_I32, 2), SSCMA_ATTR(sscma_pool_attrs, stride_w, SSCMA_ATTR_I32, 2),
    SSCMA_ATTR(sscma_pool_attrs, pad_h, SSCMA_ATTR_I32, 0), SSCMA_ATTR(sscma_pool_attrs, pad_w, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR(sscma_pool_attrs, ceil_mode, SSCMA_ATTR_BOOL, 0),
    SSCMA_ATTR(sscma_pool_attrs, count_include_pad, SSCMA_ATTR_BOOL, 1),
    SSCMA_ATTR_END,
};

const sscma_op_def sscma_op_max_pool = {
    .id = SSCMA_OP_MAX_POOL,
    .name = "max_pool", .attrs_size = sizeof(sscma_pool_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = max_infer, .forward = max_forward, .backward = max_backward,
    .attr_fields = pool_fields,
};

const sscma_op_def sscma_op_avg_pool = {
    .id = SSCMA_OP_AVG_POOL,
    .name = "avg_pool", .attrs_size = sizeof(sscma_pool_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = avg_infer, .forward = avg_forward, .backward = avg_backward,
    .attr_fields = pool_fields,
    .backward_skips_outputs = true,
};

/* ---- global pooling ---- */

static sscma_status global_infer_common(const char *op, bool is_max, const sscma_desc *in, int32_t n_in,
                                        sscma_desc *out, int32_t *n_out, sscma_op_sizes *sizes)
{
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require(op, "input", &in[0], SSCMA_DTYPE_F32, 4);
    if (st != SSCMA_OK)
        return st;
    if (in[0].dims[1] < 1 || in[0].dims[2] < 1)
        return sscma_fail(SSCMA_ERR_SHAPE, op, "input has an empty %lldx%lld image", (long long)in[0].dims[1],
                          (long long)in[0].dims[2]);
    const int64_t dims[4] = {in[0].dims[0], 1, 1, in[0].dims[3]};
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 4, dims);
    *n_out = 1;
    sizes->saved_bytes = is_max ? sscma_align_bytes((size_t)(in[0].dims[0] * in[0].dims[3]) * sizeof(int32_t)) : 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

typedef struct global_job {
    int64_t hw, c;
    const float *x, *dy;
    float *y, *dx;
    int32_t *argmax;
} global_job;

SSCMA_KERNEL static void gavg_forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const global_job *j = arg;
    for (int64_t n = begin; n < end; n++) {
        float *y = j->y + n * j->c;
        for (int64_t ch = 0; ch < j->c; ch++) {
            double sum = 0.0;
            for (int64_t p = 0; p < j->hw; p++)
                sum += j->x[(n * j->hw + p) * j->c + ch];
            y[ch] = (float)(sum / (double)j->hw);
        }
    }
}

SSCMA_KERNEL static void gavg_backward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const global_job *j = arg;
    float inv = 1.0f / (float)j->hw;
    for (int64_t n = begin; n < end; n++)
        for (int64_t p = 0; p < j->hw; p++) {
            float *dx = j->dx + (n * j->hw + p) * j->c;
            const float *dy = j->dy + n * j->c;
            for (int64_t ch = 0; ch < j->c; ch++)
                dx[ch] += dy[ch] * inv;
        }
}

static void gmax_forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const global_job *j = arg;
    for (int64_t n = begin; n < end; n++)
        for (int64_t ch = 0; ch < j->c; ch++) {
            float best = -INFINITY;
            int64_t where = 0;
            for (int64_t p = 0; p < j->hw; p++) {
                float v = j->x[(n * j->hw + p) * j->c + ch];
                if (v > best || isnan(v)) {
                    best = v, where = p;
                    if (isnan(v))
                        break;
                }
            }
            j->y[n * j->c + ch] = best;
            j->argmax[n * j->c + ch] = (int32_t)where;
        }
}

static void gmax_backward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const global_job *j = arg;
    for (int64_t n = begin; n < end; n++)
        for (int64_t ch = 0; ch < j->c; ch++)
            j->dx[(n * j->hw + j->argmax[n * j->c + ch]) * j->c + ch] += j->dy[n * j->c + ch];
}

static global_job global_job_of(const sscma_op_exec *e)
{
    const sscma_desc *d = &e->in[0].desc;
    global_job job = {d->dims[1] * d->dims[2], d->dims[3], e->in[0].data, NULL, e->out[0].data, NULL, e->saved};
    return job;
}

static sscma_status gavg_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                               int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    return global_infer_common("global_avg_pool", false, in, n_in, out, n_out, sizes);
}

static sscma_status gmax_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                               int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    return global_infer_common("global_max_pool", true, in, n_in, out, n_out, sizes);
}

static sscma_status gavg_forward(const sscma_op_exec *e)
{
    global_job job = global_job_of(e);
    sscma_parallel_for(e->pool, e->in[0].desc.dims[0], 1, gavg_forward_task, &job);
    return SSCMA_OK;
}

static sscma_status gmax_forward(const sscma_op_exec *e)
{
    global_job job = global_job_of(e);
    sscma_parallel_for(e->pool, e->in[0].desc.dims[0], 1, gmax_forward_task, &job);
    return SSCMA_OK;
}

static void gavg_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data == NULL)
        return;
    global_job job = global_job_of(e);
    job.dy = dout[0].data, job.dx = din[0].data;
    sscma_parallel_for(e->pool, e->in[0].desc.dims[0], 1, gavg_backward_task, &job);
}

static void gmax_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data == NULL)
        return;
    global_job job = global_job_of(e);
    job.dy = dout[0].data, job.dx = din[0].data;
    sscma_parallel_for(e->pool, e->in[0].desc.dims[0], 1, gmax_backward_task, &job);
}

const sscma_op_def sscma_op_global_avg_pool = {
    .id = SSCMA_OP_GLOBAL_AVG_POOL,
    .name = "global_avg_pool", .attrs_size = 0, .min_inputs = 1, .max_inputs = 1,
    .infer = gavg_infer, .forward = gavg_forward, .backward = gavg_backward,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};

const sscma_op_def sscma_op_global_max_pool = {
    .id = SSCMA_OP_GLOBAL_MAX_POOL,
    .name = "global_max_pool", .attrs_size = 0, .min_inputs = 1, .max_inputs = 1,
    .infer = gmax_infer, .forward = gmax_forward, .backward = gmax_backward,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};
