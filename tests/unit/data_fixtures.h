/*
 * What the data.h tests (test_data_*.c) share: one context and one temporary folder per binary, the Fashion-MNIST
 * check, and (fixture_files.h) the file writers.
 */
#ifndef SSCMA_TESTS_DATA_FIXTURES_H
#define SSCMA_TESTS_DATA_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include <sscma/sscma.h>

#include "fixture_files.h"
#include "harness.h"

#define FASHION "/usr/share/datasets/fashion-mnist"

/* The binary's context and its temporary folder (/tmp/sscma-data-XXXXXX), both made by data_test_main. */
extern sscma_context *ctx;
extern char tmpdir[64];

/* Whether Debian's dataset-fashion-mnist is installed. */
bool have_fashion(void);

/*
 * Makes a FIFO at path (a file there is replaced) and arms a watchdog: a reader that blocks on it is killed by
 * SIGALRM after `seconds`, failing the binary instead of hanging it. Returns false (the case fails) when it cannot.
 * fifo_done() disarms the watchdog and removes the FIFO.
 */
bool fifo_make(const char *path, unsigned seconds);
void fifo_done(const char *path);

/* Makes the context and the temporary folder, runs the cases (test_main), removes both; returns main's status. */
int data_test_main(int argc, char **argv, const test_case *cases, size_t count);

#endif /* SSCMA_TESTS_DATA_FIXTURES_H */
