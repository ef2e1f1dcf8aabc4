#!/usr/bin/env python3
"""Golden images for SensorDataset's "features" (SSCMA's CWT + MTF accelerometer builder), from the reference libraries.

The expected images follow ModelAssistant main's tools/dataset_tool/signal_data_processing.py step by step, calling
the libraries it calls: numpy (quantise, standardise, PAA, the Markov Transition Field), PyWavelets
(pywt.cwt(..., "morl", method="conv")), scipy.signal (firwin + lfilter) and OpenCV (cv2.resize INTER_LINEAR). The
series are float32, as upstream's (its CSV values go through astype("float32")), so pywt integrates and convolves
in float32.

Writes tests/golden/sensor_features.bin:
  sf/rows0, sf/rows1, sf/rows2   f32 [n, 3]: three recordings of 62, 64 and 80 rows (axis z of rows2 constant)
  sf/stats                       f32 [2]: mean and std (population) of every raw value of the three, pooled
  sf/feat0, sf/feat1, sf/feat2   f32 [32, 32, 6]: each recording as one window, standardised with sf/stats, NHWC
                                 (channels 0..2 the CWT images of x, y, z; 3..5 their MTFs)
  sf/feat0_p10                   the same as feat0 with pywt's precision 10 (pywt < 1.5's fixed value)
  sf/cwt_f32_noise               f32 [1]: the largest |CWT image(float32 series) - CWT image(float64 series)| over
                                 the four, relative to the image's RMS: pywt's own float32 rounding, the scale of
                                 the tolerance in test_data_sensor.c

Run: ~/.cache/libsscma/venv/bin/python tests/golden/gen_sensor_features.py (needs PyWavelets, scipy, opencv).
"""
import os
import sys

import cv2
import numpy as np
import pywt
from scipy.signal import firwin, lfilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import write_golden  # noqa: E402


def paa(series, segments):
    n = len(series)
    if n % segments == 0:
        return series.reshape(segments, n // segments).mean(axis=1)
    out = np.zeros(segments)
    for i in range(segments):
        out[i] = series[i * n // segments:(i + 1) * n // segments].mean()
    return out


def mtf(series, bins=64):
    lo, hi = series.min(), series.max()
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = (series - lo) / (hi - lo)
    digit = np.digitize(norm, np.linspace(0, 1, bins))
    digit[digit == bins] = bins - 1
    counts = np.zeros((bins, bins))
    for i, j in zip(digit[:-1], digit[1:]):
        counts[i - 1, j - 1] += 1
    sums = counts.sum(axis=1, keepdims=True)
    sums[sums == 0] = 1
    counts = counts / sums
    return counts[np.ix_(digit - 1, digit - 1)].astype(np.float32)


def cwt_image(series, precision):
    coef, _ = pywt.cwt(series, np.arange(10, 26), "morl", method="conv", precision=precision)
    return cv2.resize(coef, (32, 32), interpolation=cv2.INTER_LINEAR)


def features(rows, mean, std, precision=12, dtype=np.float32):
    data = np.floor(rows.astype(np.float32) * 5.12) / 5.12  # upstream's preprocess, float32
    data = ((data.astype(np.float32) - mean) / std).astype(dtype)
    taps = firwin(200, 90.0 / (115200 / 2.0))
    x, c = [], []
    for a in range(3):
        series = data[:, a]
        c.append(mtf(paa(lfilter(taps, 1.0, series), 32)))
        x.append(cwt_image(series, precision))
    return np.concatenate([np.stack(x), np.stack(c)]).transpose(1, 2, 0).astype(np.float32)


def main():
    rng = np.random.default_rng(2112)
    rows = []
    for n in (62, 64, 80):
        t = np.arange(n)[:, None]
        r = np.sin(t * np.array([[0.3, 0.11, 0.05]])) * np.array([[4.0, 9.0, 2.5]]) + rng.standard_normal((n, 3))
        rows.append((r + np.array([[0.5, -1.0, 9.8]])).astype(np.float32))
    rows[2][:, 2] = 9.8
    pooled = np.concatenate([r.reshape(-1) for r in rows]).astype(np.float64)
    mean, std = np.float32(pooled.mean()), np.float32(pooled.std())
    records = [(f"sf/rows{k}", r) for k, r in enumerate(rows)]
    records.append(("sf/stats", np.array([mean, std], dtype=np.float32)))
    noise = 0.0
    for k, r in enumerate(rows):
        f = features(r, mean, std)
        records.append((f"sf/feat{k}", f))
        f64 = features(r, mean, std, dtype=np.float64)
        rms = np.sqrt((f[..., :3] ** 2).mean())
        noise = max(noise, np.abs(f[..., :3] - f64[..., :3]).max() / rms)
    f10 = features(rows[0], mean, std, precision=10)
    records.append(("sf/feat0_p10", f10))
    records.append(("sf/cwt_f32_noise", np.array([noise], dtype=np.float32)))
    print(f"pywt float32 vs float64 CWT images: max |diff| / rms = {noise:.3g}")
    write_golden(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sensor_features.bin"), records)


if __name__ == "__main__":
    main()
