/*
 * Writes the files the export checks (tests/export/check_exports.py) compare against real runtimes: for each family
 * (classifier, FOMO, PFLD; tests/unit/fixture_models.c), a model with non-trivial batch norms, its float and int8
 * (PTQ on Fashion-MNIST) deployable forms exported to TFLite, and N Fashion-MNIST test images with libsscma's
 * outputs on them:
 *   <family>_f32.tflite, <family>_int8.tflite, <family>_f32.onnx, <family>_int8.onnx (QDQ),
 *   <family>_int8_model.h / .c                 the int8 TFLite bytes as a C array
 *   <family>_f32_input.bin / _f32_output.bin   float32, libsscma's float runtime
 *   <family>_int8_input.bin / _int8_output.bin int8, libsscma's int8 runtime
 *   <family>_tflite_int8_output.bin            int8, libsscma's runtime on the model read back from the .tflite
 *   manifest.json                              shapes and quantization parameters
 * A model with several outputs (RTMDet's six) writes, for each input, all its outputs back to back in the model's
 * output order (output 0's bytes, then output 1's, ...), the next input's after them; manifest.json's
 * "output_shape" / "output_quant" describe output 0, its "outputs" list every output in that order ({"name",
 * "shape", "quant"}; one entry for a one-output model).
 * The same for the activations fixture (acts_*), the YOLO decode fixture (fixture_yolo.h: yolo_*) and a MobileNetV3
 * classifier (mbv3_*: SSCMA's mobnetv3_small recipe's model at 64x64, on the images made RGB) and the
 * AccelerometerClassifier (axes_*: AxesNet on windows of a small Edge Impulse export written into OUT_DIR/axes_data)
 * and an RTMDet-nano-like detector (rtmdet_*: CSPNeXt at widen 0.0625, 32x32 RGB, two classes; its six raw outputs
 * cls_0..2, dist_0..2).
 * and Audio_classify (audio_*: SoundNetRaw + Audio_head on clips of 8192 samples written into OUT_DIR/audio_data).
 * The `tiny` set ends with the anomaly VAE (vae_*: Vae_Model on CwtMtf images of windows of OUT_DIR/vae_data; its
 * two outputs x_recon, c_recon; "threshold" metadata).
 * Usage: export_fixture OUT_DIR [N] [tiny]
 * `tiny`: the three families in 24x24 variants of a few ten thousand parameters and no activations fixture (for
 * tests/tflite/onnx2tf/generate.py, whose committed files must stay small), then a Swift-YOLO (YOLODetector, 32x32
 * gray, yolo_*, its box decode in the graph), the AccelerometerClassifier (axes_*), the RTMDet (rtmdet_*), the KWS
 * model (audio_*) and the anomaly VAE (vae_*), for the micro runtime's tests (tests/mcu/).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

#include "fixture_models.h"
#include "fixture_yolo.h"

#define TRY(call)                                                                                              \
    do {                                                                                                       \
        sscma_status st_ = (call);                                                                             \
        if (st_ != SSCMA_OK) {                                                                                 \
            fprintf(stderr, "export_fixture: %s failed: %s\n", #call, sscma_last_error());                    \
            exit(1);                                                                                           \
        }                                                                                                      \
    } while (0)

/* The `tiny` variants: MobileNetV2 cut at its stride-8 stage for the classifier, PFLD with two blocks a layer. */
static const fixture_family tiny_families[3] = {
    {"classifier",
     "{\"type\": \"ImageClassifier\", \"input_size\": [24, 24],"
     " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1, \"out_indices\": [2]},"
     " \"neck\": {\"type\": \"GlobalAveragePooling\"},"
     " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10, \"in_channels\": 16}}",
     24, "logits", 1},
    {"fomo",
     "{\"type\": \"Fomo\", \"input_size\": [24, 24], \"backbone\": {\"type\": \"MobileNetv2\","
     " \"widen_factor\": 0.35, \"out_indices\": [2], \"in_channels\": 1}, \"head\": {\"type\": \"FomoHead\","
     " \"input_channels\": [16], \"num_classes\": 3, \"middle_channel\": 48}}",
     24, "probs", 0},
    {"pfld",
     "{\"type\": \"PFLD\", \"input_size\": [24, 24], \"backbone\": {\"type\": \"PfldMobileNetV2\", \"inchannel\": 1,"
     " \"layer1\": [16, 16], \"layer2\": [32, 32], \"out_channel\": 16},"
     " \"head\": {\"type\": \"PFLDhead\", \"num_point\": 4, \"input_channel\": 16}}",
     24, "keypoints", 0},
};

/* The `tiny` Swift-YOLO: mmyolo's YOLOv5 with ReLU (configs/swift_yolo) at deepen 0.33, widen 0.0625 on 32x32 gray
 * images, two classes; its int8 form ends in the deployment decode (boxes in pixels, sigmoid scores). */
static const fixture_family tiny_yolo = {
    "yolo",
    "{\"type\": \"YOLODetector\", \"input_size\": [32, 32],"
    " \"backbone\": {\"type\": \"YOLOv5CSPDarknet\", \"deepen_factor\": 0.33, \"widen_factor\": 0.0625,"
    " \"input_channels\": 1, \"act_cfg\": {\"type\": \"ReLU\"}},"
    " \"neck\": {\"type\": \"YOLOv5PAFPN\", \"deepen_factor\": 0.33, \"widen_factor\": 0.0625,"
    " \"in_channels\": [256, 512, 1024], \"out_channels\": [256, 512, 1024], \"num_csp_blocks\": 3,"
    " \"act_cfg\": {\"type\": \"ReLU\"}},"
    " \"bbox_head\": {\"type\": \"YOLOv5Head\", \"head_module\": {\"type\": \"YOLOv5HeadModule\","
    " \"num_classes\": 2, \"in_channels\": [256, 512, 1024], \"widen_factor\": 0.0625}}}",
    32, "output", 0};

/* Multiplies parameter `name` by factor, when the model has it. */
static void scale_param(sscma_model *m, const char *name, float factor)
{
    int32_t i;
    sscma_tensor *v;
    float *d;
    int64_t numel = 0;
    if (sscma_model_find_param(m, name, &i) != SSCMA_OK || sscma_model_param(m, i, NULL, NULL, &v, NULL) != SSCMA_OK ||
        sscma_tensor_data(v, (void **)&d) != SSCMA_OK || sscma_tensor_numel(v, &numel) != SSCMA_OK)
        return;
    for (int64_t k = 0; k < numel; k++)
        d[k] *= factor;
}

/* Adds `value` to every element of parameter `name`, when the model has it. */
static void add_param(sscma_model *m, const char *name, float value)
{
    int32_t i;
    sscma_tensor *v;
    float *d;
    int64_t numel = 0;
    if (sscma_model_find_param(m, name, &i) != SSCMA_OK || sscma_model_param(m, i, NULL, NULL, &v, NULL) != SSCMA_OK ||
        sscma_tensor_data(v, (void **)&d) != SSCMA_OK || sscma_tensor_numel(v, &numel) != SSCMA_OK)
        return;
    for (int64_t k = 0; k < numel; k++)
        d[k] += value;
}

/* Multiplies every weight of a convolution or linear layer (not a norm's) under `prefix` by factor. */
static void scale_weights(sscma_model *m, const char *prefix, float factor)
{
    int32_t n = 0;
    sscma_model_param_count(m, &n);
    for (int32_t i = 0; i < n; i++) {
        const char *name;
        uint32_t flags;
        if (sscma_model_param(m, i, &name, &flags, NULL, NULL) != SSCMA_OK || (flags & SSCMA_PARAM_NORM) != 0)
            continue;
        const char *leaf = strrchr(name, '.');
        if (leaf != NULL && strcmp(leaf, ".weight") == 0 && strncmp(name, prefix, strlen(prefix)) == 0)
            scale_param(m, name, factor);
    }
}

/* fixture_quantize for the `tiny` variants: random weights give near-uniform softmax outputs, a few distinct integers
 * that would hide a wrong layer before them, so FOMO's 1x1 prediction conv is scaled by 50 (Swift-YOLO's by 4, its
 * biases zeroed) and the classifier (its fc back to the initializer's scale, undoing fixture_randomize's 30) is
 * briefly trained on the calibration images. */
static sscma_status tiny_quantize(sscma_context *ctx, const fixture_family *fam, int64_t n, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    sscma_status st = sscma_model_create(ctx, fam->config, &out->model);
    if (st != SSCMA_OK)
        return st;
    fixture_randomize(out->model);
    scale_param(out->model, "head.convs_pred.0.weight", 50.0f);
    if (strcmp(fam->name, "classifier") == 0)
        scale_param(out->model, "head.fc.weight", 1.0f / 30.0f);
    /* Swift-YOLO: the initializers' convs (variance 1 / (3 fan_in)) shrink the signal by about 2.5 a layer through
     * ReLU, so that after some 30 layers every image gives the same maps; scaled by sqrt(6) they keep its size */
    if (strcmp(fam->name, "yolo") == 0) {
        scale_weights(out->model, "backbone.", 20.0f);
        scale_weights(out->model, "neck.", 2.449f);
        for (int l = 0; l < 3; l++) {
            /* sigmoid scores spread over (0, 1), the objectness prior bias (about -8: no object) zeroed */
            char name[64];
            snprintf(name, sizeof name, "bbox_head.head_module.convs_pred.%d.weight", l);
            scale_param(out->model, name, 4.0f);
            snprintf(name, sizeof name, "bbox_head.head_module.convs_pred.%d.bias", l);
            scale_param(out->model, name, 0.0f);
        }
    }
    st = fixture_fashion_loader(ctx, fam->size, n, 32, &out->dataset, &out->loader);
    if (st == SSCMA_OK && strcmp(fam->name, "classifier") == 0) {
        /* a few epochs on the calibration images: an untrained net averages its features to nearly the same
         * logits for every image (FOMO and PFLD would need box and keypoint targets Fashion-MNIST lacks) */
        sscma_trainer *trainer = NULL;
        st = sscma_trainer_create(out->model, out->loader, NULL,
                                  "{\"max_epochs\": 8, \"optim_wrapper\": {\"optimizer\": {\"type\": \"AdamW\","
                                  " \"lr\": 0.01}}}",
                                  &trainer);
        if (st == SSCMA_OK)
            st = sscma_trainer_train(trainer);
        sscma_trainer_destroy(trainer);
    }
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

static void write_bin(const char *dir, const char *family, const char *what, const void *data, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s.bin", dir, family, what);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, bytes, f) != bytes || fclose(f) != 0) {
        fprintf(stderr, "export_fixture: cannot write %s\n", path);
        exit(1);
    }
}

static void tensor_bytes(sscma_tensor *t, void **data, size_t *bytes)
{
    TRY(sscma_tensor_data(t, data));
    TRY(sscma_tensor_size_bytes(t, bytes));
}

static void json_shape(FILE *f, sscma_tensor *t)
{
    int32_t rank = 0;
    sscma_tensor_rank(t, &rank);
    fprintf(f, "[");
    for (int32_t i = 0; i < rank; i++) {
        int64_t d = 0;
        sscma_tensor_dim(t, i, &d);
        fprintf(f, i ? ", %lld" : "%lld", (long long)(i == 0 ? 1 : d));
    }
    fprintf(f, "]");
}

static void json_quant(FILE *f, sscma_tensor *t)
{
    int32_t axis = 0;
    int64_t count = 0;
    const float *scales = NULL;
    const int32_t *zps = NULL;
    TRY(sscma_tensor_quant(t, &axis, &count, &scales, &zps));
    fprintf(f, "{\"scale\": %.9g, \"zero_point\": %d}", (double)scales[0], (int)zps[0]);
}

#define MAX_OUTPUTS 8

/* Views of q's outputs at the prepared batch (all of them, in the model's order) and their bytes in all. */
static int32_t output_views(sscma_qmodel *q, sscma_tensor **outs, void **data, size_t *bytes, size_t *total)
{
    int32_t n_in = 0, n_out = 0;
    TRY(sscma_qmodel_io_count(q, &n_in, &n_out));
    if (n_out < 1 || n_out > MAX_OUTPUTS) {
        fprintf(stderr, "export_fixture: a model with %d outputs\n", (int)n_out);
        exit(1);
    }
    *total = 0;
    for (int32_t k = 0; k < n_out; k++) {
        TRY(sscma_qmodel_output(q, k, &outs[k], NULL));
        tensor_bytes(outs[k], &data[k], &bytes[k]);
        *total += bytes[k];
    }
    return n_out;
}

/* Appends every output's bytes, in output order, at `at`. */
static void gather_outputs(int32_t n_out, void *const *data, const size_t *bytes, char *at)
{
    for (int32_t k = 0; k < n_out; k++) {
        memcpy(at, data[k], bytes[k]);
        at += bytes[k];
    }
}

/* Runs q on the float images of `loader` (n samples, batch 1 each), quantizing them when q is int8. */
static void run_samples(sscma_qmodel *q, sscma_loader *loader, int64_t n, const char *dir, const char *family,
                        const char *tag, FILE *manifest, bool last)
{
    TRY(sscma_qmodel_prepare(q, 1));
    sscma_tensor *in, *outs_t[MAX_OUTPUTS], *img = NULL;
    void *out_data[MAX_OUTPUTS];
    size_t out_bytes[MAX_OUTPUTS];
    TRY(sscma_qmodel_input(q, 0, &in));
    int is_int8 = 0;
    TRY(sscma_qmodel_is_int8(q, &is_int8));
    int64_t dims[4];
    TRY(sscma_loader_batch_shape(loader, dims));
    sscma_context *ctx = NULL;
    TRY(sscma_context_create(NULL, &ctx));
    TRY(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &img));
    void *in_d;
    size_t in_b, out_b;
    tensor_bytes(in, &in_d, &in_b);
    const int32_t n_out = output_views(q, outs_t, out_data, out_bytes, &out_b);
    sscma_tensor *out = outs_t[0];
    char *ins = malloc(in_b * (size_t)n), *outs = malloc(out_b * (size_t)n);
    if (ins == NULL || outs == NULL)
        exit(1);
    float scale = 1.0f;
    int32_t zp = 0;
    if (is_int8) {
        int32_t axis;
        int64_t count;
        const float *s;
        const int32_t *z;
        TRY(sscma_tensor_quant(in, &axis, &count, &s, &z));
        scale = s[0], zp = z[0];
    }
    TRY(sscma_loader_start_epoch(loader, 0));
    int64_t done = 0, count = 0;
    while (done < n) {
        TRY(sscma_loader_next(loader, img, NULL, &count));
        if (count == 0)
            break;
        float *px;
        TRY(sscma_tensor_data(img, (void **)&px));
        int64_t per = (int64_t)(in_b / (is_int8 ? 1 : sizeof(float)));
        for (int64_t r = 0; r < count && done < n; r++, done++) {
            if (is_int8) {
                int8_t *qd = in_d;
                for (int64_t i = 0; i < per; i++) {
                    long v = lroundf(px[r * per + i] / scale) + zp;
                    qd[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
                }
            } else {
                memcpy(in_d, px + r * per, in_b);
            }
            TRY(sscma_qmodel_run(q));
            memcpy(ins + (size_t)done * in_b, in_d, in_b);
            gather_outputs(n_out, out_data, out_bytes, outs + (size_t)done * out_b);
        }
    }
    char what[64];
    snprintf(what, sizeof what, "%s_input", tag);
    write_bin(dir, family, what, ins, in_b * (size_t)n);
    snprintf(what, sizeof what, "%s_output", tag);
    write_bin(dir, family, what, outs, out_b * (size_t)n);
    fprintf(manifest, "    \"%s\": {\"input_shape\": ", tag);
    json_shape(manifest, in);
    fprintf(manifest, ", \"output_shape\": ");
    json_shape(manifest, out);
    if (is_int8) {
        fprintf(manifest, ", \"input_quant\": ");
        json_quant(manifest, in);
        fprintf(manifest, ", \"output_quant\": ");
        json_quant(manifest, out);
    }
    fprintf(manifest, ", \"outputs\": [");
    for (int32_t k = 0; k < n_out; k++) {
        const char *name = NULL;
        TRY(sscma_qmodel_output(q, k, &out, &name));
        fprintf(manifest, "%s{\"name\": \"%s\", \"shape\": ", k ? ", " : "", name != NULL ? name : "");
        json_shape(manifest, out);
        if (is_int8) {
            fprintf(manifest, ", \"quant\": ");
            json_quant(manifest, out);
        }
        fprintf(manifest, "}");
    }
    fprintf(manifest, "]}%s\n", last ? "" : ",");
    free(ins);
    free(outs);
    sscma_tensor_destroy(img);
    sscma_context_destroy(ctx);
}

/* Runs the model read back from `path` on the int8 inputs already written, and writes its outputs. */
static void run_readback(sscma_context *ctx, const char *path, const char *dir, const char *family, int64_t n)
{
    sscma_qmodel *q = NULL;
    TRY(sscma_qmodel_load_tflite(ctx, path, &q));
    TRY(sscma_qmodel_prepare(q, 1));
    sscma_tensor *in, *outs_t[MAX_OUTPUTS];
    void *in_d, *out_data[MAX_OUTPUTS];
    size_t in_b, out_b, out_bytes[MAX_OUTPUTS];
    TRY(sscma_qmodel_input(q, 0, &in));
    tensor_bytes(in, &in_d, &in_b);
    const int32_t n_out = output_views(q, outs_t, out_data, out_bytes, &out_b);
    char in_path[1024];
    snprintf(in_path, sizeof in_path, "%s/%s_int8_input.bin", dir, family);
    FILE *f = fopen(in_path, "rb");
    char *outs = malloc(out_b * (size_t)n);
    if (f == NULL || outs == NULL)
        exit(1);
    for (int64_t i = 0; i < n; i++) {
        if (fread(in_d, 1, in_b, f) != in_b)
            exit(1);
        TRY(sscma_qmodel_run(q));
        gather_outputs(n_out, out_data, out_bytes, outs + (size_t)i * out_b);
    }
    fclose(f);
    write_bin(dir, family, "tflite_int8_output", outs, out_b * (size_t)n);
    free(outs);
    sscma_qmodel_destroy(q);
}

/*
 * The YOLO decode fixture (fixture_yolo.h) with its int8 form: PTQ on 64x64 Fashion-MNIST images; the prediction
 * convs' weights scaled by 4 so that the sigmoid outputs spread over (0, 1) instead of sitting near 0.5.
 */
static sscma_status yolo_quantize(sscma_context *ctx, int64_t n, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    sscma_status st = fixture_yolo_model(ctx, &out->model);
    if (st != SSCMA_OK)
        return st;
    for (int l = 0; l < 3; l++) {
        char name[32];
        snprintf(name, sizeof name, "head.%d.weight", l);
        scale_param(out->model, name, 4.0f);
    }
    st = fixture_fashion_loader(ctx, FIXTURE_YOLO_SIZE, n, 32, &out->dataset, &out->loader);
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

/* SSCMA's mobnetv3_small recipe's model (mmcls's MobileNetV3 small, StackedLinearClsHead) on 64x64 RGB images */
#define MBV3_SIZE 64
static const char mbv3_config[] =
    "{\"type\": \"ImageClassifier\", \"input_size\": [64, 64], \"backbone\": {\"type\": \"MobileNetV3\","
    " \"arch\": \"small\"}, \"neck\": {\"type\": \"GlobalAveragePooling\"}, \"head\": {\"type\":"
    " \"StackedLinearClsHead\", \"num_classes\": 10, \"in_channels\": 576, \"mid_channels\": [1280],"
    " \"dropout_rate\": 0.2, \"act_cfg\": {\"type\": \"HSwish\"}}}";

/*
 * The MobileNetV3 classifier with its int8 form: PTQ on Fashion-MNIST images made RGB (ToRGB), the last fc scaled by
 * 30 (as fixture_randomize does for head.fc) so that the softmax outputs spread.
 */
static sscma_status mbv3_quantize(sscma_context *ctx, int64_t n, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    sscma_status st = sscma_model_create(ctx, mbv3_config, &out->model);
    if (st != SSCMA_OK)
        return st;
    fixture_randomize(out->model);
    scale_param(out->model, "head.layers.1.fc.weight", 30.0f);
    st = sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 256}",
                            &out->dataset);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"batch_size\": 32, \"pipeline\": [{\"type\": \"Resize\", \"size\": [%d, %d]}, {\"type\": \"ToRGB\"},"
             " {\"type\": \"Normalize\", \"mean\": [72.94, 72.94, 72.94], \"std\": [90.02, 90.02, 90.02]}]}",
             MBV3_SIZE, MBV3_SIZE);
    if (st == SSCMA_OK)
        st = sscma_loader_create(ctx, out->dataset, cfg, &out->loader);
    (void)n;
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

/*
 * The AccelerometerClassifier (AxesNet, 3 axes x 62 steps, 4 classes) with its int8 form: PTQ on 64 windows of a
 * small Edge Impulse export written here (one 62-row sample per file, four kinds of motion at varied frequencies and
 * amplitudes, m/s^2 with gravity on z); the classifier scaled by classifier_scale so that the probabilities spread
 * (8 for the export suite; 1 for the `tiny` set, whose 20 windows 8 saturates to one output).
 */
static const char axes_config[] =
    "{\"type\": \"AccelerometerClassifier\", \"backbone\": {\"type\": \"AxesNet\", \"num_axes\": 3, \"window_size\": 62,"
    " \"num_classes\": 4}, \"head\": {\"type\": \"AxesClsHead\"}}";

static sscma_status axes_quantize(sscma_context *ctx, const char *dir, float classifier_scale, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    char root[1024], path[1200];
    snprintf(root, sizeof root, "%s/axes_data", dir);
    snprintf(path, sizeof path, "mkdir -p '%s'", root);
    if (system(path) != 0)
        return SSCMA_ERR_IO;
    snprintf(path, sizeof path, "%s/info.labels", root);
    FILE *labels = fopen(path, "w");
    if (labels == NULL)
        return SSCMA_ERR_IO;
    static const char *const kinds[4] = {"idle", "shake", "circle", "updown"};
    fprintf(labels, "{\"version\": 1, \"files\": [");
    for (int i = 0; i < 64; i++) {
        const int k = i % 4;
        snprintf(path, sizeof path, "%s/s%02d.json", root, i);
        FILE *f = fopen(path, "w");
        if (f == NULL)
            return SSCMA_ERR_IO;
        fprintf(f, "{\"payload\": {\"interval_ms\": 16, \"sensors\": [{\"name\": \"accX\", \"units\": \"m/s2\"}, "
                "{\"name\": \"accY\", \"units\": \"m/s2\"}, {\"name\": \"accZ\", \"units\": \"m/s2\"}], \"values\": [");
        const double freq = 1.0 + 0.15 * i, amp = 3.0 + 0.1 * i;
        for (int r = 0; r < 62; r++) {
            const double t = r * 0.016, w = 6.283185307179586 * freq * t, noise = 0.2 * sin(12.9898 * (i * 62 + r));
            double x = noise, y = noise, z = 9.81 + noise;
            if (k == 1)
                x += 2.0 * amp * sin(4.0 * w);
            else if (k == 2)
                x += amp * cos(w), y += amp * sin(w);
            else if (k == 3)
                z += amp * sin(w);
            fprintf(f, "%s[%.4f, %.4f, %.4f]", r ? ", " : "", x, y, z);
        }
        fprintf(f, "]}}\n");
        fclose(f);
        fprintf(labels, "%s{\"path\": \"s%02d.json\", \"category\": \"training\", \"label\": {\"type\": "
                "\"label\", \"label\": \"%s\"}}", i ? ", " : "", i, kinds[k]);
    }
    fprintf(labels, "]}\n");
    fclose(labels);
    sscma_status st = sscma_model_create(ctx, axes_config, &out->model);
    if (st != SSCMA_OK)
        return st;
    fixture_randomize(out->model);
    scale_param(out->model, "backbone.classifier.weight", classifier_scale);
    char cfg[1400];
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window_size\": 62, "
             "\"stride\": 62}", root);
    st = sscma_dataset_open(ctx, cfg, &out->dataset);
    if (st == SSCMA_OK)
        st = sscma_loader_create(ctx, out->dataset, "{\"batch_size\": 32}", &out->loader);
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

/* An RTMDet-nano-like detector (SSCMA's rtmdet_nano recipe's structure: CSPNeXt with channel attention and the split
 * SPPF, CSPNeXtPAFPN, RTMDetSepBNHeadModule; ReLU) at widen 0.0625 on 32x32 RGB images, two classes: six raw outputs,
 * cls_0..2 [1, 16 | 4 | 1, 2] and dist_0..2 [1, 16 | 4 | 1, 4]. */
#define RTMDET_SIZE 32
static const char rtmdet_config[] =
    "{\"type\": \"RTMDet\", \"input_size\": [32, 32],"
    " \"backbone\": {\"type\": \"CSPNeXt\", \"arch\": \"P5\", \"expand_ratio\": 0.5, \"deepen_factor\": 0.33,"
    " \"widen_factor\": 0.0625, \"channel_attention\": true, \"split_max_pool_kernel\": true,"
    " \"norm_cfg\": {\"type\": \"BatchNorm2d\"}, \"act_cfg\": {\"type\": \"ReLU\", \"inplace\": true}},"
    " \"neck\": {\"type\": \"CSPNeXtPAFPN\", \"deepen_factor\": 0.33, \"widen_factor\": 0.0625,"
    " \"in_channels\": [256, 512, 1024], \"out_channels\": 256, \"num_csp_blocks\": 3, \"expand_ratio\": 0.5,"
    " \"norm_cfg\": {\"type\": \"BatchNorm2d\"}, \"act_cfg\": {\"type\": \"ReLU\", \"inplace\": true}},"
    " \"bbox_head\": {\"type\": \"RTMDetHead\", \"head_module\": {\"type\": \"RTMDetSepBNHeadModule\","
    " \"num_classes\": 2, \"in_channels\": 256, \"stacked_convs\": 2, \"feat_channels\": 256,"
    " \"widen_factor\": 0.0625, \"norm_cfg\": {\"type\": \"BatchNorm2d\"},"
    " \"act_cfg\": {\"type\": \"ReLU\", \"inplace\": true}, \"share_conv\": false, \"pred_kernel_size\": 1,"
    " \"featmap_strides\": [8, 16, 32]},"
    " \"prior_generator\": {\"type\": \"MlvlPointGenerator\", \"offset\": 0, \"strides\": [8, 16, 32]},"
    " \"bbox_coder\": {\"type\": \"DistancePointBBoxCoder\"}}}";

/*
 * The RTMDet with its int8 form: PTQ on Fashion-MNIST images at 32x32 made RGB. As for Swift-YOLO, the backbone's and
 * neck's convs are scaled to keep the signal's size through the ReLUs (by 3, a little more than sqrt(6): the channel
 * attention's hard sigmoid also shrinks it; 2.9 and 3.2 give stride-8 logits of +-4 and +-35), the head's
 * N(0, 0.01) convs by 8 (towards sqrt(2 / fan_in)), the 1x1 class convs by 8, 32, 128 at strides 8, 16, 32 (the
 * deeper levels' features are weaker) and the distance convs by a quarter of that. The class logits' prior bias
 * (-log 99) becomes -2 and the distances' 0 becomes 1.5 strides, so that on the 20 test images sscma_predict finds 0
 * to 10 boxes (scores 0.25 to 0.99), most of them of positive size, for NMS to sort.
 */
static sscma_status rtmdet_quantize(sscma_context *ctx, int64_t n, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    sscma_status st = sscma_model_create(ctx, rtmdet_config, &out->model);
    if (st != SSCMA_OK)
        return st;
    fixture_randomize(out->model);
    scale_weights(out->model, "backbone.", 3.0f);
    scale_weights(out->model, "neck.", 3.0f);
    scale_weights(out->model, "bbox_head.head_module.cls_convs.", 8.0f);
    scale_weights(out->model, "bbox_head.head_module.reg_convs.", 8.0f);
    for (int l = 0; l < 3; l++) {
        char name[64];
        const float level_scale[3] = {8.0f, 32.0f, 128.0f};
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_cls.%d.weight", l);
        scale_param(out->model, name, level_scale[l]);
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_cls.%d.bias", l);
        scale_param(out->model, name, 0.0f);
        add_param(out->model, name, -2.0f);
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_reg.%d.weight", l);
        scale_param(out->model, name, level_scale[l] / 4.0f);
        snprintf(name, sizeof name, "bbox_head.head_module.rtm_reg.%d.bias", l);
        add_param(out->model, name, 1.5f);
    }
    st = sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 256}",
                            &out->dataset);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"batch_size\": 32, \"pipeline\": [{\"type\": \"Resize\", \"size\": [%d, %d]}, {\"type\": \"ToRGB\"},"
             " {\"type\": \"Normalize\", \"mean\": [72.94, 72.94, 72.94], \"std\": [90.02, 90.02, 90.02]}]}",
             RTMDET_SIZE, RTMDET_SIZE);
    if (st == SSCMA_OK)
        st = sscma_loader_create(ctx, out->dataset, cfg, &out->loader);
    (void)n;
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

/*
 * Audio_classify (SSCMA's KWS recipe's SoundNetRaw + Audio_head, 4 classes, clips of 8192 samples) with its int8 form:
 * PTQ on 32 clips of a small one-axis Edge Impulse export written here (four "words": bursts of four levels with a
 * slow modulation, at varied amplitudes, with a little noise; SoundNet decimates 1536-fold, so only slow features
 * reach the head of an untrained model), read as [N, 1, 8192, 1] by SensorDataset (flatten false).
 */
static const char audio_config[] =
    "{\"type\": \"Audio_classify\", \"n_cls\": 4, \"segment_length\": 8192, \"loss\": {\"type\": "
    "\"LabelSmoothCrossEntropyLoss\", \"reduction\": \"sum\", \"smoothing\": 0.1}, \"backbone\": {\"type\": "
    "\"SoundNetRaw\", \"nf\": 2, \"factors\": [4, 4, 4], \"out_channel\": 36}, \"head\": {\"type\": "
    "\"Audio_head\", \"in_channels\": 36, \"n_classes\": 4, \"drop\": 0.2}}";

static sscma_status audio_quantize(sscma_context *ctx, const char *dir, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    char root[1024], path[1200];
    snprintf(root, sizeof root, "%s/audio_data", dir);
    snprintf(path, sizeof path, "mkdir -p '%s'", root);
    if (system(path) != 0)
        return SSCMA_ERR_IO;
    snprintf(path, sizeof path, "%s/info.labels", root);
    FILE *labels = fopen(path, "w");
    if (labels == NULL)
        return SSCMA_ERR_IO;
    static const char *const words[4] = {"low", "mid", "high", "sweep"};
    fprintf(labels, "{\"version\": 1, \"files\": [");
    for (int i = 0; i < 32; i++) {
        const int k = i % 4;
        snprintf(path, sizeof path, "%s/w%02d.json", root, i);
        FILE *f = fopen(path, "w");
        if (f == NULL)
            return SSCMA_ERR_IO;
        fprintf(f, "{\"payload\": {\"interval_ms\": 0.125, \"sensors\": [{\"name\": \"audio\", \"units\": "
                "\"wav\"}], \"values\": [");
        const double amp = 0.3 + 0.02 * i, f0 = 3.0 * (k + 1) + 0.2 * i, level = 0.4 * (k - 1.5);
        for (int r = 0; r < 8192; r++) {
            /* what survives SoundNet's 1536-fold decimation: the burst's level and a slow modulation */
            const double t = r / 8000.0, burst = r > 1500 + 40 * i && r < 6000 + 30 * i ? 1.0 : 0.05;
            const double pitch = k == 3 ? f0 * (1.0 + 2.0 * t) : f0;
            const double v = amp * burst * (level + 0.5 * sin(6.283185307179586 * pitch * t)) +
                             0.01 * sin(12.9898 * (i * 8192 + r));
            fprintf(f, "%s[%.5f]", r ? ", " : "", v);
        }
        fprintf(f, "]}}\n");
        fclose(f);
        fprintf(labels, "%s{\"path\": \"w%02d.json\", \"category\": \"training\", \"label\": {\"type\": "
                "\"label\", \"label\": \"%s\"}}", i ? ", " : "", i, words[k]);
    }
    fprintf(labels, "]}\n");
    fclose(labels);
    sscma_status st = sscma_model_create(ctx, audio_config, &out->model);
    if (st != SSCMA_OK)
        return st;
    fixture_randomize(out->model);
    /* the N(0, 0.02) conv weights to about 1.5 / sqrt(fan_in), so that the signal survives 30 layers */
    int32_t count = 0;
    sscma_model_param_count(out->model, &count);
    for (int32_t i = 0; i < count; i++) {
        const char *name;
        uint32_t flags;
        sscma_tensor *v;
        int32_t rank = 0;
        int64_t numel = 0, rows = 0;
        if (sscma_model_param(out->model, i, &name, &flags, &v, NULL) != SSCMA_OK || !(flags & SSCMA_PARAM_TRAINABLE))
            continue;
        sscma_tensor_rank(v, &rank), sscma_tensor_numel(v, &numel), sscma_tensor_dim(v, 0, &rows);
        if (rank == 4)
            scale_param(out->model, name, (float)(1.5 / (0.02 * sqrt((double)(numel / rows)))));
    }
    scale_param(out->model, "cls_head.fc1.weight", 0.2f); /* probabilities that spread */
    char cfg[1400];
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window_size\": 8192, "
             "\"stride\": 8192, \"flatten\": false}", root);
    st = sscma_dataset_open(ctx, cfg, &out->dataset);
    if (st == SSCMA_OK)
        st = sscma_loader_create(ctx, out->dataset, "{\"batch_size\": 16}", &out->loader);
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

/* SSCMA 2.0.0's FOMO default: MobileNetv2 with rep=True (RepConv1x1 blocks, fused into one 3x3 convolution each
 * at lowering) cut at stride 8, on 64x64 gray images */
static const fixture_family repfomo = {
    "repfomo",
    "{\"type\": \"Fomo\", \"input_size\": [64, 64], \"backbone\": {\"type\": \"MobileNetv2\","
    " \"widen_factor\": 0.35, \"out_indices\": [2], \"in_channels\": 1, \"rep\": true}, \"head\": {\"type\":"
    " \"FomoHead\", \"input_channels\": [32], \"num_classes\": 3, \"middle_channel\": 48}}",
    64, "probs", 0};

/*
 * The rep FOMO with its int8 form. Random running statistics do not normalise the deep branch sums of its blocks, so
 * the backbone's output would grow far beyond the head's range (and XNNPACK refuses a requantization scale over
 * 256); as training would, a few training-mode passes over the calibration images (momentum 0.1) set them first.
 */
static sscma_status repfomo_quantize(sscma_context *ctx, int64_t n, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    sscma_status st = sscma_model_create(ctx, repfomo.config, &out->model);
    if (st != SSCMA_OK)
        return st;
    fixture_randomize(out->model);
    st = fixture_fashion_loader(ctx, repfomo.size, n, 32, &out->dataset, &out->loader);
    sscma_tensor *image = NULL;
    for (int64_t epoch = 0; st == SSCMA_OK && epoch < 4; epoch++) {
        int64_t count = 1;
        st = sscma_model_prepare(out->model, 32, 1);
        if (st == SSCMA_OK)
            st = sscma_model_input(out->model, "image", &image);
        if (st == SSCMA_OK)
            st = sscma_loader_start_epoch(out->loader, epoch);
        while (st == SSCMA_OK && (st = sscma_loader_next(out->loader, image, NULL, &count)) == SSCMA_OK &&
               count == 32)
            st = sscma_model_forward(out->model);
    }
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

/*
 * The anomaly VAE (Vae_Model at SSCMA's x_size 32 with out_channel 4 instead of the recipe's 8: a smaller fixture of
 * the same structure) with its int8 form: PyTorch's default init, PTQ on the CwtMtf feature images ([32, 32, 6]) of a
 * small three-axis Edge Impulse export written into OUT_DIR/vae_data (24 recordings of 320 samples: smooth sines,
 * every fourth with a burst of high frequency; windows of 128, stride 64). Its "threshold" metadata is the median of
 * host sscma_predict's scores on the first n windows, so that the deployed decision splits them.
 */
static const char vae_config[] =
    "{\"type\": \"Vae_Model\", \"encode\": {\"type\": \"Vae_Encode\", \"x_size\": 32, \"in_channel\": 3, "
    "\"out_channel\": 4, \"conv\": \"Conv_block2D\"}, \"decode\": {\"type\": \"Vae_Decode\", \"x_size\": 32, "
    "\"out_channel\": 4, \"in_channel\": 3, \"conv\": \"Conv_block2D\"}, \"loss\": {\"type\": \"MSELoss\"}}";

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static sscma_status vae_quantize(sscma_context *ctx, const char *dir, int64_t n, fixture_quantized *out)
{
    memset(out, 0, sizeof *out);
    char root[1024], path[1200];
    snprintf(root, sizeof root, "%s/vae_data", dir);
    snprintf(path, sizeof path, "mkdir -p '%s'", root);
    if (system(path) != 0)
        return SSCMA_ERR_IO;
    snprintf(path, sizeof path, "%s/info.labels", root);
    FILE *labels = fopen(path, "w");
    if (labels == NULL)
        return SSCMA_ERR_IO;
    fprintf(labels, "{\"version\": 1, \"files\": [");
    for (int i = 0; i < 24; i++) {
        snprintf(path, sizeof path, "%s/v%02d.json", root, i);
        FILE *f = fopen(path, "w");
        if (f == NULL) {
            fclose(labels);
            return SSCMA_ERR_IO;
        }
        fprintf(f, "{\"payload\": {\"interval_ms\": 10, \"sensors\": [{\"name\": \"accX\", \"units\": \"m/s2\"}, "
                "{\"name\": \"accY\", \"units\": \"m/s2\"}, {\"name\": \"accZ\", \"units\": \"m/s2\"}], \"values\": [");
        const double freq = 0.02 + 0.004 * i, amp = 1.0 + 0.1 * i;
        for (int r = 0; r < 320; r++) {
            const double w = 6.283185307179586 * freq * r, noise = 0.05 * sin(12.9898 * (i * 320 + r));
            const double burst = i % 4 == 3 && r > 100 + 5 * i && r < 200 + 3 * i ? 2.0 * sin(1.9 * r) : 0.0;
            fprintf(f, "%s[%.4f, %.4f, %.4f]", r ? ", " : "", amp * sin(w) + noise + burst, amp * cos(0.7 * w) + noise,
                    9.81 + 0.5 * amp * sin(1.3 * w + 0.1 * i) + noise - burst);
        }
        fprintf(f, "]}}\n");
        fclose(f);
        fprintf(labels, "%s{\"path\": \"v%02d.json\", \"category\": \"training\", \"label\": {\"type\": "
                "\"label\", \"label\": \"%s\"}}", i ? ", " : "", i, i % 4 == 3 ? "anomaly" : "normal");
    }
    fprintf(labels, "]}\n");
    fclose(labels);
    sscma_status st = sscma_model_create(ctx, vae_config, &out->model);
    if (st != SSCMA_OK)
        return st;
    char cfg[1400];
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window_size\": 128, "
             "\"stride\": 64, \"features\": {\"type\": \"CwtMtf\"}}", root);
    st = sscma_dataset_open(ctx, cfg, &out->dataset);
    if (st == SSCMA_OK)
        st = sscma_loader_create(ctx, out->dataset, "{\"batch_size\": 16}", &out->loader);
    if (st == SSCMA_OK)
        st = sscma_quantize(out->model, out->loader, NULL, &out->q);
    /* the threshold: the median of the int8 model's scores on the windows run_samples takes */
    sscma_tensor *batch = NULL, *one = NULL;
    double *scores = calloc((size_t)(n > 0 ? n : 1), sizeof *scores);
    int64_t dims[4] = {0}, done = 0, count = 0;
    if (st == SSCMA_OK && scores == NULL)
        st = SSCMA_ERR_OUT_OF_MEMORY;
    if (st == SSCMA_OK && (st = sscma_loader_batch_shape(out->loader, dims)) == SSCMA_OK &&
        (st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &batch)) == SSCMA_OK) {
        const int64_t one_dims[4] = {1, dims[1], dims[2], dims[3]}, per = dims[1] * dims[2] * dims[3];
        st = sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, one_dims, &one);
        if (st == SSCMA_OK)
            st = sscma_loader_start_epoch(out->loader, 0);
        sscma_predict_options o;
        sscma_predict_options_init(&o, sizeof o);
        while (st == SSCMA_OK && done < n && (st = sscma_loader_next(out->loader, batch, NULL, &count)) == SSCMA_OK &&
               count > 0) {
            float *src = NULL, *dst = NULL;
            sscma_tensor_data(batch, (void **)&src), sscma_tensor_data(one, (void **)&dst);
            for (int64_t r = 0; r < count && done < n && st == SSCMA_OK; r++) {
                sscma_prediction p;
                int32_t found = 0;
                memcpy(dst, src + r * per, (size_t)per * sizeof *dst);
                if ((st = sscma_predict(out->q, one, &o, &p, 1, &found)) == SSCMA_OK)
                    scores[done++] = p.score;
            }
        }
    }
    if (st == SSCMA_OK && done < n)
        st = SSCMA_ERR_SHAPE;
    if (st == SSCMA_OK) {
        qsort(scores, (size_t)n, sizeof *scores, compare_doubles);
        char value[32];
        snprintf(value, sizeof value, "%.9g", 0.5 * (scores[(n - 1) / 2] + scores[n / 2]));
        st = sscma_qmodel_set_meta(out->q, "threshold", value);
    }
    free(scores);
    sscma_tensor_destroy(batch);
    sscma_tensor_destroy(one);
    if (st != SSCMA_OK)
        fixture_release(out);
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: export_fixture OUT_DIR [N] [tiny]\n");
        return 2;
    }
    const char *dir = argv[1];
    int64_t n = argc > 2 ? atoll(argv[2]) : 32;
    bool tiny = argc > 3 && strcmp(argv[3], "tiny") == 0;
    const fixture_family *families = tiny ? tiny_families : fixture_families;
    int n_fam = tiny ? 8 : 10;
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.seed = 3;
    sscma_context *ctx = NULL;
    TRY(sscma_context_create(&o, &ctx));
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *manifest = fopen(path, "w");
    if (manifest == NULL) {
        fprintf(stderr, "export_fixture: cannot write %s\n", path);
        return 1;
    }
    fprintf(manifest, "{\"samples\": %lld,\n", (long long)n);
    /* the three families, the activations fixture (LOGISTIC, HARD_SWISH), the YOLO decode fixture, MobileNetV3, the
     * accelerometer classifier, RTMDet, Audio_classify, the rep FOMO; `tiny`: the three families, Swift-YOLO, the accelerometer classifier, RTMDet */
    for (int k = 0; k < n_fam; k++) {
        const fixture_family acts = {"acts", NULL, 32, "logits", 0};
        const fixture_family yolo = {"yolo", NULL, FIXTURE_YOLO_SIZE, "output", 0};
        const fixture_family mbv3 = {"mbv3", mbv3_config, MBV3_SIZE, "logits", 1};
        const fixture_family axes = {"axes", axes_config, 0, "logits", 1};
        const fixture_family rtmdet = {"rtmdet", rtmdet_config, RTMDET_SIZE, "cls_0", 0};
        const fixture_family audio = {"audio", audio_config, 0, "logits", 1};
        const fixture_family vae = {"vae", vae_config, 0, "x_recon", 0};
        const fixture_family *fam = k < 3 ? &families[k] : k == 3 ? &acts : k == 4 ? &yolo : k == 5 ? &mbv3
                                  : k == 6 ? &axes : k == 7 ? &rtmdet : k == 8 ? &audio : &repfomo;
        if (tiny && k >= 3) /* the tiny set: the three families, Swift-YOLO, the accelerometer classifier, RTMDet, KWS,
                             * the anomaly VAE */
            fam = k == 3 ? &tiny_yolo : k == 4 ? &axes : k == 5 ? &rtmdet : k == 6 ? &audio : &vae;
        fixture_quantized fx;
        sscma_qmodel *f = NULL;
        if (fam == &axes)
            TRY(axes_quantize(ctx, dir, tiny ? 1.0f : 8.0f, &fx));
        else if (fam == &rtmdet)
            TRY(rtmdet_quantize(ctx, 256, &fx));
        else if (fam == &audio)
            TRY(audio_quantize(ctx, dir, &fx));
        else if (fam == &vae)
            TRY(vae_quantize(ctx, dir, n, &fx));
        else if (tiny)
            TRY(tiny_quantize(ctx, fam, 256, &fx));
        else if (fam == &yolo)
            TRY(yolo_quantize(ctx, 256, &fx));
        else if (fam == &mbv3)
            TRY(mbv3_quantize(ctx, 256, &fx));
        else if (fam == &repfomo)
            TRY(repfomo_quantize(ctx, 256, &fx));
        else
            TRY(fixture_quantize(ctx, fam->config, fam->size, 256, 32, &fx));
        sscma_loader *loader = fx.loader;
        sscma_qmodel *q = fx.q;
        TRY(sscma_qmodel_from_model(fx.model, &f));
        snprintf(path, sizeof path, "%s/%s_f32.tflite", dir, fam->name);
        TRY(sscma_export_tflite(f, path));
        fprintf(manifest, "  \"%s\": {\n", fam->name);
        snprintf(path, sizeof path, "%s/%s_f32.onnx", dir, fam->name);
        TRY(sscma_export_onnx(f, path));
        snprintf(path, sizeof path, "%s/%s_int8.onnx", dir, fam->name);
        TRY(sscma_export_onnx(q, path));
        char h[1024], c[1024], sym[64];
        snprintf(h, sizeof h, "%s/%s_int8_model.h", dir, fam->name);
        snprintf(c, sizeof c, "%s/%s_int8_model.c", dir, fam->name);
        snprintf(sym, sizeof sym, "%s_int8_model", fam->name);
        TRY(sscma_export_c_array(q, h, c, sym));
        snprintf(path, sizeof path, "%s/%s_int8.tflite", dir, fam->name);
        TRY(sscma_export_tflite(q, path));
        run_samples(f, loader, n, dir, fam->name, "f32", manifest, false);
        run_samples(q, loader, n, dir, fam->name, "int8", manifest, true);
        fprintf(manifest, "  }%s\n", k == n_fam - 1 ? "" : ",");
        run_readback(ctx, path, dir, fam->name, n);
        sscma_qmodel_destroy(f);
        fixture_release(&fx);
    }
    fprintf(manifest, "}\n");
    fclose(manifest);
    sscma_context_destroy(ctx);
    return 0;
}
