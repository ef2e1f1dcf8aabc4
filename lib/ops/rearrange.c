/*
 * Ops that rearrange NHWC activations between space and channels (block b = block_size, C input channels):
 *   space_to_depth  y[n, h, w, g * C + c] = x[n, b h + dy, b w + dx, c]
 *   depth_to_space  y[n, b h + dy, b w + dx, c] = x[n, h, w, g * C + c]      (C output channels)
 *   transpose       y = x with its axes permuted: output axis i is input axis perm[i]
 * where the block offset (dy, dx) has group index g = dy * b + dx in TensorFlow's order ("tflite": SPACE_TO_DEPTH /
 * DEPTH_TO_SPACE) and g = dx * b + dy in SSCMA's ("sscma": Down_sample concatenates x[0::2, 0::2], x[1::2, 0::2],
 * x[0::2, 1::2], x[1::2, 1::2], row offset first; up_sample writes its channel groups back in the same order).
 * Backward moves the gradient back the same way, adding.
 */
#include <stdint.h>
#include <string.h>

#include "ops/op.h"

static const char *const order_names[] = {"tflite", "sscma", NULL};

static const sscma_attr_field space_depth_fields[] = {
    SSCMA_ATTR(sscma_space_depth_attrs, block_size, SSCMA_ATTR_I32, 2),
    SSCMA_ATTR_ENUM_OF("order", sscma_space_depth_attrs, order, 0, order_names),
    SSCMA_ATTR_END,
};

/* The channel group of block offset (dy, dx). */
static int64_t block_group(const sscma_space_depth_attrs *a, int64_t dy, int64_t dx)
{
    return a->order == SSCMA_BLOCK_ORDER_SSCMA ? dx * a->block_size + dy : dy * a->block_size + dx;
}

static sscma_status space_depth_infer(const char *op, bool to_depth, const void *attrs, const sscma_desc *in,
                                      int32_t n_in, sscma_desc *out, int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_space_depth_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require(op, "input", &in[0], SSCMA_DTYPE_F32, 4);
    if (st != SSCMA_OK)
        return st;
    if (a->block_size < 1 || a->block_size > 64)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "block_size %d must be 1..64", a->block_size);
    if (a->order != SSCMA_BLOCK_ORDER_TFLITE && a->order != SSCMA_BLOCK_ORDER_SSCMA)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "order %d is not 0 (tflite) or 1 (sscma)", a->order);
    const int64_t b = a->block_size, bb = b * b;
    out[0] = in[0];
    if (to_depth) {
        if (in[0].dims[1] % b != 0 || in[0].dims[2] % b != 0)
            return sscma_fail(SSCMA_ERR_SHAPE, op, "input %lldx%lld is not a multiple of block_size %d",
                              (long long)in[0].dims[1], (long long)in[0].dims[2], a->block_size);
        out[0].dims[1] /= b, out[0].dims[2] /= b, out[0].dims[3] *= bb;
    } else {
        if (in[0].dims[3] % bb != 0)
            return sscma_fail(SSCMA_ERR_SHAPE, op, "input channels %lld are not a multiple of block_size^2 = %lld",
                              (long long)in[0].dims[3], (long long)bb);
        if (in[0].dims[1] > ((int64_t)1 << 40) / b || in[0].dims[2] > ((int64_t)1 << 40) / b)
            return sscma_fail(SSCMA_ERR_OVERFLOW, op, "the output image would be too large");
        out[0].dims[1] *= b, out[0].dims[2] *= b, out[0].dims[3] /= bb;
    }
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/*
 * Moves C channels at a time between the deep tensor d [N, H, W, b*b*C] and the wide one s [N, bH, bW, C]:
 * to_deep copies s into d (space_to_depth forward), else d into s; `add` adds instead of copying (backward).
 */
static void move_blocks(const sscma_space_depth_attrs *a, const sscma_desc *deep, float *d, float *s, bool to_deep,
                        bool add)
{
    const int64_t b = a->block_size, n = deep->dims[0], h = deep->dims[1], w = deep->dims[2];
    const int64_t c = deep->dims[3] / (b * b);
    for (int64_t i = 0; i < n; i++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                for (int64_t dy = 0; dy < b; dy++)
                    for (int64_t dx = 0; dx < b; dx++) {
                        float *dp = d + ((i * h + y) * w + x) * deep->dims[3] + block_group(a, dy, dx) * c;
                        float *sp = s + ((i * h * b + y * b + dy) * w * b + x * b + dx) * c;
                        float *dst = to_deep ? dp : sp;
                        const float *src = to_deep ? sp : dp;
                        if (add)
                            for (int64_t k = 0; k < c; k++)
                                dst[k] += src[k];
                        else
                            memcpy(dst, src, (size_t)c * sizeof *dst);
                    }
}

static sscma_status space_to_depth_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                         int32_t *n_out, sscma_op_sizes *sizes)
{
    return space_depth_infer("space_to_depth", true, attrs, in, n_in, out, n_out, sizes);
}

static sscma_status space_to_depth_forward(const sscma_op_exec *e)
{
    move_blocks(e->attrs, &e->out[0].desc, e->out[0].data, e->in[0].data, true, false);
    return SSCMA_OK;
}

static void space_to_depth_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data != NULL)
        move_blocks(e->attrs, &e->out[0].desc, dout[0].data, din[0].data, false, true);
}

const sscma_op_def sscma_op_space_to_depth = {
    .id = SSCMA_OP_SPACE_TO_DEPTH,
    .name = "space_to_depth", .attrs_size = sizeof(sscma_space_depth_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = space_to_depth_infer, .forward = space_to_depth_forward, .backward = space_to_depth_backward,
    .attr_fields = space_depth_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};

static sscma_status depth_to_space_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                         int32_t *n_out, sscma_op_sizes *sizes)
{
    return space_depth_infer("depth_to_space", false, attrs, in, n_in, out, n_out, sizes);
}

static sscma_status depth_to_space_forward(const sscma_op_exec *e)
{
    move_blocks(e->attrs, &e->in[0].desc, e->in[0].data, e->out[0].data, false, false);
    return SSCMA_OK;
}

static void depth_to_space_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data != NULL)
        move_blocks(e->attrs, &e->in[0].desc, din[0].data, dout[0].data, true, true);
}

const sscma_op_def sscma_op_depth_to_space = {
    .id = SSCMA_OP_DEPTH_TO_SPACE,
    .name = "depth_to_space", .attrs_size = sizeof(sscma_space_depth_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = depth_to_space_infer, .forward = depth_to_space_forward, .backward = depth_to_space_backward,
    .attr_fields = space_depth_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};

/* ---- transpose ---- */

static const sscma_attr_field transpose_fields[] = {
    SSCMA_ATTR_LIST(sscma_transpose_attrs, perm, 0, SSCMA_TENSOR_MAX_RANK, offsetof(sscma_transpose_attrs, rank)),
    SSCMA_ATTR_END,
};

static sscma_status transpose_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                    int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_transpose_attrs *a = attrs;
    if (n_in != 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "transpose", "takes 1 input, got %d", n_in);
    sscma_status st = sscma_desc_require("transpose", "input", &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    if (a->rank != in[0].rank)
        return sscma_fail(SSCMA_ERR_SHAPE, "transpose", "perm has %d axes, the input %d", a->rank, in[0].rank);
    bool seen[SSCMA_TENSOR_MAX_RANK] = {false};
    out[0] = in[0];
    for (int32_t i = 0; i < a->rank; i++) {
        if (a->perm[i] < 0 || a->perm[i] >= a->rank || seen[a->perm[i]])
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "transpose", "perm[%d] = %lld: expected a permutation of "
                              "0..%d", i, (long long)a->perm[i], a->rank - 1);
        seen[a->perm[i]] = true;
        out[0].dims[i] = in[0].dims[a->perm[i]];
    }
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/* Walks the output in order; `x` is read at the input's offset of each element (or added to, for backward). */
static void transpose_move(const sscma_transpose_attrs *a, const sscma_desc *in, float *x, float *y, bool backward)
{
    int64_t in_stride[SSCMA_TENSOR_MAX_RANK], out_dims[SSCMA_TENSOR_MAX_RANK], idx[SSCMA_TENSOR_MAX_RANK] = {0};
    int64_t s = 1;
    for (int32_t d = in->rank - 1; d >= 0; d--)
        in_stride[d] = s, s *= in->dims[d];
    for (int32_t i = 0; i < a->rank; i++)
        out_dims[i] = in->dims[a->perm[i]];
    const int64_t n = sscma_desc_numel(in);
    for (int64_t o = 0; o < n; o++) {
        int64_t off = 0;
        for (int32_t i = 0; i < a->rank; i++)
            off += idx[i] * in_stride[a->perm[i]];
        if (backward)
            x[off] += y[o];
        else
            y[o] = x[off];
        for (int32_t i = a->rank - 1; i >= 0 && ++idx[i] == out_dims[i]; i--)
            idx[i] = 0;
    }
}

static sscma_status transpose_forward(const sscma_op_exec *e)
{
    transpose_move(e->attrs, &e->in[0].desc, e->in[0].data, e->out[0].data, false);
    return SSCMA_OK;
}

static void transpose_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data != NULL)
        transpose_move(e->attrs, &e->in[0].desc, din[0].data, dout[0].data, true);
}

const sscma_op_def sscma_op_transpose = {
    .id = SSCMA_OP_TRANSPOSE,
    .name = "transpose", .attrs_size = sizeof(sscma_transpose_attrs), .min_inputs = 1, .max_inputs = 1,
    .infer = transpose_infer, .forward = transpose_forward, .backward = transpose_backward,
    .attr_fields = transpose_fields,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
};
