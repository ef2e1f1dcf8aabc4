#!/usr/bin/python3
"""Golden values for libsscma's rtmdet_loss op: a PyTorch reference of RTMDetHead.loss_by_feat as ModelAssistant's
main line runs it (configs/rtmdet/rtmdet_nano_8xb32_300e_coco_relu.py: sscma.models.RTMDetHead with
MlvlPointGenerator offset 0, DistancePointBBoxCoder, BatchDynamicSoftLabelAssigner topk 13 / iou_weight 3 /
soft_center_radius 3, QualityFocalLoss beta 2, GIoULoss weight 2), written here from the upstream code paths (no
mmdet / mmyolo / sscma import).

Writes tests/golden/rtmdet_loss.bin (format in golden_io.py), read by tests/unit/test_rtmdet_loss.c. Per case: the
maps cls_0..2 [B, H, W, C] and reg_0..2 [B, H, W, 4] (NHWC, libsscma's layout; reg in input pixels), the targets
[B, M, 6] (class, x1, y1, x2, y2, valid), the upstream gradients dy0..dy2 of (total, loss_cls, loss_bbox), the
outputs y0..y2, the gradients dcls_0..2 and dreg_0..2, and `assign` (per prior of each image: label, metric) for the
printout of a failing test. The assignment runs in float32 as upstream's (its decisions compare float32 values, the
assigner runs under no_grad on detached predictions); the losses and gradients in float64 on the float32 inputs
(autograd).

One choice where upstream is unspecified: the assigner sorts costs with torch.sort (not stable); ties (the 1e8 of
priors outside every box, reached when a box's dynamic k exceeds the priors inside it) are broken here by prior index
(stable=True), as libsscma does.

Run: /usr/bin/python3 tests/golden/gen_rtmdet_loss.py   (deterministic: seeded)
"""
import os
import sys

import numpy as np
import torch
from golden_io import write_golden

STRIDES = [8, 16, 32]
TOPK, IOU_WEIGHT, SOFT_CENTER_RADIUS = 13, 3.0, 3.0
BETA, W_CLS, W_BBOX, GIOU_EPS = 2.0, 1.0, 2.0, 1e-6
INF, EPS = 100000000, 1.0e-7

rng = np.random.default_rng(20261207)
records = []


def add(name, array, dtype=1):
    array = np.array(array, order="C")
    records.append((name, dtype, array.astype(np.float32 if dtype == 1 else np.int32)))


def grid_priors(sizes):
    """MlvlPointGenerator(offset=0).grid_priors(with_stride=True): (N, 4) x, y, stride_w, stride_h; rows y-major."""
    out = []
    for (h, w), s in zip(sizes, STRIDES):
        sx = (torch.arange(0, w) * s).to(torch.float32)
        sy = (torch.arange(0, h) * s).to(torch.float32)
        yy, xx = torch.meshgrid(sy, sx, indexing="ij")
        xx, yy = xx.reshape(-1), yy.reshape(-1)
        out.append(torch.stack([xx, yy, torch.full_like(xx, s), torch.full_like(yy, s)], dim=-1))
    return torch.cat(out, dim=0)


def distance2bbox(points, distance):
    return torch.stack([points[..., 0] - distance[..., 0], points[..., 1] - distance[..., 1],
                        points[..., 0] + distance[..., 2], points[..., 1] + distance[..., 3]], -1)


def bbox_overlaps(b1, b2, mode="iou", is_aligned=False, eps=1e-6):
    """mmdet's bbox_overlaps for boxes (..., n, 4) and (..., m, 4): iou (n, m) or aligned giou (n,)."""
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    if is_aligned:
        lt, rb = torch.max(b1[..., :2], b2[..., :2]), torch.min(b1[..., 2:], b2[..., 2:])
        wh = (rb - lt).clamp(min=0)
        overlap = wh[..., 0] * wh[..., 1]
        union = area1 + area2 - overlap
        enc_lt, enc_rb = torch.min(b1[..., :2], b2[..., :2]), torch.max(b1[..., 2:], b2[..., 2:])
    else:
        lt = torch.max(b1[..., :, None, :2], b2[..., None, :, :2])
        rb = torch.min(b1[..., :, None, 2:], b2[..., None, :, 2:])
        wh = (rb - lt).clamp(min=0)
        overlap = wh[..., 0] * wh[..., 1]
        union = area1[..., None] + area2[..., None, :] - overlap
    eps = union.new_tensor([eps])
    union = torch.max(union, eps)
    ious = overlap / union
    if mode == "iou":
        return ious
    enc_wh = (enc_rb - enc_lt).clamp(min=0)
    enc_area = torch.max(enc_wh[..., 0] * enc_wh[..., 1], eps)
    return ious - (enc_area - union) / enc_area


@torch.no_grad()
def assign(pred_bboxes, pred_scores, priors, gt_labels, gt_bboxes, pad_bbox_flag, num_classes):
    """BatchDynamicSoftLabelAssigner.forward (float32): per prior label (num_classes = background), box, metric."""
    num_gt = gt_bboxes.size(1)
    batch_size, num_bboxes, _ = pred_bboxes.size()
    if num_gt == 0 or num_bboxes == 0:
        return (torch.full(pred_scores[..., 0].shape, num_classes, dtype=torch.long),
                gt_bboxes.new_zeros(pred_bboxes.shape), gt_bboxes.new_zeros(pred_scores[..., 0].shape))
    centres = priors[:, :2]
    # strictly inside: (N_points, B, N_boxes)
    deltas = torch.cat([centres[:, None, None] - gt_bboxes[..., :2], gt_bboxes[..., 2:] - centres[:, None, None]], -1)
    is_in_gts = (deltas.min(dim=-1).values > 0) * pad_bbox_flag[..., 0][None]
    is_in_gts = is_in_gts.permute(1, 0, 2)
    valid_mask = is_in_gts.sum(dim=-1) > 0
    gt_center = (gt_bboxes[..., :2] + gt_bboxes[..., 2:]) / 2.0
    strides = priors[..., 2]
    distance = (priors[None].unsqueeze(2)[..., :2] - gt_center[:, None, :, :]).pow(2).sum(-1).sqrt() \
        / strides[None, :, None]
    distance = distance * valid_mask.unsqueeze(-1)
    soft_center_prior = torch.pow(10, distance - SOFT_CENTER_RADIUS)
    pairwise_ious = bbox_overlaps(pred_bboxes, gt_bboxes)
    iou_cost = -torch.log(pairwise_ious + EPS) * IOU_WEIGHT
    scores = pred_scores.permute(0, 2, 1)
    bidx = torch.arange(batch_size).view(-1, 1).repeat(1, num_gt)
    scores = scores[bidx, gt_labels.long().squeeze(-1)].permute(0, 2, 1)
    scale_factor = pairwise_ious - scores.sigmoid()
    cls_cost = torch.nn.functional.binary_cross_entropy_with_logits(scores, pairwise_ious, reduction="none") * \
        scale_factor.abs().pow(2.0)
    cost = cls_cost + iou_cost + soft_center_prior
    cost = torch.where(valid_mask[..., None].repeat(1, 1, num_gt), cost, torch.ones_like(cost) * INF)
    # dynamic_k_matching
    matching = torch.zeros_like(cost, dtype=torch.uint8)
    topk_ious, _ = torch.topk(pairwise_ious, min(TOPK, pairwise_ious.size(1)), dim=1)
    dynamic_ks = torch.clamp(topk_ious.sum(1).int(), min=1)
    num_gts = pad_bbox_flag.sum((1, 2)).int()
    _, sorted_indices = torch.sort(cost, dim=1, stable=True)
    for b in range(batch_size):
        for g in range(num_gts[b]):
            matching[b, :, g][sorted_indices[b, :dynamic_ks[b, g], g]] = 1
    multi = matching.sum(2) > 1
    if multi.sum() > 0:
        _, argmin = torch.min(cost[multi, :], dim=1)
        matching[multi, :] *= 0
        matching[multi, argmin] = 1
    fg = matching.sum(2) > 0
    matched_ious = (matching * pairwise_ious).sum(2)[fg]
    matched_gt = matching[fg, :].argmax(1)
    batch_index = fg.nonzero(as_tuple=True)[0]
    labels = gt_labels.new_full(pred_scores[..., 0].shape, num_classes)
    labels[fg] = gt_labels[batch_index, matched_gt].squeeze(-1)
    boxes = gt_bboxes.new_zeros(pred_bboxes.shape)
    boxes[fg] = gt_bboxes[batch_index, matched_gt]
    metrics = gt_bboxes.new_zeros(pred_scores[..., 0].shape)
    metrics[fg] = matched_ious
    return labels.long(), boxes, metrics


def quality_focal_loss(pred, labels, score):
    """QFL (use_sigmoid, beta) per prior, summed over classes: (N,)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    s = pred.sigmoid()
    loss = bce(pred, torch.zeros_like(pred), reduction="none") * s.pow(BETA)
    pos = ((labels >= 0) & (labels < pred.size(1))).nonzero().squeeze(1)
    pos_label = labels[pos]
    scale = score[pos] - s[pos, pos_label]
    loss[pos, pos_label] = bce(pred[pos, pos_label], score[pos], reduction="none") * scale.abs().pow(BETA)
    return loss.sum(dim=1)


def rtmdet_loss(cls_maps, reg_maps, targets, num_classes):
    """cls_maps / reg_maps: float32 numpy NHWC. Returns the float64 leaves, the outputs and the assignment."""
    batch = cls_maps[0].shape[0]
    sizes = [m.shape[1:3] for m in cls_maps]
    priors = grid_priors(sizes)
    # gt_instances_preprocess: the valid rows of each image first, zero rows up to the batch's most
    rows = [[r for r in targets[b] if r[5] > 0] for b in range(batch)]
    most = max(len(r) for r in rows)
    gt_info = torch.zeros((batch, most, 5), dtype=torch.float32)
    for b, rs in enumerate(rows):
        for k, r in enumerate(rs):
            gt_info[b, k] = torch.tensor(r[:5])
    gt_labels, gt_bboxes = gt_info[:, :, :1], gt_info[:, :, 1:]
    # pad_bbox_flag: upstream takes gt_bboxes.sum(-1) > 0; the same for these rows (their corners sum to > 0)
    pad_bbox_flag = (gt_bboxes.sum(-1, keepdim=True) > 0).float()
    assert int(pad_bbox_flag.sum()) == sum(len(r) for r in rows)
    flat_cls32 = torch.cat([torch.from_numpy(m).reshape(batch, -1, num_classes) for m in cls_maps], 1)
    flat_reg32 = torch.cat([torch.from_numpy(m).reshape(batch, -1, 4) for m in reg_maps], 1)
    labels, boxes, metrics = assign(distance2bbox(priors[..., :2], flat_reg32), flat_cls32, priors, gt_labels,
                                    gt_bboxes, pad_bbox_flag, num_classes)
    # the losses in float64 on the same inputs
    cls_leaves = [torch.from_numpy(m.astype(np.float64)).requires_grad_(True) for m in cls_maps]
    reg_leaves = [torch.from_numpy(m.astype(np.float64)).requires_grad_(True) for m in reg_maps]
    flat_cls = torch.cat([m.reshape(batch, -1, num_classes) for m in cls_leaves], 1)
    flat_box = distance2bbox(priors[..., :2].double(), torch.cat([m.reshape(batch, -1, 4) for m in reg_leaves], 1))
    labels, metrics32 = labels.reshape(-1), metrics.reshape(-1)
    metrics64, targets64 = metrics32.double(), boxes.reshape(-1, 4).double()
    cls_preds, bbox_preds = flat_cls.reshape(-1, num_classes), flat_box.reshape(-1, 4)
    pos_inds = ((labels >= 0) & (labels < num_classes)).nonzero().squeeze(1)
    avg_factor = metrics32.sum().clamp_(min=1).item()  # reduce_mean on one process is the identity
    loss_cls = W_CLS * quality_focal_loss(cls_preds, labels, metrics64).sum() / avg_factor
    if len(pos_inds) > 0:
        weight = metrics64[pos_inds]
        if not torch.any(weight > 0):  # GIoULoss's early return
            loss_bbox = (bbox_preds[pos_inds] * weight.unsqueeze(1)).sum()
        else:
            giou = bbox_overlaps(bbox_preds[pos_inds], targets64[pos_inds], mode="giou", is_aligned=True,
                                 eps=GIOU_EPS)
            loss_bbox = W_BBOX * ((1 - giou) * weight).sum() / avg_factor
    else:
        loss_bbox = bbox_preds.sum() * 0
    outs = (loss_cls + loss_bbox, loss_cls, loss_bbox)
    return cls_leaves, reg_leaves, outs, labels, metrics32, avg_factor


def case(name, cls_maps, reg_maps, targets, num_classes):
    cls_leaves, reg_leaves, outs, labels, metrics, avg = rtmdet_loss(cls_maps, reg_maps, targets, num_classes)
    dys = [np.float32(rng.standard_normal()) for _ in outs]
    torch.autograd.backward([o for o in outs], [torch.tensor(float(d), dtype=torch.float64) for d in dys])
    for k, m in enumerate(cls_maps):
        add(f"{name}/cls_{k}", m)
    for k, m in enumerate(reg_maps):
        add(f"{name}/reg_{k}", m)
    add(f"{name}/targets", targets)
    for k, (y, dy) in enumerate(zip(outs, dys)):
        add(f"{name}/y{k}", y.detach().numpy())
        add(f"{name}/dy{k}", np.array(dy))
    for k, m in enumerate(cls_leaves):
        add(f"{name}/dcls_{k}", m.grad.numpy())
    for k, m in enumerate(reg_leaves):
        grad = m.grad if m.grad is not None else torch.zeros_like(m)
        add(f"{name}/dreg_{k}", grad.numpy())
    add(f"{name}/labels", labels.numpy(), dtype=4)
    add(f"{name}/metrics", metrics.numpy())
    pos = labels < num_classes
    if name == "padded_column":  # the point: prior 13 = (8, 8) of image 0 is a class-0 positive with metric 0
        assert int(labels[13]) == 0 and float(metrics[13]) == 0.0, (labels[13], metrics[13])
    print(f"{name}: losses {[round(float(o), 6) for o in outs]}; {int(pos.sum())} positives, avg_factor {avg:.4f}, "
          f"{int((pos & (metrics == 0)).sum())} positives with metric 0")


def maps(batch, img_h, img_w, num_classes, targets, fit=0.6):
    """Random logits and distances. With probability `fit` a prior's distances aim at the valid box whose centre is
    nearest (times a random factor), so the assignment has real IoUs to rank; otherwise random positive distances."""
    cls_maps, reg_maps = [], []
    for s in STRIDES:
        h, w = -(-img_h // s), -(-img_w // s)
        cls_maps.append((rng.standard_normal((batch, h, w, num_classes)) * 1.5 - 1.0).astype(np.float32))
        reg = np.abs(rng.standard_normal((batch, h, w, 4))) * 2.0 * s + 0.5
        for b in range(batch):
            boxes = [r for r in targets[b] if r[5] > 0]
            if not boxes:
                continue
            for y in range(h):
                for x in range(w):
                    if rng.uniform() >= fit:
                        continue
                    px, py = x * s, y * s
                    r = min(boxes, key=lambda r: ((r[1] + r[3]) / 2 - px) ** 2 + ((r[2] + r[4]) / 2 - py) ** 2)
                    aim = np.array([px - r[1], py - r[2], r[3] - px, r[4] - py])
                    reg[b, y, x] = aim * np.exp(0.25 * rng.standard_normal(4))
        reg_maps.append(reg.astype(np.float32))
    return cls_maps, reg_maps


def rows(*boxes, m=8):
    """Target rows (class, x1, y1, x2, y2, valid) padded to m with zero rows."""
    t = np.zeros((m, 6), dtype=np.float32)
    for i, b in enumerate(boxes):
        t[i] = b
    return t


def main():
    img_h, img_w = 64, 96  # maps 8x12, 4x6, 2x3 (126 priors): not square, so a swapped H and W shows
    many = np.stack([
        rows((0, 10.0, 9.0, 30.0, 41.0, 1),      # medium box
             (2, 21.0, 13.0, 28.0, 20.0, 1),     # 7x7: one prior (24, 16) inside
             (1, 22.0, 14.0, 29.0, 21.0, 1),     # nearly the same box: priors wanted twice
             (7, 1.0, 1.0, 2.0, 2.0, 0),         # not valid (class out of range, ignored)
             (1, 16.0, 32.0, 48.0, 64.0, 1),     # corners on prior points: the edge priors are not inside
             (2, 40.0, 2.0, 95.0, 62.0, 1),      # large: spans the levels' priors
             (0, 87.5, 52.5, 95.9, 63.9, 1)),    # bottom-right corner
        rows(),                                  # an image without boxes
        rows((1, 47.9, 23.9, 48.1, 24.1, 1),     # 0.2 px around a prior of every level: that prior alone inside
             (0, 44.0, 20.0, 52.0, 28.0, 1),
             (2, 12.2, 35.1, 33.9, 50.3, 1)),
    ])
    cls_maps, reg_maps = maps(3, img_h, img_w, 3, many)
    case("many", cls_maps, reg_maps, many, 3)
    two = np.stack([
        rows((1, 30.0, 10.0, 70.0, 50.0, 1), m=5),                       # one box
        rows((0, 0.0, 0.0, 33.0, 30.0, 1), (1, 32.0, 8.0, 64.0, 40.0, 1),  # many, touching and overlapping
             (0, 60.0, 30.0, 96.0, 64.0, 1), (1, 5.0, 40.0, 20.0, 60.0, 1), m=5),
    ])
    cls_maps, reg_maps = maps(2, img_h, img_w, 2, two, fit=0.8)
    case("two_classes", cls_maps, reg_maps, two, 2)
    # random distances only: small IoUs, dynamic k 1
    cls_maps, reg_maps = maps(2, img_h, img_w, 2, two, fit=0.0)
    case("random_preds", cls_maps, reg_maps, two, 2)
    tiny = np.stack([
        rows((0, 45.0, 21.0, 51.0, 27.0, 1), (1, 45.5, 20.5, 50.5, 27.5, 1), m=3),  # one prior inside each
        rows((0, 20.0, 20.0, 60.0, 44.0, 1), m=3),
    ])
    cls_maps, reg_maps = maps(2, img_h, img_w, 2, tiny, fit=1.0)
    case("tiny_boxes", cls_maps, reg_maps, tiny, 2)
    # image 0: two small boxes of class 1 with prior (8, 8) alone inside both; its prediction (10, 10, 20, 20) barely
    # overlaps them (IoU 0.014) and its class-1 logit is very high, class 0 low. Both boxes take it, and the least
    # cost of its row is the zero column padding image 0 to image 1's three boxes: upstream makes it a positive of
    # class 0, box 0, metric 0 (a real column would give it class 1 and metric 0.014).
    padded = np.stack([
        rows((1, 4.0, 5.0, 12.0, 11.0, 1), (1, 5.0, 4.0, 11.0, 12.0, 1), m=4),
        rows((0, 30.0, 10.0, 70.0, 50.0, 1), (1, 8.0, 30.0, 40.0, 62.0, 1), (0, 50.0, 2.0, 90.0, 30.0, 1), m=4),
    ])
    cls_maps, reg_maps = maps(2, img_h, img_w, 2, padded, fit=1.0)
    cls_maps[0][0, 1, 1] = [-5.0, 40.0]
    reg_maps[0][0, 1, 1] = [-2.0, -2.0, 12.0, 12.0]
    case("padded_column", cls_maps, reg_maps, padded, 2)
    none = np.zeros((2, 4, 6), dtype=np.float32)
    cls_maps, reg_maps = maps(2, img_h, img_w, 2, none)
    case("no_boxes", cls_maps, reg_maps, none, 2)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rtmdet_loss.bin")
    write_golden(out, records)
    print(f"wrote {out}: {len(records)} records, {os.path.getsize(out)} bytes (torch {torch.__version__})")


if __name__ == "__main__":
    sys.exit(main())
