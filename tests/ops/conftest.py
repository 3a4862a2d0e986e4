"""Fixtures for the kernel tests: force the compiled path, run at 1 and 2 threads."""
import os

import numpy as np
import pytest


def skip_or_fail_without_kernels():
    """Skip when the kernels are not built; CKERAS_REQUIRE_KERNELS=1 fails instead."""
    from ckeras import ops
    status = ops.kernel_status()
    if all(v is True for v in status.values()):
        return
    msg = f"ckeras kernels not built: {status}"
    if os.environ.get("CKERAS_REQUIRE_KERNELS", "") not in ("", "0"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture
def kernels():
    """ckeras.ops with the compiled kernels in force (skips if not built)."""
    from ckeras import ops
    skip_or_fail_without_kernels()
    prev = ops.use_reference(False)
    try:
        yield ops
    finally:
        ops.use_reference(prev)


def _as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def assert_same_bits(a, b):
    for x, y in zip(_as_tuple(a), _as_tuple(b)):
        if x is None or y is None:
            assert x is None and y is None
            continue
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), "results differ between 1 and 2 threads"


@pytest.fixture
def across_threads(kernels, monkeypatch):
    """check(fn, blas=True): run fn() at 1 and at 2 threads (the parallel
    path forced even for small inputs), assert bitwise-equal results, return
    the 1-thread ones.

    fn must build its own inputs (it may update buffers in place) and return
    an array or a tuple of arrays / None. blas=False keeps the BLAS pool as
    it is and varies only the OpenMP kernels' threads: OpenBLAS's GEMM itself
    changes its last bits with its thread count (see ckeras.ops.threads)."""
    from ckeras.ops import threads
    monkeypatch.setattr(threads, "MIN_PARALLEL_WORK", 0)

    def check(fn, blas=True):
        with threads.num_threads(1, blas=blas):
            r1 = fn()
        with threads.num_threads(2, blas=blas):
            r2 = fn()
        assert_same_bits(r1, r2)
        return r1

    return check
