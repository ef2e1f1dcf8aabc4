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

/* Loads DIR/NAME.tflite in libsscma, runs it on `inputs` (n samples, raw) and saves inputs and outputs. */
static void run_case(sscma_context *ctx, const char *dir, const char *name, const void *inputs, int n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    sscma_qmodel *q = NULL;
    sscma_tensor *in, *out;
    if (sscma_qmodel_load_tflite(ctx, path, &q) != SSCMA_OK || sscma_qmodel_prepare(q, 1) != SSCMA_OK ||
        sscma_qmodel_input(q, 0, &in) != SSCMA_OK || sscma_qmodel_output(q, 0, &out, NULL) != SSCMA_OK) {
        fprintf(stderr, "%s: %s\n", name, sscma_last_error());
        failures++;
        sscma_qmodel_destroy(q);
        return;
    }
    int8_t *xd, *yd;
    size_t in_b, out_b;
    sscma_tensor_data(in, (void **)&xd);
    sscma_tensor_data(out, (void **)&yd);
    sscma_tensor_size_bytes(in, &in_b);
    sscma_tensor_size_bytes(out, &out_b);
    int8_t *all = malloc(out_b * (size_t)n);
    for (int i = 0; i < n; i++) {
        memcpy(xd, (const char *)inputs + (size_t)i * in_b, in_b);
        if (sscma_qmodel_run(q) != SSCMA_OK) {
            fprintf(stderr, "%s: %s\n", name, sscma_last_error());
            failures++;
            break;
        }
        memcpy(all + (size_t)i * out_b, yd, out_b);
    }
    save(dir, name, "in", inputs, in_b * (size_t)n);
    save(dir, name, "out", all, out_b * (size_t)n);
    free(all);
    sscma_qmodel_destroy(q);
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

static void write_model(tfl_build *m, int32_t x, int32_t y, const char *dir, const char *name)
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
    write_model(&m, x, y, dir, name);
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
    write_model(&m, x, y, dir, name);
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
