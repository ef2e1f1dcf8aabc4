/*
 * The anomaly evaluation, score-agnostic (anomaly.h): ROC-AUC with ties as the Mann-Whitney statistic (sklearn's
 * roc_auc_score), the threshold at a false-positive rate on normal data, the windows of a sensor dataset, and the
 * AnomalyMetric evaluator's config.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/anomaly.h"
#include "core/schema.h"

#define WHERE "AnomalyMetric"

typedef struct scored {
    double score;
    bool abnormal;
} scored;

/* descending by score */
static int cmp_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

sscma_status anomaly_roc_compute(const sscma_context *ctx, const double *scores, const bool *abnormal, int64_t n,
                                 double target_fpr, anomaly_roc *out)
{
    if (!(target_fpr >= 0.0 && target_fpr <= 1.0))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "fpr %g: expected a rate in 0..1", target_fpr);
    int64_t pos = 0, neg = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(scores[i]))
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "score %lld is %g, not a finite number",
                              (long long)i, scores[i]);
        pos += abnormal[i], neg += !abnormal[i];
    }
    if (pos == 0 || neg == 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "%lld abnormal and %lld normal samples: the ROC-AUC "
                          "needs both", (long long)pos, (long long)neg);
    scored *s = sscma_calloc(ctx, (size_t)n, sizeof *s);
    double *normal = sscma_calloc(ctx, (size_t)neg, sizeof *normal);
    if (s == NULL || normal == NULL) {
        sscma_mfree(ctx, s), sscma_mfree(ctx, normal);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot sort %lld scores", (long long)n);
    }
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        s[i].score = scores[i], s[i].abnormal = abnormal[i];
        if (!abnormal[i])
            normal[k++] = scores[i];
    }
    qsort(s, (size_t)n, sizeof *s, cmp_scored);
    /* the ROC curve's area by tie groups (trapezoids): each normal sample counts the abnormal ones above it, and
     * half of those tied with it */
    double area = 0.0;
    int64_t tp = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i, tp_g = 0, fp_g = 0;
        for (; j < n && s[j].score == s[i].score; j++)
            tp_g += s[j].abnormal, fp_g += !s[j].abnormal;
        area += (double)fp_g * ((double)tp + 0.5 * (double)tp_g);
        tp += tp_g;
        i = j;
    }
    anomaly_roc r = {.auc = area / ((double)pos * (double)neg), .positives = pos, .negatives = neg};
    r.threshold = anomaly_quantile_linear(normal, neg, 1.0 - target_fpr);
    int64_t tp_at = 0, fp_at = 0;
    for (int64_t i = 0; i < n; i++)
        if (scores[i] > r.threshold)
            tp_at += abnormal[i], fp_at += !abnormal[i];
    r.tpr = (double)tp_at / (double)pos;
    r.fpr = (double)fp_at / (double)neg;
    sscma_mfree(ctx, s), sscma_mfree(ctx, normal);
    *out = r;
    return SSCMA_OK;
}

/* ---- the evaluator's config ---- */

typedef struct metric_fields_cfg {
    double fpr;
    json_t *abnormal_classes;
} metric_fields_cfg;

static const sscma_field metric_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("fpr", metric_fields_cfg, fpr, 0.05, true, 0.0, 1.0, 0),
    SSCMA_FIELD_JSON_AS("abnormal_classes", metric_fields_cfg, abnormal_classes),
    SSCMA_FIELD_KEY("prefix"),
    SSCMA_FIELD_END,
};

sscma_status anomaly_metric_cfg_read(json_t *obj, const char *where, const char *path, anomaly_metric_cfg *out)
{
    const char *w = where != NULL ? where : WHERE;
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type == NULL || (strcmp(type, "AnomalyMetric") != 0 && strcmp(type, "sscma.AnomalyMetric") != 0))
        return sscma_schema_expected(w, path, "type", "\"AnomalyMetric\"", json_object_get(obj, "type"));
    metric_fields_cfg c;
    sscma_status st = sscma_schema_read(metric_fields, obj, w, path, &c);
    if (st != SSCMA_OK)
        return st;
    json_t *list = c.abnormal_classes;
    size_t n = json_is_array(list) ? json_array_size(list) : 0;
    bool strings = n >= 1 && n <= ANOMALY_MAX_CLASSES;
    for (size_t i = 0; strings && i < n; i++)
        strings = json_is_string(json_array_get(list, i));
    if (!strings)
        return sscma_schema_expected(w, path, "abnormal_classes", "a list of 1 to 64 class names (the classes held "
                                     "out of training, scored as anomalies)", list);
    anomaly_metric_cfg r = {.fpr = c.fpr, .n_abnormal = (int32_t)n};
    for (size_t i = 0; i < n; i++)
        r.abnormal[i] = json_string_value(json_array_get(list, i));
    *out = r;
    return SSCMA_OK;
}

sscma_status anomaly_abnormal_flags(const sscma_context *ctx, const anomaly_metric_cfg *cfg,
                                    const sscma_dataset *ds, const char *where, const char *path, bool **out)
{
    int32_t k = 0;
    sscma_status st = sscma_dataset_num_classes(ds, &k);
    if (st != SSCMA_OK)
        return st;
    bool *flags = sscma_calloc(ctx, k > 0 ? (size_t)k : 1, sizeof *flags);
    if (flags == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %d class flags", (int)k);
    for (int32_t i = 0; i < cfg->n_abnormal; i++) {
        int32_t found = -1;
        for (int32_t c = 0; c < k && found < 0; c++) {
            const char *name = NULL;
            if (sscma_dataset_class_name(ds, c, &name) == SSCMA_OK && name != NULL &&
                strcmp(name, cfg->abnormal[i]) == 0)
                found = c;
        }
        if (found < 0) {
            char list[512] = "", at[160];
            size_t len = 0;
            for (int32_t c = 0; c < k && len < sizeof list - 1; c++) {
                const char *name = NULL;
                sscma_dataset_class_name(ds, c, &name);
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", c ? ", " : "", name ? name : "?");
            }
            sscma_mfree(ctx, flags);
            sscma_schema_path(at, sizeof at, path, "abnormal_classes");
            char item[200];
            return sscma_schema_fail(where != NULL ? where : WHERE, sscma_schema_index(item, sizeof item, at,
                                     (size_t)i), NULL, "unknown class '%s'; the dataset's classes: %s",
                                     cfg->abnormal[i], list);
        }
        flags[found] = true;
    }
    *out = flags;
    return SSCMA_OK;
}

/* ---- the windows of a dataset ---- */

sscma_status anomaly_windows(const sscma_context *ctx, const sscma_dataset *ds, const bool *skip, float **x,
                             int32_t **labels, int64_t *n, int64_t *dim)
{
    int64_t size = 0, d = 0, kept = 0;
    sscma_status st = sscma_dataset_size(ds, &size);
    if (st != SSCMA_OK)
        return st;
    float *data = NULL;
    int32_t *lab = sscma_calloc(ctx, size > 0 ? (size_t)size : 1, sizeof *lab);
    if (lab == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %lld labels", (long long)size);
    for (int64_t i = 0; i < size && st == SSCMA_OK; i++) {
        sscma_sample *s = NULL;
        sscma_tensor *t = NULL;
        sscma_dtype dt = SSCMA_DTYPE_U8;
        int64_t numel = 0;
        int32_t label = -1;
        void *p = NULL;
        if ((st = sscma_dataset_get(ds, i, &s)) != SSCMA_OK || (st = sscma_sample_image(s, &t)) != SSCMA_OK ||
            (st = sscma_tensor_dtype(t, &dt)) != SSCMA_OK || (st = sscma_tensor_numel(t, &numel)) != SSCMA_OK ||
            (st = sscma_tensor_data(t, &p)) != SSCMA_OK || (st = sscma_sample_label(s, &label)) != SSCMA_OK) {
            sscma_sample_destroy(s);
            break;
        }
        if (dt != SSCMA_DTYPE_F32 || (d != 0 && numel != d) || numel < 1) {
            st = sscma_fail(SSCMA_ERR_FORMAT, WHERE, "sample %lld: %lld %s values; expected windows of %lld f32 "
                            "features (a SensorDataset)", (long long)i, (long long)numel, sscma_dtype_name(dt),
                            (long long)(d != 0 ? d : numel));
        } else if (skip == NULL || label < 0 || !skip[label]) {
            if (data == NULL) {
                d = numel;
                data = sscma_calloc(ctx, (size_t)(size * d), sizeof *data);
                if (data == NULL)
                    st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %lld windows", (long long)size);
            }
            if (st == SSCMA_OK) {
                memcpy(data + kept * d, p, (size_t)d * sizeof *data);
                lab[kept++] = label;
            }
        }
        sscma_sample_destroy(s);
    }
    if (st == SSCMA_OK && kept == 0)
        st = sscma_fail(SSCMA_ERR_NOT_FOUND, WHERE, "no windows left to use (%lld in the dataset)", (long long)size);
    if (st != SSCMA_OK) {
        sscma_mfree(ctx, data), sscma_mfree(ctx, lab);
        return st;
    }
    *x = data, *labels = lab, *n = kept, *dim = d;
    return SSCMA_OK;
}
