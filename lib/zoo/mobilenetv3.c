/*
 * MobileNetV3 (Howard et al. 2019), small and large, in the two layouts SSCMA's recipes use:
 *
 * mmcls's MobileNetV3 (SSCMA's classification recipes, "mmcls.MobileNetV3"; the ImageClassifier's backbone):
 *   layer0          3x3 conv stride 2, 3 -> 16, BN, HSwish                       (layer0.conv, layer0.bn)
 *   layer1..L       inverted residuals: [expand_conv] 1x1 + BN + act, depthwise_conv kxk + BN + act,
 *                   [se: GAP, se.conv1.conv 1x1 + bias, ReLU, se.conv2.conv 1x1 + bias, HSigmoid, times the input],
 *                   linear_conv 1x1 + BN; residual where stride 1 and in == out
 *   layer{L+1}      1x1 conv to the last block's mid channels (576 small, 960 large), BN, HSwish
 *   out_indices count layers (0..L+1); absent: the last.
 *
 * SSCMA's own MobileNetV3 (sscma/models/backbones/MobileNetv3.py; PFLD's backbone in pfld_mbv3l_192):
 *   conv1           3x3 conv stride 2, input_channels -> 16 * widen, BN, act_cfg (Hardswish)  (conv1.conv, .norm)
 *   layer1..L       torchvision's InvertedResidual: block.j = ConvNormActivation (block.j.conv / block.j.norm) for
 *                   the expansion (when expanded != input), the depthwise conv, then torchvision's
 *                   SqueezeExcitation (block.j.fc1 / block.j.fc2, both with bias; ReLU, Hardsigmoid), the projection
 *   out_indices count blocks (0..L-1, block i is layer{i+1}); absent: [1]. No final conv. Channels are
 *   make_divisible(c * widen_factor, 8); reduced_tail halves the last three blocks' channels.
 *
 * Both: the squeeze channels are make_divisible(expanded / 4, 8), BN eps 0.001 and momentum 0.01 (norm_cfg may
 * change them), hard-swish y = x relu6(x + 3) / 6 and hard-sigmoid y = relu6(x + 3) / 6.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

typedef struct mbv3_block {
    int kernel, expanded, out;
    bool se, hswish;
    int stride;
} mbv3_block;

/* kernel, expanded, out, SE, hard-swish (else ReLU), stride: the paper's tables (both upstreams use them) */
static const mbv3_block small_blocks[] = {
    {3, 16, 16, true, false, 2},   {3, 72, 24, false, false, 2}, {3, 88, 24, false, false, 1},
    {5, 96, 40, true, true, 2},    {5, 240, 40, true, true, 1},  {5, 240, 40, true, true, 1},
    {5, 120, 48, true, true, 1},   {5, 144, 48, true, true, 1},  {5, 288, 96, true, true, 2},
    {5, 576, 96, true, true, 1},   {5, 576, 96, true, true, 1},
};
static const mbv3_block large_blocks[] = {
    {3, 16, 16, false, false, 1},  {3, 64, 24, false, false, 2}, {3, 72, 24, false, false, 1},
    {5, 72, 40, true, false, 2},   {5, 120, 40, true, false, 1}, {5, 120, 40, true, false, 1},
    {3, 240, 80, false, true, 2},  {3, 200, 80, false, true, 1}, {3, 184, 80, false, true, 1},
    {3, 184, 80, false, true, 1},  {3, 480, 112, true, true, 1}, {3, 672, 112, true, true, 1},
    {5, 672, 160, true, true, 2},  {5, 960, 160, true, true, 1}, {5, 960, 160, true, true, 1},
};

typedef struct mbv3_norm_cfg {
    int type;
    double momentum, eps;
} mbv3_norm_cfg;

/* SyncBN, SyncBatchNorm: BN synchronised over a data-parallel job (graph.h sync_bn) */
static const char *const norm_types[] = {"BN", "SyncBN", "SyncBatchNorm", NULL};

static const sscma_field norm_fields[] = {
    SSCMA_FIELD_ENUM_AS("type", mbv3_norm_cfg, type, 0, norm_types, 0),
    SSCMA_FIELD_RANGE(mbv3_norm_cfg, momentum, 0.01, 0.0, 1.0),
    SSCMA_FIELD_RANGE(mbv3_norm_cfg, eps, 0.001, 1e-12, 1.0),
    SSCMA_FIELD_KEY("requires_grad"),
    SSCMA_FIELD_END,
};

typedef struct mbv3_cfg {
    int arch;
    double widen_factor;
    int64_t input_channels, inchannel, frozen_stages;
    int64_t out_indices[17];
    int32_t n_out_indices;
    bool norm_eval, reduced_tail, dilated, with_cp;
} mbv3_cfg;

static const char *const arch_names[] = {"small", "large", NULL};

/* SSCMA's class: input_channels (PFLD's recipe passes inchannel, which SSCMA's class swallows in **kwargs: read
 * here as the same thing), widen_factor, reduced_tail; dilation is not supported */
static const sscma_field sscma_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_ENUM_AS("arch", mbv3_cfg, arch, 0, arch_names, 0),
    SSCMA_FIELD_RANGE(mbv3_cfg, widen_factor, 1.0, 0.05, 4.0),
    SSCMA_FIELD_RANGE(mbv3_cfg, input_channels, 0, 1, 4),
    SSCMA_FIELD_RANGE(mbv3_cfg, inchannel, 0, 1, 4),
    SSCMA_FIELD_LIST_AS("out_indices", mbv3_cfg, out_indices, offsetof(mbv3_cfg, n_out_indices), 1, 0, 0, 14,
                        SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_RANGE(mbv3_cfg, frozen_stages, -1, -1, -1), /* freezing stages is not supported */
    SSCMA_FIELD(mbv3_cfg, norm_eval, false),
    SSCMA_FIELD(mbv3_cfg, reduced_tail, false),
    SSCMA_FIELD(mbv3_cfg, dilated, false),
    SSCMA_FIELD_KEY("norm_cfg"),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("conv_cfg"),
    SSCMA_FIELD_KEY("pretrained"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

/* mmcls's class: 3 input channels, no width factor */
static const sscma_field mmcls_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_ENUM_AS("arch", mbv3_cfg, arch, 0, arch_names, 0),
    SSCMA_FIELD_LIST_AS("out_indices", mbv3_cfg, out_indices, offsetof(mbv3_cfg, n_out_indices), 1, 0, 0, 16,
                        SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_RANGE(mbv3_cfg, frozen_stages, -1, -1, -1),
    SSCMA_FIELD(mbv3_cfg, norm_eval, false),
    SSCMA_FIELD(mbv3_cfg, with_cp, false), /* activation checkpointing: memory only, same numbers */
    SSCMA_FIELD_KEY("norm_cfg"),
    SSCMA_FIELD_KEY("conv_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

typedef struct mbv3_build {
    zoo *z;
    bool sscma_names;
    float eps, momentum;
} mbv3_build;

static int32_t conv_bn(mbv3_build *b, const char *conv, const char *norm, int32_t x, int64_t cout, int32_t k,
                       int32_t stride, int32_t groups, sscma_act_kind act)
{
    return zoo_bn_cfg(b->z, norm, zoo_conv(b->z, conv, x, cout, k, stride, groups, false), act, b->eps, b->momentum);
}

/* x * hardsigmoid(fc2(relu(fc1(GAP(x))))): both 1x1 convolutions with bias, no norm */
static int32_t squeeze_excite(mbv3_build *b, const char *fc1, const char *fc2, const char *base, int32_t x,
                              int64_t squeeze)
{
    zoo *z = b->z;
    const sscma_act_attrs none = {0.0f};
    char name[200];
    int64_t channels = x >= 0 ? zoo_desc(z, x)->dims[3] : 0;
    snprintf(name, sizeof name, "%s.pool", base);
    int32_t s = zoo_op(z, name, "global_avg_pool", NULL, &x, 1);
    s = zoo_conv(z, fc1, s, squeeze, 1, 1, 1, true);
    snprintf(name, sizeof name, "%s.relu", base);
    s = zoo_op(z, name, "relu", &none, &s, 1);
    s = zoo_conv(z, fc2, s, channels, 1, 1, 1, true);
    snprintf(name, sizeof name, "%s.hsigmoid", base);
    s = zoo_op(z, name, "hardsigmoid", &none, &s, 1);
    snprintf(name, sizeof name, "%s.scale", base);
    const int32_t in[2] = {x, s};
    return zoo_op(z, name, "mul", NULL, in, 2);
}

static int32_t inverted_residual(mbv3_build *b, const char *block, int32_t x, int64_t expanded, int64_t cout,
                                 int32_t kernel, int32_t stride, bool se, sscma_act_kind act)
{
    zoo *z = b->z;
    char conv[160], norm[160], fc2[160];
    int64_t cin = x >= 0 ? zoo_desc(z, x)->dims[3] : 0;
    int32_t y = x, j = 0;
    if (expanded != cin) {
        if (b->sscma_names)
            snprintf(conv, sizeof conv, "%s.block.%d.conv", block, j), snprintf(norm, sizeof norm,
                                                                               "%s.block.%d.norm", block, j);
        else
            snprintf(conv, sizeof conv, "%s.expand_conv.conv", block), snprintf(norm, sizeof norm,
                                                                               "%s.expand_conv.bn", block);
        y = conv_bn(b, conv, norm, y, expanded, 1, 1, 1, act);
        j++;
    }
    if (b->sscma_names)
        snprintf(conv, sizeof conv, "%s.block.%d.conv", block, j), snprintf(norm, sizeof norm, "%s.block.%d.norm",
                                                                           block, j);
    else
        snprintf(conv, sizeof conv, "%s.depthwise_conv.conv", block), snprintf(norm, sizeof norm,
                                                                              "%s.depthwise_conv.bn", block);
    y = conv_bn(b, conv, norm, y, expanded, kernel, stride, (int32_t)expanded, act);
    j++;
    if (se) {
        char base[160];
        if (b->sscma_names) {
            snprintf(conv, sizeof conv, "%s.block.%d.fc1", block, j);
            snprintf(fc2, sizeof fc2, "%s.block.%d.fc2", block, j);
            snprintf(base, sizeof base, "%s.block.%d", block, j);
        } else {
            snprintf(conv, sizeof conv, "%s.se.conv1.conv", block);
            snprintf(fc2, sizeof fc2, "%s.se.conv2.conv", block);
            snprintf(base, sizeof base, "%s.se", block);
        }
        y = squeeze_excite(b, conv, fc2, base, y, zoo_make_divisible((double)(expanded / 4), 8));
        j++;
    }
    if (b->sscma_names)
        snprintf(conv, sizeof conv, "%s.block.%d.conv", block, j), snprintf(norm, sizeof norm, "%s.block.%d.norm",
                                                                           block, j);
    else
        snprintf(conv, sizeof conv, "%s.linear_conv.conv", block), snprintf(norm, sizeof norm, "%s.linear_conv.bn",
                                                                           block);
    y = conv_bn(b, conv, norm, y, cout, 1, 1, 1, SSCMA_ACT_NONE);
    if (stride == 1 && cin == cout) {
        snprintf(conv, sizeof conv, "%s.add", block);
        const int32_t in[2] = {y, x};
        y = zoo_op(z, conv, "add", NULL, in, 2);
    }
    return y;
}

static bool read_config(zoo *z, json_t *cfg, bool sscma_style, mbv3_cfg *c, mbv3_norm_cfg *n)
{
    const char *reader = "MobileNetV3", *path = "model.backbone";
    if (!zoo_read(z, sscma_style ? sscma_fields : mmcls_fields, cfg, reader, path, c))
        return false;
    if (c->dilated)
        return zoo_fail(z, reader, path, "dilated", "true is not supported (dilated convolutions)"), false;
    if (c->input_channels == 0)
        c->input_channels = c->inchannel != 0 ? c->inchannel : 3;
    else if (c->inchannel != 0 && c->inchannel != c->input_channels)
        return zoo_fail(z, reader, path, "inchannel", "expected %lld (input_channels), got %lld",
                        (long long)c->input_channels, (long long)c->inchannel), false;
    n->momentum = 0.01, n->eps = 0.001;
    json_t *norm = json_object_get(cfg, "norm_cfg");
    if (norm != NULL && !json_is_null(norm)) {
        char at[128];
        if (!json_is_object(norm))
            return zoo_expected(z, reader, path, "norm_cfg", "an object such as {\"type\": \"BN\", \"eps\": 0.001}",
                                norm), false;
        if (!zoo_read(z, norm_fields, norm, reader, sscma_schema_path(at, sizeof at, path, "norm_cfg"), n))
            return false;
        if (n->type != 0)
            z->g->sync_bn = true;
    }
    int32_t n_blocks = c->arch == 0 ? 11 : 15, last = sscma_style ? n_blocks - 1 : n_blocks + 1;
    for (int32_t i = 0; i < c->n_out_indices; i++)
        if (c->out_indices[i] > last) {
            char expected[96];
            snprintf(expected, sizeof expected, "a list of integers 0..%d (%s has %d %s)", (int)last,
                     c->arch == 0 ? "small" : "large", (int)last + 1, sscma_style ? "blocks" : "layers");
            return zoo_expected(z, reader, path, "out_indices", expected, json_object_get(cfg, "out_indices")),
                   false;
        }
    if (c->n_out_indices == 0) /* SSCMA's default (1,); mmcls's: the final conv */
        c->out_indices[0] = sscma_style ? 1 : last, c->n_out_indices = 1;
    return true;
}

int64_t zoo_mobilenetv3_in_channels(zoo *z, json_t *cfg, bool sscma_style)
{
    mbv3_cfg c;
    mbv3_norm_cfg n;
    memset(&c, 0, sizeof c);
    return read_config(z, cfg, sscma_style, &c, &n) ? (sscma_style ? c.input_channels : 3) : 0;
}

sscma_status zoo_build_mobilenetv3(zoo *z, json_t *cfg, bool sscma_style, const char *prefix, int32_t x,
                                   int32_t *outs, int32_t *n_outs)
{
    const char *reader = "MobileNetV3", *path = "model.backbone";
    mbv3_cfg c;
    mbv3_norm_cfg n;
    memset(&c, 0, sizeof c);
    if (!read_config(z, cfg, sscma_style, &c, &n))
        return z->st;
    int64_t in_channels = sscma_style ? c.input_channels : 3;
    if (zoo_desc(z, x)->dims[3] != in_channels)
        return zoo_fail(z, reader, path, sscma_style ? "input_channels" : "type",
                        "expected %lld channels (the image's), got %lld", (long long)zoo_desc(z, x)->dims[3],
                        (long long)in_channels);
    sscma_act_kind stem_act = zoo_act(z, cfg, reader, path, SSCMA_ACT_HARDSWISH);
    if (!sscma_style)
        stem_act = SSCMA_ACT_HARDSWISH;
    mbv3_build b = {z, sscma_style, (float)n.eps, (float)n.momentum};
    const mbv3_block *blocks = c.arch == 0 ? small_blocks : large_blocks;
    int32_t n_blocks = c.arch == 0 ? 11 : 15, last = 0;
    for (int32_t i = 0; i < c.n_out_indices; i++)
        last = (int32_t)c.out_indices[i] > last ? (int32_t)c.out_indices[i] : last;
    double widen = sscma_style ? c.widen_factor : 1.0;
    int reduce = sscma_style && c.reduced_tail ? 2 : 1;
    char conv[128], norm[128];
    snprintf(conv, sizeof conv, sscma_style ? "%s.conv1.conv" : "%s.layer0.conv", prefix);
    snprintf(norm, sizeof norm, sscma_style ? "%s.conv1.norm" : "%s.layer0.bn", prefix);
    int32_t y = conv_bn(&b, conv, norm, x, zoo_make_divisible(16.0 * widen, 8), 3, 2, 1, stem_act);
    *n_outs = 0;
    /* mmcls counts the stem as layer 0; SSCMA's indices start at the first block */
    int32_t offset = sscma_style ? 0 : 1;
    if (!sscma_style)
        for (int32_t k = 0; k < c.n_out_indices; k++)
            if (c.out_indices[k] == 0)
                outs[(*n_outs)++] = y;
    for (int32_t i = 0; i < n_blocks && i + offset <= last; i++) {
        const mbv3_block *bl = &blocks[i];
        int64_t expanded = bl->expanded, cout = bl->out;
        if (i >= n_blocks - 3 && reduce > 1) /* the tail: the last three blocks' outputs, the last two's expansion */
            cout /= reduce, expanded = i > n_blocks - 3 ? expanded / reduce : expanded;
        char block[96];
        snprintf(block, sizeof block, "%s.layer%d", prefix, (int)i + 1);
        y = inverted_residual(&b, block, y, zoo_make_divisible((double)expanded * widen, 8),
                              zoo_make_divisible((double)cout * widen, 8), bl->kernel, bl->stride, bl->se,
                              bl->hswish ? SSCMA_ACT_HARDSWISH : SSCMA_ACT_RELU);
        for (int32_t k = 0; k < c.n_out_indices; k++)
            if (c.out_indices[k] == i + offset)
                outs[(*n_outs)++] = y;
    }
    if (!sscma_style && last == n_blocks + 1) {
        snprintf(conv, sizeof conv, "%s.layer%d.conv", prefix, (int)n_blocks + 1);
        snprintf(norm, sizeof norm, "%s.layer%d.bn", prefix, (int)n_blocks + 1);
        y = conv_bn(&b, conv, norm, y, blocks[n_blocks - 1].expanded, 1, 1, 1, SSCMA_ACT_HARDSWISH);
        outs[(*n_outs)++] = y;
    }
    return z->st;
}
