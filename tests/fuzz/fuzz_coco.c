/* libFuzzer target: COCO JSON annotations (CocoDataset), next to one valid 8x8 image "a.png". */
#include "fuzz_common.h"

#include <stb_image_write.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int have_image;
    if (!have_image) {
        uint8_t px[64];
        memset(px, 128, sizeof px);
        char path[256];
        snprintf(path, sizeof path, "%s/a.png", fuzz_dir);
        stbi_write_png(path, 8, 8, 1, px, 8);
        have_image = 1;
    }
    fuzz_write("ann.json", data, size);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": \"ann.json\"}",
             fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
