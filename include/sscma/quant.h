/*
 * libsscma deployable models: a trained model lowered for inference (batch norms folded into the convolutions,
 * ReLU/ReLU6 fused, training-only layers dropped), in float or quantized to int8 following the TFLite quantization
 * spec (docs/export.md): weights int8 symmetric per output channel with zero point 0, activations int8 asymmetric
 * per tensor, biases int32 with scale = input scale x weight scale, requantization by a fixed-point multiplier and
 * shift with TFLite's rounding, ReLU/ReLU6 as clamping.
 *
 * A deployable model is what the exporters (<sscma/export.h>) write and what the int8 runtime runs; a .tflite file
 * written by libsscma reads back into one (sscma_qmodel_load_tflite), so an application embeds the same runtime
 * the tests check against TFLite's reference kernels.
 */
#ifndef SSCMA_QUANT_H
#define SSCMA_QUANT_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/data.h>
#include <sscma/model.h>
#include <sscma/tensor.h>

SSCMA_BEGIN_DECLS

typedef struct sscma_qmodel sscma_qmodel;

/* How activation ranges are observed during calibration. */
typedef enum sscma_observer {
    SSCMA_OBSERVER_MINMAX = 1,         /* running min and max over every calibration batch */
    SSCMA_OBSERVER_MOVING_AVERAGE = 2, /* min/max of each batch, averaged: r += c * (batch - r) */
    SSCMA_OBSERVER_PERCENTILE = 3      /* the given percentile of |x| on each side, from a histogram */
} sscma_observer;

/* Quantization options; initialise with sscma_quant_options_init. */
typedef struct sscma_quant_options {
    uint32_t struct_size;
    sscma_observer observer;  /* activations; default SSCMA_OBSERVER_MINMAX (TFLite's converter) */
    float averaging_constant; /* moving average: default 0.01 (PyTorch's) */
    float percentile;         /* percentile observer: default 99.99 */
    int64_t calib_batches;    /* calibration batches read from the loader; 0 = one whole epoch; default 32 */
} sscma_quant_options;

/*
 * Fills `options` with the defaults. struct_size must be sizeof the caller's struct (older callers get the fields
 * they know). Errors: NULL, struct_size smaller than the first field or larger than the library knows
 * (SSCMA_ERR_UNSUPPORTED).
 */
SSCMA_API sscma_status sscma_quant_options_init(sscma_quant_options *options, size_t struct_size);

/*
 * Lowers `model` to a float deployable model: batch norms folded into the preceding convolutions (w * s,
 * (b - mean) * s + beta with s = gamma / sqrt(var + eps)), ReLU/ReLU6 fused, dropout and losses removed, and the
 * family's deployment output (docs/deployment.md): a classifier gets a softmax over its logits. The model is read,
 * not changed; *out is independent of it. Errors: a layer the deployable form cannot express
 * (SSCMA_ERR_UNSUPPORTED: the message names the layer and the op), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_qmodel_from_model(sscma_model *model, sscma_qmodel **out);

/*
 * Post-training quantization: lowers `model`, runs it in float on up to options->calib_batches batches of
 * `calib` (its images; the loader's epoch 0 order) to observe every activation's range, then quantizes to int8.
 * options may be NULL for the defaults. Errors: as sscma_qmodel_from_model; the loader's errors; a loader whose
 * images do not fit the model's input (SSCMA_ERR_SHAPE).
 */
SSCMA_API sscma_status sscma_quantize(sscma_model *model, sscma_loader *calib, const sscma_quant_options *options,
                                      sscma_qmodel **out);

/* Destroys a deployable model and the tensor views it handed out. NULL is a no-op. */
SSCMA_API void sscma_qmodel_destroy(sscma_qmodel *qmodel);

/* Stores 1 in *out when the model runs in int8 (full integer), 0 when in float. */
SSCMA_API sscma_status sscma_qmodel_is_int8(const sscma_qmodel *qmodel, int *out);

/* Stores the numbers of inputs and outputs in *inputs and *outputs (either may be NULL). */
SSCMA_API sscma_status sscma_qmodel_io_count(const sscma_qmodel *qmodel, int32_t *inputs, int32_t *outputs);

/*
 * The memory a deployment of the model needs: *weight_bytes, the constants (weights and biases), and *arena_bytes,
 * the activation arena at batch 1 as the runtimes plan it (TFLite Micro's greedy placement: each activation from
 * its writer to its last reader, largest first at the lowest free 64-byte aligned offset), which is exactly what
 * sscma_qmodel_prepare(model, 1) and the micro runtime allocate for the activations (<sscma/micro.h>). With as_int8
 * nonzero a float model is measured as its int8 form would be (weights 1 byte, biases 4, activations 1). Either
 * output may be NULL.
 * Errors: NULL qmodel, out of memory.
 */
SSCMA_API sscma_status sscma_qmodel_memory(const sscma_qmodel *qmodel, int as_int8, int64_t *weight_bytes,
                                           int64_t *arena_bytes);

/*
 * Plans the runtime for `batch` samples and allocates its buffers (batch 1 is what the exported files hold; larger
 * batches evaluate faster). Invalidates earlier input and output views. Errors: batch < 1, out of memory.
 * These calls use one plan kept in the model; to run several batch sizes, or several threads at once, on one loaded
 * model, create plans with sscma_qplan_create (<sscma/experimental.h>).
 */
SSCMA_API sscma_status sscma_qmodel_prepare(sscma_qmodel *qmodel, int64_t batch);

/*
 * Stores in *out a view of input `index` at the prepared batch (NHWC; f32, or i8 with its scale and zero point
 * set: quantize as q = round(x / scale) + zero_point, clamped to -128..127). The view belongs to the model and is
 * valid until the next prepare. Errors: not prepared (SSCMA_ERR_STATE), index out of range.
 */
SSCMA_API sscma_status sscma_qmodel_input(sscma_qmodel *qmodel, int32_t index, sscma_tensor **out);

/* As sscma_qmodel_input for output `index`; *name (may be NULL) receives its name, owned by the model. */
SSCMA_API sscma_status sscma_qmodel_output(sscma_qmodel *qmodel, int32_t index, sscma_tensor **out, const char **name);

/* Runs the model on its inputs. Errors: not prepared. */
SSCMA_API sscma_status sscma_qmodel_run(sscma_qmodel *qmodel);

/*
 * Writes float data into input `index`: copied for a float model, quantized (round half away from zero, clamped) for
 * an int8 one. `images` is f32 with the input's shape at the prepared batch, or with fewer samples (dims[0] smaller:
 * the remaining rows are left as they are). Errors: not prepared, shape or dtype mismatch (the message shows both).
 */
SSCMA_API sscma_status sscma_qmodel_set_input(sscma_qmodel *qmodel, int32_t index, const sscma_tensor *images);

/*
 * Reads output `index` as float into `out` (f32, the output's shape at the prepared batch): copied, or dequantized
 * (scale x (q - zero_point)) for an int8 model. Errors: not prepared, shape or dtype mismatch.
 */
SSCMA_API sscma_status sscma_qmodel_get_output(sscma_qmodel *qmodel, int32_t index, sscma_tensor *out);

/*
 * Sets metadata `key` to `value` (copied; NULL removes it). The exporters write every entry (ONNX metadata_props,
 * TFLite Metadata) and the TFLite reader reads them back. Conventional keys (docs/deployment.md): "classes" (a JSON
 * array of names), "mean" and "std" (JSON arrays, the input normalisation in 0..255 pixel units). At most 16
 * entries; keys of 1 to 64 characters, values up to 64 KiB. Errors: those limits, out of memory.
 */
SSCMA_API sscma_status sscma_qmodel_set_meta(sscma_qmodel *qmodel, const char *key, const char *value);

/*
 * Stores in *value the metadata `key` (owned by the model, valid until it changes); "family" is the model family.
 * Errors: SSCMA_ERR_NOT_FOUND.
 */
SSCMA_API sscma_status sscma_qmodel_meta(const sscma_qmodel *qmodel, const char *key, const char **value);

/* Quantization-aware training options; initialise with sscma_qat_options_init. */
typedef struct sscma_qat_options {
    uint32_t struct_size;
    float averaging_constant;      /* activation observers (moving-average min/max): default 0.01 */
    int64_t freeze_observer_epoch; /* from this epoch (0-based) on, the observed ranges stay fixed; -1 never; default 1 */
    int64_t freeze_bn_epoch;       /* from this epoch on, batch norms use and keep their running statistics; default 1 */
} sscma_qat_options;

/* Fills `options` with the defaults (as sscma_quant_options_init). */
SSCMA_API sscma_status sscma_qat_options_init(sscma_qat_options *options, size_t struct_size);

/*
 * Prepares `model` for quantization-aware training (docs/export.md): its graph gets fake quantization of every
 * convolution and fully connected weight (per output channel for convolutions, with the following batch norm folded
 * into the fake-quantized weight) and of every activation the int8 model will quantize (moving-average min/max
 * observers, straight-through gradients). Train it with the normal trainer (which calls sscma_qat_set_epoch at each
 * epoch start), from a float checkpoint or not. Parameter names are kept and observer states are added as buffers
 * ("<layer>.act_quant"), so checkpoints of a prepared model load only into a prepared model. Parameter indices and
 * every tensor view change: create optimizers after this call. options may be NULL. Errors: already prepared
 * (SSCMA_ERR_STATE), layers QAT cannot rewrite (SSCMA_ERR_UNSUPPORTED), bad options.
 */
SSCMA_API sscma_status sscma_qat_prepare(sscma_model *model, const sscma_qat_options *options);

/*
 * Applies the freezing schedule for `epoch`: observers stop moving from freeze_observer_epoch on, batch norms run in
 * evaluation mode from freeze_bn_epoch on. The trainer calls it; custom training loops call it at each epoch start.
 * Errors: the model is not QAT-prepared (SSCMA_ERR_STATE), a negative epoch.
 */
SSCMA_API sscma_status sscma_qat_set_epoch(sscma_model *model, int64_t epoch);

/*
 * Converts a QAT-trained model to an int8 deployable model: batch norms folded with their running statistics, the
 * weights quantized as the fake quantization did, activations with the ranges the observers hold. *out is
 * independent of the model. Errors: not QAT-prepared (SSCMA_ERR_STATE), a layer no training step reached (no
 * observed range), the lowering's errors.
 */
SSCMA_API sscma_status sscma_qat_convert(sscma_model *model, sscma_qmodel **out);

SSCMA_END_DECLS

#endif /* SSCMA_QUANT_H */
