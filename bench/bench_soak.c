/*
 * Soak test (bench/soak runs it under the sanitized build; not part of the test suite): N threads, each with its
 * own counting allocator, loop for M minutes over the whole workflow on a tiny generated dataset:
 *
 *   context -> dataset (MNIST IDX, 16 images 16x16) -> loader -> classifier (MobileNetV2-0.35) -> one training step
 *   (trainer, one epoch of one batch) -> PTQ (sscma_quantize) -> predict (sscma_predict) -> destroy everything
 *
 * Every iteration creates a fresh context on the thread's allocator and destroys everything; odd iterations destroy
 * the context first (its children then free it: sscma_context_destroy). After each iteration the thread's
 * allocator must hold no block. Every `--sample` seconds the main thread prints the resident set and each thread's
 * counters; at the end of the `--warmup` seconds it keeps the largest resident set seen so far as the reference and
 * fails when a later sample exceeds it by more than `--rss-growth-mib`, or when a thread's peak live bytes in the last window
 * exceeds its warm-up peak by more than 10% (+ 64 KiB). Any library error fails at once.
 *
 *   bench_soak [--threads 8] [--minutes 10] [--seconds S] [--sample 5] [--warmup 30] [--rss-growth-mib 64]
 *
 * Prints one line per sample and a final JSON summary; exits 0 on success, 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sscma/sscma.h>

#define MAX_THREADS 64
#define N_IMAGES 16
#define SIDE 16

typedef struct counters {
    atomic_llong live_bytes, live_blocks, allocations;
    atomic_llong window_peak; /* largest live_bytes since the sampler last read it */
} counters;

typedef struct worker {
    int index;
    pthread_t thread;
    counters c;
    atomic_llong iterations;
    atomic_int failed;
    char error[512];
    long long warmup_peak; /* sampler only */
} worker;

static atomic_int stop_flag;
static char data_dir[] = "/tmp/sscma-soak-XXXXXX";

static void *soak_alloc(void *user, size_t size, size_t alignment)
{
    counters *c = user;
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    void *p = NULL;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    long long live = atomic_fetch_add(&c->live_bytes, (long long)size) + (long long)size;
    atomic_fetch_add(&c->live_blocks, 1);
    atomic_fetch_add(&c->allocations, 1);
    long long peak = atomic_load(&c->window_peak);
    while (live > peak && !atomic_compare_exchange_weak(&c->window_peak, &peak, live)) {
    }
    return p;
}

static void soak_free(void *user, void *ptr, size_t size)
{
    counters *c = user;
    atomic_fetch_sub(&c->live_bytes, (long long)size);
    atomic_fetch_sub(&c->live_blocks, 1);
    free(ptr);
}

static int write_file(const char *path, const void *head, size_t head_size, const void *body, size_t body_size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    int ok = fwrite(head, 1, head_size, f) == head_size && fwrite(body, 1, body_size, f) == body_size;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* MNIST IDX files of N_IMAGES images SIDE x SIDE, four classes, each class a different brightness pattern. */
static int write_dataset(void)
{
    if (mkdtemp(data_dir) == NULL)
        return -1;
    static unsigned char pixels[N_IMAGES * SIDE * SIDE], labels[N_IMAGES];
    for (int i = 0; i < N_IMAGES; i++) {
        labels[i] = (unsigned char)(i % 4);
        for (int p = 0; p < SIDE * SIDE; p++)
            pixels[i * SIDE * SIDE + p] = (unsigned char)((p * (labels[i] + 1) * 13 + i) % 256);
    }
    unsigned char ih[16], lh[8];
    be32(ih, 0x803), be32(ih + 4, N_IMAGES), be32(ih + 8, SIDE), be32(ih + 12, SIDE);
    be32(lh, 0x801), be32(lh + 4, N_IMAGES);
    char path[256];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", data_dir);
    if (write_file(path, ih, sizeof ih, pixels, sizeof pixels) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", data_dir);
    return write_file(path, lh, sizeof lh, labels, sizeof labels);
}

#define STEP(call)                                                                                             \
    do {                                                                                                       \
        if ((st = (call)) != SSCMA_OK) {                                                                       \
            snprintf(w->error, sizeof w->error, "iteration %lld: %s: %s", (long long)atomic_load(&w->iterations), \
                     #call, sscma_last_error());                                                               \
            goto done;                                                                                         \
        }                                                                                                      \
    } while (0)

/* One pass of the workflow on a fresh context; SSCMA_OK when every call succeeded. */
static sscma_status iteration(worker *w, long long n)
{
    sscma_status st = SSCMA_OK;
    sscma_context *ctx = NULL;
    sscma_dataset *ds = NULL;
    sscma_loader *loader = NULL;
    sscma_model *model = NULL;
    sscma_trainer *trainer = NULL;
    sscma_qmodel *q = NULL;
    sscma_sample *sample = NULL;
    char cfg[512];

    sscma_context_options o;
    STEP(sscma_context_options_init(&o, sizeof o));
    o.num_threads = 1;
    o.seed = (uint64_t)n;
    o.log_level = SSCMA_LOG_ERROR;
    o.alloc_fn = soak_alloc, o.free_fn = soak_free, o.alloc_user_data = &w->c;
    STEP(sscma_context_create(&o, &ctx));
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", data_dir);
    STEP(sscma_dataset_open(ctx, cfg, &ds));
    STEP(sscma_loader_create(ctx, ds,
                             "{\"batch_size\": 16, \"shuffle\": true, \"num_workers\": 1, \"pipeline\": ["
                             "{\"type\": \"Normalize\", \"mean\": [64], \"std\": [64]}]}",
                             &loader));
    STEP(sscma_model_create(ctx,
                            "{\"type\": \"ImageClassifier\", \"input_size\": [16, 16],"
                            " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
                            " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4}}",
                            &model));
    STEP(sscma_trainer_create(model, loader, NULL,
                              "{\"max_epochs\": 1, \"optim_wrapper\": {\"optimizer\": {\"type\": \"SGD\","
                              " \"lr\": 0.01, \"momentum\": 0.9}}, \"default_hooks\": {\"checkpoint\": null}}",
                              &trainer));
    STEP(sscma_trainer_train(trainer)); /* one epoch of one batch: one step */
    STEP(sscma_quantize(model, loader, NULL, &q));
    STEP(sscma_qmodel_set_meta(q, "family", "ImageClassifier"));
    STEP(sscma_qmodel_set_meta(q, "mean", "[64]"));
    STEP(sscma_qmodel_set_meta(q, "std", "[64]"));
    STEP(sscma_dataset_get(ds, n % N_IMAGES, &sample));
    sscma_tensor *image = NULL;
    STEP(sscma_sample_image(sample, &image));
    sscma_prediction results[4];
    int32_t count = 0;
    STEP(sscma_predict(q, image, NULL, results, 4, &count));
    if (count < 1 || results[0].class_id < 0 || results[0].class_id > 3) {
        snprintf(w->error, sizeof w->error, "iteration %lld: sscma_predict gave %d results, class %d", n, (int)count,
                 count > 0 ? (int)results[0].class_id : -1);
        st = SSCMA_ERR_INTERNAL;
    }
done:
    if (n % 2 == 1) /* the context first: the last of its children frees it */
        sscma_context_destroy(ctx), ctx = NULL;
    sscma_sample_destroy(sample);
    sscma_qmodel_destroy(q);
    sscma_trainer_destroy(trainer);
    sscma_loader_destroy(loader);
    sscma_model_destroy(model);
    sscma_dataset_destroy(ds);
    sscma_context_destroy(ctx);
    return st;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (long long n = 0; !atomic_load(&stop_flag); n++) {
        if (iteration(w, n) != SSCMA_OK) {
            atomic_store(&w->failed, 1);
            break;
        }
        long long blocks = atomic_load(&w->c.live_blocks), bytes = atomic_load(&w->c.live_bytes);
        if (blocks != 0 || bytes != 0) {
            snprintf(w->error, sizeof w->error, "iteration %lld: %lld blocks (%lld bytes) not returned", n, blocks,
                     bytes);
            atomic_store(&w->failed, 1);
            break;
        }
        atomic_fetch_add(&w->iterations, 1);
    }
    return NULL;
}

static long long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atoll(line + 6);
    if (f != NULL)
        fclose(f);
    return kib;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int threads = 8;
    double seconds = 600, sample_s = 5, warmup_s = 30, rss_growth_mib = 64;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            goto usage;
        if (strcmp(a, "--threads") == 0)
            threads = atoi(v);
        else if (strcmp(a, "--minutes") == 0)
            seconds = 60 * atof(v);
        else if (strcmp(a, "--seconds") == 0)
            seconds = atof(v);
        else if (strcmp(a, "--sample") == 0)
            sample_s = atof(v);
        else if (strcmp(a, "--warmup") == 0)
            warmup_s = atof(v);
        else if (strcmp(a, "--rss-growth-mib") == 0)
            rss_growth_mib = atof(v);
        else
            goto usage;
        i++;
    }
    if (threads < 1 || threads > MAX_THREADS || seconds <= 0 || sample_s <= 0 || warmup_s < 0)
        goto usage;
    if (write_dataset() != 0) {
        fprintf(stderr, "bench_soak: cannot write the dataset in %s\n", data_dir);
        return 1;
    }
    static worker workers[MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        workers[t].index = t;
        if (pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0) {
            fprintf(stderr, "bench_soak: cannot start thread %d\n", t);
            return 1;
        }
    }
    const double start = now_s();
    long long rss_reference = -1, rss_max = 0, rss_start = rss_kib();
    bool failed = false, warm = false;
    char why[600] = "";
    while (!failed) {
        double left = seconds - (now_s() - start);
        if (left <= 0)
            break;
        struct timespec nap = {(time_t)(left < sample_s ? left : sample_s), 0};
        nap.tv_nsec = (long)(1e9 * ((left < sample_s ? left : sample_s) - (double)nap.tv_sec));
        nanosleep(&nap, NULL);
        const double t = now_s() - start;
        const long long rss = rss_kib();
        if (rss > rss_max)
            rss_max = rss;
        long long iters = 0, live = 0;
        printf("t=%6.1fs rss=%lld KiB", t, rss);
        for (int k = 0; k < threads; k++) {
            worker *w = &workers[k];
            long long peak = atomic_exchange(&w->c.window_peak, atomic_load(&w->c.live_bytes));
            iters += atomic_load(&w->iterations), live += atomic_load(&w->c.live_bytes);
            if (atomic_load(&w->failed)) {
                snprintf(why, sizeof why, "thread %d: %s", k, w->error);
                failed = true;
            } else if (!warm) {
                if (peak > w->warmup_peak)
                    w->warmup_peak = peak;
            } else if (peak > w->warmup_peak + w->warmup_peak / 10 + 65536) {
                snprintf(why, sizeof why, "thread %d: peak live bytes %lld in the last %.0f s, warm-up peak %lld", k,
                         peak, sample_s, w->warmup_peak);
                failed = true;
            }
        }
        printf(" iterations=%lld live_bytes=%lld%s\n", iters, live, warm ? "" : " (warm-up)");
        fflush(stdout);
        if (!warm && t >= warmup_s) {
            warm = true;
            rss_reference = rss_max; /* the largest resident set of the warm-up */
        } else if (warm && rss > rss_reference + (long long)(rss_growth_mib * 1024)) {
            snprintf(why, sizeof why, "resident set %lld KiB, %lld KiB after warm-up (bound +%.0f MiB)", rss,
                     rss_reference, rss_growth_mib);
            failed = true;
        }
    }
    atomic_store(&stop_flag, 1);
    long long iters = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(workers[t].thread, NULL);
        iters += atomic_load(&workers[t].iterations);
        if (!failed && atomic_load(&workers[t].failed)) {
            snprintf(why, sizeof why, "thread %d: %s", t, workers[t].error);
            failed = true;
        }
    }
    if (!failed && !warm) {
        snprintf(why, sizeof why, "the run (%.0f s) ended before the warm-up (%.0f s): nothing was measured", seconds,
                 warmup_s);
        failed = true;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_soak: cannot remove %s\n", data_dir);
    printf("{\"threads\": %d, \"seconds\": %.0f, \"iterations\": %lld, \"rss_start_kib\": %lld, "
           "\"rss_after_warmup_kib\": %lld, \"rss_max_kib\": %lld, \"rss_bound_mib\": %.0f, \"result\": \"%s\"}\n",
           threads, now_s() - start, iters, rss_start, rss_reference, rss_max, rss_growth_mib,
           failed ? "FAIL" : "ok");
    if (failed)
        fprintf(stderr, "bench_soak: FAIL: %s\n", why);
    return failed ? 1 : 0;

usage:
    fprintf(stderr, "usage: bench_soak [--threads N] [--minutes M | --seconds S] [--sample S] [--warmup S] "
                    "[--rss-growth-mib N]\n");
    return 2;
}
