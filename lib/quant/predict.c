/*
 * Predictions as SSCMA-Micro makes them: device pre-processing (channels, bilinear resize, the metadata's
 * normalisation, quantization), one run, and the family's post-processing.
 */
#include <jansson.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "quant/qmodel.h"
#include "sscma/predict.h"

#define WHERE "predict"
#define PREDICT "sscma_predict" /* the public call, in the messages of its helpers */
/* The first version ends with top_k (12 bytes on LP64): frozen (docs/architecture.md, "Versioned options"). */
#define PREDICT_OPTIONS_V1_SIZE SSCMA_SIZE_THROUGH(sscma_predict_options, top_k)
_Static_assert(sizeof(void *) != 8 || PREDICT_OPTIONS_V1_SIZE == 12, "the first version's size is frozen");

/* SSCMA-Micro's device defaults (sscma/server/at/callback/resource.hpp): every model runs at these. */
#define DEVICE_SCORE_THRESHOLD 0.25f
#define DEVICE_IOU_THRESHOLD 0.45f

static void defaults(sscma_predict_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->score_threshold = -1.0f; /* the family's default */
    o->top_k = 5;
    o->task = NULL;
    o->iou_threshold = DEVICE_IOU_THRESHOLD;
}

sscma_status sscma_predict_options_init(sscma_predict_options *options, size_t struct_size)
{
    sscma_predict_options o;
    defaults(&o);
    return SSCMA_OPTIONS_INIT(sscma_predict_options, options, struct_size, &o, PREDICT_OPTIONS_V1_SIZE);
}

sscma_status sscma_image_read(sscma_context *ctx, const char *path, int32_t channels, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(path);
    SSCMA_REQUIRE_NONNULL(out);
    if (channels != 0 && channels != 1 && channels != 3)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "channels is %d; expected 0, 1 or 3", (int)channels);
    uint8_t *px = NULL;
    int64_t h = 0, w = 0, c = 0;
    sscma_status st = sscma_image_decode(ctx, path, SSCMA_DEFAULT_MAX_PIXELS, channels, &px, &h, &w, &c);
    if (st != SSCMA_OK)
        return st;
    const int64_t dims[3] = {h, w, c};
    sscma_tensor *t = NULL;
    if ((st = sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 3, dims, &t)) == SSCMA_OK) {
        void *data = NULL;
        sscma_tensor_data(t, &data);
        memcpy(data, px, (size_t)(h * w * c));
        *out = t;
    }
    sscma_mfree(ctx, px);
    return st;
}

/*
 * A JSON list of 1..4 numbers from the metadata `key`; when absent, mean 0 and std 1 (libsscma's files state theirs),
 * or std 255 for a file without libsscma metadata (`device`): ModelAssistant exports real = pixel / 255, which
 * with its input scale 1/255 and zero point -128 is SSCMA-Micro's q = pixel - 128.
 */
static sscma_status meta_stats(const sscma_qmodel *q, const char *key, bool device, json_t **out)
{
    const char *text = NULL;
    if (sscma_qmodel_meta(q, key, &text) != SSCMA_OK) {
        sscma_clear_error();
        *out = json_pack("[f]", strcmp(key, "std") == 0 ? (device ? 255.0 : 1.0) : 0.0);
        return SSCMA_OK;
    }
    json_t *v = json_loads(text, 0, NULL);
    bool ok = json_is_array(v) && json_array_size(v) >= 1 && json_array_size(v) <= 4;
    for (size_t i = 0; ok && i < json_array_size(v); i++)
        ok = json_is_number(json_array_get(v, i)) && (strcmp(key, "mean") == 0 || json_number_value(json_array_get(v, i)) > 0);
    if (!ok) {
        json_decref(v);
        return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "the model's '%s' metadata is %s; expected a list of 1 to 4 "
                          "numbers", key, text);
    }
    *out = v;
    return SSCMA_OK;
}

/* Writes the pre-processed image into the model's input 0 (f32, then quantized by set_input for int8). */
static sscma_status preprocess(sscma_qmodel *q, const sscma_tensor *image, sscma_tensor *in, bool device)
{
    int64_t ih = 0, iw = 0, ic = 0, h = 0, w = 0, c = 0;
    int32_t rank = 0;
    sscma_dtype dt = 0;
    sscma_tensor_rank(image, &rank);
    sscma_tensor_dtype(image, &dt);
    if (dt != SSCMA_DTYPE_U8)
        return sscma_fail(SSCMA_ERR_DTYPE, WHERE, "the image must be u8 [H, W, C], not %s", sscma_dtype_name(dt));
    if (rank != 3)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the image must be u8 [H, W, C]; it has rank %d", (int)rank);
    sscma_tensor_dim(image, 0, &ih), sscma_tensor_dim(image, 1, &iw), sscma_tensor_dim(image, 2, &ic);
    if (ic != 1 && ic != 3)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the image has %lld channels; expected 1 or 3", (long long)ic);
    sscma_tensor_dim(in, 1, &h), sscma_tensor_dim(in, 2, &w), sscma_tensor_dim(in, 3, &c);
    json_t *mean = NULL, *std = NULL;
    sscma_status st = meta_stats(q, "mean", device, &mean);
    if (st == SSCMA_OK)
        st = meta_stats(q, "std", device, &std);
    if (st != SSCMA_OK) {
        json_decref(mean);
        return st;
    }
    json_t *list = json_pack("[{s:s}, {s:s, s:[II]}, {s:s, s:o, s:o}]", "type", c == 1 ? "ToGray" : "ToRGB", "type",
                             "Resize", "size", (json_int_t)h, (json_int_t)w, "type", "Normalize", "mean", mean, "std",
                             std);
    sscma_pipeline *p = NULL;
    if (list == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot build the pre-processing");
    st = sscma_pipeline_create(q->ctx, list, &p);
    json_decref(list);
    if (st != SSCMA_OK)
        return st;
    sscma_image img = {.ctx = q->ctx}, scratch = {.ctx = q->ctx};
    const uint8_t *px = NULL;
    sscma_tensor_data(image, (void **)&px);
    img.data = sscma_calloc(q->ctx, (size_t)(ih * iw * ic), sizeof(float));
    if (img.data == NULL) {
        sscma_pipeline_destroy(p);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate a %lld x %lld image", (long long)ih,
                          (long long)iw);
    }
    img.capacity = (size_t)(ih * iw * ic);
    img.h = ih, img.w = iw, img.c = ic;
    for (int64_t i = 0; i < ih * iw * ic; i++)
        img.data[i] = (float)px[i];
    st = sscma_pipeline_apply(p, &img, &scratch, 0, 0);
    sscma_pipeline_destroy(p);
    if (st == SSCMA_OK && (img.h != h || img.w != w || img.c != c))
        st = sscma_fail(SSCMA_ERR_INTERNAL, WHERE, "pre-processing gave %lld x %lld x %lld for a %lld x %lld x %lld "
                        "input", (long long)img.h, (long long)img.w, (long long)img.c, (long long)h, (long long)w,
                        (long long)c);
    if (st == SSCMA_OK) {
        const int64_t dims[4] = {1, h, w, c};
        sscma_tensor *view = NULL;
        st = sscma_tensor_wrap(q->ctx, SSCMA_DTYPE_F32, 4, dims, img.data, img.capacity * sizeof(float), &view);
        if (st == SSCMA_OK)
            st = sscma_qmodel_set_input(q, 0, view);
        sscma_tensor_destroy(view);
    }
    sscma_mfree(q->ctx, img.data);
    sscma_mfree(q->ctx, scratch.data);
    return st;
}

/* The post-processings, by their --task names, and the "family" metadata that names each. */
typedef enum { TASK_CLS, TASK_FOMO, TASK_PFLD, TASK_YOLO, TASK_RTMDET, TASK_COUNT } predict_task;
static const char *const TASK_NAME[TASK_COUNT] = {"cls", "fomo", "pfld", "yolo", "rtmdet"};
static const char *const TASK_FAMILY[TASK_COUNT] = {"ImageClassifier", "Fomo", "PFLD", "YOLODetector", "RTMDet"};

/* One result with the key that orders ties as SSCMA-Micro's stable list sorts do (docs/deployment.md). */
typedef struct candidate {
    sscma_prediction p;
    int64_t order;
} candidate;

/* Score descending; ties: the larger `order` first (SSCMA-Micro builds its lists with emplace_front). */
static int by_score_then_order(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->p.score != y->p.score)
        return x->p.score > y->p.score ? -1 : 1;
    return x->order < y->order ? 1 : x->order > y->order ? -1 : 0;
}

/* x ascending; ties: the smaller `order` first (the caller sets order to the position a stable sort keeps). */
static int by_x_then_order(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->p.x != y->p.x)
        return x->p.x < y->p.x ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

/* libsscma's order: score descending, then class, then emission (qsort is not stable). */
static int by_score(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->p.score != y->p.score)
        return x->p.score > y->p.score ? -1 : 1;
    if (x->p.class_id != y->p.class_id)
        return x->p.class_id - y->p.class_id;
    return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

/* "[1, 2, 3]" into buf. */
static const char *dims_text(char *buf, size_t size, int32_t rank, const int64_t *dims)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int32_t i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

/* The number of YOLOv5 records SSCMA-Micro expects for an input W wide with C channels (3 grid scales). */
static int64_t yolo_records(int64_t w, int64_t c)
{
    const int64_t s = w >> 5, m = w >> 4, l = w >> 3;
    return (s * s + m * m + l * l) * c;
}

/*
 * SSCMA-Micro's recognition of a file without metadata (ModelFactory::create's order: FOMO, YOLOv5, classifier;
 * PFLD only when told). in: [1, H, W, C]; out: the output's shape.
 */
static sscma_status recognise(const sscma_qmodel *q, int32_t in_rank, const int64_t *in, int32_t rank,
                              const int64_t *d, predict_task *task)
{
    const bool input_ok = q->n_inputs == 1 && q->n_outputs == 1 && in_rank == 4 && in[0] == 1 && in[1] >= 32 &&
                          in[1] % 32 == 0 && (in[3] == 1 || in[3] == 3);
    int32_t order[2 * SSCMA_RTMDET_LEVELS];
    int64_t rows = 0, classes = 0;
    if (q->n_inputs == 1 && q->n_outputs == 2 * SSCMA_RTMDET_LEVELS && in_rank == 4 && in[0] == 1 && in[1] >= 32 &&
        in[1] % 32 == 0 && in[1] == in[2] && (in[3] == 1 || in[3] == 3) &&
        sscma_qm_rtmdet_layout(q, PREDICT, order, &rows, &classes) == SSCMA_OK) {
        *task = TASK_RTMDET;
        return SSCMA_OK;
    }
    sscma_clear_error();
    if (input_ok && rank == 4 && d[0] == 1 && in[1] == in[2] && d[1] >= 2 && d[1] <= in[2] && d[2] >= 2 &&
        d[2] <= in[1] && d[3] >= 2)
        *task = TASK_FOMO;
    else if (input_ok && rank == 3 && d[0] == 1 && d[1] == yolo_records(in[2], in[3]) && d[2] >= 6 && d[2] <= 85)
        *task = TASK_YOLO;
    else if (input_ok && rank == 2 && d[0] == 1 && d[1] >= 2)
        *task = TASK_CLS;
    else {
        char a[96], b[96];
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, PREDICT,
                          "the model has no \"family\" metadata and its layout (%d input(s), %d output(s); input %s, "
                          "output %s) is none SSCMA-Micro recognises: one input [1, H, W, 1 or 3] with H a multiple "
                          "of 32 (at least 32) and one output, FOMO [1, h, w, classes + 1] (square input), "
                          "YOLOv5 / Swift-YOLO [1, C x ((W/32)^2 + (W/16)^2 + (W/8)^2), 5 + classes] (1 to 80 "
                          "classes), a classifier [1, classes]; RTMDet's six outputs [1, (W/s)^2, classes] and "
                          "[1, (W/s)^2, 4], s = 8, 16, 32; a PFLD [1, 2 x points] only when told; say which "
                          "with --task cls|fomo|pfld|yolo|rtmdet (sscma_predict_options.task)",
                          (int)q->n_inputs, (int)q->n_outputs, dims_text(a, sizeof a, in_rank, in),
                          dims_text(b, sizeof b, rank, d));
    }
    return SSCMA_OK;
}

/* A told task (option or metadata) needs its output rank and sizes; the input is not checked. */
static sscma_status check_layout(predict_task task, const char *from, int32_t rank, const int64_t *d)
{
    static const char *const want[TASK_COUNT] = {"[1, classes]", "[1, H, W, classes + 1]", "[1, 2 x points]",
                                                 "[1, N, 5 + classes]", ""};
    const bool ok = d[0] == 1 && ((task == TASK_CLS && rank == 2 && d[1] >= 1) ||
                                  (task == TASK_FOMO && rank == 4 && d[1] >= 1 && d[2] >= 1 && d[3] >= 2) ||
                                  (task == TASK_PFLD && rank == 2 && d[1] % 2 == 0 && d[1] >= 2) ||
                                  (task == TASK_YOLO && rank == 3 && d[1] >= 1 && d[2] >= 6));
    if (ok)
        return SSCMA_OK;
    char b[96];
    return sscma_fail(SSCMA_ERR_UNSUPPORTED, PREDICT, "the %s model's output is %s; expected %s", from,
                      dims_text(b, sizeof b, rank, d), want[task]);
}

/* The true IoU of two centre-format boxes (SSCMA-Micro's compute_iou reads the centres as corners: see the docs). */
static float box_iou(const sscma_prediction *a, const sscma_prediction *b)
{
    const float x1 = fmaxf(a->x - a->w / 2, b->x - b->w / 2), y1 = fmaxf(a->y - a->h / 2, b->y - b->h / 2);
    const float x2 = fminf(a->x + a->w / 2, b->x + b->w / 2), y2 = fminf(a->y + a->h / 2, b->y + b->h / 2);
    const float inter = fmaxf(0.0f, x2 - x1) * fmaxf(0.0f, y2 - y1);
    const float d = a->w * a->h + b->w * b->h - inter;
    return fabsf(d) < FLT_EPSILON ? 0.0f : inter / d;
}

/* To [0, 1]; NaN (a float model's) becomes 0, so the sorts see ordered values. */
static float clip01(float v)
{
    return !(v > 0.0f) ? 0.0f : v > 1.0f ? 1.0f : v;
}

/*
 * YOLOv5 / Swift-YOLO [1, N, 5 + C] as SSCMA-Micro's YoloV5::generalPostProcess: score = objectness (> th), class =
 * the first largest class score, xywh (centre) divided by the input size and scores by 100 when the values are not
 * normalised, each clipped to 0..1; class-agnostic hard NMS (IoU > iou); sorted by x. Boxes end in [0, 1] units.
 */
static int64_t decode_yolo(const float *v, int64_t n, int64_t len, bool normalised, float in_w, float in_h, float th,
                           float iou, candidate *all)
{
    int64_t found = 0;
    for (int64_t r = 0; r < n; r++) {
        const float *rec = v + r * len;
        float score = normalised ? rec[4] : rec[4] / 100.0f;
        if (!(score > th))
            continue;
        int32_t target = 0;
        for (int64_t k = 1; k < len - 5; k++)
            if (rec[5 + k] > rec[5 + target])
                target = (int32_t)k;
        float x = rec[0], y = rec[1], w = rec[2], h = rec[3];
        if (!normalised)
            x /= in_w, y /= in_h, w /= in_w, h /= in_h;
        all[found++] = (candidate){{target, score, clip01(x), clip01(y), clip01(w), clip01(h)}, r};
    }
    qsort(all, (size_t)found, sizeof *all, by_score_then_order);
    int64_t kept = 0;
    for (int64_t i = 0; i < found; i++) {
        bool dropped = false;
        for (int64_t j = 0; j < kept && !dropped; j++)
            dropped = box_iou(&all[j].p, &all[i].p) > iou;
        if (!dropped) {
            all[kept] = all[i];
            all[kept].order = kept;
            kept++;
        }
    }
    qsort(all, (size_t)kept, sizeof *all, by_x_then_order);
    return kept;
}

/*
 * RTMDet's six outputs as SSCMA-Micro's RTMDet::postProcessI8: per point (levels by stride, cells row-major) the
 * largest class logit at or above the threshold's logit (the last of equal ones), score sigmoid(logit); the box
 * ((cell + offset) s -/+ d s); per-class hard NMS (IoU > iou), best score first. `device`: SSCMA-Micro's point
 * offset 0.5 and its quantized threshold floor(logit(th) / scale) in int8 steps; else the model's own decode
 * (ModelAssistant's offset 0, rtmdet_decode) and logit >= logit(th). Boxes in input pixels.
 */
static int64_t decode_rtmdet(sscma_qmodel *q, const int32_t *order, const float *const *maps, int64_t in_h,
                             int64_t in_w, int64_t classes, bool device, float th, float iou, candidate *all)
{
    const float offset = device ? 0.5f : 0.0f;
    const float th_logit = th <= 0.0f ? -INFINITY : th >= 1.0f ? INFINITY : logf(th / (1.0f - th));
    int64_t found = 0, emitted = 0;
    for (int32_t l = 0; l < SSCMA_RTMDET_LEVELS; l++) {
        sscma_tensor *t = NULL;
        int32_t axis = 0;
        int64_t qn = 0;
        const float *scale = NULL;
        const int32_t *zero = NULL;
        sscma_qmodel_output(q, order[l], &t, NULL);
        sscma_tensor_quant(t, &axis, &qn, &scale, &zero);
        const bool steps = device && qn == 1 && scale[0] > 0.0f;
        const float floor_steps = steps ? floorf(th_logit / scale[0]) : 0.0f;
        const int64_t s = sscma_rtmdet_strides[l], w = in_w / s, hw = (in_h / s) * w;
        const float *cls = maps[l], *dist = maps[SSCMA_RTMDET_LEVELS + l];
        for (int64_t j = 0; j < hw; j++, emitted++) {
            int32_t best = -1;
            float top = 0.0f;
            for (int64_t c = 0; c < classes; c++) {
                const float v = cls[j * classes + c];
                const bool pass = steps ? rintf(v / scale[0]) >= floor_steps : v >= th_logit;
                if (pass && (best < 0 || v >= top))
                    best = (int32_t)c, top = v;
            }
            if (best < 0)
                continue;
            const float px = ((float)(j % w) + offset) * (float)s, py = ((float)(j / w) + offset) * (float)s;
            const float *d = dist + j * 4;
            const float x1 = px - d[0] * (float)s, y1 = py - d[1] * (float)s;
            const float x2 = px + d[2] * (float)s, y2 = py + d[3] * (float)s;
            all[found++] = (candidate){{best, 1.0f / (1.0f + expf(-top)), (x1 + x2) * 0.5f, (y1 + y2) * 0.5f,
                                        x2 - x1, y2 - y1}, emitted};
        }
    }
    qsort(all, (size_t)found, sizeof *all, by_score_then_order);
    int64_t kept = 0;
    for (int64_t i = 0; i < found; i++) {
        bool dropped = false;
        for (int64_t j = 0; j < kept && !dropped; j++)
            dropped = all[j].p.class_id == all[i].p.class_id && box_iou(&all[j].p, &all[i].p) > iou;
        if (!dropped)
            all[kept++] = all[i];
    }
    return kept;
}

/* Where the task comes from: the option, else the "family" metadata, else the shapes. */
static sscma_status choose_task(sscma_qmodel *q, const char *option, const char *family, int32_t in_rank,
                                const int64_t *in, int32_t rank, const int64_t *d, predict_task *task)
{
    int32_t order[2 * SSCMA_RTMDET_LEVELS];
    int64_t rows = 0, classes = 0;
    const char *told = option != NULL && option[0] != '\0' ? option : family;
    if (told != NULL && (strcmp(told, "rtmdet") == 0 || strcmp(told, "RTMDet") == 0)) {
        *task = TASK_RTMDET;
        return sscma_qm_rtmdet_layout(q, PREDICT, order, &rows, &classes);
    }
    if (option != NULL && option[0] != '\0') {
        for (int t = 0; t < TASK_COUNT; t++)
            if (strcmp(option, TASK_NAME[t]) == 0) {
                *task = (predict_task)t;
                return check_layout(*task, option, rank, d);
            }
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, PREDICT,
                          "unknown task '%s'; expected cls, fomo, pfld, yolo or rtmdet", option);
    }
    if (family != NULL) {
        for (int t = 0; t < TASK_COUNT; t++)
            if (TASK_FAMILY[t] != NULL && strcmp(family, TASK_FAMILY[t]) == 0) {
                *task = (predict_task)t;
                return check_layout(*task, family, rank, d);
            }
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, PREDICT, "no post-processing for the family '%s'; say the output's "
                          "layout with the task cls, fomo, pfld, yolo or rtmdet, or run it with sscma_qmodel_run",
                          family);
    }
    return recognise(q, in_rank, in, rank, d, task);
}

/* The model's family, the views at batch 1 and their shapes, and the task they call for (sscma_predict_task). */
typedef struct predict_setup {
    const char *family;
    sscma_tensor *in, *outv;
    int32_t rank, in_rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK], in_dims[SSCMA_TENSOR_MAX_RANK];
    predict_task task;
} predict_setup;

static sscma_status setup(sscma_qmodel *q, const sscma_predict_options *o, predict_setup *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < SSCMA_TENSOR_MAX_RANK; i++)
        s->dims[i] = s->in_dims[i] = 1;
    if (sscma_qmodel_meta(q, "family", &s->family) != SSCMA_OK) {
        sscma_clear_error();
        s->family = NULL;
    }
    sscma_status st;
    if (q->plan.batch != 1 && (st = sscma_qmodel_prepare(q, 1)) != SSCMA_OK)
        return st;
    if ((st = sscma_qmodel_input(q, 0, &s->in)) != SSCMA_OK ||
        (st = sscma_qmodel_output(q, 0, &s->outv, NULL)) != SSCMA_OK)
        return st;
    sscma_tensor_rank(s->outv, &s->rank);
    sscma_tensor_rank(s->in, &s->in_rank);
    for (int32_t i = 0; i < s->rank && i < SSCMA_TENSOR_MAX_RANK; i++)
        sscma_tensor_dim(s->outv, i, &s->dims[i]);
    for (int32_t i = 0; i < s->in_rank && i < SSCMA_TENSOR_MAX_RANK; i++)
        sscma_tensor_dim(s->in, i, &s->in_dims[i]);
    s->task = TASK_CLS;
    return choose_task(q, o->task, s->family, s->in_rank, s->in_dims, s->rank, s->dims, &s->task);
}

static sscma_status read_options(const sscma_predict_options *options, sscma_predict_options *o)
{
    defaults(o);
    if (options != NULL) {
        sscma_status st = SSCMA_OPTIONS_READ(sscma_predict_options, options, o, PREDICT_OPTIONS_V1_SIZE);
        if (st != SSCMA_OK)
            return st;
    }
    if (!(o->iou_threshold >= 0.0f && o->iou_threshold <= 1.0f))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "iou_threshold is %g; expected 0..1", (double)o->iou_threshold);
    return SSCMA_OK;
}

sscma_status sscma_predict_task(sscma_qmodel *qmodel, const sscma_predict_options *options, const char **task)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(task);
    sscma_predict_options o;
    predict_setup s;
    sscma_status st = read_options(options, &o);
    if (st == SSCMA_OK && (st = setup(qmodel, &o, &s)) == SSCMA_OK)
        *task = TASK_NAME[s.task];
    return st;
}

/* RTMDet after the run: the six outputs' real values, decode_rtmdet, boxes scaled to the image's pixels. */
static sscma_status predict_rtmdet(sscma_qmodel *q, const sscma_predict_options *o, bool device,
                                   const int64_t *in_dims, int64_t ih, int64_t iw, sscma_prediction *results,
                                   int32_t capacity, int32_t *count)
{
    int32_t order[2 * SSCMA_RTMDET_LEVELS];
    int64_t rows = 0, classes = 0;
    sscma_status st = sscma_qm_rtmdet_layout(q, PREDICT, order, &rows, &classes);
    if (st != SSCMA_OK)
        return st;
    const size_t values = (size_t)(rows * (classes + 4));
    float *v = sscma_calloc(q->ctx, values, sizeof *v);
    candidate *all = sscma_calloc(q->ctx, (size_t)rows, sizeof *all);
    const float *maps[2 * SSCMA_RTMDET_LEVELS];
    float *at = v;
    for (int32_t slot = 0; slot < 2 * SSCMA_RTMDET_LEVELS && st == SSCMA_OK && v != NULL && all != NULL; slot++) {
        sscma_tensor *t = NULL, *view = NULL;
        int32_t rank = 0;
        int64_t dims[3] = {1, 1, 1}, n = 0;
        sscma_qmodel_output(q, order[slot], &t, NULL);
        sscma_tensor_rank(t, &rank);
        for (int32_t i = 0; i < rank && i < 3; i++)
            sscma_tensor_dim(t, i, &dims[i]);
        sscma_tensor_numel(t, &n);
        if ((st = sscma_tensor_wrap(q->ctx, SSCMA_DTYPE_F32, rank, dims, at, (size_t)n * sizeof *at, &view)) ==
            SSCMA_OK)
            st = sscma_qmodel_get_output(q, order[slot], view);
        sscma_tensor_destroy(view);
        maps[slot] = at;
        at += n;
    }
    if (st == SSCMA_OK && (v == NULL || all == NULL))
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the results");
    if (st == SSCMA_OK) {
        const float th = o->score_threshold >= 0.0f ? o->score_threshold : DEVICE_SCORE_THRESHOLD;
        const int64_t found = decode_rtmdet(q, order, maps, in_dims[1], in_dims[2], classes, device, th,
                                            o->iou_threshold, all);
        const float sx = (float)iw / (float)in_dims[2], sy = (float)ih / (float)in_dims[1];
        for (int64_t k = 0; k < found && k < capacity; k++) {
            results[k] = all[k].p;
            results[k].x *= sx, results[k].w *= sx, results[k].y *= sy, results[k].h *= sy;
        }
        *count = (int32_t)found;
    }
    sscma_mfree(q->ctx, all);
    sscma_mfree(q->ctx, v);
    return st;
}

sscma_status sscma_predict(sscma_qmodel *qmodel, const sscma_tensor *image, const sscma_predict_options *options,
                           sscma_prediction *results, int32_t capacity, int32_t *count)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(image);
    SSCMA_REQUIRE_NONNULL(count);
    if (capacity < 0 || (capacity > 0 && results == NULL))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "results must hold capacity (%d) entries", (int)capacity);
    sscma_predict_options o;
    predict_setup su;
    sscma_qmodel *q = qmodel;
    sscma_status st = read_options(options, &o);
    if (st != SSCMA_OK || (st = setup(q, &o, &su)) != SSCMA_OK)
        return st;
    /* a file without libsscma's metadata follows SSCMA-Micro's conventions (docs/deployment.md) */
    const bool device = su.family == NULL;
    sscma_tensor *in = su.in, *outv = su.outv;
    const int32_t rank = su.rank;
    const int64_t *dims = su.dims, *in_dims = su.in_dims;
    const predict_task task = su.task;
    int64_t n = 0, ih = 0, iw = 0;
    /* SSCMA-Micro's "values in percent" rule: an int8 output whose scale is 0.1 or more */
    int32_t qaxis = 0;
    int64_t qcount = 0;
    const float *qscale = NULL;
    const int32_t *qzero = NULL;
    sscma_tensor_quant(outv, &qaxis, &qcount, &qscale, &qzero);
    const bool quantized = qcount == 1, percent = quantized && qscale[0] >= 0.1f;
    if ((st = preprocess(q, image, in, device)) != SSCMA_OK || (st = sscma_qmodel_run(q)) != SSCMA_OK)
        return st;
    sscma_tensor_numel(outv, &n);
    sscma_tensor_dim(image, 0, &ih), sscma_tensor_dim(image, 1, &iw);
    if (task == TASK_RTMDET)
        return predict_rtmdet(q, &o, device, in_dims, ih, iw, results, capacity, count);
    float *v = sscma_calloc(q->ctx, (size_t)n, sizeof *v);
    candidate *all = NULL;
    if (v == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the output");
    sscma_tensor *vt = NULL;
    if ((st = sscma_tensor_wrap(q->ctx, SSCMA_DTYPE_F32, rank, dims, v, (size_t)n * sizeof *v, &vt)) == SSCMA_OK)
        st = sscma_qmodel_get_output(q, 0, vt);
    sscma_tensor_destroy(vt);
    int64_t found = 0;
    if (st == SSCMA_OK && (all = sscma_calloc(q->ctx, (size_t)n, sizeof *all)) == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the results");
    const float user_th = o.score_threshold;
    if (st == SSCMA_OK && task == TASK_CLS && !device) {
        const float th = user_th >= 0.0f ? user_th : 0.0f;
        for (int64_t k = 0; k < dims[1]; k++)
            if (v[k] >= th)
                all[found++] = (candidate){{(int32_t)k, v[k], 0, 0, 0, 0}, k};
        qsort(all, (size_t)found, sizeof *all, by_score);
    } else if (st == SSCMA_OK && task == TASK_CLS) {
        /* SSCMA-Micro's Classifier: values as they are (/ 100 in percent), above the threshold, best first */
        const float th = user_th >= 0.0f ? user_th : DEVICE_SCORE_THRESHOLD;
        for (int64_t k = 0; k < dims[1]; k++) {
            const float s = percent ? v[k] / 100.0f : v[k];
            if (s > th)
                all[found++] = (candidate){{(int32_t)k, s, 0, 0, 0, 0}, k};
        }
        qsort(all, (size_t)found, sizeof *all, by_score_then_order);
    } else if (st == SSCMA_OK && task == TASK_FOMO && !device) {
        /* libsscma's FOMO: every non-background class of a cell above the threshold, at the cell's centre */
        const float th = user_th >= 0.0f ? user_th : 0.5f;
        const int64_t gh = dims[1], gw = dims[2], nc = dims[3];
        const float sx = (float)iw / (float)gw, sy = (float)ih / (float)gh;
        for (int64_t y = 0; y < gh; y++)
            for (int64_t x = 0; x < gw; x++)
                for (int64_t k = 1; k < nc; k++) {
                    float s = v[(y * gw + x) * nc + k];
                    if (s > th) {
                        all[found] = (candidate){{(int32_t)(k - 1), s, ((float)x + 0.5f) * sx,
                                                  ((float)y + 0.5f) * sy, sx, sy}, found};
                        found++;
                    }
                }
        qsort(all, (size_t)found, sizeof *all, by_score);
    } else if (st == SSCMA_OK && task == TASK_FOMO) {
        /* SSCMA-Micro's FOMO as intended: a cell's first largest channel, kept when it is an object above the
           threshold (background dropped, as 1.0.x); class = channel - 1; sorted by x, a column bottom row first */
        const float th = user_th >= 0.0f ? user_th : DEVICE_SCORE_THRESHOLD;
        const int64_t gh = dims[1], gw = dims[2], nc = dims[3];
        const float sx = (float)iw / (float)gw, sy = (float)ih / (float)gh;
        for (int64_t y = 0; y < gh; y++)
            for (int64_t x = 0; x < gw; x++) {
                const float *cell = v + (y * gw + x) * nc;
                int64_t best = 0;
                for (int64_t k = 1; k < nc; k++)
                    if (cell[k] > cell[best])
                        best = k;
                if (best != 0 && cell[best] > th) {
                    all[found] = (candidate){{(int32_t)(best - 1), cell[best], ((float)x + 0.5f) * sx,
                                              ((float)y + 0.5f) * sy, sx, sy}, -found};
                    found++;
                }
            }
        qsort(all, (size_t)found, sizeof *all, by_x_then_order);
    } else if (st == SSCMA_OK && task == TASK_PFLD) {
        /* PFLD: coordinates normalised to the input (/ 100 in percent), scaled to the image */
        const float f = device && percent ? 0.01f : 1.0f;
        for (int64_t k = 0; k < dims[1] / 2; k++)
            all[found++] = (candidate){{(int32_t)k, 1.0f, v[2 * k] * f * (float)iw, v[2 * k + 1] * f * (float)ih, 0,
                                        0}, k};
    } else if (st == SSCMA_OK) {
        /* SSCMA-Micro: percent values when the int8 scale is 0.1 or more; a float output by its first x */
        const bool normalised = quantized ? !percent : v[0] < 1.0f;
        const float th = user_th >= 0.0f ? user_th : DEVICE_SCORE_THRESHOLD;
        found = decode_yolo(v, dims[1], dims[2], normalised, (float)in_dims[2], (float)in_dims[1], th,
                            o.iou_threshold, all);
        for (int64_t k = 0; k < found; k++) {
            sscma_prediction *p = &all[k].p;
            p->x *= (float)iw, p->y *= (float)ih, p->w *= (float)iw, p->h *= (float)ih;
        }
    }
    if (st == SSCMA_OK && task == TASK_CLS && o.top_k >= 0 && found > o.top_k)
        found = o.top_k;
    if (st == SSCMA_OK) {
        for (int64_t k = 0; k < found && k < capacity; k++)
            results[k] = all[k].p;
        *count = (int32_t)found;
    }
    sscma_mfree(q->ctx, all);
    sscma_mfree(q->ctx, v);
    return st;
}
