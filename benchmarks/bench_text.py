"""Text-model training throughput: Embedding -> GlobalAveragePooling1D -> Dense.

W2: Embedding(20000, 64) on length-200 ids -> GAP1D -> Dense(64, relu)
    -> Dense(1, sigmoid); batch 32, adam, binary cross-entropy.
W3: Embedding(10000, 128) on length-20 ids -> GAP1D -> Dense(256, relu)
    -> Dense(30000, softmax); batch 256, adam, sparse categorical CE.
Sparse: W2 shapes with plain SGD (and Adam), ckeras's dense embedding
    gradient vs ``Embedding(sparse_grad=True)`` (row-wise zero_grad and
    update), PyTorch's ``nn.Embedding(sparse=True)`` beside it.

Train steps/s and samples/s (one fit() epoch per timing) for ckeras,
PyTorch eager and Keras 3 (JAX backend), each framework in its own child
process pinned to as many CPUs as threads, children interleaved over rounds;
medians over rounds of each child's median.

    python benchmarks/bench_text.py                    # 1 and 2 threads
    python benchmarks/bench_text.py --threads 1 --rounds 3 --only W2 sparse

Peers are optional: a missing torch or keras is reported and skipped.
"""
import argparse
import json
import os
import sys
import time

from harness import interleaved_children

WORKLOADS = {
    "W2": dict(vocab=20000, dim=64, length=200, hidden=64, classes=1, batch=32, steps=40),
    "W3": dict(vocab=10000, dim=128, length=20, hidden=256, classes=30000, batch=256, steps=6),
}
# Sparse-gradient comparisons: W2 shapes with uniform ids (worst case: ~27% of
# the rows touched per step), with Zipf ids (~6%), and a 200k-word vocabulary.
SPARSE = {
    "W2 uniform ids": dict(WORKLOADS["W2"]),
    "W2 zipf ids": dict(WORKLOADS["W2"], ids="zipf"),
    "W2 zipf ids, vocab 200k": dict(WORKLOADS["W2"], ids="zipf", vocab=200000, steps=20),
}


def data(w, seed=0):
    """Padded id sequences (lengths vary, 0 = padding) and labels. Ids are
    uniform, or Zipf-distributed like word ranks in real text."""
    import numpy as np
    rng = np.random.default_rng(seed)
    n = w["batch"] * w["steps"]
    if w.get("ids") == "zipf":
        x = np.minimum(rng.zipf(1.1, (n, w["length"])), w["vocab"] - 1).astype(np.int64)
    else:
        x = rng.integers(1, w["vocab"], (n, w["length"]), dtype=np.int64)
    lengths = rng.integers(w["length"] // 4, w["length"] + 1, n)
    x[np.arange(w["length"])[None, :] >= lengths[:, None]] = 0
    y = rng.integers(0, max(w["classes"], 2), n).astype(np.int64)
    return x, y


def _loss(w):
    return "binary_crossentropy" if w["classes"] == 1 else "sparse_categorical_crossentropy"


def _out_activation(w):
    return "sigmoid" if w["classes"] == 1 else "softmax"


# ---- one framework each: returns train_epoch() ------------------------------------

def row_sgd_class():
    """SGD with the row-sparse hook of ckeras.optimizers.sparse wired in (the
    one-line change proposed for SGD._update_step)."""
    from ckeras.optimizers import SGD
    from ckeras.optimizers.sparse import sgd_update_rows

    class RowSGD(SGD):
        def _update_step(self, index, value, grad, lr):
            if not sgd_update_rows(self, index, value, grad, lr):
                super()._update_step(index, value, grad, lr)
    return RowSGD


def setup_ckeras(w, x, y, optimizer="adam", sparse=False):
    import ckeras as keras
    from ckeras.layers.embedding import Embedding
    from ckeras.layers.pooling import GlobalAveragePooling1D
    model = keras.Sequential([
        keras.Input(shape=(w["length"],), dtype="int32"),
        Embedding(w["vocab"], w["dim"], sparse_grad=sparse), GlobalAveragePooling1D(),
        keras.layers.Dense(w["hidden"], activation="relu"),
        keras.layers.Dense(w["classes"], activation=_out_activation(w))])
    if optimizer == "sgd":
        optimizer = row_sgd_class()(0.01) if sparse else keras.optimizers.SGD(0.01)
    model.compile(optimizer=optimizer, loss=_loss(w))
    return lambda: model.fit(x, y, batch_size=w["batch"], epochs=1, verbose=0, shuffle=True)


def setup_torch(w, x, y, optimizer="adam", sparse=False):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(w["vocab"], w["dim"], sparse=sparse)
            self.hidden = torch.nn.Linear(w["dim"], w["hidden"])
            self.out = torch.nn.Linear(w["hidden"], w["classes"])

        def forward(self, ids):
            h = self.emb(ids).mean(dim=1)
            return self.out(torch.relu(self.hidden(h)))

    model = torch.nn.Sequential(Net())
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    if w["classes"] == 1:
        loss_fn = torch.nn.BCEWithLogitsLoss()
        ty = torch.from_numpy(y.astype("float32"))[:, None]
    else:
        loss_fn = torch.nn.CrossEntropyLoss()
        ty = torch.from_numpy(y)
    tx = torch.from_numpy(x)
    bs = w["batch"]

    def train_epoch():
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(tx[idx]), ty[idx])
            loss.backward()
            opt.step()
    return train_epoch


def setup_keras(w, x, y, optimizer="adam", sparse=False):
    import keras
    model = keras.Sequential([
        keras.Input(shape=(w["length"],), dtype="int32"),
        keras.layers.Embedding(w["vocab"], w["dim"]), keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(w["hidden"], activation="relu"),
        keras.layers.Dense(w["classes"], activation=_out_activation(w))])
    model.compile(optimizer=keras.optimizers.SGD(0.01) if optimizer == "sgd" else "adam",
                  loss=_loss(w))
    return lambda: model.fit(x, y, batch_size=w["batch"], epochs=1, verbose=0, shuffle=True)


# (label, setup, workload, kwargs) for each section.
def variants(section):
    if section in WORKLOADS:
        w = WORKLOADS[section]
        return [("ckeras", setup_ckeras, w, {}), ("pytorch", setup_torch, w, {}),
                ("keras-jax", setup_keras, w, {})]
    out = []
    for name, w in SPARSE.items():
        out += [(f"{name}: ckeras sgd dense", setup_ckeras, w, {"optimizer": "sgd"}),
                (f"{name}: ckeras sgd sparse", setup_ckeras, w, {"optimizer": "sgd",
                                                                  "sparse": True}),
                (f"{name}: ckeras adam dense", setup_ckeras, w, {}),
                (f"{name}: ckeras adam sparse_grad", setup_ckeras, w, {"sparse": True}),
                (f"{name}: pytorch sgd dense", setup_torch, w, {"optimizer": "sgd"}),
                (f"{name}: pytorch sgd sparse", setup_torch, w, {"optimizer": "sgd",
                                                                  "sparse": True})]
    return out


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


FRAMEWORKS = {"ckeras": "setup_ckeras", "pytorch": "setup_torch", "keras-jax": "setup_keras"}


def measure(sections, repeats, framework):
    """Runs in a child process (thread env and CPU pinning already set) and
    times ``framework``'s variants only; {section: {label: {...}}}."""
    results = {}
    for section in sections:
        runs = {}
        for label, setup, w, kw in variants(section):
            if setup.__name__ != FRAMEWORKS[framework]:
                continue
            x, y = data(w)
            try:
                fn = setup(w, x, y, **kw)
                fn()                     # warm up: build, JIT (JAX), allocate
            except ImportError as err:
                print(f"  ({label} skipped: {err})", file=sys.stderr)
                continue
            runs[label] = (fn, w)
        times = {label: [] for label in runs}
        for _ in range(repeats):         # interleaved: noise hits all variants alike
            for label, (fn, w) in runs.items():
                times[label].append(timed(fn))
        results[section] = {
            label: {"steps_per_s": w["steps"] / median(times[label]),
                    "samples_per_s": w["steps"] * w["batch"] / median(times[label]),
                    "step_ms": 1e3 * median(times[label]) / w["steps"]}
            for label, (fn, w) in runs.items()}
    return results


def measure_all(threads, sections, rounds, repeats):
    """One child per framework and round, interleaved (harness); per label,
    the median over rounds of each child's median."""
    runs = interleaved_children(
        threads, list(FRAMEWORKS), rounds,
        lambda name, r: [__file__, "--child", name, "--repeats", str(repeats),
                         "--only", *sections])
    results = {}
    for section in sections:
        rows = {}
        for name in FRAMEWORKS:
            labels = runs[name][0].get(section, {})
            for label in labels:
                step = median([r[section][label]["step_ms"] for r in runs[name]])
                rows[label] = {"steps_per_s": 1e3 / step,
                               "samples_per_s": 1e3 * w_of(section, label)["batch"] / step,
                               "step_ms": step}
        results[section] = {label: rows[label] for label, *_ in variants(section)
                            if label in rows}
    return results


def w_of(section, label):
    return next(w for lab, _, w, _ in variants(section) if lab == label)


def report(threads, results):
    for section, rows in results.items():
        if section in WORKLOADS:
            w = WORKLOADS[section]
            title = (f"{section}: Embedding({w['vocab']}, {w['dim']}) x {w['length']} -> GAP1D "
                     f"-> Dense({w['hidden']}) -> Dense({w['classes']}), batch {w['batch']}, adam")
        else:
            title = "dense vs sparse embedding gradients, W2 shapes (SGD lr=0.01 / adam)"
        print(f"\n== {title}; {threads} thread(s) ==")
        width = max(len(label) for label in rows) + 2 if rows else 12
        print(f"{'framework':<{width}}{'steps/s':>9}{'samples/s':>11}{'ms/step':>9}")
        for label, r in rows.items():
            print(f"{label:<{width}}{r['steps_per_s']:>9.1f}{r['samples_per_s']:>11.0f}"
                  f"{r['step_ms']:>9.2f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5,
                        help="child processes per framework and thread count")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per child")
    parser.add_argument("--only", nargs="*", default=["W2", "W3", "sparse"],
                        choices=["W2", "W3", "sparse"])
    parser.add_argument("--child", choices=list(FRAMEWORKS), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.only, args.repeats, args.child)))
        return
    results = {}
    for n in args.threads:
        results[n] = measure_all(n, args.only, args.rounds, args.repeats)
        report(n, results[n])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
