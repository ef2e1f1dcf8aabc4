/*
 * sscma_predict on .tflite files without libsscma metadata, as SSCMA-Micro makes them: recognition by the output's
 * layout, --task, and each family's device post-processing. The files are hand-made (tfl_build.h) with an output
 * that is a constant (input -> SLICE -> RESHAPE -> MUL by 0 -> ADD a constant), so each case knows exactly which
 * results must come out.
 *
 *   test_predict [CASE...]          the cases
 *   test_predict --write DIR        writes DIR/yolo.tflite and DIR/odd.tflite for tests/cli/run-cli.sh
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/export.h>
#include <sscma/predict.h>
#include <sscma/quant.h>

#include "export/tflite_schema.h"
#include "fixture_files.h"
#include "harness.h"
#include "tfl_build.h"

static char tmpdir[256];

static const char *temp_path(const char *name)
{
    static char path[512];
    if (tmpdir[0] == '\0' && fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-predict") != 0)
        test_fail(__FILE__, __LINE__, "cannot make a temporary directory");
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static int32_t ints(tfl_build *m, const char *name, const int32_t *v, int32_t n)
{
    return tfl_tensor(m, name, TFL_TYPE_INT32, 1, &n, 0.0f, 0, v, (size_t)n * 4);
}

/*
 * Writes a model with input x [1, side, side, 3] (int8, scale 1/255, zero point -128: ModelAssistant's) whose output
 * (int8, rank `rank`, `dims`, scale / zero point) is the constant `q` whatever the image.
 */
static bool write_constant_model(const char *path, int32_t side, int32_t rank, const int32_t *dims, float scale,
                                 int32_t zero_point, const int8_t *q)
{
    tfl_build m;
    tfl_build_init(&m);
    size_t n = 1;
    int32_t ones[4] = {1, 1, 1, 1};
    for (int32_t i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    int32_t x = tfl_tensor(&m, "image", TFL_TYPE_INT8, 4, (int32_t[]){1, side, side, 3}, 1.0f / 255.0f, -128, NULL, 0);
    int32_t s = tfl_tensor(&m, "pixel", TFL_TYPE_INT8, 4, ones, 1.0f / 255.0f, -128, NULL, 0);
    int32_t r = tfl_tensor(&m, "pixel_r", TFL_TYPE_INT8, rank, ones, 1.0f / 255.0f, -128, NULL, 0);
    const int8_t zero = 0;
    int32_t z0 = tfl_tensor(&m, "zero", TFL_TYPE_INT8, 0, ones, 1.0f, 0, &zero, 1);
    int32_t z = tfl_tensor(&m, "nothing", TFL_TYPE_INT8, rank, ones, scale, zero_point, NULL, 0);
    int32_t c = tfl_tensor(&m, "records", TFL_TYPE_INT8, rank, dims, scale, zero_point, q, n);
    int32_t y = tfl_tensor(&m, "output", TFL_TYPE_INT8, rank, dims, scale, zero_point, NULL, 0);
    tfl_operator(&m, TFL_OP_SLICE, (int32_t[]){x, ints(&m, "b", (int32_t[]){0, 0, 0, 0}, 4), ints(&m, "s", ones, 4)},
                 3, &s, 1)->options_type = TFL_OPT_SLICE;
    tfl_operator(&m, TFL_OP_RESHAPE, (int32_t[]){s, ints(&m, "shape", ones, rank)}, 2, &r, 1);
    tfl_option_u8(tfl_operator(&m, TFL_OP_MUL, (int32_t[]){r, z0}, 2, &z, 1), 0, 0, TFL_OPT_MUL);
    tfl_option_u8(tfl_operator(&m, TFL_OP_ADD, (int32_t[]){z, c}, 2, &y, 1), 0, 0, TFL_OPT_ADD);
    bool ok = tfl_build_write(&m, &x, 1, &y, 1, path);
    tfl_build_free(&m);
    return ok;
}

/*
 * A Swift-YOLO export for a 32 x 32 input: [1, 63, 7] (3 x (1 + 4 + 16) records of x, y, w, h, objectness, 2
 * classes), in pixels and percent (scale 0.5 >= 0.1: SSCMA-Micro divides by the input size and by 100).
 */
#define YOLO_RECORDS 63
static const float YOLO_PIXELS[][7] = {
    {8, 8, 8, 8, 90, 10, 80},   /* r0: kept, class 1 */
    {9, 8, 8, 8, 80, 70, 10},   /* r1: IoU 56 / 72 = 0.78 with r0: dropped by NMS */
    {24, 24, 8, 8, 20, 50, 0},  /* r2: objectness 0.20, below 0.25 */
    {16, 20, 16, 8, 60, 30, 30},/* r3: kept; equal class scores: the first, class 0 */
    {24, 20, 8, 8, 50, 0, 90},  /* r4: true IoU 0.2 with r3: kept (SSCMA-Micro's corner IoU says 0.5: dropped) */
    {40, 4, 4, 4, 30, 0, 10},   /* r5: x 40 / 32 clipped to 1 */
    {20, 8, 8, 8, 25, 0, 10},   /* r6: objectness exactly 0.25: not above the threshold */
};

static bool write_yolo(const char *path)
{
    static int8_t q[YOLO_RECORDS * 7];
    memset(q, -128, sizeof q); /* every other record: zeros */
    for (size_t r = 0; r < sizeof YOLO_PIXELS / sizeof YOLO_PIXELS[0]; r++)
        for (int k = 0; k < 7; k++)
            q[r * 7 + (size_t)k] = (int8_t)(YOLO_PIXELS[r][k] / 0.5f - 128.0f);
    return write_constant_model(path, 32, 3, (int32_t[]){1, YOLO_RECORDS, 7}, 0.5f, -128, q);
}

/* An output no SSCMA-Micro family has: [1, 10, 7] (a YOLO record length, but not the grid's 63 records). */
static bool write_odd(const char *path)
{
    static int8_t q[10 * 7];
    memset(q, -128, sizeof q);
    q[0] = 0, q[4] = 127; /* x 64, objectness 127.5: one box when told it is YOLO */
    return write_constant_model(path, 32, 3, (int32_t[]){1, 10, 7}, 0.5f, -128, q);
}

static sscma_context *ctx;

static sscma_qmodel *load(const char *path)
{
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &q));
    return q;
}

/* A u8 image [h, w, 3] filled with `value`. */
static sscma_tensor *image(int64_t h, int64_t w, uint8_t value)
{
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 3, (int64_t[]){h, w, 3}, &t));
    void *px = NULL;
    if (t != NULL && sscma_tensor_data(t, &px) == SSCMA_OK)
        memset(px, value, (size_t)(h * w * 3));
    return t;
}

static void check_box(const sscma_prediction *p, int32_t cls, float score, float x, float y, float w, float h)
{
    if (p->class_id != cls || fabsf(p->score - score) > 1e-6f || fabsf(p->x - x) > 1e-4f || fabsf(p->y - y) > 1e-4f ||
        fabsf(p->w - w) > 1e-4f || fabsf(p->h - h) > 1e-4f)
        test_fail(__FILE__, __LINE__, "got class %d score %g at (%g, %g) size %g x %g; expected %d %g (%g, %g) %g x %g",
                  (int)p->class_id, (double)p->score, (double)p->x, (double)p->y, (double)p->w, (double)p->h,
                  (int)cls, (double)score, (double)x, (double)y, (double)w, (double)h);
}

/*
 * An RTMDet export for a 32 x 32 input, 2 classes, as ModelAssistant writes it (SSCMA-Micro's RTMDet): six constant
 * outputs, interleaved per level (cls_0, dist_0, cls_1, ...: the order is free), class logits at scale 0.1 and
 * distances (stride units) at scale 1/16, zero point 0 and -128.
 */
#define RTM_CLS_SCALE 0.1f
#define RTM_DIST_SCALE 0.0625f
static bool write_rtmdet(const char *path)
{
    static const int32_t cells[3] = {16, 4, 1};
    static int8_t cls[3][16 * 2], dist[3][16 * 4];
    memset(cls, -128, sizeof cls);
    memset(dist, -128, sizeof dist);
    /* level 0 (stride 8, 4 x 4): cell -> logits (x 10), distances l t r b (x 16, + -128) */
    const int8_t c0[][3] = {{0, 20, 30}, {1, -11, -20}, {2, -12, -12}, {5, 25, 25}, {4, 10, 0}, {6, 0, 22}};
    for (size_t i = 0; i < sizeof c0 / sizeof c0[0]; i++) {
        cls[0][c0[i][0] * 2] = c0[i][1], cls[0][c0[i][0] * 2 + 1] = c0[i][2];
        for (int k = 0; k < 4; k++)
            dist[0][c0[i][0] * 4 + k] = -120; /* 0.5 */
    }
    dist[0][4 * 4 + 0] = dist[0][4 * 4 + 2] = -112; /* cell 4: left and right 1.0 */
    dist[0][6 * 4 + 0] = -104;                      /* cell 6: left 1.5 */
    cls[1][0] = 0, cls[1][1] = 15;                  /* level 1 (stride 16), cell 0 */
    for (int k = 0; k < 4; k++)
        dist[1][k] = -120;
    cls[2][0] = cls[2][1] = -50;                    /* level 2: below the threshold */
    tfl_build m;
    tfl_build_init(&m);
    int32_t ones[4] = {1, 1, 1, 1};
    int32_t x = tfl_tensor(&m, "image", TFL_TYPE_INT8, 4, (int32_t[]){1, 32, 32, 3}, 1.0f / 255.0f, -128, NULL, 0);
    int32_t px = tfl_tensor(&m, "pixel", TFL_TYPE_INT8, 4, ones, 1.0f / 255.0f, -128, NULL, 0);
    int32_t r = tfl_tensor(&m, "pixel_r", TFL_TYPE_INT8, 3, ones, 1.0f / 255.0f, -128, NULL, 0);
    const int8_t zero = 0;
    int32_t z0 = tfl_tensor(&m, "zero", TFL_TYPE_INT8, 0, ones, 1.0f, 0, &zero, 1);
    tfl_operator(&m, TFL_OP_SLICE, (int32_t[]){x, ints(&m, "b", (int32_t[]){0, 0, 0, 0}, 4), ints(&m, "s", ones, 4)},
                 3, &px, 1)->options_type = TFL_OPT_SLICE;
    tfl_operator(&m, TFL_OP_RESHAPE, (int32_t[]){px, ints(&m, "shape", ones, 3)}, 2, &r, 1);
    int32_t ys[6];
    for (int k = 0; k < 6; k++) {
        const int l = k / 2;
        const bool is_dist = k % 2 == 1;
        const int32_t width = is_dist ? 4 : 2, dims[3] = {1, cells[l], width};
        const float scale = is_dist ? RTM_DIST_SCALE : RTM_CLS_SCALE;
        const int32_t zp = is_dist ? -128 : 0;
        char name[32];
        snprintf(name, sizeof name, "nothing_%d", k);
        int32_t z = tfl_tensor(&m, name, TFL_TYPE_INT8, 3, ones, scale, zp, NULL, 0);
        snprintf(name, sizeof name, "maps_%d", k);
        int32_t c = tfl_tensor(&m, name, TFL_TYPE_INT8, 3, dims, scale, zp, is_dist ? dist[l] : cls[l],
                               (size_t)(cells[l] * width));
        snprintf(name, sizeof name, "%s_%d", is_dist ? "bbox" : "score", l);
        ys[k] = tfl_tensor(&m, name, TFL_TYPE_INT8, 3, dims, scale, zp, NULL, 0);
        tfl_option_u8(tfl_operator(&m, TFL_OP_MUL, (int32_t[]){r, z0}, 2, &z, 1), 0, 0, TFL_OPT_MUL);
        tfl_option_u8(tfl_operator(&m, TFL_OP_ADD, (int32_t[]){z, c}, 2, &ys[k], 1), 0, 0, TFL_OPT_ADD);
    }
    bool ok = tfl_build_write(&m, &x, 1, ys, 6, path);
    tfl_build_free(&m);
    return ok;
}

static float sigmoid_of(int q)
{
    return 1.0f / (1.0f + expf(-((float)q * RTM_CLS_SCALE)));
}

/*
 * The RTMDet file is recognised by its six outputs and decoded as SSCMA-Micro's RTMDet::postProcessI8: a logit
 * passes at q >= floor(logit(0.25) / 0.1) = -11 (so -1.1, whose sigmoid 0.2497 is below 0.25, passes; -1.2 does
 * not), equal logits give the last class, points at (cell + 0.5) x stride, per-class NMS at IoU 0.45 (cell 6
 * overlaps cell 5 by 0.5: dropped; level 1's box overlaps cells 0 and 5 by 0.25: kept; cell 4 is of another
 * class), best score first (no sort by x); then scaled to the image (64 x 32: y doubled).
 */
static void rtmdet_is_recognised_and_decoded(void)
{
    CHECK(write_rtmdet(temp_path("rtmdet.tflite")));
    sscma_qmodel *q = load(temp_path("rtmdet.tflite"));
    sscma_tensor *img = image(64, 32, 0);
    sscma_prediction r[8];
    int32_t n = -1;
    const char *task = NULL;
    CHECK_OK(sscma_predict_task(q, NULL, &task));
    CHECK_STR_EQ(task, "rtmdet");
    CHECK_OK(sscma_predict(q, img, NULL, r, 8, &n));
    CHECK_INT_EQ(n, 5);
    if (n == 5) {
        check_box(&r[0], 1, sigmoid_of(30), 4, 8, 8, 16);
        check_box(&r[1], 1, sigmoid_of(25), 12, 24, 8, 16);
        check_box(&r[2], 1, sigmoid_of(15), 8, 16, 16, 32);
        check_box(&r[3], 0, sigmoid_of(10), 4, 24, 16, 16);
        check_box(&r[4], 0, sigmoid_of(-11), 12, 8, 8, 16);
    }
    /* a higher threshold keeps fewer: 0.8 -> floor(1.386 / 0.1) = 13 steps: cells 0, 5 and level 1's */
    sscma_predict_options o;
    sscma_predict_options_init(&o, sizeof o);
    o.score_threshold = 0.8f;
    CHECK_OK(sscma_predict(q, img, &o, r, 8, &n));
    CHECK_INT_EQ(n, 3);
    /* told another layout, the six outputs are refused */
    o.task = "yolo";
    CHECK_FAILS(sscma_predict(q, img, &o, r, 8, &n), SSCMA_ERR_UNSUPPORTED, "expected [1, N, 5 + classes]");
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/*
 * The YOLO file is recognised by its [1, 63, 7] output and decoded as SSCMA-Micro decodes it: objectness above 0.25
 * (strictly), class = the first largest class score, pixels / input size, clipped, class-agnostic NMS at IoU 0.45
 * (true IoU), sorted by x; then scaled to the image (64 x 32 here).
 */
static void yolo_is_recognised_and_decoded(void)
{
    const char *path = temp_path("yolo.tflite");
    CHECK(write_yolo(path));
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 64, 0);
    if (q == NULL || img == NULL)
        goto done;
    sscma_prediction r[16];
    int32_t n = 0;
    CHECK_OK(sscma_predict(q, img, NULL, r, 16, &n));
    CHECK_INT_EQ(n, 4);
    if (n == 4) {
        check_box(&r[0], 1, 0.90f, 16, 8, 16, 8);  /* r0 */
        check_box(&r[1], 0, 0.60f, 32, 20, 32, 8); /* r3 */
        check_box(&r[2], 1, 0.50f, 48, 20, 16, 8); /* r4 */
        check_box(&r[3], 1, 0.30f, 64, 4, 8, 4);   /* r5, clipped to the right edge */
    }
    const char *task = NULL, *meta = NULL;
    CHECK_OK(sscma_predict_task(q, NULL, &task));
    CHECK_STR_EQ(task, "yolo");
    CHECK_FAILS(sscma_qmodel_meta(q, "task", &meta), SSCMA_ERR_NOT_FOUND, "task"); /* predicting leaves the model as is */
    /* IoU threshold 0.8: r1 (0.78) stays too, between r0 and r3 by x */
    sscma_predict_options o;
    CHECK_OK(sscma_predict_options_init(&o, sizeof o));
    CHECK(o.iou_threshold == 0.45f && o.task == NULL && o.score_threshold < 0.0f);
    o.iou_threshold = 0.8f;
    CHECK_OK(sscma_predict(q, img, &o, r, 16, &n));
    CHECK_INT_EQ(n, 5);
    if (n == 5)
        check_box(&r[1], 0, 0.80f, 18, 8, 16, 8);
    /* threshold 0.1: r2 and r6 (exactly 0.25) join */
    o.iou_threshold = 0.45f;
    o.score_threshold = 0.1f;
    CHECK_OK(sscma_predict(q, img, &o, r, 16, &n));
    CHECK_INT_EQ(n, 6);
    /* told: the same */
    o.score_threshold = -1.0f;
    o.task = "yolo";
    CHECK_OK(sscma_predict(q, img, &o, r, 16, &n));
    CHECK_INT_EQ(n, 4);
    /* a layout the file does not have */
    o.task = "pfld";
    CHECK_FAILS(sscma_predict(q, img, &o, r, 16, &n), SSCMA_ERR_UNSUPPORTED,
                "the pfld model's output is [1, 63, 7]; expected [1, 2 x points]");
    o.task = "ssd";
    CHECK_FAILS(sscma_predict(q, img, &o, r, 16, &n), SSCMA_ERR_INVALID_ARGUMENT,
                "unknown task 'ssd'; expected cls, fomo, pfld, yolo, rtmdet or anomaly");
    o.task = "";
    o.iou_threshold = 1.5f;
    CHECK_FAILS(sscma_predict(q, img, &o, r, 16, &n), SSCMA_ERR_INVALID_ARGUMENT, "iou_threshold is 1.5");
done:
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/* Normalised values (scale < 0.1): neither divided by the input size nor by 100; w clipped to 1. */
static void yolo_normalised_output_is_taken_as_is(void)
{
    static int8_t v[YOLO_RECORDS * 7];
    memset(v, -128, sizeof v);
    const float recs[2][7] = {{0.25f, 0.5f, 0.25f, 0.25f, 0.75f, 0.0f, 0.5f},
                              {0.75f, 0.5f, 1.5f, 0.25f, 0.5f, 0.5f, 0.0f}};
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 7; k++)
            v[(r + 40) * 7 + k] = (int8_t)(recs[r][k] * 128.0f - 128.0f);
    const char *path = temp_path("yolo_norm.tflite");
    CHECK(write_constant_model(path, 32, 3, (int32_t[]){1, YOLO_RECORDS, 7}, 1.0f / 128.0f, -128, v));
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 32, 0);
    sscma_prediction r[4];
    int32_t n = 0;
    if (q != NULL && img != NULL) {
        CHECK_OK(sscma_predict(q, img, NULL, r, 4, &n));
        CHECK_INT_EQ(n, 2);
        if (n == 2) {
            check_box(&r[0], 1, 0.75f, 8, 16, 8, 8);
            check_box(&r[1], 0, 0.50f, 24, 16, 32, 8);
        }
    }
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/*
 * A float output has no scale: as on the device, its first x says whether the values are normalised (< 1) or in
 * pixels and percent. The same records as the int8 file, in pixels: the same four boxes.
 */
static void yolo_float_output_is_judged_by_its_first_x(void)
{
    static float v[YOLO_RECORDS * 7];
    memset(v, 0, sizeof v);
    for (size_t r = 0; r < sizeof YOLO_PIXELS / sizeof YOLO_PIXELS[0]; r++)
        memcpy(v + r * 7, YOLO_PIXELS[r], sizeof YOLO_PIXELS[r]);
    tfl_build m;
    tfl_build_init(&m);
    const int32_t ones[3] = {1, 1, 1}, dims[3] = {1, YOLO_RECORDS, 7};
    int32_t x = tfl_tensor(&m, "image", TFL_TYPE_FLOAT32, 4, (int32_t[]){1, 32, 32, 3}, 0.0f, 0, NULL, 0);
    int32_t s = tfl_tensor(&m, "pixel", TFL_TYPE_FLOAT32, 4, (int32_t[]){1, 1, 1, 1}, 0.0f, 0, NULL, 0);
    int32_t r = tfl_tensor(&m, "pixel_r", TFL_TYPE_FLOAT32, 3, ones, 0.0f, 0, NULL, 0);
    const float zero = 0.0f;
    int32_t z0 = tfl_tensor(&m, "zero", TFL_TYPE_FLOAT32, 0, ones, 0.0f, 0, &zero, 4);
    int32_t z = tfl_tensor(&m, "nothing", TFL_TYPE_FLOAT32, 3, ones, 0.0f, 0, NULL, 0);
    int32_t c = tfl_tensor(&m, "records", TFL_TYPE_FLOAT32, 3, dims, 0.0f, 0, v, sizeof v);
    int32_t y = tfl_tensor(&m, "output", TFL_TYPE_FLOAT32, 3, dims, 0.0f, 0, NULL, 0);
    tfl_operator(&m, TFL_OP_SLICE,
                 (int32_t[]){x, ints(&m, "b", (int32_t[]){0, 0, 0, 0}, 4), ints(&m, "s", (int32_t[]){1, 1, 1, 1}, 4)},
                 3, &s, 1)->options_type = TFL_OPT_SLICE;
    tfl_operator(&m, TFL_OP_RESHAPE, (int32_t[]){s, ints(&m, "shape", ones, 3)}, 2, &r, 1);
    tfl_option_u8(tfl_operator(&m, TFL_OP_MUL, (int32_t[]){r, z0}, 2, &z, 1), 0, 0, TFL_OPT_MUL);
    tfl_option_u8(tfl_operator(&m, TFL_OP_ADD, (int32_t[]){z, c}, 2, &y, 1), 0, 0, TFL_OPT_ADD);
    const char *path = temp_path("yolo_f32.tflite");
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    tfl_build_free(&m);
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 64, 0);
    sscma_prediction res[8];
    int32_t n = 0;
    if (q != NULL && img != NULL) {
        CHECK_OK(sscma_predict(q, img, NULL, res, 8, &n));
        CHECK_INT_EQ(n, 4);
        if (n == 4) {
            check_box(&res[0], 1, 0.90f, 16, 8, 16, 8);
            check_box(&res[3], 1, 0.30f, 64, 4, 8, 4);
        }
    }
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/*
 * FOMO [1, 4, 4, 3]: a cell's first largest channel, kept when it is not the background and above 0.25; class =
 * channel - 1; sorted by x. A cell whose background wins is dropped even when a class exceeds the threshold.
 */
static void fomo_is_recognised_and_drops_background_cells(void)
{
    static int8_t v[4 * 4 * 3];
    memset(v, -128, sizeof v); /* all 0: background (the first channel) wins */
    const int16_t cells[4][5] = {
        /* row, col, background, class 0, class 1 (probabilities x 256) */
        {0, 0, 51, 180, 25},  /* class 0, 180 / 256 */
        {1, 2, 128, 26, 102}, /* background 0.5 wins over class 1 at 0.4: dropped */
        {3, 1, 26, 77, 153},  /* class 1, 153 / 256 */
        {0, 3, 26, 51, 51},   /* class 0 at 0.2: below 0.25 */
    };
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            v[(cells[i][0] * 4 + cells[i][1]) * 3 + k] = (int8_t)(cells[i][2 + k] - 128);
    const char *path = temp_path("fomo.tflite");
    CHECK(write_constant_model(path, 32, 4, (int32_t[]){1, 4, 4, 3}, 1.0f / 256.0f, -128, v));
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 64, 0);
    sscma_prediction r[8];
    int32_t n = 0;
    if (q != NULL && img != NULL) {
        CHECK_OK(sscma_predict(q, img, NULL, r, 8, &n));
        CHECK_INT_EQ(n, 2);
        if (n == 2) {
            check_box(&r[0], 0, 180.0f / 256.0f, 8, 4, 16, 8);
            check_box(&r[1], 1, 153.0f / 256.0f, 24, 28, 16, 8);
        }
        const char *task = NULL;
        CHECK_OK(sscma_predict_task(q, NULL, &task));
        CHECK_STR_EQ(task, "fomo");
    }
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/*
 * [1, 4] is a classifier (scores above 0.25, best first; top_k), never a PFLD unless told: then the pairs are points
 * normalised to the input, in the image's pixels.
 */
static void classifier_by_shape_pfld_only_when_told(void)
{
    const int8_t v[4] = {26 - 128, 154 - 128, 64 - 128, 77 - 128}; /* 0.10, 0.60, 0.25 (not above), 0.30 */
    const char *path = temp_path("cls.tflite");
    CHECK(write_constant_model(path, 32, 2, (int32_t[]){1, 4}, 1.0f / 256.0f, -128, v));
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 64, 0);
    sscma_prediction r[8];
    int32_t n = 0;
    if (q != NULL && img != NULL) {
        CHECK_OK(sscma_predict(q, img, NULL, r, 8, &n));
        CHECK_INT_EQ(n, 2);
        if (n == 2) {
            check_box(&r[0], 1, 154.0f / 256.0f, 0, 0, 0, 0);
            check_box(&r[1], 3, 77.0f / 256.0f, 0, 0, 0, 0);
        }
        sscma_predict_options o;
        CHECK_OK(sscma_predict_options_init(&o, sizeof o));
        o.top_k = 1;
        CHECK_OK(sscma_predict(q, img, &o, r, 8, &n));
        CHECK_INT_EQ(n, 1);
        o.task = "pfld";
        CHECK_OK(sscma_predict(q, img, &o, r, 8, &n));
        CHECK_INT_EQ(n, 2);
        if (n == 2) {
            check_box(&r[0], 0, 1.0f, 26.0f / 256.0f * 64, 154.0f / 256.0f * 32, 0, 0);
            check_box(&r[1], 1, 1.0f, 64.0f / 256.0f * 64, 77.0f / 256.0f * 32, 0, 0);
        }
        const char *task = NULL;
        CHECK_OK(sscma_predict_task(q, NULL, &task)); /* [1, N] without metadata: a classifier, as on the device */
        CHECK_STR_EQ(task, "cls");
        CHECK_FAILS(sscma_predict_task(NULL, NULL, &task), SSCMA_ERR_INVALID_ARGUMENT, "'qmodel'");
        CHECK_FAILS(sscma_predict_task(q, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'task'");
        sscma_predict_options po;
        CHECK_OK(sscma_predict_options_init(&po, sizeof po));
        po.task = "pfld";
        CHECK_OK(sscma_predict_task(q, &po, &task));
        CHECK_STR_EQ(task, "pfld");
    }
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/* A layout SSCMA-Micro does not recognise is refused, naming the layouts and --task; told "yolo", it runs. */
static void unknown_layout_is_refused_until_told(void)
{
    const char *path = temp_path("odd.tflite");
    CHECK(write_odd(path));
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 32, 0);
    sscma_prediction r[4];
    int32_t n = 0;
    if (q != NULL && img != NULL) {
        CHECK_FAILS(sscma_predict(q, img, NULL, r, 4, &n), SSCMA_ERR_UNSUPPORTED,
                    "the model has no \"family\" metadata and its layout (1 input(s), 1 output(s); input "
                    "[1, 32, 32, 3], output [1, 10, 7]) is none SSCMA-Micro recognises");
        CHECK_STR_CONTAINS(sscma_last_error(), "YOLOv5 / Swift-YOLO [1, C x ((W/32)^2 + (W/16)^2 + (W/8)^2)");
        CHECK_STR_CONTAINS(sscma_last_error(), "--task cls|fomo|pfld|yolo|rtmdet");
        sscma_predict_options o;
        CHECK_OK(sscma_predict_options_init(&o, sizeof o));
        o.task = "yolo";
        CHECK_OK(sscma_predict(q, img, &o, r, 4, &n));
        CHECK_INT_EQ(n, 1);
        if (n == 1)
            check_box(&r[0], 0, 1.275f, 32, 0, 0, 0); /* x 64 / 32 clipped to 1; the score is not clipped */
    }
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/*
 * Without mean / std metadata a file without libsscma metadata gets pixel / 255 (ModelAssistant's export; with its
 * input scale 1/255 the device's q = pixel - 128), not the raw pixels (which clamp to 127 here).
 */
static void device_normalisation_is_pixel_over_255(void)
{
    tfl_build m;
    tfl_build_init(&m);
    int32_t x = tfl_tensor(&m, "image", TFL_TYPE_INT8, 4, (int32_t[]){1, 32, 32, 3}, 1.0f / 255.0f, -128, NULL, 0);
    int32_t s = tfl_tensor(&m, "two", TFL_TYPE_INT8, 4, (int32_t[]){1, 1, 1, 2}, 1.0f / 255.0f, -128, NULL, 0);
    int32_t y = tfl_tensor(&m, "scores", TFL_TYPE_INT8, 2, (int32_t[]){1, 2}, 1.0f / 255.0f, -128, NULL, 0);
    tfl_operator(&m, TFL_OP_SLICE,
                 (int32_t[]){x, ints(&m, "b", (int32_t[]){0, 0, 0, 0}, 4), ints(&m, "s", (int32_t[]){1, 1, 1, 2}, 4)},
                 3, &s, 1)->options_type = TFL_OPT_SLICE;
    tfl_operator(&m, TFL_OP_RESHAPE, (int32_t[]){s, ints(&m, "shape", (int32_t[]){1, 2}, 2)}, 2, &y, 1);
    const char *path = temp_path("identity.tflite");
    CHECK(tfl_build_write(&m, &x, 1, &y, 1, path));
    tfl_build_free(&m);
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 32, 102);
    sscma_prediction r[2];
    int32_t n = 0;
    if (q != NULL && img != NULL) {
        CHECK_OK(sscma_predict(q, img, NULL, r, 2, &n));
        CHECK_INT_EQ(n, 2);
        CHECK(fabsf(r[0].score - 102.0f / 255.0f) < 1e-6f);
    }
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

/* A caller built against the first sscma_predict_options (12 bytes, up to top_k) keeps working: the appended
 * fields take their defaults, and options_init writes nothing past the struct it was given. */
typedef struct predict_options_v1 {
    uint32_t struct_size;
    float score_threshold;
    int32_t top_k;
} predict_options_v1;

static void first_version_options_still_work(void)
{
    CHECK_INT_EQ(sizeof(predict_options_v1), 12);
    unsigned char buf[sizeof(predict_options_v1) + 16];
    memset(buf, 0xEE, sizeof buf);
    CHECK_OK(sscma_predict_options_init((sscma_predict_options *)(void *)buf, sizeof(predict_options_v1)));
    predict_options_v1 old;
    memcpy(&old, buf, sizeof old);
    CHECK_INT_EQ(old.struct_size, 12);
    CHECK_INT_EQ(old.top_k, 5);
    CHECK(old.score_threshold < 0.0f);
    for (size_t i = sizeof old; i < sizeof buf; i++)
        CHECK_INT_EQ(buf[i], 0xEE);
    const char *path = temp_path("yolo_v1.tflite");
    CHECK(write_yolo(path));
    sscma_qmodel *q = load(path);
    sscma_tensor *img = image(32, 64, 0);
    sscma_prediction r[16];
    int32_t n = 0;
    if (q != NULL && img != NULL) {
        /* the bytes after the v1 struct (0xEE) are not read: task and iou_threshold are the defaults */
        CHECK_OK(sscma_predict(q, img, (const sscma_predict_options *)(const void *)buf, r, 16, &n));
        CHECK_INT_EQ(n, 4);
        old.score_threshold = 0.1f;
        CHECK_OK(sscma_predict(q, img, (const sscma_predict_options *)(const void *)&old, r, 16, &n));
        CHECK_INT_EQ(n, 6);
    }
    sscma_tensor_destroy(img);
    sscma_qmodel_destroy(q);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        char a[1024], b[1024];
        snprintf(a, sizeof a, "%s/yolo.tflite", argv[2]);
        snprintf(b, sizeof b, "%s/odd.tflite", argv[2]);
        return write_yolo(a) && write_odd(b) ? 0 : 1;
    }
    static const test_case cases[] = {
        TEST_CASE(yolo_is_recognised_and_decoded),
        TEST_CASE(yolo_normalised_output_is_taken_as_is),
        TEST_CASE(yolo_float_output_is_judged_by_its_first_x),
        TEST_CASE(fomo_is_recognised_and_drops_background_cells),
        TEST_CASE(classifier_by_shape_pfld_only_when_told),
        TEST_CASE(unknown_layout_is_refused_until_told),
        TEST_CASE(device_normalisation_is_pixel_over_255),
        TEST_CASE(first_version_options_still_work),
        TEST_CASE(rtmdet_is_recognised_and_decoded),
    };
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 1;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    if (tmpdir[0] != '\0')
        fixture_tmpdir_remove(tmpdir);
    return rc;
}
