/*
 * The micro runtime's context (SSCMA_MICRO builds only, lib/core/micro.c): a bump allocator over the caller's
 * arena behind the context's allocator hooks. Internal.
 */
#ifndef SSCMA_LIB_CORE_MICRO_H
#define SSCMA_LIB_CORE_MICRO_H

#include <stddef.h>

#include "core/internal.h"

typedef struct sscma_bump {
    unsigned char *base;
    size_t size;   /* bytes of the arena */
    size_t top;    /* first free byte */
    size_t last;   /* offset of the last block handed out (bump_free gives it back) */
    size_t high;   /* the most bytes ever in use: what the arena must hold */
} sscma_bump;

/* Makes ctx allocate from `arena` (size_bytes) through b; both must outlive every object made from ctx. */
void sscma_bump_context(sscma_context *ctx, sscma_bump *b, void *arena, size_t size_bytes);

#endif /* SSCMA_LIB_CORE_MICRO_H */
