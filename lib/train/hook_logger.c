/*
 * The logger (default_hooks.logger, mmengine's LoggerHook): every `interval` iterations and at each epoch's last
 * one an INFO line through the context's log callback, and with a work_dir one JSON object per line in
 * work_dir/log.jsonl (mmengine's vis_data/scalars.json) plus the same scalars in a TensorBoard event file; each
 * validation adds a "val" line. Lines are flushed at once, so a crash keeps every line written before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "train/hook.h"
#include "train/hook_config.h"
#include "train/tfevents.h"

typedef struct logger_hook {
    sscma_hook base;
    int64_t interval;
    FILE *log;          /* work_dir/log.jsonl while training */
    sscma_tfevents *tb; /* work_dir/events.out.tfevents.* (the same scalars for TensorBoard) */
    double start;       /* now_s() when this train call started */
} logger_hook;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Opened once per trainer: a second train call (resume, more epochs) appends. */
static sscma_status before_run(sscma_hook *h, sscma_train_loop *loop)
{
    logger_hook *l = (logger_hook *)h;
    l->start = now_s();
    if (loop->work_dir[0] == '\0' || l->log != NULL)
        return SSCMA_OK;
    char path[SSCMA_TRAINER_PATH_CAP];
    snprintf(path, sizeof path, "%s/log.jsonl", loop->work_dir);
    if ((l->log = fopen(path, "a")) == NULL)
        return sscma_fail(SSCMA_ERR_IO, WHERE, "cannot open %s: %s", path, strerror(errno));
    sscma_status st = sscma_tfevents_open(l->base.ctx, loop->work_dir, &l->tb);
    loop->tfevents = l->tb; /* for sscma_trainer_log_image */
    return st;
}

/* The numeric entries of a log line as TensorBoard scalars (mmengine's tags: "loss", "lr", "accuracy/top1"). */
static void log_scalars(logger_hook *l, const sscma_train_loop *loop, json_t *obj, bool val)
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
    if (sscma_tfevents_scalars(l->tb, step, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec, tags, values, n) !=
        SSCMA_OK)
        sscma_logf(loop->ctx, SSCMA_LOG_WARNING, "%s", sscma_last_error());
}

/* Writes one line (and its scalars) and releases obj. */
static void log_line(logger_hook *l, const sscma_train_loop *loop, json_t *obj)
{
    if (l->tb != NULL && obj != NULL)
        log_scalars(l, loop, obj, strcmp(json_string_value(json_object_get(obj, "mode")), "val") == 0);
    if (l->log != NULL && obj != NULL) {
        json_object_set_new(obj, "time", json_real(now_s() - l->start));
        char *text = sscma_json_dumps(l->base.ctx, obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        if (text != NULL && (fprintf(l->log, "%s\n", text) < 0 || fflush(l->log) != 0))
            sscma_logf(loop->ctx, SSCMA_LOG_WARNING, "cannot write to %s/log.jsonl: %s", loop->work_dir,
                       strerror(errno));
        sscma_mfree(l->base.ctx, text);
    }
    json_decref(obj);
}

static void format_eta(double s, char *buf, size_t size)
{
    long long x = (long long)(s + 0.5);
    snprintf(buf, size, "%lld:%02lld:%02lld", x / 3600, x / 60 % 60, x % 60);
}

static sscma_status after_iter(sscma_hook *h, sscma_train_loop *loop, const sscma_hook_iter *it)
{
    logger_hook *l = (logger_hook *)h;
    if (loop->epoch_iter % l->interval != 0 && loop->epoch_iter != loop->iters_per_epoch)
        return SSCMA_OK;
    char eta_text[32];
    format_eta(it->eta_s, eta_text, sizeof eta_text);
    sscma_logf(loop->ctx, SSCMA_LOG_INFO, "Epoch(train) [%lld][%lld/%lld]  lr: %.4e  eta: %s  loss: %.4f  %.1f img/s",
               (long long)loop->epoch + 1, (long long)loop->epoch_iter, (long long)loop->iters_per_epoch, it->lr,
               eta_text, it->loss, it->img_s);
    log_line(l, loop, json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "mode", "train", "epoch",
                                (json_int_t)loop->epoch + 1, "epoch_iter", (json_int_t)loop->epoch_iter, "iter",
                                (json_int_t)loop->iter, "lr", it->lr, "momentum", it->momentum, "loss", it->loss,
                                "img_s", it->img_s));
    return SSCMA_OK;
}

/* Per-class entries (precision/, recall/) stay out of the log. */
static bool logged(const char *name)
{
    return strncmp(name, "precision/", 10) != 0 && strncmp(name, "recall/", 7) != 0;
}

static sscma_status after_epoch(sscma_hook *h, sscma_train_loop *loop, const sscma_metric *val)
{
    if (val == NULL)
        return SSCMA_OK;
    int32_t n = 0;
    sscma_metric_result_count(val, &n);
    char line[512];
    size_t len = (size_t)snprintf(line, sizeof line, "Epoch(val) [%lld]", (long long)loop->epoch);
    for (int32_t i = 0; i < n && len < sizeof line; i++) {
        const char *name;
        double v;
        sscma_metric_result(val, i, &name, &v);
        if (logged(name))
            len += (size_t)snprintf(line + len, sizeof line - len, "  %s: %.4f", name, v);
    }
    sscma_logf(loop->ctx, SSCMA_LOG_INFO, "%s", line);
    json_t *entry = json_pack("{s:s, s:I, s:I}", "mode", "val", "epoch", (json_int_t)loop->epoch, "iter",
                              (json_int_t)loop->iter);
    for (int32_t i = 0; i < n && entry != NULL; i++) {
        const char *name;
        double v;
        sscma_metric_result(val, i, &name, &v);
        if (logged(name))
            json_object_set_new(entry, name, json_real(v));
    }
    log_line((logger_hook *)h, loop, entry);
    return SSCMA_OK;
}

static void destroy(sscma_hook *h)
{
    logger_hook *l = (logger_hook *)h;
    if (l->log != NULL)
        fclose(l->log);
    sscma_tfevents_close(l->tb);
    sscma_mfree(h->ctx, l);
}

static const sscma_hook_ops logger_ops = {
    .name = "LoggerHook", .before_run = before_run, .after_iter = after_iter, .after_epoch = after_epoch,
    .destroy = destroy,
};

typedef struct logger_cfg {
    int64_t interval;
} logger_cfg;

/* mmengine's LoggerHook keys: the others are accepted and not used (the hook writes log.jsonl in the work_dir). */
static const sscma_field logger_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(logger_cfg, interval, 50, 1, INFINITY),
    SSCMA_FIELD_KEY("ignore_last"),
    SSCMA_FIELD_KEY("interval_exp_name"),
    SSCMA_FIELD_KEY("out_dir"),
    SSCMA_FIELD_KEY("out_suffix"),
    SSCMA_FIELD_KEY("keep_local"),
    SSCMA_FIELD_KEY("file_client_args"),
    SSCMA_FIELD_KEY("log_metric_by_epoch"),
    SSCMA_FIELD_KEY("backend_args"),
    SSCMA_FIELD_KEY("priority"),
    SSCMA_FIELD_END,
};

sscma_status sscma_hook_logger_create(const sscma_context *ctx, json_t *node, const char *where, sscma_hook **out)
{
    logger_cfg c;
    sscma_status st = sscma_schema_read(logger_fields, node, where, "default_hooks.logger", &c);
    if (st != SSCMA_OK)
        return st;
    int64_t interval = c.interval;
    logger_hook *l = sscma_calloc(ctx, 1, sizeof *l);
    if (l == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the logger");
    l->base.ops = &logger_ops;
    l->base.ctx = ctx;
    l->interval = interval;
    *out = &l->base;
    return SSCMA_OK;
}
