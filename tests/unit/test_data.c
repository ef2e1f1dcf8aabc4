/* Unit tests of data.h: IDX (Fashion-MNIST from Debian), class folders, defects, the pipeline and the loader. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <sscma/sscma.h>
#include <stb_image.h>
#include <stb_image_write.h>

#include "harness.h"

#define FASHION "/usr/share/datasets/fashion-mnist"

static sscma_context *ctx;
static char tmpdir[64];

static bool have_fashion(void)
{
    struct stat sb;
    return stat(FASHION "/train-images-idx3-ubyte.gz", &sb) == 0;
}

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

/* Writes an IDX file: magic, dims, then `bytes` of data (possibly fewer than the dims announce). */
static void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int n_dims, const uint8_t *data,
                      size_t bytes, bool gz)
{
    unsigned char head[16];
    for (int i = 0; i < 4; i++)
        head[i] = (unsigned char)(magic >> (24 - 8 * i));
    for (int d = 0; d < n_dims; d++)
        for (int i = 0; i < 4; i++)
            head[4 + 4 * d + i] = (unsigned char)(dims[d] >> (24 - 8 * i));
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, head, (unsigned)(4 + 4 * n_dims));
        if (bytes)
            gzwrite(f, data, (unsigned)bytes);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(head, 1, (size_t)(4 + 4 * n_dims), f);
        if (bytes)
            fwrite(data, 1, bytes, f);
        fclose(f);
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
    /* a header declaring 4 GiB over 20 bytes (found by fuzz_idx): refused as truncated, without a 4 GiB allocation */
    const uint32_t huge[3] = {65536, 256, 256};
    write_idx(images, 0x803, huge, 3, pixels, 20, true);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "truncated: 4294967296 data bytes expected, 20 found");
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
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"MNIST\"}", &ds), SSCMA_ERR_CONFIG, "needs \"data_root\"");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"split\": \"val\"}", &ds), SSCMA_ERR_CONFIG,
                "split 'val' is not train or test");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"root\": \"x\"}", &ds), SSCMA_ERR_CONFIG,
                "unknown key 'root'");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"ImageNet\"}", &ds), SSCMA_ERR_CONFIG,
                "unknown type 'ImageNet'; known types: MNIST, FashionMNIST, CustomDataset");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": ", &ds), SSCMA_ERR_CONFIG, "line 1");
    CHECK(ds == NULL);
}

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
                "transform 0: unknown type 'GaussNoise'");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"Resize\"}]}", &l), SSCMA_ERR_CONFIG,
                "'size' must be [h, w]");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"Normalize\", \"mean\": [1, 2], \"std\": [1]}]}",
                                    &l), SSCMA_ERR_CONFIG, "same length");
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
                SSCMA_ERR_CONFIG, "indices[1]: expected a sample index in [0, 10000)");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"FashionMNIST\", \"indices\": -1}", &bad), SSCMA_ERR_CONFIG,
                "'indices' must be a count");
done:
    sscma_dataset_destroy(first), sscma_dataset_destroy(picked), sscma_dataset_destroy(all);
}

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf != NULL)
        buf[n] = '\0';
    fclose(f);
    *size = (size_t)n;
    return buf;
}

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
                SSCMA_ERR_CONFIG, "target.type: expected FomoTarget, KeypointTarget or OneHot, got \"Heatmap\"");
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
                "classes[0]: not a class of the source (0..9)");
    CHECK_FAILS(sscma_compose_detection(src, "{\"image_size\": 64}"), SSCMA_ERR_CONFIG, "'out_dir'");
    CHECK_FAILS(sscma_compose_detection(src, "{\"out_dir\": \"/tmp\", \"splits\": {\"val\": 3}}"), SSCMA_ERR_CONFIG,
                "splits: 'val' must be train, valid or test");
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
                SSCMA_ERR_CONFIG, "needs \"ann_file\"");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"CocoDataset\", \"ann_file\": \"/nonexistent/a.json\"}", &ds),
                SSCMA_ERR_IO, "/nonexistent/a.json: cannot read");
    CHECK_FAILS(sscma_sample_boxes(NULL, NULL, NULL, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'sample'");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

static void yolo_labels_read_and_defects(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/yolo", tmpdir);
    const char *dirs[] = {"", "/train", "/train/images", "/train/images/sub", "/train/labels", "/train/labels/sub"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s%s", root, dirs[i]);
        mkdir(path, 0755);
    }
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

/* Runs one batch of `pipeline` (with a FOMO target at stride 4) over a 40x20 image of grey 100 with one box
 * [10, 5, 30, 15] of class 1; stores the image and the target grid. */
static void one_transformed(const char *pipeline, int64_t oh, int64_t ow, float **image, float **grid)
{
    char root[160], path[300], cfg[900];
    snprintf(root, sizeof root, "%s/tf", tmpdir);
    const char *dirs[] = {"", "/images", "/labels"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", root, dirs[i]);
        mkdir(path, 0755);
    }
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

static void voc_xml_read_and_defects(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/voc", tmpdir);
    const char *dirs[] = {"", "/Annotations", "/JPEGImages", "/ImageSets", "/ImageSets/Main"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s%s", root, dirs[i]);
        mkdir(path, 0755);
    }
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
}

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
                "'format' is \"coco\" (boxes) or \"meter\" (keypoints)");
done:
    sscma_dataset_destroy(kp), sscma_dataset_destroy(src);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(fashion_mnist_reads_like_numpy),
        TEST_CASE(indices_select_samples),
        TEST_CASE(composed_detection_set_reads_back),
        TEST_CASE(coco_defects_are_reported),
        TEST_CASE(meter_keypoints_read_and_move),
        TEST_CASE(yolo_labels_read_and_defects),
        TEST_CASE(voc_xml_read_and_defects),
        TEST_CASE(transforms_move_pixels_and_boxes),
        TEST_CASE(loader_cache_keeps_decoded_images),
        TEST_CASE(onehot_labelme_and_photo_backgrounds),
        TEST_CASE(idx_defects_are_reported),
        TEST_CASE(class_folders_and_their_defects),
        TEST_CASE(loader_batches_do_not_depend_on_workers),
        TEST_CASE(loader_edges_and_errors),
        TEST_CASE(null_arguments),
    };
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sscma-data-XXXXXX");
    if (mkdtemp(tmpdir) == NULL || sscma_context_create(NULL, &ctx) != SSCMA_OK)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    sscma_context_destroy(ctx);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
