/*
 * Unit tests of the audio data (lib/data/audio.c, audio_augs.c, fft.c): WAV reading of every PCM width, float,
 * stereo and other rates (files written here byte by byte, not through libsndfile), resampling (lengths, a tone's
 * frequency), Speechcommand's splits from the lists, the unknown and silence classes, the clip shaping (lower_volume,
 * peak, pad, crop), defects by file and line, the loader's batches and AudioAugs (cores against
 * tests/golden/audio_augs.bin from gen_audio_augs.py; the whole call for determinism across worker counts).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sscma/sscma.h>

#include "data/audio.h"
#include "data/fft.h"
#include "fixture_files.h"
#include "golden.h"
#include "harness.h"

static sscma_context *ctx;
static char tmpdir[64];

/* ---- WAV files written by hand: RIFF, "fmt " (PCM 1 or IEEE float 3), "data" ---- */

static void put_u32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, f);
}

static void put_u16(FILE *f, uint16_t v)
{
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    fwrite(b, 1, 2, f);
}

/*
 * Writes frames x channels samples v[i] (in [-1, 1)) as `bits` PCM (8: unsigned, offset 128; else signed, scaled
 * by 2^(bits-1) and rounded) or, with bits 0, 32-bit float.
 */
static void write_wav(const char *path, const double *v, int64_t frames, int channels, int rate, int bits)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        test_fail(__FILE__, __LINE__, "cannot create %s", path);
        return;
    }
    const int bytes = bits == 0 ? 4 : bits / 8;
    const uint32_t data = (uint32_t)(frames * channels * bytes);
    fwrite("RIFF", 1, 4, f);
    put_u32(f, 36 + data);
    fwrite("WAVEfmt ", 1, 8, f);
    put_u32(f, 16);
    put_u16(f, bits == 0 ? 3 : 1);
    put_u16(f, (uint16_t)channels);
    put_u32(f, (uint32_t)rate);
    put_u32(f, (uint32_t)(rate * channels * bytes));
    put_u16(f, (uint16_t)(channels * bytes));
    put_u16(f, (uint16_t)(bits == 0 ? 32 : bits));
    fwrite("data", 1, 4, f);
    put_u32(f, data);
    for (int64_t i = 0; i < frames * channels; i++) {
        if (bits == 0) {
            float x = (float)v[i];
            uint32_t u;
            memcpy(&u, &x, 4);
            put_u32(f, u);
        } else if (bits == 8) {
            fputc((int)lround(v[i] * 128.0) + 128, f);
        } else {
            int64_t q = llround(v[i] * (double)((int64_t)1 << (bits - 1)));
            for (int b = 0; b < bytes; b++)
                fputc((int)((uint64_t)q >> (8 * b)) & 0xff, f);
        }
    }
    fclose(f);
}

/* A mono 16-bit clip of n samples, value(i) = amp * sin(2 pi 300 i / 8000) (a "word"). */
static void write_word(const char *path, int64_t n, double amp)
{
    double *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = amp * sin(2.0 * 3.14159265358979 * 300.0 * (double)i / 8000.0);
    write_wav(path, v, n, 1, 8000, 16);
    free(v);
}

/* ---- reading ---- */

/*
 * The public sscma_audio_clip_read: a 16-bit 8 kHz clip of 6000 samples with peak 0.5 becomes [1, 8192], peak-normalised
 * (lower_volume off: the peak is exactly 1), the samples in place and zero behind; 10,000 samples are centre-cropped to
 * 8192 (from 904); lower_volume leaves the peak at 1 (clamped, then divided by it). Bad arguments and files fail.
 */
static void clip_read_as_a_validation_clip(void)
{
    char path[256], missing[256];
    snprintf(path, sizeof path, "%s/clip.wav", tmpdir);
    snprintf(missing, sizeof missing, "%s/none.wav", tmpdir);
    write_word(path, 6000, 0.5);
    sscma_tensor *t = NULL;
    CHECK_OK(sscma_audio_clip_read(ctx, path, 8000, 8192, 0, &t));
    int64_t d0 = 0, d1 = 0;
    void *data = NULL;
    CHECK_OK(sscma_tensor_dim(t, 0, &d0));
    CHECK_OK(sscma_tensor_dim(t, 1, &d1));
    CHECK(d0 == 1 && d1 == 8192);
    CHECK_OK(sscma_tensor_data(t, &data));
    const float *x = data;
    float peak = 0.0f;
    int64_t at = -1;
    for (int64_t i = 0; x != NULL && i < 8192; i++)
        if (fabsf(x[i]) > peak)
            peak = fabsf(x[i]), at = i;
    CHECK_NEAR(peak, 1.0, 1e-6);
    double qpeak = 0.0; /* the written 16-bit values over their peak */
    for (int64_t i = 0; i < 6000; i++)
        qpeak = fmax(qpeak, fabs((double)llround(0.5 * sin(2.0 * 3.14159265358979 * 300.0 * (double)i / 8000.0) *
                                                  32768.0)));
    for (int64_t i = 0; x != NULL && i < 6000; i++)
        CHECK_NEAR(x[i], (double)llround(0.5 * sin(2.0 * 3.14159265358979 * 300.0 * (double)i / 8000.0) * 32768.0) /
                             qpeak, 1e-6);
    CHECK(at >= 0 && at < 6000);
    for (int64_t i = 6000; x != NULL && i < 8192; i++)
        CHECK(x[i] == 0.0f);
    sscma_tensor_destroy(t);
    write_word(path, 10000, 0.5);
    float *whole = malloc(10000 * sizeof *whole);
    CHECK_OK(sscma_audio_clip_read(ctx, path, 8000, 8192, 1, &t));
    CHECK_OK(sscma_audio_file_window(ctx, path, 8000, 8192, true, whole));
    CHECK_OK(sscma_tensor_data(t, &data));
    CHECK(data != NULL && memcmp(data, whole, 8192 * sizeof *whole) == 0);
    sscma_tensor_destroy(t);
    free(whole);
    CHECK_FAILS(sscma_audio_clip_read(ctx, NULL, 8000, 8192, 0, &t), SSCMA_ERR_INVALID_ARGUMENT, "'path' is NULL");
    CHECK_FAILS(sscma_audio_clip_read(ctx, path, 0, 8192, 0, &t), SSCMA_ERR_INVALID_ARGUMENT,
                "sampling_rate 0 and segment_length 8192 must be");
    CHECK_FAILS(sscma_audio_clip_read(ctx, missing, 8000, 8192, 0, &t), SSCMA_ERR_IO, "none.wav");
    CHECK(t == NULL);
}

static void wav_widths_float_stereo(void)
{
    /* values exactly representable in 8 bits, so every width reads them back exactly */
    const double v[8] = {0.0, 0.5, -0.5, 0.25, -1.0, 0.9921875, -0.0078125, 0.125};
    const int bits[5] = {8, 16, 24, 32, 0};
    for (int b = 0; b < 5; b++) {
        char path[160];
        snprintf(path, sizeof path, "%s/w%d.wav", tmpdir, bits[b]);
        write_wav(path, v, 8, 1, 8000, bits[b]);
        float *x = NULL;
        int64_t n = 0, rate = 0;
        CHECK_OK(sscma_audio_read(ctx, path, 0, &x, &n, &rate));
        CHECK_INT_EQ(n, 8);
        CHECK_INT_EQ(rate, 8000);
        for (int i = 0; x != NULL && i < 8; i++)
            if (x[i] != (float)v[i])
                test_fail(__FILE__, __LINE__, "%d bits: sample %d is %.9g, written %.9g", bits[b], i, x[i], v[i]);
        sscma_mfree(ctx, x);
    }
    /* a 16-bit value that 8 bits cannot hold: v / 32768 exactly (libsndfile's and torchaudio's scale) */
    const double odd[2] = {1234.0 / 32768.0, -32768.0 / 32768.0};
    char path[160];
    snprintf(path, sizeof path, "%s/odd.wav", tmpdir);
    write_wav(path, odd, 2, 1, 16000, 16);
    float *x = NULL;
    int64_t n = 0, rate = 0;
    CHECK_OK(sscma_audio_read(ctx, path, 0, &x, &n, &rate));
    CHECK(n == 2 && rate == 16000 && x != NULL && x[0] == 1234.0f / 32768.0f && x[1] == -1.0f);
    sscma_mfree(ctx, x);
    /* stereo: the channels averaged */
    const double st[6] = {0.5, 0.25, -0.5, 0.0, 1.0 - 1.0 / 32768, -1.0};
    snprintf(path, sizeof path, "%s/stereo.wav", tmpdir);
    write_wav(path, st, 3, 2, 8000, 16);
    x = NULL;
    CHECK_OK(sscma_audio_read(ctx, path, 0, &x, &n, &rate));
    CHECK(n == 3 && x != NULL);
    if (x != NULL && n == 3) {
        CHECK_NEAR(x[0], 0.375, 1e-7);
        CHECK_NEAR(x[1], -0.25, 1e-7);
        CHECK_NEAR(x[2], -0.5 / 32768, 1e-7);
    }
    sscma_mfree(ctx, x);
    /* not audio */
    snprintf(path, sizeof path, "%s/text.wav", tmpdir);
    write_text(path, "RIFF but not really a wave file\n");
    CHECK_FAILS(sscma_audio_read(ctx, path, 0, &x, &n, &rate), SSCMA_ERR_FORMAT, "text.wav: cannot read as audio");
}

/* Zero crossings of x[from, to) upward. */
static int upward_crossings(const float *x, int64_t from, int64_t to)
{
    int c = 0;
    for (int64_t i = from + 1; i < to; i++)
        c += x[i - 1] < 0.0f && x[i] >= 0.0f;
    return c;
}

static void resampling_keeps_length_and_pitch(void)
{
    /* 1 s of 440 Hz at 16 kHz, 44.1 kHz and 11025 Hz, each read at 8 kHz: ceil(n * 8000 / rate) samples, 440
     * upward crossings per second, amplitude kept (the tone is far below the 4 kHz cutoff) */
    const int rates[3] = {16000, 44100, 11025};
    for (int r = 0; r < 3; r++) {
        const int64_t frames = rates[r];
        double *v = malloc((size_t)frames * sizeof *v);
        for (int64_t i = 0; i < frames; i++)
            v[i] = 0.8 * sin(2.0 * 3.14159265358979 * 440.0 * (double)i / rates[r] + 0.3);
        char path[160];
        snprintf(path, sizeof path, "%s/tone%d.wav", tmpdir, rates[r]);
        write_wav(path, v, frames, 1, rates[r], 16);
        free(v);
        float *x = NULL;
        int64_t n = 0, rate = 0;
        CHECK_OK(sscma_audio_read(ctx, path, 8000, &x, &n, &rate));
        CHECK_INT_EQ(n, 8000);
        CHECK_INT_EQ(rate, rates[r]);
        if (x == NULL || n != 8000)
            continue;
        /* 0.5 s in the middle: 220 periods, amplitude 0.8 */
        const int c = upward_crossings(x, 2000, 6000);
        CHECK(c >= 219 && c <= 221);
        float peak = 0.0f;
        for (int64_t i = 2000; i < 6000; i++)
            peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
        CHECK_NEAR(peak, 0.8, 0.01);
        /* the samples follow the tone: a sample of the ideal 8 kHz tone */
        double err = 0.0;
        for (int64_t i = 2000; i < 6000; i++)
            err = fmax(err, fabs(x[i] - 0.8 * sin(2.0 * 3.14159265358979 * 440.0 * (double)i / 8000.0 + 0.3)));
        CHECK(err < 0.01);
        sscma_mfree(ctx, x);
    }
}

/* ---- Speechcommand ---- */

static char root[160];

/*
 * The tree: yes (4 clips), no (3), up (2, not a word of the configs), _background_noise_ (hum.wav, white_noise.wav);
 * validation_list: yes/a, no/a, up/a; testing_list: yes/b, up/b (with a blank line and CRLF).
 */
static void make_tree(void)
{
    snprintf(root, sizeof root, "%s/sc", tmpdir);
    const char *const dirs[] = {"", "/yes", "/no", "/up", "/_background_noise_"};
    make_dirs(root, dirs, 5);
    const char *const files[] = {"yes/a_nohash_0.wav", "yes/b_nohash_0.wav", "yes/c_nohash_0.wav",
                                 "yes/d_nohash_1.wav", "no/a_nohash_0.wav", "no/c_nohash_0.wav",
                                 "no/e_nohash_0.wav", "up/a_nohash_0.wav", "up/b_nohash_0.wav"};
    for (int i = 0; i < 9; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        write_word(path, 4000 + 100 * i, 0.1 * (i + 1));
    }
    char path[300];
    double *bg = malloc(20000 * sizeof *bg);
    for (int i = 0; i < 20000; i++)
        bg[i] = 0.2 * sin(2.0 * 3.14159265358979 * 50.0 * i / 8000.0);
    snprintf(path, sizeof path, "%s/_background_noise_/hum.wav", root);
    write_wav(path, bg, 20000, 1, 8000, 16);
    for (int i = 0; i < 20000; i++)
        bg[i] = 0.3 * ((i * 7919) % 200 - 100) / 100.0;
    snprintf(path, sizeof path, "%s/_background_noise_/white_noise.wav", root);
    write_wav(path, bg, 20000, 1, 8000, 16);
    free(bg);
    snprintf(path, sizeof path, "%s/validation_list.txt", root);
    write_text(path, "yes/a_nohash_0.wav\nno/a_nohash_0.wav\nup/a_nohash_0.wav\n");
    snprintf(path, sizeof path, "%s/testing_list.txt", root);
    write_text(path, "yes/b_nohash_0.wav\r\n\r\nup/b_nohash_0.wav\r\n");
}

static sscma_dataset *open_sc(const char *extra)
{
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "{\"type\": \"sscma.Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\", \"no\"], "
             "\"segment_length\": 8192%s}", root, extra);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    return ds;
}

static void check_classes(sscma_dataset *ds, const char *const *names, int n)
{
    int32_t k = 0;
    CHECK_OK(sscma_dataset_num_classes(ds, &k));
    CHECK_INT_EQ(k, n);
    for (int32_t i = 0; i < n && i < k; i++) {
        const char *name = NULL;
        CHECK_OK(sscma_dataset_class_name(ds, i, &name));
        CHECK_STR_EQ(name, names[i]);
    }
}

/* The labels of every sample, in order, as a string of digits. */
static void check_labels(sscma_dataset *ds, const char *expected)
{
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(ds, &n));
    char got[64] = "";
    for (int64_t i = 0; i < n && i < 63; i++) {
        sscma_sample *s = NULL;
        int32_t label = -9;
        CHECK_OK(sscma_dataset_get(ds, i, &s));
        if (s != NULL)
            CHECK_OK(sscma_sample_label(s, &label));
        got[i] = (char)('0' + label);
        got[i + 1] = '\0';
        sscma_sample_destroy(s);
    }
    CHECK_STR_EQ(got, expected);
}

static void splits_from_the_lists(void)
{
    make_tree();
    const char *const yes_no[] = {"no", "yes"};
    /* train: every clip of the words minus both lists, sorted by path: no/c, no/e, yes/c, yes/d */
    sscma_dataset *ds = open_sc("");
    if (ds != NULL) {
        check_classes(ds, yes_no, 2);
        check_labels(ds, "0011");
    }
    sscma_dataset_destroy(ds);
    ds = open_sc(", \"mode\": \"val\"");
    if (ds != NULL)
        check_labels(ds, "01"); /* no/a, yes/a; up/a dropped */
    sscma_dataset_destroy(ds);
    ds = open_sc(", \"mode\": \"test\"");
    if (ds != NULL)
        check_labels(ds, "1");
    sscma_dataset_destroy(ds);
    /* SSCMA's default words: no, off, on, yes; off and on have no folder here */
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"data_root\": \"%s\"}", root);
    sscma_dataset *bad = NULL;
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &bad), SSCMA_ERR_FORMAT, "sc/off: no such folder (words lists 'off')");
    /* unknown: up becomes _unknown_ (val: up/a) */
    const char *const with_unknown[] = {"no", "yes", "_unknown_"};
    ds = open_sc(", \"unknown\": true, \"mode\": \"val\"");
    if (ds != NULL) {
        check_classes(ds, with_unknown, 3);
        check_labels(ds, "021"); /* sorted by path: no/a, up/a, yes/a */
    }
    sscma_dataset_destroy(ds);
    /* silence: round(0.5 * 4) = 2 extra train samples of class _silence_, cut from the background files */
    const char *const with_silence[] = {"no", "yes", "_silence_", "_unknown_"};
    ds = open_sc(", \"unknown\": true, \"silence\": 0.5");
    if (ds != NULL) {
        check_classes(ds, with_silence, 4);
        check_labels(ds, "001122");
        /* the same cut every time (fixed per split), peak 1 (normalised), not a word */
        float a[8192], b[8192];
        int32_t la = -1, lb = -1;
        CHECK_OK(sscma_dataset_window(ds, 4, a, &la));
        CHECK_OK(sscma_dataset_window_seeded(ds, 4, 77, b, &lb));
        CHECK(la == 2 && lb == 2 && memcmp(a, b, sizeof a) == 0);
        float peak = 0.0f;
        for (int i = 0; i < 8192; i++)
            peak = fabsf(a[i]) > peak ? fabsf(a[i]) : peak;
        CHECK_NEAR(peak, 1.0, 1e-6);
    }
    sscma_dataset_destroy(ds);
}

static void clips_shaped_as_sscma(void)
{
    /* a clip of 5 samples: +0.5 dB clamps 0.99 to 1; peak 1; zeros behind to segment_length */
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/shape", tmpdir);
    const char *const dirs[] = {"", "/yes", "/_background_noise_"};
    make_dirs(dir, dirs, 3);
    const double v[5] = {0.5, -0.25, 0.99, 0.0, -0.125};
    snprintf(path, sizeof path, "%s/yes/a_nohash_0.wav", dir);
    write_wav(path, v, 5, 1, 8000, 0);
    const double zero[4] = {0, 0, 0, 0};
    snprintf(path, sizeof path, "%s/yes/b_nohash_0.wav", dir);
    write_wav(path, zero, 4, 1, 8000, 16);
    double *ramp = malloc(40 * sizeof *ramp);
    for (int i = 0; i < 40; i++)
        ramp[i] = (i - 20) / 64.0;
    snprintf(path, sizeof path, "%s/yes/c_nohash_0.wav", dir);
    write_wav(path, ramp, 40, 1, 8000, 16);
    free(ramp);
    snprintf(path, sizeof path, "%s/validation_list.txt", dir);
    write_text(path, "yes/a_nohash_0.wav\nyes/b_nohash_0.wav\nyes/c_nohash_0.wav\n");
    snprintf(path, sizeof path, "%s/testing_list.txt", dir);
    write_text(path, "");
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"mode\": "
             "\"val\", \"segment_length\": 16, \"lower_volume\": true}", dir);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    float w[16];
    int32_t label = -1;
    CHECK_OK(sscma_dataset_window(ds, 0, w, &label));
    const double g = pow(10.0, 0.5 / 20.0); /* 0.5 dB; 0.99 * g > 1 is clamped to 1, which is then the peak */
    const double expect[6] = {0.5 * g, -0.25 * g, 1.0, 0.0, -0.125 * g, 0.0};
    for (int i = 0; i < 6; i++)
        CHECK_NEAR(w[i], expect[i], 1e-6);
    CHECK(w[15] == 0.0f && label == 0);
    /* a silent clip stays zeros (no NaN) */
    CHECK_OK(sscma_dataset_window(ds, 1, w, &label));
    for (int i = 0; i < 16; i++)
        CHECK(w[i] == 0.0f);
    /* 40 samples into 16: outside training the centre (start 12): (i - 8) / 64 * g, peak |-20/64 * g| */
    CHECK_OK(sscma_dataset_window(ds, 2, w, &label));
    for (int i = 0; i < 16; i++)
        CHECK_NEAR(w[i], (i - 8) / 20.0, 1e-4);
    /* the file alone (sscma infer's way) gives the same window */
    float alone[16];
    snprintf(path, sizeof path, "%s/yes/c_nohash_0.wav", dir);
    CHECK_OK(sscma_audio_file_window(ctx, path, 8000, 16, true, alone));
    CHECK(memcmp(alone, w, sizeof w) == 0);
    sscma_dataset_destroy(ds);
    /* the same in train mode: a random start from (seed, index), a window of the ramp all the same */
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"mode\": "
             "\"train\", \"segment_length\": 16, \"lower_volume\": true}", dir);
    snprintf(path, sizeof path, "%s/validation_list.txt", dir);
    write_text(path, "");
    ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    bool moved = false;
    for (uint64_t seed = 0; seed < 8; seed++) {
        CHECK_OK(sscma_dataset_window_seeded(ds, 2, seed, w, &label));
        const double step = w[1] - w[0];
        CHECK(step > 0.0);
        for (int i = 1; i < 16; i++)
            CHECK_NEAR(w[i] - w[i - 1], step, 1e-4);
        moved = moved || fabs(w[0] - (-8.0 / 20.0)) > 1e-3;
        float again[16];
        CHECK_OK(sscma_dataset_window_seeded(ds, 2, seed, again, &label));
        CHECK(memcmp(w, again, sizeof w) == 0);
    }
    CHECK(moved);
    sscma_dataset_destroy(ds);
}

static void defects_name_file_and_line(void)
{
    make_tree();
    char path[400], cfg[600];
    sscma_dataset *ds = NULL;
    /* a malformed line and a missing file, in val */
    snprintf(path, sizeof path, "%s/validation_list.txt", root);
    write_text(path, "yes/a_nohash_0.wav\nyes_a_nohash_0.wav\n");
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"mode\": "
             "\"val\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "validation_list.txt: line 2: expected word/file.wav, got 'yes_a_nohash_0.wav'");
    write_text(path, "yes/a_nohash_0.wav\n\nyes/zz_nohash_0.wav\n");
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT,
                "validation_list.txt: line 3: yes/zz_nohash_0.wav: no such file");
    /* with on_defect skip: listed, the entry left out */
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"mode\": "
             "\"val\", \"on_defect\": \"skip\"}", root);
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    int64_t n = 0, problems = 0;
    const char *report = NULL;
    if (ds != NULL) {
        CHECK_OK(sscma_dataset_size(ds, &n));
        CHECK_INT_EQ(n, 1);
        CHECK_OK(sscma_dataset_check(ds, &problems, &report));
        CHECK_INT_EQ(problems, 1);
        CHECK_STR_CONTAINS(report, "line 3: yes/zz_nohash_0.wav: no such file");
    }
    sscma_dataset_destroy(ds);
    ds = NULL;
    /* an undecodable clip */
    write_text(path, "yes/a_nohash_0.wav\n");
    snprintf(path, sizeof path, "%s/yes/a_nohash_0.wav", root);
    write_text(path, "not a wave");
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"mode\": "
             "\"val\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "yes/a_nohash_0.wav: cannot read as audio");
    /* a missing list */
    snprintf(path, sizeof path, "%s/testing_list.txt", root);
    remove(path);
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"]}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_IO, "testing_list.txt");
    /* an empty word folder; a URL; a bad key; a bad mode */
    snprintf(path, sizeof path, "%s/off", root);
    mkdir(path, 0755);
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"off\"]}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "sc/off: no .wav file (words lists 'off')");
    CHECK_FAILS(sscma_dataset_open(ctx, "{\"type\": \"Speechcommand\", \"data_root\": \"http://download.tensorflow."
                                   "org/data/speech_commands_v0.02.tar.gz\"}", &ds), SSCMA_ERR_CONFIG,
                "is a URL: libsscma downloads nothing");
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"mode\": \"eval\"}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, "mode");
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"segment\": 8192}", root);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_CONFIG, "segment");
    /* silence without background files */
    snprintf(path, sizeof path, "%s/shape", tmpdir);
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s/shape\", \"words\": [\"yes\"], "
             "\"silence\": 0.1}", tmpdir);
    CHECK_FAILS(sscma_dataset_open(ctx, cfg, &ds), SSCMA_ERR_FORMAT, "no background clip to cut silence from");
}

/* ---- the loader ---- */

static void next_batch(sscma_loader *l, int64_t epoch, float *x, int32_t *y, int64_t b, int64_t len)
{
    const int64_t dims[4] = {b, 1, len, 1}, yd[1] = {b};
    sscma_tensor *tx = NULL, *ty = NULL;
    CHECK_OK(sscma_tensor_wrap(ctx, SSCMA_DTYPE_F32, 4, dims, x, (size_t)(b * len) * sizeof *x, &tx));
    CHECK_OK(sscma_tensor_wrap(ctx, SSCMA_DTYPE_I32, 1, yd, y, (size_t)b * sizeof *y, &ty));
    int64_t got = 0;
    CHECK_OK(sscma_loader_start_epoch(l, epoch));
    CHECK_OK(sscma_loader_next(l, tx, ty, &got));
    CHECK_INT_EQ(got, b);
    sscma_tensor_destroy(tx);
    sscma_tensor_destroy(ty);
}

static void loader_batches_and_augs(void)
{
    make_tree();
    char cfg[600];
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\", \"no\"], "
             "\"segment_length\": 4096, \"use_background\": true, \"lower_volume\": true, \"unknown\": true, "
             "\"silence\": 0.5}", root);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    const int64_t B = 6, L = 4096;
    sscma_loader *l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 6}", &l));
    int64_t dims[4] = {0};
    CHECK_OK(sscma_loader_batch_shape(l, dims));
    CHECK(dims[0] == 6 && dims[1] == 1 && dims[2] == 4096 && dims[3] == 1);
    float *x0 = malloc((size_t)(B * L) * sizeof *x0), *x1 = malloc((size_t)(B * L) * sizeof *x1);
    int32_t y0[6], y1[6];
    next_batch(l, 0, x0, y0, B, L);
    CHECK(y0[0] == 0 && y0[2] == 1 && y0[4] == 2 && y0[5] == 2);
    sscma_loader_destroy(l);
    /* AudioAugs: the same batches at 0 and 2 workers; another epoch differs */
#define AUGS "{\"batch_size\": 6, \"seed\": 5, \"num_workers\": %d, \"pipeline\": [{\"type\": "       \
             "\"AudioAugs\", \"k_augs\": [\"amp\", \"neg\", \"tshift\", \"tmask\", \"ampsegment\", "        \
             "\"cycshift\", \"awgn\", \"abgn\", \"apgn\", \"argn\", \"avgn\", \"aun\", \"phn\", \"sine\"]}]}"
    char lc[600];
    snprintf(lc, sizeof lc, AUGS, 0);
    l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, lc, &l));
    if (l != NULL) {
        next_batch(l, 0, x0, y0, B, L);
        next_batch(l, 3, x1, y1, B, L);
        CHECK(memcmp(x0, x1, (size_t)(B * L) * sizeof *x0) != 0);
        for (int64_t i = 0; i < B * L; i++)
            if (!isfinite(x0[i])) {
                test_fail(__FILE__, __LINE__, "sample value %lld is not finite", (long long)i);
                break;
            }
    }
    sscma_loader_destroy(l);
    snprintf(lc, sizeof lc, AUGS, 2);
    l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, lc, &l));
    if (l != NULL) {
        next_batch(l, 0, x1, y1, B, L);
        CHECK(memcmp(x0, x1, (size_t)(B * L) * sizeof *x0) == 0 && memcmp(y0, y1, sizeof y0) == 0);
    }
    sscma_loader_destroy(l);
    free(x0);
    free(x1);
    /* refusals: image transforms, an unknown augmentation, a segment_length the FFT cannot take */
    l = NULL;
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"RandomFlip\"}]}", &l), SSCMA_ERR_CONFIG,
                "its pipeline takes only AudioAugs, not image transforms (got RandomFlip)");
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"AudioAugs\", \"k_augs\": [\"amp\", "
                                    "\"flip\"]}]}", &l), SSCMA_ERR_CONFIG, "k_augs[1]");
    sscma_dataset_destroy(ds);
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], "
             "\"segment_length\": 6000}", root);
    ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"AudioAugs\", \"k_augs\": [\"phn\"]}]}",
                                    &l), SSCMA_ERR_CONFIG, "segment_length 6000 is not a power of two");
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"AudioAugs\", \"k_augs\": [\"amp\", "
                                 "\"neg\"]}]}", &l));
    sscma_loader_destroy(l);
    sscma_dataset_destroy(ds);
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\"], \"mode\": "
             "\"val\"}", root);
    ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    l = NULL;
    CHECK_FAILS(sscma_loader_create(ctx, ds, "{\"pipeline\": [{\"type\": \"AudioAugs\"}]}", &l), SSCMA_ERR_CONFIG,
                "AudioAugs augments training clips");
    sscma_dataset_destroy(ds);
}

/* ---- AudioAugs against the goldens ---- */

static golden_file golden;

static const float *rec(const char *name, int64_t numel)
{
    const golden_record *r = golden_find(&golden, name);
    if (r == NULL || r->numel != numel) {
        test_fail(__FILE__, __LINE__, "golden record %s missing or of the wrong size", name);
        return NULL;
    }
    return r->data;
}

/* x (512) against the record `name` */
static void compare(const float *x, const char *name, double rtol)
{
    const golden_record *r = golden_find(&golden, name);
    if (r == NULL) {
        test_fail(__FILE__, __LINE__, "golden record %s missing", name);
        return;
    }
    int64_t where = 0;
    double worst = golden_compare(x, r, rtol, &where);
    if (!(worst <= 1.0))
        test_fail(__FILE__, __LINE__, "%s: element %lld is %.9g, expected %.9g (%.3g x rtol)", name, (long long)where,
                  x[where], ((const float *)r->data)[where], worst);
}

static void augs_against_goldens(void)
{
    if (golden_load(&golden, GOLDEN_DIR "/audio_augs.bin") != 0) {
        test_fail(__FILE__, __LINE__, "cannot read %s/audio_augs.bin", GOLDEN_DIR);
        return;
    }
    enum { N = 512 };
    const float *x0 = rec("x", N), *w = rec("noise/w", N), *u = rec("noise/u", N), *mask = rec("tmask/noise", 100);
    float x[N];
    if (x0 == NULL || w == NULL || u == NULL || mask == NULL)
        goto done;
#define FRESH() memcpy(x, x0, sizeof x)
    FRESH(), sscma_aug_amp(x, N, 0.77), compare(x, "amp", 1e-6);
    FRESH(), sscma_aug_neg(x, N), compare(x, "neg", 0.0);
    for (int i = 0; i < 5; i++) {
        char name[32], pname[40];
        snprintf(name, sizeof name, "tshift%d", i);
        snprintf(pname, sizeof pname, "tshift%d/params", i);
        const float *p = rec(pname, 2);
        if (p == NULL)
            continue;
        FRESH();
        CHECK_OK(sscma_aug_tshift(ctx, x, N, (int64_t)p[0], round((double)p[1] * 100.0) / 100.0));
        compare(x, name, 1e-5);
    }
    FRESH(), sscma_aug_tmask(x, N, 123, 100, mask), compare(x, "tmask", 1e-6);
    FRESH(), sscma_aug_ampsegment(x, N, 57, 100, 1.21), compare(x, "ampsegment", 1e-6);
    FRESH(), CHECK_OK(sscma_aug_cycshift(ctx, x, N, 300)), compare(x, "cycshift", 0.0);
    FRESH(), sscma_aug_awgn(x, N, 30.0, w), compare(x, "awgn", 1e-6);
    FRESH(), sscma_aug_aun(x, N, 30.0, u), compare(x, "aun", 1e-6);
    const char *const colours[4] = {"apgn", "argn", "abgn", "avgn"};
    const double exps[4] = {-0.5, -1.0, 0.5, 1.0};
    for (int i = 0; i < 4; i++) {
        FRESH();
        CHECK_OK(sscma_aug_colored(ctx, x, N, 30.0, exps[i], w));
        compare(x, colours[i], 1e-5);
    }
    for (int i = 0; i < 2; i++) {
        char name[32], pname[40];
        snprintf(name, sizeof name, "sine%d", i);
        snprintf(pname, sizeof pname, "sine%d/params", i);
        const float *p = rec(pname, 2);
        if (p == NULL)
            continue;
        FRESH(), sscma_aug_sine(x, N, 30.0, p[0], p[1], 1000), compare(x, name, 1e-5);
    }
    for (int i = 0; i < 2; i++) {
        char name[32], pname[40], urn[40], uin[40];
        snprintf(name, sizeof name, "phn%d", i);
        snprintf(pname, sizeof pname, "phn%d/params", i);
        snprintf(urn, sizeof urn, "phn%d/ur", i);
        snprintf(uin, sizeof uin, "phn%d/ui", i);
        const float *p = rec(pname, 3);
        if (p == NULL)
            continue;
        const int64_t n_fft = (int64_t)p[0], hop = (int64_t)p[1], frames = 1 + N / hop, bins = n_fft / 2 + 1;
        const float *ur = rec(urn, frames * bins), *ui = rec(uin, frames * bins);
        if (ur == NULL || ui == NULL)
            continue;
        FRESH();
        CHECK_OK(sscma_aug_phn(ctx, x, N, n_fft, hop, p[2], ur, ui));
        compare(x, name, 1e-5);
    }
#undef FRESH
done:
    golden_free(&golden);
}

static void fft_matches_a_dft(void)
{
    enum { N = 64 };
    double re[N], im[N], xr[N], xi[N];
    for (int i = 0; i < N; i++)
        xr[i] = re[i] = sin(0.3 * i) + 0.1 * i, xi[i] = im[i] = cos(1.7 * i);
    sscma_fft(re, im, N, false);
    for (int k = 0; k < N; k++) {
        double sr = 0.0, si = 0.0;
        for (int t = 0; t < N; t++) {
            const double a = -2.0 * SSCMA_FFT_PI * k * t / N;
            sr += xr[t] * cos(a) - xi[t] * sin(a), si += xr[t] * sin(a) + xi[t] * cos(a);
        }
        CHECK_NEAR(re[k], sr, 1e-9);
        CHECK_NEAR(im[k], si, 1e-9);
    }
    sscma_fft(re, im, N, true);
    for (int i = 0; i < N; i++) {
        CHECK_NEAR(re[i], xr[i], 1e-12);
        CHECK_NEAR(im[i], xi[i], 1e-12);
    }
    CHECK(sscma_fft_size_ok(8192) && !sscma_fft_size_ok(8000) && !sscma_fft_size_ok(0));
}

static void augs_call_is_seeded(void)
{
    sscma_audio_augs a;
    json_t *cfg = json_loads("{\"type\": \"AudioAugs\"}", 0, NULL);
    CHECK_OK(sscma_audio_augs_read(cfg, "pipeline[0]", 8000, 8192, &a));
    json_decref(cfg);
    CHECK_INT_EQ(a.n_augs, 14);
    CHECK(a.p == 0.5 && a.snr_db == 30.0 && a.fs == 8000);
    enum { N = 8192 };
    static float x[N], y[N], z[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)(0.5 * sin(0.05 * i) * exp(-((i - 4000.0) * (i - 4000.0)) / 4e6));
    memcpy(y, x, sizeof x);
    memcpy(z, x, sizeof x);
    CHECK_OK(sscma_audio_augs_apply(ctx, &a, y, N, 11, 3));
    CHECK_OK(sscma_audio_augs_apply(ctx, &a, z, N, 11, 3));
    CHECK(memcmp(y, z, sizeof y) == 0);
    /* over many samples every augmentation changes something, and p = 0 changes nothing */
    int changed = 0;
    for (uint64_t s = 0; s < 16; s++) {
        memcpy(z, x, sizeof x);
        CHECK_OK(sscma_audio_augs_apply(ctx, &a, z, N, 11, s));
        changed += memcmp(z, x, sizeof x) != 0;
    }
    CHECK(changed >= 14);
    a.p = 0.0;
    memcpy(z, x, sizeof x);
    CHECK_OK(sscma_audio_augs_apply(ctx, &a, z, N, 11, 3));
    CHECK(memcmp(z, x, sizeof x) == 0);
    /* config errors: a name listed twice, fs without STFT sizes for phn */
    cfg = json_loads("{\"k_augs\": [\"amp\", \"amp\"]}", 0, NULL);
    CHECK_FAILS(sscma_audio_augs_read(cfg, "pipeline[0]", 8000, 8192, &a), SSCMA_ERR_CONFIG, "'amp' is listed twice");
    json_decref(cfg);
    cfg = json_loads("{\"k_augs\": [\"phn\"], \"fs\": 12000}", 0, NULL);
    CHECK_FAILS(sscma_audio_augs_read(cfg, "pipeline[0]", 8000, 8192, &a), SSCMA_ERR_CONFIG,
                "phn: fs 12000 Hz has no STFT sizes");
    json_decref(cfg);
}

/* ---- tools/gen_kws.py's set (espeak-ng), small ---- */

static int64_t dataset_size(const char *cfg)
{
    sscma_dataset *ds = NULL;
    int64_t n = -1;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds != NULL)
        CHECK_OK(sscma_dataset_size(ds, &n));
    sscma_dataset_destroy(ds);
    return n;
}

/*
 * sscma dataset compose of a Speechcommand set: a new Speech Commands layout (class folders of 16-bit WAVs, the two
 * lists) that Speechcommand reads back: 6 training, 2 validation and 2 test clips, each equal to a source clip of the
 * same class (within the 16-bit rounding, after the reader's peak normalisation); the same seed gives the same bytes;
 * a class outside the source is named in the error.
 */
static void compose_writes_speech_commands(void)
{
    sscma_dataset *src = open_sc("");
    char out[2][200], cfg[600];
    for (int run = 0; run < 2; run++) {
        snprintf(out[run], sizeof out[run], "%s/composed%d", tmpdir, run);
        snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s\", \"splits\": {\"train\": 6, \"valid\": 2, \"test\": 2}, "
                 "\"seed\": 5}", out[run]);
        CHECK_OK(sscma_compose_detection(src, cfg));
    }
    int64_t src_n = 0;
    CHECK_OK(sscma_dataset_size(src, &src_n));
    float *a = malloc(8192 * sizeof *a), *b = malloc(8192 * sizeof *b);
    static const char *const modes[3] = {"train", "val", "test"};
    const int64_t want[3] = {6, 2, 2};
    for (int m = 0; m < 3; m++) {
        char c2[600];
        snprintf(c2, sizeof c2, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": [\"yes\", \"no\"], "
                 "\"segment_length\": 8192, \"mode\": \"%s\"}", out[0], modes[m]);
        sscma_dataset *ds = NULL;
        CHECK_OK(sscma_dataset_open(ctx, c2, &ds));
        int64_t n = 0;
        CHECK_OK(sscma_dataset_size(ds, &n));
        CHECK_INT_EQ(n, want[m]);
        for (int64_t i = 0; ds != NULL && i < n; i++) { /* some source clip of the same class matches */
            int32_t la = -1, lb = -1;
            CHECK_OK(sscma_dataset_window(ds, i, a, &la));
            bool found = false;
            for (int64_t j = 0; j < src_n && !found; j++) {
                CHECK_OK(sscma_dataset_window(src, j, b, &lb));
                double worst = 0.0;
                for (int64_t t = 0; t < 8192; t++)
                    worst = fmax(worst, fabs((double)a[t] - (double)b[t]));
                found = la == lb && worst < 1e-4;
            }
            CHECK(found);
        }
        sscma_dataset_destroy(ds);
    }
    static const char *const same[] = {"validation_list.txt", "testing_list.txt", "yes", "no"};
    for (int k = 0; k < 2; k++) {
        char p0[300], p1[300];
        size_t s0 = 0, s1 = 0;
        snprintf(p0, sizeof p0, "%s/%s", out[0], same[k]);
        snprintf(p1, sizeof p1, "%s/%s", out[1], same[k]);
        char *x = read_all(p0, &s0), *y = read_all(p1, &s1);
        CHECK(x != NULL && y != NULL && s0 == s1 && memcmp(x, y, s0) == 0 && s0 > 0);
        free(x);
        free(y);
    }
    snprintf(cfg, sizeof cfg, "{\"out_dir\": \"%s/bad\", \"classes\": [0, 7]}", tmpdir);
    CHECK_FAILS(sscma_compose_detection(src, cfg), SSCMA_ERR_CONFIG, "classes[1]: expected a class index of the source 0..1, got 7");
    free(a);
    free(b);
    sscma_dataset_destroy(src);
}

static void espeak_set_opens(void)
{
    if (system("command -v espeak-ng >/dev/null 2>&1 && /usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
        printf("# SKIP espeak_set_opens: espeak-ng or /usr/bin/python3 with numpy not found\n");
        return;
    }
    char dir[200], cmd[600];
    snprintf(dir, sizeof dir, "%s/kws", tmpdir);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/../tools/gen_kws.py %s --per-word 5 --speakers 30 2>/dev/null",
             CONFIGS_DIR, dir);
    CHECK_INT_EQ(system(cmd), 0);
    /* 10 keywords x 5 and 8 other words x 2 = 66 clips, each in exactly one split */
    const char *words = "[\"yes\", \"no\", \"up\", \"down\", \"left\", \"right\", \"on\", \"off\", \"stop\", \"go\"]";
    char cfg[800];
    int64_t total = 0, per_mode[3];
    const char *const modes[3] = {"train", "val", "test"};
    for (int m = 0; m < 3; m++) {
        snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": %s, \"unknown\": true, "
                 "\"mode\": \"%s\"}", dir, words, modes[m]);
        per_mode[m] = dataset_size(cfg);
        total += per_mode[m];
    }
    CHECK_INT_EQ(total, 66);
    CHECK(per_mode[1] > 0 && per_mode[2] > 0 && per_mode[0] > per_mode[1]);
    /* a speaker (the hash) is in one list only, never in training too */
    char path[300];
    snprintf(path, sizeof path, "%s/validation_list.txt", dir);
    size_t size = 0;
    char *val = read_all(path, &size);
    snprintf(path, sizeof path, "%s/testing_list.txt", dir);
    char *test = read_all(path, &size);
    for (char *line = test; line != NULL && *line != '\0';) {
        char *slash = strchr(line, '/'), hash[16] = "";
        if (slash != NULL)
            snprintf(hash, sizeof hash, "/%.8s_", slash + 1);
        CHECK(slash != NULL && val != NULL && strstr(val, hash) == NULL);
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    free(val);
    free(test);
    /* the training split through the loader: 12 classes (10 words, _silence_, _unknown_), finite windows of peak 1, AudioAugs applied */
    snprintf(cfg, sizeof cfg, "{\"type\": \"Speechcommand\", \"root\": \"%s\", \"words\": %s, \"unknown\": true, "
             "\"silence\": 0.1, \"use_background\": true, \"lower_volume\": true}", dir, words);
    sscma_dataset *ds = NULL;
    CHECK_OK(sscma_dataset_open(ctx, cfg, &ds));
    if (ds == NULL)
        return;
    int32_t k = 0;
    CHECK_OK(sscma_dataset_num_classes(ds, &k));
    CHECK_INT_EQ(k, 12);
    int64_t n = 0;
    CHECK_OK(sscma_dataset_size(ds, &n));
    CHECK_INT_EQ(n, per_mode[0] + (int64_t)llround(0.1 * (double)per_mode[0]));
    static float w[8192];
    for (int64_t i = 0; i < n; i++) {
        int32_t label = -1;
        CHECK_OK(sscma_dataset_window(ds, i, w, &label));
        float peak = 0.0f;
        for (int t = 0; t < 8192; t++)
            peak = isfinite(w[t]) && fabsf(w[t]) > peak ? fabsf(w[t]) : isfinite(w[t]) ? peak : 99.0f;
        CHECK_NEAR(peak, 1.0, 1e-5);
        CHECK(label >= 0 && label < 12);
    }
    sscma_loader *l = NULL;
    CHECK_OK(sscma_loader_create(ctx, ds, "{\"batch_size\": 8, \"shuffle\": true, \"num_workers\": 2, \"pipeline\": "
                                 "[{\"type\": \"AudioAugs\"}]}", &l));
    if (l != NULL) {
        float *x = malloc(8 * 8192 * sizeof *x);
        int32_t y[8];
        next_batch(l, 1, x, y, 8, 8192);
        for (int i = 0; i < 8; i++)
            CHECK(y[i] >= 0 && y[i] < 12);
        free(x);
    }
    sscma_loader_destroy(l);
    sscma_dataset_destroy(ds);
}

int main(int argc, char **argv)
{
    static const test_case cases[] = {
        TEST_CASE(wav_widths_float_stereo),
        TEST_CASE(clip_read_as_a_validation_clip),
        TEST_CASE(resampling_keeps_length_and_pitch),
        TEST_CASE(splits_from_the_lists),
        TEST_CASE(clips_shaped_as_sscma),
        TEST_CASE(defects_name_file_and_line),
        TEST_CASE(loader_batches_and_augs),
        TEST_CASE(fft_matches_a_dft),
        TEST_CASE(augs_against_goldens),
        TEST_CASE(augs_call_is_seeded),
        TEST_CASE(compose_writes_speech_commands),
        TEST_CASE(espeak_set_opens),
    };
    if (sscma_context_create(NULL, &ctx) != SSCMA_OK || fixture_tmpdir_make(tmpdir, sizeof tmpdir, "sscma-audio") != 0)
        return 1;
    int rc = test_main(argc, argv, cases, TEST_COUNT(cases));
    fixture_tmpdir_remove(tmpdir);
    sscma_context_destroy(ctx);
    return rc;
}
