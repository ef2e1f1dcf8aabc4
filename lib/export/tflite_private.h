/*
 * What the TFLite writer and reader share with the files that hold operators' rows (lib/export/tflite_*.c): the
 * plan of a file being written, the state of a file being read, and the helpers an operator's planner, options
 * writer and reader use. Internal to lib/export.
 */
#ifndef SSCMA_LIB_EXPORT_TFLITE_PRIVATE_H
#define SSCMA_LIB_EXPORT_TFLITE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "export/flatbuf.h"
#include "export/kinds.h"
#include "quant/qmodel.h"

/* ---- writing: TFLite tensors and operators planned from the deployable model ---- */

typedef struct tfl_tensor {
    const char *name;
    char *own_name;
    int8_t type;
    int32_t rank;
    int32_t shape[4];
    const void *data; /* constants */
    size_t bytes;
    void *own_data;
    const float *scale;
    const int32_t *zero_point;
    int32_t n_q, q_dim;
} tfl_tensor;

typedef struct tfl_op {
    qm_kind kind; /* the row whose options writer serializes it (QM_PAD for inserted paddings) */
    int32_t code, version;
    int32_t in[QM_MAX_IN + 1], n_in;
    int32_t out;
    const qm_op *src;
    int8_t padding;
    int32_t depth_multiplier;
} tfl_op;

typedef struct tfl_plan {
    const sscma_qmodel *q;
    tfl_tensor *t;
    int32_t n_t, cap_t;
    tfl_op *ops;
    int32_t n_ops, cap_ops;
} plan;

/* The op's message for something TFLite cannot express (SSCMA_ERR_UNSUPPORTED, naming the layer). */
sscma_status tfl_unsupported(const qm_op *op, const char *why);
sscma_status tfl_oom(void);
/* A constant int32 tensor (shape operands), appended to the plan; *id receives its index. */
sscma_status tfl_const_i32(plan *p, const char *name, const int32_t *v, int32_t n, int32_t rank,
                           const int32_t *shape, int32_t *id);
/* Whether op runs in int8 (then its operator version is the int8 one). */
bool tfl_int8_op(const plan *p, const qm_op *op);
int8_t tfl_act_code(sscma_act_kind a);
/* Options tables: one holding only the fused activation, and one without fields (TFLite wants the union type). */
fb_ref tfl_act_options(fb_builder *b, const tfl_op *o, uint8_t union_type, uint8_t *type);
fb_ref tfl_empty_options(fb_builder *b, uint8_t union_type, uint8_t *type);

/* ---- reading ---- */

typedef struct tfl_reader {
    fb_reader r;
    const char *path;
    sscma_qmodel *q;
    size_t buffers, tensors;  /* vector positions */
    uint32_t n_buffers, n_tensors;
    int32_t *map;             /* TFLite tensor -> qmodel tensor, -1 = not made yet */
    uint8_t *dw_weight;       /* TFLite tensor used as depthwise weights */
} reader;

/* One TFLite operator being read: what the kinds' readers see besides the op they fill. */
typedef struct tfl_read_op {
    uint32_t index;
    int32_t code;
    fb_table opt;            /* the builtin options table (0 when absent: every field reads as its default) */
    uint32_t n_in;
    const int32_t *tin;      /* TFLite input tensors (-1: optional input left out) */
    const int32_t *ids;      /* their qmodel tensors (-1 likewise) */
    int32_t n_ids;           /* inputs present */
    const qm_tensor *xt, *yt;
    bool act_ok;             /* cleared by a fused activation the runtime lacks */
    /* outputs: SPLIT and SPLIT_V have several, each read as an op of its own (the others have one) */
    uint32_t n_out, out_index;
    int32_t tout;            /* TFLite tensor of this output */
} tfl_read_op;

/* SSCMA_ERR_FORMAT naming the file ("truncated at byte N" when the data ran out). */
sscma_status tfl_bad(const reader *rd, const char *what);
/* SSCMA_ERR_UNSUPPORTED naming the file, the operator's index, name and builtin code. */
sscma_status tfl_bad_op(const reader *rd, uint32_t index, int32_t code, const char *what);
/* The data of buffer `index` (NULL, 0 when empty). */
const uint8_t *tfl_buffer_data(reader *rd, uint32_t index, uint32_t *bytes);
/* Explicit padding from TFLite's SAME / VALID. */
void tfl_pads(int8_t padding, int64_t in, int64_t out, int32_t k, int32_t stride, int32_t dil, int32_t *a, int32_t *b);
/* A fused activation; clears *ok for one the runtime lacks. */
sscma_act_kind tfl_act_of(uint8_t code, bool *ok);
/* Inputs 1.. (weights, bias; optional ones left out) after op->in[0]. */
void tfl_read_extra_inputs(const tfl_read_op *ro, qm_op *op);

/* PADV2 (tflite_shape.c): the constant value of a pad read from input 2, and the writer's PADV2 from a PAD plan. */
sscma_status qm_tfl_read_pad_value(reader *rd, tfl_read_op *ro, qm_op *op);
sscma_status qm_tfl_plan_pad_value(plan *p, const qm_op *op, tfl_op *o);
/* An elementwise operator's output dims that a dynamic shape_signature left as 1: the input's (tflite_shape.c). */
void tfl_dynamic_same_shape(reader *rd, const tfl_read_op *ro, qm_op *op);

#endif /* SSCMA_LIB_EXPORT_TFLITE_PRIVATE_H */
