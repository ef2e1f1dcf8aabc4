/*
 * The composed detection set (sscma_compose_detection): objects from a classification dataset pasted at random
 * positions and scales onto procedural backgrounds, written as a COCO dataset in Roboflow's export layout:
 *
 *   out_dir/train/_annotations.coco.json, out_dir/train/000000.png, ... (and valid/, test/)
 *
 * with category 0 the parent (supercategory "none") and categories 1..K the chosen source classes, as Roboflow
 * exports them. With "format": "meter" each image holds exactly one object and the split gets a MeterData index
 * instead (out_dir/train/annotations.txt, lines "000000.png cx cy x1 y1": the centre of the object's box and its
 * top-left corner, in pixels) — a keypoint set for PFLD. Boxes are exact: the tight box of the object's visible pixels (value above 24) at its pasted scale.
 * Backgrounds are value noise (random levels on a 16-pixel lattice, bilinear) plus per-pixel noise, or with
 * "backgrounds": "<folder>" a random photo of that folder (JPEG/PNG/BMP, recursively) resized to the image; objects are
 * alpha-blended with alpha = min(1, value / 80), so a dark source background stays transparent.
 * Every choice comes from the seed: the same config gives the same files.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "core/config.h"
#include "core/schema.h"
#include "core/file.h"
#include "data/audio.h"
#include "data/data.h"
#include "sscma/data.h"

#define WHERE "compose"
#define VISIBLE 24

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t next_u64(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(rng *r)
{
    return (double)(next_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int64_t below(rng *r, int64_t n)
{
    return n <= 1 ? 0 : (int64_t)(uniform(r) * (double)n);
}

typedef struct png_buf {
    const sscma_context *ctx;
    unsigned char *data;
    size_t size, cap;
    bool failed;
} png_buf;

static void png_write(void *context, void *data, int size)
{
    png_buf *b = context;
    if (b->failed || size <= 0)
        return;
    if (b->size + (size_t)size > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->size + (size_t)size)
            cap *= 2;
        unsigned char *grown = sscma_mrealloc(b->ctx, b->data, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->data = grown, b->cap = cap;
    }
    memcpy(b->data + b->size, data, (size_t)size);
    b->size += (size_t)size;
}

static void background(const sscma_context *ctx, rng *r, uint8_t *img, int64_t h, int64_t w, int64_t c)
{
    const int64_t cell = 16, gh = h / cell + 2, gw = w / cell + 2;
    double *lattice = sscma_malloc(ctx, (size_t)(gh * gw * c) * sizeof *lattice);
    if (lattice == NULL) {
        memset(img, 64, (size_t)(h * w * c));
        return;
    }
    const double base = 20.0 + 60.0 * uniform(r);
    for (int64_t i = 0; i < gh * gw * c; i++)
        lattice[i] = base + 70.0 * uniform(r);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            double fy = (double)y / (double)cell, fx = (double)x / (double)cell;
            int64_t y0 = (int64_t)fy, x0 = (int64_t)fx;
            double ty = fy - (double)y0, tx = fx - (double)x0;
            for (int64_t k = 0; k < c; k++) {
                double v00 = lattice[(y0 * gw + x0) * c + k], v01 = lattice[(y0 * gw + x0 + 1) * c + k];
                double v10 = lattice[((y0 + 1) * gw + x0) * c + k], v11 = lattice[((y0 + 1) * gw + x0 + 1) * c + k];
                double v = (1 - ty) * ((1 - tx) * v00 + tx * v01) + ty * ((1 - tx) * v10 + tx * v11);
                v += 16.0 * (uniform(r) - 0.5);
                img[(y * w + x) * c + k] = (uint8_t)fmin(fmax(v, 0.0), 255.0);
            }
        }
    sscma_mfree(ctx, lattice);
}

/* Bilinear resize of 8-bit pixels (half-pixel centres). */
static void resize_u8(const uint8_t *src, int64_t sh, int64_t sw, int64_t c, uint8_t *dst, int64_t dh, int64_t dw)
{
    for (int64_t y = 0; y < dh; y++)
        for (int64_t x = 0; x < dw; x++) {
            double fy = fmax(((double)y + 0.5) * (double)sh / (double)dh - 0.5, 0.0);
            double fx = fmax(((double)x + 0.5) * (double)sw / (double)dw - 0.5, 0.0);
            int64_t y0 = (int64_t)fy, x0 = (int64_t)fx;
            int64_t y1 = y0 + 1 < sh ? y0 + 1 : sh - 1, x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
            double ty = fy - (double)y0, tx = fx - (double)x0;
            for (int64_t k = 0; k < c; k++) {
                double v = (1 - ty) * ((1 - tx) * src[(y0 * sw + x0) * c + k] + tx * src[(y0 * sw + x1) * c + k]) +
                           ty * ((1 - tx) * src[(y1 * sw + x0) * c + k] + tx * src[(y1 * sw + x1) * c + k]);
                dst[(y * dw + x) * c + k] = (uint8_t)fmin(fmax(v + 0.5, 0.0), 255.0);
            }
        }
}

static double iou(const double *a, const double *b)
{
    double ix = fmin(a[2], b[2]) - fmax(a[0], b[0]), iy = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    if (ix <= 0 || iy <= 0)
        return 0.0;
    double inter = ix * iy;
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

typedef struct compose_cfg {
    char out_dir[2048], name[64];
    int64_t h, w, min_objects, max_objects;
    double min_scale, max_scale, max_iou;
    uint64_t seed;
    int32_t classes[256], n_classes;
    bool meter;
    sscma_strlist photos; /* backgrounds */
    const char *split_names[3];
    int64_t split_sizes[3];
    int32_t n_splits;
} compose_cfg;

typedef struct compose_splits {
    int64_t train, valid, test;
} compose_splits;

/* What the config says (compose_cfg is what the composer uses). */
typedef struct compose_keys {
    const char *out_dir, *name, *backgrounds;
    int64_t image_size[2], objects[2];
    int32_t n_image_size, n_objects, n_scale, n_classes;
    double scale[2], max_iou;
    int64_t seed;
    int32_t classes[256];
    int format; /* index of format_names */
    json_t *splits;
} compose_keys;

static const char *const format_names[] = {"coco", "meter", NULL};

static const sscma_field split_fields[] = {
    SSCMA_FIELD_RANGE(compose_splits, train, 0, 0, 10000000),
    SSCMA_FIELD_RANGE(compose_splits, valid, 0, 0, 10000000),
    SSCMA_FIELD_RANGE(compose_splits, test, 0, 0, 10000000),
    SSCMA_FIELD_END,
};

static const sscma_field compose_fields[] = {
    SSCMA_FIELD_STRING(compose_keys, out_dir, NULL),
    SSCMA_FIELD_LIST_AS("image_size", compose_keys, image_size, offsetof(compose_keys, n_image_size), 1, 96, 8, 4096,
                        SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_JSON_AS("splits", compose_keys, splits),
    SSCMA_FIELD_LIST_AS("classes", compose_keys, classes, offsetof(compose_keys, n_classes), 1, 0, 0, INT32_MAX, 0),
    SSCMA_FIELD_LIST_AS("objects", compose_keys, objects, offsetof(compose_keys, n_objects), 2, 0, 0, 64, 0),
    SSCMA_FIELD_LIST_AS("scale", compose_keys, scale, offsetof(compose_keys, n_scale), 2, 0, 1, 0, 0),
    SSCMA_FIELD_RANGE(compose_keys, max_iou, 0.1, 0.0, 1.0),
    SSCMA_FIELD_RANGE(compose_keys, seed, 0, 0, INFINITY),
    SSCMA_FIELD_STRING(compose_keys, name, "objects"),
    SSCMA_FIELD_ENUM_AS("format", compose_keys, format, 0, format_names, 0),
    SSCMA_FIELD_STRING(compose_keys, backgrounds, NULL),
    SSCMA_FIELD_END,
};

static sscma_status parse(const sscma_dataset *src, json_t *cfg, compose_cfg *c)
{
    compose_keys k;
    if (sscma_schema_read(compose_fields, cfg, WHERE, NULL, &k) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    if (k.out_dir == NULL || k.out_dir[0] == '\0' || strlen(k.out_dir) >= sizeof c->out_dir - 64)
        return sscma_schema_expected(WHERE, NULL, "out_dir", "the dataset folder to write (at most 1983 bytes)",
                                     json_object_get(cfg, "out_dir"));
    snprintf(c->out_dir, sizeof c->out_dir, "%s", k.out_dir);
    snprintf(c->name, sizeof c->name, "%s", k.name);
    /* image_size: [height, width], or one number for a square */
    c->h = c->w = 96;
    if (k.n_image_size == 1)
        c->h = c->w = k.image_size[0];
    else if (k.n_image_size == 2)
        c->h = k.image_size[0], c->w = k.image_size[1];
    c->min_objects = 1, c->max_objects = 5;
    if (k.n_objects == 2)
        c->min_objects = k.objects[0], c->max_objects = k.objects[1];
    if (c->max_objects < c->min_objects)
        return sscma_schema_expected(WHERE, NULL, "objects", "[min, max] per image with min <= max",
                                     json_object_get(cfg, "objects"));
    if (k.backgrounds != NULL) {
        sscma_status bst = sscma_scan_images(k.backgrounds, &c->photos, 0);
        if (bst != SSCMA_OK)
            return bst;
        if (c->photos.count == 0)
            return sscma_schema_fail(WHERE, NULL, "backgrounds", "no image in %s", k.backgrounds);
    }
    c->meter = k.format == 1;
    if (c->meter)
        c->min_objects = c->max_objects = 1; /* one object, a fixed number of points per image */
    c->min_scale = 1.0, c->max_scale = 1.5;
    if (k.n_scale == 2)
        c->min_scale = k.scale[0], c->max_scale = k.scale[1];
    if (!(c->min_scale > 0.05 && c->max_scale >= c->min_scale && c->max_scale <= 20.0))
        return sscma_schema_expected(WHERE, NULL, "scale", "[min, max] with 0.05 < min <= max <= 20",
                                     json_object_get(cfg, "scale"));
    c->max_iou = k.max_iou;
    c->seed = (uint64_t)k.seed;
    if (k.n_classes == 0) { /* absent: every source class (at most 256) */
        c->n_classes = src->n_classes < 256 ? src->n_classes : 256;
        for (int32_t i = 0; i < c->n_classes; i++)
            c->classes[i] = i;
    } else {
        json_t *classes = json_object_get(cfg, "classes");
        for (int32_t i = 0; i < k.n_classes; i++) {
            if (k.classes[i] >= src->n_classes) {
                char at[32], expected[64];
                snprintf(expected, sizeof expected, "a class index of the source 0..%d", (int)src->n_classes - 1);
                return sscma_schema_expected(WHERE, sscma_schema_index(at, sizeof at, "classes", (size_t)i), NULL,
                                             expected, json_array_get(classes, (size_t)i));
            }
            c->classes[c->n_classes++] = k.classes[i];
        }
    }
    compose_splits splits = {200, 50, 0}; /* absent: 200 training and 50 validation images */
    if (k.splits != NULL && sscma_schema_read(split_fields, k.splits, WHERE, "splits", &splits) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    static const char *const names[3] = {"train", "valid", "test"};
    const int64_t sizes[3] = {splits.train, splits.valid, splits.test};
    for (int s = 0; s < 3; s++)
        if (sizes[s] > 0)
            c->split_names[c->n_splits] = names[s], c->split_sizes[c->n_splits++] = sizes[s];
    return SSCMA_OK;
}

static sscma_status make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return sscma_fail(SSCMA_ERR_IO, path, "cannot create the folder: %s", strerror(errno));
    return SSCMA_OK;
}

/* Samples of each chosen class, by their label. */
static sscma_status index_classes(const sscma_dataset *src, const compose_cfg *c, int64_t **members, int64_t *counts)
{
    for (int32_t k = 0; k < c->n_classes; k++) {
        members[k] = sscma_malloc(src->ctx, (size_t)(src->size > 0 ? src->size : 1) * sizeof **members);
        if (members[k] == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot index the source");
        counts[k] = 0;
    }
    for (int64_t i = 0; i < src->size; i++) {
        int64_t j = src->subset != NULL ? src->subset[i] : i;
        int32_t label = src->kind == DATASET_IDX ? src->idx_labels[j] : src->labels != NULL ? src->labels[j] : -1;
        for (int32_t k = 0; k < c->n_classes; k++)
            if (c->classes[k] == label)
                members[k][counts[k]++] = i;
    }
    for (int32_t k = 0; k < c->n_classes; k++)
        if (counts[k] == 0)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "source class %d has no sample", (int)c->classes[k]);
    return SSCMA_OK;
}

static sscma_status compose_split(const sscma_dataset *src, const compose_cfg *c, int32_t split, int64_t **members,
                                  const int64_t *counts)
{
    char dir[2200], path[2300];
    snprintf(dir, sizeof dir, "%s/%s", c->out_dir, c->split_names[split]);
    sscma_status st = make_dir(dir);
    if (st != SSCMA_OK)
        return st;
    const int64_t H = c->h, W = c->w, C = src->kind == DATASET_IDX ? 1 : 0;
    json_t *doc = json_object(), *images = json_array(), *anns = json_array(), *cats = json_array();
    json_object_set_new(doc, "info", json_pack("{s:s,s:s}", "description", "composed by libsscma",
                                                "version", "1.0"));
    json_array_append_new(cats, json_pack("{s:i,s:s,s:s}", "id", 0, "name", c->name, "supercategory", "none"));
    for (int32_t k = 0; k < c->n_classes; k++)
        json_array_append_new(cats, json_pack("{s:i,s:s,s:s}", "id", k + 1, "name",
                                              src->class_names[c->classes[k]], "supercategory", c->name));
    json_object_set_new(doc, "categories", cats);
    json_object_set_new(doc, "images", images);
    json_object_set_new(doc, "annotations", anns);
    int64_t ann_id = 0;
    uint8_t *canvas = NULL, *obj = NULL;
    char *index = NULL; /* meter: the annotation lines */
    size_t index_len = 0, index_cap = 0;
    png_buf png = {.ctx = src->ctx};
    int64_t attempts = 0;
    for (int64_t i = 0; st == SSCMA_OK && i < c->split_sizes[split]; i++) {
        rng r = {sscma_hash64(c->seed * 0x100000001b3ULL + (uint64_t)split * 0x9e37ULL + (uint64_t)i +
                              ((uint64_t)attempts << 40))};
        int64_t channels = C;
        double placed[64][4];
        int32_t n_placed = 0;
        int64_t n_obj = c->min_objects + below(&r, c->max_objects - c->min_objects + 1);
        for (int64_t o = 0; st == SSCMA_OK && o <= n_obj; o++) {
            /* o == 0: the background (its channel count comes from the first object for folder sources) */
            int32_t k = (int32_t)below(&r, c->n_classes);
            int64_t sample = members[k][below(&r, counts[k])];
            uint8_t *pixels = NULL;
            bool borrowed = false;
            int64_t sh = 0, sw = 0, sc = 0;
            int32_t label = -1;
            if ((st = sscma_dataset_read(src, sample, &pixels, &borrowed, &sh, &sw, &sc, &label)) != SSCMA_OK)
                break;
            if (canvas == NULL) {
                channels = sc;
                canvas = sscma_malloc(src->ctx, (size_t)(H * W * channels));
                if (canvas == NULL) {
                    if (!borrowed)
                        sscma_mfree(src->ctx, pixels);
                    st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate an image");
                    break;
                }
            }
            if (o == 0 && c->photos.count > 0) {
                const char *photo = c->photos.items[below(&r, c->photos.count)];
                uint8_t *bg = NULL;
                int64_t bh = 0, bw = 0, bc = 0;
                if ((st = sscma_image_decode(src->ctx, photo, src->max_pixels, (int)channels, &bg, &bh, &bw, &bc)) != SSCMA_OK) {
                    if (!borrowed)
                        sscma_mfree(src->ctx, pixels);
                    break;
                }
                resize_u8(bg, bh, bw, bc, canvas, H, W);
                sscma_mfree(src->ctx, bg);
                if (!borrowed)
                    sscma_mfree(src->ctx, pixels);
                continue;
            }
            if (o == 0) {
                background(src->ctx, &r, canvas, H, W, channels);
                if (!borrowed)
                    sscma_mfree(src->ctx, pixels);
                continue;
            }
            double s = c->min_scale + (c->max_scale - c->min_scale) * uniform(&r);
            int64_t oh = (int64_t)llround((double)sh * s), ow = (int64_t)llround((double)sw * s);
            if (oh < 2 || ow < 2 || oh > H || ow > W || sc != channels) {
                if (!borrowed)
                    sscma_mfree(src->ctx, pixels);
                continue; /* does not fit, or a source image with other channels */
            }
            sscma_mfree(src->ctx, obj);
            obj = sscma_malloc(src->ctx, (size_t)(oh * ow * sc));
            if (obj == NULL) {
                if (!borrowed)
                    sscma_mfree(src->ctx, pixels);
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate an object");
                break;
            }
            resize_u8(pixels, sh, sw, sc, obj, oh, ow);
            if (!borrowed)
                sscma_mfree(src->ctx, pixels);
            int64_t minx = ow, miny = oh, maxx = -1, maxy = -1;
            for (int64_t y = 0; y < oh; y++)
                for (int64_t x = 0; x < ow; x++) {
                    uint8_t v = 0;
                    for (int64_t q = 0; q < sc; q++)
                        v = obj[(y * ow + x) * sc + q] > v ? obj[(y * ow + x) * sc + q] : v;
                    if (v > VISIBLE) {
                        minx = x < minx ? x : minx, maxx = x > maxx ? x : maxx;
                        miny = y < miny ? y : miny, maxy = y > maxy ? y : maxy;
                    }
                }
            if (maxx < 0)
                continue; /* nothing visible */
            double box[4] = {0, 0, 0, 0};
            bool fits = false;
            for (int attempt = 0; attempt < 20 && !fits; attempt++) {
                int64_t px = below(&r, W - ow + 1), py = below(&r, H - oh + 1);
                box[0] = (double)(px + minx), box[1] = (double)(py + miny);
                box[2] = (double)(px + maxx + 1), box[3] = (double)(py + maxy + 1);
                fits = true;
                for (int32_t q = 0; q < n_placed && fits; q++)
                    fits = iou(box, placed[q]) <= c->max_iou;
                if (!fits)
                    continue;
                for (int64_t y = 0; y < oh; y++)
                    for (int64_t x = 0; x < ow; x++) {
                        const uint8_t *src_px = obj + (y * ow + x) * sc;
                        uint8_t *dst_px = canvas + ((py + y) * W + px + x) * channels;
                        uint8_t v = 0;
                        for (int64_t q = 0; q < sc; q++)
                            v = src_px[q] > v ? src_px[q] : v;
                        double a = fmin(1.0, (double)v / 80.0);
                        for (int64_t q = 0; q < channels; q++)
                            dst_px[q] = (uint8_t)lround(a * src_px[q] + (1.0 - a) * dst_px[q]);
                    }
            }
            if (!fits)
                continue;
            memcpy(placed[n_placed++], box, sizeof box);
            if (c->meter) {
                char row[160];
                int len = snprintf(row, sizeof row, "%06lld.png %.2f %.2f %.2f %.2f\n", (long long)i,
                                   (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0, box[0], box[1]);
                if (index_len + (size_t)len + 1 > index_cap) {
                    size_t cap = index_cap ? 2 * index_cap : 4096;
                    char *grown = sscma_mrealloc(src->ctx, index, cap);
                    if (grown == NULL) {
                        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot grow the index");
                        break;
                    }
                    index = grown, index_cap = cap;
                }
                memcpy(index + index_len, row, (size_t)len + 1);
                index_len += (size_t)len;
            }
            json_t *bbox = json_pack("[f,f,f,f]", box[0], box[1], box[2] - box[0], box[3] - box[1]);
            json_array_append_new(anns, json_pack("{s:I,s:I,s:i,s:o,s:f,s:[],s:i}", "id", (json_int_t)ann_id++,
                                                  "image_id", (json_int_t)i, "category_id", k + 1, "bbox", bbox,
                                                  "area", (box[2] - box[0]) * (box[3] - box[1]), "segmentation",
                                                  "iscrowd", 0));
        }
        if (st != SSCMA_OK)
            break;
        if (c->meter && n_placed == 0) {
            i--; /* the object did not fit: draw this image again with the next stream */
            attempts++;
            if (attempts > 1000) {
                st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "objects do not fit the %lldx%lld images at this scale",
                                (long long)H, (long long)W);
                break;
            }
            sscma_mfree(src->ctx, canvas);
            canvas = NULL;
            continue;
        }
        char file[32];
        snprintf(file, sizeof file, "%06lld.png", (long long)i);
        png.size = 0;
        if (!stbi_write_png_to_func(png_write, &png, (int)W, (int)H, (int)channels, canvas, (int)(W * channels)) ||
            png.failed) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot encode %s", file);
            break;
        }
        snprintf(path, sizeof path, "%s/%s", dir, file);
        if ((st = sscma_write_file_atomic(path, png.data, png.size)) != SSCMA_OK)
            break;
        json_array_append_new(images, json_pack("{s:I,s:s,s:I,s:I}", "id", (json_int_t)i, "file_name", file,
                                                "height", (json_int_t)H, "width", (json_int_t)W));
        sscma_mfree(src->ctx, canvas);
        canvas = NULL;
    }
    sscma_mfree(src->ctx, canvas), sscma_mfree(src->ctx, obj), sscma_mfree(src->ctx, png.data);
    if (st == SSCMA_OK && c->meter) {
        snprintf(path, sizeof path, "%s/annotations.txt", dir);
        st = sscma_write_file_atomic(path, index != NULL ? index : "", index_len);
    } else if (st == SSCMA_OK) { /* the annotations last: an interrupted run leaves no annotation file */
        char *text = sscma_json_dumps(src->ctx, doc, JSON_INDENT(1));
        snprintf(path, sizeof path, "%s/_annotations.coco.json", dir);
        st = text == NULL ? sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot format %s", path)
                          : sscma_write_file_atomic(path, text, strlen(text));
        sscma_mfree(src->ctx, text);
    }
    sscma_mfree(src->ctx, index);
    json_decref(doc);
    return st;
}

/*
 * A SensorDataset's windows composed into a new Edge Impulse export: out_dir/info.labels (written last) and one data
 * acquisition JSON per window, out_dir/training/NNNNNN.json (splits.train of them) and out_dir/testing/NNNNNN.json
 * (splits.valid + splits.test: Edge Impulse has no third split). Each window is drawn as compose draws an image's
 * objects: a class uniformly among `classes`, then one of its windows, from the seed. A window's values are written
 * as the source gives them (after its resampling and normalisation), one row per time step, at the source's
 * interval; axes are named axis1..axisN.
 */
typedef struct window_keys {
    const char *out_dir;
    json_t *splits;
    int32_t classes[256], n_classes;
    int64_t seed;
} window_keys;

static const sscma_field window_fields[] = {
    SSCMA_FIELD_STRING(window_keys, out_dir, NULL),
    SSCMA_FIELD_JSON_AS("splits", window_keys, splits),
    SSCMA_FIELD_LIST_AS("classes", window_keys, classes, offsetof(window_keys, n_classes), 1, 0, 0, INT32_MAX, 0),
    SSCMA_FIELD_RANGE(window_keys, seed, 0, 0, INFINITY),
    SSCMA_FIELD_END,
};

/* The keys read into *k, checked and copied into c (out_dir, seed, the chosen classes) and *splits. */
static sscma_status window_compose_cfg(const sscma_dataset *src, json_t *cfg, const window_keys *k, compose_cfg *c,
                                       compose_splits *splits)
{
    if (k->out_dir == NULL || k->out_dir[0] == '\0' || strlen(k->out_dir) >= sizeof c->out_dir - 64)
        return sscma_schema_expected(WHERE, NULL, "out_dir", "the dataset folder to write (at most 1983 bytes)",
                                     json_object_get(cfg, "out_dir"));
    if (k->splits != NULL && sscma_schema_read(split_fields, k->splits, WHERE, "splits", splits) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    snprintf(c->out_dir, sizeof c->out_dir, "%s", k->out_dir);
    c->seed = (uint64_t)k->seed;
    c->n_classes = 0;
    for (int32_t i = 0; k->n_classes == 0 && i < src->n_classes && c->n_classes < 256; i++) {
        bool any = false; /* by default every class that has a sample (Speechcommand's _unknown_ may have none) */
        for (int64_t j = 0; j < src->size && !any; j++)
            any = src->labels[src->subset != NULL ? src->subset[j] : j] == i;
        if (any)
            c->classes[c->n_classes++] = i;
    }
    for (int32_t i = 0; i < k->n_classes; i++) {
        if (k->classes[i] >= src->n_classes) {
            char at[32], expected[64];
            snprintf(expected, sizeof expected, "a class index of the source 0..%d", (int)src->n_classes - 1);
            return sscma_schema_expected(WHERE, sscma_schema_index(at, sizeof at, "classes", (size_t)i), NULL,
                                         expected, json_array_get(json_object_get(cfg, "classes"), (size_t)i));
        }
        c->classes[c->n_classes++] = k->classes[i];
    }
    return SSCMA_OK;
}

/* One window (source numbering) as a data acquisition JSON document. */
static json_t *window_document(const sscma_dataset *src, int64_t sample)
{
    const int64_t k = src->subset != NULL ? src->subset[sample] : sample;
    const int64_t A = src->window_channels, W = src->window_len;
    const float *w = src->windows + k * A * W;
    json_t *sensors = json_array(), *values = json_array();
    for (int64_t a = 0; a < A; a++) {
        char name[32];
        snprintf(name, sizeof name, "axis%lld", (long long)a + 1);
        json_array_append_new(sensors, json_pack("{s:s,s:s}", "name", name, "units", "N/A"));
    }
    for (int64_t t = 0; t < W; t++) {
        json_t *row = json_array();
        for (int64_t a = 0; a < A; a++)
            json_array_append_new(row, json_real((double)w[a * W + t]));
        json_array_append_new(values, row);
    }
    return json_pack("{s:{s:s,s:s},s:s,s:{s:s,s:f,s:o,s:o}}", "protected", "ver", "v1", "alg", "none", "signature",
                     "0000000000000000000000000000000000000000000000000000000000000000", "payload", "device_type",
                     "libsscma compose", "interval_ms", src->window_interval_ms, "sensors", sensors, "values", values);
}

static sscma_status compose_windows(const sscma_dataset *src, json_t *cfg)
{
    if (strcmp(src->type, "SensorDataset") != 0)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "composing a %s is not supported (sensor windows are: a "
                          "SensorDataset)", src->type);
    if (src->window_features)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "the source SensorDataset gives feature images (its "
                          "\"features\"): compose from the dataset without them, which gives the recordings' rows");
    if (src->n_classes < 1)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the source must be a classification dataset (a SensorDataset "
                          "of one recording has no class)");
    if (!(src->window_interval_ms > 0.0))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the source's sampling interval is unknown (recordings of one "
                          "row): set the SensorDataset's frequency");
    window_keys k;
    if (sscma_schema_read(window_fields, cfg, WHERE, NULL, &k) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    compose_cfg *c = sscma_calloc(src->ctx, 1, sizeof *c);
    if (c == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate");
    compose_splits splits = {200, 50, 0};
    sscma_status st = window_compose_cfg(src, cfg, &k, c, &splits);
    int64_t *members[256] = {0}, counts[256] = {0};
    if (st == SSCMA_OK)
        st = index_classes(src, c, members, counts);
    static const char *const categories[2] = {"training", "testing"};
    const int64_t sizes[2] = {splits.train, splits.valid + splits.test};
    char dir[2200], path[2300];
    json_t *files = json_array();
    if (st == SSCMA_OK)
        st = make_dir(c->out_dir);
    for (int32_t split = 0; st == SSCMA_OK && split < 2; split++) {
        snprintf(dir, sizeof dir, "%s/%s", c->out_dir, categories[split]);
        if (sizes[split] > 0)
            st = make_dir(dir);
        for (int64_t i = 0; st == SSCMA_OK && i < sizes[split]; i++) {
            rng r = {sscma_hash64(c->seed * 0x100000001b3ULL + (uint64_t)split * 0x9e37ULL + (uint64_t)i)};
            int32_t cls = (int32_t)below(&r, c->n_classes);
            json_t *doc = window_document(src, members[cls][below(&r, counts[cls])]);
            char *text = doc != NULL ? sscma_json_dumps(src->ctx, doc, JSON_COMPACT) : NULL;
            json_decref(doc);
            char name[32];
            snprintf(name, sizeof name, "%06lld", (long long)i);
            snprintf(path, sizeof path, "%s/%s.json", dir, name);
            st = text == NULL ? sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot format %s", path)
                              : sscma_write_file_atomic(path, text, strlen(text));
            sscma_mfree(src->ctx, text);
            snprintf(path, sizeof path, "%s/%s.json", categories[split], name);
            if (st == SSCMA_OK && json_array_append_new(files, json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "path", path,
                                                        "name", name, "category", categories[split], "label", "type",
                                                        "label", "label", src->class_names[c->classes[cls]])) != 0)
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot grow the index");
        }
    }
    if (st == SSCMA_OK) { /* the index last: an interrupted run leaves no info.labels */
        json_t *index = json_pack("{s:i,s:O}", "version", 1, "files", files);
        char *text = index != NULL ? sscma_json_dumps(src->ctx, index, JSON_INDENT(1)) : NULL;
        json_decref(index);
        snprintf(path, sizeof path, "%s/info.labels", c->out_dir);
        st = text == NULL ? sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot format %s", path)
                          : sscma_write_file_atomic(path, text, strlen(text));
        sscma_mfree(src->ctx, text);
    }
    json_decref(files);
    for (int32_t i = 0; i < 256; i++)
        sscma_mfree(src->ctx, members[i]);
    sscma_mfree(src->ctx, c);
    return st;
}

/* Little-endian fields of a WAV header. */
static void put_le(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* n float samples in [-1, 1] as a 16-bit PCM mono WAV file's bytes (RIFF header, fmt, data) in a block of ctx. */
static uint8_t *wav16(const sscma_context *ctx, const float *x, int64_t n, int64_t rate, size_t *size)
{
    const uint32_t data = (uint32_t)(n * 2);
    uint8_t *b = sscma_malloc(ctx, 44 + (size_t)data);
    if (b == NULL)
        return NULL;
    memcpy(b, "RIFF", 4), put_le(b + 4, 36 + data, 4), memcpy(b + 8, "WAVEfmt ", 8);
    put_le(b + 16, 16, 4), put_le(b + 20, 1, 2), put_le(b + 22, 1, 2), put_le(b + 24, (uint32_t)rate, 4);
    put_le(b + 28, (uint32_t)(rate * 2), 4), put_le(b + 32, 2, 2), put_le(b + 34, 16, 2);
    memcpy(b + 36, "data", 4), put_le(b + 40, data, 4);
    for (int64_t i = 0; i < n; i++) {
        double v = (double)x[i] * 32768.0;
        long q = lround(v < -32768.0 ? -32768.0 : v > 32767.0 ? 32767.0 : v);
        put_le(b + 44 + 2 * i, (uint32_t)(uint16_t)(int16_t)q, 2);
    }
    *size = 44 + (size_t)data;
    return b;
}

/*
 * A Speechcommand set's clips composed into a new Speech Commands layout: out_dir/<class>/<NNNNNN>_nohash_0.wav
 * (16-bit PCM mono at the source's sampling_rate, each clip as the source gives a validation clip: resampled,
 * peak-normalised, cut or padded to segment_length), validation_list.txt and testing_list.txt naming the clips of
 * splits.valid and splits.test (written last); splits.train clips are in neither list. Each clip is drawn as compose
 * draws a window: a class uniformly among `classes`, then one of its clips, from the seed. The source's
 * _background_noise_ files are not copied (a composed set has no silence to cut: leave `silence` at 0 or copy them).
 */
static sscma_status compose_audio(const sscma_dataset *src, json_t *cfg)
{
    if (src->n_classes < 1)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the source must be a classification dataset");
    window_keys k;
    if (sscma_schema_read(window_fields, cfg, WHERE, NULL, &k) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    compose_cfg *c = sscma_calloc(src->ctx, 1, sizeof *c);
    float *clip = sscma_malloc(src->ctx, (size_t)src->window_len * sizeof *clip);
    if (c == NULL || clip == NULL) {
        sscma_mfree(src->ctx, c);
        sscma_mfree(src->ctx, clip);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate");
    }
    compose_splits splits = {200, 50, 0};
    sscma_status st = window_compose_cfg(src, cfg, &k, c, &splits);
    int64_t *members[256] = {0}, counts[256] = {0};
    if (st == SSCMA_OK)
        st = index_classes(src, c, members, counts);
    const int64_t sizes[3] = {splits.train, splits.valid, splits.test};
    size_t list_len[3] = {0, 0, 0}, list_cap[3] = {0, 0, 0};
    char *lists[3] = {NULL, NULL, NULL};
    char dir[2200], path[2900], rel[600];
    if (st == SSCMA_OK)
        st = make_dir(c->out_dir);
    int64_t number = 0;
    for (int32_t split = 0; st == SSCMA_OK && split < 3; split++) {
        for (int64_t i = 0; st == SSCMA_OK && i < sizes[split]; i++, number++) {
            rng r = {sscma_hash64(c->seed * 0x100000001b3ULL + (uint64_t)split * 0x9e37ULL + (uint64_t)i)};
            const int32_t cls = (int32_t)below(&r, c->n_classes);
            const char *name = src->class_names[c->classes[cls]];
            int32_t label = -1;
            if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "class '%s' cannot name a folder", name);
                break;
            }
            snprintf(dir, sizeof dir, "%s/%s", c->out_dir, name);
            if ((st = make_dir(dir)) != SSCMA_OK ||
                (st = sscma_audio_window(src, members[cls][below(&r, counts[cls])], false, 0, clip, &label)) !=
                    SSCMA_OK)
                break;
            snprintf(rel, sizeof rel, "%s/%06lld_nohash_0.wav", name, (long long)number);
            snprintf(path, sizeof path, "%s/%s", c->out_dir, rel);
            size_t size = 0;
            uint8_t *bytes = wav16(src->ctx, clip, src->window_len, src->audio->rate, &size);
            st = bytes == NULL ? sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot format %s", path)
                               : sscma_write_file_atomic(path, bytes, size);
            sscma_mfree(src->ctx, bytes);
            if (st == SSCMA_OK && split > 0) { /* the list line */
                const size_t need = list_len[split] + strlen(rel) + 2;
                if (need > list_cap[split]) {
                    char *grown = sscma_mrealloc(src->ctx, lists[split], 2 * need + 256);
                    if (grown == NULL) {
                        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot grow the lists");
                        break;
                    }
                    lists[split] = grown, list_cap[split] = 2 * need + 256;
                }
                list_len[split] += (size_t)snprintf(lists[split] + list_len[split], list_cap[split] - list_len[split],
                                                    "%s\n", rel);
            }
        }
    }
    static const char *const list_names[3] = {NULL, "validation_list.txt", "testing_list.txt"};
    for (int32_t split = 1; st == SSCMA_OK && split < 3; split++) { /* the lists last */
        snprintf(path, sizeof path, "%s/%s", c->out_dir, list_names[split]);
        st = sscma_write_file_atomic(path, lists[split] != NULL ? lists[split] : "", list_len[split]);
    }
    for (int32_t i = 0; i < 3; i++)
        sscma_mfree(src->ctx, lists[i]);
    for (int32_t i = 0; i < 256; i++)
        sscma_mfree(src->ctx, members[i]);
    sscma_mfree(src->ctx, clip);
    sscma_mfree(src->ctx, c);
    return st;
}

sscma_status sscma_compose_detection(const sscma_dataset *source, const char *config_json)
{
    SSCMA_REQUIRE_NONNULL(source);
    SSCMA_REQUIRE_NONNULL(config_json);
    json_error_t err;
    json_t *cfg = json_loads(config_json, 0, &err);
    if (cfg == NULL)
        return SSCMA_FAIL(SSCMA_ERR_CONFIG, "compose config: line %d, column %d: %s", err.line, err.column, err.text);
    if (source->kind == DATASET_WINDOWS) { /* windows: a new Edge Impulse export or Speech Commands layout */
        sscma_status wst = source->audio != NULL ? compose_audio(source, cfg) : compose_windows(source, cfg);
        json_decref(cfg);
        return wst;
    }
    compose_cfg *c = sscma_calloc(source->ctx, 1, sizeof *c);
    if (c != NULL)
        c->photos.ctx = source->ctx; /* the background photos' paths */
    int64_t *members[256] = {0}, counts[256] = {0};
    sscma_status st = c == NULL ? SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate")
                                 : parse(source, cfg, c);
    if (st == SSCMA_OK && (source->kind == DATASET_BOXES || source->n_classes < 1))
        st = sscma_fail(SSCMA_ERR_CONFIG, WHERE, "the source must be a classification dataset");
    if (st == SSCMA_OK)
        st = index_classes(source, c, members, counts);
    if (st == SSCMA_OK)
        st = make_dir(c->out_dir);
    for (int32_t s = 0; st == SSCMA_OK && s < c->n_splits; s++)
        st = compose_split(source, c, s, members, counts);
    for (int32_t k = 0; k < 256; k++)
        sscma_mfree(source->ctx, members[k]);
    if (c != NULL)
        sscma_strlist_free(&c->photos);
    sscma_mfree(source->ctx, c);
    json_decref(cfg);
    return st;
}
