/*
 * CocoDataset: COCO detection JSON, including Roboflow's export layout (split/_annotations.coco.json next to the
 * images, and a parent category with supercategory "none" that no annotation uses, dropped as SSCMA does).
 *
 * Paths follow mmdet: image = data_root / data_prefix.img / file_name, annotations = data_root / ann_file. Classes
 * are the kept categories in increasing id order. Boxes are stored as x1, y1, x2, y2 in pixels of the image's
 * declared size. Crowd annotations (iscrowd 1) are skipped and counted. Boxes that leave the image are clipped to it
 * and counted (strict: an error). Every structural defect fails the open with the file and the record
 * (images[i] / annotations[i] / categories[i] and its id); with on_defect "skip" a defect of one image or annotation
 * leaves that record out (an image's annotations with it) and is listed for sscma_dataset_check instead, so that
 * one check reports every defect; a box clipped to its image is listed then too.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/schema.h"
#include "data/data.h"

typedef struct category {
    json_int_t id;
    const char *name, *super;
    bool kept;
    int32_t index;
} category;

static int cmp_category(const void *a, const void *b)
{
    const category *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

typedef struct id_index {
    json_int_t id;
    int64_t index;
} id_index;

static int cmp_id(const void *a, const void *b)
{
    const id_index *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Sorted (id, index) pairs; returns the index of `id` or -1. */
static int64_t find_id(const id_index *ids, int64_t n, json_int_t id)
{
    int64_t lo = 0, hi = n - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ids[mid].id == id)
            return ids[mid].index;
        if (ids[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static bool get_id(json_t *obj, const char *key, json_int_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

typedef struct coco_ctx {
    sscma_dataset *ds;
    const char *file;
    sscma_status st;
} coco_ctx;

/* Records the first failure (the file and the record in the message) and returns false. */
static bool coco_fail(coco_ctx *c, sscma_status status, const char *fmt, ...) SSCMA_PRINTF(3, 4);
static bool coco_fail(coco_ctx *c, sscma_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    c->st = sscma_vfail(status, c->file, fmt, args);
    va_end(args);
    return false;
}
#define FAIL coco_fail

/*
 * A defect of one record (sscma_dataset_defect): returns true when the open goes on without the record
 * (on_defect "skip"), false when it fails (c->st holds the error).
 */
static bool coco_defect(coco_ctx *c, sscma_status status, const char *fmt, ...) SSCMA_PRINTF(3, 4);
static bool coco_defect(coco_ctx *c, sscma_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    c->st = sscma_dataset_vdefect(c->ds, status, c->file, fmt, args);
    va_end(args);
    return c->st == SSCMA_OK;
}
#define DEFECT coco_defect

static bool read_categories(coco_ctx *c, json_t *list, category **out, int64_t *count)
{
    if (!json_is_array(list) || json_array_size(list) == 0)
        return FAIL(c, SSCMA_ERR_FORMAT, "\"categories\" must be a non-empty list");
    int64_t n = (int64_t)json_array_size(list);
    category *cats = sscma_calloc(c->ds->ctx, (size_t)n, sizeof *cats);
    if (cats == NULL)
        return FAIL(c, SSCMA_ERR_OUT_OF_MEMORY, "cannot list %lld categories", (long long)n);
    *out = cats, *count = n;
    for (int64_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, (size_t)i);
        if (!json_is_object(item) || !get_id(item, "id", &cats[i].id))
            return FAIL(c, SSCMA_ERR_FORMAT, "categories[%lld]: missing or non-integer \"id\"", (long long)i);
        cats[i].name = json_string_value(json_object_get(item, "name"));
        if (cats[i].name == NULL)
            return FAIL(c, SSCMA_ERR_FORMAT, "categories[%lld] (id %lld): missing \"name\"", (long long)i,
                        (long long)cats[i].id);
        cats[i].super = json_string_value(json_object_get(item, "supercategory"));
    }
    qsort(cats, (size_t)n, sizeof *cats, cmp_category);
    for (int64_t i = 1; i < n; i++)
        if (cats[i].id == cats[i - 1].id)
            return FAIL(c, SSCMA_ERR_FORMAT, "categories: duplicate id %lld", (long long)cats[i].id);
    /* Roboflow's parent: supercategory "none" and named as the supercategory of others */
    int32_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        bool parent = false;
        if (cats[i].super != NULL && strcmp(cats[i].super, "none") == 0)
            for (int64_t j = 0; j < n && !parent; j++)
                parent = j != i && cats[j].super != NULL && strcmp(cats[j].super, cats[i].name) == 0;
        cats[i].kept = !parent;
        cats[i].index = parent ? -1 : kept++;
    }
    return true;
}

typedef struct coco_prefix_cfg {
    const char *img;
} coco_prefix_cfg;

typedef struct coco_cfg {
    const char *data_root, *ann_file;
    json_t *data_prefix;
    bool strict;
} coco_cfg;

/* mmdet's data_prefix dict: "img" (the image folder); "seg" (panoptic) accepted and not used */
static const sscma_field coco_prefix_fields[] = {
    SSCMA_FIELD_STRING(coco_prefix_cfg, img, NULL),
    SSCMA_FIELD_KEY("seg"),
    SSCMA_FIELD_END,
};

/*
 * max_pixels and indices are read by dataset.c for every format; mmdet's metainfo, filter_cfg, pipeline,
 * backend_args and test_mode are accepted and not used, and so is mmyolo's batch_shapes_cfg (BatchShapePolicy's
 * per-batch rectangular letterbox at validation): libsscma validates at the model's one input size, the deployed
 * model's (docs/coming-from-sscma.md)
 */
static const sscma_field coco_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_STRING(coco_cfg, data_root, NULL),
    SSCMA_FIELD_STRING(coco_cfg, ann_file, NULL),
    SSCMA_FIELD_JSON_AS("data_prefix", coco_cfg, data_prefix),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD(coco_cfg, strict, false),
    SSCMA_FIELD_KEY("metainfo"),
    SSCMA_FIELD_KEY("filter_cfg"),
    SSCMA_FIELD_KEY("pipeline"),
    SSCMA_FIELD_KEY("backend_args"),
    SSCMA_FIELD_KEY("test_mode"),
    SSCMA_FIELD_KEY("batch_shapes_cfg"),
    SSCMA_FIELD_END,
};

/* Parses the annotation file, opened as a regular file only (a FIFO or a device is refused, not waited on). */
static sscma_status load_json(const char *path, json_t **out)
{
    FILE *f = NULL;
    sscma_status st = sscma_open_regular(path, &f);
    if (st != SSCMA_OK)
        return st;
    json_error_t err;
    *out = json_loadf(f, 0, &err);
    fclose(f);
    if (*out == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "line %d, column %d: %s", err.line, err.column, err.text);
    return SSCMA_OK;
}

/* Largest declared width, height and |bbox value|: what fits the 32-bit sizes the dataset keeps. */
#define COCO_MAX_SIDE INT32_MAX

sscma_status sscma_coco_open(sscma_dataset *ds, json_t *config)
{
    coco_cfg cfg;
    coco_prefix_cfg prefix = {NULL};
    if (sscma_schema_read(coco_fields, config, "CocoDataset", NULL, &cfg) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    if (json_is_object(cfg.data_prefix) &&
        sscma_schema_read(coco_prefix_fields, cfg.data_prefix, "CocoDataset", "data_prefix", &prefix) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    if (json_is_string(cfg.data_prefix))
        prefix.img = json_string_value(cfg.data_prefix);
    else if (cfg.data_prefix != NULL && !json_is_object(cfg.data_prefix))
        return sscma_schema_expected("CocoDataset", NULL, "data_prefix", "{\"img\": \"<image folder>\"} or a string",
                                     cfg.data_prefix);
    const char *root = cfg.data_root, *ann = cfg.ann_file, *img_prefix = prefix.img;
    const bool strict = cfg.strict;
    if (ann == NULL)
        return sscma_schema_expected("CocoDataset", NULL, "ann_file", "the annotation file (e.g. "
                                     "\"train/_annotations.coco.json\")", NULL);
    char path[4096], dir[4096];
    snprintf(path, sizeof path, "%s%s%s", ann[0] == '/' || root == NULL ? "" : root,
             ann[0] == '/' || root == NULL ? "" : "/", ann);
    snprintf(dir, sizeof dir, "%s%s%s", root ? root : ".", img_prefix ? "/" : "", img_prefix ? img_prefix : "");
    json_t *doc = NULL;
    sscma_status lst = load_json(path, &doc);
    if (lst != SSCMA_OK)
        return lst;
    coco_ctx c = {ds, path, SSCMA_OK};
    category *cats = NULL;
    int64_t n_cats = 0;
    id_index *img_ids = NULL, *ann_ids = NULL;
    int64_t *ann_image = NULL;
    json_t *images = json_object_get(doc, "images"), *anns = json_object_get(doc, "annotations");
    if (!json_is_object(doc))
        FAIL(&c, SSCMA_ERR_FORMAT, "the top level must be an object with \"images\", \"annotations\", \"categories\"");
    else if (!read_categories(&c, json_object_get(doc, "categories"), &cats, &n_cats))
        ;
    else if (!json_is_array(images) || json_array_size(images) == 0)
        FAIL(&c, SSCMA_ERR_FORMAT, "\"images\" must be a non-empty list (an empty dataset)");
    else if (anns != NULL && !json_is_array(anns))
        FAIL(&c, SSCMA_ERR_FORMAT, "\"annotations\" must be a list");
    const int64_t n_img = c.st == SSCMA_OK ? (int64_t)json_array_size(images) : 0;
    const int64_t n_ann = c.st == SSCMA_OK && anns != NULL ? (int64_t)json_array_size(anns) : 0;
    /* classes */
    if (c.st == SSCMA_OK) {
        for (int64_t i = 0; i < n_cats; i++)
            ds->n_classes += cats[i].kept;
        ds->class_names = sscma_calloc(ds->ctx, (size_t)ds->n_classes, sizeof *ds->class_names);
        if (ds->class_names == NULL)
            FAIL(&c, SSCMA_ERR_OUT_OF_MEMORY, "cannot list the classes");
        for (int64_t i = 0; c.st == SSCMA_OK && i < n_cats; i++)
            if (cats[i].kept && (ds->class_names[cats[i].index] = sscma_malloc(ds->ctx, strlen(cats[i].name) + 1)) != NULL)
                strcpy(ds->class_names[cats[i].index], cats[i].name);
            else if (cats[i].kept)
                FAIL(&c, SSCMA_ERR_OUT_OF_MEMORY, "cannot copy a class name");
    }
    /* images */
    if (c.st == SSCMA_OK) {
        ds->paths = sscma_calloc(ds->ctx, (size_t)n_img, sizeof *ds->paths);
        ds->img_size = sscma_calloc(ds->ctx, (size_t)n_img * 2, sizeof *ds->img_size);
        img_ids = sscma_calloc(ds->ctx, (size_t)n_img, sizeof *img_ids);
        if (ds->paths == NULL || ds->img_size == NULL || img_ids == NULL)
            FAIL(&c, SSCMA_ERR_OUT_OF_MEMORY, "cannot list %lld images", (long long)n_img);
        ds->size = c.st == SSCMA_OK ? n_img : 0; /* paths are freed up to size */
    }
    bool *bad = c.st == SSCMA_OK ? sscma_calloc(ds->ctx, (size_t)n_img, sizeof *bad) : NULL;
    if (c.st == SSCMA_OK && bad == NULL)
        FAIL(&c, SSCMA_ERR_OUT_OF_MEMORY, "cannot list %lld images", (long long)n_img);
    int64_t n_ids = 0, n_bad = 0;
    for (int64_t i = 0; c.st == SSCMA_OK && i < n_img; i++) {
        json_t *item = json_array_get(images, (size_t)i);
        json_int_t id = 0, w = 0, h = 0;
        const char *name = json_string_value(json_object_get(item, "file_name"));
        bool ok = false;
        if (!json_is_object(item) || !get_id(item, "id", &id))
            DEFECT(&c, SSCMA_ERR_FORMAT, "images[%lld]: missing or non-integer \"id\"", (long long)i);
        else if (name == NULL)
            DEFECT(&c, SSCMA_ERR_FORMAT, "images[%lld] (id %lld): missing \"file_name\"", (long long)i, (long long)id);
        else if (!get_id(item, "width", &w) || !get_id(item, "height", &h) || w <= 0 || h <= 0)
            DEFECT(&c, SSCMA_ERR_FORMAT, "images[%lld] (id %lld, %s): \"width\" and \"height\" must be positive "
                   "integers", (long long)i, (long long)id, name);
        /* 64-bit checks before the 32-bit store: 4294967328 must not become 32 */
        else if (w > COCO_MAX_SIDE || h > COCO_MAX_SIDE)
            DEFECT(&c, SSCMA_ERR_FORMAT, "images[%lld] (id %lld, %s): declared %lld x %lld pixels: a side over %d",
                   (long long)i, (long long)id, name, (long long)w, (long long)h, COCO_MAX_SIDE);
        else if ((int64_t)w > ds->max_pixels / (int64_t)h)
            DEFECT(&c, SSCMA_ERR_UNSUPPORTED, "images[%lld] (id %lld, %s): declared %lld x %lld pixels is over the "
                   "limit of %lld (max_pixels)", (long long)i, (long long)id, name, (long long)w, (long long)h,
                   (long long)ds->max_pixels);
        else
            ok = true;
        if (ok) {
            size_t len = strlen(dir) + strlen(name) + 2;
            if ((ds->paths[i] = sscma_malloc(ds->ctx, len)) == NULL) {
                FAIL(&c, SSCMA_ERR_OUT_OF_MEMORY, "cannot copy a path");
                break;
            }
            size_t dl = strlen(dir);
            snprintf(ds->paths[i], len, "%s%s%s", dir, dl > 0 && dir[dl - 1] == '/' ? "" : "/", name);
            if (access(ds->paths[i], R_OK) != 0) {
                ok = false;
                DEFECT(&c, SSCMA_ERR_IO, "images[%lld] (id %lld): image file %s is missing", (long long)i,
                       (long long)id, ds->paths[i]);
            }
        }
        if (c.st != SSCMA_OK)
            break;
        if (!ok) {
            bad[i] = true, n_bad++;
            continue;
        }
        ds->img_size[2 * i] = (int32_t)w, ds->img_size[2 * i + 1] = (int32_t)h;
        img_ids[n_ids].id = id, img_ids[n_ids++].index = i;
    }
    if (c.st == SSCMA_OK) {
        qsort(img_ids, (size_t)n_ids, sizeof *img_ids, cmp_id);
        for (int64_t i = 1; i < n_ids && c.st == SSCMA_OK; i++)
            if (img_ids[i].id == img_ids[i - 1].id) {
                /* the later record of the two is the defect (qsort is not stable: compare the indices) */
                int64_t later = img_ids[i].index > img_ids[i - 1].index ? img_ids[i].index : img_ids[i - 1].index;
                if (DEFECT(&c, SSCMA_ERR_FORMAT, "images[%lld]: duplicate id %lld (images[%lld] has it too)",
                           (long long)later, (long long)img_ids[i].id,
                           (long long)(later == img_ids[i].index ? img_ids[i - 1].index : img_ids[i].index)) &&
                    !bad[later])
                    bad[later] = true, n_bad++;
            }
    }
    /* annotations: validate, then group by image */
    if (c.st == SSCMA_OK) {
        ann_ids = sscma_calloc(ds->ctx, (size_t)(n_ann > 0 ? n_ann : 1), sizeof *ann_ids);
        ann_image = sscma_calloc(ds->ctx, (size_t)(n_ann > 0 ? n_ann : 1), sizeof *ann_image);
        ds->ann_start = sscma_calloc(ds->ctx, (size_t)n_img + 1, sizeof *ds->ann_start);
        ds->boxes = sscma_calloc(ds->ctx, (size_t)(n_ann > 0 ? n_ann : 1) * 4, sizeof *ds->boxes);
        ds->box_labels = sscma_calloc(ds->ctx, (size_t)(n_ann > 0 ? n_ann : 1), sizeof *ds->box_labels);
        if (ann_ids == NULL || ann_image == NULL || ds->ann_start == NULL || ds->boxes == NULL ||
            ds->box_labels == NULL)
            FAIL(&c, SSCMA_ERR_OUT_OF_MEMORY, "cannot list %lld annotations", (long long)n_ann);
    }
    int64_t used = 0, n_ann_ids = 0;
    for (int64_t i = 0; c.st == SSCMA_OK && i < n_ann; i++) {
        json_t *item = json_array_get(anns, (size_t)i);
        json_int_t id = 0, image_id = 0, cat_id = 0;
        ann_image[i] = -1; /* until the annotation is kept */
        if (!json_is_object(item) || !get_id(item, "id", &id)) {
            if (!DEFECT(&c, SSCMA_ERR_FORMAT, "annotations[%lld]: missing or non-integer \"id\"", (long long)i))
                break;
            continue;
        }
        ann_ids[n_ann_ids].id = id, ann_ids[n_ann_ids++].index = i;
        if (!get_id(item, "image_id", &image_id) || !get_id(item, "category_id", &cat_id)) {
            if (!DEFECT(&c, SSCMA_ERR_FORMAT, "annotations[%lld] (id %lld): \"image_id\" and \"category_id\" must "
                        "be integers", (long long)i, (long long)id))
                break;
            continue;
        }
        int64_t img = find_id(img_ids, n_ids, image_id);
        if (img < 0) {
            /* an image left out for its own defect was reported already; its annotations go with it */
            bool known = false;
            for (int64_t k = 0; k < n_img && !known && n_bad > 0; k++)
                known = bad[k] && json_is_object(json_array_get(images, (size_t)k)) &&
                        json_integer_value(json_object_get(json_array_get(images, (size_t)k), "id")) == image_id;
            if (!known && !DEFECT(&c, SSCMA_ERR_FORMAT, "annotations[%lld] (id %lld): unknown image_id %lld",
                                  (long long)i, (long long)id, (long long)image_id))
                break;
            continue;
        }
        if (bad[img])
            continue; /* a duplicate id's later image, reported above */
        category key_cat = {.id = cat_id};
        const category *cat = bsearch(&key_cat, cats, (size_t)n_cats, sizeof *cats, cmp_category);
        if (cat == NULL || !cat->kept) {
            if (!DEFECT(&c, SSCMA_ERR_FORMAT, "annotations[%lld] (id %lld): %s category_id %lld", (long long)i,
                        (long long)id, cat == NULL ? "unknown" : "the parent (supercategory \"none\")",
                        (long long)cat_id))
                break;
            continue;
        }
        json_t *bbox = json_object_get(item, "bbox");
        double b[4];
        bool ok = json_is_array(bbox) && json_array_size(bbox) == 4;
        for (int k = 0; ok && k < 4; k++) {
            ok = json_is_number(json_array_get(bbox, (size_t)k));
            b[k] = ok ? json_number_value(json_array_get(bbox, (size_t)k)) : 0.0;
            ok = ok && isfinite(b[k]) && fabs(b[k]) <= COCO_MAX_SIDE;
        }
        if (!ok) {
            if (!DEFECT(&c, SSCMA_ERR_FORMAT, "annotations[%lld] (id %lld): \"bbox\" must be [x, y, width, height], "
                        "four numbers of at most %d in magnitude", (long long)i, (long long)id, COCO_MAX_SIDE))
                break;
            continue;
        }
        if (b[2] <= 0.0 || b[3] <= 0.0) {
            if (!DEFECT(&c, SSCMA_ERR_FORMAT, "annotations[%lld] (id %lld): box of non-positive size %g x %g",
                        (long long)i, (long long)id, b[2], b[3]))
                break;
            continue;
        }
        if (json_integer_value(json_object_get(item, "iscrowd")) == 1) {
            ds->crowd_skipped++;
            continue;
        }
        const double W = ds->img_size[2 * img], H = ds->img_size[2 * img + 1];
        double x1 = b[0], y1 = b[1], x2 = b[0] + b[2], y2 = b[1] + b[3];
        if (x1 < 0 || y1 < 0 || x2 > W || y2 > H) {
            if (strict) {
                FAIL(&c, SSCMA_ERR_FORMAT, "annotations[%lld] (id %lld): box [%g, %g, %g, %g] leaves image %lld "
                     "(%g x %g)", (long long)i, (long long)id, b[0], b[1], b[2], b[3], (long long)image_id, W, H);
                break;
            }
            x1 = fmax(x1, 0.0), y1 = fmax(y1, 0.0), x2 = fmin(x2, W), y2 = fmin(y2, H);
            ds->boxes_clipped++;
            bool gone = x2 <= x1 || y2 <= y1; /* entirely outside: nothing left */
            if (ds->skip_defects) /* a check lists it with the others */
                (void)sscma_dataset_defect(ds, SSCMA_OK, path, "annotations[%lld] (id %lld): box [%g, %g, %g, %g] "
                                           "leaves image %lld (%g x %g): %s", (long long)i, (long long)id, b[0], b[1],
                                           b[2], b[3], (long long)image_id, W, H,
                                           gone ? "nothing is left of it" : "clipped");
            if (gone)
                continue;
        }
        ann_image[i] = img;
        ds->ann_start[img + 1]++;
        ds->boxes[4 * i] = (float)x1, ds->boxes[4 * i + 1] = (float)y1;
        ds->boxes[4 * i + 2] = (float)x2, ds->boxes[4 * i + 3] = (float)y2;
        ds->box_labels[i] = cat->index;
        used++;
    }
    if (c.st == SSCMA_OK && n_ann_ids > 1) {
        /* a duplicate annotation id names nothing else: reported, both boxes kept */
        qsort(ann_ids, (size_t)n_ann_ids, sizeof *ann_ids, cmp_id);
        for (int64_t i = 1; i < n_ann_ids && c.st == SSCMA_OK; i++)
            if (ann_ids[i].id == ann_ids[i - 1].id) {
                int64_t later = ann_ids[i].index > ann_ids[i - 1].index ? ann_ids[i].index : ann_ids[i - 1].index;
                DEFECT(&c, SSCMA_ERR_FORMAT, "annotations[%lld]: duplicate id %lld", (long long)later,
                       (long long)ann_ids[i].id);
            }
    }
    if (c.st == SSCMA_OK) {
        /* stable counting sort of the kept annotations by image, in file order */
        for (int64_t i = 0; i < n_img; i++)
            ds->ann_start[i + 1] += ds->ann_start[i];
        float *boxes = sscma_malloc(ds->ctx, (size_t)(used > 0 ? used : 1) * 4 * sizeof *boxes);
        int32_t *labels = sscma_malloc(ds->ctx, (size_t)(used > 0 ? used : 1) * sizeof *labels);
        int64_t *next = sscma_malloc(ds->ctx, (size_t)n_img * sizeof *next);
        if (boxes == NULL || labels == NULL || next == NULL) {
            sscma_mfree(ds->ctx, boxes), sscma_mfree(ds->ctx, labels), sscma_mfree(ds->ctx, next);
            FAIL(&c, SSCMA_ERR_OUT_OF_MEMORY, "cannot group the annotations");
        } else {
            memcpy(next, ds->ann_start, (size_t)n_img * sizeof *next);
            for (int64_t i = 0; i < n_ann; i++) {
                if (ann_image[i] < 0)
                    continue;
                int64_t slot = next[ann_image[i]]++;
                memcpy(boxes + 4 * slot, ds->boxes + 4 * i, 4 * sizeof *boxes);
                labels[slot] = ds->box_labels[i];
            }
            sscma_mfree(ds->ctx, ds->boxes), sscma_mfree(ds->ctx, ds->box_labels), sscma_mfree(ds->ctx, next);
            ds->boxes = boxes, ds->box_labels = labels;
        }
    }
    if (c.st == SSCMA_OK && n_bad > 0) {
        /* the images left out for their defects go; the others move down with their boxes (grouped in order) */
        int64_t ni = 0, nb = 0;
        for (int64_t i = 0; i < n_img; i++) {
            int64_t b0 = ds->ann_start[i], b1 = ds->ann_start[i + 1];
            if (bad[i]) {
                sscma_mfree(ds->ctx, ds->paths[i]);
                continue;
            }
            ds->paths[ni] = ds->paths[i];
            ds->img_size[2 * ni] = ds->img_size[2 * i], ds->img_size[2 * ni + 1] = ds->img_size[2 * i + 1];
            memmove(ds->boxes + 4 * nb, ds->boxes + 4 * b0, (size_t)(b1 - b0) * 4 * sizeof *ds->boxes);
            memmove(ds->box_labels + nb, ds->box_labels + b0, (size_t)(b1 - b0) * sizeof *ds->box_labels);
            ds->ann_start[ni] = nb;
            nb += b1 - b0, ni++;
        }
        ds->ann_start[ni] = nb;
        ds->size = ni;
        if (ni == 0)
            FAIL(&c, SSCMA_ERR_FORMAT, "no image is left: every one has a defect (sscma dataset check lists them)");
    }
    if (c.st == SSCMA_OK && (ds->boxes_clipped > 0 || ds->crowd_skipped > 0))
        sscma_logf(ds->ctx, SSCMA_LOG_WARNING, "%s: %lld boxes clipped to their image, %lld crowd annotations skipped",
                   path, (long long)ds->boxes_clipped, (long long)ds->crowd_skipped);
    ds->kind = DATASET_BOXES;
    sscma_mfree(ds->ctx, cats), sscma_mfree(ds->ctx, img_ids), sscma_mfree(ds->ctx, ann_ids), sscma_mfree(ds->ctx, ann_image);
    sscma_mfree(ds->ctx, bad);
    json_decref(doc);
    return c.st;
}
