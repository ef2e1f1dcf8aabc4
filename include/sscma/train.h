/*
 * libsscma trainer: the epoch loop of SSCMA's tools/train.py (mmengine's EpochBasedTrainLoop) over a model and its
 * loaders, configured with the same keys:
 *
 *   {"max_epochs": 8, "val_interval": 1,
 *    "optim_wrapper": {"optimizer": {"type": "AdamW", "lr": 0.001, "weight_decay": 0.0001}},
 *    "param_scheduler": [{"type": "CosineAnnealingLR", "T_max": 8, "by_epoch": true, "convert_to_iter_based": true}],
 *    "val_evaluator": {"type": "Accuracy", "topk": [1, 5]},
 *    "work_dir": "work_dirs/fmnist",
 *    "default_hooks": {"checkpoint": {"interval": 1, "max_keep_ckpts": 3, "save_best": "accuracy/top1",
 *                                     "rule": "greater"},
 *                      "logger": {"interval": 50}},
 *    "custom_hooks": [{"type": "EMAHook", "ema_type": "ExpMomentumEMA", "momentum": 0.0002},
 *                     {"type": "EarlyStoppingHook", "monitor": "accuracy/top1", "patience": 5}]}
 *
 * Each iteration: the next batch from the train loader, forward, loss, backward, optimizer step, scheduler step, EMA
 * update, progress callback. At the end of each epoch: epoch schedulers, validation every val_interval epochs (with
 * the EMA weights when EMA is on), then checkpoints (epoch_N.ckpt, best_<metric>_epoch_N.ckpt, last_checkpoint) and
 * early stopping. A checkpoint holds everything needed to resume bit-identically: weights and batch-norm statistics,
 * optimizer and scheduler state, EMA, epoch and iteration, the dropout random stream and the best score (the loader
 * position is the epoch: every random choice of a loader depends only on its seed, the epoch and the sample).
 * docs/training.md lists every key and default.
 */
#ifndef SSCMA_TRAIN_H
#define SSCMA_TRAIN_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/data.h>
#include <sscma/metrics.h>
#include <sscma/model.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_trainer sscma_trainer;

/* What the progress callback sees after each iteration. Later versions may append fields (check struct_size). */
typedef struct sscma_train_progress {
    size_t struct_size;      /* sizeof the struct the library filled */
    int64_t epoch;           /* current epoch, 1-based */
    int64_t max_epochs;
    int64_t iter;            /* iteration within the epoch, 1-based */
    int64_t iters_per_epoch;
    int64_t global_iter;     /* iterations done since the start of training (resumes included) */
    double loss;             /* this iteration's loss */
    double lr;               /* the base learning rate used for this iteration */
    double images_per_s;     /* training throughput since this call of sscma_trainer_train started */
    double eta_s;            /* estimated seconds to the end of max_epochs, at that throughput */
    double momentum;         /* the momentum used for this iteration (SGD's momentum, Adam's beta1) */
} sscma_train_progress;

/* Progress callback: return nonzero to cancel training (sscma_trainer_train then returns SSCMA_ERR_CANCELLED). */
typedef int (*sscma_train_callback)(const sscma_train_progress *progress, void *user_data);

/*
 * Creates a trainer for `model` with batches from `train_loader` and, when not NULL, validation on `val_loader`
 * (all three must outlive it; the loaders' images must match the model's "image" input). The optimizer, schedulers,
 * metric and hooks are built from config_json now. Nothing is written until training runs; with a work_dir, the
 * directory must exist. *out owns the trainer. Errors: SSCMA_ERR_CONFIG (the message names the key),
 * SSCMA_ERR_SHAPE (loader and model disagree on images or targets — a FOMO model needs the loader's FomoTarget, a
 * PFLD model its KeypointTarget: both shapes shown), SSCMA_ERR_UNSUPPORTED (a model without a "target" input),
 * SSCMA_ERR_OUT_OF_MEMORY.
 *
 * Data parallel (a library built with MPI, docs/distributed.md): in a process started by mpirun, srun or another MPI
 * launcher, or whose application initialised MPI, the trainer joins MPI_COMM_WORLD. Each rank then reads its shard
 * of train_loader (batch_size is per rank), the gradients are averaged over the ranks every step, rank 0 alone
 * validates, logs and writes files, and a rank that fails stops the whole job (MPI_Abort) after printing why.
 */
SSCMA_API sscma_status sscma_trainer_create(sscma_model *model, sscma_loader *train_loader, sscma_loader *val_loader,
                                            const char *config_json, sscma_trainer **out);

/* Destroys a trainer (not the model or the loaders). NULL is a no-op. */
SSCMA_API void sscma_trainer_destroy(sscma_trainer *trainer);

/* Sets (or, with NULL, removes) the progress callback. user_data is passed back unchanged. Errors: NULL trainer. */
SSCMA_API sscma_status sscma_trainer_set_callback(sscma_trainer *trainer, sscma_train_callback callback,
                                                  void *user_data);

/*
 * Validation callback: called by sscma_trainer_train after each validation it runs (and after the hooks saw its
 * results) with the number of finished epochs and the validation's metric (valid during the call). It may call
 * sscma_trainer_log_image. Return nonzero to cancel training (SSCMA_ERR_CANCELLED, as the progress callback). In a
 * data-parallel job it is called on every rank (each holds the whole set's metric; docs/distributed.md).
 */
typedef int (*sscma_val_callback)(sscma_trainer *trainer, int64_t epoch, const sscma_metric *metric, void *user_data);

/* Sets (or, with NULL, removes) the validation callback. user_data is passed back unchanged. Errors: NULL trainer. */
SSCMA_API sscma_status sscma_trainer_set_val_callback(sscma_trainer *trainer, sscma_val_callback callback,
                                                      void *user_data);

/*
 * Adds a picture to the trainer's TensorBoard event file as an image summary: `png` holds a whole PNG file of `size`
 * bytes (its width, height and colour type are read from its header), `tag` names it ("val/predictions"), `step` is
 * the step TensorBoard shows it at (negative: the number of finished epochs, the step of the validation scalars).
 * Nothing is written, and SSCMA_OK returned, when the trainer writes no event file (no work_dir, no logger hook,
 * training not started, or a data-parallel rank other than 0). Errors: NULL arguments, SSCMA_ERR_FORMAT (not a PNG
 * file), SSCMA_ERR_IO.
 */
SSCMA_API sscma_status sscma_trainer_log_image(sscma_trainer *trainer, const char *tag, const void *png, size_t size,
                                               int64_t step);

/*
 * Restores the whole training state from a checkpoint written by this trainer's config (sscma_trainer_save or the
 * checkpoint hook); training then continues where it stopped. The file is verified completely before anything
 * changes. Errors: SSCMA_ERR_IO, SSCMA_ERR_FORMAT (corrupt, or not a training checkpoint: the message says why),
 * SSCMA_ERR_NOT_FOUND / SSCMA_ERR_SHAPE (a checkpoint of another model or optimizer), SSCMA_ERR_STATE (a
 * mid-epoch checkpoint of a data-parallel job with another number of ranks: resume from an epoch's).
 */
SSCMA_API sscma_status sscma_trainer_resume(sscma_trainer *trainer, const char *path);

/*
 * Trains until max_epochs (or an early stop). Returns SSCMA_OK at the end; SSCMA_ERR_CANCELLED when the callback
 * asked to stop (the state is that of the last finished iteration: sscma_trainer_save can keep it);
 * SSCMA_ERR_NUMERIC when the loss or the gradients stop being finite (nothing is written after that point, so the
 * last checkpoint on disk is the last good one; the message names the epoch and iteration); a loader's, model's or
 * checkpoint's error otherwise.
 */
SSCMA_API sscma_status sscma_trainer_train(sscma_trainer *trainer);

/*
 * Runs the validation loader through the model (with the EMA weights when EMA is on) and stores the metric holding
 * the results in *out (owned by the trainer, valid until the next validation or destroy). In a data-parallel job
 * whose metric is sharded (Accuracy, FomoMetric, AnomalyMetric: each rank evaluates its part of the set and the
 * results are merged), it is a collective: every rank must call it, and a rank that calls it alone waits until the
 * collective timeout (SSCMA_MPI_TIMEOUT) ends the job (docs/distributed.md). Errors: no val_loader
 * (SSCMA_ERR_STATE), a loader's or model's error, SSCMA_ERR_STATE when the validation failed on another rank.
 */
SSCMA_API sscma_status sscma_trainer_validate(sscma_trainer *trainer, const sscma_metric **out);

/*
 * Writes the whole training state to `path` atomically (format in docs/file-formats.md). sscma_model_load reads the
 * weights of such a file: the EMA weights when EMA is on (what validation measured), otherwise the trained ones.
 * In a data-parallel job only rank 0 writes; the other ranks, which hold the same state, return SSCMA_OK.
 * Errors: SSCMA_ERR_IO naming the path, SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_trainer_save(const sscma_trainer *trainer, const char *path);

/* Stores the number of finished epochs in *epochs and of iterations in *iters; either may be NULL. */
SSCMA_API sscma_status sscma_trainer_position(const sscma_trainer *trainer, int64_t *epochs, int64_t *iters);

SSCMA_END_DECLS

#endif /* SSCMA_TRAIN_H */
