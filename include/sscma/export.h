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
#include <sscma/quant.h>

SSCMA_BEGIN_DECLS

/*
 * Writes `qmodel` as a TFLite model (schema version 3) to `path`: NHWC, batch 1, int8 input and output for an int8
 * model; convolution weights per channel, depthwise weights [1, KH, KW, C]; explicit padding that TFLite's SAME
 * and VALID cannot express becomes a PAD op in front. Errors: SSCMA_ERR_UNSUPPORTED (an op TFLite cannot express:
 * the message names the op and the layer), SSCMA_ERR_IO (names the path), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_export_tflite(const sscma_qmodel *qmodel, const char *path);

/*
 * Writes `qmodel` as an ONNX model (opset 13, IR version 8, static shapes) to `path`. The input is NCHW (as PyTorch
 * and onnxruntime users expect); 4-D outputs are NHWC, the layout of the TFLite file and of SSCMA-Micro. A float
 * model is float throughout; an int8 model is written as QDQ: int8 input and outputs, int8 weights per channel and
 * int32 biases behind DequantizeLinear, each int8 activation a QuantizeLinear output. Metadata: family, layout,
 * classes (when set). Errors: as sscma_export_tflite.
 */
SSCMA_API sscma_status sscma_export_onnx(const sscma_qmodel *qmodel, const char *path);

/*
 * Reads a TFLite file written by libsscma (or any file limited to the ops the int8 runtime runs) into a deployable
 * model that the runtime runs. *out owns it. Errors: SSCMA_ERR_IO, SSCMA_ERR_FORMAT (not a TFLite file, or
 * malformed: the message names the file and what is wrong), SSCMA_ERR_UNSUPPORTED (an op or type the runtime does
 * not run: names the op and its index).
 */
SSCMA_API sscma_status sscma_qmodel_load_tflite(sscma_context *ctx, const char *path, sscma_qmodel **out);

SSCMA_END_DECLS

#endif /* SSCMA_EXPORT_H */
