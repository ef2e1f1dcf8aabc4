/*
 * The modules' config readers through core/schema: a transform, a dataset, a model family and a trainer hook each
 * report a bad key, a wrong type and an out-of-range value in the one format "<where>: <json.path>: ...", and a
 * config loaded from a file names the file.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "data/data.h"
#include "harness.h"
#include "sscma/sscma.h"
#include "train/hook.h"

static sscma_context *ctx;

static sscma_status pipeline_from(const char *text)
{
    json_t *list = json_loads(text, 0, NULL);
    sscma_pipeline *p = NULL;
    sscma_status st = sscma_pipeline_create(ctx, list, &p);
    sscma_pipeline_destroy(p);
    json_decref(list);
    return st;
}

static void transforms_name_the_pipeline_entry(void)
{
    CHECK_FAILS(pipeline_from("[{\"type\": \"Resize\", \"size\": 8}, {\"type\": \"RandomFlip\", \"p\": 1}]"),
                SSCMA_ERR_CONFIG, "RandomFlip: pipeline[1]: unknown key 'p'; valid keys: type, prob, direction");
    CHECK_FAILS(pipeline_from("[{\"type\": \"ColorJitter\", \"hue\": 0.1}]"), SSCMA_ERR_CONFIG,
                "ColorJitter: pipeline[0]: unknown key 'hue'; valid keys: type, brightness, contrast, saturation");
}

static void datasets_name_their_type_and_key(void)
{
    sscma_dataset *ds = NULL;
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"root\": \"x\"}", &ds), SSCMA_ERR_CONFIG,
                "FashionMNIST: unknown key 'root'; valid keys: type, data_root, split");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"CocoDataset\", \"ann\": \"x\"}", &ds), SSCMA_ERR_CONFIG,
                "CocoDataset: unknown key 'ann'; valid keys: type, data_root, ann_file");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"YoloDataset\", \"data_root\": \"d\", \"strict\": \"yes\"}", &ds),
                SSCMA_ERR_CONFIG, "YoloDataset: strict: expected true or false, got \"yes\"");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"YoloDataset\", \"data_root\": \"d\", \"data_prefix\": {\"images\": "
                                        "\"i\"}}", &ds),
                SSCMA_ERR_CONFIG, "YoloDataset: data_prefix: unknown key 'images'; valid keys: img, label");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"VOCDataset\", \"ann_file\": \"trainval.txt\"}", &ds),
                SSCMA_ERR_CONFIG, "VOCDataset: data_root: expected the folder with Annotations/ and JPEGImages/, missing");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"CustomDataset\", \"data_root\": \"/nonexistent\", \"classes\": "
                                        "[\"a\", 1]}", &ds),
                SSCMA_ERR_CONFIG, "CustomDataset: classes[1]: expected a folder name, got 1");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"MeterData\", \"data_root\": 3}", &ds), SSCMA_ERR_CONFIG,
                "MeterData: data_root: expected a string, got 3");
    CHECK(ds == NULL);
}

#define CLASSIFIER(backbone, head)                                                                             \
    "{\"type\": \"ImageClassifier\", \"input_size\": 16, \"backbone\": {\"type\": \"MobileNetV2\"" backbone "}," \
    " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 3" head "}}"

static void model_families_name_the_json_path(void)
{
    sscma_model *m = NULL;
    CHECK_FAILS(sscma_model_create(ctx, CLASSIFIER(", \"widen\": 1", ""), &m), SSCMA_ERR_CONFIG,
                "MobileNetV2: model.backbone: unknown key 'widen'; valid keys: type, widen_factor");
    CHECK_FAILS(sscma_model_create(ctx, CLASSIFIER("", ", \"dropout\": \"0.1\""), &m), SSCMA_ERR_CONFIG,
                "LinearClsHead: model.head.dropout: expected a number 0..0.99, got \"0.1\"");
    CHECK_FAILS(sscma_model_create(ctx, CLASSIFIER(", \"out_indices\": [1, 9]", ""), &m), SSCMA_ERR_CONFIG,
                "MobileNetV2: model.backbone.out_indices[1]: expected an integer 0..7, got 9");
    CHECK_FAILS(sscma_model_create(ctx, CLASSIFIER("", ", \"loss\": {\"type\": \"FocalLoss\"}"), &m),
                SSCMA_ERR_CONFIG,
                "model: model.head.loss.type: expected one of: CrossEntropyLoss, LabelSmoothLoss, got \"FocalLoss\"");
    CHECK_FAILS(sscma_model_create(ctx,
                                   "{\"type\": \"Fomo\", \"backbone\": {\"type\": \"MobileNetv2\"}, \"head\": {\"type\":"
                                   " \"FomoHead\", \"num_classes\": 2, \"act_cfg\": {\"type\": \"GELU\"}}}",
                                   &m),
                SSCMA_ERR_CONFIG,
                "FomoHead: model.head.act_cfg.type: expected one of: ReLU, ReLU6, Hardswish, HSwish, got \"GELU\"");
    CHECK_FAILS(sscma_model_create(ctx,
                                   "{\"type\": \"PFLD\", \"backbone\": {\"type\": \"PfldMobileNetV2\"}, \"head\": "
                                   "{\"type\": \"PFLDhead\", \"feature_num\": [8]}}",
                                   &m),
                SSCMA_ERR_CONFIG, "PFLDhead: model.head.feature_num: expected a list of 2 integers (each an integer "
                                  "1..4096), got [8]");
    CHECK(m == NULL);
}

static sscma_status hook_from(const char *text, int which)
{
    json_t *node = json_loads(text, 0, NULL);
    sscma_hook *h = NULL;
    sscma_status st = which == 0   ? sscma_hook_ema_create(ctx, node, "trainer", "custom_hooks[1]", &h)
                      : which == 1 ? sscma_hook_early_stop_create(ctx, node, "trainer", "custom_hooks[0]", &h)
                      : which == 2 ? sscma_hook_checkpoint_create(ctx, node, "trainer", &h)
                      : which == 4 ? sscma_hook_distill_create(ctx, node, "trainer", &h)
                                   : sscma_hook_yolov5_create(ctx, node, "trainer", "default_hooks.param_scheduler", NULL, &h);
    if (h != NULL && h->ops->destroy != NULL)
        h->ops->destroy(h);
    json_decref(node);
    return st;
}

static void hooks_name_the_json_path(void)
{
    CHECK_FAILS(hook_from("{\"type\": \"EMAHook\", \"momentun\": 0.1}", 0), SSCMA_ERR_CONFIG,
                "trainer: custom_hooks[1]: unknown key 'momentun'; valid keys: type, ema_type, momentum");
    CHECK_FAILS(hook_from("{\"type\": \"EMAHook\", \"momentum\": 2}", 0), SSCMA_ERR_CONFIG,
                "trainer: custom_hooks[1].momentum: expected a number 0..1, got 2");
    CHECK_FAILS(hook_from("{\"type\": \"EMAHook\", \"ema_type\": \"SWA\"}", 0), SSCMA_ERR_CONFIG,
                "trainer: custom_hooks[1].ema_type: expected one of: ExponentialMovingAverage, ExpMomentumEMA, got "
                "\"SWA\"");
    CHECK_FAILS(hook_from("{\"type\": \"EarlyStoppingHook\"}", 1), SSCMA_ERR_CONFIG,
                "trainer: custom_hooks[0].monitor: expected a string, missing");
    CHECK_FAILS(hook_from("{\"type\": \"EarlyStoppingHook\", \"monitor\": \"acc\", \"patience\": \"3\"}", 1),
                SSCMA_ERR_CONFIG, "trainer: custom_hooks[0].patience: expected an integer >= 1, got \"3\"");
    CHECK_FAILS(hook_from("{\"type\": \"EarlyStoppingHook\", \"monitor\": \"acc\", \"rule\": \"up\"}", 1),
                SSCMA_ERR_CONFIG, "trainer: custom_hooks[0].rule: expected one of: less, greater, got \"up\"");
    CHECK_FAILS(hook_from("{\"interval\": 0}", 2), SSCMA_ERR_CONFIG,
                "trainer: default_hooks.checkpoint.interval: expected an integer >= 1, got 0");
    CHECK_FAILS(hook_from("{\"save_last\": 1}", 2), SSCMA_ERR_CONFIG,
                "trainer: default_hooks.checkpoint.save_last: expected true or false, got 1");
    CHECK_FAILS(hook_from("{\"by_epoch\": false}", 2), SSCMA_ERR_CONFIG,
                "trainer: default_hooks.checkpoint.by_epoch: only epoch checkpoints are supported");
    CHECK_FAILS(hook_from("{\"type\": \"YOLOv5ParamSchedulerHook\", \"lr_factor\": 2}", 3), SSCMA_ERR_CONFIG,
                "trainer: default_hooks.param_scheduler.lr_factor: expected a number 0..1, got 2");
    CHECK_FAILS(hook_from("{\"type\": \"StepHook\"}", 3), SSCMA_ERR_CONFIG,
                "trainer: default_hooks.param_scheduler.type: expected ParamSchedulerHook or YOLOv5ParamSchedulerHook, "
                "got \"StepHook\"");
    CHECK_OK(hook_from("{\"type\": \"EarlyStoppingHook\", \"monitor\": \"loss\", \"stopping_threshold\": null}", 1));
    /* the top-level distill (knowledge distillation) */
    CHECK_FAILS(hook_from("{\"teacher_ckpt\": \"t.ckpt\", \"temperature\": 4}", 4), SSCMA_ERR_CONFIG,
                "trainer: distill: unknown key 'temperature'; valid keys: teacher_ckpt, tau, loss_weight");
    CHECK_FAILS(hook_from("{\"teacher_ckpt\": \"t.ckpt\", \"tau\": 0}", 4), SSCMA_ERR_CONFIG,
                "trainer: distill.tau: expected a temperature > 0 (at most 1000), got 0");
    CHECK_FAILS(hook_from("{\"teacher_ckpt\": \"t.ckpt\", \"loss_weight\": -1}", 4), SSCMA_ERR_CONFIG,
                "trainer: distill.loss_weight: expected a number 0..1e6, got -1");
    CHECK_FAILS(hook_from("{\"teacher_ckpt\": \"t.ckpt\", \"tau\": \"4\"}", 4), SSCMA_ERR_CONFIG,
                "trainer: distill.tau: expected a number, got \"4\"");
    CHECK_FAILS(hook_from("{\"teacher_ckpt\": 3}", 4), SSCMA_ERR_CONFIG,
                "trainer: distill.teacher_ckpt: expected a string, got 3");
}

/* A config loaded from a file: the runner's messages start with the file, then the JSON path. */
static void a_loaded_config_names_its_file(void)
{
    char path[64] = "/tmp/sscma-config-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *text = "{\"model\": " CLASSIFIER("", "") "}";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    sscma_config *cfg = NULL;
    sscma_runner *r = NULL;
    char needle[160];
    CHECK_OK(sscma_config_load(path, &cfg));
    CHECK_OK(sscma_config_set(cfg, "model.head.num_classes=\"3\""));
    snprintf(needle, sizeof needle, "%s: model.head.num_classes: expected an integer 1..100000, got \"3\"", path);
    CHECK_FAILS(sscma_runner_create(ctx, cfg, &r), SSCMA_ERR_CONFIG, needle);
    CHECK_OK(sscma_config_set(cfg, "model.head.num_classes=3"));
    CHECK_OK(sscma_config_set(cfg, "model.backbone.widen_factor=8"));
    snprintf(needle, sizeof needle, "%s: model.backbone.widen_factor: expected a number 0.05..4, got 8", path);
    CHECK_FAILS(sscma_runner_create(ctx, cfg, &r), SSCMA_ERR_CONFIG, needle);
    CHECK(r == NULL);
    sscma_config_destroy(cfg);
    unlink(path);
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(transforms_name_the_pipeline_entry),
        TEST_CASE(datasets_name_their_type_and_key),
        TEST_CASE(model_families_name_the_json_path),
        TEST_CASE(hooks_name_the_json_path),
        TEST_CASE(a_loaded_config_names_its_file),
    };
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 1;
    int rc = test_main(argc, argv, tests, TEST_COUNT(tests));
    sscma_context_destroy(ctx);
    return rc;
}
