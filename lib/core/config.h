/*
 * Helpers for the JSON configs every module reads (jansson). Not installed.
 */
#ifndef SSCMA_LIB_CORE_CONFIG_H
#define SSCMA_LIB_CORE_CONFIG_H

#include <jansson.h>
#include <stddef.h>

/*
 * Returns the first key of object `obj` that is not in `valid` (a NULL-terminated list), or NULL when every key is
 * known. When it returns a key, `list` receives the valid keys separated by ", " (truncated to list_size), for the
 * caller's error message.
 */
const char *sscma_config_unknown_key(json_t *obj, const char *const *valid, char *list, size_t list_size);

#endif /* SSCMA_LIB_CORE_CONFIG_H */
