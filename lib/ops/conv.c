/*
 * conv2d, NHWC activations and OHWI weights, forward and backward side by side.
 *
 *   y[n,oh,ow,o] = b[o] + sum_{kh,kw,i} x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, g*Cin_g + i] * w[o,kh,kw,i]
 *   (g = o / Cout_g; taps outside the input read 0)
 *
 * Three paths, chosen from the shapes alone:
 *  - pointwise (1x1, stride 1, no padding, one group): one GEMM over the whole batch, no im2col;
 *  - depthwise (groups == Cin == Cout): a direct kernel vectorised over channels;
 *  - general: im2col per group into the workspace, in batch chunks of bounded size, then GEMM.
 * Reductions (weight and bias gradients) are split over output elements, never over the batch, so every thread
 * count gives the same bits.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/kernels.h"
#include "ops/op.h"

#define OP "conv2d"

/* im2col chunks are capped at this many floats (1 MiB, so col and dcol stay in L2 and the workspace, alive for the
 * whole step, stays small: 2 MiB instead of 16 for MobileNetV2-0.35 96x96 at batch 32); at least one sample. */
#define COL_CAP_FLOATS ((int64_t)1 << 18)

typedef struct conv_geom {
    int64_t n, h, w, cin, cout, kh, kw, oh, ow;
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t groups, cin_g, cout_g;
    int64_t col_k;      /* kh * kw * cin_g */
    int64_t chunk;      /* samples per im2col chunk (general path) */
    bool has_bias;
    enum { PATH_POINTWISE, PATH_DEPTHWISE, PATH_GENERAL } path;
} conv_geom;

static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad_total)
{
    int64_t span = d * (k - 1) + 1;
    if (in + pad_total < span)
        return 0;
    return (in + pad_total - span) / s + 1;
}

/* Same-padding amount before the data, TF style: total = max((out-1)*s + span - in, 0), before = total / 2. */
static int64_t same_pad(int64_t in, int64_t k, int64_t s, int64_t d, int64_t *total)
{
    int64_t out = (in + s - 1) / s;
    int64_t t = (out - 1) * s + d * (k - 1) + 1 - in;
    *total = t > 0 ? t : 0;
    return *total / 2;
}

static sscma_status geometry(const sscma_conv2d_attrs *a, const sscma_desc *in, int32_t n_in, conv_geom *g)
{
    char xs[200], ws[200];
    sscma_status st;
    if (n_in != 2 && n_in != 3)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "takes 2 or 3 inputs (x, weight, bias), got %d", n_in);
    if ((st = sscma_desc_require(OP, "input x", &in[0], SSCMA_DTYPE_F32, 4)) != SSCMA_OK ||
        (st = sscma_desc_require(OP, "weight", &in[1], SSCMA_DTYPE_F32, 4)) != SSCMA_OK)
        return st;
    if (a->stride_h < 1 || a->stride_w < 1 || a->dilation_h < 1 || a->dilation_w < 1 || a->groups < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP,
                          "stride %dx%d, dilation %dx%d and groups %d must all be >= 1", a->stride_h, a->stride_w,
                          a->dilation_h, a->dilation_w, a->groups);
    if (a->pad_top < 0 || a->pad_left < 0 || a->pad_bottom < 0 || a->pad_right < 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "padding %d,%d,%d,%d (top, left, bottom, right) is negative",
                          a->pad_top, a->pad_left, a->pad_bottom, a->pad_right);
    memset(g, 0, sizeof *g);
    g->n = in[0].dims[0], g->h = in[0].dims[1], g->w = in[0].dims[2], g->cin = in[0].dims[3];
    g->cout = in[1].dims[0], g->kh = in[1].dims[1], g->kw = in[1].dims[2];
    g->groups = a->groups;
    /* the shapes as text only for an error message: this runs on every forward */
#define DESCRIBE() (sscma_desc_format(&in[0], xs, sizeof xs), sscma_desc_format(&in[1], ws, sizeof ws))
    if (g->kh < 1 || g->kw < 1 || g->cout < 1)
        return DESCRIBE(), sscma_fail(SSCMA_ERR_SHAPE, OP, "weight %s has an empty kernel or no output channel", ws);
    if (g->cin % g->groups != 0 || g->cout % g->groups != 0)
        return DESCRIBE(), sscma_fail(SSCMA_ERR_SHAPE, OP, "input %s and weight %s: channels %lld in, %lld out are not "
                          "divisible by groups %lld", xs, ws, (long long)g->cin, (long long)g->cout,
                          (long long)g->groups);
    g->cin_g = g->cin / g->groups, g->cout_g = g->cout / g->groups;
    if (in[1].dims[3] != g->cin_g)
        return DESCRIBE(), sscma_fail(SSCMA_ERR_SHAPE, OP, "input %s has %lld channels; weight %s expects %lld per group "
                          "(groups %lld): weight must be [Cout, KH, KW, Cin/groups]", xs, (long long)g->cin, ws,
                          (long long)in[1].dims[3], (long long)g->groups);
    g->has_bias = n_in == 3;
    if (g->has_bias) {
        if ((st = sscma_desc_require(OP, "bias", &in[2], SSCMA_DTYPE_F32, 1)) != SSCMA_OK)
            return st;
        if (in[2].dims[0] != g->cout)
            return DESCRIBE(), sscma_fail(SSCMA_ERR_SHAPE, OP, "bias has %lld elements; weight %s has %lld output channels",
                              (long long)in[2].dims[0], ws, (long long)g->cout);
    }
    g->sh = a->stride_h, g->sw = a->stride_w, g->dh = a->dilation_h, g->dw = a->dilation_w;
    int64_t pad_h_total, pad_w_total;
    if (a->pad_same) {
        g->pt = same_pad(g->h, g->kh, g->sh, g->dh, &pad_h_total);
        g->pl = same_pad(g->w, g->kw, g->sw, g->dw, &pad_w_total);
    } else {
        g->pt = a->pad_top, g->pl = a->pad_left;
        pad_h_total = (int64_t)a->pad_top + a->pad_bottom;
        pad_w_total = (int64_t)a->pad_left + a->pad_right;
    }
    g->oh = out_size(g->h, g->kh, g->sh, g->dh, pad_h_total);
    g->ow = out_size(g->w, g->kw, g->sw, g->dw, pad_w_total);
    if (g->oh < 1 || g->ow < 1)
        return DESCRIBE(), sscma_fail(SSCMA_ERR_SHAPE, OP, "input %s is smaller than the dilated kernel of weight %s "
                                      "with this padding: the output would be empty", xs, ws);
    g->col_k = g->kh * g->kw * g->cin_g;
    if (g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && pad_h_total == 0 &&
        pad_w_total == 0 && g->groups == 1)
        g->path = PATH_POINTWISE;
    else if (g->groups == g->cin && g->groups == g->cout && g->kh * g->kw <= 49)
        g->path = PATH_DEPTHWISE;
    else
        g->path = PATH_GENERAL;
    int64_t per_sample = g->oh * g->ow * g->col_k;
    g->chunk = per_sample > 0 ? COL_CAP_FLOATS / per_sample : g->n;
    if (g->chunk < 1)
        g->chunk = 1;
    if (g->chunk > g->n)
        g->chunk = g->n;
    return SSCMA_OK;
#undef DESCRIBE
}

static size_t conv_workspace_bytes(const conv_geom *g);

static sscma_status conv_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                               int32_t *n_out, sscma_op_sizes *sizes)
{
    conv_geom g;
    sscma_status st = geometry(attrs, in, n_in, &g);
    if (st != SSCMA_OK)
        return st;
    const int64_t dims[4] = {g.n, g.oh, g.ow, g.cout};
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 4, dims);
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = conv_workspace_bytes(&g);
    return SSCMA_OK;
}

/* ---- general path: im2col / col2im ---- */

typedef struct col_job {
    const conv_geom *g;
    const float *x; /* input of the chunk's first sample */
    float *dx;      /* col2im target (backward) */
    float *col;
    int64_t group;
    bool fresh; /* col2im: dx holds stale bytes; the sample's rows are zeroed (in cache) before the first group adds */
} col_job;

/* col[r, (kh, kw, i)] for rows r = (n, oh, ow) of the chunk. */
SSCMA_KERNEL static void im2col_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const col_job *j = arg;
    const conv_geom *g = j->g;
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / (g->oh * g->ow), rem = r % (g->oh * g->ow);
        int64_t oh = rem / g->ow, ow = rem % g->ow;
        float *dst = j->col + r * g->col_k;
        for (int64_t kh = 0; kh < g->kh; kh++) {
            int64_t ih = oh * g->sh - g->pt + kh * g->dh;
            if (g->dw == 1 && g->cin_g == g->cin) {
                /* one group, undilated along W: the row's taps are contiguous in x, so the in-range ones are one
                 * copy (1 x k kernels over few channels, SoundNet's, would otherwise copy a few bytes per tap) */
                const int64_t iw0 = ow * g->sw - g->pl, row = g->kw * g->cin;
                int64_t lo = iw0 < 0 ? -iw0 : 0, hi = g->w - iw0 < g->kw ? g->w - iw0 : g->kw;
                if (ih < 0 || ih >= g->h || hi <= lo) {
                    memset(dst, 0, (size_t)row * sizeof *dst);
                } else { /* the padding's memsets only at the edges: inside, one call per kernel row, not three */
                    if (lo > 0)
                        memset(dst, 0, (size_t)(lo * g->cin) * sizeof *dst);
                    memcpy(dst + lo * g->cin, j->x + ((n * g->h + ih) * g->w + iw0 + lo) * g->cin,
                           (size_t)((hi - lo) * g->cin) * sizeof *dst);
                    if (hi < g->kw)
                        memset(dst + hi * g->cin, 0, (size_t)((g->kw - hi) * g->cin) * sizeof *dst);
                }
                dst += row;
                continue;
            }
            for (int64_t kw = 0; kw < g->kw; kw++, dst += g->cin_g) {
                int64_t iw = ow * g->sw - g->pl + kw * g->dw;
                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) {
                    memset(dst, 0, (size_t)g->cin_g * sizeof *dst);
                    continue;
                }
                const float *src = j->x + ((n * g->h + ih) * g->w + iw) * g->cin + j->group * g->cin_g;
                memcpy(dst, src, (size_t)g->cin_g * sizeof *dst);
            }
        }
    }
}

/* dx[n, ih, iw, group channels] += dcol, split over samples (their dx regions are disjoint). */
SSCMA_KERNEL static void col2im_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const col_job *j = arg;
    const conv_geom *g = j->g;
    if (j->fresh)
        memset(j->dx + begin * g->h * g->w * g->cin, 0, (size_t)((end - begin) * g->h * g->w * g->cin) * sizeof(float));
    for (int64_t n = begin; n < end; n++)
        for (int64_t oh = 0; oh < g->oh; oh++)
            for (int64_t ow = 0; ow < g->ow; ow++) {
                const float *src = j->col + ((n * g->oh + oh) * g->ow + ow) * g->col_k;
                for (int64_t kh = 0; kh < g->kh; kh++) {
                    int64_t ih = oh * g->sh - g->pt + kh * g->dh;
                    if (g->dw == 1 && g->cin_g == g->cin) { /* contiguous taps, as in im2col_task: the same adds */
                        const int64_t iw0 = ow * g->sw - g->pl;
                        int64_t lo = iw0 < 0 ? -iw0 : 0, hi = g->w - iw0 < g->kw ? g->w - iw0 : g->kw;
                        if (ih >= 0 && ih < g->h && hi > lo) {
                            float *dst = j->dx + ((n * g->h + ih) * g->w + iw0 + lo) * g->cin;
                            const float *s0 = src + lo * g->cin;
                            for (int64_t i = 0; i < (hi - lo) * g->cin; i++)
                                dst[i] += s0[i];
                        }
                        src += g->kw * g->cin;
                        continue;
                    }
                    for (int64_t kw = 0; kw < g->kw; kw++, src += g->cin_g) {
                        int64_t iw = ow * g->sw - g->pl + kw * g->dw;
                        if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w)
                            continue;
                        float *dst = j->dx + ((n * g->h + ih) * g->w + iw) * g->cin + j->group * g->cin_g;
                        for (int64_t i = 0; i < g->cin_g; i++)
                            dst[i] += src[i];
                    }
                }
            }
}

static void general_forward(sscma_pool *pool, const conv_geom *g, const float *x, const float *w, float *y,
                            float *col)
{
    for (int64_t n0 = 0; n0 < g->n; n0 += g->chunk) {
        int64_t nc = g->n - n0 < g->chunk ? g->n - n0 : g->chunk;
        int64_t rows = nc * g->oh * g->ow;
        for (int64_t grp = 0; grp < g->groups; grp++) {
            col_job job = {g, x + n0 * g->h * g->w * g->cin, NULL, col, grp, false};
            sscma_parallel_for(pool, rows, 64, im2col_task, &job);
            /* y[rows, group outputs] = col[rows, K] . w_g[cout_g, K]^T */
            sscma_gemm(pool, false, true, rows, g->cout_g, g->col_k, 1.0f, col, g->col_k,
                       w + grp * g->cout_g * g->col_k, g->col_k, 0.0f,
                       y + n0 * g->oh * g->ow * g->cout + grp * g->cout_g, g->cout);
        }
    }
}

static void general_backward(sscma_pool *pool, const conv_geom *g, const float *x, const float *w, const float *dy,
                             float *dx, bool dx_fresh, float *dw, float *col, float *dcol)
{
    for (int64_t n0 = 0; n0 < g->n; n0 += g->chunk) {
        int64_t nc = g->n - n0 < g->chunk ? g->n - n0 : g->chunk;
        int64_t rows = nc * g->oh * g->ow;
        const float *dy_chunk = dy + n0 * g->oh * g->ow * g->cout;
        for (int64_t grp = 0; grp < g->groups; grp++) {
            const float *dy_g = dy_chunk + grp * g->cout_g;
            if (dw != NULL) {
                col_job job = {g, x + n0 * g->h * g->w * g->cin, NULL, col, grp, false};
                sscma_parallel_for(pool, rows, 64, im2col_task, &job);
                /* dw_g[cout_g, K] += dy_g[rows, cout_g]^T . col[rows, K] */
                sscma_gemm(pool, true, false, g->cout_g, g->col_k, rows, 1.0f, dy_g, g->cout, col, g->col_k, 1.0f,
                           dw + grp * g->cout_g * g->col_k, g->col_k);
            }
            if (dx != NULL) {
                /* dcol[rows, K] = dy_g[rows, cout_g] . w_g[cout_g, K] */
                sscma_gemm(pool, false, false, rows, g->col_k, g->cout_g, 1.0f, dy_g, g->cout,
                           w + grp * g->cout_g * g->col_k, g->col_k, 0.0f, dcol, g->col_k);
                col_job job = {g, NULL, dx + n0 * g->h * g->w * g->cin, dcol, grp, dx_fresh && grp == 0};
                sscma_parallel_for(pool, nc, 1, col2im_task, &job);
            }
        }
    }
}

/* ---- depthwise path ---- */

/* Channels per weight-gradient task; largest kernel (7x7); most sample chunks of the weight gradient. */
enum { DW_BLOCK = 16, DW_MAX_TAPS = 49, DW_MAX_CHUNKS = 8 };

/* The weight gradient's sample chunks: a function of the batch only (never of the thread count), so that its
 * partial sums, added in chunk order, give the same bits on any pool. */
static int64_t dw_chunks(int64_t n)
{
    return n < DW_MAX_CHUNKS ? (n > 0 ? n : 1) : DW_MAX_CHUNKS;
}

typedef struct dw_job {
    const conv_geom *g;
    const float *x, *wt, *bias, *dy;
    float *y, *dx, *dwt;
    double *partials; /* weight gradient: [chunk][KH * KW][C] */
    bool dx_fresh; /* backward input: dx holds stale bytes; each row is zeroed (in cache) before its taps add */
} dw_job;

/* The ow range whose taps land inside the input: iw = ow * sw - pl + kw * dw in [0, W). */
static void dw_ow_range(const conv_geom *g, int64_t kw, int64_t *lo, int64_t *hi)
{
    int64_t off = kw * g->dw - g->pl; /* iw = ow * sw + off */
    *lo = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw;
    *hi = g->w - off <= 0 ? 0 : (g->w - off - 1) / g->sw + 1;
    if (*hi > g->ow)
        *hi = g->ow;
}

#if defined(__GNUC__)
/*
 * 8 floats: the AVX2 register. 16 channels are kept as two of these rather than one 64-byte vector, which only
 * AVX-512 holds in a register (without it GCC keeps a 64-byte vector on the stack and reloads it on every tap);
 * per lane the arithmetic is the same, so the bits do not depend on the clone.
 */
typedef float dw_v8 __attribute__((vector_size(32)));
#endif

/*
 * out[i] = init[i] + sum_t a[t][i] * b[t][i] for i < c (init NULL = 0), summed in tap order. GCC vector extensions
 * keep 16 channels in registers across the taps; each clone of the caller lowers them to its ISA.
 */
static inline void dw_accumulate(float *out, const float *init, const float *const *a, const float *const *b,
                                 int n_taps, int64_t c)
{
    int64_t i = 0;
#if defined(__GNUC__)
    for (; i + 16 <= c; i += 16) {
        dw_v8 acc0 = {0}, acc1 = {0}, a0, a1, b0, b1;
        if (init != NULL) {
            memcpy(&acc0, init + i, sizeof acc0);
            memcpy(&acc1, init + i + 8, sizeof acc1);
        }
        for (int t = 0; t < n_taps; t++) {
            memcpy(&a0, a[t] + i, sizeof a0);
            memcpy(&a1, a[t] + i + 8, sizeof a1);
            memcpy(&b0, b[t] + i, sizeof b0);
            memcpy(&b1, b[t] + i + 8, sizeof b1);
            acc0 += a0 * b0;
            acc1 += a1 * b1;
        }
        memcpy(out + i, &acc0, sizeof acc0);
        memcpy(out + i + 8, &acc1, sizeof acc1);
    }
#endif
    for (; i < c; i++) {
        float acc = init != NULL ? init[i] : 0.0f;
        for (int t = 0; t < n_taps; t++)
            acc += a[t][i] * b[t][i];
        out[i] = acc;
    }
}

/* y rows (n, oh): y[c] = bias[c] + sum_{kh,kw} x[ih, iw, c] * wt[kh, kw, c], the taps summed in (kh, kw) order. */
SSCMA_KERNEL static void dw_forward_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const dw_job *j = arg;
    const conv_geom *g = j->g;
    const int64_t c = g->cout;
    const float *xs[DW_MAX_TAPS], *ws[DW_MAX_TAPS];
    int64_t offs[DW_MAX_TAPS];
    const int taps_all = (int)(g->kh * g->kw);
    for (int t = 0; t < taps_all; t++) {
        offs[t] = ((t / g->kw) * g->dh * g->w + (t % g->kw) * g->dw) * c;
        ws[t] = j->wt + t * c;
    }
    /* ow where every kw tap is inside the row */
    int64_t in_lo = 0, in_hi = g->ow;
    for (int64_t kw = 0; kw < g->kw; kw++) {
        int64_t lo, hi;
        dw_ow_range(g, kw, &lo, &hi);
        in_lo = lo > in_lo ? lo : in_lo;
        in_hi = hi < in_hi ? hi : in_hi;
    }
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / g->oh, oh = r % g->oh;
        int64_t ih0 = oh * g->sh - g->pt;
        bool rows_inside = ih0 >= 0 && ih0 + (g->kh - 1) * g->dh < g->h;
        for (int64_t ow = 0; ow < g->ow; ow++) {
            float *y = j->y + ((n * g->oh + oh) * g->ow + ow) * c;
            if (rows_inside && ow >= in_lo && ow < in_hi) { /* interior: fixed offsets, no checks */
                const float *base = j->x + ((n * g->h + ih0) * g->w + ow * g->sw - g->pl) * c;
                for (int t = 0; t < taps_all; t++)
                    xs[t] = base + offs[t];
                dw_accumulate(y, j->bias, xs, ws, taps_all, c);
                continue;
            }
            const float *bws[DW_MAX_TAPS];
            int taps = 0;
            for (int64_t kh = 0; kh < g->kh; kh++) {
                int64_t ih = ih0 + kh * g->dh;
                if (ih < 0 || ih >= g->h)
                    continue;
                for (int64_t kw = 0; kw < g->kw; kw++) {
                    int64_t iw = ow * g->sw - g->pl + kw * g->dw;
                    if (iw < 0 || iw >= g->w)
                        continue;
                    xs[taps] = j->x + ((n * g->h + ih) * g->w + iw) * c;
                    bws[taps++] = j->wt + (kh * g->kw + kw) * c;
                }
            }
            dw_accumulate(y, j->bias, xs, bws, taps, c);
        }
    }
}

/*
 * dx rows (n, ih): dx[ih, iw, c] += dy[oh, ow, c] * wt[kh, kw, c] over the taps that read (ih, iw). The task owns its
 * input row, so it scatters within it: for each (kh, kw), along ow. Each dx element gets its terms in (kh, kw) order.
 */
SSCMA_KERNEL static void dw_backward_input_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const dw_job *j = arg;
    const conv_geom *g = j->g;
    const int64_t c = g->cout;
    for (int64_t r = begin; r < end; r++) {
        int64_t n = r / g->h, ih = r % g->h;
        float *dx_row = j->dx + (n * g->h + ih) * g->w * c;
        if (j->dx_fresh)
            memset(dx_row, 0, (size_t)(g->w * c) * sizeof *dx_row);
        for (int64_t kh = 0; kh < g->kh; kh++) {
            int64_t t = ih + g->pt - kh * g->dh;
            if (t < 0 || t % g->sh != 0 || t / g->sh >= g->oh)
                continue;
            const float *dy_row = j->dy + (n * g->oh + t / g->sh) * g->ow * c;
            for (int64_t kw = 0; kw < g->kw; kw++) {
                const float *wt = j->wt + (kh * g->kw + kw) * c;
                int64_t lo, hi;
                dw_ow_range(g, kw, &lo, &hi);
                for (int64_t ow = lo; ow < hi; ow++) {
                    float *dx = dx_row + (ow * g->sw - g->pl + kw * g->dw) * c;
                    const float *dy = dy_row + ow * c;
                    for (int64_t i = 0; i < c; i++)
                        dx[i] += dy[i] * wt[i];
                }
            }
        }
    }
}

/*
 * partials[k][kh, kw, c] = sum over the samples of chunk k and all (oh, ow) of dy[n,oh,ow,c] * x[n,ih,iw,c]. Items
 * are (chunk, block of DW_BLOCK channels), so that a layer with few channels still splits over the pool; each item
 * sums in one order. For each output row (n, oh) and tap, the terms along ow are summed in float (16 channels in a
 * register), then added into double totals. dw_reduce_weight adds the chunks in order.
 */
SSCMA_KERNEL static void dw_backward_weight_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const dw_job *j = arg;
    const conv_geom *g = j->g;
    const int64_t c = g->cout, taps = g->kh * g->kw, blocks = (c + DW_BLOCK - 1) / DW_BLOCK;
    const int64_t chunks = dw_chunks(g->n);
    double total[DW_MAX_TAPS][DW_BLOCK];
    for (int64_t item = begin; item < end; item++) {
        const int64_t k = item / blocks, c0 = (item % blocks) * DW_BLOCK;
        const int64_t width = c - c0 < DW_BLOCK ? c - c0 : DW_BLOCK;
        const int64_t n0 = k * g->n / chunks, n1 = (k + 1) * g->n / chunks;
        memset(total, 0, sizeof total);
        for (int64_t n = n0; n < n1; n++)
            for (int64_t oh = 0; oh < g->oh; oh++) {
                const float *dy_row = j->dy + (n * g->oh + oh) * g->ow * c + c0;
                for (int64_t kh = 0; kh < g->kh; kh++) {
                    int64_t ih = oh * g->sh - g->pt + kh * g->dh;
                    if (ih < 0 || ih >= g->h)
                        continue;
                    const float *x_row = j->x + (n * g->h + ih) * g->w * c + c0;
                    for (int64_t kw = 0; kw < g->kw; kw++) {
                        int64_t lo, hi;
                        dw_ow_range(g, kw, &lo, &hi);
                        const int64_t step = g->sw * c, off = (kw * g->dw - g->pl) * c;
                        double *tot = total[kh * g->kw + kw];
#if defined(__GNUC__)
                        if (width == DW_BLOCK) { /* two 8-lane halves, as in dw_accumulate */
                            dw_v8 acc0 = {0}, acc1 = {0}, a0, a1, b0, b1;
                            for (int64_t ow = lo; ow < hi; ow++) {
                                const float *dy = dy_row + ow * c, *x = x_row + ow * step + off;
                                memcpy(&a0, dy, sizeof a0);
                                memcpy(&a1, dy + 8, sizeof a1);
                                memcpy(&b0, x, sizeof b0);
                                memcpy(&b1, x + 8, sizeof b1);
                                acc0 += a0 * b0;
                                acc1 += a1 * b1;
                            }
                            for (int64_t i = 0; i < 8; i++) {
                                tot[i] += acc0[i];
                                tot[i + 8] += acc1[i];
                            }
                            continue;
                        }
#endif
                        float acc[DW_BLOCK] = {0};
                        for (int64_t ow = lo; ow < hi; ow++) {
                            const float *dy = dy_row + ow * c, *x = x_row + ow * step + off;
                            for (int64_t i = 0; i < width; i++)
                                acc[i] += dy[i] * x[i];
                        }
                        for (int64_t i = 0; i < width; i++)
                            tot[i] += acc[i];
                    }
                }
            }
        double *part = j->partials + k * taps * c;
        for (int64_t t = 0; t < taps; t++)
            for (int64_t i = 0; i < width; i++)
                part[t * c + c0 + i] = total[t][i];
    }
}

/* dwt[t, c] = the chunks' partial sums added in chunk order, split over the taps x channels. */
SSCMA_KERNEL static void dw_reduce_weight_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const dw_job *j = arg;
    const conv_geom *g = j->g;
    const int64_t size = g->kh * g->kw * g->cout, chunks = dw_chunks(g->n);
    for (int64_t i = begin; i < end; i++) {
        double s = 0.0;
        for (int64_t k = 0; k < chunks; k++)
            s += j->partials[k * size + i];
        j->dwt[i] = (float)s;
    }
}

/* OHWI [C, KH, KW, 1] <-> [KH, KW, C] */
static void dw_transpose_weight(const conv_geom *g, const float *w, float *wt)
{
    int64_t taps = g->kh * g->kw;
    for (int64_t o = 0; o < g->cout; o++)
        for (int64_t t = 0; t < taps; t++)
            wt[t * g->cout + o] = w[o * taps + t];
}

/* ---- op entry points ---- */

/* y = conv(x, w) + bias through the path the geometry chose; workspace as conv_infer sized it. */
static void conv_run(sscma_pool *pool, const conv_geom *g, const float *x, const float *w, const float *bias,
                     float *y, void *workspace)
{
    switch (g->path) {
    case PATH_POINTWISE:
        /* y[N*H*W, Cout] = x[N*H*W, Cin] . w[Cout, Cin]^T */
        sscma_gemm(pool, false, true, g->n * g->h * g->w, g->cout, g->cin, 1.0f, x, g->cin, w, g->cin, 0.0f, y,
                   g->cout);
        if (bias != NULL)
            sscma_add_row_bias(pool, y, g->n * g->oh * g->ow, g->cout, bias);
        break;
    case PATH_DEPTHWISE: {
        float *wt = workspace;
        dw_transpose_weight(g, w, wt);
        dw_job job = {g, x, wt, bias, NULL, y, NULL, NULL, NULL, false};
        sscma_parallel_for(pool, g->n * g->oh, 1, dw_forward_task, &job);
        break;
    }
    case PATH_GENERAL:
        general_forward(pool, g, x, w, y, workspace);
        if (bias != NULL)
            sscma_add_row_bias(pool, y, g->n * g->oh * g->ow, g->cout, bias);
        break;
    }
}

static size_t conv_workspace_bytes(const conv_geom *g)
{
    if (g->path == PATH_GENERAL) /* col and dcol */
        return 2 * sscma_align_bytes((size_t)(g->chunk * g->oh * g->ow * g->col_k) * sizeof(float));
    if (g->path == PATH_DEPTHWISE) /* weights transposed to [KH, KW, C], their gradient, its chunk partials */
        return 2 * sscma_align_bytes((size_t)(g->kh * g->kw * g->cout) * sizeof(float)) +
               (size_t)(dw_chunks(g->n) * g->kh * g->kw * g->cout) * sizeof(double);
    return 0;
}

static sscma_status conv_forward(const sscma_op_exec *e)
{
    conv_geom g;
    sscma_desc d[3];
    sscma_exec_in_descs(e, d);
    sscma_status st = geometry(e->attrs, d, e->n_in, &g);
    if (st != SSCMA_OK)
        return st;
    conv_run(e->pool, &g, e->in[0].data, e->in[1].data, g.has_bias ? e->in[2].data : NULL, e->out[0].data,
             e->workspace);
    return SSCMA_OK;
}

static void conv_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    conv_geom g;
    sscma_desc d[3];
    sscma_exec_in_descs(e, d);
    if (geometry(e->attrs, d, e->n_in, &g) != SSCMA_OK)
        return;
    const float *x = e->in[0].data, *w = e->in[1].data, *dy = dout[0].data;
    float *dx = din[0].data, *dw = din[1].data;
    float *db = g.has_bias ? din[2].data : NULL;
    const bool dx_fresh = (e->din_fresh & 1u) != 0;
    if (db != NULL)
        sscma_column_sums(e->pool, dy, g.n * g.oh * g.ow, g.cout, g.cout, db);
    switch (g.path) {
    case PATH_POINTWISE: {
        int64_t rows = g.n * g.h * g.w;
        if (dx != NULL) /* dx[rows, Cin] += dy[rows, Cout] . w[Cout, Cin] (= when fresh: beta 0 reads nothing) */
            sscma_gemm(e->pool, false, false, rows, g.cin, g.cout, 1.0f, dy, g.cout, w, g.cin, dx_fresh ? 0.0f : 1.0f,
                       dx, g.cin);
        if (dw != NULL) /* dw[Cout, Cin] += dy^T . x */
            sscma_gemm(e->pool, true, false, g.cout, g.cin, rows, 1.0f, dy, g.cout, x, g.cin, 1.0f, dw, g.cin);
        break;
    }
    case PATH_DEPTHWISE: {
        float *wt = e->workspace;
        const size_t wt_bytes = sscma_align_bytes((size_t)(g.kh * g.kw * g.cout) * sizeof(float));
        float *dwt = (float *)((char *)e->workspace + wt_bytes);
        double *partials = (double *)((char *)e->workspace + 2 * wt_bytes);
        dw_transpose_weight(&g, w, wt);
        dw_job job = {&g, x, wt, NULL, dy, NULL, dx, dwt, partials, dx_fresh};
        if (dx != NULL)
            sscma_parallel_for(e->pool, g.n * g.h, 1, dw_backward_input_task, &job);
        if (dw != NULL) {
            const int64_t items = dw_chunks(g.n) * ((g.cout + DW_BLOCK - 1) / DW_BLOCK);
            sscma_parallel_for(e->pool, items, 1, dw_backward_weight_task, &job);
            sscma_parallel_for(e->pool, g.kh * g.kw * g.cout, 4096, dw_reduce_weight_task, &job);
            int64_t taps = g.kh * g.kw;
            for (int64_t o = 0; o < g.cout; o++)
                for (int64_t t = 0; t < taps; t++)
                    dw[o * taps + t] += dwt[t * g.cout + o];
        }
        break;
    }
    case PATH_GENERAL: {
        float *col = e->workspace;
        float *dcol = (float *)((char *)e->workspace +
                                sscma_align_bytes((size_t)(g.chunk * g.oh * g.ow * g.col_k) * sizeof(float)));
        general_backward(e->pool, &g, x, w, dy, dx, dx_fresh, dw, col, dcol);
        break;
    }
    }
}

static const sscma_attr_field conv_fields[] = {
    SSCMA_ATTR(sscma_conv2d_attrs, stride_h, SSCMA_ATTR_I32, 1), SSCMA_ATTR(sscma_conv2d_attrs, stride_w, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR(sscma_conv2d_attrs, dilation_h, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR(sscma_conv2d_attrs, dilation_w, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR(sscma_conv2d_attrs, pad_top, SSCMA_ATTR_I32, 0), SSCMA_ATTR(sscma_conv2d_attrs, pad_left, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR(sscma_conv2d_attrs, pad_bottom, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR(sscma_conv2d_attrs, pad_right, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR(sscma_conv2d_attrs, pad_same, SSCMA_ATTR_BOOL, 0), SSCMA_ATTR(sscma_conv2d_attrs, groups, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR_END,
};

static const char *const act_kind_names[] = {"none", "relu", "relu6", "leaky_relu", "sigmoid", "silu", "hardswish",
                                             "hardsigmoid", "tanh", NULL};

static const sscma_attr_field fused_fields[] = {
    SSCMA_ATTR_NAMED("stride_h", sscma_conv_bn_act_attrs, conv.stride_h, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR_NAMED("stride_w", sscma_conv_bn_act_attrs, conv.stride_w, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR_NAMED("dilation_h", sscma_conv_bn_act_attrs, conv.dilation_h, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR_NAMED("dilation_w", sscma_conv_bn_act_attrs, conv.dilation_w, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR_NAMED("pad_top", sscma_conv_bn_act_attrs, conv.pad_top, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR_NAMED("pad_left", sscma_conv_bn_act_attrs, conv.pad_left, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR_NAMED("pad_bottom", sscma_conv_bn_act_attrs, conv.pad_bottom, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR_NAMED("pad_right", sscma_conv_bn_act_attrs, conv.pad_right, SSCMA_ATTR_I32, 0),
    SSCMA_ATTR_NAMED("pad_same", sscma_conv_bn_act_attrs, conv.pad_same, SSCMA_ATTR_BOOL, 0),
    SSCMA_ATTR_NAMED("groups", sscma_conv_bn_act_attrs, conv.groups, SSCMA_ATTR_I32, 1),
    SSCMA_ATTR(sscma_conv_bn_act_attrs, eps, SSCMA_ATTR_F32, 1e-5),
    SSCMA_ATTR_ENUM_OF("act", sscma_conv_bn_act_attrs, act, 0, act_kind_names),
    SSCMA_ATTR(sscma_conv_bn_act_attrs, negative_slope, SSCMA_ATTR_F32, 0.01),
    SSCMA_ATTR_END,
};

/* One multiply-accumulate per output element and weight tap: y numel x KH x KW x Cin/groups. */
static uint64_t conv_macs(const sscma_desc *in, int32_t n_in, const sscma_desc *out)
{
    (void)n_in;
    const sscma_desc *w = &in[1];
    return (uint64_t)sscma_desc_numel(&out[0]) * (uint64_t)(w->dims[1] * w->dims[2] * w->dims[3]);
}

const sscma_op_def sscma_op_conv2d = {
    .id = SSCMA_OP_CONV2D,
    .name = "conv2d",
    .macs = conv_macs,
    .attrs_size = sizeof(sscma_conv2d_attrs),
    .min_inputs = 2,
    .max_inputs = 3,
    .nondiff_inputs = 0,
    .infer = conv_infer,
    .forward = conv_forward,
    .backward = conv_backward,
    .attr_fields = conv_fields,
    .backward_skips_outputs = true,
    .backward_overwrites = 1u, /* x */
};

/* ---- conv2d_bn_act: inference with the batch norm folded into the weights ---- */

#define FUSED "conv2d_bn_act"

/* Inputs: x, w, gamma, beta, mean, var [, bias]. The conv sees x, w [, bias]. */
static sscma_status fused_geometry(const sscma_conv_bn_act_attrs *a, const sscma_desc *in, int32_t n_in,
                                   conv_geom *g)
{
    if (n_in != 6 && n_in != 7)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, FUSED,
                          "takes 6 or 7 inputs (x, w, gamma, beta, mean, var, bias), got %d", n_in);
    const sscma_desc conv_in[3] = {in[0], in[1], n_in == 7 ? in[6] : in[1]};
    sscma_status st = geometry(&a->conv, conv_in, n_in == 7 ? 3 : 2, g);
    if (st != SSCMA_OK)
        return st;
    static const char *const names[4] = {"gamma", "beta", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++) {
        if ((st = sscma_desc_require(FUSED, names[i], &in[2 + i], SSCMA_DTYPE_F32, 1)) != SSCMA_OK)
            return st;
        if (in[2 + i].dims[0] != g->cout)
            return sscma_fail(SSCMA_ERR_SHAPE, FUSED, "%s has %lld elements; the conv has %lld outputs", names[i],
                              (long long)in[2 + i].dims[0], (long long)g->cout);
    }
    if (!(a->eps > 0.0f) || (int)a->act < SSCMA_ACT_NONE || (int)a->act > SSCMA_ACT_TANH)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, FUSED, "eps %g must be > 0 and act %d a known activation",
                          (double)a->eps, (int)a->act);
    return SSCMA_OK;
}

static sscma_status fused_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                int32_t *n_out, sscma_op_sizes *sizes)
{
    conv_geom g;
    sscma_status st = fused_geometry(attrs, in, n_in, &g);
    if (st != SSCMA_OK)
        return st;
    const int64_t dims[4] = {g.n, g.oh, g.ow, g.cout};
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 4, dims);
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = conv_workspace_bytes(&g) + sscma_align_bytes((size_t)(g.cout * g.col_k) * sizeof(float)) +
                             sscma_align_bytes((size_t)g.cout * sizeof(float));
    return SSCMA_OK;
}

static sscma_status fused_forward(const sscma_op_exec *e)
{
    const sscma_conv_bn_act_attrs *a = e->attrs;
    conv_geom g;
    sscma_desc d[7];
    sscma_exec_in_descs(e, d);
    sscma_status st = fused_geometry(a, d, e->n_in, &g);
    if (st != SSCMA_OK)
        return st;
    const float *w = e->in[1].data, *gamma = e->in[2].data, *beta = e->in[3].data, *mean = e->in[4].data;
    const float *var = e->in[5].data, *bias = e->n_in == 7 ? e->in[6].data : NULL;
    char *ws = e->workspace;
    float *wf = (float *)(ws + conv_workspace_bytes(&g));
    float *bf = (float *)((char *)wf + sscma_align_bytes((size_t)(g.cout * g.col_k) * sizeof(float)));
    for (int64_t o = 0; o < g.cout; o++) {
        float s = (float)((double)gamma[o] / sqrt((double)var[o] + (double)a->eps));
        for (int64_t k = 0; k < g.col_k; k++)
            wf[o * g.col_k + k] = w[o * g.col_k + k] * s;
        bf[o] = ((bias != NULL ? bias[o] : 0.0f) - mean[o]) * s + beta[o];
    }
    float *y = e->out[0].data;
    conv_run(e->pool, &g, e->in[0].data, wf, bf, y, ws);
    if (a->act != SSCMA_ACT_NONE)
        sscma_act_apply(e->pool, a->act, a->negative_slope, y, y, g.n * g.oh * g.ow * g.cout);
    return SSCMA_OK;
}

const sscma_op_def sscma_op_conv2d_bn_act = {
    .id = SSCMA_OP_CONV2D_BN_ACT,
    .name = "conv2d_bn_act",
    .macs = conv_macs,
    .attrs_size = sizeof(sscma_conv_bn_act_attrs),
    .min_inputs = 6,
    .max_inputs = 7,
    .nondiff_inputs = ~0u,
    .infer = fused_infer,
    .forward = fused_forward,
    .backward = NULL, /* inference only: train with conv2d + batch_norm + activation */
    .attr_fields = fused_fields,
};
