/*
 * MeterData (SSCMA's PFLD datasets): a text index, one sample per line, "image x1 y1 x2 y2 ..." with the image path
 * relative to data_root and the keypoints in pixels. Every line must have the same number of points. Defects name
 * the file and the line: a missing path, an odd or non-numeric coordinate list, a point count that differs from the
 * first line's, a missing image file, an empty index.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "data/data.h"

sscma_status sscma_meter_open(sscma_dataset *ds, json_t *config)
{
    static const char *const keys[] = {"type", "data_root", "index_file", "max_pixels", "indices", "pipeline",
                                       "format", "test_mode", NULL};
    char list[200];
    const char *key = sscma_config_unknown_key(config, keys, list, sizeof list);
    if (key != NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, "dataset", "unknown key '%s' for MeterData; valid keys: %s", key, list);
    const char *root = json_string_value(json_object_get(config, "data_root"));
    const char *index = json_string_value(json_object_get(config, "index_file"));
    if (root == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, "dataset", "MeterData needs \"data_root\"");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, index != NULL ? index : "annotations.txt");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sscma_fail(SSCMA_ERR_IO, path, "cannot open the index: %s", strerror(errno));
    sscma_status st = SSCMA_OK;
    char line[8192];
    int64_t cap = 0, lineno = 0;
    float *coords = malloc(sizeof(float) * 512);
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
        int32_t n = 0;
        while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            char *end = NULL;
            double v = strtod(tok, &end);
            if (end == tok || *end != '\0' || !isfinite(v)) {
                st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %lld: '%s' is not a coordinate", (long long)lineno, tok);
                break;
            }
            if (coords == NULL || n >= 512) {
                st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %lld: more than 256 points", (long long)lineno);
                break;
            }
            coords[n++] = (float)v;
        }
        if (st != SSCMA_OK)
            break;
        if (n == 0 || n % 2 != 0) {
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %lld: %d coordinates after the image name: expected x y "
                            "pairs", (long long)lineno, (int)n);
            break;
        }
        if (ds->size == 0)
            ds->n_keypoints = n / 2;
        else if (n / 2 != ds->n_keypoints) {
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %lld: %d points, but the first line has %d", (long long)lineno,
                            (int)(n / 2), (int)ds->n_keypoints);
            break;
        }
        if (ds->size == cap) {
            int64_t grown = cap ? 2 * cap : 256;
            char **paths = realloc(ds->paths, (size_t)grown * sizeof *paths);
            if (paths != NULL)
                ds->paths = paths;
            float *kp = realloc(ds->keypoints, (size_t)(grown * n) * sizeof *kp);
            if (kp != NULL)
                ds->keypoints = kp;
            if (paths == NULL || kp == NULL) {
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot list %lld samples", (long long)grown);
                break;
            }
            cap = grown;
        }
        size_t plen = strlen(root) + strlen(image) + 2;
        char *full = malloc(plen);
        if (full == NULL) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot copy a path");
            break;
        }
        snprintf(full, plen, "%s/%s", root, image);
        if (access(full, R_OK) != 0) {
            st = sscma_fail(SSCMA_ERR_IO, path, "line %lld: image file %s is missing", (long long)lineno, full);
            free(full);
            break;
        }
        ds->paths[ds->size] = full;
        memcpy(ds->keypoints + ds->size * n, coords, (size_t)n * sizeof *coords);
        ds->size++;
    }
    fclose(f);
    free(coords);
    if (st == SSCMA_OK && ds->size == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "no sample: an empty index");
    if (st == SSCMA_OK) {
        ds->n_classes = 1;
        ds->class_names = calloc(1, sizeof *ds->class_names);
        if (ds->class_names == NULL || (ds->class_names[0] = malloc(6)) == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot name the class");
        else
            strcpy(ds->class_names[0], "meter");
    }
    ds->kind = DATASET_METER;
    return st;
}
