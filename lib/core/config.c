/* JSON helpers (core/config.h): text through the context's allocator. */
#include "core/config.h"


#include "core/internal.h"

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
