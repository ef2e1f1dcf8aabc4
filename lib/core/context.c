/* The context: options, logging and the allocator that every object created from it uses. */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"

/* The first version of sscma_context_options ends with alloc_user_data (64 bytes on LP64): frozen, whatever is
 * appended later (docs/architecture.md, "Versioned options"). */
#define CONTEXT_OPTIONS_V1_SIZE SSCMA_SIZE_THROUGH(sscma_context_options, alloc_user_data)
_Static_assert(sizeof(void *) != 8 || CONTEXT_OPTIONS_V1_SIZE == 64, "the first version's size is frozen");

static const char *level_name(sscma_log_level level)
{
    switch (level) {
    case SSCMA_LOG_DEBUG: return "debug";
    case SSCMA_LOG_INFO: return "info";
    case SSCMA_LOG_WARNING: return "warning";
    case SSCMA_LOG_ERROR: return "error";
    case SSCMA_LOG_OFF: break;
    }
    return "log";
}

static void log_to_stderr(void *user_data, sscma_log_level level, const char *message)
{
    (void)user_data;
    fprintf(stderr, "sscma: %s: %s\n", level_name(level), message);
}

static int32_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    if (n > SSCMA_MAX_THREADS)
        return SSCMA_MAX_THREADS;
    return (int32_t)n;
}

/*
 * libsscma parallelises its kernels with its own pool and calls BLAS from inside pool tasks, so BLAS must not start
 * threads of its own: with 2 cores, 2 pool workers each running a 2-thread sgemm would oversubscribe them.
 * OpenBLAS's thread count is process-wide; libsscma sets it to 1 (docs/architecture.md, "Threads").
 */
#if defined(SSCMA_HAVE_OPENBLAS_SET_NUM_THREADS)
void openblas_set_num_threads(int num_threads);
#endif
static void sscma_blas_single_threaded(void)
{
#if defined(SSCMA_HAVE_OPENBLAS_SET_NUM_THREADS)
    openblas_set_num_threads(1);
#endif
}

static void options_defaults(sscma_context_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = (uint32_t)sizeof *o;
    o->num_threads = 0;
    o->seed = 0;
    o->log_level = SSCMA_LOG_WARNING;
}

static int is_threshold_level(int level)
{
    return level >= SSCMA_LOG_DEBUG && level <= SSCMA_LOG_OFF;
}

sscma_status sscma_context_options_init(sscma_context_options *options, size_t struct_size)
{
    sscma_context_options defaults;
    options_defaults(&defaults);
    return SSCMA_OPTIONS_INIT(sscma_context_options, options, struct_size, &defaults, CONTEXT_OPTIONS_V1_SIZE);
}

sscma_status sscma_context_create(const sscma_context_options *options, sscma_context **out)
{
    SSCMA_REQUIRE_NONNULL(out);
    sscma_context_options o;
    options_defaults(&o);
    if (options != NULL) {
        sscma_status st = SSCMA_OPTIONS_READ(sscma_context_options, options, &o, CONTEXT_OPTIONS_V1_SIZE);
        if (st != SSCMA_OK)
            return st;
    }
    if (o.num_threads < 0 || o.num_threads > SSCMA_MAX_THREADS)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "num_threads is %d; expected 0 (all CPUs) to %d",
                          (int)o.num_threads, SSCMA_MAX_THREADS);
    if (!is_threshold_level((int)o.log_level))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "log_level is %d; expected %d (debug) to %d (off)",
                          (int)o.log_level, SSCMA_LOG_DEBUG, SSCMA_LOG_OFF);
    if ((o.alloc_fn == NULL) != (o.free_fn == NULL))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "alloc_fn and free_fn must be set together (one is NULL)");
    if (o.num_threads == 0)
        o.num_threads = online_cpus();
    if (o.log_fn == NULL) {
        o.log_fn = log_to_stderr;
        o.log_user_data = NULL;
    }
    if (o.alloc_fn == NULL) {
        o.alloc_fn = sscma_c_alloc;
        o.free_fn = sscma_c_free;
        o.alloc_user_data = NULL;
    }

    sscma_context *ctx = o.alloc_fn(o.alloc_user_data, sizeof *ctx, _Alignof(sscma_context));
    if (ctx == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the context (%zu bytes)", sizeof *ctx);
    memset(ctx, 0, sizeof *ctx);
    ctx->options = o;
    atomic_init(&ctx->log_level, (int)o.log_level);
    atomic_init(&ctx->refs, 1);
    atomic_init(&ctx->destroyed, false);
    if (pthread_mutex_init(&ctx->log_lock, NULL) != 0) {
        o.free_fn(o.alloc_user_data, ctx, sizeof *ctx);
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot create the log lock");
    }
    sscma_status st = sscma_pool_create(ctx, o.num_threads, &ctx->pool);
    if (st != SSCMA_OK) {
        pthread_mutex_destroy(&ctx->log_lock);
        o.free_fn(o.alloc_user_data, ctx, sizeof *ctx);
        return sscma_fail(st, __func__, "cannot allocate the thread pool");
    }
    sscma_blas_single_threaded();
    *out = ctx;
    return SSCMA_OK;
}

/* Frees a context whose caller destroyed it and whose last child is gone. */
static void context_free(sscma_context *ctx)
{
    sscma_pool_destroy(ctx->pool);
    pthread_mutex_destroy(&ctx->log_lock);
    sscma_free_fn free_fn = ctx->options.free_fn;
    void *user_data = ctx->options.alloc_user_data;
    free_fn(user_data, ctx, sizeof *ctx);
}

void sscma_context_retain(const sscma_context *ctx)
{
    if (ctx != NULL)
        atomic_fetch_add_explicit((atomic_size_t *)&ctx->refs, 1, memory_order_relaxed);
}

void sscma_context_release(const sscma_context *ctx)
{
    /* acq_rel: whichever thread drops the last reference sees every other thread's writes before freeing */
    if (ctx != NULL && atomic_fetch_sub_explicit((atomic_size_t *)&ctx->refs, 1, memory_order_acq_rel) == 1)
        context_free((sscma_context *)ctx);
}

void sscma_context_destroy(sscma_context *ctx)
{
    if (ctx == NULL)
        return;
    if (atomic_exchange(&ctx->destroyed, true))
        return; /* a second destroy while children keep it alive: the caller's reference is already given back */
    /* The caller's log callback and its user data may be gone once this returns (a Python wrapper's trampoline):
     * children that outlive the context log to stderr. */
    pthread_mutex_lock(&ctx->log_lock);
    ctx->options.log_fn = log_to_stderr;
    ctx->options.log_user_data = NULL;
    pthread_mutex_unlock(&ctx->log_lock);
    sscma_context_release(ctx);
}

sscma_status sscma_context_num_threads(const sscma_context *ctx, int32_t *out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(out);
    *out = ctx->options.num_threads;
    return SSCMA_OK;
}

sscma_status sscma_context_seed(const sscma_context *ctx, uint64_t *out)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(out);
    *out = ctx->options.seed;
    return SSCMA_OK;
}

sscma_status sscma_context_set_log_level(sscma_context *ctx, sscma_log_level level)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    if (!is_threshold_level((int)level))
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "level is %d; expected %d (debug) to %d (off)", (int)level,
                          SSCMA_LOG_DEBUG, SSCMA_LOG_OFF);
    atomic_store_explicit(&ctx->log_level, (int)level, memory_order_relaxed);
    return SSCMA_OK;
}

sscma_status sscma_context_set_log_callback(sscma_context *ctx, sscma_log_fn fn, void *user_data)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    pthread_mutex_lock(&ctx->log_lock);
    ctx->options.log_fn = fn != NULL ? fn : log_to_stderr;
    ctx->options.log_user_data = fn != NULL ? user_data : NULL;
    pthread_mutex_unlock(&ctx->log_lock);
    return SSCMA_OK;
}

sscma_status sscma_context_log(sscma_context *ctx, sscma_log_level level, const char *message)
{
    SSCMA_REQUIRE_NONNULL(ctx);
    SSCMA_REQUIRE_NONNULL(message);
    if ((int)level < SSCMA_LOG_DEBUG || (int)level > SSCMA_LOG_ERROR)
        return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "level is %d; a message's level is %d (debug) to %d (error)",
                          (int)level, SSCMA_LOG_DEBUG, SSCMA_LOG_ERROR);
    sscma_logf(ctx, level, "%s", message);
    return SSCMA_OK;
}

void sscma_logf(const sscma_context *ctx, sscma_log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load_explicit(&ctx->log_level, memory_order_relaxed))
        return;
    char line[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    /* sscma_logf takes a const context; the lock is the one member that changes under it */
    pthread_mutex_t *lock = (pthread_mutex_t *)&ctx->log_lock;
    pthread_mutex_lock(lock);
    ctx->options.log_fn(ctx->options.log_user_data, level, line);
    pthread_mutex_unlock(lock);
}
