/*
 * Element-wise activations, forward and backward side by side (PyTorch definitions, derivatives from the input x):
 *   relu        y = max(x, 0)                       dx += dy * (x > 0)
 *   relu6       y = min(max(x, 0), 6)               dx += dy * (0 < x < 6)
 *   leaky_relu  y = x > 0 ? x : a x                 dx += dy * (x > 0 ? 1 : a)
 *   sigmoid     y = 1 / (1 + e^-x)                  dx += dy * y (1 - y)
 *   silu        y = x sigmoid(x)                    dx += dy * s (1 + x (1 - s)),  s = sigmoid(x)
 *   hardswish   y = x relu6(x + 3) / 6              dx += dy * (x <= -3 ? 0 : x >= 3 ? 1 : (2x + 3) / 6)
 *   hardsigmoid y = relu6(x + 3) / 6                dx += dy * (-3 < x < 3 ? 1/6 : 0)
 *   tanh        y = tanh(x)                         dx += dy * (1 - y^2)
 */
#include <math.h>

#include "ops/op.h"

typedef sscma_act_kind act_kind;

static const char *const act_names[] = {"none", "relu", "relu6", "leaky_relu", "sigmoid", "silu",
                                        "hardswish", "hardsigmoid", "tanh"};

static sscma_status act_infer_kind(act_kind kind, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                   int32_t *n_out, sscma_op_sizes *sizes)
{
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, act_names[kind], "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require(act_names[kind], "input", &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/* min(max(v, 0), 6) written so that it vectorises (compare and blend) and NaN passes through. */
static inline float clamp06(float v)
{
    v = v < 0.0f ? 0.0f : v;
    return v > 6.0f ? 6.0f : v;
}

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

typedef struct act_job {
    act_kind kind;
    float slope;
    const float *x, *dy;
    float *y, *dx;
} act_job;

SSCMA_KERNEL static void forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const act_job *j = arg;
    const float *x = j->x;
    float *y = j->y;
    switch (j->kind) {
    case SSCMA_ACT_NONE:
        if (x != y)
            for (int64_t i = begin; i < end; i++) y[i] = x[i];
        break;
    case SSCMA_ACT_RELU: for (int64_t i = begin; i < end; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i]; break;
    case SSCMA_ACT_RELU6: for (int64_t i = begin; i < end; i++) y[i] = clamp06(x[i]); break;
    case SSCMA_ACT_LEAKY_RELU: for (int64_t i = begin; i < end; i++) y[i] = x[i] > 0.0f ? x[i] : j->slope * x[i]; break;
    case SSCMA_ACT_SIGMOID: for (int64_t i = begin; i < end; i++) y[i] = sigmoidf(x[i]); break;
    case SSCMA_ACT_SILU: for (int64_t i = begin; i < end; i++) y[i] = x[i] * sigmoidf(x[i]); break;
    case SSCMA_ACT_HARDSWISH:
        for (int64_t i = begin; i < end; i++) y[i] = x[i] * clamp06(x[i] + 3.0f) / 6.0f;
        break;
    case SSCMA_ACT_HARDSIGMOID:
        for (int64_t i = begin; i < end; i++) y[i] = clamp06(x[i] + 3.0f) / 6.0f;
        break;
    case SSCMA_ACT_TANH: for (int64_t i = begin; i < end; i++) y[i] = tanhf(x[i]); break;
    }
}

SSCMA_KERNEL static void backward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const act_job *j = arg;
    const float *x = j->x, *y = j->y, *dy = j->dy;
    float *dx = j->dx;
    switch (j->kind) {
    case SSCMA_ACT_NONE: for (int64_t i = begin; i < end; i++) dx[i] += dy[i]; break;
    case SSCMA_ACT_RELU: for (int64_t i = begin; i < end; i++) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f; break;
    case SSCMA_ACT_RELU6:
        for (int64_t i = begin; i < end; i++) dx[i] += (x[i] > 0.0f && x[i] < 6.0f) ? dy[i] : 0.0f;
        break;
    case SSCMA_ACT_LEAKY_RELU: for (int64_t i = begin; i < end; i++) dx[i] += x[i] > 0.0f ? dy[i] : j->slope * dy[i]; break;
    case SSCMA_ACT_SIGMOID: for (int64_t i = begin; i < end; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]); break;
    case SSCMA_ACT_SILU:
        for (int64_t i = begin; i < end; i++) {
            float s = sigmoidf(x[i]);
            dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
        }
        break;
    case SSCMA_ACT_HARDSWISH:
        for (int64_t i = begin; i < end; i++) {
            float g = x[i] <= -3.0f ? 0.0f : x[i] >= 3.0f ? 1.0f : (2.0f * x[i] + 3.0f) / 6.0f;
            dx[i] += dy[i] * g;
        }
        break;
    case SSCMA_ACT_HARDSIGMOID:
        for (int64_t i = begin; i < end; i++) dx[i] += (x[i] > -3.0f && x[i] < 3.0f) ? dy[i] / 6.0f : 0.0f;
        break;
    case SSCMA_ACT_TANH: for (int64_t i = begin; i < end; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]); break;
    }
}

void sscma_act_apply(sscma_pool *pool, sscma_act_kind kind, float negative_slope, const float *x, float *y, int64_t n)
{
    act_job job = {kind, negative_slope, x, NULL, y, NULL};
    sscma_parallel_for(pool, n, 16384, forward_task, &job);
}

static sscma_status act_forward_kind(act_kind kind, const sscma_op_exec *e)
{
    const sscma_act_attrs *a = e->attrs;
    act_job job = {kind, a != NULL ? a->negative_slope : 0.0f, e->in[0].data, NULL, e->out[0].data, NULL};
    sscma_parallel_for(e->pool, sscma_desc_numel(&e->in[0].desc), 16384, forward_task, &job);
    return SSCMA_OK;
}

static void act_backward_kind(act_kind kind, const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data == NULL)
        return;
    const sscma_act_attrs *a = e->attrs;
    act_job job = {kind, a != NULL ? a->negative_slope : 0.0f, e->in[0].data, dout[0].data, e->out[0].data,
                   din[0].data};
    sscma_parallel_for(e->pool, sscma_desc_numel(&e->in[0].desc), 16384, backward_task, &job);
}

static const sscma_attr_field leaky_fields[] = {
    SSCMA_ATTR(sscma_act_attrs, negative_slope, SSCMA_ATTR_F32, 0.01),
    SSCMA_ATTR_END,
};
static const sscma_attr_field no_fields[] = {SSCMA_ATTR_END};

#define DEFINE_ACT(ident, op_id, kind, fields)                                                                \
    static sscma_status ident##_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out, \
                                      int32_t *n_out, sscma_op_sizes *sizes)                                   \
    {                                                                                                          \
        (void)attrs;                                                                                           \
        return act_infer_kind(kind, in, n_in, out, n_out, sizes);                                              \
    }                                                                                                          \
    static sscma_status ident##_forward(const sscma_op_exec *e) { return act_forward_kind(kind, e); }          \
    static void ident##_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)          \
    {                                                                                                          \
        act_backward_kind(kind, e, dout, din);                                                                 \
    }                                                                                                          \
    const sscma_op_def sscma_op_##ident = {                                                                    \
        .id = op_id, .name = #ident,                                                                           \
        .attrs_size = sizeof(sscma_act_attrs),                                                                 \
        .min_inputs = 1,                                                                                       \
        .max_inputs = 1,                                                                                       \
        .infer = ident##_infer,                                                                                \
        .forward = ident##_forward,                                                                            \
        .backward = ident##_backward,                                                                          \
        .attr_fields = fields,                                                                                 \
    };

DEFINE_ACT(relu, SSCMA_OP_RELU, SSCMA_ACT_RELU, no_fields)
DEFINE_ACT(relu6, SSCMA_OP_RELU6, SSCMA_ACT_RELU6, no_fields)
DEFINE_ACT(leaky_relu, SSCMA_OP_LEAKY_RELU, SSCMA_ACT_LEAKY_RELU, leaky_fields)
DEFINE_ACT(sigmoid, SSCMA_OP_SIGMOID, SSCMA_ACT_SIGMOID, no_fields)
DEFINE_ACT(silu, SSCMA_OP_SILU, SSCMA_ACT_SILU, no_fields)
DEFINE_ACT(hardswish, SSCMA_OP_HARDSWISH, SSCMA_ACT_HARDSWISH, no_fields)
DEFINE_ACT(hardsigmoid, SSCMA_OP_HARDSIGMOID, SSCMA_ACT_HARDSIGMOID, no_fields)
DEFINE_ACT(tanh, SSCMA_OP_TANH, SSCMA_ACT_TANH, no_fields)
