/* The arena planner (alloc.h): greedy first fit by size over block lifetimes. */
#include "graph/alloc.h"

#include <stdbool.h>
#include <stdlib.h>

#include "ops/op.h"

#define WHERE "graph"

/* A block being placed: the caller's fields and its index in the caller's array. */
typedef struct placed {
    size_t bytes, offset;
    int32_t first, last, index;
} placed;

static int by_size_desc(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index; /* deterministic whatever qsort does with ties */
}

/* The lowest offset where block i overlaps none of the blocks placed before it that are live at a common step. */
static bool first_fit(const placed *blocks, int32_t i, size_t *out)
{
    const placed *b = &blocks[i];
    size_t offset = 0;
    bool moved = true;
    while (moved) {
        moved = false;
        for (int32_t j = 0; j < i; j++) {
            const placed *o = &blocks[j];
            bool overlap_time = !(o->last < b->first || b->last < o->first);
            bool overlap_space = offset < o->offset + o->bytes && o->offset < offset + b->bytes;
            if (overlap_time && overlap_space) {
                if (o->offset + o->bytes > SIZE_MAX - SSCMA_TENSOR_ALIGNMENT)
                    return false;
                offset = sscma_align_bytes(o->offset + o->bytes);
                moved = true;
            }
        }
    }
    if (offset > SIZE_MAX - b->bytes)
        return false;
    *out = offset;
    return true;
}

sscma_status sscma_arena_plan(const sscma_context *ctx, sscma_arena_block *blocks, int32_t count,
                              size_t *total_bytes)
{
    size_t scratch_bytes = (size_t)(count > 0 ? count : 1) * sizeof(placed);
    placed *order = sscma_alloc(ctx, scratch_bytes, _Alignof(placed));
    if (order == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot plan %d blocks", (int)count);
    for (int32_t i = 0; i < count; i++)
        order[i] = (placed){blocks[i].bytes, 0, blocks[i].first, blocks[i].last, i};
    qsort(order, (size_t)count, sizeof *order, by_size_desc);
    size_t total = 0;
    for (int32_t i = 0; i < count; i++) {
        if (!first_fit(order, i, &order[i].offset)) {
            sscma_free(ctx, order, scratch_bytes);
            return sscma_fail(SSCMA_ERR_OVERFLOW, WHERE, "the arena plan exceeds the address space");
        }
        if (order[i].offset + order[i].bytes > total)
            total = order[i].offset + order[i].bytes;
    }
    for (int32_t i = 0; i < count; i++)
        blocks[order[i].index].offset = order[i].offset;
    sscma_free(ctx, order, scratch_bytes);
    *total_bytes = total;
    return SSCMA_OK;
}
