/*
 * LODA (SSCMA's sscma.LODA): sparse random projections, one equal-width histogram per projection fitted by one
 * counting pass over every training window, the score the mean negative log density (anomaly.h has the contract).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/anomaly.h"
#include "core/schema.h"
#include "io/checkpoint.h"

#define WHERE "LODA"

static const sscma_field loda_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_RANGE(loda_cfg, num_bins, 10, 1, 4096),
    SSCMA_FIELD_RANGE(loda_cfg, num_cuts, 100, 1, 65536),
    SSCMA_FIELD_AS("yield_rate", loda_cfg, yield_rate, 0.9, true, 0.0, 1.0, 0),
    SSCMA_FIELD_KEY("data_preprocessor"), /* SSCMA's configs may carry one; LODA reads the windows as they come */
    SSCMA_FIELD_END,
};

sscma_status loda_cfg_read(json_t *model, const char *where, loda_cfg *out)
{
    const char *w = where != NULL ? where : WHERE;
    const char *type = json_string_value(json_object_get(model, "type"));
    if (type == NULL || (strcmp(type, "LODA") != 0 && strcmp(type, "sscma.LODA") != 0))
        return sscma_schema_expected(w, "model", "type", "\"LODA\"", json_object_get(model, "type"));
    return sscma_schema_read(loda_fields, model, w, "model", out);
}

/* ---- projections: splitmix64, Box-Muller ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* uniform in (0, 1): the top 53 bits, offset by half a step */
static double uniform01(uint64_t *state)
{
    return ((double)(splitmix64(state) >> 11) + 0.5) * 0x1.0p-53;
}

static double normal01(uint64_t *state)
{
    const double u1 = uniform01(state), u2 = uniform01(state);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static loda *loda_alloc(const sscma_context *ctx, const loda_cfg *cfg, int64_t dim)
{
    if (dim < 1 || dim > (1 << 24))
        return NULL;
    loda *m = sscma_calloc(ctx, 1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->ctx = ctx;
    m->num_bins = cfg->num_bins, m->num_cuts = cfg->num_cuts, m->dim = dim, m->yield_rate = cfg->yield_rate;
    m->projections = sscma_calloc(ctx, (size_t)(cfg->num_cuts * dim), sizeof(float));
    m->limits = sscma_calloc(ctx, (size_t)(cfg->num_cuts * (cfg->num_bins + 1)), sizeof(float));
    m->histograms = sscma_calloc(ctx, (size_t)(cfg->num_cuts * cfg->num_bins), sizeof(float));
    if (m->projections == NULL || m->limits == NULL || m->histograms == NULL) {
        loda_destroy(m);
        return NULL;
    }
    return m;
}

sscma_status loda_create_with(const sscma_context *ctx, const loda_cfg *cfg, int64_t dim, const float *projections,
                              loda **out)
{
    if (dim < 1 || dim > (1 << 24))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "%lld features per window; expected 1 to %d",
                          (long long)dim, 1 << 24);
    loda *m = loda_alloc(ctx, cfg, dim);
    if (m == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate %lld projections of %lld features",
                          (long long)cfg->num_cuts, (long long)dim);
    if (projections != NULL)
        memcpy(m->projections, projections, (size_t)(cfg->num_cuts * dim) * sizeof(float));
    *out = m;
    return SSCMA_OK;
}

sscma_status loda_create(const sscma_context *ctx, const loda_cfg *cfg, int64_t dim, uint64_t seed, loda **out)
{
    loda *m = NULL;
    sscma_status st = loda_create_with(ctx, cfg, dim, NULL, &m);
    if (st != SSCMA_OK)
        return st;
    int64_t *order = sscma_calloc(ctx, (size_t)dim, sizeof *order);
    if (order == NULL) {
        loda_destroy(m);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the projections");
    }
    const int64_t k = (int64_t)sqrt((double)dim); /* SSCMA: int(sqrt(d)) non-zero entries per projection */
    uint64_t state = seed;
    for (int64_t i = 0; i < m->num_cuts; i++) {
        for (int64_t j = 0; j < dim; j++)
            order[j] = j;
        for (int64_t j = 0; j < k; j++) { /* partial Fisher-Yates: order[0..k) is a uniform k-subset */
            int64_t r = j + (int64_t)(splitmix64(&state) % (uint64_t)(dim - j));
            int64_t t = order[j];
            order[j] = order[r], order[r] = t;
        }
        qsort(order, (size_t)k, sizeof *order, cmp_i64);
        for (int64_t j = 0; j < k; j++)
            m->projections[i * dim + order[j]] = (float)normal01(&state);
    }
    sscma_mfree(ctx, order);
    *out = m;
    return SSCMA_OK;
}

void loda_destroy(loda *m)
{
    if (m == NULL)
        return;
    sscma_mfree(m->ctx, m->projections);
    sscma_mfree(m->ctx, m->limits);
    sscma_mfree(m->ctx, m->histograms);
    sscma_mfree(m->ctx, m);
}

/* ---- fit and score ---- */

/* p_i . x, summed in double and rounded to f32 (the value the histogram bins) */
static float project(const loda *m, int64_t i, const float *x)
{
    const float *p = m->projections + i * m->dim;
    double v = 0.0;
    for (int64_t k = 0; k < m->dim; k++)
        v += (double)p[k] * (double)x[k];
    return (float)v;
}

/* The histogram's bin of v: clamp(floor((v - e0) / width), 0, bins - 1), width = (e_last - e0) / bins. */
static int64_t bin_of(const loda *m, int64_t i, float v)
{
    const float *e = m->limits + i * (m->num_bins + 1);
    const double width = ((double)e[m->num_bins] - (double)e[0]) / (double)m->num_bins;
    const double t = floor(((double)v - (double)e[0]) / width);
    if (!(t >= 0.0)) /* also NaN */
        return 0;
    return t >= (double)(m->num_bins - 1) ? m->num_bins - 1 : (int64_t)t;
}

double loda_score(const loda *m, const float *x)
{
    for (int64_t k = 0; k < m->dim; k++)
        if (!isfinite(x[k]))
            return NAN;
    double sum = 0.0;
    for (int64_t i = 0; i < m->num_cuts; i++) {
        int64_t b = bin_of(m, i, project(m, i, x));
        sum += -log((double)m->histograms[i * m->num_bins + b]);
    }
    return sum / (double)m->num_cuts;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double anomaly_quantile_linear(double *values, int64_t n, double q)
{
    qsort(values, (size_t)n, sizeof *values, cmp_double);
    const double h = (double)(n - 1) * q;
    const int64_t lo = (int64_t)floor(h);
    if (lo >= n - 1)
        return values[n - 1];
    return values[lo] + (h - (double)lo) * (values[lo + 1] - values[lo]);
}

sscma_status loda_fit(loda *m, const float *x, int64_t n)
{
    if (n < 1)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, WHERE, "no training windows to fit the histograms on");
    for (int64_t s = 0; s < n; s++)
        for (int64_t k = 0; k < m->dim; k++)
            if (!isfinite(x[s * m->dim + k]))
                return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "training window %lld: feature %lld is %g, not a finite "
                                  "number", (long long)s, (long long)k, (double)x[s * m->dim + k]);
    float *v = sscma_calloc(m->ctx, (size_t)n, sizeof *v);
    int64_t *counts = sscma_calloc(m->ctx, (size_t)m->num_bins, sizeof *counts);
    double *scores = sscma_calloc(m->ctx, (size_t)n, sizeof *scores);
    if (v == NULL || counts == NULL || scores == NULL) {
        sscma_mfree(m->ctx, v), sscma_mfree(m->ctx, counts), sscma_mfree(m->ctx, scores);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot allocate the histograms of %lld windows",
                          (long long)n);
    }
    const int64_t bins = m->num_bins;
    for (int64_t i = 0; i < m->num_cuts; i++) {
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t s = 0; s < n; s++) {
            v[s] = project(m, i, x + s * m->dim);
            lo = v[s] < lo ? v[s] : lo;
            hi = v[s] > hi ? v[s] : hi;
        }
        double first = lo, last = hi;
        if (first == last) /* numpy's histogram widens an empty range by 0.5 each side */
            first -= 0.5, last += 0.5;
        float *e = m->limits + i * (bins + 1);
        for (int64_t j = 0; j <= bins; j++)
            e[j] = (float)(first + (last - first) * (double)j / (double)bins);
        e[0] = (float)first, e[bins] = (float)last;
        memset(counts, 0, (size_t)bins * sizeof *counts);
        for (int64_t s = 0; s < n; s++)
            counts[bin_of(m, i, v[s])]++;
        const double total = (double)n + (double)bins * 1e-12;
        for (int64_t j = 0; j < bins; j++)
            m->histograms[i * bins + j] = (float)(((double)counts[j] + 1e-12) / total);
    }
    for (int64_t s = 0; s < n; s++)
        scores[s] = loda_score(m, x + s * m->dim);
    /* SSCMA: quantile(1.06 * scores, yield_rate), the same as 1.06 times the quantile */
    m->threshold = (float)(1.06 * anomaly_quantile_linear(scores, n, m->yield_rate));
    sscma_mfree(m->ctx, v), sscma_mfree(m->ctx, counts), sscma_mfree(m->ctx, scores);
    return SSCMA_OK;
}

/* ---- checkpoint ---- */

sscma_status loda_save(const loda *m, const char *path, json_t *config)
{
    const int64_t pd[2] = {m->num_cuts, m->dim}, ld[2] = {m->num_cuts, m->num_bins + 1},
                  hd[2] = {m->num_cuts, m->num_bins}, td[1] = {1};
    sscma_ckpt_entry e[4] = {
        {.name = "model/projections_", .dtype = SSCMA_DTYPE_F32, .rank = 2, .dims = {pd[0], pd[1]},
         .data = m->projections},
        {.name = "model/limits", .dtype = SSCMA_DTYPE_F32, .rank = 2, .dims = {ld[0], ld[1]}, .data = m->limits},
        {.name = "model/histograms", .dtype = SSCMA_DTYPE_F32, .rank = 2, .dims = {hd[0], hd[1]},
         .data = m->histograms},
        {.name = "model/threshold_", .dtype = SSCMA_DTYPE_F32, .rank = 1, .dims = {td[0]}, .data = &m->threshold},
    };
    json_t *state = json_pack("{s:s, s:I, s:I, s:I, s:f}", "family", "LODA", "num_bins", (json_int_t)m->num_bins,
                              "num_cuts", (json_int_t)m->num_cuts, "dim", (json_int_t)m->dim, "yield_rate",
                              m->yield_rate);
    if (state == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot build the checkpoint state");
    sscma_status st = sscma_ckpt_write(m->ctx, path, config, state, e, 4, false);
    json_decref(state);
    return st;
}

/* state[key] as an integer lo..hi, else a failure naming the file */
static sscma_status state_int(json_t *state, const char *path, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(state, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "%s: state.%s: expected an integer %lld..%lld", path, key,
                          (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return SSCMA_OK;
}

/* The loaded arrays describe a detector: edges finite and increasing from first to last, densities in (0, 1]. */
static sscma_status check_loaded(const loda *m, const char *path)
{
    for (int64_t i = 0; i < m->num_cuts; i++) {
        const float *e = m->limits + i * (m->num_bins + 1);
        if (!isfinite(e[0]) || !isfinite(e[m->num_bins]) || !(e[m->num_bins] > e[0]))
            return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "%s: model/limits: row %lld: the edges are not finite and "
                              "increasing", path, (long long)i);
        for (int64_t j = 0; j < m->num_bins; j++) {
            float h = m->histograms[i * m->num_bins + j];
            if (!(h > 0.0f && h <= 1.0f))
                return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "%s: model/histograms[%lld][%lld] = %g: expected a "
                                  "density in (0, 1]", path, (long long)i, (long long)j, (double)h);
        }
    }
    for (int64_t k = 0; k < m->num_cuts * m->dim; k++)
        if (!isfinite(m->projections[k]))
            return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "%s: model/projections_: a value is not finite", path);
    if (!isfinite(m->threshold))
        return sscma_fail(SSCMA_ERR_FORMAT, WHERE, "%s: model/threshold_ is not finite", path);
    return SSCMA_OK;
}

sscma_status loda_load(const sscma_context *ctx, const char *path, loda **out)
{
    sscma_ckpt ck;
    sscma_status st = sscma_ckpt_read(ctx, path, &ck);
    if (st != SSCMA_OK)
        return st;
    json_t *state = json_object_get(ck.header, "state");
    const char *family = json_string_value(json_object_get(state, "family"));
    loda_cfg cfg = {0};
    int64_t dim = 0;
    loda *m = NULL;
    json_t *yr = json_object_get(state, "yield_rate");
    if (family == NULL || strcmp(family, "LODA") != 0)
        st = sscma_fail(SSCMA_ERR_FORMAT, WHERE, "%s: a checkpoint of %s, not of a LODA detector", path,
                        family != NULL ? family : "an unnamed family");
    else if ((st = state_int(state, path, "num_bins", 1, 4096, &cfg.num_bins)) == SSCMA_OK &&
             (st = state_int(state, path, "num_cuts", 1, 65536, &cfg.num_cuts)) == SSCMA_OK &&
             (st = state_int(state, path, "dim", 1, 1 << 24, &dim)) == SSCMA_OK) {
        cfg.yield_rate = json_is_number(yr) ? json_number_value(yr) : 0.9;
        /* each bound alone still allows 2^40 projection values: bound what is allocated before any tensor is read */
        if (cfg.num_cuts * dim > ((int64_t)1 << 26) || cfg.num_cuts * (cfg.num_bins + 1) > ((int64_t)1 << 26))
            st = sscma_fail(SSCMA_ERR_FORMAT, WHERE, "%s: num_cuts %lld x dim %lld (or x num_bins %lld) declares more "
                            "than 2^26 values", path, (long long)cfg.num_cuts, (long long)dim,
                            (long long)cfg.num_bins);
        else
            st = loda_create_with(ctx, &cfg, dim, NULL, &m);
    }
    if (st == SSCMA_OK) {
        const int64_t pd[2] = {cfg.num_cuts, dim}, ld[2] = {cfg.num_cuts, cfg.num_bins + 1},
                      hd[2] = {cfg.num_cuts, cfg.num_bins}, td[1] = {1};
        const size_t f = sizeof(float);
        if ((st = sscma_ckpt_get(&ck, "model/projections_", SSCMA_DTYPE_F32, 2, pd, m->projections,
                                 (size_t)(pd[0] * pd[1]) * f)) == SSCMA_OK &&
            (st = sscma_ckpt_get(&ck, "model/limits", SSCMA_DTYPE_F32, 2, ld, m->limits,
                                 (size_t)(ld[0] * ld[1]) * f)) == SSCMA_OK &&
            (st = sscma_ckpt_get(&ck, "model/histograms", SSCMA_DTYPE_F32, 2, hd, m->histograms,
                                 (size_t)(hd[0] * hd[1]) * f)) == SSCMA_OK &&
            (st = sscma_ckpt_get(&ck, "model/threshold_", SSCMA_DTYPE_F32, 1, td, &m->threshold, f)) == SSCMA_OK)
            st = check_loaded(m, path);
    }
    sscma_ckpt_close(&ck);
    if (st != SSCMA_OK) {
        loda_destroy(m);
        return st;
    }
    *out = m;
    return SSCMA_OK;
}

/* ---- the deployable form ---- */

/* A growing text from ctx; `failed` sticks. */
typedef struct text_buf {
    const sscma_context *ctx;
    char *data;
    size_t len, cap;
    bool failed;
} text_buf;

static void tb_printf(text_buf *b, const char *fmt, ...) SSCMA_PRINTF(2, 3);
static void tb_printf(text_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data != NULL ? b->data + b->len : NULL, b->data != NULL ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->data != NULL && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap > 0 ? b->cap * 2 : 4096) + (size_t)n;
        char *grown = sscma_mrealloc(b->ctx, b->data, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->data = grown, b->cap = cap;
    }
}

static sscma_status tb_finish(text_buf *b, char **out)
{
    if (b->failed || b->data == NULL) {
        sscma_mfree(b->ctx, b->data);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, WHERE, "cannot write the exported detector");
    }
    *out = b->data;
    return SSCMA_OK;
}

/* The per-projection arrays the scorer reads: lo = e0, width, -log(density) per bin. */
static void export_arrays(const loda *m, text_buf *b, bool c, const char *name)
{
    const int64_t bins = m->num_bins;
    const char *open = c ? "{" : "[", *close = c ? "}" : "]";
    for (int part = 0; part < 4; part++) {
        static const char *const names[4] = {"projections", "lo", "width", "neg_log_density"};
        if (c)
            tb_printf(b, "const float %s_%s[] = ", name, names[part]);
        else
            tb_printf(b, ",\n  \"%s\": ", names[part]);
        tb_printf(b, "%s", open);
        int64_t count = part == 0 ? m->num_cuts * m->dim : part == 3 ? m->num_cuts * bins : m->num_cuts;
        for (int64_t k = 0; k < count; k++) {
            double v;
            const float *e = m->limits + (k % m->num_cuts) * (bins + 1);
            if (part == 0)
                v = m->projections[k];
            else if (part == 1)
                v = e[0];
            else if (part == 2)
                v = (float)(((double)e[bins] - (double)e[0]) / (double)bins);
            else
                v = (float)-log((double)m->histograms[k]);
            char num[40];
            snprintf(num, sizeof num, "%.9g", v);
            if (c && strpbrk(num, ".eEn") == NULL) /* "1" -> "1.0f": a C float literal needs the point */
                snprintf(num + strlen(num), sizeof num - strlen(num), ".0");
            tb_printf(b, "%s%s%s%s", k ? "," : "", k % 8 == 0 ? "\n    " : " ", num, c ? "f" : "");
        }
        tb_printf(b, "\n  %s%s", close, c ? ";\n" : "");
    }
}

sscma_status loda_export_json(const loda *m, char **out)
{
    text_buf b = {.ctx = m->ctx};
    tb_printf(&b, "{\n  \"family\": \"LODA\", \"num_bins\": %lld, \"num_cuts\": %lld, \"dim\": %lld, "
              "\"threshold\": %.9g", (long long)m->num_bins, (long long)m->num_cuts, (long long)m->dim,
              (double)m->threshold);
    export_arrays(m, &b, false, NULL);
    tb_printf(&b, "\n}\n");
    return tb_finish(&b, out);
}

sscma_status loda_export_c(const loda *m, const char *name, char **out)
{
    text_buf b = {.ctx = m->ctx};
    tb_printf(&b, "/* LODA detector exported by libsscma: score with examples/anomaly_loda/loda_score.c */\n"
              "const int %s_num_bins = %lld, %s_num_cuts = %lld, %s_dim = %lld;\nconst float %s_threshold = %.9gf;\n",
              name, (long long)m->num_bins, name, (long long)m->num_cuts, name, (long long)m->dim, name,
              (double)m->threshold);
    export_arrays(m, &b, true, name);
    return tb_finish(&b, out);
}
