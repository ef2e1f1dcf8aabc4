/*
 * mmengine's CheckpointHook (default_hooks.checkpoint; null turns it off): after each epoch, the best score
 * (save_best, with its rule) and, with a work_dir, epoch_N.ckpt every `interval` epochs (and the last with
 * save_last), the newest `max_keep_ckpts` of them kept, last_checkpoint naming the newest, and
 * best_<name>_epoch_N.ckpt for a new best (the previous best removed). Its kept list and best score travel in
 * checkpoints.
 *
 * What it removes is only what it wrote: a file named like its own checkpoints (epoch_N.ckpt, best_*_epoch_N.ckpt),
 * a regular file, in this run's work dir by real path. The kept list and best path read from a checkpoint are data
 * about another moment of the run, so on resume the entries that fail that test (another work dir, a crafted path)
 * are dropped from the list with a message, never removed. At the start of a run it removes the temporaries its
 * atomic writes left in the work dir when a process was killed (*.ckpt.tmpXXXXXX, last_checkpoint.tmpXXXXXX).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "train/hook.h"
#include "train/hook_config.h"

typedef struct checkpoint_hook {
    sscma_hook base;
    /* config */
    bool on, save_last, best_greater, best_auto;
    int64_t interval, max_keep;
    char save_best[64];
    /* state */
    bool has_best;
    double best;
    char best_path[SSCMA_TRAINER_PATH_CAP];
    char **kept;
    int32_t n_kept;
} checkpoint_hook;

/* "epoch_<digits>.ckpt" or "best_<key>_epoch_<digits>.ckpt": the names this hook gives its files. */
static bool is_own_checkpoint_name(const char *name)
{
    const char *epoch = strncmp(name, "epoch_", 6) == 0 ? name : NULL;
    if (epoch == NULL && strncmp(name, "best_", 5) == 0)
        for (const char *p = strstr(name, "_epoch_"); p != NULL; p = strstr(p + 1, "_epoch_"))
            epoch = p + 1;
    if (epoch == NULL)
        return false;
    const char *digits = epoch + 6, *end = digits;
    while (*end >= '0' && *end <= '9')
        end++;
    return end > digits && strcmp(end, ".ckpt") == 0;
}

/* Whether `path` is one of this hook's files in this run's work dir, and so may be removed. */
static bool may_remove(const sscma_train_loop *loop, const char *path)
{
    const char *slash = strrchr(path, '/');
    return is_own_checkpoint_name(slash != NULL ? slash + 1 : path) && sscma_file_in_dir(path, loop->work_dir);
}

/* Removes `path` when it is this hook's own file; anything else is left alone with a message. */
static void remove_own(const sscma_train_loop *loop, const char *path, const char *what)
{
    if (!may_remove(loop, path)) {
        if (access(path, F_OK) == 0)
            sscma_logf(loop->ctx, SSCMA_LOG_WARNING, "not removing %s %s: not a checkpoint of this run's work dir %s",
                       what, path, loop->work_dir);
        return;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        sscma_logf(loop->ctx, SSCMA_LOG_WARNING, "cannot remove %s %s: %s", what, path, strerror(errno));
}

/* Temporaries of the atomic writes this hook and the trainer make in the work dir. */
static bool is_own_temporary_base(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "last_checkpoint") == 0 || (n > 5 && strcmp(name + n - 5, ".ckpt") == 0);
}

static sscma_status before_run(sscma_hook *h, sscma_train_loop *loop)
{
    const checkpoint_hook *c = (const checkpoint_hook *)h;
    if (c->on && loop->work_dir[0] != '\0') {
        int removed = sscma_remove_stale_temporaries(loop->work_dir, is_own_temporary_base);
        if (removed > 0)
            sscma_logf(loop->ctx, SSCMA_LOG_INFO, "removed %d temporary file(s) an interrupted run left in %s",
                       removed, loop->work_dir);
    }
    return SSCMA_OK;
}

/* The NaN guard names the newest epoch checkpoint as the last good one. */
static void publish_last(const checkpoint_hook *c, sscma_train_loop *loop)
{
    snprintf(loop->last_checkpoint, sizeof loop->last_checkpoint, "%s",
             c->n_kept > 0 && c->kept[c->n_kept - 1] != NULL ? c->kept[c->n_kept - 1] : "");
}

static sscma_status remember(checkpoint_hook *c, const char *path)
{
    char **kept = sscma_mrealloc(c->base.ctx, c->kept, (size_t)(c->n_kept + 1) * sizeof *kept);
    if (kept == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot list checkpoints");
    c->kept = kept;
    if ((c->kept[c->n_kept] = sscma_mstrdup(c->base.ctx, path)) == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot list checkpoints");
    c->n_kept++;
    return SSCMA_OK;
}

static void forget_all(checkpoint_hook *c)
{
    for (int32_t i = 0; i < c->n_kept; i++)
        sscma_mfree(c->base.ctx, c->kept[i]);
    sscma_mfree(c->base.ctx, c->kept);
    c->kept = NULL, c->n_kept = 0;
}

static sscma_status write_last_checkpoint(const sscma_train_loop *loop, const char *path)
{
    char file[SSCMA_TRAINER_PATH_CAP + 32], text[SSCMA_TRAINER_PATH_CAP + 2];
    snprintf(file, sizeof file, "%s/last_checkpoint", loop->work_dir);
    int n = snprintf(text, sizeof text, "%s", path);
    return sscma_write_file_atomic(file, text, (size_t)n);
}

/* Whether this validation beats the best score (save_best "auto" settles on the evaluator's first result). */
static sscma_status update_best(checkpoint_hook *c, const sscma_metric *val, bool *is_best)
{
    int32_t n = 0;
    sscma_metric_result_count(val, &n);
    if (c->save_best[0] == '\0' || n == 0)
        return SSCMA_OK;
    if (c->best_auto) {
        const char *first = NULL;
        sscma_metric_result(val, 0, &first, NULL);
        snprintf(c->save_best, sizeof c->save_best, "%s", first);
        c->best_auto = false;
        c->best_greater = greater_is_better(first);
    }
    double v = 0.0;
    sscma_status st = sscma_metric_get(val, c->save_best, &v);
    if (st != SSCMA_OK)
        return sscma_fail(st, WHERE, "save_best: the evaluator has no result '%s'", c->save_best);
    if (!c->has_best || (c->best_greater ? v > c->best : v < c->best)) {
        c->best = v, c->has_best = true;
        *is_best = true;
    }
    return SSCMA_OK;
}

/* epoch_N.ckpt; the files beyond max_keep_ckpts are removed only after the new one exists. */
static sscma_status save_periodic(checkpoint_hook *c, sscma_train_loop *loop)
{
    char path[SSCMA_TRAINER_PATH_CAP + 64];
    snprintf(path, sizeof path, "%s/epoch_%lld.ckpt", loop->work_dir, (long long)loop->epoch);
    sscma_status st = remember(c, path);
    if (st != SSCMA_OK)
        return st;
    publish_last(c, loop);
    /* the saved list leaves out the files to drop */
    int32_t drop = c->max_keep > 0 && c->n_kept > c->max_keep ? c->n_kept - (int32_t)c->max_keep : 0;
    char **dropped = c->kept;
    c->kept += drop, c->n_kept -= drop;
    st = sscma_trainer_save(loop->trainer, path);
    c->kept -= drop, c->n_kept += drop;
    if (st != SSCMA_OK)
        return st;
    for (int32_t i = 0; i < drop; i++) {
        remove_own(loop, dropped[i], "old checkpoint");
        sscma_mfree(c->base.ctx, dropped[i]);
    }
    if (drop > 0) {
        memmove(c->kept, c->kept + drop, (size_t)(c->n_kept - drop) * sizeof *c->kept);
        c->n_kept -= drop;
    }
    return write_last_checkpoint(loop, path);
}

static sscma_status after_epoch(sscma_hook *h, sscma_train_loop *loop, const sscma_metric *val)
{
    checkpoint_hook *c = (checkpoint_hook *)h;
    bool is_best = false;
    sscma_status st = val != NULL ? update_best(c, val, &is_best) : SSCMA_OK;
    if (st != SSCMA_OK || loop->work_dir[0] == '\0' || !c->on)
        return st;
    char old_best[SSCMA_TRAINER_PATH_CAP] = "";
    if (is_best) {
        snprintf(old_best, sizeof old_best, "%s", c->best_path);
        char key[64];
        snprintf(key, sizeof key, "%s", c->save_best);
        for (char *k = key; *k; k++)
            if (*k == '/')
                *k = '_';
        snprintf(c->best_path, sizeof c->best_path, "%s/best_%s_epoch_%lld.ckpt", loop->work_dir, key,
                 (long long)loop->epoch);
    }
    if ((loop->epoch % c->interval == 0 || (c->save_last && loop->epoch == loop->max_epochs)) &&
        (st = save_periodic(c, loop)) != SSCMA_OK)
        return st;
    if (is_best) {
        if ((st = sscma_trainer_save(loop->trainer, c->best_path)) != SSCMA_OK)
            return st;
        if (old_best[0] != '\0' && strcmp(old_best, c->best_path) != 0)
            remove_own(loop, old_best, "old best checkpoint");
        sscma_logf(loop->ctx, SSCMA_LOG_INFO, "The best checkpoint with %.4f %s at %lld epoch is saved to %s",
                   c->best, c->save_best, (long long)loop->epoch, c->best_path);
    }
    return SSCMA_OK;
}

static sscma_status state_export(const sscma_hook *h, const sscma_train_loop *loop, sscma_ckpt_list *list,
                                 json_t *state)
{
    (void)loop, (void)list;
    const checkpoint_hook *c = (const checkpoint_hook *)h;
    json_t *kept = json_array();
    for (int32_t i = 0; kept != NULL && i < c->n_kept; i++)
        json_array_append_new(kept, json_string(c->kept[i]));
    if (kept == NULL || json_object_set_new(state, "kept", kept) != 0 ||
        json_object_set_new(state, "best", c->has_best ? json_real(c->best) : json_null()) != 0 ||
        json_object_set_new(state, "best_path", json_string(c->best_path)) != 0)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot build the checkpoint state");
    return SSCMA_OK;
}

static sscma_status state_check(const sscma_hook *h, const sscma_ckpt *ck, json_t *state, const char *path)
{
    (void)h, (void)ck;
    if (!json_is_array(json_object_get(state, "kept")) ||
        json_string_value(json_object_get(state, "best_path")) == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "not a training checkpoint: state.trainer is incomplete");
    return SSCMA_OK;
}

static void state_import(sscma_hook *h, sscma_train_loop *loop, const sscma_ckpt *ck, json_t *state)
{
    (void)ck;
    checkpoint_hook *c = (checkpoint_hook *)h;
    json_t *kept = json_object_get(state, "kept"), *best = json_object_get(state, "best");
    c->has_best = json_is_number(best);
    c->best = c->has_best ? json_number_value(best) : 0.0;
    /* paths from the file are data: only this work dir's own checkpoints may be removed later */
    const char *best_path = json_string_value(json_object_get(state, "best_path"));
    bool best_ours = best_path[0] == '\0' || may_remove(loop, best_path);
    snprintf(c->best_path, sizeof c->best_path, "%s", best_ours ? best_path : "");
    if (!best_ours)
        sscma_logf(loop->ctx, SSCMA_LOG_INFO, "resume: the best checkpoint %s is not in this work dir (%s); it stays",
                   best_path, loop->work_dir);
    forget_all(c);
    size_t n = json_array_size(kept);
    if (n > 0 && (c->kept = sscma_calloc(c->base.ctx, n, sizeof *c->kept)) != NULL)
        for (size_t i = 0; i < n; i++) {
            const char *path = json_string_value(json_array_get(kept, i));
            if (path != NULL && may_remove(loop, path))
                c->kept[c->n_kept++] = sscma_mstrdup(c->base.ctx, path);
            else if (path != NULL)
                sscma_logf(loop->ctx, SSCMA_LOG_INFO,
                           "resume: %s is not a checkpoint of this work dir (%s); it will not be rotated", path,
                           loop->work_dir);
        }
    publish_last(c, loop);
}

static void destroy(sscma_hook *h)
{
    forget_all((checkpoint_hook *)h);
    sscma_mfree(h->ctx, h);
}

static const sscma_hook_ops checkpoint_ops = {
    .name = "CheckpointHook", .before_run = before_run, .after_epoch = after_epoch, .state_export = state_export,
    .state_check = state_check,
    .state_import = state_import, .destroy = destroy,
};

typedef struct checkpoint_cfg {
    int64_t interval, max_keep_ckpts;
    json_t *save_best;
    int rule;
    bool save_last, by_epoch;
} checkpoint_cfg;

static const sscma_field checkpoint_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(checkpoint_cfg, interval, 1, 1, INFINITY),
    SSCMA_FIELD_RANGE(checkpoint_cfg, max_keep_ckpts, -1, -1, INFINITY),
    SSCMA_FIELD_JSON_AS("save_best", checkpoint_cfg, save_best),
    SSCMA_FIELD_ENUM_AS("rule", checkpoint_cfg, rule, HOOK_RULE_INFER, hook_rule_names, 0),
    SSCMA_FIELD(checkpoint_cfg, save_last, true),
    SSCMA_FIELD(checkpoint_cfg, by_epoch, true),
    SSCMA_FIELD_KEY("out_dir"),
    SSCMA_FIELD_END,
};

/* default_hooks.checkpoint: absent is the default hook, null turns it off. */
static sscma_status parse(checkpoint_hook *c, json_t *node, const char *where)
{
    const char *what = "default_hooks.checkpoint";
    c->on = true, c->save_last = true, c->interval = 1, c->max_keep = -1;
    if (node == NULL)
        return SSCMA_OK;
    if (json_is_null(node)) {
        c->on = false;
        return SSCMA_OK;
    }
    checkpoint_cfg cfg;
    sscma_status st = sscma_schema_read(checkpoint_fields, node, where, what, &cfg);
    if (st != SSCMA_OK)
        return st;
    if (!cfg.by_epoch)
        return sscma_schema_fail(where, what, "by_epoch", "only epoch checkpoints are supported");
    c->interval = cfg.interval, c->max_keep = cfg.max_keep_ckpts, c->save_last = cfg.save_last;
    if (cfg.save_best != NULL) {
        const char *name = json_string_value(cfg.save_best);
        if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof c->save_best)
            return sscma_schema_expected(where, what, "save_best", "a metric name or \"auto\"", cfg.save_best);
        c->best_auto = strcmp(name, "auto") == 0;
        snprintf(c->save_best, sizeof c->save_best, "%s", name);
        c->best_greater = hook_rule_greater(cfg.rule, c->best_auto ? NULL : name);
    }
    return SSCMA_OK;
}

sscma_status sscma_hook_checkpoint_create(const sscma_context *ctx, json_t *node, const char *where, sscma_hook **out)
{
    checkpoint_hook *c = sscma_calloc(ctx, 1, sizeof *c);
    if (c == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the checkpoint hook");
    c->base.ops = &checkpoint_ops;
    c->base.ctx = ctx;
    sscma_status st = parse(c, node, where);
    if (st != SSCMA_OK) {
        sscma_mfree(ctx, c);
        return st;
    }
    *out = &c->base;
    return SSCMA_OK;
}
