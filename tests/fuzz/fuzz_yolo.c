/*
 * libFuzzer target: YOLO label text (YoloDataset). The input's first line, up to a newline, is data.yaml; the rest is
 * the label file of the one 8x8 image.
 */
#include "fuzz_common.h"

#include <stb_image_write.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    char path[256];
    if (!ready) {
        snprintf(path, sizeof path, "%s/images", fuzz_dir);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/labels", fuzz_dir);
        mkdir(path, 0755);
        uint8_t px[64];
        memset(px, 90, sizeof px);
        snprintf(path, sizeof path, "%s/images/a.png", fuzz_dir);
        stbi_write_png(path, 8, 8, 1, px, 8);
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
