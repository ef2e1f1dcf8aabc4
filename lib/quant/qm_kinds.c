/*
 * The deployable kinds' table (see qm_kinds.h). The one file of quant/ that names the exporters' functions and
 * TFLite's builtin codes: a row is the unit of an op kind, so adding a kind is one row here plus its functions.
 */
#include "quant/qm_kinds.h"

#include "export/tflite_schema.h"

#define NO_TFLITE {-1, -1}

static const qm_kind_def kinds[] = {
    [QM_KIND_NONE] = {.kind = QM_KIND_NONE, .name = "?", .tflite_codes = NO_TFLITE},
    [QM_CONV] = {
        .kind = QM_CONV, .name = "conv", .has_weights = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = qm_validate_conv, .run_f32 = qm_f32_conv,
        .prepare_int8 = qm_i8_prepare_weighted, .run_int8 = qm_i8_conv,
        .tflite_codes = {TFL_OP_CONV_2D, TFL_OP_DEPTHWISE_CONV_2D}, .tflite_plan = qm_tfl_plan_conv,
        .tflite_options = qm_tfl_options_conv, .tflite_read = qm_tfl_read_conv,
        .onnx_write = qm_onnx_conv,
    },
    [QM_FC] = {
        .kind = QM_FC, .name = "fully_connected", .has_weights = true, .out_quant = QM_OUT_CALIBRATED,
        .validate = qm_validate_fc, .run_f32 = qm_f32_fc,
        .prepare_int8 = qm_i8_prepare_weighted, .run_int8 = qm_i8_fc,
        .tflite_codes = {TFL_OP_FULLY_CONNECTED, -1}, .tflite_plan = qm_tfl_plan_fc,
        .tflite_options = qm_tfl_options_fc, .tflite_read = qm_tfl_read_fc,
        .onnx_write = qm_onnx_fc,
    },
    [QM_ADD] = {
        .kind = QM_ADD, .name = "add", .out_quant = QM_OUT_CALIBRATED,
        .validate = qm_validate_add, .run_f32 = qm_f32_add,
        .prepare_int8 = qm_i8_prepare_add, .run_int8 = qm_i8_add,
        .tflite_codes = {TFL_OP_ADD, -1}, .tflite_plan = qm_tfl_plan_simple,
        .tflite_options = qm_tfl_options_add, .tflite_read = qm_tfl_read_add,
        .onnx_write = qm_onnx_add,
    },
    [QM_CONCAT] = {
        .kind = QM_CONCAT, .name = "concat", .out_quant = QM_OUT_CALIBRATED,
        .validate = qm_validate_concat, .run_f32 = qm_f32_concat,
        .prepare_int8 = qm_i8_prepare_concat, .run_int8 = qm_i8_concat,
        .tflite_codes = {TFL_OP_CONCATENATION, -1}, .tflite_plan = qm_tfl_plan_simple,
        .tflite_options = qm_tfl_options_concat, .tflite_read = qm_tfl_read_concat,
        .onnx_write = qm_onnx_concat,
    },
    [QM_AVG_POOL] = {
        .kind = QM_AVG_POOL, .name = "avg_pool", .out_quant = QM_OUT_AS_INPUT,
        .validate = qm_validate_pool, .run_f32 = qm_f32_pool,
        .prepare_int8 = qm_i8_prepare_same_params, .run_int8 = qm_i8_pool,
        .tflite_codes = {TFL_OP_AVERAGE_POOL_2D, -1}, .tflite_plan = qm_tfl_plan_pool,
        .tflite_options = qm_tfl_options_pool, .tflite_read = qm_tfl_read_pool,
        .onnx_write = qm_onnx_pool,
    },
    [QM_MAX_POOL] = {
        .kind = QM_MAX_POOL, .name = "max_pool", .out_quant = QM_OUT_AS_INPUT,
        .validate = qm_validate_pool, .run_f32 = qm_f32_pool,
        .prepare_int8 = qm_i8_prepare_same_params, .run_int8 = qm_i8_pool,
        .tflite_codes = {TFL_OP_MAX_POOL_2D, -1}, .tflite_plan = qm_tfl_plan_pool,
        .tflite_options = qm_tfl_options_pool, .tflite_read = qm_tfl_read_pool,
        .onnx_write = qm_onnx_pool,
    },
    [QM_RESHAPE] = {
        .kind = QM_RESHAPE, .name = "reshape", .out_quant = QM_OUT_AS_INPUT,
        .validate = qm_validate_reshape, .run_f32 = qm_f32_copy,
        .prepare_int8 = qm_i8_prepare_same_params, .run_int8 = qm_i8_copy,
        .tflite_codes = {TFL_OP_RESHAPE, -1}, .tflite_plan = qm_tfl_plan_reshape,
        .tflite_options = qm_tfl_options_reshape, .tflite_read = qm_tfl_read_plain,
        .onnx_write = qm_onnx_reshape,
    },
    [QM_SOFTMAX] = {
        .kind = QM_SOFTMAX, .name = "softmax", .out_quant = QM_OUT_UNIT_256,
        .validate = qm_validate_same_shape, .run_f32 = qm_f32_softmax,
        .prepare_int8 = qm_i8_prepare_softmax, .run_int8 = qm_i8_softmax,
        .tflite_codes = {TFL_OP_SOFTMAX, -1}, .tflite_plan = qm_tfl_plan_simple,
        .tflite_options = qm_tfl_options_softmax, .tflite_read = qm_tfl_read_softmax,
        .onnx_write = qm_onnx_softmax,
    },
    [QM_LOGISTIC] = {
        .kind = QM_LOGISTIC, .name = "logistic", .out_quant = QM_OUT_UNIT_256,
        .validate = qm_validate_same_shape, .run_f32 = qm_f32_logistic,
        .prepare_int8 = qm_i8_prepare_logistic, .run_int8 = qm_i8_lut,
        .tflite_codes = {TFL_OP_LOGISTIC, -1}, .tflite_plan = qm_tfl_plan_simple,
        .tflite_options = NULL, .tflite_read = qm_tfl_read_plain,
        .onnx_write = qm_onnx_logistic,
    },
    [QM_HARDSWISH] = {
        .kind = QM_HARDSWISH, .name = "hard_swish", .out_quant = QM_OUT_CALIBRATED,
        .validate = qm_validate_same_shape, .run_f32 = qm_f32_hardswish,
        .prepare_int8 = qm_i8_prepare_hardswish, .run_int8 = qm_i8_lut,
        .tflite_codes = {TFL_OP_HARD_SWISH, -1}, .tflite_plan = qm_tfl_plan_hardswish,
        .tflite_options = qm_tfl_options_hardswish, .tflite_read = qm_tfl_read_plain,
        .onnx_write = qm_onnx_hardswish,
    },
    [QM_RESIZE_NEAREST] = {
        .kind = QM_RESIZE_NEAREST, .name = "resize_nearest", .out_quant = QM_OUT_AS_INPUT,
        .validate = qm_validate_resize, .run_f32 = qm_f32_resize,
        .prepare_int8 = qm_i8_prepare_same_params, .run_int8 = qm_i8_resize,
        .tflite_codes = {TFL_OP_RESIZE_NEAREST_NEIGHBOR, -1}, .tflite_plan = qm_tfl_plan_resize,
        .tflite_options = qm_tfl_options_resize, .tflite_read = qm_tfl_read_resize,
        .onnx_write = qm_onnx_resize,
    },
    [QM_PAD] = {
        .kind = QM_PAD, .name = "pad", .out_quant = QM_OUT_AS_INPUT,
        .validate = qm_validate_pad, .run_f32 = qm_f32_pad,
        .prepare_int8 = qm_i8_prepare_same_params, .run_int8 = qm_i8_pad,
        .tflite_codes = {TFL_OP_PAD, -1}, .tflite_plan = qm_tfl_plan_pad,
        .tflite_options = qm_tfl_options_pad, .tflite_read = qm_tfl_read_pad,
        .onnx_write = qm_onnx_pad,
    },
    [QM_REQUANT] = {
        .kind = QM_REQUANT, .name = "requantize", .out_quant = QM_OUT_CALIBRATED,
        .validate = qm_validate_same_shape, .run_f32 = qm_f32_copy,
        .prepare_int8 = qm_i8_prepare_requant, .run_int8 = qm_i8_requant,
        .tflite_codes = {TFL_OP_QUANTIZE, -1}, .tflite_plan = qm_tfl_plan_requant,
        .tflite_options = qm_tfl_options_requant, .tflite_read = qm_tfl_read_requant,
        .onnx_write = qm_onnx_requant,
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
