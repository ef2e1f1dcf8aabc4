/*
 * The checkpoint container (docs/file-formats.md): a JSON header naming every tensor, then the raw little-endian
 * blobs, each with its CRC32, and a CRC32 of the whole file. Written atomically (temp file in the same directory,
 * fsync, rename). The model, and later the optimizer, scheduler and trainer, each store their tensors under a
 * namespace ("model/", "optim/", ...) and their small state in the header's "state" object.
 */
#ifndef SSCMA_LIB_IO_CHECKPOINT_H
#define SSCMA_LIB_IO_CHECKPOINT_H

#include <jansson.h>
#include <stdbool.h>

#include "core/internal.h"
#include "sscma/tensor.h"

#define SSCMA_CKPT_MAGIC "SSCMACKP"
#define SSCMA_CKPT_END "SSCMAEND"
#define SSCMA_CKPT_VERSION 1u
#define SSCMA_CKPT_FLAG_ZLIB 0x1u

/* One tensor to write: name, dtype, shape and data (borrowed until the write returns). */
typedef struct sscma_ckpt_entry {
    const char *name;
    sscma_dtype dtype;
    int32_t rank;
    int64_t dims[SSCMA_TENSOR_MAX_RANK];
    const void *data;
} sscma_ckpt_entry;

/*
 * Writes a checkpoint atomically: header fields "config" (copied in, may be NULL) and "state" (may be NULL), and the
 * entries. compress deflates each blob with zlib. Errors name the path.
 */
sscma_status sscma_ckpt_write(const sscma_context *ctx, const char *path, json_t *config, json_t *state,
                              const sscma_ckpt_entry *entries, int32_t count, bool compress);

/* A growing list of entries whose names it owns (for writers that gather tensors from several modules); its memory
 * comes from ctx: start with `sscma_ckpt_list list = {.ctx = ctx};`. */
typedef struct sscma_ckpt_list {
    const sscma_context *ctx;
    sscma_ckpt_entry *items;
    int32_t count, cap;
} sscma_ckpt_list;

/* Appends an entry (the name is copied, the data borrowed). Errors: SSCMA_ERR_OUT_OF_MEMORY. */
sscma_status sscma_ckpt_list_add(sscma_ckpt_list *list, const char *name, sscma_dtype dtype, int32_t rank,
                                 const int64_t *dims, const void *data);
void sscma_ckpt_list_free(sscma_ckpt_list *list);

/* A checkpoint read into memory and fully verified (magic, version, CRCs, offsets, sizes). */
typedef struct sscma_ckpt {
    const sscma_context *ctx;
    char *path;
    json_t *header; /* owned */
    json_t *tensors; /* borrowed from header: the array */
    unsigned char *blobs;
    size_t blobs_bytes;
    uint32_t flags;
} sscma_ckpt;

sscma_status sscma_ckpt_read(const sscma_context *ctx, const char *path, sscma_ckpt *out);
void sscma_ckpt_close(sscma_ckpt *ck);

/*
 * Finds tensor `name` and copies it into dst (dst_bytes), checking dtype and shape against the expected ones; the
 * message names the file and the tensor. SSCMA_ERR_NOT_FOUND when absent. dst NULL checks without copying.
 */
sscma_status sscma_ckpt_get(const sscma_ckpt *ck, const char *name, sscma_dtype dtype, int32_t rank,
                            const int64_t *dims, void *dst, size_t dst_bytes);

#endif /* SSCMA_LIB_IO_CHECKPOINT_H */
