#!/usr/bin/python3
"""Golden values for Audio_classify (SoundNetRaw + Audio_head) from ref_models.py, in float64.

Weights: gen_models.py's weights_for fill in libsscma's layout (test_zoo.c has its C twin); Conv1d weights [O, I, k]
are filled as libsscma's [O, 1, k, I], and the AADownsample buffers `filt` are filled too (so the blur is checked
with arbitrary taps; test_zoo.c checks the real taps separately). Two cases, both nf 2, factors [4, 4, 4],
out_channel 36, drop 0 (dropout is not compared):
  soundnet/long:  L 8192, 35 classes, batch 2 (SSCMA's recipe; parameter count 23,953)
  soundnet/short: L 1024, 4 classes, batch 3 (parameter count 22,806)
Each: the waveforms [N, 1, L, 1] (libsscma's NHWC), targets, parameter count, training-mode logits and
LabelSmoothCrossEntropyLoss(smoothing 0.1, reduction sum), every parameter's gradient, the running statistics after
that forward, evaluation-mode logits with them, and the logits after one AdamW step (lr 3e-4, betas (0.9, 0.99),
weight decay 5e-4, eps 1e-7: the recipe's optimizer) in training mode.

Run: /usr/bin/python3 tests/golden/gen_soundnet.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_models import add, records, weights_for  # noqa: E402
from golden_io import write_golden  # noqa: E402
from ref_models import AudioClassify, label_smooth_ce  # noqa: E402

torch.set_default_dtype(torch.float64)


def load_weights(model):
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        shape = tuple(tensor.shape)
        if len(shape) == 3:  # Conv1d [O, I, k] (and filt [C, 1, k]): libsscma's [O, 1, k, I]
            o, i, k = shape
            w = weights_for(name, (o, 1, k, i)).reshape(o, k, i).transpose(0, 2, 1)
        else:
            w = weights_for(name, shape)
        tensor.copy_(torch.from_numpy(np.ascontiguousarray(w).astype(np.float64)))


def to_nlk1(t):
    """[N, C, L] or [O, I, k] -> libsscma's [N, 1, L, C] / [O, 1, k, I]."""
    return t.permute(0, 2, 1).unsqueeze(1).contiguous() if t.dim() == 3 else t


def case(tag, length, n_cls, batch, seed):
    rng = np.random.default_rng(seed)
    model = AudioClassify(n_cls)
    load_weights(model)
    wave = (rng.standard_normal((batch, 1, length)) * 0.5).astype(np.float32)
    target = rng.integers(0, n_cls, batch).astype(np.int32)
    add(f"{tag}/image", wave.reshape(batch, 1, length, 1))
    add(f"{tag}/target", target)
    add(f"{tag}/params", np.array([sum(p.numel() for p in model.parameters())], dtype=np.int32))
    x = torch.from_numpy(wave.astype(np.float64))
    t = torch.from_numpy(target.astype(np.int64))
    model.train()
    logits = model(x)
    loss = label_smooth_ce(logits, t, 0.1, "sum")
    loss.backward()
    add(f"{tag}/train/logits", logits.detach().numpy())
    add(f"{tag}/train/loss", loss.detach().numpy())
    for name, p in model.named_parameters():
        add(f"{tag}/train/grad/{name}", to_nlk1(p.grad).numpy())
    for name, b in model.named_buffers():
        if "running" in name:
            add(f"{tag}/train/{name}", b.numpy())
    model.eval()
    with torch.no_grad():
        add(f"{tag}/eval/logits", model(x).numpy())
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.99), weight_decay=5e-4, eps=1e-7)
    opt.step()
    with torch.no_grad():
        add(f"{tag}/step1/logits", model(x).numpy())


def main():
    case("soundnet/long", 8192, 35, 2, 8192)
    case("soundnet/short", 1024, 4, 3, 1024)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "soundnet.bin")
    write_golden(out, records)
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    sys.exit(main())
