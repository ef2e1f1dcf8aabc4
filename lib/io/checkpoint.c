/*
 * Checkpoint files. Layout (little-endian):
 *   "SSCMACKP" | u32 version (1) | u32 flags (bit 0: zlib blobs) | u64 header bytes | header (UTF-8 JSON) |
 *   u32 CRC32 of the header | blobs | u32 CRC32 of every byte before it | "SSCMAEND"
 * Header: {"format": "sscma-checkpoint", "library": "0.1.0", "config": {...}, "state": {...}, "tensors": [
 *   {"name", "dtype": "f32"|"i32"|"i8"|"u8", "shape": [...], "offset", "bytes", "stored_bytes", "crc32"}, ...]}
 * offset is relative to the first blob byte; crc32 covers the stored (possibly compressed) bytes.
 */
#define _POSIX_C_SOURCE 200809L

#include "io/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/config.h"
#include "core/file.h"
#include "sscma/version.h"

static size_t elem_size(sscma_dtype d)
{
    size_t s = 0;
    sscma_dtype_size(d, &s);
    return s;
}

static const char *dtype_key(sscma_dtype d)
{
    return sscma_dtype_name(d);
}

static bool dtype_from_key(const char *s, sscma_dtype *out)
{
    static const sscma_dtype all[] = {SSCMA_DTYPE_F32, SSCMA_DTYPE_I8, SSCMA_DTYPE_U8, SSCMA_DTYPE_I32};
    for (size_t i = 0; s != NULL && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, sscma_dtype_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

sscma_status sscma_ckpt_write(const sscma_context *ctx, const char *path, json_t *config, json_t *state,
                              const sscma_ckpt_entry *entries, int32_t count, bool compress)
{
    SSCMA_ASSERT(ctx != NULL && path != NULL && count >= 0 && (count == 0 || entries != NULL));
    sscma_status st = SSCMA_OK;
    json_t *header = json_object(), *list = json_array();
    unsigned char **stored = sscma_calloc(ctx, (size_t)(count > 0 ? count : 1), sizeof *stored);
    size_t *stored_bytes = sscma_calloc(ctx, (size_t)(count > 0 ? count : 1), sizeof *stored_bytes);
    unsigned char *file = NULL;
    char *text = NULL;
    if (header == NULL || list == NULL || stored == NULL || stored_bytes == NULL) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot build the checkpoint header");
        goto done;
    }
    size_t offset = 0;
    for (int32_t i = 0; i < count; i++) {
        const sscma_ckpt_entry *e = &entries[i];
        size_t bytes = elem_size(e->dtype);
        json_t *shape = json_array();
        for (int32_t d = 0; d < e->rank; d++) {
            bytes *= (size_t)e->dims[d];
            json_array_append_new(shape, json_integer(e->dims[d]));
        }
        const unsigned char *blob = e->data;
        size_t blob_bytes = bytes;
        if (compress && bytes > 0) {
            uLongf cap = compressBound((uLong)bytes);
            stored[i] = sscma_malloc(ctx, cap);
            if (stored[i] == NULL || compress2(stored[i], &cap, e->data, (uLong)bytes, 6) != Z_OK) {
                json_decref(shape);
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot compress tensor '%s'", e->name);
                goto done;
            }
            blob = stored[i];
            blob_bytes = cap;
        }
        stored_bytes[i] = blob_bytes;
        json_t *item = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "name", e->name, "dtype", dtype_key(e->dtype),
                                 "shape", shape, "offset", (json_int_t)offset, "bytes", (json_int_t)bytes,
                                 "stored_bytes", (json_int_t)blob_bytes, "crc32",
                                 (json_int_t)sscma_crc32(0, blob, blob_bytes));
        if (item == NULL || json_array_append_new(list, item) != 0) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot describe tensor '%s'", e->name);
            goto done;
        }
        offset += blob_bytes;
    }
    json_object_set_new(header, "format", json_string("sscma-checkpoint"));
    json_object_set_new(header, "library", json_string(SSCMA_VERSION_STRING));
    json_object_set(header, "config", config != NULL ? config : json_null());
    json_object_set(header, "state", state != NULL ? state : json_object());
    json_object_set(header, "tensors", list);
    text = sscma_json_dumps(ctx, header, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot serialise the header");
        goto done;
    }
    size_t hlen = strlen(text);
    size_t total = 8 + 4 + 4 + 8 + hlen + 4 + offset + 4 + 8;
    file = sscma_malloc(ctx, total);
    if (file == NULL) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %zu bytes for the checkpoint", total);
        goto done;
    }
    unsigned char *p = file;
    memcpy(p, SSCMA_CKPT_MAGIC, 8), p += 8;
    put_u32(p, SSCMA_CKPT_VERSION), p += 4;
    put_u32(p, compress ? SSCMA_CKPT_FLAG_ZLIB : 0), p += 4;
    put_u32(p, (uint32_t)hlen), put_u32(p + 4, (uint32_t)((uint64_t)hlen >> 32)), p += 8;
    memcpy(p, text, hlen), p += hlen;
    put_u32(p, sscma_crc32(0, text, hlen)), p += 4;
    for (int32_t i = 0; i < count; i++) {
        const void *blob = stored[i] != NULL ? (const void *)stored[i] : entries[i].data;
        if (stored_bytes[i] > 0)
            memcpy(p, blob, stored_bytes[i]);
        p += stored_bytes[i];
    }
    put_u32(p, sscma_crc32(0, file, (size_t)(p - file))), p += 4;
    memcpy(p, SSCMA_CKPT_END, 8);
    st = sscma_write_file_atomic(path, file, total);
done:
    for (int32_t i = 0; stored != NULL && i < count; i++)
        sscma_mfree(ctx, stored[i]);
    sscma_mfree(ctx, stored);
    sscma_mfree(ctx, stored_bytes);
    sscma_mfree(ctx, file);
    sscma_mfree(ctx, text);
    json_decref(list);
    json_decref(header);
    return st;
}

void sscma_ckpt_close(sscma_ckpt *ck)
{
    if (ck == NULL)
        return;
    json_decref(ck->header);
    sscma_mfree(ck->ctx, ck->blobs);
    sscma_mfree(ck->ctx, ck->path);
    memset(ck, 0, sizeof *ck);
}

/* The largest tensor a checkpoint may declare (64 TiB): far above any model, far below 64-bit overflow. */
#define MAX_TENSOR_BYTES ((uint64_t)1 << 46)
/* zlib's deflate expands at most 1032-fold (a run of 258 bytes in 2 bits): more declared bytes cannot be present. */
#define MAX_DEFLATE_RATIO 1032u

/*
 * The bytes a shape of `dtype` holds, overflow-checked: false when a dimension is not an integer in [0, 2^40] or the
 * product of the non-zero dimensions exceeds MAX_TENSOR_BYTES (whatever their order, a zero dimension included).
 */
static bool shape_bytes(json_t *shape, sscma_dtype dtype, uint64_t *out)
{
    uint64_t nonzero = elem_size(dtype);
    bool empty = false;
    size_t d;
    json_t *dim;
    json_array_foreach(shape, d, dim)
    {
        json_int_t v = json_integer_value(dim);
        if (!json_is_integer(dim) || v < 0 || v > ((json_int_t)1 << 40))
            return false;
        if (v == 0)
            empty = true;
        else if ((uint64_t)v > MAX_TENSOR_BYTES / nonzero) /* nonzero >= 1: the product would pass the limit */
            return false;
        else
            nonzero *= (uint64_t)v;
    }
    *out = empty ? 0 : nonzero;
    return true;
}

/*
 * Checks every entry of the "tensors" list against the blobs (avail bytes at blobs): name, dtype and shape valid and
 * unique, the declared bytes equal to the shape's and present (stored as is, or within deflate's ratio), the stored
 * range inside the blobs, the CRC. Messages name the file and the entry.
 */
static sscma_status check_entries(const char *path, json_t *tensors, uint32_t flags, const unsigned char *blobs,
                                  size_t avail)
{
    json_t *seen = json_object();
    if (seen == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot index the tensor names");
    sscma_status st = SSCMA_OK;
#define BAD(...)                                                                                               \
    do {                                                                                                       \
        st = sscma_fail(SSCMA_ERR_FORMAT, path, __VA_ARGS__);                                                  \
        goto done;                                                                                             \
    } while (0)
    size_t i;
    json_t *item;
    json_array_foreach(tensors, i, item)
    {
        json_t *joff = json_object_get(item, "offset"), *jstored = json_object_get(item, "stored_bytes");
        json_t *jbytes = json_object_get(item, "bytes");
        json_int_t off = json_integer_value(joff), stored = json_integer_value(jstored);
        json_int_t bytes = json_integer_value(jbytes);
        const char *name = json_string_value(json_object_get(item, "name"));
        sscma_dtype dtype = (sscma_dtype)0;
        json_t *shape = json_object_get(item, "shape");
        if (name == NULL || !json_is_array(shape) || json_array_size(shape) > SSCMA_TENSOR_MAX_RANK ||
            !dtype_from_key(json_string_value(json_object_get(item, "dtype")), &dtype))
            BAD("tensor entry %zu: missing or invalid name, dtype or shape", i);
        json_t *first = json_object_get(seen, name);
        if (first != NULL)
            BAD("tensor '%s' (entry %zu): a second entry of that name (the first is entry %lld)", name, i,
                (long long)json_integer_value(first));
        if (json_object_set_new(seen, name, json_integer((json_int_t)i)) != 0) {
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot index the tensor names");
            goto done;
        }
        uint64_t expect = 0;
        if (!shape_bytes(shape, dtype, &expect))
            BAD("tensor '%s' (entry %zu): invalid shape: a dimension outside [0, 2^40] or more than 2^46 bytes", name,
                i);
        if (!json_is_integer(joff) || !json_is_integer(jstored) || !json_is_integer(jbytes) || off < 0 ||
            stored < 0 || bytes < 0 || (uint64_t)bytes != expect ||
            (!(flags & SSCMA_CKPT_FLAG_ZLIB) && stored != bytes) || (uint64_t)off > avail ||
            (uint64_t)stored > avail - (uint64_t)off)
            BAD("tensor '%s' (entry %zu): offset %lld and sizes %lld/%lld do not fit its shape or the file", name, i,
                (long long)off, (long long)stored, (long long)bytes);
        if ((flags & SSCMA_CKPT_FLAG_ZLIB) && (uint64_t)bytes / MAX_DEFLATE_RATIO > (uint64_t)stored)
            BAD("tensor '%s' (entry %zu): %lld bytes cannot come from %lld compressed bytes", name, i,
                (long long)bytes, (long long)stored);
        uint32_t crc = (uint32_t)json_integer_value(json_object_get(item, "crc32"));
        if (sscma_crc32(0, blobs + off, (size_t)stored) != crc)
            BAD("tensor '%s' (entry %zu): CRC mismatch (its data is corrupt)", name, i);
    }
#undef BAD
done:
    json_decref(seen);
    return st;
}

sscma_status sscma_ckpt_read(const sscma_context *ctx, const char *path, sscma_ckpt *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *file = NULL;
    size_t size = 0;
    sscma_status st = sscma_read_file(ctx, path, (void **)&file, &size);
    if (st != SSCMA_OK)
        return st;
    const size_t fixed = 8 + 4 + 4 + 8;
#define BAD(...)                                                                                               \
    do {                                                                                                       \
        st = sscma_fail(SSCMA_ERR_FORMAT, path, __VA_ARGS__);                                                  \
        goto fail;                                                                                             \
    } while (0)
    if (size == 0)
        BAD("the file is empty");
    if (size < fixed && memcmp(file, SSCMA_CKPT_MAGIC, size < 8 ? size : 8) == 0) /* a cut checkpoint */
        BAD("truncated at byte %zu: the fixed header alone is %zu bytes", size, fixed);
    if (size < fixed || memcmp(file, SSCMA_CKPT_MAGIC, 8) != 0)
        BAD("not a libsscma checkpoint (no SSCMACKP magic at offset 0)");
    uint32_t version = get_u32(file + 8), flags = get_u32(file + 12);
    if (version != SSCMA_CKPT_VERSION)
        BAD("checkpoint format version %u; this library reads version %u", version, SSCMA_CKPT_VERSION);
    if (flags & ~SSCMA_CKPT_FLAG_ZLIB)
        BAD("unknown flags 0x%x at offset 12", flags);
    uint64_t hlen = get_u64(file + 16);
    if (hlen > size || fixed + hlen + 4 + 12 > size)
        BAD("truncated: the header says %llu bytes but the file has %zu", (unsigned long long)hlen, size);
    if (size < 12 || memcmp(file + size - 8, SSCMA_CKPT_END, 8) != 0)
        BAD("truncated: no SSCMAEND marker at the end (%zu bytes)", size);
    const unsigned char *htext = file + fixed;
    if (sscma_crc32(0, htext, (size_t)hlen) != get_u32(htext + hlen))
        BAD("header CRC mismatch at offset %zu", (size_t)(fixed + hlen));
    json_error_t err;
    out->header = json_loadb((const char *)htext, (size_t)hlen, 0, &err);
    if (out->header == NULL)
        BAD("header JSON: line %d, column %d: %s", err.line, err.column, err.text);
    out->tensors = json_object_get(out->header, "tensors");
    if (!json_is_array(out->tensors))
        BAD("header has no \"tensors\" list");
    size_t blob_start = fixed + (size_t)hlen + 4, blob_end = size - 12;
    st = check_entries(path, out->tensors, flags, file + blob_start, blob_end - blob_start);
    if (st != SSCMA_OK)
        goto fail;
    /* last, the whole-file CRC: catches what the checks above cannot name (flags, the trailer) */
    if (sscma_crc32(0, file, size - 12) != get_u32(file + size - 12))
        BAD("CRC mismatch: the file is corrupt (CRC32 of the first %zu bytes does not match)", size - 12);
#undef BAD
    out->blobs_bytes = blob_end - blob_start;
    out->blobs = sscma_malloc(ctx, out->blobs_bytes ? out->blobs_bytes : 1);
    if (out->blobs == NULL) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot keep %zu bytes of tensors", out->blobs_bytes);
        goto fail;
    }
    memcpy(out->blobs, file + blob_start, out->blobs_bytes);
    out->path = sscma_mstrdup(ctx, path);
    out->flags = flags;
    out->ctx = ctx;
    sscma_mfree(ctx, file);
    return SSCMA_OK;
fail:
    sscma_mfree(ctx, file);
    json_decref(out->header);
    memset(out, 0, sizeof *out);
    return st;
}

static void format_shape(char *buf, size_t size, int32_t rank, const int64_t *dims)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int32_t i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

sscma_status sscma_ckpt_get(const sscma_ckpt *ck, const char *name, sscma_dtype dtype, int32_t rank,
                            const int64_t *dims, void *dst, size_t dst_bytes)
{
    SSCMA_ASSERT(ck != NULL && ck->tensors != NULL && name != NULL);
    size_t i;
    json_t *item;
    json_array_foreach(ck->tensors, i, item)
    {
        if (strcmp(json_string_value(json_object_get(item, "name")), name) != 0)
            continue;
        sscma_dtype got = (sscma_dtype)0; /* verified when the file was read */
        dtype_from_key(json_string_value(json_object_get(item, "dtype")), &got);
        json_t *shape = json_object_get(item, "shape");
        int64_t have[SSCMA_TENSOR_MAX_RANK];
        int32_t have_rank = (int32_t)json_array_size(shape);
        bool same = got == dtype && have_rank == rank;
        for (int32_t d = 0; d < have_rank; d++) {
            have[d] = (int64_t)json_integer_value(json_array_get(shape, (size_t)d));
            same = same && d < rank && have[d] == dims[d];
        }
        if (!same) {
            char a[200], b[200];
            format_shape(a, sizeof a, have_rank, have);
            format_shape(b, sizeof b, rank, dims);
            return sscma_fail(SSCMA_ERR_SHAPE, ck->path, "tensor '%s' is %s%s; the model expects %s%s", name,
                              sscma_dtype_name(got), a, sscma_dtype_name(dtype), b);
        }
        size_t bytes = (size_t)json_integer_value(json_object_get(item, "bytes"));
        size_t stored = (size_t)json_integer_value(json_object_get(item, "stored_bytes"));
        size_t off = (size_t)json_integer_value(json_object_get(item, "offset"));
        if (dst == NULL) /* check only */
            return SSCMA_OK;
        if (bytes != dst_bytes)
            return sscma_fail(SSCMA_ERR_SHAPE, ck->path, "tensor '%s' has %zu bytes; expected %zu", name, bytes,
                              dst_bytes);
        if (ck->flags & SSCMA_CKPT_FLAG_ZLIB) {
            uLongf out_len = (uLongf)bytes;
            if (bytes > 0 && (uncompress(dst, &out_len, ck->blobs + off, (uLong)stored) != Z_OK || out_len != bytes))
                return sscma_fail(SSCMA_ERR_FORMAT, ck->path, "tensor '%s': cannot decompress its data", name);
        } else if (bytes > 0) {
            memcpy(dst, ck->blobs + off, bytes);
        }
        return SSCMA_OK;
    }
    return sscma_fail(SSCMA_ERR_NOT_FOUND, ck->path, "no tensor '%s' in the checkpoint", name);
}

sscma_status sscma_ckpt_list_add(sscma_ckpt_list *list, const char *name, sscma_dtype dtype, int32_t rank,
                                 const int64_t *dims, const void *data)
{
    SSCMA_ASSERT(list != NULL && list->ctx != NULL && name != NULL && rank >= 0 && rank <= SSCMA_TENSOR_MAX_RANK);
    if (list->count == list->cap) {
        int32_t cap = list->cap ? 2 * list->cap : 64;
        sscma_ckpt_entry *items = sscma_mrealloc(list->ctx, list->items, (size_t)cap * sizeof *items);
        if (items == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "checkpoint", "cannot list %d tensors", (int)cap);
        list->items = items, list->cap = cap;
    }
    sscma_ckpt_entry *e = &list->items[list->count];
    memset(e, 0, sizeof *e);
    char *copy = sscma_malloc(list->ctx, strlen(name) + 1);
    if (copy == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "checkpoint", "cannot copy the name '%s'", name);
    strcpy(copy, name);
    e->name = copy;
    e->dtype = dtype;
    e->rank = rank;
    for (int32_t i = 0; i < rank; i++)
        e->dims[i] = dims[i];
    e->data = data;
    list->count++;
    return SSCMA_OK;
}

void sscma_ckpt_list_free(sscma_ckpt_list *list)
{
    for (int32_t i = 0; i < list->count; i++)
        sscma_mfree(list->ctx, (char *)list->items[i].name);
    sscma_mfree(list->ctx, list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}
