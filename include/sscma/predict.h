/*
 * libsscma predictions: a deployable model (<sscma/quant.h>, in memory or read from a .tflite file) run on an image
 * the way SSCMA-Micro runs it on the device, with the family's post-processing:
 *
 *   sscma_tensor *img;  sscma_prediction r[16];  int32_t n;
 *   sscma_image_read(ctx, "photo.jpg", 0, &img);
 *   sscma_predict(qmodel, img, NULL, r, 16, &n);     // FOMO: objects; classifier: top classes; PFLD: points
 *
 * Pre-processing is the device's: the image is converted to the model's channel count, resized bilinearly to the
 * input size (no letterbox) and normalised with the model's "mean" / "std" metadata (a file without libsscma
 * metadata: pixel / 255, as ModelAssistant exports), then quantized for an int8 model. A file without "family"
 * metadata (an SSCMA-Micro / ModelAssistant .tflite) is recognised by its output layout as SSCMA-Micro recognises
 * it, or told by options->task. docs/deployment.md gives the post-processing of each family.
 */
#ifndef SSCMA_PREDICT_H
#define SSCMA_PREDICT_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/quant.h>
#include <sscma/tensor.h>

SSCMA_BEGIN_DECLS

/* One result, in the pixels of the image given to sscma_predict. */
typedef struct sscma_prediction {
    int32_t class_id; /* classifier, FOMO, YOLO and RTMDet: the class index; PFLD: the keypoint index; anomaly:
                         1 (abnormal: score above the threshold), 0 (normal) or -1 (no threshold known) */
    float score;      /* classifier and FOMO: the probability; YOLO: the objectness; RTMDet: the class's sigmoid;
                         PFLD: 1; anomaly: MSE(x_recon, x) + MSE(c_recon, c), the reconstructions of the input's
                         two halves (SSCMA's anomaly VAE, Vae_Model) */
    float x, y;       /* FOMO: the centre of the object's cell; YOLO, RTMDet: the box's centre; PFLD: the point;
                         classifier: 0 */
    float w, h;       /* FOMO: the cell's size; YOLO, RTMDet: the box's size; otherwise 0 */
} sscma_prediction;

/* Options of sscma_predict; initialise with sscma_predict_options_init. */
typedef struct sscma_predict_options {
    uint32_t struct_size;
    float score_threshold; /* negative (default): the family's default. With "family" metadata: FOMO cells whose
                              class probability exceeds it (default 0.5), classes at or above it (default 0).
                              YOLODetector, and files without metadata (SSCMA-Micro's rules): scores above it
                              (default 0.25, the device's); RTMDet: scores at or above it (default 0.25);
                              anomaly: the decision threshold on the score (default: the model's "threshold"
                              metadata, else none) */
    int32_t top_k;         /* classifier: the best k classes (default 5; negative: all) */
    /* Appended after the first version (which ends at top_k); a caller built with that size gets the defaults. */
    const char *task;      /* the output's layout: "cls", "fomo", "pfld", "yolo", "rtmdet" or "anomaly"; NULL or ""
                              (default): the
                              "family" metadata, else recognised from the shapes (docs/deployment.md) */
    float iou_threshold;   /* YOLO, RTMDet (per class): non-maximum suppression drops a box whose IoU with a
                              better one exceeds it
                              (default 0.45, SSCMA-Micro's); 0..1 */
} sscma_predict_options;

/* Fills `options` with the defaults (as sscma_quant_options_init). */
SSCMA_API sscma_status sscma_predict_options_init(sscma_predict_options *options, size_t struct_size);

/*
 * Decodes an image file (JPEG, PNG, BMP) into a new u8 tensor [H, W, C] that *out owns; channels 1 or 3 converts,
 * 0 keeps the file's (gray stays 1, anything else becomes 3). Errors: SSCMA_ERR_IO (a missing file),
 * SSCMA_ERR_FORMAT (an undecodable one: the message names the file), SSCMA_ERR_UNSUPPORTED (over 40 megapixels).
 */
SSCMA_API sscma_status sscma_image_read(sscma_context *ctx, const char *path, int32_t channels, sscma_tensor **out);

/*
 * Runs `qmodel` (prepared for batch 1 by this call when needed) on `image` (u8 [H, W, C], C 1 or 3; or, for a model
 * of sensor windows, f32 [channels, length] as a SensorDataset sample's sscma_sample_image gives it; for the anomaly
 * VAE, f32 [H, W, 2C], its input's values, x then c in each pixel, or [2C, H W] channel-major as a windows
 * dataset's sample gives it) and writes up to
 * `capacity` results into `results`: a classifier's top_k classes, best first; FOMO's cells; YOLO's and RTMDet's
 * boxes after non-maximum suppression; PFLD's keypoints in order; the anomaly VAE's one result, its score and
 * decision (docs/deployment.md gives each family's thresholds
 * and order, which for a file without "family" metadata are SSCMA-Micro's). *count receives the number of results
 * found, which may exceed capacity (only capacity are written). options may be NULL (sscma_predict_task says which
 * post-processing that is). Errors: a model whose family ("family" metadata) is not ImageClassifier,
 * AccelerometerClassifier, Fomo, PFLD, YOLODetector, RTMDet or Vae_Model and no options->task, a file without it
 * whose layout
 * none of SSCMA-Micro's matches, an output
 * without the task's shape (SSCMA_ERR_UNSUPPORTED), an unknown task or an iou_threshold outside 0..1
 * (SSCMA_ERR_INVALID_ARGUMENT), a bad image tensor (SSCMA_ERR_DTYPE, SSCMA_ERR_SHAPE), the runtime's errors.
 */
SSCMA_API sscma_status sscma_predict(sscma_qmodel *qmodel, const sscma_tensor *image,
                                     const sscma_predict_options *options, sscma_prediction *results, int32_t capacity,
                                     int32_t *count);

/*
 * The post-processing sscma_predict applies to `qmodel` with `options` (NULL: the defaults), without running it:
 * *task receives "cls", "fomo", "pfld", "yolo", "rtmdet" or "anomaly" (a static string), from options->task, else
 * the
 * "family" metadata,
 * else the output's layout as SSCMA-Micro recognises it (docs/deployment.md). Prepares the model for batch 1 when
 * needed, as sscma_predict does. Errors: as sscma_predict's for the task and the layout.
 */
SSCMA_API sscma_status sscma_predict_task(sscma_qmodel *qmodel, const sscma_predict_options *options, const char **task);

SSCMA_END_DECLS

#endif /* SSCMA_PREDICT_H */
