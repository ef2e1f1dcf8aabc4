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


# ---- SSCMA's own layouts: MobileNetv2 (conv1 / layer1..7), Fomo, PFLD ----

class ConvNormAct(nn.Sequential):
    """SSCMA's ConvNormActivation: submodules conv, norm, act."""

    def __init__(self, cin, cout, k, stride=1, groups=1, act=nn.ReLU6):
        super().__init__()
        self.add_module("conv", nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False))
        self.add_module("norm", nn.BatchNorm2d(cout))
        self.add_module("act", act())


class SSCMAInvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = int(round(cin * t))
        self.use_res = stride == 1 and cin == cout
        layers = []
        if t != 1:
            layers.append(ConvNormAct(cin, hidden, 1))
        layers += [ConvNormAct(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class SSCMAMobileNetv2(nn.Module):
    def __init__(self, widen_factor=1.0, in_channels=3, last_stage=6):
        super().__init__()
        c = make_divisible(32 * widen_factor)
        self.conv1 = ConvNormAct(in_channels, c, 3, 2)
        self.stages = []
        for stage, (t, ch, n, s) in enumerate(SETTINGS[: last_stage + 1]):
            cout = make_divisible(ch * widen_factor)
            blocks = []
            for i in range(n):
                blocks.append(SSCMAInvertedResidual(c, cout, s if i == 0 else 1, t))
                c = cout
            self.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
            self.stages.append(f"layer{stage + 1}")
        self.out_channels = c

    def forward(self, x):
        x = self.conv1(x)
        for name in self.stages:
            x = getattr(self, name)(x)
        return x


def CBR(cin, cout, k, stride, padding=1, groups=1, act=nn.ReLU):
    """SSCMA's CBR: Sequential(conv without bias, BN, activation)."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(cout),
                         act())


class FomoHead(nn.Module):
    def __init__(self, cin, num_classes, middle=48):
        super().__init__()
        self.convs_bridge = nn.ModuleList([CBR(cin, middle, 3, 1, padding=1, act=nn.ReLU6)])
        self.convs_pred = nn.ModuleList([nn.Conv2d(middle, num_classes + 1, 1, padding=0)])

    def forward(self, x):
        return self.convs_pred[0](self.convs_bridge[0](x))


class Fomo(nn.Module):
    def __init__(self, widen_factor=0.35, in_channels=3, num_classes=3, middle=48):
        super().__init__()
        self.backbone = SSCMAMobileNetv2(widen_factor, in_channels, last_stage=2)
        self.head = FomoHead(self.backbone.out_channels, num_classes, middle)

    def forward(self, x):
        return self.head(self.backbone(x))

    @staticmethod
    def loss(logits_nchw, target_nhwc, pos_weight=40.0):
        """SSCMA's FomoHead.lossFunction: background channel without, class channels with pos_weight; mean."""
        preds = logits_nchw.permute(0, 2, 3, 1)
        C = preds.shape[-1]
        mask = torch.zeros(C, dtype=preds.dtype)
        mask[0] = 1
        bg = F.binary_cross_entropy_with_logits(preds, target_nhwc, reduction="none") * mask
        pw = torch.full((C,), pos_weight, dtype=preds.dtype)
        cls = F.binary_cross_entropy_with_logits(preds, target_nhwc, reduction="none", pos_weight=pw) * (1 - mask)
        return torch.mean(cls + bg)


class PfldMobileNetV2(nn.Module):
    def __init__(self, inchannel=3, layer1=(16, 16, 16, 16, 16), layer2=(32, 32, 32, 32, 32, 32), out_channel=16):
        super().__init__()
        inp = 32
        self.conv1 = CBR(inchannel, inp, 3, 2, padding=1)
        self.conv2 = CBR(inp, inp, 3, 1, padding=1, groups=inp)
        layers = []
        for i, oup in enumerate(layer1):
            layers.append(SSCMAInvertedResidual(inp, oup, 2 if i == 0 else 1, 2))
            inp = oup
        self.layer1 = nn.Sequential(*layers)
        self.block1 = SSCMAInvertedResidual(inp, 32, 2, 2)
        inp = 32
        layers = []
        for oup in layer2:
            layers.append(SSCMAInvertedResidual(inp, oup, 1, 4))
            inp = oup
        self.layer2 = nn.Sequential(*layers)
        self.block2 = SSCMAInvertedResidual(inp, out_channel, 1, 2)

    def forward(self, x):
        return self.block2(self.layer2(self.block1(self.layer1(self.conv2(self.conv1(x))))))


class PFLDhead(nn.Module):
    def __init__(self, num_point=1, input_channel=16, feature_num=(32, 32)):
        super().__init__()
        self.conv1 = CBR(input_channel, feature_num[0], 3, 2, padding=1)
        self.conv2 = CBR(feature_num[0], feature_num[1], 2, 1, padding=0)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(input_channel + sum(feature_num), num_point * 2)

    def forward(self, x):
        x1 = self.avg_pool(x).flatten(1)
        x = self.conv1(x)
        x2 = self.avg_pool(x).flatten(1)
        x3 = self.avg_pool(self.conv2(x)).flatten(1)
        return self.fc(torch.cat([x1, x2, x3], 1))


class PFLD(nn.Module):
    def __init__(self, num_point=1):
        super().__init__()
        self.backbone = PfldMobileNetV2()
        self.head = PFLDhead(num_point)

    def forward(self, x):
        return self.head(self.backbone(x))

    @staticmethod
    def loss(pred, target):
        """SSCMA's PFLDLoss: mean over the batch of the summed squared error."""
        return torch.mean(torch.sum((target - pred) ** 2, dim=1))
