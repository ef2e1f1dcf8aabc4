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
#include "../common/example.h"

typedef struct progress {
    int quiet;
} progress;

static int on_progress(const sscma_train_progress *p, void *user)
{
    const progress *pr = user;
    if (!pr->quiet && (p->iter % 100 == 0 || p->iter == p->iters_per_epoch))
        fprintf(stderr, "epoch %lld/%lld  iter %lld/%lld  loss %.4f  lr %.3e  %.0f img/s  eta %.0f s\n",
                (long long)p->epoch, (long long)p->max_epochs, (long long)p->iter, (long long)p->iters_per_epoch,
                p->loss, p->lr, p->images_per_s, p->eta_s);
    return 0;
}

int main(int argc, char **argv)
{
    example_args args = {8, -1, -1, 0, 0, 0.001, NULL, NULL, 0};
    if (example_parse(argc, argv, &args, "[--epochs N] [--train N] [--test N] [--threads N] [--seed N] "
                                         "[--work-dir DIR] [--quiet]") != 0)
        return 2;
    const long epochs = args.epochs, train_n = args.train, test_n = args.valid, seed = args.seed;
    const char *work_dir = args.work_dir;
    sscma_context *ctx = NULL;
    CHECK(example_context(&args, &ctx));

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
    progress pr = {args.quiet};
    CHECK(sscma_trainer_set_callback(trainer, on_progress, &pr));
    double t0 = example_now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = example_now() - t0;
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
