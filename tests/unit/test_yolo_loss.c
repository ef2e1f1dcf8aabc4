/*
 * yolov5_loss against its PyTorch reference: tests/golden/gen_yolo_loss.py writes mmyolo's YOLOv5 loss (assignment
 * by anchor ratio with the two neighbouring cells, CIoU, objectness on the detached IoU, class BCE, SSCMA's weights)
 * on fixed head maps and targets to tests/golden/yolo_loss.bin. Each case runs the op on the same inputs and upstream
 * gradients and compares the four outputs and the three maps' gradients element by element:
 *     |ours - torch| <= 1e-5 * (|torch| + rms(torch tensor))        (the tolerance)
 * Cases: three images (one without boxes) with three classes, boxes on cell borders and at the image's edges, boxes
 * that some anchors reject, cells taken twice; the same with one class; a batch without any box.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sscma/sscma.h>

#include "golden.h"
#include "harness.h"
#include "opcheck.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must name tests/golden"
#endif

static golden_file golden;
static sscma_context *ctx;

static const golden_record *find(const char *case_name, const char *tensor)
{
    char full[160];
    snprintf(full, sizeof full, "%s/%s", case_name, tensor);
    return golden_find(&golden, full);
}

/* mmyolo's defaults with the case's weights and input size (attrs record: cls, bbox, obj weights, img_h, img_w). */
static sscma_yolov5_loss_attrs attrs_of(const golden_record *r)
{
    sscma_yolov5_loss_attrs a;
    sscma_op_parse_attrs(sscma_op_find("yolov5_loss"), NULL, &a);
    const float *v = r->data;
    a.loss_cls_weight = v[0], a.loss_bbox_weight = v[1], a.loss_obj_weight = v[2];
    a.img_h = (int64_t)v[3], a.img_w = (int64_t)v[4];
    return a;
}

static void run_golden(const char *name)
{
    static const char *const inputs[4] = {"p3", "p4", "p5", "targets"};
    const golden_record *in[4], *attrs = find(name, "attrs");
    sscma_desc descs[4];
    for (int i = 0; i < 4; i++)
        if ((in[i] = find(name, inputs[i])) == NULL || attrs == NULL) {
            test_fail(__FILE__, __LINE__, "%s: no record %s in yolo_loss.bin (regenerate it?)", name, inputs[i]);
            return;
        } else {
            descs[i] = sscma_desc_make(in[i]->dtype, in[i]->rank, in[i]->dims);
        }
    sscma_yolov5_loss_attrs a = attrs_of(attrs);
    op_run run;
    if (op_run_init(&run, ctx, "yolov5_loss", &a, 4, descs) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "%s: infer failed: %s", name, sscma_last_error());
        return;
    }
    run.training = true;
    for (int i = 0; i < 4; i++)
        memcpy(run.in[i].data, in[i]->data, (size_t)in[i]->numel * 4);
    CHECK_INT_EQ(run.n_out, 4);
    for (int o = 0; o < run.n_out; o++) {
        char dy[16];
        snprintf(dy, sizeof dy, "dy%d", o);
        const golden_record *r = find(name, dy);
        CHECK(r != NULL && r->numel == 1);
        if (r != NULL)
            *(float *)run.dout[o].data = *(const float *)r->data;
    }
    if (op_run_forward(&run) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "%s: forward failed: %s", name, sscma_last_error());
        op_run_free(&run);
        return;
    }
    op_run_backward(&run);
    static const char *const out_names[4] = {"total", "loss_cls", "loss_bbox", "loss_obj"};
    int64_t where = 0;
    double worst;
    for (int o = 0; o < run.n_out; o++) {
        char y[16];
        snprintf(y, sizeof y, "y%d", o);
        const golden_record *r = find(name, y);
        if (r == NULL || r->numel != 1) {
            test_fail(__FILE__, __LINE__, "%s: no scalar %s", name, y);
            continue;
        }
        if ((worst = golden_compare(run.out[o].data, r, 1e-5, &where)) > 1.0)
            test_fail(__FILE__, __LINE__, "%s: %s %.8g vs PyTorch %.8g (%.2f x tolerance)", name, out_names[o],
                      (double)*(float *)run.out[o].data, (double)*(float *)r->data, worst);
    }
    for (int i = 0; i < 3; i++) {
        char d[16];
        snprintf(d, sizeof d, "dp%d", i + 3);
        const golden_record *g = find(name, d);
        if (g == NULL || run.din[i].data == NULL || g->numel != sscma_desc_numel(&run.in[i].desc)) {
            test_fail(__FILE__, __LINE__, "%s: gradient %s missing or of another size", name, d);
            continue;
        }
        if ((worst = golden_compare(run.din[i].data, g, 1e-5, &where)) > 1.0)
            test_fail(__FILE__, __LINE__, "%s: gradient %s element %lld (channel %lld): %.8g vs PyTorch %.8g "
                      "(%.2f x tolerance)", name, d, (long long)where, (long long)(where % g->dims[3]),
                      (double)((float *)run.din[i].data)[where], (double)((float *)g->data)[where], worst);
    }
    CHECK(run.din[3].data == NULL); /* the targets take no gradient */
    op_run_free(&run);
}

static void pytorch_multi_class(void)
{
    run_golden("multi_class");
}

static void pytorch_one_class(void)
{
    run_golden("one_class");
}

static void pytorch_no_boxes(void)
{
    run_golden("no_boxes");
}

static sscma_status infer4(const sscma_yolov5_loss_attrs *a, const sscma_desc *in)
{
    sscma_desc out[SSCMA_OP_MAX_OUTPUTS];
    int32_t n_out = 0;
    sscma_op_sizes sizes;
    return sscma_op_infer(sscma_op_find("yolov5_loss"), a, in, 4, out, &n_out, &sizes);
}

/* Shapes that do not fit the head or the targets are refused with what was expected. */
static void bad_shapes_are_refused(void)
{
    sscma_yolov5_loss_attrs a;
    CHECK_OK(sscma_op_parse_attrs(sscma_op_find("yolov5_loss"), NULL, &a));
    const int64_t p3[4] = {2, 8, 12, 24}, p4[4] = {2, 4, 6, 24}, p5[4] = {2, 2, 3, 24}, t[3] = {2, 5, 6};
    sscma_desc in[4] = {sscma_desc_make(SSCMA_DTYPE_F32, 4, p3), sscma_desc_make(SSCMA_DTYPE_F32, 4, p4),
                        sscma_desc_make(SSCMA_DTYPE_F32, 4, p5), sscma_desc_make(SSCMA_DTYPE_F32, 3, t)};
    CHECK_OK(infer4(&a, in));
    sscma_desc bad[4];
    memcpy(bad, in, sizeof bad);
    bad[3].dims[2] = 5;
    CHECK_FAILS(infer4(&a, bad), SSCMA_ERR_SHAPE,
                "yolov5_loss: targets are f32[2, 5, 5]; expected [2, max_boxes, 6] (class, x1, y1, x2, y2, valid)");
    memcpy(bad, in, sizeof bad);
    bad[1].dims[3] = 21;
    CHECK_FAILS(infer4(&a, bad), SSCMA_ERR_SHAPE, "p4 is f32[2, 4, 6, 21]; expected [B, H, W, 3 (5 + classes)]");
    memcpy(bad, in, sizeof bad);
    bad[2].dims[1] = 4; /* a stride-16 map where the stride-32 one belongs */
    CHECK_FAILS(infer4(&a, bad), SSCMA_ERR_SHAPE, "p5 is f32[2, 4, 3, 24]: not a stride-32 map of a 64x96 input");
    a.n_anchors = 6;
    CHECK_FAILS(infer4(&a, in), SSCMA_ERR_INVALID_ARGUMENT, "anchors take 18 numbers");
}

/* An op run on the multi_class case's maps and targets (attributes in *a, which must outlive the run). */
static bool multi_class_run(sscma_yolov5_loss_attrs *a, op_run *run)
{
    const golden_record *r[5] = {find("multi_class", "p3"), find("multi_class", "p4"), find("multi_class", "p5"),
                                 find("multi_class", "targets"), find("multi_class", "attrs")};
    sscma_desc d[4];
    for (int i = 0; i < 5; i++)
        if (r[i] == NULL) {
            test_fail(__FILE__, __LINE__, "multi_class missing");
            return false;
        } else if (i < 4) {
            d[i] = sscma_desc_make(r[i]->dtype, r[i]->rank, r[i]->dims);
        }
    *a = attrs_of(r[4]);
    if (op_run_init(run, ctx, "yolov5_loss", a, 4, d) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "infer: %s", sscma_last_error());
        return false;
    }
    for (int i = 0; i < 4; i++)
        memcpy(run->in[i].data, r[i]->data, (size_t)r[i]->numel * 4);
    return true;
}

/* A class id outside the head's classes in a valid row is a status naming the row; invalid rows are not read. */
static void bad_class_is_reported(void)
{
    sscma_yolov5_loss_attrs a;
    op_run run;
    if (!multi_class_run(&a, &run))
        return;
    float *t = run.in[3].data;
    const int64_t rows = run.in[3].desc.dims[1];
    CHECK(t[3 * 6 + 0] == 7.0f && t[3 * 6 + 5] == 0.0f); /* row 3 of image 0: class 7, not valid */
    CHECK_OK(op_run_forward(&run));
    t[(2 * rows + 1) * 6 + 0] = 3.0f; /* 3 classes */
    CHECK_FAILS(op_run_forward(&run), SSCMA_ERR_INVALID_ARGUMENT, "yolov5_loss: targets[2, 1]: class 3; expected 0..2");
    t[(2 * rows + 1) * 6 + 0] = 0.5f;
    CHECK_FAILS(op_run_forward(&run), SSCMA_ERR_INVALID_ARGUMENT, "targets[2, 1]: class 0.5");
    op_run_free(&run);
}

/*
 * Boxes no pipeline should produce (NaN, infinite or huge corners, a box beyond the image, zero size) neither crash
 * nor poison the loss: NaN and zero-size boxes match no anchor, a box beyond the image is assigned to the edge cells.
 */
static void odd_boxes_give_finite_losses(void)
{
    sscma_yolov5_loss_attrs a;
    op_run run;
    if (!multi_class_run(&a, &run))
        return;
    const float odd[7][6] = {
        {0, NAN, 1, 20, 20, 1},          {1, 1e30f, 1e30f, 3e30f, 3e30f, 1}, {2, -1e30f, -1e30f, -5e29f, -5e29f, 1},
        {0, 200, 30, 230, 50, 1},        {1, -60, -40, -20, -10, 1},         {2, 10, 10, 10, 10, 1},
        {0, INFINITY, 0, INFINITY, 8, 1},
    };
    float *t = run.in[3].data;
    memset(t, 0, (size_t)sscma_desc_numel(&run.in[3].desc) * 4);
    memcpy(t, odd, sizeof odd);
    for (int o = 0; o < 4; o++)
        *(float *)run.dout[o].data = 1.0f;
    CHECK_OK(op_run_forward(&run));
    op_run_backward(&run);
    for (int o = 0; o < 4; o++)
        CHECK(isfinite(*(float *)run.out[o].data));
    CHECK(*(float *)run.out[2].data > 0.0f); /* the boxes beyond the image still found cells */
    for (int i = 0; i < 3; i++) {
        const float *g = run.din[i].data;
        bool finite = true;
        for (int64_t k = 0; k < sscma_desc_numel(&run.in[i].desc); k++)
            finite = finite && isfinite(g[k]);
        CHECK(finite);
    }
    op_run_free(&run);
}

/* The attributes as a model builder writes them: SSCMA's anchors by default, a JSON list otherwise. */
static void attributes_parse(void)
{
    const sscma_op_def *def = sscma_op_find("yolov5_loss");
    sscma_yolov5_loss_attrs a;
    CHECK_OK(sscma_op_parse_attrs(def, "{\"loss_cls_weight\": 0.00625, \"strides\": [8, 16, 32], \"obj_level_weights\":"
                                       " [4.0, 1.0, 0.4], \"anchors\": [10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, "
                                       "119, 116, 90, 156, 198, 373, 326], \"img_h\": 192, \"img_w\": 192}", &a));
    CHECK_INT_EQ(a.n_anchors, 18);
    CHECK(a.anchors[17] == 326.0f && a.strides[2] == 32 && a.obj_level_weights[2] == 0.4f);
    CHECK(a.prior_match_thr == 4.0f && a.near_neighbor_thr == 0.5f && a.loss_bbox_weight == 0.05f);
    CHECK(fabsf(a.eps - 1e-7f) < 1e-12f && a.img_w == 192);
    CHECK_FAILS(sscma_op_parse_attrs(def, "{\"prior_match\": 4}", &a), SSCMA_ERR_CONFIG, "prior_match");
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(pytorch_multi_class), TEST_CASE(pytorch_one_class), TEST_CASE(pytorch_no_boxes),
        TEST_CASE(bad_shapes_are_refused), TEST_CASE(bad_class_is_reported), TEST_CASE(odd_boxes_give_finite_losses),
        TEST_CASE(attributes_parse),
    };
    if (golden_load(&golden, GOLDEN_DIR "/yolo_loss.bin") != 0) {
        printf("Bail out! cannot read %s/yolo_loss.bin\n", GOLDEN_DIR);
        return 99;
    }
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99;
    int rc = test_main(argc, argv, tests, TEST_COUNT(tests));
    sscma_context_destroy(ctx);
    golden_free(&golden);
    return rc;
}
