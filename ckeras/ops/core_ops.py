"""Keras 3's core ops beyond ``array_ops``: scatters and slice updates (with
their backward), ``switch``/``map``/``scan``/``associative_scan`` (eager
Python loops whose bodies record on the tape), ``saturate_cast``, ``dtype``,
``vectorize``, and the ``keras.ops.math`` segment reductions, ``in_top_k``
and ``cdist``.
"""
import numpy as np

from ckeras.layers.keras_tensor import KerasTensor
from ckeras.ops import array_ops as _a
from ckeras.ops.array_ops import (_dtype, _record, _recording, _recording_pair, _tape, _need,
                                   _v, op)

__all__ = [
    "scatter", "scatter_update", "slice_update", "switch", "map", "scan", "associative_scan",
    "saturate_cast", "dtype", "vectorize", "segment_max", "segment_min", "segment_prod",
    "in_top_k", "cdist",
]


def _index_tuple(indices):
    """(N, k) integer indices -> the k index arrays numpy's fancy indexing takes."""
    idx = np.asarray(_v(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"ops.scatter: indices must be integers, got dtype {idx.dtype}.")
    idx = idx.reshape(-1, idx.shape[-1]) if idx.ndim else idx.reshape(1, 1)
    return tuple(idx.astype(np.intp).T), idx.shape


@op
def scatter(indices, values, shape):
    """zeros(shape) with ``values`` added at ``indices`` (repeats accumulate)."""
    shape = tuple(int(d) for d in shape)
    key, (n, k) = _index_tuple(indices)
    v = np.asarray(_v(values))
    flat = v.reshape((n,) + shape[k:])
    y = np.zeros(shape, v.dtype)
    np.add.at(y, key, flat)
    tape = _recording(values)
    if tape is None:
        return y
    return _record(tape, y, (indices, values), (False, True),
                   lambda g: (None, np.asarray(g)[key].reshape(v.shape)))


_REDUCTIONS = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}


@op
def scatter_update(inputs, indices, updates, reduction=None):
    """A copy of ``inputs`` with ``updates`` written (or, with ``reduction``
    'add'/'max'/'min'/'mul', combined) at the ``(N, k)`` ``indices``; of
    repeated indices the last write wins."""
    if reduction is not None and reduction not in _REDUCTIONS:
        raise ValueError(f"ops.scatter_update: reduction must be None, 'add', 'max', 'min' or "
                         f"'mul', got {reduction!r}.")
    a = np.asarray(_v(inputs))
    u = np.asarray(_v(updates))
    key, (n, k) = _index_tuple(indices)
    flat = u.reshape((n,) + a.shape[k:]).astype(a.dtype, copy=False)
    y = a.copy()
    if reduction is None:
        y[key] = flat
    else:
        _REDUCTIONS[reduction].at(y, key, flat)
    tape, n1, n2 = _recording_pair(inputs, updates)
    if tape is None:
        return y
    if reduction not in (None, "add"):
        raise NotImplementedError(f"ops.scatter_update: no gradient for reduction="
                                  f"{reduction!r} (only None and 'add').")
    if reduction is None:
        # the update that wins each written position (numpy: the last one)
        winner = np.full(a.shape[:k], -1, np.intp)
        winner[key] = np.arange(n)
        won = winner[key] == np.arange(n)

    def back(g):
        g = np.asarray(g)
        if reduction == "add":
            return (g if n1 else None, g[key].reshape(u.shape) if n2 else None)
        da = None
        if n1:
            da = g.copy()
            da[key] = 0
        du = None
        if n2:
            du = g[key] * won.reshape((n,) + (1,) * (g.ndim - k))
            du = du.reshape(u.shape)
        return da, du
    return _record(tape, y, (inputs, indices, updates), (n1, False, n2),
                   lambda g: (lambda d: (d[0], None, d[1]))(back(g)))


@op
def slice_update(inputs, start_indices, updates):
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    a = np.asarray(_v(inputs))
    u = np.asarray(_v(updates))
    starts = [int(s) for s in np.asarray(_v(start_indices)).reshape(-1)]
    if len(starts) != a.ndim or u.ndim != a.ndim:
        raise ValueError(f"ops.slice_update: inputs {a.shape}, start_indices {starts} and "
                         f"updates {u.shape} must have the same rank.")
    key = tuple(slice(s, s + d) for s, d in zip(starts, u.shape))
    y = a.copy()
    y[key] = u
    tape, n1, n2 = _recording_pair(inputs, updates)
    if tape is None:
        return y

    def back(g):
        g = np.asarray(g)
        da = None
        if n1:
            da = g.copy()
            da[key] = 0
        return da, None, (g[key] if n2 else None)
    return _record(tape, y, (inputs, start_indices, updates), (n1, False, n2), back)


# ---- control flow (eager: the bodies' ops record) --------------------------------------

def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clipped into range."""
    i = int(np.clip(int(np.asarray(_v(index))), 0, len(branches) - 1))
    return branches[i](*operands)


def _leaves(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for t in tree for leaf in _leaves(t)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    return [tree]


def _pack(tree, leaves):
    """Rebuild ``tree``'s structure from an iterator of leaves."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(_pack(t, leaves) for t in tree)
    if isinstance(tree, dict):
        return {k: _pack(tree[k], leaves) for k in sorted(tree)}
    return next(leaves)


def _stack_trees(trees):
    if not trees:
        return None
    cols = list(zip(*[_leaves(t) for t in trees]))
    return _pack(trees[0], iter([_a.stack(list(c)) for c in cols]))


def _slices(xs, i):
    return _pack(xs, iter([_a.getitem(leaf, i) for leaf in _leaves(xs)]))


def _length(xs):
    return int(np.shape(_v(_leaves(xs)[0]))[0])


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns the
    last carry and the stacked ys (``jax.lax.scan``'s contract)."""
    if not callable(f):
        raise TypeError(f"ops.scan: f must be callable, got {f!r}.")
    if xs is None and length is None:
        raise ValueError("ops.scan: give xs to scan over or a length.")
    n = _length(xs) if xs is not None else int(length)
    if length is not None and xs is not None and int(length) != n:
        raise ValueError(f"ops.scan: length={length} but xs has {n} entries.")
    carry, ys = init, []
    for i in (reversed(range(n)) if reverse else range(n)):
        carry, y = f(carry, None if xs is None else _slices(xs, i))
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, _stack_trees(ys)


def map(f, xs):
    """``f`` over the leading axis of ``xs`` (nested structures allowed), stacked."""
    return _stack_trees([f(_slices(xs, i)) for i in range(_length(xs))])


def associative_scan(f, elems, reverse=False, axis=0):
    """The inclusive prefix scan ``r_i = f(r_{i-1}, e_i)`` along ``axis``
    (sequential: ``f`` is associative, so the order of grouping is free)."""
    leaves = _leaves(elems)
    nd = np.ndim(_v(leaves[0]))
    ax = axis % nd
    n = int(np.shape(_v(leaves[0]))[ax])
    for leaf in leaves[1:]:
        if int(np.shape(_v(leaf))[ax]) != n:
            raise ValueError("ops.associative_scan: every input must have the same length "
                             f"along axis {axis}.")
    head = (slice(None),) * ax

    def at(i):
        return _pack(elems, iter([_a.getitem(leaf, head + (slice(i, i + 1),))
                                  for leaf in leaves]))
    order = list(reversed(range(n))) if reverse else list(range(n))
    acc = at(order[0]) if n else None
    outs = [acc]
    for i in order[1:]:
        acc = f(acc, at(i))
        outs.append(acc)
    if reverse:
        outs.reverse()
    cols = list(zip(*[_leaves(o) for o in outs]))
    return _pack(elems, iter([_a.concatenate(list(c), axis=ax) for c in cols]))


# ---- dtypes -------------------------------------------------------------------------------

def _limits(dt):
    if dt == np.bool_:
        return 0, 1
    info = np.iinfo(dt) if dt.kind in "iu" else np.finfo(dt)
    return info.min, info.max


@op
def saturate_cast(x, dtype):
    """Cast with clipping into ``dtype``'s range (no wrap-around), both
    limits first made representable in the input's dtype."""
    a = np.asarray(_v(x))
    src, dst = a.dtype, _dtype(dtype)
    (imin, imax), (omin, omax) = _limits(src), _limits(dst)
    lo = np.asarray(np.maximum(imin, omin)).astype(src)
    if lo < omin:
        lo = np.nextafter(lo, 0, dtype=src)
    hi = np.asarray(np.minimum(imax, omax)).astype(src)
    if hi > omax:
        hi = np.nextafter(hi, 0, dtype=src)
    return _a.cast(_a.clip(x, lo, hi), dst)


def dtype(x):
    """The dtype's name ('float32', 'int64' ...)."""
    if isinstance(x, KerasTensor):
        return np.dtype(x.dtype).name
    return np.result_type(_v(x)).name


def vectorize(pyfunc, *, excluded=None, signature=None):
    """numpy.vectorize on values (the result carries no gradient)."""
    vec = np.vectorize(pyfunc, excluded=excluded, signature=signature)

    def wrapper(*args, **kwargs):
        tape = _tape()
        if tape is not None and builtins_any(_need(tape, a) for a in args):
            raise TypeError("ops.vectorize: the vectorized function has no gradient on "
                            "the tape; use ops.vectorized_map.")
        return vec(*[_v(a) for a in args], **{k: _v(v) for k, v in kwargs.items()})
    return wrapper


builtins_any = any


# ---- keras.ops.math -------------------------------------------------------------------------

def _segments(data, segment_ids, num_segments, ufunc, fill, name):
    a = np.asarray(_v(data))
    ids = np.asarray(_v(segment_ids)).astype(np.intp)
    n = int(ids.max()) + 1 if num_segments is None and ids.size else int(num_segments or 0)
    y = np.full((n,) + a.shape[ids.ndim:], fill, a.dtype)
    valid = (ids >= 0) & (ids < n)
    ufunc.at(y, ids[valid], a[valid])
    return a, ids, valid, y


def _segment_pick(data, segment_ids, num_segments, ufunc, name):
    """segment max/min; ties share the gradient equally (as ops.max)."""
    dt = np.asarray(_v(data)).dtype
    lowest, highest = (-np.inf, np.inf) if dt.kind in "fc" else _limits(dt)
    a, ids, valid, y = _segments(data, segment_ids, num_segments, ufunc,
                                 lowest if ufunc is np.maximum else highest, name)
    tape = _recording(data)
    if tape is None:
        return y

    def back(g):
        g = np.asarray(g)
        d = np.zeros(a.shape, g.dtype)
        hit = np.zeros(a.shape, bool)
        hit[valid] = a[valid] == y[ids[valid]]
        counts = np.zeros(y.shape, g.dtype)
        np.add.at(counts, ids[valid], hit[valid])
        d[valid] = np.where(hit[valid], g[ids[valid]] / np.maximum(counts[ids[valid]], 1), 0)
        return (d, None)
    return _record(tape, y, (data, segment_ids), (True, False), back)


@op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    return _segment_pick(data, segment_ids, num_segments, np.maximum, "segment_max")


@op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    return _segment_pick(data, segment_ids, num_segments, np.minimum, "segment_min")


@op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Products per segment (1 for an empty one); the gradient of an entry is
    the product of the others in its segment."""
    a, ids, valid, y = _segments(data, segment_ids, num_segments, np.multiply, 1,
                                 "segment_prod")
    tape = _recording(data)
    if tape is None:
        return y

    def back(g):
        g = np.asarray(g)
        d = np.zeros(a.shape, g.dtype)
        v, s = a[valid], ids[valid]
        with np.errstate(divide="ignore", invalid="ignore"):
            others = y[s] / v
        members = np.nonzero(valid)
        for z in zip(*np.nonzero(v == 0)):   # a zero entry: multiply the others out
            same = np.nonzero(s == s[z[0]])[0]
            others[z] = np.prod(v[(same[same != z[0]],) + z[1:]])
        d[members] = g[s] * others
        return (d, None)
    return _record(tape, y, (data, segment_ids), (True, False), back)


@op
def in_top_k(targets, predictions, k):
    """Whether each row's target class scores among its k largest (ties count)."""
    t = np.asarray(_v(targets)).astype(np.intp)
    p = np.asarray(_v(predictions))
    kth = -np.sort(-p, axis=-1)[:, k - 1:k]
    return (np.take_along_axis(p, t[:, None], axis=-1) >= kth)[:, 0]


@op
def cdist(x, y):
    """Euclidean distances between the rows of x and of y (batched over leading axes)."""
    if np.ndim(_v(x)) < 2 or np.ndim(_v(y)) < 2:
        raise ValueError("ops.cdist: both inputs must have rank >= 2.")
    if np.shape(_v(x))[-1] != np.shape(_v(y))[-1]:
        raise ValueError("ops.cdist: the inputs' last dimensions must match, got "
                         f"{np.shape(_v(x))} and {np.shape(_v(y))}.")
    d = _a.subtract(_a.expand_dims(x, -2), _a.expand_dims(y, -3))
    return _a.sqrt(_a.sum(_a.square(d), axis=-1))
