"""Keras 3's numpy-style ops that build, slice and rearrange arrays beyond
``array_ops``: diagonals and traces, ``roll``, the stacks and splits,
``rot90``, ``kron``/``inner``/``vdot``/``cross``, ``meshgrid``, ``select``,
``tri``/``vander``/``logspace``..., and the index-valued ones (``nonzero``,
``searchsorted``, ``unique``, ``digitize`` ...), which carry no gradient.

The differentiable ones are either written with ``array_ops``'s recorded ops
or record their own backward (``diagonal``, ``diag``, ``roll``, ``vander``).
"""
import functools
import re

import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops.array_ops import _dtype, _record, _recording, _v, op

__all__ = [
    "diagonal", "diag", "diagflat", "trace", "roll", "hstack", "vstack", "dstack",
    "array_split", "hsplit", "vsplit", "dsplit", "append", "fliplr", "flipud", "rot90",
    "kron", "inner", "vdot", "cross", "meshgrid", "select", "tri", "vander", "geomspace",
    "logspace", "array", "copy", "empty", "empty_like", "get_item", "view",
    "nonzero", "searchsorted", "digitize", "argpartition", "unique", "isin", "unravel_index",
    "rearrange",
]


# ---- diagonals ----------------------------------------------------------------------------

def _diag_index(shape, offset, axis1, axis2):
    """Row and column indices of the diagonal ``offset`` of a (rows, cols) plane."""
    rows, cols = shape[axis1], shape[axis2]
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(rows - start_r, cols - start_c))
    i = np.arange(n)
    return i + start_r, i + start_c


@op
def diagonal(x, offset=0, axis1=0, axis2=1):
    """numpy.diagonal: the diagonal runs along a new last axis."""
    a = np.asarray(_v(x))
    ax1, ax2 = axis1 % a.ndim, axis2 % a.ndim
    y = np.diagonal(a, offset, ax1, ax2).copy()
    tape = _recording(x)
    if tape is None:
        return y
    r, c = _diag_index(a.shape, offset, ax1, ax2)

    def back(g):
        d = np.zeros(a.shape, np.result_type(g))
        np.moveaxis(d, (ax1, ax2), (-2, -1))[..., r, c] = g   # a view: writes into d
        return (d,)
    return _record(tape, y, (x,), (True,), back)


@op
def diag(x, k=0):
    """A 1-D x: the square matrix with x on diagonal ``k``; a 2-D x: that diagonal."""
    a = np.asarray(_v(x))
    if a.ndim == 2:
        return diagonal(x, k)
    if a.ndim != 1:
        raise ValueError(f"ops.diag: x must be 1-D or 2-D, got shape {a.shape}.")
    y = np.diag(a, k)
    tape = _recording(x)
    if tape is None:
        return y
    return _record(tape, y, (x,), (True,), lambda g: (np.diagonal(g, k).copy(),))


@op
def diagflat(x, k=0):
    return diag(_a.reshape(x, (-1,)), k)


@op
def trace(x, offset=0, axis1=0, axis2=1):
    return _a.sum(diagonal(x, offset, axis1, axis2), axis=-1)


# ---- rolls, flips, rotations --------------------------------------------------------------

@op
def roll(x, shift, axis=None):
    a = np.asarray(_v(x))
    y = np.roll(a, shift, axis=_a._ax(axis))
    tape = _recording(x)
    if tape is None:
        return y
    back_shift = tuple(-int(s) for s in shift) if isinstance(shift, (list, tuple)) \
        else -int(shift)
    return _record(tape, y, (x,), (True,),
                   lambda g: (np.roll(g, back_shift, axis=_a._ax(axis)),))


@op
def fliplr(x):
    if np.ndim(_v(x)) < 2:
        raise ValueError("ops.fliplr: x must be at least 2-D.")
    return _a.flip(x, 1)


@op
def flipud(x):
    if np.ndim(_v(x)) < 1:
        raise ValueError("ops.flipud: x must be at least 1-D.")
    return _a.flip(x, 0)


@op
def rot90(array, k=1, axes=(0, 1)):
    """Rotate by 90 degrees k times in the plane ``axes`` (from the first axis
    towards the second), with flips and a transpose."""
    nd = np.ndim(_v(array))
    if len(axes) != 2 or axes[0] % nd == axes[1] % nd:
        raise ValueError(f"ops.rot90: axes must be two different axes, got {axes}.")
    k %= 4
    if k == 0:
        return copy(array)
    if k == 2:
        return _a.flip(_a.flip(array, axes[0]), axes[1])
    perm = list(range(nd))
    perm[axes[0] % nd], perm[axes[1] % nd] = perm[axes[1] % nd], perm[axes[0] % nd]
    if k == 1:
        return _a.transpose(_a.flip(array, axes[1]), perm)
    return _a.flip(_a.transpose(array, perm), axes[1])


# ---- stacking and splitting ------------------------------------------------------------------

def _atleast(x, n):
    """numpy's atleast_1d/2d/3d shape rules, as a (recorded) reshape."""
    s = np.shape(_v(x))
    if len(s) >= n:
        return x
    if n == 1:
        shape = (1,)
    elif n == 2:
        shape = (1,) + s if s else (1, 1)
    else:
        shape = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)]
    return _a.reshape(x, shape)


def _tensors(xs, name):
    if not isinstance(xs, (list, tuple)) or not xs:
        raise ValueError(f"ops.{name}: xs must be a non-empty list of tensors.")
    return list(xs)


@functools.partial(op, takes_lists=True)
def hstack(xs):
    xs = [_atleast(t, 1) for t in _tensors(xs, "hstack")]
    return _a.concatenate(xs, axis=0 if np.ndim(_v(xs[0])) == 1 else 1)


@functools.partial(op, takes_lists=True)
def vstack(xs):
    return _a.concatenate([_atleast(t, 2) for t in _tensors(xs, "vstack")], axis=0)


@functools.partial(op, takes_lists=True)
def dstack(xs):
    return _a.concatenate([_atleast(t, 3) for t in _tensors(xs, "dstack")], axis=2)


def _split_at(x, bounds, axis):
    index = [slice(None)] * np.ndim(_v(x))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[axis] = slice(lo, hi)
        out.append(_a.getitem(x, tuple(index)))
    return out


def _bounds(n, indices_or_sections, equal, name):
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"ops.{name}: the number of sections must be positive, got {k}.")
        if equal and n % k:
            raise ValueError(f"ops.{name}: an axis of size {n} does not split into {k} "
                             "equal sections (ops.array_split allows unequal ones).")
        size, extra = divmod(n, k)
        sizes = [size + 1] * extra + [size] * (k - extra)
        return [0] + list(np.cumsum(sizes))
    cuts = [min(max(int(i) if i >= 0 else n + int(i), 0), n)
            for i in np.asarray(_v(indices_or_sections)).reshape(-1)]
    return [0] + cuts + [n]


@op
def array_split(x, indices_or_sections, axis=0):
    nd = np.ndim(_v(x))
    ax = axis % nd
    return _split_at(x, _bounds(np.shape(_v(x))[ax], indices_or_sections, False,
                                "array_split"), ax)


def _equal_split(x, indices_or_sections, axis, min_ndim, name):
    nd = np.ndim(_v(x))
    if nd < min_ndim:
        raise ValueError(f"ops.{name}: x must be at least {min_ndim}-D, got {nd}-D.")
    n = np.shape(_v(x))[axis]
    return _split_at(x, _bounds(n, indices_or_sections, True, name), axis)


@op
def hsplit(x, indices_or_sections):
    return _equal_split(x, indices_or_sections, 0 if np.ndim(_v(x)) == 1 else 1, 1, "hsplit")


@op
def vsplit(x, indices_or_sections):
    return _equal_split(x, indices_or_sections, 0, 2, "vsplit")


@op
def dsplit(x, indices_or_sections):
    return _equal_split(x, indices_or_sections, 2, 3, "dsplit")


@op
def append(x1, x2, axis=None):
    if axis is None:
        return _a.concatenate([_a.reshape(x1, (-1,)), _a.reshape(x2, (-1,))], axis=0)
    return _a.concatenate([x1, x2], axis=axis)


# ---- products ---------------------------------------------------------------------------

@op
def kron(x1, x2):
    """The Kronecker product: block (i, j...) of the result is x1[i, j...] * x2."""
    sa, sb = np.shape(_v(x1)), np.shape(_v(x2))
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a = _a.reshape(x1, [d for s in sa for d in (s, 1)])    # interleaved (a_k, 1)
    b = _a.reshape(x2, [d for s in sb for d in (1, s)])    # interleaved (1, b_k)
    return _a.reshape(_a.multiply(a, b), [p * q for p, q in zip(sa, sb)])


@op
def inner(x1, x2):
    """Sum over the last axes of both (a product with a scalar is elementwise)."""
    if np.ndim(_v(x1)) == 0 or np.ndim(_v(x2)) == 0:
        return _a.multiply(x1, x2)
    return _a.tensordot(x1, x2, axes=([-1], [-1]))


@op
def vdot(x1, x2):
    """The dot product of the flattened inputs (the first conjugated)."""
    a = np.asarray(_v(x1))
    if a.dtype.kind == "c":
        return np.vdot(a, np.asarray(_v(x2)))
    return _a.sum(_a.multiply(_a.reshape(x1, (-1,)), _a.reshape(x2, (-1,))))


@op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy.cross of 2- or 3-vectors along ``axisa``/``axisb`` (``axis``
    sets all three); 2-vectors have a zero third component, and two of them
    give the scalar z component."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _a.moveaxis(x1, axisa, -1)
    b = _a.moveaxis(x2, axisb, -1)
    na, nb = np.shape(_v(a))[-1], np.shape(_v(b))[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"ops.cross: the vectors must have 2 or 3 components, got {na} and "
                         f"{nb}.")
    comp = lambda t, i: _a.getitem(t, (Ellipsis, i))  # noqa: E731
    a0, a1, b0, b1 = comp(a, 0), comp(a, 1), comp(b, 0), comp(b, 1)
    z = _a.subtract(_a.multiply(a0, b1), _a.multiply(a1, b0))
    if na == 2 and nb == 2:
        return z
    if na == 3 and nb == 3:
        a2, b2 = comp(a, 2), comp(b, 2)
        cx = _a.subtract(_a.multiply(a1, b2), _a.multiply(a2, b1))
        cy = _a.subtract(_a.multiply(a2, b0), _a.multiply(a0, b2))
    elif na == 3:   # b has no z: b2 = 0
        a2 = comp(a, 2)
        cx = _a.negative(_a.multiply(a2, b1))
        cy = _a.multiply(a2, b0)
    else:           # a has no z: a2 = 0
        b2 = comp(b, 2)
        cx = _a.multiply(a1, b2)
        cy = _a.negative(_a.multiply(a0, b2))
    return _a.moveaxis(_a.stack([cx, cy, z], axis=-1), -1, axisc)


# ---- grids and selections -------------------------------------------------------------------

@op
def meshgrid(*x, indexing="xy"):
    """Coordinate grids of 1-D inputs; 'xy' swaps the first two axes of the
    grids (Cartesian), 'ij' keeps the matrix order."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"ops.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
    sizes = [int(np.size(_v(t))) for t in x]
    shape = list(sizes)
    if indexing == "xy" and len(x) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(x):
        where = i
        if indexing == "xy" and len(x) > 1 and i < 2:
            where = 1 - i
        view = [1] * len(x)
        view[where] = sizes[i]
        out.append(_a.broadcast_to(_a.reshape(t, view), shape))
    return out


@functools.partial(op, takes_lists=True)
def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, else ``default``, elementwise."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"ops.select: condlist has {len(condlist)} entries, choicelist "
                         f"{len(choicelist)}.")
    if not condlist:
        raise ValueError("ops.select: condlist must not be empty.")
    choices = [np.asarray(_v(c)) for c in choicelist]
    shape = np.broadcast_shapes(*[np.shape(_v(c)) for c in condlist],
                                *[c.shape for c in choices])
    dt = np.result_type(*choices, _v(default))   # a Python scalar default stays weak
    out = _a.broadcast_to(_a.cast(default, dt) if np.ndim(_v(default)) else
                          np.asarray(_v(default), dt), shape)
    for cond, choice in zip(reversed(list(condlist)), reversed(list(choicelist))):
        c = np.asarray(_v(cond))
        if c.dtype != bool:
            raise TypeError(f"ops.select: conditions must be boolean, got dtype {c.dtype}.")
        out = _a.where(c, choice, out)
    return out


# ---- construction ---------------------------------------------------------------------------

def tri(N, M=None, k=0, dtype=None):
    return np.tri(N, M, k, dtype=_dtype(dtype))


@op
def vander(x, N=None, increasing=False):
    """Columns x**p for p = N-1 .. 0 (or 0 .. N-1 when ``increasing``)."""
    a = np.asarray(_v(x))
    if a.ndim != 1:
        raise ValueError(f"ops.vander: x must be 1-D, got shape {a.shape}.")
    y = np.vander(a, N, increasing).astype(a.dtype, copy=False)   # Keras keeps x's dtype
    tape = _recording(x)
    if tape is None or y.dtype.kind not in "fc":
        return y
    n = y.shape[1]
    p = np.arange(n) if increasing else np.arange(n)[::-1]
    lower = np.vander(a, n, True)[:, np.maximum(p - 1, 0)]   # x**(p-1), any for p = 0
    return _record(tape, y, (x,), (True,), lambda g: ((g * p * lower).sum(axis=1),))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return np.geomspace(start, stop, num, endpoint, axis=axis).astype(_dtype(dtype))


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    return np.logspace(start, stop, num, endpoint, base, axis=axis).astype(_dtype(dtype))


def array(x, dtype=None):
    return _a.convert_to_tensor(x, dtype=dtype)


@op
def copy(x):
    """A new array with x's values (the gradient passes unchanged)."""
    return _a._unary(x, lambda a: np.array(a, copy=True), lambda g, a, y: g)


def empty(shape, dtype=None):
    return np.empty(shape, _dtype(dtype))


@op
def empty_like(x, dtype=None):
    a = np.asarray(_v(x))
    return np.empty(a.shape, a.dtype if dtype is None else _dtype(dtype))


@op
def get_item(x, key):
    return _a.getitem(x, key)


@op
def view(x, dtype=None):
    """The same bytes read as ``dtype`` (no gradient: a reinterpretation)."""
    a = np.asarray(_v(x))
    return a.copy() if dtype is None else a.view(_dtype(dtype))


# ---- einops ---------------------------------------------------------------------------------

def _einops_groups(side, pattern):
    """'b (h w) c' -> [['b'], ['h', 'w'], ['c']]."""
    groups = []
    for token in re.findall(r"\([^)]*\)|[^\s()]+", side):
        names = token[1:-1].split() if token.startswith("(") else [token]
        for n in names:
            if not n.isidentifier():
                raise ValueError(f"ops.rearrange: only named axes and (groups) are supported, "
                                 f"got {n!r} in {pattern!r}.")
        groups.append(names)
    return groups


@op
def rearrange(tensor, pattern, **axes_lengths):
    """einops-style 'b (h w) c -> b h w c': split the input's groups (the
    sizes from ``axes_lengths``, one per group inferred), permute the axes,
    merge the output's groups; a reshape, a transpose and a reshape."""
    if pattern.count("->") != 1:
        raise ValueError(f"ops.rearrange: the pattern needs one '->', got {pattern!r}.")
    left, right = (_einops_groups(p, pattern) for p in pattern.split("->"))
    shape = np.shape(_v(tensor))
    if len(left) != len(shape):
        raise ValueError(f"ops.rearrange: {pattern!r} names {len(left)} input axes, the "
                         f"tensor has shape {shape}.")
    sizes = {}
    for group, dim in zip(left, shape):
        known = [n for n in group if n in axes_lengths]
        unknown = [n for n in group if n not in axes_lengths]
        if len(unknown) > 1:
            raise ValueError(f"ops.rearrange: give the lengths of all but one of {group}.")
        prod = int(np.prod([axes_lengths[n] for n in known])) if known else 1
        for n in known:
            sizes[n] = int(axes_lengths[n])
        if unknown:
            sizes[unknown[0]] = dim // prod
        if int(np.prod([sizes[n] for n in group])) != dim:
            raise ValueError(f"ops.rearrange: axes {group} of sizes "
                             f"{[sizes[n] for n in group]} do not make {dim}.")
    flat_in = [n for g in left for n in g]
    flat_out = [n for g in right for n in g]
    if sorted(flat_in) != sorted(flat_out) or len(set(flat_in)) != len(flat_in):
        raise ValueError(f"ops.rearrange: {pattern!r} must name each axis once on each side.")
    t = _a.reshape(tensor, [sizes[n] for n in flat_in])
    t = _a.transpose(t, [flat_in.index(n) for n in flat_out])
    return _a.reshape(t, [int(np.prod([sizes[n] for n in g])) for g in right])


# ---- index-valued (no gradient) -----------------------------------------------------------

@op
def nonzero(x):
    return np.nonzero(_v(x))


@op
def searchsorted(sorted_sequence, values, side="left"):
    s = np.asarray(_v(sorted_sequence))
    if s.ndim != 1:
        raise ValueError("ops.searchsorted: sorted_sequence must be 1-D (use "
                         f"ops.vectorized_map for more), got shape {s.shape}.")
    if side not in ("left", "right"):
        raise ValueError(f"ops.searchsorted: side must be 'left' or 'right', got {side!r}.")
    return np.searchsorted(s, _v(values), side=side).astype(np.int32)


@op
def digitize(x, bins):
    b = np.asarray(_v(bins))
    if b.ndim != 1:
        raise ValueError(f"ops.digitize: bins must be 1-D, got shape {b.shape}.")
    return np.digitize(_v(x), b).astype(np.int32)


@op
def argpartition(x, kth, axis=-1):
    return np.argpartition(_v(x), kth, axis).astype(np.int32)


@op
def isin(x1, x2, assume_unique=False, invert=False):
    return np.isin(_v(x1), _v(x2), assume_unique=assume_unique, invert=invert)


@op
def unravel_index(indices, shape):
    idx = np.asarray(_v(indices))
    return tuple(i.astype(idx.dtype) for i in np.unravel_index(idx, shape))


@op
def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,
           axis=None, size=None, fill_value=None):
    """numpy.unique (always sorted); ``size`` truncates or pads the unique
    values (with ``fill_value``, default 0) to a fixed length."""
    a = np.asarray(_v(x))
    out = np.unique(a, return_index=return_index, return_inverse=return_inverse,
                    return_counts=return_counts, axis=axis)
    out = list(out) if (return_index or return_inverse or return_counts) else [out]
    if size is not None:
        # the first index of each value and the counts follow the values' length
        # (Keras pads the indices with 1, the counts with 0); the inverse does not
        dim = 0 if axis is None else axis % a.ndim
        n = out[0].shape[dim]
        if n > size:
            out[0] = np.take(out[0], np.arange(size), axis=dim)
        elif n < size:
            pad = [(0, 0)] * out[0].ndim
            pad[dim] = (0, size - n)
            out[0] = np.pad(out[0], pad, constant_values=0 if fill_value is None
                            else fill_value)
        for i, flag, fill in ((1, return_index, 1), (len(out) - 1, return_counts, 0)):
            if flag:
                out[i] = out[i][:size] if n > size else np.pad(out[i], (0, size - n),
                                                               constant_values=fill)
    return out[0] if len(out) == 1 else tuple(out)

