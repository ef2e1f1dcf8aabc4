/*
 * Plans of a deployable model (experimental.h): one model, several plans. Two threads run a batch-1 and a batch-4
 * plan of the same int8 (and float) model at once, many times, and every output must be bit-identical to the same
 * runs made one after the other; the int8 batch-1 results must also equal the rows of the batch-4 ones (integer
 * kernels compute each sample alone, so a plan that wrote into another plan's or the model's memory would show).
 * tests/tsan-run runs the threaded cases under ThreadSanitizer. Links the static library for the fixture models.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_models.h"
#include "harness.h"

#define SETS 6        /* input sets of 4 samples */
#define ROUNDS 8      /* passes over the sets by each thread, at the same time */

/* A context and the quantized fixture of family `fam`; false (with the reason reported) when it cannot be made. */
static bool fixture_of(const fixture_family *fam, sscma_context **ctx, fixture_quantized *fx)
{
    if (!fixture_have_fashion()) {
        test_fail(__FILE__, __LINE__, "Fashion-MNIST is not installed (%s)", FIXTURE_FASHION);
        return false;
    }
    *ctx = fixture_context();
    CHECK(*ctx != NULL);
    if (*ctx == NULL)
        return false;
    sscma_status st = fixture_quantize(*ctx, fam->config, fam->size, 32, 16, fx);
    CHECK_OK(st);
    if (st != SSCMA_OK)
        sscma_context_destroy(*ctx);
    return st == SSCMA_OK;
}

/* The model input's per-sample shape and the bytes of one sample of output 0 (int8 units or floats). */
typedef struct io_shape {
    int32_t rank;
    int64_t dims[4];     /* dims[0] = 1 */
    int64_t in_per;      /* floats of one input sample */
    size_t out_per;      /* bytes of one output sample */
} io_shape;

static io_shape shape_of(const sscma_qmodel *q)
{
    io_shape s;
    memset(&s, 0, sizeof s);
    sscma_qplan *p = NULL;
    sscma_tensor *in = NULL, *out = NULL;
    CHECK_OK(sscma_qplan_create(q, 1, &p));
    CHECK_OK(sscma_qplan_input(p, 0, &in));
    CHECK_OK(sscma_qplan_output(p, 0, &out, NULL));
    sscma_tensor_rank(in, &s.rank);
    s.in_per = 1;
    for (int32_t i = 0; i < s.rank; i++) {
        sscma_tensor_dim(in, i, &s.dims[i]);
        s.in_per *= i > 0 ? s.dims[i] : 1;
    }
    sscma_tensor_size_bytes(out, &s.out_per);
    sscma_qplan_destroy(p);
    return s;
}

/* What one thread does: run `plan` (batch 1 or 4) over every input set `rounds` times, keeping the last outputs. */
typedef struct runner {
    sscma_context *ctx;   /* allocates the input views */
    sscma_qplan *plan;
    int64_t batch;
    const io_shape *shape;
    const float *inputs;  /* SETS x 4 samples */
    int rounds;
    uint8_t *outputs;     /* SETS x 4 samples of out_per bytes: this run's results */
    const uint8_t *want;  /* the sequential results (NULL: none yet) */
    int mismatches;       /* runs whose output differed from want */
    sscma_status st;
} runner;

static void *run_plan(void *arg)
{
    runner *r = arg;
    const io_shape *s = r->shape;
    int64_t dims[4];
    memcpy(dims, s->dims, sizeof dims);
    dims[0] = r->batch;
    sscma_tensor *out_view = NULL;
    r->st = sscma_qplan_output(r->plan, 0, &out_view, NULL);
    void *out_data = NULL;
    if (r->st == SSCMA_OK)
        r->st = sscma_tensor_data(out_view, &out_data);
    for (int round = 0; round < r->rounds && r->st == SSCMA_OK; round++)
        for (int set = 0; set < SETS && r->st == SSCMA_OK; set++)
            for (int64_t first = 0; first < 4 && r->st == SSCMA_OK; first += r->batch) {
                const int64_t sample = (int64_t)set * 4 + first;
                sscma_tensor *in = NULL;
                r->st = sscma_tensor_wrap(r->ctx, SSCMA_DTYPE_F32, s->rank, dims,
                                          (void *)(r->inputs + sample * s->in_per),
                                          (size_t)(r->batch * s->in_per) * sizeof(float), &in);
                if (r->st == SSCMA_OK)
                    r->st = sscma_qplan_set_input(r->plan, 0, in);
                sscma_tensor_destroy(in);
                if (r->st == SSCMA_OK)
                    r->st = sscma_qplan_run(r->plan);
                if (r->st != SSCMA_OK)
                    break;
                uint8_t *dst = r->outputs + (size_t)sample * s->out_per;
                const size_t bytes = (size_t)r->batch * s->out_per;
                if (r->want != NULL && memcmp(out_data, r->want + (size_t)sample * s->out_per, bytes) != 0)
                    r->mismatches++;
                memcpy(dst, out_data, bytes);
            }
    return NULL;
}

/*
 * Runs a batch-1 and a batch-4 plan of q one after the other, then at the same time from two threads, ROUNDS times
 * each; every concurrent output must equal the sequential one bit for bit.
 */
static void two_threads_match_sequential(sscma_context *ctx, const sscma_qmodel *q, sscma_loader *loader,
                                         int is_int8)
{
    const io_shape s = shape_of(q);
    CHECK(s.rank == 4 && s.in_per > 0 && s.out_per > 0);
    /* the first SETS x 4 Fashion-MNIST images of the calibration loader */
    float *inputs = calloc((size_t)(SETS * 4 * s.in_per), sizeof *inputs);
    int64_t bdims[4];
    sscma_tensor *batch = NULL;
    CHECK_OK(sscma_loader_batch_shape(loader, bdims));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, bdims, &batch));
    CHECK_OK(sscma_loader_start_epoch(loader, 0));
    for (int64_t have = 0, n = 0; have < SETS * 4; have += n) {
        const float *bd = NULL;
        CHECK_OK(sscma_loader_next(loader, batch, NULL, &n));
        CHECK(n > 0);
        if (n <= 0)
            break;
        sscma_tensor_data(batch, (void **)&bd);
        int64_t take = n < SETS * 4 - have ? n : SETS * 4 - have;
        memcpy(inputs + have * s.in_per, bd, (size_t)(take * s.in_per) * sizeof *inputs);
    }
    sscma_tensor_destroy(batch);
    const size_t all = (size_t)SETS * 4 * s.out_per;
    uint8_t *want1 = calloc(all, 1), *want4 = calloc(all, 1), *got1 = calloc(all, 1), *got4 = calloc(all, 1);
    sscma_qplan *p1 = NULL, *p4 = NULL;
    CHECK_OK(sscma_qplan_create(q, 1, &p1));
    CHECK_OK(sscma_qplan_create(q, 4, &p4));
    int64_t b = 0;
    CHECK_OK(sscma_qplan_batch(p4, &b));
    CHECK_INT_EQ(b, 4);

    /* one after the other, once */
    runner seq1 = {ctx, p1, 1, &s, inputs, 1, want1, NULL, 0, SSCMA_OK};
    runner seq4 = {ctx, p4, 4, &s, inputs, 1, want4, NULL, 0, SSCMA_OK};
    run_plan(&seq1);
    run_plan(&seq4);
    CHECK_OK(seq1.st);
    CHECK_OK(seq4.st);
    /* the sets' outputs differ, so a stale or shared buffer would show */
    int distinct = 0;
    for (int set = 1; set < SETS; set++)
        distinct += memcmp(want4, want4 + (size_t)set * 4 * s.out_per, 4 * s.out_per) != 0;
    CHECK_INT_EQ(distinct, SETS - 1);
    if (is_int8) /* integer kernels compute each sample alone: batch 1 and batch 4 agree bit for bit */
        CHECK(memcmp(want1, want4, all) == 0);

    /* at the same time, on fresh plans and on the ones used above */
    int differing = 0;
    for (int fresh = 0; fresh < 2; fresh++) {
        sscma_qplan *a = p1, *c = p4;
        if (fresh) {
            CHECK_OK(sscma_qplan_create(q, 1, &a));
            CHECK_OK(sscma_qplan_create(q, 4, &c));
        }
        runner r1 = {ctx, a, 1, &s, inputs, ROUNDS, got1, want1, 0, SSCMA_OK};
        runner r4 = {ctx, c, 4, &s, inputs, ROUNDS, got4, want4, 0, SSCMA_OK};
        pthread_t t1, t4;
        CHECK(pthread_create(&t1, NULL, run_plan, &r1) == 0);
        CHECK(pthread_create(&t4, NULL, run_plan, &r4) == 0);
        pthread_join(t1, NULL);
        pthread_join(t4, NULL);
        CHECK_OK(r1.st);
        CHECK_OK(r4.st);
        CHECK_INT_EQ(r1.mismatches, 0);
        CHECK_INT_EQ(r4.mismatches, 0);
        differing += r1.mismatches + r4.mismatches;
        CHECK(memcmp(got1, want1, all) == 0);
        CHECK(memcmp(got4, want4, all) == 0);
        if (fresh) {
            sscma_qplan_destroy(a);
            sscma_qplan_destroy(c);
        }
    }
    printf("# %s: %d runs at batch 1 and %d at batch 4 at once (%zu output bytes a sample), %d differ from the "
           "sequential runs\n",
           is_int8 ? "int8" : "float", 2 * ROUNDS * SETS * 4, 2 * ROUNDS * SETS, s.out_per, differing);
    sscma_qplan_destroy(p1);
    sscma_qplan_destroy(p4);
    free(inputs), free(want1), free(want4), free(got1), free(got4);
}

static void plans_of_one_model_run_at_once(void)
{
    sscma_context *ctx = NULL;
    fixture_quantized fx;
    if (!fixture_of(&fixture_families[2], &ctx, &fx)) /* PFLD: keypoints, no softmax to saturate */
        return;
    two_threads_match_sequential(ctx, fx.q, fx.loader, 1);
    sscma_qmodel *f = NULL;
    CHECK_OK(sscma_qmodel_from_model(fx.model, &f));
    two_threads_match_sequential(ctx, f, fx.loader, 0);
    sscma_qmodel_destroy(f);
    fixture_release(&fx);
    sscma_context_destroy(ctx);
}

/* A plan and the model's own calls (its default plan) do not disturb each other. */
static void plan_and_default_plan_are_independent(void)
{
    sscma_context *ctx = NULL;
    fixture_quantized fx;
    if (!fixture_of(&fixture_families[0], &ctx, &fx))
        return;
    sscma_qmodel *q = fx.q;
    const io_shape s = shape_of(q);
    sscma_tensor *x = NULL, *y_model = NULL, *y_plan = NULL;
    int64_t dims[4] = {2, s.dims[1], s.dims[2], s.dims[3]};
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &x));
    float *xd = NULL;
    CHECK_OK(sscma_tensor_data(x, (void **)&xd));
    uint64_t seed = 3;
    for (int64_t i = 0; i < 2 * s.in_per; i++)
        xd[i] = fixture_uniform(&seed, -1.5f, 2.0f);
    sscma_tensor *out_view = NULL;
    CHECK_OK(sscma_qmodel_prepare(q, 2));
    CHECK_OK(sscma_qmodel_output(q, 0, &out_view, NULL));
    int32_t rank = 0;
    int64_t odims[4] = {0, 0, 0, 0};
    sscma_tensor_rank(out_view, &rank);
    for (int32_t i = 0; i < rank; i++)
        sscma_tensor_dim(out_view, i, &odims[i]);
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, rank, odims, &y_model));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, rank, odims, &y_plan));
    sscma_qplan *p = NULL;
    CHECK_OK(sscma_qplan_create(q, 2, &p));
    CHECK_OK(sscma_qplan_set_input(p, 0, x));
    CHECK_OK(sscma_qmodel_set_input(q, 0, x));
    CHECK_OK(sscma_qmodel_run(q));
    CHECK_OK(sscma_qplan_run(p));
    CHECK_OK(sscma_qmodel_get_output(q, 0, y_model));
    CHECK_OK(sscma_qplan_get_output(p, 0, y_plan));
    size_t bytes = 0;
    float *a = NULL, *b = NULL;
    sscma_tensor_size_bytes(y_model, &bytes);
    sscma_tensor_data(y_model, (void **)&a);
    sscma_tensor_data(y_plan, (void **)&b);
    CHECK(memcmp(a, b, bytes) == 0);
    /* re-preparing the model (its default plan) leaves the plan's buffers and results alone */
    CHECK_OK(sscma_qmodel_prepare(q, 1));
    memset(b, 0, bytes);
    CHECK_OK(sscma_qplan_get_output(p, 0, y_plan));
    CHECK(memcmp(a, b, bytes) == 0);
    sscma_tensor *in_view = NULL;
    const char *name = NULL;
    CHECK_OK(sscma_qplan_input(p, 0, &in_view));
    CHECK_OK(sscma_qplan_output(p, 0, &out_view, &name));
    int64_t d0 = 0;
    sscma_tensor_dim(in_view, 0, &d0);
    CHECK_INT_EQ(d0, 2);
    CHECK(name != NULL && name[0] != '\0');

    /* errors */
    sscma_qplan *none = NULL;
    int64_t batch = 0;
    CHECK_FAILS(sscma_qplan_create(NULL, 1, &none), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_qplan_create(q, 0, &none), SSCMA_ERR_INVALID_ARGUMENT, "batch is 0");
    CHECK_FAILS(sscma_qplan_create(q, ((int64_t)1 << 24) + 1, &none), SSCMA_ERR_INVALID_ARGUMENT, "batch");
    CHECK(none == NULL);
    CHECK_FAILS(sscma_qplan_batch(NULL, &batch), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_qplan_input(p, 1, &in_view), SSCMA_ERR_INVALID_ARGUMENT, "input 1 does not exist");
    CHECK_FAILS(sscma_qplan_output(p, -1, &out_view, NULL), SSCMA_ERR_INVALID_ARGUMENT, "output -1 does not exist");
    CHECK_FAILS(sscma_qplan_run(NULL), SSCMA_ERR_INVALID_ARGUMENT, NULL);
    CHECK_FAILS(sscma_qplan_set_input(p, 0, y_plan), SSCMA_ERR_SHAPE, "sscma_qplan_set_input: expected an f32 tensor");
    CHECK_FAILS(sscma_qplan_get_output(p, 0, x), SSCMA_ERR_SHAPE, "sscma_qplan_get_output: expected an f32 tensor");
    sscma_qplan_destroy(NULL);

    sscma_qplan_destroy(p);
    sscma_tensor_destroy(x);
    sscma_tensor_destroy(y_model);
    sscma_tensor_destroy(y_plan);
    fixture_release(&fx);
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(plans_of_one_model_run_at_once),
        TEST_CASE(plan_and_default_plan_are_independent),
    };
    return test_main(argc, argv, cases, TEST_COUNT(cases));
}
