/*
 * Op-level behaviour that gradient checks and golden values do not cover: bad arguments give a status and a
 * message naming the op and the problem; dropout's statistics; exact data movement.
 */
#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#include <sscma/sscma.h>

#include "harness.h"
#include "opcheck.h"

static sscma_context *ctx;

static sscma_desc D(sscma_dtype dtype, int32_t rank, ...)
{
    va_list ap;
    va_start(ap, rank);
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    for (int32_t i = 0; i < rank; i++)
        dims[i] = va_arg(ap, long long);
    va_end(ap);
    return sscma_desc_make(dtype, rank, dims);
}
#define F32 SSCMA_DTYPE_F32
#define I32 SSCMA_DTYPE_I32

static sscma_status infer(const char *op, const void *attrs, int32_t n_in, const sscma_desc *in)
{
    sscma_desc out[SSCMA_OP_MAX_OUTPUTS];
    int32_t n_out = 0;
    sscma_op_sizes sizes;
    return sscma_op_infer(sscma_op_find(op), attrs, in, n_in, out, &n_out, &sizes);
}

static void bad_arguments_are_statuses_with_messages(void)
{
    const sscma_conv2d_attrs conv = {1, 1, 1, 1, 1, 1, 1, 1, false, 1};
    const sscma_conv2d_attrs conv_bad = {0, 1, 1, 1, 0, 0, 0, 0, false, 1};
    const sscma_conv2d_attrs conv_g3 = {1, 1, 1, 1, 0, 0, 0, 0, false, 3};
    sscma_desc x = D(F32, 4, 2LL, 8LL, 8LL, 4LL), w = D(F32, 4, 6LL, 3LL, 3LL, 4LL), b = D(F32, 1, 6LL);
    sscma_desc w_wrong = D(F32, 4, 6LL, 3LL, 3LL, 5LL), xi = D(I32, 4, 2LL, 8LL, 8LL, 4LL);
    CHECK_FAILS(sscma_op_infer(NULL, &conv, (sscma_desc[]){x, w}, 2, NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT,
                "no op definition");
    CHECK_FAILS(infer("conv2d", NULL, 2, (sscma_desc[]){x, w}), SSCMA_ERR_INVALID_ARGUMENT,
                "conv2d: needs attributes");
    CHECK_FAILS(infer("conv2d", &conv, 1, (sscma_desc[]){x}), SSCMA_ERR_INVALID_ARGUMENT, "takes 2 to 3 inputs, got 1");
    CHECK_FAILS(infer("conv2d", &conv, 3, (sscma_desc[]){x, w_wrong, b}), SSCMA_ERR_SHAPE,
                "input f32[2, 8, 8, 4] has 4 channels; weight f32[6, 3, 3, 5] expects 5");
    CHECK_FAILS(infer("conv2d", &conv, 2, (sscma_desc[]){xi, w}), SSCMA_ERR_DTYPE, "input x is i32[2, 8, 8, 4]");
    CHECK_FAILS(infer("conv2d", &conv, 3, (sscma_desc[]){x, w, D(F32, 1, 5LL)}), SSCMA_ERR_SHAPE,
                "bias has 5 elements");
    CHECK_FAILS(infer("conv2d", &conv_bad, 2, (sscma_desc[]){x, w}), SSCMA_ERR_INVALID_ARGUMENT, "must all be >= 1");
    CHECK_FAILS(infer("conv2d", &conv_g3, 2, (sscma_desc[]){x, w}), SSCMA_ERR_SHAPE, "not divisible by groups 3");
    CHECK_FAILS(infer("conv2d", &conv, 2, (sscma_desc[]){D(F32, 4, 2LL, 1LL, 1LL, 4LL), D(F32, 4, 6LL, 5LL, 5LL, 4LL)}),
                SSCMA_ERR_SHAPE, "output would be empty");
    CHECK_FAILS(infer("conv2d", &conv, 2, (sscma_desc[]){D(F32, 4, 2LL, -8LL, 8LL, 4LL), w}), SSCMA_ERR_SHAPE,
                "dimension 1 is -8");
    CHECK_FAILS(infer("conv2d", &conv, 2, (sscma_desc[]){D(F32, 4, 1LL << 40, 1LL << 20, 8LL, 4LL), w}),
                SSCMA_ERR_OVERFLOW, "too large for memory");
    CHECK_FAILS(infer("conv2d", &conv, 2, (sscma_desc[]){D((sscma_dtype)9, 4, 2LL, 8LL, 8LL, 4LL), w}),
                SSCMA_ERR_DTYPE, "unknown dtype 9");

    const sscma_batch_norm_attrs bn = {1e-5f, 0.1f}, bn_bad = {0.0f, 0.1f};
    sscma_desc c4 = D(F32, 1, 4LL), c5 = D(F32, 1, 5LL);
    CHECK_FAILS(infer("batch_norm", &bn, 5, (sscma_desc[]){x, c4, c4, c5, c4}), SSCMA_ERR_SHAPE,
                "running_mean has 5 elements; x has 4 channels");
    CHECK_FAILS(infer("batch_norm", &bn_bad, 5, (sscma_desc[]){x, c4, c4, c4, c4}), SSCMA_ERR_INVALID_ARGUMENT,
                "eps 0 must be > 0");

    const sscma_linear_attrs lin = {0};
    CHECK_FAILS(infer("linear", &lin, 2, (sscma_desc[]){D(F32, 2, 3LL, 7LL), D(F32, 2, 4LL, 8LL)}), SSCMA_ERR_SHAPE,
                "has 7 features; weight f32[4, 8] expects 8");
    CHECK_FAILS(infer("add", NULL, 2, (sscma_desc[]){x, D(F32, 4, 2LL, 8LL, 3LL, 4LL)}), SSCMA_ERR_SHAPE,
                "does not broadcast");
    const sscma_pool_attrs big = {9, 9, 1, 1, 0, 0, false, true}, badpad = {2, 2, 1, 1, 2, 0, false, true};
    CHECK_FAILS(infer("max_pool", &big, 1, (sscma_desc[]){x}), SSCMA_ERR_SHAPE, "smaller than the 9x9 window");
    CHECK_FAILS(infer("avg_pool", &badpad, 1, (sscma_desc[]){x}), SSCMA_ERR_INVALID_ARGUMENT, "half the kernel");
    const sscma_reshape_attrs two_minus = {2, {-1, -1}}, wrong = {2, {3, 5}}, huge = {2, {1LL << 62, 8}};
    CHECK_FAILS(infer("reshape", &two_minus, 1, (sscma_desc[]){x}), SSCMA_ERR_INVALID_ARGUMENT, "only one -1");
    CHECK_FAILS(infer("reshape", &wrong, 1, (sscma_desc[]){x}), SSCMA_ERR_SHAPE, "(512 elements)");
    CHECK_FAILS(infer("reshape", &huge, 1, (sscma_desc[]){x}), SSCMA_ERR_OVERFLOW, "overflows");
    const sscma_axis_attrs split = {-1, 2, {1, 2}}, cat = {5, 0, {0}};
    CHECK_FAILS(infer("split", &split, 1, (sscma_desc[]){x}), SSCMA_ERR_SHAPE, "sizes add up to 3");
    CHECK_FAILS(infer("concat", &cat, 2, (sscma_desc[]){x, x}), SSCMA_ERR_INVALID_ARGUMENT, "axis 5 is outside");
    CHECK_FAILS(infer("concat", &(sscma_axis_attrs){-1, 0, {0}}, 2, (sscma_desc[]){x, D(F32, 4, 2LL, 7LL, 8LL, 4LL)}),
                SSCMA_ERR_SHAPE, "input 1 f32[2, 7, 8, 4] does not match");
    const sscma_slice_attrs slice = {{0, 0, 0, 0}, {2, 9, 8, 4}};
    CHECK_FAILS(infer("slice", &slice, 1, (sscma_desc[]){x}), SSCMA_ERR_INVALID_ARGUMENT, "axis 1: [0, 9)");
    const sscma_pad_attrs pad = {{0, 1LL << 50, 0, 0}, {0}, 0.0f};
    CHECK_FAILS(infer("pad", &pad, 1, (sscma_desc[]){x}), SSCMA_ERR_OVERFLOW, "too large");
    const sscma_upsample_attrs up = {1 << 30, 1 << 30};
    CHECK_FAILS(infer("upsample_nearest", &up, 1, (sscma_desc[]){D(F32, 4, 1LL, 1LL << 20, 1LL << 20, 1LL)}),
                SSCMA_ERR_OVERFLOW, "too large");
    const sscma_dropout_attrs drop = {1.5f};
    CHECK_FAILS(infer("dropout", &drop, 1, (sscma_desc[]){x}), SSCMA_ERR_INVALID_ARGUMENT, "p is 1.5");
    const sscma_cross_entropy_attrs ce = {SSCMA_REDUCTION_MEAN, 0.0f, -100}, ce_bad = {(sscma_reduction)7, 0.0f, 0};
    CHECK_FAILS(infer("cross_entropy", &ce, 2, (sscma_desc[]){D(F32, 2, 4LL, 3LL), D(I32, 1, 5LL)}), SSCMA_ERR_SHAPE,
                "target has 5 entries; logits have 4 rows");
    CHECK_FAILS(infer("cross_entropy", &ce, 2, (sscma_desc[]){D(F32, 2, 4LL, 3LL), D(F32, 1, 4LL)}), SSCMA_ERR_DTYPE,
                "target is f32[4]; expected i32");
    CHECK_FAILS(infer("cross_entropy", &ce_bad, 2, (sscma_desc[]){D(F32, 2, 4LL, 3LL), D(I32, 1, 4LL)}),
                SSCMA_ERR_INVALID_ARGUMENT, "reduction 7");
    const sscma_bce_attrs bce = {SSCMA_REDUCTION_MEAN, false, true};
    CHECK_FAILS(infer("bce_with_logits", &bce, 3, (sscma_desc[]){x, x, D(F32, 1, 3LL)}), SSCMA_ERR_SHAPE,
                "pos_weight has 3 entries; the last axis has 4");
    CHECK_FAILS(infer("bce_with_logits", &bce, 2, (sscma_desc[]){x, x}), SSCMA_ERR_INVALID_ARGUMENT,
                "takes 3 inputs with these options");
    const sscma_regression_loss_attrs mse = {SSCMA_REDUCTION_MEAN, 1.0f};
    CHECK_FAILS(infer("mse_loss", &mse, 2, (sscma_desc[]){x, D(F32, 4, 2LL, 8LL, 8LL, 3LL)}), SSCMA_ERR_SHAPE,
                "target f32[2, 8, 8, 3] must match the input f32[2, 8, 8, 4]");
    CHECK_FAILS(infer("softmax", &(sscma_softmax_attrs){0}, 1, (sscma_desc[]){D(F32, 2, 3LL, 0LL)}), SSCMA_ERR_SHAPE,
                "non-empty last axis");
    CHECK(sscma_op_find("no_such_op") == NULL);
}

/* The registry has a row per id, each op at its own id, with a unique name that finds it again. */
static void registry_is_indexed_by_id(void)
{
    size_t count = 0;
    const sscma_op_def *const *ops = sscma_op_all(&count);
    CHECK_INT_EQ((int64_t)count, SSCMA_OP_COUNT);
    for (size_t i = 0; i < count; i++) {
        CHECK(ops[i] != NULL);
        if (ops[i] == NULL)
            continue;
        CHECK_INT_EQ(ops[i]->id, (int64_t)i);
        CHECK(sscma_op_get((sscma_op_id)i) == ops[i]);
        CHECK(ops[i]->name != NULL && ops[i]->infer != NULL && ops[i]->forward != NULL);
        CHECK(sscma_op_find(ops[i]->name) == ops[i]); /* also: no other op has this name */
    }
    /* what model summaries count: convolutions and linear layers, nothing else */
    for (size_t i = 0; i < count; i++) {
        bool counted = i == SSCMA_OP_CONV2D || i == SSCMA_OP_CONV2D_BN_ACT || i == SSCMA_OP_LINEAR;
        CHECK(ops[i] == NULL || (ops[i]->macs != NULL) == counted);
    }
    const sscma_desc conv_in[2] = {D(F32, 4, 2LL, 8LL, 8LL, 4LL), D(F32, 4, 6LL, 3LL, 3LL, 4LL)};
    const sscma_desc conv_out = D(F32, 4, 2LL, 6LL, 6LL, 6LL);
    CHECK_INT_EQ((int64_t)sscma_op_get(SSCMA_OP_CONV2D)->macs(conv_in, 2, &conv_out), 2 * 6 * 6 * 6 * 3 * 3 * 4);
}

static void dropout_keeps_expected_fraction(void)
{
    const sscma_dropout_attrs drop = {0.3f};
    sscma_desc d = D(F32, 2, 200LL, 500LL);
    op_run run;
    CHECK_OK(op_run_init(&run, ctx, "dropout", &drop, 1, &d));
    float *x = run.in[0].data, *y = run.out[0].data;
    for (int i = 0; i < 100000; i++)
        x[i] = 1.0f;
    CHECK_OK(op_run_forward(&run));
    int kept = 0, scaled_right = 0;
    for (int i = 0; i < 100000; i++) {
        kept += y[i] != 0.0f;
        scaled_right += y[i] == 0.0f || fabsf(y[i] - 1.0f / 0.7f) < 1e-6f;
    }
    /* 100000 Bernoulli(0.7) draws: 4.5 standard deviations is 650 */
    CHECK(kept > 70000 - 650 && kept < 70000 + 650);
    CHECK_INT_EQ(scaled_right, 100000);
    /* same seed, same mask; another seed, another mask */
    float first[16];
    memcpy(first, y, sizeof first);
    CHECK_OK(op_run_forward(&run));
    CHECK(memcmp(first, y, sizeof first) == 0);
    run.seed = 99;
    CHECK_OK(op_run_forward(&run));
    CHECK(memcmp(first, y, sizeof first) != 0 || memcmp(first + 8, y + 8, 8 * sizeof(float)) != 0);
    /* evaluation is the identity */
    run.training = false;
    CHECK_OK(op_run_forward(&run));
    int same = 0;
    for (int i = 0; i < 100000; i++)
        same += y[i] == 1.0f;
    CHECK_INT_EQ(same, 100000);
    op_run_free(&run);
}

static void concat_split_slice_move_exact_values(void)
{
    const sscma_axis_attrs cat = {-1, 0, {0}}, split = {-1, 2, {3, 2}};
    sscma_desc a = D(F32, 3, 2LL, 3LL, 3LL), b = D(F32, 3, 2LL, 3LL, 2LL);
    op_run c, s;
    CHECK_OK(op_run_init(&c, ctx, "concat", &cat, 2, (sscma_desc[]){a, b}));
    for (int i = 0; i < 18; i++)
        ((float *)c.in[0].data)[i] = (float)i;
    for (int i = 0; i < 12; i++)
        ((float *)c.in[1].data)[i] = 100.0f + (float)i;
    CHECK_OK(op_run_forward(&c));
    const float *y = c.out[0].data;
    /* row 0: a[0..2], b[0..1]; row 1: a[3..5], b[2..3] */
    CHECK(y[0] == 0.0f && y[2] == 2.0f && y[3] == 100.0f && y[4] == 101.0f && y[5] == 3.0f && y[8] == 102.0f);
    CHECK_OK(op_run_init(&s, ctx, "split", &split, 1, &c.out[0].desc));
    memcpy(s.in[0].data, y, 30 * sizeof(float));
    CHECK_OK(op_run_forward(&s));
    CHECK(memcmp(s.out[0].data, c.in[0].data, 18 * sizeof(float)) == 0);
    CHECK(memcmp(s.out[1].data, c.in[1].data, 12 * sizeof(float)) == 0);
    op_run_free(&s);
    op_run_free(&c);

    const sscma_slice_attrs sl = {{1, 0, 1}, {2, 2, 3}};
    op_run r;
    CHECK_OK(op_run_init(&r, ctx, "slice", &sl, 1, (sscma_desc[]){D(I32, 3, 2LL, 3LL, 4LL)}));
    for (int i = 0; i < 24; i++)
        ((int32_t *)r.in[0].data)[i] = i;
    CHECK_OK(op_run_forward(&r));
    const int32_t *z = r.out[0].data; /* [1, 2, 2]: x[1, 0:2, 1:3] */
    CHECK(z[0] == 13 && z[1] == 14 && z[2] == 17 && z[3] == 18);
    op_run_free(&r);
}

/*
 * yolo_decode on values whose sigmoid is known (0 -> 1/2, ln 3 -> 3/4, -ln 3 -> 1/4): boxes in pixels by SSCMA's
 * formulas, rows by level, then anchor, then cell y * W + x.
 */
static void yolo_decode_gives_boxes_in_pixels(void)
{
    const float l3 = logf(3.0f);
    sscma_yolo_decode_attrs at;
    memset(&at, 0, sizeof at);
    at.num_classes = 2;
    at.n_strides = 2, at.strides[0] = 8, at.strides[1] = 16;
    const float anchors[8] = {10, 13, 16, 30, 30, 61, 62, 45}; /* two anchors per level */
    at.n_anchors = 8;
    memcpy(at.anchors, anchors, sizeof anchors);
    /* level 0: [1, 2, 3, 2 * 7]; level 1: [1, 1, 2, 14] */
    const sscma_desc in[2] = {D(F32, 4, 1LL, 2LL, 3LL, 14LL), D(F32, 4, 1LL, 1LL, 2LL, 14LL)};
    op_run r;
    CHECK_OK(op_run_init(&r, ctx, "yolo_decode", &at, 2, in));
    CHECK(r.out[0].desc.rank == 3 && r.out[0].desc.dims[1] == 2 * 6 + 2 * 2 && r.out[0].desc.dims[2] == 7);
    float *m0 = r.in[0].data, *m1 = r.in[1].data;
    /* level 0, anchor 1, cell (y 1, x 2): t = (ln 3, -ln 3, ln 3, 0), objectness 0, classes ln 3, -ln 3 */
    float *p = m0 + (1 * 3 + 2) * 14 + 1 * 7;
    p[0] = l3, p[1] = -l3, p[2] = l3, p[3] = 0.0f, p[4] = 0.0f, p[5] = l3, p[6] = -l3;
    /* level 1, anchor 0, cell (0, 1): all zero but the width */
    m1[(0 * 2 + 1) * 14 + 0 * 7 + 2] = -l3;
    CHECK_OK(op_run_forward(&r));
    const float *y = r.out[0].data;
    const float *a = y + (1 * 6 + 1 * 3 + 2) * 7; /* level 0, anchor 1, cell 5 */
    CHECK_NEAR(a[0], (1.5f - 0.5f + 2.0f) * 8.0f, 1e-5);   /* 24 */
    CHECK_NEAR(a[1], (0.5f - 0.5f + 1.0f) * 8.0f, 1e-5);   /* 8 */
    CHECK_NEAR(a[2], 1.5f * 1.5f * 16.0f, 1e-4);           /* 36 */
    CHECK_NEAR(a[3], 1.0f * 30.0f, 1e-4);
    CHECK_NEAR(a[4], 0.5f, 1e-6);
    CHECK_NEAR(a[5], 0.75f, 1e-6);
    CHECK_NEAR(a[6], 0.25f, 1e-6);
    const float *b = y + (12 + 0 * 2 + 1) * 7; /* level 1, anchor 0, cell 1 */
    CHECK_NEAR(b[0], (1.0f - 0.5f + 1.0f) * 16.0f, 1e-5);
    CHECK_NEAR(b[1], (1.0f - 0.5f + 0.0f) * 16.0f, 1e-5);
    CHECK_NEAR(b[2], 0.5f * 0.5f * 30.0f, 1e-5);
    CHECK_NEAR(b[3], 1.0f * 61.0f, 1e-4);
    const float *c = y + (12 + 1 * 2 + 0) * 7; /* level 1, anchor 1, cell 0: the anchor's own size */
    CHECK_NEAR(c[2], 62.0f, 1e-4);
    CHECK_NEAR(c[3], 45.0f, 1e-4);
    op_run_free(&r);
    /* shapes that do not match the attributes are refused with the reason */
    at.num_classes = 3;
    CHECK_FAILS(op_run_init(&r, ctx, "yolo_decode", &at, 2, in), SSCMA_ERR_SHAPE,
                "expected batch 1 and 16 channels (2 anchors x (5 + 3 classes))");
    at.num_classes = 2, at.n_strides = 1;
    CHECK_FAILS(op_run_init(&r, ctx, "yolo_decode", &at, 2, in), SSCMA_ERR_INVALID_ARGUMENT,
                "1 strides for 2 input maps");
}

/* One op run on given input data; returns the run (caller frees). */
static sscma_status run_op(op_run *run, const char *op, const void *attrs, int32_t n_in, const sscma_desc *in,
                           const float *const *data, bool training)
{
    sscma_status st = op_run_init(run, ctx, op, attrs, n_in, in);
    if (st != SSCMA_OK)
        return st;
    run->training = training;
    for (int32_t i = 0; i < n_in; i++)
        memcpy(run->in[i].data, data[i], (size_t)sscma_desc_numel(&in[i]) * sizeof(float));
    return op_run_forward(run);
}

/* conv2d_bn_act equals conv2d -> batch_norm (evaluation) -> activation, on every conv path. */
static void fused_conv_bn_act_matches_the_chain(void)
{
    static const struct {
        sscma_conv2d_attrs conv;
        int64_t cin, cout, k;
        bool bias;
        sscma_act_kind act;
        const char *act_op;
    } cases[] = {
        {{1, 1, 1, 1, 0, 0, 0, 0, false, 1}, 8, 16, 1, false, SSCMA_ACT_RELU6, "relu6"},
        {{2, 2, 1, 1, 0, 0, 0, 0, true, 12}, 12, 12, 3, true, SSCMA_ACT_HARDSWISH, "hardswish"},
        {{1, 1, 1, 1, 1, 1, 1, 1, false, 1}, 3, 8, 3, true, SSCMA_ACT_NONE, NULL},
        {{2, 2, 1, 1, 1, 1, 1, 1, false, 1}, 4, 6, 3, false, SSCMA_ACT_LEAKY_RELU, "leaky_relu"},
    };
    test_rng rng = {42};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t cin = cases[k].cin, cout = cases[k].cout, ks = cases[k].k;
        int64_t cin_g = cin / cases[k].conv.groups;
        sscma_desc xd = D(F32, 4, 2LL, 9LL, 10LL, (long long)cin);
        sscma_desc wd = D(F32, 4, (long long)cout, (long long)ks, (long long)ks, (long long)cin_g);
        sscma_desc cd = D(F32, 1, (long long)cout);
        float x[2 * 9 * 10 * 12], w[16 * 9 * 12], gamma[16], beta[16], mean[16], var[16], bias[16];
        for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
            x[i] = test_rng_normal(&rng);
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
            w[i] = 0.3f * test_rng_normal(&rng);
        for (int i = 0; i < 16; i++) {
            gamma[i] = 0.5f + test_rng_uniform(&rng), beta[i] = test_rng_normal(&rng);
            mean[i] = 0.2f * test_rng_normal(&rng), var[i] = 0.5f + test_rng_uniform(&rng);
            bias[i] = test_rng_normal(&rng);
        }
        sscma_conv_bn_act_attrs fa = {cases[k].conv, 1e-5f, cases[k].act, 0.1f};
        op_run fused, conv, bn, act;
        const float *fused_data[7] = {x, w, gamma, beta, mean, var, bias};
        sscma_desc fused_in[7] = {xd, wd, cd, cd, cd, cd, cd};
        CHECK_OK(run_op(&fused, "conv2d_bn_act", &fa, cases[k].bias ? 7 : 6, fused_in, fused_data, false));
        const float *conv_data[3] = {x, w, bias};
        CHECK_OK(run_op(&conv, "conv2d", &cases[k].conv, cases[k].bias ? 3 : 2, (sscma_desc[]){xd, wd, cd},
                        conv_data, false));
        const sscma_batch_norm_attrs bna = {1e-5f, 0.1f};
        const float *bn_data[5] = {conv.out[0].data, gamma, beta, mean, var};
        CHECK_OK(run_op(&bn, "batch_norm", &bna, 5, (sscma_desc[]){conv.out[0].desc, cd, cd, cd, cd}, bn_data,
                        false));
        const float *expected = bn.out[0].data;
        if (cases[k].act_op != NULL) {
            const sscma_act_attrs aa = {0.1f};
            const float *act_data[1] = {bn.out[0].data};
            CHECK_OK(run_op(&act, cases[k].act_op, &aa, 1, &bn.out[0].desc, act_data, false));
            expected = act.out[0].data;
        }
        CHECK(sscma_desc_equal(&fused.out[0].desc, &conv.out[0].desc));
        int64_t n = sscma_desc_numel(&fused.out[0].desc);
        double rms = 0.0, worst = 0.0;
        for (int64_t i = 0; i < n; i++)
            rms += (double)expected[i] * expected[i];
        rms = sqrt(rms / (double)n);
        for (int64_t i = 0; i < n; i++) {
            double err = fabs((double)((float *)fused.out[0].data)[i] - expected[i]) / (fabs(expected[i]) + rms);
            worst = err > worst ? err : worst;
        }
        if (worst > 1e-5)
            test_fail(__FILE__, __LINE__, "case %zu: fused differs from the chain by %.3g (relative)", k, worst);
        op_run_free(&fused);
        op_run_free(&conv);
        op_run_free(&bn);
        if (cases[k].act_op != NULL)
            op_run_free(&act);
    }
}

/* batch_norm_act gives the same bits as batch_norm followed by the activation, forward and backward; with few
 * channels (3 to 8: the tiled sums of the fused backward, rows left over in both chunks) and with many (24). */
static void fused_batch_norm_act_equals_the_chain(void)
{
    static const struct {
        sscma_act_kind act;
        const char *op;
        bool training;
    } cases[] = {
        {SSCMA_ACT_RELU6, "relu6", true}, {SSCMA_ACT_RELU, "relu", true}, {SSCMA_ACT_HARDSWISH, "hardswish", true},
        {SSCMA_ACT_LEAKY_RELU, "leaky_relu", true}, {SSCMA_ACT_RELU6, "relu6", false},
    };
    static const int64_t channels[] = {3, 4, 5, 6, 8, 24};
    enum { ROWS = 2 * 13 * 11, MAXC = 24 }; /* 286 rows: two chunks of the sums (256 rows each at most) */
    static float x[ROWS * MAXC], dy[ROWS * MAXC];
    float gamma[MAXC], beta[MAXC], mean[MAXC], var[MAXC];
    test_rng rng = {7};
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = 3.0f * test_rng_normal(&rng), dy[i] = test_rng_normal(&rng);
    for (size_t m = 0; m < sizeof channels / sizeof channels[0]; m++) {
        const int64_t c = channels[m];
        sscma_desc xd = D(F32, 4, 2LL, 13LL, 11LL, c), cd = D(F32, 1, c);
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            for (int i = 0; i < c; i++)
                gamma[i] = 0.5f + test_rng_uniform(&rng), beta[i] = test_rng_normal(&rng), mean[i] = 0.1f * (float)i,
                var[i] = 0.5f + test_rng_uniform(&rng);
            const sscma_batch_norm_act_attrs fa = {{1e-5f, 0.1f}, cases[k].act, 0.1f};
            const sscma_batch_norm_attrs ba = fa.bn;
            const sscma_act_attrs aa = {0.1f};
            const float *bn_in[5] = {x, gamma, beta, mean, var};
            sscma_desc in[5] = {xd, cd, cd, cd, cd};
            op_run fused, bn, act;
            CHECK_OK(run_op(&fused, "batch_norm_act", &fa, 5, in, bn_in, cases[k].training));
            CHECK_OK(run_op(&bn, "batch_norm", &ba, 5, in, bn_in, cases[k].training));
            const float *act_in[1] = {bn.out[0].data};
            CHECK_OK(run_op(&act, cases[k].op, &aa, 1, &xd, act_in, cases[k].training));
            const size_t bytes = (size_t)(ROWS * c) * sizeof(float), cbytes = (size_t)c * sizeof(float);
            CHECK(memcmp(fused.out[0].data, act.out[0].data, bytes) == 0);
            CHECK(memcmp(fused.in[3].data, bn.in[3].data, cbytes) == 0); /* running statistics */
            CHECK(memcmp(fused.in[4].data, bn.in[4].data, cbytes) == 0);
            memcpy(fused.dout[0].data, dy, bytes);
            memcpy(act.dout[0].data, dy, bytes);
            op_run_backward(&fused);
            op_run_backward(&act);
            memcpy(bn.dout[0].data, act.din[0].data, bytes);
            op_run_backward(&bn);
            for (int i = 0; i < 3; i++)
                if (memcmp(fused.din[i].data, bn.din[i].data, (size_t)sscma_desc_numel(&in[i]) * sizeof(float)) != 0)
                    test_fail(__FILE__, __LINE__, "%lld channels, case %zu (%s): gradient of input %d differs from "
                              "the chain", (long long)c, k, cases[k].op, i);
            op_run_free(&fused);
            op_run_free(&bn);
            op_run_free(&act);
        }
    }
}

/* docs/ops.md lists every op of the table with each of its attributes. */
static void ops_doc_is_complete(void)
{
    FILE *f = fopen(DOCS_DIR "/ops.md", "rb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t count = 0;
    const sscma_op_def *const *ops = sscma_op_all(&count);
    for (size_t i = 0; i < count; i++) {
        char row[96];
        snprintf(row, sizeof row, "| `%s` |", ops[i]->name);
        const char *line = strstr(text, row);
        if (line == NULL) {
            test_fail(__FILE__, __LINE__, "docs/ops.md has no row for op %s", ops[i]->name);
            continue;
        }
        const char *eol = strchr(line, '\n');
        for (const sscma_attr_field *a = ops[i]->attr_fields; a != NULL && a->name != NULL; a++) {
            char key[64];
            snprintf(key, sizeof key, "`%s`", a->name);
            const char *hit = strstr(line, key);
            if (hit == NULL || (eol != NULL && hit > eol))
                test_fail(__FILE__, __LINE__, "docs/ops.md: op %s does not list attribute %s", ops[i]->name, a->name);
        }
        if (ops[i]->attrs_size > 0 && ops[i]->attr_fields == NULL)
            test_fail(__FILE__, __LINE__, "op %s has attributes but no JSON schema", ops[i]->name);
    }
}

/* Attributes from JSON: defaults, values, and errors that list the valid keys. */
static void attributes_parse_from_json(void)
{
    sscma_conv2d_attrs c;
    CHECK_OK(sscma_op_parse_attrs(sscma_op_find("conv2d"), NULL, &c));
    CHECK(c.stride_h == 1 && c.groups == 1 && c.dilation_w == 1 && !c.pad_same);
    CHECK_OK(sscma_op_parse_attrs(sscma_op_find("conv2d"), "{\"stride_h\": 2, \"pad_same\": true, \"groups\": 4}", &c));
    CHECK(c.stride_h == 2 && c.stride_w == 1 && c.pad_same && c.groups == 4);
    sscma_axis_attrs ax;
    CHECK_OK(sscma_op_parse_attrs(sscma_op_find("split"), "{\"axis\": 1, \"sizes\": [2, 3, 4]}", &ax));
    CHECK(ax.axis == 1 && ax.n_parts == 3 && ax.sizes[2] == 4);
    sscma_cross_entropy_attrs ce;
    CHECK_OK(sscma_op_parse_attrs(sscma_op_find("cross_entropy"), "{\"reduction\": \"sum\"}", &ce));
    CHECK(ce.reduction == SSCMA_REDUCTION_SUM && ce.ignore_index == -100);
    CHECK_FAILS(sscma_op_parse_attrs(sscma_op_find("cross_entropy"), "{\"reduction\": \"avg\"}", &ce),
                SSCMA_ERR_CONFIG, "reduction: expected one of: mean, sum, none, batchmean, got \"avg\"");
    CHECK_FAILS(sscma_op_parse_attrs(sscma_op_find("split"), "{\"sizes\": [1.5]}", &ax), SSCMA_ERR_CONFIG,
                "sizes[0]: expected an integer, got 1.5");
    CHECK_FAILS(sscma_op_parse_attrs(sscma_op_find("dropout"), "[0.5]", &ax), SSCMA_ERR_CONFIG, "dropout: expected an object, got [0.5]");
    CHECK_FAILS(sscma_op_parse_attrs(sscma_op_find("dropout"), "{\"p\": 0.5,", &ax), SSCMA_ERR_CONFIG, "line 1");
    CHECK_FAILS(sscma_op_parse_attrs(sscma_op_find("relu"), "{\"negative_slope\": 0.1}", &ax), SSCMA_ERR_CONFIG,
                "relu: unknown key 'negative_slope'; valid keys: (none)");
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(ops_doc_is_complete),
        TEST_CASE(registry_is_indexed_by_id),
        TEST_CASE(attributes_parse_from_json),
        TEST_CASE(fused_batch_norm_act_equals_the_chain),
        TEST_CASE(fused_conv_bn_act_matches_the_chain),
        TEST_CASE(bad_arguments_are_statuses_with_messages),
        TEST_CASE(dropout_keeps_expected_fraction),
        TEST_CASE(concat_split_slice_move_exact_values),
        TEST_CASE(yolo_decode_gives_boxes_in_pixels),
    };
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99;
    int rc = test_main(argc, argv, tests, TEST_COUNT(tests));
    sscma_context_destroy(ctx);
    return rc;
}
