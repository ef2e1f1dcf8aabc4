/*
 * TFLite planners, options writers and readers of the data-movement kinds of quant/k_shape.c: TRANSPOSE, SLICE and
 * STRIDED_SLICE (one slice kind; SPLIT and SPLIT_V are read as one slice per output), TILE, PADV2's constant value
 * (QM_PAD), and RESHAPE's output shape under a dynamic batch. Semantics: TFLite's kernels (docs/export.md). The
 * batch axis is never moved or cut: the runtimes scale dims[0] to the plan's batch, so such a file is refused.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export/tflite_private.h"
#include "export/tflite_schema.h"

/* The int32 values of input k, which must be a constant int32 vector (or scalar) of n values (n < 0: up to -n). */
static sscma_status const_ints(reader *rd, const tfl_read_op *ro, uint32_t k, int32_t n, const char *what,
                               int32_t *v, int32_t *got)
{
    char why[160];
    snprintf(why, sizeof why, "%s must be a constant int32 vector of %s%d values", what, n < 0 ? "up to " : "",
             (int)(n < 0 ? -n : n));
    if (k >= ro->n_in || ro->ids[k] < 0)
        return tfl_bad_op(rd, ro->index, ro->code, why);
    const qm_tensor *t = &rd->q->t[ro->ids[k]];
    int64_t count = sscma_qm_numel(t);
    if (!t->constant || t->dtype != SSCMA_DTYPE_I32 || t->rank > 1 || (n >= 0 ? count != n : count > -n))
        return tfl_bad_op(rd, ro->index, ro->code, why);
    memcpy(v, t->data, (size_t)count * sizeof *v);
    if (got != NULL)
        *got = (int32_t)count;
    return SSCMA_OK;
}

/* ---- reading ---- */

sscma_status qm_tfl_read_transpose(reader *rd, tfl_read_op *ro, qm_op *op)
{
    const int32_t rank = ro->xt->rank;
    int32_t perm[4];
    sscma_status st = const_ints(rd, ro, 1, rank, "perm", perm, NULL);
    if (st != SSCMA_OK)
        return st;
    for (int32_t i = 0; i < rank; i++) {
        if (perm[i] < -rank || perm[i] >= rank)
            return tfl_bad_op(rd, ro->index, ro->code, "a perm value is outside [-rank, rank)");
        op->perm[i] = perm[i] < 0 ? perm[i] + rank : perm[i];
    }
    if (rank > 0 && op->perm[0] != 0)
        return tfl_bad_op(rd, ro->index, ro->code, "perm moves the batch axis (perm[0] must be 0): the runtime keeps "
                                                   "axis 0 as the batch");
    return SSCMA_OK;
}

/* Batch axis: taken whole (begin 0, one element of the stored batch of 1), never shrunk. */
static sscma_status keep_batch(reader *rd, const tfl_read_op *ro, qm_op *op)
{
    if (op->begin[0] != 0 || op->count[0] != 1 || (op->shrink & 1))
        return tfl_bad_op(rd, ro->index, ro->code, "slices the batch axis: the runtime keeps axis 0 whole (it "
                                                   "scales it to the batch)");
    op->step[0] = 1;
    return SSCMA_OK;
}

static sscma_status read_slice(reader *rd, tfl_read_op *ro, qm_op *op)
{
    const qm_tensor *x = ro->xt;
    int32_t begin[4], size[4];
    sscma_status st = const_ints(rd, ro, 1, x->rank, "begin", begin, NULL);
    if (st == SSCMA_OK)
        st = const_ints(rd, ro, 2, x->rank, "size", size, NULL);
    if (st != SSCMA_OK)
        return st;
    for (int32_t a = 0; a < x->rank; a++) {
        int64_t n = size[a] == -1 ? x->dims[a] - begin[a] : size[a];
        if (begin[a] < 0 || n < 1 || begin[a] + n > x->dims[a])
            return tfl_bad_op(rd, ro->index, ro->code, "begin and size must select a non-empty part of the input");
        op->begin[a] = begin[a], op->step[a] = 1, op->count[a] = (int32_t)n;
    }
    return SSCMA_OK;
}

/* TFLite's StartForAxis / EndForAxis and the output dim (reference/strided_slice.h), one axis. */
static int64_t slice_axis(int64_t size, int32_t b, int32_t e, int32_t stride, bool bmask, bool emask, bool shrink,
                          int64_t *start)
{
    int64_t s = b < 0 ? (int64_t)b + size : b;
    s = stride > 0 ? (s < 0 ? 0 : s > size ? size : s) : (s < -1 ? -1 : s > size - 1 ? size - 1 : s);
    if (bmask)
        s = stride > 0 ? 0 : size - 1;
    *start = s;
    if (shrink)
        return s >= 0 && s < size ? 1 : 0;
    int64_t end = e < 0 ? (int64_t)e + size : e;
    end = stride > 0 ? (end < 0 ? 0 : end > size ? size : end) : (end < -1 ? -1 : end > size - 1 ? size - 1 : end);
    if (emask)
        end = stride > 0 ? size : -1;
    int64_t len = end - s;
    if (len == 0 || (len > 0) != (stride > 0))
        return 0;
    return stride < 0 ? (len + 1) / stride + 1 : (len - 1) / stride + 1;
}

static sscma_status read_strided_slice(reader *rd, tfl_read_op *ro, qm_op *op)
{
    fb_reader *r = &rd->r;
    const qm_tensor *x = ro->xt;
    int32_t begin[4], end[4], strides[4], n = 0, n_end = 0, n_strides = 0;
    sscma_status st = const_ints(rd, ro, 1, -x->rank, "begin", begin, &n);
    if (st == SSCMA_OK)
        st = const_ints(rd, ro, 2, -x->rank, "end", end, &n_end);
    if (st == SSCMA_OK)
        st = const_ints(rd, ro, 3, -x->rank, "strides", strides, &n_strides);
    if (st != SSCMA_OK)
        return st;
    if (n_end != n || n_strides != n)
        return tfl_bad_op(rd, ro->index, ro->code, "begin, end and strides must have the same length");
    int32_t bmask = fb_get_i32(r, ro->opt, 0, 0), emask = fb_get_i32(r, ro->opt, 1, 0);
    int32_t shrink = fb_get_i32(r, ro->opt, 4, 0);
    if (fb_get_i32(r, ro->opt, 2, 0) != 0 || fb_get_i32(r, ro->opt, 3, 0) != 0)
        return tfl_bad_op(rd, ro->index, ro->code, "ellipsis_mask and new_axis_mask are not supported");
    if (fb_get_u8(r, ro->opt, 5, 0) != 0)
        return tfl_bad_op(rd, ro->index, ro->code, "offset is not supported");
    op->shrink = 0;
    for (int32_t a = 0; a < x->rank; a++) {
        bool in_spec = a < n; /* beyond the spec: the whole axis */
        int32_t stride = in_spec ? strides[a] : 1;
        bool sh = in_spec && (shrink >> a & 1);
        if (stride == 0)
            return tfl_bad_op(rd, ro->index, ro->code, "a stride is 0");
        if (sh && stride < 0)
            return tfl_bad_op(rd, ro->index, ro->code, "a shrunk axis with a negative stride is not supported");
        int64_t start;
        int64_t count = slice_axis(x->dims[a], in_spec ? begin[a] : 0, in_spec ? end[a] : 0, stride,
                                   !in_spec || (bmask >> a & 1), !in_spec || (emask >> a & 1), sh, &start);
        if (count < 1)
            return tfl_bad_op(rd, ro->index, ro->code, "the slice is empty along an axis");
        op->begin[a] = (int32_t)start, op->step[a] = count == 1 ? 1 : stride, op->count[a] = (int32_t)count;
        op->shrink |= sh ? 1 << a : 0;
    }
    return SSCMA_OK;
}

/* Output ro->out_index of SPLIT (axis = input 0, value = input 1) or SPLIT_V (value, size_splits, axis). */
static sscma_status read_split(reader *rd, tfl_read_op *ro, qm_op *op)
{
    const bool v = ro->code == TFL_OP_SPLIT_V;
    if (ro->n_in != (v ? 3u : 2u) || ro->ids[v ? 0 : 1] < 0)
        return tfl_bad_op(rd, ro->index, ro->code, v ? "needs value, size_splits and axis" : "needs axis and value");
    op->in[0] = ro->ids[v ? 0 : 1];
    const qm_tensor *x = &rd->q->t[op->in[0]];
    int32_t axis;
    sscma_status st = const_ints(rd, ro, v ? 2 : 0, 1, "axis", &axis, NULL);
    if (st != SSCMA_OK)
        return st;
    if (axis < -x->rank || axis >= x->rank)
        return tfl_bad_op(rd, ro->index, ro->code, "axis is outside the input's rank");
    axis += axis < 0 ? x->rank : 0;
    const int64_t dim = x->dims[axis];
    int32_t num = fb_get_i32(&rd->r, ro->opt, 0, 0);
    if (num < 1 || (uint32_t)num != ro->n_out)
        return tfl_bad_op(rd, ro->index, ro->code, "num_splits must equal the number of outputs");
    int64_t first = 0, size = 0;
    if (!v) {
        if (dim % num != 0)
            return tfl_bad_op(rd, ro->index, ro->code, "the axis is not divisible by num_splits");
        size = dim / num, first = size * ro->out_index;
    } else {
        int32_t sizes[64];
        if ((st = const_ints(rd, ro, 1, num, "size_splits", sizes, NULL)) != SSCMA_OK)
            return st;
        int64_t sum = 0;
        int32_t unknown = -1;
        for (int32_t k = 0; k < num; k++) {
            if (sizes[k] == -1 && unknown < 0)
                unknown = k;
            else if (sizes[k] < 0)
                return tfl_bad_op(rd, ro->index, ro->code, "size_splits has a negative size or two -1");
            else
                sum += sizes[k];
        }
        if (sum > dim || (unknown < 0 && sum != dim))
            return tfl_bad_op(rd, ro->index, ro->code, "size_splits does not add up to the axis");
        for (uint32_t k = 0; k <= ro->out_index; k++) {
            first += size;
            size = (int32_t)k == unknown ? dim - sum : sizes[k];
        }
    }
    if (size < 1)
        return tfl_bad_op(rd, ro->index, ro->code, "an output would be empty");
    for (int32_t a = 0; a < x->rank; a++)
        op->begin[a] = 0, op->step[a] = 1, op->count[a] = (int32_t)x->dims[a];
    op->begin[axis] = (int32_t)first, op->count[axis] = (int32_t)size;
    return SSCMA_OK;
}

sscma_status qm_tfl_read_slice(reader *rd, tfl_read_op *ro, qm_op *op)
{
    sscma_status st = ro->code == TFL_OP_SLICE           ? read_slice(rd, ro, op)
                      : ro->code == TFL_OP_STRIDED_SLICE ? read_strided_slice(rd, ro, op)
                                                         : read_split(rd, ro, op);
    return st == SSCMA_OK && rd->q->t[op->in[0]].rank > 0 ? keep_batch(rd, ro, op) : st;
}

sscma_status qm_tfl_read_tile(reader *rd, tfl_read_op *ro, qm_op *op)
{
    (void)op;
    const qm_tensor *x = ro->xt, *y = ro->yt;
    int32_t m[4];
    sscma_status st = const_ints(rd, ro, 1, x->rank, "multiples", m, NULL);
    if (st != SSCMA_OK)
        return st;
    if (x->rank > 0 && m[0] != 1)
        return tfl_bad_op(rd, ro->index, ro->code, "multiples[0] must be 1: the runtime keeps axis 0 as the batch");
    for (int32_t a = 0; a < x->rank; a++)
        if (m[a] < 1 || y->rank != x->rank || y->dims[a] != x->dims[a] * m[a])
            return tfl_bad_op(rd, ro->index, ro->code, "the output shape is not the input's times multiples");
    return SSCMA_OK;
}

/* PADV2's constant_values (input 2): one value of the input's type; int8 with the output's scale and zero point. */
sscma_status qm_tfl_read_pad_value(reader *rd, tfl_read_op *ro, qm_op *op)
{
    const qm_tensor *v = ro->ids[2] >= 0 ? &rd->q->t[ro->ids[2]] : NULL, *y = ro->yt;
    if (v == NULL || !v->constant || v->dtype != ro->xt->dtype || sscma_qm_numel(v) != 1)
        return tfl_bad_op(rd, ro->index, ro->code, "constant_values must be one constant value of the input's type");
    if (v->dtype == SSCMA_DTYPE_F32) {
        memcpy(&op->pad_value, v->data, sizeof op->pad_value);
        if (!isfinite(op->pad_value))
            return tfl_bad_op(rd, ro->index, ro->code, "constant_values must be finite");
        return SSCMA_OK;
    }
    if (v->dtype != SSCMA_DTYPE_I8 || v->n_q != 1 || y->n_q != 1 || v->scale[0] != y->scale[0] ||
        v->zero_point[0] != y->zero_point[0])
        return tfl_bad_op(rd, ro->index, ro->code, "constant_values must be int8 with the output's scale and zero "
                                                   "point");
    op->pad_value = (float)(*(const int8_t *)v->data - y->zero_point[0]) * y->scale[0];
    return SSCMA_OK;
}

/*
 * A dynamic batch (TensorFlow's SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE): the output's stored shape has 1 where
 * its shape_signature has -1, so [-1, -1] is stored [1, 1]. The batch (-1 at axis 0) is 1; another single -1 is
 * what the input's size leaves.
 */
sscma_status qm_tfl_read_reshape(reader *rd, tfl_read_op *ro, qm_op *op)
{
    fb_reader *r = &rd->r;
    qm_tensor *y = &rd->q->t[op->out];
    int64_t in = sscma_qm_numel(ro->xt);
    if (sscma_qm_numel(y) == in || ro->tout < 0 || (uint32_t)ro->tout >= rd->n_tensors)
        return SSCMA_OK;
    uint32_t rank = 0;
    size_t sig = fb_get_vector(r, fb_vector_table(r, rd->tensors, (uint32_t)ro->tout), 7, 4, &rank);
    if (!r->ok || sig == 0 || rank != (uint32_t)y->rank)
        return SSCMA_OK; /* validation reports the sizes */
    int64_t known = 1;
    int32_t unknown = -1;
    for (uint32_t d = 0; d < rank; d++) {
        int32_t s = fb_vector_i32_at(r, sig, d);
        if (s == -1 && d > 0 && unknown >= 0)
            return tfl_bad_op(rd, ro->index, ro->code, "the output shape has two unknown dimensions besides the "
                                                       "batch");
        if (s == -1 && d > 0)
            unknown = (int32_t)d;
        else
            known *= s == -1 ? 1 : y->dims[d];
    }
    if (unknown < 0 || known < 1 || in % known != 0)
        return SSCMA_OK;
    if (fb_vector_i32_at(r, sig, 0) == -1)
        y->dims[0] = 1;
    y->dims[unknown] = in / known;
    return SSCMA_OK;
}

/*
 * An elementwise operator under a dynamic batch: where the output's shape_signature has -1 past the batch, the
 * stored 1 is a placeholder; the dimension is the input's.
 */
void tfl_dynamic_same_shape(reader *rd, const tfl_read_op *ro, qm_op *op)
{
    fb_reader *r = &rd->r;
    qm_tensor *y = &rd->q->t[op->out];
    const qm_tensor *x = &rd->q->t[op->in[0]];
    uint32_t rank = 0;
    if (ro->tout < 0 || (uint32_t)ro->tout >= rd->n_tensors || x->rank != y->rank)
        return;
    size_t sig = fb_get_vector(r, fb_vector_table(r, rd->tensors, (uint32_t)ro->tout), 7, 4, &rank);
    for (uint32_t d = 1; r->ok && sig != 0 && d < rank && d < (uint32_t)y->rank; d++)
        if (fb_vector_i32_at(r, sig, d) == -1)
            y->dims[d] = x->dims[d];
}

/* ---- writing ---- */

sscma_status qm_tfl_plan_transpose(plan *p, const qm_op *op, tfl_op *o)
{
    int32_t rank = p->q->t[op->in[0]].rank;
    o->code = TFL_OP_TRANSPOSE, o->version = tfl_int8_op(p, op) ? 2 : 1, o->n_in = 2;
    return tfl_const_i32(p, "perm", op->perm, rank, 1, &rank, &o->in[1]);
}

/*
 * STRIDED_SLICE's end per input axis: one step past the last element taken; where a negative stride runs past the
 * start (end -1 would count from the back), end_mask instead, which then ends the slice at the start.
 */
static int32_t slice_end(const qm_op *op, int32_t a, int32_t *end_mask)
{
    int64_t e = (int64_t)op->begin[a] + (int64_t)op->count[a] * op->step[a];
    if (e < 0)
        *end_mask |= 1 << a;
    return e < 0 ? 0 : (int32_t)e;
}

sscma_status qm_tfl_plan_slice(plan *p, const qm_op *op, tfl_op *o)
{
    int32_t rank = p->q->t[op->in[0]].rank, end[4], end_mask = 0;
    for (int32_t a = 0; a < rank; a++)
        end[a] = slice_end(op, a, &end_mask);
    o->code = TFL_OP_STRIDED_SLICE, o->version = tfl_int8_op(p, op) ? 2 : 1, o->n_in = 4;
    sscma_status st = tfl_const_i32(p, "begin", op->begin, rank, 1, &rank, &o->in[1]);
    if (st == SSCMA_OK)
        st = tfl_const_i32(p, "end", end, rank, 1, &rank, &o->in[2]);
    if (st == SSCMA_OK)
        st = tfl_const_i32(p, "strides", op->step, rank, 1, &rank, &o->in[3]);
    return st;
}

sscma_status qm_tfl_plan_tile(plan *p, const qm_op *op, tfl_op *o)
{
    const qm_tensor *x = &p->q->t[op->in[0]], *y = &p->q->t[op->out];
    int32_t rank = x->rank, m[4];
    for (int32_t a = 0; a < rank; a++)
        m[a] = (int32_t)(y->dims[a] / x->dims[a]);
    o->code = TFL_OP_TILE, o->version = 1, o->n_in = 2;
    return tfl_const_i32(p, "multiples", m, rank, 1, &rank, &o->in[1]);
}

/* PAD -> PADV2 with constant_values: the output's type and quantization (int8: its raw value, as the runtime's). */
sscma_status qm_tfl_plan_pad_value(plan *p, const qm_op *op, tfl_op *o)
{
    const qm_tensor *y = &p->q->t[op->out];
    const int32_t one = 1;
    int32_t bits = 0;
    bool i8 = y->dtype == SSCMA_DTYPE_I8;
    if (i8) {
        long v = y->zero_point[0] + lrintf(op->pad_value / y->scale[0]);
        int8_t raw = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        memcpy(&bits, &raw, 1);
    } else {
        memcpy(&bits, &op->pad_value, sizeof bits);
    }
    sscma_status st = tfl_const_i32(p, "constant_values", &bits, 1, 1, &one, &o->in[2]);
    if (st != SSCMA_OK)
        return st;
    tfl_tensor *t = &p->t[o->in[2]];
    t->type = i8 ? TFL_TYPE_INT8 : TFL_TYPE_FLOAT32;
    t->bytes = i8 ? 1 : 4;
    if (i8)
        t->scale = y->scale, t->zero_point = y->zero_point, t->n_q = 1;
    o->code = TFL_OP_PADV2, o->n_in = 3;
    return SSCMA_OK;
}

uint32_t qm_tfl_options_transpose(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p, (void)o;
    return tfl_empty_options(b, TFL_OPT_TRANSPOSE, type);
}

uint32_t qm_tfl_options_slice(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    int32_t end_mask = 0;
    for (int32_t a = 0; a < p->q->t[o->src->in[0]].rank; a++)
        slice_end(o->src, a, &end_mask);
    fb_table_start(b);
    fb_field_i32(b, 1, end_mask);
    fb_field_i32(b, 4, o->src->shrink);
    *type = TFL_OPT_STRIDED_SLICE;
    return fb_table_end(b);
}

uint32_t qm_tfl_options_tile(fb_builder *b, const plan *p, const tfl_op *o, uint8_t *type)
{
    (void)p, (void)o;
    return tfl_empty_options(b, TFL_OPT_TILE, type);
}
