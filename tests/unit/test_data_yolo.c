/* Unit tests of data.h. YOLO labels: data.yaml class names, label files beside images, and their defects. */
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

static void yolo_labels_read_and_defects(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/yolo", tmpdir);
    const char *dirs[] = {"", "/train", "/train/images", "/train/images/sub", "/train/labels", "/train/labels/sub"};
    make_dirs(root, dirs, 6);
    uint8_t grey[40 * 20];
    memset(grey, 100, sizeof grey);
    const char *imgs[] = {"a.png", "b.png", "sub/c.png"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/train/images/%s", root, imgs[i]);
        stbi_write_png(path, 40, 20, 1, grey, 40);
    }
    snprintf(path, sizeof path, "%s/train/labels/a.txt", root);
    write_text(path, "1 0.5 0.5 0.5 0.5\n0 0.1 0.1 0.4 0.4\n\n");
    snprintf(path, sizeof path, "%s/train/labels/sub/c.txt", root);
    write_text(path, "2 0.25 0.75 0.5 0.5\n");
    snprintf(path, sizeof path, "%s/data.yaml", root);
    write_text(path, "train: ../train/images\nnc: 3\nnames: ['cat', \"dog\", bird]  # three\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"data_prefix\": {\"img\": "
             "\"train/images\", \"label\": \"train/labels\"}}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds != NULL) {
        int64_t n = 0;
        int32_t classes = 0;
        const char *name = NULL;
        CHECK_OK(sscma_dataset_size(ds, &n));
        CHECK_INT_EQ(n, 3);
        CHECK_OK(sscma_dataset_num_classes(ds, &classes));
        CHECK_INT_EQ(classes, 3);
        CHECK_OK(sscma_dataset_class_name(ds, 2, &name));
        CHECK_STR_EQ(name, "bird");
        static const int32_t counts[3] = {2, 0, 1}; /* a.png, b.png (no label file), sub/c.png */
        for (int64_t i = 0; i < 3; i++) {
            sscma_sample *s = NULL;
            CHECK_OK(sscma_dataset_get(ds, i, &s));
            int32_t count = -1;
            const float *b = NULL;
            const int32_t *l = NULL;
            if (s != NULL)
                CHECK_OK(sscma_sample_boxes(s, &count, &b, &l));
            CHECK_INT_EQ(count, counts[i]);
            if (i == 0 && count == 2) /* cx 0.5 cy 0.5 w 0.5 h 0.5 of 40 x 20; the second clipped at 0 */
                CHECK(b[0] == 10 && b[1] == 5 && b[2] == 30 && b[3] == 15 && l[0] == 1 && b[4] == 0 && b[5] == 0 &&
                      fabsf(b[6] - 12) < 1e-5f && fabsf(b[7] - 6) < 1e-5f && l[1] == 0);
            if (i == 2 && count == 1)
                CHECK(b[0] == 0 && b[1] == 10 && b[2] == 20 && b[3] == 20 && l[0] == 2);
            sscma_sample_destroy(s);
        }
        sscma_dataset_destroy(ds);
    }
    /* block-style names; the strict mode refuses the clipped box */
    snprintf(path, sizeof path, "%s/data.yaml", root);
    write_text(path, "names:\n  - cat\n  - dog\n  - bird\nnc: 3\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"strict\": true, \"data_prefix\": "
             "{\"img\": \"train/images\", \"label\": \"train/labels\"}}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "a.txt: line 2: box leaves the image");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"data_prefix\": {\"img\": "
             "\"train/images\", \"label\": \"train/labels\"}}", root);
    static const struct {
        const char *file, *text, *needle;
    } defects[] = {
        {"train/labels/a.txt", "1 0.5 0.5 0.5\n", "a.txt: line 1: 4 fields; expected \"class cx cy w h\""},
        {"train/labels/a.txt", "3 0.5 0.5 0.5 0.5\n", "a.txt: line 1: class 3 is not one of the 3 classes"},
        {"train/labels/a.txt", "0 0.5 0.5 0 0.5\n", "a.txt: line 1: box of non-positive size 0 x 0.5"},
        {"train/labels/a.txt", "0 0.5 half 0.1 0.5\n", "a.txt: line 1: 'half' is not a number"},
        {"train/labels/d.txt", "0 0.5 0.5 0.1 0.1\n", "d.txt: a label file without an image"},
        {"data.yaml", "nc: 2\nnames: [cat, dog, bird]\n", "data.yaml: nc is 2 but names lists 3 classes"},
    };
    for (size_t i = 0; i < sizeof defects / sizeof defects[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, defects[i].file);
        write_text(path, defects[i].text);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, defects[i].needle);
        if (strcmp(defects[i].file, "train/labels/d.txt") == 0)
            remove(path);
        snprintf(path, sizeof path, "%s/train/labels/a.txt", root);
        write_text(path, "1 0.5 0.5 0.5 0.5\n");
        snprintf(path, sizeof path, "%s/data.yaml", root);
        write_text(path, "names: [cat, dog, bird]\n");
    }
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds)); /* repaired */
    sscma_dataset_destroy(ds);
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"yaml\": \"none.yaml\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, "none.yaml: cannot open");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"classes\": [\"x\"]}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, "/images: cannot open the folder");
}

/*
 * max_pixels at open (the sizes are read from the image headers there) and special files: a label file, data.yaml, a
 * names file or an image that is a FIFO is refused at once, named, where fopen used to wait for a writer forever.
 */
static void yolo_limits_and_special_files(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/yolo-lim", tmpdir);
    const char *dirs[] = {"", "/images", "/labels"};
    make_dirs(root, dirs, 3);
    uint8_t grey[40 * 20];
    memset(grey, 100, sizeof grey);
    snprintf(path, sizeof path, "%s/images/a.png", root);
    stbi_write_png(path, 40, 20, 1, grey, 40);
    snprintf(path, sizeof path, "%s/labels/a.txt", root);
    write_text(path, "0 0.5 0.5 0.5 0.5\n");
    snprintf(path, sizeof path, "%s/data.yaml", root);
    write_text(path, "names: [cat]\n");
    sscma_dataset *ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"max_pixels\": 800}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds)); /* 40 x 20: at the limit */
    sscma_dataset_destroy(ds);
    ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"max_pixels\": 799}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_UNSUPPORTED,
                "images/a.png: 40 x 20 pixels is over the limit of 799 (max_pixels)");
    static const struct {
        const char *file, *cfg_extra, *what;
    } fifos[] = {
        {"labels/a.txt", "", "the label file is "},
        {"data.yaml", "", "the class names file (else give \"classes\" or \"names_file\") is "},
        {"names.txt", ", \"names_file\": \"names.txt\"", "the names file is "},
    };
    for (size_t i = 0; i < sizeof fifos / sizeof fifos[0]; i++) {
        snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\"%s}", root, fifos[i].cfg_extra);
        snprintf(path, sizeof path, "%s/%s", root, fifos[i].file);
        if (!fifo_make(path, 20))
            return;
        char needle[500];
        snprintf(needle, sizeof needle, "%s: %sa FIFO (named pipe), not a regular file: refused", path, fifos[i].what);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, needle);
        fifo_done(path);
        if (i == 0)
            write_text(path, "0 0.5 0.5 0.5 0.5\n");
        if (i == 1)
            write_text(path, "names: [cat]\n");
    }
    CHECK(ds == NULL);
}

/* Class names that are not UTF-8 (a Latin-1 names file, data.yaml) are refused at open, named with the bytes
 * escaped: they go to JSON and the exported model's metadata, which hold UTF-8 only. */
static void yolo_class_names_must_be_utf8(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/yolo_names", tmpdir);
    const char *dirs[] = {"", "/images", "/labels"};
    make_dirs(root, dirs, 3);
    uint8_t grey[8 * 8];
    memset(grey, 100, sizeof grey);
    snprintf(path, sizeof path, "%s/images/a.png", root);
    stbi_write_png(path, 8, 8, 1, grey, 8);
    snprintf(path, sizeof path, "%s/names.txt", root);
    write_text(path, "cat\ncaf\xe9\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"names_file\": \"names.txt\", "
             "\"data_prefix\": {\"img\": \"images\", \"label\": \"labels\"}}", root);
    sscma_dataset *ds = NULL;
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "names.txt: class 1 'caf\\xe9': its name is not valid UTF-8");
    snprintf(path, sizeof path, "%s/data.yaml", root);
    write_text(path, "names: [dog, \"\xff\xfe\"]\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", "
             "\"data_prefix\": {\"img\": \"images\", \"label\": \"labels\"}}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "data.yaml: class 1 '\\xff\\xfe': its name is not valid UTF-8");
    snprintf(path, sizeof path, "%s/names.txt", root);
    write_text(path, "cat\ncaf\xc3\xa9\n"); /* café in UTF-8: kept as it is */
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"names_file\": \"names.txt\", "
             "\"data_prefix\": {\"img\": \"images\", \"label\": \"labels\"}}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    const char *name = NULL;
    if (ds != NULL)
        CHECK_OK(sscma_dataset_class_name(ds, 1, &name));
    if (name != NULL)
        CHECK_STR_EQ(name, "caf\xc3\xa9");
    sscma_dataset_destroy(ds);
}

/* on_defect "skip": each line or image with a defect is left out and listed; one check reports them all. */
static void yolo_defects_listed_in_one_pass(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/yolo_skip", tmpdir);
    const char *dirs[] = {"", "/images", "/labels"};
    make_dirs(root, dirs, 3);
    uint8_t grey[16 * 16];
    memset(grey, 100, sizeof grey);
    snprintf(path, sizeof path, "%s/images/a.png", root);
    stbi_write_png(path, 16, 16, 1, grey, 16);
    snprintf(path, sizeof path, "%s/images/broken.png", root);
    write_text(path, "not a png");
    snprintf(path, sizeof path, "%s/labels/broken.txt", root);
    write_text(path, "0 0.5 0.5 0.2 0.2\n");
    snprintf(path, sizeof path, "%s/labels/a.txt", root);
    write_text(path, "0 0.5 0.5 0.2 0.2\nx 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n1 0.5 0.5 0 0.2\n1 0.95 0.5 0.2 0.2\n");
    snprintf(path, sizeof path, "%s/labels/orphan.txt", root);
    write_text(path, "0 0.5 0.5 0.2 0.2\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"classes\": [\"a\", \"b\"], "
             "\"data_prefix\": {\"img\": \"images\", \"label\": \"labels\"}, \"on_defect\": \"skip\"}", root);
    static const char *const needles[] = {
        "broken.png: not a readable JPEG, PNG or BMP image",
        "a.txt: line 2: 'x' is not a number",
        "a.txt: line 3: class 7 is not one of the 2 classes",
        "a.txt: line 4: box of non-positive size 0 x 0.2",
        "a.txt: line 5: box leaves the image (normalised 0.95 0.5 0.2 0.2): clipped",
        "orphan.txt: a label file without an image",
    };
    /* broken.txt is not "without an image": broken.png's defect covers it */
    sscma_dataset *ds = check_defects_listed(cfg, 1, 6, needles, sizeof needles / sizeof needles[0]);
    if (ds == NULL)
        return;
    sscma_sample *s = NULL;
    CHECK_OK(sscma_dataset_get(ds, 0, &s));
    if (s != NULL) {
        int32_t count = 0;
        CHECK_OK(sscma_sample_boxes(s, &count, NULL, NULL));
        CHECK_INT_EQ(count, 2); /* lines 1 and 5 (clipped) */
        sscma_sample_destroy(s);
    }
    sscma_dataset_destroy(ds);
    /* the default: the first defect fails the open */
    size_t len = strlen(cfg);
    snprintf(cfg + len - 22, sizeof cfg - len + 22, "}");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "a.txt: line 2: 'x' is not a number");
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(yolo_labels_read_and_defects),
        TEST_CASE(yolo_limits_and_special_files),
        TEST_CASE(yolo_class_names_must_be_utf8),
        TEST_CASE(yolo_defects_listed_in_one_pass),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
