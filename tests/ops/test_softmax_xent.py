"""Fused softmax + cross-entropy and sigmoid + BCE kernels vs the reference."""
import numpy as np
import pytest

from ckeras.ops import OutOfRangeError
from ckeras.ops import reference as ref

SHAPES = [(1, 1), (3, 17), (17, 129), (5, 1000)]
TOL = dict(rtol=1e-4, atol=1e-6)


def _ref64(logits, labels, scale=None, want_probs=False):
    lab = labels if labels.dtype.kind in "iu" else labels.astype(np.float64)
    sc = None if scale is None else np.asarray(scale, np.float64)
    return ref.softmax_cross_entropy(logits.astype(np.float64), lab, sc, want_probs)


def _check(got, want):
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert g.dtype == np.float32 and g.shape == w.shape
        np.testing.assert_allclose(g, w, **TOL)


@pytest.mark.parametrize("b,c", SHAPES)
@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("want_probs", [False, True])
def test_sparse_labels(kernels, rng, b, c, label_dtype, want_probs):
    logits = (rng.standard_normal((b, c)) * 3).astype(np.float32)
    labels = rng.integers(0, min(c, 255), b).astype(label_dtype)
    scale = rng.uniform(0.1, 2, b).astype(np.float32)
    _check(kernels.softmax_cross_entropy(logits, labels, scale, want_probs),
           _ref64(logits, labels, scale, want_probs))
    _check(kernels.softmax_cross_entropy(logits, labels),
           _ref64(logits, labels))


@pytest.mark.parametrize("b,c", SHAPES)
@pytest.mark.parametrize("kind", ["onehot", "soft"])
def test_dense_targets(kernels, rng, b, c, kind):
    logits = (rng.standard_normal((b, c)) * 3).astype(np.float32)
    if kind == "onehot":
        t = np.eye(c, dtype=np.float32)[rng.integers(0, c, b)]
    else:
        t = rng.uniform(0, 1, (b, c)).astype(np.float32)
        t /= t.sum(axis=1, keepdims=True)
    _check(kernels.softmax_cross_entropy(logits, t, 0.25, True), _ref64(logits, t, 0.25, True))
    # float64 targets with float32 logits are cast once
    _check(kernels.softmax_cross_entropy(logits, t.astype(np.float64)), _ref64(logits, t))


def test_edge_logits(kernels):
    logits = np.array([[0.0, -np.inf, 2.0, -np.inf],      # masked classes
                       [1e30, 0.0, -1e30, 5.0],           # huge magnitudes
                       [88.0, 89.0, 90.0, 87.0],          # exp would overflow unshifted
                       [-1e4, -1e4, -1e4, -1e4]], np.float32)
    labels = np.array([2, 1, 0, 3])
    got = kernels.softmax_cross_entropy(logits, labels, want_probs=True)
    want = _ref64(logits, labels, want_probs=True)
    _check(got, want)
    assert np.isfinite(got[0]).all() and np.isfinite(got[1]).all()
    assert got[1][0, 1] == 0 and got[1][0, 3] == 0
    # dense targets: zero targets on masked (-inf) classes give no NaN
    t = np.zeros_like(logits)
    t[np.arange(4), labels] = 1
    got_d = kernels.softmax_cross_entropy(logits, t)
    np.testing.assert_allclose(got_d[0], got[0], rtol=1e-6)
    np.testing.assert_allclose(got_d[1], got[1], rtol=1e-6, atol=1e-7)
    # a label on a masked class: infinite loss, finite gradient
    l_inf, g_inf, _ = kernels.softmax_cross_entropy(logits[:1], np.array([1]))
    assert l_inf[0] == np.inf and np.isfinite(g_inf).all()


def test_one_class_empty_batch_and_nd(kernels, rng):
    losses, grad, p = kernels.softmax_cross_entropy(
        rng.standard_normal((4, 1)).astype(np.float32), np.zeros(4, np.int64), want_probs=True)
    assert (losses == 0).all() and (grad == 0).all() and (p == 1).all()
    losses, grad, p = kernels.softmax_cross_entropy(np.zeros((0, 5), np.float32),
                                                    np.zeros(0, np.int64), want_probs=True)
    assert losses.shape == (0,) and grad.shape == (0, 5) and p.shape == (0, 5)
    logits = rng.standard_normal((2, 3, 7)).astype(np.float32)
    labels = rng.integers(0, 7, (2, 3))
    scale = rng.uniform(size=(2, 3)).astype(np.float32)
    _check(kernels.softmax_cross_entropy(logits, labels, scale, True),
           _ref64(logits, labels, scale, True))


@pytest.mark.parametrize("label_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("bad", [-1, 10, 2**31 - 1])
def test_label_out_of_range_raises(kernels, rng, label_dtype, bad):
    logits = rng.standard_normal((6, 10)).astype(np.float32)
    labels = np.array([0, 9, 3, bad, 4, bad], label_dtype)
    for impl in (kernels.softmax_cross_entropy, ref.softmax_cross_entropy):
        with pytest.raises(ValueError) as info:
            impl(logits, labels)
        err = info.value
        assert isinstance(err, OutOfRangeError)
        assert (err.index, err.position, err.limit) == (bad, 3, 10)
        msg = str(err)
        assert str(bad) in msg and "row 3" in msg and "10 classes" in msg


def test_softmax_xent_across_threads(across_threads, rng):
    from ckeras import ops
    logits = (rng.standard_normal((37, 1003)) * 5).astype(np.float32)
    labels = rng.integers(0, 1003, 37)
    t = rng.uniform(size=logits.shape).astype(np.float32)
    scale = rng.uniform(size=37).astype(np.float32)
    across_threads(lambda: ops.softmax_cross_entropy(logits, labels, scale, True))
    across_threads(lambda: ops.softmax_cross_entropy(logits, labels.astype(np.int32)))
    across_threads(lambda: ops.softmax_cross_entropy(logits, t, scale, True))
    across_threads(lambda: ops.sigmoid_binary_cross_entropy(logits, t, scale))


# ---- sigmoid + binary cross-entropy ------------------------------------------

@pytest.mark.parametrize("b,k", [(1, 1), (3, 17), (17, 129), (4, 1000)])
def test_sigmoid_bce(kernels, rng, b, k):
    logits = (rng.standard_normal((b, k)) * 4).astype(np.float32)
    t = rng.uniform(size=(b, k)).astype(np.float32)
    scale = rng.uniform(0.1, 2, b).astype(np.float32)
    for s in (None, scale, 0.5):
        got = kernels.sigmoid_binary_cross_entropy(logits, t, s)
        want = ref.sigmoid_binary_cross_entropy(
            logits.astype(np.float64), t.astype(np.float64),
            None if s is None else np.asarray(s, np.float64))
        _check(got, want)


def test_sigmoid_bce_extremes_and_nd(kernels, rng):
    x = np.array([[-1e4, -100, -20, -1e-3, 0, 1e-3, 20, 100, 1e4]], np.float32)
    for tv in (0.0, 1.0, 0.3):
        t = np.full_like(x, tv)
        got = kernels.sigmoid_binary_cross_entropy(x, t)
        want = ref.sigmoid_binary_cross_entropy(x.astype(np.float64), t.astype(np.float64))
        assert all(np.isfinite(g).all() for g in got)
        _check(got, want)
    logits = rng.standard_normal((2, 3, 5)).astype(np.float32)
    t = (rng.uniform(size=(2, 3, 5)) > 0.5).astype(np.float32)
    _check(kernels.sigmoid_binary_cross_entropy(logits, t),
           ref.sigmoid_binary_cross_entropy(logits.astype(np.float64), t.astype(np.float64)))
    empty = kernels.sigmoid_binary_cross_entropy(np.zeros((0, 3), np.float32),
                                                 np.zeros((0, 3), np.float32))
    assert [a.shape for a in empty] == [(0,), (0, 3), (0, 3)]


def test_float64_goes_to_reference(kernels, rng):
    logits = rng.standard_normal((3, 4))
    labels = np.array([0, 1, 3])
    got = kernels.softmax_cross_entropy(logits, labels)
    want = ref.softmax_cross_entropy(logits, labels)
    assert got[0].dtype == np.float64
    for g, w in zip(got[:2], want[:2]):
        np.testing.assert_array_equal(g, w)
