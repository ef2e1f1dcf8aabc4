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
    int64_t block; /* rows (or columns) of C per sgemm call */
} gemm_job;

/* Blocks [begin, end) of C, each one sgemm call whose arguments depend only on the shapes. */
static void gemm_task(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    (void)worker;
    const gemm_job *j = arg;
    const CBLAS_TRANSPOSE ta = j->trans_a ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE tb = j->trans_b ? CblasTrans : CblasNoTrans;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t lo = blk * j->block, span = j->split_rows ? j->m : j->n;
        int64_t hi = lo + j->block < span ? lo + j->block : span;
        if (j->split_rows) {
            /* rows [lo, hi) of C need rows of op(A): A's rows, or A's columns when transposed */
            const float *a = j->trans_a ? j->a + lo : j->a + lo * j->lda;
            cblas_sgemm(CblasRowMajor, ta, tb, (blasint)(hi - lo), (blasint)j->n, (blasint)j->k, j->alpha, a,
                        (blasint)j->lda, j->b, (blasint)j->ldb, j->beta, j->c + lo * j->ldc, (blasint)j->ldc);
        } else {
            const float *b = j->trans_b ? j->b + lo * j->ldb : j->b + lo;
            cblas_sgemm(CblasRowMajor, ta, tb, (blasint)j->m, (blasint)(hi - lo), (blasint)j->k, j->alpha, j->a,
                        (blasint)j->lda, b, (blasint)j->ldb, j->beta, j->c + lo, (blasint)j->ldc);
        }
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
    gemm_job job = {trans_a, trans_b, m >= n, m, n, k, alpha, beta, a, b, lda, ldb, ldc, c, 0};
    /*
     * C is cut into blocks whose size depends only on the shapes (never on the thread count): OpenBLAS picks
     * different kernels for different sizes, so a thread-dependent split would change the rounding. Up to 16 blocks,
     * multiples of 16, each at least ~64k multiply-adds; the pool hands the blocks to its threads.
     */
    int64_t span = job.split_rows ? m : n, other = job.split_rows ? n * k : m * k;
    int64_t block = (span + 15) / 16;
    int64_t min_block = other > 0 ? (65536 + other - 1) / other : span;
    block = block > min_block ? block : min_block;
    block = (block + 15) / 16 * 16;
    job.block = block < span ? block : span;
    sscma_parallel_for(pool, (span + job.block - 1) / job.block, 1, gemm_task, &job);
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
