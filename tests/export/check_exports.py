"""Checks libsscma's exported files in real runtimes (TAP output).

For each family written by export_fixture: the int8 TFLite file in the TFLite interpreter with its reference kernels
gives exactly libsscma's int8 outputs, with its default kernels at most 1 LSB away; the float TFLite file agrees
with libsscma's float runtime; the model libsscma reads back from the file gives its own outputs bit for bit.
"""
import json
import os
import sys

import numpy as np
from ai_edge_litert import interpreter as litert

FAMILIES = ("classifier", "fomo", "pfld")
# TFLite's optimized CONV_2D/DEPTHWISE kernels round some requantizations 1 LSB away from its reference kernels
# (which libsscma matches exactly); softmax outputs absorb that, but PFLD's 40-layer regression output accumulates
# 2-3 LSB of it, so its optimized-kernel figure is reported, not asserted (docs/export.md).
ONE_LSB = ("classifier", "fomo")
results = []
notes = []


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def load(dirname, family, what, dtype, shape, n):
    data = np.fromfile(os.path.join(dirname, f"{family}_{what}.bin"), dtype=dtype)
    return data.reshape((n,) + tuple(shape[1:]))


def run_tflite(path, inputs, kind):
    interp = litert.Interpreter(model_path=path, experimental_op_resolver_type=kind, num_threads=1)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    outs = []
    for x in inputs:
        interp.set_tensor(inp["index"], x[None, ...])
        interp.invoke()
        outs.append(interp.get_tensor(out["index"])[0].copy())
    return np.stack(outs), inp, out


def main(dirname):
    manifest = json.load(open(os.path.join(dirname, "manifest.json")))
    n = manifest["samples"]
    for fam in FAMILIES:
        m = manifest[fam]
        # int8
        i8 = m["int8"]
        x = load(dirname, fam, "int8_input", np.int8, i8["input_shape"], n)
        ours = load(dirname, fam, "int8_output", np.int8, i8["output_shape"], n)
        path = os.path.join(dirname, f"{fam}_int8.tflite")
        ref, inp, out = run_tflite(path, x, litert.OpResolverType.BUILTIN_REF)
        check(f"{fam}: int8 TFLite input is int8 with libsscma's parameters",
              inp["dtype"] == np.int8 and np.isclose(inp["quantization"][0], i8["input_quant"]["scale"])
              and inp["quantization"][1] == i8["input_quant"]["zero_point"], str(inp["quantization"]))
        check(f"{fam}: int8 TFLite output is int8 with libsscma's parameters",
              out["dtype"] == np.int8 and np.isclose(out["quantization"][0], i8["output_quant"]["scale"])
              and out["quantization"][1] == i8["output_quant"]["zero_point"], str(out["quantization"]))
        diff = np.abs(ref.astype(np.int32) - ours.astype(np.int32))
        check(f"{fam}: TFLite reference kernels give libsscma's int8 outputs exactly ({ours.size} values)",
              diff.max() == 0, f"max |diff| {diff.max()} LSB, {np.count_nonzero(diff)} values differ")
        opt, _, _ = run_tflite(path, x, litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        diff = np.abs(opt.astype(np.int32) - ours.astype(np.int32))
        detail = f"max |diff| {diff.max()} LSB, {np.count_nonzero(diff)} of {diff.size} values differ"
        if fam in ONE_LSB:
            check(f"{fam}: TFLite builtin (optimized) kernels within 1 LSB of libsscma's int8 outputs",
                  diff.max() <= 1, detail)
        else:
            notes.append(f"{fam}: TFLite builtin (optimized) kernels against libsscma: {detail}")
        xnn, _, _ = run_tflite(path, x, litert.OpResolverType.AUTO)
        diff = np.abs(xnn.astype(np.int32) - ours.astype(np.int32))
        notes.append(f"{fam}: TFLite with the XNNPACK delegate against libsscma: max |diff| {diff.max()} LSB, "
                     f"{np.count_nonzero(diff)} of {diff.size} values differ")
        back = load(dirname, fam, "tflite_int8_output", np.int8, i8["output_shape"], n)
        check(f"{fam}: libsscma's runtime on the model read back from the .tflite gives the same int8 outputs",
              np.array_equal(back, ours))
        # float
        f = m["f32"]
        x = load(dirname, fam, "f32_input", np.float32, f["input_shape"], n)
        ours = load(dirname, fam, "f32_output", np.float32, f["output_shape"], n)
        got, _, _ = run_tflite(os.path.join(dirname, f"{fam}_f32.tflite"), x, litert.OpResolverType.AUTO)
        err = np.abs(got - ours)
        tol = 1e-4 * (1.0 + np.abs(ours))
        check(f"{fam}: float TFLite within 1e-4 (relative above 1) of libsscma's float runtime",
              np.all(err <= tol), f"max |diff| {err.max():.3g}")
    print(f"1..{len(results)}")
    for line in notes:
        print(f"# {line}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if detail:
            print(f"# {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
