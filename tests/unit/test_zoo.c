/* Unit tests of the model families (zoo): MobileNetV2 parameter and MAC counts against torchvision, and the
 * classifier, FOMO and PFLD against their PyTorch references (tests/golden/gen_models.py). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_training.h"
#include "golden.h"
#include "harness.h"

static void mobilenetv2_classifier_matches_reference_counts(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, fixture_mobilenetv2_96, &m));
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

/* Copies the golden record `ref` into the model input `name`, which must hold exactly its bytes. */
static void set_input(sscma_model *m, const char *name, const golden_record *ref)
{
    sscma_tensor *t = NULL;
    void *d = NULL;
    size_t bytes = 0;
    CHECK_OK(sscma_model_input(m, name, &t));
    CHECK_OK(sscma_tensor_data(t, &d));
    CHECK_OK(sscma_tensor_size_bytes(t, &bytes));
    CHECK_INT_EQ(bytes, (size_t)ref->numel * 4);
    if (d != NULL && bytes == (size_t)ref->numel * 4)
        memcpy(d, ref->data, bytes);
}

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
        set_input(m, "image", image);
        set_input(m, "target", target);
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
        set_input(m, "image", image);
        set_input(m, "target", target);
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

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(mobilenetv2_classifier_matches_reference_counts),
        TEST_CASE(classifier_matches_pytorch_reference),
        TEST_CASE(fomo_matches_pytorch_reference),
        TEST_CASE(pfld_matches_pytorch_reference),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
