"""Thread policy for the compiled kernels (ARCHITECTURE.md section 6).

* Every OpenMP kernel takes an explicit ``n_threads``; ``for_work(n)`` picks
  it: 1 below ``MIN_PARALLEL_WORK`` elements (2^20 unless
  ``CKERAS_MIN_PARALLEL_WORK`` says otherwise: starting a parallel region
  costs more than it saves below that), else the default.
* The default is ``OMP_NUM_THREADS`` if set, else the number of CPUs this
  process may run on (``os.sched_getaffinity``), as sklearn does, until
  ``set_num_threads(n)`` overrides it.
* ``set_num_threads(n)`` also limits the BLAS pools (numpy's and scipy's
  OpenBLAS) through threadpoolctl when it is importable. scipy's BLAS is
  loaded lazily (first matmul / dense call), so the limit is re-applied then.
  Without threadpoolctl, set ``OPENBLAS_NUM_THREADS`` before starting Python.
* BLAS is never called inside an OpenMP region. Every OpenMP kernel gives
  the same bits at any thread count. OpenBLAS's own GEMM does not: its last
  bits change between 1 and 2 BLAS threads (numpy's too), so matmul / dense
  are reproducible only at a fixed BLAS thread count.
* ``ckeras._kernels`` defaults ``OMP_WAIT_POLICY=PASSIVE`` (unless set):
  spinning OpenMP workers otherwise starve OpenBLAS's threads and stall on
  busy machines (see the note there).
"""
import contextlib
import os

# Below this many elements a kernel runs on one thread. Under the passive
# wait policy (see ckeras._kernels) a parallel region first wakes a sleeping
# worker, which costs more than a small pass gains; the default is where a
# 2-thread pass started to pay off (the measurements: benchmarks/README.md,
# "Numbers behind rules in the code"). Machines with cheap wake-ups (bare
# metal, many cores) can lower it with CKERAS_MIN_PARALLEL_WORK.
def _min_parallel_work(default=1 << 20):
    value = os.environ.get("CKERAS_MIN_PARALLEL_WORK", "").strip()
    if not value:
        return default
    try:
        return max(0, int(value))
    except ValueError:
        import warnings
        warnings.warn(f"CKERAS_MIN_PARALLEL_WORK={value!r} is not an integer; "
                      f"using {default}", RuntimeWarning, stacklevel=2)
        return default


MIN_PARALLEL_WORK = _min_parallel_work()

_num_threads = None   # set_num_threads() value; None -> effective_n_threads()
_default = None       # cached effective_n_threads()
_blas_limit = None    # BLAS thread limit we asked for (None: left alone)


def max_threads():
    """The most threads ckeras accepts: max(256, 4 * CPUs). OpenMP runtimes
    crash or abort when asked for tens of thousands of threads; the kernels
    clamp to the same bound."""
    return max(256, 4 * (os.cpu_count() or 1))


def _check_n(n):
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise TypeError(f"number of threads must be an integer, got {n!r}") from None
    if isinstance(n, bool) or value != n:
        raise TypeError(f"number of threads must be an integer, got {n!r}")
    if value < 1 or value > max_threads():
        raise ValueError(f"number of threads must be between 1 and {max_threads()} "
                         f"(4 per CPU, at least 256), got {value}")
    return value


def effective_n_threads():
    """OMP_NUM_THREADS (first entry) if set and valid, else usable CPUs."""
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env:
        try:
            n = int(env)
            if n >= 1:
                return min(n, max_threads())
        except ValueError:
            pass
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def get_num_threads():
    """Threads the kernels use for large work."""
    global _default
    if _num_threads is not None:
        return _num_threads
    if _default is None:
        _default = effective_n_threads()
    return _default


def for_work(n_elements):
    """n_threads for a kernel touching ``n_elements`` elements."""
    if n_elements < MIN_PARALLEL_WORK:
        return 1
    return _num_threads if _num_threads is not None else get_num_threads()


def _limit_blas(n):
    """Limit the loaded BLAS pools to n threads; returns the threadpoolctl
    limiter (to restore later) or None if threadpoolctl is unavailable."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=int(n), user_api="blas")


def set_num_threads(n):
    """Use ``n`` threads in our kernels and in the BLAS pools."""
    global _num_threads, _blas_limit
    n = _check_n(n)
    _num_threads = n
    _blas_limit = n
    _limit_blas(n)


@contextlib.contextmanager
def num_threads(n, blas=True):
    """Temporarily use ``n`` threads in the kernels and (if ``blas``) in BLAS;
    restores the previous settings on exit."""
    global _num_threads, _blas_limit
    n = _check_n(n)
    saved = (_num_threads, _blas_limit)
    limiter = _limit_blas(n) if blas else None
    _num_threads = n
    if blas:
        _blas_limit = n
    try:
        yield n
    finally:
        _num_threads, _blas_limit = saved
        if limiter is not None:
            limiter.restore_original_limits()


def _blas_loaded():
    """Called by ckeras.ops after importing a module that loads scipy's BLAS."""
    if _blas_limit is not None:
        _limit_blas(_blas_limit)
