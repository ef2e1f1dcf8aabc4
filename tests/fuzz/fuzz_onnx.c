/*
 * libFuzzer target: pretrained weights from an ONNX file (lib/export/onnx_read.c, through the runner's load_from).
 * The input is written as the file a small classifier's config loads (MobileNetV2-0.35, 1 channel, stage 0 only, so
 * each run builds a few dozen tensors): the runner either builds, with whatever initializers matched copied in and
 * the rest reported, or fails naming the file; never reads out of bounds or leaks. Seed: the classifier exported by
 * tests/golden/gen_pretrained.py (its stage-1 tensors are unexpected keys here).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sscma_config *cfg;
    fuzz_init();
    if (cfg == NULL) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"model\": {\"type\": \"ImageClassifier\", \"input_size\": [32, 32], \"backbone\": {\"type\":"
                 " \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1, \"out_indices\": [0]}, \"neck\":"
                 " {\"type\": \"GlobalAveragePooling\"}, \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4,"
                 " \"in_channels\": 8}}, \"load_from\": \"%s/in.onnx\"}",
                 fuzz_dir);
        if (sscma_config_parse(text, NULL, &cfg) != SSCMA_OK)
            abort(); /* the harness, not the input */
    }
    fuzz_write("in.onnx", data, size);
    sscma_runner *r = NULL;
    if (sscma_runner_create(fuzz_ctx, cfg, &r) == SSCMA_OK)
        sscma_runner_destroy(r);
    return 0;
}
