/*
 * Detection evaluation (det_eval.h).
 *
 * NMS follows mmyolo's YOLOv5Head.predict_by_feat and mmcv's batched_nms, in float32 as they run:
 *   1. with objectness and score_thr > 0, rows whose objectness is not > score_thr go; scores *= objectness;
 *   2. candidates: every (box, class) with score > score_thr (multi_label), else the best class of each box
 *      (first index on ties) when its score > score_thr; mmdet's filter_scores_and_topk lists them box-major;
 *   3. the nms_pre best, by score descending, ties in candidate order (a stable sort);
 *   4. optional rescale (minus the letterbox padding, divided by the scale factor); with min_bbox_size >= 0
 *      (mmdet's _bbox_post_process, RTMDet's test_cfg), boxes whose width or height is not above it go;
 *   5. batched_nms: per class by adding label * (max coordinate + 1) to the boxes (mmcv's offset trick, so the
 *      float32 rounding of the shifted boxes is mmcv's too), or one NMS per class from split_thr candidates on, or
 *      class-agnostic; mmcv's nms_cpu: areas (x2-x1)*(y2-y1), a later box goes when inter / (a_i + a_j - inter) >
 *      iou_threshold;
 *   6. the first max_per_img kept boxes, then clamped to the original image.
 *
 * COCO evaluation follows pycocotools 2.x COCOeval (iouType 'bbox', useCats 1) step by step: per category and
 * image, detections sorted by score (stable) and cut at the largest cap; IoU as maskUtils.iou (no +1; for a crowd
 * gt the union is the detection's area); per area range a gt is ignored when crowd or its `area` field lies
 * outside [lo, hi]; gts sorted non-ignored first (stable); greedy matching per IoU threshold with pycocotools'
 * rules (a crowd gt takes many detections, a detection on a regular gt never moves to an ignored one, equal IoU
 * moves to the later gt); a detection matched to an ignored gt, or unmatched with w*h outside the range, is
 * ignored. Accumulation concatenates the images' first maxDet detections, sorts them by score (stable), and
 * reads 101-point interpolated precision from the monotone envelope; -1 where a category has no non-ignored gt.
 * The thresholds are numpy.linspace's values bit for bit (i * step + start, the last one exact).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/schema.h"
#include "train/det_eval.h"

#define WHERE "detection eval"

/* ---- shared: a stable merge sort of indices by a key, descending ---- */

static void merge_desc(int64_t *idx, int64_t *tmp, int64_t n, const double *key)
{
    if (n < 2)
        return;
    int64_t h = n / 2;
    merge_desc(idx, tmp, h, key);
    merge_desc(idx + h, tmp, n - h, key);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n)
        tmp[o++] = key[idx[j]] > key[idx[i]] ? idx[j++] : idx[i++]; /* equal keys keep the left one first */
    while (i < h)
        tmp[o++] = idx[i++];
    while (j < n)
        tmp[o++] = idx[j++];
    memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

/* ---- NMS ---- */

void det_nms_config_init(det_nms_config *cfg)
{
    cfg->score_thr = -1.0f;
    cfg->iou_threshold = 0.5f;
    cfg->nms_pre = 100000;
    cfg->max_per_img = 100;
    cfg->split_thr = 10000;
    cfg->multi_label = false;
    cfg->class_agnostic = false;
    cfg->min_bbox_size = -1.0f;
}

typedef struct nms_json {
    const char *type;
    float iou_threshold;
    bool class_agnostic;
    int64_t split_thr;
} nms_json;

typedef struct test_cfg_json {
    bool multi_label;
    int64_t nms_pre, max_per_img;
    float score_thr, min_bbox_size;
    nms_json nms;
} test_cfg_json;

static const sscma_field nms_fields[] = {
    SSCMA_FIELD_STRING(nms_json, type, "nms"),
    SSCMA_FIELD_AS("iou_threshold", nms_json, iou_threshold, 0.5, true, 0.0, 1.0, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD(nms_json, class_agnostic, 0),
    SSCMA_FIELD_RANGE(nms_json, split_thr, 10000, 1, INFINITY),
    SSCMA_FIELD_END,
};

static const sscma_field test_cfg_fields[] = {
    SSCMA_FIELD(test_cfg_json, multi_label, 0),
    SSCMA_FIELD_RANGE(test_cfg_json, nms_pre, 100000, 1, INFINITY),
    SSCMA_FIELD(test_cfg_json, score_thr, -1.0),
    SSCMA_FIELD_OBJECT(test_cfg_json, nms, nms_fields),
    SSCMA_FIELD_RANGE(test_cfg_json, max_per_img, 100, 1, INFINITY),
    SSCMA_FIELD_RANGE(test_cfg_json, min_bbox_size, -1.0, -1.0, INFINITY), /* mmdet's RTMDet test_cfg: 0 */
    SSCMA_FIELD_END,
};

sscma_status det_nms_config_read(json_t *test_cfg, const char *where, const char *path, det_nms_config *out)
{
    test_cfg_json c;
    sscma_status st = sscma_schema_read(test_cfg_fields, test_cfg, where, path, &c);
    if (st != SSCMA_OK)
        return st;
    if (!json_is_object(json_object_get(test_cfg, "nms")))
        return sscma_schema_expected(where, path, "nms", "an object ({\"type\": \"nms\", \"iou_threshold\": ...})",
                                     json_object_get(test_cfg, "nms"));
    if (strcmp(c.nms.type, "nms") != 0) {
        char buf[256];
        return sscma_schema_expected(where, sscma_schema_path(buf, sizeof buf, path, "nms"), "type", "'nms'",
                                     json_object_get(json_object_get(test_cfg, "nms"), "type"));
    }
    det_nms_config_init(out);
    out->multi_label = c.multi_label;
    out->nms_pre = c.nms_pre;
    out->max_per_img = c.max_per_img;
    out->score_thr = c.score_thr;
    out->iou_threshold = c.nms.iou_threshold;
    out->class_agnostic = c.nms.class_agnostic;
    out->split_thr = c.nms.split_thr;
    out->min_bbox_size = c.min_bbox_size;
    return SSCMA_OK;
}

void det_result_free(const sscma_context *ctx, det_result *r)
{
    if (r == NULL)
        return;
    sscma_mfree(ctx, r->boxes);
    sscma_mfree(ctx, r->scores);
    sscma_mfree(ctx, r->labels);
    memset(r, 0, sizeof *r);
}

/* mmcv's nms_cpu over the candidates `which` (already in score order): sets keep[] for the survivors. */
static void nms_float(const float *b, const int64_t *which, int64_t n, float thr, const float *area, bool *keep)
{
    for (int64_t i = 0; i < n; i++)
        keep[which[i]] = true;
    for (int64_t i = 0; i < n; i++) {
        const int64_t p = which[i];
        if (!keep[p])
            continue;
        for (int64_t j = i + 1; j < n; j++) {
            const int64_t q = which[j];
            if (!keep[q])
                continue;
            float xx1 = fmaxf(b[4 * p], b[4 * q]), yy1 = fmaxf(b[4 * p + 1], b[4 * q + 1]);
            float xx2 = fminf(b[4 * p + 2], b[4 * q + 2]), yy2 = fminf(b[4 * p + 3], b[4 * q + 3]);
            float w = fmaxf(0.0f, xx2 - xx1), h = fmaxf(0.0f, yy2 - yy1);
            float inter = w * h;
            float ovr = inter / (area[p] + area[q] - inter);
            if (ovr > thr)
                keep[q] = false;
        }
    }
}

sscma_status det_nms(const sscma_context *ctx, const det_nms_config *cfg, const float *boxes, const float *scores,
                     const float *objectness, int64_t n, int32_t num_classes, const det_rescale *rescale,
                     det_result *out)
{
    SSCMA_REQUIRE_NONNULL(cfg);
    SSCMA_REQUIRE_NONNULL(out);
    if (n < 0 || num_classes < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "%lld boxes of %d classes", (long long)n,
                          (int)num_classes);
    if (n > 0 && (boxes == NULL || scores == NULL))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "boxes or scores is NULL");
    if (cfg->nms_pre < 1 || cfg->max_per_img < 1 || cfg->split_thr < 1 || isnan(cfg->iou_threshold) ||
        isnan(cfg->score_thr))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE,
                          "nms_pre %lld, max_per_img %lld, split_thr %lld must be >= 1 and thresholds numbers",
                          (long long)cfg->nms_pre, (long long)cfg->max_per_img, (long long)cfg->split_thr);
    if (rescale != NULL && !(rescale->scale_w > 0.0f && rescale->scale_h > 0.0f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "scale factor (%g, %g) must be positive",
                          (double)rescale->scale_w, (double)rescale->scale_h);
    memset(out, 0, sizeof *out);
    const bool multi = cfg->multi_label && num_classes > 1;
    if (n > ((int64_t)1 << 36) / (multi ? num_classes : 1))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "%lld boxes of %d classes: too many candidates",
                          (long long)n, (int)num_classes);
    const float thr = cfg->score_thr;
    const int64_t cap = multi ? n * num_classes : n;

    /* candidates: row, label, score */
    int64_t *row = sscma_malloc(ctx, (size_t)(cap + 1) * sizeof *row);
    int32_t *lab = sscma_malloc(ctx, (size_t)(cap + 1) * sizeof *lab);
    double *key = sscma_malloc(ctx, (size_t)(cap + 1) * sizeof *key);
    int64_t *ord = sscma_malloc(ctx, (size_t)(cap + 1) * sizeof *ord);
    int64_t *tmp = sscma_malloc(ctx, (size_t)(cap + 1) * sizeof *tmp);
    float *b = sscma_malloc(ctx, (size_t)(cap + 1) * 4 * sizeof *b);
    float *area = sscma_malloc(ctx, (size_t)(cap + 1) * sizeof *area);
    bool *keep = sscma_calloc(ctx, (size_t)(cap + 1), sizeof *keep);
    sscma_status st = SSCMA_OK;
    if (!row || !lab || !key || !ord || !tmp || !b || !area || !keep) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %lld NMS candidates", (long long)cap);
        goto done;
    }
    int64_t m = 0;
    for (int64_t r = 0; r < n; r++) {
        float obj = objectness ? objectness[r] : 1.0f;
        if (objectness != NULL && thr > 0.0f && !(obj > thr))
            continue;
        const float *s = scores + r * num_classes;
        if (multi) {
            for (int32_t c = 0; c < num_classes; c++) {
                float v = objectness ? s[c] * obj : s[c];
                if (v > thr)
                    row[m] = r, lab[m] = c, key[m++] = v;
            }
        } else {
            int32_t best = 0;
            float bv = objectness ? s[0] * obj : s[0];
            for (int32_t c = 1; c < num_classes; c++) {
                float v = objectness ? s[c] * obj : s[c];
                if (v > bv)
                    bv = v, best = c;
            }
            if (bv > thr)
                row[m] = r, lab[m] = best, key[m++] = bv;
        }
    }
    for (int64_t i = 0; i < m; i++)
        ord[i] = i;
    merge_desc(ord, tmp, m, key);
    if (m > cfg->nms_pre)
        m = cfg->nms_pre;

    /*
     * the candidates in score order, rescaled; from here on index i is the i-th best. With min_bbox_size >= 0,
     * mmdet's _bbox_post_process drops (after the rescale, before the NMS) the boxes whose width or height is not
     * above it
     */
    float maxc = -INFINITY;
    int64_t valid = 0;
    for (int64_t i = 0; i < m; i++) {
        const float *src = boxes + 4 * row[ord[i]];
        float v4[4];
        for (int k = 0; k < 4; k++) {
            float v = src[k];
            if (rescale != NULL)
                v = (v - (k % 2 == 0 ? rescale->pad_left : rescale->pad_top)) /
                    (k % 2 == 0 ? rescale->scale_w : rescale->scale_h);
            v4[k] = v;
        }
        if (cfg->min_bbox_size >= 0.0f && !(v4[2] - v4[0] > cfg->min_bbox_size && v4[3] - v4[1] > cfg->min_bbox_size))
            continue;
        for (int k = 0; k < 4; k++)
            b[4 * valid + k] = v4[k], maxc = fmaxf(maxc, v4[k]);
        ord[valid++] = ord[i];
    }
    m = valid;
    int32_t *lab_s = (int32_t *)tmp; /* reuse: labels and scores in score order (tmp is free again) */
    float *score_s = sscma_malloc(ctx, (size_t)(m + 1) * sizeof *score_s);
    float *nb = sscma_malloc(ctx, (size_t)(m + 1) * 4 * sizeof *nb);
    if (score_s == NULL || nb == NULL) {
        sscma_mfree(ctx, score_s), sscma_mfree(ctx, nb);
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %lld NMS candidates", (long long)m);
        goto done;
    }
    for (int64_t i = 0; i < m; i++)
        lab_s[i] = lab[ord[i]], score_s[i] = (float)key[ord[i]];
    for (int64_t i = 0; i < m; i++) {
        float off = cfg->class_agnostic ? 0.0f : (float)lab_s[i] * (maxc + 1.0f);
        for (int k = 0; k < 4; k++)
            nb[4 * i + k] = cfg->class_agnostic ? b[4 * i + k] : b[4 * i + k] + off;
        area[i] = (nb[4 * i + 2] - nb[4 * i]) * (nb[4 * i + 3] - nb[4 * i + 1]);
    }
    /* ord now lists the survivors' positions (score order) */
    int64_t kept = 0;
    if (m < cfg->split_thr) {
        for (int64_t i = 0; i < m; i++)
            ord[i] = i;
        nms_float(nb, ord, m, cfg->iou_threshold, area, keep);
        for (int64_t i = 0; i < m; i++)
            if (keep[i])
                ord[kept++] = i;
    } else {
        /* mmcv: one NMS per class (ascending ids) on the boxes as shifted above, then the survivors by score;
         * mmcv goes this way for class_agnostic too, so from split_thr candidates on that is per class */
        int64_t *which = (int64_t *)row; /* row is no longer needed */
        for (int32_t c = 0; c < num_classes; c++) {
            int64_t k = 0;
            for (int64_t i = 0; i < m; i++)
                if (lab_s[i] == c)
                    which[k++] = i;
            nms_float(nb, which, k, cfg->iou_threshold, area, keep);
        }
        /* mask.nonzero() lists the survivors by candidate position, which is score order with ties in
         * candidate order: the final sort by score (stable) leaves it as it is */
        for (int64_t i = 0; i < m; i++)
            if (keep[i])
                ord[kept++] = i;
    }
    if (kept > cfg->max_per_img)
        kept = cfg->max_per_img;
    out->boxes = sscma_malloc(ctx, (size_t)(kept + 1) * 4 * sizeof *out->boxes);
    out->scores = sscma_malloc(ctx, (size_t)(kept + 1) * sizeof *out->scores);
    out->labels = sscma_malloc(ctx, (size_t)(kept + 1) * sizeof *out->labels);
    if (!out->boxes || !out->scores || !out->labels) {
        det_result_free(ctx, out);
        sscma_mfree(ctx, score_s), sscma_mfree(ctx, nb);
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %lld detections", (long long)kept);
        goto done;
    }
    for (int64_t i = 0; i < kept; i++) {
        const int64_t p = ord[i];
        for (int k = 0; k < 4; k++) {
            float v = b[4 * p + k];
            if (rescale != NULL) {
                float hi = k % 2 == 0 ? rescale->ori_w : rescale->ori_h;
                v = v < 0.0f ? 0.0f : v > hi ? hi : v;
            }
            out->boxes[4 * i + k] = v;
        }
        out->scores[i] = score_s[p];
        out->labels[i] = lab_s[p];
    }
    out->count = kept;
    sscma_mfree(ctx, score_s), sscma_mfree(ctx, nb);
done:
    sscma_mfree(ctx, row), sscma_mfree(ctx, lab), sscma_mfree(ctx, key), sscma_mfree(ctx, ord);
    sscma_mfree(ctx, tmp), sscma_mfree(ctx, b), sscma_mfree(ctx, area), sscma_mfree(ctx, keep);
    return st;
}

/* ---- COCO bbox evaluation ---- */

#define T_IOU 10
#define R_REC 101
#define A_RNG 4
#define M_DET 3

struct coco_eval {
    const sscma_context *ctx;
    int32_t classes;
    int64_t max_dets[M_DET]; /* sorted */
    int64_t images;
    coco_gt *gt;
    int64_t n_gt, cap_gt;
    coco_det *det;
    int64_t n_det, cap_det;
    int64_t *gt_start, *det_start; /* per image, images + 1 entries */
    int64_t cap_images;
};

/* numpy.linspace(start, stop, num): i * ((stop - start) / (num - 1)) + start, the last one exactly stop */
static double linspace_at(double start, double stop, int num, int i)
{
    if (i == num - 1)
        return stop;
    double step = (stop - start) / (double)(num - 1);
    double y = (double)i * step;
    return y + start;
}

static const double area_lo[A_RNG] = {0.0, 0.0, 32.0 * 32.0, 96.0 * 96.0};
static const double area_hi[A_RNG] = {1e10, 32.0 * 32.0, 96.0 * 96.0, 1e10};

sscma_status coco_eval_create(const sscma_context *ctx, int32_t num_classes, const int64_t max_dets[3],
                              coco_eval **out)
{
    SSCMA_REQUIRE_NONNULL(max_dets);
    SSCMA_REQUIRE_NONNULL(out);
    if (num_classes < 1 || num_classes > 100000)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "%d classes: expected 1 to 100000", (int)num_classes);
    int64_t md[M_DET] = {max_dets[0], max_dets[1], max_dets[2]};
    for (int i = 1; i < M_DET; i++) /* pycocotools sorts maxDets */
        for (int j = i; j > 0 && md[j] < md[j - 1]; j--) {
            int64_t t = md[j];
            md[j] = md[j - 1], md[j - 1] = t;
        }
    if (md[0] < 1 || md[0] == md[1] || md[1] == md[2] || md[2] > 100000)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE,
                          "max_dets (%lld, %lld, %lld): expected three different numbers from 1 to 100000",
                          (long long)max_dets[0], (long long)max_dets[1], (long long)max_dets[2]);
    coco_eval *e = sscma_calloc(ctx, 1, sizeof *e);
    if (e == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate an evaluator");
    e->ctx = ctx;
    e->classes = num_classes;
    memcpy(e->max_dets, md, sizeof md);
    *out = e;
    return SSCMA_OK;
}

void coco_eval_destroy(coco_eval *e)
{
    if (e == NULL)
        return;
    sscma_mfree(e->ctx, e->gt);
    sscma_mfree(e->ctx, e->det);
    sscma_mfree(e->ctx, e->gt_start);
    sscma_mfree(e->ctx, e->det_start);
    sscma_mfree(e->ctx, e);
}

void coco_eval_reset(coco_eval *e)
{
    if (e != NULL)
        e->images = e->n_gt = e->n_det = 0;
}

int64_t coco_eval_image_count(const coco_eval *e)
{
    return e != NULL ? e->images : 0;
}

/* One of outfile_prefix's two files; closes it and reports a failed write. */
static sscma_status write_json_file(const coco_eval *e, const char *prefix, bool gt)
{
    size_t len = strlen(prefix) + 16;
    char *path = sscma_malloc(e->ctx, len);
    if (path == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate a file name");
    snprintf(path, len, "%s.%s.json", prefix, gt ? "gt" : "bbox");
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        sscma_status st = sscma_fail(SSCMA_ERR_IO, WHERE, "outfile_prefix: cannot open %s: %s", path, strerror(errno));
        sscma_mfree(e->ctx, path);
        return st;
    }
    int bad = 0;
    if (gt) {
        bad |= fprintf(f, "{\"images\": [") < 0;
        for (int64_t i = 0; i < e->images; i++)
            bad |= fprintf(f, "%s{\"id\": %lld}", i ? ", " : "", (long long)(i + 1)) < 0;
        bad |= fprintf(f, "],\n\"annotations\": [") < 0;
        for (int64_t i = 0, k = 0; i < e->images; i++)
            for (int64_t j = e->gt_start[i]; j < e->gt_start[i + 1]; j++, k++) {
                const coco_gt *g = &e->gt[j];
                bad |= fprintf(f, "%s{\"id\": %lld, \"image_id\": %lld, \"category_id\": %d, \"bbox\": [%.17g, %.17g, "
                               "%.17g, %.17g], \"area\": %.17g, \"iscrowd\": %d}", k ? ",\n" : "", (long long)(k + 1),
                               (long long)(i + 1), (int)g->label + 1, g->x, g->y, g->w, g->h, g->area,
                               g->iscrowd ? 1 : 0) < 0;
            }
        bad |= fprintf(f, "],\n\"categories\": [") < 0;
        for (int32_t c = 0; c < e->classes; c++)
            bad |= fprintf(f, "%s{\"id\": %d, \"name\": \"%d\"}", c ? ", " : "", (int)c + 1, (int)c) < 0;
        bad |= fprintf(f, "]}\n") < 0;
    } else {
        bad |= fprintf(f, "[") < 0;
        for (int64_t i = 0, k = 0; i < e->images; i++)
            for (int64_t j = e->det_start[i]; j < e->det_start[i + 1]; j++, k++) {
                const coco_det *d = &e->det[j];
                bad |= fprintf(f, "%s{\"image_id\": %lld, \"bbox\": [%.17g, %.17g, %.17g, %.17g], \"score\": %.17g, "
                               "\"category_id\": %d}", k ? ",\n" : "", (long long)(i + 1), d->x1, d->y1, d->x2 - d->x1,
                               d->y2 - d->y1, d->score, (int)d->label + 1) < 0;
            }
        bad |= fprintf(f, "]\n") < 0;
    }
    int saved = errno;
    if (fclose(f) != 0 && !bad)
        bad = 1, saved = errno;
    sscma_status st = bad ? sscma_fail(SSCMA_ERR_IO, WHERE, "outfile_prefix: cannot write %s: %s", path,
                                       strerror(saved))
                          : SSCMA_OK;
    sscma_mfree(e->ctx, path);
    return st;
}

sscma_status coco_eval_write_json(const coco_eval *e, const char *prefix)
{
    SSCMA_REQUIRE_NONNULL(e);
    SSCMA_REQUIRE_NONNULL(prefix);
    sscma_status st = write_json_file(e, prefix, false);
    return st == SSCMA_OK ? write_json_file(e, prefix, true) : st;
}

void coco_eval_max_dets(const coco_eval *e, int64_t out[3])
{
    memcpy(out, e->max_dets, sizeof e->max_dets);
}

static bool grow(const sscma_context *ctx, void **p, int64_t *cap, int64_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    int64_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = sscma_mrealloc(ctx, *p, (size_t)c * elem);
    if (q == NULL)
        return false;
    *p = q, *cap = c;
    return true;
}

sscma_status coco_eval_add_image(coco_eval *e, const coco_gt *gt, int64_t n_gt, const coco_det *det, int64_t n_det)
{
    SSCMA_REQUIRE_NONNULL(e);
    if (n_gt < 0 || n_det < 0 || (n_gt > 0 && gt == NULL) || (n_det > 0 && det == NULL))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "image %lld: %lld gt, %lld detections",
                          (long long)e->images, (long long)n_gt, (long long)n_det);
    for (int64_t i = 0; i < n_gt; i++) {
        const coco_gt *g = &gt[i];
        if (g->label < 0 || g->label >= e->classes)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "image %lld: gt %lld: label %d outside [0, %d)",
                              (long long)e->images, (long long)i, (int)g->label, (int)e->classes);
        if (!isfinite(g->x) || !isfinite(g->y) || !isfinite(g->w) || !isfinite(g->h) || !isfinite(g->area))
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "image %lld: gt %lld: box or area is not finite",
                              (long long)e->images, (long long)i);
    }
    for (int64_t i = 0; i < n_det; i++) {
        const coco_det *d = &det[i];
        if (d->label < 0 || d->label >= e->classes)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE,
                              "image %lld: detection %lld: label %d outside [0, %d)", (long long)e->images,
                              (long long)i, (int)d->label, (int)e->classes);
        if (!isfinite(d->x1) || !isfinite(d->y1) || !isfinite(d->x2) || !isfinite(d->y2) || isnan(d->score))
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE,
                              "image %lld: detection %lld: box or score is not a number", (long long)e->images,
                              (long long)i);
    }
    if (!grow(e->ctx, (void **)&e->gt, &e->cap_gt, e->n_gt + n_gt, sizeof *e->gt) ||
        !grow(e->ctx, (void **)&e->det, &e->cap_det, e->n_det + n_det, sizeof *e->det)) {
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot store image %lld", (long long)e->images);
    }
    int64_t cap_img = e->cap_images;
    if (!grow(e->ctx, (void **)&e->gt_start, &cap_img, e->images + 2, sizeof *e->gt_start))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot store image %lld", (long long)e->images);
    cap_img = e->cap_images;
    if (!grow(e->ctx, (void **)&e->det_start, &cap_img, e->images + 2, sizeof *e->det_start))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot store image %lld", (long long)e->images);
    e->cap_images = cap_img;
    if (n_gt)
        memcpy(e->gt + e->n_gt, gt, (size_t)n_gt * sizeof *gt);
    if (n_det)
        memcpy(e->det + e->n_det, det, (size_t)n_det * sizeof *det);
    e->gt_start[e->images] = e->n_gt, e->det_start[e->images] = e->n_det;
    e->n_gt += n_gt, e->n_det += n_det;
    e->images++;
    e->gt_start[e->images] = e->n_gt, e->det_start[e->images] = e->n_det;
    return SSCMA_OK;
}

/* maskUtils.iou for boxes (bbIou in maskApi.c): 0 without overlap; a crowd gt divides by the detection's area */
static double box_iou(const coco_det *d, const coco_gt *g)
{
    const double dx = d->x1, dy = d->y1, dw = d->x2 - d->x1, dh = d->y2 - d->y1;
    const double da = dw * dh, ga = g->w * g->h;
    double w = fmin(dw + dx, g->w + g->x) - fmax(dx, g->x);
    if (w <= 0.0)
        return 0.0;
    double h = fmin(dh + dy, g->h + g->y) - fmax(dy, g->y);
    if (h <= 0.0)
        return 0.0;
    double i = w * h, u = g->iscrowd ? da : da + ga - i;
    return i / u;
}

/* One matched/ignored entry of a (category, area) list: a detection of one image, in the image's score order. */
typedef struct entry {
    double score;
    int32_t rank;           /* position among its image's detections of this category */
    uint16_t matched, ignored; /* bit t: at IoU threshold t */
} entry;

/* Scratch for one (category, image). */
typedef struct scratch {
    int64_t *g, *d, *tmp, *gord;
    double *key, *iou;
    bool *gig, *gm;
} scratch;

/* COCOeval.evaluateImg for one category, image and area range: appends D entries to list, returns npig. */
static int64_t evaluate_img(const coco_eval *e, const scratch *s, int64_t G, int64_t D, int a, const double *thr,
                            entry *list)
{
    const double lo = area_lo[a], hi = area_hi[a];
    /* gt order: not ignored first, stable */
    int64_t ng = 0, npig = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t j = 0; j < G; j++) {
            const coco_gt *g = &e->gt[s->g[j]];
            bool ig = g->iscrowd || g->area < lo || g->area > hi;
            if (ig == (pass == 1))
                s->gord[ng] = j, s->gig[ng++] = ig;
        }
    for (int64_t j = 0; j < G; j++)
        npig += !s->gig[j];
    for (int64_t i = 0; i < D; i++)
        list[i].score = e->det[s->d[i]].score, list[i].rank = (int32_t)i, list[i].matched = list[i].ignored = 0;
    for (int t = 0; t < T_IOU; t++) {
        memset(s->gm, 0, (size_t)G * sizeof *s->gm);
        for (int64_t i = 0; i < D; i++) {
            double best = fmin(thr[t], 1.0 - 1e-10);
            int64_t m = -1;
            for (int64_t k = 0; k < G; k++) {
                const int64_t j = s->gord[k];
                if (s->gm[k] && !e->gt[s->g[j]].iscrowd)
                    continue;
                if (m > -1 && !s->gig[m] && s->gig[k])
                    break;
                const double v = s->iou[i * G + j];
                if (v < best)
                    continue;
                best = v, m = k;
            }
            if (m == -1)
                continue;
            list[i].matched |= (uint16_t)(1u << t);
            if (s->gig[m])
                list[i].ignored |= (uint16_t)(1u << t);
            s->gm[m] = true;
        }
    }
    for (int64_t i = 0; i < D; i++) {
        const coco_det *d = &e->det[s->d[i]];
        const double area = (d->x2 - d->x1) * (d->y2 - d->y1);
        if (area < lo || area > hi)
            list[i].ignored |= (uint16_t)~list[i].matched & (uint16_t)((1u << T_IOU) - 1);
    }
    return npig;
}

/* COCOeval.accumulate for one (category, area, cap): fills precision[t][r] and recall[t] */
static void accumulate(entry *list, int64_t n, int64_t *idx, int64_t *tmp, double *key, int64_t npig,
                       int64_t max_det, const double *rec_thr, double precision[T_IOU][R_REC], double recall[T_IOU],
                       double *pr, double *rc)
{
    int64_t nd = 0;
    for (int64_t i = 0; i < n; i++) {
        key[i] = list[i].score;
        if (list[i].rank < max_det)
            idx[nd++] = i;
    }
    merge_desc(idx, tmp, nd, key);
    for (int t = 0; t < T_IOU; t++) {
        double tp = 0.0, fp = 0.0;
        for (int64_t i = 0; i < nd; i++) {
            const entry *x = &list[idx[i]];
            const bool ig = (x->ignored >> t) & 1, mt = (x->matched >> t) & 1;
            tp += mt && !ig;
            fp += !mt && !ig;
            rc[i] = tp / (double)npig;
            pr[i] = tp / (fp + tp + 2.220446049250313e-16); /* np.spacing(1) */
        }
        recall[t] = nd ? rc[nd - 1] : 0.0;
        for (int64_t i = nd - 1; i > 0; i--)
            if (pr[i] > pr[i - 1])
                pr[i - 1] = pr[i];
        int64_t p = 0;
        for (int r = 0; r < R_REC; r++) {
            while (p < nd && rc[p] < rec_thr[r]) /* np.searchsorted(rc, thr, side='left') */
                p++;
            precision[t][r] = p < nd ? pr[p] : 0.0;
        }
    }
}

sscma_status coco_eval_compute(coco_eval *e, double stats[COCO_STATS], double *category_ap)
{
    SSCMA_REQUIRE_NONNULL(e);
    SSCMA_REQUIRE_NONNULL(stats);
    const int32_t K = e->classes;
    double thr[T_IOU], rec_thr[R_REC];
    for (int t = 0; t < T_IOU; t++)
        thr[t] = linspace_at(0.5, 0.95, T_IOU, t);
    for (int r = 0; r < R_REC; r++)
        rec_thr[r] = linspace_at(0.0, 1.0, R_REC, r);
    /* precision [K][A][M][T][R], recall [K][A][M][T]; -1 where a category has no non-ignored gt */
    const size_t n_prec = (size_t)K * A_RNG * M_DET * T_IOU * R_REC, n_rec = (size_t)K * A_RNG * M_DET * T_IOU;
    double *prec = sscma_malloc(e->ctx, n_prec * sizeof *prec);
    double *rec = sscma_malloc(e->ctx, n_rec * sizeof *rec);
    /* per image scratch: at most all gt / all detections */
    const int64_t nd = e->n_det + 1;
    int64_t max_g = 1, max_d = 1;
    for (int64_t i = 0; i < e->images; i++) {
        int64_t g = e->gt_start[i + 1] - e->gt_start[i], d = e->det_start[i + 1] - e->det_start[i];
        max_g = g > max_g ? g : max_g, max_d = d > max_d ? d : max_d;
    }
    const int64_t max_iou_rows = max_d < e->max_dets[M_DET - 1] ? max_d : e->max_dets[M_DET - 1];
    scratch s = {0};
    s.g = sscma_malloc(e->ctx, (size_t)max_g * sizeof *s.g);
    s.gord = sscma_malloc(e->ctx, (size_t)max_g * sizeof *s.gord);
    s.gig = sscma_malloc(e->ctx, (size_t)max_g * sizeof *s.gig);
    s.gm = sscma_malloc(e->ctx, (size_t)max_g * sizeof *s.gm);
    s.d = sscma_malloc(e->ctx, (size_t)max_d * sizeof *s.d);
    s.tmp = sscma_malloc(e->ctx, (size_t)nd * sizeof *s.tmp);
    s.key = sscma_malloc(e->ctx, (size_t)nd * sizeof *s.key);
    s.iou = sscma_malloc(e->ctx, (size_t)max_g * (size_t)max_iou_rows * sizeof *s.iou);
    entry *list[A_RNG] = {0};
    for (int a = 0; a < A_RNG; a++)
        list[a] = sscma_malloc(e->ctx, (size_t)nd * sizeof *list[a]);
    int64_t *idx = sscma_malloc(e->ctx, (size_t)nd * sizeof *idx);
    double *pr = sscma_malloc(e->ctx, (size_t)nd * sizeof *pr), *rc = sscma_malloc(e->ctx, (size_t)nd * sizeof *rc);
    sscma_status st = SSCMA_OK;
    if (!prec || !rec || !s.g || !s.gord || !s.gig || !s.gm || !s.d || !s.tmp || !s.key || !s.iou || !list[0] ||
        !list[1] || !list[2] || !list[3] || !idx || !pr || !rc) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the evaluation of %lld images",
                        (long long)e->images);
        goto done;
    }
    for (size_t i = 0; i < n_prec; i++)
        prec[i] = -1.0;
    for (size_t i = 0; i < n_rec; i++)
        rec[i] = -1.0;
    for (int32_t k = 0; k < K; k++) {
        int64_t n_list = 0, npig[A_RNG] = {0};
        for (int64_t img = 0; img < e->images; img++) {
            int64_t G = 0, D = 0;
            for (int64_t j = e->gt_start[img]; j < e->gt_start[img + 1]; j++)
                if (e->gt[j].label == k)
                    s.g[G++] = j;
            for (int64_t j = e->det_start[img]; j < e->det_start[img + 1]; j++)
                if (e->det[j].label == k)
                    s.key[j - e->det_start[img]] = e->det[j].score, s.d[D++] = j - e->det_start[img];
            if (G == 0 && D == 0)
                continue;
            merge_desc(s.d, s.tmp, D, s.key); /* by score, stable; then image-relative -> global */
            for (int64_t i = 0; i < D; i++)
                s.d[i] += e->det_start[img];
            if (D > e->max_dets[M_DET - 1])
                D = e->max_dets[M_DET - 1];
            for (int64_t i = 0; i < D; i++)
                for (int64_t j = 0; j < G; j++)
                    s.iou[i * G + j] = box_iou(&e->det[s.d[i]], &e->gt[s.g[j]]);
            for (int a = 0; a < A_RNG; a++)
                npig[a] += evaluate_img(e, &s, G, D, a, thr, list[a] + n_list);
            n_list += D;
        }
        for (int a = 0; a < A_RNG; a++) {
            if (npig[a] == 0)
                continue;
            for (int m = 0; m < M_DET; m++) {
                const size_t base = (((size_t)k * A_RNG + (size_t)a) * M_DET + (size_t)m);
                accumulate(list[a], n_list, idx, s.tmp, s.key, npig[a], e->max_dets[m], rec_thr,
                           (double(*)[R_REC])(prec + base * T_IOU * R_REC), rec + base * T_IOU, pr, rc);
            }
        }
    }
    /* COCOeval.summarize: the mean of the entries > -1, or -1 */
    int t75 = -1;
    for (int t = 0; t < T_IOU; t++)
        if (thr[t] == 0.75)
            t75 = t;
    const struct {
        bool ap;
        int t; /* -1: all thresholds */
        int a;
        int64_t cap;
    } spec[COCO_STATS] = {
        {true, -1, 0, 100},
        {true, 0, 0, e->max_dets[2]},
        {true, t75 < 0 ? -2 : t75, 0, e->max_dets[2]},
        {true, -1, 1, e->max_dets[2]},
        {true, -1, 2, e->max_dets[2]},
        {true, -1, 3, e->max_dets[2]},
        {false, -1, 0, e->max_dets[0]},
        {false, -1, 0, e->max_dets[1]},
        {false, -1, 0, e->max_dets[2]},
        {false, -1, 1, e->max_dets[2]},
        {false, -1, 2, e->max_dets[2]},
        {false, -1, 3, e->max_dets[2]},
    };
    for (int q = 0; q < COCO_STATS; q++) {
        int m = -1;
        for (int i = 0; i < M_DET; i++)
            if (e->max_dets[i] == spec[q].cap)
                m = i;
        double sum = 0.0;
        int64_t count = 0;
        for (int32_t k = 0; k < K && m >= 0 && spec[q].t != -2; k++) {
            const size_t base = (((size_t)k * A_RNG + (size_t)spec[q].a) * M_DET + (size_t)m);
            for (int t = 0; t < T_IOU; t++) {
                if (spec[q].t >= 0 && t != spec[q].t)
                    continue;
                if (spec[q].ap) {
                    for (int r = 0; r < R_REC; r++) {
                        double v = prec[(base * T_IOU + (size_t)t) * R_REC + (size_t)r];
                        if (v > -1.0)
                            sum += v, count++;
                    }
                } else {
                    double v = rec[base * T_IOU + (size_t)t];
                    if (v > -1.0)
                        sum += v, count++;
                }
            }
        }
        stats[q] = count ? sum / (double)count : -1.0;
    }
    for (int32_t k = 0; category_ap != NULL && k < K; k++) {
        const size_t base = ((size_t)k * A_RNG + 0) * M_DET + (M_DET - 1);
        double sum = 0.0;
        int64_t count = 0;
        for (size_t i = 0; i < T_IOU * R_REC; i++) {
            double v = prec[base * T_IOU * R_REC + i];
            if (v > -1.0)
                sum += v, count++;
        }
        category_ap[k] = count ? sum / (double)count : -1.0;
    }
done:
    sscma_mfree(e->ctx, prec), sscma_mfree(e->ctx, rec);
    sscma_mfree(e->ctx, s.g), sscma_mfree(e->ctx, s.gord), sscma_mfree(e->ctx, s.gig), sscma_mfree(e->ctx, s.gm);
    sscma_mfree(e->ctx, s.d), sscma_mfree(e->ctx, s.tmp), sscma_mfree(e->ctx, s.key), sscma_mfree(e->ctx, s.iou);
    for (int a = 0; a < A_RNG; a++)
        sscma_mfree(e->ctx, list[a]);
    sscma_mfree(e->ctx, idx), sscma_mfree(e->ctx, pr), sscma_mfree(e->ctx, rc);
    return st;
}
