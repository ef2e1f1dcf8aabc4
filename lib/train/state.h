/*
 * Private state access for the trainer (train/trainer.c): what a resumable checkpoint needs from the model, the
 * optimizer and the schedulers. Not installed.
 */
#ifndef SSCMA_LIB_TRAIN_STATE_H
#define SSCMA_LIB_TRAIN_STATE_H

#include <jansson.h>
#include <stdbool.h>

#include "io/checkpoint.h"
#include "sscma/model.h"
#include "sscma/optim.h"

/* The model's context, its config (borrowed, NULL for a model built layer by layer) and its dropout stream state. */
sscma_context *sscma_model_context(const sscma_model *model);
json_t *sscma_model_config_json(const sscma_model *model);
uint64_t *sscma_model_rng_state(sscma_model *model);
const char *sscma_model_family(const sscma_model *model);

/*
 * Adds the optimizer's buffers to `list` as "optim/<param>/<buffer>" (borrowed until the write) and its scalars
 * (lr, momentum, per-parameter step counts) to `state`.
 */
sscma_status sscma_optimizer_export(const sscma_optimizer *optimizer, sscma_ckpt_list *list, json_t *state);

/* Restores what sscma_optimizer_export saved; checks everything before changing anything. */
sscma_status sscma_optimizer_import(sscma_optimizer *optimizer, const sscma_ckpt *ck, json_t *state);

/* Whether the optimizer uses a momentum (SGD with momentum 0 does not). */
bool sscma_optimizer_has_momentum(const sscma_optimizer *optimizer);

/* The schedulers' step counters as a JSON array, and back (the count and kinds must match). */
json_t *sscma_scheduler_export(const sscma_scheduler *scheduler);
sscma_status sscma_scheduler_import(sscma_scheduler *scheduler, json_t *state, const char *path);

#endif /* SSCMA_LIB_TRAIN_STATE_H */
