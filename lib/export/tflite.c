/*
 * TFLite writer and reader, from the public TFLite schema (schema version 3; tables, field numbers and enum values
 * as written in lib/export/tflite_schema.h). One subgraph; buffer 0 is the empty sentinel and every constant has a
 * buffer of its own, 16-byte aligned. Op versions are the lowest that the TFLite kernels accept for the types used.
 */
#if !defined(SSCMA_MICRO)
#  include <jansson.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(SSCMA_MICRO)
#  include "core/config.h"
#  include "core/file.h"
#endif
#include "export/exporters.h"
#include "export/flatbuf.h"
#include "export/tflite_private.h"
#include "export/tflite_schema.h"
#include "export/kinds.h"
#include "quant/qm_kinds.h"
#include "quant/qmodel.h"
#include "sscma/export.h"

/* ---- planning: TFLite tensors and operators from the deployable model ---- */


static void plan_free(plan *p)
{
    for (int32_t i = 0; i < p->n_t; i++) {
        sscma_mfree(p->q->ctx, p->t[i].own_name);
        sscma_mfree(p->q->ctx, p->t[i].own_data);
    }
    sscma_mfree(p->q->ctx, p->t);
    sscma_mfree(p->q->ctx, p->ops);
}

static tfl_tensor *new_tensor(plan *p, int32_t *id)
{
    if (p->n_t == p->cap_t) {
        int32_t cap = p->cap_t ? 2 * p->cap_t : 128;
        tfl_tensor *t = sscma_mrealloc(p->q->ctx, p->t, (size_t)cap * sizeof *t);
        if (t == NULL)
            return NULL;
        p->t = t, p->cap_t = cap;
    }
    *id = p->n_t;
    tfl_tensor *t = &p->t[p->n_t++];
    memset(t, 0, sizeof *t);
    t->q_dim = 0;
    return t;
}

static tfl_op *new_op(plan *p)
{
    if (p->n_ops == p->cap_ops) {
        int32_t cap = p->cap_ops ? 2 * p->cap_ops : 128;
        tfl_op *o = sscma_mrealloc(p->q->ctx, p->ops, (size_t)cap * sizeof *o);
        if (o == NULL)
            return NULL;
        p->ops = o, p->cap_ops = cap;
    }
    tfl_op *o = &p->ops[p->n_ops++];
    memset(o, 0, sizeof *o);
    return o;
}

static int8_t tfl_type(sscma_dtype d)
{
    return d == SSCMA_DTYPE_I8    ? TFL_TYPE_INT8
           : d == SSCMA_DTYPE_U8  ? TFL_TYPE_UINT8
           : d == SSCMA_DTYPE_I32 ? TFL_TYPE_INT32
                                  : TFL_TYPE_FLOAT32;
}

sscma_status tfl_oom(void)
{
    return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "sscma_export_tflite", "out of memory while building the file");
}

/* An int32 constant (shapes, paddings, sizes). */
sscma_status tfl_const_i32(plan *p, const char *name, const int32_t *v, int32_t n, int32_t rank,
                              const int32_t *shape, int32_t *id)
{
    tfl_tensor *t = new_tensor(p, id);
    if (t == NULL || (t->own_data = sscma_malloc(p->q->ctx, (size_t)n * 4)) == NULL || (t->own_name = sscma_malloc(p->q->ctx, strlen(name) + 1)) == NULL)
        return tfl_oom();
    strcpy(t->own_name, name);
    t->name = t->own_name;
    memcpy(t->own_data, v, (size_t)n * 4);
    t->data = t->own_data;
    t->bytes = (size_t)n * 4;
    t->type = TFL_TYPE_INT32;
    t->rank = rank;
    memcpy(t->shape, shape, (size_t)rank * sizeof *shape);
    return SSCMA_OK;
}

/*
 * TFLite padding for a window op: VALID or SAME when the model's padding is one of them (bottom/right padding that
 * no window reaches does not count), else -1 (explicit).
 */
static int8_t pick_padding(int64_t in, int64_t out, int32_t k, int32_t stride, int32_t dil, int32_t pad_a,
                           int32_t pad_b)
{
    int64_t eff = (int64_t)dil * (k - 1) + 1;
    int64_t reach_b = (out - 1) * stride + eff - in - pad_a; /* bottom padding the last window uses */
    if (reach_b < 0)
        reach_b = 0;
    if (reach_b > pad_b)
        reach_b = pad_b;
    if (pad_a == 0 && reach_b == 0 && (in - eff) / stride + 1 == out && in >= eff)
        return TFL_PADDING_VALID;
    int64_t same_out = (in + stride - 1) / stride;
    int64_t total = (same_out - 1) * stride + eff - in;
    if (total < 0)
        total = 0;
    if (out == same_out && pad_a == total / 2 && reach_b == total - total / 2)
        return TFL_PADDING_SAME;
    return -1;
}

static sscma_status plan_tensor(plan *p, const qm_tensor *src)
{
    int32_t id;
    tfl_tensor *t = new_tensor(p, &id);
    if (t == NULL)
        return tfl_oom();
    t->name = src->name;
    t->type = tfl_type(src->dtype);
    t->rank = src->rank;
    for (int32_t i = 0; i < src->rank; i++)
        t->shape[i] = (int32_t)src->dims[i];
    if (src->constant) {
        t->data = src->data;
        t->bytes = src->bytes;
    }
    if (src->n_q > 0 && src->dtype != SSCMA_DTYPE_F32) {
        t->scale = src->scale, t->zero_point = src->zero_point, t->n_q = src->n_q;
        t->q_dim = src->q_axis > 0 ? src->q_axis : 0;
    }
    return SSCMA_OK;
}

sscma_status tfl_unsupported(const qm_op *op, const char *why)
{
    return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_export_tflite", "layer '%s' (%s): %s", op->name,
                      sscma_qm_kind_name(op->kind), why);
}

/* A PAD op in front of op's input: returns the padded tensor in *out. */
static sscma_status add_pad(plan *p, const qm_op *op, int32_t x, int32_t pt, int32_t pl, int32_t pb, int32_t pr,
                            int32_t *out)
{
    char name[320];
    snprintf(name, sizeof name, "%s/pad", op->name);
    const int32_t pads[8] = {0, 0, pt, pb, pl, pr, 0, 0}, pshape[2] = {4, 2};
    int32_t pid, yid;
    sscma_status st = tfl_const_i32(p, "paddings", pads, 8, 2, pshape, &pid);
    if (st != SSCMA_OK)
        return st;
    tfl_tensor *y = new_tensor(p, &yid);
    if (y == NULL || (y->own_name = sscma_malloc(p->q->ctx, strlen(name) + 1)) == NULL)
        return tfl_oom();
    const tfl_tensor *xt = &p->t[x];
    strcpy(y->own_name, name);
    y->name = y->own_name;
    y->type = xt->type, y->rank = 4;
    y->shape[0] = xt->shape[0], y->shape[1] = xt->shape[1] + pt + pb, y->shape[2] = xt->shape[2] + pl + pr;
    y->shape[3] = xt->shape[3];
    y->scale = xt->scale, y->zero_point = xt->zero_point, y->n_q = xt->n_q;
    tfl_op *o = new_op(p);
    if (o == NULL)
        return tfl_oom();
    o->code = TFL_OP_PAD, o->version = xt->type == TFL_TYPE_INT8 ? 2 : 1;
    o->kind = QM_PAD, o->in[0] = x, o->in[1] = pid, o->n_in = 2, o->out = yid, o->src = NULL;
    *out = yid;
    return SSCMA_OK;
}

bool tfl_int8_op(const plan *p, const qm_op *op)
{
    return p->q->t[op->in[0]].dtype == SSCMA_DTYPE_I8;
}

/* Depthwise weights [Cout, KH, KW, 1] become a tensor [1, KH, KW, Cout], quantized along dimension 3. */
static sscma_status depthwise_weights(plan *p, const qm_tensor *w, int32_t *wid)
{
    tfl_tensor *wt = new_tensor(p, wid);
    size_t esize = w->dtype == SSCMA_DTYPE_I8 ? 1 : 4;
    if (wt == NULL || (wt->own_data = sscma_malloc(p->q->ctx, w->bytes)) == NULL)
        return tfl_oom();
    int64_t cout = w->dims[0], taps = w->dims[1] * w->dims[2];
    for (int64_t c = 0; c < cout; c++)
        for (int64_t k = 0; k < taps; k++)
            memcpy((char *)wt->own_data + (size_t)(k * cout + c) * esize,
                   (const char *)w->data + (size_t)(c * taps + k) * esize, esize);
    wt->name = w->name;
    wt->type = tfl_type(w->dtype);
    wt->rank = 4;
    wt->shape[0] = 1, wt->shape[1] = (int32_t)w->dims[1], wt->shape[2] = (int32_t)w->dims[2];
    wt->shape[3] = (int32_t)cout;
    wt->data = wt->own_data, wt->bytes = w->bytes;
    if (w->n_q > 0 && w->dtype == SSCMA_DTYPE_I8) {
        wt->scale = w->scale, wt->zero_point = w->zero_point, wt->n_q = w->n_q;
        wt->q_dim = w->n_q > 1 ? 3 : 0;
    }
    return SSCMA_OK;
}

/*
 * The TFLite padding of a window op (conv, pools): SAME or VALID where the model's padding is one of them, else
 * (convolutions only) a PAD op in front and VALID. o->in[0] becomes the padded input.
 */
static sscma_status window_padding(plan *p, const qm_op *op, bool conv, tfl_op *o)
{
    const qm_tensor *x = &p->q->t[op->in[0]], *y = &p->q->t[op->out];
    int8_t ph = pick_padding(x->dims[1], y->dims[1], op->kh, op->stride_h, conv ? op->dil_h : 1, op->pad_t, op->pad_b);
    int8_t pw = pick_padding(x->dims[2], y->dims[2], op->kw, op->stride_w, conv ? op->dil_w : 1, op->pad_l, op->pad_r);
    if (ph >= 0 && pw >= 0 && ph == pw) {
        o->padding = ph;
        return SSCMA_OK;
    }
    if (ph == TFL_PADDING_VALID && pw == TFL_PADDING_SAME && x->dims[1] == op->kh && op->pad_t == 0) {
        o->padding = TFL_PADDING_SAME; /* one row: SAME pads nothing in H */
        return SSCMA_OK;
    }
    if (!conv)
        return tfl_unsupported(op, "pooling padding that is neither SAME nor VALID");
    int32_t eff_b = (int32_t)((y->dims[1] - 1) * op->stride_h + (int64_t)op->dil_h * (op->kh - 1) + 1 - x->dims[1] -
                              op->pad_t);
    int32_t eff_r = (int32_t)((y->dims[2] - 1) * op->stride_w + (int64_t)op->dil_w * (op->kw - 1) + 1 - x->dims[2] -
                              op->pad_l);
    eff_b = eff_b < 0 ? 0 : eff_b > op->pad_b ? op->pad_b : eff_b;
    eff_r = eff_r < 0 ? 0 : eff_r > op->pad_r ? op->pad_r : eff_r;
    o->padding = TFL_PADDING_VALID;
    return add_pad(p, op, op->in[0], op->pad_t, op->pad_l, eff_b, eff_r, &o->in[0]);
}

sscma_status qm_tfl_plan_conv(plan *p, const qm_op *op, tfl_op *o)
{
    const bool i8 = tfl_int8_op(p, op);
    sscma_status st = window_padding(p, op, true, o);
    if (st != SSCMA_OK)
        return st;
    if (op->groups == 1) {
        o->code = TFL_OP_CONV_2D, o->version = i8 ? 3 : 1;
        return SSCMA_OK;
    }
    const qm_tensor *w = &p->q->t[op->in[1]];
    if ((st = depthwise_weights(p, w, &o->in[1])) != SSCMA_OK)
        return st;
    o->code = TFL_OP_DEPTHWISE_CONV_2D, o->version = i8 ? 3 : 1;
    o->depth_multiplier = (int32_t)(w->dims[0] / p->q->t[op->in[0]].dims[3]);
    return SSCMA_OK;
}

sscma_status qm_tfl_plan_pool(plan *p, const qm_op *op, tfl_op *o)
{
    o->code = op->kind == QM_AVG_POOL ? TFL_OP_AVERAGE_POOL_2D : TFL_OP_MAX_POOL_2D;
    o->version = tfl_int8_op(p, op) ? 2 : 1;
    return window_padding(p, op, false, o);
}

/* A fully connected output that keeps its input's leading dims (rank > 2: a flattened one has rank 2). */
static bool qm_fc_keeps_dims(const sscma_qmodel *q, const qm_op *op)
{
    return q->t[op->out].rank > 2;
}

sscma_status qm_tfl_plan_fc(plan *p, const qm_op *op, tfl_op *o)
{
    if (p->q->t[op->in[1]].n_q > 1)
        return tfl_unsupported(op, "per-channel fully connected weights");
    o->code = TFL_OP_FULLY_CONNECTED, o->version = tfl_int8_op(p, op) ? 4 : 1;
    if (qm_fc_keeps_dims(p->q, op))
        o->version = 5; /* keep_num_dims */
    return SSCMA_OK;
}

/* Operators that need nothing but their row's builtin code (version 2 for int8, as TFLite's kernels want). */
sscma_status qm_tfl_plan_simple(plan *p, const qm_op *op, tfl_op *o)
{
    o->code = sscma_qm_format(op->kind)->tflite_codes[0], o->version = tfl_int8_op(p, op) ? 2 : 1;
    return SSCMA_OK;
}

sscma_status qm_tfl_plan_reshape(plan *p, const qm_op *op, tfl_op *o)
{
    const qm_tensor *y = &p->q->t[op->out];
    int32_t shape[4], rank = y->rank;
    for (int32_t i = 0; i < rank; i++)
        shape[i] = (int32_t)y->dims[i];
    o->code = TFL_OP_RESHAPE, o->n_in = 2;
    return tfl_const_i32(p, "shape", shape, rank, 1, &rank, &o->in[1]);
}

sscma_status qm_tfl_plan_hardswish(plan *p, const qm_op *op, tfl_op *o)
{
    (void)p, (void)op;
    o->code = TFL_OP_HARD_SWISH;
    return SSCMA_OK;
}

sscma_status qm_tfl_plan_pad(plan *p, const qm_op *op, tfl_op *o)
{
    const int32_t pads[8] = {0, 0, op->pad_t, op->pad_b, op->pad_l, op->pad_r, 0, 0}, pshape[2] = {4, 2};
    o->code = TFL_OP_PAD, o->version = tfl_int8_op(p, op) ? 2 : 1, o->n_in = 2;
    sscma_status st = tfl_const_i32(p, "paddings", pads, 8, 2, pshape, &o->in[1]);
    if (st == SSCMA_OK && op->pad_value != 0.0f) /* PADV2 with the value */
        st = qm_tfl_plan_pad_value(p, op, o);
    return st;
}

sscma_status qm_tfl_plan_requant(plan *p, const qm_op *op, tfl_op *o)
{
    (void)p, (void)op;
    o->code = TFL_OP_QUANTIZE, o->version = 2;
    return SSCMA_OK;
}

sscma_status qm_tfl_plan_dequantize(plan *p, const qm_op *op, tfl_op *o)
{
    (void)p, (void)op;
    o->code = TFL_OP_DEQUANTIZE, o->version = 2;
    return SSCMA_OK;
}

/* The TFLite operator of op, through its kind's row (inserted PAD ops come first). */
static sscma_status plan_op(plan *p, const qm_op *op)
{
    const qm_format_def *def = sscma_qm_format(op->kind);
    if (def == NULL || def->tflite_plan == NULL)
        return tfl_unsupported(op, "no TFLite equivalent");
    if (op->act != SSCMA_ACT_NONE && op->act != SSCMA_ACT_RELU && op->act != SSCMA_ACT_RELU6)
        return tfl_unsupported(op, "only ReLU and ReLU6 can be fused");
    tfl_op tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.kind = op->kind, tmp.src = op, tmp.out = op->out, tmp.version = 1;
    for (int32_t k = 0; k < op->n_in; k++)
        tmp.in[k] = op->in[k];
    tmp.n_in = op->n_in;
    sscma_status st = def->tflite_plan(p, op, &tmp);
    if (st != SSCMA_OK)
        return st;
    tfl_op *o = new_op(p);
    if (o == NULL)
        return tfl_oom();
    *o = tmp;
    return SSCMA_OK;
}

/* ---- serialization ---- */

int8_t tfl_act_code(sscma_act_kind a)
{
    return a == SSCMA_ACT_RELU ? TFL_ACT_RELU : a == SSCMA_ACT_RELU6 ? TFL_ACT_RELU6 : TFL_ACT_NONE;
}

/* The builtin options tables, one writer per kind (through the kinds' table); each sets the union type. */

uint32_t qm_tfl_options_conv(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    const qm_op *op = o->src;
    const bool dw = o->code == TFL_OP_DEPTHWISE_CONV_2D; /* one more field: the depth multiplier */
    fb_table_start(b);
    fb_field_u8(b, 0, (uint8_t)o->padding);
    fb_field_i32(b, 1, op->stride_w);
    fb_field_i32(b, 2, op->stride_h);
    if (dw)
        fb_field_i32(b, 3, o->depth_multiplier);
    fb_field_u8(b, dw ? 4 : 3, (uint8_t)tfl_act_code(op->act));
    fb_field_i32(b, dw ? 5 : 4, op->dil_w);
    fb_field_i32(b, dw ? 6 : 5, op->dil_h);
    *type = dw ? TFL_OPT_DEPTHWISE_CONV2D : TFL_OPT_CONV2D;
    return fb_table_end(b);
}

uint32_t qm_tfl_options_pool(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    const qm_op *op = o->src;
    fb_table_start(b);
    fb_field_u8(b, 0, (uint8_t)o->padding);
    fb_field_i32(b, 1, op->stride_w);
    fb_field_i32(b, 2, op->stride_h);
    fb_field_i32(b, 3, op->kw);
    fb_field_i32(b, 4, op->kh);
    fb_field_u8(b, 5, (uint8_t)tfl_act_code(op->act));
    *type = TFL_OPT_POOL2D;
    return fb_table_end(b);
}

/* Options whose only field is the fused activation (fully connected, add). */
fb_ref tfl_act_options(fb_builder *b, const tfl_op *o, uint8_t union_type, uint8_t *type)
{
    fb_table_start(b);
    fb_field_u8(b, 0, (uint8_t)tfl_act_code(o->src->act));
    *type = union_type;
    return fb_table_end(b);
}

uint32_t qm_tfl_options_fc(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    fb_table_start(b);
    fb_field_u8(b, 0, (uint8_t)tfl_act_code(o->src->act));
    if (qm_fc_keeps_dims(p->q, o->src))
        fb_field_u8(b, 2, 1); /* keep_num_dims */
    *type = TFL_OPT_FULLY_CONNECTED;
    return fb_table_end(b);
}

uint32_t qm_tfl_options_add(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    return tfl_act_options(b, o, TFL_OPT_ADD, type);
}

uint32_t qm_tfl_options_concat(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    fb_table_start(b);
    fb_field_i32(b, 0, o->src->axis);
    fb_field_u8(b, 1, (uint8_t)tfl_act_code(o->src->act));
    *type = TFL_OPT_CONCATENATION;
    return fb_table_end(b);
}

uint32_t qm_tfl_options_softmax(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p, (void)o;
    fb_table_start(b);
    fb_field_f32(b, 0, 1.0f);
    *type = TFL_OPT_SOFTMAX;
    return fb_table_end(b);
}

uint32_t qm_tfl_options_reshape(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    const tfl_tensor *y = &p->t[o->out];
    fb_ref new_shape = fb_vector_i32(b, y->shape, (size_t)y->rank);
    fb_table_start(b);
    fb_field_ref(b, 0, new_shape);
    *type = TFL_OPT_RESHAPE;
    return fb_table_end(b);
}

/* An options table without fields: TFLite's kernels still expect the union type. */
fb_ref tfl_empty_options(fb_builder *b, uint8_t union_type, uint8_t *type)
{
    fb_table_start(b);
    *type = union_type;
    return fb_table_end(b);
}

uint32_t qm_tfl_options_hardswish(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p, (void)o;
    return tfl_empty_options(b, TFL_OPT_HARD_SWISH, type);
}

uint32_t qm_tfl_options_pad(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p;
    return tfl_empty_options(b, o->code == TFL_OP_PADV2 ? TFL_OPT_PADV2 : TFL_OPT_PAD, type);
}

uint32_t qm_tfl_options_requant(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p, (void)o;
    return tfl_empty_options(b, TFL_OPT_QUANTIZE, type);
}

/* The options table of an operator (0 = none) and its union type. */
static fb_ref write_options(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    const qm_format_def *def = sscma_qm_format(o->kind);
    *type = 0;
    return def != NULL && def->tflite_options != NULL ? def->tflite_options(b, p, o, type) : 0;
}

static bool serialize(const plan *p, fb_builder *b, const uint8_t **data, size_t *size)
{
    int32_t n_t = p->n_t, n_ops = p->n_ops;
    fb_ref *refs = sscma_malloc(p->q->ctx, (size_t)(n_t + n_ops + QM_MAX_META + 2) * 2 * sizeof *refs);
    if (refs == NULL)
        return false;
    /* buffers: 0 = empty sentinel, then one per constant */
    int32_t n_buf = 1;
    uint32_t *buf_of = sscma_malloc(p->q->ctx, (size_t)(n_t > 0 ? n_t : 1) * sizeof *buf_of);
    if (buf_of == NULL) {
        sscma_mfree(p->q->ctx, refs);
        return false;
    }
    fb_ref *brefs = refs; /* buffers, at most n_t + 1 */
    fb_table_start(b);
    brefs[0] = fb_table_end(b);
    for (int32_t i = 0; i < n_t; i++) {
        buf_of[i] = 0;
        if (p->t[i].data == NULL)
            continue;
        fb_ref v = fb_vector(b, p->t[i].data, p->t[i].bytes, 1, 16);
        fb_table_start(b);
        fb_field_ref(b, 0, v);
        brefs[n_buf] = fb_table_end(b);
        buf_of[i] = (uint32_t)n_buf++;
    }
    /* metadata: the family and every key/value of the model, each value in a buffer of its own */
    const sscma_qmodel *q = p->q;
    int32_t n_meta = 0;
    const char *mkeys[QM_MAX_META + 1], *mvals[QM_MAX_META + 1];
    uint32_t mbuf[QM_MAX_META + 1];
    if (q->family[0] != '\0')
        mkeys[n_meta] = "family", mvals[n_meta++] = q->family;
    for (int32_t i = 0; i < q->n_meta; i++)
        if (strcmp(q->meta_key[i], "family") != 0)
            mkeys[n_meta] = q->meta_key[i], mvals[n_meta++] = q->meta_value[i];
    for (int32_t i = 0; i < n_meta; i++) {
        fb_ref v = fb_vector(b, mvals[i], strlen(mvals[i]), 1, 16);
        fb_table_start(b);
        fb_field_ref(b, 0, v);
        brefs[n_buf] = fb_table_end(b);
        mbuf[i] = (uint32_t)n_buf++;
    }
    fb_ref buffers = fb_vector_refs(b, brefs, (size_t)n_buf);
    fb_ref mrefs[QM_MAX_META + 1];
    for (int32_t i = 0; i < n_meta; i++) {
        fb_ref name = fb_string(b, mkeys[i]);
        fb_table_start(b);
        fb_field_ref(b, 0, name);
        fb_field_u32(b, 1, mbuf[i]);
        mrefs[i] = fb_table_end(b);
    }
    fb_ref metadata = n_meta > 0 ? fb_vector_refs(b, mrefs, (size_t)n_meta) : 0;
    /* tensors */
    fb_ref *trefs = refs;
    for (int32_t i = 0; i < n_t; i++) {
        const tfl_tensor *t = &p->t[i];
        fb_ref quant = 0;
        if (t->n_q > 0) {
            int64_t zps[4096];
            int32_t nq = t->n_q > 4096 ? 4096 : t->n_q;
            for (int32_t k = 0; k < nq; k++)
                zps[k] = t->zero_point[k];
            fb_ref sv = fb_vector_f32(b, t->scale, (size_t)nq);
            fb_ref zv = fb_vector_i64(b, zps, (size_t)nq);
            fb_table_start(b);
            fb_field_ref(b, 2, sv);
            fb_field_ref(b, 3, zv);
            fb_field_i32(b, 6, t->q_dim);
            quant = fb_table_end(b);
        }
        fb_ref shape = fb_vector_i32(b, t->shape, (size_t)t->rank);
        fb_ref name = fb_string(b, t->name != NULL ? t->name : "");
        fb_table_start(b);
        fb_field_ref(b, 0, shape);
        fb_field_u8(b, 1, (uint8_t)t->type);
        fb_field_u32(b, 2, buf_of[i]);
        fb_field_ref(b, 3, name);
        if (quant)
            fb_field_ref(b, 4, quant);
        trefs[i] = fb_table_end(b);
    }
    fb_ref tensors = fb_vector_refs(b, trefs, (size_t)n_t);
    /* operator codes: one per distinct builtin, in first-use order */
    int32_t codes[64], n_codes = 0, versions[64];
    fb_ref *orefs = refs;
    for (int32_t i = 0; i < n_ops; i++) {
        const tfl_op *o = &p->ops[i];
        int32_t c = 0;
        while (c < n_codes && codes[c] != o->code)
            c++;
        if (c == n_codes) {
            if (n_codes == 64)
                break;
            codes[n_codes] = o->code, versions[n_codes++] = o->version;
        } else if (o->version > versions[c]) {
            versions[c] = o->version;
        }
        uint8_t otype;
        fb_ref opts = write_options(b, p, o, &otype);
        fb_ref ins = fb_vector_i32(b, o->in, (size_t)o->n_in);
        fb_ref outs = fb_vector_i32(b, &o->out, 1);
        fb_table_start(b);
        fb_field_u32(b, 0, (uint32_t)c);
        fb_field_ref(b, 1, ins);
        fb_field_ref(b, 2, outs);
        if (opts) {
            fb_field_u8(b, 3, otype);
            fb_field_ref(b, 4, opts);
        }
        orefs[i] = fb_table_end(b);
    }
    fb_ref operators = fb_vector_refs(b, orefs, (size_t)n_ops);
    int32_t ins[4], outs[8];
    for (int32_t i = 0; i < p->q->n_inputs; i++)
        ins[i] = p->q->inputs[i];
    for (int32_t i = 0; i < p->q->n_outputs; i++)
        outs[i] = p->q->outputs[i];
    fb_ref vin = fb_vector_i32(b, ins, (size_t)p->q->n_inputs);
    fb_ref vout = fb_vector_i32(b, outs, (size_t)p->q->n_outputs);
    fb_ref sg_name = fb_string(b, "main");
    fb_table_start(b);
    fb_field_ref(b, 0, tensors);
    fb_field_ref(b, 1, vin);
    fb_field_ref(b, 2, vout);
    fb_field_ref(b, 3, operators);
    fb_field_ref(b, 4, sg_name);
    fb_ref subgraph = fb_table_end(b);
    fb_ref subgraphs = fb_vector_refs(b, &subgraph, 1);
    fb_ref crefs[64];
    for (int32_t c = 0; c < n_codes; c++) {
        fb_table_start(b);
        fb_field_u8(b, 0, (uint8_t)(codes[c] < 127 ? codes[c] : 127));
        fb_field_i32(b, 2, versions[c]);
        fb_field_i32(b, 3, codes[c]);
        crefs[c] = fb_table_end(b);
    }
    fb_ref opcodes = fb_vector_refs(b, crefs, (size_t)n_codes);
    char desc[96];
    snprintf(desc, sizeof desc, "libsscma %s", sscma_version());
    fb_ref description = fb_string(b, desc);
    fb_table_start(b);
    fb_field_u32(b, 0, 3);
    fb_field_ref(b, 1, opcodes);
    fb_field_ref(b, 2, subgraphs);
    fb_field_ref(b, 3, description);
    fb_field_ref(b, 4, buffers);
    if (metadata)
        fb_field_ref(b, 6, metadata);
    fb_ref model = fb_table_end(b);
    sscma_mfree(p->q->ctx, refs);
    sscma_mfree(p->q->ctx, buf_of);
    return n_codes < 64 && fb_finish(b, model, "TFL3", data, size);
}

sscma_status sscma_tflite_build(const sscma_qmodel *qmodel, fb_builder *b, const uint8_t **data, size_t *size)
{
    plan p;
    memset(&p, 0, sizeof p);
    p.q = qmodel;
    sscma_status st = SSCMA_OK;
    for (int32_t i = 0; i < qmodel->n_t && st == SSCMA_OK; i++)
        st = plan_tensor(&p, &qmodel->t[i]);
    for (int32_t i = 0; i < qmodel->n_ops && st == SSCMA_OK; i++)
        st = plan_op(&p, &qmodel->ops[i]);
    fb_init(b, qmodel->ctx);
    if (st == SSCMA_OK && !serialize(&p, b, data, size))
        st = tfl_oom();
    plan_free(&p);
    return st;
}

#if !defined(SSCMA_MICRO) /* files (the micro runtime has none) */
sscma_status sscma_export_tflite(const sscma_qmodel *qmodel, const char *path)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(path);
    fb_builder b;
    const uint8_t *data = NULL;
    size_t size = 0;
    sscma_status st = sscma_tflite_build(qmodel, &b, &data, &size);
    if (st == SSCMA_OK)
        st = sscma_write_file_atomic(path, data, size);
    fb_free(&b);
    return st;
}
#endif

/* ---- reader ---- */


sscma_status tfl_bad(const reader *rd, const char *what)
{
    if (!rd->r.ok && rd->r.needed > rd->r.size) /* say so when the data ran out, not what it then lacked */
        return sscma_fail(SSCMA_ERR_FORMAT, rd->path,
                          "truncated at byte %zu: it references data up to byte %zu (%s)", rd->r.size, rd->r.needed,
                          what);
    return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "%s", what);
}

sscma_status tfl_bad_op(const reader *rd, uint32_t index, int32_t code, const char *what)
{
    const char *name = sscma_tflite_builtin_name(code);
    return sscma_fail(SSCMA_ERR_UNSUPPORTED, rd->path, "operator %u (%s, builtin code %d): %s", (unsigned)index,
                      name != NULL ? name : "unknown", (int)code, what);
}

/* The data of buffer `index` (NULL, 0 when empty). */
const uint8_t *tfl_buffer_data(reader *rd, uint32_t index, uint32_t *bytes)
{
    *bytes = 0;
    if (index >= rd->n_buffers) {
        rd->r.ok = false;
        return NULL;
    }
    fb_table b = fb_vector_table(&rd->r, rd->buffers, index);
    size_t v = fb_get_vector(&rd->r, b, 0, 1, bytes);
    return v && rd->r.ok ? rd->r.data + v : NULL;
}

/* Makes the qmodel tensor for TFLite tensor i (depthwise weights are turned from [1, KH, KW, C] to OHWI). */
static sscma_status make_tensor(reader *rd, uint32_t i, int32_t *out)
{
    if (i >= rd->n_tensors)
        return tfl_bad(rd, "a tensor index is out of range");
    if (rd->map[i] >= 0) {
        *out = rd->map[i];
        return SSCMA_OK;
    }
    fb_reader *r = &rd->r;
    fb_table t = fb_vector_table(r, rd->tensors, i);
    uint32_t rank = 0;
    size_t sv = fb_get_vector(r, t, 0, 4, &rank);
    int8_t type = (int8_t)fb_get_u8(r, t, 1, 0);
    uint32_t buf = fb_get_u32(r, t, 2, 0);
    char name[256];
    fb_get_string(r, t, 3, name, sizeof name);
    if (!r->ok || rank > 4)
        return tfl_bad(rd, "tensor has a malformed shape or rank above 4");
    int64_t dims[4];
    int64_t numel = 1;
    for (uint32_t k = 0; k < rank; k++) {
        dims[k] = fb_vector_i32_at(r, sv, k);
        if (dims[k] < 0 || dims[k] > (1 << 24))
            return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "tensor '%s' has dimension %lld", name, (long long)dims[k]);
        if (dims[k] > 0 && numel > QM_MAX_ELEMENTS / dims[k])
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, rd->path, "tensor '%s' has more than %lld elements", name,
                              (long long)QM_MAX_ELEMENTS);
        numel *= dims[k];
    }
    sscma_dtype dt = type == TFL_TYPE_INT8    ? SSCMA_DTYPE_I8
                     : type == TFL_TYPE_UINT8 ? SSCMA_DTYPE_U8
                     : type == TFL_TYPE_INT32 ? SSCMA_DTYPE_I32
                                              : SSCMA_DTYPE_F32;
    if (dt == SSCMA_DTYPE_F32 && type != TFL_TYPE_FLOAT32)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, rd->path, "tensor '%s' has type %d; the runtime takes float32, int8, "
                                                           "uint8 and int32", name, (int)type);
    uint32_t bytes;
    const uint8_t *data = tfl_buffer_data(rd, buf, &bytes);
    size_t esize = dt == SSCMA_DTYPE_I8 || dt == SSCMA_DTYPE_U8 ? 1 : 4;
    if (!r->ok)
        return tfl_bad(rd, "a tensor refers to a missing buffer");
    if (data != NULL && (uint64_t)bytes != (uint64_t)numel * esize)
        return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "tensor '%s' has %u bytes of data for %lld elements", name,
                          (unsigned)bytes, (long long)numel);
    bool dw = rd->dw_weight[i] != 0;
    if (dw && (rank != 4 || dims[0] != 1 || data == NULL))
        return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "depthwise weights '%s' must be constant [1, KH, KW, C]", name);
    int64_t qdims[4] = {0, 0, 0, 0};
    memcpy(qdims, dims, (size_t)rank * sizeof *dims);
    if (dw)
        qdims[0] = dims[3], qdims[3] = 1;
    int32_t id;
    sscma_status st = sscma_qm_add_tensor(rd->q, name, dt, (int32_t)rank, qdims, data != NULL, &id);
    if (st != SSCMA_OK)
        return st;
    qm_tensor *qt = &rd->q->t[id];
#if defined(SSCMA_MICRO)
    /* the micro runtime reads constants where they lie, in the model's bytes (flash), which outlive it: the copy's
       block, the last one handed out, goes back to the arena. Depthwise weights are transposed, so copied. */
    if (data != NULL && bytes > 0 && !dw && (uintptr_t)data % esize == 0) {
        sscma_free(rd->q->ctx, qt->data, qt->bytes);
        qt->data = (void *)(uintptr_t)data;
    } else
#endif
    if (data != NULL && bytes > 0) { /* an empty tensor (a dimension 0) has no data to copy, nor a block for it */
        if (!dw) {
            memcpy(qt->data, data, bytes);
        } else {
            int64_t cout = dims[3], taps = dims[1] * dims[2];
            for (int64_t c = 0; c < cout; c++)
                for (int64_t k = 0; k < taps; k++)
                    memcpy((char *)qt->data + (size_t)(c * taps + k) * esize, data + (size_t)(k * cout + c) * esize,
                           esize);
        }
    }
    fb_table qp = fb_get_table(r, t, 4);
    uint32_t ns = 0, nz = 0;
    size_t scv = fb_get_vector(r, qp, 2, 4, &ns), zpv = fb_get_vector(r, qp, 3, 8, &nz);
    int32_t qdim = fb_get_i32(r, qp, 6, 0);
    if (!r->ok)
        return tfl_bad(rd, "malformed quantization parameters");
    if (ns > 0 && dt != SSCMA_DTYPE_F32) {
        if (nz != ns || (ns > 1 && (qdim < 0 || (uint32_t)qdim >= rank || dims[qdim] != (int64_t)ns)) || ns > 4096)
            return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "tensor '%s' has %u scales and %u zero points", name,
                              (unsigned)ns, (unsigned)nz);
        /* checked, then copied straight from the file: no table on the stack (the micro runtime's is small) */
        for (uint32_t k = 0; k < ns; k++) {
            float scale = fb_vector_f32_at(r, scv, k);
            int64_t z = fb_vector_i64_at(r, zpv, k);
            if (!(scale > 0.0f) || !isfinite(scale) || z < (dt == SSCMA_DTYPE_U8 ? 0 : -128) ||
                z > (dt == SSCMA_DTYPE_U8 ? 255 : 127))
                return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "tensor '%s' has scale %g and zero point %lld", name,
                                  (double)scale, (long long)z);
        }
        if ((st = sscma_qm_set_quant(rd->q, id, (int32_t)ns, dw ? 0 : qdim, NULL, NULL)) != SSCMA_OK)
            return st;
        for (uint32_t k = 0; k < ns; k++) {
            rd->q->t[id].scale[k] = fb_vector_f32_at(r, scv, k);
            rd->q->t[id].zero_point[k] = (int32_t)fb_vector_i64_at(r, zpv, k);
        }
    }
    rd->map[i] = id;
    *out = id;
    return SSCMA_OK;
}

/* Explicit padding from TFLite's SAME / VALID. */
void tfl_pads(int8_t padding, int64_t in, int64_t out, int32_t k, int32_t stride, int32_t dil, int32_t *a,
                     int32_t *b)
{
    *a = *b = 0;
    if (padding != TFL_PADDING_SAME)
        return;
    int64_t total = (out - 1) * stride + (int64_t)dil * (k - 1) + 1 - in;
    if (total < 0)
        total = 0;
    *a = (int32_t)(total / 2), *b = (int32_t)(total - total / 2);
}

sscma_act_kind tfl_act_of(uint8_t code, bool *ok)
{
    if (code == TFL_ACT_RELU)
        return SSCMA_ACT_RELU;
    if (code == TFL_ACT_RELU6)
        return SSCMA_ACT_RELU6;
    *ok = code == TFL_ACT_NONE;
    return SSCMA_ACT_NONE;
}


/* Inputs 1.. (weights, bias; optional ones left out) after op->in[0]. */
void tfl_read_extra_inputs(const tfl_read_op *ro, qm_op *op)
{
    for (uint32_t k = 1; k < ro->n_in; k++)
        if (ro->ids[k] >= 0)
            op->in[op->n_in++] = ro->ids[k];
}

sscma_status qm_tfl_read_conv(reader *rd, tfl_read_op *ro, qm_op *op)
{
    fb_reader *r = &rd->r;
    const bool dw = ro->code == TFL_OP_DEPTHWISE_CONV_2D;
    if (ro->n_in < 2 || ro->n_in > 3 || ro->ids[1] < 0 || ro->xt->rank != 4 || ro->yt->rank != 4)
        return tfl_bad_op(rd, ro->index, ro->code, "needs NHWC input and output and weights");
    tfl_read_extra_inputs(ro, op);
    const qm_tensor *w = &rd->q->t[op->in[1]];
    int8_t padding = (int8_t)fb_get_u8(r, ro->opt, 0, 0);
    op->stride_w = fb_get_i32(r, ro->opt, 1, 1), op->stride_h = fb_get_i32(r, ro->opt, 2, 1);
    op->act = tfl_act_of(fb_get_u8(r, ro->opt, dw ? 4 : 3, 0), &ro->act_ok);
    op->dil_w = fb_get_i32(r, ro->opt, dw ? 5 : 4, 1), op->dil_h = fb_get_i32(r, ro->opt, dw ? 6 : 5, 1);
    op->kh = (int32_t)w->dims[1], op->kw = (int32_t)w->dims[2];
    op->groups = dw ? (int32_t)ro->xt->dims[3] : 1;
    if (op->stride_h < 1 || op->stride_w < 1 || op->dil_h < 1 || op->dil_w < 1 || op->stride_h > 64 ||
        op->stride_w > 64 || op->dil_h > 64 || op->dil_w > 64)
        return tfl_bad_op(rd, ro->index, ro->code, "strides and dilations must be 1..64");
    tfl_pads(padding, ro->xt->dims[1], ro->yt->dims[1], op->kh, op->stride_h, op->dil_h, &op->pad_t, &op->pad_b);
    tfl_pads(padding, ro->xt->dims[2], ro->yt->dims[2], op->kw, op->stride_w, op->dil_w, &op->pad_l, &op->pad_r);
    return SSCMA_OK;
}

/*
 * FULLY_CONNECTED: x of rank 2..4 read as rows of the weights' depth; keep_num_dims keeps x's leading dims, else
 * TFLite flattens x to [rows, units], which the runtime (shapes stored for a batch of 1) holds for one row per sample.
 */
sscma_status qm_tfl_read_fc(reader *rd, tfl_read_op *ro, qm_op *op)
{
    if (ro->n_in < 2 || ro->n_in > 3 || ro->ids[1] < 0 || ro->xt->rank < 2)
        return tfl_bad_op(rd, ro->index, ro->code, "needs a [N, ..., in] input and weights");
    const qm_tensor *w = &rd->q->t[ro->ids[1]];
    if (!w->constant || w->rank != 2 || w->dims[0] < 1 || w->dims[1] < 1)
        return tfl_bad_op(rd, ro->index, ro->code, "weights must be a constant [units, depth] tensor");
    const bool keep = fb_get_u8(&rd->r, ro->opt, 2, 0) != 0;
    const int64_t n = sscma_qm_numel(ro->xt), depth = w->dims[1];
    if (keep ? ro->xt->dims[ro->xt->rank - 1] != depth : n % depth != 0)
        return tfl_bad_op(rd, ro->index, ro->code, "the input's size is not a multiple of the weights' depth");
    if (!keep && n / depth != 1)
        return tfl_bad_op(rd, ro->index, ro->code, "an output of several rows per sample needs keep_num_dims");
    tfl_read_extra_inputs(ro, op);
    op->act = tfl_act_of(fb_get_u8(&rd->r, ro->opt, 0, 0), &ro->act_ok);
    if (fb_get_u8(&rd->r, ro->opt, 1, 0) != 0)
        return tfl_bad_op(rd, ro->index, ro->code, "shuffled weight formats are not supported");
    return SSCMA_OK;
}

sscma_status qm_tfl_read_add(reader *rd, tfl_read_op *ro, qm_op *op)
{
    if (ro->n_in != 2 || ro->ids[1] < 0)
        return tfl_bad_op(rd, ro->index, ro->code, "needs 2 inputs");
    op->in[1] = ro->ids[1], op->n_in = 2;
    op->act = tfl_act_of(fb_get_u8(&rd->r, ro->opt, 0, 0), &ro->act_ok);
    return SSCMA_OK;
}

sscma_status qm_tfl_read_concat(reader *rd, tfl_read_op *ro, qm_op *op)
{
    if ((uint32_t)ro->n_ids != ro->n_in)
        return tfl_bad_op(rd, ro->index, ro->code, "an input is missing");
    tfl_read_extra_inputs(ro, op);
    op->axis = fb_get_i32(&rd->r, ro->opt, 0, 0);
    if (op->axis < 0)
        op->axis += ro->yt->rank;
    op->act = tfl_act_of(fb_get_u8(&rd->r, ro->opt, 1, 0), &ro->act_ok);
    return SSCMA_OK;
}

sscma_status qm_tfl_read_pool(reader *rd, tfl_read_op *ro, qm_op *op)
{
    fb_reader *r = &rd->r;
    if (ro->xt->rank != 4 || ro->yt->rank != 4)
        return tfl_bad_op(rd, ro->index, ro->code, "needs NHWC input and output");
    int8_t padding = (int8_t)fb_get_u8(r, ro->opt, 0, 0);
    op->stride_w = fb_get_i32(r, ro->opt, 1, 1), op->stride_h = fb_get_i32(r, ro->opt, 2, 1);
    op->kw = fb_get_i32(r, ro->opt, 3, 1), op->kh = fb_get_i32(r, ro->opt, 4, 1);
    op->act = tfl_act_of(fb_get_u8(r, ro->opt, 5, 0), &ro->act_ok);
    if (op->stride_h < 1 || op->stride_w < 1 || op->kh < 1 || op->kw < 1 || op->kh > 4096 || op->kw > 4096)
        return tfl_bad_op(rd, ro->index, ro->code, "bad filter or stride");
    tfl_pads(padding, ro->xt->dims[1], ro->yt->dims[1], op->kh, op->stride_h, 1, &op->pad_t, &op->pad_b);
    tfl_pads(padding, ro->xt->dims[2], ro->yt->dims[2], op->kw, op->stride_w, 1, &op->pad_l, &op->pad_r);
    return SSCMA_OK;
}

/* Elementwise operators whose options carry nothing the runtime needs. */
sscma_status qm_tfl_read_plain(reader *rd, tfl_read_op *ro, qm_op *op)
{
    tfl_dynamic_same_shape(rd, ro, op);
    return SSCMA_OK;
}

sscma_status qm_tfl_read_softmax(reader *rd, tfl_read_op *ro, qm_op *op)
{
    (void)op;
    if (fb_get_f32(&rd->r, ro->opt, 0, 1.0f) != 1.0f)
        return tfl_bad_op(rd, ro->index, ro->code, "softmax with beta other than 1");
    return SSCMA_OK;
}

sscma_status qm_tfl_read_pad(reader *rd, tfl_read_op *ro, qm_op *op)
{
    fb_reader *r = &rd->r;
    uint32_t bytes = 0;
    const bool v2 = ro->code == TFL_OP_PADV2;
    if (ro->n_in != (v2 ? 3u : 2u) || (uint32_t)ro->tin[1] >= rd->n_tensors)
        return tfl_bad_op(rd, ro->index, ro->code,
                          v2 ? "needs the paddings and constant_values inputs" : "needs the paddings input");
    fb_table pt = fb_vector_table(r, rd->tensors, (uint32_t)ro->tin[1]);
    const uint8_t *pd = tfl_buffer_data(rd, fb_get_u32(r, pt, 2, 0), &bytes);
    if (pd == NULL || bytes != 32 || fb_get_u8(r, pt, 1, 0) != TFL_TYPE_INT32)
        return tfl_bad_op(rd, ro->index, ro->code, "paddings must be a constant int32 [4, 2]");
    int32_t pads[8];
    for (int k = 0; k < 8; k++)
        pads[k] = (int32_t)((uint32_t)pd[4 * k] | (uint32_t)pd[4 * k + 1] << 8 | (uint32_t)pd[4 * k + 2] << 16 |
                            (uint32_t)pd[4 * k + 3] << 24);
    if (pads[0] || pads[1] || pads[6] || pads[7] || pads[2] < 0 || pads[3] < 0 || pads[4] < 0 || pads[5] < 0)
        return tfl_bad_op(rd, ro->index, ro->code, "only non-negative padding of H and W is supported");
    op->pad_t = pads[2], op->pad_b = pads[3], op->pad_l = pads[4], op->pad_r = pads[5];
    return ro->code == TFL_OP_PADV2 ? qm_tfl_read_pad_value(rd, ro, op) : SSCMA_OK;
}

sscma_status qm_tfl_read_requant(reader *rd, tfl_read_op *ro, qm_op *op)
{
    bool in_ok = ro->xt->dtype == SSCMA_DTYPE_I8 || ro->xt->dtype == SSCMA_DTYPE_U8 || ro->xt->dtype == SSCMA_DTYPE_F32;
    bool out_ok = ro->yt->dtype == SSCMA_DTYPE_I8 || ro->yt->dtype == SSCMA_DTYPE_U8;
    if (!in_ok || !out_ok)
        return tfl_bad_op(rd, ro->index, ro->code, "QUANTIZE from float32, int8 or uint8 to int8 or uint8 only");
    tfl_dynamic_same_shape(rd, ro, op);
    return SSCMA_OK;
}

/* The kinds' row that reads (and writes) builtin `code`, or NULL: the table is the only map between the two. */
static const qm_format_def *kind_of_code(int32_t code)
{
    for (int32_t k = QM_KIND_NONE + 1; k < QM_KIND_COUNT; k++) {
        const qm_format_def *def = sscma_qm_format((qm_kind)k);
        for (int32_t c = 0; c < QM_TFLITE_CODES && def->tflite_read != NULL; c++)
            if (def->tflite_codes[c] == code && (c == 0 || code != 0)) /* a later 0 is a slot left unset */
                return def;
    }
    return NULL;
}

static sscma_status read_op(reader *rd, uint32_t index, fb_table o, const int32_t *codes, uint32_t n_codes)
{
    fb_reader *r = &rd->r;
    uint32_t oc = fb_get_u32(r, o, 0, 0);
    uint32_t n_in = 0, n_out = 0;
    size_t iv = fb_get_vector(r, o, 1, 4, &n_in), ov = fb_get_vector(r, o, 2, 4, &n_out);
    fb_table opt = fb_get_table(r, o, 4);
    if (!r->ok || oc >= n_codes || n_out < 1 || n_out > 64 || n_in < 1 || n_in > QM_MAX_IN)
        return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "operator %u is malformed (opcode, inputs or outputs)",
                          (unsigned)index);
    int32_t code = codes[oc];
    /* one output per op: SPLIT and SPLIT_V become one slice per output, read below one by one */
    if (n_out != 1 && code != TFL_OP_SPLIT && code != TFL_OP_SPLIT_V)
        return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "operator %u is malformed (opcode, inputs or outputs)",
                          (unsigned)index);
    int32_t tin[QM_MAX_IN];
    for (uint32_t k = 0; k < n_in; k++)
        tin[k] = fb_vector_i32_at(r, iv, k);
    /* every tensor first: making one may move the table, so pointers into it are taken afterwards */
    sscma_status st;
    int32_t ids[QM_MAX_IN], y, n_ids = 0;
    for (uint32_t k = 0; k < n_in; k++) {
        ids[k] = -1;
        if (tin[k] >= 0 && (st = make_tensor(rd, (uint32_t)tin[k], &ids[k])) != SSCMA_OK)
            return st;
        n_ids += tin[k] >= 0;
    }
    if (ids[0] < 0)
        return tfl_bad_op(rd, index, code, "the first input is missing");
    const qm_format_def *def = kind_of_code(code);
    if (def == NULL)
        return tfl_bad_op(rd, index, code, "the runtime has no kernel for this operator");
    for (uint32_t j = 0; j < n_out; j++) {
        int32_t tout = fb_vector_i32_at(r, ov, j);
        if ((st = make_tensor(rd, (uint32_t)tout, &y)) != SSCMA_OK)
            return st;
        char name[32];
        if (n_out == 1)
            snprintf(name, sizeof name, "op%u", (unsigned)index);
        else
            snprintf(name, sizeof name, "op%u:%u", (unsigned)index, (unsigned)j);
        qm_op op = {.name = name, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1, .n_in = 1};
        op.kind = def->kind, op.in[0] = ids[0], op.out = y;
        tfl_read_op ro = {index, code, opt, n_in, tin, ids, n_ids, &rd->q->t[ids[0]], &rd->q->t[y], true,
                          n_out, j, tout};
        if ((st = def->tflite_read(rd, &ro, &op)) != SSCMA_OK)
            return st;
        if (!ro.act_ok)
            return tfl_bad_op(rd, index, code, "fused activation other than ReLU or ReLU6");
        if (!r->ok)
            return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "operator %u has malformed options", (unsigned)index);
        if ((st = sscma_qm_add_op(rd->q, &op, NULL)) != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

/*
 * Marks the operators the subgraph's outputs depend on. RESHAPE's second input (the new shape) is not followed: the
 * output tensor's static shape says the same, so the SHAPE -> STRIDED_SLICE -> PACK chain that TensorFlow emits to
 * compute a dynamic batch's shape is never read, and neither is any other operator whose result nothing uses.
 */
static void live_ops(reader *rd, size_t opv, uint32_t n_ops, size_t ov, uint32_t n_out, const int32_t *codes,
                     uint32_t n_codes, uint8_t *live)
{
    fb_reader *r = &rd->r;
    uint8_t *needed = sscma_calloc(rd->q->ctx, rd->n_tensors ? rd->n_tensors : 1, 1);
    if (needed == NULL) { /* then every operator is read, as before this pass */
        memset(live, 1, n_ops);
        return;
    }
    for (uint32_t i = 0; i < n_out; i++) {
        uint32_t t = (uint32_t)fb_vector_i32_at(r, ov, i);
        if (t < rd->n_tensors)
            needed[t] = 1;
    }
    for (uint32_t k = n_ops; k-- > 0;) {
        fb_table o = fb_vector_table(r, opv, k);
        uint32_t oc = fb_get_u32(r, o, 0, 0), ni = 0, no = 0;
        size_t ins = fb_get_vector(r, o, 1, 4, &ni), outs = fb_get_vector(r, o, 2, 4, &no);
        if (!r->ok) {
            memset(live, 1, n_ops); /* read_op reports the damage */
            break;
        }
        for (uint32_t j = 0; j < no && !live[k]; j++) {
            uint32_t t = (uint32_t)fb_vector_i32_at(r, outs, j);
            live[k] = t < rd->n_tensors && needed[t];
        }
        if (!live[k])
            continue;
        uint32_t follow = oc < n_codes && codes[oc] == TFL_OP_RESHAPE && ni > 1 ? 1 : ni;
        for (uint32_t j = 0; j < follow; j++) {
            uint32_t t = (uint32_t)fb_vector_i32_at(r, ins, j);
            if (t < rd->n_tensors)
                needed[t] = 1;
        }
    }
    sscma_mfree(rd->q->ctx, needed);
}

static sscma_status read_model(reader *rd)
{
    fb_reader *r = &rd->r;
    if (r->size >= 8 && r->size < 16 && memcmp(r->data + 4, "TFL3", 4) == 0)
        return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "truncated at byte %zu: a TFLite file's header alone is longer",
                          r->size);
    if (r->size < 16 || memcmp(r->data + 4, "TFL3", 4) != 0)
        return tfl_bad(rd, "not a TFLite file (no TFL3 identifier)");
    fb_table model = fb_root(r);
    uint32_t version = fb_get_u32(r, model, 0, 0);
    if (!r->ok)
        return tfl_bad(rd, "the model table is unreadable");
    if (version != 3)
        return sscma_fail(SSCMA_ERR_FORMAT, rd->path, "TFLite schema version %u; expected 3", (unsigned)version);
    uint32_t n_codes = 0, n_sub = 0;
    size_t cv = fb_get_vector(r, model, 1, 4, &n_codes), sv = fb_get_vector(r, model, 2, 4, &n_sub);
    rd->buffers = fb_get_vector(r, model, 4, 4, &rd->n_buffers);
    if (!r->ok || n_sub != 1 || n_codes > 256)
        return tfl_bad(rd, "expected one subgraph and at most 256 operator codes");
    int32_t codes[256];
    for (uint32_t c = 0; c < n_codes; c++) {
        fb_table t = fb_vector_table(r, cv, c);
        int32_t dep = (int8_t)fb_get_u8(r, t, 0, 0);
        codes[c] = fb_get_i32(r, t, 3, dep);
        if (fb_get_vector(r, t, 1, 1, &(uint32_t){0}) != 0)
            return tfl_bad(rd, "custom operators are not supported");
    }
    fb_table sg = fb_vector_table(r, sv, 0);
    rd->tensors = fb_get_vector(r, sg, 0, 4, &rd->n_tensors);
    uint32_t n_in = 0, n_out = 0, n_ops = 0;
    size_t iv = fb_get_vector(r, sg, 1, 4, &n_in), ov = fb_get_vector(r, sg, 2, 4, &n_out);
    size_t opv = fb_get_vector(r, sg, 3, 4, &n_ops);
    if (!r->ok || n_in < 1 || n_in > 4 || n_out < 1 || n_out > 8 || rd->n_tensors > (1u << 20))
        return tfl_bad(rd, "the subgraph needs 1 to 4 inputs and 1 to 8 outputs");
    rd->map = sscma_malloc(rd->q->ctx, (size_t)rd->n_tensors * sizeof *rd->map);
    rd->dw_weight = sscma_calloc(rd->q->ctx, rd->n_tensors ? rd->n_tensors : 1, 1);
    if (rd->map == NULL || rd->dw_weight == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, rd->path, "out of memory");
    for (uint32_t i = 0; i < rd->n_tensors; i++)
        rd->map[i] = -1;
    for (uint32_t k = 0; k < n_ops; k++) {
        fb_table o = fb_vector_table(r, opv, k);
        uint32_t oc = fb_get_u32(r, o, 0, 0), ni = 0;
        size_t ins = fb_get_vector(r, o, 1, 4, &ni);
        if (r->ok && oc < n_codes && codes[oc] == TFL_OP_DEPTHWISE_CONV_2D && ni >= 2) {
            uint32_t w = (uint32_t)fb_vector_i32_at(r, ins, 1);
            if (w < rd->n_tensors)
                rd->dw_weight[w] = 1;
        }
    }
    sscma_status st;
    for (uint32_t i = 0; i < n_in; i++) {
        int32_t id;
        if ((st = make_tensor(rd, (uint32_t)fb_vector_i32_at(r, iv, i), &id)) != SSCMA_OK)
            return st;
        rd->q->inputs[rd->q->n_inputs++] = id;
    }
    uint8_t *live = sscma_calloc(rd->q->ctx, n_ops ? n_ops : 1, 1);
    if (live == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, rd->path, "out of memory");
    live_ops(rd, opv, n_ops, ov, n_out, codes, n_codes, live);
    st = SSCMA_OK;
    for (uint32_t k = 0; k < n_ops && st == SSCMA_OK; k++)
        if (live[k])
            st = read_op(rd, k, fb_vector_table(r, opv, k), codes, n_codes);
    sscma_mfree(rd->q->ctx, live);
    if (st != SSCMA_OK)
        return st;
    for (uint32_t i = 0; i < n_out; i++) {
        int32_t id;
        if ((st = make_tensor(rd, (uint32_t)fb_vector_i32_at(r, ov, i), &id)) != SSCMA_OK)
            return st;
        rd->q->outputs[rd->q->n_outputs++] = id;
    }
    uint32_t n_md = 0;
    size_t mdv = fb_get_vector(r, model, 6, 4, &n_md);
    for (uint32_t i = 0; i < n_md && r->ok; i++) {
        fb_table md = fb_vector_table(r, mdv, i);
        char key[80];
        fb_get_string(r, md, 0, key, sizeof key);
        uint32_t bytes = 0;
        const uint8_t *val = tfl_buffer_data(rd, fb_get_u32(r, md, 1, 0), &bytes);
        if (!r->ok || key[0] == '\0' || val == NULL || bytes > 65536 || memchr(val, 0, bytes) != NULL)
            continue; /* metadata libsscma does not know (binary, or empty): ignored */
        char *text = sscma_malloc(rd->q->ctx, (size_t)bytes + 1);
        if (text == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, rd->path, "out of memory");
        memcpy(text, val, bytes);
        text[bytes] = '\0';
        if (strcmp(key, "family") == 0)
            snprintf(rd->q->family, sizeof rd->q->family, "%s", text);
        else if (rd->q->n_meta < QM_MAX_META && strlen(key) <= 64)
            st = sscma_qmodel_set_meta(rd->q, key, text);
        sscma_mfree(rd->q->ctx, text);
        if (st != SSCMA_OK)
            return st;
    }
    if (!r->ok)
        return tfl_bad(rd, "the file is truncated or malformed");
    /* an int8 model: its activations are integers (float or uint8 inputs and outputs only through conversions) */
    rd->q->int8 = false;
    for (int32_t i = 0; i < rd->q->n_t; i++)
        if (!rd->q->t[i].constant && (rd->q->t[i].dtype == SSCMA_DTYPE_I8 || rd->q->t[i].dtype == SSCMA_DTYPE_U8))
            rd->q->int8 = true;
    st = sscma_qm_validate(rd->q);
    if (st == SSCMA_OK && rd->q->int8) /* computed once: the model is read-only from here on (plans share it) */
        st = sscma_qm_prepare_int8(rd->q);
    if (st != SSCMA_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", sscma_last_error());
        return sscma_fail(st, rd->path, "%s", why);
    }
    return SSCMA_OK;
}

sscma_status sscma_tflite_read(sscma_context *ctx, const uint8_t *data, size_t size, const char *where,
                               sscma_qmodel **out)
{
    reader rd;
    memset(&rd, 0, sizeof rd);
    rd.r.data = data, rd.r.size = size, rd.r.ok = true;
    rd.path = where;
    sscma_status st = sscma_qm_create(ctx, &rd.q);
    if (st == SSCMA_OK)
        st = read_model(&rd);
    sscma_mfree(ctx, rd.dw_weight);
    sscma_mfree(ctx, rd.map);
    if (st != SSCMA_OK) {
        sscma_qmodel_destroy(rd.q);
        return st;
    }
    *out = rd.q;
    return SSCMA_OK;
}

#if !defined(SSCMA_MICRO) /* files, and sscma info's description in JSON */
sscma_status sscma_qmodel_load_tflite(sscma_context *ctx, const char *path, sscma_qmodel **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(path);
    SSCMA_REQUIRE_NONNULL(out);
    void *data = NULL;
    size_t size = 0;
    sscma_status st = sscma_read_file(ctx, path, &data, &size);
    if (st != SSCMA_OK)
        return st;
    st = sscma_tflite_read(ctx, data, size, path, out);
    sscma_mfree(ctx, data);
    return st;
}

/* ---- describing a file (sscma info) ---- */

static const char *type_name(int8_t type)
{
    switch (type) {
    case TFL_TYPE_FLOAT32: return "float32";
    case TFL_TYPE_INT32: return "int32";
    case TFL_TYPE_UINT8: return "uint8";
    case TFL_TYPE_INT64: return "int64";
    case TFL_TYPE_INT8: return "int8";
    default: return "other";
    }
}

/* {"name", "type", "shape", "scale", "zero_point"} of TFLite tensor i (quantization when it has one). */
static json_t *tensor_json(fb_reader *r, size_t tensors, uint32_t n_tensors, uint32_t i)
{
    if (i >= n_tensors)
        return json_null();
    fb_table t = fb_vector_table(r, tensors, i);
    uint32_t rank = 0;
    size_t sv = fb_get_vector(r, t, 0, 4, &rank);
    char name[256];
    fb_get_string(r, t, 3, name, sizeof name);
    json_t *shape = json_array();
    for (uint32_t k = 0; k < rank && k < 8; k++)
        json_array_append_new(shape, json_integer(fb_vector_i32_at(r, sv, k)));
    json_t *o = json_pack("{s:s, s:s, s:o}", "name", name, "type", type_name((int8_t)fb_get_u8(r, t, 1, 0)), "shape",
                          shape);
    fb_table qp = fb_get_table(r, t, 4);
    uint32_t ns = 0, nz = 0;
    size_t scv = fb_get_vector(r, qp, 2, 4, &ns), zpv = fb_get_vector(r, qp, 3, 8, &nz);
    if (o != NULL && ns == 1 && nz == 1) {
        json_object_set_new(o, "scale", json_real(fb_vector_f32_at(r, scv, 0)));
        json_object_set_new(o, "zero_point", json_integer(fb_vector_i64_at(r, zpv, 0)));
    } else if (o != NULL && ns > 1) {
        json_object_set_new(o, "scales", json_integer(ns)); /* per channel: how many */
    }
    return o;
}

/* The description's JSON object; NULL with the error set. */
static json_t *describe(sscma_context *ctx, const char *path, const uint8_t *data, size_t size, sscma_status *st)
{
    *st = SSCMA_OK;
    reader rd;
    memset(&rd, 0, sizeof rd);
    rd.r.data = data, rd.r.size = size, rd.r.ok = true;
    rd.path = path;
    fb_reader *r = &rd.r;
    if (size < 16 || memcmp(data + 4, "TFL3", 4) != 0) {
        *st = tfl_bad(&rd, "not a TFLite file (no TFL3 identifier)");
        return NULL;
    }
    fb_table model = fb_root(r);
    uint32_t version = fb_get_u32(r, model, 0, 0), n_codes = 0, n_sub = 0;
    size_t cv = fb_get_vector(r, model, 1, 4, &n_codes), sv = fb_get_vector(r, model, 2, 4, &n_sub);
    rd.buffers = fb_get_vector(r, model, 4, 4, &rd.n_buffers);
    char desc[256];
    fb_get_string(r, model, 3, desc, sizeof desc);
    if (!r->ok || n_sub < 1 || n_codes > 4096) {
        *st = tfl_bad(&rd, "the model table is unreadable");
        return NULL;
    }
    fb_table sg = fb_vector_table(r, sv, 0);
    uint32_t n_in = 0, n_out = 0, n_ops = 0;
    rd.tensors = fb_get_vector(r, sg, 0, 4, &rd.n_tensors);
    size_t iv = fb_get_vector(r, sg, 1, 4, &n_in), ov = fb_get_vector(r, sg, 2, 4, &n_out);
    size_t opv = fb_get_vector(r, sg, 3, 4, &n_ops);
    if (!r->ok) {
        *st = tfl_bad(&rd, "the subgraph is unreadable");
        return NULL;
    }
    json_t *o = json_pack("{s:s, s:I, s:s, s:I, s:I}", "file", path, "schema_version", (json_int_t)version,
                          "description", desc, "subgraphs", (json_int_t)n_sub, "tensors", (json_int_t)rd.n_tensors);
    json_t *ins = json_array(), *outs = json_array(), *ops = json_array(), *unsupported = json_array();
    json_t *meta = json_object();
    if (o == NULL || ins == NULL || outs == NULL || ops == NULL || unsupported == NULL || meta == NULL) {
        json_decref(o), json_decref(ins), json_decref(outs), json_decref(ops), json_decref(unsupported);
        json_decref(meta);
        *st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "out of memory");
        return NULL;
    }
    json_object_set_new(o, "inputs", ins);
    json_object_set_new(o, "outputs", outs);
    json_object_set_new(o, "operators", ops);
    json_object_set_new(o, "unsupported", unsupported);
    json_object_set_new(o, "metadata", meta);
    for (uint32_t i = 0; i < n_in && i < 64; i++)
        json_array_append_new(ins, tensor_json(r, rd.tensors, rd.n_tensors, (uint32_t)fb_vector_i32_at(r, iv, i)));
    for (uint32_t i = 0; i < n_out && i < 64; i++)
        json_array_append_new(outs, tensor_json(r, rd.tensors, rd.n_tensors, (uint32_t)fb_vector_i32_at(r, ov, i)));
    /* operators by builtin code, in first-use order */
    for (uint32_t k = 0; k < n_ops && r->ok; k++) {
        uint32_t oc = fb_get_u32(r, fb_vector_table(r, opv, k), 0, 0);
        int32_t code = -1;
        char custom[64] = "";
        if (oc < n_codes) {
            fb_table t = fb_vector_table(r, cv, oc);
            code = fb_get_i32(r, t, 3, (int8_t)fb_get_u8(r, t, 0, 0));
            fb_get_string(r, t, 1, custom, sizeof custom);
        }
        const char *name = custom[0] != '\0' ? custom : sscma_tflite_builtin_name(code);
        char unknown[32];
        if (name == NULL)
            snprintf(unknown, sizeof unknown, "builtin %d", (int)code), name = unknown;
        json_t *row = NULL;
        for (size_t j = 0; j < json_array_size(ops) && row == NULL; j++)
            if (strcmp(json_string_value(json_object_get(json_array_get(ops, j), "name")), name) == 0)
                row = json_array_get(ops, j);
        if (row != NULL) {
            json_object_set_new(row, "count", json_integer(json_integer_value(json_object_get(row, "count")) + 1));
            continue;
        }
        bool supported = custom[0] == '\0' && kind_of_code(code) != NULL;
        json_array_append_new(ops, json_pack("{s:s, s:i, s:i, s:b}", "name", name, "code", (int)code, "count", 1,
                                             "supported", supported));
        if (!supported)
            json_array_append_new(unsupported, json_string(name));
    }
    /* the constants' bytes: every tensor's buffer data, each buffer once */
    uint8_t *seen = sscma_calloc(ctx, rd.n_buffers ? rd.n_buffers : 1, 1);
    int64_t weights = 0;
    for (uint32_t i = 0; seen != NULL && i < rd.n_tensors && r->ok; i++) {
        uint32_t b = fb_get_u32(r, fb_vector_table(r, rd.tensors, i), 2, 0), bytes = 0;
        if (b < rd.n_buffers && !seen[b] && tfl_buffer_data(&rd, b, &bytes) != NULL)
            seen[b] = 1, weights += bytes;
    }
    sscma_mfree(ctx, seen);
    json_object_set_new(o, "weight_bytes", json_integer(weights));
    uint32_t n_md = 0;
    size_t mdv = fb_get_vector(r, model, 6, 4, &n_md);
    for (uint32_t i = 0; i < n_md && r->ok && i < 256; i++) {
        fb_table md = fb_vector_table(r, mdv, i);
        char key[80];
        fb_get_string(r, md, 0, key, sizeof key);
        uint32_t bytes = 0;
        const uint8_t *val = tfl_buffer_data(&rd, fb_get_u32(r, md, 1, 0), &bytes);
        if (key[0] == '\0' || val == NULL || bytes > 65536 || memchr(val, 0, bytes) != NULL)
            continue; /* binary metadata (TensorFlow's min_runtime_version, signatures): not text */
        json_t *text = json_stringn((const char *)val, bytes); /* NULL when not UTF-8 */
        if (text != NULL)
            json_object_set_new(meta, key, text);
    }
    if (!r->ok) {
        json_decref(o);
        *st = tfl_bad(&rd, "the file is truncated or malformed");
        return NULL;
    }
    return o;
}

sscma_status sscma_tflite_describe(sscma_context *ctx, const char *path, char *buf, size_t size, size_t *needed)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(path);
    SSCMA_REQUIRE_NONNULL(needed);
    if (buf == NULL && size > 0)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "'buf' is NULL with size %zu", size);
    void *data = NULL;
    size_t bytes = 0;
    sscma_status st = sscma_read_file(ctx, path, &data, &bytes);
    if (st != SSCMA_OK)
        return st;
    json_t *o = describe(ctx, path, data, bytes, &st);
    sscma_mfree(ctx, data);
    if (o == NULL)
        return st;
    /* does the runtime take it? its message when not */
    sscma_qmodel *q = NULL;
    if (sscma_qmodel_load_tflite(ctx, path, &q) == SSCMA_OK) {
        int64_t arena = 0;
        json_object_set_new(o, "loads", json_true());
        json_object_set_new(o, "error", json_null());
        if (sscma_qmodel_memory(q, 0, NULL, &arena) == SSCMA_OK)
            json_object_set_new(o, "arena_bytes", json_integer(arena));
        sscma_qmodel_destroy(q);
    } else {
        json_object_set_new(o, "loads", json_false());
        json_object_set_new(o, "error", json_string(sscma_last_error()));
    }
    sscma_clear_error();
    char *text = sscma_json_dumps(ctx, o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot print the description");
    size_t len = strlen(text) + 1;
    *needed = len;
    if (size > 0) {
        size_t n = len <= size ? len : size;
        memcpy(buf, text, n - 1);
        buf[n - 1] = '\0';
    }
    sscma_mfree(ctx, text);
    return SSCMA_OK;
}
#endif /* !SSCMA_MICRO */
