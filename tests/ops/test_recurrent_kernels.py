"""Fused LSTM gate kernels vs the numpy reference; reference vs finite differences."""
import numpy as np
import pytest

from ckeras.ops import reference as ref

kern = pytest.importorskip("ckeras._kernels._recurrent")

SHAPES = [(1, 1), (1, 7), (3, 5), (64, 128), (17, 33), (130, 9)]


def _inputs(B, u, seed, dt=np.float32):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((B, 4 * u)) * 3).astype(dt)
    z[0, 0] = 40.0          # saturated gates stay finite
    z[-1, -1] = -40.0
    cp = rng.standard_normal((B, u)).astype(dt)
    return z, cp, rng


@pytest.mark.parametrize("B,u", SHAPES)
def test_forward_matches_reference_and_threads(B, u):
    z, cp, _ = _inputs(B, u, B * 100 + u)
    zr = z.astype(np.float64)
    hr, cr, tr = ref.lstm_gates_forward(zr, cp.astype(np.float64))
    res = []
    for nt in (1, 2):
        zk = z.copy()
        h, c, tc = kern.lstm_gates_forward(zk, cp, n_threads=nt)
        np.testing.assert_allclose(zk, zr, atol=2e-6)
        np.testing.assert_allclose(h, hr, atol=2e-6)
        np.testing.assert_allclose(c, cr, atol=5e-6)
        np.testing.assert_allclose(tc, tr, atol=2e-6)
        res.append((zk, h, c, tc))
    for a, b in zip(*res):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("B,u", SHAPES)
def test_backward_matches_reference_and_threads(B, u):
    z, cp, rng = _inputs(B, u, B * 7 + u)
    h, c, tc = kern.lstm_gates_forward(z, cp)
    dh = rng.standard_normal((B, u)).astype(np.float32)
    dc = rng.standard_normal((B, u)).astype(np.float32)
    dzr, dcr = ref.lstm_gates_backward(*(a.astype(np.float64) for a in (dh, dc, z, cp, tc)))
    res = []
    for nt in (1, 2):
        dz, dcp = kern.lstm_gates_backward(dh, dc, z, cp, tc, n_threads=nt)
        np.testing.assert_allclose(dz, dzr, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(dcp, dcr, rtol=1e-5, atol=1e-6)
        res.append((dz, dcp))
    for a, b in zip(*res):
        assert a.tobytes() == b.tobytes()
    dc2 = dc.copy()                       # in place: dc_prev is dc
    kern.lstm_gates_backward(dh, dc2, z, cp, tc, dc_prev=dc2)
    assert dc2.tobytes() == res[0][1].tobytes()


def test_bad_shapes_raise():
    z = np.zeros((2, 8), np.float32)
    with pytest.raises(ValueError, match="c_prev"):
        kern.lstm_gates_forward(z, np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="float32"):
        kern.lstm_gates_forward(z.astype(np.float64), np.zeros((2, 2), np.float32))


def test_reference_gradients_by_central_differences():
    B, u = 3, 4
    z0, cp0, rng = _inputs(B, u, 5, np.float64)
    z0 *= 0.5
    wh, wc = rng.standard_normal((B, u)), rng.standard_normal((B, u))

    def loss(z, cp):
        h, c, _ = ref.lstm_gates_forward(z.copy(), cp)
        return (h * wh).sum() + (c * wc).sum()

    gates = z0.copy()
    _, _, tc = ref.lstm_gates_forward(gates, cp0)
    dz, dcp = ref.lstm_gates_backward(wh, wc, gates, cp0, tc)
    eps = 1e-6
    for arr, grad in ((z0, dz), (cp0, dcp)):
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            lp = loss(z0, cp0)
            arr[idx] = old - eps
            lm = loss(z0, cp0)
            arr[idx] = old
            num[idx] = (lp - lm) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


def test_ops_dispatch_float32_and_float64_agree():
    from ckeras import ops
    z, cp, rng = _inputs(5, 6, 11)
    z64 = z.astype(np.float64)
    h32, c32, t32 = ops.lstm_gates_forward(z, cp)
    h64, c64, t64 = ops.lstm_gates_forward(z64, cp.astype(np.float64))
    assert h32.dtype == np.float32 and h64.dtype == np.float64
    np.testing.assert_allclose(h32, h64, atol=2e-6)
    dh = rng.standard_normal((5, 6)).astype(np.float32)
    dz32, _ = ops.lstm_gates_backward(dh, dh, z, cp, t32)
    dz64, _ = ops.lstm_gates_backward(dh.astype(np.float64), dh.astype(np.float64),
                                      z64, cp.astype(np.float64), t64)
    np.testing.assert_allclose(dz32, dz64, rtol=1e-5, atol=1e-6)
