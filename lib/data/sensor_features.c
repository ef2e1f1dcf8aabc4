/*
 * SSCMA's accelerometer feature builder (ModelAssistant main, tools/dataset_tool/signal_data_processing.py), read
 * for its semantics and written here from the formulas of the libraries it calls:
 *
 *   x (per axis): pywt.cwt(series, scales, "morl", method="conv"), then cv2.resize(.., (size, size), INTER_LINEAR)
 *   c (per axis): lfilter(firwin(fir_taps, cutoff / (sample_rate / 2)), 1, series), PAA to size segments, Markov
 *                 Transition Field with mtf_bins bins
 *
 * pywt's CWT with method "conv": the Morlet wavelet psi(x) = exp(-x^2 / 2) cos(5x) sampled on linspace(-8, 8,
 * 2^precision), integrated by a cumulative sum times the step (then rounded to float32, the dtype of upstream's
 * float32 series); for scale s it takes int_psi[j], j = floor(k / (s * step)) for k = 0..16 s (those below
 * 2^precision), reversed; convolves (full); differentiates; multiplies by -sqrt(s) and keeps the centred len values.
 * Sums run in double here (pywt sums float32 products in float32).
 *
 * "Spectrum" (libsscma's): numpy.fft.rfft's magnitudes, computed in double by the radix-2 FFT of fft.c when the
 * window's length is a power of two, else by a direct DFT over a table of cos / sin(2 pi j / n) (62 steps: 62 x 32
 * products per axis, nothing to gain from a mixed-radix FFT).
 */
#include "data/sensor_features.h"

#include <math.h>
#include <string.h>

#include "core/schema.h"
#include "data/fft.h"

#define PI 3.14159265358979323846
#define MAX_SCALES 256

static const sscma_field feature_fields[] = {
    SSCMA_FIELD_STRING(sensor_features_cfg, type, NULL),
    SSCMA_FIELD_LIST_AS("scales", sensor_features_cfg, scales, offsetof(sensor_features_cfg, n_scales), 2, 1, 1, 4096,
                        0),
    SSCMA_FIELD_RANGE(sensor_features_cfg, size, 32, 2, 1024),
    SSCMA_FIELD_RANGE(sensor_features_cfg, mtf_bins, 64, 2, 1024),
    SSCMA_FIELD_RANGE(sensor_features_cfg, fir_taps, 200, 1, 4096),
    SSCMA_FIELD_RANGE(sensor_features_cfg, cwt_precision, 12, 4, 20),
    SSCMA_FIELD_RANGE(sensor_features_cfg, cutoff, 90.0, 0.0, INFINITY),
    SSCMA_FIELD_RANGE(sensor_features_cfg, sample_rate, 115200.0, 0.0, INFINITY),
    SSCMA_FIELD_RANGE(sensor_features_cfg, quantize, 5.12, 0.0, 1e9),
    SSCMA_FIELD_RANGE(sensor_features_cfg, mean, NAN, -INFINITY, INFINITY),
    SSCMA_FIELD_RANGE(sensor_features_cfg, std, NAN, 1e-12, INFINITY),
    SSCMA_FIELD_STRING(sensor_features_cfg, stats_prefix, "training"),
    SSCMA_FIELD(sensor_features_cfg, log, true),
    SSCMA_FIELD(sensor_features_cfg, demean, true),
    SSCMA_FIELD(sensor_features_cfg, hann, true),
    SSCMA_FIELD(sensor_features_cfg, moments, true),
    SSCMA_FIELD_END,
};

/* The keys only one type reads: given to the other, an error rather than a silent no-op. */
static const char *const cwt_only_keys[] = {"scales", "size", "mtf_bins", "fir_taps", "cwt_precision", "cutoff",
                                            "sample_rate", "quantize", "mean", "std", "stats_prefix"};
static const char *const spectrum_only_keys[] = {"log", "demean", "hann", "moments"};

static sscma_status foreign_keys(json_t *node, const char *where, const char *type, const char *const *keys,
                                 size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (json_object_get(node, keys[i]) != NULL)
            return sscma_schema_fail(where, "features", keys[i], "is not read by type \"%s\" (a key of the other "
                                     "type, \"%s\")", type, strcmp(type, "Spectrum") == 0 ? "CwtMtf" : "Spectrum");
    return SSCMA_OK;
}

sscma_status sscma_sensor_features_read(json_t *node, const char *where, sensor_features_cfg *out)
{
    if (!json_is_object(node))
        return sscma_schema_expected(where, NULL, "features", "an object such as {\"type\": \"CwtMtf\"}", node);
    sensor_features_cfg c;
    sscma_status st = sscma_schema_read(feature_fields, node, where, "features", &c);
    if (st != SSCMA_OK)
        return st;
    if (c.type == NULL || (strcmp(c.type, "CwtMtf") != 0 && strcmp(c.type, "Spectrum") != 0))
        return sscma_schema_expected(where, "features", "type", "\"CwtMtf\" (SSCMA's CWT + MTF accelerometer images) "
                                     "or \"Spectrum\" (per-axis DFT magnitudes)", json_object_get(node, "type"));
    c.spectrum = strcmp(c.type, "Spectrum") == 0;
    if (c.spectrum) {
        if ((st = foreign_keys(node, where, "Spectrum", cwt_only_keys, sizeof cwt_only_keys / sizeof *cwt_only_keys))
            != SSCMA_OK)
            return st;
        *out = c;
        return SSCMA_OK;
    }
    if ((st = foreign_keys(node, where, "CwtMtf", spectrum_only_keys,
                           sizeof spectrum_only_keys / sizeof *spectrum_only_keys)) != SSCMA_OK)
        return st;
    if (c.n_scales == 0)
        c.scales[0] = 10, c.scales[1] = 25; /* upstream: np.arange(10, 10 + 16) */
    else if (c.n_scales != 2 || c.scales[1] < c.scales[0] || c.scales[1] - c.scales[0] >= MAX_SCALES)
        return sscma_schema_expected(where, "features", "scales", "[first, last] with first <= last (at most 256 "
                                     "scales)", json_object_get(node, "scales"));
    if (!(c.sample_rate > 0.0) || !(c.cutoff > 0.0) || !(c.cutoff < c.sample_rate / 2.0))
        return sscma_schema_fail(where, "features", "cutoff", "expected 0 < cutoff < sample_rate / 2 (got %g Hz at "
                                 "%g Hz)", c.cutoff, c.sample_rate);
    if (isnan(c.mean) != isnan(c.std))
        return sscma_schema_fail(where, "features", isnan(c.mean) ? "mean" : "std", "give mean and std together "
                                 "(or neither: computed over the %s split)", c.stats_prefix);
    *out = c;
    return SSCMA_OK;
}

float sscma_sensor_features_scale(const sensor_features_cfg *cfg, float v)
{
    if (cfg->quantize > 0.0) { /* float32 as upstream: floor(v * 5.12) / 5.12 on a float32 array */
        const float q = (float)cfg->quantize;
        v = floorf(v * q) / q;
    }
    return (v - (float)cfg->mean) / (float)cfg->std;
}

void sscma_sensor_features_shape(const sensor_features_cfg *cfg, int64_t len, int64_t axes, int64_t *channels,
                                 int64_t *len_out)
{
    if (cfg->spectrum)
        *channels = axes, *len_out = len / 2 + 1 + (cfg->moments ? 2 : 0);
    else
        *channels = 2 * axes, *len_out = cfg->size * cfg->size;
}

struct sensor_features_plan {
    sensor_features_cfg cfg;
    int64_t len, n_scales;
    double *cos_table, *sin_table, *hann; /* Spectrum: cos / sin(2 pi j / len), numpy.hanning(len) */
    int64_t filter_start[MAX_SCALES + 1]; /* scale k's reversed int_psi: filters[filter_start[k] ..] */
    double *filters;
    double *fir; /* fir_taps */
};

static double sinc(double x)
{
    return x == 0.0 ? 1.0 : sin(PI * x) / (PI * x);
}

static sscma_status spectrum_plan(const sscma_context *ctx, const sensor_features_cfg *cfg, int64_t len,
                                   sensor_features_plan **out)
{
    const bool radix2 = sscma_fft_size_ok(len);
    if (!radix2 && (double)len * (double)(len / 2 + 1) > 4e9)
        return sscma_fail(SSCMA_ERR_CONFIG, "SensorDataset", "features: the direct DFT of a window of %lld steps would "
                          "take %.3g multiply-adds per axis (at most 4e9): lower window_size, or make it a power of two "
                          "(radix-2 FFT)", (long long)len, (double)len * (double)(len / 2 + 1));
    sensor_features_plan *p = sscma_calloc(ctx, 1, sizeof *p);
    if (p != NULL) {
        p->hann = sscma_malloc(ctx, (size_t)len * sizeof *p->hann);
        p->cos_table = radix2 ? NULL : sscma_malloc(ctx, (size_t)len * sizeof *p->cos_table);
        p->sin_table = radix2 ? NULL : sscma_malloc(ctx, (size_t)len * sizeof *p->sin_table);
    }
    if (p == NULL || p->hann == NULL || (!radix2 && (p->cos_table == NULL || p->sin_table == NULL))) {
        sscma_sensor_features_plan_free(ctx, p);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "SensorDataset", "cannot allocate the feature plan");
    }
    p->cfg = *cfg, p->len = len;
    for (int64_t t = 0; t < len; t++) /* numpy.hanning: 0.5 - 0.5 cos(2 pi t / (n - 1)); one step: 1 */
        p->hann[t] = len == 1 ? 1.0 : 0.5 - 0.5 * cos(2.0 * PI * (double)t / (double)(len - 1));
    for (int64_t j = 0; !radix2 && j < len; j++)
        p->cos_table[j] = cos(2.0 * PI * (double)j / (double)len), p->sin_table[j] = sin(2.0 * PI * (double)j / (double)len);
    *out = p;
    return SSCMA_OK;
}

sscma_status sscma_sensor_features_plan(const sscma_context *ctx, const sensor_features_cfg *cfg, int64_t len,
                                        sensor_features_plan **out)
{
    if (cfg->spectrum)
        return spectrum_plan(ctx, cfg, len, out);
    const int64_t N = (int64_t)1 << cfg->cwt_precision, S = cfg->scales[1] - cfg->scales[0] + 1;
    /* a wild configuration is an error, not an open that runs for hours: the CWT's products per axis and window */
    const double work = (double)len * (double)S * (16.0 * (cfg->scales[0] + cfg->scales[1]) / 2.0 + 1.0);
    if (work > 4e9)
        return sscma_fail(SSCMA_ERR_CONFIG, "SensorDataset", "features: the CWT of a window of %lld steps at scales "
                          "%d..%d would take %.3g multiply-adds per axis (at most 4e9): lower window_size or the scales",
                          (long long)len, (int)cfg->scales[0], (int)cfg->scales[1], work);
    sensor_features_plan *p = sscma_calloc(ctx, 1, sizeof *p);
    double *int_psi = sscma_malloc(ctx, (size_t)N * sizeof *int_psi);
    int64_t total = 0;
    for (int64_t k = 0; k < S; k++)
        total += 16 * (cfg->scales[0] + k) + 1;
    if (p != NULL) {
        p->filters = sscma_malloc(ctx, (size_t)total * sizeof *p->filters);
        p->fir = sscma_malloc(ctx, (size_t)cfg->fir_taps * sizeof *p->fir);
    }
    if (p == NULL || int_psi == NULL || p->filters == NULL || p->fir == NULL) {
        sscma_mfree(ctx, int_psi);
        sscma_sensor_features_plan_free(ctx, p);
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "SensorDataset", "cannot allocate the feature plan");
    }
    p->cfg = *cfg, p->len = len, p->n_scales = S;
    /* the integrated Morlet wavelet on linspace(-8, 8, N) (x_k = k * step - 8), then float32 */
    const double step = 16.0 / (double)(N - 1);
    double acc = 0.0;
    for (int64_t k = 0; k < N; k++) {
        const double x = k == N - 1 ? 8.0 : (double)k * step + -8.0;
        acc += exp(-x * x / 2.0) * cos(5.0 * x);
        int_psi[k] = (double)(float)(acc * step);
    }
    /* pywt indexes with the float32 grid's step */
    const float x0 = -8.0f, x1 = (float)(step + -8.0);
    const float step32 = x1 - x0;
    int64_t at = 0;
    for (int64_t k = 0; k < S; k++) {
        const double s = (double)(cfg->scales[0] + k);
        const int64_t m = (int64_t)(s * 16.0 + 1.0);
        int64_t count = 0;
        for (int64_t i = 0; i < m; i++)
            count += (int64_t)((double)i / (s * (double)step32)) < N;
        p->filter_start[k] = at;
        for (int64_t i = 0; i < count; i++) /* reversed */
            p->filters[at + count - 1 - i] = int_psi[(int64_t)((double)i / (s * (double)step32))];
        at += count;
    }
    p->filter_start[S] = at;
    sscma_mfree(ctx, int_psi);
    /* scipy's firwin: a Hamming-windowed sinc low-pass scaled to unit gain at DC */
    const int64_t T = cfg->fir_taps;
    const double cut = cfg->cutoff / (cfg->sample_rate / 2.0), alpha = 0.5 * (double)(T - 1);
    double sum = 0.0;
    for (int64_t i = 0; i < T; i++) {
        const double m = (double)i - alpha;
        const double fac = T == 1 ? 0.0 : i == T - 1 ? PI : (double)i * (2.0 * PI / (double)(T - 1)) + -PI;
        const double w = T == 1 ? 1.0 : 0.54 + (1.0 - 0.54) * cos(fac);
        p->fir[i] = cut * sinc(cut * m) * w;
        sum += p->fir[i];
    }
    for (int64_t i = 0; i < T; i++)
        p->fir[i] /= sum;
    *out = p;
    return SSCMA_OK;
}

void sscma_sensor_features_plan_free(const sscma_context *ctx, sensor_features_plan *plan)
{
    if (plan == NULL)
        return;
    sscma_mfree(ctx, plan->filters);
    sscma_mfree(ctx, plan->fir);
    sscma_mfree(ctx, plan->cos_table), sscma_mfree(ctx, plan->sin_table), sscma_mfree(ctx, plan->hann);
    sscma_mfree(ctx, plan);
}

/* cv2.resize INTER_LINEAR along one axis: source position (d + 0.5) * src / dst - 0.5, clamped to the edges, with
 * the weight rounded to float as OpenCV stores it. */
static void linear_tap(int64_t d, int64_t src, int64_t dst, int64_t *i0, int64_t *i1, double *w1)
{
    float f = (float)(((double)d + 0.5) * ((double)src / (double)dst) - 0.5);
    int64_t i = (int64_t)floorf(f);
    f -= (float)i;
    if (i < 0)
        i = 0, f = 0.0f;
    if (i >= src - 1)
        i = src - 1, f = 0.0f;
    *i0 = i, *i1 = i + 1 < src ? i + 1 : i, *w1 = (double)f;
}

/* The Morlet CWT image of one series (len values) resized to size x size, row-major, into out. */
static void cwt_image(const sensor_features_plan *p, const float *series, double *coef, double *conv, float *out)
{
    const int64_t n = p->len, S = p->n_scales, Z = p->cfg.size;
    for (int64_t k = 0; k < S; k++) {
        const double *f = p->filters + p->filter_start[k];
        const int64_t L = p->filter_start[k + 1] - p->filter_start[k];
        for (int64_t i = 0; i < n + L - 1; i++) { /* full convolution */
            double acc = 0.0;
            const int64_t lo = i - (n - 1) > 0 ? i - (n - 1) : 0, hi = i < L - 1 ? i : L - 1;
            for (int64_t m = lo; m <= hi; m++)
                acc += (double)series[i - m] * f[m];
            conv[i] = acc;
        }
        /* -sqrt(s) * diff, centred: the n values from floor((L - 2) / 2) */
        const int64_t off = L > 2 ? (L - 2) / 2 : 0;
        const double gain = -sqrt((double)(p->cfg.scales[0] + k));
        for (int64_t t = 0; t < n; t++)
            coef[k * n + t] = gain * (conv[t + off + 1] - conv[t + off]);
    }
    for (int64_t y = 0; y < Z; y++) {
        int64_t y0, y1, x0, x1;
        double wy, wx;
        linear_tap(y, S, Z, &y0, &y1, &wy);
        for (int64_t x = 0; x < Z; x++) {
            linear_tap(x, n, Z, &x0, &x1, &wx);
            const double top = coef[y0 * n + x0] * (1.0 - wx) + coef[y0 * n + x1] * wx;
            const double bottom = coef[y1 * n + x0] * (1.0 - wx) + coef[y1 * n + x1] * wx;
            out[y * Z + x] = (float)(top * (1.0 - wy) + bottom * wy);
        }
    }
}

/* The MTF image of one series: FIR low-pass (lfilter, zero initial state), PAA, then the transition field. */
static void mtf_image(const sensor_features_plan *p, const float *series, double *filtered, int32_t *symbols,
                      double *counts, float *out)
{
    const int64_t n = p->len, Z = p->cfg.size, B = p->cfg.mtf_bins, T = p->cfg.fir_taps;
    for (int64_t t = 0; t < n; t++) {
        double acc = 0.0;
        for (int64_t k = (t < T - 1 ? t : T - 1); k >= 0; k--)
            acc += p->fir[k] * (double)series[t - k];
        filtered[t] = acc;
    }
    double paa[1024], lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < Z; i++) { /* segments [i n / Z, (i + 1) n / Z) (equal when Z divides n) */
        const int64_t a = i * n / Z, b = (i + 1) * n / Z;
        double sum = 0.0;
        for (int64_t t = a; t < b; t++)
            sum += filtered[t];
        paa[i] = sum / (double)(b - a);
        lo = fmin(lo, paa[i]), hi = fmax(hi, paa[i]);
    }
    /* digitize against linspace(0, 1, B) (a value of 1 into the last bin); a constant series: one symbol */
    for (int64_t i = 0; i < Z; i++) {
        const double v = hi > lo ? (paa[i] - lo) / (hi - lo) : 0.0;
        int64_t d = 0;
        for (int64_t k = 0; k < B; k++)
            d += (k == B - 1 ? 1.0 : (double)k * (1.0 / (double)(B - 1))) <= v;
        symbols[i] = (int32_t)((d == B || d == 0 ? B - 1 : d) - 1); /* d 0: NaN, which numpy puts past the end */
    }
    memset(counts, 0, (size_t)(B * B) * sizeof *counts);
    for (int64_t i = 0; i + 1 < Z; i++)
        counts[symbols[i] * B + symbols[i + 1]] += 1.0;
    for (int64_t r = 0; r < B; r++) {
        double sum = 0.0;
        for (int64_t c = 0; c < B; c++)
            sum += counts[r * B + c];
        for (int64_t c = 0; sum > 0.0 && c < B; c++)
            counts[r * B + c] /= sum;
    }
    for (int64_t i = 0; i < Z; i++)
        for (int64_t j = 0; j < Z; j++)
            out[i * Z + j] = (float)counts[symbols[i] * B + symbols[j]];
}

/* One axis' Spectrum: |rfft(window)| (log1p of it when log), then mean and std with moments. re, im: len each. */
static void spectrum_axis(const sensor_features_plan *p, const float *x, double *re, double *im, float *out)
{
    const int64_t n = p->len, F = n / 2 + 1;
    double mean = 0.0, m2 = 0.0;
    for (int64_t t = 0; t < n; t++)
        mean += (double)x[t];
    mean /= (double)n;
    for (int64_t t = 0; t < n; t++)
        m2 += ((double)x[t] - mean) * ((double)x[t] - mean);
    for (int64_t t = 0; t < n; t++)
        re[t] = ((double)x[t] - (p->cfg.demean ? mean : 0.0)) * (p->cfg.hann ? p->hann[t] : 1.0), im[t] = 0.0;
    if (p->cos_table == NULL) { /* a power of two */
        sscma_fft(re, im, n, false);
    } else { /* X_k = sum_t v_t e^{-2 pi i k t / n}, k = 0..F-1; |X_k| parked in im (re still read), then moved */
        for (int64_t k = 0; k < F; k++) {
            double sr = 0.0, si = 0.0;
            for (int64_t t = 0, j = 0; t < n; t++, j = j + k < n ? j + k : j + k - n) /* j = k t mod n */
                sr += re[t] * p->cos_table[j], si -= re[t] * p->sin_table[j];
            im[k] = hypot(sr, si);
        }
        for (int64_t k = 0; k < F; k++)
            re[k] = im[k], im[k] = 0.0;
    }
    for (int64_t k = 0; k < F; k++) {
        const double mag = hypot(re[k], im[k]);
        out[k] = (float)(p->cfg.log ? log1p(mag) : mag);
    }
    if (p->cfg.moments)
        out[F] = (float)mean, out[F + 1] = (float)sqrt(m2 / (double)n);
}

sscma_status sscma_sensor_features_window(const sscma_context *ctx, const sensor_features_plan *plan, const float *in,
                                          int32_t axes, float *out)
{
    if (plan->cfg.spectrum) {
        int64_t channels = 0, per = 0;
        sscma_sensor_features_shape(&plan->cfg, plan->len, axes, &channels, &per);
        double *re = sscma_malloc(ctx, (size_t)plan->len * sizeof *re), *im = sscma_malloc(ctx, (size_t)plan->len * sizeof *im);
        sscma_status st = SSCMA_OK;
        if (re == NULL || im == NULL)
            st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "SensorDataset", "cannot allocate the feature scratch");
        for (int32_t a = 0; st == SSCMA_OK && a < axes; a++)
            spectrum_axis(plan, in + a * plan->len, re, im, out + a * per);
        sscma_mfree(ctx, re), sscma_mfree(ctx, im);
        return st;
    }
    const int64_t n = plan->len, Z = plan->cfg.size, B = plan->cfg.mtf_bins;
    int64_t L = 0;
    for (int64_t k = 0; k < plan->n_scales; k++)
        L = plan->filter_start[k + 1] - plan->filter_start[k] > L ? plan->filter_start[k + 1] - plan->filter_start[k] : L;
    double *conv = sscma_malloc(ctx, (size_t)(n + L) * sizeof *conv);
    double *coef = sscma_malloc(ctx, (size_t)(plan->n_scales * n) * sizeof *coef);
    double *filtered = sscma_malloc(ctx, (size_t)n * sizeof *filtered);
    double *counts = sscma_malloc(ctx, (size_t)(B * B) * sizeof *counts);
    int32_t *symbols = sscma_malloc(ctx, (size_t)Z * sizeof *symbols);
    sscma_status st = SSCMA_OK;
    if (conv == NULL || coef == NULL || filtered == NULL || counts == NULL || symbols == NULL)
        st = sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "SensorDataset", "cannot allocate the feature scratch");
    for (int32_t a = 0; st == SSCMA_OK && a < axes; a++) {
        cwt_image(plan, in + a * n, coef, conv, out + (int64_t)a * Z * Z);
        mtf_image(plan, in + a * n, filtered, symbols, counts, out + (int64_t)(axes + a) * Z * Z);
    }
    sscma_mfree(ctx, conv), sscma_mfree(ctx, coef), sscma_mfree(ctx, filtered);
    sscma_mfree(ctx, counts), sscma_mfree(ctx, symbols);
    return st;
}
