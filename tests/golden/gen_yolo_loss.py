#!/usr/bin/python3
"""Golden values for libsscma's yolov5_loss op: a PyTorch reference of mmyolo's YOLOv5Head.loss_by_feat (as
ModelAssistant 2.0.0's sscma.YOLOV5Head runs it with configs/swift_yolo), written here from the upstream semantics
(no mmyolo import).

Writes tests/golden/yolo_loss.bin (format in golden_io.py), read by tests/unit/test_yolo_loss.c. Per case: the three
head maps p3, p4, p5 (NHWC, libsscma's layout, channel a * (5 + C) + k), the targets [B, M, 6] (class, x1, y1, x2, y2
in input pixels, valid), `attrs` (loss_cls_weight, loss_bbox_weight, loss_obj_weight, img_h, img_w), the upstream
gradients dy0..dy3 of the outputs (total, loss_cls, loss_bbox, loss_obj), the outputs y0..y3 and the gradients dp3,
dp4, dp5. The target assignment runs in float32 exactly as mmyolo's (its decisions are comparisons of float32
values); the losses and gradients run in float64 on the float32 inputs (autograd).

Run: /usr/bin/python3 tests/golden/gen_yolo_loss.py   (deterministic: seeded)
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from golden_io import write_golden

ANCHORS = [[(10, 13), (16, 30), (33, 23)], [(30, 61), (62, 45), (59, 119)], [(116, 90), (156, 198), (373, 326)]]
STRIDES = [8, 16, 32]
OBJ_LEVEL_WEIGHTS = [4.0, 1.0, 0.4]
PRIOR_MATCH_THR = 4.0
NEAR_NEIGHBOR_THR = 0.5
EPS = 1e-7
# centre, left, up, right, bottom (mmyolo's grid_offset rows)
GRID_OFFSETS = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], dtype=torch.float32)

rng = np.random.default_rng(20261207)
records = []


def add(name, array, dtype=1):
    array = np.array(array, order="C")
    records.append((name, dtype, array.astype(np.float32 if dtype == 1 else np.int32)))


def ciou(pred, target, eps):
    """mmyolo's bbox_overlaps(iou_mode='ciou', bbox_format='xywh'): (n,) CIoU clamped to [-1, 1]."""
    def corners(b):
        return b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
    px1, py1, px2, py2 = corners(pred)
    tx1, ty1, tx2, ty2 = corners(target)
    overlap = (torch.min(px2, tx2) - torch.max(px1, tx1)).clamp(0) * \
        (torch.min(py2, ty2) - torch.max(py1, ty1)).clamp(0)
    w1, h1, w2, h2 = px2 - px1, py2 - py1, tx2 - tx1, ty2 - ty1
    union = w1 * h1 + w2 * h2 - overlap + eps
    iou = overlap / union
    enclose_w = (torch.max(px2, tx2) - torch.min(px1, tx1)).clamp(min=0)
    enclose_h = (torch.max(py2, ty2) - torch.min(py1, ty1)).clamp(min=0)
    c2 = enclose_w ** 2 + enclose_h ** 2 + eps
    rho2 = ((tx1 + tx2) - (px1 + px2)) ** 2 / 4 + ((ty1 + ty2) - (py1 + py2)) ** 2 / 4
    v = (4 / math.pi ** 2) * torch.pow(torch.atan(w2 / (h2 + eps)) - torch.atan(w1 / (h1 + eps)), 2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return (iou - (rho2 / c2 + alpha * v)).clamp(min=-1.0, max=1.0)


def assign(targets, img_h, img_w, level, h, w):
    """Positives of one level, in mmyolo's order: (img, prior, gy, gx, cls) int64 tensors and the float32 target
    boxes (cx - gx, cy - gy, w, h) in grid units. Mirrors _convert_gt_to_norm_format and the shape match / neighbour
    steps of loss_by_feat."""
    rows = []
    for b in range(targets.shape[0]):
        for r in range(targets.shape[1]):
            if targets[b, r, 5] > 0:
                rows.append((b, targets[b, r, 0], *targets[b, r, 1:5]))
    if not rows:
        return None
    t = torch.tensor(rows, dtype=torch.float32)  # img, cls, x1, y1, x2, y2
    xy1, xy2 = t[:, 2:4], t[:, 4:6]
    box = torch.cat([(xy2 + xy1) / 2, xy2 - xy1], dim=1)
    box[:, 1::2] /= img_h
    box[:, 0::2] /= img_w
    normed = torch.cat([t[:, :2], box], dim=1).repeat(3, 1, 1)  # (priors, boxes, 6)
    prior_inds = torch.arange(3, dtype=torch.float32).view(3, 1).repeat(1, normed.shape[1])[..., None]
    normed = torch.cat([normed, prior_inds], dim=2)  # (priors, boxes, 7)
    factor = torch.ones(7)
    factor[2:6] = torch.tensor([w, h, w, h], dtype=torch.float32)
    scaled = normed * factor
    priors = torch.tensor(ANCHORS[level], dtype=torch.float32) / STRIDES[level]
    ratio = scaled[..., 4:6] / priors[:, None]
    match = torch.max(ratio, 1 / ratio).max(2)[0] < PRIOR_MATCH_THR
    scaled = scaled[match]
    if scaled.shape[0] == 0:
        return None
    cxcy = scaled[:, 2:4]
    far = factor[[2, 3]] - cxcy
    left, up = ((cxcy % 1 < NEAR_NEIGHBOR_THR) & (cxcy > 1)).T
    right, bottom = ((far % 1 < NEAR_NEIGHBOR_THR) & (far > 1)).T
    use = torch.stack((torch.ones_like(left), left, up, right, bottom))
    scaled = scaled.repeat((5, 1, 1))[use]
    offsets = GRID_OFFSETS[:, None].repeat(1, use.shape[1], 1)[use]
    img_cls, cxcy, wh, prior = scaled.chunk(4, 1)
    prior, (img, cls) = prior.long().view(-1), img_cls.long().T
    cell = (cxcy - offsets * NEAR_NEIGHBOR_THR).long()
    gx, gy = cell.T
    tbox = torch.cat((cxcy - cell, wh), 1)
    return img, prior, gy, gx, cls, tbox


def yolov5_loss(maps, targets, num_classes, img_h, img_w, w_cls, w_bbox, w_obj, check_order=True):
    """maps: NHWC tensors [B, H, W, 3 (5 + C)] (float64 here; bench/train_swift_yolo_torch.py trains with float32 maps:
    the losses then run in the maps' dtype). targets: [B, M, 6] array (class, x1, y1, x2, y2, valid). Returns (total,
    cls, bbox, obj) scalars. check_order re-derives the objectness targets one positive at a time (slow; the
    golden cases keep it on)."""
    batch = maps[0].shape[0]
    loss_cls, loss_box, loss_obj = (maps[0].new_zeros(()) for _ in range(3))
    for level, m in enumerate(maps):
        _, h, w, _ = m.shape
        pred = m.reshape(batch, h, w, 3, 5 + num_classes)
        obj_logits = pred[..., 4]
        target_obj = torch.zeros_like(obj_logits)
        a = assign(targets, img_h, img_w, level, h, w)
        if a is not None:
            img, prior, gy, gx, cls, tbox = a
            cell = pred[img, gy, gx, prior]
            s = cell[:, :4].sigmoid()
            priors = (torch.tensor(ANCHORS[level], dtype=torch.float32) / STRIDES[level]).to(cell.dtype)[prior]
            decoded = torch.cat((s[:, :2] * 2 - 0.5, (s[:, 2:] * 2) ** 2 * priors), dim=-1)
            iou = ciou(decoded, tbox.to(decoded.dtype), EPS)
            loss_box = loss_box + w_bbox * (1.0 - iou).mean()
            iou = iou.detach().clamp(0)
            target_obj[img, gy, gx, prior] = iou
            # the same, written one by one in order: a cell assigned twice keeps the last IoU
            if check_order:
                check = torch.zeros_like(target_obj)
                for k in range(len(img)):
                    check[img[k], gy[k], gx[k], prior[k]] = iou[k]
                assert torch.equal(check, target_obj)
            if num_classes > 1:
                onehot = torch.zeros(len(img), num_classes, dtype=cell.dtype)
                onehot[range(len(img)), cls] = 1.0
                loss_cls = loss_cls + w_cls * F.binary_cross_entropy_with_logits(cell[:, 5:], onehot)
            else:
                loss_cls = loss_cls + pred[..., 5:].sum() * 0  # as mmyolo: no class loss for one class
        else:  # no positive on this level (mmyolo's `sum() * 0` terms)
            loss_box = loss_box + pred[..., :4].sum() * 0
            loss_cls = loss_cls + pred[..., 5:].sum() * 0
        loss_obj = loss_obj + w_obj * F.binary_cross_entropy_with_logits(obj_logits, target_obj) * \
            OBJ_LEVEL_WEIGHTS[level]
    loss_cls, loss_box, loss_obj = loss_cls * batch, loss_box * batch, loss_obj * batch
    return loss_cls + loss_box + loss_obj, loss_cls, loss_box, loss_obj


def stats(targets, img_h, img_w, maps):
    """Positives and repeated cells per level, for the printout (the cases must exercise them)."""
    out = []
    for level, m in enumerate(maps):
        a = assign(targets, img_h, img_w, level, m.shape[1], m.shape[2])
        if a is None:
            out.append("0")
            continue
        img, prior, gy, gx = a[:4]
        keys = set(zip(img.tolist(), prior.tolist(), gy.tolist(), gx.tolist()))
        out.append(f"{len(img)} ({len(img) - len(keys)} repeated)")
    return ", ".join(out)


def case(name, targets, num_classes, img_h, img_w, batch):
    """SSCMA's weights for this class count and input (num_det_layers 3): cls 0.5 nc / 80, bbox 0.05,
    obj (img_w / 640)^2 (imgsz[0] is the width)."""
    w_cls, w_bbox, w_obj = 0.5 * num_classes / 80, 0.05, 1.0 * (img_w / 640) ** 2
    ch = 3 * (5 + num_classes)
    arrays = [rng.standard_normal((batch, img_h // s, img_w // s, ch)).astype(np.float32) for s in STRIDES]
    maps = [torch.from_numpy(a.astype(np.float64)).requires_grad_(True) for a in arrays]
    outs = yolov5_loss(maps, targets, num_classes, img_h, img_w, w_cls, w_bbox, w_obj)
    dys = [np.float32(rng.standard_normal()) for _ in outs]
    torch.autograd.backward(list(outs), [torch.tensor(float(d), dtype=torch.float64) for d in dys])
    for k, a in enumerate(arrays):
        add(f"{name}/p{k + 3}", a)
    add(f"{name}/targets", targets)
    add(f"{name}/attrs", np.array([w_cls, w_bbox, w_obj, img_h, img_w]))
    for k, (y, dy) in enumerate(zip(outs, dys)):
        add(f"{name}/y{k}", y.detach().numpy())
        add(f"{name}/dy{k}", np.array(dy))
    for k, m in enumerate(maps):
        add(f"{name}/dp{k + 3}", m.grad.numpy())
    print(f"{name}: losses {[round(float(o), 6) for o in outs]}; positives per level: "
          f"{stats(targets, img_h, img_w, arrays)}")


def rows(*boxes, m=7):
    """Target rows (class, x1, y1, x2, y2, valid) padded to m with zero rows."""
    t = np.zeros((m, 6), dtype=np.float32)
    for i, b in enumerate(boxes):
        t[i] = b
    return t


def main():
    img_h, img_w = 64, 96  # maps 8x12, 4x6, 2x3: not square, so a swapped H and W shows
    multi = np.stack([
        rows((0, 10.0, 9.0, 30.0, 41.0, 1),      # medium box
             (2, 21.0, 13.0, 28.0, 20.0, 1),     # 7x7: small, in a cell next to the first's
             (1, 22.0, 14.0, 29.0, 21.0, 1),     # nearly the same box: the same cells twice
             (7, 1.0, 1.0, 2.0, 2.0, 0),         # not valid (class out of range, ignored)
             (1, 1.0, 30.0, 9.0, 44.0, 1),       # at the left border: centre cx < 1 cell on P3
             (2, 40.0, 2.0, 95.0, 62.0, 1),      # large: rejected by P3's anchors
             (0, 87.5, 52.5, 95.9, 63.9, 1)),    # bottom-right corner: no right / bottom neighbour
        rows(),                                  # an image without boxes
        rows((1, 47.9, 23.9, 48.1, 24.1, 1),     # 0.2 px: no anchor matches it
             (0, 44.0, 20.0, 52.0, 28.0, 1),     # centre on a cell border (48, 24)
             (2, 12.2, 35.1, 33.9, 50.3, 1)),
    ])
    case("multi_class", multi, 3, img_h, img_w, 3)
    single = multi.copy()
    single[..., 0] = np.where(single[..., 5] > 0, 0, single[..., 0])
    case("one_class", single, 1, img_h, img_w, 3)
    case("no_boxes", np.zeros((2, 4, 6), dtype=np.float32), 2, img_h, img_w, 2)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "yolo_loss.bin")
    write_golden(out, records)
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes (torch {torch.__version__})")


if __name__ == "__main__":
    sys.exit(main())
