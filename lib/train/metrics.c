/*
 * Metrics (metrics.h). Each keeps running sums, so an evaluation of any size needs no per-sample storage:
 *   Accuracy    a sample is correct at k when fewer than k classes rank above its label; ties rank the lower class
 *               index first (torch.topk's order on equal scores). Macro precision/recall/F1 over the classes that
 *               occur (as predictions or labels), from the confusion matrix; all in percent, as mmpretrain.
 *   FomoMetric  SSCMA's compute_ftp, reproduced step by step: per image, every ground-truth cell (argmax of the
 *               one-hot target > 0, row-major order) looks at the 9 cells of its neighbourhood in SSCMA's offset
 *               order; a predicted non-background cell there with the same class is relabelled in the target map as
 *               that class. Then, over all cells, tp = correct non-background cells, fn = cells whose true class
 *               index exceeds the predicted one, fp = the reverse (SSCMA's lower/upper triangles of the confusion
 *               matrix). P = tp / (tp + fp), R = tp / (tp + fn), F1; all zero when tp + fp or tp + fn is zero.
 *   PointMetric SSCMA's pose_acc on the first point of each sample: d = pixel distance at input_size (negative
 *               predictions clamped to 0); 1 when d <= 1, (th - d) / (th - 1) when d <= th, else 0, averaged over
 *               samples. NME: mean over all points of the distance divided by the input diagonal.
 *   MSE         mean of the squared differences over every element.
 *   MseMetric   SSCMA's anomaly-VAE metric: the mean over samples of the model's loss (pred: the "loss" output, a
 *               scalar averaged over its batch, weighted here by the batch's sample count; reported as "mse").
 *   CocoMetric  mmdet's CocoMetric (metric 'bbox'): pycocotools' COCOeval through det_eval.c. It takes detections
 *               and ground truth per image from the trainer (sscma_metric_add_detections, train/state.h), not
 *               tensors, and publishes its results at sscma_metric_finish_detections.
 *   AnomalyMetric  one anomaly score per sample (any detector's: LODA's negative log density, a VAE's
 *               reconstruction error) and its label; the labels in abnormal_classes (class indices: the runner
 *               turns names into indices against the dataset) are the positives. Keeps every score (a ROC needs
 *               them all); auc, threshold (at the false-positive rate `fpr` of the normal samples), tpr, fpr from
 *               anomaly_roc_compute (anomaly/anomaly.h) once both kinds have been seen.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/anomaly.h"
#include "core/internal.h"
#include "core/schema.h"
#include "sscma/metrics.h"
#include "train/det_eval.h"
#include "train/state.h"

#define WHERE "metric"
#define MAX_TOPK 8
#define MAX_RESULTS_FIXED 16

typedef enum metric_kind { M_ACCURACY, M_FOMO, M_POINT, M_MSE, M_COCO, M_ANOMALY, M_MSE_LOSS } metric_kind;

typedef struct result {
    char name[48];
    double value;
} result;

struct sscma_metric {
    const sscma_context *ctx; /* NULL for a metric made by the public call: the C allocator, through core */
    metric_kind kind;
    int32_t topk[MAX_TOPK], n_topk;
    double threshold, in_h, in_w;
    /* sums */
    int64_t samples;
    int64_t correct[MAX_TOPK];
    int32_t classes;    /* Accuracy / Fomo: fixed by the first update */
    int64_t *confusion; /* classes^2 */
    int64_t tp, fp, fn;
    double acc_sum, nme_sum, sq_sum;
    int64_t nme_count, elements;
    /* FOMO scratch */
    int32_t *tmax, *pmax;
    int64_t scratch_cells;
    /* CocoMetric */
    coco_eval *coco;
    int64_t coco_caps[3];
    bool classwise;
    char *outfile_prefix; /* mmdet's: each validation writes <prefix>.bbox.json and <prefix>.gt.json */
    int32_t n_items, items[COCO_STATS]; /* metric_items: indexes into COCOeval.stats; 0 = the default names */
    /* AnomalyMetric: the abnormal class indices, the scores and truths so far */
    double anomaly_fpr;
    int32_t abnormal_ids[ANOMALY_MAX_CLASSES], n_abnormal_ids;
    double *anomaly_scores;
    bool *anomaly_truth;
    int64_t anomaly_cap;
    /* results */
    result *results;
    int32_t n_results, cap_results;
};

/* The keys of each metric type; prefix and collect_device are mmengine's, accepted and unused. */
typedef struct point_cfg {
    int32_t input_size[2], n_input_size;
    double threshold;
} point_cfg;

static const sscma_field accuracy_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_LIST_AS("topk", sscma_metric, topk, offsetof(sscma_metric, n_topk), 1, 1, 1, 1000000,
                        SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_KEY("prefix"),
    SSCMA_FIELD_KEY("collect_device"),
    SSCMA_FIELD_END,
};

static const sscma_field point_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_LIST_AS("input_size", point_cfg, input_size, offsetof(point_cfg, n_input_size), 2, 112, 1, INFINITY,
                        SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD(point_cfg, threshold, 10.0),
    SSCMA_FIELD_KEY("prefix"),
    SSCMA_FIELD_KEY("collect_device"),
    SSCMA_FIELD_END,
};

static const sscma_field plain_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("prefix"),
    SSCMA_FIELD_KEY("collect_device"),
    SSCMA_FIELD_END,
};

typedef struct coco_cfg {
    json_t *metric, *iou_thrs, *metric_items, *outfile_prefix;
    bool classwise, format_only, sort_categories;
    int64_t proposal_nums[3];
    int32_t n_proposal_nums;
} coco_cfg;

static const sscma_field coco_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("ann_file"), /* the trainer passes the validation set's annotations, read from that file */
    SSCMA_FIELD_JSON_AS("metric", coco_cfg, metric),
    SSCMA_FIELD(coco_cfg, classwise, 0),
    SSCMA_FIELD_LIST_AS("proposal_nums", coco_cfg, proposal_nums, offsetof(coco_cfg, n_proposal_nums), 3, 0, 1, 100000,
                        SSCMA_FIELD_PREFILLED),
    SSCMA_FIELD_JSON_AS("iou_thrs", coco_cfg, iou_thrs),
    SSCMA_FIELD_JSON_AS("metric_items", coco_cfg, metric_items),
    SSCMA_FIELD(coco_cfg, format_only, 0),
    SSCMA_FIELD_JSON_AS("outfile_prefix", coco_cfg, outfile_prefix),
    SSCMA_FIELD_KEY("backend_args"),
    SSCMA_FIELD_KEY("file_client_args"),
    SSCMA_FIELD(coco_cfg, sort_categories, 0),
    SSCMA_FIELD_KEY("prefix"),
    SSCMA_FIELD_KEY("collect_device"),
    SSCMA_FIELD_END,
};

/* mmdet's coco_metric_names: the metric_items and the COCOeval.stats entry each reads */
static const char *const coco_item_names[COCO_STATS] = {"mAP",    "mAP_50",  "mAP_75",    "mAP_s",
                                                        "mAP_m",  "mAP_l",   "AR@100",    "AR@300",
                                                        "AR@1000", "AR_s@1000", "AR_m@1000", "AR_l@1000"};

static sscma_status parse_coco(sscma_metric *m, json_t *cfg)
{
    coco_cfg c = {.proposal_nums = {100, 300, 1000}, .n_proposal_nums = 3}; /* mmdet's default proposal_nums */
    sscma_status st = sscma_schema_read(coco_fields, cfg, WHERE, NULL, &c);
    if (st != SSCMA_OK)
        return st;
    json_t *metric = c.metric;
    if (json_is_array(metric) && json_array_size(metric) == 1)
        metric = json_array_get(metric, 0);
    if (c.metric != NULL && !json_is_null(c.metric) &&
        (!json_is_string(metric) || strcmp(json_string_value(metric), "bbox") != 0))
        return sscma_schema_expected(WHERE, NULL, "metric", "'bbox' (libsscma evaluates boxes only)", c.metric);
    if (c.iou_thrs != NULL && !json_is_null(c.iou_thrs))
        return sscma_schema_expected(WHERE, NULL, "iou_thrs", "null (COCO's 0.50:0.05:0.95)", c.iou_thrs);
    if (c.format_only)
        return sscma_schema_fail(WHERE, NULL, "format_only", "expected false: libsscma writes no result files");
    if (c.sort_categories)
        return sscma_schema_fail(WHERE, NULL, "sort_categories", "expected false: classes are the dataset's order");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < i; j++)
            if (c.proposal_nums[i] == c.proposal_nums[j])
                return sscma_schema_fail(WHERE, NULL, "proposal_nums", "expected three different numbers, got %lld twice",
                                         (long long)c.proposal_nums[i]);
    if (c.metric_items != NULL && !json_is_null(c.metric_items)) {
        if (!json_is_array(c.metric_items) || json_array_size(c.metric_items) > COCO_STATS)
            return sscma_schema_expected(WHERE, NULL, "metric_items", "a list of mmdet's metric item names",
                                         c.metric_items);
        size_t i;
        json_t *v;
        json_array_foreach(c.metric_items, i, v)
        {
            int found = -1;
            for (int k = 0; k < COCO_STATS && json_is_string(v); k++)
                if (strcmp(json_string_value(v), coco_item_names[k]) == 0)
                    found = k;
            if (found < 0) {
                char path[48];
                snprintf(path, sizeof path, "metric_items[%zu]", i);
                return sscma_schema_expected(WHERE, NULL, path,
                                             "one of: mAP, mAP_50, mAP_75, mAP_s, mAP_m, mAP_l, AR@100, AR@300, "
                                             "AR@1000, AR_s@1000, AR_m@1000, AR_l@1000",
                                             v);
            }
            m->items[m->n_items++] = found;
        }
    }
    if (c.outfile_prefix != NULL && !json_is_null(c.outfile_prefix)) {
        if (!json_is_string(c.outfile_prefix) || json_string_length(c.outfile_prefix) == 0)
            return sscma_schema_expected(WHERE, NULL, "outfile_prefix", "a path prefix (a non-empty string) or null",
                                         c.outfile_prefix);
        if ((m->outfile_prefix = sscma_mstrdup(m->ctx, json_string_value(c.outfile_prefix))) == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy outfile_prefix");
    }
    m->kind = M_COCO;
    m->classwise = c.classwise;
    memcpy(m->coco_caps, c.proposal_nums, sizeof m->coco_caps);
    return SSCMA_OK;
}

typedef struct anomaly_fields_cfg {
    double fpr;
    json_t *abnormal_classes;
} anomaly_fields_cfg;

static const sscma_field anomaly_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("fpr", anomaly_fields_cfg, fpr, 0.05, true, 0.0, 1.0, 0),
    SSCMA_FIELD_JSON_AS("abnormal_classes", anomaly_fields_cfg, abnormal_classes),
    SSCMA_FIELD_KEY("prefix"),
    SSCMA_FIELD_KEY("collect_device"),
    SSCMA_FIELD_END,
};

/* abnormal_classes as class indices here (a runner resolves the names against its dataset first) */
static sscma_status parse_anomaly(sscma_metric *m, json_t *cfg)
{
    anomaly_fields_cfg c;
    sscma_status st = sscma_schema_read(anomaly_fields, cfg, WHERE, NULL, &c);
    if (st != SSCMA_OK)
        return st;
    size_t n = json_array_size(c.abnormal_classes);
    bool ok = json_is_array(c.abnormal_classes) && n >= 1 && n <= ANOMALY_MAX_CLASSES;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *v = json_array_get(c.abnormal_classes, i);
        ok = json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < INT32_MAX;
        if (ok)
            m->abnormal_ids[i] = (int32_t)json_integer_value(v);
    }
    if (!ok)
        return sscma_schema_expected(WHERE, NULL, "abnormal_classes", "a list of 1 to 64 class indices (a runner "
                                     "turns class names into indices against its dataset)", c.abnormal_classes);
    m->kind = M_ANOMALY;
    m->n_abnormal_ids = (int32_t)n;
    m->anomaly_fpr = c.fpr;
    return SSCMA_OK;
}

static sscma_status parse(sscma_metric *m, json_t *cfg)
{
    json_t *type_value = json_object_get(cfg, "type");
    const char *type = json_string_value(type_value);
    if (type != NULL && strcmp(type, "Accuracy") == 0) {
        m->kind = M_ACCURACY;
        sscma_status st = sscma_schema_read(accuracy_fields, cfg, WHERE, NULL, m);
        if (st == SSCMA_OK && m->n_topk == 0) /* absent: top-1 */
            m->n_topk = 1;
        return st;
    }
    if (type != NULL && strcmp(type, "PointMetric") == 0) {
        m->kind = M_POINT;
        point_cfg p;
        sscma_status st = sscma_schema_read(point_fields, cfg, WHERE, NULL, &p);
        if (st != SSCMA_OK)
            return st;
        /* a single size is square (the list default fills both entries) */
        m->in_h = p.input_size[0], m->in_w = p.n_input_size == 1 ? p.input_size[0] : p.input_size[1];
        if (!(p.threshold > 1.0))
            return sscma_schema_fail(WHERE, NULL, "threshold", "expected a number above 1 (pixels), got %g",
                                     p.threshold);
        m->threshold = p.threshold;
        return SSCMA_OK;
    }
    if (type != NULL && (strcmp(type, "FomoMetric") == 0 || strcmp(type, "MSE") == 0)) {
        m->kind = type[0] == 'F' ? M_FOMO : M_MSE;
        return sscma_schema_read(plain_fields, cfg, WHERE, NULL, m);
    }
    if (type != NULL && (strcmp(type, "CocoMetric") == 0 || strcmp(type, "mmdet.CocoMetric") == 0))
        return parse_coco(m, cfg);
    if (type != NULL && (strcmp(type, "AnomalyMetric") == 0 || strcmp(type, "sscma.AnomalyMetric") == 0))
        return parse_anomaly(m, cfg);
    if (type != NULL && strcmp(type, "MseMetric") == 0) {
        m->kind = M_MSE_LOSS;
        return sscma_schema_read(plain_fields, cfg, WHERE, NULL, m);
    }
    return sscma_schema_expected(WHERE, NULL, "type", "one of: Accuracy, FomoMetric, PointMetric, MSE, CocoMetric, "
                                 "AnomalyMetric, MseMetric", type_value);
}

sscma_status sscma_metric_create(const char *config_json, sscma_metric **out)
{
    return sscma_metric_create_in(NULL, config_json, out);
}

sscma_status sscma_metric_create_in(const sscma_context *ctx, const char *config_json, sscma_metric **out)
{
    SSCMA_REQUIRE_NONNULL(config_json);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *cfg = json_loads(config_json, 0, &err);
    if (cfg == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "metric config: line %d, column %d: %s", err.line, err.column, err.text);
    sscma_metric *m = sscma_calloc(ctx, 1, sizeof *m);
    if (m != NULL)
        m->ctx = ctx, sscma_context_retain(ctx); /* NULL (the public call): no context */
    sscma_status st = m == NULL ? SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a metric")
                      : !json_is_object(cfg) ? sscma_schema_expected(WHERE, NULL, NULL, "an object", cfg)
                                             : parse(m, cfg);
    json_decref(cfg);
    if (st != SSCMA_OK) {
        sscma_metric_destroy(m);
        return st;
    }
    *out = m;
    return SSCMA_OK;
}

void sscma_metric_destroy(sscma_metric *metric)
{
    if (metric == NULL)
        return;
    sscma_mfree(metric->ctx, metric->confusion);
    sscma_mfree(metric->ctx, metric->tmax);
    sscma_mfree(metric->ctx, metric->pmax);
    sscma_mfree(metric->ctx, metric->results);
    sscma_mfree(metric->ctx, metric->outfile_prefix);
    sscma_mfree(metric->ctx, metric->anomaly_scores);
    sscma_mfree(metric->ctx, metric->anomaly_truth);
    coco_eval_destroy(metric->coco);
    const sscma_context *ctx = metric->ctx;
    sscma_mfree(ctx, metric);
    sscma_context_release(ctx);
}

sscma_status sscma_metric_reset(sscma_metric *metric)
{
    SSCMA_REQUIRE_NONNULL(metric);
    sscma_metric *m = metric;
    sscma_mfree(m->ctx, m->confusion);
    m->confusion = NULL;
    m->classes = 0;
    m->samples = m->tp = m->fp = m->fn = m->nme_count = m->elements = 0;
    m->acc_sum = m->nme_sum = m->sq_sum = 0.0;
    memset(m->correct, 0, sizeof m->correct);
    m->n_results = 0;
    coco_eval_destroy(m->coco); /* remade by the next add, for its class count */
    m->coco = NULL;
    return SSCMA_OK;
}

/* ---- results ---- */

static sscma_status add_result(sscma_metric *m, const char *name, double value)
{
    if (m->n_results == m->cap_results) {
        int32_t cap = m->cap_results ? 2 * m->cap_results : 16;
        result *r = sscma_mrealloc(m->ctx, m->results, (size_t)cap * sizeof *r);
        if (r == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot store results");
        m->results = r, m->cap_results = cap;
    }
    snprintf(m->results[m->n_results].name, sizeof m->results[m->n_results].name, "%s", name);
    m->results[m->n_results++].value = value;
    return SSCMA_OK;
}

static sscma_status compute(sscma_metric *m)
{
    m->n_results = 0;
    sscma_status st = SSCMA_OK;
    char name[48];
    switch (m->kind) {
    case M_ANOMALY: {
        int64_t pos = 0;
        for (int64_t i = 0; i < m->samples; i++)
            pos += m->anomaly_truth[i];
        if (pos == 0 || pos == m->samples) /* no ROC yet: results once both kinds have been seen */
            break;
        anomaly_roc r;
        st = anomaly_roc_compute(m->ctx, m->anomaly_scores, m->anomaly_truth, m->samples, m->anomaly_fpr, &r);
        if (st == SSCMA_OK && (st = add_result(m, "auc", r.auc)) == SSCMA_OK &&
            (st = add_result(m, "threshold", r.threshold)) == SSCMA_OK && (st = add_result(m, "tpr", r.tpr)) == SSCMA_OK)
            st = add_result(m, "fpr", r.fpr);
        break;
    }
    case M_ACCURACY: {
        for (int32_t i = 0; i < m->n_topk && st == SSCMA_OK; i++) {
            snprintf(name, sizeof name, "accuracy/top%d", (int)m->topk[i]);
            st = add_result(m, name, 100.0 * (double)m->correct[i] / (double)m->samples);
        }
        const int32_t k = m->classes;
        double psum = 0.0, rsum = 0.0, fsum = 0.0;
        int32_t present = 0;
        for (int32_t c = 0; c < k && st == SSCMA_OK; c++) {
            int64_t tp = m->confusion[(size_t)c * (size_t)k + (size_t)c], pred = 0, truth = 0;
            for (int32_t j = 0; j < k; j++)
                pred += m->confusion[(size_t)j * (size_t)k + (size_t)c],
                    truth += m->confusion[(size_t)c * (size_t)k + (size_t)j];
            double p = pred > 0 ? 100.0 * (double)tp / (double)pred : 0.0;
            double r = truth > 0 ? 100.0 * (double)tp / (double)truth : 0.0;
            if (pred > 0 || truth > 0) {
                present++;
                psum += p, rsum += r, fsum += p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
            }
            snprintf(name, sizeof name, "precision/%d", (int)c);
            st = add_result(m, name, p);
            snprintf(name, sizeof name, "recall/%d", (int)c);
            if (st == SSCMA_OK)
                st = add_result(m, name, r);
        }
        if (st == SSCMA_OK)
            st = add_result(m, "single-label/precision", present ? psum / present : 0.0);
        if (st == SSCMA_OK)
            st = add_result(m, "single-label/recall", present ? rsum / present : 0.0);
        if (st == SSCMA_OK)
            st = add_result(m, "single-label/f1-score", present ? fsum / present : 0.0);
        break;
    }
    case M_FOMO: {
        double p = 0.0, r = 0.0, f1 = 0.0;
        if (m->tp + m->fp != 0 && m->tp + m->fn != 0) {
            p = (double)m->tp / (double)(m->tp + m->fp);
            r = (double)m->tp / (double)(m->tp + m->fn);
            f1 = p + r != 0.0 ? 2.0 * p * r / (p + r) : 0.0;
        }
        if ((st = add_result(m, "P", p)) == SSCMA_OK && (st = add_result(m, "R", r)) == SSCMA_OK)
            st = add_result(m, "F1", f1);
        break;
    }
    case M_POINT:
        if ((st = add_result(m, "keypoint/Acc", m->acc_sum / (double)m->samples)) == SSCMA_OK)
            st = add_result(m, "keypoint/NME", m->nme_count ? m->nme_sum / (double)m->nme_count : 0.0);
        break;
    case M_MSE: st = add_result(m, "mse", m->elements ? m->sq_sum / (double)m->elements : 0.0); break;
    case M_COCO: break; /* sscma_metric_finish_detections */
    case M_MSE_LOSS: st = add_result(m, "mse", m->samples > 0 ? m->sq_sum / (double)m->samples : 0.0); break;
    }
    return st;
}

/* ---- updates ---- */

static sscma_status describe(const sscma_tensor *t, const char *what, sscma_dtype want, int32_t *rank, int64_t *dims,
                             const void **data)
{
    sscma_dtype dt;
    sscma_tensor_dtype(t, &dt);
    if (dt != want)
        return sscma_fail(SSCMA_ERR_DTYPE, WHERE, "%s must be %s", what, want == SSCMA_DTYPE_F32 ? "f32" : "i32");
    sscma_tensor_rank(t, rank);
    for (int32_t i = 0; i < *rank; i++)
        sscma_tensor_dim(t, i, &dims[i]);
    void *p = NULL;
    sscma_tensor_data(t, &p);
    *data = p;
    return SSCMA_OK;
}

static void shape_text(char *buf, size_t size, int32_t rank, const int64_t *dims)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int32_t i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

static sscma_status shape_fail(const char *what, int32_t ra, const int64_t *a, int32_t rb, const int64_t *b)
{
    char sa[128], sb[128];
    shape_text(sa, sizeof sa, ra, a);
    shape_text(sb, sizeof sb, rb, b);
    return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "%s: pred %s and target %s", what, sa, sb);
}

static sscma_status set_classes(sscma_metric *m, int64_t k)
{
    if (k < 1 || k > 100000)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "%lld classes: expected 1 to 100000", (long long)k);
    if (m->classes != 0 && m->classes != k)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "%lld classes, but %d before: reset the metric first", (long long)k,
                          (int)m->classes);
    if (m->kind == M_ACCURACY && m->confusion == NULL &&
        (m->confusion = sscma_calloc(m->ctx, (size_t)(k * k), sizeof *m->confusion)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate a %lld-class confusion matrix", (long long)k);
    m->classes = (int32_t)k;
    return SSCMA_OK;
}

static sscma_status update_accuracy(sscma_metric *m, const sscma_tensor *pred, const sscma_tensor *target,
                                    int64_t count)
{
    int32_t rp, rt;
    int64_t dp[SSCMA_TENSOR_MAX_RANK], dt[SSCMA_TENSOR_MAX_RANK];
    const void *vp = NULL, *vt = NULL;
    sscma_status st;
    if ((st = describe(pred, "Accuracy pred", SSCMA_DTYPE_F32, &rp, dp, &vp)) != SSCMA_OK ||
        (st = describe(target, "Accuracy target (labels)", SSCMA_DTYPE_I32, &rt, dt, &vt)) != SSCMA_OK)
        return st;
    if (rp != 2 || rt != 1 || dp[0] != dt[0])
        return shape_fail("Accuracy expects pred [N, K] and target [N]", rp, dp, rt, dt);
    if (count < 0 || count > dp[0])
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "count %lld outside [0, %lld]", (long long)count,
                          (long long)dp[0]);
    const int64_t k = dp[1];
    const float *s = vp;
    const int32_t *y = vt;
    for (int64_t i = 0; i < count; i++)
        if (y[i] < 0 || y[i] >= k)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "sample %lld: label %d outside [0, %lld)",
                              (long long)i, (int)y[i], (long long)k);
    if ((st = set_classes(m, k)) != SSCMA_OK)
        return st;
    for (int64_t i = 0; i < count; i++) {
        const float *row = s + i * k;
        const int32_t t = y[i];
        int64_t rank = 0, arg = 0;
        for (int64_t j = 0; j < k; j++) {
            rank += row[j] > row[t] || (row[j] == row[t] && j < t);
            if (row[j] > row[arg])
                arg = j;
        }
        for (int32_t q = 0; q < m->n_topk; q++)
            m->correct[q] += rank < m->topk[q];
        m->confusion[(size_t)t * (size_t)k + (size_t)arg]++;
    }
    m->samples += count;
    return SSCMA_OK;
}

static int32_t argmax(const float *v, int64_t n)
{
    int32_t a = 0;
    for (int64_t j = 1; j < n; j++)
        if (v[j] > v[a])
            a = (int32_t)j;
    return a;
}

static sscma_status update_fomo(sscma_metric *m, const sscma_tensor *pred, const sscma_tensor *target, int64_t count)
{
    int32_t rp, rt;
    int64_t dp[SSCMA_TENSOR_MAX_RANK], dt[SSCMA_TENSOR_MAX_RANK];
    const void *vp = NULL, *vt = NULL;
    sscma_status st;
    if ((st = describe(pred, "FomoMetric pred", SSCMA_DTYPE_F32, &rp, dp, &vp)) != SSCMA_OK ||
        (st = describe(target, "FomoMetric target", SSCMA_DTYPE_F32, &rt, dt, &vt)) != SSCMA_OK)
        return st;
    if (rp != 4 || rt != 4 || memcmp(dp, dt, 4 * sizeof *dp) != 0)
        return shape_fail("FomoMetric expects pred and target [N, H, W, C+1]", rp, dp, rt, dt);
    if (count < 0 || count > dp[0])
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "count %lld outside [0, %lld]", (long long)count,
                          (long long)dp[0]);
    const int64_t h = dp[1], w = dp[2], c = dp[3], cells = h * w;
    if ((st = set_classes(m, c)) != SSCMA_OK)
        return st;
    if (cells > m->scratch_cells) {
        sscma_mfree(m->ctx, m->tmax), sscma_mfree(m->ctx, m->pmax);
        m->tmax = sscma_malloc(m->ctx, (size_t)cells * sizeof *m->tmax);
        m->pmax = sscma_malloc(m->ctx, (size_t)cells * sizeof *m->pmax);
        m->scratch_cells = m->tmax && m->pmax ? cells : 0;
        if (m->scratch_cells == 0)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %lld cells", (long long)cells);
    }
    /* SSCMA's posit_offset order (row, column) */
    static const int off[9][2] = {{-1, 0}, {-1, -1}, {0, -1}, {1, 0}, {1, 1}, {0, 1}, {1, -1}, {-1, 1}, {0, 0}};
    const float *p = vp, *t = vt;
    for (int64_t n = 0; n < count; n++) {
        int32_t *tm = m->tmax, *pm = m->pmax;
        for (int64_t i = 0; i < cells; i++) {
            tm[i] = argmax(t + (n * cells + i) * c, c);
            pm[i] = argmax(p + (n * cells + i) * c, c);
        }
        /* the ground-truth cells are listed before any relabelling, as torch.where does */
        int64_t n_gt = 0;
        for (int64_t i = 0; i < cells; i++)
            n_gt += tm[i] > 0;
        int64_t *gt = n_gt ? sscma_malloc(m->ctx, (size_t)n_gt * sizeof *gt) : NULL;
        if (n_gt && gt == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot list ground-truth cells");
        for (int64_t i = 0, j = 0; i < cells; i++)
            if (tm[i] > 0)
                gt[j++] = i;
        for (int64_t g = 0; g < n_gt; g++) {
            int64_t gy = gt[g] / w, gx = gt[g] % w;
            for (int q = 0; q < 9; q++) {
                int64_t y = gy + off[q][0], x = gx + off[q][1];
                if (y < 0 || y >= h || x < 0 || x >= w)
                    continue;
                int64_t s = y * w + x;
                if (pm[s] > 0 && pm[s] == tm[gt[g]])
                    tm[s] = tm[gt[g]];
            }
        }
        sscma_mfree(m->ctx, gt);
        for (int64_t i = 0; i < cells; i++) {
            if (tm[i] == pm[i])
                m->tp += tm[i] > 0;
            else if (tm[i] > pm[i])
                m->fn++;
            else
                m->fp++;
        }
    }
    m->samples += count;
    return SSCMA_OK;
}

static sscma_status same_f32(const char *what, const sscma_tensor *pred, const sscma_tensor *target, int64_t count,
                             int64_t *per_sample, const float **p, const float **t)
{
    int32_t rp, rt;
    int64_t dp[SSCMA_TENSOR_MAX_RANK], dt[SSCMA_TENSOR_MAX_RANK];
    const void *vp = NULL, *vt = NULL;
    sscma_status st;
    if ((st = describe(pred, what, SSCMA_DTYPE_F32, &rp, dp, &vp)) != SSCMA_OK ||
        (st = describe(target, what, SSCMA_DTYPE_F32, &rt, dt, &vt)) != SSCMA_OK)
        return st;
    if (rp != rt || rp < 1 || memcmp(dp, dt, (size_t)rp * sizeof *dp) != 0)
        return shape_fail(what, rp, dp, rt, dt);
    if (count < 0 || count > dp[0])
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "count %lld outside [0, %lld]", (long long)count,
                          (long long)dp[0]);
    *per_sample = 1;
    for (int32_t i = 1; i < rp; i++)
        *per_sample *= dp[i];
    *p = vp, *t = vt;
    return SSCMA_OK;
}

static sscma_status update_point(sscma_metric *m, const sscma_tensor *pred, const sscma_tensor *target, int64_t count)
{
    int64_t per = 0;
    const float *p, *t;
    sscma_status st = same_f32("PointMetric expects pred and target [N, 2P]", pred, target, count, &per, &p, &t);
    if (st != SSCMA_OK)
        return st;
    if (per < 2 || per % 2 != 0)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "PointMetric: %lld values per sample is not a list of (x, y)",
                          (long long)per);
    const double diag = sqrt(m->in_w * m->in_w + m->in_h * m->in_h), th = m->threshold;
    for (int64_t n = 0; n < count; n++) {
        const float *pp = p + n * per, *tt = t + n * per;
        for (int64_t k = 0; k < per / 2; k++) {
            double px = fmax((double)pp[2 * k] * m->in_w, 0.0), py = fmax((double)pp[2 * k + 1] * m->in_h, 0.0);
            double dx = (double)tt[2 * k] * m->in_w - px, dy = (double)tt[2 * k + 1] * m->in_h - py;
            double d = sqrt(dx * dx + dy * dy);
            if (k == 0)
                m->acc_sum += d > th ? 0.0 : d > 1.0 ? (th - d) / (th - 1.0) : 1.0;
            m->nme_sum += d / diag;
            m->nme_count++;
        }
    }
    m->samples += count;
    return SSCMA_OK;
}

static sscma_status update_mse(sscma_metric *m, const sscma_tensor *pred, const sscma_tensor *target, int64_t count)
{
    int64_t per = 0;
    const float *p, *t;
    sscma_status st = same_f32("MSE expects pred and target of one shape", pred, target, count, &per, &p, &t);
    if (st != SSCMA_OK)
        return st;
    for (int64_t i = 0; i < count * per; i++) {
        double d = (double)p[i] - (double)t[i];
        m->sq_sum += d * d;
    }
    m->elements += count * per;
    m->samples += count;
    return SSCMA_OK;
}

/* pred: one f32 score per sample ([N] or [N, 1, ...]); target: i32 labels [N] */
static sscma_status update_anomaly(sscma_metric *m, const sscma_tensor *pred, const sscma_tensor *target,
                                   int64_t count)
{
    int32_t rp, rt;
    int64_t dp[SSCMA_TENSOR_MAX_RANK], dt[SSCMA_TENSOR_MAX_RANK];
    const void *vp = NULL, *vt = NULL;
    sscma_status st;
    if ((st = describe(pred, "AnomalyMetric expects one f32 score per sample", SSCMA_DTYPE_F32, &rp, dp, &vp)) !=
            SSCMA_OK ||
        (st = describe(target, "AnomalyMetric expects i32 labels [N]", SSCMA_DTYPE_I32, &rt, dt, &vt)) != SSCMA_OK)
        return st;
    int64_t per = 1;
    for (int32_t i = 1; i < rp; i++)
        per *= dp[i];
    if (rp < 1 || per != 1 || rt != 1 || dt[0] != dp[0])
        return shape_fail("AnomalyMetric expects scores [N] or [N, 1] and labels [N]", rp, dp, rt, dt);
    if (count < 0 || count > dp[0])
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "count %lld outside [0, %lld]", (long long)count,
                          (long long)dp[0]);
    if (m->samples + count > m->anomaly_cap) {
        int64_t cap = (m->samples + count) * 2 + 64;
        double *s = sscma_mrealloc(m->ctx, m->anomaly_scores, (size_t)cap * sizeof *s);
        if (s != NULL)
            m->anomaly_scores = s;
        bool *t = s != NULL ? sscma_mrealloc(m->ctx, m->anomaly_truth, (size_t)cap * sizeof *t) : NULL;
        if (t == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot store %lld anomaly scores", (long long)cap);
        m->anomaly_truth = t, m->anomaly_cap = cap;
    }
    const float *p = vp;
    const int32_t *labels = vt;
    for (int64_t i = 0; i < count; i++) {
        if (!isfinite(p[i]))
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "AnomalyMetric: sample %lld: the score is %g, not a "
                              "finite number", (long long)(m->samples + i), (double)p[i]);
        bool abnormal = false;
        for (int32_t k = 0; k < m->n_abnormal_ids; k++)
            abnormal = abnormal || labels[i] == m->abnormal_ids[k];
        m->anomaly_scores[m->samples + i] = p[i];
        m->anomaly_truth[m->samples + i] = abnormal;
    }
    m->samples += count;
    return SSCMA_OK;
}

/* MseMetric: pred is the batch's mean loss, a scalar */
static sscma_status update_mse_loss(sscma_metric *m, const sscma_tensor *pred, int64_t count)
{
    int64_t n = 0;
    void *data = NULL;
    sscma_dtype dtype = SSCMA_DTYPE_F32;
    sscma_tensor_numel(pred, &n);
    sscma_tensor_dtype(pred, &dtype);
    if (n != 1 || dtype != SSCMA_DTYPE_F32 || sscma_tensor_data(pred, &data) != SSCMA_OK || data == NULL)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "MseMetric expects the model's loss (one f32 value), got %lld "
                          "values", (long long)n);
    if (count < 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "count %lld is negative", (long long)count);
    m->sq_sum += (double)((const float *)data)[0] * (double)count;
    m->samples += count;
    return SSCMA_OK;
}

sscma_status sscma_metric_update(sscma_metric *metric, const sscma_tensor *pred, const sscma_tensor *target,
                                 int64_t count)
{
    SSCMA_REQUIRE_NONNULL(metric);
    SSCMA_REQUIRE_NONNULL(pred);
    SSCMA_REQUIRE_NONNULL(target);
    sscma_status st;
    switch (metric->kind) {
    case M_COCO:
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE,
                          "CocoMetric takes boxes per image from the trainer (detections and ground truth), not "
                          "tensors");
    case M_ACCURACY: st = update_accuracy(metric, pred, target, count); break;
    case M_FOMO: st = update_fomo(metric, pred, target, count); break;
    case M_POINT: st = update_point(metric, pred, target, count); break;
    case M_ANOMALY: st = update_anomaly(metric, pred, target, count); break;
    case M_MSE_LOSS: st = update_mse_loss(metric, pred, count); break;
    default: st = update_mse(metric, pred, target, count); break;
    }
    if (st != SSCMA_OK)
        return st;
    return metric->samples > 0 ? compute(metric) : SSCMA_OK;
}

sscma_status sscma_metric_result_count(const sscma_metric *metric, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(metric);
    SSCMA_REQUIRE_NONNULL(out);
    *out = metric->n_results;
    return SSCMA_OK;
}

sscma_status sscma_metric_result(const sscma_metric *metric, int32_t index, const char **name, double *value)
{
    SSCMA_REQUIRE_NONNULL(metric);
    if (index < 0 || index >= metric->n_results)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "result %d outside [0, %d)", (int)index,
                          (int)metric->n_results);
    if (name != NULL)
        *name = metric->results[index].name;
    if (value != NULL)
        *value = metric->results[index].value;
    return SSCMA_OK;
}

sscma_status sscma_metric_get(const sscma_metric *metric, const char *name, double *out)
{
    SSCMA_REQUIRE_NONNULL(metric);
    SSCMA_REQUIRE_NONNULL(name);
    SSCMA_REQUIRE_NONNULL(out);
    for (int32_t i = 0; i < metric->n_results; i++)
        if (strcmp(metric->results[i].name, name) == 0) {
            *out = metric->results[i].value;
            return SSCMA_OK;
        }
    char list[256] = "";
    size_t n = 0;
    for (int32_t i = 0; i < metric->n_results && n < sizeof list; i++)
        if (strncmp(metric->results[i].name, "precision/", 10) != 0 &&
            strncmp(metric->results[i].name, "recall/", 7) != 0) /* per-class results: too many to list */
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", metric->results[i].name);
    return SSCMA_FAIL(SSCMA_ERR_NOT_FOUND, "no result '%s'%s%s", name, metric->n_results ? "; results: " : " (no samples yet)",
                      list);
}

sscma_status sscma_metric_confusion_matrix(const sscma_metric *metric, int32_t *num_classes, const int64_t **matrix)
{
    SSCMA_REQUIRE_NONNULL(metric);
    SSCMA_REQUIRE_NONNULL(num_classes);
    SSCMA_REQUIRE_NONNULL(matrix);
    if (metric->kind != M_ACCURACY)
        return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "only Accuracy keeps a confusion matrix");
    if (metric->confusion == NULL)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "no samples since the last reset");
    *num_classes = metric->classes;
    *matrix = metric->confusion;
    return SSCMA_OK;
}

/* ---- CocoMetric ---- */

bool sscma_metric_wants_detections(const sscma_metric *metric)
{
    return metric != NULL && metric->kind == M_COCO;
}

sscma_status sscma_metric_add_detections(sscma_metric *metric, int32_t num_classes, const coco_gt *gt, int64_t n_gt,
                                         const coco_det *det, int64_t n_det)
{
    SSCMA_REQUIRE_NONNULL(metric);
    sscma_metric *m = metric;
    if (m->kind != M_COCO)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "only CocoMetric takes detections");
    if (m->coco != NULL && m->classes != num_classes)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "%d classes, but %d before: reset the metric first",
                          (int)num_classes, (int)m->classes);
    if (m->coco == NULL) {
        sscma_status st = coco_eval_create(m->ctx, num_classes, m->coco_caps, &m->coco);
        if (st != SSCMA_OK)
            return st;
        m->classes = num_classes;
    }
    m->n_results = 0; /* stale until the next finish */
    return coco_eval_add_image(m->coco, gt, n_gt, det, n_det);
}

/*
 * CocoMetric's side of a validation batch (state.h): `pred` is a yolo_decode output [B, N, 5 + C] (cx, cy, w, h in input
 * pixels, objectness, class scores), `labels` a BoxTarget [B, max_boxes, 6] (class, x1, y1, x2, y2, valid). Each
 * image goes through test_cfg's NMS and into the metric, in the loader's order, in the coordinates of the
 * validation pipeline's output (docs/training.md, "Detection metric").
 */
sscma_status sscma_metric_add_detection_batch(const sscma_context *ctx, sscma_metric *metric,
                                              const det_nms_config *nms, const sscma_tensor *pred,
                                              const sscma_tensor *labels, int64_t count, int64_t in_h, int64_t in_w)
{
    int32_t pr = 0, lr = 0;
    int64_t n = 0, attrib = 0, max_boxes = 0, cols = 0;
    sscma_tensor_rank(pred, &pr), sscma_tensor_rank(labels, &lr);
    if (pr == 3)
        sscma_tensor_dim(pred, 1, &n), sscma_tensor_dim(pred, 2, &attrib);
    if (lr == 3)
        sscma_tensor_dim(labels, 1, &max_boxes), sscma_tensor_dim(labels, 2, &cols);
    if (pr != 3 || attrib < 6 || lr != 3 || cols != 6)
        return SSCMA_FAIL(SSCMA_ERR_SHAPE, "CocoMetric needs the model's decoded boxes [B, N, 5 + C] (pred_output "
                                           "of a yolo_decode) and a BoxTarget [B, max_boxes, 6] from the validation "
                                           "loader");
    const int32_t classes = (int32_t)(attrib - 5);
    void *pd = NULL, *ld = NULL;
    sscma_tensor_data(pred, &pd), sscma_tensor_data(labels, &ld);
    const float *P = pd, *L = ld;
    float *boxes = sscma_alloc_array(ctx, (size_t)n, 4 * sizeof(float), 64);
    float *scores = sscma_alloc_array(ctx, (size_t)n, (size_t)classes * sizeof(float), 64);
    float *obj = sscma_alloc_array(ctx, (size_t)n, sizeof(float), 64);
    coco_gt *gt = sscma_alloc_array(ctx, (size_t)(max_boxes > 0 ? max_boxes : 1), sizeof(coco_gt), 8);
    coco_det *det = NULL;
    int64_t det_cap = 0;
    sscma_status st = boxes && scores && obj && gt ? SSCMA_OK
                                                   : SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "detection scratch");
    const det_rescale same = {0.0f, 0.0f, 1.0f, 1.0f, (float)in_w, (float)in_h};
    for (int64_t b = 0; st == SSCMA_OK && b < count; b++) {
        const float *p = P + b * n * attrib;
        for (int64_t i = 0; i < n; i++, p += attrib) {
            boxes[4 * i] = p[0] - 0.5f * p[2], boxes[4 * i + 1] = p[1] - 0.5f * p[3];
            boxes[4 * i + 2] = p[0] + 0.5f * p[2], boxes[4 * i + 3] = p[1] + 0.5f * p[3];
            obj[i] = p[4];
            memcpy(scores + i * classes, p + 5, (size_t)classes * sizeof(float));
        }
        int64_t n_gt = 0;
        for (int64_t r = 0; r < max_boxes; r++) {
            const float *row = L + (b * max_boxes + r) * 6;
            if (row[5] <= 0.5f)
                continue;
            coco_gt *g = &gt[n_gt++];
            g->x = row[1], g->y = row[2], g->w = (double)row[3] - row[1], g->h = (double)row[4] - row[2];
            g->area = g->w * g->h;
            g->label = (int32_t)row[0];
            g->iscrowd = false;
        }
        det_result res = {0, NULL, NULL, NULL};
        if ((st = det_nms(ctx, nms, boxes, scores, obj, n, classes, &same, &res)) != SSCMA_OK)
            break;
        if (res.count > det_cap) {
            sscma_free(ctx, det, (size_t)det_cap * sizeof *det);
            det_cap = res.count;
            if ((det = sscma_alloc_array(ctx, (size_t)det_cap, sizeof *det, 8)) == NULL) {
                det_cap = 0;
                det_result_free(ctx, &res);
                st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "detections");
                break;
            }
        }
        for (int64_t k = 0; k < res.count; k++) {
            det[k].x1 = res.boxes[4 * k], det[k].y1 = res.boxes[4 * k + 1];
            det[k].x2 = res.boxes[4 * k + 2], det[k].y2 = res.boxes[4 * k + 3];
            det[k].score = res.scores[k];
            det[k].label = res.labels[k];
        }
        st = sscma_metric_add_detections(metric, classes, gt, n_gt, det, res.count);
        det_result_free(ctx, &res);
    }
    sscma_free(ctx, det, (size_t)det_cap * sizeof *det);
    sscma_free(ctx, gt, (size_t)(max_boxes > 0 ? max_boxes : 1) * sizeof(coco_gt));
    sscma_free(ctx, obj, (size_t)n * sizeof(float));
    sscma_free(ctx, scores, (size_t)n * (size_t)classes * sizeof(float));
    sscma_free(ctx, boxes, (size_t)n * 4 * sizeof(float));
    return st;
}

sscma_status sscma_metric_finish_detections(sscma_metric *metric)
{
    SSCMA_REQUIRE_NONNULL(metric);
    sscma_metric *m = metric;
    if (m->kind != M_COCO)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "only CocoMetric takes detections");
    m->n_results = 0;
    if (m->coco == NULL || coco_eval_image_count(m->coco) == 0)
        return SSCMA_OK; /* no images: no results, as the other metrics before their first sample */
    double stats[COCO_STATS];
    double *ap = m->classwise ? sscma_malloc(m->ctx, (size_t)m->classes * sizeof *ap) : NULL;
    if (m->classwise && ap == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %d class results", (int)m->classes);
    sscma_status st = coco_eval_compute(m->coco, stats, ap);
    if (st == SSCMA_OK && m->outfile_prefix != NULL)
        st = coco_eval_write_json(m->coco, m->outfile_prefix);
    char name[48];
    if (st == SSCMA_OK && m->n_items > 0) {
        for (int32_t i = 0; i < m->n_items && st == SSCMA_OK; i++) {
            snprintf(name, sizeof name, "coco/bbox_%s", coco_item_names[m->items[i]]);
            st = add_result(m, name, stats[m->items[i]]);
        }
    } else if (st == SSCMA_OK) {
        /* the six AP names are mmdet's; the recalls are named by the caps they use (mmdet's metric_items names
         * assume its default proposal_nums (100, 300, 1000), for which the two agree) */
        int64_t caps[3];
        coco_eval_max_dets(m->coco, caps);
        for (int i = 0; i < 6 && st == SSCMA_OK; i++) {
            snprintf(name, sizeof name, "coco/bbox_%s", coco_item_names[i]);
            st = add_result(m, name, stats[i]);
        }
        static const char *const ar[6] = {"AR", "AR", "AR", "AR_s", "AR_m", "AR_l"};
        for (int i = 0; i < 6 && st == SSCMA_OK; i++) {
            snprintf(name, sizeof name, "coco/bbox_%s@%lld", ar[i], (long long)caps[i < 3 ? i : 2]);
            st = add_result(m, name, stats[6 + i]);
        }
    }
    for (int32_t k = 0; st == SSCMA_OK && ap != NULL && k < m->classes; k++) {
        snprintf(name, sizeof name, "coco/%d_precision", (int)k);
        st = add_result(m, name, ap[k]);
    }
    sscma_mfree(m->ctx, ap);
    if (st != SSCMA_OK)
        m->n_results = 0;
    return st;
}

/* ---- sharded validation (data parallel) ---- */

bool sscma_metric_shardable(const sscma_metric *metric)
{
    return metric->kind == M_ACCURACY || metric->kind == M_FOMO || metric->kind == M_ANOMALY;
}

typedef sscma_status (*rank_sum_fn)(void *arg, double *values, int64_t n);

/* Whether any rank failed: one more sum of the ranks' flags. */
static sscma_status any_failed(rank_sum_fn sum, void *arg, bool failed, bool *out)
{
    double flag = failed ? 1.0 : 0.0;
    sscma_status st = sum(arg, &flag, 1);
    *out = flag != 0.0;
    return st;
}

/* Rank `rank`'s j-th sample is sample rank + j * world of the whole set: the unpadded shards of the order. */
static int64_t shard_size(int64_t total, int32_t rank, int32_t world)
{
    return total > rank ? (total - rank + world - 1) / world : 0;
}

/* The shards' state as doubles (exact: counts below 2^53, float scores): into `v` (pack) or back from it. */
static int64_t shard_values(const sscma_metric *m, int64_t total)
{
    switch (m->kind) {
    case M_ACCURACY: return m->n_topk + (int64_t)m->classes * m->classes;
    case M_FOMO: return 3;
    default: return 2 * total; /* M_ANOMALY: scores, then truths, in the whole set's order */
    }
}

static void pack_shard(const sscma_metric *m, double *v, int64_t total, int32_t rank, int32_t world)
{
    switch (m->kind) {
    case M_ACCURACY:
        for (int32_t q = 0; q < m->n_topk; q++)
            v[q] = (double)m->correct[q];
        for (int64_t i = 0; i < (int64_t)m->classes * m->classes; i++)
            v[m->n_topk + i] = (double)m->confusion[i];
        break;
    case M_FOMO: v[0] = (double)m->tp, v[1] = (double)m->fp, v[2] = (double)m->fn; break;
    default:
        for (int64_t j = 0; j < m->samples; j++) {
            v[rank + j * world] = m->anomaly_scores[j];
            v[total + rank + j * world] = m->anomaly_truth[j] ? 1.0 : 0.0;
        }
        break;
    }
}

static void unpack_shards(sscma_metric *m, const double *v, int64_t total)
{
    switch (m->kind) {
    case M_ACCURACY:
        for (int32_t q = 0; q < m->n_topk; q++)
            m->correct[q] = (int64_t)v[q];
        for (int64_t i = 0; i < (int64_t)m->classes * m->classes; i++)
            m->confusion[i] = (int64_t)v[m->n_topk + i];
        break;
    case M_FOMO: m->tp = (int64_t)v[0], m->fp = (int64_t)v[1], m->fn = (int64_t)v[2]; break;
    default:
        for (int64_t g = 0; g < total; g++)
            m->anomaly_scores[g] = v[g], m->anomaly_truth[g] = v[total + g] != 0.0;
        break;
    }
    m->samples = total;
}

/* Room for the whole set's state (the class count from rank 0; the anomaly scores of every sample). */
static sscma_status make_room(sscma_metric *m, int64_t classes, int64_t total)
{
    if ((m->kind == M_ACCURACY || m->kind == M_FOMO) && classes > 0 && m->classes == 0)
        return set_classes(m, classes);
    if (m->kind == M_ACCURACY && classes != m->classes)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "%d classes on this rank, %lld on rank 0", (int)m->classes,
                          (long long)classes);
    if (m->kind == M_ANOMALY && total > m->anomaly_cap) {
        double *s = sscma_mrealloc(m->ctx, m->anomaly_scores, (size_t)total * sizeof *s);
        if (s != NULL)
            m->anomaly_scores = s;
        bool *t = s != NULL ? sscma_mrealloc(m->ctx, m->anomaly_truth, (size_t)total * sizeof *t) : NULL;
        if (t == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot store %lld anomaly scores", (long long)total);
        m->anomaly_truth = t, m->anomaly_cap = total;
    }
    return SSCMA_OK;
}

sscma_status sscma_metric_merge_shards(sscma_metric *metric, bool failed, sscma_status failure, rank_sum_fn sum,
                                       void *arg, int32_t rank, int32_t world)
{
    SSCMA_REQUIRE_NONNULL(metric);
    sscma_metric *m = metric;
    /* who failed, rank 0's class count (rank 0 holds sample 0 whenever there is one), the whole set's size */
    double head[3] = {failed ? 1.0 : 0.0, rank == 0 ? (double)m->classes : 0.0, failed ? 0.0 : (double)m->samples};
    sscma_status st = sum(arg, head, 3);
    if (st != SSCMA_OK)
        return st;
    if (head[0] != 0.0)
        return failed ? failure : sscma_fail(SSCMA_ERR_STATE, WHERE, "validation failed on another rank");
    const int64_t classes = (int64_t)head[1], total = (int64_t)head[2];
    if (total == 0)
        return SSCMA_OK;
    /* the buffer and room for the result; a rank short of memory (or of samples) tells the others */
    st = m->samples != shard_size(total, rank, world)
             ? sscma_fail(SSCMA_ERR_STATE, WHERE, "this rank evaluated %lld samples, its shard of %lld has %lld",
                          (long long)m->samples, (long long)total, (long long)shard_size(total, rank, world))
             : make_room(m, classes, total);
    const int64_t n = shard_values(m, total);
    double *v = st == SSCMA_OK ? sscma_calloc(m->ctx, (size_t)n, sizeof *v) : NULL;
    if (st == SSCMA_OK && v == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot gather %lld metric values", (long long)n);
    bool others = false;
    sscma_status agreed = any_failed(sum, arg, st != SSCMA_OK, &others);
    if (st == SSCMA_OK && agreed != SSCMA_OK)
        st = agreed;
    if (st == SSCMA_OK && others)
        st = sscma_fail(SSCMA_ERR_STATE, WHERE, "validation failed on another rank");
    if (st == SSCMA_OK) {
        pack_shard(m, v, total, rank, world);
        if ((st = sum(arg, v, n)) == SSCMA_OK) {
            unpack_shards(m, v, total);
            st = compute(m);
        }
    }
    sscma_mfree(m->ctx, v);
    return st;
}
