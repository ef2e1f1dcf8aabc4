"""ai-edge-litert peer of `bench_quant tflite`: batch-1 latency of .tflite files in TFLite's default interpreter
(the XNNPACK delegate applied, as `Interpreter(model_path, num_threads=N)` does), inputs filled with the same
pattern as bench_quant's.

    python bench_tflite_litert.py [--threads N] [--repeats N] FILE...

Prints one line per file: {"file", "threads", "ms", "version"} (median of the repeats after 20 warm-up runs).
"""
import argparse
import json
import time

import numpy as np
from ai_edge_litert import interpreter as litert


def pattern(shape, dtype):
    n = int(np.prod(shape))
    b = (np.arange(n, dtype=np.int64) * 37 % 61)
    if dtype == np.float32:
        return (b.astype(np.float32) / 30.0 - 1.0).reshape(shape)
    return b.astype(dtype).reshape(shape)  # 0..60: the same bytes as bench_quant's for int8 and uint8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    version = getattr(litert, "__version__", None)
    if version is None:
        import importlib.metadata
        version = importlib.metadata.version("ai-edge-litert")
    for path in a.files:
        it = litert.Interpreter(model_path=path, num_threads=a.threads)
        for d in it.get_input_details():
            if any(x < 1 for x in d["shape_signature"]):
                it.resize_tensor_input(d["index"], [max(int(x), 1) for x in d["shape_signature"]])
        it.allocate_tensors()
        for d in it.get_input_details():
            it.set_tensor(d["index"], pattern(d["shape"], d["dtype"]))
        for _ in range(20):
            it.invoke()
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            it.invoke()
            times.append(time.perf_counter() - t0)
        print(json.dumps({"file": path, "threads": a.threads, "ms": round(1e3 * float(np.median(times)), 5),
                          "version": version}), flush=True)


if __name__ == "__main__":
    main()
