/*
 * RTMDet: SSCMA's RTMDet detector as its main line builds it (ModelAssistant main, configs/rtmdet/
 * rtmdet_nano_8xb32_300e_coco_relu.py and _ncadc_relu6.py; sscma/models: CSPNeXt, CSPNeXtPAFPN, RTMDetHead with
 * RTMDetSepBNHeadModule, the mmyolo forms of mmdet's parts):
 *   backbone  CSPNeXt (arch P5): stem of three 3x3 ConvModules (/2, 1, 1) to int(64 w / 2), int(64 w / 2),
 *             int(64 w); stage1..4 = 3x3/2 ConvModule, [SPPBottleneck in stage4], CSPLayer of CSPNeXtBlocks
 *             (3x3 ConvModule, then a depthwise-separable 5x5: depthwise ConvModule + pointwise ConvModule; the
 *             identity added in stages 1-3) with channel attention when asked (global average pool, 1x1 conv with
 *             bias, hard sigmoid, times the input); out_indices (2, 3, 4): strides 8, 16, 32
 *   SPP       SPPBottleneck: 1x1 conv to half, concat of it and its max pools of 5, 9, 13 (or, with
 *             split_max_pool_kernel, chains of 2, 4, 6 max pools of 3x3: the same numbers), 1x1 conv
 *   neck      CSPNeXtPAFPN (mmyolo's BaseYOLONeck): 1x1 reduce of P5, top-down (nearest 2x, concat upsampled first,
 *             CSPLayer without identity, + 1x1 conv on the first), bottom-up (3x3/2 conv, concat, CSPLayer), and a
 *             3x3 out conv per level to int(out_channels w)
 *   head      RTMDetSepBNHeadModule (share_conv false): per level its own stacked 3x3 ConvModules for classes and
 *             for boxes, then 1x1 convs with bias rtm_cls (C) and rtm_reg (4)
 * Channels int(c w) (Python's truncation), CSP blocks max(round(n d), 1) in the backbone and round(n d) in the neck
 * (round half to even). Every ConvModule is conv without bias, batch norm, the act_cfg's activation (ReLU/ReLU6).
 * Parameter names are the state_dict names of SSCMA's modules (backbone.stage1.1.blocks.0.conv2.depthwise_conv.bn.
 * running_var, neck.out_layers.2.conv.weight, bbox_head.head_module.rtm_cls.0.bias, ...).
 * Outputs (NHWC): cls_0..2 the raw class logits [N, H_l, W_l, C]; reg_0..2 the box distances [N, H_l, W_l, 4]
 * (left, top, right, bottom in input pixels: rtm_reg times the level's stride, as RTMDetHead multiplies before the
 * coder); pred: rtmdet_decode of them, yolo_decode's layout (cx, cy, w, h, 1, sigmoid scores) for CocoMetric and
 * infer. The loss (QualityFocalLoss + GIoULoss with DynamicSoftLabelAssigner) is attached by rtmdet_add_loss().
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

#define RTM_LEVELS 3

static const int64_t rtm_strides[RTM_LEVELS] = {8, 16, 32};
/* CSPNeXt's P5 arch: in, out, blocks, add_identity, use_spp */
static const int64_t cspnext_p5[4][5] = {
    {64, 128, 3, 1, 0}, {128, 256, 6, 1, 0}, {256, 512, 6, 1, 0}, {512, 1024, 3, 0, 1}};

/* max(round(n * d), 1) with Python's round (ties to even); `at_least_one` false: round(n * d) as the neck has it */
static int64_t rtm_round(int64_t n, double d, bool at_least_one)
{
    double r = nearbyint((double)n * d);
    return at_least_one && r < 1.0 ? 1 : (int64_t)r;
}

/* int(c * w): Python truncates */
static int64_t rtm_width(double c, double w)
{
    return (int64_t)(c * w);
}

/* ---- config ---- */

typedef struct rtm_cfg {
    int64_t input_size[2];
    int32_t n_input_size;
} rtm_cfg;

static const sscma_field rtm_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("backbone"),
    SSCMA_FIELD_KEY("neck"),
    SSCMA_FIELD_KEY("bbox_head"),
    SSCMA_FIELD_KEY("train_cfg"), /* the assigner's settings: read with the loss */
    SSCMA_FIELD_KEY("test_cfg"),  /* NMS settings: read by the post-processing */
    SSCMA_FIELD_KEY("init_cfg"),
    ZOO_INPUT_SIZE_FIELD(rtm_cfg, 640, 32),
    SSCMA_FIELD_END,
};

typedef struct backbone_cfg {
    int arch;
    double deepen_factor, widen_factor, expand_ratio;
    int64_t out_indices[3];
    int32_t n_out_indices;
    int64_t frozen_stages;
    bool use_depthwise, split_max_pool_kernel, channel_attention, norm_eval;
    int64_t spp_kernel_sizes[3];
    int32_t n_spp_kernel_sizes;
    json_t *arch_ovewrite, *conv_cfg;
} backbone_cfg;

static const char *const arch_names[] = {"P5", NULL};

static const sscma_field backbone_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_ENUM_AS("arch", backbone_cfg, arch, 0, arch_names, 0),
    SSCMA_FIELD_RANGE(backbone_cfg, deepen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(backbone_cfg, widen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(backbone_cfg, expand_ratio, 0.5, 0.01, 4.0),
    SSCMA_FIELD_LIST_AS("out_indices", backbone_cfg, out_indices, offsetof(backbone_cfg, n_out_indices), 3, 0, 0, 4,
                        0),
    SSCMA_FIELD_RANGE(backbone_cfg, frozen_stages, -1, -1, -1), /* freezing stages is not supported */
    SSCMA_FIELD(backbone_cfg, use_depthwise, false),
    SSCMA_FIELD_LIST_AS("spp_kernel_sizes", backbone_cfg, spp_kernel_sizes,
                        offsetof(backbone_cfg, n_spp_kernel_sizes), 1, 0, 3, 31, 0),
    SSCMA_FIELD(backbone_cfg, split_max_pool_kernel, false),
    SSCMA_FIELD(backbone_cfg, channel_attention, true),
    SSCMA_FIELD(backbone_cfg, norm_eval, false),
    SSCMA_FIELD_JSON_AS("arch_ovewrite", backbone_cfg, arch_ovewrite), /* sic, mmdet's spelling */
    SSCMA_FIELD_JSON_AS("conv_cfg", backbone_cfg, conv_cfg),
    SSCMA_FIELD_KEY("norm_cfg"),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

typedef struct neck_cfg {
    double deepen_factor, widen_factor, expand_ratio;
    int64_t in_channels[RTM_LEVELS];
    int32_t n_in_channels;
    int64_t out_channels, num_csp_blocks;
    bool freeze_all, use_depthwise;
    json_t *conv_cfg, *upsample_cfg;
} neck_cfg;

static const sscma_field neck_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(neck_cfg, deepen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(neck_cfg, widen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(neck_cfg, expand_ratio, 0.5, 0.01, 4.0),
    SSCMA_FIELD_LIST_AS("in_channels", neck_cfg, in_channels, offsetof(neck_cfg, n_in_channels), 3, 0, 1, 100000,
                        SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_AS("out_channels", neck_cfg, out_channels, 0, true, 1, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_RANGE(neck_cfg, num_csp_blocks, 3, 1, 100),
    SSCMA_FIELD(neck_cfg, freeze_all, false),
    SSCMA_FIELD(neck_cfg, use_depthwise, false),
    SSCMA_FIELD_JSON_AS("conv_cfg", neck_cfg, conv_cfg),
    SSCMA_FIELD_JSON_AS("upsample_cfg", neck_cfg, upsample_cfg),
    SSCMA_FIELD_KEY("norm_cfg"),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

static const sscma_field head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("head_module"),
    SSCMA_FIELD_KEY("prior_generator"),
    SSCMA_FIELD_KEY("bbox_coder"),
    /* the loss's keys: read where the loss is attached (rtmdet_add_loss) */
    SSCMA_FIELD_KEY("loss_cls"),
    SSCMA_FIELD_KEY("loss_bbox"),
    SSCMA_FIELD_KEY("max_boxes"),
    SSCMA_FIELD_KEY("train_cfg"),
    SSCMA_FIELD_KEY("test_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

typedef struct head_module_cfg {
    int64_t num_classes, in_channels, feat_channels, stacked_convs, num_base_priors, pred_kernel_size;
    double widen_factor;
    int64_t featmap_strides[RTM_LEVELS];
    int32_t n_featmap_strides;
    bool share_conv;
    json_t *conv_cfg;
} head_module_cfg;

static const sscma_field head_module_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("num_classes", head_module_cfg, num_classes, 0, true, 1, 1000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_AS("in_channels", head_module_cfg, in_channels, 0, true, 1, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_RANGE(head_module_cfg, widen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(head_module_cfg, num_base_priors, 1, 1, 1),
    SSCMA_FIELD_RANGE(head_module_cfg, feat_channels, 256, 1, 100000),
    SSCMA_FIELD_RANGE(head_module_cfg, stacked_convs, 2, 0, 16),
    SSCMA_FIELD_LIST_AS("featmap_strides", head_module_cfg, featmap_strides,
                        offsetof(head_module_cfg, n_featmap_strides), 3, 0, 1, 1024, 0),
    SSCMA_FIELD(head_module_cfg, share_conv, true),
    SSCMA_FIELD_RANGE(head_module_cfg, pred_kernel_size, 1, 1, 7),
    SSCMA_FIELD_JSON_AS("conv_cfg", head_module_cfg, conv_cfg),
    SSCMA_FIELD_KEY("norm_cfg"),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

typedef struct prior_cfg {
    int64_t strides[RTM_LEVELS];
    int32_t n_strides;
    double offset;
} prior_cfg;

static const sscma_field prior_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_LIST_AS("strides", prior_cfg, strides, offsetof(prior_cfg, n_strides), 3, 0, 1, 1024, 0),
    SSCMA_FIELD_RANGE(prior_cfg, offset, 0.5, 0.0, 1.0), /* MlvlPointGenerator's default; RTMDetHead's is 0 */
    SSCMA_FIELD_END,
};

typedef struct coder_cfg {
    bool clip_border;
} coder_cfg;

static const sscma_field coder_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD(coder_cfg, clip_border, true), /* no effect: the head decodes without max_shape */
    SSCMA_FIELD_END,
};

static const char *const backbone_types[] = {"CSPNeXt", "mmdet.CSPNeXt", "sscma.CSPNeXt", NULL};
static const char *const neck_types[] = {"CSPNeXtPAFPN", "mmyolo.CSPNeXtPAFPN", "sscma.CSPNeXtPAFPN", NULL};
static const char *const head_types[] = {"RTMDetHead", "mmyolo.RTMDetHead", "sscma.RTMDetHead", NULL};
static const char *const head_module_types[] = {"RTMDetSepBNHeadModule", "mmyolo.RTMDetSepBNHeadModule",
                                                "sscma.RTMDetSepBNHeadModule", NULL};
static const char *const prior_types[] = {"MlvlPointGenerator", "mmdet.MlvlPointGenerator", NULL};
static const char *const coder_types[] = {"DistancePointBBoxCoder", "mmdet.DistancePointBBoxCoder", NULL};

/* One part's layer settings: its batch norm and activation. */
typedef struct part {
    zoo *z;
    zoo_layer_cfg l;
} part;

/* BN momentum and eps: CSPNeXt's default norm_cfg; PyTorch's BatchNorm2d (CSPNeXtPAFPN's and the head's "BN", and
 * any norm_cfg given without them, as SSCMA's {"type": BatchNorm2d}) */
static const double cspnext_bn[2] = {0.03, 0.001}, pytorch_bn[2] = {0.1, 1e-5};

/* A part's norm_cfg (absent: the part's class defaults `absent_mt`; given: its keys, else PyTorch's) and act_cfg
 * (absent: SiLU, refused). */
static bool read_part(zoo *z, json_t *cfg, const char *reader, const char *path, const double absent_mt[2], part *p)
{
    p->z = z;
    return zoo_read_layer_cfg(z, cfg, reader, path, absent_mt, pytorch_bn, "absent means SiLU (mmdet's default), "
                              "which RTMDet does not build yet; SSCMA's RTMDet configs set {\"type\": \"ReLU\"} or "
                              "{\"type\": \"ReLU6\"}", &p->l);
}

/* conv_cfg: only null (a plain Conv2d) */
static bool plain_conv(zoo *z, const char *reader, const char *path, json_t *conv_cfg)
{
    if (conv_cfg != NULL && !json_is_null(conv_cfg))
        zoo_fail(z, reader, path, "conv_cfg", "only null (PyTorch's Conv2d) is supported");
    return z->st == SSCMA_OK;
}

/* ---- layers ---- */

/* mmcv's ConvModule with the part's BN and activation. */
static int32_t conv_module(part *p, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride,
                           int32_t groups)
{
    return zoo_conv_module(p->z, name, x, cout, k, stride, groups, p->l.act, p->l.eps, p->l.momentum);
}

/* ChannelAttention: x * hardsigmoid(fc(global_avg_pool(x))), fc a 1x1 conv with bias. */
static int32_t channel_attention(part *p, const char *name, int32_t x)
{
    char n[320];
    snprintf(n, sizeof n, "%s.global_avgpool", name);
    int32_t pooled = zoo_op(p->z, n, "global_avg_pool", NULL, &x, 1);
    snprintf(n, sizeof n, "%s.fc", name);
    int32_t fc = zoo_conv(p->z, n, pooled, zoo_desc(p->z, x)->dims[3], 1, 1, 1, true);
    snprintf(n, sizeof n, "%s.act", name);
    sscma_act_attrs none = {0};
    int32_t gate = zoo_op(p->z, n, "hardsigmoid", &none, &fc, 1);
    snprintf(n, sizeof n, "%s.mul", name);
    const int32_t in[2] = {x, gate};
    return zoo_op(p->z, n, "mul", NULL, in, 2);
}

/* CSPLayer with CSPNeXtBlocks: final_conv([attention](concat(blocks(main_conv(x)), short_conv(x)))); a block is a
 * 3x3 ConvModule and a DepthwiseSeparableConvModule of kernel 5 (+ its input when add_identity). */
static int32_t csp_layer(part *p, const char *name, int32_t x, int64_t cout, int64_t blocks, bool add_identity,
                         double expand_ratio, bool attention)
{
    char n[256], m[256];
    int64_t mid = (int64_t)((double)cout * expand_ratio);
    snprintf(n, sizeof n, "%s.main_conv", name);
    int32_t y = conv_module(p, n, x, mid, 1, 1, 1);
    snprintf(n, sizeof n, "%s.short_conv", name);
    int32_t shortcut = conv_module(p, n, x, mid, 1, 1, 1);
    for (int64_t j = 0; j < blocks; j++) {
        snprintf(n, sizeof n, "%s.blocks.%lld.conv1", name, (long long)j);
        int32_t h = conv_module(p, n, y, mid, 3, 1, 1);
        snprintf(m, sizeof m, "%s.blocks.%lld.conv2.depthwise_conv", name, (long long)j);
        h = conv_module(p, m, h, mid, 5, 1, (int32_t)mid);
        snprintf(m, sizeof m, "%s.blocks.%lld.conv2.pointwise_conv", name, (long long)j);
        h = conv_module(p, m, h, mid, 1, 1, 1);
        if (add_identity) {
            snprintf(n, sizeof n, "%s.blocks.%lld.add", name, (long long)j);
            const int32_t in[2] = {h, y};
            h = zoo_op(p->z, n, "add", NULL, in, 2);
        }
        y = h;
    }
    snprintf(n, sizeof n, "%s.concat", name);
    const int32_t both[2] = {y, shortcut};
    int32_t cat = zoo_concat(p->z, n, both, 2);
    if (attention) {
        snprintf(n, sizeof n, "%s.attention", name);
        cat = channel_attention(p, n, cat);
    }
    snprintf(n, sizeof n, "%s.final_conv", name);
    return conv_module(p, n, cat, cout, 1, 1, 1);
}

/* SPPBottleneck: conv1 to half, concat of it and its max pools (kernel k, stride 1, pad k / 2; split: (k - 1) / 2
 * chained 3x3 pools, which give the same maxima), conv2. */
static int32_t spp_bottleneck(part *p, const char *name, int32_t x, int64_t cout, const int64_t *kernels,
                              int32_t n_kernels, bool split)
{
    char n[256];
    int32_t y[4];
    snprintf(n, sizeof n, "%s.conv1", name);
    y[0] = conv_module(p, n, x, zoo_desc(p->z, x)->dims[3] / 2, 1, 1, 1);
    for (int32_t i = 0; i < n_kernels; i++) {
        int32_t k = (int32_t)kernels[i];
        if (!split) {
            sscma_pool_attrs pool = {k, k, 1, 1, k / 2, k / 2, false, false};
            snprintf(n, sizeof n, "%s.poolings.%d", name, (int)i);
            y[i + 1] = zoo_op(p->z, n, "max_pool", &pool, &y[0], 1);
            continue;
        }
        sscma_pool_attrs pool = {3, 3, 1, 1, 1, 1, false, false};
        int32_t t = y[0];
        for (int32_t j = 0; j < (k - 1) / 2; j++) {
            snprintf(n, sizeof n, "%s.poolings.%d.%d", name, (int)i, (int)j);
            t = zoo_op(p->z, n, "max_pool", &pool, &t, 1);
        }
        y[i + 1] = t;
    }
    snprintf(n, sizeof n, "%s.concat", name);
    int32_t cat = zoo_concat(p->z, n, y, n_kernels + 1);
    snprintf(n, sizeof n, "%s.conv2", name);
    return conv_module(p, n, cat, cout, 1, 1, 1);
}

/* ---- the parts ---- */

static sscma_status build_backbone(zoo *z, json_t *cfg, int32_t image, int32_t *feats)
{
    const char *reader = "CSPNeXt", *path = "model.backbone";
    backbone_cfg b;
    part p;
    if (!zoo_read(z, backbone_fields, cfg, reader, path, &b) || !read_part(z, cfg, reader, path, cspnext_bn, &p) ||
        !plain_conv(z, reader, path, b.conv_cfg))
        return z->st;
    if (b.n_out_indices == 3 && (b.out_indices[0] != 2 || b.out_indices[1] != 3 || b.out_indices[2] != 4))
        return zoo_expected(z, reader, path, "out_indices", "[2, 3, 4] (the three levels the neck takes)",
                            json_object_get(cfg, "out_indices"));
    if (b.arch_ovewrite != NULL && !json_is_null(b.arch_ovewrite))
        return zoo_fail(z, reader, path, "arch_ovewrite", "is not supported (P5's arch only)");
    if (b.use_depthwise)
        return zoo_fail(z, reader, path, "use_depthwise", "true is not supported");
    if (b.norm_eval)
        return zoo_fail(z, reader, path, "norm_eval", "true is not supported (batch norm statistics always train)");
    int64_t kernels[3] = {5, 9, 13};
    int32_t n_kernels = 3;
    if (b.n_spp_kernel_sizes > 0) {
        n_kernels = b.n_spp_kernel_sizes;
        memcpy(kernels, b.spp_kernel_sizes, sizeof kernels);
    }
    for (int32_t i = 0; i < n_kernels; i++)
        if (kernels[i] % 2 == 0)
            return zoo_expected(z, reader, path, "spp_kernel_sizes", "odd kernel sizes (3 to 31)",
                                json_object_get(cfg, "spp_kernel_sizes"));
    if (zoo_desc(z, image)->dims[3] != 3)
        return zoo_fail(z, reader, path, NULL, "CSPNeXt's stem takes 3 image channels, the image has %lld",
                        (long long)zoo_desc(z, image)->dims[3]);
    const double w = b.widen_factor;
    const int64_t stem = rtm_width(64.0, w), half = (int64_t)floor(64.0 * w / 2.0);
    int32_t x = conv_module(&p, "backbone.stem.0", image, half, 3, 2, 1);
    x = conv_module(&p, "backbone.stem.1", x, half, 3, 1, 1);
    x = conv_module(&p, "backbone.stem.2", x, stem, 3, 1, 1);
    char name[64];
    for (int s = 0; s < 4; s++) {
        int64_t cout = rtm_width((double)cspnext_p5[s][1], w);
        int k = 0;
        snprintf(name, sizeof name, "backbone.stage%d.%d", s + 1, k++);
        x = conv_module(&p, name, x, cout, 3, 2, 1);
        if (cspnext_p5[s][4]) {
            snprintf(name, sizeof name, "backbone.stage%d.%d", s + 1, k++);
            x = spp_bottleneck(&p, name, x, cout, kernels, n_kernels, b.split_max_pool_kernel);
        }
        snprintf(name, sizeof name, "backbone.stage%d.%d", s + 1, k);
        x = csp_layer(&p, name, x, cout, rtm_round(cspnext_p5[s][2], b.deepen_factor, true), cspnext_p5[s][3] != 0,
                      b.expand_ratio, b.channel_attention);
        if (s >= 1)
            feats[s - 1] = x;
    }
    return z->st;
}

static bool check_width(zoo *z, const char *reader, const char *path, int level, int64_t want, int32_t x)
{
    return zoo_check_width(z, reader, path, "int(in_channels * widen_factor)", level, want, x);
}

static sscma_status build_neck(zoo *z, json_t *cfg, const int32_t *feats, int32_t *outs)
{
    const char *reader = "CSPNeXtPAFPN", *path = "model.neck";
    neck_cfg nk;
    part p;
    if (!zoo_read(z, neck_fields, cfg, reader, path, &nk) || !read_part(z, cfg, reader, path, pytorch_bn, &p) ||
        !plain_conv(z, reader, path, nk.conv_cfg))
        return z->st;
    if (nk.freeze_all)
        return zoo_fail(z, reader, path, "freeze_all", "true is not supported");
    if (nk.use_depthwise)
        return zoo_fail(z, reader, path, "use_depthwise", "true is not supported");
    if (nk.upsample_cfg != NULL && !json_is_null(nk.upsample_cfg)) {
        /* nn.Upsample's arguments: scale_factor 2 and mode "nearest" (its default) only */
        json_t *sf = json_object_get(nk.upsample_cfg, "scale_factor"), *mode = json_object_get(nk.upsample_cfg, "mode");
        bool ok = json_is_object(nk.upsample_cfg) &&
                  json_object_size(nk.upsample_cfg) == 1 + (size_t)(mode != NULL) && json_is_number(sf) &&
                  json_number_value(sf) == 2.0 &&
                  (mode == NULL || (json_is_string(mode) && strcmp(json_string_value(mode), "nearest") == 0));
        if (!ok)
            return zoo_expected(z, reader, path, "upsample_cfg", "{\"scale_factor\": 2, \"mode\": \"nearest\"}",
                                nk.upsample_cfg);
    }
    int64_t c[RTM_LEVELS];
    for (int l = 0; l < RTM_LEVELS; l++) {
        c[l] = rtm_width((double)nk.in_channels[l], nk.widen_factor);
        if (!check_width(z, reader, path, l, c[l], feats[l]))
            return z->st;
    }
    const int64_t n = rtm_round(nk.num_csp_blocks, nk.deepen_factor, false);
    const int64_t out_c = rtm_width((double)nk.out_channels, nk.widen_factor);
    if (n < 1)
        return zoo_fail(z, reader, path, "num_csp_blocks", "round(%lld * deepen_factor) is 0: a CSP layer needs a "
                        "block", (long long)nk.num_csp_blocks);
    const double er = nk.expand_ratio;
    /* top-down: reduce P5, upsample, concat (upsampled first), CSP (+ 1x1 conv to c[0] on the first) */
    int32_t reduced = conv_module(&p, "neck.reduce_layers.2", feats[2], c[1], 1, 1, 1);
    int32_t in[2] = {zoo_upsample2x(z, "neck.upsample_layers.0", reduced), feats[1]};
    int32_t cat = zoo_concat(z, "neck.top_down_cat.0", in, 2);
    int32_t t = csp_layer(&p, "neck.top_down_layers.0.0", cat, c[1], n, false, er, false);
    int32_t inner = conv_module(&p, "neck.top_down_layers.0.1", t, c[0], 1, 1, 1);
    in[0] = zoo_upsample2x(z, "neck.upsample_layers.1", inner), in[1] = feats[0];
    cat = zoo_concat(z, "neck.top_down_cat.1", in, 2);
    int32_t low = csp_layer(&p, "neck.top_down_layers.1", cat, c[0], n, false, er, false);
    /* bottom-up: 3x3/2 conv, concat with the top-down feature of that level, CSP */
    in[0] = conv_module(&p, "neck.downsample_layers.0", low, c[0], 3, 2, 1), in[1] = inner;
    cat = zoo_concat(z, "neck.bottom_up_cat.0", in, 2);
    int32_t mid = csp_layer(&p, "neck.bottom_up_layers.0", cat, c[1], n, false, er, false);
    in[0] = conv_module(&p, "neck.downsample_layers.1", mid, c[1], 3, 2, 1), in[1] = reduced;
    cat = zoo_concat(z, "neck.bottom_up_cat.1", in, 2);
    int32_t high = csp_layer(&p, "neck.bottom_up_layers.1", cat, c[2], n, false, er, false);
    const int32_t levels[RTM_LEVELS] = {low, mid, high};
    char name[64];
    for (int l = 0; l < RTM_LEVELS; l++) {
        snprintf(name, sizeof name, "neck.out_layers.%d", l);
        outs[l] = conv_module(&p, name, levels[l], out_c, 3, 1, 1);
    }
    return z->st;
}

/* RTMDetSepBNHeadModule.init_weights: every conv weight N(0, 0.01), biases 0, rtm_cls's bias -log(99) (prior 0.01). */
static sscma_status head_init(zoo *z, int32_t from, int64_t classes)
{
    for (int32_t i = from; i < z->g->n_values; i++) {
        sscma_value *v = &z->g->values[i];
        if (v->kind == SSCMA_VALUE_PARAM && v->desc.rank == 4)
            v->init = SSCMA_INIT_NORMAL, v->init_scale = 0.01f;
    }
    float offset[1000];
    for (int64_t k = 0; k < classes; k++)
        offset[k] = (float)-log((1.0 - 0.01) / 0.01);
    char name[64];
    for (int l = 0; l < RTM_LEVELS; l++) {
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_cls.%d.bias", l);
        int32_t bias = sscma_graph_find(z->g, name);
        if (bias < 0)
            return zoo_fail(z, "RTMDetSepBNHeadModule", "model.bbox_head.head_module", NULL, "internal: no %s", name);
        if ((z->st = sscma_graph_set_init_offset(z->g, bias, offset)) != SSCMA_OK)
            return z->st;
    }
    return SSCMA_OK;
}

/* The head: per level its own stacked convs and BNs for classes and boxes, rtm_cls and rtm_reg (times the stride). */
static sscma_status build_head(zoo *z, json_t *head, const int32_t *feats, int32_t *cls, int32_t *reg)
{
    const char *reader = "RTMDetHead", *path = "model.bbox_head", *mreader = "RTMDetSepBNHeadModule",
               *mpath = "model.bbox_head.head_module";
    int which = 0;
    head_module_cfg h;
    prior_cfg pr;
    coder_cfg cc;
    part p;
    if (!zoo_read(z, head_fields, head, reader, path, &which)) /* keys only: nothing is stored */
        return z->st;
    json_t *module = zoo_part(z, head, path, "head_module", head_module_types, false, &which);
    if (!zoo_read(z, head_module_fields, module, mreader, mpath, &h) ||
        !read_part(z, module, mreader, mpath, pytorch_bn, &p) || !plain_conv(z, mreader, mpath, h.conv_cfg))
        return z->st;
    if (h.share_conv)
        return zoo_fail(z, mreader, mpath, "share_conv", "true (the default) is not supported: SSCMA's RTMDet "
                        "configs set false (each level its own convs)");
    if (h.pred_kernel_size % 2 == 0)
        return zoo_expected(z, mreader, mpath, "pred_kernel_size", "an odd kernel size",
                            json_object_get(module, "pred_kernel_size"));
    json_t *prior = zoo_part(z, head, path, "prior_generator", prior_types, true, &which);
    char at[96];
    snprintf(at, sizeof at, "%s.prior_generator", path);
    if (!zoo_read(z, prior_fields, prior, "MlvlPointGenerator", at, &pr))
        return z->st;
    if (prior == NULL)
        pr.offset = 0.0; /* RTMDetHead's default prior_generator */
    if (pr.offset != 0.0)
        return zoo_fail(z, "MlvlPointGenerator", at, "offset", "only 0 (RTMDetHead's points at the cells' corners) is "
                        "supported, got %g", pr.offset);
    json_t *coder = zoo_part(z, head, path, "bbox_coder", coder_types, true, &which);
    snprintf(at, sizeof at, "%s.bbox_coder", path);
    if (!zoo_read(z, coder_fields, coder, "DistancePointBBoxCoder", at, &cc))
        return z->st;
    const int64_t *strides[2] = {h.n_featmap_strides ? h.featmap_strides : NULL, pr.n_strides ? pr.strides : NULL};
    const char *stride_keys[2] = {"featmap_strides", "strides"};
    const char *stride_paths[2] = {mpath, "model.bbox_head.prior_generator"};
    for (int k = 0; k < 2; k++)
        if (strides[k] != NULL && (strides[k][0] != 8 || strides[k][1] != 16 || strides[k][2] != 32))
            return zoo_expected(z, reader, stride_paths[k], stride_keys[k], "[8, 16, 32] (the strides of P3, P4, P5)",
                                json_object_get(k == 0 ? module : prior, stride_keys[k]));
    const int64_t cin = rtm_width((double)h.in_channels, h.widen_factor);
    const int64_t feat = rtm_width((double)h.feat_channels, h.widen_factor);
    const int32_t first = z->g->n_values;
    char name[128];
    for (int l = 0; l < RTM_LEVELS; l++) {
        if (!check_width(z, mreader, mpath, l, cin, feats[l]))
            return z->st;
        int32_t c = feats[l], r = feats[l];
        for (int64_t i = 0; i < h.stacked_convs; i++) {
            snprintf(name, sizeof name, "bbox_head.head_module.cls_convs.%d.%lld", l, (long long)i);
            c = conv_module(&p, name, c, feat, 3, 1, 1);
            snprintf(name, sizeof name, "bbox_head.head_module.reg_convs.%d.%lld", l, (long long)i);
            r = conv_module(&p, name, r, feat, 3, 1, 1);
        }
        const int32_t k = (int32_t)h.pred_kernel_size;
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_cls.%d", l);
        cls[l] = zoo_conv(z, name, c, h.num_classes, k, 1, 1, true);
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_reg.%d", l);
        int32_t dist = zoo_conv(z, name, r, 4, k, 1, 1, true);
        /* RTMDetHead multiplies the distances by the level's stride (a constant of the graph) */
        const int64_t one[4] = {1, 1, 1, 1};
        int32_t s = -1;
        snprintf(name, sizeof name, "bbox_head.stride.%d", l);
        if (z->st != SSCMA_OK ||
            (z->st = sscma_graph_add_param(z->g, name, SSCMA_VALUE_CONST, 4, one, 0, SSCMA_INIT_ZEROS, 0.0f, &s)) !=
                SSCMA_OK)
            return z->st;
        *(float *)z->g->values[s].data = (float)rtm_strides[l];
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_reg.%d.stride", l);
        const int32_t in[2] = {dist, s};
        reg[l] = zoo_op(z, name, "mul", NULL, in, 2);
    }
    if (z->st != SSCMA_OK)
        return z->st;
    return head_init(z, first, h.num_classes);
}

/* ---- the loss (rtmdet_loss: mmyolo's RTMDetHead.loss_by_feat, lib/ops/loss_rtmdet.c) ---- */

typedef struct rtm_loss_part {
    double loss_weight, beta, eps;
    bool use_sigmoid;
} rtm_loss_part;

static const sscma_field qfl_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD(rtm_loss_part, use_sigmoid, true),
    SSCMA_FIELD_RANGE(rtm_loss_part, beta, 2.0, 0.0, 100.0),
    SSCMA_FIELD_RANGE(rtm_loss_part, loss_weight, 1.0, 0.0, 1000.0),
    SSCMA_FIELD_KEY("reduction"),
    SSCMA_FIELD_KEY("activated"),
    SSCMA_FIELD_END,
};

static const sscma_field giou_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(rtm_loss_part, loss_weight, 2.0, 0.0, 1000.0),
    SSCMA_FIELD_RANGE(rtm_loss_part, eps, 1e-6, 0.0, 1.0),
    SSCMA_FIELD_KEY("reduction"),
    SSCMA_FIELD_END,
};

typedef struct rtm_assigner_cfg {
    int64_t topk;
    double iou_weight, soft_center_radius;
} rtm_assigner_cfg;

static const sscma_field assigner_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("num_classes"), /* the head's, which the loss reads from its maps */
    SSCMA_FIELD_RANGE(rtm_assigner_cfg, topk, 13, 1, SSCMA_RTMDET_MAX_TOPK),
    SSCMA_FIELD_RANGE(rtm_assigner_cfg, iou_weight, 3.0, 0.0, 1000.0),
    SSCMA_FIELD_RANGE(rtm_assigner_cfg, soft_center_radius, 3.0, 0.0, 1000.0),
    SSCMA_FIELD_KEY("iou_calculator"),
    SSCMA_FIELD_KEY("batch_iou"),
    SSCMA_FIELD_END,
};

typedef struct rtm_head_loss_cfg {
    int64_t max_boxes;
} rtm_head_loss_cfg;

static const sscma_field head_loss_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("head_module"),
    SSCMA_FIELD_KEY("prior_generator"),
    SSCMA_FIELD_KEY("bbox_coder"),
    SSCMA_FIELD_KEY("loss_cls"),
    SSCMA_FIELD_KEY("loss_bbox"),
    SSCMA_FIELD_RANGE(rtm_head_loss_cfg, max_boxes, 100, 1, 100000), /* libsscma's: the BoxTarget's rows */
    SSCMA_FIELD_KEY("train_cfg"),
    SSCMA_FIELD_KEY("test_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

static const char *const qfl_types[] = {"QualityFocalLoss", "mmdet.QualityFocalLoss", NULL};
static const char *const giou_types[] = {"GIoULoss", "mmdet.GIoULoss", NULL};
static const char *const assigner_types[] = {"BatchDynamicSoftLabelAssigner", "mmyolo.BatchDynamicSoftLabelAssigner",
                                             "DynamicSoftLabelAssigner", "mmdet.DynamicSoftLabelAssigner", NULL};

/*
 * The rtmdet_loss node on (cls_0..2, reg_0..2, target): bbox_head.loss_cls (QualityFocalLoss: beta, loss_weight),
 * loss_bbox (GIoULoss: loss_weight, eps), model.train_cfg.assigner (topk, iou_weight, soft_center_radius; mmyolo's
 * BatchDynamicSoftLabelAssigner, which SSCMA's configs use; mmdet's per-image name is read as the same) and
 * bbox_head.max_boxes (the "target" input's rows, default 100); each absent key takes SSCMA's value.
 */
static sscma_status rtmdet_add_loss(zoo *z, json_t *cfg, json_t *head, const int32_t *cls, const int32_t *reg,
                                    sscma_model_io_table *io)
{
    const char *path = "model.bbox_head";
    int which = 0;
    rtm_head_loss_cfg h;
    if (!zoo_read(z, head_loss_fields, head, "RTMDetHead", path, &h))
        return z->st;
    sscma_rtmdet_loss_attrs a;
    if ((z->st = sscma_op_parse_attrs(sscma_op_find("rtmdet_loss"), NULL, &a)) != SSCMA_OK)
        return z->st;
    rtm_loss_part qfl = {1.0, 2.0, 0.0, true}, giou = {2.0, 0.0, 1e-6, true};
    json_t *cfg_part = zoo_part(z, head, path, "loss_cls", qfl_types, true, &which);
    if (z->st == SSCMA_OK && cfg_part != NULL) {
        if (!zoo_read(z, qfl_fields, cfg_part, "QualityFocalLoss", "model.bbox_head.loss_cls", &qfl))
            return z->st;
        if (!qfl.use_sigmoid)
            return zoo_fail(z, "QualityFocalLoss", "model.bbox_head.loss_cls", "use_sigmoid",
                            "only the sigmoid form (true) is supported, as RTMDet uses it");
    }
    cfg_part = z->st == SSCMA_OK ? zoo_part(z, head, path, "loss_bbox", giou_types, true, &which) : NULL;
    if (z->st == SSCMA_OK && cfg_part != NULL &&
        !zoo_read(z, giou_fields, cfg_part, "GIoULoss", "model.bbox_head.loss_bbox", &giou))
        return z->st;
    rtm_assigner_cfg as = {13, 3.0, 3.0};
    json_t *train_cfg = json_object_get(cfg, "train_cfg");
    cfg_part = z->st == SSCMA_OK && json_is_object(train_cfg)
               ? zoo_part(z, train_cfg, "model.train_cfg", "assigner", assigner_types, true, &which)
               : NULL;
    if (z->st == SSCMA_OK && cfg_part != NULL &&
        !zoo_read(z, assigner_fields, cfg_part, "BatchDynamicSoftLabelAssigner", "model.train_cfg.assigner", &as))
        return z->st;
    if (z->st != SSCMA_OK)
        return z->st;
    a.n_strides = RTM_LEVELS;
    for (int l = 0; l < RTM_LEVELS; l++)
        a.strides[l] = rtm_strides[l];
    a.topk = (int32_t)as.topk;
    a.iou_weight = (float)as.iou_weight, a.soft_center_radius = (float)as.soft_center_radius;
    a.beta = (float)qfl.beta, a.loss_cls_weight = (float)qfl.loss_weight;
    a.loss_bbox_weight = (float)giou.loss_weight, a.eps = (float)giou.eps;
    const int64_t target_dims[3] = {1, h.max_boxes, 6};
    if ((z->st = sscma_graph_add_input(z->g, "target", SSCMA_DTYPE_F32, 3, target_dims, SSCMA_INPUT_TARGET,
                                       &io->target)) != SSCMA_OK)
        return z->st;
    const int32_t loss_in[7] = {cls[0], cls[1], cls[2], reg[0], reg[1], reg[2], io->target};
    int32_t loss = zoo_op(z, "loss", "rtmdet_loss", &a, loss_in, 7);
    if (z->st != SSCMA_OK)
        return z->st;
    io->loss = loss;
    io->outputs[io->n_outputs] = loss, io->output_names[io->n_outputs] = "loss";
    io->n_outputs++;
    return SSCMA_OK;
}

sscma_status zoo_build_rtmdet(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    rtm_cfg rc;
    int which = 0;
    if (!zoo_read(z, rtm_fields, cfg, "RTMDet", "model", &rc))
        return z->st;
    int64_t size[2];
    zoo_image_size(rc.input_size, rc.n_input_size, size);
    if (size[0] % 32 != 0 || size[1] % 32 != 0) /* the P5 grid is the image / 32, exactly */
        return zoo_fail(z, "RTMDet", "model", "input_size", "%lldx%lld is not a multiple of the largest stride 32",
                        (long long)size[0], (long long)size[1]);
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &which);
    json_t *neck = zoo_part(z, cfg, "model", "neck", neck_types, false, &which);
    json_t *head = zoo_part(z, cfg, "model", "bbox_head", head_types, false, &which);
    if (z->st != SSCMA_OK)
        return z->st;
    const int64_t image_dims[4] = {1, size[0], size[1], 3};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, image_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    int32_t first = z->g->n_values;
    int32_t feats[RTM_LEVELS], neck_outs[RTM_LEVELS], cls[RTM_LEVELS], reg[RTM_LEVELS];
    if (build_backbone(z, backbone, io->image, feats) != SSCMA_OK || build_neck(z, neck, feats, neck_outs) != SSCMA_OK)
        return z->st;
    /* CSPNeXt's and CSPNeXtPAFPN's init_cfg: Kaiming (a = sqrt(5), uniform, fan_in); conv biases (the attention's
     * fc) stay 0 */
    zoo_uniform_fan_in_init(z, first);
    if (build_head(z, head, neck_outs, cls, reg) != SSCMA_OK)
        return z->st;
    static const char *const cls_names[RTM_LEVELS] = {"cls_0", "cls_1", "cls_2"};
    static const char *const reg_names[RTM_LEVELS] = {"reg_0", "reg_1", "reg_2"};
    int32_t maps[2 * RTM_LEVELS];
    for (int l = 0; l < RTM_LEVELS; l++) {
        io->outputs[l] = cls[l], io->output_names[l] = cls_names[l];
        io->outputs[RTM_LEVELS + l] = reg[l], io->output_names[RTM_LEVELS + l] = reg_names[l];
        maps[l] = cls[l], maps[RTM_LEVELS + l] = reg[l];
    }
    /* pred: the maps decoded to boxes in pixels and sigmoid scores, yolo_decode's layout */
    sscma_rtmdet_decode_attrs dec;
    memset(&dec, 0, sizeof dec);
    dec.n_strides = RTM_LEVELS;
    for (int l = 0; l < RTM_LEVELS; l++)
        dec.strides[l] = (int32_t)rtm_strides[l];
    io->outputs[2 * RTM_LEVELS] = zoo_op(z, "pred", "rtmdet_decode", &dec, maps, 2 * RTM_LEVELS);
    io->output_names[2 * RTM_LEVELS] = "pred";
    io->n_outputs = 2 * RTM_LEVELS + 1;
    if (z->st != SSCMA_OK)
        return z->st;
    return rtmdet_add_loss(z, cfg, head, cls, reg, io);
}
