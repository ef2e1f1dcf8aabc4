/*
 * SSCMA's in-graph YOLO decode (lib/quant/lower_yolo.c): the float deployable model on fixed raw maps gives DetHead's
 * output (tests/golden/gen_yolo_decode.py, ModelAssistant 2.0.0's formula in float64) within 1e-5 (relative above
 * 1); a grid shifted by one cell or anchors in cells instead of pixels fail that comparison; the decode description
 * is checked when it is set; QAT converts a detector with the decode's stated ranges. Links the static library (internal headers).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture_yolo.h"
#include "golden.h"
#include "graph/model_private.h"
#include "harness.h"
#include "quant/qmodel.h"

static const sscma_yolo_decode sscma_decode = {
    .num_classes = 2, .num_levels = 3, .num_anchors = 3, .strides = {8, 16, 32},
    .anchors = {{{10, 13}, {16, 30}, {33, 23}}, {{30, 61}, {62, 45}, {59, 119}}, {{116, 90}, {156, 198}, {373, 326}}}};

/* A model whose inputs are the golden raw maps and whose deployment output is their decode. */
static sscma_model *maps_model(sscma_context *ctx, const golden_file *gf)
{
    sscma_model *m = NULL;
    CHECK_OK(sscma_model_create_empty(ctx, &m));
    sscma_yolo_decode d = sscma_decode;
    for (int l = 0; l < 3; l++) {
        char name[16];
        snprintf(name, sizeof name, "map%d", l);
        const golden_record *r = golden_find(gf, name);
        CHECK(r != NULL);
        CHECK_OK(sscma_model_add_input(m, name, SSCMA_DTYPE_F32, 4, r->dims, 0));
        d.head_values[l] = sscma_graph_find(sscma_model_graph(m), name);
    }
    CHECK_OK(sscma_model_set_yolo_decode(m, &d));
    return m;
}

/* Runs q on the golden maps; returns how many outputs miss the reference by more than 1e-5 (relative above 1). */
static int64_t run_and_compare(sscma_qmodel *q, const golden_file *gf, double *worst)
{
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    for (int l = 0; l < 3; l++) {
        char name[16];
        snprintf(name, sizeof name, "map%d", l);
        const golden_record *r = golden_find(gf, name);
        sscma_tensor *in;
        float *d;
        CHECK_OK(sscma_qmodel_input(q, l, &in));
        CHECK_OK(sscma_tensor_data(in, (void **)&d));
        memcpy(d, r->data, (size_t)r->numel * sizeof(float));
    }
    CHECK_OK(sscma_qmodel_run(q));
    sscma_tensor *out;
    const char *name = NULL;
    const float *y;
    CHECK_OK(sscma_qmodel_output(q, 0, &out, &name));
    CHECK_STR_EQ(name, "output");
    int32_t rank = 0;
    int64_t dims[3] = {0, 0, 0};
    CHECK_OK(sscma_tensor_rank(out, &rank));
    CHECK_INT_EQ(rank, 3);
    for (int i = 0; i < 3; i++)
        CHECK_OK(sscma_tensor_dim(out, i, &dims[i]));
    CHECK_INT_EQ(dims[0], 1);
    CHECK_INT_EQ(dims[1], FIXTURE_YOLO_ROWS);
    CHECK_INT_EQ(dims[2], 5 + FIXTURE_YOLO_CLASSES);
    CHECK_OK(sscma_tensor_data(out, (void **)&y));
    const golden_record *ref = golden_find(gf, "output");
    CHECK(ref != NULL && ref->numel == dims[1] * dims[2]);
    const float *r = ref->data;
    int64_t bad = 0;
    *worst = 0.0;
    for (int64_t i = 0; i < ref->numel; i++) {
        double err = fabs((double)y[i] - (double)r[i]) / fmax(1.0, fabs((double)r[i]));
        *worst = fmax(*worst, err);
        bad += err > 1e-5;
    }
    return bad;
}

/* The golden maps, the model of them and its float deployable form; lowered_release frees them. */
typedef struct lowered {
    sscma_context *ctx;
    golden_file gf;
    sscma_model *m;
    sscma_qmodel *q;
} lowered;

static lowered lowered_maps_model(void)
{
    lowered L = {0};
    CHECK_OK(sscma_context_create(NULL, &L.ctx));
    CHECK(golden_load(&L.gf, GOLDEN_DIR "/yolo_decode.bin") == 0);
    L.m = maps_model(L.ctx, &L.gf);
    CHECK_OK(sscma_qmodel_from_model(L.m, &L.q));
    return L;
}

static void lowered_release(lowered *L)
{
    sscma_qmodel_destroy(L->q);
    sscma_model_destroy(L->m);
    golden_free(&L->gf);
    sscma_context_destroy(L->ctx);
}

static void decode_matches_det_head(void)
{
    lowered L = lowered_maps_model();
    sscma_qmodel *q = L.q;
    const golden_file gf = L.gf;
    double worst;
    int64_t bad = run_and_compare(q, &gf, &worst);
    printf("# float decode against DetHead.process: worst |diff| %.3g (relative above 1)\n", worst);
    CHECK_INT_EQ(bad, 0);
    /* only the decode's kinds, each one that TFLite and Vela know */
    for (int32_t i = 0; i < q->n_ops; i++) {
        qm_kind k = q->ops[i].kind;
        CHECK(k == QM_LOGISTIC || k == QM_RESHAPE || k == QM_TRANSPOSE || k == QM_SLICE || k == QM_MUL ||
              k == QM_ADD || k == QM_CONCAT);
    }
    lowered_release(&L);
}

static qm_tensor *find_tensor(sscma_qmodel *q, const char *name)
{
    for (int32_t i = 0; i < q->n_t; i++)
        if (strcmp(q->t[i].name, name) == 0)
            return &q->t[i];
    test_fail(__FILE__, __LINE__, "no tensor '%s'", name);
    return NULL;
}

/* The comparison is what catches a decode bug: a grid one cell off, anchors in cells instead of pixels. */
static void wrong_grid_or_anchors_fail(void)
{
    lowered L = lowered_maps_model();
    sscma_qmodel *q = L.q;
    const golden_file gf = L.gf;
    double worst;
    qm_tensor *grid = find_tensor(q, "decode/level1/grid");
    float *g = grid->data;
    for (int64_t c = 0; c < grid->dims[2]; c++)
        g[2 * c] += 16.0f; /* x one cell to the right */
    int64_t bad = run_and_compare(q, &gf, &worst);
    printf("# grid one cell off: %lld outputs differ, worst %.3g\n", (long long)bad, worst);
    CHECK_INT_EQ(bad, 3 * 16); /* every x of level 1 (A x H x W) */
    for (int64_t c = 0; c < grid->dims[2]; c++)
        g[2 * c] -= 16.0f;
    CHECK_INT_EQ(run_and_compare(q, &gf, &worst), 0);
    qm_tensor *anchors = find_tensor(q, "decode/level2/anchors");
    float *a = anchors->data;
    for (int i = 0; i < 6; i++)
        a[i] /= 32.0f; /* in cells of the stride-32 map */
    bad = run_and_compare(q, &gf, &worst);
    printf("# anchors in cells: %lld outputs differ, worst %.3g\n", (long long)bad, worst);
    CHECK(bad > 0);
    lowered_release(&L);
}

static void bad_descriptions_are_refused(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    sscma_model *m = NULL;
    CHECK_OK(fixture_yolo_model(ctx, &m));
    const sscma_yolo_decode *set = sscma_model_yolo_decode(m);
    CHECK(set != NULL);
    sscma_yolo_decode d = *set;
    d.num_levels = 5;
    CHECK_FAILS(sscma_model_set_yolo_decode(m, &d), SSCMA_ERR_INVALID_ARGUMENT, "5 levels");
    d = *set;
    d.num_classes = 3; /* the maps have 3 x (5 + 2) channels */
    CHECK_FAILS(sscma_model_set_yolo_decode(m, &d), SSCMA_ERR_INVALID_ARGUMENT,
                "level 0: head map 'head.0' is not a float NHWC map of 24 channels");
    d = *set;
    d.anchors[1][2][1] = 0.0f;
    CHECK_FAILS(sscma_model_set_yolo_decode(m, &d), SSCMA_ERR_INVALID_ARGUMENT, "level 1: anchor 2: height 0");
    d = *set;
    d.strides[2] = 0;
    CHECK_FAILS(sscma_model_set_yolo_decode(m, &d), SSCMA_ERR_INVALID_ARGUMENT, "level 2: stride 0");
    d = *set;
    d.head_values[0] = 100000;
    CHECK_FAILS(sscma_model_set_yolo_decode(m, &d), SSCMA_ERR_INVALID_ARGUMENT, "head value 100000");
    /* the description set before stays */
    CHECK(sscma_model_yolo_decode(m) != NULL && sscma_model_yolo_decode(m)->num_classes == 2);
    /* the lowered detector: one output of all levels' rows */
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_qmodel_from_model(m, &q));
    CHECK_INT_EQ(q->n_outputs, 1);
    CHECK_INT_EQ(q->t[q->outputs[0]].dims[1], FIXTURE_YOLO_ROWS);
    sscma_qmodel_destroy(q);
    CHECK_OK(sscma_model_set_yolo_decode(m, NULL));
    CHECK(sscma_model_yolo_decode(m) == NULL);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

/*
 * QAT: the decode's ranges are not observed by the trained graph's observers, so the lowering states them from the
 * sigmoid's [0, 1]; the converted model's output range is then [-s/2 of the coarsest level, the largest w or h kept],
 * w and h saturating where the clamped box would no longer change.
 * Also exercises the description surviving the graph rewrite (sscma_model_replace_graph).
 */
static void qat_converts_with_the_decode_ranges(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    sscma_model *m = NULL;
    CHECK_OK(fixture_yolo_model(ctx, &m));
    CHECK_OK(sscma_qat_prepare(m, NULL));
    CHECK(sscma_model_yolo_decode(m) != NULL);
    CHECK_OK(sscma_model_prepare(m, 2, 1));
    sscma_tensor *image;
    float *px;
    int64_t numel = 0;
    CHECK_OK(sscma_model_input(m, "image", &image));
    CHECK_OK(sscma_tensor_data(image, (void **)&px));
    CHECK_OK(sscma_tensor_numel(image, &numel));
    for (int64_t i = 0; i < numel; i++)
        px[i] = (float)((i * 7919) % 255) / 64.0f - 2.0f;
    CHECK_OK(sscma_model_forward(m));
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_qat_convert(m, &q));
    CHECK_INT_EQ(q->n_outputs, 1);
    const qm_tensor *y = &q->t[q->outputs[0]];
    CHECK(y->dtype == SSCMA_DTYPE_I8 && y->dims[1] == FIXTURE_YOLO_ROWS && y->dims[2] == 5 + FIXTURE_YOLO_CLASSES);
    /*
     * [-16, 256] in 255 steps, zero point where 0 falls: w, h saturate at twice the 64-pixel input plus P5's reach
     * 2 x 32 past the border (2 (64 + 64) = 256), not at 4 x 373 (P5's largest anchor)
     */
    double expect = (2.0 * (64.0 + 2.0 * 32.0) + 16.0) / 255.0;
    printf("# QAT output scale %.6g (expected %.6g), zero point %d\n", (double)y->scale[0], expect,
           (int)y->zero_point[0]);
    CHECK(fabs(y->scale[0] - expect) < 1e-3 * expect);
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    CHECK_OK(sscma_qmodel_run(q));
    sscma_qmodel_destroy(q);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(decode_matches_det_head),
        TEST_CASE(wrong_grid_or_anchors_fail),
        TEST_CASE(bad_descriptions_are_refused),
        TEST_CASE(qat_converts_with_the_decode_ranges),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
