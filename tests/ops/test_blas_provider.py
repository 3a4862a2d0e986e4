"""Choosing the BLAS behind the GEMM kernels (ckeras.ops.blas)."""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from ckeras.ops import blas


def _numpy_bundles_openblas64():
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    return bool(glob.glob(os.path.join(libs, "libscipy_openblas64_*")))


def _run(code, **env):
    """Run ``code`` in a fresh interpreter, outside the checkout (whose
    uncompiled ``ckeras/`` would shadow the installed package)."""
    full = dict(os.environ, **env)
    code = ("from ckeras import ops; " + code +
            "; assert ops.kernel_status()['_blas'] is True, ops.kernel_status()")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full, timeout=120, cwd=tempfile.gettempdir())

PROBE = ("import numpy as np; from ckeras.ops import blas; "
         "ops.matmul(np.ones((3, 2), np.float32), np.ones((2, 4), np.float32)); "
         "print(blas.blas_info()['provider'])")


def test_auto_prefers_the_openblas_numpy_bundles(kernels):
    if not _numpy_bundles_openblas64():
        pytest.skip("this numpy bundles no scipy-openblas64 library")
    out = _run(PROBE, CKERAS_BLAS="auto")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "numpy"


def test_env_can_force_scipy(kernels):
    out = _run(PROBE, CKERAS_BLAS="scipy")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "scipy"


def test_unknown_env_value_is_a_clear_error(kernels):
    out = _run(PROBE, CKERAS_BLAS="mkl")
    assert out.returncode != 0
    assert "CKERAS_BLAS='mkl' is not one of auto, numpy, scipy" in out.stderr


def test_use_blas_rejects_unknown_names(kernels):
    with pytest.raises(ValueError, match="one of auto, numpy, scipy"):
        blas.use_blas("openblas")


def test_info_names_the_library(kernels):
    kernels.kernel_status()
    info = blas.blas_info()
    assert info["provider"] in ("numpy", "scipy")
    assert info["library"] and info["version"]
    from ckeras._kernels import _blas
    assert _blas.using_ilp64_blas() == (info["provider"] == "numpy")
    if info["provider"] == "numpy":
        assert os.path.exists(info["library"])


def _train_a_few_steps():
    import ckeras as keras
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((13,)), keras.layers.Dense(31, activation="relu"),
                              keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 13)).astype(np.float32)
    y = rng.integers(0, 4, 96)
    model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
    return model.get_weights(), model.predict(x[:1], verbose=0)


def test_both_providers_train_alike(kernels):
    kernels.kernel_status()
    before = blas.blas_info()["provider"]
    results = {}
    try:
        for name in ("numpy", "scipy"):
            try:
                blas.use_blas(name)
            except RuntimeError as err:
                pytest.skip(str(err))
            results[name] = _train_a_few_steps()
    finally:
        blas.use_blas(before)
    for a, b in zip(results["numpy"][0], results["scipy"][0]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(results["numpy"][1], results["scipy"][1], rtol=1e-4, atol=1e-6)


def test_thread_limit_reaches_the_provider_pool(kernels):
    code = ("import numpy as np, ckeras; from ckeras.ops import blas;"
            "from threadpoolctl import threadpool_info;"
            "ckeras.backend.set_num_threads(1);"
            "ops.matmul(np.ones((3, 2), np.float32), np.ones((2, 4), np.float32));"
            "lib = blas.blas_info()['library'];"
            "n = [i['num_threads'] for i in threadpool_info() if i['filepath'] == lib];"
            "print(blas.blas_info()['provider'], n)")
    out = _run(code, OMP_NUM_THREADS="", OPENBLAS_NUM_THREADS="")
    assert out.returncode == 0, out.stderr
    provider, counts = out.stdout.strip().split(" ", 1)
    # scipy's "library" is a module name, not a file threadpoolctl lists
    assert counts == ("[1]" if provider == "numpy" else "[]")
