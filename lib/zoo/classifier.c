/*
 * ImageClassifier = backbone + neck (GlobalAveragePooling) + LinearClsHead (optional dropout, then fc), with the
 * cross-entropy loss (CrossEntropyLoss: label_smoothing, class weights) on the "target" labels in training.
 * Inputs: image [N, H, W, C] (f32, normalised), target [N] (i32). Outputs: logits [N, num_classes], loss [].
 */
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

sscma_status zoo_build_image_classifier(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    static const char *const keys[] = {"type", "backbone", "neck", "head", "input_size", NULL};
    int64_t size[2] = {96, 96};
    int32_t n_size = 2;
    if (!zoo_check_keys(z, cfg, "ImageClassifier", keys) ||
        !zoo_int_list(z, cfg, "input_size", 8, 4096, size, 2, &n_size))
        return z->st;
    if (n_size == 1)
        size[1] = size[0];
    json_t *backbone = zoo_object(z, cfg, "backbone"), *neck = zoo_object(z, cfg, "neck");
    json_t *head = zoo_object(z, cfg, "head");
    if (z->st != SSCMA_OK)
        return z->st;
    if (backbone == NULL || head == NULL)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, "model", "ImageClassifier needs \"backbone\" and \"head\"");

    /* backbone */
    snprintf(z->where, sizeof z->where, "model.backbone");
    const char *btype = json_string_value(json_object_get(backbone, "type"));
    if (btype == NULL || (strcmp(btype, "MobileNetV2") != 0 && strcmp(btype, "MobileNetv2") != 0))
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown backbone type '%s'; known: MobileNetV2",
                                  btype ? btype : "(missing)");
    int64_t in_channels = 3;
    if (!zoo_int(z, backbone, "in_channels", json_is_true(json_object_get(backbone, "gray_input")) ? 1 : 3, 1, 4,
                 &in_channels))
        return z->st;
    const int64_t image_dims[4] = {1, size[0], size[1], in_channels};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, image_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    int32_t feats[8], n_feats = 0;
    if (zoo_build_mobilenetv2(z, backbone, "backbone", io->image, feats, &n_feats) != SSCMA_OK)
        return z->st;
    int32_t x = feats[n_feats - 1];

    /* neck */
    snprintf(z->where, sizeof z->where, "model.neck");
    if (neck != NULL) {
        static const char *const neck_keys[] = {"type", NULL};
        const char *ntype = json_string_value(json_object_get(neck, "type"));
        if (!zoo_check_keys(z, neck, "GlobalAveragePooling", neck_keys))
            return z->st;
        if (ntype == NULL || strcmp(ntype, "GlobalAveragePooling") != 0)
            return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown neck type '%s'; known: GlobalAveragePooling",
                                      ntype ? ntype : "(missing)");
    }
    x = zoo_op(z, "neck.gap", "global_avg_pool", NULL, &x, 1);
    int64_t channels = x >= 0 ? zoo_desc(z, x)->dims[3] : 0;
    sscma_reshape_attrs flat = {2, {-1, channels}};
    x = zoo_op(z, "neck.flatten", "reshape", &flat, &x, 1);

    /* head */
    snprintf(z->where, sizeof z->where, "model.head");
    static const char *const head_keys[] = {"type", "num_classes", "in_channels", "dropout", "loss", "topk", NULL};
    int64_t classes = 0, head_in = channels;
    double dropout = 0.0;
    const char *htype = json_string_value(json_object_get(head, "type"));
    if (htype == NULL || strcmp(htype, "LinearClsHead") != 0)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown head type '%s'; known: LinearClsHead",
                                  htype ? htype : "(missing)");
    if (!zoo_check_keys(z, head, "LinearClsHead", head_keys) ||
        !zoo_int(z, head, "num_classes", 0, 1, 100000, &classes) ||
        !zoo_int(z, head, "in_channels", channels, channels, channels, &head_in) ||
        !zoo_float(z, head, "dropout", 0.0, 0.0, 0.99, &dropout))
        return z->st;
    if (classes < 1)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "'num_classes' is required");
    if (dropout > 0.0) {
        sscma_dropout_attrs d = {(float)dropout};
        x = zoo_op(z, "head.dropout", "dropout", &d, &x, 1);
    }
    int32_t logits = zoo_linear(z, "head.fc", x, classes);

    /* loss */
    sscma_cross_entropy_attrs ce = {SSCMA_REDUCTION_MEAN, 0.0f, -100};
    json_t *loss = zoo_object(z, head, "loss");
    if (loss != NULL) {
        snprintf(z->where, sizeof z->where, "model.head.loss");
        static const char *const loss_keys[] = {"type", "loss_weight", "label_smooth_val", "label_smoothing", NULL};
        const char *ltype = json_string_value(json_object_get(loss, "type"));
        double smooth = 0.0, smooth2 = 0.0, weight = 1.0;
        if (ltype == NULL || (strcmp(ltype, "CrossEntropyLoss") != 0 && strcmp(ltype, "LabelSmoothLoss") != 0))
            return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where,
                                      "unknown loss type '%s'; known: CrossEntropyLoss, LabelSmoothLoss",
                                      ltype ? ltype : "(missing)");
        if (!zoo_check_keys(z, loss, ltype, loss_keys) ||
            !zoo_float(z, loss, "label_smooth_val", 0.0, 0.0, 1.0, &smooth) ||
            !zoo_float(z, loss, "label_smoothing", 0.0, 0.0, 1.0, &smooth2) ||
            !zoo_float(z, loss, "loss_weight", 1.0, 1.0, 1.0, &weight))
            return z->st;
        ce.label_smoothing = (float)(smooth > 0.0 ? smooth : smooth2);
    }
    const int64_t target_dims[1] = {1};
    if ((z->st = sscma_graph_add_input(z->g, "target", SSCMA_DTYPE_I32, 1, target_dims, SSCMA_INPUT_TARGET,
                                       &io->target)) != SSCMA_OK)
        return z->st;
    const int32_t loss_in[2] = {logits, io->target};
    int32_t loss_value = zoo_op(z, "loss", "cross_entropy", &ce, loss_in, 2);
    if (z->st != SSCMA_OK)
        return z->st;
    io->outputs[0] = logits, io->output_names[0] = "logits";
    io->outputs[1] = loss_value, io->output_names[1] = "loss";
    io->n_outputs = 2;
    io->loss = loss_value;
    return SSCMA_OK;
}
