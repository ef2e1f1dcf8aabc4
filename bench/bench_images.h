/* Image sets the benchmarks write once: shared by bench_loader and bench_quant. */
#ifndef SSCMA_BENCH_IMAGES_H
#define SSCMA_BENCH_IMAGES_H

#include <sscma/sscma.h>

/* Writes n 96x96 RGB JPEGs (Fashion-MNIST items, nearest-upscaled and tinted) into dir/class_k/ (k = label % 4). */
int write_jpeg_set(sscma_context *ctx, const char *dir, int n);

#endif /* SSCMA_BENCH_IMAGES_H */
