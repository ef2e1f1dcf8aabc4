/* Unit tests of the checkpoint container (model.h save/load): round trips, plain and compressed, and damaged,
 * truncated or mismatched files rejected without changing the model. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sscma/experimental.h>
#include <sscma/sscma.h>

#include "fixture_ckpt.h"
#include "fixture_files.h"
#include "fixture_training.h"
#include "harness.h"

static char tmpdir[64];

static float param_value(sscma_model *m, const char *name, int64_t k)
{
    int32_t index = -1;
    sscma_tensor *v = NULL;
    void *d = NULL;
    if (sscma_model_find_param(m, name, &index) != SSCMA_OK || sscma_model_param(m, index, NULL, NULL, &v, NULL) != SSCMA_OK ||
        sscma_tensor_data(v, &d) != SSCMA_OK)
        return NAN;
    return ((float *)d)[k];
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Copies src to dst keeping `keep` bytes (-1 = all) and xor-ing byte `flip_at` (if >= 0) with 0x10. */
static void mangle(const char *src, const char *dst, long keep, long flip_at)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    long i = 0;
    int c;
    while (in != NULL && out != NULL && (c = fgetc(in)) != EOF && (keep < 0 || i < keep)) {
        fputc(i == flip_at ? c ^ 0x10 : c, out);
        i++;
    }
    if (in != NULL)
        fclose(in);
    if (out != NULL)
        fclose(out);
}

static void checkpoints_round_trip(void)
{
    sscma_context_options o;
    sscma_context *ctx = NULL;
    CHECK_OK(sscma_context_options_init(&o, sizeof o));
    o.seed = 1;
    CHECK_OK(sscma_context_create(&o, &ctx));
    sscma_model *a = NULL, *b = NULL;
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &a));
    /* a few training steps so that weights and running statistics are not the initial ones */
    CHECK_OK(sscma_model_prepare(a, 4, 1));
    fixture_fill_batch(a, 4, 4, 2);
    CHECK_OK(sscma_model_forward(a));
    char path[128], zpath[128];
    snprintf(path, sizeof path, "%s/model.ckpt", tmpdir);
    snprintf(zpath, sizeof zpath, "%s/model.z.ckpt", tmpdir);
    CHECK_OK(sscma_model_save(a, path, 0));
    CHECK_OK(sscma_model_save(a, zpath, SSCMA_SAVE_COMPRESS));
    CHECK(file_size(path) > 100000);
    CHECK(file_size(zpath) > 0 && file_size(zpath) < file_size(path));

    for (int k = 0; k < 2; k++) {
        sscma_context_options o2 = o;
        o2.seed = 99; /* different initial weights */
        sscma_context *ctx2 = NULL;
        CHECK_OK(sscma_context_create(&o2, &ctx2));
        CHECK_OK(sscma_model_create(ctx2, fixture_small_classifier, &b));
        CHECK(param_value(a, "head.fc.weight", 3) != param_value(b, "head.fc.weight", 3));
        CHECK_OK(sscma_model_load(b, k == 0 ? path : zpath));
        int32_t count = 0, differ = 0;
        CHECK_OK(sscma_model_param_count(a, &count));
        for (int32_t i = 0; i < count; i++) {
            sscma_tensor *va = NULL, *vb = NULL;
            void *x = NULL, *y = NULL;
            size_t bytes = 0;
            CHECK_OK(sscma_model_param(a, i, NULL, NULL, &va, NULL));
            CHECK_OK(sscma_model_param(b, i, NULL, NULL, &vb, NULL));
            sscma_tensor_size_bytes(va, &bytes), sscma_tensor_data(va, &x), sscma_tensor_data(vb, &y);
            differ += memcmp(x, y, bytes) != 0;
        }
        CHECK_INT_EQ(differ, 0); /* weights and running statistics (updated by the training forward) */
        sscma_model_destroy(b);
        sscma_context_destroy(ctx2);
    }
    sscma_model_destroy(a);
    sscma_context_destroy(ctx);
}

static void bad_checkpoints_are_rejected_and_change_nothing(void)
{
    sscma_context *ctx = NULL;
    sscma_model *a = NULL, *other = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &a));
    char path[128], bad[128], missing_dir[160];
    snprintf(path, sizeof path, "%s/good.ckpt", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", tmpdir);
    snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/model.ckpt", tmpdir);
    CHECK_OK(sscma_model_save(a, path, 0));
    long size = file_size(path);
    float before = param_value(a, "head.fc.weight", 0);
    /* truncated at several places */
    const long cuts[] = {0, 7, 20, 200, size / 2, size - 9, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        mangle(path, bad, cuts[i], -1);
        CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, bad);
    }
    mangle(path, bad, 5, -1); /* issue 24: a cut file was "no SSCMACKP magic"; it says where it was cut */
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "truncated at byte 5");
    mangle(path, bad, 0, -1);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "the file is empty");
    write_text(bad, "SSCMAX");
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "no SSCMACKP magic");
    mangle(path, bad, size - 1, -1);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "no SSCMAEND marker");
    /* bit flips: version, header, a tensor's data, the trailer CRC */
    mangle(path, bad, -1, 8);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "format version 17");
    mangle(path, bad, -1, 40);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "header CRC mismatch");
    mangle(path, bad, -1, size - 2000);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "CRC mismatch (its data is corrupt)");
    mangle(path, bad, -1, size - 10);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, "the file is corrupt");
    CHECK(param_value(a, "head.fc.weight", 0) == before); /* nothing was loaded */
    /* another model: 10 classes instead of 4 */
    CHECK_OK(sscma_model_create(ctx,
                                "{\"type\": \"ImageClassifier\", \"input_size\": [32, 32], \"backbone\": "
                                "{\"type\": \"MobileNetV2\", \"widen_factor\": 0.35, \"in_channels\": 1}, \"head\": "
                                "{\"type\": \"LinearClsHead\", \"num_classes\": 10}}",
                                &other));
    float other_before = param_value(other, "backbone.features.0.0.weight", 0);
    CHECK_FAILS(sscma_model_load(other, path), SSCMA_ERR_SHAPE,
                "tensor 'model/head.fc.weight' is f32[4, 1280]; the model expects f32[10, 1280]");
    CHECK(param_value(other, "backbone.features.0.0.weight", 0) == other_before); /* all or nothing */
    CHECK_FAILS(sscma_model_load(a, missing_dir), SSCMA_ERR_IO, "cannot open");
    CHECK_FAILS(sscma_model_save(a, missing_dir, 0), SSCMA_ERR_IO, "cannot create a temporary file");
    CHECK_FAILS(sscma_model_save(a, path, 0x80), SSCMA_ERR_INVALID_ARGUMENT, "unknown flags");
    CHECK_FAILS(sscma_model_save(NULL, path, 0), SSCMA_ERR_INVALID_ARGUMENT, "'model'");
    CHECK_FAILS(sscma_model_load(a, NULL), SSCMA_ERR_INVALID_ARGUMENT, "'path'");
    /* no temporary file was left behind */
    char cmd[200];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", tmpdir);
    CHECK(system(cmd) != 0);
    sscma_model_destroy(other);
    sscma_model_destroy(a);
    sscma_context_destroy(ctx);
}

/* ---- checkpoints crafted byte by byte (fixture_ckpt.h): every CRC right, one entry wrong ---- */

/* Appends the entry `user` (a JSON text) to the header's tensor list. */
static void append_entry(json_t *header, void *user)
{
    json_array_append_new(json_object_get(header, "tensors"), json_loads(user, 0, NULL));
}

/* Appends a copy of the first entry (same name, same data); its name goes to user (128 bytes). */
static void duplicate_first(json_t *header, void *user)
{
    json_t *tensors = json_object_get(header, "tensors"), *first = json_array_get(tensors, 0);
    snprintf(user, 128, "%s", json_string_value(json_object_get(first, "name")));
    json_array_append_new(tensors, json_deep_copy(first));
}

/* The first entry's offset and stored size both near 2^63: their sum with the blobs' start wraps in 64 bits. */
static void wrap_first_offset(json_t *header, void *user)
{
    (void)user;
    json_t *first = json_array_get(json_object_get(header, "tensors"), 0);
    json_object_set_new(first, "offset", json_integer(INT64_MAX - 8));
    json_object_set_new(first, "stored_bytes", json_integer(INT64_MAX - 8));
}

/* Appends an f32 entry whose data are the first entry's compressed bytes but whose shape declares 4128 times as
 * many bytes: more than deflate can expand them to (at most 1032-fold). */
static void inflated_entry(json_t *header, void *user)
{
    (void)user;
    json_t *tensors = json_object_get(header, "tensors"), *first = json_array_get(tensors, 0);
    json_int_t stored = json_integer_value(json_object_get(first, "stored_bytes"));
    json_array_append_new(tensors, json_pack("{s:s, s:s, s:[I], s:I, s:I, s:I, s:O}", "name", "extra/inflated",
                                             "dtype", "f32", "shape", (json_int_t)1032 * stored, "offset",
                                             (json_int_t)0, "bytes", (json_int_t)4128 * stored, "stored_bytes",
                                             stored, "crc32", json_object_get(first, "crc32")));
}

static void crafted_checkpoints_are_refused_by_entry(void)
{
    sscma_context *ctx = NULL;
    sscma_model *a = NULL;
    CHECK_OK(sscma_context_create(NULL, &ctx));
    CHECK_OK(sscma_model_create(ctx, fixture_small_classifier, &a));
    char path[128], zpath[128], bad[128], name[128];
    snprintf(path, sizeof path, "%s/plain.ckpt", tmpdir);
    snprintf(zpath, sizeof zpath, "%s/deflated.ckpt", tmpdir);
    snprintf(bad, sizeof bad, "%s/crafted.ckpt", tmpdir);
    CHECK_OK(sscma_model_save(a, path, 0));
    CHECK_OK(sscma_model_save(a, zpath, SSCMA_SAVE_COMPRESS));
    int32_t count = 0;
    CHECK_OK(sscma_model_param_count(a, &count));
    char entry[400], expect[400];
    /* shapes whose byte count wraps to 0 in 64 bits (with 0 bytes of data) were accepted; so was a zero dimension
     * after the product had passed the limit ([0, 2^40, 2^40]) */
    static const char *const wrapping[] = {
        "\"u8\", \"shape\": [4294967296, 4294967296]",
        "\"f32\", \"shape\": [1099511627776, 16777216]",
        "\"i32\", \"shape\": [65536, 65536, 65536, 65536]",
        "\"u8\", \"shape\": [0, 1099511627776, 1099511627776]",
        "\"u8\", \"shape\": [1099511627776, 1099511627776, 0]",
    };
    for (size_t i = 0; i < sizeof wrapping / sizeof *wrapping; i++) {
        snprintf(entry, sizeof entry,
                 "{\"name\": \"extra/wrap\", \"dtype\": %s, \"offset\": 0, \"bytes\": 0, \"stored_bytes\": 0, "
                 "\"crc32\": 0}",
                 wrapping[i]);
        CHECK_INT_EQ(ckpt_fixture_rewrite(path, bad, append_entry, entry), 0);
        snprintf(expect, sizeof expect, "%s: tensor 'extra/wrap' (entry %d): invalid shape", bad, (int)count);
        CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, expect);
    }
    /* a zero dimension with every other one in range is an empty tensor, not an error */
    CHECK_INT_EQ(ckpt_fixture_rewrite(path, bad, append_entry,
                                      "{\"name\": \"extra/empty\", \"dtype\": \"f32\", \"shape\": [0, 7], \"offset\": 0, "
                                      "\"bytes\": 0, \"stored_bytes\": 0, \"crc32\": 0}"),
                 0);
    CHECK_OK(sscma_model_load(a, bad));
    /* the same name twice: which one would load depended on the order of the list */
    CHECK_INT_EQ(ckpt_fixture_rewrite(path, bad, duplicate_first, name), 0);
    snprintf(expect, sizeof expect, "%s: tensor '%s' (entry %d): a second entry of that name (the first is entry 0)",
             bad, name, (int)count);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, expect);
    /* compressed: an offset and a size that wrap past the end of the file read far outside it */
    CHECK_INT_EQ(ckpt_fixture_rewrite(zpath, bad, wrap_first_offset, NULL), 0);
    snprintf(expect, sizeof expect, "%s: tensor '%s' (entry 0): offset %lld and sizes", bad, name,
             (long long)(INT64_MAX - 8));
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, expect);
    /* compressed: more bytes declared than the stored ones can inflate to */
    CHECK_INT_EQ(ckpt_fixture_rewrite(zpath, bad, inflated_entry, NULL), 0);
    snprintf(expect, sizeof expect, "%s: tensor 'extra/inflated' (entry %d):", bad, (int)count);
    CHECK_FAILS(sscma_model_load(a, bad), SSCMA_ERR_FORMAT, expect);
    CHECK_STR_CONTAINS(sscma_last_error(), "cannot come from");
    /* the untouched files still load */
    CHECK_OK(sscma_model_load(a, path));
    CHECK_OK(sscma_model_load(a, zpath));
    sscma_model_destroy(a);
    sscma_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(checkpoints_round_trip),
        TEST_CASE(bad_checkpoints_are_rejected_and_change_nothing),
        TEST_CASE(crafted_checkpoints_are_refused_by_entry),
    };
    if (fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-test") != 0)
        return 99;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    if (fixture_tmpdir_remove(tmpdir) != 0)
        rc = 1;
    return rc;
}
