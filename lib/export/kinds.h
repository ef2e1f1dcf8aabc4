/*
 * The file formats' columns of the deployable kinds (see quant/qm_kinds.h for the runtime's): one row per qm_kind
 * with the TFLite builtin codes it writes and reads, the operator planner, the options writer, the reader and the
 * ONNX node writer. Writing and reading a TFLite operator are two columns of one row, and the reader finds the row
 * by the builtin code the writer wrote, so they cannot drift apart. Internal: never installed.
 */
#ifndef SSCMA_LIB_EXPORT_KINDS_H
#define SSCMA_LIB_EXPORT_KINDS_H

#include "quant/qmodel.h"

/* Private to tflite.c and onnx.c; the table only passes them through. */
struct tfl_plan;
struct tfl_op;
struct tfl_reader;
struct tfl_read_op;
struct fb_builder;
struct onnx_builder;

#define QM_TFLITE_CODES 4

typedef struct qm_format_def {
    qm_kind kind; /* its own index: the completeness test checks it */
    /* TFLite builtin codes this row reads; the writer writes the first unless its planner picks another (-1: unused
     * slot). A slot after the first left out of an initializer reads 0, which is then unused too: ADD (0) is the
     * first code of its row. */
    int32_t tflite_codes[QM_TFLITE_CODES];
    /* Plans the TFLite operator *o (code, version, extra inputs; may insert ops before it, such as PAD). */
    sscma_status (*tflite_plan)(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
    /* Writes the builtin options table and its union type; NULL: the operator has none. */
    uint32_t (*tflite_options)(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                               uint8_t *type);
    /* Fills *op (inputs, attributes, fused activation) from a TFLite operator of one of tflite_codes. */
    sscma_status (*tflite_read)(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
    /* Emits the ONNX nodes computing op's output into value `out` (and records the output's value). */
    sscma_status (*onnx_write)(struct onnx_builder *b, const qm_op *op, const char *out);
} qm_format_def;

/* The row of `kind`, or NULL for a value outside the enum (a damaged or hand-made model). */
const qm_format_def *sscma_qm_format(qm_kind kind);

/* ---- the rows' functions, by the file that defines them ---- */

/* tflite.c: planning the operator */
sscma_status qm_tfl_plan_conv(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_pool(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_fc(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_simple(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_reshape(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_hardswish(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_resize(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_pad(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_requant(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_clamp(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_dequantize(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);

/* tflite.c: builtin options */
uint32_t qm_tfl_options_conv(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_pool(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_fc(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_add(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_concat(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                               uint8_t *type);
uint32_t qm_tfl_options_reshape(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                                uint8_t *type);
uint32_t qm_tfl_options_softmax(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                                uint8_t *type);
uint32_t qm_tfl_options_hardswish(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                                  uint8_t *type);
uint32_t qm_tfl_options_resize(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                               uint8_t *type);
uint32_t qm_tfl_options_pad(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_requant(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                                uint8_t *type);
uint32_t qm_tfl_options_exp(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_leaky_relu(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                                   uint8_t *type);

/* tflite.c: reading an operator */
sscma_status qm_tfl_read_conv(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_fc(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_add(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_concat(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_pool(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_plain(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_softmax(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_resize(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_pad(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_requant(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_clamp(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_leaky_relu(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);

/* onnx.c: nodes */
sscma_status qm_onnx_conv(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_fc(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_add(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_concat(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_pool(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_reshape(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_softmax(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_logistic(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_hardswish(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_resize(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_pad(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_requant(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_clamp(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_dequantize(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_tanh(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_exp(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_leaky_relu(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_sub(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_mul(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_maximum(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_minimum(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_mean(struct onnx_builder *b, const qm_op *op, const char *out);

/* tflite_binary.c: binary ops and MEAN (planning, options, reading) */
sscma_status qm_tfl_plan_mean(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
uint32_t qm_tfl_options_sub(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_mul(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_minmax(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                               uint8_t *type);
uint32_t qm_tfl_options_mean(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
sscma_status qm_tfl_read_minmax(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_mean(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);

/* tflite_shape.c: transpose, slice (SLICE, STRIDED_SLICE, SPLIT, SPLIT_V), tile; RESHAPE's dynamic batch */
sscma_status qm_tfl_plan_transpose(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_slice(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_tile(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
uint32_t qm_tfl_options_transpose(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                                  uint8_t *type);
uint32_t qm_tfl_options_slice(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
uint32_t qm_tfl_options_tile(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o, uint8_t *type);
sscma_status qm_tfl_read_transpose(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_slice(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_tile(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_read_reshape(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
/* tflite_space.c: SPACE_TO_DEPTH, DEPTH_TO_SPACE */
sscma_status qm_tfl_plan_space_depth(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
uint32_t qm_tfl_options_space_depth(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                                    uint8_t *type);
sscma_status qm_tfl_read_space_depth(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
/* onnx.c */
sscma_status qm_onnx_space_depth(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_transpose(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_slice(struct onnx_builder *b, const qm_op *op, const char *out);
sscma_status qm_onnx_tile(struct onnx_builder *b, const qm_op *op, const char *out);

#endif /* SSCMA_LIB_EXPORT_KINDS_H */
