/*
 * Fake quantization for quantization-aware training (lib/quant/qat.c inserts these ops).
 *
 * fake_quant_act: x, state [4] = {min, max, initialized, observing} (a buffer, saved with the model).
 *   training forward while observing: the batch's min and max, moving-averaged into the state
 *   (first batch: taken as is; then r += c (batch - r), c = averaging_constant, PyTorch's MovingAverageMinMax);
 *   y = (clamp(round(x / s) + z, -128, 127) - z) s, with s, z from the state as post-training quantization
 *   computes them (docs/export.md); before the first observation y = x.
 *   backward (straight-through estimator): dx += dy where round(x / s) + z lies in -128..127, else nothing.
 * fake_quant_weight: w [O, ...], optionally gamma [O] and running_var [O] of the batch norm that follows.
 *   s_o = gamma_o / sqrt(var_o + eps) (1 without a batch norm); per output channel (or per tensor)
 *   q = max |w s| / 127; y = clamp(round(w s / q), -127, 127) q / s: the convolution then computes
 *   conv(x, FQ(w s)) / s, and the batch norm after it (PyTorch's ConvBn QAT folding).
 *   backward: dw += dy (the symmetric max-based scale never clips); no gradient flows to gamma or running_var
 *   through the fold (they are treated as constants here; gamma learns through the batch norm itself).
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"

/* The asymmetric int8 parameters of [lo, hi] (as lib/quant/ptq.c's act_params: 0 included, minimum range). */
static void range_params(double lo, double hi, float *scale, int32_t *zp)
{
    lo = lo < 0.0 ? lo : 0.0;
    hi = hi > 0.0 ? hi : 0.0;
    if (!(hi - lo >= 255.0 / 16777216.0))
        hi = lo + 255.0 / 16777216.0;
    float s = (float)((hi - lo) / 255.0);
    double z = round(-128.0 - lo / (double)s);
    *scale = s;
    *zp = (int32_t)(z < -128.0 ? -128.0 : z > 127.0 ? 127.0 : z);
}

void sscma_fq_range_params(double lo, double hi, float *scale, int32_t *zp)
{
    range_params(lo, hi, scale, zp);
}

static sscma_status act_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out, int32_t *n_out,
                              sscma_op_sizes *sizes)
{
    (void)attrs;
    sscma_status st = sscma_desc_require("fake_quant_act", "input 0", &in[0], SSCMA_DTYPE_F32, -1);
    if (st == SSCMA_OK && (n_in != 2 || sscma_desc_numel(&in[1]) != 4))
        st = sscma_fail(SSCMA_ERR_SHAPE, "fake_quant_act", "takes x and a state of 4 values");
    if (st != SSCMA_OK)
        return st;
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/*
 * roundf (half away from zero) of v clamped to +-2^20 (enough: the callers clamp to -128..127 after), written so
 * that the compiler vectorizes it: (v + 1.5 * 2^23) - 1.5 * 2^23 rounds to nearest even, and an exact tie (|v - r| =
 * 0.5) is then moved away from zero, where v +- 0.5 is exact.
 */
static inline float round_away(float v)
{
    v = v < -1048576.0f ? -1048576.0f : v > 1048576.0f ? 1048576.0f : v;
    float r = (v + 12582912.0f) - 12582912.0f;
    float d = v - r;
    return d == 0.5f || d == -0.5f ? v + (v < 0.0f ? -0.5f : 0.5f) : r;
}

typedef struct fq_job {
    const float *x, *dy;
    float *y, *dx;
    float s, z;
} fq_job;

SSCMA_KERNEL static void fq_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const fq_job *j = arg;
    const float *restrict x = j->x;
    float *restrict y = j->y;
    const float s = j->s, z = j->z;
    for (int64_t i = begin; i < end; i++) {
        float q = round_away(x[i] / s) + z;
        q = q < -128.0f ? -128.0f : q > 127.0f ? 127.0f : q;
        y[i] = (q - z) * s;
    }
}

SSCMA_KERNEL static void ste_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const fq_job *j = arg;
    const float *restrict x = j->x, *restrict dy = j->dy;
    float *restrict dx = j->dx;
    const float s = j->s, z = j->z;
    for (int64_t i = begin; i < end; i++) {
        float q = round_away(x[i] / s) + z;
        dx[i] += q >= -128.0f && q <= 127.0f ? dy[i] : 0.0f;
    }
}

static sscma_status act_forward(const sscma_op_exec *e)
{
    const sscma_fake_quant_attrs *a = e->attrs;
    const float *x = e->in[0].data;
    float *state = e->in[1].data, *y = e->out[0].data;
    int64_t n = sscma_desc_numel(&e->in[0].desc);
    if (e->training && state[3] != 0.0f && n > 0) {
        float mn = x[0], mx = x[0];
        for (int64_t i = 1; i < n; i++) {
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
        }
        if (state[2] == 0.0f) {
            state[0] = mn, state[1] = mx, state[2] = 1.0f;
        } else {
            state[0] += a->averaging_constant * (mn - state[0]);
            state[1] += a->averaging_constant * (mx - state[1]);
        }
    }
    if (state[2] == 0.0f) {
        if (y != x)
            memmove(y, x, (size_t)n * sizeof *y);
        return SSCMA_OK;
    }
    float s;
    int32_t z;
    range_params(state[0], state[1], &s, &z);
    fq_job j = {x, NULL, y, NULL, s, (float)z};
    sscma_parallel_for(e->pool, n, 16384, fq_task, &j);
    return SSCMA_OK;
}

static void act_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data == NULL)
        return;
    const float *x = e->in[0].data, *state = e->in[1].data, *dy = dout[0].data;
    float *dx = din[0].data;
    int64_t n = sscma_desc_numel(&e->in[0].desc);
    if (state[2] == 0.0f) {
        for (int64_t i = 0; i < n; i++)
            dx[i] += dy[i];
        return;
    }
    float s;
    int32_t z;
    range_params(state[0], state[1], &s, &z);
    fq_job j = {x, dy, NULL, dx, s, (float)z};
    sscma_parallel_for(e->pool, n, 16384, ste_task, &j);
}

static sscma_status weight_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                 int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_fake_quant_attrs *a = attrs;
    sscma_status st = sscma_desc_require("fake_quant_weight", "weight", &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    if (in[0].rank < 1 || n_in != (a->has_bn ? 3 : 1))
        return sscma_fail(SSCMA_ERR_SHAPE, "fake_quant_weight", "takes the weight%s",
                          a->has_bn ? ", gamma and running_var" : " alone");
    for (int32_t i = 1; i < n_in; i++)
        if (in[i].rank != 1 || in[i].dims[0] != in[0].dims[0])
            return sscma_fail(SSCMA_ERR_SHAPE, "fake_quant_weight", "gamma and running_var need one value per output");
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status weight_forward(const sscma_op_exec *e)
{
    const sscma_fake_quant_attrs *a = e->attrs;
    const float *w = e->in[0].data;
    float *y = e->out[0].data;
    int64_t o_n = e->in[0].desc.dims[0], per = o_n > 0 ? sscma_desc_numel(&e->in[0].desc) / o_n : 0;
    double max_all = 0.0;
    for (int64_t o = 0; o < o_n && !a->per_channel; o++) {
        float s = a->has_bn ? (float)((double)((const float *)e->in[1].data)[o] /
                                      sqrt((double)((const float *)e->in[2].data)[o] + (double)a->eps))
                            : 1.0f;
        for (int64_t k = 0; k < per; k++) {
            double v = fabs((double)(w[o * per + k] * s));
            max_all = v > max_all ? v : max_all;
        }
    }
    for (int64_t o = 0; o < o_n; o++) {
        float s = a->has_bn ? (float)((double)((const float *)e->in[1].data)[o] /
                                      sqrt((double)((const float *)e->in[2].data)[o] + (double)a->eps))
                            : 1.0f;
        double mx = 0.0;
        if (a->per_channel) {
            for (int64_t k = 0; k < per; k++) {
                double v = fabs((double)(w[o * per + k] * s));
                mx = v > mx ? v : mx;
            }
        } else {
            mx = max_all;
        }
        float q = mx > 0.0 ? (float)(mx / 127.0) : 1.0f;
        for (int64_t k = 0; k < per; k++) {
            if (s == 0.0f) {
                y[o * per + k] = 0.0f;
                continue;
            }
            float r = roundf(w[o * per + k] * s / q);
            r = r < -127.0f ? -127.0f : r > 127.0f ? 127.0f : r;
            y[o * per + k] = r * q / s;
        }
    }
    return SSCMA_OK;
}

static void weight_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data == NULL)
        return;
    int64_t n = sscma_desc_numel(&e->in[0].desc);
    const float *dy = dout[0].data;
    float *dw = din[0].data;
    for (int64_t i = 0; i < n; i++)
        dw[i] += dy[i];
}

static const sscma_attr_field fq_fields[] = {
    SSCMA_ATTR(sscma_fake_quant_attrs, averaging_constant, SSCMA_ATTR_F32, 0.01),
    SSCMA_ATTR(sscma_fake_quant_attrs, eps, SSCMA_ATTR_F32, 1e-5),
    SSCMA_ATTR(sscma_fake_quant_attrs, per_channel, SSCMA_ATTR_BOOL, 1),
    SSCMA_ATTR(sscma_fake_quant_attrs, has_bn, SSCMA_ATTR_BOOL, 0),
    SSCMA_ATTR_END,
};

const sscma_op_def sscma_op_fake_quant_act = {
    .id = SSCMA_OP_FAKE_QUANT_ACT,
    .name = "fake_quant_act",
    .attrs_size = sizeof(sscma_fake_quant_attrs),
    .min_inputs = 2,
    .max_inputs = 2,
    .nondiff_inputs = 1u << 1,
    .infer = act_infer,
    .forward = act_forward,
    .backward = act_backward,
    .attr_fields = fq_fields,
};

const sscma_op_def sscma_op_fake_quant_weight = {
    .id = SSCMA_OP_FAKE_QUANT_WEIGHT,
    .name = "fake_quant_weight",
    .attrs_size = sizeof(sscma_fake_quant_attrs),
    .min_inputs = 1,
    .max_inputs = 3,
    .nondiff_inputs = (1u << 1) | (1u << 2),
    .infer = weight_infer,
    .forward = weight_forward,
    .backward = weight_backward,
    .attr_fields = fq_fields,
};
