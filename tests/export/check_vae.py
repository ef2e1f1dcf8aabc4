"""Checks the anomaly VAE's exported files (tests/unit/test_vae.c --write DIR N) in real runtimes (TAP output).

The int8 TFLite file in TFLite's reference kernels (BUILTIN_REF) gives exactly libsscma's int8 reconstructions
(STRIDED_SLICE, CONCATENATION, RESHAPE, TRANSPOSE, CONV_2D, FULLY_CONNECTED, ADD); Vela compiles it with every
operator on the NPU; the float TFLite file and
the float ONNX file agree with libsscma's float runtime (1e-4 of the output's range); the default TFLite kernels and
the int8 ONNX (QDQ) file in onnxruntime are reported (it requantizes with float multipliers: not bit-exact by design, docs/export.md).
"""
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from ai_edge_litert import interpreter as litert

S, C = 32, 3
results = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def load_io(dirname, form, n, dtype):
    raw = np.fromfile(os.path.join(dirname, f"vae_{form}_io.bin"), dtype=dtype)
    per = S * S * 2 * C + 2 * S * S * C
    raw = raw.reshape(n, per)
    x = raw[:, :S * S * 2 * C].reshape(n, 1, S, S, 2 * C)
    xr = raw[:, S * S * 2 * C:S * S * 3 * C].reshape(n, 1, S, S, C)
    cr = raw[:, S * S * 3 * C:].reshape(n, 1, S, S, C)
    return x, xr, cr


def run_tflite(path, xs, resolver):
    it = litert.Interpreter(model_path=path, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    outs = sorted(it.get_output_details(), key=lambda d: d["name"] != "x_recon")
    got = [[], []]
    for x in xs:
        it.set_tensor(inp["index"], x)
        it.invoke()
        for k in range(2):
            got[k].append(it.get_tensor(outs[k]["index"]).copy())
    return [np.stack(g) for g in got], [o["name"] for o in outs]


def vela(path):
    """Arm's Vela for ethos-u55-64 places every operator on the NPU (SSCMA's rearrangements are slices and
    concatenations in the file: Vela keeps SPACE_TO_DEPTH / DEPTH_TO_SPACE on the CPU)."""
    name = "vae: Vela (ethos-u55-64) places every operator of the int8 file on the NPU"
    if importlib.util.find_spec("ethosu") is None:
        results.append((name, True, "SKIP ethos-u-vela is not installed"))
        return
    with tempfile.TemporaryDirectory() as tmp:
        ran = subprocess.run([sys.executable, "-c", "import sys; from ethosu.vela.vela import main; sys.exit(main())",
                              "--accelerator-config", "ethos-u55-64", "--output-dir", tmp, path],
                             capture_output=True, text=True)
    out = ran.stdout + ran.stderr
    cpu, npu = re.search(r"CPU operators = (\d+)", out), re.search(r"NPU operators = (\d+)", out)
    check(name, ran.returncode == 0 and cpu is not None and npu is not None and int(cpu.group(1)) == 0,
          f"CPU operators {cpu.group(1)}, NPU operators {npu.group(1)}" if cpu and npu else out.strip()[-300:])


def main(dirname):
    with open(os.path.join(dirname, "vae_manifest.json")) as f:
        man = json.load(f)
    n = man["samples"]
    x8, xr8, cr8 = load_io(dirname, "int8", n, np.int8)
    (rx, rc), names = run_tflite(os.path.join(dirname, "vae_int8.tflite"), x8, litert.OpResolverType.BUILTIN_REF)
    check("vae: int8 TFLite outputs are x_recon, c_recon", names == ["x_recon", "c_recon"], str(names))
    dx = int(np.abs(rx.astype(np.int32) - xr8).max())
    dc = int(np.abs(rc.astype(np.int32) - cr8).max())
    check("vae: int8 TFLite (reference kernels) gives libsscma's reconstructions exactly", dx == 0 and dc == 0,
          f"max |diff| x_recon {dx} LSB, c_recon {dc} LSB over {n} samples")
    (ox, oc), _ = run_tflite(os.path.join(dirname, "vae_int8.tflite"), x8, litert.OpResolverType.BUILTIN)
    d_opt = max(int(np.abs(ox.astype(np.int32) - xr8).max()), int(np.abs(oc.astype(np.int32) - cr8).max()))
    # TFLite's optimized kernels round some requantizations differently (check_exports.py): reported, not asserted
    check("vae: int8 TFLite (default kernels) runs", True, f"max |diff| {d_opt} LSB (reported)")
    xf, xrf, crf = load_io(dirname, "f32", n, np.float32)
    (fx, fc), _ = run_tflite(os.path.join(dirname, "vae_f32.tflite"), xf, litert.OpResolverType.BUILTIN_REF)
    span = max(float(np.ptp(xrf)), float(np.ptp(crf)), 1e-6)
    err = max(float(np.abs(fx - xrf).max()), float(np.abs(fc - crf).max())) / span
    check("vae: float TFLite agrees with libsscma's float runtime", err <= 1e-4, f"max |diff| {err:.2e} of the range")
    sess = ort.InferenceSession(os.path.join(dirname, "vae_f32.onnx"), providers=["CPUExecutionProvider"])
    feed = sess.get_inputs()[0].name
    onames = [o.name for o in sess.get_outputs()]
    worst = 0.0
    for i in range(n):
        outs = dict(zip(onames, sess.run(None, {feed: xf[i].transpose(0, 3, 1, 2)})))
        worst = max(worst, float(np.abs(outs["x_recon"] - xrf[i]).max()), float(np.abs(outs["c_recon"] - crf[i]).max()))
    check("vae: float ONNX agrees with libsscma's float runtime", worst / span <= 1e-4,
          f"max |diff| {worst / span:.2e} of the range")
    sess = ort.InferenceSession(os.path.join(dirname, "vae_int8.onnx"), providers=["CPUExecutionProvider"])
    feed = sess.get_inputs()[0]
    q_worst = 0
    for i in range(n):
        xin = (xf[i] if feed.type == "tensor(float)" else x8[i]).transpose(0, 3, 1, 2)
        outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {feed.name: xin})))
        for name, ref, k in (("x_recon", xr8[i], 0), ("c_recon", cr8[i], 1)):
            got = outs[name]
            if got.dtype != np.int8:
                scale, zp = man[f"output{k}_scale"], man[f"output{k}_zero_point"]
                got = np.clip(np.round(got / scale) + zp, -128, 127)
            q_worst = max(q_worst, int(np.abs(got.astype(np.int32) - ref).max()))
    check("vae: int8 ONNX (QDQ) in onnxruntime runs", True, f"max |diff| {q_worst} LSB (reported)")
    vela(os.path.join(dirname, "vae_int8.tflite"))
    print(f"1..{len(results)}")
    failed = 0
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}" + (f" # {detail}" if detail else ""))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
