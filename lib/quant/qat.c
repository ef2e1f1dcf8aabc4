/*
 * Quantization-aware training (docs/export.md): the model's graph is rebuilt with fake quantization
 *   - every convolution's and fully connected layer's weight read through fake_quant_weight (per output channel for
 *     convolutions, per tensor for fully connected layers), with the batch norm that follows a convolution folded
 *     into the fake-quantized weight (conv(x, FQ(w s)) / s, then the batch norm);
 *   - every tensor the int8 model quantizes (the input; outputs of conv blocks, fully connected layers, adds,
 *     concatenations, standalone ReLUs) followed by fake_quant_act with a moving-average min/max observer;
 * and trained with the normal trainer. From epoch freeze_observer_epoch on the observers stop moving; from
 * freeze_bn_epoch on the batch norms use and keep their running statistics (the trainer applies both at each epoch
 * start through sscma_qat_set_epoch). sscma_qat_convert folds and quantizes with the observed ranges.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/model_private.h"
#include "quant/qmodel.h"

/* The first version ends with freeze_bn_epoch (24 bytes on LP64): frozen (docs/architecture.md, "Versioned options"). */
#define QAT_V1_SIZE SSCMA_SIZE_THROUGH(sscma_qat_options, freeze_bn_epoch)
_Static_assert(sizeof(void *) != 8 || QAT_V1_SIZE == 24, "the first version's size is frozen");
#define QAT_CONFIG "qat.config" /* buffer [3]: freeze_observer_epoch, freeze_bn_epoch, averaging_constant */

static void qat_defaults(sscma_qat_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = (uint32_t)sizeof *o;
    o->averaging_constant = 0.01f;
    o->freeze_observer_epoch = 1;
    o->freeze_bn_epoch = 1;
}

sscma_status sscma_qat_options_init(sscma_qat_options *options, size_t struct_size)
{
    sscma_qat_options o;
    qat_defaults(&o);
    return SSCMA_OPTIONS_INIT(sscma_qat_options, options, struct_size, &o, QAT_V1_SIZE);
}

typedef struct rewrite {
    const sscma_graph *g;
    sscma_graph *out;
    int32_t *map;       /* old value -> new value */
    int32_t *consumers; /* old value -> inference readers */
    int32_t *reader;
    float averaging;
} rewrite;

static bool is_op(const sscma_node *nd, sscma_op_id id)
{
    return nd->def->id == id;
}

/* The batch norm that reads conv output v as its input and is its only reader, or -1. */
static int32_t bn_after(const rewrite *R, int32_t v)
{
    if (R->consumers[v] != 1)
        return -1;
    const sscma_node *nd = &R->g->nodes[R->reader[v]];
    return (is_op(nd, SSCMA_OP_BATCH_NORM) || is_op(nd, SSCMA_OP_BATCH_NORM_ACT)) && nd->in[0] == v ? R->reader[v] : -1;
}

/* Copies an input, parameter, buffer or constant into the new graph (once). */
static sscma_status copy_value(rewrite *R, int32_t v)
{
    if (R->map[v] >= 0)
        return SSCMA_OK;
    const sscma_value *val = &R->g->values[v];
    sscma_status st;
    if (val->kind == SSCMA_VALUE_INPUT) {
        st = sscma_graph_add_input(R->out, val->name, val->desc.dtype, val->desc.rank, val->desc.dims, val->flags,
                                   &R->map[v]);
    } else {
        uint32_t flags = val->kind == SSCMA_VALUE_PARAM ? val->flags : 0;
        st = sscma_graph_add_param(R->out, val->name, val->kind, val->desc.rank, val->desc.dims, flags, val->init,
                                   val->init_scale, &R->map[v]);
        if (st == SSCMA_OK && val->bytes > 0)
            memcpy(R->out->values[R->map[v]].data, val->data, val->bytes);
        if (st == SSCMA_OK && val->init_offset != NULL)
            st = sscma_graph_set_init_offset(R->out, R->map[v], val->init_offset);
    }
    return st;
}

/* Adds fake_quant_act after new value x (named after `name`); *y receives its output. */
static sscma_status add_act_fq(rewrite *R, const char *name, int32_t x, int32_t *y)
{
    char buf[300];
    snprintf(buf, sizeof buf, "%s.act_quant", name);
    const int64_t four = 4;
    int32_t state, outs[SSCMA_OP_MAX_OUTPUTS], n_out = 0;
    sscma_status st = sscma_graph_add_param(R->out, buf, SSCMA_VALUE_BUFFER, 1, &four, 0, SSCMA_INIT_ZEROS, 0.0f,
                                            &state);
    if (st != SSCMA_OK)
        return st;
    ((float *)R->out->values[state].data)[3] = 1.0f; /* observing */
    sscma_fake_quant_attrs a = {R->averaging, 1e-5f, true, false};
    snprintf(buf, sizeof buf, "%s.fq", name);
    const int32_t in[2] = {x, state};
    if ((st = sscma_graph_add_node(R->out, buf, "fake_quant_act", &a, in, 2, outs, &n_out)) != SSCMA_OK)
        return st;
    *y = outs[0];
    return SSCMA_OK;
}

/* Whether node n's output is a tensor the int8 model quantizes (so QAT observes and fake-quantizes it). */
static bool quant_point(const rewrite *R, int32_t n)
{
    const sscma_node *nd = &R->g->nodes[n];
    if (nd->training_only || nd->n_out != 1)
        return false;
    int32_t y = nd->out[0];
    if (R->consumers[y] == 1) {
        const sscma_node *r = &R->g->nodes[R->reader[y]];
        if (is_op(r, SSCMA_OP_RELU) || is_op(r, SSCMA_OP_RELU6))
            return false; /* fused: the ReLU's output is the quantized one */
    }
    if (is_op(nd, SSCMA_OP_CONV2D))
        return bn_after(R, y) < 0;
    switch (nd->def->id) {
    case SSCMA_OP_BATCH_NORM:
    case SSCMA_OP_BATCH_NORM_ACT:
    case SSCMA_OP_LINEAR:
    case SSCMA_OP_ADD:
    case SSCMA_OP_CONCAT:
    case SSCMA_OP_RELU:
    case SSCMA_OP_RELU6:
        return true;
    default:
        return false;
    }
}

static sscma_status rewrite_graph(rewrite *R)
{
    const sscma_graph *g = R->g;
    sscma_status st = SSCMA_OK;
    for (int32_t n = 0; n < g->n_nodes; n++)
        if (!g->nodes[n].training_only)
            for (int32_t i = 0; i < g->nodes[n].n_in; i++) {
                R->consumers[g->nodes[n].in[i]]++;
                R->reader[g->nodes[n].in[i]] = n;
            }
    /* inputs first (same order), the float image inputs fake-quantized */
    for (int32_t v = 0; v < g->n_values && st == SSCMA_OK; v++) {
        const sscma_value *val = &g->values[v];
        if (val->kind != SSCMA_VALUE_INPUT)
            continue;
        if ((st = copy_value(R, v)) != SSCMA_OK)
            break;
        if (!val->training_only && val->desc.dtype == SSCMA_DTYPE_F32)
            st = add_act_fq(R, val->name, R->map[v], &R->map[v]);
    }
    for (int32_t n = 0; n < g->n_nodes && st == SSCMA_OK; n++) {
        const sscma_node *nd = &g->nodes[n];
        if (is_op(nd, SSCMA_OP_CONV2D_BN_ACT) || is_op(nd, SSCMA_OP_FAKE_QUANT_ACT) ||
            is_op(nd, SSCMA_OP_FAKE_QUANT_WEIGHT))
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_qat_prepare",
                              "layer '%s' (op %s): QAT rewrites models built from conv2d and batch_norm layers "
                              "that are not QAT-prepared yet", nd->name, nd->def->name);
        int32_t in[SSCMA_OP_MAX_INPUTS];
        for (int32_t i = 0; i < nd->n_in && st == SSCMA_OK; i++) {
            if (g->values[nd->in[i]].kind != SSCMA_VALUE_ACT)
                st = copy_value(R, nd->in[i]);
            in[i] = R->map[nd->in[i]];
        }
        if (st != SSCMA_OK)
            break;
        if ((is_op(nd, SSCMA_OP_CONV2D) || is_op(nd, SSCMA_OP_LINEAR)) &&
            g->values[nd->in[1]].kind == SSCMA_VALUE_PARAM && !nd->training_only) {
            /* the weight through fake quantization, with the following batch norm folded in */
            int32_t bn = is_op(nd, SSCMA_OP_CONV2D) ? bn_after(R, nd->out[0]) : -1;
            sscma_fake_quant_attrs a = {R->averaging, 1e-5f, is_op(nd, SSCMA_OP_CONV2D), bn >= 0};
            int32_t win[3] = {in[1], -1, -1}, n_win = 1, outs[SSCMA_OP_MAX_OUTPUTS], n_out = 0;
            if (bn >= 0) {
                const sscma_node *b = &g->nodes[bn];
                a.eps = is_op(b, SSCMA_OP_BATCH_NORM) ? ((const sscma_batch_norm_attrs *)b->attrs)->eps
                                               : ((const sscma_batch_norm_act_attrs *)b->attrs)->bn.eps;
                if ((st = copy_value(R, b->in[1])) != SSCMA_OK || (st = copy_value(R, b->in[4])) != SSCMA_OK)
                    break;
                win[1] = R->map[b->in[1]], win[2] = R->map[b->in[4]], n_win = 3;
            }
            char name[300];
            snprintf(name, sizeof name, "%s.weight_fq", nd->name);
            if ((st = sscma_graph_add_node(R->out, name, "fake_quant_weight", &a, win, n_win, outs, &n_out)) !=
                SSCMA_OK)
                break;
            in[1] = outs[0];
        }
        int32_t outs[SSCMA_OP_MAX_OUTPUTS], n_out = 0;
        if ((st = sscma_graph_add_node(R->out, nd->name, nd->def->name, nd->attrs, in, nd->n_in, outs, &n_out)) !=
            SSCMA_OK)
            break;
        for (int32_t k = 0; k < n_out; k++)
            R->map[nd->out[k]] = outs[k];
        if (quant_point(R, n))
            st = add_act_fq(R, nd->name, outs[0], &R->map[nd->out[0]]);
    }
    for (int32_t k = 0; k < g->n_outputs && st == SSCMA_OK; k++)
        st = sscma_graph_mark_output(R->out, R->map[g->outputs[k]]);
    return st;
}

static const float *qat_config(const sscma_graph *g)
{
    int32_t v = sscma_graph_find(g, QAT_CONFIG);
    return v >= 0 ? g->values[v].data : NULL;
}

/* The layers whose deployable form has tensors no observer sees yet (hard-swish after a batch norm, the
 * hard-sigmoid and mul of MobileNetV3's squeeze-excitation): refused before rewriting. */
static sscma_status check_observable(const sscma_graph *g)
{
    for (int32_t n = 0; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        sscma_op_id op = nd->def->id;
        bool hardswish_bn = (op == SSCMA_OP_BATCH_NORM_ACT &&
                             ((const sscma_batch_norm_act_attrs *)nd->attrs)->act == SSCMA_ACT_HARDSWISH) ||
                            (op == SSCMA_OP_CONV2D_BN_ACT &&
                             ((const sscma_conv_bn_act_attrs *)nd->attrs)->act == SSCMA_ACT_HARDSWISH);
        if (hardswish_bn || op == SSCMA_OP_HARDSWISH || op == SSCMA_OP_HARDSIGMOID || op == SSCMA_OP_MUL)
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_qat_prepare",
                              "layer '%s' (op %s): QAT does not observe hard-swish, hard-sigmoid or mul outputs yet "
                              "(MobileNetV3); quantize with sscma_quantize (PTQ)", nd->name, nd->def->name);
    }
    return SSCMA_OK;
}

sscma_status sscma_qat_prepare(sscma_model *model, const sscma_qat_options *options)
{
    SSCMA_REQUIRE_NONNULL(model);
    sscma_qat_options o;
    qat_defaults(&o);
    if (options != NULL) {
        sscma_status st = SSCMA_OPTIONS_READ(sscma_qat_options, options, &o, QAT_V1_SIZE);
        if (st != SSCMA_OK)
            return st;
    }
    if (!(o.averaging_constant > 0.0f && o.averaging_constant <= 1.0f))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "averaging_constant is %g; expected (0, 1]",
                          (double)o.averaging_constant);
    if (o.freeze_observer_epoch < -1 || o.freeze_bn_epoch < -1)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "freeze epochs are -1 (never) or 0 and above");
    const sscma_graph *g = sscma_model_graph(model);
    if (qat_config(g) != NULL)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the model is QAT-prepared already");
    sscma_status checked = check_observable(g);
    if (checked != SSCMA_OK)
        return checked;
    sscma_context *ctx = g->ctx;
    rewrite R;
    memset(&R, 0, sizeof R);
    R.g = g;
    R.averaging = o.averaging_constant;
    size_t nv = (size_t)g->n_values;
    R.map = sscma_alloc(ctx, nv * sizeof *R.map, _Alignof(int32_t));
    R.consumers = sscma_alloc_zeroed(ctx, nv * sizeof *R.consumers, _Alignof(int32_t));
    R.reader = sscma_alloc(ctx, nv * sizeof *R.reader, _Alignof(int32_t));
    sscma_status st = SSCMA_OK;
    if (R.map == NULL || R.consumers == NULL || R.reader == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the rewrite tables");
    if (st == SSCMA_OK)
        st = sscma_graph_create(ctx, &R.out);
    if (st == SSCMA_OK) {
        for (size_t v = 0; v < nv; v++)
            R.map[v] = R.reader[v] = -1;
        st = rewrite_graph(&R);
    }
    if (st == SSCMA_OK) {
        const int64_t three = 3;
        int32_t cfg;
        st = sscma_graph_add_param(R.out, QAT_CONFIG, SSCMA_VALUE_BUFFER, 1, &three, 0, SSCMA_INIT_ZEROS, 0.0f, &cfg);
        if (st == SSCMA_OK) {
            float *c = R.out->values[cfg].data;
            c[0] = (float)o.freeze_observer_epoch, c[1] = (float)o.freeze_bn_epoch, c[2] = o.averaging_constant;
        }
    }
    if (st == SSCMA_OK) {
        R.out->step_seed = g->step_seed;
        st = sscma_model_replace_graph(model, R.out, R.map);
        if (st == SSCMA_OK)
            R.out = NULL;
    }
    sscma_graph_destroy(R.out);
    sscma_free(ctx, R.map, nv * sizeof *R.map);
    sscma_free(ctx, R.consumers, nv * sizeof *R.consumers);
    sscma_free(ctx, R.reader, nv * sizeof *R.reader);
    if (st != SSCMA_OK) {
        char why[800];
        snprintf(why, sizeof why, "%s", sscma_last_error());
        return SSCMA_FAIL(st, "%s", why);
    }
    return sscma_qat_set_epoch(model, 0);
}

sscma_status sscma_qat_set_epoch(sscma_model *model, int64_t epoch)
{
    SSCMA_REQUIRE_NONNULL(model);
    if (epoch < 0)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "epoch is %lld; expected 0 or more", (long long)epoch);
    sscma_graph *g = sscma_model_graph(model);
    const float *cfg = qat_config(g);
    if (cfg == NULL)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the model is not QAT-prepared (sscma_qat_prepare)");
    bool freeze_obs = cfg[0] >= 0.0f && (float)epoch >= cfg[0];
    bool freeze_bn = cfg[1] >= 0.0f && (float)epoch >= cfg[1];
    for (int32_t n = 0; n < g->n_nodes; n++) {
        sscma_node *nd = &g->nodes[n];
        if (is_op(nd, SSCMA_OP_BATCH_NORM) || is_op(nd, SSCMA_OP_BATCH_NORM_ACT))
            nd->frozen = freeze_bn;
        if (is_op(nd, SSCMA_OP_FAKE_QUANT_ACT))
            ((float *)g->values[nd->in[1]].data)[3] = freeze_obs ? 0.0f : 1.0f;
    }
    return SSCMA_OK;
}

bool sscma_qat_prepared(const sscma_model *model)
{
    return qat_config(sscma_model_graph(model)) != NULL;
}

sscma_status sscma_qat_convert(sscma_model *model, sscma_qmodel **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(out);
    if (!sscma_qat_prepared(model))
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the model is not QAT-prepared (sscma_qat_prepare)");
    sscma_qmodel *f = NULL;
    sscma_status st = sscma_qmodel_from_model(model, &f);
    if (st != SSCMA_OK)
        return st;
    size_t n = (size_t)f->n_t;
    double *lo = sscma_alloc(f->ctx, n * sizeof *lo, 8), *hi = sscma_alloc(f->ctx, n * sizeof *hi, 8);
    bool *seen = sscma_alloc_zeroed(f->ctx, n * sizeof *seen, 1);
    if (lo == NULL || hi == NULL || seen == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the ranges");
    for (size_t i = 0; st == SSCMA_OK && i < n; i++) {
        lo[i] = f->t[i].obs_min, hi[i] = f->t[i].obs_max, seen[i] = f->t[i].observed;
    }
    if (st == SSCMA_OK)
        st = sscma_qm_build_int8(f, lo, hi, seen, out);
    sscma_free(f->ctx, lo, n * sizeof *lo);
    sscma_free(f->ctx, hi, n * sizeof *hi);
    sscma_free(f->ctx, seen, n * sizeof *seen);
    sscma_qmodel_destroy(f);
    return st;
}
