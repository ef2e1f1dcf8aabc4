/*
 * File helpers every module shares (not installed): atomic writes, whole-file reads, CRC-32. They sit in core so
 * that a module which only writes a file (datasets, exporters, the trainer's logs) needs nothing from the
 * checkpoint container. A file read is a block from the context (sscma_malloc); the short-lived path strings the
 * helpers build for themselves (and realpath's) use the C allocator inside core.
 */
#ifndef SSCMA_LIB_CORE_FILE_H
#define SSCMA_LIB_CORE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sscma/core.h"

/* CRC-32 (zlib's polynomial) of a buffer, continuing from crc (0 to start). */
uint32_t sscma_crc32(uint32_t crc, const void *data, size_t size);

/*
 * Writes `size` bytes to path atomically: a temporary file beside it (mkstemp), fsync, rename. Nothing is left
 * behind on failure, and an existing file at path is either untouched or wholly replaced. Errors name the path.
 */
sscma_status sscma_write_file_atomic(const char *path, const void *data, size_t size);

/*
 * Writes several files that belong together (a C array's .h and .c): every one goes to its temporary first, and
 * only when all are complete on disk are they renamed into place, so a failure while writing leaves every previous
 * file as it was and no temporary behind. (A rename itself failing midway, which takes a permission or I/O error
 * in the files' own directory, can still leave the first files renamed.) At most SSCMA_ATOMIC_FILES_MAX files.
 */
#define SSCMA_ATOMIC_FILES_MAX 8
sscma_status sscma_write_files_atomic(int32_t count, const char *const *paths, const void *const *data,
                                      const size_t *sizes);

/*
 * Opens `path` for reading only if it is a regular file: a FIFO, a device or a directory is refused with
 * SSCMA_ERR_IO naming the path and what it is, so a reader never blocks on a pipe nobody writes. The check is on the
 * opened descriptor (O_NONBLOCK, then fstat), not a separate stat. *out: the stream, fclose() it.
 */
sscma_status sscma_open_regular(const char *path, FILE **out);

/*
 * The same, with what the file is for in the messages ("cannot open the index: No such file or directory", "the
 * index is a FIFO (named pipe), not a regular file: refused"); what NULL: sscma_open_regular's messages.
 */
sscma_status sscma_open_regular_as(const char *path, const char *what, FILE **out);

/* Reads a whole regular file into a header-prefixed block of ctx (*data, release with sscma_mfree(ctx, *data)).
 * Errors name the path. */
sscma_status sscma_read_file(const sscma_context *ctx, const char *path, void **data, size_t *size);

/*
 * true when `path` is a regular file (not a symbolic link) whose directory is `dir` once both are resolved (real
 * paths, symbolic links followed): the test libsscma applies before it removes or replaces a file it believes it
 * wrote in a work dir, so a path read from a checkpoint or a config can never point it anywhere else.
 */
bool sscma_file_in_dir(const char *path, const char *dir);

/*
 * Removes the temporaries that sscma_write_file_atomic leaves when the process is killed between mkstemp and
 * rename: in directory `dir`, the regular files named "<name>.tmpXXXXXX" (six characters from mkstemp's set) for
 * which is_ours(<name>) is true. Returns how many were removed; errors are ignored (nothing else is touched).
 */
int sscma_remove_stale_temporaries(const char *dir, bool (*is_ours)(const char *name));

#endif /* SSCMA_LIB_CORE_FILE_H */
