/*
 * Helpers for testing ops through the op table: random buffers, one forward/backward call, the arena an op asks
 * for. Used by the gradient checks, the PyTorch golden tests and the determinism tests.
 */
#ifndef SSCMA_TEST_OPCHECK_H
#define SSCMA_TEST_OPCHECK_H

#include <stdbool.h>

#include "ops/op.h"

/* A deterministic random stream for test data. */
typedef struct test_rng {
    uint64_t state;
} test_rng;

float test_rng_uniform(test_rng *r);  /* [0, 1) */
float test_rng_normal(test_rng *r);   /* N(0, 1) */

/* One op instance with its buffers (allocated with malloc, released by op_run_free). */
typedef struct op_run {
    const sscma_op_def *def;
    const void *attrs;
    int32_t n_in, n_out;
    sscma_buf in[SSCMA_OP_MAX_INPUTS], out[SSCMA_OP_MAX_OUTPUTS];
    sscma_buf din[SSCMA_OP_MAX_INPUTS], dout[SSCMA_OP_MAX_OUTPUTS];
    sscma_op_sizes sizes;
    void *saved, *workspace;
    bool training;
    uint64_t seed;
    sscma_pool *pool;
} op_run;

/*
 * Looks the op up, runs infer on the descriptions and allocates every buffer (inputs zeroed, gradients zeroed).
 * Returns the infer status; on failure nothing is allocated.
 */
sscma_status op_run_init(op_run *run, sscma_context *ctx, const char *op, const void *attrs, int32_t n_in,
                         const sscma_desc *in);
void op_run_free(op_run *run);
sscma_status op_run_forward(op_run *run);
/* Zeroes din, then runs backward with the current dout. */
void op_run_backward(op_run *run);
/* The two halves of op_run_backward, for timing the backward alone. */
void op_run_zero_grads(op_run *run);
void op_run_backward_only(op_run *run);

/* Accessors for the context's pool (tests link the static library and see internal headers). */
sscma_pool *test_context_pool(sscma_context *ctx);

#endif /* SSCMA_TEST_OPCHECK_H */
