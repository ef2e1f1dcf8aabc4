/*
 * Building blocks shared by the kernels: BLAS GEMM split over the pool, row/column helpers.
 * Every helper splits work so that each output element is computed by exactly one task, in an order that does
 * not depend on the thread count: results are bit-identical for any number of threads.
 */
#ifndef SSCMA_LIB_OPS_KERNELS_H
#define SSCMA_LIB_OPS_KERNELS_H

#include <math.h>
#include <stdbool.h>

#include "ops/op.h"

/*
 * C[M,N] = alpha * op(A) op(B) + beta * C, row-major; op(A) is A[M,K] or, with trans_a, A[K,M] read transposed
 * (likewise B[K,N] or B[N,K]). Split over rows of C (or over columns when M is small) in blocks that depend on the
 * shapes only, so the result does not depend on the thread count.
 */
void sscma_gemm(sscma_pool *pool, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* out[j] += sum over rows i of x[i * ld + j], for j < cols; double accumulation, split over columns. */
void sscma_column_sums(sscma_pool *pool, const float *x, int64_t rows, int64_t cols, int64_t ld, float *out);

/* y[i * cols + j] += bias[j] for every row. */
void sscma_add_row_bias(sscma_pool *pool, float *y, int64_t rows, int64_t cols, const float *bias);

/* Writes softmax (or, with log_output, log_softmax) of the c values of row x into y; sums in double. */
void sscma_softmax_row(const float *x, float *y, int64_t c, bool log_output);

/* Scalar helpers of the detection losses, in double. */
static inline double sscma_sigmoid_d(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* log(1 + exp(x)) without overflow. */
static inline double sscma_softplus_d(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* BCE with logits: (1 - y) x + softplus(-x). */
static inline double sscma_bce_logits_d(double x, double y)
{
    return (1.0 - y) * x + sscma_softplus_d(-x);
}

/* d min(a, b) / da and d max(a, b) / da as PyTorch's minimum / maximum (ties split the gradient). */
static inline double sscma_dmin_a(double a, double b)
{
    return a < b ? 1.0 : a == b ? 0.5 : 0.0;
}

static inline double sscma_dmax_a(double a, double b)
{
    return a > b ? 1.0 : a == b ? 0.5 : 0.0;
}

#endif /* SSCMA_LIB_OPS_KERNELS_H */
