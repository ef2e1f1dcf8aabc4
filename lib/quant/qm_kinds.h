/*
 * The deployable op kinds: tables indexed by qm_kind, one per module, as ggml keeps one table per aspect. This one
 * (lib/quant/qm_kinds.c) holds what the runtimes and PTQ need of a kind; lib/export/kinds.{h,c} holds the file
 * formats' columns (TFLite builtin codes, writer and reader, ONNX writer), so that quant never names the
 * exporters (module ranks, docs/architecture.md). Each table ends in a static assertion on QM_KIND_COUNT: a kind
 * added to the enum without its row in either table does not compile. Consumers dispatch once per op through the
 * rows instead of each keeping its own switch.
 *
 * The functions live with their aspect (shape checks and the float runtime in qmodel.c, the integer kernels in
 * int8.c); this header declares them for the table only. Internal: never installed.
 */
#ifndef SSCMA_LIB_QUANT_QM_KINDS_H
#define SSCMA_LIB_QUANT_QM_KINDS_H

#include "quant/qmodel.h"

/*
 * The micro runtime's operator set (docs/deployment.md, "Microcontrollers"): built with SSCMA_MICRO_KINDS and one
 * SSCMA_MICRO_KIND_<NAME> per kind it keeps (meson's -Dmicro_kinds=conv,add,...: NAME is the enum's name without
 * QM_), a kind left out keeps its table rows without functions, so the linker drops its kernels and reader and a
 * file using it is refused ("the runtime has no kernel for this operator"), as TFLite Micro's op resolver does.
 * QM_IF(kind, fn) is fn, or NULL for a kind left out. Without SSCMA_MICRO_KINDS every kind is built.
 */
#if defined(SSCMA_MICRO) && defined(SSCMA_MICRO_KINDS)
#  if defined(SSCMA_MICRO_KIND_CONV)
#    define QM_KEEP_QM_CONV 1
#  else
#    define QM_KEEP_QM_CONV 0
#  endif
#  if defined(SSCMA_MICRO_KIND_FC)
#    define QM_KEEP_QM_FC 1
#  else
#    define QM_KEEP_QM_FC 0
#  endif
#  if defined(SSCMA_MICRO_KIND_ADD)
#    define QM_KEEP_QM_ADD 1
#  else
#    define QM_KEEP_QM_ADD 0
#  endif
#  if defined(SSCMA_MICRO_KIND_CONCAT)
#    define QM_KEEP_QM_CONCAT 1
#  else
#    define QM_KEEP_QM_CONCAT 0
#  endif
#  if defined(SSCMA_MICRO_KIND_AVG_POOL)
#    define QM_KEEP_QM_AVG_POOL 1
#  else
#    define QM_KEEP_QM_AVG_POOL 0
#  endif
#  if defined(SSCMA_MICRO_KIND_MAX_POOL)
#    define QM_KEEP_QM_MAX_POOL 1
#  else
#    define QM_KEEP_QM_MAX_POOL 0
#  endif
#  if defined(SSCMA_MICRO_KIND_RESHAPE)
#    define QM_KEEP_QM_RESHAPE 1
#  else
#    define QM_KEEP_QM_RESHAPE 0
#  endif
#  if defined(SSCMA_MICRO_KIND_SOFTMAX)
#    define QM_KEEP_QM_SOFTMAX 1
#  else
#    define QM_KEEP_QM_SOFTMAX 0
#  endif
#  if defined(SSCMA_MICRO_KIND_LOGISTIC)
#    define QM_KEEP_QM_LOGISTIC 1
#  else
#    define QM_KEEP_QM_LOGISTIC 0
#  endif
#  if defined(SSCMA_MICRO_KIND_HARDSWISH)
#    define QM_KEEP_QM_HARDSWISH 1
#  else
#    define QM_KEEP_QM_HARDSWISH 0
#  endif
#  if defined(SSCMA_MICRO_KIND_RESIZE_NEAREST)
#    define QM_KEEP_QM_RESIZE_NEAREST 1
#  else
#    define QM_KEEP_QM_RESIZE_NEAREST 0
#  endif
#  if defined(SSCMA_MICRO_KIND_PAD)
#    define QM_KEEP_QM_PAD 1
#  else
#    define QM_KEEP_QM_PAD 0
#  endif
#  if defined(SSCMA_MICRO_KIND_REQUANT)
#    define QM_KEEP_QM_REQUANT 1
#  else
#    define QM_KEEP_QM_REQUANT 0
#  endif
#  if defined(SSCMA_MICRO_KIND_CLAMP)
#    define QM_KEEP_QM_CLAMP 1
#  else
#    define QM_KEEP_QM_CLAMP 0
#  endif
#  if defined(SSCMA_MICRO_KIND_LEAKY_RELU)
#    define QM_KEEP_QM_LEAKY_RELU 1
#  else
#    define QM_KEEP_QM_LEAKY_RELU 0
#  endif
#  if defined(SSCMA_MICRO_KIND_TANH)
#    define QM_KEEP_QM_TANH 1
#  else
#    define QM_KEEP_QM_TANH 0
#  endif
#  if defined(SSCMA_MICRO_KIND_EXP)
#    define QM_KEEP_QM_EXP 1
#  else
#    define QM_KEEP_QM_EXP 0
#  endif
#  if defined(SSCMA_MICRO_KIND_DEQUANTIZE)
#    define QM_KEEP_QM_DEQUANTIZE 1
#  else
#    define QM_KEEP_QM_DEQUANTIZE 0
#  endif
#  if defined(SSCMA_MICRO_KIND_SUB)
#    define QM_KEEP_QM_SUB 1
#  else
#    define QM_KEEP_QM_SUB 0
#  endif
#  if defined(SSCMA_MICRO_KIND_MUL)
#    define QM_KEEP_QM_MUL 1
#  else
#    define QM_KEEP_QM_MUL 0
#  endif
#  if defined(SSCMA_MICRO_KIND_MAXIMUM)
#    define QM_KEEP_QM_MAXIMUM 1
#  else
#    define QM_KEEP_QM_MAXIMUM 0
#  endif
#  if defined(SSCMA_MICRO_KIND_MINIMUM)
#    define QM_KEEP_QM_MINIMUM 1
#  else
#    define QM_KEEP_QM_MINIMUM 0
#  endif
#  if defined(SSCMA_MICRO_KIND_MEAN)
#    define QM_KEEP_QM_MEAN 1
#  else
#    define QM_KEEP_QM_MEAN 0
#  endif
#  if defined(SSCMA_MICRO_KIND_TRANSPOSE)
#    define QM_KEEP_QM_TRANSPOSE 1
#  else
#    define QM_KEEP_QM_TRANSPOSE 0
#  endif
#  if defined(SSCMA_MICRO_KIND_SLICE)
#    define QM_KEEP_QM_SLICE 1
#  else
#    define QM_KEEP_QM_SLICE 0
#  endif
#  if defined(SSCMA_MICRO_KIND_TILE)
#    define QM_KEEP_QM_TILE 1
#  else
#    define QM_KEEP_QM_TILE 0
#  endif
#  if defined(SSCMA_MICRO_KIND_RESIZE_BILINEAR)
#    define QM_KEEP_QM_RESIZE_BILINEAR 1
#  else
#    define QM_KEEP_QM_RESIZE_BILINEAR 0
#  endif
#  if defined(SSCMA_MICRO_KIND_SPACE_TO_DEPTH)
#    define QM_KEEP_QM_SPACE_TO_DEPTH 1
#  else
#    define QM_KEEP_QM_SPACE_TO_DEPTH 0
#  endif
#  if defined(SSCMA_MICRO_KIND_DEPTH_TO_SPACE)
#    define QM_KEEP_QM_DEPTH_TO_SPACE 1
#  else
#    define QM_KEEP_QM_DEPTH_TO_SPACE 0
#  endif
#  define QM_KEEP(kind) QM_KEEP_##kind
#else
#  define QM_KEEP(kind) 1
#endif
#define QM_IF(kind, fn) (QM_KEEP(kind) ? (fn) : NULL)

/* How post-training quantization picks the int8 output's scale and zero point. */
typedef enum qm_out_quant {
    QM_OUT_CALIBRATED = 0, /* from the observed range of the output */
    QM_OUT_AS_INPUT,       /* the input's (pooling, shape ops: TFLite requires them equal) */
    QM_OUT_UNIT_256        /* scale 1/256, zero point -128 (softmax, logistic: TFLite's fixed output) */
} qm_out_quant;

typedef struct qm_kind_def {
    qm_kind kind; /* its own index: the completeness test checks it */
    const char *name;
    bool has_weights;       /* inputs 1 and 2 are constant weights and bias (int8 and int32 when quantized) */
    /*
     * The kind converts between types (QUANTIZE, DEQUANTIZE): its validate checks its operands' types and
     * quantization itself, instead of the rule every other kind follows (all float, or all int8 per tensor).
     */
    bool converts;
    /*
     * Inputs may be constant tensors of the activations' type (int8 per tensor in an int8 model, else float): the
     * scalar or per-channel operand of a binary op (TFLite's x * 0.75, x + bias[C]), broadcast against the other
     * input. Without it only the weights of has_weights kinds may be constant.
     */
    bool const_operands;
    qm_out_quant out_quant;
    /* Shape checks beyond those every op shares (sscma_qm_validate): what keeps the kernels in bounds. */
    sscma_status (*validate)(const sscma_qmodel *q, const qm_op *op);
    sscma_status (*run_f32)(const qm_exec *ex, const qm_op *op);
    /* Integer parameters and packed weights of one op, chosen once (backend, specialised kernel). */
    sscma_status (*prepare_int8)(sscma_qmodel *q, qm_op *op);
    sscma_status (*run_int8)(const qm_exec *ex, const qm_op *op);
} qm_kind_def;

/* The row of `kind`, or NULL for a value outside the enum (a damaged or hand-made model). */
const qm_kind_def *sscma_qm_kind(qm_kind kind);

/* ---- the rows' functions, by the file that defines them ---- */

/* qmodel.c: shape checks */
sscma_status qm_validate_conv(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_fc(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_concat(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_pool(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_reshape(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_same_shape(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_resize(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_pad(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_quantize(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_dequantize(const sscma_qmodel *q, const qm_op *op);

/* qmodel.c: the float runtime over the op table's kernels */
sscma_status qm_f32_conv(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_fc(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_concat(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_pool(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_copy(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_softmax(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_logistic(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_hardswish(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_resize(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_pad(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_clamp(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_tanh(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_exp(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_none(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_leaky_relu(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_resize_bilinear(const qm_exec *ex, const qm_op *op); /* k_resize.c, with the nearest kind's */

/* int8.c: integer parameters */
sscma_status qm_i8_prepare_weighted(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_add(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_concat(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_same_params(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_softmax(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_logistic(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_hardswish(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_requant(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_clamp(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_tanh(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_exp(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_none(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_leaky_relu(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_resize_bilinear(sscma_qmodel *q, qm_op *op);

/* int8.c: integer kernels */
sscma_status qm_i8_conv(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_fc(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_add(const qm_exec *ex, const qm_op *op); /* two activations of one shape: qm_i8_binary's fast path */
sscma_status qm_i8_pool(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_softmax(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_requant(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_dequantize(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_copy(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_lut(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_concat(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_pad(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_resize(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_resize_bilinear(const qm_exec *ex, const qm_op *op);

/* k_binary.c: elementwise binary ops with TFLite's broadcasting (ADD, SUB, MUL, MAXIMUM, MINIMUM) and MEAN */
sscma_status qm_validate_binary(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_mean(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_f32_binary(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_mean(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_prepare_mul(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_minmax(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_mean(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_binary(const qm_exec *ex, const qm_op *op);
/* ADD/SUB/MUL/MAXIMUM/MINIMUM with a constant operand per tensor or per channel: op->lut tabulates the op (else NULL). */
sscma_status qm_i8_binary_table(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_mean(const qm_exec *ex, const qm_op *op);
/* k_shape.c: transpose, slice, tile (one kernel for both runtimes) */
sscma_status qm_validate_transpose(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_slice(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_tile(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_run_move(const qm_exec *ex, const qm_op *op);
/* k_space.c: space_to_depth, depth_to_space (one kernel for both runtimes and both kinds) */
sscma_status qm_validate_space_depth(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_run_space_depth(const qm_exec *ex, const qm_op *op);

#endif /* SSCMA_LIB_QUANT_QM_KINDS_H */
