/*
 * Unit tests of the training arena's recomputed activations (lib/graph/graph.c): a graph that drops batch-norm
 * outputs after forward and recomputes them for backward gives the same bits as one that keeps them (loss, every
 * parameter gradient, running statistics, over two steps so that the forward blocks are reused after a backward),
 * on every family, on the layer-by-layer fixture with sigmoid and hardswish, and on a QAT-prepared model with its
 * batch norms frozen; and its arena is smaller. The same comparison for first gradient writers that overwrite their
 * stale arena slot instead of having it zeroed: the arenas are filled with NaN bytes after planning, so an element
 * an overwriting backward forgot to write shows up. And the arena planner on its own (lib/graph/alloc.h): random
 * lifetimes never give two live blocks overlapping bytes, and the arena lies between the busiest step's bytes and
 * the sum of all blocks.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_models.h"
#include "graph/alloc.h"
#include "graph/model_private.h"
#include "harness.h"

static sscma_context *ctx;

/* Inputs from a fixed stream: images in [-1, 1), i32 labels in 0..3, float targets in [0, 1). */
static void fill_inputs(sscma_model *m)
{
    uint64_t s = 7;
    const char *names[] = {"image", "target"};
    for (int k = 0; k < 2; k++) {
        sscma_tensor *t = NULL;
        if (sscma_model_input(m, names[k], &t) != SSCMA_OK)
            continue;
        sscma_dtype dtype;
        int64_t n = 0;
        void *data = NULL;
        sscma_tensor_dtype(t, &dtype);
        sscma_tensor_numel(t, &n);
        sscma_tensor_data(t, &data);
        for (int64_t i = 0; i < n; i++) {
            if (dtype == SSCMA_DTYPE_I32)
                ((int32_t *)data)[i] = (int32_t)(fixture_uniform(&s, 0.0f, 4.0f));
            else
                ((float *)data)[i] = k == 0 ? fixture_uniform(&s, -1.0f, 1.0f) : fixture_uniform(&s, 0.0f, 1.0f);
        }
    }
}

/* Counts the values the plan recomputes. */
static int recomputed(const sscma_model *m)
{
    const sscma_graph *g = sscma_model_graph(m);
    int count = 0;
    for (int32_t i = 0; i < g->n_values; i++)
        count += g->values[i].recompute_at >= 0;
    return count;
}

/* What differs between the two models compared. */
typedef enum { RECOMPUTE, OVERWRITE } plan_flag;
static const char *const flag_text[2] = {"recomputed activations", "overwriting first gradient writers"};

/* Every parameter gradient and buffer of a equals b's, bit for bit. */
static void check_same_state(sscma_model *a, sscma_model *b, const char *what, plan_flag flag, int step)
{
    int32_t n = 0, nb = 0;
    CHECK_OK(sscma_model_param_count(a, &n));
    CHECK_OK(sscma_model_param_count(b, &nb));
    CHECK_INT_EQ(n, nb);
    for (int32_t i = 0; i < n && i < nb; i++) {
        const char *name = NULL;
        sscma_tensor *va, *vb, *ga = NULL, *gb = NULL;
        CHECK_OK(sscma_model_param(a, i, &name, NULL, &va, &ga));
        CHECK_OK(sscma_model_param(b, i, NULL, NULL, &vb, &gb));
        sscma_tensor *pairs[2][2] = {{va, vb}, {ga, gb}};
        for (int k = 0; k < 2; k++) {
            if (pairs[k][0] == NULL || pairs[k][1] == NULL) {
                CHECK(pairs[k][0] == pairs[k][1]);
                continue;
            }
            size_t bytes = 0, bytes_b = 0;
            void *da, *db;
            sscma_tensor_size_bytes(pairs[k][0], &bytes);
            sscma_tensor_size_bytes(pairs[k][1], &bytes_b);
            sscma_tensor_data(pairs[k][0], &da);
            sscma_tensor_data(pairs[k][1], &db);
            if (bytes != bytes_b || memcmp(da, db, bytes) != 0)
                test_fail(__FILE__, __LINE__, "%s, step %d: %s of %s differs with %s", what, step,
                          k ? "the gradient" : "the value", name, flag_text[flag]);
        }
    }
}

static float loss_of(sscma_model *m)
{
    sscma_tensor *t = NULL;
    float *l = NULL;
    if (sscma_model_output(m, "loss", &t) != SSCMA_OK || sscma_tensor_data(t, (void **)&l) != SSCMA_OK)
        return -1.0f;
    return *l;
}

/* Counts the backward input slots that overwrite instead of being zeroed. */
static int overwritten(const sscma_model *m)
{
    const sscma_graph *g = sscma_model_graph(m);
    int count = 0;
    for (int32_t n = 0; n < g->n_nodes; n++)
        count += __builtin_popcount(g->nodes[n].fresh_in_mask);
    return count;
}

/* Builds the model twice (config NULL: the activations fixture), with the flag on and off, and compares two steps. */
static void compare_plans(const char *what, const char *config, int qat, int64_t batch, plan_flag flag)
{
    sscma_model *m[2] = {NULL, NULL};
    size_t arena[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (config != NULL)
            CHECK_OK(sscma_model_create(ctx, config, &m[k]));
        else if (fixture_acts_model(ctx, &m[k]) == SSCMA_OK) {
            /* the fixture is an inference model: a cross-entropy loss on its 64 logits makes it trainable */
            const int64_t dims[1] = {1};
            const char *in[2] = {"fc", "target"};
            CHECK_OK(sscma_model_add_input(m[k], "target", SSCMA_DTYPE_I32, 1, dims, SSCMA_INPUT_TARGET));
            CHECK_OK(sscma_model_add_layer(m[k], "ce", "cross_entropy", NULL, in, 2));
            CHECK_OK(sscma_model_add_output(m[k], "loss", "ce", 1));
        }
        if (m[k] == NULL)
            goto done;
        fixture_randomize(m[k]);
        if (qat) {
            CHECK_OK(sscma_qat_prepare(m[k], NULL));
            CHECK_OK(sscma_qat_set_epoch(m[k], 1)); /* observers and batch norms frozen */
        }
        sscma_graph *g = sscma_model_graph(m[k]);
        if (flag == RECOMPUTE)
            g->recompute = k == 0;
        else
            g->overwrite = k == 0;
        CHECK_OK(sscma_model_prepare(m[k], batch, 1));
        arena[k] = g->arena_bytes;
        if (flag == OVERWRITE)
            memset(g->arena, 0xff, g->arena_bytes); /* NaN everywhere: forward and backward must write what they read */
        fill_inputs(m[k]);
    }
    if (flag == RECOMPUTE) {
        int n_recomputed = recomputed(m[0]);
        CHECK(n_recomputed > 0);
        CHECK_INT_EQ(recomputed(m[1]), 0);
        CHECK(arena[0] < arena[1]);
        printf("# %s: %d activations recomputed, training arena %zu bytes instead of %zu\n", what, n_recomputed,
               arena[0], arena[1]);
    } else {
        int n_overwritten = overwritten(m[0]);
        CHECK(n_overwritten > 0);
        CHECK_INT_EQ(overwritten(m[1]), 0);
        printf("# %s: %d gradients overwritten by their first writer instead of zeroed\n", what, n_overwritten);
    }
    for (int step = 0; step < 2; step++) {
        for (int k = 0; k < 2; k++) {
            CHECK_OK(sscma_model_zero_grad(m[k]));
            CHECK_OK(sscma_model_forward(m[k]));
            CHECK_OK(sscma_model_backward(m[k]));
        }
        float la = loss_of(m[0]), lb = loss_of(m[1]);
        if (memcmp(&la, &lb, sizeof la) != 0)
            test_fail(__FILE__, __LINE__, "%s, step %d: loss %.9g with %s, %.9g without", what, step, (double)la,
                      flag_text[flag], (double)lb);
        check_same_state(m[0], m[1], what, flag, step);
    }
done:
    sscma_model_destroy(m[0]);
    sscma_model_destroy(m[1]);
}

static void families_give_the_same_bits(void)
{
    for (int f = 0; f < 3; f++)
        compare_plans(fixture_families[f].name, fixture_families[f].config, 0, 3, RECOMPUTE);
}

static void activation_fixture_gives_the_same_bits(void)
{
    compare_plans("sigmoid/hardswish fixture", NULL, 0, 2, RECOMPUTE);
}

static void qat_with_frozen_batch_norms_gives_the_same_bits(void)
{
    compare_plans("QAT classifier", fixture_families[0].config, 1, 2, RECOMPUTE);
}

static void overwriting_writers_give_the_same_bits(void)
{
    for (int f = 0; f < 3; f++)
        compare_plans(fixture_families[f].name, fixture_families[f].config, 0, 3, OVERWRITE);
    compare_plans("sigmoid/hardswish fixture", NULL, 0, 2, OVERWRITE);
    compare_plans("QAT classifier", fixture_families[0].config, 1, 2, OVERWRITE);
}

/* Evaluation plans keep nothing for backward, so nothing is recomputed there. */
static void evaluation_plans_recompute_nothing(void)
{
    sscma_model *m = NULL;
    CHECK_OK(sscma_model_create(ctx, fixture_families[1].config, &m));
    if (m == NULL)
        return;
    CHECK_OK(sscma_model_prepare(m, 2, 0));
    CHECK_INT_EQ(recomputed(m), 0);
    CHECK_OK(sscma_model_prepare(m, 2, 1));
    CHECK(recomputed(m) > 0);
    CHECK_OK(sscma_model_prepare(m, 2, 0));
    CHECK_INT_EQ(recomputed(m), 0);
    fill_inputs(m);
    CHECK_OK(sscma_model_forward(m));
    sscma_model_destroy(m);
}

/* Two blocks of a plan conflict when they are live at a common step and their byte ranges intersect. */
static bool conflict(const sscma_arena_block *a, const sscma_arena_block *b)
{
    bool time = !(a->last < b->first || b->last < a->first);
    bool space = a->offset < b->offset + b->bytes && b->offset < a->offset + a->bytes;
    return time && space && a->bytes > 0 && b->bytes > 0;
}

/* The arena planner (graph/alloc.h) on its own: random sizes and lifetimes, then the properties a plan must have. */
static void arena_planner_never_overlaps_live_blocks(void)
{
    uint64_t s = 3;
    enum { MAX_BLOCKS = 200, STEPS = 60 };
    static sscma_arena_block blocks[MAX_BLOCKS], again[MAX_BLOCKS];
    for (int round = 0; round < 40; round++) {
        int32_t n = 1 + (int32_t)fixture_uniform(&s, 0.0f, (float)MAX_BLOCKS);
        size_t sum = 0;
        for (int32_t i = 0; i < n; i++) {
            int32_t a = (int32_t)fixture_uniform(&s, 0.0f, STEPS), b = (int32_t)fixture_uniform(&s, 0.0f, STEPS);
            /* a few sizes repeat so that ties in the order are exercised; some blocks are empty */
            size_t bytes = sscma_align_bytes((size_t)fixture_uniform(&s, 0.0f, round % 2 ? 5000.0f : 3.0f) * 700);
            blocks[i] = (sscma_arena_block){bytes, a < b ? a : b, a < b ? b : a, (size_t)-1};
            sum += bytes;
        }
        size_t total = 0, total_again = 0;
        CHECK_OK(sscma_arena_plan(ctx, blocks, n, &total));
        size_t end = 0, peak_live = 0;
        for (int32_t i = 0; i < n; i++) {
            CHECK(blocks[i].offset % SSCMA_TENSOR_ALIGNMENT == 0);
            end = blocks[i].offset + blocks[i].bytes > end ? blocks[i].offset + blocks[i].bytes : end;
            for (int32_t j = 0; j < i; j++)
                if (conflict(&blocks[i], &blocks[j]))
                    test_fail(__FILE__, __LINE__, "round %d: blocks %d and %d overlap while both live", round,
                              (int)j, (int)i);
        }
        for (int32_t step = 0; step < STEPS; step++) {
            size_t live = 0;
            for (int32_t i = 0; i < n; i++)
                live += blocks[i].first <= step && step <= blocks[i].last ? blocks[i].bytes : 0;
            peak_live = live > peak_live ? live : peak_live;
        }
        CHECK(total == end);
        CHECK(total <= sum);
        CHECK(total >= peak_live); /* no plan can do better than the bytes live at the busiest step */
        /* deterministic: the same blocks in the same order give the same plan */
        memcpy(again, blocks, (size_t)n * sizeof *again);
        for (int32_t i = 0; i < n; i++)
            again[i].offset = 0;
        CHECK_OK(sscma_arena_plan(ctx, again, n, &total_again));
        CHECK(total_again == total);
        for (int32_t i = 0; i < n; i++)
            CHECK(again[i].offset == blocks[i].offset);
    }
    /* blocks live at different steps share memory; the empty plan is an empty arena */
    sscma_arena_block pair[2] = {{256, 0, 1, 1}, {256, 2, 3, 1}};
    size_t total = 1;
    CHECK_OK(sscma_arena_plan(ctx, pair, 2, &total));
    CHECK(total == 256 && pair[0].offset == 0 && pair[1].offset == 0);
    pair[1].first = 1;
    CHECK_OK(sscma_arena_plan(ctx, pair, 2, &total));
    CHECK(total == 512 && pair[0].offset != pair[1].offset);
    CHECK_OK(sscma_arena_plan(ctx, NULL, 0, &total));
    CHECK(total == 0);
}

int main(int argc, char **argv)
{
    sscma_context_options o;
    sscma_context_options_init(&o, sizeof o);
    o.num_threads = 2;
    if (sscma_context_create(&o, &ctx) != SSCMA_OK) {
        printf("Bail out! %s\n", sscma_last_error());
        return 1;
    }
    static const test_case cases[] = {
        TEST_CASE(families_give_the_same_bits),
        TEST_CASE(activation_fixture_gives_the_same_bits),
        TEST_CASE(qat_with_frozen_batch_norms_gives_the_same_bits),
        TEST_CASE(overwriting_writers_give_the_same_bits),
        TEST_CASE(evaluation_plans_recompute_nothing),
        TEST_CASE(arena_planner_never_overlaps_live_blocks),
    };
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    return rc;
}
