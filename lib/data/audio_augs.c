/*
 * SSCMA's AudioAugs (sscma/datasets/pipelines/audio_augs.py): per-sample augmentations of a 1-D clip. Each call
 * shuffles the signal augmentations, appends one noise augmentation chosen uniformly, and fires each with
 * probability p. Every draw comes from a counter-based stream keyed by (seed, sample), so a batch is the same at any
 * worker count. The cores (sscma_aug_*) take their draws as arguments so that tests can inject them.
 */
#include <math.h>
#include <string.h>

#include "core/schema.h"
#include "data/audio.h"
#include "data/fft.h"

static const char *const aug_names[AUG_COUNT + 1] = {
    "amp", "neg", "tshift", "tmask", "ampsegment", "cycshift", "awgn", "abgn", "apgn", "argn", "avgn", "aun", "phn",
    "sine", NULL,
};
_Static_assert(sizeof aug_names / sizeof aug_names[0] == AUG_COUNT + 1, "a name per augmentation");

#define AUG_LIST "amp, neg, tshift, tmask, ampsegment, cycshift, awgn, abgn, apgn, argn, avgn, aun, phn, sine"

const char *sscma_audio_aug_name(audio_aug_kind kind)
{
    return kind >= 0 && kind < AUG_COUNT ? aug_names[kind] : "?";
}

bool sscma_audio_aug_is_noise(audio_aug_kind kind)
{
    return kind >= AUG_AWGN && kind <= AUG_SINE;
}

/* ---- the cores ---- */

static double rms(const float *x, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n > 0 ? sqrt(s / (double)n) : 0.0;
}

void sscma_aug_amp(float *x, int64_t n, double gain)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(x[i] * gain);
}

void sscma_aug_neg(float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = -x[i];
}

/* Two blocks of n doubles (real, imaginary parts) from ctx, or NULL with the error set. */
static double *complex_buffer(const sscma_context *ctx, int64_t n, const char *what)
{
    double *re = sscma_malloc(ctx, (size_t)n * 2 * sizeof *re);
    if (re == NULL)
        sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "AudioAugs", "%s: cannot allocate %lld samples", what, (long long)n);
    return re;
}

sscma_status sscma_aug_tshift(const sscma_context *ctx, float *x, int64_t n, int64_t int_d, double frac_d)
{
    if (int_d + frac_d == 0.0)
        return SSCMA_OK;
    if (int_d > 0) { /* a delay: int_d zeros in front, the tail dropped */
        int64_t d = int_d < n ? int_d : n;
        memmove(x + d, x, (size_t)(n - d) * sizeof *x);
        memset(x, 0, (size_t)d * sizeof *x);
    } else if (int_d < 0) { /* an advance: the head dropped, zeros behind */
        int64_t d = -int_d < n ? -int_d : n;
        memmove(x, x + d, (size_t)(n - d) * sizeof *x);
        memset(x + n - d, 0, (size_t)d * sizeof *x);
    }
    if (frac_d == 0.0)
        return SSCMA_OK;
    if (!sscma_fft_size_ok(n))
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "AudioAugs", "tshift: %lld samples is not a power of two",
                          (long long)n);
    double *re = complex_buffer(ctx, n, "tshift"), *im = re + n;
    if (re == NULL)
        return SSCMA_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < n; i++)
        re[i] = x[i], im[i] = 0.0;
    sscma_fft(re, im, n, false);
    /* X_k *= exp(-i frac_d w_k), w_k = 2 pi k / n below n / 2 and 2 pi (k - n) / n from n / 2 on */
    for (int64_t k = 0; k < n; k++) {
        const double w = 2.0 * SSCMA_FFT_PI * (double)(k < n / 2 ? k : k - n) / (double)n, phi = -frac_d * w;
        const double c = cos(phi), s = sin(phi), r = re[k], i = im[k];
        re[k] = r * c - i * s, im[k] = r * s + i * c;
    }
    sscma_fft(re, im, n, true);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)re[i];
    sscma_mfree(ctx, re);
    return SSCMA_OK;
}

void sscma_aug_tmask(float *x, int64_t n, int64_t start, int64_t len, const float *noise)
{
    for (int64_t i = 0; i < len && start + i < n; i++)
        x[start + i] = noise[i] * 1e-6f;
}

void sscma_aug_ampsegment(float *x, int64_t n, int64_t start, int64_t len, double gain)
{
    for (int64_t i = start; i < start + len && i < n; i++)
        x[i] = (float)(x[i] * gain);
}

sscma_status sscma_aug_cycshift(const sscma_context *ctx, float *x, int64_t n, int64_t d)
{
    if (d <= 0 || d >= n)
        return SSCMA_OK;
    float *tail = sscma_malloc(ctx, (size_t)d * sizeof *tail);
    if (tail == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "AudioAugs", "cycshift: cannot allocate %lld samples",
                          (long long)d);
    memcpy(tail, x + n - d, (size_t)d * sizeof *x);
    memmove(x + d, x, (size_t)(n - d) * sizeof *x);
    memcpy(x, tail, (size_t)d * sizeof *x);
    sscma_mfree(ctx, tail);
    return SSCMA_OK;
}

void sscma_aug_awgn(float *x, int64_t n, double snr_db, const float *w)
{
    const double sgm = rms(x, n) * pow(10.0, -snr_db / 20.0);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(x[i] + sgm * w[i]);
}

void sscma_aug_aun(float *x, int64_t n, double snr_db, const float *u)
{
    const double sgm = rms(x, n) * pow(10.0, -snr_db / 20.0) * sqrt(3.0);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(x[i] + (u[i] * 2.0 * sgm - sgm));
}

sscma_status sscma_aug_colored(const sscma_context *ctx, float *x, int64_t n, double snr_db, double exponent,
                               const float *w)
{
    if (!sscma_fft_size_ok(n) || n < 2)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "AudioAugs", "coloured noise: %lld samples is not a power of "
                          "two", (long long)n);
    double *re = complex_buffer(ctx, n, "coloured noise"), *im = re + n;
    if (re == NULL)
        return SSCMA_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < n; i++)
        re[i] = w[i], im[i] = 0.0;
    sscma_fft(re, im, n, false);
    const int64_t half = n / 2;
    for (int64_t k = 0; k <= half; k++) { /* bin k times (k + 1)^exponent: SSCMA's k counts from 1 */
        const double g = pow((double)(k + 1), exponent);
        re[k] *= g, im[k] *= g;
    }
    for (int64_t k = 1; k < half; k++) /* Hermitian: bin n - k is conj(bin k) */
        re[n - k] = re[k], im[n - k] = -im[k];
    sscma_fft(re, im, n, true);
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < n; i++)
        mean += re[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        var += (re[i] - mean) * (re[i] - mean);
    const double sd = sqrt(var / (double)(n - 1)), sgm = rms(x, n) * pow(10.0, -snr_db / 20.0);
    for (int64_t i = 0; i < n; i++) /* (w + mean) / std: SSCMA adds the mean (docs/coming-from-sscma.md) */
        x[i] = (float)(x[i] + sgm * (sd > 0.0 ? (re[i] + mean) / sd : 0.0));
    sscma_mfree(ctx, re);
    return SSCMA_OK;
}

void sscma_aug_sine(float *x, int64_t n, double snr_db, double f, double phase, int64_t fs)
{
    const double sgm = rms(x, n) * sqrt(2.0) * pow(10.0, -snr_db / 20.0);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(x[i] + sgm * sin(2.0 * SSCMA_FFT_PI * f * ((double)i / (double)fs) + phase));
}

sscma_status sscma_aug_phn(const sscma_context *ctx, float *x, int64_t n, int64_t n_fft, int64_t hop, double sg,
                           const float *ur, const float *ui)
{
    const int64_t pad = n_fft / 2, bins = n_fft / 2 + 1, frames = 1 + n / hop, total = n + 2 * pad;
    if (!sscma_fft_size_ok(n_fft) || n <= pad || n % hop != 0)
        return sscma_fail(SSCMA_ERR_INVALID_ARGUMENT, "AudioAugs", "phn: %lld samples do not suit n_fft %lld, hop "
                          "%lld", (long long)n, (long long)n_fft, (long long)hop);
    double *padded = sscma_malloc(ctx, (size_t)(2 * total + 2 * n_fft) * sizeof *padded);
    if (padded == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "AudioAugs", "phn: cannot allocate %lld samples",
                          (long long)total);
    double *out = padded + total, *re = out + total, *im = re + n_fft;
    for (int64_t i = 0; i < total; i++) { /* centre: reflect padding (the edge sample not repeated) */
        int64_t j = i - pad;
        j = j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
        padded[i] = x[j];
        out[i] = 0.0;
    }
    for (int64_t t = 0; t < frames; t++) {
        for (int64_t i = 0; i < n_fft; i++)
            re[i] = padded[t * hop + i], im[i] = 0.0;
        sscma_fft(re, im, n_fft, false);
        for (int64_t k = 0; k < bins; k++) { /* X *= exp(i sg (ur + i ui)) = exp(-sg ui) (cos + i sin)(sg ur) */
            const double mag = exp(-sg * ui[t * bins + k]), ph = sg * ur[t * bins + k];
            const double c = mag * cos(ph), s = mag * sin(ph), r = re[k], q = im[k];
            re[k] = r * c - q * s, im[k] = r * s + q * c;
        }
        for (int64_t k = 1; k < n_fft / 2; k++) /* irfft: the onesided bins made Hermitian, the real part */
            re[n_fft - k] = re[k], im[n_fft - k] = -im[k];
        sscma_fft(re, im, n_fft, true);
        for (int64_t i = 0; i < n_fft; i++)
            out[t * hop + i] += re[i];
    }
    for (int64_t i = 0; i < n; i++) { /* divided by the window envelope: the frames that cover the sample */
        const int64_t p = i + pad, first = p >= n_fft ? (p - n_fft) / hop + 1 : 0, last = p / hop < frames - 1 ?
                                                                                      p / hop : frames - 1;
        x[i] = (float)(out[p] / (double)(last - first + 1));
    }
    sscma_mfree(ctx, padded);
    return SSCMA_OK;
}

/* ---- the config ---- */

typedef struct augs_cfg {
    json_t *k_augs;
    double p, snr_db;
    int64_t fs;
} augs_cfg;

static const sscma_field augs_fields[] = {
    SSCMA_FIELD_KEY("type"),
    SSCMA_FIELD_KEY("_at"),
    SSCMA_FIELD_JSON_AS("k_augs", augs_cfg, k_augs),
    SSCMA_FIELD_RANGE(augs_cfg, p, 0.5, 0.0, 1.0),
    SSCMA_FIELD_RANGE(augs_cfg, snr_db, 30.0, -100.0, 200.0),
    SSCMA_FIELD_RANGE(augs_cfg, fs, 0, 0, 1000000),
    SSCMA_FIELD_END,
};

/* SSCMA's STFT sizes per rate (AugBasic): (win = n_fft, hop) for 8, 16 and 22.05 kHz. */
static bool phn_sizes(int64_t fs, int64_t n_fft[3], int64_t hop[3])
{
    static const int64_t t8[6] = {128, 32, 256, 64, 512, 128}, t16[6] = {256, 64, 512, 128, 1024, 256},
                         t22[6] = {512, 128, 1024, 256, 2048, 1024};
    const int64_t *t = fs == 8000 ? t8 : fs == 16000 ? t16 : fs == 22050 ? t22 : NULL;
    for (int i = 0; t != NULL && i < 3; i++)
        n_fft[i] = t[2 * i], hop[i] = t[2 * i + 1];
    return t != NULL;
}

sscma_status sscma_audio_augs_read(json_t *config, const char *where, int64_t default_fs, int64_t length,
                                   sscma_audio_augs *out)
{
    augs_cfg c;
    sscma_status st = sscma_schema_read(augs_fields, config, where, NULL, &c);
    if (st != SSCMA_OK)
        return st;
    memset(out, 0, sizeof *out);
    out->p = c.p, out->snr_db = c.snr_db, out->fs = c.fs > 0 ? c.fs : default_fs;
    if (c.k_augs != NULL && !json_is_null(c.k_augs) && !json_is_array(c.k_augs))
        return sscma_schema_expected(where, NULL, "k_augs", "a list of augmentation names (" AUG_LIST ")", c.k_augs);
    const size_t n = c.k_augs != NULL && json_is_array(c.k_augs) ? json_array_size(c.k_augs) : 0;
    if (c.k_augs == NULL || json_is_null(c.k_augs))
        for (int k = 0; k < AUG_COUNT; k++)
            out->augs[out->n_augs++] = (audio_aug_kind)k;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(c.k_augs, i);
        const char *name = json_string_value(v);
        int k = 0;
        while (name != NULL && k < AUG_COUNT && strcmp(name, aug_names[k]) != 0)
            k++;
        char at[64];
        if (name == NULL || k == AUG_COUNT)
            return sscma_schema_expected(where, sscma_schema_index(at, sizeof at, "k_augs", i), NULL,
                                         "one of: " AUG_LIST " (flip, mulaw and fshift are not implemented)", v);
        for (int32_t j = 0; j < out->n_augs; j++)
            if (out->augs[j] == (audio_aug_kind)k)
                return sscma_schema_fail(where, sscma_schema_index(at, sizeof at, "k_augs", i), NULL,
                                         "'%s' is listed twice", name);
        out->augs[out->n_augs++] = (audio_aug_kind)k;
    }
    const int64_t tenth = (int64_t)(0.1 * (double)out->fs);
    bool fft = false, phn = false;
    for (int32_t j = 0; j < out->n_augs; j++) {
        audio_aug_kind k = out->augs[j];
        fft = fft || k == AUG_TSHIFT || (k >= AUG_ABGN && k <= AUG_AVGN) || k == AUG_PHN;
        phn = phn || k == AUG_PHN;
        if ((k == AUG_TMASK || k == AUG_TSHIFT || k == AUG_AMPSEGMENT) && tenth >= length)
            return sscma_fail(SSCMA_ERR_CONFIG, where, "%s: its 0.1 s at fs %lld Hz (%lld samples) is not shorter "
                              "than the segment_length %lld", aug_names[k], (long long)out->fs, (long long)tenth,
                              (long long)length);
    }
    if (fft && !sscma_fft_size_ok(length))
        return sscma_fail(SSCMA_ERR_CONFIG, where, "segment_length %lld is not a power of two: tshift, the coloured "
                          "noises (abgn, apgn, argn, avgn) and phn use a radix-2 FFT", (long long)length);
    int64_t n_fft[3], hop[3];
    if (phn && !phn_sizes(out->fs, n_fft, hop))
        return sscma_fail(SSCMA_ERR_CONFIG, where, "phn: fs %lld Hz has no STFT sizes (SSCMA's: 8000, 16000, "
                          "22050)", (long long)out->fs);
    if (phn && (length % hop[2] != 0 || length <= n_fft[2] / 2))
        return sscma_fail(SSCMA_ERR_CONFIG, where, "phn: segment_length %lld does not suit its STFT (hop %lld, n_fft "
                          "%lld)", (long long)length, (long long)hop[2], (long long)n_fft[2]);
    return SSCMA_OK;
}

/* ---- the call ---- */

/* A stream of draws: uniform [0, 1) doubles and standard normals, numbered from (seed, sample). */
typedef struct draws {
    uint64_t key, next;
} draws;

static double uniform(draws *d)
{
    uint64_t h = sscma_hash64(d->key ^ sscma_hash64(d->next++));
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* An integer in [lo, hi] inclusive (Python's random.randint). */
static int64_t randint(draws *d, int64_t lo, int64_t hi)
{
    int64_t v = lo + (int64_t)(uniform(d) * (double)(hi - lo + 1));
    return v > hi ? hi : v;
}

static double normal(draws *d) /* Box-Muller, one of the pair */
{
    const double u = 1.0 - uniform(d), v = uniform(d);
    return sqrt(-2.0 * log(u)) * cos(2.0 * SSCMA_FFT_PI * v);
}

static sscma_status apply_one(const sscma_context *ctx, const sscma_audio_augs *a, audio_aug_kind k, float *x,
                              int64_t n, draws *d, float *buf)
{
    const int64_t tenth = (int64_t)(0.1 * (double)a->fs);
    double f = 0.0;
    if (k == AUG_SINE) /* SSCMA draws the frequency before the coin, on every call */
        f = 50.0 * uniform(d) + 3.0 * normal(d);
    if (!(uniform(d) < a->p))
        return SSCMA_OK;
    switch (k) {
    case AUG_AMP:
        sscma_aug_amp(x, n, 0.5 + 0.8 * uniform(d));
        return SSCMA_OK;
    case AUG_NEG:
        sscma_aug_neg(x, n);
        return SSCMA_OK;
    case AUG_TSHIFT: {
        const int64_t int_d = 2 * randint(d, 0, tenth) - tenth;
        return sscma_aug_tshift(ctx, x, n, int_d, round(100.0 * (uniform(d) - 0.5)) / 100.0);
    }
    case AUG_TMASK: {
        const int64_t start = randint(d, 0, n - tenth);
        for (int64_t i = 0; i < tenth; i++)
            buf[i] = (float)normal(d);
        sscma_aug_tmask(x, n, start, tenth, buf);
        return SSCMA_OK;
    }
    case AUG_AMPSEGMENT: {
        const int64_t start = randint(d, 0, tenth);
        sscma_aug_ampsegment(x, n, start, tenth, 0.5 + 0.8 * uniform(d));
        return SSCMA_OK;
    }
    case AUG_CYCSHIFT:
        return sscma_aug_cycshift(ctx, x, n, randint(d, 0, n - 1));
    case AUG_AWGN:
    case AUG_ABGN:
    case AUG_APGN:
    case AUG_ARGN:
    case AUG_AVGN:
        for (int64_t i = 0; i < n; i++)
            buf[i] = (float)normal(d);
        if (k == AUG_AWGN) {
            sscma_aug_awgn(x, n, a->snr_db, buf);
            return SSCMA_OK;
        }
        return sscma_aug_colored(ctx, x, n, a->snr_db, k == AUG_ABGN ? 0.5 : k == AUG_APGN ? -0.5 : k == AUG_ARGN ?
                                 -1.0 : 1.0, buf);
    case AUG_AUN:
        for (int64_t i = 0; i < n; i++)
            buf[i] = (float)uniform(d);
        sscma_aug_aun(x, n, a->snr_db, buf);
        return SSCMA_OK;
    case AUG_SINE:
        sscma_aug_sine(x, n, a->snr_db, f, uniform(d) * SSCMA_FFT_PI, a->fs);
        return SSCMA_OK;
    case AUG_PHN: {
        int64_t n_fft[3], hop[3];
        phn_sizes(a->fs, n_fft, hop);
        const int64_t w = randint(d, 0, 2), frames = 1 + n / hop[w], bins = n_fft[w] / 2 + 1;
        const double sg = 0.01 + 0.01 * uniform(d);
        float *ur = sscma_malloc(ctx, (size_t)(2 * frames * bins) * sizeof *ur);
        if (ur == NULL)
            return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "AudioAugs", "phn: cannot allocate the draws");
        for (int64_t i = 0; i < 2 * frames * bins; i++)
            ur[i] = (float)uniform(d);
        sscma_status st = sscma_aug_phn(ctx, x, n, n_fft[w], hop[w], sg, ur, ur + frames * bins);
        sscma_mfree(ctx, ur);
        return st;
    }
    case AUG_COUNT:
        break;
    }
    return SSCMA_OK;
}

sscma_status sscma_audio_augs_apply(const sscma_context *ctx, const sscma_audio_augs *a, float *x, int64_t n,
                                    uint64_t seed, uint64_t sample)
{
    draws d = {sscma_hash64(seed ^ sscma_hash64(sample ^ 0xa0d10a06ULL)), 0};
    audio_aug_kind order[AUG_COUNT], noise[AUG_COUNT];
    int32_t n_signal = 0, n_noise = 0;
    for (int32_t i = 0; i < a->n_augs; i++) {
        if (sscma_audio_aug_is_noise(a->augs[i]))
            noise[n_noise++] = a->augs[i];
        else
            order[n_signal++] = a->augs[i];
    }
    for (int32_t i = n_signal - 1; i > 0; i--) { /* random.shuffle: Fisher-Yates */
        const int32_t j = (int32_t)randint(&d, 0, i);
        audio_aug_kind t = order[i];
        order[i] = order[j], order[j] = t;
    }
    int32_t count = n_signal;
    if (n_noise > 0)
        order[count++] = noise[randint(&d, 0, n_noise - 1)];
    float *buf = sscma_malloc(ctx, (size_t)n * sizeof *buf);
    if (buf == NULL)
        return sscma_fail(SSCMA_ERR_OUT_OF_MEMORY, "AudioAugs", "cannot allocate %lld samples", (long long)n);
    sscma_status st = SSCMA_OK;
    for (int32_t i = 0; i < count && st == SSCMA_OK; i++)
        st = apply_one(ctx, a, order[i], x, n, &d, buf);
    sscma_mfree(ctx, buf);
    return st;
}
