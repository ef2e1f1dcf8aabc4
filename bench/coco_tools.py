#!/usr/bin/env python3
"""pycocotools and Pillow side of bench/train_swift_yolo_torch.py (Debian's python3-torch has neither; the virtual
environment of tools/install-deps has both, and no torch). Run with that environment's python:

    coco_tools.py decode DIR SPLIT N OUT.npz   the first N images of DIR/SPLIT/_annotations.coco.json (Roboflow's
                                               layout, libsscma's CocoDataset order) as uint8 RGB [N, H, W, 3] and
                                               their boxes (image index, label, x1, y1, x2, y2; float32)
    coco_tools.py eval GT.json RES.json [CAPS]  COCOeval (bbox) as mmdet's CocoMetric drives it: params.catIds and
                                               imgIds from GT, maxDets = CAPS (default mmdet's 100,300,1000); prints
                                               {"mAP", "mAP50", "stats"}

Labels follow libsscma's CocoDataset: the categories that some annotation uses or whose supercategory is not
"none" (Roboflow's unused parent), in increasing id order.
"""
import contextlib
import io
import json
import os
import sys

import numpy as np


def decode(root, split, n, out):
    from PIL import Image
    with open(os.path.join(root, split, "_annotations.coco.json")) as f:
        ann = json.load(f)
    used = {a["category_id"] for a in ann["annotations"]}
    cats = sorted(c["id"] for c in ann["categories"] if c["id"] in used or c.get("supercategory") != "none")
    label = {c: i for i, c in enumerate(cats)}
    images = ann["images"][:n]
    index = {im["id"]: i for i, im in enumerate(images)}
    pixels = np.stack([np.asarray(Image.open(os.path.join(root, split, im["file_name"])).convert("RGB"))
                       for im in images])
    boxes = [(index[a["image_id"]], label[a["category_id"]], a["bbox"][0], a["bbox"][1],
              a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3])
             for a in ann["annotations"] if a["image_id"] in index and not a.get("iscrowd", 0)]
    np.savez(out, images=pixels, boxes=np.array(boxes, dtype=np.float32).reshape(-1, 6),
             classes=np.int32(len(cats)))


def evaluate(gt_file, res_file, caps=(100, 300, 1000)):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_file)
        with open(res_file) as f:
            res = json.load(f)
        dt = gt.loadRes(res) if res else COCO()
        ev = COCOeval(gt, dt, "bbox")
        ev.params.catIds = gt.getCatIds()
        ev.params.imgIds = gt.getImgIds()
        ev.params.maxDets = list(caps)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {"mAP": float(ev.stats[0]), "mAP50": float(ev.stats[1]), "stats": [float(s) for s in ev.stats]}


def main(argv):
    if len(argv) == 5 and argv[0] == "decode":
        decode(argv[1], argv[2], int(argv[3]), argv[4])
        return 0
    if len(argv) in (3, 4) and argv[0] == "eval":
        caps = tuple(int(c) for c in argv[3].split(",")) if len(argv) == 4 else (100, 300, 1000)
        print(json.dumps(evaluate(argv[1], argv[2], caps)))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
