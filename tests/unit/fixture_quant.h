/*
 * What the int8 tests share (test_export; test_quant has its own copies until it moves to these): the context they
 * run in, whether Fashion-MNIST is installed, and int8 outputs of a deployable model on seeded inputs.
 */
#ifndef SSCMA_TESTS_FIXTURE_QUANT_H
#define SSCMA_TESTS_FIXTURE_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

/* Debian's Fashion-MNIST test images, which calibrate the fixture models. */
#define FIXTURE_FASHION_TEST "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

/* A context with 2 threads and seed 7 (a failure fails the current case and gives NULL). */
sscma_context *fixture_context(void);

/* Whether FIXTURE_FASHION_TEST is installed. */
bool fixture_have_fashion(void);

/* Runs q (prepared for batch 1) on `n` int8 inputs from a fixed seed; the outputs (malloc'd), *bytes per sample. */
int8_t *fixture_run_int8(sscma_qmodel *q, int n, size_t *bytes);

#endif /* SSCMA_TESTS_FIXTURE_QUANT_H */
