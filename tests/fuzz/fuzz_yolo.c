/*
 * libFuzzer target: YOLO label text (YoloDataset). The input's first line, up to a newline, is data.yaml; the rest is
 * the label file of the one 8x8 image.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    if (!ready) {
        fuzz_mkdir("images");
        fuzz_mkdir("labels");
        fuzz_png("images/a.png");
        ready = 1;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl != NULL ? (size_t)(nl - data) + 1 : size;
    fuzz_write("data.yaml", data, head);
    fuzz_write("labels/a.txt", data + head, size - head);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\"}", fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
