/* GEMM over the pool and small shared helpers. */
#include <cblas.h>
#include <string.h>

#include "ops/kernels.h"

typedef struct gemm_job {
    bool trans_a, trans_b, split_rows;
    int64_t m, n, k;
    float alpha, beta;
    const float *a, *b;
    int64_t lda, ldb, ldc;
    float *c;
} gemm_job;

static void gemm_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const gemm_job *j = arg;
    const CBLAS_TRANSPOSE ta = j->trans_a ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE tb = j->trans_b ? CblasTrans : CblasNoTrans;
    if (j->split_rows) {
        /* rows [begin, end) of C need rows of op(A): A's rows, or A's columns when transposed */
        const float *a = j->trans_a ? j->a + begin : j->a + begin * j->lda;
        cblas_sgemm(CblasRowMajor, ta, tb, (blasint)(end - begin), (blasint)j->n, (blasint)j->k, j->alpha, a,
                    (blasint)j->lda, j->b, (blasint)j->ldb, j->beta, j->c + begin * j->ldc, (blasint)j->ldc);
    } else {
        const float *b = j->trans_b ? j->b + begin * j->ldb : j->b + begin;
        cblas_sgemm(CblasRowMajor, ta, tb, (blasint)j->m, (blasint)(end - begin), (blasint)j->k, j->alpha, j->a,
                    (blasint)j->lda, b, (blasint)j->ldb, j->beta, j->c + begin, (blasint)j->ldc);
    }
}

void sscma_gemm(sscma_pool *pool, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    gemm_job job = {trans_a, trans_b, m >= n, m, n, k, alpha, beta, a, b, lda, ldb, ldc, c};
    /* Enough work per task to pay for a wake-up: about 256k multiply-adds. */
    int64_t other = job.split_rows ? n * k : m * k;
    int64_t min_per_task = other > 0 ? (262144 + other - 1) / other : 1;
    /* Keep row blocks multiples of 16 where possible so BLAS kernels see full tiles. */
    if (min_per_task < 16)
        min_per_task = 16;
    sscma_parallel_for(pool, job.split_rows ? m : n, min_per_task, gemm_task, &job);
}

typedef struct colsum_job {
    const float *x;
    int64_t rows, ld;
    float *out;
} colsum_job;

SSCMA_KERNEL static void colsum_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const colsum_job *j = arg;
    enum { BLOCK = 64 };
    double acc[BLOCK];
    for (int64_t c0 = begin; c0 < end; c0 += BLOCK) {
        int64_t width = end - c0 < BLOCK ? end - c0 : BLOCK;
        memset(acc, 0, sizeof acc);
        for (int64_t i = 0; i < j->rows; i++) {
            const float *row = j->x + i * j->ld + c0;
            for (int64_t t = 0; t < width; t++)
                acc[t] += row[t];
        }
        for (int64_t t = 0; t < width; t++)
            j->out[c0 + t] += (float)acc[t];
    }
}

void sscma_column_sums(sscma_pool *pool, const float *x, int64_t rows, int64_t cols, int64_t ld, float *out)
{
    colsum_job job = {x, rows, ld, out};
    sscma_parallel_for(pool, cols, 8, colsum_task, &job);
}

typedef struct bias_job {
    float *y;
    int64_t cols;
    const float *bias;
} bias_job;

SSCMA_KERNEL static void bias_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const bias_job *j = arg;
    for (int64_t i = begin; i < end; i++) {
        float *row = j->y + i * j->cols;
        for (int64_t t = 0; t < j->cols; t++)
            row[t] += j->bias[t];
    }
}

void sscma_add_row_bias(sscma_pool *pool, float *y, int64_t rows, int64_t cols, const float *bias)
{
    bias_job job = {y, cols, bias};
    sscma_parallel_for(pool, rows, 1 + 16384 / (cols > 0 ? cols : 1), bias_task, &job);
}
