/*
 * Trainer hooks (internal): what runs around the training loop without being the loop. The loop (trainer.c) is
 * forward, backward, update, schedule; everything else (EMA, early stopping, checkpoints, the logger, the NaN guard,
 * YOLOv5's schedule) is a hook called at fixed points, in list order:
 *
 *   before_run                                once per sscma_trainer_train call
 *   before_epoch                              loader started for loop->epoch (0-based)
 *     before_iter                             before the batch's forward (set rates here)
 *     before_forward                          the batch is in the model's inputs, planned at its size (distillation
 *                                             fills the teacher's logits here)
 *     after_forward(loss)                     the loss is known; failing here skips backward and the update
 *     update_failed(status)                   the optimizer step failed; a hook may explain (NaN guard)
 *     after_iter(iter)                        after update and schedule; loop->epoch_iter, iter count it
 *   before_val / after_val                    bracket every validation, in training or not (EMA swaps weights)
 *   after_epoch(val)                          loop->epoch counts the finished epoch; val: this epoch's results
 *   after_run(status)                         once per train call, with its status (resources, not a failure)
 *
 * A checkpoint asks every hook for its state: state_export adds tensors to the list and keys to the header's
 * "state.trainer" object (one object shared by all hooks, so a hook picks keys of its own); on resume state_check
 * verifies them (nothing may change yet) and state_import applies them once everything is verified. A hook that
 * keeps another copy of the weights (EMA) returns it from `weights`: checkpoints store that copy as the model
 * weights (model/<name>) and the trained ones under train/<name>.
 *
 * To add a hook: a file hook_<name>.c with a struct that starts with `sscma_hook`, a const sscma_hook_ops with the
 * events it needs (NULL: not called), a create function reading its config node with a core/schema.h field table
 * (train/hook_config.h has the trainer's `where` and the rule enum) that takes the trainer's context for its
 * allocations, and a line where the trainer reads its config (or sscma_trainer_add_hook for hooks made elsewhere,
 * such as tests).
 */
#ifndef SSCMA_LIB_TRAIN_HOOK_H
#define SSCMA_LIB_TRAIN_HOOK_H

#include <jansson.h>
#include <stdbool.h>

#include "io/checkpoint.h"
#include "sscma/optim.h"
#include "sscma/train.h"

#define SSCMA_TRAINER_PATH_CAP 4096

/* What hooks see of the trainer: its objects and position. Hooks read it; they write only `stop` and, for the
 * checkpoint hook, `last_checkpoint`; the logger hook, `tfevents`. */
typedef struct sscma_train_loop {
    sscma_context *ctx;
    sscma_trainer *trainer; /* for sscma_trainer_save */
    sscma_model *model;
    sscma_optimizer *opt;
    char work_dir[SSCMA_TRAINER_PATH_CAP / 2]; /* "" = write nothing */
    int64_t max_epochs, iters_per_epoch;
    int64_t epoch;      /* epochs finished */
    int64_t epoch_iter; /* iterations finished in the current epoch */
    int64_t iter;       /* iterations finished in all */
    bool stop;          /* set by a hook: training ends (SSCMA_OK) after this epoch's hooks */
    char last_checkpoint[SSCMA_TRAINER_PATH_CAP + 64]; /* the newest epoch checkpoint; "" none */
    struct sscma_tfevents *tfevents; /* the logger's TensorBoard event file once training ran; NULL none */
} sscma_train_loop;

/* One training iteration as after_forward and after_iter see it. */
typedef struct sscma_hook_iter {
    int64_t batch;           /* samples in this batch */
    double loss, lr, momentum; /* the loss; the rate and momentum the update used */
    double img_s, eta_s;     /* images per second in this train call; seconds left at that rate */
} sscma_hook_iter;

typedef struct sscma_hook sscma_hook;

typedef struct sscma_hook_ops {
    const char *name;
    sscma_status (*before_run)(sscma_hook *h, sscma_train_loop *loop);
    sscma_status (*before_epoch)(sscma_hook *h, sscma_train_loop *loop);
    sscma_status (*before_iter)(sscma_hook *h, sscma_train_loop *loop);
    sscma_status (*before_forward)(sscma_hook *h, sscma_train_loop *loop);
    sscma_status (*after_forward)(sscma_hook *h, sscma_train_loop *loop, const sscma_hook_iter *it);
    sscma_status (*update_failed)(sscma_hook *h, sscma_train_loop *loop, sscma_status status);
    sscma_status (*after_iter)(sscma_hook *h, sscma_train_loop *loop, const sscma_hook_iter *it);
    void (*before_val)(sscma_hook *h, sscma_train_loop *loop);
    void (*after_val)(sscma_hook *h, sscma_train_loop *loop);
    /* val: the validation results when this epoch validated, otherwise NULL */
    sscma_status (*after_epoch)(sscma_hook *h, sscma_train_loop *loop, const sscma_metric *val);
    void (*after_run)(sscma_hook *h, sscma_train_loop *loop, sscma_status status);
    /* checkpoints: `state` is the header's state.trainer object; `path` names the file in messages */
    sscma_status (*state_export)(const sscma_hook *h, const sscma_train_loop *loop, sscma_ckpt_list *list,
                                 json_t *state);
    sscma_status (*state_check)(const sscma_hook *h, const sscma_ckpt *ck, json_t *state, const char *path);
    void (*state_import)(sscma_hook *h, sscma_train_loop *loop, const sscma_ckpt *ck, json_t *state);
    /* Another copy of model parameter i (f32, the parameter's shape) that checkpoints deploy, or NULL. */
    float *(*weights)(const sscma_hook *h, int32_t param);
    /* Called once when the trainer has its model, optimizer and loaders (allocate per-parameter state here). */
    sscma_status (*attach)(sscma_hook *h, sscma_train_loop *loop);
    void (*destroy)(sscma_hook *h);
} sscma_hook_ops;

struct sscma_hook {
    const sscma_hook_ops *ops;
    const sscma_context *ctx; /* where a built-in hook's memory comes from; the create calls set it */
};

/* Appends a hook after the built-in ones; the trainer owns it from then on (destroyed with it, or here on error). */
sscma_status sscma_trainer_add_hook(sscma_trainer *trainer, sscma_hook *hook);

/* The built-in hooks. `node` is the hook's config object (NULL: the default, or off for the optional ones); `what`
 * names it in messages ("custom_hooks[0]"). */
sscma_status sscma_hook_nan_guard_create(const sscma_context *ctx, sscma_hook **out);
sscma_status sscma_hook_yolov5_create(const sscma_context *ctx, json_t *node, const char *where, const char *what,
                                      json_t *param_scheduler, sscma_hook **out);
sscma_status sscma_hook_ema_create(const sscma_context *ctx, json_t *node, const char *where, const char *what,
                                   sscma_hook **out);
sscma_status sscma_hook_logger_create(const sscma_context *ctx, json_t *node, const char *where, sscma_hook **out);
sscma_status sscma_hook_early_stop_create(const sscma_context *ctx, json_t *node, const char *where, const char *what,
                                          sscma_hook **out);
sscma_status sscma_hook_checkpoint_create(const sscma_context *ctx, json_t *node, const char *where, sscma_hook **out);
/* Knowledge distillation (top-level `distill`, hook_distill.c): a teacher model from node's teacher_ckpt runs beside
 * the student; attach adds loss_weight * tau^2 * KL to the student's loss, destroy takes it out again. */
sscma_status sscma_hook_distill_create(const sscma_context *ctx, json_t *node, const char *where, sscma_hook **out);
/* The distillation hook's teacher (borrowed), for tests. */
sscma_model *sscma_hook_distill_teacher(const sscma_hook *h);
/* PipelineSwitchHook: `train` (not owned) gets node's switch_pipeline before epoch switch_epoch (0-based). */
sscma_status sscma_hook_pipeline_switch_create(const sscma_context *ctx, json_t *node, const char *where,
                                               const char *what, sscma_loader *train, sscma_hook **out);

#endif /* SSCMA_LIB_TRAIN_HOOK_H */
