/*
 * Private helpers shared by every module of libsscma: errors, logging and memory through the context.
 * Not installed; nothing here is exported.
 */
#ifndef SSCMA_LIB_CORE_INTERNAL_H
#define SSCMA_LIB_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#if !defined(SSCMA_MICRO)
#  include <pthread.h>
#  include <stdatomic.h>
#endif

#include "sscma/core.h"

#if defined(__GNUC__)
#  define SSCMA_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#else
#  define SSCMA_PRINTF(fmt_index, args_index)
#endif

/*
 * SSCMA_KERNEL marks a hot loop to be compiled for several x86-64 levels and chosen at load time (GCC
 * target_clones + ifunc): AVX-512, AVX2+FMA, and the baseline. Code is IEEE-exact in each clone (no -ffast-math,
 * and ISO C mode keeps -ffp-contract=off), and reductions are never vectorised across their order, so every clone
 * gives the same bits. -Dmultiversion=false (or another compiler) builds the baseline only.
 */
#if defined(SSCMA_MULTIVERSION) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__)
#  define SSCMA_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#  define SSCMA_KERNEL
#endif

/* Upper bound on the worker threads of one context. */
#define SSCMA_MAX_THREADS 1024

typedef struct sscma_pool sscma_pool;

/*
 * The log level and callback may change while other threads log (pool workers, loader threads): the level is an
 * atomic read on every message, and the callback with its user data is read and called under log_lock, so a
 * message never pairs one callback with another's user data, and once sscma_context_set_log_callback returns the
 * old callback is not running and will not be called again (docs/architecture.md, "Threads").
 */
#if defined(SSCMA_MICRO)
/*
 * The micro runtime (SSCMA_MICRO, lib/core/micro.c, docs/deployment.md): one thread, no pool (NULL: kernels run
 * their whole range inline), no log, and the allocator hooks are a bump allocator over the caller's arena.
 */
struct sscma_context {
    sscma_context_options options; /* alloc_fn / free_fn / alloc_user_data: the bump allocator */
    sscma_pool *pool;              /* always NULL */
};
#else
struct sscma_context {
    sscma_context_options options; /* as created, with num_threads resolved (never 0); the log fields are below */
    sscma_pool *pool;              /* options.num_threads workers; helpers start on first use */
    atomic_int log_level;          /* sscma_log_level */
    pthread_mutex_t log_lock;      /* guards options.log_fn and options.log_user_data, and calls to log_fn */
    atomic_size_t refs;            /* 1 for the caller until sscma_context_destroy, + 1 per live child handle */
    atomic_bool destroyed;         /* sscma_context_destroy was called; freed when refs reaches 0 */
};
#endif

/*
 * Children: every handle created from a context that keeps a pointer to it (tensor, sample, dataset, loader,
 * model, optimizer, scheduler, trainer, metric, runner, qmodel, qplan) holds a reference, taken when its struct is
 * allocated (sscma_context_retain) and given back as the last step of its destroy, after its own frees
 * (sscma_context_release). sscma_context_destroy gives back the caller's reference, so a context destroyed
 * before its children only stops logging to the caller's callback and is freed by the last child's release, in
 * whatever order the children go (a Python garbage collector may finalize them in any order). The count is
 * atomic: children of one context may be destroyed on different threads. Both accept NULL (a metric made without
 * a context). docs/architecture.md, "Memory".
 */
void sscma_context_retain(const sscma_context *ctx);
void sscma_context_release(const sscma_context *ctx);

/*
 * Records "<where>: <formatted message>" as the calling thread's error and returns `status`, so that a failure is
 * one line: `return sscma_fail(SSCMA_ERR_SHAPE, __func__, "dims[%d] = %lld", i, d);`. `where` is usually the public
 * function's name, or a file and position for parsers.
 */
sscma_status sscma_fail(sscma_status status, const char *where, const char *fmt, ...) SSCMA_PRINTF(3, 4);
sscma_status sscma_vfail(sscma_status status, const char *where, const char *fmt, va_list args);

/* Shorthand for the common case where the failing place is the current public function. */
#define SSCMA_FAIL(status, ...) sscma_fail((status), __func__, __VA_ARGS__)

/* Fails with SSCMA_ERR_INVALID_ARGUMENT naming the parameter when `ptr` is NULL. */
#define SSCMA_REQUIRE_NONNULL(ptr)                                                                             \
    do {                                                                                                       \
        if ((ptr) == NULL)                                                                                     \
            return SSCMA_FAIL(SSCMA_ERR_INVALID_ARGUMENT, "argument '%s' is NULL", #ptr);                     \
    } while (0)

/*
 * SSCMA_ASSERT(cond): an internal invariant, never a check of user data (that is a status with a message). Like
 * libgit2's GIT_ASSERT: without NDEBUG it is assert(); with NDEBUG (meson's b_ndebug, which this project sets to
 * `if-release`: buildtype=release, or -Db_ndebug=true) a false condition records "internal error: <cond>
 * (<file>:<line>)" as the calling thread's error and makes the enclosing function return SSCMA_ERR_INTERNAL.
 * SSCMA_ASSERT_RETURN(cond, value) returns `value` instead (NULL, -1, ...) for functions that do not return a
 * status; SSCMA_ASSERT_VOID(cond) just returns.
 */
#ifdef NDEBUG
#  define SSCMA_ASSERT_RETURN(cond, value)                                                                     \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            sscma_fail(SSCMA_ERR_INTERNAL, __func__, "internal error: %s (%s:%d)", #cond, __FILE__, __LINE__); \
            return value;                                                                                      \
        }                                                                                                      \
    } while (0)
#  define SSCMA_ASSERT_VOID(cond)                                                                              \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            sscma_fail(SSCMA_ERR_INTERNAL, __func__, "internal error: %s (%s:%d)", #cond, __FILE__, __LINE__); \
            return;                                                                                            \
        }                                                                                                      \
    } while (0)
#else
#  include <assert.h>
#  define SSCMA_ASSERT_RETURN(cond, value) assert(cond)
#  define SSCMA_ASSERT_VOID(cond) assert(cond)
#endif
#define SSCMA_ASSERT(cond) SSCMA_ASSERT_RETURN(cond, SSCMA_ERR_INTERNAL)

/*
 * Versioned structs (docs/architecture.md, "Versioned options"). Every public struct with a struct_size starts with
 * `uint32_t struct_size`; the library accepts any size from the first version's (SSCMA_SIZE_THROUGH its last
 * first-version field: frozen, whatever is appended later) to its own sizeof: smaller is
 * SSCMA_ERR_INVALID_ARGUMENT, larger (a program built against a newer libsscma) SSCMA_ERR_UNSUPPORTED. `where` is
 * the public function, `field` the argument's name in messages ("struct_size", "options->struct_size"), `type` the
 * struct's name.
 */
#define SSCMA_SIZE_THROUGH(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
sscma_status sscma_options_check(const char *where, const char *field, size_t struct_size, size_t v1_size,
                                 size_t current_size, const char *type);
/* The *_options_init() body: checks struct_size, then copies only the caller's first struct_size bytes of the
 * library's `defaults` (a whole current struct) into options and sets its struct_size. */
sscma_status sscma_options_init(const char *where, const char *type, void *options, size_t struct_size,
                                const void *defaults, size_t v1_size, size_t current_size);
/* Reads caller options: checks options->struct_size, then copies that many bytes over `dst` (a whole current
 * struct holding the defaults, so fields the caller does not know keep them) and sets dst's struct_size to the
 * current size. Never reads past the caller's struct_size. */
sscma_status sscma_options_read(const char *where, const char *type, const void *options, void *dst, size_t v1_size,
                                size_t current_size);
#define SSCMA_OPTIONS_INIT(type, options, struct_size, defaults, v1_size)                                      \
    sscma_options_init(__func__, #type, (options), (struct_size), (defaults), (v1_size), sizeof(type))
#define SSCMA_OPTIONS_READ(type, options, dst, v1_size)                                                        \
    sscma_options_read(__func__, #type, (options), (dst), (v1_size), sizeof(type))

/* Sends a formatted line to ctx's log when `level` passes its threshold. ctx must not be NULL. */
void sscma_logf(const sscma_context *ctx, sscma_log_level level, const char *fmt, ...) SSCMA_PRINTF(3, 4);

/*
 * Memory through the context's allocator: every allocation in lib/ outside lib/core goes through these
 * (tests/scripts/check-alloc.sh fails the build's tests otherwise; docs/architecture.md, "Memory").
 *
 * Sized blocks, for memory whose size the caller keeps (tensors, handles, arrays with a count):
 * sscma_alloc returns NULL on failure (or for size 0) and, when it fails, leaves no error message: callers report
 * SSCMA_ERR_OUT_OF_MEMORY with what they were allocating. alignment is a power of two; sscma_free takes the size
 * given to sscma_alloc and accepts NULL. sscma_alloc_array allocates count * size bytes, NULL when the product
 * overflows. sscma_realloc moves a sized block to new_size bytes (contents kept up to the smaller size; ptr NULL:
 * a new block); it returns NULL when out of memory (or for new_size 0, after freeing ptr) and the old block is then
 * untouched, except for new_size 0.
 */
void *sscma_alloc(const sscma_context *ctx, size_t size_bytes, size_t alignment);
void *sscma_alloc_zeroed(const sscma_context *ctx, size_t size_bytes, size_t alignment);
void *sscma_alloc_array(const sscma_context *ctx, size_t count, size_t size_bytes, size_t alignment);
void *sscma_realloc(const sscma_context *ctx, void *ptr, size_t old_size_bytes, size_t new_size_bytes,
                    size_t alignment);
void sscma_free(const sscma_context *ctx, void *ptr, size_t size_bytes);
/* The C library's allocator as a pair of hooks (posix_memalign / free): a context's default, and the allocator of
 * header-prefixed blocks made without a context. The micro runtime has none: they allocate nothing there. */
void *sscma_c_alloc(void *user_data, size_t size_bytes, size_t alignment);
void sscma_c_free(void *user_data, void *ptr, size_t size_bytes);
/* A copy of a NUL-terminated string through the context (NULL when out of memory), and its release (NULL: no-op). */
char *sscma_strdup(const sscma_context *ctx, const char *s);
void sscma_free_string(const sscma_context *ctx, char *s);

/*
 * Header-prefixed blocks, for code that does not track sizes (growing buffers, strings, arrays of strings): the
 * block records its size in a 16-byte header in front of it, so sscma_mfree can hand the hooks the right size.
 * malloc-like: 16-byte aligned, size 0 gives a valid block (never NULL for lack of bytes), NULL only when out of
 * memory or when count * size overflows. sscma_mrealloc keeps the old block when it fails. Never mix the two
 * families: a block from sscma_malloc is released by sscma_mfree only, and sscma_alloc's by sscma_free only.
 * ctx may be NULL for the few objects the public API creates without a context (sscma_config): the block then
 * comes from the C library's allocator (posix_memalign / free), in core only.
 */
void *sscma_malloc(const sscma_context *ctx, size_t size_bytes);
void *sscma_calloc(const sscma_context *ctx, size_t count, size_t size_bytes);
void *sscma_mrealloc(const sscma_context *ctx, void *ptr, size_t size_bytes);
void sscma_mfree(const sscma_context *ctx, void *ptr);
char *sscma_mstrdup(const sscma_context *ctx, const char *s);
char *sscma_mstrndup(const sscma_context *ctx, const char *s, size_t max_len);

/* The size given for a header-prefixed block (0 for NULL). */
size_t sscma_msize(const void *ptr);

/* true (and *out = a * b) when the product fits in size_t. */
static inline int sscma_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > (size_t)-1 / b)
        return 0;
    *out = a * b;
    return 1;
}

/*
 * Thread pool (core/pool.c). A task gets a contiguous range [begin, end) of [0, count) and the index of the worker
 * running it (0 .. threads-1, for per-worker scratch). sscma_parallel_for() splits count into at most `threads`
 * ranges of at least min_per_thread items; the split depends only on count, min_per_thread and the thread count.
 * It returns when every range is done. Calls from inside a task run inline.
 */
typedef void (*sscma_task_fn)(void *arg, int64_t begin, int64_t end, int32_t worker);
sscma_status sscma_pool_create(const sscma_context *ctx, int32_t num_threads, sscma_pool **out);
void sscma_pool_destroy(sscma_pool *pool);
int32_t sscma_pool_threads(const sscma_pool *pool);
void sscma_parallel_for(sscma_pool *pool, int64_t count, int64_t min_per_thread, sscma_task_fn fn, void *arg);

/* Counter-based random numbers: the same (seed, stream, index) always gives the same value, on any thread. */
static inline uint64_t sscma_hash64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A uniform float in [0, 1) for element `index` of random stream `stream` under `seed`. */
static inline float sscma_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t h = sscma_hash64(seed ^ sscma_hash64(stream ^ sscma_hash64(index)));
    return (float)(h >> 40) * (1.0f / 16777216.0f);
}

/*
 * Floating-point mode for libsscma's float work: flush-to-zero and denormals-are-zero. Training drives some values
 * (Adam's second moments, gradients of a converged loss) into the denormal range, where x86 arithmetic is tens of
 * times slower: a FOMO run slowed from 4.5 to 10+ s per epoch after ~4,700 iterations. The pool's workers run in
 * this mode for their lifetime; a public entry point that computes sets it on the calling thread and restores the
 * caller's mode on return (sscma_fp_enter / sscma_fp_leave), so an application's own float code is not affected.
 */
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
static inline unsigned sscma_fp_enter(void)
{
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
    return old;
}
static inline void sscma_fp_leave(unsigned old)
{
    _mm_setcsr(old);
}
#else
static inline unsigned sscma_fp_enter(void)
{
    return 0;
}
static inline void sscma_fp_leave(unsigned old)
{
    (void)old;
}
#endif

#endif /* SSCMA_LIB_CORE_INTERNAL_H */
