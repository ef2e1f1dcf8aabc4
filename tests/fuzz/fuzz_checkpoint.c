/*
 * libFuzzer target: the checkpoint reader. The input is written as a checkpoint file and loaded into a small
 * layer-by-layer model (a 3x3 convolution and a linear head, a few hundred weights, so the seed stays small): a
 * load either succeeds or fails without changing the model, and never reads out of bounds.
 */
#include <sscma/experimental.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model every input is loaded into (tests/fuzz/make_seeds.c builds the same one for the seed). */
static sscma_model *small_model(void)
{
    static sscma_model *m;
    if (m != NULL)
        return m;
    const int64_t x[4] = {1, 8, 8, 1}, w[4] = {4, 3, 3, 1}, b[1] = {4}, fw[2] = {3, 4}, fb[1] = {3};
    const char *conv_in[3] = {"x", "conv.weight", "conv.bias"}, *gap_in[1] = {"conv"}, *flat_in[1] = {"gap"},
               *fc_in[3] = {"flat", "fc.weight", "fc.bias"};
    if (sscma_model_create_empty(fuzz_ctx, &m) != SSCMA_OK || sscma_model_add_input(m, "x", SSCMA_DTYPE_F32, 4, x, 0) ||
        sscma_model_add_param(m, "conv.weight", 4, w, SSCMA_PARAM_TRAINABLE, "kaiming_normal") ||
        sscma_model_add_param(m, "conv.bias", 1, b, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros") ||
        sscma_model_add_param(m, "fc.weight", 2, fw, SSCMA_PARAM_TRAINABLE, "uniform:0.5") ||
        sscma_model_add_param(m, "fc.bias", 1, fb, SSCMA_PARAM_TRAINABLE | SSCMA_PARAM_BIAS, "zeros") ||
        sscma_model_add_layer(m, "conv", "conv2d", "{\"pad_same\": true}", conv_in, 3) ||
        sscma_model_add_layer(m, "gap", "global_avg_pool", NULL, gap_in, 1) ||
        sscma_model_add_layer(m, "flat", "reshape", "{\"dims\": [-1, 4]}", flat_in, 1) ||
        sscma_model_add_layer(m, "fc", "linear", NULL, fc_in, 3) || sscma_model_add_output(m, "logits", "fc", 0))
    {
        fprintf(stderr, "fuzz_checkpoint: %s\n", sscma_last_error());
        abort(); /* the harness, not the input */
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    sscma_model *m = small_model();
    fuzz_write("in.ckpt", data, size);
    char path[256];
    snprintf(path, sizeof path, "%s/in.ckpt", fuzz_dir);
    (void)sscma_model_load(m, path);
    return 0;
}
