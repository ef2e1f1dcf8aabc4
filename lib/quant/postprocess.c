/*
 * SSCMA-Micro's post-processing (and libsscma's for files with metadata) from a model's output values: which task
 * an output calls for, and the decoding of classifier, FOMO, PFLD and YOLOv5 outputs into predictions. Shared by
 * sscma_predict (predict.c) and the micro runtime (lib/micro/micro.c), so the device and the host decode alike;
 * freestanding (no files, no JSON, no heap: the caller gives the sscma_pp_candidates' memory).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/postprocess.h"

#define PREDICT "sscma_predict" /* the public call, in the messages */
#define DEVICE_SCORE_THRESHOLD 0.25f

/* The post-processings, by their --task names, and the "family" metadata that names each. */
static const char *const TASK_NAME[SSCMA_PP_TASKS] = {"cls", "fomo", "pfld", "yolo", "rtmdet", "anomaly"};
static const char *const TASK_FAMILY[SSCMA_PP_TASKS] = {"ImageClassifier", "Fomo", "PFLD", "YOLODetector",
                                                       "RTMDet", "Vae_Model"};

/* Score descending; ties: the larger `order` first (SSCMA-Micro builds its lists with emplace_front). */
static int by_score_then_order(const void *a, const void *b)
{
    const sscma_pp_candidate *x = a, *y = b;
    if (x->p.score != y->p.score)
        return x->p.score > y->p.score ? -1 : 1;
    return x->order < y->order ? 1 : x->order > y->order ? -1 : 0;
}

/* x ascending; ties: the smaller `order` first (the caller sets order to the position a stable sort keeps). */
static int by_x_then_order(const void *a, const void *b)
{
    const sscma_pp_candidate *x = a, *y = b;
    if (x->p.x != y->p.x)
        return x->p.x < y->p.x ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

/* libsscma's order: score descending, then class, then emission (qsort is not stable). */
static int by_score(const void *a, const void *b)
{
    const sscma_pp_candidate *x = a, *y = b;
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
                              const int64_t *d, sscma_pp_task *task)
{
    const bool input_ok = q->n_inputs == 1 && q->n_outputs == 1 && in_rank == 4 && in[0] == 1 && in[1] >= 32 &&
                          in[1] % 32 == 0 && (in[3] == 1 || in[3] == 3);
    int32_t order[2 * SSCMA_RTMDET_LEVELS];
    int64_t rows = 0, classes = 0;
    if (q->n_inputs == 1 && q->n_outputs == 2 * SSCMA_RTMDET_LEVELS && in_rank == 4 && in[0] == 1 && in[1] >= 32 &&
        in[1] % 32 == 0 && in[1] == in[2] && (in[3] == 1 || in[3] == 3) &&
        sscma_qm_rtmdet_layout(q, PREDICT, order, &rows, &classes) == SSCMA_OK) {
        *task = SSCMA_PP_RTMDET;
        return SSCMA_OK;
    }
    sscma_clear_error();
    if (input_ok && rank == 4 && d[0] == 1 && in[1] == in[2] && d[1] >= 2 && d[1] <= in[2] && d[2] >= 2 &&
        d[2] <= in[1] && d[3] >= 2)
        *task = SSCMA_PP_FOMO;
    else if (input_ok && rank == 3 && d[0] == 1 && d[1] == yolo_records(in[2], in[3]) && d[2] >= 6 && d[2] <= 85)
        *task = SSCMA_PP_YOLO;
    else if (input_ok && rank == 2 && d[0] == 1 && d[1] >= 2)
        *task = SSCMA_PP_CLS;
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
static sscma_status check_layout(sscma_pp_task task, const char *from, int32_t rank, const int64_t *d)
{
    static const char *const want[SSCMA_PP_TASKS] = {"[1, classes]", "[1, H, W, classes + 1]", "[1, 2 x points]",
                                                 "[1, N, 5 + classes]", "", "[1, H, W, C] (x_recon)"};
    const bool ok = d[0] == 1 && ((task == SSCMA_PP_CLS && rank == 2 && d[1] >= 1) ||
                                  (task == SSCMA_PP_ANOMALY && rank == 4) ||
                                  (task == SSCMA_PP_FOMO && rank == 4 && d[1] >= 1 && d[2] >= 1 && d[3] >= 2) ||
                                  (task == SSCMA_PP_PFLD && rank == 2 && d[1] % 2 == 0 && d[1] >= 2) ||
                                  (task == SSCMA_PP_YOLO && rank == 3 && d[1] >= 1 && d[2] >= 6));
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
                           float iou, sscma_pp_candidate *all)
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
        all[found++] = (sscma_pp_candidate){{target, score, clip01(x), clip01(y), clip01(w), clip01(h)}, r};
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

/* Where the task comes from: the option, else the "family" metadata, else the shapes (RTMDet: its six outputs). */
sscma_status sscma_pp_choose_task(const sscma_qmodel *q, const char *option, const char *family, int32_t in_rank,
                                const int64_t *in, int32_t rank, const int64_t *d, sscma_pp_task *task)
{
    int32_t order[2 * SSCMA_RTMDET_LEVELS];
    int64_t rows = 0, classes = 0;
    const char *told = option != NULL && option[0] != '\0' ? option : family;
    if (told != NULL && (strcmp(told, "rtmdet") == 0 || strcmp(told, "RTMDet") == 0)) {
        *task = SSCMA_PP_RTMDET;
        return sscma_qm_rtmdet_layout(q, PREDICT, order, &rows, &classes);
    }
    if (option != NULL && option[0] != '\0') {
        for (int t = 0; t < SSCMA_PP_TASKS; t++)
            if (strcmp(option, TASK_NAME[t]) == 0) {
                *task = (sscma_pp_task)t;
                return check_layout(*task, option, rank, d);
            }
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, PREDICT, "unknown task '%s'; expected cls, fomo, pfld, yolo, "
                          "rtmdet or anomaly", option);
    }
    if (family != NULL && (strcmp(family, "AccelerometerClassifier") == 0 || /* sensor windows: class scores */
                           strcmp(family, "Audio_classify") == 0)) {              /* audio clips: keyword scores */
        *task = SSCMA_PP_CLS;
        return check_layout(*task, family, rank, d);
    }
    if (family != NULL) {
        for (int t = 0; t < SSCMA_PP_TASKS; t++)
            if (TASK_FAMILY[t] != NULL && strcmp(family, TASK_FAMILY[t]) == 0) {
                *task = (sscma_pp_task)t;
                return check_layout(*task, family, rank, d);
            }
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, PREDICT, "no post-processing for the family '%s'; say the output's "
                          "layout with the task cls, fomo, pfld, yolo or rtmdet, or run it with sscma_qmodel_run",
                          family);
    }
    return recognise(q, in_rank, in, rank, d, task);
}

double sscma_pp_anomaly_score(const float *input, const float *x_recon, const float *c_recon, int64_t pixels,
                              int64_t channels)
{
    double sx = 0.0, sc = 0.0;
    for (int64_t p = 0; p < pixels; p++)
        for (int64_t k = 0; k < channels; k++) {
            const double dx = (double)x_recon[p * channels + k] - input[p * 2 * channels + k];
            const double dc = (double)c_recon[p * channels + k] - input[p * 2 * channels + channels + k];
            sx += dx * dx, sc += dc * dc;
        }
    const double n = (double)(pixels * channels);
    return n > 0 ? sx / n + sc / n : 0.0;
}

sscma_prediction sscma_pp_anomaly_result(double score, float threshold)
{
    sscma_prediction r = {isnan(threshold) ? -1 : score > threshold ? 1 : 0, (float)score, 0, 0, 0, 0};
    return r;
}

const char *sscma_pp_task_name(sscma_pp_task task)
{
    return (unsigned)task < SSCMA_PP_TASKS ? TASK_NAME[task] : "?";
}

int64_t sscma_pp_decode(sscma_pp_task task, bool device, const sscma_pp_output *out, float image_w, float image_h,
                        float user_th, float iou_threshold, int32_t top_k, sscma_pp_candidate *all)
{
    const float *v = out->values;
    const int64_t *dims = out->dims, *in_dims = out->in_dims;
    const bool quantized = out->quantized, percent = out->percent;
    int64_t found = 0;
    if (task == SSCMA_PP_CLS && !device) {
        const float th = user_th >= 0.0f ? user_th : 0.0f;
        for (int64_t k = 0; k < dims[1]; k++)
            if (v[k] >= th)
                all[found++] = (sscma_pp_candidate){{(int32_t)k, v[k], 0, 0, 0, 0}, k};
        qsort(all, (size_t)found, sizeof *all, by_score);
    } else if (task == SSCMA_PP_CLS) {
        /* SSCMA-Micro's Classifier: values as they are (/ 100 in percent), above the threshold, best first */
        const float th = user_th >= 0.0f ? user_th : DEVICE_SCORE_THRESHOLD;
        for (int64_t k = 0; k < dims[1]; k++) {
            const float s = percent ? v[k] / 100.0f : v[k];
            if (s > th)
                all[found++] = (sscma_pp_candidate){{(int32_t)k, s, 0, 0, 0, 0}, k};
        }
        qsort(all, (size_t)found, sizeof *all, by_score_then_order);
    } else if (task == SSCMA_PP_FOMO && !device) {
        /* libsscma's FOMO: every non-background class of a cell above the threshold, at the cell's centre */
        const float th = user_th >= 0.0f ? user_th : 0.5f;
        const int64_t gh = dims[1], gw = dims[2], nc = dims[3];
        const float sx = image_w / (float)gw, sy = image_h / (float)gh;
        for (int64_t y = 0; y < gh; y++)
            for (int64_t x = 0; x < gw; x++)
                for (int64_t k = 1; k < nc; k++) {
                    float s = v[(y * gw + x) * nc + k];
                    if (s > th) {
                        all[found] = (sscma_pp_candidate){{(int32_t)(k - 1), s, ((float)x + 0.5f) * sx,
                                                  ((float)y + 0.5f) * sy, sx, sy}, found};
                        found++;
                    }
                }
        qsort(all, (size_t)found, sizeof *all, by_score);
    } else if (task == SSCMA_PP_FOMO) {
        /* SSCMA-Micro's FOMO as intended: a cell's first largest channel, kept when it is an object above the
           threshold (background dropped, as 1.0.x); class = channel - 1; sorted by x, a column bottom row first */
        const float th = user_th >= 0.0f ? user_th : DEVICE_SCORE_THRESHOLD;
        const int64_t gh = dims[1], gw = dims[2], nc = dims[3];
        const float sx = image_w / (float)gw, sy = image_h / (float)gh;
        for (int64_t y = 0; y < gh; y++)
            for (int64_t x = 0; x < gw; x++) {
                const float *cell = v + (y * gw + x) * nc;
                int64_t best = 0;
                for (int64_t k = 1; k < nc; k++)
                    if (cell[k] > cell[best])
                        best = k;
                if (best != 0 && cell[best] > th) {
                    all[found] = (sscma_pp_candidate){{(int32_t)(best - 1), cell[best], ((float)x + 0.5f) * sx,
                                              ((float)y + 0.5f) * sy, sx, sy}, -found};
                    found++;
                }
            }
        qsort(all, (size_t)found, sizeof *all, by_x_then_order);
    } else if (task == SSCMA_PP_PFLD) {
        /* PFLD: coordinates normalised to the input (/ 100 in percent), scaled to the image */
        const float f = device && percent ? 0.01f : 1.0f;
        for (int64_t k = 0; k < dims[1] / 2; k++)
            all[found++] = (sscma_pp_candidate){{(int32_t)k, 1.0f, v[2 * k] * f * image_w, v[2 * k + 1] * f * image_h, 0,
                                        0}, k};
    } else {
        /* SSCMA-Micro: percent values when the int8 scale is 0.1 or more; a float output by its first x */
        const bool normalised = quantized ? !percent : v[0] < 1.0f;
        const float th = user_th >= 0.0f ? user_th : DEVICE_SCORE_THRESHOLD;
        found = decode_yolo(v, dims[1], dims[2], normalised, (float)in_dims[2], (float)in_dims[1], th,
                            iou_threshold, all);
        for (int64_t k = 0; k < found; k++) {
            sscma_prediction *p = &all[k].p;
            p->x *= image_w, p->y *= image_h, p->w *= image_w, p->h *= image_h;
        }
    }
    if (task == SSCMA_PP_CLS && top_k >= 0 && found > top_k)
        found = top_k;
    return found;
}

int64_t sscma_pp_decode_rtmdet(const float *const *maps, const float *cls_scale, int64_t in_h, int64_t in_w,
                               int64_t classes, bool device, float score_threshold, float iou_threshold,
                               sscma_pp_candidate *all)
{
    /*
     * As SSCMA-Micro's RTMDet::postProcessI8: per point (levels by stride, cells row-major) the largest class logit
     * at or above the threshold's logit (the last of equal ones), score sigmoid(logit); the box ((cell + offset) s
     * -/+ d s); per-class hard NMS (IoU > iou), best score first. `device`: SSCMA-Micro's point offset 0.5 and its
     * quantized threshold floor(logit(th) / scale) in int8 steps; else the model's own decode (ModelAssistant's
     * offset 0, rtmdet_decode) and logit >= logit(th).
     */
    const float th = score_threshold >= 0.0f ? score_threshold : DEVICE_SCORE_THRESHOLD;
    const float offset = device ? 0.5f : 0.0f;
    const float th_logit = th <= 0.0f ? -INFINITY : th >= 1.0f ? INFINITY : logf(th / (1.0f - th));
    int64_t found = 0, emitted = 0;
    for (int32_t l = 0; l < SSCMA_RTMDET_LEVELS; l++) {
        const bool steps = device && cls_scale[l] > 0.0f;
        const float floor_steps = steps ? floorf(th_logit / cls_scale[l]) : 0.0f;
        const int64_t s = sscma_rtmdet_strides[l], w = in_w / s, hw = (in_h / s) * w;
        const float *cls = maps[l], *dist = maps[SSCMA_RTMDET_LEVELS + l];
        for (int64_t j = 0; j < hw; j++, emitted++) {
            int32_t best = -1;
            float top = 0.0f;
            for (int64_t c = 0; c < classes; c++) {
                const float v = cls[j * classes + c];
                const bool pass = steps ? rintf(v / cls_scale[l]) >= floor_steps : v >= th_logit;
                if (pass && (best < 0 || v >= top))
                    best = (int32_t)c, top = v;
            }
            if (best < 0)
                continue;
            const float px = ((float)(j % w) + offset) * (float)s, py = ((float)(j / w) + offset) * (float)s;
            const float *d = dist + j * 4;
            const float x1 = px - d[0] * (float)s, y1 = py - d[1] * (float)s;
            const float x2 = px + d[2] * (float)s, y2 = py + d[3] * (float)s;
            all[found++] = (sscma_pp_candidate){{best, 1.0f / (1.0f + expf(-top)), (x1 + x2) * 0.5f, (y1 + y2) * 0.5f,
                                                 x2 - x1, y2 - y1}, emitted};
        }
    }
    qsort(all, (size_t)found, sizeof *all, by_score_then_order);
    int64_t kept = 0;
    for (int64_t i = 0; i < found; i++) {
        bool dropped = false;
        for (int64_t j = 0; j < kept && !dropped; j++)
            dropped = all[j].p.class_id == all[i].p.class_id && box_iou(&all[j].p, &all[i].p) > iou_threshold;
        if (!dropped)
            all[kept++] = all[i];
    }
    return kept;
}
