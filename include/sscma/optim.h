/*
 * libsscma optimizers: SGD, Adam and AdamW with PyTorch's update rules, mmengine's parameter-wise settings
 * (paramwise_cfg) and gradient clipping by global norm. Configured as SSCMA's optim_wrapper:
 *
 *   {"optimizer": {"type": "AdamW", "lr": 0.001, "weight_decay": 0.0001},
 *    "paramwise_cfg": {"norm_decay_mult": 0.0, "bias_decay_mult": 0.0,
 *                      "custom_keys": {"backbone": {"lr_mult": 0.1}}},
 *    "clip_grad": {"max_norm": 10.0}}
 *
 * (a bare optimizer object, {"type": "SGD", ...}, is accepted too). docs/training.md lists every key and default.
 */
#ifndef SSCMA_OPTIM_H
#define SSCMA_OPTIM_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/model.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_optimizer sscma_optimizer;

/*
 * Creates an optimizer over the trainable parameters of `model` (which must outlive it); each parameter gets its
 * group's learning rate and weight decay from paramwise_cfg and the parameter flags (norm, bias, depthwise).
 * Parameters frozen later keep their state but are not updated while frozen. *out owns the optimizer.
 * Errors: SSCMA_ERR_CONFIG (unknown type or key, out-of-range value: the message names the key),
 * SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_optimizer_create(sscma_model *model, const char *config_json, sscma_optimizer **out);

/* Destroys an optimizer. NULL is a no-op. */
SSCMA_API void sscma_optimizer_destroy(sscma_optimizer *optimizer);

/*
 * Applies one update from the parameters' current gradients (clipping them first when clip_grad is set); does not
 * zero the gradients. Errors: SSCMA_ERR_NUMERIC when the gradient norm is not finite (nothing is updated).
 */
SSCMA_API sscma_status sscma_optimizer_step(sscma_optimizer *optimizer);

/* Sets the base learning rate; every group's rate becomes lr * its lr_mult. Errors: lr negative or not finite. */
SSCMA_API sscma_status sscma_optimizer_set_lr(sscma_optimizer *optimizer, double lr);

/* Stores the base learning rate in *out. */
SSCMA_API sscma_status sscma_optimizer_lr(const sscma_optimizer *optimizer, double *out);

/*
 * Sets the momentum (SGD's momentum, Adam's beta1), for momentum schedules. Errors: a value outside [0, 1).
 */
SSCMA_API sscma_status sscma_optimizer_set_momentum(sscma_optimizer *optimizer, double momentum);

/* Stores the momentum (SGD's momentum, Adam's beta1) in *out. */
SSCMA_API sscma_status sscma_optimizer_momentum(const sscma_optimizer *optimizer, double *out);

/* Stores the global gradient norm measured by the last step (before clipping) in *out. */
SSCMA_API sscma_status sscma_optimizer_grad_norm(const sscma_optimizer *optimizer, double *out);

/*
 * Learning-rate schedulers, as mmengine's param_scheduler list (LinearLR, ConstantLR, StepLR, MultiStepLR,
 * ExponentialLR, CosineAnnealingLR, PolyLR), each active on its [begin, end) window and chained in list order with
 * mmengine's recursive (chainable) formulas:
 *
 *   [{"type": "LinearLR", "start_factor": 0.1, "by_epoch": false, "begin": 0, "end": 500},
 *    {"type": "CosineAnnealingLR", "T_max": 8, "eta_min": 0, "by_epoch": true, "begin": 0, "end": 8,
 *     "convert_to_iter_based": true}]
 *
 * by_epoch schedulers step once per epoch (sscma_scheduler_step_epoch); with convert_to_iter_based their begin, end,
 * T_max, step_size and milestones are multiplied by iters_per_epoch and they step every iteration, as mmengine's
 * runner does. docs/training.md documents every key.
 */
typedef struct sscma_scheduler sscma_scheduler;

/*
 * Creates the schedulers of `config_json` (a list, or one object) for `optimizer` (which must outlive it) and applies
 * their step 0 (e.g. a warm-up's start factor). iters_per_epoch > 0 converts epochs to iterations. Errors:
 * SSCMA_ERR_CONFIG naming the scheduler index and key.
 */
SSCMA_API sscma_status sscma_scheduler_create(sscma_optimizer *optimizer, const char *config_json,
                                              int64_t iters_per_epoch, sscma_scheduler **out);

/* Destroys a scheduler list. NULL is a no-op. */
SSCMA_API void sscma_scheduler_destroy(sscma_scheduler *scheduler);

/* Advances the iteration-based schedulers by one iteration (call after each optimizer step). */
SSCMA_API sscma_status sscma_scheduler_step_iter(sscma_scheduler *scheduler);

/* Advances the epoch-based schedulers by one epoch (call at the end of each epoch). */
SSCMA_API sscma_status sscma_scheduler_step_epoch(sscma_scheduler *scheduler);

SSCMA_END_DECLS

#endif /* SSCMA_OPTIM_H */
