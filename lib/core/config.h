/*
 * Helpers for the JSON configs every module reads (jansson). Not installed.
 */
#ifndef SSCMA_LIB_CORE_CONFIG_H
#define SSCMA_LIB_CORE_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "sscma/core.h"

/*
 * Returns the first key of object `obj` that is not in `valid` (a NULL-terminated list), or NULL when every key is
 * known. When it returns a key, `list` receives the valid keys separated by ", " (truncated to list_size), for the
 * caller's error message.
 */
const char *sscma_config_unknown_key(json_t *obj, const char *const *valid, char *list, size_t list_size);

/*
 * json_dumps through the context: the text is a header-prefixed block (release it with sscma_mfree(ctx, text));
 * NULL when out of memory or when jansson cannot encode the value. ctx NULL: the C library's allocator
 * (internal.h). jansson's own objects stay on jansson's allocator (docs/architecture.md, "Memory").
 */
char *sscma_json_dumps(const sscma_context *ctx, const json_t *json, size_t flags);

#endif /* SSCMA_LIB_CORE_CONFIG_H */
