/*
 * Unit tests of SensorDataset's "features" (SSCMA's CWT + MTF accelerometer images, libsscma's per-axis spectra) and
 * of composing a SensorDataset into a new Edge Impulse export. The expected images come from
 * tests/golden/gen_sensor_features.py, which runs the reference libraries upstream calls (PyWavelets, scipy.signal,
 * OpenCV, numpy); the expected spectra from tests/golden/gen_sensor_spectrum.py (numpy.fft.rfft).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

#include "data_fixtures.h"
#include "golden.h"
#include "harness.h"

static golden_file gold, spectra;

/* A CSV of a golden recording: a time column every 16 ms, then x, y, z (float32 values, printed exactly). */
static void write_recording(const char *path, const golden_record *rows)
{
    size_t cap = 64 + (size_t)rows->dims[0] * 64, len = 0;
    char *text = malloc(cap);
    const float *v = rows->data;
    len += (size_t)snprintf(text, cap, "timestamp,accX,accY,accZ\n");
    for (int64_t r = 0; r < rows->dims[0]; r++)
        len += (size_t)snprintf(text + len, cap - len, "%lld,%.9g,%.9g,%.9g\n", (long long)(16 * r),
                                (double)v[3 * r], (double)v[3 * r + 1], (double)v[3 * r + 2]);
    write_text(path, text);
    free(text);
}

/*
 * The loader's single batch [1, 32, 32, 6] of `config` against golden image `name` (NHWC). Tolerances: the CWT
 * channels 2e-5 of the image's RMS: pywt convolves the float32 series in float32 (sums of up to 401 products), which
 * moves its images by 1.75e-6 of their RMS from the float64 series' (sf/cwt_f32_noise, measured by the generator);
 * libsscma sums in double, so 10x that bounds the difference. The MTF channels 1e-6 absolute: both compute the same
 * ratios of transition counts in double and round them to float32 (a symbol falling into another bin would move a
 * value by 1 / 31 or more).
 */
static void check_features(const char *config, const char *name)
{
    const golden_record *ref = golden_find(&gold, name);
    CHECK(ref != NULL && ref->numel == 32 * 32 * 6);
    sscma_dataset *ds = NULL;
    sscma_loader *l = NULL;
    sscma_tensor *images = NULL, *labels = NULL;
    CHECK_OK(sscma_dataset_open(ctx, config, &ds));
    if (ds == NULL || ref == NULL)
        goto done;
    int64_t n = 0, dims[4] = {0};
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 1);
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 1}", &l));
    if (l == NULL)
        goto done;
    CHECK_OK(sscma_loader_batch_shape(l, dims));
    CHECK(dims[0] == 1 && dims[1] == 32 && dims[2] == 32 && dims[3] == 6);
    const int64_t ldims[1] = {1};
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &images));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, ldims, &labels));
    CHECK_OK(sscma_loader_start_epoch(l, 0));
    CHECK_OK(sscma_loader_next(l, images, labels, &n));
    CHECK_INT_EQ(n, 1);
    const float *ours = NULL, *want = ref->data;
    CHECK_OK(sscma_tensor_data(images, (void **)&ours));
    if (ours == NULL)
        goto done;
    double rms = 0.0, worst_x = 0.0, worst_c = 0.0;
    for (int64_t i = 0; i < 32 * 32 * 6; i++)
        rms += i % 6 < 3 ? (double)want[i] * want[i] / (32 * 32 * 3) : 0.0;
    rms = sqrt(rms);
    for (int64_t i = 0; i < 32 * 32 * 6; i++) {
        double d = fabs((double)ours[i] - (double)want[i]);
        if (i % 6 < 3)
            worst_x = fmax(worst_x, d / rms);
        else
            worst_c = fmax(worst_c, d);
    }
    if (!(worst_x <= 2e-5 && worst_c <= 1e-6))
        test_fail(__FILE__, __LINE__, "%s: CWT channels off by %.3g of their RMS (at most 2e-5), MTF channels by %.3g "
                  "(at most 1e-6)", name, worst_x, worst_c);
    CHECK(rms > 0.1); /* a real image */
done:
    sscma_tensor_destroy(images);
    sscma_tensor_destroy(labels);
    sscma_loader_destroy(l);
    sscma_dataset_destroy(ds);
}

/* Each golden recording as one window, standardised with the golden statistics, against upstream's images. */
static void features_match_upstream(void)
{
    const golden_record *stats = golden_find(&gold, "sf/stats");
    CHECK(stats != NULL);
    if (stats == NULL)
        return;
    const float *ms = stats->data;
    for (int k = 0; k < 4; k++) {
        char rows[16], path[200], cfg[800], name[32];
        snprintf(rows, sizeof rows, "sf/rows%d", k == 3 ? 0 : k);
        const golden_record *r = golden_find(&gold, rows);
        CHECK(r != NULL);
        if (r == NULL)
            continue;
        snprintf(path, sizeof path, "%s/rec%d.csv", tmpdir, k);
        write_recording(path, r);
        /* a recording given as ann_file: its windows; window_size its length, so one window */
        snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": %lld, "
                 "\"stride\": %lld, \"features\": {\"type\": \"CwtMtf\", \"mean\": %.9g, \"std\": %.9g%s}}", path,
                 (long long)r->dims[0], (long long)r->dims[0], (double)ms[0], (double)ms[1],
                 k == 3 ? ", \"cwt_precision\": 10" : "");
        snprintf(name, sizeof name, k == 3 ? "sf/feat0_p10" : "sf/feat%d", k);
        check_features(cfg, name);
    }
}

/* Without mean and std the training split's pooled raw values give them: the testing split's copy of recording 0
 * then has the golden images, whose statistics pooled the three training recordings. */
static void statistics_from_the_training_split(void)
{
    char root[160], path[300], cfg[800];
    snprintf(root, sizeof root, "%s/stats", tmpdir);
    const char *dirs[] = {"", "/training", "/testing"};
    make_dirs(root, dirs, 3);
    for (int k = 0; k < 3; k++) {
        char rows[16];
        snprintf(rows, sizeof rows, "sf/rows%d", k);
        snprintf(path, sizeof path, "%s/training/rec%d.csv", root, k);
        write_recording(path, golden_find(&gold, rows));
    }
    snprintf(path, sizeof path, "%s/testing/rec0.csv", root);
    write_recording(path, golden_find(&gold, "sf/rows0"));
    snprintf(path, sizeof path, "%s/info.labels", root);
    write_text(path, "{\"version\": 1, \"files\": ["
               "{\"path\": \"training/rec0.csv\", \"category\": \"training\", \"label\": {\"label\": \"a\"}},"
               "{\"path\": \"training/rec1.csv\", \"category\": \"training\", \"label\": {\"label\": \"b\"}},"
               "{\"path\": \"training/rec2.csv\", \"category\": \"training\", \"label\": {\"label\": \"a\"}},"
               "{\"path\": \"testing/rec0.csv\", \"category\": \"testing\", \"label\": {\"label\": \"a\"}}]}");
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"testing\", "
             "\"window_size\": 62, \"stride\": 62, \"features\": {\"type\": \"CwtMtf\"}}", root);
    check_features(cfg, "sf/feat0");
    /* the training split itself: 62 rows of rec0, 64 of rec1 (2 left: no tail), 80 of rec2 (one tail of 18 rows:
     * 0.8 * 62 >= 19, dropped) */
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"training\", "
             "\"window_size\": 62, \"stride\": 62, \"features\": {\"type\": \"CwtMtf\"}}", root);
    sscma_dataset *ds = NULL;
    int64_t n = 0;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 3);
    sscma_sample *s = NULL;
    sscma_tensor *view = NULL;
    int64_t c = 0, len = 0;
    CHECK_OK(sscma_dataset_get(ds, 0, &s));
    CHECK_OK(sscma_sample_image(s, &view));
    CHECK_OK(sscma_tensor_dim(view, 0, &c));
    CHECK_OK(sscma_tensor_dim(view, 1, &len));
    CHECK(c == 6 && len == 1024); /* a sample is channel-major: 6 images of 32 x 32 */
    sscma_sample_destroy(s);
    sscma_dataset_destroy(ds);
    /* no training split to compute them over */
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"testing\", "
             "\"window_size\": 62, \"features\": {\"type\": \"CwtMtf\", \"stats_prefix\": \"train\"}}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG,
                "SensorDataset: features: no value in the train split to compute the mean and std over: set "
                "features.mean and features.std");
}

static void config_errors(void)
{
    char path[200], cfg[800];
    snprintf(path, sizeof path, "%s/errors.csv", tmpdir);
    write_recording(path, golden_find(&gold, "sf/rows1"));
    static const struct {
        const char *features, *extra, *message;
    } cases[] = {
        {"{\"type\": \"Cwt\"}", "", "SensorDataset: features.type: expected \"CwtMtf\" (SSCMA's CWT + MTF "
                                    "accelerometer images) or \"Spectrum\" (per-axis DFT magnitudes), got \"Cwt\""},
        {"{\"type\": \"Spectrum\", \"size\": 16}", "",
         "SensorDataset: features.size: is not read by type \"Spectrum\" (a key of the other type, \"CwtMtf\")"},
        {"{\"type\": \"Spectrum\", \"mean\": 0, \"std\": 1}", "",
         "SensorDataset: features.mean: is not read by type \"Spectrum\""},
        {"{\"type\": \"CwtMtf\", \"hann\": false}", "",
         "SensorDataset: features.hann: is not read by type \"CwtMtf\" (a key of the other type, \"Spectrum\")"},
        {"{\"type\": \"Spectrum\", \"log\": 1}", "", "SensorDataset: features.log: expected"},
        {"{\"type\": \"Spectrum\", \"window\": \"hann\"}", "", "SensorDataset: features: unknown key 'window'"},
        {"[1]", "", "SensorDataset: features: expected an object such as {\"type\": \"CwtMtf\"}, got [1]"},
        {"{\"type\": \"CwtMtf\", \"mean\": 1}", "", "SensorDataset: features.std: give mean and std together"},
        {"{\"type\": \"CwtMtf\", \"cutoff\": 60000}", "",
         "SensorDataset: features.cutoff: expected 0 < cutoff < sample_rate / 2 (got 60000 Hz at 115200 Hz)"},
        {"{\"type\": \"CwtMtf\", \"scales\": [25, 10]}", "",
         "SensorDataset: features.scales: expected [first, last] with first <= last"},
        {"{\"type\": \"CwtMtf\", \"bins\": 8}", "", "SensorDataset: features: unknown key 'bins'"},
        {"{\"type\": \"CwtMtf\", \"mean\": 0, \"std\": 1}", ", \"flatten\": true",
         "SensorDataset: flatten: is true, but features give size x size x channels images"},
        {"{\"type\": \"CwtMtf\", \"mean\": 0, \"std\": 1}", ", \"mean\": [1]",
         "SensorDataset: mean: is not used with features"},
        {"{\"type\": \"CwtMtf\", \"mean\": 0, \"std\": 1, \"size\": 70}", "",
         "SensorDataset: window_size: is 64, shorter than features.size 70"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sscma_dataset *ds = NULL;
        snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": 64%s, "
                 "\"features\": %s}", path, cases[i].extra, cases[i].features);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, cases[i].message);
        CHECK(ds == NULL);
    }
    /* a CWT that would run for hours is refused before it starts */
    sscma_dataset *ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": 1048576, "
             "\"features\": {\"type\": \"CwtMtf\", \"mean\": 0, \"std\": 1}}", path);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, "SensorDataset: features: the CWT of a window of "
                "1048576 steps at scales 10..25 would take 4.71e+09 multiply-adds per axis (at most 4e9)");
    /* so is a direct DFT that long (not a power of two); a power of two goes through the FFT */
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": 100003, "
             "\"features\": {\"type\": \"Spectrum\"}}", path);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, "SensorDataset: features: the direct DFT of a "
                "window of 100003 steps would take 5e+09 multiply-adds per axis (at most 4e9)");
    CHECK(ds == NULL);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": 131072, "
             "\"features\": {\"type\": \"Spectrum\"}}", path);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_dataset_destroy(ds);
}

/* Window 0 of `config` as a sample (channel-major [3, len]) against golden `name` ([3, len]): numpy computes in
 * float64 and rounds to float32, libsscma the same in double, so they agree to float32 rounding (1e-5 relative,
 * 1e-6 absolute near 0); the loader's batch shape with flatten true and false. */
static void check_spectrum(const char *config, const char *flat_config, const char *name, int64_t len)
{
    const golden_record *ref = golden_find(&spectra, name);
    CHECK(ref != NULL && ref->numel == 3 * len);
    sscma_dataset *ds = NULL, *flat = NULL;
    sscma_sample *s = NULL;
    sscma_tensor *view = NULL;
    sscma_loader *l = NULL;
    CHECK_OK(sscma_dataset_open(ctx, config, &ds));
    if (ds == NULL || ref == NULL)
        return;
    int64_t c = 0, n = 0, dims[4] = {0};
    const float *ours = NULL, *want = ref->data;
    CHECK_OK(sscma_dataset_get(ds, 0, &s));
    CHECK_OK(sscma_sample_image(s, &view));
    CHECK_OK(sscma_tensor_dim(view, 0, &c));
    CHECK_OK(sscma_tensor_dim(view, 1, &n));
    CHECK(c == 3 && n == len);
    CHECK_OK(sscma_tensor_data(view, (void **)&ours));
    double worst = 0.0;
    for (int64_t i = 0; ours != NULL && c == 3 && n == len && i < 3 * len; i++)
        worst = fmax(worst, fabs((double)ours[i] - (double)want[i]) / fmax(1e-1, fabs((double)want[i])));
    if (!(worst <= 1e-5))
        test_fail(__FILE__, __LINE__, "%s: off by %.3g relative (at most 1e-5)", name, worst);
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 1}", &l));
    CHECK_OK(sscma_loader_batch_shape(l, dims));
    CHECK(dims[0] == 1 && dims[1] == 1 && dims[2] == len && dims[3] == 3); /* [N, 1, F, axes] */
    sscma_loader_destroy(l);
    l = NULL;
    CHECK_OK(sscma_dataset_open(ctx, flat_config, &flat));
    CHECK_OK(sscma_loader_create(ctx, flat, "{\"batch_size\": 1}", &l));
    CHECK_OK(sscma_loader_batch_shape(l, dims));
    CHECK(dims[0] == 1 && dims[1] == 1 && dims[2] == 1 && dims[3] == 3 * len); /* [N, 1, 1, axes * F] */
    sscma_loader_destroy(l);
    sscma_sample_destroy(s);
    sscma_dataset_destroy(flat);
    sscma_dataset_destroy(ds);
}

/* Spectrum against numpy.fft.rfft: 62 and 30 steps (the direct DFT), 64 (the radix-2 FFT); every option on (the
 * defaults) and off. */
static void spectrum_matches_numpy(void)
{
    static const int64_t lengths[3] = {62, 64, 30};
    for (int k = 0; k < 3; k++) {
        const int64_t n = lengths[k];
        char rows[32], path[200], cfg[700], flat[700], name[32];
        snprintf(rows, sizeof rows, "ss/rows%lld", (long long)n);
        const golden_record *r = golden_find(&spectra, rows);
        CHECK(r != NULL && r->dims[0] == n);
        if (r == NULL)
            continue;
        snprintf(path, sizeof path, "%s/spec%lld.csv", tmpdir, (long long)n);
        write_recording(path, r);
        static const char *const settings[2] = {"", ", \"log\": false, \"demean\": false, \"hann\": false, "
                                                    "\"moments\": false"};
        for (int bare = 0; bare < 2; bare++) {
#define SPECTRUM_CFG "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": %lld, " \
                     "\"stride\": %lld, \"flatten\": %s, \"features\": {\"type\": \"Spectrum\"%s}}"
            snprintf(cfg, sizeof cfg, SPECTRUM_CFG, path, (long long)n, (long long)n, "false", settings[bare]);
            snprintf(flat, sizeof flat, SPECTRUM_CFG, path, (long long)n, (long long)n, "true", settings[bare]);
#undef SPECTRUM_CFG
            snprintf(name, sizeof name, "ss/%s%lld", bare ? "bare" : "all", (long long)n);
            check_spectrum(cfg, flat, name, n / 2 + 1 + (bare ? 0 : 2));
        }
    }
    /* phase invariance, the point of the option: a periodic window and its cyclic shift have the same magnitudes */
    char path[200], cfg[700], text[4096];
    for (int shift = 0; shift < 2; shift++) {
        size_t len = (size_t)snprintf(text, sizeof text, "t,x\n");
        for (int t = 0; t < 32; t++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%d,%.6f\n", 16 * t,
                                    2.0 * sin(2.0 * 3.14159265358979 * 4.0 * (t + 5 * shift) / 32.0));
        snprintf(path, sizeof path, "%s/shift%d.csv", tmpdir, shift);
        write_text(path, text);
    }
    float spec[2][19];
    for (int shift = 0; shift < 2; shift++) {
        snprintf(path, sizeof path, "%s/shift%d.csv", tmpdir, shift);
        snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": 32, "
                 "\"features\": {\"type\": \"Spectrum\", \"hann\": false, \"log\": false}}", path);
        sscma_dataset *ds = NULL;
        sscma_sample *s = NULL;
        sscma_tensor *view = NULL;
        const float *d = NULL;
        memset(spec[shift], 0, sizeof spec[shift]);
        CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
        CHECK_OK(sscma_dataset_get(ds, 0, &s));
        CHECK_OK(sscma_sample_image(s, &view));
        CHECK_OK(sscma_tensor_data(view, (void **)&d));
        if (d != NULL)
            memcpy(spec[shift], d, sizeof spec[shift]);
        sscma_sample_destroy(s);
        sscma_dataset_destroy(ds);
    }
    CHECK_NEAR(spec[0][4], 32.0, 1e-4); /* amplitude 2 at bin 4: |X_4| = 2 * 32 / 2 */
    for (int k = 0; k < 19; k++)
        CHECK_NEAR(spec[0][k], spec[1][k], 1e-4);
}

/*
 * sscma_predict takes a feature sample ([2, 1024] for one axis, channel-major) for a model whose input is
 * [1, 32, 32, 2]: the model's input holds the loader's NHWC batch exactly, and the scores are the model's own.
 */
static void predict_takes_feature_images(void)
{
    char path[200], cfg[600];
    snprintf(path, sizeof path, "%s/predict.csv", tmpdir);
    char text[2048];
    size_t len = (size_t)snprintf(text, sizeof text, "t,x\n");
    for (int r = 0; r < 64; r++) /* one axis */
        len += (size_t)snprintf(text + len, sizeof text - len, "%d,%.3f\n", 16 * r, 3.0 * sin(0.4 * r) + 0.01 * r);
    write_text(path, text);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"ann_file\": \"%s\", \"window_size\": 64, "
             "\"features\": {\"type\": \"CwtMtf\", \"mean\": 1, \"std\": 4}}", path);
    sscma_dataset *ds = NULL;
    sscma_loader *l = NULL;
    sscma_model *m = NULL;
    sscma_qmodel *q = NULL;
    sscma_sample *s = NULL;
    sscma_tensor *in = NULL, *logits = NULL, *win = NULL, *labels = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_OK(sscma_model_create(ctx, "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32], \"backbone\": "
                                "{\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 2}, "
                                "\"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4}}", &m));
    if (ds == NULL || m == NULL)
        goto done;
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 1}", &l));
    CHECK_OK(sscma_model_prepare(m, 1, 0));
    CHECK_OK(sscma_model_input(m, "image", &in));
    const int64_t ldims[1] = {1};
    int64_t count = 0;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, ldims, &labels));
    CHECK_OK(sscma_loader_start_epoch(l, 0));
    CHECK_OK(sscma_loader_next(l, in, labels, &count));
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_model_output(m, "logits", &logits));
    const float *z = NULL;
    CHECK_OK(sscma_tensor_data(logits, (void **)&z));
    if (z == NULL)
        goto done;
    double p[4], sum = 0.0;
    for (int k = 0; k < 4; k++)
        sum += p[k] = exp((double)z[k] - (double)z[0]);
    CHECK_OK(sscma_qmodel_from_model(m, &q));
    CHECK_OK(sscma_dataset_get(ds, 0, &s));
    CHECK_OK(sscma_sample_image(s, &win));
    sscma_prediction r[8];
    int32_t n = 0;
    CHECK_OK(sscma_predict(q, win, NULL, r, 8, &n));
    CHECK_INT_EQ(n, 4);
    for (int32_t k = 0; k < n && k < 4; k++)
        CHECK_NEAR(r[k].score, p[r[k].class_id] / sum, 1e-5);
    sscma_tensor *qin = NULL;
    const float *a = NULL, *b = NULL;
    CHECK_OK(sscma_qmodel_input(q, 0, &qin));
    CHECK_OK(sscma_tensor_data(qin, (void **)&a));
    CHECK_OK(sscma_tensor_data(in, (void **)&b));
    CHECK(a != NULL && b != NULL && memcmp(a, b, 32 * 32 * 2 * sizeof *a) == 0);
done:
    sscma_tensor_destroy(labels);
    sscma_sample_destroy(s);
    sscma_qmodel_destroy(q);
    sscma_loader_destroy(l);
    sscma_model_destroy(m);
    sscma_dataset_destroy(ds);
}

/* The windows of `ds` (channel-major floats) with their class names, in order. */
static int64_t windows_of(sscma_dataset *ds, float **out, const char ***names)
{
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(ds, &n));
    *out = calloc((size_t)(n > 0 ? n : 1), 3 * 7 * sizeof **out);
    *names = calloc((size_t)(n > 0 ? n : 1), sizeof **names);
    for (int64_t i = 0; i < n; i++) {
        sscma_sample *s = NULL;
        sscma_tensor *view = NULL;
        const float *d = NULL;
        int32_t label = -1;
        CHECK_OK(sscma_dataset_get(ds, i, &s));
        CHECK_OK(sscma_sample_image(s, &view));
        CHECK_OK(sscma_tensor_data(view, (void **)&d));
        CHECK_OK(sscma_sample_label(s, &label));
        if (d != NULL)
            memcpy(*out + i * 21, d, 21 * sizeof **out);
        CHECK_OK(sscma_dataset_class_name(ds, label, &(*names)[i]));
        sscma_sample_destroy(s);
    }
    return n;
}

/*
 * compose -> SensorDataset: every composed recording is one of the source's windows (7 rows of 3 axes, a tail's
 * zero padding included) with its class; the classes drawn are the chosen ones; the same config gives the same
 * files; the image keys are refused; feature images are refused.
 */
static void compose_round_trip(void)
{
    char root[160], out[200], path[300], cfg[900];
    snprintf(root, sizeof root, "%s/compose-src", tmpdir);
    snprintf(out, sizeof out, "%s/composed", tmpdir);
    const char *dirs[] = {"", "/training"};
    make_dirs(root, dirs, 2);
    static const char *const recs[3][2] = {{"up", "0,1,2,3\n"}, {"down", "0,-1,-2,-3\n"}, {"wave", "0,5,0,-5\n"}};
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "{\"version\": 1, \"files\": [");
    for (int k = 0; k < 3; k++) {
        char body[2048];
        size_t b = (size_t)snprintf(body, sizeof body, "t,x,y,z\n");
        for (int r = 0; r < 20; r++) /* 20 rows every 20 ms: (r + k, 2 r, r * r / 10) */
            b += (size_t)snprintf(body + b, sizeof body - b, "%d,%d,%d,%.1f\n", 20 * r, r + k, 2 * r,
                                  r * r / 10.0);
        snprintf(path, sizeof path, "%s/training/%s.csv", root, recs[k][0]);
        write_text(path, body);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s{\"path\": \"training/%s.csv\", \"category\": "
                                "\"training\", \"label\": {\"label\": \"%s\"}}", k ? "," : "", recs[k][0], recs[k][0]);
    }
    snprintf(text + len, sizeof text - len, "]}");
    snprintf(path, sizeof path, "%s/info.labels", root);
    write_text(path, text);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"training\", "
             "\"window_size\": 7, \"stride\": 5}", root);
    sscma_dataset *src = NULL, *back = NULL, *test = NULL;
    float *sw = NULL, *bw = NULL;
    const char **sn = NULL, **bn = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &src));
    if (src == NULL)
        return;
    const int64_t ns = windows_of(src, &sw, &sn);
    CHECK_INT_EQ(ns, 12); /* starts 0, 5, 10, 15 (a tail of 5 rows, 0.8 * 7 < 6: kept) per recording */
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"splits\": {\"train\": 9, \"valid\": 3, \"test\": 1}, "
             "\"classes\": [0, 2], \"seed\": 7}", out);
    CHECK_OK(sscma_compose_detection(src, cfg));
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"training\", "
             "\"window_size\": 7, \"stride\": 7}", out);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &back));
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"testing\", "
             "\"window_size\": 7, \"stride\": 7}", out);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &test));
    int64_t nt = 0;
    CHECK_OK(sscma_dataset_size(test, &nt));
    CHECK_INT_EQ(nt, 4); /* valid + test */
    const int64_t nb = back != NULL ? windows_of(back, &bw, &bn) : 0;
    CHECK_INT_EQ(nb, 9);
    bool drew[3] = {false, false, false};
    for (int64_t i = 0; i < nb; i++) {
        int64_t match = -1;
        for (int64_t j = 0; j < ns && match < 0; j++)
            if (memcmp(bw + i * 21, sw + j * 21, 21 * sizeof *sw) == 0 && strcmp(bn[i], sn[j]) == 0)
                match = j;
        CHECK(match >= 0);
        CHECK(strcmp(bn[i], "down") != 0); /* class 1 not chosen */
        for (int k = 0; k < 3; k++)
            drew[k] |= strcmp(bn[i], recs[k][0]) == 0;
    }
    CHECK(drew[0] && drew[2]);
    /* the same config: the same files */
    size_t size_a = 0, size_b = 0;
    snprintf(path, sizeof path, "%s/training/000004.json", out);
    char *a = read_all(path, &size_a);
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"splits\": {\"train\": 9, \"valid\": 3, \"test\": 1}, "
             "\"classes\": [0, 2], \"seed\": 7}", out);
    CHECK_OK(sscma_compose_detection(src, cfg));
    char *b = read_all(path, &size_b);
    CHECK(a != NULL && b != NULL && size_a == size_b && memcmp(a, b, size_a) == 0);
    CHECK(a != NULL && strstr(a, "\"interval_ms\":20.0,") != NULL); /* the source's interval */
    free(a), free(b);
    /* image keys, classes out of range */
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"image_size\": 96}", out);
    CHECK_FAILS(sscma_compose_detection(src, cfg), SSCMA_ERR_CONFIG, "compose: unknown key 'image_size'");
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"classes\": [3]}", out);
    CHECK_FAILS(sscma_compose_detection(src, cfg), SSCMA_ERR_CONFIG,
                "compose: classes[0]: expected a class index of the source 0..2, got 3");
    sscma_dataset_destroy(src);
    /* features (images or spectra) are not recordings */
    static const char *const featured[2] = {"\"window_size\": 40, \"features\": {\"type\": \"CwtMtf\", \"mean\": 0, "
                                            "\"std\": 1}", "\"window_size\": 7, \"features\": {\"type\": \"Spectrum\"}"};
    for (int k = 0; k < 2; k++) {
        snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": "
                 "\"training\", %s}", root, featured[k]);
        src = NULL;
        CHECK_OK(sscma_dataset_open(ctx, cfg, &src));
        snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\"}", out);
        if (src != NULL)
            CHECK_FAILS(sscma_compose_detection(src, cfg), SSCMA_ERR_UNSUPPORTED,
                        "compose: the source SensorDataset gives feature images");
        sscma_dataset_destroy(src);
    }
    sscma_dataset_destroy(back);
    sscma_dataset_destroy(test);
    free(sw), free(bw), free(sn), free(bn);
}

int main(int argc, char **argv)
{
    if (golden_load(&gold, GOLDEN_DIR "/sensor_features.bin") != 0) {
        fprintf(stderr, "cannot read %s\n", GOLDEN_DIR "/sensor_features.bin");
        return 1;
    }
    static const test_case cases[] = {
        TEST_CASE(features_match_upstream),
        TEST_CASE(statistics_from_the_training_split),
        TEST_CASE(config_errors),
        TEST_CASE(compose_round_trip),
        TEST_CASE(predict_takes_feature_images),
        TEST_CASE(spectrum_matches_numpy),
    };
    if (golden_load(&spectra, GOLDEN_DIR "/sensor_spectrum.bin") != 0) {
        fprintf(stderr, "cannot read %s\n", GOLDEN_DIR "/sensor_spectrum.bin");
        golden_free(&gold);
        return 1;
    }
    int rc = data_test_main(argc, argv, cases, TEST_COUNT(cases));
    golden_free(&gold);
    golden_free(&spectra);
    return rc;
}
