/*
 * Re-parameterised blocks at lowering (lower_rep.c): a convolution and the affine region after it (batch norms,
 * 1x1 convolutions, adds) fused into one convolution. Private to lib/quant/.
 */
#ifndef SSCMA_LIB_QUANT_LOWER_REP_H
#define SSCMA_LIB_QUANT_LOWER_REP_H

#include <stdbool.h>
#include <stddef.h>

#include "graph/graph.h"

typedef struct rep_fusion {
    int32_t exit;     /* the region's one value read outside it; -1: no region (lower the convolution alone) */
    float *w, *b;     /* the fused weights (dims: OHWI, the root's kernel and input) and bias */
    int64_t dims[4];
    bool *members;    /* per graph node: lowered as part of the fused convolution */
    size_t n_members_bytes;
} rep_fusion;

/*
 * Finds the region after convolution node `root` (nodes already lowered, `done`, are not taken; `keep` lists the
 * deployment outputs) and, when it is a re-parameterisable block, fills *out (free with sscma_lower_rep_free);
 * otherwise out->exit is -1. Errors: SSCMA_ERR_OUT_OF_MEMORY.
 */
sscma_status sscma_lower_rep(const sscma_graph *g, int32_t root, const int32_t *keep, int32_t n_keep,
                             const bool *done, rep_fusion *out);
void sscma_lower_rep_free(sscma_context *ctx, rep_fusion *r);

#endif /* SSCMA_LIB_QUANT_LOWER_REP_H */
