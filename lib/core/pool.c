/*
 * The context's thread pool: persistent workers that run one parallel-for at a time.
 *
 * A job splits [0, count) into at most num_threads contiguous ranges. Ranges depend only on count, the minimum per
 * range and the thread count, and range i always runs as worker i (its scratch slot), so a kernel whose per-range
 * work is independent of the others gives the same bits every run. The caller always runs range 0 (its data stays in
 * its cache from one job to the next); the helpers claim ranges 1.. from a shared counter, and so does the caller once
 * range 0 is done, so a helper the operating system has not scheduled (another process on the same cores) never holds
 * a job up: the caller runs its ranges. Without that, every parallel-for
 * waited for each helper to be scheduled, and a 2-thread training on two busy cores ran 7x slower than on one
 * thread. Nested calls (from inside a task) run inline. Jobs from different threads that share the context are
 * serialised by a mutex.
 *
 * Waking a sleeping thread costs tens of microseconds on some systems, more than a small kernel takes, so workers
 * spin (with the CPU's pause hint) for a short while after each job before they sleep on a condition variable, and
 * the caller spins while the last ranges finish. Idle pools sleep: nothing spins for more than about a millisecond.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/internal.h"

/* Spin iterations before sleeping (each one a pause instruction, ~10-140 cycles). */
#define SPIN_LIMIT 20000

struct sscma_pool {
    const sscma_context *ctx;
    int32_t num_threads; /* workers including the caller */
    pthread_t *threads;  /* num_threads - 1 helpers */
    int32_t started;     /* helpers actually running */

    pthread_mutex_t submit; /* one job at a time */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    _Atomic uint64_t generation; /* bumped for each job */
    /*
     * Ranges are claimed by compare-and-swap on `claim`: generation (low 32 bits) << 32 | parts << 16 | next range.
     * A thread that claims range i of a job knows the job cannot finish (and its fields cannot be rewritten) before
     * it has run that range, so it reads the job's fields only after claiming.
     */
    _Atomic uint64_t claim;
    _Atomic int32_t remaining; /* ranges of the current job not finished yet */
    _Atomic int32_t sleeping;  /* helpers waiting on `wake` */
    _Atomic int32_t caller_sleeping;
    _Atomic int stop;

    /* the current job, written before `claim` and `generation` publish it */
    _Atomic(sscma_task_fn) fn;
    _Atomic(void *) arg;
    _Atomic int64_t count;
};

static _Thread_local int inside_pool_task;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void range_of(int64_t count, int32_t parts, int32_t index, int64_t *begin, int64_t *end)
{
    int64_t base = count / parts, extra = count % parts;
    *begin = index * base + (index < extra ? index : extra);
    *end = *begin + base + (index < extra ? 1 : 0);
}

/* Claims and runs ranges of job `generation` until none is left; returns when this thread can claim no more. */
static void run_ranges(sscma_pool *pool, uint64_t generation)
{
    uint64_t c = atomic_load(&pool->claim);
    for (;;) {
        if ((uint32_t)(c >> 32) != (uint32_t)generation)
            return; /* a later job: the caller of this one has moved on */
        int32_t parts = (int32_t)((c >> 16) & 0xffff), index = (int32_t)(c & 0xffff);
        if (index >= parts)
            return;
        if (!atomic_compare_exchange_weak(&pool->claim, &c, c + 1))
            continue; /* c holds the current value: try again */
        int64_t begin, end;
        range_of(atomic_load_explicit(&pool->count, memory_order_relaxed), parts, index, &begin, &end);
        if (begin < end) {
            sscma_task_fn fn = atomic_load_explicit(&pool->fn, memory_order_relaxed);
            fn(atomic_load_explicit(&pool->arg, memory_order_relaxed), begin, end, index);
        }
        if (atomic_fetch_sub(&pool->remaining, 1) == 1 && atomic_load(&pool->caller_sleeping)) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->lock);
        }
        c = atomic_load(&pool->claim);
    }
}

/* Waits until the generation differs from `seen` (or stop); returns the new generation. */
static uint64_t wait_for_job(sscma_pool *pool, uint64_t seen)
{
    for (int spin = 0; spin < SPIN_LIMIT; spin++) {
        uint64_t g = atomic_load(&pool->generation);
        if (g != seen || atomic_load(&pool->stop))
            return g;
        cpu_relax();
    }
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add(&pool->sleeping, 1);
    uint64_t g;
    while ((g = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stop))
        pthread_cond_wait(&pool->wake, &pool->lock);
    atomic_fetch_sub(&pool->sleeping, 1);
    pthread_mutex_unlock(&pool->lock);
    return g;
}

static void *worker_main(void *p)
{
    sscma_pool *pool = p;
    uint64_t seen = 0;
    inside_pool_task = 1;
    (void)sscma_fp_enter(); /* the worker's whole life: it runs only libsscma's work */
    for (;;) {
        seen = wait_for_job(pool, seen);
        if (atomic_load(&pool->stop))
            break;
        run_ranges(pool, seen);
    }
    return NULL;
}

sscma_status sscma_pool_create(const sscma_context *ctx, int32_t num_threads, sscma_pool **out)
{
    SSCMA_ASSERT(num_threads >= 1 && num_threads <= SSCMA_MAX_THREADS); /* resolved by sscma_context_create */
    sscma_pool *pool = sscma_alloc_zeroed(ctx, sizeof *pool, _Alignof(sscma_pool));
    if (pool == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "thread pool", "cannot allocate the pool");
    pool->ctx = ctx;
    pool->num_threads = num_threads;
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->claim, 0);
    atomic_init(&pool->remaining, 0);
    atomic_init(&pool->fn, NULL);
    atomic_init(&pool->arg, NULL);
    atomic_init(&pool->count, 0);
    atomic_init(&pool->sleeping, 0);
    atomic_init(&pool->caller_sleeping, 0);
    atomic_init(&pool->stop, 0);
    pthread_mutex_init(&pool->submit, NULL);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    *out = pool;
    return SSCMA_OK;
}

/* Starts the helper threads on first use; called with pool->submit held. */
static void start_helpers(sscma_pool *pool)
{
    int32_t helpers = pool->num_threads - 1;
    if (helpers <= 0 || pool->threads != NULL)
        return;
    pool->threads = sscma_alloc_zeroed(pool->ctx, (size_t)helpers * sizeof *pool->threads, _Alignof(pthread_t));
    if (pool->threads == NULL)
        return; /* no helpers: the caller runs every range, with the same results */
    for (int32_t i = 0; i < helpers; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0)
            break;
        pool->started++;
    }
}

void sscma_pool_destroy(sscma_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, 1);
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
    atomic_store_explicit(&pool->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool->arg, arg, memory_order_relaxed);
    atomic_store_explicit(&pool->count, count, memory_order_relaxed);
    atomic_store(&pool->remaining, parts);
    uint64_t generation = atomic_load(&pool->generation) + 1;
    /* publishes the job with range 0 taken: the caller runs it */
    atomic_store(&pool->claim, (generation << 32) | ((uint64_t)parts << 16) | 1u);
    atomic_store(&pool->generation, generation);                               /* wakes spinning helpers */
    if (atomic_load(&pool->sleeping) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }

    inside_pool_task = 1;
    int64_t begin, end;
    range_of(count, parts, 0, &begin, &end);
    if (begin < end)
        fn(arg, begin, end, 0);
    atomic_fetch_sub(&pool->remaining, 1);
    run_ranges(pool, generation); /* then it claims ranges like any helper, so it never waits on an idle one */
    inside_pool_task = 0;

    /* What is left runs on helpers that claimed it; they are running, so a short spin usually suffices. */
    for (int spin = 0; spin < SPIN_LIMIT && atomic_load(&pool->remaining) > 0; spin++)
        cpu_relax();
    if (atomic_load(&pool->remaining) > 0) {
        pthread_mutex_lock(&pool->lock);
        atomic_store(&pool->caller_sleeping, 1);
        while (atomic_load(&pool->remaining) > 0)
            pthread_cond_wait(&pool->done, &pool->lock);
        atomic_store(&pool->caller_sleeping, 0);
        pthread_mutex_unlock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->submit);
}
