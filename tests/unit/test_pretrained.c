/*
 * Pretrained weights through the runner (mmengine's load_from and init_cfg {type: Pretrained}): partial loads and
 * their report, prefixes, the three sources (a libsscma checkpoint, a converted PyTorch state dict, an ONNX file's
 * initializers), malformed files; and MobileNetV2's frozen_stages / norm_eval.
 *
 * Fixtures: tests/golden/pretrained/cls4.ckpt and cls4.onnx (tests/golden/gen_pretrained.py): one PyTorch
 * classifier (MobileNetV2-0.35, 1 channel, stages 0..1 = features.0..3, head.fc 4 x 8) converted by
 * tools/torch2sscma.py and exported by torch.onnx.export.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

#include "fixture_files.h"
#include "fixture_training.h"
#include "harness.h"

#define CKPT GOLDEN_DIR "/pretrained/cls4.ckpt"
#define ONNX GOLDEN_DIR "/pretrained/cls4.onnx"

static char tmpdir[64];

/* The warnings the library logs, concatenated. */
static char logged[16384];

static void capture(void *user_data, sscma_log_level level, const char *message)
{
    (void)user_data;
    if (level >= SSCMA_LOG_WARNING && strlen(logged) + strlen(message) + 2 < sizeof logged) {
        strcat(logged, message);
        strcat(logged, "\n");
    }
}

static sscma_context *new_context(void)
{
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = 1;
    o.log_fn = capture;
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(&o, &ctx));
    logged[0] = '\0';
    return ctx;
}

/* A classifier config: MobileNetV2-0.35 up to stage `last_stage`, `classes` classes; `backbone_extra` and `extra`
 * are spliced into the backbone object and the root. */
static sscma_runner *runner_of(sscma_context *ctx, int last_stage, int classes, const char *backbone_extra,
                               const char *extra, sscma_status expect, const char *needle)
{
    static const int channels[] = {8, 8, 16};
    char text[2048];
    snprintf(text, sizeof text,
             "{\"model\": {\"type\": \"ImageClassifier\", \"input_size\": [32, 32],"
             " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1,"
             " \"out_indices\": [%d]%s},"
             " \"neck\": {\"type\": \"GlobalAveragePooling\"},"
             " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": %d, \"in_channels\": %d}}%s}",
             last_stage, backbone_extra ? backbone_extra : "", classes, channels[last_stage], extra ? extra : "");
    sscma_config *cfg = NULL;
    CHECK_OK(sscma_config_parse(text, NULL, &cfg));
    sscma_runner *r = NULL;
    if (expect == SSCMA_OK)
        CHECK_OK(sscma_runner_create(ctx, cfg, &r));
    else
        CHECK_FAILS(sscma_runner_create(ctx, cfg, &r), expect, needle);
    sscma_config_destroy(cfg);
    return r;
}

static const float *param_data(sscma_model *m, const char *name, int64_t *numel)
{
    int32_t i = -1;
    sscma_tensor *t = NULL;
    void *data = NULL;
    if (sscma_model_find_param(m, name, &i) != SSCMA_OK || sscma_model_param(m, i, NULL, NULL, &t, NULL) != SSCMA_OK ||
        sscma_tensor_data(t, &data) != SSCMA_OK || sscma_tensor_numel(t, numel) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "no parameter '%s': %s", name, sscma_last_error());
        return NULL;
    }
    return data;
}

/* Whether the tensors called `name` in a and b hold the same bits. */
static int same_param(sscma_model *a, sscma_model *b, const char *name)
{
    int64_t na = 0, nb = 0;
    const float *x = param_data(a, name, &na), *y = param_data(b, name, &nb);
    return x != NULL && y != NULL && na == nb && memcmp(x, y, (size_t)na * sizeof *x) == 0;
}

/* A model with fresh weights (nothing loaded) of the same shape as the fixture's. */
static sscma_model *model_of(sscma_runner *r)
{
    sscma_model *m = NULL;
    CHECK_OK(sscma_runner_model(r, &m));
    return m;
}

/* The checkpoint and the ONNX export of one PyTorch model load into identical weights (every tensor, buffers and
 * the OIHW -> OHWI transposition included), and differ from a fresh model's. */
static void onnx_initializers_match_the_converted_checkpoint(void)
{
    sscma_context *ctx = new_context();
    sscma_runner *fresh = runner_of(ctx, 1, 4, NULL, NULL, SSCMA_OK, NULL);
    sscma_runner *ck = runner_of(ctx, 1, 4, NULL, ", \"load_from\": \"" CKPT "\"", SSCMA_OK, NULL);
    CHECK_STR_EQ(logged, ""); /* an exact match: no warning */
    sscma_runner *ox = runner_of(ctx, 1, 4, NULL, ", \"load_from\": \"" ONNX "\"", SSCMA_OK, NULL);
    CHECK_STR_EQ(logged, "");
    if (fresh == NULL || ck == NULL || ox == NULL)
        goto done;
    int32_t n = 0;
    CHECK_OK(sscma_model_param_count(model_of(ck), &n));
    CHECK_INT_EQ(n, 47); /* what gen_pretrained.py wrote, num_batches_tracked left out */
    for (int32_t i = 0; i < n; i++) {
        const char *name = NULL;
        CHECK_OK(sscma_model_param(model_of(ck), i, &name, NULL, NULL, NULL));
        if (!same_param(model_of(ck), model_of(ox), name))
            test_fail(__FILE__, __LINE__, "'%s' differs between the checkpoint and the ONNX file", name);
    }
    CHECK(!same_param(model_of(ck), model_of(fresh), "backbone.features.2.conv.1.0.weight"));
    CHECK(!same_param(model_of(ck), model_of(fresh), "backbone.features.3.conv.3.running_var"));
done:
    sscma_runner_destroy(fresh);
    sscma_runner_destroy(ck);
    sscma_runner_destroy(ox);
    sscma_context_destroy(ctx);
}

/* A head with another class count is skipped with mmengine's size-mismatch message; the backbone still loads. */
static void another_class_count_skips_the_head(void)
{
    sscma_context *ctx = new_context();
    sscma_runner *ref = runner_of(ctx, 1, 4, NULL, ", \"load_from\": \"" CKPT "\"", SSCMA_OK, NULL);
    sscma_runner *fresh = runner_of(ctx, 1, 3, NULL, NULL, SSCMA_OK, NULL);
    logged[0] = '\0';
    sscma_runner *r = runner_of(ctx, 1, 3, NULL, ", \"load_from\": \"" CKPT "\"", SSCMA_OK, NULL);
    if (ref == NULL || fresh == NULL || r == NULL)
        goto done;
    CHECK_STR_EQ(logged, CKPT ": The model and loaded state dict do not match exactly\n\n"
                              "size mismatch for head.fc.weight: copying a param with shape torch.Size([4, 8]) from "
                              "checkpoint, the shape in current model is torch.Size([3, 8]).\n"
                              "size mismatch for head.fc.bias: copying a param with shape torch.Size([4]) from "
                              "checkpoint, the shape in current model is torch.Size([3]).\n");
    CHECK(same_param(model_of(r), model_of(ref), "backbone.features.0.0.weight"));
    CHECK(same_param(model_of(r), model_of(ref), "backbone.features.3.conv.3.running_mean"));
    CHECK(same_param(model_of(r), model_of(fresh), "head.fc.weight")); /* kept its initialisation */
done:
    sscma_runner_destroy(ref);
    sscma_runner_destroy(fresh);
    sscma_runner_destroy(r);
    sscma_context_destroy(ctx);
}

/* Keys the model lacks are reported as unexpected; keys the file lacks as missing (4-D shapes in PyTorch's order). */
static void unexpected_and_missing_keys_are_reported(void)
{
    sscma_context *ctx = new_context();
    sscma_runner *ref = runner_of(ctx, 1, 4, NULL, ", \"load_from\": \"" CKPT "\"", SSCMA_OK, NULL);
    logged[0] = '\0';
    /* stage 0 only (features.0..1, 8 channels as stage 1's): features.2.* and features.3.* are unexpected */
    sscma_runner *small = runner_of(ctx, 0, 4, NULL, ", \"load_from\": \"" ONNX "\"", SSCMA_OK, NULL);
    CHECK_STR_CONTAINS(logged, ONNX ": The model and loaded state dict do not match exactly\n\n"
                               "unexpected key in source state_dict: backbone.features.2.conv.0.0.weight, "
                               "backbone.features.2.conv.0.1.weight, ");
    CHECK(strstr(logged, "missing keys") == NULL);
    CHECK(strstr(logged, "size mismatch") == NULL);
    CHECK(strstr(logged, "backbone.features.1.") == NULL);
    if (small != NULL && ref != NULL) {
        CHECK(same_param(model_of(small), model_of(ref), "backbone.features.1.conv.1.weight"));
        CHECK(same_param(model_of(small), model_of(ref), "head.fc.weight")); /* 4 x 8 in both */
    }
    logged[0] = '\0';
    /* up to stage 2: features.4..6 and the head (4 x 16) are not in the file */
    sscma_runner *big = runner_of(ctx, 2, 4, NULL, ", \"load_from\": \"" CKPT "\"", SSCMA_OK, NULL);
    CHECK_STR_CONTAINS(logged, "size mismatch for head.fc.weight: copying a param with shape torch.Size([4, 8]) "
                               "from checkpoint, the shape in current model is torch.Size([4, 16]).\n"
                               "missing keys in source state_dict: backbone.features.4.conv.0.0.weight, ");
    CHECK(strstr(logged, "unexpected") == NULL);
    sscma_runner_destroy(ref);
    sscma_runner_destroy(small);
    sscma_runner_destroy(big);
    sscma_context_destroy(ctx);
}

/* init_cfg Pretrained on the backbone with prefix "backbone.": the prefix selects and strips, keys are then relative
 * to the backbone; the head is not touched; a prefix the file lacks is an error naming it. */
static void backbone_init_cfg_with_a_prefix(void)
{
    sscma_context *ctx = new_context();
    sscma_runner *ref = runner_of(ctx, 1, 4, NULL, ", \"load_from\": \"" CKPT "\"", SSCMA_OK, NULL);
    sscma_runner *fresh = runner_of(ctx, 2, 3, NULL, NULL, SSCMA_OK, NULL);
    logged[0] = '\0';
    sscma_runner *r = runner_of(ctx, 2, 3,
                                ", \"init_cfg\": {\"type\": \"Pretrained\", \"checkpoint\": \"" ONNX "\","
                                " \"prefix\": \"backbone\"}",
                                NULL, SSCMA_OK, NULL);
    if (ref != NULL && fresh != NULL && r != NULL) {
        CHECK(same_param(model_of(r), model_of(ref), "backbone.features.3.conv.2.weight"));
        CHECK(same_param(model_of(r), model_of(fresh), "backbone.features.4.conv.2.weight"));
        CHECK(same_param(model_of(r), model_of(fresh), "head.fc.weight"));
    }
    CHECK_STR_CONTAINS(logged, ONNX ": The model and loaded state dict do not match exactly\n\n"
                               "missing keys in source state_dict: features.4.conv.0.0.weight, ");
    CHECK(strstr(logged, "unexpected") == NULL); /* head.* is outside the prefix */
    /* a list of initialisers: the non-Pretrained ones are the family's own and skipped */
    sscma_runner *listed = runner_of(ctx, 1, 4,
                                     ", \"init_cfg\": [{\"type\": \"Kaiming\", \"layer\": \"Conv2d\"},"
                                     " {\"type\": \"Pretrained\", \"checkpoint\": \"" CKPT "\", \"prefix\": \"backbone.\"}]",
                                     NULL, SSCMA_OK, NULL);
    if (listed != NULL && ref != NULL)
        CHECK(same_param(model_of(listed), model_of(ref), "backbone.features.0.1.running_var"));
    runner_of(ctx, 1, 4, ", \"init_cfg\": {\"type\": \"Pretrained\", \"checkpoint\": \"" CKPT "\", \"prefix\": \"neck\"}",
              NULL, SSCMA_ERR_NOT_FOUND, "model.backbone.init_cfg: " CKPT ": prefix 'neck.' is not in the pretrained model");
    runner_of(ctx, 1, 4, ", \"init_cfg\": {\"type\": \"Pretrained\", \"prefix\": \"backbone.\"}", NULL,
              SSCMA_ERR_CONFIG, "model.backbone.init_cfg.checkpoint: expected a file path, missing");
    runner_of(ctx, 1, 4, ", \"init_cfg\": {\"type\": \"Pretrained\", \"checkpoint\": 3}", NULL, SSCMA_ERR_CONFIG,
              "model.backbone.init_cfg.checkpoint: expected");
    sscma_runner_destroy(ref);
    sscma_runner_destroy(fresh);
    sscma_runner_destroy(r);
    sscma_runner_destroy(listed);
    sscma_context_destroy(ctx);
}

static void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(fwrite(data, 1, size, f) == size);
        fclose(f);
    }
}

/* Unreadable and malformed files fail with a status and a message naming the file; nothing crashes. */
static void malformed_files_fail_with_the_file_named(void)
{
    sscma_context *ctx = new_context();
    char path[128], extra[256], expect[256];
    snprintf(extra, sizeof extra, ", \"load_from\": \"%s/none.onnx\"", tmpdir);
    snprintf(expect, sizeof expect, "load_from: %s/none.onnx", tmpdir);
    runner_of(ctx, 1, 4, NULL, extra, SSCMA_ERR_IO, expect);
    /* not protobuf at all */
    snprintf(path, sizeof path, "%s/garbage.onnx", tmpdir);
    write_bytes(path, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10);
    snprintf(extra, sizeof extra, ", \"load_from\": \"%s\"", path);
    snprintf(expect, sizeof expect, "load_from: %s: not an ONNX model", path);
    runner_of(ctx, 1, 4, NULL, extra, SSCMA_ERR_FORMAT, expect);
    /* the ONNX fixture cut short, and with its last bytes altered */
    void *data = NULL;
    size_t size = 0;
    FILE *f = fopen(ONNX, "rb");
    CHECK(f != NULL);
    if (f != NULL) {
        fseek(f, 0, SEEK_END);
        size = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        data = malloc(size);
        CHECK(data != NULL && fread(data, 1, size, f) == size);
        fclose(f);
    }
    if (data != NULL) {
        snprintf(path, sizeof path, "%s/cut.onnx", tmpdir);
        for (size_t cut = 1; cut < size; cut += size / 37 + 1) {
            write_bytes(path, data, cut);
            snprintf(extra, sizeof extra, ", \"load_from\": \"%s\"", path);
            sscma_config *cfg = NULL;
            char text[1024];
            snprintf(text, sizeof text,
                     "{\"model\": {\"type\": \"ImageClassifier\", \"input_size\": [32, 32], \"backbone\": {\"type\":"
                     " \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1, \"out_indices\": [1]}, \"neck\":"
                     " {\"type\": \"GlobalAveragePooling\"}, \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4,"
                     " \"in_channels\": 8}}%s}", extra);
            CHECK_OK(sscma_config_parse(text, NULL, &cfg));
            sscma_runner *r = NULL;
            sscma_status st = sscma_runner_create(ctx, cfg, &r);
            /* a prefix of a protobuf message may still parse (fields simply absent): then it loads what it has */
            if (st != SSCMA_OK) {
                CHECK_INT_EQ(st, SSCMA_ERR_FORMAT);
                CHECK_STR_CONTAINS(sscma_last_error(), path);
            }
            sscma_runner_destroy(r);
            sscma_config_destroy(cfg);
        }
        free(data);
    }
    /* a checkpoint cut short */
    snprintf(path, sizeof path, "%s/cut.ckpt", tmpdir);
    write_bytes(path, "SSCMACKP\x01\x00\x00\x00", 12);
    snprintf(extra, sizeof extra, ", \"init_cfg\": {\"type\": \"Pretrained\", \"checkpoint\": \"%s\"}", path);
    snprintf(expect, sizeof expect, "model.backbone.init_cfg: %s", path);
    runner_of(ctx, 1, 4, extra, NULL, SSCMA_ERR_FORMAT, expect);
    sscma_context_destroy(ctx);
}

/* A training step through the public model API: AdamW with weight decay, so a frozen weight that the optimizer
 * touched would move. */
static const char *const frozen_model =
    "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1, \"out_indices\": [2],"
    " \"frozen_stages\": %d, \"norm_eval\": %s},"
    " \"neck\": {\"type\": \"GlobalAveragePooling\"},"
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4, \"in_channels\": 16}}";

typedef struct snapshot {
    float *data;
    int64_t n;
} snapshot;

static snapshot take(sscma_model *m, const char *name)
{
    snapshot s = {NULL, 0};
    const float *d = param_data(m, name, &s.n);
    if (d != NULL && (s.data = malloc((size_t)s.n * sizeof *s.data)) != NULL)
        memcpy(s.data, d, (size_t)s.n * sizeof *s.data);
    return s;
}

/* Whether `name` still holds the snapshot's bits (frees it). */
static int unchanged(sscma_model *m, const char *name, snapshot s)
{
    int64_t n = 0;
    const float *d = param_data(m, name, &n);
    int same = d != NULL && s.data != NULL && n == s.n && memcmp(d, s.data, (size_t)n * sizeof *d) == 0;
    free(s.data);
    return same;
}

static void train_one_step(sscma_model *m)
{
    sscma_optimizer *opt = NULL;
    CHECK_OK(sscma_model_prepare(m, 4, 1));
    fixture_fill_batch(m, 4, 4, 3);
    CHECK_OK(sscma_optimizer_create(m, "{\"type\": \"AdamW\", \"lr\": 0.01, \"weight_decay\": 0.05}", &opt));
    CHECK_OK(sscma_model_zero_grad(m));
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_model_backward(m));
    CHECK_OK(sscma_optimizer_step(opt));
    sscma_optimizer_destroy(opt);
}

/* frozen_stages 1 (mmcls / mmdet): the stem's parameters and stage 1's (features.1) neither train nor, for stage
 * 1, update their batch norm statistics; the stem's batch norm statistics do update (upstream leaves conv1 in
 * training mode); stage 2 (features.2) trains. norm_eval 1 keeps every backbone statistic. */
static void frozen_stages_stay_unchanged_after_a_step(void)
{
    sscma_context *ctx = new_context();
    char text[1024];
    snprintf(text, sizeof text, frozen_model, 1, "false");
    sscma_model *m = NULL;
    CHECK_OK(sscma_model_create(ctx, text, &m));
    if (m == NULL)
        goto done;
    int32_t i = -1;
    uint32_t flags = 0;
    CHECK_OK(sscma_model_find_param(m, "backbone.features.1.conv.0.0.weight", &i));
    CHECK_OK(sscma_model_param(m, i, NULL, &flags, NULL, NULL));
    CHECK_INT_EQ(flags & SSCMA_PARAM_TRAINABLE, 0);
    CHECK_OK(sscma_model_find_param(m, "backbone.features.2.conv.0.0.weight", &i));
    CHECK_OK(sscma_model_param(m, i, NULL, &flags, NULL, NULL));
    CHECK_INT_EQ(flags & SSCMA_PARAM_TRAINABLE, SSCMA_PARAM_TRAINABLE);
    snapshot stem_w = take(m, "backbone.features.0.0.weight"), stem_bn = take(m, "backbone.features.0.1.weight"),
             stem_mean = take(m, "backbone.features.0.1.running_mean"),
             s1_w = take(m, "backbone.features.1.conv.1.weight"), s1_bn = take(m, "backbone.features.1.conv.2.bias"),
             s1_mean = take(m, "backbone.features.1.conv.0.1.running_mean"),
             s2_w = take(m, "backbone.features.2.conv.1.0.weight"),
             s2_mean = take(m, "backbone.features.2.conv.1.1.running_mean"), head = take(m, "head.fc.weight");
    train_one_step(m);
    CHECK(unchanged(m, "backbone.features.0.0.weight", stem_w));
    CHECK(unchanged(m, "backbone.features.0.1.weight", stem_bn));
    CHECK(!unchanged(m, "backbone.features.0.1.running_mean", stem_mean));
    CHECK(unchanged(m, "backbone.features.1.conv.1.weight", s1_w));
    CHECK(unchanged(m, "backbone.features.1.conv.2.bias", s1_bn));
    CHECK(unchanged(m, "backbone.features.1.conv.0.1.running_mean", s1_mean));
    CHECK(!unchanged(m, "backbone.features.2.conv.1.0.weight", s2_w));
    CHECK(!unchanged(m, "backbone.features.2.conv.1.1.running_mean", s2_mean));
    CHECK(!unchanged(m, "head.fc.weight", head));
    sscma_model_destroy(m);
    m = NULL;
    /* norm_eval: no statistic of the backbone moves, its weights still train */
    snprintf(text, sizeof text, frozen_model, -1, "true");
    CHECK_OK(sscma_model_create(ctx, text, &m));
    if (m == NULL)
        goto done;
    stem_mean = take(m, "backbone.features.0.1.running_mean");
    s2_mean = take(m, "backbone.features.2.conv.1.1.running_mean");
    s2_w = take(m, "backbone.features.2.conv.1.0.weight");
    train_one_step(m);
    CHECK(unchanged(m, "backbone.features.0.1.running_mean", stem_mean));
    CHECK(unchanged(m, "backbone.features.2.conv.1.1.running_mean", s2_mean));
    CHECK(!unchanged(m, "backbone.features.2.conv.1.0.weight", s2_w));
    sscma_model_destroy(m);
    m = NULL;
    snprintf(text, sizeof text, frozen_model, 8, "false");
    CHECK_FAILS(sscma_model_create(ctx, text, &m), SSCMA_ERR_CONFIG, "model.backbone.frozen_stages: expected");
done:
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(onnx_initializers_match_the_converted_checkpoint),
        TEST_CASE(another_class_count_skips_the_head),
        TEST_CASE(unexpected_and_missing_keys_are_reported),
        TEST_CASE(backbone_init_cfg_with_a_prefix),
        TEST_CASE(malformed_files_fail_with_the_file_named),
        TEST_CASE(frozen_stages_stay_unchanged_after_a_step),
    };
    if (fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-pretrained") != 0)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    if (fixture_tmpdir_remove(tmpdir) != 0)
        rc = 1;
    return rc;
}
