/*
 * Audio internals of the data module: WAV reading (libsndfile) with resampling (libsamplerate), and SSCMA's
 * per-sample AudioAugs. The Speechcommand dataset (audio.c) and the loader use them; tests reach them directly.
 */
#ifndef SSCMA_LIB_DATA_AUDIO_H
#define SSCMA_LIB_DATA_AUDIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"
#include "data/data.h"

/* Longest audio file read, in frames (about 35 minutes at 16 kHz): a header claiming more is refused. */
#define SSCMA_AUDIO_MAX_FRAMES ((int64_t)1 << 25)

/*
 * Reads an audio file (WAV and whatever else libsndfile reads: PCM 8/16/24/32, float, any channel count, any rate)
 * as floats in [-1, 1] (libsndfile's normalisation: PCM / 2^(bits-1)), channels averaged to mono, resampled to
 * `rate` Hz (0 = as stored) with libsamplerate's SRC_SINC_MEDIUM_QUALITY. *samples is a block of ctx (sscma_mfree),
 * *count its length; *file_rate the file's rate. Errors name the file.
 */
sscma_status sscma_audio_read(const sscma_context *ctx, const char *path, int64_t rate, float **samples,
                              int64_t *count, int64_t *file_rate);

/* ---- AudioAugs ---- */

/* The 14 augmentations of SSCMA's AudioAugs, in the order of its recipe. */
typedef enum audio_aug_kind {
    AUG_AMP, AUG_NEG, AUG_TSHIFT, AUG_TMASK, AUG_AMPSEGMENT, AUG_CYCSHIFT,
    AUG_AWGN, AUG_ABGN, AUG_APGN, AUG_ARGN, AUG_AVGN, AUG_AUN, AUG_PHN, AUG_SINE,
    AUG_COUNT
} audio_aug_kind;

/* Name of a kind ("amp", ...). */
const char *sscma_audio_aug_name(audio_aug_kind kind);
/* Whether the kind is one of SSCMA's noise_vec (one of them is applied per call). */
bool sscma_audio_aug_is_noise(audio_aug_kind kind);

typedef struct sscma_audio_augs {
    audio_aug_kind augs[AUG_COUNT]; /* k_augs, in the config's order */
    int32_t n_augs;
    double p, snr_db;
    int64_t fs; /* the rate that the durations (0.1 s) and the sine's frequency are computed for */
} sscma_audio_augs;

/*
 * Reads {"type": "AudioAugs", "k_augs": [...], "p": 0.5, "snr_db": 30, "fs": rate} (k_augs default: all 14; fs
 * default: default_fs, the dataset's sampling_rate). `where` names the entry in messages. Checks that `length`
 * samples suit the augmentations (a power of two for those that use the FFT, longer than the 0.1 s segments).
 */
sscma_status sscma_audio_augs_read(json_t *config, const char *where, int64_t default_fs, int64_t length,
                                   sscma_audio_augs *out);

/*
 * Applies AudioAugs to x (n floats) in place: the signal augmentations shuffled, then one noise augmentation chosen
 * uniformly, each firing with probability p. Every draw comes from (seed, sample): the same pair gives the same
 * result on any thread.
 */
sscma_status sscma_audio_augs_apply(const sscma_context *ctx, const sscma_audio_augs *a, float *x, int64_t n,
                                    uint64_t seed, uint64_t sample);

/*
 * The deterministic cores, given their draws (tests compare them against numpy/torch with injected draws).
 * Arrays of n unless stated; s = sqrt(mean(x^2)) is computed inside where SSCMA computes it.
 */
void sscma_aug_amp(float *x, int64_t n, double gain);
void sscma_aug_neg(float *x, int64_t n);
/* int_d samples of delay (negative: advance), then a fractional delay frac_d through the FFT (n a power of two) */
sscma_status sscma_aug_tshift(const sscma_context *ctx, float *x, int64_t n, int64_t int_d, double frac_d);
/* x[start, start + len) = 1e-6 * noise[0, len) */
void sscma_aug_tmask(float *x, int64_t n, int64_t start, int64_t len, const float *noise);
/* x[start, start + len) *= gain (clipped to n) */
void sscma_aug_ampsegment(float *x, int64_t n, int64_t start, int64_t len, double gain);
/* circular right shift by d */
sscma_status sscma_aug_cycshift(const sscma_context *ctx, float *x, int64_t n, int64_t d);
/* x += s 10^(-snr/20) w (w: standard normal draws) */
void sscma_aug_awgn(float *x, int64_t n, double snr_db, const float *w);
/* x += u 2 sgm - sgm, sgm = s 10^(-snr/20) sqrt(3) (u: uniform [0, 1) draws) */
void sscma_aug_aun(float *x, int64_t n, double snr_db, const float *u);
/* coloured noise from white draws w: bins 0..n/2 of FFT(w) times (k+1)^exponent (pink -1/2, red -1, blue 1/2,
 * violet 1), Hermitian, real part of the IFFT, (w + mean) / std (unbiased; SSCMA's sign), x += s 10^(-snr/20) w */
sscma_status sscma_aug_colored(const sscma_context *ctx, float *x, int64_t n, double snr_db, double exponent,
                               const float *w);
/* x += s sqrt(2) 10^(-snr/20) sin(2 pi f t / fs + phase) */
void sscma_aug_sine(float *x, int64_t n, double snr_db, double f, double phase, int64_t fs);
/*
 * STFT (rectangular window of n_fft, hop, centre with reflect padding, onesided), every bin times
 * exp(i sg (ur + i ui)), ISTFT as torch.istft with the same window, length n. ur and ui: frames * (n_fft / 2 + 1)
 * uniform draws each, frame-major (frames = 1 + n / hop). n_fft a power of two, n > n_fft / 2.
 */
sscma_status sscma_aug_phn(const sscma_context *ctx, float *x, int64_t n, int64_t n_fft, int64_t hop, double sg,
                           const float *ur, const float *ui);


/* ---- Speechcommand ---- */

/* A Speechcommand dataset's state (sscma_dataset.audio): the clips are decoded when a window is read. */
typedef struct sscma_audio_set {
    int64_t rate, length; /* sampling_rate, segment_length */
    bool train, lower_volume, use_background;
    /* samples with a NULL path are _silence_: segment_length samples of background file silence_file[i] from
     * silence_offset[i] */
    int32_t *silence_file;
    int64_t *silence_offset;
    /* the _background_noise_ files, decoded at `rate`; mix[i]: in the training mix pool (name without "noise") */
    int32_t n_background;
    float **background;
    int64_t *background_len;
    bool *mix;
    int32_t n_mix;
} sscma_audio_set;

/*
 * Window `index` (after indices) of a Speechcommand: the clip decoded and shaped (random: the training draws of the
 * crop and the background mix, from (seed, index)); its class in *label.
 */
sscma_status sscma_audio_window(const sscma_dataset *ds, int64_t index, bool random, uint64_t seed, float *out,
                                int32_t *label);

/*
 * One audio file as a Speechcommand val/test window (what `sscma infer` and sscma_predict take): read, resampled to
 * rate, lower_volume, peak-normalised, centre-cropped or zero-padded behind to length floats in out.
 */
sscma_status sscma_audio_file_window(const sscma_context *ctx, const char *path, int64_t rate, int64_t length,
                                     bool lower_volume, float *out);

/* Frees ds->audio (dataset.c's destroy). */
void sscma_audio_set_free(sscma_dataset *ds);

#endif /* SSCMA_LIB_DATA_AUDIO_H */
