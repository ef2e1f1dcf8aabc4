/*
 * Re-parameterisation at lowering: a convolution followed by a region of affine ops that ends in one value becomes
 * one convolution, as SSCMA's rep() fills a block's fuse_conv (RepConv1x1, lib/zoo/mobilenetv2.c). Every value v of
 * the region is an affine function of the root convolution's input patch:
 *
 *   v = A_v patch + b_v          A_v: [C_v, kh kw cin] (the root's OHWI order), b_v: [C_v]
 *   root conv       A = W, b = bias (or 0)
 *   batch norm      s = gamma / sqrt(var + eps):  A' = s A,  b' = s (b - mean) + beta      (evaluation form)
 *   1x1 conv        A' = M A,  b' = M b + bias      (M: [C_out, C_in]; stride 1, no padding, one group)
 *   add             A' = A_1 + A_2,  b' = b_1 + b_2 (same shapes)
 *
 * Pointwise ops after the root commute with its zero padding, so the fused convolution (the root's stride, padding
 * and size) computes the region's exit exactly, up to rounding (sums in double, the result rounded to float once).
 * A region is fused only when it holds an add (a residual or a branch sum: a convolution with its batch norm alone
 * is lower.c's ordinary folding) and exactly one of its values is read outside it or is a deployment output.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "quant/lower_rep.h"

/* Is node n an affine op the region may take (its activation inputs are checked by the caller)? */
static bool affine_op(const sscma_graph *g, const sscma_node *nd, float *eps)
{
    switch (nd->def->id) {
    case SSCMA_OP_BATCH_NORM:
        *eps = ((const sscma_batch_norm_attrs *)nd->attrs)->eps;
        return true;
    case SSCMA_OP_BATCH_NORM_ACT: {
        const sscma_batch_norm_act_attrs *a = nd->attrs;
        *eps = a->bn.eps;
        return a->act == SSCMA_ACT_NONE;
    }
    case SSCMA_OP_CONV2D: {
        const sscma_conv2d_attrs *a = nd->attrs;
        const sscma_desc *wd = &g->values[nd->in[1]].desc;
        return g->values[nd->in[1]].kind == SSCMA_VALUE_PARAM && wd->dims[1] == 1 && wd->dims[2] == 1 &&
               a->stride_h == 1 && a->stride_w == 1 && a->groups == 1 && !a->pad_same && a->pad_top == 0 &&
               a->pad_left == 0 && a->pad_bottom == 0 && a->pad_right == 0;
    }
    case SSCMA_OP_ADD: {
        const sscma_desc *d0 = &g->values[nd->in[0]].desc, *d1 = &g->values[nd->in[1]].desc;
        return d0->rank == d1->rank && memcmp(d0->dims, d1->dims, sizeof(int64_t) * (size_t)d0->rank) == 0;
    }
    default:
        return false;
    }
}

static bool is_kept(const int32_t *keep, int32_t n_keep, int32_t v)
{
    for (int32_t i = 0; i < n_keep; i++)
        if (keep[i] == v)
            return true;
    return false;
}

typedef struct affine {
    double *a, *b; /* [C, K], [C] */
    int64_t c;
} affine;

static void affine_free(sscma_context *ctx, affine *f, int64_t k)
{
    if (f->a != NULL)
        sscma_free(ctx, f->a, (size_t)(f->c * k) * sizeof(double));
    if (f->b != NULL)
        sscma_free(ctx, f->b, (size_t)f->c * sizeof(double));
    f->a = f->b = NULL;
}

static bool affine_alloc(sscma_context *ctx, affine *f, int64_t c, int64_t k)
{
    f->c = c;
    f->a = sscma_alloc_zeroed(ctx, (size_t)(c * k) * sizeof(double), _Alignof(double));
    f->b = sscma_alloc_zeroed(ctx, (size_t)c * sizeof(double), _Alignof(double));
    return f->a != NULL && f->b != NULL;
}

/* The affine map of node nd's output from its inputs' maps f[] (indexed by value). */
static void affine_apply(const sscma_graph *g, const sscma_node *nd, float eps, affine *f, affine *y, int64_t k)
{
    const affine *x = &f[nd->in[0]];
    if (nd->def->id == SSCMA_OP_ADD) {
        const affine *x1 = &f[nd->in[1]];
        for (int64_t i = 0; i < y->c * k; i++)
            y->a[i] = x->a[i] + x1->a[i];
        for (int64_t o = 0; o < y->c; o++)
            y->b[o] = x->b[o] + x1->b[o];
    } else if (nd->def->id == SSCMA_OP_CONV2D) {
        const float *m = g->values[nd->in[1]].data; /* [C_out, 1, 1, C_in] */
        const float *bias = nd->n_in > 2 ? g->values[nd->in[2]].data : NULL;
        for (int64_t o = 0; o < y->c; o++) {
            double *row = y->a + o * k;
            double bo = bias != NULL ? (double)bias[o] : 0.0;
            for (int64_t i = 0; i < x->c; i++) {
                double mi = m[o * x->c + i];
                const double *xr = x->a + i * k;
                for (int64_t j = 0; j < k; j++)
                    row[j] += mi * xr[j];
                bo += mi * x->b[i];
            }
            y->b[o] = bo;
        }
    } else { /* batch norm */
        const float *gamma = g->values[nd->in[1]].data, *beta = g->values[nd->in[2]].data;
        const float *mean = g->values[nd->in[3]].data, *var = g->values[nd->in[4]].data;
        for (int64_t o = 0; o < y->c; o++) {
            double s = (double)gamma[o] / sqrt((double)var[o] + (double)eps);
            for (int64_t j = 0; j < k; j++)
                y->a[o * k + j] = s * x->a[o * k + j];
            y->b[o] = s * (x->b[o] - (double)mean[o]) + (double)beta[o];
        }
    }
}

sscma_status sscma_lower_rep(const sscma_graph *g, int32_t root, const int32_t *keep, int32_t n_keep,
                             const bool *done, rep_fusion *out)
{
    memset(out, 0, sizeof *out);
    out->exit = -1;
    const sscma_node *rn = &g->nodes[root];
    if (rn->def->id != SSCMA_OP_CONV2D || g->values[rn->in[1]].kind != SSCMA_VALUE_PARAM)
        return SSCMA_OK;
    const sscma_conv2d_attrs *ra = rn->attrs;
    if (ra->groups != 1 || ra->pad_same)
        return SSCMA_OK;
    sscma_context *ctx = g->ctx;
    size_t nv = (size_t)g->n_values, nn = (size_t)g->n_nodes;
    bool *in_region = sscma_alloc_zeroed(ctx, nv, 1), *read_outside = sscma_alloc_zeroed(ctx, nv, 1);
    bool *member = sscma_alloc_zeroed(ctx, nn, 1);
    int32_t *uses = sscma_alloc_zeroed(ctx, nv * sizeof(int32_t), _Alignof(int32_t));
    affine *f = sscma_alloc_zeroed(ctx, nv * sizeof(affine), _Alignof(affine));
    float *eps = sscma_alloc_zeroed(ctx, nn * sizeof(float), _Alignof(float));
    sscma_status st = SSCMA_OK;
    const sscma_desc *wd = &g->values[rn->in[1]].desc;
    int64_t k = wd->dims[1] * wd->dims[2] * wd->dims[3];
    if (in_region == NULL || read_outside == NULL || member == NULL || uses == NULL || f == NULL || eps == NULL) {
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the re-parameterisation tables");
        goto done;
    }
    /* grow the region in node (topological) order */
    in_region[rn->out[0]] = true;
    member[root] = true;
    bool has_add = false;
    for (int32_t n = root + 1; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        if (nd->training_only || done[n])
            continue;
        bool reads = false, all = true;
        for (int32_t i = 0; i < nd->n_in; i++) {
            sscma_value_kind kind = g->values[nd->in[i]].kind;
            if (in_region[nd->in[i]])
                reads = true;
            else if (kind == SSCMA_VALUE_ACT || kind == SSCMA_VALUE_INPUT)
                all = false;
        }
        if (!reads)
            continue;
        /* an add of a region value and a parameter, buffer or constant is no sum of two affine maps of the root's
         * input (affine_apply reads both operands' tables): it stays outside, reading the region's output */
        if (nd->def->id == SSCMA_OP_ADD && nd->n_in == 2 && !(in_region[nd->in[0]] && in_region[nd->in[1]]))
            all = false;
        if (all && nd->n_out == 1 && affine_op(g, nd, &eps[n])) {
            member[n] = true;
            in_region[nd->out[0]] = true;
            has_add = has_add || nd->def->id == SSCMA_OP_ADD;
            for (int32_t i = 0; i < nd->n_in; i++)
                if (in_region[nd->in[i]])
                    uses[nd->in[i]]++;
        } else {
            for (int32_t i = 0; i < nd->n_in; i++)
                if (in_region[nd->in[i]])
                    read_outside[nd->in[i]] = true;
        }
    }
    int32_t exit = -1, n_exits = 0;
    for (size_t v = 0; v < nv; v++)
        if (in_region[v] && (read_outside[v] || is_kept(keep, n_keep, (int32_t)v)))
            exit = (int32_t)v, n_exits++;
    if (!has_add || n_exits != 1 || uses[exit] != 0)
        goto done; /* not a re-parameterisable block: lowered op by op */
    /* the maps, in node order; each freed after its last reader in the region */
    const float *w = g->values[rn->in[1]].data, *bias = rn->n_in > 2 ? g->values[rn->in[2]].data : NULL;
    affine *root_f = &f[rn->out[0]];
    if (!affine_alloc(ctx, root_f, wd->dims[0], k)) {
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a re-parameterised block");
        goto done;
    }
    for (int64_t i = 0; i < root_f->c * k; i++)
        root_f->a[i] = w[i];
    for (int64_t o = 0; o < root_f->c; o++)
        root_f->b[o] = bias != NULL ? bias[o] : 0.0;
    for (int32_t n = root + 1; n < g->n_nodes; n++) {
        if (!member[n])
            continue;
        const sscma_node *nd = &g->nodes[n];
        affine *y = &f[nd->out[0]];
        if (!affine_alloc(ctx, y, g->values[nd->out[0]].desc.dims[3], k)) {
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a re-parameterised block");
            goto done;
        }
        affine_apply(g, nd, eps[n], f, y, k);
        for (int32_t i = 0; i < nd->n_in; i++)
            if (in_region[nd->in[i]] && --uses[nd->in[i]] == 0)
                affine_free(ctx, &f[nd->in[i]], k);
    }
    const affine *e = &f[exit];
    out->dims[0] = e->c, out->dims[1] = wd->dims[1], out->dims[2] = wd->dims[2], out->dims[3] = wd->dims[3];
    out->w = sscma_alloc(ctx, (size_t)(e->c * k) * sizeof(float), _Alignof(float));
    out->b = sscma_alloc(ctx, (size_t)e->c * sizeof(float), _Alignof(float));
    if (out->w == NULL || out->b == NULL) {
        sscma_lower_rep_free(ctx, out);
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a re-parameterised block");
        goto done;
    }
    for (int64_t i = 0; i < e->c * k; i++)
        out->w[i] = (float)e->a[i];
    for (int64_t o = 0; o < e->c; o++)
        out->b[o] = (float)e->b[o];
    out->exit = exit;
    out->members = member;
    out->n_members_bytes = nn;
    member = NULL;
done:
    if (f != NULL)
        for (size_t v = 0; v < nv; v++)
            affine_free(ctx, &f[v], k);
    sscma_free(ctx, f, nv * sizeof(affine));
    sscma_free(ctx, uses, nv * sizeof(int32_t));
    sscma_free(ctx, eps, nn * sizeof(float));
    sscma_free(ctx, in_region, nv);
    sscma_free(ctx, read_outside, nv);
    sscma_free(ctx, member, nn);
    return st;
}

void sscma_lower_rep_free(sscma_context *ctx, rep_fusion *r)
{
    if (r->w != NULL)
        sscma_free(ctx, r->w, (size_t)(r->dims[0] * r->dims[1] * r->dims[2] * r->dims[3]) * sizeof(float));
    if (r->b != NULL)
        sscma_free(ctx, r->b, (size_t)r->dims[0] * sizeof(float));
    if (r->members != NULL)
        sscma_free(ctx, r->members, r->n_members_bytes);
    r->w = r->b = NULL;
    r->members = NULL;
}
