/* The deployable model: construction, the public runtime API, and the float runtime over the op table's kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/qm_kernel.h"
#include "quant/qm_kinds.h"
#include "quant/qmodel.h"

int64_t sscma_qm_numel(const qm_tensor *t)
{
    int64_t n = 1;
    for (int32_t i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

#if !defined(SSCMA_MICRO) /* descriptions for the op table's kernels and tensor views */
sscma_desc sscma_qm_desc(const qm_tensor *t, int64_t batch)
{
    sscma_desc d = sscma_desc_make(t->dtype, t->rank, t->dims);
    if (!t->constant && t->rank > 0)
        d.dims[0] = batch;
    return d;
}
#endif

sscma_status sscma_qm_create(sscma_context *ctx, sscma_qmodel **out)
{
    sscma_qmodel *q = sscma_alloc_zeroed(ctx, sizeof *q, _Alignof(sscma_qmodel));
    if (q == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "qmodel", "cannot allocate a deployable model");
    q->ctx = ctx;
    sscma_context_retain(ctx);
    q->backend = -1;
    q->int8_backend = -1;
    q->plan.q = q;
    q->plan.ctx = ctx;
    *out = q;
    return SSCMA_OK;
}


/* Frees what plan p allocated and leaves it unprepared (batch 0), still bound to its model. */
static void plan_drop(sscma_qplan *p)
{
#if !defined(SSCMA_MICRO) /* no tensor views there (micro.c hands out the buffers) */
    for (int32_t i = 0; i < 4; i++) {
        sscma_tensor_destroy(p->in_views[i]);
        p->in_views[i] = NULL;
    }
    for (int32_t i = 0; i < 8; i++) {
        sscma_tensor_destroy(p->out_views[i]);
        p->out_views[i] = NULL;
    }
#endif
    sscma_free(p->ctx, p->buf, (size_t)p->n_buf * sizeof *p->buf);
    sscma_free(p->ctx, p->buf_bytes, (size_t)p->n_buf * sizeof *p->buf_bytes);
    p->buf = NULL;
    p->buf_bytes = NULL;
    p->n_buf = 0;
    sscma_free(p->ctx, p->arena, p->arena_bytes);
    p->arena = NULL;
    p->arena_bytes = 0;
    sscma_free(p->ctx, p->scratch, p->scratch_bytes);
    p->scratch = NULL;
    p->scratch_bytes = 0;
    sscma_free(p->ctx, p->tile_scratch, p->tile_scratch_bytes);
    p->tile_scratch = NULL;
    p->tile_scratch_bytes = 0;
    p->batch = 0;
}

void sscma_qmodel_destroy(sscma_qmodel *q)
{
    if (q == NULL)
        return;
    plan_drop(&q->plan);
    const sscma_context *ctx = q->ctx;
    for (int32_t i = 0; i < q->n_t; i++) {
        qm_tensor *t = &q->t[i];
        sscma_free_string(ctx, t->name);
        sscma_free(ctx, t->data, t->bytes);
        sscma_free(ctx, t->scale, (size_t)t->n_q * sizeof *t->scale);
        sscma_free(ctx, t->zero_point, (size_t)t->n_q * sizeof *t->zero_point);
    }
    for (int32_t i = 0; i < q->n_ops; i++) {
        qm_op *op = &q->ops[i];
        sscma_free_string(ctx, op->name);
        sscma_free(ctx, op->mult, (size_t)op->n_mult * sizeof *op->mult);
        sscma_free(ctx, op->shift, (size_t)op->n_mult * sizeof *op->shift);
        sscma_free(ctx, op->real_mult, qm_real_mult_bytes(op->n_mult));
        sscma_free(ctx, op->lut, op->lut_bytes);
        sscma_free(ctx, op->bias_eff, (size_t)op->n_pad * sizeof *op->bias_eff);
    }
    sscma_free(ctx, q->t, (size_t)q->cap_t * sizeof *q->t);
    sscma_free(ctx, q->ops, (size_t)q->cap_ops * sizeof *q->ops);
    for (int32_t i = 0; i < q->n_meta; i++) {
        sscma_free_string(ctx, q->meta_key[i]);
        sscma_free_string(ctx, q->meta_value[i]);
    }
    sscma_free(ctx, q, sizeof *q);
    sscma_context_release(ctx);
}

sscma_status sscma_qm_add_tensor(sscma_qmodel *q, const char *name, sscma_dtype dtype, int32_t rank,
                                 const int64_t *dims, bool constant, int32_t *out)
{
    if (rank < 0 || rank > 4)
        return sscma_fail(SSCMA_ERR_SHAPE, name, "deployable tensors have rank 0 to 4, not %d", (int)rank);
    if (q->n_t == q->cap_t) {
        int32_t cap = q->cap_t ? 2 * q->cap_t : 64;
        qm_tensor *t = sscma_alloc_zeroed(q->ctx, (size_t)cap * sizeof *t, _Alignof(qm_tensor));
        if (t == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "qmodel", "cannot grow the tensor table");
        if (q->n_t > 0)
            memcpy(t, q->t, (size_t)q->n_t * sizeof *t);
        sscma_free(q->ctx, q->t, (size_t)q->cap_t * sizeof *q->t);
        q->t = t, q->cap_t = cap;
    }
    qm_tensor *t = &q->t[q->n_t];
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->rank = rank;
    int64_t numel = 1;
    for (int32_t i = 0; i < rank; i++) {
        if (dims[i] < 0 || dims[i] > ((int64_t)1 << 31))
            return sscma_fail(SSCMA_ERR_SHAPE, name, "dimension %d is %lld", (int)i, (long long)dims[i]);
        if (dims[i] > 0 && numel > QM_MAX_ELEMENTS / dims[i])
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, name, "more than %lld elements", (long long)QM_MAX_ELEMENTS);
        numel *= dims[i];
        t->dims[i] = dims[i];
    }
    t->constant = constant;
    t->name = sscma_strdup(q->ctx, name);
    if (t->name == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "qmodel", "cannot copy a tensor name");
    if (constant) {
        size_t esize = 0;
        sscma_dtype_size(dtype, &esize);
        t->bytes = (size_t)sscma_qm_numel(t) * esize;
        if (t->bytes > 0 && (t->data = sscma_alloc_zeroed(q->ctx, t->bytes, 64)) == NULL) {
            sscma_free_string(q->ctx, t->name);
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, name, "cannot allocate %zu bytes", t->bytes);
        }
    }
    *out = q->n_t++;
    return SSCMA_OK;
}

sscma_status sscma_qm_set_quant(sscma_qmodel *q, int32_t tensor, int32_t n, int32_t axis, const float *scale,
                                const int32_t *zero_point)
{
    qm_tensor *t = &q->t[tensor];
    float *s = sscma_alloc(q->ctx, (size_t)n * sizeof *s, _Alignof(float));
    int32_t *z = sscma_alloc(q->ctx, (size_t)n * sizeof *z, _Alignof(int32_t));
    if (s == NULL || z == NULL) {
        sscma_free(q->ctx, s, (size_t)n * sizeof *s);
        sscma_free(q->ctx, z, (size_t)n * sizeof *z);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, t->name, "cannot allocate quantization parameters");
    }
    if (scale != NULL) {
        memcpy(s, scale, (size_t)n * sizeof *s);
        memcpy(z, zero_point, (size_t)n * sizeof *z);
    }
    sscma_free(q->ctx, t->scale, (size_t)t->n_q * sizeof *t->scale);
    sscma_free(q->ctx, t->zero_point, (size_t)t->n_q * sizeof *t->zero_point);
    t->scale = s, t->zero_point = z, t->n_q = n, t->q_axis = n > 1 ? axis : -1;
    return SSCMA_OK;
}

sscma_status sscma_qm_add_op(sscma_qmodel *q, const qm_op *op, int32_t *out)
{
    if (q->n_ops == q->cap_ops) {
        int32_t cap = q->cap_ops ? 2 * q->cap_ops : 64;
        qm_op *ops = sscma_alloc_zeroed(q->ctx, (size_t)cap * sizeof *ops, _Alignof(qm_op));
        if (ops == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "qmodel", "cannot grow the op table");
        if (q->n_ops > 0)
            memcpy(ops, q->ops, (size_t)q->n_ops * sizeof *ops);
        sscma_free(q->ctx, q->ops, (size_t)q->cap_ops * sizeof *q->ops);
        q->ops = ops, q->cap_ops = cap;
    }
    qm_op *o = &q->ops[q->n_ops];
    *o = *op;
    o->mult = o->shift = NULL;
    o->real_mult = NULL;
    o->n_mult = 0;
    o->lut = NULL;
    o->lut_bytes = 0;
    o->bias_eff = NULL;
    o->n_pad = o->k_pad = 0;
    o->name = sscma_strdup(q->ctx, op->name != NULL ? op->name : sscma_qm_kind_name(op->kind));
    if (o->name == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "qmodel", "cannot copy an op name");
    if (out != NULL)
        *out = q->n_ops;
    q->n_ops++;
    return SSCMA_OK;
}

/* ---- validation: what the runtimes and writers rely on ---- */

sscma_status qm_op_fail(const qm_op *op, const char *fmt, const char *detail)
{
    return sscma_fail(SSCMA_ERR_FORMAT, op->name, "%s: %s%s", sscma_qm_kind_name(op->kind), fmt, detail);
}

static int64_t conv_out(int64_t in, int32_t k, int32_t stride, int32_t dil, int32_t pad_a, int32_t pad_b)
{
    int64_t span = (int64_t)dil * (k - 1) + 1;
    int64_t padded = in + pad_a + pad_b;
    return padded < span ? 0 : (padded - span) / stride + 1;
}

bool qm_shape_is(const qm_tensor *t, int32_t rank, const int64_t *dims)
{
    if (t->rank != rank)
        return false;
    for (int32_t i = 1; i < rank; i++)
        if (t->dims[i] != dims[i])
            return false;
    return true;
}

sscma_status qm_validate_conv(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (op->n_in < 2 || x->rank != 4 || q->t[op->in[1]].rank != 4 || !q->t[op->in[1]].constant)
        return qm_op_fail(op, "needs an NHWC input and constant OHWI weights", "");
    const qm_tensor *w = &q->t[op->in[1]];
    if (op->stride_h < 1 || op->stride_w < 1 || op->dil_h < 1 || op->dil_w < 1 || op->groups < 1 ||
        x->dims[3] % op->groups != 0 || w->dims[3] * op->groups != x->dims[3] || w->dims[0] % op->groups ||
        w->dims[1] != op->kh || w->dims[2] != op->kw)
        return qm_op_fail(op, "weights do not match the input channels, kernel or groups", "");
    const int64_t want[4] = {1, conv_out(x->dims[1], op->kh, op->stride_h, op->dil_h, op->pad_t, op->pad_b),
                             conv_out(x->dims[2], op->kw, op->stride_w, op->dil_w, op->pad_l, op->pad_r), w->dims[0]};
    if (!qm_shape_is(y, 4, want))
        return qm_op_fail(op, "output shape does not follow from the input", "");
    if (op->n_in > 2 && (q->t[op->in[2]].rank != 1 || q->t[op->in[2]].dims[0] != w->dims[0]))
        return qm_op_fail(op, "bias must have one value per output channel", "");
    return SSCMA_OK;
}

/*
 * x [1, ..., depth] (rank 2..4) in rows of `depth` = the weights' [units, depth]: either the output keeps x's leading
 * dims (TFLite's keep_num_dims) or it is [rows, units] (TFLite flattens x), rows 1 for a batch of 1.
 */
sscma_status qm_validate_fc(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out], *w = &q->t[op->in[op->n_in > 1 ? 1 : 0]];
    if (op->n_in < 2 || x->rank < 2 || w->rank != 2 || w->dims[1] < 1 || sscma_qm_numel(x) % w->dims[1] != 0)
        return qm_op_fail(op, "needs x [N, ..., in], weights [out, in] and output [N, ..., out]", "");
    int64_t want[4];
    memcpy(want, x->dims, sizeof want);
    want[x->rank - 1] = w->dims[0];
    const int64_t flat[2] = {sscma_qm_numel(x) / w->dims[1], w->dims[0]};
    if (!(x->dims[x->rank - 1] == w->dims[1] && qm_shape_is(y, x->rank, want)) && !qm_shape_is(y, 2, flat))
        return qm_op_fail(op, "needs x [N, ..., in], weights [out, in] and output [N, ..., out]", "");
    if (op->n_in > 2 && (q->t[op->in[2]].rank != 1 || q->t[op->in[2]].dims[0] != w->dims[0]))
        return qm_op_fail(op, "bias must have one value per output", "");
    return SSCMA_OK;
}

sscma_status qm_validate_concat(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (op->axis < 1 || op->axis >= x->rank)
        return qm_op_fail(op, "axis must be a non-batch axis", "");
    int64_t sum = 0;
    for (int32_t k = 0; k < op->n_in; k++) {
        const qm_tensor *t = &q->t[op->in[k]];
        if (t->rank != y->rank)
            return qm_op_fail(op, "inputs must have the output's rank", "");
        for (int32_t d = 1; d < y->rank; d++)
            if (d != op->axis && t->dims[d] != y->dims[d])
                return qm_op_fail(op, "inputs must match the output except along the axis", "");
        sum += t->dims[op->axis];
    }
    if (y->dims[op->axis] != sum)
        return qm_op_fail(op, "output size along the axis is not the sum of the inputs'", "");
    return SSCMA_OK;
}

sscma_status qm_validate_pool(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (x->rank != 4 || op->stride_h < 1 || op->stride_w < 1)
        return qm_op_fail(op, "output shape does not follow from the input and kernel", "");
    const int64_t want[4] = {1, conv_out(x->dims[1], op->kh, op->stride_h, 1, op->pad_t, op->pad_b),
                             conv_out(x->dims[2], op->kw, op->stride_w, 1, op->pad_l, op->pad_r), x->dims[3]};
    if (!qm_shape_is(y, 4, want))
        return qm_op_fail(op, "output shape does not follow from the input and kernel", "");
    return SSCMA_OK;
}

sscma_status qm_validate_reshape(const sscma_qmodel *q, const qm_op *op)
{
    if (sscma_qm_numel(&q->t[op->in[0]]) != sscma_qm_numel(&q->t[op->out]))
        return qm_op_fail(op, "input and output sizes differ", "");
    return SSCMA_OK;
}

sscma_status qm_validate_same_shape(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]];
    if (!qm_shape_is(&q->t[op->out], x->rank, x->dims))
        return qm_op_fail(op, "output shape must equal the input's", "");
    return SSCMA_OK;
}

bool qm_quantized_per_tensor(const qm_tensor *t)
{
    int32_t lo = t->dtype == SSCMA_DTYPE_U8 ? 0 : -128, hi = t->dtype == SSCMA_DTYPE_U8 ? 255 : 127;
    return (t->dtype == SSCMA_DTYPE_I8 || t->dtype == SSCMA_DTYPE_U8) && t->n_q == 1 && t->scale[0] > 0.0f &&
           isfinite(t->scale[0]) && t->zero_point[0] >= lo && t->zero_point[0] <= hi;
}

/* QUANTIZE: float, int8 or uint8 in (quantized per tensor), int8 or uint8 out, of one shape; only in int8 models. */
sscma_status qm_validate_quantize(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (!q->int8) {
        if (x->dtype != SSCMA_DTYPE_F32 || y->dtype != SSCMA_DTYPE_F32)
            return qm_op_fail(op, "a float model's operands are float", "");
        return qm_validate_same_shape(q, op);
    }
    if (!(x->dtype == SSCMA_DTYPE_F32 || qm_quantized_per_tensor(x)) || !qm_quantized_per_tensor(y))
        return qm_op_fail(op, "takes float, int8 or uint8 and gives int8 or uint8, quantized per tensor", "");
    return qm_validate_same_shape(q, op);
}

/* DEQUANTIZE: int8 or uint8 (per tensor) in, float out, of one shape. */
sscma_status qm_validate_dequantize(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (!q->int8 || !qm_quantized_per_tensor(x) || y->dtype != SSCMA_DTYPE_F32)
        return qm_op_fail(op, "takes int8 or uint8 quantized per tensor and gives float", "");
    return qm_validate_same_shape(q, op);
}

/* The float runtime of kinds that only exist in int8 models (validation keeps them out of float ones). */
sscma_status qm_f32_none(const qm_exec *ex, const qm_op *op)
{
    (void)ex;
    return qm_op_fail(op, "has no float kernel", "");
}

sscma_status qm_validate_pad(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (x->rank != 4)
        return qm_op_fail(op, "output shape does not follow from the padding", "");
    if (!isfinite(op->pad_value))
        return qm_op_fail(op, "the pad value must be finite", "");
    const int64_t want[4] = {1, x->dims[1] + op->pad_t + op->pad_b, x->dims[2] + op->pad_l + op->pad_r, x->dims[3]};
    if (!qm_shape_is(y, 4, want))
        return qm_op_fail(op, "output shape does not follow from the padding", "");
    return SSCMA_OK;
}

/*
 * The checks every op shares: tensor references, types (constants only as the weights of kinds that have them, or as
 * operands of kinds with const_operands, of the activations' type), batch-1 shapes.
 */
static sscma_status validate_operands(const sscma_qmodel *q, const qm_op *op, const qm_kind_def *def)
{
    if (op->n_in < 1 || op->n_in > QM_MAX_IN || op->out < 0 || op->out >= q->n_t)
        return qm_op_fail(op, "bad input or output count", "");
    for (int32_t k = 0; k < op->n_in; k++)
        if (op->in[k] < 0 || op->in[k] >= q->n_t)
            return qm_op_fail(op, "an input refers to no tensor", "");
    if (q->t[op->out].constant)
        return qm_op_fail(op, "writes a constant", "");
    for (int32_t k = -1; k < op->n_in; k++) {
        const qm_tensor *t = &q->t[k < 0 ? op->out : op->in[k]];
        bool param = def->has_weights && k >= 1;
        bool const_ok = param || (def->const_operands && k >= 0);
        sscma_dtype want = param && k == 2 && q->int8 ? SSCMA_DTYPE_I32
                           : q->int8               ? SSCMA_DTYPE_I8
                                                   : SSCMA_DTYPE_F32;
        if (def->converts) /* its validate checks the types */
            want = t->dtype;
        if (t->dtype != want || (param && !t->constant) || (!const_ok && t->constant))
            return qm_op_fail(op, "an input or output has the wrong type or kind: ", t->name);
        for (int32_t d = 0; d < t->rank; d++)
            if (t->dims[d] < 1)
                return qm_op_fail(op, "a tensor has an empty dimension: ", t->name);
        if (!t->constant && (t->rank < 1 || t->dims[0] != 1))
            return qm_op_fail(op, "activations are stored for a batch of 1 (dims[0] = 1): ", t->name);
    }
    return SSCMA_OK;
}

sscma_status sscma_qm_validate(const sscma_qmodel *q)
{
    for (int32_t i = 0; i < q->n_inputs + q->n_outputs; i++) {
        int32_t id = i < q->n_inputs ? q->inputs[i] : q->outputs[i - q->n_inputs];
        if (id < 0 || id >= q->n_t || q->t[id].constant)
            return sscma_fail(SSCMA_ERR_FORMAT, "qmodel", "an input or output is not an activation tensor");
    }
    for (int32_t i = 0; i < q->n_ops; i++) {
        const qm_op *op = &q->ops[i];
        const qm_kind_def *def = sscma_qm_kind(op->kind);
        if (def == NULL)
            return qm_op_fail(op, "unknown op kind", "");
        sscma_status st = validate_operands(q, op, def);
        if (st == SSCMA_OK)
            st = def->validate(q, op);
        if (st != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

/* ---- metadata ---- */

sscma_status sscma_qmodel_set_meta(sscma_qmodel *qmodel, const char *key, const char *value)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(key);
    if (key[0] == '\0' || strlen(key) > 64)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "key must have 1 to 64 characters");
    if (value != NULL && strlen(value) > 65536)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "the value of '%s' is longer than 64 KiB", key);
    sscma_qmodel *q = qmodel;
    int32_t i = 0;
    while (i < q->n_meta && strcmp(q->meta_key[i], key) != 0)
        i++;
    if (value == NULL) {
        if (i == q->n_meta)
            return SSCMA_OK;
        sscma_free_string(q->ctx, q->meta_key[i]);
        sscma_free_string(q->ctx, q->meta_value[i]);
        for (int32_t k = i + 1; k < q->n_meta; k++)
            q->meta_key[k - 1] = q->meta_key[k], q->meta_value[k - 1] = q->meta_value[k];
        q->n_meta--;
        return SSCMA_OK;
    }
    if (i == QM_MAX_META)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "at most %d metadata entries", QM_MAX_META);
    char *v = sscma_strdup(q->ctx, value);
    char *k = i == q->n_meta ? sscma_strdup(q->ctx, key) : q->meta_key[i];
    if (v == NULL || k == NULL) {
        sscma_free_string(q->ctx, v);
        if (i == q->n_meta)
            sscma_free_string(q->ctx, k);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy metadata '%s'", key);
    }
    if (i < q->n_meta)
        sscma_free_string(q->ctx, q->meta_value[i]);
    q->meta_key[i] = k, q->meta_value[i] = v;
    if (i == q->n_meta)
        q->n_meta++;
    return SSCMA_OK;
}

sscma_status sscma_qmodel_meta(const sscma_qmodel *qmodel, const char *key, const char **value)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(key);
    SSCMA_REQUIRE_NONNULL(value);
    for (int32_t i = 0; i < qmodel->n_meta; i++)
        if (strcmp(qmodel->meta_key[i], key) == 0) {
            *value = qmodel->meta_value[i];
            return SSCMA_OK;
        }
    if (strcmp(key, "family") == 0 && qmodel->family[0] != '\0') {
        *value = qmodel->family;
        return SSCMA_OK;
    }
    return SSCMA_FAIL(SSCMA_ERR_NOT_FOUND, "no metadata '%s'", key);
}

sscma_status sscma_qm_copy_meta(sscma_qmodel *dst, const sscma_qmodel *src)
{
    for (int32_t i = 0; i < src->n_meta; i++) {
        sscma_status st = sscma_qmodel_set_meta(dst, src->meta_key[i], src->meta_value[i]);
        if (st != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

/* ---- public runtime API ---- */

sscma_status sscma_qmodel_is_int8(const sscma_qmodel *qmodel, int *out)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(out);
    *out = qmodel->int8 ? 1 : 0;
    return SSCMA_OK;
}

sscma_status sscma_qmodel_io_count(const sscma_qmodel *qmodel, int32_t *inputs, int32_t *outputs)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    if (inputs != NULL)
        *inputs = qmodel->n_inputs;
    if (outputs != NULL)
        *outputs = qmodel->n_outputs;
    return SSCMA_OK;
}

/*
 * The op steps that touch each tensor: first[i] and last[i] are the first and last op reading or writing tensor i
 * (INT32_MAX and -1 for a tensor no op touches). The memory estimate and the arena plan both start from these.
 */
static void op_lifetimes(const sscma_qmodel *q, int32_t *first, int32_t *last)
{
    for (int32_t i = 0; i < q->n_t; i++)
        first[i] = INT32_MAX, last[i] = -1;
    for (int32_t k = 0; k < q->n_ops; k++) {
        const qm_op *op = &q->ops[k];
        for (int32_t j = -1; j < op->n_in; j++) {
            int32_t id = j < 0 ? op->out : op->in[j];
            if (id < 0)
                continue;
            first[id] = k < first[id] ? k : first[id];
            last[id] = k > last[id] ? k : last[id];
        }
    }
}

/* defined below: the activation arena's layout, shared by the plans and the memory figure */
static sscma_status arena_layout(const sscma_qmodel *q, int64_t batch, bool as_int8, size_t *offset, size_t *bytes,
                                 size_t *total);

sscma_status sscma_qmodel_memory(const sscma_qmodel *qmodel, int as_int8, int64_t *weight_bytes, int64_t *arena_bytes)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    const sscma_qmodel *q = qmodel;
    const bool i8 = q->int8 || as_int8;
    int64_t weights = 0;
    for (int32_t i = 0; i < q->n_t; i++) {
        const qm_tensor *t = &q->t[i];
        if (t->constant) /* the int8 form: weights one byte, biases (rank 1) int32 */
            weights += !i8 || q->int8 ? (int64_t)t->bytes : sscma_qm_numel(t) * (t->rank == 1 ? 4 : 1);
    }
    /* the arena a plan at batch 1 allocates (the micro runtime's too): the same layout, not an estimate */
    size_t n = (size_t)(q->n_t > 0 ? q->n_t : 1), total = 0;
    size_t *offset = sscma_calloc(q->ctx, n, sizeof *offset), *bytes = sscma_calloc(q->ctx, n, sizeof *bytes);
    sscma_status st = offset != NULL && bytes != NULL
                          ? arena_layout(q, 1, as_int8 && !q->int8, offset, bytes, &total)
                          : SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate %d offsets", (int)q->n_t);
    sscma_mfree(q->ctx, offset);
    sscma_mfree(q->ctx, bytes);
    if (st != SSCMA_OK)
        return st;
    if (weight_bytes != NULL)
        *weight_bytes = weights;
    if (arena_bytes != NULL)
        *arena_bytes = (int64_t)total;
    return SSCMA_OK;
}

#if !defined(SSCMA_MICRO)
static sscma_status make_view(sscma_qplan *p, int32_t id, sscma_tensor **out)
{
    const qm_tensor *t = &p->q->t[id];
    sscma_desc d = sscma_qm_desc(t, p->batch);
    sscma_tensor *v;
    sscma_status st = sscma_tensor_wrap(p->ctx, t->dtype, d.rank, d.dims, p->buf[id], p->buf_bytes[id], &v);
    if (st != SSCMA_OK)
        return st;
    if (t->rank == 4)
        sscma_tensor_set_layout(v, SSCMA_LAYOUT_NHWC);
    if (t->n_q == 1 && (t->dtype == SSCMA_DTYPE_I8 || t->dtype == SSCMA_DTYPE_U8))
        st = sscma_tensor_set_quant(v, t->scale[0], t->zero_point[0]);
    if (st != SSCMA_OK) {
        sscma_tensor_destroy(v);
        return st;
    }
    *out = v;
    return SSCMA_OK;
}

#endif

/*
 * One arena for every activation, TFLite Micro's greedy plan: each tensor lives from the op that writes it to the
 * last op that reads it (the model's inputs and outputs for the whole run, so their views stay valid); tensors are
 * placed largest first at the lowest 64-byte aligned offset that no tensor alive at the same time occupies. An op's
 * inputs and output are alive together, so no kernel reads memory it writes.
 */
typedef struct arena_item {
    int32_t id;
    int32_t first, last;
    size_t offset, bytes;
} arena_item;

static int by_size_desc(const void *a, const void *b)
{
    const arena_item *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->id - y->id;
}

/*
 * Places every activation of q at `batch`: bytes[i] (the tensor's size; f32 counted as int8 with as_int8, for the
 * memory figure of a float model's int8 form) and offset[i] in an arena of *total bytes (64 at least); constants get
 * nothing. The plans and sscma_qmodel_memory share it, so `sscma info` states the arena the runtimes allocate.
 */
static sscma_status arena_layout(const sscma_qmodel *q, int64_t batch, bool as_int8, size_t *offset, size_t *bytes,
                                 size_t *total_out)
{
    arena_item *items = sscma_calloc(q->ctx, (size_t)(q->n_t > 0 ? q->n_t : 1), sizeof *items);
    int32_t *slot = sscma_calloc(q->ctx, (size_t)(q->n_t > 0 ? q->n_t : 1), sizeof *slot);
    if (items == NULL || slot == NULL) {
        sscma_mfree(q->ctx, items), sscma_mfree(q->ctx, slot);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan %d tensors", (int)q->n_t);
    }
    int32_t *first = sscma_calloc(q->ctx, (size_t)(q->n_t > 0 ? q->n_t : 1), sizeof *first);
    int32_t *last = sscma_calloc(q->ctx, (size_t)(q->n_t > 0 ? q->n_t : 1), sizeof *last);
    if (first == NULL || last == NULL) {
        sscma_mfree(q->ctx, items), sscma_mfree(q->ctx, slot);
        sscma_mfree(q->ctx, first), sscma_mfree(q->ctx, last);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan %d tensors", (int)q->n_t);
    }
    op_lifetimes(q, first, last);
    int32_t n = 0;
    for (int32_t i = 0; i < q->n_t; i++) {
        const qm_tensor *t = &q->t[i];
        slot[i] = -1;
        if (t->constant)
            continue;
        size_t esize = 0;
        sscma_dtype_size(t->dtype, &esize);
        if (as_int8 && t->dtype == SSCMA_DTYPE_F32)
            esize = 1;
        int64_t count = sscma_qm_numel(t) * (t->rank > 0 ? batch : 1);
        bytes[i] = (size_t)(count > 0 ? count : 1) * esize;
        items[n] = (arena_item){i, first[i], last[i], 0, (bytes[i] + 63) & ~(size_t)63};
        slot[i] = n++;
    }
    sscma_mfree(q->ctx, first);
    sscma_mfree(q->ctx, last);
    for (int32_t j = 0; j < q->n_inputs; j++)
        if (slot[q->inputs[j]] >= 0)
            items[slot[q->inputs[j]]].first = -1, items[slot[q->inputs[j]]].last = q->n_ops;
    for (int32_t j = 0; j < q->n_outputs; j++)
        if (slot[q->outputs[j]] >= 0)
            items[slot[q->outputs[j]]].last = q->n_ops;
    for (int32_t i = 0; i < n; i++) /* a tensor no op touches still gets its own place */
        if (items[i].first > items[i].last)
            items[i].first = -1, items[i].last = q->n_ops;
    qsort(items, (size_t)n, sizeof *items, by_size_desc);
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t at = 0;
        for (bool moved = true; moved;) { /* first fit: move past every conflicting placed tensor */
            moved = false;
            for (int32_t j = 0; j < i; j++) {
                const arena_item *o = &items[j];
                bool alive = o->first <= items[i].last && items[i].first <= o->last;
                if (alive && o->offset < at + items[i].bytes && at < o->offset + o->bytes) {
                    at = o->offset + o->bytes;
                    moved = true;
                }
            }
        }
        items[i].offset = at;
        offset[items[i].id] = at;
        total = at + items[i].bytes > total ? at + items[i].bytes : total;
    }
    *total_out = total > 0 ? total : 64;
    sscma_mfree(q->ctx, items);
    sscma_mfree(q->ctx, slot);
    return SSCMA_OK;
}

static sscma_status plan_arena(sscma_qplan *p, int64_t batch)
{
    const sscma_qmodel *q = p->q;
    size_t *offset = sscma_calloc(q->ctx, (size_t)(q->n_t > 0 ? q->n_t : 1), sizeof *offset);
    if (offset == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan %d tensors", (int)q->n_t);
    sscma_status st = arena_layout(q, batch, false, offset, p->buf_bytes, &p->arena_bytes);
    if (st == SSCMA_OK && (p->arena = sscma_alloc_zeroed(p->ctx, p->arena_bytes, 64)) == NULL) {
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the %zu-byte activation arena at batch %lld",
                        p->arena_bytes, (long long)batch);
        p->arena_bytes = 0;
    }
    for (int32_t i = 0; st == SSCMA_OK && i < q->n_t; i++)
        if (!q->t[i].constant)
            p->buf[i] = (char *)p->arena + offset[i];
    sscma_mfree(q->ctx, offset);
    return st;
}

/*
 * Plans p (bound to its model, unprepared) for `batch` samples: the arena with every activation buffer, the int8
 * GEMM tiles for the context's pool, the input and output views. Reads the model only.
 */
static sscma_status plan_prepare(sscma_qplan *p, int64_t batch)
{
    const sscma_qmodel *q = p->q;
    if (batch < 1 || batch > ((int64_t)1 << 24))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "batch is %lld; expected 1 to 2^24", (long long)batch);
    if (q->int8 && !q->int8_ready)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the int8 model has no integer parameters (it was not completed)");
    int32_t n = q->n_t > 0 ? q->n_t : 1;
    p->buf = sscma_alloc_zeroed(p->ctx, (size_t)n * sizeof *p->buf, _Alignof(void *));
    p->buf_bytes = sscma_alloc_zeroed(p->ctx, (size_t)n * sizeof *p->buf_bytes, _Alignof(size_t));
    p->n_buf = n;
    if (p->buf == NULL || p->buf_bytes == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan %d tensors", (int)q->n_t);
    sscma_status st = plan_arena(p, batch);
    if (st != SSCMA_OK)
        return st;
    p->batch = batch;
    /* one GEMM tile buffer (A rows and C) per worker */
    size_t tiles = q->int8 ? q->tile_bytes * (size_t)sscma_pool_threads(p->ctx->pool) : 0;
    if (tiles > 0 && (p->tile_scratch = sscma_alloc(p->ctx, tiles, 64)) == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of GEMM tiles", tiles);
    p->tile_scratch_bytes = tiles;
#if !defined(SSCMA_MICRO)
    for (int32_t i = 0; i < q->n_inputs && st == SSCMA_OK; i++)
        st = make_view(p, q->inputs[i], &p->in_views[i]);
    for (int32_t i = 0; i < q->n_outputs && st == SSCMA_OK; i++)
        st = make_view(p, q->outputs[i], &p->out_views[i]);
#endif
    return st;
}

sscma_status sscma_qplan_create(const sscma_qmodel *qmodel, int64_t batch, sscma_qplan **out)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(out);
    sscma_qplan *p = sscma_alloc_zeroed(qmodel->ctx, sizeof *p, _Alignof(sscma_qplan));
    if (p == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a plan");
    p->q = qmodel;
    p->ctx = qmodel->ctx;
    sscma_context_retain(p->ctx);
    sscma_status st = plan_prepare(p, batch);
    if (st != SSCMA_OK) {
        sscma_qplan_destroy(p);
        return st;
    }
    *out = p;
    return SSCMA_OK;
}

void sscma_qplan_destroy(sscma_qplan *plan)
{
    if (plan == NULL)
        return;
    plan_drop(plan);
    const sscma_context *ctx = plan->ctx;
    sscma_free(ctx, plan, sizeof *plan);
    sscma_context_release(ctx);
}

sscma_status sscma_qplan_batch(const sscma_qplan *plan, int64_t *out)
{
    SSCMA_REQUIRE_NONNULL(plan);
    SSCMA_REQUIRE_NONNULL(out);
    *out = plan->batch;
    return SSCMA_OK;
}

sscma_status sscma_qmodel_prepare(sscma_qmodel *qmodel, int64_t batch)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    if (batch < 1 || batch > ((int64_t)1 << 24))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "batch is %lld; expected 1 or more", (long long)batch);
    sscma_qmodel *q = qmodel;
    plan_drop(&q->plan);
    /* models built op by op (tests) get their int8 state here, as do tests that force another backend */
    sscma_status st = q->int8 && sscma_qm_int8_stale(q) ? sscma_qm_prepare_int8(q) : SSCMA_OK;
    if (st == SSCMA_OK)
        st = plan_prepare(&q->plan, batch);
    if (st != SSCMA_OK)
        plan_drop(&q->plan);
    return st;
}

#if !defined(SSCMA_MICRO) /* tensor views, the float runtime over the op table (lib/ops) */
/* The default plan of a model, or an error when sscma_qmodel_prepare has not made it. */
static sscma_status default_plan(sscma_qmodel *qmodel, sscma_qplan **out)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    if (qmodel->plan.batch == 0)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the model is not prepared; call sscma_qmodel_prepare first");
    *out = &qmodel->plan;
    return SSCMA_OK;
}

sscma_status sscma_qplan_input(sscma_qplan *plan, int32_t index, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(plan);
    SSCMA_REQUIRE_NONNULL(out);
    if (index < 0 || index >= plan->q->n_inputs)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "input %d does not exist (the model has %d)", (int)index,
                          (int)plan->q->n_inputs);
    *out = plan->in_views[index];
    return SSCMA_OK;
}

sscma_status sscma_qplan_output(sscma_qplan *plan, int32_t index, sscma_tensor **out, const char **name)
{
    SSCMA_REQUIRE_NONNULL(plan);
    SSCMA_REQUIRE_NONNULL(out);
    if (index < 0 || index >= plan->q->n_outputs)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "output %d does not exist (the model has %d)", (int)index,
                          (int)plan->q->n_outputs);
    *out = plan->out_views[index];
    if (name != NULL)
        *name = plan->q->t[plan->q->outputs[index]].name;
    return SSCMA_OK;
}

sscma_status sscma_qplan_run(sscma_qplan *plan)
{
    SSCMA_REQUIRE_NONNULL(plan);
    unsigned fp = sscma_fp_enter();
    sscma_status st = plan->q->int8 ? sscma_qm_run_int8(plan) : sscma_qm_run_f32(plan, NULL, NULL);
    sscma_fp_leave(fp);
    return st;
}

sscma_status sscma_qmodel_input(sscma_qmodel *qmodel, int32_t index, sscma_tensor **out)
{
    sscma_qplan *p = NULL;
    sscma_status st = default_plan(qmodel, &p);
    return st != SSCMA_OK ? st : sscma_qplan_input(p, index, out);
}

sscma_status sscma_qmodel_output(sscma_qmodel *qmodel, int32_t index, sscma_tensor **out, const char **name)
{
    sscma_qplan *p = NULL;
    sscma_status st = default_plan(qmodel, &p);
    return st != SSCMA_OK ? st : sscma_qplan_output(p, index, out, name);
}

sscma_status sscma_qmodel_run(sscma_qmodel *qmodel)
{
    sscma_qplan *p = NULL;
    sscma_status st = default_plan(qmodel, &p);
    return st != SSCMA_OK ? st : sscma_qplan_run(p);
}

/* ---- the float runtime: each op through the op table ---- */

static sscma_buf buf_of(const qm_exec *ex, int32_t id)
{
    const qm_tensor *t = &ex->q->t[id];
    sscma_buf b = {sscma_qm_desc(t, ex->batch), t->constant ? t->data : ex->buf[id]};
    return b;
}

/* Float scratch of at least `need` bytes, grown (never shrunk) across ops and runs. */
static sscma_status grow_scratch(const qm_exec *ex, const qm_op *op, size_t need)
{
    if (need <= *ex->scratch_bytes)
        return SSCMA_OK;
    sscma_free(ex->ctx, *ex->scratch, *ex->scratch_bytes);
    *ex->scratch_bytes = 0;
    if ((*ex->scratch = sscma_alloc(ex->ctx, need, 64)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate %zu bytes of scratch", need);
    *ex->scratch_bytes = need;
    return SSCMA_OK;
}

static sscma_status run_def(const qm_exec *ex, const qm_op *op, const sscma_op_def *def, const void *attrs,
                            int32_t n_in)
{
    sscma_buf in[QM_MAX_IN];
    sscma_desc in_d[QM_MAX_IN], out_d[SSCMA_OP_MAX_OUTPUTS];
    for (int32_t i = 0; i < n_in; i++) {
        in[i] = buf_of(ex, op->in[i]);
        in_d[i] = in[i].desc;
    }
    if (def == &sscma_op_linear && in[0].desc.rank != 2) { /* fully connected: x as rows of the weights' depth */
        const int64_t rows[2] = {sscma_desc_numel(&in[0].desc) / in[1].desc.dims[1], in[1].desc.dims[1]};
        in[0].desc = in_d[0] = sscma_desc_make(SSCMA_DTYPE_F32, 2, rows);
    }
    int32_t n_out = 0;
    sscma_op_sizes sizes = {0, 0};
    sscma_status st = sscma_op_infer(def, attrs, in_d, n_in, out_d, &n_out, &sizes);
    if (st != SSCMA_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", sscma_last_error());
        return sscma_fail(st, op->name, "%s", why);
    }
    sscma_buf ob = buf_of(ex, op->out);
    if (n_out != 1 || sscma_desc_numel(&out_d[0]) != sscma_desc_numel(&ob.desc))
        return sscma_fail(SSCMA_ERR_SHAPE, op->name, "%s: the kernel's output shape differs from the model's",
                          sscma_qm_kind_name(op->kind));
    ob.desc = out_d[0];
    if ((st = grow_scratch(ex, op, sizes.workspace_bytes + sizes.saved_bytes)) != SSCMA_OK)
        return st;
    char *scratch = *ex->scratch;
    sscma_op_exec e = {ex->pool, attrs, in, n_in, &ob, 1, scratch != NULL ? scratch + sizes.workspace_bytes : NULL,
                       scratch, false, 0};
    return def->forward(&e);
}

/* y[r][c] = act(y[r][c] + bias[c]) for ReLU / ReLU6 / none, over rows [begin, end): one pass instead of two. */
typedef struct bias_act_job {
    float *y;
    const float *bias;
    int64_t c;
    sscma_act_kind act;
} bias_act_job;

SSCMA_KERNEL static void bias_act_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bias_act_job *j = arg;
    const int64_t c = j->c;
    const float *restrict b = j->bias;
    const float hi = j->act == SSCMA_ACT_RELU6 ? 6.0f : INFINITY;
    for (int64_t r = begin; r < end; r++) {
        float *restrict y = j->y + r * c;
        if (j->act == SSCMA_ACT_NONE)
            for (int64_t k = 0; k < c; k++)
                y[k] += b[k];
        else
            for (int64_t k = 0; k < c; k++) {
                float v = y[k] + b[k];
                v = v > 0.0f ? v : 0.0f;
                y[k] = v < hi ? v : hi;
            }
    }
}

/* The fused ReLU / ReLU6 of conv, fc, add, concat and pools, in place on the output. */
static sscma_status fused_act(const qm_exec *ex, const qm_op *op, sscma_status st)
{
    const qm_tensor *y = &ex->q->t[op->out];
    if (st == SSCMA_OK && op->act != SSCMA_ACT_NONE)
        sscma_act_apply(ex->pool, op->act, 0.0f, qm_buf(ex, y), qm_buf(ex, y),
                        (int64_t)(qm_bytes(ex, y) / sizeof(float)));
    return st;
}

sscma_status qm_f32_conv(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *y = &ex->q->t[op->out];
    sscma_conv2d_attrs a = {op->stride_h, op->stride_w, op->dil_h, op->dil_w, op->pad_t, op->pad_l,
                            op->pad_b,    op->pad_r,    false,     op->groups};
    sscma_status st = run_def(ex, op, &sscma_op_conv2d, &a, op->n_in > 2 ? 2 : op->n_in);
    if (st != SSCMA_OK || op->n_in <= 2)
        return fused_act(ex, op, st);
    /* the bias and a ReLU/ReLU6 in one pass after the convolution */
    bias_act_job j = {qm_buf(ex, y), ex->q->t[op->in[2]].data, y->dims[3], op->act};
    int64_t rows = (int64_t)(qm_bytes(ex, y) / sizeof(float)) / y->dims[3];
    sscma_parallel_for(ex->pool, rows, 1 + 16384 / (y->dims[3] > 0 ? y->dims[3] : 1), bias_act_rows, &j);
    return SSCMA_OK;
}

sscma_status qm_f32_fc(const qm_exec *ex, const qm_op *op)
{
    sscma_linear_attrs a = {0};
    return fused_act(ex, op, run_def(ex, op, &sscma_op_linear, &a, op->n_in));
}

sscma_status qm_f32_concat(const qm_exec *ex, const qm_op *op)
{
    sscma_axis_attrs a = {op->axis, 0, {0}};
    return fused_act(ex, op, run_def(ex, op, &sscma_op_concat, &a, op->n_in));
}

sscma_status qm_f32_pool(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]];
    const bool avg = op->kind == QM_AVG_POOL, unpadded = !op->pad_t && !op->pad_l && !op->pad_b && !op->pad_r;
    if (avg && op->kh == x->dims[1] && op->kw == x->dims[2] && unpadded)
        return fused_act(ex, op, run_def(ex, op, &sscma_op_global_avg_pool, NULL, 1));
    if (op->pad_t != op->pad_b || op->pad_l != op->pad_r)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, op->name, "%s: asymmetric padding is not supported in f32",
                          sscma_qm_kind_name(op->kind));
    sscma_pool_attrs a = {op->kh, op->kw, op->stride_h, op->stride_w, op->pad_t, op->pad_l, false, false};
    return fused_act(ex, op, run_def(ex, op, avg ? &sscma_op_avg_pool : &sscma_op_max_pool, &a, 1));
}

/* Reshape (same bytes, other shape) and requantize (the identity on floats). */
sscma_status qm_f32_copy(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    memcpy(qm_buf(ex, y), qm_buf(ex, x), qm_bytes(ex, y));
    return SSCMA_OK;
}

sscma_status qm_f32_softmax(const qm_exec *ex, const qm_op *op)
{
    sscma_softmax_attrs a = {0};
    return run_def(ex, op, &sscma_op_softmax, &a, 1);
}

static sscma_status f32_act(const qm_exec *ex, const qm_op *op, sscma_act_kind act)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    sscma_act_apply(ex->pool, act, 0.0f, qm_buf(ex, x), qm_buf(ex, y), sscma_qm_numel(y) / y->dims[0] * ex->batch);
    return SSCMA_OK;
}

sscma_status qm_f32_logistic(const qm_exec *ex, const qm_op *op)
{
    return f32_act(ex, op, SSCMA_ACT_SIGMOID);
}

sscma_status qm_f32_hardswish(const qm_exec *ex, const qm_op *op)
{
    return f32_act(ex, op, SSCMA_ACT_HARDSWISH);
}

#endif

sscma_status qm_f32_map(const qm_exec *ex, const qm_op *op, float (*f)(float))
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const float *xd = qm_buf(ex, x);
    float *yd = qm_buf(ex, y);
    const int64_t n = sscma_qm_numel(y) / y->dims[0] * ex->batch;
    for (int64_t k = 0; k < n; k++)
        yd[k] = f(xd[k]);
    return SSCMA_OK;
}

#if !defined(SSCMA_MICRO)
sscma_status qm_f32_pad(const qm_exec *ex, const qm_op *op)
{
    sscma_pad_attrs a;
    memset(&a, 0, sizeof a);
    a.before[1] = op->pad_t, a.before[2] = op->pad_l, a.after[1] = op->pad_b, a.after[2] = op->pad_r;
    a.value = op->pad_value;
    return run_def(ex, op, &sscma_op_pad, &a, 1);
}

#endif

/* The run's view of plan p. */
qm_exec sscma_qm_exec(sscma_qplan *p)
{
    qm_exec ex = {p->q,          p->ctx->pool,   p->batch, p->buf,           p->buf_bytes,
                  &p->scratch,   &p->scratch_bytes, p->ctx, p->tile_scratch, p->q->tile_bytes};
    return ex;
}

#if !defined(SSCMA_MICRO)
sscma_status sscma_qm_run_f32(sscma_qplan *p, qm_observe_fn observe, void *user)
{
    const sscma_qmodel *q = p->q;
    if (q->int8)
        return sscma_fail(SSCMA_ERR_STATE, "qmodel", "an int8 model has no float runtime");
    if (observe != NULL)
        for (int32_t i = 0; i < q->n_inputs; i++)
            observe(user, q->inputs[i], p->buf[q->inputs[i]], (int64_t)(p->buf_bytes[q->inputs[i]] / sizeof(float)));
    const qm_exec ex = sscma_qm_exec(p);
    for (int32_t i = 0; i < q->n_ops; i++) {
        const qm_op *op = &q->ops[i];
        const qm_kind_def *def = sscma_qm_kind(op->kind);
        sscma_status st = def != NULL ? def->run_f32(&ex, op)
                                      : sscma_fail(SSCMA_ERR_UNSUPPORTED, op->name, "op kind %d has no float kernel",
                                                   (int)op->kind);
        if (st != SSCMA_OK)
            return st;
        if (observe != NULL)
            observe(user, op->out, p->buf[op->out], (int64_t)(p->buf_bytes[op->out] / sizeof(float)));
    }
    return SSCMA_OK;
}

/* ---- float in, float out ---- */

/* Checks that `t` is f32 with tensor id's shape at the plan's batch (dims[0] may be smaller when allow_fewer). */
static sscma_status check_float(const sscma_qplan *p, const char *func, int32_t id, const sscma_tensor *t,
                                bool allow_fewer, int64_t *rows)
{
    sscma_desc want = sscma_qm_desc(&p->q->t[id], p->batch);
    want.dtype = SSCMA_DTYPE_F32;
    sscma_dtype dt = SSCMA_DTYPE_F32;
    int32_t rank = 0;
    sscma_tensor_dtype(t, &dt);
    sscma_tensor_rank(t, &rank);
    bool ok = dt == SSCMA_DTYPE_F32 && rank == want.rank;
    int64_t d0 = 0;
    for (int32_t i = 0; ok && i < rank; i++) {
        int64_t d = 0;
        sscma_tensor_dim(t, i, &d);
        if (i == 0)
            d0 = d;
        ok = i == 0 ? (d == want.dims[0] || (allow_fewer && d < want.dims[0])) : d == want.dims[i];
    }
    if (!ok) {
        char w[160];
        sscma_desc_format(&want, w, sizeof w);
        return sscma_fail(SSCMA_ERR_SHAPE, func, "expected an f32 tensor of shape %s (%s)", w, p->q->t[id].name);
    }
    *rows = d0;
    return SSCMA_OK;
}

/* sscma_qplan_set_input, with errors naming `func` (the public call the user made). */
static sscma_status set_input(sscma_qplan *plan, int32_t index, const sscma_tensor *images, const char *func)
{
    sscma_tensor *view;
    sscma_status st = sscma_qplan_input(plan, index, &view);
    if (st != SSCMA_OK)
        return st;
    SSCMA_REQUIRE_NONNULL(images);
    const int32_t id = plan->q->inputs[index];
    const qm_tensor *t = &plan->q->t[id];
    int64_t rows;
    if ((st = check_float(plan, func, id, images, true, &rows)) != SSCMA_OK)
        return st;
    const float *src;
    sscma_tensor_data(images, (void **)&src);
    int64_t n = rows * (sscma_qm_numel(t) / (t->rank > 0 ? t->dims[0] : 1));
    if (t->dtype == SSCMA_DTYPE_F32) {
        memcpy(plan->buf[id], src, (size_t)n * sizeof(float));
        return SSCMA_OK;
    }
    const float scale = t->scale[0];
    const int32_t zp = t->zero_point[0];
    if (t->dtype == SSCMA_DTYPE_U8) {
        uint8_t *dst = plan->buf[id];
        for (int64_t i = 0; i < n; i++) {
            float v = roundf(src[i] / scale) + (float)zp; /* as TFLite's QUANTIZE */
            dst[i] = (uint8_t)(v < 0.0f ? 0 : v > 255.0f ? 255 : (int32_t)v);
        }
        return SSCMA_OK;
    }
    int8_t *dst = plan->buf[id];
    for (int64_t i = 0; i < n; i++) {
        float v = roundf(src[i] / scale) + (float)zp; /* as TFLite's QUANTIZE */
        dst[i] = (int8_t)(v < -128.0f ? -128 : v > 127.0f ? 127 : (int32_t)v);
    }
    return SSCMA_OK;
}

/* sscma_qplan_get_output, with errors naming `func`. */
static sscma_status get_output(sscma_qplan *plan, int32_t index, sscma_tensor *out, const char *func)
{
    sscma_tensor *view;
    sscma_status st = sscma_qplan_output(plan, index, &view, NULL);
    if (st != SSCMA_OK)
        return st;
    SSCMA_REQUIRE_NONNULL(out);
    const int32_t id = plan->q->outputs[index];
    const qm_tensor *t = &plan->q->t[id];
    int64_t rows;
    if ((st = check_float(plan, func, id, out, false, &rows)) != SSCMA_OK)
        return st;
    float *dst;
    sscma_tensor_data(out, (void **)&dst);
    int64_t n = rows * (sscma_qm_numel(t) / (t->rank > 0 ? t->dims[0] : 1));
    if (t->dtype == SSCMA_DTYPE_F32) {
        memcpy(dst, plan->buf[id], (size_t)n * sizeof(float));
        return SSCMA_OK;
    }
    if (t->dtype == SSCMA_DTYPE_U8) {
        const uint8_t *src = plan->buf[id];
        for (int64_t i = 0; i < n; i++)
            dst[i] = t->scale[0] * (float)(src[i] - t->zero_point[0]);
        return SSCMA_OK;
    }
    const int8_t *src = plan->buf[id];
    for (int64_t i = 0; i < n; i++)
        dst[i] = t->scale[0] * (float)(src[i] - t->zero_point[0]);
    return SSCMA_OK;
}

sscma_status sscma_qplan_set_input(sscma_qplan *plan, int32_t index, const sscma_tensor *images)
{
    return set_input(plan, index, images, __func__);
}

sscma_status sscma_qplan_get_output(sscma_qplan *plan, int32_t index, sscma_tensor *out)
{
    return get_output(plan, index, out, __func__);
}

sscma_status sscma_qmodel_set_input(sscma_qmodel *qmodel, int32_t index, const sscma_tensor *images)
{
    sscma_qplan *p = NULL;
    sscma_status st = default_plan(qmodel, &p);
    return st != SSCMA_OK ? st : set_input(p, index, images, __func__);
}

sscma_status sscma_qmodel_get_output(sscma_qmodel *qmodel, int32_t index, sscma_tensor *out)
{
    sscma_qplan *p = NULL;
    sscma_status st = default_plan(qmodel, &p);
    return st != SSCMA_OK ? st : get_output(p, index, out, __func__);
}
#endif /* !SSCMA_MICRO */
