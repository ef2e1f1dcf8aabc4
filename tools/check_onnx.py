"""Checks ONNX files written by libsscma in onnxruntime against the TFLite files of the same model run by libsscma.

    check_onnx.py MODEL.onnx MODEL.tflite IMAGE...

Each image is read with the model's channel count, resized bilinearly to its input size and normalised with its
mean/std metadata; the same input is run by libsscma on the TFLite file (through the `sscma` Python package) and by
onnxruntime on the ONNX file (NCHW), and the outputs are compared. A float model must agree within 1e-4 absolute. An int8 (QDQ)
model is compared by its decisions: the arg-max over the last axis must agree on at least 99% of the positions, and
the largest difference is reported in quantization steps (LSB) — onnxruntime computes a QDQ softmax in float from
the dequantized logits while TFLite's int8 softmax is fixed-point, and one logit step becomes several output steps
when the logits' scale is coarse (docs/export.md). Prints one JSON object; exits 1 when a check fails.
Needs the `sscma` package (SSCMA_LIBRARY naming libsscma.so.1 when it is not installed), numpy, onnx, onnxruntime.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

import sscma


def _const(model, name):
    for init in model.graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    raise ValueError(f"{name} is not an initializer")


def _qparams(model, tensor, consumer):
    """(scale, zero point) of the DequantizeLinear reading `tensor` (consumer) or of the QuantizeLinear writing it,
    looking through the layout ops (Identity, Transpose, Reshape) between it and the graph output."""
    producer = {o: node for node in model.graph.node for o in node.output}
    for node in model.graph.node:
        if consumer and node.op_type == "DequantizeLinear" and node.input[0] == tensor:
            return float(_const(model, node.input[1])), int(_const(model, node.input[2]))
    node = producer.get(tensor)
    while not consumer and node is not None:
        if node.op_type == "QuantizeLinear":
            return float(_const(model, node.input[1])), int(_const(model, node.input[2]))
        if node.op_type not in ("Identity", "Transpose", "Reshape"):
            break
        node = producer.get(node.input[0])
    raise ValueError(f"no quantization parameters for {tensor}")


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    onnx_path, tflite_path, images = argv[1], argv[2], argv[3:]
    ctx = sscma.Context(threads=1)
    q = sscma.QModel.load_tflite(ctx, tflite_path)
    model = onnx.load(onnx_path)
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    inp, out = sess.get_inputs()[0], sess.get_outputs()[0]
    n, c, h, w = inp.shape
    int8 = inp.type == "tensor(int8)"
    mean = np.array(json.loads(q.meta("mean")), dtype=np.float32)
    std = np.array(json.loads(q.meta("std")), dtype=np.float32)
    worst, values, agree, positions, lsb = 0.0, 0, 0, 0, None
    for path in images:
        img = sscma.read_image(ctx, path, c).astype(np.float32)
        # the device's bilinear resize (half-pixel centres), done here with numpy for the comparison
        ys = np.clip((np.arange(h) + 0.5) * img.shape[0] / h - 0.5, 0, img.shape[0] - 1)
        xs = np.clip((np.arange(w) + 0.5) * img.shape[1] / w - 0.5, 0, img.shape[1] - 1)
        y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
        y1, x1 = np.minimum(y0 + 1, img.shape[0] - 1), np.minimum(x0 + 1, img.shape[1] - 1)
        fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
        top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
        bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
        x = ((top * (1 - fy) + bottom * fy) - mean) / std
        ref = q.run(x[None].astype(np.float32))
        if int8:
            s_in, z_in = _qparams(model, inp.name, True)
            xi = np.clip(np.round(x / s_in) + z_in, -128, 127).astype(np.int8)
            got = sess.run(None, {inp.name: xi.transpose(2, 0, 1)[None]})[0]
            s_out, z_out = _qparams(model, out.name, False)
            got = (got.astype(np.float32) - z_out) * s_out
            lsb = s_out
        else:
            got = sess.run(None, {inp.name: x.transpose(2, 0, 1)[None].astype(np.float32)})[0]
        got = got.reshape(ref.shape)
        worst = max(worst, float(np.max(np.abs(got - ref))))
        values += ref.size
        agree += int(np.sum(np.argmax(got, axis=-1) == np.argmax(ref, axis=-1)))
        positions += ref.size // ref.shape[-1]
    agreement = agree / max(positions, 1)
    ok = agreement >= 0.99 if int8 else worst <= 1e-4
    report = {"onnx": onnx_path, "int8": int8, "images": len(images), "values": values, "max_abs_diff": worst,
              "argmax_agreement": agreement, "ok": ok}
    if int8:
        report["max_diff_lsb"] = round(worst / lsb)
    print(json.dumps(report))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
