/*
 * libsscma experimental API: calls that work and are tested but whose shape may still change between minor
 * releases (unlike the rest of the public headers). Include it explicitly; <sscma/sscma.h> does not.
 *
 * Building a model layer by layer, instead of from a family config (sscma_model_create):
 *
 *     sscma_model_create_empty(ctx, &m);
 *     sscma_model_add_input(m, "x", SSCMA_DTYPE_F32, 2, (int64_t[]){1, 20}, 0);
 *     sscma_model_add_param(m, "fc.weight", 2, (int64_t[]){10, 20}, SSCMA_PARAM_TRAINABLE, "normal:0.01");
 *     sscma_model_add_param(m, "fc.bias", 1, (int64_t[]){10}, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros");
 *     sscma_model_add_layer(m, "fc", "linear", NULL, (const char *[]){"x", "fc.weight", "fc.bias"}, 3);
 *     sscma_model_add_output(m, "logits", "fc", 0);
 *
 * Layers are ops of libsscma's op table (docs/ops.md lists them with their inputs and attributes); shapes are
 * inferred as each layer is added, so a mismatch is reported at the layer that causes it. A layer's output is named
 * after the layer ("name", or "name:k" for the k-th of several). Then use the model as any other (prepare,
 * forward, backward, save, load).
 */
#ifndef SSCMA_EXPERIMENTAL_H
#define SSCMA_EXPERIMENTAL_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/model.h>
#include <sscma/tensor.h>

SSCMA_BEGIN_DECLS

/* Creates a model with no layer. *out owns it (sscma_model_destroy). Errors: NULL, SSCMA_ERR_OUT_OF_MEMORY. */
SSCMA_API sscma_status sscma_model_create_empty(sscma_context *ctx, sscma_model **out);

/*
 * Adds an input (f32 or i32); dims[0] is the batch and is replaced by the batch size at prepare. flags:
 * SSCMA_INPUT_TARGET for training targets. Errors: NULL, a used name, a bad dtype or rank.
 */
SSCMA_API sscma_status sscma_model_add_input(sscma_model *model, const char *name, sscma_dtype dtype, int32_t rank,
                                             const int64_t *dims, uint32_t flags);

/*
 * Adds an f32 parameter (flags SSCMA_PARAM_TRAINABLE / NORM / BIAS) or, with SSCMA_PARAM_BUFFER, a buffer, and
 * initialises it: init is "zeros", "ones", "kaiming_normal" (fan-out), "normal:<std>" or "uniform:<bound>", seeded by
 * the context seed and the name. Errors: NULL, a used name, bad dims, flags or init.
 */
SSCMA_API sscma_status sscma_model_add_param(sscma_model *model, const char *name, int32_t rank, const int64_t *dims,
                                             uint32_t flags, const char *init);

/*
 * Adds a layer running `op` on the named inputs (inputs, parameters or earlier layers), with attributes as a JSON
 * object (NULL or "" for the defaults). Errors: SSCMA_ERR_NOT_FOUND (unknown op or input name),
 * SSCMA_ERR_CONFIG (an unknown attribute: the message lists the valid ones), SSCMA_ERR_SHAPE / SSCMA_ERR_DTYPE
 * (the inputs do not fit: the message names the layer and shows the shapes).
 */
SSCMA_API sscma_status sscma_model_add_layer(sscma_model *model, const char *name, const char *op,
                                             const char *attrs_json, const char *const *inputs, int32_t n_inputs);

/*
 * Exposes value `value` (a layer output or an input) as output `output_name`; is_loss nonzero makes it the loss
 * that sscma_model_backward starts from (a scalar; one per model). Errors: unknown value, a non-scalar loss, more
 * than 8 outputs, SSCMA_ERR_STATE for models built from a family config.
 */
SSCMA_API sscma_status sscma_model_add_output(sscma_model *model, const char *output_name, const char *value,
                                              int is_loss);

SSCMA_END_DECLS

#endif /* SSCMA_EXPERIMENTAL_H */
