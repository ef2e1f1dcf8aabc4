"""Reference PyTorch implementations of libsscma's model families, with the same parameter names and shapes.

MobileNetV2 follows torchvision's layout (features.0 .. features.18, InvertedResidual.conv = Sequential); the
ImageClassifier wraps it as SSCMA does: backbone.features.*, a global-average-pooling neck, head.fc.
Used by gen_models.py (golden values) and tools/torch2sscma.py (checkpoint conversion).
"""
import math

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


# ---- Swift-YOLO: mmyolo's YOLOv5 (YOLODetector = YOLOv5CSPDarknet + YOLOv5PAFPN + YOLOv5Head) ----
# Written from mmyolo's definitions (no mmyolo import); module and parameter names are mmyolo's state_dict names.

SWIFT_YOLO_ANCHORS = [[(10, 13), (16, 30), (33, 23)], [(30, 61), (62, 45), (59, 119)],
                      [(116, 90), (156, 198), (373, 326)]]
SWIFT_YOLO_STRIDES = [8, 16, 32]


def yolo_make_divisible(x, widen_factor=1.0, divisor=8):
    """mmyolo's make_divisible: channels x * widen_factor rounded up to a multiple of 8."""
    return math.ceil(x * widen_factor / divisor) * divisor


def yolo_make_round(x, deepen_factor=1.0):
    """mmyolo's make_round: a block count x * deepen_factor, at least 1."""
    return max(round(x * deepen_factor), 1) if x > 1 else x


class YoloConv(nn.Module):
    """mmcv's ConvModule as mmyolo builds it: conv (no bias) -> bn (momentum 0.03, eps 0.001) -> activation."""

    def __init__(self, cin, cout, k, stride=1, padding=None, act=nn.ReLU):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, (k - 1) // 2 if padding is None else padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, momentum=0.03, eps=0.001)
        self.activate = act()

    def forward(self, x):
        return self.activate(self.bn(self.conv(x)))


class DarknetBottleneck(nn.Module):
    """mmdet's DarknetBottleneck with expansion 1.0: 1x1 conv, 3x3 conv, identity added when asked and shapes agree."""

    def __init__(self, cin, cout, add_identity, act=nn.ReLU):
        super().__init__()
        self.conv1 = YoloConv(cin, cout, 1, act=act)
        self.conv2 = YoloConv(cout, cout, 3, act=act)
        self.add_identity = add_identity and cin == cout

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return out + x if self.add_identity else out


class CSPLayer(nn.Module):
    """mmdet's CSPLayer (expand_ratio 0.5): final_conv(cat(blocks(main_conv(x)), short_conv(x)))."""

    def __init__(self, cin, cout, num_blocks, add_identity, act=nn.ReLU):
        super().__init__()
        mid = int(cout * 0.5)
        self.main_conv = YoloConv(cin, mid, 1, act=act)
        self.short_conv = YoloConv(cin, mid, 1, act=act)
        self.final_conv = YoloConv(2 * mid, cout, 1, act=act)
        self.blocks = nn.Sequential(*[DarknetBottleneck(mid, mid, add_identity, act) for _ in range(num_blocks)])

    def forward(self, x):
        return self.final_conv(torch.cat([self.blocks(self.main_conv(x)), self.short_conv(x)], 1))


class SPPFBottleneck(nn.Module):
    """mmyolo's SPPFBottleneck with kernel 5: conv1 to half, three chained 5x5 max pools, concat, conv2."""

    def __init__(self, cin, cout, act=nn.ReLU):
        super().__init__()
        mid = int(cin * 0.5)
        self.conv1 = YoloConv(cin, mid, 1, act=act)
        self.poolings = nn.MaxPool2d(5, 1, 2)
        self.conv2 = YoloConv(4 * mid, cout, 1, act=act)

    def forward(self, x):
        x = self.conv1(x)
        y1 = self.poolings(x)
        y2 = self.poolings(y1)
        return self.conv2(torch.cat([x, y1, y2, self.poolings(y2)], 1))


class YOLOv5CSPDarknet(nn.Module):
    """mmyolo's YOLOv5CSPDarknet, arch P5, out_indices (2, 3, 4): features at strides 8, 16, 32."""

    ARCH = [[64, 128, 3, True, False], [128, 256, 6, True, False], [256, 512, 9, True, False],
            [512, 1024, 3, True, True]]

    def __init__(self, deepen_factor=0.33, widen_factor=0.5, in_channels=3, act=nn.ReLU):
        super().__init__()
        self.stem = YoloConv(in_channels, yolo_make_divisible(64, widen_factor), 6, 2, 2, act=act)
        for i, (cin, cout, n, add_identity, use_spp) in enumerate(self.ARCH):
            cin, cout = yolo_make_divisible(cin, widen_factor), yolo_make_divisible(cout, widen_factor)
            layers = [YoloConv(cin, cout, 3, 2, 1, act=act),
                      CSPLayer(cout, cout, yolo_make_round(n, deepen_factor), add_identity, act)]
            if use_spp:
                layers.append(SPPFBottleneck(cout, cout, act))
            self.add_module(f"stage{i + 1}", nn.Sequential(*layers))

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for i in range(4):
            x = getattr(self, f"stage{i + 1}")(x)
            if i >= 1:
                outs.append(x)
        return outs


class YOLOv5PAFPN(nn.Module):
    """mmyolo's YOLOv5PAFPN (BaseYOLONeck with upsample_feats_cat_first), num_csp_blocks 3."""

    def __init__(self, deepen_factor=0.33, widen_factor=0.5, in_channels=(256, 512, 1024), num_csp_blocks=3,
                 act=nn.ReLU):
        super().__init__()
        c = [yolo_make_divisible(x, widen_factor) for x in in_channels]
        n = yolo_make_round(num_csp_blocks, deepen_factor)
        self.reduce_layers = nn.ModuleList([nn.Identity(), nn.Identity(), YoloConv(c[2], c[1], 1, act=act)])
        self.upsample_layers = nn.ModuleList([nn.Upsample(scale_factor=2, mode="nearest") for _ in range(2)])
        self.top_down_layers = nn.ModuleList([
            nn.Sequential(CSPLayer(2 * c[1], c[1], n, False, act), YoloConv(c[1], c[0], 1, act=act)),
            CSPLayer(2 * c[0], c[0], n, False, act)])
        self.downsample_layers = nn.ModuleList([YoloConv(c[0], c[0], 3, 2, 1, act=act),
                                                YoloConv(c[1], c[1], 3, 2, 1, act=act)])
        self.bottom_up_layers = nn.ModuleList([CSPLayer(2 * c[0], c[1], n, False, act),
                                               CSPLayer(2 * c[1], c[2], n, False, act)])

    def forward(self, inputs):
        reduce_outs = [layer(x) for layer, x in zip(self.reduce_layers, inputs)]
        inner_outs = [reduce_outs[2]]
        for idx in (2, 1):
            up = self.upsample_layers[2 - idx](inner_outs[0])
            inner_outs.insert(0, self.top_down_layers[2 - idx](torch.cat([up, reduce_outs[idx - 1]], 1)))
        outs = [inner_outs[0]]
        for idx in range(2):
            down = self.downsample_layers[idx](outs[-1])
            outs.append(self.bottom_up_layers[idx](torch.cat([down, inner_outs[idx + 1]], 1)))
        return outs


class YOLOv5HeadModule(nn.Module):
    """mmyolo's YOLOv5HeadModule (SSCMA's DetHead): a 1x1 conv with bias per level to 3 * (5 + C) channels,
    channel a * (5 + C) + k for anchor a, attribute k (x, y, w, h, objectness, classes)."""

    def __init__(self, num_classes, widen_factor=0.5, in_channels=(256, 512, 1024), num_base_priors=3):
        super().__init__()
        self.num_classes, self.num_base_priors = num_classes, num_base_priors
        self.convs_pred = nn.ModuleList([nn.Conv2d(yolo_make_divisible(c, widen_factor),
                                                   num_base_priors * (5 + num_classes), 1) for c in in_channels])

    def init_weights(self):
        """mmyolo's YOLOv5HeadModule.init_weights: objectness prior 8 objects per 640x640 image, class prior 0.6."""
        for conv, s in zip(self.convs_pred, SWIFT_YOLO_STRIDES):
            b = conv.bias.data.view(self.num_base_priors, -1)
            b[:, 4] += math.log(8 / (640 / s) ** 2)
            b[:, 5:5 + self.num_classes] += math.log(0.6 / (self.num_classes - 0.999999))

    def forward(self, feats):
        return [conv(x) for conv, x in zip(self.convs_pred, feats)]


class YOLOv5Head(nn.Module):
    def __init__(self, num_classes, widen_factor=0.5):
        super().__init__()
        self.head_module = YOLOv5HeadModule(num_classes, widen_factor)

    def forward(self, feats):
        return self.head_module(feats)


class SwiftYOLO(nn.Module):
    """SSCMA's Swift-YOLO (mmyolo's YOLODetector with ReLU, as configs/swift_yolo set act_cfg). Returns the raw
    maps p3, p4, p5 (NCHW, [B, 3 * (5 + C), H / s, W / s])."""

    def __init__(self, num_classes=1, deepen_factor=0.33, widen_factor=0.15, in_channels=3):
        super().__init__()
        self.backbone = YOLOv5CSPDarknet(deepen_factor, widen_factor, in_channels)
        self.neck = YOLOv5PAFPN(deepen_factor, widen_factor)
        self.bbox_head = YOLOv5Head(num_classes, widen_factor)

    def forward(self, x):
        return self.bbox_head(self.neck(self.backbone(x)))


# ---- MobileNetV3: mmcls's layout (the classifier's) and SSCMA's own (PFLD's) ----
# [kernel, expanded, out, squeeze-excitation, hard-swish (else ReLU), stride], the paper's tables
MBV3_ARCHS = {
    "small": [[3, 16, 16, True, False, 2], [3, 72, 24, False, False, 2], [3, 88, 24, False, False, 1],
              [5, 96, 40, True, True, 2], [5, 240, 40, True, True, 1], [5, 240, 40, True, True, 1],
              [5, 120, 48, True, True, 1], [5, 144, 48, True, True, 1], [5, 288, 96, True, True, 2],
              [5, 576, 96, True, True, 1], [5, 576, 96, True, True, 1]],
    "large": [[3, 16, 16, False, False, 1], [3, 64, 24, False, False, 2], [3, 72, 24, False, False, 1],
              [5, 72, 40, True, False, 2], [5, 120, 40, True, False, 1], [5, 120, 40, True, False, 1],
              [3, 240, 80, False, True, 2], [3, 200, 80, False, True, 1], [3, 184, 80, False, True, 1],
              [3, 184, 80, False, True, 1], [3, 480, 112, True, True, 1], [3, 672, 112, True, True, 1],
              [5, 672, 160, True, True, 2], [5, 960, 160, True, True, 1], [5, 960, 160, True, True, 1]],
}


def bn3(c):
    return nn.BatchNorm2d(c, eps=0.001, momentum=0.01)


class ConvModule(nn.Module):
    """mmcv's ConvModule without bias: submodules conv, bn (activation unnamed, no parameters)."""

    def __init__(self, cin, cout, k, stride=1, groups=1, act=None):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
        self.bn = bn3(cout)
        self.act = act

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.act(x) if self.act is not None else x


class ConvBias(nn.Module):
    """mmcv's ConvModule with no norm (bias on): submodule conv."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=True)

    def forward(self, x):
        return self.conv(x)


def hswish(x):  # mmcv's HSwish
    return x * F.relu6(x + 3.0) / 6.0


def hsigmoid(x):  # mmcv's HSigmoid(bias=3, divisor=6, min_value=0, max_value=1)
    return ((x + 3.0) / 6.0).clamp(0.0, 1.0)


class MmclsSELayer(nn.Module):
    def __init__(self, channels):
        super().__init__()
        squeeze = make_divisible(channels // 4, 8)
        self.conv1 = ConvBias(channels, squeeze)
        self.conv2 = ConvBias(squeeze, channels)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * hsigmoid(self.conv2(F.relu(self.conv1(s))))


class MmclsInvertedResidual(nn.Module):
    def __init__(self, cin, cout, mid, k, stride, se, hs):
        super().__init__()
        act = hswish if hs else F.relu
        self.use_res = stride == 1 and cin == cout
        self.with_expand = mid != cin
        if self.with_expand:
            self.expand_conv = ConvModule(cin, mid, 1, act=act)
        self.depthwise_conv = ConvModule(mid, mid, k, stride, groups=mid, act=act)
        self.se = MmclsSELayer(mid) if se else None
        self.linear_conv = ConvModule(mid, cout, 1)

    def forward(self, x):
        y = self.expand_conv(x) if self.with_expand else x
        y = self.depthwise_conv(y)
        if self.se is not None:
            y = self.se(y)
        y = self.linear_conv(y)
        return x + y if self.use_res else y


class MmclsMobileNetV3(nn.Module):
    """mmcls's MobileNetV3: layer0 (stem), layer1..L (blocks), layer{L+1} (final 1x1 conv); returns the last."""

    def __init__(self, arch="small"):
        super().__init__()
        setting = MBV3_ARCHS[arch]
        self.names = ["layer0"]
        self.layer0 = ConvModule(3, 16, 3, 2, act=hswish)
        cin = 16
        for i, (k, mid, cout, se, hs, s) in enumerate(setting):
            setattr(self, f"layer{i + 1}", MmclsInvertedResidual(cin, cout, mid, k, s, se, hs))
            self.names.append(f"layer{i + 1}")
            cin = cout
        last = f"layer{len(setting) + 1}"
        setattr(self, last, ConvModule(cin, setting[-1][1], 1, act=hswish))
        self.names.append(last)
        self.out_channels = setting[-1][1]

    def forward(self, x):
        for name in self.names:
            x = getattr(self, name)(x)
        return x


class LinearBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.fc = nn.Linear(cin, cout)

    def forward(self, x):
        return self.fc(x)


class StackedLinearClsHead(nn.Module):
    """mmcls's StackedLinearClsHead (no norm): layers.i.fc, act, dropout; then layers.{last}.fc."""

    def __init__(self, cin, mid_channels, classes, act=hswish, dropout=0.0):
        super().__init__()
        chans = [cin] + list(mid_channels) + [classes]
        self.layers = nn.ModuleList(LinearBlock(a, b) for a, b in zip(chans[:-1], chans[1:]))
        self.act, self.dropout = act, dropout

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
            if self.dropout:
                x = F.dropout(x, self.dropout, self.training)
        return self.layers[-1](x)


class MobileNetV3Classifier(nn.Module):
    """SSCMA's mobnetv3_small recipe: mmcls.MobileNetV3 + GAP + StackedLinearClsHead(mid [1280], HSwish)."""

    def __init__(self, arch="small", num_classes=10, mid_channels=(1280,), dropout=0.0):
        super().__init__()
        self.backbone = MmclsMobileNetV3(arch)
        self.head = StackedLinearClsHead(self.backbone.out_channels, mid_channels, num_classes, hswish, dropout)

    def forward(self, x):
        return self.head(torch.flatten(F.adaptive_avg_pool2d(self.backbone(x), 1), 1))


class SSCMAConvNormAct(nn.Sequential):
    """SSCMA's ConvNormActivation with MobileNetV3's BN (eps 0.001, momentum 0.01): conv, norm[, act]."""

    def __init__(self, cin, cout, k, stride=1, groups=1, act=None):
        super().__init__()
        self.add_module("conv", nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False))
        self.add_module("norm", bn3(cout))
        if act is not None:
            self.add_module("act", act())


class SqueezeExcitation(nn.Module):
    """torchvision's SqueezeExcitation with Hardsigmoid: fc1, fc2 (1x1 convolutions with bias)."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


class SSCMAMbv3Block(nn.Module):
    def __init__(self, cin, k, mid, cout, se, hs, stride):
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        self.use_res = stride == 1 and cin == cout
        layers = []
        if mid != cin:
            layers.append(SSCMAConvNormAct(cin, mid, 1, act=act))
        layers.append(SSCMAConvNormAct(mid, mid, k, stride, groups=mid, act=act))
        if se:
            layers.append(SqueezeExcitation(mid, make_divisible(mid // 4, 8)))
        layers.append(SSCMAConvNormAct(mid, cout, 1))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class SSCMAMobileNetV3(nn.Module):
    """SSCMA's MobileNetV3 (conv1, layer1..L); built up to the last out index (SSCMA's forward stops there)."""

    def __init__(self, arch="large", widen_factor=1.0, out_index=3, input_channels=3):
        super().__init__()
        adj = lambda c: make_divisible(c * widen_factor, 8)  # noqa: E731
        setting = MBV3_ARCHS[arch][:out_index + 1]
        self.conv1 = SSCMAConvNormAct(input_channels, adj(16), 3, 2, act=nn.Hardswish)
        self.names = []
        for i, (k, mid, cout, se, hs, s) in enumerate(setting):
            cin = adj(16) if i == 0 else adj(setting[i - 1][2])
            setattr(self, f"layer{i + 1}", SSCMAMbv3Block(cin, k, adj(mid), adj(cout), se, hs, s))
            self.names.append(f"layer{i + 1}")
        self.out_channels = adj(setting[-1][2])

    def forward(self, x):
        x = self.conv1(x)
        for name in self.names:
            x = getattr(self, name)(x)
        return x


class PFLDMobileNetV3(nn.Module):
    """SSCMA's pfld_mbv3l_192: MobileNetV3 large (out_indices (3,)) + PFLDhead."""

    def __init__(self, num_point=4, out_index=3, widen_factor=1.0):
        super().__init__()
        self.backbone = SSCMAMobileNetV3("large", widen_factor, out_index)
        self.head = PFLDhead(num_point, self.backbone.out_channels)

    def forward(self, x):
        return self.head(self.backbone(x))

    loss = staticmethod(PFLD.loss)


# ---- RTMDet: SSCMA's RTMDet (main line: CSPNeXt + CSPNeXtPAFPN + RTMDetHead with RTMDetSepBNHeadModule) ----
# Written from ModelAssistant's sscma/models definitions (no sscma/mmdet import); module and parameter names are
# their state_dict names. Activation per config (ReLU or ReLU6), BatchNorm2d as the configs give it (PyTorch's
# momentum 0.1, eps 1e-5).

RTMDET_STRIDES = [8, 16, 32]


class RtmConv(nn.Module):
    """mmcv's ConvModule: conv (no bias, padding k // 2) -> bn -> activation."""

    def __init__(self, cin, cout, k, stride=1, groups=1, act=nn.ReLU):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.activate = act()

    def forward(self, x):
        return self.activate(self.bn(self.conv(x)))


class DepthwiseSeparableConvModule(nn.Module):
    def __init__(self, cin, cout, k, act=nn.ReLU):
        super().__init__()
        self.depthwise_conv = RtmConv(cin, cin, k, groups=cin, act=act)
        self.pointwise_conv = RtmConv(cin, cout, 1, act=act)

    def forward(self, x):
        return self.pointwise_conv(self.depthwise_conv(x))


class CSPNeXtBlock(nn.Module):
    """3x3 ConvModule, depthwise-separable 5x5, + the input when add_identity (expansion 1.0 in CSPLayer)."""

    def __init__(self, cin, cout, add_identity, act=nn.ReLU):
        super().__init__()
        self.conv1 = RtmConv(cin, cout, 3, act=act)
        self.conv2 = DepthwiseSeparableConvModule(cout, cout, 5, act)
        self.add_identity = add_identity and cin == cout

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return out + x if self.add_identity else out


class ChannelAttention(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(channels, channels, 1, 1, 0, bias=True)
        self.act = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.act(self.fc(self.global_avgpool(x)))


class CSPNeXtLayer(nn.Module):
    """SSCMA's CSPLayer with use_cspnext_block: final_conv([attention](cat(blocks(main_conv(x)), short_conv(x))))."""

    def __init__(self, cin, cout, num_blocks, add_identity, expand_ratio=0.5, channel_attention=False, act=nn.ReLU):
        super().__init__()
        mid = int(cout * expand_ratio)
        self.channel_attention = channel_attention
        self.main_conv = RtmConv(cin, mid, 1, act=act)
        self.short_conv = RtmConv(cin, mid, 1, act=act)
        self.final_conv = RtmConv(2 * mid, cout, 1, act=act)
        self.blocks = nn.Sequential(*[CSPNeXtBlock(mid, mid, add_identity, act) for _ in range(num_blocks)])
        if channel_attention:
            self.attention = ChannelAttention(2 * mid)

    def forward(self, x):
        x = torch.cat((self.blocks(self.main_conv(x)), self.short_conv(x)), 1)
        if self.channel_attention:
            x = self.attention(x)
        return self.final_conv(x)


class SPPBottleneck(nn.Module):
    """SSCMA's SPPBottleneck (csp_darknet.py): max pools of 5, 9, 13, or chains of 3x3 pools when split."""

    def __init__(self, cin, cout, kernel_sizes=(5, 9, 13), split_max_pool_kernel=False, act=nn.ReLU):
        super().__init__()
        mid = cin // 2
        self.conv1 = RtmConv(cin, mid, 1, act=act)
        if split_max_pool_kernel:
            self.poolings = nn.ModuleList([nn.Sequential(*((ks - 1) // 2 * [nn.MaxPool2d(3, 1, 1)]))
                                           for ks in kernel_sizes])
        else:
            self.poolings = nn.ModuleList([nn.MaxPool2d(ks, 1, ks // 2) for ks in kernel_sizes])
        self.conv2 = RtmConv(mid * (len(kernel_sizes) + 1), cout, 1, act=act)

    def forward(self, x):
        x = self.conv1(x)
        return self.conv2(torch.cat([x] + [p(x) for p in self.poolings], 1))


class CSPNeXt(nn.Module):
    """CSPNeXt, arch P5, out_indices (2, 3, 4)."""

    ARCH = [[64, 128, 3, True, False], [128, 256, 6, True, False], [256, 512, 6, True, False],
            [512, 1024, 3, False, True]]

    def __init__(self, deepen_factor=0.33, widen_factor=0.25, expand_ratio=0.5, channel_attention=True,
                 split_max_pool_kernel=False, act=nn.ReLU):
        super().__init__()
        half = int(self.ARCH[0][0] * widen_factor // 2)
        self.stem = nn.Sequential(RtmConv(3, half, 3, 2, act=act), RtmConv(half, half, 3, act=act),
                                  RtmConv(half, int(self.ARCH[0][0] * widen_factor), 3, act=act))
        for i, (cin, cout, n, add_identity, use_spp) in enumerate(self.ARCH):
            cin, cout = int(cin * widen_factor), int(cout * widen_factor)
            layers = [RtmConv(cin, cout, 3, 2, act=act)]
            if use_spp:
                layers.append(SPPBottleneck(cout, cout, split_max_pool_kernel=split_max_pool_kernel, act=act))
            layers.append(CSPNeXtLayer(cout, cout, max(round(n * deepen_factor), 1), add_identity, expand_ratio,
                                       channel_attention, act))
            self.add_module(f"stage{i + 1}", nn.Sequential(*layers))

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for i in range(4):
            x = getattr(self, f"stage{i + 1}")(x)
            if i >= 1:
                outs.append(x)
        return outs


class CSPNeXtPAFPN(nn.Module):
    """SSCMA's CSPNeXtPAFPN (mmyolo's BaseYOLONeck): reduce, top-down, bottom-up, 3x3 out layers."""

    def __init__(self, deepen_factor=0.33, widen_factor=0.25, in_channels=(256, 512, 1024), out_channels=256,
                 num_csp_blocks=3, expand_ratio=0.5, act=nn.ReLU):
        super().__init__()
        c = [int(x * widen_factor) for x in in_channels]
        n = round(num_csp_blocks * deepen_factor)
        out = int(out_channels * widen_factor)
        self.reduce_layers = nn.ModuleList([nn.Identity(), nn.Identity(), RtmConv(c[2], c[1], 1, act=act)])
        self.upsample_layers = nn.ModuleList([nn.Upsample(scale_factor=2, mode="nearest") for _ in range(2)])
        self.top_down_layers = nn.ModuleList([
            nn.Sequential(CSPNeXtLayer(2 * c[1], c[1], n, False, expand_ratio, act=act), RtmConv(c[1], c[0], 1, act=act)),
            CSPNeXtLayer(2 * c[0], c[0], n, False, expand_ratio, act=act)])
        self.downsample_layers = nn.ModuleList([RtmConv(c[0], c[0], 3, 2, act=act), RtmConv(c[1], c[1], 3, 2, act=act)])
        self.bottom_up_layers = nn.ModuleList([CSPNeXtLayer(2 * c[0], c[1], n, False, expand_ratio, act=act),
                                               CSPNeXtLayer(2 * c[1], c[2], n, False, expand_ratio, act=act)])
        self.out_layers = nn.ModuleList([RtmConv(c[i], out, 3, act=act) for i in range(3)])

    def forward(self, inputs):
        reduce_outs = [layer(x) for layer, x in zip(self.reduce_layers, inputs)]
        inner_outs = [reduce_outs[2]]
        for idx in (2, 1):
            up = self.upsample_layers[2 - idx](inner_outs[0])
            inner_outs.insert(0, self.top_down_layers[2 - idx](torch.cat([up, reduce_outs[idx - 1]], 1)))
        outs = [inner_outs[0]]
        for idx in range(2):
            down = self.downsample_layers[idx](outs[-1])
            outs.append(self.bottom_up_layers[idx](torch.cat([down, inner_outs[idx + 1]], 1)))
        return [layer(x) for layer, x in zip(self.out_layers, outs)]


class RTMDetSepBNHeadModule(nn.Module):
    """share_conv=False: each level its own stacked ConvModules and 1x1 rtm_cls / rtm_reg with bias."""

    def __init__(self, num_classes, in_channels=256, widen_factor=0.25, feat_channels=256, stacked_convs=2,
                 act=nn.ReLU):
        super().__init__()
        cin, feat = int(in_channels * widen_factor), int(feat_channels * widen_factor)
        self.cls_convs, self.reg_convs = nn.ModuleList(), nn.ModuleList()
        self.rtm_cls, self.rtm_reg = nn.ModuleList(), nn.ModuleList()
        for _ in RTMDET_STRIDES:
            self.cls_convs.append(nn.ModuleList([RtmConv(cin if i == 0 else feat, feat, 3, act=act)
                                                 for i in range(stacked_convs)]))
            self.reg_convs.append(nn.ModuleList([RtmConv(cin if i == 0 else feat, feat, 3, act=act)
                                                 for i in range(stacked_convs)]))
            self.rtm_cls.append(nn.Conv2d(feat, num_classes, 1))
            self.rtm_reg.append(nn.Conv2d(feat, 4, 1))

    def forward(self, feats):
        cls_scores, bbox_preds = [], []
        for idx, x in enumerate(feats):
            c, r = x, x
            for layer in self.cls_convs[idx]:
                c = layer(c)
            for layer in self.reg_convs[idx]:
                r = layer(r)
            cls_scores.append(self.rtm_cls[idx](c))
            bbox_preds.append(self.rtm_reg[idx](r))
        return cls_scores, bbox_preds


class RTMDetHead(nn.Module):
    def __init__(self, num_classes, widen_factor=0.25, act=nn.ReLU):
        super().__init__()
        self.head_module = RTMDetSepBNHeadModule(num_classes, widen_factor=widen_factor, act=act)

    def forward(self, feats):
        """The class logits and the distances times the level's stride (as loss_by_feat and the coder scale them)."""
        cls_scores, bbox_preds = self.head_module(feats)
        return cls_scores, [b * s for b, s in zip(bbox_preds, RTMDET_STRIDES)]


class RTMDet(nn.Module):
    """SSCMA's RTMDet-nano (d 0.33, w 0.25). relu: ReLU, channel attention, split max pools; ncadc_relu6: ReLU6,
    neither. Returns ([cls_0, cls_1, cls_2], [reg_0, reg_1, reg_2]) in NCHW."""

    def __init__(self, num_classes=80, deepen_factor=0.33, widen_factor=0.25, channel_attention=True,
                 split_max_pool_kernel=True, act=nn.ReLU):
        super().__init__()
        self.backbone = CSPNeXt(deepen_factor, widen_factor, 0.5, channel_attention, split_max_pool_kernel, act)
        self.neck = CSPNeXtPAFPN(deepen_factor, widen_factor, act=act)
        self.bbox_head = RTMDetHead(num_classes, widen_factor, act)

    def forward(self, x):
        return self.bbox_head(self.neck(self.backbone(x)))


def rtmdet_decode(cls_scores, reg_dists, strides=RTMDET_STRIDES):
    """mmyolo's YOLOv5Head.predict_by_feat for RTMDet before NMS: MlvlPointGenerator(offset=0) points, distance2bbox,
    sigmoid scores; returned in yolo_decode's layout [B, rows, 5 + C]: cx, cy, w, h, 1, scores. Inputs NCHW."""
    rows = []
    for c, r, s in zip(cls_scores, reg_dists, strides):
        b, k, h, w = c.shape
        ys, xs = torch.meshgrid(torch.arange(h, dtype=r.dtype) * s, torch.arange(w, dtype=r.dtype) * s, indexing="ij")
        px, py = xs.reshape(-1), ys.reshape(-1)
        d = r.permute(0, 2, 3, 1).reshape(b, -1, 4)
        x1, y1, x2, y2 = px - d[..., 0], py - d[..., 1], px + d[..., 2], py + d[..., 3]
        score = c.permute(0, 2, 3, 1).reshape(b, -1, k).sigmoid()
        box = torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, torch.ones_like(x1)], -1)
        rows.append(torch.cat([box, score], -1))
    return torch.cat(rows, 1)


class AxesNet(nn.Module):
    """SSCMA 2.0.0's AxesNet (sscma/models/backbones/AxesNet.py), written from its description: fc1 to
    (num_axes * window_size // 1024 + 1) * 256 features, ReLU, classifier; fc2 is created but forward never calls
    it."""

    def __init__(self, num_axes=3, window_size=80, num_classes=-1):
        super().__init__()
        self.num_classes = num_classes
        features = num_axes * window_size
        hidden = (features // 1024 + 1) * 256
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        if num_classes > 0:
            self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        return self.classifier(x) if self.num_classes > 0 else x


class AccelerometerClassifier(nn.Module):
    """AxesNet + AxesClsHead (no layer of its own: the backbone's output is the logits)."""

    def __init__(self, num_axes=3, window_size=80, num_classes=4):
        super().__init__()
        self.backbone = AxesNet(num_axes, window_size, num_classes)

    def forward(self, x):  # x: [N, num_axes * window_size], axis-major
        return self.backbone(x)


class ResBlock1dTF(nn.Module):
    """SSCMA 2.0.0's ResBlock1dTF (sscma/models/backbones/SoundNet.py), written from its description:
    shortcut(x) + block_f(x) + block_t(x), depthwise block_t of kernel 7 with dilation, LeakyReLU(0.2)."""

    def __init__(self, dim, dilation=1, kernel_size=7):
        super().__init__()
        self.block_t = nn.Sequential(
            nn.Conv1d(dim, dim, kernel_size, padding=dilation * (kernel_size // 2), dilation=dilation, groups=dim,
                      bias=False),
            nn.BatchNorm1d(dim), nn.LeakyReLU(0.2))
        self.block_f = nn.Sequential(nn.Conv1d(dim, dim, 1, bias=False), nn.BatchNorm1d(dim), nn.LeakyReLU(0.2))
        self.shortcut = nn.Conv1d(dim, dim, 1)

    def forward(self, x):
        return self.shortcut(x) + self.block_f(x) + self.block_t(x)


class AADownsample(nn.Module):
    """A fixed depthwise blur [1, 2, .., k // 2 + 1, .., 2, 1] / sum (buffer `filt`, [C, 1, k]), stride, zero pad
    k // 2."""

    def __init__(self, filt_size, stride, channels):
        super().__init__()
        self.stride, self.pad = stride, filt_size // 2
        half = torch.arange(1, filt_size // 2 + 2).to(torch.get_default_dtype())
        taps = torch.cat([half, half.flip(0)[1:]])
        self.register_buffer("filt", (taps / taps.sum()).repeat(channels, 1, 1))

    def forward(self, x):
        return F.conv1d(x, self.filt, stride=self.stride, padding=self.pad, groups=x.shape[1])


class Down(nn.Module):
    def __init__(self, channels, d):
        super().__init__()
        self.down = nn.Sequential(
            nn.Conv1d(channels, channels * 2, d + 1, padding=(d + 1) // 2, bias=False), nn.BatchNorm1d(channels * 2),
            nn.LeakyReLU(0.2), AADownsample(2 * d + 1, d, channels * 2))

    def forward(self, x):
        return self.down(x)


class SoundNetRaw(nn.Module):
    def __init__(self, nf=2, factors=(4, 4, 4), out_channel=32):
        super().__init__()
        self.start = nn.Sequential(nn.Conv1d(1, nf, 11, stride=6, padding=5, bias=False), nn.BatchNorm1d(nf),
                                   nn.LeakyReLU(0.2))
        layers = []
        for i, f in enumerate(factors):
            layers.append(Down(nf, f))
            nf *= 2
            if i % 2 == 0:
                layers.append(ResBlock1dTF(nf, 1))
        self.down = nn.Sequential(*layers)
        layers = []
        for f in (2, 2):
            layers += [ResBlock1dTF(nf, 3 ** j) for j in range(3)]
            layers.append(Down(nf, f))
            nf *= 2
        self.down2 = nn.Sequential(*layers)
        self.project = nn.Conv1d(nf, out_channel, 1)

    def forward(self, x):
        return self.project(self.down2(self.down(self.start(x))))


class Audio_head(nn.Module):
    def __init__(self, in_channels, n_classes, drop=0.5):
        super().__init__()
        self.fc = nn.Linear(in_channels, in_channels)
        self.fc1 = nn.Linear(in_channels, n_classes)
        self.dp = nn.Dropout(drop)

    def forward(self, x):
        return self.fc1(self.dp(self.fc(x.mean(2))))


class AudioClassify(nn.Module):
    """SSCMA's Audio_classify: SoundNetRaw (backbone.*) + Audio_head (cls_head.*); input [N, 1, L]."""

    def __init__(self, n_cls, nf=2, factors=(4, 4, 4), out_channel=36, drop=0.0):
        super().__init__()
        self.backbone = SoundNetRaw(nf, factors, out_channel)
        self.cls_head = Audio_head(out_channel, n_cls, drop)

    def forward(self, x):  # x: [N, 1, L] (or NCHW [N, 1, 1, L], libsscma's NHWC [N, 1, L, 1] permuted)
        return self.cls_head(self.backbone(x.flatten(2) if x.dim() == 4 else x))


def label_smooth_ce(logits, target, smoothing, reduction="sum"):
    """SSCMA's LabelSmoothCrossEntropyLoss: 1 - e on the class, e / (K - 1) elsewhere."""
    k = logits.shape[-1]
    q = torch.full_like(logits, smoothing / (k - 1))
    q[torch.arange(logits.shape[0]), target] = 1.0 - smoothing
    loss = -(q * F.log_softmax(logits, -1)).sum(-1)
    return loss.sum() if reduction == "sum" else loss.mean()


# ---- SSCMA 2.0.0's MobileNetv2 with rep=True: RepConv1x1 blocks (sscma/models/layers/rep.py) ----

class ConvNorm(nn.Sequential):
    """SSCMA's ConvNormActivation(..., bias=True, activation_layer=None): submodules conv (with bias), norm."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.add_module("conv", nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=True))
        self.add_module("norm", nn.BatchNorm2d(cout))


def _bn_affine(bn):
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return s, bn.bias - bn.running_mean * s


class RepConv1x1(nn.Module):
    """Training: x0 = conv3x3(x); d = dense_norm(x0); x_{k+1} = conv[k](x_k) + norm[k](x_k) + (d if k > 0);
    ReLU. Evaluation: the same map fused into one 3x3 convolution (fused_weights), as SSCMA's rep() fills fuse_conv.
    fuse_conv is not a parameter here (SSCMA recomputes it at every eval() and never trains it)."""

    def __init__(self, cin, cout, stride=1, depth=6):
        super().__init__()
        self.stride = stride
        self.conv3x3 = ConvNorm(cin, cout, 3, stride)
        self.conv = nn.ModuleList([ConvNorm(cout, cout, 1) for _ in range(depth)])
        self.norm = nn.ModuleList([nn.BatchNorm2d(cout) for _ in range(depth)])
        self.dense_norm = nn.BatchNorm2d(cout)

    def forward(self, x):
        if not self.training:
            w, b = self.fused_weights()
            return F.relu(F.conv2d(x, w, b, self.stride, 1))
        x = self.conv3x3(x)
        dense = self.dense_norm(x)
        for k, layer in enumerate(self.conv):
            y = self.norm[k](x)
            if k > 0:
                y = y + dense
            x = layer(x) + y
        return F.relu(x)

    def fused_weights(self):
        """Written from the algebra (not SSCMA's code): compose the affine maps, with running statistics."""
        s, t = _bn_affine(self.conv3x3.norm)
        w = self.conv3x3.conv.weight * s.view(-1, 1, 1, 1)  # [C, cin, 3, 3]
        b = self.conv3x3.conv.bias * s + t
        dw, db = _bn_affine(self.dense_norm)
        dense_w, dense_b = w * dw.view(-1, 1, 1, 1), b * dw + db
        for k, layer in enumerate(self.conv):
            cs, ct = _bn_affine(layer.norm)
            m = layer.conv.weight[:, :, 0, 0] * cs.view(-1, 1)  # [C, C]
            mb = layer.conv.bias * cs + ct
            ns, nt = _bn_affine(self.norm[k])
            nw, nb = w * ns.view(-1, 1, 1, 1), b * ns + nt
            w, b = torch.einsum("oi,ichw->ochw", m, w) + nw, m @ b + mb + nb
            if k > 0:
                w, b = w + dense_w, b + dense_b
        return w, b


class SSCMAMobileNetv2Rep(nn.Module):
    """MobileNetv2(rep=True): conv1 as without rep, then stage by stage RepConv1x1(c_in, 2 make_divisible(c w),
    stride) n times (t unused), up to last_stage."""

    def __init__(self, widen_factor=0.35, in_channels=3, last_stage=2):
        super().__init__()
        c = make_divisible(32 * widen_factor)
        self.conv1 = ConvNormAct(in_channels, c, 3, 2)
        self.stages = []
        for stage, (t, ch, n, s) in enumerate(SETTINGS[: last_stage + 1]):
            cout = make_divisible(ch * widen_factor) * 2
            blocks = []
            for i in range(n):
                blocks.append(RepConv1x1(c, cout, s if i == 0 else 1))
                c = cout
            self.add_module(f"layer{stage + 1}", nn.Sequential(*blocks))
            self.stages.append(f"layer{stage + 1}")
        self.out_channels = c

    def forward(self, x):
        x = self.conv1(x)
        for name in self.stages:
            x = getattr(self, name)(x)
        return x


class FomoRep(nn.Module):
    """SSCMA's fomo_mobnetv2_0.35_x8_abl_coco model: MobileNetv2(rep=True, out_indices=(2,)) + FomoHead."""

    def __init__(self, widen_factor=0.35, in_channels=3, num_classes=2, middle=48):
        super().__init__()
        self.backbone = SSCMAMobileNetv2Rep(widen_factor, in_channels, last_stage=2)
        self.head = FomoHead(self.backbone.out_channels, num_classes, middle)

    def forward(self, x):
        return self.head(self.backbone(x))


class RepImageClassifier(nn.Module):
    """SSCMA's mobnetv2_0.35_rep classifiers: MobileNetv2(rep=True, out_indices=(2,)), GAP, LinearClsHead."""

    def __init__(self, widen_factor=0.35, in_channels=3, num_classes=10):
        super().__init__()
        self.backbone = SSCMAMobileNetv2Rep(widen_factor, in_channels, last_stage=2)
        self.head = Head(self.backbone.out_channels, num_classes)

    def forward(self, x):
        return self.head(torch.flatten(F.adaptive_avg_pool2d(self.backbone(x), 1), 1))
