/* Files the unit tests write (fixture_files.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fixture_files.h"
#include "harness.h"

int fixture_tmpdir_make(char *dir, size_t size, const char *prefix)
{
    int n = snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
    if (n < 0 || (size_t)n >= size || mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

int fixture_tmpdir_remove(const char *dir)
{
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) != 0 ? -1 : 0;
}

void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int n_dims, const void *data, size_t bytes,
               bool gz)
{
    unsigned char head[16];
    for (int i = 0; i < 4; i++)
        head[i] = (unsigned char)(magic >> (24 - 8 * i));
    for (int d = 0; d < n_dims; d++)
        for (int i = 0; i < 4; i++)
            head[4 + 4 * d + i] = (unsigned char)(dims[d] >> (24 - 8 * i));
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (f == NULL) {
            test_fail(__FILE__, __LINE__, "cannot write %s", path);
            return;
        }
        gzwrite(f, head, (unsigned)(4 + 4 * n_dims));
        if (bytes)
            gzwrite(f, data, (unsigned)bytes);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            test_fail(__FILE__, __LINE__, "cannot write %s", path);
            return;
        }
        fwrite(head, 1, (size_t)(4 + 4 * n_dims), f);
        if (bytes)
            fwrite(data, 1, bytes, f);
        fclose(f);
    }
}

void make_dirs(const char *root, const char *const *subdirs, int n)
{
    char path[512];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s%s", root, subdirs[i]);
        mkdir(path, 0755);
    }
}

void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        buf[n] = '\0';
    fclose(f);
    *size = (size_t)n;
    return buf;
}

