#!/usr/bin/python3
"""Golden values for libsscma's optimizers: 20 steps of torch.optim (float32) on fixed parameters and gradients.

Parameters (flat, any layout: the updates are element-wise): conv.weight [4,3,3,2], conv.bias [4] (a bias),
bn.weight [4] (a norm weight), head.fc.weight [3,8]. Parameter groups as mmengine's paramwise_cfg
{"norm_decay_mult": 0, "bias_decay_mult": 0, "custom_keys": {"head": {"lr_mult": 2, "decay_mult": 0.5}}}.
Writes tests/golden/optim.bin (format as gen_ops.py): "<param>/init", "step<k>/<param>/grad" (k = 0..19) and, for
each case, "<case>/<param>/final".

Run: /usr/bin/python3 tests/golden/gen_optim.py
"""
import os
import sys

import numpy as np
import torch
from golden_io import write_golden

PARAMS = [("conv.weight", (4, 3, 3, 2), "plain"), ("conv.bias", (4,), "bias"), ("bn.weight", (4,), "norm"),
          ("head.fc.weight", (3, 8), "head")]
STEPS = 20

CASES = {
    "sgd_momentum": ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=1e-3), None),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), None),
    "sgd_dampening": ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.25), None),
    "sgd_plain_clip": ("SGD", dict(lr=0.1), 1.5),
    "adam": ("Adam", dict(lr=0.01, betas=(0.9, 0.99), eps=1e-7, weight_decay=1e-2), None),
    "adam_amsgrad": ("Adam", dict(lr=0.02, amsgrad=True), None),
    "adamw": ("AdamW", dict(lr=0.01, weight_decay=0.05), None),
    "adamw_amsgrad_clip": ("AdamW", dict(lr=0.005, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.95)), 0.8),
}

records = []


def add(name, a):
    records.append((name, np.ascontiguousarray(a, dtype=np.float32)))


def groups(tensors, base):
    lr, wd = base["lr"], base.get("weight_decay", 0.0)
    out = []
    for (name, _, kind), t in zip(PARAMS, tensors):
        g = {"params": [t]}
        if kind == "head":
            g["lr"], g["weight_decay"] = lr * 2.0, wd * 0.5
        elif kind in ("bias", "norm"):
            g["weight_decay"] = 0.0
        out.append(g)
    return out


def main():
    rng = np.random.default_rng(11)
    init = {n: rng.standard_normal(s).astype(np.float32) for n, s, _ in PARAMS}
    grads = [{n: (rng.standard_normal(s) * (1 + k % 3)).astype(np.float32) for n, s, _ in PARAMS} for k in range(STEPS)]
    for n, _, _ in PARAMS:
        add(f"{n}/init", init[n])
    for k in range(STEPS):
        for n, _, _ in PARAMS:
            add(f"step{k}/{n}/grad", grads[k][n])
    for case, (kind, kw, clip) in CASES.items():
        tensors = [torch.nn.Parameter(torch.from_numpy(init[n].copy())) for n, _, _ in PARAMS]
        opt = getattr(torch.optim, kind)(groups(tensors, kw), **kw)
        for k in range(STEPS):
            for (n, _, _), t in zip(PARAMS, tensors):
                t.grad = torch.from_numpy(grads[k][n].copy())
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(tensors, clip)
            opt.step()
        for (n, _, _), t in zip(PARAMS, tensors):
            add(f"{case}/{n}/final", t.detach().numpy())
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.bin")
    write_golden(out, records)
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes (torch {torch.__version__})")


if __name__ == "__main__":
    sys.exit(main())
