/*
 * Model families (SSCMA registry names) built into a graph, and the helpers they share: config reading through
 * core/schema.h, and layer builders that add named parameters (PyTorch dotted names) and nodes.
 */
#ifndef SSCMA_LIB_ZOO_ZOO_H
#define SSCMA_LIB_ZOO_ZOO_H

#include <jansson.h>
#include <stddef.h>

#include "core/schema.h"
#include "graph/graph.h"
#include "graph/model_private.h"

/* A builder: the graph and the first failure, which sticks in `st` so that later calls do nothing. */
typedef struct zoo {
    sscma_graph *g;
    sscma_status st;
    const char *file; /* the config file for messages; NULL: each reader names itself ("MobileNetV2") */
} zoo;

/* Builds the model described by `config` (a JSON object with "type"); `file` (or NULL) names it in messages. */
sscma_status sscma_zoo_build(sscma_graph *g, json_t *config, const char *file, sscma_model_io_table *io);

/* sscma_model_create for a parsed config (borrowed) read from `file` (NULL: unknown): the runner's way in. */
sscma_status sscma_zoo_model_create(sscma_context *ctx, json_t *config, const char *file, sscma_model **out);

/*
 * ---- config: every key goes through the config reader (core/schema.h) ----
 * Messages read "<file>: model.head.num_classes: expected ..."; without a file the reader (the family or part's
 * type, "MobileNetV2") stands in for it. Each returns false (zoo_read) or z->st after recording the first failure.
 */
bool zoo_read(zoo *z, const sscma_field *fields, json_t *obj, const char *reader, const char *path, void *out);
sscma_status zoo_fail(zoo *z, const char *reader, const char *path, const char *key, const char *fmt, ...)
    SSCMA_PRINTF(5, 6);
sscma_status zoo_expected(zoo *z, const char *reader, const char *path, const char *key, const char *expected,
                          json_t *value);
/* obj[key] when it is an object whose "type" is one of `types` (NULL-terminated; *index receives which), NULL after
 * a failure; absent: NULL without a failure when `optional`. */
json_t *zoo_part(zoo *z, json_t *obj, const char *path, const char *key, const char *const *types, bool optional,
                 int *index);
/* A family's "input_size": [h, w] or one integer for both, in lo..4096, def when absent; the struct has
 * `int64_t input_size[2]; int32_t n_input_size;` and zoo_image_size() gives [h, w]. */
#define ZOO_INPUT_SIZE_FIELD(type, def, lo)                                                                      \
    SSCMA_FIELD_LIST_AS("input_size", type, input_size, offsetof(type, n_input_size), 1, def, lo, 4096,         \
                        SSCMA_FIELD_SCALAR_LIST)
static inline void zoo_image_size(const int64_t *input_size, int32_t n, int64_t *hw)
{
    hw[0] = input_size[0], hw[1] = n == 2 ? input_size[1] : input_size[0];
}
/* act_cfg: "ReLU" / {"type": "ReLU6"} (absent: def). */
sscma_act_kind zoo_act(zoo *z, json_t *obj, const char *reader, const char *path, sscma_act_kind def);

/* A part's layer settings (mmcv's ConvModule arguments): its activation and batch norm. */
typedef struct zoo_layer_cfg {
    sscma_act_kind act;
    float eps, momentum;
} zoo_layer_cfg;
/* A part's norm_cfg ("BN", "SyncBN" or "BatchNorm2d"; absent: absent_mt = {momentum, eps}; given: its keys, those it
 * lacks from given_mt) and act_cfg ("ReLU" / "ReLU6"; absent: a failure with the message `no_act`, since mmdet's
 * default SiLU is not built). False after a failure. */
/* A part's norm_cfg that may give only the type (the part fixes momentum and eps): BN by any of its names, or SyncBN /
 * SyncBatchNorm, which marks the graph's batch norms for synchronisation (graph.h sync_bn). False after a failure. */
bool zoo_read_norm_type(zoo *z, json_t *part, const char *reader, const char *path);
bool zoo_read_layer_cfg(zoo *z, json_t *part, const char *reader, const char *path, const double absent_mt[2],
                        const double given_mt[2], const char *no_act, zoo_layer_cfg *out);
/* Fails, naming `in_channels` and the `formula` that gave `want`, unless value x has `want` channels. */
bool zoo_check_width(zoo *z, const char *reader, const char *path, const char *formula, int level, int64_t want,
                     int32_t x);

/* ---- layers: each returns the output value id, or -1 after a failure (z->st set) ---- */
int32_t zoo_conv(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride, int32_t groups,
                 bool bias);
/* batch norm (+ activation fused when act != NONE): params name.weight/bias, buffers running_mean/var */
int32_t zoo_bn(zoo *z, const char *name, int32_t x, sscma_act_kind act);
/* the same with the norm_cfg's eps and momentum (PyTorch's meaning: running = (1 - m) running + m batch) */
int32_t zoo_bn_cfg(zoo *z, const char *name, int32_t x, sscma_act_kind act, float eps, float momentum);
/* the same with the activation's negative slope (leaky_relu: SoundNet's LeakyReLU(0.2)) */
int32_t zoo_bn_act(zoo *z, const char *name, int32_t x, sscma_act_kind act, float negative_slope, float eps,
                   float momentum);
int32_t zoo_linear(zoo *z, const char *name, int32_t x, int64_t out_features);
/* mmcv's ConvModule: name.conv (no bias, padding (k - 1) / 2, groups), name.bn (eps, momentum), then `act`. */
int32_t zoo_conv_module(zoo *z, const char *name, int32_t x, int64_t cout, int32_t k, int32_t stride, int32_t groups,
                        sscma_act_kind act, float eps, float momentum);
/* Concatenation along the channels. */
int32_t zoo_concat(zoo *z, const char *name, const int32_t *inputs, int32_t n);
/* Nearest-neighbour upsampling by 2 in height and width. */
int32_t zoo_upsample2x(zoo *z, const char *name, int32_t x);
/* PyTorch's default conv init, which mmengine's Kaiming init with a = sqrt(5), uniform, fan_in equals:
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for every conv weight added from value `from` on (biases keep theirs). */
void zoo_uniform_fan_in_init(zoo *z, int32_t from);
int32_t zoo_op(zoo *z, const char *name, const char *op, const void *attrs, const int32_t *inputs, int32_t n);

/* Shape of a value. */
static inline const sscma_desc *zoo_desc(zoo *z, int32_t v)
{
    return &z->g->values[v].desc;
}

/* An inverted residual block (expand 1x1, depthwise 3x3, project 1x1; residual when shapes allow) named torchvision's
 * way (conv.j.0 / conv.j.1) or SSCMA's (conv.j.conv / conv.j.norm). */
int32_t zoo_inverted_residual(zoo *z, const char *block, int32_t x, int64_t cout, int stride, int t, bool sscma_names);
/* The same with the expansion width `hidden` (== the input's channels when t == 1) and the residual given (a pruned
 * block keeps the residual of its unpruned shape; the add then needs cout == the input's channels). */
int32_t zoo_inverted_residual_widths(zoo *z, const char *block, int32_t x, int64_t hidden, int64_t cout, int stride,
                                     int t, bool residual, bool sscma_names);

/* torchvision's _make_divisible */
int64_t zoo_make_divisible(double v, int64_t divisor);

/* Families */
/* The image channels a MobileNetV2 backbone config asks for (in_channels, else gray_input), 0 after a failure. */
int64_t zoo_mobilenetv2_in_channels(zoo *z, json_t *cfg);
sscma_status zoo_build_mobilenetv2(zoo *z, json_t *cfg, const char *prefix, int32_t x, int32_t *outs,
                                   int32_t *n_outs);
/* MobileNetV3 small/large in SSCMA's layout (sscma_style: conv1, layer{i}.block.j, out_indices over blocks) or
 * mmcls's (layer0, layer{i}.expand_conv/depthwise_conv/se/linear_conv, a final 1x1 conv, out_indices over layers);
 * the image channels it asks for (0 after a failure). */
int64_t zoo_mobilenetv3_in_channels(zoo *z, json_t *cfg, bool sscma_style);
sscma_status zoo_build_mobilenetv3(zoo *z, json_t *cfg, bool sscma_style, const char *prefix, int32_t x,
                                   int32_t *outs, int32_t *n_outs);
sscma_status zoo_build_image_classifier(zoo *z, json_t *cfg, sscma_model_io_table *io);
/* A classifier's tail (classifier.c): the head's "loss" (CrossEntropyLoss or LabelSmoothLoss, read from `head`), the
 * "target" input, the cross-entropy "loss" node, and the outputs logits and loss; shared by ImageClassifier and
 * AccelerometerClassifier. */
sscma_status zoo_class_loss(zoo *z, json_t *head, sscma_model_io_table *io, int32_t logits);
/* A classifier's training tail: the "target" input [N] (i32), cross_entropy(logits, target) with `ce` as "loss", and
 * the outputs "logits" and "loss" (zoo_class_loss's and Audio_classify's). */
sscma_status zoo_ce_outputs(zoo *z, sscma_model_io_table *io, int32_t logits, const sscma_cross_entropy_attrs *ce);
sscma_status zoo_build_fomo(zoo *z, json_t *cfg, sscma_model_io_table *io);
sscma_status zoo_build_pfld(zoo *z, json_t *cfg, sscma_model_io_table *io);
sscma_status zoo_build_yolo_detector(zoo *z, json_t *cfg, sscma_model_io_table *io);
/* SSCMA's RTMDet (CSPNeXt + CSPNeXtPAFPN + RTMDetSepBNHeadModule): outputs cls_0..2, reg_0..2, pred. */
sscma_status zoo_build_rtmdet(zoo *z, json_t *cfg, sscma_model_io_table *io);
/* SSCMA's AccelerometerClassifier (AxesNet + AxesClsHead) on flattened sensor windows (zoo/axesnet.c). */
sscma_status zoo_build_accelerometer_classifier(zoo *z, json_t *cfg, sscma_model_io_table *io);
/* SSCMA's anomaly Vae_Model (zoo/vae.c): input image [N, S, S, 2C] (x then c), outputs x_recon, c_recon, mu, logvar,
 * mu_c, logvar_c and loss. */
sscma_status zoo_build_vae(zoo *z, json_t *cfg, sscma_model_io_table *io);
/* SSCMA's Audio_classify (SoundNetRaw + Audio_head) on raw waveforms [N, 1, L, 1] (zoo/soundnet.c). */
sscma_status zoo_build_audio_classify(zoo *z, json_t *cfg, sscma_model_io_table *io);

#endif /* SSCMA_LIB_ZOO_ZOO_H */
