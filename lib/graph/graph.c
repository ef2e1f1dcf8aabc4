/* The static graph: building, parameter storage and initialisation, arena planning and execution. */
#include "graph/graph.h"

#include "graph/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAPH "graph"


sscma_status sscma_graph_create(sscma_context *ctx, sscma_graph **out)
{
    sscma_graph *g = sscma_alloc_zeroed(ctx, sizeof *g, _Alignof(sscma_graph));
    if (g == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot allocate a graph");
    g->ctx = ctx;
    g->recompute = true;
    g->overwrite = true;
    *out = g;
    return SSCMA_OK;
}

static size_t desc_bytes(const sscma_desc *d)
{
    size_t e = 0;
    sscma_dtype_size(d->dtype, &e);
    return (size_t)sscma_desc_numel(d) * e;
}

void sscma_graph_destroy(sscma_graph *g)
{
    if (g == NULL)
        return;
    const sscma_context *ctx = g->ctx;
    for (int32_t i = 0; i < g->n_values; i++) {
        sscma_value *v = &g->values[i];
        if (v->kind == SSCMA_VALUE_PARAM || v->kind == SSCMA_VALUE_BUFFER || v->kind == SSCMA_VALUE_CONST) {
            sscma_free(ctx, v->data, v->bytes);
            sscma_free(ctx, v->grad, v->bytes);
            sscma_free(ctx, v->init_offset, v->bytes);
        }
        sscma_free(ctx, v->name, strlen(v->name) + 1);
    }
    for (int32_t i = 0; i < g->n_nodes; i++) {
        sscma_free(ctx, g->nodes[i].name, strlen(g->nodes[i].name) + 1);
        sscma_free(ctx, g->nodes[i].attrs, g->nodes[i].def->attrs_size);
    }
    sscma_free(ctx, g->values, (size_t)g->cap_values * sizeof *g->values);
    sscma_free(ctx, g->nodes, (size_t)g->cap_nodes * sizeof *g->nodes);
    sscma_free(ctx, g->arena, g->arena_capacity);
    sscma_free(ctx, g, sizeof *g);
}

/* Grows an array of `size`-byte elements to hold one more; returns false when out of memory. */
static bool grow(const sscma_context *ctx, void **array, int32_t count, int32_t *cap, size_t size)
{
    if (count < *cap)
        return true;
    int32_t new_cap = *cap ? *cap * 2 : 64;
    void *p = sscma_alloc_zeroed(ctx, (size_t)new_cap * size, 64);
    if (p == NULL)
        return false;
    if (*array != NULL) {
        memcpy(p, *array, (size_t)count * size);
        sscma_free(ctx, *array, (size_t)*cap * size);
    }
    *array = p;
    *cap = new_cap;
    return true;
}

int32_t sscma_graph_find(const sscma_graph *g, const char *name)
{
    for (int32_t i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    return -1;
}

static sscma_status new_value(sscma_graph *g, const char *name, sscma_value_kind kind, sscma_desc desc,
                              int32_t *out)
{
    if (name == NULL || name[0] == '\0')
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "a value needs a name");
    if (sscma_graph_find(g, name) >= 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "the name '%s' is already used", name);
    if (!grow(g->ctx, (void **)&g->values, g->n_values, &g->cap_values, sizeof *g->values))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot grow the value table");
    sscma_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = sscma_strdup(g->ctx, name);
    if (v->name == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot copy the name '%s'", name);
    v->kind = kind;
    v->desc = desc;
    v->producer = -1;
    *out = g->n_values++;
    g->batch = 0; /* any change invalidates the plan */
    return SSCMA_OK;
}

sscma_status sscma_graph_add_input(sscma_graph *g, const char *name, sscma_dtype dtype, int32_t rank,
                                   const int64_t *dims, uint32_t flags, int32_t *out)
{
    if (rank < 1 || rank > SSCMA_TENSOR_MAX_RANK || dims == NULL)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "input '%s': rank %d (1..%d, batch first)",
                          name ? name : "?", (int)rank, SSCMA_TENSOR_MAX_RANK);
    sscma_desc d = sscma_desc_make(dtype, rank, dims);
    d.dims[0] = 1;
    int32_t id;
    sscma_status st = new_value(g, name, SSCMA_VALUE_INPUT, d, &id);
    if (st != SSCMA_OK)
        return st;
    g->values[id].batched = true;
    g->values[id].flags = flags;
    g->values[id].training_only = (flags & SSCMA_INPUT_TARGET) != 0;
    *out = id;
    return SSCMA_OK;
}

sscma_status sscma_graph_add_param(sscma_graph *g, const char *name, sscma_value_kind kind, int32_t rank,
                                   const int64_t *dims, uint32_t flags, sscma_init_kind init, float init_scale,
                                   int32_t *out)
{
    if (kind != SSCMA_VALUE_PARAM && kind != SSCMA_VALUE_BUFFER && kind != SSCMA_VALUE_CONST)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "'%s' is neither a parameter, a buffer nor a constant",
                          name);
    sscma_desc d = sscma_desc_make(SSCMA_DTYPE_F32, rank, dims);
    int32_t id;
    sscma_status st = new_value(g, name, kind, d, &id);
    if (st != SSCMA_OK)
        return st;
    sscma_value *v = &g->values[id];
    v->flags = kind == SSCMA_VALUE_PARAM ? flags : kind == SSCMA_VALUE_BUFFER ? SSCMA_PARAM_BUFFER : 0;
    v->init = init;
    v->init_scale = init_scale;
    v->bytes = desc_bytes(&d);
    v->data = sscma_alloc_zeroed(g->ctx, v->bytes ? v->bytes : 4, SSCMA_TENSOR_ALIGNMENT);
    if (kind == SSCMA_VALUE_PARAM)
        v->grad = sscma_alloc_zeroed(g->ctx, v->bytes ? v->bytes : 4, SSCMA_TENSOR_ALIGNMENT);
    if (v->data == NULL || (kind == SSCMA_VALUE_PARAM && v->grad == NULL))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot allocate %zu bytes for '%s'", v->bytes, name);
    *out = id;
    return SSCMA_OK;
}

sscma_status sscma_graph_add_node(sscma_graph *g, const char *name, const char *op, const void *attrs,
                                  const int32_t *inputs, int32_t n_inputs, int32_t *outputs, int32_t *n_out)
{
    const sscma_op_def *def = sscma_op_find(op);
    if (def == NULL)
        return sscma_fail(SSCMA_ERR_NOT_FOUND, GRAPH, "node '%s': no op named '%s'", name, op);
    if (n_inputs < 0 || n_inputs > SSCMA_OP_MAX_INPUTS)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "node '%s': %d inputs", name, (int)n_inputs);
    sscma_desc in[SSCMA_OP_MAX_INPUTS], out_desc[SSCMA_OP_MAX_OUTPUTS];
    bool training_only = false;
    for (int32_t i = 0; i < n_inputs; i++) {
        if (inputs[i] < 0 || inputs[i] >= g->n_values)
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "node '%s': input %d is value %d, which does not "
                              "exist", name, (int)i, (int)inputs[i]);
        in[i] = g->values[inputs[i]].desc;
        training_only |= g->values[inputs[i]].training_only;
    }
    int32_t count = 0;
    sscma_op_sizes sizes;
    sscma_status st = sscma_op_infer(def, attrs, in, n_inputs, out_desc, &count, &sizes);
    if (st != SSCMA_OK) {
        char detail[800];
        snprintf(detail, sizeof detail, "%s", sscma_last_error());
        return sscma_fail(st, GRAPH, "node '%s': %s", name, detail);
    }
    if (!grow(g->ctx, (void **)&g->nodes, g->n_nodes, &g->cap_nodes, sizeof *g->nodes))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot grow the node table");
    sscma_node *nd = &g->nodes[g->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->def = def;
    nd->name = sscma_strdup(g->ctx, name);
    if (def->attrs_size > 0) {
        nd->attrs = sscma_alloc(g->ctx, def->attrs_size, 16);
        if (nd->attrs != NULL)
            memcpy(nd->attrs, attrs, def->attrs_size);
    }
    if (nd->name == NULL || (def->attrs_size > 0 && nd->attrs == NULL))
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot allocate node '%s'", name);
    nd->n_in = n_inputs;
    memcpy(nd->in, inputs, (size_t)n_inputs * sizeof *inputs);
    nd->training_only = training_only;
    int32_t node_index = g->n_nodes++;
    for (int32_t k = 0; k < count; k++) {
        char value_name[256];
        snprintf(value_name, sizeof value_name, count == 1 ? "%s" : "%s:%d", name, (int)k);
        int32_t id;
        if ((st = new_value(g, value_name, SSCMA_VALUE_ACT, out_desc[k], &id)) != SSCMA_OK)
            return st;
        g->values[id].producer = node_index;
        g->values[id].training_only = training_only;
        g->values[id].batched = true;
        g->nodes[node_index].out[k] = id;
        outputs[k] = id;
    }
    g->nodes[node_index].n_out = count;
    *n_out = count;
    return SSCMA_OK;
}

sscma_status sscma_graph_mark_output(sscma_graph *g, int32_t value)
{
    if (value < 0 || value >= g->n_values || g->n_outputs >= 16)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "cannot mark value %d as an output", (int)value);
    g->outputs[g->n_outputs++] = value;
    return SSCMA_OK;
}

void sscma_graph_truncate(sscma_graph *g, int32_t n_values, int32_t n_nodes)
{
    const sscma_context *ctx = g->ctx;
    for (; g->n_nodes > n_nodes; g->n_nodes--) {
        sscma_node *nd = &g->nodes[g->n_nodes - 1];
        sscma_free(ctx, nd->name, strlen(nd->name) + 1);
        sscma_free(ctx, nd->attrs, nd->def->attrs_size);
    }
    for (; g->n_values > n_values; g->n_values--) {
        sscma_value *v = &g->values[g->n_values - 1];
        if (v->kind == SSCMA_VALUE_PARAM || v->kind == SSCMA_VALUE_BUFFER || v->kind == SSCMA_VALUE_CONST) {
            sscma_free(ctx, v->data, v->bytes);
            sscma_free(ctx, v->grad, v->bytes);
            sscma_free(ctx, v->init_offset, v->bytes);
        }
        sscma_free(ctx, v->name, strlen(v->name) + 1);
    }
    int32_t kept = 0;
    for (int32_t k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] < n_values)
            g->outputs[kept++] = g->outputs[k];
    g->n_outputs = kept;
    g->batch = 0;
}

/* ---- initialisation ---- */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void sscma_graph_init_value(sscma_graph *g, int32_t i)
{
    uint64_t seed = g->ctx->options.seed;
    sscma_value *v = &g->values[i];
    if (v->kind != SSCMA_VALUE_PARAM && v->kind != SSCMA_VALUE_BUFFER)
        return;
    float *x = v->data;
    int64_t n = sscma_desc_numel(&v->desc);
    uint64_t stream = name_hash(v->name);
    double std = v->init_scale;
    if (v->init == SSCMA_INIT_KAIMING_NORMAL_FAN_OUT) {
        int64_t receptive = 1;
        for (int32_t d = 1; d < v->desc.rank - 1; d++)
            receptive *= v->desc.dims[d]; /* OHWI: H * W */
        int64_t fan_out = v->desc.dims[0] * receptive;
        std = sqrt(2.0 / (double)(fan_out > 0 ? fan_out : 1));
    }
    for (int64_t k = 0; k < n; k++) {
        switch (v->init) {
        case SSCMA_INIT_ZEROS: x[k] = 0.0f; break;
        case SSCMA_INIT_ONES: x[k] = 1.0f; break;
        case SSCMA_INIT_UNIFORM:
            x[k] = (float)((2.0 * sscma_uniform(seed, stream, (uint64_t)k) - 1.0) * v->init_scale);
            break;
        case SSCMA_INIT_KAIMING_NORMAL_FAN_OUT:
        case SSCMA_INIT_NORMAL: {
            /* Box-Muller on two counter-based uniforms */
            double u1 = sscma_uniform(seed, stream, 2 * (uint64_t)k), u2 = sscma_uniform(seed, stream, 2 * (uint64_t)k + 1);
            if (u1 < 1e-12)
                u1 = 1e-12;
            x[k] = (float)(std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
            break;
        }
        }
    }
    for (int64_t k = 0; v->init_offset != NULL && k < n; k++)
        x[k] += v->init_offset[k];
    if (v->grad != NULL)
        memset(v->grad, 0, v->bytes);
}

sscma_status sscma_graph_set_init_offset(sscma_graph *g, int32_t value, const float *offset)
{
    if (value < 0 || value >= g->n_values ||
        (g->values[value].kind != SSCMA_VALUE_PARAM && g->values[value].kind != SSCMA_VALUE_BUFFER) || offset == NULL)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "an init offset needs a parameter or buffer (value %d)",
                          (int)value);
    sscma_value *v = &g->values[value];
    if (v->init_offset == NULL && (v->init_offset = sscma_alloc(g->ctx, v->bytes, 16)) == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot allocate the init offset of '%s'", v->name);
    memcpy(v->init_offset, offset, v->bytes);
    return SSCMA_OK;
}

void sscma_graph_init_params(sscma_graph *g)
{
    for (int32_t i = 0; i < g->n_values; i++)
        sscma_graph_init_value(g, i);
}

/* ---- planning ---- */

/* The blocks of one plan, with where each block's offset goes (alloc.h plans them). */
typedef struct plan_blocks {
    sscma_arena_block *blocks;
    size_t **dst;
    int32_t count;
} plan_blocks;

static void add_block(plan_blocks *p, size_t bytes, size_t *dst, int32_t first, int32_t last)
{
    p->blocks[p->count] = (sscma_arena_block){bytes, first, last, 0};
    p->dst[p->count++] = dst;
}

/* MACs of one node's forward at the current shapes: what its op counts (convolutions and linear layers). */
static uint64_t node_macs(const sscma_graph *g, const sscma_node *nd)
{
    if (nd->def->macs == NULL)
        return 0;
    sscma_desc in[SSCMA_OP_MAX_INPUTS], out[SSCMA_OP_MAX_OUTPUTS];
    for (int32_t i = 0; i < nd->n_in; i++)
        in[i] = g->values[nd->in[i]].desc;
    for (int32_t i = 0; i < nd->n_out; i++)
        out[i] = g->values[nd->out[i]].desc;
    return nd->def->macs(in, nd->n_in, out);
}

uint64_t sscma_graph_node_macs(const sscma_graph *g, int32_t n)
{
    const sscma_node *nd = &g->nodes[n];
    int64_t batch = g->values[nd->out[0]].desc.rank > 0 ? g->values[nd->out[0]].desc.dims[0] : 1;
    return node_macs(g, nd) / (uint64_t)(batch > 0 ? batch : 1);
}

/*
 * Whether activation i can be dropped after forward and recomputed for backward: its producer has recompute(), runs
 * a backward that reads its inputs (so they are alive until then, later than any backward reading i) and computes
 * nothing else; and none of those inputs is itself recomputed (its second copy might not be written yet).
 */
static bool recomputable(const sscma_graph *g, int32_t i)
{
    const sscma_value *v = &g->values[i];
    if (!g->recompute || v->kind != SSCMA_VALUE_ACT || v->producer < 0)
        return false;
    const sscma_node *p = &g->nodes[v->producer];
    if (p->def->recompute == NULL || !p->needs_backward || p->def->backward_skips_inputs || p->n_out != 1)
        return false;
    for (int32_t k = 0; k < p->n_in; k++)
        if (g->values[p->in[k]].recompute_at >= 0)
            return false;
    return true;
}

sscma_status sscma_graph_prepare(sscma_graph *g, int64_t batch, bool training)
{
    if (batch < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "batch size %lld must be >= 1", (long long)batch);
    sscma_status st;
    /* 1. shapes at this batch size */
    for (int32_t i = 0; i < g->n_values; i++)
        if (g->values[i].kind == SSCMA_VALUE_INPUT)
            g->values[i].desc.dims[0] = batch;
    size_t workspace = 0;
    for (int32_t n = 0; n < g->n_nodes; n++) {
        sscma_node *nd = &g->nodes[n];
        sscma_desc in[SSCMA_OP_MAX_INPUTS], out[SSCMA_OP_MAX_OUTPUTS];
        for (int32_t i = 0; i < nd->n_in; i++)
            in[i] = g->values[nd->in[i]].desc;
        int32_t count = 0;
        if ((st = sscma_op_infer(nd->def, nd->attrs, in, nd->n_in, out, &count, &nd->sizes)) != SSCMA_OK) {
            char detail[800];
            snprintf(detail, sizeof detail, "%s", sscma_last_error());
            return sscma_fail(st, GRAPH, "node '%s' at batch %lld: %s", nd->name, (long long)batch, detail);
        }
        for (int32_t k = 0; k < count; k++)
            g->values[nd->out[k]].desc = out[k];
        if (nd->sizes.workspace_bytes > workspace)
            workspace = nd->sizes.workspace_bytes;
        nd->macs = node_macs(g, nd);
    }
    /* 2. which values need gradients: trainable parameters and everything computed from them */
    for (int32_t i = 0; i < g->n_values; i++) {
        sscma_value *v = &g->values[i];
        v->requires_grad = v->kind == SSCMA_VALUE_PARAM && (v->flags & SSCMA_PARAM_TRAINABLE);
    }
    for (int32_t n = 0; n < g->n_nodes; n++) {
        sscma_node *nd = &g->nodes[n];
        bool any = false;
        for (int32_t i = 0; i < nd->n_in; i++)
            any |= g->values[nd->in[i]].requires_grad && !((nd->def->nondiff_inputs >> i) & 1u);
        nd->needs_backward = training && any && nd->def->backward != NULL;
        for (int32_t k = 0; k < nd->n_out; k++)
            g->values[nd->out[k]].requires_grad = nd->needs_backward;
    }
    /* Which backward writes each activation gradient first: the last consumer (in forward order) that runs a
     * backward. Gradients nobody writes (unused outputs, the loss) are zeroed before their producer's backward. */
    for (int32_t n = 0; n < g->n_nodes; n++)
        g->nodes[n].zero_in_mask = g->nodes[n].zero_out_mask = g->nodes[n].fresh_in_mask = 0;
    for (int32_t i = 0; i < g->n_values; i++) {
        sscma_value *v = &g->values[i];
        if (v->kind != SSCMA_VALUE_ACT || !v->requires_grad)
            continue;
        int32_t writer = -1, slot = -1;
        for (int32_t n = g->n_nodes - 1; n >= 0 && writer < 0; n--) {
            sscma_node *nd = &g->nodes[n];
            if (!nd->needs_backward)
                continue;
            for (int32_t k = 0; k < nd->n_in && writer < 0; k++)
                if (nd->in[k] == i && !((nd->def->nondiff_inputs >> k) & 1u))
                    writer = n, slot = k;
        }
        sscma_node *producer = &g->nodes[v->producer];
        v->grad_writer = writer;
        if (writer >= 0) {
            sscma_node *w = &g->nodes[writer];
            w->zero_in_mask |= 1u << slot;
            /* The writer may overwrite instead, unless the value is also another of its differentiable inputs
             * (add(x, x)): then the op's own order of writes would decide, so it is zeroed and added as usual. */
            bool twice = false;
            for (int32_t k = 0; k < w->n_in; k++)
                twice |= k != slot && w->in[k] == i && !((w->def->nondiff_inputs >> k) & 1u);
            if (g->overwrite && !twice && ((w->def->backward_overwrites >> slot) & 1u))
                w->fresh_in_mask |= 1u << slot;
        } else {
            for (int32_t k = 0; k < producer->n_out; k++)
                if (producer->out[k] == i)
                    producer->zero_out_mask |= 1u << k;
        }
    }
    /* 3. lifetimes over steps: forward of node n at n, its backward at 2N - 1 - n */
    const int32_t N = g->n_nodes, end_step = training ? 2 * N : N;
    int32_t max_blocks = 3 * g->n_values + N + 1;
    size_t plan_bytes = (size_t)max_blocks * (sizeof(sscma_arena_block) + sizeof(size_t *));
    plan_blocks plan = {sscma_alloc(g->ctx, plan_bytes, _Alignof(sscma_arena_block)), NULL, 0};
    if (plan.blocks == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot plan %d blocks", (int)max_blocks);
    plan.dst = (size_t **)(plan.blocks + max_blocks);
    for (int32_t n = 0; n < N; n++)
        g->nodes[n].first_recompute = -1;
    for (int32_t i = 0; i < g->n_values; i++) {
        sscma_value *v = &g->values[i];
        v->recompute_at = v->next_recompute = -1;
        if (v->kind != SSCMA_VALUE_INPUT && v->kind != SSCMA_VALUE_ACT)
            continue;
        v->bytes = sscma_align_bytes(desc_bytes(&v->desc));
        int32_t first = v->kind == SSCMA_VALUE_INPUT ? 0 : v->producer, last = first;
        /* the backwards that read the value: the largest and smallest such node index */
        int32_t reader_hi = -1, reader_lo = N;
        for (int32_t n = 0; n < N; n++)
            for (int32_t k = 0; k < g->nodes[n].n_in; k++)
                if (g->nodes[n].in[k] == i) {
                    last = n > last ? n : last;
                    if (g->nodes[n].needs_backward && !g->nodes[n].def->backward_skips_inputs) {
                        reader_hi = n > reader_hi ? n : reader_hi;
                        reader_lo = n < reader_lo ? n : reader_lo;
                    }
                }
        if (v->producer >= 0 && g->nodes[v->producer].needs_backward &&
            !g->nodes[v->producer].def->backward_skips_outputs) {
            reader_hi = v->producer > reader_hi ? v->producer : reader_hi;
            reader_lo = v->producer < reader_lo ? v->producer : reader_lo;
        }
        bool whole = v->kind == SSCMA_VALUE_INPUT;
        for (int32_t o = 0; o < g->n_outputs; o++)
            whole |= g->outputs[o] == i;
        if (whole) {
            last = end_step;
        } else if (reader_hi >= 0 && recomputable(g, i)) {
            /* a second block from the recompute to the last backward that reads it */
            v->recompute_at = reader_hi;
            v->next_recompute = g->nodes[reader_hi].first_recompute;
            g->nodes[reader_hi].first_recompute = i;
            add_block(&plan, v->bytes, &v->recompute_offset, 2 * N - 1 - reader_hi, 2 * N - 1 - reader_lo);
        } else if (reader_hi >= 0 && 2 * N - 1 - reader_lo > last) {
            last = 2 * N - 1 - reader_lo;
        }
        add_block(&plan, v->bytes, &v->offset, first, last);
        if (v->kind == SSCMA_VALUE_ACT && v->requires_grad) {
            /* from the first backward that writes it to the producer's backward, which reads it */
            int32_t gfirst = 2 * N - 1 - (v->grad_writer >= 0 ? v->grad_writer : v->producer);
            add_block(&plan, v->bytes, &v->grad_offset, gfirst, 2 * N - 1 - v->producer);
        }
    }
    for (int32_t n = 0; n < N; n++) {
        sscma_node *nd = &g->nodes[n];
        nd->sizes.saved_bytes = sscma_align_bytes(nd->sizes.saved_bytes);
        if (nd->sizes.saved_bytes > 0)
            add_block(&plan, nd->sizes.saved_bytes, &nd->saved_offset, n, nd->needs_backward ? 2 * N - 1 - n : n);
    }
    g->workspace_bytes = sscma_align_bytes(workspace);
    add_block(&plan, g->workspace_bytes, &g->workspace_offset, 0, end_step);
    size_t total = 0;
    st = sscma_arena_plan(g->ctx, plan.blocks, plan.count, &total);
    for (int32_t k = 0; st == SSCMA_OK && k < plan.count; k++)
        *plan.dst[k] = plan.blocks[k].offset;
    sscma_free(g->ctx, plan.blocks, plan_bytes);
    if (st != SSCMA_OK)
        return st;
    /* 4. the arena */
    if (total > g->arena_capacity) {
        void *arena = sscma_alloc(g->ctx, total, SSCMA_TENSOR_ALIGNMENT);
        if (arena == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, GRAPH, "cannot allocate a %zu-byte arena for batch %lld",
                              total, (long long)batch);
        sscma_free(g->ctx, g->arena, g->arena_capacity);
        g->arena = arena;
        g->arena_capacity = total;
    }
    g->arena_bytes = total;
    memset(g->arena, 0, total);
    for (int32_t i = 0; i < g->n_values; i++) {
        sscma_value *v = &g->values[i];
        if (v->kind != SSCMA_VALUE_INPUT && v->kind != SSCMA_VALUE_ACT)
            continue;
        v->data = (char *)g->arena + v->offset;
        v->grad = v->kind == SSCMA_VALUE_ACT && v->requires_grad ? (float *)((char *)g->arena + v->grad_offset) : NULL;
    }
    g->batch = batch;
    g->training = training;
    return SSCMA_OK;
}

/* ---- execution ---- */

static sscma_op_exec exec_of(sscma_graph *g, sscma_node *nd, sscma_buf *in, sscma_buf *out)
{
    for (int32_t i = 0; i < nd->n_in; i++) {
        in[i].desc = g->values[nd->in[i]].desc;
        in[i].data = g->values[nd->in[i]].data;
    }
    for (int32_t k = 0; k < nd->n_out; k++) {
        out[k].desc = g->values[nd->out[k]].desc;
        out[k].data = g->values[nd->out[k]].data;
    }
    sscma_op_exec e = {g->ctx->pool, nd->attrs, in, nd->n_in, out, nd->n_out,
                       (char *)g->arena + nd->saved_offset, (char *)g->arena + g->workspace_offset,
                       g->training && !nd->frozen,
                       g->step_seed ^ name_hash(nd->name)};
    e.sync = g->sync;
    return e;
}

sscma_status sscma_graph_forward(sscma_graph *g)
{
    if (g->batch == 0)
        return sscma_fail(SSCMA_ERR_STATE, GRAPH, "forward before prepare: plan the graph for a batch size first");
    if (g->training)
        g->step_seed = sscma_hash64(g->step_seed + g->ctx->options.seed + 1);
    sscma_buf in[SSCMA_OP_MAX_INPUTS], out[SSCMA_OP_MAX_OUTPUTS];
    for (int32_t n = 0; n < g->n_nodes; n++) {
        sscma_node *nd = &g->nodes[n];
        if (nd->training_only && !g->training)
            continue;
        sscma_op_exec e = exec_of(g, nd, in, out);
        sscma_status st = nd->def->forward(&e);
        if (st != SSCMA_OK) {
            char detail[800];
            snprintf(detail, sizeof detail, "%s", sscma_last_error());
            return sscma_fail(st, GRAPH, "node '%s': %s", nd->name, detail);
        }
    }
    return SSCMA_OK;
}

/* Points recomputed activations at their backward copy (true) or back at their forward block (false). */
static void set_recomputed_storage(sscma_graph *g, bool backward)
{
    for (int32_t i = 0; i < g->n_values; i++) {
        sscma_value *v = &g->values[i];
        if (v->recompute_at >= 0)
            v->data = (char *)g->arena + (backward ? v->recompute_offset : v->offset);
    }
}

sscma_status sscma_graph_backward(sscma_graph *g, int32_t loss)
{
    if (g->batch == 0 || !g->training)
        return sscma_fail(SSCMA_ERR_STATE, GRAPH, "backward needs a graph prepared for training");
    if (loss < 0 || loss >= g->n_values || g->values[loss].desc.rank != 0 || g->values[loss].grad == NULL)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, GRAPH, "value %d is not a scalar loss computed from parameters",
                          (int)loss);
    int32_t N = g->n_nodes;
    sscma_buf in[SSCMA_OP_MAX_INPUTS], out[SSCMA_OP_MAX_OUTPUTS];
    sscma_buf dout[SSCMA_OP_MAX_OUTPUTS], din[SSCMA_OP_MAX_INPUTS];
    set_recomputed_storage(g, true);
    sscma_status st = SSCMA_OK;
    for (int32_t n = N - 1; n >= 0; n--) {
        sscma_node *nd = &g->nodes[n];
        if (!nd->needs_backward)
            continue;
        for (int32_t i = nd->first_recompute; i >= 0 && st == SSCMA_OK; i = g->values[i].next_recompute) {
            sscma_node *producer = &g->nodes[g->values[i].producer];
            sscma_op_exec e = exec_of(g, producer, in, out);
            if ((st = producer->def->recompute(&e)) != SSCMA_OK) {
                char detail[800];
                snprintf(detail, sizeof detail, "%s", sscma_last_error());
                st = sscma_fail(st, GRAPH, "node '%s' (recomputing its output): %s", producer->name, detail);
            }
        }
        if (st != SSCMA_OK)
            break;
        /* gradient slots are shared over time: each is zeroed as its lifetime starts (see prepare) */
        for (int32_t k = 0; k < nd->n_out; k++)
            if ((nd->zero_out_mask >> k) & 1u)
                memset(g->values[nd->out[k]].grad, 0, desc_bytes(&g->values[nd->out[k]].desc));
        for (int32_t k = 0; k < nd->n_out; k++)
            if (nd->out[k] == loss)
                g->values[loss].grad[0] = 1.0f; /* d loss / d loss */
        for (int32_t i = 0; i < nd->n_in; i++)
            if (((nd->zero_in_mask & ~nd->fresh_in_mask) >> i) & 1u)
                memset(g->values[nd->in[i]].grad, 0, desc_bytes(&g->values[nd->in[i]].desc));
        sscma_op_exec e = exec_of(g, nd, in, out);
        e.din_fresh = nd->fresh_in_mask;
        for (int32_t k = 0; k < nd->n_out; k++) {
            sscma_value *v = &g->values[nd->out[k]];
            dout[k].desc = v->desc;
            dout[k].data = v->grad;
        }
        for (int32_t i = 0; i < nd->n_in; i++) {
            sscma_value *v = &g->values[nd->in[i]];
            din[i].desc = v->desc;
            din[i].data = v->requires_grad && !((nd->def->nondiff_inputs >> i) & 1u) ? v->grad : NULL;
        }
        nd->def->backward(&e, dout, din);
        if (g->backward_hook != NULL)
            g->backward_hook->after_node(g->backward_hook->arg, n);
    }
    set_recomputed_storage(g, false);
    return st;
}

void sscma_graph_zero_grad(sscma_graph *g)
{
    for (int32_t i = 0; i < g->n_values; i++)
        if (g->values[i].kind == SSCMA_VALUE_PARAM && g->values[i].grad != NULL)
            memset(g->values[i].grad, 0, g->values[i].bytes);
}
