#!/usr/bin/python3
"""Pretrained-weight fixtures: one small PyTorch classifier's state dict in the two forms libsscma reads.

The model is ref_models' MobileNetV2 (widen 0.35, 1 input channel, stages 0..1: features.0..3, 8 output channels)
with a Linear head of 4 classes, randomly initialised (seed 20) and with random batch norm statistics, so that
every tensor is distinct. Writes to tests/golden/pretrained/:
  cls4.ckpt  the state dict through tools/torch2sscma.py (OIHW -> OHWI by numpy), as a user converts one
  cls4.onnx  torch.onnx.export of the same model (training mode: no batch norm folding, so the initializers keep
             the state dict's names and PyTorch's OIHW layout)
tests/unit/test_pretrained.c loads both into the same libsscma model and expects identical tensors.

Run: /usr/bin/python3 tests/golden/gen_pretrained.py
"""
import json
import os
import sys

import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "tools"))
from ref_models import Head, MobileNetV2  # noqa: E402
import torch2sscma  # noqa: E402


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = MobileNetV2(0.35, 1, last_stage=1)
        self.head = Head(self.backbone.out_channels, 4)

    def forward(self, x):
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(self.backbone(x), 1), 1))


CONFIG = {"type": "ImageClassifier", "input_size": [32, 32],
          "backbone": {"type": "MobileNetV2", "widen_factor": 0.35, "in_channels": 1, "out_indices": [1]},
          "neck": {"type": "GlobalAveragePooling"},
          "head": {"type": "LinearClsHead", "num_classes": 4, "in_channels": 8}}


def main():
    torch.manual_seed(20)
    model = Classifier()
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_mean"):
                t.copy_(torch.randn_like(t) * 0.1)
            elif name.endswith("running_var"):
                t.copy_(torch.rand_like(t) + 0.5)
            elif name.endswith(".weight") or name.endswith(".bias"):
                t.copy_(torch.randn_like(t) * 0.2)
    out = os.path.join(here, "pretrained")
    os.makedirs(out, exist_ok=True)
    state = {k: v for k, v in model.state_dict().items()}
    pth = os.path.join(out, "cls4.pth.tmp")
    torch.save(state, pth)
    tensors = torch2sscma.load_state_dict(pth)
    os.unlink(pth)
    torch2sscma.write_checkpoint(os.path.join(out, "cls4.ckpt"), tensors, CONFIG, "ImageClassifier")
    model.train()
    for m in model.modules():  # tracing runs a training forward: keep the running statistics as saved
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.0
    torch.onnx.export(model, torch.zeros(1, 1, 32, 32), os.path.join(out, "cls4.onnx"),
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False, opset_version=13)
    print("wrote", out, len(tensors), "tensors")


if __name__ == "__main__":
    main()
