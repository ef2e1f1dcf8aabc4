/*
 * The runner: a resolved SSCMA config turned into a model, datasets, loaders and a trainer (mmengine's Runner).
 * Only the mapping from mmengine's keys to the library's objects lives here; each object validates its own keys.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include <sscma/predict.h>
#include <sscma/runner.h>

#include "config/config_private.h"
#include "core/config.h"
#include "core/internal.h"
#include "core/file.h"
#include "core/schema.h"
#include "anomaly/anomaly.h"
#include "export/onnx_read.h"
#include "train/state.h"
#include "zoo/prune.h"
#include "zoo/zoo.h"

#define WHERE "runner"
#define N_SLOTS 3

typedef struct runner_loda runner_loda;

typedef struct slot {
    sscma_dataset *dataset;
    sscma_loader *loader;
    json_t *loader_cfg;
} slot;

struct sscma_runner {
    sscma_context *ctx;
    json_t *root;
    sscma_model *model;
    char family[32];
    int64_t image_c;      /* the model's input channels */
    int64_t fomo_stride;  /* FOMO: image height / target height */
    int64_t fomo_classes; /* FOMO: target channels - 1 */
    int64_t box_rows;     /* box detectors: the BoxTarget's rows (model.bbox_head.max_boxes) */
    slot slots[N_SLOTS];  /* train, val, test */
    sscma_trainer *trainer;
    sscma_metric *metric;
    char *text;
    char *file; /* the config's file, NULL when it came as text */
    runner_loda *loda; /* model type LODA: no graph model (lib/anomaly), see "LODA" below */
};

static sscma_status loda_open(sscma_runner *r, json_t *model);
static void loda_close(sscma_runner *r);
static sscma_status loda_trainer(sscma_runner *r, sscma_trainer **out);
static sscma_status loda_evaluate(sscma_runner *r, const char *split, const sscma_metric **out);
static sscma_status anomaly_evaluator(sscma_runner *r, const char *split, json_t *ecfg, const char *key, json_t **out);
static const char *vae_pred_output(const sscma_runner *r, const char *ekey);
static sscma_status vae_normal_training(sscma_runner *r, json_t *dataset_cfg, sscma_dataset **dataset);
static sscma_status vae_threshold_meta(sscma_runner *r, sscma_qmodel *q);
static sscma_status make_dirs(const char *path);
static sscma_status loda_write_deployable(sscma_runner *r, const loda *m, const char *wd);

/* Where the config reader's messages say a mistake is: the config's file, else the runner. */
static const char *where(const sscma_runner *r)
{
    return r->file != NULL ? r->file : WHERE;
}

static const char *const slot_keys[N_SLOTS] = {"train_dataloader", "val_dataloader", "test_dataloader"};

static bool vae_calibrates_on_train(const sscma_runner *r);

/*
 * Resolves a split name to its slot and config key; "test" without test_dataloader is the val slot; "calib" (the
 * split post-training quantization calibrates on) is the val slot, or the train slot without val_dataloader or for
 * a Vae_Model evaluated by an AnomalyMetric (its training set holds the normal windows only: the abnormal class is
 * unknown at deployment, so it calibrates no range).
 */
static sscma_status find_slot(sscma_runner *r, const char *split, int *index)
{
    int s = strcmp(split, "train") == 0 ? 0 : strcmp(split, "val") == 0 ? 1 : strcmp(split, "test") == 0 ? 2 : -1;
    if (strcmp(split, "calib") == 0) {
        json_t *val = json_object_get(r->root, slot_keys[1]);
        s = val == NULL || json_is_null(val) || vae_calibrates_on_train(r) ? 0 : 1;
    }
    if (s < 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "unknown split '%s'; expected train, val, test or calib",
                          split);
    if (s == 2 && json_object_get(r->root, slot_keys[2]) == NULL)
        s = 1;
    json_t *dl = json_object_get(r->root, slot_keys[s]);
    if (dl == NULL || json_is_null(dl))
        return sscma_fail(SSCMA_ERR_NOT_FOUND, WHERE, "the config has no '%s'", slot_keys[s]);
    if (!json_is_object(dl))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "'%s' must be an object", slot_keys[s]);
    *index = s;
    return SSCMA_OK;
}

/* The part of a transform type after its registry scope: "mmdet.Resize" -> "Resize". */
static const char *bare_type(const char *type)
{
    const char *dot = strrchr(type, '.');
    return dot != NULL ? dot + 1 : type;
}

static bool dropped_transform(const char *type)
{
    static const char *const names[] = {"LoadImageFromFile", "LoadAnnotations", "PackInputs", "PackClsInputs",
                                        "PackDetInputs", "PackPoseInputs", "PackTextDetInputs", "Collect",
                                        "PackSensorInputs", "LoadSensorFromFile",
                                        "ToTensor", "ImageToTensor", "DefaultFormatBundle", NULL};
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(type, names[i]) == 0)
            return true;
    return false;
}

/*
 * The model's data_preprocessor mean/std as a Normalize for `channels`-channel images: three equal values serve a
 * gray model as one. Stores NULL in *out when there is no normalisation.
 */
static sscma_status preprocessor_normalize(sscma_runner *r, json_t **out)
{
    *out = NULL;
    json_t *dp = json_object_get(json_object_get(r->root, "model"), "data_preprocessor");
    if (dp == NULL || json_is_null(dp))
        return SSCMA_OK;
    json_t *stats[2] = {json_object_get(dp, "mean"), json_object_get(dp, "std")};
    if (stats[0] == NULL && stats[1] == NULL)
        return SSCMA_OK;
    static const char *const names[2] = {"mean", "std"};
    json_t *t = json_pack("{s:s}", "type", "Normalize");
    for (int k = 0; k < 2; k++) {
        json_t *v = stats[k] != NULL ? json_deep_copy(stats[k]) : json_pack("[f]", k == 0 ? 0.0 : 1.0);
        size_t n = json_array_size(v);
        bool numbers = json_is_array(v) && n >= 1;
        for (size_t i = 0; numbers && i < n; i++)
            numbers = json_is_number(json_array_get(v, i));
        if (!numbers) {
            json_decref(v), json_decref(t);
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "model.data_preprocessor.%s: expected a list of numbers",
                              names[k]);
        }
        if ((int64_t)n != r->image_c && n != 1) {
            bool same = true;
            for (size_t i = 1; i < n; i++)
                same = same && json_number_value(json_array_get(v, i)) == json_number_value(json_array_get(v, 0));
            if (!same || r->image_c != 1) {
                json_decref(v), json_decref(t);
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "model.data_preprocessor.%s: %zu values for a model with "
                                  "%lld input channels", names[k], n, (long long)r->image_c);
            }
            while (json_array_size(v) > 1)
                json_array_remove(v, json_array_size(v) - 1);
        }
        json_object_set_new(t, names[k], v);
    }
    *out = t;
    return SSCMA_OK;
}

/* SSCMA's anomaly VAE (Vae_Model, or its scoped name): sensor features in, its loss the metric's input (MseMetric) */
static bool vae_family(const char *family)
{
    return strcmp(family, "Vae_Model") == 0 || strcmp(family, "sscma.Vae_Model") == 0;
}

/*
 * The loader's pipeline from the dataset's (mmengine) pipeline, at `at` in the config ("train_dataloader.dataset.
 * pipeline"): each transform copied from it carries "_at" (its place there), so that a message about it names the
 * entry the user wrote, not its place in the derived list.
 */
static sscma_status map_pipeline(sscma_runner *r, const char *key, const char *at, json_t *src, json_t **out)
{
    /* audio clips: the loader applies SSCMA's AudioAugs (written as one dict, or a list) to the training clips, and
     * nothing else: no image transform, no Normalize */
    if (strcmp(r->family, "Audio_classify") == 0) {
        json_t *list = json_array();
        for (size_t i = 0; src != NULL && i < (json_is_array(src) ? json_array_size(src) : 1); i++) {
            json_t *t = json_is_array(src) ? json_array_get(src, i) : src;
            json_t *copy = json_is_object(t) ? json_deep_copy(t) : json_pack("{s:O}", "type", t);
            char place[200];
            if (json_is_array(src))
                snprintf(place, sizeof place, "%s[%zu]", at, i);
            else
                snprintf(place, sizeof place, "%s", at);
            json_object_set_new(copy, "_at", json_string(place));
            json_array_append_new(list, copy);
        }
        *out = list;
        return SSCMA_OK;
    }
    json_t *list = json_array();
    bool gray = false, rgb = false, normalize = false;
    if (src != NULL && !json_is_array(src)) {
        json_decref(list);
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.dataset.pipeline must be a list of transforms", key);
    }
    for (size_t i = 0; src != NULL && i < json_array_size(src); i++) {
        json_t *t = json_array_get(src, i);
        const char *type = json_string_value(json_object_get(t, "type"));
        if (!json_is_object(t) || type == NULL) {
            json_decref(list);
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.dataset.pipeline.%zu: a transform is an object with a "
                              "\"type\"", key, i);
        }
        type = bare_type(type);
        if (strcmp(type, "LoadImageFromFile") == 0) {
            const char *ct = json_string_value(json_object_get(t, "color_type"));
            if (ct != NULL && strcmp(ct, "grayscale") == 0) {
                json_array_append_new(list, json_pack("{s:s}", "type", "ToGray"));
                gray = true;
            }
            continue;
        }
        if (dropped_transform(type))
            continue;
        json_t *copy = json_deep_copy(t);
        json_object_set_new(copy, "type", json_string(type));
        char place[200];
        snprintf(place, sizeof place, "%s[%zu]", at, i);
        json_object_set_new(copy, "_at", json_string(place));
        gray = gray || strcmp(type, "ToGray") == 0;
        rgb = rgb || strcmp(type, "ToRGB") == 0;
        normalize = normalize || strcmp(type, "Normalize") == 0;
        json_array_append_new(list, copy);
    }
    /* a gray model reads every image as gray (SSCMA's color_type='grayscale'), a colour model every image as RGB;
     * a model of sensor windows reads no image (its dataset gives the floats) */
    if (strcmp(r->family, "AccelerometerClassifier") == 0 || vae_family(r->family)) {
        *out = list;
        return SSCMA_OK;
    }
    if (r->image_c == 1 && !gray)
        json_array_insert_new(list, 0, json_pack("{s:s}", "type", "ToGray"));
    else if (r->image_c == 3 && !rgb)
        json_array_insert_new(list, 0, json_pack("{s:s}", "type", "ToRGB"));
    if (!normalize) {
        json_t *n = NULL;
        sscma_status st = preprocessor_normalize(r, &n);
        if (st != SSCMA_OK) {
            json_decref(list);
            return st;
        }
        if (n != NULL)
            json_array_append_new(list, n);
    }
    *out = list;
    return SSCMA_OK;
}

/* mmengine's dataloader keys; those the library has no use for are accepted and ignored. */
typedef struct dataloader_cfg {
    int64_t batch_size, num_workers;
    bool drop_last;
    json_t *dataset, *sampler, *pipeline;
} dataloader_cfg;

typedef struct sampler_cfg {
    const char *type;
    bool shuffle;
} sampler_cfg;

typedef struct randomness_cfg {
    int64_t seed;
} randomness_cfg;

static const sscma_field dataloader_fields[] = {
    SSCMA_FIELD_RANGE(dataloader_cfg, batch_size, 1, 1, INFINITY),
    SSCMA_FIELD_RANGE(dataloader_cfg, num_workers, 0, 0, INFINITY),
    SSCMA_FIELD(dataloader_cfg, drop_last, false),
    SSCMA_FIELD_JSON_AS("dataset", dataloader_cfg, dataset),
    SSCMA_FIELD_JSON_AS("sampler", dataloader_cfg, sampler),
    SSCMA_FIELD_JSON_AS("pipeline", dataloader_cfg, pipeline),
    SSCMA_FIELD_KEY("persistent_workers"),
    SSCMA_FIELD_KEY("pin_memory"),
    SSCMA_FIELD_KEY("prefetch_factor"),
    SSCMA_FIELD_KEY("collate_fn"),
    SSCMA_FIELD_KEY("batch_sampler"),
    SSCMA_FIELD_KEY("worker_init_fn"),
    SSCMA_FIELD_END,
};

static const sscma_field sampler_fields[] = {
    SSCMA_FIELD_STRING(sampler_cfg, type, "DefaultSampler"),
    SSCMA_FIELD_AS("shuffle", sampler_cfg, shuffle, 0, false, 0, 0, SSCMA_FIELD_PREFILLED),
    SSCMA_FIELD_KEY("seed"),
    SSCMA_FIELD_KEY("round_up"),
    SSCMA_FIELD_END,
};

static const sscma_field randomness_fields[] = {
    SSCMA_FIELD_AS("seed", randomness_cfg, seed, 0, true, 0, INFINITY, SSCMA_FIELD_PREFILLED),
    SSCMA_FIELD_KEY("deterministic"),
    SSCMA_FIELD_KEY("diff_rank_seed"),
    SSCMA_FIELD_END,
};

/* Builds the loader config of slot s (once). */
/* The box detectors (YOLODetector, RTMDet): BoxTarget loaders, CocoMetric on "pred" after test_cfg's NMS. */
static bool box_detector(const char *family)
{
    return strcmp(family, "YOLODetector") == 0 || strcmp(family, "RTMDet") == 0;
}

static sscma_status loader_config(sscma_runner *r, int s)
{
    slot *sl = &r->slots[s];
    if (sl->loader_cfg != NULL)
        return SSCMA_OK;
    const char *key = slot_keys[s];
    dataloader_cfg dl;
    char at[64];
    sscma_status st = sscma_schema_read(dataloader_fields, json_object_get(r->root, key), where(r), key, &dl);
    if (st != SSCMA_OK)
        return st;
    if (!json_is_object(dl.dataset))
        return sscma_schema_expected(where(r), key, "dataset", "an object with a \"type\"", dl.dataset);
    uint64_t ctx_seed = 0;
    sscma_context_seed(r->ctx, &ctx_seed);
    /* mmengine shuffles with a sampler's default; without one, only the training split */
    sampler_cfg sampler = {.shuffle = dl.sampler != NULL ? true : s == 0};
    randomness_cfg rnd = {.seed = (int64_t)(ctx_seed & INT64_MAX)};
    if ((st = sscma_schema_read(sampler_fields, dl.sampler, where(r), sscma_schema_path(at, sizeof at, key, "sampler"),
                                &sampler)) != SSCMA_OK ||
        (st = sscma_schema_read(randomness_fields, json_object_get(r->root, "randomness"), where(r), "randomness",
                                &rnd)) != SSCMA_OK)
        return st;
    const char *stype = bare_type(sampler.type);
    if (strcmp(stype, "DefaultSampler") != 0 && strcmp(stype, "InfiniteSampler") != 0)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "%s.sampler.type: '%s' is not supported; use DefaultSampler",
                          key, sampler.type);
    json_int_t batch = dl.batch_size, workers = dl.num_workers, seed = rnd.seed;
    bool shuffle = sampler.shuffle, drop_last = dl.drop_last;
    if (workers > 8) /* worker threads prepare batches ahead; more than a few only cost memory */
        workers = 8;
    json_t *pipeline = NULL;
    json_t *src = json_object_get(dl.dataset, "pipeline");
    if (src != NULL && dl.pipeline != NULL && !json_equal(src, dl.pipeline)) /* settle_aliases left both */
        return sscma_schema_fail(where(r), key, "pipeline", "differs from %s.dataset.pipeline: both keys set the "
                                 "same thing; remove one (an override of either with --cfg-options wins)", key);
    char pipe_at[96];
    snprintf(pipe_at, sizeof pipe_at, "%s%s", key, src != NULL ? ".dataset.pipeline" : ".pipeline");
    if (src == NULL)
        src = dl.pipeline;
    if ((st = map_pipeline(r, key, pipe_at, src, &pipeline)) != SSCMA_OK)
        return st;
    json_t *cfg = json_pack("{s:I, s:b, s:b, s:I, s:I, s:o}", "batch_size", batch, "shuffle", shuffle, "drop_last",
                            drop_last, "num_workers", workers, "seed", seed, "pipeline", pipeline);
    if (cfg == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot build the loader config");
    if (strcmp(r->family, "Fomo") == 0)
        json_object_set_new(cfg, "target", json_pack("{s:s, s:I}", "type", "FomoTarget", "stride", (json_int_t)r->fomo_stride));
    else if (strcmp(r->family, "PFLD") == 0)
        json_object_set_new(cfg, "target", json_pack("{s:s}", "type", "KeypointTarget"));
    else if (box_detector(r->family))
        json_object_set_new(cfg, "target", json_pack("{s:s, s:I}", "type", "BoxTarget", "max_boxes",
                                                     (json_int_t)r->box_rows));
    sl->loader_cfg = cfg;
    return SSCMA_OK;
}

/* Prefixes the thread's message with `what` and returns st. */
static sscma_status with_key(sscma_status st, const char *what)
{
    char detail[900];
    snprintf(detail, sizeof detail, "%s", sscma_last_error());
    return sscma_fail(st, WHERE, "%s: %s", what, detail);
}

/* Drops the registry scope of every "type" ("mmcls.LinearClsHead" -> "LinearClsHead"): the library has one. */
static void strip_scopes(json_t *v)
{
    const char *key;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            if (strcmp(key, "type") == 0 && json_is_string(item)) {
                const char *t = json_string_value(item);
                if (bare_type(t) != t)
                    json_string_set(item, bare_type(t));
            } else {
                strip_scopes(item);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            strip_scopes(item);
    }
}

/* The value at a dotted key of objects ("train_cfg.max_epochs"), NULL when absent or null; its parent and name. */
static json_t *value_at(json_t *root, const char *dotted, json_t **parent, char *leaf, size_t leaf_size)
{
    json_t *node = root;
    *parent = NULL;
    for (const char *p = dotted; node != NULL;) {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        snprintf(leaf, leaf_size, "%.*s", (int)n, p);
        *parent = node;
        node = json_is_object(node) ? json_object_get(node, leaf) : NULL;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return json_is_null(node) ? NULL : node;
}

/*
 * mmengine reads some settings from either of two keys. When both are set and differ, the one the user overrode
 * (sscma_config_set, --cfg-options; "${epochs}" after "epochs=2" counts) is copied over the other; when neither or
 * both were overridden, both stay and the reader of the pair refuses, naming the two keys.
 */
static sscma_status settle_aliases(sscma_runner *r, const sscma_config *config)
{
    static const char *const pairs[][2] = {
        {"max_epochs", "train_cfg.max_epochs"},
        {"val_interval", "train_cfg.val_interval"},
        {"val_begin", "train_cfg.val_begin"},
        {"train_dataloader.pipeline", "train_dataloader.dataset.pipeline"},
        {"val_dataloader.pipeline", "val_dataloader.dataset.pipeline"},
        {"test_dataloader.pipeline", "test_dataloader.dataset.pipeline"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        json_t *parent[2];
        char leaf[2][64];
        json_t *a = value_at(r->root, pairs[i][0], &parent[0], leaf[0], sizeof leaf[0]);
        json_t *b = value_at(r->root, pairs[i][1], &parent[1], leaf[1], sizeof leaf[1]);
        if (a == NULL || b == NULL || json_equal(a, b))
            continue;
        bool over_a = sscma_config_overridden(config, pairs[i][0]), over_b = sscma_config_overridden(config, pairs[i][1]);
        if (over_a == over_b)
            continue;
        int to = over_a ? 1 : 0;
        json_t *copy = json_deep_copy(over_a ? a : b);
        if (copy == NULL || json_object_set_new(parent[to], leaf[to], copy) != 0)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot apply the override of %s", pairs[i][to ^ 1]);
        sscma_logf(r->ctx, SSCMA_LOG_INFO, "%s: the override of %s also sets %s", where(r), pairs[i][to ^ 1],
                  pairs[i][to]);
    }
    return SSCMA_OK;
}

/* ---- pretrained weights: init_cfg {type: Pretrained} and load_from, as mmengine reads them ---- */

/*
 * Loads `path` into the parameters under `module` ("" = the model): a libsscma checkpoint (by its magic; also what
 * tools/torch2sscma.py writes) or else an ONNX file's initializers. Mismatches are logged (graph/load.c); a file
 * that cannot be read or parsed fails, the message led by `key`.
 */
static sscma_status load_pretrained(sscma_runner *r, const char *key, const char *path, const char *prefix,
                                    const char *module)
{
    char magic[8] = {0};
    FILE *f = NULL;
    bool ckpt = true; /* unreadable files go to the checkpoint reader, whose message names the path */
    if (sscma_open_regular(path, &f) == SSCMA_OK) {
        ckpt = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "SSCMACKP", 8) == 0;
        fclose(f);
    }
    char *report = NULL;
    int32_t loaded = 0;
    sscma_status st = ckpt ? sscma_model_load_pretrained_ckpt(r->model, path, prefix, module, &report, &loaded)
                           : sscma_model_load_pretrained_onnx(r->model, path, prefix, module, &report, &loaded);
    if (st != SSCMA_OK)
        return with_key(st, key);
    sscma_mfree(r->ctx, report);
    sscma_logf(r->ctx, SSCMA_LOG_INFO, "%s: loaded %d tensors from %s%s%s", key, (int)loaded, path,
               module[0] ? " into " : "", module);
    return SSCMA_OK;
}

typedef struct pretrained_cfg {
    char type[32];
    const char *checkpoint;
    const char *prefix;
} pretrained_cfg;

static const sscma_field pretrained_fields[] = {
    SSCMA_FIELD_STRING(pretrained_cfg, type, ""),
    SSCMA_FIELD_STRING(pretrained_cfg, checkpoint, NULL),
    SSCMA_FIELD_STRING(pretrained_cfg, prefix, NULL),
    SSCMA_FIELD_KEY("map_location"),
    SSCMA_FIELD_END,
};

/*
 * The Pretrained entries of `part`'s init_cfg (an object or a list of them; other types are the families' fixed
 * initialisation and are skipped), loaded into the parameters under `module`. `path` names the part in messages.
 */
static sscma_status init_from_cfg(sscma_runner *r, json_t *part, const char *path, const char *module)
{
    json_t *init = json_object_get(part, "init_cfg");
    if (init == NULL || json_is_null(init))
        return SSCMA_OK;
    char at[128], item_at[160];
    sscma_schema_path(at, sizeof at, path, "init_cfg");
    size_t n = json_is_array(init) ? json_array_size(init) : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_is_array(init) ? json_array_get(init, i) : init;
        const char *item_path = json_is_array(init) ? sscma_schema_index(item_at, sizeof item_at, at, i) : at;
        if (!json_is_object(item))
            return sscma_schema_expected(where(r), item_path, NULL, "an object with a \"type\"", item);
        const char *type = json_string_value(json_object_get(item, "type"));
        if (type == NULL || strcmp(type, "Pretrained") != 0)
            continue;
        pretrained_cfg c;
        sscma_status st = sscma_schema_read(pretrained_fields, item, where(r), item_path, &c);
        if (st != SSCMA_OK)
            return st;
        if (c.checkpoint == NULL)
            return sscma_schema_expected(where(r), item_path, "checkpoint", "a file path", NULL);
        if ((st = load_pretrained(r, item_path, c.checkpoint, c.prefix, module)) != SSCMA_OK)
            return st;
    }
    return SSCMA_OK;
}

/* mmengine's order: the parts' init_weights (backbone, neck, head), the model's own Pretrained, then load_from. */
static sscma_status load_weights(sscma_runner *r)
{
    static const char *const parts[][2] = {
        {"backbone", "backbone."}, {"neck", "neck."}, {"head", "head."}, {"bbox_head", "bbox_head."}};
    json_t *model = json_object_get(r->root, "model");
    sscma_status st = SSCMA_OK;
    char path[64];
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && st == SSCMA_OK; i++) {
        json_t *part = json_object_get(model, parts[i][0]);
        if (json_is_object(part))
            st = init_from_cfg(r, part, sscma_schema_path(path, sizeof path, "model", parts[i][0]), parts[i][1]);
    }
    if (st == SSCMA_OK)
        st = init_from_cfg(r, model, "model", "");
    json_t *load_from = json_object_get(r->root, "load_from");
    if (st == SSCMA_OK && load_from != NULL && !json_is_null(load_from)) {
        if (!json_is_string(load_from))
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "load_from: expected a checkpoint path or null");
        else
            st = load_pretrained(r, "load_from", json_string_value(load_from), NULL, "");
    }
    return st;
}

/* ---- prune: channel pruning of the loaded model (zoo/prune.h), docs/training.md "Pruning" ---- */

typedef struct prune_cfg {
    double ratio;
    int criterion;
    bool global;
    int64_t round_to;
    bool prune_first, prune_last, prune_head;
    json_t *layer_ratios;
} prune_cfg;

static const char *const prune_criteria[] = {"l1", "l2", "bn_scale", "fpgm", NULL};

static const sscma_field prune_fields[] = {
    SSCMA_FIELD_AS("ratio", prune_cfg, ratio, 0.5, true, 0.0, 0.99, 0),
    SSCMA_FIELD_ENUM_AS("criterion", prune_cfg, criterion, 0, prune_criteria, 0),
    SSCMA_FIELD(prune_cfg, global, false),
    SSCMA_FIELD_RANGE(prune_cfg, round_to, 1, 1, 1024),
    SSCMA_FIELD(prune_cfg, prune_first, false),
    SSCMA_FIELD(prune_cfg, prune_last, false),
    SSCMA_FIELD(prune_cfg, prune_head, false),
    SSCMA_FIELD_JSON_AS("layer_ratios", prune_cfg, layer_ratios),
    SSCMA_FIELD_END,
};

/*
 * With a "prune" object, replaces the runner's model (weights loaded) by its pruned model and the config's "model"
 * by the pruned model's config (the caller's config then describes the runner's model: what `sscma prune` writes).
 */
static sscma_status apply_prune(sscma_runner *r, sscma_config *config)
{
    json_t *node = json_object_get(r->root, "prune");
    if (node == NULL || json_is_null(node))
        return SSCMA_OK;
    if (!json_is_object(node))
        return sscma_schema_expected(where(r), "prune", NULL, "an object such as {\"ratio\": 0.5, \"criterion\": "
                                     "\"l1\"}", node);
    prune_cfg c;
    sscma_status st = sscma_schema_read(prune_fields, node, where(r), "prune", &c);
    if (st != SSCMA_OK)
        return st;
    sscma_prune_layer_ratio lr[64];
    int32_t n_lr = 0;
    if (c.layer_ratios != NULL && !json_is_null(c.layer_ratios)) {
        const char *layer;
        json_t *v;
        if (!json_is_object(c.layer_ratios) || json_object_size(c.layer_ratios) > 64)
            return sscma_schema_expected(where(r), "prune", "layer_ratios", "an object of at most 64 layer names to "
                                         "ratios", c.layer_ratios);
        json_object_foreach(c.layer_ratios, layer, v) {
            if (!json_is_number(v) || json_number_value(v) < 0.0 || json_number_value(v) >= 1.0)
                return sscma_schema_expected(where(r), "prune.layer_ratios", layer, "a number 0 <= ratio < 1", v);
            lr[n_lr].layer = layer, lr[n_lr++].ratio = json_number_value(v);
        }
    }
    sscma_prune_options o;
    sscma_prune_options_defaults(&o);
    o.ratio = c.ratio, o.criterion = (sscma_prune_criterion)c.criterion, o.global = c.global;
    o.round_to = (int32_t)c.round_to, o.prune_first = c.prune_first, o.prune_last = c.prune_last;
    o.prune_head = c.prune_head, o.layer_ratios = lr, o.n_layer_ratios = n_lr;
    sscma_model *pruned = NULL;
    if ((st = sscma_prune_model(r->model, &o, &pruned)) != SSCMA_OK)
        return with_key(st, "prune");
    char *text = sscma_json_dumps(r->ctx, sscma_model_config_json(pruned), JSON_COMPACT);
    size_t n = text != NULL ? strlen(text) + 8 : 0;
    char *assignment = text != NULL ? sscma_malloc(r->ctx, n) : NULL;
    if (assignment != NULL)
        snprintf(assignment, n, "model=%s", text);
    sscma_mfree(r->ctx, text);
    json_t *copy = json_deep_copy(sscma_model_config_json(pruned));
    if (assignment == NULL || copy == NULL || json_object_set_new(r->root, "model", copy) != 0)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy the pruned config");
    else
        st = sscma_config_set(config, assignment);
    sscma_mfree(r->ctx, assignment);
    if (st != SSCMA_OK) {
        sscma_model_destroy(pruned);
        return st;
    }
    sscma_model_destroy(r->model);
    r->model = pruned;
    return SSCMA_OK;
}

/* ---- anomaly detection: AnomalyMetric's class names, and LODA (lib/anomaly), which is no graph model ---- */

/*
 * An AnomalyMetric evaluator (`ecfg` at `key`) with its abnormal_classes, names as the config writes them, turned
 * into the class indices of `split`'s dataset, as a new object in *out (NULL: not an AnomalyMetric, nothing to do).
 */
static sscma_status anomaly_evaluator(sscma_runner *r, const char *split, json_t *ecfg, const char *key, json_t **out)
{
    *out = NULL;
    const char *type = json_string_value(json_object_get(ecfg, "type"));
    if (type == NULL || strcmp(bare_type(type), "AnomalyMetric") != 0)
        return SSCMA_OK;
    anomaly_metric_cfg mc;
    sscma_dataset *ds = NULL;
    bool *flags = NULL;
    int32_t k = 0;
    sscma_status st = anomaly_metric_cfg_read(ecfg, where(r), key, &mc);
    if (st != SSCMA_OK || (st = sscma_runner_dataset(r, split, &ds)) != SSCMA_OK ||
        (st = anomaly_abnormal_flags(r->ctx, &mc, ds, where(r), key, &flags)) != SSCMA_OK)
        return st;
    sscma_dataset_num_classes(ds, &k);
    json_t *ids = json_array(), *copy = json_copy(ecfg);
    for (int32_t c = 0; c < k; c++)
        if (flags[c])
            json_array_append_new(ids, json_integer(c));
    sscma_mfree(r->ctx, flags);
    if (ids == NULL || copy == NULL || json_object_set_new(copy, "abnormal_classes", ids) != 0) {
        json_decref(copy);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy %s", key);
    }
    *out = copy;
    return SSCMA_OK;
}

/* ---- SSCMA's anomaly VAE (Vae_Model): which output the metric reads, and training on the normal classes ---- */

/* MseMetric averages the loss (upstream's recipe); AnomalyMetric reads the per-sample anomaly score */
static const char *vae_pred_output(const sscma_runner *r, const char *ekey)
{
    const char *type = json_string_value(json_object_get(json_object_get(r->root, ekey), "type"));
    return type != NULL && strcmp(bare_type(type), "AnomalyMetric") == 0 ? "score" : "loss";
}

/* "calib" is the train split (its normal windows), not val (which holds the abnormal ones): find_slot */
static bool vae_calibrates_on_train(const sscma_runner *r)
{
    return vae_family(r->family) && strcmp(vae_pred_output(r, "val_evaluator"), "score") == 0;
}

/*
 * A Vae_Model evaluated by an AnomalyMetric learns the normal classes only, as LODA's fit does: the training set
 * (*dataset, opened from dataset_cfg) is reopened with "indices" listing its windows of the classes that
 * val_evaluator.abnormal_classes does not name (a list "indices" of the config narrowed, not replaced).
 */
static sscma_status vae_normal_training(sscma_runner *r, json_t *dataset_cfg, sscma_dataset **dataset)
{
    json_t *ecfg = json_object_get(r->root, "val_evaluator"), *resolved = NULL;
    if (!vae_family(r->family) || strcmp(vae_pred_output(r, "val_evaluator"), "score") != 0)
        return SSCMA_OK;
    sscma_status st = anomaly_evaluator(r, "train", ecfg, "val_evaluator", &resolved);
    if (st != SSCMA_OK)
        return st;
    json_t *abnormal = json_object_get(resolved, "abnormal_classes"), *given = json_object_get(dataset_cfg, "indices");
    json_t *kept = json_array(), *copy = json_copy(dataset_cfg);
    int64_t size = 0;
    sscma_dataset_size(*dataset, &size);
    for (int64_t i = 0; st == SSCMA_OK && i < size; i++) {
        sscma_sample *sample = NULL;
        int32_t label = -1;
        if ((st = sscma_dataset_get(*dataset, i, &sample)) == SSCMA_OK)
            st = sscma_sample_label(sample, &label);
        sscma_sample_destroy(sample);
        bool normal = true;
        for (size_t k = 0; k < json_array_size(abnormal); k++)
            normal = normal && json_integer_value(json_array_get(abnormal, k)) != label;
        json_int_t full = json_is_array(given) ? json_integer_value(json_array_get(given, (size_t)i)) : (json_int_t)i;
        if (st == SSCMA_OK && normal && json_array_append_new(kept, json_integer(full)) != 0)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot list the training windows");
    }
    json_decref(resolved);
    if (st == SSCMA_OK && json_array_size(kept) == 0)
        st = sscma_fail(SSCMA_ERR_CONFIG, where(r), "train_dataloader.dataset: all %lld training windows are of "
                        "val_evaluator.abnormal_classes; Vae_Model learns the normal classes", (long long)size);
    char *text = NULL;
    if (st == SSCMA_OK && (copy == NULL || json_object_set(copy, "indices", kept) != 0 ||
                           (json_object_del(copy, "pipeline"), json_object_del(copy, "test_mode"),
                            text = sscma_json_dumps(r->ctx, copy, JSON_COMPACT)) == NULL))
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy train_dataloader.dataset");
    json_decref(kept); /* json_object_set took its own reference */
    sscma_dataset *normal = NULL;
    if (st == SSCMA_OK && (st = sscma_dataset_open(r->ctx, text, &normal)) != SSCMA_OK)
        st = with_key(st, "train_dataloader.dataset");
    sscma_mfree(r->ctx, text);
    if (st == SSCMA_OK) {
        int64_t n = 0;
        sscma_dataset_size(normal, &n);
        sscma_logf(r->ctx, SSCMA_LOG_INFO, "Vae_Model: training on the %lld normal windows of %lld "
                   "(val_evaluator.abnormal_classes left out)", (long long)n, (long long)size);
        sscma_dataset_destroy(*dataset);
        *dataset = normal;
    }
    json_decref(copy);
    return st;
}

/*
 * The deployable VAE's "threshold" metadata (sscma_predict's anomaly decision): val_evaluator's threshold, the score
 * at its fpr on the validation split's normal windows, measured on the deployable model itself (int8 scores differ
 * from the float ones), whose AUC on that split is logged beside it.
 */
static sscma_status vae_threshold_meta(sscma_runner *r, sscma_qmodel *q)
{
    json_t *resolved = NULL;
    sscma_dataset *ds = NULL;
    sscma_metric *metric = NULL;
    sscma_status st = anomaly_evaluator(r, "val", json_object_get(r->root, "val_evaluator"), "val_evaluator", &resolved);
    char *text = st == SSCMA_OK ? sscma_json_dumps(r->ctx, resolved, JSON_COMPACT) : NULL;
    json_decref(resolved);
    if (st == SSCMA_OK && text == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy val_evaluator");
    if (st == SSCMA_OK && (st = sscma_metric_create_in(r->ctx, text, &metric)) != SSCMA_OK)
        st = with_key(st, "val_evaluator");
    sscma_mfree(r->ctx, text);
    if (st == SSCMA_OK)
        st = sscma_runner_dataset(r, "val", &ds);
    int64_t n = 0;
    sscma_dataset_size(ds, &n);
    sscma_predict_options po;
    sscma_predict_options_init(&po, sizeof po);
    po.task = "anomaly";
    sscma_tensor *score = NULL, *label = NULL;
    const int64_t one = 1;
    if (st == SSCMA_OK && (st = sscma_tensor_create(r->ctx, SSCMA_DTYPE_F32, 1, &one, &score)) == SSCMA_OK)
        st = sscma_tensor_create(r->ctx, SSCMA_DTYPE_I32, 1, &one, &label);
    for (int64_t i = 0; st == SSCMA_OK && i < n; i++) {
        sscma_sample *sample = NULL;
        sscma_tensor *window = NULL;
        sscma_prediction p;
        int32_t got = 0;
        void *sp = NULL, *lp = NULL;
        if ((st = sscma_dataset_get(ds, i, &sample)) == SSCMA_OK && (st = sscma_sample_image(sample, &window)) == SSCMA_OK &&
            (st = sscma_predict(q, window, &po, &p, 1, &got)) == SSCMA_OK) {
            sscma_tensor_data(score, &sp);
            sscma_tensor_data(label, &lp);
            *(float *)sp = p.score;
            sscma_sample_label(sample, (int32_t *)lp);
            st = sscma_metric_update(metric, score, label, 1);
        }
        sscma_sample_destroy(sample);
    }
    sscma_tensor_destroy(score);
    sscma_tensor_destroy(label);
    double threshold = 0.0, auc = 0.0;
    if (st == SSCMA_OK && (sscma_metric_get(metric, "threshold", &threshold) != SSCMA_OK ||
                           sscma_metric_get(metric, "auc", &auc) != SSCMA_OK)) {
        /* a validation split without both kinds of window gives no threshold: the model decides nothing (-1) */
        sscma_logf(r->ctx, SSCMA_LOG_WARNING, "Vae_Model: no \"threshold\" metadata: the %lld validation windows are "
                   "not both normal and of val_evaluator.abnormal_classes", (long long)n);
        sscma_clear_error();
    } else if (st == SSCMA_OK) {
        char value[32];
        snprintf(value, sizeof value, "%.9g", threshold);
        st = sscma_qmodel_set_meta(q, "threshold", value);
        sscma_logf(r->ctx, SSCMA_LOG_INFO, "Vae_Model: the deployable model on the %lld validation windows: auc %.4f; "
                   "\"threshold\" metadata %s (val_evaluator's fpr on the normal windows)", (long long)n, auc, value);
    }
    sscma_metric_destroy(metric);
    return st;
}

struct runner_loda {
    sscma_runner *runner;
    loda_cfg cfg;
    loda *state; /* fitted, or loaded from load_from */
    int64_t windows;
};

static const sscma_fit_ops loda_fit_ops;

/* Model type LODA: its config read, load_from (a checkpoint loda_save wrote) loaded; "prune" refused. */
static sscma_status loda_open(sscma_runner *r, json_t *model)
{
    r->loda = sscma_calloc(r->ctx, 1, sizeof *r->loda);
    if (r->loda == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the LODA runner");
    r->loda->runner = r;
    snprintf(r->family, sizeof r->family, "LODA");
    sscma_status st = loda_cfg_read(model, where(r), &r->loda->cfg);
    json_t *prune = json_object_get(r->root, "prune"), *load_from = json_object_get(r->root, "load_from");
    if (st == SSCMA_OK && prune != NULL && !json_is_null(prune))
        st = sscma_schema_fail(where(r), NULL, "prune", "LODA has no channels to prune");
    if (st == SSCMA_OK && load_from != NULL && !json_is_null(load_from)) {
        if (!json_is_string(load_from))
            st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "load_from: expected a checkpoint path or null");
        else if ((st = loda_load(r->ctx, json_string_value(load_from), &r->loda->state)) != SSCMA_OK)
            st = with_key(st, "load_from");
    }
    return st;
}

static void loda_close(sscma_runner *r)
{
    if (r->loda == NULL)
        return;
    loda_destroy(r->loda->state);
    sscma_mfree(r->ctx, r->loda);
    r->loda = NULL;
}

/* The deployable form beside the checkpoint: work_dir/loda.json and work_dir/loda_model.c (docs/deployment.md). */
static sscma_status loda_write_deployable(sscma_runner *r, const loda *m, const char *wd)
{
    char json_path[4200], c_path[4200];
    snprintf(json_path, sizeof json_path, "%s/loda.json", wd);
    snprintf(c_path, sizeof c_path, "%s/loda_model.c", wd);
    char *json_text = NULL, *c_text = NULL;
    sscma_status st = loda_export_json(m, &json_text);
    if (st == SSCMA_OK && (st = loda_export_c(m, "loda_model", &c_text)) == SSCMA_OK) {
        const char *const paths[2] = {json_path, c_path};
        const void *const data[2] = {json_text, c_text};
        const size_t sizes[2] = {strlen(json_text), strlen(c_text)};
        st = sscma_write_files_atomic(2, paths, data, sizes);
    }
    sscma_mfree(r->ctx, json_text);
    sscma_mfree(r->ctx, c_text);
    return st;
}

/* The fit: every training window whose class val_evaluator's abnormal_classes does not name, one counting pass. */
static sscma_status loda_train(void *user, int64_t *iters)
{
    runner_loda *l = user;
    sscma_runner *r = l->runner;
    sscma_dataset *ds = NULL;
    bool *skip = NULL;
    float *x = NULL;
    int32_t *labels = NULL;
    int64_t n = 0, dim = 0;
    json_t *ecfg = json_object_get(r->root, "val_evaluator");
    const char *etype = json_string_value(json_object_get(ecfg, "type"));
    sscma_status st = sscma_runner_dataset(r, "train", &ds);
    anomaly_metric_cfg mc = {0};
    if (st == SSCMA_OK && etype != NULL && strcmp(bare_type(etype), "AnomalyMetric") == 0 &&
        (st = anomaly_metric_cfg_read(ecfg, where(r), "val_evaluator", &mc)) == SSCMA_OK)
        st = anomaly_abnormal_flags(r->ctx, &mc, ds, where(r), "val_evaluator", &skip);
    if (st == SSCMA_OK && (st = anomaly_windows(r->ctx, ds, skip, &x, &labels, &n, &dim)) != SSCMA_OK)
        st = with_key(st, "train_dataloader.dataset");
    sscma_mfree(r->ctx, skip);
    sscma_mfree(r->ctx, labels);
    if (st != SSCMA_OK)
        return st;
    uint64_t seed = 0;
    sscma_context_seed(r->ctx, &seed);
    randomness_cfg rnd = {.seed = (int64_t)(seed & INT64_MAX)};
    loda *m = NULL;
    if ((st = sscma_schema_read(randomness_fields, json_object_get(r->root, "randomness"), where(r), "randomness",
                                &rnd)) == SSCMA_OK &&
        (st = loda_create(r->ctx, &l->cfg, dim, (uint64_t)rnd.seed, &m)) == SSCMA_OK)
        st = loda_fit(m, x, n);
    sscma_mfree(r->ctx, x);
    if (st != SSCMA_OK) {
        loda_destroy(m);
        return st;
    }
    loda_destroy(l->state);
    l->state = m, l->windows = n;
    sscma_logf(r->ctx, SSCMA_LOG_INFO, "LODA: fitted by one counting pass over %lld training windows of %lld features "
               "(%d abnormal classes left out; seed %lld); max_epochs and optim_wrapper are not used; threshold_ %g",
               (long long)n, (long long)dim, (int)mc.n_abnormal, (long long)rnd.seed, (double)m->threshold);
    *iters = n;
    const char *wd = json_string_value(json_object_get(r->root, "work_dir"));
    if (wd != NULL && (st = loda_write_deployable(r, m, wd)) != SSCMA_OK)
        return st;
    /* log.jsonl as the logger hook writes it: the validation's scalars at epoch 1 */
    const sscma_metric *metric = NULL;
    if (wd != NULL && json_object_get(r->root, "val_dataloader") != NULL &&
        (st = loda_evaluate(r, "val", &metric)) == SSCMA_OK) {
        char path[4200];
        snprintf(path, sizeof path, "%s/log.jsonl", wd);
        json_t *line = json_pack("{s:s, s:i, s:I}", "mode", "val", "epoch", 1, "iter", (json_int_t)n);
        int32_t count = 0;
        sscma_metric_result_count(metric, &count);
        for (int32_t i = 0; line != NULL && i < count; i++) {
            const char *name = NULL;
            double v = 0.0;
            sscma_metric_result(metric, i, &name, &v);
            json_object_set_new(line, name, json_real(v));
        }
        char *text = line != NULL ? sscma_json_dumps(r->ctx, line, JSON_COMPACT) : NULL;
        json_decref(line);
        size_t len = text != NULL ? strlen(text) : 0;
        if (text != NULL)
            text[len] = '\n'; /* the dump's terminator becomes the line's end */
        if (text == NULL || sscma_write_file_atomic(path, text, len + 1) != SSCMA_OK)
            sscma_logf(r->ctx, SSCMA_LOG_WARNING, "cannot write %s", path);
        sscma_mfree(r->ctx, text);
    }
    return st;
}

static sscma_status loda_validate(void *user, const sscma_metric **out)
{
    runner_loda *l = user;
    return loda_evaluate(l->runner, "val", out);
}

static sscma_status loda_save_ckpt(const void *user, const char *path)
{
    const runner_loda *l = user;
    if (l->state == NULL)
        return sscma_fail(SSCMA_ERR_STATE, WHERE, "LODA: nothing to save before the fit");
    return loda_save(l->state, path, l->runner->root);
}

static const sscma_fit_ops loda_fit_ops = {"LODA", loda_train, loda_validate, loda_save_ckpt};

static sscma_status loda_trainer(sscma_runner *r, sscma_trainer **out)
{
    /* before the fit: SSCMA's mmcls.Accuracy would compare anomaly scores with class labels */
    json_t *ecfg = json_object_get(r->root, "val_evaluator");
    const char *etype = json_string_value(json_object_get(ecfg, "type"));
    if (json_object_get(r->root, "val_dataloader") != NULL && (etype == NULL || strcmp(bare_type(etype), "AnomalyMetric")))
        return sscma_schema_expected(where(r), "val_evaluator", "type", "\"AnomalyMetric\" with abnormal_classes (LODA "
                                     "gives anomaly scores, not classes; docs/training.md)", json_object_get(ecfg, "type"));
    const char *wd = json_string_value(json_object_get(r->root, "work_dir"));
    sscma_status st = wd != NULL ? make_dirs(wd) : SSCMA_OK;
    if (st == SSCMA_OK)
        st = sscma_trainer_create_fit(r->ctx, &loda_fit_ops, r->loda, &r->trainer);
    if (st == SSCMA_OK)
        *out = r->trainer;
    return st;
}

/* The split's windows scored by the fitted (or loaded) detector, through the config's evaluator. */
static sscma_status loda_evaluate(sscma_runner *r, const char *split, const sscma_metric **out)
{
    const loda *m = r->loda->state;
    if (m == NULL)
        return sscma_fail(SSCMA_ERR_STATE, WHERE, "LODA: no fitted detector (train first, or give a checkpoint)");
    const char *ekey = strcmp(split, "test") == 0 && json_object_get(r->root, "test_evaluator") != NULL
                           ? "test_evaluator"
                           : "val_evaluator";
    json_t *ecfg = json_object_get(r->root, ekey), *resolved = NULL;
    const char *etype = json_string_value(json_object_get(ecfg, "type"));
    if (etype == NULL || strcmp(bare_type(etype), "AnomalyMetric") != 0)
        return sscma_schema_expected(where(r), ekey, "type", "\"AnomalyMetric\" (LODA gives anomaly scores)",
                                     json_object_get(ecfg, "type"));
    sscma_dataset *ds = NULL;
    float *x = NULL;
    int32_t *labels = NULL;
    int64_t n = 0, dim = 0;
    sscma_status st = anomaly_evaluator(r, split, ecfg, ekey, &resolved);
    if (st == SSCMA_OK && (st = sscma_runner_dataset(r, split, &ds)) == SSCMA_OK)
        st = anomaly_windows(r->ctx, ds, NULL, &x, &labels, &n, &dim);
    if (st == SSCMA_OK && dim != m->dim)
        st = sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the %s windows have %lld features, the detector %lld (window_size x "
                        "num_axes as in training)", split, (long long)dim, (long long)m->dim);
    char *text = st == SSCMA_OK ? sscma_json_dumps(r->ctx, resolved, JSON_COMPACT) : NULL;
    json_decref(resolved);
    sscma_metric_destroy(r->metric);
    r->metric = NULL;
    if (st == SSCMA_OK && text == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy %s", ekey);
    if (st == SSCMA_OK && (st = sscma_metric_create_in(r->ctx, text, &r->metric)) != SSCMA_OK)
        st = with_key(st, ekey);
    sscma_mfree(r->ctx, text);
    sscma_tensor *scores = NULL, *target = NULL;
    const int64_t sd[2] = {n, 1}, td[1] = {n};
    if (st == SSCMA_OK && (st = sscma_tensor_create(r->ctx, SSCMA_DTYPE_F32, 2, sd, &scores)) == SSCMA_OK &&
        (st = sscma_tensor_create(r->ctx, SSCMA_DTYPE_I32, 1, td, &target)) == SSCMA_OK) {
        void *sp = NULL, *tp = NULL;
        sscma_tensor_data(scores, &sp);
        sscma_tensor_data(target, &tp);
        for (int64_t i = 0; i < n; i++)
            ((float *)sp)[i] = (float)loda_score(m, x + i * dim);
        memcpy(tp, labels, (size_t)n * sizeof *labels);
        st = sscma_metric_update(r->metric, scores, target, n);
    }
    sscma_tensor_destroy(scores);
    sscma_tensor_destroy(target);
    sscma_mfree(r->ctx, x);
    sscma_mfree(r->ctx, labels);
    if (st != SSCMA_OK)
        return st;
    *out = r->metric;
    return SSCMA_OK;
}

sscma_status sscma_runner_anomaly_score(sscma_runner *runner, const sscma_tensor *window, double *score,
                                        int32_t *abnormal, double *threshold)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(window);
    SSCMA_REQUIRE_NONNULL(score);
    if (runner->loda == NULL)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "the model is %s, not an anomaly detector (LODA)",
                          runner->family[0] ? runner->family : "a graph model");
    const loda *m = runner->loda->state;
    if (m == NULL)
        return sscma_fail(SSCMA_ERR_STATE, WHERE, "LODA: no fitted detector (train first, or give a checkpoint)");
    sscma_dtype dt = SSCMA_DTYPE_U8;
    int64_t numel = 0;
    void *data = NULL;
    sscma_tensor_dtype(window, &dt);
    sscma_tensor_numel(window, &numel);
    sscma_tensor_data(window, &data);
    if (dt != SSCMA_DTYPE_F32 || numel != m->dim || data == NULL)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "LODA: the window has %lld %s values, the detector takes %lld f32 "
                          "(a sample of the config's SensorDataset)", (long long)numel, sscma_dtype_name(dt),
                          (long long)m->dim);
    const double s = loda_score(m, data);
    *score = s;
    if (abnormal != NULL)
        *abnormal = s > (double)m->threshold;
    if (threshold != NULL)
        *threshold = (double)m->threshold;
    return SSCMA_OK;
}

sscma_status sscma_runner_create(sscma_context *ctx, sscma_config *config, sscma_runner **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(config);
    SSCMA_REQUIRE_NONNULL(out);
    const char *text = NULL;
    sscma_status st = sscma_config_get(config, "", &text);
    if (st != SSCMA_OK)
        return st;
    sscma_runner *r = sscma_calloc(ctx, 1, sizeof *r);
    if (r == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a runner");
    r->ctx = ctx;
    sscma_context_retain(ctx);
    const char *file = sscma_config_source(config);
    if (file != NULL)
        r->file = sscma_mstrdup(ctx, file);
    json_error_t err;
    r->root = json_loads(text, 0, &err);
    strip_scopes(r->root);
    json_t *model = json_object_get(r->root, "model");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (r->root == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot read the config");
    else if (!json_is_object(model) || type == NULL)
        st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the config needs 'model', an object with a \"type\"");
    else if (file != NULL && r->file == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy the config's file name");
    else
        st = settle_aliases(r, config);
    if (st == SSCMA_OK && strcmp(type, "LODA") == 0) { /* not a graph model: its own path, "LODA" below */
        st = loda_open(r, model);
        if (st != SSCMA_OK) {
            sscma_runner_destroy(r);
            return st;
        }
        *out = r;
        return SSCMA_OK;
    }
    /* a config mistake's message already says "<file>: model.head.num_classes: ..." */
    if (st == SSCMA_OK && (st = sscma_zoo_model_create(ctx, json_incref(model), r->file, &r->model)) != SSCMA_OK &&
        st != SSCMA_ERR_CONFIG)
        st = with_key(st, "model");
    if (st == SSCMA_OK) {
        snprintf(r->family, sizeof r->family, "%s", type);
        /* SSCMA's KWS recipe: the batch-level ETADataPreprocessor (mixup, time / frequency / phase mix, resampling,
         * BCE on mixed batches) is not implemented; said once, then the key is ignored (docs/coming-from-sscma.md) */
        json_t *dp = json_object_get(r->root, "data_preprocessor");
        const char *dp_type = json_string_value(json_object_get(dp, "type"));
        if (strcmp(r->family, "Audio_classify") == 0 && dp_type != NULL)
            sscma_logf(ctx, SSCMA_LOG_WARNING, "%s: data_preprocessor: %s (batch mixing and resampling) is not "
                       "implemented; ignored: batches train as the dataset gives them", where(r), dp_type);
        /* the input and target shapes fix the loaders' channels and the FOMO stride */
        sscma_tensor *image = NULL, *target = NULL;
        int64_t h = 0, th = 0;
        if ((st = sscma_model_prepare(r->model, 1, 1)) == SSCMA_OK &&
            (st = sscma_model_input(r->model, "image", &image)) == SSCMA_OK) {
            sscma_tensor_dim(image, 1, &h);
            sscma_tensor_dim(image, 3, &r->image_c);
            if (strcmp(r->family, "Fomo") == 0 && (st = sscma_model_input(r->model, "target", &target)) == SSCMA_OK) {
                sscma_tensor_dim(target, 1, &th);
                sscma_tensor_dim(target, 3, &r->fomo_classes);
                r->fomo_stride = th > 0 ? h / th : 8;
                r->fomo_classes--;
            }
            if (box_detector(r->family) &&
                (st = sscma_model_input(r->model, "target", &target)) == SSCMA_OK)
                sscma_tensor_dim(target, 1, &r->box_rows);
        }
    }
    if (st == SSCMA_OK)
        st = load_weights(r);
    if (st == SSCMA_OK)
        st = apply_prune(r, config);
    if (st != SSCMA_OK) {
        sscma_runner_destroy(r);
        return st;
    }
    *out = r;
    return SSCMA_OK;
}

void sscma_runner_destroy(sscma_runner *runner)
{
    if (runner == NULL)
        return;
    sscma_mfree(runner->ctx, runner->file);
    sscma_trainer_destroy(runner->trainer);
    loda_close(runner);
    sscma_metric_destroy(runner->metric);
    for (int s = 0; s < N_SLOTS; s++) {
        sscma_loader_destroy(runner->slots[s].loader);
        json_decref(runner->slots[s].loader_cfg);
    }
    for (int s = 0; s < N_SLOTS; s++)
        sscma_dataset_destroy(runner->slots[s].dataset);
    sscma_model_destroy(runner->model);
    json_decref(runner->root);
    sscma_mfree(runner->ctx, runner->text);
    const sscma_context *ctx = runner->ctx;
    sscma_mfree(ctx, runner);
    sscma_context_release(ctx);
}

sscma_status sscma_runner_model(sscma_runner *runner, sscma_model **out)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(out);
    if (runner->loda != NULL)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "LODA is a histogram detector, not a graph model: train, test "
                          "and export it through the runner (docs/models.md, \"LODA\")");
    *out = runner->model;
    return SSCMA_OK;
}

sscma_status sscma_runner_dataset(sscma_runner *runner, const char *split, sscma_dataset **out)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(split);
    SSCMA_REQUIRE_NONNULL(out);
    int s = 0;
    sscma_status st = find_slot(runner, split, &s);
    if (st != SSCMA_OK)
        return st;
    slot *sl = &runner->slots[s];
    if (sl->dataset == NULL) {
        json_t *ds = json_object_get(json_object_get(runner->root, slot_keys[s]), "dataset");
        if (!json_is_object(ds))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s.dataset: expected an object with a \"type\"",
                              slot_keys[s]);
        json_t *copy = json_copy(ds);
        if (strcmp(runner->family, "Audio_classify") != 0) /* an audio dataset keeps its AudioAugs (map_pipeline) */
            json_object_del(copy, "pipeline");
        json_object_del(copy, "test_mode"); /* the split's files say which samples it holds */
        char *text = sscma_json_dumps(runner->ctx, copy, JSON_COMPACT);
        json_decref(copy);
        if (text == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy %s.dataset", slot_keys[s]);
        st = sscma_dataset_open(runner->ctx, text, &sl->dataset);
        sscma_mfree(runner->ctx, text);
        if (st != SSCMA_OK) {
            char what[64];
            snprintf(what, sizeof what, "%s.dataset", slot_keys[s]);
            return with_key(st, what);
        }
        if (s == 0 && (st = vae_normal_training(runner, ds, &sl->dataset)) != SSCMA_OK) {
            sscma_dataset_destroy(sl->dataset); /* not the full set with the abnormal classes next time */
            sl->dataset = NULL;
            return st;
        }
    }
    *out = sl->dataset;
    return SSCMA_OK;
}

sscma_status sscma_runner_loader_config(sscma_runner *runner, const char *split, const char **json)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(split);
    SSCMA_REQUIRE_NONNULL(json);
    int s = 0;
    sscma_status st = find_slot(runner, split, &s);
    if (st != SSCMA_OK || (st = loader_config(runner, s)) != SSCMA_OK)
        return st;
    char *text = sscma_json_dumps(runner->ctx, runner->slots[s].loader_cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot print the loader config");
    sscma_mfree(runner->ctx, runner->text);
    runner->text = text;
    *json = text;
    return SSCMA_OK;
}

sscma_status sscma_runner_loader(sscma_runner *runner, const char *split, sscma_loader **out)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(split);
    SSCMA_REQUIRE_NONNULL(out);
    int s = 0;
    sscma_dataset *ds = NULL;
    sscma_status st = find_slot(runner, split, &s);
    if (st != SSCMA_OK || (st = sscma_runner_dataset(runner, split, &ds)) != SSCMA_OK ||
        (st = loader_config(runner, s)) != SSCMA_OK)
        return st;
    slot *sl = &runner->slots[s];
    if (sl->loader == NULL) {
        char *text = sscma_json_dumps(runner->ctx, sl->loader_cfg, JSON_COMPACT);
        if (text == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot print the loader config");
        st = sscma_loader_create(runner->ctx, ds, text, &sl->loader);
        sscma_mfree(runner->ctx, text);
        if (st != SSCMA_OK)
            return with_key(st, slot_keys[s]);
    }
    *out = sl->loader;
    return SSCMA_OK;
}

/* mkdir -p */
static sscma_status make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "work_dir: expected a path of 1 to %zu bytes", sizeof buf - 1);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return sscma_fail(SSCMA_ERR_IO, WHERE, "cannot create the work_dir %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return sscma_fail(SSCMA_ERR_IO, WHERE, "the work_dir %s is not a directory", path);
    return SSCMA_OK;
}

sscma_status sscma_runner_trainer(sscma_runner *runner, sscma_trainer **out)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(out);
    if (runner->trainer != NULL) {
        *out = runner->trainer;
        return SSCMA_OK;
    }
    if (runner->loda != NULL)
        return loda_trainer(runner, out);
    static const char *const keys[] = {"max_epochs", "val_interval", "val_begin", "optim_wrapper", "param_scheduler",
                                       "val_evaluator", "work_dir", "default_hooks", "custom_hooks", "train_cfg",
                                       "pred_output", "distill", NULL};
    sscma_loader *train = NULL, *val = NULL;
    sscma_status st = sscma_model_require_loss(runner->model); /* before the loaders, whose targets it lacks */
    if (st == SSCMA_OK)
        st = sscma_runner_loader(runner, "train", &train);
    if (st != SSCMA_OK)
        return st;
    if (json_object_get(runner->root, "val_dataloader") != NULL &&
        (st = sscma_runner_loader(runner, "val", &val)) != SSCMA_OK)
        return st;
    sscma_dataset *ds = NULL;
    int32_t k = 0;
    if (strcmp(runner->family, "Fomo") == 0 && sscma_runner_dataset(runner, "train", &ds) == SSCMA_OK &&
        sscma_dataset_num_classes(ds, &k) == SSCMA_OK && k != runner->fomo_classes)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the training set has %d classes but the model %lld "
                          "(model.head.num_classes; SSCMA's recipes: num_classes=%d)", (int)k,
                          (long long)runner->fomo_classes, (int)k);
    json_t *cfg = json_object();
    for (int i = 0; keys[i] != NULL; i++) {
        json_t *v = json_object_get(runner->root, keys[i]);
        if (v != NULL && !json_is_null(v))
            json_object_set(cfg, keys[i], v);
    }
    /* PipelineSwitchHook's switch_pipeline is in SSCMA's form, as the dataloaders' pipelines: map it the same way */
    json_t *hooks = json_object_get(cfg, "custom_hooks");
    if (json_is_array(hooks)) {
        json_t *mapped = json_deep_copy(hooks);
        for (size_t i = 0; mapped != NULL && st == SSCMA_OK && i < json_array_size(mapped); i++) {
            json_t *h = json_array_get(mapped, i);
            const char *type = json_string_value(json_object_get(h, "type"));
            json_t *sp = json_object_get(h, "switch_pipeline"), *list = NULL;
            if (type == NULL || strcmp(bare_type(type), "PipelineSwitchHook") != 0 || !json_is_array(sp))
                continue;
            char at[64];
            snprintf(at, sizeof at, "custom_hooks[%zu].switch_pipeline", i);
            if ((st = map_pipeline(runner, at, at, sp, &list)) == SSCMA_OK)
                json_object_set_new(h, "switch_pipeline", list);
        }
        if (mapped == NULL && st == SSCMA_OK)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy custom_hooks");
        if (st != SSCMA_OK) {
            json_decref(mapped);
            json_decref(cfg);
            return st;
        }
        json_object_set_new(cfg, "custom_hooks", mapped);
    }
    /* mmengine's train_cfg may carry keys of its loop type that the epoch loop does not use */
    json_t *loop = json_object_get(cfg, "train_cfg");
    if (json_is_object(loop)) {
        json_t *lc = json_pack("{}");
        static const char *const lkeys[] = {"by_epoch", "max_epochs", "val_interval", "val_begin", NULL};
        for (int i = 0; lkeys[i] != NULL; i++)
            if (json_object_get(loop, lkeys[i]) != NULL)
                json_object_set(lc, lkeys[i], json_object_get(loop, lkeys[i]));
        json_object_set_new(cfg, "train_cfg", lc);
    }
    if (strcmp(runner->family, "PFLD") == 0 && json_object_get(cfg, "pred_output") == NULL)
        json_object_set_new(cfg, "pred_output", json_string("keypoints")); /* the metric reads the coordinates */
    if (vae_family(runner->family) && json_object_get(cfg, "pred_output") == NULL)
        json_object_set_new(cfg, "pred_output", json_string(vae_pred_output(runner, "val_evaluator")));
    if (box_detector(runner->family)) { /* CocoMetric reads the decoded boxes, after test_cfg's NMS */
        if (json_object_get(cfg, "pred_output") == NULL)
            json_object_set_new(cfg, "pred_output", json_string("pred"));
        json_t *test_cfg = json_object_get(json_object_get(runner->root, "model"), "test_cfg");
        if (test_cfg != NULL && json_object_get(cfg, "test_cfg") == NULL)
            json_object_set(cfg, "test_cfg", test_cfg);
    }
    json_t *resolved = NULL; /* AnomalyMetric's class names as the validation set's class indices */
    if (val != NULL && (st = anomaly_evaluator(runner, "val", json_object_get(cfg, "val_evaluator"), "val_evaluator",
                                               &resolved)) != SSCMA_OK) {
        json_decref(cfg);
        return st;
    }
    if (resolved != NULL)
        json_object_set_new(cfg, "val_evaluator", resolved);
    const char *wd = json_string_value(json_object_get(cfg, "work_dir"));
    if (wd != NULL && (st = make_dirs(wd)) != SSCMA_OK) {
        json_decref(cfg);
        return st;
    }
    /* the trainer's keys sit where the file has them, so its messages name the file and the key's path */
    st = sscma_trainer_create_from(runner->model, train, val, cfg, where(runner), &runner->trainer);
    json_decref(cfg);
    if (st != SSCMA_OK)
        return st;
    *out = runner->trainer;
    return SSCMA_OK;
}

sscma_status sscma_runner_set_meta(sscma_runner *runner, sscma_qmodel *qmodel)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(qmodel);
    const char *split = json_object_get(runner->root, "val_dataloader") != NULL ? "val" : "train";
    sscma_dataset *ds = NULL;
    sscma_status st = sscma_runner_dataset(runner, split, &ds);
    int s = 0;
    if (st != SSCMA_OK || (st = find_slot(runner, split, &s)) != SSCMA_OK || (st = loader_config(runner, s)) != SSCMA_OK)
        return st;
    int32_t n = 0;
    sscma_dataset_num_classes(ds, &n);
    json_t *names = json_array();
    for (int32_t c = 0; names != NULL && c < n; c++) {
        const char *name = NULL;
        sscma_dataset_class_name(ds, c, &name);
        json_t *item = name != NULL ? json_string(name) : NULL; /* NULL: not UTF-8 (the datasets refuse those) */
        if (item == NULL || json_array_append_new(names, item) != 0) {
            json_decref(names);
            return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "class %d: its name is not valid UTF-8: cannot write the "
                              "model's class names", (int)c);
        }
    }
    char *text = names != NULL ? sscma_json_dumps(runner->ctx, names, JSON_COMPACT) : NULL;
    json_decref(names);
    if (text == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot list the classes");
    st = sscma_qmodel_set_meta(qmodel, "classes", text);
    sscma_mfree(runner->ctx, text);
    /* the last Normalize of the pipeline is the input normalisation a deployment applies */
    json_t *pipe = json_object_get(runner->slots[s].loader_cfg, "pipeline"), *norm = NULL;
    for (size_t i = 0; i < json_array_size(pipe); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(pipe, i), "type")), "Normalize") == 0)
            norm = json_array_get(pipe, i);
    static const char *const stats[2] = {"mean", "std"};
    for (int k = 0; st == SSCMA_OK && k < 2; k++) {
        json_t *v = json_object_get(norm, stats[k]);
        char *vt = v != NULL ? sscma_json_dumps(runner->ctx, v, JSON_COMPACT) : NULL;
        st = sscma_qmodel_set_meta(qmodel, stats[k], vt != NULL ? vt : (k == 0 ? "[0]" : "[1]"));
        sscma_mfree(runner->ctx, vt);
    }
    if (st == SSCMA_OK && vae_family(runner->family) && strcmp(split, "val") == 0 &&
        strcmp(vae_pred_output(runner, "val_evaluator"), "score") == 0)
        st = vae_threshold_meta(runner, qmodel);
    return st;
}

sscma_status sscma_runner_evaluate(sscma_runner *runner, const char *split, const sscma_metric **out)
{
    SSCMA_REQUIRE_NONNULL(runner);
    SSCMA_REQUIRE_NONNULL(split);
    SSCMA_REQUIRE_NONNULL(out);
    if (runner->loda != NULL)
        return loda_evaluate(runner, split, out);
    sscma_loader *loader = NULL;
    sscma_status st = sscma_runner_loader(runner, split, &loader);
    if (st != SSCMA_OK)
        return st;
    const char *ekey = strcmp(split, "test") == 0 && json_object_get(runner->root, "test_evaluator") != NULL
                           ? "test_evaluator"
                           : "val_evaluator";
    json_t *ecfg = json_object_get(runner->root, ekey);
    if (!json_is_object(ecfg))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the config has no '%s' (an object with a \"type\")", ekey);
    const char *pred_name = json_string_value(json_object_get(runner->root, "pred_output"));
    if (pred_name == NULL)
        pred_name = strcmp(runner->family, "PFLD") == 0           ? "keypoints"
                    : box_detector(runner->family) ? "pred"
                    : vae_family(runner->family)   ? vae_pred_output(runner, ekey)
                                                                  : "logits";
    det_nms_config nms;
    det_nms_config_init(&nms);
    json_t *test_cfg = json_object_get(json_object_get(runner->root, "model"), "test_cfg");
    if (test_cfg != NULL && (st = det_nms_config_read(test_cfg, where(runner), "model.test_cfg", &nms)) != SSCMA_OK)
        return st;
    json_t *resolved = NULL; /* AnomalyMetric's class names as the split's class indices */
    if ((st = anomaly_evaluator(runner, split, ecfg, ekey, &resolved)) != SSCMA_OK)
        return st;
    char *text = sscma_json_dumps(runner->ctx, resolved != NULL ? resolved : ecfg, JSON_COMPACT);
    json_decref(resolved);
    if (text == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy %s", ekey);
    sscma_metric_destroy(runner->metric);
    runner->metric = NULL;
    st = sscma_metric_create_in(runner->ctx, text, &runner->metric);
    sscma_mfree(runner->ctx, text);
    if (st != SSCMA_OK)
        return with_key(st, ekey);
    int64_t dims[4] = {0}, tdims[4] = {0};
    sscma_dtype tdtype = SSCMA_DTYPE_I32;
    int32_t trank = 0;
    sscma_tensor *target = NULL, *image = NULL, *pred = NULL;
    if ((st = sscma_loader_batch_shape(loader, dims)) != SSCMA_OK ||
        (st = sscma_loader_target_shape(loader, &tdtype, &trank, tdims)) != SSCMA_OK ||
        (st = sscma_tensor_create(runner->ctx, tdtype, trank, tdims, &target)) != SSCMA_OK ||
        (st = sscma_model_prepare(runner->model, dims[0], 0)) != SSCMA_OK ||
        (st = sscma_model_input(runner->model, "image", &image)) != SSCMA_OK ||
        (st = sscma_loader_start_epoch(loader, 0)) != SSCMA_OK) {
        sscma_tensor_destroy(target);
        return st;
    }
    for (;;) {
        int64_t count = 0;
        if ((st = sscma_loader_next(loader, image, target, &count)) != SSCMA_OK || count == 0)
            break;
        if ((st = sscma_model_forward(runner->model)) != SSCMA_OK ||
            (st = sscma_model_output(runner->model, pred_name, &pred)) != SSCMA_OK)
            break;
        st = sscma_metric_wants_detections(runner->metric)
                 ? sscma_metric_add_detection_batch(runner->ctx, runner->metric, &nms, pred, target, count, dims[1],
                                                    dims[2])
                 : sscma_metric_update(runner->metric, pred, target, count);
        if (st != SSCMA_OK)
            break;
    }
    if (st == SSCMA_OK && sscma_metric_wants_detections(runner->metric))
        st = sscma_metric_finish_detections(runner->metric);
    sscma_tensor_destroy(target);
    if (st != SSCMA_OK)
        return st;
    *out = runner->metric;
    return SSCMA_OK;
}
