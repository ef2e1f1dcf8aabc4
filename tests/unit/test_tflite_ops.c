/*
 * The TFLite reader and int8 runtime, operator by operator, on hand-made files (tfl_build.h): what each operator
 * computes, and how a file with an operator the runtime lacks is refused.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/export.h>
#include <sscma/quant.h>

#include "export/tflite_schema.h"
#include "fixture_files.h"
#include "harness.h"
#include "tfl_build.h"

static char tmpdir[256];

/* <tmpdir>/name, the directory made on first use and removed by main. */
static const char *temp_path(const char *name)
{
    static char path[512];
    if (tmpdir[0] == '\0' && fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-tflite-ops") != 0)
        test_fail(__FILE__, __LINE__, "cannot make a temporary directory");
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* An operator the runtime lacks is named, with its index and code. */
static void unsupported_operator_is_named(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    tfl_build m;
    tfl_build_init(&m);
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 2, (int32_t[]){1, 8}, 0.1f, 0, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 8}, 0.1f, 0, NULL, 0);
    CHECK(tfl_operator(&m, 66 /* SIN */, (int32_t[]){x}, 1, (int32_t[]){y}, 1) != NULL);
    const char *path = temp_path("sin.tflite");
    CHECK(tfl_build_write(&m, (int32_t[]){x}, 1, (int32_t[]){y}, 1, path));
    sscma_qmodel *q = NULL;
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_UNSUPPORTED,
                "sin.tflite: operator 0 (SIN, builtin code 66): the runtime has no kernel for this operator");
    CHECK(q == NULL);
    tfl_build_free(&m);
    sscma_context_destroy(ctx);
}

/*
 * Operators whose results nothing uses are not read, and neither is RESHAPE's shape input: TensorFlow computes a
 * dynamic batch's shape with SHAPE (and STRIDED_SLICE, PACK), which the static output shape makes redundant.
 */
static void unused_operators_are_not_read(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    tfl_build m;
    tfl_build_init(&m);
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, (int32_t[]){1, 2, 2, 3}, 0.1f, 3, NULL, 0);
    int32_t s = tfl_tensor(&m, "shape", TFL_TYPE_INT32, 1, (int32_t[]){4}, 0.0f, 0, NULL, 0);
    int32_t z = tfl_tensor(&m, "unused", TFL_TYPE_INT8, 4, (int32_t[]){1, 2, 2, 3}, 0.1f, 3, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 12}, 0.1f, 3, NULL, 0);
    CHECK(tfl_operator(&m, 77 /* SHAPE */, (int32_t[]){x}, 1, (int32_t[]){s}, 1) != NULL);
    CHECK(tfl_operator(&m, 66 /* SIN */, (int32_t[]){x}, 1, (int32_t[]){z}, 1) != NULL);
    CHECK(tfl_operator(&m, TFL_OP_RESHAPE, (int32_t[]){x, s}, 2, (int32_t[]){y}, 1) != NULL);
    const char *path = temp_path("dynamic_reshape.tflite");
    CHECK(tfl_build_write(&m, (int32_t[]){x}, 1, (int32_t[]){y}, 1, path));
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
    sscma_tensor *in, *out;
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    CHECK_OK(sscma_qmodel_input(q, 0, &in));
    CHECK_OK(sscma_qmodel_output(q, 0, &out, NULL));
    int8_t *xd, *yd;
    sscma_tensor_data(in, (void **)&xd);
    sscma_tensor_data(out, (void **)&yd);
    for (int k = 0; k < 12; k++)
        xd[k] = (int8_t)(k * 19 - 100);
    CHECK_OK(sscma_qmodel_run(q));
    CHECK(memcmp(xd, yd, 12) == 0);
    sscma_qmodel_destroy(q);

    /* the same operator feeding the output is read, and refused */
    m.ops[2].in[0] = z;
    CHECK(tfl_build_write(&m, (int32_t[]){x}, 1, (int32_t[]){y}, 1, path));
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_UNSUPPORTED, "operator 1 (SIN, builtin code 66)");
    tfl_build_free(&m);
    sscma_context_destroy(ctx);
}

/* Runs q on every int8 value (input [1, 256]) into out[256]. */
static void run_all_values(sscma_qmodel *q, int8_t *out)
{
    sscma_tensor *in, *y;
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    CHECK_OK(sscma_qmodel_input(q, 0, &in));
    CHECK_OK(sscma_qmodel_output(q, 0, &y, NULL));
    int8_t *xd, *yd;
    sscma_tensor_data(in, (void **)&xd);
    sscma_tensor_data(y, (void **)&yd);
    for (int v = 0; v < 256; v++)
        xd[v] = (int8_t)(v - 128);
    CHECK_OK(sscma_qmodel_run(q));
    memcpy(out, yd, 256);
}

/*
 * RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, TANH and EXP read from a file, written back by libsscma's TFLite writer and read again
 * compute the same; their ONNX form is written too. (Their values against TFLite's reference kernels: the
 * tflite-ops-reference test.)
 */
static void activations_survive_a_round_trip(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    static const int32_t codes[] = {TFL_OP_RELU, TFL_OP_RELU6, TFL_OP_RELU_N1_TO_1, TFL_OP_LEAKY_RELU, TFL_OP_TANH,
                                    TFL_OP_EXP};
    for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
        tfl_build m;
        tfl_build_init(&m);
        int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 2, (int32_t[]){1, 256}, 0.05f, -7, NULL, 0);
        int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 256}, 0.03f, -100, NULL, 0);
        tfl_op *o = tfl_operator(&m, codes[c], &x, 1, &y, 1);
        if (codes[c] == TFL_OP_LEAKY_RELU)
            tfl_option_f32(o, 0, 0.25f, TFL_OPT_LEAKY_RELU);
        const char *path = temp_path("act.tflite");
        CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
        tfl_build_free(&m);
        sscma_qmodel *q = NULL, *back = NULL;
        CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
        int8_t first[256], second[256];
        run_all_values(q, first);
        /* what the operator does: nothing below zero for the ReLUs, and the identity-like part above */
        int32_t zy = -100;
        for (int v = 0; v < 256; v++) {
            float real = 0.05f * (float)(v - 128 + 7);
            if ((codes[c] == TFL_OP_RELU || codes[c] == TFL_OP_RELU6) && real <= 0.0f)
                CHECK_INT_EQ(first[v], zy);
            if (codes[c] == TFL_OP_LEAKY_RELU && real < 0.0f)
                CHECK(first[v] < zy);
            if (codes[c] == TFL_OP_TANH || codes[c] == TFL_OP_EXP) /* increasing */
                CHECK(v == 0 || first[v] >= first[v - 1]);
        }
        const char *again = temp_path("act_again.tflite");
        CHECK_OK(sscma_export_tflite(q, again));
        CHECK_OK(sscma_qmodel_load_tflite(ctx, again, &back));
        run_all_values(back, second);
        CHECK(memcmp(first, second, 256) == 0);
        CHECK_OK(sscma_export_onnx(q, temp_path("act.onnx")));
        sscma_qmodel_destroy(back);
        sscma_qmodel_destroy(q);
    }
    sscma_context_destroy(ctx);
}

/*
 * A uint8 input quantized to int8, a ReLU, then dequantized to float: what TensorFlow's converter writes for uint8 or
 * float interfaces. It loads as an int8 model whose input view is uint8 and whose output is float, runs, and survives
 * libsscma's TFLite writer; the ONNX writer, which takes int8 activations only, refuses it by layer.
 */
static void converting_interfaces_load_run_and_write(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    tfl_build m;
    tfl_build_init(&m);
    const int32_t dims[2] = {1, 256};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_UINT8, 2, dims, 0.05f, 128, NULL, 0);
    int32_t a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 2, dims, 0.05f, 0, NULL, 0);
    int32_t b = tfl_tensor(&m, "b", TFL_TYPE_INT8, 2, dims, 0.03f, -128, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_FLOAT32, 2, dims, 0.0f, 0, NULL, 0);
    CHECK(tfl_operator(&m, TFL_OP_QUANTIZE, &x, 1, &a, 1) != NULL);
    CHECK(tfl_operator(&m, TFL_OP_RELU, &a, 1, &b, 1) != NULL);
    CHECK(tfl_operator(&m, TFL_OP_DEQUANTIZE, &b, 1, &y, 1) != NULL);
    const char *path = temp_path("uint8_in_float_out.tflite");
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    tfl_build_free(&m);
    sscma_qmodel *q = NULL, *back = NULL;
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
    int is_int8 = 0;
    CHECK_OK(sscma_qmodel_is_int8(q, &is_int8));
    CHECK_INT_EQ(is_int8, 1);
    float first[256], second[256];
    for (int pass = 0; pass < 2; pass++) {
        sscma_qmodel *r = pass == 0 ? q : back;
        sscma_tensor *in, *out;
        CHECK_OK(sscma_qmodel_prepare(r, 1));
        CHECK_OK(sscma_qmodel_input(r, 0, &in));
        CHECK_OK(sscma_qmodel_output(r, 0, &out, NULL));
        sscma_dtype dt;
        CHECK_OK(sscma_tensor_dtype(in, &dt));
        CHECK_INT_EQ(dt, SSCMA_DTYPE_U8);
        CHECK_OK(sscma_tensor_dtype(out, &dt));
        CHECK_INT_EQ(dt, SSCMA_DTYPE_F32);
        uint8_t *xd;
        float *yd;
        sscma_tensor_data(in, (void **)&xd);
        sscma_tensor_data(out, (void **)&yd);
        for (int v = 0; v < 256; v++)
            xd[v] = (uint8_t)v;
        CHECK_OK(sscma_qmodel_run(r));
        memcpy(pass == 0 ? first : second, yd, sizeof first);
        if (pass == 0) {
            const char *again = temp_path("uint8_in_float_out_again.tflite");
            CHECK_OK(sscma_export_tflite(q, again));
            CHECK_OK(sscma_qmodel_load_tflite(ctx, again, &back));
        }
    }
    CHECK(memcmp(first, second, sizeof first) == 0);
    /* the values: relu(0.05 * (v - 128)) on the 0.03 grid, as floats */
    for (int v = 0; v < 256; v++) {
        float want = v <= 128 ? 0.0f : 0.03f * roundf(0.05f * (float)(v - 128) / 0.03f);
        if (want > 0.03f * 255.0f)
            want = 0.03f * 255.0f;
        CHECK(fabsf(first[v] - want) < 1e-5f);
    }
    CHECK_FAILS(sscma_export_onnx(q, temp_path("mixed.onnx")), SSCMA_ERR_UNSUPPORTED, "takes int8 activations only");
    sscma_qmodel_destroy(back);
    sscma_qmodel_destroy(q);
    sscma_context_destroy(ctx);
}

/* Runs q at `batch` on x (batch samples of its input) into y; returns the output's bytes per sample. */
static size_t run_batch(sscma_qmodel *q, int64_t batch, const int8_t *x, int8_t *y)
{
    sscma_tensor *in, *out;
    CHECK_OK(sscma_qmodel_prepare(q, batch));
    CHECK_OK(sscma_qmodel_input(q, 0, &in));
    CHECK_OK(sscma_qmodel_output(q, 0, &out, NULL));
    int8_t *xd, *yd;
    size_t in_b = 0, out_b = 0;
    sscma_tensor_data(in, (void **)&xd);
    sscma_tensor_data(out, (void **)&yd);
    sscma_tensor_size_bytes(in, &in_b);
    sscma_tensor_size_bytes(out, &out_b);
    memcpy(xd, x, in_b);
    CHECK_OK(sscma_qmodel_run(q));
    memcpy(y, yd, out_b);
    return out_b / (size_t)batch;
}

/*
 * x [1, 4, 4, 3] -> MUL by a scalar constant -> ADD to a per-channel constant given first (ReLU) -> MAXIMUM with x
 * -> SUB of x -> MEAN over H and W: read, run, written back by libsscma's TFLite writer and read again, the same
 * outputs; at batch 2 each sample gives what it gives alone (the constants broadcast over the batch). The ONNX
 * writer refuses the constant operands by layer.
 */
static void binary_ops_and_mean_survive_a_round_trip(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    tfl_build m;
    tfl_build_init(&m);
    const int32_t d[4] = {1, 4, 4, 3}, dc[1] = {3};
    const int8_t scalar = 90, chan[3] = {-100, 0, 77};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, d, 0.05f, -7, NULL, 0);
    int32_t cs = tfl_tensor(&m, "cs", TFL_TYPE_INT8, 0, dc, 0.01f, 0, &scalar, 1);
    int32_t cc = tfl_tensor(&m, "cc", TFL_TYPE_INT8, 1, dc, 0.02f, 3, chan, 3);
    int32_t ax = tfl_tensor(&m, "axes", TFL_TYPE_INT32, 1, (int32_t[]){2}, 0.0f, 0, (int32_t[]){1, 2}, 8);
    int32_t t1 = tfl_tensor(&m, "t1", TFL_TYPE_INT8, 4, d, 0.04f, 2, NULL, 0);
    int32_t t2 = tfl_tensor(&m, "t2", TFL_TYPE_INT8, 4, d, 0.06f, -128, NULL, 0);
    int32_t t3 = tfl_tensor(&m, "t3", TFL_TYPE_INT8, 4, d, 0.06f, -128, NULL, 0);
    int32_t t4 = tfl_tensor(&m, "t4", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 3}, 0.03f, 1, NULL, 0);
    tfl_option_u8(tfl_operator(&m, TFL_OP_MUL, (int32_t[]){x, cs}, 2, &t1, 1), 0, 0, TFL_OPT_MUL);
    tfl_option_u8(tfl_operator(&m, TFL_OP_ADD, (int32_t[]){cc, t1}, 2, &t2, 1), 0, 1, TFL_OPT_ADD);
    tfl_operator(&m, TFL_OP_MAXIMUM, (int32_t[]){t2, x}, 2, &t3, 1)->options_type = TFL_OPT_MAXIMUM_MINIMUM;
    tfl_option_u8(tfl_operator(&m, TFL_OP_SUB, (int32_t[]){t3, x}, 2, &t4, 1), 0, 0, TFL_OPT_SUB);
    tfl_option_u8(tfl_operator(&m, TFL_OP_MEAN, (int32_t[]){t4, ax}, 2, &y, 1), 0, 0, TFL_OPT_REDUCER);
    const char *path = temp_path("binary.tflite");
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    tfl_build_free(&m);
    sscma_qmodel *q = NULL, *back = NULL;
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
    int8_t xs[96], first[6], second[6], alone[3];
    for (int k = 0; k < 96; k++)
        xs[k] = (int8_t)(k * 37 % 256 - 128);
    CHECK_INT_EQ((int)run_batch(q, 2, xs, first), 3);
    for (int s = 0; s < 2; s++) {
        run_batch(q, 1, xs + 48 * s, alone);
        CHECK(memcmp(alone, first + 3 * s, 3) == 0);
    }
    const char *again = temp_path("binary_again.tflite");
    CHECK_OK(sscma_export_tflite(q, again));
    CHECK_OK(sscma_qmodel_load_tflite(ctx, again, &back));
    run_batch(back, 2, xs, second);
    CHECK(memcmp(first, second, sizeof first) == 0);
    CHECK_FAILS(sscma_export_onnx(q, temp_path("binary.onnx")), SSCMA_ERR_UNSUPPORTED,
                "layer 'op4' (mean): MEAN is not written to ONNX yet");
    sscma_qmodel_destroy(back);
    sscma_qmodel_destroy(q);
    sscma_context_destroy(ctx);
}

/*
 * What the ops must give: x - x is the output's zero point and MAXIMUM(x, x) is x for every int8 value (input and
 * output quantized alike), and the mean of 16 equal values is that value.
 */
static void binary_ops_and_mean_have_their_identities(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    static const int32_t codes[] = {TFL_OP_SUB, TFL_OP_MAXIMUM, TFL_OP_MINIMUM};
    for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
        tfl_build m;
        tfl_build_init(&m);
        int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 2, (int32_t[]){1, 256}, 0.05f, -7, NULL, 0);
        int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 256}, 0.05f, -7, NULL, 0);
        tfl_operator(&m, codes[c], (int32_t[]){x, x}, 2, &y, 1);
        const char *path = temp_path("self.tflite");
        CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
        tfl_build_free(&m);
        sscma_qmodel *q = NULL;
        CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
        int8_t out[256];
        run_all_values(q, out);
        for (int v = 0; v < 256; v++)
            CHECK_INT_EQ(out[v], codes[c] == TFL_OP_SUB ? -7 : v - 128);
        sscma_qmodel_destroy(q);
    }
    tfl_build m;
    tfl_build_init(&m);
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, (int32_t[]){1, 4, 4, 1}, 0.05f, -7, NULL, 0);
    int32_t ax = tfl_tensor(&m, "axes", TFL_TYPE_INT32, 1, (int32_t[]){2}, 0.0f, 0, (int32_t[]){1, 2}, 8);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, (int32_t[]){1, 1, 1, 1}, 0.05f, -7, NULL, 0);
    tfl_option_u8(tfl_operator(&m, TFL_OP_MEAN, (int32_t[]){x, ax}, 2, &y, 1), 0, 1, TFL_OPT_REDUCER);
    const char *path = temp_path("mean16.tflite");
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    tfl_build_free(&m);
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
    for (int v = -128; v < 128; v++) {
        int8_t xs[16], out[1];
        memset(xs, (unsigned char)(int8_t)v, sizeof xs);
        run_batch(q, 1, xs, out);
        CHECK_INT_EQ(out[0], v);
    }
    sscma_qmodel_destroy(q);
    sscma_context_destroy(ctx);
}

/* Writes a one-operator file (inputs in, output y) and expects loading it to fail with `status` and `message`. */
static void expect_refused(sscma_context *ctx, tfl_build *m, const int32_t *in, int32_t n_in, int32_t y,
                           sscma_status status, const char *message)
{
    const char *path = temp_path("bad.tflite");
    CHECK(tfl_build_write(m, in, n_in, &y, 1, path));
    tfl_build_free(m);
    sscma_qmodel *q = NULL;
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), status, message);
    CHECK(q == NULL);
}

/* Shapes that do not broadcast, missing or absurd operands and axes: refused, naming the operator. */
static void bad_binary_and_mean_files_are_refused(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    const int32_t d[4] = {1, 4, 4, 3};
    tfl_build m;
    /* shapes that do not broadcast */
    tfl_build_init(&m);
    int32_t a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    int32_t b = tfl_tensor(&m, "b", TFL_TYPE_INT8, 4, (int32_t[]){1, 4, 4, 2}, 0.05f, 0, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    tfl_operator(&m, TFL_OP_ADD, (int32_t[]){a, b}, 2, &y, 1);
    expect_refused(ctx, &m, (int32_t[]){a, b}, 2, y, SSCMA_ERR_FORMAT,
                   "op0: add: the inputs' shapes do not broadcast to the output's");
    /* an output larger than the broadcast shape */
    tfl_build_init(&m);
    a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    b = tfl_tensor(&m, "b", TFL_TYPE_INT8, 4, (int32_t[]){1, 1, 1, 3}, 0.05f, 0, NULL, 0);
    y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, (int32_t[]){1, 4, 8, 3}, 0.05f, 0, NULL, 0);
    tfl_operator(&m, TFL_OP_MUL, (int32_t[]){a, b}, 2, &y, 1);
    expect_refused(ctx, &m, (int32_t[]){a, b}, 2, y, SSCMA_ERR_FORMAT, "op0: mul: the inputs' shapes do not broadcast");
    /* one input only */
    tfl_build_init(&m);
    a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    tfl_operator(&m, TFL_OP_SUB, &a, 1, &y, 1);
    expect_refused(ctx, &m, &a, 1, y, SSCMA_ERR_UNSUPPORTED, "operator 0 (SUB, builtin code 41): needs 2 inputs");
    /* an int32 constant operand in an int8 model */
    tfl_build_init(&m);
    a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    b = tfl_tensor(&m, "b", TFL_TYPE_INT32, 1, (int32_t[]){3}, 0.0f, 0, (int32_t[]){1, 2, 3}, 12);
    y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
    tfl_operator(&m, TFL_OP_MUL, (int32_t[]){a, b}, 2, &y, 1);
    expect_refused(ctx, &m, &a, 1, y, SSCMA_ERR_FORMAT, "op0: mul: an input or output has the wrong type or kind: b");
    /* an ADD output scale too fine for its inputs (TFLite aborts on it) */
    tfl_build_init(&m);
    a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 4, d, 0.5f, 0, NULL, 0);
    b = tfl_tensor(&m, "b", TFL_TYPE_INT8, 0, d, 0.5f, 0, (int8_t[]){3}, 1);
    y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, d, 1e-7f, 0, NULL, 0);
    tfl_operator(&m, TFL_OP_ADD, (int32_t[]){a, b}, 2, &y, 1);
    expect_refused(ctx, &m, &a, 1, y, SSCMA_ERR_FORMAT, "the output scale is too small for the inputs'");
    /* MEAN: axes that are not a constant, outside the rank, the batch axis; an output that does not follow */
    static const struct {
        int32_t axis;
        bool constant;
        int32_t out_rank;
        sscma_status status;
        const char *message;
    } means[] = {
        {1, false, 3, SSCMA_ERR_UNSUPPORTED, "operator 0 (MEAN, builtin code 40): the axes must be a constant"},
        {4, true, 3, SSCMA_ERR_UNSUPPORTED, "operator 0 (MEAN, builtin code 40): an axis is outside the input's rank"},
        {-4, true, 3, SSCMA_ERR_UNSUPPORTED, "(MEAN, builtin code 40): a mean over the batch axis is not supported"},
        {2, true, 4, SSCMA_ERR_FORMAT, "op0: mean: the output's shape does not follow from the axes and keep_dims"},
    };
    for (size_t k = 0; k < sizeof means / sizeof means[0]; k++) {
        tfl_build_init(&m);
        a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 4, d, 0.05f, 0, NULL, 0);
        int32_t ax = tfl_tensor(&m, "axes", TFL_TYPE_INT32, 1, (int32_t[]){1}, 0.0f, 0,
                                means[k].constant ? &means[k].axis : NULL, 4);
        y = tfl_tensor(&m, "y", TFL_TYPE_INT8, means[k].out_rank, (int32_t[]){1, 4, 3, 3}, 0.05f, 0, NULL, 0);
        tfl_operator(&m, TFL_OP_MEAN, (int32_t[]){a, ax}, 2, &y, 1);
        int32_t ins[2] = {a, ax};
        expect_refused(ctx, &m, ins, means[k].constant ? 1 : 2, y, means[k].status, means[k].message);
    }
    sscma_context_destroy(ctx);
}

/* ---- data movement ---- */

/* Runs q at `batch` on x (batch samples), copies output k into y; returns its size in bytes. */
static size_t run_model(sscma_qmodel *q, int64_t batch, const void *x, int32_t k, void *y)
{
    sscma_tensor *in, *out;
    void *xd = NULL, *yd = NULL;
    size_t xb = 0, yb = 0;
    CHECK_OK(sscma_qmodel_prepare(q, batch));
    CHECK_OK(sscma_qmodel_input(q, 0, &in));
    CHECK_OK(sscma_qmodel_output(q, k, &out, NULL));
    CHECK_OK(sscma_tensor_data(in, &xd));
    CHECK_OK(sscma_tensor_data(out, &yd));
    CHECK_OK(sscma_tensor_size_bytes(in, &xb));
    CHECK_OK(sscma_tensor_size_bytes(out, &yb));
    memcpy(xd, x, xb);
    CHECK_OK(sscma_qmodel_run(q));
    memcpy(y, yd, yb);
    return yb;
}

static int32_t ints(tfl_build *m, const char *name, const int32_t *v, int32_t n)
{
    return tfl_tensor(m, name, TFL_TYPE_INT32, 1, &n, 0.0f, 0, v, (size_t)n * 4);
}

/*
 * Writes m (input x; outputs `outs`) and checks for each output: batch 2 gives each sample's batch-1 result (the
 * batch axis is kept whole), and libsscma's TFLite writer gives a file that reads back to the same results. Leaves
 * output k of sample A (xa) in y.
 */
static void shape_round_trip(sscma_context *ctx, tfl_build *m, int32_t x, const int32_t *outs, int32_t n_out,
                             const void *xa, const void *xb, int32_t k, void *y)
{
    const char *path = temp_path("shape.tflite");
    CHECK(tfl_build_write(m, &x, 1, outs, n_out, path));
    size_t xbytes = m->t[x].type == TFL_TYPE_FLOAT32 ? 4 : 1;
    for (int32_t d = 0; d < m->t[x].rank; d++)
        xbytes *= (size_t)m->t[x].dims[d];
    tfl_build_free(m);
    sscma_qmodel *q = NULL, *back = NULL;
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
    const char *again = temp_path("shape_again.tflite");
    CHECK_OK(sscma_export_tflite(q, again));
    CHECK_OK(sscma_qmodel_load_tflite(ctx, again, &back));
    unsigned char two[2048], ya[2048], yb[2048], y2[4096], yr[2048];
    memcpy(two, xa, xbytes);
    memcpy(two + xbytes, xb, xbytes);
    for (int32_t o = 0; o < n_out; o++) {
        size_t n = run_model(q, 1, xa, o, ya);
        CHECK(run_model(q, 1, xb, o, yb) == n);
        CHECK(run_model(q, 2, two, o, y2) == 2 * n);
        CHECK(memcmp(y2, ya, n) == 0 && memcmp(y2 + n, yb, n) == 0);
        CHECK(run_model(back, 1, xa, o, yr) == n);
        CHECK(memcmp(yr, ya, n) == 0);
        if (o == k)
            memcpy(y, ya, n);
    }
    sscma_qmodel_destroy(back);
    sscma_qmodel_destroy(q);
}

/*
 * TRANSPOSE, STRIDED_SLICE, SPLIT, TILE and PADV2 move the values where TFLite's kernels put them, in int8 and in
 * float, at batch 1 and 2, and survive libsscma's TFLite writer. (All their cases against TFLite's reference
 * kernels: the tflite-ops-reference test.)
 */
static void shape_ops_move_values_and_survive_a_round_trip(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    int8_t xa[24], xb[24], y[64];
    float fa[24], fb[24], fy[24];
    for (int k = 0; k < 24; k++)
        xa[k] = (int8_t)(k * 7 - 50), xb[k] = (int8_t)(100 - k * 3), fa[k] = (float)k * 0.5f - 3.0f,
        fb[k] = -(float)k;
    tfl_build m;
    const int32_t x2334[4] = {1, 2, 3, 4};
    for (int f = 0; f < 2; f++) { /* transpose [1, 2, 3, 4] by (0, 3, 1, 2): y[c][h][w] = x[h][w][c] */
        int8_t type = f ? TFL_TYPE_FLOAT32 : TFL_TYPE_INT8;
        tfl_build_init(&m);
        int32_t x = tfl_tensor(&m, "x", type, 4, x2334, f ? 0.0f : 0.1f, 2, NULL, 0);
        int32_t o = tfl_tensor(&m, "y", type, 4, (int32_t[]){1, 4, 2, 3}, f ? 0.0f : 0.1f, 2, NULL, 0);
        tfl_operator(&m, TFL_OP_TRANSPOSE, (int32_t[]){x, ints(&m, "perm", (int32_t[]){0, 3, 1, 2}, 4)}, 2, &o, 1);
        shape_round_trip(ctx, &m, x, &o, 1, f ? (void *)fa : xa, f ? (void *)fb : xb, 0, f ? (void *)fy : y);
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 2; h++)
                for (int w = 0; w < 3; w++)
                    CHECK(f ? fy[(c * 2 + h) * 3 + w] == fa[(h * 3 + w) * 4 + c]
                            : y[(c * 2 + h) * 3 + w] == xa[(h * 3 + w) * 4 + c]);
    }
    /* strided slice of [1, 4, 3, 2]: rows 3, 1 (stride -2), columns 0, 2, channel 1 shrunk: y[i][j] = x[3-2i][2j][1] */
    tfl_build_init(&m);
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, (int32_t[]){1, 4, 3, 2}, 0.1f, 2, NULL, 0);
    int32_t o = tfl_tensor(&m, "y", TFL_TYPE_INT8, 3, (int32_t[]){1, 2, 2}, 0.1f, 2, NULL, 0);
    tfl_op *op = tfl_operator(&m, TFL_OP_STRIDED_SLICE,
                              (int32_t[]){x, ints(&m, "b", (int32_t[]){0, 3, 0, 1}, 4),
                                          ints(&m, "e", (int32_t[]){1, 0, 3, 2}, 4),
                                          ints(&m, "s", (int32_t[]){1, -2, 2, 1}, 4)},
                              4, &o, 1);
    tfl_option_i32(op, 4, 8, TFL_OPT_STRIDED_SLICE);
    shape_round_trip(ctx, &m, x, &o, 1, xa, xb, 0, y);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            CHECK_INT_EQ(y[i * 2 + j], xa[((3 - 2 * i) * 3 + 2 * j) * 2 + 1]);
    /* split of [1, 2, 3, 4] in 2 along the channels, both outputs: output 1 holds channels 2 and 3 */
    tfl_build_init(&m);
    x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, x2334, 0.1f, 2, NULL, 0);
    int32_t outs[2] = {tfl_tensor(&m, "y0", TFL_TYPE_INT8, 4, (int32_t[]){1, 2, 3, 2}, 0.1f, 2, NULL, 0),
                       tfl_tensor(&m, "y1", TFL_TYPE_INT8, 4, (int32_t[]){1, 2, 3, 2}, 0.1f, 2, NULL, 0)};
    int32_t axis = 3;
    op = tfl_operator(&m, TFL_OP_SPLIT,
                      (int32_t[]){tfl_tensor(&m, "axis", TFL_TYPE_INT32, 0, &axis, 0.0f, 0, &axis, 4), x}, 2, outs, 2);
    tfl_option_i32(op, 0, 2, TFL_OPT_SPLIT);
    shape_round_trip(ctx, &m, x, outs, 2, xa, xb, 1, y);
    for (int p = 0; p < 6; p++)
        CHECK(y[p * 2] == xa[p * 4 + 2] && y[p * 2 + 1] == xa[p * 4 + 3]);
    /* tile of [1, 2, 3] by (1, 2, 2): y[i][j] = x[i % 2][j % 3] */
    tfl_build_init(&m);
    x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 3, (int32_t[]){1, 2, 3}, 0.1f, 2, NULL, 0);
    o = tfl_tensor(&m, "y", TFL_TYPE_INT8, 3, (int32_t[]){1, 4, 6}, 0.1f, 2, NULL, 0);
    tfl_operator(&m, TFL_OP_TILE, (int32_t[]){x, ints(&m, "m", (int32_t[]){1, 2, 2}, 3)}, 2, &o, 1);
    shape_round_trip(ctx, &m, x, &o, 1, xa, xb, 0, y);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++)
            CHECK_INT_EQ(y[i * 6 + j], xa[(i % 2) * 3 + j % 3]);
    /* PADV2 of [1, 2, 2, 1] by one row above and below and one column right, with the value 9 (raw) */
    tfl_build_init(&m);
    x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, (int32_t[]){1, 2, 2, 1}, 0.1f, 2, NULL, 0);
    o = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, (int32_t[]){1, 4, 3, 1}, 0.1f, 2, NULL, 0);
    int8_t nine = 9;
    int32_t pads = tfl_tensor(&m, "p", TFL_TYPE_INT32, 2, (int32_t[]){4, 2}, 0.0f, 0,
                              (int32_t[]){0, 0, 1, 1, 0, 1, 0, 0}, 32);
    int32_t value = tfl_tensor(&m, "v", TFL_TYPE_INT8, 1, (int32_t[]){1}, 0.1f, 2, &nine, 1);
    tfl_operator(&m, TFL_OP_PADV2, (int32_t[]){x, pads, value}, 3, &o, 1);
    shape_round_trip(ctx, &m, x, &o, 1, xa, xb, 0, y);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            CHECK_INT_EQ(y[i * 3 + j], i >= 1 && i <= 2 && j < 2 ? xa[(i - 1) * 2 + j] : 9);
    sscma_context_destroy(ctx);
}

/* One operator x -> y (and constant inputs) that the reader must refuse with `status` and `needle`. */
static void refuse(sscma_context *ctx, tfl_build *m, int32_t x, int32_t y, sscma_status status, const char *needle)
{
    const char *path = temp_path("bad.tflite");
    CHECK(tfl_build_write(m, &x, 1, &y, 1, path));
    tfl_build_free(m);
    sscma_qmodel *q = NULL;
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), status, needle);
    CHECK(q == NULL);
}

/*
 * Files the data-movement readers refuse, naming the operator: the batch axis moved, cut or repeated (the runtimes
 * scale axis 0 to the batch), operands that are not constant, masks the runtime lacks, sizes that do not add up.
 */
static void shape_ops_refuse_bad_files(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    tfl_build m;
    const int32_t d4[4] = {1, 2, 3, 4};
#define X() tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, d4, 0.1f, 0, NULL, 0)
#define Y(...) tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, (int32_t[]){__VA_ARGS__}, 0.1f, 0, NULL, 0)
    int32_t x, y, p;
    /* transpose: the batch moved, perm not constant, perm not a permutation */
    tfl_build_init(&m), x = X(), y = Y(2, 1, 3, 4);
    tfl_operator(&m, TFL_OP_TRANSPOSE, (int32_t[]){x, ints(&m, "perm", (int32_t[]){1, 0, 2, 3}, 4)}, 2, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "operator 0 (TRANSPOSE, builtin code 39): perm moves the batch axis");
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 4);
    p = tfl_tensor(&m, "perm", TFL_TYPE_INT32, 1, (int32_t[]){4}, 0.0f, 0, NULL, 0);
    tfl_operator(&m, TFL_OP_TRANSPOSE, (int32_t[]){x, p}, 2, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(TRANSPOSE, builtin code 39): perm must be a constant int32 vector");
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 3);
    tfl_operator(&m, TFL_OP_TRANSPOSE, (int32_t[]){x, ints(&m, "perm", (int32_t[]){0, 1, 2, 2}, 4)}, 2, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_FORMAT, "op0: transpose: perm must be a permutation");
    /* space_to_depth / depth_to_space: no block size; a shape the block size does not give */
    tfl_build_init(&m), x = X(), y = Y(1, 1, 1, 24);
    tfl_operator(&m, TFL_OP_SPACE_TO_DEPTH, &x, 1, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(SPACE_TO_DEPTH, builtin code 26): block_size must be 1..64");
    tfl_build_init(&m), x = X(), y = Y(1, 4, 6, 2);
    tfl_option_i32(tfl_operator(&m, TFL_OP_DEPTH_TO_SPACE, &x, 1, &y, 1), 0, 2, TFL_OPT_DEPTH_TO_SPACE);
    refuse(ctx, &m, x, y, SSCMA_ERR_FORMAT, "depth_to_space: output shape does not follow from the block size");
    /* slice: the batch shrunk; past the end; ellipsis; a zero stride */
    int32_t b4[4] = {0, 0, 0, 0}, e4[4] = {1, 2, 3, 4}, s4[4] = {1, 1, 1, 1};
    tfl_build_init(&m), x = X();
    y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 3, (int32_t[]){2, 3, 4}, 0.1f, 0, NULL, 0);
    tfl_option_i32(tfl_operator(&m, TFL_OP_STRIDED_SLICE,
                                (int32_t[]){x, ints(&m, "b", b4, 4), ints(&m, "e", e4, 4), ints(&m, "s", s4, 4)}, 4,
                                &y, 1),
                   4, 1, TFL_OPT_STRIDED_SLICE);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(STRIDED_SLICE, builtin code 45): slices the batch axis");
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 4);
    tfl_option_i32(tfl_operator(&m, TFL_OP_STRIDED_SLICE,
                                (int32_t[]){x, ints(&m, "b", b4, 4), ints(&m, "e", e4, 4), ints(&m, "s", s4, 4)}, 4,
                                &y, 1),
                   2, 1, TFL_OPT_STRIDED_SLICE);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "ellipsis_mask and new_axis_mask are not supported");
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 4);
    tfl_operator(&m, TFL_OP_STRIDED_SLICE,
                 (int32_t[]){x, ints(&m, "b", b4, 4), ints(&m, "e", e4, 4), ints(&m, "s", (int32_t[]){1, 1, 0, 1}, 4)},
                 4, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(STRIDED_SLICE, builtin code 45): a stride is 0");
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 2);
    tfl_operator(&m, TFL_OP_SLICE,
                 (int32_t[]){x, ints(&m, "b", (int32_t[]){0, 0, 0, 3}, 4), ints(&m, "s", (int32_t[]){1, 2, 3, 2}, 4)},
                 3, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(SLICE, builtin code 65): begin and size must select");
    /* a slice whose output shape is not the file's */
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 3);
    tfl_operator(&m, TFL_OP_SLICE, (int32_t[]){x, ints(&m, "b", b4, 4), ints(&m, "s", (int32_t[]){1, 2, 3, 2}, 4)},
                 3, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_FORMAT, "op0: slice: output shape does not follow from the slice");
    /* tile: the batch repeated */
    tfl_build_init(&m), x = X(), y = Y(2, 2, 3, 4);
    tfl_operator(&m, TFL_OP_TILE, (int32_t[]){x, ints(&m, "m", (int32_t[]){2, 1, 1, 1}, 4)}, 2, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(TILE, builtin code 69): multiples[0] must be 1");
    /* split: num_splits other than the outputs; split_v: sizes that do not add up */
    int32_t axis = 3;
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 2);
    int32_t y1 = Y(1, 2, 3, 2);
    tfl_option_i32(tfl_operator(&m, TFL_OP_SPLIT,
                                (int32_t[]){tfl_tensor(&m, "a", TFL_TYPE_INT32, 0, &axis, 0.0f, 0, &axis, 4), x}, 2,
                                (int32_t[]){y, y1}, 2),
                   0, 3, TFL_OPT_SPLIT);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(SPLIT, builtin code 49): num_splits must equal the number");
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 2), y1 = Y(1, 2, 3, 2);
    tfl_option_i32(tfl_operator(&m, TFL_OP_SPLIT_V,
                                (int32_t[]){x, ints(&m, "sizes", (int32_t[]){2, 3}, 2),
                                            tfl_tensor(&m, "a", TFL_TYPE_INT32, 0, &axis, 0.0f, 0, &axis, 4)},
                                3, (int32_t[]){y, y1}, 2),
                   0, 2, TFL_OPT_SPLIT_V);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(SPLIT_V, builtin code 102): size_splits does not add up");
    /* PADV2: a value in other parameters than the output's */
    int8_t v = 3;
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 4);
    tfl_operator(&m, TFL_OP_PADV2,
                 (int32_t[]){x, tfl_tensor(&m, "p", TFL_TYPE_INT32, 2, (int32_t[]){4, 2}, 0.0f, 0,
                                           (int32_t[]){0, 0, 0, 0, 0, 0, 0, 0}, 32),
                             tfl_tensor(&m, "v", TFL_TYPE_INT8, 1, (int32_t[]){1}, 0.2f, 0, &v, 1)},
                 3, &y, 1);
    refuse(ctx, &m, x, y, SSCMA_ERR_UNSUPPORTED, "(PADV2, builtin code 60): constant_values must be int8 with the");
    /* two outputs on an operator that has one */
    tfl_build_init(&m), x = X(), y = Y(1, 2, 3, 4), y1 = Y(1, 2, 3, 4);
    tfl_operator(&m, TFL_OP_RELU, &x, 1, (int32_t[]){y, y1}, 2);
    refuse(ctx, &m, x, y, SSCMA_ERR_FORMAT, "operator 0 is malformed (opcode, inputs or outputs)");
#undef X
#undef Y
    sscma_context_destroy(ctx);
}

/*
 * sscma_tflite_describe (sscma info): inputs and outputs with their quantization, operators by count with what the
 * runtime lacks, weights, metadata, and whether the file loads (its error when not), also for a file it cannot run.
 */
static void files_are_described_without_running(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    tfl_build m;
    tfl_build_init(&m);
    const int32_t dims[2] = {1, 8};
    const int8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 2, dims, 0.1f, -3, NULL, 0);
    int32_t c = tfl_tensor(&m, "c", TFL_TYPE_INT8, 2, dims, 0.1f, 0, w, sizeof w);
    int32_t a = tfl_tensor(&m, "a", TFL_TYPE_INT8, 2, dims, 0.2f, 0, NULL, 0);
    int32_t b = tfl_tensor(&m, "b", TFL_TYPE_INT8, 2, dims, 0.2f, 0, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, dims, 0.05f, 7, NULL, 0);
    CHECK(tfl_operator(&m, TFL_OP_ADD, (int32_t[]){x, c}, 2, &a, 1) != NULL);
    CHECK(tfl_operator(&m, TFL_OP_RELU, &a, 1, &b, 1) != NULL);
    CHECK(tfl_operator(&m, TFL_OP_RELU, &b, 1, &y, 1) != NULL);
    const char *path = temp_path("described.tflite");
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    size_t need = 0;
    CHECK_OK(sscma_tflite_describe(ctx, path, NULL, 0, &need));
    char *text = malloc(need);
    size_t again = 0;
    CHECK_OK(sscma_tflite_describe(ctx, path, text, need, &again));
    CHECK(again == need && strlen(text) + 1 == need);
    json_t *d = json_loads(text, 0, NULL);
    CHECK(d != NULL);
    json_t *in = json_array_get(json_object_get(d, "inputs"), 0);
    CHECK_STR_EQ(json_string_value(json_object_get(in, "type")), "int8");
    CHECK(fabs(json_real_value(json_object_get(in, "scale")) - 0.1) < 1e-6);
    CHECK_INT_EQ(json_integer_value(json_object_get(in, "zero_point")), -3);
    CHECK_INT_EQ(json_integer_value(json_array_get(json_object_get(in, "shape"), 1)), 8);
    json_t *ops = json_object_get(d, "operators");
    CHECK_INT_EQ(json_array_size(ops), 2);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(ops, 1), "name")), "RELU");
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(ops, 1), "count")), 2);
    CHECK(json_is_true(json_object_get(json_array_get(ops, 1), "supported")));
    CHECK_INT_EQ(json_array_size(json_object_get(d, "unsupported")), 0);
    CHECK_INT_EQ(json_integer_value(json_object_get(d, "weight_bytes")), 8);
    CHECK(json_is_true(json_object_get(d, "loads")));
    CHECK(json_integer_value(json_object_get(d, "arena_bytes")) >= 16); /* two 8-byte activations live at once */
    json_decref(d);
    /* a cut buffer holds a NUL-terminated prefix, *needed the whole size */
    char small[16];
    CHECK_OK(sscma_tflite_describe(ctx, path, small, sizeof small, &again));
    CHECK(again == need && strlen(small) == sizeof small - 1);
    free(text);
    /* an operator the runtime lacks: listed, and the load's message given */
    m.ops[2].code = 66; /* SIN */
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    CHECK_OK(sscma_tflite_describe(ctx, path, NULL, 0, &need));
    text = malloc(need);
    CHECK_OK(sscma_tflite_describe(ctx, path, text, need, &need));
    d = json_loads(text, 0, NULL);
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(d, "unsupported"), 0)), "SIN");
    CHECK(json_is_false(json_object_get(d, "loads")));
    CHECK_STR_CONTAINS(json_string_value(json_object_get(d, "error")), "operator 2 (SIN, builtin code 66)");
    CHECK(json_object_get(d, "arena_bytes") == NULL);
    json_decref(d);
    free(text);
    tfl_build_free(&m);
    /* not a TFLite file: an error naming it */
    CHECK_FAILS(sscma_tflite_describe(ctx, temp_path("none.tflite"), NULL, 0, &need), SSCMA_ERR_IO, "none.tflite");
    FILE *f = fopen(temp_path("text.tflite"), "w");
    if (f != NULL) {
        fputs("this is not a flatbuffer at all", f);
        fclose(f);
    }
    CHECK_FAILS(sscma_tflite_describe(ctx, temp_path("text.tflite"), NULL, 0, &need), SSCMA_ERR_FORMAT, "no TFL3");
    CHECK_FAILS(sscma_tflite_describe(ctx, path, NULL, 5, &need), SSCMA_ERR_INVALID_ARGUMENT, "'buf'");
    sscma_context_destroy(ctx);
}

/*
 * TensorFlow's dynamic batch (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE to [batch, -1]): the output is stored [1, 1]
 * with shape_signature [-1, -1]. RESHAPE takes the size the input leaves, and a QUANTIZE after it the input's
 * shape; without the signature the sizes differ and the file is refused.
 */
static void dynamic_batch_reshape_takes_the_inputs_size(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    for (int with_sig = 1; with_sig >= 0; with_sig--) {
        tfl_build m;
        tfl_build_init(&m);
        int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, (int32_t[]){1, 2, 2, 3}, 0.1f, 3, NULL, 0);
        int32_t s = tfl_tensor(&m, "shape", TFL_TYPE_INT32, 1, (int32_t[]){2}, 0.0f, 0, NULL, 0);
        int32_t r = tfl_tensor(&m, "r", TFL_TYPE_INT8, 2, (int32_t[]){1, 1}, 0.1f, 3, NULL, 0);
        int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 1}, 0.1f, 3, NULL, 0);
        if (with_sig) {
            tfl_tensor_signature(&m, x, (int32_t[]){-1, 2, 2, 3});
            tfl_tensor_signature(&m, r, (int32_t[]){-1, -1});
            tfl_tensor_signature(&m, y, (int32_t[]){-1, -1});
        }
        CHECK(tfl_operator(&m, 77 /* SHAPE */, (int32_t[]){x}, 1, (int32_t[]){s}, 1) != NULL);
        CHECK(tfl_operator(&m, TFL_OP_RESHAPE, (int32_t[]){x, s}, 2, (int32_t[]){r}, 1) != NULL);
        CHECK(tfl_operator(&m, TFL_OP_QUANTIZE, &r, 1, &y, 1) != NULL);
        const char *path = temp_path("dynbatch.tflite");
        CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
        tfl_build_free(&m);
        sscma_qmodel *q = NULL;
        if (!with_sig) {
            CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_FORMAT,
                        "op1: reshape: input and output sizes differ");
            continue;
        }
        CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
        int8_t xa[12], ya[12];
        for (int k = 0; k < 12; k++)
            xa[k] = (int8_t)(k * 9 - 40);
        CHECK(run_model(q, 1, xa, 0, ya) == 12);
        CHECK(memcmp(ya, xa, 12) == 0);
        sscma_qmodel_destroy(q);
    }
    sscma_context_destroy(ctx);
}

/* A constant with a dimension 0 and an empty buffer (found by fuzz_tflite: memcpy into no block) is refused cleanly. */
static void empty_constants_are_refused_cleanly(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    tfl_build m;
    tfl_build_init(&m);
    static const int8_t none[1] = {0};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 2, (int32_t[]){1, 8}, 0.1f, 0, NULL, 0);
    int32_t c = tfl_tensor(&m, "c", TFL_TYPE_INT8, 2, (int32_t[]){0, 8}, 0.1f, 0, none, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 8}, 0.1f, 0, NULL, 0);
    CHECK(tfl_operator(&m, TFL_OP_ADD, (int32_t[]){x, c}, 2, &y, 1) != NULL);
    const char *path = temp_path("empty_constant.tflite");
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    tfl_build_free(&m);
    sscma_qmodel *q = NULL;
    sscma_clear_error();
    sscma_status st = sscma_qmodel_load_tflite(ctx, path, &q);
    CHECK(st != SSCMA_OK && q == NULL);
    CHECK_STR_CONTAINS(sscma_last_error(), "empty_constant.tflite");
    sscma_context_destroy(ctx);
}

/* Loads path, runs it on n input bytes `x` and copies the output bytes into y; returns the model (caller destroys). */
static sscma_qmodel *load_run(sscma_context *ctx, const char *path, const void *x, size_t n, void *y, size_t ny)
{
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
    sscma_tensor *in, *out;
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    CHECK_OK(sscma_qmodel_input(q, 0, &in));
    CHECK_OK(sscma_qmodel_output(q, 0, &out, NULL));
    void *xd, *yd;
    size_t in_b, out_b;
    sscma_tensor_data(in, &xd);
    sscma_tensor_data(out, &yd);
    sscma_tensor_size_bytes(in, &in_b);
    sscma_tensor_size_bytes(out, &out_b);
    CHECK(in_b == n && out_b == ny);
    memcpy(xd, x, n);
    CHECK_OK(sscma_qmodel_run(q));
    memcpy(y, yd, ny);
    return q;
}

/* Fully connected layers the runtime cannot hold, or whose weights are no constant. */
static void bad_fully_connected_are_refused(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    sscma_qmodel *q = NULL;
    const char *path = temp_path("bad.tflite");
    /* x [1, 2, 3] against weights of depth 3 without keep_num_dims: TFLite's output would be [2, units] */
    tfl_build m;
    tfl_build_init(&m);
    const int8_t w[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 3, (int32_t[]){1, 2, 3}, 0.1f, 0, NULL, 0);
    int32_t wt = tfl_tensor(&m, "w", TFL_TYPE_INT8, 2, (int32_t[]){4, 3}, 0.1f, 0, w, sizeof w);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){2, 4}, 0.1f, 0, NULL, 0);
    CHECK(tfl_operator(&m, TFL_OP_FULLY_CONNECTED, (int32_t[]){x, wt}, 2, &y, 1) != NULL);
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_UNSUPPORTED,
                "(FULLY_CONNECTED, builtin code 9): an output of several rows per sample needs keep_num_dims");
    /* weights that are not a constant */
    tfl_build_free(&m);
    tfl_build_init(&m);
    x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 2, (int32_t[]){1, 3}, 0.1f, 0, NULL, 0);
    wt = tfl_tensor(&m, "w", TFL_TYPE_INT8, 2, (int32_t[]){4, 3}, 0.1f, 0, NULL, 0);
    y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, (int32_t[]){1, 4}, 0.1f, 0, NULL, 0);
    CHECK(tfl_operator(&m, TFL_OP_FULLY_CONNECTED, (int32_t[]){x, wt}, 2, &y, 1) != NULL);
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_UNSUPPORTED,
                "(FULLY_CONNECTED, builtin code 9): weights must be a constant [units, depth] tensor");
    CHECK(q == NULL);
    tfl_build_free(&m);
    sscma_context_destroy(ctx);
}

/*
 * FULLY_CONNECTED with keep_num_dims on a rank-3 input, float and int8: the float runtime computes each row's sums
 * (checked against a plain loop), the int8 file survives libsscma's writer (keep_num_dims written again) with the same
 * outputs, at batch 1 and row by row at batch 2.
 */
static void fully_connected_keeps_dims(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    const int8_t w8[20] = {3, -7, 11, 2, -5, 9, 1, -1, 4, 4, -8, 6, 0, 7, -3, 5, 12, -9, 2, 1};
    float wf[20], bias_f[5] = {0.5f, -0.25f, 1.0f, 0.0f, 2.0f};
    const int32_t bias_i[5] = {17, -3, 40, 0, -120};
    for (int k = 0; k < 20; k++)
        wf[k] = (float)w8[k] * 0.125f;
    for (int f32 = 0; f32 < 2; f32++) {
        tfl_build m;
        tfl_build_init(&m);
        const int8_t type = f32 ? TFL_TYPE_FLOAT32 : TFL_TYPE_INT8;
        int32_t five = 5;
        int32_t x = tfl_tensor(&m, "x", type, 3, (int32_t[]){1, 3, 4}, f32 ? 0.0f : 0.05f, -2, NULL, 0);
        int32_t wt = f32 ? tfl_tensor(&m, "w", type, 2, (int32_t[]){5, 4}, 0.0f, 0, wf, sizeof wf)
                         : tfl_tensor(&m, "w", type, 2, (int32_t[]){5, 4}, 0.02f, 0, w8, sizeof w8);
        int32_t bt = f32 ? tfl_tensor(&m, "b", type, 1, &five, 0.0f, 0, bias_f, sizeof bias_f)
                         : tfl_tensor(&m, "b", TFL_TYPE_INT32, 1, &five, 0.001f, 0, bias_i, sizeof bias_i);
        int32_t y = tfl_tensor(&m, "y", type, 3, (int32_t[]){1, 3, 5}, f32 ? 0.0f : 0.03f, 7, NULL, 0);
        tfl_op *o = tfl_operator(&m, TFL_OP_FULLY_CONNECTED, (int32_t[]){x, wt, bt}, 3, &y, 1);
        tfl_option_u8(o, 2, 1, TFL_OPT_FULLY_CONNECTED);
        const char *path = temp_path("fc_keep.tflite"), *again = temp_path("fc_keep_again.tflite");
        CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
        tfl_build_free(&m);
        if (f32) {
            float xs[12], ys[15];
            for (int k = 0; k < 12; k++)
                xs[k] = (float)(k * 5 % 12) * 0.25f - 1.0f;
            sscma_qmodel_destroy(load_run(ctx, path, xs, sizeof xs, ys, sizeof ys));
            for (int r = 0; r < 3; r++)
                for (int u = 0; u < 5; u++) {
                    float want = bias_f[u];
                    for (int d = 0; d < 4; d++)
                        want += xs[r * 4 + d] * wf[u * 4 + d];
                    CHECK(fabsf(ys[r * 5 + u] - want) < 1e-5f);
                }
            continue;
        }
        int8_t xs[24], first[15], second[15];
        for (int k = 0; k < 24; k++)
            xs[k] = (int8_t)(k * 41 % 256 - 128);
        sscma_qmodel *q = load_run(ctx, path, xs, 12, first, sizeof first);
        CHECK_OK(sscma_export_tflite(q, again));
        sscma_qmodel_destroy(load_run(ctx, again, xs, 12, second, sizeof second));
        CHECK(memcmp(first, second, sizeof first) == 0);
        /* batch 2: the first sample's rows again, the second's from its own input */
        sscma_tensor *in, *out;
        int8_t *xd, *yd, one[15];
        CHECK_OK(sscma_qmodel_prepare(q, 2));
        CHECK_OK(sscma_qmodel_input(q, 0, &in));
        CHECK_OK(sscma_qmodel_output(q, 0, &out, NULL));
        sscma_tensor_data(in, (void **)&xd);
        sscma_tensor_data(out, (void **)&yd);
        memcpy(xd, xs, 24);
        CHECK_OK(sscma_qmodel_run(q));
        CHECK(memcmp(yd, first, 15) == 0);
        sscma_qmodel_destroy(load_run(ctx, path, xs + 12, 12, one, sizeof one));
        CHECK(memcmp(yd + 15, one, 15) == 0);
        CHECK_FAILS(sscma_export_onnx(q, temp_path("fc_keep.onnx")), SSCMA_ERR_UNSUPPORTED, "[N, in] inputs only");
        sscma_qmodel_destroy(q);
    }
    sscma_context_destroy(ctx);
}

/* An int8 resize x [1, 3, 4, 2] -> [1, 7, 5, 2] with the given flags, written to path. */
static void write_resize(const char *path, int32_t code, bool align_corners, bool half_pixel, const int32_t *size)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t two = 2;
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, (int32_t[]){1, 3, 4, 2}, 0.1f, 4, NULL, 0);
    int32_t s = size != NULL ? tfl_tensor(&m, "size", TFL_TYPE_INT32, 1, &two, 0.0f, 0, size, 8)
                             : tfl_tensor(&m, "size", TFL_TYPE_INT32, 1, &two, 0.0f, 0, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, (int32_t[]){1, 7, 5, 2}, 0.1f, 4, NULL, 0);
    tfl_op *o = tfl_operator(&m, code, (int32_t[]){x, s}, 2, &y, 1);
    const bool bilinear = code == TFL_OP_RESIZE_BILINEAR;
    const uint8_t opt = bilinear ? TFL_OPT_RESIZE_BILINEAR : TFL_OPT_RESIZE_NEAREST;
    tfl_option_u8(o, bilinear ? 2 : 0, align_corners, opt);
    tfl_option_u8(o, bilinear ? 3 : 1, half_pixel, opt);
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    tfl_build_free(&m);
}

/*
 * RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR with each of their flags, to a size that is no multiple of the input,
 * read, run, written back by libsscma (flags and size kept) and read again compute the same. Nearest copies input
 * pixels (every output pixel is one of them); bilinear with align_corners keeps the four corners. (Their values against
 * TFLite's reference kernels: the tflite-ops-reference test.)
 */
static void resizes_survive_a_round_trip(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    const int32_t size[2] = {7, 5};
    int8_t x[24], first[70], second[70];
    for (int k = 0; k < 24; k++)
        x[k] = (int8_t)(k * 37 % 256 - 128);
    for (int code = 0; code < 2; code++)
        for (int flags = 0; flags < 4; flags++) {
            const bool bilinear = code == 1, ac = flags & 1, hp = flags & 2;
            if (bilinear && ac && hp)
                continue;
            const char *path = temp_path("resize.tflite"), *again = temp_path("resize_again.tflite");
            write_resize(path, bilinear ? TFL_OP_RESIZE_BILINEAR : TFL_OP_RESIZE_NEAREST_NEIGHBOR, ac, hp, size);
            sscma_qmodel *q = load_run(ctx, path, x, sizeof x, first, sizeof first);
            CHECK_OK(sscma_export_tflite(q, again));
            sscma_qmodel_destroy(load_run(ctx, again, x, sizeof x, second, sizeof second));
            CHECK(memcmp(first, second, sizeof first) == 0);
            if (!(ac && hp))
                CHECK_OK(sscma_export_onnx(q, temp_path("resize.onnx")));
            sscma_qmodel_destroy(q);
            for (int p = 0; p < 35 && !bilinear; p++) {
                bool found = false;
                for (int i = 0; i < 12; i++)
                    found |= first[2 * p] == x[2 * i] && first[2 * p + 1] == x[2 * i + 1];
                CHECK(found);
            }
            if (bilinear && ac)
                for (int c = 0; c < 2; c++) {
                    CHECK_INT_EQ(first[c], x[c]);                                /* top left */
                    CHECK_INT_EQ(first[(0 * 5 + 4) * 2 + c], x[(0 * 4 + 3) * 2 + c]); /* top right */
                    CHECK_INT_EQ(first[(6 * 5 + 0) * 2 + c], x[(2 * 4 + 0) * 2 + c]); /* bottom left */
                    CHECK_INT_EQ(first[(6 * 5 + 4) * 2 + c], x[(2 * 4 + 3) * 2 + c]); /* bottom right */
                }
        }
    sscma_context_destroy(ctx);
}

/* Resizes TFLite would refuse or that lie about their size. */
static void bad_resizes_are_refused(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    sscma_qmodel *q = NULL;
    const char *path = temp_path("bad.tflite");
    write_resize(path, TFL_OP_RESIZE_BILINEAR, true, true, (const int32_t[]){7, 5});
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_UNSUPPORTED,
                "operator 0 (RESIZE_BILINEAR, builtin code 23): align_corners and half_pixel_centers exclude each other");
    write_resize(path, TFL_OP_RESIZE_NEAREST_NEIGHBOR, false, true, NULL);
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_UNSUPPORTED,
                "(RESIZE_NEAREST_NEIGHBOR, builtin code 97): the size must be a constant int32 [2]");
    write_resize(path, TFL_OP_RESIZE_BILINEAR, false, false, (const int32_t[]){5, 7});
    CHECK_FAILS(sscma_qmodel_load_tflite(ctx, path, &q), SSCMA_ERR_UNSUPPORTED,
                "(RESIZE_BILINEAR, builtin code 23): the size differs from the output's height and width");
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(unsupported_operator_is_named),
        TEST_CASE(unused_operators_are_not_read),
        TEST_CASE(activations_survive_a_round_trip),
        TEST_CASE(files_are_described_without_running),
        TEST_CASE(converting_interfaces_load_run_and_write),
        TEST_CASE(binary_ops_and_mean_survive_a_round_trip),
        TEST_CASE(binary_ops_and_mean_have_their_identities),
        TEST_CASE(bad_binary_and_mean_files_are_refused),
        TEST_CASE(shape_ops_move_values_and_survive_a_round_trip),
        TEST_CASE(shape_ops_refuse_bad_files),
        TEST_CASE(dynamic_batch_reshape_takes_the_inputs_size),
        TEST_CASE(empty_constants_are_refused_cleanly),
        TEST_CASE(bad_fully_connected_are_refused),
        TEST_CASE(fully_connected_keeps_dims),
        TEST_CASE(resizes_survive_a_round_trip),
        TEST_CASE(bad_resizes_are_refused),
    };
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    if (tmpdir[0] != '\0')
        fixture_tmpdir_remove(tmpdir);
    return rc;
}
