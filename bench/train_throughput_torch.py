#!/usr/bin/python3
"""The peer of bench/bench_train.c: the same training step in PyTorch (bench/run train).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_throughput_torch.py classifier|fomo|swift_yolo|audio|axes|vae
        [--threads N] [--batch B] [--iters N] [--warmup N] [--repeats R]

The models are tests/golden/ref_models.py's (the layouts libsscma implements): ImageClassifier (MobileNetV2-0.35,
96x96x3, 10 classes), Fomo (MobileNetV2-0.35 to stride 8, 3 classes) or SwiftYOLO (tiny, 192x192x3, 4 classes,
batch 16, the YOLOv5 loss of tests/golden/gen_yolo_loss.py in float32) or AudioClassify (SSCMA's KWS model,
SoundNetRaw + Audio_head, clips of 8192 samples, 35 classes, batch 32, LabelSmoothCrossEntropyLoss 0.1 summed) or
AccelerometerClassifier (AxesNet, 3 axes x 62 steps: 186 -> 256 -> 4 classes, batch 32, Adam lr 5e-4 betas
(0.9, 0.99) weight decay 5e-4: SSCMA's accelerometer recipe) or tests/golden/gen_vae.py's VaeModel (SSCMA's anomaly
Vae_Model, x and c [N, 3, 32, 32], out_channel 8, batch 16, its loss MSE + MSE + KL + KL with eps = randn as SSCMA
draws it in training, Adam lr 1e-4 weight decay 5e-4). One fixed random batch, SGD lr 0.01
momentum 0.9 weight decay 1e-4 unless given above; each iteration is zero_grad, forward, loss, backward, step (eager mode, default
NCHW, as SSCMA trains). Prints one JSON line: median images/s over R blocks of N iterations after W warm-up ones,
and the process's peak resident set.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from ref_models import (AccelerometerClassifier, AudioClassify, Fomo, ImageClassifier, SwiftYOLO,  # noqa: E402
                        label_smooth_ce)

YOLO_ANCHORS = [[(10, 13), (16, 30), (33, 23)], [(30, 61), (62, 45), (59, 119)], [(116, 90), (156, 198), (373, 326)]]


def yolo_loss(maps, targets, num_classes, img):
    """mmyolo's YOLOv5 loss in float32 for the throughput peer: tests/golden/gen_yolo_loss.py's reference (whose
    float64 losses and consistency checks are for golden values) with its assignment, CIoU and weights."""
    import gen_yolo_loss as g
    batch = maps[0].shape[0]
    w_cls, w_bbox, w_obj = 0.5 * num_classes / 80, 0.05, (img / 640.0) ** 2
    total = maps[0].new_zeros(())
    for level, m in enumerate(maps):
        m = m.permute(0, 2, 3, 1)  # NCHW -> NHWC, channel a (5 + C) + k
        _, h, w, _ = m.shape
        pred = m.reshape(batch, h, w, 3, 5 + num_classes)
        target_obj = torch.zeros_like(pred[..., 4])
        a = g.assign(targets, img, img, level, h, w)
        if a is not None:
            b, prior, gy, gx, cls, tbox = a
            cell = pred[b, gy, gx, prior]
            s = cell[:, :4].sigmoid()
            priors = (torch.tensor(YOLO_ANCHORS[level], dtype=torch.float32) / g.STRIDES[level])[prior]
            iou = g.ciou(torch.cat((s[:, :2] * 2 - 0.5, (s[:, 2:] * 2) ** 2 * priors), dim=-1), tbox, g.EPS)
            total = total + w_bbox * (1.0 - iou).mean()
            target_obj[b, gy, gx, prior] = iou.detach().clamp(0)
            onehot = torch.zeros(len(b), num_classes)
            onehot[range(len(b)), cls] = 1.0
            total = total + w_cls * F.binary_cross_entropy_with_logits(cell[:, 5:], onehot)
        total = total + w_obj * F.binary_cross_entropy_with_logits(pred[..., 4], target_obj) * \
            g.OBJ_LEVEL_WEIGHTS[level]
    return total * batch


def vae_model():
    """gen_vae.py's VaeModel in float32 without freeze_randn, eps drawn N(0, 1) in training as SSCMA's
    reparameterize does (gen_vae.py fixes eps for golden values)."""
    import gen_vae
    torch.set_default_dtype(torch.float32)  # gen_vae (and gen_models) switch to float64 on import

    class Vae(gen_vae.VaeModel):
        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            return mu + torch.randn_like(std) * std

    return Vae(32, 3, 8, freeze=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["classifier", "fomo", "swift_yolo", "audio", "axes", "vae"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    fomo, yolo, audio = args.model == "fomo", args.model == "swift_yolo", args.model == "audio"
    axes, vae = args.model == "axes", args.model == "vae"
    batch = args.batch or (16 if fomo or yolo or vae else 32)
    if vae:
        model = vae_model()
    else:
        model = Fomo(0.35, 3, 3) if fomo else SwiftYOLO(4) if yolo else AudioClassify(35, drop=0.2) if audio else \
            AccelerometerClassifier(3, 62, 4) if axes else ImageClassifier(0.35, 3, 10)
    model.train()
    if axes:  # SSCMA's recipe: Adam, betas = its "momentum" [0.9, 0.99]; fc2 (unused, no gradient) is skipped
        opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.99), weight_decay=5e-4)
    elif vae:
        opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=5e-4)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 1, 8192) if audio else torch.randn(batch, 186) if axes else \
        torch.randn(batch, 6, 32, 32) if vae else \
        torch.randn(batch, 3, 192 if yolo else 96, 192 if yolo else 96)
    if vae:  # x and c: the first and last three channels of libsscma's [N, 32, 32, 6]
        xi, ci = x[:, :3].contiguous(), x[:, 3:].contiguous()
        model_in, loss_fn = (xi, ci), lambda out: out[-1]  # noqa: E731
    elif audio:
        y = torch.arange(batch) % 10
        loss_fn = lambda out: label_smooth_ce(out, y, 0.1, "sum")  # noqa: E731
    elif axes:
        y = torch.arange(batch) % 4
        loss_fn = lambda out: F.cross_entropy(out, y)  # noqa: E731
    elif yolo:  # the boxes bench_train.c writes: 1..6 per image, 20..100 px, classes 0..3
        t = torch.zeros(batch, 8, 6)
        for b in range(batch):
            for k in range(b % 6 + 1):
                w = 20.0 + (b * 7 + k * 13) % 80
                bx, by = float((b * 31 + k * 47) % int(192 - w)), float((b * 17 + k * 59) % int(192 - w))
                t[b, k] = torch.tensor([k % 4, bx, by, bx + w, by + 0.8 * w, 1.0])
        loss_fn = lambda out: yolo_loss(out, t, 4, 192)  # noqa: E731
    elif fomo:
        t = torch.zeros(batch, 12, 12, 4)
        flat = t.view(-1, 4)
        for i in range(flat.shape[0]):
            flat[i, 1 + i % 3 if i % 20 == 7 else 0] = 1.0
        loss_fn = lambda out: Fomo.loss(out, t)  # noqa: E731
    else:
        y = torch.arange(batch) % 10
        loss_fn = lambda out: F.cross_entropy(out, y)  # noqa: E731

    def step():
        opt.zero_grad()
        loss = loss_fn(model(*model_in) if vae else model(x))
        loss.backward()
        opt.step()

    rates = []
    for r in range(-1, args.repeats):
        n = args.warmup if r < 0 else args.iters
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        if r >= 0:
            rates.append(n * batch / (time.perf_counter() - t0))
    rates.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"model": args.model, "threads": args.threads, "batch": batch,
                      "images_per_s": round(rates[len(rates) // 2], 1), "min": round(rates[0], 1),
                      "max": round(rates[-1], 1), "peak_rss_mb": round(rss, 1), "torch": torch.__version__,
                      "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
