"""Masked attention softmax kernel and its backward vs the numpy twins."""
import numpy as np
import pytest

from ckeras.ops import reference as ref

SHAPES = [(1, 1, 1, 1), (2, 3, 5, 7), (1, 2, 9, 4), (3, 1, 17, 33), (2, 4, 16, 129)]
TOL = dict(rtol=1e-5, atol=1e-7)


def _mask(rng, shape, kind):
    g, h, t, s = shape
    if kind == "none":
        return None
    if kind == "batch":          # (G, 1, T, S): broadcast over heads
        m = rng.random((g, 1, t, s)) > 0.4
    elif kind == "heads":        # (G, H, T, S)
        m = rng.random(shape) > 0.4
    elif kind == "keys":         # (G, 1, 1, S) from a value padding mask (3-D (G,1,S) form)
        return (rng.random((g, 1, s)) > 0.3)[:, None]
    else:                        # (T, S): one mask for every batch group and head
        m = rng.random((t, s)) > 0.4
    if t > 1:
        m[..., 0, :] = False     # a fully masked row
    return m


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["none", "batch", "heads", "keys", "shared"])
@pytest.mark.parametrize("causal", [False, True])
def test_masked_softmax_matches_twin(kernels, rng, shape, kind, causal):
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    m = _mask(rng, shape, kind)
    got = kernels.masked_softmax(x, m, causal)
    want = ref.masked_softmax(x.astype(np.float64), m, causal)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_allclose(got, want, **TOL)
    # rows sum to 1 or (nothing kept) are all 0
    sums = got.sum(-1)
    assert np.all((np.abs(sums - 1) < 1e-5) | (sums == 0))


def test_masked_softmax_semantics(kernels):
    x = np.array([[[[1.0, 2.0, 3.0], [0.5, 0.5, 9.0]]]], np.float32)
    m = np.array([[True, False, True], [False, False, False]])
    y = kernels.masked_softmax(x, m)
    np.testing.assert_allclose(y[0, 0, 0], [1 / (1 + np.e ** 2), 0, np.e ** 2 / (1 + np.e ** 2)],
                               rtol=1e-6)
    assert np.all(y[0, 0, 1] == 0)
    yc = kernels.masked_softmax(x, None, causal=True)
    np.testing.assert_array_equal(yc[0, 0, 0], [1, 0, 0])
    np.testing.assert_allclose(yc[0, 0, 1], [0.5, 0.5, 0], rtol=1e-6)


def test_large_and_masked_extreme_scores(kernels):
    x = np.array([[[[1e30, -1e30, 3.0, np.float32(3e38)]]]], np.float32)
    m = np.array([[[[False, True, True, False]]]])
    y = kernels.masked_softmax(x, m)
    np.testing.assert_allclose(y[0, 0, 0], [0, 0, 1, 0])


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (2, 3, 5, 129)])
def test_softmax_backward_matches_twin(kernels, rng, shape):
    y = ref.masked_softmax(rng.standard_normal((1,) * (4 - len(shape)) + shape),
                           None).reshape(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    got = kernels.softmax_backward(dy, y)
    np.testing.assert_allclose(got, ref.softmax_backward(dy.astype(np.float64),
                                                         y.astype(np.float64)), **TOL)


def test_across_threads(across_threads, rng):
    from ckeras import ops
    x = (rng.standard_normal((3, 4, 33, 65)) * 3).astype(np.float32)
    m = rng.random((3, 1, 33, 65)) > 0.3
    dy = rng.standard_normal(x.shape).astype(np.float32)
    across_threads(lambda: ops.masked_softmax(x, m, True))
    y = across_threads(lambda: ops.masked_softmax(x, None))
    across_threads(lambda: ops.softmax_backward(dy, y))


def test_bad_inputs_raise(kernels):
    from ckeras._kernels import _attention
    x = np.zeros((1, 2, 3, 4), np.float32)
    with pytest.raises(ValueError, match="mask has shape"):
        _attention.masked_softmax(x, np.ones((1, 3, 3, 4), bool))
    with pytest.raises(TypeError):
        _attention.masked_softmax(x.astype(np.float64))
    with pytest.raises(ValueError, match="4-D"):
        _attention.masked_softmax(np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError):
        _attention.masked_softmax(x, np.ones((1, 1, 3, 4), np.float32))
    with pytest.raises(ValueError):
        _attention.softmax_backward(np.zeros((2, 3), np.float32), np.zeros((3, 2), np.float32))


def test_dispatch_float64_goes_to_the_twin(kernels, rng):
    x = rng.standard_normal((2, 1, 3, 4))
    m = rng.random((3, 4)) > 0.5
    got = kernels.masked_softmax(x, m, True)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, ref.masked_softmax(x, m, True))


def test_in_place_outputs_match(kernels, rng):
    x = (rng.standard_normal((2, 3, 9, 17)) * 3).astype(np.float32)
    m = rng.random((2, 1, 9, 17)) > 0.3
    want = kernels.masked_softmax(x, m, True)
    buf = x.copy()
    got = kernels.masked_softmax(buf, m, True, out=buf)
    assert got is buf
    np.testing.assert_array_equal(got, want)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    want = kernels.softmax_backward(dy, got)
    dbuf = dy.copy()
    assert kernels.softmax_backward(dbuf, got, out=dbuf) is dbuf
    np.testing.assert_array_equal(dbuf, want)
    x64 = x.astype(np.float64)
    out64 = np.empty_like(x64)
    assert kernels.masked_softmax(x64, m, out=out64) is out64          # the twin too
    np.testing.assert_allclose(out64, ref.masked_softmax(x64, m))
