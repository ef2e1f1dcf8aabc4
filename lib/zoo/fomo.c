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
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

#define FOMO_STRIDE 8 /* the backbone is cut after stage 2: three stride-2 convolutions */

typedef struct fomo_cfg {
    int64_t input_size[2];
    int32_t n_input_size;
} fomo_cfg;

static const sscma_field fomo_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("backbone"),
    SSCMA_FIELD_KEY("head"),
    ZOO_INPUT_SIZE_FIELD(fomo_cfg, 96, 8),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

typedef struct fomo_head_cfg {
    int64_t input_channels[1];
    int32_t n_input_channels;
    int64_t middle_channel, num_classes;
} fomo_head_cfg;

static const sscma_field fomo_head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_LIST_AS("input_channels", fomo_head_cfg, input_channels, offsetof(fomo_head_cfg, n_input_channels),
                        1, 0, 1, 100000, SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_RANGE(fomo_head_cfg, middle_channel, 48, 1, 4096),
    SSCMA_FIELD_AS("num_classes", fomo_head_cfg, num_classes, 0, true, 1, 1000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("loss_cls"),
    SSCMA_FIELD_KEY("loss_bg"),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

typedef struct bce_cfg {
    double pos_weight, loss_weight;
} bce_cfg;

static const sscma_field bce_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("reduction"),
    SSCMA_FIELD_AS("pos_weight", bce_cfg, pos_weight, 0.0, true, 0.0, 1e6, SSCMA_FIELD_PREFILLED),
    SSCMA_FIELD_RANGE(bce_cfg, loss_weight, 1.0, 1.0, 1.0),
    SSCMA_FIELD_END,
};

static const char *const backbone_types[] = {"MobileNetv2", "MobileNetV2", NULL};
static const char *const head_types[] = {"FomoHead", NULL};
static const char *const bce_types[] = {"BCEWithLogitsLoss", NULL};

/* head.<key> (BCEWithLogitsLoss), its pos_weight into *pos_weight (unchanged when absent). */
static bool parse_bce(zoo *z, json_t *head, const char *key, double *pos_weight)
{
    char at[64];
    int which = 0;
    bce_cfg b = {.pos_weight = *pos_weight};
    json_t *loss = zoo_part(z, head, "model.head", key, bce_types, true, &which);
    if (!zoo_read(z, bce_fields, loss, "BCEWithLogitsLoss", sscma_schema_path(at, sizeof at, "model.head", key), &b))
        return false;
    *pos_weight = b.pos_weight;
    return true;
}

sscma_status zoo_build_fomo(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    fomo_cfg fc;
    fomo_head_cfg h;
    int which = 0;
    if (!zoo_read(z, fomo_fields, cfg, "Fomo", "model", &fc))
        return z->st;
    int64_t size[2];
    zoo_image_size(fc.input_size, fc.n_input_size, size);
    if (size[0] % FOMO_STRIDE != 0 || size[1] % FOMO_STRIDE != 0) /* the target grid is the image / 8, exactly */
        return zoo_fail(z, "Fomo", "model", "input_size", "%lldx%lld is not a multiple of FOMO's stride %d",
                        (long long)size[0], (long long)size[1], FOMO_STRIDE);
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &which);
    json_t *head = zoo_part(z, cfg, "model", "head", head_types, false, &which);
    if (!zoo_read(z, fomo_head_fields, head, "FomoHead", "model.head", &h))
        return z->st;
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
    int64_t channels = zoo_desc(z, x)->dims[3];

    int64_t middle = h.middle_channel, classes = h.num_classes;
    if (h.n_input_channels == 1 && h.input_channels[0] != channels)
        return zoo_fail(z, "FomoHead", "model.head", "input_channels", "expected %lld (the backbone's), got %lld",
                        (long long)channels, (long long)h.input_channels[0]);
    sscma_act_kind act = zoo_act(z, head, "FomoHead", "model.head", SSCMA_ACT_RELU6);
    double pos_weight_cls = 40.0, pos_weight_bg = 1.0; /* SSCMA's FOMO configs: 40 for the classes */
    if (!parse_bce(z, head, "loss_cls", &pos_weight_cls) || !parse_bce(z, head, "loss_bg", &pos_weight_bg))
        return z->st;

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
