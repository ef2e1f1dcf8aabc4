/*
 * What the int8 tests share (test_quant, test_export): int8 outputs of a deployable model on seeded inputs.
 */
#ifndef SSCMA_TESTS_FIXTURE_QUANT_H
#define SSCMA_TESTS_FIXTURE_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_models.h"

/* fixture_context(), fixture_have_fashion() and FIXTURE_FASHION come from fixture_models.h. */

/* Runs q (prepared for batch 1) on `n` int8 inputs from a fixed seed; the outputs (malloc'd), *bytes per sample. */
int8_t *fixture_run_int8(sscma_qmodel *q, int n, size_t *bytes);

#endif /* SSCMA_TESTS_FIXTURE_QUANT_H */
