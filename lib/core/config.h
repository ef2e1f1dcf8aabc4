/*
 * JSON helpers every module shares (jansson); the config schema reader is core/schema.h. Not installed.
 */
#ifndef SSCMA_LIB_CORE_CONFIG_H
#define SSCMA_LIB_CORE_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "sscma/core.h"

/*
 * json_dumps through the context: the text is a header-prefixed block (release it with sscma_mfree(ctx, text));
 * NULL when out of memory or when jansson cannot encode the value. ctx NULL: the C library's allocator
 * (internal.h). jansson's own objects stay on jansson's allocator (docs/architecture.md, "Memory").
 */
char *sscma_json_dumps(const sscma_context *ctx, const json_t *json, size_t flags);

#endif /* SSCMA_LIB_CORE_CONFIG_H */
