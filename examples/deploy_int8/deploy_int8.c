/*
 * deploy_int8: what an application on a Linux board does with an exported model — read the .tflite file with
 * libsscma's int8 runtime (the same kernels the tests check bit for bit against TFLite's reference kernels) and run
 * it on images, with SSCMA-Micro's pre- and post-processing.
 *
 *   deploy_int8 MODEL.tflite IMAGE...        (e.g. the fomo_int8.tflite that examples/run or sscma export wrote)
 *
 * Prints the model's input quantization (what a device feeds it) and, per image, the family's results: a
 * classifier's top classes, FOMO's objects (cell centres in image pixels), PFLD's keypoints.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <sscma/sscma.h>

#define CHECK(call)                                                                                            \
    do {                                                                                                       \
        if ((call) != SSCMA_OK) {                                                                              \
            fprintf(stderr, "deploy_int8: %s\n", sscma_last_error());                                          \
            goto out;                                                                                          \
        }                                                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: deploy_int8 MODEL.tflite IMAGE...\n");
        return 2;
    }
    int rc = 1;
    sscma_context *ctx = NULL;
    sscma_qmodel *model = NULL;
    sscma_tensor *image = NULL, *input = NULL;
    CHECK(sscma_context_create(NULL, &ctx));
    CHECK(sscma_qmodel_load_tflite(ctx, argv[1], &model));

    const char *family = "?", *classes = "[]";
    sscma_qmodel_meta(model, "family", &family);
    sscma_qmodel_meta(model, "classes", &classes);
    int is_int8 = 0;
    int64_t h = 0, w = 0, c = 0, weights = 0, arena = 0;
    CHECK(sscma_qmodel_is_int8(model, &is_int8));
    CHECK(sscma_qmodel_prepare(model, 1));
    CHECK(sscma_qmodel_input(model, 0, &input));
    sscma_tensor_dim(input, 1, &h), sscma_tensor_dim(input, 2, &w), sscma_tensor_dim(input, 3, &c);
    CHECK(sscma_qmodel_memory(model, 0, &weights, &arena));
    printf("%s: %s, %s, input %lld x %lld x %lld, weights %lld bytes, activation arena %lld bytes\n", argv[1],
           family, is_int8 ? "int8" : "float32", (long long)h, (long long)w, (long long)c, (long long)weights,
           (long long)arena);
    if (is_int8) {
        const float *scale = NULL;
        const int32_t *zero_point = NULL;
        int32_t axis = 0;
        int64_t count = 0;
        CHECK(sscma_tensor_quant(input, &axis, &count, &scale, &zero_point));
        printf("input quantization: q = round(x / %.8g) + %d (x = (pixel - mean) / std)\n", (double)scale[0],
               (int)zero_point[0]);
    }
    printf("classes: %s\n", classes);

    for (int i = 2; i < argc; i++) {
        sscma_prediction results[32];
        int32_t n = 0;
        CHECK(sscma_image_read(ctx, argv[i], 0, &image));
        CHECK(sscma_predict(model, image, NULL, results, 32, &n));
        printf("%s: %d result%s\n", argv[i], (int)n, n == 1 ? "" : "s");
        for (int32_t k = 0; k < n && k < 32; k++) {
            const sscma_prediction *r = &results[k];
            if (strcmp(family, "PFLD") == 0)
                printf("  point %d at (%.1f, %.1f)\n", (int)r->class_id, (double)r->x, (double)r->y);
            else if (strcmp(family, "Fomo") == 0)
                printf("  class %d, score %.3f, at (%.1f, %.1f)\n", (int)r->class_id, (double)r->score, (double)r->x,
                       (double)r->y);
            else
                printf("  class %d, probability %.4f\n", (int)r->class_id, (double)r->score);
        }
        sscma_tensor_destroy(image);
        image = NULL;
    }
    rc = 0;
out:
    sscma_tensor_destroy(image);
    sscma_qmodel_destroy(model);
    sscma_context_destroy(ctx);
    return rc;
}
