"""ckeras.ops picks the kernel or the reference as documented."""
import os
import subprocess
import sys

import numpy as np
import pytest

from ckeras import ops
from ckeras.ops import reference as ref


class _Called(Exception):
    pass


def _spy(monkeypatch, name):
    def boom(*a, **k):
        raise _Called(name)
    monkeypatch.setattr(ref, name, boom)


CALLS = {
    "matmul": lambda d: ops.matmul(np.ones((2, 3), d), np.ones((3, 2), d)),
    "dense": lambda d: ops.dense(np.ones((2, 3), d), np.ones((3, 2), d), np.ones(2, d), "relu"),
    "dense_backward": lambda d: ops.dense_backward(
        np.ones((2, 2), d), np.ones((2, 3), d), np.ones((2, 2), d), np.ones((3, 2), d), "tanh",
        np.zeros((3, 2), d), np.zeros(2, d)),
    "softmax_cross_entropy": lambda d: ops.softmax_cross_entropy(np.ones((2, 3), d), np.array([0, 2])),
    "sigmoid_binary_cross_entropy": lambda d: ops.sigmoid_binary_cross_entropy(
        np.ones((2, 3), d), np.ones((2, 3), d)),
    "embedding_lookup": lambda d: ops.embedding_lookup(np.array([1, 0]), np.ones((3, 2), d)),
    "embedding_lookup_backward": lambda d: ops.embedding_lookup_backward(
        np.array([1, 0]), np.ones((2, 2), d), np.zeros((3, 2), d)),
    "adam_update": lambda d: ops.adam_update(np.ones(5, d), np.ones(5, d), np.zeros(5, d),
                                             np.zeros(5, d), 0.1, 0.9, 0.999, 1e-7),
    "sigmoid": lambda d: ops.sigmoid(np.ones((2, 2), d)),
    "softmax": lambda d: ops.softmax(np.ones((2, 2), d)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_float32_uses_kernel_float64_uses_reference(kernels, monkeypatch, name):
    _spy(monkeypatch, name)
    CALLS[name](np.float32)                       # kernel: the reference is not called
    with pytest.raises(_Called):
        CALLS[name](np.float64)
    ops.use_reference(True)
    with pytest.raises(_Called):
        CALLS[name](np.float32)


def test_env_var_forces_reference_and_import_stays_light(tmp_path):
    """CKERAS_REFERENCE=1 forces the reference; ckeras.ops never imports
    scipy until a GEMM is needed."""
    code = (
        "import sys, numpy as np\n"
        "import ckeras.ops as ops\n"
        "assert 'scipy.linalg' not in sys.modules, 'ckeras.ops imported scipy.linalg'\n"
        "ops.softmax_cross_entropy(np.ones((2, 3), np.float32), np.array([0, 1]))\n"
        "ops.embedding_lookup(np.array([0]), np.ones((2, 2), np.float32))\n"
        "assert 'scipy.linalg' not in sys.modules, 'non-GEMM kernels imported scipy.linalg'\n"
        "print(ops._k('_losses') is None)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    for flag, expect in (("1", "True"), ("0", "False")):
        env["CKERAS_REFERENCE"] = flag
        # cwd elsewhere: `python -c` puts the cwd first on sys.path, and the
        # source checkout has no compiled kernels.
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        if flag == "0" and not all(v is True for v in ops.kernel_status().values()):
            continue
        assert out.stdout.strip() == expect


def test_missing_extension_falls_back(monkeypatch):
    monkeypatch.setitem(ops._modules, "_losses", None)
    got = ops.softmax_cross_entropy(np.zeros((2, 3), np.float32), np.array([0, 1]))
    want = ref.softmax_cross_entropy(np.zeros((2, 3), np.float32), np.array([0, 1]))
    np.testing.assert_array_equal(got[1], want[1])


def test_the_tested_package_has_its_kernels():
    """The suite must exercise the compiled kernels, not silently the reference
    (e.g. when run against a source checkout that was never built)."""
    if ops._FORCE_REF:
        pytest.skip("CKERAS_REFERENCE=1: the reference is under test")
    status = ops.kernel_status()
    missing = {k: v for k, v in status.items() if v is not True}
    assert not missing, (f"kernels not importable: {missing}. Build them: "
                         "pip install . (or python setup.py build_ext --inplace)")
