#!/usr/bin/python3
"""Golden values for libsscma's model families, from the PyTorch references in ref_models.py.

Weights are not stored: both sides fill every parameter and buffer with the same formula of its name and element
index (weights_for below; tests/unit/test_zoo.c has the C twin), in libsscma's layout (OHWI), so the file stays
small. Writes tests/golden/models.bin (format as gen_ops.py) with, for the ImageClassifier (MobileNetV2-0.35, 10
classes, 64x64x3, batch 4): the input, the targets, logits and loss in training mode, the running statistics after
that forward, the gradients of a selection of parameters, and logits in evaluation mode.

Run: /usr/bin/python3 tests/golden/gen_models.py
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_models import PFLD, Fomo, ImageClassifier, MobileNetV3Classifier, PFLDMobileNetV3, SwiftYOLO  # noqa: E402
from golden_io import write_golden

torch.set_default_dtype(torch.float64)


def fnv1a(name):
    h = 1469598103934665603
    for b in name.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def weights_for(name, shape_ohwi):
    """The deterministic fill shared with test_zoo.c: a sine of the element index, phase from the name."""
    n = int(np.prod(shape_ohwi))
    phase = (fnv1a(name) % 1000) * 0.001 * 6.283185307179586
    s = np.sin(0.37 * np.arange(n, dtype=np.float64) + phase)
    if name.endswith("running_var"):
        v = 1.0 + 0.3 * np.abs(s)
    elif name.endswith("running_mean"):
        v = 0.1 * s
    elif len(shape_ohwi) == 1 and name.endswith("weight"):  # batch-norm scale
        v = 1.0 + 0.2 * s
    elif name.endswith("bias"):
        v = 0.1 * s
    else:  # conv and linear weights: about 1.5 / sqrt(fan_in)
        fan_in = n // shape_ohwi[0]
        v = 1.5 / math.sqrt(fan_in) * s
    return v.astype(np.float32).reshape(shape_ohwi)


def hashed_uniform(name, n):
    """splitmix64 of (FNV-1a(name) + index * golden gamma), top 24 bits: uniform in [-1, 1), exact in float32 (the
    C twin is in tests/unit/test_zoo.c)."""
    with np.errstate(over="ignore"):
        z = np.uint64(fnv1a(name)) + np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 23) - 1.0


def weights_hashed(name, shape_ohwi):
    """A fill without the sine's structure, for deep networks (Swift-YOLO), whose batch-norm stacks the sine fill
    leaves ill-conditioned: conv weights uniform with He's variance 2 / fan_in, the rest as weights_for."""
    n = int(np.prod(shape_ohwi))
    u = hashed_uniform(name, n)
    if name.endswith("running_var"):
        v = 1.0 + 0.3 * np.abs(u)
    elif name.endswith("running_mean"):
        v = 0.1 * u
    elif len(shape_ohwi) == 1 and name.endswith("weight"):
        v = 1.0 + 0.2 * u
    elif name.endswith("bias"):
        v = 0.1 * u
    else:
        v = math.sqrt(6.0 / (n // shape_ohwi[0])) * u
    return v.astype(np.float32).reshape(shape_ohwi)


records = []


def add(name, array):
    array = np.array(array, order="C")
    if array.dtype.kind == "f":
        records.append((name, 1, array.astype(np.float32)))
    else:
        records.append((name, 4, array.astype(np.int32)))


def load_weights(model, fill=None):
    fill = fill or weights_for
    state = model.state_dict()
    for name, tensor in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        shape = tuple(tensor.shape)
        if len(shape) == 4:  # OIHW in torch, OHWI in libsscma
            o, i, kh, kw = shape
            w = fill(name, (o, kh, kw, i)).transpose(0, 3, 1, 2)
        else:
            w = fill(name, shape)
        tensor.copy_(torch.from_numpy(w.astype(np.float64)))


def to_ohwi(t):
    return t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t


def swift_yolo_counts(model, h, w):
    """Parameters, convolution MACs (libsscma's count) and the FLOPs mmengine's get_model_complexity_info reports
    (its fvcore-style handles, evaluation mode: a convolution counts its MACs without the bias, a batch norm with
    affine parameters 2 per output element, a nearest upsampling 1 per output element; ReLU, max pooling, concat
    and add count nothing) for one h x w image."""
    counts = {"conv": 0, "bn": 0, "upsample": 0}

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            counts["conv"] += output.numel() * module.weight[0].numel()
        elif isinstance(module, torch.nn.BatchNorm2d):
            counts["bn"] += 2 * output.numel()
        elif isinstance(module, torch.nn.Upsample):
            counts["upsample"] += output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, model.backbone.stem.conv.in_channels, h, w))
    for handle in handles:
        handle.remove()
    params = sum(p.numel() for p in model.parameters())
    return [params, counts["conv"], counts["conv"] + counts["bn"] + counts["upsample"]]


def swift_yolo_records():
    """Swift-YOLO (mmyolo's YOLOv5, ReLU): counts at SSCMA's zoo-card size, forward outputs (evaluation mode) on
    small images with the hashed fill, and the head's prior bias init (mmyolo's init_weights on zero biases).
    Training-mode outputs are not recorded: through ~60 batch norms on batch statistics float32 itself strays from
    float64 by up to ~1e-3 (PyTorch's own float32 run), so they cannot be checked at the goldens' 1e-4."""
    rng = np.random.default_rng(19)
    tiny = SwiftYOLO(num_classes=1, deepen_factor=0.33, widen_factor=0.15)
    add("yolo_tiny/counts_192", np.array(swift_yolo_counts(tiny, 192, 192), dtype=np.int32))
    nano = SwiftYOLO(num_classes=3, deepen_factor=0.33, widen_factor=0.25)
    add("yolo_nano3/counts_96x64", np.array(swift_yolo_counts(nano, 96, 64), dtype=np.int32))
    head = nano.bbox_head.head_module
    with torch.no_grad():
        for conv in head.convs_pred:
            conv.bias.zero_()
        head.init_weights()
    for i, conv in enumerate(head.convs_pred):
        add(f"yolo_nano3/bias_prior/{i}", conv.bias.detach().numpy())
    for tag, model, shape in (("yolo_tiny", tiny, (2, 64, 64, 3)), ("yolo_nano3", nano, (1, 96, 64, 3))):
        load_weights(model, weights_hashed)
        image = rng.standard_normal(shape).astype(np.float32)
        add(f"{tag}/image", image)
        x = torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2)
        model.eval()
        with torch.no_grad():
            outs = model(x)
        for level, out in zip(("p3", "p4", "p5"), outs):
            add(f"{tag}/eval/{level}", out.permute(0, 2, 3, 1).numpy())


def conv_linear_counts(model, shape_nchw):
    """Parameters and MACs as libsscma counts them: convolutions (output elements x weights per output) and linear
    layers (in x out), one sample."""
    macs = [0]

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            macs[0] += output[0].numel() * module.weight[0].numel()
        elif isinstance(module, torch.nn.Linear):
            macs[0] += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(shape_nchw))
    for handle in handles:
        handle.remove()
    return [sum(p.numel() for p in model.parameters()), macs[0]]


def family_records(tag, model, image, target, output, loss_fn, grads=(), fill=None):
    """Training- and evaluation-mode outputs, the training loss and the gradients of `grads`, as test_zoo.c's
    family_matches_reference reads them (weights from `fill`, weights_for when None)."""
    load_weights(model, fill)
    add(f"{tag}/image", image)
    add(f"{tag}/target", target)
    add(f"{tag}/params", np.array([sum(p.numel() for p in model.parameters())], dtype=np.int32))
    x = torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2)
    model.train()
    out = model(x)
    loss = loss_fn(out, torch.from_numpy(target))
    loss.backward()
    add(f"{tag}/train/{output}", out.detach().numpy())
    add(f"{tag}/train/loss", loss.detach().numpy())
    params = dict(model.named_parameters())
    for name in grads:
        add(f"{tag}/train/grad/{name}", to_ohwi(params[name].grad).numpy())
    load_weights(model, fill)
    model.eval()
    with torch.no_grad():
        add(f"{tag}/eval/{output}", model(x).numpy())


def mobilenetv3_records():
    """MobileNetV3: counts of SSCMA's recipes' models (and at 224x224 with 1000 classes, the small one with mid
    channels 1024: torchvision's mobilenet_v3_small / _large, for comparison with published figures) and the
    forward / backward references."""
    rng = np.random.default_rng(33)
    add("mbv3_small_cls/counts_96", np.array(conv_linear_counts(MobileNetV3Classifier("small", 10),
                                                                (1, 3, 96, 96)), dtype=np.int64))
    add("mbv3_small_cls/counts_224", np.array(conv_linear_counts(MobileNetV3Classifier("small", 1000, (1024,)),
                                                                 (1, 3, 224, 224)), dtype=np.int64))
    add("mbv3_large_cls/counts_224", np.array(conv_linear_counts(MobileNetV3Classifier("large", 1000),
                                                                 (1, 3, 224, 224)), dtype=np.int64))
    add("pfld_mbv3l/counts_192", np.array(conv_linear_counts(PFLDMobileNetV3(4), (1, 3, 192, 192)),
                                          dtype=np.int64))
    cls = MobileNetV3Classifier("small", 10)
    family_records("mbv3_small_cls", cls, rng.standard_normal((2, 96, 96, 3)).astype(np.float32),
                   np.array([3, 7], dtype=np.int32), "logits",
                   lambda out, t: F.cross_entropy(out, t.long()),
                   ["backbone.layer0.conv.weight", "backbone.layer0.bn.weight", "backbone.layer1.se.conv1.conv.weight",
                    "backbone.layer1.se.conv2.conv.bias", "backbone.layer4.expand_conv.conv.weight",
                    "backbone.layer4.depthwise_conv.bn.bias", "backbone.layer6.linear_conv.conv.weight",
                    "backbone.layer11.se.conv1.conv.bias", "backbone.layer12.bn.weight", "head.layers.0.fc.bias",
                    "head.layers.1.fc.bias"])
    pfld = PFLDMobileNetV3(4)
    family_records("pfld_mbv3l", pfld, rng.standard_normal((2, 64, 64, 3)).astype(np.float32),
                   rng.uniform(0, 1, (2, 8)).astype(np.float32), "keypoints",
                   lambda out, t: PFLD.loss(out, t.double()),
                   ["backbone.conv1.conv.weight", "backbone.layer1.block.0.norm.weight",
                    "backbone.layer2.block.0.conv.weight", "backbone.layer4.block.2.fc1.weight",
                    "backbone.layer4.block.2.fc2.bias", "backbone.layer4.block.3.norm.bias", "head.fc.weight"])


def main():
    rng = np.random.default_rng(4)
    model = ImageClassifier(widen_factor=0.35, in_channels=3, num_classes=10)
    load_weights(model)
    image = rng.standard_normal((4, 64, 64, 3)).astype(np.float32)
    target = np.array([3, 0, 7, 3], dtype=np.int32)
    add("classifier/image", image)
    add("classifier/target", target)
    x = torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2)
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, torch.from_numpy(target.astype(np.int64)))
    loss.backward()
    add("classifier/train/logits", logits.detach().numpy())
    add("classifier/train/loss", loss.detach().numpy())
    params = dict(model.named_parameters())
    for name in ["backbone.features.0.0.weight", "backbone.features.0.1.weight", "backbone.features.0.1.bias",
                 "backbone.features.1.conv.0.0.weight", "backbone.features.2.conv.1.0.weight",
                 "backbone.features.5.conv.2.weight", "backbone.features.17.conv.3.weight",
                 "backbone.features.18.1.bias", "head.fc.weight", "head.fc.bias"]:
        add(f"classifier/train/grad/{name}", to_ohwi(params[name].grad).numpy())
    buffers = dict(model.named_buffers())
    for name in ["backbone.features.0.1.running_mean", "backbone.features.0.1.running_var",
                 "backbone.features.12.conv.1.1.running_var", "backbone.features.18.1.running_mean"]:
        add(f"classifier/train/after/{name}", buffers[name].numpy())
    # evaluation with the original running statistics
    load_weights(model)
    model.eval()
    with torch.no_grad():
        add("classifier/eval/logits", model(x).numpy())
    # Fomo: MobileNetv2-0.35 (SSCMA layout) cut at stride 8 + FomoHead, 3 classes, 64x64x3, batch 2
    fomo = Fomo(widen_factor=0.35, in_channels=3, num_classes=3)
    load_weights(fomo)
    image = rng.standard_normal((2, 64, 64, 3)).astype(np.float32)
    target = np.zeros((2, 8, 8, 4), dtype=np.float32)
    target[..., 0] = 1.0
    for b, y, xx, c in ((0, 2, 3, 1), (0, 5, 5, 3), (1, 1, 6, 2), (1, 7, 0, 1)):
        target[b, y, xx, 0], target[b, y, xx, c] = 0.0, 1.0
    add("fomo/image", image)
    add("fomo/target", target)
    add("fomo/params", np.array([sum(p.numel() for p in fomo.parameters())], dtype=np.int32))
    x = torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2)
    fomo.train()
    logits = fomo(x)
    add("fomo/train/logits", logits.permute(0, 2, 3, 1).detach().numpy())
    add("fomo/train/loss", Fomo.loss(logits, torch.from_numpy(target.astype(np.float64))).detach().numpy())
    load_weights(fomo)
    fomo.eval()
    with torch.no_grad():
        add("fomo/eval/logits", fomo(x).permute(0, 2, 3, 1).numpy())

    # PFLD: 4 keypoints, 64x64x3, batch 2
    pfld = PFLD(num_point=4)
    load_weights(pfld)
    image = rng.standard_normal((2, 64, 64, 3)).astype(np.float32)
    target = rng.uniform(0, 1, (2, 8)).astype(np.float32)
    add("pfld/image", image)
    add("pfld/target", target)
    add("pfld/params", np.array([sum(p.numel() for p in pfld.parameters())], dtype=np.int32))
    x = torch.from_numpy(image.astype(np.float64)).permute(0, 3, 1, 2)
    pfld.train()
    kp = pfld(x)
    add("pfld/train/keypoints", kp.detach().numpy())
    add("pfld/train/loss", PFLD.loss(kp, torch.from_numpy(target.astype(np.float64))).detach().numpy())
    load_weights(pfld)
    pfld.eval()
    with torch.no_grad():
        add("pfld/eval/keypoints", pfld(x).numpy())

    swift_yolo_records()
    mobilenetv3_records()

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models.bin")
    write_golden(out, records)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes; reference has {n_params} parameters")


if __name__ == "__main__":
    sys.exit(main())
