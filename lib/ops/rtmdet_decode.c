/*
 * rtmdet_decode (inference only): an RTMDet head's outputs to boxes in input pixels and scores, as mmyolo's
 * YOLOv5Head.predict_by_feat decodes them for SSCMA's RTMDetHead (MlvlPointGenerator with offset 0,
 * DistancePointBBoxCoder without max_shape), before the thresholds and NMS that follow (the metric's).
 *
 * Inputs: L class maps, then L distance maps (L levels, the order of the attributes' strides), NHWC:
 *   cls_l [N, H_l, W_l, C]  raw logits            reg_l [N, H_l, W_l, 4]  left, top, right, bottom in pixels
 *   (the head's distances already multiplied by the level's stride).
 * Output [N, sum_l H_l W_l, 5 + C], rows by level, then cell y W_l + x (mmdet's flatten order), in yolo_decode's
 * layout so that CocoMetric, det_eval and predict read it unchanged: cx, cy, w, h, then 1 where YOLO has its
 * objectness (RTMDet has none: scores times 1 are the scores), then sigmoid(class logits):
 *   point (x s, y s);  x1 = x s - left, y1 = y s - top, x2 = x s + right, y2 = y s + bottom;
 *   cx = (x1 + x2) / 2, cy = (y1 + y2) / 2, w = x2 - x1, h = y2 - y1
 * (a reader's cx - w / 2 gives x1 back within float32 rounding).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"

#define WHERE "rtmdet_decode"

static sscma_status rtmdet_decode_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                        int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_rtmdet_decode_attrs *a = attrs;
    if (n_in % 2 != 0 || a->n_strides != n_in / 2)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE,
                          "takes a class map and a distance map per level: %d inputs for %d strides", (int)n_in,
                          (int)a->n_strides);
    const int32_t levels = n_in / 2;
    int64_t rows = 0, classes = 0;
    for (int32_t l = 0; l < levels; l++) {
        char what[32];
        for (int k = 0; k < 2; k++) {
            snprintf(what, sizeof what, "%s map %d", k == 0 ? "class" : "distance", (int)l);
            sscma_status st = sscma_desc_require(WHERE, what, &in[l + k * levels], SSCMA_DTYPE_F32, 4);
            if (st != SSCMA_OK)
                return st;
        }
        if (a->strides[l] < 1)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "strides[%d] must be at least 1, got %d", (int)l,
                              (int)a->strides[l]);
        const sscma_desc *c = &in[l], *r = &in[l + levels];
        if (l == 0)
            classes = c->dims[3];
        if (c->dims[3] < 1 || c->dims[3] != classes || c->dims[0] != in[0].dims[0] || r->dims[0] != c->dims[0] ||
            r->dims[1] != c->dims[1] || r->dims[2] != c->dims[2] || r->dims[3] != 4)
            return sscma_fail(SSCMA_ERR_SHAPE, WHERE,
                              "level %d: class map [%lld, %lld, %lld, %lld] and distance map [%lld, %lld, %lld, %lld]; "
                              "expected [N, H, W, C] (C >= 1, as level 0's) and [N, H, W, 4] of one batch and grid",
                              (int)l, (long long)c->dims[0], (long long)c->dims[1], (long long)c->dims[2],
                              (long long)c->dims[3], (long long)r->dims[0], (long long)r->dims[1],
                              (long long)r->dims[2], (long long)r->dims[3]);
        rows += c->dims[1] * c->dims[2];
    }
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 3, (const int64_t[]){in[0].dims[0], rows, 5 + classes});
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

static sscma_status rtmdet_decode_forward(const sscma_op_exec *e)
{
    const sscma_rtmdet_decode_attrs *a = e->attrs;
    const int32_t levels = e->n_in / 2;
    const int64_t batch = e->in[0].desc.dims[0], rows = e->out[0].desc.dims[1], attrib = e->out[0].desc.dims[2];
    const int64_t classes = attrib - 5;
    float *y = e->out[0].data;
    for (int64_t n = 0; n < batch; n++) {
        float *row = y + n * rows * attrib;
        for (int32_t l = 0; l < levels; l++) {
            const int64_t H = e->in[l].desc.dims[1], W = e->in[l].desc.dims[2];
            const float *cls = (const float *)e->in[l].data + n * H * W * classes;
            const float *reg = (const float *)e->in[l + levels].data + n * H * W * 4;
            const float stride = (float)a->strides[l];
            for (int64_t cy = 0; cy < H; cy++)
                for (int64_t cx = 0; cx < W; cx++, row += attrib) {
                    const int64_t cell = cy * W + cx;
                    const float *d = reg + cell * 4;
                    const float px = (float)cx * stride, py = (float)cy * stride;
                    const float x1 = px - d[0], y1 = py - d[1], x2 = px + d[2], y2 = py + d[3];
                    row[0] = (x1 + x2) * 0.5f;
                    row[1] = (y1 + y2) * 0.5f;
                    row[2] = x2 - x1;
                    row[3] = y2 - y1;
                    row[4] = 1.0f;
                    for (int64_t k = 0; k < classes; k++)
                        row[5 + k] = sigmoidf(cls[cell * classes + k]);
                }
        }
    }
    return SSCMA_OK;
}

static const sscma_attr_field rtmdet_decode_fields[] = {
    {.name = "strides", .kind = SSCMA_FIELD_I32_LIST, .offset = offsetof(sscma_rtmdet_decode_attrs, strides),
     .capacity = SSCMA_YOLO_OP_MAX_LEVELS, .count_offset = offsetof(sscma_rtmdet_decode_attrs, n_strides)},
    SSCMA_ATTR_END,
};

const sscma_op_def sscma_op_rtmdet_decode = {
    .id = SSCMA_OP_RTMDET_DECODE,
    .name = "rtmdet_decode", .attrs_size = sizeof(sscma_rtmdet_decode_attrs), .min_inputs = 2,
    .max_inputs = 2 * SSCMA_YOLO_OP_MAX_LEVELS,
    .infer = rtmdet_decode_infer, .forward = rtmdet_decode_forward, .backward = NULL,
    .attr_fields = rtmdet_decode_fields,
};
