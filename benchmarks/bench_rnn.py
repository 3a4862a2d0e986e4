"""LSTM(128) train step over (batch 64, T 50, 64 features): ckeras vs PyTorch
eager nn.LSTM, 1 thread, medians of interleaved repeats (harness.compare).

A "train step" here is the layer alone: forward in training mode, then the
backward of sum(h_T * dy) (weight gradients and dx), as one would inside a
model. Also reports where ckeras's time goes:

  * GEMM       time inside ops.matmul (input projection, one recurrent GEMM per
               step forward and backward, the stacked dW / dx GEMMs);
  * overhead   Python + numpy call overhead: the same step at batch=1,
               features=1, units=1, where the arithmetic is negligible;
  * gate math  the rest: the vectorised elementwise numpy work per step.

    python benchmarks/bench_rnn.py [--repeats 9] [--threads 1 2]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import at_threads, compare, report  # noqa: E402

import numpy as np  # noqa: E402

B, T, D, U = 64, 50, 64, 128


def ckeras_step_fn(batch, steps, feats, units, kind="lstm"):
    from ckeras.layers.recurrent import GRU, LSTM
    rng = np.random.default_rng(0)
    layer = (LSTM if kind == "lstm" else GRU)(units)
    x = rng.standard_normal((batch, steps, feats)).astype(np.float32)
    layer(x)
    dy = rng.standard_normal((batch, units)).astype(np.float32)

    def step():
        for w in layer.weights:
            w.zero_grad()
        y, back = layer.forward(x, training=True)
        back(dy, need_dx=True)
    return step


def torch_step_fn():
    import torch
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, U, batch_first=True)
    x = torch.randn(B, T, D, requires_grad=True)
    dy = torch.randn(B, U)

    def step():
        lstm.zero_grad(set_to_none=False)
        x.grad = None
        _, (h, _) = lstm(x)
        (h[0] * dy).sum().backward()
    return step


def gemm_share(step, calls=9):
    """(median seconds inside ops.matmul, median step seconds) over ``calls``
    instrumented steps (ops.matmul patched with a timer)."""
    import statistics
    from ckeras import ops
    real = ops.matmul
    spent = [0.0]

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        out = real(*args, **kwargs)
        spent[0] += time.perf_counter() - t0
        return out
    ops.matmul = timed
    gemms, totals = [], []
    try:
        step()
        for _ in range(calls):
            spent[0] = 0.0
            t0 = time.perf_counter()
            step()
            totals.append(time.perf_counter() - t0)
            gemms.append(spent[0])
    finally:
        ops.matmul = real
    return statistics.median(gemms), statistics.median(totals)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="thread counts to report (default: 1)")
    args = parser.parse_args()
    for n in args.threads:
        run(n, args.repeats)


def run(threads, repeats):
    fns = {"ckeras": ckeras_step_fn(B, T, D, U)}
    try:
        import torch
        torch.set_num_threads(threads)
        fns["torch eager"] = torch_step_fn()
    except ImportError as e:  # pragma: no cover - optional peer
        print(f"torch not available ({e}); timing ckeras only")

    title = (f"LSTM({U}) train step, x ({B}, {T}, {D}), {threads} thread(s)")
    with at_threads(threads):
        res = compare(fns, repeats=repeats)
        report(title, res, baseline="torch eager" if "torch eager" in fns else None)

        gemm, total = gemm_share(fns["ckeras"])
        tiny = ckeras_step_fn(1, T, 1, 1)
        over = compare({"tiny": tiny}, repeats=repeats)["tiny"]["median"]
        med = total               # split of the instrumented steps themselves
        gates = max(med - gemm - over, 0.0)
        print(f"\nckeras time split (median of instrumented steps, {med * 1e3:.2f} ms):")
        for name, t in (("GEMM (ops.matmul)", gemm), ("Python/numpy call overhead", over),
                        ("gate math (elementwise)", gates)):
            print(f"  {name:<28} {t * 1e3:7.2f} ms  {100 * t / med:5.1f}%")
        print("  (overhead = the same step at batch=1, features=1, units=1)")

        gru = compare({"ckeras GRU": ckeras_step_fn(B, T, D, U, "gru")},
                      repeats=repeats)
        report(f"GRU({U}) train step, same input (ckeras only)", gru)


if __name__ == "__main__":
    main()
