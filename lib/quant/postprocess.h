/*
 * SSCMA-Micro's post-processing from output values (postprocess.c): shared by sscma_predict and the micro runtime.
 * Internal to libsscma (quant rank).
 */
#ifndef SSCMA_LIB_QUANT_POSTPROCESS_H
#define SSCMA_LIB_QUANT_POSTPROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "quant/qmodel.h"
#include "sscma/predict.h"

/* The post-processings, by their task names ("cls", "fomo", "pfld", "yolo", "rtmdet", "anomaly"). */
typedef enum sscma_pp_task {
    SSCMA_PP_CLS,
    SSCMA_PP_FOMO,
    SSCMA_PP_PFLD,
    SSCMA_PP_YOLO,
    SSCMA_PP_RTMDET,
    SSCMA_PP_ANOMALY, /* SSCMA's anomaly VAE: two reconstructions of the input's two halves, one score */
    SSCMA_PP_TASKS
} sscma_pp_task;

/* One result with the key that orders ties as SSCMA-Micro's stable list sorts do (docs/deployment.md). */
typedef struct sscma_pp_candidate {
    sscma_prediction p;
    int64_t order;
} sscma_pp_candidate;

/* Output 0 as float values (dequantized), its shape, and the input's shape. */
typedef struct sscma_pp_output {
    const float *values;
    int32_t rank;
    const int64_t *dims;    /* rank entries */
    const int64_t *in_dims; /* [1, H, W, C] */
    bool quantized;         /* an int8 output with one scale */
    bool percent;           /* SSCMA-Micro's "values in percent" rule: quantized with a scale of 0.1 or more */
} sscma_pp_output;

/*
 * The task: `option` ("cls" ... or NULL / ""), else `family` (the metadata; NULL when absent), else SSCMA-Micro's
 * recognition from the shapes (in: [1, H, W, C]; d: output 0's). Errors name sscma_predict.
 */
sscma_status sscma_pp_choose_task(const sscma_qmodel *q, const char *option, const char *family, int32_t in_rank,
                                  const int64_t *in, int32_t rank, const int64_t *d, sscma_pp_task *task);
const char *sscma_pp_task_name(sscma_pp_task task);

/*
 * Decodes `out` into all[] (room for one candidate per output value) and returns how many: `device` follows
 * SSCMA-Micro's rules (a file without libsscma's metadata), else libsscma's; positions in the pixels of an image
 * image_w x image_h; score_threshold negative: the default; top_k (classifier) negative: all.
 */
int64_t sscma_pp_decode(sscma_pp_task task, bool device, const sscma_pp_output *out, float image_w, float image_h,
                        float score_threshold, float iou_threshold, int32_t top_k, sscma_pp_candidate *all);

/*
 * RTMDet's six outputs (sscma_qm_rtmdet_layout's order: class maps of strides 8, 16, 32, then distance maps) as
 * real values in maps[]; cls_scale[l]: level l's class map's int8 scale (0: not quantized per tensor); classes per
 * point; input in_h x in_w. Decodes into all[] (room for one candidate per point) and returns how many remain after
 * per-class NMS, in input pixels (docs/deployment.md: `device` gives SSCMA-Micro's offset and threshold rule).
 */
int64_t sscma_pp_decode_rtmdet(const float *const *maps, const float *cls_scale, int64_t in_h, int64_t in_w,
                               int64_t classes, bool device, float score_threshold, float iou_threshold,
                               sscma_pp_candidate *all);

/*
 * The anomaly VAE's per-sample score (Vae_Model, zoo/vae.c): MSE(x_recon, x) + MSE(c_recon, c), each the mean over
 * pixels x channels, from one sample's input [pixels, 2 channels] (x then c in each pixel, NHWC) and its two
 * reconstructions [pixels, channels]. The KL terms of the training loss are left out: the deployed model has no
 * logvar (eps = 0), and SSCMA's ESP32 example prints the two reconstruction losses. The runner scores validation
 * samples with it; sscma_predict's "anomaly" task too.
 */
double sscma_pp_anomaly_score(const float *input, const float *x_recon, const float *c_recon, int64_t pixels,
                              int64_t channels);
/* The anomaly result: class_id 1 (abnormal) when score > threshold, 0 when not, -1 without a threshold (NaN). */
sscma_prediction sscma_pp_anomaly_result(double score, float threshold);

#endif /* SSCMA_LIB_QUANT_POSTPROCESS_H */
