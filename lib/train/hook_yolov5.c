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

sscma_status sscma_hook_yolov5_create(const sscma_context *ctx, json_t *node, const char *what, json_t *param_scheduler, sscma_hook **out)
{
    static const char *const keys[] = {"type", "scheduler_type", "lr_factor", "max_epochs", "warmup_epochs",
                                       "warmup_bias_lr", "warmup_momentum", "warmup_mim_iter", "priority", NULL};
    *out = NULL;
    if (node == NULL || json_is_null(node))
        return SSCMA_OK;
    const char *type = json_string_value(json_object_get(node, "type"));
    if (type != NULL && strcmp(type, "ParamSchedulerHook") == 0)
        return SSCMA_OK; /* mmengine's default: runs the param_scheduler list, as the trainer always does */
    if (type == NULL || strcmp(type, "YOLOv5ParamSchedulerHook") != 0)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: unknown type; known: ParamSchedulerHook, "
                          "YOLOv5ParamSchedulerHook", what);
    sscma_yolov5_schedule y = {0};
    int64_t min_iter = 1000;
    const char *kind = json_string_value(json_object_get(node, "scheduler_type"));
    sscma_status st;
    if ((st = check_keys(node, what, keys)) != SSCMA_OK ||
        (st = get_num(node, what, "lr_factor", 0.01, 0.0, 1.0, &y.lr_factor)) != SSCMA_OK ||
        (st = get_num(node, what, "max_epochs", 300.0, 1.0, 1e9, &y.max_epochs)) != SSCMA_OK ||
        (st = get_num(node, what, "warmup_epochs", 3.0, 0.0, 1e9, &y.warmup_epochs)) != SSCMA_OK ||
        (st = get_num(node, what, "warmup_bias_lr", 0.1, 0.0, 1e6, &y.warmup_bias_lr)) != SSCMA_OK ||
        (st = get_num(node, what, "warmup_momentum", 0.8, 0.0, 0.999999, &y.warmup_momentum)) != SSCMA_OK ||
        (st = get_int(node, what, "warmup_mim_iter", 1000, 0, INT64_MAX, &min_iter)) != SSCMA_OK)
        return st;
    if (kind != NULL && strcmp(kind, "linear") != 0 && strcmp(kind, "cosine") != 0)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.scheduler_type is \"linear\" or \"cosine\"", what);
    y.cosine = kind != NULL && strcmp(kind, "cosine") == 0;
    y.warmup_min_iter = min_iter;
    if (param_scheduler != NULL && !json_is_null(param_scheduler) &&
        (!json_is_array(param_scheduler) || json_array_size(param_scheduler) > 0))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "param_scheduler and YOLOv5ParamSchedulerHook both set the "
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
