/* libFuzzer target: the image decoding wrapper (stb_image behind the pixel bound), through a class-folder dataset. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    if (!ready) {
        fuzz_mkdir("cls");
        ready = 1;
    }
    /* the same bytes as every type the wrapper accepts by name */
    fuzz_write("cls/x.png", data, size);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\", \"max_pixels\": 1000000}",
             fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
