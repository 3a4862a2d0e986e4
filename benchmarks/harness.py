"""Shared timing helper for ckeras benchmarks.

The machine is shared and noisy, so:
  * candidates are timed *interleaved* (round-robin, order rotated each
    round), so a slow spell hits all of them alike;
  * each sample runs a calibrated number of calls (>= ~``min_sample`` s);
  * we report the median per call and ratios against a baseline.
Thread counts are set with ckeras's own ``num_threads`` (our OpenMP kernels
and, through threadpoolctl, numpy's and scipy's BLAS pools).

    from harness import compare, report, thread_counts
    for n in thread_counts():
        with at_threads(n):
            res = compare({"numpy": f_np, "ckeras": f_ck}, repeats=9)
        report(f"op ({n} thr)", res, baseline="numpy")
"""
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# benchmarks run from a checkout: make `import ckeras` work without installing
# (but never let the checkout's uncompiled sources shadow an installed ckeras)
_ROOT = Path(__file__).resolve().parent.parent
_USE_CHECKOUT = importlib.util.find_spec("ckeras") is None
if _USE_CHECKOUT and str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))


def thread_counts(max_threads=2):
    """The thread counts to report: 1 and 2 (capped by the CPUs we may use)."""
    from ckeras.ops import threads
    n = threads.effective_n_threads()
    return [t for t in (1, 2) if t <= max(n, 1) and t <= max_threads] or [1]


@contextlib.contextmanager
def at_threads(n):
    """Run ckeras kernels and both BLAS pools on ``n`` threads, with the
    process pinned to ``n`` CPUs so peers that ignore thread settings
    cannot use more."""
    from ckeras.ops import threads
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, pinned_cpus(n))
    try:
        with threads.num_threads(n):
            yield n
    finally:
        os.sched_setaffinity(0, before)


def pinned_cpus(n):
    """The first ``n`` CPUs this process may run on."""
    allowed = sorted(os.sched_getaffinity(0))
    if n > len(allowed):
        raise SystemExit(f"asked for {n} threads but only CPUs {allowed} are available")
    return set(allowed[:n])


def thread_env(n):
    """Environment for a child measuring every framework at ``n`` threads."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(n)
    env["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'true' if n > 1 else 'false'} "
                        f"intra_op_parallelism_threads={n}")
    env["KERAS_BACKEND"] = "jax"
    env["JAX_PLATFORMS"] = "cpu"
    if _USE_CHECKOUT:
        env.setdefault("PYTHONPATH", str(_ROOT))
    return env


def run_child_at(n, argv, python=None):
    """Run ``python argv...`` (``python``: this interpreter unless given) with
    ``n`` threads *and* pinned to ``n`` CPUs; returns the JSON object its last
    stdout line holds.

    Thread-count settings alone are not enough: XLA (Keras-JAX) ignores them
    and still runs its GEMMs on every core (seen: 134 GFLOP/s "at 1 thread"
    on a core that peaks near 95), so a 1-thread comparison without pinning
    measures JAX on two cores against the others on one."""
    cpus = pinned_cpus(n)
    out = subprocess.run([python or sys.executable, *argv], env=thread_env(n), capture_output=True,
                         text=True, preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"benchmark child failed at {n} thread(s)")
    sys.stderr.write(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved_children(threads, names, rounds, argv_for):
    """Run one child per name and round (``run_child_at(threads,
    argv_for(name, round))``), rotating the order each round so a slow
    spell on the machine hits every name alike. Returns {name: [result per
    round]}.

    One process per framework, not all in one: frameworks sharing a process
    disturb each other's threads (see bench_mlp.measure_all)."""
    runs = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            runs[name].append(run_child_at(threads, argv_for(name, r)))
    return runs


CLOCKS = {
    "wall": time.perf_counter,
    # CPU time of the process: immune to being descheduled on a busy machine,
    # but it sums over threads, so only compare 1-thread runs with it.
    "cpu": time.process_time,
}


def _calibrate(fn, min_sample, clock):
    fn()                                     # warm up (lazy imports, caches)
    t0 = clock()
    fn()
    dt = clock() - t0
    return max(1, int(min_sample / max(dt, 1e-7)))


def compare(fns, repeats=9, min_sample=0.02, clock="wall"):
    """Time each callable in ``fns`` ({name: fn}) interleaved.

    Returns {name: {"median": s/call, "min": s/call, "samples": [...], "number": k}}."""
    tick = CLOCKS[clock]
    names = list(fns)
    numbers = {name: _calibrate(fns[name], min_sample, tick) for name in names}
    samples = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            fn, k = fns[name], numbers[name]
            t0 = tick()
            for _ in range(k):
                fn()
            samples[name].append((tick() - t0) / k)
    return {name: {"median": statistics.median(s), "min": min(s), "samples": s,
                   "number": numbers[name], "clock": clock} for name, s in samples.items()}


def _fmt_time(s):
    if s >= 1:
        return f"{s:8.3f} s "
    if s >= 1e-3:
        return f"{s * 1e3:8.3f} ms"
    return f"{s * 1e6:8.1f} us"


def report(title, results, baseline=None, flops=None, file=None):
    """Print a table: median (and min) per call, speed-up vs ``baseline``,
    and GFLOP/s when ``flops`` (per call) is given. Returns the rows."""
    file = file or sys.stdout
    if any(r.get("clock") == "cpu" for r in results.values()):
        title += "  [process CPU time]"
    print(f"\n{title}", file=file)
    base = results[baseline]["median"] if baseline in results else None
    rows = []
    for name, r in results.items():
        med = r["median"]
        line = f"  {name:<22} median {_fmt_time(med)}  (min {_fmt_time(r['min'])})"
        row = {"name": name, "median_s": med, "min_s": r["min"]}
        if flops:
            gf = flops / med / 1e9
            line += f"  {gf:7.1f} GFLOP/s"
            row["gflops"] = gf
        if base is not None and name != baseline:
            ratio = base / med
            line += f"  {ratio:6.2f}x vs {baseline}"
            row["speedup"] = ratio
        print(line, file=file)
        rows.append(row)
    return rows


def try_child_at(n, argv, python=None, timeout=None):
    """Like ``run_child_at`` but a failing child gives ``{"error": tail of
    its stderr}`` instead of stopping the caller (a long run keeps going)."""
    cpus = pinned_cpus(n)
    try:
        out = subprocess.run([python or sys.executable, *argv], env=thread_env(n),
                             capture_output=True, text=True, timeout=timeout,
                             preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    except (OSError, subprocess.TimeoutExpired) as err:
        return {"error": f"{type(err).__name__}: {err}"}
    lines = out.stdout.strip().splitlines()
    if out.returncode or not lines:
        return {"error": (out.stderr.strip() or f"exit status {out.returncode}")[-1500:]}
    try:
        return json.loads(lines[-1])
    except ValueError:
        return {"error": f"no JSON on the last stdout line: {lines[-1][:200]!r}"}


def peak_rss_mb():
    """This process's peak resident set size so far, in MB (Linux: KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
