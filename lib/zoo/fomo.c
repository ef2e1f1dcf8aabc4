/*
 * Fomo (SSCMA): a MobileNetV2 cut at stride 8 (backbone "MobileNetv2", out_indices [2]) and FomoHead:
 *   head.convs_bridge.0.0   3x3 conv (no bias) -> head.convs_bridge.0.1 BN -> ReLU6 (act_cfg)   to middle_channel
 *   head.convs_pred.0       1x1 conv with bias to num_classes + 1 channels (channel 0 = background)
 * Outputs: logits [N, H/8, W/8, C+1], probs (softmax over channels, what SSCMA's predict returns), loss.
 * Loss (training): binary cross-entropy with logits against the one-hot target map, averaged over every element;
 * the class channels use pos_weight (loss_cls.pos_weight, default 40 as SSCMA's configs), the background channel none
 * (loss_bg) — SSCMA's masked sum of the two losses, as one op with a per-channel pos_weight.
 * Head weights start N(0, 0.01) as SSCMA's init_cfg; its batch norm weight 1, bias 0.
 */
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

static bool parse_bce(zoo *z, json_t *loss, double *pos_weight)
{
    static const char *const keys[] = {"type", "reduction", "pos_weight", "loss_weight", NULL};
    const char *type = json_string_value(json_object_get(loss, "type"));
    if (type == NULL || strcmp(type, "BCEWithLogitsLoss") != 0) {
        z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown loss type '%s'; known: BCEWithLogitsLoss",
                           type ? type : "(missing)");
        return false;
    }
    double weight = 1.0;
    return zoo_check_keys(z, loss, "BCEWithLogitsLoss", keys) &&
           zoo_float(z, loss, "pos_weight", *pos_weight, 0.0, 1e6, pos_weight) &&
           zoo_float(z, loss, "loss_weight", 1.0, 1.0, 1.0, &weight);
}

sscma_status zoo_build_fomo(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    static const char *const keys[] = {"type", "backbone", "head", "input_size", NULL};
    int64_t size[2] = {96, 96};
    int32_t n_size = 2;
    if (!zoo_check_keys(z, cfg, "Fomo", keys) || !zoo_int_list(z, cfg, "input_size", 8, 4096, size, 2, &n_size))
        return z->st;
    if (n_size == 1)
        size[1] = size[0];
    json_t *backbone = zoo_object(z, cfg, "backbone"), *head = zoo_object(z, cfg, "head");
    if (z->st != SSCMA_OK)
        return z->st;
    if (backbone == NULL || head == NULL)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, "model", "Fomo needs \"backbone\" and \"head\"");
    snprintf(z->where, sizeof z->where, "model.backbone");
    const char *btype = json_string_value(json_object_get(backbone, "type"));
    if (btype == NULL || (strcmp(btype, "MobileNetv2") != 0 && strcmp(btype, "MobileNetV2") != 0))
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown backbone type '%s'; known: MobileNetv2, "
                                  "MobileNetV2", btype ? btype : "(missing)");
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
    int64_t channels = zoo_desc(z, x)->dims[3];

    snprintf(z->where, sizeof z->where, "model.head");
    static const char *const head_keys[] = {"type", "input_channels", "middle_channel", "num_classes", "act_cfg",
                                            "loss_cls", "loss_bg", NULL};
    const char *htype = json_string_value(json_object_get(head, "type"));
    if (htype == NULL || strcmp(htype, "FomoHead") != 0)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "unknown head type '%s'; known: FomoHead",
                                  htype ? htype : "(missing)");
    int64_t middle = 48, classes = 0, in_list[1] = {channels};
    int32_t n_in_list = 1;
    if (!zoo_check_keys(z, head, "FomoHead", head_keys) || !zoo_int(z, head, "middle_channel", 48, 1, 4096, &middle) ||
        !zoo_int(z, head, "num_classes", 0, 1, 1000, &classes) ||
        !zoo_int_list(z, head, "input_channels", 1, 100000, in_list, 1, &n_in_list))
        return z->st;
    if (classes < 1)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "'num_classes' is required");
    if (in_list[0] != channels)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "input_channels is %lld but the backbone gives %lld",
                                  (long long)in_list[0], (long long)channels);
    sscma_act_kind act = SSCMA_ACT_RELU6;
    json_t *act_cfg = json_object_get(head, "act_cfg");
    if (act_cfg != NULL) {
        const char *a = json_is_string(act_cfg) ? json_string_value(act_cfg)
                                                : json_string_value(json_object_get(act_cfg, "type"));
        if (a != NULL && strcmp(a, "ReLU6") == 0)
            act = SSCMA_ACT_RELU6;
        else if (a != NULL && strcmp(a, "ReLU") == 0)
            act = SSCMA_ACT_RELU;
        else
            return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "act_cfg '%s' is not ReLU6 or ReLU", a ? a : "?");
    }
    double pos_weight_cls = 40.0, pos_weight_bg = 1.0; /* SSCMA's FOMO configs: 40 for the classes */
    json_t *loss_cls = zoo_object(z, head, "loss_cls"), *loss_bg = zoo_object(z, head, "loss_bg");
    if (z->st != SSCMA_OK)
        return z->st;
    snprintf(z->where, sizeof z->where, "model.head.loss_cls");
    if (loss_cls != NULL && !parse_bce(z, loss_cls, &pos_weight_cls))
        return z->st;
    snprintf(z->where, sizeof z->where, "model.head.loss_bg");
    if (loss_bg != NULL && !parse_bce(z, loss_bg, &pos_weight_bg))
        return z->st;
    snprintf(z->where, sizeof z->where, "model.head");

    /* head: conv-BN-act bridge, 1x1 prediction conv; weights N(0, 0.01) */
    int32_t before = z->g->n_values;
    x = zoo_conv(z, "head.convs_bridge.0.0", x, middle, 3, 1, 1, false);
    x = zoo_bn(z, "head.convs_bridge.0.1", x, act);
    int32_t logits = zoo_conv(z, "head.convs_pred.0", x, classes + 1, 1, 1, 1, true);
    if (z->st != SSCMA_OK)
        return z->st;
    for (int32_t i = before; i < z->g->n_values; i++) {
        sscma_value *v = &z->g->values[i];
        if (v->kind == SSCMA_VALUE_PARAM && v->desc.rank == 4) {
            v->init = SSCMA_INIT_NORMAL;
            v->init_scale = 0.01f;
        }
    }
    sscma_softmax_attrs sm = {0};
    int32_t probs = zoo_op(z, "head.softmax", "softmax", &sm, &logits, 1);

    /* loss: one BCE with a per-channel pos_weight [bg, cls, cls, ...] */
    const int64_t c1 = classes + 1;
    int32_t pw = -1;
    if ((z->st = sscma_graph_add_param(z->g, "head.pos_weight", SSCMA_VALUE_CONST, 1, &c1, 0, SSCMA_INIT_ZEROS, 0.0f,
                                       &pw)) != SSCMA_OK)
        return z->st;
    float *pwd = z->g->values[pw].data;
    for (int64_t c = 0; c < c1; c++)
        pwd[c] = (float)(c == 0 ? pos_weight_bg : pos_weight_cls);
    const sscma_desc *ld = zoo_desc(z, logits);
    if ((z->st = sscma_graph_add_input(z->g, "target", SSCMA_DTYPE_F32, 4, ld->dims, SSCMA_INPUT_TARGET,
                                       &io->target)) != SSCMA_OK)
        return z->st;
    sscma_bce_attrs bce = {SSCMA_REDUCTION_MEAN, false, true};
    const int32_t loss_in[3] = {logits, io->target, pw};
    int32_t loss_value = zoo_op(z, "loss", "bce_with_logits", &bce, loss_in, 3);
    if (z->st != SSCMA_OK)
        return z->st;
    io->outputs[0] = logits, io->output_names[0] = "logits";
    io->outputs[1] = probs, io->output_names[1] = "probs";
    io->outputs[2] = loss_value, io->output_names[2] = "loss";
    io->n_outputs = 3;
    io->loss = loss_value;
    return SSCMA_OK;
}
