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

static void *default_alloc(void *user_data, size_t size_bytes, size_t alignment)
{
    (void)user_data;
    void *ptr = NULL;
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    if (posix_memalign(&ptr, alignment, size_bytes) != 0)
        return NULL;
    return ptr;
}

static void default_free(void *user_data, void *ptr, size_t size_bytes)
{
    (void)user_data;
    (void)size_bytes;
    free(ptr);
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
        o.alloc_fn = default_alloc;
        o.free_fn = default_free;
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

void *sscma_alloc(const sscma_context *ctx, size_t size_bytes, size_t alignment)
{
    if (size_bytes == 0)
        return NULL;
    return ctx->options.alloc_fn(ctx->options.alloc_user_data, size_bytes, alignment);
}

void *sscma_alloc_zeroed(const sscma_context *ctx, size_t size_bytes, size_t alignment)
{
    void *ptr = sscma_alloc(ctx, size_bytes, alignment);
    if (ptr != NULL)
        memset(ptr, 0, size_bytes);
    return ptr;
}

void *sscma_alloc_array(const sscma_context *ctx, size_t count, size_t size_bytes, size_t alignment)
{
    size_t total;
    if (!sscma_mul_size(count, size_bytes, &total))
        return NULL;
    return sscma_alloc(ctx, total, alignment);
}

void *sscma_realloc(const sscma_context *ctx, void *ptr, size_t old_size_bytes, size_t new_size_bytes,
                    size_t alignment)
{
    if (new_size_bytes == 0) {
        sscma_free(ctx, ptr, old_size_bytes);
        return NULL;
    }
    void *moved = sscma_alloc(ctx, new_size_bytes, alignment);
    if (moved == NULL)
        return NULL;
    if (ptr != NULL) {
        memcpy(moved, ptr, old_size_bytes < new_size_bytes ? old_size_bytes : new_size_bytes);
        sscma_free(ctx, ptr, old_size_bytes);
    }
    return moved;
}

void sscma_free(const sscma_context *ctx, void *ptr, size_t size_bytes)
{
    if (ptr != NULL)
        ctx->options.free_fn(ctx->options.alloc_user_data, ptr, size_bytes);
}

char *sscma_strdup(const sscma_context *ctx, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sscma_alloc(ctx, n, 1);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

void sscma_free_string(const sscma_context *ctx, char *s)
{
    if (s != NULL)
        sscma_free(ctx, s, strlen(s) + 1);
}

/* Header-prefixed blocks: [size_t size | padding to 16][size bytes]. The hooks see size + 16 bytes. */
#define MHEADER 16
_Static_assert(MHEADER >= sizeof(size_t) && MHEADER % _Alignof(max_align_t) == 0, "the header keeps alignment");

void *sscma_malloc(const sscma_context *ctx, size_t size_bytes)
{
    if (size_bytes > (size_t)-1 - MHEADER)
        return NULL;
    size_t total = size_bytes + MHEADER;
    unsigned char *base = ctx != NULL ? sscma_alloc(ctx, total, MHEADER) : default_alloc(NULL, total, MHEADER);
    if (base == NULL)
        return NULL;
    memcpy(base, &size_bytes, sizeof size_bytes);
    return base + MHEADER;
}

void *sscma_calloc(const sscma_context *ctx, size_t count, size_t size_bytes)
{
    size_t total;
    if (!sscma_mul_size(count, size_bytes, &total))
        return NULL;
    void *ptr = sscma_malloc(ctx, total);
    if (ptr != NULL)
        memset(ptr, 0, total);
    return ptr;
}

size_t sscma_msize(const void *ptr)
{
    size_t n = 0;
    if (ptr != NULL)
        memcpy(&n, (const unsigned char *)ptr - MHEADER, sizeof n);
    return n;
}

void sscma_mfree(const sscma_context *ctx, void *ptr)
{
    if (ptr == NULL)
        return;
    unsigned char *base = (unsigned char *)ptr - MHEADER;
    size_t total = sscma_msize(ptr) + MHEADER;
    if (ctx != NULL)
        sscma_free(ctx, base, total);
    else
        default_free(NULL, base, total);
}

void *sscma_mrealloc(const sscma_context *ctx, void *ptr, size_t size_bytes)
{
    void *moved = sscma_malloc(ctx, size_bytes);
    if (moved == NULL)
        return NULL;
    if (ptr != NULL) {
        size_t old = sscma_msize(ptr);
        memcpy(moved, ptr, old < size_bytes ? old : size_bytes);
        sscma_mfree(ctx, ptr);
    }
    return moved;
}

char *sscma_mstrndup(const sscma_context *ctx, const char *s, size_t max_len)
{
    size_t n = strnlen(s, max_len);
    char *d = sscma_malloc(ctx, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *sscma_mstrdup(const sscma_context *ctx, const char *s)
{
    return sscma_mstrndup(ctx, s, (size_t)-1);
}
