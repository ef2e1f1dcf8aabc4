/*
 * The int8 runtime: every op of a deployable model with TFLite's integer semantics (the reference kernels'
 * arithmetic, bit for bit; the test suite compares with TFLite's interpreter), split over the context's threads.
 *
 *   conv / depthwise:  acc = bias[c] + sum (x + in_off) * w;  y = clamp(requant(acc, M[c], s[c]) + out_zp)
 *   fully connected:   the same with one multiplier (weights per tensor)
 *   add:               each input scaled to a common 2^20 fixed point, summed, requantized (TFLite's scheme)
 *   avg/max pool:      in the input's scale; average rounds half away from zero; count excludes padding
 *   softmax:           gemmlowp fixed point: exp of (x - max) * beta * scale in Q5.26, sum in Q12.19, 1 / sum
 *   requantize:        y = requant(x - in_zp, M, s) + out_zp
 * Multipliers come from the tensors' float scales computed in double as TFLite does (sscma_quantize_multiplier).
 */
#include <math.h>
#include <string.h>

#include "quant/fixedpoint.h"
#include "quant/qmodel.h"

void sscma_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift)
{
    if (real == 0.0) {
        *multiplier = 0, *shift = 0;
        return;
    }
    int e = 0;
    double m = frexp(real, &e);
    int64_t fixed = (int64_t)round(m * (double)(1LL << 31));
    if (fixed == (1LL << 31)) {
        fixed /= 2;
        e++;
    }
    if (e < -31) {
        e = 0;
        fixed = 0;
    }
    if (e > 30) {
        e = 30;
        fixed = (1LL << 31) - 1;
    }
    *multiplier = (int32_t)fixed;
    *shift = e;
}

static inline int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* TFLite's CalculateActivationRangeQuantized for int8. */
static void act_range(const qm_tensor *y, sscma_act_kind act, int32_t *lo, int32_t *hi)
{
    float scale = y->scale[0];
    int32_t zp = y->zero_point[0];
    *lo = -128, *hi = 127;
    if (act == SSCMA_ACT_RELU || act == SSCMA_ACT_RELU6) {
        int32_t z = zp + (int32_t)roundf(0.0f / scale);
        *lo = z > -128 ? z : -128;
    }
    if (act == SSCMA_ACT_RELU6) {
        int32_t six = zp + (int32_t)roundf(6.0f / scale);
        *hi = six < 127 ? six : 127;
    }
}

static sscma_status need(const qm_op *op, bool ok, const char *what)
{
    return ok ? SSCMA_OK
              : sscma_fail(SSCMA_ERR_FORMAT, op->name, "%s (int8): %s", sscma_qm_kind_name(op->kind), what);
}

static bool per_tensor_i8(const qm_tensor *t)
{
    return t->dtype == SSCMA_DTYPE_I8 && t->n_q == 1 && t->scale[0] > 0.0f && isfinite(t->scale[0]) &&
           t->zero_point[0] >= -128 && t->zero_point[0] <= 127;
}

static bool same_params(const qm_tensor *a, const qm_tensor *b)
{
    return a->scale[0] == b->scale[0] && a->zero_point[0] == b->zero_point[0];
}

static sscma_status alloc_mult(sscma_qmodel *q, qm_op *op, int32_t n)
{
    sscma_free(q->ctx, op->mult, (size_t)op->n_mult * sizeof *op->mult);
    sscma_free(q->ctx, op->shift, (size_t)op->n_mult * sizeof *op->shift);
    op->n_mult = 0;
    op->mult = sscma_alloc(q->ctx, (size_t)n * sizeof *op->mult, 64);
    op->shift = sscma_alloc(q->ctx, (size_t)n * sizeof *op->shift, 64);
    if (op->mult == NULL || op->shift == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate requantization parameters");
    op->n_mult = n;
    return SSCMA_OK;
}

static sscma_status prepare_op(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st = need(op, per_tensor_i8(x) && per_tensor_i8(y), "input and output must be int8 per tensor");
    if (st != SSCMA_OK)
        return st;
    act_range(y, op->act, &op->act_min, &op->act_max);
    switch (op->kind) {
    case QM_CONV:
    case QM_FC: {
        const qm_tensor *w = &q->t[op->in[1]];
        int64_t cout = w->dims[0];
        if ((st = need(op, w->dtype == SSCMA_DTYPE_I8 && (w->n_q == 1 || w->n_q == cout), "weights must be int8")) !=
            SSCMA_OK)
            return st;
        if (op->n_in > 2 && (st = need(op, q->t[op->in[2]].dtype == SSCMA_DTYPE_I32, "bias must be int32")) != SSCMA_OK)
            return st;
        for (int32_t k = 0; k < w->n_q; k++)
            if ((st = need(op, w->zero_point[k] == 0, "weights must be symmetric (zero point 0)")) != SSCMA_OK)
                return st;
        if ((st = alloc_mult(q, op, (int32_t)cout)) != SSCMA_OK)
            return st;
        for (int64_t c = 0; c < cout; c++) {
            double ws = (double)w->scale[w->n_q == 1 ? 0 : c];
            double real = (double)x->scale[0] * ws / (double)y->scale[0];
            sscma_quantize_multiplier(real, &op->mult[c], &op->shift[c]);
        }
        if (op->kind == QM_CONV && op->groups > 1) {
            /* depthwise: weights as [KH * KW, Cout] so that channels are contiguous */
            size_t bytes = (size_t)(op->kh * op->kw) * (size_t)cout;
            sscma_free(q->ctx, op->lut, op->lut_bytes);
            op->lut_bytes = 0;
            if ((op->lut = sscma_alloc(q->ctx, bytes, 64)) == NULL)
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate depthwise weights");
            op->lut_bytes = bytes;
            const int8_t *src = w->data;
            int8_t *dst = op->lut;
            int64_t taps = (int64_t)op->kh * op->kw, cpg = w->dims[3];
            if ((st = need(op, cpg == 1, "depthwise weights must have one input channel per group")) != SSCMA_OK)
                return st;
            for (int64_t c = 0; c < cout; c++)
                for (int64_t k = 0; k < taps; k++)
                    dst[k * cout + c] = src[c * taps + k];
        }
        return SSCMA_OK;
    }
    case QM_ADD: {
        const qm_tensor *b = &q->t[op->in[1]];
        if ((st = need(op, per_tensor_i8(b), "inputs must be int8 per tensor")) != SSCMA_OK)
            return st;
        op->left_shift = 20;
        double twice_max = 2.0 * (double)(x->scale[0] > b->scale[0] ? x->scale[0] : b->scale[0]);
        if ((st = alloc_mult(q, op, 1)) != SSCMA_OK)
            return st;
        sscma_quantize_multiplier((double)x->scale[0] / twice_max, &op->in_mult[0], &op->in_shift[0]);
        sscma_quantize_multiplier((double)b->scale[0] / twice_max, &op->in_mult[1], &op->in_shift[1]);
        sscma_quantize_multiplier(twice_max / ((double)(1 << 20) * (double)y->scale[0]), &op->mult[0], &op->shift[0]);
        return need(op, op->in_shift[0] <= 0 && op->in_shift[1] <= 0 && op->shift[0] <= 0,
                    "the output scale is too small for the inputs' (multiplier above one)");
    }
    case QM_CONCAT:
        for (int32_t k = 0; k < op->n_in; k++)
            if ((st = need(op, per_tensor_i8(&q->t[op->in[k]]) && same_params(&q->t[op->in[k]], y),
                           "every input must have the output's scale and zero point")) != SSCMA_OK)
                return st;
        return SSCMA_OK;
    case QM_AVG_POOL:
    case QM_MAX_POOL:
    case QM_RESHAPE:
    case QM_PAD:
    case QM_RESIZE_NEAREST:
        return need(op, same_params(x, y), "output must have the input's scale and zero point");
    case QM_SOFTMAX: {
        if ((st = need(op, y->zero_point[0] == -128 && fabsf(y->scale[0] - 1.0f / 256.0f) <= 0.001f / 256.0f,
                       "output must have scale 1/256 and zero point -128")) != SSCMA_OK)
            return st;
        if ((st = alloc_mult(q, op, 1)) != SSCMA_OK)
            return st;
        double real = (double)x->scale[0] * (double)(1 << 26);
        if (real > 2147483647.0)
            real = 2147483647.0;
        sscma_quantize_multiplier(real, &op->mult[0], &op->shift[0]);
        if ((st = need(op, op->shift[0] >= 0, "input scale too small for the fixed-point softmax")) != SSCMA_OK)
            return st;
        op->in_left_shift = op->shift[0];
        double radius = 31.0 * (double)(1LL << 26) / (double)(1LL << op->in_left_shift);
        op->diff_min = -(int32_t)floor(radius);
        return SSCMA_OK;
    }
    case QM_REQUANT:
        if ((st = alloc_mult(q, op, 1)) != SSCMA_OK)
            return st;
        sscma_quantize_multiplier((double)x->scale[0] / (double)y->scale[0], &op->mult[0], &op->shift[0]);
        return SSCMA_OK;
    default:
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, op->name, "%s has no int8 kernel yet", sscma_qm_kind_name(op->kind));
    }
}

sscma_status sscma_qm_prepare_int8(sscma_qmodel *q)
{
    for (int32_t i = 0; i < q->n_ops; i++) {
        sscma_status st = prepare_op(q, &q->ops[i]);
        if (st != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

/* ---- kernels ---- */

typedef struct i8_job {
    const sscma_qmodel *q;
    const qm_op *op;
} i8_job;

/* Rows (n, oy) of a convolution with groups == 1. */
SSCMA_KERNEL static void conv_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *w = &j->q->t[op->in[1]], *y = &j->q->t[op->out];
    const int32_t *bias = op->n_in > 2 ? j->q->t[op->in[2]].data : NULL;
    const int8_t *wd = w->data;
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3];
    const int64_t OH = y->dims[1], OW = y->dims[2], OC = y->dims[3];
    const int32_t in_off = -x->zero_point[0], out_zp = y->zero_point[0];
    const int64_t KH = op->kh, KW = op->kw, wrow = KH * KW * C;
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / OH, oy = r % OH;
        const int8_t *xn = (const int8_t *)x->buf + n * H * W * C;
        int8_t *yr = (int8_t *)y->buf + r * OW * OC;
        int64_t iy0 = oy * op->stride_h - op->pad_t;
        for (int64_t ox = 0; ox < OW; ox++) {
            int64_t ix0 = ox * op->stride_w - op->pad_l;
            for (int64_t oc = 0; oc < OC; oc++) {
                int32_t acc = 0;
                const int8_t *wo = wd + oc * wrow;
                for (int64_t fy = 0; fy < KH; fy++) {
                    int64_t iy = iy0 + fy * op->dil_h;
                    if (iy < 0 || iy >= H)
                        continue;
                    for (int64_t fx = 0; fx < KW; fx++) {
                        int64_t ix = ix0 + fx * op->dil_w;
                        if (ix < 0 || ix >= W)
                            continue;
                        const int8_t *xp = xn + (iy * W + ix) * C;
                        const int8_t *wp = wo + (fy * KW + fx) * C;
                        int32_t s = 0;
                        for (int64_t c = 0; c < C; c++)
                            s += ((int32_t)xp[c] + in_off) * (int32_t)wp[c];
                        acc += s;
                    }
                }
                if (bias != NULL)
                    acc += bias[oc];
                acc = fx_mul_by_qm(acc, op->mult[oc], op->shift[oc]) + out_zp;
                yr[ox * OC + oc] = (int8_t)clamp_i32(acc, op->act_min, op->act_max);
            }
        }
    }
}

/* Rows (n, oy) of a depthwise convolution (weights [KH * KW, Cout] in op->lut; depth multiplier Cout / Cin). */
SSCMA_KERNEL static void dw_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *y = &j->q->t[op->out];
    const int32_t *bias = op->n_in > 2 ? j->q->t[op->in[2]].data : NULL;
    const int8_t *wd = op->lut;
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3];
    const int64_t OH = y->dims[1], OW = y->dims[2], OC = y->dims[3], mult = OC / C;
    const int32_t in_off = -x->zero_point[0], out_zp = y->zero_point[0];
    int32_t acc[512];
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / OH, oy = r % OH;
        const int8_t *xn = (const int8_t *)x->buf + n * H * W * C;
        int8_t *yr = (int8_t *)y->buf + r * OW * OC;
        int64_t iy0 = oy * op->stride_h - op->pad_t;
        for (int64_t ox = 0; ox < OW; ox++) {
            int64_t ix0 = ox * op->stride_w - op->pad_l;
            for (int64_t c0 = 0; c0 < OC; c0 += 512) {
                int64_t cn = OC - c0 < 512 ? OC - c0 : 512;
                for (int64_t c = 0; c < cn; c++)
                    acc[c] = bias != NULL ? bias[c0 + c] : 0;
                for (int64_t fy = 0; fy < op->kh; fy++) {
                    int64_t iy = iy0 + fy * op->dil_h;
                    if (iy < 0 || iy >= H)
                        continue;
                    for (int64_t fx = 0; fx < op->kw; fx++) {
                        int64_t ix = ix0 + fx * op->dil_w;
                        if (ix < 0 || ix >= W)
                            continue;
                        const int8_t *xp = xn + (iy * W + ix) * C;
                        const int8_t *wp = wd + (fy * op->kw + fx) * OC + c0;
                        if (mult == 1) {
                            const int8_t *xc = xp + c0;
                            for (int64_t c = 0; c < cn; c++)
                                acc[c] += ((int32_t)xc[c] + in_off) * (int32_t)wp[c];
                        } else {
                            for (int64_t c = 0; c < cn; c++)
                                acc[c] += ((int32_t)xp[(c0 + c) / mult] + in_off) * (int32_t)wp[c];
                        }
                    }
                }
                for (int64_t c = 0; c < cn; c++) {
                    int32_t v = fx_mul_by_qm(acc[c], op->mult[c0 + c], op->shift[c0 + c]) + out_zp;
                    yr[ox * OC + c0 + c] = (int8_t)clamp_i32(v, op->act_min, op->act_max);
                }
            }
        }
    }
}

/* Rows n of a fully connected layer. */
SSCMA_KERNEL static void fc_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *w = &j->q->t[op->in[1]], *y = &j->q->t[op->out];
    const int32_t *bias = op->n_in > 2 ? j->q->t[op->in[2]].data : NULL;
    const int64_t IN = x->dims[1], OUT = y->dims[1];
    const int32_t in_off = -x->zero_point[0], out_zp = y->zero_point[0];
    for (int64_t n = begin; n < end; n++) {
        const int8_t *xr = (const int8_t *)x->buf + n * IN;
        for (int64_t o = 0; o < OUT; o++) {
            const int8_t *wr = (const int8_t *)w->data + o * IN;
            int32_t acc = 0;
            for (int64_t i = 0; i < IN; i++)
                acc += ((int32_t)xr[i] + in_off) * (int32_t)wr[i];
            if (bias != NULL)
                acc += bias[o];
            acc = fx_mul_by_qm(acc, op->mult[o], op->shift[o]) + out_zp;
            ((int8_t *)y->buf)[n * OUT + o] = (int8_t)clamp_i32(acc, op->act_min, op->act_max);
        }
    }
}

SSCMA_KERNEL static void add_range(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *a = &j->q->t[op->in[0]], *b = &j->q->t[op->in[1]], *y = &j->q->t[op->out];
    const int8_t *ad = a->buf, *bd = b->buf;
    int8_t *yd = y->buf;
    const int32_t a_off = -a->zero_point[0], b_off = -b->zero_point[0], out_zp = y->zero_point[0];
    for (int64_t i = begin; i < end; i++) {
        int32_t sa = fx_mul_by_qm_lt1((ad[i] + a_off) * (1 << op->left_shift), op->in_mult[0], op->in_shift[0]);
        int32_t sb = fx_mul_by_qm_lt1((bd[i] + b_off) * (1 << op->left_shift), op->in_mult[1], op->in_shift[1]);
        int32_t v = fx_mul_by_qm_lt1(sa + sb, op->mult[0], op->shift[0]) + out_zp;
        yd[i] = (int8_t)clamp_i32(v, op->act_min, op->act_max);
    }
}

/* Rows (n, oy) of average or max pooling. */
static void pool_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *y = &j->q->t[op->out];
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    const bool avg = op->kind == QM_AVG_POOL;
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / OH, oy = r % OH;
        const int8_t *xn = (const int8_t *)x->buf + n * H * W * C;
        int8_t *yr = (int8_t *)y->buf + r * OW * C;
        int64_t iy0 = oy * op->stride_h - op->pad_t;
        int64_t fy0 = iy0 < 0 ? -iy0 : 0, fy1 = H - iy0 < op->kh ? H - iy0 : op->kh;
        for (int64_t ox = 0; ox < OW; ox++) {
            int64_t ix0 = ox * op->stride_w - op->pad_l;
            int64_t fx0 = ix0 < 0 ? -ix0 : 0, fx1 = W - ix0 < op->kw ? W - ix0 : op->kw;
            int32_t count = (int32_t)((fy1 - fy0) * (fx1 - fx0));
            for (int64_t c = 0; c < C; c++) {
                int32_t acc = avg ? 0 : -128;
                for (int64_t fy = fy0; fy < fy1; fy++)
                    for (int64_t fx = fx0; fx < fx1; fx++) {
                        int32_t v = xn[((iy0 + fy) * W + ix0 + fx) * C + c];
                        if (avg)
                            acc += v;
                        else if (v > acc)
                            acc = v;
                    }
                if (avg && count > 0)
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                yr[ox * C + c] = (int8_t)clamp_i32(acc, op->act_min, op->act_max);
            }
        }
    }
}

/* Rows of a softmax over the last axis (TFLite's reference fixed-point algorithm). */
static void softmax_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *y = &j->q->t[op->out];
    const int64_t depth = x->dims[x->rank - 1];
    for (int64_t r = begin; r < end; r++) {
        const int8_t *xr = (const int8_t *)x->buf + r * depth;
        int8_t *yr = (int8_t *)y->buf + r * depth;
        int32_t max = -128;
        for (int64_t c = 0; c < depth; c++)
            if (xr[c] > max)
                max = xr[c];
        int32_t sum = 0; /* Q12.19 */
        for (int64_t c = 0; c < depth; c++) {
            int32_t diff = xr[c] - max;
            if (diff >= op->diff_min) {
                int32_t scaled = fx_rdhm((int32_t)((uint32_t)diff << op->in_left_shift), op->mult[0]);
                sum += fx_rdiv_pot(fx_exp_on_negative_q5(scaled), 12);
            }
        }
        int headroom = __builtin_clz((uint32_t)sum);
        int bits_over_unit = 12 - headroom;
        int32_t shifted_minus_one = (int32_t)(((uint32_t)sum << headroom) - (1u << 31));
        int32_t recip = fx_one_over_one_plus_x(shifted_minus_one);
        for (int64_t c = 0; c < depth; c++) {
            int32_t diff = xr[c] - max;
            if (diff >= op->diff_min) {
                int32_t scaled = fx_rdhm((int32_t)((uint32_t)diff << op->in_left_shift), op->mult[0]);
                int32_t e = fx_exp_on_negative_q5(scaled);
                int32_t v = fx_rdiv_pot(fx_rdhm(recip, e), bits_over_unit + 31 - 8) - 128;
                yr[c] = (int8_t)clamp_i32(v, -128, 127);
            } else {
                yr[c] = -128;
            }
        }
    }
}

static void requant_range(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *y = &j->q->t[op->out];
    const int8_t *xd = x->buf;
    int8_t *yd = y->buf;
    for (int64_t i = begin; i < end; i++) {
        int32_t v = fx_mul_by_qm(xd[i] - x->zero_point[0], op->mult[0], op->shift[0]) + y->zero_point[0];
        yd[i] = (int8_t)clamp_i32(v, -128, 127);
    }
}

static void concat_i8(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *y = &q->t[op->out];
    int64_t outer = q->batch, inner_y = 1;
    for (int32_t a = 1; a < op->axis; a++)
        outer *= y->dims[a];
    for (int32_t a = op->axis; a < y->rank; a++)
        inner_y *= y->dims[a];
    int64_t offset = 0;
    for (int32_t k = 0; k < op->n_in; k++) {
        const qm_tensor *x = &q->t[op->in[k]];
        int64_t inner = 1;
        for (int32_t a = op->axis; a < x->rank; a++)
            inner *= x->dims[a];
        for (int64_t o = 0; o < outer; o++)
            memcpy((int8_t *)y->buf + o * inner_y + offset, (const int8_t *)x->buf + o * inner, (size_t)inner);
        offset += inner;
    }
}

static void pad_i8(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    memset(y->buf, (int8_t)y->zero_point[0], (size_t)(q->batch * OH * OW * C));
    for (int64_t n = 0; n < q->batch; n++)
        for (int64_t iy = 0; iy < H; iy++)
            memcpy((int8_t *)y->buf + ((n * OH + iy + op->pad_t) * OW + op->pad_l) * C,
                   (const int8_t *)x->buf + (n * H + iy) * W * C, (size_t)(W * C));
}

static void resize_i8(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    for (int64_t n = 0; n < q->batch; n++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++) {
                int64_t iy = oy * H / OH, ix = ox * W / OW;
                memcpy((int8_t *)y->buf + ((n * OH + oy) * OW + ox) * C,
                       (const int8_t *)x->buf + ((n * H + iy) * W + ix) * C, (size_t)C);
            }
}

sscma_status sscma_qm_run_int8(sscma_qmodel *q)
{
    sscma_pool *pool = q->ctx->pool;
    for (int32_t i = 0; i < q->n_ops; i++) {
        const qm_op *op = &q->ops[i];
        const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
        i8_job j = {q, op};
        int64_t rows = q->batch * (y->rank == 4 ? y->dims[1] : 1);
        int64_t elems = (int64_t)y->buf_bytes;
        switch (op->kind) {
        case QM_CONV:
            sscma_parallel_for(pool, rows, 1, op->groups > 1 ? dw_rows : conv_rows, &j);
            break;
        case QM_FC:
            sscma_parallel_for(pool, q->batch, 1, fc_rows, &j);
            break;
        case QM_ADD:
            sscma_parallel_for(pool, elems, 4096, add_range, &j);
            break;
        case QM_AVG_POOL:
        case QM_MAX_POOL:
            sscma_parallel_for(pool, rows, 1, pool_rows, &j);
            break;
        case QM_SOFTMAX:
            sscma_parallel_for(pool, elems / x->dims[x->rank - 1], 16, softmax_rows, &j);
            break;
        case QM_REQUANT:
            sscma_parallel_for(pool, elems, 4096, requant_range, &j);
            break;
        case QM_RESHAPE:
            memcpy(y->buf, x->buf, y->buf_bytes);
            break;
        case QM_CONCAT:
            concat_i8(q, op);
            break;
        case QM_PAD:
            pad_i8(q, op);
            break;
        case QM_RESIZE_NEAREST:
            resize_i8(q, op);
            break;
        default:
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, op->name, "%s has no int8 kernel yet",
                              sscma_qm_kind_name(op->kind));
        }
    }
    return SSCMA_OK;
}
