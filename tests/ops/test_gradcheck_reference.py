"""Float64 central differences on the reference gradients (the oracle the
kernels are tested against must itself be right)."""
import numpy as np
import pytest

from ckeras.ops import FUSED_ACTIVATIONS
from ckeras.ops import reference as ref
from ckeras.testing import numeric_gradient

EPS = 1e-6


def _numgrad(f, a, coords):
    """Central differences of f() at the index tuples ``coords`` of ``a``."""
    g = numeric_gradient(f, a, EPS, [np.ravel_multi_index(c, a.shape) for c in coords])
    return np.array([g[c] for c in coords])


def _coords(rng, shape, n=6):
    return [tuple(rng.integers(0, s) for s in shape) for _ in range(n)]


@pytest.mark.parametrize("act", FUSED_ACTIVATIONS)
def test_dense_backward_gradients(rng, act):
    x = rng.standard_normal((5, 4))
    k = rng.standard_normal((4, 3))
    b = rng.standard_normal(3)
    w = rng.standard_normal((5, 3))                       # L = sum(w * dense(x))

    def loss():
        return float((w * ref.dense(x, k, b, act)).sum())

    y = ref.dense(x, k, b, act)
    dk0, db0 = rng.standard_normal(k.shape), rng.standard_normal(3)
    dk, db = dk0.copy(), db0.copy()
    dx = ref.dense_backward(w, x, y, k, act, dk, db)
    for arr, analytic in ((x, dx), (k, dk - dk0), (b, db - db0)):
        cs = _coords(rng, arr.shape)
        np.testing.assert_allclose([analytic[c] for c in cs], _numgrad(loss, arr, cs),
                                   rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("sparse", [True, False])
def test_softmax_cross_entropy_gradients(rng, sparse):
    logits = rng.standard_normal((4, 6)) * 2
    if sparse:
        labels = rng.integers(0, 6, 4)
    else:
        labels = rng.uniform(size=(4, 6))
        labels /= labels.sum(axis=1, keepdims=True)
        labels[0] *= 1.5                                  # rows need not sum to 1
    scale = rng.uniform(0.5, 2, 4)

    def loss():
        return float((scale * ref.softmax_cross_entropy(logits, labels)[0]).sum())

    _, grad, _ = ref.softmax_cross_entropy(logits, labels, scale)
    cs = _coords(rng, logits.shape, 10)
    np.testing.assert_allclose([grad[c] for c in cs], _numgrad(loss, logits, cs),
                               rtol=1e-5, atol=1e-7)


def test_sigmoid_bce_gradients(rng):
    logits = rng.standard_normal((4, 5)) * 3
    t = rng.uniform(size=(4, 5))
    scale = rng.uniform(0.5, 2, 4)

    def loss():
        return float((scale * ref.sigmoid_binary_cross_entropy(logits, t)[0]).sum())

    _, grad, _ = ref.sigmoid_binary_cross_entropy(logits, t, scale)
    cs = _coords(rng, logits.shape, 10)
    np.testing.assert_allclose([grad[c] for c in cs], _numgrad(loss, logits, cs),
                               rtol=1e-5, atol=1e-7)
