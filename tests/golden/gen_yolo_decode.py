#!/usr/bin/python3
"""Golden values for SSCMA's in-graph YOLO decode (lib/quant/lower_yolo.c), from DetHead of ModelAssistant 2.0.0.

The reference below restates DetHead.forward_single (sigmoid, view [B, A, 5 + C, H * W], permute to
[B, A, H * W, 5 + C]), get_grid (meshgrid of x, y; anchors in pixels) and process (xy = (2 p - 0.5 + grid) * stride,
wh = (2 p)^2 * anchor, the rest * 100, concatenated per level and over levels), computed in float64 on float32 raw
maps. Writes tests/golden/yolo_decode.bin (format as gen_ops.py): the three raw maps in libsscma's layout (NHWC
[1, H, W, A * (5 + C)], channel a * (5 + C) + k) at strides 8/16/32 of a 64x64 input with 2 classes, and the
decoded output [1, 252, 7]. tests/unit/test_yolo_decode.c feeds the maps to the deployable model.

Run: /usr/bin/python3 tests/golden/gen_yolo_decode.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import write_golden  # noqa: E402

NUM_CLASSES = 2
STRIDES = (8, 16, 32)
ANCHORS = [[(10, 13), (16, 30), (33, 23)], [(30, 61), (62, 45), (59, 119)], [(116, 90), (156, 198), (373, 326)]]
SIZE = 64


def det_head_process(maps_nchw):
    """DetHead.forward_single + process on raw maps [B, A * (5 + C), H, W] (float64)."""
    na, no = len(ANCHORS[0]), 5 + NUM_CLASSES
    anchors = torch.as_tensor(ANCHORS, dtype=torch.float64)
    res = []
    for idx, m in enumerate(maps_nchw):
        p = m.sigmoid()
        bs, _, ny, nx = p.shape
        p = p.view(bs, na, no, ny * nx).permute(0, 1, 3, 2).contiguous()
        dy, dx = torch.meshgrid([torch.arange(ny), torch.arange(nx)], indexing="ij")
        grid = torch.stack((dx, dy), dim=2).expand(1, 1, ny, nx, 2).reshape(1, 1, -1, 2).double()
        grid_ = anchors[idx].view(1, na, 1, 2).expand(1, na, ny * nx, 2)
        xy, wh, cls = torch.split(p, [2, 2, NUM_CLASSES + 1], dim=-1)
        xy = (xy * 2 - 0.5 + grid) * STRIDES[idx]
        wh = (2 * wh) ** 2 * grid_
        res.append(torch.cat((xy, wh, cls * 100), -1).view(bs, -1, no))
    return torch.cat(res, 1)


def main():
    rng = np.random.default_rng(19)
    channels = len(ANCHORS[0]) * (5 + NUM_CLASSES)
    maps = []
    for s in STRIDES:
        side = SIZE // s
        # logits over the sigmoid's whole useful range: saturated, central and in-between cells
        maps.append((rng.standard_normal((1, side, side, channels)) * 3.0).astype(np.float32))
    ref = det_head_process([torch.from_numpy(m.astype(np.float64)).permute(0, 3, 1, 2) for m in maps])
    records = [(f"map{l}", m) for l, m in enumerate(maps)] + [("output", ref.numpy().astype(np.float32))]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "yolo_decode.bin")
    write_golden(out, records)
    print(f"wrote {out}: output {tuple(ref.shape)}")


if __name__ == "__main__":
    main()
