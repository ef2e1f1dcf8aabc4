#!/usr/bin/env python3
"""OpenCV's own results for the two detection kernels libsscma reimplements in 8 bits (lib/data/detect.c):
YOLOv5HSVRandomAug's pixel path (mmyolo: cv2.cvtColor BGR2HSV, cv2.LUT with the gain tables, HSV2BGR) and CLAHE
(cv2.createCLAHE(clipLimit, tileGridSize).apply), on random images. Needs opencv-python-headless (PyPI), which the
default test run does not: run it with a Python that has OpenCV 4 (mmcv's), e.g. ~/.cache/libsscma/venv/bin/python
after `pip install opencv-python-headless==4.14.0.94`; writes tests/golden/detect_cv.bin (committed). OpenCV 5's
8-bit HSV->BGR differs from 4's (it truncates where 4 rounds): do not regenerate with it.
"""
import os

import cv2
import numpy as np
from golden_io import write_golden

I32 = 4
rng = np.random.default_rng(7)


def hsv_records():
    rgb = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    rgb[0, :16] = [[v, v, v] for v in range(0, 256, 16)]  # greys: saturation 0
    rgb[1, :6] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255]]
    gains, outs = [], []
    for _ in range(6):
        g = (rng.uniform(-1, 1, 3) * [0.015, 0.7, 0.4] + 1).astype(np.float32).astype(np.float64)
        table = np.arange(0, 256, dtype=g.dtype)
        lut_hue = ((table * g[0]) % 180).astype(np.uint8)
        lut_sat = np.clip(table * g[1], 0, 255).astype(np.uint8)
        lut_val = np.clip(table * g[2], 0, 255).astype(np.uint8)
        hue, sat, val = cv2.split(cv2.cvtColor(rgb[..., ::-1].copy(), cv2.COLOR_BGR2HSV))  # mmyolo's images are BGR
        im_hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
        outs.append(cv2.cvtColor(im_hsv, cv2.COLOR_HSV2BGR)[..., ::-1])
        gains.append(g)
    return [("hsv_cv/in", I32, rgb.astype(np.int32)), ("hsv_cv/gains", np.array(gains)),
            ("hsv_cv/out", I32, np.array(outs).astype(np.int32))]


def clahe_records():
    records = []
    cases = [(64, 64, 2.0, 8, 8), (37, 45, 4.0, 8, 8), (50, 30, 1.0, 3, 5), (96, 96, 40.0, 4, 4), (9, 7, 3.0, 8, 8)]
    for i, (h, w, clip, tx, ty) in enumerate(cases):
        base = rng.integers(60, 120, (h, w)).astype(np.float64) + np.linspace(0, 60, w)[None, :]
        plane = np.clip(base, 0, 255).astype(np.uint8)
        out = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tx, ty)).apply(plane)
        records += [(f"clahe_cv/{i}/params", np.array([h, w, clip, tx, ty], dtype=np.float64)),
                    (f"clahe_cv/{i}/in", I32, plane.astype(np.int32)), (f"clahe_cv/{i}/out", I32, out.astype(np.int32))]
    return records


if __name__ == "__main__":
    records = hsv_records() + clahe_records()
    write_golden(os.path.join(os.path.dirname(os.path.abspath(__file__)), "detect_cv.bin"), records)
    print("wrote", len(records), "records with OpenCV", cv2.__version__)
