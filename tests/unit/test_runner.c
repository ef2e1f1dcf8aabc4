/*
 * Unit tests of runner.h (SSCMA configs turned into a model, loaders and a trainer, evaluation, deployment metadata)
 * and predict.h (device pre- and post-processing), through the shipped recipes where possible.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sscma/sscma.h>

#include "harness.h"

static char tmpdir[64];
static sscma_context *ctx;

static sscma_config *parse(const char *text)
{
    sscma_config *c = NULL;
    CHECK_OK(sscma_config_parse(text, NULL, &c));
    return c;
}

/* The shipped Fashion-MNIST recipe, shortened by overrides as a user would. */
static sscma_config *fmnist_recipe(const char *extra)
{
    sscma_config *c = NULL;
    CHECK_OK(sscma_config_load(CONFIGS_DIR "/classification/mobnetv2_0.35_fmnist.json", &c));
    if (c == NULL)
        return NULL;
    CHECK_OK(sscma_config_set(c, "epochs=1"));
    CHECK_OK(sscma_config_set(c, "train_dataloader.dataset.indices=256"));
    CHECK_OK(sscma_config_set(c, "val_dataloader.dataset.indices=200"));
    CHECK_OK(sscma_config_set(c, "train_dataloader.num_workers=0"));
    if (extra != NULL)
        CHECK_OK(sscma_config_set(c, extra));
    CHECK_OK(sscma_config_resolve(c));
    return c;
}

static json_t *loader_json(sscma_runner *r, const char *split)
{
    const char *text = NULL;
    CHECK_OK(sscma_runner_loader_config(r, split, &text));
    return text != NULL ? json_loads(text, 0, NULL) : NULL;
}

static const char *transform_type(json_t *loader, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(loader, "pipeline"), i), "type"));
}

/* Checks that the loader's pipeline has exactly the transforms `types` (NULL-terminated), in order. */
static void check_pipeline(json_t *loader, const char *const *types)
{
    size_t n = 0;
    while (types[n] != NULL)
        n++;
    CHECK_INT_EQ(json_array_size(json_object_get(loader, "pipeline")), n);
    for (size_t i = 0; i < n; i++)
        if (transform_type(loader, i) == NULL || strcmp(transform_type(loader, i), types[i]) != 0)
            test_fail(__FILE__, __LINE__, "transform %zu is %s, expected %s", i,
                      transform_type(loader, i) ? transform_type(loader, i) : "(none)", types[i]);
}

/* CRC-32C (Castagnoli), reflected, bit by bit: written here independently of the library's. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t masked(uint32_t c)
{
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

static uint64_t le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static bool contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return true;
    return false;
}

static void check_events(const char *wd)
{
    char cmd[300], path[512] = "";
    snprintf(cmd, sizeof cmd, "ls %s/events.out.tfevents.* 2>/dev/null", wd);
    FILE *ls = popen(cmd, "r");
    if (ls != NULL) {
        if (fgets(path, sizeof path, ls) == NULL)
            path[0] = '\0';
        pclose(ls);
    }
    path[strcspn(path, "\n")] = '\0';
    CHECK(path[0] != '\0');
    FILE *f = path[0] ? fopen(path, "rb") : NULL;
    if (f == NULL)
        return;
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int records = 0, bad = 0;
    bool version = false, loss = false, top1 = false, image = false;
    for (size_t at = 0; at + 12 <= n;) {
        uint64_t len = le(buf + at, 8);
        if (at + 16 + len > n || le(buf + at + 8, 4) != masked(crc32c(buf + at, 8)) ||
            le(buf + at + 12 + len, 4) != masked(crc32c(buf + at + 12, (size_t)len))) {
            bad++;
            break;
        }
        const uint8_t *rec = buf + at + 12;
        version = version || (records == 0 && contains(rec, (size_t)len, "brain.Event:2"));
        loss = loss || contains(rec, (size_t)len, "loss");
        top1 = top1 || contains(rec, (size_t)len, "accuracy/top1");
        /* the validation callback's picture: its tag and the PNG's own bytes (signature and IHDR) */
        image = image || (contains(rec, (size_t)len, "val/test") && contains(rec, (size_t)len, "\x89PNG\r\n\x1a\n") &&
                          contains(rec, (size_t)len, "IHDR"));
        records++;
        at += 16 + (size_t)len;
    }
    CHECK_INT_EQ(bad, 0);
    CHECK_INT_EQ(records, 4); /* the version, one training line, one validation, its picture */
    CHECK(version && loss && top1 && image);
}

/* A whole 2 x 1 RGB PNG file (signature, IHDR, IDAT, IEND with their CRCs). */
static const uint8_t tiny_png[70] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7b, 0x40, 0xe8, 0xdd, 0x00, 0x00, 0x00,
    0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0x00, 0x04, 0xff, 0x01, 0x07, 0x00, 0x01, 0xff,
    0xe2, 0x23, 0x9e, 0x59, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

typedef struct val_seen {
    int calls;
    int64_t epoch;
    bool had_metric;
} val_seen;

/* The validation callback: refuses bytes that are no PNG, then adds the tiny picture as "val/test". */
static int on_val(sscma_trainer *t, int64_t epoch, const sscma_metric *m, void *user)
{
    val_seen *seen = user;
    double top1 = -1;
    seen->calls++, seen->epoch = epoch;
    seen->had_metric = m != NULL && sscma_metric_get(m, "accuracy/top1", &top1) == SSCMA_OK && top1 >= 0;
    CHECK_FAILS(sscma_trainer_log_image(t, "val/bad", "GIF89a not a png at all, 33 bytes", 33, -1), SSCMA_ERR_FORMAT,
                "image summary \"val/bad\": the 33 bytes are not a PNG file");
    CHECK_OK(sscma_trainer_log_image(t, "val/test", tiny_png, sizeof tiny_png, -1));
    return 0;
}

static void recipe_trains_and_evaluates(void)
{
    char wd[128], extra[160];
    snprintf(wd, sizeof wd, "%s/work/fmnist", tmpdir);
    snprintf(extra, sizeof extra, "work_dir=%s", wd);
    sscma_config *c = fmnist_recipe(extra);
    sscma_runner *r = NULL;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    if (r == NULL) {
        sscma_config_destroy(c);
        return;
    }
    /* the mmengine pipeline mapped: scopes and loading/packing steps dropped, gray kept, Normalize appended */
    json_t *train = loader_json(r, "train"), *val = loader_json(r, "val");
    check_pipeline(train, (const char *const[]){"ToGray", "Pad", "RandomFlip", "Normalize", NULL});
    CHECK(fabs(json_number_value(json_array_get(
                   json_object_get(json_array_get(json_object_get(train, "pipeline"), 3), "mean"), 0)) - 72.94) < 1e-9);
    check_pipeline(val, (const char *const[]){"ToGray", "Pad", "Normalize", NULL});
    CHECK_INT_EQ(json_integer_value(json_object_get(train, "batch_size")), 64);
    CHECK(json_is_true(json_object_get(train, "shuffle")));
    CHECK(json_is_false(json_object_get(val, "shuffle")));
    CHECK(json_object_get(train, "target") == NULL);
    json_decref(train);
    json_decref(val);
    /* a graph model is no anomaly detector */
    sscma_tensor *w = NULL;
    const int64_t wd1[1] = {4};
    double score = -1.0;
    int32_t abnormal = -1;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 1, wd1, &w));
    CHECK_FAILS(sscma_runner_anomaly_score(r, w, &score, &abnormal, NULL), SSCMA_ERR_UNSUPPORTED,
                "not an anomaly detector (LODA)");
    CHECK(score == -1.0 && abnormal == -1); /* untouched on error */
    sscma_tensor_destroy(w);
    /* "test" without test_dataloader is the validation set */
    sscma_dataset *dv = NULL, *dt = NULL;
    CHECK_OK(sscma_runner_dataset(r, "val", &dv));
    CHECK_OK(sscma_runner_dataset(r, "test", &dt));
    CHECK(dv != NULL && dv == dt);
    sscma_trainer *t = NULL;
    CHECK_OK(sscma_runner_trainer(r, &t));
    struct stat sb;
    CHECK(stat(wd, &sb) == 0 && S_ISDIR(sb.st_mode)); /* created, with its parent */
    val_seen seen = {0, 0, false};
    if (t != NULL) {
        /* before training there is no event file: nothing is written, and that is no error */
        CHECK_OK(sscma_trainer_log_image(t, "val/early", tiny_png, sizeof tiny_png, 0));
        CHECK_FAILS(sscma_trainer_log_image(t, "val/early", NULL, 0, 0), SSCMA_ERR_INVALID_ARGUMENT, "'png' is NULL");
        CHECK_FAILS(sscma_trainer_set_val_callback(NULL, on_val, &seen), SSCMA_ERR_INVALID_ARGUMENT, "'trainer' is NULL");
        CHECK_OK(sscma_trainer_set_val_callback(t, on_val, &seen));
        CHECK_OK(sscma_trainer_train(t));
        CHECK(seen.calls == 1 && seen.epoch == 1 && seen.had_metric);
        const sscma_metric *m = NULL, *e = NULL;
        double a = -1, b = -2;
        CHECK_OK(sscma_trainer_validate(t, &m));
        CHECK_OK(sscma_metric_get(m, "accuracy/top1", &a));
        /* the runner's evaluation is the trainer's validation (no EMA here) */
        CHECK_OK(sscma_runner_evaluate(r, "val", &e));
        if (e != NULL)
            CHECK_OK(sscma_metric_get(e, "accuracy/top1", &b));
        CHECK(a == b);
        /* the trainer still trains after the runner re-prepared the model for evaluation */
        int64_t epochs = 0;
        CHECK_OK(sscma_trainer_position(t, &epochs, NULL));
        CHECK_INT_EQ(epochs, 1);
        CHECK_OK(sscma_trainer_validate(t, &m));
    }
    /* log.jsonl: one training line per logged iteration, one validation line per validation */
    char path[256], line[2048];
    snprintf(path, sizeof path, "%s/log.jsonl", wd);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    int n_train = 0, n_val = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        json_t *o = json_loads(line, 0, NULL);
        const char *mode = json_string_value(json_object_get(o, "mode"));
        CHECK(mode != NULL);
        if (mode != NULL && strcmp(mode, "train") == 0) {
            n_train++;
            CHECK(json_is_number(json_object_get(o, "loss")) && json_is_number(json_object_get(o, "lr")));
            CHECK_INT_EQ(json_integer_value(json_object_get(o, "epoch")), 1);
        } else if (mode != NULL && strcmp(mode, "val") == 0) {
            n_val++;
            CHECK(json_is_number(json_object_get(o, "accuracy/top1")));
        }
        json_decref(o);
    }
    if (f != NULL)
        fclose(f);
    CHECK_INT_EQ(n_train, 1); /* 4 iterations, logger interval 100: the epoch's last iteration */
    CHECK_INT_EQ(n_val, 1);
    /* TensorBoard: one events file of TFRecords whose CRCs hold, a file_version record, then the scalars */
    check_events(wd);
    /* deployment metadata from the config */
    sscma_model *model = NULL;
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_runner_model(r, &model));
    CHECK_OK(sscma_qmodel_from_model(model, &q));
    CHECK_OK(sscma_runner_set_meta(r, q));
    const char *v = NULL;
    CHECK_OK(sscma_qmodel_meta(q, "classes", &v));
    if (v != NULL)
        CHECK_STR_CONTAINS(v, "\"T-shirt/top\"");
    CHECK_OK(sscma_qmodel_meta(q, "std", &v));
    if (v != NULL)
        CHECK_STR_CONTAINS(v, "90.0");
    /* memory: an int8 deployment needs about a quarter of the activation bytes (each block rounded up to 64 bytes in
       both plans; test_quant checks the figure against the plan) and of the weights */
    int64_t w32 = 0, a32 = 0, w8 = 0, a8 = 0;
    CHECK_OK(sscma_qmodel_memory(q, 0, &w32, &a32));
    CHECK_OK(sscma_qmodel_memory(q, 1, &w8, &a8));
    CHECK(a8 < a32 && a32 <= 4 * a8);
    CHECK(w8 < w32 / 3 && w8 > w32 / 5);
    CHECK(a8 >= 32 * 32 * 1 + 16 * 16 * 16); /* the input and the first convolution's output are alive together */
    sscma_qmodel_destroy(q);
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
}

/* A FOMO config written as SSCMA writes it, over a small composed COCO set. */
static const char *fomo_config(char *buf, size_t size, const char *data, const char *extra)
{
    snprintf(buf, size,
             "{\"model\": {\"type\": \"sscma.Fomo\", \"input_size\": [96, 96],"
             "  \"data_preprocessor\": {\"type\": \"mmdet.DetDataPreprocessor\", \"mean\": [0, 0, 0],"
             "                         \"std\": [255, 255, 255]},"
             "  \"backbone\": {\"type\": \"mmdet.MobileNetV2\", \"widen_factor\": 0.35, \"out_indices\": [2],"
             "                \"in_channels\": 1},"
             "  \"head\": {\"type\": \"FomoHead\", \"num_classes\": 4, \"middle_channel\": 48}},"
             " \"train_dataloader\": {\"batch_size\": 8, \"sampler\": {\"type\": \"DefaultSampler\", \"shuffle\": true},"
             "  \"dataset\": {\"type\": \"FomoDatasets\", \"data_root\": \"%s\","
             "   \"ann_file\": \"train/_annotations.coco.json\", \"data_prefix\": {\"img\": \"train/\"},"
             "   \"pipeline\": [{\"type\": \"LoadImageFromFile\", \"color_type\": \"grayscale\"},"
             "                {\"type\": \"LoadAnnotations\", \"with_bbox\": true},"
             "                {\"type\": \"mmdet.Resize\", \"scale\": [96, 96]}, {\"type\": \"mmdet.PackDetInputs\"}]}},"
             " \"val_dataloader\": {\"batch_size\": 8, \"dataset\": {\"type\": \"FomoDatasets\", \"data_root\": \"%s\","
             "   \"ann_file\": \"valid/_annotations.coco.json\", \"data_prefix\": {\"img\": \"valid/\"},"
             "   \"test_mode\": true, \"pipeline\": [{\"type\": \"mmdet.Resize\", \"scale\": [96, 96]}]}},"
             " \"val_evaluator\": {\"type\": \"FomoMetric\"}, \"randomness\": {\"seed\": 7},"
             " \"train_cfg\": {\"max_epochs\": 1}, \"optim_wrapper\": {\"optimizer\": {\"type\": \"Adam\", \"lr\": 0.001}}%s%s}",
             data, data, extra ? ", " : "", extra ? extra : "");
    return buf;
}

static void compose_once(char *data, size_t size)
{
    snprintf(data, size, "%s/det", tmpdir);
    char marker[256];
    snprintf(marker, sizeof marker, "%s/valid/_annotations.coco.json", data);
    struct stat sb;
    if (stat(marker, &sb) == 0)
        return;
    sscma_dataset *src = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 300}", &src));
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"image_size\": [96, 96], \"splits\": {\"train\": 16, "
             "\"valid\": 8}, \"classes\": [0, 1, 7, 8], \"seed\": 0}", data);
    if (src != NULL)
        CHECK_OK(sscma_compose_detection(src, cfg));
    sscma_dataset_destroy(src);
}

static void mmengine_detection_config(void)
{
    char data[128], text[4096];
    compose_once(data, sizeof data);
    sscma_config *c = parse(fomo_config(text, sizeof text, data, NULL));
    sscma_runner *r = NULL;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    if (r == NULL) {
        sscma_config_destroy(c);
        return;
    }
    json_t *train = loader_json(r, "train"), *val = loader_json(r, "val");
    /* color_type grayscale became ToGray in place; three equal means serve the gray model as one */
    check_pipeline(train, (const char *const[]){"ToGray", "Resize", "Normalize", NULL});
    json_t *norm = json_array_get(json_object_get(train, "pipeline"), 2);
    CHECK_INT_EQ(json_array_size(json_object_get(norm, "mean")), 1);
    CHECK(json_number_value(json_array_get(json_object_get(norm, "std"), 0)) == 255.0);
    json_t *target = json_object_get(train, "target");
    CHECK_STR_EQ(json_string_value(json_object_get(target, "type")), "FomoTarget");
    CHECK_INT_EQ(json_integer_value(json_object_get(target, "stride")), 8);
    CHECK_INT_EQ(json_integer_value(json_object_get(train, "seed")), 7); /* randomness.seed */
    check_pipeline(val, (const char *const[]){"ToGray", "Resize", "Normalize", NULL}); /* ToGray: the gray model */
    json_decref(train);
    json_decref(val);
    sscma_dataset *ds = NULL;
    int32_t k = 0;
    CHECK_OK(sscma_runner_dataset(r, "train", &ds));
    if (ds != NULL)
        CHECK_OK(sscma_dataset_num_classes(ds, &k));
    CHECK_INT_EQ(k, 4);
    /* a loader, a trainer and an evaluation without a work_dir: nothing is written */
    sscma_trainer *t = NULL;
    CHECK_OK(sscma_runner_trainer(r, &t));
    const sscma_metric *m = NULL;
    double f1 = -1;
    CHECK_OK(sscma_runner_evaluate(r, "val", &m));
    if (m != NULL)
        CHECK_OK(sscma_metric_get(m, "F1", &f1));
    CHECK(f1 >= 0.0 && f1 <= 1.0);
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
}

/* Trains the FOMO config with `extra` one epoch and copies its parameters (all of them, in order) into w. */
static size_t train_fomo(const char *data, const char *extra, float *w, size_t cap, const char *save_to)
{
    char text[4096];
    sscma_config *c = parse(fomo_config(text, sizeof text, data, extra));
    sscma_runner *r = NULL;
    sscma_trainer *t = NULL;
    sscma_model *m = NULL;
    size_t n = 0;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    if (r != NULL)
        CHECK_OK(sscma_runner_trainer(r, &t));
    if (t != NULL && sscma_runner_model(r, &m) == SSCMA_OK) {
        CHECK_OK(sscma_trainer_train(t));
        int32_t count = 0;
        sscma_model_param_count(m, &count);
        for (int32_t i = 0; i < count; i++) {
            sscma_tensor *v = NULL;
            size_t bytes = 0;
            void *d = NULL;
            sscma_model_param(m, i, NULL, NULL, &v, NULL);
            sscma_tensor_size_bytes(v, &bytes);
            sscma_tensor_data(v, &d);
            if (n + bytes / 4 <= cap)
                memcpy(w + n, d, bytes);
            n += bytes / 4;
        }
        if (save_to != NULL)
            CHECK_OK(sscma_model_save(m, save_to, 0));
    }
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
    return n;
}

/* The top-level distill reaches the trainer; FOMO distils per cell: weight 0 leaves the weights of a plain run. */
static void fomo_distills_through_the_runner(void)
{
    char data[128], teacher[256], extra[512];
    compose_once(data, sizeof data);
    snprintf(teacher, sizeof teacher, "%s/fomo_teacher.ckpt", tmpdir);
    enum { CAP = 1 << 20 };
    float *plain = malloc(CAP * sizeof *plain), *zero = malloc(CAP * sizeof *zero), *kd = malloc(CAP * sizeof *kd);
    if (plain == NULL || zero == NULL || kd == NULL)
        return free(plain), free(zero), free(kd), test_fail(__FILE__, __LINE__, "out of memory");
    size_t n = train_fomo(data, NULL, plain, CAP, teacher);
    snprintf(extra, sizeof extra, "\"distill\": {\"teacher_ckpt\": \"%s\", \"tau\": 2, \"loss_weight\": 0}", teacher);
    CHECK(train_fomo(data, extra, zero, CAP, NULL) == n);
    snprintf(extra, sizeof extra, "\"distill\": {\"teacher_ckpt\": \"%s\", \"tau\": 2, \"loss_weight\": 1}", teacher);
    CHECK(train_fomo(data, extra, kd, CAP, NULL) == n);
    CHECK(n > 0 && n <= CAP);
    if (n > 0 && n <= CAP) {
        CHECK(memcmp(plain, zero, n * sizeof *plain) == 0);
        CHECK(memcmp(plain, kd, n * sizeof *plain) != 0);
    }
    free(plain), free(zero), free(kd);
}

static void runner_errors_name_the_key(void)
{
    char data[128], text[4096];
    compose_once(data, sizeof data);
    sscma_runner *r = NULL;
    sscma_config *c = parse("{\"train_dataloader\": {}}");
    CHECK_FAILS(sscma_runner_create(ctx, c, &r), SSCMA_ERR_CONFIG, "'model'");
    sscma_config_destroy(c);
    c = parse("{\"model\": {\"type\": \"Fomo\", \"backbone\": {\"type\": \"MobileNetV2\"}, \"head\": {\"type\": "
              "\"FomoHead\", \"num_classes\": 2}, \"bad_key\": 1}}");
    CHECK_FAILS(sscma_runner_create(ctx, c, &r), SSCMA_ERR_CONFIG, "model: ");
    sscma_config_destroy(c);
    c = parse(fomo_config(text, sizeof text, data, "\"load_from\": \"/nonexistent/x.ckpt\""));
    CHECK_FAILS(sscma_runner_create(ctx, c, &r), SSCMA_ERR_IO, "load_from");
    sscma_config_destroy(c);
    c = parse(fomo_config(text, sizeof text, data, "\"test_evaluator\": null, \"val_dataloader\": null"));
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    sscma_dataset *ds = NULL;
    sscma_loader *ld = NULL;
    const char *json = NULL;
    const sscma_metric *m = NULL;
    if (r != NULL) {
        CHECK_FAILS(sscma_runner_dataset(r, "valid", &ds), SSCMA_ERR_INVALID_ARGUMENT, "unknown split 'valid'");
        CHECK_FAILS(sscma_runner_dataset(r, "val", &ds), SSCMA_ERR_NOT_FOUND, "no 'val_dataloader'");
        CHECK_FAILS(sscma_runner_loader(r, "test", &ld), SSCMA_ERR_NOT_FOUND, "no 'val_dataloader'");
        CHECK_FAILS(sscma_runner_loader_config(r, "val", &json), SSCMA_ERR_NOT_FOUND, "val_dataloader");
        CHECK_FAILS(sscma_runner_evaluate(r, "val", &m), SSCMA_ERR_NOT_FOUND, "val_dataloader");
    }
    sscma_runner_destroy(r);
    r = NULL;
    sscma_config_destroy(c);
    /* values the mapping reads */
    static const char *const bad[][2] = {
        {"train_dataloader.batch_size=0", "train_dataloader.batch_size: expected an integer >= 1"},
        {"train_dataloader.sampler.shuffle=3", "train_dataloader.sampler.shuffle: expected true or false"},
        {"train_dataloader.sampler.type=WeightedSampler", "train_dataloader.sampler.type"},
        {"train_dataloader.dataset.type=NoSuchDataset", "train_dataloader.dataset: "},
        {"train_dataloader.dataset.ann_file=missing.json", "missing.json"},
        {"train_dataloader.dataset.pipeline.2.type=NoSuchTransform", "NoSuchTransform"},
        /* the entry the user wrote (config index 2), not its place in the derived list (1: LoadAnnotations dropped) */
        {"train_dataloader.dataset.pipeline.2.keep_ratio=3",
         "Resize: train_dataloader.dataset.pipeline[2].keep_ratio: expected true or false, got 3"},
        {"model.data_preprocessor.mean=[1,2,3]", "model.data_preprocessor.mean: 3 values for a model with 1 input"},
        {"val_evaluator=null", "no 'val_evaluator'"},
        {"val_evaluator.type=NoSuchMetric", "val_evaluator: "},
        {"train_dataloader.batchsize=2", "runner: train_dataloader: unknown key 'batchsize'; valid keys: batch_size"},
        {"randomness.seed=-1", "runner: randomness.seed: expected an integer >= 0, got -1"},
        /* through the trainer into the optimizer: the message names the JSON path in the config */
        {"optim_wrapper.optimizer.momentun=0.9",
         "optimizer: optim_wrapper.optimizer: unknown key 'momentun'; valid keys: type, lr, betas"},
        {"optim_wrapper.optimizer.lr=-1", "optim_wrapper.optimizer.lr: expected a number 0..1000000, got -1"},
        /* the top-level distill goes to the trainer */
        {"distill.tau=4", "distill.teacher_ckpt: expected the teacher's checkpoint (a file path), missing"},
        {"distill.teacher_ckpt=/nonexistent/teacher.ckpt", "/nonexistent/teacher.ckpt"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = parse(fomo_config(text, sizeof text, data, NULL));
        CHECK_OK(sscma_config_set(c, bad[i][0]));
        CHECK_OK(sscma_runner_create(ctx, c, &r));
        if (r == NULL) {
            sscma_config_destroy(c);
            continue;
        }
        sscma_clear_error();
        sscma_status st = sscma_runner_loader(r, "train", &ld);
        if (st == SSCMA_OK)
            st = sscma_runner_evaluate(r, "val", &m);
        sscma_trainer *t = NULL;
        if (st == SSCMA_OK)
            st = sscma_runner_trainer(r, &t);
        CHECK(st != SSCMA_OK);
        if (strstr(sscma_last_error(), bad[i][1]) == NULL)
            test_fail(__FILE__, __LINE__, "%s: the message '%s' lacks '%s'", bad[i][0], sscma_last_error(), bad[i][1]);
        sscma_runner_destroy(r);
        r = NULL;
        sscma_config_destroy(c);
    }
}

static void predictions_follow_the_device(void)
{
    char data[128], text[4096], path[256];
    compose_once(data, sizeof data);
    sscma_config *c = parse(fomo_config(text, sizeof text, data, NULL));
    sscma_runner *r = NULL;
    sscma_model *model = NULL;
    sscma_qmodel *q = NULL;
    sscma_tensor *img = NULL;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    if (r != NULL)
        CHECK_OK(sscma_runner_model(r, &model));
    if (model != NULL)
        CHECK_OK(sscma_qmodel_from_model(model, &q));
    snprintf(path, sizeof path, "%s/valid/000000.png", data);
    CHECK_OK(sscma_image_read(ctx, path, 0, &img));
    int64_t h = 0, w = 0, ch = 0;
    if (img != NULL) {
        sscma_tensor_dim(img, 0, &h), sscma_tensor_dim(img, 1, &w), sscma_tensor_dim(img, 2, &ch);
        CHECK_INT_EQ(h, 96);
        CHECK_INT_EQ(ch, 1);
    }
    sscma_tensor *rgb = NULL;
    CHECK_OK(sscma_image_read(ctx, path, 3, &rgb));
    if (rgb != NULL) {
        sscma_tensor_dim(rgb, 2, &ch);
        CHECK_INT_EQ(ch, 3);
    }
    if (q != NULL && rgb != NULL) {
        /* threshold 0: every class of every cell, best first, at the cells' centres */
        sscma_predict_options o;
        CHECK_OK(sscma_predict_options_init(&o, sizeof o));
        o.score_threshold = 0.0f;
        static sscma_prediction res[12 * 12 * 4];
        int32_t n = 0;
        CHECK_OK(sscma_predict(q, rgb, &o, res, 12 * 12 * 4, &n));
        CHECK_INT_EQ(n, 12 * 12 * 4);
        int sorted = 1, centred = 1;
        for (int32_t i = 0; i < n; i++) {
            sorted &= i == 0 || res[i].score <= res[i - 1].score;
            centred &= fmodf(res[i].x - 4.0f, 8.0f) == 0.0f && fmodf(res[i].y - 4.0f, 8.0f) == 0.0f &&
                       res[i].w == 8.0f && res[i].class_id >= 0 && res[i].class_id < 4;
        }
        CHECK(sorted);
        CHECK(centred);
        /* a capacity smaller than the count: only that many written, the count is the total */
        sscma_prediction two[2];
        int32_t n2 = 0;
        CHECK_OK(sscma_predict(q, rgb, &o, two, 2, &n2));
        CHECK_INT_EQ(n2, n);
        CHECK(two[0].score == res[0].score);
        /* an image of another size: centres scale to its pixels */
        int64_t dims[3] = {48, 192, 1};
        sscma_tensor *wide = NULL;
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 3, dims, &wide));
        CHECK_OK(sscma_predict(q, wide, &o, res, 12 * 12 * 4, &n));
        float max_x = 0.0f, max_y = 0.0f;
        for (int32_t i = 0; i < n; i++)
            max_x = fmaxf(max_x, res[i].x), max_y = fmaxf(max_y, res[i].y);
        CHECK(max_x == 11.5f * 16.0f && max_y == 11.5f * 4.0f);
        sscma_tensor_destroy(wide);
        /* errors */
        sscma_tensor *f32 = NULL;
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, dims, &f32));
        CHECK_FAILS(sscma_predict(q, f32, &o, res, 4, &n), SSCMA_ERR_DTYPE, "u8");
        sscma_tensor_destroy(f32);
        CHECK_FAILS(sscma_predict(q, rgb, &o, NULL, 4, &n), SSCMA_ERR_INVALID_ARGUMENT, "capacity");
        CHECK_OK(sscma_qmodel_set_meta(q, "mean", "[\"x\"]"));
        CHECK_FAILS(sscma_predict(q, rgb, &o, res, 4, &n), SSCMA_ERR_FORMAT, "'mean' metadata");
        CHECK_OK(sscma_qmodel_set_meta(q, "mean", NULL));
        CHECK_OK(sscma_qmodel_set_meta(q, "family", "YOLO"));
        CHECK_FAILS(sscma_predict(q, rgb, &o, res, 4, &n), SSCMA_ERR_UNSUPPORTED, "'YOLO'");
        o.struct_size = 2;
        CHECK_FAILS(sscma_predict(q, rgb, &o, res, 4, &n), SSCMA_ERR_INVALID_ARGUMENT, "struct_size");
    }
    sscma_tensor *none = NULL;
    snprintf(path, sizeof path, "%s/valid/nonexistent.png", data);
    CHECK_FAILS(sscma_image_read(ctx, path, 0, &none), SSCMA_ERR_IO, "nonexistent.png");
    CHECK_FAILS(sscma_image_read(ctx, path, 2, &none), SSCMA_ERR_INVALID_ARGUMENT, "channels");
    sscma_tensor_destroy(img);
    sscma_tensor_destroy(rgb);
    sscma_qmodel_destroy(q);
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
}

/* A classifier's top classes are its probabilities, sorted. */
static void classifier_top_k(void)
{
    sscma_config *c = fmnist_recipe(NULL);
    sscma_runner *r = NULL;
    sscma_model *model = NULL;
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    if (r != NULL)
        CHECK_OK(sscma_runner_model(r, &model));
    if (model != NULL)
        CHECK_OK(sscma_qmodel_from_model(model, &q));
    if (q == NULL) {
        sscma_runner_destroy(r);
        sscma_config_destroy(c);
        return;
    }
    /* an image already at the input size, mean 0 / std 1: the input is the pixels themselves */
    int64_t dims[3] = {32, 32, 1};
    sscma_tensor *img = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 3, dims, &img));
    uint8_t *px = NULL;
    sscma_tensor_data(img, (void **)&px);
    for (int i = 0; px != NULL && i < 32 * 32; i++)
        px[i] = (uint8_t)(i * 7 % 256);
    sscma_predict_options o;
    CHECK_OK(sscma_predict_options_init(&o, sizeof o));
    o.top_k = 3;
    sscma_prediction res[10];
    int32_t n = 0;
    CHECK_OK(sscma_predict(q, img, &o, res, 10, &n));
    CHECK_INT_EQ(n, 3);
    /* the same input through the runtime directly */
    float probs[10], in[32 * 32];
    for (int i = 0; i < 32 * 32; i++)
        in[i] = (float)(i * 7 % 256);
    int64_t idims[4] = {1, 32, 32, 1}, odims[2] = {1, 10};
    sscma_tensor *it = NULL, *ot = NULL;
    CHECK_OK(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 4, idims, in, sizeof in, &it));
    CHECK_OK(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 2, odims, probs, sizeof probs, &ot));
    CHECK_OK(sscma_qmodel_set_input(q, 0, it));
    CHECK_OK(sscma_qmodel_run(q));
    CHECK_OK(sscma_qmodel_get_output(q, 0, ot));
    int best = 0;
    for (int k = 1; k < 10; k++)
        best = probs[k] > probs[best] ? k : best;
    CHECK_INT_EQ(res[0].class_id, best);
    CHECK(res[0].score == probs[best]);
    CHECK(res[1].score <= res[0].score && res[2].score <= res[1].score);
    sscma_tensor_destroy(it);
    sscma_tensor_destroy(ot);
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
}

static int record_max_epochs(const sscma_train_progress *p, void *user)
{
    *(int64_t *)user = p->max_epochs;
    return 1; /* one iteration is enough */
}

/*
 * The epochs a runner's trainer runs for `text` (a config, resolved after the overrides `sets`, NULL-terminated);
 * 0 when the trainer is refused, with the message checked against `message`.
 */
static int64_t epochs_for(const char *text, const char *const *sets, const char *message)
{
    sscma_config *c = NULL;
    CHECK_OK(sscma_config_parse(text, NULL, &c));
    static const char *const small[] = {"train_dataloader.dataset.indices=64", "train_dataloader.num_workers=0",
                                        "val_dataloader.dataset.indices=16", NULL};
    for (int i = 0; c != NULL && small[i] != NULL; i++)
        CHECK_OK(sscma_config_set(c, small[i]));
    for (int i = 0; c != NULL && sets[i] != NULL; i++)
        CHECK_OK(sscma_config_set(c, sets[i]));
    if (c == NULL || sscma_config_resolve(c) != SSCMA_OK) {
        CHECK(false);
        sscma_config_destroy(c);
        return 0;
    }
    sscma_runner *r = NULL;
    sscma_trainer *t = NULL;
    int64_t epochs = 0;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    sscma_status st = r != NULL ? sscma_runner_trainer(r, &t) : SSCMA_ERR_CONFIG;
    if (message != NULL) {
        CHECK(st == SSCMA_ERR_CONFIG);
        if (strstr(sscma_last_error(), message) == NULL)
            test_fail(__FILE__, __LINE__, "the message '%s' lacks '%s'", sscma_last_error(), message);
    } else if (st == SSCMA_OK) {
        sscma_trainer_set_callback(t, record_max_epochs, &epochs);
        CHECK(sscma_trainer_train(t) == SSCMA_ERR_CANCELLED);
    } else {
        test_fail(__FILE__, __LINE__, "trainer refused: %s", sscma_last_error());
    }
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
    return epochs;
}

/*
 * Two keys for one setting (max_epochs / train_cfg.max_epochs, a dataloader's pipeline / its dataset's): the user's
 * override wins; when neither or both were overridden and they differ, the run is refused naming both.
 */
static void overrides_win_over_aliases(void)
{
    const char *recipe = "{\"_base_\": \"" CONFIGS_DIR "/classification/mobnetv2_0.35_fmnist.json\"}";
    /* found in use: --cfg-options max_epochs=2 trained the recipe's 8 epochs (train_cfg.max_epochs: "${epochs}") */
    CHECK_INT_EQ(epochs_for(recipe, (const char *const[]){"max_epochs=2", NULL}, NULL), 2);
    CHECK_INT_EQ(epochs_for(recipe, (const char *const[]){"epochs=3", NULL}, NULL), 3); /* through ${epochs} */
    CHECK_INT_EQ(epochs_for(recipe, (const char *const[]){"train_cfg.max_epochs=4", NULL}, NULL), 4);
    CHECK_INT_EQ(epochs_for(recipe, (const char *const[]){NULL}, NULL), 8);
    /* both overridden, or neither: refused, naming both keys */
    epochs_for(recipe, (const char *const[]){"max_epochs=2", "epochs=5", NULL},
               "max_epochs: 2, but train_cfg.max_epochs is 5: both keys set the same thing");
    const char *both = "{\"_base_\": \"" CONFIGS_DIR "/classification/mobnetv2_0.35_fmnist.json\", \"max_epochs\": 3}";
    epochs_for(both, (const char *const[]){NULL}, "max_epochs: 3, but train_cfg.max_epochs is 8");
    CHECK_INT_EQ(epochs_for(both, (const char *const[]){"max_epochs=6", NULL}, NULL), 6);
    CHECK_INT_EQ(epochs_for(both, (const char *const[]){"epochs=3", NULL}, NULL), 3); /* now equal: no conflict */
    epochs_for(recipe, (const char *const[]){"val_interval=2", "train_cfg.val_interval=3", NULL},
               "val_interval: 2, but train_cfg.val_interval is 3");
    /* a dataloader's own pipeline overridden wins over its dataset's (the one mmengine reads first) */
    sscma_config *c = fmnist_recipe("train_dataloader.pipeline=[{\"type\": \"Pad\", \"padding\": 2}]");
    sscma_runner *r = NULL;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    json_t *train = r != NULL ? loader_json(r, "train") : NULL;
    if (train != NULL)
        check_pipeline(train, (const char *const[]){"ToGray", "Pad", "Normalize", NULL});
    json_decref(train);
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
    c = parse("{\"_base_\": \"" CONFIGS_DIR "/classification/mobnetv2_0.35_fmnist.json\", \"train_dataloader\": "
              "{\"pipeline\": [{\"type\": \"Pad\", \"padding\": 4}]}}");
    if (c != NULL)
        CHECK_OK(sscma_config_resolve(c));
    r = NULL;
    const char *json = NULL;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    if (r != NULL)
        CHECK_FAILS(sscma_runner_loader_config(r, "train", &json), SSCMA_ERR_CONFIG,
                    "train_dataloader.pipeline: differs from train_dataloader.dataset.pipeline");
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
}

/* FOMO's output stride is 8: an input size that is no multiple of it is refused naming 8 (it said 7 for 30). */
static void fomo_input_size_names_the_stride(void)
{
    char data[128], text[4096];
    compose_once(data, sizeof data);
    sscma_config *c = parse(fomo_config(text, sizeof text, data, NULL));
    sscma_runner *r = NULL;
    if (c != NULL)
        CHECK_OK(sscma_config_set(c, "model.input_size=[30,30]"));
    CHECK_FAILS(sscma_runner_create(ctx, c, &r), SSCMA_ERR_CONFIG,
                "model.input_size: 30x30 is not a multiple of FOMO's stride 8");
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
}

static void null_arguments(void)
{
    sscma_runner *r = NULL;
    sscma_config *c = parse("{}");
    sscma_model *m = NULL;
    sscma_dataset *d = NULL;
    sscma_loader *l = NULL;
    sscma_trainer *t = NULL;
    const char *j = NULL;
    const sscma_metric *mt = NULL;
    CHECK_FAILS(sscma_runner_create(NULL, c, &r), SSCMA_ERR_INVALID_ARGUMENT, "ctx");
    CHECK_FAILS(sscma_runner_create(ctx, NULL, &r), SSCMA_ERR_INVALID_ARGUMENT, "config");
    CHECK_FAILS(sscma_runner_model(NULL, &m), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_runner_dataset(NULL, "train", &d), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_runner_loader(NULL, "train", &l), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_runner_loader_config(NULL, "train", &j), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_runner_trainer(NULL, &t), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_runner_evaluate(NULL, "val", &mt), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_runner_set_meta(NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    double score = 0.0;
    CHECK_FAILS(sscma_runner_anomaly_score(NULL, NULL, &score, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "runner");
    CHECK_FAILS(sscma_qmodel_memory(NULL, 0, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    sscma_predict_options o;
    CHECK_FAILS(sscma_predict_options_init(&o, 2), SSCMA_ERR_INVALID_ARGUMENT, "struct_size");
    CHECK_FAILS(sscma_predict_options_init(&o, sizeof o + 8), SSCMA_ERR_UNSUPPORTED, "struct_size");
    CHECK_FAILS(sscma_predict(NULL, NULL, NULL, NULL, 0, NULL), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_image_read(ctx, NULL, 0, NULL), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    sscma_runner_destroy(NULL);
    sscma_config_destroy(c);
}

/* A one-axis Edge Impulse export of `n` clips of `length` samples at 8 kHz in dir (category `category`): four
 * "words", bursts of four levels with a slow modulation, at varied amplitudes and positions, a little noise. */
static void write_word_clips(const char *dir, const char *category, int n, int length, int seed, FILE *labels,
                             bool *first)
{
    static const char *const words[4] = {"low", "mid", "high", "sweep"};
    for (int i = 0; i < n; i++) {
        const int k = i % 4, j = seed + i;
        char path[256];
        snprintf(path, sizeof path, "%s/%s%02d.json", dir, category, i);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f == NULL)
            return;
        fprintf(f, "{\"payload\": {\"interval_ms\": 0.125, \"sensors\": [{\"name\": \"audio\", \"units\": \"wav\"}], "
                "\"values\": [");
        const double amp = 0.3 + 0.015 * (j % 17), f0 = 6.0 * (k + 1) + 0.3 * (j % 7), level = 0.4 * (k - 1.5);
        const int on = length / 8 + (j * 37) % (length / 4), off = on + length / 2;
        for (int r = 0; r < length; r++) {
            const double t = r / 8000.0, burst = r > on && r < off ? 1.0 : 0.05;
            const double pitch = k == 3 ? f0 * (1.0 + 8.0 * t) : f0;
            const double v = amp * burst * (level + 0.5 * sin(6.283185307179586 * pitch * t)) +
                             0.02 * sin(12.9898 * (j * length + r));
            fprintf(f, "%s[%.5f]", r ? ", " : "", v);
        }
        fprintf(f, "]}}\n");
        fclose(f);
        fprintf(labels, "%s{\"path\": \"%s%02d.json\", \"category\": \"%s\", \"label\": {\"type\": \"label\", "
                "\"label\": \"%s\"}}", *first ? "" : ", ", category, i, category, words[k]);
        *first = false;
    }
}

/*
 * Audio_classify through the runner (the training path of SSCMA's KWS recipe, on a windows dataset until the
 * Speechcommand dataset lands): clips [N, 1, 1024, 1] from SensorDataset (flatten false), the recipe's model at
 * segment_length 1024, AdamW with LinearLR warm-up by iteration and MultiStepLR by epoch, the top-level
 * ETADataPreprocessor accepted (warned, ignored). The loader gets no pipeline (the dataset has none), the
 * blur buffers stay SSCMA's taps, and 40 epochs on 48 clips reach >= 90% top-1 on 16 held-out clips (100% here).
 */
static void audio_classify_trains_through_the_runner(void)
{
    char data[128], path[200];
    snprintf(data, sizeof data, "%s/kws", tmpdir);
    CHECK(mkdir(data, 0755) == 0);
    snprintf(path, sizeof path, "%s/info.labels", data);
    FILE *labels = fopen(path, "w");
    CHECK(labels != NULL);
    if (labels == NULL)
        return;
    bool first = true;
    fprintf(labels, "{\"version\": 1, \"files\": [");
    write_word_clips(data, "training", 48, 1024, 0, labels, &first);
    write_word_clips(data, "testing", 16, 1024, 100, labels, &first);
    fprintf(labels, "]}\n");
    fclose(labels);
    char text[4096];
    snprintf(text, sizeof text,
             "{\"model\": {\"type\": \"sscma.Audio_classify\", \"n_cls\": 4, \"multilabel\": false, \"segment_length\": 1024,"
             " \"loss\": {\"type\": \"LabelSmoothCrossEntropyLoss\", \"reduction\": \"sum\", \"smoothing\": 0.1},"
             " \"backbone\": {\"type\": \"SoundNetRaw\", \"nf\": 2, \"clip_length\": 64, \"factors\": [4, 4, 4],"
             " \"out_channel\": 36}, \"head\": {\"type\": \"Audio_head\", \"in_channels\": 36, \"n_classes\": 4,"
             " \"drop\": 0.2}},"
             " \"data_preprocessor\": {\"type\": \"ETADataPreprocessor\", \"n_cls\": 4, \"seq_len\": 1024},"
             " \"train_dataloader\": {\"batch_size\": 8, \"num_workers\": 0, \"sampler\": {\"type\": \"DefaultSampler\","
             " \"shuffle\": true}, \"dataset\": {\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\":"
             " \"training\", \"ann_file\": \"info.labels\", \"window_size\": 1024, \"stride\": 1024, \"flatten\": false}},"
             " \"val_dataloader\": {\"batch_size\": 8, \"num_workers\": 0, \"dataset\": {\"type\": \"SensorDataset\","
             " \"data_root\": \"%s\", \"data_prefix\": \"testing\", \"ann_file\": \"info.labels\", \"window_size\": 1024,"
             " \"stride\": 1024, \"flatten\": false}},"
             " \"val_evaluator\": {\"type\": \"mmcls.Accuracy\", \"topk\": 1},"
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"AdamW\", \"lr\": 0.005, \"betas\": [0.9, 0.99],"
             " \"weight_decay\": 0.0005, \"eps\": 1e-7}},"
             " \"param_scheduler\": [{\"type\": \"LinearLR\", \"begin\": 0, \"end\": 12, \"start_factor\": 0.001,"
             " \"by_epoch\": false}, {\"type\": \"MultiStepLR\", \"begin\": 1, \"end\": 40, \"milestones\": [30],"
             " \"gamma\": 0.1, \"by_epoch\": true}],"
             " \"train_cfg\": {\"by_epoch\": true, \"max_epochs\": 40, \"val_interval\": 40},"
             " \"work_dir\": \"%s/kws_work\", \"randomness\": {\"seed\": 7}}",
             data, data, tmpdir);
    sscma_config *c = parse(text);
    sscma_runner *r = NULL;
    CHECK_OK(sscma_runner_create(ctx, c, &r));
    if (r == NULL) {
        sscma_config_destroy(c);
        return;
    }
    json_t *train = loader_json(r, "train");
    CHECK_INT_EQ(json_array_size(json_object_get(train, "pipeline")), 0);
    json_decref(train);
    sscma_trainer *t = NULL;
    CHECK_OK(sscma_runner_trainer(r, &t));
    if (t != NULL) {
        CHECK_OK(sscma_trainer_train(t));
        const sscma_metric *m = NULL;
        double top1 = -1.0;
        CHECK_OK(sscma_runner_evaluate(r, "val", &m));
        if (m != NULL)
            CHECK_OK(sscma_metric_get(m, "accuracy/top1", &top1));
        printf("# Audio_classify on 48 synthetic clips, 40 epochs: top-1 %.1f%% on 16 held-out clips\n", top1);
        CHECK(top1 >= 90.0);
        sscma_model *model = NULL;
        int32_t index = -1;
        sscma_tensor *filt = NULL;
        float *d = NULL;
        CHECK_OK(sscma_runner_model(r, &model));
        CHECK_OK(sscma_model_find_param(model, "backbone.down2.7.down.3.filt", &index));
        CHECK_OK(sscma_model_param(model, index, NULL, NULL, &filt, NULL));
        CHECK_OK(sscma_tensor_data(filt, (void **)&d));
        if (d != NULL) /* [1, 2, 3, 2, 1] / 9 of channel 0, untouched by 240 steps */
            CHECK(d[0] == 1.0f / 9.0f && d[1] == 2.0f / 9.0f && d[2] == 3.0f / 9.0f && d[4] == 1.0f / 9.0f);
    }
    sscma_runner_destroy(r);
    sscma_config_destroy(c);
}

/* The shipped KWS recipes build SSCMA's model (23,953 parameters for 35 words; 23,102 for the espeak set's 12
 * classes), give the training loader SSCMA's AudioAugs (written as one dict; its 14 augmentations, the place it
 * came from) and nothing else, the validation loader nothing, and keep the AdamW of the recipe. */
static void kws_recipes_build(void)
{
    static const struct {
        const char *file;
        int64_t params;
        int batch;
    } recipes[] = {{CONFIGS_DIR "/audio_classify/ali_classiyf_small_8k_8192.json", 23953, 128},
                   {CONFIGS_DIR "/audio_classify/espeak_kws_8k_8192.json", 23102, 64}};
    for (size_t i = 0; i < sizeof recipes / sizeof recipes[0]; i++) {
        sscma_config *c = NULL;
        sscma_runner *r = NULL;
        sscma_model *m = NULL;
        CHECK_OK(sscma_config_load(recipes[i].file, &c));
        if (c == NULL)
            continue;
        CHECK_OK(sscma_config_resolve(c));
        CHECK_OK(sscma_runner_create(ctx, c, &r));
        if (r != NULL && sscma_runner_model(r, &m) == SSCMA_OK) {
            int64_t params = 0;
            CHECK_OK(sscma_model_stats(m, &params, NULL));
            CHECK_INT_EQ(params, recipes[i].params);
            json_t *train = loader_json(r, "train"), *val = loader_json(r, "val");
            json_t *pipe = json_object_get(train, "pipeline");
            CHECK_INT_EQ(json_array_size(pipe), 1);
            CHECK_STR_EQ(transform_type(train, 0), "AudioAugs");
            CHECK_INT_EQ(json_array_size(json_object_get(json_array_get(pipe, 0), "k_augs")), 14);
            CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(pipe, 0), "_at")),
                         "train_dataloader.dataset.pipeline");
            CHECK_INT_EQ(json_array_size(json_object_get(val, "pipeline")), 0);
            CHECK_INT_EQ(json_integer_value(json_object_get(train, "batch_size")), recipes[i].batch);
            json_decref(train);
            json_decref(val);
        }
        const char *v = NULL;
        CHECK_OK(sscma_config_get(c, "optim_wrapper.optimizer.type", &v));
        if (v != NULL)
            CHECK_STR_EQ(v, "\"AdamW\"");
        sscma_runner_destroy(r);
        sscma_config_destroy(c);
    }
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(recipe_trains_and_evaluates),
        TEST_CASE(mmengine_detection_config),
        TEST_CASE(runner_errors_name_the_key),
        TEST_CASE(fomo_distills_through_the_runner),
        TEST_CASE(predictions_follow_the_device),
        TEST_CASE(classifier_top_k),
        TEST_CASE(overrides_win_over_aliases),
        TEST_CASE(fomo_input_size_names_the_stride),
        TEST_CASE(null_arguments),
        TEST_CASE(audio_classify_trains_through_the_runner),
        TEST_CASE(kws_recipes_build),
    };
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sscma-runner-XXXXXX");
    sscma_context_options opt;
    sscma_context_options_init(&opt, sizeof opt);
    opt.num_threads = 2;
    opt.log_level = SSCMA_LOG_ERROR;
    if (mkdtemp(tmpdir) == NULL || sscma_context_create(&opt, &ctx) != SSCMA_OK)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
