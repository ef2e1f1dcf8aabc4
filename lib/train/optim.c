/*
 * Optimizers, element-wise in float32 in PyTorch 1.13's order of operations, with the scalars (1 - beta, lr / (1 -
 * beta1^t), ...) computed in double and rounded once, as PyTorch's Python code does (20 steps stay within 1e-6 of
 * torch.optim):
 *   SGD:   d = g + wd p;  b = d (first step) or momentum b + (1 - dampening) d;  d = d + momentum b (Nesterov) or b;
 *          p = p - lr d
 *   Adam:  g = g + wd p;  m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g g;  (amsgrad: vmax = max(vmax, v))
 *          p = p - (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *   AdamW: p = p (1 - lr wd), then Adam without the wd term
 * Parameter-wise settings follow mmengine's DefaultOptimWrapperConstructor: a custom key contained in the parameter
 * name sets lr_mult/decay_mult (longest key first); otherwise norm parameters take norm_decay_mult, other biases
 * bias_decay_mult and bias_lr_mult, depthwise conv weights dwconv_decay_mult.
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

typedef enum opt_kind { OPT_SGD, OPT_ADAM, OPT_ADAMW } opt_kind;

typedef struct opt_param {
    int32_t index; /* in the model */
    float *value, *grad;
    int64_t n;
    float lr_mult, decay_mult;
    bool bias;
    float *buf1, *buf2, *buf3; /* momentum | exp_avg, exp_avg_sq, max_exp_avg_sq */
    int64_t steps;
} opt_param;

struct sscma_optimizer {
    sscma_model *model;
    const sscma_context *ctx; /* the model's: the optimizer's memory */
    opt_kind kind;
    double lr, momentum, dampening, weight_decay, beta1, beta2, eps, max_norm, norm_type;
    bool nesterov, amsgrad, clip;
    bool bias_lr_set; /* YOLOv5 warm-up: biases use bias_lr instead of lr * lr_mult */
    double bias_lr;
    double betas[2]; /* as the config gives them (n_betas of them); beta1, beta2 are what steps use */
    int32_t n_betas;
    int64_t batch_size_per_gpu; /* YOLOv5OptimizerConstructor's (popped before the optimizer in mmyolo) */
    double last_norm;
    opt_param *params;
    int32_t n_params;
};

#define WHERE "optimizer"

static void destroy_params(sscma_optimizer *o)
{
    for (int32_t i = 0; o->params != NULL && i < o->n_params; i++) {
        sscma_mfree(o->ctx, o->params[i].buf1);
        sscma_mfree(o->ctx, o->params[i].buf2);
        sscma_mfree(o->ctx, o->params[i].buf3);
    }
    sscma_mfree(o->ctx, o->params);
}

void sscma_optimizer_destroy(sscma_optimizer *optimizer)
{
    if (optimizer == NULL)
        return;
    destroy_params(optimizer);
    const sscma_context *ctx = optimizer->ctx;
    sscma_mfree(ctx, optimizer);
    sscma_context_release(ctx);
}

/* mmengine's custom_keys are tried longest first (then alphabetically): returns the matching entry or NULL. */
static json_t *match_custom(json_t *custom, const char *name, const char **matched)
{
    const char *best = NULL;
    json_t *best_value = NULL;
    const char *key;
    json_t *value;
    json_object_foreach(custom, key, value)
    {
        if (strstr(name, key) == NULL)
            continue;
        if (best == NULL || strlen(key) > strlen(best) || (strlen(key) == strlen(best) && strcmp(key, best) < 0))
            best = key, best_value = value;
    }
    *matched = best;
    return best_value;
}

/* ---- the config: mmengine's optim_wrapper, or the optimizer object alone ---- */

typedef struct clip_cfg {
    double max_norm, norm_type;
} clip_cfg;

typedef struct paramwise_cfg {
    double norm_decay_mult, bias_decay_mult, bias_lr_mult, dwconv_decay_mult;
    json_t *custom_keys; /* parameter-name fragment -> {lr_mult, decay_mult} */
} paramwise_cfg;

typedef struct wrapper_cfg {
    const char *type, *constructor;
    json_t *optimizer, *clip_grad;
    clip_cfg clip;
    paramwise_cfg paramwise;
} wrapper_cfg;

typedef struct mult_cfg {
    double lr_mult, decay_mult;
} mult_cfg;

static const sscma_field clip_fields[] = {
    SSCMA_FIELD_AS("max_norm", clip_cfg, max_norm, 0.0, true, 1e-12, 1e12, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_RANGE(clip_cfg, norm_type, 2.0, 2.0, 2.0), /* only the L2 norm */
    SSCMA_FIELD_END,
};

static const sscma_field paramwise_fields[] = {
    SSCMA_FIELD_RANGE(paramwise_cfg, norm_decay_mult, 1.0, 0.0, 1e6),
    SSCMA_FIELD_RANGE(paramwise_cfg, bias_decay_mult, 1.0, 0.0, 1e6),
    SSCMA_FIELD_RANGE(paramwise_cfg, bias_lr_mult, 1.0, 0.0, 1e6),
    SSCMA_FIELD_RANGE(paramwise_cfg, dwconv_decay_mult, 1.0, 0.0, 1e6),
    SSCMA_FIELD_JSON_AS("custom_keys", paramwise_cfg, custom_keys),
    SSCMA_FIELD_KEY("bypass_duplicate"), /* mmengine: skips parameters shared by modules; libsscma's never are */
    SSCMA_FIELD_END,
};

static const sscma_field wrapper_fields[] = {
    SSCMA_FIELD_STRING(wrapper_cfg, type, "OptimWrapper"),
    SSCMA_FIELD_STRING(wrapper_cfg, constructor, "DefaultOptimWrapperConstructor"),
    SSCMA_FIELD_JSON_AS("optimizer", wrapper_cfg, optimizer),
    SSCMA_FIELD_JSON_AS("clip_grad", wrapper_cfg, clip_grad),
    {.name = "paramwise_cfg", .kind = SSCMA_FIELD_OBJECT, .offset = offsetof(wrapper_cfg, paramwise),
     .count_offset = -1, .sub = paramwise_fields},
    SSCMA_FIELD_END,
};

static const sscma_field mult_fields[] = {
    SSCMA_FIELD_RANGE(mult_cfg, lr_mult, 1.0, 0.0, 1e6),
    SSCMA_FIELD_RANGE(mult_cfg, decay_mult, 1.0, 0.0, 1e6),
    SSCMA_FIELD_END,
};

static const sscma_field sgd_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(sscma_optimizer, lr, 0.01, 0.0, 1e6),
    SSCMA_FIELD_RANGE(sscma_optimizer, momentum, 0.0, 0.0, 0.999999),
    SSCMA_FIELD_RANGE(sscma_optimizer, dampening, 0.0, 0.0, 1.0),
    SSCMA_FIELD_RANGE(sscma_optimizer, weight_decay, 0.0, 0.0, 1e3),
    SSCMA_FIELD(sscma_optimizer, nesterov, false),
    SSCMA_FIELD_RANGE(sscma_optimizer, batch_size_per_gpu, 0, 1, 1000000),
    SSCMA_FIELD_END,
};

/* Adam and AdamW: the caller stores weight_decay's default (0 and 0.01). */
static const sscma_field adam_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(sscma_optimizer, lr, 0.001, 0.0, 1e6),
    SSCMA_FIELD_LIST_AS("betas", sscma_optimizer, betas, offsetof(sscma_optimizer, n_betas), 2, 0.0, 0.0, 1.0, 0),
    SSCMA_FIELD_RANGE(sscma_optimizer, eps, 1e-8, 0.0, 1.0),
    SSCMA_FIELD_AS("weight_decay", sscma_optimizer, weight_decay, 0.0, true, 0.0, 1e3, SSCMA_FIELD_PREFILLED),
    SSCMA_FIELD(sscma_optimizer, amsgrad, false),
    SSCMA_FIELD_RANGE(sscma_optimizer, batch_size_per_gpu, 0, 1, 1000000),
    SSCMA_FIELD_END,
};

/* The optimizer object at `path`: its type picks the table. */
static sscma_status parse_optimizer(sscma_optimizer *o, json_t *opt, const char *path)
{
    json_t *type_value = json_object_get(opt, "type");
    const char *type = json_string_value(type_value);
    if (!json_is_object(opt))
        return sscma_schema_expected(WHERE, path, NULL, "an object with a \"type\"", opt);
    sscma_status st;
    if (type != NULL && strcmp(type, "SGD") == 0) {
        o->kind = OPT_SGD;
        if ((st = sscma_schema_read(sgd_fields, opt, WHERE, path, o)) != SSCMA_OK)
            return st;
        if (o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0))
            return sscma_schema_fail(WHERE, path, "nesterov", "Nesterov momentum needs momentum > 0 and dampening 0");
        return SSCMA_OK;
    }
    if (type == NULL || (strcmp(type, "Adam") != 0 && strcmp(type, "AdamW") != 0))
        return sscma_schema_expected(WHERE, path, "type", "one of: SGD, Adam, AdamW", type_value);
    o->kind = type[4] == 'W' ? OPT_ADAMW : OPT_ADAM;
    o->weight_decay = o->kind == OPT_ADAMW ? 0.01 : 0.0;
    if ((st = sscma_schema_read(adam_fields, opt, WHERE, path, o)) != SSCMA_OK)
        return st;
    o->beta1 = o->n_betas == 2 ? o->betas[0] : 0.9;
    o->beta2 = o->n_betas == 2 ? o->betas[1] : 0.999;
    if (o->beta1 >= 1.0 || o->beta2 >= 1.0) /* the table's range is closed; PyTorch's is [0, 1) */
        return sscma_schema_fail(WHERE, path, "betas", "expected two numbers in [0, 1), got [%g, %g]", o->beta1,
                                 o->beta2);
    o->momentum = o->beta1;
    return SSCMA_OK;
}

/* The wrapper form ({"optimizer": {...}, "clip_grad": ..., "paramwise_cfg": ...}) sits at "optim_wrapper". */
static sscma_status parse(sscma_optimizer *o, json_t *cfg, paramwise_cfg *pw)
{
    if (!json_is_object(cfg))
        return sscma_schema_expected(WHERE, NULL, NULL, "an object", cfg);
    if (json_object_get(cfg, "optimizer") == NULL) {
        sscma_schema_defaults(paramwise_fields, pw);
        return parse_optimizer(o, cfg, "");
    }
    const char *path = "optim_wrapper";
    wrapper_cfg w;
    sscma_status st = sscma_schema_read(wrapper_fields, cfg, WHERE, path, &w);
    if (st != SSCMA_OK)
        return st;
    if (strcmp(w.type, "OptimWrapper") != 0 && strcmp(w.type, "AmpOptimWrapper") != 0)
        return sscma_schema_expected(WHERE, path, "type", "OptimWrapper or AmpOptimWrapper",
                                     json_object_get(cfg, "type"));
    *pw = w.paramwise;
    if (pw->custom_keys != NULL && !json_is_object(pw->custom_keys))
        return sscma_schema_expected(WHERE, "optim_wrapper.paramwise_cfg", "custom_keys", "an object",
                                     pw->custom_keys);
    if (w.clip_grad != NULL && !json_is_null(w.clip_grad)) {
        if ((st = sscma_schema_read(clip_fields, w.clip_grad, WHERE, "optim_wrapper.clip_grad", &w.clip)) != SSCMA_OK)
            return st;
        o->max_norm = w.clip.max_norm, o->norm_type = w.clip.norm_type, o->clip = true;
    }
    const bool yolov5 = strcmp(w.constructor, "YOLOv5OptimizerConstructor") == 0 ||
                        strcmp(w.constructor, "mmyolo.YOLOv5OptimizerConstructor") == 0;
    if (!yolov5 && strcmp(w.constructor, "DefaultOptimWrapperConstructor") != 0)
        return sscma_schema_expected(WHERE, path, "constructor",
                                     "DefaultOptimWrapperConstructor or YOLOv5OptimizerConstructor",
                                     json_object_get(cfg, "constructor"));
    if (yolov5 && json_object_get(cfg, "paramwise_cfg") != NULL)
        return sscma_schema_fail(WHERE, path, "paramwise_cfg", "YOLOv5OptimizerConstructor makes its own parameter "
                                 "groups (mmyolo refuses paramwise_cfg with it too)");
    if ((st = parse_optimizer(o, w.optimizer, "optim_wrapper.optimizer")) != SSCMA_OK)
        return st;
    if (!yolov5) {
        if (o->batch_size_per_gpu != 0)
            return sscma_schema_fail(WHERE, "optim_wrapper.optimizer", "batch_size_per_gpu",
                                     "is read by YOLOv5OptimizerConstructor only (optim_wrapper.constructor)");
        return SSCMA_OK;
    }
    /* mmyolo's YOLOv5OptimizerConstructor: three groups (weights decayed; norm weights and all biases not), and the
     * weight decay scaled to a nominal batch of 64: accumulate = max(round(64 / batch), 1) (Python's round),
     * decay *= batch * accumulate / 64 (one process: the total batch is batch_size_per_gpu) */
    if (o->batch_size_per_gpu == 0)
        return sscma_schema_expected(WHERE, "optim_wrapper.optimizer", "batch_size_per_gpu",
                                     "the per-process batch size (YOLOv5OptimizerConstructor needs it)", NULL);
    const double batch = (double)o->batch_size_per_gpu;
    double accumulate = nearbyint(64.0 / batch);
    accumulate = accumulate < 1.0 ? 1.0 : accumulate;
    o->weight_decay *= batch * accumulate / 64.0;
    pw->norm_decay_mult = 0.0, pw->bias_decay_mult = 0.0;
    return SSCMA_OK;
}

/* mmengine's paramwise rules for one parameter: a matching custom key, else the norm/bias/depthwise multipliers. */
static sscma_status param_mults(opt_param *p, const paramwise_cfg *pw, const char *name, uint32_t flags,
                                const sscma_tensor *value)
{
    const char *key = NULL;
    json_t *entry = pw->custom_keys != NULL ? match_custom(pw->custom_keys, name, &key) : NULL;
    if (entry != NULL) {
        char at[200];
        sscma_schema_path(at, sizeof at, "optim_wrapper.paramwise_cfg.custom_keys", key);
        mult_cfg m;
        sscma_status st = sscma_schema_read(mult_fields, entry, WHERE, at, &m);
        p->lr_mult = (float)m.lr_mult, p->decay_mult = (float)m.decay_mult;
        return st;
    }
    int32_t rank = 0;
    int64_t last = 0;
    sscma_tensor_rank(value, &rank);
    sscma_tensor_dim(value, -1, &last);
    if (flags & SSCMA_PARAM_NORM)
        p->decay_mult = (float)pw->norm_decay_mult;
    else if (flags & SSCMA_PARAM_BIAS)
        p->decay_mult = (float)pw->bias_decay_mult, p->lr_mult = (float)pw->bias_lr_mult;
    else if (rank == 4 && last == 1) /* OHWI with Cin/groups == 1: mmengine's in_channels == groups */
        p->decay_mult = (float)pw->dwconv_decay_mult;
    return SSCMA_OK;
}

sscma_status sscma_optimizer_create(sscma_model *model, const char *config_json, sscma_optimizer **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(config_json);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *cfg = json_loads(config_json, 0, &err);
    if (cfg == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "optimizer config: line %d, column %d: %s", err.line, err.column, err.text);
    const sscma_context *ctx = sscma_model_context(model);
    sscma_optimizer *o = sscma_calloc(ctx, 1, sizeof *o);
    if (o == NULL) {
        json_decref(cfg);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate an optimizer");
    }
    o->model = model, o->ctx = ctx;
    sscma_context_retain(ctx);
    paramwise_cfg pw;
    sscma_status st = parse(o, cfg, &pw);
    int32_t count = 0;
    if (st == SSCMA_OK)
        st = sscma_model_param_count(model, &count);
    if (st == SSCMA_OK && (o->params = sscma_calloc(ctx, (size_t)(count > 0 ? count : 1), sizeof *o->params)) == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the optimizer's state");
    for (int32_t i = 0; st == SSCMA_OK && i < count; i++) {
        const char *name = NULL;
        uint32_t flags = 0;
        sscma_tensor *value = NULL, *grad = NULL;
        if ((st = sscma_model_param(model, i, &name, &flags, &value, &grad)) != SSCMA_OK)
            break;
        if (grad == NULL) /* a buffer */
            continue;
        opt_param *p = &o->params[o->n_params];
        p->index = i;
        sscma_tensor_data(value, (void **)&p->value);
        sscma_tensor_data(grad, (void **)&p->grad);
        sscma_tensor_numel(value, &p->n);
        p->lr_mult = 1.0f, p->decay_mult = 1.0f;
        p->bias = (flags & SSCMA_PARAM_BIAS) != 0;
        if ((st = param_mults(p, &pw, name, flags, value)) != SSCMA_OK)
            break;
        size_t bytes = (size_t)(p->n > 0 ? p->n : 1) * sizeof(float);
        bool ok = true;
        if (o->kind == OPT_SGD) {
            if (o->momentum > 0.0)
                ok = (p->buf1 = sscma_calloc(ctx, 1, bytes)) != NULL;
        } else {
            ok = (p->buf1 = sscma_calloc(ctx, 1, bytes)) != NULL && (p->buf2 = sscma_calloc(ctx, 1, bytes)) != NULL &&
                 (!o->amsgrad || (p->buf3 = sscma_calloc(ctx, 1, bytes)) != NULL);
        }
        o->n_params++;
        if (!ok)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the state of '%s'", name);
    }
    json_decref(cfg);
    if (st != SSCMA_OK) {
        sscma_optimizer_destroy(o);
        return st;
    }
    *out = o;
    return SSCMA_OK;
}

static bool trainable(const sscma_optimizer *o, const opt_param *p)
{
    uint32_t flags = 0;
    sscma_model_param(o->model, p->index, NULL, &flags, NULL, NULL);
    return (flags & SSCMA_PARAM_TRAINABLE) != 0;
}

SSCMA_KERNEL static void sgd_update(float *restrict w, const float *restrict g, float *restrict buf, int64_t n, float lr, float wd,
                       float momentum, float one_minus_dampening, bool nesterov, bool first)
{
    for (int64_t i = 0; i < n; i++) {
        float d = wd != 0.0f ? g[i] + wd * w[i] : g[i];
        if (buf != NULL) {
            buf[i] = first ? d : buf[i] * momentum + one_minus_dampening * d;
            d = nesterov ? d + momentum * buf[i] : buf[i];
        }
        w[i] = w[i] + (-lr) * d;
    }
}

SSCMA_KERNEL static void adam_update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                        float *restrict vmax, int64_t n, float l2, float decoupled, float beta1, float one_minus_beta1,
                        float beta2, float one_minus_beta2, float step_size, float bc2_sqrt, float eps)
{
    if (vmax == NULL && decoupled == 1.0f) { /* Adam without amsgrad: the same arithmetic as below, one straight
                                              * loop that GCC vectorises (sqrtf inline: meson.build's -fno-math-errno) */
        for (int64_t i = 0; i < n; i++) {
            const float gi = l2 != 0.0f ? g[i] + l2 * w[i] : g[i];
            const float mi = m[i] * beta1 + one_minus_beta1 * gi, vi = v[i] * beta2 + one_minus_beta2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            w[i] = w[i] + (-step_size) * mi / (sqrtf(vi) / bc2_sqrt + eps);
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        if (decoupled != 1.0f)
            w[i] = w[i] * decoupled;
        float gi = l2 != 0.0f ? g[i] + l2 * w[i] : g[i];
        m[i] = m[i] * beta1 + one_minus_beta1 * gi;
        v[i] = v[i] * beta2 + one_minus_beta2 * gi * gi;
        float vv = v[i];
        if (vmax != NULL) {
            vmax[i] = vmax[i] > vv ? vmax[i] : vv;
            vv = vmax[i];
        }
        float denom = sqrtf(vv) / bc2_sqrt + eps;
        w[i] = w[i] + (-step_size) * m[i] / denom;
    }
}

static sscma_status optimizer_step(sscma_optimizer *optimizer);

sscma_status sscma_optimizer_step(sscma_optimizer *optimizer)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    unsigned fp = sscma_fp_enter();
    sscma_status st = optimizer_step(optimizer);
    sscma_fp_leave(fp);
    return st;
}

static sscma_status optimizer_step(sscma_optimizer *optimizer)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    sscma_optimizer *o = optimizer;
    /* global L2 norm of the gradients being applied (double, fixed order) */
    double sq = 0.0;
    for (int32_t k = 0; k < o->n_params; k++) {
        const opt_param *p = &o->params[k];
        if (!trainable(o, p))
            continue;
        for (int64_t i = 0; i < p->n; i++)
            sq += (double)p->grad[i] * p->grad[i];
    }
    o->last_norm = sqrt(sq);
    if (!isfinite(o->last_norm))
        return SSCMA_FAIL(SSCMA_ERR_NUMERIC, "the gradient norm is %g: a NaN or infinity reached the gradients; no "
                          "parameter was updated", o->last_norm);
    float clip = 1.0f;
    if (o->clip && o->last_norm > o->max_norm) /* torch.nn.utils.clip_grad_norm_: max_norm / (norm + 1e-6) */
        clip = (float)(o->max_norm / (o->last_norm + 1e-6));
    for (int32_t k = 0; k < o->n_params; k++) {
        opt_param *p = &o->params[k];
        if (!trainable(o, p))
            continue;
        if (clip != 1.0f)
            for (int64_t i = 0; i < p->n; i++)
                p->grad[i] *= clip;
        /* scalars in double, as PyTorch's Python-side arithmetic, rounded to float where the kernel takes them */
        double lr = o->bias_lr_set && p->bias ? o->bias_lr : o->lr * p->lr_mult;
        double wd = o->weight_decay * p->decay_mult;
        p->steps++;
        if (o->kind == OPT_SGD) {
            sgd_update(p->value, p->grad, p->buf1, p->n, (float)lr, (float)wd, (float)o->momentum,
                       (float)(1.0 - o->dampening), o->nesterov, p->steps == 1);
        } else {
            double bc1 = 1.0 - pow(o->beta1, (double)p->steps), bc2 = 1.0 - pow(o->beta2, (double)p->steps);
            float decoupled = o->kind == OPT_ADAMW ? (float)(1.0 - lr * wd) : 1.0f;
            adam_update(p->value, p->grad, p->buf1, p->buf2, p->buf3, p->n, o->kind == OPT_ADAM ? (float)wd : 0.0f,
                        decoupled, (float)o->beta1, (float)(1.0 - o->beta1), (float)o->beta2,
                        (float)(1.0 - o->beta2), (float)(lr / bc1), (float)sqrt(bc2), (float)o->eps);
        }
    }
    return SSCMA_OK;
}

sscma_status sscma_optimizer_set_lr(sscma_optimizer *optimizer, double lr)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    if (!(lr >= 0.0) || !isfinite(lr))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "lr %g must be finite and >= 0", lr);
    optimizer->lr = lr;
    return SSCMA_OK;
}

sscma_status sscma_optimizer_lr(const sscma_optimizer *optimizer, double *out)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    SSCMA_REQUIRE_NONNULL(out);
    *out = optimizer->lr;
    return SSCMA_OK;
}

sscma_status sscma_optimizer_set_momentum(sscma_optimizer *optimizer, double momentum)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    if (!(momentum >= 0.0 && momentum < 1.0))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "momentum %g must be in [0, 1)", momentum);
    optimizer->momentum = momentum;
    if (optimizer->kind != OPT_SGD)
        optimizer->beta1 = momentum;
    return SSCMA_OK;
}

sscma_status sscma_optimizer_grad_norm(const sscma_optimizer *optimizer, double *out)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    SSCMA_REQUIRE_NONNULL(out);
    *out = optimizer->last_norm;
    return SSCMA_OK;
}

/* ---- state for resumable checkpoints (train/state.h) ---- */

/* The config's type names, stored in a checkpoint's state.optimizer.type. */
static const char *const kind_names[] = {[OPT_SGD] = "SGD", [OPT_ADAM] = "Adam", [OPT_ADAMW] = "AdamW"};

static const char *param_name(const sscma_optimizer *o, const opt_param *p)
{
    const char *name = "";
    sscma_model_param(o->model, p->index, &name, NULL, NULL, NULL);
    return name;
}

sscma_status sscma_optimizer_export(const sscma_optimizer *optimizer, sscma_ckpt_list *list, json_t *state)
{
    const sscma_optimizer *o = optimizer;
    json_t *steps = json_array();
    sscma_status st = steps != NULL ? SSCMA_OK : sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot save the state");
    char name[320];
    for (int32_t i = 0; st == SSCMA_OK && i < o->n_params; i++) {
        const opt_param *p = &o->params[i];
        float *bufs[3] = {p->buf1, p->buf2, p->buf3};
        for (int b = 0; b < 3 && st == SSCMA_OK; b++)
            if (bufs[b] != NULL) {
                snprintf(name, sizeof name, "optim/%s/buf%d", param_name(o, p), b + 1);
                st = sscma_ckpt_list_add(list, name, SSCMA_DTYPE_F32, 1, &p->n, bufs[b]);
            }
        json_array_append_new(steps, json_integer(p->steps));
    }
    if (st == SSCMA_OK) {
        json_t *obj = json_pack("{s:s,s:f,s:f,s:o}", "type", kind_names[o->kind], "lr", o->lr, "momentum",
                                o->momentum, "steps", steps);
        steps = NULL;
        if (obj == NULL || json_object_set_new(state, "optimizer", obj) != 0)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot save the state");
    }
    json_decref(steps);
    return st;
}

/* Whether the checkpoint holds an Adam buffer ("optim/<param>/buf2": exp_avg_sq, which SGD never has). */
static bool has_adam_buffers(const sscma_ckpt *ck)
{
    size_t i;
    json_t *item;
    json_array_foreach(ck->tensors, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        size_t n = name != NULL ? strlen(name) : 0;
        if (n > 11 && strncmp(name, "optim/", 6) == 0 && strcmp(name + n - 5, "/buf2") == 0)
            return true;
    }
    return false;
}

/*
 * The optimizer type whose state the checkpoint holds must be this one's: state.optimizer.type, or for checkpoints
 * written before it was stored, Adam's buffers or their absence (Adam and AdamW keep the same state).
 */
static sscma_status check_kind(const sscma_optimizer *o, const sscma_ckpt *ck, json_t *obj)
{
    json_t *type = json_object_get(obj, "type");
    const char *mine = kind_names[o->kind];
    if (type != NULL) {
        if (!json_is_string(type))
            return sscma_fail(SSCMA_ERR_FORMAT, ck->path, "state.optimizer.type: expected an optimizer type name");
        if (strcmp(json_string_value(type), mine) != 0)
            return sscma_fail(SSCMA_ERR_FORMAT, ck->path,
                              "state.optimizer: the state of another optimizer (%s); this run's optimizer is %s",
                              json_string_value(type), mine);
        return SSCMA_OK;
    }
    if (o->n_params == 0)
        return SSCMA_OK;
    bool adam = has_adam_buffers(ck);
    if (adam && o->kind == OPT_SGD)
        return sscma_fail(SSCMA_ERR_FORMAT, ck->path,
                          "state.optimizer: the state of another optimizer (Adam or AdamW: it has Adam's buffers); "
                          "this run's optimizer is SGD");
    if (!adam && o->kind != OPT_SGD)
        return sscma_fail(SSCMA_ERR_FORMAT, ck->path,
                          "state.optimizer: the state of another optimizer (SGD: it has no Adam buffers); this run's "
                          "optimizer is %s",
                          mine);
    return SSCMA_OK;
}

sscma_status sscma_optimizer_import(sscma_optimizer *optimizer, const sscma_ckpt *ck, json_t *state)
{
    sscma_optimizer *o = optimizer;
    json_t *obj = json_object_get(state, "optimizer"), *steps = json_object_get(obj, "steps");
    json_t *lr = json_object_get(obj, "lr"), *mom = json_object_get(obj, "momentum");
    if (!json_is_array(steps) || json_array_size(steps) != (size_t)o->n_params || !json_is_number(lr) ||
        !json_is_number(mom))
        return sscma_fail(SSCMA_ERR_FORMAT, ck->path, "the optimizer state is missing or is of another optimizer");
    sscma_status kind_st = check_kind(o, ck, obj);
    if (kind_st != SSCMA_OK)
        return kind_st;
    char name[320];
    for (int pass = 0; pass < 2; pass++)
        for (int32_t i = 0; i < o->n_params; i++) {
            opt_param *p = &o->params[i];
            float *bufs[3] = {p->buf1, p->buf2, p->buf3};
            for (int b = 0; b < 3; b++)
                if (bufs[b] != NULL) {
                    snprintf(name, sizeof name, "optim/%s/buf%d", param_name(o, p), b + 1);
                    sscma_status st = sscma_ckpt_get(ck, name, SSCMA_DTYPE_F32, 1, &p->n, pass ? bufs[b] : NULL,
                                                     (size_t)p->n * sizeof(float));
                    if (st == SSCMA_ERR_NOT_FOUND)
                        return sscma_fail(SSCMA_ERR_FORMAT, ck->path,
                                          "no tensor '%s': the checkpoint is of another optimizer", name);
                    if (st != SSCMA_OK)
                        return st;
                }
            if (pass == 0 && !json_is_integer(json_array_get(steps, (size_t)i)))
                return sscma_fail(SSCMA_ERR_FORMAT, ck->path, "optimizer step count %d is not an integer", (int)i);
            if (pass == 1)
                p->steps = (int64_t)json_integer_value(json_array_get(steps, (size_t)i));
        }
    o->lr = json_number_value(lr);
    o->momentum = json_number_value(mom);
    if (o->kind != OPT_SGD)
        o->beta1 = o->momentum;
    return SSCMA_OK;
}

sscma_status sscma_optimizer_momentum(const sscma_optimizer *optimizer, double *out)
{
    SSCMA_REQUIRE_NONNULL(optimizer);
    SSCMA_REQUIRE_NONNULL(out);
    *out = optimizer->momentum;
    return SSCMA_OK;
}

const sscma_context *sscma_optimizer_context(const sscma_optimizer *optimizer)
{
    return optimizer->ctx;
}

bool sscma_optimizer_has_momentum(const sscma_optimizer *optimizer)
{
    return optimizer->kind != OPT_SGD || optimizer->momentum > 0.0;
}

void sscma_optimizer_set_bias_lr(sscma_optimizer *optimizer, bool set, double lr)
{
    optimizer->bias_lr_set = set;
    optimizer->bias_lr = lr;
}

bool sscma_optimizer_is_sgd(const sscma_optimizer *optimizer)
{
    return optimizer->kind == OPT_SGD;
}
