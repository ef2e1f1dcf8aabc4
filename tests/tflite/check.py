#!/usr/bin/env python3
"""Runs the TensorFlow-made .tflite files of tests/tflite/models/ in libsscma and compares them with TFLite's
reference outputs stored beside them (generate.py made both; see its docstring for the format). The files of
manifest-*.json beside manifest.json (other generators, same format: manifest-onnx2tf.json lists the files SSCMA's
export path ONNX -> onnx2tf -> TFLiteConverter makes from libsscma's ONNX, onnx2tf/generate.py) are checked too.

Needs only python3 + numpy and the built library (SSCMA_LIBRARY, as the Python package finds it):

    python3 tests/tflite/check.py --library build/lib/libsscma.so.1        # or SSCMA_LIBRARY=...
    python3 tests/tflite/check.py --library ... --expect tests/tflite/expected.txt   # the meson test
    meson test -C build --print-errorlogs tflite-reference

Prints one line per file: `ok`, `mismatch (max N LSB, M of K values differ)`, `unsupported: <libsscma's message>`
or `error: <message>`. Each sample is run at batch 1 with the stored integers written into the input view as they
are (no float round trip), so `ok` means the same integers as TFLite's BUILTIN_REF kernels on all samples.
With --expect FILE (one file name a line, `#` comments), the exit status is 1 when a listed file is not `ok`; the
other files are reported as "not yet supported" and do not fail the run.
"""
import argparse
import ctypes
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))

NP_DTYPES = {"int8": np.int8, "uint8": np.uint8, "float32": np.float32, "int32": np.int32}
sscma = _lib = IO_COUNT = SSCMA_DTYPES = None


def load_bindings(library):
    """Imports the Python package (bindings/python) on `library` (else SSCMA_LIBRARY, else the installed one)."""
    global sscma, _lib, IO_COUNT, SSCMA_DTYPES
    if library:
        os.environ["SSCMA_LIBRARY"] = os.path.abspath(library)
    import sscma as package
    from sscma import _lib as lib
    sscma, _lib = package, lib
    IO_COUNT = lib._declare("sscma_qmodel_io_count", lib.c_status, lib.c_ptr, lib.P(lib.c_i32), lib.P(lib.c_i32))
    SSCMA_DTYPES = {lib.DTYPE_F32: "float32", lib.DTYPE_I8: "int8", lib.DTYPE_U8: "uint8", lib.DTYPE_I32: "int32"}


def read_samples(models_dir, t, count):
    dtype = np.dtype(NP_DTYPES[t["dtype"]]).newbyteorder("<")
    shape = [count] + [max(int(d), 1) for d in t["shape"]]
    data = np.fromfile(os.path.join(models_dir, t["data"]), dtype=dtype)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{t['data']}: {data.size} values, expected {int(np.prod(shape))}")
    return data.reshape(shape)


def view_dtype(tensor_ptr):
    v = ctypes.c_int()
    _lib.check(_lib.fn["sscma_tensor_dtype"](tensor_ptr, ctypes.byref(v)))
    return SSCMA_DTYPES.get(v.value, str(v.value))


def check_file(ctx, models_dir, m):
    """Returns (status, detail): status is ok, mismatch, unsupported or error."""
    path = os.path.join(models_dir, m["file"])
    count = m["count"]
    inputs = [read_samples(models_dir, t, count) for t in m["inputs"]]
    refs = [read_samples(models_dir, t, count) for t in m["outputs"]]
    try:
        q = sscma.QModel.load_tflite(ctx, path)
        n_in, n_out = ctypes.c_int32(), ctypes.c_int32()
        _lib.check(IO_COUNT(q.handle, ctypes.byref(n_in), ctypes.byref(n_out)))
        if (n_in.value, n_out.value) != (len(inputs), len(refs)):
            return "error", (f"libsscma sees {n_in.value} inputs and {n_out.value} outputs, the file has "
                             f"{len(inputs)} and {len(refs)}")
        _lib.check(_lib.fn["sscma_qmodel_prepare"](q.handle, 1))
        in_views, out_views = [], []
        for i, t in enumerate(m["inputs"]):
            ptr = ctypes.c_void_p()
            _lib.check(_lib.fn["sscma_qmodel_input"](q.handle, i, ctypes.byref(ptr)))
            if view_dtype(ptr) != t["dtype"]:
                return "unsupported", f"input {i} is {view_dtype(ptr)} in libsscma, {t['dtype']} in the file"
            view = sscma._view(ptr)
            if list(view.shape) != list(inputs[i].shape[1:]):
                return "error", f"input {i} has shape {list(view.shape)} in libsscma, {t['shape']} in the file"
            in_views.append(view)
        for j, t in enumerate(m["outputs"]):
            ptr = ctypes.c_void_p()
            _lib.check(_lib.fn["sscma_qmodel_output"](q.handle, j, ctypes.byref(ptr), None))
            if view_dtype(ptr) != t["dtype"]:
                return "unsupported", f"output {j} is {view_dtype(ptr)} in libsscma, {t['dtype']} in the file"
            view = sscma._view(ptr)
            if list(view.shape) != list(refs[j].shape[1:]):
                return "error", f"output {j} has shape {list(view.shape)} in libsscma, {t['shape']} in the file"
            out_views.append(view)
        worst, differing, total = 0.0, 0, 0
        for k in range(count):
            for view, data in zip(in_views, inputs):
                view[...] = data[k]
            _lib.check(_lib.fn["sscma_qmodel_run"](q.handle))
            for j, (view, ref) in enumerate(zip(out_views, refs)):
                got = view.astype(np.float64)
                want = ref[k].astype(np.float64)
                diff = np.abs(got - want)
                if m["outputs"][j]["dtype"] == "float32" and m["outputs"][j]["scale"] > 0:
                    diff = diff / m["outputs"][j]["scale"]
                worst = max(worst, float(diff.max()))
                differing += int(np.count_nonzero(diff))
                total += diff.size
        q.close()
    except sscma.SscmaError as e:
        message = str(e).replace(path, m["file"])  # the messages start with the path: keep them short
        if e.name == "SSCMA_ERR_UNSUPPORTED":
            return "unsupported", message
        return "error", f"{e.name}: {message}"
    if differing:
        unit = "LSB" if worst == int(worst) else "LSB (float output / scale)"
        return "mismatch", f"max {worst:g} {unit}, {differing} of {total} values differ"
    return "ok", ""


def manifest_files(models_dir):
    """manifest.json (generate.py), then the other generators' manifest-<tag>.json (same schema, e.g.
    manifest-onnx2tf.json from onnx2tf/generate.py) in name order."""
    extra = sorted(n for n in os.listdir(models_dir) if n.startswith("manifest-") and n.endswith(".json"))
    return ["manifest.json"] + extra


def main():
    ap = argparse.ArgumentParser(description="TensorFlow-made .tflite files in libsscma vs TFLite's reference kernels")
    ap.add_argument("--models", default=os.path.join(HERE, "models"))
    ap.add_argument("--expect", help="file listing the .tflite files that must pass bit-exactly")
    ap.add_argument("--only", default="", help="comma-separated file names")
    ap.add_argument("--library", help="the libsscma.so to load (default: SSCMA_LIBRARY, else the installed one)")
    args = ap.parse_args()
    load_bindings(args.library)
    manifest = {"models": []}
    for name in manifest_files(args.models):
        with open(os.path.join(args.models, name)) as f:
            manifest["models"] += json.load(f)["models"]
    expected = None
    if args.expect:
        expected = []
        with open(args.expect) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    expected.append(line)
        known = {m["file"] for m in manifest["models"]}
        unknown = [e for e in expected if e not in known]
        if unknown:
            print(f"{args.expect}: not in the manifest: {', '.join(unknown)}")
            return 1
    only = {s for s in args.only.split(",") if s}
    ctx = sscma.Context(threads=1)
    failed, passed, pending = [], 0, 0
    for m in manifest["models"]:
        if only and m["file"] not in only:
            continue
        status, detail = check_file(ctx, args.models, m)
        line = f"{m['file']}: {status}" + (f" ({detail})" if status == "mismatch" else f": {detail}" if detail else "")
        ops = " ".join(m["ops"])
        if expected is None:
            print(f"{line}    [{ops}]")
        elif m["file"] in expected:
            print(line if status == "ok" else f"FAIL {line}    [{ops}]")
            if status != "ok":
                failed.append(m["file"])
        else:
            print(f"not yet supported: {line}" if status != "ok" else f"{line} (passes: add it to {args.expect})")
        passed += status == "ok"
        pending += status != "ok"
    print(f"{passed} ok, {pending} not ok" + (f", {len(failed)} expected to pass failed: {', '.join(failed)}"
                                             if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
