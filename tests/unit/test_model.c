/* Unit tests of model.h through the shared library: families, parameter registry, execution, arena, errors. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "golden.h"
#include "harness.h"

static const char *const classifier_cfg =
    "{\"type\": \"ImageClassifier\", \"input_size\": [96, 96],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35},"
    " \"neck\": {\"type\": \"GlobalAveragePooling\"},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}";

static const char *const small_cfg =
    "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4, \"loss\": {\"type\": \"CrossEntropyLoss\","
    " \"label_smoothing\": 0.1}}}";

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

static void fill_batch(sscma_model *m, int64_t n, int32_t classes, unsigned seed)
{
    sscma_tensor *image = NULL, *target = NULL;
    void *data = NULL;
    int64_t numel = 0;
    CHECK_OK(sscma_model_input(m, "image", &image));
    CHECK_OK(sscma_tensor_numel(image, &numel));
    CHECK_OK(sscma_tensor_data(image, &data));
    for (int64_t i = 0; i < numel; i++)
        ((float *)data)[i] = (float)sin(0.01 * (double)(i + seed)) * 2.0f;
    CHECK_OK(sscma_model_input(m, "target", &target));
    CHECK_OK(sscma_tensor_data(target, &data));
    for (int64_t i = 0; i < n; i++)
        ((int32_t *)data)[i] = (int32_t)((i + seed) % (unsigned)classes);
}

static float read_loss(sscma_model *m)
{
    sscma_tensor *loss = NULL;
    void *data = NULL;
    if (sscma_model_output(m, "loss", &loss) != SSCMA_OK || sscma_tensor_data(loss, &data) != SSCMA_OK)
        return NAN;
    return *(float *)data;
}

static void mobilenetv2_classifier_matches_reference_counts(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, classifier_cfg, &m));
    int64_t params = 0, macs = 0;
    CHECK_OK(sscma_model_stats(m, &params, &macs));
    CHECK_INT_EQ(params, 408938);  /* torchvision mobilenet_v2(width_mult=0.35, num_classes=10) */
    CHECK_INT_EQ(macs, 10666928);  /* per 96x96x3 sample: convolutions + linear */
    int32_t count = 0, index = -1;
    CHECK_OK(sscma_model_param_count(m, &count));
    CHECK_INT_EQ(count, 52 + 52 * 4 + 2); /* conv weights, BN weight/bias/mean/var, fc weight/bias */
    const char *name = NULL;
    uint32_t flags = 0;
    sscma_tensor *value = NULL, *grad = NULL;
    CHECK_OK(sscma_model_param(m, 0, &name, &flags, &value, &grad));
    CHECK_STR_EQ(name, "backbone.features.0.0.weight");
    CHECK_INT_EQ(flags, SSCMA_PARAM_TRAINABLE);
    int64_t dim = 0;
    CHECK_OK(sscma_tensor_dim(value, 0, &dim));
    CHECK_INT_EQ(dim, 16);
    CHECK_OK(sscma_tensor_dim(value, 3, &dim));
    CHECK_INT_EQ(dim, 3); /* OHWI */
    CHECK(grad != NULL);
    CHECK_OK(sscma_model_find_param(m, "backbone.features.3.conv.1.0.weight", &index)); /* a depthwise conv */
    CHECK_OK(sscma_model_param(m, index, NULL, NULL, &value, NULL));
    CHECK_OK(sscma_tensor_dim(value, 3, &dim));
    CHECK_INT_EQ(dim, 1);
    CHECK_OK(sscma_model_find_param(m, "backbone.features.1.conv.2.running_var", &index)); /* t = 1 block */
    CHECK_OK(sscma_model_param(m, index, NULL, &flags, NULL, &grad));
    CHECK_INT_EQ(flags, SSCMA_PARAM_BUFFER);
    CHECK(grad == NULL);
    CHECK_OK(sscma_model_find_param(m, "backbone.features.18.1.bias", &index));
    CHECK_OK(sscma_model_param(m, index, NULL, &flags, NULL, NULL));
    CHECK_INT_EQ(flags, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_NORM | SSCMA_PARAM_BIAS);
    CHECK_OK(sscma_model_find_param(m, "head.fc.weight", &index));
    CHECK_OK(sscma_model_param(m, index, NULL, NULL, &value, NULL));
    CHECK_OK(sscma_tensor_dim(value, 1, &dim));
    CHECK_INT_EQ(dim, 1280);
    CHECK_FAILS(sscma_model_find_param(m, "head.fc.weights", &index), SSCMA_ERR_NOT_FOUND, "'head.fc.weights'");
    int32_t layers = 0;
    CHECK_OK(sscma_model_layer_count(m, &layers));
    const char *op = NULL;
    CHECK_OK(sscma_model_layer(m, 0, &name, &op, &macs));
    CHECK_STR_EQ(name, "backbone.features.0.0");
    CHECK_STR_EQ(op, "conv2d");
    CHECK_INT_EQ(macs, 48 * 48 * 16 * 27);
    int64_t sum = 0, layer_macs = 0;
    for (int32_t i = 0; i < layers; i++) {
        CHECK_OK(sscma_model_layer(m, i, NULL, NULL, &layer_macs));
        sum += layer_macs;
    }
    CHECK_INT_EQ(sum, 10666928);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
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
    CHECK_OK(sscma_model_create(ctx, small_cfg, &m));
    CHECK_OK(sscma_model_prepare(m, 8, 1));
    fill_batch(m, 8, 4, 1);
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
    float loss = read_loss(m);
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
    CHECK_OK(sscma_model_create(ctx, small_cfg, &m));
    CHECK_OK(sscma_model_prepare(m, 8, 1));
    fill_batch(m, 8, 4, 3);
    int32_t count = 0;
    CHECK_OK(sscma_model_param_count(m, &count));
    float first = 0.0f, last = 0.0f;
    for (int step = 0; step < 15; step++) {
        CHECK_OK(sscma_model_zero_grad(m));
        CHECK_OK(sscma_model_forward(m));
        last = read_loss(m);
        if (step == 0)
            first = last;
        CHECK_OK(sscma_model_backward(m));
        for (int32_t i = 0; i < count; i++) {
            sscma_tensor *v = NULL, *g = NULL;
            CHECK_OK(sscma_model_param(m, i, NULL, NULL, &v, &g));
            if (g == NULL)
                continue;
            void *vd = NULL, *gd = NULL;
            int64_t n = 0;
            sscma_tensor_data(v, &vd), sscma_tensor_data(g, &gd), sscma_tensor_numel(v, &n);
            for (int64_t k = 0; k < n; k++)
                ((float *)vd)[k] -= 0.05f * ((float *)gd)[k];
        }
    }
    CHECK(isfinite(last) && last < 0.5f * first);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

static void evaluation_skips_the_loss_and_freezing_stops_gradients(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, small_cfg, &m));
    CHECK_OK(sscma_model_prepare(m, 3, 0));
    fill_batch(m, 3, 4, 5);
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
    fill_batch(m, 3, 4, 5);
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
    CHECK_OK(sscma_model_create(a, small_cfg, &ma));
    CHECK_OK(sscma_model_create(b, small_cfg, &mb));
    CHECK_OK(sscma_model_prepare(ma, 4, 1));
    CHECK_OK(sscma_model_prepare(mb, 4, 1));
    fill_batch(ma, 4, 4, 9);
    fill_batch(mb, 4, 4, 9);
    CHECK_OK(sscma_model_forward(ma));
    CHECK_OK(sscma_model_forward(mb));
    CHECK_OK(sscma_model_backward(ma));
    CHECK_OK(sscma_model_backward(mb));
    float la = read_loss(ma), lb = read_loss(mb);
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
    CHECK_FAILS(sscma_model_create(NULL, classifier_cfg, &m), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_model_create(ctx, NULL, &m), SSCMA_ERR_INVALID_ARGUMENT, "'config_json'");
    CHECK_FAILS(sscma_model_create(ctx, classifier_cfg, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_model_create(ctx, "{\"type\": \"ImageClassifier\",\n \"head\": }", &m), SSCMA_ERR_CONFIG,
                "line 2");
    CHECK_FAILS(sscma_model_create(ctx, "{\"type\": \"Yolo\"}", &m), SSCMA_ERR_CONFIG,
                "model: model.type: expected one of: ImageClassifier, Fomo, PFLD, got \"Yolo\"");
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
    CHECK_OK(sscma_model_create(ctx, small_cfg, &m));
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

/* The deterministic fill of tests/golden/gen_models.py (weights_for), in libsscma's layout. */
static void fill_like_reference(sscma_model *m)
{
    int32_t count = 0;
    sscma_model_param_count(m, &count);
    for (int32_t j = 0; j < count; j++) {
        const char *name = NULL;
        sscma_tensor *value = NULL;
        sscma_model_param(m, j, &name, NULL, &value, NULL);
        uint64_t h = 1469598103934665603ULL;
        for (const char *c = name; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        double phase = (double)(h % 1000) * 0.001 * 6.283185307179586;
        int64_t n = 0, d0 = 0;
        int32_t rank = 0;
        void *data = NULL;
        sscma_tensor_numel(value, &n), sscma_tensor_rank(value, &rank), sscma_tensor_dim(value, 0, &d0);
        sscma_tensor_data(value, &data);
        size_t len = strlen(name);
        bool ends_weight = len >= 6 && strcmp(name + len - 6, "weight") == 0;
        bool ends_bias = len >= 4 && strcmp(name + len - 4, "bias") == 0;
        for (int64_t k = 0; k < n; k++) {
            double sv = sin(0.37 * (double)k + phase), v;
            if (strstr(name, "running_var") != NULL)
                v = 1.0 + 0.3 * fabs(sv);
            else if (strstr(name, "running_mean") != NULL)
                v = 0.1 * sv;
            else if (rank == 1 && ends_weight)
                v = 1.0 + 0.2 * sv;
            else if (ends_bias)
                v = 0.1 * sv;
            else
                v = 1.5 / sqrt((double)(n / d0)) * sv;
            ((float *)data)[k] = (float)v;
        }
    }
}

static golden_file models_golden;

static void check_against(const golden_file *g, const char *what, const float *ours, const char *record, double rtol)
{
    const golden_record *ref = golden_find(g, record);
    if (ref == NULL) {
        test_fail(__FILE__, __LINE__, "%s: no record %s", what, record);
        return;
    }
    int64_t where = 0;
    double worst = golden_compare(ours, ref, rtol, &where);
    if (worst > 1.0)
        test_fail(__FILE__, __LINE__, "%s element %lld: %.8g vs PyTorch %.8g (%.2f x tolerance %g)", what,
                  (long long)where, (double)ours[where], (double)((const float *)ref->data)[where], worst, rtol);
}

static const char *const golden_cfg =
    "{\"type\": \"ImageClassifier\", \"input_size\": [64, 64],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}";

/*
 * Same weights and inputs as tests/golden/ref_models.py's ImageClassifier (reference computed in float64): logits
 * and loss in training mode, logits in evaluation mode and the running statistics within 1e-4 relative
 * (|a-b| <= 1e-4 (|b| + rms b)). Parameter gradients within 1e-3: through 52 layers with batch-4 batch norm they
 * are ill-conditioned — PyTorch's own float32 run of this case differs from float64 by up to 1.8e-2 (first conv)
 * and 3.3e-4 (fc) in this measure; libsscma's worst is 5.7e-4.
 */
static void classifier_matches_pytorch_reference(void)
{
    if (golden_load(&models_golden, GOLDEN_DIR "/models.bin") != 0) {
        test_fail(__FILE__, __LINE__, "cannot read %s/models.bin", GOLDEN_DIR);
        return;
    }
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, golden_cfg, &m));
    fill_like_reference(m);
    const golden_record *image = golden_find(&models_golden, "classifier/image");
    const golden_record *target = golden_find(&models_golden, "classifier/target");
    CHECK(image != NULL && target != NULL);
    if (image == NULL || target == NULL)
        return;
    for (int mode = 1; mode >= 0; mode--) {
        CHECK_OK(sscma_model_prepare(m, 4, mode));
        sscma_tensor *t = NULL;
        void *d = NULL;
        size_t bytes = 0;
        CHECK_OK(sscma_model_input(m, "image", &t));
        CHECK_OK(sscma_tensor_data(t, &d));
        CHECK_OK(sscma_tensor_size_bytes(t, &bytes));
        CHECK_INT_EQ(bytes, (size_t)image->numel * 4);
        memcpy(d, image->data, bytes);
        CHECK_OK(sscma_model_input(m, "target", &t));
        CHECK_OK(sscma_tensor_data(t, &d));
        memcpy(d, target->data, (size_t)target->numel * 4);
        CHECK_OK(sscma_model_zero_grad(m));
        CHECK_OK(sscma_model_forward(m));
        CHECK_OK(sscma_model_output(m, "logits", &t));
        CHECK_OK(sscma_tensor_data(t, &d));
        check_against(&models_golden, mode ? "train logits" : "eval logits", d,
                      mode ? "classifier/train/logits" : "classifier/eval/logits", 1e-4);
        if (!mode)
            break;
        CHECK_OK(sscma_model_output(m, "loss", &t));
        CHECK_OK(sscma_tensor_data(t, &d));
        check_against(&models_golden, "train loss", d, "classifier/train/loss", 1e-4);
        CHECK_OK(sscma_model_backward(m));
        for (int i = 0; i < models_golden.count; i++) {
            const char *rec = models_golden.records[i].name;
            const char *grad_prefix = "classifier/train/grad/", *after_prefix = "classifier/train/after/";
            bool is_grad = strncmp(rec, grad_prefix, strlen(grad_prefix)) == 0;
            bool is_after = strncmp(rec, after_prefix, strlen(after_prefix)) == 0;
            if (!is_grad && !is_after)
                continue;
            const char *pname = rec + strlen(is_grad ? grad_prefix : after_prefix);
            int32_t index = -1;
            sscma_tensor *value = NULL, *grad = NULL;
            CHECK_OK(sscma_model_find_param(m, pname, &index));
            if (index < 0)
                continue;
            CHECK_OK(sscma_model_param(m, index, NULL, NULL, &value, &grad));
            CHECK_OK(sscma_tensor_data(is_grad ? grad : value, &d));
            check_against(&models_golden, pname, d, rec, is_grad ? 1e-3 : 1e-4);
        }
        /* evaluation uses the reference's original running statistics */
        fill_like_reference(m);
    }
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
    golden_free(&models_golden);
}

/*
 * Fomo and PFLD against their references (ref_models.py: SSCMA's layouts): the parameter count, the outputs in
 * training and evaluation mode and the loss, within 1e-4 relative.
 */
static void family_matches_reference(const char *family, const char *config, const char *output)
{
    golden_file g;
    if (golden_load(&g, GOLDEN_DIR "/models.bin") != 0) {
        test_fail(__FILE__, __LINE__, "cannot read models.bin");
        return;
    }
    char rec[128];
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, config, &m));
    if (m == NULL) {
        sscma_context_destroy(ctx);
        golden_free(&g);
        return;
    }
    snprintf(rec, sizeof rec, "%s/params", family);
    const golden_record *params = golden_find(&g, rec);
    int64_t count = 0;
    CHECK_OK(sscma_model_stats(m, &count, NULL));
    CHECK(params != NULL && count == ((const int32_t *)params->data)[0]);
    snprintf(rec, sizeof rec, "%s/image", family);
    const golden_record *image = golden_find(&g, rec);
    snprintf(rec, sizeof rec, "%s/target", family);
    const golden_record *target = golden_find(&g, rec);
    for (int mode = 1; mode >= 0 && image != NULL && target != NULL; mode--) {
        fill_like_reference(m);
        CHECK_OK(sscma_model_prepare(m, image->dims[0], mode));
        sscma_tensor *t = NULL;
        void *d = NULL;
        size_t bytes = 0;
        CHECK_OK(sscma_model_input(m, "image", &t));
        CHECK_OK(sscma_tensor_data(t, &d));
        CHECK_OK(sscma_tensor_size_bytes(t, &bytes));
        CHECK_INT_EQ(bytes, (size_t)image->numel * 4);
        memcpy(d, image->data, bytes);
        CHECK_OK(sscma_model_input(m, "target", &t));
        CHECK_OK(sscma_tensor_data(t, &d));
        CHECK_OK(sscma_tensor_size_bytes(t, &bytes));
        CHECK_INT_EQ(bytes, (size_t)target->numel * 4);
        memcpy(d, target->data, bytes);
        CHECK_OK(sscma_model_forward(m));
        const char *m_name = mode ? "train" : "eval";
        char what[96];
        snprintf(rec, sizeof rec, "%s/%s/%s", family, m_name, output);
        snprintf(what, sizeof what, "%s %s %s", family, m_name, output);
        CHECK_OK(sscma_model_output(m, output, &t));
        CHECK_OK(sscma_tensor_data(t, &d));
        check_against(&g, what, d, rec, 1e-4);
        if (mode) {
            snprintf(rec, sizeof rec, "%s/train/loss", family);
            snprintf(what, sizeof what, "%s loss", family);
            CHECK_OK(sscma_model_output(m, "loss", &t));
            CHECK_OK(sscma_tensor_data(t, &d));
            check_against(&g, what, d, rec, 1e-4);
            CHECK_OK(sscma_model_backward(m));
        }
    }
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
    golden_free(&g);
}

static void fomo_matches_pytorch_reference(void)
{
    family_matches_reference("fomo",
                             "{\"type\": \"Fomo\", \"input_size\": [64, 64], \"backbone\": {\"type\": \"MobileNetv2\","
                             " \"widen_factor\": 0.35, \"out_indices\": [2]}, \"head\": {\"type\": \"FomoHead\","
                             " \"input_channels\": [16], \"middle_channel\": 48, \"num_classes\": 3, \"act_cfg\": \"ReLU6\","
                             " \"loss_cls\": {\"type\": \"BCEWithLogitsLoss\", \"reduction\": \"none\", \"pos_weight\": 40},"
                             " \"loss_bg\": {\"type\": \"BCEWithLogitsLoss\", \"reduction\": \"none\"}}}",
                             "logits");
}

static void pfld_matches_pytorch_reference(void)
{
    family_matches_reference("pfld",
                             "{\"type\": \"PFLD\", \"input_size\": [64, 64], \"backbone\": {\"type\": \"PfldMobileNetV2\"},"
                             " \"head\": {\"type\": \"PFLDhead\", \"num_point\": 4, \"loss_cfg\": {\"type\": \"PFLDLoss\"}}}",
                             "keypoints");
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
    int32_t count = 0;
    CHECK_OK(sscma_model_param_count(m, &count));
    float first = 0.0f, last = 0.0f;
    for (int step = 0; step < 40; step++) {
        CHECK_OK(sscma_model_zero_grad(m));
        CHECK_OK(sscma_model_forward(m));
        last = read_loss(m);
        if (step == 0)
            first = last;
        CHECK_OK(sscma_model_backward(m));
        for (int32_t i = 0; i < count; i++) {
            sscma_tensor *v = NULL, *g = NULL;
            CHECK_OK(sscma_model_param(m, i, NULL, NULL, &v, &g));
            if (g == NULL)
                continue;
            void *vd = NULL, *gd = NULL;
            int64_t n = 0;
            sscma_tensor_data(v, &vd), sscma_tensor_data(g, &gd), sscma_tensor_numel(v, &n);
            for (int64_t k = 0; k < n; k++)
                ((float *)vd)[k] -= 0.2f * ((float *)gd)[k];
        }
    }
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
    CHECK_OK(sscma_model_create(ctx, small_cfg, &family));
    CHECK_FAILS(sscma_model_add_output(family, "extra", "logits", 0), SSCMA_ERR_STATE, "fixed by its family");
    sscma_model_destroy(family);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

static char tmpdir[64];

static float param_value(sscma_model *m, const char *name, int64_t k)
{
    int32_t index = -1;
    sscma_tensor *v = NULL;
    void *d = NULL;
    if (sscma_model_find_param(m, name, &index) != SSCMA_OK || sscma_model_param(m, index, NULL, NULL, &v, NULL) != SSCMA_OK ||
        sscma_tensor_data(v, &d) != SSCMA_OK)
        return NAN;
    return ((float *)d)[k];
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Copies src to dst keeping `keep` bytes (-1 = all) and xor-ing byte `flip_at` (if >= 0) with 0x10. */
static void mangle(const char *src, const char *dst, long keep, long flip_at)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    long i = 0;
    int c;
    while (in != NULL && out != NULL && (c = fgetc(in)) != EOF && (keep < 0 || i < keep)) {
        fputc(i == flip_at ? c ^ 0x10 : c, out);
        i++;
    }
    if (in != NULL)
        fclose(in);
    if (out != NULL)
        fclose(out);
}

static void checkpoints_round_trip(void)
{
    sscma_context_options o;
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.seed = 1;
    CHECK_OK(sscma_context_create(&o, &ctx));
    sscma_model *a = NULL, *b = NULL;
    CHECK_OK(sscma_model_create(ctx, small_cfg, &a));
    /* a few training steps so that weights and running statistics are not the initial ones */
    CHECK_OK(sscma_model_prepare(a, 4, 1));
    fill_batch(a, 4, 4, 2);
    CHECK_OK(sscma_model_forward(a));
    char path[128], zpath[128];
    snprintf(path, sizeof path, "%s/model.ckpt", tmpdir);
    snprintf(zpath, sizeof zpath, "%s/model.z.ckpt", tmpdir);
    CHECK_OK(sscma_model_save(a, path, 0));
    CHECK_OK(sscma_model_save(a, zpath, SSCMA_SAVE_COMPRESS));
    CHECK(file_size(path) > 100000);
    CHECK(file_size(zpath) > 0 && file_size(zpath) < file_size(path));

    for (int k = 0; k < 2; k++) {
        sscma_context_options o2 = o;
        o2.seed = 99; /* different initial weights */
        sscma_context *ctx2 = NULL;
        CHECK_OK(sscma_context_create(&o2, &ctx2));
        CHECK_OK(sscma_model_create(ctx2, small_cfg, &b));
        CHECK(param_value(a, "head.fc.weight", 3) != param_value(b, "head.fc.weight", 3));
        CHECK_OK(sscma_model_load(b, k == 0 ? path : zpath));
        int32_t count = 0, differ = 0;
        CHECK_OK(sscma_model_param_count(a, &count));
        for (int32_t i = 0; i < count; i++) {
            sscma_tensor *va = NULL, *vb = NULL;
            void *x = NULL, *y = NULL;
            size_t bytes = 0;
            CHECK_OK(sscma_model_param(a, i, NULL, NULL, &va, NULL));
            CHECK_OK(sscma_model_param(b, i, NULL, NULL, &vb, NULL));
            sscma_tensor_size_bytes(va, &bytes), sscma_tensor_data(va, &x), sscma_tensor_data(vb, &y);
            differ += memcmp(x, y, bytes) != 0;
        }
        CHECK_INT_EQ(differ, 0); /* weights and running statistics (updated by the training forward) */
        sscma_model_destroy(b);
        sscma_context_destroy(ctx2);
    }
    sscma_model_destroy(a);
    sscma_context_destroy(ctx);
}

static void bad_checkpoints_are_rejected_and_change_nothing(void)
{
    sscma_context *ctx = NULL;
    sscma_model *a = NULL, *other = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, small_cfg, &a));
    char path[128], bad[128], missing_dir[160];
    snprintf(path, sizeof path, "%s/good.ckpt", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", tmpdir);
    snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/model.ckpt", tmpdir);
    CHECK_OK(sscma_model_save(a, path, 0));
    long size = file_size(path);
    float before = param_value(a, "head.fc.weight", 0);
    /* truncated at several places */
    const long cuts[] = {0, 7, 20, 200, size / 2, size - 9, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        mangle(path, bad, cuts[i], -1);
        CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, bad);
    }
    mangle(path, bad, 5, -1);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "no SSCMACKP magic");
    mangle(path, bad, size - 1, -1);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "no SSCMAEND marker");
    /* bit flips: version, header, a tensor's data, the trailer CRC */
    mangle(path, bad, -1, 8);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "format version 17");
    mangle(path, bad, -1, 40);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "header CRC mismatch");
    mangle(path, bad, -1, size - 2000);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "CRC mismatch (its data is corrupt)");
    mangle(path, bad, -1, size - 10);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "the file is corrupt");
    CHECK(param_value(a, "head.fc.weight", 0) == before); /* nothing was loaded */
    /* another model: 10 classes instead of 4 */
    CHECK_OK(sscma_model_create(ctx,
                                "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32], \"backbone\": "
                                "{\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1}, \"head\": "
                                "{\"type\": \"LinearClsHead\", \"num_classes\": 10}}",
                                &other));
    float other_before = param_value(other, "backbone.features.0.0.weight", 0);
    CHECK_FAILS(sscma_model_load(other, path), SSCMA_ERR_SHAPE,
                "tensor 'model/head.fc.weight' is f32[4, 1280]; the model expects f32[10, 1280]");
    CHECK(param_value(other, "backbone.features.0.0.weight", 0) == other_before); /* all or nothing */
    CHECK_FAILS(sscma_model_load(a, missing_dir), SSCMA_ERR_IO, "cannot open");
    CHECK_FAILS(sscma_model_save(a, missing_dir, 0), SSCMA_ERR_IO, "cannot create a temporary file");
    CHECK_FAILS(sscma_model_save(a, path, 0x80), SSCMA_ERR_INVALID_ARGUMENT, "unknown flags");
    CHECK_FAILS(sscma_model_save(NULL, path, 0), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_load(a, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'path'");
    /* no temporary file was left behind */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", tmpdir);
    CHECK(system(cmd) != 0);
    sscma_model_destroy(other);
    sscma_model_destroy(a);
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
        TEST_CASE(mobilenetv2_classifier_matches_reference_counts),
        TEST_CASE(training_step_runs_and_allocates_nothing),
        TEST_CASE(sgd_steps_reduce_the_loss),
        TEST_CASE(evaluation_skips_the_loss_and_freezing_stops_gradients),
        TEST_CASE(same_seed_same_model_and_bits),
        TEST_CASE(bad_configs_and_arguments),
        TEST_CASE(classifier_matches_pytorch_reference),
        TEST_CASE(fomo_matches_pytorch_reference),
        TEST_CASE(pfld_matches_pytorch_reference),
        TEST_CASE(layer_by_layer_model_trains),
        TEST_CASE(layer_by_layer_errors),
        TEST_CASE(checkpoints_round_trip),
        TEST_CASE(bad_checkpoints_are_rejected_and_change_nothing),
        TEST_CASE(qat_rewritten_graph_prepares_and_releases),
    };
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sscma-test-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
