/*
 * ImageClassifier = backbone + neck (GlobalAveragePooling) + LinearClsHead (optional dropout, then fc), with the
 * cross-entropy loss (CrossEntropyLoss: label_smoothing, class weights) on the "target" labels in training.
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
    double dropout;
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

static const char *const backbone_types[] = {"MobileNetV2", "MobileNetv2", NULL};
static const char *const neck_types[] = {"GlobalAveragePooling", NULL};
static const char *const head_types[] = {"LinearClsHead", NULL};
static const char *const loss_types[] = {"CrossEntropyLoss", "LabelSmoothLoss", NULL};

sscma_status zoo_build_image_classifier(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    classifier_cfg c;
    int which = 0;
    if (!zoo_read(z, classifier_fields, cfg, "ImageClassifier", "model", &c))
        return z->st;
    int64_t size[2];
    zoo_image_size(c.input_size, c.n_input_size, size);
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &which);
    json_t *neck = zoo_part(z, cfg, "model", "neck", neck_types, true, &which);
    json_t *head = zoo_part(z, cfg, "model", "head", head_types, false, &which);
    head_cfg h;
    if (!zoo_read(z, type_only_fields, neck, "GlobalAveragePooling", "model.neck", &which) ||
        !zoo_read(z, head_fields, head, "LinearClsHead", "model.head", &h))
        return z->st;

    /* backbone */
    int64_t in_channels = zoo_mobilenetv2_in_channels(z, backbone);
    if (z->st != SSCMA_OK)
        return z->st;
    const int64_t image_dims[4] = {1, size[0], size[1], in_channels};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, image_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    int32_t feats[8], n_feats = 0;
    if (zoo_build_mobilenetv2(z, backbone, "backbone", io->image, feats, &n_feats) != SSCMA_OK)
        return z->st;
    int32_t x = feats[n_feats - 1];

    /* neck */
    x = zoo_op(z, "neck.gap", "global_avg_pool", NULL, &x, 1);
    int64_t channels = x >= 0 ? zoo_desc(z, x)->dims[3] : 0;
    sscma_reshape_attrs flat = {2, {-1, channels}};
    x = zoo_op(z, "neck.flatten", "reshape", &flat, &x, 1);

    /* head */
    if (h.in_channels != 0 && h.in_channels != channels)
        return zoo_fail(z, "LinearClsHead", "model.head", "in_channels", "expected %lld (the backbone's), got %lld",
                        (long long)channels, (long long)h.in_channels);
    if (h.dropout > 0.0) {
        sscma_dropout_attrs d = {(float)h.dropout};
        x = zoo_op(z, "head.dropout", "dropout", &d, &x, 1);
    }
    int32_t logits = zoo_linear(z, "head.fc", x, h.num_classes);

    /* loss */
    sscma_cross_entropy_attrs ce = {SSCMA_REDUCTION_MEAN, 0.0f, -100};
    json_t *loss = zoo_part(z, head, "model.head", "loss", loss_types, true, &which);
    loss_cfg l;
    if (!zoo_read(z, loss_fields, loss, loss_types[which], "model.head.loss", &l))
        return z->st;
    ce.label_smoothing = (float)(l.label_smooth_val > 0.0 ? l.label_smooth_val : l.label_smoothing);
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
