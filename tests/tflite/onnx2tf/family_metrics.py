#!/usr/bin/env python3
"""SSCMA's export path on trained FOMO and PFLD models: the task metric of libsscma's own int8 export beside the
int8 file SSCMA's toolchain (onnx2tf + TensorFlow's full-integer converter) makes from libsscma's float ONNX.

A measurement for docs/export.md, not a test (it trains two models: about 3 minutes on 2 cores):
1. examples/train_fomo (the FOMO recipe of docs/training.md: composed Fashion-MNIST detection set, 30 epochs) and
   examples/train_pfld (the PFLD recipe: composed keypoint set, 20 epochs) train with --work-dir; each then writes
   <family>_f32.onnx and its own PTQ int8 <family>_int8.tflite (32 training batches) and reports the metric of
   both on the valid split (sscma_export_verify: FomoMetric F1, PointMetric keypoint/Acc).
2. onnx2tf converts <family>_f32.onnx; TFLiteConverter quantizes it to int8 (int8 input and output) with a
   representative dataset of the first 512 training images through the same deterministic preprocessing as the
   valid split (Resize to the input size, /255), as libsscma's PTQ sees them apart from its random flips.
3. libsscma evaluates the onnx2tf file on the same valid loader (QModel.verify: the file's metric), so both files
   are scored by one implementation of the metric, in libsscma's int8 runtime (0 LSB against TFLite's reference
   kernels for both kinds of file: tests/tflite).

    SSCMA_LIBRARY=build/lib/libsscma.so.1 ~/.cache/libsscma/venv-onnx2tf/bin/python \
        tests/tflite/onnx2tf/family_metrics.py --build build --work /tmp/family-metrics

Prints one JSON object per family.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "bindings", "python"))
import sscma  # noqa: E402

import importlib.util  # noqa: E402

# this folder's generate.py (onnx2tf + the int8 converter), under another name: it imports tests/tflite/generate.py
_spec = importlib.util.spec_from_file_location("onnx2tf_generate", os.path.join(HERE, "generate.py"))
_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gen)
convert = _gen.convert

FAMILIES = {
    # family: (example, size, train images glob, valid dataset config, valid loader target, metric)
    "fomo": ("examples/train_fomo/train_fomo", 96, "train/*.*",
             lambda d: {"type": "CocoDataset", "data_root": d, "ann_file": "valid/_annotations.coco.json",
                        "data_prefix": {"img": "valid/"}, "indices": 200},
             {"type": "FomoTarget", "stride": 8}, "F1"),
    "pfld": ("examples/train_pfld/train_pfld", 112, "train/*.*",
             lambda d: {"type": "MeterData", "data_root": os.path.join(d, "valid"), "indices": 200},
             {"type": "KeypointTarget"}, "keypoint/Acc"),
}


def calibration(ctx, data, pattern, size, count=512):
    files = sorted(f for f in glob.glob(os.path.join(data, pattern)) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    if len(files) < count:
        raise SystemExit(f"{data}: {len(files)} training images, expected at least {count}")
    imgs = []
    for f in files[:count]:
        a = sscma.read_image(ctx, f, 1).astype(np.float32)
        if a.shape[0] != size or a.shape[1] != size:
            raise SystemExit(f"{f}: {a.shape}, expected {size}x{size} (the composed sets need no resize)")
        imgs.append(a / 255.0)
    return np.stack(imgs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default=None, help="folder for data, exports and onnx2tf files (default: a temporary one)")
    ap.add_argument("--threads", default="2")
    ap.add_argument("families", nargs="*", default=list(FAMILIES))
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="family-metrics-")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    ctx = sscma.Context(threads=int(a.threads))
    for fam in a.families:
        example, size, pattern, valid_cfg, target, metric = FAMILIES[fam]
        data, out = os.path.join(work, fam + "_data"), os.path.join(work, fam)
        os.makedirs(out, exist_ok=True)
        run = subprocess.run([os.path.join(a.build, example), "--data", data, "--work-dir", out, "--threads",
                              a.threads, "--quiet"], env=env, check=True, capture_output=True, text=True)
        ours = json.loads(run.stdout.strip().splitlines()[-1])
        calib = calibration(ctx, data, pattern, size)
        with tempfile.TemporaryDirectory() as tmp:
            blob = convert(os.path.join(out, f"{fam}_f32.onnx"), calib, tmp)
        theirs_path = os.path.join(out, f"{fam}_onnx2tf_int8.tflite")
        with open(theirs_path, "wb") as f:
            f.write(blob)
        ds = sscma.Dataset(ctx, valid_cfg(data))
        loader = sscma.Loader(ctx, ds, {"batch_size": 50, "pipeline": [
            {"type": "Resize", "size": [size, size]}, {"type": "Normalize", "mean": [0], "std": [255]}],
            "target": target})
        q = sscma.QModel.load_tflite(ctx, os.path.join(out, f"{fam}_int8.tflite"))
        r = q.verify(theirs_path, loader)
        print(json.dumps({"family": fam, "metric": r["metric"] or metric, "train": ours,
                          "libsscma_int8_tflite": r["metric_model"], "onnx2tf_int8_tflite": r["metric_file"],
                          "samples": r["samples"], "values_differing": r["values_differing"]}), flush=True)


if __name__ == "__main__":
    main()
