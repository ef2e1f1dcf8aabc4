/*
 * MobileNetV2 (Sandler et al. 2018) in torchvision's layout, as SSCMA's classifiers use it:
 *   features.0      3x3 conv stride 2 -> BN -> ReLU6            (32 * widen channels, rounded to multiples of 8)
 *   features.1..17  inverted residual blocks, settings (t, c, n, s) below; a residual add where stride 1 and
 *                   in == out; t == 1 blocks have no expansion conv
 *   features.18     1x1 conv to 1280 * max(1, widen) -> BN -> ReLU6
 * Parameter names follow torchvision: features.N.conv.0.0.weight (expand conv), .conv.0.1 (its BN), .conv.1.0 (the
 * depthwise conv), .conv.1.1, .conv.2 (projection), .conv.3 (its BN). Stages for out_indices: stage k (0..6) is the
 * k-th group of blocks (SSCMA's layer{k+1}; stage 2 ends at stride 8), stage 7 is features.18.
 *
 * Type "MobileNetv2" (SSCMA's own class, used by its detection configs) is the same network without features.18,
 * named as SSCMA names it: conv1.conv / conv1.norm for the stem, layer{k+1}.{i}.conv.{j}.conv / .norm for the
 * convolution-norm pairs of the blocks (projection conv.{j}.weight, its BN conv.{j+1}).
 *
 * MobileNetv2 with rep: true (SSCMA 2.0.0's classification and FOMO defaults) replaces every inverted residual by
 * SSCMA's RepConv1x1 (sscma/models/layers/rep.py, depth 6, ReLU) with twice the stage's width, t ignored:
 *   x0 = conv3x3.norm(conv3x3.conv(x))                       3x3 conv with bias (the block's stride), BN
 *   d  = dense_norm(x0)
 *   x_{k+1} = conv.k.norm(conv.k.conv(x_k)) + norm.k(x_k) + (k > 0 ? d : 0)     k = 0..5: 1x1 conv with bias, BN
 *   out = relu(x_6)
 * trained as these branches; everything before the ReLU is affine in x, so lowering (lib/quant/lower_rep.c) fuses the
 * block into one 3x3 convolution, as SSCMA's rep() fills fuse_conv at eval(). fuse_conv.weight / .bias, which SSCMA
 * keeps as parameters but never trains (rep() overwrites them), are not parameters here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

static const int settings[7][4] = {
    /* t, c, n, s */
    {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
};

int32_t zoo_inverted_residual(zoo *z, const char *block, int32_t x, int64_t cout, int stride, int t, bool sscma_names)
{
    if (z->st != SSCMA_OK || x < 0)
        return -1;
    int64_t cin = zoo_desc(z, x)->dims[3];
    return zoo_inverted_residual_widths(z, block, x, cin * t, cout, stride, t, stride == 1 && cin == cout,
                                        sscma_names);
}

int32_t zoo_inverted_residual_widths(zoo *z, const char *block, int32_t x, int64_t hidden, int64_t cout, int stride,
                                     int t, bool residual, bool sscma_names)
{
    char name[256]; /* block names are shorter than 128 (see below) */
    const char *conv_leaf = sscma_names ? "conv" : "0", *norm_leaf = sscma_names ? "norm" : "1";
    if (z->st != SSCMA_OK || x < 0)
        return -1;
    int32_t y = x;
    int idx = 0;
    if (t != 1) {
        snprintf(name, sizeof name, "%s.conv.0.%s", block, conv_leaf);
        y = zoo_conv(z, name, y, hidden, 1, 1, 1, false);
        snprintf(name, sizeof name, "%s.conv.0.%s", block, norm_leaf);
        y = zoo_bn(z, name, y, SSCMA_ACT_RELU6);
        idx = 1;
    }
    snprintf(name, sizeof name, "%s.conv.%d.%s", block, idx, conv_leaf);
    y = zoo_conv(z, name, y, hidden, 3, stride, (int32_t)hidden, false);
    snprintf(name, sizeof name, "%s.conv.%d.%s", block, idx, norm_leaf);
    y = zoo_bn(z, name, y, SSCMA_ACT_RELU6);
    snprintf(name, sizeof name, "%s.conv.%d", block, idx + 1);
    y = zoo_conv(z, name, y, cout, 1, 1, 1, false);
    snprintf(name, sizeof name, "%s.conv.%d", block, idx + 2);
    y = zoo_bn(z, name, y, SSCMA_ACT_NONE);
    if (residual) {
        snprintf(name, sizeof name, "%s.add", block);
        const int32_t in[2] = {y, x};
        y = zoo_op(z, name, "add", NULL, in, 2);
    }
    return y;
}

typedef struct mobilenetv2_cfg {
    double widen_factor;
    int64_t in_channels; /* 0: from gray_input */
    bool gray_input;
    int64_t out_indices[8];
    int32_t n_out_indices;
    int64_t frozen_stages; /* mmcls / mmdet: -1 none; k >= 0 the stem's parameters and stages 1..k */
    bool norm_eval;        /* every batch norm of the backbone in evaluation form while training */
    int64_t channels[64];  /* per-layer widths (a pruned model): every full conv's output channels, in order */
    int32_t n_channels;    /* 0: the widths widen_factor gives */
    bool rep;              /* MobileNetv2: RepConv1x1 blocks (see the top) */
} mobilenetv2_cfg;

static const sscma_field mobilenetv2_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(mobilenetv2_cfg, widen_factor, 1.0, 0.05, 4.0),
    SSCMA_FIELD_RANGE(mobilenetv2_cfg, in_channels, 0, 1, 4),
    SSCMA_FIELD(mobilenetv2_cfg, gray_input, false),
    SSCMA_FIELD_LIST_AS("out_indices", mobilenetv2_cfg, out_indices, offsetof(mobilenetv2_cfg, n_out_indices), 1, 0, 0,
                        7, SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_RANGE(mobilenetv2_cfg, frozen_stages, -1, -1, 7),
    SSCMA_FIELD(mobilenetv2_cfg, norm_eval, false),
    SSCMA_FIELD_KEY("norm_cfg"), /* the type only (BN or SyncBN): momentum 0.1 and eps 1e-5 are fixed */
    SSCMA_FIELD_LIST_AS("channels", mobilenetv2_cfg, channels, offsetof(mobilenetv2_cfg, n_channels), 1, 0, 1, 100000,
                        0),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD(mobilenetv2_cfg, rep, false),
    SSCMA_FIELD_END,
};

#define REP_DEPTH 6 /* MobileNetv2 builds RepConv1x1 with depth=6 */

/* SSCMA's RepConv1x1 (use_res, use_dense, ReLU) in training form; the formula heads this file. */
static int32_t rep_conv1x1(zoo *z, const char *block, int32_t x, int64_t cout, int stride)
{
    char name[256];
    snprintf(name, sizeof name, "%s.conv3x3.conv", block);
    int32_t y = zoo_conv(z, name, x, cout, 3, stride, 1, true);
    snprintf(name, sizeof name, "%s.conv3x3.norm", block);
    y = zoo_bn(z, name, y, SSCMA_ACT_NONE);
    snprintf(name, sizeof name, "%s.dense_norm", block);
    int32_t dense = zoo_bn(z, name, y, SSCMA_ACT_NONE);
    for (int k = 0; k < REP_DEPTH; k++) {
        snprintf(name, sizeof name, "%s.norm.%d", block, k);
        int32_t res = zoo_bn(z, name, y, SSCMA_ACT_NONE);
        if (k > 0) {
            snprintf(name, sizeof name, "%s.dense_add.%d", block, k);
            const int32_t in[2] = {res, dense};
            res = zoo_op(z, name, "add", NULL, in, 2);
        }
        snprintf(name, sizeof name, "%s.conv.%d.conv", block, k);
        int32_t c = zoo_conv(z, name, y, cout, 1, 1, 1, true);
        snprintf(name, sizeof name, "%s.conv.%d.norm", block, k);
        c = zoo_bn(z, name, c, SSCMA_ACT_NONE);
        snprintf(name, sizeof name, "%s.add.%d", block, k);
        const int32_t in[2] = {c, res};
        y = zoo_op(z, name, "add", NULL, in, 2);
    }
    snprintf(name, sizeof name, "%s.act", block);
    const sscma_act_attrs none = {0.0f};
    return zoo_op(z, name, "relu", &none, &y, 1);
}

static bool sscma_naming(json_t *cfg)
{
    const char *type = json_string_value(json_object_get(cfg, "type"));
    return type != NULL && strcmp(type, "MobileNetv2") == 0;
}

static bool read_config(zoo *z, json_t *cfg, mobilenetv2_cfg *c)
{
    const char *reader = sscma_naming(cfg) ? "MobileNetv2" : "MobileNetV2";
    if (!zoo_read(z, mobilenetv2_fields, cfg, reader, "model.backbone", c) ||
        !zoo_read_norm_type(z, cfg, reader, "model.backbone"))
        return false;
    if (c->in_channels == 0)
        c->in_channels = c->gray_input ? 1 : 3;
    if (c->rep && !sscma_naming(cfg)) {
        zoo_fail(z, reader, "model.backbone", "rep", "only SSCMA's MobileNetv2 has re-parameterisable blocks "
                 "(type \"MobileNetv2\")");
        return false;
    }
    if (c->rep && c->n_channels > 0) {
        zoo_fail(z, reader, "model.backbone", "channels", "per-layer widths (a pruned model) are not built with rep");
        return false;
    }
    return true;
}

int64_t zoo_mobilenetv2_in_channels(zoo *z, json_t *cfg)
{
    mobilenetv2_cfg c;
    return read_config(z, cfg, &c) ? c.in_channels : 0;
}

static bool is_batch_norm(const sscma_node *nd)
{
    return strcmp(nd->def->name, "batch_norm") == 0 || strcmp(nd->def->name, "batch_norm_act") == 0;
}

/*
 * mmcls' and mmdet's MobileNetV2._freeze_stages and train(): frozen_stages >= 0 turns off the gradients of the
 * stem (conv1; its batch norm keeps training its statistics, as upstream leaves conv1 in training mode); stages
 * 1..frozen_stages (layer1..) lose their gradients and run their batch norms in evaluation form. norm_eval puts every
 * batch norm of the backbone in evaluation form. Nodes [first, stem_end) are the stem, stage_end[k] ends stage k+1.
 */
static void freeze(zoo *z, const mobilenetv2_cfg *c, int32_t first, int32_t stem_end, const int32_t *stage_end,
                   int n_stages)
{
    sscma_graph *g = z->g;
    int64_t k = c->frozen_stages < n_stages ? c->frozen_stages : n_stages; /* stages built: up to out_indices */
    int32_t frozen_end = k < 0 ? first : k == 0 ? stem_end : stage_end[k - 1];
    for (int32_t n = first; n < g->n_nodes; n++) {
        sscma_node *nd = &g->nodes[n];
        if (n < frozen_end)
            for (int32_t i = 0; i < nd->n_in; i++)
                if (g->values[nd->in[i]].kind == SSCMA_VALUE_PARAM)
                    g->values[nd->in[i]].flags &= ~SSCMA_PARAM_TRAINABLE;
        if (is_batch_norm(nd) && (c->norm_eval || (n >= stem_end && n < frozen_end)))
            nd->frozen = true;
    }
}

sscma_status zoo_build_mobilenetv2(zoo *z, json_t *cfg, const char *prefix, int32_t x, int32_t *outs,
                                   int32_t *n_outs)
{
    bool sscma_names = sscma_naming(cfg);
    const char *reader = sscma_names ? "MobileNetv2" : "MobileNetV2", *path = "model.backbone";
    mobilenetv2_cfg c;
    if (!read_config(z, cfg, &c))
        return z->st;
    double widen = c.widen_factor;
    int64_t in_channels = c.in_channels;
    int64_t *out_indices = c.out_indices;
    int32_t n_idx = c.n_out_indices;
    if (n_idx == 0) /* the last stage: torchvision's classifier features, SSCMA's backbone output */
        out_indices[0] = sscma_names ? 6 : 7, n_idx = 1;
    for (int32_t i = 0; i < n_idx; i++)
        if (sscma_names && out_indices[i] > 6)
            return zoo_expected(z, reader, path, "out_indices", "a list of 1 to 8 integers (each an integer 0..6)",
                                json_object_get(cfg, "out_indices"));
    if (zoo_desc(z, x)->dims[3] != in_channels)
        return zoo_fail(z, reader, path, "in_channels", "expected %lld (the image's channels), got %lld",
                        (long long)zoo_desc(z, x)->dims[3], (long long)in_channels);
    int64_t last_stage = 0;
    for (int32_t i = 0; i < n_idx; i++)
        last_stage = out_indices[i] > last_stage ? out_indices[i] : last_stage;
    char name[128];
    int32_t first = z->g->n_nodes, stem_end, stage_end[7];
    int n_stages = 0;
    /* widths: widen_factor's, or the per-layer list (each full conv's output, in build order) of a pruned model;
     * the residual adds stay where widen_factor's widths put them */
    int32_t next = 0, n_full = 1 + (last_stage == 7 ? 1 : 0);
    for (int stage = 0; stage <= (int)last_stage && stage < 7; stage++)
        n_full += settings[stage][2] * (settings[stage][0] == 1 ? 1 : 2);
    if (c.n_channels > 0 && c.n_channels != n_full)
        return zoo_fail(z, reader, path, "channels", "expected %d widths (the output channels of every conv but the "
                        "depthwise ones, in order), got %d", (int)n_full, (int)c.n_channels);
#define WIDTH(nominal) (c.n_channels > 0 ? c.channels[next++] : (nominal))
    snprintf(name, sizeof name, sscma_names ? "%s.conv1.conv" : "%s.features.0.0", prefix);
    int64_t nominal_in = zoo_make_divisible(32.0 * widen, 8);
    int32_t y = zoo_conv(z, name, x, WIDTH(nominal_in), 3, 2, 1, false);
    snprintf(name, sizeof name, sscma_names ? "%s.conv1.norm" : "%s.features.0.1", prefix);
    y = zoo_bn(z, name, y, SSCMA_ACT_RELU6);
    stem_end = z->g->n_nodes;
    int block = 1;
    *n_outs = 0;
    for (int stage = 0; stage <= (int)last_stage && stage < 7; stage++) {
        int64_t cout = zoo_make_divisible(settings[stage][1] * widen, 8);
        for (int i = 0; i < settings[stage][2]; i++, block++) {
            if (sscma_names)
                snprintf(name, sizeof name, "%s.layer%d.%d", prefix, stage + 1, i);
            else
                snprintf(name, sizeof name, "%s.features.%d", prefix, block);
            int t = settings[stage][0], stride = i == 0 ? settings[stage][3] : 1;
            if (y < 0)
                break;
            if (c.rep) {
                y = rep_conv1x1(z, name, y, 2 * cout, stride);
                continue;
            }
            int64_t cin = zoo_desc(z, y)->dims[3];
            int64_t hidden = t == 1 ? cin : WIDTH(nominal_in * t), out = WIDTH(cout);
            bool residual = stride == 1 && nominal_in == cout;
            if (residual && out != cin)
                return zoo_fail(z, reader, path, "channels", "%s: the residual add joins %lld and %lld channels",
                                name, (long long)cin, (long long)out);
            y = zoo_inverted_residual_widths(z, name, y, hidden, out, stride, t, residual, sscma_names);
            nominal_in = cout;
        }
        stage_end[n_stages++] = z->g->n_nodes;
        for (int32_t k = 0; k < n_idx; k++)
            if (out_indices[k] == stage)
                outs[(*n_outs)++] = y;
    }
    if (last_stage == 7) {
        snprintf(name, sizeof name, "%s.features.%d.0", prefix, block);
        y = zoo_conv(z, name, y, WIDTH(zoo_make_divisible(1280.0 * (widen > 1.0 ? widen : 1.0), 8)), 1, 1, 1,
                     false);
        snprintf(name, sizeof name, "%s.features.%d.1", prefix, block);
        y = zoo_bn(z, name, y, SSCMA_ACT_RELU6);
        outs[(*n_outs)++] = y;
    }
#undef WIDTH
    if (z->st == SSCMA_OK)
        freeze(z, &c, first, stem_end, stage_end, n_stages);
    return z->st;
}
