"""Which BLAS library the GEMM kernels call.

Two candidates, both OpenBLAS in the usual pip install:

* ``numpy``: the ILP64 OpenBLAS numpy's wheels bundle (symbols
  ``scipy_sgemm_64_``...), found among the libraries already loaded in the
  process. Preferred, for two reasons: it is the pool ``numpy.matmul`` uses,
  so layers mixing numpy matmuls with our kernels keep one BLAS thread pool
  (two OpenBLAS pools alternating at 2 threads spin against each other);
  and it is the newer build, whose sgemm was faster on W1's shapes (the
  measurements: benchmarks/README.md, "Numbers behind rules in the code").
* ``scipy``: ``scipy.linalg.cython_blas``, always there; the fallback when
  numpy carries no such library (conda's MKL numpy, Accelerate on macOS,
  a source build) or when ``CKERAS_BLAS=scipy`` asks for it.

``CKERAS_BLAS`` = ``auto`` (default) | ``numpy`` | ``scipy`` is read when the
GEMM module first loads; ``use_blas(name)`` switches at run time and
``blas_info()`` says what is in use.
"""
import ctypes
import os

CHOICES = ("auto", "numpy", "scipy")
# ILP64 Fortran-ABI entry points as numpy's scipy-openblas64 wheels name them.
_SYMBOLS = ("scipy_sgemm_64_", "scipy_sgemv_64_", "scipy_dgemm_64_")

_state = {"provider": "scipy", "library": None, "version": None}
_libs = []   # keep the ctypes handles (and so the addresses) alive


def _numpy_openblas():
    """(path, version, (sgemm, sgemv, dgemm) addresses) of a loaded ILP64
    OpenBLAS exporting the scipy-openblas64 symbols, or None."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    import numpy  # noqa: F401  (its BLAS is loaded with it)
    for info in threadpool_info():
        if info.get("internal_api") != "openblas" or not info.get("filepath"):
            continue
        try:
            lib = ctypes.CDLL(info["filepath"])   # already loaded: same handle
            addrs = tuple(ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
                          for name in _SYMBOLS)
        except (OSError, AttributeError):
            continue
        _libs.append(lib)
        return info["filepath"], info.get("version"), addrs
    return None


def _requested():
    name = os.environ.get("CKERAS_BLAS", "auto").strip().lower() or "auto"
    if name not in CHOICES:
        raise ValueError(f"CKERAS_BLAS={name!r} is not one of {', '.join(CHOICES)}")
    return name


def use_blas(name):
    """Route the GEMM kernels to ``name`` ('auto', 'numpy' or 'scipy');
    returns the provider now in use. 'numpy' raises if numpy has no
    usable OpenBLAS; 'auto' takes numpy's when it can."""
    if name not in CHOICES:
        raise ValueError(f"BLAS provider must be one of {', '.join(CHOICES)}, got {name!r}")
    from ckeras._kernels import _blas
    found = _numpy_openblas() if name != "scipy" else None
    if found is None and name == "numpy":
        raise RuntimeError("numpy carries no ILP64 OpenBLAS exporting "
                           f"{', '.join(_SYMBOLS)}; use 'scipy' or 'auto'")
    if found is None:
        _blas.set_ilp64_blas(0, 0, 0)
        import scipy
        _state.update(provider="scipy", library="scipy.linalg.cython_blas",
                      version=f"scipy {scipy.__version__}")
    else:
        path, version, addrs = found
        _blas.set_ilp64_blas(*addrs)
        _state.update(provider="numpy", library=path, version=version)
    return _state["provider"]


def configure_from_env():
    """Called once when the GEMM module first loads."""
    return use_blas(_requested())


def blas_info():
    """{'provider': 'numpy' | 'scipy', 'library': path, 'version': str}."""
    return dict(_state)
