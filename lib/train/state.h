/*
 * Private state access for the trainer (train/trainer.c): what a resumable checkpoint needs from the optimizer and
 * the schedulers (the model's side is in graph/model_private.h). Not installed.
 */
#ifndef SSCMA_LIB_TRAIN_STATE_H
#define SSCMA_LIB_TRAIN_STATE_H

#include <jansson.h>
#include <stdbool.h>

#include "graph/model_private.h"
#include "io/checkpoint.h"
#include "sscma/metrics.h"
#include "sscma/model.h"
#include "sscma/optim.h"
#include "sscma/train.h"
#include "train/det_eval.h"

/*
 * A trainer whose model is fitted by another procedure than gradient steps (LODA's counting pass; the runner builds
 * it): sscma_trainer_train runs ops->train (which reports the windows it counted as iterations), validate and save
 * go to the ops, position reads epoch 1 after the fit; resume and hooks are refused with a message naming the
 * family. `user` stays the caller's (it outlives the trainer).
 */
typedef struct sscma_fit_ops {
    const char *family;
    sscma_status (*train)(void *user, int64_t *iters);
    sscma_status (*validate)(void *user, const sscma_metric **out);
    sscma_status (*save)(const void *user, const char *path);
} sscma_fit_ops;
sscma_status sscma_trainer_create_fit(sscma_context *ctx, const sscma_fit_ops *ops, void *user, sscma_trainer **out);

/* sscma_metric_create with its memory from ctx (the public call has no context: NULL, the C allocator). */
sscma_status sscma_metric_create_in(const sscma_context *ctx, const char *config_json, sscma_metric **out);

/*
 * CocoMetric (metrics.c) takes boxes, not tensors: per validation image, the ground truth (COCO xywh, the
 * annotation's area, iscrowd) and the detections after NMS (det_nms: xyxy in original-image pixels, score, label),
 * images in ascending image-id order. sscma_metric_finish_detections then computes COCOeval and publishes the
 * results (coco/bbox_mAP, ...); before it, and after each add, the metric has no results.
 */
bool sscma_metric_wants_detections(const sscma_metric *metric);

/*
 * Sharded validation (docs/distributed.md): whether the metric's state from shards of the validation set (shard r of
 * W: samples r, r + W, ... of the order) combines into exactly the state one process accumulates over the whole set:
 * Accuracy and FomoMetric (integer counts), AnomalyMetric (the per-sample scores, put back in the order). The others
 * (sums of doubles whose rounding depends on the order, CocoMetric) are evaluated whole on every rank.
 */
bool sscma_metric_shardable(const sscma_metric *metric);
/*
 * Combines the shards: every rank calls it after its updates, with `failed` true when its own evaluation failed;
 * sum(arg, values, n) sums values over the W ranks (the same bits on each). Afterwards every rank holds the whole
 * set's state and results. Errors: SSCMA_ERR_STATE ("validation failed on another rank") when another rank failed
 * (a rank that failed gets its own failure's status back, its message kept), SSCMA_ERR_OUT_OF_MEMORY, the sum's.
 */
sscma_status sscma_metric_merge_shards(sscma_metric *metric, bool failed, sscma_status failure,
                                       sscma_status (*sum)(void *arg, double *values, int64_t n), void *arg,
                                       int32_t rank, int32_t world);
sscma_status sscma_metric_add_detections(sscma_metric *metric, int32_t num_classes, const coco_gt *gt, int64_t n_gt,
                                         const coco_det *det, int64_t n_det);
sscma_status sscma_metric_finish_detections(sscma_metric *metric);
/*
 * One batch of a detector into CocoMetric: pred [B, N, 5 + C] from yolo_decode (cx, cy, w, h in input pixels,
 * objectness, class scores), labels a BoxTarget [B, max_boxes, 6]; each image through `nms` (test_cfg) and added,
 * in the input's coordinates (in_h x in_w). The trainer's validation, the runner's evaluation and export verification
 * use it.
 */
sscma_status sscma_metric_add_detection_batch(const sscma_context *ctx, sscma_metric *metric,
                                              const det_nms_config *nms, const sscma_tensor *pred,
                                              const sscma_tensor *labels, int64_t count, int64_t in_h, int64_t in_w);

/*
 * Adds the optimizer's buffers to `list` as "optim/<param>/<buffer>" (borrowed until the write) and its scalars
 * (lr, momentum, per-parameter step counts) to `state`.
 */
sscma_status sscma_optimizer_export(const sscma_optimizer *optimizer, sscma_ckpt_list *list, json_t *state);

/* Restores what sscma_optimizer_export saved; checks everything before changing anything. */
sscma_status sscma_optimizer_import(sscma_optimizer *optimizer, const sscma_ckpt *ck, json_t *state);

/* The context of the optimizer's model: where the optimizer and its schedulers take memory. */
const sscma_context *sscma_optimizer_context(const sscma_optimizer *optimizer);

/* Whether the optimizer uses a momentum (SGD with momentum 0 does not). */
bool sscma_optimizer_has_momentum(const sscma_optimizer *optimizer);

/* Biases use `lr` (not the base rate times their multiplier) while `set`: YOLOv5's warm-up of the bias rate. */
void sscma_optimizer_set_bias_lr(sscma_optimizer *optimizer, bool set, double lr);
bool sscma_optimizer_is_sgd(const sscma_optimizer *optimizer);

/*
 * mmyolo's YOLOv5ParamSchedulerHook: lf(e) = (1 - e / max_epochs)(1 - lr_factor) + lr_factor (linear) or
 * ((1 - cos(e pi / max_epochs)) / 2)(lr_factor - 1) + 1 (cosine). Warm-up over W = max(round(warmup_epochs x
 * iterations per epoch), warmup_mim_iter) iterations: before global iteration i <= W of epoch e, the rate goes
 * linearly from 0 (biases: warmup_bias_lr) to base_lr lf(e), the momentum from warmup_momentum to base_momentum.
 * After each epoch e (0-based) the rate becomes base_lr lf(e).
 */
typedef struct sscma_yolov5_schedule {
    bool cosine;
    double lr_factor, max_epochs, warmup_epochs, warmup_bias_lr, warmup_momentum;
    int64_t warmup_min_iter;
    double base_lr, base_momentum;
} sscma_yolov5_schedule;

double sscma_yolov5_factor(const sscma_yolov5_schedule *s, int64_t epoch);
/* True in warm-up (before iteration `iter` of epoch `epoch`), with the rates and momentum to use. */
bool sscma_yolov5_warmup(const sscma_yolov5_schedule *s, int64_t iter, int64_t epoch, int64_t iters_per_epoch,
                         double *lr, double *bias_lr, double *momentum);

/* The schedulers' step counters as a JSON array, and back (the count and kinds must match). */
json_t *sscma_scheduler_export(const sscma_scheduler *scheduler);
sscma_status sscma_scheduler_import(sscma_scheduler *scheduler, json_t *state, const char *path);

/*
 * sscma_trainer_create for a parsed config (borrowed for the call), its messages starting with `where` (the config's
 * file, or "trainer"): the runner's way in.
 */
sscma_status sscma_trainer_create_from(sscma_model *model, sscma_loader *train_loader, sscma_loader *val_loader,
                                       json_t *cfg, const char *where, sscma_trainer **out);

#endif /* SSCMA_LIB_TRAIN_STATE_H */
