/* Image sets the benchmarks write (bench_images.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "bench_images.h"

/* Writes n 96x96 RGB JPEGs (Fashion-MNIST items, nearest-upscaled and tinted) into dir/class_k/. */
int write_jpeg_set(sscma_context *ctx, const char *dir, int n)
{
    sscma_dataset *src = NULL;
    if (sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\"}", &src) != SSCMA_OK)
        return 1;
    mkdir(dir, 0755);
    unsigned char *rgb = malloc(96 * 96 * 3);
    for (int i = 0; i < n && rgb != NULL; i++) {
        sscma_sample *s = NULL;
        if (sscma_dataset_get(src, i, &s) != SSCMA_OK)
            break;
        sscma_tensor *img = NULL;
        uint8_t *px = NULL;
        int32_t label = 0;
        sscma_sample_image(s, &img);
        sscma_tensor_data(img, (void **)&px);
        sscma_sample_label(s, &label);
        for (int y = 0; y < 96; y++)
            for (int x = 0; x < 96; x++) {
                uint8_t v = px[(y * 28 / 96) * 28 + x * 28 / 96];
                rgb[(y * 96 + x) * 3] = v, rgb[(y * 96 + x) * 3 + 1] = (uint8_t)(v * 3 / 4),
                                       rgb[(y * 96 + x) * 3 + 2] = (uint8_t)(v / 2);
            }
        char path[1100];
        snprintf(path, sizeof path, "%s/class_%d", dir, label % 4);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/class_%d/%05d.jpg", dir, label % 4, i);
        stbi_write_jpg(path, 96, 96, 3, rgb, 90);
        sscma_sample_destroy(s);
    }
    free(rgb);
    sscma_dataset_destroy(src);
    return 0;
}

