/*
 * Trains MobileNetV2-0.35 on Fashion-MNIST (Debian's dataset-fashion-mnist) with the public API only: datasets,
 * loaders, a model from an SSCMA config, and the trainer. The recipe is the one in docs/training.md: 28x28 images
 * padded to 32x32, random horizontal flip, batch 64, AdamW lr 1e-3 weight decay 1e-4, cosine over the epochs (per
 * iteration).
 *
 *   train_fashion_mnist [--epochs N] [--train N] [--test N] [--threads N] [--seed N] [--work-dir DIR] [--quiet]
 *
 * --train / --test keep the first N samples of each split (the reduced runs of the test suite). The last line is a
 * JSON object: {"top1": ..., "epochs": ..., "train_samples": ..., "seconds": ..., "images_per_s": ...}.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sscma/sscma.h>

#define CHECK(call)                                                                                            \
    do {                                                                                                       \
        sscma_status st_ = (call);                                                                             \
        if (st_ != SSCMA_OK) {                                                                                 \
            fprintf(stderr, "train_fashion_mnist: %s: %s\n", #call, sscma_last_error());                        \
            return 1;                                                                                          \
        }                                                                                                      \
    } while (0)

typedef struct progress {
    int quiet;
    int64_t last_epoch;
} progress;

static int on_progress(const sscma_train_progress *p, void *user)
{
    progress *pr = user;
    if (!pr->quiet && (p->iter % 100 == 0 || p->iter == p->iters_per_epoch))
        fprintf(stderr, "epoch %lld/%lld  iter %lld/%lld  loss %.4f  lr %.3e  %.0f img/s  eta %.0f s\n",
                (long long)p->epoch, (long long)p->max_epochs, (long long)p->iter, (long long)p->iters_per_epoch,
                p->loss, p->lr, p->images_per_s, p->eta_s);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long epochs = 8, train_n = -1, test_n = -1, threads = 0, seed = 0;
    const char *work_dir = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "usage: %s [--epochs N] [--train N] [--test N] [--threads N] [--seed N] [--work-dir DIR] "
                            "[--quiet]\n", argv[0]);
            return 2;
        }
        if (strcmp(a, "--epochs") == 0)
            epochs = strtol(v, NULL, 10);
        else if (strcmp(a, "--train") == 0)
            train_n = strtol(v, NULL, 10);
        else if (strcmp(a, "--test") == 0)
            test_n = strtol(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            threads = strtol(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            seed = strtol(v, NULL, 10);
        else if (strcmp(a, "--work-dir") == 0)
            work_dir = v;
        else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    sscma_context_options opt;
    sscma_context_options_init(&opt, sizeof opt);
    opt.num_threads = (int32_t)threads;
    opt.seed = (uint64_t)seed;
    opt.log_level = quiet ? SSCMA_LOG_WARNING : SSCMA_LOG_INFO;
    sscma_context *ctx = NULL;
    CHECK(sscma_context_create(&opt, &ctx));

    char cfg[4096], indices[64];
    sscma_dataset *train_ds = NULL, *test_ds = NULL;
    snprintf(indices, sizeof indices, train_n > 0 ? ", \"indices\": %ld" : "", train_n);
    snprintf(cfg, sizeof cfg, "{\"type\": \"FashionMNIST\", \"split\": \"train\"%s}", indices);
    CHECK(sscma_dataset_open(ctx, cfg, &train_ds));
    snprintf(indices, sizeof indices, test_n > 0 ? ", \"indices\": %ld" : "", test_n);
    snprintf(cfg, sizeof cfg, "{\"type\": \"FashionMNIST\", \"split\": \"test\"%s}", indices);
    CHECK(sscma_dataset_open(ctx, cfg, &test_ds));

    /* Fashion-MNIST's pixel mean and standard deviation (0.2860, 0.3530) x 255 */
    static const char *const normalize = "{\"type\": \"Normalize\", \"mean\": [72.94], \"std\": [90.02]}";
    sscma_loader *train = NULL, *test = NULL;
    snprintf(cfg, sizeof cfg,
             "{\"batch_size\": 64, \"shuffle\": true, \"num_workers\": 1, \"seed\": %ld, \"pipeline\": ["
             "{\"type\": \"Pad\", \"padding\": 2}, {\"type\": \"RandomFlip\", \"prob\": 0.5}, %s]}",
             seed, normalize);
    CHECK(sscma_loader_create(ctx, train_ds, cfg, &train));
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 256, \"pipeline\": [{\"type\": \"Pad\", \"padding\": 2}, %s]}",
             normalize);
    CHECK(sscma_loader_create(ctx, test_ds, cfg, &test));

    sscma_model *model = NULL;
    CHECK(sscma_model_create(ctx,
                             "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32],"
                             " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
                             " \"neck\": {\"type\": \"GlobalAveragePooling\"},"
                             " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}",
                             &model));
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %ld, \"val_interval\": %ld,"
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"AdamW\", \"lr\": 0.001, \"weight_decay\": 0.0001}},"
             " \"param_scheduler\": [{\"type\": \"CosineAnnealingLR\", \"T_max\": %ld, \"by_epoch\": true,"
             "   \"convert_to_iter_based\": true}],"
             " \"val_evaluator\": {\"type\": \"Accuracy\", \"topk\": [1, 5]},"
             " \"default_hooks\": {\"checkpoint\": {\"interval\": 1, \"max_keep_ckpts\": 1, \"save_best\": \"auto\"},"
             "   \"logger\": {\"interval\": 100}}%s%s%s}",
             epochs, epochs, epochs, work_dir ? ", \"work_dir\": \"" : "", work_dir ? work_dir : "",
             work_dir ? "\"" : "");
    sscma_trainer *trainer = NULL;
    CHECK(sscma_trainer_create(model, train, test, cfg, &trainer));
    progress pr = {quiet, 0};
    CHECK(sscma_trainer_set_callback(trainer, on_progress, &pr));
    double t0 = now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = now() - t0;
    const sscma_metric *metric = NULL;
    double top1 = 0.0, top5 = 0.0;
    CHECK(sscma_trainer_validate(trainer, &metric));
    CHECK(sscma_metric_get(metric, "accuracy/top1", &top1));
    CHECK(sscma_metric_get(metric, "accuracy/top5", &top5));
    int64_t n_train = 0, iters = 0;
    CHECK(sscma_dataset_size(train_ds, &n_train));
    CHECK(sscma_trainer_position(trainer, NULL, &iters));
    printf("{\"top1\": %.2f, \"top5\": %.2f, \"epochs\": %ld, \"train_samples\": %lld, \"iterations\": %lld, "
           "\"seconds\": %.1f, \"images_per_s\": %.1f}\n",
           top1, top5, epochs, (long long)n_train, (long long)iters, seconds,
           (double)n_train * (double)epochs / seconds);
    sscma_trainer_destroy(trainer);
    sscma_model_destroy(model);
    sscma_loader_destroy(train);
    sscma_loader_destroy(test);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(test_ds);
    sscma_context_destroy(ctx);
    return 0;
}
