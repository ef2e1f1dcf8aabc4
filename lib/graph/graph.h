/*
 * The static graph: values (inputs, parameters, buffers, activations) and nodes (ops from the op table), the
 * parameter registry with PyTorch-style dotted names, the arena plan per batch size, and the executor (forward,
 * backward, zero_grad). Internal: the public face is <sscma/model.h>.
 *
 * Build once (shapes inferred at a nominal batch of 1), then sscma_graph_prepare() for a batch size and mode:
 * every activation, gradient, saved state and the shared workspace get offsets in one arena, allocated there and
 * only there, so forward/backward/zero_grad make no allocation. Parameters, buffers and parameter gradients live
 * outside the arena and survive re-planning.
 */
#ifndef SSCMA_LIB_GRAPH_GRAPH_H
#define SSCMA_LIB_GRAPH_GRAPH_H

#include <stdbool.h>

#include "ops/op.h"
#include "sscma/model.h"

typedef enum sscma_value_kind {
    SSCMA_VALUE_INPUT = 0,
    SSCMA_VALUE_PARAM = 1,  /* learned: has a gradient when trainable */
    SSCMA_VALUE_BUFFER = 2, /* state saved with the model but not learned: batch norm running statistics */
    SSCMA_VALUE_ACT = 3,    /* an op output */
    SSCMA_VALUE_CONST = 4   /* fixed data the builder fills (a loss's pos_weight): neither learned nor saved */
} sscma_value_kind;

/* How a parameter or buffer starts (sscma_graph_init_params). */
typedef enum sscma_init_kind {
    SSCMA_INIT_ZEROS = 0,
    SSCMA_INIT_ONES,
    SSCMA_INIT_KAIMING_NORMAL_FAN_OUT, /* N(0, sqrt(2 / fan_out)), fan_out = dims[0] * receptive field */
    SSCMA_INIT_NORMAL,                 /* N(0, init_scale) */
    SSCMA_INIT_UNIFORM                 /* U(-init_scale, init_scale) */
} sscma_init_kind;

typedef struct sscma_value {
    char *name;
    sscma_value_kind kind;
    sscma_desc desc;  /* current shape (batch planned in prepare) */
    bool batched;     /* inputs: dims[0] follows the batch size */
    uint32_t flags;   /* SSCMA_PARAM_* for parameters, SSCMA_INPUT_* for inputs */
    int32_t producer; /* node index, -1 for inputs, params, buffers */
    sscma_init_kind init;
    float init_scale;
    float *init_offset; /* params: numel values added after the draw (a detection head's prior bias), or NULL */
    /* storage */
    void *data;       /* params/buffers: own allocation; inputs/activations: in the arena */
    float *grad;      /* params: own allocation; activations: in the arena (NULL when none) */
    size_t bytes;
    bool requires_grad;
    bool training_only; /* depends on a target input: skipped in evaluation */
    /* plan */
    size_t offset, grad_offset;
    int32_t grad_writer; /* node whose backward first writes this gradient, -1 = none (zeroed by the producer) */
    /* Recomputed activations (training): freed after their last forward reader, written again by their producer's
     * recompute() into a second block at recompute_offset just before node recompute_at's backward; -1 = kept. */
    int32_t recompute_at;
    int32_t next_recompute; /* the next value recomputed before the same node's backward, -1 = none */
    size_t recompute_offset;
} sscma_value;

typedef struct sscma_node {
    char *name;
    const sscma_op_def *def;
    void *attrs;
    int32_t in[SSCMA_OP_MAX_INPUTS], n_in;
    int32_t out[SSCMA_OP_MAX_OUTPUTS], n_out;
    sscma_op_sizes sizes;
    size_t saved_offset;
    uint64_t macs; /* multiply-accumulates of one forward at the planned batch */
    bool training_only;
    bool frozen;         /* runs in evaluation mode even in a training graph (QAT's frozen batch norms) */
    bool needs_backward;
    uint32_t zero_in_mask;  /* inputs whose gradient this node's backward writes first: zeroed just before */
    uint32_t zero_out_mask; /* outputs whose gradient nothing writes (unused or the loss): zeroed before */
    uint32_t fresh_in_mask; /* of zero_in_mask, the inputs whose backward writes instead of adding (not zeroed) */
    int32_t first_recompute; /* the first value recomputed just before this node's backward, -1 = none */
} sscma_node;

typedef struct sscma_graph {
    sscma_context *ctx;
    sscma_value *values;
    int32_t n_values, cap_values;
    sscma_node *nodes;
    int32_t n_nodes, cap_nodes;
    int32_t outputs[16];
    int32_t n_outputs;
    /* plan */
    int64_t batch;     /* 0 = not prepared */
    bool training;
    void *arena;
    size_t arena_bytes, arena_capacity;
    size_t workspace_offset, workspace_bytes;
    uint64_t step_seed; /* dropout streams: advanced by each training forward */
    bool recompute;     /* plan recomputed activations (the default; tests turn it off to compare) */
    bool overwrite;     /* first gradient writers overwrite instead of zero + add (default; tests turn it off) */
    /* SyncBN: the config asks for batch statistics over every process of a data-parallel job (norm_cfg SyncBN);
     * the trainer of such a job sets `sync` (NULL otherwise) and the batch norms use it */
    bool sync_bn;
    const sscma_op_sync *sync;
    /* Called after each node's backward with the node's index (descending), NULL for none: a data-parallel trainer
     * starts summing the parameter gradients that are final (no earlier node adds to them) while backward goes on */
    const struct sscma_graph_backward_hook *backward_hook;
} sscma_graph;

typedef struct sscma_graph_backward_hook {
    void (*after_node)(void *arg, int32_t node);
    void *arg;
} sscma_graph_backward_hook;

sscma_status sscma_graph_create(sscma_context *ctx, sscma_graph **out);
void sscma_graph_destroy(sscma_graph *g);

/* Adds an input; dims[0] is the batch (any value at build time) when batched. */
sscma_status sscma_graph_add_input(sscma_graph *g, const char *name, sscma_dtype dtype, int32_t rank,
                                   const int64_t *dims, uint32_t flags, int32_t *out);
/* Adds a parameter (flags SSCMA_PARAM_*) or, with kind BUFFER, a buffer, or a CONST; storage allocated here. */
sscma_status sscma_graph_add_param(sscma_graph *g, const char *name, sscma_value_kind kind, int32_t rank,
                                   const int64_t *dims, uint32_t flags, sscma_init_kind init, float init_scale,
                                   int32_t *out);
/* Adds a node running `op` (attrs copied) on `inputs`; its outputs' value ids go to outputs[0..*n_out). */
sscma_status sscma_graph_add_node(sscma_graph *g, const char *name, const char *op, const void *attrs,
                                  const int32_t *inputs, int32_t n_inputs, int32_t *outputs, int32_t *n_out);
sscma_status sscma_graph_mark_output(sscma_graph *g, int32_t value);

/* Removes the values from `n_values` on and the nodes from `n_nodes` on (what was added after those counts were
 * read: the distillation hook's loss), and their output marks; the plan is invalidated. */
void sscma_graph_truncate(sscma_graph *g, int32_t n_values, int32_t n_nodes);

/* Sets a parameter's (or buffer's: SoundNet's fixed blur taps) init offset: numel(value) floats copied from `offset`, added after each draw (not applied
 * now: call sscma_graph_init_value). */
sscma_status sscma_graph_set_init_offset(sscma_graph *g, int32_t value, const float *offset);

/* (Re)initialises every parameter and buffer from its init spec, seeded by the context seed and the value's name. */
void sscma_graph_init_params(sscma_graph *g);
/* The same for one value. */
void sscma_graph_init_value(sscma_graph *g, int32_t value);

/*
 * Plans (and, if larger, reallocates) the arena for this batch size and mode. In training, an activation whose
 * producer can recompute it (batch norms) and whose producer's inputs stay alive until that producer's backward
 * is not kept from forward to backward: it is written again just before the first backward that reads it.
 */
sscma_status sscma_graph_prepare(sscma_graph *g, int64_t batch, bool training);

sscma_status sscma_graph_forward(sscma_graph *g);
/* Backward from scalar output `loss` (seeded with d loss = 1); parameter gradients accumulate. */
sscma_status sscma_graph_backward(sscma_graph *g, int32_t loss);
void sscma_graph_zero_grad(sscma_graph *g);

/* Multiply-accumulates of one sample's forward through node n (convolutions and linear layers). */
uint64_t sscma_graph_node_macs(const sscma_graph *g, int32_t n);

/* Value lookup by name; -1 if none. */
int32_t sscma_graph_find(const sscma_graph *g, const char *name);

#endif /* SSCMA_LIB_GRAPH_GRAPH_H */
