/* libFuzzer target: Pascal VOC XML (VOCDataset), with one valid 8x8 image JPEGImages/a.png. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    if (!ready) {
        fuzz_mkdir("Annotations");
        fuzz_mkdir("JPEGImages");
        fuzz_png("JPEGImages/a.png");
        ready = 1;
    }
    fuzz_write("Annotations/a.xml", data, size);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\", \"dog\"]}",
             fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
