"""Golden values of the anomaly module (tests/unit/test_anomaly.c): LODA and the anomaly evaluation.

An independent numpy reference of the semantics documented in docs/models.md ("LODA") and docs/training.md
("Anomaly evaluation"), not a transcription of lib/anomaly/: LODA with fixed projections (fed to the C code through
its test entry point) over numpy's float64 matmul and histogram rules; the ROC-AUC as the Mann-Whitney U statistic
from average ranks (the C code integrates the ROC curve by tie groups); quantiles by numpy.quantile (linear).

    /usr/bin/python3 tests/golden/gen_anomaly.py   # writes tests/golden/anomaly.bin
"""
import os

import numpy as np

from golden_io import write_golden

HERE = os.path.dirname(os.path.abspath(__file__))


def loda_fit(P, X, bins, yield_rate):
    """limits [cuts, bins+1] f32, histograms [cuts, bins] f32, threshold f32"""
    V = (X.astype(np.float64) @ P.astype(np.float64).T).astype(np.float32)  # [n, cuts]
    cuts = P.shape[0]
    limits = np.zeros((cuts, bins + 1), np.float32)
    hist = np.zeros((cuts, bins), np.float32)
    for i in range(cuts):
        first, last = float(V[:, i].min()), float(V[:, i].max())
        if first == last:  # numpy.histogram's widening of an empty range
            first, last = first - 0.5, last + 0.5
        e = (first + (last - first) * np.arange(bins + 1) / bins).astype(np.float32)
        e[0], e[-1] = first, last
        limits[i] = e
        counts = np.bincount(bin_index(V[:, i], e, bins), minlength=bins).astype(np.float64)
        hist[i] = ((counts + 1e-12) / np.sum(counts + 1e-12)).astype(np.float32)
    scores = loda_score(P, limits, hist, X)
    threshold = np.float32(np.quantile(1.06 * scores, yield_rate))  # SSCMA's form: quantile of 1.06 x scores
    return limits, hist, scores, threshold


def bin_index(v, e, bins):
    width = (np.float64(e[-1]) - np.float64(e[0])) / bins
    return np.clip(np.floor((v.astype(np.float64) - np.float64(e[0])) / width), 0, bins - 1).astype(np.int64)


def loda_score(P, limits, hist, X):
    V = (X.astype(np.float64) @ P.astype(np.float64).T).astype(np.float32)
    bins = hist.shape[1]
    nll = np.zeros(V.shape, np.float64)
    for i in range(P.shape[0]):
        nll[:, i] = -np.log(hist[i][bin_index(V[:, i], limits[i], bins)].astype(np.float64))
    return nll.mean(axis=1)


def average_ranks(x):
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), np.float64)
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def auc_mann_whitney(scores, abnormal):
    P, N = abnormal.sum(), (~abnormal).sum()
    U = average_ranks(scores)[abnormal].sum() - P * (P + 1) / 2.0
    return U / (P * N)


def at_fpr(scores, abnormal, fpr):
    thr = np.quantile(scores[~abnormal], 1.0 - fpr)
    return thr, np.mean(scores[abnormal] > thr), np.mean(scores[~abnormal] > thr)


def main():
    rng = np.random.default_rng(2112)
    n, d, cuts, bins, yield_rate = 60, 12, 7, 5, 0.9
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:, 11] = 0.25  # a constant feature: projection 0 sees one value (numpy's widened range)
    k = int(np.sqrt(d))
    P = np.zeros((cuts, d), np.float32)
    for i in range(1, cuts):
        P[i, rng.permutation(d)[:k]] = rng.normal(size=k)
    P[0, 11] = 1.5
    limits, hist, train_scores, threshold = loda_fit(P, X, bins, yield_rate)
    T = np.concatenate([rng.normal(size=(10, d)), 4.0 * rng.normal(size=(6, d))]).astype(np.float32)
    test_scores = loda_score(P, limits, hist, T)  # values far out of range clamp to the end bins

    q_values = rng.normal(size=17)
    qs = np.array([0.0, 0.05, 0.5, 0.9, 0.95, 1.0])

    # scores with ties across the classes (rounded), abnormal ones higher on average
    m = 200
    abnormal = rng.random(m) < 0.3
    s = np.round(rng.normal(size=m) + 1.2 * abnormal, 1)
    fprs = np.array([0.0, 0.05, 0.1, 0.5, 1.0])
    roc = [[auc_mann_whitney(s, abnormal), *at_fpr(s, abnormal, f)] for f in fprs]

    write_golden(os.path.join(HERE, "anomaly.bin"), [
        ("loda.projections", P), ("loda.x", X), ("loda.limits", limits), ("loda.histograms", hist),
        ("loda.train_scores", train_scores), ("loda.threshold", np.array([threshold])),
        ("loda.test_x", T), ("loda.test_scores", test_scores),
        ("loda.shape", 4, np.array([n, d, cuts, bins])),
        ("quantile.values", q_values), ("quantile.q", qs),
        ("quantile.out", np.array([np.quantile(q_values.astype(np.float32).astype(np.float64), q) for q in qs])),
        ("roc.scores", s), ("roc.abnormal", 4, abnormal.astype(np.int32)), ("roc.fpr", fprs),
        ("roc.out", np.array(roc)),  # per fpr: auc, threshold, tpr, fpr
    ])


if __name__ == "__main__":
    main()
