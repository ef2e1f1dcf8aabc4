/*
 * Hand-made TFLite files for the runtime's operator tests: tensors (shape, type, quantization, constant data) and
 * operators (builtin code, inputs, outputs, a few option fields) written with lib/export/flatbuf.h as TensorFlow's
 * converter lays them out (schema version 3, one subgraph, buffer 0 empty). Internal tests only.
 *
 *   tfl_build m;
 *   tfl_build_init(&m);
 *   int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, (int32_t[]){1, 4, 4, 3}, 0.05f, -3, NULL, 0);
 *   int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, (int32_t[]){1, 4, 4, 3}, 0.02f, -128, NULL, 0);
 *   tfl_op *o = tfl_operator(&m, TFL_OP_LEAKY_RELU, (int32_t[]){x}, 1, (int32_t[]){y}, 1);
 *   tfl_option_f32(o, 0, 0.2f, 99);  // field 0 of LeakyReluOptions (union type 99)
 *   tfl_build_write(&m, (int32_t[]){x}, 1, (int32_t[]){y}, 1, path);
 */
#ifndef SSCMA_TESTS_TFL_BUILD_H
#define SSCMA_TESTS_TFL_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TFLB_MAX_TENSORS 64
#define TFLB_MAX_OPS 32
#define TFLB_MAX_OPTIONS 8

typedef struct tfl_option {
    int32_t field;
    char kind; /* 'b' byte, 'i' int32, 'f' float, 'v' int32 vector */
    int32_t i;
    float f;
    int32_t vec[8], n_vec;
} tfl_option;

typedef struct tfl_op {
    int32_t code, version;
    int32_t in[8], n_in, out[8], n_out;
    uint8_t options_type; /* BuiltinOptions union type; 0 = none */
    tfl_option options[TFLB_MAX_OPTIONS];
    int32_t n_options;
} tfl_op;

typedef struct tfl_build_tensor {
    char name[32];
    int8_t type;
    int32_t rank, dims[6];
    int32_t n_q, q_dim;
    float scale[16];
    int64_t zero_point[16];
    uint8_t *data;
    size_t bytes;
    bool has_signature;    /* shape_signature written (-1: a dynamic dimension, stored as 1 in dims) */
    int32_t signature[6];
} tfl_build_tensor;

typedef struct tfl_build {
    tfl_build_tensor t[TFLB_MAX_TENSORS];
    int32_t n_t;
    tfl_op ops[TFLB_MAX_OPS];
    int32_t n_ops;
} tfl_build;

void tfl_build_init(tfl_build *m);
void tfl_build_free(tfl_build *m);
/* A tensor; scale 0 = no quantization; data NULL = an activation. Returns its index. */
int32_t tfl_tensor(tfl_build *m, const char *name, int8_t type, int32_t rank, const int32_t *dims, float scale,
                   int32_t zero_point, const void *data, size_t bytes);
/* The tensor's shape_signature (rank values), as TensorFlow writes for dynamic dimensions. */
void tfl_tensor_signature(tfl_build *m, int32_t t, const int32_t *signature);
/* Per-channel quantization of tensor t along `dim` (n scales, zero points 0). */
void tfl_tensor_per_channel(tfl_build *m, int32_t t, int32_t dim, const float *scales, int32_t n);
tfl_op *tfl_operator(tfl_build *m, int32_t code, const int32_t *in, int32_t n_in, const int32_t *out, int32_t n_out);
/* Option fields of the operator's builtin options table, whose union type is `type`. */
void tfl_option_u8(tfl_op *o, int32_t field, int32_t v, uint8_t type);
void tfl_option_i32(tfl_op *o, int32_t field, int32_t v, uint8_t type);
void tfl_option_f32(tfl_op *o, int32_t field, float v, uint8_t type);
void tfl_option_vec(tfl_op *o, int32_t field, const int32_t *v, int32_t n, uint8_t type);
/* Writes the file; false on failure. */
bool tfl_build_write(const tfl_build *m, const int32_t *inputs, int32_t n_in, const int32_t *outputs, int32_t n_out,
                     const char *path);

#endif
