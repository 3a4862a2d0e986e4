"""The Keras 3 activations glu, sparse_sigmoid, sparsemax and threshold: values
(ops.nn's, checked against Keras in tests/ops/test_nn_ops_extra.py), derivatives
against central differences, get/serialize."""
import numpy as np
import pytest

from ckeras import activations as A
from ckeras import ops
from ckeras.testing import numeric_gradient

RNG = np.random.default_rng(11)


def fd_check(act, x):
    w = RNG.normal(size=np.shape(act.forward(x)))
    dx = act.backward(w, x, act.forward(x))
    assert dx.shape == x.shape
    z = x.copy()
    num = numeric_gradient(lambda: float(np.sum(w * act.forward(z))), z)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["glu", "sparse_sigmoid", "sparsemax"])
def test_derivative_matches_finite_differences(name):
    x = RNG.uniform(-2, 2, (3, 6))
    x = np.where(np.abs(np.abs(x) - 1) < 0.05, x * 1.2, x)
    fd_check(A.get(name), x)


def test_threshold_derivative():
    act = A.ActivationFunction(lambda x: A.threshold(x, 0.2, -1.0), A._PAIRS["threshold"][1])
    x = RNG.uniform(-2, 2, (4, 5))
    fd_check(act, np.where(np.abs(x - 0.2) < 0.05, 0.5, x))


def test_values_match_ops_and_keep_float32():
    x = RNG.normal(size=(2, 6)).astype(np.float32)
    for name in ("glu", "sparse_sigmoid", "sparsemax"):
        np.testing.assert_array_equal(getattr(A, name)(x), getattr(ops, name)(x))
        y = A.get(name)(x)
        assert y.dtype == np.float32
        assert A.get(name).backward(np.ones_like(y), x, y).dtype == np.float32
    np.testing.assert_array_equal(A.threshold(x, 0.0, 5.0), np.where(x > 0, x, 5.0))
    assert A.glu(x).shape == (2, 3)
    assert A.glu(x, axis=0).shape == (1, 6)


def test_get_and_serialize():
    for name in ("glu", "sparse_sigmoid", "sparsemax", "threshold"):
        assert A.get(name).name == name
        assert A.serialize(A.get(name)) == name
        assert A.get(getattr(A, name)) is A.get(name)
    with pytest.raises(TypeError, match="threshold"):
        A.get("threshold")(np.ones(3))   # as in Keras: both arguments are required


def test_celu_default_alpha_is_keras():
    """Keras 3: celu(x, alpha=1.0), as ops.celu (checked against Keras)."""
    x = np.linspace(-3, 2, 11)
    np.testing.assert_allclose(A.celu(x), ops.celu(x), rtol=1e-12)
    np.testing.assert_allclose(A.celu(np.array([-1.0])), [np.expm1(-1.0)], rtol=1e-12)
