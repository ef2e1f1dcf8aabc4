"""onnxruntime peer of bench_quant latency: median batch-1 latency of model_f32.onnx and model_int8.onnx (QDQ).

    python bench_quant_ort.py DIR [--threads N] [--repeats N]

Prints {"name": "latency onnxruntime", "threads", "f32_ms", "int8_ms", "version"}.
"""
import argparse
import json
import os
import time

import numpy as np
import onnxruntime as ort


def median_ms(path, threads, repeats):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    dtype = np.int8 if "int8" in inp.type else np.float32
    x = (np.random.default_rng(0).standard_normal(inp.shape) * 20).astype(dtype)
    feed = {inp.name: x}
    for _ in range(20):
        sess.run(None, feed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=300)
    a = ap.parse_args()
    f32 = median_ms(os.path.join(a.dir, "model_f32.onnx"), a.threads, a.repeats)
    i8 = median_ms(os.path.join(a.dir, "model_int8.onnx"), a.threads, a.repeats)
    print(json.dumps({"name": "latency onnxruntime", "threads": a.threads, "f32_ms": round(f32, 4),
                      "int8_ms": round(i8, 4), "version": ort.__version__}))


if __name__ == "__main__":
    main()
