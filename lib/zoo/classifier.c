/*
 * ImageClassifier = backbone (MobileNetV2, or mmcls's MobileNetV3) + neck (GlobalAveragePooling) + head: LinearClsHead
 * (optional dropout, then head.fc) or mmcls's StackedLinearClsHead (head.layers.i.fc per mid_channels entry, each
 * followed by act_cfg and dropout_rate, then head.layers.{last}.fc to the classes), with the cross-entropy loss
 * (CrossEntropyLoss: label_smoothing, class weights) on the "target" labels in training.
 * Inputs: image [N, H, W, C] (f32, normalised), target [N] (i32). Outputs: logits [N, num_classes], loss [].
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

typedef struct classifier_cfg {
    int64_t input_size[2];
    int32_t n_input_size;
} classifier_cfg;

static const sscma_field classifier_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("backbone"),
    SSCMA_FIELD_KEY("neck"),
    SSCMA_FIELD_KEY("head"),
    ZOO_INPUT_SIZE_FIELD(classifier_cfg, 96, 8),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

static const sscma_field type_only_fields[] = {SSCMA_FIELD_KEY("type"), SSCMA_FIELD_END};

typedef struct head_cfg {
    int64_t num_classes, in_channels; /* in_channels 0: the backbone's */
    double dropout, dropout_rate;
    int64_t mid_channels[8];
    int32_t n_mid_channels;
    json_t *norm_cfg;
} head_cfg;

static const sscma_field head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("num_classes", head_cfg, num_classes, 0, true, 1, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_RANGE(head_cfg, in_channels, 0, 1, 100000),
    SSCMA_FIELD_RANGE(head_cfg, dropout, 0.0, 0.0, 0.99),
    SSCMA_FIELD_KEY("loss"),
    SSCMA_FIELD_KEY("topk"),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

/* mmcls's StackedLinearClsHead: LinearBlocks (fc, act, dropout); norm_cfg must stay null */
static const sscma_field stacked_head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("num_classes", head_cfg, num_classes, 0, true, 1, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_AS("in_channels", head_cfg, in_channels, 0, true, 1, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_LIST_AS("mid_channels", head_cfg, mid_channels, offsetof(head_cfg, n_mid_channels), 1, 0, 1, 100000,
                        SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_RANGE(head_cfg, dropout_rate, 0.0, 0.0, 0.99),
    SSCMA_FIELD_JSON_AS("norm_cfg", head_cfg, norm_cfg),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("loss"),
    SSCMA_FIELD_KEY("topk"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

typedef struct loss_cfg {
    double loss_weight, label_smooth_val, label_smoothing;
} loss_cfg;

static const sscma_field loss_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(loss_cfg, loss_weight, 1.0, 1.0, 1.0),
    SSCMA_FIELD_RANGE(loss_cfg, label_smooth_val, 0.0, 0.0, 1.0),
    SSCMA_FIELD_RANGE(loss_cfg, label_smoothing, 0.0, 0.0, 1.0),
    SSCMA_FIELD_END,
};

static const char *const backbone_types[] = {"MobileNetV2", "MobileNetv2", "MobileNetV3", NULL};
static const char *const neck_types[] = {"GlobalAveragePooling", NULL};
static const char *const head_types[] = {"LinearClsHead", "StackedLinearClsHead", NULL};
static const char *const loss_types[] = {"CrossEntropyLoss", "LabelSmoothLoss", NULL};

sscma_status zoo_build_image_classifier(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    classifier_cfg c;
    int which = 0, backbone_type = 0, head_type = 0;
    if (!zoo_read(z, classifier_fields, cfg, "ImageClassifier", "model", &c))
        return z->st;
    int64_t size[2];
    zoo_image_size(c.input_size, c.n_input_size, size);
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &backbone_type);
    json_t *neck = zoo_part(z, cfg, "model", "neck", neck_types, true, &which);
    json_t *head = zoo_part(z, cfg, "model", "head", head_types, false, &head_type);
    head_cfg h;
    memset(&h, 0, sizeof h);
    bool stacked = head_type == 1, mobilenetv3 = backbone_type == 2;
    if (!zoo_read(z, type_only_fields, neck, "GlobalAveragePooling", "model.neck", &which) ||
        !zoo_read(z, stacked ? stacked_head_fields : head_fields, head, head_types[head_type], "model.head", &h))
        return z->st;
    if (stacked && h.norm_cfg != NULL && !json_is_null(h.norm_cfg))
        return zoo_expected(z, "StackedLinearClsHead", "model.head", "norm_cfg", "null (no norm in the head)",
                            h.norm_cfg);
    sscma_act_kind head_act = stacked ? zoo_act(z, head, "StackedLinearClsHead", "model.head", SSCMA_ACT_RELU)
                                      : SSCMA_ACT_NONE;

    /* backbone (a classifier's MobileNetV3 is mmcls's: SSCMA's classification recipes name mmcls.MobileNetV3) */
    int64_t in_channels = mobilenetv3 ? zoo_mobilenetv3_in_channels(z, backbone, false)
                                      : zoo_mobilenetv2_in_channels(z, backbone);
    if (z->st != SSCMA_OK)
        return z->st;
    const int64_t image_dims[4] = {1, size[0], size[1], in_channels};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, image_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    int32_t feats[8], n_feats = 0;
    if ((mobilenetv3 ? zoo_build_mobilenetv3(z, backbone, false, "backbone", io->image, feats, &n_feats)
                     : zoo_build_mobilenetv2(z, backbone, "backbone", io->image, feats, &n_feats)) != SSCMA_OK)
        return z->st;
    int32_t x = feats[n_feats - 1];

    /* neck */
    x = zoo_op(z, "neck.gap", "global_avg_pool", NULL, &x, 1);
    int64_t channels = x >= 0 ? zoo_desc(z, x)->dims[3] : 0;
    sscma_reshape_attrs flat = {2, {-1, channels}};
    x = zoo_op(z, "neck.flatten", "reshape", &flat, &x, 1);

    /* head */
    if (h.in_channels != 0 && h.in_channels != channels)
        return zoo_fail(z, head_types[head_type], "model.head", "in_channels",
                        "expected %lld (the backbone's), got %lld", (long long)channels, (long long)h.in_channels);
    int32_t logits;
    if (stacked) {
        char name[64];
        const sscma_act_attrs none = {0.0f};
        for (int32_t i = 0; i < h.n_mid_channels; i++) {
            snprintf(name, sizeof name, "head.layers.%d.fc", (int)i);
            x = zoo_linear(z, name, x, h.mid_channels[i]);
            snprintf(name, sizeof name, "head.layers.%d.act", (int)i);
            const char *act_op = head_act == SSCMA_ACT_RELU    ? "relu"
                                 : head_act == SSCMA_ACT_RELU6 ? "relu6"
                                                               : "hardswish";
            x = zoo_op(z, name, act_op, &none, &x, 1);
            if (h.dropout_rate > 0.0) {
                sscma_dropout_attrs d = {(float)h.dropout_rate};
                snprintf(name, sizeof name, "head.layers.%d.dropout", (int)i);
                x = zoo_op(z, name, "dropout", &d, &x, 1);
            }
        }
        snprintf(name, sizeof name, "head.layers.%d.fc", (int)h.n_mid_channels);
        logits = zoo_linear(z, name, x, h.num_classes);
    } else {
        if (h.dropout > 0.0) {
            sscma_dropout_attrs d = {(float)h.dropout};
            x = zoo_op(z, "head.dropout", "dropout", &d, &x, 1);
        }
        logits = zoo_linear(z, "head.fc", x, h.num_classes);
    }

    return zoo_class_loss(z, head, io, logits);
}

sscma_status zoo_class_loss(zoo *z, json_t *head, sscma_model_io_table *io, int32_t logits)
{
    int which = 0;
    json_t *loss = zoo_part(z, head, "model.head", "loss", loss_types, true, &which);
    loss_cfg l;
    if (!zoo_read(z, loss_fields, loss, loss_types[which], "model.head.loss", &l))
        return z->st;
    sscma_cross_entropy_attrs ce = {SSCMA_REDUCTION_MEAN, 0.0f, -100};
    ce.label_smoothing = (float)(l.label_smooth_val > 0.0 ? l.label_smooth_val : l.label_smoothing);
    return zoo_ce_outputs(z, io, logits, &ce);
}

sscma_status zoo_ce_outputs(zoo *z, sscma_model_io_table *io, int32_t logits, const sscma_cross_entropy_attrs *ce)
{
    const int64_t target_dims[1] = {1};
    if ((z->st = sscma_graph_add_input(z->g, "target", SSCMA_DTYPE_I32, 1, target_dims, SSCMA_INPUT_TARGET,
                                       &io->target)) != SSCMA_OK)
        return z->st;
    const int32_t loss_in[2] = {logits, io->target};
    int32_t loss_value = zoo_op(z, "loss", "cross_entropy", ce, loss_in, 2);
    if (z->st != SSCMA_OK)
        return z->st;
    io->outputs[0] = logits, io->output_names[0] = "logits";
    io->outputs[1] = loss_value, io->output_names[1] = "loss";
    io->n_outputs = 2;
    io->loss = loss_value;
    return SSCMA_OK;
}
