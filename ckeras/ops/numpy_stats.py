"""Keras 3's numpy-style reductions and statistics beyond ``array_ops``:
``cumprod``, ``diff``, ``median``/``quantile``/``percentile``, ``average``,
``ptp``, ``trapezoid``, the ``nan*`` family, ``corrcoef``/``correlate``,
``histogram``/``bincount`` and ``slogdet``/``logdet``.

Most are written with the differentiable ops of ``array_ops`` (so their
gradient is the chain of those backwards); ``cumprod`` and ``slogdet`` carry
their own. Quantiles sort along the axis and interpolate between order
statistics; their gradient goes to the one or two elements picked (a tie in
the data picks one, as the sort's order does).
"""
import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops.array_ops import _axes, _float, _record, _recording, _v, op

__all__ = [
    "cumprod", "nancumsum", "nancumprod", "diff", "ptp", "average", "trapezoid",
    "median", "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile",
    "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
    "nanargmax", "nanargmin", "corrcoef", "correlate", "histogram", "bincount",
    "slogdet", "logdet",
]


# ---- cumulative --------------------------------------------------------------------------

def _cumprod_grad(g, a, y):
    """d sum(g * cumprod(a)) / d a along the last axis of 2-D (rows, n) arrays:
    sum_{j>=i} g_j y_j / a_i, computed without the division where a row holds
    a zero."""
    rev_cumsum = lambda t: np.flip(np.cumsum(np.flip(t, -1), -1), -1)  # noqa: E731
    zero = (a == 0).any(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = rev_cumsum(g * y) / a
    for row in zip(*np.nonzero(zero)):   # rows with a zero: products of the others
        r, gr = a[row], g[row]
        for i in range(r.shape[0]):
            t = r.copy()
            t[i] = 1
            d[row + (i,)] = np.sum(gr[i:] * np.cumprod(t[i:]) * np.prod(t[:i]))
    return d


@op
def cumprod(x, axis=None, dtype=None):
    a = np.asarray(_v(x))
    if dtype is not None:
        a = a.astype(_a._dtype(dtype))
    flat = axis is None
    ax = 0 if flat else axis % max(a.ndim, 1)
    src = a.reshape(-1) if flat else a
    y = np.cumprod(src, axis=ax)
    y = y if y.dtype.kind in "fc" else y.astype(src.dtype, copy=False)   # int32 stays
    tape = _recording(x)
    if tape is None or y.dtype.kind not in "fc":
        return y

    def rows(t):
        t = np.moveaxis(np.asarray(t), ax, -1)
        return t.reshape(-1, t.shape[-1]) if t.size else t.reshape(0, 0)

    def back(g):
        moved = np.moveaxis(src, ax, -1).shape
        d = _cumprod_grad(rows(g), rows(src), rows(y)).reshape(moved)
        return (np.moveaxis(d, -1, ax).reshape(a.shape),)
    return _record(tape, y, (x,), (True,), back)


def _nan_to(x, fill):
    """x with its nans replaced by ``fill`` (the gradient passes elsewhere);
    integers have none and keep their dtype."""
    if np.result_type(_v(x)).kind not in "fc":
        return x
    return _a.where(np.isnan(_v(x)), fill, x)


@op
def nancumsum(x, axis=None, dtype=None):
    return _a.cumsum(_nan_to(x, 0.0), axis=axis, dtype=dtype)


@op
def nancumprod(x, axis=None, dtype=None):
    return cumprod(_nan_to(x, 1.0), axis=axis, dtype=dtype)


@op
def diff(a, n=1, axis=-1):
    """The n-th forward difference along ``axis`` (n = 0: ``a`` itself)."""
    nd = np.ndim(_v(a))
    if nd == 0:
        raise ValueError("ops.diff: the input must be at least 1-D, got a scalar.")
    ax = axis % nd
    head = (slice(None),) * ax
    out = a
    for _ in range(int(n)):
        out = _a.subtract(_a.getitem(out, head + (slice(1, None),)),
                          _a.getitem(out, head + (slice(None, -1),)))
    return out


# ---- simple statistics ---------------------------------------------------------------------

@op
def ptp(x, axis=None, keepdims=False):
    return _a.subtract(_a.max(x, axis=axis, keepdims=keepdims),
                       _a.min(x, axis=axis, keepdims=keepdims))


@op
def average(x, axis=None, weights=None):
    """The weighted mean along ``axis``; 1-D weights run along that axis."""
    if weights is None:
        return _a.mean(x, axis=axis)
    a, w = np.asarray(_v(x)), np.asarray(_v(weights))
    if w.shape != a.shape:
        if axis is None:
            raise ValueError("ops.average: weights of a different shape than x need an axis "
                             f"(x {a.shape}, weights {w.shape}).")
        if w.ndim != 1 or w.shape[0] != a.shape[axis]:
            raise ValueError(f"ops.average: weights must have the shape of x {a.shape} or be "
                             f"1-D of length x.shape[{axis}], got {w.shape}.")
        shape = [1] * a.ndim
        shape[axis % a.ndim] = w.shape[0]
        weights = _a.reshape(weights, shape)
    if a.dtype.kind not in "fc":
        x = _a.cast(x, "float32")
    num = _a.sum(_a.multiply(x, weights), axis=axis)
    den = _a.sum(_a.multiply(_a.ones_like(x), weights), axis=axis)
    return _a.divide(num, den)


@op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The trapezoid rule along ``axis``: sum of (y_i + y_i+1) / 2 * dx_i."""
    nd = np.ndim(_v(y))
    ax = axis % nd
    head = (slice(None),) * ax
    mid = _a.multiply(_a.add(_a.getitem(y, head + (slice(1, None),)),
                             _a.getitem(y, head + (slice(None, -1),))), 0.5)
    if x is None:
        step = dx
    else:
        step = diff(x, axis=axis if np.ndim(_v(x)) > 1 else -1)
        if np.ndim(_v(x)) == 1 and nd > 1:
            shape = [1] * nd
            shape[ax] = -1
            step = _a.reshape(step, shape)
    out = _a.sum(_a.multiply(mid, step), axis=ax)
    return out if np.result_type(_v(out)).kind in "fc" else _a.cast(out, "float32")


# ---- quantiles -----------------------------------------------------------------------------

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _order_picks(pos, method):
    """Which order statistics (lo, hi) each virtual position mixes, and how."""
    lo = np.floor(pos)
    hi = np.ceil(pos)
    frac = pos - lo
    if method == "linear":
        return lo, hi, 1 - frac, frac
    if method == "lower":
        return lo, lo, np.ones_like(pos), np.zeros_like(pos)
    if method == "higher":
        return hi, hi, np.ones_like(pos), np.zeros_like(pos)
    if method == "midpoint":
        return lo, hi, np.full_like(pos, 0.5), np.full_like(pos, 0.5)
    near = np.around(pos)   # numpy rounds the half-way positions to even
    return near, near, np.ones_like(pos), np.zeros_like(pos)


def _quantile(x, q, axis, method, keepdims, skip_nan, name):
    if method not in _METHODS:
        raise ValueError(f"ops.{name}: method must be one of {_METHODS}, got {method!r}.")
    qv = _q_values(q)
    if np.any((qv < 0) | (qv > 1)):
        scale = 100 if "percentile" in name else 1
        raise ValueError(f"ops.{name}: q must lie in [0, {scale}], got {qv * scale}.")
    a = _float(_v(x))
    if a.dtype != _v_dtype(x):
        x = _a.cast(x, a.dtype)
    nd = a.ndim
    axes = _axes(axis, nd)
    rest = [k for k in range(nd) if k not in axes]
    # the reduced axes last, merged into one
    xt = _a.transpose(x, rest + list(axes)) if nd else _a.reshape(x, (1,))
    lead = tuple(a.shape[k] for k in rest)
    xt = _a.reshape(xt, lead + (-1,))
    vt = np.asarray(_v(xt))
    order = np.argsort(vt, axis=-1, kind="stable")   # nans sort last
    s = _a.take_along_axis(xt, order, axis=-1)
    nans = np.isnan(vt)
    count = (vt.shape[-1] - nans.sum(axis=-1)) if skip_nan else np.full(lead, vt.shape[-1])
    invalid = (count == 0) if skip_nan else nans.any(axis=-1)
    last = np.maximum(count - 1, 0)
    outs = []
    for qk in qv.reshape(-1):
        lo, hi, wlo, whi = _order_picks(qk * last, method)
        lo, hi = lo.astype(np.intp)[..., None], hi.astype(np.intp)[..., None]
        pick = lambda i, w: _a.multiply(_a.squeeze(_a.take_along_axis(s, i, -1), -1),  # noqa
                                        w.astype(a.dtype))
        yq = _a.add(pick(lo, wlo), pick(hi, whi))
        outs.append(_a.where(invalid, np.asarray(np.nan, a.dtype), yq))
    out = _a.stack(outs, axis=0) if outs else np.zeros((0,) + lead, a.dtype)
    if keepdims:
        lead = tuple(1 if k in axes else a.shape[k] for k in range(nd))
    return _a.reshape(out, qv.shape + lead)


def _q_values(q):
    """q as float64 (a Python list too: ``_v`` would round it to float32)."""
    if isinstance(q, (list, tuple)):
        return np.asarray([_v(e) for e in q], np.float64)
    return np.asarray(_v(q), np.float64)


def _v_dtype(x):
    return np.result_type(_v(x))


@op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, q, axis, method, keepdims, False, "quantile")


@op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, _q_values(q) / 100, axis, method, keepdims, False, "percentile")


@op
def median(x, axis=None, keepdims=False):
    return _quantile(x, 0.5, axis, "linear", keepdims, False, "median")


# the nan* forms: the same order statistics among the non-nan entries
@op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, q, axis, method, keepdims, True, "nanquantile")


@op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return _quantile(x, _q_values(q) / 100, axis, method, keepdims, True, "nanpercentile")


@op
def nanmedian(x, axis=None, keepdims=False):
    return _quantile(x, 0.5, axis, "linear", keepdims, True, "nanmedian")


# ---- reductions that skip nans ---------------------------------------------------------------

def _nan_count(x, axis, keepdims):
    return np.sum(~np.isnan(_float(_v(x))), axis=_a._ax(axis), keepdims=keepdims)


@op
def nansum(x, axis=None, keepdims=False):
    return _a.sum(_nan_to(x, 0.0), axis=axis, keepdims=keepdims)


@op
def nanprod(x, axis=None, keepdims=False):
    return _a.prod(_nan_to(x, 1.0), axis=axis, keepdims=keepdims)


@op
def nanmean(x, axis=None, keepdims=False):
    """The mean of the non-nan entries (nan where there are none)."""
    n = _nan_count(x, axis, keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _a.divide(nansum(_float_op(x), axis=axis, keepdims=keepdims),
                         np.asarray(n, _float(_v(x)).dtype))


def _float_op(x):
    return x if np.result_type(_v(x)).kind in "fc" else _a.cast(x, "float32")


@op
def nanvar(x, axis=None, keepdims=False):
    x = _float_op(x)
    m = nanmean(x, axis=axis, keepdims=True)
    # nans become 0 before squaring, so no nan reaches the backward
    dev = _nan_to(_a.subtract(x, m), 0.0)
    n = _nan_count(x, axis, keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _a.divide(_a.sum(_a.square(dev), axis=axis, keepdims=keepdims),
                         np.asarray(n, np.result_type(_v(x))))


@op
def nanstd(x, axis=None, keepdims=False):
    return _a.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_extreme(x, axis, keepdims, reduce, fill):
    a = np.asarray(_v(x))
    if a.dtype.kind not in "fc":
        return reduce(x, axis=axis, keepdims=keepdims)
    out = reduce(_nan_to(x, fill), axis=axis, keepdims=keepdims)
    empty = np.all(np.isnan(a), axis=_a._ax(axis), keepdims=keepdims)
    return _a.where(empty, np.asarray(np.nan, a.dtype), out) if np.any(empty) else out


@op
def nanmax(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, _a.max, -np.inf)


@op
def nanmin(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, _a.min, np.inf)


def _nan_arg(x, axis, keepdims, fn, name):
    a = np.asarray(_v(x))
    if a.dtype.kind in "fc" and np.any(np.all(np.isnan(a), axis=axis, keepdims=keepdims)):
        raise ValueError(f"ops.{name}: an all-nan slice has no {name[3:]}.")
    return fn(a, axis=axis, keepdims=keepdims)


@op
def nanargmax(x, axis=None, keepdims=False):
    return _nan_arg(x, axis, keepdims, np.nanargmax, "nanargmax")


@op
def nanargmin(x, axis=None, keepdims=False):
    return _nan_arg(x, axis, keepdims, np.nanargmin, "nanargmin")


# ---- correlation, histograms ------------------------------------------------------------------

@op
def corrcoef(x):
    """Pearson correlation of the rows of a 2-D x (a 1-D x is one row)."""
    a = np.asarray(_v(x))
    x = _float_op(x)
    if a.ndim == 1:
        x = _a.reshape(x, (1, -1))
    elif a.ndim != 2:
        raise ValueError(f"ops.corrcoef: x must be 1-D or 2-D, got shape {a.shape}.")
    c = _a.subtract(x, _a.mean(x, axis=1, keepdims=True))
    cov = _a.matmul(c, _a.transpose(c))
    d = _a.sqrt(_a.sum(_a.square(c), axis=1))
    r = _a.clip(_a.divide(cov, _a.outer(d, d)), -1.0, 1.0)
    return _a.reshape(r, ()) if a.ndim == 1 else r


@op
def correlate(x1, x2, mode="valid"):
    """numpy.correlate of two 1-D signals: z_k = sum_n x1[n + k] x2[n]."""
    a, v = np.asarray(_v(x1)), np.asarray(_v(x2))
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"ops.correlate: both inputs must be 1-D, got {a.shape} and "
                         f"{v.shape}.")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"ops.correlate: mode must be 'valid', 'same' or 'full', got {mode!r}.")
    swap = v.shape[0] > a.shape[0]   # numpy correlates the longer against the shorter
    if swap:
        x1, x2, a, v = x2, x1, v, a
    n, m = a.shape[0], v.shape[0]
    lo, hi = {"valid": (0, 0), "same": (m // 2, m - 1 - m // 2), "full": (m - 1, m - 1)}[mode]
    dt = np.result_type(a.dtype, v.dtype)   # Keras: int64 -> float64, else float32
    dt = np.float64 if dt in (np.int64, np.float64) else np.float32
    xp = _a.pad(_a.cast(x1, dt), [(lo, hi)])
    k = n + lo + hi - m + 1
    windows = np.arange(k)[:, None] + np.arange(m)[None, :]
    z = _a.matmul(_a.take(xp, windows, axis=0), _a.cast(x2, dt))
    return _a.flip(z, 0) if swap else z


@op
def histogram(x, bins=10, range=None):
    """(counts, bin edges) of a 1-D x, as numpy.histogram; both in x's
    floating dtype, as Keras's output spec has them."""
    a = np.asarray(_v(x))
    if a.ndim != 1:
        raise ValueError(f"ops.histogram: x must be 1-D, got shape {a.shape}.")
    counts, edges = np.histogram(a, bins=bins, range=range)
    dt = _float(a).dtype
    return counts.astype(dt), edges.astype(dt)


@op
def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts (or summed weights) of each non-negative integer; a 2-D x counts
    each row to the same length."""
    if sparse:
        raise ValueError("ops.bincount: sparse=True is not supported by ckeras.")
    a = np.asarray(_v(x))
    if a.dtype.kind not in "iu":
        raise TypeError(f"ops.bincount: x must hold integers, got dtype {a.dtype}.")
    if a.size and a.min() < 0:
        raise ValueError("ops.bincount: x must be non-negative.")
    w = None if weights is None else np.asarray(_v(weights))
    length = max(int(minlength), int(a.max()) + 1 if a.size else 0)
    # Keras's promotion: int counts weighted by floats stay in the weights' float dtype
    dt = np.int32 if w is None else (w.dtype if w.dtype.kind == "f" else np.result_type(a, w))
    if a.ndim == 1:
        return np.bincount(a, w, minlength=length).astype(dt)
    if a.ndim != 2:
        raise ValueError(f"ops.bincount: x must be 1-D or 2-D, got shape {a.shape}.")
    rows = [np.bincount(r, None if w is None else wr, minlength=length)
            for r, wr in zip(a, a if w is None else w)]
    return np.stack(rows).astype(dt) if rows else np.zeros((0, length), dt)




# ---- determinants -------------------------------------------------------------------------------

@op
def slogdet(x):
    """(sign, log|det|) of square matrices; log|det| has gradient inv(x)^T."""
    a = _float(_v(x))
    sign, logabs = np.linalg.slogdet(a)
    tape = _recording(x)
    if tape is None:
        return sign, logabs
    inv_t = np.swapaxes(np.linalg.inv(a), -1, -2)
    t = _record(tape, logabs, (x,), (True,), lambda g: (np.asarray(g)[..., None, None] * inv_t,))
    return sign, t


@op
def logdet(x):
    """log|det x| of (batches of) square matrices (Keras: slogdet's second half)."""
    return slogdet(x)[1]
