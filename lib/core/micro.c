/*
 * The core of the micro runtime (SSCMA_MICRO; docs/deployment.md, "Microcontrollers"): what context.c and pool.c
 * give libsscma, for one thread and no heap. The context's allocator hooks are a bump allocator over the arena the
 * caller gives (sscma_micro_init), so every allocation of the shared sources (memory.c's helpers and their callers)
 * lands in that arena; a freed block is given back only when it is the last one handed out (the TFLite reader's
 * temporary tables), a grown one moves. Kernels run their whole range inline: there is no pool.
 */
#include <stdint.h>
#include <string.h>

#include "core/internal.h"
#include "core/micro.h"

static void *bump_alloc(void *user_data, size_t size_bytes, size_t alignment)
{
    sscma_bump *b = user_data;
    uintptr_t base = (uintptr_t)b->base;
    if (alignment < 8)
        alignment = 8;
    uintptr_t at = (base + b->top + (alignment - 1)) & ~(uintptr_t)(alignment - 1);
    size_t offset = (size_t)(at - base);
    if (offset > b->size || size_bytes > b->size - offset)
        return NULL;
    b->last = offset;
    b->top = offset + size_bytes;
    if (b->top > b->high)
        b->high = b->top;
    return b->base + offset;
}

static void bump_free(void *user_data, void *ptr, size_t size_bytes)
{
    sscma_bump *b = user_data;
    /* the last block handed out goes back; anything else stays until the arena is reused */
    if (ptr != NULL && (unsigned char *)ptr == b->base + b->last && b->last + size_bytes == b->top)
        b->top = b->last;
}

void sscma_bump_context(sscma_context *ctx, sscma_bump *b, void *arena, size_t size_bytes)
{
    memset(b, 0, sizeof *b);
    b->base = arena;
    b->size = size_bytes;
    memset(ctx, 0, sizeof *ctx);
    ctx->options.struct_size = (uint32_t)sizeof ctx->options;
    ctx->options.num_threads = 1;
    ctx->options.log_level = SSCMA_LOG_OFF;
    ctx->options.alloc_fn = bump_alloc;
    ctx->options.free_fn = bump_free;
    ctx->options.alloc_user_data = b;
    ctx->pool = NULL;
}

/* Handles keep no count of their context here: the caller's arena outlives them all. */
void sscma_context_retain(const sscma_context *ctx)
{
    (void)ctx;
}

void sscma_context_release(const sscma_context *ctx)
{
    (void)ctx;
}

/* No log: a failure's message is the last error (error.c). */
void sscma_logf(const sscma_context *ctx, sscma_log_level level, const char *fmt, ...)
{
    (void)ctx, (void)level, (void)fmt;
}

int32_t sscma_pool_threads(const sscma_pool *pool)
{
    (void)pool;
    return 1;
}

void sscma_parallel_for(sscma_pool *pool, int64_t count, int64_t min_per_thread, sscma_task_fn fn, void *arg)
{
    (void)pool, (void)min_per_thread;
    if (count > 0)
        fn(arg, 0, count, 0);
}
