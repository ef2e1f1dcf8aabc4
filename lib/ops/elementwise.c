/*
 * Binary element-wise ops. Input b has a's rank and each of its dimensions equals a's or is 1 (broadcast), e.g.
 * a residual (same shape) or a per-sample channel scale [N, 1, 1, C] over [N, H, W, C].
 *   add: y = a + b        da += dy          db += sum over broadcast axes of dy
 *   mul: y = a * b        da += dy * b      db += sum over broadcast axes of dy * a
 */
#include <string.h>

#include "ops/op.h"

typedef struct bcast {
    int64_t numel;
    int32_t rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    int64_t b_stride[SSCMA_TENSOR_MAX_RANK]; /* 0 on broadcast axes */
    bool same;
} bcast;

static sscma_status binary_infer(const char *op, const sscma_desc *in, int32_t n_in, sscma_desc *out, int32_t *n_out,
                                 sscma_op_sizes *sizes)
{
    if (n_in != 2)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "takes 2 inputs, got %d", n_in);
    sscma_status st;
    if ((st = sscma_desc_require(op, "input a", &in[0], SSCMA_DTYPE_F32, -1)) != SSCMA_OK ||
        (st = sscma_desc_require(op, "input b", &in[1], SSCMA_DTYPE_F32, in[0].rank)) != SSCMA_OK)
        return st;
    for (int32_t i = 0; i < in[0].rank; i++)
        if (in[1].dims[i] != in[0].dims[i] && in[1].dims[i] != 1) {
            char as[200], bs[200];
            sscma_desc_format(&in[0], as, sizeof as);
            sscma_desc_format(&in[1], bs, sizeof bs);
            return sscma_fail(SSCMA_ERR_SHAPE, op, "b %s does not broadcast to a %s (axis %d)", bs, as, (int)i);
        }
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static bcast bcast_of(const sscma_desc *a, const sscma_desc *b)
{
    bcast g;
    memset(&g, 0, sizeof g);
    g.rank = a->rank;
    g.numel = sscma_desc_numel(a);
    g.same = true;
    int64_t stride = 1;
    for (int32_t i = a->rank - 1; i >= 0; i--) {
        g.dims[i] = a->dims[i];
        g.b_stride[i] = b->dims[i] == 1 && a->dims[i] != 1 ? 0 : stride;
        if (b->dims[i] != a->dims[i])
            g.same = false;
        stride *= b->dims[i];
    }
    return g;
}

/* Index into b of flat element i of a. */
static int64_t b_index(const bcast *g, int64_t i)
{
    int64_t off = 0;
    for (int32_t d = g->rank - 1; d >= 0; d--) {
        off += (i % g->dims[d]) * g->b_stride[d];
        i /= g->dims[d];
    }
    return off;
}

typedef struct bin_job {
    const bcast *g;
    bool mul;
    const float *a, *b, *dy;
    float *y, *da;
    bool fresh; /* backward: da holds stale bytes; each range is zeroed (in cache) before it adds */
} bin_job;

SSCMA_KERNEL static void forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bin_job *j = arg;
    if (j->g->same) {
        if (j->mul)
            for (int64_t i = begin; i < end; i++) j->y[i] = j->a[i] * j->b[i];
        else
            for (int64_t i = begin; i < end; i++) j->y[i] = j->a[i] + j->b[i];
        return;
    }
    for (int64_t i = begin; i < end; i++) {
        float bv = j->b[b_index(j->g, i)];
        j->y[i] = j->mul ? j->a[i] * bv : j->a[i] + bv;
    }
}

SSCMA_KERNEL static void backward_a_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bin_job *j = arg;
    float *da = j->da;
    const float *dy = j->dy, *b = j->b;
    if (j->fresh)
        memset(da + begin, 0, (size_t)(end - begin) * sizeof *da);
    if (!j->mul)
        for (int64_t i = begin; i < end; i++) da[i] += dy[i];
    else if (j->g->same)
        for (int64_t i = begin; i < end; i++) da[i] += dy[i] * b[i];
    else
        for (int64_t i = begin; i < end; i++) da[i] += dy[i] * b[b_index(j->g, i)];
}

static sscma_status binary_forward(const sscma_op_exec *e, bool mul)
{
    bcast g = bcast_of(&e->in[0].desc, &e->in[1].desc);
    bin_job job = {&g, mul, e->in[0].data, e->in[1].data, NULL, e->out[0].data, NULL, false};
    sscma_parallel_for(e->pool, g.numel, 16384, forward_task, &job);
    return SSCMA_OK;
}

static void binary_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din, bool mul)
{
    bcast g = bcast_of(&e->in[0].desc, &e->in[1].desc);
    const float *a = e->in[0].data, *b = e->in[1].data, *dy = dout[0].data;
    if (din[0].data != NULL) {
        bin_job job = {&g, mul, a, b, dy, NULL, din[0].data, (e->din_fresh & 1u) != 0};
        sscma_parallel_for(e->pool, g.numel, 16384, backward_a_task, &job);
    }
    float *db = din[1].data;
    if (db == NULL)
        return;
    if (g.same) { /* db += dy (add) or dy * a (mul): the a-side kernel with the roles of a and b swapped */
        bin_job job = {&g, mul, b, a, dy, NULL, db, (e->din_fresh & 2u) != 0};
        sscma_parallel_for(e->pool, g.numel, 16384, backward_a_task, &job);
        return;
    }
    if (e->din_fresh & 2u)
        memset(db, 0, (size_t)sscma_desc_numel(&e->in[1].desc) * sizeof *db);
    /* Reduction into b: each element of b sums its broadcast set in a fixed (flat) order. Sequential: b is small
     * whenever it broadcasts, and the order stays independent of the thread count. */
    for (int64_t i = 0; i < g.numel; i++)
        db[b_index(&g, i)] += mul ? dy[i] * a[i] : dy[i];
}

static sscma_status add_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                              int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    return binary_infer("add", in, n_in, out, n_out, sizes);
}
static sscma_status mul_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                              int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    return binary_infer("mul", in, n_in, out, n_out, sizes);
}
static sscma_status add_forward(const sscma_op_exec *e) { return binary_forward(e, false); }
static sscma_status mul_forward(const sscma_op_exec *e) { return binary_forward(e, true); }
static void add_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    binary_backward(e, dout, din, false);
}
static void mul_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    binary_backward(e, dout, din, true);
}

const sscma_op_def sscma_op_add = {
    .id = SSCMA_OP_ADD,
    .name = "add", .attrs_size = 0, .min_inputs = 2, .max_inputs = 2,
    .infer = add_infer, .forward = add_forward, .backward = add_backward,
    .backward_skips_inputs = true,
    .backward_skips_outputs = true,
    .backward_overwrites = 3u, /* a, b */
};

const sscma_op_def sscma_op_mul = {
    .id = SSCMA_OP_MUL,
    .name = "mul", .attrs_size = 0, .min_inputs = 2, .max_inputs = 2,
    .infer = mul_infer, .forward = mul_forward, .backward = mul_backward,
    .backward_skips_outputs = true,
    .backward_overwrites = 3u, /* a, b */
};
