/*
 * Unit tests of the file helpers every module writes through (lib/core/file.h): atomic single and multi-file
 * writes, the work-dir ownership test, the clean-up of stale temporaries; and the C array export that relies on the
 * multi-file write (issue 24: a failed export removed the previous good header).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sscma/sscma.h>

#include "core/file.h"
#include "fixture_files.h"
#include "harness.h"

static char tmpdir[64];

/* The whole file as a NUL-terminated string in buf ("" when missing). */
static const char *read_text(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

/* Entries of tmpdir whose name contains ".tmp": what a failed write must not leave. */
static int temporaries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, ".tmp") != NULL;
    if (d != NULL)
        closedir(d);
    return n;
}

static void multi_file_write_is_all_or_nothing(void)
{
    char a[128], b[128], missing[160], buf[64];
    snprintf(a, sizeof a, "%s/pair.h", tmpdir);
    snprintf(b, sizeof b, "%s/pair.c", tmpdir);
    snprintf(missing, sizeof missing, "%s/no-such-dir/pair.c", tmpdir);
    const char *paths[2] = {a, b};
    const void *v1[2] = {"h1", "c1"};
    const size_t sizes[2] = {2, 2};
    CHECK_OK(sscma_write_files_atomic(2, paths, v1, sizes));
    CHECK_STR_EQ(read_text(a, buf, sizeof buf), "h1");
    CHECK_STR_EQ(read_text(b, buf, sizeof buf), "c1");
    /* the second file cannot be written: the first keeps its previous content, no temporary stays */
    const char *bad[2] = {a, missing};
    const void *v2[2] = {"h2", "c2"};
    CHECK_FAILS(sscma_write_files_atomic(2, bad, v2, sizes), SSCMA_ERR_IO, "no-such-dir/pair.c");
    CHECK_STR_EQ(read_text(a, buf, sizeof buf), "h1");
    CHECK_INT_EQ(temporaries(tmpdir), 0);
    const void *v3[2] = {"h3", "c3"};
    CHECK_OK(sscma_write_files_atomic(2, paths, v3, sizes));
    CHECK_STR_EQ(read_text(a, buf, sizeof buf), "h3");
    CHECK_STR_EQ(read_text(b, buf, sizeof buf), "c3");
    unlink(a);
    unlink(b);
}

static bool ckpt_name(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".ckpt") == 0;
}

static void ownership_and_stale_temporaries(void)
{
    char dir[128], other[128], path[256], link[256];
    snprintf(dir, sizeof dir, "%s/wd", tmpdir);
    snprintf(other, sizeof other, "%s/other", tmpdir);
    mkdir(dir, 0755);
    mkdir(other, 0755);
    snprintf(path, sizeof path, "%s/epoch_1.ckpt", dir);
    write_text(path, "x");
    CHECK(sscma_file_in_dir(path, dir));
    CHECK(!sscma_file_in_dir(path, other));
    snprintf(path, sizeof path, "%s/../wd/epoch_1.ckpt", other); /* the same file by another spelling */
    CHECK(sscma_file_in_dir(path, dir));
    snprintf(link, sizeof link, "%s/epoch_2.ckpt", dir); /* a link in the dir to a file outside it */
    snprintf(path, sizeof path, "%s/outside.ckpt", other);
    write_text(path, "x");
    CHECK(symlink(path, link) == 0);
    CHECK(!sscma_file_in_dir(link, dir));
    snprintf(path, sizeof path, "%s/missing.ckpt", dir);
    CHECK(!sscma_file_in_dir(path, dir));
    CHECK(!sscma_file_in_dir(dir, tmpdir)); /* a directory is not a file of ours */

    const char *ours[] = {"epoch_3.ckpt.tmpaB3dE9", "best_x.ckpt.tmp000000"};
    const char *not_ours[] = {"log.jsonl.tmpaB3dE9", "epoch_3.ckpt.tmpaB3d", "epoch_3.ckpt.tmpaB3dE9x",
                              "epoch_3.ckpt.tmp-B3dE9"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, ours[i]);
        write_text(path, "x");
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, not_ours[i]);
        write_text(path, "x");
    }
    snprintf(link, sizeof link, "%s/link.ckpt.tmpZZZZZZ", dir);
    snprintf(path, sizeof path, "%s/outside.ckpt", other);
    CHECK(symlink(path, link) == 0);
    CHECK_INT_EQ(sscma_remove_stale_temporaries(dir, ckpt_name), 2);
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, not_ours[i]);
        CHECK(access(path, F_OK) == 0);
    }
    struct stat st;
    CHECK(lstat(link, &st) == 0 && access(path, F_OK) == 0);
}

/* A C array export whose source cannot be written keeps the previous header (it used to remove it). */
static void c_array_export_keeps_the_previous_pair_on_failure(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    sscma_model *m = NULL;
    sscma_qmodel *q = NULL;
    CHECK_OK(sscma_model_create(ctx,
                                "{\"type\": \"PFLD\", \"input_size\": [32, 32],"
                                " \"backbone\": {\"type\": \"PfldMobileNetV2\", \"inchannel\": 1},"
                                " \"head\": {\"type\": \"PFLDhead\", \"num_point\": 2}}",
                                &m));
    CHECK_OK(sscma_qmodel_from_model(m, &q));
    char h[128], c[128], missing[160];
    snprintf(h, sizeof h, "%s/model.h", tmpdir);
    snprintf(c, sizeof c, "%s/model.c", tmpdir);
    snprintf(missing, sizeof missing, "%s/no-such-dir/model.c", tmpdir);
    CHECK_OK(sscma_export_c_array(q, h, c, "model"));
    static char before[1 << 12], after[1 << 12];
    read_text(h, before, sizeof before);
    CHECK(strstr(before, "extern const unsigned char model[];") != NULL);
    CHECK_FAILS(sscma_export_c_array(q, h, missing, "other"), SSCMA_ERR_IO, "no-such-dir/model.c");
    CHECK_STR_EQ(read_text(h, after, sizeof after), before);
    CHECK_INT_EQ(temporaries(tmpdir), 0);
    unlink(h);
    unlink(c);
    sscma_qmodel_destroy(q);
    sscma_model_destroy(m);
    sscma_context_destroy(ctx);
}

static void write_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* Issue 24: a FIFO given as an image or a file to read blocked forever; now it is refused at once, named. */
static void special_files_are_refused(void)
{
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/pipe.png", tmpdir);
    CHECK(mkfifo(fifo, 0600) == 0);
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    sscma_tensor *img = NULL;
    CHECK_FAILS(sscma_image_read(ctx, fifo, 0, &img), SSCMA_ERR_IO, "FIFO");
    CHECK_STR_CONTAINS(sscma_last_error(), "pipe.png");
    void *data = NULL;
    size_t size = 0;
    CHECK_FAILS(sscma_read_file(ctx, fifo, &data, &size), SSCMA_ERR_IO, "FIFO");
    CHECK_FAILS(sscma_image_read(ctx, tmpdir, 0, &img), SSCMA_ERR_IO, "directory");
    unlink(fifo);
    sscma_context_destroy(ctx);
}

/*
 * Issue 24: a 20000 x 20000 PNG was reported as "unknown image type" (stb_image refuses it in its header check);
 * the header's size is read first, so the message says it is too large, for PNG, BMP and JPEG.
 */
static void oversized_images_are_named_too_large(void)
{
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    char path[128];
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                        0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 2, 0, 0, 0};
    static const unsigned char bmp[30] = {'B', 'M', [14] = 40, [18] = 0x30, 0x75, 0, 0, [22] = 0xd0, 0x8a, 0xff,
                                          0xff, [26] = 1, [28] = 24};
    /* sides near 2^32: their product overflows 64-bit arithmetic (fuzz_image found it) */
    static const unsigned char huge[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                         0xf7, 0, 0, 3, 0xef, 0xff, 0xff, 0xff, 8, 2, 0, 0, 0};
    /* SOI, an APP0 segment of 16 bytes, then SOF0 declaring 30000 x 40000 */
    static const unsigned char jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0,
                                        0, 0xff, 0xc0, 0, 11, 8, 0x75, 0x30, 0x9c, 0x40, 1, 1, 0x11, 0};
    const struct {
        const char *name, *needle;
        const unsigned char *bytes;
        size_t n;
    } cases[] = {{"big.png", "20000 x 20000 pixels is over the limit", png, sizeof png},
                 {"big.bmp", "30000 x 30000 pixels is over the limit", bmp, sizeof bmp},
                 {"big.jpg", "40000 x 30000 pixels is over the limit", jpg, sizeof jpg},
                 {"huge.png", "4143972355 x 4026531839 pixels is over the limit", huge, sizeof huge}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, cases[i].name);
        write_bytes(path, cases[i].bytes, cases[i].n);
        sscma_tensor *img = NULL;
        CHECK_FAILS(sscma_image_read(ctx, path, 0, &img), SSCMA_ERR_UNSUPPORTED, cases[i].needle);
        unlink(path);
    }
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(multi_file_write_is_all_or_nothing),
        TEST_CASE(ownership_and_stale_temporaries),
        TEST_CASE(c_array_export_keeps_the_previous_pair_on_failure),
        TEST_CASE(special_files_are_refused),
        TEST_CASE(oversized_images_are_named_too_large),
    };
    if (fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-files") != 0)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    return fixture_tmpdir_remove(tmpdir) == 0 ? rc : 1;
}
