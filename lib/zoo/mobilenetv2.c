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
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

static const int settings[7][4] = {
    /* t, c, n, s */
    {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
};

int32_t zoo_inverted_residual(zoo *z, const char *block, int32_t x, int64_t cout, int stride, int t, bool sscma_names)
{
    char name[256]; /* block names are shorter than 128 (see below) */
    const char *conv_leaf = sscma_names ? "conv" : "0", *norm_leaf = sscma_names ? "norm" : "1";
    int64_t cin = zoo_desc(z, x)->dims[3], hidden = cin * t;
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
    if (stride == 1 && cin == cout) {
        snprintf(name, sizeof name, "%s.add", block);
        const int32_t in[2] = {y, x};
        y = zoo_op(z, name, "add", NULL, in, 2);
    }
    return y;
}

sscma_status zoo_build_mobilenetv2(zoo *z, json_t *cfg, const char *prefix, int32_t x, int32_t *outs,
                                   int32_t *n_outs)
{
    static const char *const keys[] = {"type", "widen_factor", "in_channels", "gray_input", "out_indices", NULL};
    double widen = 1.0;
    int64_t in_channels = 3, out_indices[8] = {7};
    int32_t n_idx = 1;
    const char *type = json_string_value(json_object_get(cfg, "type"));
    bool sscma_names = type != NULL && strcmp(type, "MobileNetv2") == 0;
    if (sscma_names)
        out_indices[0] = 6;
    if (!zoo_check_keys(z, cfg, sscma_names ? "MobileNetv2" : "MobileNetV2", keys) ||
        !zoo_float(z, cfg, "widen_factor", 1.0, 0.05, 4.0, &widen) ||
        !zoo_int(z, cfg, "in_channels", json_is_true(json_object_get(cfg, "gray_input")) ? 1 : 3, 1, 4, &in_channels) ||
        !zoo_int_list(z, cfg, "out_indices", 0, sscma_names ? 6 : 7, out_indices, 8, &n_idx))
        return z->st;
    if (zoo_desc(z, x)->dims[3] != in_channels)
        return z->st = sscma_fail(SSCMA_ERR_CONFIG, z->where, "in_channels is %lld but the image has %lld channels",
                                  (long long)in_channels, (long long)zoo_desc(z, x)->dims[3]);
    int64_t last_stage = 0;
    for (int32_t i = 0; i < n_idx; i++)
        last_stage = out_indices[i] > last_stage ? out_indices[i] : last_stage;
    char name[128];
    snprintf(name, sizeof name, sscma_names ? "%s.conv1.conv" : "%s.features.0.0", prefix);
    int32_t y = zoo_conv(z, name, x, zoo_make_divisible(32.0 * widen, 8), 3, 2, 1, false);
    snprintf(name, sizeof name, sscma_names ? "%s.conv1.norm" : "%s.features.0.1", prefix);
    y = zoo_bn(z, name, y, SSCMA_ACT_RELU6);
    int block = 1;
    *n_outs = 0;
    for (int stage = 0; stage <= (int)last_stage && stage < 7; stage++) {
        int64_t cout = zoo_make_divisible(settings[stage][1] * widen, 8);
        for (int i = 0; i < settings[stage][2]; i++, block++) {
            if (sscma_names)
                snprintf(name, sizeof name, "%s.layer%d.%d", prefix, stage + 1, i);
            else
                snprintf(name, sizeof name, "%s.features.%d", prefix, block);
            y = zoo_inverted_residual(z, name, y, cout, i == 0 ? settings[stage][3] : 1, settings[stage][0],
                                      sscma_names);
        }
        for (int32_t k = 0; k < n_idx; k++)
            if (out_indices[k] == stage)
                outs[(*n_outs)++] = y;
    }
    if (last_stage == 7) {
        snprintf(name, sizeof name, "%s.features.%d.0", prefix, block);
        y = zoo_conv(z, name, y, zoo_make_divisible(1280.0 * (widen > 1.0 ? widen : 1.0), 8), 1, 1, 1, false);
        snprintf(name, sizeof name, "%s.features.%d.1", prefix, block);
        y = zoo_bn(z, name, y, SSCMA_ACT_RELU6);
        outs[(*n_outs)++] = y;
    }
    return z->st;
}
