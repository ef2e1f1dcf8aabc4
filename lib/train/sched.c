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

#include "core/internal.h"
#include "core/schema.h"
#include "sscma/optim.h"
#include "train/state.h"

#define WHERE "scheduler"
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
    const sscma_context *ctx;
    sscma_optimizer *optimizer;
    sched *items;
    int32_t count;
};

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

/* One scheduler's keys as the config gives them (mmengine's names); steps as numbers, as mmengine accepts. */
typedef struct sched_cfg {
    double begin, end, start_factor, end_factor, factor, total_iters, gamma, step_size, T_max, eta_min, power;
    double eta_max, total_steps, pct_start, div_factor, final_div_factor;
    bool by_epoch, convert_to_iter_based, three_phase;
    int anneal_strategy; /* 0 cos, 1 linear */
    int64_t milestones[MAX_MILESTONES];
    int32_t n_milestones;
} sched_cfg;

static const char *const anneal_names[] = {"cos", "linear", NULL};

/* The keys every scheduler has: its window and mmengine's epoch/iteration switches. */
#define SCHED_WINDOW_FIELDS                                                                                    \
    SSCMA_FIELD_KEY("type"), SSCMA_FIELD_RANGE(sched_cfg, begin, 0.0, 0.0, INFINITY),                          \
        SSCMA_FIELD(sched_cfg, end, -1.0), SSCMA_FIELD(sched_cfg, by_epoch, true),                             \
        SSCMA_FIELD(sched_cfg, convert_to_iter_based, false)

static const sscma_field common_fields[] = {
    SCHED_WINDOW_FIELDS,
    SSCMA_FIELD(sched_cfg, start_factor, 1.0 / 3.0),
    SSCMA_FIELD(sched_cfg, end_factor, 1.0),
    SSCMA_FIELD(sched_cfg, factor, 1.0 / 3.0),
    SSCMA_FIELD(sched_cfg, total_iters, 0.0),
    SSCMA_FIELD(sched_cfg, gamma, 0.1),
    SSCMA_FIELD(sched_cfg, step_size, 0.0),
    SSCMA_FIELD_LIST_AS("milestones", sched_cfg, milestones, offsetof(sched_cfg, n_milestones), 0, 0, 0, INFINITY, 0),
    SSCMA_FIELD(sched_cfg, T_max, -1.0),
    SSCMA_FIELD(sched_cfg, eta_min, 0.0),
    SSCMA_FIELD(sched_cfg, power, 1.0),
    SSCMA_FIELD_KEY("verbose"),
    SSCMA_FIELD_END,
};

static const sscma_field one_cycle_fields[] = {
    SCHED_WINDOW_FIELDS,
    SSCMA_FIELD(sched_cfg, eta_max, 0.0),
    SSCMA_FIELD(sched_cfg, total_steps, -1.0),
    SSCMA_FIELD_RANGE(sched_cfg, pct_start, 0.3, 0.0, 1.0),
    SSCMA_FIELD_ENUM_AS("anneal_strategy", sched_cfg, anneal_strategy, 0, anneal_names, 0),
    SSCMA_FIELD(sched_cfg, div_factor, 25.0),
    SSCMA_FIELD(sched_cfg, final_div_factor, 1e4),
    SSCMA_FIELD(sched_cfg, three_phase, false),
    SSCMA_FIELD_KEY("verbose"),
    SSCMA_FIELD_END,
};

/* <Kind>LR or <Kind>Momentum, or OneCycleLR; false when the type is none of them. */
static bool find_kind(const char *type, sched *c)
{
    static const struct {
        const char *name;
        sched_kind kind;
    } kinds[] = {{"Linear", S_LINEAR},           {"Constant", S_CONSTANT}, {"Step", S_STEP},
                 {"MultiStep", S_MULTISTEP},     {"Exponential", S_EXPONENTIAL},
                 {"CosineAnnealing", S_COSINE}, {"Poly", S_POLY}};
    if (type == NULL)
        return false;
    if (strcmp(type, "OneCycleLR") == 0) {
        c->kind = S_ONECYCLE;
        return true;
    }
    size_t len = strlen(type);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t n = strlen(kinds[k].name);
        if (len > n && strncmp(type, kinds[k].name, n) == 0 &&
            (strcmp(type + n, "LR") == 0 || strcmp(type + n, "Momentum") == 0)) {
            c->kind = kinds[k].kind;
            c->momentum = type[n] == 'M';
            return true;
        }
    }
    return false;
}

/* The per-kind rules on top of the table's types; `scale` turns epochs into iterations. */
static sscma_status parse_kind(const sched_cfg *g, int64_t scale, const char *path, const char *type, sched *c)
{
    switch (c->kind) {
    case S_LINEAR:
        c->start_factor = g->start_factor, c->end_factor = g->end_factor;
        if (!(c->start_factor > 0.0 && c->start_factor <= 1.0) || !(c->end_factor >= 0.0 && c->end_factor <= 1.0))
            return sscma_schema_fail(WHERE, path, NULL, "%s: start_factor in (0, 1], end_factor in [0, 1]", type);
        if (c->end == INF_STEP)
            return sscma_schema_fail(WHERE, path, NULL, "%s needs an 'end'", type);
        break;
    case S_CONSTANT:
        c->factor = g->factor;
        if (!(c->factor > 0.0 && c->factor <= 1.0))
            return sscma_schema_fail(WHERE, path, "factor", "expected a number in (0, 1], got %g", c->factor);
        break;
    case S_STEP:
        c->gamma = g->gamma;
        c->step_size = (int64_t)g->step_size * scale;
        if (c->step_size < 1)
            return sscma_schema_fail(WHERE, path, NULL, "%s needs 'step_size' >= 1", type);
        break;
    case S_MULTISTEP:
        c->gamma = g->gamma;
        for (int32_t k = 0; k < g->n_milestones; k++)
            c->milestones[c->n_milestones++] = g->milestones[k] * scale;
        break;
    case S_EXPONENTIAL: c->gamma = g->gamma; break;
    case S_COSINE:
        c->eta_min = g->eta_min;
        c->t_max = g->T_max < 0 ? (c->end == INF_STEP ? -1 : c->end - c->begin) : (int64_t)g->T_max * scale;
        if (c->t_max < 1)
            return sscma_schema_fail(WHERE, path, NULL, "%s needs 'T_max' or 'end'", type);
        break;
    case S_POLY:
        c->eta_min = g->eta_min, c->power = g->power;
        if (c->end == INF_STEP)
            return sscma_schema_fail(WHERE, path, NULL, "%s needs an 'end'", type);
        break;
    case S_ONECYCLE:
        c->peak = g->eta_max, c->pct_start = g->pct_start;
        if (!(c->peak > 0.0) || !(g->div_factor > 0.0) || !(g->final_div_factor > 0.0))
            return sscma_schema_fail(WHERE, path, NULL, "%s: eta_max, div_factor and final_div_factor must be positive",
                                     type);
        c->total = g->total_steps > 0 ? (int64_t)g->total_steps * scale : c->end == INF_STEP ? -1 : c->end - c->begin;
        if (c->total < 2)
            return sscma_schema_fail(WHERE, path, NULL, "%s needs 'total_steps' (at least 2) or an 'end'", type);
        c->cos_anneal = g->anneal_strategy == 0;
        c->three_phase = g->three_phase;
        c->initial = c->peak / g->div_factor;
        c->minimum = c->initial / g->final_div_factor;
        break;
    }
    return SSCMA_OK;
}

static sscma_status parse_one(sscma_optimizer *opt, json_t *o, size_t i, int64_t epoch_len, sched *c)
{
    char path[64];
    sscma_schema_index(path, sizeof path, "param_scheduler", i);
    memset(c, 0, sizeof *c);
    if (!json_is_object(o))
        return sscma_schema_expected(WHERE, path, NULL, "an object with a \"type\"", o);
    json_t *type = json_object_get(o, "type");
    if (!find_kind(json_string_value(type), c))
        return sscma_schema_expected(WHERE, path, "type",
                                     "LinearLR, ConstantLR, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, "
                                     "PolyLR, OneCycleLR or a Momentum variant (LinearMomentum, ...)", type);
    sched_cfg g;
    sscma_status st = sscma_schema_read(c->kind == S_ONECYCLE ? one_cycle_fields : common_fields, o, WHERE, path, &g);
    if (st != SSCMA_OK)
        return st;
    if (c->momentum && !sscma_optimizer_has_momentum(opt))
        return sscma_schema_fail(WHERE, path, "type", "%s: the optimizer has no momentum (SGD needs momentum > 0)",
                                 json_string_value(type));
    if (c->kind == S_MULTISTEP && json_object_get(o, "milestones") == NULL)
        return sscma_schema_expected(WHERE, path, "milestones", "a list of integers >= 0", NULL);
    bool convert = g.by_epoch && g.convert_to_iter_based;
    int64_t scale = convert ? epoch_len : 1;
    if (convert && epoch_len < 1)
        return sscma_schema_fail(WHERE, path, "convert_to_iter_based", "needs the iterations per epoch");
    c->by_epoch = g.by_epoch && !convert;
    c->begin = (int64_t)g.begin * scale;
    c->end = g.end < 0 ? INF_STEP : (int64_t)g.end * scale;
    if (c->end <= c->begin)
        return sscma_schema_fail(WHERE, path, NULL, "begin %g and end %g make an empty window", g.begin, g.end);
    c->total = c->end == INF_STEP ? INF_STEP : c->end - c->begin - 1;
    c->last_step = -1;
    if (c->momentum)
        sscma_optimizer_momentum(opt, &c->base);
    else
        sscma_optimizer_lr(opt, &c->base);
    return parse_kind(&g, scale, path, json_string_value(type), c);
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
    const sscma_context *ctx = sscma_optimizer_context(optimizer);
    sscma_scheduler *s = sscma_calloc(ctx, 1, sizeof *s);
    size_t n = json_is_array(cfg) ? json_array_size(cfg) : 0;
    if (!json_is_array(cfg))
        st = sscma_schema_expected(WHERE, "param_scheduler", NULL, "a list of schedulers or one", cfg);
    else if (s == NULL || (n > 0 && (s->items = sscma_calloc(ctx, n, sizeof *s->items)) == NULL))
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate schedulers");
    if (s != NULL)
        s->optimizer = optimizer, s->ctx = ctx, sscma_context_retain(ctx);
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
    sscma_mfree(scheduler->ctx, scheduler->items);
    const sscma_context *ctx = scheduler->ctx;
    sscma_mfree(ctx, scheduler);
    sscma_context_release(ctx);
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
