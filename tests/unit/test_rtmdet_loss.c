/*
 * rtmdet_loss against its PyTorch reference: tests/golden/gen_rtmdet_loss.py writes RTMDetHead.loss_by_feat as
 * ModelAssistant's configs/rtmdet run it (BatchDynamicSoftLabelAssigner, QualityFocalLoss, GIoULoss, the avg_factor
 * of the summed metrics) on fixed maps and targets to tests/golden/rtmdet_loss.bin. Each case runs the op on the same
 * inputs and upstream gradients and compares the three outputs and the six maps' gradients element by element:
 *     |ours - torch| <= 1e-5 * (|torch| + rms(torch tensor))        (as test_yolo_loss)
 * The class gradient of every prior and class depends on that prior's assigned class and metric, so the comparison
 * checks the assignment prior by prior (a failure names the prior's class in the reference).
 * Cases: three images with three classes (one without boxes, an invalid row, boxes whose corners lie on prior points,
 * a box with one prior inside, nearly equal boxes that want the same priors, one spanning the levels); two classes
 * with one box and with four touching boxes (zero columns for the image with fewer); random predictions; tiny boxes
 * whose dynamic k exceeds the priors inside them (priors outside every box taken at cost 1e8, metric 0); a prior
 * two boxes want whose least cost is a zero column that pads the image to the batch's most boxes (upstream makes it
 * a class-0 positive with metric 0); no boxes.
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

#define N_IN 7

static golden_file golden;
static sscma_context *ctx;
static const char *const input_names[N_IN] = {"cls_0", "cls_1", "cls_2", "reg_0", "reg_1", "reg_2", "targets"};

static const golden_record *find(const char *case_name, const char *tensor)
{
    char full[160];
    snprintf(full, sizeof full, "%s/%s", case_name, tensor);
    return golden_find(&golden, full);
}

static sscma_rtmdet_loss_attrs default_attrs(void)
{
    sscma_rtmdet_loss_attrs a;
    sscma_op_parse_attrs(sscma_op_find("rtmdet_loss"), NULL, &a);
    return a;
}

/* An op run on case `name`'s inputs in context c (attributes in *a, which must outlive the run). */
static bool case_run_in(sscma_context *c, const char *name, const sscma_rtmdet_loss_attrs *a, op_run *run)
{
    const golden_record *r[N_IN];
    sscma_desc d[N_IN];
    for (int i = 0; i < N_IN; i++) {
        if ((r[i] = find(name, input_names[i])) == NULL) {
            test_fail(__FILE__, __LINE__, "%s: no record %s in rtmdet_loss.bin (regenerate it?)", name,
                      input_names[i]);
            return false;
        }
        d[i] = sscma_desc_make(r[i]->dtype, r[i]->rank, r[i]->dims);
    }
    if (op_run_init(run, c, "rtmdet_loss", a, N_IN, d) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "%s: infer failed: %s", name, sscma_last_error());
        return false;
    }
    run->training = true;
    for (int i = 0; i < N_IN; i++)
        memcpy(run->in[i].data, r[i]->data, (size_t)r[i]->numel * 4);
    return true;
}

static bool case_run(const char *name, const sscma_rtmdet_loss_attrs *a, op_run *run)
{
    return case_run_in(ctx, name, a, run);
}

/* The reference's class of the prior holding element `where` of level l's class map (for the failure message). */
static int reference_label(const char *name, const op_run *run, int l, int64_t where)
{
    const golden_record *labels = find(name, "labels");
    const sscma_desc *c = &run->in[l].desc;
    int64_t cell = where / c->dims[3], per_image = 0, first = 0;
    for (int k = 0; k < 3; k++) {
        per_image += run->in[k].desc.dims[1] * run->in[k].desc.dims[2];
        if (k < l)
            first += run->in[k].desc.dims[1] * run->in[k].desc.dims[2];
    }
    int64_t hw = c->dims[1] * c->dims[2], b = cell / hw, p = first + cell % hw;
    if (labels == NULL || b * per_image + p >= labels->numel)
        return -1;
    return ((const int32_t *)labels->data)[b * per_image + p];
}

static void run_golden(const char *name)
{
    sscma_rtmdet_loss_attrs a = default_attrs();
    op_run run;
    if (!case_run(name, &a, &run))
        return;
    CHECK_INT_EQ(run.n_out, 3);
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
    static const char *const out_names[3] = {"total", "loss_cls", "loss_bbox"};
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
    for (int i = 0; i < 6; i++) {
        char d[16];
        snprintf(d, sizeof d, "d%s", input_names[i]);
        const golden_record *g = find(name, d);
        if (g == NULL || run.din[i].data == NULL || g->numel != sscma_desc_numel(&run.in[i].desc)) {
            test_fail(__FILE__, __LINE__, "%s: gradient %s missing or of another size", name, d);
            continue;
        }
        if ((worst = golden_compare(run.din[i].data, g, 1e-5, &where)) > 1.0)
            test_fail(__FILE__, __LINE__, "%s: gradient %s element %lld (channel %lld, reference class of the "
                      "prior %d): %.8g vs PyTorch %.8g (%.2f x tolerance)", name, d, (long long)where,
                      (long long)(where % g->dims[3]), reference_label(name, &run, i % 3, where),
                      (double)((float *)run.din[i].data)[where], (double)((float *)g->data)[where], worst);
    }
    CHECK(run.din[6].data == NULL); /* the targets take no gradient */
    op_run_free(&run);
}

static void pytorch_many_boxes(void)
{
    run_golden("many");
}

static void pytorch_two_classes(void)
{
    run_golden("two_classes");
}

static void pytorch_random_predictions(void)
{
    run_golden("random_preds");
}

static void pytorch_tiny_boxes(void)
{
    run_golden("tiny_boxes");
}

static void pytorch_padded_column(void)
{
    run_golden("padded_column");
}

static void pytorch_no_boxes(void)
{
    run_golden("no_boxes");
}

static sscma_status infer7(const sscma_rtmdet_loss_attrs *a, const sscma_desc *in, int32_t n)
{
    sscma_desc out[SSCMA_OP_MAX_OUTPUTS];
    int32_t n_out = 0;
    sscma_op_sizes sizes;
    return sscma_op_infer(sscma_op_find("rtmdet_loss"), a, in, n, out, &n_out, &sizes);
}

/* Shapes that do not fit the head or the targets are refused with what was expected. */
static void bad_shapes_are_refused(void)
{
    sscma_rtmdet_loss_attrs a = default_attrs();
    const int64_t c0[4] = {2, 8, 12, 3}, c1[4] = {2, 4, 6, 3}, c2[4] = {2, 2, 3, 3};
    const int64_t r0[4] = {2, 8, 12, 4}, r1[4] = {2, 4, 6, 4}, r2[4] = {2, 2, 3, 4}, t[3] = {2, 5, 6};
    sscma_desc in[N_IN] = {sscma_desc_make(SSCMA_DTYPE_F32, 4, c0), sscma_desc_make(SSCMA_DTYPE_F32, 4, c1),
                           sscma_desc_make(SSCMA_DTYPE_F32, 4, c2), sscma_desc_make(SSCMA_DTYPE_F32, 4, r0),
                           sscma_desc_make(SSCMA_DTYPE_F32, 4, r1), sscma_desc_make(SSCMA_DTYPE_F32, 4, r2),
                           sscma_desc_make(SSCMA_DTYPE_F32, 3, t)};
    CHECK_OK(infer7(&a, in, N_IN));
    CHECK_FAILS(infer7(&a, in, 6), SSCMA_ERR_INVALID_ARGUMENT, "rtmdet_loss: takes 7 to 7 inputs, got 6");
    sscma_desc bad[N_IN];
    memcpy(bad, in, sizeof bad);
    bad[6].dims[2] = 5;
    CHECK_FAILS(infer7(&a, bad, N_IN), SSCMA_ERR_SHAPE,
                "rtmdet_loss: targets are f32[2, 5, 5]; expected [2, max_boxes, 6] (class, x1, y1, x2, y2, valid)");
    memcpy(bad, in, sizeof bad);
    bad[6].rank = 2;
    CHECK_FAILS(infer7(&a, bad, N_IN), SSCMA_ERR_SHAPE, "targets is f32[2, 5]; expected rank 3");
    memcpy(bad, in, sizeof bad);
    bad[1].dims[3] = 4;
    CHECK_FAILS(infer7(&a, bad, N_IN), SSCMA_ERR_SHAPE,
                "cls_1 is f32[2, 4, 6, 4]; expected [B, H, W, classes] with cls_0's batch and classes");
    memcpy(bad, in, sizeof bad);
    bad[4].dims[2] = 5;
    CHECK_FAILS(infer7(&a, bad, N_IN), SSCMA_ERR_SHAPE,
                "reg_1 is f32[2, 4, 5, 4]; expected [2, 4, 6, 4] (cls_1's map: left, top, right, bottom)");
    memcpy(bad, in, sizeof bad);
    bad[5].rank = 3;
    CHECK_FAILS(infer7(&a, bad, N_IN), SSCMA_ERR_SHAPE, "reg_2 is f32[2, 2, 3]; expected rank 4");
    memcpy(bad, in, sizeof bad);
    bad[0].dtype = SSCMA_DTYPE_I32;
    CHECK_FAILS(infer7(&a, bad, N_IN), SSCMA_ERR_DTYPE, "cls_0 is i32[2, 8, 12, 3]; expected f32");
    /* the stride-16 and stride-32 maps swapped */
    memcpy(bad, in, sizeof bad);
    bad[1] = in[2], bad[2] = in[1], bad[4] = in[5], bad[5] = in[4];
    CHECK_FAILS(infer7(&a, bad, N_IN), SSCMA_ERR_SHAPE,
                "cls_1 is f32[2, 2, 3, 3]: not the stride-16 map of the 64x96 input cls_0 (stride 8) covers");
    a.n_strides = 2;
    CHECK_FAILS(infer7(&a, in, N_IN), SSCMA_ERR_INVALID_ARGUMENT, "strides take 3 numbers");
    a = default_attrs();
    a.topk = 0;
    CHECK_FAILS(infer7(&a, in, N_IN), SSCMA_ERR_INVALID_ARGUMENT, "topk 0 (expected 1..1024)");
    a = default_attrs();
    a.beta = NAN;
    CHECK_FAILS(infer7(&a, in, N_IN), SSCMA_ERR_INVALID_ARGUMENT, "beta nan (expected > 0)");
}

/* A class id outside the head's classes in a valid row is a status naming the row; invalid rows are not read. */
static void bad_class_is_reported(void)
{
    sscma_rtmdet_loss_attrs a = default_attrs();
    op_run run;
    if (!case_run("many", &a, &run))
        return;
    float *t = run.in[6].data;
    const int64_t rows = run.in[6].desc.dims[1];
    CHECK(t[3 * 6 + 0] == 7.0f && t[3 * 6 + 5] == 0.0f); /* row 3 of image 0: class 7, not valid */
    CHECK_OK(op_run_forward(&run));
    t[(2 * rows + 1) * 6 + 0] = 3.0f; /* 3 classes */
    CHECK_FAILS(op_run_forward(&run), SSCMA_ERR_INVALID_ARGUMENT, "rtmdet_loss: targets[2, 1]: class 3; expected 0..2");
    t[(2 * rows + 1) * 6 + 0] = -1.0f;
    CHECK_FAILS(op_run_forward(&run), SSCMA_ERR_INVALID_ARGUMENT, "targets[2, 1]: class -1; expected 0..2");
    t[(2 * rows + 1) * 6 + 0] = 0.5f;
    CHECK_FAILS(op_run_forward(&run), SSCMA_ERR_INVALID_ARGUMENT, "targets[2, 1]: class 0.5");
    t[(2 * rows + 1) * 6 + 0] = NAN;
    CHECK_FAILS(op_run_forward(&run), SSCMA_ERR_INVALID_ARGUMENT, "targets[2, 1]: class nan");
    op_run_free(&run);
}

/*
 * Boxes no pipeline should produce (NaN, infinite or huge corners, a box beyond the image, zero or negative size) and
 * predictions far off neither crash nor poison the loss: rows with a non-finite corner are skipped, the rest are
 * assigned as any other box.
 */
static void odd_boxes_give_finite_losses(void)
{
    sscma_rtmdet_loss_attrs a = default_attrs();
    op_run run;
    if (!case_run("many", &a, &run))
        return;
    const float odd[8][6] = {
        {0, NAN, 1, 20, 20, 1},   {1, 1e30f, 1e30f, 3e30f, 3e30f, 1}, {2, -1e30f, -1e30f, -5e29f, -5e29f, 1},
        {0, 200, 30, 230, 50, 1}, {1, -60, -40, -20, -10, 1},         {2, 10, 10, 10, 10, 1},
        {0, INFINITY, 0, INFINITY, 8, 1}, {1, 30, 30, 20, 20, 1},
    };
    float *t = run.in[6].data;
    memset(t, 0, (size_t)sscma_desc_numel(&run.in[6].desc) * 4);
    memcpy(t, odd, sizeof odd);
    float *reg = run.in[3].data;
    reg[0] = 1e30f, reg[5] = -1e30f, reg[10] = 0.0f; /* a few wild predictions */
    for (int o = 0; o < 3; o++)
        *(float *)run.dout[o].data = 1.0f;
    CHECK_OK(op_run_forward(&run));
    op_run_backward(&run);
    for (int o = 0; o < 3; o++)
        CHECK(isfinite(*(float *)run.out[o].data));
    for (int i = 0; i < 6; i++) {
        const float *g = run.din[i].data;
        bool finite = true;
        for (int64_t k = 0; k < sscma_desc_numel(&run.in[i].desc); k++)
            finite = finite && isfinite(g[k]);
        CHECK(finite);
    }
    op_run_free(&run);
}

/* Gradients of an output alone: d loss_cls reaches only the class maps, d loss_bbox only the distance maps. */
static void parts_have_their_own_gradients(void)
{
    sscma_rtmdet_loss_attrs a = default_attrs();
    op_run run;
    if (!case_run("many", &a, &run))
        return;
    CHECK_OK(op_run_forward(&run));
    for (int part = 1; part <= 2; part++) {
        for (int o = 0; o < 3; o++)
            *(float *)run.dout[o].data = o == part ? 1.0f : 0.0f;
        op_run_backward(&run);
        double sums[6] = {0};
        for (int i = 0; i < 6; i++)
            for (int64_t k = 0; k < sscma_desc_numel(&run.in[i].desc); k++)
                sums[i] += fabs(((const float *)run.din[i].data)[k]);
        /* the class maps of every level take a gradient from loss_cls; the distances of positives from loss_bbox */
        CHECK(part == 1 ? sums[0] > 0.0 && sums[1] > 0.0 && sums[2] > 0.0 : sums[0] + sums[1] + sums[2] == 0.0);
        CHECK(part == 2 ? sums[3] + sums[4] + sums[5] > 0.0 : sums[3] + sums[4] + sums[5] == 0.0);
    }
    op_run_free(&run);
}

/* The cost matrix and the per-prior terms and gradients run on the pool: 1 and 3 threads give the same bits. */
static void thread_count_does_not_change_bits(void)
{
    sscma_rtmdet_loss_attrs a = default_attrs();
    op_run runs[2];
    sscma_context *owners[2] = {NULL, NULL};
    const int32_t threads[2] = {1, 3};
    int made = 0;
    for (int k = 0; k < 2; k++) {
        sscma_context_options o;
        sscma_context_options_init(&o, sizeof o);
        o.num_threads = threads[k];
        CHECK_OK(sscma_context_create(&o, &owners[k]));
        if (owners[k] == NULL || !case_run_in(owners[k], "tiny_boxes", &a, &runs[k]))
            break;
        made++;
        for (int i = 0; i < 3; i++)
            *(float *)runs[k].dout[i].data = 0.5f + (float)i;
        CHECK_OK(op_run_forward(&runs[k]));
        op_run_backward(&runs[k]);
    }
    if (made == 2) {
        for (int o = 0; o < 3; o++)
            CHECK(memcmp(runs[0].out[o].data, runs[1].out[o].data, 4) == 0);
        for (int i = 0; i < 6; i++)
            CHECK(memcmp(runs[0].din[i].data, runs[1].din[i].data,
                         (size_t)sscma_desc_numel(&runs[0].in[i].desc) * 4) == 0);
    }
    for (int k = 0; k < made; k++)
        op_run_free(&runs[k]);
    sscma_context_destroy(owners[0]);
    sscma_context_destroy(owners[1]);
}

/* The attributes as a model builder writes them: SSCMA's values by default, JSON otherwise. */
static void attributes_parse(void)
{
    const sscma_op_def *def = sscma_op_find("rtmdet_loss");
    sscma_rtmdet_loss_attrs a;
    CHECK_OK(sscma_op_parse_attrs(def, NULL, &a));
    CHECK(a.n_strides == 0 && a.topk == 13 && a.iou_weight == 3.0f && a.soft_center_radius == 3.0f);
    CHECK(a.beta == 2.0f && a.loss_cls_weight == 1.0f && a.loss_bbox_weight == 2.0f && fabsf(a.eps - 1e-6f) < 1e-12f);
    CHECK_OK(sscma_op_parse_attrs(def, "{\"strides\": [8, 16, 32], \"topk\": 9, \"loss_bbox_weight\": 1.5}", &a));
    CHECK(a.n_strides == 3 && a.strides[2] == 32 && a.topk == 9 && a.loss_bbox_weight == 1.5f);
    CHECK_FAILS(sscma_op_parse_attrs(def, "{\"top_k\": 4}", &a), SSCMA_ERR_CONFIG, "top_k");
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(pytorch_many_boxes),       TEST_CASE(pytorch_two_classes),      TEST_CASE(pytorch_random_predictions),
        TEST_CASE(pytorch_tiny_boxes),       TEST_CASE(pytorch_padded_column),    TEST_CASE(pytorch_no_boxes),
               TEST_CASE(bad_shapes_are_refused),
        TEST_CASE(bad_class_is_reported),    TEST_CASE(odd_boxes_give_finite_losses),
        TEST_CASE(parts_have_their_own_gradients), TEST_CASE(thread_count_does_not_change_bits),
        TEST_CASE(attributes_parse),
    };
    if (golden_load(&golden, GOLDEN_DIR "/rtmdet_loss.bin") != 0) {
        printf("Bail out! cannot read %s/rtmdet_loss.bin\n", GOLDEN_DIR);
        return 99;
    }
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99;
    int rc = test_main(argc, argv, tests, TEST_COUNT(tests));
    sscma_context_destroy(ctx);
    golden_free(&golden);
    return rc;
}
