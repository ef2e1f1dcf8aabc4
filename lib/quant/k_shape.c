/*
 * Data movement: transpose, slice (TFLite SLICE, STRIDED_SLICE, and each output of SPLIT / SPLIT_V) and tile. The
 * values are copied unchanged, so one kernel serves the float and the int8 runtimes (TFLite's kernels copy bytes
 * too; docs/export.md). Every kind keeps the batch axis first and whole: activations are stored for a batch of 1
 * and the runtimes scale dims[0] to the plan's batch, so an op that moved or cut the batch axis would compute
 * something else at batch > 1; validation refuses it. Rows: qm_kinds.c and export/kinds.c; TFLite functions:
 * export/tflite_shape.c.
 */
#include <string.h>

#include "quant/qm_kernel.h"
#include "quant/qm_kinds.h"

/* Row-major strides (in elements) of t's axes. */
static void strides_of(const qm_tensor *t, int64_t *s)
{
    int64_t acc = 1;
    for (int32_t a = t->rank; a-- > 0;) {
        s[a] = acc;
        acc *= t->dims[a];
    }
}

static bool valid_perm(const qm_op *op, int32_t rank)
{
    int32_t seen = 0;
    for (int32_t i = 0; i < rank; i++) {
        if (op->perm[i] < 0 || op->perm[i] >= rank || (seen & (1 << op->perm[i])))
            return false;
        seen |= 1 << op->perm[i];
    }
    return true;
}

sscma_status qm_validate_transpose(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (op->n_in != 1 || x->rank != y->rank || x->rank > 4 || !valid_perm(op, x->rank))
        return qm_op_fail(op, "perm must be a permutation of the input's axes (rank 1 to 4)", "");
    if (op->perm[0] != 0)
        return qm_op_fail(op, "the batch axis must stay first (perm[0] = 0)", "");
    for (int32_t i = 0; i < x->rank; i++)
        if (y->dims[i] != x->dims[op->perm[i]])
            return qm_op_fail(op, "output shape does not follow from perm", "");
    return SSCMA_OK;
}

sscma_status qm_validate_slice(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (op->n_in != 1 || x->rank > 4 || (op->shrink & ~((1 << x->rank) - 1)) != 0)
        return qm_op_fail(op, "needs one input of rank 1 to 4 and a shrink mask within it", "");
    if (op->begin[0] != 0 || op->step[0] != 1 || op->count[0] != 1 || (op->shrink & 1))
        return qm_op_fail(op, "the batch axis must be taken whole (begin 0, stride 1, not shrunk)", "");
    int32_t o = 0;
    for (int32_t a = 0; a < x->rank; a++) {
        int64_t n = op->count[a], first = op->begin[a], last = first + (n - 1) * (int64_t)op->step[a];
        if (n < 1 || op->step[a] == 0 || first < 0 || first >= x->dims[a] || last < 0 || last >= x->dims[a])
            return qm_op_fail(op, "a slice reaches outside the input", "");
        if (op->shrink & (1 << a)) {
            if (n != 1)
                return qm_op_fail(op, "a shrunk axis must take one element", "");
            continue;
        }
        if (o >= y->rank || y->dims[o] != n)
            return qm_op_fail(op, "output shape does not follow from the slice", "");
        o++;
    }
    if (o != y->rank)
        return qm_op_fail(op, "output shape does not follow from the slice", "");
    return SSCMA_OK;
}

sscma_status qm_validate_tile(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (op->n_in != 1 || x->rank != y->rank || x->rank > 4)
        return qm_op_fail(op, "output must have the input's rank (1 to 4)", "");
    for (int32_t a = 0; a < x->rank; a++)
        if (y->dims[a] % x->dims[a] != 0)
            return qm_op_fail(op, "output dims must be multiples of the input's", "");
    return SSCMA_OK; /* the batch axis: validation keeps dims[0] = 1 on both, so it is never repeated */
}

/*
 * out[i0, i1, i2, i3] = in[base + sum(i_k * s[k])] for i_k < n[k] (four axes, leading ones of size 1): what
 * transpose and slice are, with the input's strides permuted or scaled by the slice's steps.
 */
static void gather4(const char *src, char *dst, size_t esize, const int64_t *n, const int64_t *s, int64_t base)
{
    for (int64_t i0 = 0; i0 < n[0]; i0++)
        for (int64_t i1 = 0; i1 < n[1]; i1++)
            for (int64_t i2 = 0; i2 < n[2]; i2++) {
                const char *row = src + (size_t)(base + i0 * s[0] + i1 * s[1] + i2 * s[2]) * esize;
                if (s[3] == 1) {
                    memcpy(dst, row, (size_t)n[3] * esize);
                    dst += (size_t)n[3] * esize;
                    continue;
                }
                for (int64_t i3 = 0; i3 < n[3]; i3++, dst += esize)
                    memcpy(dst, row + (ptrdiff_t)(i3 * s[3]) * (ptrdiff_t)esize, esize);
            }
}

/* Tile: out[o] = in[o_k mod dims_k per axis]. */
static void tile4(const char *src, char *dst, size_t esize, const int64_t *in, const int64_t *out, const int64_t *s)
{
    for (int64_t i0 = 0; i0 < out[0]; i0++)
        for (int64_t i1 = 0; i1 < out[1]; i1++)
            for (int64_t i2 = 0; i2 < out[2]; i2++) {
                const char *row = src + (size_t)((i0 % in[0]) * s[0] + (i1 % in[1]) * s[1] + (i2 % in[2]) * s[2]) *
                                            esize;
                for (int64_t i3 = 0; i3 < out[3]; i3 += in[3], dst += (size_t)in[3] * esize)
                    memcpy(dst, row, (size_t)in[3] * esize);
            }
}

/* The kernel of all three kinds, float and int8: the batch axis (0) runs over the plan's batch. */
sscma_status qm_run_move(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    const size_t esize = x->dtype == SSCMA_DTYPE_F32 || x->dtype == SSCMA_DTYPE_I32 ? 4 : 1;
    const char *src = qm_buf(ex, x);
    char *dst = qm_buf(ex, y);
    const int32_t pad = 4 - x->rank; /* leading axes of size 1 */
    int64_t xs[4], n[4] = {1, 1, 1, 1}, s[4] = {0, 0, 0, 0}, base = 0;
    strides_of(x, xs);
    xs[0] = sscma_qm_numel(x) / x->dims[0]; /* one sample */
    if (op->kind == QM_TILE) {
        int64_t in[4] = {1, 1, 1, 1}, out[4] = {1, 1, 1, 1};
        for (int32_t a = 0; a < x->rank; a++)
            in[pad + a] = x->dims[a], out[pad + a] = y->dims[a], s[pad + a] = xs[a];
        in[pad] = out[pad] = ex->batch;
        tile4(src, dst, esize, in, out, s);
        return SSCMA_OK;
    }
    for (int32_t a = 0; a < x->rank; a++) {
        if (op->kind == QM_TRANSPOSE) {
            n[pad + a] = x->dims[op->perm[a]], s[pad + a] = xs[op->perm[a]];
        } else {
            n[pad + a] = op->count[a], s[pad + a] = xs[a] * op->step[a];
            base += op->begin[a] * xs[a];
        }
    }
    n[pad] = ex->batch; /* axis 0 stays the batch: perm[0] = 0, a slice takes it whole */
    gather4(src, dst, esize, n, s, base);
    return SSCMA_OK;
}
