/*
 * Unit tests of metrics.h against tests/golden/gen_metrics.py: torch.topk accuracy, SSCMA's FOMO and PFLD rules, MSE,
 * errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

#include "golden.h"
#include "harness.h"

static sscma_context *ctx;
static golden_file golden;

static const golden_record *need(const char *name)
{
    const golden_record *r = golden_find(&golden, name);
    if (r == NULL)
        test_fail(__FILE__, __LINE__, "golden record %s missing: run tests/golden/gen_metrics.py", name);
    return r;
}

static void check_close(const char *what, double ours, double ref, double rtol)
{
    if (!(fabs(ours - ref) <= rtol * (fabs(ref) + 1e-6)))
        test_fail(__FILE__, __LINE__, "%s: %.9g, reference %.9g", what, ours, ref);
}

static sscma_tensor *wrap(sscma_dtype dt, int32_t rank, const int64_t *dims, void *data)
{
    sscma_tensor *t = NULL;
    size_t n = dt == SSCMA_DTYPE_F32 || dt == SSCMA_DTYPE_I32 ? 4 : 1;
    for (int32_t i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    CHECK_OK(sscma_tensor_wrap(ctx, dt, rank, dims, data, n, &t));
    return t;
}

static void accuracy_matches_torch(void)
{
    const golden_record *s = need("acc/scores"), *l = need("acc/labels"), *e = need("acc/expected");
    if (s == NULL || l == NULL || e == NULL)
        return;
    const int64_t n = l->numel, k = s->numel / n;
    const float *exp = e->data;
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    for (int64_t i = 0; i < n; i++)
        labels[i] = (int32_t)((const float *)l->data)[i];
    sscma_metric *m = NULL;
    CHECK_OK(sscma_metric_create("{\"type\": \"Accuracy\", \"topk\": [1, 3]}", &m));
    /* two batches: 40 rows of which 30 count, then the remaining rows */
    const int64_t d1[2] = {40, k}, l1[1] = {40}, d2[2] = {n - 30, k}, l2[1] = {n - 30};
    sscma_tensor *p1 = wrap(SSCMA_DTYPE_F32, 2, d1, s->data), *t1 = wrap(SSCMA_DTYPE_I32, 1, l1, labels);
    sscma_tensor *p2 = wrap(SSCMA_DTYPE_F32, 2, d2, (float *)s->data + 30 * k);
    sscma_tensor *t2 = wrap(SSCMA_DTYPE_I32, 1, l2, labels + 30);
    int32_t count = -1;
    CHECK_OK(sscma_metric_result_count(m, &count));
    CHECK_INT_EQ(count, 0);
    CHECK_OK(sscma_metric_update(m, p1, t1, 30));
    CHECK_OK(sscma_metric_update(m, p2, t2, n - 30));
    double v = 0.0;
    CHECK_OK(sscma_metric_get(m, "accuracy/top1", &v));
    check_close("top1", v, exp[0], 1e-5);
    CHECK_OK(sscma_metric_get(m, "accuracy/top3", &v));
    check_close("top3", v, exp[1], 1e-5);
    CHECK_OK(sscma_metric_get(m, "single-label/precision", &v));
    check_close("macro precision", v, exp[2], 1e-5);
    CHECK_OK(sscma_metric_get(m, "single-label/recall", &v));
    check_close("macro recall", v, exp[3], 1e-5);
    CHECK_OK(sscma_metric_get(m, "single-label/f1-score", &v));
    check_close("macro f1", v, exp[4], 1e-5);
    char name[32];
    for (int64_t c = 0; c < k; c++) {
        snprintf(name, sizeof name, "precision/%d", (int)c);
        CHECK_OK(sscma_metric_get(m, name, &v));
        check_close(name, v, exp[5 + c], 1e-5);
        snprintf(name, sizeof name, "recall/%d", (int)c);
        CHECK_OK(sscma_metric_get(m, name, &v));
        check_close(name, v, exp[5 + k + c], 1e-5);
    }
    int32_t classes = 0;
    const int64_t *cm = NULL;
    CHECK_OK(sscma_metric_confusion_matrix(m, &classes, &cm));
    CHECK_INT_EQ(classes, k);
    int64_t total = 0, diag = 0;
    for (int64_t i = 0; i < k * k; i++)
        total += cm[i];
    for (int64_t i = 0; i < k; i++)
        diag += cm[i * k + i];
    CHECK_INT_EQ(total, n);
    check_close("confusion diagonal / n", 100.0 * (double)diag / (double)n, exp[0], 1e-5);
    /* a result by index, and reset */
    const char *rname = NULL;
    CHECK_OK(sscma_metric_result(m, 0, &rname, &v));
    CHECK_STR_EQ(rname, "accuracy/top1");
    CHECK_OK(sscma_metric_reset(m));
    CHECK_OK(sscma_metric_result_count(m, &count));
    CHECK_INT_EQ(count, 0);
    CHECK_FAILS(sscma_metric_get(m, "accuracy/top1", &v), SSCMA_ERR_NOT_FOUND, "no samples yet");
    CHECK_FAILS(sscma_metric_confusion_matrix(m, &classes, &cm), SSCMA_ERR_STATE, "no samples");
    sscma_tensor_destroy(p1), sscma_tensor_destroy(t1), sscma_tensor_destroy(p2), sscma_tensor_destroy(t2);
    sscma_metric_destroy(m);
    free(labels);
}

static void accuracy_ties_rank_lower_class_first(void)
{
    /* sample 0: classes 0 and 1 tie; label 1 ranks second (top1 miss, top2 hit). sample 1: label 0 of a tie wins */
    float scores[6] = {1.0f, 1.0f, 0.0f, 2.0f, 2.0f, 2.0f};
    int32_t labels[2] = {1, 0};
    const int64_t pd[2] = {2, 3}, ld[1] = {2};
    sscma_tensor *p = wrap(SSCMA_DTYPE_F32, 2, pd, scores), *t = wrap(SSCMA_DTYPE_I32, 1, ld, labels);
    sscma_metric *m = NULL;
    CHECK_OK(sscma_metric_create("{\"type\": \"Accuracy\", \"topk\": [1, 2]}", &m));
    CHECK_OK(sscma_metric_update(m, p, t, 2));
    double top1 = 0, top2 = 0;
    CHECK_OK(sscma_metric_get(m, "accuracy/top1", &top1));
    CHECK_OK(sscma_metric_get(m, "accuracy/top2", &top2));
    check_close("top1", top1, 50.0, 1e-12);
    check_close("top2", top2, 100.0, 1e-12);
    sscma_metric_destroy(m);
    sscma_tensor_destroy(p), sscma_tensor_destroy(t);
}

static void fomo_metric_matches_sscma(void)
{
    const golden_record *p = need("fomo/pred"), *t = need("fomo/target"), *e = need("fomo/expected");
    if (p == NULL || t == NULL || e == NULL)
        return;
    const int64_t dims[4] = {6, 8, 8, 4};
    CHECK_INT_EQ(p->numel, 6 * 8 * 8 * 4);
    sscma_tensor *tp = wrap(SSCMA_DTYPE_F32, 4, dims, p->data), *tt = wrap(SSCMA_DTYPE_F32, 4, dims, t->data);
    sscma_metric *m = NULL;
    CHECK_OK(sscma_metric_create("{\"type\": \"FomoMetric\"}", &m));
    CHECK_OK(sscma_metric_update(m, tp, tt, 6));
    const float *exp = e->data;
    double v = 0.0;
    CHECK_OK(sscma_metric_get(m, "P", &v));
    check_close("P", v, exp[3], 1e-6);
    CHECK_OK(sscma_metric_get(m, "R", &v));
    check_close("R", v, exp[4], 1e-6);
    CHECK_OK(sscma_metric_get(m, "F1", &v));
    check_close("F1", v, exp[5], 1e-6);
    int32_t k = 0;
    const int64_t *cm = NULL;
    CHECK_FAILS(sscma_metric_confusion_matrix(m, &k, &cm), SSCMA_ERR_UNSUPPORTED, "only Accuracy");
    /* a perfect prediction one cell off still counts (8-neighbourhood) */
    float pred[1 * 4 * 4 * 2] = {0}, target[1 * 4 * 4 * 2] = {0};
    for (int i = 0; i < 16; i++)
        pred[2 * i] = 1.0f, target[2 * i] = 1.0f;
    target[2 * 5] = 0.0f, target[2 * 5 + 1] = 1.0f; /* object at (1, 1) */
    pred[2 * 10] = 0.0f, pred[2 * 10 + 1] = 1.0f;   /* predicted at (2, 2) */
    const int64_t small[4] = {1, 4, 4, 2};
    sscma_tensor *sp = wrap(SSCMA_DTYPE_F32, 4, small, pred), *st = wrap(SSCMA_DTYPE_F32, 4, small, target);
    CHECK_OK(sscma_metric_reset(m));
    CHECK_OK(sscma_metric_update(m, sp, st, 1));
    CHECK_OK(sscma_metric_get(m, "P", &v));
    check_close("P of a neighbour hit", v, 1.0, 1e-12);
    CHECK_OK(sscma_metric_get(m, "R", &v)); /* SSCMA's rule still counts the unpredicted ground-truth cell */
    check_close("R of a neighbour hit", v, 0.5, 1e-12);
    sscma_metric_destroy(m);
    sscma_tensor_destroy(tp), sscma_tensor_destroy(tt), sscma_tensor_destroy(sp), sscma_tensor_destroy(st);
}

static void point_metric_matches_sscma(void)
{
    const golden_record *p = need("point/pred"), *t = need("point/target"), *e = need("point/expected");
    if (p == NULL || t == NULL || e == NULL)
        return;
    const int64_t dims[2] = {40, 6};
    CHECK_INT_EQ(p->numel, 240);
    sscma_tensor *tp = wrap(SSCMA_DTYPE_F32, 2, dims, p->data), *tt = wrap(SSCMA_DTYPE_F32, 2, dims, t->data);
    sscma_metric *m = NULL;
    CHECK_OK(sscma_metric_create("{\"type\": \"PointMetric\", \"input_size\": [112, 96], \"threshold\": 10}", &m));
    CHECK_OK(sscma_metric_update(m, tp, tt, 40));
    const float *exp = e->data;
    double v = 0.0;
    CHECK_OK(sscma_metric_get(m, "keypoint/Acc", &v));
    check_close("Acc", v, exp[0], 1e-5);
    CHECK_OK(sscma_metric_get(m, "keypoint/NME", &v));
    check_close("NME", v, exp[1], 1e-5);
    sscma_metric_destroy(m);
    /* MSE on the same tensors */
    CHECK_OK(sscma_metric_create("{\"type\": \"MSE\"}", &m));
    CHECK_OK(sscma_metric_update(m, tp, tt, 40));
    double ref = 0.0;
    for (int i = 0; i < 240; i++) {
        double d = (double)((const float *)p->data)[i] - (double)((const float *)t->data)[i];
        ref += d * d;
    }
    CHECK_OK(sscma_metric_get(m, "mse", &v));
    check_close("mse", v, ref / 240.0, 1e-12);
    sscma_metric_destroy(m);
    sscma_tensor_destroy(tp), sscma_tensor_destroy(tt);
}

static void metric_errors(void)
{
    sscma_metric *m = NULL;
    CHECK_FAILS(sscma_metric_create("{\"type\": \"Accuracy\", \"top_k\": 1}", &m), SSCMA_ERR_CONFIG,
                "unknown key 'top_k'; valid keys: type, topk");
    CHECK_FAILS(sscma_metric_create("{\"type\": \"mAP\"}", &m), SSCMA_ERR_CONFIG,
                "metric: type: expected one of: Accuracy, FomoMetric, PointMetric, MSE, CocoMetric, AnomalyMetric, MseMetric, got \"mAP\"");
    CHECK_FAILS(sscma_metric_create("{\"type\": \"Accuracy\", \"topk\": [0]}", &m), SSCMA_ERR_CONFIG,
                "metric: topk[0]: expected an integer 1..1000000, got 0");
    CHECK_FAILS(sscma_metric_create("{\"type\": \"PointMetric\", \"threshold\": 1}", &m), SSCMA_ERR_CONFIG,
                "metric: threshold: expected a number above 1 (pixels), got 1");
    CHECK_FAILS(sscma_metric_create("[1", &m), SSCMA_ERR_CONFIG, "line 1");
    CHECK_FAILS(sscma_metric_create("{}", &m), SSCMA_ERR_CONFIG, "type: expected one of: Accuracy, FomoMetric, PointMetric, MSE, CocoMetric, AnomalyMetric, MseMetric, missing");
    CHECK_FAILS(sscma_metric_create(NULL, &m), SSCMA_ERR_INVALID_ARGUMENT, "'config_json'");
    CHECK_OK(sscma_metric_create("{\"type\": \"Accuracy\"}", &m));
    float scores[6] = {0};
    int32_t labels[2] = {0, 3}, ok_labels[2] = {0, 2};
    float flabels[2] = {0};
    const int64_t pd[2] = {2, 3}, ld[1] = {2}, wrong[1] = {3}, pd4[2] = {2, 2};
    sscma_tensor *p = wrap(SSCMA_DTYPE_F32, 2, pd, scores), *t = wrap(SSCMA_DTYPE_I32, 1, ld, labels);
    sscma_tensor *tok = wrap(SSCMA_DTYPE_I32, 1, ld, ok_labels), *tf = wrap(SSCMA_DTYPE_F32, 1, ld, flabels);
    sscma_tensor *tw = wrap(SSCMA_DTYPE_I32, 1, wrong, labels), *p2 = wrap(SSCMA_DTYPE_F32, 2, pd4, scores);
    CHECK_FAILS(sscma_metric_update(m, p, t, 2), SSCMA_ERR_INVALID_ARGUMENT, "sample 1: label 3 outside [0, 3)");
    CHECK_FAILS(sscma_metric_update(m, p, tf, 2), SSCMA_ERR_DTYPE, "must be i32");
    CHECK_FAILS(sscma_metric_update(m, p, tw, 2), SSCMA_ERR_SHAPE, "pred [2, 3] and target [3]");
    CHECK_FAILS(sscma_metric_update(m, p, tok, 3), SSCMA_ERR_INVALID_ARGUMENT, "count 3 outside [0, 2]");
    CHECK_OK(sscma_metric_update(m, p, tok, 2));
    int32_t two_labels[2] = {0, 1};
    sscma_tensor *t2 = wrap(SSCMA_DTYPE_I32, 1, ld, two_labels);
    CHECK_FAILS(sscma_metric_update(m, p2, t2, 2), SSCMA_ERR_SHAPE, "2 classes, but 3 before");
    sscma_tensor_destroy(t2);
    CHECK_FAILS(sscma_metric_get(m, "accuracy/top5", NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    double v;
    CHECK_FAILS(sscma_metric_get(m, "accuracy/top5", &v), SSCMA_ERR_NOT_FOUND, "results: accuracy/top1, single");
    CHECK_FAILS(sscma_metric_result(m, 99, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "result 99 outside");
    CHECK_FAILS(sscma_metric_update(NULL, p, t, 1), SSCMA_ERR_INVALID_ARGUMENT, "'metric'");
    CHECK_FAILS(sscma_metric_reset(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'metric'");
    CHECK_FAILS(sscma_metric_result_count(NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'metric'");
    int32_t k;
    const int64_t *cm;
    CHECK_FAILS(sscma_metric_confusion_matrix(NULL, &k, &cm), SSCMA_ERR_INVALID_ARGUMENT, "'metric'");
    sscma_metric_destroy(m);
    sscma_metric_destroy(NULL);
    CHECK_OK(sscma_metric_create("{\"type\": \"MSE\"}", &m));
    CHECK_FAILS(sscma_metric_update(m, p, p2, 2), SSCMA_ERR_SHAPE, "pred [2, 3] and target [2, 2]");
    sscma_metric_destroy(m);
    sscma_tensor_destroy(p), sscma_tensor_destroy(t), sscma_tensor_destroy(tok), sscma_tensor_destroy(tf);
    sscma_tensor_destroy(tw), sscma_tensor_destroy(p2);
}

/* AnomalyMetric: one score per sample, labels; positives are the abnormal class indices. Hand-worked: classes 0
 * (normal) and 2 (abnormal; 1 is normal too). Scores normal {0.1, 0.4, 0.3}, abnormal {0.35, 0.8}: of 6 pairs the
 * abnormal one is higher in 5 (0.35 < 0.4 only) -> AUC 5/6. fpr 0.5: the median of the normal scores, 0.3; above it
 * 0.4 (normal: fpr 1/3) and both abnormal (tpr 1). */
static void anomaly_metric_hand_worked(void)
{
    sscma_metric *m = NULL;
    CHECK_OK(sscma_metric_create("{\"type\": \"AnomalyMetric\", \"abnormal_classes\": [2], \"fpr\": 0.5}", &m));
    if (m == NULL)
        return;
    float s1[3] = {0.1f, 0.35f, 0.4f}, s2[2] = {0.3f, 0.8f};
    int32_t l1[3] = {0, 2, 1}, l2[2] = {0, 2};
    const int64_t d1[2] = {3, 1}, d2[1] = {2}, ld1[1] = {3}, ld2[1] = {2};
    sscma_tensor *p1 = wrap(SSCMA_DTYPE_F32, 2, d1, s1), *t1 = wrap(SSCMA_DTYPE_I32, 1, ld1, l1);
    sscma_tensor *p2 = wrap(SSCMA_DTYPE_F32, 1, d2, s2), *t2 = wrap(SSCMA_DTYPE_I32, 1, ld2, l2);
    CHECK_OK(sscma_metric_update(m, p1, t1, 3));
    CHECK_OK(sscma_metric_update(m, p2, t2, 2));
    double v = 0;
    CHECK_OK(sscma_metric_get(m, "auc", &v));
    check_close("auc", v, 5.0 / 6.0, 1e-12);
    CHECK_OK(sscma_metric_get(m, "threshold", &v));
    check_close("threshold", v, 0.30000001192092896, 1e-9);
    CHECK_OK(sscma_metric_get(m, "tpr", &v));
    check_close("tpr", v, 1.0, 1e-12);
    CHECK_OK(sscma_metric_get(m, "fpr", &v));
    check_close("fpr", v, 1.0 / 3.0, 1e-12);
    /* after a reset, normal samples alone give no ROC: no results yet */
    CHECK_OK(sscma_metric_reset(m));
    int32_t l3[3] = {0, 0, 1};
    sscma_tensor *t3 = wrap(SSCMA_DTYPE_I32, 1, ld1, l3);
    CHECK_OK(sscma_metric_update(m, p1, t3, 3));
    int32_t count = -1;
    CHECK_OK(sscma_metric_result_count(m, &count));
    CHECK_INT_EQ(count, 0);
    CHECK_FAILS(sscma_metric_update(m, t3, t3, 3), SSCMA_ERR_DTYPE, "AnomalyMetric expects one f32 score per sample");
    const int64_t wide[2] = {2, 1};
    sscma_tensor *pw = wrap(SSCMA_DTYPE_F32, 2, wide, s2);
    CHECK_FAILS(sscma_metric_update(m, pw, t3, 2), SSCMA_ERR_SHAPE, "AnomalyMetric expects scores [N] or [N, 1]");
    sscma_metric_destroy(m);
    m = NULL;
    CHECK_FAILS(sscma_metric_create("{\"type\": \"AnomalyMetric\", \"abnormal_classes\": [\"shake\"]}", &m),
                SSCMA_ERR_CONFIG, "abnormal_classes: expected a list of 1 to 64 class indices (a runner turns class names");
    sscma_tensor_destroy(p1), sscma_tensor_destroy(t1), sscma_tensor_destroy(p2), sscma_tensor_destroy(t2);
    sscma_tensor_destroy(t3), sscma_tensor_destroy(pw);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(anomaly_metric_hand_worked),
        TEST_CASE(accuracy_matches_torch),
        TEST_CASE(accuracy_ties_rank_lower_class_first),
        TEST_CASE(fomo_metric_matches_sscma),
        TEST_CASE(point_metric_matches_sscma),
        TEST_CASE(metric_errors),
    };
    if (golden_load(&golden, GOLDEN_DIR "/metrics.bin") != 0)
        return 99;
    sscma_context_options opt;
    sscma_context_options_init(&opt, sizeof opt);
    opt.num_threads = 2;
    opt.seed = 11;
    if (sscma_context_create(&opt, &ctx) != SSCMA_OK)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    golden_free(&golden);
    return rc;
}
