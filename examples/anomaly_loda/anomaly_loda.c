/*
 * LODA anomaly detection on accelerometer windows with the public API, then the same detector scored the way a device
 * scores it (loda_score.c, from the arrays `sscma train` writes beside the checkpoint):
 *
 *   /usr/bin/python3 tools/gen_accel.py gestures         # the seeded synthetic gestures (seed 2112)
 *   anomaly_loda --data gestures [--threads N] [--work-dir DIR] [--quiet]
 *
 * The recipe is configs/anomaly/loda_accel_idle.json: 30 x 3 windows every 10 steps at 62.5 Hz, SSCMA's LODA
 * (num_bins 10, num_cuts 100, yield_rate 0.9) fitted by one counting pass over the idle training windows; shake,
 * circle and updown are the anomalies of the testing windows (AnomalyMetric). The last line is a JSON object:
 * {"auc", "threshold", "tpr", "fpr"} from the library's evaluation, and "device_tpr", "device_fpr": the device
 * scorer's decisions (score > threshold_) on the same windows, with "train_windows", "test_windows", "seconds".
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>

#include "../common/example.h"
#include "loda_score.h"

/* loda.json's array `key` of `count` floats into a new buffer (NULL when absent or of another size). */
static float *read_floats(json_t *doc, const char *key, size_t count)
{
    json_t *a = json_object_get(doc, key);
    if (json_array_size(a) != count)
        return NULL;
    float *v = malloc(count * sizeof *v);
    for (size_t i = 0; v != NULL && i < count; i++)
        v[i] = (float)json_number_value(json_array_get(a, i));
    return v;
}

int main(int argc, char **argv)
{
    example_args args = {1, -1, -1, 0, 2112, 0.0, NULL, NULL, 0};
    if (example_parse(argc, argv, &args, "--data DIR [--threads N] [--work-dir DIR] [--quiet]") != 0)
        return 2;
    if (args.data == NULL) {
        fprintf(stderr, "anomaly_loda: --data DIR (an Edge Impulse export: tools/gen_accel.py DIR makes one)\n");
        return 2;
    }
    const char *work_dir = example_work_dir(&args, "anomaly_loda");
    const double t0 = example_now();
    sscma_context *ctx = NULL;
    sscma_config *cfg = NULL;
    sscma_runner *runner = NULL;
    sscma_trainer *trainer = NULL;
    char assignment[4200];
    CHECK(example_context(&args, &ctx));
    CHECK(sscma_config_load(LODA_CONFIG, &cfg));
    json_t *value = json_string(args.data);
    char *quoted = json_dumps(value, JSON_ENCODE_ANY);
    snprintf(assignment, sizeof assignment, "data_root=%s", quoted);
    free(quoted);
    CHECK(sscma_config_set(cfg, assignment));
    json_string_set(value, work_dir);
    quoted = json_dumps(value, JSON_ENCODE_ANY);
    snprintf(assignment, sizeof assignment, "work_dir=%s", quoted);
    free(quoted);
    json_decref(value);
    CHECK(sscma_config_set(cfg, assignment));
    CHECK(sscma_config_resolve(cfg));
    CHECK(sscma_runner_create(ctx, cfg, &runner)); /* model type LODA: no graph model */
    CHECK(sscma_runner_trainer(runner, &trainer));
    CHECK(sscma_trainer_train(trainer)); /* the counting pass; loda.json and loda_model.c in the work dir */
    snprintf(assignment, sizeof assignment, "%s/last.ckpt", work_dir);
    CHECK(sscma_trainer_save(trainer, assignment));
    int64_t epochs = 0, train_windows = 0;
    sscma_trainer_position(trainer, &epochs, &train_windows);
    const sscma_metric *metric = NULL;
    double auc = 0, threshold = 0, tpr = 0, fpr = 0;
    CHECK(sscma_runner_evaluate(runner, "test", &metric));
    CHECK(sscma_metric_get(metric, "auc", &auc));
    CHECK(sscma_metric_get(metric, "threshold", &threshold));
    CHECK(sscma_metric_get(metric, "tpr", &tpr));
    CHECK(sscma_metric_get(metric, "fpr", &fpr));

    /* the device's view: the exported arrays and the 20-line scorer */
    snprintf(assignment, sizeof assignment, "%s/loda.json", work_dir);
    json_error_t err;
    json_t *doc = json_load_file(assignment, 0, &err);
    if (doc == NULL) {
        fprintf(stderr, "anomaly_loda: %s: %s\n", assignment, err.text);
        return 1;
    }
    loda_model m = {(int)json_integer_value(json_object_get(doc, "num_bins")),
                    (int)json_integer_value(json_object_get(doc, "num_cuts")),
                    (int)json_integer_value(json_object_get(doc, "dim")),
                    (float)json_number_value(json_object_get(doc, "threshold")), NULL, NULL, NULL, NULL};
    float *proj = read_floats(doc, "projections", (size_t)m.num_cuts * (size_t)m.dim),
          *lo = read_floats(doc, "lo", (size_t)m.num_cuts), *width = read_floats(doc, "width", (size_t)m.num_cuts),
          *nld = read_floats(doc, "neg_log_density", (size_t)m.num_cuts * (size_t)m.num_bins);
    json_decref(doc);
    if (proj == NULL || lo == NULL || width == NULL || nld == NULL) {
        fprintf(stderr, "anomaly_loda: %s: an array is missing or of the wrong size\n", assignment);
        return 1;
    }
    m.projections = proj, m.lo = lo, m.width = width, m.neg_log_density = nld;
    sscma_dataset *test = NULL;
    int64_t n = 0, flagged[2] = {0, 0}, counts[2] = {0, 0};
    CHECK(sscma_runner_dataset(runner, "test", &test));
    CHECK(sscma_dataset_size(test, &n));
    for (int64_t i = 0; i < n; i++) {
        sscma_sample *s = NULL;
        sscma_tensor *window = NULL;
        void *x = NULL;
        int32_t label = -1;
        const char *name = NULL;
        CHECK(sscma_dataset_get(test, i, &s));
        CHECK(sscma_sample_image(s, &window));
        CHECK(sscma_tensor_data(window, &x));
        CHECK(sscma_sample_label(s, &label));
        CHECK(sscma_dataset_class_name(test, label, &name));
        const int abnormal = strcmp(name, "idle") != 0;
        counts[abnormal]++;
        flagged[abnormal] += loda_score(&m, x) > m.threshold;
        sscma_sample_destroy(s);
    }
    free(proj), free(lo), free(width), free(nld);
    printf("{\"auc\": %.6f, \"threshold\": %.6f, \"tpr\": %.6f, \"fpr\": %.6f, \"device_tpr\": %.6f, "
           "\"device_fpr\": %.6f, \"train_windows\": %lld, \"test_windows\": %lld, \"seconds\": %.2f}\n",
           auc, threshold, tpr, fpr, counts[1] ? (double)flagged[1] / (double)counts[1] : 0.0,
           counts[0] ? (double)flagged[0] / (double)counts[0] : 0.0, (long long)train_windows, (long long)n,
           example_now() - t0);
    sscma_runner_destroy(runner);
    sscma_config_destroy(cfg);
    sscma_context_destroy(ctx);
    return 0;
}
