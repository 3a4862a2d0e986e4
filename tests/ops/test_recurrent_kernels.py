"""Fused LSTM gate kernels vs the numpy reference; reference vs finite differences."""
import numpy as np
import pytest

from ckeras.ops import reference as ref
from ckeras.testing import numeric_gradient

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
    for arr, grad in ((z0, dz), (cp0, dcp)):
        num = numeric_gradient(lambda: loss(z0, cp0), arr, 1e-6)
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


# ---- whole sequences: C time loop vs the numpy twin -------------------------------

SEQ_SHAPES = [(1, 1, 1, 1), (3, 2, 5, 4), (7, 5, 3, 6), (4, 9, 17, 2), (2, 64, 8, 33)]
GATES = {"lstm": 4, "gru_after": 3, "gru_before": 3, "rnn_tanh": 1, "rnn_relu": 1,
         "rnn_sigmoid": 1, "rnn_linear": 1}


def _seq_case(kind, T, B, D, u, masked, seed, dt, dropped=False):
    rng = np.random.default_rng(seed)
    G = GATES[kind] * u
    z = (rng.standard_normal((T, B, G)) * 1.5).astype(dt)
    R = (rng.standard_normal((u, G)) / np.sqrt(u)).astype(dt)
    h0 = rng.standard_normal((B, u)).astype(dt) * 0.5
    c0 = rng.standard_normal((B, u)).astype(dt) * 0.5
    brec = rng.standard_normal(G).astype(dt) * 0.3
    skip = None
    if masked:
        skip = rng.random((T, B)) < 0.35
        skip[:, 0] = True            # a sample masked at every step
    dH = rng.standard_normal((T, B, u)).astype(dt)
    dfin = rng.standard_normal((2, B, u)).astype(dt)
    rmask = ((rng.random((B, u)) > 0.3) / 0.7).astype(dt) if dropped else None
    return z, R, h0, c0, brec, skip, dH, dfin, rmask


def _run(mod, kind, case, need_initial, **kw):
    z, R, h0, c0, brec, skip, dH, dfin, rmask = (
        None if a is None else (a.copy() if isinstance(a, np.ndarray) else a) for a in case)
    T, B, _ = z.shape
    u = R.shape[0]
    dt = z.dtype
    hs = np.zeros((T + 1, B, u), dt)
    hs[0] = h0
    dh = dfin[0].copy()
    out = {}
    if kind == "lstm":
        cs = np.zeros_like(hs)
        cs[0] = c0
        tcs = np.zeros((T, B, u), dt)
        mod.lstm_seq_forward(z, R, skip, hs, cs, tcs, rmask, **kw)
        dc = dfin[1].copy()
        dz = np.zeros_like(z)
        mod.lstm_seq_backward(z, R, skip, cs, tcs, dH, dh, dc, dz, need_initial, rmask, **kw)
        out.update(cs=cs, tcs=tcs, dc=dc, dz=dz)
    elif kind.startswith("gru"):
        after = kind == "gru_after"
        rec = np.zeros((T, B, 3 * u if after else u), dt)
        mod.gru_seq_forward(z, R, brec if after else None, skip, hs, rec, after, rmask, **kw)
        dxp = np.zeros_like(z)
        drec = np.zeros((T, B, 3 * u), dt) if after else None
        mod.gru_seq_backward(z, R, skip, hs, rec, dH, dh, dxp, drec, after, need_initial,
                             rmask, **kw)
        out.update(rec=rec, dxp=dxp, drec=drec)
    else:
        act = kind.split("_")[1]
        mod.rnn_seq_forward(z, R, skip, hs, act, rmask, **kw)
        dz = np.zeros_like(z)
        mod.rnn_seq_backward(z, R, skip, dH, dh, dz, act, need_initial, rmask, **kw)
        out.update(dz=dz)
    out.update(z=z, hs=hs)
    if need_initial:
        out["dh"] = dh
    return out


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("T,B,D,u", SEQ_SHAPES)
@pytest.mark.parametrize("masked,dropped", [(False, False), (True, False), (True, True)])
def test_sequence_kernels_match_reference_at_1_and_2_threads(kind, T, B, D, u, masked,
                                                             dropped):
    case = _seq_case(kind, T, B, D, u, masked, T * 31 + B * 7 + u, np.float32, dropped)
    case64 = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32
                   else a for a in case)
    want = _run(ref, kind, case64, True)
    got = [_run(kern, kind, case, True, n_threads=nt) for nt in (1, 2)]
    for key, w in want.items():
        if w is None:
            continue
        np.testing.assert_allclose(got[0][key], w, rtol=2e-4, atol=2e-5, err_msg=key)
        assert got[0][key].tobytes() == got[1][key].tobytes(), key
    if masked:   # a sample masked throughout keeps its initial state
        np.testing.assert_array_equal(got[0]["hs"][-1][0], case[2][0])


@pytest.mark.parametrize("kind", ["lstm", "gru_after", "gru_before", "rnn_tanh"])
@pytest.mark.parametrize("dropped", [False, True])
def test_sequence_backward_without_initial_gradient(kind, dropped):
    case = _seq_case(kind, 5, 3, 2, 4, True, 3, np.float32, dropped)
    full = _run(kern, kind, case, True)
    part = _run(kern, kind, case, False)
    for key in part:
        if part[key] is not None:
            assert part[key].tobytes() == full[key].tobytes(), key


@pytest.mark.parametrize("dropped", [False, True])
def test_sequence_reference_gradients_by_central_differences(dropped):
    """The twins' BPTT is the gradient of their forward (float64)."""
    for kind in ("lstm", "gru_after", "gru_before", "rnn_tanh", "rnn_sigmoid"):
        T, B, u = 3, 2, 3
        case = _seq_case(kind, T, B, 2, u, True, 9, np.float64, dropped)
        z0, R0, h0, c0, brec, skip, dH, dfin, rmask = case
        skip[:, 0] = False
        skip[1, 0] = True

        def loss(z, R, h0):
            c = _run(ref, kind, (z, R, h0, c0, brec, skip, dH, dfin, rmask), False)
            val = (c["hs"][1:] * dH).sum() + (c["hs"][-1] * dfin[0]).sum()
            if kind == "lstm":
                val += (c["cs"][-1] * dfin[1]).sum()
            return val

        res = _run(ref, kind, case, True)
        dz = res.get("dz", res.get("dxp"))
        for arr, grad in ((z0, dz), (h0, res["dh"])):
            num = numeric_gradient(lambda: loss(z0, R0, h0), arr, 1e-6)
            np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7, err_msg=kind)


def test_sequence_kernel_bad_input_raises():
    z = np.zeros((2, 3, 8), np.float32)
    R = np.zeros((2, 8), np.float32)
    hs = np.zeros((3, 3, 2), np.float32)
    with pytest.raises(ValueError, match="cs"):
        kern.lstm_seq_forward(z, R, None, hs, np.zeros((3, 3, 3), np.float32),
                              np.zeros((2, 3, 2), np.float32))
    with pytest.raises(ValueError, match="recurrent_kernel"):
        kern.lstm_seq_forward(z, np.zeros((3, 8), np.float32), None, hs, hs.copy(),
                              np.zeros((2, 3, 2), np.float32))
    with pytest.raises(TypeError, match="float32"):
        kern.lstm_seq_forward(z.astype(np.float64), R, None, hs, hs.copy(),
                              np.zeros((2, 3, 2), np.float32))
    with pytest.raises(ValueError, match="skip"):
        kern.lstm_seq_forward(z, R, np.zeros((3, 2), bool), hs, hs.copy(),
                              np.zeros((2, 3, 2), np.float32))
    with pytest.raises(ValueError, match="multiple|units"):
        kern.gru_seq_forward(np.zeros((2, 3, 7), np.float32), R, None, None, hs,
                             np.zeros((2, 3, 2), np.float32), False)
    with pytest.raises(ValueError, match="softmax"):
        kern.rnn_seq_forward(np.zeros((2, 3, 2), np.float32), np.zeros((2, 2), np.float32),
                             None, hs, "softmax")
    with pytest.raises(ValueError, match="rmask"):
        kern.lstm_seq_forward(z, R, None, hs, hs.copy(), np.zeros((2, 3, 2), np.float32),
                              np.ones((3, 3), np.float32))
    with pytest.raises(ValueError, match="read-only"):
        ro = z.copy()
        ro.flags.writeable = False
        kern.lstm_seq_forward(ro, R, None, hs, hs.copy(), np.zeros((2, 3, 2), np.float32))
