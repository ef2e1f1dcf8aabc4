/*
 * rtmdet_loss: RTMDetHead.loss_by_feat as ModelAssistant's main line runs it (configs/rtmdet/rtmdet_nano_*: mmyolo's
 * BatchDynamicSoftLabelAssigner, QualityFocalLoss, GIoULoss), forward and backward.
 * Inputs cls_0..2 f32 [B, H_l, W_l, C] (raw logits), reg_0..2 f32 [B, H_l, W_l, 4] (distances left, top, right,
 * bottom in input pixels, already times the stride) and targets f32 [B, M, 6] (class, x1, y1, x2, y2, valid > 0).
 * Outputs total = loss_cls + loss_bbox, loss_cls, loss_bbox (all []).
 *
 * Priors (MlvlPointGenerator, offset 0): level after level, row-major, point (x s_l, y s_l). A prediction is the
 * box (px - l, py - t, px + r, py + b). Assignment per image, in float32 as mmyolo (its decisions compare float32
 * values), with the G = most valid rows of any image of the batch as columns (an image with fewer has zero boxes of
 * class 0 after its own, as mmyolo's gt_instances_preprocess pads them):
 *   valid(p)   = the prior lies strictly inside one of the image's boxes;
 *   iou(p, g)  = bbox_overlaps(pred_p, gt_g) (eps 1e-6);
 *   cost(p, g) = BCE(x_{p, c_g}, iou) |iou - sigmoid(x_{p, c_g})|^2 - log(iou + 1e-7) iou_weight
 *                + 10^(|p - centre_g| / s_p - soft_center_radius)    (distance 0 where not valid), 1e8 if not valid;
 *   box g takes k_g = max(1, trunc(sum of its topk largest ious over all priors)) priors of least cost (ties: the
 *   lower prior, a stable sort); a prior taken by several boxes goes to the column of least cost (of all G);
 *   a taken prior gets the box's class, box and metric iou(p, g); the others are background (class C, metric 0).
 * QFL (beta): positives BCE(x, metric) |metric - sigmoid(x)|^beta at their class, every other logit
 *   BCE(x, 0) sigmoid(x)^beta; loss_cls = w_cls sum / A with A = max(1, sum of the metrics) (float32, as mmyolo's
 *   reduce_mean(...).clamp(min=1).item() on one process).
 * GIoU (eps): loss_bbox = w_bbox sum_pos metric (1 - giou(pred, box)) / A; 0 when no positive has a metric > 0.
 * Backward: the gradients of the six maps with the assignment and A held constant (mmyolo runs the assigner under
 * no_grad on detached predictions); torch's tie rules (max / min split the gradient, clamp(min=0) passes it at 0).
 * The cost matrix and the per-prior terms and gradients are split over the pool by prior, each element computed
 * alone; the matching and the sums (in double, in prior order) run on one thread: the same bits on any thread count.
 */
#include <math.h>
#include <string.h>

#include "ops/kernels.h"
#include "ops/op.h"

#define OP "rtmdet_loss"
#define LEVELS SSCMA_RTMDET_LEVELS
#define INF_COST 100000000.0f /* mmyolo's INF */
#define LOG_EPS 1.0e-7f       /* the assigner's EPS inside the log */
#define IOU_EPS 1.0e-6f       /* bbox_overlaps' default eps, the assigner's IoU */

static const int64_t default_strides[LEVELS] = {8, 16, 32};

static const sscma_attr_field rtmdet_fields[] = {
    SSCMA_FIELD_LIST_AS("strides", sscma_rtmdet_loss_attrs, strides,
                        (int32_t)offsetof(sscma_rtmdet_loss_attrs, n_strides), 0, 0, 1, 1024, 0),
    SSCMA_ATTR(sscma_rtmdet_loss_attrs, topk, SSCMA_ATTR_I32, 13),
    SSCMA_ATTR(sscma_rtmdet_loss_attrs, iou_weight, SSCMA_ATTR_F32, 3.0),
    SSCMA_ATTR(sscma_rtmdet_loss_attrs, soft_center_radius, SSCMA_ATTR_F32, 3.0),
    SSCMA_ATTR(sscma_rtmdet_loss_attrs, beta, SSCMA_ATTR_F32, 2.0),
    SSCMA_ATTR(sscma_rtmdet_loss_attrs, loss_cls_weight, SSCMA_ATTR_F32, 1.0),
    SSCMA_ATTR(sscma_rtmdet_loss_attrs, loss_bbox_weight, SSCMA_ATTR_F32, 2.0),
    SSCMA_ATTR(sscma_rtmdet_loss_attrs, eps, SSCMA_ATTR_F32, 1e-6),
    SSCMA_ATTR_END,
};

/* The shapes and resolved attributes of one call. */
typedef struct rtm_geom {
    int64_t batch, rows, classes, priors; /* priors: sum of H_l W_l */
    int64_t h[LEVELS], w[LEVELS], strides[LEVELS], first[LEVELS];
} rtm_geom;

static void geom_of(const sscma_rtmdet_loss_attrs *a, const sscma_desc *in, rtm_geom *g)
{
    memset(g, 0, sizeof *g);
    g->batch = in[0].dims[0];
    g->classes = in[0].dims[3];
    g->rows = in[2 * LEVELS].dims[1];
    memcpy(g->strides, a->n_strides > 0 ? a->strides : default_strides, sizeof g->strides);
    for (int l = 0; l < LEVELS; l++) {
        g->h[l] = in[l].dims[1], g->w[l] = in[l].dims[2];
        g->first[l] = g->priors;
        g->priors += g->h[l] * g->w[l];
    }
}

/* What forward keeps for backward: A, whether the box loss is on, and per prior its class, metric and box. */
typedef struct rtm_saved {
    double *avg_factor;
    int64_t *bbox_on;
    int32_t *label;
    float *metric;
    float *box; /* x1, y1, x2, y2 */
} rtm_saved;

static size_t saved_layout(const rtm_geom *g, void *base, rtm_saved *s)
{
    size_t n = (size_t)(g->batch * g->priors), at = sscma_align_bytes(sizeof(double) + sizeof(int64_t));
    size_t label_at = at;
    at += sscma_align_bytes(n * sizeof(int32_t));
    size_t metric_at = at;
    at += sscma_align_bytes(n * sizeof(float));
    size_t box_at = at;
    at += sscma_align_bytes(4 * n * sizeof(float));
    if (s != NULL) {
        s->avg_factor = base;
        s->bbox_on = (int64_t *)((char *)base + sizeof(double));
        s->label = (int32_t *)((char *)base + label_at);
        s->metric = (float *)((char *)base + metric_at);
        s->box = (float *)((char *)base + box_at);
    }
    return at;
}

/* Scratch of the assignment of one image: the iou and cost matrices [G][priors] and per-prior state. */
typedef struct rtm_work {
    float *iou, *cost, *pred; /* pred: the decoded boxes, 4 per prior */
    int32_t *taken, *column;  /* how many boxes took the prior, and the (first) one */
    uint8_t *inside;
    int32_t *gt_rows;         /* the valid rows of the image */
    double *terms;            /* forward: each prior's class and box loss terms, 2 per prior of the batch */
} rtm_work;

static size_t work_layout(const rtm_geom *g, void *base, rtm_work *w)
{
    size_t n = (size_t)g->priors, m = (size_t)g->rows, at = 0;
    size_t offs[8];
    offs[0] = at, at += sscma_align_bytes(n * m * sizeof(float));
    offs[1] = at, at += sscma_align_bytes(n * m * sizeof(float));
    offs[2] = at, at += sscma_align_bytes(4 * n * sizeof(float));
    offs[3] = at, at += sscma_align_bytes(n * sizeof(int32_t));
    offs[4] = at, at += sscma_align_bytes(n * sizeof(int32_t));
    offs[5] = at, at += sscma_align_bytes(n);
    offs[6] = at, at += sscma_align_bytes(m * sizeof(int32_t));
    offs[7] = at, at += sscma_align_bytes(2 * (size_t)g->batch * n * sizeof(double));
    if (w != NULL) {
        char *b = base;
        w->iou = (float *)(b + offs[0]), w->cost = (float *)(b + offs[1]), w->pred = (float *)(b + offs[2]);
        w->taken = (int32_t *)(b + offs[3]), w->column = (int32_t *)(b + offs[4]);
        w->inside = (uint8_t *)(b + offs[5]), w->gt_rows = (int32_t *)(b + offs[6]);
        w->terms = (double *)(b + offs[7]);
    }
    return at;
}

static const char *const cls_names[LEVELS] = {"cls_0", "cls_1", "cls_2"};
static const char *const reg_names[LEVELS] = {"reg_0", "reg_1", "reg_2"};

static sscma_status rtmdet_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                 int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_rtmdet_loss_attrs *a = attrs;
    sscma_status st;
    char text[200];
    if (n_in != 2 * LEVELS + 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "takes 7 inputs (cls_0, cls_1, cls_2, reg_0, reg_1, reg_2, "
                          "targets), got %d", (int)n_in);
    if (a->n_strides != 0 && a->n_strides != LEVELS)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "strides take 3 numbers (or none for 8, 16, 32); got %d",
                          (int)a->n_strides);
    if (a->topk < 1 || a->topk > SSCMA_RTMDET_MAX_TOPK || !(a->iou_weight >= 0.0f) || !isfinite(a->iou_weight) ||
        !isfinite(a->soft_center_radius) ||
        !(a->beta > 0.0f) || !isfinite(a->beta) || !isfinite(a->loss_cls_weight) || !isfinite(a->loss_bbox_weight) ||
        !(a->eps > 0.0f) || !isfinite(a->eps))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "topk %d (expected 1..%d), iou_weight %g (expected >= 0), "
                          "soft_center_radius %g, beta %g (expected > 0), loss_cls_weight %g, loss_bbox_weight %g, "
                          "eps %g (expected > 0): expected finite values", (int)a->topk, SSCMA_RTMDET_MAX_TOPK,
                          (double)a->iou_weight,
                          (double)a->soft_center_radius, (double)a->beta, (double)a->loss_cls_weight,
                          (double)a->loss_bbox_weight, (double)a->eps);
    for (int l = 0; l < LEVELS; l++) {
        if ((st = sscma_desc_require(OP, cls_names[l], &in[l], SSCMA_DTYPE_F32, 4)) != SSCMA_OK ||
            (st = sscma_desc_require(OP, reg_names[l], &in[LEVELS + l], SSCMA_DTYPE_F32, 4)) != SSCMA_OK)
            return st;
        const sscma_desc *c = &in[l], *r = &in[LEVELS + l];
        if (c->dims[0] != in[0].dims[0] || c->dims[3] != in[0].dims[3] || c->dims[1] < 1 || c->dims[2] < 1 ||
            c->dims[3] < 1) {
            sscma_desc_format(c, text, sizeof text);
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "%s is %s; expected [B, H, W, classes] with cls_0's batch and "
                              "classes", cls_names[l], text);
        }
        if (r->dims[0] != c->dims[0] || r->dims[1] != c->dims[1] || r->dims[2] != c->dims[2] || r->dims[3] != 4) {
            sscma_desc_format(r, text, sizeof text);
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "%s is %s; expected [%lld, %lld, %lld, 4] (%s's map: left, top, "
                              "right, bottom)", reg_names[l], text, (long long)c->dims[0], (long long)c->dims[1],
                              (long long)c->dims[2], cls_names[l]);
        }
    }
    if ((st = sscma_desc_require(OP, "targets", &in[2 * LEVELS], SSCMA_DTYPE_F32, 3)) != SSCMA_OK)
        return st;
    if (in[2 * LEVELS].dims[0] != in[0].dims[0] || in[2 * LEVELS].dims[2] != 6) {
        sscma_desc_format(&in[2 * LEVELS], text, sizeof text);
        return sscma_fail(SSCMA_ERR_SHAPE, OP, "targets are %s; expected [%lld, max_boxes, 6] (class, x1, y1, x2, "
                          "y2, valid)", text, (long long)in[0].dims[0]);
    }
    rtm_geom g;
    geom_of(a, in, &g);
    /* every level covers the input cls_0 covers, to within its stride (catches maps given in another order) */
    const int64_t img_h = g.h[0] * g.strides[0], img_w = g.w[0] * g.strides[0];
    for (int l = 1; l < LEVELS; l++)
        if (g.h[l] * g.strides[l] < img_h - g.strides[l] || g.w[l] * g.strides[l] < img_w - g.strides[l] ||
            g.h[l] * g.strides[l] >= img_h + g.strides[l] || g.w[l] * g.strides[l] >= img_w + g.strides[l]) {
            sscma_desc_format(&in[l], text, sizeof text);
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "%s is %s: not the stride-%lld map of the %lldx%lld input cls_0 "
                              "(stride %lld) covers", cls_names[l], text, (long long)g.strides[l], (long long)img_h,
                              (long long)img_w, (long long)g.strides[0]);
        }
    /* the assignment's matrices: priors x rows floats, twice */
    if (g.rows > 0 && g.priors > (int64_t)(PTRDIFF_MAX / 16) / g.rows)
        return sscma_fail(SSCMA_ERR_OVERFLOW, OP, "%lld priors x %lld target rows: the assignment's cost matrix is "
                          "too large for memory", (long long)g.priors, (long long)g.rows);
    for (int32_t k = 0; k < 3; k++)
        out[k] = sscma_desc_make(SSCMA_DTYPE_F32, 0, NULL);
    *n_out = 3;
    sizes->saved_bytes = saved_layout(&g, NULL, NULL);
    sizes->workspace_bytes = work_layout(&g, NULL, NULL);
    return SSCMA_OK;
}

/* A valid row of targets takes part; a row with a non-finite corner is skipped (see docs/training.md). */
static bool row_is_gt(const float *row)
{
    return row[5] > 0.0f && isfinite(row[1]) && isfinite(row[2]) && isfinite(row[3]) && isfinite(row[4]);
}

/* Where prior p of image b lies: its point, stride and the offsets of its logits and distances in level l's maps. */
typedef struct prior_ref {
    int level;
    float px, py, stride;
    int64_t cell; /* (b H + y) W + x in the level's maps */
} prior_ref;

static prior_ref prior_of(const rtm_geom *g, int64_t b, int64_t p)
{
    prior_ref r;
    int l = 0;
    while (l + 1 < LEVELS && p >= g->first[l + 1])
        l++;
    int64_t q = p - g->first[l], y = q / g->w[l], x = q % g->w[l];
    r.level = l;
    r.px = (float)(x * g->strides[l]), r.py = (float)(y * g->strides[l]), r.stride = (float)g->strides[l];
    r.cell = (b * g->h[l] + y) * g->w[l] + x;
    return r;
}

/* mmyolo's bbox_overlaps (mode iou, not aligned) of two boxes in float32. */
static float iou_f32(const float *p, const float *t)
{
    float area1 = (p[2] - p[0]) * (p[3] - p[1]), area2 = (t[2] - t[0]) * (t[3] - t[1]);
    float w = fminf(p[2], t[2]) - fmaxf(p[0], t[0]), h = fminf(p[3], t[3]) - fmaxf(p[1], t[1]);
    w = w < 0.0f ? 0.0f : w, h = h < 0.0f ? 0.0f : h; /* clamp(min=0); NaN stays */
    float overlap = w * h;
    float uni = area1 + area2 - overlap;
    uni = uni > IOU_EPS ? uni : IOU_EPS;
    return overlap / uni;
}

/* torch's binary_cross_entropy_with_logits in float32: (1 - t) x + m + log(exp(-m) + exp(-x - m)), m = max(-x, 0). */
static float bce_f32(float x, float t)
{
    float m = -x > 0.0f ? -x : 0.0f;
    return (1.0f - t) * x + m + logf(expf(-m) + expf(-x - m));
}

/* a before b in an ascending sort of (value, index): NaN last, ties by index (a stable sort). */
static bool ascending_before(float a, int64_t ia, float b, int64_t ib)
{
    if (isnan(a) || isnan(b))
        return isnan(a) != isnan(b) ? !isnan(a) : ia < ib;
    return a < b || (a == b && ia < ib);
}

/*
 * The k (<= cap) smallest of v[0..n) by ascending_before into idx, in order (insertion into a short sorted list; k is
 * at most topk).
 */
static int64_t smallest_k(const float *v, int64_t n, int64_t k, int64_t *idx)
{
    int64_t have = 0;
    for (int64_t i = 0; i < n; i++) {
        if (have == k && !ascending_before(v[i], i, v[idx[k - 1]], idx[k - 1]))
            continue;
        int64_t j = have < k ? have++ : k - 1;
        while (j > 0 && ascending_before(v[i], i, v[idx[j - 1]], idx[j - 1])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    return have;
}

/* dynamic k of a box: max(1, trunc(float32 sum of its topk largest ious, largest first)), at most n. */
static int64_t dynamic_k(const float *iou, int64_t n, int64_t topk, int64_t *idx)
{
    int64_t cand = topk < n ? topk : n, have = 0;
    /* the largest: ascending order of -iou (NaN still last here, unlike torch.topk; only non-finite boxes give NaN) */
    for (int64_t i = 0; i < n; i++) {
        float v = -iou[i];
        if (have == cand && !ascending_before(v, i, -iou[idx[cand - 1]], idx[cand - 1]))
            continue;
        int64_t j = have < cand ? have++ : cand - 1;
        while (j > 0 && ascending_before(v, i, -iou[idx[j - 1]], idx[j - 1])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < have; j++)
        sum += iou[idx[j]];
    if (!(sum >= 1.0f))
        return 1;
    return sum >= (float)n ? n : (int64_t)sum;
}

/* One image's assignment inputs: its box columns (the valid rows, then zero rows up to `columns`). */
typedef struct cost_job {
    const sscma_rtmdet_loss_attrs *a;
    const rtm_geom *g;
    const sscma_op_exec *e;
    rtm_work *w;
    int64_t b, real, columns;
} cost_job;

static const float zero_row[6] = {0, 0, 0, 0, 0, 0};

static const float *gt_row(const cost_job *j, int64_t col)
{
    const float *targets = j->e->in[2 * LEVELS].data;
    return col < j->real ? targets + (j->b * j->g->rows + j->w->gt_rows[col]) * 6 : zero_row;
}

/* Priors [begin, end) of the image: decoded prediction, inside a box or not, and their iou and cost columns. */
static void cost_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const cost_job *j = arg;
    const rtm_geom *g = j->g;
    rtm_work *w = j->w;
    const int64_t n = g->priors;
    for (int64_t p = begin; p < end; p++) {
        prior_ref r = prior_of(g, j->b, p);
        const float *d = (const float *)j->e->in[LEVELS + r.level].data + r.cell * 4;
        float *q = w->pred + p * 4;
        q[0] = r.px - d[0], q[1] = r.py - d[1], q[2] = r.px + d[2], q[3] = r.py + d[3];
        bool in = false;
        for (int64_t col = 0; col < j->real && !in; col++) {
            const float *t = gt_row(j, col);
            float m = fminf(fminf(r.px - t[1], r.py - t[2]), fminf(t[3] - r.px, t[4] - r.py));
            in = m > 0.0f;
        }
        w->inside[p] = in;
        w->taken[p] = 0, w->column[p] = -1;
        const float *logits = (const float *)j->e->in[r.level].data + r.cell * g->classes;
        for (int64_t col = 0; col < j->columns; col++) {
            const float *t = gt_row(j, col);
            float iou = iou_f32(q, t + 1);
            w->iou[col * n + p] = iou;
            if (!in) {
                w->cost[col * n + p] = INF_COST;
                continue;
            }
            float cx = (t[1] + t[3]) / 2.0f, cy = (t[2] + t[4]) / 2.0f;
            float dx = r.px - cx, dy = r.py - cy;
            float dist = sqrtf(dx * dx + dy * dy) / r.stride;
            float soft = powf(10.0f, dist - j->a->soft_center_radius);
            float iou_cost = -logf(iou + LOG_EPS) * j->a->iou_weight;
            float x = logits[(int64_t)t[0]];
            float scale = iou - 1.0f / (1.0f + expf(-x));
            float cls_cost = bce_f32(x, iou) * (fabsf(scale) * fabsf(scale));
            w->cost[col * n + p] = cls_cost + iou_cost + soft;
        }
    }
}

/*
 * The assignment of image b into the saved per-prior state (BatchDynamicSoftLabelAssigner). The cost matrix is
 * split over the pool by priors (each element computed alone: the same bits on any thread count); the matching
 * runs on one thread.
 */
static void assign_image(const sscma_rtmdet_loss_attrs *a, const rtm_geom *g, const sscma_op_exec *e, int64_t b,
                         int64_t columns, rtm_work *w, rtm_saved *s)
{
    const float *targets = e->in[2 * LEVELS].data;
    const int64_t n = g->priors, C = g->classes;
    int32_t *label = s->label + b * n;
    float *metric = s->metric + b * n, *box = s->box + b * n * 4;
    for (int64_t p = 0; p < n; p++)
        label[p] = (int32_t)C, metric[p] = 0.0f;
    memset(box, 0, (size_t)(4 * n) * sizeof(float));
    if (columns == 0)
        return;
    cost_job job = {.a = a, .g = g, .e = e, .w = w, .b = b, .real = 0, .columns = columns};
    for (int64_t r = 0; r < g->rows; r++)
        if (row_is_gt(targets + (b * g->rows + r) * 6))
            w->gt_rows[job.real++] = (int32_t)r;
    const int64_t real = job.real;
    sscma_parallel_for(e->pool, n, 1 + 1024 / columns, cost_task, &job);
    int64_t idx[SSCMA_RTMDET_MAX_TOPK];
    const int64_t topk = a->topk; /* 1..SSCMA_RTMDET_MAX_TOPK (infer) */
    for (int64_t col = 0; col < real; col++) {
        int64_t k = dynamic_k(w->iou + col * n, n, topk, idx);
        k = smallest_k(w->cost + col * n, n, k, idx);
        for (int64_t j = 0; j < k; j++) {
            if (w->taken[idx[j]]++ == 0)
                w->column[idx[j]] = (int32_t)col;
        }
    }
    for (int64_t p = 0; p < n; p++) {
        if (w->taken[p] == 0)
            continue;
        int64_t col = w->column[p];
        if (w->taken[p] > 1) { /* the column of least cost among all of them (the first on ties) */
            col = 0;
            for (int64_t c2 = 1; c2 < columns; c2++)
                if (ascending_before(w->cost[c2 * n + p], c2, w->cost[col * n + p], col))
                    col = c2;
        }
        const float *t = gt_row(&job, col);
        label[p] = (int32_t)t[0];
        metric[p] = w->iou[col * n + p];
        memcpy(box + p * 4, t + 1, 4 * sizeof(float));
    }
}

/* QFL of logit x: target t at the assigned class (positive), else 0 with sigmoid^beta; with d, its derivative. */
static double qfl(double x, bool positive, double t, double beta, double *d)
{
    double s = sscma_sigmoid_d(x);
    if (!positive) {
        double sb = pow(s, beta), sp = sscma_softplus_d(x);
        if (d != NULL)
            *d = s * sb + sp * beta * (s > 0.0 ? sb / s : 0.0) * s * (1.0 - s);
        return sp * sb;
    }
    double diff = t - s, ad = fabs(diff), mod = pow(ad, beta), l = sscma_bce_logits_d(x, t);
    if (d != NULL) {
        double dmod = ad > 0.0 ? beta * pow(ad, beta - 1.0) * (diff > 0.0 ? 1.0 : -1.0) * -(s * (1.0 - s)) : 0.0;
        *d = (s - t) * mod + l * dmod;
    }
    return l * mod;
}

/*
 * mmdet's bbox_overlaps(mode giou, aligned) of prediction p with target t (x1, y1, x2, y2), in double; with grad,
 * also d giou / d p.
 */
static double giou(const double *p, const double *t, double eps, double grad[4])
{
    double area1 = (p[2] - p[0]) * (p[3] - p[1]), area2 = (t[2] - t[0]) * (t[3] - t[1]);
    double wr = fmin(p[2], t[2]) - fmax(p[0], t[0]), hr = fmin(p[3], t[3]) - fmax(p[1], t[1]);
    double w = fmax(wr, 0.0), h = fmax(hr, 0.0), overlap = w * h;
    double ur = area1 + area2 - overlap, u = fmax(ur, eps);
    double iou = overlap / u;
    double ewr = fmax(p[2], t[2]) - fmin(p[0], t[0]), ehr = fmax(p[3], t[3]) - fmin(p[1], t[1]);
    double ew = fmax(ewr, 0.0), eh = fmax(ehr, 0.0), er = ew * eh, en = fmax(er, eps);
    double gi = iou - (en - u) / en;
    if (grad == NULL)
        return gi;
    double dw = wr >= 0.0 ? 1.0 : 0.0, dh = hr >= 0.0 ? 1.0 : 0.0, dew = ewr >= 0.0 ? 1.0 : 0.0,
           deh = ehr >= 0.0 ? 1.0 : 0.0;
    double d_ov[4], d_area[4], d_en[4];
    d_ov[0] = h * dw * -sscma_dmax_a(p[0], t[0]);
    d_ov[2] = h * dw * sscma_dmin_a(p[2], t[2]);
    d_ov[1] = w * dh * -sscma_dmax_a(p[1], t[1]);
    d_ov[3] = w * dh * sscma_dmin_a(p[3], t[3]);
    d_area[0] = -(p[3] - p[1]), d_area[2] = p[3] - p[1], d_area[1] = -(p[2] - p[0]), d_area[3] = p[2] - p[0];
    double du_dur = sscma_dmax_a(ur, eps), den_der = sscma_dmax_a(er, eps);
    d_en[0] = den_der * eh * dew * -sscma_dmin_a(p[0], t[0]);
    d_en[2] = den_der * eh * dew * sscma_dmax_a(p[2], t[2]);
    d_en[1] = den_der * ew * deh * -sscma_dmin_a(p[1], t[1]);
    d_en[3] = den_der * ew * deh * sscma_dmax_a(p[3], t[3]);
    for (int i = 0; i < 4; i++) {
        double d_u = du_dur * (d_area[i] - d_ov[i]);
        double d_iou = (d_ov[i] * u - overlap * d_u) / (u * u);
        grad[i] = d_iou + d_u / en - u * d_en[i] / (en * en);
    }
    return gi;
}

/* The decoded prediction of prior p of image b in double (the points are exact). */
static void pred_box(const rtm_geom *g, const sscma_op_exec *e, int64_t b, int64_t p, double q[4], prior_ref *r)
{
    *r = prior_of(g, b, p);
    const float *d = (const float *)e->in[LEVELS + r->level].data + r->cell * 4;
    q[0] = (double)r->px - d[0], q[1] = (double)r->py - d[1], q[2] = (double)r->px + d[2], q[3] = (double)r->py + d[3];
}

static void exec_setup(const sscma_op_exec *e, rtm_geom *g, rtm_saved *s)
{
    sscma_desc in[2 * LEVELS + 1];
    sscma_exec_in_descs(e, in);
    geom_of(e->attrs, in, g);
    saved_layout(g, e->saved, s);
}

/* The losses of the priors given the assignment: forward terms or backward gradients, split over the pool by prior. */
typedef struct loss_job {
    const sscma_rtmdet_loss_attrs *a;
    const rtm_geom *g;
    const sscma_op_exec *e;
    const rtm_saved *s;
    double *terms;        /* forward */
    const sscma_buf *din; /* backward */
    double k_cls, k_box;  /* backward: d total / d (sum of terms), with the upstream gradients */
} loss_job;

/* Terms of priors [begin, end) of the batch: the QFL over the classes and metric (1 - giou) of a positive. */
static void terms_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const loss_job *j = arg;
    const rtm_geom *g = j->g;
    for (int64_t i = begin; i < end; i++) {
        double q[4], cls = 0.0, box = 0.0;
        prior_ref r;
        pred_box(g, j->e, i / g->priors, i % g->priors, q, &r);
        const float *x = (const float *)j->e->in[r.level].data + r.cell * g->classes;
        for (int64_t c = 0; c < g->classes; c++)
            cls += qfl(x[c], c == j->s->label[i], j->s->metric[i], j->a->beta, NULL);
        if (j->s->label[i] < g->classes && *j->s->bbox_on) {
            const float *t = j->s->box + i * 4;
            double tb[4] = {t[0], t[1], t[2], t[3]};
            box = (double)j->s->metric[i] * (1.0 - giou(q, tb, j->a->eps, NULL));
        }
        j->terms[2 * i] = cls, j->terms[2 * i + 1] = box;
    }
}

/* Gradients of priors [begin, end): each writes only its own cell of the maps. */
static void grads_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const loss_job *j = arg;
    const rtm_geom *g = j->g;
    const rtm_saved *s = j->s;
    for (int64_t i = begin; i < end; i++) {
        double q[4];
        prior_ref r;
        pred_box(g, j->e, i / g->priors, i % g->priors, q, &r);
        if (j->din[r.level].data != NULL) {
            const float *x = (const float *)j->e->in[r.level].data + r.cell * g->classes;
            float *dx = (float *)j->din[r.level].data + r.cell * g->classes;
            for (int64_t c = 0; c < g->classes; c++) {
                double d;
                qfl(x[c], c == s->label[i], s->metric[i], j->a->beta, &d);
                dx[c] += (float)(j->k_cls * d);
            }
        }
        if (s->label[i] >= g->classes || !*s->bbox_on || j->din[LEVELS + r.level].data == NULL)
            continue;
        const float *t = s->box + i * 4;
        double tb[4] = {t[0], t[1], t[2], t[3]}, grad[4];
        giou(q, tb, j->a->eps, grad);
        /* x1 = px - left, y1 = py - top, x2 = px + right, y2 = py + bottom */
        float *dd = (float *)j->din[LEVELS + r.level].data + r.cell * 4;
        const double kw = j->k_box * (double)s->metric[i];
        dd[0] += (float)(kw * -grad[0]);
        dd[1] += (float)(kw * -grad[1]);
        dd[2] += (float)(kw * grad[2]);
        dd[3] += (float)(kw * grad[3]);
    }
}

static sscma_status rtmdet_forward(const sscma_op_exec *e)
{
    const sscma_rtmdet_loss_attrs *a = e->attrs;
    rtm_geom g;
    rtm_saved s;
    rtm_work w;
    exec_setup(e, &g, &s);
    work_layout(&g, e->workspace, &w);
    const float *targets = e->in[2 * LEVELS].data;
    int64_t columns = 0;
    for (int64_t b = 0; b < g.batch; b++) {
        int64_t real = 0;
        for (int64_t r = 0; r < g.rows; r++) {
            const float *row = targets + (b * g.rows + r) * 6;
            if (row[5] > 0.0f && !(row[0] >= 0.0f && row[0] < (float)g.classes && row[0] == floorf(row[0])))
                return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "targets[%lld, %lld]: class %g; expected 0..%lld",
                                  (long long)b, (long long)r, (double)row[0], (long long)g.classes - 1);
            real += row_is_gt(row);
        }
        columns = real > columns ? real : columns;
    }
    for (int64_t b = 0; b < g.batch; b++)
        assign_image(a, &g, e, b, columns, &w, &s);
    /* A: float32 total of the metrics (rounded once), at least 1 */
    double metric_sum = 0.0;
    bool any_positive_metric = false;
    const int64_t n = g.batch * g.priors;
    for (int64_t i = 0; i < n; i++) {
        metric_sum += (double)s.metric[i];
        any_positive_metric |= s.label[i] < g.classes && s.metric[i] > 0.0f;
    }
    float avg = (float)metric_sum;
    *s.avg_factor = avg >= 1.0f ? (double)avg : 1.0;
    *s.bbox_on = any_positive_metric;
    loss_job job = {.a = a, .g = &g, .e = e, .s = &s, .terms = w.terms};
    sscma_parallel_for(e->pool, n, 64, terms_task, &job);
    double cls_sum = 0.0, box_sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        cls_sum += w.terms[2 * i], box_sum += w.terms[2 * i + 1];
    double loss_cls = (double)a->loss_cls_weight * cls_sum / *s.avg_factor;
    double loss_bbox = (double)a->loss_bbox_weight * box_sum / *s.avg_factor;
    *(float *)e->out[0].data = (float)(loss_cls + loss_bbox);
    *(float *)e->out[1].data = (float)loss_cls;
    *(float *)e->out[2].data = (float)loss_bbox;
    return SSCMA_OK;
}

static void rtmdet_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_rtmdet_loss_attrs *a = e->attrs;
    rtm_geom g;
    rtm_saved s;
    exec_setup(e, &g, &s);
    const double total = *(const float *)dout[0].data;
    loss_job job = {.a = a, .g = &g, .e = e, .s = &s, .din = din};
    job.k_cls = (total + *(const float *)dout[1].data) * (double)a->loss_cls_weight / *s.avg_factor;
    job.k_box = -(total + *(const float *)dout[2].data) * (double)a->loss_bbox_weight / *s.avg_factor;
    sscma_parallel_for(e->pool, g.batch * g.priors, 64, grads_task, &job);
}

const sscma_op_def sscma_op_rtmdet_loss = {
    .id = SSCMA_OP_RTMDET_LOSS,
    .name = "rtmdet_loss", .attrs_size = sizeof(sscma_rtmdet_loss_attrs), .min_inputs = 7, .max_inputs = 7,
    .nondiff_inputs = 1u << (2 * LEVELS),
    .infer = rtmdet_infer, .forward = rtmdet_forward, .backward = rtmdet_backward,
    .attr_fields = rtmdet_fields,
};
