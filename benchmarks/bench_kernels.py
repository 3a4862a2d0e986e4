"""Kernel micro-benchmarks: ckeras.ops vs numpy, at 1 and 2 threads.

    python benchmarks/bench_kernels.py [--quick] [--only gemm,xent,...] [--cpu-time]

Families: gemm (sgemm GFLOP/s, 1024^3 and 128x784x512, vs np.dot), dense
(forward + backward vs the numpy reference), xent (fused softmax-CE on
(256, 30000) vs the numpy reference), embedding (scatter-add of 32*200 ids,
dim 64, vocab 20000 vs np.add.at; gather vs fancy indexing), adam (1M
parameters vs the numpy reference). Medians of interleaved repeats; ratios
are numpy time / ckeras time. --cpu-time times the 1-thread runs in process
CPU time (robust on a busy machine); 2-thread runs always use wall time.
"""
import argparse

import numpy as np

from harness import at_threads, compare, report, thread_counts

from ckeras import ops
from ckeras.ops import reference as ref


CPU_TIME = False


def _clock(n_threads):
    return "cpu" if CPU_TIME and n_threads == 1 else "wall"


def bench_gemm(rng, repeats):
    for (m, k, n) in [(1024, 1024, 1024), (128, 784, 512)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        out = np.empty((m, n), np.float32)
        ops.matmul(a, b)                                   # load the GEMM kernels first
        for t in thread_counts():
            with at_threads(t):
                res = compare({"np.dot": lambda: np.dot(a, b, out=out),
                               "ops.matmul": lambda: ops.matmul(a, b, out=out)},
                              repeats=repeats, clock=_clock(t))
            report(f"sgemm {m}x{k}x{n}, {t} thread(s)", res, baseline="np.dot",
                   flops=2.0 * m * k * n)


def bench_dense(rng, repeats):
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = (rng.standard_normal((784, 512)) * 0.05).astype(np.float32)
    b = np.zeros(512, np.float32)
    y = ops.dense(x, w, b, "relu")
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dw, db = np.zeros_like(w), np.zeros_like(b)

    def step(mod):
        yy = mod.dense(x, w, b, "relu")
        mod.dense_backward(dy, x, yy, w, "relu", dw, db)

    for t in thread_counts():
        with at_threads(t):
            res = compare({"numpy reference": lambda: step(ref), "ops": lambda: step(ops)},
                          repeats=repeats, clock=_clock(t))
        report(f"dense relu fwd+bwd 128x784x512, {t} thread(s)", res,
               baseline="numpy reference", flops=3 * 2.0 * 128 * 784 * 512)


def bench_xent(rng, repeats):
    logits = rng.standard_normal((256, 30000)).astype(np.float32)
    labels = rng.integers(0, 30000, 256)
    for t in thread_counts():
        with at_threads(t):
            res = compare({"numpy reference": lambda: ref.softmax_cross_entropy(logits, labels),
                           "ops (fused)": lambda: ops.softmax_cross_entropy(logits, labels)},
                          repeats=repeats, clock=_clock(t))
        report(f"softmax-CE (256, 30000), {t} thread(s)", res, baseline="numpy reference")


def bench_embedding(rng, repeats):
    vocab, dim = 20000, 64
    ids = rng.integers(0, vocab, (32, 200))
    ids[:, 150:] = 0                                         # padding: a hot id 0
    dout = rng.standard_normal((32, 200, dim)).astype(np.float32)
    table = rng.standard_normal((vocab, dim)).astype(np.float32)
    dtable = np.zeros((vocab, dim), np.float32)
    flat_ids, flat_dout = ids.reshape(-1), dout.reshape(-1, dim)
    for t in thread_counts():
        with at_threads(t):
            res = compare({"np.add.at": lambda: np.add.at(dtable, flat_ids, flat_dout),
                           "ops scatter-add": lambda: ops.embedding_lookup_backward(ids, dout, dtable)},
                          repeats=repeats, clock=_clock(t))
        report(f"embedding scatter-add 32x200 ids, dim {dim}, vocab {vocab}, {t} thread(s)",
               res, baseline="np.add.at")
        with at_threads(t):
            res = compare({"table[ids]": lambda: table[ids],
                           "ops gather": lambda: ops.embedding_lookup(ids, table)},
                          repeats=repeats, clock=_clock(t))
        report(f"embedding gather 32x200 ids, dim {dim}, {t} thread(s)", res, baseline="table[ids]")


def bench_adam(rng, repeats):
    n = 1 << 20
    p = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
    for t in thread_counts():
        with at_threads(t):
            res = compare({"numpy reference": lambda: ref.adam_update(p, g, m, v, 1e-3, 0.9, 0.999, 1e-7),
                           "ops (fused)": lambda: ops.adam_update(p, g, m, v, 1e-3, 0.9, 0.999, 1e-7)},
                          repeats=repeats, clock=_clock(t))
        report(f"adam update, {n} params, {t} thread(s)", res, baseline="numpy reference")


FAMILIES = {"gemm": bench_gemm, "dense": bench_dense, "xent": bench_xent,
            "embedding": bench_embedding, "adam": bench_adam}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--only", default="", help="comma-separated families: " + ",".join(FAMILIES))
    ap.add_argument("--cpu-time", action="store_true",
                    help="time 1-thread runs in process CPU time (busy machines)")
    args = ap.parse_args()
    global CPU_TIME
    CPU_TIME = args.cpu_time
    status = ops.kernel_status()
    print("kernels:", "all built" if all(v is True for v in status.values()) else status)
    repeats = 5 if args.quick else 11
    rng = np.random.default_rng(0)
    chosen = [f for f in args.only.split(",") if f] or list(FAMILIES)
    for name in chosen:
        FAMILIES[name](rng, repeats)


if __name__ == "__main__":
    main()
