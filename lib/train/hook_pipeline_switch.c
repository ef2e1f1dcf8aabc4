/*
 * mmdet/mmyolo's PipelineSwitchHook (custom_hooks: {"type": "PipelineSwitchHook", "switch_epoch": 280,
 * "switch_pipeline": [...]}): before the first epoch whose 0-based index is >= switch_epoch, the training loader's
 * pipeline becomes switch_pipeline (YOLOv5's recipes turn Mosaic off for the last epochs). Like mmdet's, it keeps no
 * checkpoint state: a run resumed past switch_epoch switches before its first epoch. The list must be in the
 * loader's form (the runner maps a config's list as it maps the dataset's pipeline: loading steps dropped, scope
 * prefixes removed, ToRGB / ToGray and the data preprocessor's Normalize added).
 */
#include <stdio.h>

#include "data/data.h"
#include "train/hook.h"
#include "train/hook_config.h"

typedef struct switch_hook {
    sscma_hook base;
    sscma_loader *loader; /* the training loader (not owned) */
    int64_t switch_epoch;
    json_t *pipeline; /* owned */
    bool switched;
} switch_hook;

static sscma_status before_epoch(sscma_hook *h, sscma_train_loop *loop)
{
    switch_hook *s = (switch_hook *)h;
    if (s->switched || loop->epoch < s->switch_epoch)
        return SSCMA_OK;
    sscma_status st = sscma_loader_set_pipeline(s->loader, s->pipeline);
    if (st != SSCMA_OK) {
        char detail[600];
        snprintf(detail, sizeof detail, "%s", sscma_last_error());
        return sscma_fail(st, WHERE, "PipelineSwitchHook at epoch %lld: %s", (long long)loop->epoch + 1, detail);
    }
    s->switched = true;
    sscma_logf(loop->ctx, SSCMA_LOG_INFO, "PipelineSwitchHook: switched the training pipeline at epoch %lld",
               (long long)loop->epoch + 1);
    return SSCMA_OK;
}

static void destroy(sscma_hook *h)
{
    switch_hook *s = (switch_hook *)h;
    json_decref(s->pipeline);
    sscma_mfree(h->ctx, s);
}

static const sscma_hook_ops switch_ops = {
    .name = "PipelineSwitchHook", .before_epoch = before_epoch, .destroy = destroy,
};

typedef struct switch_cfg {
    int64_t switch_epoch;
    json_t *switch_pipeline;
} switch_cfg;

static const sscma_field switch_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("switch_epoch", switch_cfg, switch_epoch, 0, true, 0, 1e9, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_JSON_AS("switch_pipeline", switch_cfg, switch_pipeline),
    SSCMA_FIELD_KEY("priority"),
    SSCMA_FIELD_END,
};

sscma_status sscma_hook_pipeline_switch_create(const sscma_context *ctx, json_t *node, const char *where,
                                               const char *what, sscma_loader *train, sscma_hook **out)
{
    switch_cfg c = {0};
    sscma_status st = sscma_schema_read(switch_fields, node, where, what, &c);
    if (st != SSCMA_OK)
        return st;
    if (!json_is_array(c.switch_pipeline))
        return sscma_schema_expected(where, what, "switch_pipeline", "a list of transforms", c.switch_pipeline);
    sscma_pipeline *check = NULL; /* a bad list fails now, not hundreds of epochs later */
    if ((st = sscma_pipeline_create((sscma_context *)ctx, c.switch_pipeline, &check)) != SSCMA_OK)
        return st;
    sscma_pipeline_destroy(check);
    switch_hook *h = sscma_calloc(ctx, 1, sizeof *h);
    if (h == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the pipeline-switch hook");
    h->base.ops = &switch_ops, h->base.ctx = ctx;
    h->loader = train, h->switch_epoch = c.switch_epoch, h->pipeline = json_deep_copy(c.switch_pipeline);
    if (h->pipeline == NULL) {
        sscma_mfree(ctx, h);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy switch_pipeline");
    }
    *out = &h->base;
    return SSCMA_OK;
}
