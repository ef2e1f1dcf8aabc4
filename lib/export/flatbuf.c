/* FlatBuffers builder and bounds-checked reader (flatbuf.h). The builder's buffer comes from its context. */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "core/internal.h"
#include "export/flatbuf.h"

void fb_init(fb_builder *b, const sscma_context *ctx)
{
    memset(b, 0, sizeof *b);
    b->ctx = ctx;
    b->minalign = 1;
}

void fb_free(fb_builder *b)
{
    sscma_mfree(b->ctx, b->buf);
    b->buf = NULL;
    b->cap = b->size = 0;
}

/* Makes room for n more bytes at the front. */
static bool grow(fb_builder *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->cap - b->size >= n)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->size < n) {
        if (cap > ((size_t)1 << 31)) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *nb = sscma_malloc(b->ctx, cap);
    if (nb == NULL) {
        b->oom = true;
        return false;
    }
    if (b->size > 0)
        memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
    sscma_mfree(b->ctx, b->buf);
    b->buf = nb, b->cap = cap;
    return true;
}

static void push(fb_builder *b, const void *p, size_t n)
{
    if (!grow(b, n))
        return;
    b->size += n;
    memcpy(b->buf + b->cap - b->size, p, n);
}

static void pad(fb_builder *b, size_t n)
{
    static const uint8_t zeros[16] = {0};
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        push(b, zeros, k);
        n -= k;
    }
}

/* Pads so that after `extra` more bytes the size is a multiple of `align`. */
static void prep(fb_builder *b, size_t align, size_t extra)
{
    if (align > b->minalign)
        b->minalign = align;
    size_t p = (align - ((b->size + extra) % align)) % align;
    pad(b, p);
}

static void put_le(uint8_t *dst, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint8_t)(v >> (8 * i));
}

static void push_scalar(fb_builder *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    put_le(tmp, v, n);
    prep(b, n, 0);
    push(b, tmp, n);
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void push_ref(fb_builder *b, fb_ref ref)
{
    prep(b, 4, 0);
    push_scalar(b, (uint32_t)(b->size + 4 - ref), 4);
}

fb_ref fb_string(fb_builder *b, const char *s)
{
    size_t n = strlen(s);
    prep(b, 4, n + 1);
    pad(b, 1);
    push(b, s, n);
    push_scalar(b, (uint32_t)n, 4);
    return (fb_ref)b->size;
}

fb_ref fb_vector(fb_builder *b, const void *elems, size_t n, size_t elem_size, size_t align)
{
    prep(b, 4, elem_size * n);
    prep(b, align, elem_size * n);
    push(b, elems, elem_size * n);
    push_scalar(b, (uint32_t)n, 4);
    return (fb_ref)b->size;
}

static fb_ref vector_le(fb_builder *b, size_t n, size_t esize, uint64_t (*get)(const void *, size_t), const void *v)
{
    prep(b, 4, esize * n);
    prep(b, esize, esize * n);
    for (size_t i = n; i-- > 0;) {
        uint8_t tmp[8];
        put_le(tmp, get(v, i), esize);
        push(b, tmp, esize);
    }
    push_scalar(b, (uint32_t)n, 4);
    return (fb_ref)b->size;
}

static uint64_t get_i32(const void *v, size_t i)
{
    return (uint32_t)((const int32_t *)v)[i];
}

static uint64_t get_i64(const void *v, size_t i)
{
    return (uint64_t)((const int64_t *)v)[i];
}

static uint64_t get_f32(const void *v, size_t i)
{
    return f32_bits(((const float *)v)[i]);
}

fb_ref fb_vector_i32(fb_builder *b, const int32_t *v, size_t n)
{
    return vector_le(b, n, 4, get_i32, v);
}

fb_ref fb_vector_i64(fb_builder *b, const int64_t *v, size_t n)
{
    return vector_le(b, n, 8, get_i64, v);
}

fb_ref fb_vector_f32(fb_builder *b, const float *v, size_t n)
{
    return vector_le(b, n, 4, get_f32, v);
}

fb_ref fb_vector_refs(fb_builder *b, const fb_ref *refs, size_t n)
{
    prep(b, 4, 4 * n);
    for (size_t i = n; i-- > 0;)
        push_ref(b, refs[i]);
    push_scalar(b, (uint32_t)n, 4);
    return (fb_ref)b->size;
}

void fb_table_start(fb_builder *b)
{
    memset(b->field_pos, 0, sizeof b->field_pos);
    b->n_fields = 0;
    b->table_start = b->size;
}

static void mark(fb_builder *b, int32_t field)
{
    if (field < 0 || field >= FB_MAX_FIELDS) {
        b->oom = true; /* a programming error: refuse to produce a file */
        return;
    }
    b->field_pos[field] = (uint32_t)b->size;
    if (field + 1 > b->n_fields)
        b->n_fields = field + 1;
}

void fb_field_u8(fb_builder *b, int32_t field, uint8_t v)
{
    push_scalar(b, v, 1);
    mark(b, field);
}

void fb_field_i32(fb_builder *b, int32_t field, int32_t v)
{
    push_scalar(b, (uint32_t)v, 4);
    mark(b, field);
}

void fb_field_u32(fb_builder *b, int32_t field, uint32_t v)
{
    push_scalar(b, v, 4);
    mark(b, field);
}

void fb_field_f32(fb_builder *b, int32_t field, float v)
{
    push_scalar(b, f32_bits(v), 4);
    mark(b, field);
}

void fb_field_ref(fb_builder *b, int32_t field, fb_ref ref)
{
    push_ref(b, ref);
    mark(b, field);
}

fb_ref fb_table_end(fb_builder *b)
{
    push_scalar(b, 0, 4); /* the soffset to the vtable, patched below */
    fb_ref obj = (fb_ref)b->size;
    uint16_t table_size = (uint16_t)(obj - b->table_start);
    /* vtable: written in reverse (fields last to first, then object size, then vtable size) */
    for (int32_t f = b->n_fields; f-- > 0;) {
        uint16_t off = b->field_pos[f] ? (uint16_t)(obj - b->field_pos[f]) : 0;
        push_scalar(b, off, 2);
    }
    push_scalar(b, table_size, 2);
    push_scalar(b, (uint16_t)(4 + 2 * b->n_fields), 2);
    fb_ref vt = (fb_ref)b->size;
    if (!b->oom)
        put_le(b->buf + b->cap - obj, (uint32_t)(int32_t)(vt - obj), 4);
    return obj;
}

bool fb_finish(fb_builder *b, fb_ref root, const char identifier[4], const uint8_t **data, size_t *size)
{
    prep(b, b->minalign > 4 ? b->minalign : 4, 8);
    push(b, identifier, 4);
    push_ref(b, root);
    if (b->oom)
        return false;
    *data = b->buf + b->cap - b->size;
    *size = b->size;
    return true;
}

/* ---- reader ---- */

/* Marks the reader failed; `end` > size records that the data it needs lies past the end of the buffer. */
static void fail_at(fb_reader *r, uint64_t end)
{
    if (r->ok && end > r->size)
        r->needed = end > SIZE_MAX ? SIZE_MAX : (size_t)end;
    r->ok = false;
}

static uint64_t rd(fb_reader *r, size_t pos, size_t n)
{
    if (!r->ok || pos > r->size || r->size - pos < n) {
        fail_at(r, (uint64_t)pos + n);
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->data[pos + i] << (8 * i);
    return v;
}

fb_table fb_root(fb_reader *r)
{
    uint32_t off = (uint32_t)rd(r, 0, 4);
    if (r->ok && (off < 8 || off >= r->size))
        fail_at(r, off < 8 ? 0 : (uint64_t)off + 4);
    return r->ok ? off : 0;
}

/* Position of a field's value in table t, 0 when absent. */
static size_t field_pos(fb_reader *r, fb_table t, int32_t field)
{
    if (t == 0 || !r->ok)
        return 0;
    int64_t vt = (int64_t)t - (int32_t)(uint32_t)rd(r, t, 4);
    if (vt < 0 || (size_t)vt >= r->size) {
        fail_at(r, vt < 0 ? 0 : (uint64_t)vt + 4);
        return 0;
    }
    uint16_t vt_size = (uint16_t)rd(r, (size_t)vt, 2);
    uint16_t slot = (uint16_t)(4 + 2 * field);
    if (slot + 2 > vt_size)
        return 0;
    uint16_t off = (uint16_t)rd(r, (size_t)vt + slot, 2);
    return off == 0 ? 0 : t + off;
}

bool fb_has(fb_reader *r, fb_table t, int32_t field)
{
    return field_pos(r, t, field) != 0;
}

uint8_t fb_get_u8(fb_reader *r, fb_table t, int32_t field, uint8_t def)
{
    size_t p = field_pos(r, t, field);
    return p ? (uint8_t)rd(r, p, 1) : def;
}

int32_t fb_get_i32(fb_reader *r, fb_table t, int32_t field, int32_t def)
{
    size_t p = field_pos(r, t, field);
    return p ? (int32_t)(uint32_t)rd(r, p, 4) : def;
}

uint32_t fb_get_u32(fb_reader *r, fb_table t, int32_t field, uint32_t def)
{
    size_t p = field_pos(r, t, field);
    return p ? (uint32_t)rd(r, p, 4) : def;
}

float fb_get_f32(fb_reader *r, fb_table t, int32_t field, float def)
{
    size_t p = field_pos(r, t, field);
    if (!p)
        return def;
    uint32_t u = (uint32_t)rd(r, p, 4);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Follows the uoffset stored at pos. */
static size_t deref(fb_reader *r, size_t pos)
{
    uint32_t off = (uint32_t)rd(r, pos, 4);
    if (!r->ok)
        return 0;
    if (off == 0 || pos + off >= r->size) {
        fail_at(r, off == 0 ? 0 : (uint64_t)pos + off + 4);
        return 0;
    }
    return pos + off;
}

fb_table fb_get_table(fb_reader *r, fb_table t, int32_t field)
{
    size_t p = field_pos(r, t, field);
    return p ? deref(r, p) : 0;
}

size_t fb_get_vector(fb_reader *r, fb_table t, int32_t field, size_t elem_size, uint32_t *n)
{
    *n = 0;
    size_t p = field_pos(r, t, field);
    if (!p)
        return 0;
    size_t v = deref(r, p);
    uint32_t count = (uint32_t)rd(r, v, 4);
    if (!r->ok || (uint64_t)count * elem_size > r->size - v - 4) {
        fail_at(r, (uint64_t)v + 4 + (uint64_t)count * elem_size);
        return 0;
    }
    *n = count;
    return v + 4;
}

fb_table fb_vector_table(fb_reader *r, size_t v, uint32_t i)
{
    return deref(r, v + 4 * (size_t)i);
}

int32_t fb_vector_i32_at(fb_reader *r, size_t v, uint32_t i)
{
    return (int32_t)(uint32_t)rd(r, v + 4 * (size_t)i, 4);
}

int64_t fb_vector_i64_at(fb_reader *r, size_t v, uint32_t i)
{
    return (int64_t)rd(r, v + 8 * (size_t)i, 8);
}

float fb_vector_f32_at(fb_reader *r, size_t v, uint32_t i)
{
    uint32_t u = (uint32_t)rd(r, v + 4 * (size_t)i, 4);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void fb_get_string(fb_reader *r, fb_table t, int32_t field, char *buf, size_t size)
{
    uint32_t n = 0;
    size_t p = fb_get_vector(r, t, field, 1, &n);
    size_t k = n < size - 1 ? n : size - 1;
    if (p && r->ok)
        memcpy(buf, r->data + p, k);
    else
        k = 0;
    buf[k] = '\0';
}
