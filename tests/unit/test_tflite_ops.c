/*
 * The TFLite reader and int8 runtime, operator by operator, on hand-made files (tfl_build.h): what each operator
 * computes, and how a file with an operator the runtime lacks is refused.
 */
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
        TEST_CASE(converting_interfaces_load_run_and_write),
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
