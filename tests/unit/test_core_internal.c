/*
 * Core helpers that are not public: SSCMA_ASSERT in its release form and the versioned-options helpers. This file
 * is compiled with -DNDEBUG (tests/meson.build) so that SSCMA_ASSERT returns a status instead of asserting.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "harness.h"

#ifndef NDEBUG
#error "test_core_internal.c tests the release form of SSCMA_ASSERT: compile it with -DNDEBUG"
#endif

static sscma_status halve_even(int x, int *out)
{
    SSCMA_ASSERT(x % 2 == 0);
    *out = x / 2;
    return SSCMA_OK;
}

static const char *name_of(const char *name)
{
    SSCMA_ASSERT_RETURN(name != NULL, NULL);
    return name;
}

static void count_up(int *counter)
{
    SSCMA_ASSERT_VOID(counter != NULL);
    ++*counter;
}

static void assert_returns_internal_in_release_builds(void)
{
    int half = -1;
    CHECK_OK(halve_even(4, &half));
    CHECK_INT_EQ(half, 2);
    sscma_clear_error();
    CHECK_INT_EQ(halve_even(3, &half), SSCMA_ERR_INTERNAL);
    CHECK_INT_EQ(half, 2); /* the result is untouched */
    CHECK_STR_CONTAINS(sscma_last_error(), "halve_even: internal error: x % 2 == 0 (");
    CHECK_STR_CONTAINS(sscma_last_error(), "test_core_internal.c:");

    sscma_clear_error();
    CHECK(name_of(NULL) == NULL);
    CHECK_STR_CONTAINS(sscma_last_error(), "name_of: internal error: name != NULL");
    CHECK_STR_EQ(name_of("x"), "x");

    sscma_clear_error();
    count_up(NULL);
    CHECK_STR_CONTAINS(sscma_last_error(), "count_up: internal error: counter != NULL");
    int counter = 0;
    count_up(&counter);
    CHECK_INT_EQ(counter, 1);
}

/* An options struct as a program built against the first version knows it, and the library's after a field was
 * appended. */
typedef struct demo_options_v1 {
    uint32_t struct_size;
    int32_t level;
    int64_t limit;
} demo_options_v1;
typedef struct demo_options {
    uint32_t struct_size;
    int32_t level;
    int64_t limit;
    int32_t appended; /* new in the second version */
} demo_options;
#define DEMO_V1_SIZE SSCMA_SIZE_THROUGH(demo_options, limit)

static const demo_options demo_defaults = {sizeof(demo_options), 3, 100, 7};

static void first_version_callers_keep_working_after_a_field_is_appended(void)
{
    CHECK_INT_EQ(DEMO_V1_SIZE, sizeof(demo_options_v1));
    /* init writes only the caller's bytes: what follows its struct is untouched */
    enum { POISON = 32 };
    unsigned char *buf = malloc(sizeof(demo_options_v1) + POISON);
    CHECK(buf != NULL);
    memset(buf, 0xEE, sizeof(demo_options_v1) + POISON);
    CHECK_OK(SSCMA_OPTIONS_INIT(demo_options, buf, sizeof(demo_options_v1), &demo_defaults, DEMO_V1_SIZE));
    demo_options_v1 old;
    memcpy(&old, buf, sizeof old);
    CHECK_INT_EQ(old.struct_size, sizeof(demo_options_v1));
    CHECK_INT_EQ(old.level, 3);
    CHECK_INT_EQ(old.limit, 100);
    for (size_t i = sizeof(demo_options_v1); i < sizeof(demo_options_v1) + POISON; i++)
        CHECK_INT_EQ(buf[i], 0xEE);
    free(buf);

    /* the library reads exactly the caller's bytes (an allocation of that size: ASan sees any read past it) and
     * keeps its default for the field the caller does not know */
    demo_options_v1 *caller = malloc(sizeof *caller);
    CHECK(caller != NULL);
    CHECK_OK(SSCMA_OPTIONS_INIT(demo_options, caller, sizeof *caller, &demo_defaults, DEMO_V1_SIZE));
    caller->level = 5;
    demo_options o = demo_defaults;
    CHECK_OK(SSCMA_OPTIONS_READ(demo_options, caller, &o, DEMO_V1_SIZE));
    CHECK_INT_EQ(o.struct_size, sizeof(demo_options));
    CHECK_INT_EQ(o.level, 5);
    CHECK_INT_EQ(o.limit, 100);
    CHECK_INT_EQ(o.appended, 7);
    free(caller);

    /* a caller of the current version reads all of it */
    demo_options now;
    CHECK_OK(SSCMA_OPTIONS_INIT(demo_options, &now, sizeof now, &demo_defaults, DEMO_V1_SIZE));
    now.appended = 9;
    o = demo_defaults;
    CHECK_OK(SSCMA_OPTIONS_READ(demo_options, &now, &o, DEMO_V1_SIZE));
    CHECK_INT_EQ(o.appended, 9);
}

static void options_sizes_outside_the_versions_fail(void)
{
    demo_options o;
    CHECK_FAILS(SSCMA_OPTIONS_INIT(demo_options, &o, 12, &demo_defaults, DEMO_V1_SIZE), SSCMA_ERR_INVALID_ARGUMENT,
                "struct_size 12 is smaller than the first version of demo_options (16 bytes)");
    CHECK_FAILS(SSCMA_OPTIONS_INIT(demo_options, &o, sizeof o + 8, &demo_defaults, DEMO_V1_SIZE),
                SSCMA_ERR_UNSUPPORTED, "newer libsscma");
    CHECK_FAILS(SSCMA_OPTIONS_INIT(demo_options, NULL, sizeof o, &demo_defaults, DEMO_V1_SIZE),
                SSCMA_ERR_INVALID_ARGUMENT, "'options'");
    demo_options caller = demo_defaults, dst = demo_defaults;
    caller.struct_size = 4;
    CHECK_FAILS(SSCMA_OPTIONS_READ(demo_options, &caller, &dst, DEMO_V1_SIZE), SSCMA_ERR_INVALID_ARGUMENT,
                "options->struct_size 4");
    caller.struct_size = sizeof caller + 4;
    CHECK_FAILS(SSCMA_OPTIONS_READ(demo_options, &caller, &dst, DEMO_V1_SIZE), SSCMA_ERR_UNSUPPORTED,
                "newer libsscma");
}

/* One job's record: which ranges ran, as which worker, over which items. */
typedef struct pool_record {
    _Atomic int runs[8];
    int64_t begin[8], end[8];
    _Atomic int64_t items;
    sscma_pool *pool;
} pool_record;

static void record_range(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    pool_record *r = arg;
    if (worker >= 0 && worker < 8) {
        atomic_fetch_add(&r->runs[worker], 1);
        r->begin[worker] = begin, r->end[worker] = end;
    }
    atomic_fetch_add(&r->items, end - begin);
}

static void nested_job(void *arg, int64_t begin, int64_t end, int32_t worker)
{
    pool_record *r = arg;
    (void)worker;
    pool_record inner;
    memset(&inner, 0, sizeof inner);
    sscma_parallel_for(r->pool, (end - begin) * 3, 1, record_range, &inner); /* inline inside a task */
    atomic_fetch_add(&r->items, atomic_load(&inner.items));
}

/*
 * The pool hands each range of a job to exactly one thread, as worker = range index, with the ranges of a fixed
 * partition, whoever claims it (the caller or a helper): over many jobs on more threads than cores, so that helpers
 * are often not scheduled when a job starts and the caller runs their ranges. ThreadSanitizer runs this too.
 */
static void pool_runs_every_range_once_as_its_worker(void)
{
    for (int32_t threads = 1; threads <= 6; threads += 5) {
        sscma_context_options o;
        sscma_context_options_init(&o, sizeof o);
        o.num_threads = threads;
        sscma_context *ctx = NULL;
        CHECK_OK(sscma_context_create(&o, &ctx));
        sscma_pool *pool = ctx->pool;
        for (int64_t job = 0; job < 3000; job++) {
            int64_t count = 1 + job % 37, min_per = 1 + job % 5;
            pool_record r;
            memset(&r, 0, sizeof r);
            sscma_parallel_for(pool, count, min_per, record_range, &r);
            int64_t parts = count / min_per < threads ? (count / min_per > 0 ? count / min_per : 1) : threads;
            int64_t next = 0;
            for (int32_t i = 0; i < parts; i++) {
                int64_t size = count / parts + (i < count % parts ? 1 : 0);
                if (size > 0) {
                    CHECK(atomic_load(&r.runs[i]) == 1);
                    CHECK(r.begin[i] == next && r.end[i] == next + size);
                } else {
                    CHECK(atomic_load(&r.runs[i]) == 0);
                }
                next += size;
            }
            for (int64_t i = parts; i < 8; i++)
                CHECK(atomic_load(&r.runs[i]) == 0);
            CHECK(atomic_load(&r.items) == count);
        }
        pool_record outer;
        memset(&outer, 0, sizeof outer);
        outer.pool = pool;
        sscma_parallel_for(pool, 100, 1, nested_job, &outer);
        CHECK(atomic_load(&outer.items) == 300);
        sscma_context_destroy(ctx);
    }
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(assert_returns_internal_in_release_builds),
        TEST_CASE(first_version_callers_keep_working_after_a_field_is_appended),
        TEST_CASE(options_sizes_outside_the_versions_fail),
        TEST_CASE(pool_runs_every_range_once_as_its_worker),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
