/*
 * PFLD (SSCMA's keypoint model, e.g. for meter pointers): backbone PfldMobileNetV2 and head PFLDhead.
 *   backbone.conv1   3x3 conv stride 2 (inchannel -> 32) + BN + ReLU        (CBR: names conv1.0, conv1.1)
 *   backbone.conv2   3x3 depthwise conv + BN + ReLU
 *   backbone.layer1  inverted residuals (expand 2) to layer1's channels, the first with stride 2
 *   backbone.block1  inverted residual to 32, stride 2, expand 2
 *   backbone.layer2  inverted residuals (expand 4) to layer2's channels
 *   backbone.block2  inverted residual to out_channel, expand 2
 *   head: x1 = GAP(x); head.conv1 (3x3 stride 2 CBR) -> x2 = GAP; head.conv2 (2x2, no padding, CBR) -> x3 = GAP;
 *         head.fc(concat(x1, x2, x3)) -> 2 * num_point coordinates (normalised to [0, 1] by the targets)
 * Backbone MobileNetV3 (SSCMA's class and names, zoo/mobilenetv3.c; pfld_mbv3l_192) is the alternative: the head reads
 * its first out_indices output, as SSCMA's PFLDhead takes x[0] of the backbone's list.
 * Inverted residuals are named as SSCMA's (conv.j.conv / conv.j.norm). Loss (PFLDLoss): the batch mean of the
 * summed squared error.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

static int32_t cbr(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride, int32_t groups,
                   sscma_act_kind act)
{
    char conv[160], bn[160];
    snprintf(conv, sizeof conv, "%s.0", name);
    snprintf(bn, sizeof bn, "%s.1", name);
    return zoo_bn(z, bn, zoo_conv(z, conv, x, cout, k, stride, groups, false), act);
}

/* SSCMA's PfldMobileNetV2 (see the top) from image x. */
static int32_t pfld_mobilenetv2(zoo *z, int32_t image, const int64_t *layer1, int32_t n1, const int64_t *layer2,
                                int32_t n2, int64_t out_channel)
{
    char name[128];
    int32_t x = cbr(z, "backbone.conv1", image, 32, 3, 2, 1, SSCMA_ACT_RELU);
    x = cbr(z, "backbone.conv2", x, 32, 3, 1, 32, SSCMA_ACT_RELU);
    for (int32_t i = 0; i < n1; i++) {
        snprintf(name, sizeof name, "backbone.layer1.%d", (int)i);
        x = zoo_inverted_residual(z, name, x, layer1[i], i == 0 ? 2 : 1, 2, true);
    }
    x = zoo_inverted_residual(z, "backbone.block1", x, 32, 2, 2, true);
    for (int32_t i = 0; i < n2; i++) {
        snprintf(name, sizeof name, "backbone.layer2.%d", (int)i);
        x = zoo_inverted_residual(z, name, x, layer2[i], 1, 4, true);
    }
    return zoo_inverted_residual(z, "backbone.block2", x, out_channel, 1, 2, true);
}

typedef struct pfld_cfg {
    int64_t input_size[2];
    int32_t n_input_size;
} pfld_cfg;

static const sscma_field pfld_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("backbone"),
    SSCMA_FIELD_KEY("head"),
    ZOO_INPUT_SIZE_FIELD(pfld_cfg, 112, 16),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

typedef struct pfld_backbone_cfg {
    int64_t inchannel, out_channel, layer1[16], layer2[16]; /* layers absent: 5 of 16 and 6 of 32 */
    int32_t n_layer1, n_layer2;
} pfld_backbone_cfg;

static const sscma_field pfld_backbone_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(pfld_backbone_cfg, inchannel, 3, 1, 4),
    SSCMA_FIELD_LIST_AS("layer1", pfld_backbone_cfg, layer1, offsetof(pfld_backbone_cfg, n_layer1), 1, 16, 1, 4096,
                        SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_LIST_AS("layer2", pfld_backbone_cfg, layer2, offsetof(pfld_backbone_cfg, n_layer2), 1, 32, 1, 4096,
                        SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_RANGE(pfld_backbone_cfg, out_channel, 16, 1, 4096),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

typedef struct pfld_head_cfg {
    int64_t num_point, input_channel, feature_num[2]; /* input_channel 0: the backbone's */
    int32_t n_feature_num;
} pfld_head_cfg;

static const sscma_field pfld_head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(pfld_head_cfg, num_point, 1, 1, 10000),
    SSCMA_FIELD_RANGE(pfld_head_cfg, input_channel, 0, 1, 4096),
    SSCMA_FIELD_LIST_AS("feature_num", pfld_head_cfg, feature_num, offsetof(pfld_head_cfg, n_feature_num), 2, 32, 1,
                        4096, 0),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("loss_cfg"),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

static const sscma_field type_only_fields[] = {SSCMA_FIELD_KEY("type"), SSCMA_FIELD_END};

static const char *const backbone_types[] = {"PfldMobileNetV2", "MobileNetV3", NULL};
static const char *const head_types[] = {"PFLDhead", NULL};
static const char *const loss_types[] = {"PFLDLoss", NULL};

sscma_status zoo_build_pfld(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    pfld_cfg c;
    pfld_backbone_cfg b;
    pfld_head_cfg h;
    int which = 0, backbone_type = 0;
    if (!zoo_read(z, pfld_fields, cfg, "PFLD", "model", &c))
        return z->st;
    int64_t size[2];
    zoo_image_size(c.input_size, c.n_input_size, size);
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &backbone_type);
    json_t *head = zoo_part(z, cfg, "model", "head", head_types, false, &which);
    bool mobilenetv3 = backbone_type == 1;
    if (mobilenetv3) {
        memset(&b, 0, sizeof b);
        b.inchannel = zoo_mobilenetv3_in_channels(z, backbone, true);
    }
    if ((!mobilenetv3 && !zoo_read(z, pfld_backbone_fields, backbone, "PfldMobileNetV2", "model.backbone", &b)) ||
        !zoo_read(z, pfld_head_fields, head, "PFLDhead", "model.head", &h))
        return z->st;
    json_t *loss_cfg = zoo_part(z, head, "model.head", "loss_cfg", loss_types, true, &which);
    if (!zoo_read(z, type_only_fields, loss_cfg, "PFLDLoss", "model.head.loss_cfg", &which))
        return z->st;
    sscma_act_kind act = zoo_act(z, head, "PFLDhead", "model.head", SSCMA_ACT_RELU);
    int64_t inchannel = b.inchannel, out_channel = b.out_channel, points = h.num_point;
    int32_t n1 = b.n_layer1 != 0 ? b.n_layer1 : 5, n2 = b.n_layer2 != 0 ? b.n_layer2 : 6;
    const int64_t *layer1 = b.layer1, *layer2 = b.layer2, *feature_num = h.feature_num;
    if (z->st != SSCMA_OK)
        return z->st;
    const int64_t image_dims[4] = {1, size[0], size[1], inchannel};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, image_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    int32_t x;
    if (mobilenetv3) {
        int32_t feats[17], n_feats = 0;
        if (zoo_build_mobilenetv3(z, backbone, true, "backbone", io->image, feats, &n_feats) != SSCMA_OK)
            return z->st;
        x = feats[0];
        out_channel = zoo_desc(z, x)->dims[3];
    } else {
        x = pfld_mobilenetv2(z, io->image, layer1, n1, layer2, n2, out_channel);
    }
    if (h.input_channel != 0 && h.input_channel != out_channel)
        return zoo_fail(z, "PFLDhead", "model.head", "input_channel", "expected %lld (the backbone's output "
                        "channels), got %lld", (long long)out_channel, (long long)h.input_channel);
    if (z->st != SSCMA_OK)
        return z->st;

    sscma_reshape_attrs flat1 = {2, {-1, out_channel}}, flat2 = {2, {-1, feature_num[0]}},
                        flat3 = {2, {-1, feature_num[1]}};
    int32_t g1 = zoo_op(z, "head.pool1", "global_avg_pool", NULL, &x, 1);
    g1 = zoo_op(z, "head.flatten1", "reshape", &flat1, &g1, 1);
    int32_t y = cbr(z, "head.conv1", x, feature_num[0], 3, 2, 1, act);
    int32_t g2 = zoo_op(z, "head.pool2", "global_avg_pool", NULL, &y, 1);
    g2 = zoo_op(z, "head.flatten2", "reshape", &flat2, &g2, 1);
    /* conv2: 2x2 kernel, no padding (zoo_conv pads (k - 1) / 2 = 0) */
    y = cbr(z, "head.conv2", y, feature_num[1], 2, 1, 1, act);
    int32_t g3 = zoo_op(z, "head.pool3", "global_avg_pool", NULL, &y, 1);
    g3 = zoo_op(z, "head.flatten3", "reshape", &flat3, &g3, 1);
    sscma_axis_attrs cat = {-1, 0, {0}};
    const int32_t parts[3] = {g1, g2, g3};
    int32_t multi = zoo_op(z, "head.concat", "concat", &cat, parts, 3);
    int32_t keypoints = zoo_linear(z, "head.fc", multi, 2 * points);
    if (z->st != SSCMA_OK)
        return z->st;
    const int64_t target_dims[2] = {1, 2 * points};
    if ((z->st = sscma_graph_add_input(z->g, "target", SSCMA_DTYPE_F32, 2, target_dims, SSCMA_INPUT_TARGET,
                                       &io->target)) != SSCMA_OK)
        return z->st;
    sscma_regression_loss_attrs mse = {SSCMA_REDUCTION_BATCH_MEAN, 1.0f};
    const int32_t loss_in[2] = {keypoints, io->target};
    int32_t loss_value = zoo_op(z, "loss", "mse_loss", &mse, loss_in, 2);
    if (z->st != SSCMA_OK)
        return z->st;
    io->outputs[0] = keypoints, io->output_names[0] = "keypoints";
    io->outputs[1] = loss_value, io->output_names[1] = "loss";
    io->n_outputs = 2;
    io->loss = loss_value;
    return SSCMA_OK;
}
