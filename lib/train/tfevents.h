/*
 * TensorBoard event files (events.out.tfevents.<time>.<host>) with scalar and image summaries: TFRecord framing (length, masked
 * CRC-32C of the length, the Event message, masked CRC-32C of the message), Events written with protobuf-c from
 * lib/train/tfevents.proto. Internal: the trainer writes one beside log.jsonl.
 */
#ifndef SSCMA_LIB_TRAIN_TFEVENTS_H
#define SSCMA_LIB_TRAIN_TFEVENTS_H

#include <stdint.h>

#include "sscma/core.h"

typedef struct sscma_tfevents sscma_tfevents;

/* Creates dir/events.out.tfevents.<unix time>.<host> and writes its file_version record. */
sscma_status sscma_tfevents_open(const sscma_context *ctx, const char *dir, sscma_tfevents **out);

/* Appends one Event at `step` with the n scalars tags[i] = values[i], flushed. */
sscma_status sscma_tfevents_scalars(sscma_tfevents *tf, int64_t step, double wall_time, const char *const *tags,
                                    const float *values, int n);

/*
 * Appends one Event at `step` with an image summary: `tag` and the PNG file's `size` bytes, whose width, height and
 * colour type are read from its IHDR chunk. Errors: SSCMA_ERR_FORMAT (not a PNG: no signature or IHDR), SSCMA_ERR_IO.
 */
sscma_status sscma_tfevents_image(sscma_tfevents *tf, int64_t step, double wall_time, const char *tag,
                                  const void *png, size_t size);

/* The file's path (owned by tf). */
const char *sscma_tfevents_path(const sscma_tfevents *tf);

void sscma_tfevents_close(sscma_tfevents *tf);

/* CRC-32C (Castagnoli) of n bytes, and TFRecord's masking of it. */
uint32_t sscma_crc32c(const void *data, size_t n);
uint32_t sscma_crc32c_mask(uint32_t crc);

#endif /* SSCMA_LIB_TRAIN_TFEVENTS_H */
