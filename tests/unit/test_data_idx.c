/*
 * Unit tests of data.h. IDX files: Fashion-MNIST from Debian against numpy, sample indices, damaged IDX files, NULL
 * arguments of the dataset calls.
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

/* Reference values computed with numpy from the same files (gzip, offsets 16 and 8). */
static void fashion_mnist_reads_like_numpy(void)
{
    if (!have_fashion()) {
        test_fail(__FILE__, __LINE__, "Debian's dataset-fashion-mnist is not installed (tools/install-deps)");
        return;
    }
    static const struct {
        const char *split;
        int64_t size;
        int32_t first_labels[5];
        long first_sum, last_sum;
    } expected[] = {
        {"train", 60000, {9, 0, 0, 3, 0}, 76247, 16684},
        {"test", 10000, {9, 2, 1, 1, 6}, 33456, 24390},
    };
    for (int k = 0; k < 2; k++) {
        char cfg[128];
        snprintf(cfg, sizeof cfg, "{\"type\": \"FashionMNIST\", \"split\": \"%s\"}", expected[k].split);
        sscma_dataset *ds = NULL;
        CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
        if (ds == NULL)
            continue;
        int64_t n = 0;
        int32_t classes = 0;
        const char *name = NULL;
        CHECK_OK(sscma_dataset_size(ds, &n));
        CHECK_INT_EQ(n, expected[k].size);
        CHECK_OK(sscma_dataset_num_classes(ds, &classes));
        CHECK_INT_EQ(classes, 10);
        CHECK_OK(sscma_dataset_class_name(ds, 9, &name));
        CHECK_STR_EQ(name, "Ankle boot");
        for (int i = 0; i < 5; i++) {
            sscma_sample *s = NULL;
            int32_t label = -1;
            CHECK_OK(sscma_dataset_get(ds, i, &s));
            CHECK_OK(sscma_sample_label(s, &label));
            CHECK_INT_EQ(label, expected[k].first_labels[i]);
            if (i == 0) {
                sscma_tensor *img = NULL;
                void *d = NULL;
                int64_t h = 0, c = 0;
                CHECK_OK(sscma_sample_image(s, &img));
                CHECK_OK(sscma_tensor_dim(img, 0, &h));
                CHECK_OK(sscma_tensor_dim(img, 2, &c));
                CHECK_INT_EQ(h, 28);
                CHECK_INT_EQ(c, 1);
                CHECK_OK(sscma_tensor_data(img, &d));
                long sum = 0;
                for (int p = 0; p < 784; p++)
                    sum += ((uint8_t *)d)[p];
                CHECK_INT_EQ(sum, expected[k].first_sum);
            }
            sscma_sample_destroy(s);
        }
        sscma_sample *last = NULL;
        sscma_tensor *img = NULL;
        void *d = NULL;
        CHECK_OK(sscma_dataset_get(ds, n - 1, &last));
        CHECK_OK(sscma_sample_image(last, &img));
        CHECK_OK(sscma_tensor_data(img, &d));
        long sum = 0;
        for (int p = 0; p < 784; p++)
            sum += ((uint8_t *)d)[p];
        CHECK_INT_EQ(sum, expected[k].last_sum);
        sscma_sample_destroy(last);
        CHECK_FAILS(sscma_dataset_get(ds, n, &last), SSCMA_ERR_INVALID_ARGUMENT, "is outside 0..");
        sscma_dataset_destroy(ds);
    }
}

static void idx_defects_are_reported(void)
{
    char dir[128], images[256], labels[256], cfg[300];
    snprintf(dir, sizeof dir, "%s/idx", tmpdir);
    mkdir(dir, 0755);
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte", dir);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte", dir);
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", dir);
    uint8_t pixels[3 * 4 * 4], lab[3] = {1, 7, 3};
    for (int i = 0; i < 48; i++)
        pixels[i] = (uint8_t)(i * 5);
    const uint32_t idims[3] = {3, 4, 4}, ldims[1] = {3}, ldims_short[1] = {2};
    sscma_dataset *ds = NULL;

    write_idx(images, 0x803, idims, 3, pixels, sizeof pixels, false); /* raw files */
    write_idx(labels, 0x801, ldims, 1, lab, sizeof lab, false);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 3);
    sscma_dataset_destroy(ds);
    ds = NULL;

    write_idx(images, 0x801, idims, 3, pixels, sizeof pixels, false);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "magic 0x00000801 at offset 0; expected 0x00000803");
    write_idx(images, 0x803, idims, 3, pixels, 20, false);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "truncated: 48 data bytes expected, 20 found");
    /* a header declaring 4 GiB over 20 bytes (found by fuzz_idx): refused as truncated, without a 4 GiB allocation;
     * raw, from the file's size, and gzip, from the most deflate can expand its bytes to */
    const uint32_t huge[3] = {65536, 256, 256};
    write_idx(images, 0x803, huge, 3, pixels, 20, false);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "truncated: 4294967296 data bytes expected, 20 found");
    write_idx(images, 0x803, huge, 3, pixels, 20, true);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "truncated: 4294967296 data bytes expected, more than a gzip file of");
    write_idx(images, 0x803, idims, 0, NULL, 0, false);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "truncated IDX header: 4 of 16 bytes");
    write_idx(images, 0x803, idims, 3, pixels, sizeof pixels, false);
    write_idx(labels, 0x801, ldims_short, 1, lab, 2, false);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "2 labels for 3 images");
    lab[2] = 12;
    write_idx(labels, 0x801, ldims, 1, lab, 3, false);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "record 2: label 12 is outside 0..9");
    /* gzip: a .gz beside the raw file is preferred; a truncated one is reported */
    lab[2] = 3;
    char gz[280];
    snprintf(gz, sizeof gz, "%s.gz", images);
    write_idx(gz, 0x803, idims, 3, pixels, 30, true);
    write_idx(labels, 0x801, ldims, 1, lab, 3, false);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "train-images-idx3-ubyte.gz: truncated");
    write_idx(gz, 0x803, idims, 3, pixels, sizeof pixels, true);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    sscma_dataset_destroy(ds);
    ds = NULL;
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"MNIST\", \"data_root\": \"/nonexistent\"}", &ds), SSCMA_ERR_IO,
                "/nonexistent/train-images-idx3-ubyte: not found");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"MNIST\"}", &ds), SSCMA_ERR_CONFIG,
                "MNIST: data_root: expected the folder of the IDX files, missing");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"val\"}", &ds), SSCMA_ERR_CONFIG,
                "FashionMNIST: split: expected one of: train, test, got \"val\"");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"root\": \"x\"}", &ds), SSCMA_ERR_CONFIG,
                "unknown key 'root'");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"ImageNet\"}", &ds), SSCMA_ERR_CONFIG,
                "dataset: type: expected one of: MNIST, FashionMNIST, CustomDataset, CocoDataset, YoloDataset, "
                "VOCDataset, MeterData, SensorDataset, Speechcommand, got \"ImageNet\"");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": ", &ds), SSCMA_ERR_CONFIG, "line 1");
    CHECK(ds == NULL);
}

static void null_arguments(void)
{
    sscma_dataset *ds = NULL;
    sscma_sample *s = NULL;
    int64_t n = 0;
    int32_t k = 0;
    const char *name = NULL;
    sscma_tensor *t = NULL;
    CHECK_FAILS(sscma_dataset_open(NULL, "{}", &ds), SSCMA_ERR_INVALID_ARGUMENT, "'ctx'");
    CHECK_FAILS(sscma_dataset_open(ctx, NULL, &ds), SSCMA_ERR_INVALID_ARGUMENT, "'config_json'");
    CHECK_FAILS(sscma_dataset_size(NULL, &n), SSCMA_ERR_INVALID_ARGUMENT, "'dataset'");
    CHECK_FAILS(sscma_dataset_num_classes(NULL, &k), SSCMA_ERR_INVALID_ARGUMENT, "'dataset'");
    CHECK_FAILS(sscma_dataset_class_name(NULL, 0, &name), SSCMA_ERR_INVALID_ARGUMENT, "'dataset'");
    CHECK_FAILS(sscma_dataset_get(NULL, 0, &s), SSCMA_ERR_INVALID_ARGUMENT, "'dataset'");
    CHECK_FAILS(sscma_dataset_check(NULL, &n, &name), SSCMA_ERR_INVALID_ARGUMENT, "'dataset'");
    CHECK_FAILS(sscma_sample_image(NULL, &t), SSCMA_ERR_INVALID_ARGUMENT, "'sample'");
    CHECK_FAILS(sscma_sample_label(NULL, &k), SSCMA_ERR_INVALID_ARGUMENT, "'sample'");
    sscma_dataset_destroy(NULL);
    sscma_sample_destroy(NULL);
}

static void indices_select_samples(void)
{
    if (!have_fashion()) {
        test_fail(__FILE__, __LINE__, "Debian's dataset-fashion-mnist is not installed (tools/install-deps)");
        return;
    }
    sscma_dataset *first = NULL, *picked = NULL, *all = NULL, *bad = NULL;
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": 100}", &first));
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": [9999, 4]}",
                                &picked));
    CHECK_OK(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\"}", &all));
    if (first == NULL || picked == NULL || all == NULL)
        goto done;
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(first, &n));
    CHECK_INT_EQ(n, 100);
    CHECK_OK(sscma_dataset_size(picked, &n));
    CHECK_INT_EQ(n, 2);
    static const int64_t map[3][2] = {{0, 0}, {99, 99}, {-1, -1}};
    for (int k = 0; k < 4; k++) {
        /* (dataset, index) pairs against the full dataset's sample */
        const sscma_dataset *ds = k < 2 ? first : picked;
        int64_t i = k < 2 ? map[k][0] : k - 2, full = k < 2 ? map[k][1] : (k == 2 ? 9999 : 4);
        sscma_sample *a = NULL, *b = NULL;
        CHECK_OK(sscma_dataset_get(ds, i, &a));
        CHECK_OK(sscma_dataset_get(all, full, &b));
        sscma_tensor *ta = NULL, *tb = NULL;
        int32_t la = -2, lb = -3;
        if (a != NULL && b != NULL) {
            sscma_sample_image(a, &ta), sscma_sample_image(b, &tb);
            sscma_sample_label(a, &la), sscma_sample_label(b, &lb);
            void *da = NULL, *db = NULL;
            sscma_tensor_data(ta, &da), sscma_tensor_data(tb, &db);
            CHECK(memcmp(da, db, 28 * 28) == 0);
            CHECK_INT_EQ(la, lb);
        }
        sscma_sample_destroy(a), sscma_sample_destroy(b);
    }
    sscma_sample *s = NULL;
    CHECK_FAILS(sscma_dataset_get(picked, 2, &s), SSCMA_ERR_INVALID_ARGUMENT, "sample 2 is outside 0..1");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"test\", \"indices\": [3, 10000]}",
                                   &bad),
                SSCMA_ERR_CONFIG, "FashionMNIST: indices[1]: expected a sample index 0..9999, got 10000");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"indices\": -1}", &bad), SSCMA_ERR_CONFIG,
                "FashionMNIST: indices: expected a count >= 0 (the first N samples) or a list of sample indices, got -1");
done:
    sscma_dataset_destroy(first), sscma_dataset_destroy(picked), sscma_dataset_destroy(all);
}

/* The keys every type shares (dataset.c), read with the schema reader: one message format, the type as `where`. */
static void shared_keys_are_checked(void)
{
    static const struct {
        const char *cfg, *needle;
    } cases[] = {
        {"{\"type\": \"MNIST\", \"max_pixels\": 0}", "MNIST: max_pixels: expected an integer >= 1, got 0"},
        {"{\"type\": \"mmdet.CocoDataset\", \"max_pixels\": \"big\"}",
         "CocoDataset: max_pixels: expected an integer >= 1, got \"big\""},
        {"{\"type\": \"MNIST\", \"max_pixels\": 1.5}", "MNIST: max_pixels: expected an integer >= 1, got 1.5"},
        {"{\"type\": 3}", "dataset: type: expected a dataset type (MNIST, FashionMNIST, CustomDataset"},
        {"{\"data_root\": \"x\"}", "dataset: type: expected a dataset type (MNIST,"},
        {"[1]", "dataset: expected an object with a \"type\", got [1]"},
        {"{\"type\": \"MNIST\", \"data_root\": \"/x\", \"test_mode\": 1}",
         "MNIST: test_mode: expected true or false, got 1"},
        {"{\"type\": \"MNIST\", \"data_root\": 7}", "MNIST: data_root: expected a string, got 7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sscma_dataset *ds = NULL;
        CHECK_FAILS(sscma_dataset_open(ctx, cases[i].cfg, &ds), SSCMA_ERR_CONFIG, cases[i].needle);
        CHECK(ds == NULL);
    }
}

/*
 * Sizes an IDX header declares against max_pixels, before anything is allocated: a gzip file declaring one 60000 x
 * 60000 image (3.6 GB of zeros compress to 3.5 MB) used to be inflated into memory whatever max_pixels said.
 */
static void idx_records_over_max_pixels_are_refused(void)
{
    char dir[128], images[256], labels[256], cfg[300];
    snprintf(dir, sizeof dir, "%s/idx-big", tmpdir);
    mkdir(dir, 0755);
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte", dir);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte", dir);
    uint8_t pixels[3 * 4 * 4] = {0}, lab[3] = {1, 2, 3};
    const uint32_t idims[3] = {3, 4, 4}, ldims[1] = {3};
    write_idx(images, 0x803, idims, 3, pixels, sizeof pixels, false);
    write_idx(labels, 0x801, ldims, 1, lab, sizeof lab, false);
    sscma_dataset *ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"max_pixels\": 16}", dir);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds)); /* 4 x 4 = 16: at the limit */
    sscma_dataset_destroy(ds);
    ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\", \"max_pixels\": 15}", dir);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_UNSUPPORTED,
                "train-images-idx3-ubyte: images of 4 x 4 pixels (offsets 8 and 12) are over the limit of 15 "
                "(max_pixels)");
    /* gzip, the default max_pixels (40 million): the declared 60000 x 60000 is refused from the header */
    char gz[280];
    snprintf(gz, sizeof gz, "%s.gz", images);
    const uint32_t big[3] = {1, 60000, 60000};
    write_idx(gz, 0x803, big, 3, pixels, sizeof pixels, true);
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", dir);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_UNSUPPORTED,
                "train-images-idx3-ubyte.gz: images of 60000 x 60000 pixels (offsets 8 and 12) are over the limit of "
                "40000000 (max_pixels)");
    CHECK(ds == NULL);
}

/* An IDX file that is a FIFO (raw or .gz) is refused at once, named, instead of blocking in zlib's read. */
static void idx_fifo_is_refused(void)
{
    char dir[128], path[256], cfg[300];
    snprintf(dir, sizeof dir, "%s/idx-fifo", tmpdir);
    mkdir(dir, 0755);
    snprintf(cfg, sizeof cfg, "{\"type\": \"MNIST\", \"data_root\": \"%s\"}", dir);
    const uint8_t lab[1] = {1};
    const uint32_t ldims[1] = {1};
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    write_idx(path, 0x801, ldims, 1, lab, sizeof lab, false);
    static const char *const names[2] = {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        sscma_dataset *ds = NULL;
        if (!fifo_make(path, 20))
            return;
        char needle[400];
        snprintf(needle, sizeof needle, "%s: a FIFO (named pipe), not a regular file: refused", path);
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, needle);
        fifo_done(path);
    }
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(fashion_mnist_reads_like_numpy),
        TEST_CASE(indices_select_samples),
        TEST_CASE(idx_defects_are_reported),
        TEST_CASE(null_arguments),
        TEST_CASE(shared_keys_are_checked),
        TEST_CASE(idx_records_over_max_pixels_are_refused),
        TEST_CASE(idx_fifo_is_refused),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
