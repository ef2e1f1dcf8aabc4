/*
 * Unit tests of train.h on a small synthetic IDX dataset: learning, checkpoints, bit-identical resume (epoch boundary
 * and mid epoch), determinism, the NaN guard, early stopping and errors; and the internal hook interface
 * (train/hook.h): the events a hook sees, in order with the loop's position, and its state through a checkpoint. The
 * metrics are in test_metrics.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_files.h"
#include "golden.h"
#include "harness.h"
#include "io/checkpoint.h"
#include "data/data.h"
#include "train/hook.h"
#include "train/state.h"

static sscma_context *ctx;
static golden_file sched_golden;
static char tmpdir[64];

/* ---- trainer ---- */

static void check_close(const char *what, double ours, double ref, double rtol)
{
    if (!(fabs(ours - ref) <= rtol * (fabs(ref) + 1e-6)))
        test_fail(__FILE__, __LINE__, "%s: %.9g, reference %.9g", what, ours, ref);
}

#define SIDE 16
#define N_TRAIN 200
#define N_TEST 32

/* Four classes: a bright 5x5 block in one quadrant, on noise. */
static void write_split(const char *dir, const char *prefix, int n, uint32_t seed)
{
    uint8_t *pixels = malloc((size_t)n * SIDE * SIDE), *labels = malloc((size_t)n);
    uint32_t s = seed;
    for (int i = 0; i < n; i++) {
        int c = i % 4;
        labels[i] = (uint8_t)c;
        int oy = (c / 2) * 8 + 1, ox = (c % 2) * 8 + 1;
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++) {
                s = s * 1664525u + 1013904223u;
                int v = (int)(s >> 26); /* 0..63 */
                if (y >= oy && y < oy + 5 && x >= ox && x < ox + 5)
                    v += 150;
                pixels[(size_t)i * SIDE * SIDE + (size_t)(y * SIDE + x)] = (uint8_t)v;
            }
    }
    char path[256];
    const uint32_t idims[3] = {(uint32_t)n, SIDE, SIDE}, ldims[1] = {(uint32_t)n};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    write_idx(path, 0x803, idims, 3, pixels, (size_t)n * SIDE * SIDE, false);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    write_idx(path, 0x801, ldims, 1, labels, (size_t)n, false);
    free(pixels), free(labels);
}

static char data_dir[128];

static const char *const model_cfg =
    "{\"type\": \"ImageClassifier\", \"input_size\": [16, 16],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4, \"dropout\": 0.2}}";

typedef struct stack {
    sscma_dataset *train_ds, *val_ds;
    sscma_loader *train, *val;
    sscma_model *model;
    sscma_trainer *trainer;
} stack;

static sscma_status make_stack(stack *s, const char *trainer_cfg)
{
    memset(s, 0, sizeof *s);
    char cfg[512];
    sscma_status st;
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"split\": \"train\"}", data_dir);
    if ((st = sscma_dataset_open(ctx, cfg, &s->train_ds)) != SSCMA_OK)
        return st;
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"split\": \"test\"}", data_dir);
    if ((st = sscma_dataset_open(ctx, cfg, &s->val_ds)) != SSCMA_OK)
        return st;
    if ((st = sscma_loader_create(ctx, s->train_ds,
                                  "{\"batch_size\": 16, \"shuffle\": true, \"seed\": 3, \"pipeline\": ["
                                  "{\"type\": \"RandomCrop\", \"size\": 16, \"padding\": 1},"
                                  "{\"type\": \"Normalize\", \"mean\": [64], \"std\": [64]}]}",
                                  &s->train)) != SSCMA_OK)
        return st;
    if ((st = sscma_loader_create(ctx, s->val_ds,
                                  "{\"batch_size\": 12, \"pipeline\": [{\"type\": \"Normalize\", \"mean\": [64], "
                                  "\"std\": [64]}]}",
                                  &s->val)) != SSCMA_OK)
        return st;
    if ((st = sscma_model_create(ctx, model_cfg, &s->model)) != SSCMA_OK)
        return st;
    return sscma_trainer_create(s->model, s->train, s->val, trainer_cfg, &s->trainer);
}

static void free_stack(stack *s)
{
    sscma_trainer_destroy(s->trainer);
    sscma_model_destroy(s->model);
    sscma_loader_destroy(s->train);
    sscma_loader_destroy(s->val);
    sscma_dataset_destroy(s->train_ds);
    sscma_dataset_destroy(s->val_ds);
}

/* The full recipe of the resume tests: AdamW, warm-up + cosine, EMA, dropout, checkpoints every epoch. */
static void recipe(char *buf, size_t size, const char *work_dir, int epochs, bool cosine)
{
    snprintf(buf, size,
             "{\"max_epochs\": %d, \"work_dir\": \"%s\","
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"AdamW\", \"lr\": 0.005, \"weight_decay\": 0.0001},"
             "   \"paramwise_cfg\": {\"norm_decay_mult\": 0}},"
             " \"param_scheduler\": [{\"type\": \"LinearLR\", \"start_factor\": 0.1, \"by_epoch\": false, \"end\": 5},"
             "   {\"type\": \"CosineAnnealingLR\", \"T_max\": %d, \"by_epoch\": true, \"convert_to_iter_based\": true,"
             "    \"begin\": %d}],"
             " \"val_evaluator\": {\"type\": \"Accuracy\", \"topk\": [1, 2]},"
             " \"default_hooks\": {\"checkpoint\": {\"interval\": 1, \"max_keep_ckpts\": 3, \"save_best\": \"auto\"}, \"logger\": {\"interval\": 1}},"
             " \"custom_hooks\": [{\"type\": \"EMAHook\", \"ema_type\": \"ExpMomentumEMA\", \"momentum\": 0.01,"
             "   \"gamma\": 50, \"priority\": 49}]}",
             epochs, work_dir, epochs, cosine ? 0 : epochs);
}

static void work_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    mkdir(buf, 0755);
}

typedef struct progress_log {
    int64_t calls, last_global, cancel_at;
    double first_lr, max_lr;
    bool ordered;
} progress_log;

static int on_progress(const sscma_train_progress *p, void *user)
{
    progress_log *log = user;
    if (log->calls == 0)
        log->first_lr = p->lr;
    log->ordered = log->ordered && p->struct_size == sizeof *p && p->global_iter == log->last_global + 1 &&
                   p->iter >= 1 && p->iter <= p->iters_per_epoch && isfinite(p->loss) && p->eta_s >= 0.0;
    log->max_lr = p->lr > log->max_lr ? p->lr : log->max_lr;
    log->last_global = p->global_iter;
    log->calls++;
    return log->cancel_at > 0 && p->global_iter == log->cancel_at;
}

static bool same_weights(sscma_model *a, sscma_model *b, const char **which)
{
    int32_t n = 0, nb = 0;
    sscma_model_param_count(a, &n);
    sscma_model_param_count(b, &nb);
    if (n != nb)
        return false;
    for (int32_t i = 0; i < n; i++) {
        sscma_tensor *va, *vb;
        size_t bytes = 0;
        void *da, *db;
        sscma_model_param(a, i, which, NULL, &va, NULL);
        sscma_model_param(b, i, NULL, NULL, &vb, NULL);
        sscma_tensor_size_bytes(va, &bytes);
        sscma_tensor_data(va, &da);
        sscma_tensor_data(vb, &db);
        if (memcmp(da, db, bytes) != 0)
            return false;
    }
    return true;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void trainer_learns_and_keeps_checkpoints(void)
{
    char dir[128], cfg[2048], path[256];
    work_dir(dir, sizeof dir, "learn");
    recipe(cfg, sizeof cfg, dir, 12, false); /* warm-up, then a constant rate */
    stack s;
    CHECK_OK(make_stack(&s, cfg));
    if (s.trainer == NULL)
        return free_stack(&s);
    progress_log log = {0, 0, 0, 0, 0, true};
    CHECK_OK(sscma_trainer_set_callback(s.trainer, on_progress, &log));
    const sscma_metric *m = NULL;
    double before = 0.0, after = 0.0;
    CHECK_OK(sscma_trainer_validate(s.trainer, &m));
    CHECK_OK(sscma_metric_get(m, "accuracy/top1", &before));
    CHECK_OK(sscma_trainer_train(s.trainer));
    CHECK_OK(sscma_trainer_validate(s.trainer, &m));
    CHECK_OK(sscma_metric_get(m, "accuracy/top1", &after));
    if (!(after >= 90.0))
        test_fail(__FILE__, __LINE__, "validation accuracy %.1f%% after 12 epochs (before: %.1f%%)", after, before);
    int64_t epochs = 0, iters = 0;
    CHECK_OK(sscma_trainer_position(s.trainer, &epochs, &iters));
    CHECK_INT_EQ(epochs, 12);
    CHECK_INT_EQ(iters, 12 * 13); /* 200 samples, batches of 16: 12 full + 1 partial */
    CHECK_INT_EQ(log.calls, 12 * 13);
    CHECK(log.ordered);
    check_close("first lr (warm-up start)", log.first_lr, 0.0005, 1e-9);
    CHECK(log.max_lr <= 0.005 + 1e-12 && log.max_lr > 0.0045);
    /* max_keep_ckpts 3: only the last three epochs remain; last_checkpoint names the newest */
    snprintf(path, sizeof path, "%s/epoch_9.ckpt", dir);
    CHECK(!exists(path));
    snprintf(path, sizeof path, "%s/epoch_10.ckpt", dir);
    CHECK(exists(path));
    snprintf(path, sizeof path, "%s/epoch_11.ckpt", dir);
    CHECK(exists(path));
    snprintf(path, sizeof path, "%s/epoch_12.ckpt", dir);
    CHECK(exists(path));
    char last[512] = "", lpath[256];
    snprintf(lpath, sizeof lpath, "%s/last_checkpoint", dir);
    FILE *f = fopen(lpath, "r");
    CHECK(f != NULL);
    if (f != NULL) {
        size_t n = fread(last, 1, sizeof last - 1, f);
        last[n] = '\0';
        fclose(f);
    }
    CHECK_STR_EQ(last, path);
    /* exactly one best checkpoint, loadable as plain weights */
    int bests = 0;
    char best[512] = "";
    for (int e = 1; e <= 12; e++) {
        char b[256];
        snprintf(b, sizeof b, "%s/best_accuracy_top1_epoch_%d.ckpt", dir, e);
        if (exists(b))
            bests++, snprintf(best, sizeof best, "%s", b);
    }
    CHECK_INT_EQ(bests, 1);
    sscma_model *plain = NULL;
    CHECK_OK(sscma_model_create(ctx, model_cfg, &plain));
    CHECK_OK(sscma_model_load(plain, best));
    sscma_model_destroy(plain);
    free_stack(&s);
}

static void trainer_resumes_bit_identically(void)
{
    char dir_a[128], dir_b[128], dir_c[128], cfg[2048], path[256];
    const char *which = NULL;
    /* A: 4 epochs straight */
    work_dir(dir_a, sizeof dir_a, "straight");
    recipe(cfg, sizeof cfg, dir_a, 4, true);
    stack a;
    CHECK_OK(make_stack(&a, cfg));
    if (a.trainer == NULL)
        return free_stack(&a);
    CHECK_OK(sscma_trainer_train(a.trainer));
    /* B: 2 epochs (A's epoch-2 checkpoint), then a fresh process state resumes and trains 2 more */
    work_dir(dir_b, sizeof dir_b, "resumed");
    recipe(cfg, sizeof cfg, dir_b, 4, true);
    stack b;
    CHECK_OK(make_stack(&b, cfg));
    snprintf(path, sizeof path, "%s/epoch_2.ckpt", dir_a); /* max_keep 3: epochs 2 to 4 remain */
    CHECK_OK(sscma_trainer_resume(b.trainer, path));
    int64_t epochs = 0;
    CHECK_OK(sscma_trainer_position(b.trainer, &epochs, NULL));
    CHECK_INT_EQ(epochs, 2);
    CHECK_OK(sscma_trainer_train(b.trainer));
    if (!same_weights(a.model, b.model, &which))
        test_fail(__FILE__, __LINE__, "2 + resume + 2 epochs differ from 4 straight (first: %s)", which);
    /* C: cancelled in the middle of epoch 2, saved, resumed in a new trainer */
    work_dir(dir_c, sizeof dir_c, "cancelled");
    recipe(cfg, sizeof cfg, dir_c, 4, true);
    stack c;
    CHECK_OK(make_stack(&c, cfg));
    progress_log log = {0, 0, 17, 0, 0, true};
    CHECK_OK(sscma_trainer_set_callback(c.trainer, on_progress, &log));
    CHECK_FAILS(sscma_trainer_train(c.trainer), SSCMA_ERR_CANCELLED, "epoch 2, iteration 4");
    snprintf(path, sizeof path, "%s/cancelled.ckpt", dir_c);
    CHECK_OK(sscma_trainer_save(c.trainer, path));
    free_stack(&c);
    CHECK_OK(make_stack(&c, cfg));
    CHECK_OK(sscma_trainer_resume(c.trainer, path));
    int64_t iters = 0;
    CHECK_OK(sscma_trainer_position(c.trainer, &epochs, &iters));
    CHECK_INT_EQ(epochs, 1);
    CHECK_INT_EQ(iters, 17);
    CHECK_OK(sscma_trainer_train(c.trainer));
    if (!same_weights(a.model, c.model, &which))
        test_fail(__FILE__, __LINE__, "a mid-epoch resume differs from 4 straight epochs (first: %s)", which);
    /* the EMA weights (what the final checkpoints deploy) agree too */
    char fa[256], fc[256];
    snprintf(fa, sizeof fa, "%s/epoch_4.ckpt", dir_a);
    snprintf(fc, sizeof fc, "%s/epoch_4.ckpt", dir_c);
    sscma_model *ea = NULL, *ec = NULL;
    CHECK_OK(sscma_model_create(ctx, model_cfg, &ea));
    CHECK_OK(sscma_model_create(ctx, model_cfg, &ec));
    CHECK_OK(sscma_model_load(ea, fa));
    CHECK_OK(sscma_model_load(ec, fc));
    CHECK(same_weights(ea, ec, &which));
    CHECK(!same_weights(ea, a.model, &which)); /* and they are not the trained weights */
    sscma_model_destroy(ea), sscma_model_destroy(ec);
    /* determinism: the same config and seed again give the same bits */
    stack d;
    work_dir(dir_b, sizeof dir_b, "again");
    recipe(cfg, sizeof cfg, dir_b, 4, true);
    CHECK_OK(make_stack(&d, cfg));
    CHECK_OK(sscma_trainer_train(d.trainer));
    CHECK(same_weights(a.model, d.model, &which));
    free_stack(&d);
    free_stack(&c);
    free_stack(&b);
    free_stack(&a);
}

static void nan_guard_keeps_the_last_good_checkpoint(void)
{
    char dir[128], cfg[1024], path[256];
    work_dir(dir, sizeof dir, "nan");
    /* a learning rate multiplied by 1e30 after epoch 1 */
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": 3, \"work_dir\": \"%s\","
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.01, \"momentum\": 0.9}},"
             " \"param_scheduler\": {\"type\": \"MultiStepLR\", \"milestones\": [1], \"gamma\": 1e30}}",
             dir);
    stack s;
    CHECK_OK(make_stack(&s, cfg));
    if (s.trainer == NULL)
        return free_stack(&s);
    snprintf(path, sizeof path, "%s/epoch_1.ckpt", dir);
    char needle[300];
    snprintf(needle, sizeof needle, "the last good checkpoint is %s", path);
    CHECK_FAILS(sscma_trainer_train(s.trainer), SSCMA_ERR_NUMERIC, needle);
    CHECK_STR_CONTAINS(sscma_last_error(), "epoch 2, iteration");
    CHECK(exists(path));
    snprintf(path, sizeof path, "%s/epoch_2.ckpt", dir);
    CHECK(!exists(path));
    free_stack(&s);
}

static void early_stopping_stops(void)
{
    char cfg[1024];
    stack s;
    CHECK_OK(make_stack(&s, "{\"max_epochs\": 10, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.01}},"
                            " \"custom_hooks\": [{\"type\": \"EarlyStoppingHook\", \"monitor\": \"accuracy/top1\","
                            " \"patience\": 2, \"min_delta\": 1000}]}"));
    if (s.trainer == NULL)
        return free_stack(&s);
    CHECK_OK(sscma_trainer_train(s.trainer));
    int64_t epochs = 0;
    CHECK_OK(sscma_trainer_position(s.trainer, &epochs, NULL));
    CHECK_INT_EQ(epochs, 3); /* epoch 1 sets the best; 2 and 3 do not beat it by 1000 points */
    free_stack(&s);
    (void)cfg;
}

/* The first batch of epoch 0 of MNIST's training split through `pipeline` (batch 16, seed 3, shuffled, as make_stack's
 * loader), or of `l` when given; malloc'ed (16 x 16 x 16 floats). */
static float *first_batch(sscma_loader *l, const char *pipeline, sscma_dataset *ds)
{
    char cfg[512];
    sscma_loader *own = NULL;
    if (l == NULL) {
        snprintf(cfg, sizeof cfg, "{\"batch_size\": 16, \"shuffle\": true, \"seed\": 3, \"pipeline\": %s}", pipeline);
        CHECK_OK(sscma_loader_create(ctx, ds, cfg, &own));
        l = own;
    }
    float *out = NULL;
    const int64_t dims[4] = {16, 16, 16, 1};
    sscma_tensor *t = NULL;
    int64_t got = 0;
    if (l != NULL && sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &t) == SSCMA_OK &&
        sscma_loader_start_epoch(l, 0) == SSCMA_OK && sscma_loader_next(l, t, NULL, &got) == SSCMA_OK) {
        float *d = NULL;
        sscma_tensor_data(t, (void **)&d);
        out = malloc(16 * 16 * 16 * sizeof *out);
        memcpy(out, d, 16 * 16 * 16 * sizeof *out);
    }
    sscma_tensor_destroy(t);
    sscma_loader_destroy(own);
    return out;
}

/* PipelineSwitchHook: from epoch switch_epoch on, the training loader runs switch_pipeline (its first batch is that
 * of a loader made with it, not the original's); a list of another batch shape fails at the switch, naming it. */
static void pipeline_switch_hook_switches(void)
{
    const char *opt = "\"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.01}}";
    const char *switched = "[{\"type\": \"Resize\", \"size\": 16}, {\"type\": \"Normalize\", \"mean\": [64], "
                           "\"std\": [64]}]";
    char cfg[1024];
    stack s;
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 2, %s, \"custom_hooks\": [{\"type\": \"PipelineSwitchHook\", "
             "\"switch_epoch\": 1, \"switch_pipeline\": %s}]}", opt, switched);
    CHECK_OK(make_stack(&s, cfg));
    if (s.trainer != NULL) {
        float *before = first_batch(s.train, NULL, NULL);
        CHECK_OK(sscma_trainer_train(s.trainer));
        float *after = first_batch(s.train, NULL, NULL), *want = first_batch(NULL, switched, s.train_ds);
        CHECK(before != NULL && after != NULL && want != NULL);
        if (before != NULL && after != NULL && want != NULL) {
            CHECK(memcmp(after, want, 16 * 16 * 16 * sizeof *after) == 0);
            CHECK(memcmp(after, before, 16 * 16 * 16 * sizeof *after) != 0);
        }
        free(before), free(after), free(want);
    }
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 2, %s, \"custom_hooks\": [{\"type\": \"PipelineSwitchHook\", "
             "\"switch_epoch\": 1, \"switch_pipeline\": [{\"type\": \"RandomCrop\", \"size\": 12}]}]}", opt);
    CHECK_OK(make_stack(&s, cfg));
    if (s.trainer != NULL) {
        CHECK_FAILS(sscma_trainer_train(s.trainer), SSCMA_ERR_CONFIG, "PipelineSwitchHook at epoch 2: loader: the switched "
                    "pipeline must end in a fixed 16x16x1 (the loader's batch shape); it gives 12x12x1");
        int64_t epochs = 0;
        CHECK_OK(sscma_trainer_position(s.trainer, &epochs, NULL));
        CHECK_INT_EQ(epochs, 1);
    }
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 2, %s, \"custom_hooks\": [{\"type\": \"PipelineSwitchHook\", "
             "\"switch_pipeline\": []}]}", opt);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG, "trainer: custom_hooks[0].switch_epoch:");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 2, %s, \"custom_hooks\": [{\"type\": \"PipelineSwitchHook\", "
             "\"switch_epoch\": 1, \"switch_pipeline\": [{\"type\": \"Mosaic\", \"prob\": 2}]}]}", opt);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG, "Mosaic: pipeline[0].prob: expected a number 0..1, got 2");
    free_stack(&s);
}

static void trainer_errors(void)
{
    stack s;
    const char *opt = "\"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.01}}";
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{%s}", opt);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG, "trainer: max_epochs: expected an integer 1..1000000");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, \"max_iters\": 3, %s}", opt);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG, "unknown key 'max_iters'");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, %s, \"custom_hooks\": [{\"type\": \"SWAHook\"}]}", opt);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG,
                "trainer: custom_hooks[0].type: expected one of: EMAHook, EarlyStoppingHook, PipelineSwitchHook, got "
                "\"SWAHook\"");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, %s, \"default_hooks\": {\"checkpoint\": {\"save_best\": 1}}}", opt);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG,
                "trainer: default_hooks.checkpoint.save_best: expected a metric name or \"auto\", got 1");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, \"optim_wrapper\": {\"optimizer\": {\"type\": \"Lion\"}}}");
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG, "optim_wrapper.optimizer.type: expected one of: SGD, Adam, AdamW, got \"Lion\"");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, %s, \"val_evaluator\": {\"type\": \"Acc\"}}", opt);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG,
                "metric: type: expected one of: Accuracy, FomoMetric, PointMetric, MSE, CocoMetric, AnomalyMetric, MseMetric, got \"Acc\"");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{\"train_cfg\": {\"by_epoch\": true, \"max_epochs\": 1, \"val_interval\": 1}, %s}", opt);
    CHECK_OK(make_stack(&s, cfg));
    /* resume from files that are not training checkpoints of this config */
    char path[256];
    snprintf(path, sizeof path, "%s/weights.ckpt", tmpdir);
    CHECK_OK(sscma_model_save(s.model, path, 0));
    CHECK_FAILS(sscma_trainer_resume(s.trainer, path), SSCMA_ERR_FORMAT, "not a training checkpoint");
    snprintf(path, sizeof path, "%s/missing.ckpt", tmpdir);
    CHECK_FAILS(sscma_trainer_resume(s.trainer, path), SSCMA_ERR_IO, "missing.ckpt");
    snprintf(path, sizeof path, "%s/no/such/dir/x.ckpt", tmpdir);
    CHECK_FAILS(sscma_trainer_save(s.trainer, path), SSCMA_ERR_IO, "no/such/dir");
    /* a checkpoint of another optimizer */
    snprintf(path, sizeof path, "%s/sgd.ckpt", tmpdir);
    CHECK_OK(sscma_trainer_save(s.trainer, path));
    stack t;
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, \"optim_wrapper\": {\"optimizer\": {\"type\": \"Adam\"}}}");
    CHECK_OK(make_stack(&t, cfg));
    CHECK_FAILS(sscma_trainer_resume(t.trainer, path), SSCMA_ERR_FORMAT, "another optimizer");
    free_stack(&t);
    free_stack(&s);
    /* loader and model shapes disagree; a FOMO model fed class labels */
    sscma_dataset *ds = NULL;
    sscma_loader *loader = NULL;
    sscma_model *m = NULL;
    sscma_trainer *tr = NULL;
    char dcfg[256];
    snprintf(dcfg, sizeof dcfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", data_dir);
    CHECK_OK(sscma_dataset_open(ctx, dcfg, &ds));
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 8, \"pipeline\": [{\"type\": \"Resize\", \"size\": 24}]}",
                                 &loader));
    CHECK_OK(sscma_model_create(ctx, model_cfg, &m));
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, %s}", opt);
    CHECK_FAILS(sscma_trainer_create(m, loader, NULL, cfg, &tr), SSCMA_ERR_SHAPE,
                "the loader makes images of 24x24x1, the model takes 16x16x1");
    sscma_model_destroy(m);
    CHECK_OK(sscma_model_create(ctx,
                                "{\"type\": \"Fomo\", \"input_size\": [24, 24], \"backbone\": {\"type\": \"MobileNetv2\","
                                " \"widen_factor\": 0.35, \"in_channels\": 1}, \"head\": {\"type\": \"FomoHead\","
                                " \"num_classes\": 2}}",
                                &m));
    CHECK_FAILS(sscma_trainer_create(m, loader, NULL, cfg, &tr), SSCMA_ERR_SHAPE,
                "the loader makes i32 targets of rank 1 [8, 0, 0, 0], the Fomo model takes f32 of rank 4 [8, 1, 1, 3] "
                "(a FOMO model needs the loader's \"target\"");
    CHECK_FAILS(sscma_trainer_create(NULL, loader, NULL, cfg, &tr), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_trainer_create(m, loader, NULL, "{", &tr), SSCMA_ERR_CONFIG, "line 1");
    sscma_model_destroy(m);
    /* validation without a validation loader */
    CHECK_OK(sscma_model_create(ctx, model_cfg, &m));
    sscma_loader_destroy(loader);
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 8}", &loader));
    /* two keys for the epoch count that differ: refused naming both (train_cfg's used to win silently) */
    char both[512];
    snprintf(both, sizeof both, "{\"max_epochs\": 2, \"train_cfg\": {\"max_epochs\": 8}, %s}", opt);
    CHECK_FAILS(sscma_trainer_create(m, loader, NULL, both, &tr), SSCMA_ERR_CONFIG,
                "trainer: max_epochs: 2, but train_cfg.max_epochs is 8: both keys set the same thing");
    CHECK(tr == NULL);
    CHECK_OK(sscma_trainer_create(m, loader, NULL, cfg, &tr));
    const sscma_metric *metric = NULL;
    CHECK_FAILS(sscma_trainer_validate(tr, &metric), SSCMA_ERR_STATE, "no validation loader");
    CHECK_FAILS(sscma_trainer_train(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'trainer'");
    CHECK_FAILS(sscma_trainer_set_callback(NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'trainer'");
    CHECK_FAILS(sscma_trainer_position(NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'trainer'");
    CHECK_FAILS(sscma_trainer_save(tr, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'path'");
    CHECK_FAILS(sscma_loader_batch_shape(NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'loader'");
    sscma_trainer_destroy(tr);
    sscma_trainer_destroy(NULL);
    sscma_model_destroy(m);
    sscma_loader_destroy(loader);
    sscma_dataset_destroy(ds);
}

/* The golden sequence `name` (tests/golden/gen_sched.py) against `got`, within 1e-6 relative. */
static void compare_sequence(const char *name, const float *got, int64_t n)
{
    const golden_record *ref = golden_find(&sched_golden, name);
    if (ref == NULL || ref->numel != n) {
        test_fail(__FILE__, __LINE__, "golden %s missing or of another length: run tests/golden/gen_sched.py", name);
        return;
    }
    int64_t where = 0;
    if (golden_compare(got, ref, 1e-6, &where) > 1.0)
        test_fail(__FILE__, __LINE__, "%s: iteration %lld: %.9g vs reference %.9g", name, (long long)where,
                  (double)got[where], (double)((const float *)ref->data)[where]);
}

static void yolov5_schedule_matches_mmyolo(void)
{
    static const struct {
        const char *name;
        sscma_yolov5_schedule s;
    } cases[] = {
        {"yolov5_linear", {false, 0.01, 4, 1.5, 0.1, 0.8, 12, 0.01, 0.937}},
        {"yolov5_cosine_round", {true, 0.05, 6, 2.5 / 13, 0.05, 0.6, 0, 0.01, 0.937}},
    };
    for (size_t k = 0; k < 2; k++) {
        float lr[52], bias[52], mom[52];
        double cur_lr = 0.01, cur_m = 0.937;
        for (int64_t e = 0; e < 4; e++) {
            for (int64_t b = 0; b < 13; b++) {
                double l = 0, bl = 0, m = 0;
                int64_t it = e * 13 + b;
                bool warm = sscma_yolov5_warmup(&cases[k].s, it, e, 13, &l, &bl, &m);
                if (warm)
                    cur_lr = l, cur_m = m;
                lr[it] = (float)cur_lr, bias[it] = (float)(warm ? bl : cur_lr), mom[it] = (float)cur_m;
            }
            cur_lr = 0.01 * sscma_yolov5_factor(&cases[k].s, e);
        }
        char name[96];
        snprintf(name, sizeof name, "%s/lr", cases[k].name);
        compare_sequence(name, lr, 52);
        snprintf(name, sizeof name, "%s/bias_lr", cases[k].name);
        compare_sequence(name, bias, 52);
        snprintf(name, sizeof name, "%s/momentum", cases[k].name);
        compare_sequence(name, mom, 52);
    }
}

typedef struct schedule_log {
    float lr[64], momentum[64];
    int64_t n;
} schedule_log;

static int log_schedule(const sscma_train_progress *p, void *user)
{
    schedule_log *log = user;
    if (log->n < 64)
        log->lr[log->n] = (float)p->lr, log->momentum[log->n] = (float)p->momentum, log->n++;
    return 0;
}

static void trainer_runs_the_yolov5_hook(void)
{
    stack s;
    CHECK_OK(make_stack(&s, "{\"max_epochs\": 4, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.01,"
                            " \"momentum\": 0.937, \"nesterov\": true}},"
                            " \"default_hooks\": {\"param_scheduler\": {\"type\": \"YOLOv5ParamSchedulerHook\","
                            " \"scheduler_type\": \"linear\", \"lr_factor\": 0.01, \"max_epochs\": 4,"
                            " \"warmup_epochs\": 1.5, \"warmup_bias_lr\": 0.1, \"warmup_momentum\": 0.8,"
                            " \"warmup_mim_iter\": 12}}}"));
    if (s.trainer == NULL)
        return free_stack(&s);
    schedule_log log = {{0}, {0}, 0};
    CHECK_OK(sscma_trainer_set_callback(s.trainer, log_schedule, &log));
    CHECK_OK(sscma_trainer_train(s.trainer));
    CHECK_INT_EQ(log.n, 52);
    compare_sequence("yolov5_linear/lr", log.lr, 52);
    compare_sequence("yolov5_linear/momentum", log.momentum, 52);
    free_stack(&s);
    stack t;
    CHECK_FAILS(make_stack(&t, "{\"max_epochs\": 4, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\"}},"
                               " \"param_scheduler\": [{\"type\": \"ExponentialLR\", \"gamma\": 0.9}],"
                               " \"default_hooks\": {\"param_scheduler\": {\"type\": \"YOLOv5ParamSchedulerHook\"}}}"),
                SSCMA_ERR_CONFIG, "param_scheduler and YOLOv5ParamSchedulerHook both set the learning rate");
    free_stack(&t);
    CHECK_FAILS(make_stack(&t, "{\"max_epochs\": 4, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\"}},"
                               " \"default_hooks\": {\"param_scheduler\": {\"type\": \"YOLOv5ParamSchedulerHook\","
                               " \"scheduler_type\": \"step\"}}}"),
                SSCMA_ERR_CONFIG,
                "default_hooks.param_scheduler.scheduler_type: expected one of: linear, cosine, got \"step\"");
    free_stack(&t);
}

/* ---- the hook interface ---- */

/* A hook that writes down every event with the loop's position, and keeps a count in checkpoints. */
typedef struct recording_hook {
    sscma_hook base;
    char (*events)[48];
    int n, cap;
    int64_t imported; /* what resume gave back: the number of events when saved */
} recording_hook;

static void record(sscma_hook *h, const sscma_train_loop *loop, const char *event)
{
    recording_hook *r = (recording_hook *)h;
    if (r->n < r->cap)
        snprintf(r->events[r->n], sizeof r->events[0], "%s %lld %lld %lld", event, (long long)loop->epoch,
                 (long long)loop->epoch_iter, (long long)loop->iter);
    r->n++;
}

static sscma_status rec_before_run(sscma_hook *h, sscma_train_loop *loop)
{
    record(h, loop, "before_run");
    return SSCMA_OK;
}

static sscma_status rec_before_epoch(sscma_hook *h, sscma_train_loop *loop)
{
    record(h, loop, "before_epoch");
    return SSCMA_OK;
}

static sscma_status rec_before_iter(sscma_hook *h, sscma_train_loop *loop)
{
    record(h, loop, "before_iter");
    return SSCMA_OK;
}

static sscma_status rec_after_forward(sscma_hook *h, sscma_train_loop *loop, const sscma_hook_iter *it)
{
    record(h, loop, isfinite(it->loss) && it->batch > 0 ? "after_forward" : "after_forward(bad)");
    return SSCMA_OK;
}

static sscma_status rec_after_iter(sscma_hook *h, sscma_train_loop *loop, const sscma_hook_iter *it)
{
    record(h, loop, it->lr > 0.0 && it->img_s > 0.0 ? "after_iter" : "after_iter(bad)");
    return SSCMA_OK;
}

static void rec_before_val(sscma_hook *h, sscma_train_loop *loop)
{
    record(h, loop, "before_val");
}

static void rec_after_val(sscma_hook *h, sscma_train_loop *loop)
{
    record(h, loop, "after_val");
}

static sscma_status rec_after_epoch(sscma_hook *h, sscma_train_loop *loop, const sscma_metric *val)
{
    record(h, loop, val != NULL ? "after_epoch(val)" : "after_epoch");
    return SSCMA_OK;
}

static void rec_after_run(sscma_hook *h, sscma_train_loop *loop, sscma_status status)
{
    record(h, loop, status == SSCMA_OK ? "after_run" : "after_run(failed)");
}

static sscma_status rec_export(const sscma_hook *h, const sscma_train_loop *loop, sscma_ckpt_list *list, json_t *state)
{
    (void)loop, (void)list;
    return json_object_set_new(state, "test_events", json_integer(((const recording_hook *)h)->n)) == 0
               ? SSCMA_OK
               : SSCMA_ERR_OUT_OF_MEMORY;
}

static sscma_status rec_check(const sscma_hook *h, const sscma_ckpt *ck, json_t *state, const char *path)
{
    (void)h, (void)ck;
    return json_is_integer(json_object_get(state, "test_events"))
               ? SSCMA_OK
               : sscma_fail(SSCMA_ERR_FORMAT, path, "no test_events");
}

static void rec_import(sscma_hook *h, sscma_train_loop *loop, const sscma_ckpt *ck, json_t *state)
{
    (void)loop, (void)ck;
    ((recording_hook *)h)->imported = (int64_t)json_integer_value(json_object_get(state, "test_events"));
}

static void rec_destroy(sscma_hook *h)
{
    (void)h; /* the test owns it */
}

static const sscma_hook_ops recording_ops = {
    .name = "RecordingHook", .before_run = rec_before_run, .before_epoch = rec_before_epoch,
    .before_iter = rec_before_iter, .after_forward = rec_after_forward, .after_iter = rec_after_iter,
    .before_val = rec_before_val, .after_val = rec_after_val, .after_epoch = rec_after_epoch,
    .after_run = rec_after_run, .state_export = rec_export, .state_check = rec_check, .state_import = rec_import,
    .destroy = rec_destroy,
};

static void added_hook_sees_events_in_order(void)
{
    static char events[512][48], expected[512][48];
    recording_hook rec = {.base = {&recording_ops}, .events = events, .cap = 512, .imported = -1};
    stack s;
    CHECK_OK(make_stack(&s, "{\"max_epochs\": 2, \"val_begin\": 2,"
                            " \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.01}}}"));
    if (s.trainer == NULL)
        return free_stack(&s);
    CHECK_OK(sscma_trainer_add_hook(s.trainer, &rec.base));
    CHECK_OK(sscma_trainer_train(s.trainer));
    /* the loop's shape, written out: 13 iterations per epoch (200 samples, batches of 16), validation after epoch 2 */
    int n = 0;
    int64_t g = 0;
    snprintf(expected[n++], sizeof expected[0], "before_run 0 0 0");
    for (int64_t e = 0; e < 2; e++) {
        snprintf(expected[n++], sizeof expected[0], "before_epoch %lld 0 %lld", (long long)e, (long long)g);
        for (int64_t i = 0; i < 13; i++, g++) {
            snprintf(expected[n++], sizeof expected[0], "before_iter %lld %lld %lld", (long long)e, (long long)i,
                     (long long)g);
            snprintf(expected[n++], sizeof expected[0], "after_forward %lld %lld %lld", (long long)e, (long long)i,
                     (long long)g);
            snprintf(expected[n++], sizeof expected[0], "after_iter %lld %lld %lld", (long long)e, (long long)i + 1,
                     (long long)g + 1);
        }
        if (e == 1) {
            snprintf(expected[n++], sizeof expected[0], "before_val 2 0 %lld", (long long)g);
            snprintf(expected[n++], sizeof expected[0], "after_val 2 0 %lld", (long long)g);
        }
        snprintf(expected[n++], sizeof expected[0], "%s %lld 0 %lld", e == 1 ? "after_epoch(val)" : "after_epoch",
                 (long long)e + 1, (long long)g);
    }
    snprintf(expected[n++], sizeof expected[0], "after_run 2 0 26");
    CHECK_INT_EQ(rec.n, n);
    for (int i = 0; i < n && i < rec.n; i++)
        if (strcmp(events[i], expected[i]) != 0) {
            test_fail(__FILE__, __LINE__, "event %d: '%s', expected '%s'", i, events[i], expected[i]);
            break;
        }
    /* its state travels through a checkpoint: exported at save, checked and imported at resume */
    char path[256];
    snprintf(path, sizeof path, "%s/hooked.ckpt", tmpdir);
    CHECK_OK(sscma_trainer_save(s.trainer, path));
    int saved = rec.n;
    CHECK_OK(sscma_trainer_resume(s.trainer, path));
    CHECK_INT_EQ(rec.imported, saved);
    /* a checkpoint without the hook's key is refused before anything changes */
    stack plain;
    CHECK_OK(make_stack(&plain, "{\"max_epochs\": 2, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\"}}}"));
    snprintf(path, sizeof path, "%s/plain.ckpt", tmpdir);
    CHECK_OK(sscma_trainer_save(plain.trainer, path));
    rec.imported = -1;
    CHECK_FAILS(sscma_trainer_resume(s.trainer, path), SSCMA_ERR_FORMAT, "no test_events");
    CHECK_INT_EQ(rec.imported, -1);
    int64_t epochs = 0;
    CHECK_OK(sscma_trainer_position(s.trainer, &epochs, NULL));
    CHECK_INT_EQ(epochs, 2);
    free_stack(&plain);
    free_stack(&s);
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fputs("x", f);
        fclose(f);
    }
}

/*
 * Issue 24: resuming into another work dir used to remove the first run's checkpoints (the kept list and best path
 * read from the checkpoint were acted on), including the one being resumed from. Now only this work dir's own
 * checkpoints rotate; every file of the first run stays. A new run also clears the temporaries an interrupted one
 * left (and only those: another name, a symbolic link or a non-mkstemp suffix stays).
 */
static void resume_removes_only_its_own_files(void)
{
    char first[128], second[128], cfg[2048], path[512];
    work_dir(first, sizeof first, "first");
    recipe(cfg, sizeof cfg, first, 3, true); /* max_keep_ckpts 3, save_best auto */
    stack a;
    CHECK_OK(make_stack(&a, cfg));
    if (a.trainer == NULL)
        return free_stack(&a);
    CHECK_OK(sscma_trainer_train(a.trainer));
    char best[512] = "";
    for (int e = 1; e <= 3; e++) {
        snprintf(path, sizeof path, "%s/best_accuracy_top1_epoch_%d.ckpt", first, e);
        if (exists(path))
            snprintf(best, sizeof best, "%s", path);
    }
    CHECK(best[0] != '\0');

    work_dir(second, sizeof second, "second");
    /* what a killed run leaves, and look-alikes that are not ours */
    char victim[256];
    snprintf(victim, sizeof victim, "%s/victim.ckpt", tmpdir);
    touch(victim);
    const char *stale[] = {"epoch_9.ckpt.tmpAb12Z9", "last_checkpoint.tmpQ1w2E3"};
    const char *foreign[] = {"notes.txt.tmpAb12Z9", "epoch_9.ckpt.tmpAb12", "epoch_9.ckpt.tmp-b12Z9"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", second, stale[i]);
        touch(path);
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", second, foreign[i]);
        touch(path);
    }
    snprintf(path, sizeof path, "%s/link.ckpt.tmpZZZZZZ", second);
    CHECK(symlink(victim, path) == 0);

    recipe(cfg, sizeof cfg, second, 7, true);
    stack b;
    CHECK_OK(make_stack(&b, cfg));
    snprintf(path, sizeof path, "%s/epoch_3.ckpt", first);
    CHECK_OK(sscma_trainer_resume(b.trainer, path));
    CHECK_OK(sscma_trainer_train(b.trainer)); /* epochs 4..7: the kept list overflows max_keep_ckpts 3 */
    for (int e = 1; e <= 3; e++) {
        snprintf(path, sizeof path, "%s/epoch_%d.ckpt", first, e);
        if (!exists(path))
            test_fail(__FILE__, __LINE__, "resuming in another work dir removed %s", path);
    }
    CHECK(exists(best));
    for (int e = 4; e <= 7; e++) { /* this run's own files rotate as configured */
        snprintf(path, sizeof path, "%s/epoch_%d.ckpt", second, e);
        CHECK(exists(path) == (e >= 5));
    }
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", second, stale[i]);
        if (exists(path))
            test_fail(__FILE__, __LINE__, "stale temporary %s was not removed", path);
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", second, foreign[i]);
        if (!exists(path))
            test_fail(__FILE__, __LINE__, "%s is not a temporary of ours but was removed", path);
    }
    snprintf(path, sizeof path, "%s/link.ckpt.tmpZZZZZZ", second);
    struct stat st;
    CHECK(lstat(path, &st) == 0 && exists(victim));
    free_stack(&b);
    free_stack(&a);
}

/* ---- knowledge distillation (hook_distill.c) ---- */

/* A teacher for model_cfg's student: the same family at widen_factor `widen` (`classes` classes), trained for
 * `epochs` epochs (0: as initialised), saved to `path`. */
static void make_teacher(const char *path, double widen, int classes, int epochs)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"type\": \"ImageClassifier\", \"input_size\": [16, 16],"
             " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": %g, \"in_channels\": 1},"
             " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": %d}}", widen, classes);
    stack s;
    memset(&s, 0, sizeof s);
    CHECK_OK(make_stack(&s, "{\"max_epochs\": 1, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\"}}}"));
    sscma_trainer_destroy(s.trainer), s.trainer = NULL;
    sscma_model_destroy(s.model), s.model = NULL;
    CHECK_OK(sscma_model_create(ctx, cfg, &s.model));
    if (epochs > 0) {
        char tcfg[256];
        snprintf(tcfg, sizeof tcfg, "{\"max_epochs\": %d, \"optim_wrapper\": {\"optimizer\": {\"type\": \"AdamW\", "
                 "\"lr\": 0.01}}}", epochs);
        CHECK_OK(sscma_trainer_create(s.model, s.train, NULL, tcfg, &s.trainer));
        CHECK_OK(sscma_trainer_train(s.trainer));
    }
    CHECK_OK(sscma_model_save(s.model, path, 0));
    free_stack(&s);
}

/* The tensor names of a checkpoint, one string "a,b,c,". */
static void tensor_names(const char *path, char *out, size_t size)
{
    sscma_ckpt ck;
    out[0] = '\0';
    CHECK_OK(sscma_ckpt_read(ctx, path, &ck));
    size_t i, n = 0;
    json_t *item;
    json_array_foreach(ck.tensors, i, item)
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s,", json_string_value(json_object_get(item, "name")));
    sscma_ckpt_close(&ck);
}

#define DISTILL_SGD "\"max_epochs\": 2, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.05, \"momentum\": 0.9}}"

/*
 * With loss_weight 0 the teacher runs and its term is in the graph, yet the student's weights are the bits of a run
 * without distillation; with loss_weight 1 they differ. The teacher's weights stay those of its file, neither it nor
 * its optimizer state is in the student's checkpoints, and once the trainer is gone the student is as it was.
 */
static void distillation_changes_only_the_loss(void)
{
    char teacher[256], cfg[1024], plain_ckpt[256], kd_ckpt[256], plain_names[8192], kd_names[8192];
    const char *which = NULL;
    snprintf(teacher, sizeof teacher, "%s/teacher.ckpt", tmpdir);
    make_teacher(teacher, 0.5, 4, 2);
    stack plain, zero, kd;
    snprintf(cfg, sizeof cfg, "{%s}", DISTILL_SGD);
    CHECK_OK(make_stack(&plain, cfg));
    int32_t layers = 0, layers_kd = 0;
    CHECK_OK(sscma_model_layer_count(plain.model, &layers));
    snprintf(cfg, sizeof cfg, "{%s, \"distill\": {\"teacher_ckpt\": \"%s\", \"tau\": 4, \"loss_weight\": 0}}",
             DISTILL_SGD, teacher);
    CHECK_OK(make_stack(&zero, cfg));
    if (plain.trainer == NULL || zero.trainer == NULL)
        return free_stack(&zero), free_stack(&plain);
    CHECK_OK(sscma_model_layer_count(zero.model, &layers_kd));
    CHECK_INT_EQ(layers_kd, layers + 2); /* kl_div and the sum */
    CHECK_OK(sscma_trainer_train(plain.trainer));
    CHECK_OK(sscma_trainer_train(zero.trainer));
    if (!same_weights(plain.model, zero.model, &which))
        test_fail(__FILE__, __LINE__, "loss_weight 0 changed the student's weights (first: %s)", which);
    /* loss_weight 1, the hook made by hand to reach its teacher */
    snprintf(cfg, sizeof cfg, "{%s}", DISTILL_SGD);
    CHECK_OK(make_stack(&kd, cfg));
    char node_text[512];
    snprintf(node_text, sizeof node_text, "{\"teacher_ckpt\": \"%s\", \"tau\": 4, \"loss_weight\": 1}", teacher);
    json_t *node = json_loads(node_text, 0, NULL);
    sscma_hook *h = NULL;
    CHECK_OK(sscma_hook_distill_create(ctx, node, "test", &h));
    json_decref(node);
    if (kd.trainer == NULL || h == NULL)
        return free_stack(&kd), free_stack(&zero), free_stack(&plain);
    CHECK_OK(sscma_trainer_add_hook(kd.trainer, h));
    CHECK_OK(sscma_trainer_train(kd.trainer));
    CHECK(!same_weights(plain.model, kd.model, &which));
    sscma_model *fresh = NULL;
    CHECK_OK(sscma_model_create(ctx, "{\"type\": \"ImageClassifier\", \"input_size\": [16, 16], \"backbone\": "
                                     "{\"type\": \"MobileNetV2\", \"widen_factor\": 0.5, \"in_channels\": 1}, "
                                     "\"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4}}", &fresh));
    CHECK_OK(sscma_model_load(fresh, teacher));
    if (!same_weights(fresh, sscma_hook_distill_teacher(h), &which))
        test_fail(__FILE__, __LINE__, "training changed the teacher (first: %s)", which);
    sscma_model_destroy(fresh);
    /* the checkpoints of both runs name the same tensors: the student's, its optimizer's, nothing of the teacher */
    snprintf(plain_ckpt, sizeof plain_ckpt, "%s/plain.ckpt", tmpdir);
    snprintf(kd_ckpt, sizeof kd_ckpt, "%s/kd.ckpt", tmpdir);
    CHECK_OK(sscma_trainer_save(plain.trainer, plain_ckpt));
    CHECK_OK(sscma_trainer_save(kd.trainer, kd_ckpt));
    tensor_names(plain_ckpt, plain_names, sizeof plain_names);
    tensor_names(kd_ckpt, kd_names, sizeof kd_names);
    CHECK_STR_EQ(kd_names, plain_names);
    CHECK(strstr(kd_names, "teacher") == NULL);
    /* the student's checkpoint loads into a plain model of its config */
    sscma_model *student = NULL;
    CHECK_OK(sscma_model_create(ctx, model_cfg, &student));
    CHECK_OK(sscma_model_load(student, kd_ckpt));
    CHECK(same_weights(student, kd.model, &which));
    sscma_model_destroy(student);
    /* the trainer gone, the model has its own layers and inputs again */
    sscma_trainer_destroy(zero.trainer), zero.trainer = NULL;
    CHECK_OK(sscma_model_layer_count(zero.model, &layers_kd));
    CHECK_INT_EQ(layers_kd, layers);
    sscma_tensor *view = NULL;
    CHECK_OK(sscma_model_prepare(zero.model, 2, 1));
    CHECK_FAILS(sscma_model_input(zero.model, "teacher_logits", &view), SSCMA_ERR_NOT_FOUND, "inputs: image, target");
    free_stack(&kd);
    free_stack(&zero);
    free_stack(&plain);
}

/* A distilling run resumed from its epoch-1 checkpoint ends with the bits of the run that went straight through. */
static void distillation_resumes_bit_identically(void)
{
    char teacher[256], cfg[1024], dir_a[128], dir_b[128], path[256];
    const char *which = NULL;
    snprintf(teacher, sizeof teacher, "%s/teacher_resume.ckpt", tmpdir);
    make_teacher(teacher, 0.5, 4, 1);
    work_dir(dir_a, sizeof dir_a, "kd_straight");
    work_dir(dir_b, sizeof dir_b, "kd_resumed");
#define KD_RESUME_CFG "{%s, \"work_dir\": \"%s\", \"default_hooks\": {\"checkpoint\": {\"interval\": 1}}," \
                      " \"distill\": {\"teacher_ckpt\": \"%s\", \"tau\": 2, \"loss_weight\": 0.5}}"
    stack a, b;
    snprintf(cfg, sizeof cfg, KD_RESUME_CFG, DISTILL_SGD, dir_a, teacher);
    CHECK_OK(make_stack(&a, cfg));
    snprintf(cfg, sizeof cfg, KD_RESUME_CFG, DISTILL_SGD, dir_b, teacher);
    CHECK_OK(make_stack(&b, cfg));
    if (a.trainer == NULL || b.trainer == NULL)
        return free_stack(&b), free_stack(&a);
    CHECK_OK(sscma_trainer_train(a.trainer));
    snprintf(path, sizeof path, "%s/epoch_1.ckpt", dir_a);
    CHECK_OK(sscma_trainer_resume(b.trainer, path));
    CHECK_OK(sscma_trainer_train(b.trainer));
    if (!same_weights(a.model, b.model, &which))
        test_fail(__FILE__, __LINE__, "1 + resume + 1 distilled epochs differ from 2 straight (first: %s)", which);
    free_stack(&b);
    free_stack(&a);
}

/* A teacher that does not fit the student, or a file that is not one, is refused when the trainer is made. */
static void distillation_errors(void)
{
    char teacher[256], cfg[1024];
    stack s;
    snprintf(teacher, sizeof teacher, "%s/teacher_3.ckpt", tmpdir);
    make_teacher(teacher, 0.5, 3, 0);
    snprintf(cfg, sizeof cfg, "{%s, \"distill\": {\"teacher_ckpt\": \"%s\"}}", DISTILL_SGD, teacher);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_SHAPE,
                "distill.teacher_ckpt: the teacher's logits are f32[1, 3], the student's f32[1, 4]");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{%s, \"distill\": {\"teacher_ckpt\": \"%s/none.ckpt\"}}", DISTILL_SGD, tmpdir);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_IO, "none.ckpt");
    free_stack(&s);
    snprintf(cfg, sizeof cfg, "{%s, \"distill\": {\"tau\": 4}}", DISTILL_SGD);
    CHECK_FAILS(make_stack(&s, cfg), SSCMA_ERR_CONFIG,
                "trainer: distill.teacher_ckpt: expected the teacher's checkpoint (a file path), missing");
    free_stack(&s);
}

/*
 * Data-parallel sharding (sscma_loader_set_shard, DistributedSampler's rule): with 3 shards of batch 4, sample j of
 * shard r's batch k is sample r + 3j of one loader's batch k at batch 12 (the same augmentation too), for every
 * position of the global order; the 200 samples pad to 201 with the order's first, so the last shard ends on it.
 */
static float *tensor_f32(const sscma_tensor *t)
{
    void *d = NULL;
    sscma_tensor_data(t, &d);
    return d;
}

static int32_t *tensor_i32(const sscma_tensor *t)
{
    void *d = NULL;
    sscma_tensor_data(t, &d);
    return d;
}

static void loader_shards_split_global_batches(void)
{
    enum { W = 3, B = 4 };
    char cfg[512];
    sscma_dataset *ds = NULL;
    sscma_loader *whole = NULL, *shard[W] = {NULL};
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"split\": \"train\"}", data_dir);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    const char *pipe = "\"shuffle\": true, \"seed\": 5, \"pipeline\": [{\"type\": \"RandomCrop\", \"size\": 16, "
                       "\"padding\": 2}, {\"type\": \"Normalize\", \"mean\": [64], \"std\": [64]}]}";
    snprintf(cfg, sizeof cfg, "{\"batch_size\": %d, %s", B * W, pipe);
    CHECK_OK(sscma_loader_create(ctx, ds, cfg, &whole));
    snprintf(cfg, sizeof cfg, "{\"batch_size\": %d, %s", B, pipe);
    for (int r = 0; r < W; r++) {
        CHECK_OK(sscma_loader_create(ctx, ds, cfg, &shard[r]));
        if (shard[r] != NULL)
            CHECK_OK(sscma_loader_set_shard(shard[r], r, W));
    }
    if (whole == NULL || shard[W - 1] == NULL)
        goto done;
    CHECK_FAILS(sscma_loader_set_shard(shard[0], 3, 3), SSCMA_ERR_INVALID_ARGUMENT, "shard 3 of 3");
    int64_t batches = 0, whole_batches = 0;
    CHECK_OK(sscma_loader_batches(shard[0], &batches));
    CHECK_OK(sscma_loader_batches(whole, &whole_batches));
    CHECK_INT_EQ(batches, 17); /* ceil(ceil(200 / 3) / 4) */
    CHECK_INT_EQ(whole_batches, 17);
    const int64_t px = SIDE * SIDE, gdims[4] = {B * W, SIDE, SIDE, 1}, sdims[4] = {B, SIDE, SIDE, 1};
    const int64_t gl[1] = {B * W}, sl[1] = {B};
    sscma_tensor *gimg = NULL, *glab = NULL, *simg[W] = {NULL}, *slab[W] = {NULL}, *first = NULL, *first_lab = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, gdims, &gimg));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, gl, &glab));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, gdims, &first));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, gl, &first_lab));
    for (int r = 0; r < W; r++) {
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, sdims, &simg[r]));
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, sl, &slab[r]));
    }
    for (int epoch = 0; epoch < 2; epoch++) {
        CHECK_OK(sscma_loader_start_epoch(whole, epoch));
        for (int r = 0; r < W; r++)
            CHECK_OK(sscma_loader_start_epoch(shard[r], epoch));
        int64_t mismatches = 0, compared = 0;
        for (int64_t k = 0; k < batches; k++) {
            int64_t n_whole = 0, n[W] = {0};
            CHECK_OK(sscma_loader_next(whole, gimg, glab, &n_whole));
            if (k == 0) {
                memcpy(tensor_f32(first), tensor_f32(gimg), (size_t)(B * W * px) * 4);
                memcpy(tensor_i32(first_lab), tensor_i32(glab), (size_t)(B * W) * 4);
            }
            for (int r = 0; r < W; r++)
                CHECK_OK(sscma_loader_next(shard[r], simg[r], slab[r], &n[r]));
            for (int r = 0; r < W; r++)
                for (int64_t j = 0; j < n[r]; j++) {
                    int64_t pos = k * B * W + r + j * W; /* in the padded global order */
                    const float *ref = pos < 200 ? tensor_f32(gimg) + (r + j * W) * px
                                                 : tensor_f32(first) + (pos - 200) * px;
                    int32_t ref_label = pos < 200 ? tensor_i32(glab)[r + j * W]
                                                  : tensor_i32(first_lab)[pos - 200];
                    compared++;
                    mismatches += memcmp(ref, tensor_f32(simg[r]) + j * px, (size_t)px * 4) != 0 ||
                                  ref_label != tensor_i32(slab[r])[j];
                }
        }
        CHECK_INT_EQ(compared, 201);
        CHECK_INT_EQ(mismatches, 0);
    }
    sscma_tensor_destroy(gimg), sscma_tensor_destroy(glab), sscma_tensor_destroy(first);
    sscma_tensor_destroy(first_lab);
    for (int r = 0; r < W; r++)
        sscma_tensor_destroy(simg[r]), sscma_tensor_destroy(slab[r]);
done:
    for (int r = 0; r < W; r++)
        sscma_loader_destroy(shard[r]);
    sscma_loader_destroy(whole);
    sscma_dataset_destroy(ds);
}

/*
 * A model whose loss needs its input alone (as the anomaly VAE's reconstruction): no "target" input. The trainer
 * reads the loader's labels and does not feed them; MseMetric on the "loss" output validates; training lowers it.
 */
static void trainer_trains_a_model_without_target(void)
{
    stack s;
    memset(&s, 0, sizeof s);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"split\": \"train\"}", data_dir);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &s.train_ds));
    CHECK_OK(sscma_loader_create(ctx, s.train_ds, "{\"batch_size\": 16, \"shuffle\": true, \"seed\": 3, \"pipeline\": "
                                 "[{\"type\": \"Normalize\", \"mean\": [64], \"std\": [64]}]}", &s.train));
    CHECK_OK(sscma_loader_create(ctx, s.train_ds, "{\"batch_size\": 12, \"pipeline\": [{\"type\": \"Normalize\", "
                                 "\"mean\": [64], \"std\": [64]}]}", &s.val));
    int64_t dims[4] = {0, 0, 0, 0};
    CHECK_OK(sscma_loader_batch_shape(s.train, dims));
    CHECK_OK(sscma_model_create_empty(ctx, &s.model));
    const int64_t wd[4] = {1, 3, 3, 1}, bd[1] = {1};
    CHECK_OK(sscma_model_add_input(s.model, "image", SSCMA_DTYPE_F32, 4, dims, 0));
    CHECK_OK(sscma_model_add_param(s.model, "conv.weight", 4, wd, SSCMA_PARAM_TRAINABLE, "normal:0.3"));
    CHECK_OK(sscma_model_add_param(s.model, "conv.bias", 1, bd, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros"));
    CHECK_OK(sscma_model_add_layer(s.model, "conv", "conv2d", "{\"pad_top\": 1, \"pad_bottom\": 1, \"pad_left\": 1, "
                                   "\"pad_right\": 1}", (const char *[]){"image", "conv.weight", "conv.bias"}, 3));
    CHECK_OK(sscma_model_add_layer(s.model, "recon", "mse_loss", NULL, (const char *[]){"conv", "image"}, 2));
    CHECK_OK(sscma_model_add_output(s.model, "loss", "recon", 1));
    CHECK_OK(sscma_trainer_create(s.model, s.train, s.val, "{\"max_epochs\": 2, \"pred_output\": \"loss\", "
                                  "\"val_evaluator\": {\"type\": \"MseMetric\"}, \"optim_wrapper\": {\"optimizer\": "
                                  "{\"type\": \"Adam\", \"lr\": 0.02}}}", &s.trainer));
    const sscma_metric *m = NULL;
    double before = 0.0, after = 0.0;
    if (s.trainer != NULL) {
        CHECK_OK(sscma_trainer_validate(s.trainer, &m));
        CHECK_OK(sscma_metric_get(m, "mse", &before));
        CHECK_OK(sscma_trainer_train(s.trainer));
        CHECK_OK(sscma_trainer_validate(s.trainer, &m));
        CHECK_OK(sscma_metric_get(m, "mse", &after));
    }
    printf("# reconstruction mse %.4f -> %.4f\n", before, after);
    CHECK(after < 0.5 * before);
    free_stack(&s);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(trainer_learns_and_keeps_checkpoints),
        TEST_CASE(trainer_resumes_bit_identically),
        TEST_CASE(nan_guard_keeps_the_last_good_checkpoint),
        TEST_CASE(early_stopping_stops),
        TEST_CASE(trainer_errors),
        TEST_CASE(trainer_trains_a_model_without_target),
        TEST_CASE(pipeline_switch_hook_switches),
        TEST_CASE(yolov5_schedule_matches_mmyolo),
        TEST_CASE(trainer_runs_the_yolov5_hook),
        TEST_CASE(added_hook_sees_events_in_order),
        TEST_CASE(resume_removes_only_its_own_files),
        TEST_CASE(distillation_changes_only_the_loss),
        TEST_CASE(distillation_resumes_bit_identically),
        TEST_CASE(distillation_errors),
        TEST_CASE(loader_shards_split_global_batches),
    };
    if (fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-train") != 0 ||
        golden_load(&sched_golden, GOLDEN_DIR "/sched.bin") != 0)
        return 99;
    sscma_context_options opt;
    sscma_context_options_init(&opt, sizeof opt);
    opt.num_threads = 2;
    opt.seed = 11;
    opt.log_level = getenv("SSCMA_TEST_LOG") ? SSCMA_LOG_INFO : SSCMA_LOG_ERROR;
    if (sscma_context_create(&opt, &ctx) != SSCMA_OK)
        return 99;
    snprintf(data_dir, sizeof data_dir, "%s/data", tmpdir);
    mkdir(data_dir, 0755);
    write_split(data_dir, "train", N_TRAIN, 1);
    write_split(data_dir, "t10k", N_TEST, 2);
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    golden_free(&sched_golden);
    if (fixture_tmpdir_remove(tmpdir) != 0)
        rc = 1;
    return rc;
}
