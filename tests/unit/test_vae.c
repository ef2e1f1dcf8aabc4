/*
 * SSCMA's anomaly VAE (Vae_Model, lib/zoo/vae.c) past its PyTorch golden test (test_zoo): training on its own loss,
 * lowering to the deployable model (eps = 0, the reconstructions only; SSCMA's rearrangements as slices and
 * concatenations), int8 PTQ, TFLite read-back, the anomaly score and MseMetric.
 *
 * The data are synthetic windows' images of the model's input shape [N, 32, 32, 6] (x then c): smooth sine patterns
 * whose frequency and phase vary per sample ("normal"), or with a different structure ("abnormal": noise-like high
 * frequencies), until SensorDataset's CWT/MTF features feed it.
 *
 * Usage: test_vae [case]; test_vae --accel CONFIG DIR HELD EPOCHS: the end to end run of the vae-accel integration test
 * (below); test_vae [--write] DIR [N] (DIR absolute without --write): writes the float and int8 TFLite / ONNX files and N inputs with
 * libsscma's outputs for tests/export/check_vae.py (the export suite's vae-runtimes test).
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "harness.h"
#include "minmax_observer.h"
#include "quant/qmodel.h"
#include "quant/postprocess.h"

#define S 32
#define C 3
#define SAMPLE (S * S * 2 * C)

static const char *const vae_cfg =
    "{\"type\": \"Vae_Model\", \"encode\": {\"type\": \"Vae_Encode\", \"x_size\": 32, \"in_channel\": 3, "
    "\"out_channel\": 8, \"conv\": \"Conv_block2D\"}, \"decode\": {\"type\": \"Vae_Decode\", \"x_size\": 32, "
    "\"out_channel\": 8, \"in_channel\": 3, \"conv\": \"Conv_block2D\"}, \"loss\": {\"type\": \"MSELoss\"}}";

/* Sample i's image [32, 32, 6]: normal = smooth sines (x: rows, c: columns); abnormal = a checkerboard-like high
 * frequency on both. */
static void make_sample(int i, bool abnormal, float *out)
{
    const double f = 1.0 + 0.5 * (i % 5), ph = 0.37 * i;
    for (int h = 0; h < S; h++)
        for (int w = 0; w < S; w++)
            for (int k = 0; k < 2 * C; k++) {
                const double u = h / (double)S, v = w / (double)S;
                double val;
                if (!abnormal)
                    val = k < C ? sin(6.283185307179586 * (f * u + 0.2 * k) + ph) * cos(3.14159 * v)
                                : 0.5 * cos(6.283185307179586 * (f * v + 0.3 * k) + ph);
                else
                    val = 0.8 * sin(2.1 * h * (k + 1) + 1.3 * w + ph) * cos(1.7 * w * (k + 2));
                out[(h * S + w) * 2 * C + k] = (float)val;
            }
}

static void fill_batch(sscma_tensor *t, int first, int n, bool abnormal)
{
    float *d = NULL;
    sscma_tensor_data(t, (void **)&d);
    for (int j = 0; d != NULL && j < n; j++)
        make_sample(first + j, abnormal, d + (size_t)j * SAMPLE);
}

static float output_value(sscma_model *m, const char *name, int64_t k)
{
    sscma_tensor *t = NULL;
    float *d = NULL;
    if (sscma_model_output(m, name, &t) != SSCMA_OK || sscma_tensor_data(t, (void **)&d) != SSCMA_OK || d == NULL)
        return NAN;
    return d[k];
}

/* The trained model shared by the cases (built at first use): 60 Adam steps of batch 8 on normal samples. */
static sscma_context *ctx;
static sscma_model *trained;
static float first_loss, last_loss;

/* The shared context (made at first use, seed 21). */
static sscma_context *context(void)
{
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.seed = 21;
    if (ctx == NULL && sscma_context_create(&o, &ctx) != SSCMA_OK)
        ctx = NULL;
    return ctx;
}

static sscma_model *train_once(void)
{
    if (trained != NULL)
        return trained;
    if (context() == NULL)
        return NULL;
    sscma_model *m = NULL;
    sscma_optimizer *opt = NULL;
    sscma_tensor *image = NULL;
    if (sscma_model_create(ctx, vae_cfg, &m) != SSCMA_OK || sscma_model_prepare(m, 8, 1) != SSCMA_OK ||
        sscma_model_input(m, "image", &image) != SSCMA_OK ||
        sscma_optimizer_create(m, "{\"type\": \"Adam\", \"lr\": 0.003}", &opt) != SSCMA_OK) {
        sscma_model_destroy(m);
        return NULL;
    }
    for (int step = 0; step < 60; step++) {
        fill_batch(image, (step * 8) % 200, 8, false);
        if (sscma_model_zero_grad(m) != SSCMA_OK || sscma_model_forward(m) != SSCMA_OK ||
            sscma_model_backward(m) != SSCMA_OK || sscma_optimizer_step(opt) != SSCMA_OK)
            break;
        const float loss = output_value(m, "loss", 0);
        if (step == 0)
            first_loss = loss;
        last_loss = loss;
    }
    sscma_optimizer_destroy(opt);
    trained = m;
    return m;
}

/* Training on its own loss (reparameterised with the step's seeded eps) brings it well down. */
static void vae_trains_on_its_loss(void)
{
    sscma_model *m = train_once();
    CHECK(m != NULL);
    if (m == NULL)
        return;
    printf("# loss %.4f -> %.4f\n", (double)first_loss, (double)last_loss);
    CHECK(isfinite(first_loss) && isfinite(last_loss));
    CHECK(last_loss < 0.5f * first_loss);
}

/* Evaluation is deterministic (eps = 0): two forwards give the same bits, and z = mu (the decoder reads mu). */
static void vae_evaluation_uses_the_mean(void)
{
    sscma_model *m = train_once();
    sscma_tensor *image = NULL;
    if (m == NULL)
        return;
    CHECK_OK(sscma_model_prepare(m, 2, 0));
    CHECK_OK(sscma_model_input(m, "image", &image));
    fill_batch(image, 300, 2, false);
    CHECK_OK(sscma_model_forward(m));
    const float a = output_value(m, "x_recon", 1234), l1 = output_value(m, "loss", 0);
    CHECK_OK(sscma_model_forward(m));
    CHECK(a == output_value(m, "x_recon", 1234) && l1 == output_value(m, "loss", 0));
}

/*
 * The eval-only output "score" [N]: per sample, MSE(x_recon, x) + MSE(c_recon, c), each a mean over that sample's
 * 32 x 32 x 3 values (sscma_pp_anomaly_score's formula), computed here from the model's own outputs and input.
 */
static void vae_score_output_is_the_anomaly_score(void)
{
    sscma_model *m = train_once();
    sscma_tensor *image = NULL, *score = NULL, *xr = NULL, *cr = NULL;
    if (m == NULL)
        return;
    CHECK_OK(sscma_model_prepare(m, 3, 0));
    CHECK_OK(sscma_model_input(m, "image", &image));
    fill_batch(image, 40, 2, false);
    float *in = NULL, *xv = NULL, *cv = NULL, *sv = NULL;
    sscma_tensor_data(image, (void **)&in);
    make_sample(7, true, in + 2 * SAMPLE);
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_model_output(m, "score", &score));
    CHECK_OK(sscma_model_output(m, "x_recon", &xr));
    CHECK_OK(sscma_model_output(m, "c_recon", &cr));
    int32_t rank = 0;
    int64_t n = 0;
    sscma_tensor_rank(score, &rank);
    sscma_tensor_numel(score, &n);
    CHECK(rank == 1 && n == 3);
    sscma_tensor_data(score, (void **)&sv), sscma_tensor_data(xr, (void **)&xv), sscma_tensor_data(cr, (void **)&cv);
    for (int j = 0; j < 3 && sv != NULL; j++) {
        double sx = 0.0, sc = 0.0;
        for (int p = 0; p < S * S; p++)
            for (int k = 0; k < C; k++) {
                const double dx = xv[(size_t)j * S * S * C + p * C + k] - in[(size_t)j * SAMPLE + p * 2 * C + k];
                const double dc = cv[(size_t)j * S * S * C + p * C + k] - in[(size_t)j * SAMPLE + p * 2 * C + C + k];
                sx += dx * dx, sc += dc * dc;
            }
        const double want = (sx + sc) / (S * S * C);
        printf("# sample %d: score %.6f, here %.6f\n", j, (double)sv[j], want);
        CHECK(fabs(sv[j] - want) <= 1e-5 * want);
    }
    CHECK(sv != NULL && sv[2] > sv[0] && sv[2] > sv[1]); /* the abnormal sample scores higher */
}

/* The float deployable model (lowered: eps = 0, SSCMA's rearrangements as slices and concatenations) against the model in
 * evaluation; the anomaly score of sscma_pp_anomaly_score against the loss's two MSE terms computed here. */
static void vae_lowers_to_the_same_reconstructions(void)
{
    sscma_model *m = train_once();
    if (m == NULL)
        return;
    sscma_qmodel *f = NULL;
    sscma_tensor *image = NULL, *in = NULL, *out = NULL;
    CHECK_OK(sscma_qmodel_from_model(m, &f));
    if (f == NULL)
        return;
    int32_t n_in = 0, n_out = 0;
    CHECK_OK(sscma_qmodel_io_count(f, &n_in, &n_out));
    CHECK_INT_EQ(n_in, 1);
    CHECK_INT_EQ(n_out, 2);
    int kinds[QM_KIND_COUNT] = {0};
    for (int32_t k = 0; k < f->n_ops; k++)
        kinds[f->ops[k].kind]++;
    /* SSCMA's rearrangements as slices and concatenations (3 down: 4 slices + 1 concat; 3 up: 4 slices + 3 concats),
     * the NCHW flatten and view as 4 transposes */
    CHECK_INT_EQ(kinds[QM_SPACE_TO_DEPTH] + kinds[QM_DEPTH_TO_SPACE], 0);
    CHECK_INT_EQ(kinds[QM_TRANSPOSE], 4);
    CHECK_INT_EQ(kinds[QM_SLICE], 2 + 6 * 4);
    CHECK_INT_EQ(kinds[QM_CONCAT], 3 + 3 * 3);
    CHECK_INT_EQ(kinds[QM_FC], 8); /* encode fc1, fc_c1, fc2_mu twice; decode fc1 twice, fc2, fc_c2: no logvar */
    CHECK_OK(sscma_model_prepare(m, 1, 0));
    CHECK_OK(sscma_model_input(m, "image", &image));
    CHECK_OK(sscma_qmodel_prepare(f, 1));
    CHECK_OK(sscma_qmodel_input(f, 0, &in));
    for (int s = 0; s < 3; s++) {
        fill_batch(image, 400 + s, 1, s == 2);
        fill_batch(in, 400 + s, 1, s == 2);
        CHECK_OK(sscma_model_forward(m));
        CHECK_OK(sscma_qmodel_run(f));
        const float *img = NULL, *xr[2] = {NULL, NULL};
        sscma_tensor_data(image, (void **)&img);
        for (int k = 0; k < 2; k++) {
            const char *name = NULL;
            CHECK_OK(sscma_qmodel_output(f, k, &out, &name));
            CHECK_STR_EQ(name, k == 0 ? "x_recon" : "c_recon");
            sscma_tensor_data(out, (void **)&xr[k]);
            double worst = 0.0;
            for (int64_t i = 0; xr[k] != NULL && i < S * S * C; i++)
                worst = fmax(worst, fabs((double)xr[k][i] - output_value(m, name, i)));
            CHECK(worst < 1e-4);
        }
        /* the score: MSE(x_recon, x) + MSE(c_recon, c) from the two outputs and the input */
        double sx = 0.0, sc = 0.0;
        for (int64_t p = 0; p < S * S; p++)
            for (int k = 0; k < C; k++) {
                sx += pow(output_value(m, "x_recon", p * C + k) - img[p * 2 * C + k], 2);
                sc += pow(output_value(m, "c_recon", p * C + k) - img[p * 2 * C + C + k], 2);
            }
        const double score = sscma_pp_anomaly_score(img, xr[0], xr[1], S * S, C);
        CHECK_NEAR(score, (sx + sc) / (S * S * C), 1e-5);
    }
    sscma_qmodel_destroy(f);
}


/* The int8 model: PTQ over 48 normal samples (float model f). NULL on failure. */
static sscma_qmodel *quantize(sscma_qmodel *f)
{
    ranges r = {calloc((size_t)f->n_t, sizeof(double)), calloc((size_t)f->n_t, sizeof(double)),
                calloc((size_t)f->n_t, sizeof(bool))};
    sscma_qmodel *q = NULL;
    sscma_tensor *in = NULL;
    if (r.lo != NULL && r.hi != NULL && r.seen != NULL && sscma_qmodel_prepare(f, 1) == SSCMA_OK &&
        sscma_qmodel_input(f, 0, &in) == SSCMA_OK) {
        for (int s = 0; s < 48; s++) {
            fill_batch(in, 500 + s, 1, false);
            if (sscma_qm_run_f32(&f->plan, observe, &r) != SSCMA_OK)
                break;
        }
        if (sscma_qm_build_int8(f, r.lo, r.hi, r.seen, &q) != SSCMA_OK)
            q = NULL;
    }
    free(r.lo), free(r.hi), free(r.seen);
    return q;
}

/* The int8 reconstructions' scores: one per sample of `n` from `first` (normal or abnormal), dequantized. */
static void int8_scores(sscma_qmodel *q, int first, int n, bool abnormal, double *scores)
{
    sscma_tensor *in = NULL, *fin = NULL, *out[2] = {NULL, NULL};
    float img[SAMPLE];
    int64_t dims[4] = {1, S, S, 2 * C};
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &fin);
    dims[3] = C;
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &out[0]);
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &out[1]);
    sscma_qmodel_prepare(q, 1);
    sscma_qmodel_input(q, 0, &in);
    for (int s = 0; s < n; s++) {
        float *d = NULL, *xr = NULL, *cr = NULL;
        make_sample(first + s, abnormal, img);
        sscma_tensor_data(fin, (void **)&d);
        memcpy(d, img, sizeof img);
        scores[s] = NAN;
        if (sscma_qmodel_set_input(q, 0, fin) != SSCMA_OK || sscma_qmodel_run(q) != SSCMA_OK ||
            sscma_qmodel_get_output(q, 0, out[0]) != SSCMA_OK || sscma_qmodel_get_output(q, 1, out[1]) != SSCMA_OK)
            continue;
        sscma_tensor_data(out[0], (void **)&xr);
        sscma_tensor_data(out[1], (void **)&cr);
        scores[s] = sscma_pp_anomaly_score(img, xr, cr, S * S, C);
    }
    (void)in;
    sscma_tensor_destroy(fin);
    sscma_tensor_destroy(out[0]);
    sscma_tensor_destroy(out[1]);
}

/* Fraction of (abnormal, normal) pairs the scores order correctly (ties count half): the ROC-AUC. */
static double auc(const double *normal, const double *abnormal, int n)
{
    double good = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            good += abnormal[i] > normal[j] ? 1.0 : abnormal[i] == normal[j] ? 0.5 : 0.0;
    return good / ((double)n * n);
}

/*
 * int8: the TFLite file read back gives the int8 runtime's outputs bit for bit; the int8 scores separate the
 * abnormal samples from normal ones as the float scores do (AUC within 0.01).
 */
static void vae_int8_scores_match_float(void)
{
    sscma_model *m = train_once();
    if (m == NULL)
        return;
    sscma_qmodel *f = NULL, *q = NULL, *back = NULL;
    CHECK_OK(sscma_qmodel_from_model(m, &f));
    if (f == NULL || (q = quantize(f)) == NULL) {
        test_fail(__FILE__, __LINE__, "no int8 model: %s", sscma_last_error());
        sscma_qmodel_destroy(f);
        return;
    }
    char path[] = "/tmp/sscma_vae_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK_OK(sscma_export_tflite(q, path));
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &back));
    enum { N = 16 };
    double fn[N], fa[N], qn[N], qa[N], bn[N], ba[N];
    int8_scores(f, 700, N, false, fn);
    int8_scores(f, 700, N, true, fa);
    int8_scores(q, 700, N, false, qn);
    int8_scores(q, 700, N, true, qa);
    if (back != NULL) {
        int8_scores(back, 700, N, false, bn);
        int8_scores(back, 700, N, true, ba);
        for (int s = 0; s < N; s++)
            CHECK(bn[s] == qn[s] && ba[s] == qa[s]);
    }
    const double auc_f = auc(fn, fa, N), auc_q = auc(qn, qa, N);
    printf("# AUC float %.4f, int8 %.4f; score normal %.4f (int8 %.4f), abnormal %.4f (int8 %.4f)\n", auc_f, auc_q,
           fn[0], qn[0], fa[0], qa[0]);
    CHECK(fabs(auc_f - auc_q) <= 0.01);
    CHECK(auc_f >= 0.95);
    remove(path);
    sscma_qmodel_destroy(back);
    sscma_qmodel_destroy(q);
    sscma_qmodel_destroy(f);
}

/*
 * sscma_predict's "anomaly" task (the family's, or told): one result, the score of the two reconstructions against
 * the input halves; class_id 1 above the threshold (options, else the "threshold" metadata), 0 at or below it, -1
 * without one. Wrong input: an error naming the shape.
 */
static void vae_predict_scores_and_decides(void)
{
    sscma_model *m = train_once();
    if (m == NULL)
        return;
    sscma_qmodel *f = NULL, *q = NULL;
    CHECK_OK(sscma_qmodel_from_model(m, &f));
    if (f == NULL || (q = quantize(f)) == NULL) {
        sscma_qmodel_destroy(f);
        test_fail(__FILE__, __LINE__, "no int8 model");
        return;
    }
    const char *task = NULL;
    CHECK_OK(sscma_predict_task(q, NULL, &task));
    CHECK_STR_EQ(task, "anomaly");
    sscma_tensor *sample = NULL, *u8 = NULL;
    const int64_t dims[3] = {S, S, 2 * C};
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, dims, &sample));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 3, dims, &u8));
    double expect[2];
    int8_scores(q, 900, 1, false, &expect[0]);
    int8_scores(q, 900, 1, true, &expect[1]);
    sscma_predict_options o;
    sscma_predict_options_init(&o, sizeof o);
    sscma_prediction r[2];
    int32_t count = 0;
    for (int abnormal = 0; abnormal < 2; abnormal++) {
        fill_batch(sample, 900, 1, abnormal);
        o.score_threshold = -1.0f;
        CHECK_OK(sscma_predict(q, sample, &o, r, 2, &count));
        CHECK_INT_EQ(count, 1);
        CHECK_NEAR(r[0].score, expect[abnormal], 1e-6 * (1.0 + expect[abnormal]));
        CHECK_INT_EQ(r[0].class_id, -1); /* no threshold */
        o.score_threshold = (float)(0.5 * (expect[0] + expect[1]));
        CHECK_OK(sscma_predict(q, sample, &o, r, 2, &count));
        CHECK_INT_EQ(r[0].class_id, abnormal);
    }
    /* the same sample channel-major [6, 32 x 32], as a windows dataset's sample view gives it */
    sscma_tensor *cm = NULL;
    const int64_t cm_dims[2] = {2 * C, S * S};
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, cm_dims, &cm));
    float *src = NULL, *dst = NULL;
    sscma_tensor_data(sample, (void **)&src);
    sscma_tensor_data(cm, (void **)&dst);
    for (int64_t p = 0; src != NULL && dst != NULL && p < S * S; p++)
        for (int k = 0; k < 2 * C; k++)
            dst[k * S * S + p] = src[p * 2 * C + k];
    CHECK_OK(sscma_predict(q, cm, &o, r, 2, &count));
    CHECK_NEAR(r[0].score, expect[1], 1e-6 * (1.0 + expect[1]));
    sscma_tensor_destroy(cm);
    char meta[32];
    snprintf(meta, sizeof meta, "%.6f", 0.5 * (expect[0] + expect[1]));
    CHECK_OK(sscma_qmodel_set_meta(q, "threshold", meta));
    o.score_threshold = -1.0f;
    CHECK_OK(sscma_predict(q, sample, &o, r, 2, &count)); /* the abnormal sample */
    CHECK_INT_EQ(r[0].class_id, 1);
    CHECK_FAILS(sscma_predict(q, u8, NULL, r, 2, &count), SSCMA_ERR_SHAPE,
                "the anomaly model takes its input's values (f32 [32, 32, 6]");
    sscma_tensor_destroy(sample);
    sscma_tensor_destroy(u8);
    sscma_qmodel_destroy(q);
    sscma_qmodel_destroy(f);
}

/* MseMetric: the mean over samples of the batch losses, weighted by each batch's sample count; "mse". */
static void mse_metric_averages_the_loss(void)
{
    sscma_metric *metric = NULL;
    sscma_tensor *loss = NULL, *none = NULL;
    float *d = NULL;
    context();
    CHECK_OK(sscma_metric_create("{\"type\": \"MseMetric\"}", &metric));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 0, NULL, &loss));
    int64_t one = 1;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 1, &one, &none));
    if (metric == NULL || loss == NULL)
        goto done;
    sscma_tensor_data(loss, (void **)&d);
    d[0] = 2.0f;
    CHECK_OK(sscma_metric_update(metric, loss, none, 4));
    d[0] = 5.0f;
    CHECK_OK(sscma_metric_update(metric, loss, none, 2));
    const char *name = NULL;
    double value = 0.0;
    CHECK_OK(sscma_metric_result(metric, 0, &name, &value));
    CHECK_STR_EQ(name, "mse");
    CHECK_NEAR(value, (2.0 * 4 + 5.0 * 2) / 6.0, 1e-12);
    int64_t two = 2;
    sscma_tensor *pair = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 1, &two, &pair));
    CHECK_FAILS(sscma_metric_update(metric, pair, none, 2), SSCMA_ERR_SHAPE,
                "MseMetric expects the model's loss (one f32 value), got 2 values");
    sscma_tensor_destroy(pair);
done:
    sscma_tensor_destroy(loss);
    sscma_tensor_destroy(none);
    sscma_metric_destroy(metric);
}

/*
 * Each lowering of the rearrangements moves the values as the float ops do, bit for bit: SSCMA's order at block 2
 * (slices and concatenations) and 3 (the kinds between H/W transposes), TensorFlow's (the kinds as they are).
 */
static void rearrangements_lower_exactly(void)
{
    static const struct {
        int block;
        const char *order;
    } cases[] = {{2, "sscma"}, {3, "sscma"}, {2, "tflite"}, {3, "tflite"}};
    context();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int b = cases[i].block;
        sscma_model *m = NULL;
        sscma_qmodel *f = NULL;
        const int64_t dims[4] = {1, 2 * b, 3 * b, 2};
        char attrs[64];
        snprintf(attrs, sizeof attrs, "{\"block_size\": %d, \"order\": \"%s\"}", b, cases[i].order);
        CHECK_OK(sscma_model_create_empty(ctx, &m));
        CHECK_OK(sscma_model_add_input(m, "image", SSCMA_DTYPE_F32, 4, dims, 0));
        CHECK_OK(sscma_model_add_layer(m, "down", "space_to_depth", attrs, (const char *[]){"image"}, 1));
        CHECK_OK(sscma_model_add_layer(m, "twice", "add", NULL, (const char *[]){"down", "down"}, 2));
        CHECK_OK(sscma_model_add_layer(m, "up", "depth_to_space", attrs, (const char *[]){"twice"}, 1));
        CHECK_OK(sscma_model_add_output(m, "deep", "twice", 0));
        CHECK_OK(sscma_model_add_output(m, "wide", "up", 0));
        CHECK_OK(sscma_qmodel_from_model(m, &f));
        sscma_tensor *in = NULL, *min = NULL, *out = NULL, *mout = NULL;
        if (f != NULL && sscma_qmodel_prepare(f, 1) == SSCMA_OK && sscma_qmodel_input(f, 0, &in) == SSCMA_OK &&
            sscma_model_prepare(m, 1, 0) == SSCMA_OK && sscma_model_input(m, "image", &min) == SSCMA_OK) {
            float *a = NULL, *c = NULL;
            sscma_tensor_data(in, (void **)&a), sscma_tensor_data(min, (void **)&c);
            for (int k = 0; k < 2 * b * 3 * b * 2; k++)
                a[k] = c[k] = (float)k;
            CHECK_OK(sscma_qmodel_run(f));
            CHECK_OK(sscma_model_forward(m));
            for (int o = 0; o < 2; o++) {
                const char *name = NULL;
                const float *x = NULL, *y = NULL;
                int64_t n = 0;
                CHECK_OK(sscma_qmodel_output(f, o, &out, &name));
                CHECK_OK(sscma_model_output(m, name, &mout));
                sscma_tensor_data(out, (void **)&x), sscma_tensor_data(mout, (void **)&y);
                sscma_tensor_numel(out, &n);
                CHECK(x != NULL && y != NULL && memcmp(x, y, (size_t)n * sizeof *x) == 0);
            }
        } else {
            test_fail(__FILE__, __LINE__, "case %zu: %s", i, sscma_last_error());
        }
        sscma_qmodel_destroy(f);
        sscma_model_destroy(m);
    }
}

/* The export suite's files: float and int8 TFLite / ONNX, N inputs (normal, then abnormal) and our outputs. */
static int write_files(const char *dir, int n)
{
    sscma_model *m = train_once();
    sscma_qmodel *f = NULL, *q = NULL;
    if (m == NULL || sscma_qmodel_from_model(m, &f) != SSCMA_OK || (q = quantize(f)) == NULL) {
        fprintf(stderr, "test_vae: %s\n", sscma_last_error());
        return 1;
    }
    char path[1200];
    static const char *const forms[4] = {"vae_f32.tflite", "vae_int8.tflite", "vae_f32.onnx", "vae_int8.onnx"};
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, forms[k]);
        sscma_status st = k < 2 ? sscma_export_tflite(k ? q : f, path) : sscma_export_onnx(k == 3 ? q : f, path);
        if (st != SSCMA_OK) {
            fprintf(stderr, "test_vae: %s: %s\n", forms[k], sscma_last_error());
            return 1;
        }
    }
    /* inputs as float (f32 model) and as the int8 model quantizes them; outputs of both runtimes */
    for (int form = 0; form < 2; form++) {
        sscma_qmodel *qm = form ? q : f;
        sscma_tensor *in = NULL, *out = NULL;
        sscma_qmodel_prepare(qm, 1);
        sscma_qmodel_input(qm, 0, &in);
        snprintf(path, sizeof path, "%s/vae_%s_io.bin", dir, form ? "int8" : "f32");
        FILE *io = fopen(path, "wb");
        if (io == NULL)
            return 1;
        float img[SAMPLE];
        for (int s = 0; s < n; s++) {
            void *d = NULL;
            size_t bytes = 0;
            make_sample(800 + s, s >= n / 2, img);
            if (form == 0) {
                sscma_tensor_data(in, &d);
                memcpy(d, img, sizeof img);
            } else {
                const qm_tensor *t = &q->t[q->inputs[0]];
                int8_t *x = NULL;
                sscma_tensor_data(in, (void **)&x);
                for (int i = 0; i < SAMPLE; i++) {
                    long v = lrintf(img[i] / t->scale[0]) + t->zero_point[0];
                    x[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
                }
            }
            sscma_tensor_data(in, &d);
            sscma_tensor_size_bytes(in, &bytes);
            fwrite(d, 1, bytes, io);
            if (sscma_qmodel_run(qm) != SSCMA_OK)
                return 1;
            for (int k = 0; k < 2; k++) {
                sscma_qmodel_output(qm, k, &out, NULL);
                sscma_tensor_data(out, &d);
                sscma_tensor_size_bytes(out, &bytes);
                fwrite(d, 1, bytes, io);
            }
        }
        fclose(io);
    }
    snprintf(path, sizeof path, "%s/vae_manifest.json", dir);
    FILE *man = fopen(path, "w");
    if (man == NULL)
        return 1;
    const qm_tensor *t = &q->t[q->inputs[0]];
    fprintf(man, "{\"samples\": %d, \"abnormal_from\": %d, \"input_scale\": %.9g, \"input_zero_point\": %d", n,
            n / 2, (double)t->scale[0], (int)t->zero_point[0]);
    for (int k = 0; k < 2; k++) {
        const qm_tensor *o = &q->t[q->outputs[k]];
        fprintf(man, ", \"output%d_scale\": %.9g, \"output%d_zero_point\": %d", k, (double)o->scale[0], k,
                (int)o->zero_point[0]);
    }
    fprintf(man, "}\n");
    fclose(man);
    sscma_qmodel_destroy(q);
    sscma_qmodel_destroy(f);
    return 0;
}

/*
 * --accel CONFIG DIR HELD EPOCHS: the recipe (configs/anomaly/vae_accel_heldout.json) trained through the runner on
 * tools/gen_accel.py's set in DIR with gesture HELD as the abnormal class, for EPOCHS epochs; the float ROC-AUC is
 * the runner's AnomalyMetric on the validation split (the "score" output). The int8 model (PTQ on the runner's
 * "calib" loader, as sscma export: an anomaly VAE's training windows, all normal) gets its "threshold" metadata
 * from sscma_runner_set_meta; its ROC-AUC is computed here, from sscma_predict's anomaly scores of every validation
 * window, with the pair count above. Asserted: the "calib" split is the training split and holds no window of HELD
 * (the validation split does), float AUC >= MIN_AUC, |int8 - float| <= MAX_GAP, each decision = (score > threshold), the threshold leaving at most
 * ~5% (val_evaluator's fpr) of the normal windows above it.
 */
static int accel_end_to_end(const char *config, const char *dir, const char *held, const char *epochs, double min_auc,
                            double max_gap)
{
    sscma_config *cfg = NULL;
    sscma_context *c = NULL;
    sscma_runner *runner = NULL;
    sscma_trainer *trainer = NULL;
    sscma_model *model = NULL;
    sscma_loader *calib = NULL;
    sscma_dataset *ds = NULL;
    sscma_qmodel *q = NULL;
    const sscma_metric *metric = NULL;
    char set[600];
    int failures = 0;
    double float_auc = NAN;
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.seed = 2112;
    int ok = sscma_context_create(&o, &c) == SSCMA_OK && sscma_config_load(config, &cfg) == SSCMA_OK;
    snprintf(set, sizeof set, "data_root=%s", dir);
    ok = ok && sscma_config_set(cfg, set) == SSCMA_OK;
    snprintf(set, sizeof set, "abnormal_classes=[\"%s\"]", held);
    ok = ok && sscma_config_set(cfg, set) == SSCMA_OK;
    snprintf(set, sizeof set, "epochs=%s", epochs);
    ok = ok && sscma_config_set(cfg, set) == SSCMA_OK && sscma_config_resolve(cfg) == SSCMA_OK &&
         sscma_runner_create(c, cfg, &runner) == SSCMA_OK && sscma_runner_trainer(runner, &trainer) == SSCMA_OK &&
         sscma_trainer_train(trainer) == SSCMA_OK && sscma_runner_evaluate(runner, "val", &metric) == SSCMA_OK &&
         sscma_metric_get(metric, "auc", &float_auc) == SSCMA_OK;
    sscma_quant_options qo;
    sscma_quant_options_init(&qo, sizeof qo);
    ok = ok && sscma_runner_model(runner, &model) == SSCMA_OK && sscma_runner_loader(runner, "calib", &calib) == SSCMA_OK &&
         sscma_quantize(model, calib, &qo, &q) == SSCMA_OK && sscma_runner_set_meta(runner, q) == SSCMA_OK &&
         sscma_runner_dataset(runner, "val", &ds) == SSCMA_OK;
    const char *meta = NULL;
    double threshold = NAN;
    if (ok && sscma_qmodel_meta(q, "threshold", &meta) == SSCMA_OK)
        threshold = strtod(meta, NULL);
    if (!ok || !(threshold > 0.0)) {
        fprintf(stderr, "# %s\n", sscma_last_error());
        failures++;
    }
    /* the calibration windows: the training split's, none of the held-out gesture (the val split has 1 in 4) */
    sscma_dataset *cal = NULL, *train = NULL;
    int64_t n_cal = 0, cal_held = 0;
    if (ok && (sscma_runner_dataset(runner, "calib", &cal) != SSCMA_OK ||
               sscma_runner_dataset(runner, "train", &train) != SSCMA_OK || cal != train || cal == ds)) {
        fprintf(stderr, "# the calib split is not the training split: %s\n", sscma_last_error());
        failures++;
    }
    if (cal != NULL)
        sscma_dataset_size(cal, &n_cal);
    for (int64_t i = 0; i < n_cal; i++) {
        sscma_sample *sample = NULL;
        int32_t label = -1;
        const char *name = NULL;
        if (sscma_dataset_get(cal, i, &sample) == SSCMA_OK && sscma_sample_label(sample, &label) == SSCMA_OK &&
            sscma_dataset_class_name(cal, label, &name) == SSCMA_OK)
            cal_held += strcmp(name, held) == 0;
        else
            cal_held = n_cal + 1;
        sscma_sample_destroy(sample);
    }
    if (n_cal == 0 || cal_held != 0) {
        fprintf(stderr, "# %lld of the %lld calibration windows are of %s\n", (long long)cal_held, (long long)n_cal,
                held);
        failures++;
    }
    int64_t n = 0, n_abnormal = 0, n_normal = 0, normal_above = 0;
    sscma_dataset_size(ds, &n);
    double *score = calloc((size_t)(n > 0 ? n : 1), sizeof *score);
    bool *abnormal = calloc((size_t)(n > 0 ? n : 1), sizeof *abnormal);
    sscma_predict_options po;
    sscma_predict_options_init(&po, sizeof po);
    po.task = "anomaly";
    for (int64_t i = 0; ok && failures == 0 && i < n; i++) {
        sscma_sample *sample = NULL;
        sscma_tensor *window = NULL;
        sscma_prediction p;
        int32_t got = 0, label = -1;
        const char *name = NULL;
        if (sscma_dataset_get(ds, i, &sample) != SSCMA_OK || sscma_sample_image(sample, &window) != SSCMA_OK ||
            sscma_predict(q, window, &po, &p, 1, &got) != SSCMA_OK || got != 1 ||
            sscma_sample_label(sample, &label) != SSCMA_OK || sscma_dataset_class_name(ds, label, &name) != SSCMA_OK) {
            fprintf(stderr, "# window %lld: %s\n", (long long)i, sscma_last_error());
            failures++;
        } else {
            score[i] = p.score, abnormal[i] = strcmp(name, held) == 0;
            n_abnormal += abnormal[i], n_normal += !abnormal[i];
            normal_above += !abnormal[i] && p.score > threshold;
            if (p.class_id != (p.score > threshold ? 1 : 0)) {
                fprintf(stderr, "# window %lld: score %g, threshold %g, class_id %d\n", (long long)i, (double)p.score,
                        threshold, (int)p.class_id);
                failures++;
            }
        }
        sscma_sample_destroy(sample);
    }
    double good = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            if (abnormal[i] && !abnormal[j])
                good += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
    const double int8_auc = n_abnormal > 0 && n_normal > 0 ? good / ((double)n_abnormal * (double)n_normal) : NAN;
    printf("# %s held out, %s epochs: %lld validation windows (%lld abnormal); ROC-AUC float %.4f, int8 %.4f (gap "
           "%.4f); threshold %.6g: %lld normal windows above it\n", held, epochs, (long long)n, (long long)n_abnormal,
           float_auc, int8_auc, fabs(int8_auc - float_auc), threshold, (long long)normal_above);
    if (!(float_auc >= min_auc)) {
        fprintf(stderr, "# float ROC-AUC %.4f < %.2f\n", float_auc, min_auc);
        failures++;
    }
    if (!(fabs(int8_auc - float_auc) <= max_gap)) {
        fprintf(stderr, "# int8 ROC-AUC %.4f is %.4f from the float one (> %.3f)\n", int8_auc, fabs(int8_auc - float_auc),
                max_gap);
        failures++;
    }
    if (!(normal_above <= n_normal * 0.05 + 1)) {
        fprintf(stderr, "# %lld of %lld normal windows above the threshold\n", (long long)normal_above, (long long)n_normal);
        failures++;
    }
    free(score), free(abnormal);
    sscma_qmodel_destroy(q);
    sscma_runner_destroy(runner);
    sscma_config_destroy(cfg);
    sscma_context_destroy(c);
    printf("%s 1 - Vae_Model end to end on %s held out\n", failures ? "not ok" : "ok", held);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc >= 6 && strcmp(argv[1], "--accel") == 0) {
        printf("1..1\n");
        return accel_end_to_end(argv[2], argv[3], argv[4], argv[5], argc > 6 ? atof(argv[6]) : 0.9,
                                argc > 7 ? atof(argv[7]) : 0.01);
    }
    if (argc >= 3 && strcmp(argv[1], "--write") == 0) {
        rc = write_files(argv[2], argc > 3 ? atoi(argv[3]) : 16);
    } else if (argc >= 2 && argv[1][0] == '/') { /* tests/export/run-checks.sh's form: DIR [N] */
        rc = write_files(argv[1], argc > 2 ? atoi(argv[2]) : 16);
    } else {
        static const test_case cases[] = {
            TEST_CASE(vae_trains_on_its_loss),
            TEST_CASE(vae_evaluation_uses_the_mean),
            TEST_CASE(vae_score_output_is_the_anomaly_score),
            TEST_CASE(vae_lowers_to_the_same_reconstructions),
            TEST_CASE(rearrangements_lower_exactly),
            TEST_CASE(vae_int8_scores_match_float),
            TEST_CASE(vae_predict_scores_and_decides),
            TEST_CASE(mse_metric_averages_the_loss),
        };
        rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    }
    sscma_model_destroy(trained);
    sscma_context_destroy(ctx);
    return rc;
}
