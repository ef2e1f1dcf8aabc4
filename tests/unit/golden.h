/* Reads the golden files written by tests/golden/gen_*.py (format in gen_ops.py) and compares against them. */
#ifndef SSCMA_TEST_GOLDEN_H
#define SSCMA_TEST_GOLDEN_H

#include <stdint.h>

#include <sscma/tensor.h>

typedef struct golden_record {
    char name[128];
    sscma_dtype dtype;
    int32_t rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    int64_t numel;
    void *data;
} golden_record;

typedef struct golden_file {
    golden_record *records;
    int count;
} golden_file;

/* Returns 0 on success. */
int golden_load(golden_file *f, const char *path);
void golden_free(golden_file *f);
/* The record called name, or NULL. */
const golden_record *golden_find(const golden_file *f, const char *name);
/*
 * Largest violation of |ours - ref| <= rtol * (|ref| + rms(ref)) over the elements, as a multiple of rtol (<= 1
 * passes); *where receives the worst element.
 */
double golden_compare(const float *ours, const golden_record *ref, double rtol, int64_t *where);

#endif /* SSCMA_TEST_GOLDEN_H */
