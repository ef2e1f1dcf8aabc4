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
 * Detection (mmyolo / mmdet / albumentations semantics; formulas in detect.c, docs/data.md states every rule):
 *   Mosaic      {"img_scale": [w, h] (640), "center_ratio_range": [0.5, 1.5], "pad_val": 114, "prob": 1,
 *                "pre_transform": [...], "use_cached", "max_cached_images", "random_pop", "max_refetch",
 *                "bbox_clip_border": true}   four samples on a 2h x 2w canvas; the three others come from the
 *                sample source (the loader's dataset), drawn by (seed, sample, position)
 *   YOLOv5MixUp {"alpha": 32, "beta": 32, "prob": 1, "pre_transform": [...], cache keys as Mosaic}
 *   YOLOv5RandomAffine {"max_rotate_degree": 10, "max_shear_degree": 2, "max_translate_ratio": 0.1,
 *                "scaling_ratio_range": [0.5, 1.5], "border": [x, y] (0), "border_val": 114, "min_bbox_size": 2,
 *                "min_area_ratio": 0.1, "max_aspect_ratio": 20, "bbox_clip_border": true, "use_mask_refine": false}
 *   YOLOv5HSVRandomAug {"hue_delta": 0.015, "saturation_delta": 0.7, "value_delta": 0.4}   gains through LUTs
 *   YOLOv5KeepRatioResize {"scale": [w, h]}          area when shrinking, bilinear when enlarging
 *   LetterResize {..., "use_mini_pad": false, "stretch_only": false}      "scale" is [w, h] (mmyolo), "size" [h, w]
 *   Albu        {"transforms": [Blur | MedianBlur {"blur_limit": 7, "p": 0.5}, ToGray {"p": 0.5},
 *                CLAHE {"clip_limit": 4, "tile_grid_size": [8, 8], "p": 0.5}], "bbox_params", "keymap"}
 * mmcv / mmdet (SSCMA's RTMDet):
 *   RandomResize {"scale": [w, h] | [[w, h], [w, h]], "ratio_range", "resize_type": "Resize", "keep_ratio": false}
 *   RandomCrop  {"crop_size": [w, h], "crop_type": "absolute", "allow_negative_crop": false}  mmdet's form: no
 *               "size" / "padding" / "pad_val"; crops inside the image, redraws a crop that loses every box
 *   Pad         {"size": [w, h] | "size_divisor" | "pad_to_square", "pad_val": {"img": ...}}  mmdet's form
 *   MixUp       {"img_scale": [w, h] (640), "ratio_range": [0.5, 1.5], "flip_ratio": 0.5, "pad_val": 114,
 *                "max_iters": 15, "prob": 1, "pre_transform", cache keys}   YOLOX's; cached: the steps before it
 * Boxes travel with the image: scaled by Resize, shifted by Pad, shifted and clipped by RandomCrop (a box with no
 * area left is dropped), mirrored by RandomFlip, placed and clipped to the canvas by Mosaic, projected, clipped and
 * filtered by YOLOv5RandomAffine.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "data/data.h"
#include "data/detect.h"

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
    TF_AFFINE, /* RandomAffine and RandomRotate */
    TF_MOSAIC,
    TF_MIXUP,
    TF_YOLOV5_AFFINE,
    TF_YOLOV5_HSV,
    TF_KEEP_RATIO,
    TF_ALBU,
    TF_RANDOM_RESIZE,
    TF_MMDET_CROP, /* RandomCrop in mmdet's form (see build_random_crop) */
    TF_MMDET_MIXUP
} tf_kind;

/* mmdet RandomCrop's crop_type */
static const char *const crop_types[] = {"absolute", "absolute_range", "relative", "relative_range", NULL};
enum { CROP_ABSOLUTE, CROP_ABSOLUTE_RANGE, CROP_RELATIVE, CROP_RELATIVE_RANGE };

typedef enum albu_kind { ALBU_BLUR, ALBU_MEDIAN_BLUR, ALBU_TO_GRAY, ALBU_CLAHE } albu_kind;

#define ALBU_MAX 8

/* One transform of an Albu list: applied with probability p; ksize drawn among the odd sizes k_lo..k_hi, the CLAHE
 * clip limit in clip_lo..clip_hi. */
typedef struct albu_item {
    albu_kind kind;
    float p;
    int64_t k_lo, k_hi;
    double clip_lo, clip_hi;
    int32_t tiles_x, tiles_y;
} albu_item;

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
    bool mini_pad, stretch_only;    /* LetterResize */
    double center_min, center_max;  /* Mosaic (h, w: img_scale) */
    double alpha, beta;             /* YOLOv5MixUp */
    struct sscma_pipeline *pre;     /* Mosaic, YOLOv5MixUp: pre_transform of the other samples (NULL: none) */
    sscma_affine_spec affine;       /* YOLOv5RandomAffine */
    albu_item albu[ALBU_MAX];
    int32_t n_albu;
    /* RandomResize: scale [w, h] times a ratio in [ratio_lo, ratio_hi], or (two_scales) edges drawn in
     * [w_lo, w_hi] x [h_lo, h_hi]; keep_ratio (mmcv's rescale rule) */
    int64_t w_lo, w_hi, h_lo, h_hi;
    double ratio_lo, ratio_hi;
    bool two_scales, keep_ratio;
    /* mmdet RandomCrop: crop_size (w, h) or the range / ratios of crop_type */
    int32_t crop_type;
    double crop_a, crop_b;
    bool allow_negative_crop;
    /* Pad (mmdet's keys): size_divisor (0: none), pad_to_square */
    int64_t size_divisor;
    bool pad_square;
    /* MixUp (mmdet / mmyolo): img_scale (h, w), jitter in [scale_min, scale_max], flip_ratio, max_iters; cached:
     * the mixed-in sample goes through this pipeline's steps before the MixUp (what mmyolo's cache holds) */
    float flip_ratio;
    int64_t max_iters;
    bool cached;
    int32_t position; /* the transform's index in its list */
} transform;

struct sscma_pipeline {
    const sscma_context *ctx;
    transform *items;
    int32_t count;
    size_t capacity; /* items allocated (a failed parse may leave a nested pipeline past count) */
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
    /* detection */
    json_t *img_scale, *pre_transform, *border, *border_vals, *pad_vals, *transforms, *bbox_params, *keymap;
    float center_ratio_range[2];
    int32_t n_center_ratio_range;
    bool use_cached, random_pop, bbox_clip_border, use_mask_refine, use_mini_pad, stretch_only, half_pad_param;
    bool update_pad_shape, skip_img_without_anno;
    int64_t max_cached_images, max_refetch, resample_num;
    float alpha, beta, min_bbox_size, min_area_ratio, max_aspect_ratio;
    /* RandomResize, mmdet's RandomCrop, Pad and MixUp */
    float ratio_range[2];
    int32_t n_ratio_range;
    const char *resize_type, *interpolation, *padding_mode;
    bool clip_object_border, allow_negative_crop, recompute_bbox, pad_to_square;
    int crop_type;
    int64_t size_divisor, max_iters;
    float flip_ratio;
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
    SSCMA_FIELD_JSON_AS("pad_val", tf_cfg, pad_vals), /* a number, equal numbers or mmdet's {"img": ...}; 0 */
    SSCMA_FIELD_RANGE(tf_cfg, size_divisor, 0, 1, 4096), /* mmdet */
    SSCMA_FIELD(tf_cfg, pad_to_square, false),           /* mmdet */
    SSCMA_FIELD_STRING(tf_cfg, padding_mode, NULL),      /* mmdet: "constant" only */
    SSCMA_FIELD_END,
};

static const sscma_field random_crop_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("size", tf_cfg, size), /* required, size_shape */
    SSCMA_FIELD_JSON_AS("crop_size", tf_cfg, crop_size),
    SSCMA_FIELD_AS("padding", tf_cfg, crop_padding, 0, true, 0, 4096, 0), /* every side */
    SSCMA_FIELD(tf_cfg, pad_val, 0.0),
    /* mmdet's (crop_size is then [w, h], see build_random_crop) */
    SSCMA_FIELD_ENUM_AS("crop_type", tf_cfg, crop_type, 0, crop_types, 0),
    SSCMA_FIELD(tf_cfg, allow_negative_crop, false),
    SSCMA_FIELD(tf_cfg, recompute_bbox, false),
    SSCMA_FIELD(tf_cfg, bbox_clip_border, true),
    SSCMA_FIELD_END,
};

static const sscma_field random_resize_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("scale", tf_cfg, scale), /* required: [w, h], or [[w, h], [w, h]] without ratio_range */
    SSCMA_FIELD_LIST_AS("ratio_range", tf_cfg, ratio_range, offsetof(tf_cfg, n_ratio_range), 2, 0.0, 0.001, 1000.0,
                        0),
    SSCMA_FIELD_STRING(tf_cfg, resize_type, NULL), /* "Resize" (mmdet's or mmcv's) */
    SSCMA_FIELD(tf_cfg, keep_ratio, false),
    SSCMA_FIELD(tf_cfg, clip_object_border, true),
    SSCMA_FIELD_STRING(tf_cfg, interpolation, NULL), /* "bilinear" */
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
    SSCMA_FIELD_JSON_AS("scale", tf_cfg, scale), /* required, size_shape, [w, h] */
    SSCMA_FIELD_JSON_AS("size", tf_cfg, size),   /* [h, w] */
    SSCMA_FIELD_JSON_AS("pad_val", tf_cfg, pad_vals), /* a number or {"img": number, ...}; 114 when absent */
    SSCMA_FIELD(tf_cfg, allow_scale_up, true),
    SSCMA_FIELD(tf_cfg, use_mini_pad, false),
    SSCMA_FIELD(tf_cfg, stretch_only, false),
    SSCMA_FIELD(tf_cfg, half_pad_param, false), /* only the pad_param metadata, which libsscma does not keep */
    SSCMA_FIELD_END,
};

static const sscma_field keep_ratio_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("scale", tf_cfg, scale), /* required, size_shape, [w, h] */
    SSCMA_FIELD(tf_cfg, keep_ratio, true),
    SSCMA_FIELD_END,
};

/* the cache keys of mmyolo's mix transforms (read and checked; the cache is modelled, see docs/data.md) */
#define MIX_CACHE_FIELDS(max_cached)                                                                            \
    SSCMA_FIELD(tf_cfg, use_cached, false), SSCMA_FIELD_RANGE(tf_cfg, max_cached_images, max_cached, 2, 1 << 20), \
        SSCMA_FIELD(tf_cfg, random_pop, true), SSCMA_FIELD_RANGE(tf_cfg, max_refetch, 15, 1, 1000)

static const sscma_field mosaic_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("img_scale", tf_cfg, img_scale), /* size_shape, [w, h]; 640 when absent */
    SSCMA_FIELD_LIST_AS("center_ratio_range", tf_cfg, center_ratio_range, offsetof(tf_cfg, n_center_ratio_range), 2,
                        0.0, 0.0, 2.0, 0), /* [0.5, 1.5] when absent */
    SSCMA_FIELD(tf_cfg, bbox_clip_border, true),
    SSCMA_FIELD(tf_cfg, pad_val, 114.0),
    SSCMA_FIELD_JSON_AS("pre_transform", tf_cfg, pre_transform),
    SSCMA_FIELD_RANGE(tf_cfg, prob, 1.0, 0.0, 1.0),
    MIX_CACHE_FIELDS(40),
    SSCMA_FIELD_END,
};

static const sscma_field mixup_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(tf_cfg, alpha, 32.0, 0.01, 1e4),
    SSCMA_FIELD_RANGE(tf_cfg, beta, 32.0, 0.01, 1e4),
    SSCMA_FIELD_JSON_AS("pre_transform", tf_cfg, pre_transform),
    SSCMA_FIELD_RANGE(tf_cfg, prob, 1.0, 0.0, 1.0),
    MIX_CACHE_FIELDS(20),
    SSCMA_FIELD_END,
};

static const sscma_field mmdet_mixup_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("img_scale", tf_cfg, img_scale), /* [w, h]; 640 when absent */
    SSCMA_FIELD_LIST_AS("ratio_range", tf_cfg, ratio_range, offsetof(tf_cfg, n_ratio_range), 2, 0.0, 0.01, 100.0, 0),
    SSCMA_FIELD_RANGE(tf_cfg, flip_ratio, 0.5, 0.0, 1.0),
    SSCMA_FIELD_RANGE(tf_cfg, pad_val, 114.0, 0.0, 255.0),
    SSCMA_FIELD_RANGE(tf_cfg, max_iters, 15, 1, 1000),
    SSCMA_FIELD(tf_cfg, bbox_clip_border, true),
    SSCMA_FIELD_JSON_AS("pre_transform", tf_cfg, pre_transform),
    SSCMA_FIELD_RANGE(tf_cfg, prob, 1.0, 0.0, 1.0),
    MIX_CACHE_FIELDS(20),
    SSCMA_FIELD_END,
};

static const sscma_field yolov5_affine_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(tf_cfg, max_rotate_degree, 10.0, 0.0, 180.0),
    SSCMA_FIELD_RANGE(tf_cfg, max_translate_ratio, 0.1, 0.0, 1.0),
    SSCMA_FIELD_LIST_AS("scaling_ratio_range", tf_cfg, scaling_ratio_range, offsetof(tf_cfg, n_scaling_ratio_range),
                        2, 0.0, 0.01, 100.0, 0), /* [0.5, 1.5] when absent */
    SSCMA_FIELD_RANGE(tf_cfg, max_shear_degree, 2.0, 0.0, 45.0),
    SSCMA_FIELD_JSON_AS("border", tf_cfg, border),          /* border_shape, [x, y]; 0 when absent */
    SSCMA_FIELD_JSON_AS("border_val", tf_cfg, border_vals), /* a number or equal numbers per channel; 114 */
    SSCMA_FIELD(tf_cfg, bbox_clip_border, true),
    SSCMA_FIELD_RANGE(tf_cfg, min_bbox_size, 2.0, 0.0, 1e6),
    SSCMA_FIELD_RANGE(tf_cfg, min_area_ratio, 0.1, 0.0, 1.0),
    SSCMA_FIELD_RANGE(tf_cfg, max_aspect_ratio, 20.0, 1.0, 1e6),
    SSCMA_FIELD(tf_cfg, use_mask_refine, false),
    SSCMA_FIELD_RANGE(tf_cfg, resample_num, 1000, 1, 1 << 20),
    SSCMA_FIELD_END,
};

static const sscma_field yolov5_hsv_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(tf_cfg, hue_delta, 0.015, 0.0, 1.0),
    SSCMA_FIELD_RANGE(tf_cfg, saturation_delta, 0.7, 0.0, 1.0),
    SSCMA_FIELD_RANGE(tf_cfg, value_delta, 0.4, 0.0, 1.0),
    SSCMA_FIELD_END,
};

static const sscma_field albu_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("transforms", tf_cfg, transforms), /* required */
    SSCMA_FIELD_JSON_AS("bbox_params", tf_cfg, bbox_params),
    SSCMA_FIELD_JSON_AS("keymap", tf_cfg, keymap),
    SSCMA_FIELD(tf_cfg, update_pad_shape, false),
    SSCMA_FIELD(tf_cfg, skip_img_without_anno, false),
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
    sscma_context *ctx; /* for nested pipelines (pre_transform) */
    const char *where;  /* the transform's type */
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
static const shape_spec border_shape = {2, true, false, false, -16384, 16384,
                                        "an integer or [x, y] of integers -16384..16384"};
static const shape_spec blur_limit_shape = {2, true, true, false, 1, 31,
                                            "an odd integer 1..31 or [min, max] of odd integers 1..31"};
static const shape_spec clip_limit_shape = {2, false, false, false, 0, 1000,
                                            "a number 0..1000 or [min, max] of numbers 0..1000"};
static const shape_spec tile_grid_shape = {2, true, false, false, 1, 64,
                                           "an integer 1..64 or [x, y] of integers 1..64"};

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

static sscma_status read_fill(const tf_reader *r, const char *key, json_t *v, float def, bool dict, float *out);

static const shape_spec size_wh_shape = {2, true, false, false, 1, 16384,
                                         "an integer 1..16384 or [w, h] of integers 1..16384"};

/*
 * Pad: libsscma's form ("size" [h, w] or "padding"), or mmdet's when one of its keys is given (pad_val as
 * {"img": ...}, size_divisor, pad_to_square, padding_mode): then "size" is [w, h] as mmcv's, and one of size,
 * size_divisor, pad_to_square is needed (size not with the other two).
 */
static sscma_status build_pad(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double hw[2] = {0, 0}, pad[4] = {0, 0, 0, 0};
    sscma_status st = read_fill(r, "pad_val", c->pad_vals, 0.0f, true, &t->pad_val);
    if (st != SSCMA_OK)
        return st;
    const bool mmdet = json_is_object(c->pad_vals) || given(r->obj, "size_divisor") ||
                       given(r->obj, "pad_to_square") || given(r->obj, "padding_mode");
    if (mmdet) {
        if (c->padding != NULL)
            return sscma_schema_expected(r->where, r->path, "padding", "no 'padding' with mmdet's keys (pad_val "
                                         "{\"img\": ...}, size_divisor, pad_to_square, padding_mode)", c->padding);
        if (c->padding_mode != NULL && strcmp(c->padding_mode, "constant") != 0)
            return sscma_schema_expected(r->where, r->path, "padding_mode", "\"constant\"",
                                         json_object_get(r->obj, "padding_mode"));
        if (c->size != NULL && (c->pad_to_square || c->size_divisor > 0))
            return sscma_schema_expected(r->where, r->path, "size", "no 'size' with size_divisor or pad_to_square",
                                         c->size);
        if (c->size == NULL && !c->pad_to_square && c->size_divisor == 0)
            return sscma_schema_expected(r->where, r->path, NULL, "'size' ([w, h]), 'size_divisor' or "
                                         "'pad_to_square'", NULL);
        double wh[2] = {0, 0};
        st = read_shape(r, &size_wh_shape, "size", c->size, wh);
        t->pad_to_size = c->size != NULL;
        t->w = (int64_t)wh[0], t->h = (int64_t)wh[1];
        t->size_divisor = c->size_divisor, t->pad_square = c->pad_to_square;
        return st;
    }
    if (c->size != NULL && c->padding != NULL)
        return sscma_schema_expected(r->where, r->path, "padding", "no 'padding' with a 'size' (pad to a size or "
                                     "by a padding)", c->padding);
    if (c->size == NULL && c->padding == NULL)
        return sscma_schema_expected(r->where, r->path, NULL, "'size' (an integer or [h, w]) or 'padding' (an "
                                     "integer or [left, top, right, bottom])", NULL);
    t->pad_to_size = c->size != NULL;
    st = read_shape(r, &size_shape, "size", c->size, hw);
    if (st == SSCMA_OK)
        st = read_shape(r, &padding_shape, "padding", c->padding, pad);
    t->h = (int64_t)hw[0], t->w = (int64_t)hw[1];
    for (int k = 0; k < 4; k++)
        t->pad[k] = (int64_t)pad[k];
    return st;
}

static const shape_spec crop_range_shape = {2, true, false, false, 1, 16384,
                                            "[min, max] of integers 1..16384 with min <= max"};
static const shape_spec crop_ratio_shape = {2, false, false, false, 0, 1,
                                            "a number in (0, 1] or a pair of numbers in (0, 1]"};

/*
 * RandomCrop: libsscma's (pad every side, then crop "size" [h, w]) when "size", "padding" or "pad_val" is given;
 * mmdet's (crop inside the image, no padding) when "crop_size" comes without them or a key of mmdet's is given
 * (crop_type, allow_negative_crop, recompute_bbox, bbox_clip_border): crop_size is then [w, h] ("absolute"),
 * [min, max] ("absolute_range"), or ratios in (0, 1] ([w, h] "relative", [h, w] "relative_range", as mmdet reads
 * them).
 */
static sscma_status build_random_crop(const tf_reader *r, const tf_cfg *c, transform *t)
{
    const bool mine = given(r->obj, "size") || given(r->obj, "padding") || given(r->obj, "pad_val");
    const bool mmdet = given(r->obj, "crop_type") || given(r->obj, "allow_negative_crop") ||
                       given(r->obj, "recompute_bbox") || given(r->obj, "bbox_clip_border");
    if (mmdet || (!mine && c->crop_size != NULL)) {
        if (mine) {
            const char *k = given(r->obj, "size") ? "size" : given(r->obj, "padding") ? "padding" : "pad_val";
            return sscma_schema_expected(r->where, r->path, k, "no libsscma key (size, padding, pad_val) with mmdet's "
                                         "crop_type, allow_negative_crop, recompute_bbox or bbox_clip_border",
                                         json_object_get(r->obj, k));
        }
        if (!c->bbox_clip_border)
            return sscma_schema_expected(r->where, r->path, "bbox_clip_border", "true (false is not supported)",
                                         json_object_get(r->obj, "bbox_clip_border"));
        double v[2] = {0, 0};
        const bool ratio = c->crop_type == CROP_RELATIVE || c->crop_type == CROP_RELATIVE_RANGE;
        const shape_spec *s = c->crop_type == CROP_ABSOLUTE_RANGE ? &crop_range_shape
                              : ratio                            ? &crop_ratio_shape
                                                                 : &size_wh_shape;
        sscma_status st = read_shape(r, s, "crop_size", c->crop_size, v);
        if (st == SSCMA_OK && (c->crop_size == NULL || (ratio && (v[0] <= 0.0 || v[1] <= 0.0)) ||
                               (c->crop_type == CROP_ABSOLUTE_RANGE && v[0] > v[1])))
            return sscma_schema_expected(r->where, r->path, "crop_size", s->expected, c->crop_size);
        t->kind = TF_MMDET_CROP;
        t->crop_type = c->crop_type, t->crop_a = v[0], t->crop_b = v[1];
        t->allow_negative_crop = c->allow_negative_crop;
        return st;
    }
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

/* A size given as mmyolo's "scale" [w, h] or libsscma's "size" [h, w] (both: the same size); required. */
static sscma_status read_scale_wh(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double wh[2] = {0, 0}, hw[2] = {0, 0};
    sscma_status st = read_shape(r, &size_shape, "scale", c->scale, wh);
    if (st == SSCMA_OK)
        st = read_shape(r, &size_shape, "size", c->size, hw);
    if (st == SSCMA_OK && c->scale != NULL && c->size != NULL && (wh[0] != hw[1] || wh[1] != hw[0]))
        return sscma_schema_expected(r->where, r->path, "size", "[h, w] of the same size as 'scale' ([w, h])",
                                     c->size);
    if (st == SSCMA_OK && c->scale == NULL && c->size == NULL)
        return sscma_schema_expected(r->where, r->path, "scale", size_shape.expected, NULL);
    t->h = (int64_t)(c->scale != NULL ? wh[1] : hw[0]), t->w = (int64_t)(c->scale != NULL ? wh[0] : hw[1]);
    return st;
}

/* A fill value: a number, a list of equal numbers (one per channel) or mmdet's {"img": number, ...}. */
static sscma_status read_fill(const tf_reader *r, const char *key, json_t *v, float def, bool dict, float *out)
{
    *out = def;
    if (v == NULL)
        return SSCMA_OK;
    json_t *x = dict && json_is_object(v) ? json_object_get(v, "img") : v;
    if (dict && json_is_object(v) && x == NULL) { /* mmdet's default for the image */
        *out = 0.0f;
        return SSCMA_OK;
    }
    if (json_is_array(x) && json_array_size(x) >= 1 && json_array_size(x) <= 4) {
        bool same = true;
        for (size_t i = 0; i < json_array_size(x); i++)
            same = same && json_is_number(json_array_get(x, i)) &&
                   json_number_value(json_array_get(x, i)) == json_number_value(json_array_get(x, 0));
        if (same)
            x = json_array_get(x, 0);
    }
    if (!json_is_number(x) || json_number_value(x) < 0.0 || json_number_value(x) > 255.0)
        return sscma_schema_expected(r->where, r->path, key, dict ? "a number 0..255, equal numbers per channel or "
                                     "{\"img\": number}" : "a number 0..255 or equal numbers per channel", v);
    *out = (float)json_number_value(x);
    return SSCMA_OK;
}

static sscma_status build_letter_resize(const tf_reader *r, const tf_cfg *c, transform *t)
{
    sscma_status st = read_scale_wh(r, c, t);
    if (st == SSCMA_OK)
        st = read_fill(r, "pad_val", c->pad_vals, 114.0f, true, &t->pad_val);
    t->scale_up = c->allow_scale_up;
    t->mini_pad = c->use_mini_pad, t->stretch_only = c->stretch_only;
    return st;
}

static sscma_status build_keep_ratio(const tf_reader *r, const tf_cfg *c, transform *t)
{
    if (!c->keep_ratio)
        return sscma_schema_expected(r->where, r->path, "keep_ratio", "true (the transform keeps the ratio)",
                                     json_object_get(r->obj, "keep_ratio"));
    return read_scale_wh(r, c, t);
}

/*
 * A nested pipeline (a mix transform's pre_transform): loading steps (LoadImageFromFile, LoadAnnotations) are
 * dropped and scope prefixes ("mmdet.") removed, as the runner does for the main pipeline; messages name the entry
 * as "<path>.pre_transform[i]".
 */
static sscma_status create_nested(const tf_reader *r, json_t *list, const char *key, sscma_pipeline **out)
{
    *out = NULL;
    if (list == NULL)
        return SSCMA_OK;
    if (!json_is_array(list))
        return sscma_schema_expected(r->where, r->path, key, "a list of transforms", list);
    json_t *copy = json_array();
    if (copy == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy the %s list", key);
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *type = json_string_value(json_object_get(e, "type"));
        if (!json_is_object(e) || type == NULL) {
            json_array_append(copy, e);
            continue;
        }
        const char *dot = strrchr(type, '.');
        type = dot != NULL ? dot + 1 : type;
        if (strcmp(type, "LoadImageFromFile") == 0 || strcmp(type, "LoadAnnotations") == 0)
            continue;
        json_t *item = json_deep_copy(e);
        char at[200], sub[64];
        snprintf(sub, sizeof sub, "%s[%zu]", key, i);
        json_object_set_new(item, "type", json_string(type));
        json_object_set_new(item, "_at", json_string(sscma_schema_path(at, sizeof at, r->path, sub)));
        json_array_append_new(copy, item);
    }
    sscma_status st = sscma_pipeline_create(r->ctx, copy, out);
    json_decref(copy);
    return st;
}

static sscma_status check_cache_keys(const tf_reader *r, const tf_cfg *c, int64_t least)
{
    if (c->use_cached && c->max_cached_images < least) {
        char text[64];
        snprintf(text, sizeof text, "an integer >= %lld with use_cached", (long long)least);
        return sscma_schema_expected(r->where, r->path, "max_cached_images", text,
                                     json_object_get(r->obj, "max_cached_images"));
    }
    return SSCMA_OK;
}

static sscma_status build_mosaic(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double wh[2] = {640, 640};
    sscma_status st = read_shape(r, &size_shape, "img_scale", c->img_scale, wh);
    t->w = (int64_t)wh[0], t->h = (int64_t)wh[1];
    t->center_min = 0.5, t->center_max = 1.5;
    if (st == SSCMA_OK && c->n_center_ratio_range == 2) {
        if (c->center_ratio_range[0] > c->center_ratio_range[1])
            return sscma_schema_expected(r->where, r->path, "center_ratio_range", "[min, max] with min <= max",
                                         json_object_get(r->obj, "center_ratio_range"));
        t->center_min = c->center_ratio_range[0], t->center_max = c->center_ratio_range[1];
    }
    if (st == SSCMA_OK && !c->bbox_clip_border)
        return sscma_schema_expected(r->where, r->path, "bbox_clip_border", "true (false is not supported)",
                                     json_object_get(r->obj, "bbox_clip_border"));
    t->pad_val = c->pad_val, t->prob = c->prob;
    if (st == SSCMA_OK)
        st = check_cache_keys(r, c, 4);
    return st == SSCMA_OK ? create_nested(r, c->pre_transform, "pre_transform", &t->pre) : st;
}

static sscma_status build_mixup(const tf_reader *r, const tf_cfg *c, transform *t)
{
    t->alpha = c->alpha, t->beta = c->beta, t->prob = c->prob;
    sscma_status st = check_cache_keys(r, c, 2);
    return st == SSCMA_OK ? create_nested(r, c->pre_transform, "pre_transform", &t->pre) : st;
}

/*
 * RandomResize (mmcv): "scale" [w, h] times a ratio drawn in ratio_range, or without ratio_range two scales
 * [[w, h], [w, h]] and each edge drawn between them; then mmdet's Resize (resize_type) with keep_ratio.
 */
static sscma_status build_random_resize(const tf_reader *r, const tf_cfg *c, transform *t)
{
    json_t *v = c->scale;
    t->keep_ratio = c->keep_ratio;
    if (c->resize_type != NULL && strcmp(c->resize_type, "Resize") != 0 && strcmp(c->resize_type, "mmdet.Resize") != 0 &&
        strcmp(c->resize_type, "mmcv.Resize") != 0)
        return sscma_schema_expected(r->where, r->path, "resize_type", "\"Resize\"",
                                     json_object_get(r->obj, "resize_type"));
    if (c->interpolation != NULL && strcmp(c->interpolation, "bilinear") != 0)
        return sscma_schema_expected(r->where, r->path, "interpolation", "\"bilinear\"",
                                     json_object_get(r->obj, "interpolation"));
    if (!c->clip_object_border)
        return sscma_schema_expected(r->where, r->path, "clip_object_border", "true (false is not supported)",
                                     json_object_get(r->obj, "clip_object_border"));
    if (c->n_ratio_range == 2) {
        double wh[2] = {0, 0};
        if (c->ratio_range[0] > c->ratio_range[1])
            return sscma_schema_expected(r->where, r->path, "ratio_range", "[min, max] with min <= max",
                                         json_object_get(r->obj, "ratio_range"));
        sscma_status st = read_shape(r, &size_wh_shape, "scale", v, wh);
        if (st == SSCMA_OK && v == NULL)
            st = sscma_schema_expected(r->where, r->path, "scale", size_wh_shape.expected, NULL);
        t->w = (int64_t)wh[0], t->h = (int64_t)wh[1];
        t->ratio_lo = c->ratio_range[0], t->ratio_hi = c->ratio_range[1];
        return st;
    }
    const char *two = "[[w, h], [w, h]] of integers 1..16384 (two scales; one [w, h] needs ratio_range)";
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_array(json_array_get(v, 0)))
        return sscma_schema_expected(r->where, r->path, "scale", two, v);
    double a[2], b[2];
    const shape_spec pair = {2, true, false, false, 1, 16384, two};
    char key[48];
    sscma_status st = read_shape(r, &pair, sscma_schema_index(key, sizeof key, "scale", 0), json_array_get(v, 0), a);
    if (st == SSCMA_OK && (!json_is_array(json_array_get(v, 1)) ||
                           (st = read_shape(r, &pair, sscma_schema_index(key, sizeof key, "scale", 1),
                                            json_array_get(v, 1), b)) != SSCMA_OK))
        return st != SSCMA_OK ? st : sscma_schema_expected(r->where, r->path, "scale", two, v);
    if (st != SSCMA_OK)
        return st;
    t->two_scales = true;
    t->w_lo = (int64_t)fmin(a[0], b[0]), t->w_hi = (int64_t)fmax(a[0], b[0]);
    t->h_lo = (int64_t)fmin(a[1], b[1]), t->h_hi = (int64_t)fmax(a[1], b[1]);
    return SSCMA_OK;
}

static sscma_status build_mmdet_mixup(const tf_reader *r, const tf_cfg *c, transform *t)
{
    double wh[2] = {640, 640};
    sscma_status st = read_shape(r, &size_wh_shape, "img_scale", c->img_scale, wh);
    t->w = (int64_t)wh[0], t->h = (int64_t)wh[1];
    t->scale_min = 0.5f, t->scale_max = 1.5f;
    if (st == SSCMA_OK && c->n_ratio_range == 2) {
        if (c->ratio_range[0] > c->ratio_range[1])
            return sscma_schema_expected(r->where, r->path, "ratio_range", "[min, max] with min <= max",
                                         json_object_get(r->obj, "ratio_range"));
        t->scale_min = c->ratio_range[0], t->scale_max = c->ratio_range[1];
    }
    if (st == SSCMA_OK && !c->bbox_clip_border)
        return sscma_schema_expected(r->where, r->path, "bbox_clip_border", "true (false is not supported)",
                                     json_object_get(r->obj, "bbox_clip_border"));
    if (st == SSCMA_OK && c->use_cached && c->pre_transform != NULL)
        return sscma_schema_expected(r->where, r->path, "pre_transform", "no pre_transform with use_cached (the "
                                     "mixed-in sample goes through the steps before MixUp)", c->pre_transform);
    t->pad_val = c->pad_val, t->prob = c->prob, t->flip_ratio = c->flip_ratio, t->max_iters = c->max_iters;
    t->cached = c->use_cached;
    if (st == SSCMA_OK)
        st = check_cache_keys(r, c, 2);
    return st == SSCMA_OK ? create_nested(r, c->pre_transform, "pre_transform", &t->pre) : st;
}

static sscma_status build_yolov5_affine(const tf_reader *r, const tf_cfg *c, transform *t)
{
    sscma_affine_spec *a = &t->affine;
    double border[2] = {0, 0};
    a->max_rotate_degree = c->max_rotate_degree, a->max_shear_degree = c->max_shear_degree;
    a->max_translate_ratio = c->max_translate_ratio;
    a->scale_min = 0.5, a->scale_max = 1.5;
    if (c->n_scaling_ratio_range == 2) {
        if (c->scaling_ratio_range[0] > c->scaling_ratio_range[1])
            return sscma_schema_expected(r->where, r->path, "scaling_ratio_range", "[min, max] with min <= max",
                                         json_object_get(r->obj, "scaling_ratio_range"));
        a->scale_min = c->scaling_ratio_range[0], a->scale_max = c->scaling_ratio_range[1];
    }
    if (c->use_mask_refine)
        return sscma_schema_expected(r->where, r->path, "use_mask_refine", "false (libsscma has no masks)",
                                     json_object_get(r->obj, "use_mask_refine"));
    sscma_status st = read_shape(r, &border_shape, "border", c->border, border);
    a->border_x = (int64_t)border[0], a->border_y = (int64_t)border[1];
    a->min_bbox_size = c->min_bbox_size, a->min_area_ratio = c->min_area_ratio;
    a->max_aspect_ratio = c->max_aspect_ratio, a->clip = c->bbox_clip_border;
    return st == SSCMA_OK ? read_fill(r, "border_val", c->border_vals, 114.0f, false, &t->pad_val) : st;
}

/* ---- Albu: a minimal subset of albumentations (pixel-level transforms; boxes are not moved) ---- */

typedef struct albu_cfg {
    json_t *blur_limit, *clip_limit, *tile_grid_size;
    float p;
    bool always_apply;
} albu_cfg;

static const sscma_field albu_blur_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("blur_limit", albu_cfg, blur_limit),
    SSCMA_FIELD_RANGE(albu_cfg, p, 0.5, 0.0, 1.0),
    SSCMA_FIELD(albu_cfg, always_apply, false),
    SSCMA_FIELD_END,
};

static const sscma_field albu_gray_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(albu_cfg, p, 0.5, 0.0, 1.0),
    SSCMA_FIELD(albu_cfg, always_apply, false),
    SSCMA_FIELD_END,
};

static const sscma_field albu_clahe_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("clip_limit", albu_cfg, clip_limit),
    SSCMA_FIELD_JSON_AS("tile_grid_size", albu_cfg, tile_grid_size),
    SSCMA_FIELD_RANGE(albu_cfg, p, 0.5, 0.0, 1.0),
    SSCMA_FIELD(albu_cfg, always_apply, false),
    SSCMA_FIELD_END,
};

static const struct albu_type {
    const char *name;
    albu_kind kind;
    const sscma_field *fields;
} albu_types[] = {
    {"Blur", ALBU_BLUR, albu_blur_fields},
    {"MedianBlur", ALBU_MEDIAN_BLUR, albu_blur_fields},
    {"ToGray", ALBU_TO_GRAY, albu_gray_fields},
    {"CLAHE", ALBU_CLAHE, albu_clahe_fields},
};

/* albumentations' to_tuple(x, low): a number x is (min(x, low), max(x, low)), a list [min, max] itself. */
static sscma_status read_range(const tf_reader *r, const shape_spec *s, const char *key, json_t *v, double low,
                               double *lo, double *hi)
{
    double e[2] = {*lo, *hi};
    sscma_status st = read_shape(r, s, key, v, e);
    if (st != SSCMA_OK)
        return st;
    if (json_is_number(v))
        e[0] = fmin(e[0], low), e[1] = fmax(e[1], low);
    if (e[0] > e[1])
        return sscma_schema_expected(r->where, r->path, key, "[min, max] with min <= max", v);
    *lo = e[0], *hi = e[1];
    return SSCMA_OK;
}

static sscma_status build_albu(const tf_reader *r, const tf_cfg *c, transform *t)
{
    json_t *list = c->transforms;
    const size_t n_types = sizeof albu_types / sizeof albu_types[0];
    if (list == NULL || !json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > ALBU_MAX)
        return sscma_schema_expected(r->where, r->path, "transforms", "a list of 1 to 8 transforms (Blur, "
                                     "MedianBlur, ToGray, CLAHE)", list);
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        char path[200], sub[48];
        snprintf(sub, sizeof sub, "transforms[%zu]", i);
        sscma_schema_path(path, sizeof path, r->path, sub);
        const char *type = json_string_value(json_object_get(e, "type"));
        size_t k = 0;
        while (type != NULL && k < n_types && strcmp(type, albu_types[k].name) != 0)
            k++;
        if (!json_is_object(e) || type == NULL || k == n_types)
            return sscma_schema_expected(r->where, path, "type", "one of: Blur, MedianBlur, ToGray, CLAHE",
                                         json_is_object(e) ? json_object_get(e, "type") : e);
        albu_cfg ac;
        memset(&ac, 0, sizeof ac);
        const tf_reader sr = {.ctx = r->ctx, .where = r->where, .path = path, .obj = e};
        sscma_status st = sscma_schema_read(albu_types[k].fields, e, r->where, path, &ac);
        albu_item *it = &t->albu[i];
        it->kind = albu_types[k].kind;
        it->p = ac.always_apply ? 1.0f : ac.p;
        double lo = 3, hi = 7, clo = 1, chi = 4, tiles[2] = {8, 8};
        if (st == SSCMA_OK && it->kind != ALBU_TO_GRAY && it->kind != ALBU_CLAHE)
            st = read_range(&sr, &blur_limit_shape, "blur_limit", ac.blur_limit, 3, &lo, &hi);
        if (st == SSCMA_OK && it->kind == ALBU_CLAHE)
            st = read_range(&sr, &clip_limit_shape, "clip_limit", ac.clip_limit, 1, &clo, &chi);
        if (st == SSCMA_OK && it->kind == ALBU_CLAHE)
            st = read_shape(&sr, &tile_grid_shape, "tile_grid_size", ac.tile_grid_size, tiles);
        if (st != SSCMA_OK)
            return st;
        it->k_lo = (int64_t)lo, it->k_hi = (int64_t)hi, it->clip_lo = clo, it->clip_hi = chi;
        it->tiles_x = (int32_t)tiles[0], it->tiles_y = (int32_t)tiles[1];
        t->n_albu++;
    }
    return SSCMA_OK;
}

static sscma_status build_hsv(const tf_reader *r, const tf_cfg *c, transform *t)
{ /* HSVRandomAug (additive) and YOLOv5HSVRandomAug (gains): the same three deltas */
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
    {"Mosaic", TF_MOSAIC, mosaic_fields, build_mosaic},
    {"YOLOv5MixUp", TF_MIXUP, mixup_fields, build_mixup},
    {"YOLOv5RandomAffine", TF_YOLOV5_AFFINE, yolov5_affine_fields, build_yolov5_affine},
    {"YOLOv5HSVRandomAug", TF_YOLOV5_HSV, yolov5_hsv_fields, build_hsv},
    {"YOLOv5KeepRatioResize", TF_KEEP_RATIO, keep_ratio_fields, build_keep_ratio},
    {"Albu", TF_ALBU, albu_fields, build_albu},
    {"RandomResize", TF_RANDOM_RESIZE, random_resize_fields, build_random_resize},
    {"MixUp", TF_MMDET_MIXUP, mmdet_mixup_fields, build_mmdet_mixup},
};

static sscma_status parse_one(sscma_context *ctx, json_t *obj, size_t i, transform *t)
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
        char names[600] = "one of: ";
        for (size_t j = 0; j < n_types; j++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j > 0 ? ", " : "", tf_types[j].name);
        return sscma_schema_expected(WHERE, path, "type", names, type);
    }
    const tf_reader r = {.ctx = ctx, .where = tf_types[k].name, .path = path, .obj = obj};
    tf_cfg c;
    memset(&c, 0, sizeof c); /* keys outside the type's table stay absent (NULL) for shared helpers */
    sscma_status st = sscma_schema_read(tf_types[k].fields, obj, r.where, path, &c);
    t->kind = tf_types[k].kind;
    t->position = (int32_t)i;
    return st == SSCMA_OK ? tf_types[k].build(&r, &c, t) : st;
}

sscma_status sscma_pipeline_create(sscma_context *ctx, json_t *list, sscma_pipeline **out)
{
    if (list != NULL && !json_is_array(list))
        return sscma_schema_expected(WHERE, NULL, "pipeline", "a list of transforms", list);
    sscma_pipeline *p = sscma_calloc(ctx, 1, sizeof *p);
    size_t n = list != NULL ? json_array_size(list) : 0;
    if (p != NULL)
        p->ctx = ctx, p->capacity = n;
    if (p == NULL || (n > 0 && (p->items = sscma_calloc(ctx, n, sizeof *p->items)) == NULL)) {
        sscma_mfree(ctx, p);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the pipeline");
    }
    for (size_t i = 0; i < n; i++) {
        sscma_status st = parse_one(ctx, json_array_get(list, i), i, &p->items[i]);
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
    for (size_t i = 0; p->items != NULL && i < p->capacity; i++)
        sscma_pipeline_destroy(p->items[i].pre);
    sscma_mfree(p->ctx, p->items);
    sscma_mfree(p->ctx, p);
}

static void sscma_pad_target(const transform *t, int64_t h, int64_t w, int64_t *oh, int64_t *ow);

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
        case TF_MOSAIC: /* the canvas: twice img_scale (with prob < 1 an unmixed image keeps its size) */
            h = t->kind == TF_MOSAIC ? 2 * t->h : t->h, w = t->kind == TF_MOSAIC ? 2 * t->w : t->w;
            known = true, *fixed = t->kind != TF_MOSAIC || t->prob >= 1.0f;
            break;
        case TF_LETTER_RESIZE:
            if (t->mini_pad) { /* the padding depends on the image */
                if (known) {
                    sscma_letterbox_params lb;
                    sscma_letterbox(h, w, t->h, t->w, t->scale_up, true, false, &lb);
                    h = lb.oh, w = lb.ow;
                }
                *fixed = false;
                break;
            }
            h = t->h, w = t->w, known = true, *fixed = true;
            break;
        case TF_KEEP_RATIO:
            if (known) {
                int64_t nh, nw;
                sscma_keep_ratio_size(h, w, t->h, t->w, &nh, &nw);
                h = nh, w = nw;
            }
            *fixed = false;
            break;
        case TF_YOLOV5_AFFINE:
            if (known)
                h += 2 * t->affine.border_y, w += 2 * t->affine.border_x;
            break;
        case TF_RANDOM_RESIZE: /* a drawn size */
            known = false, *fixed = false;
            break;
        case TF_MMDET_CROP: /* at most the crop, inside the image */
            if (known && t->crop_type == CROP_ABSOLUTE) {
                h = h < (int64_t)t->crop_b ? h : (int64_t)t->crop_b, w = w < (int64_t)t->crop_a ? w : (int64_t)t->crop_a;
            } else if (known && t->crop_type == CROP_RELATIVE) {
                h = (int64_t)((double)h * t->crop_b + 0.5), w = (int64_t)((double)w * t->crop_a + 0.5);
            } else {
                known = false, *fixed = false;
            }
            break;
        case TF_PAD:
            if (t->pad_square || t->size_divisor > 0) {
                if (known)
                    sscma_pad_target(t, h, w, &h, &w);
            } else if (t->pad_to_size) {
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

/* mmdet Pad's size for an h x w image: square (pad_to_square), then up to multiples of size_divisor. */
static void sscma_pad_target(const transform *t, int64_t h, int64_t w, int64_t *oh, int64_t *ow)
{
    if (t->pad_square)
        h = w = h > w ? h : w;
    if (t->size_divisor > 0)
        h = (h + t->size_divisor - 1) / t->size_divisor * t->size_divisor,
        w = (w + t->size_divisor - 1) / t->size_divisor * t->size_divisor;
    *oh = h, *ow = w;
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

/* ---- detection: mix transforms and the Albu subset ---- */

static const sscma_context *box_ctx_of(const sscma_image *img)
{
    return img->box_ctx != NULL ? img->box_ctx : img->ctx;
}

/* Room for n boxes in img (its arrays replaced by larger blocks of its box allocator when needed). */
static bool reserve_boxes(sscma_image *img, int32_t n)
{
    int32_t room = img->box_capacity > img->n_boxes ? img->box_capacity : img->n_boxes;
    if (n <= room)
        return true;
    const sscma_context *bctx = box_ctx_of(img);
    float *b = sscma_malloc(bctx, (size_t)n * 4 * sizeof *b);
    int32_t *l = sscma_malloc(bctx, (size_t)n * sizeof *l);
    if (b == NULL || l == NULL) {
        sscma_mfree(bctx, b), sscma_mfree(bctx, l);
        return false;
    }
    if (img->n_boxes > 0) {
        memcpy(b, img->boxes, (size_t)img->n_boxes * 4 * sizeof *b);
        memcpy(l, img->box_labels, (size_t)img->n_boxes * sizeof *l);
    }
    sscma_mfree(bctx, img->boxes), sscma_mfree(bctx, img->box_labels);
    img->boxes = b, img->box_labels = l, img->box_capacity = n;
    return true;
}

static void free_image(sscma_image *img)
{
    const sscma_context *bctx = box_ctx_of(img);
    sscma_mfree(img->ctx, img->data);
    sscma_mfree(bctx, img->boxes), sscma_mfree(bctx, img->box_labels), sscma_mfree(bctx, img->keypoints);
    memset(img, 0, sizeof *img);
}

/* 1 <-> 3 channels (the runner puts ToGray / ToRGB in the main pipeline only; other samples follow the image). */
static bool match_channels(sscma_image *img, int64_t c)
{
    const int64_t n = img->h * img->w;
    if (img->c == c)
        return true;
    if (c == 1 && img->c == 3) {
        for (int64_t i = 0; i < n; i++)
            img->data[i] = 0.299f * img->data[3 * i] + 0.587f * img->data[3 * i + 1] + 0.114f * img->data[3 * i + 2];
    } else if (c == 3 && img->c == 1) {
        if (!reserve(img, 3 * n))
            return false;
        for (int64_t i = n - 1; i >= 0; i--)
            img->data[3 * i] = img->data[3 * i + 1] = img->data[3 * i + 2] = img->data[i];
    } else {
        return false;
    }
    img->c = c;
    return true;
}

static sscma_status pipeline_run(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch, uint64_t seed,
                                 uint64_t sample, const sscma_sample_source *source);

/*
 * Other sample number k of a mix transform at position `pos` for `sample`: its index drawn from the transform's
 * stream, loaded from the source, through the transform's pre_transform (its own seed: (stream, sample, k)), with
 * the main image's channels.
 */
static sscma_status load_other_with(const sscma_pipeline *pre, const sscma_sample_source *src,
                                    const sscma_image *img, uint64_t stream, uint64_t sample, uint64_t draw, int k,
                                    sscma_image *other)
{
    int64_t index = (int64_t)(sscma_uniform(stream, sample, draw) * (float)src->size);
    index = index < src->size ? index : src->size - 1;
    other->ctx = img->ctx;
    sscma_status st = src->load(src->arg, index, other);
    if (st == SSCMA_OK && pre != NULL && pre->count > 0) {
        sscma_image tmp = {.ctx = img->ctx};
        st = pipeline_run(pre, other, &tmp, sscma_hash64(stream ^ sscma_hash64(sample * 8 + (uint64_t)k + 1)),
                          (uint64_t)index, src);
        sscma_mfree(tmp.ctx, tmp.data);
    }
    if (st == SSCMA_OK && !match_channels(other, img->c))
        st = sscma_fail(SSCMA_ERR_SHAPE, WHERE, "a mixed-in sample has %lld channels, the image %lld",
                        (long long)other->c, (long long)img->c);
    return st;
}

static sscma_status load_other(const transform *t, const sscma_sample_source *src, const sscma_image *img,
                               uint64_t stream, uint64_t sample, uint64_t draw, int k, sscma_image *other)
{
    return load_other_with(t->pre, src, img, stream, sample, draw, k, other);
}

/* mmyolo's Mosaic: the image and three others, each resized by min(h / H, w / W) (int() sizes), placed around a
 * random centre of a 2h x 2w canvas of pad_val; boxes scaled, shifted, clipped to the canvas, empty ones dropped. */
static sscma_status mosaic(const transform *t, const sscma_sample_source *src, sscma_image *img,
                           sscma_image *scratch, uint64_t stream, uint64_t sample)
{
    const int64_t sh = t->h, sw = t->w, c = img->c, ch = 2 * sh, cw = 2 * sw;
    const int64_t cx = (int64_t)((t->center_min + (t->center_max - t->center_min) * sscma_uniform(stream, sample, 1)) *
                                 (double)sw);
    const int64_t cy = (int64_t)((t->center_min + (t->center_max - t->center_min) * sscma_uniform(stream, sample, 2)) *
                                 (double)sh);
    sscma_image others[3], part = {.ctx = img->ctx};
    memset(others, 0, sizeof others);
    float *boxes = NULL;
    int32_t *labels = NULL, n = 0;
    sscma_status st = SSCMA_OK;
    if (img->n_keypoints > 0)
        return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "Mosaic does not move keypoints");
    for (int k = 0; k < 3 && st == SSCMA_OK; k++)
        st = load_other(t, src, img, stream, sample, 3 + (uint64_t)k, k, &others[k]);
    int32_t total = img->n_boxes;
    for (int k = 0; k < 3; k++)
        total += others[k].n_boxes;
    if (st == SSCMA_OK && (!reserve(scratch, ch * cw * c) ||
                           (total > 0 && ((boxes = sscma_malloc(img->ctx, (size_t)total * 4 * sizeof *boxes)) == NULL ||
                                          (labels = sscma_malloc(img->ctx, (size_t)total * sizeof *labels)) == NULL))))
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "Mosaic: cannot allocate the %lldx%lld canvas",
                        (long long)ch, (long long)cw);
    for (int64_t i = 0; st == SSCMA_OK && i < ch * cw * c; i++)
        scratch->data[i] = t->pad_val;
    for (int loc = 0; st == SSCMA_OK && loc < 4; loc++) {
        const sscma_image *patch = loc == 0 ? img : &others[loc - 1];
        const double ratio = fmin((double)sh / (double)patch->h, (double)sw / (double)patch->w);
        int64_t nh = (int64_t)((double)patch->h * ratio), nw = (int64_t)((double)patch->w * ratio);
        nh = nh < 1 ? 1 : nh, nw = nw < 1 ? 1 : nw;
        if (!reserve(&part, nh * nw * c)) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "Mosaic: cannot resize a sample");
            break;
        }
        resize(patch, &part, nh, nw);
        int64_t paste[4], crop[4];
        sscma_mosaic_place(loc, cx, cy, nh, nw, sh, sw, paste, crop);
        for (int64_t y = 0; y < paste[3] - paste[1]; y++)
            if (paste[2] > paste[0])
                memcpy(scratch->data + ((paste[1] + y) * cw + paste[0]) * c,
                       part.data + ((crop[1] + y) * nw + crop[0]) * c, (size_t)((paste[2] - paste[0]) * c) * sizeof(float));
        const double padw = (double)(paste[0] - crop[0]), padh = (double)(paste[1] - crop[1]);
        for (int32_t b = 0; b < patch->n_boxes; b++) { /* rescale by the ratio, translate, clip */
            const float *in = patch->boxes + 4 * b;
            float *o = boxes + 4 * n;
            o[0] = (float)fmin(fmax(in[0] * ratio + padw, 0.0), (double)cw);
            o[1] = (float)fmin(fmax(in[1] * ratio + padh, 0.0), (double)ch);
            o[2] = (float)fmin(fmax(in[2] * ratio + padw, 0.0), (double)cw);
            o[3] = (float)fmin(fmax(in[3] * ratio + padh, 0.0), (double)ch);
            if (o[2] > o[0] && o[3] > o[1])
                labels[n++] = patch->box_labels[b];
        }
    }
    if (st == SSCMA_OK && !reserve_boxes(img, n))
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "Mosaic: cannot allocate %d boxes", (int)n);
    if (st == SSCMA_OK) {
        if (n > 0) {
            memcpy(img->boxes, boxes, (size_t)n * 4 * sizeof *boxes);
            memcpy(img->box_labels, labels, (size_t)n * sizeof *labels);
        }
        img->n_boxes = n;
        scratch->h = ch, scratch->w = cw, scratch->c = c;
        swap(img, scratch);
    }
    for (int k = 0; k < 3; k++)
        free_image(&others[k]);
    sscma_mfree(img->ctx, part.data), sscma_mfree(img->ctx, boxes), sscma_mfree(img->ctx, labels);
    return st;
}

/* mmyolo's YOLOv5MixUp: img r + other (1 - r), r ~ Beta(alpha, beta); the other's boxes appended. */
static sscma_status mixup(const transform *t, const sscma_sample_source *src, sscma_image *img, uint64_t stream,
                          uint64_t sample)
{
    sscma_image other = {0};
    sscma_status st = load_other(t, src, img, stream, sample, 1, 0, &other);
    if (st == SSCMA_OK && (other.h != img->h || other.w != img->w))
        st = sscma_fail(SSCMA_ERR_SHAPE, WHERE, "YOLOv5MixUp: the mixed-in sample is %lldx%lld, the image %lldx%lld "
                        "(give pre_transform the same steps as the pipeline before YOLOv5MixUp)", (long long)other.h,
                        (long long)other.w, (long long)img->h, (long long)img->w);
    const int32_t n = img->n_boxes;
    if (st == SSCMA_OK && !reserve_boxes(img, n + other.n_boxes))
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "YOLOv5MixUp: cannot allocate the boxes");
    if (st == SSCMA_OK) {
        const double ratio = sscma_beta_sample(t->alpha, t->beta, stream, sscma_hash64(sample) ^ 0x6d6978ULL);
        for (int64_t i = 0; i < img->h * img->w * img->c; i++)
            img->data[i] = (float)((double)img->data[i] * ratio + (double)other.data[i] * (1.0 - ratio));
        if (other.n_boxes > 0) {
            memcpy(img->boxes + 4 * n, other.boxes, (size_t)other.n_boxes * 4 * sizeof(float));
            memcpy(img->box_labels + n, other.box_labels, (size_t)other.n_boxes * sizeof(int32_t));
        }
        img->n_boxes = n + other.n_boxes;
    }
    free_image(&other);
    return st;
}

/* mmcv's Resize rule: keep_ratio scales by min(max(w, h) / max(W, H), min(w, h) / min(W, H)) to int(W f + 0.5) x
 * int(H f + 0.5); else exactly w x h. Boxes by the real factors (new / old), clipped, empty ones dropped. */
static sscma_status resize_to(sscma_image *img, sscma_image *scratch, int64_t tw, int64_t th, bool keep_ratio)
{
    int64_t nw = tw, nh = th;
    if (keep_ratio) {
        const double lng = (double)(tw > th ? tw : th), sht = (double)(tw < th ? tw : th);
        const double f = fmin(lng / (double)(img->w > img->h ? img->w : img->h),
                              sht / (double)(img->w < img->h ? img->w : img->h));
        nw = (int64_t)((double)img->w * f + 0.5), nh = (int64_t)((double)img->h * f + 0.5);
    }
    nw = nw < 1 ? 1 : nw, nh = nh < 1 ? 1 : nh;
    if (!reserve(scratch, nh * nw * img->c))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resize to %lldx%lld", (long long)nh, (long long)nw);
    move_boxes(img, (float)((double)nw / (double)img->w), (float)((double)nh / (double)img->h), 0.0f, 0.0f, (float)nw,
               (float)nh);
    resize(img, scratch, nh, nw);
    swap(img, scratch);
    return SSCMA_OK;
}

/* mmcv's RandomResize: the target (int(w r), int(h r)) with r = lo + u (hi - lo), u draw 0; or each edge an integer
 * drawn in [lo, hi] (draws 0: w, 1: h); then resize_to. */
static sscma_status random_resize(const transform *t, sscma_image *img, sscma_image *scratch, uint64_t stream,
                                  uint64_t sample)
{
    int64_t tw, th;
    if (t->two_scales) {
        tw = t->w_lo + (int64_t)(sscma_uniform(stream, sample, 0) * (float)(t->w_hi - t->w_lo + 1));
        th = t->h_lo + (int64_t)(sscma_uniform(stream, sample, 1) * (float)(t->h_hi - t->h_lo + 1));
        tw = tw > t->w_hi ? t->w_hi : tw, th = th > t->h_hi ? t->h_hi : th;
    } else {
        const double r = t->ratio_lo + (double)sscma_uniform(stream, sample, 0) * (t->ratio_hi - t->ratio_lo);
        tw = (int64_t)((double)t->w * r), th = (int64_t)((double)t->h * r);
    }
    return resize_to(img, scratch, tw < 1 ? 1 : tw, th < 1 ? 1 : th, t->keep_ratio);
}

/* An integer in [0, n] from a uniform draw (numpy's randint(0, n + 1)). */
static int64_t draw_upto(uint64_t stream, uint64_t sample, uint64_t draw, int64_t n)
{
    const int64_t v = (int64_t)((double)sscma_uniform(stream, sample, draw) * (double)(n + 1));
    return v > n ? n : v;
}

#define CROP_TRIES 10

/*
 * mmdet's RandomCrop: the crop size for crop_type (draws 4k, 4k + 1), an offset in [0, H - h] x [0, W - w] (draws
 * 4k + 2: y, 4k + 3: x), no padding; boxes shifted, clipped, empty ones dropped. Where mmdet returns None (no box
 * left, allow_negative_crop false) and the dataset refetches another sample, libsscma draws again (try k = 1 ..
 * CROP_TRIES - 1) and keeps the last try's crop with no boxes if none keeps one; an image without boxes is cropped
 * once.
 */
static sscma_status mmdet_crop(const transform *t, sscma_image *img, sscma_image *scratch, uint64_t stream,
                               uint64_t sample)
{
    const int64_t h = img->h, w = img->w;
    int64_t ch = 0, cw = 0, oy = 0, ox = 0;
    for (int k = 0; k < CROP_TRIES; k++) {
        const uint64_t d = 4 * (uint64_t)k;
        switch (t->crop_type) {
        case CROP_ABSOLUTE:
            ch = (int64_t)t->crop_b < h ? (int64_t)t->crop_b : h, cw = (int64_t)t->crop_a < w ? (int64_t)t->crop_a : w;
            break;
        case CROP_ABSOLUTE_RANGE: {
            const int64_t lo = (int64_t)t->crop_a, hi = (int64_t)t->crop_b;
            const int64_t hl = lo < h ? lo : h, hh = hi < h ? hi : h, wl = lo < w ? lo : w, wh = hi < w ? hi : w;
            ch = hl + draw_upto(stream, sample, d, hh - hl), cw = wl + draw_upto(stream, sample, d + 1, wh - wl);
            break;
        }
        case CROP_RELATIVE:
            ch = (int64_t)((double)h * t->crop_b + 0.5), cw = (int64_t)((double)w * t->crop_a + 0.5);
            break;
        default: { /* relative_range: [h, w] ratios, each raised by a draw towards 1 */
            const double rh = t->crop_a + (double)sscma_uniform(stream, sample, d) * (1.0 - t->crop_a);
            const double rw = t->crop_b + (double)sscma_uniform(stream, sample, d + 1) * (1.0 - t->crop_b);
            ch = (int64_t)((double)h * rh + 0.5), cw = (int64_t)((double)w * rw + 0.5);
            break;
        }
        }
        ch = ch < 1 ? 1 : ch > h ? h : ch, cw = cw < 1 ? 1 : cw > w ? w : cw;
        oy = draw_upto(stream, sample, d + 2, h - ch), ox = draw_upto(stream, sample, d + 3, w - cw);
        if (t->allow_negative_crop || img->n_boxes == 0)
            break;
        bool any = false; /* a box keeps some area inside the crop */
        for (int32_t b = 0; b < img->n_boxes && !any; b++) {
            const float *bx = img->boxes + 4 * b;
            const float x1 = fmaxf(bx[0] - (float)ox, 0.0f), x2 = fminf(bx[2] - (float)ox, (float)cw);
            const float y1 = fmaxf(bx[1] - (float)oy, 0.0f), y2 = fminf(bx[3] - (float)oy, (float)ch);
            any = x2 > x1 && y2 > y1;
        }
        if (any)
            break;
    }
    if (!reserve(scratch, ch * cw * img->c))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot crop");
    place(img, scratch, ch, cw, -ox, -oy, 0.0f);
    move_boxes(img, 1.0f, 1.0f, (float)-ox, (float)-oy, (float)cw, (float)ch);
    swap(img, scratch);
    return SSCMA_OK;
}

static void hflip_pixels(sscma_image *img)
{
    const int64_t c = img->c;
    for (int64_t y = 0; y < img->h; y++)
        for (int64_t x = 0; x < img->w / 2; x++)
            for (int64_t k = 0; k < c; k++) {
                float *a = img->data + (y * img->w + x) * c + k, *b = img->data + (y * img->w + img->w - 1 - x) * c + k;
                const float v = *a;
                *a = *b, *b = v;
            }
}

/*
 * mmdet's / mmyolo's MixUp (YOLOX): another sample with boxes (up to max_iters index draws 1, 2, ...; none: the
 * image is kept), through pre_transform, or with use_cached through this list's steps before the MixUp (what
 * mmyolo's cache holds: other samples at this point); resized by s = min(h / H', w / W') to int() sizes onto an
 * img_scale canvas of pad_val (top left), the canvas resized by the jitter j (draw 100) to int(w j) x int(h j),
 * flipped when draw 101 > flip_ratio, placed top left on a pad_val canvas at least the image's size and cropped to
 * it at offsets y (draw 102), x (draw 103); pixels 0.5 img + 0.5 that; its boxes scaled by s j, clipped to the
 * jittered canvas, mirrored, shifted, clipped to the image, appended; boxes with no area are dropped.
 */
static sscma_status mmdet_mixup(const transform *t, const sscma_pipeline *before, const sscma_sample_source *src,
                                sscma_image *img, sscma_image *scratch, uint64_t stream, uint64_t sample)
{
    sscma_image other = {0}, canvas = {.ctx = img->ctx}, jit = {.ctx = img->ctx};
    sscma_status st = SSCMA_OK;
    for (int64_t k = 0; k < t->max_iters; k++) {
        if (k > 0)
            free_image(&other);
        st = load_other_with(before != NULL ? before : t->pre, src, img, stream, sample, 1 + (uint64_t)k, (int)k,
                             &other);
        if (st != SSCMA_OK || other.n_boxes > 0)
            break;
    }
    if (st != SSCMA_OK || other.n_boxes == 0) {
        free_image(&other);
        return st;
    }
    const int64_t sh = t->h, sw = t->w, c = img->c, th = img->h, tw = img->w;
    const double s = fmin((double)sh / (double)other.h, (double)sw / (double)other.w);
    int64_t nh = (int64_t)((double)other.h * s), nw = (int64_t)((double)other.w * s);
    nh = nh < 1 ? 1 : nh, nw = nw < 1 ? 1 : nw;
    const double j = t->scale_min + (t->scale_max - t->scale_min) * (double)sscma_uniform(stream, sample, 100);
    const bool flip = sscma_uniform(stream, sample, 101) > t->flip_ratio;
    int64_t jh = (int64_t)((double)sh * j), jw = (int64_t)((double)sw * j);
    jh = jh < 1 ? 1 : jh, jw = jw < 1 ? 1 : jw;
    const int64_t ph = jh > th ? jh : th, pw = jw > tw ? jw : tw;
    const int64_t oy = ph > th ? draw_upto(stream, sample, 102, ph - th) : 0;
    const int64_t ox = pw > tw ? draw_upto(stream, sample, 103, pw - tw) : 0;
    const int32_t n = img->n_boxes;
    if (!reserve(scratch, (nh * nw > th * tw ? nh * nw : th * tw) * c) || !reserve(&canvas, sh * sw * c) || !reserve(&jit, jh * jw * c) ||
        !reserve_boxes(img, n + other.n_boxes)) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "MixUp: cannot allocate the mixed-in image");
    } else {
        resize(&other, scratch, nh, nw);
        place(scratch, &canvas, sh, sw, 0, 0, t->pad_val);
        resize(&canvas, &jit, jh, jw);
        if (flip)
            hflip_pixels(&jit);
        place(&jit, scratch, th, tw, -ox, -oy, t->pad_val); /* the padded canvas cropped at the offsets */
        for (int64_t i = 0; i < th * tw * c; i++)
            img->data[i] = 0.5f * img->data[i] + 0.5f * scratch->data[i];
        const double f = s * j;
        int32_t m = n;
        for (int32_t b = 0; b < other.n_boxes; b++) {
            const float *in = other.boxes + 4 * b;
            double x1 = fmin(fmax(in[0] * f, 0.0), (double)jw), x2 = fmin(fmax(in[2] * f, 0.0), (double)jw);
            const double y1 = fmin(fmax(in[1] * f, 0.0), (double)jh), y2 = fmin(fmax(in[3] * f, 0.0), (double)jh);
            if (flip) {
                const double a = (double)jw - x2;
                x2 = (double)jw - x1, x1 = a;
            }
            float *o = img->boxes + 4 * m;
            o[0] = (float)fmin(fmax(x1 - (double)ox, 0.0), (double)tw);
            o[1] = (float)fmin(fmax(y1 - (double)oy, 0.0), (double)th);
            o[2] = (float)fmin(fmax(x2 - (double)ox, 0.0), (double)tw);
            o[3] = (float)fmin(fmax(y2 - (double)oy, 0.0), (double)th);
            if (o[2] > o[0] && o[3] > o[1])
                img->box_labels[m++] = other.box_labels[b];
        }
        img->n_boxes = m;
    }
    free_image(&other);
    sscma_mfree(img->ctx, canvas.data), sscma_mfree(img->ctx, jit.data);
    return st;
}

/* Box filter (reflect-101 edges, as cv2.blur) or median filter (replicated edges, as cv2.medianBlur). */
static void filter_edges(const sscma_image *src, sscma_image *dst, int64_t k, bool median)
{
    if (median) {
        filter(src, dst, k, k, true);
        return;
    }
    const int64_t h = src->h, w = src->w, c = src->c, r = k / 2;
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            for (int64_t ch = 0; ch < c; ch++) {
                double sum = 0.0;
                for (int64_t dy = -r; dy <= r; dy++)
                    for (int64_t dx = -r; dx <= r; dx++) {
                        int64_t yy = y + dy, xx = x + dx;
                        while (yy < 0 || yy >= h) /* reflect 101 */
                            yy = h == 1 ? 0 : yy < 0 ? -yy : 2 * (h - 1) - yy;
                        while (xx < 0 || xx >= w)
                            xx = w == 1 ? 0 : xx < 0 ? -xx : 2 * (w - 1) - xx;
                        sum += src->data[(yy * w + xx) * c + ch];
                    }
                dst->data[(y * w + x) * c + ch] = (float)(sum / (double)(k * k));
            }
    dst->h = h, dst->w = w, dst->c = c;
}

/* sRGB (0..255) <-> CIE L*a*b* with OpenCV's D65 matrices; L in 0..100. */
static double srgb_linear(double v)
{
    v /= 255.0;
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

static double linear_srgb(double v)
{
    v = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1.0 / 2.4) - 0.055;
    return v * 255.0;
}

static double lab_f(double t)
{
    return t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0;
}

static double lab_finv(double f)
{
    return f * f * f > 0.008856 ? f * f * f : (f - 16.0 / 116.0) / 7.787;
}

/* albumentations' CLAHE: on the L channel of Lab for RGB (8-bit L = L * 255 / 100), on the plane for grey. */
static bool clahe(sscma_image *img, const albu_item *it, double clip)
{
    const int64_t n = img->h * img->w;
    uint8_t *plane = sscma_malloc(img->ctx, (size_t)n);
    double *ab = img->c == 3 ? sscma_malloc(img->ctx, (size_t)n * 2 * sizeof *ab) : NULL;
    if (plane == NULL || (img->c == 3 && ab == NULL)) {
        sscma_mfree(img->ctx, plane), sscma_mfree(img->ctx, ab);
        return false;
    }
    for (int64_t i = 0; i < n; i++) {
        if (img->c != 3) {
            plane[i] = (uint8_t)clamp255(nearbyintf(img->data[i * img->c]));
            continue;
        }
        const float *px = img->data + 3 * i;
        const double r = srgb_linear(clamp255(px[0])), g = srgb_linear(clamp255(px[1])), b = srgb_linear(clamp255(px[2]));
        const double x = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.950456;
        const double y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
        const double z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.088754;
        const double l = y > 0.008856 ? 116.0 * cbrt(y) - 16.0 : 903.3 * y;
        ab[2 * i] = 500.0 * (lab_f(x) - lab_f(y)), ab[2 * i + 1] = 200.0 * (lab_f(y) - lab_f(z));
        plane[i] = (uint8_t)clamp255(nearbyintf((float)(l * 255.0 / 100.0)));
    }
    bool ok = sscma_clahe_u8(img->ctx, plane, img->h, img->w, clip, it->tiles_x, it->tiles_y);
    for (int64_t i = 0; ok && i < n; i++) {
        if (img->c != 3) {
            for (int64_t k = 0; k < img->c; k++)
                img->data[i * img->c + k] = (float)plane[i];
            continue;
        }
        const double l = (double)plane[i] * 100.0 / 255.0, fy = (l + 16.0) / 116.0;
        const double fx = fy + ab[2 * i] / 500.0, fz = fy - ab[2 * i + 1] / 200.0;
        const double y = l > 7.9996 ? fy * fy * fy : l / 903.3, x = lab_finv(fx) * 0.950456, z = lab_finv(fz) * 1.088754;
        float *px = img->data + 3 * i;
        px[0] = clamp255(nearbyintf((float)linear_srgb(3.240479 * x - 1.53715 * y - 0.498535 * z)));
        px[1] = clamp255(nearbyintf((float)linear_srgb(-0.969256 * x + 1.875991 * y + 0.041556 * z)));
        px[2] = clamp255(nearbyintf((float)linear_srgb(0.055648 * x - 0.204043 * y + 1.057311 * z)));
    }
    sscma_mfree(img->ctx, plane), sscma_mfree(img->ctx, ab);
    return ok;
}

/* mmdet's Albu over the subset: each transform in order, applied with its p (draw 2k), its parameter from draw 2k+1. */
static sscma_status albu(const transform *t, sscma_image *img, sscma_image *scratch, uint64_t stream, uint64_t sample)
{
    for (int32_t k = 0; k < t->n_albu; k++) {
        const albu_item *it = &t->albu[k];
        if (!(sscma_uniform(stream, sample, 2 * (uint64_t)k) < it->p))
            continue;
        const float u = sscma_uniform(stream, sample, 2 * (uint64_t)k + 1);
        switch (it->kind) {
        case ALBU_BLUR:
        case ALBU_MEDIAN_BLUR: { /* an odd size among k_lo, k_lo + 2, ..., k_hi */
            const int64_t choices = (it->k_hi - it->k_lo) / 2 + 1;
            int64_t pick = (int64_t)(u * (float)choices);
            const int64_t ksize = it->k_lo + 2 * (pick < choices ? pick : choices - 1);
            if (!reserve(scratch, img->h * img->w * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "Albu: cannot blur");
            filter_edges(img, scratch, ksize, it->kind == ALBU_MEDIAN_BLUR);
            swap(img, scratch);
            break;
        }
        case ALBU_TO_GRAY: /* cv2 RGB2GRAY then GRAY2RGB: three equal channels */
            if (img->c == 3)
                for (int64_t i = 0; i < img->h * img->w; i++) {
                    float *px = img->data + 3 * i;
                    px[0] = px[1] = px[2] = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
                }
            break;
        case ALBU_CLAHE:
            if (!clahe(img, it, it->clip_lo + (it->clip_hi - it->clip_lo) * (double)u))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "Albu: cannot run CLAHE");
            break;
        }
    }
    return SSCMA_OK;
}

sscma_status sscma_pipeline_apply(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch, uint64_t seed,
                                  uint64_t sample)
{
    return pipeline_run(p, img, scratch, seed, sample, NULL);
}

sscma_status sscma_pipeline_apply_mixed(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch,
                                        uint64_t seed, uint64_t sample, const sscma_sample_source *source)
{
    return pipeline_run(p, img, scratch, seed, sample, source);
}

static sscma_status pipeline_run(const sscma_pipeline *p, sscma_image *img, sscma_image *scratch, uint64_t seed,
                                 uint64_t sample, const sscma_sample_source *source)
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
            if (t->pad_square || t->size_divisor > 0)
                sscma_pad_target(t, img->h, img->w, &oh, &ow);
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
        case TF_RANDOM_RESIZE: {
            sscma_status st = random_resize(t, img, scratch, stream, sample);
            if (st != SSCMA_OK)
                return st;
            break;
        }
        case TF_MMDET_CROP: {
            sscma_status st = mmdet_crop(t, img, scratch, stream, sample);
            if (st != SSCMA_OK)
                return st;
            break;
        }
        case TF_MMDET_MIXUP: {
            if (sscma_uniform(stream, sample, 0) > t->prob)
                break;
            if (source == NULL || source->size <= 0)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "MixUp needs other samples of the dataset (the loader gives "
                                  "them)");
            const sscma_pipeline before = {.ctx = p->ctx, .items = p->items, .count = t->position,
                                           .capacity = 0};
            sscma_status st = mmdet_mixup(t, t->cached ? &before : NULL, source, img, scratch, stream, sample);
            if (st != SSCMA_OK)
                return st;
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
        case TF_LETTER_RESIZE: { /* mmyolo: Python-rounded size, padding split floor / ceil, boxes clipped */
            sscma_letterbox_params lb;
            sscma_letterbox(img->h, img->w, t->h, t->w, t->scale_up, t->mini_pad, t->stretch_only, &lb);
            const int64_t most = (lb.oh * lb.ow > lb.nh * lb.nw ? lb.oh * lb.ow : lb.nh * lb.nw) * img->c;
            if (!reserve(scratch, most) || !reserve(img, most))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot letter-resize");
            if (lb.nh != img->h || lb.nw != img->w) {
                resize(img, scratch, lb.nh, lb.nw);
                swap(img, scratch);
            }
            move_boxes(img, (float)lb.scale_x, (float)lb.scale_y, (float)lb.left, (float)lb.top, (float)lb.ow,
                       (float)lb.oh);
            place(img, scratch, lb.oh, lb.ow, lb.left, lb.top, t->pad_val);
            swap(img, scratch);
            break;
        }
        case TF_KEEP_RATIO: { /* YOLOv5KeepRatioResize: area when shrinking, bilinear when enlarging */
            int64_t nh, nw;
            const double ratio = sscma_keep_ratio_size(img->h, img->w, t->h, t->w, &nh, &nw);
            if (ratio == 1.0)
                break;
            if (!reserve(scratch, nh * nw * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot resize to %lldx%lld", (long long)nh,
                                  (long long)nw);
            move_boxes(img, (float)nw / (float)img->w, (float)nh / (float)img->h, 0.0f, 0.0f, (float)nw, (float)nh);
            if (ratio < 1.0)
                sscma_resize_area(img, scratch, nh, nw);
            else
                resize(img, scratch, nh, nw);
            swap(img, scratch);
            break;
        }
        case TF_MOSAIC:
        case TF_MIXUP: {
            if (sscma_uniform(stream, sample, 0) > t->prob) /* mmyolo: skipped when uniform(0, 1) > prob */
                break;
            if (source == NULL || source->size <= 0)
                return sscma_fail(SSCMA_ERR_CONFIG, WHERE, "%s needs other samples of the dataset (the loader gives "
                                  "them)", t->kind == TF_MOSAIC ? "Mosaic" : "YOLOv5MixUp");
            sscma_status st = t->kind == TF_MOSAIC ? mosaic(t, source, img, scratch, stream, sample)
                                                   : mixup(t, source, img, stream, sample);
            if (st != SSCMA_OK)
                return st;
            break;
        }
        case TF_YOLOV5_AFFINE: {
            double u[6], m[9];
            int64_t oh, ow;
            for (int k = 0; k < 6; k++)
                u[k] = sscma_uniform(stream, sample, (uint64_t)k);
            const double scale = sscma_yolov5_affine(&t->affine, img->h, img->w, u, m, &oh, &ow);
            if (oh < 1 || ow < 1)
                return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "YOLOv5RandomAffine: a %lldx%lld image with the border "
                                  "[%lld, %lld] leaves nothing", (long long)img->h, (long long)img->w,
                                  (long long)t->affine.border_x, (long long)t->affine.border_y);
            if (!reserve(scratch, oh * ow * img->c))
                return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot warp");
            sscma_warp_affine_cv(img, scratch, oh, ow, m, t->pad_val);
            for (int32_t q = 0; q < img->n_keypoints; q++) {
                const double x = img->keypoints[2 * q], y = img->keypoints[2 * q + 1];
                img->keypoints[2 * q] = (float)(m[0] * x + m[1] * y + m[2]);
                img->keypoints[2 * q + 1] = (float)(m[3] * x + m[4] * y + m[5]);
            }
            img->n_boxes = sscma_affine_boxes(&t->affine, m, scale, oh, ow, img->boxes, img->box_labels, img->n_boxes);
            swap(img, scratch);
            break;
        }
        case TF_YOLOV5_HSV: { /* gains 1 + uniform(-1, 1) delta */
            double gains[3];
            uint8_t lut[3][256];
            for (int k = 0; k < 3; k++)
                gains[k] = (2.0 * sscma_uniform(stream, sample, (uint64_t)k) - 1.0) * t->deltas[k] + 1.0;
            sscma_hsv_lut(gains, lut);
            sscma_hsv_apply_lut(img, lut);
            break;
        }
        case TF_ALBU: {
            sscma_status st = albu(t, img, scratch, stream, sample);
            if (st != SSCMA_OK)
                return st;
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
