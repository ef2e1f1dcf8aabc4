/*
 * Audio_classify (SSCMA's sscma.Audio_classify, "END-TO-END AUDIO STRIKES BACK") = SoundNetRaw backbone + Audio_head,
 * with SSCMA's LabelSmoothCrossEntropyLoss on the "target" labels in training. A keyword spotter on raw waveforms.
 *
 * Input "image" [N, 1, L, 1] (NHWC: one row of L samples, one channel), so PyTorch's Conv1d over [N, C, L] is a conv2d
 * with a 1 x k kernel, weights [O, 1, k, I/groups] (OHWI), and BatchNorm1d a batch norm over the channels.
 *
 * SoundNetRaw(nf, clip_length, factors, out_channel): start = Conv1d(1, nf, 11, stride 6, pad 5, no bias), BN,
 * LeakyReLU(0.2); down = per factor f: Down(c, f) (c doubles), and after the even-indexed ones a ResBlock1dTF(c, 1);
 * down2 = twice: ResBlock1dTF(c, 1), (c, 3), (c, 9), Down(c, 2); project = Conv1d(c, out_channel, 1) with bias.
 *   Down(c, d) = down.0 Conv1d(c, 2c, d + 1, pad (d + 1) / 2, no bias), down.1 BN, LeakyReLU(0.2), down.3 AADownsample:
 *   a fixed depthwise blur with taps [1, 2, .., d + 1, .., 2, 1] / sum (2d + 1 taps), stride d, zero pad d. The taps
 *   are the buffer `filt` ([2c, 1, 2d + 1] in PyTorch): saved and loaded with the model, never trained (a buffer has
 *   no gradient), and restored to the taps by every (re)initialisation.
 *   ResBlock1dTF(c, dil) = shortcut(x) + block_f(x) + block_t(x): shortcut Conv1d(c, c, 1) with bias; block_f
 *   Conv1d(c, c, 1, no bias), BN, LeakyReLU(0.2); block_t depthwise Conv1d(c, c, 7, dilation dil, pad 3 dil, no
 *   bias), BN, LeakyReLU(0.2). No activation after the sum.
 * Every conv weight starts N(0, 0.02), conv biases 0, BN gamma 1 and beta 0 (SoundNetRaw._init_weights).
 * Audio_head(in_channels, n_classes, drop): mean over time (AdaptiveAvgPool1d(1)), fc Linear(in, in), Dropout(drop),
 * fc1 Linear(in, n_classes), no activation between; PyTorch's default Linear init. State-dict names: backbone.*,
 * cls_head.fc.*, cls_head.fc1.*.
 * Outputs: logits [N, n_classes], loss []. Deployed, softmax turns the logits into "probs" (SSCMA's predict).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "zoo/zoo.h"

#define SOUNDNET_SLOPE 0.2f  /* LeakyReLU(0.2) everywhere */
#define SOUNDNET_INIT_STD 0.02f

typedef struct audio_model_cfg {
    int64_t n_cls, segment_length;
    bool multilabel;
} audio_model_cfg;

static const sscma_field model_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("backbone"),
    SSCMA_FIELD_KEY("head"),
    SSCMA_FIELD_KEY("loss"),
    SSCMA_FIELD_KEY("loss_cls"), /* SSCMA builds it and never calls it: accepted, unused */
    SSCMA_FIELD_AS("n_cls", audio_model_cfg, n_cls, 0, true, 2, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD(audio_model_cfg, multilabel, false),
    /* libsscma: the clip length in samples, the input's width (SSCMA takes it from the data; the dataset's
     * segment_length must agree) */
    SSCMA_FIELD_RANGE(audio_model_cfg, segment_length, 8192, 64, 1 << 22),
    SSCMA_FIELD_KEY("pretrained"),
    SSCMA_FIELD_KEY("init_cfg"), /* Pretrained: loaded by the runner (lib/runner/runner.c) */
    SSCMA_FIELD_END,
};

typedef struct soundnet_cfg {
    int64_t nf, out_channel;
    int64_t factors[8];
    int32_t n_factors;
} soundnet_cfg;

static const sscma_field soundnet_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(soundnet_cfg, nf, 2, 1, 256),
    SSCMA_FIELD_KEY("clip_length"), /* stored by SSCMA, never used */
    SSCMA_FIELD_LIST_AS("factors", soundnet_cfg, factors, offsetof(soundnet_cfg, n_factors), 0, 4, 1, 16, 0),
    SSCMA_FIELD_RANGE(soundnet_cfg, out_channel, 32, 1, 4096),
    SSCMA_FIELD_END,
};

typedef struct audio_head_cfg {
    int64_t in_channels, n_classes;
    double drop;
} audio_head_cfg;

static const sscma_field head_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_AS("in_channels", audio_head_cfg, in_channels, 0, true, 1, 4096, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_AS("n_classes", audio_head_cfg, n_classes, 0, true, 2, 100000, SSCMA_FIELD_REQUIRED),
    SSCMA_FIELD_AS("drop", audio_head_cfg, drop, 0.5, true, 0.0, 0.999, 0),
    SSCMA_FIELD_END,
};

typedef struct smooth_loss_cfg {
    const char *reduction;
    double smoothing;
    json_t *weight;
} smooth_loss_cfg;

static const sscma_field loss_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_STRING(smooth_loss_cfg, reduction, "mean"),
    SSCMA_FIELD_AS("smoothing", smooth_loss_cfg, smoothing, 0.0, true, 0.0, 0.999, 0),
    SSCMA_FIELD_JSON_AS("weight", smooth_loss_cfg, weight),
    SSCMA_FIELD_END,
};

static const char *const backbone_types[] = {"SoundNetRaw", NULL};
static const char *const head_types[] = {"Audio_head", NULL};
static const char *const loss_types[] = {"LabelSmoothCrossEntropyLoss", NULL};

/* Conv1d(cin, cout, k, stride, pad, dilation, groups) on [N, 1, L, C]: weight name.weight [cout, 1, k, cin/groups]
 * drawn N(0, 0.02), bias name.bias zeros when `bias`. */
static int32_t conv1d(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride, int32_t pad,
                      int32_t dilation, int32_t groups, bool bias)
{
    if (z->st != SSCMA_OK || x < 0)
        return -1;
    const int64_t cin = zoo_desc(z, x)->dims[3], wd[4] = {cout, 1, k, cin / groups};
    char pname[320];
    int32_t in[3] = {x, -1, -1};
    snprintf(pname, sizeof pname, "%s.weight", name);
    z->st = sscma_graph_add_param(z->g, pname, SSCMA_VALUE_PARAM, 4, wd, SSCMA_PARAM_TRAINABLE, SSCMA_INIT_NORMAL,
                                  SOUNDNET_INIT_STD, &in[1]);
    if (z->st == SSCMA_OK && bias) {
        snprintf(pname, sizeof pname, "%s.bias", name);
        z->st = sscma_graph_add_param(z->g, pname, SSCMA_VALUE_PARAM, 1, &cout,
                                      SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, SSCMA_INIT_ZEROS, 0.0f, &in[2]);
    }
    if (z->st != SSCMA_OK)
        return -1;
    const sscma_conv2d_attrs a = {1, stride, 1, dilation, 0, pad, 0, pad, false, groups};
    return zoo_op(z, name, "conv2d", &a, in, bias ? 3 : 2);
}

/* BatchNorm1d (eps 1e-5, momentum 0.1) and LeakyReLU(0.2) in one op. */
static int32_t bn_lrelu(zoo *z, const char *name, int32_t x)
{
    return zoo_bn_act(z, name, x, SSCMA_ACT_LEAKY_RELU, SOUNDNET_SLOPE, 1e-5f, 0.1f);
}

/* AADownsample(filt 2d + 1, stride d) as a depthwise conv whose weight is the buffer name.filt. */
static int32_t aa_downsample(zoo *z, const char *name, int32_t x, int32_t d)
{
    if (z->st != SSCMA_OK || x < 0)
        return -1;
    const int32_t k = 2 * d + 1;
    const int64_t c = zoo_desc(z, x)->dims[3], wd[4] = {c, 1, k, 1};
    char pname[320];
    int32_t in[2] = {x, -1};
    snprintf(pname, sizeof pname, "%s.filt", name);
    if ((z->st = sscma_graph_add_param(z->g, pname, SSCMA_VALUE_BUFFER, 4, wd, 0, SSCMA_INIT_ZEROS, 0.0f, &in[1])) !=
        SSCMA_OK)
        return -1;
    float taps[2 * 16 + 1], sum = 0.0f;
    for (int32_t j = 0; j < k; j++)
        sum += taps[j] = (float)(j <= d ? j + 1 : k - j);
    /* the taps for every channel, as init offsets over zeros: each (re)initialisation restores them */
    float *all = sscma_malloc(z->g->ctx, (size_t)(c * k) * sizeof(float));
    if (all == NULL) {
        z->st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "Audio_classify", "cannot allocate the taps of '%s'", pname);
        return -1;
    }
    for (int64_t o = 0; o < c; o++)
        for (int32_t j = 0; j < k; j++)
            all[o * k + j] = taps[j] / sum;
    z->st = sscma_graph_set_init_offset(z->g, in[1], all);
    sscma_mfree(z->g->ctx, all);
    if (z->st != SSCMA_OK)
        return -1;
    const sscma_conv2d_attrs a = {1, d, 1, 1, 0, d, 0, d, false, (int32_t)c};
    return zoo_op(z, name, "conv2d", &a, in, 2);
}

/* Down(c, d): block.0 conv (c -> 2c, k d + 1), block.1 BN + LeakyReLU, block.3 AADownsample. */
static int32_t down_block(zoo *z, const char *block, int32_t x, int32_t d)
{
    char n[256];
    const int64_t c = x >= 0 ? zoo_desc(z, x)->dims[3] : 0;
    snprintf(n, sizeof n, "%s.down.0", block);
    x = conv1d(z, n, x, 2 * c, d + 1, 1, (d + 1) / 2, 1, 1, false);
    snprintf(n, sizeof n, "%s.down.1", block);
    x = bn_lrelu(z, n, x);
    snprintf(n, sizeof n, "%s.down.3", block);
    return aa_downsample(z, n, x, d);
}

/* ResBlock1dTF(c, dilation, k 7): shortcut(x) + block_f(x) + block_t(x). */
static int32_t res_block(zoo *z, const char *block, int32_t x, int32_t dilation)
{
    char n[256];
    const int64_t c = x >= 0 ? zoo_desc(z, x)->dims[3] : 0;
    snprintf(n, sizeof n, "%s.block_t.0", block);
    int32_t t = conv1d(z, n, x, c, 7, 1, 3 * dilation, dilation, (int32_t)c, false);
    snprintf(n, sizeof n, "%s.block_t.1", block);
    t = bn_lrelu(z, n, t);
    snprintf(n, sizeof n, "%s.block_f.0", block);
    int32_t f = conv1d(z, n, x, c, 1, 1, 0, 1, 1, false);
    snprintf(n, sizeof n, "%s.block_f.1", block);
    f = bn_lrelu(z, n, f);
    snprintf(n, sizeof n, "%s.shortcut", block);
    int32_t s = conv1d(z, n, x, c, 1, 1, 0, 1, 1, true);
    const int32_t sf[2] = {s, f};
    snprintf(n, sizeof n, "%s.add_f", block);
    int32_t y = zoo_op(z, n, "add", NULL, sf, 2);
    const int32_t yt[2] = {y, t};
    snprintf(n, sizeof n, "%s.add_t", block);
    return zoo_op(z, n, "add", NULL, yt, 2);
}

/* nn.Linear's default init for the layer that made value y: U(-1/sqrt(in), 1/sqrt(in)) on weight and bias. */
static void torch_linear_init(zoo *z, int32_t y)
{
    if (z->st != SSCMA_OK || y < 0)
        return;
    const sscma_node *nd = &z->g->nodes[z->g->n_nodes - 1];
    const float bound = (float)(1.0 / sqrt((double)zoo_desc(z, nd->in[1])->dims[1]));
    for (int32_t k = 1; k < nd->n_in; k++) {
        z->g->values[nd->in[k]].init = SSCMA_INIT_UNIFORM;
        z->g->values[nd->in[k]].init_scale = bound;
    }
}

sscma_status zoo_build_audio_classify(zoo *z, json_t *cfg, sscma_model_io_table *io)
{
    const char *R = "Audio_classify";
    audio_model_cfg m;
    soundnet_cfg b;
    audio_head_cfg h;
    smooth_loss_cfg l;
    int which = 0;
    if (!zoo_read(z, model_fields, cfg, R, "model", &m))
        return z->st;
    if (m.multilabel)
        return zoo_fail(z, R, "model", "multilabel", "true is not supported: SSCMA's predict and loss are single-label "
                        "(softmax, label-smoothed cross entropy)");
    json_t *backbone = zoo_part(z, cfg, "model", "backbone", backbone_types, false, &which);
    json_t *head = zoo_part(z, cfg, "model", "head", head_types, false, &which);
    json_t *loss = zoo_part(z, cfg, "model", "loss", loss_types, true, &which);
    if (!zoo_read(z, soundnet_fields, backbone, "SoundNetRaw", "model.backbone", &b) ||
        !zoo_read(z, head_fields, head, "Audio_head", "model.head", &h) ||
        !zoo_read(z, loss_fields, loss, "LabelSmoothCrossEntropyLoss", "model.loss", &l))
        return z->st;
    if (b.n_factors == 0)
        b.factors[0] = b.factors[1] = b.factors[2] = 4, b.n_factors = 3; /* SoundNetRaw's default [4, 4, 4] */
    if (h.in_channels != b.out_channel)
        return zoo_fail(z, "Audio_head", "model.head", "in_channels", "is %lld; the backbone's out_channel is %lld",
                        (long long)h.in_channels, (long long)b.out_channel);
    if (h.n_classes != m.n_cls)
        return zoo_fail(z, "Audio_head", "model.head", "n_classes", "is %lld; model.n_cls is %lld",
                        (long long)h.n_classes, (long long)m.n_cls);
    bool sum = strcmp(l.reduction, "sum") == 0;
    if (!sum && strcmp(l.reduction, "mean") != 0)
        return zoo_fail(z, "LabelSmoothCrossEntropyLoss", "model.loss", "reduction",
                        "expected \"sum\" or \"mean\", got \"%s\"", l.reduction);
    if (l.weight != NULL)
        return zoo_fail(z, "LabelSmoothCrossEntropyLoss", "model.loss", "weight",
                        "class weights are not supported (SSCMA's recipes set none)");
    int64_t nf = b.nf;
    for (int32_t i = 0; i < b.n_factors + 2; i++)
        nf *= 2;
    if (nf > 4096)
        return zoo_fail(z, "SoundNetRaw", "model.backbone", "nf", "%lld doubled %d times is over 4096 channels",
                        (long long)b.nf, (int)b.n_factors + 2);
    const int64_t length = m.segment_length;
    const int64_t input_dims[4] = {1, 1, length, 1};
    if ((z->st = sscma_graph_add_input(z->g, "image", SSCMA_DTYPE_F32, 4, input_dims, 0, &io->image)) != SSCMA_OK)
        return z->st;
    int32_t x = conv1d(z, "backbone.start.0", io->image, b.nf, 11, 6, 5, 1, 1, false);
    x = bn_lrelu(z, "backbone.start.1", x);
    char n[64];
    int32_t idx = 0;
    for (int32_t i = 0; i < b.n_factors; i++) {
        snprintf(n, sizeof n, "backbone.down.%d", (int)idx++);
        x = down_block(z, n, x, (int32_t)b.factors[i]);
        if (i % 2 == 0) {
            snprintf(n, sizeof n, "backbone.down.%d", (int)idx++);
            x = res_block(z, n, x, 1);
        }
    }
    idx = 0;
    for (int32_t i = 0; i < 2; i++) {
        for (int32_t j = 0, dil = 1; j < 3; j++, dil *= 3) {
            snprintf(n, sizeof n, "backbone.down2.%d", (int)idx++);
            x = res_block(z, n, x, dil);
        }
        snprintf(n, sizeof n, "backbone.down2.%d", (int)idx++);
        x = down_block(z, n, x, 2);
    }
    x = conv1d(z, "backbone.project", x, b.out_channel, 1, 1, 0, 1, 1, true);
    if (z->st == SSCMA_OK && zoo_desc(z, x)->dims[2] < 1)
        return zoo_fail(z, "SoundNetRaw", "model.backbone", "factors", "leave no time step of %lld samples",
                        (long long)length);

    /* Audio_head: mean over time, fc, dropout, fc1 */
    x = zoo_op(z, "cls_head.avg", "global_avg_pool", NULL, &x, 1);
    sscma_reshape_attrs flat = {2, {-1, b.out_channel}};
    x = zoo_op(z, "cls_head.flatten", "reshape", &flat, &x, 1);
    x = zoo_linear(z, "cls_head.fc", x, h.in_channels);
    torch_linear_init(z, x);
    sscma_dropout_attrs dp = {(float)h.drop};
    if (h.drop > 0.0)
        x = zoo_op(z, "cls_head.dp", "dropout", &dp, &x, 1);
    int32_t logits = zoo_linear(z, "cls_head.fc1", x, h.n_classes);
    torch_linear_init(z, logits);

    /* LabelSmoothCrossEntropyLoss: 1 - e on the class, e / (K - 1) elsewhere; SSCMA's recipe sums over the batch */
    sscma_cross_entropy_attrs ce = {sum ? SSCMA_REDUCTION_SUM : SSCMA_REDUCTION_MEAN, (float)l.smoothing, -100, true};
    return zoo_ce_outputs(z, io, logits, &ce);
}
