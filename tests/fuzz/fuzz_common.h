/*
 * Shared by the libFuzzer targets: one context and one scratch folder per process, and a helper that writes the
 * fuzz input to a file there. Build and run: tests/fuzz/run (clang, -fsanitize=fuzzer,address,undefined).
 */
#ifndef SSCMA_FUZZ_COMMON_H
#define SSCMA_FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sscma/sscma.h>
#include <stb_image_write.h>

static sscma_context *fuzz_ctx;
static char fuzz_dir[64];

/* Creates the context (quiet, one thread) and the scratch folder on the first call. */
static void fuzz_init(void)
{
    if (fuzz_ctx != NULL)
        return;
    sscma_context_options opt;
    sscma_context_options_init(&opt, sizeof opt);
    opt.num_threads = 1;
    opt.log_level = SSCMA_LOG_ERROR;
    if (sscma_context_create(&opt, &fuzz_ctx) != SSCMA_OK)
        abort(); /* the harness itself is broken, not the input */
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/sscma-fuzz-XXXXXX");
    if (mkdtemp(fuzz_dir) == NULL)
        abort();
}

static void fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size > 0)
        fwrite(data, 1, size, f);
    fclose(f);
}

/* Creates fuzz_dir/name (a folder), ignoring an existing one. */
static void fuzz_mkdir(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
    mkdir(path, 0755);
}

/* Writes a valid 8x8 grey PNG at fuzz_dir/name, for the annotations under test to point at. */
static void fuzz_png(const char *name)
{
    uint8_t px[64];
    memset(px, 90, sizeof px);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
    stbi_write_png(path, 8, 8, 1, px, 8);
}

/* Opens a dataset from config and reads every sample (bounded), as a loader would. */
static void fuzz_open_and_read(const char *config)
{
    sscma_dataset *ds = NULL;
    if (sscma_dataset_open(fuzz_ctx, config, &ds) != SSCMA_OK)
        return;
    int64_t n = 0;
    sscma_dataset_size(ds, &n);
    for (int64_t i = 0; i < n && i < 64; i++) {
        sscma_sample *s = NULL;
        if (sscma_dataset_get(ds, i, &s) == SSCMA_OK) {
            int32_t count = 0;
            sscma_sample_boxes(s, &count, NULL, NULL);
            sscma_sample_keypoints(s, &count, NULL);
        }
        sscma_sample_destroy(s);
    }
    sscma_dataset_destroy(ds);
}

#endif /* SSCMA_FUZZ_COMMON_H */
