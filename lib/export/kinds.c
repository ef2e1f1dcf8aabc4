/* The file formats' table of the deployable kinds (see kinds.h). */
#include "export/kinds.h"

#include "export/tflite_schema.h"
#include "quant/qm_kinds.h"

/* The micro runtime (SSCMA_MICRO) only reads TFLite files: its rows have no writers, so the linker drops them. */
#if defined(SSCMA_MICRO)
#  define WRITER(fn) NULL
#else
#  define WRITER(fn) fn
#endif

static const qm_format_def formats[] = {
    [QM_KIND_NONE] = {.kind = QM_KIND_NONE, .tflite_codes = {-1, -1, -1}},
    [QM_CONV] = {
        .kind = QM_CONV,
        .tflite_codes = {TFL_OP_CONV_2D, TFL_OP_DEPTHWISE_CONV_2D, -1}, .tflite_plan = WRITER(qm_tfl_plan_conv),
        .tflite_options = WRITER(qm_tfl_options_conv), .tflite_read = QM_IF(QM_CONV, qm_tfl_read_conv),
        .onnx_write = WRITER(qm_onnx_conv),
    },
    [QM_FC] = {
        .kind = QM_FC,
        .tflite_codes = {TFL_OP_FULLY_CONNECTED, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_fc),
        .tflite_options = WRITER(qm_tfl_options_fc), .tflite_read = QM_IF(QM_FC, qm_tfl_read_fc),
        .onnx_write = WRITER(qm_onnx_fc),
    },
    [QM_ADD] = {
        .kind = QM_ADD,
        .tflite_codes = {TFL_OP_ADD, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_add), .tflite_read = QM_IF(QM_ADD, qm_tfl_read_add),
        .onnx_write = WRITER(qm_onnx_add),
    },
    [QM_CONCAT] = {
        .kind = QM_CONCAT,
        .tflite_codes = {TFL_OP_CONCATENATION, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_concat), .tflite_read = QM_IF(QM_CONCAT, qm_tfl_read_concat),
        .onnx_write = WRITER(qm_onnx_concat),
    },
    [QM_AVG_POOL] = {
        .kind = QM_AVG_POOL,
        .tflite_codes = {TFL_OP_AVERAGE_POOL_2D, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_pool),
        .tflite_options = WRITER(qm_tfl_options_pool), .tflite_read = QM_IF(QM_AVG_POOL, qm_tfl_read_pool),
        .onnx_write = WRITER(qm_onnx_pool),
    },
    [QM_MAX_POOL] = {
        .kind = QM_MAX_POOL,
        .tflite_codes = {TFL_OP_MAX_POOL_2D, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_pool),
        .tflite_options = WRITER(qm_tfl_options_pool), .tflite_read = QM_IF(QM_MAX_POOL, qm_tfl_read_pool),
        .onnx_write = WRITER(qm_onnx_pool),
    },
    [QM_RESHAPE] = {
        .kind = QM_RESHAPE,
        .tflite_codes = {TFL_OP_RESHAPE, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_reshape),
        .tflite_options = WRITER(qm_tfl_options_reshape), .tflite_read = QM_IF(QM_RESHAPE, qm_tfl_read_reshape),
        .onnx_write = WRITER(qm_onnx_reshape),
    },
    [QM_SOFTMAX] = {
        .kind = QM_SOFTMAX,
        .tflite_codes = {TFL_OP_SOFTMAX, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_softmax), .tflite_read = QM_IF(QM_SOFTMAX, qm_tfl_read_softmax),
        .onnx_write = WRITER(qm_onnx_softmax),
    },
    [QM_LOGISTIC] = {
        .kind = QM_LOGISTIC,
        .tflite_codes = {TFL_OP_LOGISTIC, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(NULL), .tflite_read = QM_IF(QM_LOGISTIC, qm_tfl_read_plain),
        .onnx_write = WRITER(qm_onnx_logistic),
    },
    [QM_HARDSWISH] = {
        .kind = QM_HARDSWISH,
        .tflite_codes = {TFL_OP_HARD_SWISH, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_hardswish),
        .tflite_options = WRITER(qm_tfl_options_hardswish), .tflite_read = QM_IF(QM_HARDSWISH, qm_tfl_read_plain),
        .onnx_write = WRITER(qm_onnx_hardswish),
    },
    [QM_RESIZE_NEAREST] = {
        .kind = QM_RESIZE_NEAREST,
        .tflite_codes = {TFL_OP_RESIZE_NEAREST_NEIGHBOR, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_resize),
        .tflite_options = WRITER(qm_tfl_options_resize), .tflite_read = QM_IF(QM_RESIZE_NEAREST, qm_tfl_read_resize),
        .onnx_write = WRITER(qm_onnx_resize),
    },
    [QM_PAD] = {
        .kind = QM_PAD,
        .tflite_codes = {TFL_OP_PAD, TFL_OP_PADV2, -1}, .tflite_plan = WRITER(qm_tfl_plan_pad),
        .tflite_options = WRITER(qm_tfl_options_pad), .tflite_read = QM_IF(QM_PAD, qm_tfl_read_pad),
        .onnx_write = WRITER(qm_onnx_pad),
    },
    [QM_REQUANT] = {
        .kind = QM_REQUANT,
        .tflite_codes = {TFL_OP_QUANTIZE, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_requant),
        .tflite_options = WRITER(qm_tfl_options_requant), .tflite_read = QM_IF(QM_REQUANT, qm_tfl_read_requant),
        .onnx_write = WRITER(qm_onnx_requant),
    },
    [QM_CLAMP] = {
        .kind = QM_CLAMP,
        .tflite_codes = {TFL_OP_RELU, TFL_OP_RELU6, TFL_OP_RELU_N1_TO_1}, .tflite_plan = WRITER(qm_tfl_plan_clamp),
        .tflite_read = QM_IF(QM_CLAMP, qm_tfl_read_clamp),
        .onnx_write = WRITER(qm_onnx_clamp),
    },
    [QM_LEAKY_RELU] = {
        .kind = QM_LEAKY_RELU,
        .tflite_codes = {TFL_OP_LEAKY_RELU, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_leaky_relu), .tflite_read = QM_IF(QM_LEAKY_RELU, qm_tfl_read_leaky_relu),
        .onnx_write = WRITER(qm_onnx_leaky_relu),
    },
    [QM_DEQUANTIZE] = {
        .kind = QM_DEQUANTIZE,
        .tflite_codes = {TFL_OP_DEQUANTIZE, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_dequantize),
        .tflite_read = QM_IF(QM_DEQUANTIZE, qm_tfl_read_plain),
        .onnx_write = WRITER(qm_onnx_dequantize),
    },
    [QM_TANH] = {
        .kind = QM_TANH,
        .tflite_codes = {TFL_OP_TANH, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_read = QM_IF(QM_TANH, qm_tfl_read_plain),
        .onnx_write = WRITER(qm_onnx_tanh),
    },
    [QM_EXP] = {
        .kind = QM_EXP,
        .tflite_codes = {TFL_OP_EXP, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_exp), .tflite_read = QM_IF(QM_EXP, qm_tfl_read_plain),
        .onnx_write = WRITER(qm_onnx_exp),
    },
    [QM_SUB] = {
        .kind = QM_SUB,
        .tflite_codes = {TFL_OP_SUB, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_sub), .tflite_read = QM_IF(QM_SUB, qm_tfl_read_add),
        .onnx_write = WRITER(qm_onnx_sub),
    },
    [QM_MUL] = {
        .kind = QM_MUL,
        .tflite_codes = {TFL_OP_MUL, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_mul), .tflite_read = QM_IF(QM_MUL, qm_tfl_read_add),
        .onnx_write = WRITER(qm_onnx_mul),
    },
    [QM_MAXIMUM] = {
        .kind = QM_MAXIMUM,
        .tflite_codes = {TFL_OP_MAXIMUM, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_minmax), .tflite_read = QM_IF(QM_MAXIMUM, qm_tfl_read_minmax),
        .onnx_write = WRITER(qm_onnx_maximum),
    },
    [QM_MINIMUM] = {
        .kind = QM_MINIMUM,
        .tflite_codes = {TFL_OP_MINIMUM, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_simple),
        .tflite_options = WRITER(qm_tfl_options_minmax), .tflite_read = QM_IF(QM_MINIMUM, qm_tfl_read_minmax),
        .onnx_write = WRITER(qm_onnx_minimum),
    },
    [QM_MEAN] = {
        .kind = QM_MEAN,
        .tflite_codes = {TFL_OP_MEAN, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_mean),
        .tflite_options = WRITER(qm_tfl_options_mean), .tflite_read = QM_IF(QM_MEAN, qm_tfl_read_mean),
        .onnx_write = WRITER(qm_onnx_mean),
    },
    [QM_TRANSPOSE] = {
        .kind = QM_TRANSPOSE,
        .tflite_codes = {TFL_OP_TRANSPOSE, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_transpose),
        .tflite_options = WRITER(qm_tfl_options_transpose), .tflite_read = QM_IF(QM_TRANSPOSE, qm_tfl_read_transpose),
        .onnx_write = WRITER(qm_onnx_transpose),
    },
    [QM_SLICE] = { /* SPLIT and SPLIT_V: one slice per output (read_op) */
        .kind = QM_SLICE,
        .tflite_codes = {TFL_OP_STRIDED_SLICE, TFL_OP_SLICE, TFL_OP_SPLIT, TFL_OP_SPLIT_V},
        .tflite_plan = WRITER(qm_tfl_plan_slice),
        .tflite_options = WRITER(qm_tfl_options_slice), .tflite_read = QM_IF(QM_SLICE, qm_tfl_read_slice),
        .onnx_write = WRITER(qm_onnx_slice),
    },
    [QM_TILE] = {
        .kind = QM_TILE,
        .tflite_codes = {TFL_OP_TILE, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_tile),
        .tflite_options = WRITER(qm_tfl_options_tile), .tflite_read = QM_IF(QM_TILE, qm_tfl_read_tile),
        .onnx_write = WRITER(qm_onnx_tile),
    },
    [QM_RESIZE_BILINEAR] = { /* the nearest kind's functions (export/tflite_resize.c), by kind */
        .kind = QM_RESIZE_BILINEAR,
        .tflite_codes = {TFL_OP_RESIZE_BILINEAR, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_resize),
        .tflite_options = WRITER(qm_tfl_options_resize), .tflite_read = QM_IF(QM_RESIZE_BILINEAR, qm_tfl_read_resize),
        .onnx_write = WRITER(qm_onnx_resize),
    },
    [QM_SPACE_TO_DEPTH] = {
        .kind = QM_SPACE_TO_DEPTH,
        .tflite_codes = {TFL_OP_SPACE_TO_DEPTH, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_space_depth),
        .tflite_options = WRITER(qm_tfl_options_space_depth),
        .tflite_read = QM_IF(QM_SPACE_TO_DEPTH, qm_tfl_read_space_depth), .onnx_write = WRITER(qm_onnx_space_depth),
    },
    [QM_DEPTH_TO_SPACE] = {
        .kind = QM_DEPTH_TO_SPACE,
        .tflite_codes = {TFL_OP_DEPTH_TO_SPACE, -1, -1}, .tflite_plan = WRITER(qm_tfl_plan_space_depth),
        .tflite_options = WRITER(qm_tfl_options_space_depth),
        .tflite_read = QM_IF(QM_DEPTH_TO_SPACE, qm_tfl_read_space_depth), .onnx_write = WRITER(qm_onnx_space_depth),
    },
};
_Static_assert(sizeof formats / sizeof formats[0] == QM_KIND_COUNT, "every qm_kind needs its row in formats[]");

const qm_format_def *sscma_qm_format(qm_kind kind)
{
    return (int)kind > QM_KIND_NONE && (int)kind < QM_KIND_COUNT ? &formats[kind] : NULL;
}
