#!/usr/bin/python3
"""PyTorch peer of bench_layers.c: forward + backward of each layer of bench/mbv2_layers.py's list.

    OPENBLAS_NUM_THREADS=1 bench_layers_torch.py LAYERS.json THREADS [REPEATS]

PyTorch runs NCHW (its default for these modules); each layer gets a fresh input that requires grad and a random
upstream gradient, as in the C benchmark. Prints one JSON object per layer, then a summary line.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def main():
    layers = json.load(open(sys.argv[1]))
    threads = int(sys.argv[2])
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    total_f = total_b = 0.0
    for l in layers:
        op, x = l["op"], l["x"]
        grad = l.get("input_grad", True)
        if len(x) == 4:
            n, h, w, c = x
            xt = torch.randn(n, c, h, w, requires_grad=grad)
        else:
            xt = torch.randn(*x, requires_grad=grad)
        params = []
        if op == "conv2d":
            o, kh, kw, i = l["w"]
            weight = torch.randn(o, i, kh, kw, requires_grad=True)
            params = [weight]
            fn = lambda: F.conv2d(xt, weight, None, l["stride"], l["pad"], 1, l["groups"])
        elif op == "batch_norm":
            c = x[-1]
            g, b = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
            rm, rv = torch.zeros(c), torch.ones(c)
            fn = lambda: F.batch_norm(xt, rm, rv, g, b, True, 0.1, 1e-5)
        elif op == "relu6":
            fn = lambda: F.relu6(xt)
        elif op == "add":
            other = torch.randn_like(xt, requires_grad=True)
            fn = lambda: xt + other
        elif op == "global_avg_pool":
            fn = lambda: F.adaptive_avg_pool2d(xt, 1)
        elif op == "linear":
            weight = torch.randn(*l["w"], requires_grad=True)
            bias = torch.zeros(l["w"][0], requires_grad=True)
            fn = lambda: F.linear(xt, weight, bias)
        elif op == "cross_entropy":
            target = torch.arange(x[0]) % x[1]
            fn = lambda: F.cross_entropy(xt, target)
        else:
            raise SystemExit(f"unknown op {op}")
        y = fn()
        dy = torch.randn_like(y)
        tf, tb = [], []
        for r in range(reps + 2):
            xt.grad = None
            t0 = time.perf_counter()
            y = fn()
            t1 = time.perf_counter()
            y.backward(dy)
            t2 = time.perf_counter()
            if r >= 2:
                tf.append((t1 - t0) * 1e3)
                tb.append((t2 - t1) * 1e3)
        f, b = statistics.median(tf), statistics.median(tb)
        total_f += f
        total_b += b
        print(json.dumps({"name": l["name"], "op": op, "threads": threads, "fwd_ms": round(f, 4),
                          "bwd_ms": round(b, 4)}))
    print(json.dumps({"name": "total", "threads": threads, "fwd_ms": round(total_f, 3), "bwd_ms": round(total_b, 3),
                      "total_ms": round(total_f + total_b, 3), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
