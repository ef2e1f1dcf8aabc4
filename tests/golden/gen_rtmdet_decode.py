#!/usr/bin/python3
"""Golden values for the rtmdet_decode op (lib/ops/rtmdet_decode.c).

The reference (ref_models.rtmdet_decode) restates mmyolo's YOLOv5Head.predict_by_feat as SSCMA's RTMDetHead runs it
before NMS: MlvlPointGenerator points with offset 0 ((x s, y s), rows y-major per level), DistancePointBBoxCoder's
distance2bbox without max_shape (x1 = px - left, y1 = py - top, x2 = px + right, y2 = py + bottom), sigmoid scores,
written in yolo_decode's layout (cx, cy, w, h, 1, scores), in float64 on float32 inputs. Writes
tests/golden/rtmdet_decode.bin: the class maps cls0..2 (NHWC [2, H, W, 3]) and distance maps reg0..2 ([2, H, W, 4],
pixels, some negative as an untrained head gives them) of a 64x96 input at strides 8/16/32, and the output
[2, 126, 8].

Run: /usr/bin/python3 tests/golden/gen_rtmdet_decode.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import write_golden  # noqa: E402
from ref_models import RTMDET_STRIDES, rtmdet_decode  # noqa: E402

NUM_CLASSES = 3
H, W = 64, 96


def main():
    rng = np.random.default_rng(21)
    cls, reg = [], []
    for s in RTMDET_STRIDES:
        cls.append((rng.standard_normal((2, H // s, W // s, NUM_CLASSES)) * 3.0).astype(np.float32))
        reg.append((rng.standard_normal((2, H // s, W // s, 4)) * 2.0 * s + 1.5 * s).astype(np.float32))
    nchw = [torch.from_numpy(m.astype(np.float64)).permute(0, 3, 1, 2) for m in cls + reg]
    ref = rtmdet_decode(nchw[:3], nchw[3:])
    records = [(f"cls{l}", m) for l, m in enumerate(cls)] + [(f"reg{l}", m) for l, m in enumerate(reg)]
    records.append(("output", ref.numpy().astype(np.float32)))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rtmdet_decode.bin")
    write_golden(out, records)
    print(f"wrote {out}: output {tuple(ref.shape)}")


if __name__ == "__main__":
    main()
