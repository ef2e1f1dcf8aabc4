#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int current_failures;

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    printf("# %s:%d: ", file, line);
    vprintf(fmt, args);
    printf("\n");
    va_end(args);
    current_failures++;
}

void test_check_status(const char *file, int line, const char *call, sscma_status actual, sscma_status expected,
                       const char *needle)
{
    if (actual != expected) {
        test_fail(file, line, "%s returned %d (%s), expected %d (%s); last error: \"%s\"", call, (int)actual,
                  sscma_status_string(actual), (int)expected, sscma_status_string(expected), sscma_last_error());
        return;
    }
    if (expected == SSCMA_OK)
        return;
    const char *message = sscma_last_error();
    if (message == NULL || message[0] == '\0')
        test_fail(file, line, "%s failed as expected but left no error message", call);
    else if (needle != NULL && strstr(message, needle) == NULL)
        test_fail(file, line, "%s: message \"%s\" does not contain \"%s\"", call, message, needle);
}

void test_check_str(const char *file, int line, const char *expr, const char *actual, const char *expected)
{
    if (actual == NULL || strcmp(actual, expected) != 0)
        test_fail(file, line, "%s is \"%s\", expected \"%s\"", expr, actual ? actual : "(null)", expected);
}

void test_check_contains(const char *file, int line, const char *expr, const char *actual, const char *needle)
{
    if (actual == NULL || strstr(actual, needle) == NULL)
        test_fail(file, line, "%s is \"%s\", which does not contain \"%s\"", expr, actual ? actual : "(null)",
                  needle);
}

static int selected(int argc, char **argv, const char *name)
{
    if (argc <= 1)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int test_main_params(int argc, char **argv, const test_case *cases, size_t count, const test_param_case *params,
                     size_t n_params)
{
    size_t planned = 0;
    for (size_t i = 0; i < count; i++)
        planned += (size_t)selected(argc, argv, cases[i].name);
    for (size_t i = 0; i < n_params; i++)
        planned += (size_t)selected(argc, argv, params[i].name);
    printf("1..%zu\n", planned);
    int failed = 0;
    size_t number = 0;
    for (size_t i = 0; i < count + n_params; i++) {
        const char *name = i < count ? cases[i].name : params[i - count].name;
        if (!selected(argc, argv, name))
            continue;
        current_failures = 0;
        sscma_clear_error();
        if (i < count)
            cases[i].fn();
        else
            params[i - count].fn(params[i - count].index);
        number++;
        printf("%s %zu - %s\n", current_failures == 0 ? "ok" : "not ok", number, name);
        fflush(stdout);
        failed += current_failures != 0;
    }
    return failed == 0 ? 0 : 1;
}

int test_main(int argc, char **argv, const test_case *cases, size_t count)
{
    return test_main_params(argc, argv, cases, count, NULL, 0);
}
