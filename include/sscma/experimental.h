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
#include <sscma/quant.h>
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

/*
 * Plans of a deployable model. A loaded deployable model (<sscma/quant.h>) is an immutable description: tensors,
 * operators, quantization, metadata and, for int8, the integer parameters and weights packed for this CPU, all
 * computed when the model was made. A plan holds what running it at one batch size needs and writes: the activation
 * arena, the scratch buffers and the input/output views. One model serves any number of plans, and plans of the same
 * model may run at the same time in different threads; each plan is used by one thread at a time.
 *
 *     sscma_qplan *p1 = NULL, *p4 = NULL;
 *     sscma_qplan_create(qmodel, 1, &p1);    // thread A: sscma_qplan_set_input(p1, ...), _run(p1), _get_output
 *     sscma_qplan_create(qmodel, 4, &p4);    // thread B: the same calls on p4, at the same time
 *
 * Plans run their kernels on the pool of the model's context: two plans run at once from two threads share that
 * pool, so their parallel jobs take turns (the results do not change; give each thread its own context and model for
 * fully independent runs). The model's own calls (sscma_qmodel_prepare / _input / _output / _run / _set_input /
 * _get_output) use a default plan inside the model, so they are one more user of the model: they may run beside
 * other plans, but sscma_qmodel_set_meta and sscma_qmodel_destroy must not. Destroy every plan before its model.
 */
typedef struct sscma_qplan sscma_qplan;

/*
 * Creates a plan of `qmodel` for `batch` samples (1 to 2^24) and allocates its buffers; the model is read, never
 * written. *out owns it (sscma_qplan_destroy). Errors: NULL, batch out of range, out of memory.
 */
SSCMA_API sscma_status sscma_qplan_create(const sscma_qmodel *qmodel, int64_t batch, sscma_qplan **out);

/* Destroys a plan and the tensor views it handed out. NULL is a no-op. */
SSCMA_API void sscma_qplan_destroy(sscma_qplan *plan);

/* Stores the plan's batch size in *out. */
SSCMA_API sscma_status sscma_qplan_batch(const sscma_qplan *plan, int64_t *out);

/*
 * As sscma_qmodel_input / _output for the plan: views of its buffers (NHWC; i8 ones carry their scale and zero
 * point), owned by the plan and valid until it is destroyed. Errors: NULL, index out of range.
 */
SSCMA_API sscma_status sscma_qplan_input(sscma_qplan *plan, int32_t index, sscma_tensor **out);
SSCMA_API sscma_status sscma_qplan_output(sscma_qplan *plan, int32_t index, sscma_tensor **out, const char **name);

/* Runs the model on the plan's inputs. Errors: NULL. */
SSCMA_API sscma_status sscma_qplan_run(sscma_qplan *plan);

/*
 * As sscma_qmodel_set_input / _get_output for the plan: float data written into input `index` (quantized for an int8
 * model; fewer samples than the batch leave the other rows as they are), output `index` read as float. Errors: NULL,
 * index out of range, shape or dtype mismatch (the message shows both).
 */
SSCMA_API sscma_status sscma_qplan_set_input(sscma_qplan *plan, int32_t index, const sscma_tensor *images);
SSCMA_API sscma_status sscma_qplan_get_output(sscma_qplan *plan, int32_t index, sscma_tensor *out);

SSCMA_END_DECLS

#endif /* SSCMA_EXPERIMENTAL_H */
