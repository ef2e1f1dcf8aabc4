/* JSON config helpers (core/config.h). */
#include "core/config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

const char *sscma_config_unknown_key(json_t *obj, const char *const *valid, char *list, size_t list_size)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        bool known = false;
        for (const char *const *k = valid; *k != NULL && !known; k++)
            known = strcmp(*k, key) == 0;
        if (known)
            continue;
        size_t n = 0;
        if (list_size > 0)
            list[0] = '\0';
        for (const char *const *k = valid; *k != NULL && n < list_size; k++)
            n += (size_t)snprintf(list + n, list_size - n, "%s%s", k == valid ? "" : ", ", *k);
        return key;
    }
    return NULL;
}

char *sscma_json_dumps(const sscma_context *ctx, const json_t *json, size_t flags)
{
    size_t n = json_dumpb(json, NULL, 0, flags);
    if (n == 0)
        return NULL;
    char *text = sscma_malloc(ctx, n + 1);
    if (text == NULL)
        return NULL;
    if (json_dumpb(json, text, n, flags) != n) {
        sscma_mfree(ctx, text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}
