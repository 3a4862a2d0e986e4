"""Data-parallel training over MPI (ckeras.distribute) at 1 and 2 processes.

W1 (bench_mlp.py: 784 -> 512 -> 512 -> 10, adam, global batch 128) and W3
(bench_text.py: Embedding(10000,128)x20 -> GAP -> 256 -> 30000, adam, global
batch 256), each process on 1 thread pinned to its own CPU; the global batch
stays the same (strong scaling), so 2 processes each compute half of it.

Reports per process count: ms per step, the share of the step spent in the
gradient Allreduce, samples/s and its ratio to 1 process; plus the Allreduce
bandwidth measured on the workload's gradient buffer (bytes / time, the
"algorithm bandwidth"), which the scaling model in benchmarks/README.md uses.

    python benchmarks/bench_mpi.py                      # W1 and W3, 1 and 2 processes
    python benchmarks/bench_mpi.py --only W1 --epochs 2 --steps 4    # a smoke run

Needs the [mpi] extra (mpi4py + mpich); MPICH's mpiexec is launched with the
fork launcher (this machine only).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WORKLOADS = {
    "W1": dict(kind="mlp", batch=128, steps=40),
    "W3": dict(kind="text", vocab=10000, dim=128, length=20, hidden=256, classes=30000,
               batch=256, steps=6),
}


# ---- the child: one rank of `mpiexec -n N python bench_mpi.py --child W ...` ------

def _model(w):
    import ckeras as keras
    if w["kind"] == "mlp":
        model = keras.Sequential([keras.Input(shape=(784,)),
                                  keras.layers.Dense(512, activation="relu"),
                                  keras.layers.Dense(512, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
    else:
        model = keras.Sequential([
            keras.Input(shape=(w["length"],), dtype="int32"),
            keras.layers.Embedding(w["vocab"], w["dim"]),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(w["hidden"], activation="relu"),
            keras.layers.Dense(w["classes"], activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _data(w, steps):
    import numpy as np
    rng = np.random.default_rng(0)
    n = w["batch"] * steps
    if w["kind"] == "mlp":
        return (rng.standard_normal((n, 784)).astype(np.float32),
                rng.integers(0, 10, n).astype(np.int64))
    x = rng.integers(1, w["vocab"], (n, w["length"]), dtype=np.int64)
    return x, rng.integers(0, w["classes"], n).astype(np.int64)


def child(name, steps, epochs):
    import numpy as np
    import ckeras as keras
    from mpi4py import MPI
    strategy = keras.distribute.MPIDataParallel()
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[strategy.rank % len(cpus)]})     # one CPU per rank
    w = WORKLOADS[name]
    steps = steps or w["steps"]
    x, y = _data(w, steps)
    with strategy.scope():
        model = _model(w)
    times, shares = [], []

    class Timer(keras.callbacks.Callback):
        """Epoch times inside one fit() (not its one-off weight broadcast)."""

        def on_epoch_begin(self, epoch, logs=None):
            strategy.allreduce_seconds = 0.0
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            elapsed = time.perf_counter() - self.start
            if epoch:                                   # epoch 0 warms up
                times.append(elapsed / steps)
                shares.append(strategy.allreduce_seconds / elapsed)
    model.fit(x, y, batch_size=w["batch"], epochs=1 + epochs, verbose=0, callbacks=[Timer()])
    # The Allreduce alone, on a buffer of the gradient's size.
    n_params = sum(v.value.size for v in model.trainable_weights)
    buf = np.ones(n_params + 2, np.float32)
    reps = 10
    strategy.comm.Barrier()
    start = time.perf_counter()
    for _ in range(reps):
        strategy.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    t_ar = (time.perf_counter() - start) / reps
    # Every rank's numbers; rank 0 reports the slowest rank's step (they wait
    # for each other every step anyway).
    per_rank = strategy.comm.gather((float(np.median(times)), float(np.median(shares))), root=0)
    if strategy.rank == 0:
        step = max(t for t, _ in per_rank)
        print(json.dumps({"workload": name, "processes": strategy.size, "step_s": step,
                          "allreduce_share": float(np.mean([s for _, s in per_rank])),
                          "samples_per_s": w["batch"] / step, "params": int(n_params),
                          "allreduce_s": t_ar, "bytes": int(buf.nbytes),
                          "identical": strategy.replicas_identical(model)}))
    else:
        strategy.replicas_identical(model)


# ---- the parent -------------------------------------------------------------------

def launch(name, n, steps, epochs, timeout):
    sys.path.insert(0, os.path.join(ROOT, "tests", "distribute"))
    import mpirun
    argv = [os.path.abspath(__file__), "--child", name, "--epochs", str(epochs)]
    if steps:
        argv += ["--steps", str(steps)]
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = ROOT + (os.pathsep + env_path if env_path else "")
    proc = mpirun.run(n, argv, timeout)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"{name} at {n} processes failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=list(WORKLOADS), default=list(WORKLOADS))
    ap.add_argument("--processes", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--epochs", type=int, default=5, help="timed epochs (median)")
    ap.add_argument("--steps", type=int, default=None, help="steps per epoch")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--child", choices=list(WORKLOADS))
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.steps, args.epochs)
    print("| workload | processes | ms/step | allreduce share | samples/s | vs 1 process "
          "| gradient MB | allreduce ms (GB/s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.only:
        base = None
        for n in args.processes:
            r = launch(name, n, args.steps, args.epochs, args.timeout)
            if not r["identical"]:
                raise SystemExit(f"{name}: replicas diverged at {n} processes")
            base = base or r["samples_per_s"]
            gbs = r["bytes"] / r["allreduce_s"] / 1e9
            print(f"| {name} | {n} | {r['step_s'] * 1e3:.2f} | {r['allreduce_share']:.1%} "
                  f"| {r['samples_per_s']:.0f} | {r['samples_per_s'] / base:.2f}x "
                  f"| {r['bytes'] / 1e6:.1f} | {r['allreduce_s'] * 1e3:.2f} ({gbs:.2f}) |",
                  flush=True)


if __name__ == "__main__":
    main()
