/*
 * The trainer (train.h): mmengine's EpochBasedTrainLoop with the CheckpointHook, EMAHook (ExpMomentumEMA or
 * ExponentialMovingAverage) and EarlyStoppingHook, re-implemented from their documented behaviour.
 *
 * Checkpoint contents (header "state" and tensors; docs/file-formats.md):
 *   model/<name>   the weights to deploy: the EMA weights when EMA is on, otherwise the trained ones; buffers too
 *   train/<name>   with EMA on, the trained weights (and buffers when update_buffers averages them)
 *   optim/<name>/bufK  optimizer buffers;  state.optimizer: lr, momentum, step counts
 *   state.scheduler: the schedulers' counters;  state.trainer: epoch, epoch_iter, iter, rng (dropout stream), EMA
 *   steps, best score and file, kept checkpoints, early-stopping counters
 * Resume mid-epoch replays the loader up to the saved batch (a loader's batches depend only on seed, epoch and
 * sample), so a run resumed anywhere continues with the same batches.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/file.h"
#include "core/internal.h"
#include "io/checkpoint.h"
#include "quant/qmodel.h"
#include "sscma/train.h"
#include "train/state.h"
#include "train/tfevents.h"

#define WHERE "trainer"
#define PATH_CAP 4096

typedef struct ema_state {
    bool on, exp, update_buffers;
    double momentum, gamma;
    int64_t interval, steps;
    float **avg; /* per model parameter index: the average, or NULL (not averaged) */
} ema_state;

typedef struct early_state {
    bool on, greater, check_finite, has_threshold;
    char monitor[64];
    double min_delta, best, threshold;
    int64_t patience, wait;
} early_state;

struct sscma_trainer {
    sscma_context *ctx;
    sscma_model *model;
    sscma_loader *train, *val;
    sscma_optimizer *opt;
    sscma_scheduler *sched;
    sscma_metric *metric;
    int32_t n_params;
    /* config */
    int64_t max_epochs, val_interval, val_begin, log_interval;
    char work_dir[PATH_CAP / 2];
    bool ckpt_on, save_last, best_greater, best_auto;
    int64_t ckpt_interval, max_keep;
    char save_best[64];
    char pred_output[64];
    ema_state ema;
    early_state early;
    bool yolo; /* default_hooks.param_scheduler: YOLOv5ParamSchedulerHook */
    sscma_yolov5_schedule yolo_s;
    /* state */
    int64_t epoch, epoch_iter, iter;
    bool has_best, stop;
    double best;
    char best_path[PATH_CAP];
    char **kept;
    int32_t n_kept;
    /* batches */
    int64_t batch[4], val_batch[4];
    int64_t target_per_sample; /* elements of one sample's target */
    sscma_tensor *images, *labels, *val_images, *val_labels;
    int64_t prepared_batch;
    int prepared_mode; /* -1 none, 0 eval, 1 train */
    sscma_train_callback callback;
    void *user_data;
    FILE *log;        /* work_dir/log.jsonl while training */
    sscma_tfevents *tb; /* work_dir/events.out.tfevents.* (the same scalars for TensorBoard) */
    double log_start; /* now_s() when this train call started */
};

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

/* ---- configuration ---- */

static sscma_status check_keys(json_t *obj, const char *what, const char *const *valid)
{
    char list[600];
    const char *key = sscma_config_unknown_key(obj, valid, list, sizeof list);
    return key == NULL ? SSCMA_OK
                       : sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: unknown key '%s'; valid keys: %s", what, key, list);
}

static sscma_status get_int(json_t *obj, const char *what, const char *key, int64_t def, int64_t lo, int64_t hi,
                            int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = def;
        return SSCMA_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.%s must be an integer in [%lld, %lld]", what, key,
                          (long long)lo, (long long)hi);
    *out = (int64_t)json_integer_value(v);
    return SSCMA_OK;
}

static sscma_status get_num(json_t *obj, const char *what, const char *key, double def, double lo, double hi,
                            double *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = def;
        return SSCMA_OK;
    }
    if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.%s must be a number in [%g, %g]", what, key, lo, hi);
    *out = json_number_value(v);
    return SSCMA_OK;
}

static sscma_status get_rule(json_t *obj, const char *what, const char *metric, bool *greater)
{
    json_t *v = json_object_get(obj, "rule");
    if (v == NULL || json_is_null(v)) {
        /* mmengine infers the rule from the name: losses and errors go down, everything else up */
        *greater = metric == NULL ||
                   (strstr(metric, "loss") == NULL && strstr(metric, "mse") == NULL && strstr(metric, "NME") == NULL);
        return SSCMA_OK;
    }
    const char *s = json_string_value(v);
    if (s == NULL || (strcmp(s, "greater") != 0 && strcmp(s, "less") != 0))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.rule must be \"greater\" or \"less\"", what);
    *greater = strcmp(s, "greater") == 0;
    return SSCMA_OK;
}

static sscma_status parse_checkpoint_hook(sscma_trainer *t, json_t *hooks)
{
    static const char *const hook_keys[] = {"checkpoint", "logger", "timer", "param_scheduler", "sampler_seed",
                                            "visualization", NULL};
    static const char *const keys[] = {"type", "interval", "max_keep_ckpts", "save_best", "rule", "save_last",
                                       "by_epoch", "out_dir", NULL};
    sscma_status st;
    t->ckpt_on = true, t->save_last = true, t->ckpt_interval = 1, t->max_keep = -1;
    t->log_interval = 50;
    if (hooks == NULL)
        return SSCMA_OK;
    if (!json_is_object(hooks))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "default_hooks must be an object");
    if ((st = check_keys(hooks, "default_hooks", hook_keys)) != SSCMA_OK)
        return st;
    json_t *ps = json_object_get(hooks, "param_scheduler");
    if (ps != NULL && !json_is_null(ps)) {
        static const char *const ykeys[] = {"type", "scheduler_type", "lr_factor", "max_epochs", "warmup_epochs",
                                            "warmup_bias_lr", "warmup_momentum", "warmup_mim_iter", "priority", NULL};
        const char *type = json_string_value(json_object_get(ps, "type"));
        const char *what = "default_hooks.param_scheduler";
        if (type != NULL && strcmp(type, "ParamSchedulerHook") == 0) {
            /* mmengine's default: runs the param_scheduler list, as the trainer always does */
        } else if (type == NULL || strcmp(type, "YOLOv5ParamSchedulerHook") != 0) {
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: unknown type; known: ParamSchedulerHook, "
                              "YOLOv5ParamSchedulerHook", what);
        } else {
            sscma_yolov5_schedule *y = &t->yolo_s;
            int64_t min_iter = 1000;
            const char *kind = json_string_value(json_object_get(ps, "scheduler_type"));
            if ((st = check_keys(ps, what, ykeys)) != SSCMA_OK ||
                (st = get_num(ps, what, "lr_factor", 0.01, 0.0, 1.0, &y->lr_factor)) != SSCMA_OK ||
                (st = get_num(ps, what, "max_epochs", 300.0, 1.0, 1e9, &y->max_epochs)) != SSCMA_OK ||
                (st = get_num(ps, what, "warmup_epochs", 3.0, 0.0, 1e9, &y->warmup_epochs)) != SSCMA_OK ||
                (st = get_num(ps, what, "warmup_bias_lr", 0.1, 0.0, 1e6, &y->warmup_bias_lr)) != SSCMA_OK ||
                (st = get_num(ps, what, "warmup_momentum", 0.8, 0.0, 0.999999, &y->warmup_momentum)) != SSCMA_OK ||
                (st = get_int(ps, what, "warmup_mim_iter", 1000, 0, INT64_MAX, &min_iter)) != SSCMA_OK)
                return st;
            if (kind != NULL && strcmp(kind, "linear") != 0 && strcmp(kind, "cosine") != 0)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.scheduler_type is \"linear\" or \"cosine\"", what);
            y->cosine = kind != NULL && strcmp(kind, "cosine") == 0;
            y->warmup_min_iter = min_iter;
            t->yolo = true;
        }
    }
    json_t *logger = json_object_get(hooks, "logger");
    if (logger != NULL && json_is_object(logger) &&
        (st = get_int(logger, "default_hooks.logger", "interval", 50, 1, INT64_MAX, &t->log_interval)) != SSCMA_OK)
        return st;
    json_t *ck = json_object_get(hooks, "checkpoint");
    if (ck == NULL)
        return SSCMA_OK;
    if (json_is_null(ck)) {
        t->ckpt_on = false;
        return SSCMA_OK;
    }
    const char *what = "default_hooks.checkpoint";
    if (!json_is_object(ck))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s must be an object", what);
    if ((st = check_keys(ck, what, keys)) != SSCMA_OK ||
        (st = get_int(ck, what, "interval", 1, 1, INT64_MAX, &t->ckpt_interval)) != SSCMA_OK ||
        (st = get_int(ck, what, "max_keep_ckpts", -1, -1, INT64_MAX, &t->max_keep)) != SSCMA_OK)
        return st;
    json_t *by_epoch = json_object_get(ck, "by_epoch");
    if (by_epoch != NULL && !json_is_true(by_epoch))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.by_epoch: only epoch checkpoints are supported", what);
    json_t *last = json_object_get(ck, "save_last");
    if (last != NULL) {
        if (!json_is_boolean(last))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.save_last must be true or false", what);
        t->save_last = json_is_true(last);
    }
    json_t *best = json_object_get(ck, "save_best");
    if (best != NULL && !json_is_null(best)) {
        const char *name = json_string_value(best);
        if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof t->save_best)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.save_best must be a metric name or \"auto\"", what);
        t->best_auto = strcmp(name, "auto") == 0;
        snprintf(t->save_best, sizeof t->save_best, "%s", name);
        if ((st = get_rule(ck, what, t->best_auto ? NULL : name, &t->best_greater)) != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

static sscma_status parse_custom_hooks(sscma_trainer *t, json_t *hooks)
{
    if (hooks == NULL || json_is_null(hooks))
        return SSCMA_OK;
    if (!json_is_array(hooks))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "custom_hooks must be a list");
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        char what[64];
        snprintf(what, sizeof what, "custom_hooks[%zu]", i);
        const char *type = json_string_value(json_object_get(h, "type"));
        sscma_status st;
        if (type != NULL && strcmp(type, "EMAHook") == 0) {
            static const char *const keys[] = {"type", "ema_type", "momentum", "gamma", "interval", "update_buffers",
                                               "priority", "strict_load", NULL};
            ema_state *e = &t->ema;
            if ((st = check_keys(h, what, keys)) != SSCMA_OK)
                return st;
            const char *et = json_string_value(json_object_get(h, "ema_type"));
            if (et == NULL)
                et = "ExponentialMovingAverage";
            if (strcmp(et, "ExpMomentumEMA") != 0 && strcmp(et, "ExponentialMovingAverage") != 0)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.ema_type '%s': known: ExpMomentumEMA, "
                                  "ExponentialMovingAverage", what, et);
            e->on = true;
            e->exp = strcmp(et, "ExpMomentumEMA") == 0;
            if ((st = get_num(h, what, "momentum", 0.0002, 0.0, 1.0, &e->momentum)) != SSCMA_OK ||
                (st = get_num(h, what, "gamma", 2000.0, 1e-9, 1e12, &e->gamma)) != SSCMA_OK ||
                (st = get_int(h, what, "interval", 1, 1, INT64_MAX, &e->interval)) != SSCMA_OK)
                return st;
            json_t *ub = json_object_get(h, "update_buffers");
            if (ub != NULL && !json_is_boolean(ub))
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.update_buffers must be true or false", what);
            e->update_buffers = json_is_true(ub);
        } else if (type != NULL && strcmp(type, "EarlyStoppingHook") == 0) {
            static const char *const keys[] = {"type", "monitor", "rule", "min_delta", "patience", "check_finite",
                                               "stopping_threshold", "strict", "priority", NULL};
            early_state *e = &t->early;
            if ((st = check_keys(h, what, keys)) != SSCMA_OK)
                return st;
            const char *monitor = json_string_value(json_object_get(h, "monitor"));
            if (monitor == NULL || monitor[0] == '\0' || strlen(monitor) >= sizeof e->monitor)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s needs a 'monitor' (a metric name)", what);
            snprintf(e->monitor, sizeof e->monitor, "%s", monitor);
            e->on = true;
            e->check_finite = true;
            if ((st = get_rule(h, what, monitor, &e->greater)) != SSCMA_OK ||
                (st = get_num(h, what, "min_delta", 0.1, 0.0, 1e300, &e->min_delta)) != SSCMA_OK ||
                (st = get_int(h, what, "patience", 5, 1, INT64_MAX, &e->patience)) != SSCMA_OK)
                return st;
            json_t *cf = json_object_get(h, "check_finite"), *th = json_object_get(h, "stopping_threshold");
            if (cf != NULL && !json_is_boolean(cf))
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.check_finite must be true or false", what);
            if (cf != NULL)
                e->check_finite = json_is_true(cf);
            if (th != NULL && !json_is_null(th)) {
                if (!json_is_number(th))
                    return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.stopping_threshold must be a number", what);
                e->has_threshold = true, e->threshold = json_number_value(th);
            }
            e->best = e->greater ? -INFINITY : INFINITY;
        } else {
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s: unknown hook type '%s'; known: EMAHook, "
                              "EarlyStoppingHook", what, type ? type : "(missing)");
        }
    }
    return SSCMA_OK;
}

static sscma_status parse_config(sscma_trainer *t, json_t *cfg, json_t **optim, json_t **sched, json_t **evaluator)
{
    static const char *const keys[] = {"max_epochs", "val_interval", "val_begin", "optim_wrapper", "param_scheduler",
                                       "val_evaluator", "work_dir", "default_hooks", "custom_hooks", "pred_output",
                                       "train_cfg", NULL};
    sscma_status st;
    if (!json_is_object(cfg))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the config must be a JSON object");
    /* SSCMA's configs nest the loop settings in train_cfg: {"by_epoch": true, "max_epochs": 8, "val_interval": 1} */
    json_t *loop = json_object_get(cfg, "train_cfg");
    if (loop != NULL) {
        static const char *const lkeys[] = {"type", "by_epoch", "max_epochs", "val_interval", "val_begin", NULL};
        if (!json_is_object(loop))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "train_cfg must be an object");
        if ((st = check_keys(loop, "train_cfg", lkeys)) != SSCMA_OK)
            return st;
    }
    if ((st = check_keys(cfg, "trainer config", keys)) != SSCMA_OK)
        return st;
    json_t *src = loop != NULL && json_object_get(loop, "max_epochs") != NULL ? loop : cfg;
    if (json_object_get(src, "max_epochs") == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the config needs 'max_epochs'");
    if ((st = get_int(src, "config", "max_epochs", 1, 1, 1000000, &t->max_epochs)) != SSCMA_OK)
        return st;
    src = loop != NULL && json_object_get(loop, "val_interval") != NULL ? loop : cfg;
    if ((st = get_int(src, "config", "val_interval", 1, 1, 1000000, &t->val_interval)) != SSCMA_OK)
        return st;
    src = loop != NULL && json_object_get(loop, "val_begin") != NULL ? loop : cfg;
    if ((st = get_int(src, "config", "val_begin", 1, 1, 1000000, &t->val_begin)) != SSCMA_OK)
        return st;
    *optim = json_object_get(cfg, "optim_wrapper");
    if (*optim == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the config needs 'optim_wrapper'");
    *sched = json_object_get(cfg, "param_scheduler");
    *evaluator = json_object_get(cfg, "val_evaluator");
    json_t *wd = json_object_get(cfg, "work_dir");
    if (wd != NULL && !json_is_null(wd)) {
        const char *s = json_string_value(wd);
        if (s == NULL || s[0] == '\0' || strlen(s) >= PATH_CAP / 2)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "work_dir must be a directory path");
        snprintf(t->work_dir, sizeof t->work_dir, "%s", s);
    }
    json_t *po = json_object_get(cfg, "pred_output");
    if (po != NULL && (json_string_value(po) == NULL || strlen(json_string_value(po)) >= sizeof t->pred_output))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "pred_output must be the name of a model output");
    snprintf(t->pred_output, sizeof t->pred_output, "%s", po != NULL ? json_string_value(po) : "logits");
    if ((st = parse_checkpoint_hook(t, json_object_get(cfg, "default_hooks"))) != SSCMA_OK)
        return st;
    return parse_custom_hooks(t, json_object_get(cfg, "custom_hooks"));
}

/* ---- batches ---- */

static sscma_status prepare(sscma_trainer *t, int64_t batch, int mode)
{
    /* the model may have been prepared by someone else (the runner's evaluation, the application) meanwhile */
    int64_t now_batch = 0;
    int now_training = 0;
    sscma_model_prepared_as(t->model, &now_batch, &now_training);
    if (t->prepared_batch == batch && t->prepared_mode == mode && now_batch == batch && now_training == mode)
        return SSCMA_OK;
    sscma_status st = sscma_model_prepare(t->model, batch, mode);
    t->prepared_batch = st == SSCMA_OK ? batch : 0;
    t->prepared_mode = st == SSCMA_OK ? mode : -1;
    return st;
}

/* Copies the first `count` samples of a loader's batch (images, and labels as targets) into the model's inputs. */
static sscma_status feed(sscma_trainer *t, const sscma_tensor *images, const sscma_tensor *labels, int64_t count)
{
    const bool with_target = labels != NULL;
    sscma_tensor *image = NULL, *target = NULL;
    sscma_status st = sscma_model_input(t->model, "image", &image);
    if (st == SSCMA_OK && with_target)
        st = sscma_model_input(t->model, "target", &target);
    if (st != SSCMA_OK)
        return st;
    void *dst = NULL, *src = NULL;
    sscma_tensor_data(image, &dst);
    sscma_tensor_data(images, &src);
    memcpy(dst, src, (size_t)(count * t->batch[1] * t->batch[2] * t->batch[3]) * sizeof(float));
    if (with_target) {
        sscma_tensor_data(target, &dst);
        sscma_tensor_data(labels, &src);
        memcpy(dst, src, (size_t)count * (size_t)t->target_per_sample * 4); /* i32 labels or f32 maps */
    }
    return SSCMA_OK;
}

/* ---- EMA ---- */

static void ema_update(sscma_trainer *t)
{
    ema_state *e = &t->ema;
    double m = 0.0;
    bool copy = e->steps == 0, average = !copy && e->steps % e->interval == 0;
    if (average)
        m = e->exp ? (1.0 - e->momentum) * exp(-(double)(1 + e->steps) / e->gamma) + e->momentum : e->momentum;
    const float mf = (float)m;
    for (int32_t i = 0; i < t->n_params; i++) {
        if (e->avg[i] == NULL || !(copy || average))
            continue;
        sscma_tensor *value = NULL;
        int64_t n = 0;
        float *p = NULL;
        sscma_model_param(t->model, i, NULL, NULL, &value, NULL);
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
}

/* Exchanges the model's weights with the EMA weights (twice restores them exactly). */
static void ema_swap(sscma_trainer *t)
{
    for (int32_t i = 0; i < t->n_params; i++) {
        if (t->ema.avg[i] == NULL)
            continue;
        sscma_tensor *value = NULL;
        int64_t n = 0;
        float *p = NULL, *a = t->ema.avg[i];
        sscma_model_param(t->model, i, NULL, NULL, &value, NULL);
        sscma_tensor_numel(value, &n);
        sscma_tensor_data(value, (void **)&p);
        for (int64_t k = 0; k < n; k++) {
            float x = p[k];
            p[k] = a[k];
            a[k] = x;
        }
    }
}

/* ---- create / destroy ---- */

static sscma_status check_inputs(sscma_trainer *t)
{
    sscma_tensor *image = NULL, *target = NULL;
    sscma_status st = prepare(t, t->batch[0], 1);
    if (st == SSCMA_OK)
        st = sscma_model_input(t->model, "image", &image);
    if (st != SSCMA_OK)
        return st;
    int64_t d[4] = {0, 0, 0, 0};
    for (int32_t i = 1; i < 4; i++)
        sscma_tensor_dim(image, i, &d[i]);
    if (d[1] != t->batch[1] || d[2] != t->batch[2] || d[3] != t->batch[3])
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the loader makes images of %lldx%lldx%lld, the model takes "
                          "%lldx%lldx%lld (H x W x C)", (long long)t->batch[1], (long long)t->batch[2],
                          (long long)t->batch[3], (long long)d[1], (long long)d[2], (long long)d[3]);
    if (sscma_model_input(t->model, "target", &target) != SSCMA_OK)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "the model has no \"target\" input to train");
    sscma_dtype dt, ldt;
    int32_t rank = 0, lrank = 0;
    int64_t ld[4] = {0, 0, 0, 0}, md[4] = {0, 0, 0, 0};
    sscma_tensor_dtype(target, &dt);
    sscma_tensor_rank(target, &rank);
    for (int32_t i = 0; i < rank && i < 4; i++)
        sscma_tensor_dim(target, i, &md[i]);
    sscma_loader_target_shape(t->train, &ldt, &lrank, ld);
    bool same = dt == ldt && rank == lrank;
    for (int32_t i = 1; same && i < rank; i++)
        same = md[i] == ld[i];
    if (!same) {
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the loader makes %s targets of rank %d [%lld, %lld, %lld, %lld], "
                          "the %s model takes %s of rank %d [%lld, %lld, %lld, %lld] (a FOMO model needs the "
                          "loader's \"target\": {\"type\": \"FomoTarget\", \"stride\": 8}, a PFLD model "
                          "{\"type\": \"KeypointTarget\"})", sscma_dtype_name(ldt),
                          (int)lrank, (long long)ld[0], (long long)ld[1], (long long)ld[2], (long long)ld[3],
                          sscma_model_family(t->model), sscma_dtype_name(dt), (int)rank, (long long)md[0],
                          (long long)md[1], (long long)md[2], (long long)md[3]);
    }
    t->target_per_sample = 1;
    for (int32_t i = 1; i < rank; i++)
        t->target_per_sample *= md[i];
    return sscma_tensor_create(t->ctx, ldt, lrank, ld, &t->labels);
}

static sscma_status check_val_loader(sscma_trainer *t)
{
    int64_t *d = t->val_batch;
    sscma_loader_batch_shape(t->val, d);
    if (d[1] != t->batch[1] || d[2] != t->batch[2] || d[3] != t->batch[3])
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the validation loader makes %lldx%lldx%lld images, the training "
                          "loader %lldx%lldx%lld", (long long)d[1], (long long)d[2], (long long)d[3],
                          (long long)t->batch[1], (long long)t->batch[2], (long long)t->batch[3]);
    sscma_dtype dt;
    int32_t rank = 0;
    int64_t td[4], tt[4];
    sscma_loader_target_shape(t->val, &dt, &rank, td);
    sscma_dtype train_dt;
    int32_t train_rank = 0;
    sscma_loader_target_shape(t->train, &train_dt, &train_rank, tt);
    if (dt != train_dt || rank != train_rank || (rank == 4 && (td[1] != tt[1] || td[2] != tt[2] || td[3] != tt[3])))
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the validation loader's targets differ from the training loader's "
                          "(give both the same \"target\")");
    sscma_status st = sscma_tensor_create(t->ctx, SSCMA_DTYPE_F32, 4, d, &t->val_images);
    return st == SSCMA_OK ? sscma_tensor_create(t->ctx, dt, rank, td, &t->val_labels) : st;
}

sscma_status sscma_trainer_create(sscma_model *model, sscma_loader *train_loader, sscma_loader *val_loader,
                                  const char *config_json, sscma_trainer **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(train_loader);
    SSCMA_REQUIRE_NONNULL(config_json);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *cfg = json_loads(config_json, 0, &err);
    if (cfg == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "trainer config: line %d, column %d: %s", err.line, err.column, err.text);
    sscma_trainer *t = calloc(1, sizeof *t);
    if (t == NULL) {
        json_decref(cfg);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a trainer");
    }
    t->ctx = sscma_model_context(model);
    t->model = model, t->train = train_loader, t->val = val_loader;
    t->prepared_mode = -1;
    json_t *optim = NULL, *sched = NULL, *evaluator = NULL;
    sscma_status st = parse_config(t, cfg, &optim, &sched, &evaluator);
    char *text = NULL;
    int64_t iters = 0;
    if (st == SSCMA_OK && (text = json_dumps(optim, JSON_COMPACT)) == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy the optimizer config");
    if (st == SSCMA_OK)
        st = sscma_optimizer_create(model, text, &t->opt);
    free(text), text = NULL;
    if (st == SSCMA_OK)
        st = sscma_loader_batches(train_loader, &iters);
    if (st == SSCMA_OK && iters < 1)
        st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the training loader has no batch (empty dataset, or drop_last "
                        "with fewer samples than batch_size)");
    if (st == SSCMA_OK && t->yolo && sched != NULL && !json_is_null(sched) &&
        (!json_is_array(sched) || json_array_size(sched) > 0))
        st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "param_scheduler and YOLOv5ParamSchedulerHook both set the learning "
                        "rate: keep one");
    if (st == SSCMA_OK && t->yolo) {
        sscma_optimizer_lr(t->opt, &t->yolo_s.base_lr);
        sscma_optimizer_momentum(t->opt, &t->yolo_s.base_momentum);
    }
    if (st == SSCMA_OK && sched != NULL && !json_is_null(sched)) {
        if ((text = json_dumps(sched, JSON_COMPACT)) == NULL)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy the scheduler config");
        else
            st = sscma_scheduler_create(t->opt, text, iters, &t->sched);
        free(text), text = NULL;
    }
    if (st == SSCMA_OK) {
        if (evaluator == NULL || json_is_null(evaluator))
            text = dup_string("{\"type\": \"Accuracy\", \"topk\": [1]}");
        else
            text = json_dumps(evaluator, JSON_COMPACT);
        st = text == NULL ? SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy the evaluator config")
                          : sscma_metric_create(text, &t->metric);
        free(text), text = NULL;
    }
    json_decref(cfg);
    if (st == SSCMA_OK)
        st = sscma_model_param_count(model, &t->n_params);
    if (st == SSCMA_OK)
        st = sscma_loader_batch_shape(train_loader, t->batch);
    if (st == SSCMA_OK)
        st = sscma_tensor_create(t->ctx, SSCMA_DTYPE_F32, 4, t->batch, &t->images);
    if (st == SSCMA_OK)
        st = check_inputs(t);
    if (st == SSCMA_OK && val_loader != NULL)
        st = check_val_loader(t);
    if (st == SSCMA_OK && t->ema.on) {
        if ((t->ema.avg = calloc((size_t)(t->n_params > 0 ? t->n_params : 1), sizeof *t->ema.avg)) == NULL)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the EMA");
        for (int32_t i = 0; st == SSCMA_OK && i < t->n_params; i++) {
            uint32_t flags = 0;
            sscma_tensor *value = NULL;
            int64_t n = 0;
            sscma_model_param(model, i, NULL, &flags, &value, NULL);
            sscma_dtype dt;
            sscma_tensor_dtype(value, &dt);
            if ((flags & SSCMA_PARAM_BUFFER) && !t->ema.update_buffers)
                continue;
            if (dt != SSCMA_DTYPE_F32)
                continue; /* as mmengine: only floating-point state is averaged */
            sscma_tensor_numel(value, &n);
            if ((t->ema.avg[i] = calloc((size_t)(n > 0 ? n : 1), sizeof(float))) == NULL)
                st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the EMA");
        }
    }
    if (st != SSCMA_OK) {
        sscma_trainer_destroy(t);
        return st;
    }
    *out = t;
    return SSCMA_OK;
}

void sscma_trainer_destroy(sscma_trainer *trainer)
{
    if (trainer == NULL)
        return;
    sscma_scheduler_destroy(trainer->sched);
    sscma_optimizer_destroy(trainer->opt);
    sscma_metric_destroy(trainer->metric);
    sscma_tensor_destroy(trainer->images);
    sscma_tensor_destroy(trainer->labels);
    sscma_tensor_destroy(trainer->val_images);
    sscma_tensor_destroy(trainer->val_labels);
    if (trainer->ema.avg != NULL)
        for (int32_t i = 0; i < trainer->n_params; i++)
            free(trainer->ema.avg[i]);
    free(trainer->ema.avg);
    for (int32_t i = 0; i < trainer->n_kept; i++)
        free(trainer->kept[i]);
    free(trainer->kept);
    if (trainer->log != NULL)
        fclose(trainer->log);
    sscma_tfevents_close(trainer->tb);
    free(trainer);
}

sscma_status sscma_trainer_set_callback(sscma_trainer *trainer, sscma_train_callback callback, void *user_data)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    trainer->callback = callback;
    trainer->user_data = user_data;
    return SSCMA_OK;
}

sscma_status sscma_trainer_position(const sscma_trainer *trainer, int64_t *epochs, int64_t *iters)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    if (epochs != NULL)
        *epochs = trainer->epoch;
    if (iters != NULL)
        *iters = trainer->iter;
    return SSCMA_OK;
}

/* ---- checkpoints ---- */

static sscma_status add_param(sscma_ckpt_list *list, const char *prefix, const char *name, const sscma_tensor *v,
                              const void *data)
{
    char full[320];
    int32_t rank = 0;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    sscma_dtype dt;
    sscma_tensor_rank(v, &rank);
    sscma_tensor_dtype(v, &dt);
    for (int32_t d = 0; d < rank; d++)
        sscma_tensor_dim(v, d, &dims[d]);
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return sscma_ckpt_list_add(list, full, dt, rank, dims, data);
}

static json_t *trainer_state(const sscma_trainer *t)
{
    char rng[32];
    snprintf(rng, sizeof rng, "%016llx", (unsigned long long)*sscma_model_rng_state(t->model));
    json_t *kept = json_array();
    for (int32_t i = 0; kept != NULL && i < t->n_kept; i++)
        json_array_append_new(kept, json_string(t->kept[i]));
    return json_pack("{s:I,s:I,s:I,s:s,s:I,s:o,s:s,s:o,s:I,s:o}", "epoch", (json_int_t)t->epoch, "epoch_iter",
                     (json_int_t)t->epoch_iter, "iter", (json_int_t)t->iter, "rng", rng, "ema_steps",
                     (json_int_t)t->ema.steps, "best", t->has_best ? json_real(t->best) : json_null(), "best_path",
                     t->best_path, "kept", kept != NULL ? kept : json_array(), "early_wait", (json_int_t)t->early.wait,
                     "early_best", isfinite(t->early.best) ? json_real(t->early.best) : json_null());
}

sscma_status sscma_trainer_save(const sscma_trainer *trainer, const char *path)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    SSCMA_REQUIRE_NONNULL(path);
    const sscma_trainer *t = trainer;
    sscma_ckpt_list list = {0};
    sscma_status st = SSCMA_OK;
    for (int32_t i = 0; st == SSCMA_OK && i < t->n_params; i++) {
        const char *name = NULL;
        sscma_tensor *value = NULL;
        void *data = NULL;
        sscma_model_param(t->model, i, &name, NULL, &value, NULL);
        sscma_tensor_data(value, &data);
        const float *avg = t->ema.on ? t->ema.avg[i] : NULL;
        st = add_param(&list, "model/", name, value, avg != NULL ? (const void *)avg : data);
        if (st == SSCMA_OK && avg != NULL)
            st = add_param(&list, "train/", name, value, data);
    }
    json_t *state = json_object();
    if (st == SSCMA_OK && state == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the checkpoint state");
    if (st == SSCMA_OK)
        st = sscma_optimizer_export(t->opt, &list, state);
    if (st == SSCMA_OK) {
        json_t *sched = t->sched != NULL ? sscma_scheduler_export(t->sched) : json_array();
        json_t *ts = trainer_state(t);
        if (sched == NULL || ts == NULL || json_object_set_new(state, "scheduler", sched) != 0 ||
            json_object_set_new(state, "trainer", ts) != 0 ||
            json_object_set_new(state, "family", json_string(sscma_model_family(t->model))) != 0)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the checkpoint state");
    }
    if (st == SSCMA_OK)
        st = sscma_ckpt_write(t->ctx, path, sscma_model_config_json(t->model), state, list.items, list.count, false);
    json_decref(state);
    sscma_ckpt_list_free(&list);
    return st;
}

static sscma_status get_param(const sscma_ckpt *ck, const char *prefix, const char *name, const sscma_tensor *v,
                              void *dst)
{
    char full[320];
    int32_t rank = 0;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    sscma_dtype dt;
    size_t bytes = 0;
    sscma_tensor_rank(v, &rank);
    sscma_tensor_dtype(v, &dt);
    sscma_tensor_size_bytes(v, &bytes);
    for (int32_t d = 0; d < rank; d++)
        sscma_tensor_dim(v, d, &dims[d]);
    snprintf(full, sizeof full, "%s%s", prefix, name);
    sscma_status st = sscma_ckpt_get(ck, full, dt, rank, dims, dst, bytes);
    if (st == SSCMA_ERR_NOT_FOUND)
        return sscma_fail(st, ck->path, "no tensor '%s': not a training checkpoint of this model and config", full);
    return st;
}

sscma_status sscma_trainer_resume(sscma_trainer *trainer, const char *path)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    SSCMA_REQUIRE_NONNULL(path);
    sscma_trainer *t = trainer;
    sscma_ckpt ck;
    sscma_status st = sscma_ckpt_read(t->ctx, path, &ck);
    if (st != SSCMA_OK)
        return st;
    json_t *state = json_object_get(ck.header, "state"), *ts = json_object_get(state, "trainer");
    json_t *kept = json_object_get(ts, "kept");
    const char *rng = json_string_value(json_object_get(ts, "rng"));
    const char *best_path = json_string_value(json_object_get(ts, "best_path"));
    static const char *const ints[] = {"epoch", "epoch_iter", "iter", "ema_steps", "early_wait"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        if (!json_is_integer(json_object_get(ts, ints[i])) || json_integer_value(json_object_get(ts, ints[i])) < 0)
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "not a training checkpoint: state.trainer.%s is missing", ints[i]);
    if (st == SSCMA_OK && (rng == NULL || strlen(rng) != 16 || !json_is_array(kept) || best_path == NULL))
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "not a training checkpoint: state.trainer is incomplete");
    /* 1. verify every tensor and the scheduler state before changing anything */
    for (int32_t i = 0; st == SSCMA_OK && i < t->n_params; i++) {
        const char *name = NULL;
        sscma_tensor *value = NULL;
        sscma_model_param(t->model, i, &name, NULL, &value, NULL);
        st = get_param(&ck, "model/", name, value, NULL);
        if (st == SSCMA_OK && t->ema.on && t->ema.avg[i] != NULL)
            st = get_param(&ck, "train/", name, value, NULL);
    }
    json_t *sched_backup = NULL;
    if (st == SSCMA_OK && t->sched != NULL) {
        sched_backup = sscma_scheduler_export(t->sched);
        st = sscma_scheduler_import(t->sched, json_object_get(state, "scheduler"), path);
    } else if (st == SSCMA_OK && json_array_size(json_object_get(state, "scheduler")) != 0) {
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "the checkpoint has schedulers, the config none");
    }
    if (st == SSCMA_OK) {
        st = sscma_optimizer_import(t->opt, &ck, state);
        if (st != SSCMA_OK && sched_backup != NULL)
            sscma_scheduler_import(t->sched, sched_backup, path);
    }
    json_decref(sched_backup);
    /* 2. copy */
    for (int32_t i = 0; st == SSCMA_OK && i < t->n_params; i++) {
        const char *name = NULL;
        sscma_tensor *value = NULL;
        void *data = NULL;
        sscma_model_param(t->model, i, &name, NULL, &value, NULL);
        sscma_tensor_data(value, &data);
        if (t->ema.on && t->ema.avg[i] != NULL) {
            st = get_param(&ck, "model/", name, value, t->ema.avg[i]);
            if (st == SSCMA_OK)
                st = get_param(&ck, "train/", name, value, data);
        } else {
            st = get_param(&ck, "model/", name, value, data);
        }
    }
    if (st == SSCMA_OK) {
        *sscma_model_rng_state(t->model) = (uint64_t)strtoull(rng, NULL, 16);
        t->epoch = (int64_t)json_integer_value(json_object_get(ts, "epoch"));
        t->epoch_iter = (int64_t)json_integer_value(json_object_get(ts, "epoch_iter"));
        t->iter = (int64_t)json_integer_value(json_object_get(ts, "iter"));
        t->ema.steps = (int64_t)json_integer_value(json_object_get(ts, "ema_steps"));
        t->early.wait = (int64_t)json_integer_value(json_object_get(ts, "early_wait"));
        json_t *eb = json_object_get(ts, "early_best"), *best = json_object_get(ts, "best");
        t->early.best = json_is_number(eb) ? json_number_value(eb) : t->early.greater ? -INFINITY : INFINITY;
        t->has_best = json_is_number(best);
        t->best = t->has_best ? json_number_value(best) : 0.0;
        snprintf(t->best_path, sizeof t->best_path, "%s", best_path);
        for (int32_t i = 0; i < t->n_kept; i++)
            free(t->kept[i]);
        free(t->kept);
        t->kept = NULL, t->n_kept = 0;
        size_t n = json_array_size(kept);
        if (n > 0 && (t->kept = calloc(n, sizeof *t->kept)) != NULL)
            for (size_t i = 0; i < n; i++)
                if (json_is_string(json_array_get(kept, i)))
                    t->kept[t->n_kept++] = dup_string(json_string_value(json_array_get(kept, i)));
        t->stop = false;
        t->prepared_mode = -1;
    }
    sscma_ckpt_close(&ck);
    return st;
}

static sscma_status write_last_checkpoint(const sscma_trainer *t, const char *path)
{
    char file[PATH_CAP + 32], text[PATH_CAP + 2];
    snprintf(file, sizeof file, "%s/last_checkpoint", t->work_dir);
    int n = snprintf(text, sizeof text, "%s", path);
    return sscma_write_file_atomic(file, text, (size_t)n);
}

static sscma_status remember(sscma_trainer *t, const char *path)
{
    char **kept = realloc(t->kept, (size_t)(t->n_kept + 1) * sizeof *kept);
    if (kept == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot list checkpoints");
    t->kept = kept;
    if ((t->kept[t->n_kept] = dup_string(path)) == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot list checkpoints");
    t->n_kept++;
    return SSCMA_OK;
}

/* The checkpoint hook at the end of an epoch; `is_best` when this epoch's validation beat the best score. */
static sscma_status checkpoint_hook(sscma_trainer *t, bool is_best)
{
    if (t->work_dir[0] == '\0' || !t->ckpt_on)
        return SSCMA_OK;
    char path[PATH_CAP + 64];
    sscma_status st = SSCMA_OK;
    const char *old_best = NULL;
    char old_best_copy[PATH_CAP];
    if (is_best) {
        snprintf(old_best_copy, sizeof old_best_copy, "%s", t->best_path);
        old_best = old_best_copy;
        char key[64];
        snprintf(key, sizeof key, "%s", t->save_best);
        for (char *c = key; *c; c++)
            if (*c == '/')
                *c = '_';
        snprintf(t->best_path, sizeof t->best_path, "%s/best_%s_epoch_%lld.ckpt", t->work_dir, key,
                 (long long)t->epoch);
    }
    bool periodic = t->epoch % t->ckpt_interval == 0 || (t->save_last && t->epoch == t->max_epochs);
    if (periodic) {
        snprintf(path, sizeof path, "%s/epoch_%lld.ckpt", t->work_dir, (long long)t->epoch);
        if ((st = remember(t, path)) != SSCMA_OK)
            return st;
        /* the saved list leaves out the files to drop; they are removed only after the new file exists */
        int32_t drop = t->max_keep > 0 && t->n_kept > t->max_keep ? t->n_kept - (int32_t)t->max_keep : 0;
        char **dropped = t->kept;
        t->kept += drop, t->n_kept -= drop;
        st = sscma_trainer_save(t, path);
        t->kept -= drop, t->n_kept += drop;
        if (st != SSCMA_OK)
            return st;
        for (int32_t i = 0; i < drop; i++) {
            if (unlink(dropped[i]) != 0 && errno != ENOENT)
                sscma_logf(t->ctx, SSCMA_LOG_WARNING, "cannot remove old checkpoint %s: %s", dropped[i], strerror(errno));
            free(dropped[i]);
        }
        if (drop > 0) {
            memmove(t->kept, t->kept + drop, (size_t)(t->n_kept - drop) * sizeof *t->kept);
            t->n_kept -= drop;
        }
        if ((st = write_last_checkpoint(t, path)) != SSCMA_OK)
            return st;
    }
    if (is_best) {
        if ((st = sscma_trainer_save(t, t->best_path)) != SSCMA_OK)
            return st;
        if (old_best != NULL && old_best[0] != '\0' && strcmp(old_best, t->best_path) != 0 && unlink(old_best) != 0 &&
            errno != ENOENT)
            sscma_logf(t->ctx, SSCMA_LOG_WARNING, "cannot remove old best checkpoint %s: %s", old_best, strerror(errno));
        sscma_logf(t->ctx, SSCMA_LOG_INFO, "The best checkpoint with %.4f %s at %lld epoch is saved to %s", t->best,
                   t->save_best, (long long)t->epoch, t->best_path);
    }
    return SSCMA_OK;
}

/* ---- loops ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sscma_status sscma_trainer_validate(sscma_trainer *trainer, const sscma_metric **out)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    SSCMA_REQUIRE_NONNULL(out);
    sscma_trainer *t = trainer;
    if (t->val == NULL)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the trainer has no validation loader");
    sscma_status st = sscma_metric_reset(t->metric);
    if (st == SSCMA_OK)
        st = sscma_loader_start_epoch(t->val, 0);
    if (st != SSCMA_OK)
        return st;
    if (t->ema.on)
        ema_swap(t);
    for (;;) {
        int64_t count = 0;
        if ((st = sscma_loader_next(t->val, t->val_images, t->val_labels, &count)) != SSCMA_OK || count == 0)
            break;
        sscma_tensor *pred = NULL;
        if ((st = prepare(t, t->val_batch[0], 0)) != SSCMA_OK ||
            (st = feed(t, t->val_images, NULL, count)) != SSCMA_OK ||
            (st = sscma_model_forward(t->model)) != SSCMA_OK ||
            (st = sscma_model_output(t->model, t->pred_output, &pred)) != SSCMA_OK ||
            (st = sscma_metric_update(t->metric, pred, t->val_labels, count)) != SSCMA_OK)
            break;
    }
    if (t->ema.on)
        ema_swap(t);
    if (st != SSCMA_OK)
        return st;
    *out = t->metric;
    return SSCMA_OK;
}

/* Validation at the end of an epoch, the best score and early stopping. */
/*
 * The scalar log (mmengine's vis_data/scalars.json): work_dir/log.jsonl gains one JSON object per logged training
 * iteration and per validation, flushed at once so that a crash keeps every line written before it.
 */
static sscma_status open_log(sscma_trainer *t)
{
    if (t->work_dir[0] == '\0' || t->log != NULL)
        return SSCMA_OK; /* opened once per trainer: a second train call (resume, more epochs) appends */
    char path[PATH_CAP];
    snprintf(path, sizeof path, "%s/log.jsonl", t->work_dir);
    if ((t->log = fopen(path, "a")) == NULL)
        return sscma_fail(SSCMA_ERR_IO, WHERE, "cannot open %s: %s", path, strerror(errno));
    return sscma_tfevents_open(t->work_dir, &t->tb);
}

/* The numeric entries of a log line as TensorBoard scalars (mmengine's tags: "loss", "lr", "accuracy/top1"). */
static void log_scalars(sscma_trainer *t, json_t *obj, bool val)
{
    const char *tags[32];
    float values[32];
    int n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (n < 32 && json_is_number(v) && strcmp(key, "epoch") != 0 && strcmp(key, "epoch_iter") != 0 &&
            strcmp(key, "iter") != 0 && strcmp(key, "time") != 0)
            tags[n] = key, values[n++] = (float)json_number_value(v);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* steps: the iteration for training scalars, the epoch for validation (mmengine's log_metric_by_epoch) */
    int64_t step = (int64_t)json_integer_value(json_object_get(obj, val ? "epoch" : "iter"));
    if (sscma_tfevents_scalars(t->tb, step, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec, tags, values, n) !=
        SSCMA_OK)
        sscma_logf(t->ctx, SSCMA_LOG_WARNING, "%s", sscma_last_error());
}

static void log_line(sscma_trainer *t, json_t *obj)
{
    if (t->tb != NULL && obj != NULL)
        log_scalars(t, obj, strcmp(json_string_value(json_object_get(obj, "mode")), "val") == 0);
    if (t->log != NULL && obj != NULL) {
        json_object_set_new(obj, "time", json_real(now_s() - t->log_start));
        char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        if (text != NULL && (fprintf(t->log, "%s\n", text) < 0 || fflush(t->log) != 0))
            sscma_logf(t->ctx, SSCMA_LOG_WARNING, "cannot write to %s/log.jsonl: %s", t->work_dir, strerror(errno));
        free(text);
    }
    json_decref(obj);
}

static sscma_status end_of_epoch_val(sscma_trainer *t, bool *is_best)
{
    *is_best = false;
    if (t->val == NULL || t->epoch < t->val_begin || (t->epoch % t->val_interval != 0 && t->epoch != t->max_epochs))
        return SSCMA_OK;
    const sscma_metric *m = NULL;
    sscma_status st = sscma_trainer_validate(t, &m);
    if (st != SSCMA_OK)
        return st;
    int32_t n = 0;
    sscma_metric_result_count(m, &n);
    char line[512];
    size_t len = (size_t)snprintf(line, sizeof line, "Epoch(val) [%lld]", (long long)t->epoch);
    for (int32_t i = 0; i < n && len < sizeof line; i++) {
        const char *name;
        double v;
        sscma_metric_result(m, i, &name, &v);
        if (strncmp(name, "precision/", 10) != 0 && strncmp(name, "recall/", 7) != 0)
            len += (size_t)snprintf(line + len, sizeof line - len, "  %s: %.4f", name, v);
    }
    sscma_logf(t->ctx, SSCMA_LOG_INFO, "%s", line);
    json_t *entry = json_pack("{s:s, s:I, s:I}", "mode", "val", "epoch", (json_int_t)t->epoch, "iter",
                              (json_int_t)t->iter);
    for (int32_t i = 0; i < n && entry != NULL; i++) {
        const char *name;
        double v;
        sscma_metric_result(m, i, &name, &v);
        if (strncmp(name, "precision/", 10) != 0 && strncmp(name, "recall/", 7) != 0)
            json_object_set_new(entry, name, json_real(v));
    }
    log_line(t, entry);
    if (t->save_best[0] != '\0' && n > 0) {
        if (t->best_auto) {
            const char *first = NULL;
            sscma_metric_result(m, 0, &first, NULL);
            snprintf(t->save_best, sizeof t->save_best, "%s", first);
            t->best_auto = false;
            t->best_greater = strstr(first, "loss") == NULL && strstr(first, "mse") == NULL &&
                              strstr(first, "NME") == NULL;
        }
        double v = 0.0;
        if ((st = sscma_metric_get(m, t->save_best, &v)) != SSCMA_OK)
            return sscma_fail(st, WHERE, "save_best: the evaluator has no result '%s'", t->save_best);
        if (!t->has_best || (t->best_greater ? v > t->best : v < t->best)) {
            t->best = v, t->has_best = true;
            *is_best = true;
        }
    }
    if (t->early.on) {
        early_state *e = &t->early;
        double v = 0.0;
        if ((st = sscma_metric_get(m, e->monitor, &v)) != SSCMA_OK)
            return sscma_fail(st, WHERE, "EarlyStoppingHook: the evaluator has no result '%s'", e->monitor);
        if (e->check_finite && !isfinite(v)) {
            t->stop = true;
            sscma_logf(t->ctx, SSCMA_LOG_WARNING, "Early stopping: %s is not finite", e->monitor);
        } else if (e->has_threshold && (e->greater ? v >= e->threshold : v <= e->threshold)) {
            t->stop = true;
            sscma_logf(t->ctx, SSCMA_LOG_INFO, "Early stopping: %s reached the stopping threshold", e->monitor);
        } else if (e->greater ? v - e->min_delta > e->best : v + e->min_delta < e->best) {
            e->best = v, e->wait = 0;
        } else if (++e->wait >= e->patience) {
            t->stop = true;
            sscma_logf(t->ctx, SSCMA_LOG_INFO, "Early stopping: %s did not improve for %lld validations (best %.4f)",
                       e->monitor, (long long)e->patience, e->best);
        }
    }
    return SSCMA_OK;
}

static void format_eta(double s, char *buf, size_t size)
{
    long long x = (long long)(s + 0.5);
    snprintf(buf, size, "%lld:%02lld:%02lld", x / 3600, x / 60 % 60, x % 60);
}

static sscma_status trainer_train(sscma_trainer *trainer);

sscma_status sscma_trainer_train(sscma_trainer *trainer)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    unsigned fp = sscma_fp_enter(); /* the loop's own float work (EMA, loss checks) too */
    sscma_status st = trainer_train(trainer);
    sscma_fp_leave(fp);
    return st;
}

static sscma_status trainer_train(sscma_trainer *trainer)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    sscma_trainer *t = trainer;
    int64_t per_epoch = 0;
    sscma_status st = sscma_loader_batches(t->train, &per_epoch);
    if (st != SSCMA_OK)
        return st;
    const double start = now_s();
    int64_t images_done = 0, iters_done = 0;
    t->log_start = start;
    if ((st = open_log(t)) != SSCMA_OK)
        return st;
    while (st == SSCMA_OK && t->epoch < t->max_epochs && !t->stop) {
        /* quantization-aware training: the observer and batch-norm freezing schedule */
        if (sscma_qat_prepared(t->model) && (st = sscma_qat_set_epoch(t->model, t->epoch)) != SSCMA_OK)
            break;
        if ((st = sscma_loader_start_epoch(t->train, t->epoch)) != SSCMA_OK)
            break;
        /* a mid-epoch resume replays the loader up to the saved batch */
        for (int64_t k = 0; k < t->epoch_iter && st == SSCMA_OK; k++) {
            int64_t count = 0;
            st = sscma_loader_next(t->train, t->images, t->labels, &count);
        }
        while (st == SSCMA_OK && t->epoch_iter < per_epoch) {
            int64_t count = 0;
            if ((st = sscma_loader_next(t->train, t->images, t->labels, &count)) != SSCMA_OK)
                break;
            if (count == 0)
                break;
            sscma_tensor *loss_view = NULL;
            float *loss = NULL;
            double lr = 0.0, momentum = 0.0;
            if (t->yolo) {
                double bias_lr = 0.0, m = 0.0;
                bool warm = sscma_yolov5_warmup(&t->yolo_s, t->iter, t->epoch, per_epoch, &lr, &bias_lr, &m);
                if (warm) {
                    sscma_optimizer_set_lr(t->opt, lr);
                    if (sscma_optimizer_is_sgd(t->opt) && t->yolo_s.base_momentum > 0.0)
                        sscma_optimizer_set_momentum(t->opt, m); /* Adam has betas, not a momentum: as mmyolo */
                }
                sscma_optimizer_set_bias_lr(t->opt, warm, bias_lr);
            }
            sscma_optimizer_lr(t->opt, &lr);
            sscma_optimizer_momentum(t->opt, &momentum);
            if ((st = prepare(t, count, 1)) != SSCMA_OK || (st = feed(t, t->images, t->labels, count)) != SSCMA_OK ||
                (st = sscma_model_zero_grad(t->model)) != SSCMA_OK ||
                (st = sscma_model_forward(t->model)) != SSCMA_OK ||
                (st = sscma_model_output(t->model, "loss", &loss_view)) != SSCMA_OK)
                break;
            sscma_tensor_data(loss_view, (void **)&loss);
            if (!isfinite(*loss)) {
                st = sscma_fail(SSCMA_ERR_NUMERIC, WHERE, "epoch %lld, iteration %lld: the loss is %g; training "
                                "stopped, the last good checkpoint is %s", (long long)t->epoch + 1,
                                (long long)t->epoch_iter + 1, (double)*loss,
                                t->n_kept ? t->kept[t->n_kept - 1] : "(none written)");
                break;
            }
            const double loss_value = *loss;
            if ((st = sscma_model_backward(t->model)) != SSCMA_OK)
                break;
            if ((st = sscma_optimizer_step(t->opt)) != SSCMA_OK) {
                if (st == SSCMA_ERR_NUMERIC)
                    st = sscma_fail(SSCMA_ERR_NUMERIC, WHERE, "epoch %lld, iteration %lld: the gradients are not "
                                    "finite; training stopped, the last good checkpoint is %s",
                                    (long long)t->epoch + 1, (long long)t->epoch_iter + 1,
                                    t->n_kept ? t->kept[t->n_kept - 1] : "(none written)");
                break;
            }
            if (t->sched != NULL && (st = sscma_scheduler_step_iter(t->sched)) != SSCMA_OK)
                break;
            if (t->ema.on)
                ema_update(t);
            t->epoch_iter++, t->iter++;
            images_done += count, iters_done++;
            double elapsed = now_s() - start;
            double ips = elapsed > 0.0 ? (double)images_done / elapsed : 0.0;
            int64_t left = (t->max_epochs - t->epoch) * per_epoch - t->epoch_iter;
            double eta = iters_done > 0 ? elapsed / (double)iters_done * (double)left : 0.0;
            if (t->epoch_iter % t->log_interval == 0 || t->epoch_iter == per_epoch) {
                char eta_text[32];
                format_eta(eta, eta_text, sizeof eta_text);
                sscma_logf(t->ctx, SSCMA_LOG_INFO, "Epoch(train) [%lld][%lld/%lld]  lr: %.4e  eta: %s  loss: %.4f  "
                           "%.1f img/s", (long long)t->epoch + 1, (long long)t->epoch_iter, (long long)per_epoch, lr,
                           eta_text, loss_value, ips);
                log_line(t, json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "mode", "train", "epoch",
                                      (json_int_t)t->epoch + 1, "epoch_iter", (json_int_t)t->epoch_iter, "iter",
                                      (json_int_t)t->iter, "lr", lr, "momentum", momentum, "loss", loss_value,
                                      "img_s", ips));
            }
            if (t->callback != NULL) {
                sscma_train_progress p = {sizeof p, t->epoch + 1, t->max_epochs, t->epoch_iter, per_epoch, t->iter,
                                          loss_value, lr,           ips,          eta,          momentum};
                if (t->callback(&p, t->user_data) != 0) {
                    st = SSCMA_FAIL(SSCMA_ERR_CANCELLED, "cancelled by the callback at epoch %lld, iteration %lld",
                                    (long long)t->epoch + 1, (long long)t->epoch_iter);
                    break;
                }
            }
        }
        if (st != SSCMA_OK)
            break;
        if (t->sched != NULL && (st = sscma_scheduler_step_epoch(t->sched)) != SSCMA_OK)
            break;
        if (t->yolo) /* mmyolo's after_train_epoch, with the 0-based index of the epoch just finished */
            sscma_optimizer_set_lr(t->opt, t->yolo_s.base_lr * sscma_yolov5_factor(&t->yolo_s, t->epoch));
        t->epoch++, t->epoch_iter = 0;
        bool is_best = false;
        if ((st = end_of_epoch_val(t, &is_best)) != SSCMA_OK)
            break;
        st = checkpoint_hook(t, is_best);
    }
    return st;
}
