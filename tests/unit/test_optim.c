/* Unit tests of optim.h: 20 steps of each optimizer against torch.optim (tests/golden/gen_optim.py), and errors. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sscma/experimental.h>
#include <sscma/optim.h>
#include <sscma/sscma.h>

#include "fixture_ckpt.h"
#include "fixture_files.h"
#include "golden.h"
#include "harness.h"

static sscma_context *ctx;
static golden_file golden;
static char tmpdir[64];

static const struct {
    const char *name;
    int32_t rank;
    int64_t dims[4];
    uint32_t flags;
} params[] = {
    {"conv.weight", 4, {4, 3, 3, 2}, SSCMA_PARAM_TRAINABLE},
    {"conv.bias", 1, {4}, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS},
    {"bn.weight", 1, {4}, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM},
    {"head.fc.weight", 2, {3, 8}, SSCMA_PARAM_TRAINABLE},
};
#define N_PARAMS 4

#define PARAMWISE "\"paramwise_cfg\": {\"norm_decay_mult\": 0, \"bias_decay_mult\": 0, \"custom_keys\": {\"head\": {\"lr_mult\": 2, \"decay_mult\": 0.5}}}"

static const struct {
    const char *name, *config;
} cases[] = {
    {"sgd_momentum", "{\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.05, \"momentum\": 0.9, \"weight_decay\": 1e-3}, " PARAMWISE "}"},
    {"sgd_nesterov", "{\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.05, \"momentum\": 0.9, \"nesterov\": true, \"weight_decay\": 1e-3}, " PARAMWISE "}"},
    {"sgd_dampening", "{\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.1, \"momentum\": 0.5, \"dampening\": 0.25}, " PARAMWISE "}"},
    {"sgd_plain_clip", "{\"optimizer\": {\"type\": \"SGD\", \"lr\": 0.1}, \"clip_grad\": {\"max_norm\": 1.5}, " PARAMWISE "}"},
    {"adam", "{\"optimizer\": {\"type\": \"Adam\", \"lr\": 0.01, \"betas\": [0.9, 0.99], \"eps\": 1e-7, \"weight_decay\": 1e-2}, " PARAMWISE "}"},
    {"adam_amsgrad", "{\"optimizer\": {\"type\": \"Adam\", \"lr\": 0.02, \"amsgrad\": true}, " PARAMWISE "}"},
    {"adamw", "{\"optimizer\": {\"type\": \"AdamW\", \"lr\": 0.01, \"weight_decay\": 0.05}, " PARAMWISE "}"},
    {"adamw_amsgrad_clip", "{\"type\": \"OptimWrapper\", \"optimizer\": {\"type\": \"AdamW\", \"lr\": 0.005, \"weight_decay\": 0.1, \"amsgrad\": true, \"betas\": [0.8, 0.95]}, \"clip_grad\": {\"max_norm\": 0.8}, " PARAMWISE "}"},
};

static sscma_model *make_model(void)
{
    sscma_model *m = NULL;
    if (sscma_model_create_empty(ctx, &m) != SSCMA_OK)
        return NULL;
    for (int i = 0; i < N_PARAMS; i++) {
        if (sscma_model_add_param(m, params[i].name, params[i].rank, params[i].dims, params[i].flags, "zeros") != SSCMA_OK)
            return NULL;
        char rec[64];
        snprintf(rec, sizeof rec, "%s/init", params[i].name);
        const golden_record *r = golden_find(&golden, rec);
        sscma_tensor *v = NULL;
        void *d = NULL;
        sscma_model_param(m, i, NULL, NULL, &v, NULL);
        sscma_tensor_data(v, &d);
        if (r != NULL)
            memcpy(d, r->data, (size_t)r->numel * 4);
    }
    return m;
}

static void optimizer_case(size_t k)
{
    sscma_model *m = make_model();
    CHECK(m != NULL);
    if (m == NULL)
        return;
    sscma_optimizer *o = NULL;
    CHECK_OK(sscma_optimizer_create(m, cases[k].config, &o));
    for (int step = 0; o != NULL && step < 20; step++) {
        for (int i = 0; i < N_PARAMS; i++) {
            char rec[64];
            snprintf(rec, sizeof rec, "step%d/%s/grad", step, params[i].name);
            const golden_record *r = golden_find(&golden, rec);
            sscma_tensor *g = NULL;
            void *d = NULL;
            sscma_model_param(m, i, NULL, NULL, NULL, &g);
            sscma_tensor_data(g, &d);
            if (r != NULL)
                memcpy(d, r->data, (size_t)r->numel * 4);
        }
        CHECK_OK(sscma_optimizer_step(o));
    }
    for (int i = 0; i < N_PARAMS; i++) {
        char rec[96];
        snprintf(rec, sizeof rec, "%s/%s/final", cases[k].name, params[i].name);
        const golden_record *r = golden_find(&golden, rec);
        sscma_tensor *v = NULL;
        void *d = NULL;
        sscma_model_param(m, i, NULL, NULL, &v, NULL);
        sscma_tensor_data(v, &d);
        int64_t where = 0;
        double worst = r != NULL ? golden_compare(d, r, 1e-6, &where) : INFINITY;
        if (worst > 1.0)
            test_fail(__FILE__, __LINE__, "%s: %s element %lld: %.9g vs torch %.9g (%.2f x 1e-6)", cases[k].name,
                      params[i].name, (long long)where, (double)((float *)d)[where],
                      r ? (double)((float *)r->data)[where] : 0.0, worst);
    }
    sscma_optimizer_destroy(o);
    sscma_model_destroy(m);
}

static golden_file sched_golden;
static const char *const chains[] = {"warmup_cosine", "warmup_multistep_epochs", "step_converted",
                                     "exponential_constant", "poly_window", "multistep_begin1", "cosine_restart",
                                     "onecycle", "onecycle_three_phase_linear", "momentum_warmup_cosine"};

static double momentum_of(const sscma_optimizer *o)
{
    double m = -1.0;
    sscma_optimizer_momentum(o, &m);
    return m;
}

/* The base lr (and momentum) used at each of 60 iterations (10 per epoch) against tests/golden/gen_sched.py. */
static void scheduler_case(size_t k)
{
    char rec[96], config[2048];
    snprintf(rec, sizeof rec, "%s/config", chains[k]);
    const golden_record *cfg = golden_find(&sched_golden, rec);
    snprintf(rec, sizeof rec, "%s/lr", chains[k]);
    const golden_record *lrs = golden_find(&sched_golden, rec);
    CHECK(cfg != NULL && lrs != NULL && cfg->numel < (int64_t)sizeof config);
    if (cfg == NULL || lrs == NULL)
        return;
    for (int64_t i = 0; i < cfg->numel; i++)
        config[i] = (char)((const float *)cfg->data)[i];
    config[cfg->numel] = '\0';
    sscma_model *m = make_model();
    sscma_optimizer *o = NULL;
    sscma_scheduler *s = NULL;
    snprintf(rec, sizeof rec, "%s/momentum", chains[k]);
    const golden_record *moms = golden_find(&sched_golden, rec);
    CHECK_OK(sscma_optimizer_create(m, "{\"type\": \"SGD\", \"lr\": 0.1, \"momentum\": 0.9}", &o));
    CHECK_OK(sscma_scheduler_create(o, config, 10, &s));
    float got[60], got_m[60];
    sscma_optimizer *probe = o;
    for (int it = 0; s != NULL && it < 60; it++) {
        double lr = 0.0;
        sscma_optimizer_lr(o, &lr);
        got[it] = (float)lr;
        got_m[it] = (float)momentum_of(probe);
        CHECK_OK(sscma_scheduler_step_iter(s));
        if ((it + 1) % 10 == 0)
            CHECK_OK(sscma_scheduler_step_epoch(s));
    }
    int64_t where = 0;
    double worst = s != NULL ? golden_compare(got, lrs, 1e-6, &where) : INFINITY;
    if (worst > 1.0)
        test_fail(__FILE__, __LINE__, "%s: iteration %lld: lr %.9g vs reference %.9g", chains[k], (long long)where,
                  (double)got[where], (double)((const float *)lrs->data)[where]);
    if (moms != NULL && s != NULL && (worst = golden_compare(got_m, moms, 1e-6, &where)) > 1.0)
        test_fail(__FILE__, __LINE__, "%s: iteration %lld: momentum %.9g vs reference %.9g", chains[k],
                  (long long)where, (double)got_m[where], (double)((const float *)moms->data)[where]);
    sscma_scheduler_destroy(s);
    sscma_optimizer_destroy(o);
    sscma_model_destroy(m);
}

static void scheduler_errors(void)
{
    sscma_model *m = make_model();
    sscma_optimizer *o = NULL;
    sscma_scheduler *s = NULL;
    CHECK_OK(sscma_optimizer_create(m, "{\"type\": \"SGD\", \"lr\": 0.1}", &o));
    CHECK_FAILS(sscma_scheduler_create(o, "[{\"type\": \"WarmupLR\"}]", 10, &s), SSCMA_ERR_CONFIG,
                "scheduler: param_scheduler[0].type: expected LinearLR, ConstantLR, StepLR, MultiStepLR, ExponentialLR, "
                "CosineAnnealingLR, PolyLR, OneCycleLR or a Momentum variant (LinearMomentum, ...), got \"WarmupLR\"");
    CHECK_FAILS(sscma_scheduler_create(o, "[{\"type\": \"StepLR\", \"step_size\": 2}, {\"type\": \"LinearLR\"}]", 10,
                                       &s), SSCMA_ERR_CONFIG, "scheduler: param_scheduler[1]: LinearLR needs an 'end'");
    CHECK_FAILS(sscma_scheduler_create(o, "{\"type\": \"StepLR\", \"stepsize\": 2}", 10, &s), SSCMA_ERR_CONFIG,
                "unknown key 'stepsize'");
    CHECK_FAILS(sscma_scheduler_create(o, "{\"type\": \"LinearMomentum\", \"end\": 5}", 10, &s), SSCMA_ERR_CONFIG,
                "param_scheduler[0].type: LinearMomentum: the optimizer has no momentum");
    CHECK_FAILS(sscma_scheduler_create(o, "{\"type\": \"OneCycleLR\", \"eta_max\": 0.1}", 10, &s), SSCMA_ERR_CONFIG,
                "needs 'total_steps' (at least 2) or an 'end'");
    CHECK_FAILS(sscma_scheduler_create(o, "{\"type\": \"OneCycleLR\", \"eta_max\": 0.1, \"end\": 9, "
                                          "\"anneal_strategy\": \"exp\"}", 10, &s), SSCMA_ERR_CONFIG,
                "param_scheduler[0].anneal_strategy: expected one of: cos, linear, got \"exp\"");
    CHECK_FAILS(sscma_scheduler_create(o, "{\"type\": \"OneCycleLR\", \"T_max\": 3}", 10, &s), SSCMA_ERR_CONFIG,
                "unknown key 'T_max'; valid keys: type, begin");
    CHECK_FAILS(sscma_scheduler_create(o, "{\"type\": \"CosineAnnealingLR\", \"by_epoch\": true, "
                                          "\"convert_to_iter_based\": true, \"end\": 3}", 0, &s),
                SSCMA_ERR_CONFIG, "needs the iterations per epoch");
    CHECK_FAILS(sscma_scheduler_create(o, "{\"type\": \"ConstantLR\", \"begin\": 5, \"end\": 5}", 10, &s),
                SSCMA_ERR_CONFIG, "empty window");
    CHECK_FAILS(sscma_scheduler_create(NULL, "[]", 10, &s), SSCMA_ERR_INVALID_ARGUMENT, "'optimizer'");
    CHECK_FAILS(sscma_scheduler_step_iter(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'scheduler'");
    CHECK_FAILS(sscma_scheduler_step_epoch(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'scheduler'");
    CHECK(s == NULL);
    sscma_scheduler_destroy(NULL);
    sscma_optimizer_destroy(o);
    sscma_model_destroy(m);
}

/*
 * mmyolo's YOLOv5OptimizerConstructor: weights decay, norm weights and biases do not; the decay is scaled to a
 * nominal batch of 64 (batch 24: accumulate round(64 / 24) = 3, scale 24 * 3 / 64 = 1.125). One SGD step with zero
 * gradients shows each group's decay.
 */
static void yolov5_constructor_groups_and_decay(void)
{
    sscma_model *m = make_model();
    CHECK(m != NULL);
    if (m == NULL)
        return;
    float before[N_PARAMS][96];
    for (int i = 0; i < N_PARAMS; i++) {
        sscma_tensor *v = NULL, *g = NULL;
        void *d = NULL, *gd = NULL;
        int64_t n = 0;
        sscma_model_param(m, i, NULL, NULL, &v, &g);
        sscma_tensor_data(v, &d), sscma_tensor_data(g, &gd), sscma_tensor_numel(v, &n);
        memcpy(before[i], d, (size_t)n * sizeof(float));
        memset(gd, 0, (size_t)n * sizeof(float));
    }
    sscma_optimizer *o = NULL;
    CHECK_OK(sscma_optimizer_create(m, "{\"constructor\": \"YOLOv5OptimizerConstructor\", \"optimizer\": {\"type\": "
                                       "\"SGD\", \"lr\": 0.1, \"weight_decay\": 0.01, \"batch_size_per_gpu\": 24}}",
                                    &o));
    if (o != NULL)
        CHECK_OK(sscma_optimizer_step(o));
    const double keep = 1.0 - 0.1 * 0.01 * 1.125;
    for (int i = 0; i < N_PARAMS; i++) {
        sscma_tensor *v = NULL;
        void *d = NULL;
        int64_t n = 0;
        sscma_model_param(m, i, NULL, NULL, &v, NULL);
        sscma_tensor_data(v, &d), sscma_tensor_numel(v, &n);
        const bool decays = (params[i].flags & (SSCMA_PARAM_BIAS | SSCMA_PARAM_NORM)) == 0;
        for (int64_t k = 0; k < n; k++) {
            double want = decays ? before[i][k] * keep : before[i][k];
            if (fabs(((float *)d)[k] - want) > 1e-6 * fabs(want) + 1e-9) {
                test_fail(__FILE__, __LINE__, "%s[%lld]: %.9g, expected %.9g", params[i].name, (long long)k,
                          (double)((float *)d)[k], want);
                break;
            }
        }
    }
    sscma_optimizer_destroy(o);
    o = NULL;
    CHECK_FAILS(sscma_optimizer_create(m, "{\"constructor\": \"YOLOv5OptimizerConstructor\", \"optimizer\": "
                                          "{\"type\": \"SGD\"}}", &o),
                SSCMA_ERR_CONFIG, "optim_wrapper.optimizer.batch_size_per_gpu: expected the per-process batch size");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"optimizer\": {\"type\": \"SGD\", \"batch_size_per_gpu\": 16}}", &o),
                SSCMA_ERR_CONFIG, "batch_size_per_gpu: is read by YOLOv5OptimizerConstructor only");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"constructor\": \"YOLOv5OptimizerConstructor\", \"optimizer\": "
                                          "{\"type\": \"SGD\", \"batch_size_per_gpu\": 16}, \"paramwise_cfg\": {}}", &o),
                SSCMA_ERR_CONFIG, "YOLOv5OptimizerConstructor makes its own parameter groups");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"constructor\": \"LearningRateDecay\", \"optimizer\": {\"type\": "
                                          "\"SGD\"}}", &o),
                SSCMA_ERR_CONFIG, "constructor: expected DefaultOptimWrapperConstructor or YOLOv5OptimizerConstructor");
    sscma_model_destroy(m);
}

static void configs_and_arguments(void)
{
    sscma_model *m = make_model();
    sscma_optimizer *o = NULL;
    double v = 0;
    CHECK_FAILS(sscma_optimizer_create(m, "{\"type\": \"RMSprop\"}", &o), SSCMA_ERR_CONFIG,
                "type: expected one of: SGD, Adam, AdamW, got \"RMSprop\"");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"type\": \"SGD\", \"lr\": -1}", &o), SSCMA_ERR_CONFIG, "optimizer: lr: expected a number 0..1000000, got -1");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"type\": \"SGD\", \"momentun\": 0.9}", &o), SSCMA_ERR_CONFIG,
                "unknown key 'momentun'; valid keys: type, lr, momentum");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"type\": \"SGD\", \"nesterov\": true}", &o), SSCMA_ERR_CONFIG,
                "Nesterov momentum needs momentum > 0");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"type\": \"Adam\", \"betas\": [0.9]}", &o), SSCMA_ERR_CONFIG,
                "betas: expected a list of 2 numbers (each a number 0..1), got [0.9]");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"type\": \"AdamW\", \"betas\": [0.9, 1]}", &o), SSCMA_ERR_CONFIG,
                "optimizer: betas: expected two numbers in [0, 1), got [0.9, 1]");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"optimizer\": {\"type\": \"SGD\", \"lr\": \"0.1\"}}", &o),
                SSCMA_ERR_CONFIG, "optimizer: optim_wrapper.optimizer.lr: expected a number 0..1000000, got \"0.1\"");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"optimizer\": {\"type\": \"SGD\"}, \"clip_grad\": {}}", &o),
                SSCMA_ERR_CONFIG, "optim_wrapper.clip_grad.max_norm: expected a number 1e-12..1e+12, missing");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"optimizer\": {\"type\": \"SGD\"}, \"paramwise_cfg\": {\"custom_keys\": "
                                          "{\".\": {\"lr\": 2}}}}", &o),
                SSCMA_ERR_CONFIG, "optim_wrapper.paramwise_cfg.custom_keys..: unknown key 'lr'; valid keys: lr_mult, "
                "decay_mult");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"optimizer\": {\"type\": \"SGD\"}, \"type\": \"Apex\"}", &o),
                SSCMA_ERR_CONFIG, "optim_wrapper.type: expected OptimWrapper or AmpOptimWrapper, got \"Apex\"");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"optimizer\": {\"type\": \"SGD\"}, \"clip_grad\": {\"norm\": 1}}", &o),
                SSCMA_ERR_CONFIG, "optimizer: optim_wrapper.clip_grad: unknown key 'norm'; valid keys: max_norm, norm_type");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"optimizer\": {\"type\": \"SGD\"}, \"paramwise_cfg\": {\"norm_decay\": 0}}",
                                       &o), SSCMA_ERR_CONFIG, "optimizer: optim_wrapper.paramwise_cfg: unknown key 'norm_decay'; valid keys: norm_decay_mult");
    CHECK_FAILS(sscma_optimizer_create(m, "{\"type\": ", &o), SSCMA_ERR_CONFIG, "line 1");
    CHECK_FAILS(sscma_optimizer_create(NULL, "{}", &o), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK(o == NULL);
    CHECK_OK(sscma_optimizer_create(m, "{\"type\": \"SGD\", \"lr\": 0.1}", &o));
    CHECK_OK(sscma_optimizer_set_lr(o, 0.25));
    CHECK_OK(sscma_optimizer_lr(o, &v));
    CHECK(v == 0.25);
    CHECK_FAILS(sscma_optimizer_set_lr(o, NAN), SSCMA_ERR_INVALID_ARGUMENT, "lr nan");
    CHECK_FAILS(sscma_optimizer_set_momentum(o, 1.0), SSCMA_ERR_INVALID_ARGUMENT, "momentum 1 must be in [0, 1)");
    /* a non-finite gradient stops the step before anything changes */
    sscma_tensor *g = NULL, *val = NULL;
    void *gd = NULL, *vd = NULL;
    sscma_model_param(m, 0, NULL, NULL, &val, &g);
    sscma_tensor_data(g, &gd), sscma_tensor_data(val, &vd);
    float before = ((float *)vd)[0];
    ((float *)gd)[3] = INFINITY;
    CHECK_FAILS(sscma_optimizer_step(o), SSCMA_ERR_NUMERIC, "gradient norm is inf");
    CHECK(((float *)vd)[0] == before);
    CHECK_OK(sscma_optimizer_grad_norm(o, &v));
    CHECK(isinf(v));
    CHECK_FAILS(sscma_optimizer_step(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'optimizer'");
    CHECK_FAILS(sscma_optimizer_set_lr(NULL, 1.0), SSCMA_ERR_INVALID_ARGUMENT, "'optimizer'");
    CHECK_FAILS(sscma_optimizer_lr(o, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_optimizer_set_momentum(NULL, 0.5), SSCMA_ERR_INVALID_ARGUMENT, "'optimizer'");
    CHECK_FAILS(sscma_optimizer_momentum(NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'optimizer'");
    CHECK_FAILS(sscma_optimizer_grad_norm(NULL, &v), SSCMA_ERR_INVALID_ARGUMENT, "'optimizer'");
    sscma_optimizer_destroy(o);
    sscma_optimizer_destroy(NULL);
    sscma_model_destroy(m);
}

/* ---- resuming optimizer and trainer state (sscma_trainer_resume) ---- */

/* A trainer of the given optimizer type over 24 16x16 one-channel images of 4 classes (3 batches of 8). */
typedef struct resume_stack {
    sscma_dataset *ds;
    sscma_loader *loader;
    sscma_model *model;
    sscma_trainer *trainer;
} resume_stack;

static sscma_status resume_stack_make(resume_stack *s, const char *optimizer)
{
    memset(s, 0, sizeof *s);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"split\": \"train\"}", tmpdir);
    sscma_status st = sscma_dataset_open(ctx, cfg, &s->ds);
    if (st == SSCMA_OK)
        st = sscma_loader_create(ctx, s->ds, "{\"batch_size\": 8}", &s->loader);
    if (st == SSCMA_OK)
        st = sscma_model_create(ctx,
                                "{\"type\": \"ImageClassifier\", \"input_size\": [16, 16], \"backbone\": {\"type\": "
                                "\"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1}, \"head\": {\"type\": "
                                "\"LinearClsHead\", \"num_classes\": 4}}",
                                &s->model);
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 2, \"optim_wrapper\": {\"optimizer\": %s}}", optimizer);
    if (st == SSCMA_OK)
        st = sscma_trainer_create(s->model, s->loader, NULL, cfg, &s->trainer);
    return st;
}

static void resume_stack_free(resume_stack *s)
{
    sscma_trainer_destroy(s->trainer);
    sscma_model_destroy(s->model);
    sscma_loader_destroy(s->loader);
    sscma_dataset_destroy(s->ds);
}

static void write_images(void)
{
    enum { N = 24, SIDE = 16 };
    static uint8_t pixels[N * SIDE * SIDE], labels[N];
    for (int i = 0; i < N * SIDE * SIDE; i++)
        pixels[i] = (uint8_t)(i * 37 % 251);
    for (int i = 0; i < N; i++)
        labels[i] = (uint8_t)(i % 4);
    const uint32_t idims[3] = {N, SIDE, SIDE}, ldims[1] = {N};
    char path[128];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", tmpdir);
    write_idx(path, 0x803, idims, 3, pixels, sizeof pixels, false);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", tmpdir);
    write_idx(path, 0x801, ldims, 1, labels, sizeof labels, false);
}

/* Removes state.optimizer.type: a checkpoint written before the type was stored. */
static void drop_optimizer_type(json_t *header, void *user)
{
    (void)user;
    json_object_del(json_object_get(json_object_get(header, "state"), "optimizer"), "type");
}

/* Sets state.trainer.<key> = value (user: "key=value"). */
static void set_trainer_count(json_t *header, void *user)
{
    char key[32];
    long long value = 0;
    if (sscanf(user, "%31[^=]=%lld", key, &value) == 2)
        json_object_set_new(json_object_get(json_object_get(header, "state"), "trainer"), key, json_integer(value));
}

/* Saves a checkpoint of a fresh trainer of `optimizer` to dir/<file>. */
static void save_with(const char *optimizer, const char *path)
{
    resume_stack s;
    CHECK_OK(resume_stack_make(&s, optimizer));
    if (s.trainer != NULL)
        CHECK_OK(sscma_trainer_save(s.trainer, path));
    resume_stack_free(&s);
}

static void resume_refuses_another_optimizers_state(void)
{
    write_images();
    static const char *const adam = "{\"type\": \"Adam\", \"lr\": 0.001}",
                             *adamw = "{\"type\": \"AdamW\", \"lr\": 0.001}",
                             *sgd = "{\"type\": \"SGD\", \"lr\": 0.1, \"momentum\": 0.9}",
                             *plain_sgd = "{\"type\": \"SGD\", \"lr\": 0.1}";
    char adam_path[128], adamw_path[128], sgd_path[128], old[128], expect[300];
    snprintf(adam_path, sizeof adam_path, "%s/adam.ckpt", tmpdir);
    snprintf(adamw_path, sizeof adamw_path, "%s/adamw.ckpt", tmpdir);
    snprintf(sgd_path, sizeof sgd_path, "%s/sgd.ckpt", tmpdir);
    snprintf(old, sizeof old, "%s/old.ckpt", tmpdir);
    save_with(adam, adam_path);
    save_with(adamw, adamw_path);
    save_with(sgd, sgd_path);
    resume_stack s;
    CHECK_OK(resume_stack_make(&s, sgd));
    if (s.trainer == NULL)
        return resume_stack_free(&s);
    /* Adam's exp_avg has SGD's momentum buffer's name and shape: it used to be taken as the momentum */
    snprintf(expect, sizeof expect,
             "%s: state.optimizer: the state of another optimizer (Adam); this run's optimizer is SGD", adam_path);
    CHECK_FAILS(sscma_trainer_resume(s.trainer, adam_path), SSCMA_ERR_FORMAT, expect);
    /* checkpoints written before the type was stored: Adam's second buffers tell */
    CHECK_INT_EQ(ckpt_fixture_rewrite(adam_path, old, drop_optimizer_type, NULL), 0);
    snprintf(expect, sizeof expect,
             "%s: state.optimizer: the state of another optimizer (Adam or AdamW: it has Adam's buffers); this run's "
             "optimizer is SGD", old);
    CHECK_FAILS(sscma_trainer_resume(s.trainer, old), SSCMA_ERR_FORMAT, expect);
    CHECK_INT_EQ(ckpt_fixture_rewrite(sgd_path, old, drop_optimizer_type, NULL), 0);
    CHECK_OK(sscma_trainer_resume(s.trainer, old)); /* an old checkpoint of the same type still resumes */
    CHECK_OK(sscma_trainer_resume(s.trainer, sgd_path));
    resume_stack_free(&s);
    /* SGD without momentum keeps no buffer at all: only the type can tell */
    CHECK_OK(resume_stack_make(&s, plain_sgd));
    snprintf(expect, sizeof expect, "the state of another optimizer (AdamW); this run's optimizer is SGD");
    CHECK_FAILS(sscma_trainer_resume(s.trainer, adamw_path), SSCMA_ERR_FORMAT, expect);
    resume_stack_free(&s);
    /* Adam and AdamW keep the same buffers; their updates differ */
    CHECK_OK(resume_stack_make(&s, adam));
    CHECK_FAILS(sscma_trainer_resume(s.trainer, adamw_path), SSCMA_ERR_FORMAT,
                "the state of another optimizer (AdamW); this run's optimizer is Adam");
    CHECK_FAILS(sscma_trainer_resume(s.trainer, sgd_path), SSCMA_ERR_FORMAT,
                "the state of another optimizer (SGD); this run's optimizer is Adam");
    CHECK_INT_EQ(ckpt_fixture_rewrite(sgd_path, old, drop_optimizer_type, NULL), 0);
    CHECK_FAILS(sscma_trainer_resume(s.trainer, old), SSCMA_ERR_FORMAT,
                "the state of another optimizer (SGD: it has no Adam buffers); this run's optimizer is Adam");
    CHECK_INT_EQ(ckpt_fixture_rewrite(adam_path, old, drop_optimizer_type, NULL), 0);
    CHECK_OK(sscma_trainer_resume(s.trainer, old));
    resume_stack_free(&s);
}

static void resume_refuses_absurd_counters(void)
{
    write_images();
    static const char *const sgd = "{\"type\": \"SGD\", \"lr\": 0.1, \"momentum\": 0.9}";
    char good[128], bad[128], expect[300];
    snprintf(good, sizeof good, "%s/counters.ckpt", tmpdir);
    snprintf(bad, sizeof bad, "%s/counters-bad.ckpt", tmpdir);
    save_with(sgd, good);
    resume_stack s;
    CHECK_OK(resume_stack_make(&s, sgd));
    if (s.trainer == NULL)
        return resume_stack_free(&s);
    static const struct {
        const char *edit, *message;
    } counters[] = {
        {"epoch=1000000000000", "state.trainer.epoch: expected an integer in [0, 1000000] (the largest max_epochs), "
                                "got 1000000000000"},
        {"epoch=-1", "state.trainer.epoch: expected an integer in [0, 1000000] (the largest max_epochs), got -1"},
        {"epoch_iter=4", "state.trainer.epoch_iter: expected an integer in [0, 3] (the loader's batches per epoch), "
                         "got 4"},
        {"epoch_iter=-3", "state.trainer.epoch_iter: expected an integer in [0, 3]"},
        {"iter=1000000000000", "state.trainer.iter: expected an integer in [0, 68719476736] (from epoch_iter to 2^36 "
                               "iterations), got 1000000000000"},
        {"iter=-1", "state.trainer.iter: expected an integer in [0, 68719476736]"},
    };
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++) {
        CHECK_INT_EQ(ckpt_fixture_rewrite(good, bad, set_trainer_count, (void *)counters[i].edit), 0);
        snprintf(expect, sizeof expect, "%s: %s", bad, counters[i].message);
        CHECK_FAILS(sscma_trainer_resume(s.trainer, bad), SSCMA_ERR_FORMAT, expect);
        int64_t epochs = -1, iters = -1;
        CHECK_OK(sscma_trainer_position(s.trainer, &epochs, &iters));
        CHECK(epochs == 0 && iters == 0); /* nothing was resumed */
    }
    /* the largest counters a run can reach still resume */
    CHECK_INT_EQ(ckpt_fixture_rewrite(good, bad, set_trainer_count, "epoch=1000000"), 0);
    CHECK_OK(sscma_trainer_resume(s.trainer, bad));
    CHECK_INT_EQ(ckpt_fixture_rewrite(good, bad, set_trainer_count, "epoch_iter=3"), 0);
    CHECK_INT_EQ(ckpt_fixture_rewrite(bad, bad, set_trainer_count, "iter=5"), 0);
    CHECK_OK(sscma_trainer_resume(s.trainer, bad));
    int64_t epochs = -1, iters = -1;
    CHECK_OK(sscma_trainer_position(s.trainer, &epochs, &iters));
    CHECK(epochs == 0 && iters == 5);
    CHECK_INT_EQ(ckpt_fixture_rewrite(good, bad, set_trainer_count, "iter=2"), 0);
    CHECK_INT_EQ(ckpt_fixture_rewrite(bad, bad, set_trainer_count, "epoch_iter=3"), 0);
    CHECK_FAILS(sscma_trainer_resume(s.trainer, bad), SSCMA_ERR_FORMAT,
                "state.trainer.iter: expected an integer in [3, 68719476736]");
    resume_stack_free(&s);
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {TEST_CASE(configs_and_arguments),
        TEST_CASE(yolov5_constructor_groups_and_decay), TEST_CASE(scheduler_errors),
                                      TEST_CASE(resume_refuses_another_optimizers_state),
                                      TEST_CASE(resume_refuses_absurd_counters)};
    enum { N = sizeof cases / sizeof cases[0], NS = sizeof chains / sizeof chains[0] };
    static test_param_case pc[N + NS];
    for (size_t i = 0; i < N; i++) {
        snprintf(pc[i].name, sizeof pc[i].name, "torch.optim %s, 20 steps", cases[i].name);
        pc[i].fn = optimizer_case;
        pc[i].index = i;
    }
    for (size_t i = 0; i < NS; i++) {
        snprintf(pc[N + i].name, sizeof pc[N + i].name, "scheduler chain %s, 60 iterations", chains[i]);
        pc[N + i].fn = scheduler_case;
        pc[N + i].index = i;
    }
    if (golden_load(&golden, GOLDEN_DIR "/optim.bin") != 0 || golden_load(&sched_golden, GOLDEN_DIR "/sched.bin") != 0 ||
        sscma_context_create(NULL, &ctx) != SSCMA_OK || fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-optim") != 0)
        return 99;
    int rc = test_main_params(argc, argv, tests, TEST_COUNT(tests), pc, N + NS);
    if (fixture_tmpdir_remove(tmpdir) != 0)
        rc = 1;
    golden_free(&sched_golden);
    sscma_context_destroy(ctx);
    golden_free(&golden);
    return rc;
}
