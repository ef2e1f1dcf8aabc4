/*
 * Host sscma_predict on the inputs of a micro test, for run-host.sh to compare with sscma_micro_predict's lines: each
 * int8 input is turned back into a u8 image at the model's input size (dequantized, the model's "mean" / "std"
 * metadata undone, rounded), sscma_predict pre-processes it (resize to the same size, normalize, quantize) and
 * decodes (the anomaly VAE: the dequantized input's f32 values, the sample sscma_predict's "anomaly" task takes);
 * the int8 input it actually ran and the model's outputs are written, so that micro_host runs the micro library on
 * exactly that input and must give those outputs byte for byte and the same prediction lines.
 * Usage: predict_host MODEL_int8.tflite INPUTS.bin RAN_INPUTS.bin RAN_OUTPUTS.bin PREDICTIONS.txt
 * RAN_OUTPUTS.bin: per input, every output back to back in output order (as export_fixture writes them).
 * PREDICTIONS.txt: the lines as micro_host and examples/mcu/main.c print them (capacity 8, default score threshold,
 * IoU 0.45).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

#define TRY(call)                                                                                              \
    do {                                                                                                       \
        sscma_status st_ = (call);                                                                             \
        if (st_ != SSCMA_OK) {                                                                                 \
            printf("FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #call, sscma_last_error());                     \
            exit(1);                                                                                           \
        }                                                                                                      \
    } while (0)

/* "-1.234" with three decimals, as examples/mcu/main.c prints it. */
static void put_milli(FILE *f, float v)
{
    long m = (long)(v * 1000.0f + (v < 0 ? -0.5f : 0.5f));
    fprintf(f, "%s%ld.%03ld", m < 0 ? "-" : "", (m < 0 ? -m : m) / 1000, (m < 0 ? -m : m) % 1000);
}

/* The model's "mean" or "std" metadata (a JSON list of numbers) into v[0..3], one value repeated; `fallback` when
 * the file has none (sscma_predict's defaults). */
static void meta_list(const sscma_qmodel *q, const char *key, float fallback, float v[4])
{
    const char *text = NULL;
    int n = 0;
    if (sscma_qmodel_meta(q, key, &text) == SSCMA_OK && text != NULL) {
        const char *p = strchr(text, '[');
        while (p != NULL && n < 4) {
            char *end = NULL;
            const double x = strtod(p + 1, &end);
            if (end == p + 1)
                break;
            v[n++] = (float)x;
            p = strchr(end, ',');
        }
    }
    if (n == 0)
        v[n++] = fallback;
    for (int i = n; i < 4; i++)
        v[i] = v[n - 1];
}

static FILE *open_or_die(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (f == NULL) {
        printf("FAIL: cannot open %s\n", path);
        exit(1);
    }
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: predict_host MODEL_int8.tflite INPUTS.bin RAN_INPUTS.bin RAN_OUTPUTS.bin "
                        "PREDICTIONS.txt\n");
        return 2;
    }
    sscma_context *ctx = NULL;
    sscma_qmodel *q = NULL;
    TRY(sscma_context_create(NULL, &ctx));
    TRY(sscma_qmodel_load_tflite(ctx, argv[1], &q));
    TRY(sscma_qmodel_prepare(q, 1));
    sscma_tensor *in = NULL, *outs[8];
    int32_t n_in = 0, n_out = 0;
    TRY(sscma_qmodel_io_count(q, &n_in, &n_out));
    if (n_out < 1 || n_out > 8) {
        printf("FAIL: %d outputs\n", (int)n_out);
        return 1;
    }
    TRY(sscma_qmodel_input(q, 0, &in));
    int64_t h = 0, w = 0, c = 0, in_numel = 0;
    TRY(sscma_tensor_dim(in, 1, &h));
    TRY(sscma_tensor_dim(in, 2, &w));
    TRY(sscma_tensor_dim(in, 3, &c));
    TRY(sscma_tensor_numel(in, &in_numel));
    int32_t axis = 0;
    int64_t nq = 0;
    const float *scale = NULL;
    const int32_t *zero = NULL;
    TRY(sscma_tensor_quant(in, &axis, &nq, &scale, &zero));
    const char *family = NULL;
    const int device = sscma_qmodel_meta(q, "family", &family) != SSCMA_OK;
    float mean[4], std[4];
    meta_list(q, "mean", 0.0f, mean);
    meta_list(q, "std", device ? 255.0f : 1.0f, std);

    const int64_t dims[3] = {h, w, c};
    sscma_tensor *image = NULL;
    uint8_t *px = NULL;
    TRY(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 3, dims, &image));
    TRY(sscma_tensor_data(image, (void **)&px));
    int8_t *sample = malloc((size_t)in_numel);
    FILE *fin = open_or_die(argv[2], "rb"), *fran = open_or_die(argv[3], "wb"), *fout = open_or_die(argv[4], "wb");
    FILE *pf = open_or_die(argv[5], "w");
    sscma_predict_options o;
    TRY(sscma_predict_options_init(&o, sizeof o));
    o.iou_threshold = 0.45f;
    int images = 0, same = 0;
    /* the anomaly VAE takes its input's real values (f32 [1, H, W, 2C]), not an image: the dequantized int8 input,
     * which sscma_predict quantizes back to the same bytes */
    const char *task = NULL;
    TRY(sscma_predict_task(q, &o, &task));
    const int anomaly = strcmp(task, "anomaly") == 0;
    sscma_tensor *values = NULL;
    float *fx = NULL;
    const int64_t vdims[4] = {1, h, w, c};
    TRY(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, vdims, &values));
    TRY(sscma_tensor_data(values, (void **)&fx));
    while (sample != NULL && fread(sample, 1, (size_t)in_numel, fin) == (size_t)in_numel) {
        for (int64_t i = 0; i < in_numel; i++) {
            fx[i] = scale[0] * (float)(sample[i] - zero[0]);
            if (anomaly) /* no image: mean and std hold up to 4 channels, the VAE's input has 6 */
                continue;
            const long v = lroundf(fx[i] * std[i % c] + mean[i % c]);
            px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        sscma_prediction p[8];
        int32_t count = -1;
        TRY(sscma_predict(q, anomaly ? values : image, &o, p, 8, &count));
        /* the int8 input sscma_predict ran */
        const int8_t *ran = NULL;
        TRY(sscma_qmodel_input(q, 0, &in));
        TRY(sscma_tensor_data(in, (void **)&ran));
        same += memcmp(ran, sample, (size_t)in_numel) == 0;
        if (fwrite(ran, 1, (size_t)in_numel, fran) != (size_t)in_numel)
            return 1;
        for (int32_t k = 0; k < n_out; k++) {
            void *d = NULL;
            size_t bytes = 0;
            TRY(sscma_qmodel_output(q, k, &outs[k], NULL));
            TRY(sscma_tensor_data(outs[k], &d));
            TRY(sscma_tensor_size_bytes(outs[k], &bytes));
            if (fwrite(d, 1, bytes, fout) != bytes)
                return 1;
        }
        fprintf(pf, "image %d: %d prediction(s)", images, (int)count);
        for (int32_t k = 0; k < count && k < 8; k++) {
            fprintf(pf, "%s class %d score ", k ? ";" : ":", (int)p[k].class_id);
            put_milli(pf, p[k].score);
            fprintf(pf, " at ");
            put_milli(pf, p[k].x);
            fprintf(pf, ", ");
            put_milli(pf, p[k].y);
            if (p[k].w != 0.0f || p[k].h != 0.0f) {
                fprintf(pf, " size ");
                put_milli(pf, p[k].w);
                fprintf(pf, " x ");
                put_milli(pf, p[k].h);
            }
        }
        fprintf(pf, "\n");
        images++;
    }
    fclose(fin), fclose(fran), fclose(fout), fclose(pf);
    printf("# %s: sscma_predict (task %s) on %d inputs (%d of them ran the test's own int8 input; the u8 rounding "
           "of the resized images moves the others)\n", argv[1], task, images, same);
    if (anomaly && same != images) { /* the f32 values quantize back to the very bytes */
        printf("FAIL: the anomaly model ran %d of %d inputs as given\n", same, images);
        return 1;
    }
    free(sample);
    sscma_tensor_destroy(image);
    sscma_tensor_destroy(values);
    sscma_qmodel_destroy(q);
    sscma_context_destroy(ctx);
    return images > 0 ? 0 : 1;
}
