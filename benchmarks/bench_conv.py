"""Small-CNN train step: ckeras vs PyTorch eager, plus where ckeras's time goes.

Model (both frameworks): 28x28x1 -> Conv2D(32, 3, relu) -> MaxPool(2)
    -> Conv2D(64, 3, relu) -> MaxPool(2) -> Flatten -> Dense(10);
    batch 64, SGD(0.01), sparse categorical cross-entropy (fused softmax).

Reports medians of interleaved repeats (benchmarks/harness.py) of one train
step and one inference forward, then a breakdown of a ckeras train step:
im2col, col2im, the conv GEMMs (ops.dense / ops.dense_backward: GEMM plus the
fused bias+activation), and everything else (pooling, Dense, loss, optimizer).

    python benchmarks/bench_conv.py                 # 1 thread (the default)
    python benchmarks/bench_conv.py --threads 1 2 --repeats 15
"""
import argparse
import collections
import os
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import at_threads, compare, report  # noqa: E402

import numpy as np  # noqa: E402

import ckeras as keras  # noqa: E402
from ckeras import ops  # noqa: E402
from ckeras.layers import convolutional as conv  # noqa: E402
from ckeras.layers.pooling import MaxPooling2D  # noqa: E402

BATCH, CLASSES = 64, 10


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((BATCH, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    return x, y


def ckeras_model():
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        conv.Conv2D(32, 3, activation="relu"), MaxPooling2D(),
        conv.Conv2D(64, 3, activation="relu"), MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss="sparse_categorical_crossentropy")
    return model


def torch_model(torch):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, CLASSES))
    return model, torch.optim.SGD(model.parameters(), lr=0.01)


def candidates(x, y):
    model = ckeras_model()
    fns = {
        "ckeras train": lambda: model.train_on_batch(x, y),
        "ckeras forward": lambda: model.predict_on_batch(x),
    }
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is optional
        print(f"PyTorch unavailable ({exc}); timing ckeras only")
        return fns, model
    torch.set_num_threads(1)
    tmodel, opt = torch_model(torch)
    tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))   # NCHW
    ty = torch.from_numpy(y.astype(np.int64))
    loss_fn = torch.nn.functional.cross_entropy

    def torch_train():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(tmodel(tx), ty)
        loss.backward()
        opt.step()

    def torch_forward():
        with torch.no_grad():
            tmodel(tx)

    fns.update({"torch train": torch_train, "torch forward": torch_forward})
    return fns, model


def breakdown(model, x, y, steps=30):
    """Seconds per train step in im2col, col2im, conv GEMMs and the rest."""
    spent = collections.Counter()

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t0
        return wrapper

    saved = (conv.im2col, conv.col2im, conv.ops)
    conv.im2col = timed("im2col", conv.im2col)
    conv.col2im = timed("col2im", conv.col2im)
    # Only the conv layers' calls: Dense keeps the real ckeras.ops.
    conv.ops = types.SimpleNamespace(
        dense=timed("conv GEMM fwd (+bias/relu)", ops.dense),
        dense_backward=timed("conv GEMM bwd (dW, dpatches, relu', db)", ops.dense_backward))
    try:
        model.train_on_batch(x, y)
        spent.clear()
        t0 = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        total = (time.perf_counter() - t0) / steps
    finally:
        conv.im2col, conv.col2im, conv.ops = saved
    return total, {k: v / steps for k, v in spent.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--repeats", type=int, default=11)
    args = ap.parse_args()
    x, y = make_data()
    print(f"CNN train step, batch {BATCH}, 28x28x1 -> Conv(32,3) -> Pool -> Conv(64,3) "
          f"-> Pool -> Dense(10); kernels: "
          f"{'built' if all(v is True for v in ops.kernel_status().values()) else 'reference'}")
    for n in args.threads:
        with at_threads(n):
            fns, model = candidates(x, y)
            try:
                import torch
                torch.set_num_threads(n)
            except ImportError:  # pragma: no cover
                pass
            res = compare(fns, repeats=args.repeats, min_sample=0.05)
            train = {k: v for k, v in res.items() if "train" in k}
            fwd = {k: v for k, v in res.items() if "forward" in k}
            report(f"train step ({n} thread{'s' * (n > 1)}), per step", train,
                   baseline="torch train" if "torch train" in train else None)
            report(f"inference forward ({n} thread{'s' * (n > 1)}), per batch", fwd,
                   baseline="torch forward" if "torch forward" in fwd else None)
            total, parts = breakdown(model, x, y)
            print(f"\nckeras train-step breakdown ({n} thread{'s' * (n > 1)}, "
                  f"{total * 1e3:.2f} ms/step, instrumented):")
            for name, s in sorted(parts.items(), key=lambda kv: -kv[1]):
                print(f"  {name:<42} {s * 1e3:7.2f} ms  {100 * s / total:5.1f}%")
            rest = total - sum(parts.values())
            print(f"  {'other (pool, Dense, loss, optimizer, glue)':<42} {rest * 1e3:7.2f} ms  "
                  f"{100 * rest / total:5.1f}%")


if __name__ == "__main__":
    main()
