/* Checkpoints written byte by byte: see fixture_ckpt.h. */
#include "fixture_ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int ckpt_fixture_write(const char *path, json_t *header, const void *blobs, size_t blobs_bytes, uint32_t flags)
{
    char *text = json_dumps(header, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return -1;
    size_t hlen = strlen(text), total = 24 + hlen + 4 + blobs_bytes + 4 + 8;
    unsigned char *file = malloc(total), *p = file;
    if (file == NULL) {
        free(text);
        return -1;
    }
    memcpy(p, "SSCMACKP", 8), p += 8;
    put_u32(p, 1), p += 4;
    put_u32(p, flags), p += 4;
    put_u32(p, (uint32_t)hlen), put_u32(p + 4, 0), p += 8;
    memcpy(p, text, hlen), p += hlen;
    put_u32(p, (uint32_t)crc32(0, (const Bytef *)text, (uInt)hlen)), p += 4;
    if (blobs_bytes > 0)
        memcpy(p, blobs, blobs_bytes);
    p += blobs_bytes;
    put_u32(p, (uint32_t)crc32(0, file, (uInt)(p - file))), p += 4;
    memcpy(p, "SSCMAEND", 8);
    FILE *f = fopen(path, "wb");
    int rc = f != NULL && fwrite(file, 1, total, f) == total ? 0 : -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    free(file);
    free(text);
    return rc;
}

int ckpt_fixture_rewrite(const char *src, const char *dst, void (*edit)(json_t *header, void *user), void *user)
{
    FILE *f = fopen(src, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *file = size > 36 ? malloc((size_t)size) : NULL;
    int rc = file != NULL && fread(file, 1, (size_t)size, f) == (size_t)size ? 0 : -1;
    fclose(f);
    size_t hlen = rc == 0 ? (size_t)get_u32(file + 16) : 0;
    if (rc != 0 || memcmp(file, "SSCMACKP", 8) != 0 || 24 + hlen + 4 + 12 > (size_t)size) {
        free(file);
        return -1;
    }
    json_t *header = json_loadb((const char *)file + 24, hlen, 0, NULL);
    if (header == NULL) {
        free(file);
        return -1;
    }
    edit(header, user);
    size_t blob_start = 24 + hlen + 4;
    rc = ckpt_fixture_write(dst, header, file + blob_start, (size_t)size - 12 - blob_start, get_u32(file + 12));
    json_decref(header);
    free(file);
    return rc;
}
