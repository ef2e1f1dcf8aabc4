#!/usr/bin/env python3
"""Builds the TensorFlow-made int8 .tflite files of tests/tflite/models/ and TFLite's reference outputs for them.

libsscma must run files made by TensorFlow's own converter bit-exactly against TFLite's reference kernels; this
script makes those files and the integers to compare with. check.py (no TensorFlow needed) runs them in libsscma.

Rerun (only when the set of models changes; the committed files are the test data):

    python3 -m venv ~/.cache/libsscma/venv-tf          # Debian 12's python3 (3.11); not tools/install-deps' venv
    ~/.cache/libsscma/venv-tf/bin/pip install -r tests/tflite/requirements.txt
    ~/.cache/libsscma/venv-tf/bin/python tests/tflite/generate.py            # writes tests/tflite/models/
    ~/.cache/libsscma/venv-tf/bin/python tests/tflite/generate.py --only mean_keepdims,tile   # a few groups

Each group is a small TensorFlow graph built around one TFLite builtin (a tf.function with seeded constant weights,
converted with TFLiteConverter.from_concrete_functions: the ops Keras layers emit, without depending on how Keras 3
hands models to the converter), plus two small nets (FOMO-like, YOLO-head-like). Inputs are 1x6x6x4 (the nets
1x16x16x3) so that the whole directory stays near 1.6 MB.
Each is converted with full-integer post-training quantization (representative dataset seeded) in two variants,
`<group>_int8.tflite` (int8 input and outputs) and `<group>_uint8.tflite` (uint8), and one float-I/O file that
exercises QUANTIZE (float -> int8) and DEQUANTIZE. After converting, the file's operator list (the interpreter's
_get_ops_details) must contain the group's builtins; the converter fuses and folds, so the shapes are chosen to
keep each op (the script fails otherwise).

For each file, 50 seeded inputs (the first 25 uniform over the input's quantized range, the other 25 image-like:
smooth gradients plus noise, quantized with the input's parameters) and the outputs of ai-edge-litert's Interpreter
with OpResolverType.BUILTIN_REF (TFLite's reference kernels; BUILTIN only for int8 TILE, a copy, whose version 3 the
reference resolver lacks: the entry's op_resolver says which) are written as raw little-endian arrays:
`<file>.in<k>.bin` / `<file>.out<k>.bin` hold `count` samples back to back, each `prod(shape)` elements of `dtype`
(int8, uint8 or float32). manifest.json lists, per file: group, variant, ops (the builtin list in execution order),
required (the builtins the group is about), inputs and outputs (name, shape at batch 1, shape_signature, dtype,
scale, zero_point, data file), count and op_resolver. Determinism: fixed seeds everywhere; the converter and interpreter versions are pinned in
requirements.txt and recorded in manifest.json.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # the same float calibration on every x86 machine

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert import interpreter as litert  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COUNT = 50
CALIBRATION = 64


def rng_for(name, salt):
    """A generator seeded from the group name (stable across runs and independent of the group order)."""
    seed = sum((i + 1) * ord(c) for i, c in enumerate(name)) * 1000 + salt
    return np.random.default_rng(seed)


def smooth(rng, shape, lo, hi):
    """An image-like sample in [lo, hi]: a random linear gradient per channel plus a little noise."""
    _, h, w, c = shape
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    out = np.empty(shape, np.float32)
    for k in range(c):
        a, b, d = rng.uniform(-1, 1, 3)
        g = a * yy + b * xx + d
        g = (g - g.min()) / (g.max() - g.min() + 1e-6)
        g = g + rng.normal(0, 0.08, (h, w))
        out[0, :, :, k] = np.clip(g, 0, 1)
    return (lo + (hi - lo) * out).astype(np.float32)


def const(rng, shape, scale=0.5):
    return tf.constant(rng.normal(0, scale, shape).astype(np.float32))


# ---- the groups: name -> (input shapes, float input range, builder returning the tf function body, required ops)
# A builder takes a seeded rng and returns f(*inputs) -> output or tuple of outputs.

def g_mean_keepdims(rng):
    return lambda x: tf.reduce_mean(x, axis=[1, 2], keepdims=True)


def g_mean_nokeep(rng):
    return lambda x: tf.reduce_mean(x, axis=[1, 2], keepdims=False)


def g_mul_bcast(rng):
    return lambda a, b: a * b


def g_add_bcast(rng):
    return lambda a, b: a + b


def g_sub_bcast(rng):
    return lambda a, b: a - b


def g_const_scalar(rng):
    # MUL, ADD and SUB each with a scalar constant; a ReLU between keeps the converter from folding them together
    return lambda x: 0.25 - tf.nn.relu(x * 0.75 + 0.5)


def g_const_channel(rng):
    m, a, s = const(rng, [4]), const(rng, [4]), const(rng, [4])
    return lambda x: s - tf.nn.relu(x * m + a)


def g_transpose(rng):
    return lambda x: tf.transpose(x, [0, 2, 1, 3])


def g_reshape(rng):
    return lambda x: tf.reshape(x, [1, 9, 16])


def g_reshape_dynbatch(rng):
    return lambda x: tf.reshape(x, [tf.shape(x)[0], -1])


def g_pad(rng):
    return lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]])


def g_padv2(rng):
    return lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]], constant_values=0.5)


def g_split(rng):
    return lambda x: tuple(tf.split(x, 2, axis=3))


def g_split_v(rng):
    return lambda x: tuple(tf.split(x, [1, 3], axis=3))


def g_slice(rng):
    return lambda x: tf.slice(x, [0, 1, 2, 0], [1, 4, 3, 3])


def g_strided_slice(rng):
    return lambda x: x[:, ::2, 1:5, 1:]


def g_concat(rng):
    return lambda a, b: tf.concat([a, b], axis=3)


def g_requantize(rng):
    # LOGISTIC's output has a fixed scale (1/256, zero point -128) and CONCATENATION wants one scale for its inputs
    # and output: the converter requantizes the logistic's output (QUANTIZE int8 -> int8)
    return lambda x: tf.concat([x, tf.math.sigmoid(x)], axis=3)


def g_tile(rng):
    return lambda x: tf.tile(x, [1, 2, 1, 1])


def g_max_pool(rng):
    return lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID")


def g_avg_pool(rng):
    return lambda x: tf.nn.avg_pool2d(x, 3, 1, "SAME")


def g_resize_nearest(rng):  # TF2's tf.image.resize: half_pixel_centers true
    return lambda x: tf.image.resize(x, [12, 12], method="nearest")


def g_resize_nearest_legacy(rng):  # align_corners and half_pixel_centers false (Keras 2 UpSampling2D, libsscma)
    return lambda x: tf.compat.v1.image.resize_nearest_neighbor(x, [12, 12], align_corners=False,
                                                                 half_pixel_centers=False)


def g_resize_bilinear(rng):
    return lambda x: tf.image.resize(x, [12, 12], method="bilinear")


def g_logistic(rng):
    return tf.math.sigmoid


def g_tanh(rng):
    return tf.math.tanh


def g_exp(rng):
    return tf.math.exp


def g_relu(rng):
    return tf.nn.relu


def g_relu6(rng):
    return tf.nn.relu6


def g_leaky_relu(rng):
    return lambda x: tf.nn.leaky_relu(x, alpha=0.2)


def g_hard_swish(rng):
    return lambda x: x * tf.nn.relu6(x + 3.0) / 6.0


def g_fully_connected(rng):
    w, b = const(rng, [144, 10], 0.1), const(rng, [10], 0.1)
    return lambda x: tf.matmul(tf.reshape(x, [1, 144]), w) + b


def g_fc_keep_dims(rng):
    w, b = const(rng, [4, 6], 0.5), const(rng, [6], 0.1)
    return lambda x: tf.matmul(tf.reshape(x, [1, 36, 4]), w) + b


def g_softmax(rng):
    return lambda x: tf.nn.softmax(x, axis=-1)


def g_conv(rng):
    w, b = const(rng, [3, 3, 4, 8], 0.3), const(rng, [8], 0.1)
    return lambda x: tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME") + b)


def g_depthwise(rng):
    w, b = const(rng, [3, 3, 4, 1], 0.3), const(rng, [4], 0.1)
    return lambda x: tf.nn.relu6(tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME") + b)


def g_fomo(rng):
    w1, b1 = const(rng, [3, 3, 3, 8], 0.4), const(rng, [8], 0.1)
    w2, b2 = const(rng, [3, 3, 8, 1], 0.4), const(rng, [8], 0.1)
    w3, b3 = const(rng, [1, 1, 8, 16], 0.3), const(rng, [16], 0.1)
    w4, b4 = const(rng, [3, 3, 16, 1], 0.3), const(rng, [16], 0.1)
    w5, b5 = const(rng, [1, 1, 16, 3], 0.3), const(rng, [3], 0.1)

    def f(x):
        y = tf.nn.relu6(tf.nn.conv2d(x, w1, 2, "SAME") + b1)
        y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, w2, [1, 1, 1, 1], "SAME") + b2)
        y = tf.nn.relu(tf.nn.conv2d(y, w3, 1, "SAME") + b3)
        y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, w4, [1, 2, 2, 1], "SAME") + b4)
        return tf.nn.softmax(tf.nn.conv2d(y, w5, 1, "SAME") + b5, axis=-1)
    return f


def g_yolo_head(rng):
    w1, b1 = const(rng, [3, 3, 3, 8], 0.4), const(rng, [8], 0.1)
    w2, b2 = const(rng, [3, 3, 8, 16], 0.2), const(rng, [16], 0.1)
    h1, c1 = const(rng, [1, 1, 8, 7], 0.4), const(rng, [7], 0.1)
    h2, c2 = const(rng, [1, 1, 16, 7], 0.3), const(rng, [7], 0.1)

    def f(x):
        p3 = tf.nn.relu(tf.nn.conv2d(x, w1, 2, "SAME") + b1)        # 8x8x8
        p4 = tf.nn.relu(tf.nn.conv2d(p3, w2, 2, "SAME") + b2)       # 4x4x16
        o3 = tf.reshape(tf.nn.conv2d(p3, h1, 1, "SAME") + c1, [1, 64, 7])
        o4 = tf.reshape(tf.nn.conv2d(p4, h2, 1, "SAME") + c2, [1, 16, 7])
        return tf.math.sigmoid(tf.concat([o3, o4], axis=1))
    return f


S664 = [1, 6, 6, 4]
IMG = [1, 16, 16, 3]
# name: (builder, input shapes, float range of the inputs, required builtins, variants)
INT = ("int8", "uint8")
GROUPS = {
    "mean_keepdims": (g_mean_keepdims, [S664], (-1, 1), ["MEAN"], INT),
    "mean_nokeep": (g_mean_nokeep, [S664], (-1, 1), ["MEAN"], INT),
    "mul_bcast": (g_mul_bcast, [S664, [1, 1, 1, 4]], (-1, 1), ["MUL"], INT),
    "add_bcast": (g_add_bcast, [S664, [1, 1, 6, 1]], (-1, 1), ["ADD"], INT),
    "sub_bcast": (g_sub_bcast, [S664, [1, 6, 1, 4]], (-1, 1), ["SUB"], INT),
    "const_scalar": (g_const_scalar, [S664], (-1, 1), ["MUL", "ADD", "SUB"], INT),
    "const_channel": (g_const_channel, [S664], (-1, 1), ["MUL", "ADD", "SUB"], INT),
    "transpose": (g_transpose, [S664], (-1, 1), ["TRANSPOSE"], INT),
    "reshape": (g_reshape, [S664], (-1, 1), ["RESHAPE"], INT),
    "reshape_dynbatch": (g_reshape_dynbatch, [[None, 6, 6, 4]], (-1, 1),
                         ["SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"], INT),
    "pad": (g_pad, [S664], (-1, 1), ["PAD"], INT),
    "padv2": (g_padv2, [S664], (-1, 1), ["PADV2"], INT),
    "split": (g_split, [S664], (-1, 1), ["SPLIT"], INT),
    "split_v": (g_split_v, [S664], (-1, 1), ["SPLIT_V"], INT),
    "slice": (g_slice, [S664], (-1, 1), ["SLICE"], INT),
    "strided_slice": (g_strided_slice, [S664], (-1, 1), ["STRIDED_SLICE"], INT),
    "concat": (g_concat, [S664, [1, 6, 6, 2]], (-1, 1), ["CONCATENATION"], INT),
    "requantize": (g_requantize, [S664], (-3, 3), ["CONCATENATION", "QUANTIZE(int8->int8)"], INT),
    "tile": (g_tile, [S664], (-1, 1), ["TILE"], INT),
    "max_pool": (g_max_pool, [S664], (-1, 1), ["MAX_POOL_2D"], INT),
    "avg_pool": (g_avg_pool, [S664], (-1, 1), ["AVERAGE_POOL_2D"], INT),
    "resize_nearest": (g_resize_nearest, [S664], (-1, 1), ["RESIZE_NEAREST_NEIGHBOR"], INT),
    "resize_nearest_legacy": (g_resize_nearest_legacy, [S664], (-1, 1), ["RESIZE_NEAREST_NEIGHBOR"], INT),
    "resize_bilinear": (g_resize_bilinear, [S664], (-1, 1), ["RESIZE_BILINEAR"], INT),
    "logistic": (g_logistic, [S664], (-6, 6), ["LOGISTIC"], INT),
    "tanh": (g_tanh, [S664], (-3, 3), ["TANH"], INT),
    "exp": (g_exp, [S664], (-2, 2), ["EXP"], INT),
    "relu": (g_relu, [S664], (-1, 1), ["RELU"], INT),
    "relu6": (g_relu6, [S664], (-8, 8), ["RELU6"], INT),
    "leaky_relu": (g_leaky_relu, [S664], (-1, 1), ["LEAKY_RELU"], INT),
    "hard_swish": (g_hard_swish, [S664], (-5, 5), ["HARD_SWISH"], INT),
    "fully_connected": (g_fully_connected, [S664], (-1, 1), ["FULLY_CONNECTED"], INT),
    "fc_keep_dims": (g_fc_keep_dims, [S664], (-1, 1), ["FULLY_CONNECTED(keep_num_dims)"], INT),
    "softmax": (g_softmax, [S664], (-4, 4), ["SOFTMAX"], INT),
    "conv": (g_conv, [S664], (-1, 1), ["CONV_2D"], INT),
    "depthwise": (g_depthwise, [S664], (-1, 1), ["DEPTHWISE_CONV_2D"], INT),
    "float_io": (g_avg_pool, [S664], (-1, 1), ["QUANTIZE(float32->int8)", "AVERAGE_POOL_2D", "DEQUANTIZE"],
                 ("float",)),
    "fomo": (g_fomo, [IMG], (0, 1), ["CONV_2D", "DEPTHWISE_CONV_2D", "SOFTMAX"], INT),
    "yolo_head": (g_yolo_head, [IMG], (0, 1), ["CONV_2D", "RESHAPE", "CONCATENATION", "LOGISTIC"], INT),
}


def convert(name, variant):
    builder, shapes, (lo, hi), _, _ = GROUPS[name]
    body = builder(rng_for(name, 1))
    sig = [tf.TensorSpec(s, tf.float32, name=f"input{i}" if len(shapes) > 1 else "input")
           for i, s in enumerate(shapes)]
    fn = tf.function(body, input_signature=sig)
    concrete = fn.get_concrete_function()

    def representative():
        rng = rng_for(name, 2)
        for k in range(CALIBRATION):
            sample = []
            for s in shapes:
                s = [1 if d is None else d for d in s]
                if k % 2 == 0 and len(s) == 4:
                    sample.append(smooth(rng, s, lo, hi))
                else:
                    sample.append(rng.uniform(lo, hi, s).astype(np.float32))
            yield sample

    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete], fn)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if variant != "float":
        conv.inference_input_type = tf.int8 if variant == "int8" else tf.uint8
        conv.inference_output_type = tf.int8 if variant == "int8" else tf.uint8
    return conv.convert()


def make_interpreter(content):
    """TFLite's reference kernels; BUILTIN (the optimized ones) only where the reference resolver lacks an op version
    (int8 TILE, a pure copy), which the manifest records per file."""
    try:
        interp = litert.Interpreter(model_content=content,
                                    experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
        return interp, "BUILTIN_REF"
    except (ValueError, RuntimeError) as e:
        print(f"  BUILTIN_REF refused the file ({str(e).splitlines()[0]}): using BUILTIN", flush=True)
        interp = litert.Interpreter(model_content=content,
                                    experimental_op_resolver_type=litert.OpResolverType.BUILTIN)
        interp.allocate_tensors()
        return interp, "BUILTIN"


def op_list(interp, content):
    """The builtins in execution order; QUANTIZE is written with its types (QUANTIZE(uint8->int8)),
    FULLY_CONNECTED as FULLY_CONNECTED(keep_num_dims) when its output has rank 3 or more (the option itself is not
    in the interpreter's details)."""
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    ops = []
    for op in interp._get_ops_details():
        name = op["op_name"]
        if name == "QUANTIZE":
            src = np.dtype(tensors[op["inputs"][0]]["dtype"]).name
            dst = np.dtype(tensors[op["outputs"][0]]["dtype"]).name
            name = f"QUANTIZE({src}->{dst})"
        if name == "FULLY_CONNECTED" and len(tensors[op["outputs"][0]]["shape"]) > 2:
            name = "FULLY_CONNECTED(keep_num_dims)"
        ops.append(name)
    return ops


def has_op(ops, required):
    return any(o == required or o.startswith(required + "(") for o in ops)


def sample_inputs(name, detail, lo, hi):
    """COUNT samples for one input: half uniform over the quantized range, half smooth images quantized."""
    rng = rng_for(name + detail["name"], 3)
    shape = list(detail["shape"])
    dtype = np.dtype(detail["dtype"])
    scale, zp = detail["quantization"]
    out = []
    for k in range(COUNT):
        if k < COUNT // 2:
            if dtype == np.float32:
                v = rng.uniform(lo * 1.1, hi * 1.1, shape).astype(np.float32)
            else:
                info = np.iinfo(dtype)
                v = rng.integers(info.min, info.max + 1, shape).astype(dtype)
        else:
            f = smooth(rng, shape, lo, hi) if len(shape) == 4 else rng.uniform(lo, hi, shape).astype(np.float32)
            if dtype == np.float32:
                v = f
            else:
                info = np.iinfo(dtype)
                v = np.clip(np.round(f / scale) + zp, info.min, info.max).astype(dtype)
        out.append(v)
    return out


def tensor_entry(detail, shape, data_file):
    """One input or output; `shape` is the one at batch 1 (a dynamic dimension is resolved by running)."""
    scale, zp = detail["quantization"]
    return {"name": detail["name"], "shape": [int(d) for d in shape],
            "shape_signature": [int(d) for d in detail["shape_signature"]],
            "dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zp),
            "data": data_file}


def build(name, variant, outdir):
    _, _, (lo, hi), required, _ = GROUPS[name]
    content = convert(name, variant)
    interp, resolver = make_interpreter(content)
    ops = op_list(interp, content)
    missing = [r for r in required if not has_op(ops, r)]
    if missing:
        raise SystemExit(f"{name} ({variant}): the converter's file lacks {missing}; its ops: {ops}")
    base = f"{name}_{variant}"
    fname = base + ".tflite"
    with open(os.path.join(outdir, fname), "wb") as f:
        f.write(content)
    in_details = interp.get_input_details()
    out_details = interp.get_output_details()
    samples = [sample_inputs(name, d, lo, hi) for d in in_details]
    outputs = [[] for _ in out_details]
    for k in range(COUNT):
        for d, s in zip(in_details, samples):
            interp.set_tensor(d["index"], s[k])
        interp.invoke()
        for j, d in enumerate(out_details):
            outputs[j].append(interp.get_tensor(d["index"]).copy())
    entry = {"file": fname, "group": name, "variant": variant, "ops": ops, "required": required,
             "count": COUNT, "op_resolver": resolver,
             "inputs": [], "outputs": []}
    for i, (d, s) in enumerate(zip(in_details, samples)):
        data = f"{base}.in{i}.bin"
        np.stack(s).astype(np.dtype(d["dtype"]).newbyteorder("<")).tofile(os.path.join(outdir, data))
        entry["inputs"].append(tensor_entry(d, s[0].shape, data))
    for j, (d, o) in enumerate(zip(out_details, outputs)):
        data = f"{base}.out{j}.bin"
        np.stack(o).astype(np.dtype(d["dtype"]).newbyteorder("<")).tofile(os.path.join(outdir, data))
        entry["outputs"].append(tensor_entry(d, o[0].shape, data))
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "models"))
    ap.add_argument("--only", default="", help="comma-separated groups (the manifest keeps the others' entries)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tf.random.set_seed(0)
    names = [n for n in args.only.split(",") if n] or list(GROUPS)
    for n in names:
        if n not in GROUPS:
            raise SystemExit(f"unknown group {n}; groups: {', '.join(GROUPS)}")
    manifest_path = os.path.join(args.out, "manifest.json")
    old = {}
    if args.only and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            old = {m["file"]: m for m in json.load(f)["models"]}
    entries = dict(old)
    for n in names:
        for variant in GROUPS[n][4]:
            e = build(n, variant, args.out)
            entries[e["file"]] = e
            print(f"{e['file']}: {' '.join(e['ops'])}", flush=True)
    order = [f"{n}_{v}.tflite" for n in GROUPS for v in GROUPS[n][4]]
    manifest = {"generator": "tests/tflite/generate.py",
                "tensorflow": tf.__version__,
                "ai_edge_litert": getattr(litert, "__version__", None) or _litert_version(),
                "numpy": np.__version__,
                "models": [entries[f] for f in order if f in entries]}
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def _litert_version():
    try:
        from importlib.metadata import version
        return version("ai-edge-litert")
    except Exception:  # noqa: BLE001
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
