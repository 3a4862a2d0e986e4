"""Property tests: every kernel-backed op equals its numpy twin over random
shapes, memory layouts (views with strides, transposes, big-endian, float64)
and value regimes (ordinary, large, extreme with inf/nan/denormals), at 1
and 2 threads. Bounded example counts keep this file to a few seconds."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from ckeras import ops  # noqa: E402
from ckeras.ops import reference as ref  # noqa: E402
from ckeras.ops import threads  # noqa: E402

FAST = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
dims = st.integers(0, 40)
pos = st.integers(1, 40)
seeds = st.integers(0, 2**32 - 1)
layouts = st.sampled_from(["c", "fortran", "strided", "big_endian", "float64"])
regimes = st.sampled_from(["normal", "large", "extreme"])
n_threads = st.sampled_from([1, 2])

_EXTREMES = np.array([0.0, -0.0, 1e-40, -1e-40, 1e30, -1e30, 88.0, -88.0, 1e4, -1e4,
                      np.inf, -np.inf, np.nan], np.float32)


def _values(rng, shape, regime):
    x = rng.standard_normal(shape).astype(np.float32)
    if regime == "large":
        x *= 1e4
    elif regime == "extreme" and x.size:
        pick = rng.random(shape) < 0.3
        x[pick] = rng.choice(_EXTREMES, int(pick.sum()))
    return x


def _layout(x, layout):
    """The same values in another memory layout / dtype."""
    if layout == "fortran":
        return np.asfortranarray(x)
    if layout == "strided":
        wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype) if x.ndim else x
        if x.ndim:
            wide[..., ::2] = x
            return wide[..., ::2]
        return x
    if layout == "big_endian":
        return x.astype(">f4")
    if layout == "float64":
        return x.astype(np.float64)
    return x


def _run_both(fn):
    """(kernel result, reference result) of fn() (fn must copy its inputs)."""
    prev = ops.use_reference(False)
    try:
        with np.errstate(all="ignore"):     # extreme values overflow in both, on purpose
            got = fn()
            ops.use_reference(True)
            want = fn()
    finally:
        ops.use_reference(prev)
    return got, want


def _close(got, want, rtol=2e-5, atol=1e-6):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        if g is None or w is None:
            assert g is None and w is None
            continue
        g, w = np.asarray(g, np.float64), np.asarray(w, np.float64)
        assert g.shape == w.shape
        finite = np.isfinite(w)
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
        np.testing.assert_array_equal(g[np.isinf(w)], w[np.isinf(w)])
        scale = np.maximum(np.abs(w[finite]), 1.0)
        assert np.all(np.abs(g[finite] - w[finite]) <= atol + rtol * scale), \
            np.max(np.abs(g[finite] - w[finite]) / scale)


@pytest.fixture(autouse=True)
def _kernels_built(kernels):
    yield


@FAST
@given(rows=dims, cols=pos, name=st.sampled_from(["relu", "sigmoid", "tanh", "softmax",
                                                   "linear"]),
       layout=layouts, regime=regimes, nt=n_threads, seed=seeds)
def test_activation_forward_backward(rows, cols, name, layout, regime, nt, seed):
    rng = np.random.default_rng(seed)
    z = _values(rng, (rows, cols), regime)
    if name == "softmax" and regime == "extreme":
        z = np.nan_to_num(z, nan=0.0, posinf=80.0, neginf=-80.0)
    dy = _values(rng, (rows, cols), "normal")
    with threads.num_threads(nt, blas=False):
        got, want = _run_both(lambda: ops.activation_from_output(name, _layout(z, layout)))
        _close(got, want)
        y = ref.activation_from_output(name, z)
        got, want = _run_both(lambda: ops.activation_backward_from_output(
            name, _layout(dy, layout), y.copy()))
        _close(got, want, rtol=1e-4, atol=1e-5)


@FAST
@given(batch=dims, n_in=pos, units=pos, act=st.sampled_from(["linear", "relu", "tanh",
                                                              "sigmoid", "softmax"]),
       layout=layouts, use_bias=st.booleans(), nt=n_threads, seed=seeds)
def test_dense_forward_backward(batch, n_in, units, act, layout, use_bias, nt, seed):
    rng = np.random.default_rng(seed)
    x = _values(rng, (batch, n_in), "normal")
    w = _values(rng, (n_in, units), "normal") * 0.3
    b = _values(rng, (units,), "normal") if use_bias else None
    with threads.num_threads(nt, blas=False):
        got, want = _run_both(lambda: ops.dense(_layout(x, layout), _layout(w, layout), b, act))
        _close(got, want, rtol=1e-4, atol=1e-4)
        y = ref.dense(x, w, b, act)
        dy = _values(rng, y.shape, "normal")

        def backward():
            dk = np.zeros_like(w)
            db = np.zeros(units, np.float32) if use_bias else None
            dx = ops.dense_backward(_layout(dy, layout), x.copy(), y.copy(), w.copy(), act,
                                    dk, db)
            return dx, dk, db
        got, want = _run_both(backward)
        _close(got, want, rtol=1e-4, atol=1e-4)


@FAST
@given(m=dims, k=dims, n=dims, ta=st.booleans(), tb=st.booleans(), layout=layouts,
       beta=st.sampled_from([0.0, 1.0, 0.5]), seed=seeds)
def test_gemm_layouts(m, k, n, ta, tb, layout, beta, seed):
    rng = np.random.default_rng(seed)
    a = _values(rng, (k, m) if ta else (m, k), "normal")
    b = _values(rng, (n, k) if tb else (k, n), "normal")
    c = _values(rng, (m, n), "normal")

    def run():
        out = c.copy()
        return ops.matmul(_layout(a, layout), _layout(b, layout), ta, tb, out, 1.0, beta)
    got, want = _run_both(run)
    _close(got, want, rtol=1e-4, atol=1e-4)


@FAST
@given(batch=dims, classes=pos, sparse=st.booleans(), weighted=st.booleans(),
       layout=layouts, regime=regimes, label_dtype=st.sampled_from(["<i8", ">i8", "<i4",
                                                                     "u1", "<i2"]),
       nt=n_threads, seed=seeds)
def test_losses(batch, classes, sparse, weighted, layout, regime, label_dtype, nt, seed):
    rng = np.random.default_rng(seed)
    logits = _values(rng, (batch, classes), regime)
    logits = np.nan_to_num(logits, nan=0.0, posinf=1e4, neginf=-1e4)
    if sparse:
        labels = rng.integers(0, min(classes, 255), batch).astype(label_dtype)
    else:
        labels = rng.uniform(size=(batch, classes)).astype(np.float32)
    scale = rng.uniform(0, 2, batch).astype(np.float32) if weighted else None
    with threads.num_threads(nt, blas=False):
        got, want = _run_both(lambda: ops.softmax_cross_entropy(
            _layout(logits, layout), labels.copy(), scale, True))
        _close(got, want, rtol=1e-4, atol=1e-4)
        targets = (rng.random((batch, classes)) < 0.5).astype(np.float32)
        got, want = _run_both(lambda: ops.sigmoid_binary_cross_entropy(
            _layout(logits, layout), _layout(targets, layout), scale))
        _close(got, want, rtol=1e-4, atol=1e-4)


@FAST
@given(n=dims, vocab=pos, dim=pos, id_dtype=st.sampled_from(["<i8", ">i8", "<i4", ">i4",
                                                            "u2", "i1"]),
       layout=layouts, nt=n_threads, seed=seeds)
def test_embedding(n, vocab, dim, id_dtype, layout, nt, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, min(vocab, 127), (n, 2)).astype(id_dtype)
    table = _values(rng, (vocab, dim), "normal")
    dout = _values(rng, (n, 2, dim), "normal")
    with threads.num_threads(nt, blas=False):
        got, want = _run_both(lambda: ops.embedding_lookup(ids, _layout(table, layout)))
        _close(got, want)

        def backward():
            dtable = np.zeros((vocab, dim), np.float32)
            ops.embedding_lookup_backward(ids, _layout(dout, layout), dtable)
            return dtable
        got, want = _run_both(backward)
        _close(got, want, rtol=1e-5, atol=1e-5)


@FAST
@given(n=st.integers(0, 3000), kind=st.sampled_from(["sgd", "momentum", "nesterov", "adam",
                                                     "amsgrad", "rmsprop", "rms_centered",
                                                     "adagrad"]),
       grad_layout=layouts, regime=regimes, nt=n_threads, seed=seeds)
def test_optimizer_updates(n, kind, grad_layout, regime, nt, seed):
    rng = np.random.default_rng(seed)
    p0 = _values(rng, (n,), "normal")
    g = _values(rng, (n,), regime)
    if regime == "extreme":
        g = np.nan_to_num(g, nan=0.0, posinf=1e30, neginf=-1e30)
    s0 = np.abs(_values(rng, (n,), "normal"))

    def run():
        p, a, b, c = p0.copy(), s0.copy(), s0.copy() * 0.5, s0.copy() * 2
        gg = _layout(g, grad_layout)
        if kind == "sgd":
            ops.sgd_update(p, gg, 0.1)
        elif kind in ("momentum", "nesterov"):
            ops.sgd_update(p, gg, 0.1, 0.9, a, kind == "nesterov")
        elif kind in ("adam", "amsgrad"):
            ops.adam_update(p, gg, a, b, 1e-3, 0.9, 0.999, 1e-7,
                            c if kind == "amsgrad" else None)
        elif kind == "rmsprop":
            ops.rmsprop_update(p, gg, a, 1e-3, 0.9, 1e-7, 0.5, b)
        elif kind == "rms_centered":
            ops.rmsprop_update(p, gg, c, 1e-3, 0.9, 1e-7, 0.0, None, np.zeros(n, np.float32))
        else:
            ops.adagrad_update(p, gg, a, 0.01, 1e-7)
        return p, a, b, c
    with threads.num_threads(nt, blas=False):
        got, want = _run_both(run)
    _close(got, want, rtol=1e-5, atol=1e-6)


@FAST
@given(m=dims, k=dims, n=dims, ta=st.booleans(), tb=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]),
       view=st.sampled_from(["c", "fortran", "strided", "transposed"]),
       alpha=st.sampled_from([1.0, -0.5]), beta=st.sampled_from([0.0, 1.0, 2.0]), seed=seeds)
def test_gemm_kernel_direct(m, k, n, ta, tb, dtype, view, alpha, beta, seed):
    # The BLAS wrapper reads strided and transposed views without copying.
    from ckeras._kernels import _blas
    rng = np.random.default_rng(seed)

    def operand(shape):
        x = rng.standard_normal(shape).astype(dtype)
        if view == "fortran":
            return np.asfortranarray(x)
        if view == "strided":
            wide = np.zeros((shape[0], 2 * shape[1] + 1), dtype)
            wide[:, 1::2] = x
            return wide[:, 1::2]
        if view == "transposed":
            return np.ascontiguousarray(x.T).T
        return x
    a = operand((k, m) if ta else (m, k))
    b = operand((n, k) if tb else (k, n))
    c = operand((m, n))
    want = alpha * ((a.T if ta else a).astype(np.float64) @ (b.T if tb else b)) + beta * c
    got = _blas.gemm(a, b, ta, tb, c, alpha, beta)
    assert got is c
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1, k))
