/* Unit tests of tensor.h: creation, wrapping, shape queries, copies, layout and quantization parameters. */
#include <math.h>
#include <string.h>

#include <sscma/sscma.h>

#include "harness.h"

static sscma_context *ctx;
static sscma_tensor *const untouched = (sscma_tensor *)0x1;

static void dtype_sizes_and_names(void)
{
    size_t size = 0;
    CHECK_OK(sscma_dtype_size(SSCMA_DTYPE_F32, &size));
    CHECK_INT_EQ(size, 4);
    CHECK_OK(sscma_dtype_size(SSCMA_DTYPE_I8, &size));
    CHECK_INT_EQ(size, 1);
    CHECK_OK(sscma_dtype_size(SSCMA_DTYPE_U8, &size));
    CHECK_INT_EQ(size, 1);
    CHECK_OK(sscma_dtype_size(SSCMA_DTYPE_I32, &size));
    CHECK_INT_EQ(size, 4);
    CHECK_STR_EQ(sscma_dtype_name(SSCMA_DTYPE_F32), "f32");
    CHECK_STR_EQ(sscma_dtype_name(SSCMA_DTYPE_I8), "i8");
    CHECK_STR_EQ(sscma_dtype_name(SSCMA_DTYPE_U8), "u8");
    CHECK_STR_EQ(sscma_dtype_name(SSCMA_DTYPE_I32), "i32");
    CHECK_STR_EQ(sscma_dtype_name((sscma_dtype)0), "unknown");
    size = 77;
    CHECK_FAILS(sscma_dtype_size((sscma_dtype)0, &size), SSCMA_ERR_DTYPE, "unknown dtype 0");
    CHECK_FAILS(sscma_dtype_size((sscma_dtype)42, &size), SSCMA_ERR_DTYPE, "unknown dtype 42");
    CHECK_FAILS(sscma_dtype_size(SSCMA_DTYPE_F32, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_INT_EQ(size, 77);
    /* ABI values */
    CHECK_INT_EQ(SSCMA_DTYPE_F32, 1);
    CHECK_INT_EQ(SSCMA_DTYPE_I8, 2);
    CHECK_INT_EQ(SSCMA_DTYPE_U8, 3);
    CHECK_INT_EQ(SSCMA_DTYPE_I32, 4);
}

static void create_f32_nhwc(void)
{
    const int64_t dims[4] = {2, 7, 5, 3};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &t));
    sscma_dtype dtype = 0;
    int32_t rank = 0;
    int64_t numel = 0, dim = 0;
    size_t bytes = 0;
    void *data = NULL;
    CHECK_OK(sscma_tensor_dtype(t, &dtype));
    CHECK_INT_EQ(dtype, SSCMA_DTYPE_F32);
    CHECK_OK(sscma_tensor_rank(t, &rank));
    CHECK_INT_EQ(rank, 4);
    for (int32_t i = 0; i < 4; i++) {
        CHECK_OK(sscma_tensor_dim(t, i, &dim));
        CHECK_INT_EQ(dim, dims[i]);
        CHECK_OK(sscma_tensor_dim(t, i - 4, &dim));
        CHECK_INT_EQ(dim, dims[i]);
    }
    CHECK_OK(sscma_tensor_numel(t, &numel));
    CHECK_INT_EQ(numel, 2 * 7 * 5 * 3);
    CHECK_OK(sscma_tensor_size_bytes(t, &bytes));
    CHECK_INT_EQ(bytes, 2 * 7 * 5 * 3 * 4);
    CHECK_OK(sscma_tensor_data(t, &data));
    CHECK(data != NULL);
    CHECK_INT_EQ((uintptr_t)data % SSCMA_TENSOR_ALIGNMENT, 0);
    const float *values = data;
    int nonzero = 0;
    for (int64_t i = 0; i < numel; i++)
        nonzero += values[i] != 0.0f;
    CHECK_INT_EQ(nonzero, 0);
    sscma_layout layout = SSCMA_LAYOUT_NCHW;
    CHECK_OK(sscma_tensor_layout(t, &layout));
    CHECK_INT_EQ(layout, SSCMA_LAYOUT_NONE);
    CHECK_OK(sscma_tensor_set_layout(t, SSCMA_LAYOUT_NHWC));
    CHECK_OK(sscma_tensor_layout(t, &layout));
    CHECK_INT_EQ(layout, SSCMA_LAYOUT_NHWC);
    sscma_tensor_destroy(t);
    sscma_tensor_destroy(NULL);
}

static void create_scalar_and_empty(void)
{
    sscma_tensor *scalar = NULL, *empty = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 0, NULL, &scalar));
    int64_t numel = 0;
    CHECK_OK(sscma_tensor_numel(scalar, &numel));
    CHECK_INT_EQ(numel, 1);
    int64_t dim = 0;
    CHECK_FAILS(sscma_tensor_dim(scalar, 0, &dim), SSCMA_ERR_INVALID_ARGUMENT, "rank-0");

    const int64_t dims[3] = {4, 0, 9};
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 3, dims, &empty));
    CHECK_OK(sscma_tensor_numel(empty, &numel));
    CHECK_INT_EQ(numel, 0);
    void *data = (void *)1;
    CHECK_OK(sscma_tensor_data(empty, &data));
    CHECK(data == NULL);
    /* A zero dimension wins over dimensions that alone would overflow. */
    const int64_t huge_but_empty[3] = {INT64_MAX, 0, INT64_MAX};
    sscma_tensor *e2 = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, huge_but_empty, &e2));
    sscma_tensor_destroy(e2);
    sscma_tensor_destroy(empty);
    sscma_tensor_destroy(scalar);
}

static void create_rejects_bad_arguments(void)
{
    const int64_t dims[3] = {2, 3, 4};
    const int64_t negative[3] = {2, -3, 4};
    const int64_t overflow[2] = {INT64_MAX / 2, 3};
    const int64_t too_many_bytes[2] = {INT64_MAX / 4, 2};
    const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    sscma_tensor *t = untouched;
    CHECK_FAILS(sscma_tensor_create(NULL, SSCMA_DTYPE_F32, 3, dims, &t), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, dims, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_create(ctx, (sscma_dtype)0, 3, dims, &t), SSCMA_ERR_DTYPE, "unknown dtype 0");
    CHECK_FAILS(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, -1, dims, &t), SSCMA_ERR_INVALID_ARGUMENT, "rank is -1");
    CHECK_FAILS(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 9, nine, &t), SSCMA_ERR_INVALID_ARGUMENT, "rank is 9");
    CHECK_FAILS(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, NULL, &t), SSCMA_ERR_INVALID_ARGUMENT, "'dims'");
    CHECK_FAILS(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, negative, &t), SSCMA_ERR_INVALID_ARGUMENT,
                "sscma_tensor_create: dims[1] is -3");
    CHECK_FAILS(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, overflow, &t), SSCMA_ERR_OVERFLOW, "shape [");
    CHECK_FAILS(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, too_many_bytes, &t), SSCMA_ERR_OVERFLOW, "f32");
    CHECK(t == untouched);
}

static void wrap_views_caller_memory(void)
{
    float buffer[6] = {1, 2, 3, 4, 5, 6};
    const int64_t dims[2] = {2, 3};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 2, dims, buffer, sizeof buffer, &t));
    void *data = NULL;
    CHECK_OK(sscma_tensor_data(t, &data));
    CHECK(data == (void *)buffer);
    ((float *)data)[4] = 50.0f;
    CHECK(buffer[4] == 50.0f);
    sscma_tensor *owned = NULL;
    CHECK_OK(sscma_tensor_clone(t, &owned));
    CHECK_OK(sscma_tensor_data(owned, &data));
    CHECK(data != (void *)buffer);
    CHECK(((float *)data)[4] == 50.0f);
    ((float *)data)[0] = -1.0f;
    CHECK(buffer[0] == 1.0f); /* the clone owns a copy */
    sscma_tensor_destroy(owned);
    sscma_tensor_destroy(t); /* must not free the stack buffer (ASan would report it) */
    CHECK(buffer[5] == 6.0f);
}

static void wrap_rejects_bad_buffers(void)
{
    float buffer[8] = {0};
    const int64_t dims[2] = {2, 3};
    sscma_tensor *t = untouched;
    CHECK_FAILS(sscma_tensor_wrap(NULL, SSCMA_DTYPE_F32, 2, dims, buffer, sizeof buffer, &t),
                SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 2, dims, buffer, sizeof buffer, NULL),
                SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 2, dims, NULL, 0, &t), SSCMA_ERR_INVALID_ARGUMENT,
                "'data' is NULL");
    CHECK_FAILS(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 2, dims, buffer, 20, &t), SSCMA_ERR_INVALID_ARGUMENT,
                "holds 20 bytes; the tensor needs 24");
    CHECK_FAILS(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 2, dims, (char *)buffer + 1, 28, &t),
                SSCMA_ERR_INVALID_ARGUMENT, "not aligned");
    CHECK_FAILS(sscma_tensor_wrap(ctx, (sscma_dtype)7, 2, dims, buffer, sizeof buffer, &t), SSCMA_ERR_DTYPE,
                "sscma_tensor_wrap");
    CHECK(t == untouched);
    /* An empty shape may wrap NULL. */
    const int64_t empty[1] = {0};
    sscma_tensor *e = NULL;
    CHECK_OK(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 1, empty, NULL, 0, &e));
    sscma_tensor_destroy(e);
}

static void getters_reject_null(void)
{
    const int64_t dims[1] = {3};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I8, 1, dims, &t));
    sscma_dtype dtype = 0;
    int32_t rank = -5, axis = -5;
    int64_t value = -5, count = -5;
    size_t bytes = 5;
    void *data = untouched;
    sscma_layout layout = (sscma_layout)5;
    const float *scales = NULL;
    const int32_t *zps = NULL;
    CHECK_FAILS(sscma_tensor_dtype(NULL, &dtype), SSCMA_ERR_INVALID_ARGUMENT, "sscma_tensor_dtype: argument 'tensor'");
    CHECK_FAILS(sscma_tensor_dtype(t, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_rank(NULL, &rank), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_rank(t, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_dim(NULL, 0, &value), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_dim(t, 0, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_dim(t, 1, &value), SSCMA_ERR_INVALID_ARGUMENT, "axis 1 is outside -1..0");
    CHECK_FAILS(sscma_tensor_dim(t, -2, &value), SSCMA_ERR_INVALID_ARGUMENT, "axis -2");
    CHECK_FAILS(sscma_tensor_numel(NULL, &value), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_numel(t, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_size_bytes(NULL, &bytes), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_size_bytes(t, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_data(NULL, &data), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_data(t, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_layout(NULL, &layout), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_layout(t, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_quant(NULL, &axis, &count, &scales, &zps), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_quant(t, NULL, &count, &scales, &zps), SSCMA_ERR_INVALID_ARGUMENT, "'axis'");
    CHECK_FAILS(sscma_tensor_quant(t, &axis, NULL, &scales, &zps), SSCMA_ERR_INVALID_ARGUMENT, "'count'");
    CHECK_FAILS(sscma_tensor_quant(t, &axis, &count, NULL, &zps), SSCMA_ERR_INVALID_ARGUMENT, "'scales'");
    CHECK_FAILS(sscma_tensor_quant(t, &axis, &count, &scales, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'zero_points'");
    CHECK_FAILS(sscma_tensor_clone(NULL, &t), SSCMA_ERR_INVALID_ARGUMENT, "'src'");
    CHECK_FAILS(sscma_tensor_clone(t, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_tensor_set_layout(NULL, SSCMA_LAYOUT_NHWC), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_reshape(NULL, 1, dims), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_set_quant(NULL, 1.0f, 0), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_set_quant_per_channel(NULL, 0, 3, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    CHECK_FAILS(sscma_tensor_clear_quant(NULL), SSCMA_ERR_INVALID_ARGUMENT, "'tensor'");
    /* Nothing was written through the outputs. */
    CHECK_INT_EQ(dtype, 0);
    CHECK_INT_EQ(rank, -5);
    CHECK_INT_EQ(value, -5);
    CHECK_INT_EQ(bytes, 5);
    CHECK(data == untouched);
    CHECK_INT_EQ(layout, 5);
    CHECK_INT_EQ(axis, -5);
    CHECK_INT_EQ(count, -5);
    sscma_tensor_destroy(t);
}

static void copy_checks_dtype_and_shape(void)
{
    const int64_t a_dims[2] = {2, 3}, b_dims[2] = {3, 2};
    sscma_tensor *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 2, a_dims, &a));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 2, a_dims, &b));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 2, b_dims, &c));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, a_dims, &d));
    void *data = NULL;
    CHECK_OK(sscma_tensor_data(a, &data));
    for (int i = 0; i < 6; i++)
        ((int32_t *)data)[i] = 10 * i - 7;
    CHECK_OK(sscma_tensor_copy(a, b));
    CHECK_OK(sscma_tensor_data(b, &data));
    CHECK_INT_EQ(((int32_t *)data)[5], 43);
    CHECK_FAILS(sscma_tensor_copy(a, c), SSCMA_ERR_SHAPE, "src has shape [2, 3], dst has shape [3, 2]");
    CHECK_FAILS(sscma_tensor_copy(a, d), SSCMA_ERR_DTYPE, "src is i32, dst is f32");
    CHECK_FAILS(sscma_tensor_copy(NULL, b), SSCMA_ERR_INVALID_ARGUMENT, "'src'");
    CHECK_FAILS(sscma_tensor_copy(a, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'dst'");
    CHECK_OK(sscma_tensor_copy(a, a)); /* copying onto itself is harmless */
    sscma_tensor_destroy(a);
    sscma_tensor_destroy(b);
    sscma_tensor_destroy(c);
    sscma_tensor_destroy(d);
}

static void reshape_keeps_data(void)
{
    const int64_t dims[4] = {1, 4, 4, 3};
    const int64_t flat[2] = {1, 48};
    const int64_t wrong[2] = {5, 10};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &t));
    CHECK_OK(sscma_tensor_set_layout(t, SSCMA_LAYOUT_NHWC));
    void *before = NULL, *after = NULL;
    CHECK_OK(sscma_tensor_data(t, &before));
    CHECK_OK(sscma_tensor_reshape(t, 2, flat));
    CHECK_OK(sscma_tensor_data(t, &after));
    CHECK(before == after);
    int64_t d = 0;
    CHECK_OK(sscma_tensor_dim(t, 1, &d));
    CHECK_INT_EQ(d, 48);
    sscma_layout layout = SSCMA_LAYOUT_NHWC;
    CHECK_OK(sscma_tensor_layout(t, &layout));
    CHECK_INT_EQ(layout, SSCMA_LAYOUT_NONE); /* the tag does not survive leaving rank 4 */
    CHECK_FAILS(sscma_tensor_reshape(t, 2, wrong), SSCMA_ERR_SHAPE, "cannot reshape [1, 48] (48 elements) to [5, 10]");
    CHECK_FAILS(sscma_tensor_reshape(t, 2, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'dims'");
    CHECK_FAILS(sscma_tensor_reshape(t, 12, flat), SSCMA_ERR_INVALID_ARGUMENT, "rank is 12");
    CHECK_OK(sscma_tensor_dim(t, 0, &d));
    CHECK_INT_EQ(d, 1); /* unchanged after the failures */
    sscma_tensor_destroy(t);
}

static void layout_needs_rank_four(void)
{
    const int64_t dims[2] = {2, 2};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 2, dims, &t));
    CHECK_FAILS(sscma_tensor_set_layout(t, SSCMA_LAYOUT_NHWC), SSCMA_ERR_SHAPE, "NHWC needs a rank-4 tensor");
    CHECK_FAILS(sscma_tensor_set_layout(t, SSCMA_LAYOUT_NCHW), SSCMA_ERR_SHAPE, "NCHW");
    CHECK_FAILS(sscma_tensor_set_layout(t, (sscma_layout)7), SSCMA_ERR_INVALID_ARGUMENT, "unknown layout 7");
    CHECK_OK(sscma_tensor_set_layout(t, SSCMA_LAYOUT_NONE));
    sscma_tensor_destroy(t);
}

static void quant_per_tensor(void)
{
    const int64_t dims[4] = {1, 2, 2, 8};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I8, 4, dims, &t));
    int32_t axis = 0;
    int64_t count = -1;
    const float *scales = (const float *)1;
    const int32_t *zps = (const int32_t *)1;
    CHECK_OK(sscma_tensor_quant(t, &axis, &count, &scales, &zps));
    CHECK_INT_EQ(count, 0);
    CHECK(scales == NULL && zps == NULL);
    CHECK_OK(sscma_tensor_set_quant(t, 0.05f, -3));
    CHECK_OK(sscma_tensor_quant(t, &axis, &count, &scales, &zps));
    CHECK_INT_EQ(axis, -1);
    CHECK_INT_EQ(count, 1);
    CHECK(scales[0] == 0.05f);
    CHECK_INT_EQ(zps[0], -3);
    CHECK_OK(sscma_tensor_set_quant(t, 1.0f, -128));
    CHECK_OK(sscma_tensor_set_quant(t, 1.0f, 127));
    CHECK_FAILS(sscma_tensor_set_quant(t, 0.0f, 0), SSCMA_ERR_INVALID_ARGUMENT, "scale is 0");
    CHECK_FAILS(sscma_tensor_set_quant(t, -1.0f, 0), SSCMA_ERR_INVALID_ARGUMENT, "must be finite and > 0");
    CHECK_FAILS(sscma_tensor_set_quant(t, NAN, 0), SSCMA_ERR_INVALID_ARGUMENT, "scale is nan");
    CHECK_FAILS(sscma_tensor_set_quant(t, INFINITY, 0), SSCMA_ERR_INVALID_ARGUMENT, "scale is inf");
    CHECK_FAILS(sscma_tensor_set_quant(t, 1.0f, 128), SSCMA_ERR_INVALID_ARGUMENT, "zero point is 128; a i8 tensor");
    CHECK_FAILS(sscma_tensor_set_quant(t, 1.0f, -129), SSCMA_ERR_INVALID_ARGUMENT, "-128..127");
    CHECK_OK(sscma_tensor_quant(t, &axis, &count, &scales, &zps));
    CHECK_INT_EQ(zps[0], 127); /* failures left the last good parameters */
    CHECK_OK(sscma_tensor_clear_quant(t));
    CHECK_OK(sscma_tensor_quant(t, &axis, &count, &scales, &zps));
    CHECK_INT_EQ(count, 0);
    sscma_tensor_destroy(t);

    sscma_tensor *u = NULL, *bias = NULL, *f = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_U8, 4, dims, &u));
    CHECK_OK(sscma_tensor_set_quant(u, 0.5f, 255));
    CHECK_FAILS(sscma_tensor_set_quant(u, 0.5f, -1), SSCMA_ERR_INVALID_ARGUMENT, "0..255");
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, &dims[3], &bias));
    CHECK_OK(sscma_tensor_set_quant(bias, 1e-5f, 0));
    CHECK_FAILS(sscma_tensor_set_quant(bias, 1e-5f, 1), SSCMA_ERR_INVALID_ARGUMENT, "a i32 tensor needs 0..0");
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &f));
    CHECK_FAILS(sscma_tensor_set_quant(f, 1.0f, 0), SSCMA_ERR_DTYPE, "an f32 tensor cannot carry");
    sscma_tensor_destroy(u);
    sscma_tensor_destroy(bias);
    sscma_tensor_destroy(f);
}

static void quant_per_channel(void)
{
    /* OHWI convolution weights: 4 output channels, per-channel along axis 0. */
    const int64_t dims[4] = {4, 3, 3, 2};
    const float scales[4] = {0.5f, 0.25f, 0.125f, 1.0f};
    const int32_t zps[4] = {0, 1, -1, 0};
    sscma_tensor *w = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I8, 4, dims, &w));
    CHECK_OK(sscma_tensor_set_quant_per_channel(w, 0, 4, scales, NULL));
    int32_t axis = 0;
    int64_t count = 0;
    const float *s = NULL;
    const int32_t *z = NULL;
    CHECK_OK(sscma_tensor_quant(w, &axis, &count, &s, &z));
    CHECK_INT_EQ(axis, 0);
    CHECK_INT_EQ(count, 4);
    CHECK(s != scales && memcmp(s, scales, sizeof scales) == 0); /* copied, not referenced */
    for (int i = 0; i < 4; i++)
        CHECK_INT_EQ(z[i], 0);
    CHECK_OK(sscma_tensor_set_quant_per_channel(w, -4, 4, scales, zps));
    CHECK_OK(sscma_tensor_quant(w, &axis, &count, &s, &z));
    CHECK_INT_EQ(axis, 0); /* negative axis resolved */
    CHECK_INT_EQ(z[2], -1);

    /* A clone carries the parameters. */
    sscma_tensor *copy = NULL;
    CHECK_OK(sscma_tensor_clone(w, &copy));
    CHECK_OK(sscma_tensor_quant(copy, &axis, &count, &s, &z));
    CHECK_INT_EQ(count, 4);
    CHECK(s[1] == 0.25f);
    sscma_tensor_destroy(copy);

    const float bad_scales[4] = {0.5f, 0.25f, -0.125f, 1.0f};
    const int32_t bad_zps[4] = {0, 0, 0, 300};
    CHECK_FAILS(sscma_tensor_set_quant_per_channel(w, 0, 3, scales, NULL), SSCMA_ERR_SHAPE,
                "count is 3 but axis 0 has length 4");
    CHECK_FAILS(sscma_tensor_set_quant_per_channel(w, 4, 4, scales, NULL), SSCMA_ERR_INVALID_ARGUMENT,
                "axis 4 is outside -4..3");
    CHECK_FAILS(sscma_tensor_set_quant_per_channel(w, 0, 4, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'scales'");
    CHECK_FAILS(sscma_tensor_set_quant_per_channel(w, 0, 4, bad_scales, NULL), SSCMA_ERR_INVALID_ARGUMENT,
                "scale of channel 2 is -0.125");
    CHECK_FAILS(sscma_tensor_set_quant_per_channel(w, 0, 4, scales, bad_zps), SSCMA_ERR_INVALID_ARGUMENT,
                "zero point of channel 3 is 300");

    /* Reshape keeps per-channel parameters only while the axis stays where it is. */
    const int64_t flat_ok[2] = {4, 18};
    const int64_t flat_bad[2] = {18, 4};
    CHECK_OK(sscma_tensor_reshape(w, 2, flat_ok));
    CHECK_FAILS(sscma_tensor_reshape(w, 2, flat_bad), SSCMA_ERR_SHAPE, "quantized per channel along axis 0");

    sscma_tensor *f = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &f));
    CHECK_FAILS(sscma_tensor_set_quant_per_channel(f, 0, 4, scales, NULL), SSCMA_ERR_DTYPE, "f32");
    sscma_tensor_destroy(f);
    sscma_tensor_destroy(w);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(dtype_sizes_and_names),
        TEST_CASE(create_f32_nhwc),
        TEST_CASE(create_scalar_and_empty),
        TEST_CASE(create_rejects_bad_arguments),
        TEST_CASE(wrap_views_caller_memory),
        TEST_CASE(wrap_rejects_bad_buffers),
        TEST_CASE(getters_reject_null),
        TEST_CASE(copy_checks_dtype_and_shape),
        TEST_CASE(reshape_keeps_data),
        TEST_CASE(layout_needs_rank_four),
        TEST_CASE(quant_per_tensor),
        TEST_CASE(quant_per_channel),
    };
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99; /* meson reads 99 as a hard error */
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    return rc;
}
