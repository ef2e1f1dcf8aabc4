#!/usr/bin/python3
"""Golden learning-rate sequences for libsscma's schedulers.

reference() below re-implements mmengine's ParamScheduler semantics (begin/end windows, last_step counting from the
window's start, the chainable formulas, by_epoch vs convert_to_iter_based) from its published code; each formula is
first checked against torch.optim.lr_scheduler on a single scheduler starting at 0, where the two coincide.
Momentum variants (LinearMomentum, ...) apply the same formulas to the momentum; OneCycleLR (not chainable) is
checked against torch.optim.lr_scheduler.OneCycleLR without momentum cycling (mmengine's OneCycleLR cycles only the
learning rate). The optimizer is SGD with lr 0.1 and momentum 0.9.
Writes tests/golden/sched.bin: for each chain, the base lr (and momentum) used at each of 60 iterations (10 per
epoch).

Run: /usr/bin/python3 tests/golden/gen_sched.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
from golden_io import write_golden

EPOCH_LEN, ITERS, BASE, MOMENTUM = 10, 60, 0.1, 0.9

CHAINS = {
    "warmup_cosine": [
        {"type": "LinearLR", "start_factor": 0.1, "by_epoch": False, "begin": 0, "end": 25},
        {"type": "CosineAnnealingLR", "T_max": 6, "eta_min": 1e-5, "by_epoch": True, "begin": 0, "end": 6,
         "convert_to_iter_based": True}],
    "warmup_multistep_epochs": [
        {"type": "LinearLR", "start_factor": 0.001, "by_epoch": False, "begin": 0, "end": 30},
        {"type": "MultiStepLR", "milestones": [2, 4], "gamma": 0.1, "by_epoch": True, "begin": 0, "end": 6}],
    "step_converted": [
        {"type": "StepLR", "step_size": 2, "gamma": 0.5, "by_epoch": True, "convert_to_iter_based": True}],
    "exponential_constant": [
        {"type": "ExponentialLR", "gamma": 0.97, "by_epoch": False},
        {"type": "ConstantLR", "factor": 0.5, "by_epoch": False, "begin": 0, "end": 10}],
    "poly_window": [{"type": "PolyLR", "eta_min": 1e-4, "power": 2.0, "by_epoch": False, "begin": 5, "end": 50}],
    "multistep_begin1": [
        {"type": "MultiStepLR", "milestones": [2, 3], "gamma": 0.1, "by_epoch": True, "begin": 1, "end": 6}],
    "cosine_restart": [{"type": "CosineAnnealingLR", "T_max": 20, "eta_min": 0.01, "by_epoch": False}],
    "onecycle": [{"type": "OneCycleLR", "eta_max": 0.5, "total_steps": 60, "by_epoch": False}],
    "onecycle_three_phase_linear": [
        {"type": "OneCycleLR", "eta_max": 0.3, "total_steps": 6, "pct_start": 0.25, "three_phase": True,
         "anneal_strategy": "linear", "div_factor": 10, "final_div_factor": 100, "by_epoch": True,
         "convert_to_iter_based": True}],
    "momentum_warmup_cosine": [
        {"type": "LinearLR", "start_factor": 0.1, "by_epoch": False, "begin": 0, "end": 25},
        {"type": "LinearMomentum", "start_factor": 0.5, "by_epoch": False, "end": 20},
        {"type": "CosineAnnealingMomentum", "T_max": 6, "eta_min": 0.8, "by_epoch": True,
         "convert_to_iter_based": True},
        {"type": "MultiStepMomentum", "milestones": [4], "gamma": 0.5, "by_epoch": True}],
}


class Sched:
    def __init__(self, cfg, base):
        self.c = dict(cfg)
        self.param = "momentum" if cfg["type"].endswith("Momentum") else "lr"
        self.kind = cfg["type"][:-len("Momentum")] + "LR" if self.param == "momentum" else cfg["type"]
        by_epoch = cfg.get("by_epoch", True)
        convert = cfg.get("convert_to_iter_based", False)
        scale = EPOCH_LEN if by_epoch and convert else 1
        self.by_epoch = by_epoch and not convert
        self.begin = cfg.get("begin", 0) * scale
        self.end = cfg["end"] * scale if "end" in cfg else math.inf
        self.total = self.end - self.begin - 1
        self.t_max = cfg["T_max"] * scale if "T_max" in cfg else self.end - self.begin
        self.total_steps = cfg["total_steps"] * scale if "total_steps" in cfg else self.end - self.begin
        self.step_size = cfg.get("step_size", 0) * scale
        self.milestones = [m * scale for m in cfg.get("milestones", [])]
        self.base, self.last_step, self.global_step = base, -1, 0

    def one_cycle(self):
        c, t, T = self.c, self.last_step, self.total_steps
        peak = c["eta_max"]
        initial = peak / c.get("div_factor", 25.0)
        low = initial / c.get("final_div_factor", 1e4)
        pct = c.get("pct_start", 0.3)
        if c.get("three_phase", False):
            phases = [(pct * T - 1, initial, peak), (2 * pct * T - 2, peak, initial), (T - 1, initial, low)]
        else:
            phases = [(pct * T - 1, initial, peak), (T - 1, peak, low)]
        linear = c.get("anneal_strategy", "cos") == "linear"
        start = 0
        for i, (end, a, b) in enumerate(phases):
            if t <= end or i == len(phases) - 1:
                f = (t - start) / (end - start)
                return (b - a) * f + a if linear else b + (a - b) / 2 * (math.cos(math.pi * f) + 1)
            start = end

    def value(self, lr):
        c, t, k = self.c, self.last_step, self.kind
        if k == "OneCycleLR":
            return self.one_cycle()
        if k == "LinearLR":
            s, e = c.get("start_factor", 1 / 3), c.get("end_factor", 1.0)
            return lr * s if t == 0 else lr * (1 + (e - s) / (self.total * s + (t - 1) * (e - s)))
        if k == "ConstantLR":
            f = c.get("factor", 1 / 3)
            return lr * f if t == 0 else (lr if t != self.total else lr * (1 / f))
        if k == "StepLR":
            return lr if t == 0 or t % self.step_size else lr * c.get("gamma", 0.1)
        if k == "MultiStepLR":
            n = self.milestones.count(t)
            return lr * c.get("gamma", 0.1) ** n if n else lr
        if k == "ExponentialLR":
            return lr if t == 0 else lr * c.get("gamma", 0.1)
        if k == "CosineAnnealingLR":
            eta, T = c.get("eta_min", 0.0), self.t_max
            if t == 0:
                return lr
            if (t - 1 - T) % (2 * T) == 0:
                return lr + (self.base - eta) * (1 - math.cos(math.pi / T)) / 2
            return (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta) + eta
        if k == "PolyLR":
            eta, p = c.get("eta_min", 0.0), c.get("power", 1.0)
            return lr if t == 0 else (lr - eta) * (1 - 1 / (self.total - t + 1)) ** p + eta
        raise ValueError(k)

    def step(self, values):
        if self.begin <= self.global_step < self.end:
            self.last_step += 1
            values[self.param] = max(self.value(values[self.param]), 0.0)
        self.global_step += 1


def reference(chain, param="lr"):
    values = {"lr": BASE, "momentum": MOMENTUM}
    scheds = [Sched(c, values["momentum" if c["type"].endswith("Momentum") else "lr"]) for c in chain]
    for s in scheds:
        s.step(values)
    out = []
    for it in range(ITERS):
        out.append(values[param])
        for s in scheds:
            if not s.by_epoch:
                s.step(values)
        if (it + 1) % EPOCH_LEN == 0:
            for s in scheds:
                if s.by_epoch:
                    s.step(values)
    return out


def torch_single(make, n):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=BASE)
    s = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


def cross_check():
    L = torch.optim.lr_scheduler
    pairs = [
        ({"type": "LinearLR", "start_factor": 0.2, "by_epoch": False, "end": 12}, lambda o: L.LinearLR(o, 0.2, 1.0, 11)),
        ({"type": "ConstantLR", "factor": 0.5, "by_epoch": False, "end": 8}, lambda o: L.ConstantLR(o, 0.5, 7)),
        ({"type": "StepLR", "step_size": 3, "gamma": 0.5, "by_epoch": False}, lambda o: L.StepLR(o, 3, 0.5)),
        ({"type": "MultiStepLR", "milestones": [4, 9, 9], "by_epoch": False}, lambda o: L.MultiStepLR(o, [4, 9, 9])),
        ({"type": "ExponentialLR", "gamma": 0.9, "by_epoch": False}, lambda o: L.ExponentialLR(o, 0.9)),
        ({"type": "CosineAnnealingLR", "T_max": 7, "eta_min": 0.01, "by_epoch": False},
         lambda o: L.CosineAnnealingLR(o, 7, 0.01)),
        ({"type": "PolyLR", "power": 2.0, "by_epoch": False, "end": 16}, lambda o: L.PolynomialLR(o, 15, 2.0)),
        ({"type": "OneCycleLR", "eta_max": 0.5, "total_steps": 40, "by_epoch": False},
         lambda o: L.OneCycleLR(o, 0.5, total_steps=40, cycle_momentum=False)),
        ({"type": "OneCycleLR", "eta_max": 0.4, "total_steps": 40, "pct_start": 0.2, "three_phase": True,
          "anneal_strategy": "linear", "div_factor": 8.0, "final_div_factor": 50.0, "by_epoch": False},
         lambda o: L.OneCycleLR(o, 0.4, total_steps=40, pct_start=0.2, three_phase=True, anneal_strategy="linear",
                                div_factor=8.0, final_div_factor=50.0, cycle_momentum=False)),
    ]
    for cfg, make in pairs:
        ours = reference([cfg])[:30]
        theirs = torch_single(make, 30)
        assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15), (cfg["type"], ours, theirs)


YOLO_IPE, YOLO_EPOCHS, YOLO_BASE_LR, YOLO_BASE_MOMENTUM = 13, 4, 0.01, 0.937
YOLO = {
    "yolov5_linear": {"scheduler_type": "linear", "lr_factor": 0.01, "max_epochs": 4, "warmup_epochs": 1.5,
                      "warmup_bias_lr": 0.1, "warmup_momentum": 0.8, "warmup_mim_iter": 12},
    "yolov5_cosine_round": {"scheduler_type": "cosine", "lr_factor": 0.05, "max_epochs": 6, "warmup_epochs": 2.5 / 13,
                            "warmup_bias_lr": 0.05, "warmup_momentum": 0.6, "warmup_mim_iter": 0},
}


def yolov5_reference(c):
    """mmyolo's YOLOv5ParamSchedulerHook on an SGD optimizer: (lr, bias lr, momentum) used at each iteration."""
    m = c["max_epochs"]
    if c["scheduler_type"] == "linear":
        lf = lambda e: (1 - e / m) * (1.0 - c["lr_factor"]) + c["lr_factor"]  # noqa: E731
    else:
        lf = lambda e: ((1 - math.cos(e * math.pi / m)) / 2) * (c["lr_factor"] - 1) + 1  # noqa: E731
    lr, momentum, out = YOLO_BASE_LR, YOLO_BASE_MOMENTUM, []
    warmup = max(round(c["warmup_epochs"] * YOLO_IPE), c["warmup_mim_iter"])
    for epoch in range(YOLO_EPOCHS):
        for b in range(YOLO_IPE):
            it = epoch * YOLO_IPE + b
            bias = None
            if it <= warmup:
                xp, target = [0, warmup], YOLO_BASE_LR * lf(epoch)
                lr = float(np.interp(it, xp, [0.0, target]))
                bias = float(np.interp(it, xp, [c["warmup_bias_lr"], target]))
                momentum = float(np.interp(it, xp, [c["warmup_momentum"], YOLO_BASE_MOMENTUM]))
            out.append((lr, bias if bias is not None else lr, momentum))
        lr = YOLO_BASE_LR * lf(epoch)
    return out


def main():
    cross_check()
    records = []
    for name, chain in CHAINS.items():
        records.append((f"{name}/lr", np.array(reference(chain), dtype=np.float64).astype(np.float32)))
        if any(c["type"].endswith("Momentum") for c in chain):
            records.append((f"{name}/momentum", np.array(reference(chain, "momentum")).astype(np.float32)))
        cfg = json.dumps(chain).encode()
        records.append((f"{name}/config", np.frombuffer(cfg, dtype=np.uint8).astype(np.float32)))
    for name, c in YOLO.items():
        seq = np.array(yolov5_reference(c))
        records.append((f"{name}/lr", seq[:, 0].astype(np.float32)))
        records.append((f"{name}/bias_lr", seq[:, 1].astype(np.float32)))
        records.append((f"{name}/momentum", seq[:, 2].astype(np.float32)))
        records.append((f"{name}/config", np.frombuffer(json.dumps(c).encode(), dtype=np.uint8).astype(np.float32)))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sched.bin")
    write_golden(out, [(name, np.asarray(a).ravel()) for name, a in records])
    print(f"wrote {out}: {len(records)} records; single schedulers agree with torch.optim.lr_scheduler")


if __name__ == "__main__":
    sys.exit(main())
