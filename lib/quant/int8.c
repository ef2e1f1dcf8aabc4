/*
 * The int8 runtime: every op of a deployable model with TFLite's integer semantics (the reference kernels'
 * arithmetic, bit for bit; the test suite compares with TFLite's interpreter), split over the context's threads.
 *
 *   conv / depthwise:  acc = bias[c] + sum (x + in_off) * w;  y = clamp(requant(acc, M[c], s[c]) + out_zp)
 *   fully connected:   the same accumulation; requantized as TFLite's reference FC kernel does, in double:
 *                      round(acc * s_x s_w / s_y), half away from zero
 *   logistic, hard swish: 256-entry tables built at prepare with TFLite's arithmetic (the float function for
 *                      logistic, TFLite's 16-bit fixed-point algorithm for hard swish)
 *   add:               each input scaled to a common 2^20 fixed point, summed, requantized (TFLite's scheme)
 *   avg/max pool:      in the input's scale; average rounds half away from zero; count excludes padding
 *   softmax:           gemmlowp fixed point: exp of (x - max) * beta * scale in Q5.26, sum in Q12.19, 1 / sum
 *   requantize:        y = requant(x - in_zp, M, s) + out_zp
 * Multipliers come from the tensors' float scales computed in double as TFLite does (sscma_quantize_multiplier).
 */
#include <math.h>
#include <string.h>

#include "quant/fixedpoint.h"
#include "quant/i8gemm.h"
#include "quant/qm_kernel.h"
#include "quant/qm_kinds.h"
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
        float q = roundf(6.0f / scale); /* a tiny scale overflows: anything above 255 clamps the same */
        int32_t six = zp + (q > 1024.0f ? 1024 : (int32_t)q);
        *hi = six < 127 ? six : 127;
    }
}

sscma_status qm_need(const qm_op *op, bool ok, const char *what)
{
    return ok ? SSCMA_OK
              : sscma_fail(SSCMA_ERR_FORMAT, op->name, "%s (int8): %s", sscma_qm_kind_name(op->kind), what);
}

bool qm_per_tensor_i8(const qm_tensor *t)
{
    return t->dtype == SSCMA_DTYPE_I8 && t->n_q == 1 && t->scale[0] > 0.0f && isfinite(t->scale[0]) &&
           t->zero_point[0] >= -128 && t->zero_point[0] <= 127;
}

bool qm_same_params(const qm_tensor *a, const qm_tensor *b)
{
    return a->scale[0] == b->scale[0] && a->zero_point[0] == b->zero_point[0];
}

sscma_status qm_alloc_mult(sscma_qmodel *q, qm_op *op, int32_t n)
{
    sscma_free(q->ctx, op->mult, (size_t)op->n_mult * sizeof *op->mult);
    sscma_free(q->ctx, op->shift, (size_t)op->n_mult * sizeof *op->shift);
    sscma_free(q->ctx, op->real_mult, qm_real_mult_bytes(op->n_mult));
    op->real_mult = NULL;
    op->n_mult = 0;
    n = (n + 15) / 16 * 16; /* whole vectors: the fused tiles read 8 or 16 channels at a time */
    op->mult = sscma_alloc_zeroed(q->ctx, (size_t)n * sizeof *op->mult, 64);
    op->shift = sscma_alloc_zeroed(q->ctx, (size_t)n * sizeof *op->shift, 64);
    if (op->mult == NULL || op->shift == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate requantization parameters");
    op->n_mult = n;
    return SSCMA_OK;
}

/*
 * LOGISTIC: TFLite's int8 kernels use a 256-entry table of the float function: for every input q,
 * y = clamp(round((1 / (1 + exp(-(s_in (q - z_in))))) / s_out) + z_out) in float arithmetic.
 */
static sscma_status logistic_table(const qm_tensor *x, const qm_tensor *y, int8_t *lut)
{
    const float in_scale = x->scale[0], inverse = 1.0f / y->scale[0];
    for (int32_t v = -128; v <= 127; v++) {
        float real = in_scale * (float)(v - x->zero_point[0]);
        float t = 1.0f / (1.0f + expf(-real));
        int32_t q = (int32_t)(roundf(t * inverse) + (float)y->zero_point[0]);
        lut[(uint8_t)(int8_t)v] = (int8_t)qm_clamp_i32(q, -128, 127);
    }
    return SSCMA_OK;
}

/* 16-bit fixed point as TFLite's HARD_SWISH kernel uses it. */
static int16_t sat16(int32_t v)
{
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

static int16_t rdhm16(int16_t a, int16_t b) /* rounding doubling high multiply */
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    int32_t ab = (int32_t)a * b;
    int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

static int16_t dhm16(int16_t a, int16_t b) /* doubling high multiply, truncating */
{
    if (a == INT16_MIN && b == INT16_MIN)
        return INT16_MAX;
    return (int16_t)(((int32_t)a * b) / (1 << 15));
}

static int16_t to_int16_multiplier(int32_t m)
{
    if (m >= INT32_MAX - (1 << 15))
        return INT16_MAX;
    return (int16_t)((m + (1 << 15)) >> 16);
}

/*
 * HARD_SWISH (x relu6(x + 3) / 6), TFLite's integer algorithm evaluated for the 256 inputs: the input on a "high
 * resolution" scale s_in / 128, a ReLU-ish factor in 16-bit fixed point, their truncating doubling product, shifted to
 * the output scale.
 */
static sscma_status hardswish_table(const qm_op *op, const qm_tensor *x, const qm_tensor *y, int8_t *lut)
{
    const float hires_scale = (1.0f / 128.0f) * x->scale[0];
    const float reluish_scale = 3.0f / 32768.0f;
    const float out_mult = hires_scale / y->scale[0], relu_mult = hires_scale / reluish_scale;
    int32_t m32, out_exp, r32, relu_exp;
    sscma_quantize_multiplier((double)out_mult, &m32, &out_exp);
    int16_t out_m = to_int16_multiplier(m32);
    sscma_quantize_multiplier((double)relu_mult, &r32, &relu_exp);
    int16_t relu_m = to_int16_multiplier(r32);
    if (out_exp > 0)
        return qm_need(op, false, "the output scale is too small for the input's");
    for (int32_t v = -128; v <= 127; v++) {
        int16_t in = (int16_t)(v - x->zero_point[0]);
        int16_t hires = (int16_t)(in * (1 << 7));
        int16_t preshift = rdhm16(hires, out_m);
        int16_t reluish = hires;
        if (relu_exp > 0)
            reluish = sat16((int32_t)reluish * (1 << (relu_exp - 1)));
        reluish = rdhm16(reluish, relu_m);
        if (relu_exp > 0)
            reluish = sat16((int32_t)reluish * 2);
        if (relu_exp < 0)
            reluish = (int16_t)fx_rdiv_pot(reluish, -relu_exp);
        reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
        int16_t pre = dhm16(reluish, preshift);
        int32_t out = fx_rdiv_pot(pre, -out_exp) + y->zero_point[0];
        lut[(uint8_t)(int8_t)v] = (int8_t)qm_clamp_i32(out, -128, 127);
    }
    return SSCMA_OK;
}

/* Depthwise: weights as [KH * KW, Cout] so that channels are contiguous, and the packing of the kernel chosen. */
static sscma_status prepare_depthwise(sscma_qmodel *q, qm_op *op, const qm_tensor *x, const qm_tensor *w,
                                      int64_t cout)
{
    sscma_status st;
    size_t bytes = (size_t)(op->kh * op->kw) * (size_t)cout;
    if ((op->lut = sscma_alloc(q->ctx, bytes, 64)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate depthwise weights");
    op->lut_bytes = bytes;
    const int8_t *src = w->data;
    int8_t *dst = op->lut;
    int64_t taps = (int64_t)op->kh * op->kw, cpg = w->dims[3];
    if ((st = qm_need(op, cpg == 1, "depthwise weights must have one input channel per group")) != SSCMA_OK)
        return st;
    for (int64_t c = 0; c < cout; c++)
        for (int64_t k = 0; k < taps; k++)
            dst[k * cout + c] = src[c * taps + k];
    /* the sixteen-channel kernel's packing, for depth multiplier 1 on the AVX2 backends */
    sscma_free(q->ctx, op->bias_eff, (size_t)op->n_pad * sizeof *op->bias_eff);
    op->bias_eff = NULL;
    op->n_pad = 0;
    op->backend = q->backend >= 0 ? q->backend : (int32_t)sscma_i8_backend_cached();
    /* whole output rows as one run of bytes where the stride along W is 1, the channels leave 64-lane blocks
     * part empty and the weights' period is short (at most 16 chunks: 24 KB with nine taps); else pixel by
     * pixel (measured: 192 channels, no empty lanes, and 336, 21 chunks, ran 3-5% slower on rows) */
    op->dw_flat = op->backend == I8_VNNI && op->stride_w == 1 && cout == x->dims[3] && taps <= 64 &&
                  cout % 64 != 0 && sscma_i8_dw4_patterns(cout) <= 16;
    if (op->backend == I8_VNNI && cout == x->dims[3] && taps <= 64) {
        /* the VNNI kernel's packing: weights, corrected bias, multipliers and shifts together */
        size_t pb = sscma_i8_dw4_packed_bytes(cout, (int32_t)taps, op->dw_flat);
        op->n_pad = (int64_t)((pb + sizeof(int32_t) - 1) / sizeof(int32_t));
        if ((op->bias_eff = sscma_alloc(q->ctx, (size_t)op->n_pad * sizeof(int32_t), 64)) == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate depthwise weights");
        sscma_i8_dw4_pack(op->lut, op->n_in > 2 ? q->t[op->in[2]].data : NULL, op->mult, op->shift, cout,
                          (int32_t)taps, x->zero_point[0], op->dw_flat, op->bias_eff);
    } else if (op->backend != I8_PORTABLE && cout == x->dims[3] && cout >= 16 && taps <= 64) {
        size_t pb = sscma_i8_dw_packed_bytes(cout, (int32_t)taps);
        /* bias_eff holds the packed pairs here (int16 data in an int32 array) */
        op->n_pad = (int64_t)((pb + sizeof(int32_t) - 1) / sizeof(int32_t));
        if ((op->bias_eff = sscma_alloc(q->ctx, (size_t)op->n_pad * sizeof(int32_t), 64)) == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate depthwise weights");
        sscma_i8_dw_pack(op->lut, cout, (int32_t)taps, (int16_t *)op->bias_eff);
    }
    return SSCMA_OK;
}

/* Groups 1 and fully connected: weights packed for the GEMM tiles, bias corrected for A's encoding. */
static sscma_status prepare_gemm(sscma_qmodel *q, qm_op *op, const qm_tensor *x, const qm_tensor *w, int64_t cout)
{
    i8_backend be = q->backend >= 0 ? (i8_backend)q->backend : sscma_i8_backend_cached();
    int64_t k = sscma_qm_numel(w) / cout;
    sscma_free(q->ctx, op->bias_eff, (size_t)op->n_pad * sizeof *op->bias_eff);
    op->bias_eff = NULL;
    op->backend = (int32_t)be;
    op->k_pad = sscma_i8_k_pad(be, k);
    op->n_pad = sscma_i8_n_pad(cout);
    op->lut_bytes = sscma_i8_packed_bytes(be, cout, k);
    op->lut = sscma_alloc(q->ctx, op->lut_bytes, 64);
    op->bias_eff = sscma_alloc(q->ctx, (size_t)op->n_pad * sizeof *op->bias_eff, 64);
    if (op->lut == NULL || op->bias_eff == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate packed weights");
    sscma_i8_pack(be, w->data, cout, k, op->lut, op->bias_eff);
    const int32_t *bias = op->n_in > 2 ? q->t[op->in[2]].data : NULL;
    int32_t corr = (be == I8_VNNI ? 128 : 0) + x->zero_point[0];
    for (int64_t j = 0; j < op->n_pad; j++)
        op->bias_eff[j] = (int32_t)((uint32_t)(j < cout && bias != NULL ? bias[j] : 0) -
                                    (uint32_t)corr * (uint32_t)op->bias_eff[j]);
    size_t need_bytes = (size_t)I8_MR * (size_t)op->k_pad * sscma_i8_a_size(be);
    need_bytes = ((need_bytes + 63) & ~(size_t)63) + (size_t)I8_MR * (size_t)op->n_pad * sizeof(int32_t);
    if (need_bytes > q->tile_bytes)
        q->tile_bytes = (need_bytes + 63) & ~(size_t)63;
    return SSCMA_OK;
}

/*
 * Output c's parameters of fc_requant_row from its ratio `real` (> 0): the ratio used (at most 2^20: beyond, every
 * acc != 0 saturates either way), the bound on |acc| past which |acc real| > 2^20 (the output saturates, so the kernel
 * clamps acc there and its product fits an int32), and the last acc on each side whose double product rounds into
 * int32: past them TFLite's cast of round(acc real) overflows, which x86 turns into INT32_MIN.
 */
static void fc_requant_params(double real, int64_t c, int32_t n, double *rm)
{
    int32_t *bound = (int32_t *)(rm + n), *hi = bound + n, *lo = hi + n;
    if (!(real > 0.0) || !isfinite(real)) { /* scales are checked positive and finite: never taken */
        rm[c] = 0.0, bound[c] = hi[c] = INT32_MAX, lo[c] = INT32_MIN;
        return;
    }
    const double b = floor(1048576.0 / real);
    rm[c] = real < 1048576.0 ? real : 1048576.0;
    bound[c] = b < 1.0 ? 1 : b > 2147483647.0 ? INT32_MAX : (int32_t)b;
    double a = floor(2147483647.5 / real); /* within a step or two of the exact value, found below */
    int64_t k = a > 2147483647.0 ? INT32_MAX : (int64_t)a;
    while (k < INT32_MAX && (double)(k + 1) * real < 2147483647.5)
        k++;
    while (k > 0 && (double)k * real >= 2147483647.5)
        k--;
    hi[c] = (int32_t)k;
    a = -floor(2147483648.5 / real);
    k = a < -2147483648.0 ? INT32_MIN : (int64_t)a;
    while (k > INT32_MIN && (double)(k - 1) * real > -2147483648.5)
        k--;
    while (k < 0 && (double)k * real <= -2147483648.5)
        k++;
    lo[c] = (int32_t)k;
}

/* Conv and fully connected: per-channel multipliers, and the weights packed for the backend chosen here. */
sscma_status qm_i8_prepare_weighted(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st;
    const qm_tensor *w = &q->t[op->in[1]];
    int64_t cout = w->dims[0];
    if ((st = qm_need(op, w->dtype == SSCMA_DTYPE_I8 && (w->n_q == 1 || w->n_q == cout), "weights must be int8")) !=
        SSCMA_OK)
        return st;
    if (op->n_in > 2 && (st = qm_need(op, q->t[op->in[2]].dtype == SSCMA_DTYPE_I32, "bias must be int32")) != SSCMA_OK)
        return st;
    for (int32_t k = 0; k < w->n_q; k++)
        if ((st = qm_need(op, w->zero_point[k] == 0, "weights must be symmetric (zero point 0)")) != SSCMA_OK)
            return st;
    if ((st = qm_alloc_mult(q, op, (int32_t)cout)) != SSCMA_OK)
        return st;
    if (op->kind == QM_FC &&
        (op->real_mult = sscma_alloc_zeroed(q->ctx, qm_real_mult_bytes(op->n_mult), 64)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate requantization parameters");
    for (int64_t c = 0; c < cout; c++) {
        double ws = (double)w->scale[w->n_q == 1 ? 0 : c];
        double real = (double)x->scale[0] * ws / (double)y->scale[0];
        sscma_quantize_multiplier(real, &op->mult[c], &op->shift[c]);
        if (op->real_mult != NULL)
            fc_requant_params(real, c, op->n_mult, op->real_mult);
    }
    sscma_free(q->ctx, op->lut, op->lut_bytes);
    op->lut = NULL;
    op->lut_bytes = 0;
    if (op->kind == QM_CONV && op->groups > 1)
        return prepare_depthwise(q, op, x, w, cout);
    return prepare_gemm(q, op, x, w, cout);
}

sscma_status qm_i8_prepare_add(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st;
    const qm_tensor *b = &q->t[op->in[1]];
    if ((st = qm_need(op, qm_per_tensor_i8(b), "inputs must be int8 per tensor")) != SSCMA_OK)
        return st;
    op->left_shift = 20;
    double twice_max = 2.0 * (double)(x->scale[0] > b->scale[0] ? x->scale[0] : b->scale[0]);
    if ((st = qm_alloc_mult(q, op, 1)) != SSCMA_OK)
        return st;
    sscma_quantize_multiplier((double)x->scale[0] / twice_max, &op->in_mult[0], &op->in_shift[0]);
    sscma_quantize_multiplier((double)b->scale[0] / twice_max, &op->in_mult[1], &op->in_shift[1]);
    sscma_quantize_multiplier(twice_max / ((double)(1 << 20) * (double)y->scale[0]), &op->mult[0], &op->shift[0]);
    if ((st = qm_need(op, op->in_shift[0] <= 0 && op->in_shift[1] <= 0 && op->shift[0] <= 0,
                      "the output scale is too small for the inputs' (multiplier above one)")) != SSCMA_OK)
        return st;
    return qm_i8_binary_table(q, op);
}

sscma_status qm_i8_prepare_concat(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *y = &q->t[op->out];
    sscma_status st;
    for (int32_t k = 0; k < op->n_in; k++)
        if ((st = qm_need(op, qm_per_tensor_i8(&q->t[op->in[k]]) && qm_same_params(&q->t[op->in[k]], y),
                       "every input must have the output's scale and zero point")) != SSCMA_OK)
            return st;
    return SSCMA_OK;
}

/* Pooling and the shape ops move int8 values unchanged: TFLite requires the output's parameters to be the input's. */
sscma_status qm_i8_prepare_same_params(sscma_qmodel *q, qm_op *op)
{
    return qm_need(op, qm_same_params(&q->t[op->in[0]], &q->t[op->out]), "output must have the input's scale and zero point");
}

sscma_status qm_i8_prepare_softmax(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st;
    if ((st = qm_need(op, y->zero_point[0] == -128 && fabsf(y->scale[0] - 1.0f / 256.0f) <= 0.001f / 256.0f,
                   "output must have scale 1/256 and zero point -128")) != SSCMA_OK)
        return st;
    if ((st = qm_alloc_mult(q, op, 1)) != SSCMA_OK)
        return st;
    double real = (double)x->scale[0] * (double)(1 << 26);
    if (real > 2147483647.0)
        real = 2147483647.0;
    sscma_quantize_multiplier(real, &op->mult[0], &op->shift[0]);
    if ((st = qm_need(op, op->shift[0] >= 0, "input scale too small for the fixed-point softmax")) != SSCMA_OK)
        return st;
    op->in_left_shift = op->shift[0];
    double radius = 31.0 * (double)(1LL << 26) / (double)(1LL << op->in_left_shift);
    op->diff_min = -(int32_t)floor(radius);
    return SSCMA_OK;
}

/* A fresh 256-entry table for op (logistic, hard swish). */
sscma_status qm_alloc_lut(sscma_qmodel *q, qm_op *op)
{
    sscma_free(q->ctx, op->lut, op->lut_bytes);
    op->lut_bytes = 0;
    if ((op->lut = sscma_alloc(q->ctx, 256, 64)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate a lookup table");
    op->lut_bytes = 256;
    return SSCMA_OK;
}

sscma_status qm_i8_prepare_logistic(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st = qm_need(op, y->zero_point[0] == -128 && y->scale[0] == 1.0f / 256.0f,
                           "output must have scale 1/256 and zero point -128");
    if (st == SSCMA_OK)
        st = qm_alloc_lut(q, op);
    return st == SSCMA_OK ? logistic_table(x, y, op->lut) : st;
}

/* TFLite's int8 lookup table of a float function (LUTPopulateInt8): as logistic_table, with f. */
void qm_function_table(const qm_tensor *x, const qm_tensor *y, float (*f)(float), int8_t *lut)
{
    const float in_scale = x->scale[0], inverse = 1.0f / y->scale[0];
    for (int32_t v = -128; v <= 127; v++) {
        float real = in_scale * (float)(v - x->zero_point[0]);
        float r = roundf(f(real) * inverse) + (float)y->zero_point[0];
        int32_t q = !(r > -1024.0f) ? -1024 : r > 1024.0f ? 1024 : (int32_t)r; /* NaN, inf: clamped below */
        lut[(uint8_t)(int8_t)v] = (int8_t)qm_clamp_i32(q, -128, 127);
    }
}

sscma_status qm_i8_prepare_hardswish(sscma_qmodel *q, qm_op *op)
{
    sscma_status st = qm_alloc_lut(q, op);
    return st == SSCMA_OK ? hardswish_table(op, &q->t[op->in[0]], &q->t[op->out], op->lut) : st;
}

sscma_status qm_i8_prepare_requant(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st;
    if ((st = qm_alloc_mult(q, op, 1)) != SSCMA_OK)
        return st;
    sscma_free(q->ctx, op->lut, op->lut_bytes);
    op->lut = NULL;
    op->lut_bytes = 0;
    if (x->dtype == SSCMA_DTYPE_F32) /* from float: no multiplier */
        op->mult[0] = 0, op->shift[0] = 0;
    else
        sscma_quantize_multiplier((double)x->scale[0] / (double)y->scale[0], &op->mult[0], &op->shift[0]);
    if (x->dtype == SSCMA_DTYPE_F32 || y->dtype == SSCMA_DTYPE_F32)
        return SSCMA_OK;
    /* 8 bits to 8 bits: a function of the input byte, tabulated with requant_range's arithmetic */
    if ((st = qm_alloc_lut(q, op)) != SSCMA_OK)
        return st;
    const bool xu = x->dtype == SSCMA_DTYPE_U8, yu = y->dtype == SSCMA_DTYPE_U8;
    uint8_t *t = op->lut;
    for (int32_t b = 0; b < 256; b++) {
        const int32_t raw = xu ? b : (int32_t)(int8_t)(uint8_t)b;
        const int32_t v = qm_clamp_i32(fx_mul_by_qm(raw - x->zero_point[0], op->mult[0], op->shift[0]) +
                                           y->zero_point[0],
                                       yu ? 0 : -128, yu ? 255 : 127);
        t[b] = (uint8_t)v; /* the output byte: uint8 as is, int8 two's complement */
    }
    return SSCMA_OK;
}

bool sscma_qm_int8_stale(const sscma_qmodel *q)
{
    return !q->int8_ready || q->int8_backend != q->backend;
}

sscma_status sscma_qm_prepare_int8(sscma_qmodel *q)
{
    q->int8_ready = false;
    q->tile_bytes = 0;
    for (int32_t i = 0; i < q->n_ops; i++) {
        qm_op *op = &q->ops[i];
        const qm_kind_def *def = sscma_qm_kind(op->kind);
        if (def == NULL)
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, op->name, "op kind %d has no int8 kernel", (int)op->kind);
        const qm_tensor *y = &q->t[op->out];
        sscma_status st = def->converts ? SSCMA_OK /* checked by its validate */
                                        : qm_need(op, qm_per_tensor_i8(&q->t[op->in[0]]) && qm_per_tensor_i8(y),
                                               "input and output must be int8 per tensor");
        if (st != SSCMA_OK)
            return st;
        if (!def->converts)
            act_range(y, op->act, &op->act_min, &op->act_max);
        if ((st = def->prepare_int8(q, op)) != SSCMA_OK)
            return st;
    }
    /* each plan allocates q->tile_bytes of GEMM tiles per worker */
    q->int8_ready = true;
    q->int8_backend = q->backend;
    return SSCMA_OK;
}

/* ---- kernels ---- */

/* Fully connected: x is read as rows of the weights' depth (all its dims but the last, or flattened). */
static int64_t fc_depth(const sscma_qmodel *q, const qm_op *op)
{
    return q->t[op->in[1]].dims[1];
}

static int64_t fc_rows(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]];
    return ex->batch * (sscma_qm_numel(x) / x->dims[0]) / fc_depth(ex->q, op);
}

/*
 * TFLite's reference FULLY_CONNECTED requantizes in double, rounding half away from zero: y = (int32)round(acc s_x s_w
 * / s_y) + zp (docs/export.md; a 31-bit multiplier differs on ties), the cast of a product beyond int32 giving
 * INT32_MIN as on x86 and the zero point added with wraparound. One row of n outputs, written so that it vectorises:
 * acc is clamped to its bound (where the output saturates anyway), so |p| <= 2^20, p - trunc(p) is exact and twice it
 * truncates to the rounding step (+1 from 0.5 up, -1 from -0.5 down). rm: qm_op.real_mult (fc_requant_params).
 */
SSCMA_KERNEL static void fc_requant_row(const int32_t *restrict c, const int32_t *restrict bias,
                                        const double *restrict rm, int32_t n_mult, int64_t n, int32_t zp, int32_t lo,
                                        int32_t hi, int8_t *restrict y)
{
    const int32_t *restrict bound = (const int32_t *)(rm + n_mult), *restrict fits_hi = bound + n_mult,
                            *restrict fits_lo = fits_hi + n_mult;
    for (int64_t j = 0; j < n; j++) {
        const int32_t acc = (int32_t)((uint32_t)c[j] + (uint32_t)bias[j]);
        const int32_t a = acc < -bound[j] ? -bound[j] : acc > bound[j] ? bound[j] : acc;
        const double p = (double)a * rm[j];
        const int32_t whole = (int32_t)p;
        int32_t v = whole + (int32_t)((p - (double)whole) * 2.0);
        const uint32_t out_of_int32 = -(uint32_t)((acc > fits_hi[j]) | (acc < fits_lo[j])); /* a mask: vectorises */
        v = (int32_t)(((uint32_t)v & ~out_of_int32) | (0x80000000u & out_of_int32));
        v = (int32_t)((uint32_t)v + (uint32_t)zp);
        v = v < lo ? lo : v > hi ? hi : v;
        y[j] = (int8_t)v;
    }
}

/* Output rows [begin, end) of tiles of I8_MR pixels (conv with groups 1) or samples (fc), through the GEMM tile. */
static void gemm_tiles(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *y = &j->q->t[op->out];
    i8_backend be = (i8_backend)op->backend;
    bool conv = op->kind == QM_CONV;
    const int64_t H = conv ? x->dims[1] : 1, W = conv ? x->dims[2] : 1, C = conv ? x->dims[3] : fc_depth(j->q, op);
    const int64_t OH = conv ? y->dims[1] : 1, OW = conv ? y->dims[2] : 1, OC = y->dims[y->rank - 1];
    const int64_t M = conv ? j->ex->batch * OH * OW : fc_rows(j->ex, op), k_pad = op->k_pad, n_pad = op->n_pad;
    const int64_t K = conv ? (int64_t)op->kh * op->kw * C : C;
    const int32_t zp = x->zero_point[0], out_zp = y->zero_point[0];
    const bool direct = !conv || (op->kh == 1 && op->kw == 1 && op->stride_h == 1 && op->stride_w == 1 &&
                                  op->pad_t == 0 && op->pad_l == 0);
    char *scratch = (char *)j->ex->tile_scratch + (size_t)worker * j->ex->tile_bytes;
    size_t a_bytes = ((size_t)I8_MR * (size_t)k_pad * sscma_i8_a_size(be) + 63) & ~(size_t)63;
    int32_t *Cm = (int32_t *)(scratch + a_bytes);
    void *A = scratch;
    const int8_t *xd = qm_buf(j->ex, x);
    int8_t *yd = qm_buf(j->ex, y);
    const i8_geom g = {H, W, C, OH, OW, M, K, k_pad, op->kh, op->kw, op->stride_h, op->stride_w, op->dil_h,
                       op->dil_w, op->pad_t, op->pad_l, zp, direct};
    for (int64_t t = begin; t < end; t++) {
        const bool gathered = sscma_i8_gather(be, &g, xd, t * I8_MR, A); /* else row by row below */
        for (int64_t r = 0; !gathered && r < I8_MR; r++) {
            int64_t m = t * I8_MR + r, at = r * k_pad;
            if (m >= M) {
                sscma_i8_a_fill(be, A, at, 0, k_pad);
                continue;
            }
            if (direct) {
                sscma_i8_a_copy(be, A, at, xd + m * C, C);
            } else {
                int64_t n = m / (OH * OW), rem = m % (OH * OW), oy = rem / OW, ox = rem % OW;
                int64_t iy0 = oy * op->stride_h - op->pad_t, ix0 = ox * op->stride_w - op->pad_l;
                for (int64_t ky = 0; ky < op->kh; ky++) {
                    int64_t iy = iy0 + ky * op->dil_h;
                    if (iy < 0 || iy >= H) {
                        sscma_i8_a_fill(be, A, at, zp, (int64_t)op->kw * C);
                        at += (int64_t)op->kw * C;
                        continue;
                    }
                    const int8_t *row = xd + (n * H + iy) * W * C;
                    if (op->dil_w == 1) {
                        /* the taps inside the image are one contiguous run */
                        int64_t kx0, kx1;
                        sscma_i8_window_run(ix0, W, op->kw, &kx0, &kx1);
                        sscma_i8_a_fill(be, A, at, zp, kx0 * C);
                        sscma_i8_a_copy(be, A, at + kx0 * C, row + (ix0 + kx0) * C, (kx1 - kx0) * C);
                        sscma_i8_a_fill(be, A, at + kx1 * C, zp, (op->kw - kx1) * C);
                        at += (int64_t)op->kw * C;
                        continue;
                    }
                    for (int64_t kx = 0; kx < op->kw; kx++, at += C) {
                        int64_t ix = ix0 + kx * op->dil_w;
                        if (ix < 0 || ix >= W)
                            sscma_i8_a_fill(be, A, at, zp, C);
                        else
                            sscma_i8_a_copy(be, A, at, row + ix * C, C);
                    }
                }
            }
            if (K < k_pad)
                sscma_i8_a_fill(be, A, r * k_pad + K, 0, k_pad - K);
        }
        int64_t valid = M - t * I8_MR < I8_MR ? M - t * I8_MR : I8_MR;
        if (conv && sscma_i8_tile_requant(be, A, op->lut, k_pad, n_pad, OC, (int)valid, op->bias_eff, op->mult,
                                          op->shift, out_zp, op->act_min, op->act_max, yd + t * I8_MR * OC, OC))
            continue;
        sscma_i8_tile(be, A, op->lut, k_pad, n_pad, Cm);
        for (int64_t r = 0; r < I8_MR; r++) {
            int64_t m = t * I8_MR + r;
            if (m >= M)
                break;
            if (conv) {
                sscma_i8_requant(be, Cm + r * n_pad, op->bias_eff, op->mult, op->shift, 1, OC, out_zp, op->act_min,
                                 op->act_max, yd + m * OC);
            } else {
                fc_requant_row(Cm + r * n_pad, op->bias_eff, op->real_mult, op->n_mult, OC, out_zp, op->act_min,
                               op->act_max, yd + m * OC);
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
    const i8_backend be = (i8_backend)op->backend;
    int32_t acc[512];
    if (op->bias_eff != NULL) {
        /* depth multiplier 1: 64 channels at a time (VNNI), or sixteen with the rest in plain C (AVX2) */
        const int8_t *xs[64];
        const int32_t taps = op->kh * op->kw;
        const int64_t c16 = C / 16 * 16;
        if (be == I8_VNNI && op->dw_flat) {
            for (int64_t r = begin; r < end; r++) {
                int64_t n = r / OH, oy = r % OH, iy0 = oy * op->stride_h - op->pad_t;
                const int8_t *xn = (const int8_t *)qm_buf(j->ex, x) + n * H * W * C;
                for (int32_t fy = 0; fy < op->kh; fy++) {
                    int64_t iy = iy0 + (int64_t)fy * op->dil_h;
                    xs[fy] = iy < 0 || iy >= H ? NULL : xn + iy * W * C;
                }
                if (!sscma_i8_dw_row_vnni(xs, op->kh, op->kw, op->dil_w, op->pad_l, W, OW, op->bias_eff, C, -in_off,
                                          out_zp, op->act_min, op->act_max, (int8_t *)qm_buf(j->ex, y) + r * OW * OC))
                    break; /* not reached: dw_flat is only set where the kernel exists */
            }
            return;
        }
        for (int64_t r = begin; r < end; r++) {
            int64_t n = r / OH, oy = r % OH;
            const int8_t *xn = (const int8_t *)qm_buf(j->ex, x) + n * H * W * C;
            int8_t *yr = (int8_t *)qm_buf(j->ex, y) + r * OW * OC;
            int64_t iy0 = oy * op->stride_h - op->pad_t;
            for (int64_t ox = 0; ox < OW; ox++) {
                int64_t ix0 = ox * op->stride_w - op->pad_l;
                for (int32_t fy = 0; fy < op->kh; fy++)
                    for (int32_t fx = 0; fx < op->kw; fx++) {
                        int64_t iy = iy0 + fy * op->dil_h, ix = ix0 + fx * op->dil_w;
                        xs[fy * op->kw + fx] = iy < 0 || iy >= H || ix < 0 || ix >= W ? NULL : xn + (iy * W + ix) * C;
                    }
                if (be == I8_VNNI && sscma_i8_dw_requant_vnni(xs, taps, op->bias_eff, C, -in_off, out_zp,
                                                               op->act_min, op->act_max, yr + ox * OC))
                    continue; /* every channel, 64 at a time */
                for (int64_t c0 = 0; c0 < C; c0 += 512) {
                    int64_t cn = C - c0 < 512 ? C - c0 : 512, cv = c0 + cn <= c16 ? cn : c16 - c0;
                    const int8_t *xo[64];
                    for (int32_t t = 0; t < taps; t++)
                        xo[t] = xs[t] != NULL ? xs[t] + c0 : NULL;
                    const int16_t *pk = (const int16_t *)op->bias_eff + (c0 / 16) * ((taps + 1) / 2) * 32;
                    if (cv == cn && sscma_i8_dw_requant16(xo, taps, pk, cv, -in_off, bias != NULL ? bias + c0 : NULL,
                                                          op->mult + c0, op->shift + c0, out_zp, op->act_min,
                                                          op->act_max, yr + ox * OC + c0))
                        continue; /* all sixteen-channel blocks, requantized in registers */
                    if (cv > 0)
                        sscma_i8_dw_acc16(xo, taps, pk, cv, -in_off, acc);
                    for (int64_t c = cv > 0 ? cv : 0; c < cn; c++) {
                        int32_t sum = 0;
                        for (int32_t t = 0; t < taps; t++)
                            if (xo[t] != NULL)
                                sum += ((int32_t)xo[t][c] + in_off) * (int32_t)wd[t * OC + c0 + c];
                        acc[c] = sum;
                    }
                    sscma_i8_requant(be, acc, bias != NULL ? bias + c0 : NULL, op->mult + c0, op->shift + c0, 1, cn,
                                     out_zp, op->act_min, op->act_max, yr + ox * OC + c0);
                }
            }
        }
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / OH, oy = r % OH;
        const int8_t *xn = (const int8_t *)qm_buf(j->ex, x) + n * H * W * C;
        int8_t *yr = (int8_t *)qm_buf(j->ex, y) + r * OW * OC;
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
                sscma_i8_requant(be, acc, NULL, op->mult + c0, op->shift + c0, 1, cn, out_zp, op->act_min,
                                 op->act_max, yr + ox * OC + c0);
            }
        }
    }
}

static void add_range(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *a = &j->q->t[op->in[0]], *b = &j->q->t[op->in[1]], *y = &j->q->t[op->out];
    i8_backend be = j->q->backend >= 0 ? (i8_backend)j->q->backend : sscma_i8_backend_cached();
    const int8_t *ad = qm_buf(j->ex, a), *bd = qm_buf(j->ex, b);
    int8_t *yd = qm_buf(j->ex, y);
    sscma_i8_add(be, ad + begin, bd + begin, end - begin, -a->zero_point[0],
                 -b->zero_point[0], op->left_shift, op->in_mult[0], op->in_shift[0], op->in_mult[1], op->in_shift[1],
                 op->mult[0], op->shift[0], y->zero_point[0], op->act_min, op->act_max, yd + begin);
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
        const int8_t *xn = (const int8_t *)qm_buf(j->ex, x) + n * H * W * C;
        int8_t *yr = (int8_t *)qm_buf(j->ex, y) + r * OW * C;
        int64_t iy0 = oy * op->stride_h - op->pad_t;
        int64_t fy0, fy1; /* a window entirely in the padding has no elements */
        sscma_i8_window_run(iy0, H, op->kh, &fy0, &fy1);
        for (int64_t ox = 0; ox < OW; ox++) {
            int64_t ix0 = ox * op->stride_w - op->pad_l;
            int64_t fx0, fx1;
            sscma_i8_window_run(ix0, W, op->kw, &fx0, &fx1);
            int32_t count = (int32_t)((fy1 - fy0) * (fx1 - fx0));
            for (int64_t c0 = 0; c0 < C; c0 += 256) { /* the window's pixels summed channel-wise, 256 at a time */
                const int64_t cn = C - c0 < 256 ? C - c0 : 256;
                int32_t acc[256];
                for (int64_t c = 0; c < cn; c++)
                    acc[c] = avg ? 0 : -128;
                for (int64_t fy = fy0; fy < fy1; fy++)
                    for (int64_t fx = fx0; fx < fx1; fx++) {
                        const int8_t *xp = xn + ((iy0 + fy) * W + ix0 + fx) * C + c0;
                        if (avg)
                            for (int64_t c = 0; c < cn; c++)
                                acc[c] += xp[c];
                        else
                            for (int64_t c = 0; c < cn; c++)
                                acc[c] = xp[c] > acc[c] ? xp[c] : acc[c];
                    }
                int8_t *yp = yr + ox * C + c0;
                /* TFLite's rounding division, half away from zero, truncated: the quotient is within +-129, so the
                 * double's error (under 2^-45) stays below the 1 / count that separates it from an integer */
                if (avg && count > 0)
                    for (int64_t c = 0; c < cn; c++)
                        acc[c] = (int32_t)((double)(acc[c] + (acc[c] > 0 ? count / 2 : -(count / 2))) / count);
                for (int64_t c = 0; c < cn; c++)
                    yp[c] = (int8_t)qm_clamp_i32(acc[c], op->act_min, op->act_max);
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
        const int8_t *xr = (const int8_t *)qm_buf(j->ex, x) + r * depth;
        int8_t *yr = (int8_t *)qm_buf(j->ex, y) + r * depth;
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
                yr[c] = (int8_t)qm_clamp_i32(v, -128, 127);
            } else {
                yr[c] = -128;
            }
        }
    }
}

/* TFLite's float -> int8/uint8 QUANTIZE of one value: (int32)roundf(x / scale) + zp, the division in float. */
static inline int32_t quantize_float(float x, float scale, int32_t zp)
{
    float r = roundf(x / scale);
    /* x86 turns NaN, infinities and values beyond int32 into INT32_MIN when it converts; TFLite inherits that */
    int32_t q = r >= -2147483648.0f && r < 2147483648.0f ? (int32_t)r : INT32_MIN;
    return (int32_t)((uint32_t)q + (uint32_t)zp);
}

/*
 * QUANTIZE: int8/uint8 -> int8/uint8 as TFLite requantizes (x - zp_x through the multiplier of s_x / s_y, plus zp_y,
 * clamped to the output type), or float -> int8/uint8.
 */
static void requant_range(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const i8_job *j = arg;
    const qm_op *op = j->op;
    const qm_tensor *x = &j->q->t[op->in[0]], *y = &j->q->t[op->out];
    const void *xd = qm_buf(j->ex, x);
    void *yd = qm_buf(j->ex, y);
    const bool yu = y->dtype == SSCMA_DTYPE_U8;
    const int32_t lo = yu ? 0 : -128, hi = yu ? 255 : 127;
    for (int64_t i = begin; i < end; i++) {
        int32_t v = x->dtype == SSCMA_DTYPE_F32
                        ? quantize_float(((const float *)xd)[i], y->scale[0], y->zero_point[0])
                        : fx_mul_by_qm(qm_load_q(xd, x->dtype == SSCMA_DTYPE_U8, i) - x->zero_point[0], op->mult[0],
                                       op->shift[0]) + y->zero_point[0];
        v = qm_clamp_i32(v, lo, hi);
        if (yu)
            ((uint8_t *)yd)[i] = (uint8_t)v;
        else
            ((int8_t *)yd)[i] = (int8_t)v;
    }
}

/* DEQUANTIZE: (float)((double)scale * (x - zp)), as TFLite's reference kernel (the product exact in double). */
sscma_status qm_i8_dequantize(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const void *xd = qm_buf(ex, x);
    float *yd = qm_buf(ex, y);
    const bool u8 = x->dtype == SSCMA_DTYPE_U8;
    const int64_t n = (int64_t)(qm_bytes(ex, y) / sizeof(float));
    for (int64_t i = 0; i < n; i++)
        yd[i] = (float)((double)x->scale[0] * (double)(qm_load_q(xd, u8, i) - x->zero_point[0]));
    return SSCMA_OK;
}

sscma_status qm_i8_prepare_none(sscma_qmodel *q, qm_op *op)
{
    (void)q, (void)op;
    return SSCMA_OK;
}

static void concat_i8(const qm_exec *ex, const qm_op *op)
{
    const sscma_qmodel *q = ex->q;
    const qm_tensor *y = &q->t[op->out];
    int64_t outer = ex->batch, inner_y = 1;
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
            memcpy((int8_t *)qm_buf(ex, y) + o * inner_y + offset, (const int8_t *)qm_buf(ex, x) + o * inner,
                   (size_t)inner);
        offset += inner;
    }
}

static void pad_i8(const qm_exec *ex, const qm_op *op)
{
    const sscma_qmodel *q = ex->q;
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    const int64_t H = x->dims[1], W = x->dims[2], C = x->dims[3], OH = y->dims[1], OW = y->dims[2];
    /* the pad value in the output's quantization: zp for PAD, PADV2's constant (whose parameters are the output's) */
    const int32_t v = qm_clamp_i32(y->zero_point[0] + (int32_t)lrintf(op->pad_value / y->scale[0]), -128, 127);
    /* only the border is filled: each output byte is written once (the copied rows are not cleared first) */
    int8_t *yd = qm_buf(ex, y);
    const int8_t *xd = qm_buf(ex, x);
    const int64_t row = OW * C, left = (int64_t)op->pad_l * C, right = row - left - W * C;
    for (int64_t n = 0; n < ex->batch; n++) {
        int8_t *yn = yd + n * OH * row;
        memset(yn, (int8_t)v, (size_t)(op->pad_t * row));
        for (int64_t iy = 0; iy < H; iy++) {
            int8_t *yr = yn + (iy + op->pad_t) * row;
            memset(yr, (int8_t)v, (size_t)left);
            memcpy(yr + left, xd + (n * H + iy) * W * C, (size_t)(W * C));
            memset(yr + left + W * C, (int8_t)v, (size_t)right);
        }
        memset(yn + (op->pad_t + H) * row, (int8_t)v, (size_t)((OH - op->pad_t - H) * row));
    }
}

/* Splits `count` rows (or elements) of op over the pool, at least min_per_task each. */
sscma_status qm_parallel_op(const qm_exec *ex, const qm_op *op, int64_t count, int64_t min_per_task,
                            sscma_task_fn fn)
{
    i8_job j = {ex, ex->q, op};
    sscma_parallel_for(ex->pool, count, min_per_task, fn, &j);
    return SSCMA_OK;
}

sscma_status qm_i8_conv(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *y = &ex->q->t[op->out];
    int64_t rows = ex->batch * y->dims[1];
    if (op->groups > 1)
        return qm_parallel_op(ex, op, rows, 1, dw_rows);
    return qm_parallel_op(ex, op, (rows * y->dims[2] + I8_MR - 1) / I8_MR, 4, gemm_tiles);
}

sscma_status qm_i8_fc(const qm_exec *ex, const qm_op *op)
{
    return qm_parallel_op(ex, op, (fc_rows(ex, op) + I8_MR - 1) / I8_MR, 1, gemm_tiles);
}

sscma_status qm_i8_add(const qm_exec *ex, const qm_op *op)
{
    return qm_parallel_op(ex, op, (int64_t)ex->buf_bytes[op->out], 4096, add_range);
}

sscma_status qm_i8_pool(const qm_exec *ex, const qm_op *op)
{
    return qm_parallel_op(ex, op, ex->batch * ex->q->t[op->out].dims[1], 1, pool_rows);
}

sscma_status qm_i8_softmax(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    return qm_parallel_op(ex, op, (int64_t)qm_bytes(ex, y) / x->dims[x->rank - 1], 16, softmax_rows);
}

sscma_status qm_i8_requant(const qm_exec *ex, const qm_op *op)
{
    if (op->lut != NULL) { /* 8 bits to 8 bits: the table of qm_i8_prepare_requant */
        const uint8_t *t = op->lut, *x = qm_buf(ex, &ex->q->t[op->in[0]]);
        uint8_t *y = qm_buf(ex, &ex->q->t[op->out]);
        const int64_t n = (int64_t)ex->buf_bytes[op->out];
        for (int64_t i = 0; i < n; i++)
            y[i] = t[x[i]];
        return SSCMA_OK;
    }
    return qm_parallel_op(ex, op, (int64_t)ex->buf_bytes[op->out], 4096, requant_range);
}

/* Reshape: the same bytes under another shape. */
sscma_status qm_i8_copy(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    memcpy(qm_buf(ex, y), qm_buf(ex, x), qm_bytes(ex, y));
    return SSCMA_OK;
}

/* Logistic and hard swish: one lookup per element in the table prepared for the op. */
sscma_status qm_i8_lut(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const int8_t *lut = op->lut, *xd = qm_buf(ex, x);
    int8_t *yd = qm_buf(ex, y);
    const int64_t n = (int64_t)qm_bytes(ex, y);
    for (int64_t k = 0; k < n; k++)
        yd[k] = lut[(uint8_t)xd[k]];
    return SSCMA_OK;
}

sscma_status qm_i8_concat(const qm_exec *ex, const qm_op *op)
{
    concat_i8(ex, op);
    return SSCMA_OK;
}

sscma_status qm_i8_pad(const qm_exec *ex, const qm_op *op)
{
    pad_i8(ex, op);
    return SSCMA_OK;
}

/* Every op through its kind's kernel: one indirect call per op, the specialisations were chosen at prepare. */
sscma_status sscma_qm_run_int8(sscma_qplan *p)
{
    const sscma_qmodel *q = p->q;
    const qm_exec ex = sscma_qm_exec(p);
    for (int32_t i = 0; i < q->n_ops; i++) {
        const qm_op *op = &q->ops[i];
        const qm_kind_def *def = sscma_qm_kind(op->kind);
        sscma_status st = def != NULL ? def->run_int8(&ex, op)
                                      : sscma_fail(SSCMA_ERR_UNSUPPORTED, op->name, "op kind %d has no int8 kernel",
                                                   (int)op->kind);
        if (st != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}
