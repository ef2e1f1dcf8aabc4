/*
 * Times forward + backward of each layer of a network description (bench/mbv2_layers.py output) with libsscma's
 * kernels, on a context of T threads; prints one JSON object per layer, then a summary. Also measures OpenBLAS's
 * sgemm rate, the peak the conv layers are compared against.
 *
 *   bench_layers LAYERS.json THREADS [REPEATS] [--fuse]
 *   bench_layers --sgemm THREADS
 *
 * --fuse runs each batch_norm that a relu6 follows as one batch_norm_act layer (as the model builder does).
 */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sscma/sscma.h>

#include "opcheck.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static sscma_desc desc_of(json_t *shape, sscma_dtype dtype)
{
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    int32_t rank = (int32_t)json_array_size(shape);
    for (int32_t i = 0; i < rank && i < SSCMA_TENSOR_MAX_RANK; i++)
        dims[i] = json_integer_value(json_array_get(shape, (size_t)i));
    return sscma_desc_make(dtype, rank, dims);
}

void openblas_set_num_threads(int num_threads);

static int sgemm_peak(int threads)
{
    const int n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    openblas_set_num_threads(threads);
    double t[7];
    for (int r = 0; r < 7; r++) {
        double t0 = now_ms();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t[r] = now_ms() - t0;
    }
    double ms = median(t, 7);
    printf("{\"name\": \"sgemm_1024\", \"threads\": %d, \"ms\": %.3f, \"gflops\": %.2f}\n", threads, ms,
           2.0 * n * n * (double)n / (ms * 1e6));
    free(a), free(b), free(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--sgemm") == 0)
        return sgemm_peak(atoi(argv[2]));
    if (argc < 3) {
        fprintf(stderr, "usage: bench_layers LAYERS.json THREADS [REPEATS] | --sgemm THREADS\n");
        return 2;
    }
    json_error_t err;
    json_t *layers = json_load_file(argv[1], 0, &err);
    if (layers == NULL) {
        fprintf(stderr, "bench_layers: %s: line %d: %s\n", argv[1], err.line, err.text);
        return 1;
    }
    int threads = atoi(argv[2]), repeats = argc > 3 ? atoi(argv[3]) : 10;
    bool fuse = argc > 4 && strcmp(argv[4], "--fuse") == 0;
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = threads;
    sscma_context *ctx = NULL;
    if (sscma_context_create(&o, &ctx) != SSCMA_OK) {
        fprintf(stderr, "bench_layers: %s\n", sscma_last_error());
        return 1;
    }
    double total_fwd = 0, total_bwd = 0, conv_flops = 0, conv_ms = 0;
    test_rng rng = {1};
    for (size_t li = 0; li < json_array_size(layers); li++) {
        json_t *l = json_array_get(layers, li);
        const char *op = json_string_value(json_object_get(l, "op"));
        const char *name = json_string_value(json_object_get(l, "name"));
        sscma_desc x = desc_of(json_object_get(l, "x"), SSCMA_DTYPE_F32);
        sscma_desc in[5];
        int32_t n_in = 1;
        const void *attrs = NULL;
        sscma_conv2d_attrs conv;
        sscma_batch_norm_attrs bn = {1e-5f, 0.1f};
        sscma_batch_norm_act_attrs bn_act = {{1e-5f, 0.1f}, SSCMA_ACT_RELU6, 0.0f};
        char fused_name[160];
        sscma_act_attrs act = {0.0f};
        sscma_linear_attrs lin = {0};
        sscma_cross_entropy_attrs ce = {SSCMA_REDUCTION_MEAN, 0.0f, -100};
        double flops = 0;
        in[0] = x;
        if (strcmp(op, "conv2d") == 0) {
            int s = (int)json_integer_value(json_object_get(l, "stride"));
            int p = (int)json_integer_value(json_object_get(l, "pad"));
            int g = (int)json_integer_value(json_object_get(l, "groups"));
            conv = (sscma_conv2d_attrs){s, s, 1, 1, p, p, p, p, false, g};
            in[1] = desc_of(json_object_get(l, "w"), SSCMA_DTYPE_F32);
            n_in = 2;
            attrs = &conv;
        } else if (strcmp(op, "batch_norm") == 0) {
            int64_t c = x.dims[x.rank - 1];
            in[1] = in[2] = in[3] = in[4] = sscma_desc_make(SSCMA_DTYPE_F32, 1, &c);
            n_in = 5;
            attrs = &bn;
            json_t *next = json_array_get(layers, li + 1);
            if (fuse && next != NULL && strcmp(json_string_value(json_object_get(next, "op")), "relu6") == 0) {
                op = "batch_norm_act";
                attrs = &bn_act;
                snprintf(fused_name, sizeof fused_name, "%s+relu6", name);
                name = fused_name;
                li++; /* the relu6 runs inside this layer */
            }
        } else if (strcmp(op, "relu6") == 0) {
            attrs = &act;
        } else if (strcmp(op, "add") == 0) {
            in[1] = x;
            n_in = 2;
        } else if (strcmp(op, "linear") == 0) {
            in[1] = desc_of(json_object_get(l, "w"), SSCMA_DTYPE_F32);
            in[2] = sscma_desc_make(SSCMA_DTYPE_F32, 1, &in[1].dims[0]);
            n_in = 3;
            attrs = &lin;
        } else if (strcmp(op, "cross_entropy") == 0) {
            in[1] = sscma_desc_make(SSCMA_DTYPE_I32, 1, &x.dims[0]);
            n_in = 2;
            attrs = &ce;
        }
        op_run run;
        if (op_run_init(&run, ctx, op, attrs, n_in, in) != SSCMA_OK) {
            fprintf(stderr, "bench_layers: layer %s: %s\n", name, sscma_last_error());
            return 1;
        }
        for (int32_t i = 0; i < n_in; i++) {
            int64_t n = sscma_desc_numel(&in[i]);
            for (int64_t k = 0; k < n; k++) {
                if (in[i].dtype == SSCMA_DTYPE_I32)
                    ((int32_t *)run.in[i].data)[k] = (int32_t)(k % in[0].dims[1]);
                else
                    ((float *)run.in[i].data)[k] = i == 4 ? 1.0f : test_rng_normal(&rng) * 0.5f;
            }
        }
        for (int32_t i = 0; i < run.n_out; i++)
            for (int64_t k = 0; k < sscma_desc_numel(&run.out[i].desc); k++)
                ((float *)run.dout[i].data)[k] = test_rng_normal(&rng);
        if (strcmp(op, "conv2d") == 0) {
            const sscma_desc *w = &in[1], *y = &run.out[0].desc;
            flops = 2.0 * (double)(y->dims[0] * y->dims[1] * y->dims[2] * y->dims[3]) *
                    (double)(w->dims[1] * w->dims[2] * w->dims[3]);
            flops *= 3.0; /* forward, input gradient, weight gradient */
        }
        /* The network's input takes no gradient in training: the first layer computes none (as in the peer). */
        if (json_is_false(json_object_get(l, "input_grad")) && run.din[0].data != NULL) {
            free(run.din[0].data);
            run.din[0].data = NULL;
        }
        double tf[64], tb[64];
        int reps = repeats > 64 ? 64 : repeats;
        for (int r = -2; r < reps; r++) {
            double t0 = now_ms();
            op_run_forward(&run);
            double t1 = now_ms();
            op_run_zero_grads(&run); /* gradients start at zero, as after a graph's zero_grad: not timed */
            double t1b = now_ms();
            op_run_backward_only(&run);
            double t2 = now_ms() - (t1b - t1);
            if (r >= 0)
                tf[r] = t1 - t0, tb[r] = t2 - t1;
        }
        double f = median(tf, reps), b = median(tb, reps);
        total_fwd += f, total_bwd += b;
        if (flops > 0)
            conv_flops += flops, conv_ms += f + b;
        printf("{\"name\": \"%s\", \"op\": \"%s\", \"threads\": %d, \"fwd_ms\": %.4f, \"bwd_ms\": %.4f, "
               "\"gflops\": %.2f}\n", name, op, threads, f, b, flops > 0 ? flops / ((f + b) * 1e6) : 0.0);
        op_run_free(&run);
    }
    printf("{\"name\": \"total\", \"threads\": %d, \"fwd_ms\": %.3f, \"bwd_ms\": %.3f, \"total_ms\": %.3f, "
           "\"conv_gflops\": %.2f}\n", threads, total_fwd, total_bwd, total_fwd + total_bwd,
           conv_flops / (conv_ms * 1e6));
    sscma_context_destroy(ctx);
    json_decref(layers);
    return 0;
}
