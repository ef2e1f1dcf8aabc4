/*
 * Unit tests of data.h: SensorDataset (Edge Impulse's info.labels + data acquisition JSON, and CSV), cut into windows
 * as SSCMA's read_split_data cuts them, resampled, normalised; the loader's float batches; defects by file and row.
 * Expected windows are worked out by hand from SSCMA's rules in the comments, not by the reader's code.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sscma/sscma.h>

#include "data_fixtures.h"
#include "harness.h"

/* A data acquisition JSON of n rows: row r is (r, 10 + r, 100 + r) */
static void write_ei(const char *path, double interval, int n)
{
    size_t cap = 256 + (size_t)n * 48, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "{\"protected\": {\"ver\": \"v1\"}, \"payload\": {\"interval_ms\": "
                            "%g, \"sensors\": [{\"name\": \"accX\", \"units\": \"m/s2\"}, {\"name\": \"accY\", "
                            "\"units\": \"m/s2\"}, {\"name\": \"accZ\", \"units\": \"m/s2\"}], \"values\": [",
                            interval);
    for (int r = 0; r < n; r++)
        len += (size_t)snprintf(text + len, cap - len, "%s[%d, %d, %d]", r ? ", " : "", r, 10 + r, 100 + r);
    snprintf(text + len, cap - len, "]}}");
    write_text(path, text);
    free(text);
}

/* info.labels with entries "path:label[:category]" */
static void write_labels(const char *path, const char *const *entries, int n)
{
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "{\"version\": 1, \"files\": [");
    for (int i = 0; i < n; i++) {
        char e[256];
        snprintf(e, sizeof e, "%s", entries[i]);
        char *label = strchr(e, ':');
        *label++ = '\0';
        char *cat = strchr(label, ':');
        if (cat != NULL)
            *cat++ = '\0';
        len += (size_t)snprintf(text + len, sizeof text - len, "%s{\"path\": \"%s\", \"category\": \"%s\", "
                                "\"label\": {\"type\": \"label\", \"label\": \"%s\"}}", i ? ", " : "", e,
                                cat != NULL ? cat : "training", label);
    }
    snprintf(text + len, sizeof text - len, "]}");
    write_text(path, text);
}

/* The window of sample `index` (a [3, W] view) equals rows start.. of write_ei's data placed at `front`. */
static void check_window(sscma_dataset *ds, int64_t index, int64_t W, int start, int len, int front)
{
    sscma_sample *s = NULL;
    CHECK_OK(sscma_dataset_get(ds, index, &s));
    if (s == NULL)
        return;
    sscma_tensor *view = NULL;
    CHECK_OK(sscma_sample_image(s, &view));
    sscma_dtype dt;
    int64_t c = 0, l = 0;
    const float *d = NULL;
    CHECK_OK(sscma_tensor_dtype(view, &dt));
    CHECK_OK(sscma_tensor_dim(view, 0, &c));
    CHECK_OK(sscma_tensor_dim(view, 1, &l));
    CHECK(dt == SSCMA_DTYPE_F32 && c == 3 && l == W);
    CHECK_OK(sscma_tensor_data(view, (void **)&d));
    for (int64_t a = 0; d != NULL && a < 3 && c == 3 && l == W; a++)
        for (int64_t t = 0; t < W; t++) {
            float want = t >= front && t < front + len ? (float)((a == 0 ? 0 : a == 1 ? 10 : 100) + start + t - front)
                                                       : 0.0f;
            if (d[a * W + t] != want) {
                test_fail(__FILE__, __LINE__, "sample %lld axis %lld step %lld: %g, expected %g", (long long)index,
                          (long long)a, (long long)t, (double)d[a * W + t], (double)want);
                a = 3;
                break;
            }
        }
    sscma_sample_destroy(s);
}

static void windows_cut_as_sscma(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/cut", tmpdir);
    const char *dirs[] = {"", "/training"};
    make_dirs(root, dirs, 2);
    snprintf(path, sizeof path, "%s/training/a.json", root);
    write_ei(path, 16, 10);
    snprintf(path, sizeof path, "%s/training/b.json", root);
    write_ei(path, 16, 3);
    snprintf(path, sizeof path, "%s/training/c.json", root);
    write_ei(path, 16, 12);
    const char *entries[] = {"a.json:wave", "b.json:idle", "c.json:wave"};
    snprintf(path, sizeof path, "%s/training/info.labels", root);
    write_labels(path, entries, 3);
    /* window 4, stride 3, retention 0.8: a (10 rows) starts 0, 3, 6 (at 6 the end reaches the last row: 0.8 * 4 <
     * 10 - 6 + 1, kept whole); 9 is the last start and 0.8 * 4 >= 2: dropped. b (3 rows <= 4): one window, padded 0
     * in front and 1 behind. c (12 rows): starts 0, 3, 6; at 9, the last start, 0.8 * 4 < 12 - 9 + 1 = 4: rows 9..11
     * padded (front (4 - 3) / 2 = 0). */
    snprintf(cfg, sizeof cfg, "{\"type\": \"sscma.SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": "
             "\"training\", \"ann_file\": \"info.labels\", \"window_size\": 4, \"stride\": 3}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    int64_t n = 0;
    int32_t classes = 0;
    const char *name = NULL;
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 8);
    CHECK_OK(sscma_dataset_num_classes(ds, &classes));
    CHECK_INT_EQ(classes, 2);
    CHECK_OK(sscma_dataset_class_name(ds, 1, &name)); /* first appearance: wave, idle */
    CHECK_STR_EQ(name, "idle");
    static const int starts[8][4] = {{0, 4, 0, 0}, {3, 4, 0, 0}, {6, 4, 0, 0}, {0, 3, 0, 1},
                                     {0, 4, 0, 0}, {3, 4, 0, 0}, {6, 4, 0, 0}, {9, 3, 0, 0}};
    for (int i = 0; i < 8; i++)
        check_window(ds, i, 4, starts[i][0], starts[i][1], starts[i][2]);
    int32_t label = -1;
    sscma_sample *s = NULL;
    CHECK_OK(sscma_dataset_get(ds, 3, &s));
    CHECK_OK(sscma_sample_label(s, &label));
    CHECK_INT_EQ(label, 1);
    sscma_sample_destroy(s);
    /* every window was read when opened: the check has nothing to report */
    int64_t problems = -1;
    CHECK_OK(sscma_dataset_check(ds, &problems, NULL));
    CHECK_INT_EQ(problems, 0);

    /* the loader: flatten (SSCMA's default) gives [N, 1, 1, 3 * 4] axis-major, as the window views */
    sscma_loader *loader = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 8}", &loader));
    int64_t dims[4] = {0};
    CHECK_OK(sscma_loader_batch_shape(loader, dims));
    CHECK(dims[0] == 8 && dims[1] == 1 && dims[2] == 1 && dims[3] == 12);
    sscma_tensor *x = NULL, *y = NULL;
    const int64_t ydims[1] = {8};
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &x));
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_I32, 1, ydims, &y));
    int64_t got = 0;
    CHECK_OK(sscma_loader_start_epoch(loader, 0));
    CHECK_OK(sscma_loader_next(loader, x, y, &got));
    const float *xd = NULL;
    const int32_t *yd = NULL;
    CHECK_OK(sscma_tensor_data(x, (void **)&xd));
    CHECK_OK(sscma_tensor_data(y, (void **)&yd));
    CHECK_INT_EQ(got, 8);
    if (xd != NULL && yd != NULL) { /* sample 7: rows 9..11 then a zero; axis y after axis x */
        CHECK(xd[7 * 12 + 0] == 9.0f && xd[7 * 12 + 3] == 0.0f && xd[7 * 12 + 4] == 19.0f && xd[7 * 12 + 8] == 109.0f);
        CHECK(yd[3] == 1 && yd[0] == 0);
    }
    sscma_tensor_destroy(x), sscma_tensor_destroy(y);
    sscma_loader_destroy(loader);
    loader = NULL;
    /* image transforms do not apply to windows */
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"batch_size\": 2, \"pipeline\": [{\"type\": \"RandomFlip\"}]}",
                                    &loader), SSCMA_ERR_CONFIG, "its pipeline takes no image transforms");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"batch_size\": 2, \"target\": {\"type\": \"FomoTarget\"}}", &loader),
                SSCMA_ERR_CONFIG, "target FomoTarget needs images; a SensorDataset takes class labels or OneHot");
    sscma_dataset_destroy(ds);

    /* flatten false: [N, 1, window, axes], time-major; retention 0.5 keeps c's tail at 10 of stride 5 */
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s/training\", \"window_size\": 4, "
             "\"stride\": 5, \"retention\": 0.5, \"flatten\": false, \"indices\": [0, 1, 5]}", root);
    ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    /* a: 0, 5 (at 5 the end 9 < 10: whole); the last start is 5 too, so it is kept only if 0.5 * 4 < 6: yes, rows
     * 5..8 (len min(5, 4)). b: one padded window. c: 0, 5, 10 (last; 0.5 * 4 < 3: rows 10, 11 with 1 in front) */
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 3);
    check_window(ds, 0, 4, 0, 4, 0);
    check_window(ds, 1, 4, 5, 4, 0);
    check_window(ds, 2, 4, 10, 2, 1);
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 3}", &loader));
    CHECK_OK(sscma_loader_batch_shape(loader, dims));
    CHECK(dims[0] == 3 && dims[1] == 1 && dims[2] == 4 && dims[3] == 3);
    x = NULL;
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 4, dims, &x));
    CHECK_OK(sscma_loader_start_epoch(loader, 0));
    CHECK_OK(sscma_loader_next(loader, x, NULL, &got));
    CHECK_OK(sscma_tensor_data(x, (void **)&xd));
    if (xd != NULL) /* sample 2, step 1 (row 10): x, y, z side by side */
        CHECK(xd[2 * 12 + 3] == 10.0f && xd[2 * 12 + 4] == 20.0f && xd[2 * 12 + 5] == 110.0f && xd[2 * 12] == 0.0f);
    sscma_tensor_destroy(x);
    sscma_loader_destroy(loader);
    sscma_dataset_destroy(ds);
}

/* A start with exactly window_size - 1 rows left is a tail in SSCMA (its `end >= len` branch): padded, not read past
 * the end. 9 rows, window 4, stride 2: starts 0, 2, 4 whole; 6 has 3 rows (0.8 * 4 < 4: kept, one zero behind); 8 is
 * the last start with 1 row (0.8 * 4 >= 2: dropped). */
static void window_minus_one_is_a_tail(void)
{
    char root[160], path[300], cfg[400];
    snprintf(root, sizeof root, "%s/tail", tmpdir);
    const char *dirs[] = {""};
    make_dirs(root, dirs, 1);
    snprintf(path, sizeof path, "%s/n.json", root);
    write_ei(path, 16, 9);
    const char *entries[] = {"n.json:x"};
    snprintf(path, sizeof path, "%s/info.labels", root);
    write_labels(path, entries, 1);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window_size\": 4, "
             "\"stride\": 2}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 4);
    check_window(ds, 0, 4, 0, 4, 0);
    check_window(ds, 1, 4, 2, 4, 0);
    check_window(ds, 2, 4, 4, 4, 0);
    check_window(ds, 3, 4, 6, 3, 0);
    sscma_dataset_destroy(ds);
}

/* Edge Impulse's export: info.labels at the root with categories; CSV samples; resampling; normalisation. */
static void export_layout_csv_resampling(void)
{
    char root[160], path[300], cfg[700];
    snprintf(root, sizeof root, "%s/export", tmpdir);
    const char *dirs[] = {"", "/training", "/testing"};
    make_dirs(root, dirs, 3);
    /* 11 rows every 10 ms of value = time: resampled to 16 ms (frequency 62.5) they are 0, 16, .., 96 (7 rows) */
    char text[2048];
    size_t len = (size_t)snprintf(text, sizeof text, "{\"payload\": {\"interval_ms\": 10, \"sensors\": [{\"name\": "
                                  "\"t\", \"units\": \"ms\"}], \"values\": [");
    for (int r = 0; r <= 10; r++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%d", r ? ", " : "", 10 * r);
    snprintf(text + len, sizeof text - len, "]}}");
    snprintf(path, sizeof path, "%s/training/fast.json", root);
    write_text(path, text);
    /* a CSV at 16 ms: time column, one axis */
    snprintf(path, sizeof path, "%s/training/slow.csv", root);
    write_text(path, "timestamp,t\n0,1\n16,2\n32,3\n48,4\n64,5\n80,6\n96,7\n");
    snprintf(path, sizeof path, "%s/testing/other.csv", root);
    write_text(path, "timestamp,t\n0,9\n16,9\n");
    const char *entries[] = {"testing/other.csv:c:testing", "training/fast.json:a:training",
                             "training/slow.csv:b:training"};
    snprintf(path, sizeof path, "%s/info.labels", root);
    write_labels(path, entries, 3);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"training\", "
             "\"ann_file\": \"info.labels\", \"window_size\": 7, \"stride\": 7, \"frequency\": 62.5, \"mean\": [1], "
             "\"std\": [2]}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, 2); /* the testing entry is another split's; its class still counts (c first) */
    int32_t classes = 0;
    const char *name = NULL;
    CHECK_OK(sscma_dataset_num_classes(ds, &classes));
    CHECK_INT_EQ(classes, 3);
    CHECK_OK(sscma_dataset_class_name(ds, 0, &name));
    CHECK_STR_EQ(name, "c");
    for (int i = 0; i < 2; i++) {
        sscma_sample *s = NULL;
        sscma_tensor *view = NULL;
        const float *d = NULL;
        int32_t label = -1;
        CHECK_OK(sscma_dataset_get(ds, i, &s));
        if (s == NULL)
            continue;
        CHECK_OK(sscma_sample_image(s, &view));
        CHECK_OK(sscma_tensor_data(view, (void **)&d));
        CHECK_OK(sscma_sample_label(s, &label));
        CHECK_INT_EQ(label, i + 1);
        for (int t = 0; d != NULL && t < 7; t++) { /* (x - 1) / 2 */
            double want = i == 0 ? (16.0 * t - 1.0) / 2.0 : (double)t / 2.0;
            CHECK_NEAR(d[t], want, 1e-4);
        }
        sscma_sample_destroy(s);
    }
    sscma_dataset_destroy(ds);
    /* no info.labels in the prefix folder nor at the root: the SSCMA path is named */
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s/training\", \"data_prefix\": "
             "\"x\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, "training/x/info.labels: cannot open");
    /* mean/std per axis must match the axes */
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"data_prefix\": \"training\", "
             "\"mean\": [1, 2]}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, "expected 1 or 1 values (one per axis)");
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window\": 3}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, "SensorDataset: unknown key 'window'");
}

/* Each defect names the file and the row (rows count from 1: the first values entry, the first line after the CSV
 * header); with on_defect "skip" each sample with one is left out and listed. */
static void defects_by_file_and_row(void)
{
    char root[160], path[300], cfg[600];
    snprintf(root, sizeof root, "%s/bad", tmpdir);
    const char *dirs[] = {""};
    make_dirs(root, dirs, 1);
    snprintf(path, sizeof path, "%s/good.json", root);
    write_ei(path, 16, 5);
    snprintf(path, sizeof path, "%s/ragged.json", root);
    write_text(path, "{\"payload\": {\"interval_ms\": 16, \"sensors\": [{\"name\": \"x\"}, {\"name\": \"y\"}], "
               "\"values\": [[1, 2], [3, 4], [5]]}}");
    snprintf(path, sizeof path, "%s/zero.json", root);
    write_text(path, "{\"payload\": {\"interval_ms\": 0, \"sensors\": [{\"name\": \"x\"}], \"values\": [1, 2]}}");
    snprintf(path, sizeof path, "%s/text.json", root);
    write_text(path, "{\"payload\": {\"interval_ms\": 16, \"sensors\": [{\"name\": \"x\"}, {\"name\": \"y\"}, "
               "{\"name\": \"z\"}], \"values\": [[1, 2, 3], [1, \"a\", 3]]}}");
    snprintf(path, sizeof path, "%s/ragged.csv", root);
    write_text(path, "time,x,y,z\n0,1,2,3\n16,1,2\n");
    snprintf(path, sizeof path, "%s/word.csv", root);
    write_text(path, "time,x,y,z\n0,1,2,3\n16,1,2,3\n32,1,two,3\n");
    snprintf(path, sizeof path, "%s/still.csv", root);
    write_text(path, "time,x,y,z\n0,1,2,3\n0,1,2,3\n");
    const char *entries[] = {"good.json:a", "gone.json:a", "ragged.json:a", "zero.json:a", "text.json:a",
                             "ragged.csv:a", "word.csv:a", "still.csv:a", "good.json:zz"};
    snprintf(path, sizeof path, "%s/info.labels", root);
    write_labels(path, entries, 9);
    static const char *const needles[] = {
        "gone.json: cannot open: No such file or directory",
        "ragged.json: row 3: 1 values, expected 2 (one per sensor)",
        "zero.json: payload.interval_ms: expected a number > 0",
        "text.json: row 2: value 2 (y) is not a number",
        "ragged.csv: row 2: 3 columns, the header has 4",
        "word.csv: row 3: column 3: 'two' is not a finite number",
        "still.csv: row 2: time 0 ms is not after the previous row's 0",
        "info.labels: files[8] (good.json): unknown label 'zz' (not in classes)",
    };
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window_size\": 5, "
             "\"classes\": [\"a\"], \"on_defect\": \"skip\"}", root);
    sscma_dataset *ds = check_defects_listed(cfg, 1, 8, needles, sizeof needles / sizeof needles[0]);
    sscma_dataset_destroy(ds);
    /* on_defect "fail" (the default): the first defect is the open's error, with the same words */
    static const char *const order[] = {"gone.json", "ragged.json", "zero.json", "text.json", "ragged.csv",
                                        "word.csv", "still.csv"};
    for (int k = 0; k < 7; k++) {
        const char *keep[] = {order[k], ""};
        char entry[64];
        snprintf(entry, sizeof entry, "%s:a", keep[0]);
        const char *one[] = {entry};
        write_labels(path, one, 1);
        snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\"}", root);
        ds = NULL;
        CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), k == 0 ? SSCMA_ERR_IO : SSCMA_ERR_FORMAT, needles[k]);
        CHECK(ds == NULL);
    }
    const char *unknown[] = {"good.json:zz"};
    write_labels(path, unknown, 1);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"classes\": [\"a\"]}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "info.labels: files[0] (good.json): unknown label 'zz' (not in classes)");
    write_text(path, "{\"files\": 3}");
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "info.labels: files: expected the list of samples");
    write_text(path, "{\"files\": [");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "info.labels: line 1");
}

/* Bounds: a recording that resampling would blow up, values past the float range. */
static void limits_are_defects(void)
{
    char root[160], path[300], cfg[400];
    snprintf(root, sizeof root, "%s/limits", tmpdir);
    const char *dirs[] = {""};
    make_dirs(root, dirs, 1);
    snprintf(path, sizeof path, "%s/slow.json", root);
    write_text(path, "{\"payload\": {\"interval_ms\": 1e12, \"sensors\": [{\"name\": \"x\"}], \"values\": [1, 2]}}");
    snprintf(path, sizeof path, "%s/huge.csv", root);
    write_text(path, "t,x\n0,1\n16,1e300\n");
    snprintf(path, sizeof path, "%s/huge.json", root);
    write_text(path, "{\"payload\": {\"interval_ms\": 16, \"sensors\": [{\"name\": \"x\"}], \"values\": [1, -1e39]}}");
    sscma_dataset *ds = NULL;
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"ann_file\": \"slow.json\", "
             "\"frequency\": 62.5}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "slow.json: 2 rows every 1e+12 ms resampled to 16 ms would be 62500000001 rows, more than 134217728 "
                "values: check the interval");
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"ann_file\": \"huge.csv\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "huge.csv: row 2: column 2: 1e+300 is outside the float range");
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"ann_file\": \"huge.json\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "huge.json: row 2: value 1 (x) is not a number within the float range");
}

/* sscma_predict on a window (f32 [axes, window_size], as the sample gives it): the deployed float model's
 * probabilities are the softmax of the model's logits on the same flattened window, best first; a window of another
 * size is refused, naming both shapes. */
static void predict_takes_a_window(void)
{
    char root[160], path[300], cfg[400];
    snprintf(root, sizeof root, "%s/pred", tmpdir);
    const char *dirs[] = {""};
    make_dirs(root, dirs, 1);
    snprintf(path, sizeof path, "%s/w.json", root);
    write_ei(path, 16, 8);
    const char *entries[] = {"w.json:x"};
    snprintf(path, sizeof path, "%s/info.labels", root);
    write_labels(path, entries, 1);
    snprintf(cfg, sizeof cfg, "{\"type\": \"SensorDataset\", \"data_root\": \"%s\", \"window_size\": 8}", root);
    sscma_dataset *ds = NULL;
    sscma_model *m = NULL;
    sscma_qmodel *q = NULL;
    sscma_sample *s = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_OK(sscma_model_create(ctx, "{\"type\": \"AccelerometerClassifier\", \"backbone\": {\"type\": \"AxesNet\", "
                                "\"num_axes\": 3, \"window_size\": 8, \"num_classes\": 5}, \"head\": {\"type\": "
                                "\"AxesClsHead\"}}", &m));
    if (ds == NULL || m == NULL)
        goto done;
    CHECK_OK(sscma_dataset_get(ds, 0, &s));
    sscma_tensor *win = NULL, *in = NULL, *logits = NULL;
    const float *w = NULL, *z = NULL;
    float *x = NULL;
    CHECK_OK(sscma_sample_image(s, &win));
    CHECK_OK(sscma_tensor_data(win, (void **)&w));
    /* the model's own logits on the flattened window */
    CHECK_OK(sscma_model_prepare(m, 1, 0));
    CHECK_OK(sscma_model_input(m, "image", &in));
    CHECK_OK(sscma_tensor_data(in, (void **)&x));
    memcpy(x, w, 24 * sizeof *x);
    CHECK_OK(sscma_model_forward(m));
    CHECK_OK(sscma_model_output(m, "logits", &logits));
    CHECK_OK(sscma_tensor_data(logits, (void **)&z));
    double zmax = z[0], sum = 0.0, p[5];
    for (int k = 1; k < 5; k++)
        zmax = z[k] > zmax ? z[k] : zmax;
    for (int k = 0; k < 5; k++)
        sum += p[k] = exp((double)z[k] - zmax);
    CHECK_OK(sscma_qmodel_from_model(m, &q));
    sscma_prediction r[8];
    int32_t n = 0;
    CHECK_OK(sscma_predict(q, win, NULL, r, 8, &n));
    CHECK_INT_EQ(n, 5);
    for (int32_t k = 0; k < n && k < 5; k++) {
        CHECK_NEAR(r[k].score, p[r[k].class_id] / sum, 1e-5);
        if (k > 0)
            CHECK(r[k].score <= r[k - 1].score);
    }
    const char *task = NULL;
    CHECK_OK(sscma_predict_task(q, NULL, &task));
    CHECK_STR_EQ(task, "cls");
    /* a window of another size */
    sscma_tensor *other = NULL;
    const int64_t dims[2] = {3, 7};
    CHECK_OK(sscma_tensor_create(ctx, SSCMA_DTYPE_F32, 2, dims, &other));
    CHECK_FAILS(sscma_predict(q, other, NULL, r, 8, &n), SSCMA_ERR_SHAPE,
                "a window of 3 x 7 values does not fit the model's input [1, 1, 1, 24]");
    sscma_tensor_destroy(other);
done:
    sscma_sample_destroy(s);
    sscma_qmodel_destroy(q);
    sscma_model_destroy(m);
    sscma_dataset_destroy(ds);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(windows_cut_as_sscma),
        TEST_CASE(window_minus_one_is_a_tail),
        TEST_CASE(export_layout_csv_resampling),
        TEST_CASE(defects_by_file_and_row),
        TEST_CASE(predict_takes_a_window),
        TEST_CASE(limits_are_defects),
    };
    return data_test_main(argc, argv, cases, TEST_COUNT(cases));
}
