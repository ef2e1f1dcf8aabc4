/*
 * hello: the smallest libsscma program. Creates a context and an int8 NHWC tensor with quantization parameters,
 * prints the library version and what the tensor holds. Build it against an installed libsscma with
 *     cc hello.c $(pkg-config --cflags --libs sscma) -o hello
 */
#include <stdio.h>
#include <string.h>

#include <sscma/sscma.h>

static int fail(const char *what)
{
    fprintf(stderr, "hello: %s: %s\n", what, sscma_last_error());
    return 1;
}

int main(void)
{
    printf("libsscma %s (headers %s)\n", sscma_version(), SSCMA_VERSION_STRING);

    sscma_context_options options;
    if (sscma_context_options_init(&options, sizeof options) != SSCMA_OK)
        return fail("options");
    options.seed = 42;
    sscma_context *ctx = NULL;
    if (sscma_context_create(&options, &ctx) != SSCMA_OK)
        return fail("context");
    int32_t threads = 0;
    sscma_context_num_threads(ctx, &threads);
    printf("context: %d threads, seed 42\n", (int)threads);

    const int64_t dims[4] = {1, 96, 96, 3};
    sscma_tensor *image = NULL;
    if (sscma_tensor_create(ctx, SSCMA_DTYPE_I8, 4, dims, &image) != SSCMA_OK) {
        sscma_context_destroy(ctx);
        return fail("tensor");
    }
    sscma_tensor_set_layout(image, SSCMA_LAYOUT_NHWC);
    if (sscma_tensor_set_quant(image, 1.0f / 255.0f, -128) != SSCMA_OK) {
        sscma_tensor_destroy(image);
        sscma_context_destroy(ctx);
        return fail("quantization");
    }
    int64_t numel = 0;
    size_t size_bytes = 0;
    sscma_tensor_numel(image, &numel);
    sscma_tensor_size_bytes(image, &size_bytes);
    printf("tensor: %s [1, 96, 96, 3] NHWC, %lld elements, %zu bytes, scale 1/255, zero point -128\n",
           sscma_dtype_name(SSCMA_DTYPE_I8), (long long)numel, size_bytes);

    /* A mistake, to show what the library says about it. */
    const int64_t wrong[2] = {96, 96};
    if (sscma_tensor_reshape(image, 2, wrong) != SSCMA_OK)
        printf("expected error: %s\n", sscma_last_error());

    sscma_tensor_destroy(image);
    sscma_context_destroy(ctx);
    return strcmp(sscma_version(), SSCMA_VERSION_STRING) == 0 ? 0 : 2;
}
