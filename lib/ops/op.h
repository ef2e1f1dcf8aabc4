/*
 * The op table: every op the graph can run is one sscma_op_def with shape inference, forward and backward.
 *
 * Layouts: activations NHWC, convolution weights OHWI, linear weights [out, in]. Training runs in f32; some inputs
 * (class labels) are i32. An op reads its inputs, writes its outputs (overwriting them), and in backward ADDS the
 * gradient of each input into din[i] (so fan-out sums without extra buffers), or writes it when the graph marks it
 * fresh (din_fresh, for the slots the op lists in backward_overwrites); din[i].data == NULL means that
 * input's gradient is not needed. Per-op state that backward needs (batch statistics, masks) lives in `saved`,
 * scratch in `workspace`; both are sized by infer() and provided by the caller, so kernels never allocate.
 *
 * Not installed: the public face of ops is the graph builder (model.h).
 */
#ifndef SSCMA_LIB_OPS_OP_H
#define SSCMA_LIB_OPS_OP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/internal.h"
#include "core/schema.h"
#include "sscma/tensor.h"

#define SSCMA_OP_MAX_INPUTS 16
#define SSCMA_OP_MAX_OUTPUTS 16

/* Element type and shape of one op input or output. */
typedef struct sscma_desc {
    sscma_dtype dtype;
    int32_t rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
} sscma_desc;

/* A buffer: a description plus the data (f32 or i32 per the dtype). */
typedef struct sscma_buf {
    sscma_desc desc;
    void *data;
} sscma_buf;

/* What infer() reports besides the output descriptions: bytes the op needs kept and as scratch. */
typedef struct sscma_op_sizes {
    size_t saved_bytes;     /* kept from forward to backward (training) */
    size_t workspace_bytes; /* scratch during one forward or backward call */
} sscma_op_sizes;

/* Everything one forward or backward call sees. */
/*
 * A reduction across the processes of a data-parallel job, handed down by the trainer (lib/train/dist.h) so that ops
 * never call MPI: sum(arg, values, n) replaces values[0..n) by their sums over every process, the same bits on each.
 * SyncBN's batch norm sums its per-channel statistics and gradient sums with it.
 */
typedef struct sscma_op_sync {
    sscma_status (*sum)(void *arg, double *values, int64_t n);
    void *arg;
} sscma_op_sync;

typedef struct sscma_op_exec {
    sscma_pool *pool;
    const void *attrs; /* the op's attribute struct, as given to infer() */
    const sscma_buf *in;
    int32_t n_in;
    const sscma_buf *out;
    int32_t n_out;
    void *saved;     /* saved_bytes, 64-byte aligned */
    void *workspace; /* workspace_bytes, 64-byte aligned */
    bool training;
    uint64_t seed;   /* random ops (dropout): stream = seed, index = element; same bits on any thread count */
    /*
     * Backward only: bit i set, din[i].data holds stale bytes (a shared arena slot) and this backward is the first
     * writer of that gradient, so it must write every element instead of adding. Set only for slots in the def's
     * backward_overwrites mask; every other gradient is zeroed (or already holds a sum) before backward.
     */
    uint32_t din_fresh;
    const sscma_op_sync *sync; /* NULL, or SyncBN's reduction over the job's processes (training only) */
} sscma_op_exec;

/*
 * Attribute schema: how a JSON object of attributes fills an op's attribute struct (sscma_op_parse_attrs). The
 * attribute tables are config-reader tables (core/schema.h); these names keep the op files short. Lists also take
 * a single integer, enums their index as well as their name.
 */
typedef sscma_field sscma_attr_field;
#define SSCMA_ATTR_I32 SSCMA_FIELD_I32
#define SSCMA_ATTR_I64 SSCMA_FIELD_I64
#define SSCMA_ATTR_F32 SSCMA_FIELD_F32
#define SSCMA_ATTR_BOOL SSCMA_FIELD_BOOL

#define SSCMA_ATTR_NAMED(name_, type, field, kind_, def_)                                                     \
    {.name = name_, .kind = kind_, .offset = offsetof(type, field), .def = (def_), .count_offset = -1}
#define SSCMA_ATTR(type, field, kind, def) SSCMA_ATTR_NAMED(#field, type, field, kind, def)
#define SSCMA_ATTR_LIST(type, field, def_, max, count_field)                                                   \
    {.name = #field, .kind = SSCMA_FIELD_I64_LIST, .offset = offsetof(type, field), .def = (def_),               \
     .capacity = (max), .count_offset = (count_field), .flags = SSCMA_FIELD_SCALAR_LIST}
#define SSCMA_ATTR_ENUM_OF(name, type, field, def, names)                                                      \
    SSCMA_FIELD_ENUM_AS(name, type, field, def, names, SSCMA_FIELD_ENUM_INDEX)
#define SSCMA_ATTR_END SSCMA_FIELD_END

/*
 * Every op has an id: code outside the registry (lowering, QAT, the graph's counters) asks `def->id == ...`, never
 * compares names. The registry (op.c) is indexed by id and a static assertion checks that it has a row per id.
 */
typedef enum sscma_op_id {
    SSCMA_OP_CONV2D = 0,
    SSCMA_OP_CONV2D_BN_ACT,
    SSCMA_OP_BATCH_NORM,
    SSCMA_OP_BATCH_NORM_ACT,
    SSCMA_OP_RELU,
    SSCMA_OP_RELU6,
    SSCMA_OP_LEAKY_RELU,
    SSCMA_OP_SIGMOID,
    SSCMA_OP_SILU,
    SSCMA_OP_HARDSWISH,
    SSCMA_OP_HARDSIGMOID,
    SSCMA_OP_TANH,
    SSCMA_OP_MAX_POOL,
    SSCMA_OP_AVG_POOL,
    SSCMA_OP_GLOBAL_AVG_POOL,
    SSCMA_OP_GLOBAL_MAX_POOL,
    SSCMA_OP_LINEAR,
    SSCMA_OP_ADD,
    SSCMA_OP_MUL,
    SSCMA_OP_RESHAPE,
    SSCMA_OP_CONCAT,
    SSCMA_OP_SPLIT,
    SSCMA_OP_SLICE,
    SSCMA_OP_PAD,
    SSCMA_OP_UPSAMPLE_NEAREST,
    SSCMA_OP_DROPOUT,
    SSCMA_OP_SOFTMAX,
    SSCMA_OP_LOG_SOFTMAX,
    SSCMA_OP_FAKE_QUANT_ACT,
    SSCMA_OP_FAKE_QUANT_WEIGHT,
    SSCMA_OP_CROSS_ENTROPY,
    SSCMA_OP_BCE_WITH_LOGITS,
    SSCMA_OP_MSE_LOSS,
    SSCMA_OP_L1_LOSS,
    SSCMA_OP_SMOOTH_L1_LOSS,
    SSCMA_OP_YOLO_DECODE,
    SSCMA_OP_YOLOV5_LOSS,
    SSCMA_OP_RTMDET_DECODE,
    SSCMA_OP_RTMDET_LOSS,
    SSCMA_OP_KL_DIV,
    SSCMA_OP_SPACE_TO_DEPTH,
    SSCMA_OP_DEPTH_TO_SPACE,
    SSCMA_OP_TRANSPOSE,
    SSCMA_OP_REPARAMETERIZE,
    SSCMA_OP_GAUSSIAN_KL,
    SSCMA_OP_COUNT
} sscma_op_id;

typedef struct sscma_op_def {
    sscma_op_id id;   /* its row in the registry */
    const char *name;
    size_t attrs_size;
    int32_t min_inputs, max_inputs;
    /* Bit i set: input i takes no gradient (labels, masks, weights of a loss). */
    uint32_t nondiff_inputs;
    /*
     * Checks the inputs against the attributes and computes the outputs. Errors name the op and the problem
     * (SSCMA_ERR_SHAPE, SSCMA_ERR_DTYPE, SSCMA_ERR_INVALID_ARGUMENT, SSCMA_ERR_OVERFLOW).
     */
    sscma_status (*infer)(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out, int32_t *n_out,
                          sscma_op_sizes *sizes);
    /* Runs the op. Fails only on data the shapes cannot reveal (a class label out of range), with a message. */
    sscma_status (*forward)(const sscma_op_exec *e);
    /* Adds input gradients into din[i].data given output gradients dout; NULL backward = not differentiable. */
    void (*backward)(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din);
    /* The attributes' JSON schema (NULL when the op has none). */
    const sscma_attr_field *attr_fields;
    /*
     * What backward never reads (only dout, the other side and `saved`): set, the graph's planner frees such values
     * as soon as forward is done with them instead of keeping them for this op's backward. Descriptions (shapes)
     * stay readable either way; only the data may be stale.
     */
    bool backward_skips_inputs;
    bool backward_skips_outputs;
    /*
     * Optional: writes out[0] again from the inputs and `saved` state of the training forward just run, with the
     * same bits as that forward and no state updated (running statistics stay as they are). Lets the graph drop
     * the output after its last forward reader and recompute it just before the first backward that reads it,
     * so it does not occupy the arena from forward to backward. Needs the inputs, so used only when this op's
     * own backward keeps them alive.
     */
    sscma_status (*recompute)(const sscma_op_exec *e);
    /*
     * Bit i set: backward honours din_fresh for input i (writes the whole gradient when told it is fresh), which
     * saves the graph a zeroing pass over it. An input slot missing here is zeroed before backward as usual.
     */
    uint32_t backward_overwrites;
    /*
     * Optional: multiply-accumulates of one forward over the whole batch, from the descriptions of the inputs and
     * outputs (what model summaries count; NULL = none, as for elementwise ops).
     */
    uint64_t (*macs)(const sscma_desc *in, int32_t n_in, const sscma_desc *out);
} sscma_op_def;

/*
 * Runs def->infer after the checks every op shares: attrs present when the op has attributes, the input count
 * within min..max, every input description valid (known dtype, rank 0..8, dimensions >= 0) and every input and
 * output small enough that its byte size fits in memory (SSCMA_ERR_OVERFLOW otherwise). Use this, never
 * def->infer directly.
 */
sscma_status sscma_op_infer(const sscma_op_def *def, const void *attrs, const sscma_desc *in, int32_t n_in,
                            sscma_desc *out, int32_t *n_out, sscma_op_sizes *sizes);

/*
 * Fills the op's attribute struct `out` (attrs_size bytes) from a JSON object text (NULL or "" = all defaults):
 * unknown keys and wrong types are SSCMA_ERR_CONFIG errors in the config reader's format, after the op's name
 * ("conv2d: groups: expected an integer, got 1.5").
 */
sscma_status sscma_op_parse_attrs(const sscma_op_def *def, const char *json_text, void *out);

/* Looks an op up by name; NULL if unknown. The one place where op names are compared. */
const sscma_op_def *sscma_op_find(const char *name);

/* The op with this id (id < SSCMA_OP_COUNT). */
const sscma_op_def *sscma_op_get(sscma_op_id id);

/* The table, indexed by id, for tests and the graph: *count (SSCMA_OP_COUNT) entries. */
const sscma_op_def *const *sscma_op_all(size_t *count);

/* Helpers for infer() and kernels. */
int64_t sscma_desc_numel(const sscma_desc *d);
void sscma_desc_format(const sscma_desc *d, char *buf, size_t size); /* "f32[2, 3, 4]" */
sscma_desc sscma_desc_make(sscma_dtype dtype, int32_t rank, const int64_t *dims);
bool sscma_desc_equal(const sscma_desc *a, const sscma_desc *b);

/* Fails with SSCMA_ERR_DTYPE unless d has `dtype`; `what` names the input ("conv2d input 0"). */
sscma_status sscma_desc_require(const char *op, const char *what, const sscma_desc *d, sscma_dtype dtype,
                                int32_t rank);

/* Copies the input descriptions of e into d (n_in entries), for kernels that recompute their geometry. */
static inline void sscma_exec_in_descs(const sscma_op_exec *e, sscma_desc *d)
{
    for (int32_t i = 0; i < e->n_in; i++)
        d[i] = e->in[i].desc;
}

/* Rounds a byte count up to the arena alignment (64). */
static inline size_t sscma_align_bytes(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* The op definitions, one per kernel family file. */
extern const sscma_op_def sscma_op_conv2d, sscma_op_conv2d_bn_act;
extern const sscma_op_def sscma_op_batch_norm, sscma_op_batch_norm_act;
extern const sscma_op_def sscma_op_relu, sscma_op_relu6, sscma_op_leaky_relu, sscma_op_sigmoid, sscma_op_silu,
    sscma_op_hardswish, sscma_op_hardsigmoid, sscma_op_tanh;
extern const sscma_op_def sscma_op_max_pool, sscma_op_avg_pool, sscma_op_global_avg_pool, sscma_op_global_max_pool;
extern const sscma_op_def sscma_op_linear;
extern const sscma_op_def sscma_op_add, sscma_op_mul;
extern const sscma_op_def sscma_op_reshape, sscma_op_concat, sscma_op_split, sscma_op_slice, sscma_op_pad,
    sscma_op_upsample_nearest;
extern const sscma_op_def sscma_op_dropout;
extern const sscma_op_def sscma_op_softmax, sscma_op_log_softmax;
extern const sscma_op_def sscma_op_fake_quant_act, sscma_op_fake_quant_weight;
extern const sscma_op_def sscma_op_cross_entropy, sscma_op_bce_with_logits, sscma_op_mse_loss, sscma_op_l1_loss,
    sscma_op_smooth_l1_loss, sscma_op_kl_div;
extern const sscma_op_def sscma_op_yolo_decode;
extern const sscma_op_def sscma_op_yolov5_loss;
extern const sscma_op_def sscma_op_rtmdet_decode;
extern const sscma_op_def sscma_op_rtmdet_loss;
extern const sscma_op_def sscma_op_space_to_depth, sscma_op_depth_to_space, sscma_op_transpose;
extern const sscma_op_def sscma_op_reparameterize, sscma_op_gaussian_kl;

/* ---- attribute structs ---- */

/* conv2d: inputs x [N,H,W,Cin], weight [Cout,KH,KW,Cin/groups], optional bias [Cout]; output [N,OH,OW,Cout]. */
typedef struct sscma_conv2d_attrs {
    int32_t stride_h, stride_w;       /* >= 1 */
    int32_t dilation_h, dilation_w;   /* >= 1 */
    int32_t pad_top, pad_left, pad_bottom, pad_right;
    bool pad_same;                    /* TF "SAME": pads computed from the input size (extra pad at the end) */
    int32_t groups;                   /* Cin and Cout divisible by groups; groups == Cin == Cout is depthwise */
} sscma_conv2d_attrs;

/* batch_norm over the last axis: inputs x [..., C], gamma [C], beta [C], running_mean [C], running_var [C]. */
typedef struct sscma_batch_norm_attrs {
    float eps;      /* PyTorch default 1e-5 */
    float momentum; /* running = (1 - momentum) * running + momentum * batch; PyTorch default 0.1 */
} sscma_batch_norm_attrs;

/* Activation kinds, shared by the activation ops and the fused inference op. */
typedef enum sscma_act_kind {
    SSCMA_ACT_NONE = 0,
    SSCMA_ACT_RELU,
    SSCMA_ACT_RELU6,
    SSCMA_ACT_LEAKY_RELU,
    SSCMA_ACT_SIGMOID,
    SSCMA_ACT_SILU,
    SSCMA_ACT_HARDSWISH,
    SSCMA_ACT_HARDSIGMOID,
    SSCMA_ACT_TANH
} sscma_act_kind;

/* y[i] = act(x[i]) for n elements (x == y allowed), split over the pool. */
void sscma_act_apply(sscma_pool *pool, sscma_act_kind kind, float negative_slope, const float *x, float *y, int64_t n);

/*
 * conv2d_bn_act (inference only): act(batch_norm_eval(conv2d(x, w, b))) in one op, with the batch norm folded into
 * the weights first: w' = w * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps). Inputs: x, w, gamma,
 * beta, running_mean, running_var, and optionally the conv bias last.
 */
typedef struct sscma_conv_bn_act_attrs {
    sscma_conv2d_attrs conv;
    float eps;
    sscma_act_kind act;
    float negative_slope; /* leaky_relu */
} sscma_conv_bn_act_attrs;

/*
 * batch_norm_act: act(batch_norm(x)) in one op, for training and inference; inputs as batch_norm. Saves a pass
 * over memory each way compared with two ops; backward recomputes the pre-activation from x.
 */
typedef struct sscma_batch_norm_act_attrs {
    sscma_batch_norm_attrs bn;
    sscma_act_kind act; /* none, relu, relu6, leaky_relu, hardswish */
    float negative_slope;
} sscma_batch_norm_act_attrs;

/* Activations: one input, one output of the same shape. */
typedef struct sscma_act_attrs {
    float negative_slope; /* leaky_relu only; PyTorch default 0.01 */
} sscma_act_attrs;

/* max_pool / avg_pool over H and W of NHWC. */
typedef struct sscma_pool_attrs {
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;          /* symmetric, as PyTorch; at most half the kernel */
    bool ceil_mode;
    bool count_include_pad;        /* avg_pool only; PyTorch default true */
} sscma_pool_attrs;

/* linear: x [N, in], weight [out, in], optional bias [out] -> [N, out]. */
typedef struct sscma_linear_attrs {
    int32_t unused;
} sscma_linear_attrs;

/* reshape: to `dims` (one entry may be -1, inferred). flatten is reshape to [N, -1]. */
typedef struct sscma_reshape_attrs {
    int32_t rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
} sscma_reshape_attrs;

/* concat / split along `axis` (negative counts from the end; channels = -1). */
typedef struct sscma_axis_attrs {
    int32_t axis;
    int32_t n_parts;                  /* split: number of outputs */
    int64_t sizes[SSCMA_OP_MAX_OUTPUTS]; /* split: size of each part along axis */
} sscma_axis_attrs;

/* space_to_depth / depth_to_space: the block's channel groups in TensorFlow's order (g = dy * b + dx) or SSCMA's
 * (g = dx * b + dy: Down_sample / up_sample of its anomaly VAE). */
typedef enum sscma_block_order { SSCMA_BLOCK_ORDER_TFLITE = 0, SSCMA_BLOCK_ORDER_SSCMA = 1 } sscma_block_order;
typedef struct sscma_space_depth_attrs {
    int32_t block_size;
    int32_t order; /* sscma_block_order */
} sscma_space_depth_attrs;

/* transpose: output axis i is input axis perm[i]. */
typedef struct sscma_transpose_attrs {
    int32_t rank;
    int64_t perm[SSCMA_TENSOR_MAX_RANK];
} sscma_transpose_attrs;

/* yolo_decode (yolo_decode.c): a YOLOv5 head's raw maps to boxes in pixels and sigmoid scores. */
#define SSCMA_YOLO_OP_MAX_LEVELS 4
#define SSCMA_YOLO_OP_MAX_ANCHORS 4
typedef struct sscma_yolo_decode_attrs {
    int32_t num_classes;
    int32_t strides[SSCMA_YOLO_OP_MAX_LEVELS], n_strides; /* one per input map */
    float anchors[SSCMA_YOLO_OP_MAX_LEVELS * SSCMA_YOLO_OP_MAX_ANCHORS * 2]; /* (w, h) per anchor, level after level */
    int32_t n_anchors;
} sscma_yolo_decode_attrs;

/* rtmdet_decode (rtmdet_decode.c): an RTMDet head's class logits and box distances to yolo_decode's layout. */
typedef struct sscma_rtmdet_decode_attrs {
    int32_t strides[SSCMA_YOLO_OP_MAX_LEVELS], n_strides; /* one per level, pixels */
} sscma_rtmdet_decode_attrs;

/* slice: for each axis, [begin, end) with step 1. */
typedef struct sscma_slice_attrs {
    int64_t begin[SSCMA_TENSOR_MAX_RANK];
    int64_t end[SSCMA_TENSOR_MAX_RANK];
} sscma_slice_attrs;

/* pad: constant padding before/after each axis. */
typedef struct sscma_pad_attrs {
    int64_t before[SSCMA_TENSOR_MAX_RANK];
    int64_t after[SSCMA_TENSOR_MAX_RANK];
    float value;
} sscma_pad_attrs;

/* upsample_nearest: NHWC, integer scales. */
typedef struct sscma_upsample_attrs {
    int32_t scale_h, scale_w;
} sscma_upsample_attrs;

/* dropout: zero with probability p in training (scaled by 1/(1-p)), identity in evaluation. */
typedef struct sscma_dropout_attrs {
    float p;
} sscma_dropout_attrs;

/* softmax / log_softmax along the last axis. */
typedef struct sscma_softmax_attrs {
    int32_t unused;
} sscma_softmax_attrs;

/* Loss reduction, as PyTorch's `reduction`. */
typedef enum sscma_reduction {
    SSCMA_REDUCTION_MEAN = 0,
    SSCMA_REDUCTION_SUM = 1,
    SSCMA_REDUCTION_NONE = 2,
    SSCMA_REDUCTION_BATCH_MEAN = 3 /* sum / dims[0] (PFLD's loss): regression losses only */
} sscma_reduction;

/*
 * cross_entropy: logits [N, C] f32, target [N] i32, optional class weights [C]; output [] (or [N] for NONE).
 * Mean reduction divides by the sum of the weights of the non-ignored targets, as PyTorch.
 */
typedef struct sscma_cross_entropy_attrs {
    sscma_reduction reduction;
    float label_smoothing; /* 0..1 */
    int32_t ignore_index;  /* PyTorch default -100 */
    /* label smoothing's target: false (PyTorch) 1 - e + e / C on the class and e / C elsewhere; true (SSCMA's
     * LabelSmoothCrossEntropyLoss) 1 - e on the class and e / (C - 1) on each other class (needs C >= 2) */
    bool smooth_off_target;
} sscma_cross_entropy_attrs;

/*
 * bce_with_logits: logits x, target y (same shape), optional weight (same shape: per-element weights; 0 masks
 * an element) and optional pos_weight (the last axis, [C]). Mean divides by the element count, as PyTorch.
 */
typedef struct sscma_bce_attrs {
    sscma_reduction reduction;
    bool has_weight;     /* input 2 is the element weight */
    bool has_pos_weight; /* the last input is pos_weight [C] */
} sscma_bce_attrs;

/* mse_loss / l1_loss / smooth_l1_loss: prediction and target of the same shape. */
typedef struct sscma_regression_loss_attrs {
    sscma_reduction reduction;
    float beta; /* smooth_l1 only; PyTorch default 1.0 */
} sscma_regression_loss_attrs;

/*
 * kl_div: knowledge distillation's soft-target loss (Hinton et al.; mmrazor's KLDivergence). Inputs: student logits s
 * and teacher logits t (no gradient), the same shape [..., C] f32; output []. Softmax over the last axis at
 * temperature tau, KL(p_t || p_s) summed over C and averaged over the other positions (rows: a classifier's samples,
 * every cell of a FOMO map), times tau^2 and loss_weight: PyTorch's
 * loss_weight * tau^2 * F.kl_div(F.log_softmax(s / tau), F.softmax(t / tau), reduction="batchmean") on [rows, C].
 */
typedef struct sscma_kl_div_attrs {
    float tau;         /* > 0; mmrazor's default 1 */
    float loss_weight; /* >= 0 */
} sscma_kl_div_attrs;

/*
 * yolov5_loss (lib/ops/loss_yolov5.c): mmyolo's YOLOv5Head.loss_by_feat on three raw head maps p3, p4, p5
 * f32 [B, H_l, W_l, 3 (5 + C)] (channel a (5 + C) + k: k 0..3 box, 4 objectness, 5.. classes) and the box targets
 * f32 [B, M, 6] (rows class, x1, y1, x2, y2 in input pixels, valid > 0; the loader's BoxTarget). Outputs (all []):
 * total = cls + bbox + obj, then loss_cls, loss_bbox, loss_obj, each multiplied by B as mmyolo's.
 * Empty lists take SSCMA's values: anchors (10,13),(16,30),(33,23), (30,61),(62,45),(59,119), (116,90),(156,198),
 * (373,326) in pixels; strides 8, 16, 32; obj_level_weights 4, 1, 0.4.
 */
#define SSCMA_YOLO_LEVELS 3
#define SSCMA_YOLO_PRIORS 3
typedef struct sscma_yolov5_loss_attrs {
    float anchors[2 * SSCMA_YOLO_PRIORS * SSCMA_YOLO_LEVELS]; /* w, h per prior, P3's first */
    int32_t n_anchors;                                          /* 0 or 18 */
    int64_t strides[SSCMA_YOLO_LEVELS];
    int32_t n_strides;                                          /* 0 or 3 */
    float obj_level_weights[SSCMA_YOLO_LEVELS];
    int32_t n_obj_level_weights;                                /* 0 or 3 */
    float prior_match_thr;   /* 4.0 */
    float near_neighbor_thr; /* 0.5 */
    float loss_cls_weight;   /* mmyolo's defaults 0.5, 0.05, 1.0; SSCMA scales them (docs/training.md) */
    float loss_bbox_weight;
    float loss_obj_weight;
    float eps;               /* IoULoss eps, 1e-7 */
    int64_t img_h, img_w;    /* the network input (mmyolo's batch_input_shape); 0 = P3's H (W) times its stride */
} sscma_yolov5_loss_attrs;

/*
 * rtmdet_loss (lib/ops/loss_rtmdet.c): RTMDetHead.loss_by_feat as ModelAssistant's configs/rtmdet run it (mmyolo's
 * BatchDynamicSoftLabelAssigner, QualityFocalLoss, GIoULoss). Inputs cls_0, cls_1, cls_2 f32 [B, H_l, W_l, C] (raw
 * logits), reg_0, reg_1, reg_2 f32 [B, H_l, W_l, 4] (distances left, top, right, bottom from the prior point, in
 * input pixels: already times the stride) and the box targets f32 [B, M, 6] (class, x1, y1, x2, y2 in input pixels,
 * valid > 0; the loader's BoxTarget). Outputs (all []): total = loss_cls + loss_bbox, then loss_cls, loss_bbox.
 * An empty strides list takes 8, 16, 32.
 */
#define SSCMA_RTMDET_LEVELS 3
#define SSCMA_RTMDET_MAX_TOPK 1024
typedef struct sscma_rtmdet_loss_attrs {
    int64_t strides[SSCMA_RTMDET_LEVELS];
    int32_t n_strides;        /* 0 or 3 */
    int32_t topk;             /* the assigner's candidates for dynamic k: 13 (1..SSCMA_RTMDET_MAX_TOPK) */
    float iou_weight;         /* 3.0 */
    float soft_center_radius; /* 3.0 */
    float beta;               /* QualityFocalLoss beta, 2.0 */
    float loss_cls_weight;    /* 1.0 */
    float loss_bbox_weight;   /* 2.0 */
    float eps;                /* GIoULoss eps, 1e-6 */
} sscma_rtmdet_loss_attrs;

/* fake_quant_act / fake_quant_weight (quantization-aware training; lib/ops/fakequant.c). */
typedef struct sscma_fake_quant_attrs {
    float averaging_constant; /* act: moving-average observer constant (PyTorch's 0.01) */
    float eps;                /* weight: the folded batch norm's eps */
    bool per_channel;         /* weight: one scale per output channel (convolutions) or one (fully connected) */
    bool has_bn;              /* weight: inputs 1 and 2 are the following batch norm's gamma and running_var */
} sscma_fake_quant_attrs;

/* The int8 parameters of an observed range [lo, hi], as post-training quantization computes them. */
void sscma_fq_range_params(double lo, double hi, float *scale, int32_t *zp);

#endif /* SSCMA_LIB_OPS_OP_H */
