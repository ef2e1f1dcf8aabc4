/*
 * Elementwise activations that come from other producers' TFLite files: clamp (TFLite RELU, RELU6, RELU_N1_TO_1),
 * leaky ReLU, tanh and exp. Float kernels, and int8 lookup tables computed exactly as TFLite's reference kernels
 * compute each value (docs/export.md; checked exhaustively by the tflite-ops-reference test). Their rows:
 * qm_kinds.c and export/kinds.c; their TFLite functions: export/tflite_activations.c.
 */
#include <math.h>

#include "quant/fixedpoint.h"
#include "quant/qm_kernel.h"
#include "quant/qm_kinds.h"

sscma_status qm_f32_clamp(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const float *xd = qm_buf(ex, x);
    float *yd = qm_buf(ex, y);
    const int64_t n = sscma_qm_numel(y) / y->dims[0] * ex->batch;
    for (int64_t k = 0; k < n; k++)
        yd[k] = fminf(fmaxf(xd[k], op->clip_lo), op->clip_hi);
    return SSCMA_OK;
}

sscma_status qm_f32_leaky_relu(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const float *xd = qm_buf(ex, x);
    float *yd = qm_buf(ex, y);
    const int64_t n = sscma_qm_numel(y) / y->dims[0] * ex->batch;
    for (int64_t k = 0; k < n; k++)
        yd[k] = xd[k] >= 0.0f ? xd[k] : xd[k] * op->alpha;
    return SSCMA_OK;
}

sscma_status qm_f32_tanh(const qm_exec *ex, const qm_op *op)
{
    return qm_f32_map(ex, op, tanhf);
}

sscma_status qm_f32_exp(const qm_exec *ex, const qm_op *op)
{
    return qm_f32_map(ex, op, expf);
}

/*
 * TFLite's quantized RELU / RELU6 / RELU_N1_TO_1: y = zp_y + x' * (s_x / s_y) with x' = x - zp_x, clamped to the
 * quantized range [zp_y + round(lo / s_y), zp_y + round(hi / s_y)] within int8 (hi infinite: 127). One table entry
 * per input value computes exactly that.
 */
sscma_status qm_i8_prepare_clamp(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st = qm_need(op, op->clip_lo <= op->clip_hi, "the range is empty");
    if (st != SSCMA_OK || (st = qm_alloc_lut(q, op)) != SSCMA_OK)
        return st;
    int32_t mult, shift; /* the ratio in float, as TFLite's kernel computes it (a tie can depend on it) */
    sscma_quantize_multiplier((double)(x->scale[0] / y->scale[0]), &mult, &shift);
    const int32_t zy = y->zero_point[0];
    float qlo = roundf(op->clip_lo / y->scale[0]), qhi = roundf(op->clip_hi / y->scale[0]);
    int32_t lo = qlo <= -512.0f ? -128 : qm_clamp_i32(zy + (int32_t)qlo, -128, 127);
    int32_t hi = isinf(op->clip_hi) || qhi >= 512.0f ? 127 : qm_clamp_i32(zy + (int32_t)qhi, -128, 127);
    int8_t *lut = op->lut;
    for (int32_t v = -128; v <= 127; v++) {
        int32_t r = zy + fx_mul_by_qm(v - x->zero_point[0], mult, shift);
        lut[(uint8_t)(int8_t)v] = (int8_t)qm_clamp_i32(qm_clamp_i32(r, lo, hi), -128, 127);
    }
    return SSCMA_OK;
}

/*
 * TFLite's quantized LEAKY_RELU: x' = x - zp_x; y = zp_y + x' * (s_x / s_y) for x' >= 0, zp_y + x' * (alpha * s_x /
 * s_y) below, each ratio a quantized multiplier, clamped to int8.
 */
sscma_status qm_i8_prepare_leaky_relu(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    sscma_status st = qm_need(op, isfinite(op->alpha), "alpha must be finite");
    if (st != SSCMA_OK || (st = qm_alloc_lut(q, op)) != SSCMA_OK)
        return st;
    int32_t m_id, s_id, m_a, s_a;
    /* both ratios in float, as TFLite's kernel computes them */
    sscma_quantize_multiplier((double)(x->scale[0] / y->scale[0]), &m_id, &s_id);
    sscma_quantize_multiplier((double)(x->scale[0] * op->alpha / y->scale[0]), &m_a, &s_a);
    int8_t *lut = op->lut;
    for (int32_t v = -128; v <= 127; v++) {
        int32_t d = v - x->zero_point[0];
        /* a negative multiplier (alpha < 0) is applied as TFLite does: the negated product of its magnitude */
        int32_t neg = m_a < 0 ? (m_a == INT32_MIN ? INT32_MAX : -m_a) : 0;
        int32_t r = y->zero_point[0] + (d >= 0  ? fx_mul_by_qm(d, m_id, s_id)
                                        : m_a < 0 ? -fx_mul_by_qm(d, neg, s_a)
                                                  : fx_mul_by_qm(d, m_a, s_a));
        lut[(uint8_t)(int8_t)v] = (int8_t)qm_clamp_i32(r, -128, 127);
    }
    return SSCMA_OK;
}

sscma_status qm_i8_prepare_tanh(sscma_qmodel *q, qm_op *op)
{
    sscma_status st = qm_alloc_lut(q, op);
    if (st == SSCMA_OK)
        qm_function_table(&q->t[op->in[0]], &q->t[op->out], tanhf, op->lut);
    return st;
}

sscma_status qm_i8_prepare_exp(sscma_qmodel *q, qm_op *op)
{
    sscma_status st = qm_alloc_lut(q, op);
    if (st == SSCMA_OK)
        qm_function_table(&q->t[op->in[0]], &q->t[op->out], expf, op->lut);
    return st;
}
