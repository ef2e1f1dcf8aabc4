/*
 * Learning-rate schedulers with mmengine's semantics (mmengine/optim/scheduler/param_scheduler.py, re-implemented
 * from its published formulas). Each scheduler keeps last_step (-1 before its first step) and a global step counter;
 * a step inside [begin, end) increments last_step and sets the rate from the current rate (chainable forms):
 *   LinearLR    step 0: lr * start;  later: lr * (1 + (end_f - start) / (T * start + (t - 1) (end_f - start))),
 *               T = end - begin - 1 (total_iters)
 *   ConstantLR  step 0: lr * factor;  step T: lr / factor;  otherwise unchanged
 *   StepLR      lr * gamma when t > 0 and t % step_size == 0
 *   MultiStepLR lr * gamma^k when t is a milestone listed k times
 *   ExponentialLR lr * gamma when t > 0
 *   CosineAnnealingLR  t == 0: lr;  (t - 1 - T) % 2T == 0: lr + (base - eta_min)(1 - cos(pi / T)) / 2;
 *               otherwise (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T)) (lr - eta_min) + eta_min
 *   PolyLR      t == 0: lr;  otherwise (lr - eta_min) (1 - 1 / (T - t + 1))^power + eta_min
 * base is the rate when the scheduler was created. Rates are the optimizer's base rate (groups scale it).
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "sscma/optim.h"
#include "train/state.h"

#define WHERE "param_scheduler"
#define INF_STEP INT64_MAX
#define MAX_MILESTONES 32

typedef enum sched_kind { S_LINEAR, S_CONSTANT, S_STEP, S_MULTISTEP, S_EXPONENTIAL, S_COSINE, S_POLY } sched_kind;

typedef struct sched {
    sched_kind kind;
    bool by_epoch; /* stepped per epoch (not converted) */
    int64_t begin, end, global_step, last_step;
    double start_factor, end_factor, factor, gamma, eta_min, power, base;
    int64_t total, step_size, t_max;
    int64_t milestones[MAX_MILESTONES];
    int32_t n_milestones;
} sched;

struct sscma_scheduler {
    sscma_optimizer *optimizer;
    sched *items;
    int32_t count;
};

static sscma_status number(json_t *obj, size_t index, const char *key, double def, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = def;
        return SSCMA_OK;
    }
    if (!json_is_number(v))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu: '%s' must be a number", index, key);
    *out = json_number_value(v);
    return SSCMA_OK;
}

static double current_lr(const sscma_scheduler *s)
{
    double lr = 0.0;
    sscma_optimizer_lr(s->optimizer, &lr);
    return lr;
}

static double value(const sched *c, double lr)
{
    int64_t t = c->last_step;
    switch (c->kind) {
    case S_LINEAR:
        if (t == 0)
            return lr * c->start_factor;
        return lr * (1.0 + (c->end_factor - c->start_factor) /
                               ((double)c->total * c->start_factor + (double)(t - 1) * (c->end_factor - c->start_factor)));
    case S_CONSTANT:
        if (t == 0)
            return lr * c->factor;
        return t != c->total ? lr : lr * (1.0 / c->factor);
    case S_STEP: return t == 0 || t % c->step_size != 0 ? lr : lr * c->gamma;
    case S_MULTISTEP: {
        int k = 0;
        for (int32_t i = 0; i < c->n_milestones; i++)
            k += c->milestones[i] == t;
        return k == 0 ? lr : lr * pow(c->gamma, k);
    }
    case S_EXPONENTIAL: return t == 0 ? lr : lr * c->gamma;
    case S_COSINE: {
        const double pi = 3.14159265358979323846, T = (double)c->t_max;
        if (t == 0)
            return lr;
        if ((t - 1 - c->t_max) % (2 * c->t_max) == 0)
            return lr + (c->base - c->eta_min) * (1.0 - cos(pi / T)) / 2.0;
        return (1.0 + cos(pi * (double)t / T)) / (1.0 + cos(pi * (double)(t - 1) / T)) * (lr - c->eta_min) + c->eta_min;
    }
    case S_POLY:
        if (t == 0)
            return lr;
        return (lr - c->eta_min) * pow(1.0 - 1.0 / (double)(c->total - t + 1), c->power) + c->eta_min;
    }
    return lr;
}

static void step_one(sscma_scheduler *s, sched *c)
{
    if (c->begin <= c->global_step && c->global_step < c->end) {
        c->last_step++;
        sscma_optimizer_set_lr(s->optimizer, fmax(value(c, current_lr(s)), 0.0));
    }
    c->global_step++;
}

static sscma_status parse_one(json_t *o, size_t i, int64_t epoch_len, double base, sched *c)
{
    static const char *const common[] = {"type", "begin", "end", "by_epoch", "convert_to_iter_based", "start_factor",
                                         "end_factor", "factor", "total_iters", "gamma", "step_size", "milestones",
                                         "T_max", "eta_min", "power", "verbose", NULL};
    const char *type = json_string_value(json_object_get(o, "type"));
    memset(c, 0, sizeof *c);
    if (!json_is_object(o) || type == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu needs a \"type\"", i);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        bool known = false;
        for (const char *const *k = common; *k != NULL; k++)
            known |= strcmp(*k, key) == 0;
        if (!known)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): unknown key '%s'", i, type, key);
    }
    static const struct {
        const char *name;
        sched_kind kind;
    } kinds[] = {{"LinearLR", S_LINEAR}, {"ConstantLR", S_CONSTANT}, {"StepLR", S_STEP}, {"MultiStepLR", S_MULTISTEP},
                 {"ExponentialLR", S_EXPONENTIAL}, {"CosineAnnealingLR", S_COSINE}, {"PolyLR", S_POLY}};
    bool found = false;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(kinds[k].name, type) == 0)
            c->kind = kinds[k].kind, found = true;
    if (!found)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu: unknown type '%s'; known: LinearLR, ConstantLR, "
                          "StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, PolyLR", i, type);
    json_t *by = json_object_get(o, "by_epoch");
    bool by_epoch = by == NULL || json_is_true(by); /* mmengine's default: by epoch */
    bool convert = json_is_true(json_object_get(o, "convert_to_iter_based"));
    double begin = 0.0, end = -1.0;
    sscma_status st;
    if ((st = number(o, i, "begin", 0.0, &begin)) != SSCMA_OK || (st = number(o, i, "end", -1.0, &end)) != SSCMA_OK)
        return st;
    int64_t scale = by_epoch && convert ? epoch_len : 1;
    if (by_epoch && convert && epoch_len < 1)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): convert_to_iter_based needs the iterations "
                          "per epoch", i, type);
    c->by_epoch = by_epoch && !convert;
    c->begin = (int64_t)begin * scale;
    c->end = end < 0 ? INF_STEP : (int64_t)end * scale;
    if (c->begin < 0 || c->end <= c->begin)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): begin %g and end %g make an empty window", i,
                          type, begin, end);
    c->total = c->end == INF_STEP ? INF_STEP : c->end - c->begin - 1;
    c->last_step = -1;
    c->base = base;
    double d = 0.0;
    switch (c->kind) {
    case S_LINEAR:
        if ((st = number(o, i, "start_factor", 1.0 / 3.0, &c->start_factor)) != SSCMA_OK ||
            (st = number(o, i, "end_factor", 1.0, &c->end_factor)) != SSCMA_OK)
            return st;
        if (!(c->start_factor > 0.0 && c->start_factor <= 1.0) || !(c->end_factor >= 0.0 && c->end_factor <= 1.0))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (LinearLR): start_factor in (0, 1], end_factor "
                              "in [0, 1]", i);
        if (c->end == INF_STEP)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (LinearLR) needs an 'end'", i);
        break;
    case S_CONSTANT:
        if ((st = number(o, i, "factor", 1.0 / 3.0, &c->factor)) != SSCMA_OK)
            return st;
        if (!(c->factor > 0.0 && c->factor <= 1.0))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (ConstantLR): factor in (0, 1]", i);
        break;
    case S_STEP:
        if ((st = number(o, i, "gamma", 0.1, &c->gamma)) != SSCMA_OK || (st = number(o, i, "step_size", 0, &d)) != SSCMA_OK)
            return st;
        c->step_size = (int64_t)d * scale;
        if (c->step_size < 1)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (StepLR) needs 'step_size' >= 1", i);
        break;
    case S_MULTISTEP: {
        json_t *ms = json_object_get(o, "milestones");
        if ((st = number(o, i, "gamma", 0.1, &c->gamma)) != SSCMA_OK)
            return st;
        if (!json_is_array(ms) || json_array_size(ms) > MAX_MILESTONES)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (MultiStepLR): 'milestones' must be a list of "
                              "at most %d integers", i, MAX_MILESTONES);
        size_t k;
        json_t *m;
        json_array_foreach(ms, k, m)
        {
            if (!json_is_integer(m) || json_integer_value(m) < 0)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (MultiStepLR): milestones[%zu] must be a "
                                  "non-negative integer", i, k);
            c->milestones[c->n_milestones++] = (int64_t)json_integer_value(m) * scale;
        }
        break;
    }
    case S_EXPONENTIAL:
        if ((st = number(o, i, "gamma", 0.1, &c->gamma)) != SSCMA_OK)
            return st;
        break;
    case S_COSINE:
        if ((st = number(o, i, "eta_min", 0.0, &c->eta_min)) != SSCMA_OK ||
            (st = number(o, i, "T_max", -1.0, &d)) != SSCMA_OK)
            return st;
        c->t_max = d < 0 ? (c->end == INF_STEP ? -1 : c->end - c->begin) : (int64_t)d * scale;
        if (c->t_max < 1)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (CosineAnnealingLR) needs 'T_max' or 'end'", i);
        break;
    case S_POLY:
        if ((st = number(o, i, "eta_min", 0.0, &c->eta_min)) != SSCMA_OK ||
            (st = number(o, i, "power", 1.0, &c->power)) != SSCMA_OK)
            return st;
        if (c->end == INF_STEP)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (PolyLR) needs an 'end'", i);
        break;
    }
    return SSCMA_OK;
}

sscma_status sscma_scheduler_create(sscma_optimizer *optimizer, const char *config_json, int64_t iters_per_epoch,
                                    sscma_scheduler **out)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    SSCMA_REQUIRE_NONNULL(config_json);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *cfg = json_loads(config_json, 0, &err);
    if (cfg == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "scheduler config: line %d, column %d: %s", err.line, err.column, err.text);
    if (json_is_object(cfg)) {
        json_t *list = json_array();
        json_array_append_new(list, cfg);
        cfg = list;
    }
    sscma_status st = SSCMA_OK;
    sscma_scheduler *s = calloc(1, sizeof *s);
    size_t n = json_is_array(cfg) ? json_array_size(cfg) : 0;
    if (!json_is_array(cfg))
        st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "expected a list of schedulers");
    else if (s == NULL || (n > 0 && (s->items = calloc(n, sizeof *s->items)) == NULL))
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate schedulers");
    if (s != NULL)
        s->optimizer = optimizer;
    double base = 0.0;
    sscma_optimizer_lr(optimizer, &base);
    for (size_t i = 0; st == SSCMA_OK && i < n; i++) {
        st = parse_one(json_array_get(cfg, i), i, iters_per_epoch, base, &s->items[i]);
        if (st == SSCMA_OK)
            s->count++;
    }
    json_decref(cfg);
    if (st != SSCMA_OK) {
        sscma_scheduler_destroy(s);
        return st;
    }
    for (int32_t i = 0; i < s->count; i++) /* the initial step, as mmengine's constructors do */
        step_one(s, &s->items[i]);
    *out = s;
    return SSCMA_OK;
}

void sscma_scheduler_destroy(sscma_scheduler *scheduler)
{
    if (scheduler == NULL)
        return;
    free(scheduler->items);
    free(scheduler);
}

static sscma_status step_kind(sscma_scheduler *s, bool by_epoch)
{
    for (int32_t i = 0; i < s->count; i++)
        if (s->items[i].by_epoch == by_epoch)
            step_one(s, &s->items[i]);
    return SSCMA_OK;
}

sscma_status sscma_scheduler_step_iter(sscma_scheduler *scheduler)
{
    SSCMA_REQUIRE_NONNULL(scheduler);
    return step_kind(scheduler, false);
}

sscma_status sscma_scheduler_step_epoch(sscma_scheduler *scheduler)
{
    SSCMA_REQUIRE_NONNULL(scheduler);
    return step_kind(scheduler, true);
}

/* ---- state for resumable checkpoints (train/state.h) ---- */

json_t *sscma_scheduler_export(const sscma_scheduler *scheduler)
{
    json_t *list = json_array();
    for (int32_t i = 0; list != NULL && i < scheduler->count; i++) {
        const sched *c = &scheduler->items[i];
        json_t *item = json_pack("{s:i,s:I,s:I}", "kind", (int)c->kind, "global_step", (json_int_t)c->global_step,
                                 "last_step", (json_int_t)c->last_step);
        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

sscma_status sscma_scheduler_import(sscma_scheduler *scheduler, json_t *state, const char *path)
{
    if (!json_is_array(state) || json_array_size(state) != (size_t)scheduler->count)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "the checkpoint holds %zu schedulers, the config %d",
                          json_is_array(state) ? json_array_size(state) : (size_t)0, (int)scheduler->count);
    for (int32_t i = 0; i < scheduler->count; i++) {
        json_t *item = json_array_get(state, (size_t)i);
        json_t *kind = json_object_get(item, "kind"), *g = json_object_get(item, "global_step"),
               *l = json_object_get(item, "last_step");
        if (!json_is_integer(kind) || json_integer_value(kind) != (json_int_t)scheduler->items[i].kind ||
            !json_is_integer(g) || !json_is_integer(l))
            return sscma_fail(SSCMA_ERR_FORMAT, path, "scheduler %d of the checkpoint is not the config's", (int)i);
    }
    for (int32_t i = 0; i < scheduler->count; i++) {
        json_t *item = json_array_get(state, (size_t)i);
        scheduler->items[i].global_step = (int64_t)json_integer_value(json_object_get(item, "global_step"));
        scheduler->items[i].last_step = (int64_t)json_integer_value(json_object_get(item, "last_step"));
    }
    return SSCMA_OK;
}
