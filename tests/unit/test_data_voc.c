/* Unit tests of data.h. Pascal VOC XML: id lists, difficult objects, parts, clipping, and damaged files. */
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

static void voc_xml_read_and_defects(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/voc", tmpdir);
    const char *dirs[] = {"", "/Annotations", "/JPEGImages", "/ImageSets", "/ImageSets/Main"};
    make_dirs(root, dirs, 5);
    uint8_t grey[40 * 30];
    memset(grey, 60, sizeof grey);
    snprintf(path, sizeof path, "%s/JPEGImages/a.png", root);
    stbi_write_png(path, 40, 30, 1, grey, 40);
    snprintf(path, sizeof path, "%s/JPEGImages/b.png", root);
    stbi_write_png(path, 40, 30, 1, grey, 40);
    static const char *const a_xml =
        "<annotation><folder>x</folder><filename>a.png</filename><size><width>40</width><height>30</height>"
        "<depth>1</depth></size>\n<object><name>dog</name><difficult>0</difficult><bndbox><xmin>2</xmin>"
        "<ymin>3</ymin><xmax>12.5</xmax><ymax>20</ymax></bndbox></object>\n<object><name>cat</name><difficult>1"
        "</difficult><bndbox><xmin>30</xmin><ymin>10</ymin><xmax>45</xmax><ymax>29</ymax></bndbox><part><name>head"
        "</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part></object>"
        "</annotation>\n";
    snprintf(path, sizeof path, "%s/Annotations/a.xml", root);
    write_text(path, a_xml);
    snprintf(path, sizeof path, "%s/Annotations/b.xml", root);
    write_text(path, "<annotation><filename>b.png</filename><size><width>40</width><height>30</height></size>"
                     "</annotation>");
    snprintf(path, sizeof path, "%s/ImageSets/Main/train.txt", root);
    write_text(path, "b\na\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"ImageSets/Main/train.txt\", \"classes\": [\"cat\", \"dog\"]}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds != NULL) {
        int64_t n = 0;
        CHECK_OK(sscma_dataset_size(ds, &n));
        CHECK_INT_EQ(n, 2);
        sscma_sample *s = NULL;
        CHECK_OK(sscma_dataset_get(ds, 1, &s)); /* "a", the second id */
        int32_t count = 0;
        const float *b = NULL;
        const int32_t *l = NULL;
        if (s != NULL)
            CHECK_OK(sscma_sample_boxes(s, &count, &b, &l));
        CHECK_INT_EQ(count, 2);
        if (count == 2) /* the head part is not an object; the cat's box is clipped to the image */
            CHECK(b[0] == 2 && b[1] == 3 && b[2] == 12.5f && b[3] == 20 && l[0] == 1 && b[4] == 30 && b[6] == 40 &&
                  l[1] == 0);
        sscma_sample_destroy(s);
        sscma_dataset_destroy(ds);
    }
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\", \"dog\"],"
             " \"skip_difficult\": true}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds)); /* every xml of Annotations/, sorted: a, b */
    if (ds != NULL) {
        sscma_sample *s = NULL;
        int32_t count = 0;
        CHECK_OK(sscma_dataset_get(ds, 0, &s));
        if (s != NULL)
            CHECK_OK(sscma_sample_boxes(s, &count, NULL, NULL));
        CHECK_INT_EQ(count, 1);
        sscma_sample_destroy(s);
        sscma_dataset_destroy(ds);
    }
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\", \"dog\"],"
             " \"strict\": true}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "a.xml: object 1 (cat): box [30, 10, 45, 29] leaves");
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\"]}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "a.xml: object 0: class 'dog' is not in the classes");
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\"}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds)); /* the 20 Pascal VOC classes by default */
    int32_t voc_classes = 0;
    if (ds != NULL)
        CHECK_OK(sscma_dataset_num_classes(ds, &voc_classes));
    CHECK_INT_EQ(voc_classes, 20);
    sscma_dataset_destroy(ds);
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\", \"dog\"]}",
             root);
    static const struct {
        const char *xml, *needle;
        sscma_status status;
    } defects[] = {
        {"<annotation><filename>a.png</filename>\n<size><width>40</width></annotation>", "b.xml: line 2, column",
         SSCMA_ERR_FORMAT},
        {"<annotation><filename>zz.png</filename><size><width>4</width><height>3</height></size></annotation>",
         "b.xml: image file", SSCMA_ERR_IO},
        {"<annotation><size><width>4</width><height>3</height></size></annotation>", "b.xml: no <filename>",
         SSCMA_ERR_FORMAT},
        {"<annotation><filename>b.png</filename><size><width>0</width><height>3</height></size></annotation>",
         "b.xml: <size> needs a positive <width> and <height>", SSCMA_ERR_FORMAT},
        {"<annotation><filename>b.png</filename><size><width>40</width><height>30</height></size><object><name>cat"
         "</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>x</xmax><ymax>5</ymax></bndbox></object></annotation>",
         "b.xml: object 0 (cat): <bndbox> needs numeric xmin", SSCMA_ERR_FORMAT},
        {"<annotation><filename>b.png</filename><size><width>40</width><height>30</height></size><object><name>cat"
         "</name><bndbox><xmin>5</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>",
         "b.xml: object 0 (cat): box of non-positive size", SSCMA_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof defects / sizeof defects[0]; i++) {
        snprintf(path, sizeof path, "%s/Annotations/b.xml", root);
        write_text(path, defects[i].xml);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), defects[i].status, defects[i].needle);
    }
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"ann_file\": \"none.txt\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, "none.txt: cannot open the id list");
    /* the declared <size> against max_pixels: 40 x 30 = 1200 */
    snprintf(path, sizeof path, "%s/Annotations/b.xml", root);
    write_text(path, "<annotation><filename>b.png</filename><size><width>40</width><height>30</height></size>"
                     "</annotation>");
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\", \"dog\"], "
             "\"max_pixels\": 1200}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_dataset_destroy(ds);
    ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"classes\": [\"cat\", \"dog\"], "
             "\"max_pixels\": 1199}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_UNSUPPORTED,
                "a.xml: <size> 40 x 30 pixels is over the limit of 1199 (max_pixels)");
    /* special files: an annotation XML or the id list that is a FIFO is refused at once, where fopen waited */
    snprintf(path, sizeof path, "%s/ImageSets/Main/fifo.txt", root);
    write_text(path, "f\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"ImageSets/Main/fifo.txt\"}", root);
    char xml[300], needle[500];
    snprintf(xml, sizeof xml, "%s/Annotations/f.xml", root);
    if (fifo_make(xml, 20)) {
        snprintf(needle, sizeof needle, "%s: a FIFO (named pipe), not a regular file: refused", xml);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, needle);
        fifo_done(xml);
    }
    if (fifo_make(path, 20)) {
        snprintf(needle, sizeof needle, "%s: the id list is a FIFO (named pipe), not a regular file: refused", path);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, needle);
        fifo_done(path);
    }
    CHECK(ds == NULL);
}

/* on_defect "skip": each sample or object with a defect is left out and listed; one check reports them all. */
static void voc_defects_listed_in_one_pass(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/voc_skip", tmpdir);
    const char *dirs[] = {"", "/Annotations", "/JPEGImages", "/ImageSets", "/ImageSets/Main"};
    make_dirs(root, dirs, 5);
    uint8_t grey[40 * 30];
    memset(grey, 60, sizeof grey);
    snprintf(path, sizeof path, "%s/JPEGImages/a.png", root);
    stbi_write_png(path, 40, 30, 1, grey, 40);
    snprintf(path, sizeof path, "%s/Annotations/a.xml", root);
    write_text(path, "<annotation><filename>a.png</filename><size><width>40</width><height>30</height></size>"
                     "<object><name>dog</name><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>12</xmax><ymax>20</ymax>"
                     "</bndbox></object><object><name>horse</name><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>12</xmax>"
                     "<ymax>20</ymax></bndbox></object><object><name>cat</name><bndbox><xmin>9</xmin><ymin>3</ymin>"
                     "<xmax>4</xmax><ymax>20</ymax></bndbox></object><object><name>cat</name><bndbox><xmin>30</xmin>"
                     "<ymin>3</ymin><xmax>50</xmax><ymax>20</ymax></bndbox></object></annotation>");
    snprintf(path, sizeof path, "%s/Annotations/gone.xml", root);
    write_text(path, "<annotation><filename>gone.png</filename><size><width>40</width><height>30</height></size>"
                     "</annotation>");
    snprintf(path, sizeof path, "%s/Annotations/broken.xml", root);
    write_text(path, "<annotation><filename>a.png</filename>");
    snprintf(path, sizeof path, "%s/ImageSets/Main/train.txt", root);
    write_text(path, "gone\na\nbroken\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"VOCDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"ImageSets/Main/train.txt\", \"classes\": [\"cat\", \"dog\"], \"on_defect\": \"skip\"}", root);
    sscma_dataset *ds = NULL;
    static const char *const needles[] = {
        "gone.xml: image file", "a.xml: object 1: class 'horse' is not in the classes",
        "a.xml: object 2 (cat): box of non-positive size", "a.xml: object 3 (cat): box [30, 3, 50, 20] leaves the 40 x 30 "
        "image: clipped", "broken.xml: line ",
    };
    ds = check_defects_listed(cfg, 1, 5, needles, sizeof needles / sizeof needles[0]);
    if (ds == NULL)
        return;
    sscma_sample *s = NULL;
    CHECK_OK(sscma_dataset_get(ds, 0, &s));
    if (s != NULL) {
        int32_t count = 0;
        CHECK_OK(sscma_sample_boxes(s, &count, NULL, NULL));
        CHECK_INT_EQ(count, 2); /* the dog and the clipped cat */
        sscma_sample_destroy(s);
    }
    sscma_dataset_destroy(ds);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(voc_xml_read_and_defects),
        TEST_CASE(voc_defects_listed_in_one_pass),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
