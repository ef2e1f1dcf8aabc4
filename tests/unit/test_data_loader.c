/*
 * Unit tests of data.h. The loader: batches independent of the worker count, normalisation, edges and errors, the
 * decoded-image cache.
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

/* Reads every batch of an epoch into one array. */
static float *epoch_images(sscma_loader *l, int64_t epoch, int64_t batch, int64_t per, int64_t *batches)
{
    const int64_t dims[4] = {batch, 32, 32, 1};
    sscma_tensor *images = NULL, *labels = NULL;
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &images);
    sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, dims, &labels);
    sscma_loader_batches(l, batches);
    float *all = calloc((size_t)(*batches * batch * per), sizeof *all);
    sscma_loader_start_epoch(l, epoch);
    int64_t count = 0, k = 0;
    void *d = NULL;
    sscma_tensor_data(images, &d);
    while (sscma_loader_next(l, images, labels, &count) == SSCMA_OK && count > 0)
        memcpy(all + (k++) * batch * per, d, (size_t)(batch * per) * sizeof(float));
    sscma_tensor_destroy(images);
    sscma_tensor_destroy(labels);
    return all;
}

static void loader_batches_do_not_depend_on_workers(void)
{
    if (!have_fashion()) {
        test_fail(__FILE__, __LINE__, "dataset-fashion-mnist missing");
        return;
    }
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\"}", &ds));
#define LOADER_CFG                                                                                             \
    "{\"batch_size\": 64, \"shuffle\": true, \"num_workers\": %d, \"seed\": 5, \"pipeline\": ["                       \
    "{\"type\": \"Pad\", \"padding\": 2}, {\"type\": \"RandomFlip\", \"prob\": 0.5},"                             \
    " {\"type\": \"RandomCrop\", \"size\": 32, \"padding\": 2},"                                                    \
    " {\"type\": \"RandomAffine\", \"max_rotate_degree\": 15}, {\"type\": \"ColorJitter\", \"brightness\": 0.3,"     \
    " \"contrast\": 0.3}, {\"type\": \"HSVRandomAug\"}, {\"type\": \"Blur\", \"prob\": 0.3},"                           \
    " {\"type\": \"Normalize\", \"mean\": [72.94], \"std\": [90.02]}]}"
    float *ref = NULL;
    int64_t batches = 0;
    for (int workers = 0; workers <= 3; workers++) {
        char cfg[1024];
        snprintf(cfg, sizeof cfg, LOADER_CFG, workers == 2 ? 3 : workers);
        sscma_loader *l = NULL;
        CHECK_OK(sscma_loader_create(ctx, ds, cfg, &l));
        if (l == NULL)
            continue;
        float *got = epoch_images(l, workers == 3 ? 2 : 1, 64, 1024, &batches);
        CHECK_INT_EQ(batches, 157); /* 10000 / 64, the last one partial */
        if (workers == 0)
            ref = got;
        else if (workers < 3) {
            CHECK(memcmp(ref, got, (size_t)(batches * 64 * 1024) * sizeof(float)) == 0);
            free(got);
        } else { /* another epoch: another order */
            CHECK(memcmp(ref, got, (size_t)(64 * 1024) * sizeof(float)) != 0);
            free(got);
        }
        sscma_loader_destroy(l);
    }
    /* Normalize: mean about 0 and std about 1 over an epoch without the colour and affine changes (padding zeros
     * pull the mean below) */
    free(ref);
    ref = NULL;
    sscma_loader *plain = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 64, \"pipeline\": [{\"type\": \"Pad\", \"padding\": 2},"
                                          " {\"type\": \"Normalize\", \"mean\": [72.94], \"std\": [90.02]}]}", &plain));
    if (plain == NULL) {
        sscma_dataset_destroy(ds);
        return;
    }
    ref = epoch_images(plain, 0, 64, 1024, &batches);
    sscma_loader_destroy(plain);
    double sum = 0.0, sq = 0.0;
    int64_t n = 10000 * 1024;
    for (int64_t i = 0; i < n; i++)
        sum += ref[i], sq += (double)ref[i] * ref[i];
    double mean = sum / (double)n, std = sqrt(sq / (double)n - mean * mean);
    CHECK(mean > -0.3 && mean < 0.1 && std > 0.8 && std < 1.2);
    free(ref);
    sscma_dataset_destroy(ds);
}

static void loader_edges_and_errors(void)
{
    char dir[128], images[256], labels[256], cfg[400];
    snprintf(dir, sizeof dir, "%s/idx_small", tmpdir);
    mkdir(dir, 0755);
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte", dir);
    uint8_t pixels[5 * 2 * 3], lab[5] = {0, 1, 2, 3, 4};
    for (int i = 0; i < 30; i++)
        pixels[i] = (uint8_t)(i * 8);
    const uint32_t idims[3] = {5, 2, 3}, ldims[1] = {5};
    write_idx(images, 0x803, idims, 3, pixels, sizeof pixels, false);
    write_idx(labels, 0x801, ldims, 1, lab, sizeof lab, false);
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"test_mode\": true}", dir);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_loader *l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 2, \"pipeline\": [{\"type\": \"RandomFlip\", \"prob\": 1.0,"
                                           " \"direction\": \"horizontal\"}]}", &l));
    const int64_t dims[4] = {2, 2, 3, 1}, wrong[4] = {2, 3, 2, 1};
    sscma_tensor *img = NULL, *bad = NULL, *lab_t = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &img));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, wrong, &bad));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, dims, &lab_t));
    int64_t count = -1, batches = 0;
    void *d = NULL, *ld = NULL;
    CHECK_OK(sscma_loader_batches(l, &batches));
    CHECK_INT_EQ(batches, 3);
    CHECK_FAILS(sscma_loader_next(l, bad, lab_t, &count), SSCMA_ERR_SHAPE, "images must be f32[2, 2, 3, 1]");
    CHECK_FAILS(sscma_loader_next(l, img, img, &count), SSCMA_ERR_DTYPE, "labels must be i32[2]");
    CHECK_OK(sscma_loader_next(l, img, lab_t, &count));
    CHECK_INT_EQ(count, 2);
    sscma_tensor_data(img, &d);
    sscma_tensor_data(lab_t, &ld);
    /* sample 0 rows (0, 8, 16) and (24, 32, 40), flipped: 16, 8, 0 */
    CHECK(((float *)d)[0] == 16.0f && ((float *)d)[1] == 8.0f && ((float *)d)[2] == 0.0f);
    CHECK(((int32_t *)ld)[1] == 1);
    CHECK_OK(sscma_loader_next(l, img, lab_t, &count));
    CHECK_OK(sscma_loader_next(l, img, lab_t, &count));
    CHECK_INT_EQ(count, 1); /* the last, partial batch: the unused row is zero */
    CHECK(((float *)d)[6] == 0.0f && ((float *)d)[11] == 0.0f);
    CHECK_OK(sscma_loader_next(l, img, lab_t, &count));
    CHECK_INT_EQ(count, 0); /* end of the epoch */
    sscma_loader_destroy(l);
    l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 2, \"drop_last\": true}", &l));
    CHECK_OK(sscma_loader_batches(l, &batches));
    CHECK_INT_EQ(batches, 2);
    sscma_loader_destroy(l);
    l = NULL;
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"batch\": 2}", &l), SSCMA_ERR_CONFIG, "unknown key 'batch'");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"batch_size\": 0}", &l), SSCMA_ERR_CONFIG, "sscma_loader_create: batch_size: expected an integer 1..1048576, got 0");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"GaussNoise\"}]}", &l), SSCMA_ERR_CONFIG,
                "pipeline: pipeline[0].type: expected one of: Resize, Pad, RandomCrop, RandomFlip, ToGray, ToRGB, "
                "Normalize, LetterResize, HSVRandomAug, ColorJitter, Blur, MedianBlur, RandomAffine, RandomRotate, "
                "Mosaic, YOLOv5MixUp, YOLOv5RandomAffine, YOLOv5HSVRandomAug, YOLOv5KeepRatioResize, Albu, RandomResize, MixUp, got "
                "\"GaussNoise\"");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"Resize\"}]}", &l), SSCMA_ERR_CONFIG,
                "Resize: pipeline[0].size: expected an integer 1..16384 or [h, w] of integers 1..16384, missing");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"Normalize\", \"mean\": [1, 2], \"std\": [1]}]}",
                                    &l),
                SSCMA_ERR_CONFIG, "Normalize: pipeline[0].std: expected a list of 2 numbers (one per mean), got [1]");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"RandomFlip\", \"p\": 1}]}", &l),
                SSCMA_ERR_CONFIG, "unknown key 'p'; valid keys: type, prob, direction");
    CHECK_FAILS(sscma_loader_create(NULL, ds, "{}", &l), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_loader_batches(NULL, &batches), SSCMA_ERR_INVALID_ARGUMENT, "'loader'");
    CHECK_FAILS(sscma_loader_start_epoch(NULL, 0), SSCMA_ERR_INVALID_ARGUMENT, "'loader'");
    CHECK_FAILS(sscma_loader_next(NULL, img, lab_t, &count), SSCMA_ERR_INVALID_ARGUMENT, "'loader'");
    CHECK(l == NULL);
    sscma_loader_destroy(NULL);
    CHECK_OK(sscma_loader_create(ctx, ds, "{}", &l));
    CHECK_FAILS(sscma_loader_start_epoch(l, -1), SSCMA_ERR_INVALID_ARGUMENT, "epoch -1");
    sscma_loader_destroy(l);
    sscma_tensor_destroy(img);
    sscma_tensor_destroy(bad);
    sscma_tensor_destroy(lab_t);
    sscma_dataset_destroy(ds);
}

static void loader_cache_keeps_decoded_images(void)
{
    char root[160], path[300], cfg[400];
    snprintf(root, sizeof root, "%s/cached", tmpdir);
    mkdir(root, 0755);
    snprintf(path, sizeof path, "%s/k", root);
    mkdir(path, 0755);
    uint8_t px[12 * 12];
    for (int i = 0; i < 6; i++) {
        memset(px, 20 * i, sizeof px);
        snprintf(path, sizeof path, "%s/k/%d.png", root, i);
        stbi_write_png(path, 12, 12, 1, px, 12);
    }
    snprintf(cfg, sizeof cfg, "{\"type\": \"CustomDataset\", \"data_root\": \"%s\"}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_loader *cached = NULL, *plain = NULL;
#define CACHE_CFG "{\"batch_size\": 6, \"num_workers\": %d, \"cache\": %s, \"pipeline\": [{\"type\": \"Resize\", \"size\": 12}]}"
    char c1[256], c2[256];
    snprintf(c1, sizeof c1, CACHE_CFG, 1, "true");
    snprintf(c2, sizeof c2, CACHE_CFG, 0, "false");
    if (ds != NULL) {
        CHECK_OK(sscma_loader_create(ctx, ds, c1, &cached));
        CHECK_OK(sscma_loader_create(ctx, ds, c2, &plain));
    }
    if (cached != NULL && plain != NULL) {
        const int64_t dims[4] = {6, 12, 12, 1};
        sscma_tensor *a = NULL, *b = NULL;
        sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &a);
        sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &b);
        int64_t n = 0;
        CHECK_OK(sscma_loader_next(cached, a, NULL, &n));
        CHECK_OK(sscma_loader_next(plain, b, NULL, &n));
        void *da = NULL, *db = NULL;
        sscma_tensor_data(a, &da), sscma_tensor_data(b, &db);
        CHECK(memcmp(da, db, 6 * 144 * sizeof(float)) == 0);
        for (int i = 0; i < 6; i++) { /* the files go away: only the cache can still serve them */
            snprintf(path, sizeof path, "%s/k/%d.png", root, i);
            remove(path);
        }
        CHECK_OK(sscma_loader_start_epoch(cached, 1));
        CHECK_OK(sscma_loader_next(cached, a, NULL, &n));
        CHECK_INT_EQ(n, 6);
        CHECK(memcmp(da, db, 6 * 144 * sizeof(float)) == 0);
        CHECK_OK(sscma_loader_start_epoch(plain, 1));
        CHECK_FAILS(sscma_loader_next(plain, b, NULL, &n), SSCMA_ERR_IO, "0.png: cannot open");
        sscma_tensor_destroy(a), sscma_tensor_destroy(b);
    }
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"cache\": 1, \"pipeline\": [{\"type\": \"Resize\", \"size\": 12}]}",
                                    &plain), SSCMA_ERR_CONFIG, "cache: expected true or false, got 1");
    sscma_loader_destroy(cached);
    sscma_loader_destroy(plain);
    sscma_dataset_destroy(ds);
}

/*
 * BoxTarget: a YOLO fixture (40x20 images; labels written by hand) through Resize to 80x40 and a certain horizontal
 * flip arrives as rows (class, x1, y1, x2, y2, 1) in label order, zero rows after; an image without boxes gives
 * zero rows; a sample over max_boxes is refused naming its index and file.
 */
static void loader_box_targets_after_resize_and_flip(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/yolo_boxes", tmpdir);
    const char *dirs[] = {"", "/images", "/labels"};
    make_dirs(root, dirs, 3);
    uint8_t grey[40 * 20];
    memset(grey, 90, sizeof grey);
    const char *imgs[] = {"a.png", "b.png", "c.png"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/images/%s", root, imgs[i]);
        stbi_write_png(path, 40, 20, 1, grey, 40);
    }
    snprintf(path, sizeof path, "%s/labels/a.txt", root);
    write_text(path, "0 0.25 0.5 0.3 0.4\n2 0.7 0.3 0.2 0.2\n");
    snprintf(path, sizeof path, "%s/labels/c.txt", root);
    write_text(path, "1 0.1 0.2 0.1 0.2\n0 0.5 0.75 0.5 0.5\n2 0.875 0.5 0.25 1.0\n");
    snprintf(path, sizeof path, "%s/data.yaml", root);
    write_text(path, "nc: 3\nnames: [a, b, c]\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"data_prefix\": {\"img\": "
             "\"images\", \"label\": \"labels\"}}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    static const char pipeline[] =
        "[{\"type\": \"Resize\", \"size\": [40, 80]}, {\"type\": \"RandomFlip\", \"prob\": 1.0}]";
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 3, \"pipeline\": %s, \"target\": {\"type\": \"BoxTarget\", "
             "\"max_boxes\": 3}}", pipeline);
    sscma_loader *l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, cfg, &l));
    if (l != NULL) {
        sscma_dtype dt;
        int32_t rank = 0;
        int64_t td[4];
        CHECK_OK(sscma_loader_target_shape(l, &dt, &rank, td));
        CHECK(dt == SSCMA_DTYPE_F32 && rank == 3 && td[0] == 3 && td[1] == 3 && td[2] == 6);
        const int64_t idims[4] = {3, 40, 80, 1}, wrong[3] = {3, 4, 6};
        sscma_tensor *images = NULL, *rows = NULL, *bad = NULL;
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, idims, &images));
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, td, &rows));
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, wrong, &bad));
        int64_t got = 0;
        CHECK_FAILS(sscma_loader_next(l, images, bad, &got), SSCMA_ERR_SHAPE,
                    "box targets must be f32[3, 3, 6]; got f32 rank 3 [3, 4, 6]");
        CHECK_OK(sscma_loader_next(l, images, rows, &got));
        CHECK_INT_EQ(got, 3);
        /* label (cx, cy, w, h) x (40, 20) -> corners, x2 by Resize, x -> 80 - x by the flip (x1 and x2 swap) */
        static const float expect[3][3][6] = {
            {{0, 48, 12, 72, 28, 1}, {2, 16, 8, 32, 16, 1}, {0}},
            {{0}},
            {{1, 68, 4, 76, 12, 1}, {0, 20, 20, 60, 40, 1}, {2, 0, 0, 20, 40, 1}},
        };
        float *r = NULL;
        sscma_tensor_data(rows, (void **)&r);
        for (int i = 0; r != NULL && i < 3 * 3 * 6; i++)
            if (fabsf(r[i] - (&expect[0][0][0])[i]) > 1e-4f)
                test_fail(__FILE__, __LINE__, "image %d row %d column %d: %g, expected %g", i / 18, i / 6 % 3, i % 6,
                          (double)r[i], (double)(&expect[0][0][0])[i]);
        sscma_tensor_destroy(images), sscma_tensor_destroy(rows), sscma_tensor_destroy(bad);
        sscma_loader_destroy(l);
    }
    /* two rows per image: c.png (sample 2) has three boxes */
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 3, \"pipeline\": %s, \"target\": {\"type\": \"BoxTarget\", "
             "\"max_boxes\": 2}}", pipeline);
    l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, cfg, &l));
    if (l != NULL) {
        const int64_t idims[4] = {3, 40, 80, 1}, tdims[3] = {3, 2, 6};
        sscma_tensor *images = NULL, *rows = NULL;
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, idims, &images));
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 3, tdims, &rows));
        int64_t got = 0;
        CHECK_FAILS(sscma_loader_next(l, images, rows, &got), SSCMA_ERR_INVALID_ARGUMENT,
                    "images/c.png): 3 boxes after the pipeline; target BoxTarget holds max_boxes 2: raise it");
        CHECK_STR_CONTAINS(sscma_last_error(), "sample 2 (");
        sscma_tensor_destroy(images), sscma_tensor_destroy(rows);
        sscma_loader_destroy(l);
    }
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"Resize\", \"size\": 32}], \"target\": "
                                              "{\"type\": \"BoxTarget\", \"max_boxes\": 0}}", &l),
                SSCMA_ERR_CONFIG, "target.max_boxes: expected an integer 1..1048576, got 0");
    sscma_dataset_destroy(ds);
    sscma_dataset *fashion = NULL;
    if (have_fashion() && sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 4}",
                                             &fashion) == SSCMA_OK) {
        CHECK_FAILS(sscma_loader_create(ctx, fashion, "{\"target\": {\"type\": \"BoxTarget\"}}", &l), SSCMA_ERR_CONFIG,
                    "BoxTarget needs a dataset with boxes (CocoDataset, YoloDataset, VOCDataset), not FashionMNIST");
        sscma_dataset_destroy(fashion);
    }
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(loader_cache_keeps_decoded_images),
        TEST_CASE(loader_batches_do_not_depend_on_workers),
        TEST_CASE(loader_edges_and_errors),
        TEST_CASE(loader_box_targets_after_resize_and_flip),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
