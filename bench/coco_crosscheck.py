#!/usr/bin/env python3
"""pycocotools cross-check of libsscma's CocoMetric on a trained Swift-YOLO: runs examples/train_swift_yolo with
--outfile-prefix (CocoMetric's outfile_prefix, mmdet's: the detections after test_cfg's NMS and the ground truth that
the final validation evaluated, as COCO JSON), scores those files with pycocotools' COCOeval (bench/coco_tools.py:
maxDets 100, 300, 1000 as mmdet's default proposal_nums) and compares its stats with the mAP and mAP50 the example
reports. Exit status 0 when both agree within 1e-4 (the example prints 4 decimals), 1 otherwise.

Run with the virtual environment of tools/install-deps (pycocotools), after building build/:

    OPENBLAS_NUM_THREADS=1 ~/.cache/libsscma/venv/bin/python bench/coco_crosscheck.py --data DIR
        [--size 96] [--train 800] [--valid 200] [--epochs 20] [--threads 2] [--seed 0] [--build build]

Prints one JSON line: {"sscma": {mAP, mAP50, stats}, "pycocotools": {mAP, mAP50, stats}, "max_diff",
"detections", "gt", "ok"}.
"""
import argparse
import json
import os
import subprocess
import sys
import re
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from coco_tools import evaluate  # noqa: E402

# the log's names, in COCOeval.stats order (mmdet's default proposal_nums 100, 300, 1000)
NAMES = ["mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l", "AR@100", "AR@300", "AR@1000", "AR_s@1000",
         "AR_m@1000", "AR_l@1000"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", default="96")
    ap.add_argument("--train", default="800")
    ap.add_argument("--valid", default="200")
    ap.add_argument("--epochs", default="20")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    exe = os.path.join(a.build, "examples", "train_swift_yolo", "train_swift_yolo")
    with tempfile.TemporaryDirectory() as work:
        prefix = os.path.join(work, "val")
        out = subprocess.run([exe, "--size", a.size, "--data", a.data, "--train", a.train, "--valid", a.valid,
                              "--epochs", a.epochs, "--threads", a.threads, "--seed", a.seed,
                              "--outfile-prefix", prefix], check=True, capture_output=True, text=True)
        ours = json.loads(out.stdout.strip().splitlines()[-1])
        val = [line for line in (out.stderr + out.stdout).splitlines() if "Epoch(val)" in line][-1]
        logged = dict(re.findall(r"coco/bbox_(\S+): (-?[0-9.]+)", val))
        ours["stats"] = [float(logged[n]) for n in NAMES]
        with open(prefix + ".bbox.json") as f:
            n_det = len(json.load(f))
        with open(prefix + ".gt.json") as f:
            n_gt = len(json.load(f)["annotations"])
        ref = evaluate(prefix + ".gt.json", prefix + ".bbox.json")
    diff = max([abs(x - y) for x, y in zip(ref["stats"], ours["stats"])] +
               [abs(ref["mAP"] - ours["mAP"]), abs(ref["mAP50"] - ours["mAP50"])])
    ok = diff <= 1e-4
    print(json.dumps({"sscma": {"mAP": ours["mAP"], "mAP50": ours["mAP50"], "stats": ours["stats"]},
                      "pycocotools": ref, "max_diff": diff,
                      "detections": n_det, "gt": n_gt, "size": int(a.size), "epochs": int(a.epochs),
                      "seed": int(a.seed), "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
