"""ops.matmul (row-major sgemm) vs numpy, through each BLAS provider."""
import numpy as np
import pytest

from ckeras.ops import reference as ref


@pytest.fixture(autouse=True, params=["numpy", "scipy"])
def blas_provider(request, kernels):
    """Every test here runs once through numpy's OpenBLAS, once through scipy's."""
    from ckeras.ops import blas
    kernels.kernel_status()             # loads _blas, applies CKERAS_BLAS
    before = blas.blas_info()["provider"]
    try:
        blas.use_blas(request.param)
    except RuntimeError as err:         # numpy without a bundled OpenBLAS
        pytest.skip(str(err))
    yield request.param
    blas.use_blas(before)

SHAPES = [(1, 1, 1), (3, 17, 5), (17, 3, 129), (129, 65, 33), (2, 1, 64),
          (1, 37, 19), (1, 5, 1)]  # (m, k, n); m == 1 takes the gemv path


def _operands(rng, m, k, n, trans_a, trans_b):
    a = rng.uniform(-1, 1, (k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(np.float32)
    return a, b


def _expected(a, b, trans_a, trans_b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)


def _close(got, want, k):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * max(1, k) ** 0.5)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_all_transposes(kernels, rng, m, k, n, trans_a, trans_b):
    a, b = _operands(rng, m, k, n, trans_a, trans_b)
    got = kernels.matmul(a, b, trans_a, trans_b)
    assert got.dtype == np.float32 and got.shape == (m, n) and got.flags.c_contiguous
    _close(got, _expected(a, b, trans_a, trans_b), k)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_alpha_beta_out(kernels, rng, trans_a, trans_b):
    m, k, n = 17, 33, 9
    a, b = _operands(rng, m, k, n, trans_a, trans_b)
    c0 = rng.standard_normal((m, n)).astype(np.float32)
    out = c0.copy()
    res = kernels.matmul(a, b, trans_a, trans_b, out=out, alpha=0.5, beta=2.0)
    assert res is out
    _close(out, 0.5 * _expected(a, b, trans_a, trans_b) + 2.0 * c0, k)
    # beta == 0 ignores whatever out held, NaN included
    out[...] = np.nan
    kernels.matmul(a, b, trans_a, trans_b, out=out)
    _close(out, _expected(a, b, trans_a, trans_b), k)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_one_row_gemv_path_with_alpha_beta_and_strided_rows(kernels, rng, trans_a, trans_b):
    k, n = 23, 11
    big_a = rng.standard_normal((5, 40)).astype(np.float32)
    a = big_a[2:3, 3:3 + k] if not trans_a else big_a[:k, 7:8] if k <= 5 else \
        rng.standard_normal((k, 4)).astype(np.float32)[:, 1:2]  # a strided column
    b = _operands(rng, 1, k, n, trans_a, trans_b)[1]
    c0 = rng.standard_normal((1, n)).astype(np.float32)
    out = c0.copy()
    kernels.matmul(a, b, trans_a, trans_b, out=out, alpha=0.5, beta=2.0)
    _close(out, 0.5 * _expected(a, b, trans_a, trans_b) + 2.0 * c0, k)


def test_views_without_copies(kernels, rng):
    """Transposed views, row-strided slices and F-ordered outputs all work."""
    big_a = rng.uniform(-1, 1, (20, 40)).astype(np.float32)
    big_b = rng.uniform(-1, 1, (40, 30)).astype(np.float32)
    a = big_a[2:15, 5:25]            # inner stride 1, row stride 40
    b = big_b[:20, 3:17]
    want = a.astype(np.float64) @ b.astype(np.float64)
    _close(kernels.matmul(a, b), want, 20)
    _close(kernels.matmul(a.T.copy().T, b), want, 20)                     # F-ordered a
    _close(kernels.matmul(np.asfortranarray(a), np.asfortranarray(b)), want, 20)
    _close(kernels.matmul(a.T, b, trans_a=True), want, 20)                # view of a view
    out = np.zeros((13, 14), np.float32, order="F")
    kernels.matmul(a, b, out=out)
    _close(out, want, 20)
    big_out = np.full((20, 20), 7.0, np.float32)
    kernels.matmul(a, b, out=big_out[1:14, 2:16])
    _close(big_out[1:14, 2:16], want, 20)
    assert (big_out[0] == 7).all() and (big_out[:, :2] == 7).all() and (big_out[:, 16:] == 7).all()
    # layouts BLAS cannot address are copied once
    _close(kernels.matmul(big_a[::2, ::2][:, :10], big_b[::2, ::2][:10]),
           big_a[::2, ::2][:, :10].astype(np.float64) @ big_b[::2, ::2][:10], 10)


@pytest.mark.parametrize("m,k,n", [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0)])
def test_empty_dimensions(kernels, rng, m, k, n):
    a = np.ones((m, k), np.float32)
    b = np.ones((k, n), np.float32)
    got = kernels.matmul(a, b)
    assert got.shape == (m, n) and not got.any()
    out = np.full((m, n), 3.0, np.float32)
    kernels.matmul(a, b, out=out, beta=0.5)
    np.testing.assert_array_equal(out, np.full((m, n), 1.5, np.float32))
    kernels.matmul(a, b, out=out)
    assert not out.any()


def test_across_thread_counts(across_threads, rng):
    """Bitwise equal whatever our thread setting at a fixed BLAS pool; across
    BLAS pools OpenBLAS only promises float32 accuracy (its splits change the
    last bits, numpy's BLAS too), so that is checked with a tolerance."""
    from ckeras import ops
    from ckeras.ops import threads
    a = rng.standard_normal((129, 300)).astype(np.float32)
    b = rng.standard_normal((300, 65)).astype(np.float32)
    across_threads(lambda: ops.matmul(a, b), blas=False)
    with threads.num_threads(1):
        r1 = ops.matmul(b, a, trans_a=True, trans_b=True)
    with threads.num_threads(2):
        r2 = ops.matmul(b, a, trans_a=True, trans_b=True)
    np.testing.assert_allclose(r1, r2, rtol=1e-5, atol=1e-5)


def test_float64_and_mixed_go_to_reference(kernels, rng):
    a = rng.standard_normal((5, 4))
    b = rng.standard_normal((4, 3))
    got = kernels.matmul(a, b)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, ref.matmul(a, b))
    mixed = kernels.matmul(a.astype(np.float32), b)
    assert mixed.dtype == np.float64


def test_shape_mismatch_raises(kernels):
    with pytest.raises(ValueError):
        kernels.matmul(np.ones((3, 4), np.float32), np.ones((5, 2), np.float32))
    with pytest.raises(ValueError):
        kernels.matmul(np.ones((3, 4), np.float32), np.ones((4, 2), np.float32),
                       out=np.ones((3, 3), np.float32))


def test_out_aliasing_input_uses_reference(kernels):
    a = np.eye(4, dtype=np.float32) * 2
    kernels.matmul(a, a, out=a)
    np.testing.assert_array_equal(a, np.eye(4, dtype=np.float32) * 4)


def test_dgemm_direct(kernels, rng):
    from ckeras._kernels import _blas
    a = rng.standard_normal((7, 5))
    b = rng.standard_normal((3, 5))
    out = rng.standard_normal((7, 3))
    want = 2.0 * a @ b.T + 0.5 * out
    _blas.gemm(a, b, False, True, out, 2.0, 0.5)
    np.testing.assert_allclose(out, want, rtol=1e-12)
    with pytest.raises(TypeError):
        _blas.gemm(a, b.astype(np.float32))
