/*
 * libFuzzer target: MNIST IDX files. The first input byte picks where the input splits into the image file and the
 * label file (and whether they are written raw or are read as given: gzip magic is detected by the reader).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (size < 1)
        return 0;
    size_t rest = size - 1, cut = rest == 0 ? 0 : (size_t)data[0] * rest / 255;
    fuzz_write("train-images-idx3-ubyte", data + 1, cut);
    fuzz_write("train-labels-idx1-ubyte", data + 1 + cut, rest - cut);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
