/*
 * The deployable kinds' runtime table (see qm_kinds.h); the file formats' columns are lib/export/kinds.c.
 */
#include "quant/qm_kinds.h"

/* The micro runtime (SSCMA_MICRO) runs int8 models only: its rows have no float kernels (run_f32 NULL). */
#if defined(SSCMA_MICRO)
#  define F32(fn) NULL
#else
#  define F32(fn) fn
#endif

static const qm_kind_def kinds[] = {
    [QM_KIND_NONE] = {.kind = QM_KIND_NONE, .name = "?"},
    [QM_CONV] = {
        .kind = QM_CONV, .name = "conv", .has_weights = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_CONV, qm_validate_conv), .run_f32 = F32(qm_f32_conv),
        .prepare_int8 = QM_IF(QM_CONV, qm_i8_prepare_weighted), .run_int8 = QM_IF(QM_CONV, qm_i8_conv),
    },
    [QM_FC] = {
        .kind = QM_FC, .name = "fully_connected", .has_weights = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_FC, qm_validate_fc), .run_f32 = F32(qm_f32_fc),
        .prepare_int8 = QM_IF(QM_FC, qm_i8_prepare_weighted), .run_int8 = QM_IF(QM_FC, qm_i8_fc),
    },
    [QM_ADD] = {
        .kind = QM_ADD, .name = "add", .const_operands = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_ADD, qm_validate_binary), .run_f32 = F32(qm_f32_binary),
        .prepare_int8 = QM_IF(QM_ADD, qm_i8_prepare_add), .run_int8 = QM_IF(QM_ADD, qm_i8_binary),
    },
    [QM_CONCAT] = {
        .kind = QM_CONCAT, .name = "concat", .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_CONCAT, qm_validate_concat), .run_f32 = F32(qm_f32_concat),
        .prepare_int8 = QM_IF(QM_CONCAT, qm_i8_prepare_concat), .run_int8 = QM_IF(QM_CONCAT, qm_i8_concat),
    },
    [QM_AVG_POOL] = {
        .kind = QM_AVG_POOL, .name = "avg_pool", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_AVG_POOL, qm_validate_pool), .run_f32 = F32(qm_f32_pool),
        .prepare_int8 = QM_IF(QM_AVG_POOL, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_AVG_POOL, qm_i8_pool),
    },
    [QM_MAX_POOL] = {
        .kind = QM_MAX_POOL, .name = "max_pool", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_MAX_POOL, qm_validate_pool), .run_f32 = F32(qm_f32_pool),
        .prepare_int8 = QM_IF(QM_MAX_POOL, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_MAX_POOL, qm_i8_pool),
    },
    [QM_RESHAPE] = {
        .kind = QM_RESHAPE, .name = "reshape", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_RESHAPE, qm_validate_reshape), .run_f32 = F32(qm_f32_copy),
        .prepare_int8 = QM_IF(QM_RESHAPE, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_RESHAPE, qm_i8_copy),
    },
    [QM_SOFTMAX] = {
        .kind = QM_SOFTMAX, .name = "softmax", .out_quant = QM_OUT_UNIT_256,
        .validate = QM_IF(QM_SOFTMAX, qm_validate_same_shape), .run_f32 = F32(qm_f32_softmax),
        .prepare_int8 = QM_IF(QM_SOFTMAX, qm_i8_prepare_softmax), .run_int8 = QM_IF(QM_SOFTMAX, qm_i8_softmax),
    },
    [QM_LOGISTIC] = {
        .kind = QM_LOGISTIC, .name = "logistic", .out_quant = QM_OUT_UNIT_256,
        .validate = QM_IF(QM_LOGISTIC, qm_validate_same_shape), .run_f32 = F32(qm_f32_logistic),
        .prepare_int8 = QM_IF(QM_LOGISTIC, qm_i8_prepare_logistic), .run_int8 = QM_IF(QM_LOGISTIC, qm_i8_lut),
    },
    [QM_HARDSWISH] = {
        .kind = QM_HARDSWISH, .name = "hard_swish", .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_HARDSWISH, qm_validate_same_shape), .run_f32 = F32(qm_f32_hardswish),
        .prepare_int8 = QM_IF(QM_HARDSWISH, qm_i8_prepare_hardswish), .run_int8 = QM_IF(QM_HARDSWISH, qm_i8_lut),
    },
    [QM_RESIZE_NEAREST] = {
        .kind = QM_RESIZE_NEAREST, .name = "resize_nearest", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_RESIZE_NEAREST, qm_validate_resize), .run_f32 = F32(qm_f32_resize),
        .prepare_int8 = QM_IF(QM_RESIZE_NEAREST, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_RESIZE_NEAREST, qm_i8_resize),
    },
    [QM_PAD] = {
        .kind = QM_PAD, .name = "pad", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_PAD, qm_validate_pad), .run_f32 = F32(qm_f32_pad),
        .prepare_int8 = QM_IF(QM_PAD, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_PAD, qm_i8_pad),
    },
    [QM_REQUANT] = {
        .kind = QM_REQUANT, .name = "requantize", .out_quant = QM_OUT_CALIBRATED, .converts = true,
        .validate = QM_IF(QM_REQUANT, qm_validate_quantize), .run_f32 = F32(qm_f32_copy),
        .prepare_int8 = QM_IF(QM_REQUANT, qm_i8_prepare_requant), .run_int8 = QM_IF(QM_REQUANT, qm_i8_requant),
    },
    [QM_CLAMP] = {
        .kind = QM_CLAMP, .name = "clamp", .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_CLAMP, qm_validate_same_shape), .run_f32 = F32(qm_f32_clamp),
        .prepare_int8 = QM_IF(QM_CLAMP, qm_i8_prepare_clamp), .run_int8 = QM_IF(QM_CLAMP, qm_i8_lut),
    },
    [QM_LEAKY_RELU] = {
        .kind = QM_LEAKY_RELU, .name = "leaky_relu", .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_LEAKY_RELU, qm_validate_same_shape), .run_f32 = F32(qm_f32_leaky_relu),
        .prepare_int8 = QM_IF(QM_LEAKY_RELU, qm_i8_prepare_leaky_relu), .run_int8 = QM_IF(QM_LEAKY_RELU, qm_i8_lut),
    },
    [QM_TANH] = {
        .kind = QM_TANH, .name = "tanh", .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_TANH, qm_validate_same_shape), .run_f32 = F32(qm_f32_tanh),
        .prepare_int8 = QM_IF(QM_TANH, qm_i8_prepare_tanh), .run_int8 = QM_IF(QM_TANH, qm_i8_lut),
    },
    [QM_EXP] = {
        .kind = QM_EXP, .name = "exp", .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_EXP, qm_validate_same_shape), .run_f32 = F32(qm_f32_exp),
        .prepare_int8 = QM_IF(QM_EXP, qm_i8_prepare_exp), .run_int8 = QM_IF(QM_EXP, qm_i8_lut),
    },
    [QM_DEQUANTIZE] = {
        .kind = QM_DEQUANTIZE, .name = "dequantize", .out_quant = QM_OUT_CALIBRATED, .converts = true,
        .validate = QM_IF(QM_DEQUANTIZE, qm_validate_dequantize), .run_f32 = F32(qm_f32_none),
        .prepare_int8 = QM_IF(QM_DEQUANTIZE, qm_i8_prepare_none), .run_int8 = QM_IF(QM_DEQUANTIZE, qm_i8_dequantize),
    },
    [QM_SUB] = {
        .kind = QM_SUB, .name = "sub", .const_operands = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_SUB, qm_validate_binary), .run_f32 = F32(qm_f32_binary),
        .prepare_int8 = QM_IF(QM_SUB, qm_i8_prepare_add), .run_int8 = QM_IF(QM_SUB, qm_i8_binary),
    },
    [QM_MUL] = {
        .kind = QM_MUL, .name = "mul", .const_operands = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_MUL, qm_validate_binary), .run_f32 = F32(qm_f32_binary),
        .prepare_int8 = QM_IF(QM_MUL, qm_i8_prepare_mul), .run_int8 = QM_IF(QM_MUL, qm_i8_binary),
    },
    [QM_MAXIMUM] = {
        .kind = QM_MAXIMUM, .name = "maximum", .const_operands = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_MAXIMUM, qm_validate_binary), .run_f32 = F32(qm_f32_binary),
        .prepare_int8 = QM_IF(QM_MAXIMUM, qm_i8_prepare_minmax), .run_int8 = QM_IF(QM_MAXIMUM, qm_i8_binary),
    },
    [QM_MINIMUM] = {
        .kind = QM_MINIMUM, .name = "minimum", .const_operands = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_MINIMUM, qm_validate_binary), .run_f32 = F32(qm_f32_binary),
        .prepare_int8 = QM_IF(QM_MINIMUM, qm_i8_prepare_minmax), .run_int8 = QM_IF(QM_MINIMUM, qm_i8_binary),
    },
    [QM_MEAN] = {
        .kind = QM_MEAN, .name = "mean", .out_quant = QM_OUT_CALIBRATED,
        .validate = QM_IF(QM_MEAN, qm_validate_mean), .run_f32 = F32(qm_f32_mean),
        .prepare_int8 = QM_IF(QM_MEAN, qm_i8_prepare_mean), .run_int8 = QM_IF(QM_MEAN, qm_i8_mean),
    },
    [QM_TRANSPOSE] = {
        .kind = QM_TRANSPOSE, .name = "transpose", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_TRANSPOSE, qm_validate_transpose), .run_f32 = F32(qm_run_move),
        .prepare_int8 = QM_IF(QM_TRANSPOSE, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_TRANSPOSE, qm_run_move),
    },
    [QM_SLICE] = {
        .kind = QM_SLICE, .name = "slice", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_SLICE, qm_validate_slice), .run_f32 = F32(qm_run_move),
        .prepare_int8 = QM_IF(QM_SLICE, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_SLICE, qm_run_move),
    },
    [QM_TILE] = {
        .kind = QM_TILE, .name = "tile", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_TILE, qm_validate_tile), .run_f32 = F32(qm_run_move),
        .prepare_int8 = QM_IF(QM_TILE, qm_i8_prepare_same_params), .run_int8 = QM_IF(QM_TILE, qm_run_move),
    },
    [QM_RESIZE_BILINEAR] = {
        .kind = QM_RESIZE_BILINEAR, .name = "resize_bilinear", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_RESIZE_BILINEAR, qm_validate_resize), .run_f32 = F32(qm_f32_resize_bilinear),
        .prepare_int8 = QM_IF(QM_RESIZE_BILINEAR, qm_i8_prepare_resize_bilinear), .run_int8 = QM_IF(QM_RESIZE_BILINEAR, qm_i8_resize_bilinear),
    },
    [QM_SPACE_TO_DEPTH] = {
        .kind = QM_SPACE_TO_DEPTH, .name = "space_to_depth", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_SPACE_TO_DEPTH, qm_validate_space_depth), .run_f32 = F32(qm_run_space_depth),
        .prepare_int8 = QM_IF(QM_SPACE_TO_DEPTH, qm_i8_prepare_same_params),
        .run_int8 = QM_IF(QM_SPACE_TO_DEPTH, qm_run_space_depth),
    },
    [QM_DEPTH_TO_SPACE] = {
        .kind = QM_DEPTH_TO_SPACE, .name = "depth_to_space", .out_quant = QM_OUT_AS_INPUT,
        .validate = QM_IF(QM_DEPTH_TO_SPACE, qm_validate_space_depth), .run_f32 = F32(qm_run_space_depth),
        .prepare_int8 = QM_IF(QM_DEPTH_TO_SPACE, qm_i8_prepare_same_params),
        .run_int8 = QM_IF(QM_DEPTH_TO_SPACE, qm_run_space_depth),
    },
};
_Static_assert(sizeof kinds / sizeof kinds[0] == QM_KIND_COUNT, "every qm_kind needs its row in kinds[]");

const qm_kind_def *sscma_qm_kind(qm_kind kind)
{
    return (int)kind > QM_KIND_NONE && (int)kind < QM_KIND_COUNT ? &kinds[kind] : NULL;
}

const char *sscma_qm_kind_name(qm_kind kind)
{
    const qm_kind_def *def = sscma_qm_kind(kind);
    return def != NULL ? def->name : "?";
}
