"""``ckeras.show_config()``: what this ckeras runs on (kernels, BLAS, OpenMP,
threads, instruction set), for bug reports and for checking an install."""
import os
import platform
import sys

_OPENMP_DATES = {200203: "2.0", 200505: "2.5", 200805: "3.0", 201107: "3.1",
                 201307: "4.0", 201511: "4.5", 201811: "5.0", 202011: "5.1", 202111: "5.2"}
_CPU_FLAGS = ("sse2", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
              "asimd", "sve")


def _cpu_flags():
    """Instruction-set flags the CPU reports (Linux /proc/cpuinfo), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    have = set(line.split(":", 1)[1].split())
                    return [flag for flag in _CPU_FLAGS if flag in have]
    except OSError:
        pass
    return None


def config():
    """What ``show_config()`` prints, as a dict."""
    import numpy
    import scipy
    from ckeras import ops
    from ckeras._version import __version__
    from ckeras.ops import blas, threads

    info = {
        "ckeras": {"version": __version__,
                   "path": os.path.dirname(os.path.abspath(__file__))},
        "python": {"version": platform.python_version(), "executable": sys.executable,
                   "platform": platform.platform()},
        "dependencies": {"numpy": numpy.__version__, "scipy": scipy.__version__},
    }
    status = ops.kernel_status()   # loads every kernel module (and the BLAS choice)
    info["kernels"] = {
        "modules": status,
        "loaded": sum(v is True for v in status.values()),
        "total": len(status),
        "reference_forced": bool(ops._FORCE_REF),
        "reference_allowed": bool(ops._ALLOW_REF),
    }
    info["blas"] = blas.blas_info() if status.get("_blas") is True else None

    omp = {"compiled_with": None, "runtime": None}
    isa = {"kernels_compiled_for": None, "avx2_clones": False, "cpu_supports": _cpu_flags(),
           "openblas_core": None}
    try:
        from ckeras._kernels import _openmp
    except ImportError as exc:
        omp["error"] = str(exc)
    else:
        version = _openmp.openmp_version()
        omp["compiled_with"] = (f"OpenMP {_OPENMP_DATES.get(version, version)}"
                                if _openmp.openmp_enabled() else "serial build (no OpenMP)")
        isa["kernels_compiled_for"] = _openmp.compiled_isa()
        isa["avx2_clones"] = _openmp.avx2_clones()
    blas_threads = {}
    try:
        from threadpoolctl import threadpool_info
        pools = threadpool_info()
    except ImportError:
        pools = []
    for pool in pools:
        if pool.get("user_api") == "openmp":
            omp["runtime"] = f"{pool.get('prefix')} {pool.get('version') or ''}".strip() + \
                f" ({pool.get('filepath')})"
        elif pool.get("user_api") == "blas":
            blas_threads[pool.get("filepath")] = pool.get("num_threads")
            if info["blas"] and pool.get("filepath") == info["blas"].get("library"):
                isa["openblas_core"] = pool.get("architecture")
    if info["blas"] and isa["openblas_core"] is None and pools:
        cores = [p.get("architecture") for p in pools if p.get("internal_api") == "openblas"]
        isa["openblas_core"] = cores[0] if cores else None
    info["openmp"] = omp
    info["threads"] = {
        "kernels": threads.get_num_threads(),
        "min_parallel_work": threads.MIN_PARALLEL_WORK,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "blas_pools": blas_threads,
    }
    info["instruction_set"] = isa
    return info


def summary_line():
    """One line: how many kernel modules are compiled and loaded, and the BLAS."""
    from ckeras import ops
    from ckeras.ops import blas
    status = ops.kernel_status()
    loaded = sum(v is True for v in status.values())
    what = "compiled kernels" if loaded == len(status) and not ops._FORCE_REF else \
        "NUMPY REFERENCE for some ops"
    b = blas.blas_info() if status.get("_blas") is True else None
    return (f"ran on: {what} ({loaded}/{len(status)} kernel modules loaded"
            f"{'; reference forced' if ops._FORCE_REF else ''}), BLAS "
            f"{b['provider'] + ' ' + str(b['version']) if b else 'none'}; "
            "details: python -c 'import ckeras; ckeras.show_config()'")


def show_config(file=None):
    """Print which kernels loaded, the BLAS provider and version, the OpenMP
    runtime, the thread counts and the instruction set in use."""
    c = config()
    out = []
    add = out.append
    add(f"ckeras {c['ckeras']['version']}  ({c['ckeras']['path']})")
    add(f"python {c['python']['version']}  {c['python']['platform']}")
    add("numpy {numpy}, scipy {scipy}".format(**c["dependencies"]))
    k = c["kernels"]
    mode = ("numpy reference forced (CKERAS_REFERENCE / use_reference)" if k["reference_forced"]
            else "compiled" if k["loaded"] == k["total"]
            else "numpy reference" if k["loaded"] == 0 else "PARTLY numpy reference")
    add(f"kernels: {k['loaded']}/{k['total']} compiled modules loaded; dispatch: {mode}")
    for name, ok in k["modules"].items():
        add(f"  {name:<12} {'loaded' if ok is True else 'NOT LOADED: ' + ok}")
    if k["reference_allowed"]:
        add("  CKERAS_ALLOW_REFERENCE=1: missing kernels fall back without error or warning")
    b = c["blas"]
    add("blas: " + (f"{b['provider']} ({b['version']}; {b['library']})" if b
                    else "not loaded (the GEMM kernel module is missing)"))
    o = c["openmp"]
    add(f"openmp: {o['compiled_with'] or 'unknown: ' + o.get('error', '')}; "
        f"runtime {o['runtime'] or 'none loaded'}")
    t = c["threads"]
    add(f"threads: kernels {t['kernels']} (1 below {t['min_parallel_work']} elements), "
        f"OMP_NUM_THREADS={t['OMP_NUM_THREADS']}, OMP_WAIT_POLICY={t['OMP_WAIT_POLICY']}")
    for path, n in t["blas_pools"].items():
        add(f"  blas pool {n} threads  {path}")
    i = c["instruction_set"]
    compiled = ("unknown" if i["kernels_compiled_for"] is None
                else " ".join(i["kernels_compiled_for"]) or "baseline")
    cpu = i["cpu_supports"] or []
    chosen = "avx2 clones of the hot loops" if i["avx2_clones"] and "avx2" in cpu else compiled
    add(f"instruction set: kernels compiled for [{compiled}]"
        + (" + avx2 clones picked at load" if i["avx2_clones"] else "")
        + f"; in use: {chosen}; OpenBLAS core {i['openblas_core']}; CPU has [{' '.join(cpu)}]")
    print("\n".join(out), file=file or sys.stdout)
