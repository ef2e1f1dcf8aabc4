/*
 * Trains SSCMA's accelerometer classifier (AxesNet + AxesClsHead) on an Edge Impulse export with the public API only:
 * SensorDataset windows of 62 steps x 3 axes every 20 steps at 62.5 Hz, Adam lr 5e-4 betas (0.9, 0.99) weight
 * decay 5e-4, batch 1, as SSCMA's 3axes_accelerometer_62.5Hz_1s_classify recipe; then int8 post-training
 * quantization on the training windows, the int8 TFLite file, and both accuracies on the testing windows.
 *
 *   /usr/bin/python3 tools/gen_accel.py gestures         # the seeded synthetic gestures (seed 2112)
 *   train_accelerometer --data gestures [--epochs N] [--threads N] [--seed N] [--work-dir DIR] [--quiet]
 *
 * The last line is a JSON object: {"top1": ..., "top1_int8": ..., "epochs": ..., "train_windows": ...,
 * "test_windows": ..., "seconds": ...}.
 */
#define _POSIX_C_SOURCE 200809L
#include "../common/example.h"

static int on_progress(const sscma_train_progress *p, void *user)
{
    const int *quiet = user;
    if (!*quiet && p->iter == p->iters_per_epoch)
        fprintf(stderr, "epoch %lld/%lld  loss %.4f  %.0f windows/s\n", (long long)p->epoch,
                (long long)p->max_epochs, p->loss, p->images_per_s);
    return 0;
}

int main(int argc, char **argv)
{
    example_args args = {10, -1, -1, 0, 0, 0.0005, NULL, NULL, 0};
    if (example_parse(argc, argv, &args, "--data DIR [--epochs N] [--threads N] [--seed N] [--work-dir DIR] "
                                         "[--quiet]") != 0)
        return 2;
    if (args.data == NULL) {
        fprintf(stderr, "train_accelerometer: --data DIR (an Edge Impulse export: tools/gen_accel.py DIR makes one)\n");
        return 2;
    }
    const char *work_dir = example_work_dir(&args, "train_accelerometer");
    sscma_context *ctx = NULL;
    CHECK(example_context(&args, &ctx));

    /* the export's info.labels at its root: each split keeps its category's recordings */
    char cfg[4096];
    sscma_dataset *train_ds = NULL, *test_ds = NULL;
    static const char *const split_cfg =
        "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"%s\", \"ann_file\": \"info.labels\","
        " \"window_size\": 62, \"stride\": 20, \"frequency\": 62.5}";
    snprintf(cfg, sizeof cfg, split_cfg, args.data, "training");
    CHECK(sscma_dataset_open(ctx, cfg, &train_ds));
    snprintf(cfg, sizeof cfg, split_cfg, args.data, "testing");
    CHECK(sscma_dataset_open(ctx, cfg, &test_ds));
    int32_t classes = 0;
    CHECK(sscma_dataset_num_classes(train_ds, &classes));

    sscma_loader *train = NULL, *test = NULL;
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 1, \"shuffle\": true, \"seed\": %ld}", args.seed);
    CHECK(sscma_loader_create(ctx, train_ds, cfg, &train));
    CHECK(sscma_loader_create(ctx, test_ds, "{\"batch_size\": 64}", &test));

    sscma_model *model = NULL;
    snprintf(cfg, sizeof cfg,
             "{\"type\": \"AccelerometerClassifier\", \"backbone\": {\"type\": \"AxesNet\", \"num_axes\": 3,"
             " \"window_size\": 62, \"num_classes\": %d}, \"head\": {\"type\": \"AxesClsHead\","
             " \"loss\": {\"type\": \"CrossEntropyLoss\", \"loss_weight\": 1.0}}}",
             (int)classes);
    CHECK(sscma_model_create(ctx, cfg, &model));
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %ld, \"val_interval\": %ld,"
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"Adam\", \"lr\": %g, \"betas\": [0.9, 0.99],"
             "   \"weight_decay\": 0.0005}},"
             " \"val_evaluator\": {\"type\": \"Accuracy\", \"topk\": [1]},"
             " \"default_hooks\": {\"checkpoint\": {\"interval\": %ld, \"max_keep_ckpts\": 1}, \"logger\": {\"interval\": 1000}},"
             " \"work_dir\": \"%s\"}",
             args.epochs, args.epochs, args.lr, args.epochs, work_dir);
    sscma_trainer *trainer = NULL;
    CHECK(sscma_trainer_create(model, train, test, cfg, &trainer));
    CHECK(sscma_trainer_set_callback(trainer, on_progress, &args.quiet));
    double t0 = example_now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = example_now() - t0;
    const sscma_metric *metric = NULL;
    double top1 = 0.0;
    CHECK(sscma_trainer_validate(trainer, &metric));
    CHECK(sscma_metric_get(metric, "accuracy/top1", &top1));

    /* int8: calibrated on the training windows, written as TFLite, measured on the testing windows */
    sscma_qmodel *q = NULL;
    CHECK(sscma_quantize(model, train, NULL, &q));
    char path[1024];
    snprintf(path, sizeof path, "%s/accelerometer_int8.tflite", work_dir);
    CHECK(sscma_export_tflite(q, path));
    sscma_verify_report rep;
    memset(&rep, 0, sizeof rep);
    rep.struct_size = sizeof rep;
    CHECK(sscma_export_verify(q, path, test, &rep));
    int64_t n_train = 0, n_test = 0;
    CHECK(sscma_dataset_size(train_ds, &n_train));
    CHECK(sscma_dataset_size(test_ds, &n_test));
    printf("{\"top1\": %.2f, \"top1_int8\": %.2f, \"int8_file\": \"%s\", \"file_values_differing\": %lld, "
           "\"epochs\": %ld, \"train_windows\": %lld, \"test_windows\": %lld, \"seconds\": %.1f}\n",
           top1, rep.metric_model, path, (long long)rep.values_differing, args.epochs, (long long)n_train,
           (long long)n_test, seconds);
    sscma_qmodel_destroy(q);
    sscma_trainer_destroy(trainer);
    sscma_model_destroy(model);
    sscma_loader_destroy(train);
    sscma_loader_destroy(test);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(test_ds);
    sscma_context_destroy(ctx);
    return 0;
}
