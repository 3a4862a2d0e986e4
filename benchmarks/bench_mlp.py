"""W1: Input 784 -> Dense 512 relu -> Dense 512 relu -> Dense 10 softmax,
adam, sparse categorical cross-entropy, batch 128, synthetic data.

Reports train and predict samples/s for ckeras, PyTorch eager and Keras 3
(JAX backend), each framework in its own child process pinned to as many CPUs
as threads, children interleaved over rounds, as medians and ratios; plus
ckeras's GEMM share of a step, the machine's sgemm GFLOP/s, and the
small-model latencies the foundation issue targets.

    python benchmarks/bench_mlp.py                 # 1 and 2 threads
    python benchmarks/bench_mlp.py --threads 1 --rounds 9

Peers are optional: a missing torch or keras is reported and skipped.
"""
import argparse
import json
import os
import subprocess
import sys
import time

from harness import interleaved_children

N_TRAIN = 128 * 40        # 40 steps an epoch
N_PREDICT = 128 * 40
BATCH = 128



def data():
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N_TRAIN, 784)).astype(np.float32)
    y = rng.integers(0, 10, N_TRAIN).astype(np.int64)
    return x, y


# ---- one framework each: returns (train_epoch(), predict_all(), predict_one()) ----

def setup_ckeras(x, y):
    import ckeras as keras
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    one = x[:1]
    return (lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True),
            lambda: model.predict(x, batch_size=BATCH, verbose=0),
            lambda: model.predict_on_batch(one))


def setup_torch(x, y):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def train_epoch():
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(tx[idx]), ty[idx])
            loss.backward()
            opt.step()

    def predict_all():
        with torch.no_grad():
            return torch.cat([torch.softmax(model(tx[i:i + BATCH]), 1)
                              for i in range(0, len(tx), BATCH)]).numpy()

    def predict_one():
        with torch.no_grad():
            return torch.softmax(model(tx[:1]), 1).numpy()
    return train_epoch, predict_all, predict_one


def setup_keras(x, y):
    import keras
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    one = x[:1]
    return (lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True),
            lambda: model.predict(x, batch_size=BATCH, verbose=0),
            lambda: model.predict_on_batch(one))


SETUPS = {"ckeras": setup_ckeras, "pytorch": setup_torch, "keras-jax": setup_keras}


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed(fn, repeat=1):
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def measure(name, repeats, extras):
    """Runs in a child process (thread env and CPU pinning already set) and
    times one framework: returns its medians over ``repeats`` epochs."""
    x, y = data()
    try:
        train, predict, one = SETUPS[name](x, y)
    except ImportError as err:
        return {"skipped": str(err)}
    train()          # warm up: builds, compiles (JAX), allocates
    predict()
    one()
    result = {"train_samples_per_s": median([N_TRAIN / timed(train) for _ in range(repeats)]),
              "predict_samples_per_s": median([N_PREDICT / timed(predict)
                                               for _ in range(repeats)]),
              "predict_one_ms": median([timed(one, 200) * 1e3 for _ in range(repeats)])}
    extra_fn = {"ckeras": ckeras_extras, "pytorch": torch_extras}.get(name)
    if extras and extra_fn is not None:
        result["extras"] = extra_fn(x, y, repeats)
    return result


GEMM_SHAPES = [(BATCH, 784, 512), (BATCH, 512, 512), (BATCH, 512, 10)]


def torch_extras(x, y, repeats):
    """PyTorch's time for the same GEMMs and for one train step, so the
    report can say how much of each framework's step is GEMM."""
    import torch
    bufs = [(torch.ones(m, k), torch.ones(k, n), torch.ones(m, n)) for m, k, n in GEMM_SHAPES]

    def gemms():
        for i, (xa, w, dy) in enumerate(bufs):
            torch.mm(xa, w)
            torch.mm(xa.t(), dy)
            if i:
                torch.mm(dy, w.t())
    gemms()
    gemm_t = median([timed(gemms, 20) for _ in range(repeats)])
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                torch.nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xb, yb = torch.from_numpy(x[:BATCH]), torch.from_numpy(y[:BATCH])

    def step():
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    step()
    step_t = median([timed(step, 20) for _ in range(repeats)])
    return {"w1_step_ms": step_t * 1e3, "w1_gemm_ms": gemm_t * 1e3}


def ckeras_extras(x, y, repeats):
    import numpy as np
    import ckeras as keras
    from ckeras import ops
    # sgemm peak and the GEMM share of one W1 step.
    a = np.random.default_rng(1).standard_normal((1024, 1024)).astype(np.float32)
    ops.matmul(a, a)
    t = median([timed(lambda: ops.matmul(a, a)) for _ in range(repeats)])
    gflops = 2 * 1024 ** 3 / t / 1e9
    bufs = [(np.ones((m, k), np.float32), np.ones((k, n), np.float32), np.ones((m, n), np.float32))
            for m, k, n in GEMM_SHAPES]

    def gemms():  # what one train step must do: forward, dW, and dx but for layer 1
        for i, (xa, w, dy) in enumerate(bufs):
            ops.matmul(xa, w)
            ops.matmul(xa, dy, trans_a=True)
            if i:
                ops.matmul(dy, w, trans_b=True)
    gemm_t = median([timed(gemms, 20) for _ in range(repeats)])
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    xb, yb = x[:BATCH], y[:BATCH]
    model.train_on_batch(xb, yb)
    step_t = median([timed(lambda: model.train_on_batch(xb, yb), 20) for _ in range(repeats)])
    # The small-model targets: 20 -> 32 -> 2 train step at batch 32.
    small = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    small.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    xs = np.random.default_rng(2).standard_normal((32, 20)).astype(np.float32)
    ys = np.random.default_rng(3).integers(0, 2, 32)
    small.train_on_batch(xs, ys)
    small_t = median([timed(lambda: small.train_on_batch(xs, ys), 200) for _ in range(repeats)])
    from ckeras.ops import blas
    return {"blas": blas.blas_info(), "sgemm_gflops_1024": gflops, "w1_step_ms": step_t * 1e3,
            "w1_gemm_ms": gemm_t * 1e3, "gemm_share": gemm_t / step_t,
            "small_train_step_ms": small_t * 1e3}


def import_overhead():
    code = "import time; t=time.perf_counter(); import {m}; print(time.perf_counter()-t)"
    def run(m):
        out = subprocess.run([sys.executable, "-c", code.format(m=m)], capture_output=True,
                             text=True, check=True)
        return float(out.stdout)
    np_t = median([run("numpy") for _ in range(5)])
    ck_t = median([run("ckeras") for _ in range(5)])
    return ck_t - np_t


def report(threads, result):
    print(f"\n== W1 MLP 784-512-512-10, batch {BATCH}, {threads} thread(s) ==")
    base = result.get("pytorch"), result.get("keras-jax")
    print(f"{'framework':<11}{'train/s':>10}{'predict/s':>11}{'1-sample ms':>13}"
          f"{'train vs torch':>16}{'train vs keras':>16}")
    for name, r in result.items():
        if name.startswith("_"):
            continue
        ratios = [f"{r['train_samples_per_s'] / b['train_samples_per_s']:.2f}x" if b else "-"
                  for b in base]
        print(f"{name:<11}{r['train_samples_per_s']:>10.0f}{r['predict_samples_per_s']:>11.0f}"
              f"{r['predict_one_ms']:>13.3f}{ratios[0]:>16}{ratios[1]:>16}")
    e = result["_extras_ckeras"]
    print(f"ckeras BLAS: {e['blas']['provider']}'s ({e['blas']['version']})")
    print(f"sgemm 1024^3: {e['sgemm_gflops_1024']:.1f} GFLOP/s; ckeras W1 step "
          f"{e['w1_step_ms']:.2f} ms of which GEMM {e['w1_gemm_ms']:.2f} ms "
          f"({100 * e['gemm_share']:.0f}%); 20-32-2 train step at batch 32: "
          f"{e['small_train_step_ms']:.3f} ms")
    t = result.get("_extras_pytorch")
    if t:
        print(f"PyTorch W1 step {t['w1_step_ms']:.2f} ms of which the same GEMMs "
              f"{t['w1_gemm_ms']:.2f} ms")


def measure_all(threads, rounds, repeats):
    """One child process per framework and round, frameworks interleaved
    (rotated each round) so slow spells hit all alike; medians over rounds.

    Separate processes because frameworks in one process disturb each other:
    ckeras sets OMP_WAIT_POLICY=PASSIVE, which torch's OpenMP then inherits
    (its 2-thread step slowed from ~7.5 to ~10 ms), and torch's spinning
    OpenMP workers starve OpenBLAS's threads (a ckeras step went 3.8 -> 48 ms)."""
    def argv_for(name, r):
        return [__file__, "--child", name, "--repeats", str(repeats)] + (
            ["--extras"] if r == 0 else [])
    runs = interleaved_children(threads, list(SETUPS), rounds, argv_for)
    result = {}
    for name, rs in runs.items():
        if any("skipped" in r for r in rs):
            print(f"  ({name} skipped: {rs[0].get('skipped')})", file=sys.stderr)
            continue
        result[name] = {key: median([r[key] for r in rs]) for key in
                        ("train_samples_per_s", "predict_samples_per_s", "predict_one_ms")}
        result[name]["train_rounds"] = [r["train_samples_per_s"] for r in rs]
        if "extras" in rs[0]:
            result["_extras_" + name] = rs[0]["extras"]
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5,
                        help="child processes per framework and thread count")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per child")
    parser.add_argument("--child", choices=list(SETUPS), help=argparse.SUPPRESS)
    parser.add_argument("--extras", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeats, args.extras)))
        return
    results = {}
    for n in args.threads:
        results[n] = measure_all(n, args.rounds, args.repeats)
        report(n, results[n])
    overhead = import_overhead()
    print(f"\nimport ckeras costs {overhead * 1e3:.0f} ms more than import numpy")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": results, "import_overhead_s": overhead}, f, indent=1)


if __name__ == "__main__":
    main()
