/*
 * libsscma metrics: the evaluators of SSCMA's configs (val_evaluator), as accumulators. Create one from a config,
 * feed it batches of predictions and targets with sscma_metric_update, then read its named results:
 *
 *   {"type": "Accuracy", "topk": [1, 5]}          accuracy/top1, accuracy/top5 (percent, as mmpretrain), and
 *                                                 single-label/precision, /recall, /f1-score (macro, percent),
 *                                                 per-class precision/<k> and recall/<k>, a confusion matrix
 *   {"type": "FomoMetric"}                         P, R, F1 (SSCMA's rule: a predicted cell in the 8-neighbourhood
 *                                                 of a ground-truth cell of the same class counts as a hit)
 *   {"type": "PointMetric", "input_size": [112, 112], "threshold": 10}   keypoint/Acc (SSCMA's PFLD metric), NME
 *   {"type": "MSE"}                                mse
 *   {"type": "CocoMetric", "proposal_nums": [100, 1, 10]}   coco/bbox_mAP, _50, _75, _s, _m, _l, coco/bbox_AR@1,
 *                                                 ... (pycocotools' 12 numbers); the trainer's validation, the
 *                                                 runner's evaluation and export verification feed it boxes per
 *                                                 image; sscma_metric_update refuses it (SSCMA_ERR_UNSUPPORTED)
 *
 * docs/training.md gives the exact formulas, inputs and keys of each.
 */
#ifndef SSCMA_METRICS_H
#define SSCMA_METRICS_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/tensor.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_metric sscma_metric;

/*
 * Creates a metric from a JSON config (copied). *out owns it. Errors: SSCMA_ERR_CONFIG (unknown type or key, a
 * value out of range: the message names it), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_metric_create(const char *config_json, sscma_metric **out);

/* Destroys a metric. NULL is a no-op. */
SSCMA_API void sscma_metric_destroy(sscma_metric *metric);

/* Forgets every sample seen, for the next evaluation. Errors: NULL. */
SSCMA_API sscma_status sscma_metric_reset(sscma_metric *metric);

/*
 * Adds the first `count` samples of a batch: `pred` is the model's output (Accuracy: f32 scores [N, K]; FomoMetric:
 * f32 logits or probabilities [N, H, W, C+1], channel 0 background; PointMetric: f32 normalised coordinates
 * [N, 2P]; MSE: any f32 shape) and `target` the ground truth (Accuracy: i32 labels [N]; the others: f32 of pred's
 * shape, FomoMetric one-hot). Nothing is kept from the tensors. Errors: SSCMA_ERR_DTYPE, SSCMA_ERR_SHAPE (the
 * message shows both shapes), a label outside [0, K) (SSCMA_ERR_INVALID_ARGUMENT naming the sample), count outside
 * [0, N], a class count that changed since the last reset.
 */
SSCMA_API sscma_status sscma_metric_update(sscma_metric *metric, const sscma_tensor *pred, const sscma_tensor *target,
                                           int64_t count);

/*
 * Stores the number of results in *out (0 before the first update: results are computed from the samples seen).
 */
SSCMA_API sscma_status sscma_metric_result_count(const sscma_metric *metric, int32_t *out);

/*
 * Describes result `index`: its name (owned by the metric, valid until the next update, reset or destroy) and value.
 * Either output may be NULL. Errors: index out of range.
 */
SSCMA_API sscma_status sscma_metric_result(const sscma_metric *metric, int32_t index, const char **name,
                                           double *value);

/* Stores the value of result `name` ("accuracy/top1") in *out. Errors: SSCMA_ERR_NOT_FOUND (the message lists the
 * results). */
SSCMA_API sscma_status sscma_metric_get(const sscma_metric *metric, const char *name, double *out);

/*
 * Accuracy only: stores the class count in *num_classes and a pointer to the confusion matrix in *matrix (row =
 * true class, column = predicted class, num_classes^2 counts, owned by the metric, valid until the next update,
 * reset or destroy). Errors: another metric type (SSCMA_ERR_UNSUPPORTED), no samples yet (SSCMA_ERR_STATE).
 */
SSCMA_API sscma_status sscma_metric_confusion_matrix(const sscma_metric *metric, int32_t *num_classes,
                                                     const int64_t **matrix);

SSCMA_END_DECLS

#endif /* SSCMA_METRICS_H */
