/*
 * The augmentation pipeline: a list of transforms by SSCMA/mmcv registry name, applied to a float HWC image
 * (values 0..255 until Normalize). Random transforms draw from counter-based streams keyed by (seed, sample,
 * transform position), so a sample's augmentation does not depend on which thread runs it or in what order.
 *
 *   Resize      {"size": [h, w] | s}                      bilinear, half-pixel centres (as OpenCV / PIL)
 *   Pad         {"size": [h, w]} | {"padding": [l, t, r, b]}, "pad_val": 0    size pads right and bottom
 *   RandomCrop  {"size": [h, w], "padding": 0, "pad_val": 0}                    pad all sides, then crop
 *   RandomFlip  {"prob": 0.5, "direction": "horizontal" | "vertical"}
 *   ToGray      {}                                        0.299 R + 0.587 G + 0.114 B
 *   Normalize   {"mean": [...], "std": [...]}             per channel (one value for all)
 * Boxes travel with the image: scaled by Resize, shifted by Pad, shifted and clipped by RandomCrop (a box with no
 * area left is dropped), mirrored by RandomFlip.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "data/data.h"

typedef enum tf_kind { TF_RESIZE, TF_PAD, TF_RANDOM_CROP, TF_RANDOM_FLIP, TF_TO_GRAY, TF_NORMALIZE } tf_kind;

typedef struct transform {
    tf_kind kind;
    int64_t h, w;       /* target size */
    int64_t pad[4];     /* left, top, right, bottom */
    bool pad_to_size;
    float pad_val;
    float prob;
    bool vertical;
    float mean[4], std[4];
    int32_t n_stats;
} transform;

struct sscma_pipeline {
    transform *items;
    int32_t count;
};

#define WHERE "pipeline"

static bool get_size(json_t *v, int64_t *h, int64_t *w)
{
    if (json_is_integer(v)) {
        *h = *w = (int64_t)json_integer_value(v);
    } else if (json_is_array(v) && json_array_size(v) == 2 && json_is_integer(json_array_get(v, 0)) &&
               json_is_integer(json_array_get(v, 1))) {
        *h = (int64_t)json_integer_value(json_array_get(v, 0));
        *w = (int64_t)json_integer_value(json_array_get(v, 1));
    } else {
        return false;
    }
    return *h >= 1 && *w >= 1 && *h <= 16384 && *w <= 16384;
}

static sscma_status check_keys(json_t *obj, size_t index, const char *type, const char *const *valid)
{
    char list[256];
    const char *key = sscma_config_unknown_key(obj, valid, list, sizeof list);
    return key == NULL ? SSCMA_OK
                       : sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (%s): unknown key '%s'; valid keys: %s",
                                    index, type, key, list);
}

static sscma_status parse_one(json_t *obj, size_t i, transform *t)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    memset(t, 0, sizeof *t);
    if (!json_is_object(obj) || type == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu needs a \"type\"", i);
    json_t *pv = json_object_get(obj, "pad_val");
    t->pad_val = json_is_number(pv) ? (float)json_number_value(pv) : 0.0f;
    if (strcmp(type, "Resize") == 0) {
        static const char *const keys[] = {"type", "size", "scale", NULL};
        t->kind = TF_RESIZE;
        json_t *size = json_object_get(obj, "size") ? json_object_get(obj, "size") : json_object_get(obj, "scale");
        if (check_keys(obj, i, type, keys) != SSCMA_OK)
            return SSCMA_ERR_CONFIG;
        if (!get_size(size, &t->h, &t->w))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (Resize): 'size' must be [h, w] or an integer "
                              "in 1..16384", i);
    } else if (strcmp(type, "Pad") == 0) {
        static const char *const keys[] = {"type", "size", "padding", "pad_val", NULL};
        t->kind = TF_PAD;
        if (check_keys(obj, i, type, keys) != SSCMA_OK)
            return SSCMA_ERR_CONFIG;
        json_t *pad = json_object_get(obj, "padding");
        if (json_object_get(obj, "size") != NULL) {
            t->pad_to_size = true;
            if (!get_size(json_object_get(obj, "size"), &t->h, &t->w))
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (Pad): 'size' must be [h, w]", i);
        } else if (json_is_integer(pad) && json_integer_value(pad) >= 0 && json_integer_value(pad) <= 4096) {
            for (int k = 0; k < 4; k++)
                t->pad[k] = (int64_t)json_integer_value(pad);
        } else if (json_is_array(pad) && json_array_size(pad) == 4) {
            for (int k = 0; k < 4; k++) {
                json_t *v = json_array_get(pad, (size_t)k);
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4096)
                    return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (Pad): 'padding' values are 0..4096", i);
                t->pad[k] = (int64_t)json_integer_value(v);
            }
        } else {
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (Pad): give 'size' [h, w] or 'padding' "
                              "(an integer or [left, top, right, bottom])", i);
        }
    } else if (strcmp(type, "RandomCrop") == 0) {
        static const char *const keys[] = {"type", "size", "crop_size", "padding", "pad_val", NULL};
        t->kind = TF_RANDOM_CROP;
        if (check_keys(obj, i, type, keys) != SSCMA_OK)
            return SSCMA_ERR_CONFIG;
        json_t *size = json_object_get(obj, "size") ? json_object_get(obj, "size") : json_object_get(obj, "crop_size");
        json_t *pad = json_object_get(obj, "padding");
        if (!get_size(size, &t->h, &t->w))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (RandomCrop): 'size' must be [h, w]", i);
        if (pad != NULL && (!json_is_integer(pad) || json_integer_value(pad) < 0 || json_integer_value(pad) > 4096))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (RandomCrop): 'padding' is 0..4096", i);
        for (int k = 0; k < 4; k++)
            t->pad[k] = pad != NULL ? (int64_t)json_integer_value(pad) : 0;
    } else if (strcmp(type, "RandomFlip") == 0) {
        static const char *const keys[] = {"type", "prob", "direction", NULL};
        t->kind = TF_RANDOM_FLIP;
        if (check_keys(obj, i, type, keys) != SSCMA_OK)
            return SSCMA_ERR_CONFIG;
        json_t *p = json_object_get(obj, "prob");
        const char *dir = json_string_value(json_object_get(obj, "direction"));
        t->prob = p == NULL ? 0.5f : (float)json_number_value(p);
        if ((p != NULL && !json_is_number(p)) || !(t->prob >= 0.0f && t->prob <= 1.0f))
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (RandomFlip): 'prob' must be in 0..1", i);
        if (dir != NULL && strcmp(dir, "horizontal") != 0 && strcmp(dir, "vertical") != 0)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (RandomFlip): 'direction' is horizontal or "
                              "vertical, not '%s'", i, dir);
        t->vertical = dir != NULL && strcmp(dir, "vertical") == 0;
    } else if (strcmp(type, "ToGray") == 0) {
        static const char *const keys[] = {"type", NULL};
        t->kind = TF_TO_GRAY;
        if (check_keys(obj, i, type, keys) != SSCMA_OK)
            return SSCMA_ERR_CONFIG;
    } else if (strcmp(type, "Normalize") == 0) {
        static const char *const keys[] = {"type", "mean", "std", "to_rgb", NULL};
        t->kind = TF_NORMALIZE;
        if (check_keys(obj, i, type, keys) != SSCMA_OK)
            return SSCMA_ERR_CONFIG;
        json_t *mean = json_object_get(obj, "mean"), *std = json_object_get(obj, "std");
        size_t n = json_array_size(mean);
        if (!json_is_array(mean) || !json_is_array(std) || n < 1 || n > 4 || json_array_size(std) != n)
            return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (Normalize): 'mean' and 'std' must be lists "
                              "of 1 to 4 numbers of the same length", i);
        for (size_t k = 0; k < n; k++) {
            json_t *m = json_array_get(mean, k), *s = json_array_get(std, k);
            if (!json_is_number(m) || !json_is_number(s) || !(json_number_value(s) > 0.0))
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu (Normalize): entry %zu: numbers, std > 0",
                                  i, k);
            t->mean[k] = (float)json_number_value(m);
            t->std[k] = (float)json_number_value(s);
        }
        t->n_stats = (int32_t)n;
    } else {
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "transform %zu: unknown type '%s'; known: Resize, Pad, RandomCrop, "
                          "RandomFlip, ToGray, Normalize", i, type);
    }
    return SSCMA_OK;
}

sscma_status sscma_pipeline_create(sscma_context *ctx, json_t *list, sscma_pipeline **out)
{
    (void)ctx;
    if (list != NULL && !json_is_array(list))
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "'pipeline' must be a list of transforms");
    sscma_pipeline *p = calloc(1, sizeof *p);
    size_t n = list != NULL ? json_array_size(list) : 0;
    if (p == NULL || (n > 0 && (p->items = calloc(n, sizeof *p->items)) == NULL)) {
        free(p);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the pipeline");
    }
    for (size_t i = 0; i < n; i++) {
        sscma_status st = parse_one(json_array_get(list, i), i, &p->items[i]);
        if (st != SSCMA_OK) {
            sscma_pipeline_destroy(p);
            return st;
        }
        p->count++;
    }
    *out = p;
    return SSCMA_OK;
}

void sscma_pipeline_destroy(sscma_pipeline *p)
{
    if (p == NULL)
        return;
    free(p->items);
    free(p);
}

bool sscma_pipeline_output_shape(const sscma_pipeline *p, int64_t h, int64_t w, int64_t c, int64_t *oh, int64_t *ow,
                                 int64_t *oc, bool *fixed)
{
    bool known = h > 0 && w > 0;
    *fixed = false;
    for (int32_t i = 0; i < p->count; i++) {
        const transform *t = &p->items[i];
        switch (t->kind) {
        case TF_RESIZE:
        case TF_RANDOM_CROP:
            h = t->h, w = t->w, known = true, *fixed = true;
            break;
        case TF_PAD:
            if (t->pad_to_size) {
                h = t->h, w = t->w, known = true, *fixed = true;
            } else if (known) {
                h += t->pad[1] + t->pad[3];
                w += t->pad[0] + t->pad[2];
            }
            break;
        case TF_TO_GRAY: c = 1; break;
        case TF_RANDOM_FLIP:
        case TF_NORMALIZE: break;
        }
    }
    *oh = h, *ow = w, *oc = c;
    return known;
}

static bool reserve(sscma_image *img, int64_t floats)
{
    if ((size_t)floats <= img->capacity)
        return true;
    float *d = realloc(img->data, (size_t)floats * sizeof *d);
    if (d == NULL)
        return false;
    img->data = d;
    img->capacity = (size_t)floats;
    return true;
}

/* Exchanges the pixel buffers (the boxes stay with `a`, the image being transformed). */
static void swap(sscma_image *a, sscma_image *b)
{
    sscma_image t = *a;
    a->data = b->data, a->capacity = b->capacity, a->h = b->h, a->w = b->w, a->c = b->c;
    b->data = t.data, b->capacity = t.capacity, b->h = t.h, b->w = t.w, b->c = t.c;
}

/* x' = x * sx + dx, y' = y * sy + dy for every box, then clip to the w x h image, dropping boxes with no area. */
static void move_boxes(sscma_image *img, float sx, float sy, float dx, float dy, float w, float h)
{
    for (int32_t i = 0; i < img->n_keypoints; i++) { /* keypoints move the same way and are never dropped */
        img->keypoints[2 * i] = img->keypoints[2 * i] * sx + dx;
        img->keypoints[2 * i + 1] = img->keypoints[2 * i + 1] * sy + dy;
    }
    int32_t kept = 0;
    for (int32_t i = 0; i < img->n_boxes; i++) {
        float *b = img->boxes + 4 * i;
        float x1 = fminf(fmaxf(b[0] * sx + dx, 0.0f), w), y1 = fminf(fmaxf(b[1] * sy + dy, 0.0f), h);
        float x2 = fminf(fmaxf(b[2] * sx + dx, 0.0f), w), y2 = fminf(fmaxf(b[3] * sy + dy, 0.0f), h);
        if (x2 <= x1 || y2 <= y1)
            continue;
        float *o = img->boxes + 4 * kept;
        o[0] = x1, o[1] = y1, o[2] = x2, o[3] = y2;
        img->box_labels[kept++] = img->box_labels[i];
    }
    img->n_boxes = kept;
}

/* Bilinear resize with half-pixel centres (OpenCV's INTER_LINEAR, PIL's BILINEAR when enlarging). */
static void resize(const sscma_image *src, sscma_image *dst, int64_t oh, int64_t ow)
{
    const int64_t c = src->c;
    float sy = (float)src->h / (float)oh, sx = (float)src->w / (float)ow;
    for (int64_t y = 0; y < oh; y++) {
        float fy = ((float)y + 0.5f) * sy - 0.5f;
        if (fy < 0.0f)
            fy = 0.0f;
        int64_t y0 = (int64_t)fy, y1 = y0 + 1 < src->h ? y0 + 1 : src->h - 1;
        float wy = fy - (float)y0;
        for (int64_t x = 0; x < ow; x++) {
            float fx = ((float)x + 0.5f) * sx - 0.5f;
            if (fx < 0.0f)
                fx = 0.0f;
            int64_t x0 = (int64_t)fx, x1 = x0 + 1 < src->w ? x0 + 1 : src->w - 1;
            float wx = fx - (float)x0;
            const float *a = src->data + (y0 * src->w + x0) * c, *b = src->data + (y0 * src->w + x1) * c;
            const float *d = src->data + (y1 * src->w + x0) * c, *e = src->data + (y1 * src->w + x1) * c;
            float *o = dst->data + (y * ow + x) * c;
            for (int64_t k = 0; k < c; k++)
                o[k] = (a[k] * (1.0f - wx) + b[k] * wx) * (1.0f - wy) + (d[k] * (1.0f - wx) + e[k] * wx) * wy;
        }
    }
    dst->h = oh, dst->w = ow, dst->c = c;
}

/* dst = src placed at (left, top) on an oh x ow canvas of pad_val (src may be cropped by negative offsets). */
static void place(const sscma_image *src, sscma_image *dst, int64_t oh, int64_t ow, int64_t left, int64_t top,
                  float pad_val)
{
    const int64_t c = src->c;
    for (int64_t i = 0; i < oh * ow * c; i++)
        dst->data[i] = pad_val;
    for (int64_t y = 0; y < src->h; y++) {
        int64_t ty = y + top;
        if (ty < 0 || ty >= oh)
            continue;
        for (int64_t x = 0; x < src->w; x++) {
            int64_t tx = x + left;
            if (tx < 0 || tx >= ow)
                continue;
            memcpy(dst->data + (ty * ow + tx) * c, src->data + (y * src->w + x) * c, (size_t)c * sizeof(float));
        }
    }
    dst->h = oh, dst->w = ow, dst->c = c;
}

sscma_status sscma_pipeline_apply(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch, uint64_t seed,
                                  uint64_t sample)
{
    for (int32_t i = 0; i < p->count; i++) {
        const transform *t = &p->items[i];
        uint64_t stream = sscma_hash64(seed ^ ((uint64_t)i << 48));
        switch (t->kind) {
        case TF_RESIZE:
            if (!reserve(scratch, t->h * t->w * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resize to %lldx%lld", (long long)t->h,
                                  (long long)t->w);
            move_boxes(img, (float)t->w / (float)img->w, (float)t->h / (float)img->h, 0.0f, 0.0f, (float)t->w,
                       (float)t->h);
            resize(img, scratch, t->h, t->w);
            swap(img, scratch);
            break;
        case TF_PAD: {
            int64_t oh = t->pad_to_size ? t->h : img->h + t->pad[1] + t->pad[3];
            int64_t ow = t->pad_to_size ? t->w : img->w + t->pad[0] + t->pad[2];
            if (oh < img->h || ow < img->w)
                return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "Pad: the image is %lldx%lld, larger than the size %lldx%lld",
                                  (long long)img->h, (long long)img->w, (long long)oh, (long long)ow);
            if (!reserve(scratch, oh * ow * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot pad");
            place(img, scratch, oh, ow, t->pad_to_size ? 0 : t->pad[0], t->pad_to_size ? 0 : t->pad[1], t->pad_val);
            move_boxes(img, 1.0f, 1.0f, (float)(t->pad_to_size ? 0 : t->pad[0]), (float)(t->pad_to_size ? 0 : t->pad[1]),
                       (float)ow, (float)oh);
            swap(img, scratch);
            break;
        }
        case TF_RANDOM_CROP: {
            int64_t ph = img->h + 2 * t->pad[0], pw = img->w + 2 * t->pad[0];
            if (ph < t->h || pw < t->w)
                return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "RandomCrop: %lldx%lld (padded) is smaller than the crop "
                                  "%lldx%lld", (long long)ph, (long long)pw, (long long)t->h, (long long)t->w);
            int64_t oy = (int64_t)(sscma_uniform(stream, sample, 0) * (float)(ph - t->h + 1));
            int64_t ox = (int64_t)(sscma_uniform(stream, sample, 1) * (float)(pw - t->w + 1));
            if (!reserve(scratch, t->h * t->w * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot crop");
            place(img, scratch, t->h, t->w, t->pad[0] - ox, t->pad[0] - oy, t->pad_val);
            move_boxes(img, 1.0f, 1.0f, (float)(t->pad[0] - ox), (float)(t->pad[0] - oy), (float)t->w, (float)t->h);
            swap(img, scratch);
            break;
        }
        case TF_RANDOM_FLIP:
            if (sscma_uniform(stream, sample, 0) < t->prob) {
                const int64_t c = img->c;
                for (int32_t q = 0; q < img->n_keypoints; q++) {
                    float *v = img->keypoints + 2 * q + (t->vertical ? 1 : 0);
                    *v = (t->vertical ? (float)img->h : (float)img->w) - *v;
                }
                for (int32_t b = 0; b < img->n_boxes; b++) { /* mirrored: the corners swap */
                    float *bx = img->boxes + 4 * b;
                    const int k = t->vertical ? 1 : 0;
                    const float size = t->vertical ? (float)img->h : (float)img->w, lo = bx[k], hi = bx[k + 2];
                    bx[k] = size - hi, bx[k + 2] = size - lo;
                }
                if (t->vertical) {
                    for (int64_t y = 0; y < img->h / 2; y++)
                        for (int64_t k = 0; k < img->w * c; k++) {
                            float *a = img->data + y * img->w * c + k, *b = img->data + (img->h - 1 - y) * img->w * c + k;
                            float v = *a;
                            *a = *b, *b = v;
                        }
                } else {
                    for (int64_t y = 0; y < img->h; y++)
                        for (int64_t x = 0; x < img->w / 2; x++)
                            for (int64_t k = 0; k < c; k++) {
                                float *a = img->data + (y * img->w + x) * c + k;
                                float *b = img->data + (y * img->w + img->w - 1 - x) * c + k;
                                float v = *a;
                                *a = *b, *b = v;
                            }
                }
            }
            break;
        case TF_TO_GRAY:
            if (img->c == 3) {
                for (int64_t i2 = 0; i2 < img->h * img->w; i2++) {
                    const float *px = img->data + i2 * 3;
                    img->data[i2] = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
                }
                img->c = 1;
            }
            break;
        case TF_NORMALIZE: {
            if (t->n_stats != 1 && t->n_stats != img->c)
                return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "Normalize has %d means for an image with %lld channels",
                                  (int)t->n_stats, (long long)img->c);
            int64_t n = img->h * img->w;
            for (int64_t i2 = 0; i2 < n; i2++)
                for (int64_t k = 0; k < img->c; k++) {
                    int32_t s = t->n_stats == 1 ? 0 : (int32_t)k;
                    img->data[i2 * img->c + k] = (img->data[i2 * img->c + k] - t->mean[s]) / t->std[s];
                }
            break;
        }
        }
    }
    return SSCMA_OK;
}
