/*
 * Checkpoints written byte by byte (docs/file-formats.md), for the tests that feed the reader what the library would
 * never write: a header edited after the fact, or built from scratch, with every CRC right so that only the edit is
 * wrong. Public API only (jansson and zlib).
 */
#ifndef SSCMA_TESTS_FIXTURE_CKPT_H
#define SSCMA_TESTS_FIXTURE_CKPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Writes a checkpoint: magic, version 1, flags, the header (serialised), its CRC, the blobs, the file CRC, the end
 * marker. Returns 0, or -1 when the file cannot be written. */
int ckpt_fixture_write(const char *path, json_t *header, const void *blobs, size_t blobs_bytes, uint32_t flags);

/*
 * Reads the checkpoint src, calls edit on its parsed header (which it may change in place) and writes the result to
 * dst with the same flags and blobs. Returns 0, or -1 when src is not a readable checkpoint or dst cannot be written.
 */
int ckpt_fixture_rewrite(const char *src, const char *dst, void (*edit)(json_t *header, void *user), void *user);

#endif /* SSCMA_TESTS_FIXTURE_CKPT_H */
