/*
 * The context's thread pool: persistent workers that run one parallel-for at a time.
 *
 * A job splits [0, count) into num_threads contiguous ranges, one per worker; the calling thread runs range 0.
 * Ranges depend only on count and the thread count, so a kernel whose per-range work is independent of the others
 * gives the same bits every run. Nested calls (from inside a task) run inline. Jobs from different threads that
 * share the context are serialised by a mutex.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <string.h>

#include "core/internal.h"

struct sscma_pool {
    const sscma_context *ctx;
    int32_t num_threads; /* workers including the caller */
    pthread_t *threads;  /* num_threads - 1 helpers */
    int32_t started;     /* helpers actually running */

    pthread_mutex_t submit; /* one job at a time */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    uint64_t generation; /* bumped for each job */
    int32_t pending;     /* helpers still working on the current job */
    int stop;

    /* the current job */
    sscma_task_fn fn;
    void *arg;
    int64_t count;
    int32_t parts;
};

static _Thread_local int inside_pool_task;

static void range_of(int64_t count, int32_t parts, int32_t index, int64_t *begin, int64_t *end)
{
    int64_t base = count / parts, extra = count % parts;
    *begin = index * base + (index < extra ? index : extra);
    *end = *begin + base + (index < extra ? 1 : 0);
}

typedef struct worker_start {
    sscma_pool *pool;
    int32_t index;
} worker_start;

static void *worker_main(void *p)
{
    worker_start *start = p;
    sscma_pool *pool = start->pool;
    int32_t index = start->index;
    sscma_free(pool->ctx, start, sizeof *start);
    uint64_t seen = 0;
    inside_pool_task = 1;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stop && pool->generation == seen)
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->stop)
            break;
        seen = pool->generation;
        sscma_task_fn fn = pool->fn;
        void *arg = pool->arg;
        int64_t count = pool->count;
        int32_t parts = pool->parts;
        pthread_mutex_unlock(&pool->lock);
        if (index < parts) {
            int64_t begin, end;
            range_of(count, parts, index, &begin, &end);
            if (begin < end)
                fn(arg, begin, end, index);
        }
        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

sscma_status sscma_pool_create(const sscma_context *ctx, int32_t num_threads, sscma_pool **out)
{
    sscma_pool *pool = sscma_alloc_zeroed(ctx, sizeof *pool, _Alignof(sscma_pool));
    if (pool == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "thread pool", "cannot allocate the pool");
    pool->ctx = ctx;
    pool->num_threads = num_threads < 1 ? 1 : num_threads;
    pthread_mutex_init(&pool->submit, NULL);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    *out = pool;
    return SSCMA_OK;
}

/* Starts the helper threads on first use; called with pool->submit held. */
static sscma_status start_helpers(sscma_pool *pool)
{
    int32_t helpers = pool->num_threads - 1;
    if (helpers <= 0 || pool->threads != NULL)
        return SSCMA_OK;
    pool->threads = sscma_alloc_zeroed(pool->ctx, (size_t)helpers * sizeof *pool->threads, _Alignof(pthread_t));
    if (pool->threads == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "thread pool", "cannot allocate %d thread handles", helpers);
    for (int32_t i = 0; i < helpers; i++) {
        worker_start *start = sscma_alloc(pool->ctx, sizeof *start, _Alignof(worker_start));
        if (start == NULL)
            break;
        start->pool = pool;
        start->index = i + 1;
        if (pthread_create(&pool->threads[i], NULL, worker_main, start) != 0) {
            sscma_free(pool->ctx, start, sizeof *start);
            break;
        }
        pool->started++;
    }
    /* Fewer helpers than asked (thread limits): the work is still split by num_threads, and the caller runs the
     * ranges no helper took, so results do not change. */
    return SSCMA_OK;
}

void sscma_pool_destroy(sscma_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int32_t i = 0; i < pool->started; i++)
        pthread_join(pool->threads[i], NULL);
    if (pool->threads != NULL)
        sscma_free(pool->ctx, pool->threads, (size_t)(pool->num_threads - 1) * sizeof *pool->threads);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->submit);
    sscma_free(pool->ctx, pool, sizeof *pool);
}

int32_t sscma_pool_threads(const sscma_pool *pool)
{
    return pool == NULL ? 1 : pool->num_threads;
}

void sscma_parallel_for(sscma_pool *pool, int64_t count, int64_t min_per_thread, sscma_task_fn fn, void *arg)
{
    if (count <= 0)
        return;
    int32_t parts = pool == NULL ? 1 : pool->num_threads;
    if (min_per_thread < 1)
        min_per_thread = 1;
    if (count / min_per_thread < parts)
        parts = (int32_t)(count / min_per_thread > 0 ? count / min_per_thread : 1);
    if (parts <= 1 || inside_pool_task) {
        /* Same ranges as a parallel run would use, executed in order, so results match. */
        for (int32_t i = 0; i < parts; i++) {
            int64_t begin, end;
            range_of(count, parts, i, &begin, &end);
            if (begin < end)
                fn(arg, begin, end, i);
        }
        return;
    }
    pthread_mutex_lock(&pool->submit);
    start_helpers(pool);
    int32_t helpers_used = parts - 1 < pool->started ? parts - 1 : pool->started;
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->arg = arg;
    pool->count = count;
    pool->parts = parts;
    pool->pending = pool->started;
    pool->generation++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);

    inside_pool_task = 1;
    int64_t begin, end;
    range_of(count, parts, 0, &begin, &end);
    fn(arg, begin, end, 0);
    /* Ranges that no helper thread exists for. */
    for (int32_t i = helpers_used + 1; i < parts; i++) {
        range_of(count, parts, i, &begin, &end);
        if (begin < end)
            fn(arg, begin, end, i);
    }
    inside_pool_task = 0;

    pthread_mutex_lock(&pool->lock);
    while (pool->pending > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_unlock(&pool->submit);
}
