/*
 * A small FlatBuffers builder and a bounds-checked reader, written from the FlatBuffers binary format description:
 * little-endian scalars; a table starts with an int32 offset back to its vtable (uint16 vtable size, uint16 table
 * size, one uint16 offset per field, 0 = absent); references are uint32 offsets forward from where they are stored;
 * vectors and strings are a uint32 length followed by the elements (strings NUL-terminated).
 *
 * The builder writes back to front, as the reference implementation does: children before parents, so every
 * reference points forward. A reference (fb_ref) is the object's distance from the end of the buffer.
 */
#ifndef SSCMA_LIB_EXPORT_FLATBUF_H
#define SSCMA_LIB_EXPORT_FLATBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sscma/core.h"

typedef uint32_t fb_ref;

#define FB_MAX_FIELDS 16

typedef struct fb_builder {
    const sscma_context *ctx; /* the buffer's memory */
    uint8_t *buf;      /* data in buf[cap - size, cap) */
    size_t cap, size;
    size_t minalign;
    bool oom;
    /* the table being built */
    uint32_t field_pos[FB_MAX_FIELDS]; /* size after the field was written; 0 = absent */
    int32_t n_fields;
    size_t table_start;
} fb_builder;

void fb_init(fb_builder *b, const sscma_context *ctx);
void fb_free(fb_builder *b);

fb_ref fb_string(fb_builder *b, const char *s);
/* A vector of n elements of elem_size bytes (little-endian already), aligned to `align` (>= elem_size). */
fb_ref fb_vector(fb_builder *b, const void *elems, size_t n, size_t elem_size, size_t align);
fb_ref fb_vector_i32(fb_builder *b, const int32_t *v, size_t n);
fb_ref fb_vector_i64(fb_builder *b, const int64_t *v, size_t n);
fb_ref fb_vector_f32(fb_builder *b, const float *v, size_t n);
fb_ref fb_vector_refs(fb_builder *b, const fb_ref *refs, size_t n);

void fb_table_start(fb_builder *b);
void fb_field_u8(fb_builder *b, int32_t field, uint8_t v);
void fb_field_i32(fb_builder *b, int32_t field, int32_t v);
void fb_field_u32(fb_builder *b, int32_t field, uint32_t v);
void fb_field_f32(fb_builder *b, int32_t field, float v);
void fb_field_ref(fb_builder *b, int32_t field, fb_ref ref);
fb_ref fb_table_end(fb_builder *b);

/* Writes the root reference and the 4-byte file identifier; the finished bytes are (*data, *size), in b->buf. */
bool fb_finish(fb_builder *b, fb_ref root, const char identifier[4], const uint8_t **data, size_t *size);

/* ---- reader: every access checks bounds; a failed check sets ok = false and returns a neutral value ---- */

typedef struct fb_reader {
    const uint8_t *data;
    size_t size;
    bool ok;
    /* After a failed access: the end of the data it needed, past `size` when the buffer is cut short (0 if not). */
    size_t needed;
} fb_reader;

/* A table position (0 = absent). */
typedef size_t fb_table;

fb_table fb_root(fb_reader *r);
/* Field presence and values; `def` when absent. */
bool fb_has(fb_reader *r, fb_table t, int32_t field);
uint8_t fb_get_u8(fb_reader *r, fb_table t, int32_t field, uint8_t def);
int32_t fb_get_i32(fb_reader *r, fb_table t, int32_t field, int32_t def);
uint32_t fb_get_u32(fb_reader *r, fb_table t, int32_t field, uint32_t def);
float fb_get_f32(fb_reader *r, fb_table t, int32_t field, float def);
fb_table fb_get_table(fb_reader *r, fb_table t, int32_t field);
/* A vector field: *n elements of elem_size bytes at the returned position (0 and *n = 0 when absent). */
size_t fb_get_vector(fb_reader *r, fb_table t, int32_t field, size_t elem_size, uint32_t *n);
/* Element i of a vector of tables / of int32 / int64 / float at position v. */
fb_table fb_vector_table(fb_reader *r, size_t v, uint32_t i);
int32_t fb_vector_i32_at(fb_reader *r, size_t v, uint32_t i);
int64_t fb_vector_i64_at(fb_reader *r, size_t v, uint32_t i);
float fb_vector_f32_at(fb_reader *r, size_t v, uint32_t i);
/* A string field copied into buf (truncated, NUL-terminated); "" when absent. */
void fb_get_string(fb_reader *r, fb_table t, int32_t field, char *buf, size_t size);

#endif /* SSCMA_LIB_EXPORT_FLATBUF_H */
