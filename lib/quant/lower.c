/*
 * Lowering a trained model to a float deployable model: batch norms folded into the convolutions before them (or
 * made a depthwise 1x1 convolution when nothing precedes them), ReLU/ReLU6 fused into the layer they follow, a
 * batch norm's fused hard-swish a HARD_SWISH after the folded convolution, a hard-sigmoid after a convolution
 * (MobileNetV3's squeeze-excitation) that convolution with 3 added to its bias and ReLU6 fused, then MUL by 1/6
 * (relu6(z + 3) / 6, as TensorFlow writes hard_sigmoid), a broadcasting mul (the excitation's scaling) a MUL,
 * a leaky ReLU (fused into a batch norm or on its own) a LEAKY_RELU after the folded convolution,
 * a re-parameterised block (a convolution and the batch norms, 1x1 convolutions and adds after it, lower_rep.c)
 * one convolution, dropout dropped, training-only nodes (losses) skipped, and the family's deployment output added (a classifier's
 * softmax; a YOLO detector's box decode, lower_yolo.c). A 1-D convolution of stride above 3 (SoundNet's first conv
 * and blurs) becomes a stride-1 convolution over blocks of `stride` samples (blocked_plan, below): Vela's limit.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/model_private.h"
#include "quant/lower_rep.h"
#include "quant/qmodel.h"

typedef struct lower {
    const sscma_model *model;
    const sscma_graph *g;
    sscma_qmodel *q;
    int32_t *map;       /* graph value -> qmodel tensor, -1 if none yet */
    int32_t *consumers; /* graph value -> number of inference nodes reading it */
    int32_t *reader;    /* graph value -> the (last) inference node reading it */
    bool *done;         /* node already lowered as part of another (a folded batch norm, a fused activation) */
    const int32_t *keep; /* deployment outputs (graph values): never fused away */
    int32_t n_keep;
    int32_t max_dw_stride; /* a 1-D depthwise conv of a larger stride becomes a blocked conv (blocked_plan) */
} lower;

static bool is_kept(const lower *L, int32_t v)
{
    for (int32_t i = 0; i < L->n_keep; i++)
        if (L->keep[i] == v)
            return true;
    return false;
}

static sscma_status unsupported(const sscma_node *nd, const char *why)
{
    return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_qmodel_from_model", "layer '%s' (op %s): %s", nd->name,
                      nd->def->name, why);
}

/* The single inference node that reads v, when there is exactly one and v is not a deployment output; else -1. */
static int32_t sole_reader(const lower *L, int32_t v)
{
    return L->consumers[v] == 1 && !is_kept(L, v) ? L->reader[v] : -1;
}

/* A float activation tensor for graph value v (batch 1 shape). */
static sscma_status act_tensor(lower *L, int32_t v, const char *name, int32_t *out)
{
    const sscma_value *val = &L->g->values[v];
    int64_t dims[4];
    if (val->desc.rank > 4)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_qmodel_from_model", "value '%s' has rank %d (at most 4)",
                          val->name, (int)val->desc.rank);
    for (int32_t i = 0; i < val->desc.rank; i++)
        dims[i] = val->desc.dims[i];
    if (val->desc.rank > 0)
        dims[0] = 1;
    return sscma_qm_add_tensor(L->q, name != NULL ? name : val->name, SSCMA_DTYPE_F32, val->desc.rank, dims, false,
                               out);
}

/* A float constant copied from parameter value v. */
static sscma_status const_tensor(lower *L, int32_t v, int32_t *out)
{
    const sscma_value *val = &L->g->values[v];
    sscma_status st = sscma_qm_add_tensor(L->q, val->name, SSCMA_DTYPE_F32, val->desc.rank, val->desc.dims, true, out);
    if (st == SSCMA_OK && L->q->t[*out].bytes > 0)
        memcpy(L->q->t[*out].data, val->data, L->q->t[*out].bytes);
    return st;
}

/* If v's only reader is a ReLU or ReLU6 node, marks it done and returns its kind (and its output in *v). */
static sscma_act_kind fuse_act(lower *L, int32_t *v)
{
    int32_t r = sole_reader(L, *v);
    if (r < 0)
        return SSCMA_ACT_NONE;
    const sscma_node *nd = &L->g->nodes[r];
    sscma_act_kind act = nd->def->id == SSCMA_OP_RELU    ? SSCMA_ACT_RELU
                         : nd->def->id == SSCMA_OP_RELU6 ? SSCMA_ACT_RELU6
                                                         : SSCMA_ACT_NONE;
    if (act != SSCMA_ACT_NONE) {
        L->done[r] = true;
        *v = nd->out[0];
    }
    return act;
}

static bool bn_act_ok(sscma_act_kind act)
{
    return act == SSCMA_ACT_NONE || act == SSCMA_ACT_RELU || act == SSCMA_ACT_RELU6;
}

/*
 * Adds a convolution: weights w (OHWI, f32 data), optional bias b, then optionally a batch norm (gamma, beta, mean,
 * var, eps) folded in, activation act, output graph value `out_v`.
 */
typedef struct conv_parts {
    const sscma_node *nd; /* the conv node, or the batch norm alone (then w is NULL: identity depthwise 1x1) */
    const sscma_conv2d_attrs *a;
    int32_t x, w, b;      /* graph values; b -1 if none */
    int32_t bn[4];        /* gamma, beta, mean, var; bn[0] -1 if none */
    float eps;
    sscma_act_kind act;
    int32_t out_v;
    sscma_act_kind then; /* HARDSWISH: a HARD_SWISH op after the conv; HARDSIGMOID: bias + 3, RELU6, MUL by 1/6;
                          * LEAKY_RELU: a LEAKY_RELU op (slope `alpha`) after the conv */
    float alpha;
    const rep_fusion *rep; /* a re-parameterised block (lower_rep.c): its weights and bias replace w and b */
} conv_parts;

static sscma_status tmp_tensor(lower *L, const sscma_node *nd, const char *what, int k, int64_t d1, int64_t d2,
                               int64_t d3, int32_t *out)
{
    char name[256];
    snprintf(name, sizeof name, "%s/%s%d", nd->name, what, k);
    const int64_t dims[4] = {1, d1, d2, d3};
    return sscma_qm_add_tensor(L->q, name, SSCMA_DTYPE_F32, 4, dims, false, out);
}

static sscma_status add_move(lower *L, const sscma_node *nd, qm_op *op, int32_t out)
{
    op->name = nd->name, op->out = out;
    return sscma_qm_add_op(L->q, op, NULL);
}

/*
 * A 1-D depthwise or full convolution ([1, 1, L, C] in, kernel 1 x k, dilation d, stride s, padding p left) whose
 * stride s exceeds L->max_dw_stride (Vela takes depthwise strides 1 to 3, and a full conv's stride only when it
 * divides the padded width; SoundNet's AADownsample blurs have stride 4, its first conv stride 6 on 8201 samples)
 * as a stride-1 convolution over blocks of s samples, exactly: x zero-padded to exactly the R s samples the conv
 * reads (a PAD: p on the left, the rest on the right; a SLICE first when the strided conv never reads x's tail),
 * R = out_len - 1 + KB blocks, KB = ceil(((k - 1) d + 1) / s). Row b, column r of the blocks is sample b s + r:
 * - depthwise: RESHAPE to [1, R, s, C], a DEPTHWISE_CONV_2D of kernel [KB, s], stride 1, no padding, whose weight
 *   holds tap j at [c, kb, r, 0] where kb s + r = j d (zeros elsewhere: the same weights and MACs as the strided
 *   conv, up to KB s / k), then a RESHAPE of its [1, out_len, 1, C] output to [1, 1, out_len, C];
 * - full (groups 1; SoundNet's first conv, one input channel): RESHAPE to [1, 1, R, s C], a CONV_2D of kernel KB
 *   whose weight holds input channel c's tap j of output o at [o, 0, kb, r C + c].
 * Output o reads x[o s + j d - p], as the strided one. Per output channel the nonzero weights are the original ones,
 * so are the weight scales, the int32 sums and the int8 outputs (tests/unit/test_strided_dw.c). blocked_plan says
 * whether the conv c is one (and its sizes), blocked_input adds the SLICE, PAD and RESHAPE, blocked_weights spreads
 * the taps.
 */
typedef struct blocked_dw {
    int64_t s, k, d, p, kb, rows, keep, pad_r, cin, cout, out_len;
    bool dense; /* a full convolution (groups 1) */
} blocked_dw;

static bool blocked_plan(const lower *L, const conv_parts *c, int64_t cin, int64_t cout, int64_t kh, int64_t kw,
                         int64_t cpg, int32_t groups, blocked_dw *b)
{
    const sscma_conv2d_attrs *a = c->a;
    const bool depthwise = groups == cin && cpg == 1 && cout == cin, dense = groups == 1;
    if (a == NULL || a->stride_w <= L->max_dw_stride || !(depthwise || dense) || kh != 1 || a->stride_h != 1 ||
        a->dilation_w < 1 || a->pad_top != 0 || a->pad_bottom != 0)
        return false;
    const sscma_desc *xd = &L->g->values[c->x].desc, *yd = &L->g->values[c->out_v].desc;
    if (xd->rank != 4 || xd->dims[1] != 1 || yd->rank != 4 || yd->dims[1] != 1)
        return false;
    const int64_t s = a->stride_w, d = a->dilation_w, p = a->pad_left, len = xd->dims[2], out_len = yd->dims[2];
    const int64_t kb = ((kw - 1) * d + 1 + s - 1) / s, rows = out_len - 1 + kb;
    /* x's samples the padded sequence holds (the conv never reads past rows s - p), and zeros after them */
    const int64_t keep = len < rows * s - p ? len : rows * s - p, pad_r = rows * s - p - keep;
    if (keep <= 0 || p > INT32_MAX || rows * s > INT32_MAX || kb > INT32_MAX || s * cin > INT32_MAX)
        return false;
    *b = (blocked_dw){s, kw, d, p, kb, rows, keep, pad_r, cin, cout, out_len, dense && !depthwise};
    return true;
}

/* The blocked weight from the folded one (taps[(o k + j) C + c] dense, taps[o k + j] depthwise): dense
 * [o, 0, kb, r C + c], depthwise [c, kb, r, 0], tap j where kb s + r = j d, zeros elsewhere. */
static void blocked_weights(const blocked_dw *b, const float *taps, float *w)
{
    const int64_t row = b->dense ? b->s * b->cin : b->s;
    memset(w, 0, (size_t)(b->cout * b->kb * row) * sizeof *w);
    for (int64_t o = 0; o < b->cout; o++)
        for (int64_t kb = 0; kb < b->kb; kb++)
            for (int64_t r = 0; r < b->s; r++) {
                const int64_t at = kb * b->s + r, j = at / b->d;
                if (at % b->d != 0 || j >= b->k)
                    continue;
                if (b->dense)
                    memcpy(w + (o * b->kb + kb) * row + r * b->cin, taps + (o * b->k + j) * b->cin,
                           (size_t)b->cin * sizeof *w);
                else
                    w[(o * b->kb + kb) * row + r] = taps[o * b->k + j];
            }
}

/* The blocked input: x cut to the samples read (when needed), padded to rows s samples, reshaped to [1, R, s, C]
 * (depthwise) or [1, 1, R, s C] (full). */
static sscma_status blocked_input(lower *L, const conv_parts *c, const blocked_dw *b, int32_t *out)
{
    const int64_t len = L->g->values[c->x].desc.dims[2];
    int32_t x = L->map[c->x];
    sscma_status st = SSCMA_OK;
    if (b->keep < len) {
        qm_op sl = {.kind = QM_SLICE, .in = {x}, .n_in = 1, .begin = {0, 0, 0, 0}, .step = {1, 1, 1, 1},
                    .count = {1, 1, (int32_t)b->keep, (int32_t)b->cin}};
        if ((st = tmp_tensor(L, c->nd, "read", 0, 1, b->keep, b->cin, &x)) == SSCMA_OK)
            st = add_move(L, c->nd, &sl, x);
    }
    if (st == SSCMA_OK && (b->p > 0 || b->pad_r > 0)) {
        qm_op pad = {.kind = QM_PAD, .in = {x}, .n_in = 1, .pad_l = (int32_t)b->p, .pad_r = (int32_t)b->pad_r};
        if ((st = tmp_tensor(L, c->nd, "padded", 0, 1, b->rows * b->s, b->cin, &x)) == SSCMA_OK)
            st = add_move(L, c->nd, &pad, x);
    }
    qm_op rs = {.kind = QM_RESHAPE, .in = {x}, .n_in = 1};
    if (st == SSCMA_OK && (st = b->dense ? tmp_tensor(L, c->nd, "blocks", 0, 1, b->rows, b->s * b->cin, out)
                                         : tmp_tensor(L, c->nd, "blocks", 0, b->rows, b->s, b->cin, out)) == SSCMA_OK)
        st = add_move(L, c->nd, &rs, *out);
    return st;
}

static sscma_status add_conv(lower *L, const conv_parts *c)
{
    const sscma_graph *g = L->g;
    sscma_qmodel *q = L->q;
    const sscma_desc *xd = &g->values[c->x].desc;
    int64_t cin = xd->dims[3];
    int64_t cout, kh = 1, kw = 1, cpg = 1;
    int32_t groups;
    if (c->rep != NULL) {
        cout = c->rep->dims[0], kh = c->rep->dims[1], kw = c->rep->dims[2], cpg = c->rep->dims[3];
        groups = 1;
    } else if (c->w >= 0) {
        const sscma_desc *wd = &g->values[c->w].desc;
        cout = wd->dims[0], kh = wd->dims[1], kw = wd->dims[2], cpg = wd->dims[3];
        groups = c->a->groups;
    } else {
        cout = cin, groups = (int32_t)cin;
    }
    if (c->a != NULL && c->a->pad_same)
        return unsupported(c->nd, "TF-SAME padding is not lowered; use explicit padding");
    if (groups != 1 && !(groups == cin && cout % cin == 0))
        return unsupported(c->nd, "grouped convolutions other than depthwise are not supported by TFLite");
    blocked_dw blk = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false};
    const bool blocked = c->w >= 0 && blocked_plan(L, c, cin, cout, kh, kw, cpg, groups, &blk);
    if (!blocked && c->a != NULL && c->a->stride_w > L->max_dw_stride && kh == 1 && xd->rank == 4 && xd->dims[1] == 1)
        sscma_logf(q->ctx, SSCMA_LOG_WARNING,
                   "layer '%s': a 1-D convolution of stride %d (groups %d) is not rewritten as a stride-1 blocked "
                   "one: Vela may leave it to the CPU",
                   c->nd->name, (int)c->a->stride_w, (int)groups);
    int32_t x_t = L->map[c->x];
    char name[300];
    snprintf(name, sizeof name, "%s.weight", c->nd->name);
    const int64_t wdims[4] = {cout, kh, kw, cpg};
    const int64_t bdims[4] = {cout, blk.dense ? 1 : blk.kb, blk.dense ? blk.kb : blk.s, blk.dense ? cin * blk.s : 1};
    int32_t wt, bt, yt;
    sscma_status st = blocked ? blocked_input(L, c, &blk, &x_t) : SSCMA_OK;
    if (st == SSCMA_OK)
        st = sscma_qm_add_tensor(q, name, SSCMA_DTYPE_F32, 4, blocked ? bdims : wdims, true, &wt);
    snprintf(name, sizeof name, "%s.bias", c->nd->name);
    if (st == SSCMA_OK)
        st = sscma_qm_add_tensor(q, name, SSCMA_DTYPE_F32, 1, &cout, true, &bt);
    if (st != SSCMA_OK)
        return st;
    float *w = q->t[wt].data, *b = q->t[bt].data;
    float *taps = NULL; /* blocked: the folded weights, spread into w afterwards */
    if (blocked && (taps = sscma_malloc(q->ctx, (size_t)(cout * kw * cpg) * sizeof *taps)) == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the taps of '%s'", c->nd->name);
    float *folded = blocked ? taps : w;
    int64_t per_out = kh * kw * cpg;
    const float *src_w = c->rep != NULL ? c->rep->w : c->w >= 0 ? g->values[c->w].data : NULL;
    const float *src_b = c->rep != NULL ? c->rep->b : c->b >= 0 ? g->values[c->b].data : NULL;
    for (int64_t o = 0; o < cout; o++) {
        double s = 1.0, shift = 0.0;
        double bias = src_b != NULL ? src_b[o] : 0.0;
        if (c->bn[0] >= 0) {
            const float *gamma = g->values[c->bn[0]].data, *beta = g->values[c->bn[1]].data;
            const float *mean = g->values[c->bn[2]].data, *var = g->values[c->bn[3]].data;
            s = (double)gamma[o] / sqrt((double)var[o] + (double)c->eps);
            shift = (double)beta[o] - (double)mean[o] * s;
        }
        for (int64_t k = 0; k < per_out; k++)
            folded[o * per_out + k] = (float)((src_w != NULL ? (double)src_w[o * per_out + k] : 1.0) * s);
        b[o] = (float)(bias * s + shift + (c->then == SSCMA_ACT_HARDSIGMOID ? 3.0 : 0.0));
    }
    if (blocked) {
        blocked_weights(&blk, taps, w);
        sscma_mfree(q->ctx, taps);
        kh = blk.dense ? 1 : blk.kb, kw = blk.dense ? blk.kb : blk.s;
    }
    int32_t final_t = -1; /* the output after the `then` op, when there is one */
    if ((st = act_tensor(L, c->out_v, NULL, &yt)) != SSCMA_OK)
        return st;
    if (c->then != SSCMA_ACT_NONE) {
        final_t = yt;
        snprintf(name, sizeof name, "%s.%s", c->nd->name,
                 c->then == SSCMA_ACT_HARDSWISH    ? "pre_hardswish"
                 : c->then == SSCMA_ACT_LEAKY_RELU ? "pre_leaky_relu"
                                                   : "relu6_of_z_plus_3");
        if ((st = act_tensor(L, c->out_v, name, &yt)) != SSCMA_OK)
            return st;
    }
    int32_t conv_t = yt; /* blocked depthwise: [1, out_len, 1, C], reshaped to yt after the conv */
    if (blocked && !blk.dense &&
        (st = tmp_tensor(L, c->nd, "rows", 0, blk.out_len, 1, cout, &conv_t)) != SSCMA_OK)
        return st;
    qm_op op = {.kind = QM_CONV, .name = c->nd->name, .in = {x_t, wt, bt}, .n_in = 3, .out = conv_t,
                .act = c->then == SSCMA_ACT_HARDSIGMOID ? SSCMA_ACT_RELU6 : c->act, .kh = (int32_t)kh,
                .kw = (int32_t)kw, .stride_h = 1, .stride_w = 1, .dil_h = 1,
                .dil_w = 1, .groups = groups};
    if (c->a != NULL) {
        op.stride_h = c->a->stride_h, op.stride_w = c->a->stride_w;
        op.dil_h = c->a->dilation_h, op.dil_w = c->a->dilation_w;
        op.pad_t = c->a->pad_top, op.pad_l = c->a->pad_left, op.pad_b = c->a->pad_bottom, op.pad_r = c->a->pad_right;
    }
    if (blocked)
        op.stride_w = 1, op.dil_w = 1, op.pad_l = 0, op.pad_r = 0;
    L->map[c->out_v] = yt;
    if ((st = sscma_qm_add_op(q, &op, NULL)) != SSCMA_OK)
        return st;
    if (conv_t != yt) {
        qm_op rs = {.kind = QM_RESHAPE, .in = {conv_t}, .n_in = 1};
        if ((st = add_move(L, c->nd, &rs, yt)) != SSCMA_OK)
            return st;
    }
    if (c->then == SSCMA_ACT_NONE)
        return st;
    L->map[c->out_v] = final_t;
    if (c->then == SSCMA_ACT_HARDSWISH) {
        snprintf(name, sizeof name, "%s.hardswish", c->nd->name);
        qm_op hs = {.kind = QM_HARDSWISH, .name = name, .in = {yt}, .n_in = 1, .out = final_t};
        return sscma_qm_add_op(q, &hs, NULL);
    }
    if (c->then == SSCMA_ACT_LEAKY_RELU) {
        snprintf(name, sizeof name, "%s.leaky_relu", c->nd->name);
        qm_op lr = {.kind = QM_LEAKY_RELU, .name = name, .in = {yt}, .n_in = 1, .out = final_t, .alpha = c->alpha};
        return sscma_qm_add_op(q, &lr, NULL);
    }
    /* hard-sigmoid: relu6(z + 3) times the constant 1/6 */
    int32_t sixth;
    const int64_t one[4] = {1, 1, 1, 1};
    snprintf(name, sizeof name, "%s.one_sixth", c->nd->name);
    if ((st = sscma_qm_add_tensor(q, name, SSCMA_DTYPE_F32, q->t[yt].rank, one, true, &sixth)) != SSCMA_OK)
        return st;
    *(float *)q->t[sixth].data = 1.0f / 6.0f;
    snprintf(name, sizeof name, "%s.hardsigmoid", c->nd->name);
    qm_op mul = {.kind = QM_MUL, .name = name, .in = {yt, sixth}, .n_in = 2, .out = final_t};
    return sscma_qm_add_op(q, &mul, NULL);
}

/* After a convolution (and its folded batch norm): a lone reader that is a hard-sigmoid becomes part of it. */
static void fuse_hardsigmoid(lower *L, conv_parts *c)
{
    if (c->act != SSCMA_ACT_NONE || c->then != SSCMA_ACT_NONE)
        return;
    int32_t r = sole_reader(L, c->out_v);
    if (r < 0 || L->g->nodes[r].def->id != SSCMA_OP_HARDSIGMOID)
        return;
    L->done[r] = true;
    c->out_v = L->g->nodes[r].out[0];
    c->then = SSCMA_ACT_HARDSIGMOID;
}

/* A fused activation of a batch norm as the conv's: ReLU and ReLU6 fuse, hard-swish and leaky ReLU (slope) follow
 * as their own op. */
static bool take_bn_act(conv_parts *c, sscma_act_kind act, float negative_slope)
{
    if (act == SSCMA_ACT_HARDSWISH || act == SSCMA_ACT_LEAKY_RELU) {
        c->then = act;
        c->alpha = negative_slope;
        return true;
    }
    c->act = act;
    return bn_act_ok(act);
}

/* Adds a simple op with one output: inputs are graph values (already mapped). */
static sscma_status add_simple(lower *L, const sscma_node *nd, qm_op *op, int32_t out_v)
{
    int32_t yt;
    sscma_status st = act_tensor(L, out_v, NULL, &yt);
    if (st != SSCMA_OK)
        return st;
    op->name = nd->name;
    op->out = yt;
    L->map[out_v] = yt;
    return sscma_qm_add_op(L->q, op, NULL);
}

/* A weight value as the deployable model folds it: QAT's fake-quantized weight resolves to the float parameter. */
static int32_t resolve_weight(const lower *L, int32_t v)
{
    int32_t p = L->g->values[v].producer;
    if (p >= 0 && L->g->nodes[p].def->id == SSCMA_OP_FAKE_QUANT_WEIGHT)
        return L->g->nodes[p].in[0];
    return v;
}

/* split: one slice per output along the split axis (the batch axis stays whole) */
static sscma_status lower_split(lower *L, const sscma_node *nd, qm_op *q)
{
    const sscma_axis_attrs *a = nd->attrs;
    const sscma_desc *x = &L->g->values[nd->in[0]].desc;
    const int32_t axis = a->axis < 0 ? a->axis + x->rank : a->axis;
    if (x->rank > 4 || axis <= 0)
        return unsupported(nd, "a split of rank above 4 or along the batch axis");
    int64_t begin = 0;
    for (int32_t k = 0; k < nd->n_out; k++) {
        qm_op s = *q;
        s.kind = QM_SLICE;
        for (int32_t d = 0; d < x->rank; d++)
            s.begin[d] = 0, s.step[d] = 1, s.count[d] = d == 0 ? 1 : (int32_t)x->dims[d];
        s.begin[axis] = (int32_t)begin, s.count[axis] = (int32_t)a->sizes[k];
        begin += a->sizes[k];
        sscma_status st = add_simple(L, nd, &s, nd->out[k]);
        if (st != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

/* An H <-> W transpose of tensor t into a new tensor named after the node (`suffix`), for lower_space_depth. */
static sscma_status transpose_hw(lower *L, const sscma_node *nd, int32_t t, const char *suffix, int32_t *out)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s", nd->name, suffix);
    const qm_tensor *x = &L->q->t[t];
    const int64_t dims[4] = {x->dims[0], x->dims[2], x->dims[1], x->dims[3]};
    sscma_status st = sscma_qm_add_tensor(L->q, name, SSCMA_DTYPE_F32, 4, dims, false, out);
    qm_op op = {.kind = QM_TRANSPOSE, .name = nd->name, .in = {t}, .n_in = 1, .out = *out, .perm = {0, 2, 1, 3}};
    return st == SSCMA_OK ? sscma_qm_add_op(L->q, &op, NULL) : st;
}

/* A tensor [1, d1, d2, d3] named "<node>/<what><k>" for the ops lower_space_depth writes. */
/*
 * SSCMA's rearrangements (block b, channel group g = dx b + dy) from slices, concatenations and reshapes, as its
 * PyTorch code writes them, which every runtime and NPU compiler has (Vela places them on the Ethos-U; it keeps
 * SPACE_TO_DEPTH / DEPTH_TO_SPACE on the CPU):
 *   space_to_depth: slice g = x[dy::b, dx::b] for g = 0 .. b^2 - 1, concatenated along the channels;
 *   depth_to_space: for each dy, the groups (dy, dx) concatenated along the channels give [H, W, b C], which is
 *                   [H, b W, C] with pixel b w + dx = group (dy, dx)'s pixel w (a reshape); those b rows
 *                   concatenated along W give [H, b^2 W, C], which is [b H, b W, C] (a reshape).
 * Needs b^2 <= QM_MAX_IN (b = 2: SSCMA's); the output is the node's value. All values are copied unchanged.
 */
static sscma_status lower_sscma_blocks(lower *L, const sscma_node *nd, int32_t x)
{
    const sscma_space_depth_attrs *a = nd->attrs;
    const int64_t b = a->block_size, h = L->q->t[x].dims[1], w = L->q->t[x].dims[2], c = L->q->t[x].dims[3];
    int32_t y = -1, parts[QM_MAX_IN], rows[QM_MAX_IN];
    sscma_status st = act_tensor(L, nd->out[0], NULL, &y);
    if (nd->def->id == SSCMA_OP_SPACE_TO_DEPTH) {
        for (int64_t g = 0; st == SSCMA_OK && g < b * b; g++) {
            const int32_t dy = (int32_t)(g % b), dx = (int32_t)(g / b);
            qm_op sl = {.kind = QM_SLICE, .in = {x}, .n_in = 1, .begin = {0, dy, dx, 0}, .step = {1, (int32_t)b,
                        (int32_t)b, 1}, .count = {1, (int32_t)(h / b), (int32_t)(w / b), (int32_t)c}};
            if ((st = tmp_tensor(L, nd, "block", (int)g, h / b, w / b, c, &parts[g])) == SSCMA_OK)
                st = add_move(L, nd, &sl, parts[g]);
        }
        qm_op cat = {.kind = QM_CONCAT, .axis = 3, .n_in = (int32_t)(b * b)};
        memcpy(cat.in, parts, sizeof parts);
        if (st == SSCMA_OK)
            st = add_move(L, nd, &cat, y);
    } else {
        const int64_t cc = c / (b * b);
        for (int64_t dy = 0; st == SSCMA_OK && dy < b; dy++) {
            for (int64_t dx = 0; st == SSCMA_OK && dx < b; dx++) {
                const int32_t g = (int32_t)(dx * b + dy);
                qm_op sl = {.kind = QM_SLICE, .in = {x}, .n_in = 1, .begin = {0, 0, 0, (int32_t)(g * cc)},
                            .step = {1, 1, 1, 1}, .count = {1, (int32_t)h, (int32_t)w, (int32_t)cc}};
                if ((st = tmp_tensor(L, nd, "group", g, h, w, cc, &parts[dx])) == SSCMA_OK)
                    st = add_move(L, nd, &sl, parts[dx]);
            }
            int32_t wide = -1;
            qm_op cat = {.kind = QM_CONCAT, .axis = 3, .n_in = (int32_t)b};
            memcpy(cat.in, parts, sizeof parts);
            qm_op rs = {.kind = QM_RESHAPE, .n_in = 1};
            if (st == SSCMA_OK && (st = tmp_tensor(L, nd, "pixels", (int)dy, h, w, b * cc, &wide)) == SSCMA_OK &&
                (st = add_move(L, nd, &cat, wide)) == SSCMA_OK &&
                (st = tmp_tensor(L, nd, "row", (int)dy, h, b * w, cc, &rows[dy])) == SSCMA_OK) {
                rs.in[0] = wide;
                st = add_move(L, nd, &rs, rows[dy]);
            }
        }
        int32_t tall = -1;
        qm_op cat = {.kind = QM_CONCAT, .axis = 2, .n_in = (int32_t)b};
        memcpy(cat.in, rows, sizeof rows);
        qm_op rs = {.kind = QM_RESHAPE, .n_in = 1};
        if (st == SSCMA_OK && (st = tmp_tensor(L, nd, "rows", 0, h, b * b * w, cc, &tall)) == SSCMA_OK &&
            (st = add_move(L, nd, &cat, tall)) == SSCMA_OK) {
            rs.in[0] = tall;
            st = add_move(L, nd, &rs, y);
        }
    }
    if (st == SSCMA_OK)
        L->map[nd->out[0]] = y;
    return st;
}

/*
 * space_to_depth / depth_to_space: TensorFlow's order as it is; SSCMA's (offset (dy, dx) to channel group dx b + dy)
 * from slices and concatenations (lower_sscma_blocks) when b^2 <= QM_MAX_IN, else as TensorFlow's on the image with
 * H and W swapped: transpose, the kind, transpose.
 */
static sscma_status lower_space_depth(lower *L, const sscma_node *nd, qm_op *q)
{
    const sscma_space_depth_attrs *a = nd->attrs;
    q->kind = nd->def->id == SSCMA_OP_SPACE_TO_DEPTH ? QM_SPACE_TO_DEPTH : QM_DEPTH_TO_SPACE;
    q->block_size = a->block_size;
    if (a->order == SSCMA_BLOCK_ORDER_TFLITE)
        return add_simple(L, nd, q, nd->out[0]);
    if ((int64_t)a->block_size * a->block_size <= QM_MAX_IN)
        return lower_sscma_blocks(L, nd, q->in[0]);
    int32_t in_t = -1, mid_t = -1, y_t = -1;
    sscma_status st = transpose_hw(L, nd, q->in[0], "/hw", &in_t);
    if (st != SSCMA_OK)
        return st;
    const qm_tensor *x = &L->q->t[in_t];
    const int64_t b = a->block_size, c = x->dims[3];
    const int64_t dims[4] = {1, q->kind == QM_SPACE_TO_DEPTH ? x->dims[1] / b : x->dims[1] * b,
                             q->kind == QM_SPACE_TO_DEPTH ? x->dims[2] / b : x->dims[2] * b,
                             q->kind == QM_SPACE_TO_DEPTH ? c * b * b : c / (b * b)};
    char name[256];
    snprintf(name, sizeof name, "%s/hw_out", nd->name);
    if ((st = sscma_qm_add_tensor(L->q, name, SSCMA_DTYPE_F32, 4, dims, false, &mid_t)) != SSCMA_OK)
        return st;
    q->in[0] = in_t, q->out = mid_t, q->name = nd->name;
    if ((st = sscma_qm_add_op(L->q, q, NULL)) != SSCMA_OK || (st = act_tensor(L, nd->out[0], NULL, &y_t)) != SSCMA_OK)
        return st;
    qm_op back = {.kind = QM_TRANSPOSE, .name = nd->name, .in = {mid_t}, .n_in = 1, .out = y_t, .perm = {0, 2, 1, 3}};
    L->map[nd->out[0]] = y_t;
    return sscma_qm_add_op(L->q, &back, NULL);
}

/*
 * SSCMA's anomaly VAE deploys the reconstructions only: nodes that do not lead to them (the loss, logvar's layers,
 * whose value eps = 0 makes unused) are marked done, so that lowering never sees them.
 */
static void vae_prune(lower *L, const int32_t *outs, int32_t n_out)
{
    const sscma_graph *g = L->g;
    bool *needed = sscma_alloc_zeroed(g->ctx, (size_t)g->n_values * sizeof *needed, _Alignof(bool));
    if (needed == NULL)
        return; /* nothing pruned: lowering then names the first node it cannot lower */
    for (int32_t k = 0; k < n_out; k++)
        needed[outs[k]] = true;
    for (int32_t n = g->n_nodes; n-- > 0;) {
        const sscma_node *nd = &g->nodes[n];
        bool used = false;
        for (int32_t o = 0; o < nd->n_out; o++)
            used |= needed[nd->out[o]];
        if (!used) {
            L->done[n] = true;
            continue;
        }
        const int32_t n_in = nd->def->id == SSCMA_OP_REPARAMETERIZE ? 1 : nd->n_in;
        for (int32_t i = 0; i < n_in; i++)
            needed[nd->in[i]] = true;
    }
    sscma_free(g->ctx, needed, (size_t)g->n_values * sizeof *needed);
}

static sscma_status lower_node(lower *L, int32_t n)
{
    const sscma_graph *g = L->g;
    const sscma_node *nd = &g->nodes[n];
    const sscma_op_id op = nd->def->id;
    int32_t y = nd->out[0];
    if (op == SSCMA_OP_FAKE_QUANT_WEIGHT)
        return SSCMA_OK; /* folded by the layer that reads it */
    if (op == SSCMA_OP_FAKE_QUANT_ACT) {
        /* QAT: an alias of its input, whose observed range becomes the tensor's */
        int32_t t = L->map[nd->in[0]];
        const float *state = g->values[nd->in[1]].data;
        if (t < 0)
            return unsupported(nd, "reads a value that the deployable model does not compute");
        L->map[y] = t;
        if (state[2] != 0.0f) {
            L->q->t[t].observed = true;
            L->q->t[t].obs_min = state[0], L->q->t[t].obs_max = state[1];
        }
        return SSCMA_OK;
    }
    if (op == SSCMA_OP_REPARAMETERIZE) {
        /* deployed with eps = 0 (ops/latent.c's evaluation without freeze_randn): z = mu, logvar is not computed */
        if (L->map[nd->in[0]] < 0)
            return unsupported(nd, "reads a value that the deployable model does not compute");
        L->map[y] = L->map[nd->in[0]];
        return SSCMA_OK;
    }
    for (int32_t i = 0; i < nd->n_in; i++) {
        sscma_value_kind k = g->values[resolve_weight(L, nd->in[i])].kind;
        if ((k == SSCMA_VALUE_INPUT || k == SSCMA_VALUE_ACT) && L->map[nd->in[i]] < 0)
            return unsupported(nd, "reads a value that the deployable model does not compute");
    }
    qm_op q = {.n_in = 1, .in = {L->map[nd->in[0]]}, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1,
               .groups = 1};

    if (op == SSCMA_OP_CONV2D) {
        rep_fusion rep;
        sscma_status st = sscma_lower_rep(g, n, L->keep, L->n_keep, L->done, &rep);
        if (st == SSCMA_OK && rep.exit >= 0) {
            for (int32_t m = n + 1; m < g->n_nodes; m++)
                L->done[m] = L->done[m] || rep.members[m];
            conv_parts c = {nd, nd->attrs, nd->in[0], -1, -1, {-1, -1, -1, -1}, 1e-5f, SSCMA_ACT_NONE, rep.exit};
            c.rep = &rep;
            c.act = fuse_act(L, &c.out_v);
            st = add_conv(L, &c);
        }
        bool fused = rep.exit >= 0;
        sscma_lower_rep_free(g->ctx, &rep);
        if (st != SSCMA_OK || fused)
            return st;
    }
    if (op == SSCMA_OP_CONV2D || op == SSCMA_OP_CONV2D_BN_ACT) {
        conv_parts c = {nd, NULL, nd->in[0], resolve_weight(L, nd->in[1]), -1, {-1, -1, -1, -1}, 1e-5f,
                        SSCMA_ACT_NONE, y};
        if (op == SSCMA_OP_CONV2D) {
            c.a = nd->attrs;
            c.b = nd->n_in > 2 ? nd->in[2] : -1;
            int32_t r = sole_reader(L, y);
            if (r >= 0 && g->nodes[r].in[0] == y &&
                (g->nodes[r].def->id == SSCMA_OP_BATCH_NORM ||
                 g->nodes[r].def->id == SSCMA_OP_BATCH_NORM_ACT)) {
                const sscma_node *bn = &g->nodes[r];
                if (bn->def->id == SSCMA_OP_BATCH_NORM_ACT) {
                    const sscma_batch_norm_act_attrs *ba = bn->attrs;
                    if (!take_bn_act(&c, ba->act, ba->negative_slope))
                        return unsupported(bn, "only ReLU, ReLU6, leaky ReLU and hard-swish follow a convolution");
                    c.eps = ba->bn.eps;
                } else {
                    c.eps = ((const sscma_batch_norm_attrs *)bn->attrs)->eps;
                }
                for (int32_t k = 0; k < 4; k++)
                    c.bn[k] = bn->in[1 + k];
                L->done[r] = true;
                c.out_v = bn->out[0];
            }
        } else {
            const sscma_conv_bn_act_attrs *a = nd->attrs;
            if (!take_bn_act(&c, a->act, a->negative_slope))
                return unsupported(nd, "only ReLU, ReLU6, leaky ReLU and hard-swish follow a convolution");
            c.a = &a->conv;
            c.eps = a->eps;
            for (int32_t k = 0; k < 4; k++)
                c.bn[k] = nd->in[2 + k];
            c.b = nd->n_in > 6 ? nd->in[6] : -1;
        }
        if (c.act == SSCMA_ACT_NONE && c.then == SSCMA_ACT_NONE)
            c.act = fuse_act(L, &c.out_v);
        fuse_hardsigmoid(L, &c);
        return add_conv(L, &c);
    }
    if (op == SSCMA_OP_BATCH_NORM || op == SSCMA_OP_BATCH_NORM_ACT) {
        if (g->values[nd->in[0]].desc.rank != 4)
            return unsupported(nd, "a batch norm that follows no convolution is lowered only on NHWC input");
        conv_parts c = {nd, NULL, nd->in[0], -1, -1, {nd->in[1], nd->in[2], nd->in[3], nd->in[4]}, 1e-5f,
                        SSCMA_ACT_NONE, y};
        if (op == SSCMA_OP_BATCH_NORM_ACT) {
            const sscma_batch_norm_act_attrs *ba = nd->attrs;
            if (!take_bn_act(&c, ba->act, ba->negative_slope))
                return unsupported(nd, "only ReLU, ReLU6, leaky ReLU and hard-swish follow a batch norm");
            c.eps = ba->bn.eps;
        } else {
            c.eps = ((const sscma_batch_norm_attrs *)nd->attrs)->eps;
        }
        if (c.act == SSCMA_ACT_NONE && c.then == SSCMA_ACT_NONE)
            c.act = fuse_act(L, &c.out_v);
        fuse_hardsigmoid(L, &c);
        return add_conv(L, &c);
    }
    if (op == SSCMA_OP_LINEAR) {
        int32_t wt, bt = -1;
        sscma_status st = const_tensor(L, resolve_weight(L, nd->in[1]), &wt);
        if (st == SSCMA_OK && nd->n_in > 2)
            st = const_tensor(L, nd->in[2], &bt);
        if (st == SSCMA_OK && bt < 0) {
            char name[300];
            snprintf(name, sizeof name, "%s.bias", nd->name);
            int64_t out_f = g->values[nd->in[1]].desc.dims[0];
            st = sscma_qm_add_tensor(L->q, name, SSCMA_DTYPE_F32, 1, &out_f, true, &bt);
        }
        if (st != SSCMA_OK)
            return st;
        q.kind = QM_FC, q.in[1] = wt, q.in[2] = bt, q.n_in = 3;
        q.act = fuse_act(L, &y);
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_ADD) {
        if (!sscma_desc_equal(&g->values[nd->in[0]].desc, &g->values[nd->in[1]].desc))
            return unsupported(nd, "broadcasting adds are not lowered");
        q.kind = QM_ADD, q.in[1] = L->map[nd->in[1]], q.n_in = 2;
        q.act = fuse_act(L, &y);
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_MUL) {
        q.kind = QM_MUL, q.in[1] = L->map[nd->in[1]], q.n_in = 2;
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_HARDSIGMOID)
        return unsupported(nd, "a hard-sigmoid is lowered only as the sole reader of a convolution (or its batch "
                               "norm)");
    if (op == SSCMA_OP_DROPOUT) {
        L->map[y] = L->map[nd->in[0]];
        return SSCMA_OK;
    }
    if (op == SSCMA_OP_GLOBAL_AVG_POOL || op == SSCMA_OP_GLOBAL_MAX_POOL) {
        const sscma_desc *xd = &g->values[nd->in[0]].desc;
        q.kind = op == SSCMA_OP_GLOBAL_AVG_POOL ? QM_AVG_POOL : QM_MAX_POOL;
        q.kh = (int32_t)xd->dims[1], q.kw = (int32_t)xd->dims[2];
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_AVG_POOL || op == SSCMA_OP_MAX_POOL) {
        const sscma_pool_attrs *a = nd->attrs;
        bool avg = op == SSCMA_OP_AVG_POOL;
        if (avg && a->count_include_pad && (a->pad_h > 0 || a->pad_w > 0))
            return unsupported(nd, "average pooling that counts the padding has no TFLite equivalent");
        const sscma_desc *xd = &g->values[nd->in[0]].desc, *yd = &g->values[y].desc;
        q.kind = avg ? QM_AVG_POOL : QM_MAX_POOL;
        q.kh = a->kernel_h, q.kw = a->kernel_w, q.stride_h = a->stride_h, q.stride_w = a->stride_w;
        q.pad_t = a->pad_h, q.pad_l = a->pad_w;
        /* ceil mode: the extra bottom/right padding that yields the output size */
        q.pad_b = (int32_t)((yd->dims[1] - 1) * a->stride_h + a->kernel_h - xd->dims[1] - a->pad_h);
        q.pad_r = (int32_t)((yd->dims[2] - 1) * a->stride_w + a->kernel_w - xd->dims[2] - a->pad_w);
        if (q.pad_b < 0)
            q.pad_b = 0;
        if (q.pad_r < 0)
            q.pad_r = 0;
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_RESHAPE) {
        q.kind = QM_RESHAPE;
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_TRANSPOSE) {
        const sscma_transpose_attrs *a = nd->attrs;
        if (a->rank > 4 || a->perm[0] != 0)
            return unsupported(nd, "a transpose of rank above 4 or one that moves the batch axis");
        q.kind = QM_TRANSPOSE;
        for (int32_t i = 0; i < a->rank; i++)
            q.perm[i] = (int32_t)a->perm[i];
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_SPLIT)
        return lower_split(L, nd, &q);
    if (op == SSCMA_OP_SPACE_TO_DEPTH || op == SSCMA_OP_DEPTH_TO_SPACE)
        return lower_space_depth(L, nd, &q);
    if (op == SSCMA_OP_CONCAT) {
        const sscma_axis_attrs *a = nd->attrs;
        int32_t rank = g->values[y].desc.rank;
        if (nd->n_in > QM_MAX_IN)
            return unsupported(nd, "more than 8 inputs");
        q.kind = QM_CONCAT;
        q.axis = a->axis < 0 ? a->axis + rank : a->axis;
        q.n_in = nd->n_in;
        for (int32_t i = 0; i < nd->n_in; i++)
            q.in[i] = L->map[nd->in[i]];
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_SOFTMAX) {
        q.kind = QM_SOFTMAX;
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_LEAKY_RELU) {
        q.kind = QM_LEAKY_RELU;
        q.alpha = ((const sscma_act_attrs *)nd->attrs)->negative_slope;
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_SIGMOID || op == SSCMA_OP_HARDSWISH) {
        q.kind = op == SSCMA_OP_SIGMOID ? QM_LOGISTIC : QM_HARDSWISH;
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_UPSAMPLE_NEAREST) {
        q.kind = QM_RESIZE_NEAREST;
        return add_simple(L, nd, &q, y);
    }
    if (op == SSCMA_OP_PAD) {
        const sscma_pad_attrs *a = nd->attrs;
        if (g->values[nd->in[0]].desc.rank != 4 || a->value != 0.0f || a->before[0] || a->after[0] ||
            a->before[3] || a->after[3])
            return unsupported(nd, "only zero padding of H and W is lowered");
        q.kind = QM_PAD;
        q.pad_t = (int32_t)a->before[1], q.pad_b = (int32_t)a->after[1];
        q.pad_l = (int32_t)a->before[2], q.pad_r = (int32_t)a->after[2];
        return add_simple(L, nd, &q, y);
    }
    return unsupported(nd, "no deployable equivalent (supported: conv2d, batch_norm, linear, add, mul, relu, "
                           "relu6, leaky_relu, sigmoid, hardswish, hardsigmoid after a conv, pools, reshape, concat, softmax, "
                           "upsample_nearest, pad, dropout)");
}

/* Deployment outputs of the model (graph values) and their names; *softmax_first: the classifier's logits. */
static int32_t deploy_outputs(const sscma_graph *g, const sscma_model_io_table *io, int32_t *vals, const char **names,
                              bool *softmax_first)
{
    *softmax_first = false;
    int32_t n = 0;
    bool has_probs = false;
    for (int32_t k = 0; k < io->n_outputs; k++)
        has_probs |= strcmp(io->output_names[k], "probs") == 0;
    for (int32_t k = 0; k < io->n_outputs && n < 8; k++) {
        int32_t v = io->outputs[k];
        if (v == io->loss || g->values[v].training_only)
            continue;
        if (has_probs && strcmp(io->output_names[k], "logits") == 0)
            continue;
        if (strcmp(io->family, "Vae_Model") == 0 && strcmp(io->output_names[k], "x_recon") != 0 &&
            strcmp(io->output_names[k], "c_recon") != 0)
            continue; /* the latents are not deployed (eps = 0: the decoder reads mu) */
        if ((strcmp(io->family, "ImageClassifier") == 0 || strcmp(io->family, "AccelerometerClassifier") == 0 ||
             strcmp(io->family, "Audio_classify") == 0) &&
            strcmp(io->output_names[k], "logits") == 0) {
            *softmax_first = true;
            names[n] = "probs";
        } else {
            names[n] = io->output_names[k];
        }
        vals[n++] = v;
    }
    return n;
}

/*
 * RTMDet's deployment outputs, as ModelAssistant's RTMDetSepBNHeadModule.forward exports them and SSCMA-Micro's RTMDet
 * model reads them (docs/export.md): per level l the raw class logits and the raw distances of rtm_reg (left, top,
 * right, bottom in units of the level's stride: the graph's multiplication by the stride is the training decode's,
 * as rtmdet_decode is the metric's; neither is deployed). *dist[l] is rtm_reg's output, *stride_mul[l] the node that
 * multiplies it by the stride (skipped). Returns false when the graph is not RTMDet's.
 */
#define RTM_DEPLOY_LEVELS 3
static bool rtmdet_outputs(const sscma_graph *g, const sscma_model_io_table *io, int32_t *cls, int32_t *dist,
                           int32_t *stride_mul)
{
    if (strcmp(io->family, "RTMDet") != 0 || io->n_outputs < 2 * RTM_DEPLOY_LEVELS)
        return false;
    for (int32_t l = 0; l < RTM_DEPLOY_LEVELS; l++) {
        char want[8];
        snprintf(want, sizeof want, "reg_%d", (int)l);
        if (strcmp(io->output_names[RTM_DEPLOY_LEVELS + l], want) != 0)
            return false;
        const int32_t p = g->values[io->outputs[RTM_DEPLOY_LEVELS + l]].producer;
        if (p < 0 || g->nodes[p].def->id != SSCMA_OP_MUL || g->nodes[p].n_in != 2 ||
            g->values[g->nodes[p].in[1]].kind != SSCMA_VALUE_CONST)
            return false;
        cls[l] = io->outputs[l], dist[l] = g->nodes[p].in[0], stride_mul[l] = p;
    }
    return true;
}

/* y = reshape(x) to [1, rows, k], named `name` (a deployment output). */
static sscma_status reshape_rows(sscma_qmodel *q, int32_t x, const char *name, int32_t *y)
{
    const qm_tensor *t = &q->t[x];
    const int64_t dims[3] = {1, t->dims[1] * t->dims[2], t->dims[3]};
    char op_name[32];
    snprintf(op_name, sizeof op_name, "%s", name);
    sscma_status st = sscma_qm_add_tensor(q, name, SSCMA_DTYPE_F32, 3, dims, false, y);
    if (st != SSCMA_OK)
        return st;
    qm_op op = {.kind = QM_RESHAPE, .name = op_name, .in = {x}, .n_in = 1, .out = *y};
    return sscma_qm_add_op(q, &op, NULL);
}

static sscma_status do_lower(lower *L, const sscma_model_io_table *io)
{
    const sscma_graph *g = L->g;
    sscma_qmodel *q = L->q;
    snprintf(q->family, sizeof q->family, "%s", io->family);
    int32_t outs[8];
    const char *names[8];
    bool softmax_first;
    int32_t n_out = deploy_outputs(g, io, outs, names, &softmax_first);
    const sscma_yolo_decode *yolo = sscma_model_yolo_decode(L->model);
    int32_t rtm_cls[RTM_DEPLOY_LEVELS], rtm_dist[RTM_DEPLOY_LEVELS], rtm_mul[RTM_DEPLOY_LEVELS];
    const bool rtmdet = yolo == NULL && rtmdet_outputs(g, io, rtm_cls, rtm_dist, rtm_mul);
    if (rtmdet) {
        /* class logits, then distances; the stride multiplications and the metric's decode are not deployed */
        n_out = 2 * RTM_DEPLOY_LEVELS, softmax_first = false;
        for (int32_t l = 0; l < RTM_DEPLOY_LEVELS; l++) {
            outs[l] = rtm_cls[l], outs[RTM_DEPLOY_LEVELS + l] = rtm_dist[l];
            L->done[rtm_mul[l]] = true;
        }
    }
    if (yolo != NULL) {
        /* the raw head maps are computed (and kept whole); the decode after them is the one output */
        n_out = yolo->num_levels, softmax_first = false;
        for (int32_t l = 0; l < n_out; l++)
            outs[l] = yolo->head_values[l], names[l] = "head map";
    }
    if (n_out == 0)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_qmodel_from_model", "the model has no inference output");
    L->keep = outs, L->n_keep = n_out;
    if (strcmp(io->family, "Vae_Model") == 0)
        vae_prune(L, outs, n_out);
    for (int32_t n = 0; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        if (nd->training_only || L->done[n] || (yolo != NULL && nd->def->id == SSCMA_OP_YOLO_DECODE) ||
            (rtmdet && nd->def->id == SSCMA_OP_RTMDET_DECODE))
            continue;
        for (int32_t i = 0; i < nd->n_in; i++) {
            L->consumers[nd->in[i]]++;
            L->reader[nd->in[i]] = n;
        }
    }
    for (int32_t v = 0; v < g->n_values; v++) {
        const sscma_value *val = &g->values[v];
        if (val->kind != SSCMA_VALUE_INPUT || val->training_only)
            continue;
        if (val->desc.dtype != SSCMA_DTYPE_F32 || q->n_inputs == 4)
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_qmodel_from_model",
                              "input '%s' is not a float image (at most 4 inputs)", val->name);
        sscma_status st = act_tensor(L, v, NULL, &L->map[v]);
        if (st != SSCMA_OK)
            return st;
        q->inputs[q->n_inputs++] = L->map[v];
    }
    for (int32_t n = 0; n < g->n_nodes; n++) {
        /* a yolo_decode node (the metric's decode) gives way to the deployment decode appended below */
        const sscma_op_id id = g->nodes[n].def->id;
        if (g->nodes[n].training_only || L->done[n] || (yolo != NULL && id == SSCMA_OP_YOLO_DECODE) ||
            (rtmdet && id == SSCMA_OP_RTMDET_DECODE))
            continue;
        sscma_status st = lower_node(L, n);
        if (st != SSCMA_OK)
            return st;
    }
    for (int32_t k = 0; k < n_out; k++)
        if (L->map[outs[k]] < 0)
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_qmodel_from_model", "output '%s' is not computed",
                              yolo != NULL ? g->values[outs[k]].name : names[k]);
    if (yolo != NULL) {
        int32_t maps[SSCMA_YOLO_MAX_LEVELS], y;
        for (int32_t l = 0; l < n_out; l++)
            maps[l] = L->map[outs[l]];
        sscma_status st = sscma_qm_append_yolo_decode(q, yolo, maps, SSCMA_YOLO_OUTPUT_NAME, &y);
        if (st != SSCMA_OK)
            return st;
        q->outputs[q->n_outputs++] = y;
        return sscma_qm_validate(q);
    }
    if (rtmdet) {
        /* [1, H, W, C] -> [1, H W, C] (cells in row-major order), named as SSCMA's exported files */
        static const char *const rtm_names[2 * RTM_DEPLOY_LEVELS] = {"cls_0", "cls_1", "cls_2",
                                                                      "dist_0", "dist_1", "dist_2"};
        for (int32_t k = 0; k < n_out; k++) {
            int32_t y;
            sscma_status st = reshape_rows(q, L->map[outs[k]], rtm_names[k], &y);
            if (st != SSCMA_OK)
                return st;
            q->outputs[q->n_outputs++] = y;
        }
        return sscma_qm_validate(q);
    }
    for (int32_t k = 0; k < n_out; k++) {
        int32_t t = L->map[outs[k]];
        if (k == 0 && softmax_first) {
            int32_t yt;
            sscma_status st = sscma_qm_add_tensor(q, names[k], SSCMA_DTYPE_F32, q->t[t].rank, q->t[t].dims, false,
                                                  &yt);
            qm_op op = {.kind = QM_SOFTMAX, .name = "probs", .in = {t}, .n_in = 1, .out = yt};
            if (st == SSCMA_OK)
                st = sscma_qm_add_op(q, &op, NULL);
            if (st != SSCMA_OK)
                return st;
            t = yt;
        } else {
            /* the deployment name of an output tensor is the model's output name */
            char *nm = sscma_strdup(q->ctx, names[k]);
            if (nm == NULL)
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "sscma_qmodel_from_model", "cannot copy a name");
            sscma_free_string(q->ctx, q->t[t].name);
            q->t[t].name = nm;
        }
        q->outputs[q->n_outputs++] = t;
    }
    return sscma_qm_validate(q);
}

sscma_status sscma_qmodel_from_model(sscma_model *model, sscma_qmodel **out)
{
    return sscma_qm_lower(model, SSCMA_QM_MAX_DW_STRIDE, out);
}

sscma_status sscma_qm_lower(sscma_model *model, int32_t max_dw_stride, sscma_qmodel **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(out);
    const sscma_graph *g = sscma_model_graph(model);
    sscma_context *ctx = g->ctx;
    lower L;
    memset(&L, 0, sizeof L);
    L.model = model;
    L.g = g;
    L.max_dw_stride = max_dw_stride;
    size_t nv = (size_t)g->n_values, nn = (size_t)(g->n_nodes > 0 ? g->n_nodes : 1);
    L.map = sscma_alloc(ctx, nv * sizeof *L.map, _Alignof(int32_t));
    L.consumers = sscma_alloc_zeroed(ctx, nv * sizeof *L.consumers, _Alignof(int32_t));
    L.reader = sscma_alloc(ctx, nv * sizeof *L.reader, _Alignof(int32_t));
    L.done = sscma_alloc_zeroed(ctx, nn * sizeof *L.done, _Alignof(bool));
    sscma_status st = SSCMA_OK;
    if (L.map == NULL || L.consumers == NULL || L.reader == NULL || L.done == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the lowering tables");
    else
        st = sscma_qm_create(ctx, &L.q);
    if (st == SSCMA_OK) {
        for (size_t v = 0; v < nv; v++)
            L.map[v] = L.reader[v] = -1;
        st = do_lower(&L, sscma_model_io(model));
    }
    sscma_free(ctx, L.map, nv * sizeof *L.map);
    sscma_free(ctx, L.consumers, nv * sizeof *L.consumers);
    sscma_free(ctx, L.reader, nv * sizeof *L.reader);
    sscma_free(ctx, L.done, nn * sizeof *L.done);
    if (st != SSCMA_OK) {
        sscma_qmodel_destroy(L.q);
        return st;
    }
    *out = L.q;
    return SSCMA_OK;
}
