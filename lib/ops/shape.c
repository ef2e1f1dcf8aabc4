/*
 * Ops that move data without arithmetic; each backward moves the gradient back the same way (adding).
 *   reshape           y = x with new dims (one may be -1)
 *   concat / split    along one axis: y = [x0 | x1 | ...] and the inverse
 *   slice             y = x[begin:end] per axis
 *   pad               y = x surrounded by a constant
 *   upsample_nearest  y[n, h, w, c] = x[n, h / sh, w / sw, c]  (NHWC, integer scales)
 * Every op works on f32; reshape, concat, split and slice also move i32 data (labels) forward.
 */
#include <stdint.h>
#include <string.h>

#include "ops/op.h"

/* Bound on sizes computed from attributes, so that sums and products below stay far from int64 overflow; the
 * output check of sscma_op_infer() then rejects anything too large for memory. */
#define SIZE_LIMIT ((int64_t)1 << 40)

static size_t elem_size(sscma_dtype dtype)
{
    return dtype == SSCMA_DTYPE_F32 || dtype == SSCMA_DTYPE_I32 ? 4 : 1;
}

static sscma_status require_movable(const char *op, const char *what, const sscma_desc *d)
{
    if (d->dtype != SSCMA_DTYPE_F32 && d->dtype != SSCMA_DTYPE_I32)
        return sscma_fail(SSCMA_ERR_DTYPE, op, "%s is %s; expected f32 or i32", what, sscma_dtype_name(d->dtype));
    return sscma_desc_require(op, what, d, d->dtype, -1);
}

static void add_floats(float *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] += src[i];
}

static const sscma_attr_field reshape_fields[] = {
    SSCMA_ATTR_LIST(sscma_reshape_attrs, dims, 0, SSCMA_TENSOR_MAX_RANK, offsetof(sscma_reshape_attrs, rank)),
    SSCMA_ATTR_END,
};

static const sscma_attr_field concat_fields[] = {
    SSCMA_ATTR(sscma_axis_attrs, axis, SSCMA_ATTR_I32, -1),
    SSCMA_ATTR_END,
};

static const sscma_attr_field axis_fields[] = {
    SSCMA_ATTR(sscma_axis_attrs, axis, SSCMA_ATTR_I32, -1),
    SSCMA_ATTR_LIST(sscma_axis_attrs, sizes, 0, SSCMA_OP_MAX_OUTPUTS, offsetof(sscma_axis_attrs, n_parts)),
    SSCMA_ATTR_END,
};

static const sscma_attr_field slice_fields[] = {
    SSCMA_ATTR_LIST(sscma_slice_attrs, begin, 0, SSCMA_TENSOR_MAX_RANK, -1),
    SSCMA_ATTR_LIST(sscma_slice_attrs, end, 0, SSCMA_TENSOR_MAX_RANK, -1),
    SSCMA_ATTR_END,
};

static const sscma_attr_field pad_fields[] = {
    SSCMA_ATTR_LIST(sscma_pad_attrs, before, 0, SSCMA_TENSOR_MAX_RANK, -1),
    SSCMA_ATTR_LIST(sscma_pad_attrs, after, 0, SSCMA_TENSOR_MAX_RANK, -1),
    SSCMA_ATTR(sscma_pad_attrs, value, SSCMA_ATTR_F32, 0),
    SSCMA_ATTR_END,
};

static const sscma_attr_field upsample_fields[] = {
    SSCMA_ATTR(sscma_upsample_attrs, scale_h, SSCMA_ATTR_I32, 2),
    SSCMA_ATTR(sscma_upsample_attrs, scale_w, SSCMA_ATTR_I32, 2),
    SSCMA_ATTR_END,
};

/* ---- reshape ---- */

static sscma_status reshape_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                  int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_reshape_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "reshape", "takes 1 input, got %d", n_in);
    sscma_status st = require_movable("reshape", "input", &in[0]);
    if (st != SSCMA_OK)
        return st;
    if (a->rank < 0 || a->rank > SSCMA_TENSOR_MAX_RANK)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "reshape", "rank %d is outside 0..%d", (int)a->rank,
                          SSCMA_TENSOR_MAX_RANK);
    int64_t known = 1, total = sscma_desc_numel(&in[0]);
    int32_t infer_at = -1;
    for (int32_t i = 0; i < a->rank; i++) {
        if (a->dims[i] == -1 && infer_at < 0)
            infer_at = i;
        else if (a->dims[i] < 0)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "reshape", "dims[%d] is %lld; only one -1 is allowed",
                              (int)i, (long long)a->dims[i]);
        else if (a->dims[i] > 0 && known > INT64_MAX / a->dims[i])
            return sscma_fail(SSCMA_ERR_OVERFLOW, "reshape", "the product of the target dims overflows");
        else
            known *= a->dims[i];
    }
    sscma_desc o = in[0];
    o.rank = a->rank;
    for (int32_t i = 0; i < a->rank; i++)
        o.dims[i] = a->dims[i];
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            goto mismatch;
        o.dims[infer_at] = total / known;
    } else if (known != total) {
        goto mismatch;
    }
    out[0] = o;
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
mismatch: {
    char text[200];
    sscma_desc_format(&in[0], text, sizeof text);
    return sscma_fail(SSCMA_ERR_SHAPE, "reshape", "cannot reshape %s (%lld elements) to rank %d with %lld elements",
                      text, (long long)total, (int)a->rank, (long long)known);
}
}

static sscma_status reshape_forward(const sscma_op_exec *e)
{
    if (e->out[0].data != e->in[0].data)
        memcpy(e->out[0].data, e->in[0].data, (size_t)sscma_desc_numel(&e->in[0].desc) * elem_size(e->in[0].desc.dtype));
    return SSCMA_OK;
}

static void reshape_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data != NULL)
        add_floats(din[0].data, dout[0].data, sscma_desc_numel(&e->in[0].desc));
}

const sscma_op_def sscma_op_reshape = {
    .id = SSCMA_OP_RESHAPE,
    .name = "reshape", .attrs_size = sizeof(sscma_reshape_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = reshape_infer, .forward = reshape_forward, .backward = reshape_backward,
    .attr_fields = reshape_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};

/* ---- concat / split ---- */

static sscma_status resolve_axis(const char *op, int32_t axis, int32_t rank, int32_t *out)
{
    int32_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "axis %d is outside %d..%d", (int)axis, (int)-rank,
                          (int)rank - 1);
    *out = a;
    return SSCMA_OK;
}

/* outer = product of dims before axis, inner = product after it. */
static void outer_inner(const sscma_desc *d, int32_t axis, int64_t *outer, int64_t *inner)
{
    *outer = 1, *inner = 1;
    for (int32_t i = 0; i < axis; i++)
        *outer *= d->dims[i];
    for (int32_t i = axis + 1; i < d->rank; i++)
        *inner *= d->dims[i];
}

static sscma_status concat_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                 int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_axis_attrs *a = attrs;
    if (n_in < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "concat", "needs at least 1 input");
    sscma_status st = require_movable("concat", "input 0", &in[0]);
    int32_t axis = 0;
    if (st != SSCMA_OK || (st = resolve_axis("concat", a->axis, in[0].rank, &axis)) != SSCMA_OK)
        return st;
    sscma_desc o = in[0];
    for (int32_t i = 1; i < n_in; i++) {
        bool ok = in[i].dtype == in[0].dtype && in[i].rank == in[0].rank;
        for (int32_t d = 0; ok && d < in[0].rank; d++)
            ok = d == axis || in[i].dims[d] == in[0].dims[d];
        if (!ok) {
            char s0[200], si[200];
            sscma_desc_format(&in[0], s0, sizeof s0);
            sscma_desc_format(&in[i], si, sizeof si);
            return sscma_fail(SSCMA_ERR_SHAPE, "concat", "input %d %s does not match input 0 %s outside axis %d",
                              (int)i, si, s0, (int)axis);
        }
        o.dims[axis] += in[i].dims[axis];
    }
    out[0] = o;
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/* Copies part i of `whole` (laid out [outer, total, inner]) to or from `part` ([outer, size, inner]). */
static void move_part(char *whole, char *part, int64_t outer, int64_t total, int64_t offset, int64_t size,
                      int64_t inner, size_t esize, bool to_whole)
{
    size_t row = (size_t)(size * inner) * esize;
    for (int64_t o = 0; o < outer; o++) {
        char *w = whole + (size_t)((o * total + offset) * inner) * esize;
        char *p = part + (size_t)o * row;
        if (to_whole)
            memcpy(w, p, row);
        else
            memcpy(p, w, row);
    }
}

/* Like move_part for f32 gradients, adding: whole += part (to_whole) or part += whole. */
static void add_part(float *whole, float *part, int64_t outer, int64_t total, int64_t offset, int64_t size,
                     int64_t inner, bool to_whole)
{
    for (int64_t o = 0; o < outer; o++) {
        float *w = whole + (o * total + offset) * inner;
        float *p = part + o * size * inner;
        if (to_whole)
            add_floats(w, p, size * inner);
        else
            add_floats(p, w, size * inner);
    }
}

static sscma_status concat_forward(const sscma_op_exec *e)
{
    const sscma_axis_attrs *a = e->attrs;
    int32_t axis = 0;
    resolve_axis("concat", a->axis, e->out[0].desc.rank, &axis);
    int64_t outer, inner, offset = 0, total = e->out[0].desc.dims[axis];
    outer_inner(&e->out[0].desc, axis, &outer, &inner);
    for (int32_t i = 0; i < e->n_in; i++) {
        move_part(e->out[0].data, e->in[i].data, outer, total, offset, e->in[i].desc.dims[axis], inner,
                  elem_size(e->in[i].desc.dtype), true);
        offset += e->in[i].desc.dims[axis];
    }
    return SSCMA_OK;
}

static void concat_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_axis_attrs *a = e->attrs;
    int32_t axis = 0;
    resolve_axis("concat", a->axis, e->out[0].desc.rank, &axis);
    int64_t outer, inner, offset = 0, total = e->out[0].desc.dims[axis];
    outer_inner(&e->out[0].desc, axis, &outer, &inner);
    for (int32_t i = 0; i < e->n_in; i++) {
        int64_t size = e->in[i].desc.dims[axis];
        if (din[i].data != NULL) /* din[i] += its part of dout (read only in this direction) */
            add_part((float *)dout[0].data, din[i].data, outer, total, offset, size, inner, false);
        offset += size;
    }
}

const sscma_op_def sscma_op_concat = {
    .id = SSCMA_OP_CONCAT,
    .name = "concat", .attrs_size = sizeof(sscma_axis_attrs), .min_inputs = 1, .max_inputs = SSCMA_OP_MAX_INPUTS,
    .infer = concat_infer, .forward = concat_forward, .backward = concat_backward,
    .attr_fields = concat_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};

static sscma_status split_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_axis_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "split", "takes 1 input, got %d", n_in);
    sscma_status st = require_movable("split", "input", &in[0]);
    int32_t axis = 0;
    if (st != SSCMA_OK || (st = resolve_axis("split", a->axis, in[0].rank, &axis)) != SSCMA_OK)
        return st;
    if (a->n_parts < 1 || a->n_parts > SSCMA_OP_MAX_OUTPUTS)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "split", "n_parts %d is outside 1..%d", (int)a->n_parts,
                          SSCMA_OP_MAX_OUTPUTS);
    int64_t sum = 0;
    for (int32_t i = 0; i < a->n_parts; i++) {
        if (a->sizes[i] < 0)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "split", "sizes[%d] is %lld", (int)i, (long long)a->sizes[i]);
        sum += a->sizes[i];
        out[i] = in[0];
        out[i].dims[axis] = a->sizes[i];
    }
    if (sum != in[0].dims[axis])
        return sscma_fail(SSCMA_ERR_SHAPE, "split", "sizes add up to %lld; axis %d has length %lld", (long long)sum,
                          (int)axis, (long long)in[0].dims[axis]);
    *n_out = a->n_parts;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status split_forward(const sscma_op_exec *e)
{
    const sscma_axis_attrs *a = e->attrs;
    int32_t axis = 0;
    resolve_axis("split", a->axis, e->in[0].desc.rank, &axis);
    int64_t outer, inner, offset = 0, total = e->in[0].desc.dims[axis];
    outer_inner(&e->in[0].desc, axis, &outer, &inner);
    for (int32_t i = 0; i < e->n_out; i++) {
        move_part(e->in[0].data, e->out[i].data, outer, total, offset, a->sizes[i], inner,
                  elem_size(e->in[0].desc.dtype), false);
        offset += a->sizes[i];
    }
    return SSCMA_OK;
}

static void split_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_axis_attrs *a = e->attrs;
    if (din[0].data == NULL)
        return;
    int32_t axis = 0;
    resolve_axis("split", a->axis, e->in[0].desc.rank, &axis);
    int64_t outer, inner, offset = 0, total = e->in[0].desc.dims[axis];
    outer_inner(&e->in[0].desc, axis, &outer, &inner);
    for (int32_t i = 0; i < e->n_out; i++) {
        add_part(din[0].data, dout[i].data, outer, total, offset, a->sizes[i], inner, true);
        offset += a->sizes[i];
    }
}

const sscma_op_def sscma_op_split = {
    .id = SSCMA_OP_SPLIT,
    .name = "split", .attrs_size = sizeof(sscma_axis_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = split_infer, .forward = split_forward, .backward = split_backward,
    .attr_fields = axis_fields,
};

/* ---- slice and pad: a sub-box of one tensor copied into or out of another ---- */

/*
 * For each element of the box `dims` (the smaller tensor), visit its flat index in the small tensor and in the
 * large one, where the box starts at `offset` inside `large_dims`.
 */
typedef void (*box_fn)(void *ctx, int64_t small_index, int64_t large_index);

static void visit_box(int32_t rank, const int64_t *dims, const int64_t *large_dims, const int64_t *offset,
                      box_fn fn, void *ctx)
{
    int64_t total = 1;
    for (int32_t i = 0; i < rank; i++)
        total *= dims[i];
    int64_t large_stride[SSCMA_TENSOR_MAX_RANK];
    int64_t s = 1;
    for (int32_t i = rank - 1; i >= 0; i--) {
        large_stride[i] = s;
        s *= large_dims[i];
    }
    for (int64_t flat = 0; flat < total; flat++) {
        int64_t rem = flat, large = 0;
        for (int32_t i = rank - 1; i >= 0; i--) {
            large += (rem % dims[i] + offset[i]) * large_stride[i];
            rem /= dims[i];
        }
        fn(ctx, flat, large);
    }
}

typedef struct box_copy {
    char *small, *large;
    size_t esize;
    bool to_small;
    bool add; /* f32 accumulate instead of copy */
} box_copy;

static void box_copy_fn(void *p, int64_t s, int64_t l)
{
    box_copy *c = p;
    char *small = c->small + (size_t)s * c->esize, *large = c->large + (size_t)l * c->esize;
    if (c->add) {
        if (c->to_small)
            *(float *)small += *(float *)large;
        else
            *(float *)large += *(float *)small;
    } else if (c->to_small) {
        memcpy(small, large, c->esize);
    } else {
        memcpy(large, small, c->esize);
    }
}

static sscma_status slice_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_slice_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "slice", "takes 1 input, got %d", n_in);
    sscma_status st = require_movable("slice", "input", &in[0]);
    if (st != SSCMA_OK)
        return st;
    sscma_desc o = in[0];
    for (int32_t i = 0; i < in[0].rank; i++) {
        if (a->begin[i] < 0 || a->begin[i] > a->end[i] || a->end[i] > in[0].dims[i])
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "slice",
                              "axis %d: [%lld, %lld) is not inside 0..%lld", (int)i, (long long)a->begin[i],
                              (long long)a->end[i], (long long)in[0].dims[i]);
        o.dims[i] = a->end[i] - a->begin[i];
    }
    out[0] = o;
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status slice_forward(const sscma_op_exec *e)
{
    const sscma_slice_attrs *a = e->attrs;
    box_copy c = {e->out[0].data, e->in[0].data, elem_size(e->in[0].desc.dtype), true, false};
    visit_box(e->in[0].desc.rank, e->out[0].desc.dims, e->in[0].desc.dims, a->begin, box_copy_fn, &c);
    return SSCMA_OK;
}

static void slice_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_slice_attrs *a = e->attrs;
    if (din[0].data == NULL)
        return;
    box_copy c = {dout[0].data, din[0].data, sizeof(float), false, true};
    visit_box(e->in[0].desc.rank, e->out[0].desc.dims, e->in[0].desc.dims, a->begin, box_copy_fn, &c);
}

const sscma_op_def sscma_op_slice = {
    .id = SSCMA_OP_SLICE,
    .name = "slice", .attrs_size = sizeof(sscma_slice_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = slice_infer, .forward = slice_forward, .backward = slice_backward,
    .attr_fields = slice_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};

static sscma_status pad_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                              int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_pad_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "pad", "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require("pad", "input", &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    sscma_desc o = in[0];
    for (int32_t i = 0; i < in[0].rank; i++) {
        if (a->before[i] < 0 || a->after[i] < 0)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "pad", "axis %d: padding %lld, %lld is negative", (int)i,
                              (long long)a->before[i], (long long)a->after[i]);
        if (a->before[i] > SIZE_LIMIT || a->after[i] > SIZE_LIMIT)
            return sscma_fail(SSCMA_ERR_OVERFLOW, "pad", "axis %d: padding %lld, %lld is too large", (int)i,
                              (long long)a->before[i], (long long)a->after[i]);
        o.dims[i] += a->before[i] + a->after[i];
    }
    out[0] = o;
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status pad_forward(const sscma_op_exec *e)
{
    const sscma_pad_attrs *a = e->attrs;
    float *y = e->out[0].data;
    int64_t n = sscma_desc_numel(&e->out[0].desc);
    for (int64_t i = 0; i < n; i++)
        y[i] = a->value;
    box_copy c = {e->in[0].data, e->out[0].data, sizeof(float), false, false};
    visit_box(e->in[0].desc.rank, e->in[0].desc.dims, e->out[0].desc.dims, a->before, box_copy_fn, &c);
    return SSCMA_OK;
}

static void pad_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_pad_attrs *a = e->attrs;
    if (din[0].data == NULL)
        return;
    box_copy c = {din[0].data, dout[0].data, sizeof(float), true, true};
    visit_box(e->in[0].desc.rank, e->in[0].desc.dims, e->out[0].desc.dims, a->before, box_copy_fn, &c);
}

const sscma_op_def sscma_op_pad = {
    .id = SSCMA_OP_PAD,
    .name = "pad", .attrs_size = sizeof(sscma_pad_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = pad_infer, .forward = pad_forward, .backward = pad_backward,
    .attr_fields = pad_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};

/* ---- upsample_nearest ---- */

static sscma_status upsample_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                   int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_upsample_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "upsample_nearest", "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require("upsample_nearest", "input", &in[0], SSCMA_DTYPE_F32, 4);
    if (st != SSCMA_OK)
        return st;
    if (a->scale_h < 1 || a->scale_w < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "upsample_nearest", "scales %dx%d must be >= 1", a->scale_h,
                          a->scale_w);
    if (in[0].dims[1] > SIZE_LIMIT / a->scale_h || in[0].dims[2] > SIZE_LIMIT / a->scale_w)
        return sscma_fail(SSCMA_ERR_OVERFLOW, "upsample_nearest", "the upsampled image would be too large");
    out[0] = in[0];
    out[0].dims[1] *= a->scale_h;
    out[0].dims[2] *= a->scale_w;
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status upsample_forward(const sscma_op_exec *e)
{
    const sscma_upsample_attrs *a = e->attrs;
    const sscma_desc *o = &e->out[0].desc;
    int64_t c = o->dims[3], ih = e->in[0].desc.dims[1], iw = e->in[0].desc.dims[2];
    const float *x = e->in[0].data;
    float *y = e->out[0].data;
    for (int64_t n = 0; n < o->dims[0]; n++)
        for (int64_t h = 0; h < o->dims[1]; h++)
            for (int64_t w = 0; w < o->dims[2]; w++)
                memcpy(y + ((n * o->dims[1] + h) * o->dims[2] + w) * c,
                       x + ((n * ih + h / a->scale_h) * iw + w / a->scale_w) * c, (size_t)c * sizeof *y);
    return SSCMA_OK;
}

static void upsample_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_upsample_attrs *a = e->attrs;
    if (din[0].data == NULL)
        return;
    const sscma_desc *o = &e->out[0].desc;
    int64_t c = o->dims[3], ih = e->in[0].desc.dims[1], iw = e->in[0].desc.dims[2];
    const float *dy = dout[0].data;
    float *dx = din[0].data;
    for (int64_t n = 0; n < o->dims[0]; n++)
        for (int64_t h = 0; h < o->dims[1]; h++)
            for (int64_t w = 0; w < o->dims[2]; w++)
                add_floats(dx + ((n * ih + h / a->scale_h) * iw + w / a->scale_w) * c,
                           dy + ((n * o->dims[1] + h) * o->dims[2] + w) * c, c);
}

const sscma_op_def sscma_op_upsample_nearest = {
    .id = SSCMA_OP_UPSAMPLE_NEAREST,
    .name = "upsample_nearest", .attrs_size = sizeof(sscma_upsample_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = upsample_infer, .forward = upsample_forward, .backward = upsample_backward,
    .attr_fields = upsample_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};
