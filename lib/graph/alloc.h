/*
 * The arena planner (ggml-alloc's role for libsscma's graph): given blocks of memory, each live over an inclusive
 * range of steps, it gives every block an offset in one arena so that no two blocks live at a common step overlap,
 * and returns the arena's size. It knows nothing of graphs: graph.c turns values, gradients, saved state and the
 * workspace into blocks (sscma_graph_prepare) and reads the offsets back.
 *
 * Placement is greedy first fit, largest block first (ties: earlier first step, then the caller's order), each
 * block at the lowest offset free over its whole lifetime; offsets are multiples of SSCMA_TENSOR_ALIGNMENT when
 * the sizes are (callers round them with sscma_align_bytes). Deterministic: the same blocks give the same plan.
 */
#ifndef SSCMA_LIB_GRAPH_ALLOC_H
#define SSCMA_LIB_GRAPH_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

typedef struct sscma_arena_block {
    size_t bytes;        /* in: size (0 is allowed and overlaps nothing) */
    int32_t first, last; /* in: live from step `first` to step `last`, inclusive */
    size_t offset;       /* out: where the block starts in the arena */
} sscma_arena_block;

/*
 * Plans `count` blocks: writes each block's offset and the arena size (the end of the highest block, at most the
 * sum of the sizes) to *total_bytes. Scratch memory comes from ctx's allocator. Errors: SSCMA_ERR_OUT_OF_MEMORY,
 * SSCMA_ERR_OVERFLOW (an arena beyond SIZE_MAX); on error nothing is written.
 */
sscma_status sscma_arena_plan(const sscma_context *ctx, sscma_arena_block *blocks, int32_t count,
                              size_t *total_bytes);

#endif /* SSCMA_LIB_GRAPH_ALLOC_H */
