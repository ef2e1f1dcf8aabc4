/*
 * Loader throughput: samples per second that sscma_loader_next delivers over whole epochs, for
 *   fmnist  Fashion-MNIST train (60,000 IDX images) through the training recipe's pipeline (Pad 2, RandomFlip,
 *           Normalize), batch 64
 *   jpeg    a class-folder set of 96x96 RGB JPEG files (written once from Fashion-MNIST, 4 classes, N images)
 *           through Resize 96, RandomFlip, Normalize, batch 32
 * with 0 workers (the caller's thread and the context pool) and 1 or 2 worker threads, on a context of T threads.
 * Prints one JSON line per configuration: {"set", "workers", "threads", "samples_per_s", "seconds"} (median of
 * `repeats` epochs).
 *
 *   bench_loader DIR [repeats] [jpeg_images]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sscma/sscma.h>

#include "bench_images.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run(sscma_context *ctx, sscma_dataset *ds, const char *set, const char *pipeline, int batch, int workers,
                int threads, int repeats)
{
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "{\"batch_size\": %d, \"shuffle\": true, \"num_workers\": %d, \"prefetch\": 4, "
             "\"pipeline\": %s}", batch, workers, pipeline);
    sscma_loader *l = NULL;
    if (sscma_loader_create(ctx, ds, cfg, &l) != SSCMA_OK) {
        fprintf(stderr, "bench_loader: %s\n", sscma_last_error());
        return;
    }
    int64_t dims[4], n = 0;
    sscma_loader_batch_shape(l, dims);
    sscma_dataset_size(ds, &n);
    sscma_tensor *images = NULL, *labels = NULL;
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &images);
    sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, dims, &labels);
    double times[16];
    for (int r = 0; r < repeats && r < 16; r++) {
        sscma_loader_start_epoch(l, r);
        double t0 = now();
        int64_t count = 0;
        do {
            if (sscma_loader_next(l, images, labels, &count) != SSCMA_OK)
                break;
        } while (count > 0);
        times[r] = now() - t0;
    }
    qsort(times, (size_t)repeats, sizeof *times, cmp_double);
    double med = times[repeats / 2];
    printf("{\"set\": \"%s\", \"samples\": %lld, \"workers\": %d, \"threads\": %d, \"samples_per_s\": %.0f, "
           "\"seconds\": %.3f}\n", set, (long long)n, workers, threads, (double)n / med, med);
    fflush(stdout);
    sscma_tensor_destroy(images), sscma_tensor_destroy(labels);
    sscma_loader_destroy(l);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [repeats] [jpeg_images]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int repeats = argc > 2 ? atoi(argv[2]) : 3, jpegs = argc > 3 ? atoi(argv[3]) : 4000;
    if (repeats < 1 || repeats > 16)
        repeats = 3;
    mkdir(dir, 0755);
    for (int threads = 1; threads <= 2; threads++) {
        sscma_context_options opt;
        sscma_context_options_init(&opt, sizeof opt);
        opt.num_threads = threads;
        sscma_context *ctx = NULL;
        if (sscma_context_create(&opt, &ctx) != SSCMA_OK)
            return 1;
        char jdir[512], cfg[600];
        snprintf(jdir, sizeof jdir, "%s/jpeg96", dir);
        struct stat sb;
        if (stat(jdir, &sb) != 0 && write_jpeg_set(ctx, jdir, jpegs) != 0)
            return 1;
        sscma_dataset *fm = NULL, *jp = NULL;
        snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\"}", jdir);
        if (sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"train\"}", &fm) != SSCMA_OK ||
            sscma_dataset_open(ctx, cfg, &jp) != SSCMA_OK) {
            fprintf(stderr, "bench_loader: %s\n", sscma_last_error());
            return 1;
        }
        for (int workers = 0; workers <= 2; workers++) {
            run(ctx, fm, "fmnist", "[{\"type\": \"Pad\", \"padding\": 2}, {\"type\": \"RandomFlip\"}, "
                "{\"type\": \"Normalize\", \"mean\": [72.94], \"std\": [90.02]}]", 64, workers, threads, repeats);
            run(ctx, jp, "jpeg96", "[{\"type\": \"Resize\", \"size\": 96}, {\"type\": \"RandomFlip\"}, "
                "{\"type\": \"Normalize\", \"mean\": [128], \"std\": [64]}]", 32, workers, threads, repeats);
        }
        sscma_dataset_destroy(fm), sscma_dataset_destroy(jp);
        sscma_context_destroy(ctx);
    }
    return 0;
}
