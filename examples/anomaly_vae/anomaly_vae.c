/*
 * SSCMA's anomaly VAE (Vae_Model, configs/anomaly/vae_mirophone.json) with the public API only: trained on the
 * normal recordings of an Edge Impulse export, turned into SSCMA's accelerometer images by SensorDataset's CwtMtf
 * features (x = CWT, c = MTF, [32, 32, 6] per window; vae_accel_heldout.json's statistics), Adam lr 1e-3 weight decay
 * 5e-4 with a cosine decay to 1e-5 (SSCMA's recipe: 1e-4 over 100 epochs of batch 1); then int8 post-training quantization, the int8 TFLite file, and sscma_predict's "anomaly"
 * task on every testing window: the score MSE(x_recon, x) + MSE(c_recon, c), the decision against a threshold
 * set at the 95th percentile of the training windows' scores, and the ROC-AUC separating the held-out gesture.
 *
 *   /usr/bin/python3 tools/gen_accel.py gestures                        # the seeded synthetic gestures
 *   sscma dataset compose ... (training split without the held-out gesture: docs/models.md, "Vae_Model")
 *   anomaly_vae --data normal --test-data gestures --anomaly updown [--epochs N] [--threads N] [--seed N]
 *               [--work-dir DIR] [--quiet]
 *
 * The last line is a JSON object: {"auc": ..., "auc_int8": ..., "threshold": ..., "recall_abnormal": ...,
 * "false_alarms": ..., "epochs": ..., "seconds": ...}.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>

#include "../common/example.h"

/* configs/anomaly/vae_accel_heldout.json's features: the raw values standardised with mean 3.23 and std 1.8 (a
 * third of tools/gen_accel.py's pooled std, 5.40 m/s^2), so that the CWT images x (about +-21) outweigh the MTFs c
 * ([0, 1]) in the loss and the score (docs/models.md, "Vae_Model") */
#define FEATURES "\"features\": {\"type\": \"CwtMtf\", \"mean\": 3.23, \"std\": 1.8}"

static int on_progress(const sscma_train_progress *p, void *user)
{
    const int *quiet = user;
    if (!*quiet && p->iter == p->iters_per_epoch)
        fprintf(stderr, "epoch %lld/%lld  loss %.4f\n", (long long)p->epoch, (long long)p->max_epochs, p->loss);
    return 0;
}

/* The ROC-AUC: the fraction of (abnormal, normal) pairs whose scores are in order, ties counting half. */
static double roc_auc(const double *score, const int *abnormal, int64_t n)
{
    double good = 0.0, pairs = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            if (abnormal[i] && !abnormal[j]) {
                good += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
                pairs += 1.0;
            }
    return pairs > 0 ? good / pairs : NAN;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*
 * Scores every window of `loader` (batch 1) with sscma_predict's "anomaly" task on q: score[i], decision[i], and
 * abnormal[i] (its class is `anomaly`, index held_out). Returns the window count, -1 on failure.
 */
static int64_t score_windows(sscma_context *ctx, sscma_qmodel *q, sscma_loader *loader, int32_t held_out,
                             double *score, int *decision, int *abnormal, int64_t capacity)
{
    int64_t dims[4], n = 0, one = 1, count = 0;
    sscma_tensor *batch = NULL, *label = NULL, *sample = NULL;
    if (sscma_loader_batch_shape(loader, dims) != SSCMA_OK ||
        sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &batch) != SSCMA_OK ||
        sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, &one, &label) != SSCMA_OK ||
        sscma_loader_start_epoch(loader, 0) != SSCMA_OK)
        return -1;
    void *data = NULL;
    size_t bytes = 0;
    sscma_tensor_data(batch, &data);
    sscma_tensor_size_bytes(batch, &bytes);
    if (sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 3, dims + 1, data, bytes, &sample) != SSCMA_OK)
        return -1;
    while (n < capacity && sscma_loader_next(loader, batch, label, &count) == SSCMA_OK && count > 0) {
        sscma_prediction r;
        int32_t found = 0, *cls = NULL;
        if (sscma_predict(q, sample, NULL, &r, 1, &found) != SSCMA_OK) {
            fprintf(stderr, "anomaly_vae: %s\n", sscma_last_error());
            n = -1;
            break;
        }
        sscma_tensor_data(label, (void **)&cls);
        score[n] = r.score, decision[n] = r.class_id, abnormal[n] = cls[0] == held_out;
        n++;
    }
    sscma_tensor_destroy(sample);
    sscma_tensor_destroy(batch);
    sscma_tensor_destroy(label);
    return n;
}

int main(int argc, char **argv)
{
    example_args args = {20, -1, -1, 0, 0, 0.001, NULL, NULL, 0};
    const char *test_root = NULL, *anomaly = NULL;
    /* --test and --anomaly are this example's: the shared parser sees the rest */
    char *rest[64];
    int n_rest = 0;
    for (int i = 0; i < argc && n_rest < 64; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--test-data") == 0)
            test_root = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--anomaly") == 0)
            anomaly = argv[++i];
        else
            rest[n_rest++] = argv[i];
    }
    static const char usage[] = "--data DIR --test-data DIR --anomaly CLASS [--epochs N] [--threads N] [--seed N] "
                                "[--work-dir DIR] [--quiet]";
    if (example_parse(n_rest, rest, &args, usage) != 0)
        return 2;
    if (args.data == NULL || test_root == NULL || anomaly == NULL) {
        fprintf(stderr, "anomaly_vae: %s\n", usage);
        return 2;
    }
    const char *work_dir = example_work_dir(&args, "anomaly_vae");
    sscma_context *ctx = NULL;
    CHECK(example_context(&args, &ctx));

    char cfg[4096];
    sscma_dataset *train_ds = NULL, *test_ds = NULL;
    static const char *const split_cfg =
        "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"%s\", \"ann_file\": \"info.labels\","
        " \"window_size\": 62, \"stride\": 20, \"frequency\": 62.5, " FEATURES "}";
    snprintf(cfg, sizeof cfg, split_cfg, args.data, "training");
    CHECK(sscma_dataset_open(ctx, cfg, &train_ds));
    snprintf(cfg, sizeof cfg, split_cfg, test_root, "testing");
    CHECK(sscma_dataset_open(ctx, cfg, &test_ds));
    int32_t classes = 0, held_out = -1;
    CHECK(sscma_dataset_num_classes(test_ds, &classes));
    for (int32_t c = 0; c < classes; c++) {
        const char *name = NULL;
        CHECK(sscma_dataset_class_name(test_ds, c, &name));
        if (strcmp(name, anomaly) == 0)
            held_out = c;
    }
    if (held_out < 0) {
        fprintf(stderr, "anomaly_vae: the testing set has no class '%s'\n", anomaly);
        return 2;
    }

    sscma_loader *train = NULL, *train_eval = NULL, *test = NULL;
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 8, \"shuffle\": true, \"seed\": %ld}", args.seed);
    CHECK(sscma_loader_create(ctx, train_ds, cfg, &train));
    CHECK(sscma_loader_create(ctx, train_ds, "{\"batch_size\": 1}", &train_eval));
    CHECK(sscma_loader_create(ctx, test_ds, "{\"batch_size\": 1}", &test));

    sscma_model *model = NULL;
    CHECK(sscma_model_create(ctx,
                             "{\"type\": \"Vae_Model\", \"encode\": {\"type\": \"Vae_Encode\", \"x_size\": 32,"
                             " \"in_channel\": 3, \"out_channel\": 8, \"conv\": \"Conv_block2D\"}, \"decode\":"
                             " {\"type\": \"Vae_Decode\", \"x_size\": 32, \"out_channel\": 8, \"in_channel\": 3,"
                             " \"conv\": \"Conv_block2D\"}, \"loss\": {\"type\": \"MSELoss\"}}",
                             &model));
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": %ld, \"val_interval\": %ld, \"pred_output\": \"loss\","
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"Adam\", \"lr\": %g, \"weight_decay\": 0.0005}},"
             " \"param_scheduler\": [{\"type\": \"CosineAnnealingLR\", \"eta_min\": 0.00001, \"begin\": 0,"
             " \"end\": %ld}],"
             " \"val_evaluator\": {\"type\": \"MseMetric\"},"
             " \"default_hooks\": {\"checkpoint\": {\"interval\": %ld, \"max_keep_ckpts\": 1}, \"logger\": {\"interval\": 1000}},"
             " \"work_dir\": \"%s\"}",
             args.epochs, args.epochs, args.lr, args.epochs, args.epochs, work_dir);
    sscma_trainer *trainer = NULL;
    CHECK(sscma_trainer_create(model, train, NULL, cfg, &trainer));
    CHECK(sscma_trainer_set_callback(trainer, on_progress, &args.quiet));
    double t0 = example_now();
    CHECK(sscma_trainer_train(trainer));
    double seconds = example_now() - t0;

    /* float and int8 deployable forms; the threshold: the 95th percentile of the training windows' int8 scores */
    sscma_qmodel *f = NULL, *q = NULL;
    CHECK(sscma_qmodel_from_model(model, &f));
    CHECK(sscma_quantize(model, train_eval, NULL, &q));
    int64_t n_train = 0, n_test = 0;
    CHECK(sscma_dataset_size(train_ds, &n_train));
    CHECK(sscma_dataset_size(test_ds, &n_test));
    const int64_t cap = (n_train > n_test ? n_train : n_test) + 1;
    double *score = calloc((size_t)cap, sizeof *score), *score_f = calloc((size_t)cap, sizeof *score_f);
    int *decision = calloc((size_t)cap, sizeof *decision), *abnormal = calloc((size_t)cap, sizeof *abnormal);
    if (score == NULL || score_f == NULL || decision == NULL || abnormal == NULL)
        return 1;
    const int64_t nt = score_windows(ctx, q, train_eval, -1, score, decision, abnormal, cap);
    if (nt <= 0)
        return 1;
    qsort(score, (size_t)nt, sizeof *score, by_value);
    const double threshold = score[(int64_t)(0.95 * (double)(nt - 1))];
    snprintf(cfg, sizeof cfg, "%.9g", threshold);
    CHECK(sscma_qmodel_set_meta(q, "threshold", cfg));
    char path[1024];
    snprintf(path, sizeof path, "%s/anomaly_vae_int8.tflite", work_dir);
    CHECK(sscma_export_tflite(q, path));

    const int64_t nf = score_windows(ctx, f, test, held_out, score_f, decision, abnormal, cap);
    const int64_t n = score_windows(ctx, q, test, held_out, score, decision, abnormal, cap);
    if (n <= 0 || nf != n)
        return 1;
    int64_t hits = 0, alarms = 0, pos = 0;
    for (int64_t i = 0; i < n; i++) {
        pos += abnormal[i];
        hits += abnormal[i] && decision[i] == 1;
        alarms += !abnormal[i] && decision[i] == 1;
    }
    printf("{\"auc\": %.4f, \"auc_int8\": %.4f, \"threshold\": %.6g, \"recall_abnormal\": %.4f, "
           "\"false_alarms\": %.4f, \"int8_file\": \"%s\", \"epochs\": %ld, \"train_windows\": %lld, "
           "\"test_windows\": %lld, \"seconds\": %.1f}\n",
           roc_auc(score_f, abnormal, n), roc_auc(score, abnormal, n), threshold,
           pos ? (double)hits / (double)pos : 0.0, n > pos ? (double)alarms / (double)(n - pos) : 0.0, path,
           args.epochs, (long long)n_train, (long long)n_test, seconds);
    free(score), free(score_f), free(decision), free(abnormal);
    sscma_qmodel_destroy(q);
    sscma_qmodel_destroy(f);
    sscma_trainer_destroy(trainer);
    sscma_model_destroy(model);
    sscma_loader_destroy(train);
    sscma_loader_destroy(train_eval);
    sscma_loader_destroy(test);
    sscma_dataset_destroy(train_ds);
    sscma_dataset_destroy(test_ds);
    sscma_context_destroy(ctx);
    return 0;
}
