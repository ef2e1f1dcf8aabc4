/*
 * Unit tests of model.h through the shared library: execution (a step allocates nothing, SGD lowers the loss,
 * evaluation and freezing, thread-count determinism), bad configs, models built layer by layer, QAT rewrites. The
 * families' counts and PyTorch references are in test_zoo.c, checkpoints in test_io.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_training.h"
#include "harness.h"

/* Counts allocations, to prove a training step makes none. */
typedef struct counter {
    long allocs, live;
} counter;

static void *count_alloc(void *user, size_t size, size_t alignment)
{
    counter *c = user;
    void *p = NULL;
    if (posix_memalign(&p, alignment < sizeof(void *) ? sizeof(void *) : alignment, size) != 0)
        return NULL;
    c->allocs++, c->live++;
    return p;
}

static void count_free(void *user, void *ptr, size_t size)
{
    (void)size;
    ((counter *)user)->live--;
    free(ptr);
}

static void training_step_runs_and_allocates_nothing(void)
{
    counter c = {0, 0};
    sscma_context_options o;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.alloc_fn = count_alloc, o.free_fn = count_free, o.alloc_user_data = &c, o.num_threads = 2;
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(&o, &ctx));
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &m));
    CHECK_OK(sscma_model_prepare(m, 8, 1));
    fixture_fill_batch(m, 8, 4, 1);
    sscma_tensor *logits = NULL, *loss_view = NULL;
    CHECK_OK(sscma_model_output(m, "logits", &logits)); /* views are made here, outside the step */
    CHECK_OK(sscma_model_output(m, "loss", &loss_view));
    int32_t fc = -1;
    sscma_tensor *fc_grad = NULL;
    CHECK_OK(sscma_model_find_param(m, "head.fc.weight", &fc));
    CHECK_OK(sscma_model_param(m, fc, NULL, NULL, NULL, &fc_grad));
    /* warm-up step: the pool starts its threads on first use */
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_model_backward(m));
    long before = c.allocs;
    CHECK_OK(sscma_model_zero_grad(m));
    CHECK_OK(sscma_model_forward(m));
    float loss = fixture_read_loss(m);
    CHECK_OK(sscma_model_backward(m));
    CHECK_INT_EQ(c.allocs - before, 0);
    /* initial loss close to log(4): near-uniform logits from the N(0, 0.01) head */
    CHECK(isfinite(loss) && fabsf(loss - logf(4.0f)) < 0.2f);
    void *g = NULL;
    int64_t n = 0;
    CHECK_OK(sscma_tensor_data(fc_grad, &g));
    CHECK_OK(sscma_tensor_numel(fc_grad, &n));
    double norm = 0.0;
    for (int64_t i = 0; i < n; i++)
        norm += fabs(((float *)g)[i]);
    CHECK(norm > 0.0);
    CHECK_OK(sscma_model_zero_grad(m));
    norm = 0.0;
    for (int64_t i = 0; i < n; i++)
        norm += fabs(((float *)g)[i]);
    CHECK(norm == 0.0);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
    CHECK_INT_EQ(c.live, 0);
}

/* Steps of plain SGD on one batch must lower its loss: the gradients point the right way through the whole graph. */
static void sgd_steps_reduce_the_loss(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &m));
    CHECK_OK(sscma_model_prepare(m, 8, 1));
    fixture_fill_batch(m, 8, 4, 3);
    float first = 0.0f, last = 0.0f;
    fixture_sgd_steps(m, 15, 0.05f, &first, &last);
    CHECK(isfinite(last) && last < 0.5f * first);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

static void evaluation_skips_the_loss_and_freezing_stops_gradients(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &m));
    CHECK_OK(sscma_model_prepare(m, 3, 0));
    fixture_fill_batch(m, 3, 4, 5);
    sscma_tensor *target = NULL;
    void *t = NULL;
    CHECK_OK(sscma_model_input(m, "target", &target));
    CHECK_OK(sscma_tensor_data(target, &t));
    ((int32_t *)t)[0] = 99; /* not a class: evaluation must not even look at it */
    CHECK_OK(sscma_model_forward(m));
    CHECK_FAILS(sscma_model_backward(m), SSCMA_ERR_STATE, "not prepared for training");

    int32_t changed = 0, index = -1;
    CHECK_OK(sscma_model_set_frozen(m, "backbone.", 1, &changed));
    CHECK_INT_EQ(changed, 52 + 52 * 2);
    CHECK_OK(sscma_model_prepare(m, 3, 1));
    fixture_fill_batch(m, 3, 4, 5);
    CHECK_OK(sscma_model_zero_grad(m));
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_model_backward(m));
    uint32_t flags = 0;
    sscma_tensor *g = NULL;
    void *gd = NULL;
    CHECK_OK(sscma_model_find_param(m, "backbone.features.0.0.weight", &index));
    CHECK_OK(sscma_model_param(m, index, NULL, &flags, NULL, &g));
    CHECK_INT_EQ(flags & SSCMA_PARAM_TRAINABLE, 0);
    CHECK_OK(sscma_tensor_data(g, &gd));
    CHECK(((float *)gd)[0] == 0.0f && ((float *)gd)[5] == 0.0f);
    CHECK_OK(sscma_model_find_param(m, "head.fc.bias", &index));
    CHECK_OK(sscma_model_param(m, index, NULL, NULL, NULL, &g));
    CHECK_OK(sscma_tensor_data(g, &gd));
    CHECK(((float *)gd)[0] != 0.0f);
    CHECK_OK(sscma_model_set_frozen(m, "", 0, &changed));
    CHECK_INT_EQ(changed, 52 + 52 * 2);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

static void same_seed_same_model_and_bits(void)
{
    sscma_context *a = NULL, *b = NULL;
    sscma_context_options o;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.seed = 7, o.num_threads = 1;
    CHECK_OK(sscma_context_create(&o, &a));
    o.num_threads = 2;
    CHECK_OK(sscma_context_create(&o, &b));
    sscma_model *ma = NULL, *mb = NULL;
    CHECK_OK(sscma_model_create(a, fixture_small_classifier, &ma));
    CHECK_OK(sscma_model_create(b, fixture_small_classifier, &mb));
    CHECK_OK(sscma_model_prepare(ma, 4, 1));
    CHECK_OK(sscma_model_prepare(mb, 4, 1));
    fixture_fill_batch(ma, 4, 4, 9);
    fixture_fill_batch(mb, 4, 4, 9);
    CHECK_OK(sscma_model_forward(ma));
    CHECK_OK(sscma_model_forward(mb));
    CHECK_OK(sscma_model_backward(ma));
    CHECK_OK(sscma_model_backward(mb));
    float la = fixture_read_loss(ma), lb = fixture_read_loss(mb);
    CHECK(memcmp(&la, &lb, sizeof la) == 0); /* 1 and 2 threads: same bits */
    int32_t count = 0, differ = 0;
    CHECK_OK(sscma_model_param_count(ma, &count));
    for (int32_t i = 0; i < count; i++) {
        sscma_tensor *ga = NULL, *gb = NULL, *va = NULL, *vb = NULL;
        CHECK_OK(sscma_model_param(ma, i, NULL, NULL, &va, &ga));
        CHECK_OK(sscma_model_param(mb, i, NULL, NULL, &vb, &gb));
        size_t bytes = 0;
        void *x = NULL, *y = NULL;
        sscma_tensor_size_bytes(va, &bytes);
        sscma_tensor_data(va, &x), sscma_tensor_data(vb, &y);
        differ += memcmp(x, y, bytes) != 0;
        if (ga != NULL) {
            sscma_tensor_data(ga, &x), sscma_tensor_data(gb, &y);
            differ += memcmp(x, y, bytes) != 0;
        }
    }
    CHECK_INT_EQ(differ, 0);
    sscma_model_destroy(ma);
    sscma_model_destroy(mb);
    sscma_context_destroy(a);
    sscma_context_destroy(b);
}

static void bad_configs_and_arguments(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_FAILS(sscma_model_create(NULL, fixture_mobilenetv2_96, &m), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_model_create(ctx, NULL, &m), SSCMA_ERR_INVALID_ARGUMENT, "'config_json'");
    CHECK_FAILS(sscma_model_create(ctx, fixture_mobilenetv2_96, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_model_create(ctx, "{\"type\": \"ImageClassifier\",\n \"head\": }", &m), SSCMA_ERR_CONFIG,
                "line 2");
    CHECK_FAILS(sscma_model_create(ctx, "{\"type\": \"Yolo\"}", &m), SSCMA_ERR_CONFIG,
                "model: model.type: expected one of: ImageClassifier, Fomo, PFLD, YOLODetector, RTMDet, AccelerometerClassifier, Vae_Model, Audio_classify, got \"Yolo\"");
    CHECK_FAILS(sscma_model_create(ctx,
                                   "{\"type\": \"ImageClassifier\", \"backbone\": {\"type\": \"MobileNetV2\","
                                   " \"widen\": 0.5}, \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 3}}",
                                   &m),
                SSCMA_ERR_CONFIG,
                "MobileNetV2: model.backbone: unknown key 'widen'; valid keys: type, widen_factor");
    CHECK_FAILS(sscma_model_create(ctx,
                                   "{\"type\": \"ImageClassifier\", \"backbone\": {\"type\": \"MobileNetV2\"},"
                                   " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": \"ten\"}}",
                                   &m),
                SSCMA_ERR_CONFIG,
                "LinearClsHead: model.head.num_classes: expected an integer 1..100000, got \"ten\"");
    CHECK_FAILS(sscma_model_create(ctx,
                                   "{\"type\": \"ImageClassifier\", \"backbone\": {\"type\": \"MobileNetV2\","
                                   " \"widen_factor\": 9}, \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 3}}",
                                   &m),
                SSCMA_ERR_CONFIG,
                "MobileNetV2: model.backbone.widen_factor: expected a number 0.05..4, got 9");
    CHECK(m == NULL);
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &m));
    sscma_tensor *t = NULL;
    int32_t n = 0;
    int64_t v = 0;
    const char *s = NULL;
    CHECK_FAILS(sscma_model_input(m, "image", &t), SSCMA_ERR_STATE, "prepare");
    CHECK_FAILS(sscma_model_forward(m), SSCMA_ERR_STATE, "prepare");
    CHECK_FAILS(sscma_model_prepare(m, 0, 1), SSCMA_ERR_INVALID_ARGUMENT, "batch_size is 0");
    CHECK_FAILS(sscma_model_prepare(NULL, 2, 1), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_OK(sscma_model_prepare(m, 2, 1));
    CHECK_FAILS(sscma_model_input(m, "images", &t), SSCMA_ERR_NOT_FOUND, "inputs: image, target");
    CHECK_FAILS(sscma_model_output(m, "probs", &t), SSCMA_ERR_NOT_FOUND, "outputs: logits, loss");
    CHECK_FAILS(sscma_model_input(NULL, "image", &t), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_output(m, NULL, &t), SSCMA_ERR_INVALID_ARGUMENT, "'name'");
    CHECK_FAILS(sscma_model_forward(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_backward(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_zero_grad(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_param_count(NULL, &n), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_param(m, 100000, &s, NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "index 100000");
    CHECK_FAILS(sscma_model_find_param(m, NULL, &n), SSCMA_ERR_INVALID_ARGUMENT, "'name'");
    CHECK_FAILS(sscma_model_set_frozen(m, NULL, 1, &n), SSCMA_ERR_INVALID_ARGUMENT, "'prefix'");
    CHECK_FAILS(sscma_model_stats(NULL, &v, &v), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_layer_count(m, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_model_layer(m, -1, &s, &s, &v), SSCMA_ERR_INVALID_ARGUMENT, "index -1");
    sscma_model_destroy(m);
    sscma_model_destroy(NULL);
    sscma_context_destroy(ctx);
}


/* A small convolutional classifier built layer by layer through experimental.h. */
static sscma_status build_custom(sscma_context *ctx, sscma_model **out)
{
    sscma_model *m = NULL;
    sscma_status st = sscma_model_create_empty(ctx, &m);
    const int64_t x_dims[4] = {1, 8, 8, 2}, t_dims[1] = {1}, w_dims[4] = {6, 3, 3, 2}, c_dims[1] = {6};
    const int64_t fc_dims[2] = {3, 6}, fcb_dims[1] = {3};
    if (st == SSCMA_OK)
        st = sscma_model_add_input(m, "x", SSCMA_DTYPE_F32, 4, x_dims, 0);
    if (st == SSCMA_OK)
        st = sscma_model_add_input(m, "label", SSCMA_DTYPE_I32, 1, t_dims, SSCMA_INPUT_TARGET);
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "conv.weight", 4, w_dims, SSCMA_PARAM_TRAINABLE, "kaiming_normal");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "bn.weight", 1, c_dims, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM, "ones");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "bn.bias", 1, c_dims, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM | SSCMA_PARAM_BIAS,
                                   "zeros");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "bn.running_mean", 1, c_dims, SSCMA_PARAM_BUFFER, "zeros");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "bn.running_var", 1, c_dims, SSCMA_PARAM_BUFFER, "ones");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "fc.weight", 2, fc_dims, SSCMA_PARAM_TRAINABLE, "normal:0.1");
    if (st == SSCMA_OK)
        st = sscma_model_add_param(m, "fc.bias", 1, fcb_dims, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros");
    const char *conv_in[] = {"x", "conv.weight"}, *bn_in[] = {"conv", "bn.weight", "bn.bias", "bn.running_mean",
                                                               "bn.running_var"};
    const char *pool_in[] = {"bn"}, *flat_in[] = {"pool"}, *fc_in[] = {"flat", "fc.weight", "fc.bias"};
    const char *loss_in[] = {"fc", "label"};
    if (st == SSCMA_OK)
        st = sscma_model_add_layer(m, "conv", "conv2d", "{\"stride_h\": 2, \"stride_w\": 2, \"pad_same\": true}",
                                   conv_in, 2);
    if (st == SSCMA_OK)
        st = sscma_model_add_layer(m, "bn", "batch_norm_act", "{\"act\": \"relu6\"}", bn_in, 5);
    if (st == SSCMA_OK)
        st = sscma_model_add_layer(m, "pool", "global_avg_pool", NULL, pool_in, 1);
    if (st == SSCMA_OK)
        st = sscma_model_add_layer(m, "flat", "reshape", "{\"dims\": [-1, 6]}", flat_in, 1);
    if (st == SSCMA_OK)
        st = sscma_model_add_layer(m, "fc", "linear", "", fc_in, 3);
    if (st == SSCMA_OK)
        st = sscma_model_add_layer(m, "ce", "cross_entropy", "{\"label_smoothing\": 0.05}", loss_in, 2);
    if (st == SSCMA_OK)
        st = sscma_model_add_output(m, "logits", "fc", 0);
    if (st == SSCMA_OK)
        st = sscma_model_add_output(m, "loss", "ce", 1);
    if (st != SSCMA_OK) {
        sscma_model_destroy(m);
        return st;
    }
    *out = m;
    return SSCMA_OK;
}

static void layer_by_layer_model_trains(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(build_custom(ctx, &m));
    int64_t params = 0, macs = 0;
    CHECK_OK(sscma_model_stats(m, &params, &macs));
    CHECK_INT_EQ(params, 6 * 3 * 3 * 2 + 6 + 6 + 3 * 6 + 3);
    CHECK_INT_EQ(macs, 4 * 4 * 6 * 18 + 3 * 6);
    CHECK_OK(sscma_model_prepare(m, 6, 1));
    sscma_tensor *t = NULL;
    void *d = NULL;
    CHECK_OK(sscma_model_input(m, "x", &t));
    CHECK_OK(sscma_tensor_data(t, &d));
    for (int i = 0; i < 6 * 8 * 8 * 2; i++) /* class = sample % 3, with a class-dependent pattern */
        ((float *)d)[i] = (float)sin(0.3 * i) + (float)((i / 128) % 3) * (i % 2 ? 1.0f : -1.0f);
    CHECK_OK(sscma_model_input(m, "label", &t));
    CHECK_OK(sscma_tensor_data(t, &d));
    for (int i = 0; i < 6; i++)
        ((int32_t *)d)[i] = i % 3;
    float first = 0.0f, last = 0.0f;
    fixture_sgd_steps(m, 40, 0.2f, &first, &last);
    CHECK(isfinite(last) && last < 0.6f * first);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

static void layer_by_layer_errors(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL, *family = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create_empty(ctx, &m));
    const int64_t dims[4] = {1, 8, 8, 2}, w[4] = {4, 3, 3, 3};
    const char *in2[] = {"x", "w"}, *missing[] = {"x", "nope"};
    CHECK_OK(sscma_model_add_input(m, "x", SSCMA_DTYPE_F32, 4, dims, 0));
    CHECK_FAILS(sscma_model_add_input(m, "x", SSCMA_DTYPE_F32, 4, dims, 0), SSCMA_ERR_INVALID_ARGUMENT,
                "'x' is already used");
    CHECK_FAILS(sscma_model_add_input(m, "u", SSCMA_DTYPE_U8, 4, dims, 0), SSCMA_ERR_DTYPE, "inputs are f32 or i32");
    CHECK_FAILS(sscma_model_add_input(m, "u", SSCMA_DTYPE_F32, 4, dims, 0x40), SSCMA_ERR_INVALID_ARGUMENT,
                "unknown input flags");
    CHECK_OK(sscma_model_add_param(m, "w", 4, w, SSCMA_PARAM_TRAINABLE, "uniform:0.1"));
    CHECK_FAILS(sscma_model_add_param(m, "w2", 4, w, SSCMA_PARAM_TRAINABLE, "gaussian"), SSCMA_ERR_INVALID_ARGUMENT,
                "init 'gaussian'");
    CHECK_FAILS(sscma_model_add_param(m, "w2", 4, NULL, SSCMA_PARAM_TRAINABLE, "zeros"), SSCMA_ERR_INVALID_ARGUMENT,
                "NULL dims");
    CHECK_FAILS(sscma_model_add_layer(m, "c", "conv3d", NULL, in2, 2), SSCMA_ERR_NOT_FOUND, "no op named 'conv3d'");
    CHECK_FAILS(sscma_model_add_layer(m, "c", "conv2d", NULL, missing, 2), SSCMA_ERR_NOT_FOUND, "'nope'");
    CHECK_FAILS(sscma_model_add_layer(m, "c", "conv2d", "{\"stride\": 2}", in2, 2), SSCMA_ERR_CONFIG,
                "conv2d: unknown key 'stride'; valid keys: stride_h, stride_w");
    CHECK_FAILS(sscma_model_add_layer(m, "c", "conv2d", "{\"groups\": \"two\"}", in2, 2), SSCMA_ERR_CONFIG,
                "conv2d: groups: expected an integer, got \"two\"");
    CHECK_FAILS(sscma_model_add_layer(m, "c", "conv2d", NULL, in2, 2), SSCMA_ERR_SHAPE,
                "node 'c': conv2d: input f32[1, 8, 8, 2] has 2 channels; weight f32[4, 3, 3, 3] expects 3");
    CHECK_FAILS(sscma_model_add_layer(m, "c", "batch_norm_act", "{\"act\": \"gelu\"}", in2, 2), SSCMA_ERR_CONFIG,
                "act: expected one of: none, relu, relu6");
    CHECK_FAILS(sscma_model_add_output(m, "y", "nothing", 0), SSCMA_ERR_NOT_FOUND, "'nothing'");
    CHECK_FAILS(sscma_model_add_output(m, "loss", "x", 1), SSCMA_ERR_INVALID_ARGUMENT, "must be a scalar");
    CHECK_FAILS(sscma_model_create_empty(NULL, &m), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_model_add_input(NULL, "x", SSCMA_DTYPE_F32, 4, dims, 0), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_add_param(m, NULL, 4, w, 0, "zeros"), SSCMA_ERR_INVALID_ARGUMENT, "'name'");
    CHECK_FAILS(sscma_model_add_layer(m, "c", NULL, NULL, in2, 2), SSCMA_ERR_INVALID_ARGUMENT, "'op'");
    CHECK_FAILS(sscma_model_add_output(m, NULL, "x", 0), SSCMA_ERR_INVALID_ARGUMENT, "'output_name'");
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &family));
    CHECK_FAILS(sscma_model_add_output(family, "extra", "logits", 0), SSCMA_ERR_STATE, "fixed by its family");
    sscma_model_destroy(family);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}


/*
 * A graph rewrite that replaces the model's graph (QAT) leaves the model's view tables larger than the new graph's
 * value storage; preparing and destroying the model must read only values that exist (found by the sanitized
 * Python suite: PFLD, 64x64 gray, read past the rewritten graph's values).
 */
static void qat_rewritten_graph_prepares_and_releases(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    sscma_model *m = NULL;
    CHECK_OK(sscma_model_create(ctx,
                                "{\"type\": \"PFLD\", \"input_size\": [64, 64],"
                                " \"backbone\": {\"type\": \"PfldMobileNetV2\", \"inchannel\": 1},"
                                " \"head\": {\"type\": \"PFLDhead\", \"num_point\": 4}}",
                                &m));
    CHECK_OK(sscma_qat_prepare(m, NULL));
    CHECK_OK(sscma_model_prepare(m, 8, 1));
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_model_prepare(m, 2, 0));
    CHECK_OK(sscma_model_forward(m));
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(training_step_runs_and_allocates_nothing),
        TEST_CASE(sgd_steps_reduce_the_loss),
        TEST_CASE(evaluation_skips_the_loss_and_freezing_stops_gradients),
        TEST_CASE(same_seed_same_model_and_bits),
        TEST_CASE(bad_configs_and_arguments),
        TEST_CASE(layer_by_layer_model_trains),
        TEST_CASE(layer_by_layer_errors),
        TEST_CASE(qat_rewritten_graph_prepares_and_releases),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
