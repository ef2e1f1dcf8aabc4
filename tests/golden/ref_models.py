"""Reference PyTorch implementations of libsscma's model families, with the same parameter names and shapes.

MobileNetV2 follows torchvision's layout (features.0 .. features.18, InvertedResidual.conv = Sequential); the
ImageClassifier wraps it as SSCMA does: backbone.features.*, a global-average-pooling neck, head.fc.
Used by gen_models.py (golden values) and tools/torch2sscma.py (checkpoint conversion).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def conv_bn_relu6(cin, cout, k, stride, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=False))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        self.use_res = stride == 1 and cin == cout
        layers = []
        if t != 1:
            layers.append(conv_bn_relu6(cin, hidden, 1, 1))
        layers += [conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class MobileNetV2(nn.Module):
    def __init__(self, widen_factor=1.0, in_channels=3, last_stage=7):
        super().__init__()
        c = make_divisible(32 * widen_factor)
        layers = [conv_bn_relu6(in_channels, c, 3, 2)]
        for stage, (t, ch, n, s) in enumerate(SETTINGS):
            if stage > last_stage:
                break
            cout = make_divisible(ch * widen_factor)
            for i in range(n):
                layers.append(InvertedResidual(c, cout, s if i == 0 else 1, t))
                c = cout
        if last_stage == 7:
            last = make_divisible(1280 * max(1.0, widen_factor))
            layers.append(conv_bn_relu6(c, last, 1, 1))
            c = last
        self.features = nn.Sequential(*layers)
        self.out_channels = c

    def forward(self, x):
        return self.features(x)


class Head(nn.Module):
    def __init__(self, cin, classes, dropout=0.0):
        super().__init__()
        self.dropout = dropout
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(F.dropout(x, self.dropout, self.training) if self.dropout else x)


class ImageClassifier(nn.Module):
    def __init__(self, widen_factor=0.35, in_channels=3, num_classes=10, dropout=0.0):
        super().__init__()
        self.backbone = MobileNetV2(widen_factor, in_channels)
        self.head = Head(self.backbone.out_channels, num_classes, dropout)

    def forward(self, x):  # x: NCHW
        return self.head(torch.flatten(F.adaptive_avg_pool2d(self.backbone(x), 1), 1))
