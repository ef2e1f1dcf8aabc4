/* Unit tests of core.h: status codes, per-thread errors, version, context options, logging, allocator hooks. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

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

/* An allocator that counts live blocks and bytes, and can be told to fail the Nth allocation. */
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
    a->total_allocs++;
    if (a->fail_at != 0 && a->total_allocs == a->fail_at)
        return NULL;
    void *p = NULL;
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    if (posix_memalign(&p, alignment, size_bytes) != 0)
        return NULL;
    if ((uintptr_t)p % alignment != 0)
        a->misaligned++;
    a->live_blocks++;
    a->live_bytes += (long long)size_bytes;
    return p;
}

static void counting_free(void *user_data, void *ptr, size_t size_bytes)
{
    counting_allocator *a = user_data;
    a->live_blocks--;
    a->live_bytes -= (long long)size_bytes;
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
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
