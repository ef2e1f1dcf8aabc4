/*
 * ONNX writer (opset 13, IR version 8) over protobuf-c messages generated from lib/export/onnx.proto.
 *
 * Float models: input NCHW float; convolution weights OIHW; 4-D values flow in NCHW; 4-D outputs are transposed back
 * to NHWC at the end so that every format has the same output layout (docs/export.md).
 * Int8 models (QDQ): input and outputs int8; every int8 activation is a QuantizeLinear output and is read through a
 * DequantizeLinear; weights are int8 initializers (per channel along axis 0) and biases int32 initializers, each
 * behind a DequantizeLinear; shape-only ops (reshape, transpose, pad) work on the int8 values directly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/internal.h"
#include "onnx.pb-c.h"
#include "export/kinds.h"
#include "quant/qmodel.h"
#include "sscma/export.h"

/* ---- a bump allocator for the message tree (freed at once) ---- */

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

typedef struct onnx_builder {
    chunk *chunks;
    bool oom;
    const sscma_qmodel *q;
    bool qdq;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    char **qname;  /* per qmodel tensor: its value (int8 in QDQ, float otherwise; NCHW for 4-D) */
    char **fname;  /* QDQ: its dequantized float value, once made */
    int32_t counter;
} ob;

static void *amem(ob *b, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (b->chunks == NULL || b->chunks->cap - b->chunks->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        chunk *c = sscma_malloc(b->q->ctx, sizeof *c + cap);
        if (c == NULL) {
            b->oom = true;
            static max_align_t dummy[64];
            memset(dummy, 0, sizeof dummy);
            return dummy;
        }
        c->next = b->chunks, c->used = 0, c->cap = cap;
        b->chunks = c;
    }
    void *p = (char *)b->chunks->data + b->chunks->used;
    b->chunks->used += n;
    memset(p, 0, n);
    return p;
}

static char *astr(ob *b, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = amem(b, n);
    if (!b->oom)
        memcpy(d, s, n);
    return d;
}


static void ob_free(ob *b)
{
    while (b->chunks != NULL) {
        chunk *n = b->chunks->next;
        sscma_mfree(b->q->ctx, b->chunks);
        b->chunks = n;
    }
    sscma_mfree(b->q->ctx, b->nodes);
    sscma_mfree(b->q->ctx, b->inits);
    sscma_mfree(b->q->ctx, b->qname);
    sscma_mfree(b->q->ctx, b->fname);
}

static void push_ptr(ob *b, void ***arr, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        void **a = sscma_mrealloc(b->q->ctx, *arr, c * sizeof *a);
        if (a == NULL) {
            b->oom = true;
            return;
        }
        *arr = a, *cap = c;
    }
    (*arr)[(*n)++] = p;
}

/* A fresh value name derived from `base`. */
static char *fresh(ob *b, const char *base)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s/%d", base, (int)b->counter++);
    return astr(b, buf);
}

/* ---- attributes ---- */

static Onnx__AttributeProto *attr_i(ob *b, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = amem(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = astr(b, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1, a->i = v;
    return a;
}

static Onnx__AttributeProto *attr_f(ob *b, const char *name, float v)
{
    Onnx__AttributeProto *a = amem(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = astr(b, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1, a->f = v;
    return a;
}

static Onnx__AttributeProto *attr_s(ob *b, const char *name, const char *v)
{
    Onnx__AttributeProto *a = amem(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = astr(b, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    a->has_s = 1;
    a->s.data = (uint8_t *)astr(b, v);
    a->s.len = strlen(v);
    return a;
}

static Onnx__AttributeProto *attr_ints(ob *b, const char *name, const int64_t *v, size_t n)
{
    Onnx__AttributeProto *a = amem(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = astr(b, name);
    a->has_type = 1, a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->ints = amem(b, n * sizeof *a->ints);
    if (!b->oom)
        memcpy(a->ints, v, n * sizeof *v);
    a->n_ints = n;
    return a;
}

/* ---- nodes and initializers ---- */

static void node(ob *b, const char *op, const char *name, const char *const *in, size_t n_in, const char *out,
                 Onnx__AttributeProto **attrs, size_t n_attrs)
{
    Onnx__NodeProto *nd = amem(b, sizeof *nd);
    onnx__node_proto__init(nd);
    nd->op_type = astr(b, op);
    nd->name = fresh(b, name);
    nd->input = amem(b, n_in * sizeof *nd->input);
    for (size_t i = 0; i < n_in && !b->oom; i++)
        nd->input[i] = astr(b, in[i]);
    nd->n_input = n_in;
    nd->output = amem(b, sizeof *nd->output);
    if (!b->oom)
        nd->output[0] = astr(b, out);
    nd->n_output = 1;
    if (n_attrs > 0) {
        nd->attribute = amem(b, n_attrs * sizeof *nd->attribute);
        if (!b->oom)
            memcpy(nd->attribute, attrs, n_attrs * sizeof *attrs);
        nd->n_attribute = n_attrs;
    }
    push_ptr(b, (void ***)&b->nodes, &b->n_nodes, &b->cap_nodes, nd);
}

/* An initializer of `bytes` raw little-endian data. */
static char *init(ob *b, const char *name, int32_t dtype, const int64_t *dims, size_t rank, const void *data,
                  size_t bytes)
{
    Onnx__TensorProto *t = amem(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = fresh(b, name);
    t->has_data_type = 1, t->data_type = dtype;
    t->dims = amem(b, (rank ? rank : 1) * sizeof *t->dims);
    if (!b->oom && rank > 0)
        memcpy(t->dims, dims, rank * sizeof *dims);
    t->n_dims = rank;
    t->has_raw_data = 1;
    t->raw_data.data = amem(b, bytes ? bytes : 1);
    if (!b->oom && bytes > 0)
        memcpy(t->raw_data.data, data, bytes);
    t->raw_data.len = bytes;
    push_ptr(b, (void ***)&b->inits, &b->n_inits, &b->cap_inits, t);
    return t->name;
}

static char *init_f32(ob *b, const char *name, const float *v, const int64_t *dims, size_t rank)
{
    int64_t n = 1;
    for (size_t i = 0; i < rank; i++)
        n *= dims[i];
    return init(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, rank, v, (size_t)n * sizeof(float));
}

static char *init_i64(ob *b, const char *name, const int64_t *v, size_t n)
{
    const int64_t dims[1] = {(int64_t)n};
    return init(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, 1, v, n * sizeof *v);
}

static char *scalar_f32(ob *b, const char *name, float v)
{
    return init(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, NULL, 0, &v, sizeof v);
}

/* ---- layouts ---- */

/* NHWC axis -> NCHW axis for a rank-4 value. */
static int64_t nchw_axis(int32_t rank, int32_t axis)
{
    if (rank != 4)
        return axis;
    static const int64_t map[4] = {0, 2, 3, 1};
    return map[axis];
}

static char *transpose(ob *b, const char *x, const char *name, bool to_nhwc)
{
    static const int64_t to_nhwc_perm[4] = {0, 2, 3, 1}, to_nchw_perm[4] = {0, 3, 1, 2};
    char *y = fresh(b, name);
    Onnx__AttributeProto *perm = attr_ints(b, "perm", to_nhwc ? to_nhwc_perm : to_nchw_perm, 4);
    node(b, "Transpose", name, (const char *const[]){x}, 1, y, &perm, 1);
    return y;
}

/* ---- values: float reads and outputs, with QDQ around int8 tensors ---- */

static const qm_tensor *T(ob *b, int32_t id)
{
    return &b->q->t[id];
}

static void qparams(ob *b, const qm_tensor *t, char **scale, char **zp)
{
    *scale = scalar_f32(b, "scale", t->scale[0]);
    int8_t z = (int8_t)t->zero_point[0];
    *zp = init(b, "zero_point", ONNX__TENSOR_PROTO__DATA_TYPE__INT8, NULL, 0, &z, 1);
}

/* The float value of activation `id` (a DequantizeLinear of it in QDQ models). */
static const char *fval(ob *b, int32_t id)
{
    if (!b->qdq)
        return b->qname[id];
    if (b->fname[id] == NULL) {
        char *scale, *zp;
        qparams(b, T(b, id), &scale, &zp);
        b->fname[id] = fresh(b, T(b, id)->name);
        node(b, "DequantizeLinear", "dequantize", (const char *const[]){b->qname[id], scale, zp}, 3, b->fname[id],
             NULL, 0);
    }
    return b->fname[id];
}

/* Records the float value `f` as activation `id` (quantizing it in QDQ models). */
static void set_out(ob *b, int32_t id, const char *f)
{
    if (!b->qdq) {
        b->qname[id] = (char *)f;
        return;
    }
    char *scale, *zp;
    qparams(b, T(b, id), &scale, &zp);
    b->qname[id] = fresh(b, T(b, id)->name);
    node(b, "QuantizeLinear", "quantize", (const char *const[]){f, scale, zp}, 3, b->qname[id], NULL, 0);
}

/* Applies a fused activation to float value x. */
static const char *activation(ob *b, const qm_op *op, const char *x)
{
    if (op->act == SSCMA_ACT_NONE)
        return x;
    char *y = fresh(b, op->name);
    if (op->act == SSCMA_ACT_RELU) {
        node(b, "Relu", op->name, &x, 1, y, NULL, 0);
    } else {
        char *lo = scalar_f32(b, "clip_min", 0.0f), *hi = scalar_f32(b, "clip_max", 6.0f);
        node(b, "Clip", op->name, (const char *const[]){x, lo, hi}, 3, y, NULL, 0);
    }
    return y;
}

/* Weights (and bias) as float values: float initializers, or int8/int32 initializers behind DequantizeLinear. */
static const char *weight(ob *b, int32_t id, bool conv)
{
    const qm_tensor *w = T(b, id);
    int64_t dims[4];
    size_t rank = (size_t)w->rank;
    int64_t per = sscma_qm_numel(w) / w->dims[0];
    void *data = sscma_malloc(b->q->ctx, w->bytes ? w->bytes : 1);
    if (data == NULL) {
        b->oom = true;
        return "";
    }
    size_t esize = w->dtype == SSCMA_DTYPE_I8 ? 1 : 4;
    if (conv && rank == 4) {
        /* OHWI -> OIHW */
        dims[0] = w->dims[0], dims[1] = w->dims[3], dims[2] = w->dims[1], dims[3] = w->dims[2];
        int64_t hw = w->dims[1] * w->dims[2], ci = w->dims[3];
        for (int64_t o = 0; o < w->dims[0]; o++)
            for (int64_t k = 0; k < hw; k++)
                for (int64_t c = 0; c < ci; c++)
                    memcpy((char *)data + (size_t)(o * per + c * hw + k) * esize,
                           (const char *)w->data + (size_t)(o * per + k * ci + c) * esize, esize);
    } else {
        for (size_t i = 0; i < rank; i++)
            dims[i] = w->dims[i];
        memcpy(data, w->data, w->bytes);
    }
    const char *out;
    if (w->dtype == SSCMA_DTYPE_F32) {
        out = init_f32(b, w->name, data, dims, rank);
    } else {
        int32_t dt = w->dtype == SSCMA_DTYPE_I8 ? ONNX__TENSOR_PROTO__DATA_TYPE__INT8 : ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
        char *q = init(b, w->name, dt, dims, rank, data, w->bytes);
        const int64_t nq = w->n_q;
        char *scale = nq == 1 ? scalar_f32(b, "scale", w->scale[0]) : init_f32(b, "scale", w->scale, &nq, 1);
        void *zeros = sscma_calloc(b->q->ctx, (size_t)nq, esize);
        char *zp = zeros == NULL ? NULL
                   : nq == 1    ? init(b, "zero_point", dt, NULL, 0, zeros, esize)
                                : init(b, "zero_point", dt, &nq, 1, zeros, (size_t)nq * esize);
        sscma_mfree(b->q->ctx, zeros);
        if (zp == NULL) {
            b->oom = true;
            sscma_mfree(b->q->ctx, data);
            return "";
        }
        char *f = fresh(b, w->name);
        Onnx__AttributeProto *axis = attr_i(b, "axis", 0);
        node(b, "DequantizeLinear", w->name, (const char *const[]){q, scale, zp}, 3, f, &axis, nq > 1 ? 1 : 0);
        out = f;
    }
    sscma_mfree(b->q->ctx, data);
    return out;
}

static sscma_status unsupported(const qm_op *op, const char *why)
{
    return sscma_fail(SSCMA_ERR_UNSUPPORTED, "sscma_export_onnx", "layer '%s' (%s): %s", op->name,
                      sscma_qm_kind_name(op->kind), why);
}

sscma_status qm_onnx_conv(ob *b, const qm_op *op, const char *out)
{
    const char *in[3] = {fval(b, op->in[0]), weight(b, op->in[1], true), NULL};
    size_t n_in = 2;
    if (op->n_in > 2)
        in[n_in++] = weight(b, op->in[2], false);
    const int64_t kernel[2] = {op->kh, op->kw}, strides[2] = {op->stride_h, op->stride_w};
    const int64_t dil[2] = {op->dil_h, op->dil_w}, pads[4] = {op->pad_t, op->pad_l, op->pad_b, op->pad_r};
    Onnx__AttributeProto *attrs[5] = {attr_ints(b, "kernel_shape", kernel, 2), attr_ints(b, "strides", strides, 2),
                                      attr_ints(b, "dilations", dil, 2), attr_ints(b, "pads", pads, 4),
                                      attr_i(b, "group", op->groups)};
    node(b, "Conv", op->name, in, n_in, out, attrs, 5);
    set_out(b, op->out, activation(b, op, out));
    return SSCMA_OK;
}

sscma_status qm_onnx_fc(ob *b, const qm_op *op, const char *out)
{
    if (T(b, op->in[0])->rank != 2 || T(b, op->out)->rank != 2)
        return unsupported(op, "the ONNX writer takes fully connected layers on [N, in] inputs only");
    const char *in[3] = {fval(b, op->in[0]), weight(b, op->in[1], false), NULL};
    size_t n_in = 2;
    if (op->n_in > 2)
        in[n_in++] = weight(b, op->in[2], false);
    Onnx__AttributeProto *tb = attr_i(b, "transB", 1);
    node(b, "Gemm", op->name, in, n_in, out, &tb, 1);
    set_out(b, op->out, activation(b, op, out));
    return SSCMA_OK;
}

static sscma_status onnx_binary(ob *b, const qm_op *op, const char *out, const char *node_type);

sscma_status qm_onnx_add(ob *b, const qm_op *op, const char *out)
{
    return onnx_binary(b, op, out, "Add");
}

sscma_status qm_onnx_concat(ob *b, const qm_op *op, const char *out)
{
    const qm_tensor *y = T(b, op->out);
    const char *in[QM_MAX_IN];
    for (int32_t k = 0; k < op->n_in; k++)
        in[k] = fval(b, op->in[k]);
    Onnx__AttributeProto *axis = attr_i(b, "axis", nchw_axis(y->rank, op->axis));
    node(b, "Concat", op->name, in, (size_t)op->n_in, out, &axis, 1);
    set_out(b, op->out, activation(b, op, out));
    return SSCMA_OK;
}

sscma_status qm_onnx_pool(ob *b, const qm_op *op, const char *out)
{
    const qm_tensor *x = T(b, op->in[0]);
    const char *in = fval(b, op->in[0]);
    bool global = op->kh == x->dims[1] && op->kw == x->dims[2] && !op->pad_t && !op->pad_l && !op->pad_b &&
                  !op->pad_r;
    if (global) {
        node(b, op->kind == QM_AVG_POOL ? "GlobalAveragePool" : "GlobalMaxPool", op->name, &in, 1, out, NULL, 0);
    } else {
        const int64_t kernel[2] = {op->kh, op->kw}, strides[2] = {op->stride_h, op->stride_w};
        const int64_t pads[4] = {op->pad_t, op->pad_l, op->pad_b, op->pad_r};
        Onnx__AttributeProto *attrs[3] = {attr_ints(b, "kernel_shape", kernel, 2),
                                          attr_ints(b, "strides", strides, 2), attr_ints(b, "pads", pads, 4)};
        node(b, op->kind == QM_AVG_POOL ? "AveragePool" : "MaxPool", op->name, &in, 1, out, attrs, 3);
    }
    set_out(b, op->out, activation(b, op, out));
    return SSCMA_OK;
}

sscma_status qm_onnx_reshape(ob *b, const qm_op *op, const char *out)
{
    const qm_tensor *x = T(b, op->in[0]), *y = T(b, op->out);
    /* NHWC semantics: a 4-D input with spatial extent is put back in NHWC order first */
    const char *in = b->qname[op->in[0]];
    if (x->rank == 4 && (x->dims[1] > 1 || x->dims[2] > 1))
        in = transpose(b, in, op->name, true);
    int64_t shape[4];
    for (int32_t i = 0; i < y->rank; i++)
        shape[i] = y->dims[i];
    bool back = y->rank == 4 && (y->dims[1] > 1 || y->dims[2] > 1);
    if (y->rank == 4 && !back) {
        /* [1, 1, 1, C] in NHWC is [1, C, 1, 1] in NCHW */
        shape[1] = y->dims[3], shape[2] = shape[3] = 1;
    }
    char *s = init_i64(b, "shape", shape, (size_t)y->rank);
    node(b, "Reshape", op->name, (const char *const[]){in, s}, 2, out, NULL, 0);
    b->qname[op->out] = back ? transpose(b, out, op->name, false) : (char *)out;
    return SSCMA_OK;
}

sscma_status qm_onnx_softmax(ob *b, const qm_op *op, const char *out)
{
    const qm_tensor *x = T(b, op->in[0]);
    const char *in = fval(b, op->in[0]);
    Onnx__AttributeProto *axis = attr_i(b, "axis", x->rank == 4 ? 1 : x->rank - 1);
    node(b, "Softmax", op->name, &in, 1, out, &axis, 1);
    set_out(b, op->out, out);
    return SSCMA_OK;
}

sscma_status qm_onnx_logistic(ob *b, const qm_op *op, const char *out)
{
    const char *in = fval(b, op->in[0]);
    node(b, "Sigmoid", op->name, &in, 1, out, NULL, 0);
    set_out(b, op->out, out);
    return SSCMA_OK;
}

sscma_status qm_onnx_hardswish(ob *b, const qm_op *op, const char *out)
{
    /* x * HardSigmoid(x; 1/6, 1/2): HardSwish itself needs opset 14 */
    const char *in = fval(b, op->in[0]);
    char *hs = fresh(b, op->name);
    Onnx__AttributeProto *attrs[2] = {attr_f(b, "alpha", 1.0f / 6.0f), attr_f(b, "beta", 0.5f)};
    node(b, "HardSigmoid", op->name, &in, 1, hs, attrs, 2);
    node(b, "Mul", op->name, (const char *const[]){in, hs}, 2, out, NULL, 0);
    set_out(b, op->out, out);
    return SSCMA_OK;
}

/*
 * Nearest (integer factors without flags: by scales, as libsscma has always written it) and bilinear resizes; other
 * nearest ones by output sizes with the coordinate mode that is TFLite's expression (both flags: none is).
 */
sscma_status qm_onnx_resize(ob *b, const qm_op *op, const char *out)
{
    const qm_tensor *x = T(b, op->in[0]), *y = T(b, op->out);
    const char *in = fval(b, op->in[0]);
    const bool bilinear = op->kind == QM_RESIZE_BILINEAR;
    if (!bilinear && !op->align_corners && !op->half_pixel && y->dims[1] % x->dims[1] == 0 &&
        y->dims[2] % x->dims[2] == 0) {
        const float scales[4] = {1.0f, 1.0f, (float)(y->dims[1] / x->dims[1]), (float)(y->dims[2] / x->dims[2])};
        const int64_t four = 4;
        char *sc = init_f32(b, "scales", scales, &four, 1);
        Onnx__AttributeProto *attrs[3] = {attr_s(b, "mode", "nearest"),
                                          attr_s(b, "coordinate_transformation_mode", "asymmetric"),
                                          attr_s(b, "nearest_mode", "floor")};
        node(b, "Resize", op->name, (const char *const[]){in, "", sc}, 3, out, attrs, 3);
        set_out(b, op->out, out);
        return SSCMA_OK;
    }
    if (op->align_corners && op->half_pixel)
        return unsupported(op, "ONNX has no nearest resize with both align_corners and half_pixel_centers");
    const int64_t sizes[4] = {y->dims[0], y->dims[3], y->dims[1], y->dims[2]}; /* NCHW */
    char *sz = init_i64(b, "sizes", sizes, 4);
    /* nearest with half_pixel_centers: floor((x + 0.5) in / out) is half_pixel's (x + 0.5) in / out - 0.5 rounded
     * with ties up (tf_half_pixel_for_nn says the same but is deprecated since opset 13) */
    const char *mode = op->align_corners ? "align_corners" : op->half_pixel ? "half_pixel" : "asymmetric";
    const bool round_up = op->align_corners || op->half_pixel;
    Onnx__AttributeProto *attrs[3] = {attr_s(b, "mode", bilinear ? "linear" : "nearest"),
                                      attr_s(b, "coordinate_transformation_mode", mode),
                                      attr_s(b, "nearest_mode", round_up ? "round_prefer_ceil" : "floor")};
    node(b, "Resize", op->name, (const char *const[]){in, "", "", sz}, 4, out, attrs, bilinear ? 2 : 3);
    set_out(b, op->out, out);
    return SSCMA_OK;
}

sscma_status qm_onnx_pad(ob *b, const qm_op *op, const char *out)
{
    const qm_tensor *y = T(b, op->out);
    const int64_t pads[8] = {0, 0, op->pad_t, op->pad_l, 0, 0, op->pad_b, op->pad_r};
    char *p = init_i64(b, "pads", pads, 8);
    if (b->qdq) {
        /* the pad value in the output's quantization, as the int8 runtime computes it */
        long v = y->zero_point[0] + lrintf(op->pad_value / y->scale[0]);
        int8_t z = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        char *cv = init(b, "pad_value", ONNX__TENSOR_PROTO__DATA_TYPE__INT8, NULL, 0, &z, 1);
        node(b, "Pad", op->name, (const char *const[]){b->qname[op->in[0]], p, cv}, 3, out, NULL, 0);
    } else if (op->pad_value != 0.0f) {
        char *cv = scalar_f32(b, "pad_value", op->pad_value);
        node(b, "Pad", op->name, (const char *const[]){b->qname[op->in[0]], p, cv}, 3, out, NULL, 0);
    } else {
        node(b, "Pad", op->name, (const char *const[]){b->qname[op->in[0]], p}, 2, out, NULL, 0);
    }
    b->qname[op->out] = (char *)out;
    return SSCMA_OK;
}

sscma_status qm_onnx_clamp(ob *b, const qm_op *op, const char *out)
{
    const char *in = fval(b, op->in[0]);
    if (op->clip_lo == 0.0f && isinf(op->clip_hi)) {
        node(b, "Relu", op->name, &in, 1, out, NULL, 0);
    } else {
        const char *lo = scalar_f32(b, "clip_min", op->clip_lo);
        const char *hi = isinf(op->clip_hi) ? "" : scalar_f32(b, "clip_max", op->clip_hi);
        node(b, "Clip", op->name, (const char *const[]){in, lo, hi}, 3, out, NULL, 0);
    }
    set_out(b, op->out, out);
    return SSCMA_OK;
}

static sscma_status onnx_unary(ob *b, const qm_op *op, const char *out, const char *type)
{
    const char *in = fval(b, op->in[0]);
    node(b, type, op->name, &in, 1, out, NULL, 0);
    set_out(b, op->out, out);
    return SSCMA_OK;
}

sscma_status qm_onnx_tanh(ob *b, const qm_op *op, const char *out)
{
    return onnx_unary(b, op, out, "Tanh");
}

sscma_status qm_onnx_exp(ob *b, const qm_op *op, const char *out)
{
    return onnx_unary(b, op, out, "Exp");
}

sscma_status qm_onnx_leaky_relu(ob *b, const qm_op *op, const char *out)
{
    const char *in = fval(b, op->in[0]);
    Onnx__AttributeProto *attrs[1] = {attr_f(b, "alpha", op->alpha)};
    node(b, "LeakyRelu", op->name, &in, 1, out, attrs, 1);
    set_out(b, op->out, out);
    return SSCMA_OK;
}

sscma_status qm_onnx_requant(ob *b, const qm_op *op, const char *out)
{
    (void)out;
    if (T(b, op->in[0])->dtype != SSCMA_DTYPE_I8 || T(b, op->out)->dtype != SSCMA_DTYPE_I8)
        return unsupported(op, "the ONNX writer takes int8 activations only (this one converts float or uint8)"); /* the identity on floats: the output is the input, quantized with the output's parameters */
    set_out(b, op->out, fval(b, op->in[0]));
    return SSCMA_OK;
}

sscma_status qm_onnx_dequantize(ob *b, const qm_op *op, const char *out)
{
    (void)b, (void)out;
    return unsupported(op, "the ONNX writer takes int8 activations only (this one gives float)");
}

/* Transpose, slice and tile move NHWC axes; the writer does not yet map them onto its NCHW layout. */
/* Transpose: the NHWC permutation p as one on the NCHW values (rank 4), on the int8 values in QDQ models. */
sscma_status qm_onnx_transpose(ob *b, const qm_op *op, const char *out)
{
    const int32_t rank = T(b, op->in[0])->rank;
    static const int32_t nhwc_of_nchw[4] = {0, 3, 1, 2};
    int64_t perm[4];
    for (int32_t j = 0; j < rank; j++)
        perm[j] = rank == 4 ? nchw_axis(4, op->perm[nhwc_of_nchw[j]]) : op->perm[j];
    Onnx__AttributeProto *attr = attr_ints(b, "perm", perm, (size_t)rank);
    node(b, "Transpose", op->name, (const char *const[]){b->qname[op->in[0]]}, 1, out, &attr, 1);
    b->qname[op->out] = (char *)out;
    return SSCMA_OK;
}

/* Slice: starts, ends, axes (NCHW for rank 4), steps; on the int8 values in QDQ models. */
sscma_status qm_onnx_slice(ob *b, const qm_op *op, const char *out)
{
    const int32_t rank = T(b, op->in[0])->rank;
    if (op->shrink != 0)
        return unsupported(op, "the ONNX writer does not write slices that drop axes yet");
    int64_t starts[4], ends[4], axes[4], steps[4];
    for (int32_t a = 0; a < rank; a++) {
        int64_t last = op->begin[a] + (int64_t)(op->count[a] - 1) * op->step[a];
        starts[a] = op->begin[a], steps[a] = op->step[a], axes[a] = nchw_axis(rank, a);
        /* one past the last element taken; below 0 going backwards means "through index 0" */
        ends[a] = op->step[a] > 0 ? last + 1 : last - 1 >= 0 ? last - 1 : INT64_MIN;
    }
    const char *in[5] = {b->qname[op->in[0]], init_i64(b, "starts", starts, (size_t)rank),
                         init_i64(b, "ends", ends, (size_t)rank), init_i64(b, "axes", axes, (size_t)rank),
                         init_i64(b, "steps", steps, (size_t)rank)};
    node(b, "Slice", op->name, in, 5, out, NULL, 0);
    b->qname[op->out] = (char *)out;
    return SSCMA_OK;
}

/* SpaceToDepth / DepthToSpace (DCR: TensorFlow's channel order) on the NCHW values; on the int8 values in QDQ models. */
sscma_status qm_onnx_space_depth(ob *b, const qm_op *op, const char *out)
{
    Onnx__AttributeProto *attrs[2] = {attr_i(b, "blocksize", op->block_size), attr_s(b, "mode", "DCR")};
    const bool to_depth = op->kind == QM_SPACE_TO_DEPTH;
    node(b, to_depth ? "SpaceToDepth" : "DepthToSpace", op->name, (const char *const[]){b->qname[op->in[0]]}, 1, out,
         attrs, to_depth ? 1 : 2);
    b->qname[op->out] = (char *)out;
    return SSCMA_OK;
}

sscma_status qm_onnx_tile(ob *b, const qm_op *op, const char *out)
{
    (void)b, (void)out;
    return unsupported(op, "the ONNX writer does not map tile onto its NCHW layout yet");
}

/* The op's nodes through its kind's row; `out` names the value its main node writes. */
static sscma_status emit_op(ob *b, const qm_op *op)
{
    const qm_format_def *def = sscma_qm_format(op->kind);
    if (def == NULL || def->onnx_write == NULL)
        return unsupported(op, "no ONNX equivalent");
    return def->onnx_write(b, op, fresh(b, T(b, op->out)->name));
}

static Onnx__ValueInfoProto *value_info(ob *b, const char *name, int32_t elem, const int64_t *dims, int32_t rank)
{
    Onnx__ValueInfoProto *v = amem(b, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = astr(b, name);
    Onnx__TypeProto *tp = amem(b, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = amem(b, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1, tt->elem_type = elem;
    Onnx__TensorShapeProto *sh = amem(b, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->dim = amem(b, (size_t)(rank ? rank : 1) * sizeof *sh->dim);
    for (int32_t i = 0; i < rank && !b->oom; i++) {
        Onnx__TensorShapeProto__Dimension *d = amem(b, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[i];
        sh->dim[i] = d;
    }
    sh->n_dim = (size_t)rank;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    return v;
}

static Onnx__StringStringEntryProto *meta(ob *b, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = amem(b, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = astr(b, key);
    e->value = astr(b, value);
    return e;
}

sscma_status sscma_export_onnx(const sscma_qmodel *qmodel, const char *path)
{
    SSCMA_REQUIRE_NONNULL(qmodel);
    SSCMA_REQUIRE_NONNULL(path);
    const sscma_qmodel *q = qmodel;
    ob b;
    memset(&b, 0, sizeof b);
    b.q = q;
    b.qdq = q->int8;
    b.qname = sscma_calloc(q->ctx, (size_t)q->n_t, sizeof *b.qname);
    b.fname = sscma_calloc(q->ctx, (size_t)q->n_t, sizeof *b.fname);
    sscma_status st = SSCMA_OK;
    if (b.qname == NULL || b.fname == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "out of memory");
    int32_t elem = b.qdq ? ONNX__TENSOR_PROTO__DATA_TYPE__INT8 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    Onnx__ValueInfoProto *inputs[4], *outputs[8];
    for (int32_t i = 0; i < q->n_inputs && st == SSCMA_OK; i++) {
        const qm_tensor *t = T(&b, q->inputs[i]);
        int64_t dims[4];
        for (int32_t k = 0; k < t->rank; k++)
            dims[k] = t->dims[k];
        if (t->rank == 4)
            dims[1] = t->dims[3], dims[2] = t->dims[1], dims[3] = t->dims[2];
        b.qname[q->inputs[i]] = astr(&b, t->name);
        inputs[i] = value_info(&b, t->name, elem, dims, t->rank);
    }
    for (int32_t i = 0; i < q->n_ops && st == SSCMA_OK && !b.oom; i++)
        st = emit_op(&b, &q->ops[i]);
    for (int32_t i = 0; i < q->n_outputs && st == SSCMA_OK; i++) {
        const qm_tensor *t = T(&b, q->outputs[i]);
        int64_t dims[4];
        for (int32_t k = 0; k < t->rank; k++)
            dims[k] = t->dims[k];
        const char *v = b.qname[q->outputs[i]];
        if (t->rank == 4)
            v = transpose(&b, v, "output", true);
        node(&b, "Identity", "output", &v, 1, t->name, NULL, 0);
        outputs[i] = value_info(&b, t->name, elem, dims, t->rank);
    }
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (st == SSCMA_OK && !b.oom) {
        Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
        g.name = "libsscma";
        g.node = b.nodes, g.n_node = b.n_nodes;
        g.initializer = b.inits, g.n_initializer = b.n_inits;
        g.input = inputs, g.n_input = (size_t)q->n_inputs;
        g.output = outputs, g.n_output = (size_t)q->n_outputs;
        Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[1] = {&opset};
        opset.domain = "";
        opset.has_version = 1, opset.version = 13;
        Onnx__StringStringEntryProto *props[QM_MAX_META + 2];
        size_t n_props = 0;
        props[n_props++] = meta(&b, "family", q->family[0] ? q->family : "custom");
        props[n_props++] = meta(&b, "layout", "input NCHW; 4-D outputs NHWC");
        for (int32_t i = 0; i < q->n_meta; i++)
            if (strcmp(q->meta_key[i], "family") != 0 && strcmp(q->meta_key[i], "layout") != 0)
                props[n_props++] = meta(&b, q->meta_key[i], q->meta_value[i]);
        Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
        m.has_ir_version = 1, m.ir_version = 8;
        m.opset_import = opsets, m.n_opset_import = 1;
        m.producer_name = "libsscma";
        m.producer_version = (char *)sscma_version();
        m.graph = &g;
        m.metadata_props = props, m.n_metadata_props = n_props;
        if (!b.oom) {
            size = onnx__model_proto__get_packed_size(&m);
            bytes = sscma_malloc(q->ctx, size ? size : 1);
            if (bytes != NULL)
                onnx__model_proto__pack(&m, bytes);
        }
    }
    if (st == SSCMA_OK && (b.oom || bytes == NULL))
        st = SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "out of memory while building the ONNX model");
    if (st == SSCMA_OK)
        st = sscma_write_file_atomic(path, bytes, size);
    sscma_mfree(q->ctx, bytes);
    ob_free(&b);
    return st;
}

/*
 * The elementwise binary ops (k_binary.c): one node over two activations of the output's shape. Broadcasting and
 * constant operands are refused: the ONNX graph is NCHW, where an NHWC broadcast would pair the wrong elements.
 */
/*
 * A constant operand of a binary op as a float value: its dims padded with leading 1s to the output's rank (TFLite
 * broadcasts from the right), NHWC data of rank 4 transposed to NCHW; int8 constants (QDQ models) behind a
 * DequantizeLinear with their scale and zero point.
 */
static const char *binary_constant(ob *b, const qm_op *op, const qm_tensor *t, int32_t out_rank)
{
    int64_t td[4] = {1, 1, 1, 1}, dims[4], n = sscma_qm_numel(t);
    size_t esize = t->dtype == SSCMA_DTYPE_I8 ? 1 : 4;
    int32_t rank = t->rank > out_rank ? t->rank : out_rank;
    for (int32_t i = 0; i < t->rank; i++)
        td[rank - t->rank + i] = t->dims[i];
    void *data = sscma_malloc(b->q->ctx, t->bytes ? t->bytes : 1);
    if (data == NULL) {
        b->oom = true;
        return "";
    }
    if (rank == 4) {
        /* NHWC -> NCHW */
        dims[0] = td[0], dims[1] = td[3], dims[2] = td[1], dims[3] = td[2];
        for (int64_t i = 0; i < n; i++) {
            int64_t c = i % td[3], x = i / td[3] % td[2], y = i / (td[3] * td[2]) % td[1];
            int64_t nb = i / (td[1] * td[2] * td[3]);
            int64_t j = ((nb * td[3] + c) * td[1] + y) * td[2] + x;
            memcpy((char *)data + (size_t)j * esize, (const char *)t->data + (size_t)i * esize, esize);
        }
    } else {
        memcpy(dims, td, sizeof dims);
        memcpy(data, t->data, t->bytes);
    }
    const char *v;
    if (t->dtype == SSCMA_DTYPE_F32) {
        v = init_f32(b, t->name, data, dims, (size_t)rank);
    } else {
        char *q = init(b, t->name, ONNX__TENSOR_PROTO__DATA_TYPE__INT8, dims, (size_t)rank, data, t->bytes), *scale,
             *zp;
        qparams(b, t, &scale, &zp);
        char *f = fresh(b, t->name);
        node(b, "DequantizeLinear", op->name, (const char *const[]){q, scale, zp}, 3, f, NULL, 0);
        v = f;
    }
    sscma_mfree(b->q->ctx, data);
    return v;
}

static sscma_status onnx_binary(ob *b, const qm_op *op, const char *out, const char *node_type)
{
    const qm_tensor *y = T(b, op->out);
    const char *in[2];
    for (int32_t k = 0; k < op->n_in; k++) {
        const qm_tensor *t = T(b, op->in[k]);
        if (t->constant)
            in[k] = binary_constant(b, op, t, y->rank);
        else if (t->rank != y->rank)
            return unsupported(op, "activation operands of different ranks are not written to ONNX");
        else
            in[k] = fval(b, op->in[k]); /* equal ranks: TFLite's and ONNX's broadcasting agree in either layout */
    }
    node(b, node_type, op->name, in, 2, out, NULL, 0);
    set_out(b, op->out, activation(b, op, out));
    return SSCMA_OK;
}

sscma_status qm_onnx_sub(ob *b, const qm_op *op, const char *out)
{
    return onnx_binary(b, op, out, "Sub");
}

sscma_status qm_onnx_mul(ob *b, const qm_op *op, const char *out)
{
    return onnx_binary(b, op, out, "Mul");
}

sscma_status qm_onnx_maximum(ob *b, const qm_op *op, const char *out)
{
    return onnx_binary(b, op, out, "Max");
}

sscma_status qm_onnx_minimum(ob *b, const qm_op *op, const char *out)
{
    return onnx_binary(b, op, out, "Min");
}

sscma_status qm_onnx_mean(ob *b, const qm_op *op, const char *out)
{
    (void)b, (void)out;
    return unsupported(op, "MEAN is not written to ONNX yet (its NHWC axes would need mapping to NCHW)");
}
