#!/usr/bin/python3
"""Golden values for channel pruning (lib/zoo/prune.c), from torch-pruning's dependency graph.

The reference is ref_models.ImageClassifier (MobileNetV2-0.35, 10 classes, 3 x 32 x 32) with the hashed fill of
gen_models.py (weights_hashed; tests/unit/test_prune.c has the C twin). For each criterion, torch-pruning's
MetaPruner (pruning_ratio 0.5 per group, the stem conv, the last conv and the classifier ignored: libsscma's default
protections) prunes it; the kept output channels of every conv and linear layer and the pruned model's logits in
evaluation mode are recorded: "<criterion>/kept/<param name>" (i32) and "<criterion>/logits" (f32), and the input
"image" (NHWC). Criteria: l1 and l2 (tp.importance.MagnitudeImportance p=1 / p=2, group reduction "mean", normalizer
"mean": its defaults), bn_scale (BNScaleImportance) and fpgm (torch-pruning 1.3 has none: FPGMImportance below
scores a group by the mean over its producing layers of each filter's summed L2 distance to that layer's filters).

torch-pruning: PyPI torch-pruning 1.3.7 (its wheel runs with Debian's torch 1.13), e.g.
  pip download --no-deps torch-pruning==1.3.7 && python3 -m zipfile -e torch_pruning-1.3.7-py3-none-any.whl DIR
Run: PYTHONPATH=DIR /usr/bin/python3 tests/golden/gen_prune.py
"""
import os
import sys

import numpy as np
import torch
import torch_pruning as tp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_models import ImageClassifier  # noqa: E402
from gen_models import load_weights, weights_hashed  # noqa: E402
from golden_io import write_golden  # noqa: E402

torch.set_default_dtype(torch.float64)


class FPGMImportance(tp.importance.Importance):
    """Filter pruning via geometric median (He et al. 2019), per group: mean over the conv/linear layers whose
    output channels the group holds of sum_j ||w_i - w_j||_2."""

    @torch.no_grad()
    def __call__(self, group):
        imps = []
        for dep, idxs in group:
            layer, fn = dep.layer, dep.pruning_fn
            if fn not in (tp.prune_conv_out_channels, tp.prune_linear_out_channels):
                continue
            w = layer.weight.data.flatten(1)
            imp = torch.cdist(w.unsqueeze(0), w.unsqueeze(0), p=2).squeeze(0).sum(1)
            imps.append(imp[idxs])
        if not imps:
            return None
        imp = torch.stack(imps).mean(0)
        return imp / imp.mean()


def prune(importance, image):
    model = ImageClassifier(widen_factor=0.35, in_channels=3, num_classes=10)
    load_weights(model, weights_hashed)
    model.eval()
    names = {m: n for n, m in model.named_modules()}
    original = {n: m.weight.shape[0] for n, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d,
                                                                                         torch.nn.Linear))}
    ignored = [model.backbone.features[0][0], model.backbone.features[18][0], model.head.fc]
    pruner = tp.pruner.MetaPruner(model, torch.randn(1, 3, 32, 32), importance=importance, pruning_ratio=0.5,
                                  ignored_layers=ignored)
    removed = {n: set() for n in original}
    for group in pruner.step(interactive=True):
        for dep, idxs in group:
            if dep.pruning_fn in (tp.prune_conv_out_channels, tp.prune_linear_out_channels,
                                  tp.prune_depthwise_conv_out_channels):
                removed[names[dep.layer]].update(int(i) for i in idxs)
        group.prune()
    kept = {n: np.array(sorted(set(range(c)) - removed[n]), dtype=np.int32) for n, c in original.items()}
    with torch.no_grad():
        logits = model(torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2))
    return kept, logits.numpy()


def main():
    rng = np.random.default_rng(27)
    image = rng.standard_normal((2, 32, 32, 3)).astype(np.float32)
    records = [("image", image)]
    criteria = {"l1": tp.importance.MagnitudeImportance(p=1), "l2": tp.importance.MagnitudeImportance(p=2),
                "bn_scale": tp.importance.BNScaleImportance(), "fpgm": FPGMImportance()}
    for crit, imp in criteria.items():
        kept, logits = prune(imp, image)
        for name, idx in kept.items():
            records.append((f"{crit}/kept/{name}.weight", 4, idx))
        records.append((f"{crit}/logits", logits))
    write_golden(os.path.join(os.path.dirname(os.path.abspath(__file__)), "prune.bin"), records)


if __name__ == "__main__":
    sys.exit(main())
