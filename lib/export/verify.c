/*
 * Export verification: read an exported file back, run it beside the deployable model it came from on a loader's
 * data, compare every output value, and measure the task metric with both (docs/export.md).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quant/qmodel.h"
#include "sscma/export.h"
#include "sscma/metrics.h"
#include "train/state.h"

/* The first version ends with metric_name (104 bytes on LP64): frozen (docs/architecture.md, "Versioned options"). */
#define VERIFY_REPORT_V1_SIZE SSCMA_SIZE_THROUGH(sscma_verify_report, metric_name)
_Static_assert(sizeof(void *) != 8 || VERIFY_REPORT_V1_SIZE == 104, "the first version's size is frozen");

/* The family's metric config and the result it reports. */
static void default_metric(const sscma_qmodel *q, char *cfg, size_t size, char *result, size_t rsize)
{
    const qm_tensor *in = &q->t[q->inputs[0]];
    if (strcmp(q->family, "Fomo") == 0) {
        snprintf(cfg, size, "{\"type\": \"FomoMetric\"}");
        snprintf(result, rsize, "F1");
    } else if (strcmp(q->family, "YOLODetector") == 0 || strcmp(q->family, "RTMDet") == 0) {
        /* SSCMA's swift_yolo and rtmdet val_evaluator */
        snprintf(cfg, size, "{\"type\": \"CocoMetric\", \"metric\": \"bbox\", \"proposal_nums\": [100, 1, 10]}");
        snprintf(result, rsize, "coco/bbox_mAP_50");
    } else if (strcmp(q->family, "PFLD") == 0) {
        snprintf(cfg, size, "{\"type\": \"PointMetric\", \"input_size\": [%lld, %lld]}", (long long)in->dims[1],
                 (long long)in->dims[2]);
        snprintf(result, rsize, "keypoint/Acc");
    } else {
        snprintf(cfg, size, "{\"type\": \"Accuracy\"}");
        snprintf(result, rsize, "accuracy/top1");
    }
}

sscma_status sscma_export_verify(sscma_qmodel *qmodel, const char *path, sscma_loader *data,
                                 sscma_verify_report *report)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(path);
    SSCMA_REQUIRE_NONNULL(data);
    SSCMA_REQUIRE_NONNULL(report);
    sscma_status size_st = sscma_options_check(__func__, "report->struct_size", report->struct_size,
                                               VERIFY_REPORT_V1_SIZE, sizeof *report, "sscma_verify_report");
    if (size_st != SSCMA_OK)
        return size_st;
    size_t len = strlen(path);
    if (len < 7 || strcmp(path + len - 7, ".tflite") != 0)
        return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "%s: verification reads TFLite files; ONNX files are checked with "
                                                 "onnxruntime (docs/export.md)", path);
    sscma_context *ctx = qmodel->ctx;
    sscma_qmodel *file = NULL;
    sscma_metric *m_lib = NULL, *m_file = NULL;
    sscma_tensor *images = NULL, *labels = NULL, *y_lib = NULL, *y_file = NULL;
    char cfg[256], result[32];
    default_metric(qmodel, cfg, sizeof cfg, result, sizeof result);
    int64_t dims[4], tdims[4] = {0, 0, 0, 0};
    sscma_dtype tdtype = SSCMA_DTYPE_I32;
    int32_t trank = 1;
    sscma_status st = sscma_qmodel_load_tflite(ctx, path, &file);
    if (st == SSCMA_OK)
        st = sscma_loader_batch_shape(data, dims);
    if (st == SSCMA_OK)
        st = sscma_loader_target_shape(data, &tdtype, &trank, tdims);
    if (st == SSCMA_OK && (file->n_outputs != qmodel->n_outputs || file->n_inputs != qmodel->n_inputs))
        st = SSCMA_FAIL(SSCMA_ERR_SHAPE, "%s has %d inputs and %d outputs; the model has %d and %d", path,
                        (int)file->n_inputs, (int)file->n_outputs, (int)qmodel->n_inputs, (int)qmodel->n_outputs);
    if (st == SSCMA_OK)
        st = sscma_qmodel_prepare(qmodel, dims[0]);
    if (st == SSCMA_OK)
        st = sscma_qmodel_prepare(file, dims[0]);
    if (st == SSCMA_OK)
        st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &images);
    if (st == SSCMA_OK)
        st = sscma_tensor_create(ctx, tdtype, trank, tdims, &labels);
    const qm_tensor *ot = &qmodel->t[qmodel->outputs[0]];
    sscma_desc od = sscma_qm_desc(ot, dims[0]);
    /* RTMDet's six outputs go to the metric as rows of yolo_decode's layout (the training decode: offset 0) */
    const bool rtmdet = strcmp(qmodel->family, "RTMDet") == 0;
    sscma_tensor *outs_lib[8] = {NULL}, *outs_file[8] = {NULL};
    int64_t rtm_rows = 0, rtm_classes = 0;
    int32_t rtm_order[2 * SSCMA_RTMDET_LEVELS];
    if (st == SSCMA_OK && rtmdet &&
        (st = sscma_qm_rtmdet_layout(qmodel, "sscma_export_verify", rtm_order, &rtm_rows, &rtm_classes)) == SSCMA_OK) {
        od = sscma_desc_make(SSCMA_DTYPE_F32, 3, (const int64_t[]){dims[0], rtm_rows, 5 + rtm_classes});
        for (int32_t k = 0; k < qmodel->n_outputs && st == SSCMA_OK; k++) {
            sscma_desc d = sscma_qm_desc(&qmodel->t[qmodel->outputs[k]], dims[0]);
            st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, d.rank, d.dims, &outs_lib[k]);
            if (st == SSCMA_OK)
                st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, d.rank, d.dims, &outs_file[k]);
        }
    }
    if (st == SSCMA_OK)
        st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, od.rank, od.dims, &y_lib);
    if (st == SSCMA_OK)
        st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, od.rank, od.dims, &y_file);
    if (st == SSCMA_OK)
        st = sscma_metric_create(cfg, &m_lib);
    if (st == SSCMA_OK)
        st = sscma_metric_create(cfg, &m_file);
    if (st == SSCMA_OK)
        st = sscma_loader_start_epoch(data, 0);
    /* a detector's file ends in SSCMA's decode ([B, N, 5 + C], scores times 100): its boxes go through SSCMA's
     * test_cfg (multi_label, score_thr 0.001, NMS IoU 0.65, 300 per image) into CocoMetric */
    const bool detector = strcmp(qmodel->family, "YOLODetector") == 0 || rtmdet;
    det_nms_config nms;
    det_nms_config_init(&nms);
    nms.multi_label = true, nms.nms_pre = 30000, nms.score_thr = 0.001f, nms.iou_threshold = 0.65f;
    nms.max_per_img = 300;
    sscma_verify_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = report->struct_size;
    snprintf(r.metric_name, sizeof r.metric_name, "%s", result);
    while (st == SSCMA_OK) {
        int64_t count = 0;
        if ((st = sscma_loader_next(data, images, labels, &count)) != SSCMA_OK || count == 0)
            break;
        if ((st = sscma_qmodel_set_input(qmodel, 0, images)) != SSCMA_OK ||
            (st = sscma_qmodel_set_input(file, 0, images)) != SSCMA_OK || (st = sscma_qmodel_run(qmodel)) != SSCMA_OK ||
            (st = sscma_qmodel_run(file)) != SSCMA_OK)
            break;
        /* raw outputs, every one: int8 units for an int8 model, real values for a float one */
        for (int32_t k = 0; k < qmodel->n_outputs && st == SSCMA_OK; k++) {
            const qm_tensor *a = &qmodel->t[qmodel->outputs[k]], *b = &file->t[file->outputs[k]];
            int64_t per = sscma_qm_numel(a) / a->dims[0], n = per * count;
            if (sscma_qm_numel(b) / b->dims[0] != per || a->dtype != b->dtype) {
                st = SSCMA_FAIL(SSCMA_ERR_SHAPE, "%s: the file's output %d differs in size or type from the model's",
                                path, (int)k);
                break;
            }
            const void *ad = qmodel->plan.buf[qmodel->outputs[k]], *bd = file->plan.buf[file->outputs[k]];
            for (int64_t i = 0; i < n; i++) {
                double d = a->dtype == SSCMA_DTYPE_I8
                               ? fabs((double)((const int8_t *)ad)[i] - ((const int8_t *)bd)[i])
                               : fabs((double)((const float *)ad)[i] - ((const float *)bd)[i]);
                r.max_abs_diff = d > r.max_abs_diff ? d : r.max_abs_diff;
                r.values_differing += d != 0.0;
            }
            r.values += n;
        }
        if (st != SSCMA_OK)
            break;
        r.samples += count;
        if (rtmdet) {
            const float *lib_v[2 * SSCMA_RTMDET_LEVELS], *file_v[2 * SSCMA_RTMDET_LEVELS];
            for (int32_t slot = 0; slot < 2 * SSCMA_RTMDET_LEVELS && st == SSCMA_OK; slot++) {
                const int32_t k = rtm_order[slot];
                void *p = NULL;
                if ((st = sscma_qmodel_get_output(qmodel, k, outs_lib[k])) == SSCMA_OK &&
                    (st = sscma_qmodel_get_output(file, k, outs_file[k])) == SSCMA_OK) {
                    sscma_tensor_data(outs_lib[k], &p), lib_v[slot] = p;
                    sscma_tensor_data(outs_file[k], &p), file_v[slot] = p;
                }
            }
            if (st != SSCMA_OK)
                break;
            void *yl = NULL, *yf = NULL;
            sscma_tensor_data(y_lib, &yl), sscma_tensor_data(y_file, &yf);
            sscma_qm_rtmdet_rows(dims[1], dims[2], rtm_classes, lib_v, count, 0.0f, yl);
            sscma_qm_rtmdet_rows(dims[1], dims[2], rtm_classes, file_v, count, 0.0f, yf);
        } else if ((st = sscma_qmodel_get_output(qmodel, 0, y_lib)) != SSCMA_OK ||
                   (st = sscma_qmodel_get_output(file, 0, y_file)) != SSCMA_OK)
            break;
        if (detector) {
            sscma_tensor *ys[2] = {y_lib, y_file};
            for (int k = 0; k < 2 && !rtmdet; k++) { /* the scores back from percent */
                void *yd = NULL;
                sscma_tensor_data(ys[k], &yd);
                float *y = yd;
                const int64_t attrib = od.dims[od.rank - 1];
                for (int64_t i = 0; i < count * od.dims[1] * attrib; i++)
                    if (i % attrib >= 4)
                        y[i] *= 0.01f;
            }
            if ((st = sscma_metric_add_detection_batch(ctx, m_lib, &nms, y_lib, labels, count, dims[1], dims[2])) !=
                    SSCMA_OK ||
                (st = sscma_metric_add_detection_batch(ctx, m_file, &nms, y_file, labels, count, dims[1], dims[2])) !=
                    SSCMA_OK)
                break;
        } else if ((st = sscma_metric_update(m_lib, y_lib, labels, count)) != SSCMA_OK ||
                   (st = sscma_metric_update(m_file, y_file, labels, count)) != SSCMA_OK)
            break;
    }
    if (st == SSCMA_OK && detector && (st = sscma_metric_finish_detections(m_lib)) == SSCMA_OK)
        st = sscma_metric_finish_detections(m_file);
    if (st == SSCMA_OK && r.samples == 0)
        st = SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "the loader gave no samples");
    if (st == SSCMA_OK)
        st = sscma_metric_get(m_lib, result, &r.metric_model);
    if (st == SSCMA_OK)
        st = sscma_metric_get(m_file, result, &r.metric_file);
    if (st == SSCMA_OK)
        memcpy(report, &r, report->struct_size);
    sscma_metric_destroy(m_lib);
    sscma_metric_destroy(m_file);
    sscma_tensor_destroy(images);
    sscma_tensor_destroy(labels);
    sscma_tensor_destroy(y_lib);
    sscma_tensor_destroy(y_file);
    for (int k = 0; k < 8; k++) {
        sscma_tensor_destroy(outs_lib[k]);
        sscma_tensor_destroy(outs_file[k]);
    }
    sscma_qmodel_destroy(file);
    return st;
}
