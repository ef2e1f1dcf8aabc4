#!/usr/bin/python3
"""The Swift-YOLO recipe of examples/train_swift_yolo in PyTorch: the peer of bench/run's "swift_yolo" figure.

Same data (the composed COCO set in Roboflow's layout that the C example writes under --data; run it first), same
recipe: images as composed (Resize to size x size is the identity on them), gray to RGB, random horizontal flip 0.5,
divided by 255; batch 16, shuffled; SSCMA's Swift-YOLO-tiny (tests/golden/ref_models.py SwiftYOLO: YOLODetector,
deepen 0.33, widen 0.15, ReLU, BN momentum 0.03 eps 0.001, PyTorch's conv init and mmyolo's head bias priors);
the YOLOv5 loss with SSCMA's weights (tests/golden/gen_yolo_loss.py's reference, the one libsscma's op is tested
against); SGD lr 0.01, momentum 0.937, Nesterov, weight decay 5e-4; mmyolo's YOLOv5ParamSchedulerHook (linear,
lr_factor 0.01, warmup_epochs 1, warmup_mim_iter 10, warmup_bias_lr 0.1, warmup_momentum 0.8). Validation with
mmyolo's predict_by_feat and SSCMA's test_cfg (multi_label, nms_pre 30000, score_thr 0.001, NMS IoU 0.65 through
mmcv's batched_nms, max_per_img 300; NMS written here in torch) and pycocotools' COCOeval as mmdet's CocoMetric drives
it (maxDets 100, 300, 1000).

Parameter groups: the C example sets no optim_wrapper.constructor, so libsscma uses DefaultOptimWrapperConstructor
(every parameter decays) and its YOLOv5 hook warms every bias (conv and BN) from warmup_bias_lr; --param-groups
default does the same. --param-groups yolov5 is mmyolo's YOLOv5OptimizerConstructor (SSCMA's config): three groups,
weights decay 5e-4 * 16 * 4 / 64, norm weights and biases do not; the bias group warms from warmup_bias_lr.

Pillow and pycocotools come from the virtual environment of tools/install-deps (bench/coco_tools.py runs there;
SSCMA_VENV overrides ~/.cache/libsscma/venv). Prints one JSON line like the C example:
{"mAP", "mAP50", "epochs", "train_images", "valid_images", "size", "seconds"} (seconds: training and the final
validation, as the C example's trainer run).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_swift_yolo_torch.py --data DIR [--size 192] [--epochs 30]
        [--train 3000] [--valid 500] [--threads 2] [--seed 0] [--lr 0.01] [--param-groups default|yolov5] [--quiet]
        [--checkpoint FILE --chunk-seconds S]   (a long run in pieces: each run stops at the first epoch boundary
                                                 past S seconds and saves; run again until the JSON line comes; the
                                                 pieces give the same result as one run, "seconds" is their sum)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "golden"))
from ref_models import SWIFT_YOLO_ANCHORS, SWIFT_YOLO_STRIDES, SwiftYOLO  # noqa: E402
from gen_yolo_loss import yolov5_loss  # noqa: E402

VENV_PY = os.path.join(os.environ.get("SSCMA_VENV", os.path.expanduser("~/.cache/libsscma/venv")), "bin", "python")
TOOLS = os.path.join(HERE, "coco_tools.py")


def load_split(data, split, n, work):
    out = os.path.join(work, f"{split}.npz")
    subprocess.run([VENV_PY, TOOLS, "decode", data, split, str(n), out], check=True)
    z = np.load(out)
    images = torch.from_numpy(z["images"]).permute(0, 3, 1, 2).contiguous()  # uint8 NCHW
    per_image = [[] for _ in range(images.shape[0])]
    for row in z["boxes"]:
        per_image[int(row[0])].append(row[1:])
    return images, [np.array(b, dtype=np.float32).reshape(-1, 5) for b in per_image], int(z["classes"])


def targets_of(boxes):
    """[B, M, 6] rows (class, x1, y1, x2, y2, valid): the loader's BoxTarget."""
    m = max(1, max(len(b) for b in boxes))
    t = np.zeros((len(boxes), m, 6), dtype=np.float32)
    for i, b in enumerate(boxes):
        t[i, :len(b), :5] = b
        t[i, :len(b), 5] = 1
    return t


# ---- mmyolo's YOLOv5Head.predict_by_feat and mmcv's batched_nms, in float32 ----

def nms(boxes, scores, thr, limit):
    """Greedy NMS in descending score order (stable); drops a box whose IoU (no +1) with a kept one is > thr. Stops
    at `limit` kept boxes (the later ones would be cut by max_per_img anyway)."""
    order = torch.sort(scores, descending=True, stable=True)[1]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.numel() > 0 and len(keep) < limit:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        b = boxes[rest]
        w = (torch.min(boxes[i, 2], b[:, 2]) - torch.max(boxes[i, 0], b[:, 0])).clamp(min=0)
        h = (torch.min(boxes[i, 3], b[:, 3]) - torch.max(boxes[i, 1], b[:, 1])).clamp(min=0)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[iou <= thr]
    return torch.tensor(keep, dtype=torch.long)


def batched_nms(boxes, scores, labels, thr, limit, split_thr=10000):
    if boxes.shape[0] < split_thr:  # mmcv: offset each class by label * (max coordinate + 1)
        offsets = labels.to(boxes.dtype) * (boxes.max() + 1)
        return nms(boxes + offsets[:, None], scores, thr, limit)
    keep = []
    for c in torch.unique(labels):
        idx = torch.nonzero(labels == c).view(-1)
        keep.append(idx[nms(boxes[idx], scores[idx], thr, boxes.shape[0])])
    keep = torch.cat(keep)
    return keep[torch.sort(scores[keep], descending=True, stable=True)[1]][:limit]


def predict(maps, num_classes, img_h, img_w, score_thr=0.001, nms_pre=30000, iou_thr=0.65, max_per_img=300):
    """Detections per image (xyxy, score, label) as mmyolo's predict_by_feat with multi_label and objectness."""
    flat_boxes, flat_scores, flat_obj = [], [], []
    for level, m in enumerate(maps):  # NCHW [B, 3 (5 + C), H, W]
        b, _, h, w = m.shape
        s = SWIFT_YOLO_STRIDES[level]
        p = m.view(b, 3, 5 + num_classes, h, w).permute(0, 3, 4, 1, 2).sigmoid()  # [B, H, W, 3, 5 + C]
        gy, gx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                                indexing="ij")
        anchors = torch.tensor(SWIFT_YOLO_ANCHORS[level], dtype=torch.float32)
        # YOLOv5BBoxCoder.decode: the prior's centre ((g + 0.5) s) plus (sigmoid - 0.5) * 2 * s
        cx = (p[..., 0] - 0.5) * 2 * s + ((gx + 0.5) * s)[..., None]
        cy = (p[..., 1] - 0.5) * 2 * s + ((gy + 0.5) * s)[..., None]
        bw = (p[..., 2] * 2) ** 2 * anchors[:, 0]
        bh = (p[..., 3] * 2) ** 2 * anchors[:, 1]
        box = torch.stack([cx - bw * 0.5, cy - bh * 0.5, cx + bw * 0.5, cy + bh * 0.5], dim=-1)
        flat_boxes.append(box.reshape(b, -1, 4))
        flat_scores.append(p[..., 5:].reshape(b, -1, num_classes))
        flat_obj.append(p[..., 4].reshape(b, -1))
    boxes, scores, obj = torch.cat(flat_boxes, 1), torch.cat(flat_scores, 1), torch.cat(flat_obj, 1)
    results = []
    for i in range(boxes.shape[0]):
        keep = obj[i] > score_thr
        bx, sc = boxes[i][keep], scores[i][keep] * obj[i][keep][:, None]
        valid = sc > score_thr  # filter_scores_and_topk: every (box, class) pair above the threshold
        vs = sc[valid]
        vidx = torch.nonzero(valid)
        vs, order = torch.sort(vs, descending=True, stable=True)
        vs, top = vs[:nms_pre], vidx[order[:nms_pre]]
        bx, lab = bx[top[:, 0]], top[:, 1]
        if bx.shape[0] == 0:
            results.append((bx, vs, lab))
            continue
        k = batched_nms(bx, vs, lab, iou_thr, max_per_img)[:max_per_img]
        bx = bx[k].clone()
        bx[:, 0::2] = bx[:, 0::2].clamp(0, img_w)
        bx[:, 1::2] = bx[:, 1::2].clamp(0, img_h)
        results.append((bx, vs[k], lab[k]))
    return results


def coco_eval(results, gts, num_classes, size, work):
    """results and ground truth as libsscma's CocoMetric feeds COCOeval: image ids 1..N in order, category label + 1,
    area w * h of the float32 box (in double), no crowd; detections xywh with w = x2 - x1."""
    images = [{"id": i + 1, "width": size, "height": size} for i in range(len(gts))]
    anns = []
    for i, b in enumerate(gts):
        for r in b:
            w, h = float(r[3]) - float(r[1]), float(r[4]) - float(r[2])  # in double, as libsscma's evaluator
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": int(r[0]) + 1,
                         "bbox": [float(r[1]), float(r[2]), w, h], "area": w * h, "iscrowd": 0})
    gt = {"images": images, "annotations": anns, "categories": [{"id": k + 1, "name": str(k)} for k in
                                                                range(num_classes)]}
    dets = []
    for i, (bx, sc, lab) in enumerate(results):
        for b, s, l in zip(bx.tolist(), sc.tolist(), lab.tolist()):
            dets.append({"image_id": i + 1, "category_id": l + 1, "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                         "score": s})
    gt_file, res_file = os.path.join(work, "gt.json"), os.path.join(work, "res.json")
    with open(gt_file, "w") as f:
        json.dump(gt, f)
    with open(res_file, "w") as f:
        json.dump(dets, f)
    out = subprocess.run([VENV_PY, TOOLS, "eval", gt_file, res_file], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--train", type=int, default=3000)
    ap.add_argument("--valid", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--param-groups", choices=("default", "yolov5"), default="default")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--checkpoint", help="resume from this file when it exists; with --chunk-seconds, save to it and "
                    "stop after the first epoch that ends past that many seconds (run again to go on)")
    ap.add_argument("--chunk-seconds", type=float, default=0.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    size = a.size
    with tempfile.TemporaryDirectory() as work:
        train_x, train_b, classes = load_split(a.data, "train", a.train, work)
        valid_x, valid_b, _ = load_split(a.data, "valid", a.valid, work)
        if tuple(train_x.shape[2:]) != (size, size) or tuple(valid_x.shape[2:]) != (size, size):
            sys.exit(f"train_swift_yolo_torch: the images of {a.data} are not {size}x{size} (compose at this --size)")
        model = SwiftYOLO(num_classes=classes)
        model.bbox_head.head_module.init_weights()
        w_cls, w_bbox, w_obj = 0.5 * classes / 80, 0.05, (size / 640) ** 2  # SSCMA's weights, 3 levels
        batch, momentum, wd = 16, 0.937, 5e-4
        named = list(model.named_parameters())
        bias = [p for n, p in named if n.endswith(".bias")]
        if a.param_groups == "yolov5":  # mmyolo's order: decayed weights, norm weights, biases (group 2 warms)
            norm = [p for n, p in named if p.dim() == 1 and not n.endswith(".bias")]
            weights = [p for n, p in named if p.dim() > 1]
            scale = batch * max(round(64 / batch), 1) / 64
            groups = [{"params": weights, "weight_decay": wd * scale}, {"params": norm, "weight_decay": 0.0},
                      {"params": bias, "weight_decay": 0.0, "bias": True}]
        else:  # one decayed group; libsscma's hook warms every bias from warmup_bias_lr
            groups = [{"params": [p for n, p in named if not n.endswith(".bias")], "weight_decay": wd},
                      {"params": bias, "weight_decay": wd, "bias": True}]
        opt = torch.optim.SGD(groups, lr=a.lr, momentum=momentum, nesterov=True)
        n = train_x.shape[0]
        iters = (n + batch - 1) // batch
        warm = max(round(1 * iters), 10)  # warmup_epochs 1, warmup_mim_iter 10 (Python's round)

        def lf(e):
            return (1 - e / a.epochs) * (1.0 - 0.01) + 0.01

        t0 = time.time()
        it, first, done = 0, 0, 0.0
        if a.checkpoint and os.path.exists(a.checkpoint):
            state = torch.load(a.checkpoint)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            gen.set_state(state["gen"])
            it, first, done = state["it"], state["epoch"], state["seconds"]
        t0 -= done
        for epoch in range(first, a.epochs):
            if a.checkpoint and a.chunk_seconds > 0 and epoch > first and time.time() - t0 - done > a.chunk_seconds:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "it": it,
                            "epoch": epoch, "seconds": time.time() - t0}, a.checkpoint)
                print(json.dumps({"checkpoint": a.checkpoint, "epoch": epoch}))
                return 0
            model.train()
            perm = torch.randperm(n, generator=gen)
            total = 0.0
            for k in range(iters):
                if it <= warm:  # YOLOv5ParamSchedulerHook.before_train_iter: np.interp over [0, warm]
                    f = it / warm
                    target = a.lr * lf(epoch)
                    for g in opt.param_groups:
                        start = 0.1 if g.get("bias") else 0.0
                        g["lr"] = start + (target - start) * f
                        g["momentum"] = 0.8 + (momentum - 0.8) * f
                idx = perm[k * batch:(k + 1) * batch]
                x = train_x[idx].float()
                boxes = [train_b[int(j)].copy() for j in idx]
                flip = torch.rand(len(idx), generator=gen) < 0.5
                for j in range(len(idx)):
                    if flip[j]:
                        x[j] = x[j].flip(-1)
                        b = boxes[j]
                        b[:, 1], b[:, 3] = size - b[:, 3], size - b[:, 1]
                x = x / 255.0
                maps = [m.permute(0, 2, 3, 1) for m in model(x)]
                loss = yolov5_loss(maps, targets_of(boxes), classes, size, size, w_cls, w_bbox, w_obj,
                                   check_order=False)[0]
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss)
                it += 1
            for g in opt.param_groups:  # after_train_epoch: base lr * lf(epoch)
                g["lr"] = a.lr * lf(epoch)
            if not a.quiet:
                print(f"epoch {epoch + 1}/{a.epochs} loss {total / iters:.4f} lr {opt.param_groups[0]['lr']:.6f} "
                      f"{time.time() - t0:.1f}s", file=sys.stderr, flush=True)
        model.eval()
        results = []
        with torch.no_grad():
            for k in range(0, valid_x.shape[0], 32):
                results += predict(model(valid_x[k:k + 32].float() / 255.0), classes, size, size)
        m = coco_eval(results, valid_b, classes, size, work)
        seconds = time.time() - t0
    print(json.dumps({"mAP": round(m["mAP"], 4), "mAP50": round(m["mAP50"], 4), "epochs": a.epochs,
                      "train_images": a.train, "valid_images": a.valid, "size": size, "seconds": round(seconds, 1),
                      "seed": a.seed, "param_groups": a.param_groups, "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
