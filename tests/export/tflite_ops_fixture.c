/*
 * Hand-made TFLite files, one per operator and quantization case (tests/unit/tfl_build.h), run in libsscma: writes
 * NAME.tflite, NAME.in (the inputs, int8) and NAME.out (libsscma's outputs) into DIR for check_tflite_ops.py, which
 * runs the same files in TFLite's reference kernels. Unary operators get every int8 value once, so the check is
 * exhaustive for them.
 *
 *   tflite_ops_fixture DIR
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/export.h>
#include <sscma/quant.h>

#include "export/tflite_schema.h"
#include "tfl_build.h"

static int failures;

static void save(const char *dir, const char *name, const char *ext, const void *data, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, bytes, f) != bytes) {
        fprintf(stderr, "cannot write %s\n", path);
        failures++;
    }
    if (f != NULL)
        fclose(f);
}

/*
 * Loads DIR/NAME.tflite in libsscma, runs it on `inputs` (n samples, raw) and, when the model has a second input,
 * `inputs1` (its n samples), and saves inputs (NAME.in, NAME.in1) and outputs (NAME.out).
 */
static void run_case2(sscma_context *ctx, const char *dir, const char *name, const void *inputs, const void *inputs1,
                      int n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    sscma_qmodel *q = NULL;
    sscma_tensor *in, *in1 = NULL, *out;
    if (sscma_qmodel_load_tflite(ctx, path, &q) != SSCMA_OK || sscma_qmodel_prepare(q, 1) != SSCMA_OK ||
        sscma_qmodel_input(q, 0, &in) != SSCMA_OK || sscma_qmodel_output(q, 0, &out, NULL) != SSCMA_OK ||
        (inputs1 != NULL && sscma_qmodel_input(q, 1, &in1) != SSCMA_OK)) {
        fprintf(stderr, "%s: %s\n", name, sscma_last_error());
        failures++;
        sscma_qmodel_destroy(q);
        return;
    }
    int8_t *xd, *yd, *x1d = NULL;
    size_t in_b, out_b, in1_b = 0;
    if (in1 != NULL) {
        sscma_tensor_data(in1, (void **)&x1d);
        sscma_tensor_size_bytes(in1, &in1_b);
    }
    sscma_tensor_data(in, (void **)&xd);
    sscma_tensor_data(out, (void **)&yd);
    sscma_tensor_size_bytes(in, &in_b);
    sscma_tensor_size_bytes(out, &out_b);
    int8_t *all = malloc(out_b * (size_t)n);
    for (int i = 0; i < n; i++) {
        memcpy(xd, (const char *)inputs + (size_t)i * in_b, in_b);
        if (in1 != NULL)
            memcpy(x1d, (const char *)inputs1 + (size_t)i * in1_b, in1_b);
        if (sscma_qmodel_run(q) != SSCMA_OK) {
            fprintf(stderr, "%s: %s\n", name, sscma_last_error());
            failures++;
            break;
        }
        memcpy(all + (size_t)i * out_b, yd, out_b);
    }
    save(dir, name, "in", inputs, in_b * (size_t)n);
    if (in1 != NULL)
        save(dir, name, "in1", inputs1, in1_b * (size_t)n);
    save(dir, name, "out", all, out_b * (size_t)n);
    free(all);
    sscma_qmodel_destroy(q);
}

/* Loads DIR/NAME.tflite in libsscma, runs it on `inputs` (n samples, raw) and saves inputs and outputs. */
static void run_case(sscma_context *ctx, const char *dir, const char *name, const void *inputs, int n)
{
    run_case2(ctx, dir, name, inputs, NULL, n);
}

/* x [1, 256] -> op -> y [1, 256], int8 with the given quantization; one input holding every int8 value. */
static void unary(sscma_context *ctx, const char *dir, const char *name, int32_t code, float sx, int32_t zx,
                  float sy, int32_t zy, float alpha)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t dims[2] = {1, 256};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 2, dims, sx, zx, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 2, dims, sy, zy, NULL, 0);
    tfl_op *o = tfl_operator(&m, code, &x, 1, &y, 1);
    if (code == TFL_OP_LEAKY_RELU)
        tfl_option_f32(o, 0, alpha, TFL_OPT_LEAKY_RELU);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    if (!tfl_build_write(&m, &x, 1, &y, 1, path)) {
        fprintf(stderr, "%s: cannot write\n", name);
        failures++;
    }
    tfl_build_free(&m);
    int8_t all[256];
    for (int v = 0; v < 256; v++)
        all[v] = (int8_t)(v - 128);
    run_case(ctx, dir, name, all, 1);
}

static void write_model_xy(tfl_build *m, int32_t x, int32_t y, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    if (!tfl_build_write(m, &x, 1, &y, 1, path)) {
        fprintf(stderr, "%s: cannot write\n", name);
        failures++;
    }
    tfl_build_free(m);
}

/*
 * FULLY_CONNECTED, int8: x of shape xdims (rank 2..4; depth its last dim with keep_num_dims, else one sample) -> y,
 * units outputs, weights per tensor
 * (n_ws 1) or per channel (n_ws == units), bias scale s_x s_w; keep_num_dims keeps x's leading dims. The scales are
 * chosen by the callers to put s_x s_w / s_y on a power of two (ties for every odd accumulator) or off the 31-bit
 * multiplier's grid. 256 samples: x[0] takes every int8 value, the rest a spread of them.
 */
static void fully_connected(sscma_context *ctx, const char *dir, const char *name, int32_t rank, const int32_t *xdims,
                            int32_t units, float sx, int32_t zx, const float *sw, int32_t n_ws, float sy, int32_t zy,
                            bool keep, int32_t act)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t numel = 1;
    for (int32_t k = 0; k < rank; k++)
        numel *= xdims[k];
    const int32_t depth = keep ? xdims[rank - 1] : numel / xdims[0], rows = numel / depth; /* TFLite flattens */
    int32_t ydims[4], yrank;
    if (keep) {
        memcpy(ydims, xdims, (size_t)rank * sizeof *ydims);
        ydims[rank - 1] = units, yrank = rank;
    } else {
        ydims[0] = rows, ydims[1] = units, yrank = 2;
    }
    int8_t w[64 * 64];
    int32_t bias[64];
    for (int32_t u = 0; u < units; u++) {
        bias[u] = (u % 5 - 2) * (u + 1) * 3 + (u & 1);
        for (int32_t d = 0; d < depth; d++)
            w[u * depth + d] = (int8_t)(((u * 7 + d * 13 + 3) % 23 - 11) * (u % 3 == 0 ? 1 : u % 3 == 1 ? 3 : 11) % 128);
    }
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, rank, xdims, sx, zx, NULL, 0);
    int32_t wt = tfl_tensor(&m, "w", TFL_TYPE_INT8, 2, (int32_t[]){units, depth}, sw[0], 0, w,
                            (size_t)(units * depth));
    int32_t bt = tfl_tensor(&m, "b", TFL_TYPE_INT32, 1, &units, sx * sw[0], 0, bias, (size_t)units * 4);
    if (n_ws > 1) {
        float bs[64];
        for (int32_t u = 0; u < units; u++)
            bs[u] = sx * sw[u];
        tfl_tensor_per_channel(&m, wt, 0, sw, n_ws);
        tfl_tensor_per_channel(&m, bt, 0, bs, n_ws);
    }
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, yrank, ydims, sy, zy, NULL, 0);
    tfl_op *o = tfl_operator(&m, TFL_OP_FULLY_CONNECTED, (int32_t[]){x, wt, bt}, 3, &y, 1);
    tfl_option_u8(o, 0, act, TFL_OPT_FULLY_CONNECTED);
    if (keep)
        tfl_option_u8(o, 2, 1, TFL_OPT_FULLY_CONNECTED);
    write_model_xy(&m, x, y, dir, name);
    const int32_t per = rows * depth;
    int8_t *all = malloc((size_t)per * 256);
    for (int32_t s = 0; s < 256; s++)
        for (int32_t k = 0; k < per; k++)
            all[s * per + k] = (int8_t)(k == 0 ? s - 128 : (s * 53 + k * 97 + 7) % 256 - 128);
    run_case(ctx, dir, name, all, 256);
    free(all);
}

/*
 * RESIZE_NEAREST_NEIGHBOR or RESIZE_BILINEAR, int8 (scale 0.05, zero point -3) or float: x [1, H, W, 3] ->
 * y [1, OH, OW, 3] with the flags; 6 samples spread over the type's values (float: signed zeros, fractions, large).
 */
static void resize(sscma_context *ctx, const char *dir, const char *name, int32_t code, bool f32, int32_t H,
                   int32_t W, int32_t OH, int32_t OW, bool align_corners, bool half_pixel)
{
    tfl_build m;
    tfl_build_init(&m);
    const int8_t type = f32 ? TFL_TYPE_FLOAT32 : TFL_TYPE_INT8;
    const float scale = f32 ? 0.0f : 0.05f;
    const int32_t size[2] = {OH, OW}, two = 2, C = 3;
    int32_t x = tfl_tensor(&m, "x", type, 4, (int32_t[]){1, H, W, C}, scale, -3, NULL, 0);
    int32_t s = tfl_tensor(&m, "size", TFL_TYPE_INT32, 1, &two, 0.0f, 0, size, sizeof size);
    int32_t y = tfl_tensor(&m, "y", type, 4, (int32_t[]){1, OH, OW, C}, scale, -3, NULL, 0);
    tfl_op *o = tfl_operator(&m, code, (int32_t[]){x, s}, 2, &y, 1);
    const bool bilinear = code == TFL_OP_RESIZE_BILINEAR;
    const uint8_t opt = bilinear ? TFL_OPT_RESIZE_BILINEAR : TFL_OPT_RESIZE_NEAREST;
    tfl_option_u8(o, bilinear ? 2 : 0, align_corners, opt);
    tfl_option_u8(o, bilinear ? 3 : 1, half_pixel, opt);
    write_model_xy(&m, x, y, dir, name);
    const int32_t per = H * W * C, n = 6;
    if (f32) {
        float *all = malloc((size_t)per * n * sizeof *all);
        for (int32_t k = 0; k < per * n; k++) {
            const int32_t v = (k * 73 + 11) % 199 - 99;
            all[k] = k % 17 == 0 ? -0.0f : k % 23 == 0 ? 3.0e38f * (float)(v % 2 ? 1 : -1) : (float)v * 0.37f + 0.1f;
        }
        run_case(ctx, dir, name, all, n);
        free(all);
    } else {
        int8_t *all = malloc((size_t)per * n);
        for (int32_t k = 0; k < per * n; k++)
            all[k] = (int8_t)(k < 256 ? k - 128 : (k * 73 + 11) % 256 - 128);
        run_case(ctx, dir, name, all, n);
        free(all);
    }
}

/* x [1, 256] of type tx -> QUANTIZE or DEQUANTIZE -> y [1, 256] of type ty (scale 0: float). */
static void convert(sscma_context *ctx, const char *dir, const char *name, int32_t code, int8_t tx, float sx,
                    int32_t zx, int8_t ty, float sy, int32_t zy)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t dims[2] = {1, 256};
    int32_t x = tfl_tensor(&m, "x", tx, 2, dims, sx, zx, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", ty, 2, dims, sy, zy, NULL, 0);
    tfl_operator(&m, code, &x, 1, &y, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    if (!tfl_build_write(&m, &x, 1, &y, 1, path)) {
        fprintf(stderr, "%s: cannot write\n", name);
        failures++;
    }
    tfl_build_free(&m);
    if (tx == TFL_TYPE_FLOAT32) {
        /* around every rounding tie of the output scale, both signs, and what the cast cannot hold */
        float all[256];
        for (int v = 0; v < 240; v++)
            all[v] = ((float)(v - 120) + 0.5f) * sy * (v % 3 == 0 ? 1.0f : v % 3 == 1 ? 1.0000001f : 0.9999999f);
        const float odd[16] = {NAN, -NAN, INFINITY, -INFINITY, 1e10f, -1e10f, 3e9f, -3e9f,
                               2147483520.0f, -2147483648.0f, 0.0f, -0.0f, 1e-30f, -1e-30f, 200.0f * sy, -200.0f * sy};
        memcpy(all + 240, odd, sizeof odd);
        run_case(ctx, dir, name, all, 1);
    } else {
        uint8_t all[256];
        for (int v = 0; v < 256; v++)
            all[v] = (uint8_t)v;
        run_case(ctx, dir, name, all, 1);
    }
}

/* Writes DIR/NAME.tflite from m (inputs `in`, n_in of them; output y), counting a failure. */
static void write_model(tfl_build *m, const char *dir, const char *name, const int32_t *in, int32_t n_in, int32_t y)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    if (!tfl_build_write(m, in, n_in, &y, 1, path)) {
        fprintf(stderr, "%s: cannot write\n", name);
        failures++;
    }
    tfl_build_free(m);
}

/* The options of binary operator o: the fused activation (ADD, SUB, MUL), none for MAXIMUM / MINIMUM. */
static void binary_options(tfl_op *o, int32_t code, int32_t act)
{
    uint8_t type = code == TFL_OP_ADD ? TFL_OPT_ADD : code == TFL_OP_SUB ? TFL_OPT_SUB : code == TFL_OP_MUL ? TFL_OPT_MUL : 0;
    if (type != 0)
        tfl_option_u8(o, 0, act, type);
    else
        o->options_type = TFL_OPT_MAXIMUM_MINIMUM;
}

/*
 * Every pair of int8 values: a [1, 256, 1] and b [1, 1, 256] broadcast to y [1, 256, 256] (TFLite's broadcasting
 * path), or, with `flat`, a and b [1, 65536] holding the pairs themselves (the same-shape path).
 */
static void binary_pairs(sscma_context *ctx, const char *dir, const char *name, int32_t code, int32_t act, bool flat,
                         float sa, int32_t za, float sb, int32_t zb, float sy, int32_t zy)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t da[3] = {1, 256, 1}, db[3] = {1, 1, 256}, dy[3] = {1, 256, 256}, dflat[2] = {1, 65536};
    int32_t a = tfl_tensor(&m, "a", TFL_TYPE_INT8, flat ? 2 : 3, flat ? dflat : da, sa, za, NULL, 0);
    int32_t b = tfl_tensor(&m, "b", TFL_TYPE_INT8, flat ? 2 : 3, flat ? dflat : db, sb, zb, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, flat ? 2 : 3, flat ? dflat : dy, sy, zy, NULL, 0);
    binary_options(tfl_operator(&m, code, (int32_t[]){a, b}, 2, &y, 1), code, act);
    write_model(&m, dir, name, (int32_t[]){a, b}, 2, y);
    static int8_t xa[65536], xb[65536];
    for (int v = 0; v < 65536; v++) {
        xa[v] = (int8_t)(flat ? v / 256 - 128 : (v < 256 ? v - 128 : 0));
        xb[v] = (int8_t)(flat ? v % 256 - 128 : (v < 256 ? v - 128 : 0));
    }
    run_case2(ctx, dir, name, xa, xb, 1);
}

/*
 * x [1, 8, 8, 4] (every int8 value once) with a constant operand: a scalar (rank 0), per channel ([4], or
 * [1, 1, 1, 4] with `rank4`), first or second.
 */
static void binary_const(sscma_context *ctx, const char *dir, const char *name, int32_t code, int32_t act,
                         bool const_first, int32_t const_n, bool rank4, float sx, int32_t zx, float sc, int32_t zc,
                         float sy, int32_t zy)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t dx[4] = {1, 8, 8, 4}, dc4[4] = {1, 1, 1, 4}, dc1[1] = {4};
    const int8_t cv[4] = {-128, -3, 0, 127}, cs[1] = {-77};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_INT8, 4, dx, sx, zx, NULL, 0);
    int32_t c = const_n == 1 ? tfl_tensor(&m, "c", TFL_TYPE_INT8, 0, dc1, sc, zc, cs, 1)
                             : tfl_tensor(&m, "c", TFL_TYPE_INT8, rank4 ? 4 : 1, rank4 ? dc4 : dc1, sc, zc, cv, 4);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_INT8, 4, dx, sy, zy, NULL, 0);
    int32_t in[2] = {const_first ? c : x, const_first ? x : c};
    binary_options(tfl_operator(&m, code, in, 2, &y, 1), code, act);
    write_model(&m, dir, name, &x, 1, y);
    int8_t all[256];
    for (int v = 0; v < 256; v++)
        all[v] = (int8_t)(v - 128);
    run_case(ctx, dir, name, all, 1);
}

/* Float a [1, 16, 1] and b [1, 1, 16] over values with infinities, NaN and signed zeros: every pair. */
static void binary_float(sscma_context *ctx, const char *dir, const char *name, int32_t code, int32_t act)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t da[3] = {1, 16, 1}, db[3] = {1, 1, 16}, dy[3] = {1, 16, 16};
    int32_t a = tfl_tensor(&m, "a", TFL_TYPE_FLOAT32, 3, da, 0.0f, 0, NULL, 0);
    int32_t b = tfl_tensor(&m, "b", TFL_TYPE_FLOAT32, 3, db, 0.0f, 0, NULL, 0);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_FLOAT32, 3, dy, 0.0f, 0, NULL, 0);
    binary_options(tfl_operator(&m, code, (int32_t[]){a, b}, 2, &y, 1), code, act);
    write_model(&m, dir, name, (int32_t[]){a, b}, 2, y);
    const float v[16] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1.0f, -1.0f, 3e38f,
                         -3e38f, 5.5f, 6.0f, 7.25f, -0.1f, 1e-30f, 0.3f, 1e20f};
    run_case2(ctx, dir, name, v, v, 1);
}

/* x [1, 8, 8, 4] float times a constant [4]: a float operand constant. */
static void binary_float_const(sscma_context *ctx, const char *dir, const char *name, int32_t code)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t dx[4] = {1, 8, 8, 4}, dc[1] = {4};
    const float cv[4] = {0.5f, -3.25f, 0.0f, 1e-3f};
    int32_t x = tfl_tensor(&m, "x", TFL_TYPE_FLOAT32, 4, dx, 0.0f, 0, NULL, 0);
    int32_t c = tfl_tensor(&m, "c", TFL_TYPE_FLOAT32, 1, dc, 0.0f, 0, cv, sizeof cv);
    int32_t y = tfl_tensor(&m, "y", TFL_TYPE_FLOAT32, 4, dx, 0.0f, 0, NULL, 0);
    binary_options(tfl_operator(&m, code, (int32_t[]){x, c}, 2, &y, 1), code, 0);
    write_model(&m, dir, name, &x, 1, y);
    float all[256];
    for (int v = 0; v < 256; v++)
        all[v] = (float)(v - 128) * 0.37f;
    run_case(ctx, dir, name, all, 1);
}

/* MEAN of x (int8 or float, dims dx) over `axes` (as the file gives them), 4 samples of pseudo-random values. */
static void mean_case(sscma_context *ctx, const char *dir, const char *name, int8_t type, int32_t rank,
                      const int32_t *dx, const int32_t *axes, int32_t n_axes, bool keep, float sx, int32_t zx,
                      float sy, int32_t zy)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t dy[4], ry = 0, numel = 1;
    for (int32_t i = 0; i < rank; i++) {
        bool reduced = false;
        for (int32_t k = 0; k < n_axes; k++)
            reduced |= axes[k] == i || axes[k] + rank == i;
        if (!reduced || keep)
            dy[ry++] = reduced ? 1 : dx[i];
        numel *= dx[i];
    }
    int32_t x = tfl_tensor(&m, "x", type, rank, dx, sx, zx, NULL, 0);
    int32_t ax = tfl_tensor(&m, "axes", TFL_TYPE_INT32, 1, &n_axes, 0.0f, 0, axes, (size_t)n_axes * 4);
    int32_t y = tfl_tensor(&m, "y", type, ry, dy, sy, zy, NULL, 0);
    tfl_option_u8(tfl_operator(&m, TFL_OP_MEAN, (int32_t[]){x, ax}, 2, &y, 1), 0, keep, TFL_OPT_REDUCER);
    write_model(&m, dir, name, &x, 1, y);
    size_t esize = type == TFL_TYPE_FLOAT32 ? 4 : 1;
    unsigned char *all = malloc((size_t)numel * 4 * esize);
    uint32_t seed = 12345;
    for (int32_t i = 0; i < numel * 4; i++) {
        seed = seed * 1664525u + 1013904223u;
        if (type == TFL_TYPE_FLOAT32)
            ((float *)all)[i] = (float)(int32_t)(seed >> 8) * 1e-6f;
        else /* mostly large values, so that sums reach the extremes and the rounding sees every remainder */
            all[i] = (unsigned char)(seed >> 24);
    }
    run_case(ctx, dir, name, all, 4);
    free(all);
}

/* ---- data movement: transpose, slice, strided slice, split, split_v, tile, padv2 (int8 and float) ---- */

/* A constant int32 vector (rank 1; rank 0 with n == 1 and scalar set). */
static int32_t ints(tfl_build *m, const char *name, const int32_t *v, int32_t n, bool scalar)
{
    return tfl_tensor(m, name, TFL_TYPE_INT32, scalar ? 0 : 1, &n, 0.0f, 0, v, (size_t)n * 4);
}

/* An activation of the case's type: int8 (scale 0.05, zero point -3) or float. */
static int32_t act(tfl_build *m, const char *name, bool f32, int32_t rank, const int32_t *dims)
{
    return tfl_tensor(m, name, f32 ? TFL_TYPE_FLOAT32 : TFL_TYPE_INT8, rank, dims, f32 ? 0.0f : 0.05f, -3, NULL, 0);
}

/* Writes m (input x, output y) as DIR/NAME[_f32].tflite and runs it on 4 samples of pseudo-random values. */
static void run_built(sscma_context *ctx, const char *dir, const char *name, tfl_build *m, int32_t x, int32_t y)
{
    const bool f32 = m->t[x].type == TFL_TYPE_FLOAT32;
    char full[256], path[1024];
    snprintf(full, sizeof full, "%s%s", name, f32 ? "_f32" : "");
    snprintf(path, sizeof path, "%s/%s.tflite", dir, full);
    if (!tfl_build_write(m, &x, 1, &y, 1, path)) {
        fprintf(stderr, "%s: cannot write\n", full);
        failures++;
    }
    size_t n = 4;
    for (int32_t d = 0; d < m->t[x].rank; d++)
        n *= (size_t)m->t[x].dims[d];
    tfl_build_free(m);
    void *all = malloc(n * 4);
    uint32_t s = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        if (f32)
            ((float *)all)[i] = (float)((int32_t)(s % 4001u) - 2000) / 64.0f;
        else
            ((int8_t *)all)[i] = (int8_t)(s >> 24);
    }
    run_case(ctx, dir, full, all, 4);
    free(all);
}

static void transpose_case(sscma_context *ctx, const char *dir, const char *name, bool f32, int32_t rank,
                           const int32_t *xd, const int32_t *perm)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t yd[4];
    for (int32_t i = 0; i < rank; i++)
        yd[i] = xd[perm[i] < 0 ? perm[i] + rank : perm[i]];
    int32_t x = act(&m, "x", f32, rank, xd), y = act(&m, "y", f32, rank, yd);
    tfl_operator(&m, TFL_OP_TRANSPOSE, (int32_t[]){x, ints(&m, "perm", perm, rank, false)}, 2, &y, 1);
    run_built(ctx, dir, name, &m, x, y);
}

/* SPACE_TO_DEPTH (or DEPTH_TO_SPACE) with block b on x [1, h, w, c] (the wide side for space_to_depth) */
static void space_depth_case(sscma_context *ctx, const char *dir, const char *name, bool f32, bool to_depth, int32_t b,
                             const int32_t *xd)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t yd[4] = {1, to_depth ? xd[1] / b : xd[1] * b, to_depth ? xd[2] / b : xd[2] * b,
                           to_depth ? xd[3] * b * b : xd[3] / (b * b)};
    int32_t x = act(&m, "x", f32, 4, xd), y = act(&m, "y", f32, 4, yd);
    tfl_op *o = tfl_operator(&m, to_depth ? TFL_OP_SPACE_TO_DEPTH : TFL_OP_DEPTH_TO_SPACE, &x, 1, &y, 1);
    tfl_option_i32(o, 0, b, to_depth ? TFL_OPT_SPACE_TO_DEPTH : TFL_OPT_DEPTH_TO_SPACE);
    run_built(ctx, dir, name, &m, x, y);
}

static void slice_case(sscma_context *ctx, const char *dir, const char *name, bool f32, const int32_t *xd,
                       const int32_t *begin, const int32_t *size, const int32_t *yd)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t x = act(&m, "x", f32, 4, xd), y = act(&m, "y", f32, 4, yd);
    int32_t in[3] = {x, ints(&m, "begin", begin, 4, false), ints(&m, "size", size, 4, false)};
    tfl_operator(&m, TFL_OP_SLICE, in, 3, &y, 1);
    run_built(ctx, dir, name, &m, x, y);
}

/* STRIDED_SLICE with n-long begin, end, strides and the masks (begin, end, shrink). */
static void strided_case(sscma_context *ctx, const char *dir, const char *name, bool f32, const int32_t *xd,
                         int32_t n, const int32_t *begin, const int32_t *end, const int32_t *strides,
                         const int32_t *masks, int32_t y_rank, const int32_t *yd)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t x = act(&m, "x", f32, 4, xd), y = act(&m, "y", f32, y_rank, yd);
    int32_t in[4] = {x, ints(&m, "begin", begin, n, false), ints(&m, "end", end, n, false),
                     ints(&m, "strides", strides, n, false)};
    tfl_op *o = tfl_operator(&m, TFL_OP_STRIDED_SLICE, in, 4, &y, 1);
    tfl_option_i32(o, 0, masks[0], TFL_OPT_STRIDED_SLICE);
    tfl_option_i32(o, 1, masks[1], TFL_OPT_STRIDED_SLICE);
    tfl_option_i32(o, 4, masks[2], TFL_OPT_STRIDED_SLICE);
    run_built(ctx, dir, name, &m, x, y);
}

/* SPLIT (sizes NULL: n equal parts) or SPLIT_V along axis; the file's output is output `pick` alone. */
static void split_case(sscma_context *ctx, const char *dir, const char *name, bool f32, const int32_t *xd,
                       int32_t axis, int32_t n, const int32_t *sizes, int32_t pick)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t x = act(&m, "x", f32, 4, xd), outs[4], a = axis < 0 ? axis + 4 : axis, sum = 0;
    for (int32_t k = 0; k < n; k++)
        sum += sizes != NULL && sizes[k] >= 0 ? sizes[k] : 0;
    for (int32_t k = 0; k < n; k++) {
        int32_t yd[4] = {xd[0], xd[1], xd[2], xd[3]};
        yd[a] = sizes == NULL ? xd[a] / n : sizes[k] >= 0 ? sizes[k] : xd[a] - sum;
        char yn[8];
        snprintf(yn, sizeof yn, "y%d", (int)k);
        outs[k] = act(&m, yn, f32, 4, yd);
    }
    int32_t ax = ints(&m, "axis", &axis, 1, true);
    tfl_op *o;
    if (sizes == NULL) {
        o = tfl_operator(&m, TFL_OP_SPLIT, (int32_t[]){ax, x}, 2, outs, n);
        tfl_option_i32(o, 0, n, TFL_OPT_SPLIT);
    } else {
        o = tfl_operator(&m, TFL_OP_SPLIT_V, (int32_t[]){x, ints(&m, "size_splits", sizes, n, false), ax}, 3, outs,
                         n);
        tfl_option_i32(o, 0, n, TFL_OPT_SPLIT_V);
    }
    run_built(ctx, dir, name, &m, x, outs[pick]);
}

static void tile_case(sscma_context *ctx, const char *dir, const char *name, bool f32, int32_t rank,
                      const int32_t *xd, const int32_t *mult)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t yd[4];
    for (int32_t i = 0; i < rank; i++)
        yd[i] = xd[i] * mult[i];
    int32_t x = act(&m, "x", f32, rank, xd), y = act(&m, "y", f32, rank, yd);
    tfl_operator(&m, TFL_OP_TILE, (int32_t[]){x, ints(&m, "multiples", mult, rank, false)}, 2, &y, 1);
    run_built(ctx, dir, name, &m, x, y);
}

/* PADV2 of H and W with the value `raw` (int8, in the output's quantization) or `value` (float). */
static void padv2_case(sscma_context *ctx, const char *dir, const char *name, bool f32, const int32_t *pads,
                       int8_t raw, float value)
{
    tfl_build m;
    tfl_build_init(&m);
    const int32_t xd[4] = {1, 4, 5, 3}, yd[4] = {1, 4 + pads[2] + pads[3], 5 + pads[4] + pads[5], 3};
    int32_t x = act(&m, "x", f32, 4, xd), y = act(&m, "y", f32, 4, yd), one = 1;
    int32_t p = tfl_tensor(&m, "paddings", TFL_TYPE_INT32, 2, (int32_t[]){4, 2}, 0.0f, 0, pads, 32);
    int32_t v = f32 ? tfl_tensor(&m, "value", TFL_TYPE_FLOAT32, 1, &one, 0.0f, 0, &value, 4)
                    : tfl_tensor(&m, "value", TFL_TYPE_INT8, 1, &one, 0.05f, -3, &raw, 1);
    tfl_operator(&m, TFL_OP_PADV2, (int32_t[]){x, p, v}, 3, &y, 1);
    run_built(ctx, dir, name, &m, x, y);
}

static void shape_cases(sscma_context *ctx, const char *dir)
{
    for (int f = 0; f < 2; f++) {
        const bool f32 = f == 1;
        transpose_case(ctx, dir, "transpose_nhwc_nwch", f32, 4, (int32_t[]){1, 3, 4, 5}, (int32_t[]){0, 2, 3, 1});
        transpose_case(ctx, dir, "transpose_3d_negative_perm", f32, 3, (int32_t[]){1, 6, 5}, (int32_t[]){0, -1, -2});
        transpose_case(ctx, dir, "transpose_2d_identity", f32, 2, (int32_t[]){1, 7}, (int32_t[]){0, 1});
        space_depth_case(ctx, dir, "space_to_depth_2", f32, true, 2, (int32_t[]){1, 4, 6, 3});
        space_depth_case(ctx, dir, "space_to_depth_3", f32, true, 3, (int32_t[]){1, 6, 3, 2});
        space_depth_case(ctx, dir, "depth_to_space_2", f32, false, 2, (int32_t[]){1, 2, 3, 12});
        space_depth_case(ctx, dir, "depth_to_space_3", f32, false, 3, (int32_t[]){1, 1, 2, 18});
        slice_case(ctx, dir, "slice_size_minus_1", f32, (int32_t[]){1, 5, 6, 3}, (int32_t[]){0, 1, 2, 0},
                   (int32_t[]){1, -1, 3, 2}, (int32_t[]){1, 4, 3, 2});
        slice_case(ctx, dir, "slice_last_elements", f32, (int32_t[]){1, 5, 6, 3}, (int32_t[]){0, 4, 5, 2},
                   (int32_t[]){-1, 1, 1, 1}, (int32_t[]){1, 1, 1, 1});
        /* negative stride, begin wrapped from the back, a shrunk axis at -1 */
        strided_case(ctx, dir, "strided_slice_negative_shrink", f32, (int32_t[]){1, 7, 8, 3}, 4,
                     (int32_t[]){0, 6, 1, -1}, (int32_t[]){1, 0, -1, 0}, (int32_t[]){1, -2, 3, 1},
                     (int32_t[]){0, 0, 8}, 3, (int32_t[]){1, 3, 2});
        /* begin and end out of range (clamped), begin_mask, stride 2 */
        strided_case(ctx, dir, "strided_slice_clamp_masks", f32, (int32_t[]){1, 6, 5, 4}, 4,
                     (int32_t[]){0, -100, 3, 0}, (int32_t[]){1, 100, -2, 4}, (int32_t[]){1, 1, 1, 2},
                     (int32_t[]){4, 0, 0}, 4, (int32_t[]){1, 6, 3, 2});
        /* a negative stride to the start (end_mask), and the whole batch by begin_mask and end_mask */
        strided_case(ctx, dir, "strided_slice_reverse_end_mask", f32, (int32_t[]){1, 5, 4, 3}, 4,
                     (int32_t[]){7, 3, 0, 0}, (int32_t[]){9, 0, 4, 3}, (int32_t[]){1, -1, 1, 1},
                     (int32_t[]){1, 3, 0}, 4, (int32_t[]){1, 4, 4, 3});
        /* a spec shorter than the rank: the axes beyond are whole */
        strided_case(ctx, dir, "strided_slice_short_spec", f32, (int32_t[]){1, 5, 4, 3}, 2, (int32_t[]){0, 1},
                     (int32_t[]){1, 4}, (int32_t[]){1, 2}, (int32_t[]){0, 0, 0}, 4, (int32_t[]){1, 2, 4, 3});
        split_case(ctx, dir, "split_channels_0", f32, (int32_t[]){1, 4, 6, 6}, 3, 3, NULL, 0);
        split_case(ctx, dir, "split_width_negative_axis_1", f32, (int32_t[]){1, 4, 6, 3}, -2, 3, NULL, 1);
        split_case(ctx, dir, "split_v_minus_1_1", f32, (int32_t[]){1, 4, 7, 2}, 2, 3, (int32_t[]){2, -1, 1}, 1);
        split_case(ctx, dir, "split_v_minus_1_2", f32, (int32_t[]){1, 4, 7, 2}, 2, 3, (int32_t[]){2, -1, 1}, 2);
        split_case(ctx, dir, "split_v_height_0", f32, (int32_t[]){1, 5, 3, 2}, 1, 2, (int32_t[]){3, 2}, 0);
        tile_case(ctx, dir, "tile_hwc", f32, 4, (int32_t[]){1, 2, 3, 2}, (int32_t[]){1, 2, 3, 2});
        tile_case(ctx, dir, "tile_3d", f32, 3, (int32_t[]){1, 3, 4}, (int32_t[]){1, 3, 1});
        padv2_case(ctx, dir, "padv2_value", f32, (int32_t[]){0, 0, 1, 2, 2, 0, 0, 0}, 17, -1.5f);
        padv2_case(ctx, dir, "padv2_extreme_value", f32, (int32_t[]){0, 0, 0, 3, 1, 1, 0, 0}, -128, 1e30f);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    sscma_context *ctx = NULL;
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 1;
    /* the output scale below, equal to and above the input's; zero points at both ends and inside */
    unary(ctx, dir, "relu_a", TFL_OP_RELU, 0.05f, -10, 0.03f, -128, 0);
    unary(ctx, dir, "relu_b", TFL_OP_RELU, 0.02f, 5, 0.02f, -20, 0);
    unary(ctx, dir, "relu_c", TFL_OP_RELU, 0.01f, 100, 0.0131f, 7, 0);
    unary(ctx, dir, "relu6_a", TFL_OP_RELU6, 0.07f, 0, 6.0f / 255.0f, -128, 0);
    unary(ctx, dir, "relu6_b", TFL_OP_RELU6, 0.1f, -50, 0.02f, -100, 0);
    unary(ctx, dir, "relu_n1_to_1_a", TFL_OP_RELU_N1_TO_1, 0.01f, 3, 2.0f / 255.0f, 0, 0);
    unary(ctx, dir, "relu_n1_to_1_b", TFL_OP_RELU_N1_TO_1, 0.03f, -60, 0.005f, 10, 0);
    unary(ctx, dir, "leaky_relu_a", TFL_OP_LEAKY_RELU, 0.05f, 10, 0.04f, -30, 0.1f);
    unary(ctx, dir, "leaky_relu_b", TFL_OP_LEAKY_RELU, 0.02f, -7, 0.02f, -7, 0.2f);
    unary(ctx, dir, "leaky_relu_c", TFL_OP_LEAKY_RELU, 0.1f, 40, 0.07f, 20, 0.01f);
    unary(ctx, dir, "leaky_relu_d", TFL_OP_LEAKY_RELU, 0.03f, 0, 0.05f, 0, 1.5f);
    unary(ctx, dir, "leaky_relu_negative", TFL_OP_LEAKY_RELU, 0.04f, 5, 0.03f, 0, -0.3f);
    unary(ctx, dir, "relu6_tie", TFL_OP_RELU6, 0.05f, 0, 6.0f / 255.0f, -128, 0); /* ties: the float ratio */
    unary(ctx, dir, "tanh_a", TFL_OP_TANH, 0.03f, -5, 1.0f / 128.0f, 0, 0);
    unary(ctx, dir, "tanh_b", TFL_OP_TANH, 0.1f, 20, 0.01f, -3, 0);
    unary(ctx, dir, "exp_a", TFL_OP_EXP, 0.02f, 0, 0.03f, -128, 0);
    unary(ctx, dir, "exp_b", TFL_OP_EXP, 0.05f, 60, 0.2f, -100, 0);
    convert(ctx, dir, "quantize_u8_i8", TFL_OP_QUANTIZE, TFL_TYPE_UINT8, 0.05f, 128, TFL_TYPE_INT8, 0.04f, 3);
    convert(ctx, dir, "quantize_u8_i8_same", TFL_OP_QUANTIZE, TFL_TYPE_UINT8, 0.02f, 128, TFL_TYPE_INT8, 0.02f, 0);
    convert(ctx, dir, "quantize_i8_u8", TFL_OP_QUANTIZE, TFL_TYPE_INT8, 0.03f, -5, TFL_TYPE_UINT8, 0.07f, 100);
    convert(ctx, dir, "quantize_i8_u8_same", TFL_OP_QUANTIZE, TFL_TYPE_INT8, 0.03f, -5, TFL_TYPE_UINT8, 0.03f, 123);
    convert(ctx, dir, "quantize_i8_i8", TFL_OP_QUANTIZE, TFL_TYPE_INT8, 0.011f, 17, TFL_TYPE_INT8, 0.029f, -40);
    convert(ctx, dir, "quantize_f32_i8", TFL_OP_QUANTIZE, TFL_TYPE_FLOAT32, 0.0f, 0, TFL_TYPE_INT8, 0.037f, -9);
    convert(ctx, dir, "quantize_f32_u8", TFL_OP_QUANTIZE, TFL_TYPE_FLOAT32, 0.0f, 0, TFL_TYPE_UINT8, 0.05f, 128);
    convert(ctx, dir, "quantize_f32_i8_neg_zp", TFL_OP_QUANTIZE, TFL_TYPE_FLOAT32, 0.0f, 0, TFL_TYPE_INT8, 0.01f,
            -128);
    convert(ctx, dir, "dequantize_i8", TFL_OP_DEQUANTIZE, TFL_TYPE_INT8, 0.0123f, -7, TFL_TYPE_FLOAT32, 0.0f, 0);
    convert(ctx, dir, "dequantize_u8", TFL_OP_DEQUANTIZE, TFL_TYPE_UINT8, 0.1f, 131, TFL_TYPE_FLOAT32, 0.0f, 0);
    /* binary ops: every pair of int8 values, broadcast and flat; scales equal, apart, output coarse and fine */
    binary_pairs(ctx, dir, "add_pairs_a", TFL_OP_ADD, 0, false, 0.05f, -3, 0.05f, 7, 0.1f, 2);
    binary_pairs(ctx, dir, "add_pairs_relu", TFL_OP_ADD, 1, false, 0.02f, 100, 0.07f, -128, 0.06f, -20);
    binary_pairs(ctx, dir, "add_pairs_relu6", TFL_OP_ADD, 3, false, 0.03f, 0, 0.011f, 5, 6.0f / 255.0f, -128);
    binary_pairs(ctx, dir, "add_pairs_flat", TFL_OP_ADD, 0, true, 0.05f, -3, 0.021f, 7, 0.08f, 2);
    binary_pairs(ctx, dir, "add_pairs_flat_relu", TFL_OP_ADD, 1, true, 0.013f, 50, 0.013f, -50, 0.01f, -128);
    binary_pairs(ctx, dir, "sub_pairs_a", TFL_OP_SUB, 0, false, 0.05f, -3, 0.05f, 7, 0.1f, 2);
    binary_pairs(ctx, dir, "sub_pairs_relu6", TFL_OP_SUB, 3, false, 0.04f, -128, 0.009f, 127, 0.03f, -100);
    binary_pairs(ctx, dir, "sub_pairs_flat", TFL_OP_SUB, 0, true, 0.02f, 1, 0.03f, -1, 0.05f, 0);
    binary_pairs(ctx, dir, "mul_pairs_a", TFL_OP_MUL, 0, false, 0.05f, -3, 0.04f, 7, 0.1f, 2);
    binary_pairs(ctx, dir, "mul_pairs_big_ratio", TFL_OP_MUL, 0, false, 0.5f, 0, 0.5f, 0, 0.01f, 0);
    /* s_a s_b / s_y rounded in float gives another multiplier than in double: TFLite's is the float one */
    binary_pairs(ctx, dir, "mul_pairs_float_ratio", TFL_OP_MUL, 0, false, 0.0205994621f, 0,
                 0.0476423129f, 0, 0.0621214472f, 0);
    binary_pairs(ctx, dir, "mul_pairs_relu", TFL_OP_MUL, 1, false, 0.013f, 20, 0.017f, -9, 0.002f, -128);
    binary_pairs(ctx, dir, "mul_pairs_flat", TFL_OP_MUL, 3, true, 0.1f, -128, 0.1f, 127, 0.05f, -128);
    binary_pairs(ctx, dir, "maximum_pairs", TFL_OP_MAXIMUM, 0, false, 0.05f, -3, 0.04f, 7, 0.1f, 2);
    binary_pairs(ctx, dir, "minimum_pairs", TFL_OP_MINIMUM, 0, false, 0.05f, -3, 0.04f, 7, 0.1f, 2);
    /* constant operands: scalar and per channel, first and second */
    binary_const(ctx, dir, "mul_const_scalar", TFL_OP_MUL, 0, false, 1, false, 0.05f, -3, 0.01f, 0, 0.03f, 5);
    binary_const(ctx, dir, "add_const_scalar_first", TFL_OP_ADD, 1, true, 1, false, 0.05f, -3, 0.02f, 10, 0.06f,
                 -128);
    binary_const(ctx, dir, "sub_const_scalar_first", TFL_OP_SUB, 0, true, 1, false, 0.05f, -3, 0.02f, 10, 0.06f, 0);
    binary_const(ctx, dir, "sub_const_channel", TFL_OP_SUB, 3, false, 4, false, 0.03f, 9, 0.05f, -1, 0.04f, -128);
    binary_const(ctx, dir, "add_const_channel_rank4", TFL_OP_ADD, 0, false, 4, true, 0.03f, 9, 0.05f, -1, 0.07f, 3);
    binary_const(ctx, dir, "mul_const_channel_first", TFL_OP_MUL, 1, true, 4, false, 0.03f, 9, 0.004f, 0, 0.01f,
                 -128);
    binary_const(ctx, dir, "maximum_const_channel", TFL_OP_MAXIMUM, 0, false, 4, false, 0.03f, 9, 0.05f, -1, 0.03f,
                 9);
    binary_const(ctx, dir, "minimum_const_scalar", TFL_OP_MINIMUM, 0, true, 1, false, 0.03f, 9, 0.05f, -1, 0.03f, 9);
    /* float: infinities (the activation range clamps them to FLT_MAX), NaN, signed zeros */
    binary_float(ctx, dir, "add_float", TFL_OP_ADD, 0);
    binary_float(ctx, dir, "add_float_relu6", TFL_OP_ADD, 3);
    binary_float(ctx, dir, "sub_float_relu", TFL_OP_SUB, 1);
    binary_float(ctx, dir, "mul_float", TFL_OP_MUL, 0);
    binary_float(ctx, dir, "maximum_float", TFL_OP_MAXIMUM, 0);
    binary_float(ctx, dir, "minimum_float", TFL_OP_MINIMUM, 0);
    binary_float_const(ctx, dir, "mul_float_const", TFL_OP_MUL);
    binary_float_const(ctx, dir, "sub_float_const", TFL_OP_SUB);
    /* MEAN: H and W (kept or not), one axis, negative and repeated axes, odd counts, float */
    const int32_t d_hw[4] = {1, 7, 5, 6}, d_big[4] = {1, 16, 16, 3}, d3[3] = {1, 9, 10};
    mean_case(ctx, dir, "mean_hw_keep", TFL_TYPE_INT8, 4, d_hw, (int32_t[]){1, 2}, 2, true, 0.05f, -3, 0.03f, 4);
    mean_case(ctx, dir, "mean_hw_nokeep", TFL_TYPE_INT8, 4, d_hw, (int32_t[]){2, 1}, 2, false, 0.05f, -3, 0.05f, -3);
    mean_case(ctx, dir, "mean_big", TFL_TYPE_INT8, 4, d_big, (int32_t[]){1, 2}, 2, true, 0.1f, 127, 0.004f, -128);
    mean_case(ctx, dir, "mean_w", TFL_TYPE_INT8, 4, d_hw, (int32_t[]){2}, 1, true, 0.02f, 10, 0.01f, 0);
    mean_case(ctx, dir, "mean_c_negative", TFL_TYPE_INT8, 4, d_hw, (int32_t[]){-1}, 1, false, 0.02f, 10, 0.013f, 7);
    mean_case(ctx, dir, "mean_hc_repeated", TFL_TYPE_INT8, 4, d_hw, (int32_t[]){1, 3, -3}, 3, true, 0.02f, -128,
              0.02f, 0);
    mean_case(ctx, dir, "mean_rank3", TFL_TYPE_INT8, 3, d3, (int32_t[]){1, 2}, 2, false, 0.07f, 0, 0.002f, 0);
    mean_case(ctx, dir, "mean_float_hw", TFL_TYPE_FLOAT32, 4, d_big, (int32_t[]){1, 2}, 2, true, 0.0f, 0, 0.0f, 0);
    mean_case(ctx, dir, "mean_float_c", TFL_TYPE_FLOAT32, 4, d_hw, (int32_t[]){3}, 1, false, 0.0f, 0, 0.0f, 0);
    shape_cases(ctx, dir);
    /* FULLY_CONNECTED: requantization ties (s_x s_w / s_y = 1/2, 1/8, 3/8 exactly) and a ratio off the multiplier's
     * grid; per tensor and per channel; rank 3 and 4 inputs flattened or kept (keep_num_dims) */
    const float half[1] = {0.25f}, eighth[1] = {0.0625f}, odd[1] = {0.3f};
    const float per_channel[6] = {0.25f, 0.0625f, 0.1875f, 0.3f, 0.5f, 0.015625f};
    fully_connected(ctx, dir, "fc_tie_half", 2, (int32_t[]){1, 3}, 8, 0.5f, 3, half, 1, 0.25f, -2, false, 0);
    fully_connected(ctx, dir, "fc_tie_eighth", 2, (int32_t[]){1, 3}, 8, 0.5f, -7, eighth, 1, 0.25f, 5, false, 0);
    fully_connected(ctx, dir, "fc_off_grid", 2, (int32_t[]){1, 5}, 8, 0.1f, 0, odd, 1, 0.7f, 1, false, 0);
    fully_connected(ctx, dir, "fc_tie_per_channel", 2, (int32_t[]){1, 3}, 6, 0.5f, 1, per_channel, 6, 0.125f, 0,
                    false, 0);
    fully_connected(ctx, dir, "fc_keep_dims_rank3", 3, (int32_t[]){1, 5, 3}, 6, 0.5f, 3, half, 1, 0.25f, -2, true, 0);
    fully_connected(ctx, dir, "fc_keep_dims_rank4", 4, (int32_t[]){1, 2, 3, 4}, 5, 0.1f, -1, odd, 1, 0.7f, 2, true,
                    3);
    fully_connected(ctx, dir, "fc_flatten_rank4", 4, (int32_t[]){1, 2, 2, 3}, 7, 0.5f, 3, eighth, 1, 0.25f, 5,
                    false, 0);
    /* ratios of 100 and 10^7: accumulators past the kernel's bound (the output saturates), and from |acc| = 1 ... */
    const float one[1] = {1.0f};
    fully_connected(ctx, dir, "fc_saturating", 2, (int32_t[]){1, 5}, 8, 1.0f, 0, one, 1, 0.01f, 0, false, 0);
    /* ... and products beyond int32: TFLite's cast gives INT32_MIN there (x86), plus the zero point with wraparound */
    fully_connected(ctx, dir, "fc_saturating_all", 2, (int32_t[]){1, 2}, 8, 1.0f, 0, one, 1, 1e-7f, 3, false, 0);
    fully_connected(ctx, dir, "fc_saturating_all_neg_zp", 2, (int32_t[]){1, 2}, 8, 1.0f, 0, one, 1, 1e-7f, -5, false,
                    0);
    fully_connected(ctx, dir, "fc_saturating_all_relu6", 2, (int32_t[]){1, 2}, 8, 1.0f, 0, one, 1, 1e-4f, -100,
                    false, 3);
    fully_connected(ctx, dir, "fc_tie_relu", 2, (int32_t[]){1, 3}, 8, 0.5f, 3, half, 1, 0.25f, -2, false, 1);
    /* resizes: both flags, each, none; up, down, non-integer factors, 1-pixel sides; int8 and float */
    static const struct {
        int32_t h, w, oh, ow;
    } sizes[] = {{4, 5, 9, 7}, {7, 6, 3, 4}, {1, 3, 4, 1}, {5, 5, 16, 12}, {6, 6, 12, 12}};
    for (int32_t code = 0; code < 2; code++)
        for (int32_t f32 = 0; f32 < 2; f32++)
            for (int32_t flags = 0; flags < 4; flags++)
                for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                    if (code == 1 && flags == 3) /* bilinear refuses both (test_tflite_ops) */
                        continue;
                    char name[96];
                    snprintf(name, sizeof name, "resize_%s_%s_%s%s_%dx%d_to_%dx%d", code ? "bilinear" : "nearest",
                             f32 ? "f32" : "i8", flags & 1 ? "ac" : "", flags & 2 ? "hp" : "", sizes[k].h, sizes[k].w,
                             sizes[k].oh, sizes[k].ow);
                    resize(ctx, dir, name, code ? TFL_OP_RESIZE_BILINEAR : TFL_OP_RESIZE_NEAREST_NEIGHBOR, f32,
                           sizes[k].h, sizes[k].w, sizes[k].oh, sizes[k].ow, flags & 1, flags & 2);
                }
    sscma_context_destroy(ctx);
    return failures == 0 ? 0 : 1;
}
