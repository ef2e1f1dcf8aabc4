/*
 * Private helpers shared by every module of libsscma: errors, logging and memory through the context.
 * Not installed; nothing here is exported.
 */
#ifndef SSCMA_LIB_CORE_INTERNAL_H
#define SSCMA_LIB_CORE_INTERNAL_H

#include <stdarg.h>

#include "sscma/core.h"

#if defined(__GNUC__)
#  define SSCMA_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#else
#  define SSCMA_PRINTF(fmt_index, args_index)
#endif

/* Upper bound on the worker threads of one context. */
#define SSCMA_MAX_THREADS 1024

struct sscma_context {
    sscma_context_options options; /* as created, with num_threads resolved (never 0) */
};

/*
 * Records "<where>: <formatted message>" as the calling thread's error and returns `status`, so that a failure is
 * one line: `return sscma_fail(SSCMA_ERR_SHAPE, __func__, "dims[%d] = %lld", i, d);`. `where` is usually the public
 * function's name, or a file and position for parsers.
 */
sscma_status sscma_fail(sscma_status status, const char *where, const char *fmt, ...) SSCMA_PRINTF(3, 4);
sscma_status sscma_vfail(sscma_status status, const char *where, const char *fmt, va_list args);

/* Shorthand for the common case where the failing place is the current public function. */
#define SSCMA_FAIL(status, ...) sscma_fail((status), __func__, __VA_ARGS__)

/* Fails with SSCMA_ERR_INVALID_ARGUMENT naming the parameter when `ptr` is NULL. */
#define SSCMA_REQUIRE_NONNULL(ptr)                                                                             \
    do {                                                                                                       \
        if ((ptr) == NULL)                                                                                     \
            return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "argument '%s' is NULL", #ptr);                     \
    } while (0)

/* Sends a formatted line to ctx's log when `level` passes its threshold. ctx must not be NULL. */
void sscma_logf(const sscma_context *ctx, sscma_log_level level, const char *fmt, ...) SSCMA_PRINTF(3, 4);

/*
 * Memory through the context's allocator. sscma_alloc returns NULL on failure (or for size 0) and, when it fails,
 * leaves no error message: callers report SSCMA_ERR_OUT_OF_MEMORY with what they were allocating.
 * alignment is a power of two; sscma_free takes the size given to sscma_alloc and accepts NULL.
 */
void *sscma_alloc(const sscma_context *ctx, size_t size_bytes, size_t alignment);
void *sscma_alloc_zeroed(const sscma_context *ctx, size_t size_bytes, size_t alignment);
void sscma_free(const sscma_context *ctx, void *ptr, size_t size_bytes);

#endif /* SSCMA_LIB_CORE_INTERNAL_H */
