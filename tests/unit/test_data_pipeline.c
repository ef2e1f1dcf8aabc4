/*
 * Unit tests of data.h. Transforms: how each moves pixels and boxes (through a FOMO grid), flat images kept flat,
 * defaults left out giving what they say, bad values and conflicting aliases refused with the schema's message
 * ("RandomFlip: pipeline[2].prob: expected a number 0..1, got 1.5").
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

/* Runs one batch of `pipeline` (with a FOMO target at stride 4) over a 40x20 image of grey 100 with one box
 * [10, 5, 30, 15] of class 1; stores the image and the target grid. */
static void one_transformed(const char *pipeline, int64_t oh, int64_t ow, float **image, float **grid)
{
    char root[160], path[300], cfg[900];
    snprintf(root, sizeof root, "%s/tf", tmpdir);
    const char *dirs[] = {"", "/images", "/labels"};
    make_dirs(root, dirs, 3);
    uint8_t grey[40 * 20];
    memset(grey, 100, sizeof grey);
    snprintf(path, sizeof path, "%s/images/a.png", root);
    stbi_write_png(path, 40, 20, 1, grey, 40);
    snprintf(path, sizeof path, "%s/labels/a.txt", root);
    write_text(path, "1 0.5 0.5 0.5 0.5\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"classes\": [\"a\", \"b\"]}", root);
    sscma_dataset *ds = NULL;
    sscma_loader *l = NULL;
    *image = NULL, *grid = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 1, \"pipeline\": %s, \"target\": {\"type\": \"FomoTarget\", \"stride\": 4}}",
             pipeline);
    if (ds != NULL)
        CHECK_OK(sscma_loader_create(ctx, ds, cfg, &l));
    if (l != NULL) {
        const int64_t idims[4] = {1, oh, ow, 1}, gdims[4] = {1, oh / 4, ow / 4, 3};
        sscma_tensor *ti = NULL, *tg = NULL;
        sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, idims, &ti);
        sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, gdims, &tg);
        int64_t got = 0;
        CHECK_OK(sscma_loader_next(l, ti, tg, &got));
        float *a = NULL, *b = NULL;
        sscma_tensor_data(ti, (void **)&a), sscma_tensor_data(tg, (void **)&b);
        *image = malloc((size_t)(oh * ow) * sizeof(float));
        *grid = malloc((size_t)(oh / 4 * ow / 4 * 3) * sizeof(float));
        memcpy(*image, a, (size_t)(oh * ow) * sizeof(float));
        memcpy(*grid, b, (size_t)(oh / 4 * ow / 4 * 3) * sizeof(float));
        sscma_tensor_destroy(ti), sscma_tensor_destroy(tg);
    }
    sscma_loader_destroy(l);
    sscma_dataset_destroy(ds);
}

/* The class-1 cell of the grid (channel 2 set), as y * width + x, or -1. */
static int64_t marked_cell(const float *grid, int64_t cells)
{
    int64_t found = -1;
    for (int64_t i = 0; i < cells; i++)
        if (grid[i * 3 + 2] == 1.0f)
            found = found < 0 ? i : -2;
    return found;
}

static void transforms_move_pixels_and_boxes(void)
{
    float *img = NULL, *grid = NULL;
    /* LetterResize: 40x20 into 40x40, padded 10 rows above and below with 114; the box moves down by 10 */
    one_transformed("[{\"type\": \"LetterResize\", \"scale\": [40, 40]}]", 40, 40, &img, &grid);
    if (img != NULL) {
        CHECK(img[0] == 114.0f && img[9 * 40] == 114.0f && img[10 * 40] == 100.0f && img[29 * 40 + 39] == 100.0f &&
              img[30 * 40] == 114.0f);
        CHECK_INT_EQ(marked_cell(grid, 100), 5 * 10 + 5); /* centre (20, 20) */
    }
    free(img), free(grid);
    /* RandomRotate by exactly 90 degrees: the box [10, 5, 30, 15] about (20, 10) becomes [15, 0, 25, 20] */
    one_transformed("[{\"type\": \"RandomRotate\", \"degrees\": [90, 90], \"prob\": 1, \"border_val\": 7},"
                    " {\"type\": \"Resize\", \"size\": [16, 40]}]", 16, 40, &img, &grid);
    if (img != NULL) {
        /* corners come from outside the rotated 20-high strip: the border value; the middle stays 100 */
        CHECK(img[0] == 7.0f && fabsf(img[8 * 40 + 20] - 100.0f) < 1e-3f);
        CHECK_INT_EQ(marked_cell(grid, 40), 2 * 10 + 5); /* centre (20, 10) -> resized (20, 8): cell (5, 2) */
    }
    free(img), free(grid);
    /* Resize keep_ratio then Pad: 40x20 fits 20x20 as 20x10, padded below with 0; the box halves */
    one_transformed("[{\"type\": \"Resize\", \"size\": [20, 20], \"keep_ratio\": true},"
                    " {\"type\": \"Pad\", \"size\": [20, 20]}]", 20, 20, &img, &grid);
    if (img != NULL) {
        CHECK(fabsf(img[0] - 100.0f) < 1e-3f && fabsf(img[9 * 20 + 19] - 100.0f) < 1e-3f && img[10 * 20] == 0.0f);
        CHECK_INT_EQ(marked_cell(grid, 25), 1 * 5 + 2); /* centre (10, 5) */
    }
    free(img), free(grid);
    /* filters and colour changes of a flat grey image */
    static const char *const flat[] = {
        "[{\"type\": \"Resize\", \"size\": [20, 40]}, {\"type\": \"Blur\", \"ksize\": 5}]", "[{\"type\": \"Resize\", \"size\": [20, 40]}, {\"type\": \"MedianBlur\", \"ksize\": 3}]",
        "[{\"type\": \"Resize\", \"size\": [20, 40]}, {\"type\": \"HSVRandomAug\", \"hue_delta\": 0, \"saturation_delta\": 0, \"value_delta\": 0}]",
        "[{\"type\": \"Resize\", \"size\": [20, 40]}, {\"type\": \"ColorJitter\"}]",
        "[{\"type\": \"Resize\", \"size\": [20, 40]}, {\"type\": \"RandomAffine\", \"max_rotate_degree\": 0, \"max_translate_ratio\": 0,"
        " \"scaling_ratio_range\": [1, 1], \"max_shear_degree\": 0}]"};
    for (int k = 0; k < 5; k++) {
        one_transformed(flat[k], 20, 40, &img, &grid);
        bool same = img != NULL;
        for (int64_t i = 0; same && i < 20 * 40; i++)
            same = fabsf(img[i] - 100.0f) < 1e-3f;
        if (!same)
            test_fail(__FILE__, __LINE__, "%s changed a flat image of 100 (first pixel %g)", flat[k],
                      img != NULL ? (double)img[0] : -1.0);
        if (grid != NULL)
            CHECK_INT_EQ(marked_cell(grid, 50), 2 * 10 + 5); /* the box stays at (20, 10) */
        free(img), free(grid);
    }
    /* the value change of HSVRandomAug on grey: one offset for the whole image, within the delta */
    one_transformed("[{\"type\": \"Resize\", \"size\": [20, 40]}, {\"type\": \"HSVRandomAug\", \"value_delta\": 30}]", 20, 40, &img, &grid);
    if (img != NULL)
        CHECK(fabsf(img[0] - 100.0f) <= 30.0f && img[0] == img[20 * 40 - 1]);
    free(img), free(grid);
    sscma_loader *l = NULL;
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 8}", &ds));
    static const struct {
        const char *cfg, *needle;
    } bad[] = {
        {"{\"pipeline\": [{\"type\": \"MedianBlur\", \"ksize\": 4}]}",
         "MedianBlur: pipeline[0].ksize: expected an odd integer 1..31 or [h, w] of odd integers 1..31, got 4"},
        {"{\"pipeline\": [{\"type\": \"RandomRotate\", \"degrees\": [30, 10]}]}",
         "RandomRotate: pipeline[0].degrees: expected a number 0..360 or [min, max] with -360 <= min <= max <= 360, "
         "got [30,10]"},
        {"{\"pipeline\": [{\"type\": \"HSVRandomAug\", \"hue_delta\": 200}]}",
         "HSVRandomAug: pipeline[0].hue_delta: expected a number 0..180, got 200"},
        {"{\"pipeline\": [{\"type\": \"ColorJitter\", \"hue\": 0.1}]}", "unknown key 'hue'"},
        {"{\"pipeline\": [{\"type\": \"RandomAffine\", \"scaling_ratio_range\": [2, 1]}]}",
         "RandomAffine: pipeline[0].scaling_ratio_range: expected [min, max] with min <= max, got [2,1]"},
        {"{\"pipeline\": [{\"type\": \"Mosaic9\"}]}",
         "pipeline: pipeline[0].type: expected one of: Resize, Pad, RandomCrop, RandomFlip, ToGray, ToRGB, Normalize, "
         "LetterResize, HSVRandomAug, ColorJitter, Blur, MedianBlur, RandomAffine, RandomRotate, Mosaic, YOLOv5MixUp, "
         "YOLOv5RandomAffine, YOLOv5HSVRandomAug, YOLOv5KeepRatioResize, Albu, RandomResize, MixUp, got \"Mosaic9\""},
    };
    for (size_t i = 0; ds != NULL && i < sizeof bad / sizeof bad[0]; i++)
        CHECK_FAILS(sscma_loader_create(ctx, ds, bad[i].cfg, &l), SSCMA_ERR_CONFIG, bad[i].needle);
    sscma_dataset_destroy(ds);
}

/* The first batch of 8 Fashion-MNIST images through `pipeline` (out h x w x 1), or NULL (the failure recorded). */
static float *fashion_batch(sscma_dataset *ds, const char *pipeline, int64_t h, int64_t w)
{
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"batch_size\": 8, \"pipeline\": %s}", pipeline);
    sscma_loader *l = NULL;
    sscma_tensor *images = NULL, *labels = NULL;
    const int64_t dims[4] = {8, h, w, 1};
    float *out = NULL;
    void *d = NULL;
    int64_t count = 0;
    CHECK_OK(sscma_loader_create(ctx, ds, cfg, &l));
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &images);
    sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, dims, &labels);
    if (l != NULL && sscma_loader_next(l, images, labels, &count) == SSCMA_OK && count == 8 &&
        sscma_tensor_data(images, &d) == SSCMA_OK && (out = malloc((size_t)(8 * h * w) * sizeof *out)) != NULL)
        memcpy(out, d, (size_t)(8 * h * w) * sizeof *out);
    if (out == NULL)
        test_fail(__FILE__, __LINE__, "no batch from %s: %s", pipeline, sscma_last_error());
    sscma_tensor_destroy(images), sscma_tensor_destroy(labels);
    sscma_loader_destroy(l);
    return out;
}

/*
 * Each transform with its keys left out gives the batch that the documented defaults spelt out give (and the
 * aliases the same as their keys), and a changed value gives another batch, so that the comparison can fail.
 */
static void transform_defaults_still_apply(void)
{
    if (!have_fashion()) {
        test_fail(__FILE__, __LINE__, "dataset-fashion-mnist missing");
        return;
    }
    static const struct {
        const char *omitted, *spelt, *changed; /* changed: NULL for none */
        int64_t h, w;
    } cases[] = {
        {"{\"type\": \"RandomFlip\"}", "{\"type\": \"RandomFlip\", \"prob\": 0.5, \"direction\": \"horizontal\"}",
         "{\"type\": \"RandomFlip\", \"direction\": \"vertical\"}", 28, 28},
        {"{\"type\": \"RandomRotate\"}", "{\"type\": \"RandomRotate\", \"degrees\": [-10, 10], \"prob\": 0.5, "
         "\"border_val\": 0}", "{\"type\": \"RandomRotate\", \"degrees\": 10, \"border_val\": 9}", 28, 28},
        {"{\"type\": \"RandomAffine\"}",
         "{\"type\": \"RandomAffine\", \"max_rotate_degree\": 10, \"max_translate_ratio\": 0.1, "
         "\"scaling_ratio_range\": [0.5, 1.5], \"max_shear_degree\": 2, \"border_val\": 114}",
         "{\"type\": \"RandomAffine\", \"scaling_ratio_range\": [0.5, 1.4]}", 28, 28},
        {"{\"type\": \"HSVRandomAug\"}", "{\"type\": \"HSVRandomAug\", \"hue_delta\": 5, \"saturation_delta\": 30, "
         "\"value_delta\": 30}", "{\"type\": \"HSVRandomAug\", \"value_delta\": 20}", 28, 28},
        {"{\"type\": \"ColorJitter\"}",
         "{\"type\": \"ColorJitter\", \"brightness\": 0, \"contrast\": 0, \"saturation\": 0}",
         "{\"type\": \"ColorJitter\", \"contrast\": 0.5}", 28, 28},
        {"{\"type\": \"Blur\"}", "{\"type\": \"Blur\", \"blur_limit\": [3, 3], \"p\": 1}",
         "{\"type\": \"Blur\", \"ksize\": [3, 5]}", 28, 28},
        {"{\"type\": \"MedianBlur\"}", "{\"type\": \"MedianBlur\", \"ksize\": 3, \"prob\": 1, \"p\": 1.0}",
         "{\"type\": \"MedianBlur\", \"prob\": 0}", 28, 28},
        {"{\"type\": \"LetterResize\", \"scale\": [40, 32]}", "{\"type\": \"LetterResize\", \"size\": [32, 40], "
         "\"pad_val\": {\"img\": 114}, \"allow_scale_up\": true, \"use_mini_pad\": false, \"stretch_only\": false}",
         "{\"type\": \"LetterResize\", \"scale\": [40, 32], \"allow_scale_up\": false}", 32, 40},
        {"{\"type\": \"Pad\", \"padding\": 2}", "{\"type\": \"Pad\", \"padding\": [2, 2, 2, 2], \"pad_val\": 0}",
         "{\"type\": \"Pad\", \"padding\": 2, \"pad_val\": 1}", 32, 32},
        {"{\"type\": \"RandomCrop\", \"size\": 24}",
         "{\"type\": \"RandomCrop\", \"crop_size\": [24, 24], \"padding\": 0, \"pad_val\": 0}",
         "{\"type\": \"RandomCrop\", \"size\": 24, \"padding\": 2}", 24, 24},
        {"{\"type\": \"Resize\", \"size\": [32, 40]}",
         "{\"type\": \"Resize\", \"scale\": [32, 40], \"size\": [32, 40], \"keep_ratio\": false}",
         NULL, 32, 40}, /* keep_ratio true gives another size */
    };
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 8}", &ds));
    for (size_t i = 0; ds != NULL && i < sizeof cases / sizeof cases[0]; i++) {
        char a[300], b[300], c[300];
        snprintf(a, sizeof a, "[%s]", cases[i].omitted);
        snprintf(b, sizeof b, "[%s]", cases[i].spelt);
        snprintf(c, sizeof c, "[%s]", cases[i].changed != NULL ? cases[i].changed : "");
        const int64_t h = cases[i].h, w = cases[i].w, n = 8 * h * w;
        float *omitted = fashion_batch(ds, a, h, w), *spelt = fashion_batch(ds, b, h, w);
        float *changed = cases[i].changed != NULL ? fashion_batch(ds, c, h, w) : NULL;
        if (omitted != NULL && spelt != NULL && memcmp(omitted, spelt, (size_t)n * sizeof *spelt) != 0)
            test_fail(__FILE__, __LINE__, "%s and %s give different batches", a, b);
        if (omitted != NULL && changed != NULL && memcmp(omitted, changed, (size_t)n * sizeof *changed) == 0)
            test_fail(__FILE__, __LINE__, "%s and %s give the same batch", a, c);
        free(omitted), free(spelt), free(changed);
    }
    sscma_dataset_destroy(ds);
}

/* `transform` as the third of a pipeline fails with exactly `message` (SSCMA_ERR_CONFIG). */
static void third_fails(sscma_dataset *ds, const char *transform, const char *message)
{
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"pipeline\": [{\"type\": \"Resize\", \"size\": 28}, {\"type\": \"ToGray\"}, %s]}",
             transform);
    sscma_loader *l = NULL;
    CHECK_FAILS(sscma_loader_create(ctx, ds, cfg, &l), SSCMA_ERR_CONFIG, message);
    CHECK_STR_EQ(sscma_last_error(), message);
    CHECK(l == NULL);
    sscma_loader_destroy(l);
}

/* Wrong types and out-of-range values, per transform, named by their place: "<type>: pipeline[2].<key>: ...". */
static void transform_values_are_checked(void)
{
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 8}", &ds));
    if (ds == NULL)
        return;
    /* wrong types, once accepted: a string prob, a non-number pad_val or border_val (became 114 or 0) */
    third_fails(ds, "{\"type\": \"RandomFlip\", \"prob\": \"0.5\"}",
                "RandomFlip: pipeline[2].prob: expected a number 0..1, got \"0.5\"");
    third_fails(ds, "{\"type\": \"LetterResize\", \"scale\": 32, \"pad_val\": \"grey\"}",
                "LetterResize: pipeline[2].pad_val: expected a number 0..255, equal numbers per channel or "
                "{\"img\": number}, got \"grey\"");
    third_fails(ds, "{\"type\": \"RandomAffine\", \"border_val\": [0]}",
                "RandomAffine: pipeline[2].border_val: expected a number, got [0]");
    third_fails(ds, "{\"type\": \"RandomRotate\", \"border_val\": true}",
                "RandomRotate: pipeline[2].border_val: expected a number, got true");
    third_fails(ds, "{\"type\": \"Pad\", \"padding\": 2, \"pad_val\": \"0\"}",
                "Pad: pipeline[2].pad_val: expected a number 0..255, equal numbers per channel or {\"img\": number}, "
                "got \"0\"");
    third_fails(ds, "{\"type\": \"Resize\", \"size\": 8, \"keep_ratio\": 1}",
                "Resize: pipeline[2].keep_ratio: expected true or false, got 1");
    third_fails(ds, "{\"type\": \"LetterResize\", \"scale\": 32, \"allow_scale_up\": 0}",
                "LetterResize: pipeline[2].allow_scale_up: expected true or false, got 0");
    third_fails(ds, "{\"type\": \"RandomFlip\", \"direction\": \"diagonal\"}",
                "RandomFlip: pipeline[2].direction: expected one of: horizontal, vertical, got \"diagonal\"");
    third_fails(ds, "{\"type\": \"Pad\", \"padding\": [1, 2, 3]}",
                "Pad: pipeline[2].padding: expected an integer 0..4096 or [left, top, right, bottom] of integers "
                "0..4096, got [1,2,3]");
    third_fails(ds, "{\"type\": \"Resize\", \"size\": [28, 28.5]}",
                "Resize: pipeline[2].size: expected an integer 1..16384 or [h, w] of integers 1..16384, got [28,28.5]");
    third_fails(ds, "{\"type\": \"Normalize\", \"mean\": \"0\", \"std\": [1]}",
                "Normalize: pipeline[2].mean: expected a list of 1 to 4 numbers, got \"0\"");
    third_fails(ds, "{\"type\": \"Normalize\", \"mean\": [0]}",
                "Normalize: pipeline[2].std: expected a list of 1 number (one per mean), missing");
    third_fails(ds, "{\"type\": \"RandomCrop\", \"size\": 24, \"padding\": [1, 1]}",
                "RandomCrop: pipeline[2].padding: expected an integer 0..4096, got [1,1]");
    /* out of range */
    third_fails(ds, "{\"type\": \"RandomFlip\", \"prob\": 1.5}", "RandomFlip: pipeline[2].prob: expected a number "
                "0..1, got 1.5");
    third_fails(ds, "{\"type\": \"Blur\", \"p\": -0.25}", "Blur: pipeline[2].p: expected a number 0..1, got -0.25");
    third_fails(ds, "{\"type\": \"RandomRotate\", \"prob\": 2}", "RandomRotate: pipeline[2].prob: expected a number "
                "0..1, got 2");
    third_fails(ds, "{\"type\": \"ColorJitter\", \"contrast\": 1.5}",
                "ColorJitter: pipeline[2].contrast: expected a number 0..1, got 1.5");
    third_fails(ds, "{\"type\": \"HSVRandomAug\", \"saturation_delta\": 256}",
                "HSVRandomAug: pipeline[2].saturation_delta: expected a number 0..255, got 256");
    third_fails(ds, "{\"type\": \"RandomAffine\", \"max_shear_degree\": 50}",
                "RandomAffine: pipeline[2].max_shear_degree: expected a number 0..45, got 50");
    third_fails(ds, "{\"type\": \"RandomAffine\", \"scaling_ratio_range\": [0.001, 1]}",
                "RandomAffine: pipeline[2].scaling_ratio_range[0]: expected a number 0.01..100, got 0.001");
    third_fails(ds, "{\"type\": \"Blur\", \"ksize\": [3, 33]}",
                "Blur: pipeline[2].ksize: expected an integer 1..31 or [h, w] of integers 1..31, got [3,33]");
    third_fails(ds, "{\"type\": \"MedianBlur\", \"blur_limit\": 4}",
                "MedianBlur: pipeline[2].blur_limit: expected an odd integer 1..31 or [h, w] of odd integers 1..31, "
                "got 4");
    third_fails(ds, "{\"type\": \"RandomRotate\", \"degrees\": -5}",
                "RandomRotate: pipeline[2].degrees: expected a number 0..360 or [min, max] with -360 <= min <= max <= "
                "360, got -5");
    third_fails(ds, "{\"type\": \"Pad\", \"padding\": 4097}",
                "Pad: pipeline[2].padding: expected an integer 0..4096 or [left, top, right, bottom] of integers "
                "0..4096, got 4097");
    third_fails(ds, "{\"type\": \"RandomCrop\", \"crop_size\": 0}", /* crop_size alone: mmdet's [w, h] */
                "RandomCrop: pipeline[2].crop_size: expected an integer 1..16384 or [w, h] of integers 1..16384, "
                "got 0");
    third_fails(ds, "{\"type\": \"RandomCrop\", \"size\": 8, \"crop_type\": \"absolute\"}",
                "RandomCrop: pipeline[2].size: expected no libsscma key (size, padding, pad_val) with mmdet's "
                "crop_type, allow_negative_crop, recompute_bbox or bbox_clip_border, got 8");
    third_fails(ds, "{\"type\": \"RandomCrop\", \"crop_size\": [0.5, 1.5], \"crop_type\": \"relative\"}",
                "RandomCrop: pipeline[2].crop_size: expected a number in (0, 1] or a pair of numbers in (0, 1], got "
                "[0.5,1.5]");
    third_fails(ds, "{\"type\": \"RandomCrop\", \"crop_size\": [9, 4], \"crop_type\": \"absolute_range\"}",
                "RandomCrop: pipeline[2].crop_size: expected [min, max] of integers 1..16384 with min <= max, got "
                "[9,4]");
    third_fails(ds, "{\"type\": \"RandomCrop\", \"crop_size\": 8, \"crop_type\": \"middle\"}",
                "RandomCrop: pipeline[2].crop_type: expected one of: absolute, absolute_range, relative, relative_range, "
                "got \"middle\"");
    third_fails(ds, "{\"type\": \"RandomResize\", \"scale\": [64, 32]}",
                "RandomResize: pipeline[2].scale: expected [[w, h], [w, h]] of integers 1..16384 (two scales; one "
                "[w, h] needs ratio_range), got [64,32]");
    third_fails(ds, "{\"type\": \"RandomResize\", \"scale\": [64, 32], \"ratio_range\": [2, 1]}",
                "RandomResize: pipeline[2].ratio_range: expected [min, max] with min <= max, got [2,1]");
    third_fails(ds, "{\"type\": \"RandomResize\", \"scale\": [64, 32], \"ratio_range\": [1, 2], \"resize_type\": "
                "\"LetterResize\"}",
                "RandomResize: pipeline[2].resize_type: expected \"Resize\", got \"LetterResize\"");
    third_fails(ds, "{\"type\": \"Pad\", \"size\": 8, \"size_divisor\": 32}",
                "Pad: pipeline[2].size: expected no 'size' with size_divisor or pad_to_square, got 8");
    third_fails(ds, "{\"type\": \"Pad\", \"pad_val\": {\"img\": 114}}",
                "Pad: pipeline[2]: expected 'size' ([w, h]), 'size_divisor' or 'pad_to_square', "
                "missing");
    third_fails(ds, "{\"type\": \"Pad\", \"pad_val\": {\"img\": 300}, \"size\": 8}",
                "Pad: pipeline[2].pad_val: expected a number 0..255, equal numbers per channel or {\"img\": number}, "
                "got {\"img\":300}");
    third_fails(ds, "{\"type\": \"MixUp\", \"ratio_range\": [1.5, 0.5]}",
                "MixUp: pipeline[2].ratio_range: expected [min, max] with min <= max, got [1.5,0.5]");
    third_fails(ds, "{\"type\": \"MixUp\", \"use_cached\": true, \"pre_transform\": []}",
                "MixUp: pipeline[2].pre_transform: expected no pre_transform with use_cached (the mixed-in sample goes "
                "through the steps before MixUp), got []");
    third_fails(ds, "{\"type\": \"Normalize\", \"mean\": [0, 0], \"std\": [1, 0]}",
                "Normalize: pipeline[2].std[1]: expected a number > 0, got 0");
    /* the entry itself, and the rules across keys */
    third_fails(ds, "3", "pipeline: pipeline[2]: expected an object with a \"type\", got 3");
    third_fails(ds, "{\"type\": 7}", "pipeline: pipeline[2].type: expected one of: Resize, Pad, RandomCrop, "
                "RandomFlip, ToGray, ToRGB, Normalize, LetterResize, HSVRandomAug, ColorJitter, Blur, MedianBlur, "
                "RandomAffine, RandomRotate, Mosaic, YOLOv5MixUp, YOLOv5RandomAffine, YOLOv5HSVRandomAug, "
                "YOLOv5KeepRatioResize, Albu, RandomResize, MixUp, got 7");
    third_fails(ds, "{\"type\": \"Pad\"}", "Pad: pipeline[2]: expected 'size' (an integer or [h, w]) or 'padding' "
                "(an integer or [left, top, right, bottom]), missing");
    third_fails(ds, "{\"type\": \"Pad\", \"size\": 32, \"padding\": 2}",
                "Pad: pipeline[2].padding: expected no 'padding' with a 'size' (pad to a size or by a padding), got 2");
    third_fails(ds, "{\"type\": \"LetterResize\"}", "LetterResize: pipeline[2].scale: expected an integer 1..16384 "
                "or [h, w] of integers 1..16384, missing");
    sscma_loader *l = NULL;
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": {\"type\": \"Resize\"}}", &l), SSCMA_ERR_CONFIG,
                "pipeline: pipeline: expected a list of transforms, got {\"type\":\"Resize\"}");
    sscma_dataset_destroy(ds);
}

/* Two names of one setting given together must agree; the message names both. The same value twice is fine. */
static void transform_aliases_must_agree(void)
{
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 8}", &ds));
    if (ds == NULL)
        return;
    third_fails(ds, "{\"type\": \"Blur\", \"prob\": 1, \"p\": 0.5}",
                "Blur: pipeline[2].p: expected the same value as its alias 'prob', got 0.5");
    third_fails(ds, "{\"type\": \"MedianBlur\", \"ksize\": 3, \"blur_limit\": [3, 5]}",
                "MedianBlur: pipeline[2].blur_limit: expected the same value as its alias 'ksize', got [3,5]");
    third_fails(ds, "{\"type\": \"Resize\", \"size\": 28, \"scale\": [28, 30]}",
                "Resize: pipeline[2].scale: expected the same value as its alias 'size', got [28,30]");
    third_fails(ds, "{\"type\": \"RandomCrop\", \"size\": [24, 24], \"crop_size\": 20}",
                "RandomCrop: pipeline[2].crop_size: expected the same value as its alias 'size', got 20");
    third_fails(ds, "{\"type\": \"LetterResize\", \"scale\": [32, 32], \"size\": 30}",
                "LetterResize: pipeline[2].size: expected [h, w] of the same size as 'scale' ([w, h]), got 30");
    sscma_loader *l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds,
                                 "{\"pipeline\": [{\"type\": \"Resize\", \"size\": 28, \"scale\": [28, 28]}, "
                                 "{\"type\": \"Blur\", \"prob\": 0.5, \"p\": 0.5, \"ksize\": 3, "
                                 "\"blur_limit\": [3, 3]}]}",
                                 &l));
    sscma_loader_destroy(l);
    sscma_dataset_destroy(ds);
}

/* All batches of an epoch of `loader_cfg` over `ds` (images [3, 32, 32, 1], FOMO grid at stride 4, 3 classes),
 * concatenated into a malloc'ed array of *floats numbers, or NULL (the failure recorded). */
static float *epoch_of(sscma_dataset *ds, const char *loader_cfg, size_t *floats)
{
    sscma_loader *l = NULL;
    *floats = 0;
    CHECK_OK(sscma_loader_create(ctx, ds, loader_cfg, &l));
    if (l == NULL)
        return NULL;
    const int64_t idims[4] = {3, 32, 32, 1}, gdims[4] = {3, 8, 8, 4};
    const size_t per = 3 * 32 * 32 + 3 * 8 * 8 * 4;
    sscma_tensor *ti = NULL, *tg = NULL;
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, idims, &ti);
    sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, gdims, &tg);
    float *all = malloc(4 * per * sizeof *all);
    int64_t got = 0;
    for (int b = 0; b < 2; b++) {
        CHECK_OK(sscma_loader_next(l, ti, tg, &got));
        float *a = NULL, *g = NULL;
        sscma_tensor_data(ti, (void **)&a), sscma_tensor_data(tg, (void **)&g);
        memcpy(all + *floats, a, 3 * 32 * 32 * sizeof *a);
        memcpy(all + *floats + 3 * 32 * 32, g, 3 * 8 * 8 * 4 * sizeof *g);
        *floats += per;
    }
    sscma_tensor_destroy(ti), sscma_tensor_destroy(tg);
    sscma_loader_destroy(l);
    return all;
}

/*
 * SSCMA's Swift-YOLO training pipeline (Mosaic, YOLOv5RandomAffine with a negative border, Albu, YOLOv5HSVRandomAug,
 * RandomFlip) through the loader: the batch shape comes from Mosaic and the border; the boxes reach the targets; the
 * batches are the same with 0 or 2 worker threads and with the image cache (other samples are drawn by (seed,
 * sample, position), not by the order samples are built in); another seed gives other batches.
 */
static void pipeline_through_the_loader(const char *name, const char *pipeline)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/%s", tmpdir, name);
    const char *dirs[] = {"", "/images", "/labels"};
    make_dirs(root, dirs, 3);
    for (int i = 0; i < 6; i++) { /* 24 x (20 + 4 i) images of grey 30 (i + 1), one box of class i % 3 */
        const int w = 20 + 4 * i, h = 24;
        uint8_t px[24 * 40];
        memset(px, 30 * (i + 1), sizeof px);
        snprintf(path, sizeof path, "%s/images/%d.png", root, i);
        stbi_write_png(path, w, h, 1, px, w);
        snprintf(path, sizeof path, "%s/labels/%d.txt", root, i);
        char line[64];
        snprintf(line, sizeof line, "%d 0.5 0.5 0.6 0.6\n", i % 3);
        write_text(path, line);
    }
    snprintf(cfg, sizeof cfg, "{\"type\": \"YoloDataset\", \"data_root\": \"%s\", \"classes\": [\"a\", \"b\", \"c\"]}",
             root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    char lc[1400];
    size_t n0 = 0, n2 = 0, nc = 0, ns = 0;
    snprintf(lc, sizeof lc, "{\"batch_size\": 3, \"shuffle\": true, \"seed\": 5, \"num_workers\": 0, \"pipeline\": %s, "
             "\"target\": {\"type\": \"FomoTarget\", \"stride\": 4}}", pipeline);
    float *e0 = epoch_of(ds, lc, &n0);
    snprintf(lc, sizeof lc, "{\"batch_size\": 3, \"shuffle\": true, \"seed\": 5, \"num_workers\": 2, \"pipeline\": %s, "
             "\"target\": {\"type\": \"FomoTarget\", \"stride\": 4}}", pipeline);
    float *e2 = epoch_of(ds, lc, &n2);
    snprintf(lc, sizeof lc, "{\"batch_size\": 3, \"shuffle\": true, \"seed\": 5, \"cache\": true, \"pipeline\": %s, "
             "\"target\": {\"type\": \"FomoTarget\", \"stride\": 4}}", pipeline);
    float *ec = epoch_of(ds, lc, &nc);
    snprintf(lc, sizeof lc, "{\"batch_size\": 3, \"shuffle\": true, \"seed\": 6, \"pipeline\": %s, "
             "\"target\": {\"type\": \"FomoTarget\", \"stride\": 4}}", pipeline);
    float *es = epoch_of(ds, lc, &ns);
    CHECK(n0 > 0 && n0 == n2 && n0 == nc && n0 == ns);
    if (e0 != NULL && e2 != NULL && ec != NULL && es != NULL && n0 == n2 && n0 == nc && n0 == ns) {
        CHECK(memcmp(e0, e2, n0 * sizeof *e0) == 0);
        CHECK(memcmp(e0, ec, n0 * sizeof *e0) == 0);
        CHECK(memcmp(e0, es, n0 * sizeof *e0) != 0);
        /* some sample's grid marks an object (a box survived Mosaic and the affine filter) */
        const size_t per = 3 * 32 * 32 + 3 * 8 * 8 * 4;
        int marked = 0;
        for (size_t b = 0; b < 2; b++)
            for (size_t c = 0; c < 3 * 8 * 8; c++)
                marked += e0[b * per + 3 * 32 * 32 + 4 * c] == 0.0f;
        CHECK(marked > 0);
    }
    free(e0), free(e2), free(ec), free(es);
    sscma_dataset_destroy(ds);
}

static void mosaic_pipeline_through_the_loader(void)
{
    pipeline_through_the_loader("mosaic",
        "[{\"type\": \"Mosaic\", \"img_scale\": [32, 32], \"pad_val\": 114, \"pre_transform\": [{\"type\": "
        "\"LoadImageFromFile\"}, {\"type\": \"LoadAnnotations\", \"with_bbox\": true}]}, {\"type\": "
        "\"YOLOv5RandomAffine\", \"max_rotate_degree\": 0, \"max_shear_degree\": 0, \"scaling_ratio_range\": [0.5, 1.5], "
        "\"border\": [-16, -16], \"border_val\": [114, 114, 114]}, {\"type\": \"Albu\", \"transforms\": [{\"type\": "
        "\"Blur\", \"p\": 0.3}, {\"type\": \"MedianBlur\", \"p\": 0.3}, {\"type\": \"ToGray\", \"p\": 0.3}, "
        "{\"type\": \"CLAHE\", \"p\": 0.3}]}, {\"type\": \"YOLOv5HSVRandomAug\"}, {\"type\": \"RandomFlip\", "
        "\"prob\": 0.5}]");
}

/* SSCMA's RTMDet training pipeline at 32 x 32: cached Mosaic, RandomResize, mmdet's RandomCrop, HSVRandomAug,
 * RandomFlip, Pad with mmdet's pad_val, cached MixUp (its other sample through the steps before it, Mosaic's
 * loads included): the same batches with 0 or 2 workers and with the cache. */
static void rtmdet_pipeline_through_the_loader(void)
{
    pipeline_through_the_loader(
        "rtmdet",
        "[{\"type\": \"Mosaic\", \"img_scale\": [32, 32], \"use_cached\": true, \"max_cached_images\": 20, "
        "\"random_pop\": false, \"pad_val\": 114.0}, {\"type\": \"RandomResize\", \"scale\": [64, 64], "
        "\"ratio_range\": [0.5, 2.0], \"resize_type\": \"Resize\", \"keep_ratio\": true}, {\"type\": \"RandomCrop\", "
        "\"crop_size\": [32, 32]}, {\"type\": \"HSVRandomAug\"}, {\"type\": \"RandomFlip\", \"prob\": 0.5}, "
        "{\"type\": \"Pad\", \"size\": [32, 32], \"pad_val\": {\"img\": [114, 114, 114]}}, {\"type\": \"MixUp\", "
        "\"use_cached\": true, \"random_pop\": false, \"max_cached_images\": 10, \"prob\": 0.5}]");
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(mosaic_pipeline_through_the_loader),
        TEST_CASE(rtmdet_pipeline_through_the_loader),
        TEST_CASE(transforms_move_pixels_and_boxes),
        TEST_CASE(transform_defaults_still_apply),
        TEST_CASE(transform_values_are_checked),
        TEST_CASE(transform_aliases_must_agree),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
