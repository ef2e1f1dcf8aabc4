/*
 * MeterData (SSCMA's PFLD datasets): a text index, one sample per line, "image x1 y1 x2 y2 ..." with the image path
 * relative to data_root and the keypoints in pixels. Every line must have the same number of points. Defects name
 * the file and the line: a missing path, an odd or non-numeric coordinate list, a point count that differs from the
 * first line's, a missing image file, an empty index.
 *
 * Without an index file (no "index_file" and no data_root/annotations.txt) the samples are labelme JSON files, every
 * *.json below data_root (sorted): "imagePath" relative to the JSON file, and the keypoints are the first point of
 * each "shapes" entry of shape_type "point", in file order. Defects name the JSON file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/schema.h"
#include "data/data.h"

/*
 * Appends a sample (its image path, copied, and n points) to the dataset, checking the point count; a defect is the
 * open's error, or with on_defect "skip" listed and the sample left out (SSCMA_OK, *added false).
 */
static sscma_status add_sample(sscma_dataset *ds, const char *where, const char *image, const float *xy, int32_t n,
                               int64_t *cap, bool *added)
{
    *added = false;
    if (ds->size > 0 && n != ds->n_keypoints)
        return sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, where, "%d points, but the first sample has %d", (int)n,
                                    (int)ds->n_keypoints);
    if (access(image, R_OK) != 0)
        return sscma_dataset_defect(ds, SSCMA_ERR_IO, where, "image file %s is missing", image);
    if (ds->size == 0)
        ds->n_keypoints = n;
    if (ds->size == *cap) {
        int64_t grown = *cap ? 2 * *cap : 256;
        char **paths = sscma_mrealloc(ds->ctx, ds->paths, (size_t)grown * sizeof *paths);
        if (paths != NULL)
            ds->paths = paths;
        float *kp = sscma_mrealloc(ds->ctx, ds->keypoints, (size_t)(grown * 2 * n) * sizeof *kp);
        if (kp != NULL)
            ds->keypoints = kp;
        if (paths == NULL || kp == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, where, "cannot list %lld samples", (long long)grown);
        *cap = grown;
    }
    char *copy = sscma_malloc(ds->ctx, strlen(image) + 1);
    if (copy == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, where, "cannot copy a path");
    strcpy(copy, image);
    ds->paths[ds->size] = copy;
    memcpy(ds->keypoints + ds->size * 2 * n, xy, (size_t)(2 * n) * sizeof *xy);
    ds->size++;
    *added = true;
    return SSCMA_OK;
}

static sscma_status open_labelme(sscma_dataset *ds, const char *root)
{
    sscma_strlist files = {.ctx = ds->ctx};
    sscma_status st = sscma_scan_files(root, ".json", &files, 0);
    if (st == SSCMA_OK && files.count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, root, "neither annotations.txt nor labelme .json files: an empty dataset");
    int64_t cap = 0;
    float xy[512];
    for (int64_t i = 0; st == SSCMA_OK && i < files.count; i++) {
        const char *file = files.items[i];
        json_error_t err;
        FILE *jf = NULL;
        if ((st = sscma_open_regular(file, &jf)) != SSCMA_OK) /* a FIFO named x.json: refused */
            break;
        json_t *doc = json_loadf(jf, 0, &err);
        fclose(jf);
        if (doc == NULL) { /* a defect of this file: with on_defect "skip" listed and the file left out */
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, file, "line %d, column %d: %s", err.line, err.column,
                                      err.text);
            continue;
        }
        const char *image = json_string_value(json_object_get(doc, "imagePath"));
        json_t *shapes = json_object_get(doc, "shapes");
        int32_t n = 0;
        bool bad = false;
        if (image == NULL || !json_is_array(shapes)) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, file, "a labelme file needs \"imagePath\" and a \"shapes\" "
                                      "list");
            bad = true;
        }
        size_t k;
        json_t *shape;
        json_array_foreach(shapes, k, shape)
        {
            if (st != SSCMA_OK || bad)
                break;
            const char *kind = json_string_value(json_object_get(shape, "shape_type"));
            if (kind != NULL && strcmp(kind, "point") != 0)
                continue;
            json_t *pt = json_array_get(json_object_get(shape, "points"), 0);
            if (!json_is_number(json_array_get(pt, 0)) || !json_is_number(json_array_get(pt, 1)))
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, file, "shapes[%zu]: \"points\" must hold [x, y]", k),
                bad = true;
            else if (n >= 256)
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, file, "more than 256 points"), bad = true;
            else {
                xy[2 * n] = (float)json_number_value(json_array_get(pt, 0));
                xy[2 * n + 1] = (float)json_number_value(json_array_get(pt, 1));
                n++;
            }
        }
        if (st == SSCMA_OK && !bad && n == 0)
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, file, "no point shape"), bad = true;
        if (st == SSCMA_OK && !bad) {
            char path[8200], dir[4096];
            snprintf(dir, sizeof dir, "%s", file);
            char *slash = strrchr(dir, '/');
            if (slash != NULL)
                *slash = '\0';
            snprintf(path, sizeof path, "%s/%s", image[0] == '/' ? "" : dir, image);
            bool added;
            st = add_sample(ds, file, image[0] == '/' ? image : path, xy, n, &cap, &added);
        }
        json_decref(doc);
    }
    sscma_strlist_free(&files);
    return st;
}

/* The one class of a keypoint set ("meter", as SSCMA's MeterData), after a successful read. */
static sscma_status finish(sscma_dataset *ds, const char *where, sscma_status st)
{
    ds->kind = DATASET_METER;
    if (st != SSCMA_OK)
        return st;
    ds->n_classes = 1;
    ds->class_names = sscma_calloc(ds->ctx, 1, sizeof *ds->class_names);
    if (ds->class_names == NULL || (ds->class_names[0] = sscma_malloc(ds->ctx, 6)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, where, "cannot name the class");
    strcpy(ds->class_names[0], "meter");
    return SSCMA_OK;
}

typedef struct meter_cfg {
    const char *data_root, *index_file;
} meter_cfg;

/* max_pixels and indices are read by dataset.c for every format; SSCMA's pipeline, format and test_mode are
 * accepted and not used */
static const sscma_field meter_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_STRING(meter_cfg, data_root, NULL),
    SSCMA_FIELD_STRING(meter_cfg, index_file, NULL),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD_KEY("pipeline"),
    SSCMA_FIELD_KEY("format"),
    SSCMA_FIELD_KEY("test_mode"),
    SSCMA_FIELD_END,
};

sscma_status sscma_meter_open(sscma_dataset *ds, json_t *config)
{
    meter_cfg cfg;
    if (sscma_schema_read(meter_fields, config, "MeterData", NULL, &cfg) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    const char *root = cfg.data_root, *index = cfg.index_file;
    if (root == NULL)
        return sscma_schema_expected("MeterData", NULL, "data_root", "the dataset folder", NULL);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, index != NULL ? index : "annotations.txt");
    FILE *f = NULL;
    sscma_status st = SSCMA_OK;
    struct stat sb;
    if (index == NULL && stat(path, &sb) != 0 && errno == ENOENT && access(root, R_OK) == 0)
        return finish(ds, root, open_labelme(ds, root)); /* no annotations.txt: labelme files */
    if (sscma_open_regular_as(path, "the index", &f) != SSCMA_OK) /* a FIFO is refused, not waited on */
        return SSCMA_ERR_IO;
    char line[8192];
    int64_t cap = 0, lineno = 0;
    float *coords = sscma_malloc(ds->ctx, sizeof(float) * 512);
    while (st == SSCMA_OK && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %lld: longer than %zu characters", (long long)lineno,
                            sizeof line - 2);
            break;
        }
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        if (tok == NULL)
            continue; /* blank line */
        const char *image = tok;
        /* a defect of one line: the open's error, or with on_defect "skip" listed and the line left out */
        int32_t n = 0;
        bool bad = false;
        while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            char *end = NULL;
            double v = strtod(tok, &end);
            if (end == tok || *end != '\0' || !isfinite(v)) {
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "line %lld: '%s' is not a coordinate",
                                          (long long)lineno, tok);
                bad = true;
                break;
            }
            if (coords == NULL || n >= 512) {
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "line %lld: more than 256 points",
                                          (long long)lineno);
                bad = true;
                break;
            }
            coords[n++] = (float)v;
        }
        if (bad)
            continue;
        if (n == 0 || n % 2 != 0) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "line %lld: %d coordinates after the image name: "
                                      "expected x y pairs", (long long)lineno, (int)n);
            continue;
        }
        size_t plen = strlen(root) + strlen(image) + 2;
        char *full = sscma_malloc(ds->ctx, plen), where[4200];
        if (full == NULL) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot copy a path");
            break;
        }
        snprintf(full, plen, "%s/%s", root, image);
        snprintf(where, sizeof where, "%s: line %lld", path, (long long)lineno); /* the index file and the line */
        bool added;
        st = add_sample(ds, where, full, coords, n / 2, &cap, &added);
        sscma_mfree(ds->ctx, full);
    }
    fclose(f);
    sscma_mfree(ds->ctx, coords);
    if (st == SSCMA_OK && ds->size == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "no sample: an empty index");
    return finish(ds, path, st);
}
