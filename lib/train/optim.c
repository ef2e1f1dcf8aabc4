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

#include "core/config.h"
#include "core/internal.h"
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
    opt_kind kind;
    double lr, momentum, dampening, weight_decay, beta1, beta2, eps, max_norm, norm_type;
    bool nesterov, amsgrad, clip;
    bool bias_lr_set; /* YOLOv5 warm-up: biases use bias_lr instead of lr * lr_mult */
    double bias_lr;
    double last_norm;
    opt_param *params;
    int32_t n_params;
};

#define WHERE "optimizer"

static sscma_status check_keys(json_t *obj, const char *what, const char *const *valid)
{
    char list[400];
    const char *key = sscma_config_unknown_key(obj, valid, list, sizeof list);
    return key == NULL ? SSCMA_OK
                       : sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: unknown key '%s'; valid keys: %s", what, key, list);
}

static sscma_status get_number(json_t *obj, const char *what, const char *key, double def, double lo, double hi,
                               double *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = def;
        return SSCMA_OK;
    }
    if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: '%s' must be a number in %g..%g", what, key, lo, hi);
    *out = json_number_value(v);
    return SSCMA_OK;
}

static void destroy_params(sscma_optimizer *o)
{
    for (int32_t i = 0; o->params != NULL && i < o->n_params; i++) {
        free(o->params[i].buf1);
        free(o->params[i].buf2);
        free(o->params[i].buf3);
    }
    free(o->params);
}

void sscma_optimizer_destroy(sscma_optimizer *optimizer)
{
    if (optimizer == NULL)
        return;
    destroy_params(optimizer);
    free(optimizer);
}

/* mmengine's custom_keys are tried longest first (then alphabetically): returns the matching entry or NULL. */
static json_t *match_custom(json_t *custom, const char *name)
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
    return best_value;
}

static sscma_status parse(sscma_optimizer *o, json_t *cfg, json_t **paramwise)
{
    json_t *opt = json_object_get(cfg, "optimizer");
    *paramwise = NULL;
    sscma_status st;
    if (opt != NULL) {
        static const char *const wrapper_keys[] = {"type", "optimizer", "paramwise_cfg", "clip_grad", NULL};
        if ((st = check_keys(cfg, "optim_wrapper", wrapper_keys)) != SSCMA_OK)
            return st;
        const char *wtype = json_string_value(json_object_get(cfg, "type"));
        if (wtype != NULL && strcmp(wtype, "OptimWrapper") != 0 && strcmp(wtype, "AmpOptimWrapper") != 0)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "optim_wrapper type '%s' is not OptimWrapper", wtype);
        *paramwise = json_object_get(cfg, "paramwise_cfg");
        json_t *clip = json_object_get(cfg, "clip_grad");
        if (clip != NULL && !json_is_null(clip)) {
            static const char *const clip_keys[] = {"max_norm", "norm_type", NULL};
            if (!json_is_object(clip) || (st = check_keys(clip, "clip_grad", clip_keys)) != SSCMA_OK)
                return json_is_object(clip) ? st : sscma_fail(SSCMA_ERR_CONFIG, WHERE, "clip_grad must be an object");
            if ((st = get_number(clip, "clip_grad", "max_norm", 0.0, 1e-12, 1e12, &o->max_norm)) != SSCMA_OK ||
                (st = get_number(clip, "clip_grad", "norm_type", 2.0, 2.0, 2.0, &o->norm_type)) != SSCMA_OK)
                return st;
            if (json_object_get(clip, "max_norm") == NULL)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "clip_grad needs 'max_norm'");
            o->clip = true;
        }
    } else {
        opt = cfg;
    }
    if (!json_is_object(opt))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "'optimizer' must be an object with a \"type\"");
    const char *type = json_string_value(json_object_get(opt, "type"));
    if (type == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the optimizer needs a \"type\": SGD, Adam or AdamW");
    if (strcmp(type, "SGD") == 0) {
        static const char *const keys[] = {"type", "lr", "momentum", "dampening", "weight_decay", "nesterov", NULL};
        o->kind = OPT_SGD;
        if ((st = check_keys(opt, "SGD", keys)) != SSCMA_OK ||
            (st = get_number(opt, "SGD", "lr", 0.01, 0.0, 1e6, &o->lr)) != SSCMA_OK ||
            (st = get_number(opt, "SGD", "momentum", 0.0, 0.0, 0.999999, &o->momentum)) != SSCMA_OK ||
            (st = get_number(opt, "SGD", "dampening", 0.0, 0.0, 1.0, &o->dampening)) != SSCMA_OK ||
            (st = get_number(opt, "SGD", "weight_decay", 0.0, 0.0, 1e3, &o->weight_decay)) != SSCMA_OK)
            return st;
        o->nesterov = json_is_true(json_object_get(opt, "nesterov"));
        if (o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    } else if (strcmp(type, "Adam") == 0 || strcmp(type, "AdamW") == 0) {
        static const char *const keys[] = {"type", "lr", "betas", "eps", "weight_decay", "amsgrad", NULL};
        o->kind = type[4] == 'W' ? OPT_ADAMW : OPT_ADAM;
        if ((st = check_keys(opt, type, keys)) != SSCMA_OK ||
            (st = get_number(opt, type, "lr", 0.001, 0.0, 1e6, &o->lr)) != SSCMA_OK ||
            (st = get_number(opt, type, "eps", 1e-8, 0.0, 1.0, &o->eps)) != SSCMA_OK ||
            (st = get_number(opt, type, "weight_decay", o->kind == OPT_ADAMW ? 0.01 : 0.0, 0.0, 1e3,
                             &o->weight_decay)) != SSCMA_OK)
            return st;
        o->beta1 = 0.9, o->beta2 = 0.999;
        json_t *betas = json_object_get(opt, "betas");
        if (betas != NULL) {
            if (!json_is_array(betas) || json_array_size(betas) != 2 || !json_is_number(json_array_get(betas, 0)) ||
                !json_is_number(json_array_get(betas, 1)))
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: 'betas' must be [beta1, beta2]", type);
            o->beta1 = json_number_value(json_array_get(betas, 0));
            o->beta2 = json_number_value(json_array_get(betas, 1));
            if (!(o->beta1 >= 0.0 && o->beta1 < 1.0 && o->beta2 >= 0.0 && o->beta2 < 1.0))
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: betas must be in [0, 1)", type);
        }
        o->momentum = o->beta1;
        o->amsgrad = json_is_true(json_object_get(opt, "amsgrad"));
    } else {
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "unknown optimizer type '%s'; known: SGD, Adam, AdamW", type);
    }
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
    sscma_optimizer *o = calloc(1, sizeof *o);
    if (o == NULL) {
        json_decref(cfg);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate an optimizer");
    }
    o->model = model;
    json_t *pw = NULL;
    sscma_status st = json_is_object(cfg) ? parse(o, cfg, &pw)
                                          : sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the config must be a JSON object");
    double norm_mult = 1.0, bias_mult = 1.0, bias_lr_mult = 1.0, dw_mult = 1.0;
    json_t *custom = NULL;
    if (st == SSCMA_OK && pw != NULL && !json_is_null(pw)) {
        static const char *const keys[] = {"norm_decay_mult", "bias_decay_mult", "bias_lr_mult", "dwconv_decay_mult",
                                           "custom_keys", NULL};
        if (!json_is_object(pw))
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "paramwise_cfg must be an object");
        if (st == SSCMA_OK)
            st = check_keys(pw, "paramwise_cfg", keys);
        if (st == SSCMA_OK)
            st = get_number(pw, "paramwise_cfg", "norm_decay_mult", 1.0, 0.0, 1e6, &norm_mult);
        if (st == SSCMA_OK)
            st = get_number(pw, "paramwise_cfg", "bias_decay_mult", 1.0, 0.0, 1e6, &bias_mult);
        if (st == SSCMA_OK)
            st = get_number(pw, "paramwise_cfg", "bias_lr_mult", 1.0, 0.0, 1e6, &bias_lr_mult);
        if (st == SSCMA_OK)
            st = get_number(pw, "paramwise_cfg", "dwconv_decay_mult", 1.0, 0.0, 1e6, &dw_mult);
        custom = json_object_get(pw, "custom_keys");
        if (st == SSCMA_OK && custom != NULL && !json_is_object(custom))
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "paramwise_cfg.custom_keys must be an object");
    }
    int32_t count = 0;
    if (st == SSCMA_OK)
        st = sscma_model_param_count(model, &count);
    if (st == SSCMA_OK && (o->params = calloc((size_t)(count > 0 ? count : 1), sizeof *o->params)) == NULL)
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
        json_t *entry = custom != NULL ? match_custom(custom, name) : NULL;
        if (entry != NULL) {
            static const char *const ckeys[] = {"lr_mult", "decay_mult", NULL};
            double lm = 1.0, dm = 1.0;
            if (!json_is_object(entry) || (st = check_keys(entry, "custom_keys entry", ckeys)) != SSCMA_OK ||
                (st = get_number(entry, "custom_keys", "lr_mult", 1.0, 0.0, 1e6, &lm)) != SSCMA_OK ||
                (st = get_number(entry, "custom_keys", "decay_mult", 1.0, 0.0, 1e6, &dm)) != SSCMA_OK) {
                if (st == SSCMA_OK)
                    st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "custom_keys entries must be objects");
                break;
            }
            p->lr_mult = (float)lm, p->decay_mult = (float)dm;
        } else {
            int32_t rank = 0;
            int64_t last = 0;
            sscma_tensor_rank(value, &rank);
            sscma_tensor_dim(value, -1, &last);
            if (flags & SSCMA_PARAM_NORM)
                p->decay_mult = (float)norm_mult;
            else if (flags & SSCMA_PARAM_BIAS)
                p->decay_mult = (float)bias_mult, p->lr_mult = (float)bias_lr_mult;
            else if (rank == 4 && last == 1) /* OHWI with Cin/groups == 1: mmengine's in_channels == groups */
                p->decay_mult = (float)dw_mult;
        }
        size_t bytes = (size_t)(p->n > 0 ? p->n : 1) * sizeof(float);
        bool ok = true;
        if (o->kind == OPT_SGD) {
            if (o->momentum > 0.0)
                ok = (p->buf1 = calloc(1, bytes)) != NULL;
        } else {
            ok = (p->buf1 = calloc(1, bytes)) != NULL && (p->buf2 = calloc(1, bytes)) != NULL &&
                 (!o->amsgrad || (p->buf3 = calloc(1, bytes)) != NULL);
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
        json_t *obj = json_pack("{s:f,s:f,s:o}", "lr", o->lr, "momentum", o->momentum, "steps", steps);
        steps = NULL;
        if (obj == NULL || json_object_set_new(state, "optimizer", obj) != 0)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot save the state");
    }
    json_decref(steps);
    return st;
}

sscma_status sscma_optimizer_import(sscma_optimizer *optimizer, const sscma_ckpt *ck, json_t *state)
{
    sscma_optimizer *o = optimizer;
    json_t *obj = json_object_get(state, "optimizer"), *steps = json_object_get(obj, "steps");
    json_t *lr = json_object_get(obj, "lr"), *mom = json_object_get(obj, "momentum");
    if (!json_is_array(steps) || json_array_size(steps) != (size_t)o->n_params || !json_is_number(lr) ||
        !json_is_number(mom))
        return sscma_fail(SSCMA_ERR_FORMAT, ck->path, "the optimizer state is missing or is of another optimizer");
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
