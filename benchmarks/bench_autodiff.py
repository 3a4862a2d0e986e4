"""W1 (784 -> 512 relu -> 512 relu -> 10, adam, sparse categorical
cross-entropy, batch 128) with its Dense layers written as a 6-line custom
layer on ``ckeras.ops`` (gradients from the tape), against the built-in Dense
model and PyTorch eager on the same model; plus the tape's cost per op.

Each framework runs in its own child process pinned to as many CPUs as
threads, interleaved over rounds (``harness.interleaved_children``), as in
bench_mlp.py. The target: the ops model at >= 0.7x the built-in model's
train samples/s and ahead of PyTorch eager.

    python benchmarks/bench_autodiff.py                  # 1 and 2 threads
    python benchmarks/bench_autodiff.py --tiny           # smoke run, seconds
"""
import argparse
import json
import os
import sys
import time

from harness import interleaved_children

BATCH = 128
SIZES = {"full": 128 * 40, "tiny": 128 * 2}


def data(n):
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def timed(fn, repeat=1):
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def ops_dense_class():
    import ckeras as keras
    from ckeras import ops

    class OpsDense(keras.layers.Layer):                     # the 6-line custom layer
        def __init__(self, units, relu=False, **kw):
            super().__init__(**kw)
            self.units, self.relu = units, relu

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units))
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x):
            y = ops.matmul(x, self.w) + self.b
            return ops.nn.relu(y) if self.relu else y
    return OpsDense


def setup_ckeras_builtin(x, y):
    import ckeras as keras
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return (lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True),
            lambda: model.predict(x, batch_size=BATCH, verbose=0))


def setup_ckeras_ops(x, y):
    import ckeras as keras
    OpsDense = ops_dense_class()
    model = keras.Sequential([keras.Input(shape=(784,)), OpsDense(512, relu=True),
                              OpsDense(512, relu=True), OpsDense(10)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return (lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True),
            lambda: model.predict(x, batch_size=BATCH, verbose=0))


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
            return torch.cat([model(tx[i:i + BATCH]) for i in range(0, len(tx), BATCH)]).numpy()
    return train_epoch, predict_all


SETUPS = {"ckeras-builtin": setup_ckeras_builtin, "ckeras-ops": setup_ckeras_ops,
          "pytorch": setup_torch}


def tape_overhead(repeats, n_ops=200):
    """Microseconds per recorded op beyond numpy's own work, forward
    (recording) and backward (replay), on a (4, 4) add and multiply; the
    best of many tapes of ``n_ops`` ops (a model step's size)."""
    import numpy as np
    from ckeras import ops
    from ckeras.ops.tape import GradientTape, Tensor
    a = np.ones((4, 4), np.float32)

    def plain():
        y = a
        for _ in range(n_ops // 2):
            y = (y + a) * 0.5
        return y

    def recorded():
        with GradientTape() as tape:
            t = Tensor(a)
            tape.watch(t)
            y = t
            for _ in range(n_ops // 2):
                y = (y + a) * 0.5
            loss = ops.sum(y)
        return tape, loss, t

    def replay():
        tape, loss, t = recorded()
        tape.gradient(loss, t)

    plain()
    replay()
    runs = 20 * repeats
    t_plain = min(timed(plain) for _ in range(runs))
    t_fwd = min(timed(recorded) for _ in range(runs))
    t_both = min(timed(replay) for _ in range(runs))
    return {"numpy_us_per_op": t_plain / n_ops * 1e6,
            "record_overhead_us_per_op": (t_fwd - t_plain) / n_ops * 1e6,
            "backward_us_per_op": (t_both - t_fwd) / n_ops * 1e6}


def measure(name, size, repeats, extras):
    x, y = data(SIZES[size])
    try:
        train, predict = SETUPS[name](x, y)
    except ImportError as err:
        return {"skipped": str(err)}
    train()
    predict()
    n = len(x)
    result = {"train_samples_per_s": median([n / timed(train) for _ in range(repeats)]),
              "predict_samples_per_s": median([n / timed(predict) for _ in range(repeats)])}
    if extras and name == "ckeras-ops":
        result["tape"] = tape_overhead(repeats)
    return result


def report(threads, result):
    print(f"\n== W1 with Dense as a custom ckeras.ops layer, batch {BATCH}, "
          f"{threads} thread(s) ==")
    builtin, torch = result.get("ckeras-builtin"), result.get("pytorch")
    print(f"{'framework':<16}{'train/s':>10}{'predict/s':>11}{'vs built-in':>13}{'vs torch':>10}")
    for name, r in result.items():
        if name.startswith("_"):
            continue
        vs_b = f"{r['train_samples_per_s'] / builtin['train_samples_per_s']:.2f}x" if builtin else "-"
        vs_t = f"{r['train_samples_per_s'] / torch['train_samples_per_s']:.2f}x" if torch else "-"
        print(f"{name:<16}{r['train_samples_per_s']:>10.0f}{r['predict_samples_per_s']:>11.0f}"
              f"{vs_b:>13}{vs_t:>10}")
    tape = result.get("_tape")
    if tape:
        print(f"tape: numpy {tape['numpy_us_per_op']:.2f} us/op; recording adds "
              f"{tape['record_overhead_us_per_op']:.2f} us/op, backward "
              f"{tape['backward_us_per_op']:.2f} us/op")


def measure_all(threads, rounds, repeats, size):
    def argv_for(name, r):
        return [__file__, "--child", name, "--repeats", str(repeats), "--size", size] + (
            ["--extras"] if r == 0 else [])
    runs = interleaved_children(threads, list(SETUPS), rounds, argv_for)
    result = {}
    for name, rs in runs.items():
        if any("skipped" in r for r in rs):
            print(f"  ({name} skipped: {rs[0].get('skipped')})", file=sys.stderr)
            continue
        result[name] = {k: median([r[k] for r in rs])
                        for k in ("train_samples_per_s", "predict_samples_per_s")}
        if "tape" in rs[0]:
            result["_tape"] = rs[0]["tape"]
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="smoke run: 2 steps, 1 round")
    parser.add_argument("--size", choices=list(SIZES), default="full", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=list(SETUPS), help=argparse.SUPPRESS)
    parser.add_argument("--extras", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.size, args.repeats, args.extras)))
        return
    if args.tiny:
        args.size, args.rounds, args.repeats, args.threads = "tiny", 1, 1, args.threads[:1]
    results = {}
    for n in args.threads:
        results[n] = measure_all(n, args.rounds, args.repeats, args.size)
        report(n, results[n])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
