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
 *   OneCycleLR  not chainable: phases (0 .. pct T - 1: initial -> eta_max; then -> minimum; three_phase: up, down to
 *               initial at 2 pct T - 2, then to minimum), each annealed by cosine or linearly in its own fraction
 *               (mmengine's OneCycleParamScheduler; T = total_steps)
 * base is the value when the scheduler was created. Rates are the optimizer's base rate (groups scale it). The
 * <Kind>Momentum variants apply the same formulas to the momentum (SGD momentum, Adam's beta1), as mmengine's
 * momentum schedulers do.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/internal.h"
#include "sscma/optim.h"
#include "train/state.h"

#define WHERE "param_scheduler"
#define INF_STEP INT64_MAX
#define MAX_MILESTONES 32

typedef enum sched_kind {
    S_LINEAR,
    S_CONSTANT,
    S_STEP,
    S_MULTISTEP,
    S_EXPONENTIAL,
    S_COSINE,
    S_POLY,
    S_ONECYCLE
} sched_kind;

typedef struct sched {
    sched_kind kind;
    bool momentum; /* schedules the momentum (SGD momentum, Adam's beta1) instead of the learning rate */
    /* OneCycleLR */
    double initial, peak, minimum, pct_start;
    bool cos_anneal, three_phase;
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

static double current(const sscma_scheduler *s, const sched *c)
{
    double v = 0.0;
    if (c->momentum)
        sscma_optimizer_momentum(s->optimizer, &v);
    else
        sscma_optimizer_lr(s->optimizer, &v);
    return v;
}

static double anneal(const sched *c, double start, double end, double pct)
{
    const double pi = 3.14159265358979323846;
    return c->cos_anneal ? end + (start - end) / 2.0 * (cos(pi * pct) + 1.0) : (end - start) * pct + start;
}

static double one_cycle(const sched *c, double lr)
{
    const double t = (double)c->last_step, T = (double)c->total;
    if (c->last_step > c->total)
        return lr; /* past the cycle (mmengine raises): keep the last value */
    struct {
        double end_step, from, to;
    } phases[3];
    int n = 0;
    phases[n].end_step = c->pct_start * T - 1.0, phases[n].from = c->initial, phases[n++].to = c->peak;
    if (c->three_phase) {
        phases[n].end_step = 2.0 * c->pct_start * T - 2.0, phases[n].from = c->peak, phases[n++].to = c->initial;
        phases[n].end_step = T - 1.0, phases[n].from = c->initial, phases[n++].to = c->minimum;
    } else {
        phases[n].end_step = T - 1.0, phases[n].from = c->peak, phases[n++].to = c->minimum;
    }
    double start = 0.0;
    for (int i = 0; i < n; i++) {
        if (t <= phases[i].end_step || i == n - 1)
            return anneal(c, phases[i].from, phases[i].to, (t - start) / (phases[i].end_step - start));
        start = phases[i].end_step;
    }
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
    case S_ONECYCLE: return one_cycle(c, lr);
    }
    return lr;
}

static void step_one(sscma_scheduler *s, sched *c)
{
    if (c->begin <= c->global_step && c->global_step < c->end) {
        c->last_step++;
        double v = fmax(value(c, current(s, c)), 0.0);
        if (c->momentum)
            sscma_optimizer_set_momentum(s->optimizer, fmin(v, 0.999999));
        else
            sscma_optimizer_set_lr(s->optimizer, v);
    }
    c->global_step++;
}

static sscma_status parse_one(sscma_optimizer *opt, json_t *o, size_t i, int64_t epoch_len, sched *c)
{
    static const char *const common[] = {"type", "begin", "end", "by_epoch", "convert_to_iter_based", "start_factor",
                                         "end_factor", "factor", "total_iters", "gamma", "step_size", "milestones",
                                         "T_max", "eta_min", "power", "verbose", NULL};
    static const char *const one_cycle_keys[] = {"type", "begin", "end", "by_epoch", "convert_to_iter_based",
                                                 "eta_max", "total_steps", "pct_start", "anneal_strategy",
                                                 "div_factor", "final_div_factor", "three_phase", "verbose", NULL};
    const char *type = json_string_value(json_object_get(o, "type"));
    memset(c, 0, sizeof *c);
    if (!json_is_object(o) || type == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu needs a \"type\"", i);
    static const struct {
        const char *name;
        sched_kind kind;
    } kinds[] = {{"Linear", S_LINEAR},           {"Constant", S_CONSTANT}, {"Step", S_STEP},
                 {"MultiStep", S_MULTISTEP},     {"Exponential", S_EXPONENTIAL},
                 {"CosineAnnealing", S_COSINE}, {"Poly", S_POLY}};
    bool found = false;
    size_t len = strlen(type);
    if (strcmp(type, "OneCycleLR") == 0) {
        c->kind = S_ONECYCLE, found = true;
    } else {
        /* <Kind>LR or <Kind>Momentum */
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !found; k++) {
            size_t n = strlen(kinds[k].name);
            if (len > n && strncmp(type, kinds[k].name, n) == 0 &&
                (strcmp(type + n, "LR") == 0 || strcmp(type + n, "Momentum") == 0)) {
                c->kind = kinds[k].kind, found = true;
                c->momentum = type[n] == 'M';
            }
        }
    }
    if (!found)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu: unknown type '%s'; known: LinearLR, ConstantLR, "
                          "StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, PolyLR, OneCycleLR, and the "
                          "Momentum variants (LinearMomentum, ...)", i, type);
    char list[400];
    const char *key = sscma_config_unknown_key(o, c->kind == S_ONECYCLE ? one_cycle_keys : common, list, sizeof list);
    if (key != NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): unknown key '%s'; valid keys: %s", i, type, key,
                          list);
    if (c->momentum && !sscma_optimizer_has_momentum(opt))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): the optimizer has no momentum (SGD needs "
                          "momentum > 0)", i, type);
    double base = 0.0;
    if (c->momentum)
        sscma_optimizer_momentum(opt, &base);
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
    if (c->momentum)
        c->base = base;
    else
        sscma_optimizer_lr(opt, &c->base);
    double d = 0.0;
    switch (c->kind) {
    case S_LINEAR:
        if ((st = number(o, i, "start_factor", 1.0 / 3.0, &c->start_factor)) != SSCMA_OK ||
            (st = number(o, i, "end_factor", 1.0, &c->end_factor)) != SSCMA_OK)
            return st;
        if (!(c->start_factor > 0.0 && c->start_factor <= 1.0) || !(c->end_factor >= 0.0 && c->end_factor <= 1.0))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): start_factor in (0, 1], end_factor "
                              "in [0, 1]", i, type);
        if (c->end == INF_STEP)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s) needs an 'end'", i, type);
        break;
    case S_CONSTANT:
        if ((st = number(o, i, "factor", 1.0 / 3.0, &c->factor)) != SSCMA_OK)
            return st;
        if (!(c->factor > 0.0 && c->factor <= 1.0))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): factor in (0, 1]", i, type);
        break;
    case S_STEP:
        if ((st = number(o, i, "gamma", 0.1, &c->gamma)) != SSCMA_OK || (st = number(o, i, "step_size", 0, &d)) != SSCMA_OK)
            return st;
        c->step_size = (int64_t)d * scale;
        if (c->step_size < 1)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s) needs 'step_size' >= 1", i, type);
        break;
    case S_MULTISTEP: {
        json_t *ms = json_object_get(o, "milestones");
        if ((st = number(o, i, "gamma", 0.1, &c->gamma)) != SSCMA_OK)
            return st;
        if (!json_is_array(ms) || json_array_size(ms) > MAX_MILESTONES)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): 'milestones' must be a list of "
                              "at most %d integers", i, type, MAX_MILESTONES);
        size_t k;
        json_t *m;
        json_array_foreach(ms, k, m)
        {
            if (!json_is_integer(m) || json_integer_value(m) < 0)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s): milestones[%zu] must be a "
                                  "non-negative integer", i, type, k);
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
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s) needs 'T_max' or 'end'", i, type);
        break;
    case S_POLY:
        if ((st = number(o, i, "eta_min", 0.0, &c->eta_min)) != SSCMA_OK ||
            (st = number(o, i, "power", 1.0, &c->power)) != SSCMA_OK)
            return st;
        if (c->end == INF_STEP)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (%s) needs an 'end'", i, type);
        break;
    case S_ONECYCLE: {
        double div = 25.0, final_div = 1e4;
        if ((st = number(o, i, "eta_max", 0.0, &c->peak)) != SSCMA_OK ||
            (st = number(o, i, "total_steps", -1.0, &d)) != SSCMA_OK ||
            (st = number(o, i, "pct_start", 0.3, &c->pct_start)) != SSCMA_OK ||
            (st = number(o, i, "div_factor", 25.0, &div)) != SSCMA_OK ||
            (st = number(o, i, "final_div_factor", 1e4, &final_div)) != SSCMA_OK)
            return st;
        if (!(c->peak > 0.0) || !(div > 0.0) || !(final_div > 0.0))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (OneCycleLR): eta_max, div_factor and "
                              "final_div_factor must be positive", i);
        if (!(c->pct_start >= 0.0 && c->pct_start <= 1.0))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (OneCycleLR): pct_start must be in [0, 1]", i);
        c->total = d > 0 ? (int64_t)d * scale : c->end == INF_STEP ? -1 : c->end - c->begin;
        if (c->total < 2)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (OneCycleLR) needs 'total_steps' (at least 2) "
                              "or an 'end'", i);
        const char *strategy = json_string_value(json_object_get(o, "anneal_strategy"));
        if (strategy != NULL && strcmp(strategy, "cos") != 0 && strcmp(strategy, "linear") != 0)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "scheduler %zu (OneCycleLR): anneal_strategy is \"cos\" or "
                              "\"linear\"", i);
        c->cos_anneal = strategy == NULL || strcmp(strategy, "cos") == 0;
        c->three_phase = json_is_true(json_object_get(o, "three_phase"));
        c->initial = c->peak / div;
        c->minimum = c->initial / final_div;
        break;
    }
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
    for (size_t i = 0; st == SSCMA_OK && i < n; i++) {
        st = parse_one(optimizer, json_array_get(cfg, i), i, iters_per_epoch, &s->items[i]);
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

/* ---- mmyolo's YOLOv5ParamSchedulerHook (train/state.h) ---- */

double sscma_yolov5_factor(const sscma_yolov5_schedule *s, int64_t epoch)
{
    const double pi = 3.14159265358979323846, e = (double)epoch;
    if (s->cosine)
        return ((1.0 - cos(e * pi / s->max_epochs)) / 2.0) * (s->lr_factor - 1.0) + 1.0;
    return (1.0 - e / s->max_epochs) * (1.0 - s->lr_factor) + s->lr_factor;
}

bool sscma_yolov5_warmup(const sscma_yolov5_schedule *s, int64_t iter, int64_t epoch, int64_t iters_per_epoch,
                         double *lr, double *bias_lr, double *momentum)
{
    double w = nearbyint(s->warmup_epochs * (double)iters_per_epoch); /* Python's round: ties to even */
    if (w < (double)s->warmup_min_iter)
        w = (double)s->warmup_min_iter;
    if ((double)iter > w)
        return false;
    const double f = w > 0.0 ? (double)iter / w : 1.0, target = s->base_lr * sscma_yolov5_factor(s, epoch);
    *lr = target * f; /* np.interp(iter, [0, W], [0, target]) */
    *bias_lr = s->warmup_bias_lr + (target - s->warmup_bias_lr) * f;
    *momentum = s->warmup_momentum + (s->base_momentum - s->warmup_momentum) * f;
    return true;
}
