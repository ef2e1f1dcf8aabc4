/*
 * Detection evaluation (lib/train/det_eval.c): NMS cases with answers worked out by hand from mmyolo's and mmcv's
 * rules, and COCO bbox evaluation against pycocotools' COCOeval on the fixtures of tests/golden/gen_cocoeval.py
 * (every one of the 12 numbers and the per-category AP within 1e-4).
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golden.h"
#include "harness.h"
#include "train/det_eval.h"
#include "train/state.h"

static const char *const fixtures[] = {"f0", "f1", "f2", "f3"};
static golden_file cocoeval;

static const golden_record *record(const char *fixture, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "%s/%s", fixture, what);
    const golden_record *r = golden_find(&cocoeval, name);
    if (r == NULL)
        test_fail(__FILE__, __LINE__, "no record %s in cocoeval.bin", name);
    return r;
}

/* Feeds a fixture's images to an evaluator (e) or a CocoMetric (metric); returns the class count, or 0. */
static int32_t feed_fixture(const char *fx, coco_eval **out, sscma_metric *metric)
{
    const golden_record *meta = record(fx, "meta"), *gt = record(fx, "gt"), *det = record(fx, "det");
    if (meta == NULL || gt == NULL || det == NULL)
        return 0;
    const int32_t *m = meta->data;
    const int64_t caps[3] = {m[2], m[3], m[4]};
    coco_eval *e = NULL;
    if (metric == NULL) {
        CHECK_OK(coco_eval_create(NULL, m[1], caps, &e));
        if (e == NULL)
            return 0;
    }
    const float *g = gt->data, *d = det->data;
    int64_t gi = 0, di = 0;
    coco_gt gs[512];
    coco_det ds[512];
    for (int32_t img = 0; img < m[0]; img++) {
        int64_t ng = 0, nd = 0;
        for (; gi < gt->dims[0] && (int32_t)g[gi * 8] == img && ng < 512; gi++, ng++) {
            const float *r = g + gi * 8;
            gs[ng] = (coco_gt){r[2], r[3], r[4], r[5], r[6], (int32_t)r[1], r[7] != 0.0f};
        }
        for (; di < det->dims[0] && (int32_t)d[di * 7] == img && nd < 512; di++, nd++) {
            const float *r = d + di * 7;
            ds[nd] = (coco_det){r[2], r[3], r[4], r[5], r[6], (int32_t)r[1]};
        }
        if (metric != NULL)
            CHECK_OK(sscma_metric_add_detections(metric, m[1], gs, ng, ds, nd));
        else
            CHECK_OK(coco_eval_add_image(e, gs, ng, ds, nd));
    }
    CHECK_INT_EQ(gi, gt->dims[0]);
    CHECK_INT_EQ(di, det->dims[0]);
    if (out != NULL)
        *out = e;
    return m[1];
}

static void test_cocoeval_matches_pycocotools(size_t index)
{
    const char *fx = fixtures[index];
    coco_eval *e = NULL;
    int32_t classes = feed_fixture(fx, &e, NULL);
    const golden_record *stats = record(fx, "stats"), *cat_ap = record(fx, "cat_ap");
    if (classes == 0 || stats == NULL || cat_ap == NULL) {
        coco_eval_destroy(e);
        return;
    }
    double ours[COCO_STATS], ap[64];
    CHECK(classes <= 64);
    CHECK_OK(coco_eval_compute(e, ours, ap));
    static const char *const names[COCO_STATS] = {"AP",    "AP50",   "AP75",   "AP_s",   "AP_m",   "AP_l",
                                                  "AR@1st", "AR@2nd", "AR@3rd", "AR_s", "AR_m", "AR_l"};
    const float *ref = stats->data;
    for (int i = 0; i < COCO_STATS; i++)
        if (!(fabs(ours[i] - (double)ref[i]) <= 1e-4))
            test_fail(__FILE__, __LINE__, "%s: stats[%d] (%s) is %.6f, pycocotools %.6f", fx, i, names[i], ours[i],
                      (double)ref[i]);
    const float *rap = cat_ap->data;
    for (int32_t k = 0; k < classes; k++)
        if (!(fabs(ap[k] - (double)rap[k]) <= 1e-4))
            test_fail(__FILE__, __LINE__, "%s: category %d AP is %.6f, pycocotools %.6f", fx, (int)k, ap[k],
                      (double)rap[k]);
    /* computing again gives the same numbers; reset empties the evaluator */
    double again[COCO_STATS];
    CHECK_OK(coco_eval_compute(e, again, NULL));
    CHECK(memcmp(again, ours, sizeof ours) == 0);
    coco_eval_reset(e);
    CHECK_INT_EQ(coco_eval_image_count(e), 0);
    coco_eval_destroy(e);
}

/* The fixtures exercise what they claim: without them a bug could hide in a branch no fixture reaches. */
static void test_fixtures_cover_the_cases(void)
{
    const golden_record *gt = record("f0", "gt"), *det = record("f0", "det"), *st2 = record("f2", "stats");
    const golden_record *meta1 = record("f1", "meta"), *det1 = record("f1", "det");
    if (!gt || !det || !st2 || !meta1 || !det1)
        return;
    int crowd = 0, at_small = 0, at_medium = 0;
    for (int64_t i = 0; i < gt->dims[0]; i++) {
        const float *r = (const float *)gt->data + i * 8;
        crowd += r[7] != 0.0f;
        at_small += r[6] == 1024.0f, at_medium += r[6] == 9216.0f;
    }
    CHECK(crowd >= 2);
    CHECK(at_small >= 1 && at_medium >= 1);
    CHECK_INT_EQ(((const float *)st2->data)[0], -1); /* caps without 100: pycocotools' AP is -1 */
    int64_t in_image7 = 0;                            /* f1: an image beyond the largest cap (100) */
    for (int64_t i = 0; i < det1->dims[0]; i++)
        in_image7 += ((const float *)det1->data)[i * 7] == 7.0f;
    CHECK(in_image7 > 100);
}

static void test_cocoeval_edge_cases(void)
{
    const int64_t caps[3] = {100, 1, 10};
    coco_eval *e = NULL;
    double s[COCO_STATS], ap[2];
    CHECK_OK(coco_eval_create(NULL, 2, caps, &e));
    if (e == NULL)
        return;
    int64_t sorted[3];
    coco_eval_max_dets(e, sorted);
    CHECK(sorted[0] == 1 && sorted[1] == 10 && sorted[2] == 100);
    /* nothing at all: every number is -1 */
    CHECK_OK(coco_eval_compute(e, s, ap));
    for (int i = 0; i < COCO_STATS; i++)
        CHECK(s[i] == -1.0);
    /* a gt and no detections anywhere: AP and AR 0 (pycocotools cannot load an empty result list) */
    const coco_gt g = {10, 10, 40, 40, 1600, 0, false};
    CHECK_OK(coco_eval_add_image(e, &g, 1, NULL, 0));
    CHECK_OK(coco_eval_compute(e, s, ap));
    CHECK(s[0] == 0.0 && s[8] == 0.0 && s[3] == -1.0 && s[4] == 0.0 && s[5] == -1.0);
    CHECK(ap[0] == 0.0 && ap[1] == -1.0);
    /* one exact detection: AP 1 at every threshold */
    coco_eval_reset(e);
    const coco_det d = {10, 10, 50, 50, 0.5, 0};
    CHECK_OK(coco_eval_add_image(e, &g, 1, &d, 1));
    CHECK_OK(coco_eval_compute(e, s, NULL));
    CHECK(fabs(s[0] - 1.0) < 1e-12 && fabs(s[6] - 1.0) < 1e-12);
    /* bad input: a message that names the image and the entry */
    const coco_gt bad_g = {0, 0, 1, 1, 1, 2, false};
    CHECK_FAILS(coco_eval_add_image(e, &bad_g, 1, NULL, 0), SSCMA_ERR_INVALID_ARGUMENT,
                "image 1: gt 0: label 2 outside [0, 2)");
    const coco_det bad_d = {0, 0, 1, 1, NAN, 1};
    CHECK_FAILS(coco_eval_add_image(e, NULL, 0, &bad_d, 1), SSCMA_ERR_INVALID_ARGUMENT,
                "image 1: detection 0: box or score is not a number");
    coco_eval_destroy(e);
    const int64_t dup[3] = {10, 10, 100};
    coco_eval *x = NULL;
    CHECK_FAILS(coco_eval_create(NULL, 2, dup, &x), SSCMA_ERR_INVALID_ARGUMENT, "three different numbers");
    CHECK(x == NULL);
}

/* ---- NMS ---- */

static det_result run_nms(const det_nms_config *cfg, const float *boxes, const float *scores, const float *obj,
                          int64_t n, int32_t classes)
{
    det_result r = {0};
    CHECK_OK(det_nms(NULL, cfg, boxes, scores, obj, n, classes, NULL, &r));
    return r;
}

static void test_nms_suppression_order(void)
{
    /* C, A, B given in that order. A suppresses B (IoU 70/130 > 0.3); C overlaps only B (50/150 > 0.3) and A
     * weakly (20/180): B is gone before it could suppress C, so A and C stay, best first. */
    const float boxes[] = {8, 0, 18, 10, 0, 0, 10, 10, 3, 0, 13, 10};
    const float scores[] = {0.7f, 0.9f, 0.8f};
    det_nms_config cfg;
    det_nms_config_init(&cfg);
    cfg.iou_threshold = 0.3f;
    det_result r = run_nms(&cfg, boxes, scores, NULL, 3, 1);
    CHECK_INT_EQ(r.count, 2);
    if (r.count == 2) {
        CHECK(r.scores[0] == 0.9f && r.boxes[0] == 0.0f && r.scores[1] == 0.7f && r.boxes[4] == 8.0f);
        CHECK(r.labels[0] == 0 && r.labels[1] == 0);
    }
    det_result_free(NULL, &r);
    /* IoU exactly at the threshold stays (mmcv suppresses when IoU > threshold): 50/150 = 1/3 */
    const float two[] = {0, 0, 10, 10, 5, 0, 15, 10};
    const float s2[] = {0.9f, 0.8f};
    cfg.iou_threshold = (float)(50.0 / 150.0);
    r = run_nms(&cfg, two, s2, NULL, 2, 1);
    CHECK_INT_EQ(r.count, 2);
    det_result_free(NULL, &r);
    cfg.iou_threshold = 0.33f;
    r = run_nms(&cfg, two, s2, NULL, 2, 1);
    CHECK_INT_EQ(r.count, 1);
    det_result_free(NULL, &r);
    /* equal scores: input order decides (a stable sort): the first suppresses the second, and separate boxes come
     * out in input order */
    const float three[] = {20, 20, 30, 30, 0, 0, 10, 10, 0, 0, 10, 10};
    const float s3[] = {0.5f, 0.5f, 0.5f};
    r = run_nms(&cfg, three, s3, NULL, 3, 1);
    CHECK_INT_EQ(r.count, 2);
    if (r.count == 2)
        CHECK(r.boxes[0] == 20.0f && r.boxes[4] == 0.0f);
    det_result_free(NULL, &r);
}

static void test_nms_per_class_and_agnostic(void)
{
    /* two identical boxes, best classes 0 and 1 */
    const float boxes[] = {0, 0, 10, 10, 0, 0, 10, 10};
    const float scores[] = {0.9f, 0.1f, 0.1f, 0.8f};
    det_nms_config cfg;
    det_nms_config_init(&cfg);
    det_result r = run_nms(&cfg, boxes, scores, NULL, 2, 2);
    CHECK_INT_EQ(r.count, 2);
    if (r.count == 2)
        CHECK(r.labels[0] == 0 && r.labels[1] == 1 && r.scores[1] == 0.8f && r.boxes[6] == 10.0f);
    det_result_free(NULL, &r);
    cfg.class_agnostic = true;
    r = run_nms(&cfg, boxes, scores, NULL, 2, 2);
    CHECK_INT_EQ(r.count, 1);
    det_result_free(NULL, &r);
    /* from split_thr candidates on mmcv runs one NMS per class, class_agnostic or not */
    cfg.split_thr = 2;
    r = run_nms(&cfg, boxes, scores, NULL, 2, 2);
    CHECK_INT_EQ(r.count, 2);
    det_result_free(NULL, &r);
    /* per class, both paths agree: a same-class duplicate goes, the other class stays, order by score */
    const float four[] = {0, 0, 10, 10, 1, 0, 11, 10, 0, 0, 10, 10, 50, 50, 60, 60};
    const float s4[] = {0.9f, 0.0f, 0.85f, 0.0f, 0.0f, 0.95f, 0.0f, 0.3f};
    for (int split = 0; split < 2; split++) {
        det_nms_config_init(&cfg);
        cfg.split_thr = split ? 1 : 10000;
        r = run_nms(&cfg, four, s4, NULL, 4, 2);
        CHECK_INT_EQ(r.count, 3);
        if (r.count == 3)
            CHECK(r.scores[0] == 0.95f && r.labels[0] == 1 && r.scores[1] == 0.9f && r.labels[1] == 0 &&
                  r.scores[2] == 0.3f && r.boxes[8] == 50.0f);
        det_result_free(NULL, &r);
    }
}

static void test_nms_thresholds_and_caps(void)
{
    const float boxes[] = {0, 0, 10, 10, 20, 0, 30, 10, 40, 0, 50, 10, 60, 0, 70, 10, 80, 0, 90, 10};
    const float scores[] = {0.25f, 0.2500001f, 0.9f, 0.6f, 0.7f};
    det_nms_config cfg;
    det_nms_config_init(&cfg);
    cfg.score_thr = 0.25f; /* strictly above: 0.25 goes, the next float above stays */
    det_result r = run_nms(&cfg, boxes, scores, NULL, 5, 1);
    CHECK_INT_EQ(r.count, 4);
    if (r.count == 4)
        CHECK(r.scores[3] == 0.2500001f && r.boxes[12] == 20.0f);
    det_result_free(NULL, &r);
    cfg.max_per_img = 2; /* the two best after NMS */
    r = run_nms(&cfg, boxes, scores, NULL, 5, 1);
    CHECK_INT_EQ(r.count, 2);
    if (r.count == 2)
        CHECK(r.scores[0] == 0.9f && r.scores[1] == 0.7f);
    det_result_free(NULL, &r);
    det_nms_config_init(&cfg);
    cfg.nms_pre = 3; /* only the three best enter */
    r = run_nms(&cfg, boxes, scores, NULL, 5, 1);
    CHECK_INT_EQ(r.count, 3);
    if (r.count == 3)
        CHECK(r.scores[2] == 0.6f);
    det_result_free(NULL, &r);
    /* objectness: rows with obj <= score_thr go first (even when obj * cls would pass), scores are obj * cls */
    const float cls[] = {2.0f, 1.0f, 0.5f, 1.0f, 1.0f};
    const float obj[] = {0.25f, 0.3f, 0.8f, 0.0f, 0.1f};
    det_nms_config_init(&cfg);
    cfg.score_thr = 0.25f;
    r = run_nms(&cfg, boxes, cls, obj, 5, 1);
    CHECK_INT_EQ(r.count, 2);
    if (r.count == 2)
        CHECK(r.scores[0] == 0.4f && r.scores[1] == 0.3f);
    det_result_free(NULL, &r);
    cfg.score_thr = -1.0f; /* no objectness filter; every product > -1 stays */
    r = run_nms(&cfg, boxes, cls, obj, 5, 1);
    CHECK_INT_EQ(r.count, 5);
    det_result_free(NULL, &r);
    /* nothing passes: an empty result */
    cfg.score_thr = 5.0f;
    r = run_nms(&cfg, boxes, cls, obj, 5, 1);
    CHECK_INT_EQ(r.count, 0);
    det_result_free(NULL, &r);
    cfg.nms_pre = 0;
    det_result bad = {0};
    CHECK_FAILS(det_nms(NULL, &cfg, boxes, cls, obj, 5, 1, NULL, &bad), SSCMA_ERR_INVALID_ARGUMENT,
                "nms_pre 0");
}

static void test_nms_multi_label_and_rescale(void)
{
    const float boxes[] = {10, 20, 50, 60};
    const float scores[] = {0.6f, 0.5f, 0.05f};
    det_nms_config cfg;
    det_nms_config_init(&cfg);
    cfg.score_thr = 0.1f;
    cfg.multi_label = true; /* one box, two (box, class) candidates above 0.1; per-class NMS keeps both */
    det_result r = run_nms(&cfg, boxes, scores, NULL, 1, 3);
    CHECK_INT_EQ(r.count, 2);
    if (r.count == 2)
        CHECK(r.labels[0] == 0 && r.labels[1] == 1 && r.scores[1] == 0.5f);
    det_result_free(NULL, &r);
    cfg.multi_label = false;
    r = run_nms(&cfg, boxes, scores, NULL, 1, 3);
    CHECK_INT_EQ(r.count, 1);
    det_result_free(NULL, &r);
    /* letterbox undone: (x - pad) / scale, then clamped to the original image */
    const float b2[] = {-8, 4, 208, 100};
    const float s2[] = {0.9f};
    const det_rescale rs = {8, 4, 2, 2, 90, 40};
    det_nms_config_init(&cfg);
    CHECK_OK(det_nms(NULL, &cfg, b2, s2, NULL, 1, 1, &rs, &r));
    CHECK_INT_EQ(r.count, 1);
    if (r.count == 1)
        CHECK(r.boxes[0] == 0.0f && r.boxes[1] == 0.0f && r.boxes[2] == 90.0f && r.boxes[3] == 40.0f);
    det_result_free(NULL, &r);
}

/* ---- CocoMetric (metrics.c) and test_cfg ---- */

static sscma_metric *coco_metric(const char *json)
{
    sscma_metric *m = NULL;
    CHECK_OK(sscma_metric_create_in(NULL, json, &m));
    return m;
}

static void check_result(const sscma_metric *m, const char *name, double expected)
{
    double v = NAN;
    CHECK_OK(sscma_metric_get(m, name, &v));
    if (!(fabs(v - expected) <= 1e-4))
        test_fail(__FILE__, __LINE__, "%s is %.6f, pycocotools %.6f", name, v, expected);
}

static void test_coco_metric_names_and_values(void)
{
    /* SSCMA's swift_yolo val_evaluator; f1 uses the same caps */
    sscma_metric *m = coco_metric("{\"type\": \"mmdet.CocoMetric\", \"proposal_nums\": [100, 1, 10], "
                                  "\"ann_file\": \"data/valid/_annotations.coco.json\", \"metric\": \"bbox\"}");
    const golden_record *stats = record("f1", "stats");
    if (m == NULL || stats == NULL) {
        sscma_metric_destroy(m);
        return;
    }
    CHECK(sscma_metric_wants_detections(m));
    feed_fixture("f1", NULL, m);
    int32_t n = -1;
    CHECK_OK(sscma_metric_result_count(m, &n));
    CHECK_INT_EQ(n, 0); /* nothing before finish */
    CHECK_OK(sscma_metric_finish_detections(m));
    CHECK_OK(sscma_metric_result_count(m, &n));
    CHECK_INT_EQ(n, 12);
    static const char *const names[12] = {
        "coco/bbox_mAP",  "coco/bbox_mAP_50", "coco/bbox_mAP_75",    "coco/bbox_mAP_s",
        "coco/bbox_mAP_m", "coco/bbox_mAP_l",  "coco/bbox_AR@1",      "coco/bbox_AR@10",
        "coco/bbox_AR@100", "coco/bbox_AR_s@100", "coco/bbox_AR_m@100", "coco/bbox_AR_l@100"};
    for (int i = 0; i < 12; i++) {
        const char *name = NULL;
        CHECK_OK(sscma_metric_result(m, i, &name, NULL));
        CHECK_STR_EQ(name, names[i]);
        check_result(m, names[i], ((const float *)stats->data)[i]);
    }
    /* tensors are refused before they are looked at (so any pointer does); reset empties it */
    CHECK_FAILS(sscma_metric_update(m, (const sscma_tensor *)m, (const sscma_tensor *)m, 1), SSCMA_ERR_UNSUPPORTED,
                "CocoMetric takes boxes per image");
    CHECK_OK(sscma_metric_reset(m));
    CHECK_OK(sscma_metric_finish_detections(m));
    CHECK_OK(sscma_metric_result_count(m, &n));
    CHECK_INT_EQ(n, 0);
    /* a second evaluation after the reset (each validation epoch) gives the same numbers */
    feed_fixture("f1", NULL, m);
    CHECK_OK(sscma_metric_finish_detections(m));
    CHECK_OK(sscma_metric_result_count(m, &n));
    CHECK_INT_EQ(n, 12);
    for (int i = 0; i < 12; i++)
        check_result(m, names[i], ((const float *)stats->data)[i]);
    sscma_metric_destroy(m);

    /* metric_items: mmdet's names and its stats indexes; classwise: per-class AP as "<class>_precision" */
    m = coco_metric("{\"type\": \"CocoMetric\", \"metric\": [\"bbox\"], \"proposal_nums\": [1, 10, 100], "
                    "\"metric_items\": [\"mAP_50\", \"AR@100\"], \"classwise\": true}");
    const golden_record *s0 = record("f0", "stats"), *ap0 = record("f0", "cat_ap");
    if (m != NULL && s0 != NULL && ap0 != NULL) {
        feed_fixture("f0", NULL, m);
        CHECK_OK(sscma_metric_finish_detections(m));
        CHECK_OK(sscma_metric_result_count(m, &n));
        CHECK_INT_EQ(n, 2 + 4);
        check_result(m, "coco/bbox_mAP_50", ((const float *)s0->data)[1]);
        check_result(m, "coco/bbox_AR@100", ((const float *)s0->data)[6]); /* mmdet: stats[6], the first cap */
        check_result(m, "coco/0_precision", ((const float *)ap0->data)[0]);
        check_result(m, "coco/3_precision", -1.0);
        const coco_gt g = {0, 0, 1, 1, 1, 0, false};
        CHECK_FAILS(sscma_metric_add_detections(m, 5, &g, 1, NULL, 0), SSCMA_ERR_SHAPE, "5 classes, but 4 before");
    }
    sscma_metric_destroy(m);
}

/* A number of a written JSON file: the %.17g text reads back as the very double. */
static double json_num(json_t *array, size_t i)
{
    return json_number_value(json_array_get(array, i));
}

static void test_coco_metric_outfile_prefix(void)
{
    char dir[] = "/tmp/sscma_det_eval_XXXXXX", prefix[64], path[96];
    if (mkdtemp(dir) == NULL) {
        test_fail(__FILE__, __LINE__, "mkdtemp failed");
        return;
    }
    snprintf(prefix, sizeof prefix, "%s/val", dir);
    char cfg[160];
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoMetric\", \"outfile_prefix\": \"%s\"}", prefix);
    sscma_metric *m = coco_metric(cfg);
    const golden_record *meta = record("f0", "meta"), *gt = record("f0", "gt"), *det = record("f0", "det");
    if (m == NULL || meta == NULL || gt == NULL || det == NULL) {
        sscma_metric_destroy(m);
        return;
    }
    feed_fixture("f0", NULL, m);
    CHECK_OK(sscma_metric_finish_detections(m));
    /* the results file: mmdet's results2json (xyxy to xywh, label + 1), image ids 1..N, in the order fed */
    snprintf(path, sizeof path, "%s.bbox.json", prefix);
    json_t *res = json_load_file(path, 0, NULL);
    CHECK(json_is_array(res));
    CHECK_INT_EQ((int64_t)json_array_size(res), det->dims[0]);
    const float *d = det->data, *g = gt->data;
    for (size_t i = 0; json_is_array(res) && i < json_array_size(res) && (int64_t)i < det->dims[0]; i++) {
        const float *r = d + i * 7;
        json_t *o = json_array_get(res, i), *b = json_object_get(o, "bbox");
        CHECK_INT_EQ(json_integer_value(json_object_get(o, "image_id")), (int64_t)r[0] + 1);
        CHECK_INT_EQ(json_integer_value(json_object_get(o, "category_id")), (int64_t)r[1] + 1);
        CHECK(json_array_size(b) == 4 && json_num(b, 0) == (double)r[2] && json_num(b, 1) == (double)r[3] &&
              json_num(b, 2) == (double)r[4] - (double)r[2] && json_num(b, 3) == (double)r[5] - (double)r[3]);
        CHECK(json_number_value(json_object_get(o, "score")) == (double)r[6]);
    }
    json_decref(res);
    /* the ground truth: every image (those without boxes too), area and iscrowd as given, categories 1..K */
    snprintf(path, sizeof path, "%s.gt.json", prefix);
    json_t *gj = json_load_file(path, 0, NULL), *anns = json_object_get(gj, "annotations");
    const int32_t *mm = meta->data;
    CHECK_INT_EQ((int64_t)json_array_size(json_object_get(gj, "images")), mm[0]);
    CHECK_INT_EQ((int64_t)json_array_size(json_object_get(gj, "categories")), mm[1]);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(gj, "categories"), 0), "id")), 1);
    CHECK_INT_EQ((int64_t)json_array_size(anns), gt->dims[0]);
    int crowd = 0;
    for (size_t i = 0; i < json_array_size(anns) && (int64_t)i < gt->dims[0]; i++) {
        const float *r = g + i * 8;
        json_t *o = json_array_get(anns, i), *b = json_object_get(o, "bbox");
        CHECK_INT_EQ(json_integer_value(json_object_get(o, "id")), (int64_t)i + 1);
        CHECK_INT_EQ(json_integer_value(json_object_get(o, "image_id")), (int64_t)r[0] + 1);
        CHECK_INT_EQ(json_integer_value(json_object_get(o, "category_id")), (int64_t)r[1] + 1);
        CHECK(json_num(b, 0) == (double)r[2] && json_num(b, 1) == (double)r[3] && json_num(b, 2) == (double)r[4] &&
              json_num(b, 3) == (double)r[5]);
        CHECK(json_number_value(json_object_get(o, "area")) == (double)r[6]);
        CHECK_INT_EQ(json_integer_value(json_object_get(o, "iscrowd")), r[7] != 0.0f);
        crowd += r[7] != 0.0f;
    }
    CHECK(crowd > 0); /* f0 has crowd regions: the flag is written, not assumed */
    json_decref(gj);
    sscma_metric_destroy(m);
    snprintf(path, sizeof path, "%s.bbox.json", prefix), unlink(path);
    snprintf(path, sizeof path, "%s.gt.json", prefix), unlink(path);
    rmdir(dir);

    /* a folder that is not there: the validation fails naming the file; a prefix that is not a string */
    m = coco_metric("{\"type\": \"CocoMetric\", \"outfile_prefix\": \"/nonexistent_sscma_dir/val\"}");
    if (m != NULL) {
        feed_fixture("f0", NULL, m);
        CHECK_FAILS(sscma_metric_finish_detections(m), SSCMA_ERR_IO,
                    "outfile_prefix: cannot open /nonexistent_sscma_dir/val.bbox.json");
    }
    sscma_metric_destroy(m);
    sscma_metric *bad = NULL;
    CHECK_FAILS(sscma_metric_create_in(NULL, "{\"type\": \"CocoMetric\", \"outfile_prefix\": 3}", &bad),
                SSCMA_ERR_CONFIG, "outfile_prefix: expected a path prefix (a non-empty string) or null, got 3");
    CHECK(bad == NULL);
}

static void test_coco_metric_config_errors(void)
{
    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"{\"type\": \"CocoMetric\", \"metric\": \"segm\"}",
         "metric: expected 'bbox' (libsscma evaluates boxes only), got \"segm\""},
        {"{\"type\": \"CocoMetric\", \"iou_thrs\": [0.5]}", "iou_thrs: expected null"},
        {"{\"type\": \"CocoMetric\", \"proposal_nums\": [10, 10, 100]}", "three different numbers"},
        {"{\"type\": \"CocoMetric\", \"proposal_nums\": [10, 100]}", "proposal_nums"},
        {"{\"type\": \"CocoMetric\", \"metric_items\": [\"AP\"]}", "metric_items[0]: expected one of: mAP"},
        {"{\"type\": \"CocoMetric\", \"format_only\": true}", "format_only: expected false"},
        {"{\"type\": \"CocoMetric\", \"score_thr\": 0.1}", "unknown key 'score_thr'"},
        {"{\"type\": \"Coco\"}", "CocoMetric"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sscma_metric *m = NULL;
        CHECK_FAILS(sscma_metric_create_in(NULL, bad[i].json, &m), SSCMA_ERR_CONFIG, bad[i].needle);
        CHECK(m == NULL);
    }
    sscma_metric *acc = coco_metric("{\"type\": \"Accuracy\"}");
    CHECK(!sscma_metric_wants_detections(acc));
    CHECK_FAILS(sscma_metric_finish_detections(acc), SSCMA_ERR_UNSUPPORTED, "only CocoMetric");
    sscma_metric_destroy(acc);
}

static void test_nms_test_cfg(void)
{
    json_t *cfg = json_loads("{\"multi_label\": true, \"nms_pre\": 30000, \"score_thr\": 0.001, "
                             "\"nms\": {\"type\": \"nms\", \"iou_threshold\": 0.65}, \"max_per_img\": 300}",
                             0, NULL);
    det_nms_config c;
    CHECK_OK(det_nms_config_read(cfg, "cfg.json", "model.test_cfg", &c));
    CHECK(c.multi_label && c.nms_pre == 30000 && c.score_thr == 0.001f && c.iou_threshold == 0.65f &&
          c.max_per_img == 300 && !c.class_agnostic && c.split_thr == 10000);
    json_decref(cfg);
    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"{\"score_thr\": 0.1}", "cfg.json: model.test_cfg.nms: expected an object"},
        {"{\"nms\": {\"type\": \"soft_nms\", \"iou_threshold\": 0.5}}",
         "model.test_cfg.nms.type: expected 'nms', got \"soft_nms\""},
        {"{\"nms\": {\"iou_threshold\": 1.5}}", "model.test_cfg.nms.iou_threshold"},
        {"{\"nms\": {\"iou_threshold\": 0.5}, \"yolox_style\": true}", "unknown key 'yolox_style'"},
        {"{\"nms\": {\"iou_threshold\": 0.5}, \"max_per_img\": 0}", "model.test_cfg.max_per_img"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = json_loads(bad[i].json, 0, NULL);
        CHECK(b != NULL);
        CHECK_FAILS(det_nms_config_read(b, "cfg.json", "model.test_cfg", &c), SSCMA_ERR_CONFIG, bad[i].needle);
        json_decref(b);
    }
}

/* RTMDet's test_cfg min_bbox_size (mmdet's _bbox_post_process): boxes not wider AND taller than it go before the
 * NMS, after the rescale; -1 (absent) keeps them */
static void test_nms_min_bbox_size(void)
{
    /* a degenerate box (width 0), a 2x10 box and a 10x10 box that the 2x10 one would not suppress */
    const float boxes[] = {5, 5, 5, 9, 0, 0, 2, 10, 20, 20, 30, 30};
    const float scores[] = {0.9f, 0.8f, 0.7f};
    det_nms_config cfg;
    det_nms_config_init(&cfg);
    CHECK(cfg.min_bbox_size < 0.0f);
    det_result r = run_nms(&cfg, boxes, scores, NULL, 3, 1);
    CHECK_INT_EQ(r.count, 3);
    det_result_free(NULL, &r);
    cfg.min_bbox_size = 0.0f; /* RTMDet's: the zero-width box goes */
    r = run_nms(&cfg, boxes, scores, NULL, 3, 1);
    CHECK_INT_EQ(r.count, 2);
    if (r.count == 2)
        CHECK(r.scores[0] == 0.8f && r.boxes[4] == 20.0f);
    det_result_free(NULL, &r);
    cfg.min_bbox_size = 2.0f; /* "above": a width of exactly 2 goes too */
    r = run_nms(&cfg, boxes, scores, NULL, 3, 1);
    CHECK_INT_EQ(r.count, 1);
    det_result_free(NULL, &r);
    json_t *j = json_loads("{\"nms\": {\"iou_threshold\": 0.6}, \"min_bbox_size\": 0}", 0, NULL);
    det_nms_config c;
    CHECK_OK(det_nms_config_read(j, "cfg.json", "model.test_cfg", &c));
    CHECK(c.min_bbox_size == 0.0f);
    json_decref(j);
}

static const test_case cases[] = {
    TEST_CASE(test_nms_min_bbox_size),
    TEST_CASE(test_coco_metric_names_and_values), TEST_CASE(test_coco_metric_config_errors),
    TEST_CASE(test_coco_metric_outfile_prefix),
    TEST_CASE(test_nms_test_cfg),
    TEST_CASE(test_fixtures_cover_the_cases),  TEST_CASE(test_cocoeval_edge_cases),
    TEST_CASE(test_nms_suppression_order),     TEST_CASE(test_nms_per_class_and_agnostic),
    TEST_CASE(test_nms_thresholds_and_caps),   TEST_CASE(test_nms_multi_label_and_rescale),
};

int main(int argc, char **argv)
{
    if (golden_load(&cocoeval, GOLDEN_DIR "/cocoeval.bin") != 0) {
        printf("Bail out! cannot read %s\n", GOLDEN_DIR "/cocoeval.bin");
        return 1;
    }
    test_param_case params[sizeof fixtures / sizeof fixtures[0]];
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        snprintf(params[i].name, sizeof params[i].name, "cocoeval_matches_pycocotools_%s", fixtures[i]);
        params[i].fn = test_cocoeval_matches_pycocotools;
        params[i].index = i;
    }
    int rc = test_main_params(argc, argv, cases, TEST_COUNT(cases), params, sizeof params / sizeof params[0]);
    golden_free(&cocoeval);
    return rc;
}
