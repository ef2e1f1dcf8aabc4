/*
 * sscma infer: a trained checkpoint or a .tflite file run on images, as the device runs it (sscma_predict); or a model
 * of sensor windows on CSV / Edge Impulse JSON files, cut into windows as its validation dataset cuts them; or a LODA
 * checkpoint scoring such windows (sscma_runner_anomaly_score).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RESULTS 256

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A sensor recording (CSV or Edge Impulse's data acquisition JSON) rather than an image. */
static bool sensor_file(const char *path)
{
    return ends_with(path, ".csv") || ends_with(path, ".CSV") || ends_with(path, ".json") || ends_with(path, ".JSON");
}

/* A sound clip for a keyword spotter (Audio_classify). */
static bool audio_file(const char *path)
{
    return ends_with(path, ".wav") || ends_with(path, ".WAV");
}

/* A window's or clip's top classes: printed (not with --json) and appended to items as {"class", "name", "score"}. */
static void add_classes(const cli_args *a, json_t *classes, const sscma_prediction *r, int32_t n, json_t *items)
{
    for (int32_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(classes, (size_t)r[i].class_id));
        json_array_append_new(items, json_pack("{s:i, s:s, s:f}", "class", (int)r[i].class_id, "name",
                                               name ? name : "", "score", (double)r[i].score));
        if (!a->json)
            printf("  %s (%d) %.4f\n", name ? name : "?", (int)r[i].class_id, (double)r[i].score);
    }
}

/*
 * A WAV file through an Audio_classify model: the clip read as the config's validation Speechcommand dataset reads
 * its clips (sampling_rate, segment_length, lower_volume; a .tflite: 8 kHz, the model's input length and
 * lower_volume, SSCMA's recipe's), then sscma_predict on the f32 [1, L] window: prints "<file>:" and the top classes
 * with softmax scores, and appends {"file", "classes"} to `all`. 0, or the exit code after an error.
 */
static int infer_audio(cli_args *a, sscma_config *cfg, sscma_context *ctx, sscma_qmodel *q, const char *path,
                       const sscma_predict_options *po, json_t *classes, json_t *all)
{
    int64_t rate = 8000, length = 0;
    bool lower_volume = true;
    const char *text = NULL;
    if (cfg != NULL) {
        if (sscma_config_get(cfg, "val_dataloader.dataset.sampling_rate", &text) == SSCMA_OK)
            rate = atoll(text);
        if (sscma_config_get(cfg, "val_dataloader.dataset.segment_length", &text) == SSCMA_OK)
            length = atoll(text);
        if (sscma_config_get(cfg, "val_dataloader.dataset.lower_volume", &text) == SSCMA_OK)
            lower_volume = strcmp(text, "true") == 0;
        sscma_clear_error();
    }
    if (length <= 0) { /* the model's input [1, 1, L, 1] */
        sscma_tensor *in = NULL;
        if (sscma_qmodel_input(q, 0, &in) != SSCMA_OK || sscma_tensor_dim(in, 2, &length) != SSCMA_OK)
            return cli_fail(a, "cannot read the model's input length");
    }
    sscma_tensor *clip = NULL;
    sscma_prediction r[MAX_RESULTS];
    int32_t n = 0;
    if (sscma_audio_clip_read(ctx, path, rate, length, lower_volume ? 1 : 0, &clip) != SSCMA_OK ||
        sscma_predict(q, clip, po, r, MAX_RESULTS, &n) != SSCMA_OK) {
        sscma_tensor_destroy(clip);
        return cli_fail(a, path);
    }
    sscma_tensor_destroy(clip);
    if (n > MAX_RESULTS)
        n = MAX_RESULTS;
    json_t *items = json_array();
    if (!a->json)
        printf("%s:%s\n", path, n == 0 ? " nothing found" : "");
    add_classes(a, classes, r, n, items);
    json_array_append_new(all, json_pack("{s:s, s:o}", "file", path, "classes", items));
    return 0;
}

/*
 * Sensor file `path` as a dataset of windows, cut by the config's validation SensorDataset (window_size, stride,
 * frequency, mean / std, flatten, features), with the config's stride and window_size. 0, or the exit code.
 */
static int sensor_windows(cli_args *a, sscma_context *ctx, sscma_config *cfg, const char *path, sscma_dataset **out,
                          int64_t *stride, int64_t *window_size)
{
    const char *text = NULL;
    if (cfg == NULL)
        return cli_error(a, 2, "%s: a sensor file needs CONFIG CHECKPOINT (the window size and rate are its "
                         "dataset's), not a .tflite", path);
    if (sscma_config_get(cfg, "val_dataloader.dataset", &text) != SSCMA_OK)
        return cli_fail(a, "the config has no val_dataloader.dataset to cut the windows as");
    json_t *ds_cfg = json_loads(text, 0, NULL);
    const char *type = json_string_value(json_object_get(ds_cfg, "type"));
    if (type == NULL || strstr(type, "SensorDataset") == NULL) {
        json_decref(ds_cfg);
        return cli_error(a, 2, "%s: a sensor file, but the config's dataset is %s, not a SensorDataset", path,
                         type != NULL ? type : "untyped");
    }
    json_object_set_new(ds_cfg, "type", json_string("SensorDataset"));
    json_object_set_new(ds_cfg, "data_root", json_string(""));
    json_object_set_new(ds_cfg, "data_prefix", json_string(""));
    json_object_set_new(ds_cfg, "ann_file", json_string(path));
    json_object_del(ds_cfg, "pipeline");
    json_object_del(ds_cfg, "test_mode");
    json_object_del(ds_cfg, "indices");
    char *dump = json_dumps(ds_cfg, JSON_COMPACT);
    json_decref(ds_cfg);
    sscma_dataset *ds = NULL;
    sscma_status st = dump != NULL ? sscma_dataset_open(ctx, dump, &ds) : SSCMA_ERR_OUT_OF_MEMORY;
    free(dump);
    if (st != SSCMA_OK)
        return cli_fail(a, path);
    *stride = *window_size = 0;
    if (sscma_config_get(cfg, "val_dataloader.dataset.stride", &text) == SSCMA_OK)
        *stride = atoll(text);
    if (sscma_config_get(cfg, "val_dataloader.dataset.window_size", &text) == SSCMA_OK)
        *window_size = atoll(text);
    sscma_clear_error();
    *out = ds;
    return 0;
}

/*
 * The windows of sensor file `path` (sensor_windows), each run through sscma_predict: prints "<file> window <k>
 * (rows <from>..):" and the top classes, and appends {"file", "window", "classes"} to `all`. 0, or the exit code.
 */
static int infer_sensor(cli_args *a, sscma_context *ctx, sscma_config *cfg, sscma_qmodel *q, const char *path,
                        const sscma_predict_options *po, json_t *classes, json_t *all)
{
    sscma_dataset *ds = NULL;
    int64_t windows = 0, stride = 0, window_size = 0;
    int rc = sensor_windows(a, ctx, cfg, path, &ds, &stride, &window_size);
    if (rc != 0)
        return rc;
    sscma_dataset_size(ds, &windows);
    /* the anomaly VAE: one score per window and its decision against the "threshold" metadata (class_id 1 above it,
     * 0 at or below, -1 without a threshold), not classes */
    const char *task = "";
    const bool anomaly = sscma_predict_task(q, po, &task) == SSCMA_OK && strcmp(task, "anomaly") == 0;
    sscma_clear_error();
    for (int64_t k = 0; k < windows && rc == 0; k++) {
        sscma_sample *s = NULL;
        sscma_tensor *win = NULL;
        sscma_prediction r[MAX_RESULTS];
        int32_t n = 0;
        if (sscma_dataset_get(ds, k, &s) != SSCMA_OK || sscma_sample_image(s, &win) != SSCMA_OK ||
            sscma_predict(q, win, po, r, MAX_RESULTS, &n) != SSCMA_OK) {
            sscma_sample_destroy(s);
            rc = cli_fail(a, path);
            break;
        }
        sscma_sample_destroy(s);
        if (n > MAX_RESULTS)
            n = MAX_RESULTS;
        if (anomaly && n >= 1) {
            static const char *const decision[3] = {"no threshold", "normal", "anomaly"};
            const char *d = decision[r[0].class_id < 0 ? 0 : r[0].class_id == 0 ? 1 : 2];
            if (!a->json)
                printf("%s window %lld (rows from %lld): score %.6f %s\n", path, (long long)k, (long long)(k * stride),
                       (double)r[0].score, d);
            json_array_append_new(all, json_pack("{s:s, s:I, s:I, s:I, s:f, s:o}", "file", path, "window",
                                                 (json_int_t)k, "first_row", (json_int_t)(k * stride), "window_size",
                                                 (json_int_t)window_size, "score", (double)r[0].score, "anomaly",
                                                 r[0].class_id < 0 ? json_null() : json_boolean(r[0].class_id == 1)));
            continue;
        }
        json_t *items = json_array();
        if (!a->json)
            printf("%s window %lld (rows from %lld):%s\n", path, (long long)k, (long long)(k * stride),
                   n == 0 ? " nothing found" : "");
        add_classes(a, classes, r, n, items);
        json_array_append_new(all, json_pack("{s:s, s:I, s:I, s:I, s:o}", "file", path, "window", (json_int_t)k,
                                             "first_row", (json_int_t)(k * stride), "window_size",
                                             (json_int_t)window_size, "classes", items));
    }
    sscma_dataset_destroy(ds);
    return rc;
}

/*
 * A LODA checkpoint on sensor files: per window the score, threshold_ and the decision (score > threshold_), as
 * "<file> window <k> (rows from <r>): score <s> (threshold <t>): anomaly|normal" or, with --json, {"family": "LODA",
 * "task": "anomaly", "results": [{"file", "window", "first_row", "window_size", "score", "threshold", "anomaly"}]}.
 */
static int infer_loda(cli_args *a, sscma_config *cfg)
{
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    int rc = 0;
    json_t *all = json_array();
    if (a->n_positional < 3)
        rc = cli_error(a, 2, "LODA: give CONFIG CHECKPOINT FILE.csv|.json... (sscma infer --help)");
    for (int i = 2; i < a->n_positional && rc == 0; i++)
        if (!sensor_file(a->positional[i]))
            rc = cli_error(a, 2, "%s: LODA scores sensor windows; expected a .csv or Edge Impulse .json file",
                           a->positional[i]);
    if (rc == 0 && a->draw != NULL)
        rc = cli_error(a, 2, "--draw draws images; LODA scores sensor windows");
    if (rc == 0 && (cli_context(a, cfg, &ctx) != 0 || cli_runner(a, ctx, cfg, a->positional[1], &runner) != 0))
        rc = 1;
    if (rc != 0)
        goto done;
    for (int i = 2; i < a->n_positional && rc == 0; i++) {
        const char *path = a->positional[i];
        sscma_dataset *ds = NULL;
        int64_t windows = 0, stride = 0, window_size = 0;
        if ((rc = sensor_windows(a, ctx, cfg, path, &ds, &stride, &window_size)) != 0)
            break;
        sscma_dataset_size(ds, &windows);
        for (int64_t k = 0; k < windows && rc == 0; k++) {
            sscma_sample *s = NULL;
            sscma_tensor *win = NULL;
            double score = 0.0, threshold = 0.0;
            int32_t abnormal = 0;
            if (sscma_dataset_get(ds, k, &s) != SSCMA_OK || sscma_sample_image(s, &win) != SSCMA_OK ||
                sscma_runner_anomaly_score(runner, win, &score, &abnormal, &threshold) != SSCMA_OK)
                rc = cli_fail(a, path);
            sscma_sample_destroy(s);
            if (rc != 0)
                break;
            if (!a->json)
                printf("%s window %lld (rows from %lld): score %.4f (threshold %.4f): %s\n", path, (long long)k,
                       (long long)(k * stride), score, threshold, abnormal ? "anomaly" : "normal");
            json_array_append_new(all, json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:b}", "file", path, "window",
                                                 (json_int_t)k, "first_row", (json_int_t)(k * stride), "window_size",
                                                 (json_int_t)window_size, "score", score, "threshold", threshold,
                                                 "anomaly", (int)abnormal));
        }
        sscma_dataset_destroy(ds);
    }
    if (rc == 0 && a->json)
        cli_print_json(json_pack("{s:s, s:s, s:O}", "family", "LODA", "task", "anomaly", "results", all));
done:
    json_decref(all);
    cli_close(runner, ctx, cfg);
    return rc;
}

int cli_infer(cli_args *a)
{
    const bool tflite = ends_with(a->positional[0], ".tflite");
    const int first_image = tflite ? 1 : 2;
    if (a->n_positional <= first_image)
        return cli_error(a, 2, "no image given (sscma infer --help)");
    sscma_config *cfg = NULL;
    sscma_context *ctx = NULL;
    sscma_runner *runner = NULL;
    sscma_qmodel *q = NULL;
    int rc = 1;
    if (!tflite && cli_load_config(a, a->positional[0], NULL, &cfg) != 0)
        return 1;
    if (!tflite && cli_is_loda(cfg))
        return infer_loda(a, cfg); /* closes cfg */
    if (cli_context(a, cfg, &ctx) != 0)
        goto done;
    if (tflite) {
        if (sscma_qmodel_load_tflite(ctx, a->positional[0], &q) != SSCMA_OK) {
            rc = cli_fail(a, "cannot read the model");
            goto done;
        }
    } else {
        sscma_model *model = NULL;
        if (cli_runner(a, ctx, cfg, a->positional[1], &runner) != 0)
            goto done;
        sscma_runner_model(runner, &model);
        if (sscma_qmodel_from_model(model, &q) != SSCMA_OK || sscma_runner_set_meta(runner, q) != SSCMA_OK) {
            rc = cli_fail(a, "cannot prepare the model");
            goto done;
        }
    }
    const char *family = "", *classes_text = NULL;
    if (sscma_qmodel_meta(q, "family", &family) != SSCMA_OK)
        family = "";
    json_t *classes = sscma_qmodel_meta(q, "classes", &classes_text) == SSCMA_OK ? json_loads(classes_text, 0, NULL)
                                                                                : NULL;
    sscma_clear_error();
    if (a->classes != NULL && classes != NULL)
        fprintf(stderr, "sscma infer: the model names its classes; --classes is not used\n");
    else if (a->classes != NULL) { /* --classes a,b,c: names for a file without "classes" metadata */
        classes = json_array();
        for (const char *c = a->classes; classes != NULL;) {
            const char *end = strchr(c, ',');
            size_t len = end ? (size_t)(end - c) : strlen(c);
            json_array_append_new(classes, json_stringn(c, len));
            if (end == NULL)
                break;
            c = end + 1;
        }
    }
    sscma_predict_options po;
    sscma_predict_options_init(&po, sizeof po);
    po.top_k = (int32_t)a->topk;
    po.task = a->task;
    if (a->threshold >= 0.0)
        po.score_threshold = (float)a->threshold;
    if (a->iou >= 0.0)
        po.iou_threshold = (float)a->iou;
    const char *task = "";
    cli_grid g;
    cli_grid_init(&g, a->n_positional - first_image, classes, false);
    json_t *all = json_array();
    const bool audio_model = strcmp(family, "Audio_classify") == 0;
    for (int i = first_image; i < a->n_positional; i++) {
        if (audio_model || audio_file(a->positional[i])) { /* a keyword spotter takes WAV files, only they */
            rc = !audio_model ? cli_error(a, 2, "%s: a WAV file, but the model's family is %s, not Audio_classify",
                                          a->positional[i], family[0] ? family : "not named")
                 : !audio_file(a->positional[i])
                     ? cli_error(a, 2, "%s: an Audio_classify model takes WAV files (CSV and JSON recordings are for "
                                 "sensor models)", a->positional[i])
                 : a->draw != NULL ? cli_error(a, 2, "--draw draws images; %s is a sound", a->positional[i])
                                   : infer_audio(a, cfg, ctx, q, a->positional[i], &po, classes, all);
            if (rc == 0) {
                task = "cls";
                continue;
            }
            json_decref(all);
            json_decref(classes);
            cli_grid_free(&g);
            goto done;
        }
        if (sensor_file(a->positional[i])) {
            if (a->draw != NULL) {
                rc = cli_error(a, 2, "--draw draws images; %s is a sensor file", a->positional[i]);
            } else if ((rc = infer_sensor(a, ctx, cfg, q, a->positional[i], &po, classes, all)) == 0) {
                task = "cls";
                continue;
            }
            json_decref(all);
            json_decref(classes);
            cli_grid_free(&g);
            goto done;
        }
        sscma_tensor *img = NULL;
        sscma_prediction r[MAX_RESULTS];
        int32_t n = 0;
        if (sscma_image_read(ctx, a->positional[i], 0, &img) != SSCMA_OK ||
            sscma_predict(q, img, &po, r, MAX_RESULTS, &n) != SSCMA_OK) {
            sscma_tensor_destroy(img);
            json_decref(all);
            json_decref(classes);
            cli_grid_free(&g);
            rc = cli_fail(a, a->positional[i]);
            goto done;
        }
        /* the post-processing sscma_predict chose (option, "family" metadata or the output's layout) */
        if (sscma_predict_task(q, &po, &task) != SSCMA_OK) {
            sscma_clear_error();
            task = a->task != NULL ? a->task : "";
        }
        const bool fomo = strcmp(task, "fomo") == 0, pfld = strcmp(task, "pfld") == 0,
                   yolo = strcmp(task, "yolo") == 0 || strcmp(task, "rtmdet") == 0, boxes = fomo || yolo;
        if (a->draw != NULL && !boxes && !pfld && strcmp(task, "cls") != 0) {
            sscma_tensor_destroy(img);
            json_decref(all);
            json_decref(classes);
            cli_grid_free(&g);
            rc = cli_error(a, 2, "--draw draws classes, FOMO, YOLO and RTMDet objects and PFLD keypoints; this model is a %s (%s)",
                           task, family[0] ? family : "recognised by its layout");
            goto done;
        }
        if (n > MAX_RESULTS)
            n = MAX_RESULTS;
        json_t *items = json_array();
        for (int32_t k = 0; k < n; k++) {
            const char *name = json_string_value(json_array_get(classes, (size_t)r[k].class_id));
            json_t *e;
            if (pfld)
                e = json_pack("{s:i, s:f, s:f}", "point", (int)r[k].class_id, "x", (double)r[k].x, "y",
                              (double)r[k].y);
            else
                e = json_pack("{s:i, s:s, s:f}", "class", (int)r[k].class_id, "name", name ? name : "", "score",
                              (double)r[k].score);
            if (boxes) {
                json_object_set_new(e, "x", json_real(r[k].x));
                json_object_set_new(e, "y", json_real(r[k].y));
                json_object_set_new(e, "w", json_real(r[k].w));
                json_object_set_new(e, "h", json_real(r[k].h));
            }
            json_array_append_new(items, e);
        }
        if (a->draw != NULL && cli_grid_add(&g, img, r, n, boxes ? CLI_DRAW_BOXES : pfld ? CLI_DRAW_POINTS : CLI_DRAW_LABEL, NULL) != 0) {
            sscma_tensor_destroy(img);
            json_decref(items);
            json_decref(all);
            json_decref(classes);
            cli_grid_free(&g);
            rc = cli_error(a, 1, "out of memory for the picture");
            goto done;
        }
        sscma_tensor_destroy(img);
        if (!a->json) {
            printf("%s:", a->positional[i]);
            if (n == 0)
                printf(" nothing found");
            printf("\n");
            for (int32_t k = 0; k < n; k++) {
                const char *name = json_string_value(json_array_get(classes, (size_t)r[k].class_id));
                if (pfld)
                    printf("  point %d: (%.1f, %.1f)\n", (int)r[k].class_id, (double)r[k].x, (double)r[k].y);
                else if (fomo)
                    printf("  %s (%d) %.3f at (%.1f, %.1f)\n", name ? name : "?", (int)r[k].class_id,
                           (double)r[k].score, (double)r[k].x, (double)r[k].y);
                else if (yolo)
                    printf("  %s (%d) %.3f at (%.1f, %.1f) size %.1f x %.1f\n", name ? name : "?",
                           (int)r[k].class_id, (double)r[k].score, (double)r[k].x, (double)r[k].y, (double)r[k].w,
                           (double)r[k].h);
                else
                    printf("  %s (%d) %.4f\n", name ? name : "?", (int)r[k].class_id, (double)r[k].score);
            }
        }
        json_array_append_new(all, json_pack("{s:s, s:o}", "image", a->positional[i],
                                             pfld ? "keypoints" : boxes ? "objects" : "classes", items));
    }
    json_decref(classes);
    if (a->draw != NULL) {
        int w = cli_grid_write(&g, a->draw, NULL);
        cli_grid_free(&g);
        if (w != 0) {
            cli_error(a, 1, "cannot write %s", a->draw);
            json_decref(all);
            goto done;
        }
    }
    if (a->json)
        cli_print_json(json_pack("{s:s, s:s, s:o}", "family", family, "task", task, "results", all));
    else
        json_decref(all);
    rc = 0;
done:
    sscma_qmodel_destroy(q);
    cli_close(runner, ctx, cfg);
    return rc;
}
