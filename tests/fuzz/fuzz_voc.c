/* libFuzzer target: Pascal VOC XML (VOCDataset), with one valid 8x8 image JPEGImages/a.png. */
#include "fuzz_common.h"

#include <stb_image_write.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    char path[256];
    if (!ready) {
        snprintf(path, sizeof path, "%s/Annotations", fuzz_dir);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/JPEGImages", fuzz_dir);
        mkdir(path, 0755);
        uint8_t px[64];
        memset(px, 90, sizeof px);
        snprintf(path, sizeof path, "%s/JPEGImages/a.png", fuzz_dir);
        stbi_write_png(path, 8, 8, 1, px, 8);
        ready = 1;
    }
    fuzz_write("Annotations/a.xml", data, size);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\", \"dog\"]}",
             fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
