/*
 * What a deployable kind's functions share, so that a kind (or a family of them) can live in a file of its own
 * beside its rows in qm_kinds.c and export/kinds.c (docs/architecture.md, "Adding an operator"): the checks and
 * messages of validation (qmodel.c), the int8 preparation helpers and the parallel runner of the int8 kernels
 * (int8.c). Internal to lib/quant.
 */
#ifndef SSCMA_LIB_QUANT_QM_KERNEL_H
#define SSCMA_LIB_QUANT_QM_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"
#include "quant/qmodel.h"

static inline int32_t qm_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Element i of an int8 or uint8 buffer. */
static inline int32_t qm_load_q(const void *data, bool u8, int64_t i)
{
    return u8 ? (int32_t)((const uint8_t *)data)[i] : (int32_t)((const int8_t *)data)[i];
}

/* ---- validation (qmodel.c) ---- */

/* SSCMA_ERR_FORMAT naming the op and its kind: "<op>: <kind>: <fmt><detail>". */
sscma_status qm_op_fail(const qm_op *op, const char *fmt, const char *detail);
/* Whether t has exactly this shape. */
bool qm_shape_is(const qm_tensor *t, int32_t rank, const int64_t *dims);
/* int8 or uint8, one scale and zero point within the type. */
bool qm_quantized_per_tensor(const qm_tensor *t);
/* The float runtime of an elementwise kind: y = f(x). */
sscma_status qm_f32_map(const qm_exec *ex, const qm_op *op, float (*f)(float));

/* ---- int8 preparation and kernels (int8.c) ---- */

/* SSCMA_ERR_FORMAT "<op>: <kind> (int8): <what>" unless ok. */
sscma_status qm_need(const qm_op *op, bool ok, const char *what);
bool qm_per_tensor_i8(const qm_tensor *t);
/* The same scale and zero point. */
bool qm_same_params(const qm_tensor *a, const qm_tensor *b);
/* op->mult, op->shift with n entries (replacing earlier ones). */
sscma_status qm_alloc_mult(sscma_qmodel *q, qm_op *op, int32_t n);
/* op->lut: a 256-entry int8 table indexed by the input's bit pattern (run it with qm_i8_lut). */
sscma_status qm_alloc_lut(sscma_qmodel *q, qm_op *op);
/* TFLite's int8 table of a float function (LUTPopulateInt8: roundf(f(s_x (v - zp_x)) / s_y) + zp_y). */
void qm_function_table(const qm_tensor *x, const qm_tensor *y, float (*f)(float), int8_t *lut);

/* What a kernel's ranges see: qm_parallel_op passes it as the task's argument. */
typedef struct i8_job {
    const qm_exec *ex;
    const sscma_qmodel *q;
    const qm_op *op;
} i8_job;

/* Runs fn over [0, count) on the context's pool (ranges of at least min_per_task), with an i8_job argument. */
sscma_status qm_parallel_op(const qm_exec *ex, const qm_op *op, int64_t count, int64_t min_per_task,
                            sscma_task_fn fn);

#endif /* SSCMA_LIB_QUANT_QM_KERNEL_H */
