/*
 * The augmentation pipeline: a list of transforms by SSCMA/mmcv registry name, applied to a float HWC image
 * (values 0..255 until Normalize). Random transforms draw from counter-based streams keyed by (seed, sample,
 * transform position), so a sample's augmentation does not depend on which thread runs it or in what order.
 * Keys and defaults (an alias after '|'; [h, w] keys take one integer for both):
 *
 *   Resize      {"size" | "scale": [h, w], "keep_ratio": false}  bilinear, half-pixel centres (as OpenCV / PIL)
 *   Pad         {"size": [h, w]} | {"padding": p | [l, t, r, b]}, "pad_val": 0    size pads right and bottom
 *   RandomCrop  {"size" | "crop_size": [h, w], "padding": 0, "pad_val": 0}      pad all sides, then crop
 *   RandomFlip  {"prob": 0.5, "direction": "horizontal" | "vertical"}
 *   ToGray      {}                                        0.299 R + 0.587 G + 0.114 B
 *   ToRGB       {}                                        a 1-channel image copied into 3
 *   Normalize   {"mean": [...], "std": [...]}             per channel (one value for all)
 *   LetterResize {"scale" | "size": [h, w], "pad_val": 114, "allow_scale_up": true}  keep the ratio, pad (centred)
 *   HSVRandomAug {"hue_delta": 5, "saturation_delta": 30, "value_delta": 30}  OpenCV HSV units (H 0..180), RGB only
 *               (a 1-channel image gets the value change)
 *   ColorJitter {"brightness": 0, "contrast": 0, "saturation": 0}             factors drawn in [1 - x, 1 + x]
 *   Blur        {"ksize" | "blur_limit": 3, "prob" | "p": 1}  box filter;  MedianBlur: the same keys, odd sizes;
 *               edges replicated
 *   RandomAffine {"max_rotate_degree": 10, "max_translate_ratio": 0.1, "scaling_ratio_range": [0.5, 1.5],
 *                "max_shear_degree": 2, "border_val": 114}    mmdet's order: translate . shear . rotate . scale
 *   RandomRotate {"degrees": 10 | [min, max], "prob": 0.5, "border_val": 0}   about the centre
 * Boxes travel with the image: scaled by Resize, shifted by Pad, shifted and clipped by RandomCrop (a box with no
 * area left is dropped), mirrored by RandomFlip.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "data/data.h"

typedef enum tf_kind {
    TF_RESIZE,
    TF_PAD,
    TF_RANDOM_CROP,
    TF_RANDOM_FLIP,
    TF_TO_GRAY,
    TF_TO_RGB,
    TF_NORMALIZE,
    TF_LETTER_RESIZE,
    TF_HSV,
    TF_COLOR_JITTER,
    TF_BLUR,
    TF_MEDIAN_BLUR,
    TF_AFFINE /* RandomAffine and RandomRotate */
} tf_kind;

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
    bool scale_up;                  /* LetterResize */
    float deltas[4];                /* HSVRandomAug: hue, saturation, value; ColorJitter: b, c, s */
    int64_t kh, kw;                 /* blur kernels */
    float rot_min, rot_max, translate, scale_min, scale_max, shear; /* affine (degrees, ratios) */
} transform;

struct sscma_pipeline {
    const sscma_context *ctx;
    transform *items;
    int32_t count;
};

#define WHERE "pipeline"

/*
 * Reading a transform: one field table per type over tf_cfg (keys named as SSCMA, mmcv and mmdet name them, with
 * their defaults and ranges), then the type's build function for the rules across keys. Every message has the
 * schema's format, `where` being the type (the pipeline comes as JSON, without its file) and the path its place in
 * the list: "RandomFlip: pipeline[2].prob: expected a number 0..1, got 1.5". Aliases (size/scale, prob/p,
 * ksize/blur_limit, size/crop_size) are both in the table; given together they must agree.
 */
typedef struct tf_cfg {
    json_t *size, *scale, *crop_size, *padding, *ksize, *blur_limit, *degrees; /* a number or a list: read_shape() */
    bool keep_ratio, allow_scale_up, to_rgb;
    float pad_val, border_val, prob, p;
    int direction; /* flip_directions */
    int64_t crop_padding;
    float mean[4], std[4];
    int32_t n_mean, n_std;
    float hue_delta, saturation_delta, value_delta, brightness, contrast, saturation;
    float max_rotate_degree, max_translate_ratio, max_shear_degree, scaling_ratio_range[2];
    int32_t n_scaling_ratio_range;
} tf_cfg;

static const char *const flip_directions[] = {"horizontal", "vertical", NULL};

static const sscma_field type_only_fields[] = {SSCMA_FIELD_KEY("type"), SSCMA_FIELD_END};

static const sscma_field resize_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("size", tf_cfg, size), /* required, size_shape */
    SSCMA_FIELD_JSON_AS("scale", tf_cfg, scale),
    SSCMA_FIELD(tf_cfg, keep_ratio, false),
    SSCMA_FIELD_END,
};

static const sscma_field pad_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("size", tf_cfg, size),       /* size_shape ... */
    SSCMA_FIELD_JSON_AS("padding", tf_cfg, padding), /* ... or padding_shape */
    SSCMA_FIELD(tf_cfg, pad_val, 0.0),
    SSCMA_FIELD_END,
};

static const sscma_field random_crop_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("size", tf_cfg, size), /* required, size_shape */
    SSCMA_FIELD_JSON_AS("crop_size", tf_cfg, crop_size),
    SSCMA_FIELD_AS("padding", tf_cfg, crop_padding, 0, true, 0, 4096, 0), /* every side */
    SSCMA_FIELD(tf_cfg, pad_val, 0.0),
    SSCMA_FIELD_END,
};

static const sscma_field random_flip_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(tf_cfg, prob, 0.5, 0.0, 1.0),
    SSCMA_FIELD_ENUM_AS("direction", tf_cfg, direction, 0, flip_directions, 0),
    SSCMA_FIELD_END,
};

static const sscma_field normalize_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_LIST_AS("mean", tf_cfg, mean, offsetof(tf_cfg, n_mean), 1, 0.0, 1.0, 0.0, 0), /* required */
    SSCMA_FIELD_LIST_AS("std", tf_cfg, std, offsetof(tf_cfg, n_std), 1, 1.0, 1.0, 0.0, 0),    /* required, > 0 */
    SSCMA_FIELD(tf_cfg, to_rgb, true), /* images are decoded as RGB already */
    SSCMA_FIELD_END,
};

static const sscma_field letter_resize_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("scale", tf_cfg, scale), /* required, size_shape */
    SSCMA_FIELD_JSON_AS("size", tf_cfg, size),
    SSCMA_FIELD(tf_cfg, pad_val, 114.0),
    SSCMA_FIELD(tf_cfg, allow_scale_up, true),
    SSCMA_FIELD_END,
};

static const sscma_field hsv_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(tf_cfg, hue_delta, 5.0, 0.0, 180.0),
    SSCMA_FIELD_RANGE(tf_cfg, saturation_delta, 30.0, 0.0, 255.0),
    SSCMA_FIELD_RANGE(tf_cfg, value_delta, 30.0, 0.0, 255.0),
    SSCMA_FIELD_END,
};

static const sscma_field color_jitter_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(tf_cfg, brightness, 0.0, 0.0, 1.0),
    SSCMA_FIELD_RANGE(tf_cfg, contrast, 0.0, 0.0, 1.0),
    SSCMA_FIELD_RANGE(tf_cfg, saturation, 0.0, 0.0, 1.0),
    SSCMA_FIELD_END,
};

static const sscma_field blur_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("ksize", tf_cfg, ksize), /* ksize_shape, 3 when absent */
    SSCMA_FIELD_JSON_AS("blur_limit", tf_cfg, blur_limit),
    SSCMA_FIELD_RANGE(tf_cfg, prob, 1.0, 0.0, 1.0),
    SSCMA_FIELD_RANGE(tf_cfg, p, 1.0, 0.0, 1.0),
    SSCMA_FIELD_END,
};

static const sscma_field random_affine_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(tf_cfg, max_rotate_degree, 10.0, 0.0, 180.0),
    SSCMA_FIELD_RANGE(tf_cfg, max_translate_ratio, 0.1, 0.0, 1.0),
    SSCMA_FIELD_LIST_AS("scaling_ratio_range", tf_cfg, scaling_ratio_range, offsetof(tf_cfg, n_scaling_ratio_range),
                        2, 0.0, 0.01, 100.0, 0), /* [0.5, 1.5] when absent */
    SSCMA_FIELD_RANGE(tf_cfg, max_shear_degree, 2.0, 0.0, 45.0),
    SSCMA_FIELD(tf_cfg, border_val, 114.0),
    SSCMA_FIELD_END,
};

static const sscma_field random_rotate_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("degrees", tf_cfg, degrees), /* degrees_shape, 10 when absent */
    SSCMA_FIELD_RANGE(tf_cfg, prob, 0.5, 0.0, 1.0),
    SSCMA_FIELD(tf_cfg, border_val, 0.0),
    SSCMA_FIELD_END,
};

typedef struct tf_reader {
    const char *where; /* the transform's type */
    const char *path;  /* "pipeline[<i>]" */
    json_t *obj;
} tf_reader;

/* A key given as a number or as a list of n numbers (read_shape). */
typedef struct shape_spec {
    int32_t n;
    bool integer, odd; /* entries are (odd) integers */
    bool symmetric;    /* a number x is [-x, x] and a list [min, max] with min <= max; else a number fills the list */
    double lo, hi;     /* every entry */
    const char *expected;
} shape_spec;

static const shape_spec size_shape = {2, true, false, false, 1, 16384,
                                      "an integer 1..16384 or [h, w] of integers 1..16384"};
static const shape_spec padding_shape = {4, true, false, false, 0, 4096,
                                         "an integer 0..4096 or [left, top, right, bottom] of integers 0..4096"};
static const shape_spec ksize_shape = {2, true, false, false, 1, 31, "an integer 1..31 or [h, w] of integers 1..31"};
static const shape_spec median_ksize_shape = {2, true, true, false, 1, 31,
                                              "an odd integer 1..31 or [h, w] of odd integers 1..31"};
static const shape_spec degrees_shape = {2, false, false, true, -360, 360,
                                         "a number 0..360 or [min, max] with -360 <= min <= max <= 360"};

static bool given(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v != NULL && !json_is_null(v);
}

/* Two aliases given together must agree: "Blur: pipeline[2].p: expected the same value as its alias 'prob', ..." */
static sscma_status aliases_agree(const tf_reader *r, const char *key, const char *alias, bool same)
{
    if (same || !given(r->obj, key) || !given(r->obj, alias))
        return SSCMA_OK;
    char text[96];
    snprintf(text, sizeof text, "the same value as its alias '%s'", key);
    return sscma_schema_expected(r->where, r->path, alias, text, json_object_get(r->obj, alias));
}

/* `key`'s value v (NULL: absent, out untouched) as a number or a list of s->n numbers into out. */
static sscma_status read_shape(const tf_reader *r, const shape_spec *s, const char *key, json_t *v, double *out)
{
    double e[4];
    bool ok = true;
    if (v == NULL)
        return SSCMA_OK;
    if (json_is_number(v)) {
        ok = !s->integer || json_is_integer(v);
        for (int32_t k = 0; k < s->n; k++)
            e[k] = s->symmetric && k == 0 ? -json_number_value(v) : json_number_value(v);
    } else if (json_is_array(v) && json_array_size(v) == (size_t)s->n) {
        for (int32_t k = 0; k < s->n; k++) {
            json_t *x = json_array_get(v, (size_t)k);
            ok = ok && (s->integer ? json_is_integer(x) : json_is_number(x));
            e[k] = json_number_value(x);
        }
    } else {
        ok = false;
    }
    for (int32_t k = 0; ok && k < s->n; k++)
        ok = e[k] >= s->lo && e[k] <= s->hi && (!s->odd || fmod(e[k], 2.0) != 0.0);
    if (ok && s->symmetric && e[0] > e[1])
        ok = false;
    if (!ok)
        return sscma_schema_expected(r->where, r->path, key, s->expected, v);
    memcpy(out, e, (size_t)s->n * sizeof *e);
    return SSCMA_OK;
}

/* read_shape of a key or its alias (both given: the same value); `required`: one of them must be given. */
static sscma_status read_shape_alias(const tf_reader *r, const shape_spec *s, const char *key, json_t *v,
                                     const char *alias, json_t *va, bool required, double *out)
{
    double a[4], b[4];
    memcpy(a, out, (size_t)s->n * sizeof *a);
    memcpy(b, out, (size_t)s->n * sizeof *b);
    sscma_status st = read_shape(r, s, key, v, a);
    if (st == SSCMA_OK)
        st = read_shape(r, s, alias, va, b);
    if (st == SSCMA_OK)
        st = aliases_agree(r, key, alias, v == NULL || va == NULL || memcmp(a, b, (size_t)s->n * sizeof *a) == 0);
    if (st == SSCMA_OK && required && v == NULL && va == NULL)
        st = sscma_schema_expected(r->where, r->path, key, s->expected, NULL);
    if (st == SSCMA_OK)
        memcpy(out, v == NULL && va != NULL ? b : a, (size_t)s->n * sizeof *out);
    return st;
}

static sscma_status build_resize(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double hw[2] = {0, 0};
    sscma_status st = read_shape_alias(r, &size_shape, "size", c->size, "scale", c->scale, true, hw);
    t->h = (int64_t)hw[0], t->w = (int64_t)hw[1];
    t->scale_up = c->keep_ratio; /* keep_ratio, for Resize */
    return st;
}

static sscma_status build_pad(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double hw[2] = {0, 0}, pad[4] = {0, 0, 0, 0};
    t->pad_val = c->pad_val;
    if (c->size != NULL && c->padding != NULL)
        return sscma_schema_expected(r->where, r->path, "padding", "no 'padding' with a 'size' (pad to a size or "
                                     "by a padding)", c->padding);
    if (c->size == NULL && c->padding == NULL)
        return sscma_schema_expected(r->where, r->path, NULL, "'size' (an integer or [h, w]) or 'padding' (an "
                                     "integer or [left, top, right, bottom])", NULL);
    t->pad_to_size = c->size != NULL;
    sscma_status st = read_shape(r, &size_shape, "size", c->size, hw);
    if (st == SSCMA_OK)
        st = read_shape(r, &padding_shape, "padding", c->padding, pad);
    t->h = (int64_t)hw[0], t->w = (int64_t)hw[1];
    for (int k = 0; k < 4; k++)
        t->pad[k] = (int64_t)pad[k];
    return st;
}

static sscma_status build_random_crop(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double hw[2] = {0, 0};
    sscma_status st = read_shape_alias(r, &size_shape, "size", c->size, "crop_size", c->crop_size, true, hw);
    t->h = (int64_t)hw[0], t->w = (int64_t)hw[1];
    for (int k = 0; k < 4; k++)
        t->pad[k] = c->crop_padding;
    t->pad_val = c->pad_val;
    return st;
}

static sscma_status build_random_flip(const tf_reader *r, const tf_cfg *c, transform *t)
{
    (void)r;
    t->prob = c->prob;
    t->vertical = c->direction == 1;
    return SSCMA_OK;
}

static sscma_status build_normalize(const tf_reader *r, const tf_cfg *c, transform *t)
{
    if (c->n_mean == 0)
        return sscma_schema_expected(r->where, r->path, "mean", "a list of 1 to 4 numbers", NULL);
    json_t *std = json_object_get(r->obj, "std");
    if (c->n_std != c->n_mean) {
        char text[64];
        snprintf(text, sizeof text, "a list of %d number%s (one per mean)", (int)c->n_mean, c->n_mean > 1 ? "s" : "");
        return sscma_schema_expected(r->where, r->path, "std", text, c->n_std == 0 ? NULL : std);
    }
    for (int32_t k = 0; k < c->n_mean; k++) {
        char key[48];
        if (!(c->std[k] > 0.0f)) /* "pipeline[0].std[1]: expected a number > 0, got 0" */
            return sscma_schema_expected(r->where, r->path, sscma_schema_index(key, sizeof key, "std", (size_t)k),
                                         "a number > 0", json_array_get(std, (size_t)k));
        t->mean[k] = c->mean[k], t->std[k] = c->std[k];
    }
    t->n_stats = c->n_mean;
    return SSCMA_OK;
}

static sscma_status build_letter_resize(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double hw[2] = {0, 0};
    sscma_status st = read_shape_alias(r, &size_shape, "scale", c->scale, "size", c->size, true, hw);
    t->h = (int64_t)hw[0], t->w = (int64_t)hw[1];
    t->pad_val = c->pad_val;
    t->scale_up = c->allow_scale_up;
    return st;
}

static sscma_status build_hsv(const tf_reader *r, const tf_cfg *c, transform *t)
{
    (void)r;
    t->deltas[0] = c->hue_delta, t->deltas[1] = c->saturation_delta, t->deltas[2] = c->value_delta;
    return SSCMA_OK;
}

static sscma_status build_color_jitter(const tf_reader *r, const tf_cfg *c, transform *t)
{
    (void)r;
    t->deltas[0] = c->brightness, t->deltas[1] = c->contrast, t->deltas[2] = c->saturation;
    return SSCMA_OK;
}

static sscma_status build_blur(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double k[2] = {3, 3};
    const shape_spec *s = t->kind == TF_MEDIAN_BLUR ? &median_ksize_shape : &ksize_shape;
    sscma_status st = read_shape_alias(r, s, "ksize", c->ksize, "blur_limit", c->blur_limit, false, k);
    if (st == SSCMA_OK)
        st = aliases_agree(r, "prob", "p", c->prob == c->p);
    t->kh = (int64_t)k[0], t->kw = (int64_t)k[1];
    t->prob = given(r->obj, "p") ? c->p : c->prob;
    return st;
}

static sscma_status build_random_affine(const tf_reader *r, const tf_cfg *c, transform *t)
{
    t->prob = 1.0f;
    t->rot_min = -c->max_rotate_degree, t->rot_max = c->max_rotate_degree;
    t->translate = c->max_translate_ratio, t->shear = c->max_shear_degree;
    t->scale_min = 0.5f, t->scale_max = 1.5f;
    if (c->n_scaling_ratio_range == 2) {
        if (c->scaling_ratio_range[0] > c->scaling_ratio_range[1])
            return sscma_schema_expected(r->where, r->path, "scaling_ratio_range", "[min, max] with min <= max",
                                         json_object_get(r->obj, "scaling_ratio_range"));
        t->scale_min = c->scaling_ratio_range[0], t->scale_max = c->scaling_ratio_range[1];
    }
    t->pad_val = c->border_val;
    return SSCMA_OK;
}

static sscma_status build_random_rotate(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double range[2] = {-10, 10};
    sscma_status st = read_shape(r, &degrees_shape, "degrees", c->degrees, range);
    t->rot_min = (float)range[0], t->rot_max = (float)range[1];
    t->scale_min = t->scale_max = 1.0f;
    t->prob = c->prob;
    t->pad_val = c->border_val;
    return st;
}

static sscma_status build_nothing(const tf_reader *r, const tf_cfg *c, transform *t)
{
    (void)r, (void)c, (void)t;
    return SSCMA_OK;
}

static const struct tf_type {
    const char *name;
    tf_kind kind;
    const sscma_field *fields;
    sscma_status (*build)(const tf_reader *r, const tf_cfg *c, transform *t);
} tf_types[] = {
    {"Resize", TF_RESIZE, resize_fields, build_resize},
    {"Pad", TF_PAD, pad_fields, build_pad},
    {"RandomCrop", TF_RANDOM_CROP, random_crop_fields, build_random_crop},
    {"RandomFlip", TF_RANDOM_FLIP, random_flip_fields, build_random_flip},
    {"ToGray", TF_TO_GRAY, type_only_fields, build_nothing},
    {"ToRGB", TF_TO_RGB, type_only_fields, build_nothing},
    {"Normalize", TF_NORMALIZE, normalize_fields, build_normalize},
    {"LetterResize", TF_LETTER_RESIZE, letter_resize_fields, build_letter_resize},
    {"HSVRandomAug", TF_HSV, hsv_fields, build_hsv},
    {"ColorJitter", TF_COLOR_JITTER, color_jitter_fields, build_color_jitter},
    {"Blur", TF_BLUR, blur_fields, build_blur},
    {"MedianBlur", TF_MEDIAN_BLUR, blur_fields, build_blur},
    {"RandomAffine", TF_AFFINE, random_affine_fields, build_random_affine},
    {"RandomRotate", TF_AFFINE, random_rotate_fields, build_random_rotate},
};

static sscma_status parse_one(json_t *obj, size_t i, transform *t)
{
    /* "_at": where the transform sits in the user's config, set by the runner, which derives this list from it
     * (the loader's own pipeline[i] counts entries the user never wrote) */
    char path[200];
    json_t *at = json_object_get(obj, "_at");
    if (json_is_string(at)) {
        snprintf(path, sizeof path, "%s", json_string_value(at));
        json_object_del(obj, "_at"); /* the loader's own copy of the config */
    } else {
        sscma_schema_index(path, sizeof path, "pipeline", i);
    }
    memset(t, 0, sizeof *t);
    json_t *type = json_object_get(obj, "type");
    if (!json_is_object(obj) || type == NULL)
        return sscma_schema_expected(WHERE, path, NULL, "an object with a \"type\"", obj);
    const size_t n_types = sizeof tf_types / sizeof tf_types[0];
    size_t k = 0;
    while (k < n_types && !(json_is_string(type) && strcmp(json_string_value(type), tf_types[k].name) == 0))
        k++;
    if (k == n_types) {
        char names[300] = "one of: ";
        for (size_t j = 0; j < n_types; j++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j > 0 ? ", " : "", tf_types[j].name);
        return sscma_schema_expected(WHERE, path, "type", names, type);
    }
    const tf_reader r = {.where = tf_types[k].name, .path = path, .obj = obj};
    tf_cfg c;
    sscma_status st = sscma_schema_read(tf_types[k].fields, obj, r.where, path, &c);
    t->kind = tf_types[k].kind;
    return st == SSCMA_OK ? tf_types[k].build(&r, &c, t) : st;
}

sscma_status sscma_pipeline_create(sscma_context *ctx, json_t *list, sscma_pipeline **out)
{
    if (list != NULL && !json_is_array(list))
        return sscma_schema_expected(WHERE, NULL, "pipeline", "a list of transforms", list);
    sscma_pipeline *p = sscma_calloc(ctx, 1, sizeof *p);
    size_t n = list != NULL ? json_array_size(list) : 0;
    if (p != NULL)
        p->ctx = ctx;
    if (p == NULL || (n > 0 && (p->items = sscma_calloc(ctx, n, sizeof *p->items)) == NULL)) {
        sscma_mfree(ctx, p);
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
    sscma_mfree(p->ctx, p->items);
    sscma_mfree(p->ctx, p);
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
            if (t->scale_up) { /* keep_ratio: the size depends on the image */
                if (known) {
                    double s = fmin((double)t->h / (double)h, (double)t->w / (double)w);
                    h = (int64_t)llround((double)h * s), w = (int64_t)llround((double)w * s);
                }
                *fixed = false;
                break;
            }
            h = t->h, w = t->w, known = true, *fixed = true;
            break;
        case TF_RANDOM_CROP:
        case TF_LETTER_RESIZE:
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
        case TF_TO_RGB: c = c == 1 ? 3 : c; break;
        default: break; /* the others keep the size */
        }
    }
    *oh = h, *ow = w, *oc = c;
    return known;
}

static bool reserve(sscma_image *img, int64_t floats)
{
    if ((size_t)floats <= img->capacity)
        return true;
    size_t bytes;
    if (!sscma_mul_size((size_t)floats, sizeof(float), &bytes))
        return false;
    float *d = sscma_mrealloc(img->ctx, img->data, bytes);
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

static float clamp255(float v)
{
    return v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
}

/* OpenCV's 8-bit HSV convention on floats: H in [0, 180), S and V in [0, 255]. */
static void rgb_to_hsv(const float *rgb, float *hsv)
{
    float r = rgb[0], g = rgb[1], b = rgb[2];
    float v = fmaxf(r, fmaxf(g, b)), mn = fminf(r, fminf(g, b)), d = v - mn;
    float h = 0.0f;
    if (d > 0.0f) {
        if (v == r)
            h = 60.0f * (g - b) / d;
        else if (v == g)
            h = 120.0f + 60.0f * (b - r) / d;
        else
            h = 240.0f + 60.0f * (r - g) / d;
        if (h < 0.0f)
            h += 360.0f;
    }
    hsv[0] = h / 2.0f, hsv[1] = v > 0.0f ? 255.0f * d / v : 0.0f, hsv[2] = v;
}

static void hsv_to_rgb(const float *hsv, float *rgb)
{
    float h = hsv[0] * 2.0f, s = hsv[1] / 255.0f, v = hsv[2];
    float c = v * s, hp = h / 60.0f, x = c * (1.0f - fabsf(fmodf(hp, 2.0f) - 1.0f)), m = v - c;
    float r = 0, g = 0, b = 0;
    int sector = (int)hp % 6;
    switch (sector) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
    }
    rgb[0] = clamp255(r + m), rgb[1] = clamp255(g + m), rgb[2] = clamp255(b + m);
}

static void hsv_aug(sscma_image *img, const float *gain)
{
    const int64_t n = img->h * img->w;
    if (img->c != 3) { /* gray: the value change only */
        for (int64_t i = 0; i < n * img->c; i++)
            img->data[i] = clamp255(img->data[i] + gain[2]);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        float hsv[3], *px = img->data + 3 * i;
        rgb_to_hsv(px, hsv);
        hsv[0] = fmodf(hsv[0] + gain[0], 180.0f);
        if (hsv[0] < 0.0f)
            hsv[0] += 180.0f;
        hsv[1] = clamp255(hsv[1] + gain[1]), hsv[2] = clamp255(hsv[2] + gain[2]);
        hsv_to_rgb(hsv, px);
    }
}

static void color_jitter(sscma_image *img, const float *f)
{
    const int64_t n = img->h * img->w, c = img->c;
    for (int64_t i = 0; i < n * c; i++) /* brightness */
        img->data[i] = clamp255(img->data[i] * f[0]);
    double mean = 0.0; /* contrast: around the mean grey level */
    for (int64_t i = 0; i < n; i++) {
        const float *px = img->data + i * c;
        mean += c == 3 ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : px[0];
    }
    const float m = n > 0 ? (float)(mean / (double)n) : 0.0f;
    for (int64_t i = 0; i < n * c; i++)
        img->data[i] = clamp255((img->data[i] - m) * f[1] + m);
    if (c == 3) /* saturation: around each pixel's grey */
        for (int64_t i = 0; i < n; i++) {
            float *px = img->data + 3 * i, g = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
            for (int k = 0; k < 3; k++)
                px[k] = clamp255((px[k] - g) * f[2] + g);
        }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Box (mean) or median filter of kh x kw, edges replicated, into dst. */
static void filter(const sscma_image *src, sscma_image *dst, int64_t kh, int64_t kw, bool median)
{
    const int64_t h = src->h, w = src->w, c = src->c, ry = kh / 2, rx = kw / 2;
    float window[31 * 31];
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            for (int64_t k = 0; k < c; k++) {
                double sum = 0.0;
                int n = 0;
                for (int64_t dy = -ry; dy < kh - ry; dy++)
                    for (int64_t dx = -rx; dx < kw - rx; dx++) {
                        int64_t yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                        int64_t xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                        float v = src->data[(yy * w + xx) * c + k];
                        sum += v;
                        window[n++] = v;
                    }
                if (median)
                    qsort(window, (size_t)n, sizeof *window, cmp_float);
                dst->data[(y * w + x) * c + k] = median ? window[n / 2] : (float)(sum / n);
            }
    dst->h = h, dst->w = w, dst->c = c;
}

/* dst = src warped by the 2x3 matrix m (destination = m . source), bilinear, border value outside. */
static void warp(const sscma_image *src, sscma_image *dst, const double *m, float border)
{
    const int64_t h = src->h, w = src->w, c = src->c;
    const double det = m[0] * m[4] - m[1] * m[3];
    const double inv[6] = {m[4] / det, -m[1] / det, (m[1] * m[5] - m[4] * m[2]) / det,
                           -m[3] / det, m[0] / det, (m[3] * m[2] - m[0] * m[5]) / det};
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            double px = (double)x + 0.5, py = (double)y + 0.5;
            double sx = inv[0] * px + inv[1] * py + inv[2] - 0.5, sy = inv[3] * px + inv[4] * py + inv[5] - 0.5;
            double fx = floor(sx), fy = floor(sy);
            double tx = sx - fx, ty = sy - fy;
            int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;
            float *o = dst->data + (y * w + x) * c;
            for (int64_t k = 0; k < c; k++) {
                double acc = 0.0;
                for (int q = 0; q < 4; q++) {
                    int64_t xx = x0 + (q & 1), yy = y0 + (q >> 1);
                    double wgt = ((q & 1) ? tx : 1.0 - tx) * ((q >> 1) ? ty : 1.0 - ty);
                    float v = xx >= 0 && xx < w && yy >= 0 && yy < h ? src->data[(yy * w + xx) * c + k] : border;
                    acc += wgt * v;
                }
                o[k] = (float)acc;
            }
        }
    dst->h = h, dst->w = w, dst->c = c;
}

/* Boxes (their four corners' bounding box, clipped) and keypoints through the matrix m. */
static void warp_targets(sscma_image *img, const double *m)
{
    for (int32_t i = 0; i < img->n_keypoints; i++) {
        double x = img->keypoints[2 * i], y = img->keypoints[2 * i + 1];
        img->keypoints[2 * i] = (float)(m[0] * x + m[1] * y + m[2]);
        img->keypoints[2 * i + 1] = (float)(m[3] * x + m[4] * y + m[5]);
    }
    int32_t kept = 0;
    for (int32_t i = 0; i < img->n_boxes; i++) {
        const float *b = img->boxes + 4 * i;
        double x1 = INFINITY, y1 = INFINITY, x2 = -INFINITY, y2 = -INFINITY;
        for (int q = 0; q < 4; q++) {
            double x = (q & 1) ? b[2] : b[0], y = (q >> 1) ? b[3] : b[1];
            double tx = m[0] * x + m[1] * y + m[2], ty = m[3] * x + m[4] * y + m[5];
            x1 = fmin(x1, tx), y1 = fmin(y1, ty), x2 = fmax(x2, tx), y2 = fmax(y2, ty);
        }
        x1 = fmax(x1, 0.0), y1 = fmax(y1, 0.0), x2 = fmin(x2, (double)img->w), y2 = fmin(y2, (double)img->h);
        if (x2 <= x1 || y2 <= y1)
            continue;
        float *o = img->boxes + 4 * kept;
        o[0] = (float)x1, o[1] = (float)y1, o[2] = (float)x2, o[3] = (float)y2;
        img->box_labels[kept++] = img->box_labels[i];
    }
    img->n_boxes = kept;
}

sscma_status sscma_pipeline_apply(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch, uint64_t seed,
                                  uint64_t sample)
{
    for (int32_t i = 0; i < p->count; i++) {
        const transform *t = &p->items[i];
        uint64_t stream = sscma_hash64(seed ^ ((uint64_t)i << 48));
        switch (t->kind) {
        case TF_RESIZE: {
            int64_t oh = t->h, ow = t->w;
            if (t->scale_up) { /* keep_ratio: fit inside h x w (mmcv's rescale to the smaller factor) */
                double s = fmin((double)t->h / (double)img->h, (double)t->w / (double)img->w);
                oh = (int64_t)llround((double)img->h * s), ow = (int64_t)llround((double)img->w * s);
                oh = oh < 1 ? 1 : oh, ow = ow < 1 ? 1 : ow;
            }
            if (!reserve(scratch, oh * ow * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resize to %lldx%lld", (long long)oh,
                                  (long long)ow);
            move_boxes(img, (float)ow / (float)img->w, (float)oh / (float)img->h, 0.0f, 0.0f, (float)ow, (float)oh);
            resize(img, scratch, oh, ow);
            swap(img, scratch);
            break;
        }
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
        case TF_TO_RGB:
            if (img->c == 1) {
                if (!reserve(img, img->h * img->w * 3))
                    return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate an RGB image");
                for (int64_t i2 = img->h * img->w - 1; i2 >= 0; i2--)
                    img->data[3 * i2] = img->data[3 * i2 + 1] = img->data[3 * i2 + 2] = img->data[i2];
                img->c = 3;
            }
            break;
        case TF_LETTER_RESIZE: {
            double s = fmin((double)t->h / (double)img->h, (double)t->w / (double)img->w);
            if (!t->scale_up && s > 1.0)
                s = 1.0;
            int64_t nh = (int64_t)llround((double)img->h * s), nw = (int64_t)llround((double)img->w * s);
            nh = nh < 1 ? 1 : nh > t->h ? t->h : nh, nw = nw < 1 ? 1 : nw > t->w ? t->w : nw;
            if (!reserve(scratch, (t->h * t->w > nh * nw ? t->h * t->w : nh * nw) * img->c) ||
                !reserve(img, t->h * t->w * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot letter-resize");
            move_boxes(img, (float)nw / (float)img->w, (float)nh / (float)img->h, 0.0f, 0.0f, (float)nw, (float)nh);
            resize(img, scratch, nh, nw);
            swap(img, scratch);
            const int64_t top = (t->h - nh) / 2, left = (t->w - nw) / 2;
            place(img, scratch, t->h, t->w, left, top, t->pad_val);
            move_boxes(img, 1.0f, 1.0f, (float)left, (float)top, (float)t->w, (float)t->h);
            swap(img, scratch);
            break;
        }
        case TF_HSV: {
            const float gain[3] = {(2.0f * sscma_uniform(stream, sample, 0) - 1.0f) * t->deltas[0],
                                   (2.0f * sscma_uniform(stream, sample, 1) - 1.0f) * t->deltas[1],
                                   (2.0f * sscma_uniform(stream, sample, 2) - 1.0f) * t->deltas[2]};
            hsv_aug(img, gain);
            break;
        }
        case TF_COLOR_JITTER: {
            float f[3];
            for (int k = 0; k < 3; k++) /* torchvision: uniform in [max(0, 1 - x), 1 + x] */
                f[k] = fmaxf(0.0f, 1.0f - t->deltas[k]) +
                       sscma_uniform(stream, sample, (uint64_t)k) * (1.0f + t->deltas[k] - fmaxf(0.0f, 1.0f - t->deltas[k]));
            color_jitter(img, f);
            break;
        }
        case TF_BLUR:
        case TF_MEDIAN_BLUR:
            if (sscma_uniform(stream, sample, 0) < t->prob) {
                if (!reserve(scratch, img->h * img->w * img->c))
                    return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot blur");
                filter(img, scratch, t->kh, t->kw, t->kind == TF_MEDIAN_BLUR);
                swap(img, scratch);
            }
            break;
        case TF_AFFINE: {
            if (!(sscma_uniform(stream, sample, 0) < t->prob))
                break;
            const double pi = 3.14159265358979323846;
            double angle = (t->rot_min + (t->rot_max - t->rot_min) * sscma_uniform(stream, sample, 1)) * pi / 180.0;
            double scale = t->scale_min + (t->scale_max - t->scale_min) * sscma_uniform(stream, sample, 2);
            double shx = tan((2.0 * sscma_uniform(stream, sample, 3) - 1.0) * t->shear * pi / 180.0);
            double shy = tan((2.0 * sscma_uniform(stream, sample, 4) - 1.0) * t->shear * pi / 180.0);
            double tx = (2.0 * sscma_uniform(stream, sample, 5) - 1.0) * t->translate * (double)img->w;
            double ty = (2.0 * sscma_uniform(stream, sample, 6) - 1.0) * t->translate * (double)img->h;
            const double cx = (double)img->w / 2.0, cy = (double)img->h / 2.0, co = cos(angle), si = sin(angle);
            /* A = shear . rotation . scale, then about the centre and translated */
            double a0 = (co + shx * si) * scale, a1 = (-si + shx * co) * scale;
            double a3 = (shy * co + si) * scale, a4 = (-shy * si + co) * scale;
            const double m[6] = {a0, a1, cx + tx - a0 * cx - a1 * cy, a3, a4, cy + ty - a3 * cx - a4 * cy};
            if (!reserve(scratch, img->h * img->w * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot warp");
            warp(img, scratch, m, t->pad_val);
            warp_targets(img, m);
            swap(img, scratch);
            break;
        }
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
