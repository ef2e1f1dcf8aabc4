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

#endif /* SSCMA_LIB_EXPORT_EXPORTERS_H */
