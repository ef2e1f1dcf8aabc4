#!/usr/bin/python3
"""The peer of bench/bench_train.c: the same training step in PyTorch (bench/run train).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_throughput_torch.py classifier|fomo [--threads N]
        [--batch B] [--iters N] [--warmup N] [--repeats R]

The models are tests/golden/ref_models.py's (the layouts libsscma implements): ImageClassifier (MobileNetV2-0.35,
96x96x3, 10 classes) or Fomo (MobileNetV2-0.35 to stride 8, 3 classes). One fixed random batch, SGD lr 0.01
momentum 0.9 weight decay 1e-4; each iteration is zero_grad, forward, loss, backward, step (eager mode, default
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
from ref_models import Fomo, ImageClassifier  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["classifier", "fomo"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    fomo = args.model == "fomo"
    batch = args.batch or (16 if fomo else 32)
    model = Fomo(0.35, 3, 3) if fomo else ImageClassifier(0.35, 3, 10)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 3, 96, 96)
    if fomo:
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
        loss = loss_fn(model(x))
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
