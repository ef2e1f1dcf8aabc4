/*
 * The formulas and pixel kernels of the detection transforms (mmyolo / mmdet / albumentations semantics), apart from
 * the pipeline's table so that tests can check each against a reference with given random draws:
 *
 *   sscma_yolov5_affine       YOLOv5RandomAffine's 3x3 matrix: translate . shear . rotate . scale . centre
 *   sscma_affine_boxes        boxes through it: corners, min/max, clip, then mmyolo's candidate filter
 *   sscma_warp_affine_cv      the warp as cv2.warpAffine (INTER_LINEAR, constant border, integer pixel centres)
 *   sscma_letterbox           LetterResize's size, scale and padding (Python's round, mmyolo's padding split)
 *   sscma_keep_ratio_size     YOLOv5KeepRatioResize's ratio and size (int() truncation)
 *   sscma_mosaic_place        Mosaic's paste and crop rectangles of one quadrant
 *   sscma_hsv_lut             YOLOv5HSVRandomAug's three 256-entry tables for given gains
 *   sscma_hsv_apply_lut       through OpenCV's 8-bit RGB->HSV, the tables, HSV->RGB
 *   sscma_clahe_u8            OpenCV's CLAHE on one 8-bit plane
 *   sscma_resize_area         OpenCV's INTER_AREA (pixel-overlap average) when shrinking
 *   sscma_beta_sample         a Beta(alpha, beta) draw from a counter-based stream (MixUp's ratio)
 */
#ifndef SSCMA_LIB_DATA_DETECT_H
#define SSCMA_LIB_DATA_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "data/data.h"

typedef struct sscma_affine_spec {
    double max_rotate_degree, max_shear_degree, max_translate_ratio, scale_min, scale_max;
    int64_t border_x, border_y; /* output = input + 2 * border (negative after Mosaic) */
    double min_bbox_size, min_area_ratio, max_aspect_ratio;
    bool clip; /* bbox_clip_border */
} sscma_affine_spec;

/*
 * The matrix for an h x w input from six uniform draws u in [0, 1) taken in mmyolo's order (rotation, scaling, shear
 * x, shear y, translation x, translation y): m (row-major 3x3) maps input to output pixels. Returns the scaling ratio;
 * *oh, *ow get the output size (h + 2 border_y, w + 2 border_x).
 */
double sscma_yolov5_affine(const sscma_affine_spec *s, int64_t h, int64_t w, const double u[6], double m[9],
                           int64_t *oh, int64_t *ow);

/*
 * Boxes (x1, y1, x2, y2) through m: the four corners projected, their min/max, clipped to [0, ow] x [0, oh] (with
 * s->clip); a box
 * is kept if its width and height exceed min_bbox_size, its area over the input box's area scaled by `scale`^2
 * exceeds min_area_ratio and its aspect ratio is under max_aspect_ratio. Kept boxes are compacted (labels with them;
 * labels may be NULL); returns how many remain.
 */
int32_t sscma_affine_boxes(const sscma_affine_spec *s, const double m[9], double scale, int64_t oh, int64_t ow,
                           float *boxes, int32_t *labels, int32_t n);

/* dst (oh x ow, data with room for it) = src warped by the 2x3 part of m, as cv2.warpAffine with INTER_LINEAR and
 * BORDER_CONSTANT: dst(x, y) = src(m^-1 (x, y)), integer pixel centres. */
void sscma_warp_affine_cv(const sscma_image *src, sscma_image *dst, int64_t oh, int64_t ow, const double m[9],
                          float border);

typedef struct sscma_letterbox_params {
    int64_t nh, nw;                      /* the resized image */
    int64_t top, bottom, left, right;    /* padding */
    int64_t oh, ow;                      /* the output: n + padding */
    double scale_y, scale_x;             /* box scale factors (nw / w, nh / h) */
} sscma_letterbox_params;

/* LetterResize of an h x w image to th x tw (mmyolo: ratio, Python round, padding split int(round(p // 2 - 0.1))). */
void sscma_letterbox(int64_t h, int64_t w, int64_t th, int64_t tw, bool allow_scale_up, bool use_mini_pad,
                     bool stretch_only, sscma_letterbox_params *out);

/* YOLOv5KeepRatioResize: ratio = min(max(scale) / max(h, w), min(scale) / min(h, w)); size int(w r) x int(h r). */
double sscma_keep_ratio_size(int64_t h, int64_t w, int64_t th, int64_t tw, int64_t *nh, int64_t *nw);

/* Mosaic's quadrant `loc` (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of an h x w image around centre
 * (cx, cy) on a 2 sh x 2 sw canvas: paste = x1, y1, x2, y2 on the canvas, crop = x1, y1, x2, y2 in the image. */
void sscma_mosaic_place(int loc, int64_t cx, int64_t cy, int64_t h, int64_t w, int64_t sh, int64_t sw,
                        int64_t paste[4], int64_t crop[4]);

/* lut[0] hue ((i g0) % 180), lut[1] saturation, lut[2] value (clip(i g, 0, 255)), each truncated to 8 bits. */
void sscma_hsv_lut(const double gains[3], uint8_t lut[3][256]);
/* An RGB image (values rounded to 8 bits) through OpenCV's 8-bit HSV conversion, the tables and back. */
void sscma_hsv_apply_lut(sscma_image *img, const uint8_t lut[3][256]);

/* OpenCV's CLAHE (clipLimit, tileGridSize tiles_x x tiles_y) of an 8-bit plane, in place; false when out of
 * memory (its buffers come from ctx). */
bool sscma_clahe_u8(const sscma_context *ctx, uint8_t *plane, int64_t h, int64_t w, double clip_limit,
                    int32_t tiles_x, int32_t tiles_y);

/* OpenCV's INTER_AREA when shrinking: each output pixel the overlap-weighted mean of the input pixels its cell
 * covers (dst->data has room for oh x ow). */
void sscma_resize_area(const sscma_image *src, sscma_image *dst, int64_t oh, int64_t ow);

/* Beta(alpha, beta) from uniform draws sscma_uniform(seed, stream, 1 ...) (Marsaglia-Tsang gammas). */
double sscma_beta_sample(double alpha, double beta, uint64_t seed, uint64_t stream);

#endif /* SSCMA_LIB_DATA_DETECT_H */
