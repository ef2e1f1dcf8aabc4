#!/usr/bin/python3
"""The Fashion-MNIST recipe of examples/train_fashion_mnist in PyTorch, as the peer of bench/run's "fmnist" figure.

MobileNetV2-0.35 (tests/golden/ref_models.py: the torchvision layout libsscma implements), gray 28x28 images padded
by 2 to 32x32, random horizontal flip, normalised with mean 72.94 and std 90.02 (0..255 scale), batch 64, AdamW
(lr 1e-3, weight decay 1e-4), cosine annealing per iteration over the epochs, no warm-up. Reads Debian's
dataset-fashion-mnist IDX files directly. Prints one JSON line like the C example.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_fmnist_torch.py [--epochs 8] [--threads 2] [--train N]
        [--stop-at 87]      (one JSON line per epoch with the test top-1 and the training seconds so far)
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from ref_models import ImageClassifier  # noqa: E402

ROOT = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    for path in (os.path.join(ROOT, name), os.path.join(ROOT, name + ".gz")):
        if os.path.exists(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            ndim = data[3]
            dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    raise FileNotFoundError(name)


def prepare(images):
    x = torch.from_numpy(images.astype(np.float32))
    x = torch.nn.functional.pad(x, (2, 2, 2, 2))
    return ((x - 72.94) / 90.02).unsqueeze(1)  # N, 1, 32, 32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stop-at", type=float, default=0.0,
                    help="evaluate after every epoch (not timed) and stop once the test top-1 reaches this (percent)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr = read_idx("train-images-idx3-ubyte"), read_idx("train-labels-idx1-ubyte")
    xte, yte = read_idx("t10k-images-idx3-ubyte"), read_idx("t10k-labels-idx1-ubyte")
    if args.train > 0:
        xtr, ytr = xtr[:args.train], ytr[:args.train]
    xtr, xte = prepare(xtr), prepare(xte)
    ytr, yte = torch.from_numpy(ytr.astype(np.int64)), torch.from_numpy(yte.astype(np.int64))
    model = ImageClassifier(widen_factor=0.35, in_channels=1, num_classes=10)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    iters = math.ceil(len(xtr) / 64)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * iters)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(xtr), generator=gen)
        for b in range(iters):
            idx = order[b * 64:(b + 1) * 64]
            x = xtr[idx].clone()
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x[flip] = x[flip].flip(-1)
            loss = loss_fn(model(x), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}", file=sys.stderr)
        if args.stop_at > 0:
            trained = time.perf_counter() - t0
            model.eval()
            with torch.no_grad():
                hits = sum((model(xte[b:b + 256]).argmax(1) == yte[b:b + 256]).sum().item()
                           for b in range(0, len(xte), 256))
            acc = 100.0 * hits / len(xte)
            print(json.dumps({"epoch": epoch + 1, "top1": round(acc, 2), "train_seconds": round(trained, 1)}),
                  flush=True)
            if acc >= args.stop_at:
                return 0
            t0 = time.perf_counter() - trained  # evaluation is not training time
    seconds = time.perf_counter() - t0
    model.eval()
    correct = 0
    with torch.no_grad():
        for b in range(0, len(xte), 256):
            correct += (model(xte[b:b + 256]).argmax(1) == yte[b:b + 256]).sum().item()
    top1 = 100.0 * correct / len(xte)
    print(json.dumps({"top1": round(top1, 2), "epochs": args.epochs, "train_samples": len(xtr),
                      "seconds": round(seconds, 1), "images_per_s": round(len(xtr) * args.epochs / seconds, 1),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    sys.exit(main())
