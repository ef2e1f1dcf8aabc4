#!/usr/bin/env python3
"""SSCMA's own export path on libsscma's models: libsscma's float ONNX export -> onnx2tf -> TensorFlow's
full-integer int8 converter, and TFLite's reference outputs, for check.py (the meson test tflite-reference).

SSCMA (ModelAssistant) exports PyTorch -> ONNX -> onnx2tf -> SavedModel -> TFLiteConverter with a representative
dataset. This script does the same from libsscma's `sscma_export_onnx` of the float model, so that the files a
user gets by taking libsscma's ONNX through SSCMA's toolchain are checked to run bit-exactly in libsscma.

For each family of tests/export/export_fixture.c (classifier, fomo, pfld in its 24x24 `tiny` variants: seeded
weights with non-trivial batch norms, the classifier briefly trained, FOMO's prediction conv scaled), `export_fixture DIR 256 tiny` writes <family>_f32.onnx
(NCHW, as ONNX wants) and the 256 Fashion-MNIST test images (resized and normalized, float32 NHWC) that libsscma's
own PTQ calibrated on; those same images are the representative dataset here (onnx2tf's model takes NHWC). onnx2tf 1.29.24 (tests/tflite/onnx2tf/requirements.txt: it pins
TensorFlow 2.19, so its own venv) writes the SavedModel; TFLiteConverter.from_saved_model with
TFLITE_BUILTINS_INT8 and int8 input/output makes `<family>_onnx2tf_int8.tflite`.

Inputs and reference outputs as tests/tflite/generate.py: 50 int8 samples (the first 25 uniform over int8, the
other 25 Fashion-MNIST images chosen with a seeded generator and quantized with the input's parameters),
ai-edge-litert's Interpreter with OpResolverType.BUILTIN_REF, raw little-endian `<file>.in0.bin` / `.out<k>.bin`.
The entries go to models/manifest-onnx2tf.json (same schema as manifest.json, generator tag
tests/tflite/onnx2tf/generate.py), which check.py reads beside manifest.json.

    ~/.cache/libsscma/venv-onnx2tf/bin/python tests/tflite/onnx2tf/generate.py --fixture build/tests/export_fixture
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import onnx2tf  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert import interpreter as litert  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "models")
FAMILIES = ["classifier", "fomo", "pfld"]
CALIBRATION = 256
COUNT = 50

sys.path.insert(0, os.path.join(HERE, ".."))
from generate import op_list, tensor_entry  # noqa: E402  (tests/tflite/generate.py: the same manifest format)


def convert(onnx_path, calib_nhwc, workdir):
    saved = os.path.join(workdir, "saved_model")
    onnx2tf.convert(input_onnx_file_path=onnx_path, output_folder_path=saved, non_verbose=True,
                    output_signaturedefs=True, copy_onnx_input_output_names_to_tflite=True)

    def representative():
        for k in range(calib_nhwc.shape[0]):
            yield [calib_nhwc[k:k + 1]]

    conv = tf.lite.TFLiteConverter.from_saved_model(saved)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def samples(family, detail, images_nhwc):
    rng = np.random.default_rng(sum((i + 1) * ord(c) for i, c in enumerate(family)) * 1000 + 3)
    shape = list(detail["shape"])
    scale, zp = detail["quantization"]
    out = []
    for k in range(COUNT):
        if k < COUNT // 2:
            out.append(rng.integers(-128, 128, shape).astype(np.int8))
        else:
            img = images_nhwc[rng.integers(0, images_nhwc.shape[0])][None]
            out.append(np.clip(np.round(img / scale) + zp, -128, 127).astype(np.int8))
    return out


def build(family, fixture_dir, fixture_manifest, workdir):
    shape = fixture_manifest[family]["f32"]["input_shape"]  # [1, H, W, C]: libsscma's tensors are NHWC
    raw = np.fromfile(os.path.join(fixture_dir, f"{family}_f32_input.bin"), dtype="<f4")
    images = raw.reshape([CALIBRATION] + shape[1:])
    content = convert(os.path.join(fixture_dir, f"{family}_f32.onnx"), images, os.path.join(workdir, family))
    interp = litert.Interpreter(model_content=content, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    ops = op_list(interp, content)
    base = f"{family}_onnx2tf_int8"
    fname = base + ".tflite"
    with open(os.path.join(MODELS, fname), "wb") as f:
        f.write(content)
    (d_in,) = interp.get_input_details()
    outs = interp.get_output_details()
    xs = samples(family, d_in, images)
    ys = [[] for _ in outs]
    for x in xs:
        interp.set_tensor(d_in["index"], x)
        interp.invoke()
        for j, d in enumerate(outs):
            ys[j].append(interp.get_tensor(d["index"]).copy())
    entry = {"file": fname, "group": f"onnx2tf_{family}", "variant": "int8", "ops": ops, "required": [],
             "count": COUNT, "op_resolver": "BUILTIN_REF", "inputs": [], "outputs": []}
    np.stack(xs).astype("<i1").tofile(os.path.join(MODELS, f"{base}.in0.bin"))
    entry["inputs"].append(tensor_entry(d_in, xs[0].shape, f"{base}.in0.bin"))
    for j, (d, y) in enumerate(zip(outs, ys)):
        data = f"{base}.out{j}.bin"
        np.stack(y).astype(np.dtype(d["dtype"]).newbyteorder("<")).tofile(os.path.join(MODELS, data))
        entry["outputs"].append(tensor_entry(d, y[0].shape, data))
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixture", default="build/tests/export_fixture", help="the built tests/export/export_fixture")
    ap.add_argument("--only", default="", help="comma-separated families")
    args = ap.parse_args()
    tf.random.set_seed(0)
    families = [f for f in args.only.split(",") if f] or FAMILIES
    manifest_path = os.path.join(MODELS, "manifest-onnx2tf.json")
    entries = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            entries = {m["file"]: m for m in json.load(f)["models"]}
    with tempfile.TemporaryDirectory() as tmp:
        fixture_dir = os.path.join(tmp, "fixture")
        os.makedirs(fixture_dir)
        subprocess.run([args.fixture, fixture_dir, str(CALIBRATION), "tiny"], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(fixture_dir, "manifest.json")) as f:
            fixture_manifest = json.load(f)
        for fam in families:
            e = build(fam, fixture_dir, fixture_manifest, tmp)
            entries[e["file"]] = e
            print(f"{e['file']}: {' '.join(e['ops'])}", flush=True)
    from importlib.metadata import version
    manifest = {"generator": "tests/tflite/onnx2tf/generate.py", "onnx2tf": onnx2tf.__version__,
                "tensorflow": tf.__version__, "ai_edge_litert": version("ai-edge-litert"), "numpy": np.__version__,
                "models": [entries[f"{f}_onnx2tf_int8.tflite"] for f in FAMILIES
                           if f"{f}_onnx2tf_int8.tflite" in entries]}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
