#!/usr/bin/env python3
"""Golden values for SensorDataset's "features": {"type": "Spectrum"} (libsscma's per-axis DFT magnitudes), from numpy.

Per axis of a window x (float32 values, computed in float64): v = x - mean(x) when demean, v *= numpy.hanning(n) when
hann, |numpy.fft.rfft(v)|, numpy.log1p of it when log; then, with moments, mean(x) and numpy.std(x) (population).

Writes tests/golden/sensor_spectrum.bin:
  ss/rows62, ss/rows64, ss/rows30   f32 [n, 3]: three recordings (a sine per axis at a random phase, noise, an offset)
  ss/all<n>                         f32 [3, n / 2 + 3]: the defaults (log, demean, hann, moments), channel-major
  ss/bare<n>                        f32 [3, n / 2 + 1]: log, demean, hann and moments all false (plain |rfft|)

62 and 30 steps go through libsscma's direct DFT, 64 through its radix-2 FFT.

Run: /usr/bin/python3 tests/golden/gen_sensor_spectrum.py (numpy only).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import write_golden  # noqa: E402


def spectrum(rows, log=True, demean=True, hann=True, moments=True):
    out = []
    for a in range(rows.shape[1]):
        x = rows[:, a].astype(np.float64)
        v = x - x.mean() if demean else x.copy()
        if hann:
            v = v * np.hanning(len(v))
        m = np.abs(np.fft.rfft(v))
        if log:
            m = np.log1p(m)
        if moments:
            m = np.concatenate([m, [x.mean(), x.std()]])
        out.append(m)
    return np.stack(out).astype(np.float32)


def main():
    rng = np.random.default_rng(2113)
    records = []
    for n in (62, 64, 30):
        t = np.arange(n)[:, None]
        phase = rng.uniform(0, 2 * np.pi, (1, 3))
        r = np.sin(t * np.array([[0.9, 0.4, 1.7]]) + phase) * np.array([[3.0, 7.0, 1.5]])
        r = (r + 0.3 * rng.standard_normal((n, 3)) + np.array([[0.2, -1.0, 9.8]])).astype(np.float32)
        records.append((f"ss/rows{n}", r))
        records.append((f"ss/all{n}", spectrum(r)))
        records.append((f"ss/bare{n}", spectrum(r, log=False, demean=False, hann=False, moments=False)))
    write_golden(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sensor_spectrum.bin"), records)


if __name__ == "__main__":
    main()
