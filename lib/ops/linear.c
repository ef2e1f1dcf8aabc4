/*
 * linear (fully connected): x [N, in], weight [out, in], optional bias [out] -> y [N, out].
 *   y = x . W^T + b      dx += dy . W      dW += dy^T . x      db += sum over rows of dy
 */
#include "ops/kernels.h"
#include "ops/op.h"

#define OP "linear"

static sscma_status linear_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                 int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    sscma_status st;
    if (n_in != 2 && n_in != 3)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, OP, "takes 2 or 3 inputs (x, weight, bias), got %d", n_in);
    if ((st = sscma_desc_require(OP, "input x", &in[0], SSCMA_DTYPE_F32, 2)) != SSCMA_OK ||
        (st = sscma_desc_require(OP, "weight", &in[1], SSCMA_DTYPE_F32, 2)) != SSCMA_OK)
        return st;
    if (in[0].dims[1] != in[1].dims[1]) {
        char xs[200], ws[200];
        sscma_desc_format(&in[0], xs, sizeof xs);
        sscma_desc_format(&in[1], ws, sizeof ws);
        return sscma_fail(SSCMA_ERR_SHAPE, OP, "input x %s has %lld features; weight %s expects %lld ([out, in])",
                          xs, (long long)in[0].dims[1], ws, (long long)in[1].dims[1]);
    }
    if (n_in == 3) {
        if ((st = sscma_desc_require(OP, "bias", &in[2], SSCMA_DTYPE_F32, 1)) != SSCMA_OK)
            return st;
        if (in[2].dims[0] != in[1].dims[0])
            return sscma_fail(SSCMA_ERR_SHAPE, OP, "bias has %lld elements; weight has %lld outputs",
                              (long long)in[2].dims[0], (long long)in[1].dims[0]);
    }
    const int64_t dims[2] = {in[0].dims[0], in[1].dims[0]};
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 2, dims);
    *n_out = 1;
    sizes->saved_bytes = 0;
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status linear_forward(const sscma_op_exec *e)
{
    int64_t n = e->in[0].desc.dims[0], k = e->in[0].desc.dims[1], m = e->in[1].desc.dims[0];
    float *y = e->out[0].data;
    sscma_gemm(e->pool, false, true, n, m, k, 1.0f, e->in[0].data, k, e->in[1].data, k, 0.0f, y, m);
    if (e->n_in == 3)
        sscma_add_row_bias(e->pool, y, n, m, e->in[2].data);
    return SSCMA_OK;
}

static void linear_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    int64_t n = e->in[0].desc.dims[0], k = e->in[0].desc.dims[1], m = e->in[1].desc.dims[0];
    const float *dy = dout[0].data;
    if (din[0].data != NULL)
        sscma_gemm(e->pool, false, false, n, k, m, 1.0f, dy, m, e->in[1].data, k, 1.0f, din[0].data, k);
    if (din[1].data != NULL)
        sscma_gemm(e->pool, true, false, m, k, n, 1.0f, dy, m, e->in[0].data, k, 1.0f, din[1].data, k);
    if (e->n_in == 3 && din[2].data != NULL)
        sscma_column_sums(e->pool, dy, n, m, m, din[2].data);
}

static const sscma_attr_field linear_fields[] = {SSCMA_ATTR_END};

/* y numel x in_features. */
static uint64_t linear_macs(const sscma_desc *in, int32_t n_in, const sscma_desc *out)
{
    (void)n_in;
    return (uint64_t)sscma_desc_numel(&out[0]) * (uint64_t)in[1].dims[1];
}

const sscma_op_def sscma_op_linear = {
    .id = SSCMA_OP_LINEAR,
    .name = "linear", .attrs_size = sizeof(sscma_linear_attrs), .min_inputs = 2, .max_inputs = 3,
    .infer = linear_infer, .forward = linear_forward, .backward = linear_backward,
    .attr_fields = linear_fields,
    .backward_skips_outputs = true,
    .macs = linear_macs,
};
