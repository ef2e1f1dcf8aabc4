/*
 * space_to_depth and depth_to_space in TensorFlow's channel order (TFLite SPACE_TO_DEPTH / DEPTH_TO_SPACE, ONNX
 * SpaceToDepth / DepthToSpace in DCR mode), block b:
 *   space_to_depth  y[n, h, w, (dy b + dx) C + c] = x[n, b h + dy, b w + dx, c]
 *   depth_to_space  y[n, b h + dy, b w + dx, c] = x[n, h, w, (dy b + dx) C + c]
 * Values are copied unchanged (the output has the input's quantization), so one kernel serves the float and the
 * int8 runtimes. SSCMA's anomaly VAE groups the block's offsets the other way round; lowering (lower.c) turns its
 * order into this one by transposing H and W around the op. Rows: qm_kinds.c and export/kinds.c; TFLite functions:
 * export/tflite_space.c.
 */
#include <string.h>

#include "quant/qm_kernel.h"
#include "quant/qm_kinds.h"

sscma_status qm_validate_space_depth(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    const bool to_depth = op->kind == QM_SPACE_TO_DEPTH;
    const qm_tensor *wide = to_depth ? x : y, *deep = to_depth ? y : x;
    const int64_t b = op->block_size;
    if (op->n_in != 1 || x->rank != 4 || y->rank != 4 || b < 1 || b > 64)
        return qm_op_fail(op, "needs one input and output of rank 4 and a block size 1..64", "");
    if (deep->dims[0] != wide->dims[0] || deep->dims[1] * b != wide->dims[1] || deep->dims[2] * b != wide->dims[2] ||
        deep->dims[3] != wide->dims[3] * b * b || x->dtype != y->dtype)
        return qm_op_fail(op, "output shape does not follow from the block size", "");
    return SSCMA_OK;
}

sscma_status qm_run_space_depth(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const bool to_depth = op->kind == QM_SPACE_TO_DEPTH;
    const qm_tensor *deep = to_depth ? y : x;
    const size_t esize = x->dtype == SSCMA_DTYPE_F32 || x->dtype == SSCMA_DTYPE_I32 ? 4 : 1;
    const int64_t b = op->block_size, h = deep->dims[1], w = deep->dims[2], dc = deep->dims[3], c = dc / (b * b);
    const char *src = qm_buf(ex, x);
    char *dst = qm_buf(ex, y);
    const size_t run = (size_t)c * esize;
    for (int64_t n = 0; n < ex->batch; n++)
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++)
                for (int64_t dy = 0; dy < b; dy++)
                    for (int64_t dx = 0; dx < b; dx++) {
                        const size_t d_off = (size_t)((((n * h + i) * w + j) * dc) + (dy * b + dx) * c) * esize;
                        const size_t s_off = (size_t)((((n * h + i) * b + dy) * w * b + j * b + dx) * c) * esize;
                        if (to_depth)
                            memcpy(dst + d_off, src + s_off, run);
                        else
                            memcpy(dst + s_off, src + d_off, run);
                    }
    return SSCMA_OK;
}
