/*
 * Gradient checks: every op with a backward, on odd shapes, strides, padding, dilation and groups, against central
 * finite differences of L = sum_k r_k y_k (r random), computed in double from the op's f32 outputs.
 *
 * Per element: numeric = (L(x + h) - L(x - h)) / 2h. The error |numeric - analytic| is divided by
 * max(|numeric|, |analytic|, 0.1 * rms of the input's analytic gradient), and must stay under the case's tolerance
 * (2e-3 unless a case states otherwise, with its reason). Non-smooth ops get inputs away from their kinks (AWAY:
 * at least 2h from 0, +-0.5, +-1, +-3 and 6; SPREAD: distinct values 0.05 apart for max pooling), so every element
 * is checked. Every op with a backward must appear here (checked at the end).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

#include "harness.h"
#include "opcheck.h"

static sscma_context *ctx;

/* How to fill an input. */
typedef enum fill { NORMAL = 0, POSITIVE, UNIT, LABELS, SPREAD, AWAY, ZERO, ONES, POINT3, BN_PATTERN, BOXES16 } fill;

typedef struct grad_case {
    const char *op;
    const void *attrs;
    int32_t n_in;
    sscma_desc in[8];
    fill fills[8];
    int32_t classes;  /* LABELS: 0..classes-1 */
    bool eval;        /* run in evaluation mode */
    float tol;        /* relative tolerance, see the file comment */
    float h;          /* finite-difference step; 0 = 1e-2 */
} grad_case;

static sscma_desc F(int32_t rank, ...)
{
    va_list ap;
    va_start(ap, rank);
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    for (int32_t i = 0; i < rank; i++)
        dims[i] = va_arg(ap, int);
    va_end(ap);
    return sscma_desc_make(SSCMA_DTYPE_F32, rank, dims);
}

static sscma_desc I(int32_t rank, ...)
{
    va_list ap;
    va_start(ap, rank);
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    for (int32_t i = 0; i < rank; i++)
        dims[i] = va_arg(ap, int);
    va_end(ap);
    return sscma_desc_make(SSCMA_DTYPE_I32, rank, dims);
}

static void fill_input(test_rng *rng, sscma_buf *b, fill f, int32_t classes)
{
    int64_t n = sscma_desc_numel(&b->desc);
    for (int64_t i = 0; i < n; i++) {
        if (b->desc.dtype == SSCMA_DTYPE_I32) {
            ((int32_t *)b->data)[i] = (int32_t)(test_rng_uniform(rng) * (float)classes) % classes;
            continue;
        }
        float *x = b->data;
        switch (f) {
        case NORMAL: x[i] = test_rng_normal(rng); break;
        case POSITIVE: x[i] = 0.5f + test_rng_uniform(rng); break;
        case UNIT: x[i] = test_rng_uniform(rng); break;
        case LABELS: x[i] = 0.0f; break;
        case SPREAD: x[i] = 0.0f; break;
        case ZERO: x[i] = 0.0f; break;
        case ONES: x[i] = 1.0f; break;
        case POINT3: x[i] = 0.3f; break;
        case BOXES16: {
            /* yolov5_loss targets [B, M, 6] on a 16x16 input: class, x1, y1, x2, y2, valid (every third row not) */
            int64_t row = i / 6, col = i % 6;
            if (col == 0)
                x[i] = (float)(row % classes);
            else if (col == 5)
                x[i] = row % 3 == 2 ? 0.0f : 1.0f;
            else if (col < 3)
                x[i] = 1.0f + 6.0f * test_rng_uniform(rng);
            else
                x[i] = x[i - 2] + 3.0f + 6.0f * test_rng_uniform(rng);
            break;
        }
        case BN_PATTERN: {
            /* rows of each channel cycle through +-0.5, +-1, +-2 (mean 0): with gamma 1 and beta 0.3 the normalised
             * values stay >= 0.07 away from 0, the kink of relu / relu6 / leaky_relu */
            static const float pattern[6] = {-2.0f, 0.5f, -1.0f, 2.0f, -0.5f, 1.0f};
            int64_t c = b->desc.dims[b->desc.rank - 1];
            x[i] = pattern[(i / c) % 6] * (1.0f + 0.1f * (float)(i % c));
            break;
        }
        case AWAY: {
            static const float kinks[] = {0.0f, 0.5f, -0.5f, 1.0f, -1.0f, 3.0f, -3.0f, 6.0f};
            bool near;
            do {
                x[i] = 2.5f * test_rng_normal(rng);
                near = false;
                for (size_t k = 0; k < sizeof kinks / sizeof kinks[0]; k++)
                    near |= fabsf(x[i] - kinks[k]) < 0.02f;
            } while (near);
            break;
        }
        }
    }
    if (f == SPREAD && b->desc.dtype == SSCMA_DTYPE_F32) {
        /* distinct values 0.05 apart, shuffled: no ties for max pooling */
        float *x = b->data;
        for (int64_t i = 0; i < n; i++)
            x[i] = 0.05f * (float)(i - n / 2);
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)(test_rng_uniform(rng) * (float)(i + 1)) % (i + 1);
            float t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
    }
}

static double projected_loss(op_run *run)
{
    double l = 0.0;
    for (int32_t o = 0; o < run->n_out; o++) {
        const float *y = run->out[o].data, *r = run->dout[o].data;
        int64_t n = sscma_desc_numel(&run->out[o].desc);
        for (int64_t i = 0; i < n; i++)
            l += (double)y[i] * r[i];
    }
    return l;
}

static void check_case(const grad_case *c, int index)
{
    op_run run;
    sscma_status st = op_run_init(&run, ctx, c->op, c->attrs, c->n_in, c->in);
    if (st != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "case %d (%s): infer failed: %s", index, c->op, sscma_last_error());
        return;
    }
    run.training = !c->eval;
    test_rng rng = {0x5eed0000u + (uint64_t)index};
    for (int32_t i = 0; i < c->n_in; i++)
        fill_input(&rng, &run.in[i], c->fills[i], c->classes);
    for (int32_t o = 0; o < run.n_out; o++) {
        float *r = run.dout[o].data;
        for (int64_t k = 0; k < sscma_desc_numel(&run.out[o].desc); k++)
            r[k] = test_rng_normal(&rng);
    }
    if ((st = op_run_forward(&run)) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "case %d (%s): forward failed: %s", index, c->op, sscma_last_error());
        op_run_free(&run);
        return;
    }
    op_run_backward(&run);
    const float h = c->h > 0.0f ? c->h : 1e-2f;
    for (int32_t i = 0; i < c->n_in; i++) {
        if (run.din[i].data == NULL)
            continue;
        float *x = run.in[i].data;
        const float *ana = run.din[i].data;
        int64_t n = sscma_desc_numel(&run.in[i].desc);
        double rms = 0.0;
        for (int64_t k = 0; k < n; k++)
            rms += (double)ana[k] * ana[k];
        rms = sqrt(rms / (double)(n > 0 ? n : 1));
        int64_t worst_at = -1;
        double worst = 0.0, worst_num = 0.0;
        int64_t step = n > 300 ? n / 300 : 1; /* at most ~300 elements per input */
        for (int64_t k = 0; k < n; k += step) {
            float saved = x[k];
            x[k] = saved + h;
            op_run_forward(&run);
            double lp = projected_loss(&run);
            x[k] = saved - h;
            op_run_forward(&run);
            double lm = projected_loss(&run);
            x[k] = saved;
            double num = (lp - lm) / (2.0 * h);
            double scale = fmax(fmax(fabs(num), fabs((double)ana[k])), 0.1 * rms);
            if (scale == 0.0)
                scale = 1.0;
            double err = fabs(num - (double)ana[k]) / scale;
            if (err > worst)
                worst = err, worst_at = k, worst_num = num;
        }
        if (worst > c->tol)
            test_fail(__FILE__, __LINE__, "case %d (%s) input %d element %lld: analytic %.6g, numeric %.6g, error "
                      "%.3g > %.3g", index, c->op, (int)i, (long long)worst_at, (double)ana[worst_at], worst_num,
                      worst, (double)c->tol);
    }
    op_run_free(&run);
}

/* ---- the cases ---- */

static const sscma_conv2d_attrs conv_s1p1 = {1, 1, 1, 1, 1, 1, 1, 1, false, 1};
static const sscma_conv2d_attrs conv_s2same = {2, 2, 1, 1, 0, 0, 0, 0, true, 1};
static const sscma_conv2d_attrs conv_dil2 = {1, 1, 2, 2, 2, 2, 2, 2, false, 1};
static const sscma_conv2d_attrs conv_groups2 = {2, 1, 1, 1, 1, 0, 1, 0, false, 2};
static const sscma_conv2d_attrs conv_dw = {1, 1, 1, 1, 1, 1, 1, 1, false, 5};
static const sscma_conv2d_attrs conv_dw_s2 = {2, 2, 2, 2, 0, 0, 0, 0, true, 3};
static const sscma_conv2d_attrs conv_1x1 = {1, 1, 1, 1, 0, 0, 0, 0, false, 1};
static const sscma_conv2d_attrs conv_1x1_s2 = {2, 2, 1, 1, 0, 0, 0, 0, false, 1};
static const sscma_conv2d_attrs conv_1d = {1, 2, 1, 1, 0, 1, 0, 1, false, 1};
static const sscma_conv2d_attrs conv_dw_mult = {1, 1, 1, 1, 0, 0, 0, 0, false, 2}; /* 2 groups, 2 outputs each */
static const sscma_batch_norm_attrs bn = {1e-5f, 0.1f};
static const sscma_batch_norm_act_attrs bn_none = {{1e-5f, 0.1f}, SSCMA_ACT_NONE, 0.0f};
static const sscma_batch_norm_act_attrs bn_relu6 = {{1e-5f, 0.1f}, SSCMA_ACT_RELU6, 0.0f};
static const sscma_batch_norm_act_attrs bn_leaky = {{1e-5f, 0.1f}, SSCMA_ACT_LEAKY_RELU, 0.1f};
static const sscma_act_attrs act = {0.01f};
static const sscma_act_attrs leaky = {0.2f};
static const sscma_pool_attrs max_3s2p1c = {3, 3, 2, 2, 1, 1, true, true};
static const sscma_pool_attrs max_2s2 = {2, 2, 2, 2, 0, 0, false, true};
static const sscma_pool_attrs avg_3s2p1 = {3, 3, 2, 2, 1, 1, false, true};
static const sscma_pool_attrs avg_ceil_excl = {2, 3, 2, 2, 1, 1, true, false};
static const sscma_linear_attrs lin = {0};
static const sscma_reshape_attrs flat = {2, {3, -1}};
static const sscma_axis_attrs cat_last = {-1, 0, {0}};
static const sscma_axis_attrs cat_h = {1, 0, {0}};
static const sscma_axis_attrs split3 = {-1, 3, {2, 1, 3}};
static const sscma_slice_attrs slc = {{0, 1, 0, 1}, {2, 4, 3, 4}};
static const sscma_pad_attrs pad = {{0, 1, 2, 0}, {0, 2, 0, 1}, 0.5f};
static const sscma_upsample_attrs up = {2, 3};
static const sscma_dropout_attrs drop = {0.3f};
static const sscma_softmax_attrs sm = {0};
static const sscma_cross_entropy_attrs ce_mean = {SSCMA_REDUCTION_MEAN, 0.0f, -100};
static const sscma_cross_entropy_attrs ce_smooth = {SSCMA_REDUCTION_MEAN, 0.1f, 2};
static const sscma_cross_entropy_attrs ce_sum = {SSCMA_REDUCTION_SUM, 0.2f, -100};
static const sscma_cross_entropy_attrs ce_none = {SSCMA_REDUCTION_NONE, 0.1f, -100};
static const sscma_cross_entropy_attrs ce_sscma = {SSCMA_REDUCTION_SUM, 0.1f, -100, true};
static const sscma_bce_attrs bce_plain = {SSCMA_REDUCTION_MEAN, false, false};
static const sscma_yolov5_loss_attrs yolo = {.prior_match_thr = 4.0f, .near_neighbor_thr = 0.5f, .loss_cls_weight = 0.5f,
                                             .loss_bbox_weight = 0.0f, .loss_obj_weight = 0.0f, .eps = 1e-7f};
static const sscma_rtmdet_loss_attrs rtmdet = {.topk = 13, .iou_weight = 3.0f, .soft_center_radius = 3.0f, .beta = 2.0f,
                                              .loss_cls_weight = 1.0f, .loss_bbox_weight = 2.0f, .eps = 1e-6f};
static const sscma_bce_attrs bce_full = {SSCMA_REDUCTION_SUM, true, true};
static const sscma_regression_loss_attrs reg_mean = {SSCMA_REDUCTION_MEAN, 1.0f};
static const sscma_regression_loss_attrs reg_none = {SSCMA_REDUCTION_NONE, 0.5f};
static const sscma_kl_div_attrs kl_t3 = {3.0f, 1.0f}, kl_t1_w05 = {1.0f, 0.5f};
static const sscma_space_depth_attrs s2d_sscma = {2, SSCMA_BLOCK_ORDER_SSCMA}, s2d_tflite3 = {3, SSCMA_BLOCK_ORDER_TFLITE};
static const sscma_transpose_attrs perm_nchw = {4, {0, 3, 1, 2}};
static const sscma_regression_loss_attrs reg_batch_mean = {SSCMA_REDUCTION_BATCH_MEAN, 1.0f};

static grad_case cases[96];
static int n_cases;

static void add_case(grad_case c)
{
    if (c.tol == 0.0f)
        c.tol = 2e-3f;
    cases[n_cases++] = c;
}

static void build_cases(void)
{
    /* conv2d: every path, odd sizes */
    add_case((grad_case){"conv2d", &conv_s1p1, 3, {F(4, 2, 5, 7, 3), F(4, 4, 3, 3, 3), F(1, 4)}});
    add_case((grad_case){"conv2d", &conv_s2same, 2, {F(4, 1, 7, 9, 2), F(4, 5, 3, 3, 2)}});
    add_case((grad_case){"conv2d", &conv_dil2, 2, {F(4, 2, 6, 6, 3), F(4, 2, 3, 3, 3)}});
    add_case((grad_case){"conv2d", &conv_groups2, 3, {F(4, 2, 5, 6, 4), F(4, 6, 3, 2, 2), F(1, 6)}});
    add_case((grad_case){"conv2d", &conv_dw, 3, {F(4, 2, 5, 6, 5), F(4, 5, 3, 3, 1), F(1, 5)}});
    add_case((grad_case){"conv2d", &conv_dw_s2, 2, {F(4, 2, 9, 8, 3), F(4, 3, 3, 3, 1)}});
    add_case((grad_case){"conv2d", &conv_1x1, 3, {F(4, 3, 4, 5, 6), F(4, 7, 1, 1, 6), F(1, 7)}});
    add_case((grad_case){"conv2d", &conv_1x1_s2, 2, {F(4, 2, 5, 5, 3), F(4, 4, 1, 1, 3)}});
    add_case((grad_case){"conv2d", &conv_1d, 3, {F(4, 2, 1, 11, 3), F(4, 4, 1, 3, 3), F(1, 4)}});
    add_case((grad_case){"conv2d", &conv_dw_mult, 2, {F(4, 2, 4, 4, 2), F(4, 4, 2, 2, 1)}});
    /* batch norm: training (4-D and 2-D) and evaluation; running_var positive */
    add_case((grad_case){"batch_norm", &bn, 5, {F(4, 2, 3, 4, 5), F(1, 5), F(1, 5), F(1, 5), F(1, 5)},
                         {NORMAL, POSITIVE, NORMAL, NORMAL, POSITIVE}, .tol = 5e-3f});
    add_case((grad_case){"batch_norm", &bn, 5, {F(2, 7, 3), F(1, 3), F(1, 3), F(1, 3), F(1, 3)},
                         {NORMAL, POSITIVE, NORMAL, NORMAL, POSITIVE}, .tol = 5e-3f});
    add_case((grad_case){"batch_norm", &bn, 5, {F(4, 2, 3, 3, 4), F(1, 4), F(1, 4), F(1, 4), F(1, 4)},
                         {NORMAL, POSITIVE, NORMAL, NORMAL, POSITIVE}, .eval = true});
    /* batch_norm_act: the activations' kinks are kept away by the input pattern (see BN_PATTERN) */
    add_case((grad_case){"batch_norm_act", &bn_none, 5, {F(4, 2, 3, 4, 5), F(1, 5), F(1, 5), F(1, 5), F(1, 5)},
                         {NORMAL, POSITIVE, NORMAL, NORMAL, POSITIVE}, .tol = 5e-3f});
    add_case((grad_case){"batch_norm_act", &bn_relu6, 5, {F(4, 2, 3, 2, 4), F(1, 4), F(1, 4), F(1, 4), F(1, 4)},
                         {BN_PATTERN, ONES, POINT3, NORMAL, POSITIVE}, .tol = 5e-3f});
    add_case((grad_case){"batch_norm_act", &bn_leaky, 5, {F(2, 12, 3), F(1, 3), F(1, 3), F(1, 3), F(1, 3)},
                         {BN_PATTERN, ONES, POINT3, NORMAL, POSITIVE}, .tol = 5e-3f});
    add_case((grad_case){"batch_norm_act", &bn_relu6, 5, {F(4, 2, 3, 3, 4), F(1, 4), F(1, 4), F(1, 4), F(1, 4)},
                         {AWAY, ONES, ZERO, ZERO, ONES}, .eval = true}); /* z = x / sqrt(1 + eps): kinks avoided */
    /* activations (inputs spread over the interesting range: N(0,1) scaled by the fill) */
    const char *acts[] = {"relu", "relu6", "sigmoid", "silu", "hardswish", "hardsigmoid", "tanh"};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        add_case((grad_case){acts[i], &act, 1, {F(4, 2, 3, 4, 5)}, {AWAY}});
    add_case((grad_case){"leaky_relu", &leaky, 1, {F(3, 3, 5, 7)}, {AWAY}});
    /* pooling */
    add_case((grad_case){"max_pool", &max_3s2p1c, 1, {F(4, 2, 6, 7, 3)}, {SPREAD}});
    add_case((grad_case){"max_pool", &max_2s2, 1, {F(4, 1, 5, 4, 2)}, {SPREAD}});
    add_case((grad_case){"avg_pool", &avg_3s2p1, 1, {F(4, 2, 7, 6, 3)}});
    add_case((grad_case){"avg_pool", &avg_ceil_excl, 1, {F(4, 2, 5, 6, 2)}});
    add_case((grad_case){"global_avg_pool", NULL, 1, {F(4, 2, 3, 5, 4)}});
    add_case((grad_case){"global_max_pool", NULL, 1, {F(4, 2, 3, 5, 4)}, {SPREAD}});
    /* linear */
    add_case((grad_case){"linear", &lin, 3, {F(2, 5, 7), F(2, 3, 7), F(1, 3)}});
    add_case((grad_case){"linear", &lin, 2, {F(2, 1, 4), F(2, 6, 4)}});
    /* element-wise */
    add_case((grad_case){"add", NULL, 2, {F(4, 2, 3, 4, 5), F(4, 2, 3, 4, 5)}});
    add_case((grad_case){"add", NULL, 2, {F(4, 2, 3, 4, 5), F(4, 2, 1, 1, 5)}});
    add_case((grad_case){"mul", NULL, 2, {F(4, 2, 3, 4, 5), F(4, 2, 3, 4, 5)}});
    add_case((grad_case){"mul", NULL, 2, {F(4, 2, 3, 4, 5), F(4, 2, 1, 1, 5)}});
    /* data movement */
    add_case((grad_case){"reshape", &flat, 1, {F(4, 3, 2, 2, 5)}});
    add_case((grad_case){"concat", &cat_last, 3, {F(4, 2, 3, 4, 2), F(4, 2, 3, 4, 1), F(4, 2, 3, 4, 3)}});
    add_case((grad_case){"concat", &cat_h, 2, {F(4, 2, 3, 4, 2), F(4, 2, 1, 4, 2)}});
    add_case((grad_case){"split", &split3, 1, {F(4, 2, 3, 2, 6)}});
    add_case((grad_case){"slice", &slc, 1, {F(4, 3, 5, 3, 4)}});
    add_case((grad_case){"pad", &pad, 1, {F(4, 2, 3, 4, 2)}});
    add_case((grad_case){"upsample_nearest", &up, 1, {F(4, 2, 3, 2, 3)}});
    add_case((grad_case){"dropout", &drop, 1, {F(3, 4, 5, 6)}});
    /* softmax */
    add_case((grad_case){"softmax", &sm, 1, {F(2, 4, 7)}});
    add_case((grad_case){"log_softmax", &sm, 1, {F(3, 2, 3, 5)}});
    /* losses */
    add_case((grad_case){"cross_entropy", &ce_mean, 2, {F(2, 6, 5), I(1, 6)}, {NORMAL, LABELS}, 5});
    add_case((grad_case){"cross_entropy", &ce_smooth, 3, {F(2, 8, 4), I(1, 8), F(1, 4)}, {NORMAL, LABELS, POSITIVE}, 4});
    add_case((grad_case){"cross_entropy", &ce_sum, 2, {F(2, 5, 3), I(1, 5)}, {NORMAL, LABELS}, 3});
    add_case((grad_case){"cross_entropy", &ce_none, 2, {F(2, 4, 6), I(1, 4)}, {NORMAL, LABELS}, 6});
    /* yolov5_loss: the class part only. mmyolo holds two things constant that finite differences cannot: CIoU's alpha
     * (no_grad) and the objectness target (the detached IoU), so the box and objectness weights are 0 here and those
     * parts are checked against PyTorch's autograd in test_yolo_loss (within 1e-5; about 1e-7 in practice). Small maps
     * (2x2, 1x1, 1x1 of a 16x16 input) keep float32 rounding of the mean out of the differences. */
    add_case((grad_case){"yolov5_loss", &yolo, 4, {F(4, 2, 2, 2, 21), F(4, 2, 1, 1, 21), F(4, 2, 1, 1, 21), F(3, 2, 4, 6)},
                         {NORMAL, NORMAL, NORMAL, BOXES16}, 2});
    /* rtmdet_loss: the background part of the quality focal loss only (targets without a valid row). With boxes, the
     * metric that weighs both parts is the IoU of the prediction, which upstream detaches and finite differences
     * cannot; test_rtmdet_loss checks those gradients against PyTorch's autograd (within 1e-5). */
    add_case((grad_case){"rtmdet_loss", &rtmdet, 7,
                         {F(4, 2, 2, 2, 3), F(4, 2, 1, 1, 3), F(4, 2, 1, 1, 3), F(4, 2, 2, 2, 4), F(4, 2, 1, 1, 4),
                          F(4, 2, 1, 1, 4), F(3, 2, 3, 6)},
                         {NORMAL, NORMAL, NORMAL, POSITIVE, POSITIVE, POSITIVE, ZERO}});
    add_case((grad_case){"bce_with_logits", &bce_plain, 2, {F(3, 2, 3, 4), F(3, 2, 3, 4)}, {NORMAL, UNIT}});
    /* tol 5e-3: a sum of 48 terms is rounded to an f32 scalar (~2e-6), which limits the finite difference */
    add_case((grad_case){"bce_with_logits", &bce_full, 4, {F(4, 2, 2, 3, 4), F(4, 2, 2, 3, 4), F(4, 2, 2, 3, 4), F(1, 4)},
                         {NORMAL, UNIT, POSITIVE, POSITIVE}, .tol = 5e-3f});
    add_case((grad_case){"mse_loss", &reg_mean, 2, {F(2, 5, 4), F(2, 5, 4)}});
    add_case((grad_case){"mse_loss", &reg_batch_mean, 2, {F(2, 3, 8), F(2, 3, 8)}});
    /* l1 and smooth_l1 have kinks at x - y = 0 and |x - y| = beta: target 0, inputs away from those points */
    add_case((grad_case){"l1_loss", &reg_mean, 2, {F(2, 5, 4), F(2, 5, 4)}, {AWAY, ZERO}});
    add_case((grad_case){"smooth_l1_loss", &reg_mean, 2, {F(2, 5, 4), F(2, 5, 4)}, {AWAY, ZERO}});
    add_case((grad_case){"smooth_l1_loss", &reg_none, 2, {F(3, 2, 3, 4), F(3, 2, 3, 4)}, {AWAY, ZERO}});
    /* distillation's KL: a classifier's rows and FOMO's cells */
    add_case((grad_case){"kl_div", &kl_t3, 2, {F(2, 5, 6), F(2, 5, 6)}});
    add_case((grad_case){"kl_div", &kl_t1_w05, 2, {F(4, 2, 3, 2, 4), F(4, 2, 3, 2, 4)}});
    /* rearrangements (the anomaly VAE's Down_sample / up_sample and its flatten in NCHW order) */
    add_case((grad_case){"space_to_depth", &s2d_sscma, 1, {F(4, 2, 4, 6, 3)}});
    add_case((grad_case){"space_to_depth", &s2d_tflite3, 1, {F(4, 1, 6, 3, 2)}});
    add_case((grad_case){"depth_to_space", &s2d_sscma, 1, {F(4, 2, 2, 3, 12)}});
    add_case((grad_case){"depth_to_space", &s2d_tflite3, 1, {F(4, 1, 2, 1, 18)}});
    add_case((grad_case){"transpose", &perm_nchw, 1, {F(4, 2, 3, 4, 5)}});
    /* the VAE's latent: eps drawn from the step seed, or given (SSCMA's freeze_randn, no gradient) */
    add_case((grad_case){"reparameterize", NULL, 2, {F(2, 3, 5), F(2, 3, 5)}});
    add_case((grad_case){"reparameterize", NULL, 3, {F(2, 3, 5), F(2, 3, 5), F(1, 5)}});
    add_case((grad_case){"gaussian_kl", NULL, 2, {F(2, 4, 6), F(2, 4, 6)}});
}

/* Seeded random shapes and attributes for conv2d and the pools: odd sizes, strides, padding, dilation, groups. */
static sscma_conv2d_attrs random_conv[12];
static sscma_pool_attrs random_pool[6];

static int pick(test_rng *r, int lo, int hi) /* lo..hi inclusive */
{
    return lo + (int)(test_rng_uniform(r) * (float)(hi - lo + 1)) % (hi - lo + 1);
}

static void add_random_cases(void)
{
    test_rng r = {20261127};
    for (int i = 0; i < 12; i++) {
        int groups = pick(&r, 1, 3), cin_g = pick(&r, 1, 3), cout_g = pick(&r, 1, 3);
        if (i % 4 == 3) /* depthwise */
            cin_g = cout_g = 1, groups = pick(&r, 2, 6);
        int kh = pick(&r, 1, 3), kw = pick(&r, 1, 3), sh = pick(&r, 1, 2), sw = pick(&r, 1, 2);
        int dh = pick(&r, 1, 2), dw = pick(&r, 1, 2);
        sscma_conv2d_attrs a = {sh, sw, dh, dw, pick(&r, 0, 2), pick(&r, 0, 2), pick(&r, 0, 2), pick(&r, 0, 2),
                                pick(&r, 0, 3) == 0, groups};
        random_conv[i] = a;
        int h = pick(&r, (kh - 1) * dh + 1, 9), w = pick(&r, (kw - 1) * dw + 1, 9), n = pick(&r, 1, 3);
        bool bias = pick(&r, 0, 1) == 1;
        add_case((grad_case){"conv2d", &random_conv[i], bias ? 3 : 2,
                             {F(4, n, h, w, groups * cin_g), F(4, groups * cout_g, kh, kw, cin_g), F(1, groups * cout_g)}});
    }
    for (int i = 0; i < 6; i++) {
        int k = pick(&r, 1, 3), s = pick(&r, 1, 3);
        sscma_pool_attrs a = {k, pick(&r, 1, 3), s, pick(&r, 1, 2), pick(&r, 0, k / 2), 0, pick(&r, 0, 1) == 1,
                              pick(&r, 0, 1) == 1};
        random_pool[i] = a;
        int h = pick(&r, 3, 8), w = pick(&r, 3, 8);
        add_case((grad_case){i % 2 ? "avg_pool" : "max_pool", &random_pool[i], 1, {F(4, 2, h, w, pick(&r, 1, 4))},
                             {i % 2 ? NORMAL : SPREAD}});
    }
    /* SSCMA's LabelSmoothCrossEntropyLoss (added last: earlier cases keep their data) */
    add_case((grad_case){"cross_entropy", &ce_sscma, 2, {F(2, 5, 4), I(1, 5)}, {NORMAL, LABELS}, 4});
}

static void gradient_case(size_t index)
{
    check_case(&cases[index], (int)index);
}

static void every_op_has_a_gradient_case(void)
{
    size_t count = 0;
    const sscma_op_def *const *ops = sscma_op_all(&count);
    for (size_t k = 0; k < count; k++) {
        /* straight-through estimators have no true gradient to check: test_quant checks their definition */
        if (ops[k]->backward == NULL || strncmp(ops[k]->name, "fake_quant_", 11) == 0)
            continue;
        int found = 0;
        for (int i = 0; i < n_cases; i++)
            found |= strcmp(cases[i].op, ops[k]->name) == 0;
        if (!found)
            test_fail(__FILE__, __LINE__, "op %s has a backward but no gradient-check case", ops[k]->name);
    }
}

/* Runs case c on a context with `threads` workers; returns the run (caller frees) after forward and backward. */
static sscma_status run_with_threads(const grad_case *c, int32_t threads, op_run *run, sscma_context **owner)
{
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = threads;
    sscma_status st = sscma_context_create(&o, owner);
    if (st != SSCMA_OK)
        return st;
    if ((st = op_run_init(run, *owner, c->op, c->attrs, c->n_in, c->in)) != SSCMA_OK)
        return st;
    run->training = !c->eval;
    test_rng rng = {77};
    for (int32_t i = 0; i < c->n_in; i++)
        fill_input(&rng, &run->in[i], c->fills[i], c->classes);
    for (int32_t o2 = 0; o2 < run->n_out; o2++)
        for (int64_t k = 0; k < sscma_desc_numel(&run->out[o2].desc); k++)
            ((float *)run->dout[o2].data)[k] = test_rng_normal(&rng);
    if ((st = op_run_forward(run)) != SSCMA_OK)
        return st;
    op_run_backward(run);
    return SSCMA_OK;
}

static bool same_bits(const sscma_buf *a, const sscma_buf *b)
{
    if (a->data == NULL || b->data == NULL)
        return a->data == b->data;
    return memcmp(a->data, b->data, (size_t)sscma_desc_numel(&a->desc) * 4) == 0;
}

/*
 * Same inputs give the same bits for 1, 2 and 3 threads (outputs and every gradient), on shapes large enough that
 * every kernel really splits its work: MobileNetV2-like layers at batch 4 (and 11).
 */
static void results_identical_for_any_thread_count(void)
{
    static const sscma_conv2d_attrs first = {2, 2, 1, 1, 0, 0, 0, 0, true, 1};
    static const sscma_conv2d_attrs dw = {1, 1, 1, 1, 1, 1, 1, 1, false, 32};
    static const sscma_conv2d_attrs dw_s2 = {2, 2, 1, 1, 0, 0, 0, 0, true, 24};
    static const sscma_conv2d_attrs dw16 = {1, 1, 1, 1, 1, 1, 1, 1, false, 16};
    static const sscma_conv2d_attrs head = {1, 1, 1, 1, 1, 1, 1, 1, false, 1};
    static const sscma_pool_attrs mp = {3, 3, 2, 2, 1, 1, false, true};
    const grad_case big[] = {
        {"conv2d", &first, 2, {F(4, 4, 48, 48, 3), F(4, 16, 3, 3, 3)}},
        {"conv2d", &conv_1x1, 3, {F(4, 4, 24, 24, 16), F(4, 96, 1, 1, 16), F(1, 96)}},
        {"conv2d", &dw, 3, {F(4, 4, 24, 24, 32), F(4, 32, 3, 3, 1), F(1, 32)}},
        {"conv2d", &dw_s2, 2, {F(4, 4, 25, 25, 24), F(4, 24, 3, 3, 1)}},
        /* one channel block: the weight gradient splits over sample chunks (11 samples in 8 uneven chunks) */
        {"conv2d", &dw16, 3, {F(4, 11, 10, 10, 16), F(4, 16, 3, 3, 1), F(1, 16)}},
        {"conv2d", &head, 3, {F(4, 4, 12, 12, 16), F(4, 48, 3, 3, 16), F(1, 48)}},
        {"batch_norm", &bn, 5, {F(4, 4, 24, 24, 32), F(1, 32), F(1, 32), F(1, 32), F(1, 32)},
         {NORMAL, POSITIVE, NORMAL, NORMAL, POSITIVE}},
        {"relu6", &act, 1, {F(4, 4, 24, 24, 32)}},
        {"max_pool", &mp, 1, {F(4, 4, 24, 24, 8)}},
        {"avg_pool", &avg_3s2p1, 1, {F(4, 4, 24, 24, 8)}},
        {"global_avg_pool", NULL, 1, {F(4, 8, 6, 6, 64)}},
        {"linear", &lin, 3, {F(2, 64, 128), F(2, 100, 128), F(1, 100)}},
        {"add", NULL, 2, {F(4, 4, 24, 24, 32), F(4, 4, 24, 24, 32)}},
        {"softmax", &sm, 1, {F(2, 64, 100)}},
        {"dropout", &drop, 1, {F(2, 256, 300)}},
        {"cross_entropy", &ce_smooth, 3, {F(2, 64, 10), I(1, 64), F(1, 10)}, {NORMAL, LABELS, POSITIVE}, 10},
        {"bce_with_logits", &bce_full, 4, {F(4, 8, 12, 12, 5), F(4, 8, 12, 12, 5), F(4, 8, 12, 12, 5), F(1, 5)},
         {NORMAL, UNIT, POSITIVE, POSITIVE}},
    };
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) {
        op_run ref, other;
        sscma_context *ref_ctx = NULL, *other_ctx = NULL;
        if (run_with_threads(&big[k], 1, &ref, &ref_ctx) != SSCMA_OK) {
            test_fail(__FILE__, __LINE__, "%s: %s", big[k].op, sscma_last_error());
            continue;
        }
        for (int32_t threads = 2; threads <= 3; threads++) {
            if (run_with_threads(&big[k], threads, &other, &other_ctx) != SSCMA_OK) {
                test_fail(__FILE__, __LINE__, "%s: %s", big[k].op, sscma_last_error());
                sscma_context_destroy(other_ctx);
                continue;
            }
            for (int32_t o = 0; o < ref.n_out; o++)
                if (!same_bits(&ref.out[o], &other.out[o]))
                    test_fail(__FILE__, __LINE__, "%s (case %zu): output %d differs between 1 and %d threads",
                              big[k].op, k, (int)o, (int)threads);
            for (int32_t i = 0; i < ref.n_in; i++)
                if (!same_bits(&ref.din[i], &other.din[i]))
                    test_fail(__FILE__, __LINE__, "%s (case %zu): gradient of input %d differs between 1 and %d "
                              "threads", big[k].op, k, (int)i, (int)threads);
            op_run_free(&other);
            sscma_context_destroy(other_ctx);
        }
        op_run_free(&ref);
        sscma_context_destroy(ref_ctx);
    }
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(every_op_has_a_gradient_case),
        TEST_CASE(results_identical_for_any_thread_count),
    };
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99;
    build_cases();
    add_random_cases();
    static test_param_case params[96];
    for (int i = 0; i < n_cases; i++) {
        snprintf(params[i].name, sizeof params[i].name, "gradient %d: %s", i, cases[i].op);
        params[i].fn = gradient_case;
        params[i].index = (size_t)i;
    }
    int rc = test_main_params(argc, argv, tests, TEST_COUNT(tests), params, (size_t)n_cases);
    sscma_context_destroy(ctx);
    return rc;
}
