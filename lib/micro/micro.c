/*
 * The micro runtime's API (include/sscma/micro.h): libsscma's TFLite reader, int8 preparation, activation planner
 * and portable int8 kernels, built with SSCMA_MICRO over a bump allocator in the caller's arena (core/micro.c).
 * Nothing here computes: it holds the handle and hands out the plan's buffers.
 */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "core/micro.h"
#include "micro/read_decimal.h"
#include "export/exporters.h"
#include "quant/postprocess.h"
#include "quant/qm_kernel.h"
#include "quant/qmodel.h"
#include "sscma/micro.h"

struct sscma_micro {
    sscma_context ctx; /* its hooks allocate from `bump` */
    sscma_bump bump;
    sscma_qmodel *q;
};

/* The handle's bytes at the arena's start, rounded to keep the rest 64-byte aligned. */
#define HEAD ((sizeof(struct sscma_micro) + 63) & ~(size_t)63)

sscma_status sscma_micro_init(void *arena, size_t arena_bytes, const void *model, size_t model_bytes,
                              sscma_micro **out)
{
    SSCMA_REQUIRE_NONNULL(arena);
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(out);
    if (((uintptr_t)arena & 63) != 0)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "the arena must be 64-byte aligned");
    if (arena_bytes < HEAD + 64)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "an arena of %zu bytes cannot hold the runtime", arena_bytes);
    /* the handle takes the arena's first bytes; its allocator the rest */
    sscma_micro *m = arena;
    memset(m, 0, sizeof *m);
    sscma_bump_context(&m->ctx, &m->bump, (unsigned char *)arena + HEAD, arena_bytes - HEAD);
    sscma_status st = sscma_tflite_read(&m->ctx, model, model_bytes, "model", &m->q);
    if (st != SSCMA_OK)
        return st;
    if (!m->q->int8)
        return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "the micro runtime runs int8 models; this one is float");
    /* the model's default plan at batch 1: its arena is the activation plan */
    if ((st = sscma_qmodel_prepare(m->q, 1)) != SSCMA_OK)
        return st;
    *out = m;
    return SSCMA_OK;
}

static sscma_status describe(const sscma_micro *m, int32_t id, sscma_micro_tensor *out)
{
    const qm_tensor *t = &m->q->t[id];
    memset(out, 0, sizeof *out);
    out->data = m->q->plan.buf[id];
    out->bytes = m->q->plan.buf_bytes[id];
    out->dtype = (int32_t)t->dtype;
    out->rank = t->rank;
    for (int32_t i = 0; i < t->rank; i++)
        out->dims[i] = (int32_t)t->dims[i];
    if (t->n_q == 1) {
        out->scale = t->scale[0];
        out->zero_point = t->zero_point[0];
    }
    out->name = t->name;
    return SSCMA_OK;
}

sscma_status sscma_micro_input(sscma_micro *m, int32_t index, sscma_micro_tensor *out)
{
    SSCMA_REQUIRE_NONNULL(m);
    SSCMA_REQUIRE_NONNULL(out);
    if (index < 0 || index >= m->q->n_inputs)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "input %d does not exist (the model has %d)", (int)index,
                          (int)m->q->n_inputs);
    return describe(m, m->q->inputs[index], out);
}

sscma_status sscma_micro_output(sscma_micro *m, int32_t index, sscma_micro_tensor *out)
{
    SSCMA_REQUIRE_NONNULL(m);
    SSCMA_REQUIRE_NONNULL(out);
    if (index < 0 || index >= m->q->n_outputs)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "output %d does not exist (the model has %d)", (int)index,
                          (int)m->q->n_outputs);
    return describe(m, m->q->outputs[index], out);
}

sscma_status sscma_micro_invoke(sscma_micro *m)
{
    SSCMA_REQUIRE_NONNULL(m);
    return sscma_qm_run_int8(&m->q->plan);
}

sscma_status sscma_micro_memory(const sscma_micro *m, size_t *used, size_t *activations)
{
    SSCMA_REQUIRE_NONNULL(m);
    if (used != NULL)
        *used = HEAD + m->bump.high;
    if (activations != NULL)
        *activations = m->q->plan.arena_bytes;
    return SSCMA_OK;
}

/* The real value of element k of tensor `index`, an input or output (int8/uint8 dequantized, f32 as is). */
static float output_value(const sscma_qmodel *q, int32_t index, int64_t k)
{
    const qm_tensor *o = &q->t[index];
    const void *data = q->plan.buf[index];
    const bool quantized = o->n_q == 1 && (o->dtype == SSCMA_DTYPE_I8 || o->dtype == SSCMA_DTYPE_U8);
    return o->dtype == SSCMA_DTYPE_F32 ? ((const float *)data)[k]
           : quantized ? o->scale[0] * (float)(qm_load_q(data, o->dtype == SSCMA_DTYPE_U8, k) - o->zero_point[0])
                       : (float)qm_load_q(data, o->dtype == SSCMA_DTYPE_U8, k);
}

/*
 * RTMDet (as sscma_predict's): the six outputs' real values (cls_0..2, dist_0..2 in the order SSCMA-Micro finds
 * them), sscma_pp_decode_rtmdet with the class maps' int8 scales, boxes scaled from the input to image_w x image_h.
 * The values and candidates take the arena's free space for this call only.
 */
static sscma_status predict_rtmdet(sscma_micro *m, bool device, const int64_t *in_dims, float score_threshold,
                                   float iou_threshold, int32_t image_w, int32_t image_h, sscma_prediction *results,
                                   int32_t capacity, int32_t *count)
{
    const sscma_qmodel *q = m->q;
    int32_t order[2 * SSCMA_RTMDET_LEVELS];
    int64_t rows = 0, classes = 0;
    sscma_status st = sscma_qm_rtmdet_layout(q, "sscma_micro_predict", order, &rows, &classes);
    if (st != SSCMA_OK)
        return st;
    const size_t top = m->bump.top, last = m->bump.last;
    float *v = sscma_alloc(&m->ctx, (size_t)(rows * (classes + 4)) * sizeof *v, _Alignof(float));
    sscma_pp_candidate *all = sscma_alloc(&m->ctx, (size_t)rows * sizeof *all, _Alignof(sscma_pp_candidate));
    if (v == NULL || all == NULL) {
        m->bump.top = top, m->bump.last = last;
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "the arena has no room for RTMDet's %lld output values and "
                          "candidates", (long long)(rows * (classes + 4)));
    }
    const float *maps[2 * SSCMA_RTMDET_LEVELS];
    float cls_scale[SSCMA_RTMDET_LEVELS] = {0.0f, 0.0f, 0.0f};
    float *at = v;
    for (int32_t slot = 0; slot < 2 * SSCMA_RTMDET_LEVELS; slot++) {
        const qm_tensor *o = &q->t[q->outputs[order[slot]]];
        const int64_t n = sscma_qm_numel(o);
        if (slot < SSCMA_RTMDET_LEVELS && o->n_q == 1) /* for SSCMA-Micro's threshold in int8 steps */
            cls_scale[slot] = o->scale[0];
        for (int64_t k = 0; k < n; k++)
            at[k] = output_value(q, q->outputs[order[slot]], k);
        maps[slot] = at;
        at += n;
    }
    const int64_t found = sscma_pp_decode_rtmdet(maps, cls_scale, in_dims[1], in_dims[2], classes, device,
                                                 score_threshold, iou_threshold, all);
    const float sx = (float)image_w / (float)in_dims[2], sy = (float)image_h / (float)in_dims[1];
    for (int64_t k = 0; k < found && k < capacity; k++) {
        results[k] = all[k].p;
        results[k].x *= sx, results[k].w *= sx, results[k].y *= sy, results[k].h *= sy;
    }
    *count = (int32_t)found;
    m->bump.top = top, m->bump.last = last;
    return SSCMA_OK;
}

/*
 * The "threshold" metadata's text as the host's (float)strtod reads it, without strtod (newlib's allocates): an
 * optional sign, decimal digits with an optional point, an optional exponent. The digits (at most 15 significant,
 * below 2^53) and each power of ten (at most 1e22: exact in double) are exact: with an exponent within 22 the one
 * rounding is strtod's correctly rounded double; beyond, one rounding per factor of 1e22 (at most 19) leaves the
 * double within 10 ulps (2^-49 relative) of strtod's, and a "%.9g" float text (what the runner writes) lies within
 * 5e-9 relative of its float, far (2^-25 relative) from a float rounding boundary, so (float) gives the same float.
 * False for anything else.
 */
bool sscma_micro_read_decimal(const char *text, double *out)
{
    const char *p = text;
    const bool negative = *p == '-';
    p += *p == '-' || *p == '+';
    uint64_t mantissa = 0;
    int digits = 0, exponent = 0, seen = 0;
    for (bool point = false;; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            break;
        seen++;
        if (mantissa == 0 && *p == '0') { /* leading zeros carry no digit */
            exponent -= point;
            continue;
        }
        if (++digits > 15)
            return false;
        mantissa = mantissa * 10 + (uint64_t)(*p - '0');
        exponent -= point;
    }
    if (seen == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        const bool neg_exp = *p == '-';
        p += *p == '-' || *p == '+';
        int e = 0, e_digits = 0;
        for (; *p >= '0' && *p <= '9' && e < 1000; p++, e_digits++)
            e = e * 10 + (*p - '0');
        if (e_digits == 0)
            return false;
        exponent += neg_exp ? -e : e;
    }
    if (*p != '\0')
        return false;
    if (mantissa == 0) {
        *out = negative ? -0.0 : 0.0;
        return true;
    }
    if (exponent < -400 || exponent > 400) /* 0 or infinite as a double */
        exponent = exponent < 0 ? -400 : 400;
    double v = (double)mantissa;
    for (int left = exponent < 0 ? -exponent : exponent; left > 0;) {
        const int step = left < 22 ? left : 22;
        double power = 1.0;
        for (int k = 0; k < step; k++)
            power *= 10.0; /* exact up to 1e22 */
        v = exponent < 0 ? v / power : v * power;
        left -= step;
    }
    *out = negative ? -v : v;
    return true;
}

/*
 * The anomaly VAE (as sscma_predict's "anomaly" task): score = MSE(x_recon, x) + MSE(c_recon, c) by
 * sscma_pp_anomaly_score from the int8 input (the planner keeps the model's input alive for the whole run, so
 * invoke leaves it as the caller wrote it) and the two outputs, all dequantized; the decision against
 * score_threshold when not negative, else the "threshold" metadata (none: class -1). One result.
 */
static sscma_status predict_anomaly(sscma_micro *m, float score_threshold, sscma_prediction *results,
                                    int32_t capacity, int32_t *count)
{
    const sscma_qmodel *q = m->q;
    if (q->n_inputs != 1 || q->n_outputs != 2)
        return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "the anomaly model takes one input [1, H, W, 2C] and gives two "
                          "outputs [1, H, W, C] (x_recon, c_recon); this one has %d input(s) and %d output(s)",
                          (int)q->n_inputs, (int)q->n_outputs);
    const qm_tensor *in = &q->t[q->inputs[0]];
    const int64_t n = sscma_qm_numel(in), half = n / 2;
    if (in->rank != 4 || in->dims[3] % 2 != 0 || sscma_qm_numel(&q->t[q->outputs[0]]) != half ||
        sscma_qm_numel(&q->t[q->outputs[1]]) != half)
        return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "the anomaly model takes one input [1, H, W, 2C] and gives two "
                          "outputs [1, H, W, C] (x_recon, c_recon); this one's input has rank %d and %lld values, "
                          "its outputs %lld and %lld values",
                          (int)in->rank, (long long)n, (long long)sscma_qm_numel(&q->t[q->outputs[0]]),
                          (long long)sscma_qm_numel(&q->t[q->outputs[1]]));
    float threshold = score_threshold >= 0.0f ? score_threshold : NAN;
    const char *meta = NULL;
    if (isnan(threshold) && sscma_qmodel_meta(q, "threshold", &meta) == SSCMA_OK) {
        double v = 0.0;
        if (!sscma_micro_read_decimal(meta, &v) || !isfinite(v))
            return SSCMA_FAIL(SSCMA_ERR_FORMAT, "the model's \"threshold\" metadata '%s' is not a number the micro "
                              "runtime reads (decimal, at most 15 significant digits, finite)", meta);
        threshold = (float)v;
    }
    sscma_clear_error();
    const size_t top = m->bump.top, last = m->bump.last;
    float *v = sscma_alloc(&m->ctx, (size_t)(2 * n) * sizeof *v, _Alignof(float));
    if (v == NULL) {
        m->bump.top = top, m->bump.last = last;
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "the arena has no room for the anomaly model's %lld input and "
                          "output values", (long long)(2 * n));
    }
    for (int64_t k = 0; k < n; k++)
        v[k] = output_value(q, q->inputs[0], k);
    for (int64_t k = 0; k < half; k++)
        v[n + k] = output_value(q, q->outputs[0], k), v[n + half + k] = output_value(q, q->outputs[1], k);
    const double score = sscma_pp_anomaly_score(v, v + n, v + n + half, in->dims[1] * in->dims[2], in->dims[3] / 2);
    if (capacity > 0)
        results[0] = sscma_pp_anomaly_result(score, threshold);
    *count = 1;
    m->bump.top = top, m->bump.last = last;
    return SSCMA_OK;
}

sscma_status sscma_micro_predict(sscma_micro *m, const char *task, float score_threshold, float iou_threshold,
                                 int32_t image_w, int32_t image_h, sscma_prediction *results, int32_t capacity,
                                 int32_t *count)
{
    SSCMA_REQUIRE_NONNULL(m);
    SSCMA_REQUIRE_NONNULL(count);
    if (capacity < 0 || (capacity > 0 && results == NULL))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "results must hold capacity (%d) entries", (int)capacity);
    if (!(iou_threshold >= 0.0f && iou_threshold <= 1.0f))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "iou_threshold is %g; expected 0..1", (double)iou_threshold);
    const sscma_qmodel *q = m->q;
    const qm_tensor *in = &q->t[q->inputs[0]], *o = &q->t[q->outputs[0]];
    int64_t dims[4] = {1, 1, 1, 1}, in_dims[4] = {1, 1, 1, 1};
    for (int32_t i = 0; i < o->rank; i++)
        dims[i] = o->dims[i];
    for (int32_t i = 0; i < in->rank; i++)
        in_dims[i] = in->dims[i];
    sscma_pp_task t = SSCMA_PP_CLS;
    /* as sscma_predict: libsscma's rules for a file with its "family" metadata, SSCMA-Micro's otherwise */
    const char *family = NULL;
    if (sscma_qmodel_meta(q, "family", &family) != SSCMA_OK) {
        sscma_clear_error();
        family = NULL;
    }
    sscma_status st = sscma_pp_choose_task(q, task, family, in->rank, in_dims, o->rank, dims, &t);
    if (st != SSCMA_OK)
        return st;
    if (t == SSCMA_PP_RTMDET)
        return predict_rtmdet(m, family == NULL, in_dims, score_threshold, iou_threshold, image_w, image_h, results,
                              capacity, count);
    if (t == SSCMA_PP_ANOMALY)
        return predict_anomaly(m, score_threshold, results, capacity, count);
    /* the values and the candidates take the arena's free space for this call only */
    const int64_t n = sscma_qm_numel(o);
    const size_t top = m->bump.top, last = m->bump.last;
    float *v = sscma_alloc(&m->ctx, (size_t)n * sizeof *v, _Alignof(float));
    sscma_pp_candidate *all = sscma_alloc(&m->ctx, (size_t)n * sizeof *all, _Alignof(sscma_pp_candidate));
    if (v == NULL || all == NULL) {
        m->bump.top = top, m->bump.last = last;
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "the arena has no room for %lld output values and candidates",
                          (long long)n);
    }
    const bool quantized = o->n_q == 1 && (o->dtype == SSCMA_DTYPE_I8 || o->dtype == SSCMA_DTYPE_U8);
    for (int64_t k = 0; k < n; k++)
        v[k] = output_value(q, q->outputs[0], k);
    const sscma_pp_output po = {v, o->rank, dims, in_dims, quantized, quantized && o->scale[0] >= 0.1f};
    int64_t found = sscma_pp_decode(t, family == NULL, &po, (float)image_w, (float)image_h, score_threshold, iou_threshold, -1,
                                    all);
    for (int64_t k = 0; k < found && k < capacity; k++)
        results[k] = all[k].p;
    *count = (int32_t)found;
    m->bump.top = top, m->bump.last = last;
    return SSCMA_OK;
}
