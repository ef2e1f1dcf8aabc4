/*
 * Structured (channel) pruning of a zoo model, torch-pruning's dependency-graph approach: the channels of every
 * activation are traced through the graph, so a residual add ties the channels of the branches it joins, a depthwise
 * convolution and a batch norm follow their input's channels, a concatenation maps slices, and a linear layer's
 * input columns follow the pooled/flattened channels. The coupled channels form groups; each group is scored by a
 * criterion (torch-pruning's group reduction "mean" and normalizer "mean") and its least important channels are
 * removed from every layer that holds them. The result is a new model built from a config with per-layer widths
 * (the backbone's "channels" list, docs/models.md) whose parameters are the kept slices of the old ones.
 *
 * Internal for now: no public symbol (the runner and the tests reach it; docs/training.md, "Pruning").
 */
#ifndef SSCMA_LIB_ZOO_PRUNE_H
#define SSCMA_LIB_ZOO_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "zoo/zoo.h"

typedef enum sscma_prune_criterion {
    SSCMA_PRUNE_L1 = 0,   /* sum |w| over the group's coupled weights (conv/linear rows and columns, BN gammas) */
    SSCMA_PRUNE_L2,       /* sum w^2 over the same */
    SSCMA_PRUNE_BN_SCALE, /* |gamma| of the group's batch norms (network slimming) */
    SSCMA_PRUNE_FPGM      /* sum of a filter's L2 distances to the layer's other filters (geometric median) */
} sscma_prune_criterion;

typedef struct sscma_prune_layer_ratio {
    const char *layer; /* a conv/linear layer name ("backbone.features.2.conv.0.0"): the group it starts */
    double ratio;
} sscma_prune_layer_ratio;

typedef struct sscma_prune_options {
    double ratio;                     /* fraction of each group's channels removed, 0 <= ratio < 1 */
    sscma_prune_criterion criterion;
    bool global;                      /* one threshold over every group's normalised scores (torch-pruning's
                                       * global_pruning) instead of `ratio` per group */
    int32_t round_to;                 /* keep a multiple of this many channels (0 or 1: any) */
    bool prune_first, prune_last, prune_head; /* the stem's, the backbone output's and the head layers' channels
                                               * (protected unless set) */
    const sscma_prune_layer_ratio *layer_ratios; /* per-group overrides, n_layer_ratios entries */
    int32_t n_layer_ratios;
} sscma_prune_options;

/* The defaults: ratio 0.5, L1, per group, round_to 1, first/last/head protected. */
void sscma_prune_options_defaults(sscma_prune_options *o);

/* Parses "l1", "l2", "bn_scale", "fpgm"; false for anything else. */
bool sscma_prune_criterion_parse(const char *name, sscma_prune_criterion *out);

/*
 * Builds the pruned model of `model` (a zoo model with a MobileNetV2/MobileNetv2 backbone: ImageClassifier, Fomo)
 * into *out: a new model (same context) from the rewritten config, with the kept slices of the parameters and
 * buffers. `model` is unchanged. Errors: SSCMA_ERR_UNSUPPORTED (another family or backbone, a model built layer by
 * layer), SSCMA_ERR_INVALID_ARGUMENT (ratio out of range, a layer ratio naming no layer that starts a prunable group),
 * SSCMA_ERR_OUT_OF_MEMORY.
 */
sscma_status sscma_prune_model(sscma_model *model, const sscma_prune_options *o, sscma_model **out);

#endif /* SSCMA_LIB_ZOO_PRUNE_H */
