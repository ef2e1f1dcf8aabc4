/*
 * The trainer (train.h): mmengine's EpochBasedTrainLoop. The loop is forward, backward, update, schedule; the rest
 * runs as hooks (train/hook.h), in this order: the NaN guard, YOLOv5's schedule, EMA, the logger, early stopping,
 * the checkpoint hook, then any hook added with sscma_trainer_add_hook. Early stopping comes before the checkpoint
 * hook so that an epoch's checkpoint holds its counters, YOLOv5's after-epoch rate too.
 *
 * Checkpoint contents (header "state" and tensors; docs/file-formats.md):
 *   model/<name>   the weights to deploy: a hook's copy (EMA) when there is one, otherwise the trained ones
 *   train/<name>   with such a copy, the trained weights (and buffers when EMA's update_buffers averages them)
 *   optim/<name>/bufK  optimizer buffers;  state.optimizer: lr, momentum, step counts
 *   state.scheduler: the schedulers' counters;  state.trainer: epoch, epoch_iter, iter, rng (dropout stream) and the
 *   hooks' keys (ema_steps; best, best_path, kept; early_wait, early_best)
 * Resume mid-epoch replays the loader up to the saved batch (a loader's batches depend only on seed, epoch and
 * sample), so a run resumed anywhere continues with the same batches.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/file.h"
#include "core/config.h"
#include "core/internal.h"
#include "data/data.h"
#include "io/checkpoint.h"
#include "quant/qmodel.h"
#include "sscma/train.h"
#include "train/hook.h"
#include "train/hook_config.h"
#include "train/state.h"
#include "train/tfevents.h"
#include "train/dist.h"
#include "train/dist_grad.h"
#include "graph/model_private.h"

/* The built-in hooks' places in the list (YOLOV5 may be empty); added hooks follow. */
enum { HOOK_NAN_GUARD, HOOK_YOLOV5, HOOK_EMA, HOOK_LOGGER, HOOK_EARLY_STOP, HOOK_CHECKPOINT, N_BUILTIN_HOOKS };

struct sscma_trainer {
    sscma_train_loop loop; /* what hooks see: objects, position, stop */
    sscma_context *ctx;
    sscma_model *model;
    sscma_loader *train, *val;
    sscma_optimizer *opt;
    sscma_scheduler *sched;
    sscma_metric *metric;
    int32_t n_params;
    /* config */
    int64_t val_interval, val_begin;
    char pred_output[64];
    det_nms_config nms; /* test_cfg: CocoMetric's post-processing */
    sscma_hook **hooks; /* N_BUILTIN_HOOKS slots, then added hooks; NULL entries are skipped */
    int32_t n_hooks;
    /* batches */
    int64_t batch[4], val_batch[4];
    int64_t target_per_sample; /* elements of one sample's target */
    sscma_tensor *images, *labels, *val_images, *val_labels;
    int64_t prepared_batch;
    int prepared_mode; /* -1 none, 0 eval, 1 train */
    sscma_train_callback callback;
    void *user_data;
    sscma_val_callback val_callback;
    void *val_user_data;
    /* data parallel (train/dist.h, docs/distributed.md): the job, the gradient sum (train/dist_grad.h), SyncBN's
     * reduction */
    sscma_dist *dist;
    int32_t rank, world;
    sscma_grad_sync *grad_sync;
    sscma_op_sync bn_sync;
    bool val_sharded; /* each rank validates its shard, the metric's state merged (sscma_metric_shardable) */
    /* a model fitted by other means (state.h sscma_fit_ops): everything above unused but ctx and loop */
    const sscma_fit_ops *fit;
    void *fit_user;
};

/* ---- hooks ---- */

#define FOR_EACH_HOOK(t, h, event)                                                                                   \
    for (int32_t k_ = 0; k_ < (t)->n_hooks; k_++)                                                                    \
        for (sscma_hook *h = (t)->hooks[k_]; h != NULL && h->ops->event != NULL; h = NULL)

static sscma_status hooks_before_run(sscma_trainer *t)
{
    sscma_status st;
    FOR_EACH_HOOK(t, h, before_run) if ((st = h->ops->before_run(h, &t->loop)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

static sscma_status hooks_before_epoch(sscma_trainer *t)
{
    sscma_status st;
    FOR_EACH_HOOK(t, h, before_epoch) if ((st = h->ops->before_epoch(h, &t->loop)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

static sscma_status hooks_before_iter(sscma_trainer *t)
{
    sscma_status st;
    FOR_EACH_HOOK(t, h, before_iter) if ((st = h->ops->before_iter(h, &t->loop)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

static sscma_status hooks_before_forward(sscma_trainer *t)
{
    sscma_status st;
    FOR_EACH_HOOK(t, h, before_forward) if ((st = h->ops->before_forward(h, &t->loop)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

static sscma_status hooks_after_forward(sscma_trainer *t, const sscma_hook_iter *it)
{
    sscma_status st;
    FOR_EACH_HOOK(t, h, after_forward) if ((st = h->ops->after_forward(h, &t->loop, it)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

static sscma_status hooks_update_failed(sscma_trainer *t, sscma_status st)
{
    FOR_EACH_HOOK(t, h, update_failed) st = h->ops->update_failed(h, &t->loop, st);
    return st;
}

static sscma_status hooks_after_iter(sscma_trainer *t, const sscma_hook_iter *it)
{
    sscma_status st;
    FOR_EACH_HOOK(t, h, after_iter) if ((st = h->ops->after_iter(h, &t->loop, it)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

static sscma_status hooks_after_epoch(sscma_trainer *t, const sscma_metric *val)
{
    sscma_status st;
    FOR_EACH_HOOK(t, h, after_epoch) if ((st = h->ops->after_epoch(h, &t->loop, val)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

/* Another copy of parameter i that checkpoints deploy (EMA), or NULL. */
static float *hooks_weights(const sscma_trainer *t, int32_t i)
{
    FOR_EACH_HOOK(t, h, weights) {
        float *w = h->ops->weights(h, i);
        if (w != NULL)
            return w;
    }
    return NULL;
}

/* Puts `h` in `slot` (the built-in places) or, with slot -1, after the others; the trainer owns it. */
static sscma_status set_hook(sscma_trainer *t, int32_t slot, sscma_hook *h)
{
    if (slot >= 0) {
        if (t->hooks[slot] != NULL)
            t->hooks[slot]->ops->destroy(t->hooks[slot]);
        t->hooks[slot] = h;
        return SSCMA_OK;
    }
    sscma_hook **hooks = sscma_mrealloc(t->ctx, t->hooks, (size_t)(t->n_hooks + 1) * sizeof *hooks);
    if (hooks == NULL) {
        h->ops->destroy(h);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot add the hook %s", h->ops->name);
    }
    t->hooks = hooks;
    t->hooks[t->n_hooks++] = h;
    return SSCMA_OK;
}

sscma_status sscma_trainer_add_hook(sscma_trainer *trainer, sscma_hook *hook)
{
    sscma_status st = SSCMA_OK;
    if (trainer->fit != NULL) {
        hook->ops->destroy(hook);
        return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "%s is fitted in one pass, without a training loop for hooks",
                          trainer->fit->family);
    }
    if (hook->ops->attach != NULL && (st = hook->ops->attach(hook, &trainer->loop)) != SSCMA_OK) {
        hook->ops->destroy(hook);
        return st;
    }
    return set_hook(trainer, -1, hook);
}

/* ---- configuration ---- */

/* default_hooks: param_scheduler (YOLOv5's), logger, checkpoint; the others mmengine has are accepted. */
static const sscma_field default_hooks_fields[] = {
    SSCMA_FIELD_KEY("checkpoint"),      SSCMA_FIELD_KEY("logger"),       SSCMA_FIELD_KEY("timer"),
    SSCMA_FIELD_KEY("param_scheduler"), SSCMA_FIELD_KEY("sampler_seed"), SSCMA_FIELD_KEY("visualization"),
    SSCMA_FIELD_END,
};

static sscma_status parse_default_hooks(sscma_trainer *t, json_t *hooks, json_t *param_scheduler, const char *where)
{
    char unused;
    sscma_status st = sscma_schema_read(default_hooks_fields, hooks, where, "default_hooks", &unused);
    sscma_hook *h = NULL;
    /* the hooks' own nodes are read with json_object_get: a null checkpoint turns the hook off */
    if (st != SSCMA_OK ||
        (st = sscma_hook_yolov5_create(t->ctx, json_object_get(hooks, "param_scheduler"), where,
                                       "default_hooks.param_scheduler", param_scheduler, &h)) != SSCMA_OK ||
        (st = set_hook(t, HOOK_YOLOV5, h)) != SSCMA_OK ||
        (st = sscma_hook_logger_create(t->ctx, json_object_get(hooks, "logger"), where, &h)) != SSCMA_OK ||
        (st = set_hook(t, HOOK_LOGGER, h)) != SSCMA_OK ||
        (st = sscma_hook_checkpoint_create(t->ctx, json_object_get(hooks, "checkpoint"), where, &h)) != SSCMA_OK)
        return st;
    return set_hook(t, HOOK_CHECKPOINT, h);
}

/* custom_hooks: EMAHook and EarlyStoppingHook (a later entry of a type replaces an earlier one), PipelineSwitchHook. */
static sscma_status parse_custom_hooks(sscma_trainer *t, json_t *hooks, const char *where)
{
    sscma_status st;
    sscma_hook *h = NULL;
    if ((st = sscma_hook_ema_create(t->ctx, NULL, where, "EMAHook", &h)) != SSCMA_OK ||
        (st = set_hook(t, HOOK_EMA, h)) != SSCMA_OK ||
        (st = sscma_hook_early_stop_create(t->ctx, NULL, where, "EarlyStoppingHook", &h)) != SSCMA_OK ||
        (st = set_hook(t, HOOK_EARLY_STOP, h)) != SSCMA_OK)
        return st;
    if (hooks == NULL || json_is_null(hooks))
        return SSCMA_OK;
    if (!json_is_array(hooks))
        return sscma_schema_expected(where, NULL, "custom_hooks", "a list of hooks", hooks);
    size_t i;
    json_t *node;
    json_array_foreach(hooks, i, node)
    {
        char what[64];
        sscma_schema_index(what, sizeof what, "custom_hooks", i);
        json_t *type_value = json_object_get(node, "type");
        const char *type = json_string_value(type_value);
        if (type != NULL && strcmp(type, "EMAHook") == 0) {
            if ((st = sscma_hook_ema_create(t->ctx, node, where, what, &h)) != SSCMA_OK ||
                (st = set_hook(t, HOOK_EMA, h)) != SSCMA_OK)
                return st;
        } else if (type != NULL && strcmp(type, "EarlyStoppingHook") == 0) {
            if ((st = sscma_hook_early_stop_create(t->ctx, node, where, what, &h)) != SSCMA_OK ||
                (st = set_hook(t, HOOK_EARLY_STOP, h)) != SSCMA_OK)
                return st;
        } else if (type != NULL && strcmp(type, "PipelineSwitchHook") == 0) {
            if ((st = sscma_hook_pipeline_switch_create(t->ctx, node, where, what, t->train, &h)) != SSCMA_OK ||
                (st = set_hook(t, -1, h)) != SSCMA_OK)
                return st;
        } else if (!json_is_object(node)) {
            return sscma_schema_expected(where, what, NULL, "an object with a \"type\"", node);
        } else {
            return sscma_schema_expected(where, what, "type", "one of: EMAHook, EarlyStoppingHook, PipelineSwitchHook",
                                         type_value);
        }
    }
    return SSCMA_OK;
}

/* The loop keys, at the top level or (SSCMA's configs) in train_cfg; 0: absent. */
typedef struct loop_cfg {
    int64_t max_epochs, val_interval, val_begin;
} loop_cfg;

typedef struct trainer_cfg {
    loop_cfg top, train_cfg;
    json_t *optim_wrapper, *param_scheduler, *val_evaluator, *default_hooks, *custom_hooks, *test_cfg, *distill;
    const char *work_dir, *pred_output;
} trainer_cfg;

static const sscma_field train_cfg_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("by_epoch"),
    SSCMA_FIELD_RANGE(loop_cfg, max_epochs, 0, 1, 1000000),
    SSCMA_FIELD_RANGE(loop_cfg, val_interval, 0, 1, 1000000),
    SSCMA_FIELD_RANGE(loop_cfg, val_begin, 0, 1, 1000000),
    SSCMA_FIELD_END,
};

static const sscma_field trainer_fields[] = {
    SSCMA_FIELD_AS("max_epochs", trainer_cfg, top.max_epochs, 0, true, 1, 1000000, 0),
    SSCMA_FIELD_AS("val_interval", trainer_cfg, top.val_interval, 0, true, 1, 1000000, 0),
    SSCMA_FIELD_AS("val_begin", trainer_cfg, top.val_begin, 0, true, 1, 1000000, 0),
    SSCMA_FIELD_JSON_AS("optim_wrapper", trainer_cfg, optim_wrapper),
    SSCMA_FIELD_JSON_AS("param_scheduler", trainer_cfg, param_scheduler),
    SSCMA_FIELD_JSON_AS("val_evaluator", trainer_cfg, val_evaluator),
    SSCMA_FIELD_STRING(trainer_cfg, work_dir, NULL),
    SSCMA_FIELD_JSON_AS("default_hooks", trainer_cfg, default_hooks),
    SSCMA_FIELD_JSON_AS("custom_hooks", trainer_cfg, custom_hooks),
    SSCMA_FIELD_STRING(trainer_cfg, pred_output, "logits"),
    SSCMA_FIELD_JSON_AS("test_cfg", trainer_cfg, test_cfg),
    SSCMA_FIELD_JSON_AS("distill", trainer_cfg, distill),
    SSCMA_FIELD_OBJECT(trainer_cfg, train_cfg, train_cfg_fields),
    SSCMA_FIELD_END,
};

/* train_cfg's value or the top level's (two keys for one thing: they may not differ), else `def` (0: required). */
static sscma_status loop_key(const char *where, const char *key, int64_t in_loop, int64_t top, int64_t def,
                             int64_t *out)
{
    if (in_loop != 0 && top != 0 && in_loop != top) /* never pick one silently: the other may be the user's */
        return sscma_schema_fail(where, NULL, key, "%lld, but train_cfg.%s is %lld: both keys set the same thing; "
                                 "remove one (an override of either with --cfg-options wins over the other)",
                                 (long long)top, key, (long long)in_loop);
    *out = in_loop != 0 ? in_loop : top != 0 ? top : def;
    if (*out == 0) /* "the config needs 'max_epochs'" */
        return sscma_schema_expected(where, NULL, key, "an integer 1..1000000 (top level or in train_cfg)", NULL);
    return SSCMA_OK;
}

static sscma_status parse_config(sscma_trainer *t, json_t *cfg, const char *where, json_t **optim, json_t **sched,
                                 json_t **evaluator)
{
    if (!json_is_object(cfg))
        return sscma_schema_expected(where, NULL, NULL, "a JSON object", cfg);
    trainer_cfg c;
    sscma_status st = sscma_schema_read(trainer_fields, cfg, where, NULL, &c);
    if (st != SSCMA_OK ||
        (st = loop_key(where, "max_epochs", c.train_cfg.max_epochs, c.top.max_epochs, 0, &t->loop.max_epochs)) !=
            SSCMA_OK ||
        (st = loop_key(where, "val_interval", c.train_cfg.val_interval, c.top.val_interval, 1, &t->val_interval)) !=
            SSCMA_OK ||
        (st = loop_key(where, "val_begin", c.train_cfg.val_begin, c.top.val_begin, 1, &t->val_begin)) != SSCMA_OK)
        return st;
    if (c.optim_wrapper == NULL)
        return sscma_schema_expected(where, NULL, "optim_wrapper", "an object with an \"optimizer\"", NULL);
    *optim = c.optim_wrapper;
    *sched = c.param_scheduler;
    *evaluator = c.val_evaluator;
    if (c.work_dir != NULL) {
        if (c.work_dir[0] == '\0' || strlen(c.work_dir) >= sizeof t->loop.work_dir)
            return sscma_schema_expected(where, NULL, "work_dir", "a directory path", json_object_get(cfg, "work_dir"));
        snprintf(t->loop.work_dir, sizeof t->loop.work_dir, "%s", c.work_dir);
    }
    if (strlen(c.pred_output) >= sizeof t->pred_output)
        return sscma_schema_expected(where, NULL, "pred_output", "the name of a model output",
                                     json_object_get(cfg, "pred_output"));
    snprintf(t->pred_output, sizeof t->pred_output, "%s", c.pred_output);
    det_nms_config_init(&t->nms);
    if (c.test_cfg != NULL && (st = det_nms_config_read(c.test_cfg, where, "test_cfg", &t->nms)) != SSCMA_OK)
        return st;
    sscma_hook *guard = NULL;
    if ((st = sscma_hook_nan_guard_create(t->ctx, &guard)) != SSCMA_OK ||
        (st = set_hook(t, HOOK_NAN_GUARD, guard)) != SSCMA_OK ||
        (st = parse_default_hooks(t, c.default_hooks, *sched, where)) != SSCMA_OK ||
        (st = parse_custom_hooks(t, c.custom_hooks, where)) != SSCMA_OK)
        return st;
    sscma_hook *distill = NULL; /* the teacher's forward before each step's; its KL term joins the loss at attach */
    if (c.distill != NULL && ((st = sscma_hook_distill_create(t->ctx, c.distill, where, &distill)) != SSCMA_OK ||
                              (st = set_hook(t, -1, distill)) != SSCMA_OK))
        return st;
    return SSCMA_OK;
}

/* ---- data parallel ---- */

static double now_s(void);

/* Sharded validation: the metric's state summed over the ranks. */
static sscma_status merge_sum(void *arg, double *values, int64_t n)
{
    return sscma_dist_sum(arg, "the validation metric's sum", values, n);
}

/* SyncBN (ops/op.h): per-channel sums over every rank's rows. */
static sscma_status sum_over_ranks(void *arg, double *values, int64_t n)
{
    return sscma_dist_sum(arg, "SyncBN's sums", values, n);
}

/* Rank 0's buffers (batch-norm running statistics) to every rank, as DistributedDataParallel's broadcast_buffers:
 * without SyncBN each rank's statistics saw only its shard; evaluation and checkpoints use rank 0's. */
static sscma_status broadcast_buffers(sscma_trainer *t)
{
    sscma_status st = SSCMA_OK;
    for (int32_t i = 0; st == SSCMA_OK && i < t->n_params; i++) {
        uint32_t flags = 0;
        sscma_tensor *value = NULL;
        void *data = NULL;
        size_t bytes = 0;
        sscma_model_param(t->model, i, NULL, &flags, &value, NULL);
        if ((flags & SSCMA_PARAM_BUFFER) == 0)
            continue;
        sscma_tensor_data(value, &data);
        sscma_tensor_size_bytes(value, &bytes);
        st = sscma_dist_broadcast(t->dist, "the batch-norm statistics' broadcast", data, bytes);
    }
    return st;
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
    const bool with_target = labels != NULL && t->target_per_sample > 0; /* 0: the model has no target */
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
    sscma_dtype dt, ldt;
    int32_t rank = 0, lrank = 0;
    int64_t ld[4] = {0, 0, 0, 0}, md[4] = {0, 0, 0, 0};
    if (sscma_model_input(t->model, "target", &target) != SSCMA_OK) {
        /* a model whose loss needs its input alone (the anomaly VAE): the loader's labels are read, not fed */
        sscma_clear_error();
        sscma_loader_target_shape(t->train, &ldt, &lrank, ld);
        t->target_per_sample = 0;
        return sscma_tensor_create(t->ctx, ldt, lrank, ld, &t->labels);
    }
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
    sscma_status st = sscma_trainer_create_from(model, train_loader, val_loader, cfg, WHERE, out);
    json_decref(cfg);
    return st;
}

sscma_status sscma_trainer_create_from(sscma_model *model, sscma_loader *train_loader, sscma_loader *val_loader,
                                       json_t *cfg, const char *where, sscma_trainer **out)
{
    sscma_status loss_st = sscma_model_require_loss(model); /* a model built without a loss */
    if (loss_st != SSCMA_OK)
        return loss_st;
    sscma_trainer *t = sscma_calloc(sscma_model_context(model), 1, sizeof *t);
    sscma_hook **hooks = sscma_calloc(sscma_model_context(model), N_BUILTIN_HOOKS, sizeof *hooks);
    if (t == NULL || hooks == NULL) {
        sscma_mfree(sscma_model_context(model), t), sscma_mfree(sscma_model_context(model), hooks);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a trainer");
    }
    t->hooks = hooks, t->n_hooks = N_BUILTIN_HOOKS;
    t->ctx = sscma_model_context(model);
    sscma_context_retain(t->ctx);
    t->model = model, t->train = train_loader, t->val = val_loader;
    t->loop.ctx = t->ctx, t->loop.trainer = t, t->loop.model = model;
    t->prepared_mode = -1;
    json_t *optim = NULL, *sched = NULL, *evaluator = NULL;
    sscma_status st = sscma_dist_join(t->ctx, &t->dist);
    if (st == SSCMA_OK) {
        t->rank = sscma_dist_rank(t->dist), t->world = sscma_dist_size(t->dist);
        st = parse_config(t, cfg, where, &optim, &sched, &evaluator);
    }
    if (st == SSCMA_OK && t->world > 1) {
        /* each rank reads its shard of the global order; rank 0 alone logs and writes files */
        st = sscma_loader_set_shard(train_loader, t->rank, t->world);
        if (st == SSCMA_OK)
            st = sscma_grad_sync_create(t->ctx, t->dist, &t->grad_sync);
        if (st == SSCMA_OK && t->rank != 0) {
            t->loop.work_dir[0] = '\0';
            set_hook(t, HOOK_LOGGER, NULL);
        }
        sscma_graph *g = sscma_model_graph(model);
        if (st == SSCMA_OK && g->sync_bn) {
            t->bn_sync.sum = sum_over_ranks, t->bn_sync.arg = t->dist;
            g->sync = &t->bn_sync;
        }
    }
    char *text = NULL;
    int64_t iters = 0;
    if (st == SSCMA_OK && (text = sscma_json_dumps(t->ctx, optim, JSON_COMPACT)) == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy the optimizer config");
    if (st == SSCMA_OK)
        st = sscma_optimizer_create(model, text, &t->opt);
    sscma_mfree(t->ctx, text), text = NULL;
    t->loop.opt = t->opt;
    if (st == SSCMA_OK)
        st = sscma_loader_batches(train_loader, &iters);
    if (st == SSCMA_OK && iters < 1)
        st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the training loader has no batch (empty dataset, or drop_last "
                        "with fewer samples than batch_size)");
    t->loop.iters_per_epoch = iters;
    /* the YOLOv5 hook takes the optimizer's configured rate and momentum, before any scheduler sets them */
    if (st == SSCMA_OK && t->hooks[HOOK_YOLOV5] != NULL)
        st = t->hooks[HOOK_YOLOV5]->ops->attach(t->hooks[HOOK_YOLOV5], &t->loop);
    if (st == SSCMA_OK && sched != NULL && !json_is_null(sched)) {
        if ((text = sscma_json_dumps(t->ctx, sched, JSON_COMPACT)) == NULL)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy the scheduler config");
        else
            st = sscma_scheduler_create(t->opt, text, iters, &t->sched);
        sscma_mfree(t->ctx, text), text = NULL;
    }
    if (st == SSCMA_OK) {
        if (evaluator == NULL || json_is_null(evaluator))
            text = sscma_mstrdup(t->ctx, "{\"type\": \"Accuracy\", \"topk\": [1]}");
        else
            text = sscma_json_dumps(t->ctx, evaluator, JSON_COMPACT);
        st = text == NULL ? SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot copy the evaluator config")
                          : sscma_metric_create_in(t->ctx, text, &t->metric);
        sscma_mfree(t->ctx, text), text = NULL;
    }
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
    /* data parallel: each rank validates its shard of the validation set (no padding), when the metric's state
     * merges exactly; otherwise every rank validates the whole set (also when the validation loader drops its last
     * partial batch, which would lose a shard's tail, or is the training loader, whose padded shard it keeps) */
    if (st == SSCMA_OK && val_loader != NULL && t->world > 1 && sscma_metric_shardable(t->metric) &&
        val_loader != train_loader && !sscma_loader_drops_last(val_loader) &&
        (st = sscma_loader_set_eval_shard(val_loader, t->rank, t->world)) == SSCMA_OK)
        t->val_sharded = true;
    for (int32_t k = 0; st == SSCMA_OK && k < t->n_hooks; k++)
        if (k != HOOK_YOLOV5 && t->hooks[k] != NULL && t->hooks[k]->ops->attach != NULL)
            st = t->hooks[k]->ops->attach(t->hooks[k], &t->loop);
    if (st != SSCMA_OK) {
        sscma_trainer_destroy(t);
        return st;
    }
    *out = t;
    return SSCMA_OK;
}

sscma_status sscma_trainer_create_fit(sscma_context *ctx, const sscma_fit_ops *ops, void *user, sscma_trainer **out)
{
    sscma_trainer *t = sscma_calloc(ctx, 1, sizeof *t);
    if (t == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a trainer");
    t->ctx = ctx;
    sscma_context_retain(ctx);
    t->fit = ops, t->fit_user = user;
    *out = t;
    return SSCMA_OK;
}

void sscma_trainer_destroy(sscma_trainer *trainer)
{
    if (trainer == NULL)
        return;
    if (trainer->fit != NULL) {
        const sscma_context *ctx = trainer->ctx;
        sscma_mfree(ctx, trainer);
        sscma_context_release(ctx);
        return;
    }
    sscma_graph *g = sscma_model_graph(trainer->model);
    if (g != NULL && g->sync == &trainer->bn_sync)
        g->sync = NULL;
    if (trainer->world > 1) /* the caller's loaders read the whole order again */
        sscma_loader_set_shard(trainer->train, 0, 1);
    if (trainer->val_sharded)
        sscma_loader_set_shard(trainer->val, 0, 1);
    sscma_dist_leave(trainer->dist);
    sscma_grad_sync_destroy(trainer->grad_sync);
    sscma_scheduler_destroy(trainer->sched);
    sscma_optimizer_destroy(trainer->opt);
    sscma_metric_destroy(trainer->metric);
    sscma_tensor_destroy(trainer->images);
    sscma_tensor_destroy(trainer->labels);
    sscma_tensor_destroy(trainer->val_images);
    sscma_tensor_destroy(trainer->val_labels);
    for (int32_t k = 0; k < trainer->n_hooks; k++)
        if (trainer->hooks[k] != NULL)
            trainer->hooks[k]->ops->destroy(trainer->hooks[k]);
    sscma_mfree(trainer->ctx, trainer->hooks);
    const sscma_context *ctx = trainer->ctx;
    sscma_mfree(ctx, trainer);
    sscma_context_release(ctx);
}

sscma_status sscma_trainer_set_callback(sscma_trainer *trainer, sscma_train_callback callback, void *user_data)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    trainer->callback = callback;
    trainer->user_data = user_data;
    return SSCMA_OK;
}

sscma_status sscma_trainer_set_val_callback(sscma_trainer *trainer, sscma_val_callback callback, void *user_data)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    trainer->val_callback = callback;
    trainer->val_user_data = user_data;
    return SSCMA_OK;
}

sscma_status sscma_trainer_log_image(sscma_trainer *trainer, const char *tag, const void *png, size_t size,
                                     int64_t step)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    SSCMA_REQUIRE_NONNULL(tag);
    SSCMA_REQUIRE_NONNULL(png);
    if (trainer->loop.tfevents == NULL)
        return SSCMA_OK; /* no event file: nothing to add to */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return sscma_tfevents_image(trainer->loop.tfevents, step < 0 ? trainer->loop.epoch : step,
                               (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec, tag, png, size);
}

sscma_status sscma_trainer_position(const sscma_trainer *trainer, int64_t *epochs, int64_t *iters)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    if (epochs != NULL)
        *epochs = trainer->loop.epoch;
    if (iters != NULL)
        *iters = trainer->loop.iter;
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

sscma_status sscma_trainer_save(const sscma_trainer *trainer, const char *path)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    SSCMA_REQUIRE_NONNULL(path);
    const sscma_trainer *t = trainer;
    if (t->fit != NULL)
        return t->fit->save(t->fit_user, path);
    if (t->rank != 0) /* data parallel: every rank holds the same state; rank 0 writes it */
        return SSCMA_OK;
    sscma_ckpt_list list = {.ctx = t->ctx};
    sscma_status st = SSCMA_OK;
    for (int32_t i = 0; st == SSCMA_OK && i < t->n_params; i++) {
        const char *name = NULL;
        sscma_tensor *value = NULL;
        void *data = NULL;
        sscma_model_param(t->model, i, &name, NULL, &value, NULL);
        sscma_tensor_data(value, &data);
        const float *copy = hooks_weights(t, i);
        st = add_param(&list, "model/", name, value, copy != NULL ? (const void *)copy : data);
        if (st == SSCMA_OK && copy != NULL)
            st = add_param(&list, "train/", name, value, data);
    }
    json_t *state = json_object();
    if (st == SSCMA_OK && state == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the checkpoint state");
    if (st == SSCMA_OK)
        st = sscma_optimizer_export(t->opt, &list, state);
    json_t *ts = NULL;
    if (st == SSCMA_OK) {
        char rng[32];
        snprintf(rng, sizeof rng, "%016llx", (unsigned long long)*sscma_model_rng_state(t->model));
        json_t *sched = t->sched != NULL ? sscma_scheduler_export(t->sched) : json_array();
        ts = json_pack("{s:I,s:I,s:I,s:s,s:i}", "epoch", (json_int_t)t->loop.epoch, "epoch_iter",
                       (json_int_t)t->loop.epoch_iter, "iter", (json_int_t)t->loop.iter, "rng", rng, "world_size",
                       (int)t->world);
        if (sched == NULL || ts == NULL || json_object_set_new(state, "scheduler", sched) != 0 ||
            json_object_set(state, "trainer", ts) != 0 ||
            json_object_set_new(state, "family", json_string(sscma_model_family(t->model))) != 0)
            st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the checkpoint state");
    }
    FOR_EACH_HOOK(t, h, state_export) if (st == SSCMA_OK) st = h->ops->state_export(h, &t->loop, &list, ts);
    if (st == SSCMA_OK)
        st = sscma_ckpt_write(t->ctx, path, sscma_model_config_json(t->model), state, list.items, list.count, false);
    json_decref(ts);
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

/* The largest epoch count a config may set (train_cfg.max_epochs), hence the largest epoch a checkpoint may hold. */
#define MAX_EPOCHS 1000000
/* The largest iteration count a checkpoint may hold: 2^36, a million epochs of 68,000 batches. */
#define MAX_ITERS ((int64_t)1 << 36)

/* Whether state.trainer.<key> is an integer in [lo, hi] (`what` says why); the message names the file, the key and
 * the value. */
static sscma_status check_count(json_t *ts, const char *key, int64_t lo, int64_t hi, const char *what,
                                const char *path)
{
    json_t *v = json_object_get(ts, key);
    if (v == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "not a training checkpoint: state.trainer.%s is missing", key);
    char got[64];
    if (json_is_integer(v))
        snprintf(got, sizeof got, "%lld", (long long)json_integer_value(v));
    else
        snprintf(got, sizeof got, "a JSON %s", json_is_string(v) ? "string" : json_is_real(v) ? "real" : "value");
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "state.trainer.%s: expected an integer in [%lld, %lld] (%s), got %s",
                          key, (long long)lo, (long long)hi, what, got);
    return SSCMA_OK;
}

/*
 * Verifies the trainer's own state keys and every hook's, before anything changes. The counters must be ones a run
 * can reach: the epoch at most the largest max_epochs, the position in the epoch at most this loader's batches (a
 * resume replays that many), the iteration count at least that position and at most MAX_ITERS.
 */
static sscma_status check_state(const sscma_trainer *t, const sscma_ckpt *ck, json_t *ts, const char *path)
{
    sscma_status st;
    if ((st = check_count(ts, "epoch", 0, MAX_EPOCHS, "the largest max_epochs", path)) != SSCMA_OK ||
        (st = check_count(ts, "epoch_iter", 0, t->loop.iters_per_epoch, "the loader's batches per epoch", path)) != SSCMA_OK ||
        (st = check_count(ts, "iter", json_integer_value(json_object_get(ts, "epoch_iter")), MAX_ITERS,
                          "from epoch_iter to 2^36 iterations", path)) != SSCMA_OK)
        return st;
    const char *rng = json_string_value(json_object_get(ts, "rng"));
    if (rng == NULL || strlen(rng) != 16)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "not a training checkpoint: state.trainer is incomplete");
    /* a mid-epoch position counts batches of the job that saved it: another number of ranks resumes at an epoch */
    json_t *ws = json_object_get(ts, "world_size"); /* absent: a checkpoint from before data-parallel training */
    int64_t saved_world = ws != NULL ? json_integer_value(ws) : 1;
    if (ws != NULL && (!json_is_integer(ws) || saved_world < 1 || saved_world > (1 << 24)))
        return sscma_fail(SSCMA_ERR_FORMAT, path, "state.trainer.world_size: expected an integer in [1, 16777216]");
    if (saved_world != t->world && json_integer_value(json_object_get(ts, "epoch_iter")) != 0)
        return sscma_fail(SSCMA_ERR_STATE, path, "saved in the middle of an epoch by %lld ranks; this job has %d: "
                          "resume with %lld ranks, or from an epoch checkpoint (epoch_N.ckpt)", (long long)saved_world,
                          (int)t->world, (long long)saved_world);
    FOR_EACH_HOOK(t, h, state_check) if ((st = h->ops->state_check(h, ck, ts, path)) != SSCMA_OK) return st;
    return SSCMA_OK;
}

sscma_status sscma_trainer_resume(sscma_trainer *trainer, const char *path)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    SSCMA_REQUIRE_NONNULL(path);
    sscma_trainer *t = trainer;
    if (t->fit != NULL)
        return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "%s is fitted in one counting pass: there is nothing to resume "
                          "(train again)", t->fit->family);
    sscma_ckpt ck;
    sscma_status st = sscma_ckpt_read(t->ctx, path, &ck);
    if (st != SSCMA_OK)
        return st;
    json_t *state = json_object_get(ck.header, "state"), *ts = json_object_get(state, "trainer");
    /* 1. verify every tensor and the state before changing anything */
    st = check_state(t, &ck, ts, path);
    for (int32_t i = 0; st == SSCMA_OK && i < t->n_params; i++) {
        const char *name = NULL;
        sscma_tensor *value = NULL;
        sscma_model_param(t->model, i, &name, NULL, &value, NULL);
        st = get_param(&ck, "model/", name, value, NULL);
        if (st == SSCMA_OK && hooks_weights(t, i) != NULL)
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
        float *copy = hooks_weights(t, i);
        if (copy != NULL) {
            st = get_param(&ck, "model/", name, value, copy);
            if (st == SSCMA_OK)
                st = get_param(&ck, "train/", name, value, data);
        } else {
            st = get_param(&ck, "model/", name, value, data);
        }
    }
    if (st == SSCMA_OK) {
        *sscma_model_rng_state(t->model) = (uint64_t)strtoull(json_string_value(json_object_get(ts, "rng")), NULL, 16);
        t->loop.epoch = (int64_t)json_integer_value(json_object_get(ts, "epoch"));
        t->loop.epoch_iter = (int64_t)json_integer_value(json_object_get(ts, "epoch_iter"));
        t->loop.iter = (int64_t)json_integer_value(json_object_get(ts, "iter"));
        FOR_EACH_HOOK(t, h, state_import) h->ops->state_import(h, &t->loop, &ck, ts);
        t->loop.stop = false;
        t->prepared_mode = -1;
    }
    sscma_ckpt_close(&ck);
    return st;
}

/* ---- the loop ---- */

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
    if (t->fit != NULL)
        return t->fit->validate(t->fit_user, out);
    if (t->val == NULL)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the trainer has no validation loader");
    sscma_status st = sscma_metric_reset(t->metric);
    if (st == SSCMA_OK)
        st = sscma_loader_start_epoch(t->val, 0);
    /* a sharded validation is a collective: a rank that fails still joins the merge (it says it failed), so the others
     * do not wait for it */
    const bool started = st == SSCMA_OK;
    if (!started && !t->val_sharded)
        return st;
    if (started)
        FOR_EACH_HOOK(t, h, before_val) h->ops->before_val(h, &t->loop);
    int64_t evaluated = 0;
    while (st == SSCMA_OK) {
        int64_t count = 0;
        if ((st = sscma_loader_next(t->val, t->val_images, t->val_labels, &count)) != SSCMA_OK || count == 0)
            break;
        evaluated += count;
        sscma_tensor *pred = NULL;
        if ((st = prepare(t, t->val_batch[0], 0)) != SSCMA_OK ||
            (st = feed(t, t->val_images, NULL, count)) != SSCMA_OK ||
            (st = sscma_model_forward(t->model)) != SSCMA_OK ||
            (st = sscma_model_output(t->model, t->pred_output, &pred)) != SSCMA_OK)
            break;
        st = sscma_metric_wants_detections(t->metric)
                 ? sscma_metric_add_detection_batch(t->ctx, t->metric, &t->nms, pred, t->val_labels, count,
                                                    t->val_batch[1], t->val_batch[2])
                 : sscma_metric_update(t->metric, pred, t->val_labels, count);
        if (st != SSCMA_OK)
            break;
    }
    if (st == SSCMA_OK && sscma_metric_wants_detections(t->metric))
        st = sscma_metric_finish_detections(t->metric);
    /* data parallel: every rank's shard into the whole set's metric, on every rank (a collective: all ranks call) */
    if (t->val_sharded) {
        st = sscma_metric_merge_shards(t->metric, st != SSCMA_OK, st, merge_sum, t->dist, t->rank, t->world);
        if (st == SSCMA_OK)
            sscma_logf(t->ctx, SSCMA_LOG_DEBUG, "data parallel validation: rank %d of %d evaluated %lld samples",
                       (int)t->rank, (int)t->world, (long long)evaluated);
    }
    if (started)
        FOR_EACH_HOOK(t, h, after_val) h->ops->after_val(h, &t->loop);
    if (st != SSCMA_OK)
        return st;
    *out = t->metric;
    return SSCMA_OK;
}

/* Throughput of one train call: images and iterations since it started. */
typedef struct run_clock {
    double start;
    int64_t images, iters;
} run_clock;

/* The loss of a forward pass on the first `count` samples of the training batch (zero_grad first). */
static sscma_status forward(sscma_trainer *t, int64_t count, double *loss)
{
    sscma_tensor *loss_view = NULL;
    float *value = NULL;
    sscma_status st;
    if ((st = prepare(t, count, 1)) != SSCMA_OK || (st = feed(t, t->images, t->labels, count)) != SSCMA_OK ||
        (st = sscma_model_zero_grad(t->model)) != SSCMA_OK || (st = hooks_before_forward(t)) != SSCMA_OK ||
        (st = sscma_model_forward(t->model)) != SSCMA_OK ||
        (st = sscma_model_output(t->model, "loss", &loss_view)) != SSCMA_OK)
        return st;
    sscma_tensor_data(loss_view, (void **)&value);
    *loss = *value;
    return SSCMA_OK;
}

/* One training step, as llm.c's: forward, backward, update, schedule. */
static sscma_status train_step(sscma_trainer *t, sscma_hook_iter *it)
{
    sscma_status st;
    if ((st = forward(t, it->batch, &it->loss)) != SSCMA_OK || (st = hooks_after_forward(t, it)) != SSCMA_OK)
        return st;
    /* data parallel: the gradients' mean over the ranks, summed in buckets while the backward pass goes on */
    if (t->world > 1 && (st = sscma_grad_sync_begin(t->grad_sync, t->model)) != SSCMA_OK)
        return st;
    st = sscma_model_backward(t->model);
    if (t->world > 1) {
        sscma_status sum = sscma_grad_sync_finish(t->grad_sync, t->model, &it->loss);
        st = st != SSCMA_OK ? st : sum;
    }
    if (st != SSCMA_OK)
        return st;
    if ((st = sscma_optimizer_step(t->opt)) != SSCMA_OK)
        return hooks_update_failed(t, st);
    return t->sched != NULL ? sscma_scheduler_step_iter(t->sched) : SSCMA_OK;
}

/* The progress callback after each iteration; nonzero cancels. */
static sscma_status report_progress(sscma_trainer *t, const sscma_hook_iter *it)
{
    const sscma_train_loop *loop = &t->loop;
    if (t->callback == NULL)
        return SSCMA_OK;
    sscma_train_progress p = {sizeof p,   loop->epoch + 1, loop->max_epochs, loop->epoch_iter, loop->iters_per_epoch,
                              loop->iter, it->loss,        it->lr,           it->img_s,        it->eta_s,
                              it->momentum};
    if (t->callback(&p, t->user_data) != 0)
        return sscma_fail(SSCMA_ERR_CANCELLED, WHERE, "cancelled by the callback at epoch %lld, iteration %lld",
                          (long long)loop->epoch + 1, (long long)loop->epoch_iter);
    return SSCMA_OK;
}

static sscma_status train_epoch(sscma_trainer *t, run_clock *clock)
{
    sscma_train_loop *loop = &t->loop;
    sscma_status st;
    /* quantization-aware training: the observer and batch-norm freezing schedule */
    if (sscma_qat_prepared(t->model) && (st = sscma_qat_set_epoch(t->model, loop->epoch)) != SSCMA_OK)
        return st;
    if ((st = sscma_loader_start_epoch(t->train, loop->epoch)) != SSCMA_OK)
        return st;
    /* a mid-epoch resume replays the loader up to the saved batch */
    for (int64_t k = 0; k < loop->epoch_iter; k++) {
        int64_t count = 0;
        if ((st = sscma_loader_next(t->train, t->images, t->labels, &count)) != SSCMA_OK)
            return st;
    }
    if ((st = hooks_before_epoch(t)) != SSCMA_OK)
        return st;
    while (loop->epoch_iter < loop->iters_per_epoch) {
        sscma_hook_iter it = {0};
        if ((st = sscma_loader_next(t->train, t->images, t->labels, &it.batch)) != SSCMA_OK)
            return st;
        if (it.batch == 0)
            break;
        if ((st = hooks_before_iter(t)) != SSCMA_OK)
            return st;
        sscma_optimizer_lr(t->opt, &it.lr);
        sscma_optimizer_momentum(t->opt, &it.momentum);
        if ((st = train_step(t, &it)) != SSCMA_OK)
            return st;
        loop->epoch_iter++, loop->iter++;
        clock->images += it.batch * t->world, clock->iters++; /* the global batch */
        double elapsed = now_s() - clock->start;
        int64_t left = (loop->max_epochs - loop->epoch) * loop->iters_per_epoch - loop->epoch_iter;
        it.img_s = elapsed > 0.0 ? (double)clock->images / elapsed : 0.0;
        it.eta_s = elapsed / (double)clock->iters * (double)left;
        if ((st = hooks_after_iter(t, &it)) != SSCMA_OK || (st = report_progress(t, &it)) != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

/* After an epoch: epoch schedulers, validation when due, the hooks. */
static sscma_status end_epoch(sscma_trainer *t)
{
    sscma_train_loop *loop = &t->loop;
    sscma_status st;
    if (t->sched != NULL && (st = sscma_scheduler_step_epoch(t->sched)) != SSCMA_OK)
        return st;
    loop->epoch++, loop->epoch_iter = 0;
    const sscma_metric *val = NULL;
    bool due = t->val != NULL && loop->epoch >= t->val_begin &&
               (loop->epoch % t->val_interval == 0 || loop->epoch == loop->max_epochs);
    if (t->world > 1 && (st = broadcast_buffers(t)) != SSCMA_OK)
        return st;
    /* data parallel: every rank validates (its shard, or the whole set) and gets the same metric; rank 0's hooks
     * decide on the best checkpoint and early stopping (the other ranks' hooks agree), its stop reaches them all */
    if (due && (st = sscma_trainer_validate(t, &val)) != SSCMA_OK)
        return st;
    if ((st = hooks_after_epoch(t, val)) != SSCMA_OK)
        return st;
    if (val != NULL && t->val_callback != NULL && t->val_callback(t, loop->epoch, val, t->val_user_data) != 0)
        return sscma_fail(SSCMA_ERR_CANCELLED, WHERE, "cancelled by the validation callback after epoch %lld",
                          (long long)loop->epoch);
    if (t->world > 1) {
        unsigned char stop = loop->stop ? 1 : 0;
        if ((st = sscma_dist_broadcast(t->dist, "the stop decision's broadcast", &stop, 1)) != SSCMA_OK)
            return st;
        loop->stop = stop != 0;
    }
    return SSCMA_OK;
}

static sscma_status trainer_train(sscma_trainer *t)
{
    sscma_train_loop *loop = &t->loop;
    sscma_status st = sscma_loader_batches(t->train, &loop->iters_per_epoch);
    if (st != SSCMA_OK)
        return st;
    run_clock clock = {now_s(), 0, 0};
    if (t->grad_sync != NULL)
        sscma_grad_sync_reset_stats(t->grad_sync);
    st = hooks_before_run(t);
    while (st == SSCMA_OK && loop->epoch < loop->max_epochs && !loop->stop) {
        st = train_epoch(t, &clock);
        if (st == SSCMA_OK)
            st = end_epoch(t);
    }
    FOR_EACH_HOOK(t, h, after_run) h->ops->after_run(h, loop, st);
    int64_t sum_values = 0, sum_steps = 0;
    int32_t sum_buckets = 0;
    double sum_s = 0.0;
    if (t->grad_sync != NULL)
        sscma_grad_sync_stats(t->grad_sync, &sum_values, &sum_buckets, &sum_steps, &sum_s);
    if (t->rank == 0 && sum_steps > 0)
        sscma_logf(t->ctx, SSCMA_LOG_INFO, "data parallel: %d ranks, %lld gradient values (%.2f MB as doubles) "
                   "summed per step in %d buckets, %.3f ms per step in the reduction (%lld steps, %.1f s of %.1f s)",
                   (int)t->world, (long long)(sum_values - 1), (double)sum_values * 8.0 / 1e6, (int)sum_buckets,
                   1e3 * sum_s / (double)sum_steps, (long long)sum_steps, sum_s, now_s() - clock.start);
    /* a rank that fails would leave the others waiting in the next reduction: stop the whole job, saying why */
    if (st != SSCMA_OK && t->world > 1)
        sscma_dist_abort(t->dist, sscma_last_error());
    return st;
}

sscma_status sscma_trainer_train(sscma_trainer *trainer)
{
    SSCMA_REQUIRE_NONNULL(trainer);
    if (trainer->fit != NULL) {
        int64_t iters = 0;
        sscma_status st = trainer->fit->train(trainer->fit_user, &iters);
        if (st == SSCMA_OK)
            trainer->loop.epoch = 1, trainer->loop.iter = iters;
        return st;
    }
    unsigned fp = sscma_fp_enter(); /* the loop's own float work (EMA, loss checks) too */
    sscma_status st = trainer_train(trainer);
    sscma_fp_leave(fp);
    return st;
}
