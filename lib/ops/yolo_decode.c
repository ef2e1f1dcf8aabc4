/*
 * yolo_decode (inference only): the raw maps of a YOLOv5 head to boxes in input pixels, as SSCMA's DetHead.process
 * (ModelAssistant 2.0.0) and mmyolo's YOLOv5Head.predict_by_feat decode them, without the thresholds and NMS that
 * follow (those are the metric's and the device's). For the metric and `sscma infer` on the training model; the
 * deployable model gets its own decode from deployable kinds at lowering.
 *
 * Inputs: one map per level, NHWC [N, H_l, W_l, A (5 + C)], channel a (5 + C) + k (k: 0..3 box, 4 objectness,
 * 5.. classes), as the head's 1x1 prediction conv writes them (mmyolo's view (N, A, 5 + C, H, W) in NHWC).
 * Attributes: `num_classes` C, `strides` (one per level, pixels), `anchors` (A (w, h) pairs per level in pixels,
 * level after level). Output [N, sum_l A H_l W_l, 5 + C], rows by level, then anchor, then cell y W_l + x (the
 * order of SSCMA's exported files), columns: cx, cy, w, h in input pixels, then sigmoid(objectness) and
 * sigmoid(class scores):
 *   cx = (2 sigmoid(t_x) - 0.5 + x) stride     w = (2 sigmoid(t_w))^2 anchor_w     (likewise y and h)
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"

#define WHERE "yolo_decode"

static sscma_status yolo_decode_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                      int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_yolo_decode_attrs *a = attrs;
    if (a->num_classes < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "num_classes must be at least 1, got %d",
                          (int)a->num_classes);
    if (a->n_strides != n_in)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "%d strides for %d input maps", (int)a->n_strides,
                          (int)n_in);
    if (a->n_anchors % (2 * n_in) != 0 || a->n_anchors == 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE,
                          "anchors: %d values are not (w, h) pairs for each of %d levels", (int)a->n_anchors,
                          (int)n_in);
    const int64_t A = a->n_anchors / (2 * n_in), attrib = 5 + (int64_t)a->num_classes;
    int64_t rows = 0;
    for (int32_t l = 0; l < n_in; l++) {
        char what[32];
        snprintf(what, sizeof what, "map %d", (int)l);
        sscma_status st = sscma_desc_require(WHERE, what, &in[l], SSCMA_DTYPE_F32, 4);
        if (st != SSCMA_OK)
            return st;
        if (a->strides[l] < 1)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "strides[%d] must be at least 1", (int)l);
        if (in[l].dims[3] != A * attrib || in[l].dims[0] != in[0].dims[0])
            return sscma_fail(SSCMA_ERR_SHAPE, WHERE,
                              "map %d has shape [%lld, %lld, %lld, %lld]; expected batch %lld and %lld channels "
                              "(%lld anchors x (5 + %d classes))",
                              (int)l, (long long)in[l].dims[0], (long long)in[l].dims[1], (long long)in[l].dims[2],
                              (long long)in[l].dims[3], (long long)in[0].dims[0], (long long)(A * attrib),
                              (long long)A, (int)a->num_classes);
        rows += A * in[l].dims[1] * in[l].dims[2];
    }
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 3, (const int64_t[]){in[0].dims[0], rows, attrib});
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static inline float sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

static sscma_status yolo_decode_forward(const sscma_op_exec *e)
{
    const sscma_yolo_decode_attrs *a = e->attrs;
    const int64_t A = a->n_anchors / (2 * e->n_in), attrib = 5 + (int64_t)a->num_classes;
    const int64_t batch = e->in[0].desc.dims[0], rows = e->out[0].desc.dims[1];
    float *y = e->out[0].data;
    for (int64_t n = 0; n < batch; n++) {
        float *row = y + n * rows * attrib;
        for (int32_t l = 0; l < e->n_in; l++) {
            const int64_t H = e->in[l].desc.dims[1], W = e->in[l].desc.dims[2];
            const float *x = (const float *)e->in[l].data + n * H * W * A * attrib;
            const float stride = (float)a->strides[l];
            for (int64_t an = 0; an < A; an++) {
                const float aw = a->anchors[(l * A + an) * 2], ah = a->anchors[(l * A + an) * 2 + 1];
                for (int64_t cy = 0; cy < H; cy++)
                    for (int64_t cx = 0; cx < W; cx++, row += attrib) {
                        const float *p = x + (cy * W + cx) * A * attrib + an * attrib;
                        const float sx = sigmoidf(p[0]), sy = sigmoidf(p[1]);
                        const float sw = 2.0f * sigmoidf(p[2]), sh = 2.0f * sigmoidf(p[3]);
                        row[0] = (sx * 2.0f - 0.5f + (float)cx) * stride;
                        row[1] = (sy * 2.0f - 0.5f + (float)cy) * stride;
                        row[2] = sw * sw * aw;
                        row[3] = sh * sh * ah;
                        for (int64_t k = 4; k < attrib; k++)
                            row[k] = sigmoidf(p[k]);
                    }
            }
        }
    }
    return SSCMA_OK;
}

static const sscma_attr_field yolo_decode_fields[] = {
    SSCMA_ATTR(sscma_yolo_decode_attrs, num_classes, SSCMA_ATTR_I32, 1),
    {.name = "strides", .kind = SSCMA_FIELD_I32_LIST, .offset = offsetof(sscma_yolo_decode_attrs, strides),
     .capacity = SSCMA_YOLO_OP_MAX_LEVELS, .count_offset = offsetof(sscma_yolo_decode_attrs, n_strides)},
    {.name = "anchors", .kind = SSCMA_FIELD_F32_LIST, .offset = offsetof(sscma_yolo_decode_attrs, anchors),
     .capacity = SSCMA_YOLO_OP_MAX_LEVELS * SSCMA_YOLO_OP_MAX_ANCHORS * 2,
     .count_offset = offsetof(sscma_yolo_decode_attrs, n_anchors)},
    SSCMA_ATTR_END,
};

const sscma_op_def sscma_op_yolo_decode = {
    .id = SSCMA_OP_YOLO_DECODE,
    .name = "yolo_decode", .attrs_size = sizeof(sscma_yolo_decode_attrs), .min_inputs = 1,
    .max_inputs = SSCMA_YOLO_OP_MAX_LEVELS,
    .infer = yolo_decode_infer, .forward = yolo_decode_forward, .backward = NULL,
    .attr_fields = yolo_decode_fields,
};
