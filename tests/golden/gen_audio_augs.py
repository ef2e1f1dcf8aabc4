#!/usr/bin/python3
"""Golden values for AudioAugs' deterministic cores (lib/data/audio_augs.c), with their random draws fixed.

Each augmentation of SSCMA's sscma/datasets/pipelines/audio_augs.py is restated here in torch (float64) from its
formula, given the values it would draw: the C side is handed the same draws (stored in the file) and must give the
same output. phn goes through torch.stft / torch.istft themselves (rectangular window, centre, reflect padding), as
SSCMA calls them. Signal: 512 samples (a power of two, as the FFT-based augmentations need), fs 1000 Hz for the
sine. Seed 2113.

Writes tests/golden/audio_augs.bin. Run: /usr/bin/python3 tests/golden/gen_audio_augs.py
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import write_golden  # noqa: E402

torch.set_default_dtype(torch.float64)
N = 512
SNR = 30.0
records = []


def add(name, a):
    records.append((name, np.asarray(a, dtype=np.float32)))


def rms(x):
    return torch.sqrt(torch.mean(x ** 2))


def tshift(x, int_d, frac_d):
    """RandomTimeShift after its draws: integer shift with zeros, then the FFT fractional delay."""
    x = x.clone()
    if int_d + frac_d == 0:
        return x
    if int_d > 0:
        x = torch.cat((torch.zeros(int_d), x[:-int_d]))
    elif int_d < 0:
        x = torch.cat((x[-int_d:], torch.zeros(-int_d)))
    if frac_d == 0:
        return x
    n = x.shape[-1]
    k = torch.arange(n, dtype=torch.float64)
    w = 2 * math.pi * torch.where(k < n // 2, k, k - n) / n  # wp = 0..pi-dw, wn = -pi..-dw
    return torch.fft.ifft(torch.fft.fft(x) * torch.exp(-1j * frac_d * w)).real


def colored(x, w, exponent):
    """RandomAdditive{Pink,Red,Blue,Violet}GN after drawing w: bin i times (i+1)^a, Hermitian, (w + mean) / std."""
    n = x.shape[-1]
    nn = n // 2 + 1
    k = torch.arange(1, nn + 1, dtype=torch.float64)
    W = torch.fft.fft(w)[:nn] * k ** exponent
    W = torch.cat((W, W.flip(dims=(-1,))[1:-1].conj()))
    c = torch.fft.ifft(W).real
    c = (c + c.mean()) / c.std()
    return x + c * rms(x) * 10 ** (-SNR / 20)


def phn(x, n_fft, hop, sg, ur, ui):
    """RandomPhNoise after its draws: X *= exp(1j * sg * (ur + 1j * ui)), torch's STFT/ISTFT (rectangular)."""
    X = torch.stft(x, n_fft=n_fft, hop_length=hop, win_length=n_fft, return_complex=True)
    X = X * torch.exp(1j * sg * torch.complex(ur, ui))
    return torch.istft(X, n_fft=n_fft, hop_length=hop, win_length=n_fft, length=x.shape[-1])


def main():
    rng = np.random.default_rng(2113)
    t = np.arange(N)
    x0 = 0.6 * np.sin(2 * np.pi * 13 * t / N) + 0.3 * np.sin(2 * np.pi * 77 * t / N + 0.4) + 0.1 * rng.standard_normal(N)
    x0 = torch.from_numpy(x0.astype(np.float32).astype(np.float64))
    add("x", x0)
    add("amp", x0 * 0.77)
    add("neg", -x0)
    for i, (int_d, frac_d) in enumerate([(40, 0.23), (-36, -0.41), (0, 0.5), (12, 0.0), (-100, 0.07)]):
        add(f"tshift{i}/params", [int_d, frac_d])
        add(f"tshift{i}", tshift(x0, int_d, frac_d))
    noise = torch.from_numpy(rng.standard_normal(100).astype(np.float32).astype(np.float64))
    add("tmask/noise", noise)
    y = x0.clone()
    y[123:223] = noise * 1e-6
    add("tmask", y)
    y = x0.clone()
    y[57:157] *= 1.21
    add("ampsegment", y)
    add("cycshift", torch.cat((x0[-300:], x0[:-300])))
    w = torch.from_numpy(rng.standard_normal(N).astype(np.float32).astype(np.float64))
    u = torch.from_numpy(rng.random(N).astype(np.float32).astype(np.float64))
    add("noise/w", w)
    add("noise/u", u)
    add("awgn", x0 + w * rms(x0) * 10 ** (-SNR / 20))
    sgm = rms(x0) * 10 ** (-SNR / 20) * math.sqrt(3)
    add("aun", x0 + (u * 2 * sgm - sgm))
    for name, a in [("apgn", -0.5), ("argn", -1.0), ("abgn", 0.5), ("avgn", 1.0)]:
        add(name, colored(x0, w, a))
    for i, (f, phase) in enumerate([(37.3, 1.1), (-2.7, 2.9)]):
        add(f"sine{i}/params", [f, phase])
        b = rms(x0) * math.sqrt(2) * 10 ** (-SNR / 20) * torch.sin(2 * math.pi * f * torch.arange(N) / 1000 + phase)
        add(f"sine{i}", x0 + b)
    for i, (n_fft, hop) in enumerate([(128, 32), (256, 64)]):
        frames, bins = 1 + N // hop, n_fft // 2 + 1
        ur = torch.from_numpy(rng.random((frames, bins)).astype(np.float32).astype(np.float64))
        ui = torch.from_numpy(rng.random((frames, bins)).astype(np.float32).astype(np.float64))
        sg = 0.0137
        add(f"phn{i}/params", [n_fft, hop, sg])
        add(f"phn{i}/ur", ur)
        add(f"phn{i}/ui", ui)
        add(f"phn{i}", phn(x0, n_fft, hop, sg, ur.T, ui.T))  # torch's layout: [bins, frames]
    write_golden(os.path.join(os.path.dirname(os.path.abspath(__file__)), "audio_augs.bin"), records)


if __name__ == "__main__":
    main()
