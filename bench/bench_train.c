/*
 * Training throughput and peak memory of libsscma's training step (bench/run train), beside
 * bench/train_throughput_torch.py doing the same in PyTorch:
 *
 *   bench_train classifier|fomo|swift_yolo|audio|axes|vae [--threads N] [--batch B] [--iters N] [--warmup N]
 *               [--repeats R]
 *
 * classifier: MobileNetV2-0.35 ImageClassifier, 96x96x3, 10 classes (the case); fomo: Fomo with
 * MobileNetV2-0.35 cut at stride 8, 96x96x3, 3 classes; swift_yolo: Swift-YOLO-tiny (YOLODetector, deepen 0.33,
 * widen 0.15, ReLU), 192x192x3, 4 classes, batch 16, 1..6 boxes per image and the YOLOv5 loss; audio: SSCMA's KWS
 * model (Audio_classify: SoundNetRaw + Audio_head, clips of 8192 samples, 35 classes, batch 32, the summed
 * label-smoothed loss); axes: SSCMA's AccelerometerClassifier recipe (configs/accelerometer/
 * 3axes_accelerometer_62.5Hz_1s_classify.json: AxesNet, 3 axes x 62 steps flattened to 186 -> 256 -> 4 classes,
 * batch 32, Adam lr 5e-4 betas (0.9, 0.99) weight decay 5e-4); vae: SSCMA's anomaly Vae_Model
 * (configs/anomaly/vae_mirophone.json: x_size 32, in_channel 3, out_channel 8, input [N, 32, 32, 6] = x and c,
 * batch 16, its own loss MSE + MSE + KL + KL with eps drawn in training, Adam lr 1e-4 weight decay 5e-4). One
 * fixed random batch (inputs N(0, 1), labels or FOMO targets with a few positive cells), SGD lr 0.01 momentum 0.9
 * weight decay 1e-4 unless given above; each iteration is zero_grad,
 * forward, loss, backward, optimizer step — the trainer's step without the loader, so both sides measure the same
 * compute. R timed blocks of N iterations after W warm-up iterations; prints one JSON line with the median images/s
 * and the process's peak resident set (getrusage), which includes the library, the model, its activation arena,
 * gradients and optimizer state.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sscma/sscma.h>

#define CHECK(call)                                                                                            \
    do {                                                                                                       \
        if ((call) != SSCMA_OK) {                                                                              \
            fprintf(stderr, "bench_train: %s: %s\n", #call, sscma_last_error());                               \
            return 1;                                                                                          \
        }                                                                                                      \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float normal(uint64_t *s)
{
    /* Box-Muller on a 64-bit LCG: only the distribution matters here */
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u1 = ((double)(*s >> 11) + 1.0) / 9007199254740993.0;
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u2 = (double)(*s >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

int main(int argc, char **argv)
{
    if (argc < 2 ||
        (strcmp(argv[1], "classifier") != 0 && strcmp(argv[1], "fomo") != 0 && strcmp(argv[1], "swift_yolo") != 0 &&
         strcmp(argv[1], "audio") != 0 && strcmp(argv[1], "axes") != 0 && strcmp(argv[1], "vae") != 0)) {
        fprintf(stderr, "usage: bench_train classifier|fomo|swift_yolo|audio|axes|vae [--threads N] [--batch B] "
                        "[--iters N] [--warmup N] [--repeats R]\n");
        return 2;
    }
    const int fomo = strcmp(argv[1], "fomo") == 0, yolo = strcmp(argv[1], "swift_yolo") == 0,
              audio = strcmp(argv[1], "audio") == 0, axes = strcmp(argv[1], "axes") == 0,
              vae = strcmp(argv[1], "vae") == 0;
    long threads = 2, batch = fomo || yolo || vae ? 16 : 32, iters = 10, warmup = 3, repeats = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--threads") == 0)
            threads = v;
        else if (strcmp(argv[i], "--batch") == 0)
            batch = v;
        else if (strcmp(argv[i], "--iters") == 0)
            iters = v;
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = v;
        else if (strcmp(argv[i], "--repeats") == 0)
            repeats = v;
    }
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = (int32_t)threads;
    sscma_context *ctx = NULL;
    CHECK(sscma_context_create(&o, &ctx));
    const char *cfg =
        axes ? "{\"type\": \"AccelerometerClassifier\", \"backbone\": {\"type\": \"AxesNet\", \"num_axes\": 3, "
               "\"window_size\": 62, \"num_classes\": 4}, \"head\": {\"type\": \"AxesClsHead\", \"loss\": {\"type\": "
               "\"CrossEntropyLoss\", \"loss_weight\": 1.0}, \"topk\": 1}}"
        : vae ? "{\"type\": \"Vae_Model\", \"encode\": {\"type\": \"Vae_Encode\", \"x_size\": 32, \"in_channel\": 3, "
                "\"out_channel\": 8, \"conv\": \"Conv_block2D\"}, \"decode\": {\"type\": \"Vae_Decode\", \"x_size\": 32, "
                "\"out_channel\": 8, \"in_channel\": 3, \"conv\": \"Conv_block2D\"}, \"loss\": {\"type\": \"MSELoss\"}}"
        : audio ? "{\"type\": \"Audio_classify\", \"n_cls\": 35, \"segment_length\": 8192, \"loss\": {\"type\": "
                "\"LabelSmoothCrossEntropyLoss\", \"reduction\": \"sum\", \"smoothing\": 0.1}, \"backbone\": "
                "{\"type\": \"SoundNetRaw\", \"nf\": 2, \"factors\": [4, 4, 4], \"out_channel\": 36}, \"head\": "
                "{\"type\": \"Audio_head\", \"in_channels\": 36, \"n_classes\": 35, \"drop\": 0.2}}"
        : yolo ? "{\"type\": \"YOLODetector\", \"input_size\": [192, 192], \"backbone\": {\"type\": \"YOLOv5CSPDarknet\", "
               "\"deepen_factor\": 0.33, \"widen_factor\": 0.15, \"act_cfg\": \"ReLU\"}, \"neck\": {\"type\": "
               "\"YOLOv5PAFPN\", \"deepen_factor\": 0.33, \"widen_factor\": 0.15, \"in_channels\": [256, 512, 1024], "
               "\"out_channels\": [256, 512, 1024], \"num_csp_blocks\": 3, \"act_cfg\": \"ReLU\"}, \"bbox_head\": "
               "{\"type\": \"YOLOv5Head\", \"max_boxes\": 8, \"head_module\": {\"type\": \"YOLOv5HeadModule\", "
               "\"num_classes\": 4, \"in_channels\": [256, 512, 1024], \"widen_factor\": 0.15}}}"
        : fomo
            ? "{\"type\": \"Fomo\", \"input_size\": [96, 96], \"backbone\": {\"type\": \"MobileNetv2\", "
              "\"widen_factor\": 0.35, \"out_indices\": [2], \"in_channels\": 3}, \"head\": {\"type\": \"FomoHead\", "
              "\"num_classes\": 3, \"middle_channel\": 48}}"
            : "{\"type\": \"ImageClassifier\", \"input_size\": [96, 96], \"backbone\": {\"type\": \"MobileNetV2\", "
              "\"widen_factor\": 0.35, \"in_channels\": 3}, \"neck\": {\"type\": \"GlobalAveragePooling\"}, "
              "\"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 10}}";
    sscma_model *model = NULL;
    sscma_optimizer *opt = NULL;
    CHECK(sscma_model_create(ctx, cfg, &model));
    CHECK(sscma_model_prepare(model, batch, 1));
    CHECK(sscma_optimizer_create(model,
                                 axes  ? "{\"type\": \"Adam\", \"lr\": 0.0005, \"betas\": [0.9, 0.99], "
                                         "\"weight_decay\": 0.0005}"
                                 : vae ? "{\"type\": \"Adam\", \"lr\": 0.0001, \"weight_decay\": 0.0005}"
                                       : "{\"type\": \"SGD\", \"lr\": 0.01, \"momentum\": 0.9, "
                                         "\"weight_decay\": 0.0001}",
                                 &opt));
    sscma_tensor *image = NULL, *target = NULL;
    CHECK(sscma_model_input(model, "image", &image));
    if (!vae) /* the VAE's loss needs no target: it reconstructs its input */
        CHECK(sscma_model_input(model, "target", &target));
    int64_t n_img = 0, n_tgt = 0;
    sscma_tensor_numel(image, &n_img);
    if (target != NULL)
        sscma_tensor_numel(target, &n_tgt);
    float *x = NULL;
    sscma_tensor_data(image, (void **)&x);
    uint64_t seed = 1;
    for (int64_t i = 0; i < n_img; i++)
        x[i] = normal(&seed);
    if (yolo) { /* per image 1..6 boxes of 20..100 px, classes 0..3; the rest invalid rows */
        float *t = NULL;
        sscma_tensor_data(target, (void **)&t);
        for (int64_t i = 0; i < n_tgt; i++)
            t[i] = 0.0f;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t k = 0; k <= b % 6; k++) {
                float *row = t + (b * 8 + k) * 6, w = 20.0f + (float)((b * 7 + k * 13) % 80);
                float bx = (float)((b * 31 + k * 47) % (int64_t)(192 - w)), by = (float)((b * 17 + k * 59) % (int64_t)(192 - w));
                row[0] = (float)(k % 4), row[1] = bx, row[2] = by, row[3] = bx + w, row[4] = by + 0.8f * w, row[5] = 1.0f;
            }
    } else if (fomo) {
        float *t = NULL;
        int64_t c = 0;
        sscma_tensor_data(target, (void **)&t);
        sscma_tensor_dim(target, 3, &c);
        for (int64_t i = 0; i < n_tgt / c; i++) { /* background everywhere, one object cell in 20 */
            int64_t k = i % 20 == 7 ? 1 + i % (c - 1) : 0;
            for (int64_t j = 0; j < c; j++)
                t[i * c + j] = j == k ? 1.0f : 0.0f;
        }
    } else if (target != NULL) { /* class labels 0..K-1 in turn */
        int32_t *t = NULL;
        sscma_tensor_data(target, (void **)&t);
        for (int64_t i = 0; i < n_tgt; i++)
            t[i] = (int32_t)(i % (axes ? 4 : 10));
    }
    double *rates = calloc((size_t)repeats, sizeof *rates);
    if (rates == NULL)
        return 1;
    for (long r = -1; r < repeats; r++) {
        long n = r < 0 ? warmup : iters;
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            CHECK(sscma_model_zero_grad(model));
            CHECK(sscma_model_forward(model));
            CHECK(sscma_model_backward(model));
            CHECK(sscma_optimizer_step(opt));
        }
        if (r >= 0)
            rates[r] = (double)(n * batch) / (now_s() - t0);
    }
    qsort(rates, (size_t)repeats, sizeof *rates, cmp_double);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    int64_t params = 0, macs = 0;
    sscma_model_stats(model, &params, &macs);
    printf("{\"model\": \"%s\", \"threads\": %ld, \"batch\": %ld, \"images_per_s\": %.1f, \"min\": %.1f, "
           "\"max\": %.1f, \"peak_rss_mb\": %.1f, \"params\": %lld, \"macs\": %lld}\n",
           argv[1], threads, batch, rates[repeats / 2], rates[0], rates[repeats - 1],
           (double)ru.ru_maxrss / 1024.0, (long long)params, (long long)macs);
    free(rates);
    sscma_optimizer_destroy(opt);
    sscma_model_destroy(model);
    sscma_context_destroy(ctx);
    return 0;
}
