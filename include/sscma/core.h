/*
 * libsscma core: status codes, the per-thread error message, the library version and the context.
 *
 * Conventions for the whole API (see docs/architecture.md):
 *  - A fallible call returns an sscma_status: SSCMA_OK (0) on success, a negative value on failure. Results come
 *    back through the last pointer argument and are left untouched when the call fails.
 *  - On failure the calling thread's message (sscma_last_error()) says what failed and where.
 *  - sscma_<thing>_destroy(NULL) is a no-op.
 *  - A handle is used by one thread at a time; different handles may be used from different threads. Objects
 *    created from one context may be used from different threads at once (they share its thread pool, which
 *    serialises their jobs). The context itself is the exception that is safe to share: its log level and log
 *    callback may be changed from any thread while other threads log (see sscma_context_set_log_callback).
 */
#ifndef SSCMA_CORE_H
#define SSCMA_CORE_H

#include <sscma/common.h>

SSCMA_BEGIN_DECLS

/*
 * Status codes. Values are part of the ABI: they are never renumbered, and new codes are only appended.
 */
typedef enum sscma_status {
    SSCMA_OK = 0,
    SSCMA_ERR_INVALID_ARGUMENT = -1, /* a NULL pointer, a value out of range, a bad combination */
    SSCMA_ERR_OUT_OF_MEMORY = -2,    /* an allocation failed */
    SSCMA_ERR_IO = -3,               /* a file could not be opened, read or written */
    SSCMA_ERR_FORMAT = -4,           /* a file or buffer is malformed (the message names file and position) */
    SSCMA_ERR_UNSUPPORTED = -5,      /* valid input that this build or format cannot handle */
    SSCMA_ERR_SHAPE = -6,            /* tensor shapes do not fit together */
    SSCMA_ERR_DTYPE = -7,            /* wrong element type for the operation */
    SSCMA_ERR_OVERFLOW = -8,         /* a size or count would overflow */
    SSCMA_ERR_NOT_FOUND = -9,        /* a named item (key, type, file, parameter) does not exist */
    SSCMA_ERR_STATE = -10,           /* the call is not valid in the handle's current state */
    SSCMA_ERR_NUMERIC = -11,         /* NaN or infinity where finite numbers are required */
    SSCMA_ERR_CANCELLED = -12,       /* a callback asked to stop */
    SSCMA_ERR_CONFIG = -13,          /* a configuration value is missing or invalid */
    SSCMA_ERR_INTERNAL = -14         /* a bug in libsscma: please report it with the message */
} sscma_status;

/*
 * Returns a constant, human-readable name for a status ("SSCMA_ERR_SHAPE: shape mismatch"). Never fails:
 * unknown values give "unknown status". The string is static; do not free it.
 */
SSCMA_API const char *sscma_status_string(sscma_status status);

/*
 * Returns the calling thread's message for its last failed call, or "" if none failed since the thread started or
 * since sscma_clear_error(). The message names what failed and where (a function, a file and line, a record).
 * The string belongs to the library and stays valid until the thread's next failing libsscma call.
 */
SSCMA_API const char *sscma_last_error(void);

/* Clears the calling thread's error message, so that sscma_last_error() returns "". */
SSCMA_API void sscma_clear_error(void);

/*
 * Returns the version of the library actually loaded, as "MAJOR.MINOR.PATCH". Compare with SSCMA_VERSION_STRING
 * from <sscma/version.h> to detect a header/library mismatch. The string is static.
 */
SSCMA_API const char *sscma_version(void);

/* Returns the loaded library's version as 10000 * major + 100 * minor + patch (see SSCMA_VERSION_NUMBER). */
SSCMA_API uint32_t sscma_version_number(void);

/* Log levels, in increasing severity. A context emits the messages at or above its level. */
typedef enum sscma_log_level {
    SSCMA_LOG_DEBUG = 0,
    SSCMA_LOG_INFO = 1,
    SSCMA_LOG_WARNING = 2,
    SSCMA_LOG_ERROR = 3,
    SSCMA_LOG_OFF = 4 /* as a level: emit nothing */
} sscma_log_level;

/*
 * Receives the log messages of a context. `message` is one line without a trailing newline, valid only during the
 * call. Called from the thread that logs (the caller's, a pool worker or a loader thread), one call at a time per
 * context; it must not call back into the same context.
 */
typedef void (*sscma_log_fn)(void *user_data, sscma_log_level level, const char *message);

/*
 * Allocator hooks. alloc returns `size_bytes` bytes aligned to `alignment` (a power of two, at most 4096), or NULL
 * when out of memory; free releases a block returned by alloc, with the same size. Both may be called from
 * the context's worker threads and loader threads at once, so they must be thread-safe. They serve the memory of
 * everything created from the context; the exceptions are third-party state that cannot take them (jansson's JSON
 * values, stb_image's and expat's short-lived buffers, zlib's): docs/architecture.md, "Memory".
 */
typedef void *(*sscma_alloc_fn)(void *user_data, size_t size_bytes, size_t alignment);
typedef void (*sscma_free_fn)(void *user_data, void *ptr, size_t size_bytes);

/* The context: threads, seed, logging and memory for everything created from it. Opaque. */
typedef struct sscma_context sscma_context;

/*
 * Options for sscma_context_create(). Fill with sscma_context_options_init() first, then change fields.
 * Fields are only ever appended; struct_size tells the library which fields the caller knows.
 */
typedef struct sscma_context_options {
    uint32_t struct_size;      /* set by sscma_context_options_init() */
    int32_t num_threads;       /* worker threads for kernels and loaders; 0 = number of online CPUs (default) */
    uint64_t seed;             /* seed of every random stream derived from the context (default 0) */
    sscma_log_level log_level; /* default SSCMA_LOG_WARNING */
    sscma_log_fn log_fn;       /* NULL = write "sscma: <level>: <message>" lines to stderr */
    void *log_user_data;
    sscma_alloc_fn alloc_fn;   /* both NULL = the C library's allocator; set both or neither */
    sscma_free_fn free_fn;
    void *alloc_user_data;
} sscma_context_options;

/*
 * Fills `options` with the defaults. `struct_size` is sizeof(sscma_context_options) as the caller was compiled;
 * only that many bytes are written, so programs built against older headers keep working.
 * Errors: SSCMA_ERR_INVALID_ARGUMENT if options is NULL or struct_size is smaller than the first version's size;
 * SSCMA_ERR_UNSUPPORTED if it is larger than this library's (a program built against a newer libsscma).
 */
SSCMA_API sscma_status sscma_context_options_init(sscma_context_options *options, size_t struct_size);

/*
 * Creates a context. `options` may be NULL for the defaults; it is copied and need not outlive the call.
 * On success *out owns the new context: release it with sscma_context_destroy(), before or after the objects
 * created from it (see there). Errors: SSCMA_ERR_INVALID_ARGUMENT (NULL out, bad struct_size, negative or absurd
 * num_threads, invalid log level, only one allocator hook), SSCMA_ERR_OUT_OF_MEMORY.
 */
SSCMA_API sscma_status sscma_context_create(const sscma_context_options *options, sscma_context **out);

/*
 * Gives up the caller's ownership of a context created by sscma_context_create(). NULL is a no-op. The context is
 * freed (its threads stopped, its memory returned through free_fn) when the last object created from it is
 * destroyed, so it may be destroyed before them, in any order and from any thread: those objects keep working.
 * The caller must not use `ctx` itself again. From this call on, messages of those objects go to stderr (at the
 * context's level), never to the caller's log_fn; the allocator hooks and alloc_user_data must stay valid until
 * the last object is destroyed.
 */
SSCMA_API void sscma_context_destroy(sscma_context *ctx);

/* Stores the context's worker thread count (after resolving 0 to the CPU count) in *out. Errors: NULL arguments. */
SSCMA_API sscma_status sscma_context_num_threads(const sscma_context *ctx, int32_t *out);

/* Stores the context's seed in *out. Errors: NULL arguments. */
SSCMA_API sscma_status sscma_context_seed(const sscma_context *ctx, uint64_t *out);

/*
 * Changes the context's log level; safe while other threads log through the context (a message already past the
 * level check may still be delivered). Errors: NULL ctx, level outside SSCMA_LOG_DEBUG..SSCMA_LOG_OFF.
 */
SSCMA_API sscma_status sscma_context_set_log_level(sscma_context *ctx, sscma_log_level level);

/*
 * Replaces the context's log callback; fn NULL restores the default (stderr). user_data is passed to fn as is and
 * is not owned. Safe while other threads log through the context: callbacks are called one at a time, always with
 * their own user_data, and once this returns the old callback is not running and is not called again (so its
 * user_data may be freed). A callback must not call back into the same context. Errors: NULL ctx.
 */
SSCMA_API sscma_status sscma_context_set_log_callback(sscma_context *ctx, sscma_log_fn fn, void *user_data);

/*
 * Sends one message to the context's log at `level` (dropped when below the context's level). For front ends and
 * plug-ins that want their lines in the same stream. Errors: NULL ctx or message, invalid level.
 */
SSCMA_API sscma_status sscma_context_log(sscma_context *ctx, sscma_log_level level, const char *message);

SSCMA_END_DECLS

#endif /* SSCMA_CORE_H */
