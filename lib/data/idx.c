/*
 * MNIST and Fashion-MNIST in the IDX format (big-endian: magic 0x00000803 = unsigned bytes, 3 dimensions, for
 * images; 0x00000801 for labels), raw or gzip-compressed (read through zlib's gzread, which passes plain files
 * through). Files: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] under data_root.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/file.h"
#include "core/schema.h"
#include "data/data.h"

static const char *const fashion_classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
static const char *const digit_classes[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

/* Finds base or base.gz under root; stores the path used. */
static sscma_status find_file(const char *root, const char *base, char *path, size_t size)
{
    struct stat sb;
    snprintf(path, size, "%s/%s.gz", root, base);
    if (stat(path, &sb) == 0)
        return SSCMA_OK;
    snprintf(path, size, "%s/%s", root, base);
    if (stat(path, &sb) == 0)
        return SSCMA_OK;
    return sscma_fail(SSCMA_ERR_IO, path, "not found (nor %s.gz); is data_root right?", base);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* deflate expands at most about 1032:1 (zlib's technical details): a gzip file cannot hold more than this many
 * bytes per compressed byte, so a header declaring more is refused before anything is allocated */
#define GZIP_MAX_RATIO 1032

/*
 * Opens an IDX file (raw or gzip) as a regular file only: a FIFO or a device is refused at once instead of blocking.
 * *file_size: its size on disk.
 */
static sscma_status open_idx(const char *path, gzFile *out, uint64_t *file_size)
{
    FILE *f = NULL;
    sscma_status st = sscma_open_regular(path, &f);
    if (st != SSCMA_OK)
        return st;
    struct stat sb;
    int fd = fstat(fileno(f), &sb) == 0 ? dup(fileno(f)) : -1;
    int err = errno;
    fclose(f);
    gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (gz == NULL) {
        if (fd >= 0)
            close(fd);
        return sscma_fail(SSCMA_ERR_IO, path, "cannot open: %s", fd >= 0 ? "zlib cannot read it" : strerror(err));
    }
    *out = gz;
    *file_size = (uint64_t)sb.st_size;
    return SSCMA_OK;
}

/*
 * Reads an IDX file of unsigned bytes with `dims` dimensions; *data is a block of ctx, shape in shape[]. Every declared
 * size is checked in 64-bit arithmetic before anything is allocated: each dimension, the record (the last two
 * dimensions of an image file) against max_pixels, the total against the format's limit and against what the file
 * can hold (its size, or GZIP_MAX_RATIO times it when compressed).
 */
static sscma_status read_idx(const sscma_context *ctx, const char *path, int dims, int64_t max_pixels, uint8_t **data,
                             int64_t *shape)
{
    gzFile f = NULL;
    uint64_t file_size = 0;
    sscma_status st = open_idx(path, &f, &file_size);
    if (st != SSCMA_OK)
        return st;
    unsigned char head[4 + 4 * 3];
    int want = 4 + 4 * dims;
    int got = gzread(f, head, (unsigned)want);
    if (got != want) {
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "truncated IDX header: %d of %d bytes", got < 0 ? 0 : got, want);
        goto done;
    }
    uint32_t magic = be32(head), expect = 0x00000800u | (uint32_t)dims;
    if (magic != expect) {
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "magic 0x%08x at offset 0; expected 0x%08x (unsigned bytes, %d "
                        "dimensions)", magic, expect, dims);
        goto done;
    }
    uint64_t total = 1;
    for (int d = 0; d < dims; d++) {
        shape[d] = be32(head + 4 + 4 * d);
        if (shape[d] == 0 || shape[d] > (1 << 24)) {
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "dimension %d is %lld (offset %d)", d, (long long)shape[d],
                            4 + 4 * d);
            goto done;
        }
        total *= (uint64_t)shape[d];
    }
    if (dims == 3 && (uint64_t)shape[1] * (uint64_t)shape[2] > (uint64_t)max_pixels) {
        st = sscma_fail(SSCMA_ERR_UNSUPPORTED, path, "images of %lld x %lld pixels (offsets 8 and 12) are over the "
                        "limit of %lld (max_pixels)", (long long)shape[1], (long long)shape[2], (long long)max_pixels);
        goto done;
    }
    if (total > ((uint64_t)1 << 33)) {
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "%llu bytes of data is more than this reader accepts",
                        (unsigned long long)total);
        goto done;
    }
    /* what the file can hold: its bytes after the header (raw), or the most deflate expands them to (gzip) */
    const bool raw = gzdirect(f) != 0;
    const uint64_t header = (uint64_t)want, body = file_size > header ? file_size - header : 0;
    const uint64_t can_hold = raw ? body : file_size > UINT64_MAX / GZIP_MAX_RATIO ? UINT64_MAX
                                                                                 : file_size * GZIP_MAX_RATIO;
    if (total > can_hold) {
        st = raw ? sscma_fail(SSCMA_ERR_FORMAT, path, "truncated: %llu data bytes expected, %llu found",
                              (unsigned long long)total, (unsigned long long)body)
                 : sscma_fail(SSCMA_ERR_FORMAT, path, "truncated: %llu data bytes expected, more than a gzip file of "
                              "%llu bytes can hold (%llu at most)", (unsigned long long)total,
                              (unsigned long long)file_size, (unsigned long long)can_hold);
        goto done;
    }
    /* The buffer grows with the data actually read (doubling, at most to the declared size): a header that
     * declares gigabytes over a short or truncated file costs no more memory than the file holds. */
    uint64_t done_bytes = 0, cap = total < ((uint64_t)1 << 20) ? total : ((uint64_t)1 << 20);
    *data = sscma_malloc(ctx, cap);
    if (*data == NULL) {
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %llu bytes", (unsigned long long)cap);
        goto done;
    }
    while (done_bytes < total) {
        if (done_bytes == cap) {
            uint64_t grown = cap * 2 < total ? cap * 2 : total;
            uint8_t *bigger = sscma_mrealloc(ctx, *data, grown);
            if (bigger == NULL) {
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %llu bytes",
                                (unsigned long long)grown);
                sscma_mfree(ctx, *data);
                *data = NULL;
                goto done;
            }
            *data = bigger, cap = grown;
        }
        uint64_t room = cap - done_bytes;
        unsigned chunk = room > (1u << 30) ? (1u << 30) : (unsigned)room;
        int n = gzread(f, *data + done_bytes, chunk);
        if (n <= 0)
            break;
        done_bytes += (uint64_t)n;
    }
    if (done_bytes != total) {
        int errnum = 0;
        const char *zmsg = gzerror(f, &errnum);
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "truncated: %llu data bytes expected, %llu found%s%s",
                        (unsigned long long)total, (unsigned long long)done_bytes, errnum < 0 ? "; zlib: " : "",
                        errnum < 0 ? zmsg : "");
        sscma_mfree(ctx, *data);
        *data = NULL;
    }
done:
    gzclose(f);
    return st;
}

typedef struct idx_cfg {
    const char *data_root;
    int split; /* -1: not given (test_mode decides), else an index of split_names */
    bool test_mode;
} idx_cfg;

static const char *const split_names[] = {"train", "test", NULL};

/* mmpretrain's MNIST / FashionMNIST keys; max_pixels and indices are read by dataset.c for every format */
static const sscma_field idx_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_STRING(idx_cfg, data_root, NULL),
    SSCMA_FIELD_ENUM_AS("split", idx_cfg, split, -1, split_names, 0),
    SSCMA_FIELD(idx_cfg, test_mode, false),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD_END,
};

sscma_status sscma_idx_open(sscma_dataset *ds, json_t *config)
{
    bool fashion = strcmp(ds->type, "FashionMNIST") == 0;
    idx_cfg cfg;
    if (sscma_schema_read(idx_fields, config, ds->type, NULL, &cfg) != SSCMA_OK)
        return SSCMA_ERR_CONFIG;
    const char *root = cfg.data_root;
    if (root == NULL && fashion)
        root = "/usr/share/datasets/fashion-mnist"; /* Debian's dataset-fashion-mnist */
    if (root == NULL)
        return sscma_schema_expected(ds->type, NULL, "data_root", "the folder of the IDX files", NULL);
    const bool test = cfg.split >= 0 ? strcmp(split_names[cfg.split], "test") == 0 : cfg.test_mode;
    char images_path[1024], labels_path[1024];
    sscma_status st = find_file(root, test ? "t10k-images-idx3-ubyte" : "train-images-idx3-ubyte", images_path,
                                sizeof images_path);
    if (st == SSCMA_OK)
        st = find_file(root, test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte", labels_path,
                       sizeof labels_path);
    if (st != SSCMA_OK)
        return st;
    int64_t ishape[3] = {0, 0, 0}, lshape[1] = {0};
    if ((st = read_idx(ds->ctx, images_path, 3, ds->max_pixels, &ds->idx_images, ishape)) != SSCMA_OK)
        return st;
    if ((st = read_idx(ds->ctx, labels_path, 1, ds->max_pixels, &ds->idx_labels, lshape)) != SSCMA_OK)
        return st;
    if (ishape[0] != lshape[0])
        return sscma_fail(SSCMA_ERR_FORMAT, labels_path, "%lld labels for %lld images in %s", (long long)lshape[0],
                          (long long)ishape[0], images_path);
    for (int64_t i = 0; i < lshape[0]; i++)
        if (ds->idx_labels[i] > 9)
            return sscma_fail(SSCMA_ERR_FORMAT, labels_path, "record %lld: label %d is outside 0..9", (long long)i,
                              (int)ds->idx_labels[i]);
    ds->kind = DATASET_IDX;
    ds->size = ishape[0];
    ds->rows = ishape[1];
    ds->cols = ishape[2];
    ds->n_classes = 10;
    ds->class_names = sscma_calloc(ds->ctx, 10, sizeof *ds->class_names);
    if (ds->class_names == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "dataset", "cannot allocate class names");
    for (int i = 0; i < 10; i++) {
        ds->class_names[i] = sscma_mstrdup(ds->ctx, fashion ? fashion_classes[i] : digit_classes[i]);
        if (ds->class_names[i] == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "dataset", "cannot allocate class names");
    }
    return SSCMA_OK;
}
