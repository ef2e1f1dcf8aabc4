/*
 * Elementwise binary ops (ADD, SUB, MUL, MAXIMUM, MINIMUM) with TFLite's broadcasting, and MEAN over any non-batch
 * axes: shape checks, float kernels and int8 kernels computed exactly as TFLite's reference kernels compute them
 * (docs/export.md; checked by the tflite-ops-reference test). Their rows: qm_kinds.c and export/kinds.c; their
 * TFLite functions: export/tflite_binary.c.
 *
 *   add / sub:  a = (x1 - zp1) 2^20 * M1, b = (x2 - zp2) 2^20 * M2 (rounded, multipliers below one);
 *               y = clamp((a +- b) * Mo + zp_y), the multipliers from scales divided in double (int8.c's prepare)
 *   mul:        y = clamp((x1 - zp1) (x2 - zp2) * M + zp_y), M from s1 s2 / s_y computed in float
 *   max / min:  the raw int8 values compared (TFLite neither checks nor changes the quantization)
 *   mean:       sum - zp_x N over the N reduced values, times M 2^sh / N (sh = floor(log2 N), at most 32 and
 *               31 + S), M from s_x / s_y in double; float: the sum in input order, divided by (float)N
 * Shapes broadcast as numpy's (and TFLite's): aligned at the last dimension, each dimension equal or 1. Activations
 * have the output's rank (their first dimension is the batch); a constant operand may have a lower rank.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "quant/fixedpoint.h"
#include "quant/qm_kernel.h"
#include "quant/qm_kinds.h"

/* ---- shapes ---- */

/* Tensor t's dims at batch `batch` (constants as stored), right-aligned in 4 dims with leading 1s. */
static void dims4(const qm_tensor *t, int64_t batch, int64_t d[4])
{
    for (int32_t i = 0; i < 4; i++)
        d[i] = 1;
    for (int32_t i = 0; i < t->rank; i++)
        d[4 - t->rank + i] = t->dims[i];
    if (!t->constant && t->rank > 0)
        d[4 - t->rank] = batch;
}

/* Row-major strides of input dims d against output dims o, 0 along the dimensions it is broadcast over. */
static void bcast_strides(const int64_t d[4], const int64_t o[4], int64_t s[4])
{
    int64_t step = 1;
    for (int32_t i = 3; i >= 0; i--) {
        s[i] = d[i] == 1 && o[i] != 1 ? 0 : step;
        step *= d[i];
    }
}

sscma_status qm_validate_binary(const sscma_qmodel *q, const qm_op *op)
{
    if (op->n_in != 2)
        return qm_op_fail(op, "needs two inputs", "");
    const qm_tensor *a = &q->t[op->in[0]], *b = &q->t[op->in[1]], *y = &q->t[op->out];
    if (a->constant && b->constant)
        return qm_op_fail(op, "needs at least one input that is not a constant", "");
    for (int32_t k = 0; k < 2; k++) {
        const qm_tensor *t = k == 0 ? a : b;
        if (t->rank > y->rank || (!t->constant && t->rank != y->rank))
            return qm_op_fail(op, "an activation input must have the output's rank (a constant at most that): ",
                              t->name);
    }
    int64_t da[4], db[4], dy[4];
    dims4(a, 1, da), dims4(b, 1, db), dims4(y, 1, dy);
    for (int32_t i = 0; i < 4; i++) {
        bool fits = (da[i] == dy[i] || da[i] == 1) && (db[i] == dy[i] || db[i] == 1);
        if (!fits || dy[i] != (da[i] > db[i] ? da[i] : db[i]))
            return qm_op_fail(op, "the inputs' shapes do not broadcast to the output's (each dimension equal or 1)",
                              "");
    }
    return SSCMA_OK;
}

/* What one run of a binary op sees: its operands (constants from the model) and the broadcast strides. */
typedef struct bin_job {
    const qm_op *op;
    const void *a, *b;
    void *y;
    int64_t out[4], sa[4], sb[4];
    int32_t zpa, zpb, zpy;
} bin_job;

static void bin_job_init(const qm_exec *ex, const qm_op *op, bin_job *j)
{
    const qm_tensor *a = &ex->q->t[op->in[0]], *b = &ex->q->t[op->in[1]], *y = &ex->q->t[op->out];
    int64_t da[4], db[4];
    dims4(a, ex->batch, da), dims4(b, ex->batch, db), dims4(y, ex->batch, j->out);
    bcast_strides(da, j->out, j->sa);
    bcast_strides(db, j->out, j->sb);
    j->op = op;
    j->a = a->constant ? a->data : qm_buf(ex, a);
    j->b = b->constant ? b->data : qm_buf(ex, b);
    j->y = qm_buf(ex, y);
    j->zpa = a->n_q > 0 ? a->zero_point[0] : 0;
    j->zpb = b->n_q > 0 ? b->zero_point[0] : 0;
    j->zpy = y->n_q > 0 ? y->zero_point[0] : 0;
}

/* Offsets of row r (all dimensions but the last) in a, b and y. */
static void row_offsets(const bin_job *j, int64_t r, int64_t *oa, int64_t *ob)
{
    int64_t i2 = r % j->out[2], i1 = r / j->out[2] % j->out[1], i0 = r / j->out[2] / j->out[1];
    *oa = i0 * j->sa[0] + i1 * j->sa[1] + i2 * j->sa[2];
    *ob = i0 * j->sb[0] + i1 * j->sb[1] + i2 * j->sb[2];
}

/* TFLite's float activation clamp (CalculateActivationRange): NONE still clamps to +-FLT_MAX; NaN passes. */
static inline float act_clamp(float v, float lo, float hi)
{
    v = v < lo ? lo : v;
    return hi < v ? hi : v;
}

SSCMA_KERNEL static void f32_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bin_job *j = arg;
    const qm_kind kind = j->op->kind;
    const float *a = j->a, *b = j->b;
    const int64_t n = j->out[3], sa = j->sa[3], sb = j->sb[3];
    const float lo = j->op->act == SSCMA_ACT_NONE ? -FLT_MAX : 0.0f;
    const float hi = j->op->act == SSCMA_ACT_RELU6 ? 6.0f : FLT_MAX;
    for (int64_t r = begin; r < end; r++) {
        int64_t oa, ob;
        row_offsets(j, r, &oa, &ob);
        const float *ar = a + oa, *br = b + ob;
        float *y = (float *)j->y + r * n;
        for (int64_t k = 0; k < n; k++) {
            float u = ar[k * sa], v = br[k * sb];
            switch (kind) {
            case QM_ADD: y[k] = act_clamp(u + v, lo, hi); break;
            case QM_SUB: y[k] = act_clamp(u - v, lo, hi); break;
            case QM_MUL: y[k] = act_clamp(u * v, lo, hi); break;
            case QM_MAXIMUM: y[k] = u > v ? u : v; break;
            default: y[k] = u < v ? u : v; break;
            }
        }
    }
}

sscma_status qm_f32_binary(const qm_exec *ex, const qm_op *op)
{
    bin_job j;
    bin_job_init(ex, op, &j);
    int64_t rows = j.out[0] * j.out[1] * j.out[2];
    sscma_parallel_for(ex->pool, rows, 1 + 16384 / (j.out[3] > 0 ? j.out[3] : 1), f32_rows, &j);
    return SSCMA_OK;
}

/* ---- int8 ---- */

sscma_status qm_i8_prepare_mul(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *a = &q->t[op->in[0]], *b = &q->t[op->in[1]], *y = &q->t[op->out];
    sscma_status st = qm_need(op, qm_per_tensor_i8(b), "inputs must be int8 per tensor");
    if (st != SSCMA_OK || (st = qm_alloc_mult(q, op, 1)) != SSCMA_OK)
        return st;
    float real = a->scale[0] * b->scale[0]; /* in float, as TFLite's kernel computes it (a tie can depend on it) */
    real = real / y->scale[0];
    if ((st = qm_need(op, real < 1073741824.0f, "the output scale is too small for the inputs'")) != SSCMA_OK)
        return st;
    sscma_quantize_multiplier((double)real, &op->mult[0], &op->shift[0]);
    return qm_i8_binary_table(q, op);
}

sscma_status qm_i8_prepare_minmax(sscma_qmodel *q, qm_op *op)
{
    sscma_status st = qm_need(op, qm_per_tensor_i8(&q->t[op->in[1]]), "inputs must be int8");
    return st == SSCMA_OK ? qm_i8_binary_table(q, op) : st;
}

/* One int8 result of a binary op on raw values u (input a) and v (input b): the reference kernels' arithmetic. */
static inline int8_t i8_binary_one(const qm_op *op, int32_t u, int32_t v, int32_t zpa, int32_t zpb, int32_t zpy)
{
    switch (op->kind) {
    case QM_ADD:
    case QM_SUB: {
        int32_t x1 = fx_mul_by_qm_lt1((u - zpa) * (1 << op->left_shift), op->in_mult[0], op->in_shift[0]);
        int32_t x2 = fx_mul_by_qm_lt1((v - zpb) * (1 << op->left_shift), op->in_mult[1], op->in_shift[1]);
        int32_t o = fx_mul_by_qm_lt1(op->kind == QM_ADD ? x1 + x2 : x1 - x2, op->mult[0], op->shift[0]) + zpy;
        return (int8_t)qm_clamp_i32(o, op->act_min, op->act_max);
    }
    case QM_MUL:
        return (int8_t)qm_clamp_i32(zpy + fx_mul_by_qm((u - zpa) * (v - zpb), op->mult[0], op->shift[0]), op->act_min,
                                    op->act_max);
    case QM_MAXIMUM:
        return (int8_t)(u > v ? u : v);
    default:
        return (int8_t)(u < v ? u : v);
    }
}

SSCMA_KERNEL static void i8_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bin_job *j = arg;
    const qm_op *op = j->op;
    const int8_t *a = j->a, *b = j->b;
    const int64_t n = j->out[3], sa = j->sa[3], sb = j->sb[3];
    for (int64_t r = begin; r < end; r++) {
        int64_t oa, ob;
        row_offsets(j, r, &oa, &ob);
        const int8_t *ar = a + oa, *br = b + ob;
        int8_t *y = (int8_t *)j->y + r * n;
        for (int64_t k = 0; k < n; k++)
            y[k] = i8_binary_one(op, ar[k * sa], br[k * sb], j->zpa, j->zpb, j->zpy);
    }
}

/*
 * A constant operand that is one value or one value per channel (the last axis), against an activation of the
 * output's shape: the op is a function of the activation's byte and the channel, so prepare tabulates it (256
 * entries per channel, by i8_binary_one: the same results) and a run is one lookup per element.
 */
#define BIN_TABLE_MAX_CHANNELS 256

sscma_status qm_i8_binary_table(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *a = &q->t[op->in[0]], *b = &q->t[op->in[1]], *y = &q->t[op->out];
    sscma_free(q->ctx, op->lut, op->lut_bytes);
    op->lut = NULL;
    op->lut_bytes = 0;
    if (a->constant == b->constant)
        return SSCMA_OK;
    const qm_tensor *c = a->constant ? a : b, *x = a->constant ? b : a;
    int64_t dc[4], dx[4], dy[4];
    dims4(c, 1, dc), dims4(x, 1, dx), dims4(y, 1, dy);
    for (int32_t i = 0; i < 4; i++)
        if (dx[i] != dy[i] || (i < 3 && dc[i] != 1))
            return SSCMA_OK; /* the activation is broadcast too, or the constant varies along another axis */
    const int64_t channels = dc[3];
    if (channels > BIN_TABLE_MAX_CHANNELS)
        return SSCMA_OK;
    const size_t bytes = (size_t)channels * 256;
    int8_t *t = sscma_alloc(q->ctx, bytes, 64);
    if (t == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, op->name, "cannot allocate a lookup table");
    const int8_t *cd = c->data;
    const int32_t zpa = a->n_q > 0 ? a->zero_point[0] : 0, zpb = b->n_q > 0 ? b->zero_point[0] : 0;
    const int32_t zpy = y->n_q > 0 ? y->zero_point[0] : 0;
    for (int64_t ch = 0; ch < channels; ch++)
        for (int32_t v = -128; v <= 127; v++)
            t[ch * 256 + (uint8_t)(int8_t)v] = a->constant ? i8_binary_one(op, cd[ch], v, zpa, zpb, zpy)
                                                          : i8_binary_one(op, v, cd[ch], zpa, zpb, zpy);
    op->lut = t;
    op->lut_bytes = bytes;
    return SSCMA_OK;
}

typedef struct table_job {
    const int8_t *x, *t;
    int8_t *y;
    int64_t n, channels;
} table_job;

SSCMA_KERNEL static void table_rows(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const table_job *j = arg;
    for (int64_t r = begin; r < end; r++) {
        const int8_t *x = j->x + r * j->n;
        int8_t *y = j->y + r * j->n;
        if (j->channels == 1)
            for (int64_t k = 0; k < j->n; k++)
                y[k] = j->t[(uint8_t)x[k]];
        else
            for (int64_t k = 0; k < j->n; k++)
                y[k] = j->t[k * 256 + (uint8_t)x[k]];
    }
}

sscma_status qm_i8_binary(const qm_exec *ex, const qm_op *op)
{
    const qm_tensor *a = &ex->q->t[op->in[0]], *b = &ex->q->t[op->in[1]];
    /* two activations of one shape: the flat kernel of the backends (the same arithmetic) */
    if (op->kind == QM_ADD && !a->constant && !b->constant && qm_shape_is(b, a->rank, a->dims))
        return qm_i8_add(ex, op);
    if (op->lut != NULL) { /* a constant operand, tabulated by qm_i8_binary_table */
        const qm_tensor *x = a->constant ? b : a, *y = &ex->q->t[op->out];
        table_job t = {qm_buf(ex, x), op->lut, qm_buf(ex, y), y->dims[y->rank - 1], (int64_t)(op->lut_bytes / 256)};
        int64_t rows = (int64_t)qm_bytes(ex, y) / (t.n > 0 ? t.n : 1);
        sscma_parallel_for(ex->pool, rows, 1 + 16384 / (t.n > 0 ? t.n : 1), table_rows, &t);
        return SSCMA_OK;
    }
    bin_job j;
    bin_job_init(ex, op, &j);
    int64_t rows = j.out[0] * j.out[1] * j.out[2];
    sscma_parallel_for(ex->pool, rows, 1 + 4096 / (j.out[3] > 0 ? j.out[3] : 1), i8_rows, &j);
    return SSCMA_OK;
}

/* ---- mean ---- */

static int32_t popcount4(int32_t mask)
{
    return (mask & 1) + (mask >> 1 & 1) + (mask >> 2 & 1) + (mask >> 3 & 1);
}

sscma_status qm_validate_mean(const sscma_qmodel *q, const qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    if (op->n_in != 1)
        return qm_op_fail(op, "needs one input", "");
    const int32_t all = (1 << x->rank) - 1;
    if (op->reduce_axes == 0 || (op->reduce_axes & ~all) != 0 || (op->reduce_axes & 1) != 0)
        return qm_op_fail(op, "reduces no axis, the batch axis or an axis the input lacks", "");
    int32_t want_rank = op->keep_dims ? x->rank : x->rank - popcount4(op->reduce_axes);
    bool ok = y->rank == want_rank;
    for (int32_t i = 0, o = 0; i < x->rank && ok; i++) {
        bool reduced = (op->reduce_axes >> i & 1) != 0;
        if (reduced && op->keep_dims)
            ok = y->dims[o++] == 1;
        else if (!reduced)
            ok = y->dims[o++] == x->dims[i];
    }
    if (!ok)
        return qm_op_fail(op, "the output's shape does not follow from the axes and keep_dims", "");
    return SSCMA_OK;
}

/* Values reduced into one output element (the batch is never reduced, so it does not depend on the batch). */
static int64_t mean_count(const qm_tensor *x, int32_t axes)
{
    int64_t n = 1;
    for (int32_t i = 0; i < x->rank; i++)
        if (axes >> i & 1)
            n *= x->dims[i];
    return n;
}

sscma_status qm_i8_prepare_mean(sscma_qmodel *q, qm_op *op)
{
    const qm_tensor *x = &q->t[op->in[0]], *y = &q->t[op->out];
    const int64_t n = mean_count(x, op->reduce_axes);
    /* the int32 sum of n int8 values must not overflow */
    sscma_status st = qm_need(op, n <= ((int64_t)1 << 23), "reduces more than 2^23 values into one");
    if (st != SSCMA_OK || (st = qm_alloc_mult(q, op, 1)) != SSCMA_OK)
        return st;
    int32_t m, s;
    sscma_quantize_multiplier((double)x->scale[0] / (double)y->scale[0], &m, &s);
    /* TFLite's QuantizedMeanOrSum folds 1 / n into the multiplier */
    int32_t sh = 0;
    while (((int64_t)1 << (sh + 1)) <= n)
        sh++;
    sh = sh < 32 ? sh : 32;
    sh = sh < 31 + s ? sh : 31 + s;
    op->mult[0] = (int32_t)(((int64_t)m << sh) / n);
    op->shift[0] = s - sh;
    return SSCMA_OK;
}

/* What one run of MEAN sees: the input's dims at the run's batch, strides, and the kept / reduced dimensions. */
typedef struct mean_job {
    const qm_op *op;
    const void *x;
    void *y;
    int64_t d[4], s[4];
    int32_t kept[4], n_kept, red[4], n_red;
    int64_t n;
    int32_t zpx, zpy;
} mean_job;

/* Offset in x of output element e (its kept coordinates, row-major). */
static int64_t mean_base(const mean_job *j, int64_t e)
{
    int64_t off = 0;
    for (int32_t k = j->n_kept - 1; k >= 0; k--) {
        int32_t ax = j->kept[k];
        off += e % j->d[ax] * j->s[ax];
        e /= j->d[ax];
    }
    return off;
}

/* Calls body with the offset of each reduced value of the element at `base`, in input (row-major) order. */
#define MEAN_FOR_EACH(j, base, off, body)                                                                            \
    do {                                                                                                             \
        int64_t idx_[4] = {0, 0, 0, 0};                                                                              \
        for (int64_t c_ = 0; c_ < (j)->n; c_++) {                                                                    \
            int64_t off = (base);                                                                                    \
            for (int32_t r_ = 0; r_ < (j)->n_red; r_++)                                                              \
                off += idx_[r_] * (j)->s[(j)->red[r_]];                                                              \
            body;                                                                                                    \
            for (int32_t r_ = (j)->n_red - 1; r_ >= 0; r_--) {                                                       \
                if (++idx_[r_] < (j)->d[(j)->red[r_]])                                                               \
                    break;                                                                                           \
                idx_[r_] = 0;                                                                                        \
            }                                                                                                        \
        }                                                                                                            \
    } while (0)

static int64_t mean_job_init(const qm_exec *ex, const qm_op *op, mean_job *j)
{
    const qm_tensor *x = &ex->q->t[op->in[0]], *y = &ex->q->t[op->out];
    memset(j, 0, sizeof *j);
    j->op = op;
    j->x = qm_buf(ex, x);
    j->y = qm_buf(ex, y);
    int64_t step = 1, outputs = 1;
    for (int32_t i = 0; i < x->rank; i++)
        j->d[i] = i == 0 ? ex->batch : x->dims[i];
    for (int32_t i = x->rank - 1; i >= 0; i--) {
        j->s[i] = step;
        step *= j->d[i];
    }
    for (int32_t i = 0; i < x->rank; i++) {
        if (op->reduce_axes >> i & 1)
            j->red[j->n_red++] = i;
        else {
            j->kept[j->n_kept++] = i;
            outputs *= j->d[i];
        }
    }
    j->n = mean_count(x, op->reduce_axes);
    j->zpx = x->n_q > 0 ? x->zero_point[0] : 0;
    j->zpy = y->n_q > 0 ? y->zero_point[0] : 0;
    return outputs;
}

SSCMA_KERNEL static void f32_mean_range(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const mean_job *j = arg;
    const float *x = j->x;
    for (int64_t e = begin; e < end; e++) {
        float acc = 0.0f;
        MEAN_FOR_EACH(j, mean_base(j, e), off, acc += x[off]);
        ((float *)j->y)[e] = acc / (float)j->n;
    }
}

sscma_status qm_f32_mean(const qm_exec *ex, const qm_op *op)
{
    mean_job j;
    int64_t outputs = mean_job_init(ex, op, &j);
    sscma_parallel_for(ex->pool, outputs, 1 + 16384 / (j.n > 0 ? j.n : 1), f32_mean_range, &j);
    return SSCMA_OK;
}

SSCMA_KERNEL static void i8_mean_range(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const mean_job *j = arg;
    const int8_t *x = j->x;
    const int32_t m = j->op->mult[0], s = j->op->shift[0];
    for (int64_t e = begin; e < end; e++) {
        int32_t sum = 0;
        MEAN_FOR_EACH(j, mean_base(j, e), off, sum += x[off]);
        int32_t shifted = sum - j->zpx * (int32_t)j->n;
        ((int8_t *)j->y)[e] = (int8_t)qm_clamp_i32(fx_mul_by_qm(shifted, m, s) + j->zpy, -128, 127);
    }
}

sscma_status qm_i8_mean(const qm_exec *ex, const qm_op *op)
{
    mean_job j;
    int64_t outputs = mean_job_init(ex, op, &j);
    sscma_parallel_for(ex->pool, outputs, 1 + 16384 / (j.n > 0 ? j.n : 1), i8_mean_range, &j);
    return SSCMA_OK;
}
