/*
 * mmyolo's YOLOv5ParamSchedulerHook (default_hooks.param_scheduler): a hook rather than a scheduler because it sets
 * the rates from the loop's position (warm-up before each iteration, the epoch factor after each epoch) and the
 * biases' rate apart, which the scheduler chain (sched.c) does not model. The formulas are in sched.c
 * (sscma_yolov5_factor / sscma_yolov5_warmup, state.h); this file is the glue.
 */
#include <stdlib.h>

#include "train/hook.h"
#include "train/hook_config.h"
#include "train/state.h"

typedef struct yolov5_hook {
    sscma_hook base;
    sscma_yolov5_schedule s;
} yolov5_hook;

/* Warm-up: the rate, the biases' rate and SGD's momentum interpolated up to the epoch's values. */
static sscma_status before_iter(sscma_hook *h, sscma_train_loop *loop)
{
    const sscma_yolov5_schedule *s = &((yolov5_hook *)h)->s;
    double lr = 0.0, bias_lr = 0.0, m = 0.0;
    bool warm = sscma_yolov5_warmup(s, loop->iter, loop->epoch, loop->iters_per_epoch, &lr, &bias_lr, &m);
    if (warm) {
        sscma_optimizer_set_lr(loop->opt, lr);
        if (sscma_optimizer_is_sgd(loop->opt) && s->base_momentum > 0.0)
            sscma_optimizer_set_momentum(loop->opt, m); /* Adam has betas, not a momentum: as mmyolo */
    }
    sscma_optimizer_set_bias_lr(loop->opt, warm, bias_lr);
    return SSCMA_OK;
}

/* mmyolo's after_train_epoch, with the 0-based index of the epoch just finished. */
static sscma_status after_epoch(sscma_hook *h, sscma_train_loop *loop, const sscma_metric *val)
{
    (void)val;
    const sscma_yolov5_schedule *s = &((yolov5_hook *)h)->s;
    sscma_optimizer_set_lr(loop->opt, s->base_lr * sscma_yolov5_factor(s, loop->epoch - 1));
    return SSCMA_OK;
}

/* The base rate and momentum are the optimizer's configured ones. */
static sscma_status attach(sscma_hook *h, sscma_train_loop *loop)
{
    sscma_yolov5_schedule *s = &((yolov5_hook *)h)->s;
    sscma_optimizer_lr(loop->opt, &s->base_lr);
    sscma_optimizer_momentum(loop->opt, &s->base_momentum);
    return SSCMA_OK;
}

static void destroy(sscma_hook *h)
{
    sscma_mfree(h->ctx, h);
}

static const sscma_hook_ops yolov5_ops = {
    .name = "YOLOv5ParamSchedulerHook", .before_iter = before_iter, .after_epoch = after_epoch, .attach = attach,
    .destroy = destroy,
};

typedef struct yolov5_cfg {
    int scheduler_type;
    double lr_factor, max_epochs, warmup_epochs, warmup_bias_lr, warmup_momentum;
    int64_t warmup_mim_iter; /* sic: SSCMA's key */
} yolov5_cfg;

static const char *const yolov5_type_names[] = {"linear", "cosine", NULL};

static const sscma_field yolov5_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_ENUM_AS("scheduler_type", yolov5_cfg, scheduler_type, 0, yolov5_type_names, 0),
    SSCMA_FIELD_RANGE(yolov5_cfg, lr_factor, 0.01, 0.0, 1.0),
    SSCMA_FIELD_RANGE(yolov5_cfg, max_epochs, 300.0, 1.0, 1e9),
    SSCMA_FIELD_RANGE(yolov5_cfg, warmup_epochs, 3.0, 0.0, 1e9),
    SSCMA_FIELD_RANGE(yolov5_cfg, warmup_bias_lr, 0.1, 0.0, 1e6),
    SSCMA_FIELD_RANGE(yolov5_cfg, warmup_momentum, 0.8, 0.0, 0.999999),
    SSCMA_FIELD_RANGE(yolov5_cfg, warmup_mim_iter, 1000, 0, INFINITY),
    SSCMA_FIELD_KEY("priority"),
    SSCMA_FIELD_END,
};

sscma_status sscma_hook_yolov5_create(const sscma_context *ctx, json_t *node, const char *where, const char *what,
                                      json_t *param_scheduler, sscma_hook **out)
{
    *out = NULL;
    if (node == NULL || json_is_null(node))
        return SSCMA_OK;
    const char *type = json_string_value(json_object_get(node, "type"));
    if (type != NULL && strcmp(type, "ParamSchedulerHook") == 0)
        return SSCMA_OK; /* mmengine's default: runs the param_scheduler list, as the trainer always does */
    if (type == NULL || strcmp(type, "YOLOv5ParamSchedulerHook") != 0)
        return sscma_schema_expected(where, what, "type", "ParamSchedulerHook or YOLOv5ParamSchedulerHook",
                                     json_object_get(node, "type"));
    yolov5_cfg c;
    sscma_status st = sscma_schema_read(yolov5_fields, node, where, what, &c);
    if (st != SSCMA_OK)
        return st;
    sscma_yolov5_schedule y = {.lr_factor = c.lr_factor, .max_epochs = c.max_epochs,
                               .warmup_epochs = c.warmup_epochs, .warmup_bias_lr = c.warmup_bias_lr,
                               .warmup_momentum = c.warmup_momentum, .cosine = c.scheduler_type == 1,
                               .warmup_min_iter = c.warmup_mim_iter};
    if (param_scheduler != NULL && !json_is_null(param_scheduler) &&
        (!json_is_array(param_scheduler) || json_array_size(param_scheduler) > 0))
        return sscma_fail(SSCMA_ERR_CONFIG, where, "param_scheduler and YOLOv5ParamSchedulerHook both set the "
                          "learning rate: keep one");
    yolov5_hook *h = sscma_calloc(ctx, 1, sizeof *h);
    if (h == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the YOLOv5 schedule hook");
    h->base.ops = &yolov5_ops;
    h->base.ctx = ctx;
    h->s = y;
    *out = &h->base;
    return SSCMA_OK;
}
