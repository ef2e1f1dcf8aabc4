/*
 * rtmdet_decode: the RTMDet head's class logits and distances to boxes in pixels and scores, in yolo_decode's layout
 * (cx, cy, w, h, 1, sigmoid scores). Against tests/golden/gen_rtmdet_decode.py (mmyolo's predict_by_feat before
 * NMS: offset-0 points, distance2bbox, sigmoid; float64) within 1e-5 relative above 1, a hand-computed cell (which
 * catches points at cell centres, a stride-scaled distance or swapped sides), and refused shapes. Links the static
 * library (internal headers).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sscma/sscma.h>

#include "golden.h"
#include "harness.h"
#include "opcheck.h"

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

int main(int argc, char **argv)
{
    CHECK_OK(sscma_context_create(NULL, &ctx));
    static const test_case cases[] = {
        TEST_CASE(decode_matches_predict_by_feat),
        TEST_CASE(decode_one_cell_by_hand),
        TEST_CASE(bad_shapes_are_refused),
    };
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    return rc;
}
