/*
 * Channel pruning by dependency groups (zoo/prune.h). Every channel of every activation gets an id; a full conv or a
 * linear layer makes fresh ids for its output (a "space"), ops that keep channels pass their input's ids on, an add
 * unites its inputs' ids channel by channel (and so their spaces), a concat lays its inputs' ids side by side. A
 * group is a set of united spaces; its channels are the classes of united ids. Scores are gathered per class from
 * every layer that holds the channel (as torch-pruning's MagnitudeImportance: producer rows, consumer columns, batch
 * norm gammas; depthwise convolutions contribute nothing, as there), averaged over the group's layers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "zoo/prune.h"

#define WHERE "prune"

typedef struct pruner {
    sscma_context *ctx;
    const sscma_graph *g;
    const sscma_prune_options *o;
    int32_t **ids;       /* per value: channel ids of its last dim (activations and inputs), NULL otherwise */
    int32_t *parent;     /* channel id union-find */
    int32_t *space;      /* channel id -> its space */
    int32_t *space_up;   /* space union-find */
    int32_t *space_node; /* the node that made the space (-1: an input or a pinned output) */
    bool *pinned;        /* per space: may not be pruned */
    double *score;       /* per class root */
    int32_t *deps;       /* per space root: layers that contributed to the score */
    bool *keep;          /* per class root */
    bool *gone;          /* per class root: removed by a group already pruned */
    int32_t n_ids, cap_ids, n_spaces, cap_spaces;
    int32_t *dim0_of, *last_of; /* per param value: the activation whose channels index its first / last dim */
} pruner;

static int32_t find(int32_t *up, int32_t i)
{
    while (up[i] != i)
        i = up[i] = up[up[i]];
    return i;
}

static bool grow(pruner *p, void **arr, size_t elem, int32_t old_cap, int32_t new_cap)
{
    void *n = sscma_mrealloc(p->ctx, *arr, (size_t)new_cap * elem);
    if (n == NULL)
        return false;
    memset((char *)n + (size_t)old_cap * elem, 0, (size_t)(new_cap - old_cap) * elem);
    *arr = n;
    return true;
}

/* A new space of c fresh channel ids made by node `node` (-1: none), written to ids. */
static bool new_space(pruner *p, int32_t node, int64_t c, bool pinned, int32_t *ids)
{
    if (p->n_spaces == p->cap_spaces) {
        int32_t cap = p->cap_spaces ? 2 * p->cap_spaces : 64;
        if (!grow(p, (void **)&p->space_up, sizeof(int32_t), p->cap_spaces, cap) ||
            !grow(p, (void **)&p->space_node, sizeof(int32_t), p->cap_spaces, cap) ||
            !grow(p, (void **)&p->pinned, sizeof(bool), p->cap_spaces, cap) ||
            !grow(p, (void **)&p->deps, sizeof(int32_t), p->cap_spaces, cap))
            return false;
        p->cap_spaces = cap;
    }
    int32_t s = p->n_spaces++;
    p->space_up[s] = s, p->space_node[s] = node, p->pinned[s] = pinned;
    while (p->n_ids + c > p->cap_ids) {
        int32_t cap = p->cap_ids ? 2 * p->cap_ids : 1024;
        if (!grow(p, (void **)&p->parent, sizeof(int32_t), p->cap_ids, cap) ||
            !grow(p, (void **)&p->space, sizeof(int32_t), p->cap_ids, cap) ||
            !grow(p, (void **)&p->score, sizeof(double), p->cap_ids, cap) ||
            !grow(p, (void **)&p->keep, sizeof(bool), p->cap_ids, cap) ||
            !grow(p, (void **)&p->gone, sizeof(bool), p->cap_ids, cap))
            return false;
        p->cap_ids = cap;
    }
    for (int64_t i = 0; i < c; i++) {
        p->parent[p->n_ids] = p->n_ids, p->space[p->n_ids] = s;
        ids[i] = p->n_ids++;
    }
    return true;
}

static int32_t space_of(pruner *p, int32_t id)
{
    return find(p->space_up, p->space[find(p->parent, id)]);
}

static void unite(pruner *p, int32_t a, int32_t b)
{
    int32_t ra = find(p->parent, a), rb = find(p->parent, b);
    int32_t sa = find(p->space_up, p->space[ra]), sb = find(p->space_up, p->space[rb]);
    if (sa != sb) {
        p->space_up[sb] = sa;
        p->pinned[sa] = p->pinned[sa] || p->pinned[sb];
    }
    if (ra != rb)
        p->parent[rb] = ra;
}

static void pin_ids(pruner *p, const int32_t *ids, int64_t c)
{
    for (int64_t i = 0; ids != NULL && i < c; i++)
        p->pinned[space_of(p, ids[i])] = true;
}

static int64_t channels(const sscma_value *v)
{
    return v->desc.rank > 0 ? v->desc.dims[v->desc.rank - 1] : 0;
}

static int64_t per_sample(const sscma_value *v)
{
    int64_t n = 1;
    for (int32_t i = 1; i < v->desc.rank; i++)
        n *= v->desc.dims[i];
    return n;
}

static bool channel_wise(const char *op)
{
    static const char *const ops[] = {"batch_norm", "batch_norm_act", "relu", "relu6", "hardswish", "sigmoid",
                                      "leaky_relu", "silu", "hardsigmoid", "dropout", "global_avg_pool",
                                      "global_max_pool", "max_pool", "avg_pool", "upsample_nearest", NULL};
    for (int i = 0; ops[i] != NULL; i++)
        if (strcmp(op, ops[i]) == 0)
            return true;
    return false;
}

static bool is_depthwise(const sscma_graph *g, const sscma_node *nd)
{
    const sscma_conv2d_attrs *a = nd->attrs;
    int64_t cin = channels(&g->values[nd->in[0]]), cout = channels(&g->values[nd->out[0]]);
    return a->groups > 1 && a->groups == cin && cin == cout;
}

static bool is_full_layer(const sscma_graph *g, const sscma_node *nd)
{
    (void)g;
    return strcmp(nd->def->name, "linear") == 0 ||
           (strcmp(nd->def->name, "conv2d") == 0 && ((const sscma_conv2d_attrs *)nd->attrs)->groups == 1);
}

static bool alloc_ids(pruner *p, int32_t v)
{
    int64_t c = channels(&p->g->values[v]);
    p->ids[v] = sscma_malloc(p->ctx, (size_t)(c > 0 ? c : 1) * sizeof(int32_t));
    return p->ids[v] != NULL;
}

/* Traces every node's channels; false on out of memory. */
static bool trace(pruner *p)
{
    const sscma_graph *g = p->g;
    for (int32_t v = 0; v < g->n_values; v++)
        if (g->values[v].kind == SSCMA_VALUE_INPUT &&
            (!alloc_ids(p, v) || !new_space(p, -1, channels(&g->values[v]), true, p->ids[v])))
            return false;
    for (int32_t n = 0; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        const char *op = nd->def->name;
        int32_t x = nd->in[0], y = nd->out[0];
        for (int32_t i = 0; i < nd->n_out; i++)
            if (!alloc_ids(p, nd->out[i]))
                return false;
        const int32_t *xi = p->ids[x];
        int64_t cx = channels(&g->values[x]), cy = channels(&g->values[y]);
        if (xi != NULL && is_full_layer(g, nd)) {
            if (!new_space(p, n, cy, false, p->ids[y]))
                return false;
            p->dim0_of[nd->in[1]] = y, p->last_of[nd->in[1]] = x;
            if (nd->n_in > 2)
                p->dim0_of[nd->in[2]] = y;
        } else if (xi != NULL && strcmp(op, "conv2d") == 0 && is_depthwise(g, nd)) {
            memcpy(p->ids[y], xi, (size_t)cy * sizeof(int32_t));
            for (int32_t i = 1; i < nd->n_in; i++)
                p->dim0_of[nd->in[i]] = y;
        } else if (xi != NULL && channel_wise(op) && cx == cy && nd->n_out == 1) {
            memcpy(p->ids[y], xi, (size_t)cy * sizeof(int32_t));
            for (int32_t i = 1; i < nd->n_in; i++)
                p->dim0_of[nd->in[i]] = y;
        } else if (xi != NULL && strcmp(op, "add") == 0 && p->ids[nd->in[1]] != NULL &&
                   channels(&g->values[nd->in[1]]) == cy && cx == cy) {
            for (int64_t c = 0; c < cy; c++)
                unite(p, xi[c], p->ids[nd->in[1]][c]);
            memcpy(p->ids[y], xi, (size_t)cy * sizeof(int32_t));
        } else if (xi != NULL && strcmp(op, "reshape") == 0 && g->values[y].desc.rank == 2 &&
                   per_sample(&g->values[x]) == cy && cx > 0) {
            for (int64_t c = 0; c < cy; c++) /* NHWC flattened: column c is channel c % C */
                p->ids[y][c] = xi[c % cx];
        } else if (xi != NULL && strcmp(op, "concat") == 0 &&
                   ((const sscma_axis_attrs *)nd->attrs)->axis == -1) {
            int64_t at = 0;
            for (int32_t i = 0; i < nd->n_in; i++) {
                int64_t ci = channels(&g->values[nd->in[i]]);
                memcpy(p->ids[y] + at, p->ids[nd->in[i]], (size_t)ci * sizeof(int32_t));
                at += ci;
            }
        } else { /* an op whose channels are not traced: its inputs and outputs keep every channel */
            for (int32_t i = 0; i < nd->n_in; i++)
                pin_ids(p, p->ids[nd->in[i]], channels(&g->values[nd->in[i]]));
            for (int32_t i = 0; i < nd->n_out; i++)
                if (!new_space(p, n, channels(&g->values[nd->out[i]]), true, p->ids[nd->out[i]]))
                    return false;
        }
    }
    for (int32_t i = 0; i < g->n_outputs; i++)
        pin_ids(p, p->ids[g->outputs[i]], channels(&g->values[g->outputs[i]]));
    return true;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The protections: the stem (the first full layer reading the image), the layers feeding the head (the backbone's
 * output) and the head's own layers. */
static void protect(pruner *p)
{
    const sscma_graph *g = p->g;
    bool first_done = false;
    for (int32_t n = 0; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        if (!is_full_layer(g, nd) || p->ids[nd->in[0]] == NULL)
            continue;
        const int32_t *yi = p->ids[nd->out[0]], *xi = p->ids[nd->in[0]];
        int64_t cy = channels(&g->values[nd->out[0]]), cx = channels(&g->values[nd->in[0]]);
        bool head = starts_with(nd->name, "head.");
        if (!first_done && !p->o->prune_first)
            pin_ids(p, yi, cy);
        first_done = true;
        if (head && !p->o->prune_head)
            pin_ids(p, yi, cy);
        if (head && !p->o->prune_last && cx > 0 && !starts_with(g->nodes[g->values[nd->in[0]].producer >= 0
                                                                              ? g->values[nd->in[0]].producer
                                                                              : n].name, "head."))
            pin_ids(p, xi, cx);
    }
}

static bool removed(const pruner *p, int32_t id)
{
    return p->gone[find(p->parent, id)];
}

/*
 * Scores the classes of group `root` from the weights as they stand (torch-pruning prunes group by group, so a
 * layer's rows and columns already removed by an earlier group no longer count): producer rows over their kept
 * columns, consumer columns over their kept rows, batch norm gammas; each layer counts once in the group's mean.
 */
static void score_group(pruner *p, int32_t root)
{
    const sscma_graph *g = p->g;
    sscma_prune_criterion crit = p->o->criterion;
    double pw = crit == SSCMA_PRUNE_L2 ? 2.0 : 1.0;
    p->deps[root] = 0;
    for (int32_t id = 0; id < p->n_ids; id++)
        if (space_of(p, id) == root)
            p->score[find(p->parent, id)] = 0.0;
    for (int32_t n = 0; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        const int32_t *xi = p->ids[nd->in[0]], *yi = p->ids[nd->out[0]];
        if (xi == NULL)
            continue;
        const char *op = nd->def->name;
        bool bn = strcmp(op, "batch_norm") == 0 || strcmp(op, "batch_norm_act") == 0;
        int64_t cy = channels(&g->values[nd->out[0]]);
        if (is_full_layer(g, nd) && crit != SSCMA_PRUNE_BN_SCALE) {
            const sscma_value *w = &g->values[nd->in[1]];
            const float *wd = w->data;
            int64_t rows = w->desc.dims[0], cols = 1, cin = w->desc.dims[w->desc.rank - 1];
            bool linear = strcmp(op, "linear") == 0;
            for (int32_t i = 1; i < w->desc.rank; i++)
                cols *= w->desc.dims[i];
            if (space_of(p, yi[0]) == root) { /* producer rows */
                p->deps[root]++;
                for (int64_t r = 0; r < rows; r++) {
                    double s = 0.0;
                    if (crit == SSCMA_PRUNE_FPGM) {
                        for (int64_t j = 0; j < rows; j++) {
                            double d = 0.0;
                            for (int64_t k = 0; k < cols; k++) {
                                if (removed(p, xi[linear ? k : k % cin]))
                                    continue;
                                double e = (double)wd[r * cols + k] - (double)wd[j * cols + k];
                                d += e * e;
                            }
                            s += sqrt(d);
                        }
                    } else {
                        for (int64_t k = 0; k < cols; k++)
                            if (!removed(p, xi[linear ? k : k % cin]))
                                s += pow(fabs((double)wd[r * cols + k]), pw);
                    }
                    p->score[find(p->parent, yi[r])] += s;
                }
            }
            if (crit == SSCMA_PRUNE_FPGM)
                continue;
            /* consumer columns: weights [O, ..., c] over the kept rows O (after a concat, only this group's) */
            int64_t x_per = linear ? w->desc.dims[1] : cin, per_row = cols / x_per;
            bool counted = false;
            for (int64_t c = 0; c < x_per; c++) {
                if (space_of(p, xi[c]) != root)
                    continue;
                if (!counted)
                    p->deps[root]++, counted = true;
                double s = 0.0;
                for (int64_t r = 0; r < rows; r++)
                    if (!removed(p, yi[r]))
                        for (int64_t m = 0; m < per_row; m++)
                            s += pow(fabs((double)wd[(r * per_row + m) * x_per + c]), pw);
                p->score[find(p->parent, xi[c])] += s;
            }
        } else if (bn && crit != SSCMA_PRUNE_FPGM) {
            const float *gamma = g->values[nd->in[1]].data;
            bool counted = false;
            for (int64_t c = 0; c < cy; c++) {
                if (space_of(p, yi[c]) != root)
                    continue;
                if (!counted)
                    p->deps[root]++, counted = true;
                p->score[find(p->parent, yi[c])] += pow(fabs((double)gamma[c]), pw);
            }
        }
    }
}

/* torch-pruning's order: its graph lists modules from the output back, and a group comes when its last
 * channel-producing conv (depthwise included) or linear layer does; key = that layer's node index. */
static int32_t group_key(const pruner *p, int32_t root)
{
    int32_t key = -1;
    for (int32_t n = 0; n < p->g->n_nodes; n++) {
        const sscma_node *nd = &p->g->nodes[n];
        bool layer = strcmp(nd->def->name, "linear") == 0 || strcmp(nd->def->name, "conv2d") == 0;
        if (layer && p->ids[nd->out[0]] != NULL && channels(&p->g->values[nd->out[0]]) > 0 &&
            space_of((pruner *)p, p->ids[nd->out[0]][0]) == root)
            key = n;
    }
    return key;
}

typedef struct ranked {
    double score;
    int32_t cls;
    int32_t order;
} ranked;

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int by_score(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return x->order - y->order;
}

/* A group's classes, in the order of its first space's channels: torch-pruning's root indices. */
static int32_t group_classes(pruner *p, int32_t root, ranked *out)
{
    int32_t n = 0;
    for (int32_t id = 0; id < p->n_ids; id++) {
        int32_t c = find(p->parent, id);
        if (space_of(p, id) != root || p->keep[c])
            continue;
        p->keep[c] = true; /* marks "listed"; reset below */
        out[n].cls = c, out[n].order = n;
        out[n].score = p->deps[root] > 0 ? p->score[c] / p->deps[root] : 0.0;
        n++;
    }
    double mean = 0.0;
    for (int32_t i = 0; i < n; i++)
        p->keep[out[i].cls] = false, mean += out[i].score;
    mean = n > 0 ? mean / n : 0.0;
    for (int32_t i = 0; i < n && mean > 0.0; i++) /* normalizer "mean" */
        out[i].score /= mean;
    return n;
}

static int64_t kept_count(const pruner *p, int64_t n, double ratio, int64_t n_pruned)
{
    int64_t keep = n - n_pruned;
    if (n_pruned < 0)
        keep = (int64_t)((double)n * (1.0 - ratio));
    int32_t r = p->o->round_to > 1 ? p->o->round_to : 1;
    keep -= keep % r;
    if (keep < 1)
        keep = r < n ? r : n;
    return keep > n ? n : keep;
}

static double group_ratio(pruner *p, int32_t root, bool *found)
{
    for (int32_t s = 0; s < p->n_spaces; s++) { /* the group's first layer names it */
        if (find(p->space_up, s) != root || p->space_node[s] < 0)
            continue;
        const char *name = p->g->nodes[p->space_node[s]].name;
        for (int32_t i = 0; i < p->o->n_layer_ratios; i++)
            if (strcmp(p->o->layer_ratios[i].layer, name) == 0) {
                found[i] = true;
                return p->o->layer_ratios[i].ratio;
            }
        break;
    }
    return p->o->ratio;
}

typedef struct keyed {
    int32_t key, root;
} keyed;

static int by_key_descending(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return x->key != y->key ? (x->key > y->key ? -1 : 1) : x->root - y->root;
}

static sscma_status select_channels(pruner *p)
{
    ranked *r = sscma_malloc(p->ctx, (size_t)(p->n_ids > 0 ? p->n_ids : 1) * sizeof(ranked));
    bool *found = sscma_calloc(p->ctx, (size_t)p->o->n_layer_ratios + 1, sizeof(bool));
    double *all = sscma_malloc(p->ctx, (size_t)(p->n_ids > 0 ? p->n_ids : 1) * sizeof(double));
    keyed *order = sscma_malloc(p->ctx, (size_t)(p->n_spaces > 0 ? p->n_spaces : 1) * sizeof(keyed));
    sscma_status st = SSCMA_OK;
    if (r == NULL || found == NULL || all == NULL || order == NULL) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the channel ranking");
        goto done;
    }
    for (int32_t id = 0; id < p->n_ids; id++)
        p->keep[id] = p->gone[id] = false;
    int32_t n_groups = 0;
    for (int32_t s = 0; s < p->n_spaces; s++)
        if (find(p->space_up, s) == s)
            order[n_groups].root = s, order[n_groups++].key = group_key(p, s);
    qsort(order, (size_t)n_groups, sizeof *order, by_key_descending);
    double threshold = -1.0;
    if (p->o->global) { /* torch-pruning's global pruning: every group scored first, then the k-th smallest
                         * normalised score over them is the threshold */
        int64_t total = 0;
        for (int32_t k = 0; k < n_groups; k++) {
            int32_t s = order[k].root;
            score_group(p, s);
            if (p->pinned[s])
                continue;
            int32_t n = group_classes(p, s, r);
            for (int32_t i = 0; i < n; i++)
                all[total++] = r[i].score;
        }
        int64_t n_pruned = total - (int64_t)((double)total * (1.0 - p->o->ratio));
        if (n_pruned > 0) {
            qsort(all, (size_t)total, sizeof(double), by_double);
            threshold = all[n_pruned - 1];
        }
    }
    for (int32_t k = 0; k < n_groups; k++) {
        int32_t s = order[k].root;
        if (!p->o->global && !p->pinned[s])
            score_group(p, s);
        int32_t n = group_classes(p, s, r);
        int64_t keep = n;
        if (!p->pinned[s] && n > 0) {
            if (p->o->global) {
                int64_t n_pruned = 0;
                for (int32_t i = 0; i < n; i++)
                    n_pruned += threshold >= 0.0 && r[i].score <= threshold;
                keep = kept_count(p, n, 0.0, n_pruned);
            } else {
                keep = kept_count(p, n, group_ratio(p, s, found), -1);
            }
        }
        qsort(r, (size_t)n, sizeof *r, by_score);
        for (int32_t i = 0; i < n; i++) {
            p->keep[r[i].cls] = i >= n - (int32_t)keep;
            p->gone[r[i].cls] = !p->keep[r[i].cls];
        }
    }
    for (int32_t i = 0; i < p->o->n_layer_ratios; i++)
        if (!found[i]) {
            st = sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "layer ratio '%s': no prunable group starts at a "
                            "layer of that name", p->o->layer_ratios[i].layer);
            break;
        }
done:
    sscma_mfree(p->ctx, r);
    sscma_mfree(p->ctx, found);
    sscma_mfree(p->ctx, all);
    sscma_mfree(p->ctx, order);
    return st;
}

/* Kept channels of activation v: their indices into idx (capacity channels(v)); the count. */
static int64_t kept_of(const pruner *p, int32_t v, int64_t *idx)
{
    int64_t n = 0, c = channels(&p->g->values[v]);
    for (int64_t i = 0; i < c; i++)
        if (p->keep[find(p->parent, p->ids[v][i])])
            idx[n++] = i;
    return n;
}

static int64_t kept_width(const pruner *p, int32_t v)
{
    int64_t n = 0;
    for (int64_t i = 0; i < channels(&p->g->values[v]); i++)
        n += p->keep[find(p->parent, p->ids[v][i])];
    return n;
}

static int32_t find_node(const sscma_graph *g, const char *name)
{
    for (int32_t n = 0; n < g->n_nodes; n++)
        if (strcmp(g->nodes[n].name, name) == 0)
            return n;
    return -1;
}

/* The config with the kept widths: the backbone's "channels" (each full conv's output, in order) and the head's
 * widths that follow it. */
static sscma_status rewrite_config(pruner *p, json_t *config, json_t **out)
{
    const sscma_graph *g = p->g;
    json_t *cfg = json_deep_copy(config), *list = json_array();
    json_t *backbone = json_object_get(cfg, "backbone"), *head = json_object_get(cfg, "head");
    if (cfg == NULL || list == NULL) {
        json_decref(cfg), json_decref(list);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot copy the config");
    }
    int32_t last = -1;
    for (int32_t n = 0; n < g->n_nodes; n++) {
        const sscma_node *nd = &g->nodes[n];
        if (starts_with(nd->name, "backbone.") && strcmp(nd->def->name, "conv2d") == 0 && is_full_layer(g, nd)) {
            json_array_append_new(list, json_integer(kept_width(p, nd->out[0])));
            last = nd->out[0];
        }
    }
    json_object_set_new(backbone, "channels", list);
    int64_t feat = last >= 0 ? kept_width(p, last) : 0;
    if (json_object_get(head, "in_channels") != NULL)
        json_object_set_new(head, "in_channels", json_integer(feat));
    if (json_object_get(head, "input_channels") != NULL)
        json_object_set_new(head, "input_channels", json_pack("[I]", (json_int_t)feat));
    int32_t bridge = find_node(g, "head.convs_bridge.0.0");
    if (bridge >= 0)
        json_object_set_new(head, "middle_channel", json_integer(kept_width(p, g->nodes[bridge].out[0])));
    json_t *mid = json_object_get(head, "mid_channels");
    for (size_t i = 0; json_is_array(mid) && i < json_array_size(mid); i++) {
        char name[64];
        snprintf(name, sizeof name, "head.layers.%d.fc", (int)i);
        int32_t fc = find_node(g, name);
        if (fc >= 0)
            json_array_set_new(mid, i, json_integer(kept_width(p, g->nodes[fc].out[0])));
    }
    *out = cfg;
    return SSCMA_OK;
}

/* Copies the kept slices of every parameter and buffer of the old graph into the new one (same names). */
static sscma_status copy_kept(pruner *p, sscma_graph *ng)
{
    const sscma_graph *g = p->g;
    int64_t cap = 1;
    for (int32_t v = 0; v < g->n_values; v++)
        if (g->values[v].desc.rank > 0 && channels(&g->values[v]) > cap)
            cap = channels(&g->values[v]);
    for (int32_t v = 0; v < g->n_values; v++)
        if (g->values[v].desc.rank > 0 && g->values[v].desc.dims[0] > cap)
            cap = g->values[v].desc.dims[0];
    int64_t *i0 = sscma_malloc(p->ctx, (size_t)cap * sizeof(int64_t));
    int64_t *il = sscma_malloc(p->ctx, (size_t)cap * sizeof(int64_t));
    sscma_status st = SSCMA_OK;
    if (i0 == NULL || il == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the channel lists");
    for (int32_t v = 0; st == SSCMA_OK && v < ng->n_values; v++) {
        sscma_value *nv = &ng->values[v];
        if (nv->kind != SSCMA_VALUE_PARAM && nv->kind != SSCMA_VALUE_BUFFER)
            continue;
        int32_t ov = sscma_graph_find(g, nv->name);
        if (ov < 0) {
            st = sscma_fail(SSCMA_ERR_INTERNAL, WHERE, "%s: not in the model being pruned", nv->name);
            break;
        }
        const sscma_value *o = &g->values[ov];
        int32_t rank = o->desc.rank;
        int64_t d0 = rank > 0 ? o->desc.dims[0] : 1, dl = rank > 1 ? o->desc.dims[rank - 1] : 1, mid = 1;
        for (int32_t i = 1; i < rank - 1; i++)
            mid *= o->desc.dims[i];
        int64_t n0 = d0, nl = dl;
        for (int64_t i = 0; i < d0; i++)
            i0[i] = i;
        for (int64_t i = 0; i < dl; i++)
            il[i] = i;
        if (p->dim0_of[ov] >= 0)
            n0 = kept_of(p, p->dim0_of[ov], i0);
        if (rank > 1 && p->last_of[ov] >= 0) {
            const sscma_value *x = &g->values[p->last_of[ov]];
            if (channels(x) == dl) {
                nl = kept_of(p, p->last_of[ov], il);
            } else { /* a linear layer on a flattened map: columns follow channel c % C */
                int64_t c = channels(x);
                nl = 0;
                for (int64_t k = 0; k < dl; k++)
                    if (p->keep[find(p->parent, p->ids[p->last_of[ov]][k % c])])
                        il[nl++] = k;
                (void)c;
            }
        }
        int64_t numel = rank > 1 ? n0 * mid * nl : n0;
        if (numel * (int64_t)sizeof(float) != (int64_t)nv->bytes) {
            st = sscma_fail(SSCMA_ERR_INTERNAL, WHERE, "%s: the pruned config gives %lld bytes, the kept channels %lld",
                            nv->name, (long long)nv->bytes, (long long)(numel * (int64_t)sizeof(float)));
            break;
        }
        const float *src = o->data;
        float *dst = nv->data;
        if (rank <= 1) {
            for (int64_t a = 0; a < n0; a++)
                *dst++ = src[i0[a]];
            continue;
        }
        for (int64_t a = 0; a < n0; a++)
            for (int64_t m = 0; m < mid; m++)
                for (int64_t b = 0; b < nl; b++)
                    *dst++ = src[(i0[a] * mid + m) * dl + il[b]];
    }
    sscma_mfree(p->ctx, i0);
    sscma_mfree(p->ctx, il);
    return st;
}

void sscma_prune_options_defaults(sscma_prune_options *o)
{
    memset(o, 0, sizeof *o);
    o->ratio = 0.5;
    o->criterion = SSCMA_PRUNE_L1;
    o->round_to = 1;
}

bool sscma_prune_criterion_parse(const char *name, sscma_prune_criterion *out)
{
    static const char *const names[] = {"l1", "l2", "bn_scale", "fpgm", NULL};
    for (int i = 0; name != NULL && names[i] != NULL; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (sscma_prune_criterion)i;
            return true;
        }
    return false;
}

static void pruner_free(pruner *p)
{
    for (int32_t v = 0; p->ids != NULL && v < p->g->n_values; v++)
        sscma_mfree(p->ctx, p->ids[v]);
    void *arrays[] = {p->ids, p->parent, p->space, p->space_up, p->space_node, p->pinned, p->score, p->deps,
                      p->keep, p->gone, p->dim0_of, p->last_of};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        sscma_mfree(p->ctx, arrays[i]);
}

sscma_status sscma_prune_model(sscma_model *model, const sscma_prune_options *o, sscma_model **out)
{
    SSCMA_REQUIRE_NONNULL(model);
    SSCMA_REQUIRE_NONNULL(o);
    SSCMA_REQUIRE_NONNULL(out);
    json_t *config = sscma_model_config_json(model);
    json_t *backbone = json_object_get(config, "backbone");
    const char *bt = json_string_value(json_object_get(backbone, "type"));
    const char *family = sscma_model_family(model);
    if (config == NULL || bt == NULL || (strcmp(bt, "MobileNetV2") != 0 && strcmp(bt, "MobileNetv2") != 0) ||
        family == NULL || (strcmp(family, "ImageClassifier") != 0 && strcmp(family, "Fomo") != 0))
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "pruning takes an ImageClassifier or Fomo with a MobileNetV2 "
                          "backbone (got %s with %s)", family != NULL ? family : "a model built layer by layer",
                          bt != NULL ? bt : "no backbone");
    if (json_is_true(json_object_get(backbone, "rep")))
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, WHERE, "pruning a re-parameterisable backbone (model.backbone.rep: "
                          "true) is not supported: the branches of each RepConv1x1 block would have to lose the same "
                          "channels; prune the plain network (rep: false)");
    if (!(o->ratio >= 0.0 && o->ratio < 1.0) || o->round_to < 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "ratio: expected 0 <= ratio < 1, got %g", o->ratio);
    for (int32_t i = 0; i < o->n_layer_ratios; i++)
        if (o->layer_ratios[i].layer == NULL || !(o->layer_ratios[i].ratio >= 0.0 && o->layer_ratios[i].ratio < 1.0))
            return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "layer ratio %d: expected a layer name and "
                              "0 <= ratio < 1", (int)i);
    sscma_context *ctx = sscma_model_context(model);
    pruner p = {.ctx = ctx, .g = sscma_model_graph(model), .o = o};
    int32_t nv = p.g->n_values;
    p.ids = sscma_calloc(ctx, (size_t)nv, sizeof(int32_t *));
    p.dim0_of = sscma_malloc(ctx, (size_t)nv * sizeof(int32_t));
    p.last_of = sscma_malloc(ctx, (size_t)nv * sizeof(int32_t));
    sscma_status st = SSCMA_OK;
    json_t *pruned_cfg = NULL;
    if (p.ids == NULL || p.dim0_of == NULL || p.last_of == NULL) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the channel map");
        goto done;
    }
    for (int32_t v = 0; v < nv; v++)
        p.dim0_of[v] = p.last_of[v] = -1;
    if (!trace(&p)) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the channel map");
        goto done;
    }
    protect(&p);
    if ((st = select_channels(&p)) != SSCMA_OK || (st = rewrite_config(&p, config, &pruned_cfg)) != SSCMA_OK)
        goto done;
    sscma_model *pruned = NULL;
    if ((st = sscma_zoo_model_create(ctx, pruned_cfg, NULL, &pruned)) != SSCMA_OK)
        goto done; /* the config is the model's (or freed) from here on */
    if ((st = copy_kept(&p, sscma_model_graph(pruned))) != SSCMA_OK) {
        sscma_model_destroy(pruned);
        goto done;
    }
    *out = pruned;
done:
    pruner_free(&p);
    return st;
}
