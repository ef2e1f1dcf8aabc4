/*
 * Unit tests of data.h. Transforms: how each moves pixels and boxes (through a FOMO grid), flat images kept flat, bad
 * transform configs.
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
        {"{\"pipeline\": [{\"type\": \"MedianBlur\", \"ksize\": 4}]}", "'ksize' is 1..31 (odd for MedianBlur)"},
        {"{\"pipeline\": [{\"type\": \"RandomRotate\", \"degrees\": [30, 10]}]}", "'degrees' is a number or [min, max]"},
        {"{\"pipeline\": [{\"type\": \"HSVRandomAug\", \"hue_delta\": 200}]}", "deltas are hue 0..180"},
        {"{\"pipeline\": [{\"type\": \"ColorJitter\", \"hue\": 0.1}]}", "unknown key 'hue'"},
        {"{\"pipeline\": [{\"type\": \"RandomAffine\", \"scaling_ratio_range\": [2, 1]}]}", "scaling_ratio_range"},
        {"{\"pipeline\": [{\"type\": \"Mosaic\"}]}", "unknown type 'Mosaic'; known: Resize"},
    };
    for (size_t i = 0; ds != NULL && i < sizeof bad / sizeof bad[0]; i++)
        CHECK_FAILS(sscma_loader_create(ctx, ds, bad[i].cfg, &l), SSCMA_ERR_CONFIG, bad[i].needle);
    sscma_dataset_destroy(ds);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(transforms_move_pixels_and_boxes),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
