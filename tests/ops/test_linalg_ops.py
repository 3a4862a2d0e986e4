"""keras.ops.linalg: values against numpy/scipy definitions and gradients
against float64 central differences."""
import functools

import numpy as np
import pytest

from ckeras import ops
from ckeras.ops import linalg
from ckeras.ops.tape import GradientTape, Tensor
from ckeras.testing import check_op_gradients

RNG = np.random.default_rng(5)


check = functools.partial(check_op_gradients, rng=RNG)


def spd(*shape):
    a = RNG.normal(size=shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def well_conditioned(*shape):
    return RNG.normal(size=shape) + 3 * np.eye(shape[-1])


def test_values():
    a = well_conditioned(2, 3, 3)
    np.testing.assert_allclose(ops.inv(a) @ a, np.broadcast_to(np.eye(3), a.shape), atol=1e-12)
    np.testing.assert_allclose(ops.det(a), np.linalg.det(a))
    s = spd(3, 3)
    low = ops.cholesky(s)
    np.testing.assert_allclose(low @ low.T, s, atol=1e-12)
    np.testing.assert_allclose(ops.cholesky(s, upper=True), low.T)
    np.testing.assert_allclose(ops.cholesky_inverse(low), np.linalg.inv(s), atol=1e-12)
    np.testing.assert_allclose(ops.cholesky_inverse(low.T, upper=True), np.linalg.inv(s),
                               atol=1e-12)
    b = RNG.normal(size=(3, 2))
    np.testing.assert_allclose(ops.solve(a[0], b), np.linalg.solve(a[0], b))
    np.testing.assert_allclose(ops.solve(a[0], b[:, 0]), np.linalg.solve(a[0], b[:, 0]))
    from scipy.linalg import solve_triangular
    np.testing.assert_allclose(ops.solve_triangular(a[0], b, lower=True),
                               solve_triangular(a[0], b, lower=True))
    np.testing.assert_allclose(ops.solve_triangular(a[0], b), solve_triangular(a[0], b))
    w, v = ops.eigh(s)
    np.testing.assert_allclose(v @ np.diag(w) @ v.T, s, atol=1e-12)
    w, v = ops.eig(a[0])
    np.testing.assert_allclose(a[0] @ v, v * w, atol=1e-12)
    q, r = ops.qr(RNG.normal(size=(4, 3)))
    assert q.shape == (4, 3) and r.shape == (3, 3)
    assert ops.qr(np.ones((4, 3)), mode="complete")[0].shape == (4, 4)
    u, sv, vt = ops.svd(RNG.normal(size=(4, 3)))
    assert u.shape == (4, 4) and sv.shape == (3,) and vt.shape == (3, 3)
    m = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(ops.pinv(m), np.linalg.pinv(m), atol=1e-12)
    y = RNG.normal(size=5)
    np.testing.assert_allclose(ops.lstsq(m, y), np.linalg.lstsq(m, y, rcond=None)[0])
    assert ops.matrix_rank(np.outer(y, y)) == 1
    assert ops.matrix_rank(np.ones((2, 3, 3))).tolist() == [1, 1]
    from scipy.linalg import lu_factor
    lu, piv = ops.lu_factor(a)
    ref = lu_factor(a[1])
    np.testing.assert_allclose(lu[1], ref[0])
    np.testing.assert_array_equal(piv[1], ref[1])
    assert piv.dtype == np.int32 and piv.shape == (2, 3)


def test_inverse_det_solve_gradients():
    a = well_conditioned(2, 3, 3)
    check(ops.inv, a)
    check(ops.det, a)
    check(ops.solve, a[0], RNG.normal(size=(3, 2)))
    check(ops.solve, a, RNG.normal(size=(2, 3, 2)))
    check(ops.solve, a[0], RNG.normal(size=3))
    check(ops.solve, a, RNG.normal(size=(3, 1)))          # b broadcast over the batch
    check(lambda x, y: ops.solve_triangular(x, y, lower=True), a[0], RNG.normal(size=(3, 2)))
    check(lambda x, y: ops.solve_triangular(x, y), a, RNG.normal(size=(2, 3, 4)))


def test_cholesky_gradients():
    check(ops.cholesky, spd(3, 3))
    check(lambda x: ops.cholesky(x, upper=True), spd(2, 3, 3))
    low = np.linalg.cholesky(spd(3, 3))
    check(ops.cholesky_inverse, low)


def test_eigh_gradients():
    s = spd(4, 4)
    check(lambda x: ops.eigh(x)[0], s)
    # eigenvectors up to sign: v * v is sign-free
    check(lambda x: ops.square(ops.eigh(x)[1]), s)
    check(lambda x: ops.eigh(x)[0] + ops.sum(ops.square(ops.eigh(x)[1]) * np.arange(3), axis=-1),
          spd(2, 3, 3))


def test_qr_gradients():
    x = RNG.normal(size=(5, 3))
    check(lambda m: ops.qr(m)[1] * ops.sign(ops.qr(m)[1]), x)   # sign-fixed R
    check(lambda m: ops.qr(m)[0] @ ops.qr(m)[1], x)                 # = m
    check(lambda m: ops.square(ops.qr(m)[0]), RNG.normal(size=(2, 4, 4)))


def test_svd_and_pinv_gradients():
    x = RNG.normal(size=(4, 3))
    check(lambda m: ops.svd(m)[1], x)
    check(lambda m: ops.svd(m, compute_uv=False), RNG.normal(size=(2, 3, 5)))
    check(ops.pinv, x)
    check(ops.pinv, RNG.normal(size=(2, 3, 5)))
    check(ops.lstsq, x, RNG.normal(size=4))
    check(ops.lstsq, x, RNG.normal(size=(4, 2)))


def test_outputs_without_gradient_raise_when_differentiated():
    x = Tensor(RNG.normal(size=(4, 3)))
    with GradientTape() as tape:
        tape.watch(x)
        u = ops.svd(x)[0]
        loss = ops.sum(u)
    with pytest.raises(NotImplementedError, match="svd"):
        tape.gradient(loss, x)
    with GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(NotImplementedError, match="eig"):
            ops.eig(ops.matmul(ops.transpose(x), x))


def test_errors():
    with pytest.raises(ValueError, match="square"):
        ops.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive definite"):
        ops.cholesky(-np.eye(2))
    with pytest.raises(ValueError, match="mode"):
        ops.qr(np.eye(2), mode="r")
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.pinv(np.ones(3))


def test_jvp():
    x, t = RNG.normal(size=(3,)), RNG.normal(size=(3,))
    y, jt = ops.jvp(ops.sin, (x,), (t,))
    np.testing.assert_allclose(y, np.sin(x))
    np.testing.assert_allclose(jt, np.cos(x) * t)
    a, ta = well_conditioned(3, 3), RNG.normal(size=(3, 3))
    (y, ya), (jt, jta), aux = ops.jvp(lambda m, v: ((ops.inv(m), ops.sum(m * v)), "aux"),
                                      (a, x), (ta, t), has_aux=True)
    np.testing.assert_allclose(jt, -np.linalg.inv(a) @ ta @ np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(jta, np.sum(ta * x + a * t), rtol=1e-10)
    assert aux == "aux"


def test_names_at_top_level():
    for name in linalg.__all__:
        assert getattr(ops, name) is getattr(linalg, name)
