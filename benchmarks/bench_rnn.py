"""Recurrent-model training throughput: Embedding -> RNN -> Dense(1, sigmoid).

W4:        Embedding(10000, 64) on length-100 ids -> LSTM(64) -> Dense(1, sigmoid),
           Adam, binary cross-entropy, batch 64.
W4-GRU:    the same with GRU(64).
W4-BiLSTM: the same with Bidirectional(LSTM(64)).
LSTM256:   Embedding(10000, 64) on length-50 ids -> LSTM(256) -> Dense(1, sigmoid).

Train samples/s (one fit() epoch of ``steps`` batches per timing) and predict
samples/s for ckeras, PyTorch eager and Keras 3 (JAX backend), each framework
in its own child process pinned to as many CPUs as threads (harness), the
children interleaved over rounds; medians over rounds of each child's median.

The ckeras child also reports the per-timestep cost split of its recurrent
layer's train step (forward + BPTT of the layer alone):
  * recurrent GEMM  the two per-step GEMMs (h R forward, dz R^T backward),
                    timed alone at the step's shapes, T times each;
  * gates           the rest of the compiled time loops (ops.*_seq_forward /
                    *_seq_backward): fused gate math, masks, copies;
  * overhead        everything else in the layer's train step per timestep:
                    the input projection and the weight-gradient GEMMs over all
                    steps (one each, not per step), transposes, Python.

    python benchmarks/bench_rnn.py                       # 1 and 2 threads
    python benchmarks/bench_rnn.py --threads 1 --rounds 3 --only W4 W4-GRU

Peers are optional: a missing torch or keras is reported and skipped.
"""
import argparse
import json
import os
import sys
import time

from harness import interleaved_children

WORKLOADS = {
    "W4": dict(rnn="lstm", units=64, vocab=10000, dim=64, length=100, batch=64, steps=20),
    "W4-GRU": dict(rnn="gru", units=64, vocab=10000, dim=64, length=100, batch=64, steps=20),
    "W4-BiLSTM": dict(rnn="bilstm", units=64, vocab=10000, dim=64, length=100, batch=64,
                      steps=10),
    "LSTM256": dict(rnn="lstm", units=256, vocab=10000, dim=64, length=50, batch=64, steps=10),
}


def data(w, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    n = w["batch"] * w["steps"]
    x = rng.integers(1, w["vocab"], (n, w["length"]), dtype=np.int64)
    y = rng.integers(0, 2, n).astype(np.float32)
    return x, y


# ---- one framework each: returns (train_epoch, predict) -----------------------------

def _keras_like_model(keras, w):
    L = keras.layers
    rnn = {"lstm": lambda: L.LSTM(w["units"]), "gru": lambda: L.GRU(w["units"]),
           "bilstm": lambda: L.Bidirectional(L.LSTM(w["units"]))}[w["rnn"]]()
    model = keras.Sequential([keras.Input(shape=(w["length"],), dtype="int32"),
                              L.Embedding(w["vocab"], w["dim"]), rnn,
                              L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def setup_ckeras(w, x, y):
    import ckeras as keras
    model = _keras_like_model(keras, w)
    return (lambda: model.fit(x, y, batch_size=w["batch"], epochs=1, verbose=0, shuffle=True),
            lambda: model.predict(x, batch_size=w["batch"], verbose=0))


def setup_keras(w, x, y):
    import keras
    model = _keras_like_model(keras, w)
    return (lambda: model.fit(x, y, batch_size=w["batch"], epochs=1, verbose=0, shuffle=True),
            lambda: model.predict(x, batch_size=w["batch"], verbose=0))


def setup_torch(w, x, y):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    bi = w["rnn"] == "bilstm"
    cls = torch.nn.GRU if w["rnn"] == "gru" else torch.nn.LSTM

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(w["vocab"], w["dim"])
            self.rnn = cls(w["dim"], w["units"], batch_first=True, bidirectional=bi)
            self.out = torch.nn.Linear(w["units"] * (2 if bi else 1), 1)

        def forward(self, ids):
            _, h = self.rnn(self.emb(ids))
            h = h[0] if isinstance(h, tuple) else h          # LSTM: (h, c)
            last = torch.cat([h[0], h[1]], dim=1) if bi else h[0]
            return self.out(last)

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)[:, None]
    bs = w["batch"]

    def train_epoch():
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss_fn(model(tx[idx]), ty[idx]).backward()
            opt.step()

    def predict():
        with torch.no_grad():
            for i in range(0, len(tx), bs):
                torch.sigmoid(model(tx[i:i + bs]))
    return train_epoch, predict


FRAMEWORKS = {"ckeras": setup_ckeras, "pytorch": setup_torch, "keras-jax": setup_keras}


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---- the ckeras per-timestep split -------------------------------------------------------

def ckeras_split(w, repeats):
    """Per-timestep ms of the recurrent layer's train step: recurrent GEMM,
    gates (rest of the compiled loops), overhead (rest of the step)."""
    import numpy as np
    from ckeras import ops
    from ckeras.layers.recurrent import GRU, LSTM, Bidirectional
    rng = np.random.default_rng(0)
    B, T, D, u = w["batch"], w["length"], w["dim"], w["units"]
    make = {"lstm": lambda: LSTM(u), "gru": lambda: GRU(u),
            "bilstm": lambda: Bidirectional(LSTM(u))}[w["rnn"]]
    layer = make()
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    dy = rng.standard_normal(layer.compute_output_shape((B, T, D))).astype(np.float32)
    layer(x)
    names = [n for n in dir(ops) if n.endswith(("_seq_forward", "_seq_backward"))]
    real = {n: getattr(ops, n) for n in names}
    spent = [0.0]

    def timer(fn):
        def run(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            spent[0] += time.perf_counter() - t0
            return out
        return run

    def step():
        for v in layer.weights:
            v.grad = np.zeros_like(v.value)
        _, back = layer.forward(x, training=True)
        back(dy, need_dx=True)

    # the recurrent layer's modules call ops.<name> at run time
    steps, loops = [], []
    for n in names:
        setattr(ops, n, timer(real[n]))
    try:
        step()
        for _ in range(repeats):
            spent[0] = 0.0
            steps.append(timed(step))
            loops.append(spent[0])
    finally:
        for n, fn in real.items():
            setattr(ops, n, fn)
    G = {"lstm": 4, "gru": 3, "bilstm": 4}[w["rnn"]] * u
    dirs = 2 if w["rnn"] == "bilstm" else 1
    h = rng.standard_normal((B, u)).astype(np.float32)
    R = rng.standard_normal((u, G)).astype(np.float32)
    z = np.zeros((B, G), np.float32)
    dh = np.zeros((B, u), np.float32)

    def gemms():
        for _ in range(T):
            ops.matmul(h, R, out=z, beta=1.0)
            ops.matmul(z, R, trans_b=True, out=dh, beta=1.0)
    gemm = median([timed(gemms) for _ in range(repeats)]) * dirs
    total, loop = median(steps), median(loops)
    per = 1e3 / T
    return {"step_ms": total * 1e3, "recurrent_gemm_ms_per_t": gemm * per,
            "gates_ms_per_t": max(loop - gemm, 0.0) * per,
            "overhead_ms_per_t": max(total - loop, 0.0) * per}


def measure(sections, repeats, framework):
    """In a child (threads and CPUs already set): {section: {...}} for one framework."""
    results = {}
    for section in sections:
        w = WORKLOADS[section]
        x, y = data(w)
        try:
            train, predict = FRAMEWORKS[framework](w, x, y)
            train()                      # warm up: build, JIT (JAX), allocate
            predict()
        except ImportError as err:
            print(f"  ({framework} skipped: {err})", file=sys.stderr)
            continue
        tt = [timed(train) for _ in range(repeats)]
        tp = [timed(predict) for _ in range(repeats)]
        n = w["batch"] * w["steps"]
        res = {"train_samples_per_s": n / median(tt), "predict_samples_per_s": n / median(tp)}
        if framework == "ckeras":
            res["split"] = ckeras_split(w, repeats)
        results[section] = res
    return results


def measure_all(threads, sections, rounds, repeats):
    runs = interleaved_children(
        threads, list(FRAMEWORKS), rounds,
        lambda name, r: [__file__, "--child", name, "--repeats", str(repeats),
                         "--only", *sections])
    results = {}
    for section in sections:
        rows = {}
        for name in FRAMEWORKS:
            got = [r[section] for r in runs[name] if section in r]
            if not got:
                continue
            rows[name] = {k: median([g[k] for g in got])
                          for k in ("train_samples_per_s", "predict_samples_per_s")}
            if "split" in got[0]:
                rows[name]["split"] = {k: median([g["split"][k] for g in got])
                                       for k in got[0]["split"]}
        results[section] = rows
    return results


def report(threads, results):
    for section, rows in results.items():
        w = WORKLOADS[section]
        print(f"\n== {section}: Embedding({w['vocab']}, {w['dim']}) x {w['length']} -> "
              f"{w['rnn']}({w['units']}) -> Dense(1), batch {w['batch']}, adam; "
              f"{threads} thread(s) ==")
        best = max((r["train_samples_per_s"] for n, r in rows.items() if n != "ckeras"),
                   default=None)
        print(f"{'framework':<12}{'train/s':>10}{'predict/s':>11}")
        for name, r in rows.items():
            line = f"{name:<12}{r['train_samples_per_s']:>10.0f}{r['predict_samples_per_s']:>11.0f}"
            if name == "ckeras" and best:
                line += f"   {r['train_samples_per_s'] / best:.2f}x the best peer (train)"
            print(line)
        split = rows.get("ckeras", {}).get("split")
        if split:
            print(f"  ckeras layer train step {split['step_ms']:.2f} ms; per timestep: "
                  f"recurrent GEMM {split['recurrent_gemm_ms_per_t'] * 1e3:.1f} us, gates "
                  f"{split['gates_ms_per_t'] * 1e3:.1f} us, overhead "
                  f"{split['overhead_ms_per_t'] * 1e3:.1f} us")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3,
                        help="child processes per framework and thread count")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per child")
    parser.add_argument("--only", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--steps", type=int, help="override batches per epoch (smoke runs)")
    parser.add_argument("--child", choices=list(FRAMEWORKS), help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.steps:
        for w in WORKLOADS.values():
            w["steps"] = args.steps
    if args.child:
        print(json.dumps(measure(args.only, args.repeats, args.child)))
        return
    if args.steps:
        os.environ["CKERAS_BENCH_STEPS"] = str(args.steps)
    results = {}
    for n in args.threads:
        results[n] = measure_all(n, args.only, args.rounds, args.repeats)
        report(n, results[n])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    if os.environ.get("CKERAS_BENCH_STEPS") and "--steps" not in sys.argv:
        sys.argv += ["--steps", os.environ["CKERAS_BENCH_STEPS"]]
    main()
