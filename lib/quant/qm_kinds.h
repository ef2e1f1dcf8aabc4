/*
 * The deployable op kinds, one table indexed by qm_kind (lib/quant/qm_kinds.c): each row holds everything that
 * differs between kinds, so that the runtimes, PTQ, the TFLite writer and reader and the ONNX writer dispatch once
 * per op through it instead of each keeping its own switch. Writing and reading a TFLite operator are two columns
 * of one row, and the reader finds the row by the builtin code the writer wrote, so they cannot drift apart.
 *
 * The functions live with their aspect (shape checks and the float runtime in qmodel.c, the integer kernels in
 * int8.c, the file formats in export/tflite.c and export/onnx.c); this header declares them for the table only.
 * Internal: never installed.
 */
#ifndef SSCMA_LIB_QUANT_QM_KINDS_H
#define SSCMA_LIB_QUANT_QM_KINDS_H

#include "quant/qmodel.h"

/* How post-training quantization picks the int8 output's scale and zero point. */
typedef enum qm_out_quant {
    QM_OUT_CALIBRATED = 0, /* from the observed range of the output */
    QM_OUT_AS_INPUT,       /* the input's (pooling, shape ops: TFLite requires them equal) */
    QM_OUT_UNIT_256        /* scale 1/256, zero point -128 (softmax, logistic: TFLite's fixed output) */
} qm_out_quant;

/* Private to the exporters; the table only passes them through. */
struct tfl_plan;
struct tfl_op;
struct tfl_reader;
struct tfl_read_op;
struct fb_builder;
struct onnx_builder;

typedef struct qm_kind_def {
    qm_kind kind; /* its own index: the completeness test checks it */
    const char *name;
    bool has_weights;       /* inputs 1 and 2 are constant weights and bias (int8 and int32 when quantized) */
    qm_out_quant out_quant;
    /* Shape checks beyond those every op shares (sscma_qm_validate): what keeps the kernels in bounds. */
    sscma_status (*validate)(const sscma_qmodel *q, const qm_op *op);
    sscma_status (*run_f32)(const qm_exec *ex, const qm_op *op);
    /* Integer parameters and packed weights of one op, chosen once (backend, specialised kernel). */
    sscma_status (*prepare_int8)(sscma_qmodel *q, qm_op *op);
    sscma_status (*run_int8)(const qm_exec *ex, const qm_op *op);
    /* TFLite builtin codes this row writes and reads (-1: unused slot). */
    int32_t tflite_codes[2];
    /* Plans the TFLite operator *o (code, version, extra inputs; may insert ops before it, such as PAD). */
    sscma_status (*tflite_plan)(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
    /* Writes the builtin options table and its union type; NULL: the operator has none. */
    uint32_t (*tflite_options)(struct fb_builder *b, const struct tfl_plan *p, const struct tfl_op *o,
                               uint8_t *type);
    /* Fills *op (inputs, attributes, fused activation) from a TFLite operator of one of tflite_codes. */
    sscma_status (*tflite_read)(struct tfl_reader *rd, struct tfl_read_op *ro, qm_op *op);
    /* Emits the ONNX nodes computing op's output into value `out` (and records the output's value). */
    sscma_status (*onnx_write)(struct onnx_builder *b, const qm_op *op, const char *out);
} qm_kind_def;

/* The row of `kind`, or NULL for a value outside the enum (a damaged or hand-made model). */
const qm_kind_def *sscma_qm_kind(qm_kind kind);

/* ---- the rows' functions, by the file that defines them ---- */

/* qmodel.c: shape checks */
sscma_status qm_validate_conv(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_fc(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_add(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_concat(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_pool(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_reshape(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_same_shape(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_resize(const sscma_qmodel *q, const qm_op *op);
sscma_status qm_validate_pad(const sscma_qmodel *q, const qm_op *op);

/* qmodel.c: the float runtime over the op table's kernels */
sscma_status qm_f32_conv(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_fc(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_add(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_concat(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_pool(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_copy(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_softmax(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_logistic(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_hardswish(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_resize(const qm_exec *ex, const qm_op *op);
sscma_status qm_f32_pad(const qm_exec *ex, const qm_op *op);

/* int8.c: integer parameters */
sscma_status qm_i8_prepare_weighted(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_add(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_concat(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_same_params(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_softmax(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_logistic(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_hardswish(sscma_qmodel *q, qm_op *op);
sscma_status qm_i8_prepare_requant(sscma_qmodel *q, qm_op *op);

/* int8.c: integer kernels */
sscma_status qm_i8_conv(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_fc(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_add(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_pool(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_softmax(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_requant(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_copy(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_lut(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_concat(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_pad(const qm_exec *ex, const qm_op *op);
sscma_status qm_i8_resize(const qm_exec *ex, const qm_op *op);

/* export/tflite.c: planning the operator */
sscma_status qm_tfl_plan_conv(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_pool(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_fc(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_simple(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_reshape(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_hardswish(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_resize(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_pad(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);
sscma_status qm_tfl_plan_requant(struct tfl_plan *p, const qm_op *op, struct tfl_op *o);

/* export/tflite.c: builtin options */
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

/* export/tflite.c: reading an operator */
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

/* export/onnx.c: nodes */
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

#endif /* SSCMA_LIB_QUANT_QM_KINDS_H */
