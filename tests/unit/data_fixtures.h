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

/*
 * Opens `config` (which must open), checks it has `samples` samples, and that sscma_dataset_check reports exactly
 * `problems` problems, among them a line containing each of the n needles (on_defect "skip" tests). Returns the
 * dataset (the caller destroys it), or NULL when it did not open.
 */
sscma_dataset *check_defects_listed(const char *config, int64_t samples, int64_t problems, const char *const *needles,
                                    size_t n);

/* Makes the context and the temporary folder, runs the cases (test_main), removes both; returns main's status. */
int data_test_main(int argc, char **argv, const test_case *cases, size_t count);

#endif /* SSCMA_TESTS_DATA_FIXTURES_H */
