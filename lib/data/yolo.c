/*
 * YoloDataset: images under data_root/<img prefix> and, for each, a text file with the same relative path and stem
 * under data_root/<label prefix> (Roboflow's YOLO export: train/images/x.jpg + train/labels/x.txt), one box per line
 * "class cx cy w h" normalised to [0, 1]. An image without a label file has no boxes; a label file without an image is
 * an error. Class names come from "classes", else a names file (one per line), else data.yaml's "names" (a flow list
 * [a, b], a block list of "- a" lines, or "0: a" lines; "nc" must agree). Image sizes are read from the image headers
 * at open. Defects name the file and the line; coordinates outside [0, 1] are clipped and counted (strict: an error).
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>

#include "core/file.h"
#include "core/schema.h"
#include "data/data.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) { /* a quoted scalar */
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* data.yaml's names (and nc): just the subset of YAML that Roboflow and Ultralytics write. */
static sscma_status read_yaml_names(const char *path, sscma_strlist *names)
{
    FILE *f = NULL;
    if (sscma_open_regular_as(path, "the class names file (else give \"classes\" or \"names_file\")", &f) != SSCMA_OK)
        return SSCMA_ERR_IO;
    char line[4096], flow[16384] = "";
    long nc = -1;
    int mode = 0; /* 0 before names, 1 in a block list or map, 2 collecting a flow list */
    sscma_status st = SSCMA_OK;
    int lineno = 0;
    while (st == SSCMA_OK && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL && mode != 2)
            *hash = '\0';
        bool indented = line[0] == ' ' || line[0] == '\t';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        if (mode == 2) {
            strncat(flow, s, sizeof flow - strlen(flow) - 1);
            if (strchr(s, ']') != NULL)
                mode = 3;
            continue;
        }
        if (!indented && strncmp(s, "nc:", 3) == 0) {
            nc = strtol(s + 3, NULL, 10);
            mode = mode == 1 ? 3 : mode;
            continue;
        }
        if (!indented && strncmp(s, "names:", 6) == 0) {
            char *rest = trim(s + 6);
            if (*rest == '[') {
                snprintf(flow, sizeof flow, "%s", rest);
                mode = strchr(rest, ']') != NULL ? 3 : 2;
            } else {
                mode = 1;
            }
            continue;
        }
        if (mode == 1 && indented) {
            char *item = s;
            if (*item == '-')
                item = trim(item + 1);
            else if (isdigit((unsigned char)*item) && strchr(item, ':') != NULL)
                item = trim(strchr(item, ':') + 1);
            else {
                st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %d: expected \"- name\" or \"N: name\" under names:",
                                lineno);
                break;
            }
            if (!sscma_strlist_push(names, item))
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot copy a name");
        } else if (mode == 1) {
            mode = 3;
        }
    }
    fclose(f);
    if (st == SSCMA_OK && flow[0] == '[') {
        char *end = strrchr(flow, ']');
        if (end == NULL)
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "names: the list [...] is not closed");
        else {
            *end = '\0';
            char *save = NULL;
            for (char *tok = strtok_r(flow + 1, ",", &save); tok != NULL && st == SSCMA_OK;
                 tok = strtok_r(NULL, ",", &save))
                if (!sscma_strlist_push(names, trim(tok)))
                    st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot copy a name");
        }
    }
    if (st == SSCMA_OK && names->count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "no \"names\" list");
    if (st == SSCMA_OK && nc >= 0 && nc != names->count)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "nc is %ld but names lists %lld classes", nc, (long long)names->count);
    return st;
}

static sscma_status read_names_file(const char *path, sscma_strlist *names)
{
    FILE *f = NULL;
    if (sscma_open_regular_as(path, "the names file", &f) != SSCMA_OK)
        return SSCMA_ERR_IO;
    char line[1024];
    sscma_status st = SSCMA_OK;
    while (st == SSCMA_OK && fgets(line, sizeof line, f) != NULL) {
        char *s = trim(line);
        if (*s != '\0' && !sscma_strlist_push(names, s))
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot copy a name");
    }
    fclose(f);
    if (st == SSCMA_OK && names->count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "no class name");
    return st;
}

/* The label file of image `img` (under img_dir) below label_dir: same relative path, extension .txt. */
static void label_path(const char *img, const char *img_dir, const char *label_dir, char *out, size_t size)
{
    const char *rel = img + strlen(img_dir) + 1;
    snprintf(out, size, "%s/%s", label_dir, rel);
    char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    if (dot != NULL && (slash == NULL || dot > slash))
        *dot = '\0';
    strncat(out, ".txt", size - strlen(out) - 1);
}

typedef struct box_buf {
    const sscma_context *ctx;
    float *boxes;
    int32_t *labels;
    int64_t count, cap;
} box_buf;

static bool add_box(box_buf *b, const float *xyxy, int32_t label)
{
    if (b->count == b->cap) {
        int64_t cap = b->cap ? 2 * b->cap : 256;
        float *boxes = sscma_mrealloc(b->ctx, b->boxes, (size_t)cap * 4 * sizeof *boxes);
        if (boxes != NULL)
            b->boxes = boxes;
        int32_t *labels = sscma_mrealloc(b->ctx, b->labels, (size_t)cap * sizeof *labels);
        if (labels != NULL)
            b->labels = labels;
        if (boxes == NULL || labels == NULL)
            return false;
        b->cap = cap;
    }
    memcpy(b->boxes + 4 * b->count, xyxy, 4 * sizeof *xyxy);
    b->labels[b->count++] = label;
    return true;
}

static sscma_status read_labels(sscma_dataset *ds, const char *path, int32_t w, int32_t h, bool strict, box_buf *b)
{
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return SSCMA_OK; /* no label file: no boxes */
    FILE *f = NULL;
    if (sscma_open_regular_as(path, "the label file", &f) != SSCMA_OK) /* a FIFO is refused, not waited on */
        return SSCMA_ERR_IO;
    char line[1024];
    sscma_status st = SSCMA_OK;
    int lineno = 0;
    while (st == SSCMA_OK && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0')
            continue;
        /* a defect of one line: the open's error, or with on_defect "skip" listed and the line left out */
        double v[6];
        int n = 0;
        bool bad = false;
        char *save = NULL;
        for (char *tok = strtok_r(s, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
            char *end = NULL;
            double x = strtod(tok, &end);
            if (end == tok || *end != '\0' || !isfinite(x) || n == 6) {
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, n == 6 ? "line %d: more than 5 fields (segments "
                                          "are not supported)" : "line %d: '%s' is not a number", lineno, tok);
                bad = true;
                break;
            }
            v[n++] = x;
        }
        if (bad)
            continue;
        if (n != 5) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "line %d: %d fields; expected \"class cx cy w h\"",
                                      lineno, n);
            continue;
        }
        if (v[0] != floor(v[0]) || v[0] < 0 || v[0] >= ds->n_classes) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "line %d: class %g is not one of the %d classes",
                                      lineno, v[0], (int)ds->n_classes);
            continue;
        }
        if (v[3] <= 0 || v[4] <= 0) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "line %d: box of non-positive size %g x %g", lineno,
                                      v[3], v[4]);
            continue;
        }
        double x1 = v[1] - v[3] / 2, y1 = v[2] - v[4] / 2, x2 = v[1] + v[3] / 2, y2 = v[2] + v[4] / 2;
        if (x1 < 0 || y1 < 0 || x2 > 1 || y2 > 1) {
            if (strict) {
                st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %d: box leaves the image (normalised %g %g %g %g)",
                                lineno, v[1], v[2], v[3], v[4]);
                break;
            }
            ds->boxes_clipped++;
            if (ds->skip_defects) /* a check lists it with the others */
                (void)sscma_dataset_defect(ds, SSCMA_OK, path, "line %d: box leaves the image (normalised %g %g %g "
                                           "%g): clipped", lineno, v[1], v[2], v[3], v[4]);
            x1 = fmax(x1, 0), y1 = fmax(y1, 0), x2 = fmin(x2, 1), y2 = fmin(y2, 1);
            if (x2 <= x1 || y2 <= y1)
                continue;
        }
        const float xyxy[4] = {(float)(x1 * w), (float)(y1 * h), (float)(x2 * w), (float)(y2 * h)};
        if (!add_box(b, xyxy, (int32_t)v[0]))
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot store the boxes");
    }
    fclose(f);
    return st;
}

typedef struct yolo_prefix_cfg {
    const char *img, *label;
} yolo_prefix_cfg;

typedef struct yolo_cfg {
    const char *data_root, *names_file, *yaml;
    yolo_prefix_cfg data_prefix;
    json_t *classes;
    bool strict;
} yolo_cfg;

static const sscma_field yolo_prefix_fields[] = {
    SSCMA_FIELD_STRING(yolo_prefix_cfg, img, "images"),
    SSCMA_FIELD_STRING(yolo_prefix_cfg, label, "labels"),
    SSCMA_FIELD_END,
};

/* max_pixels and indices are read by dataset.c for every format */
static const sscma_field yolo_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_STRING(yolo_cfg, data_root, NULL),
    SSCMA_FIELD_OBJECT(yolo_cfg, data_prefix, yolo_prefix_fields),
    SSCMA_FIELD_JSON_AS("classes", yolo_cfg, classes),
    SSCMA_FIELD_STRING(yolo_cfg, names_file, NULL),
    SSCMA_FIELD_STRING(yolo_cfg, yaml, "data.yaml"),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD(yolo_cfg, strict, false),
    SSCMA_FIELD_END,
};

sscma_status sscma_yolo_open(sscma_dataset *ds, json_t *config)
{
    yolo_cfg cfg;
    if (sscma_schema_read(yolo_fields, config, "YoloDataset", NULL, &cfg) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    const char *root = cfg.data_root;
    if (root == NULL)
        return sscma_schema_expected("YoloDataset", NULL, "data_root", "the dataset folder", NULL);
    bool strict = cfg.strict;
    char img_dir[2048], label_dir[2048], path[4200];
    snprintf(img_dir, sizeof img_dir, "%s/%s", root, cfg.data_prefix.img);
    snprintf(label_dir, sizeof label_dir, "%s/%s", root, cfg.data_prefix.label);
    /* classes */
    sscma_strlist names = {.ctx = ds->ctx}, images = {.ctx = ds->ctx}, labels = {.ctx = ds->ctx};
    sscma_status st = SSCMA_OK;
    json_t *classes = cfg.classes;
    const char *names_file = cfg.names_file, *yaml = cfg.yaml;
    if (classes != NULL) {
        st = sscma_class_list(classes, &names);
    } else if (names_file != NULL) {
        snprintf(path, sizeof path, "%s/%s", root, names_file);
        st = read_names_file(path, &names);
    } else {
        snprintf(path, sizeof path, "%s/%s", root, yaml);
        st = read_yaml_names(path, &names);
    }
    if (st == SSCMA_OK) {
        /* names go to JSON (stats, logs) and the exported model's metadata, which hold UTF-8 only */
        const char *source = classes != NULL ? "classes" : path;
        for (int64_t k = 0; st == SSCMA_OK && k < names.count; k++) {
            char esc[512];
            if (!sscma_utf8_or_escape(names.items[k], esc, sizeof esc))
                st = sscma_fail(SSCMA_ERR_FORMAT, source, "class %lld '%s': its name is not valid UTF-8 (class names "
                                "go to JSON and the exported model's metadata); fix the file's encoding",
                                (long long)k, esc);
        }
    }
    if (st == SSCMA_OK) {
        ds->n_classes = (int32_t)names.count;
        ds->class_names = names.items; /* ownership moves to the dataset */
        names.items = NULL, names.count = 0;
        st = sscma_scan_images(img_dir, &images, 0);
    }
    if (st == SSCMA_OK && images.count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, img_dir, "no image (.jpg, .jpeg, .png, .bmp): an empty dataset");
    box_buf b = {.ctx = ds->ctx};
    if (st == SSCMA_OK) {
        ds->img_size = sscma_calloc(ds->ctx, (size_t)images.count * 2, sizeof *ds->img_size);
        ds->ann_start = sscma_calloc(ds->ctx, (size_t)images.count + 1, sizeof *ds->ann_start);
        if (ds->img_size == NULL || ds->ann_start == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, img_dir, "cannot list %lld images", (long long)images.count);
    }
    int64_t kept = 0; /* images kept so far: with on_defect "skip" an image with a defect is left out */
    for (int64_t i = 0; st == SSCMA_OK && i < images.count; i++) {
        int w = 0, h = 0, c = 0;
        FILE *img = NULL;
        char *name = images.items[i];
        if ((st = sscma_open_regular(name, &img)) != SSCMA_OK) /* a FIFO named x.jpg: refused */
            break;
        const int known = stbi_info_from_file(img, &w, &h, &c);
        fclose(img);
        bool ok = false;
        if (!known || w <= 0 || h <= 0)
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, name, "not a readable JPEG, PNG or BMP image (%s)",
                                      stbi_failure_reason() ? stbi_failure_reason() : "unknown");
        else if ((int64_t)w * h > ds->max_pixels) /* refused at open, as the image loader would refuse it */
            st = sscma_dataset_defect(ds, SSCMA_ERR_UNSUPPORTED, name, "%d x %d pixels is over the limit of %lld "
                                      "(max_pixels)", w, h, (long long)ds->max_pixels);
        else
            ok = true;
        if (st != SSCMA_OK)
            break;
        if (!ok) { /* its label file is not "without an image": the image's defect says it all */
            label_path(name, img_dir, label_dir, path, sizeof path);
            images.items[i] = NULL;
            sscma_mfree(ds->ctx, name);
            if (!sscma_strlist_push(&labels, path))
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, label_dir, "cannot list the label files");
            continue;
        }
        images.items[i] = NULL, images.items[kept] = name;
        ds->img_size[2 * kept] = w, ds->img_size[2 * kept + 1] = h;
        label_path(name, img_dir, label_dir, path, sizeof path);
        st = read_labels(ds, path, w, h, strict, &b);
        ds->ann_start[++kept] = b.count;
    }
    if (st == SSCMA_OK && kept < images.count) {
        images.count = kept;
        if (kept == 0)
            st = sscma_fail(SSCMA_ERR_FORMAT, img_dir, "no image is left: every one has a defect (sscma dataset check "
                            "lists them)");
    }
    /* label files without an image */
    if (st == SSCMA_OK && access(label_dir, F_OK) == 0) {
        sscma_strlist txt = {.ctx = ds->ctx};
        st = sscma_scan_files(label_dir, ".txt", &txt, 0);
        for (int64_t k = 0; st == SSCMA_OK && k < images.count; k++) {
            label_path(images.items[k], img_dir, label_dir, path, sizeof path);
            if (!sscma_strlist_push(&labels, path))
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, label_dir, "cannot list the label files");
        }
        if (st == SSCMA_OK && labels.count > 0)
            qsort(labels.items, (size_t)labels.count, sizeof *labels.items, cmp_str);
        for (int64_t i = 0; st == SSCMA_OK && i < txt.count; i++)
            if (bsearch(&txt.items[i], labels.items, (size_t)labels.count, sizeof *labels.items, cmp_str) == NULL)
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, txt.items[i], "a label file without an image in %s",
                                          img_dir);
        sscma_strlist_free(&txt);
    }
    sscma_strlist_free(&labels);
    if (st == SSCMA_OK) {
        ds->paths = images.items, ds->size = images.count;
        images.items = NULL, images.count = 0;
        ds->boxes = b.boxes, ds->box_labels = b.labels;
        b.boxes = NULL, b.labels = NULL;
        if (ds->boxes == NULL)
            ds->boxes = sscma_malloc(ds->ctx, 4 * sizeof *ds->boxes), ds->box_labels = sscma_malloc(ds->ctx, sizeof *ds->box_labels);
        if (ds->boxes_clipped > 0)
            sscma_logf(ds->ctx, SSCMA_LOG_WARNING, "%s: %lld boxes clipped to their image", label_dir,
                       (long long)ds->boxes_clipped);
    }
    sscma_mfree(ds->ctx, b.boxes), sscma_mfree(ds->ctx, b.labels);
    sscma_strlist_free(&images);
    sscma_strlist_free(&names);
    ds->kind = DATASET_BOXES;
    return st;
}
