/*
 * Unit tests of data.h. COCO: a detection set composed from Fashion-MNIST read back (and its FOMO grids), and damaged
 * annotation files.
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

static void composed_detection_set_reads_back(void)
{
    if (!have_fashion()) {
        test_fail(__FILE__, __LINE__, "Debian's dataset-fashion-mnist is not installed (tools/install-deps)");
        return;
    }
    sscma_dataset *src = NULL, *det = NULL, *val = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 1000}", &src));
    if (src == NULL)
        return;
    char cfg[1024], dir_a[160], dir_b[160];
    for (int run = 0; run < 2; run++) {
        snprintf(run ? dir_b : dir_a, sizeof dir_a, "%s/composed_%d", tmpdir, run);
        snprintf(cfg, sizeof cfg,
                 "{\"out_dir\": \"%s\", \"image_size\": [64, 80], \"splits\": {\"train\": 12, \"valid\": 4},"
                 " \"classes\": [0, 1, 7, 8], \"objects\": [1, 4], \"scale\": [0.8, 1.2], \"seed\": 5,"
                 " \"name\": \"fashion\"}",
                 run ? dir_b : dir_a);
        CHECK_OK(sscma_compose_detection(src, cfg));
    }
    /* the same config gives the same files */
    char pa[256], pb[256];
    const char *files[] = {"train/_annotations.coco.json", "train/000000.png", "valid/000003.png"};
    for (int i = 0; i < 3; i++) {
        size_t na = 0, nb = 0;
        snprintf(pa, sizeof pa, "%s/%s", dir_a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", dir_b, files[i]);
        char *a = read_all(pa, &na), *b = read_all(pb, &nb);
        CHECK(a != NULL && b != NULL && na == nb && memcmp(a, b, na) == 0);
        free(a), free(b);
    }
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"train/_annotations.coco.json\", \"data_prefix\": {\"img\": \"train/\"}}", dir_a);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &det));
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": "
             "\"valid/_annotations.coco.json\", \"data_prefix\": \"valid\"}", dir_a);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &val));
    if (det == NULL || val == NULL)
        goto done;
    int64_t n = 0;
    int32_t classes = 0;
    CHECK_OK(sscma_dataset_size(det, &n));
    CHECK_INT_EQ(n, 12);
    CHECK_OK(sscma_dataset_size(val, &n));
    CHECK_INT_EQ(n, 4);
    CHECK_OK(sscma_dataset_num_classes(det, &classes));
    CHECK_INT_EQ(classes, 4); /* the Roboflow parent category is dropped */
    const char *name = NULL;
    CHECK_OK(sscma_dataset_class_name(det, 2, &name));
    CHECK_STR_EQ(name, "Sneaker");
    int64_t total = 0;
    for (int64_t i = 0; i < 12; i++) {
        sscma_sample *s = NULL;
        CHECK_OK(sscma_dataset_get(det, i, &s));
        if (s == NULL)
            continue;
        int32_t count = 0, label = 0;
        const float *boxes = NULL;
        const int32_t *labels = NULL;
        sscma_tensor *img = NULL;
        CHECK_OK(sscma_sample_boxes(s, &count, &boxes, &labels));
        CHECK_OK(sscma_sample_label(s, &label));
        CHECK_OK(sscma_sample_image(s, &img));
        int64_t h = 0, w = 0, c = 0;
        sscma_tensor_dim(img, 0, &h), sscma_tensor_dim(img, 1, &w), sscma_tensor_dim(img, 2, &c);
        CHECK(h == 64 && w == 80 && c == 1 && label == -1);
        CHECK(count >= 1 && count <= 4);
        uint8_t *px = NULL;
        sscma_tensor_data(img, (void **)&px);
        for (int32_t b = 0; b < count; b++) {
            const float *bx = boxes + 4 * b;
            CHECK(bx[0] >= 0 && bx[1] >= 0 && bx[2] <= 80 && bx[3] <= 64 && bx[2] > bx[0] && bx[3] > bx[1]);
            CHECK(labels[b] >= 0 && labels[b] < 4);
        }
        total += count;
        sscma_sample_destroy(s);
    }
    CHECK(total >= 12);
    /* the FOMO grid from the loader: boxes mirrored by a certain flip, centre cells one-hot */
    sscma_loader *loader = NULL;
    CHECK_OK(sscma_loader_create(ctx, det,
                                 "{\"batch_size\": 12, \"pipeline\": [{\"type\": \"Resize\", \"size\": [64, 80]},"
                                 " {\"type\": \"RandomFlip\", \"prob\": 1.0}],"
                                 " \"target\": {\"type\": \"FomoTarget\", \"stride\": 8}}",
                                 &loader));
    if (loader != NULL) {
        sscma_dtype dt;
        int32_t rank = 0;
        int64_t td[4];
        CHECK_OK(sscma_loader_target_shape(loader, &dt, &rank, td));
        CHECK(dt == SSCMA_DTYPE_F32 && rank == 4 && td[0] == 12 && td[1] == 8 && td[2] == 10 && td[3] == 5);
        const int64_t idims[4] = {12, 64, 80, 1}, wrong[4] = {12, 8, 10, 4};
        sscma_tensor *images = NULL, *grid = NULL, *bad = NULL;
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, idims, &images));
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, td, &grid));
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, wrong, &bad));
        int64_t got = 0;
        CHECK_FAILS(sscma_loader_next(loader, images, bad, &got), SSCMA_ERR_SHAPE,
                    "FOMO targets must be f32[12, 8, 10, 5]; got f32 rank 4 [12, 8, 10, 4]");
        CHECK_OK(sscma_loader_next(loader, images, grid, &got));
        CHECK_INT_EQ(got, 12);
        float *g = NULL;
        sscma_tensor_data(grid, (void **)&g);
        for (int64_t i = 0; g != NULL && i < 12; i++) {
            float expect[8 * 10 * 5];
            for (int k = 0; k < 8 * 10 * 5; k++)
                expect[k] = k % 5 == 0 ? 1.0f : 0.0f;
            sscma_sample *s = NULL;
            CHECK_OK(sscma_dataset_get(det, i, &s));
            int32_t count = 0;
            const float *boxes = NULL;
            const int32_t *labels = NULL;
            if (s != NULL)
                sscma_sample_boxes(s, &count, &boxes, &labels);
            for (int32_t b = 0; b < count; b++) {
                float cx = 80.0f - (boxes[4 * b] + boxes[4 * b + 2]) * 0.5f, cy = (boxes[4 * b + 1] + boxes[4 * b + 3]) * 0.5f;
                int64_t gx = (int64_t)(cx / 8.0f), gy = (int64_t)(cy / 8.0f);
                float *cell = expect + (gy * 10 + gx) * 5;
                memset(cell, 0, 5 * sizeof *cell);
                cell[1 + labels[b]] = 1.0f;
            }
            CHECK(memcmp(expect, g + i * 8 * 10 * 5, sizeof expect) == 0);
            sscma_sample_destroy(s);
        }
        sscma_tensor_destroy(images), sscma_tensor_destroy(grid), sscma_tensor_destroy(bad);
        sscma_loader_destroy(loader);
        loader = NULL;
    }
    CHECK_FAILS(sscma_loader_create(ctx, det, "{\"pipeline\": [{\"type\": \"Resize\", \"size\": 60}], "
                                              "\"target\": {\"type\": \"FomoTarget\"}}", &loader),
                SSCMA_ERR_CONFIG, "the 60x60 images are not a multiple of the stride 8");
    CHECK_FAILS(sscma_loader_create(ctx, src, "{\"target\": {\"type\": \"FomoTarget\"}}", &loader), SSCMA_ERR_CONFIG,
                "FomoTarget needs a dataset with boxes (CocoDataset, YoloDataset, VOCDataset), not FashionMNIST");
    CHECK_FAILS(sscma_loader_create(ctx, det, "{\"pipeline\": [{\"type\": \"Resize\", \"size\": 64}], "
                                              "\"target\": {\"type\": \"Heatmap\"}}", &loader),
                SSCMA_ERR_CONFIG,
                "target.type: expected FomoTarget, BoxTarget, KeypointTarget or OneHot, got \"Heatmap\"");
    CHECK_FAILS(sscma_loader_create(ctx, det, "{}", &loader), SSCMA_ERR_CONFIG,
                "images of a CocoDataset may differ in size");
    sscma_dtype tdt;
    int32_t trank;
    int64_t tdims[4];
    CHECK_FAILS(sscma_loader_target_shape(NULL, &tdt, &trank, tdims), SSCMA_ERR_INVALID_ARGUMENT, "'loader'");
    int64_t problems = -1;
    const char *report = NULL;
    CHECK_OK(sscma_dataset_check(det, &problems, &report));
    CHECK_INT_EQ(problems, 0);
    CHECK_FAILS(sscma_compose_detection(src, "{\"out_dir\": \"/tmp\", \"classes\": [11]}"), SSCMA_ERR_CONFIG,
                "compose: classes[0]: expected a class index of the source 0..9, got 11");
    CHECK_FAILS(sscma_compose_detection(src, "{\"image_size\": 64}"), SSCMA_ERR_CONFIG,
                "compose: out_dir: expected the dataset folder to write (at most 1983 bytes), missing");
    CHECK_FAILS(sscma_compose_detection(src, "{\"out_dir\": \"/tmp\", \"splits\": {\"val\": 3}}"), SSCMA_ERR_CONFIG,
                "compose: splits: unknown key 'val'; valid keys: train, valid, test");
    static const struct {
        const char *cfg, *needle;
    } compose_cases[] = { /* the composer's keys through the schema reader: defaults, ranges, one message format */
        {"{\"out_dir\": \"/tmp\", \"image_size\": 4}", "compose: image_size: expected an integer 8..4096, got 4"},
        {"{\"out_dir\": \"/tmp\", \"image_size\": [64, 5000]}",
         "compose: image_size[1]: expected an integer 8..4096, got 5000"},
        {"{\"out_dir\": \"/tmp\", \"objects\": [3, 2]}",
         "compose: objects: expected [min, max] per image with min <= max, got [3,2]"},
        {"{\"out_dir\": \"/tmp\", \"objects\": [0, 65]}", "compose: objects[1]: expected an integer 0..64, got 65"},
        {"{\"out_dir\": \"/tmp\", \"scale\": [0.05, 1]}",
         "compose: scale: expected [min, max] with 0.05 < min <= max <= 20, got [0.05,1]"},
        {"{\"out_dir\": \"/tmp\", \"max_iou\": 1.5}", "compose: max_iou: expected a number 0..1, got 1.5"},
        {"{\"out_dir\": \"/tmp\", \"seed\": -1}", "compose: seed: expected an integer >= 0, got -1"},
        {"{\"out_dir\": \"/tmp\", \"splits\": {\"train\": -3}}",
         "compose: splits.train: expected an integer 0..10000000, got -3"},
        {"{\"out_dir\": \"/tmp\", \"classes\": []}", "compose: classes: expected a list of 1 to 256 integers"},
        {"{\"out_dir\": \"/tmp\", \"seeds\": 1}", "compose: unknown key 'seeds'; valid keys: out_dir, image_size"},
        {"[]", "compose: expected an object, got []"},
    };
    for (size_t i = 0; i < sizeof compose_cases / sizeof compose_cases[0]; i++)
        CHECK_FAILS(sscma_compose_detection(src, compose_cases[i].cfg), SSCMA_ERR_CONFIG, compose_cases[i].needle);
    CHECK_FAILS(sscma_compose_detection(NULL, "{}"), SSCMA_ERR_INVALID_ARGUMENT, "'source'");
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s/no/such/parent\"}", tmpdir);
    CHECK_FAILS(sscma_compose_detection(src, cfg), SSCMA_ERR_IO, "cannot create the folder");
done:
    sscma_dataset_destroy(det), sscma_dataset_destroy(val), sscma_dataset_destroy(src);
}

/* Writes `json` as dir/ann.json next to one 32x24 image "a.png"; returns the dataset config. */
static void coco_case(const char *dir, const char *json, bool strict, char *cfg, size_t size)
{
    char path[256];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/a.png", dir);
    uint8_t grey[32 * 24];
    memset(grey, 90, sizeof grey);
    stbi_write_png(path, 32, 24, 1, grey, 32);
    snprintf(path, sizeof path, "%s/ann.json", dir);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(json, f);
        fclose(f);
    }
    snprintf(cfg, size, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": \"ann.json\"%s}", dir,
             strict ? ", \"strict\": true" : "");
}

#define CATS "\"categories\": [{\"id\": 0, \"name\": \"things\", \"supercategory\": \"none\"}, " \
             "{\"id\": 1, \"name\": \"cat\", \"supercategory\": \"things\"}, {\"id\": 2, \"name\": \"dog\", " \
             "\"supercategory\": \"things\"}]"
#define IMG "{\"id\": 7, \"file_name\": \"a.png\", \"width\": 32, \"height\": 24}"

static void coco_defects_are_reported(void)
{
    char dir[160], cfg[512];
    snprintf(dir, sizeof dir, "%s/coco", tmpdir);
    sscma_dataset *ds = NULL;
    static const struct {
        const char *json, *needle;
        sscma_status status;
        bool strict;
    } cases[] = {
        {"{\"images\": [" IMG ", " IMG "], \"annotations\": [], " CATS "}", "images[1]: duplicate id 7",
         SSCMA_ERR_FORMAT, false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 9, "
         "\"bbox\": [1, 1, 4, 4]}], " CATS "}", "annotations[0] (id 1): unknown category_id 9", SSCMA_ERR_FORMAT, false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 0, "
         "\"bbox\": [1, 1, 4, 4]}], " CATS "}", "the parent (supercategory \"none\") category_id 0", SSCMA_ERR_FORMAT,
         false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 8, \"category_id\": 1, "
         "\"bbox\": [1, 1, 4, 4]}], " CATS "}", "annotations[0] (id 1): unknown image_id 8", SSCMA_ERR_FORMAT, false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 1, "
         "\"bbox\": [1, 1, 0, 4]}], " CATS "}", "annotations[0] (id 1): box of non-positive size 0 x 4",
         SSCMA_ERR_FORMAT, false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 1, "
         "\"bbox\": [1, 1, 2, 2]}, {\"id\": 1, \"image_id\": 7, \"category_id\": 2, \"bbox\": [3, 3, 2, 2]}], "
         CATS "}", "annotations[1]: duplicate id 1", SSCMA_ERR_FORMAT, false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 1, "
         "\"bbox\": [30, 20, 8, 8]}], " CATS "}", "annotations[0] (id 1): box [30, 20, 8, 8] leaves image 7 (32 x 24)",
         SSCMA_ERR_FORMAT, true},
        {"{\"images\": [{\"id\": 3, \"file_name\": \"b.png\", \"width\": 32, \"height\": 24}], "
         "\"annotations\": [], " CATS "}", "images[0] (id 3): image file", SSCMA_ERR_IO, false},
        {"{\"images\": [{\"id\": 3, \"file_name\": \"a.png\", \"width\": -2, \"height\": 24}], "
         "\"annotations\": [], " CATS "}", "images[0] (id 3, a.png): \"width\" and \"height\" must be positive",
         SSCMA_ERR_FORMAT, false},
        {"{\"images\": [], \"annotations\": [], " CATS "}", "an empty dataset", SSCMA_ERR_FORMAT, false},
        {"{\"images\": [" IMG "],\n \"annotations\": [,], " CATS "}", "ann.json: line 2, column", SSCMA_ERR_FORMAT,
         false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 1, "
         "\"bbox\": [1, 1, \"4\", 4]}], " CATS "}", "\"bbox\" must be [x, y, width, height]", SSCMA_ERR_FORMAT, false},
        /* sizes checked in 64 bits before the 32-bit store: 4294967328 used to become 32 and open */
        {"{\"images\": [{\"id\": 3, \"file_name\": \"a.png\", \"width\": 4294967328, \"height\": 24}], "
         "\"annotations\": [], " CATS "}", "ann.json: images[0] (id 3, a.png): declared 4294967328 x 24 pixels: a side "
         "over 2147483647", SSCMA_ERR_FORMAT, false},
        {"{\"images\": [{\"id\": 3, \"file_name\": \"a.png\", \"width\": 32, \"height\": 2147483648}], "
         "\"annotations\": [], " CATS "}", "images[0] (id 3, a.png): declared 32 x 2147483648 pixels: a side over",
         SSCMA_ERR_FORMAT, false},
        /* the declared size against max_pixels (default 40 million), in 64 bits: 65536 x 65536 is 2^32 */
        {"{\"images\": [{\"id\": 3, \"file_name\": \"a.png\", \"width\": 65536, \"height\": 65536}], "
         "\"annotations\": [], " CATS "}", "images[0] (id 3, a.png): declared 65536 x 65536 pixels is over the limit of "
         "40000000 (max_pixels)", SSCMA_ERR_UNSUPPORTED, false},
        /* huge box values (finite): used to be clipped through float overflow; refused, naming the annotation */
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 1, "
         "\"bbox\": [1e300, 1, 4, 4]}], " CATS "}", "annotations[0] (id 1): \"bbox\" must be [x, y, width, height], "
         "four numbers of at most 2147483647 in magnitude", SSCMA_ERR_FORMAT, false},
        {"{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 1, "
         "\"bbox\": [1, 1, 4, -1e20]}], " CATS "}", "annotations[0] (id 1): \"bbox\" must be", SSCMA_ERR_FORMAT, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        coco_case(dir, cases[i].json, cases[i].strict, cfg, sizeof cfg);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), cases[i].status, cases[i].needle);
    }
    /* not strict: a box leaving the image is clipped, a crowd box skipped, boxes grouped per image in file order */
    coco_case(dir,
              "{\"images\": [" IMG "], \"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 2, "
              "\"bbox\": [30, 20, 8, 8]}, {\"id\": 2, \"image_id\": 7, \"category_id\": 1, \"bbox\": [1, 2, 3, 4], "
              "\"iscrowd\": 1}, {\"id\": 3, \"image_id\": 7, \"category_id\": 1, \"bbox\": [2.5, 3, 4, 5]}], "
              CATS "}",
              false, cfg, sizeof cfg);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_sample *s = NULL;
    if (ds != NULL)
        CHECK_OK(sscma_dataset_get(ds, 0, &s));
    if (s != NULL) {
        int32_t count = 0;
        const float *b = NULL;
        const int32_t *l = NULL;
        CHECK_OK(sscma_sample_boxes(s, &count, &b, &l));
        CHECK_INT_EQ(count, 2);
        if (count == 2) {
            CHECK(b[0] == 30 && b[1] == 20 && b[2] == 32 && b[3] == 24 && l[0] == 1);
            CHECK(b[4] == 2.5f && b[5] == 3 && b[6] == 6.5f && b[7] == 8 && l[1] == 0);
        }
        sscma_sample_destroy(s);
    }
    sscma_dataset_destroy(ds);
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"CocoDataset\", \"data_root\": \"/nonexistent\"}", &ds),
                SSCMA_ERR_CONFIG, "CocoDataset: ann_file: expected the annotation file (e.g. "
                "\"train/_annotations.coco.json\"), missing");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"CocoDataset\", \"ann_file\": \"/nonexistent/a.json\"}", &ds),
                SSCMA_ERR_IO, "/nonexistent/a.json: cannot open: No such file or directory");
    CHECK_FAILS(sscma_sample_boxes(NULL, NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'sample'");
}

/*
 * on_defect "skip" (what sscma dataset check opens with): each record with a defect is left out and listed, the
 * others open; a check reports the listed defects first, then what decoding finds. The default fails at the first.
 */
static void coco_defects_listed_in_one_pass(void)
{
    char dir[160], cfg[640];
    snprintf(dir, sizeof dir, "%s/coco_skip", tmpdir);
    const char *json =
        "{\"images\": [" IMG ", {\"id\": 8, \"file_name\": \"gone.png\", \"width\": 32, \"height\": 24}, "
        "{\"id\": 9, \"file_name\": \"a.png\", \"width\": -1, \"height\": 24}, "
        "{\"id\": 7, \"file_name\": \"a.png\", \"width\": 32, \"height\": 24}], \"annotations\": ["
        "{\"id\": 1, \"image_id\": 7, \"category_id\": 1, \"bbox\": [1, 1, 4, 4]}, "
        "{\"id\": 2, \"image_id\": 7, \"category_id\": 9, \"bbox\": [1, 1, 4, 4]}, "
        "{\"id\": 3, \"image_id\": 7, \"category_id\": 2, \"bbox\": [1, 1, -4, 4]}, "
        "{\"id\": 4, \"image_id\": 7, \"category_id\": 2, \"bbox\": [30, 20, 8, 8]}, "
        "{\"id\": 5, \"image_id\": 12, \"category_id\": 2, \"bbox\": [1, 1, 4, 4]}, "
        "{\"id\": 6, \"image_id\": 8, \"category_id\": 2, \"bbox\": [1, 1, 4, 4]}], " CATS "}";
    coco_case(dir, json, false, cfg, sizeof cfg);
    sscma_dataset *ds = NULL;
    /* the default: the first defect in file order fails the open */
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, "images[1] (id 8): image file");
    size_t len = strlen(cfg);
    snprintf(cfg + len - 1, sizeof cfg - len + 1, ", \"on_defect\": \"skip\"}");
    static const char *const needles[] = {
        "ann.json: images[1] (id 8): image file",
        "ann.json: images[2] (id 9, a.png): \"width\" and \"height\" must be positive integers",
        "ann.json: images[3]: duplicate id 7 (images[0] has it too)",
        "ann.json: annotations[1] (id 2): unknown category_id 9",
        "ann.json: annotations[2] (id 3): box of non-positive size -4 x 4",
        "ann.json: annotations[3] (id 4): box [30, 20, 8, 8] leaves image 7 (32 x 24): clipped",
        "ann.json: annotations[4] (id 5): unknown image_id 12",
    };
    /* images[0] kept (images[3] repeats its id); the annotation of the missing image goes with it, unreported */
    ds = check_defects_listed(cfg, 1, 7, needles, sizeof needles / sizeof needles[0]);
    if (ds == NULL)
        return;
    sscma_sample *s = NULL;
    CHECK_OK(sscma_dataset_get(ds, 0, &s));
    if (s != NULL) {
        int32_t count = 0;
        CHECK_OK(sscma_sample_boxes(s, &count, NULL, NULL));
        CHECK_INT_EQ(count, 2); /* annotations 1 and 4 (clipped) */
        sscma_sample_destroy(s);
    }
    sscma_dataset_destroy(ds);
    snprintf(cfg + len - 1, sizeof cfg - len + 1, ", \"on_defect\": \"ignore\"}");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, "on_defect");
}

/* COCO's config keys (schema reader), max_pixels from the config, and a FIFO as the annotation file. */
static void coco_config_limits_and_special_files(void)
{
    char dir[160], cfg[600], path[300];
    snprintf(dir, sizeof dir, "%s/coco-cfg", tmpdir);
    coco_case(dir, "{\"images\": [" IMG "], \"annotations\": [], " CATS "}", false, cfg, sizeof cfg);
    sscma_dataset *ds = NULL;
    static const struct {
        const char *extra, *needle;
    } cases[] = {
        {"\"strict\": 1", "CocoDataset: strict: expected true or false, got 1"},
        {"\"data_prefix\": {\"imgs\": \"x\"}", "CocoDataset: data_prefix: unknown key 'imgs'; valid keys: img, seg"},
        {"\"data_prefix\": {\"img\": 3}", "CocoDataset: data_prefix.img: expected a string, got 3"},
        {"\"data_prefix\": 3", "CocoDataset: data_prefix: expected {\"img\": \"<image folder>\"} or a string, got 3"},
        {"\"ann_file\": [\"a\"]", "CocoDataset: ann_file: expected a string, got [\"a\"]"},
        {"\"filter\": {}", "CocoDataset: unknown key 'filter'; valid keys: type, data_root, ann_file, data_prefix"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char c2[800];
        snprintf(c2, sizeof c2, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": \"ann.json\", %s}",
                 dir, cases[i].extra);
        if (strstr(cases[i].extra, "\"ann_file\"") != NULL)
            snprintf(c2, sizeof c2, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", %s}", dir, cases[i].extra);
        CHECK_FAILS(sscma_dataset_open(ctx, c2, &ds), SSCMA_ERR_CONFIG, cases[i].needle);
    }
    /* a 32 x 24 image declared: refused at open over a max_pixels of 767, read at 768 */
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": \"ann.json\", "
             "\"data_prefix\": {\"img\": \"\"}, \"max_pixels\": 767}", dir);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_UNSUPPORTED,
                "ann.json: images[0] (id 7, a.png): declared 32 x 24 pixels is over the limit of 767 (max_pixels)");
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": \"ann.json\", "
             "\"data_prefix\": \"\", \"max_pixels\": 768}", dir);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_dataset_destroy(ds);
    ds = NULL;
    /* the annotation file a FIFO: refused at once (json_load_file used to wait for a writer forever) */
    snprintf(path, sizeof path, "%s/fifo.json", dir);
    snprintf(cfg, sizeof cfg, "{\"type\": \"CocoDataset\", \"data_root\": \"%s\", \"ann_file\": \"fifo.json\"}",
             dir);
    if (fifo_make(path, 20)) {
        char needle[400];
        snprintf(needle, sizeof needle, "%s: a FIFO (named pipe), not a regular file: refused", path);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, needle);
        fifo_done(path);
    }
    CHECK(ds == NULL);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(composed_detection_set_reads_back),
        TEST_CASE(coco_defects_are_reported),
        TEST_CASE(coco_defects_listed_in_one_pass),
        TEST_CASE(coco_config_limits_and_special_files),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
