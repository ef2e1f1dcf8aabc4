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
 * Inverted residuals are named as SSCMA's (conv.j.conv / conv.j.norm). Loss (PFLDLoss): the batch mean of the
 * summed squared error.
 */
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

static sscma_act_kind parse_act(zoo *z, json_t *obj, sscma_act_kind def)
{
    json_t *v = json_object_get(obj, "act_cfg");
    if (v == NULL || z->st != SSCMA_OK)
        return def;
    const char *a = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "type"));
    if (a != NULL && strcmp(a, "ReLU") == 0)
        return SSCMA_ACT_RELU;
    if (a != NULL && strcmp(a, "ReLU6") == 0)
        return SSCMA_ACT_RELU6;
    z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "act_cfg '%s' is not ReLU or ReLU6", a ? a : "?");
    return def;
}

sscma_status zoo_build_pfld(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    static const char *const keys[] = {"type", "backbone", "head", "input_size", NULL};
    int64_t size[2] = {112, 112};
    int32_t n_size = 2;
    if (!zoo_check_keys(z, cfg, "PFLD", keys) || !zoo_int_list(z, cfg, "input_size", 16, 4096, size, 2, &n_size))
        return z->st;
    if (n_size == 1)
        size[1] = size[0];
    json_t *backbone = zoo_object(z, cfg, "backbone"), *head = zoo_object(z, cfg, "head");
    if (z->st != SSCMA_OK)
        return z->st;
    if (backbone == NULL || head == NULL)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, "model", "PFLD needs \"backbone\" and \"head\"");

    snprintf(z->where, sizeof z->where, "model.backbone");
    static const char *const bkeys[] = {"type", "inchannel", "layer1", "layer2", "out_channel", NULL};
    const char *btype = json_string_value(json_object_get(backbone, "type"));
    if (btype == NULL || strcmp(btype, "PfldMobileNetV2") != 0)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown backbone type '%s'; known: PfldMobileNetV2",
                                  btype ? btype : "(missing)");
    int64_t inchannel = 3, out_channel = 16, layer1[16] = {16, 16, 16, 16, 16}, layer2[16] = {32, 32, 32, 32, 32, 32};
    int32_t n1 = 5, n2 = 6;
    if (!zoo_check_keys(z, backbone, "PfldMobileNetV2", bkeys) ||
        !zoo_int(z, backbone, "inchannel", 3, 1, 4, &inchannel) ||
        !zoo_int(z, backbone, "out_channel", 16, 1, 4096, &out_channel) ||
        !zoo_int_list(z, backbone, "layer1", 1, 4096, layer1, 16, &n1) ||
        !zoo_int_list(z, backbone, "layer2", 1, 4096, layer2, 16, &n2))
        return z->st;
    const int64_t image_dims[4] = {1, size[0], size[1], inchannel};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, image_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    char name[128];
    int32_t x = cbr(z, "backbone.conv1", io->image, 32, 3, 2, 1, SSCMA_ACT_RELU);
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
    x = zoo_inverted_residual(z, "backbone.block2", x, out_channel, 1, 2, true);
    if (z->st != SSCMA_OK)
        return z->st;

    snprintf(z->where, sizeof z->where, "model.head");
    static const char *const hkeys[] = {"type", "num_point", "input_channel", "feature_num", "act_cfg", "loss_cfg",
                                        NULL};
    const char *htype = json_string_value(json_object_get(head, "type"));
    if (htype == NULL || strcmp(htype, "PFLDhead") != 0)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown head type '%s'; known: PFLDhead",
                                  htype ? htype : "(missing)");
    int64_t points = 1, input_channel = out_channel, feature_num[2] = {32, 32};
    int32_t nf = 2;
    if (!zoo_check_keys(z, head, "PFLDhead", hkeys) || !zoo_int(z, head, "num_point", 1, 1, 10000, &points) ||
        !zoo_int(z, head, "input_channel", out_channel, out_channel, out_channel, &input_channel) ||
        !zoo_int_list(z, head, "feature_num", 1, 4096, feature_num, 2, &nf))
        return z->st;
    if (nf != 2)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "'feature_num' needs 2 values");
    sscma_act_kind act = parse_act(z, head, SSCMA_ACT_RELU);
    json_t *loss_cfg = zoo_object(z, head, "loss_cfg");
    if (z->st != SSCMA_OK)
        return z->st;
    if (loss_cfg != NULL) {
        const char *lt = json_string_value(json_object_get(loss_cfg, "type"));
        static const char *const lkeys[] = {"type", NULL};
        if (lt == NULL || strcmp(lt, "PFLDLoss") != 0 || !zoo_check_keys(z, loss_cfg, "PFLDLoss", lkeys))
            return z->st != SSCMA_OK ? z->st
                                     : (z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where,
                                                           "unknown loss type '%s'; known: PFLDLoss", lt ? lt : "?"));
    }
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
