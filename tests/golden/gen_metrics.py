#!/usr/bin/python3
"""Golden values for libsscma's metrics (metrics.h).

Accuracy: top-k with torch.topk (as mmpretrain's Accuracy), per-class and macro precision/recall/F1 from the
confusion matrix (as mmpretrain's SingleLabelMetric, average="macro"), in percent.
FomoMetric: SSCMA's compute_ftp rule re-implemented from its published code (softmax, argmax, relabelling of
predicted cells around each ground-truth cell in SSCMA's offset order, then tp/fp/fn from the confusion matrix).
PointMetric: SSCMA's pose_acc (first point, threshold 10 px) and the mean normalised distance (image diagonal).
Writes tests/golden/metrics.bin (format in gen_ops.py).

Run: /usr/bin/python3 tests/golden/gen_metrics.py
"""
import math
import os
import sys

import numpy as np
import torch
from golden_io import write_golden

ACC_N, ACC_K, TOPK = 57, 6, (1, 3)
FOMO_B, FOMO_H, FOMO_W, FOMO_C = 6, 8, 8, 4
POINT_N, POINT_P, POINT_SIZE, POINT_TH = 40, 3, (112, 96), 10.0


def accuracy(gen):
    scores = torch.randn(ACC_N, ACC_K, generator=gen)
    labels = torch.randint(0, ACC_K, (ACC_N,), generator=gen)
    scores[labels == 2, 2] += 1.5  # some signal, so the values are not all near chance
    out = []
    for k in TOPK:
        top = scores.topk(k, dim=1).indices
        out.append(100.0 * (top == labels[:, None]).any(dim=1).float().mean().item())
    pred = scores.argmax(dim=1)
    cm = np.zeros((ACC_K, ACC_K), dtype=np.int64)
    np.add.at(cm, (labels.numpy(), pred.numpy()), 1)
    tp = np.diag(cm).astype(np.float64)
    pred_n, true_n = cm.sum(axis=0), cm.sum(axis=1)
    p = np.where(pred_n > 0, 100.0 * tp / np.maximum(pred_n, 1), 0.0)
    r = np.where(true_n > 0, 100.0 * tp / np.maximum(true_n, 1), 0.0)
    f = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-300), 0.0)
    present = (pred_n > 0) | (true_n > 0)
    out += [p[present].mean(), r[present].mean(), f[present].mean()]
    out += list(p) + list(r)
    return scores.numpy(), labels.numpy().astype(np.float32), np.array(out), cm


def fomo_ftp(pred, target):
    probs = torch.softmax(pred, dim=-1)
    B, H, W, C = probs.shape
    tmax, pmax = target.argmax(dim=-1), probs.argmax(dim=-1)
    gt_cells = torch.nonzero(tmax > 0).tolist()
    pred_cells = {tuple(c) for c in torch.nonzero(pmax > 0).tolist()}
    offsets = [(-1, 0), (-1, -1), (0, -1), (1, 0), (1, 1), (0, 1), (1, -1), (-1, 1), (0, 0)]
    for b, y, x in gt_cells:
        for dy, dx in offsets:
            yy, xx = y + dy, x + dx
            if yy < 0 or xx < 0 or yy >= H or xx >= W:
                continue
            if (b, yy, xx) in pred_cells and pmax[b, yy, xx] == tmax[b, y, x]:
                tmax[b, yy, xx] = tmax[b, y, x]
    cm = np.zeros((C, C), dtype=np.int64)
    np.add.at(cm, (tmax.flatten().numpy(), pmax.flatten().numpy()), 1)
    tp = np.trace(cm) - cm[0, 0]
    return tp, np.triu(cm, 1).sum(), np.tril(cm, -1).sum()


def fomo(gen):
    target = torch.zeros(FOMO_B, FOMO_H, FOMO_W, FOMO_C)
    target[..., 0] = 1
    logits = torch.randn(FOMO_B, FOMO_H, FOMO_W, FOMO_C, generator=gen)
    logits[..., 0] += 2.5
    for b in range(FOMO_B):
        for _ in range(int(torch.randint(1, 5, (1,), generator=gen))):
            y, x = torch.randint(0, FOMO_H, (2,), generator=gen).tolist()
            c = int(torch.randint(1, FOMO_C, (1,), generator=gen))
            target[b, y, x] = 0
            target[b, y, x, c] = 1
            # a prediction at the cell itself, a neighbour, or two cells away (a miss)
            dy, dx = torch.randint(-2, 3, (2,), generator=gen).tolist()
            yy, xx = min(max(y + dy, 0), FOMO_H - 1), min(max(x + dx, 0), FOMO_W - 1)
            logits[b, yy, xx, c] += 4.0
    tp, fp, fn = fomo_ftp(logits, target)
    if tp + fp == 0 or tp + fn == 0:
        p = r = f1 = 0.0
    else:
        p, r = tp / (tp + fp), tp / (tp + fn)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
    return logits.numpy(), target.numpy(), np.array([tp, fp, fn, p, r, f1], dtype=np.float64)


def point(gen):
    target = torch.rand(POINT_N, 2 * POINT_P, generator=gen)
    pred = target + 0.06 * torch.randn(POINT_N, 2 * POINT_P, generator=gen)
    pred[0, 0] = -0.02  # a negative coordinate: SSCMA clamps it to 0
    h, w = POINT_SIZE
    p, t = pred.double().numpy().copy(), target.double().numpy().copy()
    p[:, 0::2] *= w
    p[:, 1::2] *= h
    p[p < 0] = 0
    t[:, 0::2] *= w
    t[:, 1::2] *= h
    acc = []
    for a, b in zip(p, t):
        d = math.hypot(b[0] - a[0], b[1] - a[1])
        acc.append(0.0 if d > POINT_TH else (POINT_TH - d) / (POINT_TH - 1) if d > 1 else 1.0)
    d = np.hypot(t[:, 0::2] - p[:, 0::2], t[:, 1::2] - p[:, 1::2]) / math.hypot(h, w)
    return pred.numpy(), target.numpy(), np.array([sum(acc) / len(acc), d.mean()])


def main():
    gen = torch.Generator().manual_seed(20261127)
    scores, labels, acc, _ = accuracy(gen)
    logits, target, fomo_exp = fomo(gen)
    ppred, ptarget, point_exp = point(gen)
    records = [("acc/scores", scores), ("acc/labels", labels), ("acc/expected", acc),
               ("fomo/pred", logits), ("fomo/target", target), ("fomo/expected", fomo_exp),
               ("point/pred", ppred), ("point/target", ptarget), ("point/expected", point_exp)]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.bin")
    write_golden(out, [(name, np.asarray(a, dtype=np.float64).astype(np.float32).ravel()) for name, a in records])
    print(f"wrote {out}: accuracy {acc[:2]}, fomo tp/fp/fn {fomo_exp[:3]} F1 {fomo_exp[5]:.4f}, point {point_exp}")


if __name__ == "__main__":
    sys.exit(main())
