#!/usr/bin/env python3
"""Golden values for libsscma's COCO bbox evaluation (lib/train/det_eval.c) from pycocotools' COCOeval.

Each fixture is a small detection set, evaluated the way mmdet's CocoMetric drives pycocotools: images with ids
1..N in order, categories 1..K (label + 1, params.catIds set), params.maxDets = the three caps as given (SSCMA's
configs pass proposal_nums (100, 1, 10); pycocotools sorts them), detections as mmdet writes them (xywh from xyxy,
w = x2 - x1 in double). Inputs are float32 (the values pycocotools sees are exactly those float32 numbers).

Fixtures: f0 hand-made (crowd regions taking many detections, an empty image, an image with detections and no gt,
ignored gts (crowd, out of the area range) listed before regular ones,
many detections on one gt, ties in score within and across images, boxes and areas exactly at 32^2 and 96^2, an
`area` field that differs from w*h, a category with detections and no gt, a category with neither); f1 random
(SSCMA's caps (100, 1, 10), an image with more than 100 detections, ties); f2 random with caps (2, 5, 20) (no 100,
so AP comes out -1 as in pycocotools) and many crowd regions; f3 random with mmdet's default caps (100, 300, 1000)
and up to 350 false positives per image.

Records per fixture fN: meta (i32: images, classes, three caps), gt [G, 8] (image index, label, x, y, w, h, area,
iscrowd), det [D, 7] (image index, label, x1, y1, x2, y2, score), stats [12] (COCOeval.stats), cat_ap [K] (mean
precision at area 'all' and the largest cap, -1 without gt). Writes tests/golden/cocoeval.bin (format in
golden_io.py).

Run (pycocotools from PyPI): ~/.cache/libsscma/venv/bin/python tests/golden/gen_cocoeval.py
"""
import contextlib
import io
import os
import sys

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import write_golden  # noqa: E402


def check_linspace():
    """det_eval.c builds the thresholds as i * ((stop - start) / (num - 1)) + start, the last one exactly stop."""
    for start, stop, num in ((0.5, 0.95, 10), (0.0, 1.0, 101)):
        ref = np.linspace(start, stop, int(np.round((stop - start) / ((stop - start) / (num - 1)))) + 1,
                          endpoint=True)
        step = (stop - start) / (num - 1)
        ours = [stop if i == num - 1 else float(i) * step + start for i in range(num)]
        assert ref.tolist() == ours, (start, stop)
    assert 0.75 in np.linspace(.5, 0.95, 10).tolist()


def f32(v):
    return float(np.float32(v))


def evaluate(n_images, n_classes, caps, gts, dets):
    """gts: (image, label, x, y, w, h, area, iscrowd); dets: (image, label, x1, y1, x2, y2, score), both grouped by
    image in the order the evaluator receives them."""
    images = [dict(id=i + 1, width=640, height=640, file_name=f"{i}.jpg") for i in range(n_images)]
    cats = [dict(id=k + 1, name=f"c{k}") for k in range(n_classes)]
    anns = []
    for g in gts:
        img, lab, x, y, w, h, area, crowd = g
        anns.append(dict(id=len(anns) + 1, image_id=int(img) + 1, category_id=int(lab) + 1,
                         bbox=[x, y, w, h], area=area, iscrowd=int(crowd)))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = dict(images=images, categories=cats, annotations=anns)
        coco.createIndex()
        res = [dict(image_id=int(d[0]) + 1, category_id=int(d[1]) + 1, bbox=[d[2], d[3], d[4] - d[2], d[5] - d[3]],
                    score=d[6]) for d in dets]
        dt = coco.loadRes(res)
        ev = COCOeval(coco, dt, "bbox")
        ev.params.catIds = [k + 1 for k in range(n_classes)]
        ev.params.imgIds = [i + 1 for i in range(n_images)]
        ev.params.maxDets = list(caps)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]
    cat_ap = []
    for k in range(n_classes):
        p = prec[:, :, k, 0, -1]
        p = p[p > -1]
        cat_ap.append(float(np.mean(p)) if p.size else -1.0)
    return np.array(ev.stats), np.array(cat_ap)


def records(name, n_images, n_classes, caps, gts, dets):
    gts = sorted(gts, key=lambda g: g[0])  # stable: grouped by image, annotation order kept
    dets = sorted(dets, key=lambda d: d[0])
    gts = [tuple(f32(v) for v in g) for g in gts]
    dets = [tuple(f32(v) for v in d) for d in dets]
    stats, cat_ap = evaluate(n_images, n_classes, caps, gts, dets)
    print(f"{name}: {len(gts)} gt, {len(dets)} detections, stats {np.round(stats, 4).tolist()}")
    return [
        (f"{name}/meta", 4, np.array([n_images, n_classes, *caps], dtype=np.int32)),
        (f"{name}/gt", np.array(gts, dtype=np.float32).reshape(-1, 8)),
        (f"{name}/det", np.array(dets, dtype=np.float32).reshape(-1, 7)),
        (f"{name}/stats", stats.astype(np.float32)),
        (f"{name}/cat_ap", cat_ap.astype(np.float32)),
    ]


def hand_made():
    g, d = [], []
    # image 0: a regular gt and a crowd region; detections inside the crowd region are ignored, not false positives
    g += [(0, 0, 10, 10, 50, 50, 2500, 0), (0, 0, 100, 100, 200, 200, 40000, 1)]
    d += [(0, 0, 11, 10, 61, 60, 0.9), (0, 0, 110, 110, 190, 190, 0.95), (0, 0, 150, 150, 250, 250, 0.8),
          (0, 0, 90, 90, 140, 140, 0.75), (0, 0, 30, 30, 80, 80, 0.6), (0, 0, 280, 280, 330, 330, 0.75)]
    # image 1: empty.  image 2: detections and no gt (labels 0, 1 and 2; label 2 never has a gt, label 3 nothing)
    d += [(2, 0, 5, 5, 45, 45, 0.85), (2, 1, 50, 60, 120, 140, 0.5), (2, 2, 0, 0, 20, 20, 0.7)]
    # image 3: many detections on one gt, ties in score (also with image 0's 0.75)
    g += [(3, 1, 40, 40, 60, 80, 4800, 0), (3, 1, 300, 300, 20, 20, 400, 0)]
    d += [(3, 1, 41, 40, 101, 120, 0.75), (3, 1, 40, 42, 100, 121, 0.75), (3, 1, 38, 40, 99, 118, 0.75),
          (3, 1, 45, 45, 100, 120, 0.6), (3, 1, 40, 40, 100, 120, 0.6), (3, 1, 301, 301, 321, 321, 0.3),
          (3, 1, 200, 200, 230, 230, 0.6)]
    # image 4: boxes at the range limits: 32x32 (area 1024: small and medium), 96x96 (9216: medium and large); a gt
    # whose `area` (1100) is not w*h (900); unmatched detections of area exactly 1024 and 9216
    g += [(4, 0, 0, 0, 32, 32, 1024, 0), (4, 0, 100, 100, 96, 96, 9216, 0), (4, 1, 300, 0, 30, 30, 1100, 0)]
    d += [(4, 0, 0, 0, 32, 32, 0.55), (4, 0, 100, 100, 196, 196, 0.65), (4, 1, 300, 0, 330, 30, 0.4),
          (4, 0, 400, 400, 432, 432, 0.7), (4, 0, 400, 200, 496, 296, 0.62), (4, 1, 302, 1, 331, 31, 0.45)]
    # image 5: a crowd gt overlapping a regular gt: a detection on the regular gt never moves to the crowd
    g += [(5, 0, 0, 0, 100, 100, 10000, 0), (5, 0, 0, 0, 200, 200, 40000, 1), (5, 0, 500, 500, 10, 10, 100, 0)]
    d += [(5, 0, 2, 2, 100, 100, 0.9), (5, 0, 0, 0, 102, 101, 0.88), (5, 0, 20, 20, 180, 180, 0.5),
          (5, 0, 501, 500, 511, 511, 0.2)]
    # image 6: a crowd region listed before a regular gt: gts are sorted non-ignored first, so the detection takes
    # the regular gt (IoU 0.5625) although it covers the crowd region better (1.0)
    g += [(6, 0, 0, 0, 100, 100, 10000, 1), (6, 0, 0, 0, 60, 60, 3600, 0)]
    d += [(6, 0, 0, 0, 80, 80, 0.66)]
    # image 7: a medium gt listed before a small one; in the small range the medium gt is ignored and goes last, so
    # the detection matches the small gt (IoU 0.605) and not the better-fitting medium one (0.81)
    g += [(7, 1, 0, 0, 40, 40, 1600, 0), (7, 1, 0, 0, 28, 28, 784, 0)]
    d += [(7, 1, 0, 0, 36, 36, 0.58)]
    return records("f0", 8, 4, (1, 10, 100), g, d)


def random_fixture(name, seed, n_images, n_classes, caps, crowd_p, per_image_fp, big_image=None, big_count=0):
    rng = np.random.default_rng(seed)
    g, d = [], []
    for img in range(n_images):
        kind = rng.random()
        n_gt = 0 if kind < 0.1 else int(rng.integers(1, 8))
        for _ in range(n_gt):
            w, h = np.exp(rng.uniform(np.log(6), np.log(220), 2))
            x, y = rng.uniform(0, 400, 2)
            lab = int(rng.integers(0, n_classes))
            crowd = rng.random() < crowd_p
            area = w * h * rng.uniform(0.6, 1.0)
            g.append((img, lab, x, y, w, h, area, int(crowd)))
            if rng.random() < 0.85 and not (kind >= 0.1 and kind < 0.15):  # 5% of images: gt only
                for _ in range(1 + int(rng.poisson(0.7))):
                    j = rng.normal(0, 0.12, 4)
                    x1, y1 = x + j[0] * w, y + j[1] * h
                    x2, y2 = x + w + j[2] * w, y + h + j[3] * h
                    lab_d = lab if rng.random() > 0.1 else int(rng.integers(0, n_classes))
                    score = np.round(rng.beta(4, 2) * 16) / 16  # ties
                    d.append((img, lab_d, x1, y1, max(x2, x1 + 0.5), max(y2, y1 + 0.5), score))
        n_fp = int(rng.integers(0, per_image_fp + 1))
        if img == big_image:
            n_fp = big_count
        for _ in range(n_fp):
            w, h = np.exp(rng.uniform(np.log(4), np.log(200), 2))
            x, y = rng.uniform(0, 450, 2)
            score = np.round(rng.beta(2, 4) * 32) / 32
            d.append((img, int(rng.integers(0, n_classes)), x, y, x + w, y + h, score))
    return records(name, n_images, n_classes, caps, g, d)


def main():
    check_linspace()
    recs = hand_made()
    recs += random_fixture("f1", 1, 40, 5, (100, 1, 10), 0.05, 5, big_image=7, big_count=150)
    recs += random_fixture("f2", 2, 25, 3, (2, 5, 20), 0.25, 4)
    recs += random_fixture("f3", 3, 4, 2, (100, 300, 1000), 0.05, 350)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cocoeval.bin")
    write_golden(out, recs)
    print("wrote", out)


if __name__ == "__main__":
    main()
