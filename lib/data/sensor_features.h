/*
 * SensorDataset's "features" option, one of two types:
 *
 * "CwtMtf": SSCMA's accelerometer feature builder (ModelAssistant main, tools/dataset_tool/signal_data_processing.py)
 * as a dataset step. Per window and per axis: a Morlet CWT image (pywt.cwt, method "conv") resized bilinearly to
 * size x size, and a Markov Transition Field of the FIR low-passed, PAA-reduced series. A window of A axes becomes
 * size x size x 2A floats (channels 0..A-1 the CWT images, A..2A-1 the MTFs), stored channel-major like every window.
 *
 * "Spectrum" (a libsscma extension): per window and per axis, the magnitudes of the real DFT (numpy.fft.rfft) of the
 * axis' window, mean removed first (demean) and Hann-windowed (numpy.hanning) when asked, log(1 + |X_k|) when log;
 * then, with moments, the axis' mean and (population) std over the window. A window of A axes and n steps becomes A
 * channels of n / 2 + 1 (+ 2) values: phase-invariant features of a periodic motion.
 */
#ifndef SSCMA_LIB_DATA_SENSOR_FEATURES_H
#define SSCMA_LIB_DATA_SENSOR_FEATURES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/internal.h"

/* The "features" object, with upstream's defaults. mean/std are NaN when absent (computed from the training split). */
typedef struct sensor_features_cfg {
    const char *type;
    int32_t scales[2], n_scales;   /* CWT scales first..last, step 1 (upstream: np.arange(10, 26)) */
    int64_t size, mtf_bins, fir_taps, cwt_precision;
    double cutoff, sample_rate, quantize, mean, std;
    const char *stats_prefix;
    bool spectrum;                  /* type "Spectrum"; the rest of the keys are CwtMtf's */
    bool log, demean, hann, moments; /* Spectrum's */
} sensor_features_cfg;

/* The values one window of `len` steps and `axes` axes becomes: channels x len_out (channel-major). */
void sscma_sensor_features_shape(const sensor_features_cfg *cfg, int64_t len, int64_t axes, int64_t *channels,
                                 int64_t *len_out);

/* Reads `node` (the dataset's "features") at "<where>: features". Errors name the key. */
sscma_status sscma_sensor_features_read(json_t *node, const char *where, sensor_features_cfg *out);

/* The precomputed parts for windows of `len` steps: FIR taps, the integrated wavelet, the resize weights (CwtMtf);
 * the DFT's cosine and sine table and the Hann window (Spectrum). Errors: SSCMA_ERR_CONFIG (work out of bounds). */
typedef struct sensor_features_plan sensor_features_plan;

sscma_status sscma_sensor_features_plan(const sscma_context *ctx, const sensor_features_cfg *cfg, int64_t len,
                                        sensor_features_plan **out);
void sscma_sensor_features_plan_free(const sscma_context *ctx, sensor_features_plan *plan);

/* upstream's preprocess: floor(v * quantize) / quantize in float32 (quantize 0: v), then (v - mean) / std. */
float sscma_sensor_features_scale(const sensor_features_cfg *cfg, float v);

/*
 * One window: in axis-major (axes x len; CwtMtf: already quantised and standardised) into out, channel-major as
 * sscma_sensor_features_shape says (CwtMtf: 2 * axes x size * size, each image row-major).
 * Errors: SSCMA_ERR_OUT_OF_MEMORY (scratch).
 */
sscma_status sscma_sensor_features_window(const sscma_context *ctx, const sensor_features_plan *plan, const float *in,
                                          int32_t axes, float *out);

#endif /* SSCMA_LIB_DATA_SENSOR_FEATURES_H */
