/*
 * libsscma exporters: deployable models (<sscma/quant.h>) written as TFLite flatbuffers (float or full-integer
 * int8), ONNX (float, or int8 as QuantizeLinear/DequantizeLinear pairs) and C arrays for microcontrollers, and read
 * back from TFLite. Every file is written atomically (a temporary file in the same directory, flushed, renamed): a
 * failure leaves nothing half-written. docs/export.md describes each format and docs/deployment.md how the files
 * map onto SSCMA-Micro and TFLite Micro.
 */
#ifndef SSCMA_EXPORT_H
#define SSCMA_EXPORT_H

#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/data.h>
#include <sscma/quant.h>

SSCMA_BEGIN_DECLS

/*
 * Writes `qmodel` as a TFLite model (schema version 3) to `path`: NHWC, batch 1, int8 input and output for an int8
 * model; convolution weights per channel, depthwise weights [1, KH, KW, C]; explicit padding that TFLite's SAME
 * and VALID cannot express becomes a PAD op in front; metadata (the family and every sscma_qmodel_set_meta entry) as
 * TFLite Metadata entries. Errors: SSCMA_ERR_UNSUPPORTED (an op TFLite cannot express:
 * the message names the op and the layer), SSCMA_ERR_IO (names the path), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_export_tflite(const sscma_qmodel *qmodel, const char *path);

/*
 * Writes `qmodel` as an ONNX model (opset 13, IR version 8, static shapes) to `path`. The input is NCHW (as PyTorch
 * and onnxruntime users expect); 4-D outputs are NHWC, the layout of the TFLite file and of SSCMA-Micro. A float
 * model is float throughout; an int8 model is written as QDQ: int8 input and outputs, int8 weights per channel and
 * int32 biases behind DequantizeLinear, each int8 activation a QuantizeLinear output. Metadata: family, layout and
 * every entry set with sscma_qmodel_set_meta. Errors: as sscma_export_tflite.
 */
SSCMA_API sscma_status sscma_export_onnx(const sscma_qmodel *qmodel, const char *path);

/*
 * Reads a TFLite file written by libsscma (or any file limited to the ops the int8 runtime runs) into a deployable
 * model that the runtime runs. *out owns it. Errors: SSCMA_ERR_IO, SSCMA_ERR_FORMAT (not a TFLite file, or
 * malformed: the message names the file and what is wrong), SSCMA_ERR_UNSUPPORTED (an op or type the runtime does
 * not run: names the op and its index).
 */
SSCMA_API sscma_status sscma_qmodel_load_tflite(sscma_context *ctx, const char *path, sscma_qmodel **out);

/*
 * Describes a TFLite file without running it, also one the runtime cannot run, as JSON text written into buf (size
 * bytes, NUL-terminated; *needed receives the bytes the whole text takes with its NUL, so a call with size 0 asks
 * how much to allocate): {"file", "schema_version", "description", "inputs" and "outputs" ([{"name", "type",
 * "shape", "scale", "zero_point"}], quantization when the tensor has one), "operators" ([{"name", "code", "count",
 * "supported"}] in first-use order), "unsupported" (the names of operators the runtime has no kernel for),
 * "tensors", "weight_bytes" (the constants' data), "metadata" (the file's text entries), "loads" (whether
 * sscma_qmodel_load_tflite accepts it), "error" (its message when not) and, when it loads, "arena_bytes" (the
 * activations' peak at batch 1, as sscma_qmodel_memory). The text is complete only when *needed <= size.
 * Errors: SSCMA_ERR_IO, SSCMA_ERR_FORMAT (not a TFLite file, or malformed: the message names the file);
 * SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_tflite_describe(sscma_context *ctx, const char *path, char *buf, size_t size,
                                             size_t *needed);

/*
 * Writes `qmodel`'s TFLite bytes as C source for microcontrollers: `header_path` declares
 * `extern const unsigned char SYMBOL[]` and `extern const unsigned int SYMBOL_len`, `source_path` defines them (the
 * array 16-byte aligned, as TFLite Micro requires). symbol must be a C identifier. Each file is written atomically;
 * when the source cannot be written the header is removed. Errors: as sscma_export_tflite, a symbol that is not an
 * identifier (SSCMA_ERR_INVALID_ARGUMENT).
 */
SSCMA_API sscma_status sscma_export_c_array(const sscma_qmodel *qmodel, const char *header_path,
                                            const char *source_path, const char *symbol);

/* What sscma_export_verify found. Set struct_size = sizeof(sscma_verify_report) before the call. */
typedef struct sscma_verify_report {
    uint32_t struct_size;
    int64_t samples;         /* samples compared */
    int64_t values;          /* output values compared */
    int64_t values_differing;
    double max_abs_diff;     /* largest |file - model| of an output value: int8 units, or real units for float */
    double metric_model;     /* the task metric with the deployable model */
    double metric_file;      /* the same with the model read back from the file */
    char metric_name[48];    /* accuracy/top1 (classifiers), F1 (FOMO), keypoint/Acc (PFLD) */
} sscma_verify_report;

/*
 * Reads the TFLite file `path` back, runs it and `qmodel` on one epoch of `data` (images, and the targets the task
 * metric needs: the loader of the model's validation set), compares every output value and measures the family's
 * metric with both. qmodel is re-prepared at the loader's batch size. Errors: a file that is not TFLite
 * (SSCMA_ERR_UNSUPPORTED: ONNX files are checked with onnxruntime, docs/export.md), the reader's errors, a file
 * whose inputs or outputs differ from the model's (SSCMA_ERR_SHAPE), the loader's and the metric's errors.
 */
SSCMA_API sscma_status sscma_export_verify(sscma_qmodel *qmodel, const char *path, sscma_loader *data,
                                           sscma_verify_report *report);

SSCMA_END_DECLS

#endif /* SSCMA_EXPORT_H */
