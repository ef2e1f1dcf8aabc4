/*
 * SensorDataset (SSCMA's sscma.SensorDataset): Edge Impulse's export layout, cut into windows of 1-D float samples.
 *
 * The index is an Edge Impulse `info.labels` (JSON: {"files": [{"path", "category", "label": {"label": name}}]}),
 * read from data_root/data_prefix/ann_file as SSCMA joins it; when that file does not exist, data_root/ann_file, the
 * root of Edge Impulse's export, and then only the entries whose "category" equals data_prefix ("training",
 * "testing"). An entry's path is relative to the folder holding the info.labels. A sample file is Edge Impulse's
 * data acquisition JSON ({"payload": {"interval_ms", "sensors": [{"name", "units"}], "values": [[...], ...]}}) or,
 * for a path ending in .csv, a CSV file: a header, then a time column in milliseconds and one column per axis.
 * An ann_file that is itself a sample (a .csv, or a JSON with a "payload") gives that sample's windows without a
 * class (label -1; classes from the `classes` key, else none): what `sscma infer` runs on.
 *
 * With `frequency` (Hz, a libsscma key), every sample is brought to an interval of 1000 / frequency ms by linear
 * interpolation between neighbouring rows; without it the rows are used as they are (SSCMA's way; a sample whose
 * interval differs from the first's is reported as a warning). Then the rows are optionally normalised per axis ((x - mean[a]) / std[a], a
 * libsscma extension: SSCMA feeds the raw values), then cut as SSCMA's read_split_data cuts it: windows of
 * window_size rows every stride rows; a sample no longer than window_size gives one window, zero-padded evenly
 * in front and behind; a tail shorter than the window (and the last start) is kept, padded the same way, when
 * retention * window_size < remaining rows + 1. (SSCMA's `end >= len` branch makes a start with exactly
 * window_size - 1 rows left such a tail too.) Classes are the labels in their first appearance over the whole
 * info.labels (every category, so that the training and testing splits agree), or the `classes` list.
 *
 * The windows stay in memory as floats, axis-major ([axes][window_size] each, SSCMA's flatten order); the loader
 * copies them into [N, 1, 1, axes * window_size] batches (flatten, SSCMA's default) or [N, 1, window_size, axes]
 * (flatten false: one row of window_size time steps with an axis per channel, NHWC).
 *
 * With "features" (sensor_features.c: SSCMA's CWT + MTF images) the values are quantised and standardised instead
 * of the per-axis mean/std, and after cutting each window becomes 2 * axes images of size x size (stored the same
 * way, channel-major); the loader gives [N, size, size, 2 * axes]. Without features.mean/std a first pass over the
 * stats_prefix split's recordings (feature_stats) computes them. With "features": {"type": "Spectrum"} (a libsscma
 * extension) the rows are normalised as without features, and after cutting each window becomes, per axis, its
 * n / 2 + 1 DFT magnitudes (+ mean and std): axes channels of that length, which the loader gives like raw windows
 * ([N, 1, 1, axes * F] flat, else [N, 1, F, axes]).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/file.h"
#include "core/schema.h"
#include "data/audio.h"
#include "data/data.h"
#include "data/sensor_features.h"

#define TYPE "SensorDataset"
#define MAX_AXES 64

typedef struct sensor_cfg {
    const char *data_root, *data_prefix, *ann_file;
    int64_t window_size, stride;
    double retention, frequency;
    bool flatten, multi_label;
    double mean[MAX_AXES], std[MAX_AXES];
    int32_t n_mean, n_std;
    json_t *classes, *features;
} sensor_cfg;

static const sscma_field sensor_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("max_pixels"),
    SSCMA_FIELD_KEY("indices"),
    SSCMA_FIELD_KEY("on_defect"),
    SSCMA_FIELD_STRING(sensor_cfg, data_root, ""),
    SSCMA_FIELD_STRING(sensor_cfg, data_prefix, ""),
    SSCMA_FIELD_STRING(sensor_cfg, ann_file, "info.labels"),
    SSCMA_FIELD_RANGE(sensor_cfg, window_size, 80, 1, 1 << 20),
    SSCMA_FIELD_RANGE(sensor_cfg, stride, 30, 1, 1 << 20),
    SSCMA_FIELD_RANGE(sensor_cfg, retention, 0.8, 0.0, 1.0),
    SSCMA_FIELD_RANGE(sensor_cfg, frequency, 0.0, 0.0, 1e9),
    SSCMA_FIELD(sensor_cfg, flatten, true),
    SSCMA_FIELD(sensor_cfg, multi_label, false),
    SSCMA_FIELD_LIST_AS("mean", sensor_cfg, mean, offsetof(sensor_cfg, n_mean), 1, 0.0, -INFINITY, INFINITY, 0),
    SSCMA_FIELD_LIST_AS("std", sensor_cfg, std, offsetof(sensor_cfg, n_std), 1, 1.0, 1e-12, INFINITY, 0),
    SSCMA_FIELD_JSON_AS("classes", sensor_cfg, classes),
    SSCMA_FIELD_JSON_AS("features", sensor_cfg, features),
    SSCMA_FIELD_KEY("source"),
    SSCMA_FIELD_KEY("metainfo"),
    SSCMA_FIELD_KEY("pack"), /* SSCMA's configs/anomaly/loda.py passes it; no SensorDataset ever read it */
    SSCMA_FIELD_END,
};

/* One sample's rows: n rows of `axes` floats at interval_ms. */
typedef struct series {
    float *rows;
    int64_t n;
    int32_t axes;
    double interval_ms;
} series;

/* What the open builds up: windows axis-major, their labels. */
typedef struct builder {
    sscma_dataset *ds;
    const sensor_cfg *cfg;
    int32_t axes;      /* 0 until the first sample */
    double interval;   /* target interval in ms (1000 / frequency), 0: no resampling */
    double first_interval; /* without frequency: the first sample's, to warn about others */
    int64_t rate_warnings;
    float *windows;    /* count * axes * window_size */
    int32_t *labels;
    int64_t count, cap;
    const sensor_features_cfg *features; /* NULL: none */
    bool stats_only;   /* the features' statistics pass: count the values, cut nothing */
    double stats_mean, stats_m2;
    int64_t stats_n;
} builder;

static bool is_csv(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".csv") == 0;
}

/* ---- readers: a file into a series, or a defect "<file>: row N: ..." (rows count from 1) ---- */

static sscma_status json_series(sscma_dataset *ds, const char *path, series *s)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (root == NULL) {
        struct stat sb;
        if (stat(path, &sb) != 0)
            return sscma_dataset_defect(ds, SSCMA_ERR_IO, path, "cannot open: %s", strerror(errno));
        return sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "line %d, column %d: %s", err.line, err.column,
                                    err.text);
    }
    sscma_status st = SSCMA_OK;
    json_t *payload = json_object_get(root, "payload");
    json_t *interval = json_object_get(payload, "interval_ms");
    json_t *sensors = json_object_get(payload, "sensors"), *values = json_object_get(payload, "values");
    if (!json_is_object(payload))
        st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "payload: expected an object (Edge Impulse's data "
                                  "acquisition format)");
    else if (!json_is_number(interval) || !(json_number_value(interval) > 0.0) ||
             !isfinite(json_number_value(interval)))
        st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "payload.interval_ms: expected a number > 0, got %s",
                                  json_is_number(interval) ? "a number <= 0" : "no number");
    else if (!json_is_array(sensors) || json_array_size(sensors) == 0 || json_array_size(sensors) > MAX_AXES)
        st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "payload.sensors: expected a list of 1..%d sensors",
                                  MAX_AXES);
    else if (!json_is_array(values) || json_array_size(values) == 0)
        st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "payload.values: expected a non-empty list of rows");
    if (st != SSCMA_OK || !json_is_array(values) || json_array_size(values) == 0 || !json_is_array(sensors) ||
        !json_is_number(interval) || !(json_number_value(interval) > 0.0)) {
        json_decref(root);
        return st; /* a defect: listed under "skip" (st OK) or the error; no rows either way */
    }
    const int32_t axes = (int32_t)json_array_size(sensors);
    for (int32_t a = 0; a < axes; a++)
        if (!json_is_string(json_object_get(json_array_get(sensors, (size_t)a), "name"))) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "payload.sensors[%d]: expected an object with a "
                                      "\"name\"", (int)a);
            json_decref(root);
            return st; /* a defect: listed under "skip" (st OK) or the error; no rows either way */
        }
    const size_t n = json_array_size(values);
    s->rows = sscma_malloc(ds->ctx, n * (size_t)axes * sizeof *s->rows);
    if (s->rows == NULL) {
        json_decref(root);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot allocate %zu rows", n);
    }
    s->n = (int64_t)n, s->axes = axes, s->interval_ms = json_number_value(interval);
    bool bad = false;
    for (size_t r = 0; r < n && !bad; r++) {
        json_t *row = json_array_get(values, r);
        /* one sensor: Edge Impulse writes a plain number per row */
        size_t got = json_is_array(row) ? json_array_size(row) : 1;
        if (got != (size_t)axes) {
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "row %zu: %zu values, expected %d (one per sensor)",
                                      r + 1, got, (int)axes);
            bad = true;
            break;
        }
        for (int32_t a = 0; a < axes; a++) {
            json_t *v = json_is_array(row) ? json_array_get(row, (size_t)a) : row;
            if (!json_is_number(v) || !isfinite((float)json_number_value(v))) {
                st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "row %zu: value %d (%s) is not a number%s",
                                          r + 1, (int)a + 1,
                                          json_string_value(json_object_get(json_array_get(sensors, (size_t)a), "name")),
                                          json_is_number(v) ? " within the float range" : "");
                bad = true;
                break;
            }
            s->rows[r * (size_t)axes + (size_t)a] = (float)json_number_value(v);
        }
    }
    json_decref(root);
    if (bad) { /* listed under on_defect "skip" (st OK) or the open's error: either way no rows */
        sscma_mfree(ds->ctx, s->rows);
        s->rows = NULL;
    }
    return st;
}

/* One CSV field starting at p (up to ',' or the end of line) as a finite number. */
static bool csv_number(const char *p, const char **end, double *v)
{
    char *e = NULL;
    while (*p == ' ' || *p == '\t')
        p++;
    errno = 0;
    *v = strtod(p, &e);
    if (e == p || errno == ERANGE || !isfinite(*v))
        return false;
    while (*e == ' ' || *e == '\t')
        e++;
    *end = e;
    return *e == ',' || *e == '\0' || *e == '\n' || *e == '\r';
}

static sscma_status csv_series(sscma_dataset *ds, const char *path, series *s)
{
    void *data = NULL;
    size_t size = 0;
    if (sscma_read_file(ds->ctx, path, &data, &size) != SSCMA_OK)
        return sscma_dataset_defect(ds, SSCMA_ERR_IO, path, "cannot open: %s", strerror(errno ? errno : ENOENT));
    char *text = sscma_malloc(ds->ctx, size + 1);
    if (text == NULL) {
        sscma_mfree(ds->ctx, data);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot copy the file");
    }
    memcpy(text, data, size);
    text[size] = '\0';
    sscma_mfree(ds->ctx, data);
    /* the header: a time column and one column per axis */
    int32_t cols = 1;
    const char *line = text;
    for (const char *p = line; *p != '\0' && *p != '\n'; p++)
        cols += *p == ',';
    sscma_status st = SSCMA_OK;
    bool bad = false; /* a defect, listed under on_defect "skip" (st stays OK) or the error */
    if (cols < 2 || cols - 1 > MAX_AXES)
        bad = true, st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "header: %d columns; expected a time column and 1..%d "
                                  "axes", (int)cols, MAX_AXES);
    int64_t rows_cap = 0, n = 0;
    double *times = NULL, t_prev = 0.0;
    const char *p = strchr(text, '\n');
    for (p = p != NULL ? p + 1 : text + size; !bad && *p != '\0'; p = *p != '\0' ? p + 1 : p) {
        if (*p == '\n' || (*p == '\r' && p[1] == '\n')) { /* a blank line */
            p += *p == '\r';
            continue;
        }
        if (n == rows_cap) {
            int64_t cap = rows_cap ? rows_cap * 2 : 256;
            float *r = sscma_mrealloc(ds->ctx, s->rows, (size_t)cap * (size_t)(cols - 1) * sizeof *r);
            double *t = r == NULL ? NULL : sscma_mrealloc(ds->ctx, times, (size_t)cap * sizeof *t);
            if (r != NULL)
                s->rows = r;
            if (t == NULL) {
                bad = true;
                st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot grow the rows");
                break;
            }
            times = t, rows_cap = cap;
        }
        int32_t c = 0;
        for (;; c++) {
            double v = 0.0;
            const char *e = NULL;
            const char *field_end = p + strcspn(p, ",\r\n");
            if (c >= cols) {
                bad = true, st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "row %lld: more than the header's %d columns",
                                          (long long)n + 1, (int)cols);
                break;
            }
            if (!csv_number(p, &e, &v)) {
                bad = true, st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "row %lld: column %d: '%.*s' is not a finite "
                                          "number", (long long)n + 1, (int)c + 1, (int)(field_end - p > 40 ? 40 :
                                          field_end - p), p);
                break;
            }
            if (c > 0 && !isfinite((float)v)) {
                bad = true, st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "row %lld: column %d: %g is outside "
                                                      "the float range", (long long)n + 1, (int)c + 1, v);
                break;
            }
            if (c == 0)
                times[n] = v;
            else
                s->rows[n * (cols - 1) + c - 1] = (float)v;
            p = e;
            if (*p != ',')
                break;
            p++;
        }
        if (bad)
            break;
        if (c + 1 != cols) {
            bad = true, st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "row %lld: %d columns, the header has %d",
                                      (long long)n + 1, (int)c + 1, (int)cols);
            break;
        }
        if (n > 0 && !(times[n] > t_prev)) {
            bad = true, st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "row %lld: time %g ms is not after the previous "
                                      "row's %g (the interval must be > 0)", (long long)n + 1, times[n], t_prev);
            break;
        }
        t_prev = times[n++];
        p += *p == '\r';
        if (*p == '\0')
            break;
    }
    if (!bad && n == 0)
        bad = true, st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "no rows after the header");
    if (!bad) {
        s->n = n, s->axes = cols - 1;
        s->interval_ms = n > 1 ? (times[n - 1] - times[0]) / (double)(n - 1) : 0.0; /* 0: one row, any rate */
    }
    sscma_mfree(ds->ctx, times);
    sscma_mfree(ds->ctx, text);
    if (bad) {
        sscma_mfree(ds->ctx, s->rows);
        s->rows = NULL;
        return st; /* a defect: listed under "skip" (st OK) or the error; no rows either way */
    }
    return SSCMA_OK;
}

/* Values one recording may have after resampling (2^27 floats, 512 MiB): a wild interval is a defect, not a
 * huge allocation. */
#define MAX_RESAMPLED_VALUES ((double)(1 << 27))

/*
 * The rows resampled from s->interval_ms to `interval` by linear interpolation (in place: s->rows replaced). A
 * recording that would grow past MAX_RESAMPLED_VALUES is a defect (*bad set, s->rows kept for the caller to free).
 */
static sscma_status resample(sscma_dataset *ds, series *s, double interval, const char *path, bool *bad)
{
    const sscma_context *ctx = ds->ctx;
    *bad = false;
    if (interval <= 0.0 || s->interval_ms == 0.0 || fabs(s->interval_ms - interval) <= 1e-9 * interval || s->n < 2)
        return SSCMA_OK;
    const double duration = (double)(s->n - 1) * s->interval_ms, rows = floor(duration / interval + 1e-9) + 1.0;
    if (!(rows * (double)s->axes <= MAX_RESAMPLED_VALUES)) {
        *bad = true;
        return sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "%lld rows every %g ms resampled to %g ms would be "
                                    "%.0f rows, more than %.0f values: check the interval", (long long)s->n,
                                    s->interval_ms, interval, rows, MAX_RESAMPLED_VALUES);
    }
    const int64_t m = (int64_t)rows;
    float *out = sscma_malloc(ctx, (size_t)m * (size_t)s->axes * sizeof *out);
    if (out == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot resample %lld rows", (long long)s->n);
    for (int64_t k = 0; k < m; k++) {
        double pos = (double)k * interval / s->interval_ms;
        int64_t i = (int64_t)floor(pos);
        if (i >= s->n - 1)
            i = s->n - 2;
        const double f = pos - (double)i;
        for (int32_t a = 0; a < s->axes; a++) {
            const double lo = s->rows[i * s->axes + a], hi = s->rows[(i + 1) * s->axes + a];
            out[k * s->axes + a] = (float)(lo + (hi - lo) * f);
        }
    }
    sscma_mfree(ctx, s->rows);
    s->rows = out, s->n = m, s->interval_ms = interval;
    return SSCMA_OK;
}

/* The windows of one dataset stay in memory: at most 1 GiB of them. */
#define MAX_WINDOW_BYTES ((double)(1 << 30))

/* Appends one window: rows [start, start + len) of s, placed at `front` in a zeroed window, stored axis-major. */
static sscma_status add_window(builder *b, const series *s, int64_t start, int64_t len, int64_t front, int32_t label)
{
    const int64_t W = b->cfg->window_size, A = b->axes;
    if (b->count == b->cap) {
        int64_t cap = b->cap ? b->cap * 2 : 64;
        if ((double)cap * (double)(A * W) * sizeof(float) > MAX_WINDOW_BYTES)
            return sscma_fail(SSCMA_ERR_UNSUPPORTED, TYPE, "more than %lld windows of %lld x %lld values would take "
                              "over 1 GiB: raise the stride or lower window_size", (long long)b->count,
                              (long long)A, (long long)W);
        float *w = sscma_mrealloc(b->ds->ctx, b->windows, (size_t)cap * (size_t)(A * W) * sizeof *w);
        if (w != NULL)
            b->windows = w;
        int32_t *l = w == NULL ? NULL : sscma_mrealloc(b->ds->ctx, b->labels, (size_t)cap * sizeof *l);
        if (l == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot grow the windows to %lld", (long long)cap);
        b->labels = l, b->cap = cap;
    }
    float *w = b->windows + b->count * A * W;
    memset(w, 0, (size_t)(A * W) * sizeof *w);
    for (int64_t t = 0; t < len; t++)
        for (int64_t a = 0; a < A; a++)
            w[a * W + front + t] = s->rows[(start + t) * A + a];
    b->labels[b->count++] = label;
    return SSCMA_OK;
}

/* SSCMA's read_split_data over one sample's rows. */
static sscma_status cut_windows(builder *b, const series *s, int32_t label)
{
    const int64_t L = s->n, W = b->cfg->window_size, stride = b->cfg->stride;
    if (L <= W)
        return add_window(b, s, 0, L, (W - L) / 2, label);
    const int64_t last = (L - 1) / stride * stride;
    sscma_status st = SSCMA_OK;
    for (int64_t i = 0; i < L && st == SSCMA_OK; i += stride) {
        const int64_t rest = L - i;
        /* SSCMA's tail: fewer than W - 1 rows left, the last start, or (its `end >= len` branch) exactly W - 1 */
        if (rest + 1 < W || i == last || i + W > L) {
            if (!(b->cfg->retention * (double)W < (double)(rest + 1)))
                continue;
            const int64_t len = rest < W ? rest : W;
            st = add_window(b, s, i, len, (W - len) / 2, label);
        } else {
            st = add_window(b, s, i, W, 0, label);
        }
    }
    return st;
}

/* Reads, checks, resamples, normalises and cuts the sample file `path` of class `label`. */
static sscma_status add_sample(builder *b, const char *path, int32_t label)
{
    series s = {0};
    bool bad = false;
    sscma_status st = is_csv(path) ? csv_series(b->ds, path, &s) : json_series(b->ds, path, &s);
    if (s.rows == NULL)
        return st; /* a defect: the error, or listed under "skip" and the sample left out */
    if (b->axes == 0)
        b->axes = s.axes;
    if (b->interval == 0.0 && b->cfg->frequency > 0.0)
        b->interval = 1000.0 / b->cfg->frequency;
    if (b->cfg->frequency <= 0.0 && s.interval_ms > 0.0) { /* rows as they are (SSCMA); say when rates differ */
        if (b->first_interval == 0.0)
            b->first_interval = s.interval_ms;
        else if (fabs(s.interval_ms - b->first_interval) > 1e-6 * b->first_interval && b->rate_warnings++ == 0)
            sscma_logf(b->ds->ctx, SSCMA_LOG_WARNING, "%s: sampled every %g ms, the first sample every %g ms: set "
                       "the dataset's frequency (Hz) to resample every sample to one rate", path, s.interval_ms,
                       b->first_interval);
    }
    if (s.axes != b->axes)
        st = sscma_dataset_defect(b->ds, SSCMA_ERR_FORMAT, path, "%d axes; the dataset's first sample has %d",
                                  (int)s.axes, (int)b->axes);
    else if ((b->cfg->n_mean > 1 && b->cfg->n_mean != s.axes) || (b->cfg->n_std > 1 && b->cfg->n_std != s.axes))
        st = sscma_fail(SSCMA_ERR_CONFIG, TYPE, "mean and std: expected 1 or %d values (one per axis), got %d and %d",
                        (int)s.axes, (int)b->cfg->n_mean, (int)b->cfg->n_std);
    else if ((st = resample(b->ds, &s, b->interval, path, &bad)) == SSCMA_OK && !bad && b->stats_only) {
        /* the raw values (upstream estimates before quantising), merged by Chan's pairwise update */
        const int64_t n = s.n * s.axes;
        double mean = 0.0, m2 = 0.0;
        for (int64_t i = 0; i < n; i++)
            mean += s.rows[i];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++)
            m2 += (s.rows[i] - mean) * (s.rows[i] - mean);
        const double total = (double)(b->stats_n + n), delta = mean - b->stats_mean;
        b->stats_m2 += m2 + delta * delta * (double)b->stats_n * (double)n / total;
        b->stats_mean += delta * (double)n / total;
        b->stats_n += n;
    } else if (st == SSCMA_OK && !bad) {
        if (b->features != NULL && !b->features->spectrum)
            for (int64_t i = 0; i < s.n * s.axes; i++)
                s.rows[i] = sscma_sensor_features_scale(b->features, s.rows[i]);
        else if (b->cfg->n_mean > 0 || b->cfg->n_std > 0)
            for (int64_t r = 0; r < s.n; r++)
                for (int32_t a = 0; a < s.axes; a++) {
                    double mean = b->cfg->n_mean == 0 ? 0.0 : b->cfg->mean[b->cfg->n_mean > 1 ? a : 0];
                    double sd = b->cfg->n_std == 0 ? 1.0 : b->cfg->std[b->cfg->n_std > 1 ? a : 0];
                    s.rows[r * s.axes + a] = (float)((s.rows[r * s.axes + a] - mean) / sd);
                }
        st = cut_windows(b, &s, label);
    }
    sscma_mfree(b->ds->ctx, s.rows);
    return st;
}

static int32_t find_name(const sscma_strlist *names, const char *name)
{
    for (int64_t i = 0; i < names->count; i++)
        if (strcmp(names->items[i], name) == 0)
            return (int32_t)i;
    return -1;
}

/* The info.labels: where it is, and which category its entries must have (NULL: all). */
static sscma_status locate_index(const sensor_cfg *c, char *path, size_t size, char *base, size_t base_size,
                                 const char **category)
{
    struct stat sb;
    *category = NULL;
    snprintf(path, size, "%s%s%s%s%s", c->data_root, c->data_root[0] ? "/" : "", c->data_prefix,
             c->data_prefix[0] ? "/" : "", c->ann_file);
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        snprintf(base, base_size, "%s", path);
        char *slash = strrchr(base, '/');
        if (slash != NULL)
            *slash = '\0';
        else
            snprintf(base, base_size, ".");
        return SSCMA_OK;
    }
    char root_path[1024];
    snprintf(root_path, sizeof root_path, "%s%s%s", c->data_root, c->data_root[0] ? "/" : "", c->ann_file);
    if (c->data_prefix[0] != '\0' && stat(root_path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        snprintf(path, size, "%s", root_path);
        snprintf(base, base_size, "%s", c->data_root[0] ? c->data_root : ".");
        *category = c->data_prefix;
        return SSCMA_OK;
    }
    return sscma_fail(SSCMA_ERR_IO, path, "cannot open: %s%s%s", strerror(ENOENT),
                      c->data_prefix[0] ? " (nor " : "", c->data_prefix[0] ? root_path : "");
}

/*
 * The features' global mean and std when the config gives none: over the raw values of the stats_prefix split of the
 * same index (every axis pooled; population std, as upstream's estimator), or of `single` (one recording).
 */
static sscma_status feature_stats(sscma_dataset *ds, const sensor_cfg *c, const char *single, sensor_features_cfg *f)
{
    sensor_cfg t = *c;
    t.data_prefix = f->stats_prefix;
    builder b = {.ds = ds, .cfg = &t, .stats_only = true};
    char path[1100], base[1100];
    const char *category = NULL;
    sscma_status st = SSCMA_OK;
    if (single != NULL)
        st = add_sample(&b, single, -1);
    else if ((st = locate_index(&t, path, sizeof path, base, sizeof base, &category)) != SSCMA_OK)
        return sscma_fail(SSCMA_ERR_CONFIG, TYPE, "features: no mean and std given, and the %s split to compute them "
                          "over cannot be read (%s): set features.mean and features.std, or features.stats_prefix",
                          f->stats_prefix, sscma_last_error());
    else {
        json_error_t err;
        json_t *index = json_load_file(path, 0, &err);
        json_t *files = json_object_get(index, "files");
        if (index == NULL)
            st = sscma_fail(SSCMA_ERR_FORMAT, path, "line %d, column %d: %s", err.line, err.column, err.text);
        for (size_t i = 0; st == SSCMA_OK && i < json_array_size(files); i++) {
            json_t *entry = json_array_get(files, i);
            const char *file = json_string_value(json_object_get(entry, "path"));
            const char *cat = json_string_value(json_object_get(entry, "category"));
            if (file == NULL || (category != NULL && (cat == NULL || strcmp(cat, category) != 0)))
                continue; /* the split's own open reports a missing path */
            char sample[2300];
            snprintf(sample, sizeof sample, "%s/%s", base, file);
            st = add_sample(&b, sample, -1);
        }
        json_decref(index);
    }
    if (st == SSCMA_OK && b.stats_n == 0)
        st = sscma_fail(SSCMA_ERR_CONFIG, TYPE, "features: no value in the %s split to compute the mean and std over: "
                        "set features.mean and features.std", single != NULL ? "recording's" : f->stats_prefix);
    if (st == SSCMA_OK && !(b.stats_m2 > 0.0))
        st = sscma_fail(SSCMA_ERR_CONFIG, TYPE, "features: every value of the %s split is %g (std 0): set "
                        "features.mean and features.std", single != NULL ? "recording" : f->stats_prefix, b.stats_mean);
    if (st != SSCMA_OK)
        return st;
    f->mean = b.stats_mean, f->std = sqrt(b.stats_m2 / (double)b.stats_n);
    sscma_logf(ds->ctx, single != NULL ? SSCMA_LOG_WARNING : SSCMA_LOG_INFO, "%s features: mean %.9g, std %.9g over "
               "%lld values of the %s%s", TYPE, f->mean, f->std, (long long)b.stats_n, single != NULL ? "recording "
               "itself" : f->stats_prefix, single != NULL ? " (set features.mean and std to the training split's)"
               : " split");
    return SSCMA_OK;
}

/* Replaces the builder's windows (axes x window_size) by their features (sscma_sensor_features_shape's). */
static sscma_status build_features(builder *b, const sensor_features_cfg *f)
{
    const int64_t W = b->cfg->window_size, A = b->axes;
    int64_t channels = 0, per = 0;
    sscma_sensor_features_shape(f, W, A, &channels, &per);
    const int64_t out = channels * per;
    if ((double)b->count * (double)out * sizeof(float) > MAX_WINDOW_BYTES)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, TYPE, "%lld feature images of %lld values would take over 1 GiB: "
                          "raise the stride", (long long)b->count, (long long)out);
    sensor_features_plan *plan = NULL;
    sscma_status st = sscma_sensor_features_plan(b->ds->ctx, f, W, &plan);
    float *images = st == SSCMA_OK ? sscma_malloc(b->ds->ctx, (size_t)(b->count * out) * sizeof *images) : NULL;
    if (st == SSCMA_OK && images == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, TYPE, "cannot allocate %lld feature images", (long long)b->count);
    for (int64_t i = 0; st == SSCMA_OK && i < b->count; i++)
        st = sscma_sensor_features_window(b->ds->ctx, plan, b->windows + i * A * W, (int32_t)A, images + i * out);
    sscma_sensor_features_plan_free(b->ds->ctx, plan);
    if (st != SSCMA_OK) {
        sscma_mfree(b->ds->ctx, images);
        return st;
    }
    sscma_mfree(b->ds->ctx, b->windows);
    b->windows = images;
    return SSCMA_OK;
}

sscma_status sscma_sensor_open(sscma_dataset *ds, json_t *config)
{
    sensor_cfg c;
    sscma_status st = sscma_schema_read(sensor_fields, config, TYPE, NULL, &c);
    if (st != SSCMA_OK)
        return st;
    if (c.multi_label)
        return sscma_schema_fail(TYPE, NULL, "multi_label", "is not supported (as in SSCMA)");
    if (c.ann_file[0] == '\0')
        return sscma_schema_fail(TYPE, NULL, "ann_file", "is empty; expected Edge Impulse's info.labels");
    sensor_features_cfg features;
    const bool featured = c.features != NULL && !json_is_null(c.features);
    if (featured && (st = sscma_sensor_features_read(c.features, TYPE, &features)) != SSCMA_OK)
        return st;
    const bool images = featured && !features.spectrum; /* CwtMtf */
    if (images) {
        if (json_is_true(json_object_get(config, "flatten")))
            return sscma_schema_fail(TYPE, NULL, "flatten", "is true, but features give size x size x channels "
                                     "images: leave flatten out (or false)");
        if (c.n_mean > 0 || c.n_std > 0)
            return sscma_schema_fail(TYPE, NULL, c.n_mean > 0 ? "mean" : "std", "is not used with features: "
                                     "they standardise with features.mean and features.std");
        if (c.window_size < features.size)
            return sscma_schema_fail(TYPE, NULL, "window_size", "is %lld, shorter than features.size %lld (the "
                                     "PAA's segments)", (long long)c.window_size, (long long)features.size);
    }
    char path[1100], base[1100];
    const char *category = NULL;
    if ((st = locate_index(&c, path, sizeof path, base, sizeof base, &category)) != SSCMA_OK)
        return st;
    json_error_t err;
    json_t *index = is_csv(path) ? json_pack("{}") : json_load_file(path, 0, &err);
    if (index == NULL)
        return sscma_fail(SSCMA_ERR_FORMAT, path, "line %d, column %d: %s", err.line, err.column, err.text);
    sscma_strlist names = {.ctx = ds->ctx};
    builder b = {.ds = ds, .cfg = &c, .features = featured ? &features : NULL};
    json_t *files = json_object_get(index, "files");
    /* ann_file naming one sample (a CSV, or a data acquisition JSON): its windows, without a class (sscma infer) */
    const bool single = is_csv(path) || (files == NULL && json_object_get(index, "payload") != NULL);
    if (images && isnan(features.mean)) /* the recording alone, or the training split of the same index */
        st = feature_stats(ds, &c, single ? path : NULL, &features);
    if (st != SSCMA_OK) {
        /* the statistics' error */
    } else if (single) {
        if (c.classes != NULL && !json_is_null(c.classes))
            st = sscma_class_list(c.classes, &names);
        if (st == SSCMA_OK)
            st = add_sample(&b, path, -1);
    } else if (!json_is_array(files))
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "files: expected the list of samples (Edge Impulse's info.labels)");
    else if (c.classes != NULL && !json_is_null(c.classes))
        st = sscma_class_list(c.classes, &names);
    const bool fixed_classes = names.count > 0 || single;
    /* the classes in first appearance over every entry; then the entries of this split */
    for (size_t i = 0; st == SSCMA_OK && !fixed_classes && i < json_array_size(files); i++) {
        const char *label = json_string_value(json_object_get(json_object_get(json_array_get(files, i), "label"),
                                                              "label"));
        if (label != NULL && find_name(&names, label) < 0 && !sscma_strlist_push(&names, label))
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, path, "cannot copy the class names");
    }
    for (size_t i = 0; st == SSCMA_OK && !single && i < json_array_size(files); i++) {
        json_t *entry = json_array_get(files, i);
        const char *file = json_string_value(json_object_get(entry, "path"));
        const char *cat = json_string_value(json_object_get(entry, "category"));
        const char *label = json_string_value(json_object_get(json_object_get(entry, "label"), "label"));
        if (category != NULL && (cat == NULL || strcmp(cat, category) != 0))
            continue;
        int32_t k = label != NULL ? find_name(&names, label) : -1;
        if (file == NULL)
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "files[%zu]: expected a \"path\"", i);
        else if (label == NULL)
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "files[%zu] (%s): no label (expected "
                                      "\"label\": {\"label\": name})", i, file);
        else if (k < 0)
            st = sscma_dataset_defect(ds, SSCMA_ERR_FORMAT, path, "files[%zu] (%s): unknown label '%s' (not in "
                                      "classes)", i, file, label);
        else {
            char sample[2300];
            snprintf(sample, sizeof sample, "%s/%s", base, file);
            st = add_sample(&b, sample, k);
        }
    }
    json_decref(index);
    if (st == SSCMA_OK && b.count == 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, path, "no window: %s", category != NULL ? "no entry of this category, or "
                        "every sample was left out" : "no sample, or every sample was left out");
    if (st == SSCMA_OK && featured)
        st = build_features(&b, &features);
    if (st != SSCMA_OK) {
        sscma_strlist_free(&names);
        sscma_mfree(ds->ctx, b.windows);
        sscma_mfree(ds->ctx, b.labels);
        return st;
    }
    ds->kind = DATASET_WINDOWS;
    ds->size = b.count;
    ds->windows = b.windows;
    ds->labels = b.labels;
    int64_t channels = b.axes, len = c.window_size;
    if (featured)
        sscma_sensor_features_shape(&features, c.window_size, b.axes, &channels, &len);
    ds->window_len = len;
    ds->window_channels = channels;
    ds->window_flat = images ? false : c.flatten;
    ds->window_h = images ? features.size : 0;
    ds->window_features = featured;
    ds->window_interval_ms = b.interval > 0.0 ? b.interval : b.first_interval;
    ds->n_classes = (int32_t)names.count;
    ds->class_names = names.items; /* the list's block becomes the dataset's */
    return SSCMA_OK;
}

sscma_status sscma_dataset_window(const sscma_dataset *ds, int64_t index, float *out, int32_t *label)
{
    if (ds->kind != DATASET_WINDOWS)
        return sscma_fail(SSCMA_ERR_UNSUPPORTED, ds->type, "samples are images, not windows");
    if (ds->audio != NULL) /* decoded here */
        return sscma_audio_window(ds, index, false, 0, out, label);
    if (index < 0 || index >= ds->size)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, ds->type, "sample %lld is outside 0..%lld", (long long)index,
                          (long long)ds->size - 1);
    if (ds->subset != NULL)
        index = ds->subset[index];
    const int64_t W = ds->window_len, A = ds->window_channels;
    const float *w = ds->windows + index * W * A;
    if (ds->window_flat)
        memcpy(out, w, (size_t)(W * A) * sizeof *out);
    else
        for (int64_t t = 0; t < W; t++)
            for (int64_t a = 0; a < A; a++)
                out[t * A + a] = w[a * W + t];
    *label = ds->labels[index];
    return SSCMA_OK;
}
