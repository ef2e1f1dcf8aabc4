/* Unit tests of core.h: status codes, per-thread errors, version, context options, logging, allocator hooks. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_files.h"
#include "harness.h"

static void status_values_are_stable(void)
{
    /* These numbers are ABI: a renumbering must fail here. */
    CHECK_INT_EQ(SSCMA_OK, 0);
    CHECK_INT_EQ(SSCMA_ERR_INVALID_ARGUMENT, -1);
    CHECK_INT_EQ(SSCMA_ERR_OUT_OF_MEMORY, -2);
    CHECK_INT_EQ(SSCMA_ERR_IO, -3);
    CHECK_INT_EQ(SSCMA_ERR_FORMAT, -4);
    CHECK_INT_EQ(SSCMA_ERR_UNSUPPORTED, -5);
    CHECK_INT_EQ(SSCMA_ERR_SHAPE, -6);
    CHECK_INT_EQ(SSCMA_ERR_DTYPE, -7);
    CHECK_INT_EQ(SSCMA_ERR_OVERFLOW, -8);
    CHECK_INT_EQ(SSCMA_ERR_NOT_FOUND, -9);
    CHECK_INT_EQ(SSCMA_ERR_STATE, -10);
    CHECK_INT_EQ(SSCMA_ERR_NUMERIC, -11);
    CHECK_INT_EQ(SSCMA_ERR_CANCELLED, -12);
    CHECK_INT_EQ(SSCMA_ERR_CONFIG, -13);
    CHECK_INT_EQ(SSCMA_ERR_INTERNAL, -14);
}

static void status_string_names_each_status(void)
{
    static const struct {
        sscma_status status;
        const char *name;
    } expected[] = {
        {SSCMA_OK, "SSCMA_OK"},
        {SSCMA_ERR_INVALID_ARGUMENT, "SSCMA_ERR_INVALID_ARGUMENT"},
        {SSCMA_ERR_OUT_OF_MEMORY, "SSCMA_ERR_OUT_OF_MEMORY"},
        {SSCMA_ERR_IO, "SSCMA_ERR_IO"},
        {SSCMA_ERR_FORMAT, "SSCMA_ERR_FORMAT"},
        {SSCMA_ERR_UNSUPPORTED, "SSCMA_ERR_UNSUPPORTED"},
        {SSCMA_ERR_SHAPE, "SSCMA_ERR_SHAPE"},
        {SSCMA_ERR_DTYPE, "SSCMA_ERR_DTYPE"},
        {SSCMA_ERR_OVERFLOW, "SSCMA_ERR_OVERFLOW"},
        {SSCMA_ERR_NOT_FOUND, "SSCMA_ERR_NOT_FOUND"},
        {SSCMA_ERR_STATE, "SSCMA_ERR_STATE"},
        {SSCMA_ERR_NUMERIC, "SSCMA_ERR_NUMERIC"},
        {SSCMA_ERR_CANCELLED, "SSCMA_ERR_CANCELLED"},
        {SSCMA_ERR_CONFIG, "SSCMA_ERR_CONFIG"},
        {SSCMA_ERR_INTERNAL, "SSCMA_ERR_INTERNAL"},
    };
    for (size_t i = 0; i < TEST_COUNT(expected); i++) {
        const char *s = sscma_status_string(expected[i].status);
        CHECK(s != NULL && strncmp(s, expected[i].name, strlen(expected[i].name)) == 0);
        CHECK(s != NULL && s[strlen(expected[i].name)] == ':');
    }
    CHECK_STR_EQ(sscma_status_string((sscma_status)-999), "unknown status");
    CHECK_STR_EQ(sscma_status_string((sscma_status)1), "unknown status");
}

static void version_matches_headers_and_build(void)
{
    CHECK_STR_EQ(sscma_version(), SSCMA_VERSION_STRING);
    CHECK_STR_EQ(sscma_version(), SSCMA_EXPECTED_VERSION); /* meson's project version */
    CHECK_INT_EQ(sscma_version_number(), SSCMA_VERSION_NUMBER);
    CHECK_INT_EQ(SSCMA_VERSION_NUMBER,
                 SSCMA_VERSION_MAJOR * 10000 + SSCMA_VERSION_MINOR * 100 + SSCMA_VERSION_PATCH);
}

static void last_error_names_the_function(void)
{
    sscma_clear_error();
    CHECK_STR_EQ(sscma_last_error(), "");
    CHECK_FAILS(sscma_context_create(NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "sscma_context_create: ");
    CHECK_STR_CONTAINS(sscma_last_error(), "'out'");
    sscma_clear_error();
    CHECK_STR_EQ(sscma_last_error(), "");
}

static void *fail_in_other_thread(void *arg)
{
    (void)arg;
    sscma_context_create(NULL, NULL);
    return strstr(sscma_last_error(), "sscma_context_create") != NULL ? (void *)1 : NULL;
}

static void last_error_is_per_thread(void)
{
    sscma_clear_error();
    CHECK_FAILS(sscma_context_set_log_level(NULL, SSCMA_LOG_INFO), SSCMA_ERR_INVALID_ARGUMENT,
                "sscma_context_set_log_level");
    pthread_t thread;
    void *other_saw_its_error = NULL;
    CHECK_INT_EQ(pthread_create(&thread, NULL, fail_in_other_thread, NULL), 0);
    CHECK_INT_EQ(pthread_join(thread, &other_saw_its_error), 0);
    CHECK(other_saw_its_error != NULL);
    /* This thread's message is unchanged by the other thread's failure. */
    CHECK_STR_CONTAINS(sscma_last_error(), "sscma_context_set_log_level");
}

static void options_init_sets_defaults(void)
{
    sscma_context_options o;
    memset(&o, 0xAB, sizeof o);
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    CHECK_INT_EQ(o.struct_size, sizeof o);
    CHECK_INT_EQ(o.num_threads, 0);
    CHECK_INT_EQ(o.seed, 0);
    CHECK_INT_EQ(o.log_level, SSCMA_LOG_WARNING);
    CHECK(o.log_fn == NULL && o.log_user_data == NULL);
    CHECK(o.alloc_fn == NULL && o.free_fn == NULL && o.alloc_user_data == NULL);
}

static void options_init_rejects_bad_arguments(void)
{
    sscma_context_options o;
    CHECK_FAILS(sscma_context_options_init(NULL, sizeof o), SSCMA_ERR_INVALID_ARGUMENT, "'options'");
    CHECK_FAILS(sscma_context_options_init(&o, 4), SSCMA_ERR_INVALID_ARGUMENT, "struct_size 4");
    CHECK_FAILS(sscma_context_options_init(&o, sizeof o + 8), SSCMA_ERR_UNSUPPORTED, "newer libsscma");
}

/* A program built against the first sscma_context_options: struct_size is that version's size (fields through
 * alloc_user_data), and its struct is exactly that long (malloc of that size: ASan sees any access past it). */
static void options_of_the_first_version_keep_working(void)
{
    const size_t v1_size = offsetof(sscma_context_options, alloc_user_data) + sizeof(void *);
    enum { POISON = 32 };
    unsigned char *buf = malloc(v1_size + POISON);
    CHECK(buf != NULL);
    memset(buf, 0xEE, v1_size + POISON);
    CHECK_OK(sscma_context_options_init((sscma_context_options *)buf, v1_size));
    for (size_t i = v1_size; i < v1_size + POISON; i++)
        CHECK_INT_EQ(buf[i], 0xEE);
    free(buf);

    sscma_context_options *o = malloc(v1_size);
    CHECK(o != NULL);
    CHECK_OK(sscma_context_options_init(o, v1_size));
    CHECK_INT_EQ(o->struct_size, v1_size);
    o->num_threads = 2;
    o->seed = 42;
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(o, &ctx));
    free(o);
    int32_t threads = 0;
    uint64_t seed = 0;
    CHECK_OK(sscma_context_num_threads(ctx, &threads));
    CHECK_OK(sscma_context_seed(ctx, &seed));
    CHECK_INT_EQ(threads, 2);
    CHECK_INT_EQ(seed, 42);
    sscma_context_destroy(ctx);
}

static void context_create_defaults(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK(ctx != NULL);
    int32_t threads = -1;
    uint64_t seed = 1;
    CHECK_OK(sscma_context_num_threads(ctx, &threads));
    CHECK(threads >= 1);
    CHECK_OK(sscma_context_seed(ctx, &seed));
    CHECK_INT_EQ(seed, 0);
    sscma_context_destroy(ctx);
    sscma_context_destroy(NULL); /* a no-op */
}

static void context_create_uses_options(void)
{
    sscma_context_options o;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.num_threads = 3;
    o.seed = 0x123456789abcdefULL;
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(&o, &ctx));
    int32_t threads = 0;
    uint64_t seed = 0;
    CHECK_OK(sscma_context_num_threads(ctx, &threads));
    CHECK_OK(sscma_context_seed(ctx, &seed));
    CHECK_INT_EQ(threads, 3);
    CHECK(seed == 0x123456789abcdefULL);
    sscma_context_destroy(ctx);
}

static sscma_context *const untouched = (sscma_context *)0x1;

static void context_create_rejects_bad_options(void)
{
    sscma_context_options o;
    sscma_context *ctx = untouched;
    CHECK_FAILS(sscma_context_create(NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");

    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.struct_size = 0;
    CHECK_FAILS(sscma_context_create(&o, &ctx), SSCMA_ERR_INVALID_ARGUMENT, "struct_size");

    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.num_threads = -2;
    CHECK_FAILS(sscma_context_create(&o, &ctx), SSCMA_ERR_INVALID_ARGUMENT, "num_threads is -2");
    o.num_threads = 1 << 20;
    CHECK_FAILS(sscma_context_create(&o, &ctx), SSCMA_ERR_INVALID_ARGUMENT, "num_threads");

    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.log_level = (sscma_log_level)9;
    CHECK_FAILS(sscma_context_create(&o, &ctx), SSCMA_ERR_INVALID_ARGUMENT, "log_level is 9");

    CHECK(ctx == untouched);
}

static void context_getters_and_setters_reject_null(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    int32_t threads = 0;
    uint64_t seed = 0;
    CHECK_FAILS(sscma_context_num_threads(NULL, &threads), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_context_num_threads(ctx, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_context_seed(NULL, &seed), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_context_seed(ctx, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'out'");
    CHECK_FAILS(sscma_context_set_log_level(NULL, SSCMA_LOG_INFO), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_context_set_log_level(ctx, (sscma_log_level)-1), SSCMA_ERR_INVALID_ARGUMENT, "level is -1");
    CHECK_FAILS(sscma_context_set_log_level(ctx, (sscma_log_level)5), SSCMA_ERR_INVALID_ARGUMENT, "level is 5");
    CHECK_FAILS(sscma_context_set_log_callback(NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_context_log(NULL, SSCMA_LOG_ERROR, "x"), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_context_log(ctx, SSCMA_LOG_ERROR, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'message'");
    CHECK_FAILS(sscma_context_log(ctx, SSCMA_LOG_OFF, "x"), SSCMA_ERR_INVALID_ARGUMENT, "level is 4");
    CHECK_INT_EQ(threads, 0); /* outputs untouched on failure */
    CHECK_INT_EQ(seed, 0);
    sscma_context_destroy(ctx);
}

typedef struct log_capture {
    int count;
    sscma_log_level last_level;
    char last[256];
} log_capture;

static void capture_log(void *user_data, sscma_log_level level, const char *message)
{
    log_capture *c = user_data;
    c->count++;
    c->last_level = level;
    strncpy(c->last, message, sizeof c->last - 1);
    c->last[sizeof c->last - 1] = '\0';
}

static void log_callback_and_threshold(void)
{
    log_capture capture = {0, SSCMA_LOG_DEBUG, ""};
    sscma_context_options o;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.log_fn = capture_log;
    o.log_user_data = &capture;
    o.log_level = SSCMA_LOG_INFO;
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(&o, &ctx));

    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_DEBUG, "below the threshold"));
    CHECK_INT_EQ(capture.count, 0);
    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_WARNING, "epoch 3: loss is rising"));
    CHECK_INT_EQ(capture.count, 1);
    CHECK_INT_EQ(capture.last_level, SSCMA_LOG_WARNING);
    CHECK_STR_EQ(capture.last, "epoch 3: loss is rising");

    CHECK_OK(sscma_context_set_log_level(ctx, SSCMA_LOG_OFF));
    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_ERROR, "silenced"));
    CHECK_INT_EQ(capture.count, 1);

    CHECK_OK(sscma_context_set_log_level(ctx, SSCMA_LOG_DEBUG));
    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_DEBUG, "now visible"));
    CHECK_INT_EQ(capture.count, 2);

    /* Back to the default sink: the capture sees nothing more. */
    CHECK_OK(sscma_context_set_log_callback(ctx, NULL, NULL));
    CHECK_OK(sscma_context_set_log_level(ctx, SSCMA_LOG_OFF));
    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_ERROR, "to stderr, but the level is off"));
    CHECK_INT_EQ(capture.count, 2);
    sscma_context_destroy(ctx);
}

/* An allocator that counts live blocks and bytes, and can be told to fail the Nth allocation. The lock lets
 * children of one context be destroyed on several threads. */
static pthread_mutex_t counting_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct counting_allocator {
    long live_blocks;
    long long live_bytes;
    long total_allocs;
    long fail_at; /* 1-based index of the allocation to fail; 0 = never */
    int misaligned;
} counting_allocator;

static void *counting_alloc(void *user_data, size_t size_bytes, size_t alignment)
{
    counting_allocator *a = user_data;
    pthread_mutex_lock(&counting_lock);
    a->total_allocs++;
    int fail = a->fail_at != 0 && a->total_allocs == a->fail_at;
    pthread_mutex_unlock(&counting_lock);
    if (fail)
        return NULL;
    void *p = NULL;
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    if (posix_memalign(&p, alignment, size_bytes) != 0)
        return NULL;
    pthread_mutex_lock(&counting_lock);
    if ((uintptr_t)p % alignment != 0)
        a->misaligned++;
    a->live_blocks++;
    a->live_bytes += (long long)size_bytes;
    pthread_mutex_unlock(&counting_lock);
    return p;
}

static void counting_free(void *user_data, void *ptr, size_t size_bytes)
{
    counting_allocator *a = user_data;
    pthread_mutex_lock(&counting_lock);
    a->live_blocks--;
    a->live_bytes -= (long long)size_bytes;
    pthread_mutex_unlock(&counting_lock);
    memset(ptr, 0xa5, size_bytes); /* poisoned: a use after free reads garbage pointers, even without ASan */
    free(ptr);
}

static sscma_status create_counting_context(counting_allocator *a, sscma_context **out)
{
    sscma_context_options o;
    sscma_status st = sscma_context_options_init(&o, sizeof o);
    if (st != SSCMA_OK)
        return st;
    o.alloc_fn = counting_alloc;
    o.free_fn = counting_free;
    o.alloc_user_data = a;
    return sscma_context_create(&o, out);
}

/* Two callbacks, each with its own user data: a message must never reach one callback with the other's data. */
typedef struct log_tally {
    const void *tag;
    long calls, mismatches;
} log_tally;
static log_tally tally_a, tally_b;

static void log_to_a(void *user_data, sscma_log_level level, const char *message)
{
    (void)level, (void)message;
    tally_a.calls++; /* callbacks are called one at a time (the context's log lock) */
    if (user_data != &tally_a)
        tally_a.mismatches++;
}

static void log_to_b(void *user_data, sscma_log_level level, const char *message)
{
    (void)level, (void)message;
    tally_b.calls++;
    if (user_data != &tally_b)
        tally_b.mismatches++;
}

static void *log_many(void *arg)
{
    sscma_context *ctx = arg;
    for (int i = 0; i < 2000; i++)
        sscma_context_log(ctx, SSCMA_LOG_WARNING, "from a worker");
    return NULL;
}

/* The level and the callback change while other threads log (docs/architecture.md, "Threads"). */
static void logging_while_the_log_changes(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    memset(&tally_a, 0, sizeof tally_a);
    memset(&tally_b, 0, sizeof tally_b);
    CHECK_OK(sscma_context_set_log_callback(ctx, log_to_a, &tally_a));
    pthread_t threads[3];
    for (int t = 0; t < 3; t++)
        CHECK_INT_EQ(pthread_create(&threads[t], NULL, log_many, ctx), 0);
    for (int i = 0; i < 500; i++) {
        CHECK_OK(sscma_context_set_log_callback(ctx, i % 2 ? log_to_a : log_to_b, i % 2 ? &tally_a : &tally_b));
        CHECK_OK(sscma_context_set_log_level(ctx, i % 3 == 0 ? SSCMA_LOG_ERROR : SSCMA_LOG_DEBUG));
    }
    for (int t = 0; t < 3; t++)
        CHECK_INT_EQ(pthread_join(threads[t], NULL), 0);
    CHECK_INT_EQ(tally_a.mismatches + tally_b.mismatches, 0);
    CHECK(tally_a.calls + tally_b.calls <= 6000);
    /* after the last change, only the last callback hears a message at a level it passes */
    long before = tally_a.calls;
    CHECK_OK(sscma_context_set_log_level(ctx, SSCMA_LOG_INFO));
    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_WARNING, "last"));
    CHECK_INT_EQ(tally_a.calls, before + 1);
    sscma_context_destroy(ctx);
}

static void allocator_hooks_see_every_block(void)
{
    counting_allocator a = {0, 0, 0, 0, 0};
    sscma_context *ctx = NULL;
    CHECK_OK(create_counting_context(&a, &ctx));
    const long context_blocks = a.live_blocks; /* the handle and its thread pool */
    CHECK_INT_EQ(context_blocks, 2);
    const int64_t dims[2] = {3, 5};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I8, 2, dims, &t));
    const float scales[5] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
    CHECK_OK(sscma_tensor_set_quant_per_channel(t, 1, 5, scales, NULL));
    CHECK_INT_EQ(a.live_blocks, context_blocks + 4); /* tensor handle, data, scales, zero points */
    CHECK_INT_EQ(a.misaligned, 0);
    sscma_tensor_destroy(t);
    CHECK_INT_EQ(a.live_blocks, context_blocks);
    sscma_context_destroy(ctx);
    CHECK_INT_EQ(a.live_blocks, 0);
    CHECK_INT_EQ(a.live_bytes, 0);
}

static void allocator_one_hook_only_is_rejected(void)
{
    counting_allocator a = {0, 0, 0, 0, 0};
    sscma_context_options o;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.alloc_fn = counting_alloc;
    o.alloc_user_data = &a;
    sscma_context *ctx = NULL;
    CHECK_FAILS(sscma_context_create(&o, &ctx), SSCMA_ERR_INVALID_ARGUMENT, "alloc_fn and free_fn");
    CHECK(ctx == NULL);
    CHECK_INT_EQ(a.total_allocs, 0);
}

static void out_of_memory_is_a_status_at_every_allocation(void)
{
    /* The context itself: its handle (allocation 1), its thread pool (allocation 2). */
    sscma_context *ctx = NULL;
    for (long fail_at = 1; fail_at <= 2; fail_at++) {
        counting_allocator a = {0, 0, 0, fail_at, 0};
        CHECK_FAILS(create_counting_context(&a, &ctx), SSCMA_ERR_OUT_OF_MEMORY, "sscma_context_create");
        CHECK(ctx == NULL);
        CHECK_INT_EQ(a.live_blocks, 0);
    }

    /* Fail each allocation of "create, quantize per channel, clone" in turn: a status every time, no leak. */
    for (long fail_at = 3; fail_at <= 14; fail_at++) {
        counting_allocator b = {0, 0, 0, 0, 0};
        CHECK_OK(create_counting_context(&b, &ctx));
        b.fail_at = fail_at;
        const int64_t dims[3] = {4, 2, 2};
        const float scales[4] = {1.0f, 2.0f, 3.0f, 4.0f};
        sscma_tensor *t = NULL, *copy = NULL;
        sscma_status st = sscma_tensor_create(ctx, SSCMA_DTYPE_I8, 3, dims, &t);
        if (st == SSCMA_OK)
            st = sscma_tensor_set_quant_per_channel(t, 0, 4, scales, NULL);
        if (st == SSCMA_OK)
            st = sscma_tensor_clone(t, &copy);
        if (b.total_allocs >= fail_at) {
            CHECK_INT_EQ(st, SSCMA_ERR_OUT_OF_MEMORY);
            CHECK_STR_CONTAINS(sscma_last_error(), "cannot allocate");
        } else {
            CHECK_OK(st);
        }
        sscma_tensor_destroy(copy);
        sscma_tensor_destroy(t);
        sscma_context_destroy(ctx);
        CHECK_INT_EQ(b.live_blocks, 0);
        CHECK_INT_EQ(b.live_bytes, 0);
    }
}

/*
 * A context destroyed before its children (a Python garbage collector may finalize them in any order): the
 * children keep working, the context's memory stays until the last child is destroyed, and then every byte has
 * come back. Every kind of handle that keeps a pointer to its context is here, destroyed in an order the other
 * contracts allow (a trainer before its model and loaders, a loader before its dataset, a plan before its
 * deployable model), with the context at every position of two such orders.
 */
enum child_kind {
    CHILD_TENSOR, CHILD_SAMPLE, CHILD_DATASET, CHILD_LOADER, CHILD_MODEL, CHILD_OPTIMIZER, CHILD_SCHEDULER,
    CHILD_TRAINER, CHILD_QMODEL, CHILD_QPLAN, CHILD_CONTEXT, CHILD_COUNT
};

typedef struct family {
    sscma_context *ctx;
    sscma_tensor *tensor;
    sscma_sample *sample;
    sscma_dataset *dataset;
    sscma_loader *loader;
    sscma_model *model;
    sscma_optimizer *optimizer;
    sscma_scheduler *scheduler;
    sscma_trainer *trainer;
    sscma_qmodel *qmodel;
    sscma_qplan *qplan;
} family;

static char family_dir[] = "/tmp/sscma-core-XXXXXX";

/* Eight 16x16 grey images of four classes, as MNIST's IDX files in family_dir. */
static int write_family_data(void)
{
    if (mkdtemp(family_dir) == NULL)
        return -1;
    uint8_t pixels[8 * 16 * 16], labels[8];
    for (int i = 0; i < (int)sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 8; i++)
        labels[i] = (uint8_t)(i % 4);
    const uint32_t idims[3] = {8, 16, 16}, ldims[1] = {8};
    char path[256];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", family_dir);
    write_idx(path, 0x803, idims, 3, pixels, sizeof pixels, false);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", family_dir);
    write_idx(path, 0x801, ldims, 1, labels, sizeof labels, false);
    return 0;
}

static void make_family(counting_allocator *a, family *f)
{
    memset(f, 0, sizeof *f);
    sscma_context_options o;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.num_threads = 2;
    o.log_level = SSCMA_LOG_OFF;
    o.alloc_fn = counting_alloc, o.free_fn = counting_free, o.alloc_user_data = a;
    CHECK_OK(sscma_context_create(&o, &f->ctx));
    if (f->ctx == NULL)
        return;
    char cfg[1024];
    const int64_t dims[2] = {2, 3};
    CHECK_OK(sscma_tensor_create(f->ctx, SSCMA_DTYPE_F32, 2, dims, &f->tensor));
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", family_dir);
    CHECK_OK(sscma_dataset_open(f->ctx, cfg, &f->dataset));
    if (f->dataset != NULL) {
        CHECK_OK(sscma_dataset_get(f->dataset, 3, &f->sample));
        CHECK_OK(sscma_loader_create(f->ctx, f->dataset,
                                     "{\"batch_size\": 4, \"num_workers\": 1, \"pipeline\": [{\"type\": \"Normalize\","
                                     " \"mean\": [64], \"std\": [64]}]}", &f->loader));
    }
    CHECK_OK(sscma_model_create(f->ctx,
                                "{\"type\": \"ImageClassifier\", \"input_size\": [16, 16],"
                                " \"backbone\": {\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1},"
                                " \"head\": {\"type\": \"LinearClsHead\", \"num_classes\": 4}}", &f->model));
    if (f->model == NULL)
        return;
    CHECK_OK(sscma_optimizer_create(f->model, "{\"type\": \"SGD\", \"lr\": 0.01}", &f->optimizer));
    if (f->optimizer != NULL)
        CHECK_OK(sscma_scheduler_create(f->optimizer, "[{\"type\": \"LinearLR\", \"start_factor\": 0.1,"
                                        " \"by_epoch\": false, \"end\": 2}]", 1, &f->scheduler));
    snprintf(cfg, sizeof cfg, "{\"max_epochs\": 1, \"work_dir\": \"%s/work\", \"optim_wrapper\": {\"optimizer\":"
             " {\"type\": \"SGD\", \"lr\": 0.01}}, \"val_evaluator\": {\"type\": \"Accuracy\", \"topk\": [1]}}",
             family_dir);
    if (f->loader != NULL)
        CHECK_OK(sscma_trainer_create(f->model, f->loader, f->loader, cfg, &f->trainer));
    CHECK_OK(sscma_qmodel_from_model(f->model, &f->qmodel));
    if (f->qmodel != NULL)
        CHECK_OK(sscma_qplan_create(f->qmodel, 1, &f->qplan));
}

/* Uses what is left of the family after its context was destroyed: its pool, allocator and handles still work. */
static void use_orphans(family *f)
{
    if (f->qplan != NULL)
        CHECK_OK(sscma_qplan_run(f->qplan)); /* the context's thread pool */
    if (f->tensor != NULL) {
        sscma_tensor *copy = NULL;
        CHECK_OK(sscma_tensor_clone(f->tensor, &copy)); /* the context's allocator */
        sscma_tensor_destroy(copy);
    }
    if (f->loader != NULL) {
        CHECK_OK(sscma_loader_start_epoch(f->loader, 0));
        int64_t n = 0;
        CHECK_OK(sscma_loader_batches(f->loader, &n));
        CHECK_INT_EQ(n, 2);
    }
}

static void destroy_member(family *f, enum child_kind k)
{
    switch (k) {
    case CHILD_TENSOR: sscma_tensor_destroy(f->tensor), f->tensor = NULL; break;
    case CHILD_SAMPLE: sscma_sample_destroy(f->sample), f->sample = NULL; break;
    case CHILD_DATASET: sscma_dataset_destroy(f->dataset), f->dataset = NULL; break;
    case CHILD_LOADER: sscma_loader_destroy(f->loader), f->loader = NULL; break;
    case CHILD_MODEL: sscma_model_destroy(f->model), f->model = NULL; break;
    case CHILD_OPTIMIZER: sscma_optimizer_destroy(f->optimizer), f->optimizer = NULL; break;
    case CHILD_SCHEDULER: sscma_scheduler_destroy(f->scheduler), f->scheduler = NULL; break;
    case CHILD_TRAINER: sscma_trainer_destroy(f->trainer), f->trainer = NULL; break;
    case CHILD_QMODEL: sscma_qmodel_destroy(f->qmodel), f->qmodel = NULL; break;
    case CHILD_QPLAN: sscma_qplan_destroy(f->qplan), f->qplan = NULL; break;
    case CHILD_CONTEXT: sscma_context_destroy(f->ctx), f->ctx = NULL; break;
    case CHILD_COUNT: break;
    }
}

static void context_destroyed_before_children_returns_every_byte(void)
{
    if (write_family_data() != 0) {
        CHECK(!"cannot make a temporary folder");
        return;
    }
    /* two orders the children's own contracts allow; the context goes in at every position of each */
    static const enum child_kind orders[2][CHILD_COUNT - 1] = {
        {CHILD_QPLAN, CHILD_QMODEL, CHILD_TRAINER, CHILD_SCHEDULER, CHILD_OPTIMIZER, CHILD_LOADER, CHILD_SAMPLE,
         CHILD_TENSOR, CHILD_MODEL, CHILD_DATASET},
        {CHILD_TENSOR, CHILD_SAMPLE, CHILD_TRAINER, CHILD_LOADER, CHILD_DATASET, CHILD_SCHEDULER, CHILD_QPLAN,
         CHILD_OPTIMIZER, CHILD_MODEL, CHILD_QMODEL},
    };
    for (int o = 0; o < 2; o++) {
        for (int at = 0; at < CHILD_COUNT; at++) {
            counting_allocator a = {0, 0, 0, 0, 0};
            family f;
            make_family(&a, &f);
            int children = 0;
            for (int i = 0, j = 0; i < CHILD_COUNT; i++) {
                enum child_kind k = i == at ? CHILD_CONTEXT : orders[o][j++];
                destroy_member(&f, k);
                if (k == CHILD_CONTEXT) {
                    children = CHILD_COUNT - 1 - i;
                    if (children > 0) /* the context waits for its children */
                        CHECK(a.live_blocks > 0);
                    use_orphans(&f);
                }
            }
            if (a.live_blocks != 0 || a.live_bytes != 0)
                fprintf(stderr, "# order %d, context destroyed at %d of %d (%d children after it)\n", o, at,
                        CHILD_COUNT, children);
            CHECK_INT_EQ(a.live_blocks, 0);
            CHECK_INT_EQ(a.live_bytes, 0);
            CHECK_INT_EQ(a.misaligned, 0);
        }
    }
    fixture_tmpdir_remove(family_dir);
}

/* The last children of a destroyed context go on two threads at once: the count is atomic, the context freed once. */
typedef struct tensor_batch {
    sscma_tensor *tensors[200];
} tensor_batch;

static void *destroy_batch(void *arg)
{
    tensor_batch *b = arg;
    for (int i = 0; i < 200; i++)
        sscma_tensor_destroy(b->tensors[i]);
    return NULL;
}

static void orphans_destroyed_on_two_threads(void)
{
    for (int round = 0; round < 20; round++) {
        counting_allocator a = {0, 0, 0, 0, 0};
        sscma_context *ctx = NULL;
        CHECK_OK(create_counting_context(&a, &ctx));
        if (ctx == NULL)
            return;
        static tensor_batch batches[2];
        const int64_t dims[1] = {16};
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < 200; i++)
                CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 1, dims, &batches[t].tensors[i]));
        sscma_context_destroy(ctx);
        CHECK(a.live_blocks > 2 * 200);
        pthread_t threads[2];
        for (int t = 0; t < 2; t++)
            CHECK_INT_EQ(pthread_create(&threads[t], NULL, destroy_batch, &batches[t]), 0);
        for (int t = 0; t < 2; t++)
            CHECK_INT_EQ(pthread_join(threads[t], NULL), 0);
        CHECK_INT_EQ(a.live_blocks, 0);
        CHECK_INT_EQ(a.live_bytes, 0);
    }
}

/* A destroyed context stops calling the caller's log callback: its user data may be gone. */
static void destroyed_context_forgets_the_log_callback(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    log_capture capture = {0, SSCMA_LOG_DEBUG, ""};
    CHECK_OK(sscma_context_set_log_callback(ctx, capture_log, &capture));
    const int64_t dims[1] = {4};
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 1, dims, &t));
    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_ERROR, "before"));
    CHECK_INT_EQ(capture.count, 1);
    sscma_context_destroy(ctx);
    /* a child logs through its context: sscma_context_log stands for it here (the memory is still there while t
     * holds it). The line goes to stderr ("sscma: error: after ..."), not to the callback. */
    CHECK_OK(sscma_context_log(ctx, SSCMA_LOG_ERROR, "after the context was destroyed (expected on stderr)"));
    CHECK_INT_EQ(capture.count, 1);
    sscma_tensor_destroy(t);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(status_values_are_stable),
        TEST_CASE(status_string_names_each_status),
        TEST_CASE(version_matches_headers_and_build),
        TEST_CASE(last_error_names_the_function),
        TEST_CASE(last_error_is_per_thread),
        TEST_CASE(options_init_sets_defaults),
        TEST_CASE(options_init_rejects_bad_arguments),
        TEST_CASE(options_of_the_first_version_keep_working),
        TEST_CASE(context_create_defaults),
        TEST_CASE(context_create_uses_options),
        TEST_CASE(context_create_rejects_bad_options),
        TEST_CASE(context_getters_and_setters_reject_null),
        TEST_CASE(log_callback_and_threshold),
        TEST_CASE(logging_while_the_log_changes),
        TEST_CASE(allocator_hooks_see_every_block),
        TEST_CASE(allocator_one_hook_only_is_rejected),
        TEST_CASE(out_of_memory_is_a_status_at_every_allocation),
        TEST_CASE(context_destroyed_before_children_returns_every_byte),
        TEST_CASE(orphans_destroyed_on_two_threads),
        TEST_CASE(destroyed_context_forgets_the_log_callback),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
