#!/usr/bin/python3
"""Golden values for libsscma's RTMDet (lib/zoo/rtmdet.c) from the PyTorch reference in ref_models.py (RTMDet).

Writes tests/golden/rtmdet_model.bin (format as gen_ops.py):
- counts/<variant>_<h>x<w>: [parameters, convolution MACs (libsscma's count), batch-norm output elements,
  upsampled elements, global-average-pool input elements] for one image, each as two int32 (count // 10^6,
  count % 10^6) since 640x640 MACs exceed int32; variants `relu` (SSCMA's
  rtmdet_nano_8xb32_300e_coco_relu: ReLU, channel attention, split max pools) and `relu6` (…_ncadc_relu6: ReLU6,
  neither), 80 classes at 640x640 (SSCMA's size) and at 192x192;
- <tag>/image and <tag>/eval/{cls,reg}_{0,1,2} (NHWC): evaluation-mode forward of two small cases with gen_models.py's
  hashed weights (float64): `relu2` (2 classes, 64x96, batch 2) and `relu6_3` (3 classes, 96x64, batch 1).
tests/unit/test_zoo.c reads them.

Run: /usr/bin/python3 tests/golden/gen_rtmdet_model.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_models import load_weights, weights_hashed  # noqa: E402  (also sets float64 as the default dtype)
from golden_io import write_golden  # noqa: E402
from ref_models import RTMDet  # noqa: E402

records = []


def add(name, array, dtype=1):
    records.append((name, dtype, np.array(array, order="C")))


def variant(name, num_classes):
    if name == "relu":
        return RTMDet(num_classes, channel_attention=True, split_max_pool_kernel=True, act=nn.ReLU)
    return RTMDet(num_classes, channel_attention=False, split_max_pool_kernel=False, act=nn.ReLU6)


def counts(model, h, w):
    c = {"conv": 0, "bn": 0, "up": 0, "gap": 0}

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            c["conv"] += output.numel() * module.weight[0].numel()
        elif isinstance(module, nn.BatchNorm2d):
            c["bn"] += output.numel()
        elif isinstance(module, nn.Upsample):
            c["up"] += output.numel()
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            c["gap"] += inputs[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, h, w))
    for handle in handles:
        handle.remove()
    params = sum(p.numel() for p in model.parameters())
    return [params, c["conv"], c["bn"], c["up"], c["gap"]]


def main():
    for name in ("relu", "relu6"):
        model = variant(name, 80)
        for h, w in ((640, 640), (192, 192)):
            cnt = counts(model, h, w)
            add(f"counts/{name}_{h}x{w}", np.array([[x // 10**6, x % 10**6] for x in cnt], dtype=np.int64).ravel(), 4)
            flops = cnt[1] + 2 * cnt[2] + cnt[3] + cnt[4]
            print(f"{name} {h}x{w}: {cnt[0]} parameters, {cnt[1]} conv MACs, {flops} FLOPs (conv MACs + 2 per BN "
                  f"output + 1 per upsampled element + 1 per pooled input)")
    rng = np.random.default_rng(20)
    for tag, name, classes, shape in (("relu2", "relu", 2, (2, 64, 96, 3)), ("relu6_3", "relu6", 3, (1, 96, 64, 3))):
        model = variant(name, classes)
        load_weights(model, weights_hashed)
        image = rng.standard_normal(shape).astype(np.float32)
        add(f"{tag}/image", image)
        model.eval()
        with torch.no_grad():
            cls, reg = model(torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2))
        for l in range(3):
            add(f"{tag}/eval/cls_{l}", cls[l].permute(0, 2, 3, 1).numpy().astype(np.float32))
            add(f"{tag}/eval/reg_{l}", reg[l].permute(0, 2, 3, 1).numpy().astype(np.float32))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rtmdet_model.bin")
    write_golden(out, [(n, d, a.astype(np.int32) if d == 4 else a) for n, d, a in records])
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
