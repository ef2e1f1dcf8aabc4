#!/usr/bin/python3
"""Golden values for the AccelerometerClassifier (AxesNet + AxesClsHead) from ref_models.py, in float64.

Weights: gen_models.py's weights_for fill (test_zoo.c has its C twin). Writes tests/golden/axesnet.bin with, for
3 axes x 62 steps, 4 classes, batch 4 (input seed 62): the flattened windows (axis-major, the loader's
[N, 1, 1, 186]), the targets, the parameter count of the layers forward uses (SSCMA's unused fc2 left out), logits
and cross-entropy loss, the gradients of every parameter (of fc1.weight the first 16 rows), then one Adam step (torch.optim.Adam, lr 0.01, betas
(0.9, 0.99), weight_decay 5e-4: the recipe's betas and weight decay) and the logits and loss after it, and the
logits in evaluation mode (the same as training: no batch norm, no dropout).

Run: /usr/bin/python3 tests/golden/gen_axesnet.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_models import add, load_weights, records  # noqa: E402
from golden_io import write_golden  # noqa: E402
from ref_models import AccelerometerClassifier  # noqa: E402

torch.set_default_dtype(torch.float64)


def main():
    rng = np.random.default_rng(62)
    model = AccelerometerClassifier(num_axes=3, window_size=62, num_classes=4)
    load_weights(model)
    windows = (rng.standard_normal((4, 1, 1, 186)) * 4.0).astype(np.float32)
    target = np.array([2, 0, 3, 2], dtype=np.int32)
    add("axesnet/image", windows)
    add("axesnet/target", target)
    used = [p for n, p in model.named_parameters() if not n.startswith("backbone.fc2.")]
    add("axesnet/params", np.array([sum(p.numel() for p in used)], dtype=np.int32))
    x = torch.from_numpy(windows.astype(np.float64)).reshape(4, 186)
    t = torch.from_numpy(target.astype(np.int64))
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, t)
    loss.backward()
    add("axesnet/train/logits", logits.detach().numpy())
    add("axesnet/train/loss", loss.detach().numpy())
    for name, p in model.named_parameters():
        if p.grad is not None:  # fc1.weight's first 16 rows only (the file stays small)
            add(f"axesnet/train/grad/{name}", p.grad.numpy()[:16] if name == "backbone.fc1.weight" else p.grad.numpy())
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.99), weight_decay=5e-4)
    opt.step()
    logits = model(x)
    add("axesnet/step1/logits", logits.detach().numpy())
    add("axesnet/step1/loss", F.cross_entropy(logits, t).detach().numpy())
    load_weights(model)
    model.eval()
    with torch.no_grad():
        add("axesnet/eval/logits", model(x).numpy())
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "axesnet.bin")
    write_golden(out, records)
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    sys.exit(main())
