/*
 * yolov5_loss: mmyolo's YOLOv5Head.loss_by_feat (as ModelAssistant 2.0.0's sscma.YOLOV5Head runs it), forward and
 * backward. Inputs p3, p4, p5 f32 [B, H_l, W_l, 3 (5 + C)] (raw logits, channel a (5 + C) + k) and targets
 * f32 [B, M, 6] (class, x1, y1, x2, y2 in input pixels, valid > 0). Outputs total, loss_cls, loss_bbox, loss_obj.
 *
 * Assignment, per level l with map W x H and priors P_a = anchor_a / stride_l (grid units), in float32 as mmyolo:
 *   box (cx, cy, w, h) = ((x1 + x2) / 2 / img_w * W, (y1 + y2) / 2 / img_h * H, (x2 - x1) / img_w * W, ...);
 *   prior a takes the box when max(r, 1 / r) < prior_match_thr for both r = w / P_a.w and h / P_a.h;
 *   cells: the centre's, plus left when frac(cx) < t and cx > 1, up when frac(cy) < t and cy > 1, right when
 *   frac(W - cx) < t and W - cx > 1, bottom likewise (t = near_neighbor_thr): cell = trunc((cx, cy) - offset * t)
 *   with offsets (0,0), (1,0), (0,1), (-1,0), (0,-1); the target box is (cx - gx, cy - gy, w, h).
 *   Positives are ordered offset, prior, image, row (mmyolo's order); a cell taken twice keeps the last IoU.
 * Prediction of a positive: s = sigmoid(raw), (2 s_x - 0.5, 2 s_y - 0.5, (2 s_w)^2 P.w, (2 s_h)^2 P.h).
 * CIoU (mmyolo's bbox_overlaps, xywh, eps): iou - rho^2 / c^2 - alpha v, alpha = v / (v - iou + 1 + eps) held
 *   constant (no_grad), clamped to [-1, 1].
 * loss_bbox = w_bbox sum_l mean_pos(1 - ciou);  loss_obj = w_obj sum_l lw_l mean_all BCE(obj, clamp(ciou, 0, 1))
 *   (the IoU detached);  loss_cls = w_cls sum_l mean_{pos, c} BCE(cls, one-hot) when C > 1, else 0.
 * Each is multiplied by B (mmyolo's `loss * batch_size * world_size`, one process); total = the sum of the three.
 * A level without positives adds nothing to loss_bbox and loss_cls. Backward: the gradients of the three raw maps
 * (the targets take none); d total and each part's own upstream gradient add up.
 * Sums run in double in a fixed order on one thread.
 */
#include <math.h>
#include <string.h>

#include "ops/kernels.h"
#include "ops/op.h"

#define OP "yolov5_loss"
#define LEVELS SSCMA_YOLO_LEVELS
#define PRIORS SSCMA_YOLO_PRIORS
#define OFFSETS 5

static const float default_anchors[2 * PRIORS * LEVELS] = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45,
                                                          59, 119, 116, 90, 156, 198, 373, 326};
static const int64_t default_strides[LEVELS] = {8, 16, 32};
static const float default_level_weights[LEVELS] = {4.0f, 1.0f, 0.4f};
/* mmyolo's grid_offset rows: centre, left, up, right, bottom */
static const float grid_offsets[OFFSETS][2] = {{0, 0}, {1, 0}, {0, 1}, {-1, 0}, {0, -1}};

static const sscma_attr_field yolo_fields[] = {
    SSCMA_FIELD_LIST_AS("anchors", sscma_yolov5_loss_attrs, anchors,
                        (int32_t)offsetof(sscma_yolov5_loss_attrs, n_anchors), 0, 0, 0, -1, 0),
    SSCMA_FIELD_LIST_AS("strides", sscma_yolov5_loss_attrs, strides,
                        (int32_t)offsetof(sscma_yolov5_loss_attrs, n_strides), 0, 0, 1, 1024, 0),
    SSCMA_FIELD_LIST_AS("obj_level_weights", sscma_yolov5_loss_attrs, obj_level_weights,
                        (int32_t)offsetof(sscma_yolov5_loss_attrs, n_obj_level_weights), 0, 0, 0, -1, 0),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, prior_match_thr, SSCMA_ATTR_F32, 4.0),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, near_neighbor_thr, SSCMA_ATTR_F32, 0.5),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, loss_cls_weight, SSCMA_ATTR_F32, 0.5),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, loss_bbox_weight, SSCMA_ATTR_F32, 0.05),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, loss_obj_weight, SSCMA_ATTR_F32, 1.0),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, eps, SSCMA_ATTR_F32, 1e-7),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, img_h, SSCMA_ATTR_I64, 0),
    SSCMA_ATTR(sscma_yolov5_loss_attrs, img_w, SSCMA_ATTR_I64, 0),
    SSCMA_ATTR_END,
};

/* One positive sample: where its prediction is and what it is compared with. */
typedef struct yolo_pos {
    int32_t img, prior, gy, gx, cls;
    float tbox[4]; /* target centre relative to the cell, width, height (grid units) */
} yolo_pos;

/* The shapes and resolved attributes one call works with. */
typedef struct yolo_geom {
    int64_t batch, rows, classes, per_prior; /* per_prior = 5 + C */
    int64_t h[LEVELS], w[LEVELS];
    float anchors[2 * PRIORS * LEVELS];
    int64_t strides[LEVELS];
    float level_weights[LEVELS];
    int64_t img_h, img_w;
    size_t obj_offset[LEVELS]; /* floats into the saved objectness targets */
    size_t pos_capacity;       /* positives per level */
} yolo_geom;

static void geom_of(const sscma_yolov5_loss_attrs *a, const sscma_desc *in, yolo_geom *g)
{
    memset(g, 0, sizeof *g);
    g->batch = in[0].dims[0];
    g->rows = in[LEVELS].dims[1];
    g->per_prior = in[0].dims[3] / PRIORS;
    g->classes = g->per_prior - 5;
    memcpy(g->anchors, a->n_anchors > 0 ? a->anchors : default_anchors, sizeof g->anchors);
    memcpy(g->strides, a->n_strides > 0 ? a->strides : default_strides, sizeof g->strides);
    memcpy(g->level_weights, a->n_obj_level_weights > 0 ? a->obj_level_weights : default_level_weights,
           sizeof g->level_weights);
    size_t off = 0;
    for (int l = 0; l < LEVELS; l++) {
        g->h[l] = in[l].dims[1], g->w[l] = in[l].dims[2];
        g->obj_offset[l] = off;
        off += (size_t)(g->batch * PRIORS * g->h[l] * g->w[l]);
    }
    g->img_h = a->img_h > 0 ? a->img_h : g->h[0] * g->strides[0];
    g->img_w = a->img_w > 0 ? a->img_w : g->w[0] * g->strides[0];
    g->pos_capacity = (size_t)(OFFSETS * PRIORS * g->batch * g->rows);
}

/* The saved state: positive counts, objectness targets of every level, then the positives of each level. */
typedef struct yolo_saved {
    int64_t *n_pos;
    float *obj_target;
    yolo_pos *pos[LEVELS];
} yolo_saved;

static size_t obj_floats(const yolo_geom *g)
{
    return g->obj_offset[LEVELS - 1] + (size_t)(g->batch * PRIORS * g->h[LEVELS - 1] * g->w[LEVELS - 1]);
}

static size_t saved_layout(const yolo_geom *g, void *base, yolo_saved *s)
{
    size_t at = sscma_align_bytes(LEVELS * sizeof(int64_t));
    size_t obj_at = at;
    at += sscma_align_bytes(obj_floats(g) * sizeof(float));
    if (s != NULL) {
        s->n_pos = base;
        s->obj_target = (float *)((char *)base + obj_at);
    }
    for (int l = 0; l < LEVELS; l++) {
        if (s != NULL)
            s->pos[l] = (yolo_pos *)((char *)base + at);
        at += sscma_align_bytes(g->pos_capacity * sizeof(yolo_pos));
    }
    return at;
}

static sscma_status yolo_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                               int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_yolov5_loss_attrs *a = attrs;
    sscma_status st;
    char text[200];
    if (n_in != LEVELS + 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "takes 4 inputs (p3, p4, p5, targets), got %d", (int)n_in);
    if ((a->n_anchors != 0 && a->n_anchors != 2 * PRIORS * LEVELS) || (a->n_strides != 0 && a->n_strides != LEVELS) ||
        (a->n_obj_level_weights != 0 && a->n_obj_level_weights != LEVELS))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "anchors take 18 numbers (w, h of 3 priors on 3 levels), "
                          "strides and obj_level_weights 3 (or none for SSCMA's); got %d, %d and %d",
                          (int)a->n_anchors, (int)a->n_strides, (int)a->n_obj_level_weights);
    for (int i = 0; i < a->n_anchors; i++)
        if (!(a->anchors[i] > 0.0f) || !isfinite(a->anchors[i]))
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "anchor value %d is %g; expected a positive size",
                              i, (double)a->anchors[i]);
    if (!(a->prior_match_thr > 1.0f) || !(a->near_neighbor_thr >= 0.0f && a->near_neighbor_thr <= 1.0f) ||
        !(a->eps >= 0.0f) || a->img_h < 0 || a->img_w < 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "prior_match_thr %g (expected > 1), near_neighbor_thr %g "
                          "(expected 0..1), eps %g (expected >= 0), img_h %lld, img_w %lld (expected >= 0)",
                          (double)a->prior_match_thr, (double)a->near_neighbor_thr, (double)a->eps,
                          (long long)a->img_h, (long long)a->img_w);
    static const char *const names[LEVELS] = {"p3", "p4", "p5"};
    for (int l = 0; l < LEVELS; l++) {
        if ((st = sscma_desc_require(OP, names[l], &in[l], SSCMA_DTYPE_F32, 4)) != SSCMA_OK)
            return st;
        int64_t ch = in[l].dims[3];
        if (ch % PRIORS != 0 || ch / PRIORS < 6 || ch != in[0].dims[3] || in[l].dims[0] != in[0].dims[0] ||
            in[l].dims[1] < 1 || in[l].dims[2] < 1) {
            sscma_desc_format(&in[l], text, sizeof text);
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "%s is %s; expected [B, H, W, 3 (5 + classes)] with p3's batch "
                              "and channels", names[l], text);
        }
    }
    if ((st = sscma_desc_require(OP, "targets", &in[LEVELS], SSCMA_DTYPE_F32, 3)) != SSCMA_OK)
        return st;
    if (in[LEVELS].dims[0] != in[0].dims[0] || in[LEVELS].dims[2] != 6) {
        sscma_desc_format(&in[LEVELS], text, sizeof text);
        return sscma_fail(SSCMA_ERR_SHAPE, OP, "targets are %s; expected [%lld, max_boxes, 6] (class, x1, y1, x2, "
                          "y2, valid)", text, (long long)in[0].dims[0]);
    }
    yolo_geom g;
    geom_of(a, in, &g);
    for (int l = 0; l < LEVELS; l++)
        if (g.h[l] * g.strides[l] < g.img_h - g.strides[l] || g.w[l] * g.strides[l] < g.img_w - g.strides[l] ||
            g.h[l] * g.strides[l] >= g.img_h + g.strides[l] || g.w[l] * g.strides[l] >= g.img_w + g.strides[l]) {
            sscma_desc_format(&in[l], text, sizeof text);
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "%s is %s: not a stride-%lld map of a %lldx%lld input",
                              names[l], text, (long long)g.strides[l], (long long)g.img_h, (long long)g.img_w);
        }
    for (int32_t k = 0; k < 4; k++)
        out[k] = sscma_desc_make(SSCMA_DTYPE_F32, 0, NULL);
    *n_out = 4;
    sizes->saved_bytes = saved_layout(&g, NULL, NULL);
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/* Python's x % 1 for a float (torch.remainder): the fraction, in [0, 1). */
static float frac1(float x)
{
    float m = fmodf(x, 1.0f);
    return m < 0.0f ? m + 1.0f : m;
}

/* Whether neighbour offset o (1..4) of a box centred at (cx, cy) on a w x h map is a positive too. */
static bool offset_applies(int o, float cx, float cy, float wf, float hf, float t)
{
    switch (o) {
    case 0: return true;
    case 1: return frac1(cx) < t && cx > 1.0f;
    case 2: return frac1(cy) < t && cy > 1.0f;
    case 3: return frac1(wf - cx) < t && wf - cx > 1.0f;
    case 4: return frac1(hf - cy) < t && hf - cy > 1.0f;
    }
    return false;
}

/*
 * mmyolo's (grid_xy - offset * t).long(): truncation toward zero. Values off the map by more than a cell (only from
 * boxes outside the image) are first brought to -1 or n, so the conversion is always defined.
 */
static int64_t cell_index(float f, int64_t n)
{
    if (!(f > -1.0f))
        return -1;
    if (f >= (float)n + 1.0f)
        return n;
    return (int64_t)f;
}

/* The box of a target row scaled to level l's grid (float32, mmyolo's order of operations). */
static void scaled_box(const yolo_geom *g, int l, const float *row, float box[4])
{
    const float ih = (float)g->img_h, iw = (float)g->img_w, wf = (float)g->w[l], hf = (float)g->h[l];
    box[0] = (row[3] + row[1]) / 2.0f / iw * wf;
    box[1] = (row[4] + row[2]) / 2.0f / ih * hf;
    box[2] = (row[3] - row[1]) / iw * wf;
    box[3] = (row[4] - row[2]) / ih * hf;
}

/* Positives of level l into pos (mmyolo's order); returns their count. */
static int64_t assign_level(const yolo_geom *g, const sscma_yolov5_loss_attrs *a, int l, const float *targets,
                            yolo_pos *pos)
{
    const float wf = (float)g->w[l], hf = (float)g->h[l], t = a->near_neighbor_thr;
    float prior[PRIORS][2];
    for (int p = 0; p < PRIORS; p++)
        for (int k = 0; k < 2; k++)
            prior[p][k] = g->anchors[(l * PRIORS + p) * 2 + k] / (float)g->strides[l];
    int64_t n = 0;
    for (int o = 0; o < OFFSETS; o++)
        for (int p = 0; p < PRIORS; p++)
            for (int64_t b = 0; b < g->batch; b++)
                for (int64_t r = 0; r < g->rows; r++) {
                    const float *row = targets + (b * g->rows + r) * 6;
                    if (!(row[5] > 0.0f))
                        continue;
                    float box[4];
                    scaled_box(g, l, row, box);
                    if (!(isfinite(box[0]) && isfinite(box[1]) && isfinite(box[2]) && isfinite(box[3])))
                        continue; /* mmyolo: a NaN ratio matches nothing; a NaN centre would index anywhere */
                    float rw = box[2] / prior[p][0], rh = box[3] / prior[p][1];
                    float worst = fmaxf(fmaxf(rw, 1.0f / rw), fmaxf(rh, 1.0f / rh));
                    if (!(worst < a->prior_match_thr) || !offset_applies(o, box[0], box[1], wf, hf, t))
                        continue;
                    int64_t gx = cell_index(box[0] - grid_offsets[o][0] * t, g->w[l]);
                    int64_t gy = cell_index(box[1] - grid_offsets[o][1] * t, g->h[l]);
                    yolo_pos *q = &pos[n++];
                    q->tbox[0] = box[0] - (float)gx, q->tbox[1] = box[1] - (float)gy;
                    q->tbox[2] = box[2], q->tbox[3] = box[3];
                    /* a centre on the map's far edge (a degenerate box) stays on the map */
                    q->gx = (int32_t)(gx < 0 ? 0 : gx >= g->w[l] ? g->w[l] - 1 : gx);
                    q->gy = (int32_t)(gy < 0 ? 0 : gy >= g->h[l] ? g->h[l] - 1 : gy);
                    q->img = (int32_t)b, q->prior = p, q->cls = (int32_t)row[0];
                }
    return n;
}

/* The raw channels of prior p at (img, gy, gx) of level map x. */
static const float *cell_of(const yolo_geom *g, int l, const float *x, const yolo_pos *q)
{
    return x + ((((int64_t)q->img * g->h[l] + q->gy) * g->w[l] + q->gx) * PRIORS + q->prior) * g->per_prior;
}

/*
 * CIoU of the decoded prediction of raw box logits r (prior size pw, ph) with the target t (cx, cy, w, h), clamped to
 * [-1, 1]; with grad != NULL, also d ciou / d r (zero where the clamp is active).
 */
static double ciou(const float *r, float pw, float ph, const float *t, double eps, double grad[4])
{
    double s[4];
    for (int k = 0; k < 4; k++)
        s[k] = sscma_sigmoid_d(r[k]);
    double cx = 2.0 * s[0] - 0.5, cy = 2.0 * s[1] - 0.5;
    double w = 4.0 * s[2] * s[2] * pw, h = 4.0 * s[3] * s[3] * ph;
    /* corners: prediction a (x1, y1, x2, y2), target b */
    double a1x = cx - w / 2, a1y = cy - h / 2, a2x = cx + w / 2, a2y = cy + h / 2;
    double b1x = (double)t[0] - (double)t[2] / 2, b1y = (double)t[1] - (double)t[3] / 2;
    double b2x = (double)t[0] + (double)t[2] / 2, b2y = (double)t[1] + (double)t[3] / 2;
    double iw = fmin(a2x, b2x) - fmax(a1x, b1x), ih = fmin(a2y, b2y) - fmax(a1y, b1y);
    double ov = fmax(iw, 0.0) * fmax(ih, 0.0);
    double w1 = a2x - a1x, h1 = a2y - a1y, w2 = b2x - b1x, h2 = b2y - b1y;
    double uni = w1 * h1 + w2 * h2 - ov + eps;
    double iou = ov / uni;
    double ew = fmax(fmax(a2x, b2x) - fmin(a1x, b1x), 0.0), eh = fmax(fmax(a2y, b2y) - fmin(a1y, b1y), 0.0);
    double c2 = ew * ew + eh * eh + eps;
    double dx = (b1x + b2x) - (a1x + a2x), dy = (b1y + b2y) - (a1y + a2y);
    double rho2 = dx * dx / 4 + dy * dy / 4;
    double h1e = h1 + eps, h2e = h2 + eps;
    const double pi = 3.14159265358979323846, k = 4.0 / (pi * pi);
    double at = atan(w2 / h2e) - atan(w1 / h1e);
    double v = k * at * at;
    double alpha = v / (v - iou + (1.0 + eps));
    double c = iou - (rho2 / c2 + alpha * v);
    double clamped = c < -1.0 ? -1.0 : c > 1.0 ? 1.0 : c;
    if (grad == NULL)
        return clamped;
    if (c < -1.0 || c > 1.0) {
        memset(grad, 0, 4 * sizeof *grad);
        return clamped;
    }
    /* d over the prediction's corners: index 0 x1, 1 y1, 2 x2, 3 y2 */
    double d_ov[4], d_uni[4], d_c2[4], d_rho2[4], d_v[4], d[4];
    double div = iw >= 0.0 ? fmax(ih, 0.0) : 0.0, dih = ih >= 0.0 ? fmax(iw, 0.0) : 0.0; /* d ov / d iw, d ih */
    d_ov[0] = div * -sscma_dmin_a(-a1x, -b1x); /* max(a, b) = -min(-a, -b) */
    d_ov[2] = div * sscma_dmin_a(a2x, b2x);
    d_ov[1] = dih * -sscma_dmin_a(-a1y, -b1y);
    d_ov[3] = dih * sscma_dmin_a(a2y, b2y);
    double dew = ew >= 0.0 ? 1.0 : 0.0, deh = eh >= 0.0 ? 1.0 : 0.0;
    d_c2[0] = 2.0 * ew * dew * -sscma_dmin_a(a1x, b1x);
    d_c2[2] = 2.0 * ew * dew * sscma_dmin_a(-a2x, -b2x);
    d_c2[1] = 2.0 * eh * deh * -sscma_dmin_a(a1y, b1y);
    d_c2[3] = 2.0 * eh * deh * sscma_dmin_a(-a2y, -b2y);
    d_rho2[0] = d_rho2[2] = -dx / 2, d_rho2[1] = d_rho2[3] = -dy / 2;
    /* v: d atan(w1 / h1e) = (dw1 / h1e - w1 dh1 / h1e^2) / (1 + (w1 / h1e)^2) */
    double u = w1 / h1e, datan = 1.0 / (1.0 + u * u), dv_datan1 = -2.0 * k * at;
    double dv_dw1 = dv_datan1 * datan / h1e, dv_dh1 = dv_datan1 * datan * -w1 / (h1e * h1e);
    d_v[0] = -dv_dw1, d_v[2] = dv_dw1, d_v[1] = -dv_dh1, d_v[3] = dv_dh1;
    /* union: d(w1 h1) - d ov */
    d_uni[0] = -h1 - d_ov[0], d_uni[2] = h1 - d_ov[2], d_uni[1] = -w1 - d_ov[1], d_uni[3] = w1 - d_ov[3];
    for (int i = 0; i < 4; i++) {
        double d_iou = (d_ov[i] * uni - ov * d_uni[i]) / (uni * uni);
        d[i] = d_iou - (d_rho2[i] / c2 - rho2 * d_c2[i] / (c2 * c2)) - alpha * d_v[i];
    }
    /* corners -> centre and size -> raw logits */
    double d_cx = d[0] + d[2], d_cy = d[1] + d[3], d_w = (d[2] - d[0]) / 2, d_h = (d[3] - d[1]) / 2;
    grad[0] = d_cx * 2.0 * s[0] * (1.0 - s[0]);
    grad[1] = d_cy * 2.0 * s[1] * (1.0 - s[1]);
    grad[2] = d_w * 8.0 * s[2] * s[2] * (1.0 - s[2]) * pw;
    grad[3] = d_h * 8.0 * s[3] * s[3] * (1.0 - s[3]) * ph;
    return clamped;
}

static void prior_size(const yolo_geom *g, int l, int p, float *pw, float *ph)
{
    *pw = g->anchors[(l * PRIORS + p) * 2] / (float)g->strides[l];
    *ph = g->anchors[(l * PRIORS + p) * 2 + 1] / (float)g->strides[l];
}

/* The geometry of a call and where its saved state lies. */
static void exec_setup(const sscma_op_exec *e, yolo_geom *g, yolo_saved *s)
{
    sscma_desc in[LEVELS + 1];
    sscma_exec_in_descs(e, in);
    geom_of(e->attrs, in, g);
    saved_layout(g, e->saved, s);
}

static sscma_status yolo_forward(const sscma_op_exec *e)
{
    const sscma_yolov5_loss_attrs *a = e->attrs;
    yolo_geom g;
    yolo_saved s;
    exec_setup(e, &g, &s);
    const float *targets = e->in[LEVELS].data;
    for (int64_t b = 0; b < g.batch; b++)
        for (int64_t r = 0; r < g.rows; r++) {
            const float *row = targets + (b * g.rows + r) * 6;
            if (row[5] > 0.0f && !(row[0] >= 0.0f && row[0] < (float)g.classes && row[0] == floorf(row[0])))
                return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "targets[%lld, %lld]: class %g; expected 0..%lld",
                                  (long long)b, (long long)r, (double)row[0], (long long)g.classes - 1);
        }
    double cls = 0.0, box = 0.0, obj = 0.0;
    memset(s.obj_target, 0, obj_floats(&g) * sizeof(float));
    for (int l = 0; l < LEVELS; l++) {
        const float *x = e->in[l].data;
        int64_t n = s.n_pos[l] = assign_level(&g, a, l, targets, s.pos[l]);
        float *tobj = s.obj_target + g.obj_offset[l];
        double box_sum = 0.0, cls_sum = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const yolo_pos *q = &s.pos[l][i];
            const float *cell = cell_of(&g, l, x, q);
            float pw, ph;
            prior_size(&g, l, q->prior, &pw, &ph);
            double iou = ciou(cell, pw, ph, q->tbox, a->eps, NULL);
            box_sum += 1.0 - iou;
            tobj[((q->img * g.h[l] + q->gy) * g.w[l] + q->gx) * PRIORS + q->prior] = (float)(iou > 0.0 ? iou : 0.0);
            if (g.classes > 1)
                for (int64_t c = 0; c < g.classes; c++)
                    cls_sum += sscma_bce_logits_d(cell[5 + c], c == q->cls ? 1.0 : 0.0);
        }
        if (n > 0) {
            box += (double)a->loss_bbox_weight * box_sum / (double)n;
            if (g.classes > 1)
                cls += (double)a->loss_cls_weight * cls_sum / (double)(n * g.classes);
        }
        int64_t cells = g.batch * g.h[l] * g.w[l] * PRIORS;
        double obj_sum = 0.0;
        for (int64_t i = 0; i < cells; i++)
            obj_sum += sscma_bce_logits_d(x[i * g.per_prior + 4], tobj[i]);
        obj += (double)a->loss_obj_weight * (double)g.level_weights[l] * obj_sum / (double)cells;
    }
    double scale = (double)g.batch;
    *(float *)e->out[1].data = (float)(cls * scale);
    *(float *)e->out[2].data = (float)(box * scale);
    *(float *)e->out[3].data = (float)(obj * scale);
    *(float *)e->out[0].data = (float)((cls + box + obj) * scale);
    return SSCMA_OK;
}

static void yolo_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_yolov5_loss_attrs *a = e->attrs;
    yolo_geom g;
    yolo_saved s;
    exec_setup(e, &g, &s);
    const double total = *(const float *)dout[0].data, scale = (double)g.batch;
    const double g_cls = (total + *(const float *)dout[1].data) * scale;
    const double g_box = (total + *(const float *)dout[2].data) * scale;
    const double g_obj = (total + *(const float *)dout[3].data) * scale;
    for (int l = 0; l < LEVELS; l++) {
        if (din[l].data == NULL)
            continue;
        const float *x = e->in[l].data;
        float *dx = din[l].data;
        const float *tobj = s.obj_target + g.obj_offset[l];
        int64_t cells = g.batch * g.h[l] * g.w[l] * PRIORS;
        double k_obj = g_obj * (double)a->loss_obj_weight * (double)g.level_weights[l] / (double)cells;
        for (int64_t i = 0; i < cells; i++) {
            double z = x[i * g.per_prior + 4];
            dx[i * g.per_prior + 4] += (float)(k_obj * (sscma_sigmoid_d(z) - (double)tobj[i]));
        }
        int64_t n = s.n_pos[l];
        if (n == 0)
            continue;
        double k_box = -g_box * (double)a->loss_bbox_weight / (double)n;
        double k_cls = g.classes > 1 ? g_cls * (double)a->loss_cls_weight / (double)(n * g.classes) : 0.0;
        for (int64_t i = 0; i < n; i++) {
            const yolo_pos *q = &s.pos[l][i];
            const float *cell = cell_of(&g, l, x, q);
            float *dcell = dx + (cell - x);
            float pw, ph;
            prior_size(&g, l, q->prior, &pw, &ph);
            double grad[4];
            ciou(cell, pw, ph, q->tbox, a->eps, grad);
            for (int k = 0; k < 4; k++)
                dcell[k] += (float)(k_box * grad[k]);
            if (g.classes > 1)
                for (int64_t c = 0; c < g.classes; c++)
                    dcell[5 + c] += (float)(k_cls * (sscma_sigmoid_d(cell[5 + c]) - (c == q->cls ? 1.0 : 0.0)));
        }
    }
}

const sscma_op_def sscma_op_yolov5_loss = {
    .id = SSCMA_OP_YOLOV5_LOSS,
    .name = "yolov5_loss", .attrs_size = sizeof(sscma_yolov5_loss_attrs), .min_inputs = 4, .max_inputs = 4,
    .nondiff_inputs = 1u << LEVELS,
    .infer = yolo_infer, .forward = yolo_forward, .backward = yolo_backward,
    .attr_fields = yolo_fields,
};
