"""Convolutional-network throughput: ckeras vs PyTorch eager vs Keras 3 (JAX).

W5:     28x28x1 -> Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu)
        -> MaxPooling2D(2) -> Flatten -> Dense(10, softmax); Adam, batch 128,
        sparse categorical cross-entropy.
W5-sep: W5 with the second convolution depthwise-separable
        (SeparableConv2D(64, 3, relu)).
W6:     text CNN: Embedding(20000, 128) on length-200 ids -> Conv1D(128, 5, relu)
        -> GlobalMaxPooling1D -> Dense(1, sigmoid); Adam, batch 64.

Train samples/s (one fit() epoch per timing) and predict samples/s for each
framework, each in its own child process pinned to as many CPUs as threads
(benchmarks/harness.py), children interleaved over rounds; medians over
rounds of each child's median. The ckeras child also measures sgemm GFLOP/s
in the same process, and the report gives every framework's achieved
GFLOP/s (analytic FLOPs of the model) against it.

    python benchmarks/bench_conv.py                      # 1 and 2 threads
    python benchmarks/bench_conv.py --threads 1 --rounds 1 --repeats 1 --steps 2 --only W5

Peers are optional: a missing torch or keras is reported and skipped.
"""
import argparse
import json
import os
import sys
import time

from harness import interleaved_children

WORKLOADS = {
    "W5": dict(kind="image", sep=False, batch=128, steps=16,
               title="28x28x1 -> Conv2D 32 3 -> Pool 2 -> Conv2D 64 3 -> Pool 2 -> Dense 10"),
    "W5-sep": dict(kind="image", sep=True, batch=128, steps=16,
                   title="W5 with SeparableConv2D 64 3 as the second convolution"),
    "W6": dict(kind="text", vocab=20000, dim=128, length=200, filters=128, width=5,
               batch=64, steps=12,
               title="Embedding 20000x128 x 200 -> Conv1D 128 5 -> GlobalMaxPool -> Dense 1"),
}
FRAMEWORKS = {"ckeras": "setup_ckeras", "pytorch": "setup_torch", "keras-jax": "setup_keras"}


def flops_per_sample(w):
    """Multiply-adds x 2 of one forward pass (convolutions and Dense)."""
    if w["kind"] == "text":
        steps = w["length"] - w["width"] + 1
        return 2 * (steps * w["width"] * w["dim"] * w["filters"] + w["filters"])
    conv1 = 26 * 26 * 9 * 1 * 32
    conv2 = 11 * 11 * (9 * 32 + 32 * 64) if w["sep"] else 11 * 11 * 9 * 32 * 64
    return 2 * (conv1 + conv2 + 5 * 5 * 64 * 10)


def train_flops_per_sample(w):
    """Forward + backward: about 3x the forward (dW and dx GEMMs)."""
    return 3 * flops_per_sample(w)


def data(w, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    n = w["batch"] * w["steps"]
    if w["kind"] == "text":
        x = rng.integers(1, w["vocab"], (n, w["length"]), dtype=np.int64)
        y = rng.integers(0, 2, n).astype(np.int64)
    else:
        x = rng.random((n, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


# ---- one framework each: returns (train_epoch, predict) ---------------------------

def _keras_like(keras, w):
    L = keras.layers
    if w["kind"] == "text":
        model = keras.Sequential([
            keras.Input((w["length"],), dtype="int32"), L.Embedding(w["vocab"], w["dim"]),
            L.Conv1D(w["filters"], w["width"], activation="relu"), L.GlobalMaxPooling1D(),
            L.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    else:
        second = (L.SeparableConv2D(64, 3, activation="relu") if w["sep"]
                  else L.Conv2D(64, 3, activation="relu"))
        model = keras.Sequential([
            keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
            second, L.MaxPooling2D(2), L.Flatten(), L.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer="adam", loss=loss)
    return model


def _fit_predict(model, w, x, y):
    bs = w["batch"]
    return (lambda: model.fit(x, y, batch_size=bs, epochs=1, verbose=0, shuffle=True),
            lambda: model.predict(x, batch_size=bs, verbose=0))


def setup_ckeras(w, x, y):
    import ckeras as keras
    return _fit_predict(_keras_like(keras, w), w, x, y)


def setup_keras(w, x, y):
    import keras
    return _fit_predict(_keras_like(keras, w), w, x, y)


def setup_torch(w, x, y):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    nn = torch.nn
    if w["kind"] == "text":
        class Text(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(w["vocab"], w["dim"])
                self.conv = nn.Conv1d(w["dim"], w["filters"], w["width"])
                self.out = nn.Linear(w["filters"], 1)

            def forward(self, ids):
                h = torch.relu(self.conv(self.emb(ids).transpose(1, 2)))
                return self.out(h.amax(dim=2))
        model = Text()
        loss_fn = nn.BCEWithLogitsLoss()
        tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype("float32"))[:, None]
    else:
        second = ([nn.Conv2d(32, 32, 3, groups=32), nn.Conv2d(32, 64, 1)] if w["sep"]
                  else [nn.Conv2d(32, 64, 3)])
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), *second,
                              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
        loss_fn = nn.CrossEntropyLoss()
        tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())      # NCHW
        ty = torch.from_numpy(y)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    bs = w["batch"]

    def train_epoch():
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(tx[idx]), ty[idx])
            loss.backward()
            opt.step()

    def predict():
        with torch.no_grad():
            for i in range(0, len(tx), bs):
                model(tx[i:i + bs])
    return train_epoch, predict


def sgemm_gflops(n=1024, repeats=5):
    """This process's sgemm rate through ckeras's BLAS (the GEMM the convs use)."""
    import numpy as np
    from ckeras import ops
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    ops.matmul(a, a)
    best = min(timed(lambda: ops.matmul(a, a)) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(sections, repeats, framework, steps=None):
    """Runs in a child (thread env and pinning set): {section: {...}}."""
    results = {}
    for section in sections:
        w = dict(WORKLOADS[section])
        if steps:
            w["steps"] = steps
        x, y = data(w)
        try:
            train, predict = globals()[FRAMEWORKS[framework]](w, x, y)
            train()
            predict()                   # warm up: build, JIT (JAX), allocate
        except ImportError as err:
            print(f"  ({framework} {section} skipped: {err})", file=sys.stderr)
            continue
        t_train, t_pred = [], []
        for _ in range(repeats):
            t_train.append(timed(train))
            t_pred.append(timed(predict))
        n = len(x)
        results[section] = {"train_samples_per_s": n / median(t_train),
                            "predict_samples_per_s": n / median(t_pred)}
    if framework == "ckeras":
        results["sgemm_gflops"] = sgemm_gflops()
    return results


def measure_all(threads, sections, rounds, repeats, steps):
    extra = ["--steps", str(steps)] if steps else []
    runs = interleaved_children(
        threads, list(FRAMEWORKS), rounds,
        lambda name, r: [__file__, "--child", name, "--repeats", str(repeats),
                         "--only", *sections, *extra])
    out = {"sgemm_gflops": median([r["sgemm_gflops"] for r in runs["ckeras"]])}
    for section in sections:
        out[section] = {}
        for name in FRAMEWORKS:
            got = [r[section] for r in runs[name] if section in r]
            if got:
                out[section][name] = {k: median([g[k] for g in got]) for k in got[0]}
    return out


def report(threads, results):
    rate = results["sgemm_gflops"]
    print(f"\n== {threads} thread(s); sgemm {rate:.1f} GFLOP/s in the ckeras child ==")
    for section, rows in results.items():
        if section == "sgemm_gflops" or not rows:
            continue
        w = WORKLOADS[section]
        print(f"\n{section}: {w['title']}, batch {w['batch']}, adam")
        print(f"{'framework':<12}{'train/s':>10}{'vs torch':>9}{'vs jax':>8}{'GFLOP/s':>9}"
              f"{'of sgemm':>9}{'predict/s':>11}")
        base_t = rows.get("pytorch", {}).get("train_samples_per_s")
        base_j = rows.get("keras-jax", {}).get("train_samples_per_s")
        for name, r in rows.items():
            tr = r["train_samples_per_s"]
            gf = tr * train_flops_per_sample(w) / 1e9
            vt = f"{tr / base_t:.2f}x" if base_t else "-"
            vj = f"{tr / base_j:.2f}x" if base_j else "-"
            print(f"{name:<12}{tr:>10.0f}{vt:>9}{vj:>8}{gf:>9.1f}{gf / rate:>8.0%}"
                  f"{r['predict_samples_per_s']:>11.0f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5,
                        help="child processes per framework and thread count")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per child")
    parser.add_argument("--steps", type=int, default=None, help="batches per epoch (smoke runs)")
    parser.add_argument("--only", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--child", choices=list(FRAMEWORKS), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.only, args.repeats, args.child, args.steps)))
        return
    results = {}
    for n in args.threads:
        results[n] = measure_all(n, args.only, args.rounds, args.repeats, args.steps)
        report(n, results[n])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
