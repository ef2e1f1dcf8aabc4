/* Datasets: open by type, sample access, the whole-dataset check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "data/audio.h"
#include "data/data.h"

/*
 * mmengine's BaseDataset "indices": an integer keeps the first N samples (all when N exceeds the size), a list keeps
 * those samples in that order. `where` is the dataset's type.
 */
static sscma_status apply_indices(sscma_dataset *ds, json_t *indices, const char *where)
{
    ds->full_size = ds->size;
    if (indices == NULL || json_is_null(indices))
        return SSCMA_OK;
    int64_t n = 0;
    if (json_is_integer(indices) && json_integer_value(indices) >= 0)
        n = json_integer_value(indices) < ds->size ? (int64_t)json_integer_value(indices) : ds->size;
    else if (json_is_array(indices))
        n = (int64_t)json_array_size(indices);
    else
        return sscma_schema_expected(where, NULL, "indices", "a count >= 0 (the first N samples) or a list of sample "
                                     "indices", indices);
    if ((ds->subset = sscma_malloc(ds->ctx, (size_t)(n > 0 ? n : 1) * sizeof *ds->subset)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, where, "cannot allocate %lld indices", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        json_t *v = json_is_array(indices) ? json_array_get(indices, (size_t)i) : NULL;
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= ds->size)) {
            char at[64], expected[96];
            snprintf(expected, sizeof expected, "a sample index 0..%lld", (long long)ds->size - 1);
            return sscma_schema_expected(where, sscma_schema_index(at, sizeof at, "indices", (size_t)i), NULL,
                                         expected, v);
        }
        ds->subset[i] = v != NULL ? (int64_t)json_integer_value(v) : i;
    }
    ds->size = n;
    return SSCMA_OK;
}

/*
 * SSCMA's configs name datasets through OpenMMLab registries: "mmcls.CustomDataset", "mmdet.CocoDataset", and
 * SSCMA's own COCO subclasses. The scope prefix is dropped and the subclasses read as CocoDataset (they differ only
 * in the training-time targets, which the loader's "target" encoder makes).
 */
static const char *canonical_type(const char *type)
{
    static const char *const scopes[] = {"mmcls.", "mmpretrain.", "mmdet.", "mmyolo.", "mmpose.", "sscma.", NULL};
    for (int i = 0; scopes[i] != NULL; i++)
        if (strncmp(type, scopes[i], strlen(scopes[i])) == 0)
            type += strlen(scopes[i]);
    static const char *const coco[] = {"FomoDatasets", "CustomFomoCocoDataset", "CustomCocoDataset",
                                       "CustomYOLOv5CocoDataset", "YOLOv5CocoDataset", NULL};
    for (int i = 0; coco[i] != NULL; i++)
        if (strcmp(type, coco[i]) == 0)
            return "CocoDataset";
    return type;
}

#define KNOWN_TYPES "MNIST, FashionMNIST, CustomDataset, CocoDataset, YoloDataset, VOCDataset, MeterData, SensorDataset, Speechcommand"

/* The keys every dataset type takes (each format's table lists them as known keys and leaves them to this one). */
typedef struct shared_cfg {
    const char *type;
    int64_t max_pixels;
    json_t *indices;
    int on_defect;
} shared_cfg;

static const char *const on_defect_names[] = {"fail", "skip", NULL};

static const sscma_field shared_fields[] = {
    SSCMA_FIELD_STRING(shared_cfg, type, NULL),
    SSCMA_FIELD_RANGE(shared_cfg, max_pixels, (double)SSCMA_DEFAULT_MAX_PIXELS, 1, INFINITY),
    SSCMA_FIELD_JSON_AS("indices", shared_cfg, indices),
    SSCMA_FIELD_ENUM_AS("on_defect", shared_cfg, on_defect, 0, on_defect_names, 0),
    SSCMA_FIELD_END,
};

sscma_status sscma_dataset_vdefect(sscma_dataset *ds, sscma_status status, const char *file, const char *fmt,
                                   va_list args)
{
    if (!ds->skip_defects)
        return sscma_vfail(status, file, fmt, args);
    char line[1024];
    int n = snprintf(line, sizeof line, "%s: ", file);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, args);
    size_t len = strlen(line);
    char *grown = sscma_mrealloc(ds->ctx, ds->defects, ds->defects_len + len + 2);
    if (grown == NULL) /* the defect cannot be listed: it fails the open after all */
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, file, "cannot list a defect: %s", line);
    memcpy(grown + ds->defects_len, line, len);
    grown[ds->defects_len + len] = '\n';
    grown[ds->defects_len + len + 1] = '\0';
    ds->defects = grown, ds->defects_len += len + 1, ds->n_defects++;
    return SSCMA_OK;
}

sscma_status sscma_dataset_defect(sscma_dataset *ds, sscma_status status, const char *file, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    sscma_status st = sscma_dataset_vdefect(ds, status, file, fmt, args);
    va_end(args);
    return st;
}

/* "type", then max_pixels and indices with the type as `where` (the format readers check the other keys). */
static sscma_status read_shared(json_t *config, shared_cfg *out)
{
    sscma_schema_defaults(shared_fields, out);
    if (!json_is_object(config))
        return sscma_schema_expected("dataset", NULL, NULL, "an object with a \"type\"", config);
    json_t *type = json_object_get(config, "type");
    if (!json_is_string(type))
        return sscma_schema_expected("dataset", NULL, "type", "a dataset type (" KNOWN_TYPES ")", type);
    json_t *shared = json_object();
    if (shared == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "dataset", "cannot read the config");
    for (const sscma_field *f = shared_fields; f->name != NULL; f++)
        if (json_object_get(config, f->name) != NULL)
            json_object_set(shared, f->name, json_object_get(config, f->name));
    sscma_status st = sscma_schema_read(shared_fields, shared, canonical_type(json_string_value(type)), NULL, out);
    json_decref(shared);
    /* borrowed from `shared`, which held references: point them at config's own values */
    out->type = json_string_value(type);
    out->indices = json_object_get(config, "indices");
    return st;
}

sscma_status sscma_dataset_open(sscma_context *ctx, const char *config_json, sscma_dataset **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(config_json);
    SSCMA_REQUIRE_NONNULL(out);
    json_error_t err;
    json_t *config = json_loads(config_json, 0, &err);
    if (config == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "dataset config: line %d, column %d: %s", err.line, err.column, err.text);
    sscma_dataset *ds = sscma_calloc(ctx, 1, sizeof *ds);
    if (ds == NULL) {
        json_decref(config);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate a dataset");
    }
    ds->ctx = ctx;
    sscma_context_retain(ctx);
    shared_cfg shared;
    sscma_status st = read_shared(config, &shared);
    const char *type = st == SSCMA_OK ? canonical_type(shared.type) : "dataset";
    if (st == SSCMA_OK) {
        ds->max_pixels = shared.max_pixels;
        ds->skip_defects = shared.on_defect == 1;
        snprintf(ds->type, sizeof ds->type, "%s", type);
        if (strcmp(type, "MNIST") == 0 || strcmp(type, "FashionMNIST") == 0)
            st = sscma_idx_open(ds, config);
        else if (strcmp(type, "CustomDataset") == 0)
            st = sscma_folder_open(ds, config);
        else if (strcmp(type, "CocoDataset") == 0)
            st = sscma_coco_open(ds, config);
        else if (strcmp(type, "YoloDataset") == 0)
            st = sscma_yolo_open(ds, config);
        else if (strcmp(type, "VOCDataset") == 0)
            st = sscma_voc_open(ds, config);
        else if (strcmp(type, "MeterData") == 0)
            st = sscma_meter_open(ds, config);
        else if (strcmp(type, "SensorDataset") == 0)
            st = sscma_sensor_open(ds, config);
        else if (strcmp(type, "Speechcommand") == 0)
            st = sscma_audio_open(ds, config);
        else
            st = sscma_schema_expected("dataset", NULL, "type", "one of: " KNOWN_TYPES,
                                       json_object_get(config, "type"));
    }
    if (st == SSCMA_OK)
        st = apply_indices(ds, shared.indices, type);
    if (st == SSCMA_OK && ds->n_defects > 0)
        sscma_logf(ctx, SSCMA_LOG_WARNING, "%s: %lld defect%s listed (on_defect \"skip\": a record with one is left "
                   "out; sscma dataset check prints them)", type, (long long)ds->n_defects,
                   ds->n_defects == 1 ? "" : "s");
    json_decref(config);
    if (st != SSCMA_OK) {
        char detail[800];
        snprintf(detail, sizeof detail, "%s", sscma_last_error());
        sscma_dataset_destroy(ds);
        return SSCMA_FAIL(st, "%s", detail);
    }
    *out = ds;
    return SSCMA_OK;
}

void sscma_dataset_destroy(sscma_dataset *ds)
{
    if (ds == NULL)
        return;
    for (int32_t i = 0; ds->class_names != NULL && i < ds->n_classes; i++)
        sscma_mfree(ds->ctx, ds->class_names[i]);
    sscma_mfree(ds->ctx, ds->class_names);
    for (int64_t i = 0; ds->paths != NULL && i < (ds->subset != NULL ? ds->full_size : ds->size); i++)
        sscma_mfree(ds->ctx, ds->paths[i]);
    sscma_mfree(ds->ctx, ds->subset);
    sscma_mfree(ds->ctx, ds->img_size);
    sscma_mfree(ds->ctx, ds->ann_start);
    sscma_mfree(ds->ctx, ds->boxes);
    sscma_mfree(ds->ctx, ds->box_labels);
    sscma_mfree(ds->ctx, ds->keypoints);
    sscma_mfree(ds->ctx, ds->windows);
    sscma_audio_set_free(ds);
    sscma_mfree(ds->ctx, ds->paths);
    sscma_mfree(ds->ctx, ds->labels);
    sscma_mfree(ds->ctx, ds->idx_images);
    sscma_mfree(ds->ctx, ds->idx_labels);
    sscma_mfree(ds->ctx, ds->report);
    sscma_mfree(ds->ctx, ds->defects);
    const sscma_context *ctx = ds->ctx;
    sscma_mfree(ctx, ds);
    sscma_context_release(ctx);
}

sscma_status sscma_dataset_size(const sscma_dataset *dataset, int64_t *out)
{
    SSCMA_REQUIRE_NONNULL(dataset);
    SSCMA_REQUIRE_NONNULL(out);
    *out = dataset->size;
    return SSCMA_OK;
}

sscma_status sscma_dataset_num_classes(const sscma_dataset *dataset, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(dataset);
    SSCMA_REQUIRE_NONNULL(out);
    *out = dataset->n_classes;
    return SSCMA_OK;
}

sscma_status sscma_dataset_class_name(const sscma_dataset *dataset, int32_t index, const char **out)
{
    SSCMA_REQUIRE_NONNULL(dataset);
    SSCMA_REQUIRE_NONNULL(out);
    if (index < 0 || index >= dataset->n_classes)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "class %d is outside 0..%d", (int)index,
                          (int)dataset->n_classes - 1);
    *out = dataset->class_names[index];
    return SSCMA_OK;
}

sscma_status sscma_dataset_read(const sscma_dataset *ds, int64_t index, uint8_t **pixels, bool *borrowed,
                                int64_t *h, int64_t *w, int64_t *c, int32_t *label)
{
    if (index < 0 || index >= ds->size)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "dataset", "sample %lld is outside 0..%lld", (long long)index,
                          (long long)ds->size - 1);
    if (ds->kind == DATASET_WINDOWS)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, ds->type, "sample %lld is a window of %lld x %lld floats, not an "
                          "image", (long long)index, (long long)ds->window_channels, (long long)ds->window_len);
    if (ds->subset != NULL)
        index = ds->subset[index];
    if (ds->kind == DATASET_IDX) {
        *pixels = ds->idx_images + index * ds->rows * ds->cols;
        *borrowed = true;
        *h = ds->rows, *w = ds->cols, *c = 1;
        *label = ds->idx_labels[index];
        return SSCMA_OK;
    }
    *borrowed = false;
    *label = ds->labels != NULL ? ds->labels[index] : -1;
    return sscma_image_decode(ds->ctx, ds->paths[index], ds->max_pixels, 0, pixels, h, w, c);
}

sscma_status sscma_dataset_keypoints(const sscma_dataset *ds, int64_t index, int32_t *count, float **xy)
{
    *count = 0, *xy = NULL;
    if (ds->kind != DATASET_METER)
        return SSCMA_OK;
    if (ds->subset != NULL)
        index = ds->subset[index];
    const size_t n = (size_t)ds->n_keypoints * 2;
    if ((*xy = sscma_malloc(ds->ctx, n * sizeof **xy)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "dataset", "cannot copy %d keypoints", (int)ds->n_keypoints);
    memcpy(*xy, ds->keypoints + (size_t)index * n, n * sizeof **xy);
    *count = ds->n_keypoints;
    return SSCMA_OK;
}

sscma_status sscma_dataset_boxes(const sscma_dataset *ds, int64_t index, int64_t w, int64_t h, int32_t *count,
                                 float **boxes, int32_t **labels)
{
    *count = 0, *boxes = NULL, *labels = NULL;
    if (ds->kind != DATASET_BOXES)
        return SSCMA_OK;
    if (ds->subset != NULL)
        index = ds->subset[index];
    const int64_t first = ds->ann_start[index], n = ds->ann_start[index + 1] - first;
    if (n == 0)
        return SSCMA_OK;
    *boxes = sscma_malloc(ds->ctx, (size_t)n * 4 * sizeof **boxes);
    *labels = sscma_malloc(ds->ctx, (size_t)n * sizeof **labels);
    if (*boxes == NULL || *labels == NULL) {
        sscma_mfree(ds->ctx, *boxes), sscma_mfree(ds->ctx, *labels);
        *boxes = NULL, *labels = NULL;
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "dataset", "cannot copy %lld boxes", (long long)n);
    }
    const float sx = (float)w / (float)ds->img_size[2 * index], sy = (float)h / (float)ds->img_size[2 * index + 1];
    for (int64_t k = 0; k < n; k++) {
        const float *b = ds->boxes + 4 * (first + k);
        (*boxes)[4 * k] = b[0] * sx, (*boxes)[4 * k + 1] = b[1] * sy;
        (*boxes)[4 * k + 2] = b[2] * sx, (*boxes)[4 * k + 3] = b[3] * sy;
        (*labels)[k] = ds->box_labels[first + k];
    }
    *count = (int32_t)n;
    return SSCMA_OK;
}

/* A window as a sample: its floats channel-major, viewed as f32 [channels, length]; no pixels, boxes or keypoints. */
static sscma_status get_window(const sscma_dataset *ds, int64_t index, sscma_sample **out)
{
    const int64_t C = ds->window_channels, L = ds->window_len;
    sscma_sample *s = sscma_calloc(ds->ctx, 1, sizeof *s);
    float *w = sscma_malloc(ds->ctx, (size_t)(C * L) * sizeof *w);
    if (s == NULL || w == NULL) {
        sscma_mfree(ds->ctx, s), sscma_mfree(ds->ctx, w);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate sample %lld", (long long)index);
    }
    s->ctx = ds->ctx;
    sscma_context_retain(s->ctx);
    s->window = w;
    int32_t label = -1;
    sscma_status st = SSCMA_OK;
    if (index < 0 || index >= ds->size)
        st = SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "sample %lld is outside 0..%lld", (long long)index,
                        (long long)ds->size - 1);
    else if (ds->audio != NULL) /* one channel: the loader's order */
        st = sscma_dataset_window(ds, index, w, &label);
    else { /* channel-major whatever the loader's order */
        const int64_t k = ds->subset != NULL ? ds->subset[index] : index;
        memcpy(w, ds->windows + k * C * L, (size_t)(C * L) * sizeof *w);
        label = ds->labels[k];
    }
    s->label = label;
    const int64_t dims[2] = {C, L};
    if (st == SSCMA_OK)
        st = sscma_tensor_wrap(ds->ctx, SSCMA_DTYPE_F32, 2, dims, w, (size_t)(C * L) * sizeof *w, &s->view);
    if (st != SSCMA_OK) {
        sscma_sample_destroy(s);
        return st;
    }
    *out = s;
    return SSCMA_OK;
}

sscma_status sscma_dataset_get(const sscma_dataset *dataset, int64_t index, sscma_sample **out)
{
    SSCMA_REQUIRE_NONNULL(dataset);
    SSCMA_REQUIRE_NONNULL(out);
    if (dataset->kind == DATASET_WINDOWS)
        return get_window(dataset, index, out);
    uint8_t *pixels = NULL;
    bool borrowed = false;
    int64_t h = 0, w = 0, c = 0;
    int32_t label = -1;
    sscma_status st = sscma_dataset_read(dataset, index, &pixels, &borrowed, &h, &w, &c, &label);
    if (st != SSCMA_OK)
        return st;
    sscma_sample *s = sscma_calloc(dataset->ctx, 1, sizeof *s);
    uint8_t *own = borrowed ? sscma_malloc(dataset->ctx, (size_t)(h * w * c)) : pixels;
    if (s == NULL || own == NULL) {
        sscma_mfree(dataset->ctx, s);
        if (!borrowed)
            sscma_mfree(dataset->ctx, pixels);
        else
            sscma_mfree(dataset->ctx, own);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate sample %lld", (long long)index);
    }
    if (borrowed)
        memcpy(own, pixels, (size_t)(h * w * c));
    s->ctx = dataset->ctx;
    sscma_context_retain(s->ctx);
    s->pixels = own;
    s->h = h, s->w = w, s->c = c;
    s->label = label;
    const int64_t dims[3] = {h, w, c};
    st = sscma_dataset_boxes(dataset, index, w, h, &s->n_boxes, &s->boxes, &s->box_labels);
    if (st == SSCMA_OK)
        st = sscma_dataset_keypoints(dataset, index, &s->n_keypoints, &s->keypoints);
    if (st == SSCMA_OK)
        st = sscma_tensor_wrap(dataset->ctx, SSCMA_DTYPE_U8, 3, dims, own, (size_t)(h * w * c), &s->view);
    if (st != SSCMA_OK) {
        sscma_sample_destroy(s);
        return st;
    }
    *out = s;
    return SSCMA_OK;
}

void sscma_sample_destroy(sscma_sample *sample)
{
    if (sample == NULL)
        return;
    sscma_tensor_destroy(sample->view);
    sscma_mfree(sample->ctx, sample->pixels);
    sscma_mfree(sample->ctx, sample->boxes);
    sscma_mfree(sample->ctx, sample->box_labels);
    sscma_mfree(sample->ctx, sample->keypoints);
    sscma_mfree(sample->ctx, sample->window);
    const sscma_context *ctx = sample->ctx;
    sscma_mfree(ctx, sample);
    sscma_context_release(ctx);
}

sscma_status sscma_sample_image(const sscma_sample *sample, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(sample);
    SSCMA_REQUIRE_NONNULL(out);
    *out = sample->view;
    return SSCMA_OK;
}

sscma_status sscma_sample_label(const sscma_sample *sample, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(sample);
    SSCMA_REQUIRE_NONNULL(out);
    *out = sample->label;
    return SSCMA_OK;
}

sscma_status sscma_sample_boxes(const sscma_sample *sample, int32_t *count, const float **boxes,
                                const int32_t **labels)
{
    SSCMA_REQUIRE_NONNULL(sample);
    SSCMA_REQUIRE_NONNULL(count);
    *count = sample->n_boxes;
    if (boxes != NULL)
        *boxes = sample->boxes;
    if (labels != NULL)
        *labels = sample->box_labels;
    return SSCMA_OK;
}

sscma_status sscma_sample_keypoints(const sscma_sample *sample, int32_t *count, const float **xy)
{
    SSCMA_REQUIRE_NONNULL(sample);
    SSCMA_REQUIRE_NONNULL(count);
    *count = sample->n_keypoints;
    if (xy != NULL)
        *xy = sample->keypoints;
    return SSCMA_OK;
}

sscma_status sscma_dataset_check(sscma_dataset *dataset, int64_t *problems, const char **report)
{
    SSCMA_REQUIRE_NONNULL(dataset);
    /* first the defects the open left out (on_defect "skip"), then what decoding every sample finds */
    size_t cap = 4096 + dataset->defects_len, len = dataset->defects_len;
    char *text = sscma_malloc(dataset->ctx, cap);
    if (text == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the report");
    if (len > 0)
        memcpy(text, dataset->defects, len);
    text[len] = '\0';
    int64_t count = dataset->n_defects;
    int64_t *per_class = sscma_calloc(dataset->ctx, (size_t)(dataset->n_classes > 0 ? dataset->n_classes : 1), sizeof *per_class);
    if (per_class == NULL) {
        sscma_mfree(dataset->ctx, text);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the report");
    }
    for (int64_t i = 0; i <= dataset->size; i++) {
        char line[1024] = "";
        if (i < dataset->size) {
            uint8_t *pixels = NULL;
            bool borrowed = false;
            int64_t h = 0, w = 0, c = 0;
            int32_t label = -1;
            sscma_clear_error();
            if (dataset->kind == DATASET_WINDOWS) { /* read and checked when opened */
                int64_t k = dataset->subset != NULL ? dataset->subset[i] : i;
                if (dataset->labels[k] >= 0 && dataset->labels[k] < dataset->n_classes)
                    per_class[dataset->labels[k]]++;
                continue;
            }
            if (sscma_dataset_read(dataset, i, &pixels, &borrowed, &h, &w, &c, &label) != SSCMA_OK)
                snprintf(line, sizeof line, "sample %lld: %s", (long long)i, sscma_last_error());
            else if (label >= 0 && label < dataset->n_classes)
                per_class[label]++;
            else if (dataset->kind == DATASET_METER && dataset->n_classes > 0)
                per_class[0]++; /* every sample shows the one class (the meter) */
            else if (dataset->kind == DATASET_BOXES) {
                int64_t k = dataset->subset != NULL ? dataset->subset[i] : i;
                for (int64_t b = dataset->ann_start[k]; b < dataset->ann_start[k + 1]; b++)
                    per_class[dataset->box_labels[b]]++;
                if (w != dataset->img_size[2 * k] || h != dataset->img_size[2 * k + 1])
                    snprintf(line, sizeof line, "sample %lld: %s is %lld x %lld pixels, the annotations say %d x %d "
                             "(boxes are scaled)", (long long)i, dataset->paths[k], (long long)w, (long long)h,
                             (int)dataset->img_size[2 * k], (int)dataset->img_size[2 * k + 1]);
            }
            if (!borrowed)
                sscma_mfree(dataset->ctx, pixels);
        } else {
            /* after the walk: classes without samples */
            size_t n = 0;
            for (int32_t k = 0; k < dataset->n_classes && n < sizeof line; k++)
                if (per_class[k] == 0)
                    n += (size_t)snprintf(line + n, sizeof line - n, "%sclass %d (%s) has no sample", n ? "; " : "",
                                          (int)k, dataset->class_names[k]);
        }
        if (line[0] == '\0')
            continue;
        count++;
        size_t need = len + strlen(line) + 2;
        if (need > cap) {
            while (cap < need)
                cap *= 2;
            char *grown = sscma_mrealloc(dataset->ctx, text, cap);
            if (grown == NULL) {
                sscma_mfree(dataset->ctx, text);
                sscma_mfree(dataset->ctx, per_class);
                return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot grow the report");
            }
            text = grown;
        }
        len += (size_t)snprintf(text + len, cap - len, "%s\n", line);
    }
    sscma_mfree(dataset->ctx, per_class);
    sscma_mfree(dataset->ctx, dataset->report);
    dataset->report = text;
    if (problems != NULL)
        *problems = count;
    if (report != NULL)
        *report = text;
    return SSCMA_OK;
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, surrogates or code points above
 * U+10FFFF, as jansson checks), 0 when the byte there starts none. */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80, hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    for (size_t k = 1; k < n; k++) {
        if (s[k] < (k == 1 ? lo : 0x80) || s[k] > (k == 1 ? hi : 0xbf))
            return 0;
    }
    return n;
}

/* Whether name is valid UTF-8; if not, writes it to esc (size bytes) with every byte that is not part of a valid
 * sequence, and every control character, as \xNN. */
bool sscma_utf8_or_escape(const char *name, char *esc, size_t size)
{
    const unsigned char *s = (const unsigned char *)name;
    bool valid = true;
    size_t n = 0;
    for (size_t i = 0; s[i] != '\0';) {
        size_t len = utf8_sequence(s + i);
        valid = valid && len > 0;
        if (len == 0 || s[i] < 0x20 || s[i] == 0x7f) {
            if (n + 5 < size)
                n += (size_t)snprintf(esc + n, size - n, "\\x%02x", s[i]);
            i++;
        } else {
            for (size_t k = 0; k < len; k++, i++)
                if (n + 1 < size)
                    esc[n++] = (char)s[i];
        }
    }
    if (size > 0)
        esc[n < size ? n : size - 1] = '\0';
    return valid;
}
