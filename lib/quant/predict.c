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
#include "quant/postprocess.h"
#include "quant/qmodel.h"
#include "sscma/predict.h"

#define WHERE "predict"
/* The first version ends with top_k (12 bytes on LP64): frozen (docs/architecture.md, "Versioned options"). */
#define PREDICT_OPTIONS_V1_SIZE SSCMA_SIZE_THROUGH(sscma_predict_options, top_k)
_Static_assert(sizeof(void *) != 8 || PREDICT_OPTIONS_V1_SIZE == 12, "the first version's size is frozen");

/* SSCMA-Micro's device defaults (sscma/server/at/callback/resource.hpp): every model runs at these. */
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

/*
 * A window of sensor values (f32 [channels, length], channel-major, as a SensorDataset's sample gives it) into the
 * model's input: [1, 1, 1, channels * length] as it is (SSCMA's flatten), or [1, 1, length, channels] transposed, or
 * [1, H, W, channels] with H * W = length (feature images, each channel's length values row-major) transposed.
 * The values are used as they are: the dataset's frequency and mean / std were applied when it cut the window.
 */
static sscma_status window_input(sscma_qmodel *q, const sscma_tensor *window, sscma_tensor *in)
{
    int64_t c = 0, l = 0, d[4] = {0}, n = 0;
    int32_t in_rank = 0;
    sscma_tensor_dim(window, 0, &c), sscma_tensor_dim(window, 1, &l);
    sscma_tensor_rank(in, &in_rank);
    for (int32_t i = 0; i < 4 && in_rank == 4; i++)
        sscma_tensor_dim(in, i, &d[i]);
    sscma_tensor_numel(in, &n);
    const bool flat = in_rank == 4 && d[1] == 1 && d[2] == 1 && d[3] == c * l;
    const bool steps = in_rank == 4 && d[1] * d[2] == l && d[3] == c; /* [1, length] or [H, W] images */
    if (!flat && !steps)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "a window of %lld x %lld values does not fit the model's input "
                          "[%lld, %lld, %lld, %lld]; expected [1, 1, 1, %lld] or [1, 1, %lld, %lld] (window_size and "
                          "axes as the model was trained; feature images [1, H, W, channels], H x W = length)", (long long)c, (long long)l, (long long)d[0],
                          (long long)d[1], (long long)d[2], (long long)d[3], (long long)(c * l), (long long)l,
                          (long long)c);
    const float *src = NULL;
    sscma_tensor_data(window, (void **)&src);
    float *buf = sscma_malloc(q->ctx, (size_t)n * sizeof *buf);
    if (buf == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the window");
    for (int64_t a = 0; a < c; a++)
        for (int64_t t = 0; t < l; t++)
            buf[flat ? a * l + t : t * c + a] = src[a * l + t];
    sscma_tensor *view = NULL;
    sscma_status st = sscma_tensor_wrap(q->ctx, SSCMA_DTYPE_F32, 4, d, buf, (size_t)n * sizeof *buf, &view);
    if (st == SSCMA_OK)
        st = sscma_qmodel_set_input(q, 0, view);
    sscma_tensor_destroy(view);
    sscma_mfree(q->ctx, buf);
    return st;
}

/* Writes the pre-processed image into the model's input 0 (f32, then quantized by set_input for int8). */
static sscma_status preprocess(sscma_qmodel *q, const sscma_tensor *image, sscma_tensor *in, bool device)
{
    int64_t ih = 0, iw = 0, ic = 0, h = 0, w = 0, c = 0;
    int32_t rank = 0;
    sscma_dtype dt = 0;
    sscma_tensor_rank(image, &rank);
    sscma_tensor_dtype(image, &dt);
    if (dt == SSCMA_DTYPE_F32 && rank == 2)
        return window_input(q, image, in);
    if (dt != SSCMA_DTYPE_U8)
        return sscma_fail(SSCMA_ERR_DTYPE, WHERE, "the image must be u8 [H, W, C] (or a window of sensor values, f32 "
                          "[channels, length]), not %s", sscma_dtype_name(dt));
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

/* The model's family, the views at batch 1 and their shapes, and the task they call for (sscma_predict_task). */
typedef struct predict_setup {
    const char *family;
    sscma_tensor *in, *outv;
    int32_t rank, in_rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK], in_dims[SSCMA_TENSOR_MAX_RANK];
    sscma_pp_task task;
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
    s->task = SSCMA_PP_CLS;
    return sscma_pp_choose_task(q, o->task, s->family, s->in_rank, s->in_dims, s->rank, s->dims, &s->task);
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
        *task = sscma_pp_task_name(s.task);
    return st;
}

/* RTMDet after the run: the six outputs' real values, sscma_pp_decode_rtmdet, boxes in the image's pixels. */
static sscma_status predict_rtmdet(sscma_qmodel *q, const sscma_predict_options *o, bool device,
                                   const int64_t *in_dims, int64_t ih, int64_t iw, sscma_prediction *results,
                                   int32_t capacity, int32_t *count)
{
    int32_t order[2 * SSCMA_RTMDET_LEVELS];
    int64_t rows = 0, classes = 0;
    sscma_status st = sscma_qm_rtmdet_layout(q, "sscma_predict", order, &rows, &classes);
    if (st != SSCMA_OK)
        return st;
    const size_t values = (size_t)(rows * (classes + 4));
    float *v = sscma_calloc(q->ctx, values, sizeof *v);
    sscma_pp_candidate *all = sscma_calloc(q->ctx, (size_t)rows, sizeof *all);
    const float *maps[2 * SSCMA_RTMDET_LEVELS];
    float cls_scale[SSCMA_RTMDET_LEVELS] = {0.0f, 0.0f, 0.0f};
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
        if (slot < SSCMA_RTMDET_LEVELS) { /* a class map: its int8 scale, for SSCMA-Micro's threshold in steps */
            int32_t axis = 0;
            int64_t qn = 0;
            const float *scale = NULL;
            const int32_t *zero = NULL;
            if (sscma_tensor_quant(t, &axis, &qn, &scale, &zero) == SSCMA_OK && qn == 1 && scale != NULL)
                cls_scale[slot] = scale[0];
            sscma_clear_error();
        }
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
        const int64_t found = sscma_pp_decode_rtmdet(maps, cls_scale, in_dims[1], in_dims[2], classes, device,
                                                     o->score_threshold, o->iou_threshold, all);
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

/*
 * The anomaly VAE: the sample (f32, the model's input values: [H, W, 2C] or [1, H, W, 2C], x then c per pixel; or
 * [2C, H W] channel-major, as a windows dataset's sscma_sample_image gives it) in,
 * one result: the score of sscma_pp_anomaly_score and the decision against options->score_threshold (when not
 * negative), else the model's "threshold" metadata.
 */
static sscma_status predict_anomaly(sscma_qmodel *q, const sscma_predict_options *o, const sscma_tensor *sample,
                                    sscma_prediction *results, int32_t capacity, int32_t *count)
{
    const qm_tensor *in = &q->t[q->inputs[0]];
    int64_t n = 0;
    sscma_dtype dt = SSCMA_DTYPE_U8;
    sscma_tensor_dtype(sample, &dt);
    sscma_tensor_numel(sample, &n);
    if (dt != SSCMA_DTYPE_F32 || in->rank != 4 || n != sscma_qm_numel(in) || q->n_outputs != 2)
        return sscma_fail(SSCMA_ERR_SHAPE, WHERE, "the anomaly model takes its input's values (f32 [%lld, %lld, %lld],"
                          " x then c in each pixel, or channel-major: SensorDataset's features), not %s with %lld "
                          "values",
                          (long long)in->dims[1], (long long)in->dims[2], (long long)in->dims[3],
                          sscma_dtype_name(dt), (long long)n);
    float threshold = o->score_threshold >= 0.0f ? o->score_threshold : NAN;
    const char *meta = NULL;
    if (isnan(threshold) && sscma_qmodel_meta(q, "threshold", &meta) == SSCMA_OK) {
        char *end = NULL;
        const double v = strtod(meta, &end);
        if (end == meta || *end != '\0' || !isfinite(v))
            return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "the model's \"threshold\" metadata '%s' is not a number", meta);
        threshold = (float)v;
    }
    sscma_clear_error();
    const float *x = NULL;
    sscma_tensor_data(sample, (void **)&x);
    const int64_t dims[4] = {1, in->dims[1], in->dims[2], in->dims[3]}, odims[4] = {1, in->dims[1], in->dims[2],
                                                                                  in->dims[3] / 2};
    const int64_t half = n / 2;
    float *buf = sscma_malloc(q->ctx, (size_t)(2 * n) * sizeof *buf);
    if (buf == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the sample");
    int32_t rank = 0;
    int64_t d0 = 0;
    sscma_tensor_rank(sample, &rank);
    sscma_tensor_dim(sample, 0, &d0);
    if (rank == 2 && d0 == in->dims[3]) { /* a windows dataset's sample view: channel-major [2C, H W] */
        const int64_t ch = in->dims[3], len = n / ch;
        for (int64_t k = 0; k < ch; k++)
            for (int64_t t = 0; t < len; t++)
                buf[t * ch + k] = x[k * len + t];
    } else {
        memcpy(buf, x, (size_t)n * sizeof *buf);
    }
    sscma_tensor *view = NULL, *outs[2] = {NULL, NULL};
    sscma_status st = sscma_tensor_wrap(q->ctx, SSCMA_DTYPE_F32, 4, dims, buf, (size_t)n * sizeof *buf, &view);
    for (int k = 0; k < 2 && st == SSCMA_OK; k++)
        st = sscma_tensor_wrap(q->ctx, SSCMA_DTYPE_F32, 4, odims, buf + n + k * half, (size_t)half * sizeof *buf,
                               &outs[k]);
    if (st == SSCMA_OK && (st = sscma_qmodel_set_input(q, 0, view)) == SSCMA_OK &&
        (st = sscma_qmodel_run(q)) == SSCMA_OK && (st = sscma_qmodel_get_output(q, 0, outs[0])) == SSCMA_OK)
        st = sscma_qmodel_get_output(q, 1, outs[1]);
    if (st == SSCMA_OK) {
        const double score = sscma_pp_anomaly_score(buf, buf + n, buf + n + half, in->dims[1] * in->dims[2],
                                                    in->dims[3] / 2);
        if (capacity > 0)
            results[0] = sscma_pp_anomaly_result(score, threshold);
        *count = 1;
    }
    sscma_tensor_destroy(view);
    sscma_tensor_destroy(outs[0]);
    sscma_tensor_destroy(outs[1]);
    sscma_mfree(q->ctx, buf);
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
    const sscma_pp_task task = su.task;
    int64_t n = 0, ih = 0, iw = 0;
    /* SSCMA-Micro's "values in percent" rule: an int8 output whose scale is 0.1 or more */
    int32_t qaxis = 0;
    int64_t qcount = 0;
    const float *qscale = NULL;
    const int32_t *qzero = NULL;
    sscma_tensor_quant(outv, &qaxis, &qcount, &qscale, &qzero);
    const bool quantized = qcount == 1, percent = quantized && qscale[0] >= 0.1f;
    if (task == SSCMA_PP_ANOMALY)
        return predict_anomaly(q, &o, image, results, capacity, count);
    if ((st = preprocess(q, image, in, device)) != SSCMA_OK || (st = sscma_qmodel_run(q)) != SSCMA_OK)
        return st;
    sscma_tensor_numel(outv, &n);
    sscma_tensor_dim(image, 0, &ih), sscma_tensor_dim(image, 1, &iw);
    if (task == SSCMA_PP_RTMDET)
        return predict_rtmdet(q, &o, device, in_dims, ih, iw, results, capacity, count);
    float *v = sscma_calloc(q->ctx, (size_t)n, sizeof *v);
    sscma_pp_candidate *all = NULL;
    if (v == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the output");
    sscma_tensor *vt = NULL;
    if ((st = sscma_tensor_wrap(q->ctx, SSCMA_DTYPE_F32, rank, dims, v, (size_t)n * sizeof *v, &vt)) == SSCMA_OK)
        st = sscma_qmodel_get_output(q, 0, vt);
    sscma_tensor_destroy(vt);
    int64_t found = 0;
    if (st == SSCMA_OK && (all = sscma_calloc(q->ctx, (size_t)n, sizeof *all)) == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the results");
    if (st == SSCMA_OK) {
        const sscma_pp_output out = {v, rank, dims, in_dims, quantized, percent};
        found = sscma_pp_decode(task, device, &out, (float)iw, (float)ih, o.score_threshold, o.iou_threshold,
                                o.top_k, all);
    }
    if (st == SSCMA_OK) {
        for (int64_t k = 0; k < found && k < capacity; k++)
            results[k] = all[k].p;
        *count = (int32_t)found;
    }
    sscma_mfree(q->ctx, all);
    sscma_mfree(q->ctx, v);
    return st;
}
