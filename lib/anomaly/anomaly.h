/*
 * Anomaly detection (not installed): SSCMA's LODA detector fitted by counting, and the score-agnostic anomaly
 * evaluation (ROC-AUC, the threshold at a false-positive rate) that any detector's scores feed (LODA's negative log
 * density, a VAE's reconstruction error). docs/models.md "LODA", docs/training.md "Anomaly evaluation".
 *
 * LODA (Pevny 2016, SSCMA's sscma.LODA): num_cuts sparse random projections of the d features (int(sqrt(d)) N(0,1)
 * entries each, the rest zero), an equal-width histogram of num_bins bins per projection over the training
 * projections' [min, max], densities (count + 1e-12) / sum. The score of x is the mean over projections of
 * -log(density of the bin of p_i . x), the bin clamp(floor((v - e0) / width), 0, num_bins - 1). threshold_ is 1.06
 * times the yield_rate quantile (linear interpolation) of the training scores; score > threshold_ is an anomaly.
 * Where this differs from SSCMA's code (the bin lookup, one division by num_cuts, all training windows counted, the
 * state checkpointed) docs/coming-from-sscma.md says why.
 */
#ifndef SSCMA_LIB_ANOMALY_ANOMALY_H
#define SSCMA_LIB_ANOMALY_ANOMALY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"
#include "sscma/data.h"

/* ---- LODA ---- */

/* model: {"type": "LODA" | "sscma.LODA", "num_bins": 10, "num_cuts": 100, "yield_rate": 0.9}. */
typedef struct loda_cfg {
    int64_t num_bins, num_cuts;
    double yield_rate;
} loda_cfg;

/* Reads a model config (`where`: the file, else "LODA"; the keys' path is "model"). Errors: SSCMA_ERR_CONFIG. */
sscma_status loda_cfg_read(json_t *model, const char *where, loda_cfg *out);

/* A fitted detector. The arrays are the checkpoint's tensors (model/projections_ ...), row-major. */
typedef struct loda {
    const sscma_context *ctx;
    int64_t num_bins, num_cuts, dim;
    double yield_rate;
    float *projections; /* [num_cuts, dim] */
    float *limits;      /* [num_cuts, num_bins + 1]: the bin edges */
    float *histograms;  /* [num_cuts, num_bins]: the densities */
    float threshold;    /* threshold_ */
} loda;

/*
 * The projections of `seed` for d features (splitmix64 + Box-Muller, docs/models.md "LODA": row by row, the
 * int(sqrt(d)) non-zero positions by a partial Fisher-Yates shuffle, then their N(0, 1) values in position order),
 * into a new detector with no histograms yet. Errors: SSCMA_ERR_INVALID_ARGUMENT (d < 1), out of memory.
 */
sscma_status loda_create(const sscma_context *ctx, const loda_cfg *cfg, int64_t dim, uint64_t seed, loda **out);

/* A detector with the given projections ([num_cuts, dim], copied): the test entry point. */
sscma_status loda_create_with(const sscma_context *ctx, const loda_cfg *cfg, int64_t dim, const float *projections,
                              loda **out);

void loda_destroy(loda *m);

/*
 * Fits the histograms on the n windows x ([n, dim], row-major) in one counting pass, then threshold_ from their
 * scores. Errors: SSCMA_ERR_INVALID_ARGUMENT (n < 1), SSCMA_ERR_FORMAT (a feature is not finite: the message
 * names the window and the feature).
 */
sscma_status loda_fit(loda *m, const float *x, int64_t n);

/* The score of one window (dim features); NaN when a feature is not finite. */
double loda_score(const loda *m, const float *x);

/*
 * numpy's / torch's quantile with linear interpolation: sorts `values` (n >= 1) in place and returns the q-quantile
 * (0 <= q <= 1), v[floor(h)] + (h - floor(h)) (v[floor(h) + 1] - v[floor(h)]) with h = (n - 1) q.
 */
double anomaly_quantile_linear(double *values, int64_t n, double q);

/*
 * Checkpoint: model/projections_, model/limits, model/histograms, model/threshold_ (f32) with the config (borrowed,
 * may be NULL) and the state {"family": "LODA", "num_bins", "num_cuts", "yield_rate", "dim"}. Errors name the path.
 */
sscma_status loda_save(const loda *m, const char *path, json_t *config);
/* Reads a checkpoint loda_save wrote; SSCMA_ERR_FORMAT when it is another family's or inconsistent. */
sscma_status loda_load(const sscma_context *ctx, const char *path, loda **out);

/*
 * The deployable form (docs/deployment.md "LODA"): a JSON object {"family", "num_bins", "num_cuts", "dim",
 * "threshold", "projections", "lo", "width", "neg_log_density"} or a C source with the same arrays named
 * `<name>_...` for examples/anomaly_loda/loda_score.c's scorer. *out is allocated from ctx (sscma_mfree).
 */
sscma_status loda_export_json(const loda *m, char **out);
sscma_status loda_export_c(const loda *m, const char *name, char **out);

/* ---- windows of a dataset ---- */

/*
 * The windows of a sensor dataset as a matrix [n, dim] (allocated from ctx) with their labels: every window whose
 * class is not skipped (skip: num_classes flags, NULL keeps all). Errors: the dataset's; SSCMA_ERR_FORMAT when
 * windows differ in size or are not f32.
 */
sscma_status anomaly_windows(const sscma_context *ctx, const sscma_dataset *ds, const bool *skip, float **x,
                             int32_t **labels, int64_t *n, int64_t *dim);

/* ---- anomaly evaluation ---- */

/*
 * val_evaluator {"type": "AnomalyMetric", "abnormal_classes": ["shake"], "fpr": 0.05}: the classes held out of
 * training and counted as positives, the false-positive rate on normal data the reported threshold is chosen at.
 */
#define ANOMALY_MAX_CLASSES 64
typedef struct anomaly_metric_cfg {
    double fpr;
    int32_t n_abnormal;
    const char *abnormal[ANOMALY_MAX_CLASSES]; /* borrowed from the JSON */
} anomaly_metric_cfg;

/* Reads the evaluator config at `path` ("val_evaluator") of file `where`. Errors: SSCMA_ERR_CONFIG. */
sscma_status anomaly_metric_cfg_read(json_t *obj, const char *where, const char *path, anomaly_metric_cfg *out);

/* The abnormal flags per class of `ds` (num_classes entries, allocated from ctx); an unknown class name fails with
 * the message "<where>: <path>.abnormal_classes[i]: unknown class 'x'; the dataset's classes: a, b". */
sscma_status anomaly_abnormal_flags(const sscma_context *ctx, const anomaly_metric_cfg *cfg,
                                    const sscma_dataset *ds, const char *where, const char *path, bool **out);

typedef struct anomaly_roc {
    double auc;       /* ROC-AUC: P(score of an abnormal > score of a normal) + 0.5 P(equal) (Mann-Whitney) */
    double threshold; /* the (1 - target fpr) quantile of the normal scores; score > threshold is an anomaly */
    double tpr, fpr;  /* the rates at that threshold */
    int64_t positives, negatives;
} anomaly_roc;

/*
 * The evaluation of n scores (higher: more anomalous) with their truth (true: abnormal), score-agnostic. Errors:
 * SSCMA_ERR_INVALID_ARGUMENT when one class is missing (AUC undefined, as sklearn's roc_auc_score) or a score is
 * not finite (the message names its index), target_fpr outside [0, 1].
 */
sscma_status anomaly_roc_compute(const sscma_context *ctx, const double *scores, const bool *abnormal, int64_t n,
                                 double target_fpr, anomaly_roc *out);

#endif /* SSCMA_LIB_ANOMALY_ANOMALY_H */
