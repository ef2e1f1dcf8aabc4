/*
 * libFuzzer target: TFLite files (sscma_qmodel_load_tflite). A file that loads is prepared and run once, so that
 * whatever the reader accepts is also safe for the runtime (the validator's job).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    fuzz_write("model.tflite", data, size);
    char path[256];
    snprintf(path, sizeof path, "%s/model.tflite", fuzz_dir);
    sscma_qmodel *q = NULL;
    if (sscma_qmodel_load_tflite(fuzz_ctx, path, &q) == SSCMA_OK) {
        if (sscma_qmodel_prepare(q, 1) == SSCMA_OK)
            (void)sscma_qmodel_run(q);
        sscma_qmodel_destroy(q);
    }
    return 0;
}
