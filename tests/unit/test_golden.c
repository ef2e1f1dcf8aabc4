/*
 * Parity with PyTorch: tests/golden/gen_ops.py computed every op's outputs and input gradients in float64 with
 * Debian's PyTorch and stored them in tests/golden/ops.bin (format in that script). Each case here runs the same op
 * on the same inputs and upstream gradients and compares, element by element:
 *     |ours - torch| <= rtol * (|torch| + rms(torch tensor))
 * rtol is 1e-5, except where a case states 1e-4 with the reason (long float32 accumulations).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

static sscma_desc desc_of(const golden_record *r)
{
    return sscma_desc_make(r->dtype, r->rank, r->dims);
}

static const golden_record *find(const char *case_name, const char *tensor)
{
    char full[160];
    snprintf(full, sizeof full, "%s/%s", case_name, tensor);
    return golden_find(&golden, full);
}

static double compare(const float *ours, const golden_record *ref, double rtol, int64_t *where)
{
    return golden_compare(ours, ref, rtol, where);
}

typedef struct golden_case {
    const char *name;
    const char *op;
    const void *attrs;
    const char *inputs[6];
    bool eval;
    double rtol;
} golden_case;

static void run_case(const golden_case *c)
{
    sscma_desc descs[6];
    const golden_record *in[6];
    int32_t n_in = 0;
    for (; n_in < 6 && c->inputs[n_in] != NULL; n_in++) {
        in[n_in] = find(c->name, c->inputs[n_in]);
        if (in[n_in] == NULL) {
            test_fail(__FILE__, __LINE__, "%s: no record %s in ops.bin (regenerate it?)", c->name, c->inputs[n_in]);
            return;
        }
        descs[n_in] = desc_of(in[n_in]);
    }
    op_run run;
    if (op_run_init(&run, ctx, c->op, c->attrs, n_in, descs) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "%s: infer failed: %s", c->name, sscma_last_error());
        return;
    }
    run.training = !c->eval;
    for (int32_t i = 0; i < n_in; i++)
        memcpy(run.in[i].data, in[i]->data, (size_t)sscma_desc_numel(&descs[i]) * 4);
    for (int32_t o = 0; o < run.n_out; o++) {
        char name[16];
        snprintf(name, sizeof name, "dy%d", (int)o);
        const golden_record *dy = find(c->name, name);
        sscma_desc dyd;
        if (dy != NULL)
            dyd = desc_of(dy);
        if (dy == NULL || !sscma_desc_equal(&dyd, &run.out[o].desc)) {
            test_fail(__FILE__, __LINE__, "%s: output %d has no matching %s", c->name, (int)o, name);
            op_run_free(&run);
            return;
        }
        memcpy(run.dout[o].data, dy->data, (size_t)dy->numel * 4);
    }
    if (op_run_forward(&run) != SSCMA_OK) {
        test_fail(__FILE__, __LINE__, "%s: forward failed: %s", c->name, sscma_last_error());
        op_run_free(&run);
        return;
    }
    op_run_backward(&run);
    int64_t where = 0;
    double worst;
    for (int32_t o = 0; o < run.n_out; o++) {
        char name[16];
        snprintf(name, sizeof name, "y%d", (int)o);
        const golden_record *y = find(c->name, name);
        sscma_desc yd;
        if (y != NULL)
            yd = desc_of(y);
        if (y == NULL || !sscma_desc_equal(&yd, &run.out[o].desc)) {
            char a[200], b[200] = "missing";
            sscma_desc_format(&run.out[o].desc, a, sizeof a);
            if (y != NULL)
                sscma_desc_format(&yd, b, sizeof b);
            test_fail(__FILE__, __LINE__, "%s: output %d is %s, PyTorch's is %s", c->name, (int)o, a, b);
            continue;
        }
        if ((worst = compare(run.out[o].data, y, c->rtol, &where)) > 1.0)
            test_fail(__FILE__, __LINE__, "%s: output %d element %lld: %.8g vs PyTorch %.8g (%.2f x tolerance)",
                      c->name, (int)o, (long long)where, (double)((float *)run.out[o].data)[where],
                      (double)((float *)y->data)[where], worst);
    }
    for (int32_t i = 0; i < n_in; i++) {
        char name[32];
        snprintf(name, sizeof name, "d%s", c->inputs[i]);
        const golden_record *g = find(c->name, name);
        if (g == NULL) {
            if (run.din[i].data != NULL)
                test_fail(__FILE__, __LINE__, "%s: the op computes %s but the golden file has none", c->name, name);
            continue;
        }
        if (run.din[i].data == NULL) {
            test_fail(__FILE__, __LINE__, "%s: PyTorch has %s but the op computes no gradient for it", c->name, name);
            continue;
        }
        if ((worst = compare(run.din[i].data, g, c->rtol, &where)) > 1.0)
            test_fail(__FILE__, __LINE__, "%s: gradient %s element %lld: %.8g vs PyTorch %.8g (%.2f x tolerance)",
                      c->name, name, (long long)where, (double)((float *)run.din[i].data)[where],
                      (double)((float *)g->data)[where], worst);
    }
    /* batch norm: running statistics after the forward */
    const golden_record *rm = find(c->name, "running_mean_after"), *rv = find(c->name, "running_var_after");
    if (rm != NULL && (worst = compare(run.in[3].data, rm, c->rtol, &where)) > 1.0)
        test_fail(__FILE__, __LINE__, "%s: running_mean[%lld] after forward: %.8g vs %.8g", c->name, (long long)where,
                  (double)((float *)run.in[3].data)[where], (double)((float *)rm->data)[where]);
    if (rv != NULL && (worst = compare(run.in[4].data, rv, c->rtol, &where)) > 1.0)
        test_fail(__FILE__, __LINE__, "%s: running_var[%lld] after forward: %.8g vs %.8g", c->name, (long long)where,
                  (double)((float *)run.in[4].data)[where], (double)((float *)rv->data)[where]);
    op_run_free(&run);
}

#define R5 1e-5
#define R4 1e-4

static const sscma_conv2d_attrs c_s1p1 = {1, 1, 1, 1, 1, 1, 1, 1, false, 1};
static const sscma_conv2d_attrs c_s2same = {2, 2, 1, 1, 0, 0, 0, 0, true, 1};
static const sscma_conv2d_attrs c_dil2 = {1, 1, 2, 2, 2, 2, 2, 2, false, 1};
static const sscma_conv2d_attrs c_groups2 = {2, 1, 1, 1, 1, 0, 1, 0, false, 2};
static const sscma_conv2d_attrs c_dw = {1, 1, 1, 1, 1, 1, 1, 1, false, 16};
static const sscma_conv2d_attrs c_dw_s2 = {2, 2, 1, 1, 1, 1, 1, 1, false, 8};
static const sscma_conv2d_attrs c_pw = {1, 1, 1, 1, 0, 0, 0, 0, false, 1};
static const sscma_conv2d_attrs c_1x1_s2 = {2, 2, 1, 1, 0, 0, 0, 0, false, 1};
static const sscma_conv2d_attrs c_1d = {1, 1, 1, 1, 0, 2, 0, 2, false, 1};
static const sscma_batch_norm_attrs bn = {1e-5f, 0.1f};
static const sscma_act_attrs act = {0.01f}, leaky = {0.2f};
static const sscma_pool_attrs max_3s2p1c = {3, 3, 2, 2, 1, 1, true, true};
static const sscma_pool_attrs max_2s2 = {2, 2, 2, 2, 0, 0, false, true};
static const sscma_pool_attrs avg_3s2p1 = {3, 3, 2, 2, 1, 1, false, true};
static const sscma_pool_attrs avg_ceil_excl = {2, 3, 2, 2, 1, 1, true, false};
static const sscma_linear_attrs lin = {0};
static const sscma_softmax_attrs sm = {0};
static const sscma_upsample_attrs up = {2, 3};
static const sscma_pad_attrs pad = {{0, 1, 2, 0}, {0, 2, 0, 1}, 0.5f};
static const sscma_cross_entropy_attrs ce_mean = {SSCMA_REDUCTION_MEAN, 0.0f, -100};
static const sscma_cross_entropy_attrs ce_wsi = {SSCMA_REDUCTION_MEAN, 0.1f, 2};
static const sscma_cross_entropy_attrs ce_si = {SSCMA_REDUCTION_MEAN, 0.2f, -100};
static const sscma_cross_entropy_attrs ce_sum = {SSCMA_REDUCTION_SUM, 0.2f, -100};
static const sscma_cross_entropy_attrs ce_none = {SSCMA_REDUCTION_NONE, 0.1f, -100};
static const sscma_cross_entropy_attrs ce_sscma = {SSCMA_REDUCTION_SUM, 0.1f, -100, true};
static const sscma_bce_attrs bce_mean = {SSCMA_REDUCTION_MEAN, false, false};
static const sscma_bce_attrs bce_full = {SSCMA_REDUCTION_SUM, true, true};
static const sscma_regression_loss_attrs reg_mean = {SSCMA_REDUCTION_MEAN, 1.0f};
static const sscma_regression_loss_attrs reg_sum_b05 = {SSCMA_REDUCTION_SUM, 0.5f};
static const sscma_kl_div_attrs kl_t4 = {4.0f, 1.0f}, kl_t2_w05 = {2.0f, 0.5f}, kl_t1_w2 = {1.0f, 2.0f};

static const golden_case cases[] = {
    {"conv_3x3_s1_p1", "conv2d", &c_s1p1, {"x", "w", "b"}, false, R5},
    {"conv_3x3_s2_same", "conv2d", &c_s2same, {"x", "w"}, false, R5},
    {"conv_dilation2", "conv2d", &c_dil2, {"x", "w", "b"}, false, R5},
    {"conv_groups2", "conv2d", &c_groups2, {"x", "w", "b"}, false, R5},
    {"conv_depthwise", "conv2d", &c_dw, {"x", "w", "b"}, false, R5},
    {"conv_depthwise_s2", "conv2d", &c_dw_s2, {"x", "w"}, false, R5},
    {"conv_pointwise", "conv2d", &c_pw, {"x", "w", "b"}, false, R5},
    {"conv_1x1_s2", "conv2d", &c_1x1_s2, {"x", "w"}, false, R5},
    {"conv_1d", "conv2d", &c_1d, {"x", "w", "b"}, false, R5},
    {"bn_train", "batch_norm", &bn, {"x", "gamma", "beta", "running_mean", "running_var"}, false, R5},
    {"bn_train_2d", "batch_norm", &bn, {"x", "gamma", "beta", "running_mean", "running_var"}, false, R5},
    {"bn_eval", "batch_norm", &bn, {"x", "gamma", "beta", "running_mean", "running_var"}, true, R5},
    {"act_relu", "relu", &act, {"x"}, false, R5},
    {"act_relu6", "relu6", &act, {"x"}, false, R5},
    {"act_leaky_relu", "leaky_relu", &leaky, {"x"}, false, R5},
    {"act_sigmoid", "sigmoid", &act, {"x"}, false, R5},
    {"act_silu", "silu", &act, {"x"}, false, R5},
    {"act_hardswish", "hardswish", &act, {"x"}, false, R5},
    {"act_hardsigmoid", "hardsigmoid", &act, {"x"}, false, R5},
    {"act_tanh", "tanh", &act, {"x"}, false, R5},
    {"max_3x3_s2_p1_ceil", "max_pool", &max_3s2p1c, {"x"}, false, R5},
    {"max_2x2_s2", "max_pool", &max_2s2, {"x"}, false, R5},
    {"avg_3x3_s2_p1", "avg_pool", &avg_3s2p1, {"x"}, false, R5},
    {"avg_2x3_ceil_excl", "avg_pool", &avg_ceil_excl, {"x"}, false, R5},
    {"global_avg", "global_avg_pool", NULL, {"x"}, false, R5},
    {"global_max", "global_max_pool", NULL, {"x"}, false, R5},
    {"linear", "linear", &lin, {"x", "w", "b"}, false, R5},
    {"add_broadcast", "add", NULL, {"a", "b"}, false, R5},
    {"mul_broadcast", "mul", NULL, {"a", "b"}, false, R5},
    {"softmax", "softmax", &sm, {"x"}, false, R5},
    {"log_softmax", "log_softmax", &sm, {"x"}, false, R5},
    {"upsample_2x3", "upsample_nearest", &up, {"x"}, false, R5},
    {"pad", "pad", &pad, {"x"}, false, R5},
    {"ce_mean", "cross_entropy", &ce_mean, {"logits", "target"}, false, R5},
    {"ce_weight_smooth_ignore", "cross_entropy", &ce_wsi, {"logits", "target", "weight"}, false, R5},
    {"ce_smooth_ignore_unweighted", "cross_entropy", &ce_si, {"logits", "target"}, false, R5},
    {"ce_sum", "cross_entropy", &ce_sum, {"logits", "target"}, false, R5},
    {"ce_none", "cross_entropy", &ce_none, {"logits", "target"}, false, R5},
    /* SSCMA's LabelSmoothCrossEntropyLoss: e / (K - 1) off the class, a batch sum */
    {"ce_smooth_off_target_sum", "cross_entropy", &ce_sscma, {"logits", "target"}, false, R5},
    {"bce_mean", "bce_with_logits", &bce_mean, {"x", "y"}, false, R5},
    {"bce_weight_posweight_sum", "bce_with_logits", &bce_full, {"x", "y", "weight", "pos_weight"}, false, R5},
    {"mse", "mse_loss", &reg_mean, {"x", "y"}, false, R5},
    {"l1", "l1_loss", &reg_mean, {"x", "y"}, false, R5},
    {"smooth_l1_beta05_sum", "smooth_l1_loss", &reg_sum_b05, {"x", "y"}, false, R5},
    /* distillation: loss_weight * tau^2 * F.kl_div(log_softmax(s / tau), softmax(t / tau), "batchmean") */
    {"kl_cls_tau4", "kl_div", &kl_t4, {"student", "teacher"}, false, R5},
    {"kl_fomo_tau2_w05", "kl_div", &kl_t2_w05, {"student", "teacher"}, false, R5},
    {"kl_sharp_tau1", "kl_div", &kl_t1_w2, {"student", "teacher"}, false, R5},
};

static void golden_case_fn(size_t index)
{
    run_case(&cases[index]);
}

/* The cross-entropy target check that only data can trigger: a label outside the classes is a status. */
static void bad_labels_are_reported(void)
{
    const golden_record *z = find("ce_mean", "logits");
    if (z == NULL) {
        test_fail(__FILE__, __LINE__, "ce_mean missing");
        return;
    }
    const int64_t n = z->dims[0];
    sscma_desc d[2] = {desc_of(z), sscma_desc_make(SSCMA_DTYPE_I32, 1, &n)};
    op_run run;
    CHECK_OK(op_run_init(&run, ctx, "cross_entropy", &ce_mean, 2, d));
    ((int32_t *)run.in[1].data)[3] = 7; /* 5 classes */
    CHECK_FAILS(op_run_forward(&run), SSCMA_ERR_INVALID_ARGUMENT, "target[3] is 7; expected a class 0..4");
    op_run_free(&run);
}

int main(int argc, char **argv)
{
    static const test_case tests[] = {
        TEST_CASE(bad_labels_are_reported),
    };
    if (golden_load(&golden, GOLDEN_DIR "/ops.bin") != 0) {
        printf("Bail out! cannot read %s/ops.bin\n", GOLDEN_DIR);
        return 99;
    }
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99;
    enum { N_CASES = sizeof cases / sizeof cases[0] };
    static test_param_case params[N_CASES];
    for (size_t i = 0; i < N_CASES; i++) {
        snprintf(params[i].name, sizeof params[i].name, "pytorch %s (%s)", cases[i].name, cases[i].op);
        params[i].fn = golden_case_fn;
        params[i].index = i;
    }
    int rc = test_main_params(argc, argv, tests, TEST_COUNT(tests), params, N_CASES);
    sscma_context_destroy(ctx);
    golden_free(&golden);
    return rc;
}
