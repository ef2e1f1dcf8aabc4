/* lib/train/dist_grad.h: gradient buckets summed while the backward pass goes on. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/model_private.h"
#include "train/dist_grad.h"

typedef struct grad_slot {
    int32_t value;      /* graph value id */
    int32_t final_node; /* the last backward (lowest node index) that writes the gradient; -1: none */
    int64_t at, n;      /* place in the sum buffer, elements */
} grad_slot;

typedef struct grad_bucket {
    int32_t first_slot, end_slot; /* slots [first, end) */
    int64_t lo, hi;               /* values [lo, hi) of the sum buffer */
    int32_t ready_node;           /* start once the backward of this node is done; -1: after the whole pass */
} grad_bucket;

struct sscma_grad_sync {
    sscma_context *ctx;
    sscma_dist *dist;
    sscma_graph *graph;     /* hooked by begin, unhooked by finish */
    sscma_graph_backward_hook hook;
    int32_t *final_of;      /* per graph value: its last gradient writer (scratch of begin) */
    int32_t cap_values;
    grad_slot *slots;
    int32_t n_slots, cap_slots;
    grad_bucket *buckets;
    int32_t n_buckets, cap_buckets, next_bucket;
    double *sum;            /* the gradients, then the loss */
    int64_t n_sum, cap_sum;
    sscma_status failed;    /* the first failure inside the hook */
    double seconds;
    int64_t steps;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sscma_status sscma_grad_sync_create(sscma_context *ctx, sscma_dist *dist, sscma_grad_sync **out)
{
    sscma_grad_sync *s = sscma_calloc(ctx, 1, sizeof *s);
    if (s == NULL)
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the gradient sum");
    s->ctx = ctx, s->dist = dist;
    *out = s;
    return SSCMA_OK;
}

void sscma_grad_sync_destroy(sscma_grad_sync *s)
{
    if (s == NULL)
        return;
    if (s->graph != NULL && s->graph->backward_hook == &s->hook)
        s->graph->backward_hook = NULL;
    sscma_mfree(s->ctx, s->final_of);
    sscma_mfree(s->ctx, s->slots);
    sscma_mfree(s->ctx, s->buckets);
    sscma_mfree(s->ctx, s->sum);
    sscma_mfree(s->ctx, s);
}

/* Grows *p to hold n elements of `size` bytes (capacity *cap); scratch that keeps its largest size. */
static bool reserve(sscma_context *ctx, void **p, int64_t *cap, int64_t n, size_t size)
{
    if (n <= *cap)
        return true;
    void *q = sscma_mrealloc(ctx, *p, (size_t)n * size);
    if (q == NULL)
        return false;
    *p = q, *cap = n;
    return true;
}

/* Latest finished first (descending final node; -1, never written, last); parameter order among equals. */
static int by_finish(const void *a, const void *b)
{
    const grad_slot *x = a, *y = b;
    if (x->final_node != y->final_node)
        return x->final_node > y->final_node ? -1 : 1;
    return (x->value > y->value) - (x->value < y->value);
}

/* Copies a bucket's gradients in (as doubles) and starts their sum. */
static void start_bucket(sscma_grad_sync *s, const grad_bucket *b)
{
    for (int32_t k = b->first_slot; k < b->end_slot; k++) {
        const grad_slot *slot = &s->slots[k];
        const float *g = s->graph->values[slot->value].grad;
        double *dst = s->sum + slot->at;
        for (int64_t i = 0; i < slot->n; i++)
            dst[i] = (double)g[i];
    }
    sscma_status st = sscma_dist_sum_start(s->dist, s->sum + b->lo, b->hi - b->lo);
    /* a rank that cannot start a bucket would leave the others' later collectives (the next buckets, SyncBN's sums)
     * matched against different calls of this one: end the job now, with the reason */
    if (st != SSCMA_OK)
        sscma_dist_abort(s->dist, sscma_last_error());
}

/* The graph's hook after node `node`'s backward: starts every bucket now final, in layout order. */
static void after_node(void *arg, int32_t node)
{
    sscma_grad_sync *s = arg;
    double start = now_s();
    while (s->failed == SSCMA_OK && s->next_bucket < s->n_buckets && s->buckets[s->next_bucket].ready_node >= node)
        start_bucket(s, &s->buckets[s->next_bucket++]);
    sscma_dist_sum_progress(s->dist);
    s->seconds += now_s() - start;
}

/* The layout: every trainable gradient with its last writer, sorted by finish; then buckets. */
static sscma_status lay_out(sscma_grad_sync *s, sscma_graph *g)
{
    int64_t cap = s->cap_values;
    if (!reserve(s->ctx, (void **)&s->final_of, &cap, g->n_values, sizeof *s->final_of))
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan the gradient buckets");
    s->cap_values = (int32_t)cap;
    for (int32_t v = 0; v < g->n_values; v++)
        s->final_of[v] = -1;
    for (int32_t n = g->n_nodes - 1; n >= 0; n--) {
        const sscma_node *nd = &g->nodes[n];
        if (!nd->needs_backward)
            continue;
        for (int32_t i = 0; i < nd->n_in; i++)
            if (!((nd->def->nondiff_inputs >> i) & 1u))
                s->final_of[nd->in[i]] = n; /* descending: the lowest writer wins */
    }
    s->n_slots = 0;
    for (int32_t v = 0; v < g->n_values; v++) {
        const sscma_value *val = &g->values[v];
        if (val->kind != SSCMA_VALUE_PARAM || val->grad == NULL || (val->flags & SSCMA_PARAM_TRAINABLE) == 0)
            continue;
        cap = s->cap_slots;
        if (!reserve(s->ctx, (void **)&s->slots, &cap, (int64_t)s->n_slots + 1, sizeof *s->slots))
            return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan the gradient buckets");
        s->cap_slots = (int32_t)cap;
        s->slots[s->n_slots++] = (grad_slot){v, s->final_of[v], 0, sscma_desc_numel(&val->desc)};
    }
    qsort(s->slots, (size_t)s->n_slots, sizeof *s->slots, by_finish);
    /* buckets of about bucket_bytes (a gradient is never split); 0: one bucket after the whole pass */
    const int64_t target = (int64_t)(sscma_dist_bucket_bytes(s->dist) / sizeof(double));
    s->n_buckets = 0, s->n_sum = 0;
    for (int32_t k = 0; k < s->n_slots; k++) {
        grad_slot *slot = &s->slots[k];
        grad_bucket *b = s->n_buckets > 0 ? &s->buckets[s->n_buckets - 1] : NULL;
        bool full = b == NULL || (target > 0 && b->hi - b->lo >= target) || b->hi - b->lo + slot->n > (1 << 30) - 1;
        if (full) {
            cap = s->cap_buckets;
            if (slot->n > (1 << 30) - 1)
                return SSCMA_FAIL(SSCMA_ERR_UNSUPPORTED, "parameter '%s' has %lld values: a data-parallel job sums "
                                  "at most 2^30 - 1 per gradient", g->values[slot->value].name, (long long)slot->n);
            if (!reserve(s->ctx, (void **)&s->buckets, &cap, (int64_t)s->n_buckets + 1, sizeof *s->buckets))
                return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan the gradient buckets");
            s->cap_buckets = (int32_t)cap;
            b = &s->buckets[s->n_buckets++];
            *b = (grad_bucket){k, k, s->n_sum, s->n_sum, slot->final_node};
        }
        slot->at = s->n_sum;
        s->n_sum += slot->n;
        b->end_slot = k + 1, b->hi = s->n_sum;
        b->ready_node = target > 0 ? slot->final_node : -1; /* sorted: the bucket's earliest writer */
    }
    /* the loss closes the last bucket (or makes one: a model without trainable gradients) */
    if (s->n_buckets == 0 || s->buckets[s->n_buckets - 1].hi - s->buckets[s->n_buckets - 1].lo >= (1 << 30) - 1) {
        cap = s->cap_buckets;
        if (!reserve(s->ctx, (void **)&s->buckets, &cap, (int64_t)s->n_buckets + 1, sizeof *s->buckets))
            return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot plan the gradient buckets");
        s->cap_buckets = (int32_t)cap;
        s->buckets[s->n_buckets++] = (grad_bucket){s->n_slots, s->n_slots, s->n_sum, s->n_sum, -1};
    }
    grad_bucket *last = &s->buckets[s->n_buckets - 1];
    last->hi = ++s->n_sum, last->ready_node = -1;
    if (!reserve(s->ctx, (void **)&s->sum, &s->cap_sum, s->n_sum, sizeof *s->sum))
        return SSCMA_FAIL(SSCMA_ERR_OUT_OF_MEMORY, "cannot allocate the gradient sum (%lld values)",
                          (long long)s->n_sum);
    return SSCMA_OK;
}

sscma_status sscma_grad_sync_begin(sscma_grad_sync *s, sscma_model *model)
{
    sscma_graph *g = sscma_model_graph(model);
    sscma_status st = lay_out(s, g);
    if (st != SSCMA_OK)
        return st;
    s->graph = g, s->next_bucket = 0, s->failed = SSCMA_OK;
    s->hook = (sscma_graph_backward_hook){after_node, s};
    g->backward_hook = &s->hook;
    return SSCMA_OK;
}

sscma_status sscma_grad_sync_finish(sscma_grad_sync *s, sscma_model *model, double *loss)
{
    sscma_graph *g = sscma_model_graph(model);
    if (s->graph != NULL && s->graph->backward_hook == &s->hook)
        s->graph->backward_hook = NULL;
    if (s->graph != g)
        return SSCMA_FAIL(SSCMA_ERR_STATE, "the model's graph changed between the backward pass and the gradient sum");
    double start = now_s();
    s->sum[s->n_sum - 1] = *loss;
    while (s->failed == SSCMA_OK && s->next_bucket < s->n_buckets)
        start_bucket(s, &s->buckets[s->next_bucket++]);
    sscma_status st = sscma_dist_sum_wait_all(s->dist, "the gradient sum");
    if (st == SSCMA_OK)
        st = s->failed;
    if (st == SSCMA_OK) {
        const double world = (double)sscma_dist_size(s->dist);
        for (int32_t k = 0; k < s->n_slots; k++) {
            const grad_slot *slot = &s->slots[k];
            float *grad = g->values[slot->value].grad;
            const double *src = s->sum + slot->at;
            for (int64_t i = 0; i < slot->n; i++)
                grad[i] = (float)(src[i] / world);
        }
        *loss = s->sum[s->n_sum - 1] / world;
    }
    s->seconds += now_s() - start, s->steps++;
    return st;
}

void sscma_grad_sync_stats(const sscma_grad_sync *s, int64_t *values, int32_t *buckets, int64_t *steps,
                           double *seconds)
{
    *values = s->n_sum, *buckets = s->n_buckets, *steps = s->steps, *seconds = s->seconds;
}

void sscma_grad_sync_reset_stats(sscma_grad_sync *s)
{
    s->seconds = 0.0, s->steps = 0;
}
