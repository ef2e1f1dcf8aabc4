/*
 * Detection transforms (lib/data/detect.c, pipeline.c): the formulas against tests/golden/detect.bin (reference
 * formulas after mmyolo's code, tests/golden/gen_detect.py) fed the same random draws, then the transforms through
 * the pipeline with an in-memory sample source: Mosaic's canvas and boxes, YOLOv5MixUp's blend, YOLOv5RandomAffine's
 * border and identity, the Albu subset, determinism by (seed, sample), and the configuration messages.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "data/detect.h"
#include "golden.h"
#include "harness.h"

static sscma_context *ctx;
static golden_file golden, golden_cv;

static const golden_record *record(const char *name)
{
    const golden_record *r = golden_find(&golden, name);
    if (r == NULL)
        test_fail(__FILE__, __LINE__, "no record %s in detect.bin", name);
    return r;
}

static double f32_at(const golden_record *r, int64_t i) { return (double)((const float *)r->data)[i]; }
static int64_t i32_at(const golden_record *r, int64_t i) { return ((const int32_t *)r->data)[i]; }

/* The matrix for the stored draws (within the float32 precision mmyolo builds it in), the size, the ratio; then the
 * boxes through the stored matrix: the same survivors, the same corners. */
static void affine_matches_mmyolo(void)
{
    const golden_record *in = record("affine/in"), *m_ref = record("affine/m"), *bin = record("affine/boxes_in");
    const golden_record *bout = record("affine/boxes_out"), *kept = record("affine/kept");
    if (in == NULL || m_ref == NULL || bin == NULL || bout == NULL || kept == NULL)
        return;
    const int64_t n = in->dims[0], cols = in->dims[1], nb = bin->dims[1];
    int checked_boxes = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = (const float *)in->data + i * cols;
        const int64_t h = (int64_t)row[0], w = (int64_t)row[1];
        sscma_affine_spec s = {row[2], row[3], row[4], row[5], row[6], (int64_t)row[7], (int64_t)row[8], 2.0, 0.1,
                               20.0, true};
        double u[6], m[9], ref[9];
        for (int k = 0; k < 6; k++)
            u[k] = row[9 + k];
        int64_t oh = 0, ow = 0;
        const double scale = sscma_yolov5_affine(&s, h, w, u, m, &oh, &ow);
        CHECK(fabs(scale - row[15]) <= 1e-6 * fabs(row[15]));
        CHECK_INT_EQ(oh, (int64_t)row[16]);
        CHECK_INT_EQ(ow, (int64_t)row[17]);
        for (int k = 0; k < 9; k++) {
            ref[k] = f32_at(m_ref, i * 9 + k);
            if (!(fabs(m[k] - ref[k]) <= 2e-5 * fabs(ref[k]) + 2e-5))
                test_fail(__FILE__, __LINE__, "case %lld: m[%d] = %.9g, mmyolo %.9g", (long long)i, k, m[k], ref[k]);
        }
        float boxes[64 * 4];
        int32_t labels[64];
        for (int64_t b = 0; b < nb; b++) {
            for (int k = 0; k < 4; k++)
                boxes[4 * b + k] = (float)f32_at(bin, (i * nb + b) * 4 + k);
            labels[b] = (int32_t)b;
        }
        const int32_t got = sscma_affine_boxes(&s, ref, row[15], oh, ow, boxes, labels, (int32_t)nb);
        CHECK_INT_EQ(got, i32_at(kept, i));
        for (int32_t b = 0; b < got; b++, checked_boxes++)
            for (int k = 0; k < 4; k++) {
                const double want = f32_at(bout, (i * nb + b) * 4 + k);
                if (!(fabs(boxes[4 * b + k] - want) <= 1e-3 + 1e-5 * fabs(want)))
                    test_fail(__FILE__, __LINE__, "case %lld box %d[%d] = %.6g, mmyolo %.6g", (long long)i, (int)b, k,
                              (double)boxes[4 * b + k], want);
            }
    }
    CHECK(checked_boxes > 100); /* the cases keep boxes and drop some: the filter is exercised both ways */
}

/* LetterResize's size and padding for 74 sizes x 5 flag sets, exact halves included (Python's round). */
static void letterbox_matches_mmyolo(void)
{
    const golden_record *r = record("letterbox");
    if (r == NULL)
        return;
    for (int64_t i = 0; i < r->dims[0]; i++) {
        const int32_t *row = (const int32_t *)r->data + i * r->dims[1];
        sscma_letterbox_params lb;
        sscma_letterbox(row[0], row[1], row[2], row[3], row[4] != 0, row[5] != 0, row[6] != 0, &lb);
        const int64_t got[8] = {lb.nh, lb.nw, lb.top, lb.bottom, lb.left, lb.right, lb.oh, lb.ow};
        for (int k = 0; k < 8; k++)
            if (got[k] != row[7 + k])
                test_fail(__FILE__, __LINE__, "%dx%d into %dx%d (up %d, mini %d, stretch %d): field %d is %lld, mmyolo "
                          "%d", row[0], row[1], row[2], row[3], row[4], row[5], row[6], k, (long long)got[k], row[7 + k]);
    }
}

static void keep_ratio_matches_mmyolo(void)
{
    const golden_record *r = record("keep_ratio"), *ratios = record("keep_ratio/ratio");
    if (r == NULL || ratios == NULL)
        return;
    for (int64_t i = 0; i < r->dims[0]; i++) {
        const int32_t *row = (const int32_t *)r->data + i * 6;
        int64_t nh, nw;
        const double ratio = sscma_keep_ratio_size(row[0], row[1], row[2], row[3], &nh, &nw);
        CHECK(fabs(ratio - f32_at(ratios, i)) <= 1e-6 * f32_at(ratios, i));
        CHECK_INT_EQ(nh, row[4]);
        CHECK_INT_EQ(nw, row[5]);
    }
}

static void mosaic_placement_matches_mmyolo(void)
{
    const golden_record *r = record("mosaic");
    if (r == NULL)
        return;
    for (int64_t i = 0; i < r->dims[0]; i++) {
        const int32_t *row = (const int32_t *)r->data + i * 15;
        int64_t paste[4], crop[4];
        sscma_mosaic_place(row[0], row[1], row[2], row[3], row[4], row[5], row[6], paste, crop);
        for (int k = 0; k < 4; k++) {
            CHECK_INT_EQ(paste[k], row[7 + k]);
            CHECK_INT_EQ(crop[k], row[11 + k]);
        }
    }
}

static void hsv_lut_matches_mmyolo(void)
{
    const golden_record *g = record("hsv/gains"), *l = record("hsv/lut");
    if (g == NULL || l == NULL)
        return;
    for (int64_t i = 0; i < g->dims[0]; i++) {
        const double gains[3] = {f32_at(g, 3 * i), f32_at(g, 3 * i + 1), f32_at(g, 3 * i + 2)};
        uint8_t lut[3][256];
        sscma_hsv_lut(gains, lut);
        for (int k = 0; k < 3; k++)
            for (int v = 0; v < 256; v++)
                if (lut[k][v] != i32_at(l, (i * 3 + k) * 256 + v))
                    test_fail(__FILE__, __LINE__, "gains %lld table %d [%d] = %d, mmyolo %lld", (long long)i, k, v,
                              lut[k][v], (long long)i32_at(l, (i * 3 + k) * 256 + v));
    }
}

/* Against OpenCV 4 itself (tests/golden/gen_detect_cv.py): mmyolo's HSV path with the gain tables. RGB->HSV is
 * exact; HSV->RGB is OpenCV's float formula, whose vectorised form rounds a handful of exact float ties (x.5 after
 * * 255) down where ours rounds to even: 4 of 55,296 channels here, by one level. */
static void hsv_pixels_match_opencv(void)
{
    const golden_record *in = golden_find(&golden_cv, "hsv_cv/in"), *g = golden_find(&golden_cv, "hsv_cv/gains");
    const golden_record *out = golden_find(&golden_cv, "hsv_cv/out");
    CHECK(in != NULL && g != NULL && out != NULL);
    if (in == NULL || g == NULL || out == NULL)
        return;
    const int64_t n = in->dims[0] * in->dims[1];
    float *px = malloc((size_t)n * 3 * sizeof *px);
    int64_t wrong = 0, worst = 0;
    for (int64_t k = 0; k < g->dims[0]; k++) {
        for (int64_t i = 0; i < n * 3; i++)
            px[i] = (float)i32_at(in, i);
        sscma_image img = {.ctx = ctx, .data = px, .h = in->dims[0], .w = in->dims[1], .c = 3};
        const double gains[3] = {f32_at(g, 3 * k), f32_at(g, 3 * k + 1), f32_at(g, 3 * k + 2)};
        uint8_t lut[3][256];
        sscma_hsv_lut(gains, lut);
        sscma_hsv_apply_lut(&img, lut);
        for (int64_t i = 0; i < n * 3; i++) {
            const int64_t d = llabs((int64_t)px[i] - i32_at(out, k * n * 3 + i));
            wrong += d != 0, worst = d > worst ? d : worst;
        }
    }
    if (wrong > 4 || worst > 1)
        test_fail(__FILE__, __LINE__, "%lld of %lld channels differ from OpenCV (at most by %lld)", (long long)wrong,
                  (long long)(n * 3 * g->dims[0]), (long long)worst);
    free(px);
}

static void clahe_matches_opencv(void)
{
    for (int c = 0; c < 5; c++) {
        char name[3][48];
        snprintf(name[0], sizeof name[0], "clahe_cv/%d/params", c);
        snprintf(name[1], sizeof name[1], "clahe_cv/%d/in", c);
        snprintf(name[2], sizeof name[2], "clahe_cv/%d/out", c);
        const golden_record *pr = golden_find(&golden_cv, name[0]), *in = golden_find(&golden_cv, name[1]);
        const golden_record *out = golden_find(&golden_cv, name[2]);
        CHECK(pr != NULL && in != NULL && out != NULL);
        if (pr == NULL || in == NULL || out == NULL)
            continue;
        const int64_t h = (int64_t)f32_at(pr, 0), w = (int64_t)f32_at(pr, 1);
        uint8_t *plane = malloc((size_t)(h * w));
        for (int64_t i = 0; i < h * w; i++)
            plane[i] = (uint8_t)i32_at(in, i);
        CHECK(sscma_clahe_u8(ctx, plane, h, w, f32_at(pr, 2), (int32_t)f32_at(pr, 3), (int32_t)f32_at(pr, 4)));
        int64_t wrong = 0;
        for (int64_t i = 0; i < h * w; i++)
            wrong += plane[i] != i32_at(out, i);
        if (wrong != 0)
            test_fail(__FILE__, __LINE__, "case %d (%lldx%lld): %lld pixels differ from OpenCV's CLAHE", c, (long long)h,
                      (long long)w, (long long)wrong);
        free(plane);
    }
}

/* ---- through the pipeline ---- */

/* Five samples: sample i is (20 + 4 i) x (30 - 2 i) RGB of the value 10 (i + 1), with one box [4, 4, 14, 12] of
 * class i. */
#define N_SOURCE 5

static sscma_status load_constant(void *arg, int64_t index, sscma_image *img)
{
    (void)arg;
    const int64_t h = 20 + 4 * index, w = 30 - 2 * index, n = h * w * 3;
    img->box_ctx = img->ctx;
    float *d = sscma_mrealloc(img->ctx, img->data, (size_t)n * sizeof *d);
    float *b = sscma_malloc(img->ctx, 4 * sizeof *b);
    int32_t *l = sscma_malloc(img->ctx, sizeof *l);
    if (d == NULL || b == NULL || l == NULL) {
        sscma_mfree(img->ctx, b), sscma_mfree(img->ctx, l);
        return SSCMA_ERR_OUT_OF_MEMORY;
    }
    for (int64_t i = 0; i < n; i++)
        d[i] = 10.0f * (float)(index + 1);
    b[0] = 4, b[1] = 4, b[2] = 14, b[3] = 12, l[0] = (int32_t)index;
    img->data = d, img->capacity = (size_t)n, img->h = h, img->w = w, img->c = 3;
    img->boxes = b, img->box_labels = l, img->n_boxes = 1, img->box_capacity = 1;
    return SSCMA_OK;
}

static const sscma_sample_source source = {N_SOURCE, NULL, load_constant};

typedef struct run_result {
    sscma_image img;
    sscma_status st;
} run_result;

/* `pipeline` (JSON) on sample `sample` loaded from the source, with the seed; the result's image owns its buffers. */
static run_result run(const char *pipeline, uint64_t seed, int64_t sample, bool with_source)
{
    run_result r = {.img = {.ctx = ctx}, .st = SSCMA_OK};
    json_error_t err;
    json_t *list = json_loads(pipeline, 0, &err);
    sscma_pipeline *p = NULL;
    sscma_image scratch = {.ctx = ctx};
    r.st = sscma_pipeline_create(ctx, list, &p);
    if (r.st == SSCMA_OK)
        r.st = load_constant(NULL, sample, &r.img);
    if (r.st == SSCMA_OK)
        r.st = sscma_pipeline_apply_mixed(p, &r.img, &scratch, seed, (uint64_t)sample, with_source ? &source : NULL);
    sscma_mfree(ctx, scratch.data);
    sscma_pipeline_destroy(p);
    json_decref(list);
    return r;
}

static void release(run_result *r)
{
    sscma_mfree(ctx, r->img.data), sscma_mfree(ctx, r->img.boxes), sscma_mfree(ctx, r->img.box_labels);
    memset(r, 0, sizeof *r);
}

static bool same_result(const run_result *a, const run_result *b)
{
    if (a->img.h != b->img.h || a->img.w != b->img.w || a->img.c != b->img.c || a->img.n_boxes != b->img.n_boxes)
        return false;
    return memcmp(a->img.data, b->img.data, (size_t)(a->img.h * a->img.w * a->img.c) * sizeof(float)) == 0 &&
           (a->img.n_boxes == 0 || memcmp(a->img.boxes, b->img.boxes, (size_t)a->img.n_boxes * 4 * sizeof(float)) == 0);
}

/* Mosaic: a 2h x 2w canvas of 114 and the four samples' values; boxes inside it with the samples' classes, one per
 * sample that shows; the same (seed, sample) gives the same canvas, another sample or seed another. */
static void mosaic_builds_the_canvas(void)
{
    const char *pipe = "[{\"type\": \"Mosaic\", \"img_scale\": [32, 24], \"pad_val\": 114}]";
    run_result a = run(pipe, 7, 2, true), b = run(pipe, 7, 2, true), c = run(pipe, 7, 3, true), d = run(pipe, 8, 2, true);
    CHECK_OK(a.st);
    CHECK_INT_EQ(a.img.h, 48);
    CHECK_INT_EQ(a.img.w, 64);
    CHECK(same_result(&a, &b));
    CHECK(!same_result(&a, &c) && !same_result(&a, &d));
    int values[6] = {0};
    for (int64_t i = 0; a.st == SSCMA_OK && i < a.img.h * a.img.w * 3; i++) {
        const float v = a.img.data[i];
        const int k = v == 114.0f ? 0 : fmodf(v, 10.0f) == 0.0f && v >= 10.0f && v <= 50.0f ? (int)(v / 10.0f) : -1;
        CHECK(k >= 0);
        if (k >= 0)
            values[k]++;
    }
    CHECK(values[3] > 0); /* the sample itself (value 30) is on the canvas, top left of the centre */
    CHECK(a.img.n_boxes >= 1 && a.img.n_boxes <= 4);
    for (int32_t i = 0; i < a.img.n_boxes; i++) {
        const float *bx = a.img.boxes + 4 * i;
        CHECK(bx[0] >= 0.0f && bx[1] >= 0.0f && bx[2] <= 64.0f && bx[3] <= 48.0f && bx[2] > bx[0] && bx[3] > bx[1]);
        /* the box's pixels carry its sample's value (class k is sample k, value 10 (k + 1)) */
        const int64_t cx = (int64_t)((bx[0] + bx[2]) / 2), cy = (int64_t)((bx[1] + bx[3]) / 2);
        CHECK(a.img.data[(cy * 64 + cx) * 3] == 10.0f * (float)(a.img.box_labels[i] + 1));
    }
    CHECK_INT_EQ(a.img.box_labels[0], 2); /* the image's own box first */
    release(&a), release(&b), release(&c), release(&d);
    run_result e = run(pipe, 7, 2, false);
    CHECK_INT_EQ(e.st, SSCMA_ERR_CONFIG);
    CHECK_STR_CONTAINS(sscma_last_error(), "Mosaic needs other samples of the dataset");
    release(&e);
    run_result f = run("[{\"type\": \"Mosaic\", \"img_scale\": [32, 24], \"prob\": 0}]", 7, 2, false);
    CHECK_OK(f.st); /* not applied: the image is untouched, and no source is needed */
    CHECK_INT_EQ(f.img.h, 28);
    release(&f);
}

/* YOLOv5MixUp after a Resize (the same in pre_transform): every pixel a r + b (1 - r) with one r near 0.5. */
static void mixup_blends_two_samples(void)
{
    const char *pipe = "[{\"type\": \"Resize\", \"size\": [16, 16]}, {\"type\": \"YOLOv5MixUp\", \"pre_transform\": "
                       "[{\"type\": \"LoadImageFromFile\"}, {\"type\": \"mmdet.Resize\", \"size\": [16, 16]}]}]";
    int mixed = 0;
    for (int64_t s = 0; s < N_SOURCE; s++) {
        run_result a = run(pipe, 3, s, true);
        CHECK_OK(a.st);
        if (a.st != SSCMA_OK)
            continue;
        CHECK_INT_EQ(a.img.n_boxes, 2);
        CHECK_INT_EQ(a.img.box_labels[0], s);
        const int64_t other = a.img.box_labels[1];
        const double va = 10.0 * (double)(s + 1), vb = 10.0 * (double)(other + 1);
        for (int64_t i = 1; i < 16 * 16 * 3; i++)
            CHECK(a.img.data[i] == a.img.data[0]);
        if (other != s) {
            const double r = ((double)a.img.data[0] - vb) / (va - vb);
            CHECK(r > 0.2 && r < 0.8);
            mixed++;
        }
        release(&a);
    }
    CHECK(mixed > 0);
    run_result b = run("[{\"type\": \"YOLOv5MixUp\"}]", 3, 1, true); /* the other sample has another size */
    CHECK_INT_EQ(b.st, SSCMA_ERR_SHAPE);
    CHECK_STR_CONTAINS(sscma_last_error(), "YOLOv5MixUp: the mixed-in sample is");
    release(&b);
}

/* ---- mmcv / mmdet transforms of SSCMA's RTMDet recipe: the expected values restate mmcv's and mmdet's formulas
 * (RandomResize + Resize's rescale rule, RandomCrop's offsets, Pad's sizes, MixUp's geometry) on the same draws ---- */

static uint64_t stream_of(uint64_t seed, int position)
{
    return sscma_hash64(seed ^ ((uint64_t)position << 48));
}

static void check_box(const run_result *r, int32_t i, double x1, double y1, double x2, double y2, int line)
{
    if (i >= r->img.n_boxes) {
        test_fail(__FILE__, line, "box %d missing (%d boxes)", (int)i, (int)r->img.n_boxes);
        return;
    }
    const float *b = r->img.boxes + 4 * i;
    if (b[0] != (float)x1 || b[1] != (float)y1 || b[2] != (float)x2 || b[3] != (float)y2)
        test_fail(__FILE__, line, "box %d is [%.9g, %.9g, %.9g, %.9g], expected [%.9g, %.9g, %.9g, %.9g]", (int)i,
                  (double)b[0], (double)b[1], (double)b[2], (double)b[3], (double)(float)x1, (double)(float)y1,
                  (double)(float)x2, (double)(float)y2);
}

/* RandomResize: scale (60, 40) times r = 0.5 + 1.5 u; keep_ratio: mmcv's rescale factor min(long / long, short /
 * short), sizes int(x f + 0.5); without keep_ratio exactly the drawn scale; two scales: each edge an integer in its
 * range. Boxes by new / old per axis. */
static void random_resize_follows_mmcv(void)
{
    int sizes_seen = 0;
    int64_t last_w = -1;
    for (uint64_t seed = 1; seed <= 6; seed++)
        for (int keep = 0; keep < 2; keep++) {
            const int64_t sample = (int64_t)seed % N_SOURCE, h = 20 + 4 * sample, w = 30 - 2 * sample;
            const char *pipe = keep ? "[{\"type\": \"RandomResize\", \"scale\": [60, 40], \"ratio_range\": [0.5, 2.0], "
                                      "\"resize_type\": \"Resize\", \"keep_ratio\": true}]"
                                    : "[{\"type\": \"RandomResize\", \"scale\": [60, 40], \"ratio_range\": [0.5, 2.0]}]";
            run_result a = run(pipe, seed, sample, false);
            CHECK_OK(a.st);
            const double r = 0.5 + (double)sscma_uniform(stream_of(seed, 0), (uint64_t)sample, 0) * 1.5;
            const int64_t tw = (int64_t)(60 * r), th = (int64_t)(40 * r);
            int64_t nw = tw, nh = th;
            if (keep) {
                const double f = fmin((double)(tw > th ? tw : th) / (double)(h > w ? h : w),
                                      (double)(tw < th ? tw : th) / (double)(h < w ? h : w));
                nw = (int64_t)((double)w * f + 0.5), nh = (int64_t)((double)h * f + 0.5);
            }
            CHECK_INT_EQ(a.img.w, nw);
            CHECK_INT_EQ(a.img.h, nh);
            const float sx = (float)((double)nw / (double)w), sy = (float)((double)nh / (double)h);
            CHECK_INT_EQ(a.img.n_boxes, 1);
            check_box(&a, 0, 4.0f * sx, 4.0f * sy, 14.0f * sx, 12.0f * sy, __LINE__);
            CHECK(a.st != SSCMA_OK || a.img.data[0] == 10.0f * (float)(sample + 1));
            sizes_seen += a.img.w != last_w, last_w = a.img.w;
            release(&a);
        }
    CHECK(sizes_seen > 3); /* the draws do vary */
    /* mmcv's example: a 28 x 26 image (sample 2) into scale (52, 28) with keep_ratio: f = min(52 / 28, 28 / 26)
     * = 14 / 13, 26 x 28 -> int(28 + 0.5) x int(30.15 + 0.5) = 28 x 30 */
    run_result b = run("[{\"type\": \"RandomResize\", \"scale\": [52, 28], \"ratio_range\": [1, 1], \"keep_ratio\": "
                       "true}]", 1, 2, false);
    CHECK_OK(b.st);
    CHECK_INT_EQ(b.img.w, 28);
    CHECK_INT_EQ(b.img.h, 30);
    release(&b);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        run_result c = run("[{\"type\": \"RandomResize\", \"scale\": [[40, 30], [60, 50]]}]", seed, 0, false);
        CHECK_OK(c.st);
        const uint64_t st = stream_of(seed, 0);
        CHECK_INT_EQ(c.img.w, 40 + (int64_t)(sscma_uniform(st, 0, 0) * 21.0f));
        CHECK_INT_EQ(c.img.h, 30 + (int64_t)(sscma_uniform(st, 0, 1) * 21.0f));
        release(&c);
    }
}

/* The first try (k) whose crop keeps some of the box [4, 4, 14, 12] of an h x w image; CROP_TRIES (10) - 1 if none. */
static int crop_try(uint64_t st, uint64_t sample, int64_t h, int64_t w, int64_t ch, int64_t cw, int64_t *oy,
                    int64_t *ox)
{
    int k = 0;
    for (k = 0; k < 10; k++) {
        *oy = (int64_t)(sscma_uniform(st, sample, 4 * (uint64_t)k + 2) * (float)(h - ch + 1));
        *ox = (int64_t)(sscma_uniform(st, sample, 4 * (uint64_t)k + 3) * (float)(w - cw + 1));
        if (fmin(14.0 - (double)*ox, (double)cw) > fmax(4.0 - (double)*ox, 0.0) &&
            fmin(12.0 - (double)*oy, (double)ch) > fmax(4.0 - (double)*oy, 0.0))
            return k;
    }
    return 9;
}

/* mmdet's RandomCrop: crop_size (w, h) capped by the image, offsets randint(0, margin + 1), no padding; the box
 * shifted and clipped; a crop without any box drawn again (mmdet refetches), the last try kept when none holds one;
 * allow_negative_crop takes the first. */
static void random_crop_follows_mmdet(void)
{
    int retried = 0, emptied = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        const int64_t sample = (int64_t)seed % N_SOURCE, h = 20 + 4 * sample, w = 30 - 2 * sample;
        run_result a = run("[{\"type\": \"RandomCrop\", \"crop_size\": [16, 12]}]", seed, sample, false);
        CHECK_OK(a.st);
        CHECK_INT_EQ(a.img.h, 12);
        CHECK_INT_EQ(a.img.w, 16);
        int64_t oy, ox;
        const int k = crop_try(stream_of(seed, 0), (uint64_t)sample, h, w, 12, 16, &oy, &ox);
        check_box(&a, 0, fmax(4.0 - (double)ox, 0), fmax(4.0 - (double)oy, 0), fmin(14.0 - (double)ox, 16),
                  fmin(12.0 - (double)oy, 12), __LINE__);
        CHECK(k == 0 || a.img.n_boxes == 1);
        release(&a);
        /* a 4 x 3 crop often misses the box: the retries */
        run_result b = run("[{\"type\": \"RandomCrop\", \"crop_size\": [4, 3], \"crop_type\": \"absolute\"}]", seed,
                           sample, false);
        run_result c = run("[{\"type\": \"RandomCrop\", \"crop_size\": [4, 3], \"allow_negative_crop\": true}]", seed,
                           sample, false);
        CHECK_OK(b.st);
        CHECK_OK(c.st);
        const int kb = crop_try(stream_of(seed, 0), (uint64_t)sample, h, w, 3, 4, &oy, &ox);
        const bool kept = fmin(14.0 - (double)ox, 4) > fmax(4.0 - (double)ox, 0) &&
                          fmin(12.0 - (double)oy, 3) > fmax(4.0 - (double)oy, 0);
        CHECK_INT_EQ(b.img.n_boxes, kept ? 1 : 0);
        if (kept)
            check_box(&b, 0, fmax(4.0 - (double)ox, 0), fmax(4.0 - (double)oy, 0), fmin(14.0 - (double)ox, 4),
                      fmin(12.0 - (double)oy, 3), __LINE__);
        retried += kb > 0 && kept, emptied += !kept;
        int64_t oy0 = (int64_t)(sscma_uniform(stream_of(seed, 0), (uint64_t)sample, 2) * (float)(h - 3 + 1));
        int64_t ox0 = (int64_t)(sscma_uniform(stream_of(seed, 0), (uint64_t)sample, 3) * (float)(w - 4 + 1));
        const bool kept0 = fmin(14.0 - (double)ox0, 4) > fmax(4.0 - (double)ox0, 0) &&
                           fmin(12.0 - (double)oy0, 3) > fmax(4.0 - (double)oy0, 0);
        CHECK_INT_EQ(c.img.n_boxes, kept0 ? 1 : 0); /* allow_negative_crop: the first draw, box or not */
        CHECK(b.img.h == 3 && b.img.w == 4 && c.img.h == 3 && c.img.w == 4);
        release(&b), release(&c);
    }
    CHECK(retried > 0); /* some sample needed another draw */
    (void)emptied;
    /* crop larger than the image: the whole image (sample 0 is 20 x 30), no padding; relative: int(h r + 0.5) */
    run_result d = run("[{\"type\": \"RandomCrop\", \"crop_size\": [64, 64]}]", 3, 0, false);
    CHECK(d.st == SSCMA_OK && d.img.h == 20 && d.img.w == 30);
    check_box(&d, 0, 4, 4, 14, 12, __LINE__);
    release(&d);
    run_result e = run("[{\"type\": \"RandomCrop\", \"crop_size\": [0.5, 0.25], \"crop_type\": \"relative\"}]", 3, 0,
                       false);
    CHECK(e.st == SSCMA_OK && e.img.h == 5 && e.img.w == 15); /* (w, h) ratios: int(20 * 0.25 + 0.5), int(30 * 0.5 + 0.5) */
    release(&e);
}

/* mmdet's Pad: size (w, h) at the bottom right with pad_val {"img": [114, 114, 114]}, size_divisor, pad_to_square. */
static void pad_follows_mmdet(void)
{
    run_result a = run("[{\"type\": \"Pad\", \"size\": [32, 24], \"pad_val\": {\"img\": [114, 114, 114]}}]", 1, 0,
                       false);
    CHECK_OK(a.st);
    CHECK(a.img.h == 24 && a.img.w == 32);
    CHECK(a.st != SSCMA_OK || (a.img.data[0] == 10.0f && a.img.data[(0 * 32 + 31) * 3] == 114.0f &&
                               a.img.data[(23 * 32 + 0) * 3 + 2] == 114.0f && a.img.data[(19 * 32 + 29) * 3] == 10.0f));
    check_box(&a, 0, 4, 4, 14, 12, __LINE__);
    release(&a);
    run_result b = run("[{\"type\": \"Pad\", \"size_divisor\": 16, \"pad_val\": 7}]", 1, 1, false); /* 24 x 28 */
    CHECK(b.st == SSCMA_OK && b.img.h == 32 && b.img.w == 32 && b.img.data[(31 * 32 + 31) * 3] == 7.0f);
    release(&b);
    run_result c = run("[{\"type\": \"Pad\", \"pad_to_square\": true}]", 1, 0, false); /* 20 x 30 */
    CHECK(c.st == SSCMA_OK && c.img.h == 30 && c.img.w == 30 && c.img.data[(29 * 30) * 3] == 0.0f);
    release(&c);
    run_result d = run("[{\"type\": \"Pad\", \"pad_to_square\": true, \"size_divisor\": 32, \"pad_val\": {\"img\": "
                       "114}}]", 1, 4, false); /* 36 x 22 -> 36 x 36 -> 64 x 64 */
    CHECK(d.st == SSCMA_OK && d.img.h == 64 && d.img.w == 64);
    release(&d);
}

/* mmdet's MixUp: the other sample (index draw 1) resized by s = min(32 / H', 32 / W') onto a 32 x 32 canvas, jittered
 * by j (draw 100), flipped when draw 101 > flip_ratio, cropped at (draw 102, draw 103); its box scaled by s j,
 * clipped, mirrored, shifted, clipped, appended; pixels half and half. */
static void mixup_follows_mmdet(void)
{
    int flips = 0, appended = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        const int64_t sample = (int64_t)seed % N_SOURCE, h = 20 + 4 * sample, w = 30 - 2 * sample;
        run_result a = run("[{\"type\": \"MixUp\", \"img_scale\": [32, 32], \"ratio_range\": [0.5, 1.5], "
                           "\"flip_ratio\": 0.5, \"pad_val\": 114}]", seed, sample, true);
        CHECK_OK(a.st);
        if (a.st != SSCMA_OK)
            continue;
        const uint64_t st = stream_of(seed, 0);
        int64_t k = (int64_t)(sscma_uniform(st, (uint64_t)sample, 1) * (float)N_SOURCE);
        const int64_t oh = 20 + 4 * k, ow = 30 - 2 * k;
        const double s = fmin(32.0 / (double)oh, 32.0 / (double)ow);
        const double j = 0.5 + (double)sscma_uniform(st, (uint64_t)sample, 100);
        const bool flip = sscma_uniform(st, (uint64_t)sample, 101) > 0.5f;
        const int64_t jh = (int64_t)(32 * j), jw = (int64_t)(32 * j);
        const int64_t ph = jh > h ? jh : h, pw = jw > w ? jw : w;
        const int64_t oy = ph > h ? (int64_t)((double)sscma_uniform(st, (uint64_t)sample, 102) * (double)(ph - h + 1)) : 0;
        const int64_t ox = pw > w ? (int64_t)((double)sscma_uniform(st, (uint64_t)sample, 103) * (double)(pw - w + 1)) : 0;
        double x1 = fmin(4 * s * j, (double)jw), x2 = fmin(14 * s * j, (double)jw);
        const double y1 = fmin(4 * s * j, (double)jh), y2 = fmin(12 * s * j, (double)jh);
        if (flip) {
            const double t = (double)jw - x2;
            x2 = (double)jw - x1, x1 = t;
        }
        const double bx1 = fmin(fmax(x1 - (double)ox, 0), (double)w), bx2 = fmin(fmax(x2 - (double)ox, 0), (double)w);
        const double by1 = fmin(fmax(y1 - (double)oy, 0), (double)h), by2 = fmin(fmax(y2 - (double)oy, 0), (double)h);
        const bool inside = (float)bx2 > (float)bx1 && (float)by2 > (float)by1;
        CHECK(a.img.h == h && a.img.w == w);
        CHECK_INT_EQ(a.img.n_boxes, inside ? 2 : 1);
        check_box(&a, 0, 4, 4, 14, 12, __LINE__); /* the image's own box first */
        if (inside) {
            check_box(&a, 1, bx1, by1, bx2, by2, __LINE__);
            CHECK_INT_EQ(a.img.box_labels[1], k);
            appended++;
            /* the mixed-in box's middle: half this sample's value, half the other's */
            const int64_t cx = (int64_t)((bx1 + bx2) / 2), cy = (int64_t)((by1 + by2) / 2);
            if (bx2 - bx1 > 4 && by2 - by1 > 4)
                CHECK_NEAR(a.img.data[(cy * w + cx) * 3], 5.0f * (float)(sample + 1) + 5.0f * (float)(k + 1), 1e-4);
        }
        flips += flip;
        run_result b = run("[{\"type\": \"MixUp\", \"img_scale\": [32, 32], \"ratio_range\": [0.5, 1.5], "
                           "\"flip_ratio\": 0.5, \"pad_val\": 114}]", seed, sample, true);
        CHECK(same_result(&a, &b));
        release(&a), release(&b);
    }
    CHECK(flips > 0 && flips < 12 && appended > 0);
    /* use_cached: the other sample first goes through the steps before MixUp (here a Resize to 16 x 16), so s = 1 */
    for (uint64_t seed = 1; seed <= 4; seed++) {
        run_result c = run("[{\"type\": \"Resize\", \"size\": [16, 16]}, {\"type\": \"MixUp\", \"img_scale\": [16, 16], "
                           "\"use_cached\": true, \"max_cached_images\": 10, \"random_pop\": false, \"prob\": 1, "
                           "\"flip_ratio\": 1}]", seed, 0, true);
        CHECK_OK(c.st);
        const uint64_t st = stream_of(seed, 1);
        const int64_t k = (int64_t)(sscma_uniform(st, 0, 1) * (float)N_SOURCE);
        const float sx = (float)16 / (float)(30 - 2 * k), sy = (float)16 / (float)(20 + 4 * k);
        const double j = 0.5 + (double)sscma_uniform(st, 0, 100);
        const int64_t jn = (int64_t)(16 * j);
        const int64_t o = jn > 16 ? (int64_t)((double)sscma_uniform(st, 0, 102) * (double)(jn - 16 + 1)) : 0;
        const int64_t q = jn > 16 ? (int64_t)((double)sscma_uniform(st, 0, 103) * (double)(jn - 16 + 1)) : 0;
        CHECK(c.st == SSCMA_OK && c.img.h == 16 && c.img.n_boxes == 2); /* a 16 x 16 box area cannot miss */
        check_box(&c, 1, fmin(fmax(fmin(4.0f * sx * j, (double)jn) - (double)q, 0), 16),
                  fmin(fmax(fmin(4.0f * sy * j, (double)jn) - (double)o, 0), 16),
                  fmin(fmax(fmin(14.0f * sx * j, (double)jn) - (double)q, 0), 16),
                  fmin(fmax(fmin(12.0f * sy * j, (double)jn) - (double)o, 0), 16), __LINE__);
        release(&c);
    }
    run_result d = run("[{\"type\": \"MixUp\"}]", 1, 0, false);
    CHECK_INT_EQ(d.st, SSCMA_ERR_CONFIG);
    CHECK_STR_CONTAINS(sscma_last_error(), "MixUp needs other samples of the dataset");
    release(&d);
}

/* Beta(32, 32) draws: mean 1/2, variance ab / ((a + b)^2 (a + b + 1)) = 1/260. */
static void beta_draws_have_the_moments(void)
{
    double sum = 0.0, sq = 0.0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        const double x = sscma_beta_sample(32.0, 32.0, 99, (uint64_t)i);
        sum += x, sq += x * x;
    }
    const double mean = sum / n, var = sq / n - mean * mean;
    CHECK(fabs(mean - 0.5) < 0.002);
    CHECK(fabs(var - 1.0 / 260.0) < 0.0003);
    double s2 = 0.0; /* a skewed case: Beta(0.5, 2) has mean 0.2 */
    for (int i = 0; i < n; i++)
        s2 += sscma_beta_sample(0.5, 2.0, 5, (uint64_t)i);
    CHECK(fabs(s2 / n - 0.2) < 0.005);
    for (int i = 0; i < 200; i++) { /* alpha = beta = 0.01: the gammas underflow; still a number in [0, 1] */
        const double x = sscma_beta_sample(0.01, 0.01, 8, (uint64_t)i);
        CHECK(x >= 0.0 && x <= 1.0);
    }
}

/* YOLOv5RandomAffine: with nothing random it is the identity (translation 0.5 of the output undoes the centring);
 * a negative border crops the centre (after Mosaic, back to img_scale). */
static void yolov5_affine_identity_and_border(void)
{
    run_result a = run("[{\"type\": \"YOLOv5RandomAffine\", \"max_rotate_degree\": 0, \"max_shear_degree\": 0, "
                       "\"max_translate_ratio\": 0, \"scaling_ratio_range\": [1, 1]}]", 1, 1, false);
    CHECK_OK(a.st);
    CHECK_INT_EQ(a.img.h, 24);
    CHECK_INT_EQ(a.img.w, 28);
    for (int64_t i = 0; a.st == SSCMA_OK && i < 24 * 28 * 3; i++)
        CHECK(fabsf(a.img.data[i] - 20.0f) < 1e-4f);
    CHECK_INT_EQ(a.img.n_boxes, 1);
    CHECK(a.img.n_boxes == 1 && fabsf(a.img.boxes[0] - 4.0f) < 1e-4f && fabsf(a.img.boxes[3] - 12.0f) < 1e-4f);
    release(&a);
    const char *pipe = "[{\"type\": \"Mosaic\", \"img_scale\": [32, 24]}, {\"type\": \"YOLOv5RandomAffine\", "
                       "\"max_rotate_degree\": 0, \"max_shear_degree\": 0, \"scaling_ratio_range\": [0.5, 1.5], "
                       "\"border\": [-16, -12], \"border_val\": [114, 114, 114]}]";
    run_result b = run(pipe, 4, 0, true);
    CHECK_OK(b.st);
    CHECK_INT_EQ(b.img.h, 24);
    CHECK_INT_EQ(b.img.w, 32);
    for (int32_t i = 0; i < b.img.n_boxes; i++) { /* survivors of the candidate rules */
        const float *bx = b.img.boxes + 4 * i;
        CHECK(bx[2] - bx[0] > 2.0f && bx[3] - bx[1] > 2.0f && bx[0] >= 0.0f && bx[2] <= 32.0f && bx[3] <= 24.0f);
    }
    release(&b);
}

/* YOLOv5HSVRandomAug on grey keeps it grey (saturation 0: only the value table acts); with zero deltas the tables
 * are the identity and the image comes back rounded to 8 bits. */
static void yolov5_hsv_keeps_grey_and_identity(void)
{
    run_result a = run("[{\"type\": \"YOLOv5HSVRandomAug\"}]", 5, 2, false);
    CHECK_OK(a.st);
    for (int64_t i = 0; a.st == SSCMA_OK && i < a.img.h * a.img.w * 3; i++)
        CHECK(a.img.data[i] == a.img.data[0]);
    CHECK(a.st != SSCMA_OK || (a.img.data[0] >= 18.0f && a.img.data[0] <= 42.0f)); /* 30 * (1 +- 0.4) */
    release(&a);
    sscma_image img = {.ctx = ctx};
    float px[6] = {200.0f, 40.0f, 90.0f, 13.0f, 250.0f, 128.0f};
    img.data = px, img.h = 1, img.w = 2, img.c = 3;
    uint8_t lut[3][256];
    const double one[3] = {1.0, 1.0, 1.0};
    sscma_hsv_lut(one, lut);
    sscma_hsv_apply_lut(&img, lut);
    /* OpenCV's 8-bit round trip, worked by hand: (200, 40, 90) -> H 171 S 204 V 200 -> (200, 40, 88);
     * (13, 250, 128) -> H 74 S 242 V 250 -> (13, 250, 123) (the hue's 2-degree steps move the middle channel) */
    const float want[6] = {200.0f, 40.0f, 88.0f, 13.0f, 250.0f, 123.0f};
    for (int k = 0; k < 6; k++)
        CHECK(px[k] == want[k]);
}

/* Albu: ToGray gives three equal channels; Blur and MedianBlur keep a flat image flat; CLAHE stretches a low-contrast
 * ramp; p 0 does nothing; the same draws give the same result. */
static void albu_subset(void)
{
    run_result a = run("[{\"type\": \"Albu\", \"transforms\": [{\"type\": \"Blur\", \"p\": 1}, {\"type\": \"MedianBlur\", "
                       "\"p\": 1}, {\"type\": \"ToGray\", \"p\": 1}, {\"type\": \"CLAHE\", \"p\": 0}]}]", 2, 1, false);
    CHECK_OK(a.st);
    for (int64_t i = 0; a.st == SSCMA_OK && i < a.img.h * a.img.w * 3; i++)
        CHECK(fabsf(a.img.data[i] - 20.0f) < 1e-4f);
    release(&a);
    /* CLAHE with one tile on a ramp 100..131 (8 x 32, each level 8 times; area 256). clip_limit 40: the limit
     * (40 * 256 / 256) clips nothing, the table is round(cdf * 255 / 256) = round(7.96875 (k + 1)). clip_limit 1: each
     * bin is clipped to 1, the 224 excess counts go one each to bins 0..223 (step 256 / 224 = 1), so level 100 + k has
     * cdf 100 + 2 (k + 1). */
    uint8_t plane[8 * 32], clipped[8 * 32];
    for (int i = 0; i < 8 * 32; i++)
        plane[i] = clipped[i] = (uint8_t)(100 + i % 32);
    CHECK(sscma_clahe_u8(ctx, plane, 8, 32, 40.0, 1, 1));
    CHECK(sscma_clahe_u8(ctx, clipped, 8, 32, 1.0, 1, 1));
    for (int i = 0; i < 8 * 32; i++) {
        const int k = i % 32;
        CHECK_INT_EQ(plane[i], (int)nearbyint(7.96875 * (k + 1)));
        CHECK_INT_EQ(clipped[i], (int)nearbyint((100.0 + 2.0 * (k + 1)) * 255.0 / 256.0));
    }
    /* four tiles across: the left edge (inside tile 0's half) uses tile 0's table alone */
    uint8_t tiles[8 * 32];
    for (int i = 0; i < 8 * 32; i++)
        tiles[i] = (uint8_t)(100 + i % 32);
    CHECK(sscma_clahe_u8(ctx, tiles, 8, 32, 40.0, 4, 1)); /* tile 0 holds levels 100..107, 8 rows each: area 64 */
    CHECK_INT_EQ(tiles[0], (int)nearbyint(8.0 * 255.0 / 64.0));
    CHECK_INT_EQ(tiles[3 * 32 + 2], (int)nearbyint(24.0 * 255.0 / 64.0));
    /* odd sizes are padded by reflection to the grid, as OpenCV does */
    uint8_t odd[7 * 9];
    for (int i = 0; i < 7 * 9; i++)
        odd[i] = (uint8_t)(i * 3);
    CHECK(sscma_clahe_u8(ctx, odd, 7, 9, 2.0, 8, 8));
}

static void config_messages(void)
{
    static const struct {
        const char *pipe, *needle;
    } bad[] = {
        {"[{\"type\": \"YOLOv5RandomAffine\", \"use_mask_refine\": true}]",
         "YOLOv5RandomAffine: pipeline[0].use_mask_refine: expected false (libsscma has no masks), got true"},
        {"[{\"type\": \"YOLOv5RandomAffine\", \"border_val\": [114, 0, 114]}]",
         "YOLOv5RandomAffine: pipeline[0].border_val: expected a number 0..255 or equal numbers per channel, got "
         "[114,0,114]"},
        {"[{\"type\": \"Mosaic\", \"use_cached\": true, \"max_cached_images\": 3}]",
         "Mosaic: pipeline[0].max_cached_images: expected an integer >= 4 with use_cached, got 3"},
        {"[{\"type\": \"Mosaic\", \"pre_transform\": [{\"type\": \"Flip\"}]}]",
         "pipeline: pipeline[0].pre_transform[0].type: expected one of:"},
        {"[{\"type\": \"Albu\", \"transforms\": [{\"type\": \"GaussNoise\"}]}]",
         "Albu: pipeline[0].transforms[0].type: expected one of: Blur, MedianBlur, ToGray, CLAHE, got \"GaussNoise\""},
        {"[{\"type\": \"Albu\", \"transforms\": [{\"type\": \"Blur\", \"blur_limit\": [7, 3]}]}]",
         "Albu: pipeline[0].transforms[0].blur_limit: expected [min, max] with min <= max, got [7,3]"},
        {"[{\"type\": \"Albu\", \"transforms\": [{\"type\": \"CLAHE\", \"tile_grid_size\": [8, 0]}]}]",
         "Albu: pipeline[0].transforms[0].tile_grid_size: expected an integer 1..64 or [x, y] of integers 1..64, got "
         "[8,0]"},
        {"[{\"type\": \"YOLOv5KeepRatioResize\", \"scale\": [32, 32], \"keep_ratio\": false}]",
         "YOLOv5KeepRatioResize: pipeline[0].keep_ratio: expected true (the transform keeps the ratio), got false"},
        {"[{\"type\": \"YOLOv5HSVRandomAug\", \"hue_delta\": 5}]",
         "YOLOv5HSVRandomAug: pipeline[0].hue_delta: expected a number 0..1, got 5"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *list = json_loads(bad[i].pipe, 0, NULL);
        sscma_pipeline *p = NULL;
        CHECK_FAILS(sscma_pipeline_create(ctx, list, &p), SSCMA_ERR_CONFIG, bad[i].needle);
        sscma_pipeline_destroy(p);
        json_decref(list);
    }
}

/* YOLOv5KeepRatioResize then LetterResize (SSCMA's test pipeline) gives the letterbox size; boxes move with it. */
static void test_pipeline_sizes(void)
{
    run_result a = run("[{\"type\": \"YOLOv5KeepRatioResize\", \"scale\": [64, 64]}, {\"type\": \"LetterResize\", "
                       "\"scale\": [64, 64], \"allow_scale_up\": false, \"pad_val\": {\"img\": 114}}]", 1, 4, false);
    CHECK_OK(a.st); /* 36 x 22 -> ratio 64 / 36: 64 x 39, padded 12 left, 13 right */
    CHECK_INT_EQ(a.img.h, 64);
    CHECK_INT_EQ(a.img.w, 64);
    CHECK(a.img.n_boxes == 1 && fabsf(a.img.boxes[0] - (4.0f * 39.0f / 22.0f + 12.0f)) < 1e-3f);
    CHECK(a.st != SSCMA_OK || (a.img.data[0] == 114.0f && fabsf(a.img.data[(10 * 64 + 30) * 3] - 50.0f) < 1e-3f));
    release(&a);
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(affine_matches_mmyolo),
        TEST_CASE(letterbox_matches_mmyolo),
        TEST_CASE(keep_ratio_matches_mmyolo),
        TEST_CASE(mosaic_placement_matches_mmyolo),
        TEST_CASE(hsv_lut_matches_mmyolo),
        TEST_CASE(hsv_pixels_match_opencv),
        TEST_CASE(clahe_matches_opencv),
        TEST_CASE(mosaic_builds_the_canvas),
        TEST_CASE(mixup_blends_two_samples),
        TEST_CASE(beta_draws_have_the_moments),
        TEST_CASE(yolov5_affine_identity_and_border),
        TEST_CASE(yolov5_hsv_keeps_grey_and_identity),
        TEST_CASE(albu_subset),
        TEST_CASE(config_messages),
        TEST_CASE(test_pipeline_sizes),
        TEST_CASE(random_resize_follows_mmcv),
        TEST_CASE(random_crop_follows_mmdet),
        TEST_CASE(pad_follows_mmdet),
        TEST_CASE(mixup_follows_mmdet),
    };
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK || golden_load(&golden, GOLDEN_DIR "/detect.bin") != 0 ||
        golden_load(&golden_cv, GOLDEN_DIR "/detect_cv.bin") != 0) {
        printf("Bail out! cannot create a context or read %s/detect.bin and detect_cv.bin\n", GOLDEN_DIR);
        return 1;
    }
    int rc = test_main(argc, argv, tests, TEST_COUNT(tests));
    golden_free(&golden), golden_free(&golden_cv);
    sscma_context_destroy(ctx);
    return rc;
}
