#!/usr/bin/python3
"""Compares two builds of libsscma on the training-step and latency benchmarks, run alternately in one session so
that both see the same machine: what "no figure gets worse" is checked with (issue 17: within 3%).

    bench/compare_builds.py BEFORE_BUILD AFTER_BUILD [--rounds N] [--markdown FILE]

Each build needs bench/bench_train and bench/bench_quant (ninja -C BUILD bench/bench_train bench/bench_quant). Each
round runs, for each build in turn: bench_train classifier and fomo at 1 and 2 threads (images/s), and bench_quant
latency at 1 and 2 threads (deployable float, model forward and int8 ms). Prints one JSON object per figure with the
median of each build over the rounds and after/before (> 1: the after build is faster for img/s; for ms, < 1 is
faster). OPENBLAS_NUM_THREADS=1, as bench/run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def json_last(cmd, env):
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()][-1]


def one_round(build, work, env, figures):
    for model in ("classifier", "fomo"):
        for threads in ("1", "2"):
            r = json_last([os.path.join(build, "bench", "bench_train"), model, "--threads", threads, "--repeats", "3"],
                          env)
            figures.setdefault(f"train_{model}_{threads}t img/s", []).append(r["images_per_s"])
    for threads in ("1", "2"):
        r = json_last([os.path.join(build, "bench", "bench_quant"), "latency", work, "--threads", threads,
                       "--repeats", "300"], env)
        for key in ("deployable_f32_ms", "model_forward_ms", "int8_ms"):
            figures.setdefault(f"latency_{key[:-3]}_{threads}t ms", []).append(r[key])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown")
    a = ap.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    results = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory() as wb, tempfile.TemporaryDirectory() as wa:
        for _ in range(a.rounds):
            one_round(a.before, wb, env, results["before"])
            one_round(a.after, wa, env, results["after"])
    rows = []
    for name in results["before"]:
        b = statistics.median(results["before"][name])
        f = statistics.median(results["after"][name])
        row = {"name": name, "before": round(b, 4), "after": round(f, 4), "after/before": round(f / b, 3),
               "runs": len(results["before"][name])}
        rows.append(row)
        print(json.dumps(row))
    if a.markdown:
        with open(a.markdown, "w") as out:
            out.write("| figure | before | after | after / before |\n|---|---|---|---|\n")
            for r in rows:
                out.write(f"| {r['name']} | {r['before']} | {r['after']} | {r['after/before']} |\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
