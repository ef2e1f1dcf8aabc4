#!/usr/bin/python3
"""Golden values for libsscma's detection transforms (lib/data/detect.c), from reference formulas written here after
mmyolo 0.6's published code (mmyolo/datasets/transforms/{transforms.py,mix_img_transforms.py}); mmyolo itself is not
imported. Random draws are inputs: each case stores the uniform numbers u in [0, 1) that mmyolo's random.uniform(a, b)
turns into a + (b - a) u, so the C side can be fed the same draws.

- YOLOv5RandomAffine: the float32 matrices translate @ shear @ rotate @ scale @ centre (mmyolo builds them as
  np.float32 arrays), the scaling ratio, the output size, and boxes: the four corners projected, min/max, clipped to
  the output, filtered (width and height > min_bbox_size, area over the scaled input area > min_area_ratio, aspect
  ratio < max_aspect_ratio).
- LetterResize: Python's round() (halves to even) of the scaled size, padding (use_mini_pad: mod 32; stretch_only:
  none), split int(round(p // 2 - 0.1)) / rest, for many sizes including exact halves.
- YOLOv5KeepRatioResize: min(max(scale) / max(h, w), min(scale) / min(h, w)) and int() of the scaled size.
- Mosaic: _mosaic_combine's paste and crop rectangles for the four quadrants.
- YOLOv5HSVRandomAug: the three uint8 lookup tables for given gains.

Run: /usr/bin/python3 tests/golden/gen_detect.py   (writes tests/golden/detect.bin)
"""
import math
import os

import numpy as np
from golden_io import write_golden

I32 = 4
rng = np.random.default_rng(20261207)


# ---- YOLOv5RandomAffine ----

def affine_matrix(h, w, spec, u):
    max_rot, max_shear, max_trans, smin, smax, bx, by = spec
    height, width = h + by * 2, w + bx * 2
    f32 = np.float32
    centre = np.eye(3, dtype=f32)
    centre[0, 2] = -w / 2
    centre[1, 2] = -h / 2
    uniform = lambda a, b, x: a + (b - a) * x
    rot = math.radians(uniform(-max_rot, max_rot, u[0]))
    rotation = np.array([[np.cos(rot), -np.sin(rot), 0.], [np.sin(rot), np.cos(rot), 0.], [0., 0., 1.]], dtype=f32)
    scale = uniform(smin, smax, u[1])
    scaling = np.array([[scale, 0., 0.], [0., scale, 0.], [0., 0., 1.]], dtype=f32)
    xr, yr = math.radians(uniform(-max_shear, max_shear, u[2])), math.radians(uniform(-max_shear, max_shear, u[3]))
    shear = np.array([[1, np.tan(xr), 0.], [np.tan(yr), 1, 0.], [0., 0., 1.]], dtype=f32)
    tx = uniform(0.5 - max_trans, 0.5 + max_trans, u[4]) * width
    ty = uniform(0.5 - max_trans, 0.5 + max_trans, u[5]) * height
    translate = np.array([[1, 0., tx], [0., 1, ty], [0., 0., 1.]], dtype=f32)
    m = (translate @ shear @ rotation @ scaling) @ centre
    return m, scale, height, width


def affine_boxes(m, scale, height, width, boxes, min_size=2.0, min_area=0.1, max_aspect=20.0):
    x1, y1, x2, y2 = boxes.T
    corners = np.stack([np.stack([x1, y1, x2, y1, x1, y2, x2, y2], 1).reshape(-1, 4, 2)], 0)[0]
    pts = np.concatenate([corners, np.ones(corners.shape[:2] + (1,))], -1) @ m.astype(np.float64).T
    pts = pts[..., :2] / pts[..., 2:3]
    out = np.stack([pts[..., 0].min(1), pts[..., 1].min(1), pts[..., 0].max(1), pts[..., 1].max(1)], 1)
    out[:, 0::2] = out[:, 0::2].clip(0, width)
    out[:, 1::2] = out[:, 1::2].clip(0, height)
    ow, oh = (boxes[:, 2] - boxes[:, 0]) * scale, (boxes[:, 3] - boxes[:, 1]) * scale
    ww, hh = out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]
    aspect = np.maximum(ww / (hh + 1e-16), hh / (ww + 1e-16))
    keep = (ww > min_size) & (hh > min_size) & (ww * hh / (ow * oh + 1e-16) > min_area) & (aspect < max_aspect)
    return out[keep], keep


def affine_cases(n=40, boxes_per=12):
    inputs, mats, outs, kept, boxes_in = [], [], [], [], []
    for i in range(n):
        h, w = int(rng.integers(16, 700)), int(rng.integers(16, 700))
        spec = [float(rng.choice([0.0, 10.0, 45.0])), float(rng.choice([0.0, 2.0, 10.0])),
                float(rng.choice([0.0, 0.1, 0.3])), 0.5, 1.5,
                int(rng.choice([0, -w // 4, 8])), int(rng.choice([0, -h // 4, 8]))]
        if i % 5 == 0:  # SSCMA's swift_yolo: after Mosaic, no rotation or shear, border -half
            spec = [0.0, 0.0, 0.1, 0.5, 1.5, -(w // 4), -(h // 4)]
        u = rng.random(6).astype(np.float32).astype(np.float64)  # the C side reads them as f32
        m, scale, height, width = affine_matrix(h, w, spec, u)
        b = np.sort(rng.random((boxes_per, 2, 2)) * [w, h], axis=1).reshape(boxes_per, 4)[:, [0, 1, 2, 3]]
        b = np.stack([np.minimum(b[:, 0], b[:, 2]), np.minimum(b[:, 1], b[:, 3]),
                      np.maximum(b[:, 0], b[:, 2]), np.maximum(b[:, 1], b[:, 3])], 1).astype(np.float32)
        out, keep = affine_boxes(m, scale, height, width, b.astype(np.float64))
        padded = np.zeros((boxes_per, 4))
        padded[:len(out)] = out
        inputs.append([h, w] + spec + list(u) + [scale, height, width])
        mats.append(m.reshape(9))
        boxes_in.append(b)
        outs.append(padded)
        kept.append(int(keep.sum()))
    return [("affine/in", np.array(inputs)), ("affine/m", np.array(mats)), ("affine/boxes_in", np.array(boxes_in)),
            ("affine/boxes_out", np.array(outs)), ("affine/kept", I32, np.array(kept))]


# ---- LetterResize and YOLOv5KeepRatioResize ----

def letterbox(h, w, th, tw, allow_scale_up, use_mini_pad, stretch_only):
    ratio = min(th / h, tw / w)
    if not allow_scale_up:
        ratio = min(ratio, 1.0)
    nh, nw = int(round(h * ratio)), int(round(w * ratio))
    ph, pw = th - nh, tw - nw
    if use_mini_pad:
        pw, ph = int(np.mod(pw, 32)), int(np.mod(ph, 32))
    elif stretch_only:
        ph, pw = 0, 0
        nh, nw = th, tw
    top, left = int(round(ph // 2 - 0.1)), int(round(pw // 2 - 0.1))
    return [nh, nw, top, ph - top, left, pw - left, nh + ph, nw + pw]


def letterbox_cases():
    cases = []
    sizes = [(5, 7, 10, 10), (3, 9, 6, 6), (20, 40, 40, 40), (480, 640, 192, 192), (427, 640, 640, 640),
             (1, 1, 96, 96), (333, 500, 320, 256), (640, 480, 192, 192), (7, 5, 3, 3), (101, 203, 64, 96),
             (5, 2, 100, 1), (7, 2, 100, 1), (9, 4, 100, 2), (2, 5, 1, 100)]  # exact halves: 2.5, 3.5, 4.5, 2.5
    sizes += [(int(rng.integers(1, 900)), int(rng.integers(1, 900)), int(rng.integers(8, 700)),
               int(rng.integers(8, 700))) for _ in range(60)]
    for h, w, th, tw in sizes:
        for flags in [(1, 0, 0), (0, 0, 0), (1, 1, 0), (0, 1, 0), (1, 0, 1)]:
            cases.append([h, w, th, tw, *flags, *letterbox(h, w, th, tw, *map(bool, flags))])
    half = [row for row in cases if row[:4] == [5, 2, 100, 1]][0]
    assert half[7] == 2 and half[8] == 1  # 5 x 0.5 = 2.5 rounds to even
    return [("letterbox", I32, np.array(cases))]


def keep_ratio_cases():
    rows, ratios = [], []
    sizes = [(480, 640, 192, 192), (100, 100, 640, 640), (640, 640, 640, 640), (37, 91, 96, 64)]
    sizes += [(int(rng.integers(1, 900)), int(rng.integers(1, 900)), int(rng.integers(8, 700)),
               int(rng.integers(8, 700))) for _ in range(60)]
    for h, w, th, tw in sizes:
        ratio = min(max(th, tw) / max(h, w), min(th, tw) / min(h, w))
        nh, nw = (int(h * ratio), int(w * ratio)) if ratio != 1 else (h, w)
        rows.append([h, w, th, tw, nh, nw])
        ratios.append(ratio)
    return [("keep_ratio", I32, np.array(rows)), ("keep_ratio/ratio", np.array(ratios))]


# ---- Mosaic ----

def mosaic_combine(loc, cx, cy, w, h, sw, sh):
    if loc == 0:
        x1, y1, x2, y2 = max(cx - w, 0), max(cy - h, 0), cx, cy
        crop = w - (x2 - x1), h - (y2 - y1), w, h
    elif loc == 1:
        x1, y1, x2, y2 = cx, max(cy - h, 0), min(cx + w, sw * 2), cy
        crop = 0, h - (y2 - y1), min(w, x2 - x1), h
    elif loc == 2:
        x1, y1, x2, y2 = max(cx - w, 0), cy, cx, min(sh * 2, cy + h)
        crop = w - (x2 - x1), 0, w, min(y2 - y1, h)
    else:
        x1, y1, x2, y2 = cx, cy, min(cx + w, sw * 2), min(sh * 2, cy + h)
        crop = 0, 0, min(w, x2 - x1), min(y2 - y1, h)
    return [x1, y1, x2, y2, *crop]


def mosaic_cases():
    rows = []
    for _ in range(50):
        sw, sh = int(rng.integers(32, 700)), int(rng.integers(32, 700))
        u = rng.random(2)
        cx, cy = int((0.5 + u[0]) * sw), int((0.5 + u[1]) * sh)  # int(random.uniform(0.5, 1.5) * scale)
        for loc in range(4):
            h0, w0 = int(rng.integers(1, 900)), int(rng.integers(1, 900))
            r = min(sh / h0, sw / w0)
            h, w = max(int(h0 * r), 1), max(int(w0 * r), 1)
            rows.append([loc, cx, cy, h, w, sh, sw, *mosaic_combine(loc, cx, cy, w, h, sw, sh)])
    return [("mosaic", I32, np.array(rows))]


# ---- YOLOv5HSVRandomAug ----

def hsv_cases():
    gains, luts = [], []
    for _ in range(12):
        g = (rng.uniform(-1, 1, 3) * [0.015, 0.7, 0.4] + 1).astype(np.float32).astype(np.float64)  # stored as f32
        table = np.arange(0, 256, dtype=g.dtype)
        luts.append([((table * g[0]) % 180).astype(np.uint8), np.clip(table * g[1], 0, 255).astype(np.uint8),
                     np.clip(table * g[2], 0, 255).astype(np.uint8)])
        gains.append(g)
    return [("hsv/gains", np.array(gains)), ("hsv/lut", I32, np.array(luts).astype(np.int32))]


if __name__ == "__main__":
    records = affine_cases() + letterbox_cases() + keep_ratio_cases() + mosaic_cases() + hsv_cases()
    write_golden(os.path.join(os.path.dirname(os.path.abspath(__file__)), "detect.bin"), records)
    print("wrote", len(records), "records")
