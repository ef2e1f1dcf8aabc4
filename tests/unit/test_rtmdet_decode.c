/*
 * rtmdet_decode: the RTMDet head's class logits and distances to boxes in pixels and scores, in yolo_decode's layout
 * (cx, cy, w, h, 1, sigmoid scores). Against tests/golden/gen_rtmdet_decode.py (mmyolo's predict_by_feat before
 * NMS: offset-0 points, distance2bbox, sigmoid; float64) within 1e-5 relative above 1, a hand-computed cell (which
 * catches points at cell centres, a stride-scaled distance or swapped sides), and refused shapes. The deployable
 * model (lowering): RTMDet-nano's recipe lowers to the six raw head maps ModelAssistant exports and SSCMA-Micro
 * reads (class logits as the model's, distances in stride units: the model's reg divided by the stride), and those
 * maps read back as rows (sscma_qm_rtmdet_rows, offset 0) give the model's own decode (its "pred"). Links the static
 * library (internal headers).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sscma/sscma.h>

#include "golden.h"
#include "harness.h"
#include "opcheck.h"
#include "quant/qmodel.h"

#define D4(a, b, c, d) sscma_desc_make(SSCMA_DTYPE_F32, 4, (const int64_t[]){a, b, c, d})

static sscma_context *ctx;

static const sscma_rtmdet_decode_attrs strides_8_16_32 = {{8, 16, 32}, 3};

static void decode_matches_predict_by_feat(void)
{
    golden_file gf;
    if (golden_load(&gf, GOLDEN_DIR "/rtmdet_decode.bin") != 0) {
        test_fail(__FILE__, __LINE__, "cannot read rtmdet_decode.bin");
        return;
    }
    sscma_desc in[6];
    const golden_record *rec[6];
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof name, "%s%d", i < 3 ? "cls" : "reg", i % 3);
        rec[i] = golden_find(&gf, name);
        CHECK(rec[i] != NULL && rec[i]->rank == 4);
        if (rec[i] == NULL) {
            golden_free(&gf);
            return;
        }
        in[i] = D4(rec[i]->dims[0], rec[i]->dims[1], rec[i]->dims[2], rec[i]->dims[3]);
    }
    op_run r;
    CHECK_OK(op_run_init(&r, ctx, "rtmdet_decode", &strides_8_16_32, 6, in));
    for (int i = 0; i < 6; i++)
        memcpy(r.in[i].data, rec[i]->data, (size_t)rec[i]->numel * sizeof(float));
    CHECK_OK(op_run_forward(&r));
    const golden_record *ref = golden_find(&gf, "output");
    CHECK(ref != NULL && r.out[0].desc.rank == 3);
    CHECK_INT_EQ(r.out[0].desc.dims[0], 2);
    CHECK_INT_EQ(r.out[0].desc.dims[1], 8 * 12 + 4 * 6 + 2 * 3);
    CHECK_INT_EQ(r.out[0].desc.dims[2], 5 + 3);
    if (ref != NULL && ref->numel == sscma_desc_numel(&r.out[0].desc)) {
        const float *y = r.out[0].data, *want = ref->data;
        int64_t bad = 0;
        double worst = 0.0;
        for (int64_t i = 0; i < ref->numel; i++) {
            double err = fabs((double)y[i] - (double)want[i]) / fmax(1.0, fabs((double)want[i]));
            worst = fmax(worst, err);
            bad += err > 1e-5;
        }
        printf("# rtmdet_decode against predict_by_feat: worst %.3g (relative above 1)\n", worst);
        CHECK_INT_EQ(bad, 0);
    } else {
        test_fail(__FILE__, __LINE__, "no output record of the op's size");
    }
    op_run_free(&r);
    golden_free(&gf);
}

/* One cell by hand: level 1 (stride 16) cell (y 0, x 2) has its point at (32, 0), not at the centre (40, 8). */
static void decode_one_cell_by_hand(void)
{
    const sscma_rtmdet_decode_attrs at = {{8, 16}, 2};
    const sscma_desc in[4] = {D4(1, 2, 4, 2), D4(1, 1, 3, 2), D4(1, 2, 4, 4), D4(1, 1, 3, 4)};
    op_run r;
    CHECK_OK(op_run_init(&r, ctx, "rtmdet_decode", &at, 4, in));
    float *cls1 = r.in[1].data, *reg1 = r.in[3].data;
    cls1[2 * 2 + 0] = logf(3.0f), cls1[2 * 2 + 1] = -logf(3.0f);
    reg1[2 * 4 + 0] = 4.0f, reg1[2 * 4 + 1] = 6.0f, reg1[2 * 4 + 2] = 10.0f, reg1[2 * 4 + 3] = 2.0f;
    CHECK_OK(op_run_forward(&r));
    CHECK_INT_EQ(r.out[0].desc.dims[1], 8 + 3);
    const float *row = (const float *)r.out[0].data + (8 + 2) * 7; /* level 1 after level 0's 8 rows, cell 2 */
    /* x1 = 32 - 4 = 28, x2 = 32 + 10 = 42, y1 = 0 - 6 = -6, y2 = 0 + 2 = 2 */
    CHECK_NEAR(row[0], 35.0, 1e-5);
    CHECK_NEAR(row[1], -2.0, 1e-5);
    CHECK_NEAR(row[2], 14.0, 1e-5);
    CHECK_NEAR(row[3], 8.0, 1e-5);
    CHECK_NEAR(row[4], 1.0, 0.0);
    CHECK_NEAR(row[5], 0.75, 1e-6);
    CHECK_NEAR(row[6], 0.25, 1e-6);
    const float *first = r.out[0].data; /* level 0, cell 0: zero distances, logits 0 */
    CHECK(first[0] == 0.0f && first[1] == 0.0f && first[2] == 0.0f && first[3] == 0.0f && first[5] == 0.5f);
    const float *cell5 = first + 5 * 7; /* level 0, cell (y 1, x 1): point (8, 8) */
    CHECK(cell5[0] == 8.0f && cell5[1] == 8.0f);
    op_run_free(&r);
}

static void bad_shapes_are_refused(void)
{
    op_run r;
    const sscma_desc good[2] = {D4(1, 2, 2, 3), D4(1, 2, 2, 4)};
    const sscma_rtmdet_decode_attrs one = {{8}, 1};
    CHECK_FAILS(op_run_init(&r, ctx, "rtmdet_decode", &strides_8_16_32, 2, good), SSCMA_ERR_INVALID_ARGUMENT,
                "a class map and a distance map per level: 2 inputs for 3 strides");
    const sscma_desc five[2] = {D4(1, 2, 2, 3), D4(1, 2, 2, 5)};
    CHECK_FAILS(op_run_init(&r, ctx, "rtmdet_decode", &one, 2, five), SSCMA_ERR_SHAPE,
                "level 0: class map [1, 2, 2, 3] and distance map [1, 2, 2, 5]");
    const sscma_desc grid[2] = {D4(1, 2, 2, 3), D4(1, 2, 1, 4)};
    CHECK_FAILS(op_run_init(&r, ctx, "rtmdet_decode", &one, 2, grid), SSCMA_ERR_SHAPE, "of one batch and grid");
    const sscma_desc classes[4] = {D4(1, 2, 2, 3), D4(1, 1, 1, 2), D4(1, 2, 2, 4), D4(1, 1, 1, 4)};
    const sscma_rtmdet_decode_attrs two = {{8, 16}, 2};
    CHECK_FAILS(op_run_init(&r, ctx, "rtmdet_decode", &two, 4, classes), SSCMA_ERR_SHAPE, "level 1: class map");
    const sscma_rtmdet_decode_attrs zero = {{0}, 1};
    CHECK_FAILS(op_run_init(&r, ctx, "rtmdet_decode", &zero, 2, good), SSCMA_ERR_INVALID_ARGUMENT,
                "strides[0] must be at least 1, got 0");
}

/* RTMDet-nano (configs/rtmdet, the relu recipe) at 64x64 with 3 classes, its lowering run beside the model */
static void lowering_gives_the_raw_head_maps(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rtmdet/rtmdet_nano_8xb32_300e_coco_relu.json", CONFIGS_DIR);
    sscma_config *c = NULL;
    sscma_model *m = NULL;
    sscma_qmodel *q = NULL;
    const char *model = NULL;
    CHECK_OK(sscma_config_load(path, &c));
    if (c == NULL)
        return;
    CHECK_OK(sscma_config_set(c, "num_classes=3"));
    CHECK_OK(sscma_config_set(c, "height=64"));
    CHECK_OK(sscma_config_set(c, "width=64"));
    CHECK_OK(sscma_config_resolve(c));
    CHECK_OK(sscma_config_get(c, "model", &model));
    CHECK_OK(sscma_model_create(ctx, model, &m));
    sscma_config_destroy(c);
    if (m == NULL)
        return;
    CHECK_OK(sscma_model_prepare(m, 1, 0));
    sscma_tensor *x = NULL, *qx = NULL;
    CHECK_OK(sscma_model_input(m, "image", &x));
    float *px = NULL;
    int64_t n = 0;
    sscma_tensor_data(x, (void **)&px);
    sscma_tensor_numel(x, &n);
    uint64_t seed = 7;
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        px[i] = (float)((seed >> 40) % 2001) / 1000.0f - 1.0f;
    }
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_qmodel_from_model(m, &q));
    if (q == NULL) {
        sscma_model_destroy(m);
        return;
    }
    CHECK_INT_EQ(q->n_outputs, 6);
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    CHECK_OK(sscma_qmodel_input(q, 0, &qx));
    CHECK_OK(sscma_tensor_copy(x, qx));
    CHECK_OK(sscma_qmodel_run(q));
    static const char *const names[6] = {"cls_0", "cls_1", "cls_2", "dist_0", "dist_1", "dist_2"};
    static const char *const model_names[6] = {"cls_0", "cls_1", "cls_2", "reg_0", "reg_1", "reg_2"};
    static const int64_t cells[3] = {8 * 8, 4 * 4, 2 * 2};
    const float *maps[6];
    double worst = 0.0;
    for (int k = 0; k < 6; k++) {
        sscma_tensor *y = NULL, *qy = NULL;
        const char *name = NULL;
        int64_t d[3] = {0, 0, 0}, ny = 0, nq = 0;
        CHECK_OK(sscma_model_output(m, model_names[k], &y));
        CHECK_OK(sscma_qmodel_output(q, k, &qy, &name));
        CHECK_STR_EQ(name, names[k]);
        for (int i = 0; i < 3; i++)
            sscma_tensor_dim(qy, i, &d[i]);
        CHECK(d[0] == 1 && d[1] == cells[k % 3] && d[2] == (k < 3 ? 3 : 4));
        sscma_tensor_numel(y, &ny), sscma_tensor_numel(qy, &nq);
        CHECK_INT_EQ(ny, nq);
        const float *a = NULL, *b = NULL;
        sscma_tensor_data(y, (void **)&a), sscma_tensor_data(qy, (void **)&b);
        maps[k] = b;
        /* the model's reg is rtm_reg times the stride; the deployment keeps rtm_reg */
        const double stride = k < 3 ? 1.0 : (double)(8 << (k % 3));
        for (int64_t i = 0; i < ny && ny == nq; i++)
            worst = fmax(worst, fabs((double)a[i] - b[i] * stride) / (1.0 + fabs((double)a[i])));
    }
    CHECK(worst <= 1e-5);
    int32_t order[6];
    int64_t rows = 0, classes = 0;
    CHECK_OK(sscma_qm_rtmdet_layout(q, "test", order, &rows, &classes));
    CHECK(rows == 84 && classes == 3 && order[0] == 0 && order[5] == 5);
    float got[84 * 8];
    sscma_tensor *pred = NULL;
    const float *want = NULL;
    CHECK_OK(sscma_model_output(m, "pred", &pred));
    sscma_tensor_data(pred, (void **)&want);
    sscma_qm_rtmdet_rows(64, 64, 3, maps, 1, 0.0f, got);
    worst = 0.0;
    for (int64_t i = 0; i < 84 * 8 && want != NULL; i++)
        worst = fmax(worst, fabs((double)want[i] - got[i]) / (1.0 + fabs((double)want[i])));
    if (!(worst <= 1e-5))
        test_fail(__FILE__, __LINE__, "the rows of the deployed maps differ from the model's pred by %g", worst);
    /* the layout is checked: one output missing is refused, naming the count */
    q->n_outputs = 5;
    CHECK_FAILS(sscma_qm_rtmdet_layout(q, "test", order, &rows, &classes), SSCMA_ERR_SHAPE,
                "test: an RTMDet model has one image input and 6 outputs");
    q->n_outputs = 6;
    sscma_qmodel_destroy(q);
    sscma_model_destroy(m);
}

int main(int argc, char **argv)
{
    CHECK_OK(sscma_context_create(NULL, &ctx));
    static const test_case cases[] = {
        TEST_CASE(decode_matches_predict_by_feat),
        TEST_CASE(decode_one_cell_by_hand),
        TEST_CASE(bad_shapes_are_refused),
        TEST_CASE(lowering_gives_the_raw_head_maps),
    };
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    return rc;
}
