"""Every benchmark in one command: writes benchmarks/RESULTS.md (+ .png chart, .json).

    pip install ".[bench]"                 # torch==2.13.0 (CPU), keras 3, jax, onnxruntime
    python benchmarks/run.py               # default sizes, resumable
    python benchmarks/run.py --python-peers /path/to/peers/bin/python   # peers in another venv
    python benchmarks/run.py --quick       # tiny sizes, 1 round: checks the plumbing only

What it measures, each framework (ckeras, PyTorch eager, Keras 3 on JAX) in
its own child process pinned to n CPUs (benchmarks/harness.py), children
interleaved over rounds, at 1 and 2 threads:

* the workloads W1-W6 (and W1-ops), each defined once in its own script
  (bench_mlp.py, bench_text.py, bench_rnn.py, bench_conv.py,
  bench_attention.py, bench_autodiff.py): train samples/s (W1 also predict
  and evaluate; every workload with --details), the first fit's overhead,
  peak RSS;
* fixed costs: a 20-32-2 MLP train step at batch 32, predict latency of 1 and
  1,024 samples, ``import`` time over ``import numpy``; ONNX Runtime as the
  predict anchor (W1 exported by hand from the ckeras model's weights);
* the machine: numpy float32 sgemm 1024^3 and copy bandwidth, and for each
  workload its floor: the train step's GEMMs timed with numpy at their own
  shapes plus the optimizer's bytes at the copy bandwidth.

Rounds are round-major (round 1 of every section, then round 2, ...); a
round after the first is left out if it would end past ``--budget`` minutes.
Each finished round of a (section, thread count) is cached in
benchmarks/.cache/run/ as JSON and reused by the next run with the same
settings and code, so an interrupted run resumes; ``--force`` re-measures.
Missing peers are reported as skipped; a failing child is reported in the
tables and the run goes on. ``--profile WID`` prints a cProfile of ckeras's
train epochs of one workload instead (see NOTES.md).
"""
import argparse
import datetime
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
import harness  # noqa: E402

FRAMEWORKS = ["ckeras", "pytorch", "keras-jax"]
PEERS = ["pytorch", "keras-jax"]
LABELS = {"ckeras": "ckeras", "pytorch": "PyTorch eager", "keras-jax": "Keras 3 (JAX)",
          "onnxruntime": "ONNX Runtime"}
# The module a framework child imports first: its import cost and RSS are
# counted before the workload, and a missing one means "skipped".
FRAMEWORK_MODULE = {"ckeras": "ckeras", "pytorch": "torch", "keras-jax": "keras",
                    "onnxruntime": "onnxruntime"}

# Workload -> (script, key in the script's WORKLOADS). The script defines the
# model, its data and one setup per framework; run.py only times them.
WORKLOADS = {
    "W1": ("bench_mlp", None),
    "W2": ("bench_text", "W2"),
    "W3": ("bench_text", "W3"),
    "W4": ("bench_rnn", "W4"),
    "W5": ("bench_conv", "W5"),
    "W6": ("bench_attention", "W6"),
    "W1-ops": ("bench_autodiff", None),
}
# A script's name for a framework where it is not the framework's own.
ALIASES = {"W1-ops": {"ckeras": "ckeras-ops"}}
TITLES = {
    "W1": "MLP 784-512-512-10, adam, batch 128",
    "W2": "Embedding(20000, 64) x 200 -> GAP -> 64 -> 1, adam, batch 32",
    "W3": "Embedding(10000, 128) x 20 -> GAP -> 256 -> 30000 softmax, adam, batch 256",
    "W4": "Embedding(10000, 64) x 100 -> LSTM(64) -> 1, adam, batch 64",
    "W5": "CNN 28x28x1 -> Conv 32 -> Pool -> Conv 64 -> Pool -> Dense 10",
    "W6": "Embedding(20000, 128) x 128 -> Transformer block -> GAP -> 2, adam, batch 32",
    "W1-ops": "W1 with its Dense layers a custom layer on ckeras.ops (the autodiff tape)",
}
# Bytes the optimizer moves per parameter and step (float32): Adam reads
# the parameter, gradient, m and v and writes parameter, m and v.
OPTIMIZER_BYTES = {"adam": 28, "adamw": 28, "nadam": 28, "adamax": 28, "rmsprop": 20,
                   "adagrad": 20, "sgd": 12, "sgd+momentum": 20}
TARGET_VS_PEER = 1.5
TARGET_FLOOR_SHARE = 0.85


# ============================================================================
# Child side: one framework, one section, one thread count (already pinned).
# ============================================================================

def median(values):
    return statistics.median(values)


def timed(fn, number=1):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def closure_vars(fn):
    """{name: value} of the variables ``fn`` closes over: how run.py reaches
    the model a script's setup built without the script exposing it."""
    names = getattr(getattr(fn, "__code__", None), "co_freevars", ())
    cells = getattr(fn, "__closure__", None) or ()
    out = {}
    for name, cell in zip(names, cells):
        try:
            out[name] = cell.cell_contents
        except ValueError:          # an empty cell
            pass
    return out


class Work:
    """A workload as one framework's child sees it."""

    def __init__(self, train, n_train, batch, predict=None, n_predict=None, x=None, y=None,
                 definition=""):
        self.train, self.n_train, self.batch = train, n_train, batch
        self.predict, self.n_predict = predict, n_predict or n_train
        self.x, self.y, self.definition = x, y, definition


def quick_size(w):
    """A workload dict shrunk to a couple of steps (--quick)."""
    return dict(w, steps=min(int(w.get("steps", 2)), 2))


def defined(wid, framework=None):
    """None if ``wid``'s script defines it (for ``framework``, if given),
    else why not; read from the script's source, so the parent starts no
    child (and imports no framework) to find out."""
    import ast
    script, key = WORKLOADS[wid]
    path = HERE / f"{script}.py"
    if not path.exists():
        return f"benchmarks/{script}.py does not exist yet"
    tree = ast.parse(path.read_text())
    names, setups = set(), None
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            keys = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
            targets = {getattr(t, "id", None) for t in node.targets}
            if "WORKLOADS" in targets:
                names |= keys
            if key in targets:                        # a module-level W6 = dict(...)
                names.add(key)
            if targets & {"FRAMEWORKS", "SETUPS"}:
                setups = keys
        elif (isinstance(node, ast.Assign) and key is not None
              and key in {getattr(t, "id", None) for t in node.targets}):
            names.add(key)
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
    if script == "bench_conv" and key not in names and "ckeras_model" in names:
        return ("bench_conv.py has no Keras twin yet" if framework == "keras-jax" else None)
    if key is not None and key not in names:
        return f"{script}.py defines no {wid} yet (no WORKLOADS[{key!r}])"
    name = ALIASES.get(wid, {}).get(framework, framework)
    if framework is not None and setups is not None and name not in setups:
        return f"{script}.py has no {framework} setup"
    return None


def load_work(wid, framework, quick):
    """Build workload ``wid`` for ``framework`` from its script. Returns a
    Work, or a str saying why it cannot (a skip, not an error)."""
    script, key = WORKLOADS[wid]
    if not (HERE / f"{script}.py").exists():
        return f"benchmarks/{script}.py does not exist yet"
    module = importlib.import_module(script)
    table = getattr(module, "WORKLOADS", None)
    if isinstance(table, dict) and key in table:
        w, where = table[key], f"{script}.WORKLOADS[{key!r}]"
    elif key is not None and isinstance(getattr(module, key, None), dict):
        w, where = getattr(module, key), f"{script}.{key}"      # bench_attention's W6
    else:
        w = None
    if w is not None:
        shown = ", ".join(f"{k}={v}" for k, v in w.items() if k != "title")
        smoke = getattr(module, "SMOKE", {}).get(key) if isinstance(
            getattr(module, "SMOKE", None), dict) else None
        w = (dict(smoke) if smoke else quick_size(w)) if quick else dict(w)
        setups = getattr(module, "FRAMEWORKS", None) or getattr(module, "SETUPS", {})
        setup = setups.get(framework)
        if setup is None:
            return f"{script}.py has no {framework} setup"
        if isinstance(setup, str):
            setup = getattr(module, setup)
        data = getattr(module, f"{key.lower()}_data", None) or module.data
        x, y = data(w)
        out = setup(w, x, y)
        train, predict = (out[0], out[1]) if isinstance(out, tuple) else (out, None)
        return Work(train, len(x), w["batch"], predict, len(x), x, y, f"`{where}`: {shown}")
    if script == "bench_autodiff":
        name = ALIASES.get(wid, {}).get(framework, framework)
        if name not in module.SETUPS:
            return f"{script}.py has no {framework} setup"
        n = module.SIZES["tiny" if quick else "full"]
        x, y = module.data(n)
        train, predict = module.SETUPS[name](x, y)
        return Work(train, n, module.BATCH, predict, n, x, y,
                    f"`bench_autodiff.py`: SETUPS[{name!r}], {n} samples an epoch, "
                    f"batch {module.BATCH}")
    if script == "bench_mlp":
        if quick:
            module.N_TRAIN = module.N_PREDICT = module.BATCH * 2
        x, y = module.data()
        train, predict, _ = module.SETUPS[framework](x, y)
        return Work(train, len(x), module.BATCH, predict, len(x), x, y,
                    f"`bench_mlp.py`: {module.N_TRAIN} samples an epoch, batch {module.BATCH}")
    if script == "bench_conv" and hasattr(module, "ckeras_model"):
        return _legacy_conv(module, framework, quick)
    return f"{script}.py defines no {wid} (no WORKLOADS[{key!r}])"


def _legacy_conv(module, framework, quick):
    """bench_conv.py before it had WORKLOADS: its single-batch CNN, timed as
    ``steps`` train_on_batch calls (no Keras twin there)."""
    steps = 2 if quick else 10
    x, y = module.make_data()
    note = (f"`bench_conv.py`'s CNN as it stands: batch {len(x)}, SGD(0.01), {steps} "
            "train_on_batch calls an epoch, no Keras twin — not yet the issue's W5 (Adam, "
            "batch 128)")
    if framework == "ckeras":
        model = module.ckeras_model()

        def train():
            for _ in range(steps):
                model.train_on_batch(x, y)
        return Work(train, steps * len(x), len(x), lambda: model.predict_on_batch(x), len(x),
                    x, y, note)
    if framework == "pytorch":
        import numpy as np
        import torch
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        tmodel, opt = module.torch_model(torch)
        tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        ty = torch.from_numpy(y.astype(np.int64))

        def train():
            for _ in range(steps):
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
                opt.step()

        def predict():
            with torch.no_grad():
                tmodel(tx)
        return Work(train, steps * len(x), len(x), predict, len(x), definition=note)
    return "bench_conv.py has no Keras twin yet"


def evaluator(work):
    """evaluate() over the training data, reached through the train
    callable's closure; None when the script's setup does not expose one."""
    env = closure_vars(work.train)
    model = env.get("model")
    if model is None or work.x is None:
        return None
    if hasattr(model, "evaluate"):          # ckeras and Keras
        x, y = env.get("x", work.x), env.get("y", work.y)
        return lambda: model.evaluate(x, y, batch_size=work.batch, verbose=0)
    loss_fn, tx, ty = env.get("loss_fn"), env.get("tx"), env.get("ty")
    if loss_fn is None or tx is None or ty is None:
        return None
    import torch
    bs = env.get("bs", work.batch)

    def evaluate():
        with torch.no_grad():
            for i in range(0, len(tx), bs):
                loss_fn(model(tx[i:i + bs]), ty[i:i + bs])
    return evaluate


def measure_workload(wid, framework, repeats, quick, details=False, floor=True):
    """The child's measurement of one workload: samples/s (medians over
    ``repeats`` epochs), first-fit overhead, peak RSS, and for ckeras the
    inputs of the floor (with ``floor``: the first round); predict and evaluate samples/s for W1, or for
    every workload with ``details`` (each costs Keras-JAX a compile)."""
    work = load_work(wid, framework, quick)
    if isinstance(work, str):
        return {"skipped": work}
    t_first = timed(work.train)                   # builds, compiles (JAX), allocates
    train_t = [timed(work.train) for _ in range(repeats)]
    out = {"train_samples_per_s": work.n_train / median(train_t),
           "train_spread": [work.n_train / t for t in (max(train_t), min(train_t))],
           "first_fit_overhead_s": t_first - median(train_t),
           "batch": work.batch, "definition": work.definition}
    for name, fn, n in (("predict", work.predict, work.n_predict),
                        ("evaluate", evaluator(work), work.n_train)):
        if fn is None or not (details or wid == "W1"):
            continue
        fn()
        out[f"{name}_samples_per_s"] = n / median([timed(fn) for _ in range(repeats)])
    out["rss_peak_mb"] = harness.peak_rss_mb()      # before the floor's own buffers
    if framework == "ckeras" and floor:
        model = closure_vars(work.train).get("model")
        if model is not None and work.x is not None:
            out["floor"] = floor_inputs(model, work.x[:work.batch], repeats)
    return out


# ---- the floor: FLOPs, GEMM shapes and optimizer bytes of a ckeras model ----

def _prod(values):
    out = 1
    for v in values:
        out *= int(v)
    return out


def _weight(layer, suffix):
    for w in getattr(layer, "weights", []):
        name = getattr(w, "name", "") or ""
        if name == suffix or name.endswith("/" + suffix):
            return w
    return None


def layer_gemms(layer, in_shape, out_shape, other_shapes=()):
    """The forward GEMMs of one layer as (M, K, N, count, batched), or None
    when the layer is not one we know (then its sublayers are counted).
    ``other_shapes``: the shapes of further inputs (attention's value).
    ``batched``: the ``count`` products are independent (one batched call);
    else they run one after another (a recurrence)."""
    kind = type(layer).__name__
    if kind in ("Embedding", "InputLayer") or not getattr(layer, "weights", None):
        return [] if kind in ("Embedding", "InputLayer") else None
    if kind in ("LSTM", "GRU", "SimpleRNN"):
        k, r = _weight(layer, "kernel"), _weight(layer, "recurrent_kernel")
        if k is None or r is None:
            return None
        b, t = in_shape[0], in_shape[1]
        return [(b * t, k.shape[0], k.shape[1], 1, True),
                (b, r.shape[0], r.shape[1], t, False)]
    if kind == "MultiHeadAttention":
        b, t, d = in_shape[0], in_shape[1], in_shape[-1]
        kv = other_shapes[0] if other_shapes else in_shape     # self-attention: value = query
        tk, dkv = kv[1], kv[-1]
        h, dk = int(layer.num_heads), int(layer.key_dim)
        dv = int(getattr(layer, "value_dim", None) or dk)
        return [(b * t, d, h * dk, 1, True), (b * tk, dkv, h * dk, 1, True),
                (b * tk, dkv, h * dv, 1, True), (b * t, h * dv, out_shape[-1], 1, True),
                (t, dk, tk, b * h, True), (t, tk, dv, b * h, True)]
    kernel = _weight(layer, "kernel")
    if kernel is None:        # a custom layer: its one 2-D weight fed by the input
        fits = [w for w in layer.weights if len(w.shape) == 2 and in_shape
                and w.shape[0] == in_shape[-1]]
        kernel = fits[0] if len(fits) == 1 else None
    if kernel is None or len(kernel.shape) < 2:
        return None
    if kind.startswith("Conv") and "Transpose" not in kind:
        groups = int(getattr(layer, "groups", 1) or 1)
        return [(_prod(out_shape[:-1]), _prod(kernel.shape[:-1]), kernel.shape[-1] // groups,
                 groups, True)]
    if len(kernel.shape) == 2:                    # Dense and its kin
        return [(_prod(in_shape[:-1]), kernel.shape[0], kernel.shape[1], 1, True)]
    return None


def _sublayers(layer):
    out = []
    for value in vars(layer).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        out += [v for v in items if hasattr(v, "forward") and hasattr(v, "weights")
                and v is not layer]
    return out


def record_gemms(model, xb):
    """Run ``model`` forward on one batch with every layer's ``forward``
    wrapped to see its shapes; returns [(M, K, N, count, batched, needs_dx)].
    ``needs_dx`` is False for the first layer fed the (float) model input.
    A layer with a rule (layer_gemms) counts for its sublayers; a wrapper
    without one (Bidirectional, a custom block) is counted through them."""
    import numpy as np
    calls, hooked = [], {}

    def hook(layer):
        if id(layer) in hooked:
            return
        real = layer.forward

        def forward(x, *args, **kwargs):
            y, back = real(x, *args, **kwargs)
            xs = list(x) if isinstance(x, (list, tuple)) else [x]
            first = not calls and np.issubdtype(np.asarray(xs[0]).dtype, np.floating)
            calls.append((layer, [np.shape(v) for v in xs],
                          np.shape(y[0] if isinstance(y, (list, tuple)) else y), first))
            return y, back
        layer.forward = forward
        hooked[id(layer)] = layer
        for sub in _sublayers(layer):
            hook(sub)

    for layer in model.layers:
        hook(layer)
    try:
        model.predict_on_batch(xb)
    finally:
        for layer in hooked.values():
            del layer.forward
    rules = {}
    for layer, in_shapes, out_shape, _ in calls:
        gemms = layer_gemms(layer, in_shapes[0], out_shape, in_shapes[1:])
        if gemms is not None:
            rules.setdefault(id(layer), []).append(gemms)
    inside = set()
    for layer, *_ in calls:
        if id(layer) in rules:
            for sub in _sublayers(layer):
                _descendants(sub, inside)
    out, seen = [], {}
    for layer, _, _, first in calls:
        if id(layer) not in rules or id(layer) in inside:
            continue
        k = seen.get(id(layer), 0)              # a shared layer: each call counts
        seen[id(layer)] = k + 1
        gemms = rules[id(layer)][k]
        out += [(*g, not (first and i == 0)) for i, g in enumerate(gemms)]
    return out


def _descendants(layer, found):
    if id(layer) in found:
        return
    found.add(id(layer))
    for sub in _sublayers(layer):
        _descendants(sub, found)


def train_flops(gemms):
    """FLOPs of one train step's GEMMs: forward, weight gradient and (unless
    not needed) input gradient, 2*M*K*N each."""
    return sum(2 * m * k * n * count * (3 if dx else 2) for m, k, n, count, _, dx in gemms)


def optimizer_key(optimizer):
    name = type(optimizer).__name__.lower()
    if name == "sgd" and float(getattr(optimizer, "momentum", 0) or 0):
        return "sgd+momentum"
    return name


def floor_inputs(model, xb, repeats):
    """What the parent needs for the floor, measured in this pinned child."""
    gemms = [g for g in record_gemms(model, xb) if g[0] * g[1] * g[2] > 0]
    # Repeated layers (a deduplicated model) give duplicate tuples: keep them all.
    params = int(sum(_prod(w.shape) for w in model.trainable_weights))
    opt = optimizer_key(model.optimizer)
    return {"flops": train_flops(gemms), "gemm_s": time_gemms(gemms, repeats),
            "gemms": [list(g) for g in gemms], "params": params, "optimizer": opt,
            "optimizer_bytes": params * OPTIMIZER_BYTES.get(opt, 28)}


def time_gemms(gemms, repeats, min_time=0.02):
    """Seconds numpy's float32 matmul takes for one train step's GEMMs at
    their own shapes: per forward GEMM X(M,K)W(K,N), also dW = X^T dY and
    (if needed) dX = dY W^T."""
    import numpy as np
    rng = np.random.default_rng(0)
    total = 0.0
    for m, k, n, count, batched, dx in gemms:
        lead = (count,) if batched and count > 1 else ()
        reps = 1 if lead else count
        x = rng.standard_normal(lead + (m, k), dtype=np.float32)
        w = rng.standard_normal(lead + (k, n), dtype=np.float32)
        dy = rng.standard_normal(lead + (m, n), dtype=np.float32)
        xt, wt = np.swapaxes(x, -1, -2), np.swapaxes(w, -1, -2)
        products = [(x, w), (xt, dy)] + ([(dy, wt)] if dx else [])
        for a, b in products:
            fn = (lambda a=a, b=b: np.matmul(a, b))
            fn()
            number = max(1, int(min_time / max(timed(fn), 1e-7)))
            total += reps * min(timed(fn, number) for _ in range(max(repeats, 3)))
    return total


# ---- the machine: sgemm and copy bandwidth ----

def measure_machine(repeats, quick):
    import numpy as np
    n = 512 if quick else 1024
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    a @ a
    t = min(timed(lambda: a @ a, 3) for _ in range(max(repeats, 3)))
    size = (4 if quick else 64) * 2 ** 20             # bytes per array (> any L3 here)
    src = np.ones(size // 4, np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    tc = min(timed(lambda: np.copyto(dst, src)) for _ in range(max(repeats, 5)))
    return {"sgemm_n": n, "sgemm_gflops": 2 * n ** 3 / t / 1e9,
            "copy_gbps": 2 * size / tc / 1e9, "versions": versions("ckeras"),
            "cpu": cpu_info()}


def cpu_info():
    model, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = [f for f in ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni",
                       "avx512_bf16", "amx_tile") if f in flags]
    return {"model": model, "isa": isa, "cpus": os.cpu_count(),
            "machine": os.uname().machine}


def versions(framework):
    import platform
    out = {"python": platform.python_version()}
    try:
        import numpy
        out["numpy"] = numpy.__version__
    except ImportError:
        pass
    if framework == "ckeras":
        import numpy
        import ckeras
        from ckeras import ops
        from ckeras.ops import blas
        ops.matmul(numpy.ones((2, 2), numpy.float32), numpy.ones((2, 2), numpy.float32))
        out["ckeras"] = getattr(ckeras, "__version__", "?")
        info = blas.blas_info()
        out["ckeras BLAS"] = f"{info.get('provider')} {info.get('version')}"
        missing = [k for k, v in ops.kernel_status().items() if v is not True]
        out["ckeras kernels"] = ("all compiled" if not missing else
                                 "NOT BUILT: " + ", ".join(missing) + " (numpy reference)")
    elif framework == "pytorch":
        import torch
        out["torch"] = torch.__version__
    elif framework == "keras-jax":
        import jax
        import keras
        out.update({"keras": keras.__version__, "keras backend": keras.backend.backend(),
                    "jax": jax.__version__})
    elif framework == "onnxruntime":
        import onnxruntime
        out["onnxruntime"] = onnxruntime.__version__
    return out


# ---- fixed costs ----

def tiny_step(framework):
    """One train step of a 20-32-2 MLP at batch 32 (adam, sparse CE)."""
    import numpy as np
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((32, 20)).astype(np.float32)
    ys = rng.integers(0, 2, 32).astype(np.int64)
    if framework in ("ckeras", "keras-jax"):
        keras = importlib.import_module("ckeras" if framework == "ckeras" else "keras")
        model = keras.Sequential([keras.Input(shape=(20,)),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return lambda: model.train_on_batch(xs, ys)
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    model = torch.nn.Sequential(torch.nn.Linear(20, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(xs), torch.from_numpy(ys)

    def step():
        opt.zero_grad()
        loss_fn(model(tx), ty).backward()
        opt.step()
    return step


def _latency_ms(fn, repeats, number):
    fn()
    fn()
    return 1e3 * median([timed(fn, number) for _ in range(repeats)])


def measure_fixed(framework, repeats, quick):
    """Tiny-MLP step and W1 predict latency (1 and 1,024 samples), in ms."""
    import bench_mlp
    number = 5 if quick else 100
    x, y = bench_mlp.data()
    out = {"tiny_step_ms": _latency_ms(tiny_step(framework), repeats, number)}
    _, predict1, one = bench_mlp.SETUPS[framework](x[:1], y[:1])
    out["predict_1_ms"] = _latency_ms(predict1, repeats, number)
    out["predict_on_batch_1_ms"] = _latency_ms(one, repeats, number)
    _, predict1024, _ = bench_mlp.SETUPS[framework](x[:1024], y[:1024])
    out["predict_1024_ms"] = _latency_ms(predict1024, repeats, max(1, number // 20))
    return out


def measure_onnx(repeats, quick):
    """ONNX Runtime predict latency for W1, the ckeras W1 model's Dense
    chain exported by hand (MatMul + Add + activation per layer)."""
    try:
        import onnx
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as err:
        return {"skipped": f"onnxruntime/onnx not installed ({err})"}
    import numpy as np
    import bench_mlp
    x, y = bench_mlp.data()
    _, _, one = bench_mlp.SETUPS["ckeras"](x[:1], y[:1])
    model = closure_vars(one)["model"]
    nodes, inits, prev = [], [], "x"
    for i, layer in enumerate(model.layers):
        kernel, bias = _weight(layer, "kernel"), _weight(layer, "bias")
        act = layer.get_config().get("activation")
        inits += [numpy_helper.from_array(np.asarray(kernel.numpy()), f"w{i}"),
                  numpy_helper.from_array(np.asarray(bias.numpy()), f"b{i}")]
        nodes += [helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"])]
        op = {"relu": "Relu", "softmax": "Softmax", "linear": None}[act]
        prev = f"a{i}"
        if op:
            nodes.append(helper.make_node(op, [prev], [f"h{i}"], **({"axis": -1}
                                                                     if op == "Softmax" else {})))
            prev = f"h{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(nodes, "w1", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["n", 784])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, ["n", 10])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(proto)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(proto.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    want = model.predict_on_batch(x[:4])
    got = sess.run(None, {"x": x[:4]})[0]
    if not np.allclose(got, want, atol=1e-4):
        return {"error": "the hand-exported ONNX model disagrees with ckeras's predict"}
    number = 5 if quick else 100
    x1, x1024, bs = x[:1], x[:1024], bench_mlp.BATCH

    def predict1024():
        for i in range(0, len(x1024), bs):
            sess.run(None, {"x": x1024[i:i + bs]})
    return {"predict_1_ms": _latency_ms(lambda: sess.run(None, {"x": x1}), repeats, number),
            "predict_on_batch_1_ms": None,
            "predict_1024_ms": _latency_ms(predict1024, repeats, max(1, number // 20)),
            "tiny_step_ms": None}


def child_main(section, framework, repeats, quick, details=False, floor=True):
    """Entry point of a child: the framework is imported first (its cost and
    RSS before the workload are reported separately); one JSON line out."""
    import warnings
    warnings.filterwarnings("ignore")
    if section != "machine":
        try:
            importlib.import_module(FRAMEWORK_MODULE[framework])
        except ImportError as err:
            return {"skipped": f"{FRAMEWORK_MODULE[framework]} is not installed ({err})"}
    rss_import = harness.peak_rss_mb()
    if section == "machine":
        out = measure_machine(repeats, quick)
    elif section == "fixed":
        out = measure_fixed(framework, repeats, quick)
    elif section == "onnx":
        out = measure_onnx(repeats, quick)
    else:
        out = measure_workload(section, framework, repeats, quick, details, floor)
    if "skipped" not in out:
        out["rss_import_mb"] = rss_import
        out.setdefault("rss_peak_mb", harness.peak_rss_mb())
        if section != "machine":
            out["versions"] = versions(framework)
    return out


# ============================================================================
# Parent side: schedule children, cache, aggregate.
# ============================================================================

class Cache:
    """One JSON file per (section, threads); reused only when the settings
    that produced it match (``config``) and, with ``force``, only if this
    run wrote it."""

    def __init__(self, folder, config, force=False):
        self.folder, self.config, self.force = Path(folder), config, force
        self.written = set()           # keys put by this run: --force spares them

    def path(self, key):
        return self.folder / f"{key}.json"

    def get(self, key):
        if (self.force and key not in self.written) or not self.path(key).exists():
            return None
        try:
            saved = json.loads(self.path(key).read_text())
        except ValueError:
            return None
        return saved["result"] if saved.get("config") == self.config else None

    def put(self, key, result):
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder.parent / ".gitignore"
        if self.folder.parent.name == ".cache" and not ignore.exists():
            ignore.write_text("*\n")
        tmp = self.path(key).with_suffix(".tmp")
        tmp.write_text(json.dumps({"config": self.config, "result": result}, indent=1))
        tmp.replace(self.path(key))           # a killed run leaves no half file
        self.written.add(key)


def aggregate(runs):
    """{framework: [per-round child result]} -> {framework: medians over
    rounds of every numeric field, or {'skipped'|'error': why}}."""
    out = {}
    for name, results in runs.items():
        if not results:
            continue
        bad = [r for r in results if "skipped" in r or "error" in r]
        if bad:
            out[name] = {k: bad[0][k] for k in ("skipped", "error") if k in bad[0]}
            continue
        agg = {}
        for key in results[0]:
            values = [r.get(key) for r in results]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                agg[key] = median(values)
                if key == "train_samples_per_s":
                    agg["train_rounds"] = values
            else:
                agg[key] = values[0]
        if "train_spread" in results[0]:
            agg["train_spread"] = [min(r["train_spread"][0] for r in results),
                                   max(r["train_spread"][1] for r in results)]
        out[name] = agg
    return out


def ratios(result, metric="train_samples_per_s"):
    """ckeras's ``metric`` over the best peer's and over PyTorch's (None
    where a side is missing)."""
    ck = result.get("ckeras", {}).get(metric)
    peers = {p: result.get(p, {}).get(metric) for p in PEERS}
    peers = {p: v for p, v in peers.items() if v}
    best = max(peers.values()) if peers else None
    return {"vs_best": ck / best if ck and best else None,
            "best_peer": max(peers, key=peers.get) if peers else None,
            "vs_pytorch": ck / peers["pytorch"] if ck and peers.get("pytorch") else None}


def floor_of(floor, machine, batch):
    """The floor of a train step: its GEMMs at their own shapes plus the
    optimizer's bytes at the copy bandwidth. Returns seconds per step,
    samples/s and the GEMMs' GFLOP/s (and the same floor at the 1024^3 rate)."""
    bw = machine["copy_gbps"] * 1e9
    opt_s = floor["optimizer_bytes"] / bw
    step = floor["gemm_s"] + opt_s
    at_peak = floor["flops"] / (machine["sgemm_gflops"] * 1e9) + opt_s
    return {"step_s": step, "samples_per_s": batch / step,
            "gemm_gflops": floor["flops"] / floor["gemm_s"] / 1e9 if floor["gemm_s"] else None,
            "optimizer_s": opt_s, "peak_samples_per_s": batch / at_peak}


def fmt(value, kind="rate"):
    """Table cell text for a number (None -> '-')."""
    if value is None:
        return "-"
    if kind == "rate":
        return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"
    if kind == "ratio":
        return f"{value:.2f}x"
    if kind == "ms":
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if kind == "pct":
        return f"{100 * value:.0f} %"
    if kind == "mb":
        return f"{value:,.0f}"
    return str(value)


def table(header, rows):
    """A GitHub-markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def cell(result, framework, key, kind="rate"):
    r = result.get(framework)
    if r is None:
        return "-"
    if "skipped" in r:
        return "skipped"
    if "error" in r:
        return "failed"
    return fmt(r.get(key), kind)


class Runner:
    """Runs rounds of sections, each round one child per framework (order
    rotated by round), caching every finished round so a run resumes."""

    def __init__(self, args, cache):
        self.args, self.cache = args, cache
        self.start = time.time()
        self.pythons = {"ckeras": sys.executable, "pytorch": args.python_peers,
                        "keras-jax": args.python_peers, "onnxruntime": sys.executable,
                        "machine": sys.executable}

    def state(self, section, names, threads):
        """{'runs': {framework: [child result per round]}, 'seconds': [per round]}."""
        return self.cache.get(f"{section}-t{threads}") or {
            "runs": {name: [] for name in names}, "seconds": []}

    def one_round(self, section, names, threads):
        state = self.state(section, names, threads)
        r = len(state["seconds"])
        argv = [__file__, "--child", section, None, "--repeats", str(self.args.repeats)] + (
            ["--quick"] if self.args.quick else []) + (["--details"] if self.args.details else [])
        t_round = time.time()
        for name in names[r % len(names):] + names[:r % len(names)]:
            runs = state["runs"].setdefault(name, [])
            if any("skipped" in res for res in runs):
                continue                              # a missing peer stays missing
            argv[3] = name
            t0 = time.time()
            why = defined(section, name) if section in WORKLOADS else None
            res = {"skipped": why} if why else harness.try_child_at(
                threads, argv + (["--floor"] if r == 0 else []), python=self.pythons[name],
                timeout=self.args.child_timeout)
            flag = next((f" ({k})" for k in ("skipped", "error") if k in res), "")
            log(f"  {section} {name} {threads}t round {r + 1}: {time.time() - t0:.1f} s{flag} "
                f"(run so far {(time.time() - self.start) / 60:.1f} min)")
            runs.append(res)
        state["seconds"].append(time.time() - t_round)
        self.cache.put(f"{section}-t{threads}", state)
        return state

    def imports(self):
        cached = self.cache.get("import")
        if cached is not None:
            return cached
        n = 1 if self.args.quick else 3
        out = {}
        for fw in FRAMEWORKS:
            out[fw] = import_overhead(self.pythons[fw], FRAMEWORK_MODULE[fw], n)
        self.cache.put("import", out)
        return out


def schedule(runner, plan, budget_s=None):
    """Run ``plan`` ([(section, names, threads, rounds wanted)]) round-major:
    round 1 of every section, then round 2 of every section, ... so each
    section's rounds are spread over the whole run. Round 1 always runs;
    a later round only if the run so far plus that section's mean round
    time fits ``budget_s``. Returns {(section, threads): state}."""
    states = {}
    for r in range(max((want for *_, want in plan), default=0)):
        for section, names, threads, want in plan:
            state = runner.state(section, names, threads)
            states[section, threads] = state
            if r >= want or len(state["seconds"]) > r:
                continue
            if r and budget_s is not None:
                projected = time.time() - runner.start + statistics.mean(state["seconds"])
                if projected > budget_s:
                    log(f"{section}-t{threads}: round {r + 1} left out "
                        f"(would end at {projected / 60:.1f} min, budget {budget_s / 60:.0f})")
                    continue
            states[section, threads] = runner.one_round(section, names, threads)
    return states


def import_overhead(python, module, n):
    """Median seconds of ``import module`` minus ``import numpy``, each in a
    fresh interpreter pinned to one CPU."""
    code = "import time; t=time.perf_counter(); import {m}; print(time.perf_counter()-t)"
    env = harness.thread_env(1)

    def once(m):
        out = subprocess.run([python, "-c", code.format(m=m)], capture_output=True, text=True,
                             env=env, preexec_fn=lambda: os.sched_setaffinity(0, {min(
                                 os.sched_getaffinity(0))}))
        if out.returncode:
            raise ImportError(out.stderr.strip().splitlines()[-1] if out.stderr else m)
        return float(out.stdout.strip().splitlines()[-1])
    try:
        np_t = median([once("numpy") for _ in range(n)])
        mod_t = median([once(module) for _ in range(n)])
    except (ImportError, OSError, ValueError) as err:
        return {"skipped": str(err)}
    return {"numpy_s": np_t, "import_s": mod_t, "over_numpy_s": mod_t - np_t}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def git_commit():
    """The commit, plus a hash of uncommitted changes to the code measured
    (not of RESULTS.* or the cache, so a resumed run still matches)."""
    import hashlib

    def git(*argv):
        return subprocess.run(["git", "-C", str(HERE.parent), *argv], capture_output=True,
                              text=True, check=True).stdout
    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        paths = ["ckeras", "csrc", "setup.py", "pyproject.toml", "benchmarks/*.py"]
        changes = git("diff", "HEAD", "--", *paths) + git(
            "ls-files", "--others", "--exclude-standard", "--", *paths)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not changes:
        return head
    return f"{head}+dirty.{hashlib.sha1(changes.encode()).hexdigest()[:8]}"


# ============================================================================
# Report
# ============================================================================

def render(results, meta):
    """RESULTS.md text from the aggregated results."""
    threads = meta["threads"]
    machine = {n: results["machine"][n] for n in threads}
    m0 = machine[threads[0]].get("machine", {})
    cpu = m0.get("cpu", {})
    vers = {}
    for sec in results.values():
        for per_t in sec.values():
            for r in (per_t.values() if isinstance(per_t, dict) else []):
                if isinstance(r, dict):
                    vers.update(r.get("versions") or {})
    vers.update(m0.get("versions") or {})
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{meta['command']}` on {meta['date']} (UTC) at commit "
        f"{meta['commit']}; the run took {meta['duration_min']:.1f} min"
        + (" — **quick mode: tiny sizes, 1 round; the numbers mean nothing**"
           if meta["quick"] else "") + ".",
        "",
        "Reproduce: `pip install \".[bench]\"` then `python benchmarks/run.py` (add "
        "`--python-peers PATH` to run the peers in another venv, `--force` to re-measure "
        "cached sections).",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {cpu.get('model', '?')} ({cpu.get('machine', '?')}), {cpu.get('cpus', '?')} "
        f"CPUs; ISA: {', '.join(cpu.get('isa', [])) or '?'}"
        + ("; no AVX-512" if cpu and "avx512f" not in cpu.get("isa", []) else ""),
        "- " + "; ".join(f"{k} {v}" for k, v in sorted(vers.items())),
        "- numpy float32 sgemm: " + ", ".join(
            f"{machine[n]['machine'].get('sgemm_gflops', 0):.1f} GFLOP/s at {n} thread(s)"
            for n in threads if "machine" in machine[n]) + f" ({m0.get('sgemm_n', 1024)}^3); "
        "copy bandwidth: " + ", ".join(
            f"{machine[n]['machine'].get('copy_gbps', 0):.1f} GB/s at {n} thread(s)"
            for n in threads if "machine" in machine[n]) + " (numpy copy, read + write bytes).",
        "",
        "## Protocol",
        "",
        f"- Each framework runs in its own child process pinned to n CPUs (n = "
        f"{', '.join(map(str, threads))}) with OMP/OpenBLAS/MKL/XLA threads and "
        "`torch.set_num_threads` set to n. Children are interleaved: round 1 of every "
        "section, then round 2 of every section, ..., the framework order rotated each "
        f"round; up to {meta['rounds']} round(s)"
        + (f", rounds after the first only while the run stays within "
           f"{meta['budget_min']:g} minutes" if meta.get("budget_min") is not None else "")
        + f" (rounds done: {rounds_text(meta)}). Each child times {meta['repeats']} "
        "epoch(s) after a warm-up one. Tables give the median over rounds of each child's "
        "median; the spread is the slowest and fastest epoch seen.",
        "- Train samples/s: one `fit()` epoch of the workload's data (PyTorch: the same "
        "batches in an eager loop with the same optimizer). Predict and evaluate (W1): the "
        "same data at the same batch size. First-fit overhead: the first epoch's time minus "
        "the median of the later ones (build, compile, first allocations).",
        "- Peak RSS: `resource.getrusage` in each child after its measurements (includes "
        "the framework's import, shown apart).",
        "- Floor: the train step's GEMMs (forward, weight gradient, input gradient where "
        "needed) timed with numpy float32 matmul at their own shapes in the same ckeras "
        "child, plus the optimizer's bytes (Adam: 28 per parameter) at the measured copy "
        "bandwidth. Elementwise work, losses and framework overhead are not in the floor.",
        f"- Targets (issue #18): ckeras >= {TARGET_VS_PEER}x the best peer, or >= "
        f"{100 * TARGET_FLOOR_SHARE:.0f} % of the floor; predict(1) <= 0.3 ms; tiny step "
        "<= 0.3 ms; first fit <= 50 ms beyond compute; import <= 0.25 s over numpy; peak "
        "RSS <= half of PyTorch's.",
        "",
        "## Summary: train samples/s",
        "",
    ]
    rows = []
    for wid in meta["workloads"]:
        for n in threads:
            res = results.get(wid, {}).get(n)
            if not res:
                continue
            q = ratios(res)
            fl = floor_row(res, machine[n].get("machine"))
            rows.append([wid, n] + [cell(res, fw, "train_samples_per_s") for fw in FRAMEWORKS]
                        + [fmt(q["vs_best"], "ratio"), fmt(q["vs_pytorch"], "ratio"),
                           fmt(fl and fl["samples_per_s"]),
                           fmt(fl and fl["share"], "pct")])
    lines += [table(["workload", "threads"] + [LABELS[f] for f in FRAMEWORKS]
                    + ["vs best peer", "vs PyTorch", "floor", "ckeras share of floor"], rows), ""]
    lines += [f"![ckeras train samples/s over the best peer and PyTorch]"
              f"({meta.get('chart', 'RESULTS.png')})", ""]
    for wid in meta["workloads"]:
        lines += render_workload(wid, results.get(wid, {}), machine, threads)
    lines += render_fixed(results, threads)
    lines += render_rss(results, meta["workloads"], threads)
    return "\n".join(lines) + "\n"


def rounds_text(meta):
    done = meta.get("rounds_done") or {}
    counts = sorted(set(done.values()))
    if len(counts) <= 1:
        return f"{counts[0] if counts else 0} for every section"
    return ", ".join(f"{k} {v}" for k, v in sorted(done.items()))


def floor_row(res, machine):
    fl = res.get("ckeras", {}).get("floor")
    if not fl or not machine or not fl.get("gemm_s"):
        return None
    out = floor_of(fl, machine, res["ckeras"]["batch"])
    out["share"] = res["ckeras"]["train_samples_per_s"] / out["samples_per_s"]
    return out


def render_workload(wid, per_t, machine, threads):
    lines = [f"## {wid}: {TITLES.get(wid, '')}", ""]
    if not per_t:
        return lines + ["Not measured.", ""]
    notes = set()
    rows = []
    for n in threads:
        res = per_t.get(n)
        if not res:
            continue
        q = ratios(res)
        for fw in FRAMEWORKS:
            r = res.get(fw, {})
            if "skipped" in r or "error" in r:
                notes.add(f"{LABELS[fw]}: {'skipped' if 'skipped' in r else 'failed'} — "
                          f"{(r.get('skipped') or r.get('error')).splitlines()[-1][:300]}")
            sp = r.get("train_spread")
            rows.append([n, LABELS[fw], cell(res, fw, "train_samples_per_s"),
                         f"{fmt(sp[0])}–{fmt(sp[1])}" if sp else "-",
                         cell(res, fw, "predict_samples_per_s"),
                         cell(res, fw, "evaluate_samples_per_s"),
                         fmt(1e3 * r["first_fit_overhead_s"], "ms")
                         if "first_fit_overhead_s" in r else "-",
                         fmt(q["vs_best"], "ratio") if fw == "ckeras" else "",
                         fmt(q["vs_pytorch"], "ratio") if fw == "ckeras" else ""])
    lines += [table(["threads", "framework", "train/s", "spread", "predict/s", "evaluate/s",
                     "first-fit overhead (ms)", "vs best peer", "vs PyTorch"], rows), ""]
    shown = {r.get("definition") for res in per_t.values() for r in res.values()
             if r.get("definition")}
    lines += [f"- Definition: {d}" for d in sorted(shown)]
    for n in threads:
        res = per_t.get(n) or {}
        fl = res.get("ckeras", {}).get("floor")
        out = floor_row(res, machine[n].get("machine"))
        if fl and out:
            lines.append(
                f"- Floor at {n} thread(s): {fl['flops'] / 1e6:,.1f} MFLOP per step in "
                f"{len(fl['gemms'])} GEMM shapes, {1e3 * fl['gemm_s']:.2f} ms with numpy "
                f"({fmt(out['gemm_gflops'])} GFLOP/s at these shapes), + {fl['params']:,} "
                f"parameters x {fl['optimizer']} = {fl['optimizer_bytes'] / 1e6:.1f} MB in "
                f"{1e3 * out['optimizer_s']:.2f} ms: {fmt(out['samples_per_s'])} samples/s "
                f"(at the 1024^3 rate: {fmt(out['peak_samples_per_s'])}); ckeras reaches "
                f"{fmt(out['share'], 'pct')}.")
    lines += [f"- {note}" for note in sorted(notes)]
    return lines + [""]


FIXED_ROWS = [("tiny_step_ms", "tiny MLP 20-32-2 train step, batch 32 (ms)", 0.3),
              ("predict_1_ms", "W1 `predict(x[:1])` (ms)", 0.3),
              ("predict_on_batch_1_ms", "W1 `predict_on_batch(x[:1])` / forward (ms)", None),
              ("predict_1024_ms", "W1 predict 1,024 samples, batch 128 (ms)", None)]


def render_fixed(results, threads):
    names = FRAMEWORKS + ["onnxruntime"]
    rows = []
    for n in threads:
        res = dict(results.get("fixed", {}).get(n, {}))
        res.update(results.get("onnx", {}).get(n, {}))
        for key, label, target in FIXED_ROWS:
            rows.append([label, n] + [cell(res, fw, key, "ms") for fw in names]
                        + [f"<= {target}" if target else ""])
        w1 = results.get("W1", {}).get(n, {})
        rows.append(["W1 first-fit overhead (ms)", n]
                    + [fmt(1e3 * w1[fw]["first_fit_overhead_s"], "ms")
                       if "first_fit_overhead_s" in w1.get(fw, {}) else "-" for fw in FRAMEWORKS]
                    + ["", "<= 50"])
        rows.append(["W1 evaluate (samples/s)", n]
                    + [cell(w1, fw, "evaluate_samples_per_s") for fw in FRAMEWORKS] + ["", ""])
    imp = results.get("import", {})
    rows.append(["`import` over `import numpy` (s), fresh interpreter", 1]
                + [f"{imp[fw]['over_numpy_s']:.3f}" if "over_numpy_s" in imp.get(fw, {})
                   else "skipped" for fw in FRAMEWORKS] + ["", "<= 0.25"])
    lines = ["## Fixed costs", "",
             table(["metric", "threads"] + [LABELS[f] for f in names] + ["target"], rows), ""]
    onnx = [results.get("onnx", {}).get(n, {}).get("onnxruntime", {}) for n in threads]
    why = next((o.get("skipped") or o.get("error") for o in onnx
                if "skipped" in o or "error" in o), None)
    lines.append("- ONNX Runtime: " + (
        f"not measured — {why}." if why else
        "the W1 model exported by hand (MatMul + Add + activation per Dense, from the ckeras "
        "model's weights, checked against its predict), `InferenceSession.run` per call; "
        "torch.onnx.export needs the `onnx` package next to torch, which the peers' venv "
        "may not have."))
    return lines + [""]


def render_rss(results, workloads, threads):
    rows = []
    for wid in workloads:
        for n in threads:
            res = results.get(wid, {}).get(n)
            if not res:
                continue
            ck, pt = res.get("ckeras", {}).get("rss_peak_mb"), res.get("pytorch", {}).get(
                "rss_peak_mb")
            rows.append([wid, n] + [
                f"{fmt(res[fw]['rss_peak_mb'], 'mb')} ({fmt(res[fw]['rss_import_mb'], 'mb')})"
                if "rss_peak_mb" in res.get(fw, {}) else cell(res, fw, "rss_peak_mb")
                for fw in FRAMEWORKS] + [fmt(ck / pt, "ratio") if ck and pt else "-"])
    return ["## Peak RSS (MB; after the framework's import in parentheses)", "",
            table(["workload", "threads"] + [LABELS[f] for f in FRAMEWORKS]
                  + ["ckeras / PyTorch (target <= 0.50x)"], rows), ""]


def chart(results, meta, path):
    """Bars of ckeras's train samples/s over the best peer and over PyTorch,
    per workload and thread count."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no chart")
        return False
    labels, best, torch = [], [], []
    for wid in meta["workloads"]:
        for n in meta["threads"]:
            res = results.get(wid, {}).get(n)
            if not res:
                continue
            q = ratios(res)
            if q["vs_best"] is None and q["vs_pytorch"] is None:
                continue                          # not measured: no bar at 0
            labels.append(f"{wid}\n{n}t")
            best.append(q["vs_best"] or 0)
            torch.append(q["vs_pytorch"] or 0)
    if not labels:
        log("no ratios to chart")
        return False
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(labels) + 2), 4))
    xs = range(len(labels))
    for shift, values, label in ((-0.2, best, "vs best peer"), (0.2, torch, "vs PyTorch eager")):
        bars = ax.bar([x + shift for x in xs], values, 0.4, label=label)
        ax.bar_label(bars, [f"{v:.2f}" if v else "" for v in values], fontsize=7)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axhline(TARGET_VS_PEER, color="tab:red", lw=0.8, ls="--", label=f"target {TARGET_VS_PEER}x")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("ckeras train samples/s ratio")
    ax.set_title("ckeras vs peers" + (" (quick mode: meaningless)" if meta["quick"] else ""))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ============================================================================

def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--python-peers", default=sys.executable,
                   help="interpreter for PyTorch and Keras-JAX (default: this one)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=None,
                   help="children per framework and section, at most (3)")
    p.add_argument("--budget", type=float, default=15.0,
                   help="minutes: rounds after the first are left out past this (default 15)")
    p.add_argument("--repeats", type=int, default=None, help="timed epochs per child (2)")
    p.add_argument("--only", nargs="+", default=None,
                   help="sections to run: W1..W6 fixed onnx import (default: all)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 1 round (plumbing check)")
    p.add_argument("--force", action="store_true", help="re-measure cached sections")
    p.add_argument("--details", action="store_true",
                   help="predict and evaluate samples/s for every workload, not only W1")
    p.add_argument("--cache", default=str(HERE / ".cache" / "run"))
    p.add_argument("--out", default=str(HERE / "RESULTS.md"))
    p.add_argument("--child-timeout", type=float, default=600)
    p.add_argument("--profile", metavar="WORKLOAD",
                   help="print a cProfile of ckeras's train epochs of one workload and stop")
    p.add_argument("--child", nargs=2, metavar=("SECTION", "FRAMEWORK"), help=argparse.SUPPRESS)
    p.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.repeats is None:
        args.repeats = 1 if args.quick else 2
    return args


def profile(wid, args, top=25):
    """cProfile of ckeras's ``wid`` train epochs on 1 pinned CPU: where the
    step time goes (for NOTES.md; the absolute times under load mean little)."""
    import cProfile
    import pstats
    with harness.at_threads(1):
        work = load_work(wid, "ckeras", args.quick)
        if isinstance(work, str):
            raise SystemExit(work)
        work.train()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.repeats):
            work.train()
        prof.disable()
    steps = args.repeats * work.n_train / work.batch
    print(f"{wid}: {steps:.0f} train steps profiled; times are per run of {args.repeats} "
          f"epoch(s)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main(argv=None):
    args = parse(argv)
    if args.profile:
        profile(args.profile, args)
        return 0
    if args.child:
        print(json.dumps(child_main(args.child[0], args.child[1], args.repeats, args.quick,
                                    args.details, args.floor)))
        return 0
    start = time.time()
    sections = args.only or list(WORKLOADS) + ["fixed", "onnx", "import"]
    workloads = [w for w in WORKLOADS if w in sections]
    config = {"quick": args.quick, "repeats": args.repeats, "details": args.details,
              "python": sys.executable, "python_peers": args.python_peers,
              "commit": git_commit()}
    runner = Runner(args, Cache(args.cache, config, args.force))
    results = {}
    if "import" in sections:
        results["import"] = runner.imports()
    plan = [("machine", ["machine"], n, 1) for n in args.threads]
    skipped = {}
    for wid in workloads:
        why = defined(wid)
        if why:
            log(f"{wid}: skipped, {why}")
            skipped[wid] = {n: {fw: {"skipped": why} for fw in FRAMEWORKS} for n in args.threads}
        else:
            plan += [(wid, FRAMEWORKS, n, args.rounds) for n in args.threads]
    plan += [(sec, names, n, args.rounds) for sec, names in
             (("fixed", FRAMEWORKS), ("onnx", ["onnxruntime"])) if sec in sections
             for n in args.threads]
    states = schedule(runner, plan, None if args.budget is None else args.budget * 60)
    rounds_done = {}
    for (section, n), state in states.items():
        results.setdefault(section, {})[n] = aggregate(state["runs"])
        rounds_done[f"{section}-t{n}"] = len(state["seconds"])
    results.update(skipped)
    meta = {"threads": args.threads, "workloads": workloads, "quick": args.quick,
            "rounds": args.rounds, "repeats": args.repeats, "commit": config["commit"],
            "budget_min": args.budget, "rounds_done": rounds_done,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "duration_min": (time.time() - start) / 60, "chart": Path(args.out).stem + ".png",
            "command": "python benchmarks/run.py" + "".join(
                f" {a}" for a in (argv if argv is not None else sys.argv[1:]))}
    out = Path(args.out)
    out.write_text(render(results, meta))
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results},
                                                   indent=1) + "\n")
    chart(results, meta, out.with_suffix(".png"))
    log(f"wrote {out} ({meta['duration_min']:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
