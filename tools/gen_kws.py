#!/usr/bin/env python3
"""Synthetic keyword-spotting data in Speech Commands' layout, spoken by espeak-ng (numpy only; seeded, default
seed 2113). No download: everything is synthesised here.

Keywords (SSCMA's 10 commands): yes no up down left right on off stop go. "Unknown" words (other folders, for the
Speechcommand dataset's `unknown` class): bed bird cat dog house tree wow zero, half as many clips each.

Speakers: SPEAKERS speaker identities, each an espeak-ng voice (en, en-us, en-gb, en-gb-scotland, en-gb-x-rp,
en-029) with a variant (m1..m7, f1..f5, and a few named ones), a base pitch (25..75) and a base speed (120..190
words per minute). Each utterance varies its speaker's pitch by +-8 and speed by +-15, is resampled from espeak's
22050 Hz to 8 kHz (windowed sinc, cutoff 3.6 kHz), trimmed of silence, given a gain (0.25..0.9) and a random place in
a 1 s clip, and mixed with background (pink, brown or white noise, mains hum with harmonics, clicks, a fan) at a
random SNR of 8..30 dB.

Layout (OUT): <word>/<hash>_nohash_<n>.wav (8 kHz, 16-bit mono; <hash> the speaker's id, <n> its utterance of that
word), _background_noise_/{white_noise,pink_noise,brown_noise,hum,clicks,fan}.wav (10 s each),
validation_list.txt and testing_list.txt. As in Speech Commands, a speaker's clips all fall in one split, chosen
from a hash of the speaker id (about 10 % of the speakers validation, 10 % testing); of each word's n clips,
max(1, round(n / 10)) go to validation speakers and as many to testing speakers (none below 3 clips), the rest to
training speakers.

  gen_kws.py OUT [--per-word N] [--seed S] [--speakers K]    (N clips per keyword, default 160)
"""
import argparse
import hashlib
import io
import os
import subprocess
import sys
import time
import wave

import numpy as np

RATE = 8000
KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN = ("bed", "bird", "cat", "dog", "house", "tree", "wow", "zero")
VOICES = ("en", "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "Alex", "Andrea", "belinda",
            "david", "edward", "linda", "max", "paul")


def resample(x, rate_in):
    """Windowed-sinc resampling of x from rate_in to RATE (cutoff 3.6 kHz, Hann window of +-24 input samples)."""
    n_out = int(np.ceil(len(x) * RATE / rate_in))
    pos = np.arange(n_out) * (rate_in / RATE)
    fc = 3600.0 / rate_in
    half = 24
    base = np.floor(pos).astype(np.int64)
    taps = np.arange(-half + 1, half + 1)
    idx = base[:, None] + taps[None, :]
    d = pos[:, None] - idx
    h = 2 * fc * np.sinc(2 * fc * d) * (0.5 + 0.5 * np.cos(np.pi * d / half))
    xp = np.concatenate([np.zeros(half), x, np.zeros(half + 1)])
    return (xp[idx + half] * h).sum(axis=1)


def speak(word, voice, variant, pitch, speed):
    cmd = ["espeak-ng", "-v", f"{voice}+{variant}", "-p", str(pitch), "-s", str(speed), "--stdout", word]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    # espeak-ng's streamed header leaves the sizes unset: read the format, then every sample after "data"
    rate = int.from_bytes(raw[24:28], "little")
    start = raw.index(b"data") + 8
    pcm = np.frombuffer(raw[start:start + (len(raw) - start) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0
    return resample(pcm, rate)


def noise(rng, kind, n):
    """n samples of a background kind, RMS 1."""
    t = np.arange(n) / RATE
    if kind in ("white", "pink", "brown"):
        w = rng.standard_normal(n)
        W = np.fft.rfft(w)
        f = np.arange(len(W)) + 1.0
        W = W / (np.sqrt(f) if kind == "pink" else f if kind == "brown" else 1.0)
        x = np.fft.irfft(W, n)
    elif kind == "hum":
        f0 = rng.choice([50.0, 60.0]) * rng.uniform(0.99, 1.01)
        x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) for k in range(1, 6))
        x = x + 0.05 * rng.standard_normal(n)
    elif kind == "clicks":
        x = 0.02 * rng.standard_normal(n)
        for c in rng.integers(0, n - 40, size=max(1, n // 2000)):
            x[c:c + 40] += rng.uniform(0.5, 1.0) * rng.choice([-1, 1]) * np.exp(-np.arange(40) / 6.0)
    else:  # fan: low-passed noise with a blade tone
        W = np.fft.rfft(rng.standard_normal(n))
        W[int(len(W) * 0.15):] *= 0.1
        x = np.fft.irfft(W, n) + 0.3 * np.sin(2 * np.pi * rng.uniform(90, 180) * t)
    x = x - x.mean()
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


BACKGROUNDS = ("white", "pink", "brown", "hum", "clicks", "fan")


def write_wav(path, x):
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


def which_set(speaker_hash):
    """Speech Commands' rule, in spirit: the split from a hash of the speaker id (10 % val, 10 % test)."""
    v = int(hashlib.sha1(speaker_hash.encode()).hexdigest(), 16) % 100
    return "validation" if v < 10 else "testing" if v < 20 else "training"


def clip(rng, word, spk):
    voice, variant, pitch, speed = spk["voice"], spk["variant"], spk["pitch"], spk["speed"]
    x = speak(word, voice, variant, int(np.clip(pitch + rng.integers(-8, 9), 0, 99)),
              int(np.clip(speed + rng.integers(-15, 16), 80, 260)))
    loud = np.nonzero(np.abs(x) > 0.02 * (np.abs(x).max() + 1e-12))[0]
    if len(loud):
        x = x[max(0, loud[0] - 80):loud[-1] + 80]
    x = x[:RATE]
    x = x / (np.abs(x).max() + 1e-12) * rng.uniform(0.25, 0.9)
    out = np.zeros(RATE)
    start = rng.integers(0, RATE - len(x) + 1)
    out[start:start + len(x)] = x
    snr = rng.uniform(8.0, 30.0)
    s_rms = np.sqrt(np.mean(x ** 2))
    out += noise(rng, BACKGROUNDS[rng.integers(len(BACKGROUNDS))], RATE) * s_rms * 10 ** (-snr / 20)
    peak = np.abs(out).max()
    return out / peak * 0.95 if peak > 0.95 else out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--per-word", type=int, default=160)
    ap.add_argument("--seed", type=int, default=2113)
    ap.add_argument("--speakers", type=int, default=60)
    a = ap.parse_args()
    t0 = time.time()
    rng = np.random.default_rng(a.seed)
    speakers = []
    for i in range(a.speakers):
        h = hashlib.sha1(f"{a.seed}:{i}".encode()).hexdigest()[:8]
        speakers.append({"hash": h, "voice": VOICES[rng.integers(len(VOICES))],
                         "variant": VARIANTS[rng.integers(len(VARIANTS))], "pitch": int(rng.integers(25, 76)),
                         "speed": int(rng.integers(120, 191))})
    # at least one speaker in each split, so every split has clips of every word
    sets = {s["hash"]: which_set(s["hash"]) for s in speakers}
    for name, k in (("validation", 0), ("testing", 1)):
        if name not in sets.values():
            sets[speakers[k]["hash"]] = name
    lists = {"validation": [], "testing": []}
    os.makedirs(os.path.join(a.out, "_background_noise_"), exist_ok=True)
    for kind in BACKGROUNDS:
        name = f"{kind}_noise" if kind in ("white", "pink", "brown") else kind
        write_wav(os.path.join(a.out, "_background_noise_", name + ".wav"), 0.3 * noise(rng, kind, 10 * RATE) / 4)
    words = [(w, a.per_word) for w in KEYWORDS] + [(w, max(1, a.per_word // 2)) for w in UNKNOWN]
    # the val and test speakers speak about 10 % of each word's clips each, the rest go to the training speakers
    by_set = {k: [s for s in speakers if sets[s["hash"]] == k] for k in ("training", "validation", "testing")}
    count = 0
    for word, n in words:
        os.makedirs(os.path.join(a.out, word), exist_ok=True)
        made = {}
        held = max(1, round(n / 10)) if n >= 3 else 0  # clips of this word for validation, and as many for testing
        order = rng.permutation(n)
        for j in range(n):
            split = "validation" if order[j] < held else "testing" if order[j] < 2 * held else "training"
            spk = by_set[split][rng.integers(len(by_set[split]))]
            k = made.get(spk["hash"], 0)
            made[spk["hash"]] = k + 1
            rel = f"{word}/{spk['hash']}_nohash_{k}.wav"
            write_wav(os.path.join(a.out, rel), clip(rng, word, spk))
            if split != "training":
                lists[split].append(rel)
            count += 1
    for name in ("validation", "testing"):
        with open(os.path.join(a.out, f"{name}_list.txt"), "w") as f:
            f.write("".join(line + "\n" for line in sorted(lists[name])))
    print(f"gen_kws: {count} clips ({len(KEYWORDS)} keywords x {a.per_word}, {len(UNKNOWN)} other words x "
          f"{max(1, a.per_word // 2)}), {len(lists['validation'])} validation, {len(lists['testing'])} testing, "
          f"{len(BACKGROUNDS)} background files in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
