/*
 * A small TAP test harness: each test case is a function; CHECK* macros record failures with file and line and
 * let the case go on; the runner prints "ok N - name" / "not ok N - name" lines that meson reads (protocol tap).
 */
#ifndef SSCMA_TEST_HARNESS_H
#define SSCMA_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <sscma/core.h>

typedef struct test_case {
    const char *name;
    void (*fn)(void);
} test_case;

/* A case generated from a table: fn(index) runs entry `index`; name is shown in the TAP line. */
typedef struct test_param_case {
    char name[96];
    void (*fn)(size_t index);
    size_t index;
} test_param_case;

/* Runs the cases (all, or those named on the command line) and returns the exit status for main(). */
int test_main(int argc, char **argv, const test_case *cases, size_t count);

/* The same, followed by generated cases (one TAP line each). */
int test_main_params(int argc, char **argv, const test_case *cases, size_t count, const test_param_case *params,
                     size_t n_params);

/* Records a failure of the current case; used by the macros. */
void test_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define CHECK(cond)                                                                                            \
    do {                                                                                                       \
        if (!(cond))                                                                                           \
            test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                                          \
    } while (0)

#define CHECK_INT_EQ(actual, expected)                                                                         \
    do {                                                                                                       \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                                        \
        if (a_ != e_)                                                                                          \
            test_fail(__FILE__, __LINE__, "%s is %lld, expected %lld", #actual, a_, e_);                       \
    } while (0)

/* |actual - expected| <= tol, in double (the caller includes <math.h>). */
#define CHECK_NEAR(actual, expected, tol)                                                                      \
    do {                                                                                                       \
        double a_ = (actual), e_ = (expected);                                                                 \
        if (!(fabs(a_ - e_) <= (tol)))                                                                         \
            test_fail(__FILE__, __LINE__, "%s is %.9g, expected %.9g", #actual, a_, e_);                       \
    } while (0)

#define CHECK_STR_EQ(actual, expected) test_check_str(__FILE__, __LINE__, #actual, (actual), (expected))
#define CHECK_STR_CONTAINS(actual, needle) test_check_contains(__FILE__, __LINE__, #actual, (actual), (needle))

/* Checks that `call` succeeds; on failure prints the library's message. */
#define CHECK_OK(call) test_check_status(__FILE__, __LINE__, #call, (call), SSCMA_OK, NULL)

/*
 * Checks that `call` fails with `expected` and leaves a message containing `needle` (NULL: any non-empty message).
 * The thread's error is cleared before the call, so a stale message cannot pass for a new one.
 */
#define CHECK_FAILS(call, expected, needle)                                                                    \
    do {                                                                                                       \
        sscma_clear_error();                                                                                   \
        test_check_status(__FILE__, __LINE__, #call, (call), (expected), (needle));                            \
    } while (0)

void test_check_status(const char *file, int line, const char *call, sscma_status actual, sscma_status expected,
                       const char *needle);
void test_check_str(const char *file, int line, const char *expr, const char *actual, const char *expected);
void test_check_contains(const char *file, int line, const char *expr, const char *actual, const char *needle);

#define TEST_CASE(fn) {#fn, fn}
#define TEST_COUNT(cases) (sizeof(cases) / sizeof((cases)[0]))

#endif /* SSCMA_TEST_HARNESS_H */
