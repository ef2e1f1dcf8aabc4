/*
 * Resizing: nearest neighbour and bilinear, with TFLite's align_corners and half_pixel_centers, any output size, float
 * and int8, computed as TFLite's reference kernels compute them (docs/export.md; the tflite-ops-reference test runs the
 * same files there). Nearest copies values: the source index is TFLite's float expression. Bilinear int8 is TFLite's
 * 10-bit fixed point on the raw values (no zero point), bilinear float its float expression in its order. Their rows:
 * qm_kinds.c and export/kinds.c; their TFLite functions: export/tflite_resize.c.
 */
#include <math.h>
#include <string.h>

#include "quant/qm_kernel.h"
#include "quant/qm_kinds.h"

/* NHWC input and output of the same batch and channels, H and W at least 1; bilinear takes one of the two flags. */
sscma_status qm_validate_resize(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (x->rank != 4 || y->rank != 4 || y->dims[0] != x->dims[0] || y->dims[3] != x->dims[3] || x->dims[1] < 1 ||
        x->dims[2] < 1 || y->dims[1] < 1 || y->dims[2] < 1)
        return qm_op_fail(op, "needs NHWC input and output with the same batch and channels", "");
    if (op->kind == QM_RESIZE_BILINEAR && op->align_corners && op->half_pixel)
        return qm_op_fail(op, "align_corners and half_pixel_centers exclude each other", "");
    return SSCMA_OK;
}

/* TFLite's GetNearestNeighbor: the source index of output index v, in float as the reference kernel computes it. */
static int64_t nearest_index(int64_t v, int64_t in, int64_t out, bool align_corners, bool half_pixel)
{
    const float scale = align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
    const float p = ((float)v + (half_pixel ? 0.5f : 0.0f)) * scale;
    int64_t i = align_corners ? (int64_t)roundf(p) : (int64_t)floorf(p);
    if (i > in - 1)
        i = in - 1;
    if (i < 0) /* TFLite clamps at 0 with half_pixel_centers only; the index cannot be negative otherwise */
        i = 0;
    return i;
}

/* Copies the source pixel of every output pixel (esize bytes per channel value), output rows [begin, end). */
static void nearest_rows(const qm_exec *ex, const qm_op *op, size_t esize, int64_t begin, int64_t end)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    const char *xd = qm_buf(ex, x);
    char *yd = qm_buf(ex, y);
    const size_t pixel = (size_t)C * esize;
    for (int64_t row = begin; row < end; row++) {
        const int64_t n = row / OH, oy = row % OH;
        const int64_t iy = nearest_index(oy, H, OH, op->align_corners, op->half_pixel);
        for (int64_t ox = 0; ox < OW; ox++) {
            const int64_t ix = nearest_index(ox, W, OW, op->align_corners, op->half_pixel);
            memcpy(yd + (size_t)((n * OH + oy) * OW + ox) * pixel, xd + (size_t)((n * H + iy) * W + ix) * pixel,
                   pixel);
        }
    }
}

sscma_status qm_f32_resize(const qm_exec *ex, const qm_op *op)
{
    nearest_rows(ex, op, sizeof(float), 0, ex->batch * ex->q->t[op->out].dims[1]);
    return SSCMA_OK;
}

static void nearest_i8_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    nearest_rows(j->ex, j->op, 1, begin, end);
}

sscma_status qm_i8_resize(const qm_exec *ex, const qm_op *op)
{
    return qm_parallel_op(ex, op, ex->batch * ex->q->t[op->out].dims[1], 8, nearest_i8_rows);
}

/* TFLite's float ComputeInterpolationValues: the source position of output index v and its two neighbours. */
static void bilinear_f32_index(int64_t v, float scale, bool half_pixel, int64_t in, float *p, int64_t *lo,
                               int64_t *hi)
{
    *p = half_pixel ? ((float)v + 0.5f) * scale - 0.5f : (float)v * scale;
    const int64_t f = (int64_t)floorf(*p), c = (int64_t)ceilf(*p);
    *lo = f > 0 ? f : 0;
    *hi = c < in - 1 ? c : in - 1;
    if (*lo > in - 1) /* where TFLite would read past the input (a float rounding at huge sizes) */
        *lo = in - 1;
}

static float bilinear_scale(int64_t in, int64_t out, bool align_corners)
{
    return align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
}

sscma_status qm_f32_resize_bilinear(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    const float *xd = qm_buf(ex, x);
    float *yd = qm_buf(ex, y);
    const float sh = bilinear_scale(H, OH, op->align_corners), sw = bilinear_scale(W, OW, op->align_corners);
    for (int64_t n = 0; n < ex->batch; n++)
        for (int64_t oy = 0; oy < OH; oy++) {
            float py;
            int64_t y0, y1;
            bilinear_f32_index(oy, sh, op->half_pixel, H, &py, &y0, &y1);
            const float dy = py - (float)y0;
            for (int64_t ox = 0; ox < OW; ox++) {
                float px;
                int64_t x0, x1;
                bilinear_f32_index(ox, sw, op->half_pixel, W, &px, &x0, &x1);
                const float dx = px - (float)x0;
                const float *i00 = xd + ((n * H + y0) * W + x0) * C, *i10 = xd + ((n * H + y1) * W + x0) * C;
                const float *i01 = xd + ((n * H + y0) * W + x1) * C, *i11 = xd + ((n * H + y1) * W + x1) * C;
                float *o = yd + ((n * OH + oy) * OW + ox) * C;
                /* TFLite's expression, left to right, + 0 (its rounding offset for float: -0 becomes +0) */
                for (int64_t c = 0; c < C; c++)
                    o[c] = i00[c] * (1 - dy) * (1 - dx) + i10[c] * dy * (1 - dx) + i01[c] * (1 - dy) * dx +
                           i11[c] * dy * dx + 0.0f;
            }
        }
    return SSCMA_OK;
}

/* TFLite's ComputeInterpolationValuesInteger: the Q10 position of output index v and its two neighbours. */
static void bilinear_q10_index(int64_t v, int32_t scale_10, bool half_pixel, int64_t in, int32_t *p, int64_t *lo,
                               int64_t *hi)
{
    *p = half_pixel ? (int32_t)v * scale_10 + scale_10 / 2 - (1 << 9) : (int32_t)v * scale_10;
    const int64_t f = *p / (1 << 10), c = (*p + (1 << 10) - 1) / (1 << 10);
    *lo = f > 0 ? f : 0;
    *hi = c < in - 1 ? c : in - 1;
    if (*lo > in - 1) /* where TFLite would read past the input (outputs above 2048 times the input) */
        *lo = in - 1;
}

static int32_t bilinear_scale_10(int64_t in, int64_t out, bool align_corners)
{
    if (align_corners && out > 1)
        return (int32_t)(((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1));
    return (int32_t)(((1 << 10) * in + out / 2) / out);
}

/* The Q10 positions stay within int32 as TFLite computes them (v scale_10 < 1024 in + out). */
sscma_status qm_i8_prepare_resize_bilinear(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]];
    sscma_status st = qm_need(op, x->dims[1] <= (1 << 20) && x->dims[2] <= (1 << 20),
                              "input larger than TFLite's 10-bit fixed point holds (2^20 pixels a side)");
    return st != SSCMA_OK ? st : qm_i8_prepare_same_params(q, op);
}

static void bilinear_i8_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *y = &j->q->t[op->out];
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    const int8_t *xd = qm_buf(j->ex, x);
    int8_t *yd = qm_buf(j->ex, y);
    const int32_t sh = bilinear_scale_10(H, OH, op->align_corners), sw = bilinear_scale_10(W, OW, op->align_corners);
    for (int64_t row = begin; row < end; row++) {
        const int64_t n = row / OH, oy = row % OH;
        int32_t py;
        int64_t y0, y1;
        bilinear_q10_index(oy, sh, op->half_pixel, H, &py, &y0, &y1);
        const int64_t wy = py - (1 << 10) * y0;
        for (int64_t ox = 0; ox < OW; ox++) {
            int32_t px;
            int64_t x0, x1;
            bilinear_q10_index(ox, sw, op->half_pixel, W, &px, &x0, &x1);
            const int64_t wx = px - (1 << 10) * x0;
            const int8_t *i00 = xd + ((n * H + y0) * W + x0) * C, *i10 = xd + ((n * H + y1) * W + x0) * C;
            const int8_t *i01 = xd + ((n * H + y0) * W + x1) * C, *i11 = xd + ((n * H + y1) * W + x1) * C;
            int8_t *o = yd + ((n * OH + oy) * OW + ox) * C;
            for (int64_t c = 0; c < C; c++) {
                const int64_t acc = i00[c] * ((1 << 10) - wy) * ((1 << 10) - wx) + i10[c] * wy * ((1 << 10) - wx) +
                                    i01[c] * ((1 << 10) - wy) * wx + i11[c] * wy * wx;
                /* half away from zero: TFLite's double-rounding build (C division truncates) */
                o[c] = (int8_t)((acc + (acc > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
            }
        }
    }
}

sscma_status qm_i8_resize_bilinear(const qm_exec *ex, const qm_op *op)
{
    return qm_parallel_op(ex, op, ex->batch * ex->q->t[op->out].dims[1], 4, bilinear_i8_rows);
}
