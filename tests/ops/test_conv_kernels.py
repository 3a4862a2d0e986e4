"""Convolution / pooling kernels vs their numpy twins (ckeras.ops.reference),
at 1 and 2 threads, on random, odd and edge geometries; the twins vs direct
loops and central differences."""
import itertools

import numpy as np
import pytest

from ckeras.ops import reference as ref
from ckeras.testing import numeric_gradient

conv = pytest.importorskip("ckeras._kernels._conv")
pool = pytest.importorskip("ckeras._kernels._pool")


def out_len(n, k, s, d, pad, after):
    return (n + pad + after - ((k - 1) * d + 1)) // s + 1


def geom(n, k, s=(1, 1, 1), d=(1, 1, 1), pad=(0, 0, 0), after=(0, 0, 0)):
    out = tuple(out_len(*v) for v in zip(n, k, s, d, pad, after))
    return (tuple(n), out, tuple(k), tuple(s), tuple(d), tuple(pad))


# (batch, channels, geometry): 1-D, 2-D and 3-D, strides, dilation, padding on
# either side, 1x1 (the no-im2col path), windows wider than the input.
GEOMS = [
    (2, 3, geom((1, 1, 9), (1, 1, 3))),
    (3, 1, geom((1, 1, 10), (1, 1, 4), s=(1, 1, 3), pad=(0, 0, 1), after=(0, 0, 2))),
    (2, 2, geom((1, 1, 7), (1, 1, 3), d=(1, 1, 2), pad=(0, 0, 4))),          # causal
    (2, 3, geom((1, 6, 5), (1, 3, 3))),
    (1, 4, geom((1, 7, 8), (1, 3, 2), s=(1, 2, 2), pad=(0, 1, 0), after=(0, 1, 1))),
    (3, 2, geom((1, 6, 6), (1, 3, 3), d=(1, 2, 2), pad=(0, 2, 2), after=(0, 2, 2))),
    (2, 5, geom((1, 4, 5), (1, 1, 1))),
    (2, 3, geom((1, 5, 4), (1, 1, 1), s=(1, 2, 2))),
    (1, 1, geom((1, 2, 2), (1, 4, 4), pad=(0, 1, 1), after=(0, 2, 2))),
    (2, 2, geom((4, 5, 3), (2, 3, 2), s=(2, 1, 1), pad=(0, 1, 1), after=(1, 1, 0))),
    (17, 3, geom((1, 9, 9), (1, 3, 3), pad=(0, 1, 1), after=(0, 1, 1))),
]
IDS = [f"g{i}" for i in range(len(GEOMS))]


def _x(b, c, n, seed):
    return np.random.default_rng(seed).standard_normal((b,) + n + (c,)).astype(np.float32)


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("b,c,geo", GEOMS, ids=IDS)
def test_im2col_col2im_match_twins(b, c, geo):
    x = _x(b, c, geo[0], 1)
    want = ref.im2col(x, geo)
    got = [conv.im2col(x, geo, n_threads=nt) for nt in (1, 2)]
    np.testing.assert_array_equal(got[0], want)
    _same(*got)
    cols = np.random.default_rng(2).standard_normal(want.shape).astype(np.float32)
    want = ref.col2im(cols.astype(np.float64), b, c, geo)
    got = [conv.col2im(cols, b, c, geo, n_threads=nt) for nt in (1, 2)]
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-5)
    _same(*got)


@pytest.mark.parametrize("b,c,geo", GEOMS, ids=IDS)
@pytest.mark.parametrize("act", ["linear", "relu", "tanh"])
@pytest.mark.parametrize("chunk, small_k", [(1 << 21, conv.SMALL_K), (1, 0)])
def test_conv_forward_backward_match_twins(b, c, geo, act, chunk, small_k, across_threads):
    f = 4
    rng = np.random.default_rng(3)
    x = _x(b, c, geo[0], 4)
    k = rng.standard_normal((int(np.prod(geo[2])) * c, f)).astype(np.float32)
    bias = rng.standard_normal(f).astype(np.float32)
    y = across_threads(lambda: conv.conv_forward(x, k, bias, act, geo, 1, chunk_bytes=chunk),
                       blas=False)
    yr = ref.conv_forward(x.astype(np.float64), k.astype(np.float64), bias, act, geo)
    np.testing.assert_allclose(y, yr, rtol=1e-4, atol=1e-4)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dk_r, db_r = np.zeros(k.shape), np.zeros(f)
    dx_r = ref.conv_backward(dy.astype(np.float64), x.astype(np.float64), y.astype(np.float64),
                             k.astype(np.float64), act, geo, dk_r, db_r)

    def run():
        dk = np.full(k.shape, np.nan, np.float32)       # fresh: garbage is overwritten
        db = np.ones(f, np.float32)
        dx = conv.conv_backward(dy, x, y, k, act, geo, dk, db, True, True, 1,
                                chunk_bytes=chunk)
        return dx, dk, db
    dx, dk, db = across_threads(run, blas=False)
    np.testing.assert_allclose(dx, dx_r, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dk, dk_r, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(db, db_r + 1, rtol=1e-4, atol=1e-4)
    # Accumulating, without dx (small patches: the direct weight-gradient kernel).
    def no_dx():
        dk2, db2 = dk.copy(), db.copy()
        assert conv.conv_backward(dy, x, y, k, act, geo, dk2, db2, False, False, 1,
                                  chunk_bytes=chunk, small_k=small_k) is None
        return dk2, db2
    dk2, db2 = across_threads(no_dx, blas=False)
    np.testing.assert_allclose(dk2, 2 * dk, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(db2, 2 * db - 1, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("b,c,geo", GEOMS, ids=IDS)
@pytest.mark.parametrize("act", ["linear", "sigmoid"])
@pytest.mark.parametrize("chunk", [1 << 21, 1])
def test_conv_transpose_match_twins(b, c, geo, act, chunk, across_threads):
    # geo's input is the transposed conv's output (c channels); its output
    # the transposed conv's input (cin channels).
    cin = 3
    rng = np.random.default_rng(5)
    x = rng.standard_normal((b,) + geo[1] + (cin,)).astype(np.float32)
    k = rng.standard_normal((int(np.prod(geo[2])) * c, cin)).astype(np.float32)
    bias = rng.standard_normal(c).astype(np.float32)
    y = across_threads(lambda: conv.conv_transpose_forward(x, k, bias, act, geo, 1,
                                                           chunk_bytes=chunk), blas=False)
    yr = ref.conv_transpose_forward(x.astype(np.float64), k.astype(np.float64), bias, act, geo)
    np.testing.assert_allclose(y, yr, rtol=1e-4, atol=1e-4)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dk_r, db_r = np.zeros(k.shape), np.zeros(c)
    dx_r = ref.conv_transpose_backward(dy.astype(np.float64), x.astype(np.float64),
                                       y.astype(np.float64), k.astype(np.float64), act, geo,
                                       dk_r, db_r)

    def run():
        dk = np.full(k.shape, np.nan, np.float32)
        db = np.zeros(c, np.float32)
        dx = conv.conv_transpose_backward(dy, x, y, k, act, geo, dk, db, True, True, 1,
                                          chunk_bytes=chunk)
        return dx, dk, db
    dx, dk, db = across_threads(run, blas=False)
    np.testing.assert_allclose(dx, dx_r, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dk, dk_r, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(db, db_r, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("b,c,geo", GEOMS, ids=IDS)
@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("chunk", [1 << 21, 1])
def test_depthwise_match_twins(b, c, geo, m, chunk, across_threads):
    rng = np.random.default_rng(17)
    x = _x(b, c, geo[0], 18)
    k = rng.standard_normal((int(np.prod(geo[2])), c, m)).astype(np.float32)
    bias = rng.standard_normal(c * m).astype(np.float32)
    y = across_threads(lambda: conv.depthwise_forward(x, k, bias, "relu", geo, 1,
                                                      chunk_bytes=chunk))
    yr = ref.depthwise_forward(x.astype(np.float64), k.astype(np.float64), bias, "relu", geo)
    np.testing.assert_allclose(y, yr, rtol=1e-4, atol=1e-4)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dk_r, db_r = np.zeros(k.shape), np.zeros(c * m)
    dx_r = ref.depthwise_backward(dy.astype(np.float64), x.astype(np.float64),
                                  y.astype(np.float64), k.astype(np.float64), "relu", geo,
                                  dk_r, db_r)

    def run():
        dk = np.full(k.shape, np.nan, np.float32)
        db = np.zeros(c * m, np.float32)
        dx = conv.depthwise_backward(dy, x, y, k, "relu", geo, dk, db, True, True, 1,
                                     chunk_bytes=chunk)
        return dx, dk, db
    dx, dk, db = across_threads(run)
    np.testing.assert_allclose(dx, dx_r, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dk, dk_r, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(db, db_r, rtol=1e-4, atol=1e-4)


def test_depthwise_twin_is_a_grouped_conv():
    # Depthwise = a convolution whose kernel is zero across channels.
    b, c, geo = GEOMS[4]
    m = 2
    rng = np.random.default_rng(19)
    x = _x(b, c, geo[0], 20).astype(np.float64)
    k = rng.standard_normal((int(np.prod(geo[2])), c, m))
    full = np.zeros((k.shape[0], c, c * m))
    for ch in range(c):
        full[:, ch, ch * m:(ch + 1) * m] = k[:, ch]
    np.testing.assert_allclose(ref.depthwise_forward(x, k, None, "linear", geo),
                               ref.conv_forward(x, full.reshape(-1, c * m), None, "linear",
                                                geo), atol=1e-12)


def test_transpose_is_the_adjoint_of_conv():
    # <conv(x), u> == <x, conv_transpose(u)> with the same kernel.
    b, c, geo = GEOMS[4]
    rng = np.random.default_rng(6)
    x = _x(b, c, geo[0], 7)
    k = rng.standard_normal((int(np.prod(geo[2])) * c, 5)).astype(np.float32)
    y = conv.conv_forward(x, k, None, "linear", geo)
    u = rng.standard_normal(y.shape).astype(np.float32)
    xt = conv.conv_transpose_forward(u, np.ascontiguousarray(k), None, "linear", geo)
    assert xt.shape == x.shape
    np.testing.assert_allclose((y * u).sum(), (x * xt).sum(), rtol=1e-4)


def _direct_conv(x, k5, geo):
    """Direct loops: y[b, o, f] = sum_taps x[b, o*s - pad + t*d] k5[t]."""
    n, o, kk, s, d, p = geo
    b = x.shape[0]
    y = np.zeros((b,) + o + (k5.shape[-1],))
    for out in itertools.product(*(range(v) for v in o)):
        for t in itertools.product(*(range(v) for v in kk)):
            src = [out[i] * s[i] - p[i] + t[i] * d[i] for i in range(3)]
            if all(0 <= src[i] < n[i] for i in range(3)):
                y[(slice(None),) + out] += x[(slice(None),) + tuple(src)] @ k5[t]
    return y


@pytest.mark.parametrize("b,c,geo", GEOMS[:6] + GEOMS[9:10], ids=IDS[:6] + IDS[9:10])
def test_twin_matches_direct_loops(b, c, geo):
    x = _x(b, c, geo[0], 8).astype(np.float64)
    k5 = np.random.default_rng(9).standard_normal(geo[2] + (c, 3))
    y = ref.conv_forward(x, k5.reshape(-1, 3), None, "linear", geo)
    np.testing.assert_allclose(y, _direct_conv(x, k5, geo), atol=1e-10)


def test_twin_gradients_by_central_differences():
    b, c, geo = GEOMS[4]
    rng = np.random.default_rng(10)
    x = rng.standard_normal((b,) + geo[0] + (c,))
    k = rng.standard_normal((int(np.prod(geo[2])) * c, 2))
    bias = rng.standard_normal(2)
    y = ref.conv_forward(x, k, bias, "tanh", geo)
    r = rng.standard_normal(y.shape)
    dk, db = np.zeros_like(k), np.zeros(2)
    dx = ref.conv_backward(r, x, y, k, "tanh", geo, dk, db)
    for arr, grad in ((x, dx), (k, dk), (bias, db)):
        coords = rng.choice(arr.size, min(arr.size, 25), replace=False)
        num = numeric_gradient(lambda: (ref.conv_forward(x, k, bias, "tanh", geo) * r).sum(),
                               arr, 1e-6, coords).reshape(-1)
        for i in coords:
            assert abs(num[i] - grad.reshape(-1)[i]) < 1e-6


# ---- pooling ---------------------------------------------------------------------

def pgeom(n, k, s, pad=(0, 0, 0), after=(0, 0, 0)):
    return geom(n, k, s=s, pad=pad, after=after)


POOLS = [
    (2, 3, pgeom((1, 1, 9), (1, 1, 2), (1, 1, 2))),
    (3, 2, pgeom((1, 1, 10), (1, 1, 3), (1, 1, 2), pad=(0, 0, 1), after=(0, 0, 1))),
    (2, 4, pgeom((1, 6, 6), (1, 2, 2), (1, 2, 2))),
    (2, 3, pgeom((1, 7, 5), (1, 3, 3), (1, 1, 2), pad=(0, 1, 1), after=(0, 1, 1))),
    (1, 5, pgeom((1, 5, 5), (1, 3, 2), (1, 2, 1))),
    (2, 2, pgeom((3, 4, 5), (2, 2, 2), (2, 2, 2), after=(1, 0, 1))),
    (33, 7, pgeom((1, 4, 4), (1, 2, 2), (1, 2, 2))),
]
PIDS = [f"p{i}" for i in range(len(POOLS))]


@pytest.mark.parametrize("b,c,geo", POOLS, ids=PIDS)
def test_max_pool_matches_twin(b, c, geo, across_threads):
    x = _x(b, c, geo[0], 11)
    x[0, ..., 0] = 1.0                       # ties: the first maximum wins
    y, arg = across_threads(lambda: pool.max_pool_forward(x, geo, 1), blas=False)
    yr, ar = ref.max_pool_forward(x, geo)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(arg, ar)
    y_only, none = pool.max_pool_forward(x, geo, 1, want_argmax=False)
    assert none is None and ref.max_pool_forward(x, geo, want_argmax=False)[1] is None
    np.testing.assert_array_equal(y_only, y)
    dy = np.random.default_rng(12).standard_normal(y.shape).astype(np.float32)
    dx = across_threads(lambda: pool.max_pool_backward(dy, arg, geo, 1), blas=False)
    np.testing.assert_allclose(dx, ref.max_pool_backward(dy.astype(np.float64), ar, geo),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("b,c,geo", POOLS, ids=PIDS)
def test_avg_pool_matches_twin(b, c, geo, across_threads):
    x = _x(b, c, geo[0], 13)
    y = across_threads(lambda: pool.avg_pool_forward(x, geo, 1), blas=False)
    np.testing.assert_allclose(y, ref.avg_pool_forward(x.astype(np.float64), geo),
                               rtol=1e-5, atol=1e-6)
    dy = np.random.default_rng(14).standard_normal(y.shape).astype(np.float32)
    dx = across_threads(lambda: pool.avg_pool_backward(dy, c, geo, 1), blas=False)
    np.testing.assert_allclose(dx, ref.avg_pool_backward(dy.astype(np.float64), c, geo),
                               rtol=1e-5, atol=1e-6)


def test_pool_twins_by_central_differences():
    b, c, geo = POOLS[3]
    rng = np.random.default_rng(15)
    x = rng.standard_normal((b,) + geo[0] + (c,))
    r = rng.standard_normal((b,) + geo[1] + (c,))
    y, arg = ref.max_pool_forward(x, geo)
    grads = {"max": ref.max_pool_backward(r, arg, geo), "avg": ref.avg_pool_backward(r, c, geo)}
    fwd = {"max": lambda: ref.max_pool_forward(x, geo)[0], "avg": lambda: ref.avg_pool_forward(x, geo)}
    for mode in ("max", "avg"):
        coords = rng.choice(x.size, 30, replace=False)
        num = numeric_gradient(lambda: (fwd[mode]() * r).sum(), x, 1e-6, coords).reshape(-1)
        for i in coords:
            assert abs(num[i] - grads[mode].reshape(-1)[i]) < 1e-6


def test_bad_arguments_raise():
    b, c, geo = GEOMS[3]
    x = _x(b, c, geo[0], 16)
    k = np.zeros((9 * c, 2), np.float32)
    with pytest.raises(ValueError, match="kernel has shape"):
        conv.conv_forward(x, k[1:], None, "linear", geo)
    with pytest.raises(ValueError, match="x has shape"):
        conv.conv_forward(x[:, :-1].copy(), k, None, "linear", geo)
    with pytest.raises(TypeError, match="float32"):
        conv.conv_forward(x.astype(np.float64), k, None, "linear", geo)
    with pytest.raises(ValueError, match="geometry"):
        conv.im2col(x, geo[:5])
    with pytest.raises(ValueError, match="invalid geometry"):
        conv.im2col(x, (geo[0], geo[1], geo[2], (0, 1, 1), geo[4], geo[5]))
    with pytest.raises(ValueError, match="dkernel"):
        conv.conv_backward(np.zeros((b,) + geo[1] + (2,), np.float32), x,
                           np.zeros((b,) + geo[1] + (2,), np.float32), k, "linear", geo,
                           np.zeros((3, 2), np.float32), None)
    y, arg = pool.max_pool_forward(x, (geo[0], (1, 3, 2), (1, 2, 2), (1, 2, 2), (1, 1, 1),
                                       (0, 0, 0)))
    bad = arg.copy()
    bad[0, 0, 0, 0, 0] = 10 ** 6
    with pytest.raises(ValueError, match="outside"):
        pool.max_pool_backward(y, bad, (geo[0], (1, 3, 2), (1, 2, 2), (1, 2, 2), (1, 1, 1),
                                        (0, 0, 0)))
    with pytest.raises(ValueError, match="no input"):
        pool.avg_pool_forward(x, (geo[0], (1, 3, 9), (1, 2, 2), (1, 2, 2), (1, 1, 1),
                                  (0, 0, 0)))


def test_empty_batch():
    b, c, geo = GEOMS[3]
    x = np.zeros((0,) + geo[0] + (c,), np.float32)
    k = np.ones((9 * c, 2), np.float32)
    y = conv.conv_forward(x, k, None, "relu", geo)
    assert y.shape == (0,) + geo[1] + (2,)
    dk = np.full(k.shape, np.nan, np.float32)
    dx = conv.conv_backward(y, x, y, k, "relu", geo, dk, None, True, True)
    assert dx.shape == x.shape and not dk.any()
