/*
 * Unit tests of data.h. Class folders (CustomDataset): PNG, JPEG and BMP in sub-folders, corrupt and truncated images,
 * class lists, pixel limits.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sscma/sscma.h>
#include <stb_image_write.h>

#include "data_fixtures.h"
#include "harness.h"

/* A class-folder dataset: cats (3 PNG, one grey), dogs (2 JPEG + 1 BMP in a sub-folder), and a corrupt file. */
static void make_folders(const char *root)
{
    char path[512];
    mkdir(root, 0755);
    snprintf(path, sizeof path, "%s/cats", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/dogs", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/dogs/more", root);
    mkdir(path, 0755);
    unsigned char rgb[20 * 30 * 3], grey[12 * 12];
    for (int i = 0; i < 20 * 30 * 3; i++)
        rgb[i] = (unsigned char)(i * 7);
    for (int i = 0; i < 144; i++)
        grey[i] = (unsigned char)(i);
    snprintf(path, sizeof path, "%s/cats/a.png", root);
    stbi_write_png(path, 30, 20, 3, rgb, 30 * 3);
    snprintf(path, sizeof path, "%s/cats/b.PNG", root);
    stbi_write_png(path, 30, 20, 3, rgb, 30 * 3);
    snprintf(path, sizeof path, "%s/cats/c_grey.png", root);
    stbi_write_png(path, 12, 12, 1, grey, 12);
    snprintf(path, sizeof path, "%s/cats/notes.txt", root);
    FILE *f = fopen(path, "w");
    fputs("not an image", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/dogs/x.jpg", root);
    stbi_write_jpg(path, 30, 20, 3, rgb, 90);
    snprintf(path, sizeof path, "%s/dogs/y.jpeg", root);
    stbi_write_jpg(path, 30, 20, 3, rgb, 90);
    snprintf(path, sizeof path, "%s/dogs/more/z.bmp", root);
    stbi_write_bmp(path, 30, 20, 3, rgb);
}

static void class_folders_and_their_defects(void)
{
    char root[128], cfg[300], path[512];
    snprintf(root, sizeof root, "%s/folders", tmpdir);
    make_folders(root);
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\"}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    int64_t n = 0;
    int32_t classes = 0, label = -1;
    const char *name = NULL;
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 6); /* notes.txt is not an image */
    CHECK_OK(sscma_dataset_num_classes(ds, &classes));
    CHECK_INT_EQ(classes, 2);
    CHECK_OK(sscma_dataset_class_name(ds, 0, &name));
    CHECK_STR_EQ(name, "cats");
    CHECK_FAILS(sscma_dataset_class_name(ds, 2, &name), SSCMA_ERR_INVALID_ARGUMENT, "class 2 is outside 0..1");
    sscma_sample *s = NULL;
    sscma_tensor *img = NULL;
    int64_t h = 0, w = 0, c = 0;
    CHECK_OK(sscma_dataset_get(ds, 2, &s)); /* sorted: a.png, b.PNG, c_grey.png */
    CHECK_OK(sscma_sample_image(s, &img));
    sscma_tensor_dim(img, 0, &h), sscma_tensor_dim(img, 1, &w), sscma_tensor_dim(img, 2, &c);
    CHECK(h == 12 && w == 12 && c == 1);
    sscma_sample_destroy(s);
    CHECK_OK(sscma_dataset_get(ds, 5, &s)); /* dogs, sorted: more/z.bmp, x.jpg, y.jpeg */
    CHECK_OK(sscma_sample_label(s, &label));
    CHECK_INT_EQ(label, 1);
    CHECK_OK(sscma_sample_image(s, &img));
    sscma_tensor_dim(img, 0, &h), sscma_tensor_dim(img, 1, &w), sscma_tensor_dim(img, 2, &c);
    CHECK(h == 20 && w == 30 && c == 3);
    sscma_sample_destroy(s);
    int64_t problems = -1;
    const char *report = NULL;
    CHECK_OK(sscma_dataset_check(ds, &problems, &report));
    CHECK_INT_EQ(problems, 0);
    CHECK_STR_EQ(report, "");
    sscma_dataset_destroy(ds);

    /* a corrupt image and a truncated one: get fails naming the file; check lists both */
    snprintf(path, sizeof path, "%s/cats/d_corrupt.png", root);
    FILE *f = fopen(path, "wb");
    fputs("\x89PNG\r\n\x1a\n garbage garbage", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/dogs/w_truncated.jpg", root);
    unsigned char rgb[40 * 40 * 3];
    for (int i = 0; i < 40 * 40 * 3; i++)
        rgb[i] = (unsigned char)(i * 13);
    stbi_write_jpg(path, 40, 40, 3, rgb, 95);
    FILE *t = fopen(path, "r+b");
    fseek(t, 0, SEEK_END);
    long size = ftell(t);
    fclose(t);
    CHECK(truncate(path, size / 3) == 0);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_FAILS(sscma_dataset_get(ds, 3, &s), SSCMA_ERR_FORMAT, "d_corrupt.png: not a readable");
    CHECK_OK(sscma_dataset_check(ds, &problems, &report));
    CHECK_INT_EQ(problems, 2);
    CHECK(report != NULL && strstr(report, "sample 3: ") != NULL && strstr(report, "d_corrupt.png") != NULL);
    CHECK(report != NULL && strstr(report, "w_truncated.jpg") != NULL);
    sscma_dataset_destroy(ds);
    remove(path);
    snprintf(path, sizeof path, "%s/cats/d_corrupt.png", root);
    remove(path);

    /* decompression bombs: an image over max_pixels is refused before its pixels are decoded */
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\", \"max_pixels\": 500}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_FAILS(sscma_dataset_get(ds, 0, &s), SSCMA_ERR_UNSUPPORTED, "30 x 20 pixels is over the limit of 500");
    CHECK_OK(sscma_dataset_get(ds, 2, &s)); /* 12 x 12 passes */
    sscma_sample_destroy(s);
    sscma_dataset_destroy(ds);
    /* an explicit class list, an empty class, a missing folder, no classes */
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\", \"classes\": [\"dogs\", \"cats\"]}",
             root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_OK(sscma_dataset_class_name(ds, 0, &name));
    CHECK_STR_EQ(name, "dogs");
    sscma_dataset_destroy(ds);
    snprintf(path, sizeof path, "%s/birds", root);
    mkdir(path, 0755);
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\"}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_OK(sscma_dataset_check(ds, &problems, &report));
    CHECK_INT_EQ(problems, 1);
    CHECK(report != NULL && strstr(report, "class 0 (birds) has no sample") != NULL);
    sscma_dataset_destroy(ds);
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s/birds\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "no class folders");
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\", \"classes\": [\"birds\"]}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "empty dataset");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"CustomDataset\", \"data_root\": \"/no/such\"}", &ds), SSCMA_ERR_IO,
                "/no/such: cannot open");
}

/* Class names go to JSON and to the exported model's metadata, which hold UTF-8 only: a class folder whose name is
 * not UTF-8 is refused at open, named with its bytes escaped; other non-ASCII names are kept as they are. */
static void class_folders_named_outside_utf8_are_refused(void)
{
    char root[128], cfg[300], path[512];
    unsigned char grey[8 * 8] = {0};
    snprintf(root, sizeof root, "%s/names", tmpdir);
    mkdir(root, 0755);
    static const char *const folders[] = {"caf\xc3\xa9", "ok"}; /* "café" in UTF-8 */
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", root, folders[i]);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/%s/a.png", root, folders[i]);
        stbi_write_png(path, 8, 8, 1, grey, 8);
    }
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\"}", root);
    sscma_dataset *ds = NULL;
    const char *name = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_OK(sscma_dataset_class_name(ds, 0, &name));
    CHECK_STR_EQ(name, "caf\xc3\xa9");
    sscma_dataset_destroy(ds);
    ds = NULL;
    /* Latin-1 "café", a lone 0xff, a surrogate (U+D800), an overlong "/" and a truncated sequence */
    static const char *const bad[][2] = {
        {"caf\xe9", "caf\\xe9"},
        {"\xff", "\\xff"},
        {"s\xed\xa0\x80", "s\\xed\\xa0\\x80"},
        {"o\xc0\xaf", "o\\xc0\\xaf"},
        {"t\xe2\x82", "t\\xe2\\x82"},
    };
    char expect[600];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(path, sizeof path, "%s/%s", root, bad[i][0]);
        CHECK(mkdir(path, 0755) == 0);
        snprintf(path, sizeof path, "%s/%s/a.png", root, bad[i][0]);
        stbi_write_png(path, 8, 8, 1, grey, 8);
        snprintf(expect, sizeof expect,
                 "%s: class folder '%s': its name is not valid UTF-8 (class names go to JSON and the exported "
                 "model); rename the folder",
                 root, bad[i][1]);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, expect);
        CHECK(ds == NULL);
        snprintf(path, sizeof path, "%s/%s/a.png", root, bad[i][0]);
        remove(path);
        snprintf(path, sizeof path, "%s/%s", root, bad[i][0]);
        rmdir(path);
    }
    /* a 4-byte sequence (U+1F600) and one at the top of the range (U+10FFFF) are valid */
    snprintf(path, sizeof path, "%s/\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", root);
    CHECK(mkdir(path, 0755) == 0);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_dataset_destroy(ds);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(class_folders_and_their_defects),
        TEST_CASE(class_folders_named_outside_utf8_are_refused),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
