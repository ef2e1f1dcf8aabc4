/*
 * libsscma models: a static graph of ops with named inputs, outputs and parameters, built from an SSCMA-style
 * model config ({"type": "ImageClassifier", "backbone": {"type": "MobileNetV2", ...}, ...}; docs/models.md lists
 * every family and key). Parameters carry PyTorch-style dotted names (backbone.features.3.conv.0.0.weight) and the
 * shapes of the reference PyTorch models, with weights in libsscma's layouts (convolutions OHWI).
 *
 * Use: create, prepare for a batch size and mode (this plans and allocates all activation memory), write the inputs
 * through their tensor views, forward, then (training) backward and an optimizer step. After prepare, forward,
 * backward and zero_grad allocate nothing.
 */
#ifndef SSCMA_MODEL_H
#define SSCMA_MODEL_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/tensor.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_model sscma_model;

/* Parameter flags (sscma_model_param). */
#define SSCMA_PARAM_TRAINABLE 0x1u /* learned and not frozen */
#define SSCMA_PARAM_NORM 0x2u      /* weight or bias of a normalisation layer (paramwise norm_decay_mult) */
#define SSCMA_PARAM_BIAS 0x4u      /* a bias (paramwise bias_decay_mult) */
#define SSCMA_PARAM_BUFFER 0x8u    /* state that is saved but not learned: batch-norm running statistics */

/* Input flags. */
#define SSCMA_INPUT_TARGET 0x1u /* training targets: the nodes that need them (the loss) run only in training */

/*
 * Builds a model from a JSON model config (UTF-8 text; copied). Parameters are initialised as the reference
 * implementation does (Kaiming normal fan-out for convolutions, ones/zeros for batch norm, N(0, 0.01) for linear
 * layers), seeded by the context seed. *out owns the model; it keeps ctx alive (sscma_context_destroy).
 * Errors: SSCMA_ERR_CONFIG (malformed JSON, unknown type or key: the message names the key and lists the valid
 * ones), SSCMA_ERR_INVALID_ARGUMENT (NULL), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_model_create(sscma_context *ctx, const char *config_json, sscma_model **out);

/* Destroys a model and every tensor view it handed out. NULL is a no-op. */
SSCMA_API void sscma_model_destroy(sscma_model *model);

/*
 * Plans the model for `batch_size` samples in training (nonzero) or evaluation mode and allocates its activation
 * arena (reused when large enough). Invalidates earlier input/output views. Errors: batch_size < 1,
 * SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_model_prepare(sscma_model *model, int64_t batch_size, int training);

/*
 * Stores in *out a view of input `name` ("image", "target", ...) at the prepared batch size: write the batch
 * there before forward. The view belongs to the model and is valid until the next prepare. Errors: not prepared
 * (SSCMA_ERR_STATE), unknown name (SSCMA_ERR_NOT_FOUND, the message lists the inputs).
 */
SSCMA_API sscma_status sscma_model_input(sscma_model *model, const char *name, sscma_tensor **out);

/* As sscma_model_input for outputs ("logits", "loss", ...): valid after forward, until the next prepare. */
SSCMA_API sscma_status sscma_model_output(sscma_model *model, const char *name, sscma_tensor **out);

/* Runs the forward pass on the current inputs. Errors: not prepared; a node's failure (message names the node). */
SSCMA_API sscma_status sscma_model_forward(sscma_model *model);

/*
 * Backward from the "loss" output of the last forward: parameter gradients ACCUMULATE (call zero_grad between
 * steps). Errors: not prepared for training (SSCMA_ERR_STATE).
 */
SSCMA_API sscma_status sscma_model_backward(sscma_model *model);

/* Sets every parameter gradient to zero. Errors: NULL. */
SSCMA_API sscma_status sscma_model_zero_grad(sscma_model *model);

/* Stores the number of named parameters and buffers in *out (indices 0..*out-1 for sscma_model_param). */
SSCMA_API sscma_status sscma_model_param_count(const sscma_model *model, int32_t *out);

/*
 * Describes parameter or buffer `index`: its dotted name (owned by the model), flags (SSCMA_PARAM_*), its value and
 * its gradient (NULL for buffers) as tensor views owned by the model, valid until it is destroyed. Any output
 * pointer may be NULL. Errors: index out of range.
 */
SSCMA_API sscma_status sscma_model_param(sscma_model *model, int32_t index, const char **name, uint32_t *flags,
                                         sscma_tensor **value, sscma_tensor **grad);

/* Stores the index of the parameter or buffer called `name` in *out. Errors: SSCMA_ERR_NOT_FOUND. */
SSCMA_API sscma_status sscma_model_find_param(const sscma_model *model, const char *name, int32_t *out);

/*
 * Freezes (frozen nonzero) or unfreezes every parameter whose name starts with `prefix` ("" = all): frozen
 * parameters get no gradient and lose SSCMA_PARAM_TRAINABLE. Takes effect at the next prepare. Stores the number of
 * parameters changed in *count (may be NULL). Errors: NULL model or prefix.
 */
SSCMA_API sscma_status sscma_model_set_frozen(sscma_model *model, const char *prefix, int frozen, int32_t *count);

/*
 * Stores the number of learned parameter elements (buffers excluded) and the multiply-accumulates of one sample's
 * forward pass (convolutions and linear layers) in *params and *macs; either may be NULL. Errors: NULL model.
 */
SSCMA_API sscma_status sscma_model_stats(const sscma_model *model, int64_t *params, int64_t *macs);

/* Stores the number of layers (graph nodes) in *out. */
SSCMA_API sscma_status sscma_model_layer_count(const sscma_model *model, int32_t *out);

/*
 * Describes layer `index`: its name and op (owned by the model) and its multiply-accumulates for one sample. Any
 * output pointer may be NULL. Errors: index out of range.
 */
SSCMA_API sscma_status sscma_model_layer(const sscma_model *model, int32_t index, const char **name, const char **op,
                                         int64_t *macs);

/* sscma_model_save flags */
#define SSCMA_SAVE_COMPRESS 0x1u /* deflate the tensors (zlib) */

/*
 * Writes the model's parameters and buffers, and its config, to a checkpoint file (format in
 * docs/file-formats.md), atomically: a temporary file in the same directory is written, flushed and renamed, so a
 * failure leaves any earlier file untouched and nothing half-written. flags: SSCMA_SAVE_*.
 * Errors: SSCMA_ERR_IO (the message names the path), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_model_save(const sscma_model *model, const char *path, uint32_t flags);

/*
 * Loads parameters and buffers from a checkpoint written by sscma_model_save (or tools/torch2sscma.py). The whole
 * file is verified first (magic, version, CRC32s, sizes) and every parameter must be present with the same shape;
 * only then is anything copied, so a failed load leaves the model unchanged. Errors: SSCMA_ERR_IO,
 * SSCMA_ERR_FORMAT (truncated or corrupt: the message says where), SSCMA_ERR_SHAPE / SSCMA_ERR_NOT_FOUND (a
 * checkpoint of another model: the message names the tensor).
 */
SSCMA_API sscma_status sscma_model_load(sscma_model *model, const char *path);

SSCMA_END_DECLS

#endif /* SSCMA_MODEL_H */
