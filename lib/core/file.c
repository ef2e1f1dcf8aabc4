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

sscma_status sscma_write_file_atomic(const char *path, const void *data, size_t size)
{
    SSCMA_ASSERT(path != NULL && (data != NULL || size == 0));
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
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return sscma_fail(SSCMA_ERR_IO, path, "write failed: %s", strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return sscma_fail(SSCMA_ERR_IO, path, "cannot flush the file: %s", strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return sscma_fail(SSCMA_ERR_IO, path, "cannot rename the temporary file into place: %s", strerror(e));
    }
    free(tmp);
    return SSCMA_OK;
}

sscma_status sscma_read_file(const sscma_context *ctx, const char *path, void **data, size_t *size)
{
    SSCMA_ASSERT(path != NULL && data != NULL && size != NULL);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sscma_fail(SSCMA_ERR_IO, path, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return sscma_fail(SSCMA_ERR_IO, path, "not a regular file");
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
