/*
 * Files the unit tests write: a temporary folder per test binary, IDX files, text files, and whole files read back.
 * Public API only (harness.h), so both the shared-library tests and the internal ones link it.
 */
#ifndef SSCMA_TESTS_FIXTURE_FILES_H
#define SSCMA_TESTS_FIXTURE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Makes /tmp/<prefix>-XXXXXX into dir (size bytes); 0 on success, -1 (dir unusable) on failure. */
int fixture_tmpdir_make(char *dir, size_t size, const char *prefix);

/* Removes the folder and everything in it; 0 on success. */
int fixture_tmpdir_remove(const char *dir);

/*
 * Writes an IDX file: magic, dims, then `bytes` of data (possibly fewer than the dims announce), gzip-compressed if
 * `gz`. A file that cannot be created fails the current case.
 */
void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int n_dims, const void *data, size_t bytes,
               bool gz);

/* Makes root + subdirs[i] for each of the n suffixes, in order ("" is root itself; parents first). */
void make_dirs(const char *root, const char *const *subdirs, int n);

/* Writes `text` to `path` (nothing when the file cannot be created). */
void write_text(const char *path, const char *text);

/* The whole file, NUL-terminated (malloc'd; NULL when it cannot be read); *size is its length. */
char *read_all(const char *path, size_t *size);

#endif /* SSCMA_TESTS_FIXTURE_FILES_H */
