/*
 * libsscma — the SSCMA TinyML workflow (data, training, int8 quantization, export, runtime) in C.
 *
 * The umbrella header: includes every public module header. Link with `pkg-config --cflags --libs sscma`.
 * The API conventions (status codes, ownership, error messages) are stated at the top of <sscma/core.h>.
 */
#ifndef SSCMA_SSCMA_H
#define SSCMA_SSCMA_H

#include <sscma/version.h>
#include <sscma/common.h>
#include <sscma/core.h>
#include <sscma/config.h>
#include <sscma/tensor.h>
#include <sscma/model.h>
#include <sscma/data.h>
#include <sscma/optim.h>
#include <sscma/metrics.h>
#include <sscma/train.h>
#include <sscma/quant.h>
#include <sscma/export.h>
#include <sscma/predict.h>
#include <sscma/runner.h>

#endif /* SSCMA_SSCMA_H */
