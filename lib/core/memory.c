/*
 * Memory through the context's allocator hooks (internal.h, docs/architecture.md "Memory"): sized blocks and
 * header-prefixed blocks. Shared by libsscma and the micro runtime, whose hooks are a bump allocator over the
 * caller's arena (micro.c); there a NULL context has no C allocator behind it and allocates nothing.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#if !defined(SSCMA_MICRO)
void *sscma_c_alloc(void *user_data, size_t size_bytes, size_t alignment)
{
    (void)user_data;
    void *ptr = NULL;
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    if (posix_memalign(&ptr, alignment, size_bytes) != 0)
        return NULL;
    return ptr;
}

void sscma_c_free(void *user_data, void *ptr, size_t size_bytes)
{
    (void)user_data;
    (void)size_bytes;
    free(ptr);
}

#else
void *sscma_c_alloc(void *user_data, size_t size_bytes, size_t alignment)
{
    (void)user_data, (void)size_bytes, (void)alignment;
    return NULL;
}

void sscma_c_free(void *user_data, void *ptr, size_t size_bytes)
{
    (void)user_data, (void)ptr, (void)size_bytes;
}
#endif

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
    unsigned char *base = ctx != NULL ? sscma_alloc(ctx, total, MHEADER) : sscma_c_alloc(NULL, total, MHEADER);
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
        sscma_c_free(NULL, base, total);
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
