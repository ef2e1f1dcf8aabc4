/*
 * The micro runtime's API on the host (the sscma-micro static library built natively, no QEMU needed): a model read
 * from its bytes gives libsscma's host outputs on every input (all its outputs, back to back in output order per
 * input, as export_fixture writes them), the arena size it reports is enough and one byte less is not, and bad calls
 * fail with their status and message; invoke leaves the input in place, and the anomaly VAE's sscma_micro_predict
 * score equals MSE(x_recon, x) + MSE(c_recon, c) computed here from the bytes.
 * Usage: micro_host MODEL_int8.tflite INPUTS.bin HOST_OUTPUTS.bin MODEL_f32.tflite [PREDICTIONS.txt]
 * PREDICTIONS.txt receives the prediction lines exactly as examples/mcu/main.c prints them, for run-qemu.sh and
 * run-host.sh (predict_host: host sscma_predict's) to compare.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/micro.h>

#include "../../lib/micro/read_decimal.h"

static int failures = 0;

/* The "threshold" reader gives the host's (float)strtod for "%.9g" texts of extreme floats (exponents beyond 22:
 * scaled in steps of 1e22) and refuses what is no number. */
static int check_read_decimal(void)
{
    static const char *const texts[] = {"1e-30", "3.4e38", "1.17549435e-38", "1.23456789e-15", "1.40129846e-45",
                                        "3.40282347e+38", "-2.5e-7", "9.99999944e-39", "0.000123456789e-20",
                                        "123456789e25", "1e-400", "0"};
    int bad = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        double v = -1.0;
        const float want = (float)strtod(texts[i], NULL);
        if (!sscma_micro_read_decimal(texts[i], &v) || (float)v != want) {
            printf("FAIL: threshold '%s' read as %.9g, the host reads %.9g\n", texts[i], (double)(float)v,
                   (double)want);
            bad++;
        }
    }
    double v = 0.0;
    static const char *const refused[] = {"", "e5", "1e", "1.2.3", "0x10", "1e5x", "1234567890123456"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (sscma_micro_read_decimal(refused[i], &v)) {
            printf("FAIL: threshold '%s' read, not refused\n", refused[i]);
            bad++;
        }
    return bad;
}

#define CHECK(cond)                                                                                            \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            printf("FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond, sscma_last_error());        \
            failures++;                                                                                        \
        }                                                                                                      \
    } while (0)

/* The status is `want` and the message contains `text`. */
#define CHECK_FAILS(call, want, text)                                                                          \
    do {                                                                                                       \
        sscma_status st_ = (call);                                                                             \
        CHECK(st_ == (want));                                                                                  \
        CHECK(strstr(sscma_last_error(), (text)) != NULL);                                                     \
    } while (0)

/* "-1.234" with three decimals, as examples/mcu/main.c prints it. */
static void put_milli(FILE *f, float v)
{
    long m = (long)(v * 1000.0f + (v < 0 ? -0.5f : 0.5f));
    fprintf(f, "%s%ld.%03ld", m < 0 ? "-" : "", (m < 0 ? -m : m) / 1000, (m < 0 ? -m : m) % 1000);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        printf("FAIL: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        printf("FAIL: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: micro_host MODEL_int8.tflite INPUTS.bin HOST_OUTPUTS.bin MODEL_f32.tflite\n");
        return 2;
    }
    failures += check_read_decimal();
    size_t model_bytes, in_bytes, out_bytes, f32_bytes;
    unsigned char *model = read_all(argv[1], &model_bytes), *inputs = read_all(argv[2], &in_bytes);
    unsigned char *expected = read_all(argv[3], &out_bytes), *f32 = read_all(argv[4], &f32_bytes);
    const size_t arena_bytes = 4u << 20;
    unsigned char *arena = aligned_alloc(64, arena_bytes);

    sscma_micro *m = NULL;
    CHECK(sscma_micro_init(arena, arena_bytes, model, model_bytes, &m) == SSCMA_OK);
    if (m == NULL)
        return 1;
    size_t used = 0, activations = 0;
    CHECK(sscma_micro_memory(m, &used, &activations) == SSCMA_OK);
    CHECK(activations > 0 && used > activations);
    sscma_micro_tensor in, out, outs[8];
    CHECK(sscma_micro_input(m, 0, &in) == SSCMA_OK);
    CHECK(sscma_micro_output(m, 0, &out) == SSCMA_OK);
    /* every output (RTMDet: six), their bytes in all per input */
    int32_t n_out = 0;
    size_t all_bytes = 0;
    while (n_out < 8 && sscma_micro_output(m, n_out, &outs[n_out]) == SSCMA_OK)
        all_bytes += outs[n_out++].bytes;
    CHECK(n_out >= 1 && n_out < 8);
    CHECK(in.dtype == 2 && in.scale > 0); /* SSCMA_DTYPE_I8 */
    for (int32_t k = 0; k < n_out; k++)
        CHECK(outs[k].dtype == 2 && outs[k].scale > 0);
    FILE *pf = argc == 6 ? fopen(argv[5], "w") : NULL;
    /* the anomaly VAE: its score is computed here too, from the input and the two reconstructions */
    const int anomaly = n_out == 2 && strcmp(outs[0].name, "x_recon") == 0 && strcmp(outs[1].name, "c_recon") == 0;
    size_t n = in_bytes / in.bytes, differ = 0, moved = 0, scores_differ = 0;
    CHECK(n >= 20 && n * in.bytes == in_bytes && n * all_bytes == out_bytes);
    for (size_t i = 0; i < n; i++) {
        memcpy(in.data, inputs + i * in.bytes, in.bytes);
        CHECK(sscma_micro_invoke(m) == SSCMA_OK);
        const unsigned char *want = expected + i * all_bytes;
        int same = 1;
        for (int32_t k = 0; k < n_out; k++) {
            same &= memcmp(outs[k].data, want, outs[k].bytes) == 0;
            want += outs[k].bytes;
        }
        differ += !same;
        /* invoke leaves the input as written (the planner keeps it alive: the anomaly score reads it) */
        moved += memcmp(in.data, inputs + i * in.bytes, in.bytes) != 0;
        sscma_prediction p[8];
        int32_t count = -1;
        CHECK(sscma_micro_predict(m, NULL, -1.0f, 0.45f, in.dims[2], in.dims[1], p, 8, &count) == SSCMA_OK);
        CHECK(count >= 0);
        if (anomaly) { /* MSE(x_recon, x) + MSE(c_recon, c), x and c the input's two halves per pixel */
            const int8_t *x = in.data, *xr = outs[0].data, *cr = outs[1].data;
            const size_t half = outs[0].bytes, ch = (size_t)outs[0].dims[3];
            double sx = 0.0, sc = 0.0;
            for (size_t j = 0; j < half; j++) {
                const size_t pixel = j / ch, k = j % ch;
                const float vx = in.scale * (float)(x[pixel * 2 * ch + k] - in.zero_point);
                const float vc = in.scale * (float)(x[pixel * 2 * ch + ch + k] - in.zero_point);
                const double dx = (double)(outs[0].scale * (float)(xr[j] - outs[0].zero_point)) - vx;
                const double dc = (double)(outs[1].scale * (float)(cr[j] - outs[1].zero_point)) - vc;
                sx += dx * dx, sc += dc * dc;
            }
            const float expect = (float)(sx / (double)half + sc / (double)half);
            scores_differ += count != 1 || p[0].score != expect;
        }
        if (pf != NULL) {
            fprintf(pf, "image %zu: %d prediction(s)", i, (int)count);
            for (int32_t k = 0; k < count && k < 8; k++) {
                fprintf(pf, "%s class %d score ", k ? ";" : ":", (int)p[k].class_id);
                put_milli(pf, p[k].score);
                fprintf(pf, " at ");
                put_milli(pf, p[k].x);
                fprintf(pf, ", ");
                put_milli(pf, p[k].y);
                if (p[k].w != 0.0f || p[k].h != 0.0f) { /* boxes: their size */
                    fprintf(pf, " size ");
                    put_milli(pf, p[k].w);
                    fprintf(pf, " x ");
                    put_milli(pf, p[k].h);
                }
            }
            fprintf(pf, "\n");
        }
    }
    if (pf != NULL)
        fclose(pf);
    CHECK(differ == 0);
    CHECK(moved == 0);
    CHECK(scores_differ == 0);
    printf("# %s: %zu inputs, %d output(s), %zu differ from the host runtime; arena %zu bytes (activations %zu)%s\n",
           argv[1], n, (int)n_out, differ, used, activations, anomaly ? "; anomaly scores as computed here" : "");

    /* the size rule: `used` bytes are enough, one byte less is not */
    sscma_micro *again = NULL;
    CHECK(sscma_micro_init(arena, used, model, model_bytes, &again) == SSCMA_OK);
    CHECK_FAILS(sscma_micro_init(arena, used - 1, model, model_bytes, &again), SSCMA_ERR_OUT_OF_MEMORY, "");

    /* bad calls */
    CHECK_FAILS(sscma_micro_init(arena + 1, arena_bytes - 64, model, model_bytes, &again), SSCMA_ERR_INVALID_ARGUMENT,
                "64-byte aligned");
    CHECK_FAILS(sscma_micro_init(NULL, arena_bytes, model, model_bytes, &again), SSCMA_ERR_INVALID_ARGUMENT, "arena");
    CHECK_FAILS(sscma_micro_init(arena, arena_bytes, model, model_bytes / 2, &again), SSCMA_ERR_FORMAT, "truncated");
    CHECK_FAILS(sscma_micro_init(arena, arena_bytes, model, 12, &again), SSCMA_ERR_FORMAT, "model");
    CHECK_FAILS(sscma_micro_init(arena, arena_bytes, f32, f32_bytes, &again), SSCMA_ERR_UNSUPPORTED, "int8");
    CHECK(sscma_micro_init(arena, arena_bytes, model, model_bytes, &m) == SSCMA_OK);
    CHECK_FAILS(sscma_micro_input(m, 1, &in), SSCMA_ERR_INVALID_ARGUMENT, "input 1 does not exist");
    CHECK_FAILS(sscma_micro_output(m, -1, &out), SSCMA_ERR_INVALID_ARGUMENT, "output -1 does not exist");
    CHECK_FAILS(sscma_micro_output(m, n_out, &out), SSCMA_ERR_INVALID_ARGUMENT, "does not exist");
    CHECK_FAILS(sscma_micro_invoke(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'m' is NULL");
    int32_t count = 0;
    CHECK_FAILS(sscma_micro_predict(m, NULL, -1.0f, 2.0f, 24, 24, NULL, 0, &count), SSCMA_ERR_INVALID_ARGUMENT,
                "iou_threshold");
    CHECK_FAILS(sscma_micro_predict(m, "boxes", -1.0f, 0.45f, 24, 24, NULL, 0, &count), SSCMA_ERR_INVALID_ARGUMENT,
                "unknown task 'boxes'");
    if (!anomaly) /* the anomaly score needs one input and the two reconstructions */
        CHECK_FAILS(sscma_micro_predict(m, "anomaly", -1.0f, 0.45f, 24, 24, NULL, 0, &count), SSCMA_ERR_UNSUPPORTED,
                    "anomaly model");
    else { /* an explicit threshold decides as sscma_predict's option does: above it 1, else 0 */
        sscma_prediction p;
        memcpy(in.data, inputs, in.bytes);
        CHECK(sscma_micro_invoke(m) == SSCMA_OK);
        CHECK(sscma_micro_predict(m, "anomaly", 0.0f, 0.45f, 24, 24, &p, 1, &count) == SSCMA_OK && count == 1 &&
              p.class_id == 1 && p.score > 0.0f);
        /* the score is a double, p.score its float: the floats on either side of it decide */
        const float score = p.score;
        CHECK(sscma_micro_predict(m, NULL, nextafterf(score, INFINITY), 0.45f, 24, 24, &p, 1, &count) == SSCMA_OK &&
              p.class_id == 0);
        CHECK(sscma_micro_predict(m, NULL, nextafterf(score, 0.0f), 0.45f, 24, 24, &p, 1, &count) == SSCMA_OK &&
              p.class_id == 1);
    }
    printf(failures == 0 ? "ok\n" : "%d failure(s)\n", failures);
    free(arena);
    free(model), free(inputs), free(expected), free(f32);
    return failures == 0 ? 0 : 1;
}
