/* libFuzzer target: COCO JSON annotations (CocoDataset), next to one valid 8x8 image "a.png". */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int have_image;
    if (!have_image) {
        fuzz_png("a.png");
        have_image = 1;
    }
    fuzz_write("ann.json", data, size);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": \"ann.json\"}",
             fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
