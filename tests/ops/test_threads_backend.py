"""Thread policy (ckeras.ops.threads) and ckeras.backend settings."""
import numpy as np
import pytest

from ckeras.ops import threads


def test_backend_constants():
    from ckeras import backend
    assert backend.floatx() == "float32"
    assert backend.epsilon() == 1e-7
    assert backend.image_data_format() == "channels_last"
    with pytest.raises(ValueError):
        backend.set_floatx("float64")


def test_set_num_threads_roundtrip(monkeypatch):
    from ckeras import backend
    monkeypatch.setattr(threads, "_num_threads", None)
    monkeypatch.setattr(threads, "_blas_limit", None)
    with threads.num_threads(1):          # restores the BLAS pools' sizes on exit
        backend.set_num_threads(1)
        assert backend.get_num_threads() == 1
        assert threads.for_work(10**9) == 1
        with threads.num_threads(2):
            assert backend.get_num_threads() == 2
            assert threads.for_work(threads.MIN_PARALLEL_WORK) == 2
            assert threads.for_work(threads.MIN_PARALLEL_WORK - 1) == 1
        assert backend.get_num_threads() == 1
        with pytest.raises(ValueError):
            backend.set_num_threads(0)


def test_blas_pools_follow_set_num_threads(kernels):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    kernels.matmul(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32))  # loads scipy BLAS
    with threads.num_threads(1):
        infos = threadpoolctl.threadpool_info()
        assert all(i["num_threads"] == 1 for i in infos if i["user_api"] == "blas")


def test_effective_n_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.effective_n_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "2,1")
    assert threads.effective_n_threads() == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert threads.effective_n_threads() >= 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert threads.effective_n_threads() >= 1


def test_openmp_regions_really_use_two_threads(kernels):
    """The 2-thread tests exercise parallel code (OMP_NUM_THREADS=1 in CI
    does not override the kernels' explicit num_threads)."""
    from ckeras._kernels import _openmp
    assert _openmp.omp_max_threads() >= 1
    if not _openmp.openmp_enabled():
        pytest.skip("serial build (CKERAS_NO_OPENMP)")
    assert _openmp.threads_used(1) == 1
    assert _openmp.threads_used(2) == 2


def test_min_parallel_work_from_env(monkeypatch):
    from ckeras.ops import threads
    monkeypatch.setenv("CKERAS_MIN_PARALLEL_WORK", "4096")
    assert threads._min_parallel_work() == 4096
    monkeypatch.setenv("CKERAS_MIN_PARALLEL_WORK", "")
    assert threads._min_parallel_work() == 1 << 20
    monkeypatch.setenv("CKERAS_MIN_PARALLEL_WORK", "lots")
    with pytest.warns(RuntimeWarning, match="CKERAS_MIN_PARALLEL_WORK='lots' is not an integer"):
        assert threads._min_parallel_work() == 1 << 20
