#!/usr/bin/python3
"""The layers of MobileNetV2 (torchvision layout) as a JSON list, shared by the C and PyTorch benchmarks.

    mbv2_layers.py [--width 0.35] [--size 96] [--channels 3] [--batch 32] [--classes 10]

Each entry: {"name", "op", "x": NHWC input shape, and for conv2d "w": OHWI, "stride", "pad", "groups"; for
batch_norm/relu6/add/global_avg_pool/linear/cross_entropy the shapes they need}. With --count, prints the
parameter count instead (torchvision mobilenet_v2(width_mult=0.35, num_classes=10) has 408,938).
"""
import argparse
import json
import sys


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def layers(width=0.35, size=96, channels=3, batch=32, classes=10):
    out = []
    h = w = size
    c = channels

    def conv(name, cout, k, stride, groups=1):
        nonlocal h, w, c
        pad = (k - 1) // 2
        out.append({"name": name, "op": "conv2d", "x": [batch, h, w, c], "w": [cout, k, k, c // groups],
                    "stride": stride, "pad": pad, "groups": groups})
        h = (h + 2 * pad - k) // stride + 1
        w = (w + 2 * pad - k) // stride + 1
        c = cout

    def bn(name, act=True):
        out.append({"name": name + ".bn", "op": "batch_norm", "x": [batch, h, w, c]})
        if act:
            out.append({"name": name + ".relu6", "op": "relu6", "x": [batch, h, w, c]})

    first = make_divisible(32 * width)
    conv("features.0", first, 3, 2)
    out[-1]["input_grad"] = False  # the image takes no gradient
    bn("features.0")
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]
    index = 1
    for t, ch, n, s in settings:
        cout = make_divisible(ch * width)
        for i in range(n):
            stride = s if i == 0 else 1
            cin = c
            name = f"features.{index}"
            hidden = int(round(cin * t))
            if t != 1:
                conv(name + ".expand", hidden, 1, 1)
                bn(name + ".expand")
            conv(name + ".dw", hidden, 3, stride, groups=hidden)
            bn(name + ".dw")
            conv(name + ".project", cout, 1, 1)
            bn(name + ".project", act=False)
            if stride == 1 and cin == cout:
                out.append({"name": name + ".add", "op": "add", "x": [batch, h, w, c]})
            index += 1
    last = make_divisible(1280 * max(1.0, width))
    conv(f"features.{index}", last, 1, 1)
    bn(f"features.{index}")
    out.append({"name": "pool", "op": "global_avg_pool", "x": [batch, h, w, c]})
    out.append({"name": "classifier", "op": "linear", "x": [batch, c], "w": [classes, c]})
    out.append({"name": "loss", "op": "cross_entropy", "x": [batch, classes]})
    return out


def param_count(ls):
    total = 0
    for l in ls:
        if l["op"] == "conv2d":
            o, kh, kw, i = l["w"]
            total += o * kh * kw * i
        elif l["op"] == "batch_norm":
            total += 2 * l["x"][-1]
        elif l["op"] == "linear":
            total += l["w"][0] * l["w"][1] + l["w"][0]
    return total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=float, default=0.35)
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--count", action="store_true")
    a = p.parse_args()
    ls = layers(a.width, a.size, a.channels, a.batch, a.classes)
    if a.count:
        print(param_count(ls))
    else:
        json.dump(ls, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
