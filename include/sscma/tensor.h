/*
 * libsscma tensors: a dense, contiguous, row-major array with an element type, a shape of up to
 * SSCMA_TENSOR_MAX_RANK dimensions, an optional layout tag and optional int8/uint8/int32 quantization parameters.
 *
 * Activations are NHWC and convolution weights OHWI throughout libsscma (TFLite's order). A tensor either owns its
 * data (sscma_tensor_create) or views caller memory (sscma_tensor_wrap); destroying it frees only what it owns.
 * Quantization follows the TFLite spec: real = scale * (q - zero_point), per tensor or per channel along one axis.
 */
#ifndef SSCMA_TENSOR_H
#define SSCMA_TENSOR_H

#include <sscma/common.h>
#include <sscma/core.h>

SSCMA_BEGIN_DECLS

/* The largest rank a tensor may have. */
#define SSCMA_TENSOR_MAX_RANK 8

/* Byte alignment of the data of tensors created by the library (not of wrapped memory). */
#define SSCMA_TENSOR_ALIGNMENT 64

/* Element types. Values are part of the ABI and never renumbered; 0 is never a valid type. */
typedef enum sscma_dtype {
    SSCMA_DTYPE_F32 = 1, /* IEEE-754 binary32 */
    SSCMA_DTYPE_I8 = 2,  /* int8_t, quantized activations and weights */
    SSCMA_DTYPE_U8 = 3,  /* uint8_t, images and legacy quantized models */
    SSCMA_DTYPE_I32 = 4  /* int32_t, quantized biases, labels, indices */
} sscma_dtype;

/* Layout tag of a rank-4 tensor. The data order is always row-major over the shape; the tag names the axes. */
typedef enum sscma_layout {
    SSCMA_LAYOUT_NONE = 0, /* no meaning attached to the axes (default) */
    SSCMA_LAYOUT_NHWC = 1, /* batch, height, width, channels: libsscma's activations */
    SSCMA_LAYOUT_NCHW = 2  /* batch, channels, height, width: ONNX and PyTorch */
} sscma_layout;

typedef struct sscma_tensor sscma_tensor;

/*
 * Stores the size in bytes of one element of `dtype` in *out. Errors: SSCMA_ERR_INVALID_ARGUMENT for NULL out,
 * SSCMA_ERR_DTYPE for an unknown dtype.
 */
SSCMA_API sscma_status sscma_dtype_size(sscma_dtype dtype, size_t *out);

/* Returns the dtype's short name ("f32", "i8", "u8", "i32"), or "unknown". Never fails; the string is static. */
SSCMA_API const char *sscma_dtype_name(sscma_dtype dtype);

/*
 * Creates a tensor of `dtype` and shape dims[0..rank-1] whose data, zero-filled and SSCMA_TENSOR_ALIGNMENT-aligned,
 * is allocated through ctx's allocator. rank 0 makes a scalar (one element); dims may then be NULL. A dimension
 * may be 0 (an empty tensor). On success *out owns the tensor; it keeps ctx alive.
 * Errors: SSCMA_ERR_INVALID_ARGUMENT (NULL ctx/out, NULL dims with rank > 0, rank outside 0..MAX_RANK, negative
 * dimension), SSCMA_ERR_DTYPE, SSCMA_ERR_OVERFLOW (the byte size does not fit in memory), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_tensor_create(sscma_context *ctx, sscma_dtype dtype, int32_t rank,
                                           const int64_t *dims, sscma_tensor **out);

/*
 * Creates a tensor that views `data`, caller memory of `size_bytes` bytes; the caller keeps ownership and must
 * keep the memory alive until the tensor is destroyed. size_bytes must hold at least the tensor's bytes and data
 * must be aligned to the element size. Errors: those of sscma_tensor_create, plus SSCMA_ERR_INVALID_ARGUMENT for
 * NULL data with a non-empty shape, a buffer too small, or misaligned data.
 */
SSCMA_API sscma_status sscma_tensor_wrap(sscma_context *ctx, sscma_dtype dtype, int32_t rank, const int64_t *dims,
                                         void *data, size_t size_bytes, sscma_tensor **out);

/* Destroys a tensor; frees its data only if the tensor owns it. NULL is a no-op. */
SSCMA_API void sscma_tensor_destroy(sscma_tensor *tensor);

/*
 * Creates a new tensor that owns a copy of src's data, shape, dtype, layout and quantization parameters, allocated
 * from src's context. Errors: SSCMA_ERR_INVALID_ARGUMENT (NULL), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_tensor_clone(const sscma_tensor *src, sscma_tensor **out);

/*
 * Copies src's elements into dst. Both must have the same dtype and the same shape; layout and quantization
 * parameters of dst are left as they are. Errors: SSCMA_ERR_INVALID_ARGUMENT (NULL), SSCMA_ERR_DTYPE,
 * SSCMA_ERR_SHAPE (the message shows both shapes).
 */
SSCMA_API sscma_status sscma_tensor_copy(const sscma_tensor *src, sscma_tensor *dst);

/*
 * Gives the tensor a new shape with the same number of elements; the data is not moved. A per-channel quantized
 * tensor keeps its parameters only if the new shape has the same quantized axis length at the same index,
 * otherwise the call fails with SSCMA_ERR_SHAPE. Errors: as sscma_tensor_create for rank/dims, SSCMA_ERR_SHAPE
 * when the element counts differ.
 */
SSCMA_API sscma_status sscma_tensor_reshape(sscma_tensor *tensor, int32_t rank, const int64_t *dims);

/* Stores the tensor's element type in *out. Errors: NULL arguments. */
SSCMA_API sscma_status sscma_tensor_dtype(const sscma_tensor *tensor, sscma_dtype *out);

/* Stores the tensor's rank (number of dimensions, 0 for a scalar) in *out. Errors: NULL arguments. */
SSCMA_API sscma_status sscma_tensor_rank(const sscma_tensor *tensor, int32_t *out);

/*
 * Stores dimension `axis` in *out; a negative axis counts from the end (-1 is the last). Errors: NULL arguments,
 * SSCMA_ERR_INVALID_ARGUMENT for an axis outside -rank..rank-1.
 */
SSCMA_API sscma_status sscma_tensor_dim(const sscma_tensor *tensor, int32_t axis, int64_t *out);

/* Stores the number of elements (the product of the dimensions, 1 for a scalar) in *out. Errors: NULL arguments. */
SSCMA_API sscma_status sscma_tensor_numel(const sscma_tensor *tensor, int64_t *out);

/* Stores the size of the tensor's data in bytes in *out. Errors: NULL arguments. */
SSCMA_API sscma_status sscma_tensor_size_bytes(const sscma_tensor *tensor, size_t *out);

/*
 * Stores a pointer to the tensor's first element in *out (NULL for an empty tensor that wraps no memory). The
 * pointer stays valid until the tensor is destroyed; cast it to the dtype's C type. Errors: NULL arguments.
 */
SSCMA_API sscma_status sscma_tensor_data(const sscma_tensor *tensor, void **out);

/* Tags the axes of a rank-4 tensor. Errors: NULL tensor, an unknown layout, a NHWC/NCHW tag on rank != 4. */
SSCMA_API sscma_status sscma_tensor_set_layout(sscma_tensor *tensor, sscma_layout layout);

/* Stores the tensor's layout tag in *out. Errors: NULL arguments. */
SSCMA_API sscma_status sscma_tensor_layout(const sscma_tensor *tensor, sscma_layout *out);

/*
 * Sets per-tensor quantization: real = scale * (q - zero_point). Allowed on I8 (zero point -128..127), U8 (0..255)
 * and I32 (zero point 0, as TFLite's int32 biases). scale must be finite and > 0. Replaces earlier parameters.
 * Errors: SSCMA_ERR_INVALID_ARGUMENT (NULL, bad scale or zero point), SSCMA_ERR_DTYPE (an F32 tensor).
 */
SSCMA_API sscma_status sscma_tensor_set_quant(sscma_tensor *tensor, float scale, int32_t zero_point);

/*
 * Sets per-channel quantization along `axis` (negative counts from the end): channel c of that axis uses scales[c]
 * and zero_points[c]. `count` must equal the axis length. zero_points may be NULL for all zeros (TFLite requires
 * zero points of 0 for per-channel int8 weights). The arrays are copied. Errors: as sscma_tensor_set_quant, plus
 * SSCMA_ERR_INVALID_ARGUMENT for a bad axis and SSCMA_ERR_SHAPE when count differs from the axis length.
 */
SSCMA_API sscma_status sscma_tensor_set_quant_per_channel(sscma_tensor *tensor, int32_t axis, int64_t count,
                                                          const float *scales, const int32_t *zero_points);

/* Removes the tensor's quantization parameters. Errors: NULL tensor. */
SSCMA_API sscma_status sscma_tensor_clear_quant(sscma_tensor *tensor);

/*
 * Reads the quantization parameters. *count is 0 when the tensor is not quantized, 1 with *axis == -1 for
 * per-tensor parameters, and the axis length with *axis >= 0 for per-channel ones. *scales and *zero_points point
 * into the tensor and stay valid until its parameters change or it is destroyed (NULL when *count is 0). Every
 * output pointer must be non-NULL. Errors: NULL arguments.
 */
SSCMA_API sscma_status sscma_tensor_quant(const sscma_tensor *tensor, int32_t *axis, int64_t *count,
                                          const float **scales, const int32_t **zero_points);

SSCMA_END_DECLS

#endif /* SSCMA_TENSOR_H */
