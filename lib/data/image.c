/* Image decoding through stb_image (Debian's libstb): JPEG, PNG, BMP, with a pixel bound checked first. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "core/file.h"
#include "data/data.h"

static uint32_t be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The dimensions a PNG, BMP or JPEG header declares, read before stb_image does: stb refuses some very large
 * images in its header check and then reports only "unknown image type", where the user needs "too large".
 * false when the header is not one of those or is cut short.
 */
static bool declared_size(FILE *f, int64_t *w, int64_t *h)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[32];
    size_t n = fread(b, 1, 26, f);
    bool found = false;
    if (n >= 24 && memcmp(b, png, 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0) {
        *w = be32(b + 16), *h = be32(b + 20);
        found = true;
    } else if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
        int32_t bw = (int32_t)(b[18] | b[19] << 8 | b[20] << 16 | (uint32_t)b[21] << 24);
        int32_t bh = (int32_t)(b[22] | b[23] << 8 | b[24] << 16 | (uint32_t)b[25] << 24);
        *w = bw < 0 ? -(int64_t)bw : bw, *h = bh < 0 ? -(int64_t)bh : bh;
        found = true;
    } else if (n >= 4 && b[0] == 0xff && b[1] == 0xd8) { /* JPEG: walk the segments to the first start-of-frame */
        long at = 2;
        for (int segments = 0; segments < 4096 && fseek(f, at, SEEK_SET) == 0 && fread(b, 1, 9, f) == 9;
             segments++) {
            unsigned m = b[1];
            if (b[0] != 0xff)
                break;
            if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
                *h = be16(b + 5), *w = be16(b + 7);
                found = true;
                break;
            }
            at += m == 0xff ? 1 : 2 + (long)be16(b + 2);
        }
    }
    rewind(f);
    return found;
}

sscma_status sscma_image_decode(const sscma_context *ctx, const char *path, int64_t max_pixels, int channels,
                                uint8_t **pixels, int64_t *h, int64_t *w, int64_t *c)
{
    FILE *f = NULL;
    sscma_status st = sscma_open_regular(path, &f); /* a FIFO would block stb's reads forever */
    if (st != SSCMA_OK)
        return st;
    int64_t dw = 0, dh = 0;
    /* each side fits in 32 bits: compare by division, the product could overflow (found by fuzz_image) */
    if (declared_size(f, &dw, &dh) && dw > 0 && dh > 0 && dw > max_pixels / dh) {
        fclose(f);
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, path, "%lld x %lld pixels is over the limit of %lld (max_pixels)",
                          (long long)dw, (long long)dh, (long long)max_pixels);
    }
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
    *pixels = sscma_malloc(ctx, bytes);
    if (*pixels == NULL) {
        stbi_image_free(data);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %zu bytes", bytes);
    }
    memcpy(*pixels, data, bytes);
    stbi_image_free(data);
    *h = gh, *w = gw, *c = want;
    return SSCMA_OK;
}
