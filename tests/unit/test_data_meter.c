/*
 * Unit tests of data.h. Keypoints (MeterData): composed meter sets through the pipeline, labelme JSON; OneHot targets
 * and photo backgrounds.
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
#include <stb_image.h>
#include <stb_image_write.h>

#include "data_fixtures.h"
#include "harness.h"

static void meter_keypoints_read_and_move(void)
{
    if (!have_fashion()) {
        test_fail(__FILE__, __LINE__, "Debian's dataset-fashion-mnist is not installed (tools/install-deps)");
        return;
    }
    sscma_dataset *src = NULL, *kp = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 500}", &src));
    if (src == NULL)
        return;
    char dir[160], cfg[600];
    snprintf(dir, sizeof dir, "%s/meter", tmpdir);
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"image_size\": [48, 64], \"splits\": {\"train\": 6},"
             " \"scale\": [1.0, 1.4], \"format\": \"meter\", \"seed\": 2}", dir);
    CHECK_OK(sscma_compose_detection(src, cfg));
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s/train\"}", dir);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &kp));
    if (kp == NULL)
        goto done;
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(kp, &n));
    CHECK_INT_EQ(n, 6);
    /* the loader normalises the keypoints after the pipeline moved them: pad 8 left, flip horizontally, resize x2 */
    sscma_loader *loader = NULL;
    CHECK_OK(sscma_loader_create(ctx, kp,
                                 "{\"batch_size\": 6, \"pipeline\": [{\"type\": \"Pad\", \"padding\": [8, 0, 0, 0]},"
                                 " {\"type\": \"RandomFlip\", \"prob\": 1.0}, {\"type\": \"Resize\", \"size\": [96, 144]}],"
                                 " \"target\": {\"type\": \"KeypointTarget\"}}",
                                 &loader));
    if (loader != NULL) {
        sscma_dtype dt;
        int32_t rank = 0;
        int64_t td[4];
        CHECK_OK(sscma_loader_target_shape(loader, &dt, &rank, td));
        CHECK(dt == SSCMA_DTYPE_F32 && rank == 2 && td[0] == 6 && td[1] == 4);
        const int64_t idims[4] = {6, 96, 144, 1};
        sscma_tensor *images = NULL, *targets = NULL;
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, idims, &images));
        CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, td, &targets));
        int64_t got = 0;
        CHECK_OK(sscma_loader_next(loader, images, targets, &got));
        const float *t = NULL;
        sscma_tensor_data(targets, (void **)&t);
        for (int64_t i = 0; t != NULL && i < 6; i++) {
            sscma_sample *s = NULL;
            int32_t count = 0;
            const float *xy = NULL;
            CHECK_OK(sscma_dataset_get(kp, i, &s));
            if (s != NULL)
                CHECK_OK(sscma_sample_keypoints(s, &count, &xy));
            CHECK_INT_EQ(count, 2);
            for (int32_t k = 0; xy != NULL && k < count; k++) {
                float x = (72.0f - (xy[2 * k] + 8.0f)) * 2.0f / 144.0f, y = xy[2 * k + 1] * 2.0f / 96.0f;
                if (fabsf(t[i * 4 + 2 * k] - x) > 1e-5f || fabsf(t[i * 4 + 2 * k + 1] - y) > 1e-5f)
                    test_fail(__FILE__, __LINE__, "sample %lld point %d: (%g, %g), expected (%g, %g)", (long long)i,
                              (int)k, (double)t[i * 4 + 2 * k], (double)t[i * 4 + 2 * k + 1], (double)x, (double)y);
            }
            /* the first point is the centre of the box whose top-left corner is the second */
            if (xy != NULL)
                CHECK(xy[0] > xy[2] && xy[1] > xy[3]);
            sscma_sample_destroy(s);
        }
        sscma_tensor_destroy(images), sscma_tensor_destroy(targets);
        sscma_loader_destroy(loader);
    }
    CHECK_FAILS(sscma_loader_create(ctx, src, "{\"target\": {\"type\": \"KeypointTarget\"}}", &loader),
                SSCMA_ERR_CONFIG, "KeypointTarget needs a dataset with keypoints (MeterData), not FashionMNIST");
    /* index defects, each naming the file and the line */
    static const struct {
        const char *text, *needle;
        sscma_status status;
    } defects[] = {
        {"000000.png 1 2 3\n", "line 1: 3 coordinates after the image name", SSCMA_ERR_FORMAT},
        {"000000.png 1 2 3 4\n\n000001.png 1 2\n", "line 3: 1 points, but the first sample has 2", SSCMA_ERR_FORMAT},
        {"000000.png 1 2 x 4\n", "line 1: 'x' is not a coordinate", SSCMA_ERR_FORMAT},
        {"000000.png 1 2 3 4\nmissing.png 1 2 3 4\n", "line 2: image file", SSCMA_ERR_IO},
        {"\n\n", "no sample: an empty index", SSCMA_ERR_FORMAT},
    };
    sscma_dataset *bad = NULL;
    for (size_t i = 0; i < sizeof defects / sizeof defects[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/train/bad.txt", dir);
        FILE *f = fopen(path, "w");
        if (f != NULL) {
            fputs(defects[i].text, f);
            fclose(f);
        }
        snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s/train\", \"index_file\": \"bad.txt\"}",
                 dir);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &bad), defects[i].status, defects[i].needle);
    }
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"MeterData\", \"data_root\": \"/nonexistent\"}", &bad),
                SSCMA_ERR_IO, "/nonexistent/annotations.txt: cannot open the index");
    CHECK_FAILS(sscma_sample_keypoints(NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'sample'");
    CHECK_FAILS(sscma_compose_detection(src, "{\"out_dir\": \"/tmp\", \"format\": \"yolo\"}"), SSCMA_ERR_CONFIG,
                "compose: format: expected one of: coco, meter, got \"yolo\"");
done:
    sscma_dataset_destroy(kp), sscma_dataset_destroy(src);
}

static void onehot_labelme_and_photo_backgrounds(void)
{
    if (!have_fashion()) {
        test_fail(__FILE__, __LINE__, "Debian's dataset-fashion-mnist is not installed (tools/install-deps)");
        return;
    }
    sscma_dataset *ds = NULL;
    sscma_loader *l = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 4}", &ds));
    if (ds == NULL)
        return;
    /* OneHot: f32 [B, 10] with 1 at each label (the first test labels are 9, 2, 1, 1) */
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 4, \"target\": {\"type\": \"OneHot\"}}", &l));
    if (l != NULL) {
        sscma_dtype dt;
        int32_t rank = 0;
        int64_t td[4];
        CHECK_OK(sscma_loader_target_shape(l, &dt, &rank, td));
        CHECK(dt == SSCMA_DTYPE_F32 && rank == 2 && td[1] == 10);
        const int64_t idims[4] = {4, 28, 28, 1};
        sscma_tensor *images = NULL, *hot = NULL;
        sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, idims, &images);
        sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, td, &hot);
        int64_t n = 0;
        CHECK_OK(sscma_loader_next(l, images, hot, &n));
        const float *h = NULL;
        sscma_tensor_data(hot, (void **)&h);
        static const int labels[4] = {9, 2, 1, 1};
        for (int i = 0; h != NULL && i < 4; i++)
            for (int k = 0; k < 10; k++)
                CHECK(h[i * 10 + k] == (k == labels[i] ? 1.0f : 0.0f));
        sscma_tensor_destroy(images), sscma_tensor_destroy(hot);
        sscma_loader_destroy(l);
    }
    /* labelme JSON keypoints (MeterData without an index) */
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/labelme", tmpdir);
    mkdir(root, 0755);
    uint8_t px[16 * 16];
    memset(px, 50, sizeof px);
    snprintf(path, sizeof path, "%s/m1.png", root);
    stbi_write_png(path, 16, 16, 1, px, 16);
    snprintf(path, sizeof path, "%s/a.json", root);
    write_text(path, "{\"imagePath\": \"m1.png\", \"shapes\": [{\"label\": \"c\", \"points\": [[3, 4]], \"shape_type\": "
                     "\"point\"}, {\"label\": \"r\", \"points\": [[1, 1], [5, 5]], \"shape_type\": \"rectangle\"},"
                     " {\"label\": \"t\", \"points\": [[10.5, 12]], \"shape_type\": \"point\"}]}");
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s\"}", root);
    sscma_dataset *kp = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &kp));
    if (kp != NULL) {
        sscma_sample *s = NULL;
        int32_t count = 0;
        const float *xy = NULL;
        CHECK_OK(sscma_dataset_get(kp, 0, &s));
        if (s != NULL)
            CHECK_OK(sscma_sample_keypoints(s, &count, &xy));
        CHECK_INT_EQ(count, 2);
        if (count == 2)
            CHECK(xy[0] == 3 && xy[1] == 4 && xy[2] == 10.5f && xy[3] == 12);
        sscma_sample_destroy(s);
        sscma_dataset_destroy(kp);
    }
    snprintf(path, sizeof path, "%s/b.json", root);
    write_text(path, "{\"imagePath\": \"m1.png\", \"shapes\": [{\"points\": [[3, 4]], \"shape_type\": \"point\"}]}");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &kp), SSCMA_ERR_FORMAT, "b.json: 1 points, but the first sample has 2");
    write_text(path, "{\"shapes\": []}");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &kp), SSCMA_ERR_FORMAT, "b.json: a labelme file needs \"imagePath\"");
    write_text(path, "{\"imagePath\": \"m1.png\",\n \"shapes\": [}");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &kp), SSCMA_ERR_FORMAT, "b.json: line 2, column");
    write_text(path, "{\"imagePath\": \"gone.png\", \"shapes\": [{\"points\": [[1, 2]]}, {\"points\": [[3, 4]]}]}");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &kp), SSCMA_ERR_IO, "b.json: image file");
    /* composed images on photo backgrounds: with no object, the image is the photo, resized */
    char photos[200], out[200];
    snprintf(photos, sizeof photos, "%s/photos", tmpdir);
    mkdir(photos, 0755);
    uint8_t rgb[30 * 20 * 3];
    memset(rgb, 200, sizeof rgb);
    snprintf(path, sizeof path, "%s/p.png", photos);
    stbi_write_png(path, 30, 20, 3, rgb, 30 * 3);
    snprintf(out, sizeof out, "%s/on_photos", tmpdir);
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"image_size\": [24, 24], \"splits\": {\"train\": 2},"
             " \"objects\": [0, 0], \"classes\": [1, 2], \"backgrounds\": \"%s\"}", out, photos);
    CHECK_OK(sscma_compose_detection(ds, cfg));
    snprintf(path, sizeof path, "%s/train/000001.png", out);
    int w = 0, h = 0, c = 0;
    uint8_t *back = stbi_load(path, &w, &h, &c, 0);
    CHECK(back != NULL && w == 24 && h == 24 && c == 1);
    bool flat = back != NULL;
    for (int i = 0; flat && i < 24 * 24; i++)
        flat = back[i] == 200;
    CHECK(flat);
    stbi_image_free(back);
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"backgrounds\": \"%s/none\"}", out, photos);
    CHECK_FAILS(sscma_compose_detection(ds, cfg), SSCMA_ERR_IO, "none: cannot open the folder");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"target\": {\"type\": \"OneHot\", \"depth\": 3}}", &l),
                SSCMA_ERR_CONFIG, "target: unknown key 'depth'");
    sscma_dataset_destroy(ds);
}

/*
 * max_pixels at read (MeterData keeps no size at open: the image loader refuses the image from its header), and
 * special files: an index that is a FIFO is refused at once, named, where fopen waited for a writer forever.
 */
static void meter_limits_and_special_files(void)
{
    char root[160], path[300], cfg[600], needle[500];
    snprintf(root, sizeof root, "%s/meter-lim", tmpdir);
    mkdir(root, 0755);
    uint8_t grey[30 * 20];
    memset(grey, 100, sizeof grey);
    snprintf(path, sizeof path, "%s/a.png", root);
    stbi_write_png(path, 30, 20, 1, grey, 30);
    snprintf(path, sizeof path, "%s/annotations.txt", root);
    write_text(path, "a.png 1 2 3 4\n");
    sscma_dataset *ds = NULL;
    sscma_sample *s = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s\", \"max_pixels\": 599}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds != NULL)
        CHECK_FAILS(sscma_dataset_get(ds, 0, &s), SSCMA_ERR_UNSUPPORTED,
                    "a.png: 30 x 20 pixels is over the limit of 599 (max_pixels)");
    sscma_dataset_destroy(ds);
    ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s\", \"max_pixels\": 600}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds != NULL)
        CHECK_OK(sscma_dataset_get(ds, 0, &s));
    sscma_sample_destroy(s);
    sscma_dataset_destroy(ds);
    ds = NULL;
    /* the index a FIFO */
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s\", \"index_file\": \"fifo.txt\"}", root);
    snprintf(path, sizeof path, "%s/fifo.txt", root);
    if (fifo_make(path, 20)) {
        snprintf(needle, sizeof needle, "%s: the index is a FIFO (named pipe), not a regular file: refused", path);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, needle);
        fifo_done(path);
    }
    CHECK(ds == NULL);
}

/* on_defect "skip": each index line with a defect is left out and listed; one check reports them all. */
static void meter_defects_listed_in_one_pass(void)
{
    char root[160], path[300], cfg[400];
    snprintf(root, sizeof root, "%s/meter_skip", tmpdir);
    const char *dirs[] = {""};
    make_dirs(root, dirs, 1);
    uint8_t grey[16 * 16];
    memset(grey, 100, sizeof grey);
    snprintf(path, sizeof path, "%s/a.png", root);
    stbi_write_png(path, 16, 16, 1, grey, 16);
    snprintf(path, sizeof path, "%s/annotations.txt", root);
    write_text(path, "a.png 1 2 3 4\na.png 1 x 3 4\ngone.png 1 2 3 4\na.png 1 2 3\na.png 1 2 3 4 5 6\na.png 5 6 7 8\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s\", \"on_defect\": \"skip\"}", root);
    sscma_dataset *ds = NULL;
    static const char *const needles[] = {
        "annotations.txt: line 2: 'x' is not a coordinate", "annotations.txt: line 3: image file",
        "annotations.txt: line 4: 3 coordinates after the image name",
        "annotations.txt: line 5: 3 points, but the first sample has 2",
    };
    /* lines 1 and 6 kept; and no "class 0 (meter) has no sample": every sample shows the meter */
    ds = check_defects_listed(cfg, 2, 4, needles, sizeof needles / sizeof needles[0]);
    if (ds == NULL)
        return;
    sscma_dataset_destroy(ds);
    snprintf(cfg, sizeof cfg, "{\"type\": \"MeterData\", \"data_root\": \"%s\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "annotations.txt: line 2: 'x' is not a coordinate");
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(meter_keypoints_read_and_move),
        TEST_CASE(onehot_labelme_and_photo_backgrounds),
        TEST_CASE(meter_limits_and_special_files),
        TEST_CASE(meter_defects_listed_in_one_pass),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
