/*
 * batch_norm over the last (channel) axis, PyTorch semantics.
 *
 * Inputs: x [..., C], gamma [C], beta [C], running_mean [C], running_var [C] (the last two are updated in place by
 * a training forward: running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance).
 *   training:   y = (x - mean_B) * invstd_B * gamma + beta,  invstd_B = 1 / sqrt(var_B + eps)  (biased var_B)
 *   evaluation: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta
 * Backward (training), with xhat = (x - mean_B) * invstd_B and M rows:
 *   dbeta = sum dy,  dgamma = sum dy * xhat,  dx += gamma * invstd_B / M * (M * dy - dbeta - xhat * dgamma)
 *
 * Per-channel sums walk the [M, C] matrix row by row (contiguous), in chunks of CHUNK_ROWS rows whose double
 * partial sums are then added in chunk order: the result depends on the shape only, not on the thread count.
 * One pass gives sum and sum of squares (double): var = E[x^2] - mean^2.
 *
 * SyncBN (e->sync set by a data-parallel trainer, training only): the forward sums (sum, sum of squares, rows) and
 * the backward's (sum dy, sum dy * x, rows) are summed over the job's processes before use, so mean_B, var_B and the
 * dx terms are those of the global batch; dgamma and dbeta stay this process's sums (the trainer averages gradients).
 *
 * batch_norm_act applies an activation to the output in the same pass: y = act(z), z = x * scale + shift; its
 * backward forms dz = dy * act'(z) on the fly (z recomputed from x) and runs the batch-norm backward on dz.
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"

#if defined(__GNUC__)
#  define SSCMA_ALWAYS_INLINE __attribute__((always_inline))
#else
#  define SSCMA_ALWAYS_INLINE
#endif

#define OP "batch_norm"
#define CHUNK_ROWS 256

static int64_t chunks_of(int64_t rows)
{
    return (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
}

/* Workspace: 7 float vectors of C (forward: scale, shift; backward: k1, k2, k3, evaluation mean and invstd, and
 * the fused activation's scale and shift), then doubles: the two
 * channel sums (2C) and the chunk partials (2C per chunk). */
static size_t floats_bytes(int64_t c)
{
    return sscma_align_bytes(7 * (size_t)c * sizeof(float));
}

static sscma_status infer_named(const char *op_name, const sscma_batch_norm_attrs *a, const sscma_desc *in,
                                int32_t n_in, sscma_desc *out, int32_t *n_out, sscma_op_sizes *sizes)
{
#undef OP
#define OP op_name
    static const char *const names[5] = {"input x", "gamma", "beta", "running_mean", "running_var"};
    if (n_in != 5)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP,
                          "takes 5 inputs (x, gamma, beta, running_mean, running_var), got %d", n_in);
    sscma_status st = sscma_desc_require(OP, names[0], &in[0], SSCMA_DTYPE_F32, -1);
    if (st != SSCMA_OK)
        return st;
    if (in[0].rank < 2)
        return sscma_fail(SSCMA_ERR_SHAPE, OP, "input x has rank %d; expected at least 2 ([N, ..., C])",
                          (int)in[0].rank);
    int64_t c = in[0].dims[in[0].rank - 1];
    for (int i = 1; i < 5; i++) {
        if ((st = sscma_desc_require(OP, names[i], &in[i], SSCMA_DTYPE_F32, 1)) != SSCMA_OK)
            return st;
        if (in[i].dims[0] != c)
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "%s has %lld elements; x has %lld channels (last axis)",
                              names[i], (long long)in[i].dims[0], (long long)c);
    }
    if (!(a->eps > 0.0f) || !(a->momentum >= 0.0f && a->momentum <= 1.0f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "eps %g must be > 0 and momentum %g in 0..1",
                          (double)a->eps, (double)a->momentum);
    int64_t rows = c > 0 ? sscma_desc_numel(&in[0]) / c : 0;
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = sscma_align_bytes(2 * (size_t)c * sizeof(float)); /* batch mean, invstd */
    sizes->workspace_bytes = floats_bytes(c) + 2 * (size_t)((chunks_of(rows) + 1) * c) * sizeof(double);
    return SSCMA_OK;
#undef OP
#define OP "batch_norm"
}

static sscma_status bn_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                             int32_t *n_out, sscma_op_sizes *sizes)
{
    return infer_named("batch_norm", attrs, in, n_in, out, n_out, sizes);
}

static sscma_status bn_act_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                 int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_batch_norm_act_attrs *a = attrs;
    switch (a->act) {
    case SSCMA_ACT_NONE:
    case SSCMA_ACT_RELU:
    case SSCMA_ACT_RELU6:
    case SSCMA_ACT_LEAKY_RELU:
    case SSCMA_ACT_HARDSWISH: break;
    default:
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, "batch_norm_act",
                          "activation %d cannot be fused; use batch_norm and the activation op", (int)a->act);
    }
    return infer_named("batch_norm_act", &a->bn, in, n_in, out, n_out, sizes);
}

/* The fused activation and its derivative, from the pre-activation z. */
static inline float act_value(sscma_act_kind kind, float z, float slope)
{
    switch (kind) {
    case SSCMA_ACT_RELU: return z < 0.0f ? 0.0f : z;
    case SSCMA_ACT_RELU6: {
        float v = z < 0.0f ? 0.0f : z;
        return v > 6.0f ? 6.0f : v;
    }
    case SSCMA_ACT_LEAKY_RELU: return z > 0.0f ? z : slope * z;
    case SSCMA_ACT_HARDSWISH: {
        float v = z + 3.0f < 0.0f ? 0.0f : z + 3.0f;
        return z * (v > 6.0f ? 6.0f : v) / 6.0f;
    }
    default: return z;
    }
}

static inline float act_deriv(sscma_act_kind kind, float z, float slope)
{
    switch (kind) {
    case SSCMA_ACT_RELU: return z > 0.0f ? 1.0f : 0.0f;
    case SSCMA_ACT_RELU6: return z > 0.0f && z < 6.0f ? 1.0f : 0.0f;
    case SSCMA_ACT_LEAKY_RELU: return z > 0.0f ? 1.0f : slope;
    case SSCMA_ACT_HARDSWISH: return z <= -3.0f ? 0.0f : z >= 3.0f ? 1.0f : (2.0f * z + 3.0f) / 6.0f;
    default: return 1.0f;
    }
}

/* Runs LOOP(kind) with the kind as a constant, so that each loop is compiled (and vectorised) for one activation. */
#define ACT_SWITCH(kind, LOOP)                                                                                 \
    switch (kind) {                                                                                            \
    case SSCMA_ACT_RELU: LOOP(SSCMA_ACT_RELU) break;                                                           \
    case SSCMA_ACT_RELU6: LOOP(SSCMA_ACT_RELU6) break;                                                         \
    case SSCMA_ACT_LEAKY_RELU: LOOP(SSCMA_ACT_LEAKY_RELU) break;                                               \
    case SSCMA_ACT_HARDSWISH: LOOP(SSCMA_ACT_HARDSWISH) break;                                                 \
    default: LOOP(SSCMA_ACT_NONE) break;                                                                       \
    }

/* Per-chunk sums of a (and of a * b, or a * a when b == NULL) over rows, per channel. */
typedef struct sums_job {
    int64_t rows, c;
    const float *a, *b;
    double *partials; /* [chunk][2][c] */
    /* fused backward: a is dy, b is x, and the summed value is dz = dy * act'(x * scale + shift) */
    sscma_act_kind act;
    float slope;
    const float *scale, *shift;
} sums_job;

/* The rows r0..r1 of one chunk into s and q, in row order. Inlined with c as a constant for few channels (see
 * sums_task), so that the loop over the channels unrolls and vectorises across them; the order stays the same. */
static inline SSCMA_ALWAYS_INLINE void sums_rows(const sums_job *j, int64_t r0, int64_t r1, int64_t c,
                                                            double *restrict s, double *restrict q)
{
    for (int64_t r = r0; r < r1; r++) {
        const float *a = j->a + r * c;
        const float *b = j->b != NULL ? j->b + r * c : a;
        if (j->act == SSCMA_ACT_NONE) {
            for (int64_t ch = 0; ch < c; ch++) {
                s[ch] += (double)a[ch];
                q[ch] += (double)a[ch] * (double)b[ch];
            }
        } else {
#define SUMS_LOOP(KIND)                                                                                        \
    for (int64_t ch = 0; ch < c; ch++) {                                                                       \
        float dz = a[ch] * act_deriv(KIND, b[ch] * j->scale[ch] + j->shift[ch], j->slope);                     \
        s[ch] += (double)dz;                                                                                   \
        q[ch] += (double)dz * (double)b[ch];                                                                   \
    }
            ACT_SWITCH(j->act, SUMS_LOOP)
#undef SUMS_LOOP
        }
    }
}

/*
 * The fused backward with few channels: per-channel scale and shift repeated to SUMS_TILE floats (ts, tb), the values
 * dz = dy * act'(x * scale + shift) and dz * x of SUMS_TILE / c rows computed in one flat vector pass into d and p,
 * then added row by row in the order of sums_rows. Each value and each addition is the one sums_rows does, so the
 * bits are the same; only the per-element work (the act' comparisons, the conversions) leaves the ordered loop, where
 * GCC could not vectorise it across 3 to 8 channels. Returns the first row left for sums_rows.
 */
#define SUMS_TILE 192 /* a multiple of 3, 4, 6 and 8: whole rows, no remainder in the flat pass */
static inline SSCMA_ALWAYS_INLINE int64_t act_sums_tiles(const sums_job *j, int64_t r0, int64_t r1, int64_t c,
                                                        const float *ts, const float *tb, double *restrict s,
                                                        double *restrict q)
{
    const int64_t per = SUMS_TILE / c, n = per * c;
    double d[SUMS_TILE], p[SUMS_TILE];
    for (; r0 + per <= r1; r0 += per) {
        const float *a = j->a + r0 * c, *b = j->b + r0 * c;
#define SUMS_TILE_LOOP(KIND)                                                                                   \
    for (int64_t i = 0; i < n; i++) {                                                                          \
        float dz = a[i] * act_deriv(KIND, b[i] * ts[i] + tb[i], j->slope);                                     \
        d[i] = (double)dz;                                                                                     \
        p[i] = (double)dz * (double)b[i];                                                                      \
    }
        ACT_SWITCH(j->act, SUMS_TILE_LOOP)
#undef SUMS_TILE_LOOP
        for (int64_t r = 0; r < per; r++)
            for (int64_t ch = 0; ch < c; ch++) {
                s[ch] += d[r * c + ch];
                q[ch] += p[r * c + ch];
            }
    }
    return r0;
}

SSCMA_KERNEL static void sums_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const sums_job *j = arg;
    const int64_t c = j->c;
    const bool tiled = j->act != SSCMA_ACT_NONE && c > 0 && c <= SUMS_TILE / 12;
    float ts[SUMS_TILE], tb[SUMS_TILE];
    for (int64_t i = 0; tiled && i < SUMS_TILE / c * c; i++) {
        ts[i] = j->scale[i % c];
        tb[i] = j->shift[i % c];
    }
    for (int64_t k = begin; k < end; k++) {
        double *s = j->partials + k * 2 * c, *q = s + c;
        memset(s, 0, 2 * (size_t)c * sizeof *s);
        int64_t r0 = k * CHUNK_ROWS;
        const int64_t r1 = (k + 1) * CHUNK_ROWS < j->rows ? (k + 1) * CHUNK_ROWS : j->rows;
        /* few channels (the anomaly VAE's 3 to 8): a constant c for the inlined loops, else the generic ones */
#define CHUNK_SUMS(C)                                                                                          \
    do {                                                                                                       \
        r0 = tiled ? act_sums_tiles(j, r0, r1, (C), ts, tb, s, q) : r0;                                       \
        sums_rows(j, r0, r1, (C), s, q);                                                                       \
    } while (0)
        switch (c) {
        case 3: CHUNK_SUMS(3); break;
        case 4: CHUNK_SUMS(4); break;
        case 6: CHUNK_SUMS(6); break;
        case 8: CHUNK_SUMS(8); break;
        default: CHUNK_SUMS(c); break;
        }
#undef CHUNK_SUMS
    }
}

/* Sums of a and a*b per channel into sum and prod (double), chunked as described above. */
static void channel_sums(sscma_pool *pool, const sums_job *proto, double *sum, double *prod)
{
    const int64_t rows = proto->rows, c = proto->c, chunks = chunks_of(rows);
    const double *partials = proto->partials;
    sscma_parallel_for(pool, chunks, 1, sums_task, (void *)proto);
    memset(sum, 0, (size_t)c * sizeof *sum);
    memset(prod, 0, (size_t)c * sizeof *prod);
    for (int64_t k = 0; k < chunks; k++) {
        const double *s = partials + k * 2 * c, *q = s + c;
        for (int64_t ch = 0; ch < c; ch++) {
            sum[ch] += s[ch];
            prod[ch] += q[ch];
        }
    }
}

typedef struct affine_job {
    int64_t c;
    const float *x, *dy, *p0, *p1, *p2, *p3, *p4;
    float *out;
    sscma_act_kind act;
    float slope;
    bool fresh; /* backward: out holds stale bytes, write instead of adding */
} affine_job;

/*
 * Few channels (SoundNet's 2 to 8 over long rows): per-channel vectors repeated to TILE floats, so that the loops
 * run over TILE / c rows at a time as one flat vector loop; each element computes exactly what the per-row loop
 * computes, so the bits are the same. Returns the rows per tile, 0 when c is too large for it.
 */
#define TILE 64
static int64_t tile_params(int64_t c, const float *const *params, int n, float tiles[][TILE])
{
    if (c <= 0 || c > TILE / 4)
        return 0;
    const int64_t per = TILE / c;
    for (int k = 0; k < n; k++)
        for (int64_t i = 0; i < per * c; i++)
            tiles[k][i] = params[k][i % c];
    return per;
}

/* forward: y = x * scale + shift */
SSCMA_KERNEL static void affine_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const affine_job *j = arg;
    const float *scale = j->p0, *shift = j->p1;
    float tiles[2][TILE];
    const int64_t per = tile_params(j->c, (const float *const[]){scale, shift}, 2, tiles);
    for (; per > 0 && begin + per <= end; begin += per) {
        const int64_t n = per * j->c;
        const float *x = j->x + begin * j->c, *ts = tiles[0], *tb = tiles[1];
        float *y = j->out + begin * j->c;
        if (j->act == SSCMA_ACT_NONE)
            for (int64_t i = 0; i < n; i++)
                y[i] = x[i] * ts[i] + tb[i];
        else {
#define AFFINE_TILE_LOOP(KIND)                                                                                 \
    for (int64_t i = 0; i < n; i++)                                                                            \
        y[i] = act_value(KIND, x[i] * ts[i] + tb[i], j->slope);
            ACT_SWITCH(j->act, AFFINE_TILE_LOOP)
#undef AFFINE_TILE_LOOP
        }
    }
    for (int64_t r = begin; r < end; r++) {
        const float *x = j->x + r * j->c;
        float *y = j->out + r * j->c;
        if (j->act == SSCMA_ACT_NONE)
            for (int64_t ch = 0; ch < j->c; ch++)
                y[ch] = x[ch] * scale[ch] + shift[ch];
        else {
#define AFFINE_LOOP(KIND)                                                                                      \
    for (int64_t ch = 0; ch < j->c; ch++)                                                                      \
        y[ch] = act_value(KIND, x[ch] * scale[ch] + shift[ch], j->slope);
            ACT_SWITCH(j->act, AFFINE_LOOP)
#undef AFFINE_LOOP
        }
    }
}

/* backward: dx += k1 * dy - (k2 + x * k3), the training formula rearranged per channel (see bn_backward); dx = ...
 * when dx is fresh. */
SSCMA_KERNEL static void dx_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const affine_job *j = arg;
    const float *k1 = j->p0, *k2 = j->p1, *k3 = j->p2, *scale = j->p3, *shift = j->p4;
    float tiles[5][TILE];
    const bool act = j->act != SSCMA_ACT_NONE;
    const int64_t per = tile_params(j->c, (const float *const[]){k1, k2, k3, act ? scale : k1, act ? shift : k1},
                                    act ? 5 : 3, tiles);
    for (; per > 0 && begin + per <= end; begin += per) { /* few channels: as the rows below, TILE floats at once */
        const int64_t n = per * j->c;
        const float *x = j->x + begin * j->c, *dy = j->dy + begin * j->c;
        const float *t1 = tiles[0], *t2 = tiles[1], *t3 = tiles[2], *ts = tiles[3], *tb = tiles[4];
        float *dx = j->out + begin * j->c;
        if (j->fresh)
            memset(dx, 0, (size_t)n * sizeof *dx);
        if (!act)
            for (int64_t i = 0; i < n; i++)
                dx[i] += t1[i] * dy[i] - (t2[i] + x[i] * t3[i]);
        else {
#define DX_TILE_LOOP(KIND)                                                                                     \
    for (int64_t i = 0; i < n; i++) {                                                                          \
        float dz = dy[i] * act_deriv(KIND, x[i] * ts[i] + tb[i], j->slope);                                    \
        dx[i] += t1[i] * dz - (t2[i] + x[i] * t3[i]);                                                          \
    }
            ACT_SWITCH(j->act, DX_TILE_LOOP)
#undef DX_TILE_LOOP
        }
    }
    for (int64_t r = begin; r < end; r++) {
        const float *x = j->x + r * j->c, *dy = j->dy + r * j->c;
        float *dx = j->out + r * j->c;
        if (j->fresh)
            memset(dx, 0, (size_t)j->c * sizeof *dx); /* in cache: cheaper than a separate pass, and 0 + t == t */
        if (j->act == SSCMA_ACT_NONE)
            for (int64_t ch = 0; ch < j->c; ch++)
                dx[ch] += k1[ch] * dy[ch] - (k2[ch] + x[ch] * k3[ch]);
        else {
#define DX_LOOP(KIND)                                                                                          \
    for (int64_t ch = 0; ch < j->c; ch++) {                                                                    \
        float dz = dy[ch] * act_deriv(KIND, x[ch] * scale[ch] + shift[ch], j->slope);                          \
        dx[ch] += k1[ch] * dz - (k2[ch] + x[ch] * k3[ch]);                                                     \
    }
            ACT_SWITCH(j->act, DX_LOOP)
#undef DX_LOOP
        }
    }
}

static void shape_of(const sscma_op_exec *e, int64_t *rows, int64_t *c)
{
    const sscma_desc *xd = &e->in[0].desc;
    *c = xd->dims[xd->rank - 1];
    *rows = *c > 0 ? sscma_desc_numel(xd) / *c : 0;
}

/* scale = gamma * invstd, shift = beta - mean * scale: the forward's affine form of the batch norm, in float, shared
 * by forward, recompute and the fused backward so that all three see the same bits. */
static void affine_of(int64_t c, const float *gamma, const float *beta, const float *mean, const float *invstd,
                      float *scale, float *shift)
{
    for (int64_t ch = 0; ch < c; ch++) {
        scale[ch] = gamma[ch] * invstd[ch];
        shift[ch] = beta[ch] - mean[ch] * scale[ch];
    }
}

/* The evaluation statistics: mean = running_mean, invstd = 1 / sqrt(running_var + eps). */
static void eval_stats(int64_t c, const float *running_mean, const float *running_var, float eps, float *mean,
                       float *invstd)
{
    for (int64_t ch = 0; ch < c; ch++) {
        mean[ch] = running_mean[ch];
        invstd[ch] = (float)(1.0 / sqrt((double)running_var[ch] + (double)eps));
    }
}

/* y = act(x * scale + shift) over the rows, split over the pool. */
static void apply_affine(const sscma_op_exec *e, int64_t rows, int64_t c, const float *scale, const float *shift,
                         sscma_act_kind act, float slope)
{
    affine_job job = {c, e->in[0].data, NULL, scale, shift, NULL, NULL, NULL, e->out[0].data, act, slope};
    sscma_parallel_for(e->pool, rows, 1 + 16384 / (c > 0 ? c : 1), affine_task, &job);
}

/* Workspace layout shared by forward and recompute: scale, shift, then (evaluation) mean and invstd. */
static sscma_status forward_with(const sscma_op_exec *e, const sscma_batch_norm_attrs *a, sscma_act_kind act,
                                 float slope, bool recompute)
{
    int64_t rows, c;
    shape_of(e, &rows, &c);
    const float *gamma = e->in[1].data, *beta = e->in[2].data;
    float *running_mean = e->in[3].data, *running_var = e->in[4].data;
    float *scale = e->workspace, *shift = scale + c, *mean_ev = shift + c, *invstd_ev = mean_ev + c;
    double *partials = (double *)((char *)e->workspace + floats_bytes(c));
    float *mean = e->saved, *invstd = mean + c;
    const int64_t local_rows = rows;
    if (e->training && rows > 0 && !recompute) {
        double *sum = partials, *sumsq = partials + c; /* reuse: the partials are consumed first */
        sums_job sj = {rows, c, e->in[0].data, NULL, partials + 2 * c, SSCMA_ACT_NONE, 0.0f, NULL, NULL};
        channel_sums(e->pool, &sj, sum, sumsq);
        if (e->sync != NULL) { /* SyncBN: the global batch's sums, rows last (2c + 1 <= the partials' 4c) */
            partials[2 * c] = (double)rows;
            sscma_status st = e->sync->sum(e->sync->arg, partials, 2 * c + 1);
            if (st != SSCMA_OK)
                return st;
            rows = (int64_t)partials[2 * c];
        }
        for (int64_t ch = 0; ch < c; ch++) {
            double m = sum[ch] / (double)rows;
            double v = sumsq[ch] / (double)rows - m * m;
            if (v < 0.0)
                v = 0.0;
            double unbiased = rows > 1 ? v * (double)rows / (double)(rows - 1) : v;
            running_mean[ch] = (float)((1.0 - a->momentum) * running_mean[ch] + a->momentum * m);
            running_var[ch] = (float)((1.0 - a->momentum) * running_var[ch] + a->momentum * unbiased);
            mean[ch] = (float)m;
            invstd[ch] = (float)(1.0 / sqrt(v + (double)a->eps));
        }
    } else if (!e->training) {
        eval_stats(c, running_mean, running_var, a->eps, mean_ev, invstd_ev);
        mean = mean_ev, invstd = invstd_ev;
    }
    /* recompute in training: the batch statistics the forward saved */
    affine_of(c, gamma, beta, mean, invstd, scale, shift);
    apply_affine(e, local_rows, c, scale, shift, act, slope);
    return SSCMA_OK;
}

static sscma_status bn_forward(const sscma_op_exec *e)
{
    return forward_with(e, e->attrs, SSCMA_ACT_NONE, 0.0f, false);
}

static sscma_status bn_recompute(const sscma_op_exec *e)
{
    return forward_with(e, e->attrs, SSCMA_ACT_NONE, 0.0f, true);
}

static sscma_status bn_act_forward(const sscma_op_exec *e)
{
    const sscma_batch_norm_act_attrs *a = e->attrs;
    return forward_with(e, &a->bn, a->act, a->negative_slope, false);
}

static sscma_status bn_act_recompute(const sscma_op_exec *e)
{
    const sscma_batch_norm_act_attrs *a = e->attrs;
    return forward_with(e, &a->bn, a->act, a->negative_slope, true);
}

static void backward_with(const sscma_op_exec *e, const sscma_batch_norm_attrs *a, sscma_act_kind act, float slope,
                          const sscma_buf *dout, const sscma_buf *din)
{
    int64_t rows, c;
    shape_of(e, &rows, &c);
    if (rows == 0)
        return;
    const float *gamma = e->in[1].data, *x = e->in[0].data, *dy = dout[0].data;
    float *k1 = e->workspace, *k2 = k1 + c, *k3 = k2 + c, *mean_ev = k3 + c, *invstd_ev = mean_ev + c;
    /* The fused activation needs the forward's scale and shift, recomputed here. */
    float *scale = invstd_ev + c, *shift = scale + c;
    double *partials = (double *)((char *)e->workspace + floats_bytes(c));
    const float *mean, *invstd;
    if (e->training) {
        mean = e->saved;
        invstd = (const float *)e->saved + c;
    } else {
        eval_stats(c, e->in[3].data, e->in[4].data, a->eps, mean_ev, invstd_ev);
        mean = mean_ev, invstd = invstd_ev;
    }
    double *sum_dy = partials, *sum_dy_x = partials + c;
    if (act != SSCMA_ACT_NONE)
        affine_of(c, gamma, e->in[2].data, mean, invstd, scale, shift);
    sums_job sj = {rows, c, dy, x, partials + 2 * c, act, slope, scale, shift};
    channel_sums(e->pool, &sj, sum_dy, sum_dy_x);
    float *dx = din[0].data, *dgamma = din[1].data, *dbeta = din[2].data;
    const int64_t local_rows = rows;
    for (int64_t ch = 0; ch < c; ch++) {
        /* sum dy * xhat = invstd * (sum dy * x - mean * sum dy) */
        double sdx = (double)invstd[ch] * (sum_dy_x[ch] - (double)mean[ch] * sum_dy[ch]);
        if (dbeta != NULL)
            dbeta[ch] += (float)sum_dy[ch];
        if (dgamma != NULL)
            dgamma[ch] += (float)sdx;
    }
    /* SyncBN: dx takes the global batch's sums (a failed reduction ends the job: MPI's errors are fatal there) */
    if (e->training && e->sync != NULL) {
        partials[2 * c] = (double)rows;
        if (e->sync->sum(e->sync->arg, partials, 2 * c + 1) == SSCMA_OK)
            rows = (int64_t)partials[2 * c];
    }
    for (int64_t ch = 0; ch < c; ch++) {
        double sdx = (double)invstd[ch] * (sum_dy_x[ch] - (double)mean[ch] * sum_dy[ch]);
        double gi = (double)gamma[ch] * invstd[ch];
        k1[ch] = (float)gi;
        if (e->training) {
            /* dx = gi * dy - gi/M * sum_dy - xhat * gi/M * sdx, xhat = (x - mean) * invstd */
            double t = gi * sdx / (double)rows * invstd[ch];
            k3[ch] = (float)t;
            k2[ch] = (float)(gi * sum_dy[ch] / (double)rows - (double)mean[ch] * t);
        } else {
            k2[ch] = 0.0f, k3[ch] = 0.0f;
        }
    }
    if (dx != NULL) {
        affine_job job = {c, x, dy, k1, k2, k3, scale, shift, dx, act, slope, (e->din_fresh & 1u) != 0};
        sscma_parallel_for(e->pool, local_rows, 1 + 16384 / c, dx_task, &job);
    }
}

static void bn_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    backward_with(e, e->attrs, SSCMA_ACT_NONE, 0.0f, dout, din);
}

static void bn_act_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_batch_norm_act_attrs *a = e->attrs;
    backward_with(e, &a->bn, a->act, a->negative_slope, dout, din);
}

static const sscma_attr_field bn_fields[] = {
    SSCMA_ATTR(sscma_batch_norm_attrs, eps, SSCMA_ATTR_F32, 1e-5),
    SSCMA_ATTR(sscma_batch_norm_attrs, momentum, SSCMA_ATTR_F32, 0.1),
    SSCMA_ATTR_END,
};

static const char *const act_kind_names[] = {"none", "relu", "relu6", "leaky_relu", "sigmoid", "silu", "hardswish",
                                             "hardsigmoid", "tanh", NULL};

static const sscma_attr_field bn_act_fields[] = {
    SSCMA_ATTR_NAMED("eps", sscma_batch_norm_act_attrs, bn.eps, SSCMA_ATTR_F32, 1e-5),
    SSCMA_ATTR_NAMED("momentum", sscma_batch_norm_act_attrs, bn.momentum, SSCMA_ATTR_F32, 0.1),
    SSCMA_ATTR_ENUM_OF("act", sscma_batch_norm_act_attrs, act, 0, act_kind_names),
    SSCMA_ATTR(sscma_batch_norm_act_attrs, negative_slope, SSCMA_ATTR_F32, 0.01),
    SSCMA_ATTR_END,
};

const sscma_op_def sscma_op_batch_norm_act = {
    .id = SSCMA_OP_BATCH_NORM_ACT,
    .name = "batch_norm_act",
    .attrs_size = sizeof(sscma_batch_norm_act_attrs),
    .min_inputs = 5,
    .max_inputs = 5,
    .nondiff_inputs = (1u << 3) | (1u << 4),
    .infer = bn_act_infer,
    .forward = bn_act_forward,
    .backward = bn_act_backward,
    .attr_fields = bn_act_fields,
    .backward_skips_outputs = true,
    .recompute = bn_act_recompute,
    .backward_overwrites = 1u, /* x */
};

const sscma_op_def sscma_op_batch_norm = {
    .id = SSCMA_OP_BATCH_NORM,
    .name = "batch_norm",
    .attrs_size = sizeof(sscma_batch_norm_attrs),
    .min_inputs = 5,
    .max_inputs = 5,
    .nondiff_inputs = (1u << 3) | (1u << 4),
    .infer = bn_infer,
    .forward = bn_forward,
    .backward = bn_backward,
    .attr_fields = bn_fields,
    .backward_skips_outputs = true,
    .recompute = bn_recompute,
    .backward_overwrites = 1u, /* x */
};
