/* What the exporters share inside the library (not installed). */
#ifndef SSCMA_LIB_EXPORT_EXPORTERS_H
#define SSCMA_LIB_EXPORT_EXPORTERS_H

#include "export/flatbuf.h"
#include "quant/qmodel.h"

/*
 * Builds the TFLite bytes of `qmodel` in `b` (initialised here; fb_free it in every case): *data, *size point into
 * b's buffer. Errors as sscma_export_tflite.
 */
sscma_status sscma_tflite_build(const sscma_qmodel *qmodel, fb_builder *b, const uint8_t **data, size_t *size);

/*
 * Reads the TFLite bytes data[0 .. size) into a new deployable model (int8 state prepared); `where` names the file
 * in messages. The bytes are copied: they need not outlive the call. sscma_qmodel_load_tflite reads a file with it,
 * the micro runtime (lib/micro/micro.c) the bytes it is given.
 */
sscma_status sscma_tflite_read(sscma_context *ctx, const uint8_t *data, size_t size, const char *where,
                               sscma_qmodel **out);

#endif /* SSCMA_LIB_EXPORT_EXPORTERS_H */
