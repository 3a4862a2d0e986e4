"""Kernels vs reference on hypothesis-drawn shapes (few examples, fast)."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from ckeras.ops import reference as ref  # noqa: E402

dims = st.integers(min_value=0, max_value=70)
pos = st.integers(min_value=1, max_value=70)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
FAST = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(m=dims, k=dims, n=dims, ta=st.booleans(), tb=st.booleans(), seed=seeds)
def test_gemm_random(kernels, m, k, n, ta, tb, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    want = ref.matmul(a.astype(np.float64), b.astype(np.float64), ta, tb)
    np.testing.assert_allclose(kernels.matmul(a, b, ta, tb), want, rtol=1e-5, atol=1e-5)


@FAST
@given(b=dims, c=pos, sparse=st.booleans(), seed=seeds)
def test_softmax_xent_random(kernels, b, c, sparse, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((b, c)) * 5).astype(np.float32)
    labels = rng.integers(0, c, b) if sparse else rng.uniform(size=(b, c)).astype(np.float32)
    got = kernels.softmax_cross_entropy(logits, labels, None, True)
    want = ref.softmax_cross_entropy(logits.astype(np.float64),
                                     labels if sparse else labels.astype(np.float64), None, True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)


@FAST
@given(n=dims, vocab=pos, dim=pos, seed=seeds)
def test_embedding_random(kernels, n, vocab, dim, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, n)
    table = rng.standard_normal((vocab, dim)).astype(np.float32)
    np.testing.assert_array_equal(kernels.embedding_lookup(ids, table), table[ids])
    dout = rng.standard_normal((n, dim)).astype(np.float32)
    got, want = np.zeros_like(table), np.zeros_like(table)
    kernels.embedding_lookup_backward(ids, dout, got)
    np.add.at(want, ids, dout)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
