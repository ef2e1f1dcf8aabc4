/*
 * The deployable model (struct sscma_qmodel): a trained model lowered to inference-only layers with batch norms
 * folded into the convolutions and ReLU/ReLU6 fused, in float or in int8 per the TFLite quantization spec. It is the
 * one representation behind the exporters (ONNX, TFLite, C array), the TFLite reader and both runtimes (f32 through
 * the op table's kernels, int8 through lib/quant/int8.c). Internal: the public face is <sscma/quant.h>.
 *
 * Layouts are TFLite's: activations NHWC, convolution weights OHWI [Cout, KH, KW, Cin / groups] (the TFLite
 * writer turns depthwise weights into [1, KH, KW, Cout]), fully connected weights [out, in]. Activation shapes
 * are stored for a batch of 1; the runtimes scale dims[0] to the prepared batch.
 */
#ifndef SSCMA_LIB_QUANT_QMODEL_H
#define SSCMA_LIB_QUANT_QMODEL_H

#include <stdbool.h>

#include "ops/op.h"
#include "sscma/experimental.h"
#include "sscma/quant.h"

/* What a deployable op computes; each kind is one row of the table in qm_kinds.c (qm_kinds.h). */
typedef enum qm_kind {
    QM_KIND_NONE = 0,  /* zeroed memory: never a valid kind */
    QM_CONV,           /* in: x, weight, bias (optional); groups 1 or depthwise (groups == Cin) */
    QM_FC,             /* in: x [N, ..., in] (rows: all dims but the last), weight [out, in], bias [out] */
    QM_ADD,            /* in: a, b (shapes broadcast as TFLite does: kinds with const_operands, k_binary.c) */
    QM_CONCAT,         /* in: 1..QM_MAX_IN tensors, along `axis` */
    QM_AVG_POOL,       /* kernel kh x kw, stride, padding (count excludes padding, as TFLite) */
    QM_MAX_POOL,
    QM_RESHAPE,        /* to the output's shape */
    QM_SOFTMAX,        /* over the last axis, beta 1 */
    QM_LOGISTIC,
    QM_HARDSWISH,
    QM_RESIZE_NEAREST, /* to the output's H, W; TFLite's align_corners, half_pixel_centers (op fields) */
    QM_PAD,            /* constant padding of H and W (pad_t, pad_l, pad_b, pad_r) with pad_value */
    QM_REQUANT,        /* TFLite QUANTIZE: int8 -> int8 with other scale / zero point; float, uint8 -> int8, uint8 */
    QM_CLAMP,          /* min(max(x, clip_lo), clip_hi): TFLite RELU (0, inf), RELU6 (0, 6), RELU_N1_TO_1 (-1, 1) */
    QM_LEAKY_RELU,     /* x >= 0 ? x : alpha * x */
    QM_TANH,
    QM_EXP,
    QM_DEQUANTIZE,     /* int8, uint8 -> float (TFLite DEQUANTIZE) */
    QM_SUB,            /* a - b, broadcast as ADD */
    QM_MUL,            /* a * b, broadcast as ADD */
    QM_MAXIMUM,        /* max(a, b): int8 raw values compared, no requantization (TFLite) */
    QM_MINIMUM,        /* min(a, b), likewise */
    QM_MEAN,           /* mean over the axes in reduce_axes (never the batch), keep_dims or not */
    QM_TRANSPOSE,      /* output axis i is input axis perm[i]; perm[0] == 0 (the batch stays first) */
    QM_SLICE,          /* per input axis: count elements from begin, step apart; shrunk axes dropped (k_shape.c) */
    QM_TILE,           /* the input repeated along each axis: output dims are multiples of the input's */
    QM_RESIZE_BILINEAR, /* to the output's H, W; align_corners or half_pixel_centers (op fields) */
    QM_SPACE_TO_DEPTH, /* block_size x block_size blocks to channels, TensorFlow's order (k_space.c) */
    QM_DEPTH_TO_SPACE, /* the inverse: channel groups to blocks (TFLite DEPTH_TO_SPACE, ONNX DCR) */
    QM_KIND_COUNT
} qm_kind;

#define QM_MAX_IN 8
#define QM_MAX_META 16
#define QM_MAX_ELEMENTS ((int64_t)1 << 28) /* elements of one tensor (batch 1) */

typedef struct qm_tensor {
    char *name;
    sscma_dtype dtype;  /* F32, I8 or I32 (biases) */
    int32_t rank;
    int64_t dims[4];
    bool constant;      /* weights and biases: `data` holds them */
    void *data;         /* constants: own allocation of `bytes` */
    size_t bytes;
    /* quantization: n_q == 0 none, 1 per tensor, > 1 per channel along q_axis */
    int32_t n_q, q_axis;
    float *scale;
    int32_t *zero_point;
    /* calibration (activations of a float model) */
    bool observed;
    double obs_min, obs_max;
} qm_tensor;

typedef struct qm_op {
    qm_kind kind;
    char *name;           /* the model layer it came from: errors name it */
    int32_t in[QM_MAX_IN], n_in;
    int32_t out;
    sscma_act_kind act;   /* NONE, RELU or RELU6 fused on the output (conv, fc, add, pools) */
    int32_t kh, kw, stride_h, stride_w, dil_h, dil_w;
    int32_t pad_t, pad_l, pad_b, pad_r;
    int32_t groups;
    int32_t axis;         /* concat: NHWC axis */
    float clip_lo, clip_hi; /* clamp: the range (clip_hi INFINITY for none) */
    float alpha;          /* leaky relu: the slope below 0 */
    /*
     * int8 parameters, filled once by sscma_qm_prepare_int8() and read-only afterwards (every plan of the model
     * shares them): they depend on the quantization and on the i8gemm backend, never on the batch.
     */
    int32_t *mult, *shift; /* per output channel (conv, fc), or [0] = output rescale */
    int32_t n_mult;
    int32_t act_min, act_max;
    int32_t in_mult[2], in_shift[2], left_shift; /* add */
    int32_t in_left_shift, diff_min;            /* softmax */
    void *lut;                                   /* packed weights (conv, fc), transposed (depthwise) */
    size_t lut_bytes;
    int32_t backend;                             /* i8gemm backend the packing is for */
    int64_t k_pad, n_pad;                        /* packed GEMM sizes (conv with groups 1, fc) */
    int32_t *bias_eff;                           /* bias corrected for the A encoding, n_pad entries */
    bool dw_flat;                                /* depthwise on VNNI: bias_eff is the flat row packing */
    int32_t reduce_axes;  /* mean: bit a set = axis a of the input is reduced (TFLite's constant axis tensor) */
    bool keep_dims;       /* mean: reduced axes stay as 1 (else they are removed from the output's shape) */
    /* data movement (k_shape.c) */
    int32_t perm[4];                     /* transpose: output axis i is input axis perm[i] */
    int32_t begin[4], step[4], count[4]; /* slice, per input axis: the first index, the stride, how many */
    int32_t shrink;                      /* slice: bit i set: input axis i (count 1) is not an output axis */
    float pad_value;                     /* pad: the value outside the input (TFLite PADV2's constant; PAD: 0) */
    /* appended: */
    /*
     * fc: s_x s_w[c] / s_y per output (n_mult doubles, at most 2^20; TFLite's reference FC rounds with it), followed
     * in the same allocation (qm_real_mult_bytes) by three int32 arrays of n_mult: the bound on |acc| past which the
     * output saturates anyway, and the largest and smallest acc whose rounded product fits an int32 (fc_requant_row)
     */
    double *real_mult;
    bool align_corners, half_pixel; /* resize: TFLite's ResizeNearestNeighbor / ResizeBilinear options */
    int32_t block_size;             /* space_to_depth, depth_to_space */
} qm_op;

/*
 * A plan: what running the model at one batch size needs and writes (docs/architecture.md, "Deployable models").
 * It reads its model and never writes it, so several plans of one model run at once in different threads; a plan
 * itself is used by one thread at a time.
 */
struct sscma_qplan {
    const sscma_qmodel *q;
    sscma_context *ctx;
    int64_t batch;           /* 0 = not prepared (the model's default plan before sscma_qmodel_prepare) */
    void *arena;             /* every activation buffer (buf[] points into it; plan_arena in qmodel.c) */
    size_t arena_bytes;
    void **buf;              /* per tensor: its activation buffer at `batch` (NULL for constants) */
    size_t *buf_bytes;
    int32_t n_buf;           /* entries of buf and buf_bytes: the model's tensor count */
    void *scratch;           /* float kernels' workspace, grown on demand */
    size_t scratch_bytes;
    void *tile_scratch;      /* int8 GEMM tiles: q->tile_bytes per worker of the context's pool */
    size_t tile_scratch_bytes;
    sscma_tensor *in_views[4], *out_views[8];
};

struct sscma_qmodel {
    sscma_context *ctx;
    qm_tensor *t;
    int32_t n_t, cap_t;
    qm_op *ops;
    int32_t n_ops, cap_ops;
    int32_t inputs[4], n_inputs;
    int32_t outputs[8], n_outputs;
    bool int8;            /* int8 activations (full integer): produced by quantization or read from TFLite */
    char family[64];      /* "ImageClassifier", "Fomo", "PFLD", "" */
    /* metadata written into the files: key/value strings (sscma_qmodel_set_meta) */
    char *meta_key[QM_MAX_META], *meta_value[QM_MAX_META];
    int32_t n_meta;
    /* int8 state shared by every plan (sscma_qm_prepare_int8) */
    int32_t backend;         /* int8 kernels: -1 = the best this CPU runs (i8gemm.h), else forced (tests) */
    bool int8_ready;         /* the ops' int8 parameters and packed weights are computed ... */
    int32_t int8_backend;    /* ... for this value of `backend` */
    size_t tile_bytes;       /* int8 GEMM tile (A rows and C) of the largest op, per worker */
    /* the default plan, behind sscma_qmodel_prepare / _input / _output / _run (batch 0 until prepared) */
    struct sscma_qplan plan;
};

/*
 * What one run of the ops sees besides the model: the plan's batch, buffers and scratch, and the pool. Kernels take
 * it with the (const) op; they write only through it, never into the model.
 */
typedef struct qm_exec {
    const sscma_qmodel *q;
    sscma_pool *pool;
    int64_t batch;
    void *const *buf;        /* per tensor: the activation buffer (NULL for constants: read t->data) */
    const size_t *buf_bytes;
    void **scratch;          /* float kernels' workspace, grown on demand */
    size_t *scratch_bytes;
    sscma_context *ctx;      /* allocates the scratch */
    void *tile_scratch;      /* int8 GEMM tiles: tile_bytes per worker */
    size_t tile_bytes;
} qm_exec;

/* Bytes of qm_op.real_mult for n outputs: the ratios and the accumulator bounds. */
static inline size_t qm_real_mult_bytes(int32_t n)
{
    return (size_t)n * (sizeof(double) + 3 * sizeof(int32_t));
}

/* Tensor t's activation buffer in the run's plan (t points into ex->q->t), and its size in bytes. */
static inline void *qm_buf(const qm_exec *ex, const qm_tensor *t)
{
    return ex->buf[t - ex->q->t];
}

static inline size_t qm_bytes(const qm_exec *ex, const qm_tensor *t)
{
    return ex->buf_bytes[t - ex->q->t];
}

/* ---- building (lower.c, the TFLite reader) ---- */

/*
 * sscma_qmodel_from_model with a chosen limit: a 1-D depthwise or full convolution ([1, 1, L, C], kernel 1 x k) of
 * stride above max_dw_stride is lowered as an equivalent stride-1 convolution over blocks of `stride` samples
 * (lower.c): a PAD (and a SLICE of an unread tail) to whole blocks, a RESHAPE, then a depthwise conv with a
 * [blocks, stride] kernel and a RESHAPE back (a full conv: a CONV_2D over the blocks). sscma_qmodel_from_model uses SSCMA_QM_MAX_DW_STRIDE, the largest depthwise
 * stride Arm's Vela places on the Ethos-U; INT32_MAX keeps every convolution as it is (tests compare the two).
 */
#define SSCMA_QM_MAX_DW_STRIDE 3
sscma_status sscma_qm_lower(sscma_model *model, int32_t max_dw_stride, sscma_qmodel **out);

sscma_status sscma_qm_create(sscma_context *ctx, sscma_qmodel **out);
/* Adds a tensor; constants get `bytes` of zeroed storage to fill. Returns its id in *out. */
sscma_status sscma_qm_add_tensor(sscma_qmodel *q, const char *name, sscma_dtype dtype, int32_t rank,
                                 const int64_t *dims, bool constant, int32_t *out);
/* Sets per-tensor (n == 1) or per-channel quantization parameters (copied; scale and zero_point NULL: left for the
 * caller to fill in t->scale and t->zero_point, as the TFLite reader does straight from the file). */
sscma_status sscma_qm_set_quant(sscma_qmodel *q, int32_t tensor, int32_t n, int32_t axis, const float *scale,
                                const int32_t *zero_point);
/* Appends an op (copied, name duplicated); its index goes to *out (may be NULL). */
sscma_status sscma_qm_add_op(sscma_qmodel *q, const qm_op *op, int32_t *out);
/*
 * Appends SSCMA's YOLO box decode (lower_yolo.c) after the raw head maps maps[l] (tensors of q, one per level) and
 * returns its output [1, N, 5 + C], named `name`, in *out.
 */
struct sscma_yolo_decode;
sscma_status sscma_qm_append_yolo_decode(sscma_qmodel *q, const struct sscma_yolo_decode *d, const int32_t *maps,
                                         const char *name, int32_t *out);
/*
 * RTMDet's deployment outputs (rtmdet_outputs.c; lower.c makes them): cls_0..2 class logits [1, H_l W_l, C] and
 * dist_0..2 distances [1, H_l W_l, 4] in stride units, strides 8, 16, 32. sscma_qm_rtmdet_layout checks q has them
 * (in any order, as SSCMA-Micro reads them) and gives order[slot] = the output index of slot cls_0..2, dist_0..2,
 * the rows (sum of H_l W_l) and classes; errors start with `where`. sscma_qm_rtmdet_rows turns the slots' real
 * values (maps[slot], `batch` images) into [batch, rows, 5 + C] rows in yolo_decode's layout (cx, cy, w, h in input
 * pixels, 1, sigmoid scores), the points at (cell + offset) x stride: offset 0 as ModelAssistant's training decode
 * (rtmdet_decode), 0.5 as SSCMA-Micro's.
 */
#define SSCMA_RTMDET_LEVELS 3
extern const int32_t sscma_rtmdet_strides[SSCMA_RTMDET_LEVELS];
sscma_status sscma_qm_rtmdet_layout(const sscma_qmodel *q, const char *where, int32_t *order, int64_t *rows,
                                    int64_t *classes);
void sscma_qm_rtmdet_rows(int64_t in_h, int64_t in_w, int64_t classes, const float *const *maps, int64_t batch,
                          float offset, float *rows);
/* Checks the graph: every op's input and output shapes agree with its kind. Errors name the op. */
sscma_status sscma_qm_validate(const sscma_qmodel *q);

int64_t sscma_qm_numel(const qm_tensor *t);
/* Shape of activation tensor t at batch n. */
sscma_desc sscma_qm_desc(const qm_tensor *t, int64_t batch);

/* ---- runtimes ---- */

/* Called with each activation a float run produces (the graph input included), for calibration. */
typedef void (*qm_observe_fn)(void *user, int32_t tensor, const float *data, int64_t count);
/* Runs the float graph on plan p's buffers; `observe` (may be NULL) sees every activation. */
sscma_status sscma_qm_run_f32(sscma_qplan *p, qm_observe_fn observe, void *user);
/* Name of an op kind ("conv", "fully_connected", ...; "?" outside the enum), from the kinds' table. */
const char *sscma_qm_kind_name(qm_kind kind);
/*
 * Computes the int8 parameters of every op from the tensors' quantization (multipliers, shifts, clamps, tables) and
 * packs the weights for the backend (q->backend, or this CPU's best): once, when an int8 model is complete (the
 * quantizer and the TFLite reader call it), again only if a test forces another backend. After it the model is
 * read-only; it must not run while a plan of the model runs.
 */
sscma_status sscma_qm_prepare_int8(sscma_qmodel *q);
/* Whether the int8 state is missing or was computed for another backend than q->backend. */
bool sscma_qm_int8_stale(const sscma_qmodel *q);
/* The run state of plan p, as the kernels see it. */
qm_exec sscma_qm_exec(sscma_qplan *p);
/* Runs the int8 graph on plan p's buffers (int8.c). */
sscma_status sscma_qm_run_int8(sscma_qplan *p);

/*
 * The int8 model of float model f from activation ranges [lo[t], hi[t]] of its tensors t (seen[t]: observed), by
 * the scheme of docs/export.md (ptq.c). Used by post-training quantization and by QAT's conversion.
 */
sscma_status sscma_qm_build_int8(const sscma_qmodel *f, const double *lo, const double *hi, const bool *seen,
                                sscma_qmodel **out);

/* Whether the model has been prepared for quantization-aware training (qat.c; the trainer asks). */
bool sscma_qat_prepared(const sscma_model *model);

/* Copies the metadata of `src` into `dst`. */
sscma_status sscma_qm_copy_meta(sscma_qmodel *dst, const sscma_qmodel *src);

/* TFLite's QuantizeMultiplier: real = m * 2^(shift - 31), m in [2^30, 2^31) (0 when real is 0). */
void sscma_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift);

#endif /* SSCMA_LIB_QUANT_QMODEL_H */
