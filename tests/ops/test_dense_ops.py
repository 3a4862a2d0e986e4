"""Dense (sgemm + fused bias/activation) and the activation kernels vs the reference."""
import numpy as np
import pytest

from ckeras.ops import FUSED_ACTIVATIONS
from ckeras.ops import reference as ref

SHAPES = [(1, 1, 1), (3, 5, 17), (17, 129, 3), (64, 33, 10)]   # (batch, in, units)
EXP_HEAVY = ("sigmoid", "tanh", "softmax")


def _tol(act):
    return dict(rtol=1e-4, atol=1e-6) if act in EXP_HEAVY else dict(rtol=1e-5, atol=1e-6)


def _data(rng, b, i, u):
    x = rng.standard_normal((b, i)).astype(np.float32)
    k = (rng.standard_normal((i, u)) / np.sqrt(i)).astype(np.float32)
    bias = rng.standard_normal(u).astype(np.float32)
    return x, k, bias


@pytest.mark.parametrize("act", FUSED_ACTIVATIONS)
@pytest.mark.parametrize("b,i,u", SHAPES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_dense_forward(kernels, rng, act, b, i, u, with_bias):
    x, k, bias = _data(rng, b, i, u)
    bias = bias if with_bias else None
    got = kernels.dense(x, k, bias, act)
    assert got.dtype == np.float32 and got.shape == (b, u)
    want = ref.dense(x.astype(np.float64), k.astype(np.float64),
                     None if bias is None else bias.astype(np.float64), act)
    np.testing.assert_allclose(got, want, **_tol(act))


@pytest.mark.parametrize("act", FUSED_ACTIVATIONS)
@pytest.mark.parametrize("b,i,u", SHAPES)
def test_dense_backward_accumulates(kernels, rng, act, b, i, u):
    x, k, bias = _data(rng, b, i, u)
    y = kernels.dense(x, k, bias, act)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dk0 = rng.standard_normal(k.shape).astype(np.float32)
    db0 = rng.standard_normal(u).astype(np.float32)
    dk, db = dk0.copy(), db0.copy()
    dx = kernels.dense_backward(dy, x, y, k, act, dk, db)
    f64 = [a.astype(np.float64) for a in (dy, x, y, k)]
    dk_ref, db_ref = dk0.astype(np.float64), db0.astype(np.float64)
    dx_ref = ref.dense_backward(*f64, act, dk_ref, db_ref)
    tol = _tol(act)
    np.testing.assert_allclose(dx, dx_ref, **tol)
    np.testing.assert_allclose(dk, dk_ref, rtol=tol["rtol"], atol=1e-5)
    np.testing.assert_allclose(db, db_ref, rtol=tol["rtol"], atol=1e-5)
    # a second call accumulates again; no dx, no bias
    dk2 = dk.copy()
    assert kernels.dense_backward(dy, x, y, k, act, dk2, None, need_dx=False) is None
    np.testing.assert_allclose(dk2 - dk, dk_ref - dk0, rtol=1e-4, atol=1e-5)


def test_dense_backward_float64_buffers_and_views(kernels, rng):
    x, k, bias = _data(rng, 9, 7, 5)
    y = kernels.dense(x, k, bias, "relu")
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dk, db = np.zeros((7, 5)), np.zeros(5)              # non-float32 accumulators
    dx = kernels.dense_backward(dy, x, y, k, "relu", dk, db)
    dk_ref, db_ref = np.zeros((7, 5)), np.zeros(5)
    dx_ref = ref.dense_backward(dy.astype(np.float64), x.astype(np.float64), y.astype(np.float64),
                                k.astype(np.float64), "relu", dk_ref, db_ref)
    np.testing.assert_allclose(dk, dk_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, db_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-6)
    # kernel given as a transposed view, dkernel as an F-ordered buffer
    kt = np.ascontiguousarray(k.T).T
    np.testing.assert_allclose(kernels.dense(x, kt, bias, "relu"), y, rtol=1e-6, atol=1e-7)
    dkf = np.zeros((7, 5), np.float32, order="F")
    kernels.dense_backward(dy, x, y, kt, "relu", dkf, None)
    np.testing.assert_allclose(dkf, dk_ref, rtol=1e-5, atol=1e-6)


def test_dense_nd_and_empty_batch(kernels, rng):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    k = rng.standard_normal((4, 6)).astype(np.float32)
    bias = rng.standard_normal(6).astype(np.float32)
    y = kernels.dense(x, k, bias, "tanh")
    assert y.shape == (2, 3, 6)
    np.testing.assert_allclose(y, ref.dense(x, k, bias, "tanh"), rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dk, dk_ref = np.zeros_like(k), np.zeros_like(k)
    dx = kernels.dense_backward(dy, x, y, k, "tanh", dk, None)
    dx_ref = ref.dense_backward(dy, x, y, k, "tanh", dk_ref, None)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dk, dk_ref, rtol=1e-5, atol=1e-5)

    x0 = np.zeros((0, 4), np.float32)
    y0 = kernels.dense(x0, k, bias, "softmax")
    assert y0.shape == (0, 6)
    dk, db = np.ones_like(k), np.ones(6, np.float32)
    dx0 = kernels.dense_backward(np.zeros((0, 6), np.float32), x0, y0, k, "softmax", dk, db)
    assert dx0.shape == (0, 4) and (dk == 1).all() and (db == 1).all()


@pytest.mark.parametrize("act", FUSED_ACTIVATIONS)
def test_dense_across_threads(across_threads, rng, act):
    from ckeras import ops
    x, k, bias = _data(rng, 67, 40, 129)
    y = ops.dense(x, k, bias, act)
    dy = rng.standard_normal(y.shape).astype(np.float32)

    def run():
        dk, db = np.ones_like(k), np.ones(129, np.float32)
        dx = ops.dense_backward(dy, x, y, k, act, dk, db)
        return ops.dense(x, k, bias, act), dx, dk, db
    across_threads(run, blas=False)


# ---- activations ------------------------------------------------------------

EXTREMES = np.array([-1e4, -100, -30, -1, -1e-3, 0, 1e-3, 1, 30, 100, 1e4], np.float32)


@pytest.mark.parametrize("act", FUSED_ACTIVATIONS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (5, 129), (2, 3, 7)])
def test_activation_forward_backward(kernels, rng, act, shape):
    z = (rng.standard_normal(shape) * 3).astype(np.float32)
    y = kernels.activation_from_output(act, z)
    np.testing.assert_allclose(y, ref.activation_from_output(act, z.astype(np.float64)), **_tol(act))
    dy = rng.standard_normal(shape).astype(np.float32)
    dz = kernels.activation_backward_from_output(act, dy, y)
    want = ref.activation_backward_from_output(act, dy.astype(np.float64), y.astype(np.float64))
    np.testing.assert_allclose(dz, want, rtol=1e-5, atol=1e-6)


def test_activation_extremes(kernels):
    z = np.tile(EXTREMES, (2, 1))
    for act in FUSED_ACTIVATIONS:
        y = kernels.activation_from_output(act, z)
        assert np.isfinite(y).all(), act
        np.testing.assert_allclose(y, ref.activation_from_output(act, z.astype(np.float64)),
                                   rtol=1e-4, atol=1e-7)
    s = kernels.sigmoid(EXTREMES)
    np.testing.assert_allclose(s, ref.sigmoid(EXTREMES.astype(np.float64)), rtol=1e-5, atol=1e-30)
    masked = np.array([[0.0, -np.inf, 1.0, -np.inf]], np.float32)
    p = kernels.softmax(masked)
    np.testing.assert_allclose(p, ref.softmax(masked.astype(np.float64)), rtol=1e-5)
    assert p[0, 1] == 0 and p[0, 3] == 0


def test_activation_across_threads(across_threads, rng):
    from ckeras import ops
    z = (rng.standard_normal((33, 257)) * 4).astype(np.float32)
    dy = rng.standard_normal(z.shape).astype(np.float32)
    for act in FUSED_ACTIVATIONS:
        across_threads(lambda: (ops.activation_from_output(act, z),
                                ops.activation_backward_from_output(act, dy, z)))


def test_unknown_activation_raises(kernels):
    z = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError):
        kernels.activation_from_output("gelu", z)
    with pytest.raises(ValueError):
        kernels.dense(z, z, None, "gelu")
