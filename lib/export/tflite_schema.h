/*
 * The parts of the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs, schema version 3) that libsscma
 * writes and reads, transcribed by hand: enum values, and in comments the field numbers of each table (a union
 * takes two fields: its type, then its value).
 *
 *   Model:            0 version:uint, 1 operator_codes:[OperatorCode], 2 subgraphs:[SubGraph], 3 description:string,
 *                     4 buffers:[Buffer], 5 metadata_buffer:[int], 6 metadata:[Metadata]
 *   OperatorCode:     0 deprecated_builtin_code:byte, 1 custom_code:string, 2 version:int = 1, 3 builtin_code:int
 *   SubGraph:         0 tensors:[Tensor], 1 inputs:[int], 2 outputs:[int], 3 operators:[Operator], 4 name:string
 *   Buffer:           0 data:[ubyte] (force_align 16), 1 offset:ulong, 2 size:ulong
 *   Metadata:         0 name:string, 1 buffer:uint
 *   Tensor:           0 shape:[int], 1 type:byte, 2 buffer:uint, 3 name:string, 4 quantization, 5 is_variable:bool
 *   QuantizationParameters: 0 min:[float], 1 max:[float], 2 scale:[float], 3 zero_point:[long],
 *                     4-5 details (union), 6 quantized_dimension:int
 *   Operator:         0 opcode_index:uint, 1 inputs:[int], 2 outputs:[int], 3 builtin_options_type:ubyte,
 *                     4 builtin_options (table)
 *   Conv2DOptions:    0 padding:byte, 1 stride_w:int, 2 stride_h:int, 3 fused_activation_function:byte,
 *                     4 dilation_w_factor:int = 1, 5 dilation_h_factor:int = 1
 *   DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier:int, 4 fused_activation_function,
 *                     5 dilation_w_factor = 1, 6 dilation_h_factor = 1
 *   Pool2DOptions:    0 padding, 1 stride_w, 2 stride_h, 3 filter_width:int, 4 filter_height:int,
 *                     5 fused_activation_function
 *   FullyConnectedOptions: 0 fused_activation_function, 1 weights_format:byte, 2 keep_num_dims:bool
 *   SoftmaxOptions:   0 beta:float
 *   ConcatenationOptions: 0 axis:int, 1 fused_activation_function
 *   AddOptions:       0 fused_activation_function, 1 pot_scale_int16:bool = true
 *   ReshapeOptions:   0 new_shape:[int]
 *   ResizeNearestNeighborOptions: 0 align_corners:bool, 1 half_pixel_centers:bool
 *   LeakyReluOptions: 0 alpha:float
 */
#ifndef SSCMA_LIB_EXPORT_TFLITE_SCHEMA_H
#define SSCMA_LIB_EXPORT_TFLITE_SCHEMA_H

#include <stdint.h>

/* BuiltinOperator */
enum {
    TFL_OP_ADD = 0,
    TFL_OP_AVERAGE_POOL_2D = 1,
    TFL_OP_CONCATENATION = 2,
    TFL_OP_CONV_2D = 3,
    TFL_OP_DEPTHWISE_CONV_2D = 4,
    TFL_OP_DEQUANTIZE = 6,
    TFL_OP_FULLY_CONNECTED = 9,
    TFL_OP_LOGISTIC = 14,
    TFL_OP_MAX_POOL_2D = 17,
    TFL_OP_RELU = 19,
    TFL_OP_RELU_N1_TO_1 = 20,
    TFL_OP_RELU6 = 21,
    TFL_OP_RESHAPE = 22,
    TFL_OP_TANH = 28,
    TFL_OP_EXP = 47,
    TFL_OP_SOFTMAX = 25,
    TFL_OP_PAD = 34,
    TFL_OP_RESIZE_NEAREST_NEIGHBOR = 97,
    TFL_OP_LEAKY_RELU = 98,
    TFL_OP_QUANTIZE = 114,
    TFL_OP_HARD_SWISH = 117,
    TFL_OP_MUL = 18,
    TFL_OP_MEAN = 40,
    TFL_OP_SUB = 41,
    TFL_OP_MAXIMUM = 55,
    TFL_OP_MINIMUM = 57,
    TFL_OP_TRANSPOSE = 39,      /* inputs: x, perm (int32 [rank]) */
    TFL_OP_STRIDED_SLICE = 45,  /* inputs: x, begin, end, strides (int32 [n]) */
    TFL_OP_SPLIT = 49,          /* inputs: axis (int32 scalar), x; num_splits outputs */
    TFL_OP_PADV2 = 60,          /* inputs: x, paddings (int32 [rank, 2]), constant_values ([1], x's type) */
    TFL_OP_SLICE = 65,          /* inputs: x, begin, size (int32 [rank]; size -1: to the end) */
    TFL_OP_TILE = 69,           /* inputs: x, multiples (int32 [rank]) */
    TFL_OP_SPLIT_V = 102,       /* inputs: x, size_splits (int32 [num_splits], one -1 at most), axis */
    TFL_OP_RESIZE_BILINEAR = 23,
    TFL_OP_SPACE_TO_DEPTH = 26,
    TFL_OP_DEPTH_TO_SPACE = 5
};

/* BuiltinOptions (union type) */
enum {
    TFL_OPT_CONV2D = 1,
    TFL_OPT_DEPTHWISE_CONV2D = 2,
    TFL_OPT_POOL2D = 5,
    TFL_OPT_FULLY_CONNECTED = 8,
    TFL_OPT_SOFTMAX = 9,
    TFL_OPT_CONCATENATION = 10,
    TFL_OPT_ADD = 11,
    TFL_OPT_RESHAPE = 17,
    TFL_OPT_EXP = 33,
    TFL_OPT_PAD = 22,
    TFL_OPT_RESIZE_NEAREST = 74, /* 0 align_corners, 1 half_pixel_centers */
    TFL_OPT_LEAKY_RELU = 75,
    TFL_OPT_QUANTIZE = 89,
    TFL_OPT_HARD_SWISH = 91,
    TFL_OPT_MUL = 21,     /* MulOptions: 0 fused_activation_function */
    TFL_OPT_REDUCER = 27, /* ReducerOptions (MEAN): 0 keep_dims bool */
    TFL_OPT_SUB = 28,     /* SubOptions: 0 fused_activation_function, 1 pot_scale_int16 bool */
    TFL_OPT_MAXIMUM_MINIMUM = 39, /* MaximumMinimumOptions: no fields */
    TFL_OPT_TRANSPOSE = 26,     /* no fields */
    TFL_OPT_STRIDED_SLICE = 32, /* 0 begin_mask, 1 end_mask, 2 ellipsis_mask, 3 new_axis_mask, 4 shrink_axis_mask,
                                   5 offset */
    TFL_OPT_SPLIT = 35,         /* 0 num_splits */
    TFL_OPT_PADV2 = 43,         /* no fields */
    TFL_OPT_SLICE = 48,         /* no fields */
    TFL_OPT_TILE = 51,          /* no fields */
    TFL_OPT_SPLIT_V = 79,       /* 0 num_splits */
    TFL_OPT_RESIZE_BILINEAR = 15, /* 0 new_height, 1 new_width (deprecated), 2 align_corners, 3 half_pixel_centers */
    TFL_OPT_SPACE_TO_DEPTH = 19,  /* 0 block_size */
    TFL_OPT_DEPTH_TO_SPACE = 94   /* 0 block_size */
};

/* TensorType */
enum { TFL_TYPE_FLOAT32 = 0, TFL_TYPE_INT32 = 2, TFL_TYPE_UINT8 = 3, TFL_TYPE_INT64 = 4, TFL_TYPE_INT8 = 9 };

/* Padding */
enum { TFL_PADDING_SAME = 0, TFL_PADDING_VALID = 1 };

/* ActivationFunctionType */
enum { TFL_ACT_NONE = 0, TFL_ACT_RELU = 1, TFL_ACT_RELU6 = 3 };

/* The schema's name of builtin operator `code` ("EXP"), or NULL for a code it does not list (tflite_names.c). */
const char *sscma_tflite_builtin_name(int32_t code);

#endif /* SSCMA_LIB_EXPORT_TFLITE_SCHEMA_H */
