/*
 * One allocator (docs/architecture.md, "Memory"): a context whose hooks count every block runs a training epoch
 * (loader workers, optimizer, scheduler, EMA, logger, checkpoints), a quantization and the TFLite, ONNX and C-array
 * exports plus a TFLite read-back; once everything is destroyed every byte it handed out has come back, and each
 * free named the size that block was allocated with.
 *
 * lib/quant/qmodel.c and lib/quant/predict.c still use the C allocator for part of their memory (pending their
 * conversion, listed in tests/scripts/check-alloc.sh): those blocks are not seen here, so they cannot fail the test.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sscma/sscma.h>

#include "core/internal.h"
#include "fixture_models.h"
#include "harness.h"

/* ---- a counting allocator: live blocks by address (open addressing), sizes checked on free ---- */

#define TABLE_SIZE (1u << 20)

typedef struct counting {
    pthread_mutex_t lock;
    void **ptrs; /* NULL = empty, TOMBSTONE = removed */
    size_t *sizes;
    int64_t live_blocks, live_bytes, allocations, frees;
    int64_t wrong_size, unknown, misaligned, table_full;
} counting;

static char tombstone;
#define TOMBSTONE ((void *)&tombstone)

static size_t slot_of(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33, x *= 0xff51afd7ed558ccdULL, x ^= x >> 33;
    return (size_t)(x & (TABLE_SIZE - 1));
}

static void *counting_alloc(void *user, size_t size, size_t alignment)
{
    counting *c = user;
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    void *p = NULL;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    pthread_mutex_lock(&c->lock);
    size_t i = slot_of(p), n = 0;
    while (c->ptrs[i] != NULL && c->ptrs[i] != TOMBSTONE && n < TABLE_SIZE)
        i = (i + 1) & (TABLE_SIZE - 1), n++;
    if (n == TABLE_SIZE)
        c->table_full++;
    else
        c->ptrs[i] = p, c->sizes[i] = size;
    c->live_blocks++, c->live_bytes += (int64_t)size, c->allocations++;
    pthread_mutex_unlock(&c->lock);
    return p;
}

static void counting_free(void *user, void *p, size_t size)
{
    counting *c = user;
    pthread_mutex_lock(&c->lock);
    size_t i = slot_of(p), n = 0;
    while (c->ptrs[i] != p && c->ptrs[i] != NULL && n < TABLE_SIZE)
        i = (i + 1) & (TABLE_SIZE - 1), n++;
    if (c->ptrs[i] != p) {
        c->unknown++; /* not ours: leave it alone rather than corrupt the heap */
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (c->sizes[i] != size) {
        if (c->wrong_size == 0)
            fprintf(stderr, "# free of %p with size %zu; allocated with %zu\n", p, size, c->sizes[i]);
        c->wrong_size++;
    }
    c->live_blocks--, c->live_bytes -= (int64_t)c->sizes[i], c->frees++;
    c->ptrs[i] = TOMBSTONE;
    pthread_mutex_unlock(&c->lock);
    free(p);
}

/* ---- a small MNIST-format dataset in a temporary folder ---- */

#define N_TRAIN 48
#define N_TEST 16

static char tmpdir[] = "/tmp/sscma-alloc-XXXXXX";

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# cannot remove %s\n", dir);
}

/* ---- the tests ---- */

/* A context of `threads` workers whose hooks count into c (the table allocated here); NULL on failure. */
static sscma_context *counting_context(counting *c, int32_t threads)
{
    memset(c, 0, sizeof *c);
    c->ptrs = calloc(TABLE_SIZE, sizeof(void *)), c->sizes = calloc(TABLE_SIZE, sizeof(size_t));
    pthread_mutex_init(&c->lock, NULL);
    CHECK(c->ptrs != NULL && c->sizes != NULL);
    sscma_context_options o;
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.num_threads = threads;
    o.log_level = SSCMA_LOG_OFF;
    o.alloc_fn = counting_alloc, o.free_fn = counting_free, o.alloc_user_data = c;
    if (c->ptrs != NULL && c->sizes != NULL)
        CHECK_OK(sscma_context_create(&o, &ctx));
    return ctx;
}

/* After the context is destroyed: nothing live, and every free was of a block of the hooks with its size. */
static void counting_check_and_free(counting *c)
{
    CHECK_INT_EQ(c->table_full, 0);
    CHECK_INT_EQ(c->unknown, 0);    /* every block freed through the hooks was allocated through them */
    CHECK_INT_EQ(c->wrong_size, 0); /* with the size it was allocated with */
    CHECK_INT_EQ(c->live_blocks, 0);
    CHECK_INT_EQ(c->live_bytes, 0);
    pthread_mutex_destroy(&c->lock);
    free(c->ptrs);
    free(c->sizes);
}

static void train_quantize_export_return_every_byte(void)
{
    counting c;
    sscma_context *ctx = counting_context(&c, 2);
    if (ctx == NULL) {
        counting_check_and_free(&c);
        return;
    }

    char cfg[1024], work[300], path[400], header[400];
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", tmpdir);
    sscma_dataset *ds = NULL;
    sscma_loader *train = NULL, *val = NULL, *calib = NULL;
    sscma_model *model = NULL;
    sscma_trainer *trainer = NULL;
    sscma_qmodel *q = NULL, *back = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_OK(sscma_loader_create(ctx, ds,
                                 "{\"batch_size\": 16, \"shuffle\": true, \"num_workers\": 1, \"pipeline\": ["
                                 "{\"type\": \"RandomCrop\", \"size\": 16, \"padding\": 1},"
                                 "{\"type\": \"Normalize\", \"mean\": [64], \"std\": [64]}]}",
                                 &train));
    CHECK_OK(sscma_loader_create(ctx, ds,
                                 "{\"batch_size\": 16, \"pipeline\": [{\"type\": \"Normalize\", \"mean\": [64],"
                                 " \"std\": [64]}]}",
                                 &val));
    CHECK_OK(sscma_model_create(ctx,
                                "{\"type\": \"ImageClassifier\", \"input_size\": [16, 16],"
                                " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
                                " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4, \"dropout\": 0.2}}",
                                &model));
    snprintf(work, sizeof work, "%s/work", tmpdir);
    mkdir(work, 0755);
    snprintf(cfg, sizeof cfg,
             "{\"max_epochs\": 1, \"work_dir\": \"%s\","
             " \"optim_wrapper\": {\"optimizer\": {\"type\": \"AdamW\", \"lr\": 0.005, \"weight_decay\": 0.0001}},"
             " \"param_scheduler\": [{\"type\": \"LinearLR\", \"start_factor\": 0.1, \"by_epoch\": false, \"end\": 2},"
             "   {\"type\": \"CosineAnnealingLR\", \"T_max\": 1, \"by_epoch\": true, \"begin\": 0}],"
             " \"val_evaluator\": {\"type\": \"Accuracy\", \"topk\": [1, 2]},"
             " \"default_hooks\": {\"checkpoint\": {\"interval\": 1, \"max_keep_ckpts\": 1, \"save_best\": \"auto\"},"
             "   \"logger\": {\"interval\": 1}},"
             " \"custom_hooks\": [{\"type\": \"EMAHook\", \"momentum\": 0.01, \"priority\": 49}]}",
             work);
    if (model != NULL && train != NULL && val != NULL)
        CHECK_OK(sscma_trainer_create(model, train, val, cfg, &trainer));
    int64_t before_train = c.allocations;
    if (trainer != NULL)
        CHECK_OK(sscma_trainer_train(trainer));
    CHECK(c.allocations > before_train); /* the epoch's memory came through the hooks */
    sscma_trainer_destroy(trainer);

    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 8, \"pipeline\": [{\"type\": \"Normalize\","
                                 " \"mean\": [64], \"std\": [64]}]}", &calib));
    if (model != NULL && calib != NULL)
        CHECK_OK(sscma_quantize(model, calib, NULL, &q));
    if (q != NULL) {
        int64_t before_export = c.allocations;
        snprintf(path, sizeof path, "%s/model.tflite", tmpdir);
        CHECK_OK(sscma_export_tflite(q, path));
        CHECK_OK(sscma_qmodel_load_tflite(ctx, path, &back));
        snprintf(path, sizeof path, "%s/model.onnx", tmpdir);
        CHECK_OK(sscma_export_onnx(q, path));
        snprintf(header, sizeof header, "%s/model_data.h", tmpdir);
        snprintf(path, sizeof path, "%s/model_data.c", tmpdir);
        CHECK_OK(sscma_export_c_array(q, header, path, "model_data"));
        CHECK(c.allocations > before_export);
    }
    sscma_qmodel_destroy(back);
    sscma_qmodel_destroy(q);
    sscma_loader_destroy(calib);
    sscma_loader_destroy(val);
    sscma_loader_destroy(train);
    sscma_model_destroy(model);
    sscma_dataset_destroy(ds);
    sscma_context_destroy(ctx);

    fprintf(stderr, "# %lld allocations, %lld frees through the hooks\n", (long long)c.allocations,
            (long long)c.frees);
    CHECK(c.allocations > 1000);
    counting_check_and_free(&c);
}

/* core's helpers (lib/core/internal.h) seen from the hooks: overflow refused before allocating, header-prefixed
 * blocks freed with the size they were allocated with, realloc keeping the contents. */
static void core_helpers_check_sizes_and_overflow(void)
{
    counting c;
    sscma_context *ctx = counting_context(&c, 1);
    if (ctx == NULL) {
        counting_check_and_free(&c);
        return;
    }
    const int64_t base = c.allocations, base_live = c.live_blocks; /* the context and its pool */
    const size_t huge = SIZE_MAX / 2 + 2;
    CHECK(sscma_alloc_array(ctx, huge, 2, 8) == NULL);
    CHECK(sscma_calloc(ctx, 2, huge) == NULL);
    CHECK(sscma_malloc(ctx, SIZE_MAX - 4) == NULL);
    CHECK_INT_EQ(c.allocations, base); /* refused before reaching the hooks */

    char *empty = sscma_malloc(ctx, 0); /* malloc-like: a valid block */
    CHECK(empty != NULL);
    CHECK_INT_EQ(sscma_msize(empty), 0);
    char *s = sscma_mstrndup(ctx, "allocator", 5);
    CHECK_STR_EQ(s, "alloc");
    s = sscma_mrealloc(ctx, s, 4096);
    CHECK(s != NULL && strcmp(s, "alloc") == 0);
    CHECK_INT_EQ(sscma_msize(s), 4096);
    int32_t *v = sscma_calloc(ctx, 100, sizeof *v);
    CHECK(v != NULL && v[99] == 0);
    double *d = sscma_alloc_array(ctx, 10, sizeof *d, 64);
    CHECK(d != NULL && ((uintptr_t)d & 63) == 0);
    d[9] = 1.5;
    d = sscma_realloc(ctx, d, 10 * sizeof *d, 20 * sizeof *d, 64);
    CHECK(d != NULL && d[9] == 1.5);
    CHECK_INT_EQ(c.live_blocks, base_live + 4); /* empty, s, v and d */
    sscma_mfree(ctx, empty), sscma_mfree(ctx, s), sscma_mfree(ctx, v);
    sscma_free(ctx, d, 20 * sizeof *d);
    sscma_mfree(ctx, NULL);
    sscma_context_destroy(ctx);
    counting_check_and_free(&c);
}

int main(int argc, char **argv)
{
    if (mkdtemp(tmpdir) == NULL) {
        fprintf(stderr, "cannot create %s\n", tmpdir);
        return 1;
    }
    if (!fixture_quadrant_split(tmpdir, "train", N_TRAIN, 16, 1) || !fixture_quadrant_split(tmpdir, "t10k", N_TEST, 16, 2)) {
        fprintf(stderr, "cannot write the dataset in %s\n", tmpdir);
        remove_tree(tmpdir);
        return 1;
    }
    static const test_case cases[] = {
        TEST_CASE(train_quantize_export_return_every_byte),
        TEST_CASE(core_helpers_check_sizes_and_overflow),
    };
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    remove_tree(tmpdir);
    return rc;
}
