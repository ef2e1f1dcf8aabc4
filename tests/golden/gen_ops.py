#!/usr/bin/python3
"""Golden values for libsscma's ops, computed with PyTorch (Debian's python3-torch) in float64.

Writes tests/golden/ops.bin, read by tests/unit/test_golden.c. Inputs are drawn as float32 and converted to
NHWC / OHWI, libsscma's layouts; PyTorch computes in float64 on the NCHW / OIHW transposes, and the results are
stored as float32. For each case the file holds the inputs, the upstream gradient `dy` (one per output), the
outputs `y` and the gradient of every differentiable input `d<input>`.

File format (little-endian): b"SSCMAGLD", u32 version (1), u32 record count, then per record: u32 name length,
name (UTF-8), u32 dtype (1 = f32, 4 = i32), u32 rank, i64 dims[rank], the data. Names are "<case>/<tensor>".

Run: /usr/bin/python3 tests/golden/gen_ops.py   (deterministic: seeded)
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from golden_io import write_golden

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261127)
records = []


def add(name, array):
    array = np.array(array, order="C")  # keeps 0-d scalars 0-d (ascontiguousarray would not)
    if array.dtype in (np.float32, np.float64):
        array = array.astype(np.float32)
        dtype = 1
    else:
        array = array.astype(np.int32)
        dtype = 4
    records.append((name, dtype, array))


def f32(*shape, low=None, high=None):
    if low is None:
        return rng.standard_normal(shape).astype(np.float32)
    return rng.uniform(low, high, shape).astype(np.float32)


def t(a, grad=True):
    x = torch.from_numpy(np.asarray(a, dtype=np.float64))
    return x.requires_grad_(grad)


def nchw(x):  # NHWC -> NCHW
    return x.permute(0, 3, 1, 2)


def nhwc(x):  # NCHW -> NHWC
    return x.permute(0, 2, 3, 1)


def oihw(w):  # OHWI -> OIHW
    return w.permute(0, 3, 1, 2)


def finish(case, inputs, outputs):
    """inputs: dict name -> (numpy array, torch tensor or None); outputs: list of torch tensors (NHWC already)."""
    for name, (array, _) in inputs.items():
        add(f"{case}/{name}", array)
    grads = []
    for i, y in enumerate(outputs):
        dy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        add(f"{case}/y{i}", y.detach().numpy())
        add(f"{case}/dy{i}", dy)
        grads.append((y, torch.from_numpy(dy.astype(np.float64))))
    leaves = [(n, tt) for n, (_, tt) in inputs.items() if tt is not None and tt.requires_grad]
    if leaves:
        torch.autograd.backward([g[0] for g in grads], [g[1] for g in grads])
        for n, tt in leaves:
            add(f"{case}/d{n}", tt.grad.numpy())


def conv_case(case, n, h, w, cin, cout, k, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1, bias=True,
              same=False):
    """pad = (top, left, bottom, right); same = TF SAME (extra padding at the end)."""
    x = f32(n, h, w, cin)
    wt = f32(cout, k[0], k[1], cin // groups) * 0.5
    b = f32(cout)
    xt, wt_t = t(x), t(wt)
    bt = t(b) if bias else None
    if same:
        def total(size, kk, s, d):
            out = (size + s - 1) // s
            return max((out - 1) * s + d * (kk - 1) + 1 - size, 0)
        th, tw = total(h, k[0], stride[0], dilation[0]), total(w, k[1], stride[1], dilation[1])
        pad = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
    xp = F.pad(nchw(xt), (pad[1], pad[3], pad[0], pad[2]))
    y = F.conv2d(xp, oihw(wt_t), bt, stride=stride, dilation=dilation, groups=groups)
    inputs = {"x": (x, xt), "w": (wt, wt_t)}
    if bias:
        inputs["b"] = (b, bt)
    finish(case, inputs, [nhwc(y)])


def gen_conv():
    conv_case("conv_3x3_s1_p1", 2, 7, 6, 3, 8, (3, 3), pad=(1, 1, 1, 1))
    conv_case("conv_3x3_s2_same", 2, 9, 8, 4, 6, (3, 3), stride=(2, 2), bias=False, same=True)
    conv_case("conv_dilation2", 2, 8, 8, 3, 4, (3, 3), pad=(2, 2, 2, 2), dilation=(2, 2))
    conv_case("conv_groups2", 2, 6, 7, 4, 6, (3, 2), stride=(2, 1), pad=(1, 0, 1, 0), groups=2)
    conv_case("conv_depthwise", 3, 8, 7, 16, 16, (3, 3), pad=(1, 1, 1, 1), groups=16)
    conv_case("conv_depthwise_s2", 2, 9, 9, 8, 8, (3, 3), stride=(2, 2), pad=(1, 1, 1, 1), groups=8, bias=False)
    conv_case("conv_pointwise", 4, 6, 5, 16, 24, (1, 1))
    conv_case("conv_1x1_s2", 2, 7, 7, 8, 8, (1, 1), stride=(2, 2), bias=False)
    conv_case("conv_1d", 2, 1, 16, 4, 6, (1, 5), pad=(0, 2, 0, 2))


def gen_bn():
    for case, shape, training in (("bn_train", (4, 5, 6, 8), True), ("bn_train_2d", (16, 12), True),
                                  ("bn_eval", (3, 4, 4, 8), False)):
        c = shape[-1]
        x = f32(*shape) * 2.0 + 0.5
        gamma, beta = f32(c, low=0.5, high=1.5), f32(c)
        rm, rv = f32(c) * 0.1, f32(c, low=0.5, high=1.5)
        xt, gt, bt = t(x), t(gamma), t(beta)
        rmt, rvt = t(rm, False).clone(), t(rv, False).clone()
        x2 = xt.reshape(-1, c)
        y = F.batch_norm(x2, rmt, rvt, gt, bt, training=training, momentum=0.1, eps=1e-5).reshape(shape)
        finish(case, {"x": (x, xt), "gamma": (gamma, gt), "beta": (beta, bt), "running_mean": (rm, None),
                      "running_var": (rv, None)}, [y])
        add(f"{case}/running_mean_after", rmt.numpy())
        add(f"{case}/running_var_after", rvt.numpy())


def gen_act():
    fns = {
        "relu": F.relu, "relu6": F.relu6, "leaky_relu": lambda v: F.leaky_relu(v, 0.2), "sigmoid": torch.sigmoid,
        "silu": F.silu, "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid, "tanh": torch.tanh,
    }
    for name, fn in fns.items():
        x = f32(2, 4, 5, 6) * 3.0
        # keep away from kinks, where the derivative is a convention
        for kink in (0.0, 6.0, -3.0, 3.0):
            x[np.abs(x - kink) < 1e-3] += 0.01
        xt = t(x)
        finish(f"act_{name}", {"x": (x, xt)}, [fn(xt)])


def gen_pool():
    def distinct(*shape):
        a = (rng.permutation(int(np.prod(shape))).astype(np.float32) * 0.01).reshape(shape)
        return a - a.mean()

    x = distinct(2, 7, 8, 3)
    xt = t(x)
    finish("max_3x3_s2_p1_ceil", {"x": (x, xt)}, [nhwc(F.max_pool2d(nchw(xt), 3, 2, 1, ceil_mode=True))])
    x = distinct(2, 6, 6, 4)
    xt = t(x)
    finish("max_2x2_s2", {"x": (x, xt)}, [nhwc(F.max_pool2d(nchw(xt), 2, 2))])
    x = f32(2, 7, 6, 3)
    xt = t(x)
    finish("avg_3x3_s2_p1", {"x": (x, xt)}, [nhwc(F.avg_pool2d(nchw(xt), 3, 2, 1))])
    x = f32(2, 5, 6, 2)
    xt = t(x)
    finish("avg_2x3_ceil_excl", {"x": (x, xt)},
           [nhwc(F.avg_pool2d(nchw(xt), (2, 3), 2, 1, ceil_mode=True, count_include_pad=False))])
    x = f32(3, 4, 5, 8)
    xt = t(x)
    finish("global_avg", {"x": (x, xt)}, [nhwc(F.adaptive_avg_pool2d(nchw(xt), 1))])
    x = distinct(3, 4, 5, 8)
    xt = t(x)
    finish("global_max", {"x": (x, xt)}, [nhwc(F.adaptive_max_pool2d(nchw(xt), 1))])


def gen_dense():
    x, w, b = f32(6, 20), f32(10, 20) * 0.3, f32(10)
    xt, wt, bt = t(x), t(w), t(b)
    finish("linear", {"x": (x, xt), "w": (w, wt), "b": (b, bt)},
           [F.linear(xt, wt, bt)])
    a, bb = f32(2, 3, 4, 5), f32(2, 1, 1, 5)
    at, bbt = t(a), t(bb)
    finish("add_broadcast", {"a": (a, at), "b": (bb, bbt)}, [at + bbt])
    a, bb = f32(2, 3, 4, 5), f32(2, 1, 1, 5)
    at, bbt = t(a), t(bb)
    finish("mul_broadcast", {"a": (a, at), "b": (bb, bbt)}, [at * bbt])
    x = f32(5, 11) * 2
    xt = t(x)
    finish("softmax", {"x": (x, xt)}, [F.softmax(xt, -1)])
    x = f32(2, 3, 7) * 2
    xt = t(x)
    finish("log_softmax", {"x": (x, xt)}, [F.log_softmax(xt, -1)])


def gen_shape():
    x = f32(2, 3, 4, 5)
    xt = t(x)
    finish("upsample_2x3", {"x": (x, xt)}, [nhwc(F.interpolate(nchw(xt), scale_factor=(2, 3), mode="nearest"))])
    x = f32(2, 3, 4, 2)
    xt = t(x)
    # pad before/after per NHWC axis: H (1, 2), W (2, 0), C (0, 1), value 0.5
    finish("pad", {"x": (x, xt)}, [F.pad(xt, (0, 1, 2, 0, 1, 2), value=0.5)])


def gen_losses():
    z, tgt = f32(8, 5) * 2, rng.integers(0, 5, 8)
    zt = t(z)
    finish("ce_mean", {"logits": (z, zt), "target": (tgt, None)},
           [F.cross_entropy(zt, torch.from_numpy(tgt))])
    z, tgt, w = f32(10, 4) * 2, rng.integers(0, 4, 10), f32(4, low=0.5, high=2.0)
    tgt[[1, 6]] = 2  # hits of ignore_index 2
    zt = t(z)
    finish("ce_weight_smooth_ignore", {"logits": (z, zt), "target": (tgt, None), "weight": (w, None)},
           [F.cross_entropy(zt, torch.from_numpy(tgt), weight=t(w, False), ignore_index=2, label_smoothing=0.1)])
    z, tgt = f32(7, 6), rng.integers(0, 6, 7)
    tgt[3] = -100
    zt = t(z)
    finish("ce_smooth_ignore_unweighted", {"logits": (z, zt), "target": (tgt, None)},
           [F.cross_entropy(zt, torch.from_numpy(tgt), label_smoothing=0.2)])
    z, tgt = f32(6, 3), rng.integers(0, 3, 6)
    zt = t(z)
    finish("ce_sum", {"logits": (z, zt), "target": (tgt, None)},
           [F.cross_entropy(zt, torch.from_numpy(tgt), reduction="sum", label_smoothing=0.2)])
    z, tgt = f32(5, 6), rng.integers(0, 6, 5)
    zt = t(z)
    finish("ce_none", {"logits": (z, zt), "target": (tgt, None)},
           [F.cross_entropy(zt, torch.from_numpy(tgt), reduction="none", label_smoothing=0.1)])
    x, y = f32(2, 3, 4, 5) * 3, f32(2, 3, 4, 5, low=0, high=1)
    xt = t(x)
    finish("bce_mean", {"x": (x, xt), "y": (y, None)}, [F.binary_cross_entropy_with_logits(xt, t(y, False))])
    x, y = f32(2, 3, 3, 4) * 3, (f32(2, 3, 3, 4, low=0, high=1) > 0.7).astype(np.float32)
    wgt, pw = f32(2, 3, 3, 4, low=0, high=1), f32(4, low=1, high=40)
    wgt[0, 0] = 0.0  # masked elements
    xt = t(x)
    finish("bce_weight_posweight_sum", {"x": (x, xt), "y": (y, None), "weight": (wgt, None), "pos_weight": (pw, None)},
           [F.binary_cross_entropy_with_logits(xt, t(y, False), weight=t(wgt, False), pos_weight=t(pw, False),
                                               reduction="sum")])
    x, y = f32(4, 6), f32(4, 6)
    xt = t(x)
    finish("mse", {"x": (x, xt), "y": (y, None)}, [F.mse_loss(xt, t(y, False))])
    xt = t(x)
    finish("l1", {"x": (x, xt), "y": (y, None)}, [F.l1_loss(xt, t(y, False))])
    xt = t(x)
    finish("smooth_l1_beta05_sum", {"x": (x, xt), "y": (y, None)},
           [F.smooth_l1_loss(xt, t(y, False), beta=0.5, reduction="sum")])


def kl_distill(s, t, tau, loss_weight):
    """mmrazor's KLDivergence on the last axis: loss_weight * tau^2 * kl_div(log_softmax(s/tau), softmax(t/tau),
    batchmean) over the rows of [rows, C] (FOMO: every cell a row)."""
    c = s.shape[-1]
    s2, t2 = s.reshape(-1, c), t.reshape(-1, c)
    return loss_weight * tau ** 2 * F.kl_div(F.log_softmax(s2 / tau, dim=1), F.softmax(t2 / tau, dim=1),
                                             reduction="batchmean")


def gen_distill():
    s, te = f32(6, 10) * 3, f32(6, 10) * 4
    st = t(s)
    finish("kl_cls_tau4", {"student": (s, st), "teacher": (te, None)}, [kl_distill(st, t(te, False), 4.0, 1.0)])
    s, te = f32(2, 3, 3, 4) * 2, f32(2, 3, 3, 4) * 5
    st = t(s)
    finish("kl_fomo_tau2_w05", {"student": (s, st), "teacher": (te, None)}, [kl_distill(st, t(te, False), 2.0, 0.5)])
    s, te = f32(3, 5), f32(3, 5) * 30  # a nearly one-hot teacher at tau 1
    st = t(s)
    finish("kl_sharp_tau1", {"student": (s, st), "teacher": (te, None)}, [kl_distill(st, t(te, False), 1.0, 2.0)])


def gen_sscma_losses():
    """SSCMA's LabelSmoothCrossEntropyLoss (smoothing e, reduction sum): target 1 - e on the class, e / (K - 1) on
    each other class, summed over the batch (cross_entropy with smooth_off_target)."""
    z, tgt = f32(6, 7) * 2, rng.integers(0, 7, 6)
    zt = t(z)
    q = torch.full((6, 7), 0.1 / 6, dtype=torch.float64)
    q[torch.arange(6), torch.from_numpy(tgt)] = 0.9
    finish("ce_smooth_off_target_sum", {"logits": (z, zt), "target": (tgt, None)},
           [(-q * F.log_softmax(zt, dim=1)).sum()])


def main():
    gen_conv()
    gen_bn()
    gen_act()
    gen_pool()
    gen_dense()
    gen_shape()
    gen_losses()
    gen_distill()
    gen_sscma_losses()  # last: the cases before keep their random draws
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.bin")
    write_golden(out, records)
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes (torch {torch.__version__})")


if __name__ == "__main__":
    sys.exit(main())
