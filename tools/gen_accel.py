#!/usr/bin/env python3
"""Synthetic accelerometer gestures in Edge Impulse's export layout (numpy only; seeded, default seed 2112).

Four gestures, three axes in m/s^2 with gravity along z, each take with its own variation:
  idle    gravity and sensor noise only
  shake   a side-to-side jolt along x (4..7 Hz, 6..12 m/s^2), with some y
  circle  the hand drawing a circle in the x-y plane (0.8..1.6 Hz, 3..7 m/s^2)
  updown  lifting and lowering along z (1..2.2 Hz, 4..8 m/s^2)
Every take adds white noise (0.2..0.6 m/s^2), a linear drift per axis (up to +-1.5 m/s^2 over the take), a small
tilt of the device (up to 15 degrees about x and y, which moves gravity between the axes), a random phase and a
length of 2.5..4 s. Most takes are sampled every 16 ms (62.5 Hz, SSCMA's recipe); one in five every 10 ms (100 Hz)
so that the reader's resampling is exercised.

Writes OUT/info.labels (every file, with its category) and OUT/training/*.json, OUT/testing/*.json in Edge Impulse's
data acquisition format: {"protected": ..., "signature": ..., "payload": {"device_type", "interval_ms", "sensors":
[{"name", "units"}], "values": [[x, y, z], ...]}}.

  gen_accel.py OUT [--train N] [--test N] [--seed S]     (N takes per gesture and split)
"""
import argparse
import json
import os

import numpy as np

GESTURES = ("idle", "shake", "circle", "updown")


def rotation(rng):
    ax, ay = np.radians(rng.uniform(-15, 15, size=2))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    return rx @ ry


def take(rng, gesture):
    interval = 10.0 if rng.random() < 0.2 else 16.0
    seconds = rng.uniform(2.5, 4.0)
    t = np.arange(int(seconds * 1000 / interval)) * interval / 1000.0
    phase = rng.uniform(0, 2 * np.pi)
    motion = np.zeros((len(t), 3))
    if gesture == "shake":
        f, a = rng.uniform(4, 7), rng.uniform(6, 12)
        motion[:, 0] = a * np.sin(2 * np.pi * f * t + phase)
        motion[:, 1] = 0.3 * a * np.sin(2 * np.pi * f * t + phase + rng.uniform(0, 1))
    elif gesture == "circle":
        f, a = rng.uniform(0.8, 1.6), rng.uniform(3, 7)
        direction = rng.choice([-1.0, 1.0])
        motion[:, 0] = a * np.cos(2 * np.pi * f * t + phase)
        motion[:, 1] = direction * a * np.sin(2 * np.pi * f * t + phase)
    elif gesture == "updown":
        f, a = rng.uniform(1.0, 2.2), rng.uniform(4, 8)
        motion[:, 2] = a * np.sin(2 * np.pi * f * t + phase)
    gravity = np.array([0.0, 0.0, 9.81])
    values = (motion + gravity) @ rotation(rng).T
    values += rng.uniform(-1.5, 1.5, size=3) * (t / t[-1])[:, None]  # drift
    values += rng.normal(0, rng.uniform(0.2, 0.6), size=values.shape)  # noise
    return interval, np.round(values, 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=20, help="takes per gesture for training (default 20)")
    ap.add_argument("--test", type=int, default=8, help="takes per gesture for testing (default 8)")
    ap.add_argument("--seed", type=int, default=2112)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    files = []
    for category, count in (("training", args.train), ("testing", args.test)):
        os.makedirs(os.path.join(args.out, category), exist_ok=True)
        for k in range(count):
            for g in GESTURES:
                interval, values = take(rng, g)
                name = f"{g}.{k:03d}"
                path = f"{category}/{name}.json"
                sample = {
                    "protected": {"ver": "v1", "alg": "none", "iat": 0},
                    "signature": "0" * 64,
                    "payload": {
                        "device_type": "SYNTHETIC",
                        "interval_ms": interval,
                        "sensors": [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")],
                        "values": values.tolist(),
                    },
                }
                with open(os.path.join(args.out, path), "w") as f:
                    json.dump(sample, f, separators=(",", ":"))
                files.append({"path": path, "name": name, "category": category,
                              "label": {"type": "label", "label": g}})
    with open(os.path.join(args.out, "info.labels"), "w") as f:
        json.dump({"version": 1, "files": files}, f, indent=1)


if __name__ == "__main__":
    main()
