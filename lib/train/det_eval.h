/*
 * Detection evaluation (internal): the post-processing mmyolo's YOLOv5Head.predict_by_feat applies before its
 * metric (score filter, top-k, optional rescale, mmcv's batched_nms, max_per_img), and pycocotools' COCOeval for
 * iouType 'bbox' (the 12 summary numbers that mmdet's CocoMetric reads). docs/training.md, "Detection metric".
 */
#ifndef SSCMA_TRAIN_DET_EVAL_H
#define SSCMA_TRAIN_DET_EVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sscma/core.h"

/* ---- NMS (mmyolo's test_cfg) ---- */

typedef struct det_nms_config {
    float score_thr;      /* candidates keep score > score_thr; with objectness and score_thr > 0, first obj > thr */
    float iou_threshold;  /* nms.iou_threshold: a box is suppressed when its IoU with a kept one is > this */
    int64_t nms_pre;      /* at most this many candidates (best scores) enter NMS; mmyolo's default 100000 */
    int64_t max_per_img;  /* at most this many boxes come out; mmdet's default 100 */
    int64_t split_thr;    /* mmcv's batched_nms: from this many candidates on, one NMS per class; default 10000 */
    bool multi_label;     /* one candidate per (box, class) above score_thr; else the best class per box */
    float min_bbox_size;  /* >= 0: after the rescale, boxes not wider and taller than this go (mmdet); -1 off */
    bool class_agnostic;  /* nms.class_agnostic: one NMS over all classes */
} det_nms_config;

/* mmyolo's YOLOv5 defaults where the config is silent: score_thr -1 (mmyolo's cfg.get default), iou 0.5,
 * nms_pre 100000, max_per_img 100, split_thr 10000, multi_label false, class_agnostic false. */
void det_nms_config_init(det_nms_config *cfg);

/*
 * The model's test_cfg as mmyolo's YOLOv5 configs write it: {"multi_label": true, "nms_pre": 30000, "score_thr":
 * 0.001, "nms": {"type": "nms", "iou_threshold": 0.65}, "max_per_img": 300} (nms may also hold class_agnostic and
 * split_thr, as mmcv's batched_nms reads them). Unknown keys are errors naming the valid ones; messages start with
 * `where` and the key's path under `path`.
 */
sscma_status det_nms_config_read(json_t *test_cfg, const char *where, const char *path, det_nms_config *out);

/* mmyolo's rescale to the original image: boxes -= (pad_left, pad_top) ; boxes /= (scale_w, scale_h); after NMS the
 * boxes are clamped to [0, ori_w] x [0, ori_h]. */
typedef struct det_rescale {
    float pad_left, pad_top;
    float scale_w, scale_h;
    float ori_w, ori_h;
} det_rescale;

/* The kept detections of one image, best score first. */
typedef struct det_result {
    int64_t count;
    float *boxes;   /* [count, 4] x1 y1 x2 y2 */
    float *scores;  /* [count] */
    int32_t *labels;/* [count] */
} det_result;

/*
 * One image: boxes [n, 4] (x1 y1 x2 y2, decoded), scores [n, num_classes] (sigmoid class scores), objectness [n]
 * or NULL (then scores are final). Fills *out (its arrays allocated with ctx; release with det_result_free).
 */
sscma_status det_nms(const sscma_context *ctx, const det_nms_config *cfg, const float *boxes, const float *scores,
                     const float *objectness, int64_t n, int32_t num_classes, const det_rescale *rescale,
                     det_result *out);
void det_result_free(const sscma_context *ctx, det_result *r);

/* ---- COCO bbox evaluation (pycocotools' COCOeval, iouType 'bbox') ---- */

typedef struct coco_gt {
    double x, y, w, h; /* COCO's bbox: left, top, width, height */
    double area;       /* the annotation's `area` field (what the area ranges compare) */
    int32_t label;     /* 0 .. num_classes - 1 */
    bool iscrowd;
} coco_gt;

typedef struct coco_det {
    double x1, y1, x2, y2; /* as mmdet's results: the evaluator takes width x2 - x1 and height y2 - y1 */
    double score;
    int32_t label;
} coco_det;

typedef struct coco_eval coco_eval;

#define COCO_STATS 12

/*
 * max_dets: three detection caps in any order (pycocotools sorts them; mmdet passes proposal_nums, SSCMA's
 * (100, 1, 10)). The images added later are evaluated in the order they were added (pycocotools' ascending
 * image ids), which decides ties in score between images.
 */
sscma_status coco_eval_create(const sscma_context *ctx, int32_t num_classes, const int64_t max_dets[3],
                              coco_eval **out);
void coco_eval_destroy(coco_eval *e);
void coco_eval_reset(coco_eval *e);
/* Adds one image (copies the arrays); detections in the order the model gave them. */
sscma_status coco_eval_add_image(coco_eval *e, const coco_gt *gt, int64_t n_gt, const coco_det *det, int64_t n_det);
int64_t coco_eval_image_count(const coco_eval *e);
/*
 * COCOeval.evaluate + accumulate + summarize: stats as COCOeval.stats (AP, AP50, AP75, AP small, medium, large,
 * AR at the three caps, AR small, medium, large; -1 where nothing counts). category_ap (NULL, or num_classes
 * entries): mean precision over IoU and recall thresholds at area 'all' and the largest cap, -1 without gt (as
 * mmdet's classwise table, which prints nan there).
 */
sscma_status coco_eval_compute(coco_eval *e, double stats[COCO_STATS], double *category_ap);
/*
 * mmdet's CocoMetric outfile_prefix: writes what was evaluated as COCO JSON, <prefix>.bbox.json (results: image_id,
 * bbox [x1, y1, x2 - x1, y2 - y1], score, category_id) and <prefix>.gt.json (images, annotations with area and
 * iscrowd, categories), image ids 1..N in the order added, category ids label + 1; numbers in %.17g (pycocotools
 * reads the same doubles).
 */
sscma_status coco_eval_write_json(const coco_eval *e, const char *prefix);
/* The sorted caps the stats use. */
void coco_eval_max_dets(const coco_eval *e, int64_t out[3]);

#endif /* SSCMA_TRAIN_DET_EVAL_H */
