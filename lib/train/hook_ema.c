/*
 * mmengine's EMAHook (custom_hooks: {"type": "EMAHook"}) with ExpMomentumEMA or ExponentialMovingAverage: an average
 * of the weights updated after every iteration, swapped in for validation, and deployed by checkpoints (model/ holds
 * the average, train/ the trained weights; `weights` below). Off (the default) it keeps its checkpoint key only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/hook.h"
#include "train/hook_config.h"
#include "train/state.h"

typedef struct ema_hook {
    sscma_hook base;
    bool on, exp, update_buffers;
    double momentum, gamma;
    int64_t interval, steps;
    sscma_model *model;
    int32_t n_params;
    float **avg; /* per model parameter index: the average, or NULL (not averaged) */
} ema_hook;

/* The first update copies the weights; then every `interval` steps avg += m (p - avg) (torch.lerp). */
static sscma_status after_iter(sscma_hook *h, sscma_train_loop *loop, const sscma_hook_iter *it)
{
    (void)loop, (void)it;
    ema_hook *e = (ema_hook *)h;
    if (!e->on)
        return SSCMA_OK;
    double m = 0.0;
    bool copy = e->steps == 0, average = !copy && e->steps % e->interval == 0;
    if (average)
        m = e->exp ? (1.0 - e->momentum) * exp(-(double)(1 + e->steps) / e->gamma) + e->momentum : e->momentum;
    const float mf = (float)m;
    for (int32_t i = 0; i < e->n_params; i++) {
        if (e->avg[i] == NULL || !(copy || average))
            continue;
        sscma_tensor *value = NULL;
        int64_t n = 0;
        float *p = NULL;
        sscma_model_param(e->model, i, NULL, NULL, &value, NULL);
        sscma_tensor_numel(value, &n);
        sscma_tensor_data(value, (void **)&p);
        float *a = e->avg[i];
        if (copy)
            memcpy(a, p, (size_t)n * sizeof *a);
        else
            for (int64_t k = 0; k < n; k++) /* torch.lerp: a + m (p - a) */
                a[k] = a[k] + mf * (p[k] - a[k]);
    }
    e->steps++;
    return SSCMA_OK;
}

/* Exchanges the model's weights with the averages (twice restores them exactly): validation sees the average. */
static void swap(sscma_hook *h, sscma_train_loop *loop)
{
    (void)loop;
    ema_hook *e = (ema_hook *)h;
    if (!e->on)
        return;
    for (int32_t i = 0; i < e->n_params; i++) {
        if (e->avg[i] == NULL)
            continue;
        sscma_tensor *value = NULL;
        int64_t n = 0;
        float *p = NULL, *a = e->avg[i];
        sscma_model_param(e->model, i, NULL, NULL, &value, NULL);
        sscma_tensor_numel(value, &n);
        sscma_tensor_data(value, (void **)&p);
        for (int64_t k = 0; k < n; k++) {
            float x = p[k];
            p[k] = a[k];
            a[k] = x;
        }
    }
}

static sscma_status state_export(const sscma_hook *h, const sscma_train_loop *loop, sscma_ckpt_list *list,
                                 json_t *state)
{
    (void)loop, (void)list;
    const ema_hook *e = (const ema_hook *)h;
    return json_object_set_new(state, "ema_steps", json_integer((json_int_t)e->steps)) == 0
               ? SSCMA_OK
               : SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the checkpoint state");
}

static sscma_status state_check(const sscma_hook *h, const sscma_ckpt *ck, json_t *state, const char *path)
{
    (void)h, (void)ck;
    json_t *v = json_object_get(state, "ema_steps");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "not a training checkpoint: state.trainer.ema_steps is missing");
    return SSCMA_OK;
}

static void state_import(sscma_hook *h, sscma_train_loop *loop, const sscma_ckpt *ck, json_t *state)
{
    (void)loop, (void)ck;
    ((ema_hook *)h)->steps = (int64_t)json_integer_value(json_object_get(state, "ema_steps"));
}

static float *weights(const sscma_hook *h, int32_t param)
{
    const ema_hook *e = (const ema_hook *)h;
    return e->on ? e->avg[param] : NULL;
}

/* An average per floating-point parameter (buffers too with update_buffers), as mmengine. */
static sscma_status attach(sscma_hook *h, sscma_train_loop *loop)
{
    ema_hook *e = (ema_hook *)h;
    e->model = loop->model;
    if (!e->on)
        return SSCMA_OK;
    sscma_status st = sscma_model_param_count(loop->model, &e->n_params);
    if (st != SSCMA_OK)
        return st;
    if ((e->avg = sscma_calloc(e->base.ctx, (size_t)(e->n_params > 0 ? e->n_params : 1), sizeof *e->avg)) == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the EMA");
    for (int32_t i = 0; i < e->n_params; i++) {
        uint32_t flags = 0;
        sscma_tensor *value = NULL;
        int64_t n = 0;
        sscma_dtype dt;
        sscma_model_param(loop->model, i, NULL, &flags, &value, NULL);
        sscma_tensor_dtype(value, &dt);
        if ((flags & SSCMA_PARAM_BUFFER) && !e->update_buffers)
            continue;
        if (dt != SSCMA_DTYPE_F32)
            continue; /* as mmengine: only floating-point state is averaged */
        sscma_tensor_numel(value, &n);
        if ((e->avg[i] = sscma_calloc(e->base.ctx, (size_t)(n > 0 ? n : 1), sizeof(float))) == NULL)
            return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the EMA");
    }
    return SSCMA_OK;
}

static void destroy(sscma_hook *h)
{
    ema_hook *e = (ema_hook *)h;
    if (e->avg != NULL)
        for (int32_t i = 0; i < e->n_params; i++)
            sscma_mfree(h->ctx, e->avg[i]);
    sscma_mfree(h->ctx, e->avg);
    sscma_mfree(h->ctx, e);
}

static const sscma_hook_ops ema_ops = {
    .name = "EMAHook", .after_iter = after_iter, .before_val = swap, .after_val = swap,
    .state_export = state_export, .state_check = state_check, .state_import = state_import, .weights = weights,
    .attach = attach, .destroy = destroy,
};

typedef struct ema_cfg {
    int ema_type;
    double momentum, gamma;
    int64_t interval;
    bool update_buffers;
} ema_cfg;

static const char *const ema_type_names[] = {"ExponentialMovingAverage", "ExpMomentumEMA", NULL};

static const sscma_field ema_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_ENUM_AS("ema_type", ema_cfg, ema_type, 0, ema_type_names, 0),
    SSCMA_FIELD_RANGE(ema_cfg, momentum, 0.0002, 0.0, 1.0),
    SSCMA_FIELD_RANGE(ema_cfg, gamma, 2000.0, 1e-9, 1e12),
    SSCMA_FIELD_RANGE(ema_cfg, interval, 1, 1, INFINITY),
    SSCMA_FIELD(ema_cfg, update_buffers, false),
    SSCMA_FIELD_KEY("priority"),
    SSCMA_FIELD_KEY("strict_load"),
    SSCMA_FIELD_END,
};

sscma_status sscma_hook_ema_create(const sscma_context *ctx, json_t *node, const char *where, const char *what,
                                   sscma_hook **out)
{
    ema_hook e = {.base.ops = &ema_ops, .base.ctx = ctx};
    if (node != NULL) {
        ema_cfg c;
        sscma_status st = sscma_schema_read(ema_fields, node, where, what, &c);
        if (st != SSCMA_OK)
            return st;
        e.on = true;
        e.exp = c.ema_type == 1;
        e.momentum = c.momentum, e.gamma = c.gamma, e.interval = c.interval, e.update_buffers = c.update_buffers;
    }
    ema_hook *h = sscma_malloc(ctx, sizeof *h);
    if (h == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the EMA hook");
    *h = e;
    *out = &h->base;
    return SSCMA_OK;
}
