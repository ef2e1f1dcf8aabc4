/*
 * libFuzzer target: MeterData keypoint sets in both forms. The input is split at the first NUL byte: the index
 * file (annotations.txt: `image x1 y1 x2 y2 ...` per line) and a labelme JSON (a set without an index file); each
 * set has one valid 8x8 image, a.png, for the annotations to point at.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    if (!ready) {
        fuzz_mkdir("index");
        fuzz_mkdir("labelme");
        fuzz_png("index/a.png");
        fuzz_png("labelme/a.png");
        ready = 1;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul != NULL ? (size_t)(nul - data) : size;
    fuzz_write("index/annotations.txt", data, first);
    fuzz_write("labelme/a.json", nul != NULL ? nul + 1 : data + size, nul != NULL ? size - first - 1 : 0);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s/index\", \"index_file\": \"annotations.txt\"}",
             fuzz_dir);
    fuzz_open_and_read(cfg);
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s/labelme\"}", fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
