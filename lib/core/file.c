/* File helpers shared by every module (core/file.h): atomic writes, whole-file reads, CRC-32. */
#define _XOPEN_SOURCE 700 /* realpath */

#include "core/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/internal.h"

uint32_t sscma_crc32(uint32_t crc, const void *data, size_t size)
{
    const unsigned char *p = data;
    while (size > 0) {
        uInt chunk = size > (1u << 30) ? (1u << 30) : (uInt)size;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        size -= chunk;
    }
    return crc;
}

/*
 * Writes `size` bytes to a new temporary file beside `path` (mkstemp "<path>.tmpXXXXXX"), flushed to disk; *tmp
 * receives its name (malloc'd). On failure nothing is left behind.
 */
static sscma_status stage_file(const char *path, const void *data, size_t size, char **tmp_out)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (tmp == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate a file name");
    snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sscma_status st = sscma_fail(SSCMA_ERR_IO, path, "cannot create a temporary file beside it: %s",
                                     strerror(errno));
        free(tmp);
        return st;
    }
    const unsigned char *p = data;
    size_t left = size;
    const char *failed = NULL;
    while (left > 0 && failed == NULL) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            failed = "write failed";
        } else {
            p += w;
            left -= (size_t)w;
        }
    }
    if (failed == NULL && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
        failed = "cannot flush the file";
    int e = errno;
    close(fd);
    if (failed != NULL) {
        unlink(tmp);
        free(tmp);
        return sscma_fail(SSCMA_ERR_IO, path, "%s: %s", failed, strerror(e));
    }
    *tmp_out = tmp;
    return SSCMA_OK;
}

sscma_status sscma_write_file_atomic(const char *path, const void *data, size_t size)
{
    SSCMA_ASSERT(path != NULL && (data != NULL || size == 0));
    return sscma_write_files_atomic(1, &path, &data, &size);
}

sscma_status sscma_write_files_atomic(int32_t count, const char *const *paths, const void *const *data,
                                      const size_t *sizes)
{
    SSCMA_ASSERT(count >= 1 && count <= SSCMA_ATOMIC_FILES_MAX && paths != NULL && data != NULL && sizes != NULL);
    char *tmp[SSCMA_ATOMIC_FILES_MAX] = {NULL};
    sscma_status st = SSCMA_OK;
    for (int32_t i = 0; i < count && st == SSCMA_OK; i++)
        st = stage_file(paths[i], data[i], sizes[i], &tmp[i]);
    for (int32_t i = 0; i < count && st == SSCMA_OK; i++) {
        if (rename(tmp[i], paths[i]) != 0) /* same directory: fails only on a permission or I/O error */
            st = sscma_fail(SSCMA_ERR_IO, paths[i], "cannot rename the temporary file into place: %s",
                            strerror(errno));
        else {
            free(tmp[i]);
            tmp[i] = NULL;
        }
    }
    for (int32_t i = 0; i < count; i++) {
        if (tmp[i] != NULL)
            unlink(tmp[i]);
        free(tmp[i]);
    }
    return st;
}

static const char *file_kind(mode_t mode)
{
    return S_ISFIFO(mode) ? "a FIFO (named pipe)" : S_ISDIR(mode) ? "a directory" : S_ISCHR(mode) ? "a character device"
           : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket" : "not a regular file";
}

sscma_status sscma_open_regular(const char *path, FILE **out)
{
    return sscma_open_regular_as(path, NULL, out);
}

sscma_status sscma_open_regular_as(const char *path, const char *what, FILE **out)
{
    SSCMA_ASSERT(path != NULL && out != NULL);
    const char *sep = what != NULL ? " " : "", *name = what != NULL ? what : "";
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* O_NONBLOCK: opening a FIFO does not wait */
    if (fd < 0)
        return sscma_fail(SSCMA_ERR_IO, path, "cannot open%s%s: %s", sep, name, strerror(errno));
    struct stat sb;
    memset(&sb, 0, sizeof sb);
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        sscma_status st = sscma_fail(SSCMA_ERR_IO, path, "%s%s%s, not a regular file: refused", name,
                                     what != NULL ? " is " : "", file_kind(sb.st_mode));
        close(fd);
        return st;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        int e = errno;
        close(fd);
        return sscma_fail(SSCMA_ERR_IO, path, "cannot open%s%s: %s", sep, name, strerror(e));
    }
    *out = f;
    return SSCMA_OK;
}

sscma_status sscma_read_file(const sscma_context *ctx, const char *path, void **data, size_t *size)
{
    SSCMA_ASSERT(path != NULL && data != NULL && size != NULL);
    FILE *f = NULL;
    sscma_status st = sscma_open_regular(path, &f);
    if (st != SSCMA_OK)
        return st;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        fclose(f);
        return sscma_fail(SSCMA_ERR_IO, path, "cannot read its size: %s", strerror(errno));
    }
    size_t n = (size_t)sb.st_size;
    unsigned char *buf = sscma_malloc(ctx, n);
    if (buf == NULL) {
        fclose(f);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %zu bytes to read it", n);
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        sscma_mfree(ctx, buf);
        return sscma_fail(SSCMA_ERR_IO, path, "short read (%zu of %zu bytes)", got, n);
    }
    *data = buf;
    *size = n;
    return SSCMA_OK;
}

/* The real path of the directory part of `path` (its parent when it has no slash: "."), into a malloc'd string. */
static char *real_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return realpath(".", NULL);
    if (slash == path)
        return realpath("/", NULL);
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir == NULL)
        return NULL;
    memcpy(dir, path, n);
    dir[n] = '\0';
    char *real = realpath(dir, NULL);
    free(dir);
    return real;
}

bool sscma_file_in_dir(const char *path, const char *dir)
{
    struct stat st;
    if (path == NULL || dir == NULL || lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    char *parent = real_parent(path), *want = realpath(dir, NULL);
    bool same = parent != NULL && want != NULL && strcmp(parent, want) == 0;
    free(parent);
    free(want);
    return same;
}

/* mkstemp's suffix: six letters or digits. */
static bool is_mkstemp_suffix(const char *s)
{
    if (strlen(s) != 6)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

int sscma_remove_stale_temporaries(const char *dir, bool (*is_ours)(const char *name))
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *tmp = strstr(e->d_name, ".tmp");
        const char *last = tmp;
        while (last != NULL && (tmp = strstr(last + 1, ".tmp")) != NULL)
            last = tmp; /* the last ".tmp": names may contain the text too */
        if (last == NULL || !is_mkstemp_suffix(last + 4))
            continue;
        char name[256];
        size_t n = (size_t)(last - e->d_name);
        if (n == 0 || n >= sizeof name)
            continue;
        memcpy(name, e->d_name, n);
        name[n] = '\0';
        if (!is_ours(name))
            continue;
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path && lstat(path, &st) == 0 &&
            S_ISREG(st.st_mode) && unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
