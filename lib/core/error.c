/* Status names and the per-thread error message. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

/* The only mutable state outside handles: one message per thread (the micro runtime has one thread and keeps a
 * shorter message). */
#if defined(SSCMA_MICRO)
static char last_error[256];
#else
static _Thread_local char last_error[1024];
#endif

const char *sscma_status_string(sscma_status status)
{
    switch (status) {
    case SSCMA_OK: return "SSCMA_OK: success";
    case SSCMA_ERR_INVALID_ARGUMENT: return "SSCMA_ERR_INVALID_ARGUMENT: invalid argument";
    case SSCMA_ERR_OUT_OF_MEMORY: return "SSCMA_ERR_OUT_OF_MEMORY: out of memory";
    case SSCMA_ERR_IO: return "SSCMA_ERR_IO: input/output error";
    case SSCMA_ERR_FORMAT: return "SSCMA_ERR_FORMAT: malformed data";
    case SSCMA_ERR_UNSUPPORTED: return "SSCMA_ERR_UNSUPPORTED: not supported";
    case SSCMA_ERR_SHAPE: return "SSCMA_ERR_SHAPE: shape mismatch";
    case SSCMA_ERR_DTYPE: return "SSCMA_ERR_DTYPE: wrong element type";
    case SSCMA_ERR_OVERFLOW: return "SSCMA_ERR_OVERFLOW: size overflow";
    case SSCMA_ERR_NOT_FOUND: return "SSCMA_ERR_NOT_FOUND: not found";
    case SSCMA_ERR_STATE: return "SSCMA_ERR_STATE: invalid state for this call";
    case SSCMA_ERR_NUMERIC: return "SSCMA_ERR_NUMERIC: non-finite value";
    case SSCMA_ERR_CANCELLED: return "SSCMA_ERR_CANCELLED: cancelled";
    case SSCMA_ERR_CONFIG: return "SSCMA_ERR_CONFIG: invalid configuration";
    case SSCMA_ERR_INTERNAL: return "SSCMA_ERR_INTERNAL: internal error";
    }
    return "unknown status";
}

const char *sscma_last_error(void)
{
    return last_error;
}

void sscma_clear_error(void)
{
    last_error[0] = '\0';
}

sscma_status sscma_vfail(sscma_status status, const char *where, const char *fmt, va_list args)
{
    int n = 0;
    if (where != NULL && where[0] != '\0')
        n = snprintf(last_error, sizeof last_error, "%s: ", where);
    if (n < 0 || (size_t)n >= sizeof last_error)
        n = 0;
    vsnprintf(last_error + n, sizeof last_error - (size_t)n, fmt, args);
    return status;
}

sscma_status sscma_fail(sscma_status status, const char *where, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    sscma_vfail(status, where, fmt, args);
    va_end(args);
    return status;
}
