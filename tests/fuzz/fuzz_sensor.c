/*
 * libFuzzer target: SensorDataset recordings in both forms. The input is split at the first NUL byte: an Edge
 * Impulse data acquisition JSON (a.json) and a CSV recording (b.csv), listed by a fixed info.labels; each is also
 * opened alone as an ann_file (one recording, the form sscma infer uses), with resampling to 62.5 Hz.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static int ready;
    if (!ready) {
        static const char labels[] =
            "{\"files\": [{\"path\": \"a.json\", \"category\": \"training\", \"label\": {\"label\": \"x\"}},"
            " {\"path\": \"b.csv\", \"category\": \"training\", \"label\": {\"label\": \"y\"}}]}";
        fuzz_write("info.labels", (const uint8_t *)labels, sizeof labels - 1);
        ready = 1;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t first = nul != NULL ? (size_t)(nul - data) : size;
    fuzz_write("a.json", data, first);
    fuzz_write("b.csv", nul != NULL ? nul + 1 : data + size, nul != NULL ? size - first - 1 : 0);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window_size\": 8, \"stride\": 3, "
             "\"on_defect\": \"skip\"}", fuzz_dir);
    fuzz_open_and_read(cfg);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"ann_file\": \"a.json\", "
             "\"window_size\": 5, \"stride\": 2, \"frequency\": 62.5, \"flatten\": false}", fuzz_dir);
    fuzz_open_and_read(cfg);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"ann_file\": \"b.csv\", "
             "\"window_size\": 4, \"stride\": 1, \"frequency\": 100, \"mean\": [1], \"std\": [2]}", fuzz_dir);
    fuzz_open_and_read(cfg);
    return 0;
}
