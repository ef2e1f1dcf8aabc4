/*
 * YOLODetector: SSCMA's Swift-YOLO, which is mmyolo's YOLOv5 (configs/swift_yolo of ModelAssistant) with ReLU:
 *   backbone  YOLOv5CSPDarknet (arch P5): stem 6x6/2 conv, stage1..4 = 3x3/2 conv + CSPLayer (bottlenecks with
 *             the identity added), stage4 ends in SPPF (three chained 5x5 max pools); out_indices (2, 3, 4) give
 *             the features at strides 8, 16, 32
 *   neck      YOLOv5PAFPN: 1x1 reduce of P5, top-down (nearest 2x upsampling, concat, CSPLayer without identity,
 *             1x1 conv), bottom-up (3x3/2 conv, concat, CSPLayer)
 *   bbox_head YOLOv5Head with YOLOv5HeadModule (SSCMA's DetHead): one 1x1 conv with bias per level to 3 * (5 + C)
 * Every conv of the backbone and neck is mmcv's ConvModule (conv without bias, BN with the norm_cfg's momentum and
 * eps, the act_cfg's activation). Channels are make_divisible(c * widen_factor, 8) rounded up, block counts
 * make_round(n * deepen_factor) with Python's round (half to even), at least 1.
 * Parameter names are mmyolo's state_dict names (backbone.stage1.1.blocks.0.conv2.bn.running_var, ...).
 * Outputs: the raw prediction maps p3, p4, p5, NHWC [N, H / s, W / s, 3 * (5 + C)], channel a * (5 + C) + k for
 * prior a and attribute k (x, y, w, h, objectness, class scores), as mmyolo's head module gives them.
 * The priors (bbox_head.prior_generator.base_sizes, pixels) are a constant of the graph,
 * bbox_head.prior_generator.base_sizes [3 levels, 3 priors, (w, h)], for the loss and the box decoding.
 * pred: the maps through yolo_decode (boxes in pixels, sigmoid scores) for CocoMetric and infer. loss: yolov5_loss
 * against the "target" input, a BoxTarget [N, max_boxes, 6] (bbox_head.max_boxes, default 100), with SSCMA's loss
 * weights unless bbox_head.loss_* give loss_weight.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

#define YOLO_LEVELS 3
#define YOLO_PRIORS 3

static const int64_t yolo_strides[YOLO_LEVELS] = {8, 16, 32};
static const double sscma_anchors[YOLO_LEVELS][YOLO_PRIORS][2] = {
    {{10, 13}, {16, 30}, {33, 23}}, {{30, 61}, {62, 45}, {59, 119}}, {{116, 90}, {156, 198}, {373, 326}}};
/* YOLOv5CSPDarknet's P5 arch: in, out, blocks, SPPF after the CSP layer (every stage adds the identity) */
static const int64_t p5_arch[4][4] = {{64, 128, 3, 0}, {128, 256, 6, 0}, {256, 512, 9, 0}, {512, 1024, 3, 1}};

/* mmyolo's make_divisible: ceil(x * widen_factor / 8) * 8 */
static int64_t yolo_make_divisible(double x, double widen_factor)
{
    return (int64_t)ceil(x * widen_factor / 8.0) * 8;
}

/* mmyolo's make_round: max(round(x * deepen_factor), 1) for x > 1, with Python's round (ties to even) */
static int64_t yolo_make_round(int64_t x, double deepen_factor)
{
    if (x <= 1)
        return x;
    double r = nearbyint((double)x * deepen_factor);
    return r < 1.0 ? 1 : (int64_t)r;
}

/* ---- config ---- */

typedef struct yolo_cfg {
    int64_t input_size[2];
    int32_t n_input_size;
} yolo_cfg;

static const sscma_field yolo_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("backbone"),
    SSCMA_FIELD_KEY("neck"),
    SSCMA_FIELD_KEY("bbox_head"),
    SSCMA_FIELD_KEY("train_cfg"), /* the loss's assigner settings: read with the loss */
    SSCMA_FIELD_KEY("test_cfg"),  /* NMS settings: read by the post-processing */
    SSCMA_FIELD_KEY("init_cfg"),
    ZOO_INPUT_SIZE_FIELD(yolo_cfg, 640, 32),
    SSCMA_FIELD_END,
};

typedef struct backbone_cfg {
    int arch;
    double deepen_factor, widen_factor;
    int64_t input_channels, frozen_stages;
    int64_t out_indices[3];
    int32_t n_out_indices;
    bool norm_eval;
    json_t *plugins;
} backbone_cfg;

static const char *const arch_names[] = {"P5", NULL};

static const sscma_field backbone_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_ENUM_AS("arch", backbone_cfg, arch, 0, arch_names, 0),
    SSCMA_FIELD_RANGE(backbone_cfg, deepen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(backbone_cfg, widen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(backbone_cfg, input_channels, 3, 1, 4),
    SSCMA_FIELD_LIST_AS("out_indices", backbone_cfg, out_indices, offsetof(backbone_cfg, n_out_indices), 3, 0, 0, 4,
                        0),
    SSCMA_FIELD_RANGE(backbone_cfg, frozen_stages, -1, -1, -1), /* freezing stages is not supported */
    SSCMA_FIELD(backbone_cfg, norm_eval, false),
    SSCMA_FIELD_JSON_AS("plugins", backbone_cfg, plugins),
    SSCMA_FIELD_KEY("norm_cfg"),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

typedef struct neck_cfg {
    double deepen_factor, widen_factor;
    int64_t in_channels[YOLO_LEVELS];
    int32_t n_in_channels;
    int64_t num_csp_blocks;
    bool freeze_all;
} neck_cfg;

static const sscma_field neck_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(neck_cfg, deepen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(neck_cfg, widen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_LIST_AS("in_channels", neck_cfg, in_channels, offsetof(neck_cfg, n_in_channels), 3, 0, 1, 100000, 0),
    SSCMA_FIELD_KEY("out_channels"), /* YOLOv5PAFPN does not use it: its outputs have the in_channels widths */
    SSCMA_FIELD_RANGE(neck_cfg, num_csp_blocks, 1, 1, 100),
    SSCMA_FIELD(neck_cfg, freeze_all, false),
    SSCMA_FIELD_KEY("norm_cfg"),
    SSCMA_FIELD_KEY("act_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

static const sscma_field head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("head_module"),
    SSCMA_FIELD_KEY("prior_generator"),
    /* the loss's keys: accepted here, read where the loss is attached (not yet) */
    SSCMA_FIELD_KEY("bbox_coder"),
    SSCMA_FIELD_KEY("loss_cls"),
    SSCMA_FIELD_KEY("loss_bbox"),
    SSCMA_FIELD_KEY("loss_obj"),
    SSCMA_FIELD_KEY("prior_match_thr"),
    SSCMA_FIELD_KEY("near_neighbor_thr"),
    SSCMA_FIELD_KEY("ignore_iof_thr"),
    SSCMA_FIELD_KEY("obj_level_weights"),
    SSCMA_FIELD_KEY("max_boxes"),
    SSCMA_FIELD_KEY("train_cfg"),
    SSCMA_FIELD_KEY("test_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

/* The loss keys of bbox_head (mmyolo's YOLOv5Head): each loss's loss_weight, when given, replaces SSCMA's formula
 * (configs/swift_yolo/base_arch.py: cls 0.5 (C / 80) (3 / L), bbox 0.05 (3 / L), obj ((W / 640)^2) (3 / L)). */
typedef struct loss_part_cfg {
    double loss_weight;
    double eps;
} loss_part_cfg;

static const sscma_field loss_part_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("use_sigmoid"),
    SSCMA_FIELD_KEY("reduction"),
    SSCMA_FIELD_KEY("iou_mode"),
    SSCMA_FIELD_KEY("bbox_format"),
    SSCMA_FIELD_KEY("return_iou"),
    SSCMA_FIELD_RANGE(loss_part_cfg, loss_weight, -1.0, 0.0, 1000.0),
    SSCMA_FIELD_RANGE(loss_part_cfg, eps, 1e-7, 0.0, 1.0),
    SSCMA_FIELD_END,
};

typedef struct head_loss_cfg {
    double prior_match_thr, near_neighbor_thr;
    double obj_level_weights[3];
    int32_t n_obj_level_weights;
    int64_t max_boxes;
} head_loss_cfg;

static const sscma_field head_loss_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("head_module"),
    SSCMA_FIELD_KEY("prior_generator"),
    SSCMA_FIELD_KEY("bbox_coder"),
    SSCMA_FIELD_KEY("loss_cls"),
    SSCMA_FIELD_KEY("loss_bbox"),
    SSCMA_FIELD_KEY("loss_obj"),
    SSCMA_FIELD_KEY("ignore_iof_thr"),
    SSCMA_FIELD_KEY("train_cfg"),
    SSCMA_FIELD_KEY("test_cfg"),
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_RANGE(head_loss_cfg, prior_match_thr, 4.0, 1.0, 1000.0),
    SSCMA_FIELD_RANGE(head_loss_cfg, near_neighbor_thr, 0.5, 0.0, 1.0),
    SSCMA_FIELD_LIST_AS("obj_level_weights", head_loss_cfg, obj_level_weights,
                        offsetof(head_loss_cfg, n_obj_level_weights), 3, 0.0, 0.0, 1000.0, 0),
    SSCMA_FIELD_RANGE(head_loss_cfg, max_boxes, 100, 1, 100000), /* libsscma's: the BoxTarget's rows */
    SSCMA_FIELD_END,
};

static const char *const loss_ce_types[] = {"mmdet.CrossEntropyLoss", "CrossEntropyLoss", NULL};
static const char *const loss_iou_types[] = {"IoULoss", "mmyolo.IoULoss", NULL};

/* bbox_head's loss settings into yolov5_loss's attributes (SSCMA's weights where the config gives none). */
static sscma_status read_loss(zoo *z, json_t *head, int64_t classes, const int64_t size[2], const float *anchors,
                              sscma_yolov5_loss_attrs *a, int64_t *max_boxes)
{
    const char *path = "model.bbox_head";
    head_loss_cfg h;
    if (!zoo_read(z, head_loss_fields, head, "YOLOv5Head", path, &h))
        return z->st;
    const double per_level = 3.0 / 3.0;
    double weights[3] = {0.5 * ((double)classes / 80.0) * per_level, 0.05 * per_level,
                         pow((double)size[1] / 640.0, 2.0) * per_level};
    static const char *const keys[3] = {"loss_cls", "loss_bbox", "loss_obj"};
    float eps = 1e-7f;
    for (int k = 0; k < 3; k++) {
        int which = 0;
        json_t *part = zoo_part(z, head, path, keys[k], k == 1 ? loss_iou_types : loss_ce_types, true, &which);
        if (z->st != SSCMA_OK)
            return z->st;
        if (part == NULL)
            continue;
        char at[64];
        snprintf(at, sizeof at, "%s.%s", path, keys[k]);
        loss_part_cfg lc;
        if (!zoo_read(z, loss_part_fields, part, k == 1 ? "IoULoss" : "CrossEntropyLoss", at, &lc))
            return z->st;
        if (lc.loss_weight >= 0.0)
            weights[k] = lc.loss_weight;
        if (k == 1)
            eps = (float)lc.eps;
    }
    memset(a, 0, sizeof *a);
    a->n_anchors = 18; /* (w, h) per prior, P3's first: the graph constant's order */
    memcpy(a->anchors, anchors, sizeof a->anchors);
    a->n_strides = 3;
    a->strides[0] = 8, a->strides[1] = 16, a->strides[2] = 32;
    a->n_obj_level_weights = 3;
    const double def_levels[3] = {4.0, 1.0, 0.4};
    for (int l = 0; l < 3; l++)
        a->obj_level_weights[l] = (float)(h.n_obj_level_weights == 3 ? h.obj_level_weights[l] : def_levels[l]);
    a->prior_match_thr = (float)h.prior_match_thr;
    a->near_neighbor_thr = (float)h.near_neighbor_thr;
    a->loss_cls_weight = (float)weights[0];
    a->loss_bbox_weight = (float)weights[1];
    a->loss_obj_weight = (float)weights[2];
    a->eps = eps;
    a->img_h = size[0], a->img_w = size[1];
    *max_boxes = h.max_boxes;
    return SSCMA_OK;
}

typedef struct head_module_cfg {
    int64_t num_classes;
    int64_t in_channels[YOLO_LEVELS];
    int32_t n_in_channels;
    double widen_factor;
    int64_t num_base_priors;
    int64_t featmap_strides[YOLO_LEVELS];
    int32_t n_featmap_strides;
    json_t *anchors;
} head_module_cfg;

static const sscma_field head_module_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("num_classes", head_module_cfg, num_classes, 0, true, 1, 1000, SSCMA_FIELD_REQUIRED),
    /* one number: the same for every level, as mmyolo allows */
    SSCMA_FIELD_LIST_AS("in_channels", head_module_cfg, in_channels, offsetof(head_module_cfg, n_in_channels), 1, 0,
                        1, 100000, SSCMA_FIELD_SCALAR_LIST),
    SSCMA_FIELD_RANGE(head_module_cfg, widen_factor, 1.0, 0.01, 4.0),
    SSCMA_FIELD_RANGE(head_module_cfg, num_base_priors, 3, 3, 3),
    SSCMA_FIELD_LIST_AS("featmap_strides", head_module_cfg, featmap_strides,
                        offsetof(head_module_cfg, n_featmap_strides), 3, 0, 1, 1024, 0),
    SSCMA_FIELD_JSON_AS("anchors", head_module_cfg, anchors), /* SSCMA's DetHead keeps its own copy */
    SSCMA_FIELD_KEY("init_cfg"),
    SSCMA_FIELD_END,
};

typedef struct prior_cfg {
    json_t *base_sizes;
    int64_t strides[YOLO_LEVELS];
    int32_t n_strides;
} prior_cfg;

static const sscma_field prior_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_JSON_AS("base_sizes", prior_cfg, base_sizes),
    SSCMA_FIELD_LIST_AS("strides", prior_cfg, strides, offsetof(prior_cfg, n_strides), 3, 0, 1, 1024, 0),
    SSCMA_FIELD_END,
};

static const char *const backbone_types[] = {"YOLOv5CSPDarknet", NULL};
static const char *const neck_types[] = {"YOLOv5PAFPN", NULL};
static const char *const head_types[] = {"YOLOv5Head", "YOLOV5Head", NULL}; /* mmyolo's, SSCMA's spelling */
static const char *const head_module_types[] = {"YOLOv5HeadModule", "DetHead", NULL};
static const char *const prior_types[] = {"YOLOAnchorGenerator", NULL};

/* Anchors as [[[w, h] x 3] x 3] of positive numbers into a[level][prior][w, h]; false after a failure. */
static bool read_anchors(zoo *z, const char *reader, const char *path, const char *key, json_t *v,
                         double a[YOLO_LEVELS][YOLO_PRIORS][2])
{
    bool ok = json_is_array(v) && json_array_size(v) == YOLO_LEVELS;
    for (size_t l = 0; ok && l < YOLO_LEVELS; l++) {
        json_t *level = json_array_get(v, l);
        ok = json_is_array(level) && json_array_size(level) == YOLO_PRIORS;
        for (size_t p = 0; ok && p < YOLO_PRIORS; p++) {
            json_t *wh = json_array_get(level, p);
            ok = json_is_array(wh) && json_array_size(wh) == 2;
            for (size_t k = 0; ok && k < 2; k++) {
                json_t *n = json_array_get(wh, k);
                ok = json_is_number(n) && json_number_value(n) > 0.0 && json_number_value(n) <= 1e5;
                if (ok)
                    a[l][p][k] = json_number_value(n);
            }
        }
    }
    if (!ok)
        zoo_expected(z, reader, path, key, "3 levels of 3 [w, h] pairs of positive numbers (pixels)", v);
    return ok;
}

/* The norm_cfg (absent, or without momentum / eps: mmyolo's BN momentum 0.03, eps 0.001) and act_cfg of a part. */
static bool read_norm_act(zoo *z, json_t *part, const char *reader, const char *path, zoo_layer_cfg *l)
{
    static const double mmyolo_bn[2] = {0.03, 0.001};
    return zoo_read_layer_cfg(z, part, reader, path, mmyolo_bn, mmyolo_bn, "absent means SiLU (mmyolo's default), "
                              "which YOLODetector does not build yet; Swift-YOLO's configs set {\"type\": \"ReLU\", "
                              "\"inplace\": true}", l);
}

/* ---- layers ---- */

/* One part's layer settings: its batch norm and activation. */
typedef struct part {
    zoo *z;
    zoo_layer_cfg l;
} part;

/* mmcv's ConvModule (padding (k - 1) / 2: 2 for the 6x6 stem as mmyolo pads it) with the part's BN and act. */
static int32_t conv_module(part *p, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride)
{
    return zoo_conv_module(p->z, name, x, cout, k, stride, 1, p->l.act, p->l.eps, p->l.momentum);
}

/* mmdet's CSPLayer (expand ratio 0.5): final_conv(concat(blocks(main_conv(x)), short_conv(x))); each block is a
 * DarknetBottleneck (1x1 conv, 3x3 conv, + its input when add_identity). */
static int32_t csp_layer(part *p, const char *name, int32_t x, int64_t cout, int64_t blocks, bool add_identity)
{
    char n[256], m[256];
    int64_t mid = cout / 2; /* int(out_channels * 0.5) */
    snprintf(n, sizeof n, "%s.main_conv", name);
    int32_t y = conv_module(p, n, x, mid, 1, 1);
    snprintf(n, sizeof n, "%s.short_conv", name);
    int32_t shortcut = conv_module(p, n, x, mid, 1, 1);
    for (int64_t j = 0; j < blocks; j++) {
        snprintf(n, sizeof n, "%s.blocks.%lld.conv1", name, (long long)j);
        snprintf(m, sizeof m, "%s.blocks.%lld.conv2", name, (long long)j);
        int32_t h = conv_module(p, m, conv_module(p, n, y, mid, 1, 1), mid, 3, 1);
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
    snprintf(n, sizeof n, "%s.final_conv", name);
    return conv_module(p, n, cat, cout, 1, 1);
}

/* mmyolo's SPPFBottleneck (kernel 5): conv1 to half, three chained 5x5/1 max pools, concat of the four, conv2. */
static int32_t sppf(part *p, const char *name, int32_t x, int64_t cout)
{
    char n[256];
    snprintf(n, sizeof n, "%s.conv1", name);
    int32_t y[4];
    y[0] = conv_module(p, n, x, zoo_desc(p->z, x)->dims[3] / 2, 1, 1);
    sscma_pool_attrs pool = {5, 5, 1, 1, 2, 2, false, false};
    for (int i = 1; i < 4; i++) {
        snprintf(n, sizeof n, "%s.poolings.%d", name, i - 1); /* one MaxPool2d module, applied three times */
        y[i] = zoo_op(p->z, n, "max_pool", &pool, &y[i - 1], 1);
    }
    snprintf(n, sizeof n, "%s.concat", name);
    int32_t cat = zoo_concat(p->z, n, y, 4);
    snprintf(n, sizeof n, "%s.conv2", name);
    return conv_module(p, n, cat, cout, 1, 1);
}

static bool check_width(zoo *z, const char *reader, const char *path, int level, int64_t want, int32_t x)
{
    return zoo_check_width(z, reader, path, "make_divisible(in_channels * widen_factor)", level, want, x);
}

/* ---- the family ---- */

static sscma_status build_backbone(zoo *z, json_t *cfg, int32_t image, int32_t *feats)
{
    const char *reader = "YOLOv5CSPDarknet", *path = "model.backbone";
    backbone_cfg b;
    part p = {z, {SSCMA_ACT_RELU, 0, 0}};
    if (!zoo_read(z, backbone_fields, cfg, reader, path, &b) || !read_norm_act(z, cfg, reader, path, &p.l))
        return z->st;
    if (b.n_out_indices == 3 && (b.out_indices[0] != 2 || b.out_indices[1] != 3 || b.out_indices[2] != 4))
        return zoo_expected(z, reader, path, "out_indices", "[2, 3, 4] (the three levels the neck takes)",
                            json_object_get(cfg, "out_indices"));
    if (b.plugins != NULL)
        return zoo_fail(z, reader, path, "plugins", "plugins are not supported");
    if (b.norm_eval)
        return zoo_fail(z, reader, path, "norm_eval", "true is not supported (batch norm statistics always train)");
    if (zoo_desc(z, image)->dims[3] != b.input_channels)
        return zoo_fail(z, reader, path, "input_channels", "expected %lld (the image's channels), got %lld",
                        (long long)zoo_desc(z, image)->dims[3], (long long)b.input_channels);
    double w = b.widen_factor, d = b.deepen_factor;
    int32_t x = conv_module(&p, "backbone.stem", image, yolo_make_divisible(64, w), 6, 2);
    char name[64];
    for (int s = 0; s < 4; s++) {
        int64_t cout = yolo_make_divisible((double)p5_arch[s][1], w);
        snprintf(name, sizeof name, "backbone.stage%d.0", s + 1);
        x = conv_module(&p, name, x, cout, 3, 2);
        snprintf(name, sizeof name, "backbone.stage%d.1", s + 1);
        x = csp_layer(&p, name, x, cout, yolo_make_round(p5_arch[s][2], d), true);
        if (p5_arch[s][3]) {
            snprintf(name, sizeof name, "backbone.stage%d.2", s + 1);
            x = sppf(&p, name, x, cout);
        }
        if (s >= 1)
            feats[s - 1] = x;
    }
    return z->st;
}

static sscma_status build_neck(zoo *z, json_t *cfg, const int32_t *feats, int32_t *outs)
{
    const char *reader = "YOLOv5PAFPN", *path = "model.neck";
    neck_cfg nk = {.in_channels = {256, 512, 1024}};
    part p = {z, {SSCMA_ACT_RELU, 0, 0}};
    if (!zoo_read(z, neck_fields, cfg, reader, path, &nk) || !read_norm_act(z, cfg, reader, path, &p.l))
        return z->st;
    if (nk.n_in_channels == 0) /* mmyolo requires it; SSCMA's base config gives [256, 512, 1024] */
        nk.in_channels[0] = 256, nk.in_channels[1] = 512, nk.in_channels[2] = 1024;
    if (nk.freeze_all)
        return zoo_fail(z, reader, path, "freeze_all", "true is not supported");
    int64_t c[YOLO_LEVELS];
    for (int l = 0; l < YOLO_LEVELS; l++) {
        c[l] = yolo_make_divisible((double)nk.in_channels[l], nk.widen_factor);
        if (!check_width(z, reader, path, l, c[l], feats[l]))
            return z->st;
    }
    int64_t n = yolo_make_round(nk.num_csp_blocks, nk.deepen_factor);
    /* top-down: reduce P5, upsample, concat (upsampled first), CSP; the first level adds a 1x1 conv to c[0] */
    int32_t reduced = conv_module(&p, "neck.reduce_layers.2", feats[2], c[1], 1, 1);
    int32_t in[2] = {zoo_upsample2x(z, "neck.upsample_layers.0", reduced), feats[1]};
    int32_t t = csp_layer(&p, "neck.top_down_layers.0.0", zoo_concat(z, "neck.top_down_cat.0", in, 2), c[1], n,
                          false);
    int32_t inner = conv_module(&p, "neck.top_down_layers.0.1", t, c[0], 1, 1);
    in[0] = zoo_upsample2x(z, "neck.upsample_layers.1", inner), in[1] = feats[0];
    outs[0] = csp_layer(&p, "neck.top_down_layers.1", zoo_concat(z, "neck.top_down_cat.1", in, 2), c[0], n,
                        false);
    /* bottom-up: 3x3/2 conv, concat with the top-down feature of that level, CSP */
    in[0] = conv_module(&p, "neck.downsample_layers.0", outs[0], c[0], 3, 2), in[1] = inner;
    outs[1] = csp_layer(&p, "neck.bottom_up_layers.0", zoo_concat(z, "neck.bottom_up_cat.0", in, 2), c[1], n,
                        false);
    in[0] = conv_module(&p, "neck.downsample_layers.1", outs[1], c[1], 3, 2), in[1] = reduced;
    outs[2] = csp_layer(&p, "neck.bottom_up_layers.1", zoo_concat(z, "neck.bottom_up_cat.1", in, 2), c[2], n,
                        false);
    return z->st;
}

/* The head's 1x1 convs; the bias of each starts at mmyolo's priors: objectness log(8 / (640 / s)^2), classes
 * log(0.6 / (C - 0.999999)), added to PyTorch's uniform draw (YOLOv5HeadModule.init_weights). */
static sscma_status build_head(zoo *z, json_t *head, const int32_t *feats, int32_t *preds,
                               double anchors[YOLO_LEVELS][YOLO_PRIORS][2])
{
    const char *reader = "YOLOv5Head", *path = "model.bbox_head", *mpath = "model.bbox_head.head_module";
    int which = 0;
    head_module_cfg h;
    prior_cfg pr;
    if (!zoo_read(z, head_fields, head, reader, path, &which)) /* keys only: nothing is stored */
        return z->st;
    json_t *module = zoo_part(z, head, path, "head_module", head_module_types, false, &which);
    if (!zoo_read(z, head_module_fields, module, "YOLOv5HeadModule", mpath, &h))
        return z->st;
    json_t *prior = zoo_part(z, head, path, "prior_generator", prior_types, true, &which);
    if (!zoo_read(z, prior_fields, prior, "YOLOAnchorGenerator", "model.bbox_head.prior_generator", &pr))
        return z->st;
    if (h.n_in_channels == 0)
        h.in_channels[0] = 256, h.in_channels[1] = 512, h.in_channels[2] = 1024, h.n_in_channels = 3;
    if (h.n_in_channels == 1)
        h.in_channels[1] = h.in_channels[2] = h.in_channels[0];
    else if (h.n_in_channels != YOLO_LEVELS)
        return zoo_expected(z, "YOLOv5HeadModule", mpath, "in_channels", "one number or 3 (one per level)",
                            json_object_get(module, "in_channels"));
    const int64_t *strides[2] = {h.n_featmap_strides ? h.featmap_strides : NULL, pr.n_strides ? pr.strides : NULL};
    const char *stride_keys[2] = {"featmap_strides", "strides"}, *stride_paths[2] = {mpath, "model.bbox_head."
                                                                                            "prior_generator"};
    for (int k = 0; k < 2; k++)
        if (strides[k] != NULL && (strides[k][0] != 8 || strides[k][1] != 16 || strides[k][2] != 32))
            return zoo_expected(z, reader, stride_paths[k], stride_keys[k], "[8, 16, 32] (the strides of P3, P4, P5)",
                                json_object_get(k == 0 ? module : prior, stride_keys[k]));
    memcpy(anchors, sscma_anchors, sizeof sscma_anchors);
    double own[YOLO_LEVELS][YOLO_PRIORS][2];
    if (pr.base_sizes != NULL &&
        !read_anchors(z, "YOLOAnchorGenerator", "model.bbox_head.prior_generator", "base_sizes", pr.base_sizes,
                      anchors))
        return z->st;
    if (h.anchors != NULL) { /* DetHead's copy must agree with the prior generator's */
        if (!read_anchors(z, "DetHead", mpath, "anchors", h.anchors, own))
            return z->st;
        if (pr.base_sizes != NULL && memcmp(own, anchors, sizeof own) != 0)
            return zoo_fail(z, "DetHead", mpath, "anchors", "differ from bbox_head.prior_generator.base_sizes");
        memcpy(anchors, own, sizeof own);
    }
    int64_t classes = h.num_classes, attrs = 5 + classes, cout = YOLO_PRIORS * attrs;
    char name[96];
    for (int l = 0; l < YOLO_LEVELS; l++) {
        if (!check_width(z, "YOLOv5HeadModule", mpath, l, yolo_make_divisible((double)h.in_channels[l],
                                                                               h.widen_factor), feats[l]))
            return z->st;
        snprintf(name, sizeof name, "bbox_head.head_module.convs_pred.%d", l);
        preds[l] = zoo_conv(z, name, feats[l], cout, 1, 1, 1, true);
        snprintf(name, sizeof name, "bbox_head.head_module.convs_pred.%d.bias", l);
        int32_t bias = sscma_graph_find(z->g, name);
        if (z->st != SSCMA_OK || bias < 0)
            return z->st != SSCMA_OK ? z->st : zoo_fail(z, reader, path, NULL, "internal: no bias %s", name);
        float offset[YOLO_PRIORS * (5 + 1000)];
        for (int64_t a = 0; a < YOLO_PRIORS; a++)
            for (int64_t k = 0; k < attrs; k++) {
                double o = 0.0;
                if (k == 4)
                    o = log(8.0 / pow(640.0 / (double)yolo_strides[l], 2.0));
                else if (k >= 5)
                    o = log(0.6 / ((double)classes - 0.999999));
                offset[a * attrs + k] = (float)o;
            }
        sscma_value *bv = &z->g->values[bias];
        bv->init = SSCMA_INIT_UNIFORM;
        bv->init_scale = (float)(1.0 / sqrt((double)zoo_desc(z, feats[l])->dims[3]));
        if ((z->st = sscma_graph_set_init_offset(z->g, bias, offset)) != SSCMA_OK)
            return z->st;
    }
    return z->st;
}

sscma_status zoo_build_yolo_detector(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    yolo_cfg yc;
    int which = 0;
    if (!zoo_read(z, yolo_fields, cfg, "YOLODetector", "model", &yc))
        return z->st;
    int64_t size[2];
    zoo_image_size(yc.input_size, yc.n_input_size, size);
    if (size[0] % 32 != 0 || size[1] % 32 != 0) /* the P5 grid is the image / 32, exactly */
        return zoo_fail(z, "YOLODetector", "model", "input_size", "%lldx%lld is not a multiple of the largest stride "
                        "32", (long long)size[0], (long long)size[1]);
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &which);
    json_t *neck = zoo_part(z, cfg, "model", "neck", neck_types, false, &which);
    json_t *head = zoo_part(z, cfg, "model", "bbox_head", head_types, false, &which);
    if (z->st != SSCMA_OK)
        return z->st;
    json_t *ch = json_object_get(backbone, "input_channels");
    int64_t in_channels = json_is_integer(ch) && json_integer_value(ch) >= 1 && json_integer_value(ch) <= 4
                              ? json_integer_value(ch) : 3; /* a bad value fails in the backbone's reader */
    const int64_t image_dims[4] = {1, size[0], size[1], in_channels};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, image_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    int32_t first = z->g->n_values;
    int32_t feats[YOLO_LEVELS], neck_outs[YOLO_LEVELS], preds[YOLO_LEVELS];
    double anchors[YOLO_LEVELS][YOLO_PRIORS][2];
    if (build_backbone(z, backbone, io->image, feats) != SSCMA_OK || build_neck(z, neck, feats, neck_outs) != SSCMA_OK)
        return z->st;
    if (build_head(z, head, neck_outs, preds, anchors) != SSCMA_OK)
        return z->st;
    zoo_uniform_fan_in_init(z, first); /* mmyolo's init_weights reset every Conv2d (head biases: build_head) */
    /* the priors, in pixels, for the loss and the box decoding */
    const int64_t prior_dims[3] = {YOLO_LEVELS, YOLO_PRIORS, 2};
    int32_t priors = -1;
    if ((z->st = sscma_graph_add_param(z->g, "bbox_head.prior_generator.base_sizes", SSCMA_VALUE_CONST, 3, prior_dims,
                                       0, SSCMA_INIT_ZEROS, 0.0f, &priors)) != SSCMA_OK)
        return z->st;
    float *pd = z->g->values[priors].data;
    for (int i = 0; i < YOLO_LEVELS * YOLO_PRIORS * 2; i++)
        pd[i] = (float)anchors[i / 6][(i / 2) % 3][i % 2];
    static const char *const names[YOLO_LEVELS] = {"p3", "p4", "p5"};
    for (int l = 0; l < YOLO_LEVELS; l++)
        io->outputs[l] = preds[l], io->output_names[l] = names[l];
    /* pred: the maps decoded to boxes in pixels and sigmoid scores (yolo_decode), what the metric and infer read */
    sscma_yolo_decode_attrs dec;
    memset(&dec, 0, sizeof dec);
    dec.num_classes = (int32_t)(zoo_desc(z, preds[0])->dims[3] / YOLO_PRIORS - 5);
    dec.n_strides = YOLO_LEVELS;
    for (int l = 0; l < YOLO_LEVELS; l++)
        dec.strides[l] = (int32_t)yolo_strides[l];
    dec.n_anchors = YOLO_LEVELS * YOLO_PRIORS * 2;
    memcpy(dec.anchors, pd, (size_t)dec.n_anchors * sizeof *pd);
    io->outputs[YOLO_LEVELS] = zoo_op(z, "pred", "yolo_decode", &dec, preds, YOLO_LEVELS);
    io->output_names[YOLO_LEVELS] = "pred";
    io->n_outputs = YOLO_LEVELS + 1;
    if (z->st != SSCMA_OK)
        return z->st;
    /* the loss: mmyolo's YOLOv5 head loss on the raw maps against the BoxTarget rows */
    sscma_yolov5_loss_attrs la;
    int64_t max_boxes = 0;
    const int64_t classes = zoo_desc(z, preds[0])->dims[3] / YOLO_PRIORS - 5;
    if (read_loss(z, head, classes, size, pd, &la, &max_boxes) != SSCMA_OK)
        return z->st;
    const int64_t target_dims[3] = {1, max_boxes, 6};
    if ((z->st = sscma_graph_add_input(z->g, "target", SSCMA_DTYPE_F32, 3, target_dims, SSCMA_INPUT_TARGET,
                                       &io->target)) != SSCMA_OK)
        return z->st;
    const int32_t loss_in[4] = {preds[0], preds[1], preds[2], io->target};
    int32_t loss = zoo_op(z, "loss", "yolov5_loss", &la, loss_in, 4);
    if (z->st != SSCMA_OK)
        return z->st;
    io->loss = loss;
    io->outputs[io->n_outputs] = loss, io->output_names[io->n_outputs] = "loss";
    io->n_outputs++;
    return SSCMA_OK;
}
