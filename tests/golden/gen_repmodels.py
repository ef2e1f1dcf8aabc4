#!/usr/bin/python3
"""Golden values for SSCMA 2.0.0's MobileNetv2 with rep=True (RepConv1x1 blocks), from ref_models.py's from-scratch
reference: the FOMO default (fomo_mobnetv2_0.35_x8_abl_coco: 2 classes, 96x96) and the classifier
(mobnetv2_0.35_rep_*: 10 classes). Writes tests/golden/rep_models.bin with, per model: parameters and MACs as
libsscma counts them (training form: the branches; SSCMA's fuse_conv, recomputed at every eval(), is not a
parameter), and at 64x64 the training-mode output, loss and gradients and the evaluation-mode output, which the
reference computes through the fused 3x3 convolutions (so libsscma's branch graph is checked against the fusion).
Weights are filled with gen_models.py's weights_hashed (test_zoo.c has the C twin): the sine fill leaves the stacked
batch norms ill-conditioned. Biases that only feed training-mode batch norms have a zero gradient and are not
recorded (rounding noise against zero).

Run: /usr/bin/python3 tests/golden/gen_repmodels.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_models as gm  # noqa: E402  (its fills, family_records and record list; float64)
from golden_io import write_golden  # noqa: E402
from ref_models import Fomo, FomoRep, RepImageClassifier  # noqa: E402


def train_form_counts(model, shape_nchw):
    """Parameters and MACs (convolutions: output elements x weights per output; linear: in x out), one sample,
    counted on the training form, which runs every branch."""
    macs = [0]

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            macs[0] += output[0].numel() * module.weight[0].numel()
        elif isinstance(module, torch.nn.Linear):
            macs[0] += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.train()
    with torch.no_grad():
        model(torch.zeros((2,) + tuple(shape_nchw[1:])))  # batch 2 for the batch norms; hooks count sample 0
    for handle in handles:
        handle.remove()
    return [sum(p.numel() for p in model.parameters()), macs[0]]


def main():
    gm.records.clear()
    rng = np.random.default_rng(20)
    gm.add("repfomo/counts_96", np.array(train_form_counts(FomoRep(0.35, 3, 2), (1, 3, 96, 96)), dtype=np.int64))
    gm.add("repcls/counts_96", np.array(train_form_counts(RepImageClassifier(0.35, 3, 10), (1, 3, 96, 96)),
                                        dtype=np.int64))
    fomo = FomoRep(0.35, 3, 2)
    target = np.zeros((2, 8, 8, 3), dtype=np.float32)
    target[..., 0] = 1.0
    for b, y, x, c in ((0, 2, 3, 1), (0, 5, 5, 2), (1, 1, 6, 2), (1, 7, 0, 1)):
        target[b, y, x, 0], target[b, y, x, c] = 0.0, 1.0
    image = rng.standard_normal((2, 64, 64, 3)).astype(np.float32)
    gm.family_records("repfomo", NCHWOut(fomo), image, target,
                      "logits", lambda out, t: Fomo.loss(out.permute(0, 3, 1, 2), t.double()),
                      ["backbone.conv1.conv.weight", "backbone.layer1.0.conv3x3.conv.weight",
                       "backbone.layer1.0.dense_norm.weight", "backbone.layer2.1.conv.3.conv.weight",
                       "backbone.layer2.1.norm.2.weight", "backbone.layer3.0.conv.5.norm.bias",
                       "backbone.layer3.2.dense_norm.bias", "backbone.layer3.2.norm.5.bias",
                       "head.convs_pred.0.weight"], fill=gm.weights_hashed)
    with torch.no_grad():  # the deployable model's output: softmax over the channels of the evaluation logits
        fomo.eval()
        x = torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2)
        gm.add("repfomo/eval/probs", torch.softmax(fomo(x), 1).permute(0, 2, 3, 1).numpy())
    cls = RepImageClassifier(0.35, 3, 10)
    gm.family_records("repcls", cls, rng.standard_normal((4, 64, 64, 3)).astype(np.float32),
                      np.array([3, 0, 7, 3], dtype=np.int32), "logits",
                      lambda out, t: F.cross_entropy(out, t.long()),
                      ["backbone.conv1.norm.weight", "backbone.layer1.0.conv.0.conv.weight",
                       "backbone.layer2.0.norm.0.weight", "backbone.layer3.2.conv3x3.norm.weight",
                       "backbone.layer3.2.conv.5.conv.weight", "backbone.layer3.2.conv.5.norm.bias",
                       "head.fc.weight", "head.fc.bias"], fill=gm.weights_hashed)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rep_models.bin")
    write_golden(out, gm.records)
    print(f"wrote {out}: {len(gm.records)} records, {os.path.getsize(out)} bytes")


class NCHWOut(torch.nn.Module):
    """A model whose NCHW map output is recorded NHWC (libsscma's layout), keeping the wrapped names."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, x):
        return self.m(x).permute(0, 2, 3, 1)

    def state_dict(self, *args, **kwargs):
        return self.m.state_dict(*args, **kwargs)

    def named_parameters(self, *args, **kwargs):
        return self.m.named_parameters(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
