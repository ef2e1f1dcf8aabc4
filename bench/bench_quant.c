/*
 * Quantization benchmarks (bench/run quant, bench/run latency): one JSON object per line.
 *
 *   bench_quant accuracy CKPT [--calib N]
 *       Fashion-MNIST classifier checkpoint (examples/train_fashion_mnist --work-dir): test top-1 of the model, of
 *       its float deployable form, of the int8 model from each observer (calibrated on N training batches of 64,
 *       default 32), and of the int8 TFLite file read back (sscma_export_verify).
 *   bench_quant qat CKPT [EPOCHS]
 *       the same checkpoint through quantization-aware training (default 2 epochs, AdamW lr 1e-4, cosine; observers
 *       and batch norms frozen from epoch 1), converted to int8: test top-1 against the float model's.
 *   bench_quant latency OUT_DIR [--threads N] [--repeats N] [--only f32|int8]
 *       MobileNetV2-0.35 classifier, 96x96x3, batch 1: median latency of the model's forward (eval), of the float
 *       deployable runtime and of the int8 runtime; writes model_f32.onnx and model_int8.onnx (QDQ) to OUT_DIR
 *       for the onnxruntime peer (bench/run measures it in the same run). --only times one runtime alone (for
 *       perf record); the others print 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include <sscma/sscma.h>

#include "bench_images.h"

#define TRY(call)                                                                                              \
    do {                                                                                                       \
        sscma_status st_ = (call);                                                                             \
        if (st_ != SSCMA_OK) {                                                                                 \
            fprintf(stderr, "bench_quant: %s: %s\n", #call, sscma_last_error());                               \
            exit(1);                                                                                           \
        }                                                                                                      \
    } while (0)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const fmnist_model =
    "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32],"
    " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
    " \"neck\": {\"type\": \"GlobalAveragePooling\"}, \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}";
static const char *const fmnist_pipeline =
    "\"pipeline\": [{\"type\": \"Pad\", \"padding\": 2}, {\"type\": \"Normalize\", \"mean\": [72.94], \"std\": [90.02]}]";

/* Top-1 (percent) of a deployable model on a loader. */
static double qmodel_top1(sscma_context *ctx, sscma_qmodel *q, sscma_loader *test)
{
    int64_t dims[4];
    TRY(sscma_loader_batch_shape(test, dims));
    TRY(sscma_qmodel_prepare(q, dims[0]));
    sscma_tensor *images, *labels, *probs;
    const int64_t ld[1] = {dims[0]}, pd[2] = {dims[0], 10};
    TRY(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &images));
    TRY(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, ld, &labels));
    TRY(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, pd, &probs));
    sscma_metric *m;
    TRY(sscma_metric_create("{\"type\": \"Accuracy\"}", &m));
    TRY(sscma_loader_start_epoch(test, 0));
    int64_t count;
    while (sscma_loader_next(test, images, labels, &count) == SSCMA_OK && count > 0) {
        TRY(sscma_qmodel_set_input(q, 0, images));
        TRY(sscma_qmodel_run(q));
        TRY(sscma_qmodel_get_output(q, 0, probs));
        TRY(sscma_metric_update(m, probs, labels, count));
    }
    double top1;
    TRY(sscma_metric_get(m, "accuracy/top1", &top1));
    sscma_metric_destroy(m);
    sscma_tensor_destroy(images);
    sscma_tensor_destroy(labels);
    sscma_tensor_destroy(probs);
    return top1;
}

static double model_top1(sscma_context *ctx, sscma_model *model, sscma_loader *test)
{
    int64_t dims[4];
    TRY(sscma_loader_batch_shape(test, dims));
    TRY(sscma_model_prepare(model, dims[0], 0));
    sscma_tensor *images, *labels, *logits;
    const int64_t ld[1] = {dims[0]};
    TRY(sscma_model_input(model, "image", &images));
    TRY(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, ld, &labels));
    sscma_metric *m;
    TRY(sscma_metric_create("{\"type\": \"Accuracy\"}", &m));
    TRY(sscma_loader_start_epoch(test, 0));
    int64_t count;
    while (sscma_loader_next(test, images, labels, &count) == SSCMA_OK && count > 0) {
        TRY(sscma_model_forward(model));
        TRY(sscma_model_output(model, "logits", &logits));
        TRY(sscma_metric_update(m, logits, labels, count));
    }
    double top1;
    TRY(sscma_metric_get(m, "accuracy/top1", &top1));
    sscma_metric_destroy(m);
    sscma_tensor_destroy(labels);
    return top1;
}

static int accuracy(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *ckpt = argv[2];
    int64_t calib = 32;
    for (int i = 3; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--calib") == 0)
            calib = atoll(argv[i + 1]);
    sscma_context *ctx;
    TRY(sscma_context_create(NULL, &ctx));
    sscma_model *model;
    TRY(sscma_model_create(ctx, fmnist_model, &model));
    TRY(sscma_model_load(model, ckpt));
    sscma_dataset *train_ds, *test_ds;
    sscma_loader *train, *test;
    char cfg[512];
    TRY(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"train\"}", &train_ds));
    TRY(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\"}", &test_ds));
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 64, \"shuffle\": true, \"seed\": 5, %s}", fmnist_pipeline);
    TRY(sscma_loader_create(ctx, train_ds, cfg, &train));
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 250, %s}", fmnist_pipeline);
    TRY(sscma_loader_create(ctx, test_ds, cfg, &test));
    double t0 = now();
    double fp32 = model_top1(ctx, model, test);
    sscma_qmodel *f;
    TRY(sscma_qmodel_from_model(model, &f));
    double deploy = qmodel_top1(ctx, f, test);
    printf("{\"name\": \"fmnist top-1\", \"model_f32\": %.2f, \"deployable_f32\": %.2f, \"seconds\": %.1f}\n", fp32,
           deploy, now() - t0);
    static const char *const names[] = {"minmax", "moving_average", "percentile"};
    for (int k = 0; k < 3; k++) {
        sscma_quant_options o;
        TRY(sscma_quant_options_init(&o, sizeof o));
        o.observer = (sscma_observer)(k + 1);
        o.calib_batches = calib;
        sscma_qmodel *q;
        t0 = now();
        TRY(sscma_quantize(model, train, &o, &q));
        double tq = now() - t0;
        double top1 = qmodel_top1(ctx, q, test);
        char out[] = "/tmp/bench_quant_XXXXXX";
        int fd = mkstemp(out);
        if (fd >= 0)
            close(fd);
        char path[64];
        snprintf(path, sizeof path, "%s.tflite", out);
        TRY(sscma_export_tflite(q, path));
        sscma_verify_report r;
        memset(&r, 0, sizeof r);
        r.struct_size = sizeof r;
        TRY(sscma_export_verify(q, path, test, &r));
        remove(path);
        remove(out);
        printf("{\"name\": \"fmnist int8 PTQ\", \"observer\": \"%s\", \"calib_batches\": %lld, \"top1\": %.2f, "
               "\"drop\": %.2f, \"tflite_top1\": %.2f, \"tflite_values_differing\": %lld, \"quantize_seconds\": %.1f}\n",
               names[k], (long long)calib, top1, fp32 - top1, r.metric_file, (long long)r.values_differing, tq);
        fflush(stdout);
        sscma_qmodel_destroy(q);
    }
    sscma_qmodel_destroy(f);
    sscma_loader_destroy(train);
    sscma_loader_destroy(test);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(test_ds);
    sscma_model_destroy(model);
    sscma_context_destroy(ctx);
    return 0;
}

/* QAT from the float checkpoint: EPOCHS epochs (AdamW, lr 1e-4, cosine), then int8 test top-1. */
static int qat(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *ckpt = argv[2];
    long epochs = argc > 3 ? atol(argv[3]) : 2;
    sscma_context *ctx;
    TRY(sscma_context_create(NULL, &ctx));
    sscma_model *model;
    TRY(sscma_model_create(ctx, fmnist_model, &model));
    TRY(sscma_model_load(model, ckpt));
    sscma_dataset *train_ds, *test_ds;
    sscma_loader *train, *test;
    char cfg[1024];
    TRY(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"train\"}", &train_ds));
    TRY(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\"}", &test_ds));
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 64, \"shuffle\": true, \"seed\": 9, \"num_workers\": 1, %s}",
             fmnist_pipeline);
    TRY(sscma_loader_create(ctx, train_ds, cfg, &train));
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 250, %s}", fmnist_pipeline);
    TRY(sscma_loader_create(ctx, test_ds, cfg, &test));
    double fp32 = model_top1(ctx, model, test);
    sscma_qat_options qo;
    TRY(sscma_qat_options_init(&qo, sizeof qo));
    TRY(sscma_qat_prepare(model, &qo));
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %ld, \"val_interval\": %ld,"
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"AdamW\", \"lr\": 0.0001, \"weight_decay\": 0.0001}},"
             " \"param_scheduler\": [{\"type\": \"CosineAnnealingLR\", \"T_max\": %ld, \"by_epoch\": true,"
             " \"convert_to_iter_based\": true}], \"val_evaluator\": {\"type\": \"Accuracy\"}}",
             epochs, epochs, epochs);
    sscma_trainer *trainer;
    TRY(sscma_trainer_create(model, train, test, cfg, &trainer));
    double t0 = now();
    TRY(sscma_trainer_train(trainer));
    double secs = now() - t0;
    sscma_qmodel *q;
    TRY(sscma_qat_convert(model, &q));
    double top1 = qmodel_top1(ctx, q, test);
    printf("{\"name\": \"fmnist int8 QAT\", \"epochs\": %ld, \"model_f32\": %.2f, \"top1\": %.2f, \"drop\": %.2f,"
           " \"train_seconds\": %.1f}\n",
           epochs, fp32, top1, fp32 - top1, secs);
    sscma_qmodel_destroy(q);
    sscma_trainer_destroy(trainer);
    sscma_loader_destroy(train);
    sscma_loader_destroy(test);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(test_ds);
    sscma_model_destroy(model);
    sscma_context_destroy(ctx);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return 1e3 * (n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]));
}

static int latency(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *dir = argv[2];
    int threads = 1, repeats = 300;
    const char *only = NULL; /* --only int8: time the int8 runtime alone (for perf) */
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--repeats") == 0)
            repeats = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--only") == 0)
            only = argv[i + 1];
    }
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = threads;
    sscma_context *ctx;
    TRY(sscma_context_create(&o, &ctx));
    sscma_model *model;
    TRY(sscma_model_create(ctx,
                           "{\"type\": \"ImageClassifier\", \"input_size\": [96, 96],"
                           " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35},"
                           " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}",
                           &model));
    /* calibration: 64 images of a 96x96 RGB set written once (latency does not depend on the values) */
    char calib_dir[1024], path_f[1024], path_q[1024];
    snprintf(calib_dir, sizeof calib_dir, "%s/calib", dir);
    snprintf(path_f, sizeof path_f, "%s/model_f32.onnx", dir);
    snprintf(path_q, sizeof path_q, "%s/model_int8.onnx", dir);
    if (write_jpeg_set(ctx, calib_dir, 64) != 0)
        return 1;
    char cfg[1400];
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\"}", calib_dir);
    sscma_dataset *ds;
    sscma_loader *loader;
    TRY(sscma_dataset_open(ctx, cfg, &ds));
    TRY(sscma_loader_create(ctx, ds,
                            "{\"batch_size\": 32, \"pipeline\": [{\"type\": \"Resize\", \"size\": [96, 96]}, {\"type\": \"Normalize\", \"mean\": [128],"
                            " \"std\": [64]}]}",
                            &loader));
    sscma_qmodel *f, *q;
    TRY(sscma_qmodel_from_model(model, &f));
    TRY(sscma_quantize(model, loader, NULL, &q));
    TRY(sscma_export_onnx(f, path_f));
    TRY(sscma_export_onnx(q, path_q));
    double *t = malloc((size_t)repeats * sizeof *t);
    if (t == NULL)
        return 1;
    /* the model's own inference path (eval forward, batch 1) */
    double model_ms = 0, ms[2] = {0, 0};
    TRY(sscma_model_prepare(model, 1, 0));
    for (int i = -20; only == NULL && i < repeats; i++) {
        double t0 = now();
        TRY(sscma_model_forward(model));
        if (i >= 0)
            t[i] = now() - t0;
    }
    if (only == NULL)
        model_ms = median_ms(t, repeats);
    sscma_qmodel *runs[2] = {f, q};
    for (int k = 0; k < 2; k++) {
        if (only != NULL && strcmp(only, k == 0 ? "f32" : "int8") != 0)
            continue;
        TRY(sscma_qmodel_prepare(runs[k], 1));
        for (int i = -20; i < repeats; i++) {
            double t0 = now();
            TRY(sscma_qmodel_run(runs[k]));
            if (i >= 0)
                t[i] = now() - t0;
        }
        ms[k] = median_ms(t, repeats);
    }
    printf("{\"name\": \"latency\", \"threads\": %d, \"model_forward_ms\": %.4f, \"deployable_f32_ms\": %.4f, "
           "\"int8_ms\": %.4f}\n",
           threads, model_ms, ms[0], ms[1]);
    free(t);
    sscma_qmodel_destroy(f);
    sscma_qmodel_destroy(q);
    sscma_loader_destroy(loader);
    sscma_dataset_destroy(ds);
    sscma_model_destroy(model);
    sscma_context_destroy(ctx);
    return 0;
}

/* Writes int8 .tflite files of deployable size into dir for `tflite` latency: MobileNetV2-0.35 classifier and FOMO,
 * 96x96x3, PTQ-calibrated on 64 synthetic JPEGs (latency does not depend on the weights' values). */
static int tflite_models(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *dir = argv[2];
    sscma_context *ctx;
    TRY(sscma_context_create(NULL, &ctx));
    char calib_dir[1024], cfg[1400], path[1100];
    snprintf(calib_dir, sizeof calib_dir, "%s/calib", dir);
    if (write_jpeg_set(ctx, calib_dir, 64) != 0)
        return 1;
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\"}", calib_dir);
    sscma_dataset *ds;
    sscma_loader *loader;
    TRY(sscma_dataset_open(ctx, cfg, &ds));
    TRY(sscma_loader_create(ctx, ds,
                            "{\"batch_size\": 32, \"pipeline\": [{\"type\": \"Resize\", \"size\": [96, 96]}, "
                            "{\"type\": \"Normalize\", \"mean\": [128], \"std\": [64]}]}",
                            &loader));
    static const char *const names[2] = {"mbv2_0.35_96_int8.tflite", "fomo_mbv2_0.35_96_int8.tflite"};
    static const char *const cfgs[2] = {
        "{\"type\": \"ImageClassifier\", \"input_size\": [96, 96], \"backbone\": {\"type\": \"MobileNetV2\", "
        "\"widen_factor\": 0.35}, \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}",
        "{\"type\": \"Fomo\", \"input_size\": [96, 96], \"backbone\": {\"type\": \"MobileNetv2\", \"widen_factor\": 0.35, "
        "\"out_indices\": [2], \"in_channels\": 3}, \"head\": {\"type\": \"FomoHead\", \"num_classes\": 3, "
        "\"middle_channel\": 48}}"};
    for (int k = 0; k < 2; k++) {
        sscma_model *model;
        sscma_qmodel *q;
        TRY(sscma_model_create(ctx, cfgs[k], &model));
        TRY(sscma_quantize(model, loader, NULL, &q));
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        TRY(sscma_export_tflite(q, path));
        printf("%s\n", path);
        sscma_qmodel_destroy(q);
        sscma_model_destroy(model);
    }
    sscma_loader_destroy(loader);
    sscma_dataset_destroy(ds);
    sscma_context_destroy(ctx);
    return 0;
}

/* Batch-1 latency of .tflite files in libsscma's runtime: one JSON line per file, median of --repeats runs after 20
 * warm-up runs, inputs filled with a fixed pattern. */
static int tflite_latency(int argc, char **argv)
{
    int threads = 1, repeats = 300, first = 2;
    for (; first + 1 < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        if (strcmp(argv[first], "--threads") == 0)
            threads = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "--repeats") == 0)
            repeats = atoi(argv[first + 1]);
    }
    if (repeats < 1 || first >= argc)
        return 2;
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = threads;
    sscma_context *ctx;
    TRY(sscma_context_create(&o, &ctx));
    double *t = malloc((size_t)repeats * sizeof *t);
    if (t == NULL)
        return 1;
    for (int f = first; f < argc; f++) {
        sscma_qmodel *q;
        TRY(sscma_qmodel_load_tflite(ctx, argv[f], &q));
        TRY(sscma_qmodel_prepare(q, 1));
        int32_t n_in = 0, n_out = 0;
        TRY(sscma_qmodel_io_count(q, &n_in, &n_out));
        for (int32_t i = 0; i < n_in; i++) {
            sscma_tensor *in;
            TRY(sscma_qmodel_input(q, i, &in));
            int64_t n = 0;
            void *data = NULL;
            sscma_dtype dt;
            TRY(sscma_tensor_numel(in, &n));
            TRY(sscma_tensor_data(in, &data));
            TRY(sscma_tensor_dtype(in, &dt));
            for (int64_t b = 0; b < n; b++) {
                if (dt == SSCMA_DTYPE_F32)
                    ((float *)data)[b] = (float)(b * 37 % 61) / 30.0f - 1.0f;
                else
                    ((unsigned char *)data)[b] = (unsigned char)(b * 37 % 61);
            }
        }
        for (int i = -20; i < repeats; i++) {
            double t0 = now();
            TRY(sscma_qmodel_run(q));
            if (i >= 0)
                t[i] = now() - t0;
        }
        printf("{\"file\": \"%s\", \"threads\": %d, \"ms\": %.5f}\n", argv[f], threads, median_ms(t, repeats));
        sscma_qmodel_destroy(q);
    }
    free(t);
    sscma_context_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "accuracy") == 0)
        return accuracy(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "latency") == 0)
        return latency(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "qat") == 0)
        return qat(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "tflite-models") == 0)
        return tflite_models(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "tflite") == 0)
        return tflite_latency(argc, argv);
    fprintf(stderr, "usage: bench_quant accuracy CKPT [--calib N] | qat CKPT [EPOCHS] | latency OUT_DIR [--threads N] [--repeats N] | tflite-models OUT_DIR | tflite [--threads N] [--repeats N] FILE...\n");
    return 2;
}
