/*
 * Reading an ONNX file's initializers as pretrained weights (not installed): the runner's load_from and
 * init_cfg Pretrained reach it for any file that is not a libsscma checkpoint.
 */
#ifndef SSCMA_LIB_EXPORT_ONNX_READ_H
#define SSCMA_LIB_EXPORT_ONNX_READ_H

#include "graph/model_private.h"

/*
 * sscma_model_load_state (graph/model_private.h) fed by the initializers of the ONNX model in `path`, mapped by
 * name: float initializers, 4-D ones transposed from ONNX's OIHW to libsscma's OHWI; other types are never loaded
 * (a parameter of that name is reported as a mismatch). The data comes from raw_data or float_data.
 * Errors: SSCMA_ERR_IO (unreadable file), SSCMA_ERR_FORMAT (not an ONNX model, an initializer whose data does not
 * fill its shape: the message names the file and the initializer), sscma_model_load_state's.
 */
sscma_status sscma_model_load_pretrained_onnx(sscma_model *model, const char *path, const char *prefix,
                                              const char *module, char **report, int32_t *loaded);

#endif /* SSCMA_LIB_EXPORT_ONNX_READ_H */
