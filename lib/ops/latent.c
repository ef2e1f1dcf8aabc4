/*
 * A variational auto-encoder's latent ops (mu, logvar [N, L]):
 *   reparameterize  z = mu + eps * exp(logvar / 2); dmu = dz, dlogvar = dz * eps * exp(logvar / 2) / 2
 *                   eps: input 2 when given (SSCMA's freeze_randn: [L] or [N, L]), else in training N(0, 1) drawn
 *                   from the step's seed (Box-Muller on counter-based uniforms: any thread count), else 0, so that
 *                   evaluation and export are deterministic (z = mu).
 *   gaussian_kl     l = -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) / N   (summed over the L latent dimensions,
 *                   averaged over the batch; SSCMA sums over everything with its batch of one)
 *                   dmu = g * mu / N, dlogvar = g * (exp(logvar) - 1) / (2 N)
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/op.h"

static sscma_status require_latent_pair(const char *op, const sscma_desc *in)
{
    sscma_status st = sscma_desc_require(op, "mu", &in[0], SSCMA_DTYPE_F32, 2);
    if (st == SSCMA_OK)
        st = sscma_desc_require(op, "logvar", &in[1], SSCMA_DTYPE_F32, 2);
    if (st == SSCMA_OK && !sscma_desc_equal(&in[0], &in[1])) {
        char a[64], b[64];
        sscma_desc_format(&in[0], a, sizeof a);
        sscma_desc_format(&in[1], b, sizeof b);
        return sscma_fail(SSCMA_ERR_SHAPE, op, "mu is %s but logvar is %s", a, b);
    }
    return st;
}

/* ---- reparameterize ---- */

static sscma_status reparameterize_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                         int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs;
    sscma_status st = require_latent_pair("reparameterize", in);
    if (st != SSCMA_OK)
        return st;
    if (n_in == 3) {
        if ((st = sscma_desc_require("reparameterize", "eps", &in[2], SSCMA_DTYPE_F32, -1)) != SSCMA_OK)
            return st;
        int64_t n = sscma_desc_numel(&in[2]);
        if (n != in[0].dims[1] && n != sscma_desc_numel(&in[0]))
            return sscma_fail(SSCMA_ERR_SHAPE, "reparameterize", "eps has %lld values; expected %lld (one per latent "
                              "dimension) or %lld", (long long)n, (long long)in[0].dims[1],
                              (long long)sscma_desc_numel(&in[0]));
    }
    out[0] = in[0];
    *n_out = 1;
    sizes->saved_bytes = sscma_align_bytes((size_t)sscma_desc_numel(&in[0]) * sizeof(float)); /* eps */
    sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status reparameterize_forward(const sscma_op_exec *e)
{
    const int64_t n = sscma_desc_numel(&e->in[0].desc);
    const float *mu = e->in[0].data, *logvar = e->in[1].data;
    float *z = e->out[0].data, *eps = e->saved;
    const float *given = e->n_in == 3 ? e->in[2].data : NULL;
    const int64_t n_given = e->n_in == 3 ? sscma_desc_numel(&e->in[2].desc) : 1;
    for (int64_t k = 0; k < n; k++) {
        float ek = 0.0f;
        if (given != NULL) {
            ek = given[k % n_given];
        } else if (e->training) {
            double u1 = sscma_uniform(e->seed, 0x72657061ULL /* "repa" */, 2 * (uint64_t)k);
            double u2 = sscma_uniform(e->seed, 0x72657061ULL, 2 * (uint64_t)k + 1);
            if (u1 < 1e-12)
                u1 = 1e-12;
            ek = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
        }
        if (eps != NULL)
            eps[k] = ek;
        z[k] = mu[k] + ek * expf(0.5f * logvar[k]);
    }
    return SSCMA_OK;
}

static void reparameterize_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const int64_t n = sscma_desc_numel(&e->in[0].desc);
    const float *dz = dout[0].data, *logvar = e->in[1].data, *eps = e->saved;
    for (int64_t k = 0; din[0].data != NULL && k < n; k++)
        ((float *)din[0].data)[k] += dz[k];
    for (int64_t k = 0; din[1].data != NULL && k < n; k++)
        ((float *)din[1].data)[k] += dz[k] * eps[k] * 0.5f * expf(0.5f * logvar[k]);
}

const sscma_op_def sscma_op_reparameterize = {
    .id = SSCMA_OP_REPARAMETERIZE,
    .name = "reparameterize", .attrs_size = 0, .min_inputs = 2, .max_inputs = 3,
    .nondiff_inputs = 4u, /* eps */
    .infer = reparameterize_infer, .forward = reparameterize_forward, .backward = reparameterize_backward,
    .backward_skips_outputs = true,
};

/* ---- gaussian_kl ---- */

static sscma_status gaussian_kl_infer(const void *attrs, const sscma_desc *in, int32_t n_in, sscma_desc *out,
                                      int32_t *n_out, sscma_op_sizes *sizes)
{
    (void)attrs, (void)n_in;
    sscma_status st = require_latent_pair("gaussian_kl", in);
    if (st != SSCMA_OK)
        return st;
    out[0] = sscma_desc_make(SSCMA_DTYPE_F32, 0, NULL);
    *n_out = 1;
    sizes->saved_bytes = sizes->workspace_bytes = 0;
    return SSCMA_OK;
}

static sscma_status gaussian_kl_forward(const sscma_op_exec *e)
{
    const int64_t n = sscma_desc_numel(&e->in[0].desc), batch = e->in[0].desc.dims[0];
    const float *mu = e->in[0].data, *logvar = e->in[1].data;
    double sum = 0.0;
    for (int64_t k = 0; k < n; k++)
        sum += 1.0 + (double)logvar[k] - (double)mu[k] * mu[k] - exp((double)logvar[k]);
    ((float *)e->out[0].data)[0] = batch > 0 ? (float)(-0.5 * sum / (double)batch) : 0.0f;
    return SSCMA_OK;
}

static void gaussian_kl_backward(const sscma_op_exec *e, const sscma_buf *dout, const sscma_buf *din)
{
    const int64_t n = sscma_desc_numel(&e->in[0].desc), batch = e->in[0].desc.dims[0];
    if (batch == 0)
        return;
    const double g = ((const float *)dout[0].data)[0] / (double)batch;
    const float *mu = e->in[0].data, *logvar = e->in[1].data;
    for (int64_t k = 0; din[0].data != NULL && k < n; k++)
        ((float *)din[0].data)[k] += (float)(g * mu[k]);
    for (int64_t k = 0; din[1].data != NULL && k < n; k++)
        ((float *)din[1].data)[k] += (float)(g * 0.5 * (exp((double)logvar[k]) - 1.0));
}

const sscma_op_def sscma_op_gaussian_kl = {
    .id = SSCMA_OP_GAUSSIAN_KL,
    .name = "gaussian_kl", .attrs_size = 0, .min_inputs = 2, .max_inputs = 2,
    .infer = gaussian_kl_infer, .forward = gaussian_kl_forward, .backward = gaussian_kl_backward,
    .backward_skips_outputs = true,
};
