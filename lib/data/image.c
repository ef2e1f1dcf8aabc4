/* Image decoding through stb_image (Debian's libstb): JPEG, PNG, BMP, with a pixel bound checked first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "data/data.h"

/* Decodes into pixels from ctx (sscma_malloc), or from the C allocator when `sys` (sscma_image_load). */
static sscma_status decode(const sscma_context *ctx, bool sys, const char *path, int64_t max_pixels,
                                 int channels, uint8_t **pixels, int64_t *h, int64_t *w, int64_t *c)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sscma_fail(SSCMA_ERR_IO, path, "cannot open: %s", strerror(errno));
    int iw = 0, ih = 0, ic = 0;
    if (!stbi_info_from_file(f, &iw, &ih, &ic)) {
        const char *why = stbi_failure_reason();
        fclose(f);
        return sscma_fail(SSCMA_ERR_FORMAT, path, "not a readable JPEG, PNG or BMP image (%s)", why ? why : "unknown");
    }
    if (iw <= 0 || ih <= 0) {
        fclose(f);
        return sscma_fail(SSCMA_ERR_FORMAT, path, "image of %d x %d pixels", iw, ih);
    }
    if ((int64_t)iw * ih > max_pixels) {
        fclose(f);
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, path, "%d x %d pixels is over the limit of %lld (max_pixels)", iw, ih,
                          (long long)max_pixels);
    }
    int want = channels == 1 || channels == 3 ? channels : (ic == 1 || ic == 2 ? 1 : 3);
    int gw = 0, gh = 0, gc = 0;
    uint8_t *data = stbi_load_from_file(f, &gw, &gh, &gc, want);
    fclose(f);
    if (data == NULL) {
        const char *why = stbi_failure_reason();
        return sscma_fail(SSCMA_ERR_FORMAT, path, "cannot decode: %s (truncated or corrupt?)", why ? why : "unknown");
    }
    size_t bytes = (size_t)gw * (size_t)gh * (size_t)want;
    /* stb_image allocates with the C allocator inside libstb (not built here): its buffer lives only until this copy */
    *pixels = sys ? sscma_sys_malloc(bytes) : sscma_malloc(ctx, bytes);
    if (*pixels == NULL) {
        stbi_image_free(data);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %zu bytes", bytes);
    }
    memcpy(*pixels, data, bytes);
    stbi_image_free(data);
    *h = gh, *w = gw, *c = want;
    return SSCMA_OK;
}

sscma_status sscma_image_decode(const sscma_context *ctx, const char *path, int64_t max_pixels, int channels,
                              uint8_t **pixels, int64_t *h, int64_t *w, int64_t *c)
{
    return decode(ctx, false, path, max_pixels, channels, pixels, h, w, c);
}

sscma_status sscma_image_load(const char *path, int64_t max_pixels, int channels, uint8_t **pixels, int64_t *h,
                              int64_t *w, int64_t *c)
{
    return decode(NULL, true, path, max_pixels, channels, pixels, h, w, c);
}
