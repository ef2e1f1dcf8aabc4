/* Tensors: shape and dtype bookkeeping, owned or borrowed data, TFLite-style quantization parameters. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "sscma/tensor.h"

struct sscma_tensor {
    sscma_context *ctx;
    sscma_dtype dtype;
    int32_t rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    int64_t numel;
    size_t size_bytes;
    void *data;
    bool owns_data;
    sscma_layout layout;
    /* Quantization: count 0 = none; axis -1 with count 1 = per tensor; axis >= 0 = per channel. */
    int32_t quant_axis;
    int64_t quant_count;
    float *scales;
    int32_t *zero_points;
};

/* Longest text format_dims() writes: "[" + 8 x (19 digits + ", ") + "]". */
#define DIMS_TEXT_SIZE 192

static void format_dims(char *buf, size_t size, int32_t rank, const int64_t *dims)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (int32_t i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i == 0 ? "%lld" : ", %lld", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

sscma_status sscma_dtype_size(sscma_dtype dtype, size_t *out)
{
    SSCMA_REQUIRE_NONNULL(out);
    switch (dtype) {
    case SSCMA_DTYPE_F32: *out = sizeof(float); return SSCMA_OK;
    case SSCMA_DTYPE_I8: *out = sizeof(int8_t); return SSCMA_OK;
    case SSCMA_DTYPE_U8: *out = sizeof(uint8_t); return SSCMA_OK;
    case SSCMA_DTYPE_I32: *out = sizeof(int32_t); return SSCMA_OK;
    }
    return SSCMA_FAIL(SSCMA_ERR_DTYPE, "unknown dtype %d", (int)dtype);
}

const char *sscma_dtype_name(sscma_dtype dtype)
{
    switch (dtype) {
    case SSCMA_DTYPE_F32: return "f32";
    case SSCMA_DTYPE_I8: return "i8";
    case SSCMA_DTYPE_U8: return "u8";
    case SSCMA_DTYPE_I32: return "i32";
    }
    return "unknown";
}

/* Validates dtype, rank and dims for `func`; on success stores the element count and the byte size. */
static sscma_status check_shape(const char *func, sscma_dtype dtype, int32_t rank, const int64_t *dims,
                                int64_t *numel, size_t *size_bytes)
{
    size_t elem_size = 0;
    if (sscma_dtype_size(dtype, &elem_size) != SSCMA_OK)
        return sscma_fail(SSCMA_ERR_DTYPE, func, "unknown dtype %d", (int)dtype);
    if (rank < 0 || rank > SSCMA_TENSOR_MAX_RANK)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, func, "rank is %d; expected 0 to %d", (int)rank,
                          SSCMA_TENSOR_MAX_RANK);
    if (rank > 0 && dims == NULL)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, func, "argument 'dims' is NULL with rank %d", (int)rank);
    int64_t count = 1;
    bool overflow = false;
    for (int32_t i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, func, "dims[%d] is %lld; dimensions must be >= 0",
                              (int)i, (long long)dims[i]);
        if (dims[i] != 0 && count > INT64_MAX / dims[i])
            overflow = true;
        else
            count *= dims[i];
    }
    /* A zero dimension makes an empty tensor even when the other dimensions alone would overflow. */
    for (int32_t i = 0; i < rank; i++)
        if (dims[i] == 0)
            overflow = false, count = 0;
    if (overflow || (uint64_t)count > (uint64_t)PTRDIFF_MAX / elem_size) {
        char text[DIMS_TEXT_SIZE];
        format_dims(text, sizeof text, rank, dims);
        return sscma_fail(SSCMA_ERR_OVERFLOW, func, "shape %s of %s elements needs more bytes than memory can hold",
                          text, sscma_dtype_name(dtype));
    }
    *numel = count;
    *size_bytes = (size_t)count * elem_size;
    return SSCMA_OK;
}

static sscma_status new_tensor(const char *func, sscma_context *ctx, sscma_dtype dtype, int32_t rank,
                               const int64_t *dims, sscma_tensor **out)
{
    int64_t numel = 0;
    size_t size_bytes = 0;
    sscma_status st = check_shape(func, dtype, rank, dims, &numel, &size_bytes);
    if (st != SSCMA_OK)
        return st;
    sscma_tensor *t = sscma_alloc_zeroed(ctx, sizeof *t, _Alignof(sscma_tensor));
    if (t == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, func, "cannot allocate a tensor handle");
    t->ctx = ctx;
    sscma_context_retain(ctx);
    t->dtype = dtype;
    t->rank = rank;
    if (rank > 0)
        memcpy(t->dims, dims, (size_t)rank * sizeof dims[0]);
    t->numel = numel;
    t->size_bytes = size_bytes;
    t->layout = SSCMA_LAYOUT_NONE;
    t->quant_axis = -1;
    *out = t;
    return SSCMA_OK;
}

sscma_status sscma_tensor_create(sscma_context *ctx, sscma_dtype dtype, int32_t rank, const int64_t *dims,
                                 sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(out);
    sscma_tensor *t = NULL;
    sscma_status st = new_tensor(__func__, ctx, dtype, rank, dims, &t);
    if (st != SSCMA_OK)
        return st;
    if (t->size_bytes > 0) {
        t->data = sscma_alloc_zeroed(ctx, t->size_bytes, SSCMA_TENSOR_ALIGNMENT);
        if (t->data == NULL) {
            char text[DIMS_TEXT_SIZE];
            format_dims(text, sizeof text, rank, dims);
            size_t size_bytes = t->size_bytes;
            sscma_tensor_destroy(t);
            return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for a %s tensor of shape %s",
                              size_bytes, sscma_dtype_name(dtype), text);
        }
        t->owns_data = true;
    }
    *out = t;
    return SSCMA_OK;
}

sscma_status sscma_tensor_wrap(sscma_context *ctx, sscma_dtype dtype, int32_t rank, const int64_t *dims,
                               void *data, size_t size_bytes, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(out);
    sscma_tensor *t = NULL;
    sscma_status st = new_tensor(__func__, ctx, dtype, rank, dims, &t);
    if (st != SSCMA_OK)
        return st;
    size_t elem_size = 0;
    sscma_dtype_size(dtype, &elem_size);
    if (t->size_bytes > 0 && data == NULL)
        st = SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "argument 'data' is NULL for a tensor of %zu bytes",
                        t->size_bytes);
    else if (size_bytes < t->size_bytes)
        st = SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "the buffer holds %zu bytes; the tensor needs %zu", size_bytes,
                        t->size_bytes);
    else if (data != NULL && (uintptr_t)data % elem_size != 0)
        st = SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "data %p is not aligned to %zu bytes for %s elements", data,
                        elem_size, sscma_dtype_name(dtype));
    if (st != SSCMA_OK) {
        sscma_tensor_destroy(t);
        return st;
    }
    t->data = t->size_bytes > 0 ? data : NULL;
    t->owns_data = false;
    *out = t;
    return SSCMA_OK;
}

static void free_quant(sscma_tensor *t)
{
    sscma_free(t->ctx, t->scales, (size_t)t->quant_count * sizeof *t->scales);
    sscma_free(t->ctx, t->zero_points, (size_t)t->quant_count * sizeof *t->zero_points);
    t->scales = NULL;
    t->zero_points = NULL;
    t->quant_count = 0;
    t->quant_axis = -1;
}

void sscma_tensor_destroy(sscma_tensor *tensor)
{
    if (tensor == NULL)
        return;
    sscma_context *ctx = tensor->ctx;
    free_quant(tensor);
    if (tensor->owns_data)
        sscma_free(ctx, tensor->data, tensor->size_bytes);
    sscma_free(ctx, tensor, sizeof *tensor);
    sscma_context_release(ctx);
}

/* Replaces t's quantization parameters with copies of the arrays (zero_points NULL = zeros). */
static sscma_status store_quant(const char *func, sscma_tensor *t, int32_t axis, int64_t count, const float *scales,
                                const int32_t *zero_points)
{
    float *s = sscma_alloc(t->ctx, (size_t)count * sizeof *s, _Alignof(float));
    int32_t *z = sscma_alloc_zeroed(t->ctx, (size_t)count * sizeof *z, _Alignof(int32_t));
    if (s == NULL || z == NULL) {
        sscma_free(t->ctx, s, (size_t)count * sizeof *s);
        sscma_free(t->ctx, z, (size_t)count * sizeof *z);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, func, "cannot allocate %lld quantization parameters",
                          (long long)count);
    }
    memcpy(s, scales, (size_t)count * sizeof *s);
    if (zero_points != NULL)
        memcpy(z, zero_points, (size_t)count * sizeof *z);
    free_quant(t);
    t->quant_axis = axis;
    t->quant_count = count;
    t->scales = s;
    t->zero_points = z;
    return SSCMA_OK;
}

sscma_status sscma_tensor_clone(const sscma_tensor *src, sscma_tensor **out)
{
    SSCMA_REQUIRE_NONNULL(src);
    SSCMA_REQUIRE_NONNULL(out);
    sscma_tensor *t = NULL;
    sscma_status st = sscma_tensor_create(src->ctx, src->dtype, src->rank, src->dims, &t);
    if (st != SSCMA_OK)
        return st;
    if (src->size_bytes > 0)
        memcpy(t->data, src->data, src->size_bytes);
    t->layout = src->layout;
    if (src->quant_count > 0) {
        st = store_quant(__func__, t, src->quant_axis, src->quant_count, src->scales, src->zero_points);
        if (st != SSCMA_OK) {
            sscma_tensor_destroy(t);
            return st;
        }
    }
    *out = t;
    return SSCMA_OK;
}

static bool same_shape(const sscma_tensor *a, const sscma_tensor *b)
{
    if (a->rank != b->rank)
        return false;
    for (int32_t i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

sscma_status sscma_tensor_copy(const sscma_tensor *src, sscma_tensor *dst)
{
    SSCMA_REQUIRE_NONNULL(src);
    SSCMA_REQUIRE_NONNULL(dst);
    if (src->dtype != dst->dtype)
        return SSCMA_FAIL(SSCMA_ERR_DTYPE, "src is %s, dst is %s", sscma_dtype_name(src->dtype),
                          sscma_dtype_name(dst->dtype));
    if (!same_shape(src, dst)) {
        char a[DIMS_TEXT_SIZE], b[DIMS_TEXT_SIZE];
        format_dims(a, sizeof a, src->rank, src->dims);
        format_dims(b, sizeof b, dst->rank, dst->dims);
        return SSCMA_FAIL(SSCMA_ERR_SHAPE, "src has shape %s, dst has shape %s", a, b);
    }
    if (src->size_bytes > 0 && src->data != dst->data)
        memmove(dst->data, src->data, src->size_bytes);
    return SSCMA_OK;
}

sscma_status sscma_tensor_reshape(sscma_tensor *tensor, int32_t rank, const int64_t *dims)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    int64_t numel = 0;
    size_t size_bytes = 0;
    sscma_status st = check_shape(__func__, tensor->dtype, rank, dims, &numel, &size_bytes);
    if (st != SSCMA_OK)
        return st;
    char from[DIMS_TEXT_SIZE], to[DIMS_TEXT_SIZE];
    format_dims(from, sizeof from, tensor->rank, tensor->dims);
    format_dims(to, sizeof to, rank, dims);
    if (numel != tensor->numel)
        return SSCMA_FAIL(SSCMA_ERR_SHAPE, "cannot reshape %s (%lld elements) to %s (%lld elements)", from,
                          (long long)tensor->numel, to, (long long)numel);
    if (tensor->quant_count > 0 && tensor->quant_axis >= 0 &&
        (tensor->quant_axis >= rank || dims[tensor->quant_axis] != tensor->quant_count))
        return SSCMA_FAIL(SSCMA_ERR_SHAPE,
                          "cannot reshape %s to %s: the tensor is quantized per channel along axis %d of length %lld",
                          from, to, (int)tensor->quant_axis, (long long)tensor->quant_count);
    tensor->rank = rank;
    memset(tensor->dims, 0, sizeof tensor->dims);
    if (rank > 0)
        memcpy(tensor->dims, dims, (size_t)rank * sizeof dims[0]);
    if (rank != 4)
        tensor->layout = SSCMA_LAYOUT_NONE;
    return SSCMA_OK;
}

sscma_status sscma_tensor_dtype(const sscma_tensor *tensor, sscma_dtype *out)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(out);
    *out = tensor->dtype;
    return SSCMA_OK;
}

sscma_status sscma_tensor_rank(const sscma_tensor *tensor, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(out);
    *out = tensor->rank;
    return SSCMA_OK;
}

/* Resolves a possibly negative axis of a rank-`rank` tensor into 0..rank-1, or fails naming `func`. */
static sscma_status resolve_axis(const char *func, int32_t rank, int32_t axis, int32_t *out)
{
    int32_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, func, "axis %d is outside %d..%d for a rank-%d tensor",
                          (int)axis, (int)-rank, (int)rank - 1, (int)rank);
    *out = a;
    return SSCMA_OK;
}

sscma_status sscma_tensor_dim(const sscma_tensor *tensor, int32_t axis, int64_t *out)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(out);
    int32_t a = 0;
    sscma_status st = resolve_axis(__func__, tensor->rank, axis, &a);
    if (st != SSCMA_OK)
        return st;
    *out = tensor->dims[a];
    return SSCMA_OK;
}

sscma_status sscma_tensor_numel(const sscma_tensor *tensor, int64_t *out)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(out);
    *out = tensor->numel;
    return SSCMA_OK;
}

sscma_status sscma_tensor_size_bytes(const sscma_tensor *tensor, size_t *out)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(out);
    *out = tensor->size_bytes;
    return SSCMA_OK;
}

sscma_status sscma_tensor_data(const sscma_tensor *tensor, void **out)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(out);
    *out = tensor->data;
    return SSCMA_OK;
}

sscma_status sscma_tensor_set_layout(sscma_tensor *tensor, sscma_layout layout)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    switch (layout) {
    case SSCMA_LAYOUT_NONE: break;
    case SSCMA_LAYOUT_NHWC:
    case SSCMA_LAYOUT_NCHW:
        if (tensor->rank != 4)
            return SSCMA_FAIL(SSCMA_ERR_SHAPE, "layout %s needs a rank-4 tensor; this one has rank %d",
                              layout == SSCMA_LAYOUT_NHWC ? "NHWC" : "NCHW", (int)tensor->rank);
        break;
    default: return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "unknown layout %d", (int)layout);
    }
    tensor->layout = layout;
    return SSCMA_OK;
}

sscma_status sscma_tensor_layout(const sscma_tensor *tensor, sscma_layout *out)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(out);
    *out = tensor->layout;
    return SSCMA_OK;
}

/* Checks one (scale, zero point) pair against the tensor's dtype; `index` < 0 means per tensor. */
static sscma_status check_quant_pair(const char *func, const sscma_tensor *t, int64_t index, float scale,
                                     int32_t zero_point)
{
    char where[48] = "";
    if (index >= 0)
        snprintf(where, sizeof where, " of channel %lld", (long long)index);
    if (!isfinite(scale) || !(scale > 0.0f))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, func, "scale%s is %g; it must be finite and > 0", where,
                          (double)scale);
    int32_t lo = 0, hi = 0;
    switch (t->dtype) {
    case SSCMA_DTYPE_I8: lo = INT8_MIN, hi = INT8_MAX; break;
    case SSCMA_DTYPE_U8: lo = 0, hi = UINT8_MAX; break;
    case SSCMA_DTYPE_I32: lo = 0, hi = 0; break;
    case SSCMA_DTYPE_F32: /* rejected by check_quant_dtype */ break;
    }
    if (zero_point < lo || zero_point > hi)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, func, "zero point%s is %d; a %s tensor needs %d..%d", where,
                          (int)zero_point, sscma_dtype_name(t->dtype), (int)lo, (int)hi);
    return SSCMA_OK;
}

static sscma_status check_quant_dtype(const char *func, const sscma_tensor *t)
{
    if (t->dtype == SSCMA_DTYPE_F32)
        return sscma_fail(SSCMA_ERR_DTYPE, func, "an f32 tensor cannot carry quantization parameters "
                                                 "(only i8, u8 and i32 can)");
    return SSCMA_OK;
}

sscma_status sscma_tensor_set_quant(sscma_tensor *tensor, float scale, int32_t zero_point)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    sscma_status st = check_quant_dtype(__func__, tensor);
    if (st == SSCMA_OK)
        st = check_quant_pair(__func__, tensor, -1, scale, zero_point);
    if (st == SSCMA_OK)
        st = store_quant(__func__, tensor, -1, 1, &scale, &zero_point);
    return st;
}

sscma_status sscma_tensor_set_quant_per_channel(sscma_tensor *tensor, int32_t axis, int64_t count,
                                                const float *scales, const int32_t *zero_points)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(scales);
    sscma_status st = check_quant_dtype(__func__, tensor);
    if (st != SSCMA_OK)
        return st;
    int32_t a = 0;
    st = resolve_axis(__func__, tensor->rank, axis, &a);
    if (st != SSCMA_OK)
        return st;
    if (count != tensor->dims[a])
        return SSCMA_FAIL(SSCMA_ERR_SHAPE, "count is %lld but axis %d has length %lld", (long long)count, (int)a,
                          (long long)tensor->dims[a]);
    if (count == 0)
        return SSCMA_FAIL(SSCMA_ERR_SHAPE, "axis %d has length 0: there is no channel to quantize", (int)a);
    for (int64_t c = 0; c < count; c++) {
        st = check_quant_pair(__func__, tensor, c, scales[c], zero_points != NULL ? zero_points[c] : 0);
        if (st != SSCMA_OK)
            return st;
    }
    return store_quant(__func__, tensor, a, count, scales, zero_points);
}

sscma_status sscma_tensor_clear_quant(sscma_tensor *tensor)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    free_quant(tensor);
    return SSCMA_OK;
}

sscma_status sscma_tensor_quant(const sscma_tensor *tensor, int32_t *axis, int64_t *count, const float **scales,
                                const int32_t **zero_points)
{
    SSCMA_REQUIRE_NONNULL(tensor);
    SSCMA_REQUIRE_NONNULL(axis);
    SSCMA_REQUIRE_NONNULL(count);
    SSCMA_REQUIRE_NONNULL(scales);
    SSCMA_REQUIRE_NONNULL(zero_points);
    *axis = tensor->quant_axis;
    *count = tensor->quant_count;
    *scales = tensor->scales;
    *zero_points = tensor->zero_points;
    return SSCMA_OK;
}
