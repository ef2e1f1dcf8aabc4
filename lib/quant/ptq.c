/*
 * Post-training quantization: observe the float deployable model's activations on calibration batches, then build
 * the int8 model (docs/export.md has the scheme):
 *   activations  int8 asymmetric per tensor: range widened to include 0, scale = (max - min) / 255,
 *                zero point = round(-128 - min / scale) clamped to -128..127;
 *   conv weights int8 symmetric per output channel: scale = max|w| / 127, q = round(w / scale) in -127..127;
 *   fc weights   the same per tensor (TFLite's FULLY_CONNECTED spec);
 *   biases       int32, scale = input scale x weight scale, zero point 0;
 *   pools, reshape, pad and resize keep their input's parameters; softmax and logistic output 1/256 and -128;
 *   a concatenation input whose parameters differ from the output's gets a requantize op in front.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quant/qm_kinds.h"
#include "quant/qmodel.h"

/* The first version ends with calib_batches (24 bytes on LP64): frozen (docs/architecture.md, "Versioned options"). */
#define QUANT_OPTIONS_V1_SIZE SSCMA_SIZE_THROUGH(sscma_quant_options, calib_batches)
_Static_assert(sizeof(void *) != 8 || QUANT_OPTIONS_V1_SIZE == 24, "the first version's size is frozen");
#define HIST_BINS 2048

static void options_defaults(sscma_quant_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = (uint32_t)sizeof *o;
    o->observer = SSCMA_OBSERVER_MINMAX;
    o->averaging_constant = 0.01f;
    o->percentile = 99.99f;
    o->calib_batches = 32;
}

sscma_status sscma_quant_options_init(sscma_quant_options *options, size_t struct_size)
{
    sscma_quant_options o;
    options_defaults(&o);
    return SSCMA_OPTIONS_INIT(sscma_quant_options, options, struct_size, &o, QUANT_OPTIONS_V1_SIZE);
}

/* ---- observers ---- */

typedef struct observer {
    const sscma_quant_options *opt;
    bool second_pass;     /* percentile: histograms over the first pass's range */
    double *lo, *hi;      /* per tensor: running range */
    bool *seen;
    uint64_t *hist;       /* percentile: per tensor HIST_BINS counts over [lo, hi] */
    int64_t batches;
    int64_t batch, valid; /* rows of the batch and how many hold samples */
} observer;

static void observe(void *user, int32_t tensor, const float *data, int64_t count)
{
    observer *ob = user;
    count = count / ob->batch * ob->valid;
    if (ob->second_pass) {
        double lo = ob->lo[tensor], hi = ob->hi[tensor];
        if (!(hi > lo))
            return;
        uint64_t *h = ob->hist + (size_t)tensor * HIST_BINS;
        double k = HIST_BINS / (hi - lo);
        for (int64_t i = 0; i < count; i++) {
            int64_t b = (int64_t)(((double)data[i] - lo) * k);
            h[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
        }
        return;
    }
    float mn = FLT_MAX, mx = -FLT_MAX;
    for (int64_t i = 0; i < count; i++) {
        float v = data[i];
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    if (count == 0)
        return;
    if (!ob->seen[tensor]) {
        ob->lo[tensor] = mn, ob->hi[tensor] = mx, ob->seen[tensor] = true;
    } else if (ob->opt->observer == SSCMA_OBSERVER_MOVING_AVERAGE) {
        double c = ob->opt->averaging_constant;
        ob->lo[tensor] += c * ((double)mn - ob->lo[tensor]);
        ob->hi[tensor] += c * ((double)mx - ob->hi[tensor]);
    } else {
        ob->lo[tensor] = mn < ob->lo[tensor] ? mn : ob->lo[tensor];
        ob->hi[tensor] = mx > ob->hi[tensor] ? mx : ob->hi[tensor];
    }
}

/* Percentile: narrows [lo, hi] to the given percentile on each side of the histogram. */
static void apply_percentile(observer *ob, int32_t t)
{
    const uint64_t *h = ob->hist + (size_t)t * HIST_BINS;
    uint64_t total = 0;
    for (int i = 0; i < HIST_BINS; i++)
        total += h[i];
    if (total == 0 || !(ob->hi[t] > ob->lo[t]))
        return;
    double tail = (100.0 - ob->opt->percentile) / 100.0 * (double)total;
    double width = (ob->hi[t] - ob->lo[t]) / HIST_BINS;
    uint64_t acc = 0;
    int lo_bin = 0, hi_bin = HIST_BINS - 1;
    for (; lo_bin < HIST_BINS - 1; lo_bin++) {
        if ((double)(acc + h[lo_bin]) > tail)
            break;
        acc += h[lo_bin];
    }
    acc = 0;
    for (; hi_bin > lo_bin; hi_bin--) {
        if ((double)(acc + h[hi_bin]) > tail)
            break;
        acc += h[hi_bin];
    }
    double lo = ob->lo[t] + width * lo_bin, hi = ob->lo[t] + width * (hi_bin + 1);
    ob->lo[t] = lo, ob->hi[t] = hi;
}

/* ---- parameters ---- */

/*
 * Asymmetric int8 parameters covering [lo, hi] widened to include 0 (sscma_fq_range_params, shared with the QAT
 * observers). A range narrower than 255 x 2^-24 (a dead layer, say) is widened upwards to it, so that scales stay
 * above 2^-24 and every requantization multiplier, the softmax's included (it needs input scale x 2^26 >= 1),
 * remains representable.
 */
static void act_params(double lo, double hi, float *scale, int32_t *zp)
{
    sscma_fq_range_params(lo, hi, scale, zp);
}

typedef struct builder {
    const sscma_qmodel *f; /* float model */
    sscma_qmodel *q;       /* int8 model */
    int32_t *map;          /* float tensor -> int8 tensor */
    float *scale;          /* per float activation tensor */
    int32_t *zp;
    const double *lo, *hi;
    const bool *seen;
} builder;

static sscma_status add_act(builder *b, int32_t ft)
{
    const qm_tensor *t = &b->f->t[ft];
    int32_t id;
    sscma_status st = sscma_qm_add_tensor(b->q, t->name, SSCMA_DTYPE_I8, t->rank, t->dims, false, &id);
    if (st == SSCMA_OK)
        st = sscma_qm_set_quant(b->q, id, 1, -1, &b->scale[ft], &b->zp[ft]);
    b->map[ft] = id;
    return st;
}

/* Weights (symmetric, per channel along 0 when per_channel) and the int32 bias of a conv or fc op. */
static sscma_status quantize_weights(builder *b, const qm_op *fop, qm_op *op, bool per_channel)
{
    const qm_tensor *w = &b->f->t[fop->in[1]];
    int64_t cout = w->dims[0], per = sscma_qm_numel(w) / (cout > 0 ? cout : 1);
    int32_t nq = per_channel ? (int32_t)cout : 1;
    float scales[4096];
    int32_t zeros[4096] = {0};
    if (cout > 4096)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, fop->name, "more than 4096 output channels");
    const float *wd = w->data;
    for (int32_t c = 0; c < nq; c++) {
        double mx = 0.0;
        int64_t from = per_channel ? c * per : 0, to = per_channel ? (c + 1) * per : cout * per;
        for (int64_t i = from; i < to; i++)
            mx = fabs((double)wd[i]) > mx ? fabs((double)wd[i]) : mx;
        scales[c] = mx > 0.0 ? (float)(mx / 127.0) : 1.0f;
    }
    int32_t wt, bt;
    sscma_status st = sscma_qm_add_tensor(b->q, w->name, SSCMA_DTYPE_I8, w->rank, w->dims, true, &wt);
    if (st == SSCMA_OK)
        st = sscma_qm_set_quant(b->q, wt, nq, 0, scales, zeros);
    if (st != SSCMA_OK)
        return st;
    int8_t *qw = b->q->t[wt].data;
    for (int64_t i = 0; i < cout * per; i++) {
        double v = round((double)wd[i] / (double)scales[per_channel ? i / per : 0]);
        qw[i] = (int8_t)(v < -127.0 ? -127.0 : v > 127.0 ? 127.0 : v);
    }
    const qm_tensor *bias = fop->n_in > 2 ? &b->f->t[fop->in[2]] : NULL;
    char name[300];
    snprintf(name, sizeof name, "%s", bias != NULL ? bias->name : "bias");
    if ((st = sscma_qm_add_tensor(b->q, name, SSCMA_DTYPE_I32, 1, &cout, true, &bt)) != SSCMA_OK)
        return st;
    float in_scale = b->scale[fop->in[0]];
    float bscales[4096];
    for (int64_t c = 0; c < cout; c++)
        bscales[c] = in_scale * scales[per_channel ? c : 0];
    if ((st = sscma_qm_set_quant(b->q, bt, (int32_t)cout, 0, bscales, zeros)) != SSCMA_OK)
        return st;
    int32_t *qb = b->q->t[bt].data;
    for (int64_t c = 0; c < cout; c++) {
        double v = bias != NULL ? round((double)((const float *)bias->data)[c] / (double)bscales[c]) : 0.0;
        qb[c] = (int32_t)(v < -2147483647.0 ? -2147483647.0 : v > 2147483647.0 ? 2147483647.0 : v);
    }
    op->in[1] = wt, op->in[2] = bt, op->n_in = 3;
    return SSCMA_OK;
}

/*
 * A float constant operand of a binary op (x * 2s, x + grid) as an int8 constant of the activations' kind:
 * asymmetric per tensor over its values widened to include 0, so that a single positive value v is 127 at scale
 * v / 255 (exact) and a small table keeps half a step of its range at most.
 */
static sscma_status quantize_operand(builder *b, int32_t ft, int32_t *out)
{
    const qm_tensor *t = &b->f->t[ft];
    const float *d = t->data;
    int64_t n = sscma_qm_numel(t);
    double lo = 0.0, hi = 0.0;
    for (int64_t i = 0; i < n; i++)
        lo = d[i] < lo ? d[i] : lo, hi = d[i] > hi ? d[i] : hi;
    float scale;
    int32_t zp, id;
    act_params(lo, hi, &scale, &zp);
    sscma_status st = sscma_qm_add_tensor(b->q, t->name, SSCMA_DTYPE_I8, t->rank, t->dims, true, &id);
    if (st == SSCMA_OK)
        st = sscma_qm_set_quant(b->q, id, 1, -1, &scale, &zp);
    if (st != SSCMA_OK)
        return st;
    int8_t *qd = b->q->t[id].data;
    for (int64_t i = 0; i < n; i++) {
        double v = round((double)d[i] / (double)scale) + zp;
        qd[i] = (int8_t)(v < -128.0 ? -128.0 : v > 127.0 ? 127.0 : v);
    }
    *out = id;
    return SSCMA_OK;
}

static sscma_status build_int8(builder *b)
{
    const sscma_qmodel *f = b->f;
    sscma_qmodel *q = b->q;
    /* activation parameters, in op order so that pass-through ops copy their input's */
    for (int32_t i = 0; i < f->n_inputs; i++)
        act_params(b->lo[f->inputs[i]], b->hi[f->inputs[i]], &b->scale[f->inputs[i]], &b->zp[f->inputs[i]]);
    for (int32_t i = 0; i < f->n_ops; i++) {
        const qm_op *op = &f->ops[i];
        int32_t y = op->out, x = op->in[0];
        switch (sscma_qm_kind(op->kind)->out_quant) {
        case QM_OUT_AS_INPUT:
            b->scale[y] = b->scale[x], b->zp[y] = b->zp[x];
            break;
        case QM_OUT_UNIT_256:
            b->scale[y] = 1.0f / 256.0f, b->zp[y] = -128;
            break;
        case QM_OUT_CALIBRATED:
            if (!b->seen[y])
                return sscma_fail(SSCMA_ERR_STATE, op->name, "no calibration data reached this layer");
            act_params(b->lo[y], b->hi[y], &b->scale[y], &b->zp[y]);
        }
    }
    for (int32_t i = 0; i < f->n_inputs; i++) {
        sscma_status st = add_act(b, f->inputs[i]);
        if (st != SSCMA_OK)
            return st;
        q->inputs[q->n_inputs++] = b->map[f->inputs[i]];
    }
    for (int32_t i = 0; i < f->n_ops; i++) {
        const qm_op *fop = &f->ops[i];
        qm_op op = *fop;
        sscma_status st = SSCMA_OK;
        for (int32_t k = 0; k < fop->n_in; k++)
            op.in[k] = b->map[fop->in[k]];
        if (sscma_qm_kind(fop->kind)->const_operands)
            for (int32_t k = 0; k < fop->n_in && st == SSCMA_OK; k++)
                if (f->t[fop->in[k]].constant && f->t[fop->in[k]].dtype == SSCMA_DTYPE_F32)
                    st = quantize_operand(b, fop->in[k], &op.in[k]);
        if (sscma_qm_kind(fop->kind)->has_weights)
            st = quantize_weights(b, fop, &op, fop->kind == QM_CONV);
        if (st == SSCMA_OK && fop->kind == QM_CONCAT) {
            for (int32_t k = 0; k < fop->n_in && st == SSCMA_OK; k++) {
                int32_t x = fop->in[k];
                if (b->scale[x] == b->scale[fop->out] && b->zp[x] == b->zp[fop->out])
                    continue;
                const qm_tensor *xt = &f->t[x];
                char name[300];
                snprintf(name, sizeof name, "%s/requant", xt->name);
                int32_t id;
                st = sscma_qm_add_tensor(q, name, SSCMA_DTYPE_I8, xt->rank, xt->dims, false, &id);
                if (st == SSCMA_OK)
                    st = sscma_qm_set_quant(q, id, 1, -1, &b->scale[fop->out], &b->zp[fop->out]);
                qm_op rq = {.kind = QM_REQUANT, .name = name, .in = {op.in[k]}, .n_in = 1, .out = id};
                if (st == SSCMA_OK)
                    st = sscma_qm_add_op(q, &rq, NULL);
                op.in[k] = id;
            }
        }
        if (st == SSCMA_OK)
            st = add_act(b, fop->out);
        op.out = b->map[fop->out];
        if (st == SSCMA_OK)
            st = sscma_qm_add_op(q, &op, NULL);
        if (st != SSCMA_OK)
            return st;
    }
    for (int32_t i = 0; i < f->n_outputs; i++)
        q->outputs[q->n_outputs++] = b->map[f->outputs[i]];
    q->int8 = true;
    snprintf(q->family, sizeof q->family, "%s", f->family);
    sscma_status st = sscma_qm_copy_meta(q, f);
    if (st == SSCMA_OK)
        st = sscma_qm_validate(q);
    /* the integer parameters and packed weights, once: from here on the model is read-only (plans share it) */
    return st != SSCMA_OK ? st : sscma_qm_prepare_int8(q);
}

sscma_status sscma_qm_build_int8(const sscma_qmodel *f, const double *lo, const double *hi, const bool *seen,
                                sscma_qmodel **out)
{
    size_t n = (size_t)f->n_t;
    builder b = {f, NULL, NULL, NULL, NULL, lo, hi, seen};
    b.map = sscma_alloc(f->ctx, n * sizeof(int32_t), 4);
    b.scale = sscma_alloc_zeroed(f->ctx, n * sizeof(float), 4);
    b.zp = sscma_alloc_zeroed(f->ctx, n * sizeof(int32_t), 4);
    sscma_status st = SSCMA_OK;
    if (b.map == NULL || b.scale == NULL || b.zp == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "quantize", "cannot allocate the quantization tables");
    if (st == SSCMA_OK)
        st = sscma_qm_create(f->ctx, &b.q);
    if (st == SSCMA_OK) {
        for (size_t i = 0; i < n; i++)
            b.map[i] = -1;
        st = build_int8(&b);
    }
    sscma_free(f->ctx, b.map, n * sizeof(int32_t));
    sscma_free(f->ctx, b.scale, n * sizeof(float));
    sscma_free(f->ctx, b.zp, n * sizeof(int32_t));
    if (st != SSCMA_OK) {
        sscma_qmodel_destroy(b.q);
        return st;
    }
    *out = b.q;
    return SSCMA_OK;
}

static sscma_status calibrate(sscma_qmodel *f, sscma_loader *calib, const sscma_quant_options *o, observer *ob)
{
    int64_t dims[4];
    sscma_status st = sscma_loader_batch_shape(calib, dims);
    if (st != SSCMA_OK)
        return st;
    const qm_tensor *in = &f->t[f->inputs[0]];
    if (f->n_inputs != 1 || in->rank != 4 || dims[1] != in->dims[1] || dims[2] != in->dims[2] ||
        dims[3] != in->dims[3])
        return sscma_fail(SSCMA_ERR_SHAPE, "sscma_quantize",
                          "the loader's images are %lldx%lldx%lld; the model takes %lldx%lldx%lld", (long long)dims[1],
                          (long long)dims[2], (long long)dims[3], (long long)in->dims[1], (long long)in->dims[2],
                          (long long)in->dims[3]);
    if ((st = sscma_qmodel_prepare(f, dims[0])) != SSCMA_OK)
        return st;
    sscma_tensor *images;
    if ((st = sscma_qmodel_input(f, 0, &images)) != SSCMA_OK)
        return st;
    ob->batch = dims[0];
    int passes = o->observer == SSCMA_OBSERVER_PERCENTILE ? 2 : 1;
    for (int pass = 0; pass < passes; pass++) {
        ob->second_pass = pass == 1;
        if ((st = sscma_loader_start_epoch(calib, 0)) != SSCMA_OK)
            return st;
        for (int64_t b = 0; o->calib_batches == 0 || b < o->calib_batches; b++) {
            int64_t count = 0;
            if ((st = sscma_loader_next(calib, images, NULL, &count)) != SSCMA_OK)
                return st;
            if (count == 0)
                break;
            ob->valid = count; /* a last partial batch: only its samples are observed */
            if ((st = sscma_qm_run_f32(&f->plan, observe, ob)) != SSCMA_OK)
                return st;
            ob->batches++;
        }
    }
    return SSCMA_OK;
}

sscma_status sscma_quantize(sscma_model *model, sscma_loader *calib, const sscma_quant_options *options,
                            sscma_qmodel **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(calib);
    SSCMA_REQUIRE_NONNULL(out);
    sscma_quant_options o;
    options_defaults(&o);
    if (options != NULL) {
        sscma_status st = SSCMA_OPTIONS_READ(sscma_quant_options, options, &o, QUANT_OPTIONS_V1_SIZE);
        if (st != SSCMA_OK)
            return st;
    }
    if (o.observer < SSCMA_OBSERVER_MINMAX || o.observer > SSCMA_OBSERVER_PERCENTILE)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "observer is %d; expected 1 (min/max), 2 (moving average) or 3 "
                                                      "(percentile)", (int)o.observer);
    if (!(o.averaging_constant > 0.0f && o.averaging_constant <= 1.0f))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "averaging_constant is %g; expected (0, 1]",
                          (double)o.averaging_constant);
    if (!(o.percentile > 50.0f && o.percentile <= 100.0f))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "percentile is %g; expected (50, 100]", (double)o.percentile);
    if (o.calib_batches < 0)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "calib_batches is %lld; expected 0 (one epoch) or more",
                          (long long)o.calib_batches);
    sscma_qmodel *f = NULL;
    sscma_status st = sscma_qmodel_from_model(model, &f);
    if (st != SSCMA_OK)
        return st;
    sscma_context *ctx = f->ctx;
    size_t n = (size_t)f->n_t;
    observer ob = {&o, false, NULL, NULL, NULL, NULL, 0, 1, 1};
    ob.lo = sscma_alloc_zeroed(ctx, n * sizeof(double), 8);
    ob.hi = sscma_alloc_zeroed(ctx, n * sizeof(double), 8);
    ob.seen = sscma_alloc_zeroed(ctx, n * sizeof(bool), 1);
    size_t hist_bytes = o.observer == SSCMA_OBSERVER_PERCENTILE ? n * HIST_BINS * sizeof(uint64_t) : 0;
    if (hist_bytes > 0)
        ob.hist = sscma_alloc_zeroed(ctx, hist_bytes, 8);
    if (ob.lo == NULL || ob.hi == NULL || ob.seen == NULL || (hist_bytes > 0 && ob.hist == NULL))
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the observers");
    if (st == SSCMA_OK)
        st = calibrate(f, calib, &o, &ob);
    if (st == SSCMA_OK && ob.batches == 0)
        st = SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "the calibration loader gave no batch");
    if (st == SSCMA_OK && o.observer == SSCMA_OBSERVER_PERCENTILE)
        for (int32_t t = 0; t < f->n_t; t++)
            if (ob.seen[t])
                apply_percentile(&ob, t);
    sscma_qmodel *q = NULL;
    if (st == SSCMA_OK)
        st = sscma_qm_build_int8(f, ob.lo, ob.hi, ob.seen, &q);
    sscma_free(ctx, ob.lo, n * sizeof(double));
    sscma_free(ctx, ob.hi, n * sizeof(double));
    sscma_free(ctx, ob.seen, n * sizeof(bool));
    sscma_free(ctx, ob.hist, hist_bytes);
    sscma_qmodel_destroy(f);
    if (st != SSCMA_OK)
        return st;
    *out = q;
    return SSCMA_OK;
}
