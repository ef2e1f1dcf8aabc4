/*
 * The lowering of 1-D convolutions of stride above 3 (lib/quant/lower.c, blocked_plan): SoundNet's AADownsample
 * blurs (depthwise, stride 4) become PAD + RESHAPE to [1, blocks, 4, C] + a stride-1 DEPTHWISE_CONV_2D of kernel
 * [3, 4] + RESHAPE (as few weights as the strided conv: 12 per channel for 9), its first conv (stride 6) PAD +
 * RESHAPE + a stride-1 CONV_2D over blocks of 6 samples, which Vela places on the Ethos-U. The keyword spotter lowered both ways (sscma_qm_lower with the limit 3 and with
 * none) gives the same float outputs (to float rounding: the blocked sums add zeros in between) and, quantized with
 * the same ranges, identical int8 outputs on every clip: the rewrite is exact, not approximately equal.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/model_private.h"
#include "harness.h"
#include "minmax_observer.h"
#include "ops/op.h"
#include "quant/qmodel.h"

#define CLIP 8192

/* SSCMA's KWS recipe's backbone (SoundNetRaw nf 2, factors 4, 4, 4: three stride-4 blurs on 1366, 342 and 86
 * samples, none a multiple of 4) with the export fixture's head. */
static const char *const kws_cfg =
    "{\"type\": \"Audio_classify\", \"n_cls\": 4, \"segment_length\": 8192, \"backbone\": {\"type\": "
    "\"SoundNetRaw\", \"nf\": 2, \"factors\": [4, 4, 4], \"out_channel\": 36}, \"head\": {\"type\": "
    "\"Audio_head\", \"in_channels\": 36, \"n_classes\": 4, \"drop\": 0.2}}";

static sscma_context *ctx;

/* The conv weights from N(0, 0.02) to about 1.5 / sqrt(fan_in): the signal survives the 30 layers. */
static void widen_weights(sscma_model *m)
{
    int32_t count = 0;
    sscma_model_param_count(m, &count);
    for (int32_t i = 0; i < count; i++) {
        uint32_t flags = 0;
        sscma_tensor *v = NULL;
        int32_t rank = 0;
        int64_t numel = 0, rows = 0;
        float *d = NULL;
        if (sscma_model_param(m, i, NULL, &flags, &v, NULL) != SSCMA_OK || !(flags & SSCMA_PARAM_TRAINABLE))
            continue;
        sscma_tensor_rank(v, &rank), sscma_tensor_numel(v, &numel), sscma_tensor_dim(v, 0, &rows);
        sscma_tensor_data(v, (void **)&d);
        if (rank == 4 && d != NULL)
            for (int64_t k = 0; k < numel; k++)
                d[k] *= (float)(1.5 / (0.02 * sqrt((double)(numel / rows))));
    }
}

/* Clip i: a burst of a slow tone with a little noise. */
static void make_clip(int i, float *x)
{
    for (int r = 0; r < CLIP; r++) {
        const double t = r / 8000.0, burst = r > 1000 + 300 * i && r < 5000 + 200 * i ? 1.0 : 0.05;
        x[r] = (float)((0.3 + 0.05 * i) * burst * (0.4 * (i % 4 - 1.5) + 0.5 * sin(6.283185 * (3.0 + i) * t)) +
                       0.01 * sin(12.9898 * (i * CLIP + r)));
    }
}


static int32_t find_tensor(const sscma_qmodel *q, const char *name)
{
    for (int32_t i = 0; i < q->n_t; i++)
        if (strcmp(q->t[i].name, name) == 0)
            return i;
    return -1;
}

/* Counts q's ops: convs of stride above 3, PADs, RESHAPEs. */
static void count_ops(const sscma_qmodel *q, int *wide_dw, int *pads, int *reshapes)
{
    *wide_dw = *pads = *reshapes = 0;
    for (int32_t k = 0; k < q->n_ops; k++) {
        const qm_op *op = &q->ops[k];
        *wide_dw += op->kind == QM_CONV && op->stride_w > 3;
        *pads += op->kind == QM_PAD;
        *reshapes += op->kind == QM_RESHAPE;
    }
}

static void blocked_lowering_is_exact(void)
{
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.seed = 5;
    CHECK_OK(sscma_context_create(&o, &ctx));
    sscma_model *m = NULL;
    CHECK_OK(sscma_model_create(ctx, kws_cfg, &m));
    if (m == NULL)
        return;
    widen_weights(m);
    sscma_qmodel *plain = NULL, *blocked = NULL, *qp = NULL, *qb = NULL;
    CHECK_OK(sscma_qm_lower(m, INT32_MAX, &plain));
    CHECK_OK(sscma_qmodel_from_model(m, &blocked));
    if (plain == NULL || blocked == NULL)
        return;
    int wide[2], pads[2], reshapes[2];
    count_ops(plain, &wide[0], &pads[0], &reshapes[0]);
    count_ops(blocked, &wide[1], &pads[1], &reshapes[1]);
    CHECK_INT_EQ(wide[0], 4); /* the first conv (stride 6) and the three stride-4 blurs */
    CHECK_INT_EQ(wide[1], 0);
    CHECK_INT_EQ(pads[1] - pads[0], 4); /* 8192 + 5 + 5, 1366 + 4 + 6, 342 + 4 + 6, 86 + 4 + 6 samples */
    CHECK_INT_EQ(reshapes[1] - reshapes[0], 7); /* into blocks (4), the blurs' rows back to [1, 1, L, C] (3) */
    int blurs = 0; /* the blurs: stride 4 ones blocked, down2's stride 2 ones depthwise as before */
    for (int32_t k = 0; k < blocked->n_ops; k++) {
        const qm_op *op = &blocked->ops[k];
        const size_t len = strlen(op->name);
        if (op->kind != QM_CONV || len < 7 || strcmp(op->name + len - 7, ".down.3") != 0)
            continue;
        const qm_tensor *w = &blocked->t[op->in[1]];
        CHECK(op->groups > 1); /* depthwise, blocked or not */
        if (op->kh == 1) {
            CHECK_INT_EQ(op->stride_w, 2);
            continue;
        }
        blurs++;
        CHECK_INT_EQ(op->stride_w, 1);
        CHECK_INT_EQ(op->kh, 3); /* 9 taps, 4 of padding (in the PAD): rows o, o + 1, o + 2 */
        CHECK_INT_EQ(op->kw, 4);
        CHECK_INT_EQ(op->pad_t + op->pad_l + op->pad_b + op->pad_r, 0);
        CHECK_INT_EQ(w->dims[1] * w->dims[2] * w->dims[3], 12); /* per channel: 9 taps, 3 zeros */
        CHECK_INT_EQ(blocked->t[op->in[0]].dims[2], 4);
        CHECK_INT_EQ(blocked->t[op->out].dims[2], 1);
        CHECK_INT_EQ(blocked->t[op->in[0]].dims[1], blocked->t[op->out].dims[1] + 2);
    }
    CHECK_INT_EQ(blurs, 3);
    for (int32_t k = 0; k < blocked->n_ops; k++) { /* the first conv: 11 taps, stride 6, padding 5 */
        const qm_op *op = &blocked->ops[k];
        if (op->kind == QM_CONV && strcmp(op->name, "backbone.start.0") == 0) {
            CHECK_INT_EQ(op->stride_w, 1);
            CHECK_INT_EQ(op->kw, 2);
            CHECK_INT_EQ(op->pad_l + op->pad_r, 0);
            CHECK_INT_EQ(blocked->t[op->in[0]].dims[2], 1367); /* 1366 outputs, 2 blocks each */
            CHECK_INT_EQ(blocked->t[op->in[1]].dims[3], 6);
        }
    }
    /* float: the same outputs; ranges from the plain model, given by name to the blocked one */
    CHECK_OK(sscma_qmodel_prepare(plain, 1));
    CHECK_OK(sscma_qmodel_prepare(blocked, 1));
    ranges rp = {calloc((size_t)plain->n_t, sizeof(double)), calloc((size_t)plain->n_t, sizeof(double)),
                 calloc((size_t)plain->n_t, sizeof(bool))};
    ranges rb = {calloc((size_t)blocked->n_t, sizeof(double)), calloc((size_t)blocked->n_t, sizeof(double)),
                 calloc((size_t)blocked->n_t, sizeof(bool))};
    static float clip[CLIP];
    double worst = 0.0, range = 0.0;
    for (int i = 0; i < 8 && rp.seen != NULL && rb.seen != NULL; i++) {
        sscma_tensor *in = NULL, *out = NULL;
        float *d = NULL;
        const float *yp = NULL, *yb = NULL;
        make_clip(i, clip);
        for (int k = 0; k < 2; k++) {
            sscma_qmodel *q = k ? blocked : plain;
            CHECK_OK(sscma_qmodel_input(q, 0, &in));
            sscma_tensor_data(in, (void **)&d);
            memcpy(d, clip, sizeof clip);
            CHECK_OK(sscma_qm_run_f32(&q->plan, observe, k ? &rb : &rp));
            CHECK_OK(sscma_qmodel_output(q, 0, &out, NULL));
            sscma_tensor_data(out, (void **)(k ? &yb : &yp));
        }
        for (int c = 0; yp != NULL && yb != NULL && c < 4; c++) {
            worst = fmax(worst, fabs((double)yp[c] - yb[c]));
            range = fmax(range, fabs((double)yp[c]));
        }
    }
    printf("# float: largest difference %.3g of outputs up to %.3g\n", worst, range);
    CHECK(range > 0.0 && worst <= 1e-5 * range);
    for (int32_t t = 0; rb.seen != NULL && t < blocked->n_t; t++) {
        const int32_t same = find_tensor(plain, blocked->t[t].name);
        if (same >= 0 && rp.seen[same])
            rb.lo[t] = rp.lo[same], rb.hi[t] = rp.hi[same], rb.seen[t] = true;
    }
    for (int32_t k = 0; rb.seen != NULL && k < blocked->n_ops; k++) { /* a blur's rows: its reshaped output's range */
        const qm_op *op = &blocked->ops[k];
        if (op->kind == QM_RESHAPE && !rb.seen[op->in[0]] && rb.seen[op->out])
            rb.lo[op->in[0]] = rb.lo[op->out], rb.hi[op->in[0]] = rb.hi[op->out], rb.seen[op->in[0]] = true;
    }
    CHECK_OK(sscma_qm_build_int8(plain, rp.lo, rp.hi, rp.seen, &qp));
    CHECK_OK(sscma_qm_build_int8(blocked, rb.lo, rb.hi, rb.seen, &qb));
    free(rp.lo), free(rp.hi), free(rp.seen), free(rb.lo), free(rb.hi), free(rb.seen);
    if (qp == NULL || qb == NULL)
        return;
    /* int8: the same bytes on every clip */
    CHECK_OK(sscma_qmodel_prepare(qp, 1));
    CHECK_OK(sscma_qmodel_prepare(qb, 1));
    int differ = 0, distinct = 0;
    int8_t first[4] = {0};
    for (int i = 0; i < 16; i++) {
        sscma_tensor *in[2] = {NULL, NULL}, *out[2] = {NULL, NULL};
        int8_t *x[2] = {NULL, NULL}, *y[2] = {NULL, NULL};
        make_clip(i, clip);
        for (int k = 0; k < 2; k++) {
            sscma_qmodel *q = k ? qb : qp;
            const qm_tensor *t = &q->t[q->inputs[0]];
            CHECK_OK(sscma_qmodel_input(q, 0, &in[k]));
            sscma_tensor_data(in[k], (void **)&x[k]);
            for (int r = 0; x[k] != NULL && r < CLIP; r++) {
                const long v = lrintf(clip[r] / t->scale[0]) + t->zero_point[0];
                x[k][r] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
            }
            CHECK_OK(sscma_qmodel_run(q));
            CHECK_OK(sscma_qmodel_output(q, 0, &out[k], NULL));
            sscma_tensor_data(out[k], (void **)&y[k]);
        }
        if (x[0] == NULL || x[1] == NULL || y[0] == NULL || y[1] == NULL)
            return;
        CHECK(memcmp(x[0], x[1], CLIP) == 0);
        differ += memcmp(y[0], y[1], 4) != 0;
        if (i == 0)
            memcpy(first, y[0], 4);
        distinct += memcmp(first, y[0], 4) != 0;
    }
    printf("# int8: %d of 16 clips differ; %d give other outputs than the first\n", differ, distinct);
    CHECK_INT_EQ(differ, 0);
    CHECK(distinct >= 4); /* outputs that move with the input: a comparison that can fail */
    sscma_qmodel_destroy(qp), sscma_qmodel_destroy(qb);
    sscma_qmodel_destroy(plain), sscma_qmodel_destroy(blocked);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

/* One 1-D conv ([1, 1, len, ch] in, `taps` taps, dilation, stride, padding left and right; depthwise or groups 1)
 * as a model, lowered blocked (limit 3) and as it is: the same float outputs, and the blocked one has no stride
 * above 3 and as many SLICEs as `slices` (the strided conv never reads x's tail: the blocked input is cut). */
static void check_one_conv(int64_t len, int64_t ch, int64_t taps, int32_t dil, int32_t stride, int32_t pad_l,
                           int32_t pad_r, bool depthwise, int slices)
{
    sscma_context *c = NULL;
    CHECK_OK(sscma_context_create(NULL, &c));
    sscma_graph *g = NULL;
    CHECK_OK(sscma_graph_create(c, &g));
    if (g == NULL)
        return;
    const int64_t xdims[4] = {1, 1, len, ch}, wdims[4] = {ch, 1, taps, depthwise ? 1 : ch}, bdims[1] = {ch};
    int32_t x = -1, w = -1, b = -1, y = -1, n_out = 1;
    CHECK_OK(sscma_graph_add_input(g, "image", SSCMA_DTYPE_F32, 4, xdims, 0, &x));
    CHECK_OK(sscma_graph_add_param(g, "conv.weight", SSCMA_VALUE_PARAM, 4, wdims, SSCMA_PARAM_TRAINABLE,
                                   SSCMA_INIT_UNIFORM, 1.0f, &w));
    CHECK_OK(sscma_graph_add_param(g, "conv.bias", SSCMA_VALUE_PARAM, 1, bdims, SSCMA_PARAM_TRAINABLE,
                                   SSCMA_INIT_UNIFORM, 1.0f, &b));
    const sscma_conv2d_attrs a = {1, stride, 1, dil, 0, pad_l, 0, pad_r, false, depthwise ? (int32_t)ch : 1};
    const int32_t in[3] = {x, w, b};
    CHECK_OK(sscma_graph_add_node(g, "conv", "conv2d", &a, in, 3, &y, &n_out));
    sscma_model_io_table io = {.image = x, .target = -1, .outputs = {y}, .output_names = {"y"}, .n_outputs = 1,
                               .loss = -1, .family = "test"};
    sscma_model *m = NULL;
    CHECK_OK(sscma_model_from_graph(c, g, &io, NULL, &m));
    sscma_qmodel *q[2] = {NULL, NULL};
    CHECK_OK(sscma_qm_lower(m, INT32_MAX, &q[0]));
    CHECK_OK(sscma_qm_lower(m, 3, &q[1]));
    if (m == NULL || q[0] == NULL || q[1] == NULL)
        goto done;
    int wide = 0, n_slices = 0;
    for (int32_t k = 0; k < q[1]->n_ops; k++) {
        wide += q[1]->ops[k].kind == QM_CONV && q[1]->ops[k].stride_w > 3;
        n_slices += q[1]->ops[k].kind == QM_SLICE;
    }
    CHECK_INT_EQ(wide, 0);
    CHECK_INT_EQ(n_slices, slices);
    const float *out[2] = {NULL, NULL};
    int64_t numel[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        sscma_tensor *ti = NULL, *to = NULL;
        float *d = NULL;
        CHECK_OK(sscma_qmodel_prepare(q[k], 1));
        CHECK_OK(sscma_qmodel_input(q[k], 0, &ti));
        sscma_tensor_data(ti, (void **)&d);
        for (int64_t r = 0; d != NULL && r < len * ch; r++)
            d[r] = (float)sin(0.7 * (double)r + 0.3);
        CHECK_OK(sscma_qm_run_f32(&q[k]->plan, NULL, NULL));
        CHECK_OK(sscma_qmodel_output(q[k], 0, &to, NULL));
        sscma_tensor_data(to, (void **)&out[k]);
        sscma_tensor_numel(to, &numel[k]);
    }
    CHECK(numel[0] > 0 && numel[0] == numel[1]);
    double worst = 0.0;
    for (int64_t i = 0; out[0] != NULL && out[1] != NULL && i < numel[0]; i++)
        worst = fmax(worst, fabs((double)out[0][i] - out[1][i]));
    CHECK(worst <= 1e-5);
done:
    sscma_qmodel_destroy(q[0]), sscma_qmodel_destroy(q[1]);
    sscma_model_destroy(m);
    sscma_context_destroy(c);
}

/* Convs the keyword spotter does not have: the strided conv reads none of x's last samples (k 3, stride 4, no
 * padding, 10 samples: 2 outputs read samples 0..6), a dilated one, a full one with a cut, a padded one. */
static void blocked_edge_cases(void)
{
    check_one_conv(10, 3, 3, 1, 4, 0, 0, true, 1);
    check_one_conv(37, 2, 5, 2, 4, 3, 1, true, 0);
    check_one_conv(26, 2, 3, 3, 5, 0, 0, true, 1); /* 4 outputs read samples 0..22, the blocks 0..24 */
    check_one_conv(10, 2, 3, 1, 4, 0, 0, false, 1);
    check_one_conv(29, 3, 7, 1, 6, 3, 3, false, 0);
}

/* Not a blocked conv, but a lowering of a model built the same way (lib/quant/lower_rep.c): a conv whose output is
 * added to a parameter of its shape is no re-parameterisable block (the add's second operand is not an affine map
 * of the conv's input; the region used to take it and read the parameter's missing affine table: a crash). The
 * add then reaches the ordinary lowering, which names it: an operand that is no activation is not deployed. */
static void rep_region_skips_an_add_of_a_parameter(void)
{
    sscma_context *c = NULL;
    CHECK_OK(sscma_context_create(NULL, &c));
    sscma_graph *g = NULL;
    CHECK_OK(sscma_graph_create(c, &g));
    if (g == NULL)
        return;
    const int64_t xdims[4] = {1, 3, 3, 2}, wdims[4] = {2, 1, 1, 2};
    int32_t x = -1, w = -1, p = -1, y = -1, z = -1, n_out = 1;
    CHECK_OK(sscma_graph_add_input(g, "image", SSCMA_DTYPE_F32, 4, xdims, 0, &x));
    CHECK_OK(sscma_graph_add_param(g, "conv.weight", SSCMA_VALUE_PARAM, 4, wdims, SSCMA_PARAM_TRAINABLE,
                                   SSCMA_INIT_UNIFORM, 1.0f, &w));
    CHECK_OK(sscma_graph_add_param(g, "offset", SSCMA_VALUE_PARAM, 4, xdims, SSCMA_PARAM_TRAINABLE,
                                   SSCMA_INIT_UNIFORM, 1.0f, &p));
    const sscma_conv2d_attrs a = {1, 1, 1, 1, 0, 0, 0, 0, false, 1};
    const int32_t conv_in[2] = {x, w};
    CHECK_OK(sscma_graph_add_node(g, "conv", "conv2d", &a, conv_in, 2, &y, &n_out));
    const int32_t add_in[2] = {y, p};
    CHECK_OK(sscma_graph_add_node(g, "add", "add", NULL, add_in, 2, &z, &n_out));
    sscma_model_io_table io = {.image = x, .target = -1, .outputs = {z}, .output_names = {"z"}, .n_outputs = 1,
                               .loss = -1, .family = "test"};
    sscma_model *m = NULL;
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_model_from_graph(c, g, &io, NULL, &m));
    CHECK_FAILS(sscma_qmodel_from_model(m, &q), SSCMA_ERR_FORMAT, "add: add: an input refers to no tensor");
    CHECK(q == NULL);
    sscma_qmodel_destroy(q);
    sscma_model_destroy(m);
    sscma_context_destroy(c);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(blocked_lowering_is_exact),
        TEST_CASE(blocked_edge_cases),
        TEST_CASE(rep_region_skips_an_add_of_a_parameter),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
