/*
 * Losses, PyTorch semantics (reduction mean / sum / none). Targets, class weights, element weights and pos_weight
 * take no gradient. Sums run in double, in a fixed order.
 *
 * cross_entropy (logits z [N, C], target t [N] i32, optional class weights w [C], label smoothing e):
 *   logp = log_softmax(z);  nll_i = -w[t_i] logp[i, t_i];  smooth_i = -sum_c w_c logp[i, c]  (0 where ignored)
 *   loss = (1 - e) * R(nll) + e / C * R(smooth), where for mean both sums are divided by sum_i w[t_i] over the
 *   kept (not ignored) rows; without w that is the number of kept rows (checked against PyTorch 1.13).
 *   dz[i, j] = c_nll,i (p_ij - [j = t_i]) + c_sm,i (p_ij W - w_j),  W = sum_c w_c
 *   smooth_off_target (SSCMA's LabelSmoothCrossEntropyLoss: q = 1 - e on the class, e / (C - 1) on the others):
 *   -sum_c q_c logp_c = (1 - e - e / (C - 1)) nll + e / (C - 1) smooth, so the two coefficients change, nothing else
 * bce_with_logits (x, y, optional element weight v, optional pos_weight q [C] on the last axis):
 *   l = v [(1 - y) x + (1 + (q - 1) y) softplus(-x)];  dl/dx = v [(1 - y) sigmoid(x) - q y sigmoid(-x)]
 * Regression losses also reduce by batch mean: the sum divided by dims[0] (PFLD: mean over samples of the summed
 * squared error).
 * mse_loss: l = (x - y)^2, dl/dx = 2 (x - y);  l1_loss: l = |x - y|, dl/dx = sign(x - y)
 * smooth_l1_loss (beta): l = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta;  dl/dx = d / beta or sign(d)
 * kl_div (student s, teacher t [..., C], temperature T, weight a; R rows of C): p = softmax(s / T), q = softmax(t / T)
 *   l = a T^2 / R sum_r sum_c q (log q - log p)  (terms with q = 0 are 0);  dl/ds = a T / R (p - q)
 */
#include <math.h>
#include <string.h>

#include "ops/kernels.h"
#include "ops/op.h"

static sscma_status check_reduction(const char *op, sscma_reduction r, bool batch_mean_ok)
{
    if (r != SSCMA_REDUCTION_MEAN && r != SSCMA_REDUCTION_SUM && r != SSCMA_REDUCTION_NONE &&
        !(batch_mean_ok && r == SSCMA_REDUCTION_BATCH_MEAN))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "reduction %d is not mean (0), sum (1), none (2)%s", (int)r,
                          batch_mean_ok ? " or batch mean (3)" : "");
    return SSCMA_OK;
}

static sscma_desc scalar_desc(void)
{
    return sscma_desc_make(SSCMA_DTYPE_F32, 0, NULL);
}

static const char *const reduction_names[] = {"mean", "sum", "none", "batchmean", NULL};

static const sscma_attr_field ce_fields[] = {
    SSCMA_ATTR_ENUM_OF("reduction", sscma_cross_entropy_attrs, reduction, 0, reduction_names),
    SSCMA_ATTR(sscma_cross_entropy_attrs, label_smoothing, SSCMA_ATTR_F32, 0),
    SSCMA_ATTR(sscma_cross_entropy_attrs, ignore_index, SSCMA_ATTR_I32, -100),
    SSCMA_ATTR(sscma_cross_entropy_attrs, smooth_off_target, SSCMA_ATTR_BOOL, 0),
    SSCMA_ATTR_END,
};

static const sscma_attr_field bce_fields[] = {
    SSCMA_ATTR_ENUM_OF("reduction", sscma_bce_attrs, reduction, 0, reduction_names),
    SSCMA_ATTR(sscma_bce_attrs, has_weight, SSCMA_ATTR_BOOL, 0),
    SSCMA_ATTR(sscma_bce_attrs, has_pos_weight, SSCMA_ATTR_BOOL, 0),
    SSCMA_ATTR_END,
};

static const sscma_attr_field regression_fields[] = {
    SSCMA_ATTR_ENUM_OF("reduction", sscma_regression_loss_attrs, reduction, 0, reduction_names),
    SSCMA_ATTR_END,
};

static const sscma_attr_field smooth_l1_fields[] = {
    SSCMA_ATTR_ENUM_OF("reduction", sscma_regression_loss_attrs, reduction, 0, reduction_names),
    SSCMA_ATTR(sscma_regression_loss_attrs, beta, SSCMA_ATTR_F32, 1.0),
    SSCMA_ATTR_END,
};

/* ---- cross entropy ---- */

static sscma_status ce_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                             int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_cross_entropy_attrs *a = attrs;
    const char *op = "cross_entropy";
    sscma_status st;
    if (n_in != 2 && n_in != 3)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "takes 2 or 3 inputs (logits, target, weight), got %d",
                          n_in);
    if ((st = check_reduction(op, a->reduction, false)) != SSCMA_OK ||
        (st = sscma_desc_require(op, "logits", &in[0], SSCMA_DTYPE_F32, 2)) != SSCMA_OK ||
        (st = sscma_desc_require(op, "target", &in[1], SSCMA_DTYPE_I32, 1)) != SSCMA_OK)
        return st;
    if (in[1].dims[0] != in[0].dims[0])
        return sscma_fail(SSCMA_ERR_SHAPE, op, "target has %lld entries; logits have %lld rows",
                          (long long)in[1].dims[0], (long long)in[0].dims[0]);
    if (in[0].dims[1] < 1)
        return sscma_fail(SSCMA_ERR_SHAPE, op, "logits have no class");
    if (n_in == 3) {
        if ((st = sscma_desc_require(op, "weight", &in[2], SSCMA_DTYPE_F32, 1)) != SSCMA_OK)
            return st;
        if (in[2].dims[0] != in[0].dims[1])
            return sscma_fail(SSCMA_ERR_SHAPE, op, "weight has %lld entries; logits have %lld classes",
                              (long long)in[2].dims[0], (long long)in[0].dims[1]);
    }
    if (!(a->label_smoothing >= 0.0f && a->label_smoothing <= 1.0f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "label_smoothing is %g; expected 0..1",
                          (double)a->label_smoothing);
    if (a->smooth_off_target && in[0].dims[1] < 2)
        return sscma_fail(SSCMA_ERR_SHAPE, op, "smooth_off_target spreads label smoothing over the other classes; "
                          "the logits have %lld class", (long long)in[0].dims[1]);
    out[0] = a->reduction == SSCMA_REDUCTION_NONE ? sscma_desc_make(SSCMA_DTYPE_F32, 1, in[0].dims) : scalar_desc();
    *n_out = 1;
    sizes->saved_bytes = sscma_align_bytes((size_t)(in[0].dims[0] * in[0].dims[1]) * sizeof(float));
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/* The weights of the nll and smooth terms (the loss is nll_coef * nll + smooth_coef * smooth). */
static void ce_coefs(const sscma_cross_entropy_attrs *a, int64_t c, double *nll_coef, double *smooth_coef)
{
    double eps = a->label_smoothing;
    *smooth_coef = a->smooth_off_target ? eps / (double)(c - 1) : eps / (double)c;
    *nll_coef = a->smooth_off_target ? 1.0 - eps - *smooth_coef : 1.0 - eps;
}

/* The mean denominator: the weight sum of the kept rows (their count without class weights). */
static double ce_denominator(const sscma_op_exec *e)
{
    const sscma_cross_entropy_attrs *a = e->attrs;
    int64_t n = e->in[0].desc.dims[0];
    const int32_t *t = e->in[1].data;
    const float *w = e->n_in == 3 ? e->in[2].data : NULL;
    double sw = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (t[i] != a->ignore_index)
            sw += w != NULL ? w[t[i]] : 1.0;
    return sw;
}

static sscma_status ce_forward(const sscma_op_exec *e)
{
    const sscma_cross_entropy_attrs *a = e->attrs;
    int64_t n = e->in[0].desc.dims[0], c = e->in[0].desc.dims[1];
    const float *z = e->in[0].data, *w = e->n_in == 3 ? e->in[2].data : NULL;
    const int32_t *t = e->in[1].data;
    float *logp = e->saved, *y = e->out[0].data;
    for (int64_t i = 0; i < n; i++)
        if (t[i] != a->ignore_index && (t[i] < 0 || t[i] >= c))
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "cross_entropy",
                              "target[%lld] is %d; expected a class 0..%lld or ignore_index %d", (long long)i,
                              (int)t[i], (long long)c - 1, (int)a->ignore_index);
    double nll_sum = 0.0, smooth_sum = 0.0, k_nll, k_sm;
    ce_coefs(a, c, &k_nll, &k_sm);
    for (int64_t i = 0; i < n; i++) {
        float *lp = logp + i * c;
        sscma_softmax_row(z + i * c, lp, c, true);
        double nll = 0.0, smooth = 0.0;
        if (t[i] != a->ignore_index) {
            nll = -(w != NULL ? w[t[i]] : 1.0) * lp[t[i]];
            for (int64_t j = 0; j < c; j++)
                smooth -= (w != NULL ? w[j] : 1.0) * lp[j];
        }
        if (a->reduction == SSCMA_REDUCTION_NONE)
            y[i] = (float)(k_nll * nll + k_sm * smooth);
        nll_sum += nll;
        smooth_sum += smooth;
    }
    if (a->reduction == SSCMA_REDUCTION_NONE)
        return SSCMA_OK;
    if (a->reduction == SSCMA_REDUCTION_MEAN) {
        double den = ce_denominator(e);
        nll_sum /= den;
        smooth_sum /= den;
    }
    y[0] = (float)(k_nll * nll_sum + k_sm * smooth_sum);
    return SSCMA_OK;
}

static void ce_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const sscma_cross_entropy_attrs *a = e->attrs;
    if (din[0].data == NULL)
        return;
    int64_t n = e->in[0].desc.dims[0], c = e->in[0].desc.dims[1];
    const float *w = e->n_in == 3 ? e->in[2].data : NULL, *logp = e->saved, *g = dout[0].data;
    const int32_t *t = e->in[1].data;
    float *dz = din[0].data;
    double den = a->reduction == SSCMA_REDUCTION_MEAN ? ce_denominator(e) : 1.0, k_nll, k_sm;
    ce_coefs(a, c, &k_nll, &k_sm);
    double wsum = 0.0;
    for (int64_t j = 0; j < c; j++)
        wsum += w != NULL ? w[j] : 1.0;
    for (int64_t i = 0; i < n; i++) {
        if (t[i] == a->ignore_index)
            continue;
        double gi = a->reduction == SSCMA_REDUCTION_NONE ? g[i] : g[0];
        double c_nll = k_nll * (w != NULL ? w[t[i]] : 1.0) * gi / den;
        double c_sm = k_sm * gi / den;
        const float *lp = logp + i * c;
        float *d = dz + i * c;
        for (int64_t j = 0; j < c; j++) {
            double p = exp((double)lp[j]);
            double v = c_nll * (p - (j == t[i] ? 1.0 : 0.0)) + c_sm * (p * wsum - (w != NULL ? w[j] : 1.0));
            d[j] += (float)v;
        }
    }
}

const sscma_op_def sscma_op_cross_entropy = {
    .id = SSCMA_OP_CROSS_ENTROPY,
    .name = "cross_entropy", .attrs_size = sizeof(sscma_cross_entropy_attrs), .min_inputs = 2, .max_inputs = 3,
    .nondiff_inputs = (1u << 1) | (1u << 2),
    .infer = ce_infer, .forward = ce_forward, .backward = ce_backward,
    .attr_fields = ce_fields,
};

/* ---- element-wise losses: bce_with_logits, mse, l1, smooth_l1 ---- */

typedef enum elem_kind { BCE, MSE, L1, SMOOTH_L1 } elem_kind;

static const char *const elem_names[] = {"bce_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss"};

static sscma_status elem_infer(elem_kind kind, sscma_reduction reduction, bool has_weight, bool has_pos_weight,
                               const sscma_desc *in, int32_t n_in, sscma_desc *out, int32_t *n_out,
                               sscma_op_sizes *sizes)
{
    const char *op = elem_names[kind];
    int32_t expected = 2 + (has_weight ? 1 : 0) + (has_pos_weight ? 1 : 0);
    sscma_status st;
    if (n_in != expected)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "takes %d inputs with these options, got %d",
                          (int)expected, (int)n_in);
    if ((st = check_reduction(op, reduction, kind != BCE)) != SSCMA_OK ||
        (st = sscma_desc_require(op, "input", &in[0], SSCMA_DTYPE_F32, -1)) != SSCMA_OK)
        return st;
    if (reduction == SSCMA_REDUCTION_BATCH_MEAN && (in[0].rank < 1 || in[0].dims[0] < 1))
        return sscma_fail(SSCMA_ERR_SHAPE, op, "batch mean needs a non-empty first axis");
    for (int32_t i = 1; i < 2 + (has_weight ? 1 : 0); i++)
        if (!sscma_desc_equal(&in[i], &in[0])) {
            char s0[200], si[200];
            sscma_desc_format(&in[0], s0, sizeof s0);
            sscma_desc_format(&in[i], si, sizeof si);
            return sscma_fail(SSCMA_ERR_SHAPE, op, "%s %s must match the input %s", i == 1 ? "target" : "weight", si,
                              s0);
        }
    if (has_pos_weight) {
        const sscma_desc *pw = &in[n_in - 1];
        int64_t c = in[0].rank > 0 ? in[0].dims[in[0].rank - 1] : 1;
        if ((st = sscma_desc_require(op, "pos_weight", pw, SSCMA_DTYPE_F32, 1)) != SSCMA_OK)
            return st;
        if (pw->dims[0] != c)
            return sscma_fail(SSCMA_ERR_SHAPE, op, "pos_weight has %lld entries; the last axis has %lld",
                              (long long)pw->dims[0], (long long)c);
    }
    out[0] = reduction == SSCMA_REDUCTION_NONE ? in[0] : scalar_desc();
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

typedef struct elem_setup {
    elem_kind kind;
    sscma_reduction reduction;
    float beta;
    const float *x, *y, *v, *q;
    int64_t n, c;
} elem_setup;

static elem_setup setup_of(elem_kind kind, const sscma_op_exec *e)
{
    elem_setup s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.x = e->in[0].data, s.y = e->in[1].data;
    s.n = sscma_desc_numel(&e->in[0].desc);
    s.c = e->in[0].desc.rank > 0 ? e->in[0].desc.dims[e->in[0].desc.rank - 1] : 1;
    if (kind == BCE) {
        const sscma_bce_attrs *a = e->attrs;
        s.reduction = a->reduction;
        s.v = a->has_weight ? e->in[2].data : NULL;
        s.q = a->has_pos_weight ? e->in[e->n_in - 1].data : NULL;
    } else {
        const sscma_regression_loss_attrs *a = e->attrs;
        s.reduction = a->reduction;
        s.beta = a->beta;
    }
    return s;
}

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double elem_value(const elem_setup *s, int64_t i)
{
    double x = s->x[i], y = s->y[i], d = x - y;
    switch (s->kind) {
    case BCE: {
        double q = s->q != NULL ? s->q[i % s->c] : 1.0;
        double l = (1.0 - y) * x + (1.0 + (q - 1.0) * y) * softplus(-x);
        return s->v != NULL ? s->v[i] * l : l;
    }
    case MSE: return d * d;
    case L1: return fabs(d);
    case SMOOTH_L1:
        if (s->beta <= 0.0f)
            return fabs(d);
        return fabs(d) < s->beta ? 0.5 * d * d / s->beta : fabs(d) - 0.5 * s->beta;
    }
    return 0.0;
}

static double elem_grad(const elem_setup *s, int64_t i)
{
    double x = s->x[i], y = s->y[i], d = x - y;
    double sign = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
    switch (s->kind) {
    case BCE: {
        double q = s->q != NULL ? s->q[i % s->c] : 1.0;
        double sig = 1.0 / (1.0 + exp(-x));
        double gr = (1.0 - y) * sig - q * y * (1.0 - sig);
        return s->v != NULL ? s->v[i] * gr : gr;
    }
    case MSE: return 2.0 * d;
    case L1: return sign;
    case SMOOTH_L1:
        if (s->beta <= 0.0f)
            return sign;
        return fabs(d) < s->beta ? d / s->beta : sign;
    }
    return 0.0;
}

/* What a summed loss is multiplied by: 1/n for mean, 1/batch for batch mean, 1 for sum. */
static double reduction_scale(const elem_setup *s, const sscma_op_exec *e)
{
    if (s->reduction == SSCMA_REDUCTION_MEAN)
        return 1.0 / (double)s->n;
    if (s->reduction == SSCMA_REDUCTION_BATCH_MEAN)
        return 1.0 / (double)e->in[0].desc.dims[0];
    return 1.0;
}

static sscma_status elem_forward(elem_kind kind, const sscma_op_exec *e)
{
    elem_setup s = setup_of(kind, e);
    float *out = e->out[0].data;
    if (s.reduction == SSCMA_REDUCTION_NONE) {
        for (int64_t i = 0; i < s.n; i++)
            out[i] = (float)elem_value(&s, i);
        return SSCMA_OK;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < s.n; i++)
        sum += elem_value(&s, i);
    out[0] = (float)(sum * reduction_scale(&s, e));
    return SSCMA_OK;
}

static void elem_backward(elem_kind kind, const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data == NULL)
        return;
    elem_setup s = setup_of(kind, e);
    const float *g = dout[0].data;
    float *dx = din[0].data;
    double scale = reduction_scale(&s, e);
    for (int64_t i = 0; i < s.n; i++) {
        double gi = s.reduction == SSCMA_REDUCTION_NONE ? g[i] : g[0] * scale;
        dx[i] += (float)(gi * elem_grad(&s, i));
    }
}

static sscma_status bce_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                              int32_t *n_out, sscma_op_sizes *sizes)
{
    const sscma_bce_attrs *a = attrs;
    return elem_infer(BCE, a->reduction, a->has_weight, a->has_pos_weight, in, n_in, out, n_out, sizes);
}

#define REGRESSION_INFER(ident, kind)                                                                          \
    static sscma_status ident##_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out, \
                                      int32_t *n_out, sscma_op_sizes *sizes)                                   \
    {                                                                                                          \
        const sscma_regression_loss_attrs *a = attrs;                                                          \
        return elem_infer(kind, a->reduction, false, false, in, n_in, out, n_out, sizes);                      \
    }
REGRESSION_INFER(mse, MSE)
REGRESSION_INFER(l1, L1)
REGRESSION_INFER(smooth_l1, SMOOTH_L1)

#define ELEM_OP(ident, op_id, kind, attrs_type, nondiff, infer_fn, fields)                                   \
    static sscma_status ident##_forward(const sscma_op_exec *e) { return elem_forward(kind, e); }            \
    static void ident##_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)          \
    {                                                                                                          \
        elem_backward(kind, e, dout, din);                                                                     \
    }                                                                                                          \
    const sscma_op_def sscma_op_##ident = {                                                                    \
        .id = op_id, .name = #ident, .attrs_size = sizeof(attrs_type), .min_inputs = 2, .max_inputs = 4,        \
        .nondiff_inputs = nondiff, .infer = infer_fn, .forward = ident##_forward, .backward = ident##_backward, \
        .attr_fields = fields,                                                                                 \
    };

ELEM_OP(bce_with_logits, SSCMA_OP_BCE_WITH_LOGITS, BCE, sscma_bce_attrs, ~1u, bce_infer, bce_fields)
ELEM_OP(mse_loss, SSCMA_OP_MSE_LOSS, MSE, sscma_regression_loss_attrs, ~1u, mse_infer, regression_fields)
ELEM_OP(l1_loss, SSCMA_OP_L1_LOSS, L1, sscma_regression_loss_attrs, ~1u, l1_infer, regression_fields)
ELEM_OP(smooth_l1_loss, SSCMA_OP_SMOOTH_L1_LOSS, SMOOTH_L1, sscma_regression_loss_attrs, ~1u, smooth_l1_infer,
        smooth_l1_fields)

/* ---- kl_div: distillation's soft-target loss ---- */

static const sscma_attr_field kl_fields[] = {
    SSCMA_ATTR(sscma_kl_div_attrs, tau, SSCMA_ATTR_F32, 1.0),
    SSCMA_ATTR(sscma_kl_div_attrs, loss_weight, SSCMA_ATTR_F32, 1.0),
    SSCMA_ATTR_END,
};

static sscma_status kl_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out, int32_t *n_out,
                             sscma_op_sizes *sizes)
{
    const sscma_kl_div_attrs *a = attrs;
    const char *op = "kl_div";
    (void)n_in;
    if (!(a->tau > 0.0f && a->tau < 1e6f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "tau is %g; expected a temperature > 0", (double)a->tau);
    if (!(a->loss_weight >= 0.0f && a->loss_weight < 1e6f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, op, "loss_weight is %g; expected a weight >= 0",
                          (double)a->loss_weight);
    if (in[0].dtype != SSCMA_DTYPE_F32 || in[1].dtype != SSCMA_DTYPE_F32 || in[0].rank < 1)
        return sscma_fail(SSCMA_ERR_DTYPE, op, "takes f32 student and teacher logits of rank >= 1");
    if (!sscma_desc_equal(&in[0], &in[1])) {
        char sd[200], td[200];
        sscma_desc_format(&in[0], sd, sizeof sd);
        sscma_desc_format(&in[1], td, sizeof td);
        return sscma_fail(SSCMA_ERR_SHAPE, op, "the student's logits are %s, the teacher's %s", sd, td);
    }
    if (in[0].dims[in[0].rank - 1] < 1)
        return sscma_fail(SSCMA_ERR_SHAPE, op, "the logits have no class");
    out[0] = scalar_desc();
    *n_out = 1;
    sizes->saved_bytes = 2 * sscma_align_bytes((size_t)sscma_desc_numel(&in[0]) * sizeof(float));
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

/* Writes softmax(x / tau) of one row into p and returns log of its normaliser (for log p = x / tau - log z). */
static double tempered_softmax(const float *x, float *p, int64_t c, double tau)
{
    double m = -INFINITY, z = 0.0;
    for (int64_t j = 0; j < c; j++)
        m = fmax(m, (double)x[j] / tau);
    for (int64_t j = 0; j < c; j++)
        z += exp((double)x[j] / tau - m);
    double log_z = m + log(z);
    for (int64_t j = 0; j < c; j++)
        p[j] = (float)exp((double)x[j] / tau - log_z);
    return log_z;
}

static sscma_status kl_forward(const sscma_op_exec *e)
{
    const sscma_kl_div_attrs *a = e->attrs;
    const sscma_desc *d = &e->in[0].desc;
    int64_t c = d->dims[d->rank - 1], n = sscma_desc_numel(d), rows = n / c;
    const float *s = e->in[0].data, *t = e->in[1].data;
    float *p = e->saved, *q = (float *)((char *)e->saved + sscma_align_bytes((size_t)n * sizeof(float)));
    double tau = a->tau, sum = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        const float *sr = s + r * c, *tr = t + r * c;
        double log_zs = tempered_softmax(sr, p + r * c, c, tau), log_zt = tempered_softmax(tr, q + r * c, c, tau);
        for (int64_t j = 0; j < c; j++) {
            double log_q = (double)tr[j] / tau - log_zt, qj = exp(log_q);
            if (qj > 0.0)
                sum += qj * (log_q - ((double)sr[j] / tau - log_zs));
        }
    }
    ((float *)e->out[0].data)[0] = rows > 0 ? (float)(a->loss_weight * tau * tau * sum / (double)rows) : 0.0f;
    return SSCMA_OK;
}

static void kl_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    if (din[0].data == NULL)
        return;
    const sscma_kl_div_attrs *a = e->attrs;
    int64_t n = sscma_desc_numel(&e->in[0].desc), rows = n / e->in[0].desc.dims[e->in[0].desc.rank - 1];
    const float *p = e->saved, *q = (const float *)((const char *)e->saved + sscma_align_bytes((size_t)n * sizeof(float)));
    double k = (double)((const float *)dout[0].data)[0] * a->loss_weight * a->tau / (double)(rows > 0 ? rows : 1);
    float *ds = din[0].data;
    for (int64_t i = 0; i < n; i++)
        ds[i] += (float)(k * ((double)p[i] - (double)q[i]));
}

const sscma_op_def sscma_op_kl_div = {
    .id = SSCMA_OP_KL_DIV,
    .name = "kl_div", .attrs_size = sizeof(sscma_kl_div_attrs), .min_inputs = 2, .max_inputs = 2,
    .nondiff_inputs = 1u << 1,
    .infer = kl_infer, .forward = kl_forward, .backward = kl_backward,
    .attr_fields = kl_fields,
    .backward_skips_inputs = true, .backward_skips_outputs = true,
};
