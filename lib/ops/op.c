/* The op table and the shape-description helpers every op's infer() uses. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"

/* The registry, indexed by id; a missing last row fails to compile, a missing middle row fails test_ops. */
static const sscma_op_def *const all_ops[] = {
    [SSCMA_OP_CONV2D] = &sscma_op_conv2d,
    [SSCMA_OP_CONV2D_BN_ACT] = &sscma_op_conv2d_bn_act,
    [SSCMA_OP_BATCH_NORM] = &sscma_op_batch_norm,
    [SSCMA_OP_BATCH_NORM_ACT] = &sscma_op_batch_norm_act,
    [SSCMA_OP_RELU] = &sscma_op_relu,
    [SSCMA_OP_RELU6] = &sscma_op_relu6,
    [SSCMA_OP_LEAKY_RELU] = &sscma_op_leaky_relu,
    [SSCMA_OP_SIGMOID] = &sscma_op_sigmoid,
    [SSCMA_OP_SILU] = &sscma_op_silu,
    [SSCMA_OP_HARDSWISH] = &sscma_op_hardswish,
    [SSCMA_OP_HARDSIGMOID] = &sscma_op_hardsigmoid,
    [SSCMA_OP_TANH] = &sscma_op_tanh,
    [SSCMA_OP_MAX_POOL] = &sscma_op_max_pool,
    [SSCMA_OP_AVG_POOL] = &sscma_op_avg_pool,
    [SSCMA_OP_GLOBAL_AVG_POOL] = &sscma_op_global_avg_pool,
    [SSCMA_OP_GLOBAL_MAX_POOL] = &sscma_op_global_max_pool,
    [SSCMA_OP_LINEAR] = &sscma_op_linear,
    [SSCMA_OP_ADD] = &sscma_op_add,
    [SSCMA_OP_MUL] = &sscma_op_mul,
    [SSCMA_OP_RESHAPE] = &sscma_op_reshape,
    [SSCMA_OP_CONCAT] = &sscma_op_concat,
    [SSCMA_OP_SPLIT] = &sscma_op_split,
    [SSCMA_OP_SLICE] = &sscma_op_slice,
    [SSCMA_OP_PAD] = &sscma_op_pad,
    [SSCMA_OP_UPSAMPLE_NEAREST] = &sscma_op_upsample_nearest,
    [SSCMA_OP_DROPOUT] = &sscma_op_dropout,
    [SSCMA_OP_SOFTMAX] = &sscma_op_softmax,
    [SSCMA_OP_LOG_SOFTMAX] = &sscma_op_log_softmax,
    [SSCMA_OP_FAKE_QUANT_ACT] = &sscma_op_fake_quant_act,
    [SSCMA_OP_FAKE_QUANT_WEIGHT] = &sscma_op_fake_quant_weight,
    [SSCMA_OP_CROSS_ENTROPY] = &sscma_op_cross_entropy,
    [SSCMA_OP_BCE_WITH_LOGITS] = &sscma_op_bce_with_logits,
    [SSCMA_OP_MSE_LOSS] = &sscma_op_mse_loss,
    [SSCMA_OP_L1_LOSS] = &sscma_op_l1_loss,
    [SSCMA_OP_SMOOTH_L1_LOSS] = &sscma_op_smooth_l1_loss,
    [SSCMA_OP_YOLO_DECODE] = &sscma_op_yolo_decode,
    [SSCMA_OP_YOLOV5_LOSS] = &sscma_op_yolov5_loss,
    [SSCMA_OP_RTMDET_DECODE] = &sscma_op_rtmdet_decode,
    [SSCMA_OP_RTMDET_LOSS] = &sscma_op_rtmdet_loss,
    [SSCMA_OP_KL_DIV] = &sscma_op_kl_div,
    [SSCMA_OP_SPACE_TO_DEPTH] = &sscma_op_space_to_depth,
    [SSCMA_OP_DEPTH_TO_SPACE] = &sscma_op_depth_to_space,
    [SSCMA_OP_TRANSPOSE] = &sscma_op_transpose,
    [SSCMA_OP_REPARAMETERIZE] = &sscma_op_reparameterize,
    [SSCMA_OP_GAUSSIAN_KL] = &sscma_op_gaussian_kl,
};
_Static_assert(sizeof all_ops / sizeof all_ops[0] == SSCMA_OP_COUNT, "every sscma_op_id needs its row in all_ops");

const sscma_op_def *sscma_op_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++)
        if (strcmp(all_ops[i]->name, name) == 0)
            return all_ops[i];
    return NULL;
}

const sscma_op_def *sscma_op_get(sscma_op_id id)
{
    return all_ops[id];
}

const sscma_op_def *const *sscma_op_all(size_t *count)
{
    *count = sizeof all_ops / sizeof all_ops[0];
    return all_ops;
}

/* Fails unless d is a valid description whose byte size fits in PTRDIFF_MAX. */
static sscma_status check_desc(const char *op, const char *what, int32_t index, const sscma_desc *d)
{
    if (d->dtype != SSCMA_DTYPE_F32 && d->dtype != SSCMA_DTYPE_I32 && d->dtype != SSCMA_DTYPE_I8 &&
        d->dtype != SSCMA_DTYPE_U8)
        return sscma_fail(SSCMA_ERR_DTYPE, op, "%s %d has unknown dtype %d", what, (int)index, (int)d->dtype);
    if (d->rank < 0 || d->rank > SSCMA_TENSOR_MAX_RANK)
        return sscma_fail(SSCMA_ERR_SHAPE, op, "%s %d has rank %d; expected 0..%d", what, (int)index, (int)d->rank,
                          SSCMA_TENSOR_MAX_RANK);
    int64_t n = 1;
    for (int32_t i = 0; i < d->rank; i++) {
        if (d->dims[i] < 0)
            return sscma_fail(SSCMA_ERR_SHAPE, op, "%s %d: dimension %d is %lld", what, (int)index, (int)i,
                              (long long)d->dims[i]);
        if (d->dims[i] == 0)
            return SSCMA_OK; /* empty: no overflow possible */
        if (n > PTRDIFF_MAX / 4 / d->dims[i]) {
            char text[200];
            sscma_desc_format(d, text, sizeof text);
            return sscma_fail(SSCMA_ERR_OVERFLOW, op, "%s %d %s is too large for memory", what, (int)index, text);
        }
        n *= d->dims[i];
    }
    return SSCMA_OK;
}

sscma_status sscma_op_infer(const sscma_op_def *def, const void *attrs, const sscma_desc *in, int32_t n_in,
                            sscma_desc *out, int32_t *n_out, sscma_op_sizes *sizes)
{
    if (def == NULL)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "op", "no op definition");
    if ((in == NULL && n_in > 0) || out == NULL || n_out == NULL || sizes == NULL)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, def->name, "NULL input or output descriptions");
    if (attrs == NULL && def->attrs_size > 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, def->name, "needs attributes; got NULL");
    if (n_in < def->min_inputs || n_in > def->max_inputs)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, def->name, "takes %d to %d inputs, got %d",
                          (int)def->min_inputs, (int)def->max_inputs, (int)n_in);
    sscma_status st;
    for (int32_t i = 0; i < n_in; i++)
        if ((st = check_desc(def->name, "input", i, &in[i])) != SSCMA_OK)
            return st;
    memset(sizes, 0, sizeof *sizes);
    *n_out = 0;
    if ((st = def->infer(attrs, in, n_in, out, n_out, sizes)) != SSCMA_OK)
        return st;
    for (int32_t i = 0; i < *n_out; i++)
        if ((st = check_desc(def->name, "output", i, &out[i])) != SSCMA_OK)
            return st;
    return SSCMA_OK;
}

int64_t sscma_desc_numel(const sscma_desc *d)
{
    int64_t n = 1;
    for (int32_t i = 0; i < d->rank; i++)
        n *= d->dims[i];
    return n;
}

void sscma_desc_format(const sscma_desc *d, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "%s[", sscma_dtype_name(d->dtype));
    for (int32_t i = 0; i < d->rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i == 0 ? "%lld" : ", %lld", (long long)d->dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

sscma_desc sscma_desc_make(sscma_dtype dtype, int32_t rank, const int64_t *dims)
{
    sscma_desc d;
    memset(&d, 0, sizeof d);
    d.dtype = dtype;
    d.rank = rank;
    for (int32_t i = 0; i < rank; i++)
        d.dims[i] = dims[i];
    return d;
}

bool sscma_desc_equal(const sscma_desc *a, const sscma_desc *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank)
        return false;
    for (int32_t i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

sscma_status sscma_desc_require(const char *op, const char *what, const sscma_desc *d, sscma_dtype dtype,
                                int32_t rank)
{
    char text[200];
    if (d->dtype != dtype) {
        sscma_desc_format(d, text, sizeof text);
        return sscma_fail(SSCMA_ERR_DTYPE, op, "%s is %s; expected %s", what, text, sscma_dtype_name(dtype));
    }
    if (rank >= 0 && d->rank != rank) {
        sscma_desc_format(d, text, sizeof text);
        return sscma_fail(SSCMA_ERR_SHAPE, op, "%s is %s; expected rank %d", what, text, (int)rank);
    }
    for (int32_t i = 0; i < d->rank; i++)
        if (d->dims[i] < 0) {
            sscma_desc_format(d, text, sizeof text);
            return sscma_fail(SSCMA_ERR_SHAPE, op, "%s is %s: negative dimension", what, text);
        }
    return SSCMA_OK;
}

/* ---- attributes from JSON ---- */

sscma_status sscma_op_parse_attrs(const sscma_op_def *def, const char *json_text, void *out)
{
    if (def->attrs_size > 0)
        memset(out, 0, def->attrs_size);
    sscma_schema_defaults(def->attr_fields, out);
    if (json_text == NULL || json_text[0] == '\0')
        return SSCMA_OK;
    json_error_t err;
    json_t *obj = json_loads(json_text, JSON_DECODE_ANY, &err);
    if (obj == NULL)
        return sscma_fail(SSCMA_ERR_CONFIG, def->name, "attributes: line %d, column %d: %s", err.line, err.column,
                          err.text);
    static const sscma_field none[] = {SSCMA_FIELD_END};
    sscma_status st = sscma_schema_read(def->attr_fields != NULL ? def->attr_fields : none, obj, def->name, "", out);
    json_decref(obj);
    return st;
}
