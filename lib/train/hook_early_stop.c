/*
 * mmengine's EarlyStoppingHook (custom_hooks: {"type": "EarlyStoppingHook", "monitor": ...}): after each validation,
 * stop when the monitored result is not finite, reaches stopping_threshold, or has not improved by min_delta for
 * `patience` validations. Off (the default) it keeps its checkpoint keys only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/hook.h"
#include "train/hook_config.h"

typedef struct early_stop_hook {
    sscma_hook base;
    bool on, greater, check_finite, has_threshold;
    char monitor[64];
    double min_delta, best, threshold;
    int64_t patience, wait;
} early_stop_hook;

static sscma_status after_epoch(sscma_hook *h, sscma_train_loop *loop, const sscma_metric *val)
{
    early_stop_hook *e = (early_stop_hook *)h;
    if (!e->on || val == NULL)
        return SSCMA_OK;
    double v = 0.0;
    sscma_status st = sscma_metric_get(val, e->monitor, &v);
    if (st != SSCMA_OK)
        return sscma_fail(st, WHERE, "EarlyStoppingHook: the evaluator has no result '%s'", e->monitor);
    if (e->check_finite && !isfinite(v)) {
        loop->stop = true;
        sscma_logf(loop->ctx, SSCMA_LOG_WARNING, "Early stopping: %s is not finite", e->monitor);
    } else if (e->has_threshold && (e->greater ? v >= e->threshold : v <= e->threshold)) {
        loop->stop = true;
        sscma_logf(loop->ctx, SSCMA_LOG_INFO, "Early stopping: %s reached the stopping threshold", e->monitor);
    } else if (e->greater ? v - e->min_delta > e->best : v + e->min_delta < e->best) {
        e->best = v, e->wait = 0;
    } else if (++e->wait >= e->patience) {
        loop->stop = true;
        sscma_logf(loop->ctx, SSCMA_LOG_INFO, "Early stopping: %s did not improve for %lld validations (best %.4f)",
                   e->monitor, (long long)e->patience, e->best);
    }
    return SSCMA_OK;
}

static sscma_status state_export(const sscma_hook *h, const sscma_train_loop *loop, sscma_ckpt_list *list,
                                 json_t *state)
{
    (void)loop, (void)list;
    const early_stop_hook *e = (const early_stop_hook *)h;
    if (json_object_set_new(state, "early_wait", json_integer((json_int_t)e->wait)) != 0 ||
        json_object_set_new(state, "early_best", isfinite(e->best) ? json_real(e->best) : json_null()) != 0)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the checkpoint state");
    return SSCMA_OK;
}

static sscma_status state_check(const sscma_hook *h, const sscma_ckpt *ck, json_t *state, const char *path)
{
    (void)h, (void)ck;
    json_t *v = json_object_get(state, "early_wait");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "not a training checkpoint: state.trainer.early_wait is missing");
    return SSCMA_OK;
}

static void state_import(sscma_hook *h, sscma_train_loop *loop, const sscma_ckpt *ck, json_t *state)
{
    (void)loop, (void)ck;
    early_stop_hook *e = (early_stop_hook *)h;
    json_t *best = json_object_get(state, "early_best");
    e->wait = (int64_t)json_integer_value(json_object_get(state, "early_wait"));
    e->best = json_is_number(best) ? json_number_value(best) : e->greater ? -INFINITY : INFINITY;
}

static void destroy(sscma_hook *h)
{
    sscma_mfree(h->ctx, h);
}

static const sscma_hook_ops early_stop_ops = {
    .name = "EarlyStoppingHook", .after_epoch = after_epoch, .state_export = state_export,
    .state_check = state_check, .state_import = state_import, .destroy = destroy,
};

typedef struct early_stop_cfg {
    const char *monitor;
    int rule;
    double min_delta, stopping_threshold;
    int64_t patience;
    bool check_finite;
} early_stop_cfg;

static const sscma_field early_stop_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("monitor", early_stop_cfg, monitor, 0, false, 0, 0, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_ENUM_AS("rule", early_stop_cfg, rule, HOOK_RULE_INFER, hook_rule_names, 0),
    SSCMA_FIELD_RANGE(early_stop_cfg, min_delta, 0.1, 0.0, 1e300),
    SSCMA_FIELD_RANGE(early_stop_cfg, patience, 5, 1, INFINITY),
    SSCMA_FIELD(early_stop_cfg, check_finite, true),
    SSCMA_FIELD(early_stop_cfg, stopping_threshold, NAN), /* NaN: none */
    SSCMA_FIELD_KEY("strict"),
    SSCMA_FIELD_KEY("priority"),
    SSCMA_FIELD_END,
};

sscma_status sscma_hook_early_stop_create(const sscma_context *ctx, json_t *node, const char *where, const char *what,
                                          sscma_hook **out)
{
    early_stop_hook e = {.base.ops = &early_stop_ops, .base.ctx = ctx};
    if (node != NULL) {
        early_stop_cfg c;
        sscma_status st = sscma_schema_read(early_stop_fields, node, where, what, &c);
        if (st != SSCMA_OK)
            return st;
        if (c.monitor[0] == '\0' || strlen(c.monitor) >= sizeof e.monitor)
            return sscma_schema_expected(where, what, "monitor", "a metric name of 1 to 63 bytes",
                                         json_object_get(node, "monitor"));
        snprintf(e.monitor, sizeof e.monitor, "%s", c.monitor);
        e.on = true;
        e.greater = hook_rule_greater(c.rule, c.monitor);
        e.check_finite = c.check_finite, e.min_delta = c.min_delta, e.patience = c.patience;
        e.has_threshold = !isnan(c.stopping_threshold), e.threshold = c.stopping_threshold;
        e.best = e.greater ? -INFINITY : INFINITY;
    }
    early_stop_hook *h = sscma_malloc(ctx, sizeof *h);
    if (h == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the early-stopping hook");
    *h = e;
    *out = &h->base;
    return SSCMA_OK;
}
