/*
 * Trains SSCMA's keyword spotter (Audio_classify: SoundNetRaw + Audio_head on raw 8 kHz clips of 8192 samples) from
 * its recipe with the public API only: the config (configs/audio_classify/espeak_kws_8k_8192.json by default: ten
 * words, "unknown" and "silence", the Speechcommand layout) loaded and pointed at --data, a runner for its loaders
 * and trainer (AdamW, LinearLR warm-up by iteration, MultiStepLR by epoch, label-smoothed cross entropy summed over
 * the batch, as SSCMA's ali_classiyf_small_8k_8192 recipe), then top-1 on the test split, int8 post-training
 * quantization calibrated on the validation clips (percentile observer), the int8 TFLite file verified against the library's int8
 * runtime, and its top-1.
 *
 *   train_kws --data DIR [--config FILE.json] [--epochs N] [--threads N] [--seed N] [--work-dir DIR] [--quiet]
 *
 * DIR holds a Speechcommand layout (one folder of WAV files per word, validation_list.txt, testing_list.txt). The
 * last line is a JSON object: {"top1": ..., "top1_int8": ..., "int8_file": ..., "epochs": ..., "seconds": ...}.
 */
#define _POSIX_C_SOURCE 200809L
#include "../common/example.h"

static int on_progress(const sscma_train_progress *p, void *user)
{
    const int *quiet = user;
    if (!*quiet && p->iter == p->iters_per_epoch)
        fprintf(stderr, "epoch %lld/%lld  loss %.4f  %.0f clips/s\n", (long long)p->epoch, (long long)p->max_epochs,
                p->loss, p->images_per_s);
    return 0;
}

int main(int argc, char **argv)
{
    /* --config is this example's own option: taken out before the shared parser sees the rest */
    const char *config_path = "configs/audio_classify/espeak_kws_8k_8192.json"; /* from the source tree's root */
    char *rest[64];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 64; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[++i];
        else
            rest[n_rest++] = argv[i];
    }
    example_args args = {0, -1, -1, 0, 0, 0.0, NULL, NULL, 0};
    if (example_parse(n_rest, rest, &args, "--data DIR [--config FILE.json] [--epochs N] [--threads N] [--seed N] "
                                           "[--work-dir DIR] [--quiet]") != 0)
        return 2;
    if (args.data == NULL) {
        fprintf(stderr, "train_kws: --data DIR (a Speechcommand layout: a folder of WAV files per word)\n");
        return 2;
    }
    const char *work_dir = example_work_dir(&args, "train_kws");
    sscma_context *ctx = NULL;
    CHECK(example_context(&args, &ctx));

    /* the recipe, pointed at the data and the work dir, as --cfg-options would */
    sscma_config *config = NULL;
    char set[1200];
    CHECK(sscma_config_load(config_path, &config));
    snprintf(set, sizeof set, "data_root=%s", args.data);
    CHECK(sscma_config_set(config, set));
    snprintf(set, sizeof set, "work_dir=%s", work_dir);
    CHECK(sscma_config_set(config, set));
    if (args.epochs > 0) {
        snprintf(set, sizeof set, "epochs=%ld", args.epochs);
        CHECK(sscma_config_set(config, set));
    }
    snprintf(set, sizeof set, "randomness.seed=%ld", args.seed);
    CHECK(sscma_config_set(config, set));
    CHECK(sscma_config_resolve(config));

    sscma_runner *runner = NULL;
    sscma_trainer *trainer = NULL;
    sscma_model *model = NULL;
    sscma_loader *val = NULL, *test = NULL;
    CHECK(sscma_runner_create(ctx, config, &runner));
    CHECK(sscma_runner_trainer(runner, &trainer));
    CHECK(sscma_runner_model(runner, &model));
    CHECK(sscma_runner_loader(runner, "val", &val));
    CHECK(sscma_runner_loader(runner, "test", &test));
    CHECK(sscma_trainer_set_callback(trainer, on_progress, &args.quiet));
    double t0 = example_now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = example_now() - t0;
    const sscma_metric *metric = NULL;
    double top1 = 0.0;
    CHECK(sscma_runner_evaluate(runner, "test", &metric));
    CHECK(sscma_metric_get(metric, "accuracy/top1", &top1));

    /* int8: calibrated on the validation clips (as they are: the training loader's AudioAugs noise would widen the
     * ranges; sscma export calibrates on them too), written as TFLite with the recipe's metadata, verified on the
     * test clips (every int8 value of the file against the library's runtime, and its top-1) */
    /* the percentile observer: a model trained with AudioAugs has rare large activations that min/max ranges spend
     * most of the 256 steps on (docs/models.md: test drop 3.1 points with min/max, 0.5 with the percentile) */
    sscma_qmodel *q = NULL;
    sscma_quant_options qo;
    CHECK(sscma_quant_options_init(&qo, sizeof qo));
    qo.observer = SSCMA_OBSERVER_PERCENTILE;
    CHECK(sscma_quantize(model, val, &qo, &q));
    CHECK(sscma_runner_set_meta(runner, q));
    char path[1024];
    snprintf(path, sizeof path, "%s/kws_int8.tflite", work_dir);
    CHECK(sscma_export_tflite(q, path));
    sscma_verify_report rep;
    memset(&rep, 0, sizeof rep);
    rep.struct_size = sizeof rep;
    CHECK(sscma_export_verify(q, path, test, &rep));
    int64_t epochs = 0;
    CHECK(sscma_trainer_position(trainer, &epochs, NULL));
    printf("{\"top1\": %.2f, \"top1_int8\": %.2f, \"int8_file\": \"%s\", \"file_values_differing\": %lld, "
           "\"epochs\": %lld, \"seconds\": %.1f}\n",
           top1, rep.metric_model, path, (long long)rep.values_differing, (long long)epochs, seconds);
    sscma_qmodel_destroy(q);
    sscma_runner_destroy(runner);
    sscma_config_destroy(config);
    sscma_context_destroy(ctx);
    return 0;
}
