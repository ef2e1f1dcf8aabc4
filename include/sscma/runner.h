/*
 * libsscma runner: what SSCMA's tools/train.py builds from a config (mmengine's Runner), built by the library so
 * that every front end (the `sscma` command line, Python, an application) reads a recipe the same way.
 *
 *   sscma_config *cfg;   sscma_runner *r;   sscma_trainer *t;
 *   sscma_config_load("configs/fomo/fomo_mobnetv2_0.35_x8_coco.json", &cfg);
 *   sscma_config_set(cfg, "data_root=data/fashion_det");
 *   sscma_config_resolve(cfg);
 *   sscma_runner_create(ctx, cfg, &r);       // the model ("model"), loaded from "load_from" when set
 *   sscma_runner_trainer(r, &t);             // the loaders of train_dataloader / val_dataloader, the trainer
 *   sscma_trainer_train(t);
 *
 * A dataloader config has mmengine's shape: {"batch_size", "num_workers", "drop_last", "sampler": {"type":
 * "DefaultSampler", "shuffle"}, "dataset": {"type", ..., "pipeline": [...]}}. The dataset's pipeline becomes the
 * loader's: loading and packing steps (LoadImageFromFile, LoadAnnotations, Pack*Inputs, ...) are dropped
 * (LoadImageFromFile with color_type "grayscale" becomes ToGray), registry scopes ("mmdet.Resize") are dropped, and
 * the model's data_preprocessor mean/std becomes a final Normalize when the pipeline has none. The targets follow
 * the model: a FOMO model's loaders encode FomoTarget at the model's stride, a PFLD model's KeypointTarget. The
 * loader seed is randomness.seed. docs/configs.md lists the mapping and the keys read.
 */
#ifndef SSCMA_RUNNER_H
#define SSCMA_RUNNER_H

#include <sscma/common.h>
#include <sscma/config.h>
#include <sscma/core.h>
#include <sscma/data.h>
#include <sscma/metrics.h>
#include <sscma/model.h>
#include <sscma/quant.h>
#include <sscma/train.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_runner sscma_runner;

/*
 * Builds the model of a resolved config (its "model" key) and loads pretrained weights as mmengine does: each
 * init_cfg {"type": "Pretrained", "checkpoint", "prefix"} of the parts and the model, then "load_from" (a checkpoint
 * or an ONNX file), by name and non-strict, mismatches logged as a warning (docs/training.md). A top-level "prune"
 * object then prunes the loaded model's channels (docs/training.md, "Pruning") and sets the config's "model" to the
 * pruned model's config, the one change the runner makes to `config`. The config is read now and not kept. Datasets, loaders and the trainer are built on
 * first use. *out owns the runner and everything it builds. Errors: SSCMA_ERR_CONFIG (no "model", a bad value: the
 * message names the dotted key), the model's and the checkpoint's errors.
 */
SSCMA_API sscma_status sscma_runner_create(sscma_context *ctx, sscma_config *config, sscma_runner **out);

/* Destroys a runner and everything it built (trainer, loaders, datasets, model). NULL is a no-op. */
SSCMA_API void sscma_runner_destroy(sscma_runner *runner);

/* Stores the runner's model in *out (owned by the runner). Errors: NULL arguments. */
SSCMA_API sscma_status sscma_runner_model(sscma_runner *runner, sscma_model **out);

/*
 * Stores in *out the dataset of split "train", "val" or "test" (train_dataloader, val_dataloader, test_dataloader;
 * "test" falls back to val_dataloader), opened on first use and owned by the runner. "calib" names the split
 * post-training quantization calibrates on (sscma export): val, or train when the config has no val_dataloader or
 * the model is a Vae_Model evaluated by an AnomalyMetric (train then holds only the normal windows). Errors:
 * SSCMA_ERR_NOT_FOUND (the config has no such dataloader), SSCMA_ERR_INVALID_ARGUMENT (another split name), the
 * dataset's errors with the dotted key ("val_dataloader.dataset") in front.
 */
SSCMA_API sscma_status sscma_runner_dataset(sscma_runner *runner, const char *split, sscma_dataset **out);

/*
 * Stores in *out the loader of a split (as sscma_runner_dataset), created on first use and owned by the runner.
 * Errors: as sscma_runner_dataset; the loader's errors (a bad transform: the key names it) with the dataloader key.
 */
SSCMA_API sscma_status sscma_runner_loader(sscma_runner *runner, const char *split, sscma_loader **out);

/*
 * Stores in *json the loader config the runner derives for a split (the text sscma_loader_create receives: batch
 * size, shuffle, workers, seed, pipeline, target), owned by the runner and valid until the next call. For
 * inspection (`sscma info`). Errors: as sscma_runner_dataset.
 */
SSCMA_API sscma_status sscma_runner_loader_config(sscma_runner *runner, const char *split, const char **json);

/*
 * Stores in *out the trainer (owned by the runner), created on first use from the config's trainer keys
 * (max_epochs / train_cfg, val_interval, optim_wrapper, param_scheduler, val_evaluator, default_hooks, custom_hooks,
 * work_dir) over the model and the train and (when configured) val loaders. The work_dir is created when missing.
 * Errors: the loaders' and sscma_trainer_create's errors; SSCMA_ERR_IO when the work_dir cannot be created.
 */
SSCMA_API sscma_status sscma_runner_trainer(sscma_runner *runner, sscma_trainer **out);

/*
 * Evaluates the model on a split (mmengine's Runner.val / Runner.test): one pass of the split's loader in evaluation
 * mode through the config's evaluator ("test_evaluator" for "test" when the config has one, else "val_evaluator"),
 * fed with the model output "pred_output" (default: "keypoints" for PFLD, "logits" otherwise). Stores the metric
 * in *out (owned by the runner, valid until the next evaluation or destroy). The model is re-prepared at the
 * loader's batch size. Errors: SSCMA_ERR_CONFIG (no evaluator: the message names the key), the loader's, model's
 * and metric's errors.
 */
SSCMA_API sscma_status sscma_runner_evaluate(sscma_runner *runner, const char *split, const sscma_metric **out);

/*
 * Sets the deployment metadata of `qmodel` from the config: "classes" (the train or val dataset's class names, as
 * a JSON list) and "mean" / "std" (the normalisation the loaders apply, in 0..255 pixel units). Errors: the
 * datasets' errors, sscma_qmodel_set_meta's.
 */
SSCMA_API sscma_status sscma_runner_set_meta(sscma_runner *runner, sscma_qmodel *qmodel);

/*
 * Scores one window with the runner's anomaly detector (model type LODA, fitted by the trainer or loaded from
 * "load_from"): `window` is an f32 tensor of the detector's number of features, in the order of a sample of the
 * config's SensorDataset (sscma_sample_image: channel-major, after its "features"). Stores the score (LODA: the
 * mean negative log density over the projections; higher is more anomalous) in *score, whether it is an anomaly
 * (score > threshold_) in *abnormal and threshold_ in *threshold; abnormal and threshold may be NULL.
 * Errors: SSCMA_ERR_INVALID_ARGUMENT (a NULL runner, window or score), SSCMA_ERR_UNSUPPORTED (the model is no
 * anomaly detector), SSCMA_ERR_STATE (not fitted, no checkpoint), SSCMA_ERR_SHAPE (not f32, or another size).
 */
SSCMA_API sscma_status sscma_runner_anomaly_score(sscma_runner *runner, const sscma_tensor *window, double *score,
                                                  int32_t *abnormal, double *threshold);

SSCMA_END_DECLS

#endif /* SSCMA_RUNNER_H */
