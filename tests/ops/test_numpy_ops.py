"""Keras 3's numpy-style ops added beside array_ops (numpy_math, numpy_stats,
numpy_shape, numpy_bitwise, core_ops): values against numpy, gradients
against float64 central differences, and the ops on Variables, tape Tensors
and KerasTensors."""
import functools

import numpy as np
import pytest

import ckeras
from ckeras import ops
from ckeras.ops.tape import GradientTape, Tensor
from ckeras.testing import check_op_gradients
from ckeras.variables import Variable

RNG = np.random.default_rng(7)


def rand(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, shape)


check = functools.partial(check_op_gradients, rng=RNG, check_value=True)


def close(got, want, **kw):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, **kw)


# ---- elementwise: values -------------------------------------------------------------------

UNARY = {  # name: (numpy function, domain)
    "arcsin": (np.arcsin, (-0.9, 0.9)), "arccos": (np.arccos, (-0.9, 0.9)),
    "arctan": (np.arctan, (-3, 3)), "arcsinh": (np.arcsinh, (-3, 3)),
    "arccosh": (np.arccosh, (1.1, 4)), "arctanh": (np.arctanh, (-0.9, 0.9)),
    "sinh": (np.sinh, (-2, 2)), "cosh": (np.cosh, (-2, 2)), "cbrt": (np.cbrt, (-3, 3)),
    "exp2": (np.exp2, (-3, 3)), "deg2rad": (np.deg2rad, (-180, 180)),
    "rad2deg": (np.rad2deg, (-3, 3)), "sinc": (np.sinc, (-2, 2)), "fabs": (np.fabs, (-2, 2)),
    "i0": (np.i0, (-3, 3)), "trunc": (np.trunc, (-3, 3)), "signbit": (np.signbit, (-1, 1)),
    "real": (np.real, (-1, 1)), "imag": (np.imag, (-1, 1)), "conj": (np.conj, (-1, 1)),
    "conjugate": (np.conjugate, (-1, 1)), "angle": (np.angle, (-1, 1)),
    "isreal": (np.isreal, (-1, 1)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 1)])
def test_unary_values_match_numpy(name, shape):
    f, (lo, hi) = UNARY[name]
    x = rand(*shape, lo=lo, hi=hi).astype(np.float32)
    got = getattr(ops, name)(x)
    close(got, f(x), rtol=2e-6, atol=1e-6)
    assert np.asarray(got).dtype == np.asarray(f(x)).dtype


def test_special_functions_and_int_inputs():
    import scipy.special
    x = rand(4, 3, lo=-0.9, hi=0.9).astype(np.float32)
    close(ops.erfc(x), scipy.special.erfc(x), rtol=1e-6)
    close(ops.erfinv(x), scipy.special.erfinv(x), rtol=1e-5)
    assert np.asarray(ops.erfinv(x)).dtype == np.float32
    ints = np.arange(-3, 4)
    assert np.asarray(ops.sinh(ints)).dtype == np.float32     # ints compute in floatx
    close(ops.sinh(ints), np.sinh(ints.astype(np.float32)))
    assert np.asarray(ops.trunc(ints)).dtype == ints.dtype
    close(ops.isneginf([-np.inf, 1.0, np.inf]), [True, False, False])
    close(ops.isposinf([-np.inf, 1.0, np.inf]), [False, False, True])


BINARY = {
    "arctan2": np.arctan2, "hypot": np.hypot, "logaddexp": np.logaddexp,
    "logaddexp2": np.logaddexp2, "fmax": np.fmax, "fmin": np.fmin, "fmod": np.fmod,
    "heaviside": np.heaviside, "logical_xor": np.logical_xor, "nextafter": np.nextafter,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sb", [(3, 4), (4,), (3, 1), ()])
def test_binary_values_match_numpy(name, sb):
    a = rand(3, 4, lo=-2, hi=2).astype(np.float32)
    b = rand(*sb, lo=0.5, hi=2).astype(np.float32)
    a[0, 0] = 0.0
    close(getattr(ops, name)(a, b), BINARY[name](a, b), rtol=1e-6)


def test_fmax_fmin_skip_nans_and_divide_no_nan():
    a = np.array([1.0, np.nan, 3.0, np.nan], np.float32)
    b = np.array([2.0, 1.0, np.nan, np.nan], np.float32)
    close(ops.fmax(a, b), np.fmax(a, b))
    close(ops.fmin(a, b), np.fmin(a, b))
    x = np.array([[1.0, -2.0, 0.0], [3.0, 4.0, 5.0]], np.float32)
    y = np.array([2.0, 0.0, 0.0], np.float32)
    close(ops.divide_no_nan(x, y), [[0.5, 0, 0], [1.5, 0, 0]])
    ints = np.array([1, 2], np.int32), np.array([0, 4], np.int32)
    assert np.asarray(ops.divide_no_nan(*ints)).dtype == np.float32       # Keras's dtypes
    assert np.asarray(ops.nextafter(*ints)).dtype == np.float32
    assert np.asarray(ops.cumprod(ints[1])).dtype == np.int32
    assert np.asarray(ops.nansum(ints[1])).dtype.kind == "i"
    assert np.asarray(ops.nancumprod(ints[1])).dtype == np.int32


def test_ldexp_isclose_allclose():
    close(ops.ldexp(np.array([1.5, -2.0], np.float32), np.array([2, -1])), [6.0, -1.0])
    with pytest.raises(TypeError, match="ldexp"):
        ops.ldexp(np.ones(2), np.ones(2))
    a = np.array([1.0, 1.0 + 1e-7, np.nan])
    b = np.array([1.0, 1.0, np.nan])
    close(ops.isclose(a, b), np.isclose(a, b))
    close(ops.isclose(a, b, equal_nan=True), [True, True, True])
    assert bool(ops.allclose(a[:2], b[:2])) and not bool(ops.allclose(a, b))
    assert bool(ops.allclose(a, b, equal_nan=True))
    assert not bool(ops.allclose([1.0], [1.1], atol=0.05))


# ---- elementwise: gradients --------------------------------------------------------------

GRAD_UNARY = {
    "arcsin": (-0.8, 0.8), "arccos": (-0.8, 0.8), "arctan": (-3, 3), "arcsinh": (-3, 3),
    "arccosh": (1.2, 4), "arctanh": (-0.8, 0.8), "sinh": (-2, 2), "cosh": (-2, 2),
    "cbrt": (0.2, 3), "exp2": (-2, 2), "deg2rad": (-3, 3), "rad2deg": (-3, 3),
    "sinc": (-2, 2), "fabs": (0.1, 2), "erfc": (-2, 2), "erfinv": (-0.8, 0.8), "i0": (-3, 3),
    "real": (-1, 1), "conjugate": (-1, 1),
}


@pytest.mark.parametrize("name", sorted(GRAD_UNARY))
def test_unary_gradients(name):
    lo, hi = GRAD_UNARY[name]
    check(getattr(ops, name), rand(3, 4, lo=lo, hi=hi), rtol=1e-5)


def test_cbrt_negative_and_sinc_at_zero():
    check(ops.cbrt, rand(5, lo=-3, hi=-0.2))
    check(ops.sinc, np.array([0.0, 0.5, -1.5]))
    check(ops.fabs, rand(5, lo=-2, hi=-0.1))


@pytest.mark.parametrize("name", ["arctan2", "hypot", "logaddexp", "logaddexp2", "fmax",
                                  "fmin", "fmod", "divide_no_nan"])
@pytest.mark.parametrize("sb", [(3, 4), (4,), (3, 1), ()])
def test_binary_gradients(name, sb):
    a = rand(3, 4, lo=-2, hi=2)
    b = rand(*sb, lo=0.3, hi=1.7) * (1 if name != "arctan2" else -1)
    check(getattr(ops, name), a, b, rtol=1e-5)


def test_divide_no_nan_gradient_is_zero_where_the_divisor_is():
    x = Variable(np.array([1.0, 2.0, 3.0], np.float32), "x")
    with GradientTape() as tape:
        loss = ops.sum(ops.divide_no_nan(x, np.array([2.0, 0.0, 4.0], np.float32)))
    close(tape.gradient(loss, [x])[0], [0.5, 0.0, 0.25])


def test_ldexp_and_heaviside_gradients():
    check(lambda x: ops.ldexp(x, np.array([1, -2, 3])), rand(2, 3))
    check(lambda b: ops.heaviside(np.array([-1.0, 0.0, 2.0, 0.0]), b), rand(4))


# ---- cumulative, differences, statistics ----------------------------------------------------

@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cumprod_values_and_gradient(axis):
    x = rand(3, 4, lo=0.5, hi=1.5)
    close(ops.cumprod(x, axis=axis), np.cumprod(x, axis=axis))
    check(lambda t: ops.cumprod(t, axis=axis), x)
    x[1, 2] = 0.0   # zeros: the gradient is the product of the others
    x[2, 0] = 0.0
    x[2, 3] = 0.0
    check(lambda t: ops.cumprod(t, axis=axis), x)


def test_nancumsum_nancumprod():
    x = rand(3, 4)
    x[0, 1] = x[2, 3] = np.nan
    for axis in (None, 0, 1):
        close(ops.nancumsum(x, axis=axis), np.nancumsum(x, axis=axis))
        close(ops.nancumprod(x, axis=axis), np.nancumprod(x, axis=axis))
    check(lambda t: ops.nancumprod(t, axis=1), np.where(np.isnan(x), np.nan, x + 2))


@pytest.mark.parametrize("n,axis", [(1, -1), (2, 0), (0, 1), (3, 1)])
def test_diff(n, axis):
    x = rand(4, 5)
    close(ops.diff(x, n=n, axis=axis), np.diff(x, n=n, axis=axis))
    check(lambda t: ops.diff(t, n=n, axis=axis), x)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, True), (-1, False), ((0, 2), True)])
def test_ptp(axis, keepdims):
    x = rand(3, 4, 2)
    close(ops.ptp(x, axis=axis, keepdims=keepdims), np.ptp(x, axis=axis, keepdims=keepdims))
    check(lambda t: ops.ptp(t, axis=axis, keepdims=keepdims), x)


def test_average():
    x, w = rand(3, 4), rand(3, 4, lo=0.1, hi=1)
    close(ops.average(x), np.average(x))
    close(ops.average(x, axis=1), np.average(x, axis=1))
    close(ops.average(x, axis=None, weights=w), np.average(x, weights=w))
    close(ops.average(x, axis=0, weights=w[:, 0]), np.average(x, axis=0, weights=w[:, 0]))
    close(ops.average(x, axis=-1, weights=w[0]), np.average(x, axis=-1, weights=w[0]))
    check(lambda a, b: ops.average(a, axis=1, weights=b), x, w[0])
    check(lambda a, b: ops.average(a, weights=b), x, w)
    with pytest.raises(ValueError, match="weights"):
        ops.average(x, axis=0, weights=w[0])


def test_trapezoid():
    y, xs = rand(3, 5), np.sort(rand(5))
    close(ops.trapezoid(y), np.trapezoid(y))
    close(ops.trapezoid(y, dx=0.5, axis=0), np.trapezoid(y, dx=0.5, axis=0))
    close(ops.trapezoid(y, x=xs), np.trapezoid(y, x=xs))
    check(lambda a, b: ops.trapezoid(a, x=b), y, xs)


QUANTILE_AXES = [(None, False), (0, False), (1, True), (-1, False), ((0, 2), False),
                 ((0, 2), True)]


@pytest.mark.parametrize("axis,keepdims", QUANTILE_AXES)
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_percentile_median_values(axis, keepdims, method):
    x = rand(5, 4, 3).astype(np.float32)
    for q in (0.3, [0.0, 0.25, 0.5, 1.0], np.array([[0.1, 0.9]])):
        want = np.quantile(x, q, axis=axis, method=method, keepdims=keepdims)
        close(ops.quantile(x, q, axis=axis, method=method, keepdims=keepdims), want, rtol=1e-6,
              atol=1e-7)
        close(ops.percentile(x, np.asarray(q) * 100, axis=axis, method=method,
                             keepdims=keepdims), want, rtol=1e-5, atol=1e-7)
    close(ops.median(x, axis=axis, keepdims=keepdims),
          np.median(x, axis=axis, keepdims=keepdims), rtol=1e-6)
    assert np.asarray(ops.median(x, axis=axis)).dtype == np.float32


def test_quantile_nans_ints_and_errors():
    x = rand(4, 5)
    x[1, 2] = np.nan
    close(ops.quantile(x, 0.4, axis=1), np.quantile(x, 0.4, axis=1))
    close(ops.median(x), np.median(x))
    close(ops.median(np.arange(7)), 3.0)
    assert np.asarray(ops.median(np.arange(7))).dtype == np.float32
    with pytest.raises(ValueError, match="q must lie"):
        ops.quantile(x, 1.5)
    with pytest.raises(ValueError, match="method"):
        ops.quantile(x, 0.5, method="cubic")


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_quantile_gradients(axis):
    x = rand(5, 4)
    check(lambda t: ops.quantile(t, [0.3, 0.5, 0.85], axis=axis), x)
    check(lambda t: ops.median(t, axis=axis, keepdims=True), x)
    check(lambda t: ops.percentile(t, 37.5, axis=axis), x)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), (-1, False)])
def test_nan_reductions(axis, keepdims):
    x = rand(4, 5)
    x[0, 1] = x[2, 2] = x[2, 4] = np.nan
    for name in ("nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
                 "nanmedian"):
        close(getattr(ops, name)(x, axis=axis, keepdims=keepdims),
              getattr(np, name)(x, axis=axis, keepdims=keepdims), rtol=1e-12, err_msg=name)
    for name in ("nanquantile", "nanpercentile"):
        q = [0.2, 0.7] if name == "nanquantile" else [20, 70]
        close(getattr(ops, name)(x, q, axis=axis, keepdims=keepdims),
              getattr(np, name)(x, q, axis=axis, keepdims=keepdims), rtol=1e-12)
    for name in ("nanargmax", "nanargmin"):
        close(getattr(ops, name)(x, axis=axis, keepdims=keepdims),
              getattr(np, name)(x, axis=axis, keepdims=keepdims))
    for name in ("nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod",
                 "nanmedian"):
        check(lambda t: getattr(ops, name)(t, axis=axis, keepdims=keepdims), x)
    check(lambda t: ops.nanquantile(t, [0.2, 0.7], axis=axis, keepdims=keepdims), x)


def test_nan_reductions_of_all_nan_slices():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]], np.float32)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmax(x, axis=1)
    close(ops.nanmax(x, axis=1), want)
    close(ops.nanmedian(x, axis=1), [np.nan, 1.5])
    close(ops.nansum(x, axis=1), [0.0, 3.0])
    with pytest.raises(ValueError, match="all-nan"):
        ops.nanargmax(x, axis=1)


def test_corrcoef_and_correlate():
    x = rand(3, 6)
    close(ops.corrcoef(x), np.corrcoef(x), rtol=1e-12)
    close(ops.corrcoef(x[0]), np.corrcoef(x[0]))
    check(ops.corrcoef, x)
    a, v = rand(7), rand(3)
    for mode in ("valid", "same", "full"):
        close(ops.correlate(a, v, mode=mode), np.correlate(a, v, mode=mode), rtol=1e-12)
        close(ops.correlate(v, a, mode=mode), np.correlate(v, a, mode=mode), rtol=1e-12)
        check(lambda p, q: ops.correlate(p, q, mode=mode), a, v)
        check(lambda p, q: ops.correlate(p, q, mode=mode), v, a)
    assert np.asarray(ops.correlate(np.arange(4, dtype=np.int32), np.ones(2, np.int32))).dtype \
        == np.float32


def test_histogram_bincount():
    x = rand(50)
    counts, edges = ops.histogram(x, bins=7)
    want_c, want_e = np.histogram(x, bins=7)
    close(counts, want_c)
    close(edges, want_e.astype(np.float32) if x.dtype == np.float32 else want_e)
    c2, e2 = ops.histogram(x, bins=4, range=(-0.5, 0.5))
    close(c2, np.histogram(x, bins=4, range=(-0.5, 0.5))[0])
    ids = np.array([0, 3, 1, 3, 3, 6])
    close(ops.bincount(ids), np.bincount(ids))
    assert np.asarray(ops.bincount(ids)).dtype == np.int32
    w = rand(6).astype(np.float32)
    close(ops.bincount(ids, weights=w, minlength=9), np.bincount(ids, w, minlength=9),
          rtol=1e-6)
    rows = np.array([[0, 1, 1], [2, 2, 0]])
    close(ops.bincount(rows), [[1, 2, 0], [1, 0, 2]])
    with pytest.raises(ValueError, match="sparse"):
        ops.bincount(ids, sparse=True)


def test_slogdet_logdet():
    m = rand(2, 3, 3) + 3 * np.eye(3)
    sign, logabs = ops.slogdet(m)
    want = np.linalg.slogdet(m)
    close(sign, want[0])
    close(logabs, want[1], rtol=1e-12)
    close(ops.logdet(m), want[1], rtol=1e-12)
    check(lambda t: ops.slogdet(t)[1], m)
    check(ops.logdet, rand(4, 4) + 4 * np.eye(4))


# ---- shape and construction ------------------------------------------------------------------

@pytest.mark.parametrize("offset,axis1,axis2", [(0, 0, 1), (1, 0, 1), (-2, 0, 1), (0, 1, 2),
                                                (1, -1, 0), (5, 0, 1)])
def test_diagonal_and_trace(offset, axis1, axis2):
    x = rand(4, 5, 3)
    close(ops.diagonal(x, offset, axis1, axis2), np.diagonal(x, offset, axis1, axis2))
    close(ops.trace(x, offset, axis1, axis2), np.trace(x, offset, axis1, axis2))
    if offset < 5:
        check(lambda t: ops.diagonal(t, offset, axis1, axis2), x)
        check(lambda t: ops.trace(t, offset, axis1, axis2), x)


@pytest.mark.parametrize("k", [0, 1, -2])
def test_diag_diagflat(k):
    v, m = rand(4), rand(4, 5)
    close(ops.diag(v, k), np.diag(v, k))
    close(ops.diag(m, k), np.diag(m, k))
    close(ops.diagflat(m[:2, :2], k), np.diagflat(m[:2, :2], k))
    check(lambda t: ops.diag(t, k), v)
    check(lambda t: ops.diag(t, k), m)
    check(lambda t: ops.diagflat(t, k), m[:2, :3])


@pytest.mark.parametrize("shift,axis", [(2, None), (-1, 0), (3, 1), ((1, -2), (0, 1)),
                                        (7, -1)])
def test_roll(shift, axis):
    x = rand(3, 4)
    close(ops.roll(x, shift, axis=axis), np.roll(x, shift, axis=axis))
    check(lambda t: ops.roll(t, shift, axis=axis), x)


def test_stacks_and_flips():
    a, b, c = rand(3), rand(3), rand(2, 3)
    for name in ("hstack", "vstack", "dstack"):
        for xs in ((a, b), (c, c * 2), (rand(2, 3, 2), rand(2, 3, 1)) if name != "vstack"
                   else (c, a)):
            if name == "hstack" and np.ndim(xs[0]) == 3:
                xs = (rand(2, 1, 2), rand(2, 3, 2))
            close(getattr(ops, name)(list(xs)), getattr(np, name)(xs))
            check(lambda *ts: getattr(ops, name)(list(ts)), *xs)
    x = rand(3, 4, 2)
    close(ops.fliplr(x), np.fliplr(x))
    close(ops.flipud(x), np.flipud(x))
    check(ops.fliplr, x)
    for k in (0, 1, 2, 3, -1, 5):
        for axes in ((0, 1), (1, 2), (2, 0)):
            close(ops.rot90(x, k, axes), np.rot90(x, k, axes))
        check(lambda t: ops.rot90(t, k, (1, 2)), x)
    close(ops.append(c, a), np.append(c, a))
    close(ops.append(c, c, axis=0), np.append(c, c, axis=0))
    check(lambda p, q: ops.append(p, q, axis=1), c, c[:, :1])


@pytest.mark.parametrize("sections", [3, 4, [1, 3], [2, -1, 9]])
def test_array_split(sections):
    x = rand(7, 4)
    for axis in (0, -1):
        got = ops.array_split(x, sections, axis=axis)
        want = np.array_split(x, sections, axis=axis)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            close(g, w)
    check(lambda t: ops.concatenate([p * (i + 1) for i, p in
                                     enumerate(ops.array_split(t, sections))], 0), x)


def test_hsplit_vsplit_dsplit():
    x = rand(4, 6, 2)
    for name in ("hsplit", "vsplit", "dsplit"):
        n = {"hsplit": 3, "vsplit": 2, "dsplit": 2}[name]
        for g, w in zip(getattr(ops, name)(x, n), getattr(np, name)(x, n)):
            close(g, w)
    for g, w in zip(ops.hsplit(rand(6), [2, 5]), np.hsplit(rand(6), [2, 5])):
        assert g.shape == w.shape
    with pytest.raises(ValueError, match="equal sections"):
        ops.hsplit(x, 4)
    with pytest.raises(ValueError, match="at least 3-D"):
        ops.dsplit(rand(2, 2), 2)


@pytest.mark.parametrize("sa,sb", [((2, 3), (4, 2)), ((3,), (2,)), ((2, 2), (3,)),
                                   ((2, 1, 3), (2, 2))])
def test_kron(sa, sb):
    a, b = rand(*sa), rand(*sb)
    close(ops.kron(a, b), np.kron(a, b))
    check(ops.kron, a, b)


@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((2, 4), (3, 4)), ((2, 3, 4), (4,)), ((), (3,))])
def test_inner_vdot(sa, sb):
    a, b = rand(*sa), rand(*sb)
    close(ops.inner(a, b), np.inner(a, b))
    check(ops.inner, a, b)
    c = rand(*sa) if sa else rand(3)
    d = rand(*c.shape)
    close(ops.vdot(c, d), np.vdot(c, d))
    check(ops.vdot, c, d)


def np_cross(a, b, axisa=-1, axisb=-1, axisc=-1):
    """numpy.cross with 2-vectors read as having a zero z component (newer numpy
    refuses 2-vectors; ops.cross keeps numpy 1's rule): the z component alone for
    two of them."""
    a, b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    two = a.shape[-1] == 2 and b.shape[-1] == 2
    pad = lambda v: np.concatenate([v, np.zeros(v.shape[:-1] + (1,))], -1) \
        if v.shape[-1] == 2 else v                                      # noqa: E731
    c = np.cross(pad(a), pad(b))
    return c[..., 2] if two else np.moveaxis(c, -1, axisc)


@pytest.mark.parametrize("na,nb", [(3, 3), (2, 2), (3, 2), (2, 3)])
def test_cross(na, nb):
    a, b = rand(4, na), rand(4, nb)
    close(ops.cross(a, b), np_cross(a, b))
    check(ops.cross, a, b)
    a2, b2 = rand(na, 2, 5), rand(5, nb)
    close(ops.cross(a2, b2, axisa=0, axisb=-1, axisc=1),
          np_cross(a2, b2, axisa=0, axisb=-1, axisc=1))
    if na == 3 and nb == 3:
        c = rand(3, 4)
        close(ops.cross(c, c[::-1], axis=0), np.cross(c, c[::-1], axis=0))
        check(lambda p, q: ops.cross(p, q, axis=0), c, c + 1)


@pytest.mark.parametrize("indexing", ["xy", "ij"])
def test_meshgrid(indexing):
    xs = [rand(3), rand(4), rand(2)]
    for k in (1, 2, 3):
        got = ops.meshgrid(*xs[:k], indexing=indexing)
        want = np.meshgrid(*xs[:k], indexing=indexing)
        for g, w in zip(got, want):
            close(g, w)
    check(lambda a, b: ops.meshgrid(a, b, indexing=indexing)[0]
          * ops.meshgrid(a, b, indexing=indexing)[1], xs[0], xs[1])


def test_select():
    x = rand(3, 4)
    conds = [x < -0.3, x > 0.3]
    choices = [x * 2, x ** 2]
    close(ops.select(conds, choices), np.select(conds, choices))
    close(ops.select(conds, choices, default=-7.0), np.select(conds, choices, default=-7.0))
    close(ops.select([x > 0], [1.0], default=x), np.select([x > 0], [1.0], default=x))
    check(lambda t: ops.select([t < -0.3, t > 0.3], [t * 2, ops.square(t)], default=t), x)
    with pytest.raises(TypeError, match="boolean"):
        ops.select([x], [x])


def test_construction_ops():
    close(ops.tri(3, 5, 1), np.tri(3, 5, 1, dtype=np.float32))
    assert np.asarray(ops.tri(3)).dtype == np.float32
    assert np.asarray(ops.tri(3, dtype="int32")).dtype == np.int32
    v = rand(4)
    for n, inc in ((None, False), (3, True), (6, False)):
        close(ops.vander(v, n, inc), np.vander(v, n, inc))
        check(lambda t: ops.vander(t, n, inc), v)
    assert np.asarray(ops.vander(np.arange(3))).dtype == np.arange(3).dtype
    close(ops.geomspace(1, 1000, 4), np.geomspace(1, 1000, 4).astype(np.float32))
    close(ops.logspace(0, 2, 5, base=2, endpoint=False),
          np.logspace(0, 2, 5, base=2, endpoint=False).astype(np.float32))
    close(ops.logspace([0, 1], [2, 3], 3, axis=1), np.logspace([0, 1], [2, 3], 3, axis=1),
          rtol=1e-6)
    assert np.asarray(ops.array([1.0, 2.0])).dtype == np.float32
    assert np.asarray(ops.array([1, 2], dtype="int64")).dtype == np.int64
    assert ops.empty((2, 3)).shape == (2, 3) and ops.empty((2,)).dtype == np.float32
    assert ops.empty_like(np.ones((2, 2), np.int32)).dtype == np.int32
    x = rand(3)
    y = ops.copy(x)
    y[0] = 9.0
    assert x[0] != 9.0
    check(ops.copy, x)
    check(lambda t: ops.get_item(t, (slice(1, None), 0)), rand(3, 2))
    close(ops.view(np.array([1.0], np.float32), "int32"), np.array([1.0], np.float32).view(np.int32))


@pytest.mark.parametrize("src,dst", [(0, -1), (-1, 0), (1, 2), ([0, 1], [2, 0]), ((0, 2), (1, 0))])
def test_moveaxis_moves_the_axes(src, dst):
    """(ops.moveaxis once returned its input's axis order unchanged.)"""
    x = rand(2, 3, 4)
    close(ops.moveaxis(x, src, dst), np.moveaxis(x, src, dst))
    check(lambda t: ops.moveaxis(t, src, dst), x)


# ---- index-valued ops: numpy's values, never on the tape ------------------------------------

def test_index_valued_ops():
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], np.float32)
    for g, w in zip(ops.nonzero(x), np.nonzero(x)):
        close(g, w)
    seq = np.array([0.0, 1.0, 1.0, 3.0, 7.0])
    vals = np.array([[1.0, 5.0], [-2.0, 8.0]])
    close(ops.searchsorted(seq, vals), np.searchsorted(seq, vals))
    close(ops.searchsorted(seq, vals, side="right"), np.searchsorted(seq, vals, side="right"))
    assert np.asarray(ops.searchsorted(seq, vals)).dtype == np.int32
    with pytest.raises(ValueError, match="1-D"):
        ops.searchsorted(np.ones((2, 2)), vals)
    close(ops.digitize(vals, seq), np.digitize(vals, seq))
    r = rand(3, 6)
    part = np.asarray(ops.argpartition(r, 2, axis=1))
    picked = np.take_along_axis(r, part, axis=1)
    assert np.all(picked[:, :2].max(axis=1) <= picked[:, 2]) and \
        np.all(picked[:, 3:].min(axis=1) >= picked[:, 2])
    close(ops.isin(vals, seq), np.isin(vals, seq))
    close(ops.isin(vals, seq, invert=True), np.isin(vals, seq, invert=True))
    for g, w in zip(ops.unravel_index(np.array([3, 7, 11]), (3, 4)),
                    np.unravel_index(np.array([3, 7, 11]), (3, 4))):
        close(g, w)


def test_unique():
    x = np.array([3, 1, 3, 2, 1, 3])
    close(ops.unique(x), np.unique(x))
    got = ops.unique(x, return_index=True, return_inverse=True, return_counts=True)
    want = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        close(g, w)
    vals, counts = ops.unique(x, return_counts=True, size=5, fill_value=-1)
    close(vals, [1, 2, 3, -1, -1])
    close(counts, [2, 1, 3, 0, 0])
    vals, idx = ops.unique(x, return_index=True, size=2)
    close(vals, [1, 2])
    close(idx, [1, 3])
    m = np.array([[1, 2], [1, 2], [0, 5]])
    close(ops.unique(m, axis=0), np.unique(m, axis=0))
    close(ops.unique(m, axis=0, size=3), [[0, 5], [1, 2], [0, 0]])


def test_index_valued_ops_record_nothing():
    w = Variable(np.array([0.5, -1.0, 2.0], np.float32), "w")
    with GradientTape():
        for out in (ops.nonzero(w)[0], ops.searchsorted(np.arange(3.0), w), ops.unique(w),
                    ops.digitize(w, np.arange(3.0)), ops.isclose(w, w), ops.signbit(w),
                    ops.argpartition(w, 1)):
            assert type(out) is not Tensor


# ---- bitwise and windows --------------------------------------------------------------------

def test_bitwise_ops():
    a = np.array([[5, 12], [-3, 7]], np.int32)
    b = np.array([3, 2], np.int32)
    for name, f in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                    ("bitwise_xor", np.bitwise_xor), ("bitwise_left_shift", np.left_shift),
                    ("left_shift", np.left_shift), ("bitwise_right_shift", np.right_shift),
                    ("right_shift", np.right_shift), ("gcd", np.gcd), ("lcm", np.lcm)):
        close(getattr(ops, name)(a, b), f(a, b))
    close(ops.bitwise_not(a), np.invert(a))
    close(ops.bitwise_invert(np.array([True, False])), [False, True])
    with pytest.raises(TypeError, match="bitwise_and"):
        ops.bitwise_and(np.ones(2), b)


@pytest.mark.parametrize("n", [1, 2, 7, 10])
def test_windows(n):
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        got = getattr(ops, name)(n)
        close(got, getattr(np, name)(n).astype(np.float32))
        assert np.asarray(got).dtype == np.float32
    close(ops.kaiser(n, 5.0), np.kaiser(n, 5.0).astype(np.float32))
    with pytest.raises(TypeError, match="window length"):
        ops.hamming(2.5)


# ---- the namespace -------------------------------------------------------------------------

def test_ops_numpy_namespace():
    assert ops.numpy.cbrt is ops.cbrt and ops.numpy.sum is ops.sum
    assert ops.numpy.median is ops.median and ops.numpy.add is ops.add
    assert "trace" in dir(ops.numpy) and "trace" in ops.numpy.__all__
    import builtins
    assert "sum" not in vars(ops.numpy) and builtins.sum([1, 2]) == 3
    with pytest.raises(AttributeError, match="relu"):
        ops.numpy.relu   # noqa: B018  (an nn op, not a numpy one)
    assert ckeras.ops.numpy is ops.numpy


@pytest.mark.parametrize("pattern,lengths,want", [
    ("b h w c -> b c h w", {}, lambda x: x.transpose(0, 3, 1, 2)),
    ("b h w c -> (b h) w c", {}, lambda x: x.reshape(8, 6, 3)),
    ("b h w c -> h (b w) c", {}, lambda x: x.transpose(1, 0, 2, 3).reshape(4, 12, 3)),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", {"h1": 2, "w1": 3},
     lambda x: x.reshape(2, 2, 2, 3, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(12, 2, 2, 3)),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2},
     lambda x: x.reshape(2, 2, 2, 3, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 2, 3, 12)),
])
def test_rearrange(pattern, lengths, want):
    x = rand(2, 4, 6, 3)
    close(ops.rearrange(x, pattern, **lengths), want(x))
    check(lambda t: ops.rearrange(t, pattern, **lengths), x)


def test_rearrange_errors():
    x = rand(2, 4)
    with pytest.raises(ValueError, match="names 3 input axes"):
        ops.rearrange(x, "a b c -> a b c")
    with pytest.raises(ValueError, match="each axis once"):
        ops.rearrange(x, "a b -> a")
    with pytest.raises(ValueError, match="only named axes"):
        ops.rearrange(x, "a ... -> a ...")
    with pytest.raises(ValueError, match="do not make"):
        ops.rearrange(x, "a (b c) -> a b c", c=3)
