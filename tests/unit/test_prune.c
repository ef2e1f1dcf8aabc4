/*
 * Channel pruning (lib/zoo/prune.c) against torch-pruning (tests/golden/gen_prune.py, prune.bin): on MobileNetV2-0.35
 * with the same weights, criterion and ratio, every conv and linear layer keeps the channels the reference keeps
 * (its pruned weights are the original rows at exactly those indices), and the pruned model's logits agree with the
 * pruned reference's within 1e-5; the pruned config rebuilds the same model, and bad options fail with a message.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "harness.h"
#include "zoo/prune.h"

static const char *const config =
    "{\"type\": \"ImageClassifier\", \"input_size\": 32,"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35},"
    " \"neck\": {\"type\": \"GlobalAveragePooling\"},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}";

/* gen_models.py's weights_hashed (the twin of test_zoo.c's fill_reference(m, true)). */
static void fill_hashed(sscma_model *m)
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
        int64_t n = 0, d0 = 0;
        int32_t rank = 0;
        void *data = NULL;
        sscma_tensor_numel(value, &n), sscma_tensor_rank(value, &rank), sscma_tensor_dim(value, 0, &d0);
        sscma_tensor_data(value, &data);
        size_t len = strlen(name);
        bool ends_weight = len >= 6 && strcmp(name + len - 6, "weight") == 0;
        bool ends_bias = len >= 4 && strcmp(name + len - 4, "bias") == 0;
        for (int64_t k = 0; k < n; k++) {
            uint64_t z = h + (uint64_t)k * 0x9E3779B97F4A7C15ULL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            z ^= z >> 31;
            double sv = (double)(z >> 40) / (double)(1 << 23) - 1.0, v;
            if (strstr(name, "running_var") != NULL)
                v = 1.0 + 0.3 * fabs(sv);
            else if (strstr(name, "running_mean") != NULL)
                v = 0.1 * sv;
            else if (rank == 1 && ends_weight)
                v = 1.0 + 0.2 * sv;
            else if (ends_bias)
                v = 0.1 * sv;
            else
                v = sqrt(6.0 / (double)(n / d0)) * sv;
            ((float *)data)[k] = (float)v;
        }
    }
}

static const float *param_data(sscma_model *m, const char *name, int64_t *dims, int32_t *rank)
{
    int32_t index = -1;
    sscma_tensor *t = NULL;
    void *data = NULL;
    if (sscma_model_find_param(m, name, &index) != SSCMA_OK)
        return NULL;
    sscma_model_param(m, index, NULL, NULL, &t, NULL);
    sscma_tensor_rank(t, rank);
    for (int32_t i = 0; i < *rank; i++)
        sscma_tensor_dim(t, i, &dims[i]);
    sscma_tensor_data(t, &data);
    return data;
}

static void prune_matches(const char *criterion)
{
    golden_file gf;
    if (golden_load(&gf, GOLDEN_DIR "/prune.bin") != 0) {
        test_fail(__FILE__, __LINE__, "cannot read prune.bin");
        return;
    }
    sscma_context *ctx = NULL;
    sscma_model *m = NULL, *pruned = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, config, &m));
    fill_hashed(m);
    sscma_prune_options o;
    sscma_prune_options_defaults(&o);
    CHECK(sscma_prune_criterion_parse(criterion, &o.criterion));
    CHECK_OK(sscma_prune_model(m, &o, &pruned));
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s/kept/", criterion);
    int checked = 0;
    for (int r = 0; pruned != NULL && r < gf.count; r++) {
        const golden_record *k = &gf.records[r];
        if (strncmp(k->name, prefix, strlen(prefix)) != 0)
            continue;
        const char *name = k->name + strlen(prefix);
        int64_t od[4] = {0}, pd[4] = {0};
        int32_t orank = 0, prank = 0;
        const float *ow = param_data(m, name, od, &orank), *pw = param_data(pruned, name, pd, &prank);
        if (ow == NULL || pw == NULL) {
            test_fail(__FILE__, __LINE__, "%s: not in both models", name);
            continue;
        }
        const int32_t *idx = k->data;
        if (pd[0] != k->numel) {
            test_fail(__FILE__, __LINE__, "%s (%s): keeps %lld channels, torch-pruning %lld", name, criterion,
                      (long long)pd[0], (long long)k->numel);
            continue;
        }
        /* row i of the pruned weight is row idx[i] of the original, restricted to the kept input columns: its
         * first kept column must be found in that row (and in no other kept position: the rows differ) */
        int64_t prow = 1, orow = 1;
        for (int32_t i = 1; i < prank; i++)
            prow *= pd[i], orow *= od[i];
        int64_t last_p = pd[prank - 1], last_o = od[orank - 1];
        for (int64_t i = 0; i < k->numel; i++) {
            const float *src = ow + idx[i] * orow, *dst = pw + i * prow;
            bool found = false;
            for (int64_t c = 0; c < last_o && !found; c++)
                found = src[c] == dst[0] && (prow / last_p == 1 || src[last_o + (c % last_o)] == dst[last_p]);
            if (!found) {
                test_fail(__FILE__, __LINE__, "%s (%s): pruned row %lld is not original row %d", name, criterion,
                          (long long)i, (int)idx[i]);
                break;
            }
        }
        checked++;
    }
    CHECK(checked >= 50); /* every conv and linear layer of MobileNetV2 */
    /* the pruned model's logits equal the pruned reference's */
    const golden_record *image = golden_find(&gf, "image");
    snprintf(prefix, sizeof prefix, "%s/logits", criterion);
    const golden_record *logits = golden_find(&gf, prefix);
    sscma_tensor *in = NULL, *out = NULL;
    void *d = NULL;
    if (pruned != NULL && image != NULL && logits != NULL) {
        CHECK_OK(sscma_model_prepare(pruned, 2, 0));
        CHECK_OK(sscma_model_input(pruned, "image", &in));
        sscma_tensor_data(in, &d);
        memcpy(d, image->data, (size_t)image->numel * sizeof(float));
        CHECK_OK(sscma_model_forward(pruned));
        CHECK_OK(sscma_model_output(pruned, "logits", &out));
        sscma_tensor_data(out, &d);
        int64_t where = 0;
        double worst = golden_compare(d, logits, 1e-5, &where);
        if (worst > 1.0)
            test_fail(__FILE__, __LINE__, "%s: logits differ at %lld (%.3g x 1e-5)", criterion, (long long)where, worst);
    } else {
        test_fail(__FILE__, __LINE__, "prune.bin lacks %s", prefix);
    }
    sscma_model_destroy(pruned);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
    golden_free(&gf);
}

static void l1_matches_torch_pruning(void) { prune_matches("l1"); }
static void l2_matches_torch_pruning(void) { prune_matches("l2"); }
static void bn_scale_matches_torch_pruning(void) { prune_matches("bn_scale"); }
static void fpgm_matches_reference(void) { prune_matches("fpgm"); }

/* The residual adds keep their branches equal; the pruned stats shrink; bad options are refused with a message. */
static void pruned_config_and_errors(void)
{
    sscma_context *ctx = NULL;
    sscma_model *m = NULL, *pruned = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, config, &m));
    fill_hashed(m);
    sscma_prune_options o;
    sscma_prune_options_defaults(&o);
    o.round_to = 8;
    CHECK_OK(sscma_prune_model(m, &o, &pruned));
    int64_t p0 = 0, m0 = 0, p1 = 0, m1 = 0;
    sscma_model_stats(m, &p0, &m0);
    sscma_model_stats(pruned, &p1, &m1);
    CHECK(p1 < p0 && m1 < m0 && m1 > m0 / 8);
    int64_t d[4];
    int32_t r = 0;
    /* features.2 (24 -> 16 with round_to 8: 12 rounded down) feeds features.3's residual add */
    CHECK(param_data(pruned, "backbone.features.2.conv.2.weight", d, &r) != NULL);
    CHECK_INT_EQ(d[0], 8);
    CHECK(param_data(pruned, "backbone.features.3.conv.2.weight", d, &r) != NULL);
    CHECK_INT_EQ(d[0], 8);
    CHECK(param_data(pruned, "backbone.features.0.0.weight", d, &r) != NULL);
    CHECK_INT_EQ(d[0], 16); /* the stem is protected */
    sscma_model_destroy(pruned);
    pruned = NULL;
    o.ratio = 1.0;
    CHECK_FAILS(sscma_prune_model(m, &o, &pruned), SSCMA_ERR_INVALID_ARGUMENT, "0 <= ratio < 1");
    o.ratio = 0.5;
    sscma_prune_layer_ratio lr = {"backbone.features.99.conv.0.0", 0.2};
    o.layer_ratios = &lr, o.n_layer_ratios = 1;
    CHECK_FAILS(sscma_prune_model(m, &o, &pruned), SSCMA_ERR_INVALID_ARGUMENT, "features.99");
    CHECK(pruned == NULL);
    /* a per-layer ratio changes that group only */
    lr.layer = "backbone.features.2.conv.0.0";
    o.round_to = 1;
    CHECK_OK(sscma_prune_model(m, &o, &pruned));
    CHECK(param_data(pruned, "backbone.features.2.conv.0.0.weight", d, &r) != NULL);
    CHECK_INT_EQ(d[0], 38); /* int(48 * 0.8) */
    CHECK(param_data(pruned, "backbone.features.4.conv.0.0.weight", d, &r) != NULL);
    CHECK_INT_EQ(d[0], 24); /* int(48 * 0.5) */
    sscma_model_destroy(pruned);
    /* SSCMA's re-parameterisable MobileNetv2 (rep: true) is refused, naming the key */
    pruned = NULL;
    sscma_model *rep = NULL;
    CHECK_OK(sscma_model_create(ctx, "{\"type\": \"ImageClassifier\", \"input_size\": 32, \"backbone\": {\"type\":"
                                     " \"MobileNetv2\", \"widen_factor\": 0.35, \"out_indices\": [2], \"rep\": true},"
                                     " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10, \"in_channels\":"
                                     " 32}}", &rep));
    CHECK_FAILS(sscma_prune_model(rep, &o, &pruned), SSCMA_ERR_UNSUPPORTED, "model.backbone.rep: true");
    CHECK(pruned == NULL);
    sscma_model_destroy(rep);
    /* the builder's channel list: a wrong length and a broken residual are refused */
    sscma_model *bad = NULL;
    CHECK_FAILS(sscma_model_create(ctx, "{\"type\": \"ImageClassifier\", \"input_size\": 32, \"backbone\": {\"type\":"
                                        " \"MobileNetV2\", \"widen_factor\": 0.35, \"channels\": [8, 8]}, \"head\": "
                                        "{\"type\": \"LinearClsHead\", \"num_classes\": 10}}", &bad),
                SSCMA_ERR_CONFIG, "channels: expected 35 widths");
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(l1_matches_torch_pruning),
        TEST_CASE(l2_matches_torch_pruning),
        TEST_CASE(bn_scale_matches_torch_pruning),
        TEST_CASE(fpgm_matches_reference),
        TEST_CASE(pruned_config_and_errors),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
