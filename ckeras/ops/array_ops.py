"""The Keras 3 ops a user's ``call`` computes with (``keras.ops`` numpy-style
names), each with its backward beside its forward.

Every op takes numpy arrays, Python scalars, ``Variable``s (layer weights) or
tape ``Tensor``s. It computes with numpy (2-D float32 products with ckeras's
GEMM kernel); when a tape is recording and an input needs a gradient it
returns a ``Tensor`` and records ``backward(g) -> one gradient per input``;
otherwise it returns the plain array. Given a symbolic ``KerasTensor`` (the
functional API) it adds a graph node instead (``ckeras.layers.tensor_op``).

Gradient conventions where the function has a kink: ties of ``max``/``min``
and of ``maximum``/``minimum``/``clip`` share the gradient equally (the
central difference there); ``sqrt`` at 0 has gradient ``inf``; entries of
``logsumexp`` at ``-inf`` get gradient 0.
"""
import functools
import math

import numpy as np

from ckeras.layers.keras_tensor import KerasTensor
from ckeras.ops import dispatch as _dispatch
from ckeras.ops import operators as _operators
from ckeras.ops.tape import GradientTape, Tensor, _stack  # noqa: F401
from ckeras.variables import Variable

__all__ = [
    # arithmetic / comparison
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod", "power",
    "negative", "abs", "absolute", "less", "less_equal", "greater", "greater_equal", "equal",
    "not_equal", "logical_and", "logical_or", "logical_not",
    # products
    "matmul", "dot", "einsum", "tensordot", "outer",
    # reductions
    "sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var", "argmax", "argmin",
    "logsumexp", "all", "any", "count_nonzero",
    # elementwise
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "square", "reciprocal",
    "sign", "clip", "maximum", "minimum", "where", "cos", "sin", "tan", "tanh", "erf",
    "floor", "ceil", "round", "isnan", "isinf", "isfinite", "nan_to_num",
    # shape
    "getitem", "reshape", "transpose", "expand_dims", "squeeze", "concatenate", "stack",
    "split", "tile", "repeat", "take", "take_along_axis", "slice", "pad", "broadcast_to",
    "flip", "cumsum", "swapaxes", "moveaxis", "ravel", "sort", "argsort",
    # creation / core
    "zeros", "ones", "zeros_like", "ones_like", "full", "full_like", "arange", "eye",
    "linspace", "convert_to_tensor", "convert_to_numpy", "cast", "shape", "ndim", "size",
    "stop_gradient", "one_hot", "segment_sum", "top_k", "identity",
    "tril", "triu", "unstack", "cond", "fori_loop", "while_loop", "is_tensor",
    "custom_gradient", "vectorized_map",
    "Tensor", "GradientTape",
]

_ndarray = np.ndarray
_F32 = np.dtype(np.float32)


class SymbolicInput(Exception):
    """Raised by ``_v`` on a KerasTensor: the op then builds a graph node."""


def op(fn, takes_lists=False):
    """Make ``fn`` also accept symbolic inputs (one functional-graph node)
    and lists of tensors where a tensor is expected (stacked on the tape, as
    Keras's ``convert_to_tensor`` does: ``ops.sum(model.losses)``)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not takes_lists:
            for i, a in enumerate(args):
                if (type(a) is list or type(a) is tuple) and a and _has_tensor(a):
                    args = args[:i] + (stack(a),) + args[i + 1:]
        try:
            return fn(*args, **kwargs)
        except SymbolicInput:
            # On a KerasTensor the op becomes a TensorOp layer; layers sit
            # above ops/, so ckeras.layers.tensor_op installs this hook.
            if _operators._symbolic_apply is None:
                raise RuntimeError(f"ops.{fn.__name__} on a KerasTensor needs ckeras.layers "
                                   "imported (import ckeras).") from None
            return _operators._symbolic_apply(wrapper, args, kwargs)
    return wrapper


def _has_tensor(items):
    for e in items:
        if type(e) is Tensor or isinstance(e, Variable):
            return True
    return False


def _v(x):
    """The numpy value behind an op input (Python scalars stay weakly typed)."""
    t = type(x)
    if t is _ndarray:
        return x
    if t is Tensor:
        return x.value
    if isinstance(x, Variable):
        return x.value
    if t is KerasTensor:
        raise SymbolicInput
    if t is list or t is tuple:
        a = np.asarray([_v(e) for e in x])
        return a.astype(_F32) if a.dtype == np.float64 else a
    return x


def _tape():
    return _stack[-1] if _stack else None


def _recording(x):
    """The active tape when it needs ``x``'s gradient, else None (record nothing)."""
    tape = _stack[-1] if _stack else None
    return tape if tape is not None and _need(tape, x) else None


def _recording_pair(x1, x2):
    """(tape, needs x1, needs x2) for a two-input op; tape None when it needs neither."""
    tape = _stack[-1] if _stack else None
    if tape is None:
        return None, False, False
    n1, n2 = _need(tape, x1), _need(tape, x2)
    return (tape, n1, n2) if n1 or n2 else (None, False, False)


def _need(tape, x):
    t = type(x)
    if t is Tensor:
        return x._tape is tape.token
    if isinstance(x, Variable):
        return x.trainable or id(x) in tape.watched
    return False


def _record(tape, value, parents, need, back):
    out = Tensor(value, tape)
    ps = []
    for p, n in zip(parents, need):
        if n:
            if type(p) is not Tensor:
                tape.variables[id(p)] = p
            ps.append(p)
        else:
            ps.append(None)
    tape.nodes.append((out, ps, back))
    return out


def _unb(g, shape):
    """Sum a broadcast gradient back to ``shape``."""
    gs = np.shape(g)
    if gs == shape:
        return g
    g = np.asarray(g)
    lead = len(gs) - len(shape)
    if lead > 0:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _float(a):
    a = np.asarray(a)
    return a if a.dtype.kind in "fc" else a.astype(_F32)


def _unary(x, f, grad):
    """y = f(a); backward g -> grad(g, a, y)."""
    a = _v(x)
    y = f(a)
    tape = _recording(x)
    if tape is None:
        return y
    return _record(tape, y, (x,), (True,), lambda g: (grad(g, a, y),))


def _binary(x1, x2, f, grad):
    """y = f(a, b); backward g -> grad(g, a, b, y) = (da, db) before unbroadcasting."""
    a, b = _v(x1), _v(x2)
    y = f(a, b)
    tape, n1, n2 = _recording_pair(x1, x2)
    if tape is None:
        return y
    sa, sb = np.shape(a), np.shape(b)

    def back(g):
        da, db = grad(g, a, b, y, n1, n2)
        return (_unb(da, sa) if n1 else None, _unb(db, sb) if n2 else None)
    return _record(tape, y, (x1, x2), (n1, n2), back)


def _no_grad(fn):
    """An op whose result is piecewise constant (comparisons, argmax...)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return op(wrapper)


# ---- arithmetic --------------------------------------------------------------------

@op
def add(x1, x2):
    a, b = _v(x1), _v(x2)
    y = a + b
    tape, n1, n2 = _recording_pair(x1, x2)
    if tape is None:
        return y
    sa, sb = np.shape(a), np.shape(b)
    return _record(tape, y, (x1, x2), (n1, n2),
                   lambda g: (_unb(g, sa) if n1 else None, _unb(g, sb) if n2 else None))


@op
def subtract(x1, x2):
    return _binary(x1, x2, np.subtract, lambda g, a, b, y, n1, n2: (g, -g if n2 else None))


@op
def multiply(x1, x2):
    return _binary(x1, x2, np.multiply,
                   lambda g, a, b, y, n1, n2: (g * b if n1 else None, g * a if n2 else None))


@op
def divide(x1, x2):
    return _binary(x1, x2, np.true_divide,
                   lambda g, a, b, y, n1, n2: (g / b if n1 else None,
                                               -g * y / b if n2 else None))


true_divide = divide


@op
def floor_divide(x1, x2):
    return np.floor_divide(_v(x1), _v(x2))


@op
def mod(x1, x2):
    # d(a mod b)/da = 1, d/db = -floor(a / b)
    return _binary(x1, x2, np.mod,
                   lambda g, a, b, y, n1, n2: (g, -g * np.floor_divide(a, b) if n2 else None))


@op
def power(x1, x2):
    def grad(g, a, b, y, n1, n2):
        da = g * b * np.power(a, b - 1) if n1 else None
        db = None
        if n2:
            with np.errstate(divide="ignore", invalid="ignore"):
                db = g * y * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
        return da, db
    return _binary(x1, x2, np.power, grad)


@op
def negative(x):
    return _unary(x, np.negative, lambda g, a, y: -g)


@op
def abs(x):
    return _unary(x, np.abs, lambda g, a, y: g * np.sign(a))


absolute = abs


def _piecewise_constant(np_fn):
    """numpy's elementwise ``np_fn`` as an op on values: its gradient is zero
    wherever it is defined, so it records nothing on the tape."""
    def apply(*xs):
        return np_fn(*(_v(x) for x in xs))
    apply.__name__ = apply.__qualname__ = np_fn.__name__
    apply.__doc__ = f"numpy.{np_fn.__name__} elementwise (no gradient)."
    return op(apply)


less = _piecewise_constant(np.less)
less_equal = _piecewise_constant(np.less_equal)
greater = _piecewise_constant(np.greater)
greater_equal = _piecewise_constant(np.greater_equal)
equal = _piecewise_constant(np.equal)
not_equal = _piecewise_constant(np.not_equal)
logical_and = _piecewise_constant(np.logical_and)
logical_or = _piecewise_constant(np.logical_or)
logical_not = _piecewise_constant(np.logical_not)


# ---- products ----------------------------------------------------------------------

def _gemm(a, b):
    """a @ b, through ckeras's GEMM kernel for 2-D float32 operands."""
    if a.ndim == 2 and b.ndim == 2 and a.dtype == _F32 and b.dtype == _F32:
        return _dispatch.matmul(a, b)
    return np.matmul(a, b)


def _gemm_t(a, b, trans_a, trans_b):
    if a.ndim == 2 and b.ndim == 2 and a.dtype == _F32 and b.dtype == _F32:
        return _dispatch.matmul(a, b, trans_a, trans_b)
    a = np.swapaxes(a, -1, -2) if trans_a else a
    b = np.swapaxes(b, -1, -2) if trans_b else b
    return np.matmul(a, b)


@op
def matmul(x1, x2):
    a, b = _float(_v(x1)) if isinstance(x1, (list, tuple)) else _v(x1), _v(x2)
    a, b = np.asarray(a), np.asarray(b)
    y = _gemm(a, b)
    tape, n1, n2 = _recording_pair(x1, x2)
    if tape is None:
        return y
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b

    def back(g):
        g2 = np.reshape(g, np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
                        + (a2.shape[-2], b2.shape[-1]))
        da = _unb(_gemm_t(g2, b2, False, True), a2.shape).reshape(a.shape) if n1 else None
        db = None
        if n2 and _gemm_into_grad(x2, a2, g2):
            pass   # a weight's gradient written by the GEMM itself (beta=0 or 1)
        elif n2:
            db = _unb(_gemm_t(a2, g2, True, False), b2.shape).reshape(b.shape)
        return da, db
    return _record(tape, y, (x1, x2), (n1, n2), back)


def _gemm_into_grad(var, a, g):
    """``var.grad (+)= a^T g`` straight into the weight's gradient buffer
    (the fused Dense kernel's trick: no temporary, no zero-fill), when
    ``var`` is a 2-D float32 weight and the operands are plain 2-D float32."""
    if not (isinstance(var, Variable) and var.value.ndim == 2 and var.value.dtype == _F32
            and type(a) is _ndarray and a.ndim == 2 and a.dtype == _F32
            and isinstance(g, _ndarray) and g.ndim == 2 and g.dtype == _F32):
        return False
    buf, fresh = var.grad_for_overwrite()
    _dispatch.matmul(a, np.ascontiguousarray(g), True, False, out=buf, beta=0.0 if fresh else 1.0)
    return True


@op
def dot(x1, x2):
    a, b = np.asarray(_v(x1)), np.asarray(_v(x2))
    if a.ndim == 0 or b.ndim == 0:
        return multiply(x1, x2)
    if b.ndim <= 2:
        return matmul(x1, x2)
    return tensordot(x1, x2, axes=([a.ndim - 1], [b.ndim - 2]))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@functools.partial(op, takes_lists=True)
def einsum(subscripts, *operands):
    vals = [np.asarray(_v(o)) for o in operands]
    y = np.einsum(subscripts, *vals)
    tape = _stack[-1] if _stack else None
    need = [tape is not None and _need(tape, o) for o in operands]
    if not builtins_any(need):
        return y
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins = spec
        letters = [c for c in spec if c.isalpha()]
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(",")
    if "." in spec:
        raise NotImplementedError("ckeras.ops.einsum: gradients of '...' subscripts are "
                                  "not implemented; write the axes out.")

    def back(g):
        grads = []
        for i, (sub, n) in enumerate(zip(ins, need)):
            if not n:
                grads.append(None)
                continue
            if len(set(sub)) != len(sub):
                raise NotImplementedError(f"ckeras.ops.einsum: no gradient for the repeated "
                                          f"index in operand {sub!r}.")
            others = [s for j, s in enumerate(ins) if j != i]
            avail = set(out).union(*others) if others else set(out)
            kept = "".join(c for c in sub if c in avail)
            expr = ",".join([out] + others) + "->" + kept
            gi = np.einsum(expr, g, *[v for j, v in enumerate(vals) if j != i])
            if kept != sub:  # indices summed inside this operand alone: broadcast back
                shape = [vals[i].shape[sub.index(c)] if c in kept else 1 for c in sub]
                gi = np.broadcast_to(gi.reshape(shape), vals[i].shape)
            grads.append(gi)
        return grads
    return _record(tape, y, operands, need, back)


@op
def tensordot(x1, x2, axes=2):
    a, b = np.asarray(_v(x1)), np.asarray(_v(x2))
    if isinstance(axes, (int, np.integer)):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    ax_a = [k % a.ndim for k in ax_a]
    ax_b = [k % b.ndim for k in ax_b]
    la = list(_LETTERS[:a.ndim])
    lb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = "".join(c for k, c in enumerate(la) if k not in ax_a) + \
        "".join(c for k, c in enumerate(lb) if k not in ax_b)
    return einsum("".join(la) + "," + "".join(lb) + "->" + out, x1, x2)


@op
def outer(x1, x2):
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


# ---- reductions --------------------------------------------------------------------

def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(int(k) % ndim for k in axis)
    return (int(axis) % ndim,)


def _keep(g, shape, axis, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input."""
    if keepdims:
        return g
    axes = _axes(axis, len(shape))
    return np.reshape(g, tuple(1 if k in axes else d for k, d in enumerate(shape)))


@op
def sum(x, axis=None, keepdims=False):
    a = _v(x)
    a = np.asarray(a)
    y = np.sum(a, axis=_ax(axis), keepdims=keepdims)
    tape = _recording(x)
    if tape is None:
        return y
    shape = a.shape
    return _record(tape, y, (x,), (True,),
                   lambda g: (np.broadcast_to(_keep(g, shape, axis, keepdims), shape),))


def _ax(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@op
def mean(x, axis=None, keepdims=False):
    a = np.asarray(_v(x))
    if a.dtype.kind not in "fc":
        a = a.astype(_F32)
    y = np.mean(a, axis=_ax(axis), keepdims=keepdims)
    tape = _recording(x)
    if tape is None:
        return y
    shape = a.shape
    count = math.prod(shape[k] for k in _axes(axis, a.ndim)) if a.ndim else 1
    return _record(tape, y, (x,), (True,),
                   lambda g: (np.broadcast_to(_keep(g, shape, axis, keepdims) / count, shape),))


def _extreme(x, axis, keepdims, f):
    a = np.asarray(_v(x))
    y = f(a, axis=_ax(axis), keepdims=keepdims)
    tape = _recording(x)
    if tape is None:
        return y

    def back(g):
        yk = _keep(y, a.shape, axis, keepdims)
        mask = (a == yk).astype(a.dtype)
        count = mask.sum(axis=_axes(axis, a.ndim), keepdims=True)
        return (mask * (_keep(g, a.shape, axis, keepdims) / count),)
    return _record(tape, y, (x,), (True,), back)


@op
def max(x, axis=None, keepdims=False, initial=None):
    return _extreme(x, axis, keepdims, np.max)


@op
def min(x, axis=None, keepdims=False, initial=None):
    return _extreme(x, axis, keepdims, np.min)


amax, amin = max, min


def _prod_of_others(a, axes):
    """prod over ``axes`` of every element but one, at each position (zeros safe)."""
    rest = [k for k in range(a.ndim) if k not in axes]
    t = np.transpose(a, rest + list(axes))
    lead = t.shape[:len(rest)]
    flat = t.reshape(lead + (-1,))
    ones = np.ones(lead + (1,), a.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(t.shape)
    return np.transpose(others, np.argsort(rest + list(axes)))


@op
def prod(x, axis=None, keepdims=False, dtype=None):
    a = np.asarray(_v(x))
    y = np.prod(a, axis=_ax(axis), keepdims=keepdims)
    tape = _recording(x)
    if tape is None:
        return y
    return _record(tape, y, (x,), (True,),
                   lambda g: (_keep(g, a.shape, axis, keepdims)
                              * _prod_of_others(a, _axes(axis, a.ndim)),))


@op
def var(x, axis=None, keepdims=False):
    a = _float(_v(x))
    m = np.mean(a, axis=_ax(axis), keepdims=True)
    y = np.mean(np.square(a - m), axis=_ax(axis), keepdims=keepdims)
    tape = _recording(x)
    if tape is None:
        return y
    count = math.prod(a.shape[k] for k in _axes(axis, a.ndim)) if a.ndim else 1
    return _record(tape, y, (x,), (True,),
                   lambda g: (_keep(g, a.shape, axis, keepdims) * (2.0 / count) * (a - m),))


@op
def std(x, axis=None, keepdims=False):
    return sqrt(var(x, axis=axis, keepdims=keepdims))


@op
def argmax(x, axis=None, keepdims=False):
    return np.argmax(_v(x), axis=axis, keepdims=keepdims)


@op
def argmin(x, axis=None, keepdims=False):
    return np.argmin(_v(x), axis=axis, keepdims=keepdims)


@op
def all(x, axis=None, keepdims=False):
    return np.all(_v(x), axis=_ax(axis), keepdims=keepdims)


@op
def any(x, axis=None, keepdims=False):
    return np.any(_v(x), axis=_ax(axis), keepdims=keepdims)


@op
def count_nonzero(x, axis=None):
    return np.count_nonzero(_v(x), axis=_ax(axis))


@op
def logsumexp(x, axis=None, keepdims=False):
    a = _float(_v(x))
    m = np.max(a, axis=_ax(axis), keepdims=True)
    m = np.where(np.isfinite(m), m, 0)   # all -inf (or inf) rows: no shift
    with np.errstate(divide="ignore"):
        yk = np.log(np.sum(np.exp(a - m), axis=_ax(axis), keepdims=True)) + m
    y = yk if keepdims else np.squeeze(yk, axis=_axes(axis, a.ndim))
    tape = _recording(x)
    if tape is None:
        return y

    def back(g):
        with np.errstate(invalid="ignore"):
            w = np.exp(a - yk)
        w = np.where(np.isneginf(a), 0, w)
        return (_keep(g, a.shape, axis, keepdims) * w,)
    return _record(tape, y, (x,), (True,), back)


# ---- elementwise math ----------------------------------------------------------------

@op
def exp(x):
    return _unary(x, lambda a: np.exp(_float(a)), lambda g, a, y: g * y)


@op
def expm1(x):
    return _unary(x, lambda a: np.expm1(_float(a)), lambda g, a, y: g * (y + 1))


@op
def log(x):
    return _unary(x, lambda a: np.log(_float(a)), lambda g, a, y: g / a)


@op
def log1p(x):
    return _unary(x, lambda a: np.log1p(_float(a)), lambda g, a, y: g / (1 + a))


@op
def log2(x):
    return _unary(x, lambda a: np.log2(_float(a)), lambda g, a, y: g / (a * math.log(2)))


@op
def log10(x):
    return _unary(x, lambda a: np.log10(_float(a)), lambda g, a, y: g / (a * math.log(10)))


def _sqrt_grad(g, a, y):
    with np.errstate(divide="ignore"):
        return g * (0.5 / y)


@op
def sqrt(x):
    return _unary(x, lambda a: np.sqrt(_float(a)), _sqrt_grad)


@op
def rsqrt(x):
    return _unary(x, lambda a: 1.0 / np.sqrt(_float(a)), lambda g, a, y: g * (-0.5) * y / a)


@op
def square(x):
    return _unary(x, np.square, lambda g, a, y: g * (2 * a))


@op
def reciprocal(x):
    return _unary(x, lambda a: 1.0 / _float(a), lambda g, a, y: -g * y * y)


sign = _piecewise_constant(np.sign)
floor = _piecewise_constant(np.floor)
ceil = _piecewise_constant(np.ceil)
isnan = _piecewise_constant(np.isnan)
isinf = _piecewise_constant(np.isinf)
isfinite = _piecewise_constant(np.isfinite)


@op
def round(x, decimals=0):
    return np.round(_v(x), decimals)


@op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return _unary(x, lambda a: np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf),
                  lambda g, a, y: g * np.isfinite(a))


def _tie_share(a, b):
    """Share of the gradient ``maximum(a, b)`` sends to ``a``: 1, 0, or 1/2 at ties."""
    return (a > b) + 0.5 * (a == b)


def _split_by_share(g, s, n1, n2):
    """The gradient of a pick between two inputs: share ``s`` to the first."""
    return (g * s if n1 else None, g * (1 - s) if n2 else None)


@op
def maximum(x1, x2):
    return _binary(x1, x2, np.maximum,
                   lambda g, a, b, y, n1, n2: _split_by_share(g, _tie_share(a, b), n1, n2))


@op
def minimum(x1, x2):
    return _binary(x1, x2, np.minimum,
                   lambda g, a, b, y, n1, n2: _split_by_share(g, _tie_share(b, a), n1, n2))


@op
def clip(x, x_min, x_max):
    a = _v(x)
    lo, hi = _v(x_min), _v(x_max)
    y = np.clip(a, lo, hi)
    tape = _recording(x)
    if tape is None:
        return y
    # 1 inside, 0 outside, 1/2 exactly at a bound (as maximum/minimum at a tie)
    return _record(tape, y, (x,), (True,),
                   lambda g: (g * (((a > lo) & (a < hi)) + 0.5 * ((a == lo) ^ (a == hi))),))


@op
def where(condition, x1=None, x2=None):
    c = np.asarray(_v(condition)).astype(bool)
    if x1 is None and x2 is None:
        return np.nonzero(c)
    a, b = _v(x1), _v(x2)
    y = np.where(c, a, b)
    tape, n1, n2 = _recording_pair(x1, x2)
    if tape is None:
        return y
    sa, sb = np.shape(a), np.shape(b)
    return _record(tape, y, (condition, x1, x2), (False, n1, n2),
                   lambda g: (None, _unb(np.where(c, g, 0), sa) if n1 else None,
                              _unb(np.where(c, 0, g), sb) if n2 else None))


@op
def cos(x):
    return _unary(x, lambda a: np.cos(_float(a)), lambda g, a, y: -g * np.sin(a))


@op
def sin(x):
    return _unary(x, lambda a: np.sin(_float(a)), lambda g, a, y: g * np.cos(a))


@op
def tan(x):
    return _unary(x, lambda a: np.tan(_float(a)), lambda g, a, y: g * (1 + y * y))


@op
def tanh(x):
    return _unary(x, lambda a: np.tanh(_float(a)), lambda g, a, y: g * (1 - y * y))


def _erf(a):
    from scipy.special import erf as _scipy_erf
    a = _float(a)
    return _scipy_erf(a).astype(a.dtype, copy=False)


@op
def erf(x):
    return _unary(x, _erf, lambda g, a, y: g * (2 / math.sqrt(math.pi)) * np.exp(-a * a))


# ---- shape ---------------------------------------------------------------------------

def _is_basic(key):
    keys = key if isinstance(key, tuple) else (key,)
    return not _any_array(keys)


def _any_array(keys):
    for k in keys:
        if isinstance(k, (list, np.ndarray)) or type(k) is Tensor:
            return True
    return False


def _key_values(key):
    if isinstance(key, tuple):
        return tuple(_key_values(k) for k in key)
    if type(key) is Tensor or isinstance(key, Variable):
        return np.asarray(key.value)
    if type(key) is KerasTensor:
        raise SymbolicInput
    return key


@functools.partial(op, takes_lists=True)
def getitem(x, key):
    """``x[key]``: basic and advanced indexing (repeated indices accumulate)."""
    a = _v(x)
    key = _key_values(key)
    y = a[key]
    tape = _recording(x)
    if tape is None:
        return y
    basic = _is_basic(key)

    def back(g):
        d = np.zeros(np.shape(a), np.result_type(g))
        if basic:
            d[key] = g
        else:
            np.add.at(d, key, g)
        return (d,)
    return _record(tape, y, (x,), (True,), back)


def _reshape_like(x, y, a_shape):
    tape = _recording(x)
    if tape is None:
        return y
    return _record(tape, y, (x,), (True,), lambda g: (np.reshape(g, a_shape),))


@op
def reshape(x, newshape):
    a = np.asarray(_v(x))
    if isinstance(newshape, (int, np.integer)):
        newshape = (newshape,)
    newshape = tuple(-1 if d is None else int(d) for d in newshape)
    return _reshape_like(x, a.reshape(newshape), a.shape)


@op
def ravel(x):
    return reshape(x, (-1,))


@op
def expand_dims(x, axis):
    a = np.asarray(_v(x))
    return _reshape_like(x, np.expand_dims(a, axis), a.shape)


@op
def squeeze(x, axis=None):
    a = np.asarray(_v(x))
    return _reshape_like(x, np.squeeze(a, axis=_ax(axis)), a.shape)


@op
def transpose(x, axes=None):
    a = np.asarray(_v(x))
    y = np.transpose(a, axes)
    tape = _recording(x)
    if tape is None:
        return y
    inv = None if axes is None else np.argsort([k % a.ndim for k in axes])
    return _record(tape, y, (x,), (True,), lambda g: (np.transpose(g, inv),))


@op
def swapaxes(x, axis1, axis2):
    perm = list(range(np.ndim(_v(x))))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, perm)


@op
def moveaxis(x, source, destination):
    nd = np.ndim(_v(x))
    src = [int(k) % nd for k in np.atleast_1d(source)]
    dst = [int(k) % nd for k in np.atleast_1d(destination)]
    perm = [k for k in range(nd) if k not in src]
    for d, k in sorted(zip(dst, src)):   # numpy's rule: insert at the destinations
        perm.insert(d, k)
    return transpose(x, perm)


@op
def broadcast_to(x, shape):
    a = _v(x)
    shape = tuple(shape)
    y = np.broadcast_to(a, shape)
    tape = _recording(x)
    if tape is None:
        return y
    sa = np.shape(a)
    return _record(tape, y, (x,), (True,), lambda g: (_unb(g, sa),))


@functools.partial(op, takes_lists=True)
def concatenate(xs, axis=0):
    vals = [np.asarray(_v(t)) for t in xs]
    y = np.concatenate(vals, axis=axis)
    tape = _stack[-1] if _stack else None
    need = [tape is not None and _need(tape, t) for t in xs]
    if not builtins_any(need):
        return y
    cuts = np.cumsum([v.shape[axis] for v in vals])[:-1]

    def back(g):
        parts = np.split(g, cuts, axis=axis)
        return [p if n else None for p, n in zip(parts, need)]
    return _record(tape, y, xs, need, back)


@functools.partial(op, takes_lists=True)
def stack(xs, axis=0):
    vals = [np.asarray(_v(t)) for t in xs]
    y = np.stack(vals, axis=axis)
    tape = _stack[-1] if _stack else None
    need = [tape is not None and _need(tape, t) for t in xs]
    if not builtins_any(need):
        return y
    ax = axis % y.ndim

    def back(g):
        return [np.take(g, i, axis=ax) if n else None for i, n in enumerate(need)]
    return _record(tape, y, xs, need, back)


@op
def split(x, indices_or_sections, axis=0):
    a = np.asarray(_v(x))
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if n % k:
            raise ValueError(f"ops.split: axis {axis} of size {n} does not split into {k} "
                             "equal sections.")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    index = [builtins_slice(None)] * a.ndim
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        index[axis] = builtins_slice(lo, hi)
        out.append(getitem(x, tuple(index)))
    return out


@op
def tile(x, repeats):
    a = np.asarray(_v(x))
    reps = (int(repeats),) if isinstance(repeats, (int, np.integer)) else tuple(repeats)
    y = np.tile(a, reps)
    tape = _recording(x)
    if tape is None:
        return y
    nd = y.ndim
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - a.ndim) + a.shape

    def back(g):
        g = g.reshape([d for r, s in zip(reps, shape) for d in (r, s)])
        return (g.sum(axis=tuple(range(0, 2 * nd, 2))).reshape(a.shape),)
    return _record(tape, y, (x,), (True,), back)


@op
def repeat(x, repeats, axis=None):
    a = np.asarray(_v(x))
    y = np.repeat(a, repeats, axis=axis)
    tape = _recording(x)
    if tape is None:
        return y
    src = a.reshape(-1) if axis is None else a
    ax = 0 if axis is None else axis % a.ndim
    reps = np.broadcast_to(np.asarray(repeats), (src.shape[ax],))
    starts = np.concatenate([[0], np.cumsum(reps)[:-1]]).astype(np.intp)

    def back(g):
        d = np.add.reduceat(g, starts, axis=ax) if len(starts) else np.zeros_like(src)
        d = np.where((reps == 0).reshape([-1 if k == ax else 1 for k in range(src.ndim)]), 0, d)
        return (d.reshape(a.shape),)
    return _record(tape, y, (x,), (True,), back)


@op
def take(x, indices, axis=None):
    a = np.asarray(_v(x))
    idx = np.asarray(_v(indices)).astype(np.intp)
    y = np.take(a, idx, axis=axis)
    tape = _recording(x)
    if tape is None:
        return y

    def back(g):
        if axis is None:
            d = np.zeros(a.size, np.result_type(g))
            np.add.at(d, idx.reshape(-1), np.reshape(g, -1))
            return (d.reshape(a.shape),)
        ax = axis % a.ndim
        d = np.zeros(a.shape, np.result_type(g))
        np.add.at(d, (builtins_slice(None),) * ax + (idx,), g)
        return (d,)
    return _record(tape, y, (x, indices), (True, False), back)


@op
def take_along_axis(x, indices, axis=None):
    a = np.asarray(_v(x))
    idx = np.asarray(_v(indices)).astype(np.intp)
    if axis is None:
        return take_along_axis(reshape(x, (-1,)), reshape(indices, (-1,)), 0)
    y = np.take_along_axis(a, idx, axis=axis)
    tape = _recording(x)
    if tape is None:
        return y
    ax = axis % a.ndim

    def back(g):
        d = np.zeros(a.shape, np.result_type(g))
        grid = list(np.indices(g.shape, sparse=True))
        grid[ax] = np.broadcast_to(idx, g.shape)
        np.add.at(d, tuple(grid), g)
        return (d,)
    return _record(tape, y, (x, indices), (True, False), back)


@op
def slice(inputs, start_indices, shape):
    starts = [int(s) for s in np.asarray(_v(start_indices)).reshape(-1)]
    key = tuple(builtins_slice(s, s + int(n)) for s, n in zip(starts, shape))
    return getitem(inputs, key)


@op
def pad(x, pad_width, mode="constant", constant_values=None):
    a = np.asarray(_v(x))
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (a.ndim, 2))
    kw = {} if constant_values is None or mode != "constant" else {"constant_values": constant_values}
    y = np.pad(a, pw, mode=mode, **kw)
    tape = _recording(x)
    if tape is None:
        return y
    if mode != "constant":
        raise NotImplementedError(f"ckeras.ops.pad: no gradient for mode={mode!r}; "
                                  "only 'constant' is differentiable.")
    key = tuple(builtins_slice(int(lo), int(lo) + n) for (lo, _), n in zip(pw, a.shape))
    return _record(tape, y, (x,), (True,), lambda g: (g[key],))


@op
def flip(x, axis=None):
    a = np.asarray(_v(x))
    y = np.flip(a, axis=_ax(axis))
    tape = _recording(x)
    if tape is None:
        return y
    return _record(tape, y, (x,), (True,), lambda g: (np.flip(g, axis=_ax(axis)),))


@op
def cumsum(x, axis=None, dtype=None):
    a = np.asarray(_v(x))
    y = np.cumsum(a, axis=axis)
    tape = _recording(x)
    if tape is None:
        return y
    if axis is None:
        return _record(tape, y, (x,), (True,),
                       lambda g: (np.cumsum(g[::-1])[::-1].reshape(a.shape),))
    return _record(tape, y, (x,), (True,),
                   lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),))


@op
def sort(x, axis=-1):
    a = np.asarray(_v(x))
    idx = np.argsort(a, axis=axis, kind="stable")
    return take_along_axis(x, idx, axis=axis)


@op
def argsort(x, axis=-1):
    return np.argsort(_v(x), axis=axis, kind="stable")


@op
def top_k(x, k, sorted=True):
    """(values, indices) of the k largest entries along the last axis."""
    a = np.asarray(_v(x))
    idx = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, idx, axis=-1), idx


@op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    a = np.asarray(_v(data))
    ids = np.asarray(_v(segment_ids)).astype(np.intp)
    n = int(ids.max()) + 1 if num_segments is None and ids.size else int(num_segments or 0)
    y = np.zeros((n,) + a.shape[ids.ndim:], a.dtype)
    valid = (ids >= 0) & (ids < n)
    np.add.at(y, ids[valid], a[valid])
    tape = _recording(data)
    if tape is None:
        return y

    def back(g):
        d = np.zeros(a.shape, np.result_type(g))
        d[valid] = g[ids[valid]]
        return (d, None)
    return _record(tape, y, (data, segment_ids), (True, False), back)


# ---- creation and core ------------------------------------------------------------------

def _dtype(dtype, default="float32"):
    return np.dtype(default if dtype is None else getattr(dtype, "name", dtype))


def zeros(shape, dtype=None):
    return np.zeros(tuple(shape) if not isinstance(shape, int) else shape, _dtype(dtype))


def ones(shape, dtype=None):
    return np.ones(tuple(shape) if not isinstance(shape, int) else shape, _dtype(dtype))


def full(shape, fill_value, dtype=None):
    return np.full(tuple(shape) if not isinstance(shape, int) else shape,
                   _v(fill_value), _dtype(dtype))


def eye(N, M=None, k=0, dtype=None):
    return np.eye(N, M, k, dtype=_dtype(dtype))


def arange(start, stop=None, step=1, dtype=None):
    r = np.arange(start, stop, step)
    if dtype is not None:
        return r.astype(_dtype(dtype))
    return r.astype(_F32) if r.dtype == np.float64 else r


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    return np.linspace(start, stop, num, endpoint=endpoint).astype(_dtype(dtype))


@op
def zeros_like(x, dtype=None):
    a = np.asarray(_v(x))
    return np.zeros(a.shape, a.dtype if dtype is None else _dtype(dtype))


@op
def ones_like(x, dtype=None):
    a = np.asarray(_v(x))
    return np.ones(a.shape, a.dtype if dtype is None else _dtype(dtype))


@op
def full_like(x, fill_value, dtype=None):
    a = np.asarray(_v(x))
    return np.full(a.shape, _v(fill_value), a.dtype if dtype is None else _dtype(dtype))


def convert_to_tensor(x, dtype=None, sparse=None):
    """Tensors and Variables pass through (their gradient kept); anything else
    becomes an ndarray, Python floats as floatx."""
    if type(x) is Tensor or isinstance(x, (Variable, KerasTensor)):
        return x if dtype is None else cast(x, dtype)
    a = np.asarray(_v(x) if isinstance(x, (list, tuple)) else x)
    if dtype is not None:
        return a.astype(_dtype(dtype), copy=False)
    if a.dtype == np.float64 and not isinstance(x, np.ndarray):
        a = a.astype(_F32)
    return a


def convert_to_numpy(x):
    return np.array(_v(x) if not isinstance(x, KerasTensor) else x)


@op
def cast(x, dtype):
    a = _v(x)
    dt = _dtype(dtype)
    y = np.asarray(a).astype(dt)
    tape = _recording(x)
    if tape is None or dt.kind not in "fc":
        return y
    src = np.result_type(a)
    return _record(tape, y, (x,), (True,), lambda g: (np.asarray(g).astype(src),))


def shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def ndim(x):
    return len(shape(x))


def size(x):
    return math.prod(shape(x))


@op
def stop_gradient(x):
    return np.asarray(_v(x))


@op
def identity(x):
    return _unary(x, lambda a: a, lambda g, a, y: g)


@op
def one_hot(x, num_classes, axis=-1, dtype=None):
    ids = np.asarray(_v(x)).astype(np.intp)
    out = (ids[..., None] == np.arange(num_classes)).astype(_dtype(dtype))
    return out if axis == -1 else np.moveaxis(out, -1, axis)


@op
def tril(x, k=0):
    a = np.asarray(_v(x))
    return multiply(x, np.tril(np.ones(a.shape[-2:], a.dtype if a.dtype.kind == "f" else _F32), k))


@op
def triu(x, k=0):
    a = np.asarray(_v(x))
    return multiply(x, np.triu(np.ones(a.shape[-2:], a.dtype if a.dtype.kind == "f" else _F32), k))


@op
def unstack(x, num=None, axis=0):
    n = np.shape(_v(x))[axis]
    index = [builtins_slice(None)] * np.ndim(_v(x))
    out = []
    for i in range(n):
        index[axis] = i
        out.append(getitem(x, tuple(index)))
    return out


def cond(pred, true_fn, false_fn):
    """Eager: the branch ``pred`` picks (its ops record on the tape)."""
    return true_fn() if bool(np.asarray(_v(pred))) else false_fn()


def fori_loop(lower, upper, body_fun, init_val):
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    single = not isinstance(loop_vars, (list, tuple))
    state = (loop_vars,) if single else tuple(loop_vars)
    steps = 0
    while bool(np.asarray(_v(cond(*state)))):
        if maximum_iterations is not None and steps >= maximum_iterations:
            break
        state = body(*state)
        state = (state,) if single else tuple(state)
        steps += 1
    return state[0] if single else type(loop_vars)(state)


def custom_gradient(f):
    """Keras's decorator: ``f(*inputs)`` returns ``(y, grad_fn)`` and
    ``grad_fn(upstream)`` the gradient of each input; ``f`` runs on plain
    values and the tape records one node with ``grad_fn`` as its backward."""
    @functools.wraps(f)
    def wrapper(*args):
        tape = _tape()
        need = [tape is not None and _need(tape, a) for a in args]
        _stack.append(None)
        try:
            y, grad_fn = f(*[_v(a) for a in args])
        finally:
            _stack.pop()
        if not builtins_any(need):
            return y

        def back(g):
            grads = grad_fn(g)
            grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
            if len(grads) != len(args):
                raise ValueError(f"custom_gradient {f.__name__}: grad_fn returned "
                                 f"{len(grads)} gradients for {len(args)} inputs.")
            return [None if gr is None else np.asarray(_v(gr)) for gr in grads]
        return _record(tape, np.asarray(_v(y)), args, need, back)
    return wrapper


def vectorized_map(function, elements):
    """``function`` over the first axis of ``elements``, results stacked."""
    n = len(elements[0]) if isinstance(elements, (list, tuple)) else len(_v(elements))
    if isinstance(elements, (list, tuple)):
        outs = [function([getitem(e, i) for e in elements]) for i in range(n)]
    else:
        outs = [function(getitem(elements, i)) for i in range(n)]
    return stack(outs)


def is_tensor(x):
    return isinstance(x, (np.ndarray, Tensor, Variable, KerasTensor))


# ---- numpy ufuncs on tensors ------------------------------------------------------------

import builtins as _builtins  # noqa: E402

builtins_any = _builtins.any
builtins_slice = _builtins.slice

_UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide,
    np.floor_divide: floor_divide, np.remainder: mod, np.power: power,
    np.negative: negative, np.absolute: abs, np.exp: exp, np.expm1: expm1, np.log: log,
    np.log1p: log1p, np.log2: log2, np.log10: log10, np.sqrt: sqrt, np.square: square,
    np.reciprocal: reciprocal, np.sign: sign, np.floor: floor, np.ceil: ceil,
    np.maximum: maximum, np.minimum: minimum, np.cos: cos, np.sin: sin, np.tan: tan,
    np.tanh: tanh, np.matmul: matmul, np.less: less, np.less_equal: less_equal,
    np.greater: greater, np.greater_equal: greater_equal, np.equal: equal,
    np.not_equal: not_equal, np.logical_and: logical_and, np.logical_or: logical_or,
    np.logical_not: logical_not, np.isnan: isnan, np.isinf: isinf, np.isfinite: isfinite,
}


def apply_ufunc(ufunc, method, inputs, kwargs):
    """What ``np.<ufunc>(tensor, ...)`` does: the matching op, or (for other
    ufuncs, ``out=``, ``.reduce`` ...) the ufunc on plain values."""
    fn = _UFUNCS.get(ufunc)
    if fn is not None and method == "__call__" and not kwargs:
        return fn(*inputs)
    if builtins_any(type(t) is KerasTensor for t in inputs):
        raise TypeError(f"numpy's {ufunc.__name__}.{method} cannot run on a symbolic "
                        "KerasTensor; use the ckeras.ops function of the same name.")
    tape = _tape()
    if tape is not None and builtins_any(_need(tape, t) for t in inputs):
        raise TypeError(f"numpy's {ufunc.__name__}" + ("" if method == "__call__" else
                        f".{method}") + " has no gradient on the tape; use ckeras.ops "
                        "(e.g. ops.sum, ops.tanh) inside call().")
    vals = [np.asarray(t.value) if type(t) is Tensor or isinstance(t, Variable) else t
            for t in inputs]
    if "out" in kwargs:
        kwargs = dict(kwargs)
        kwargs["out"] = tuple(o.value if isinstance(o, Variable) else o for o in kwargs["out"])
    return getattr(ufunc, method)(*vals, **kwargs)


_FUNCTIONS = {
    np.concatenate: concatenate, np.stack: stack, np.sum: sum, np.mean: mean, np.max: max,
    np.amax: max, np.min: min, np.amin: min, np.prod: prod, np.std: std, np.var: var,
    np.reshape: reshape, np.transpose: transpose, np.expand_dims: expand_dims,
    np.squeeze: squeeze, np.where: where, np.clip: clip, np.dot: dot, np.tensordot: tensordot,
    np.einsum: einsum, np.tile: tile, np.repeat: repeat, np.take: take,
    np.take_along_axis: take_along_axis, np.pad: pad, np.broadcast_to: broadcast_to,
    np.flip: flip, np.cumsum: cumsum, np.sort: sort, np.swapaxes: swapaxes,
    np.moveaxis: moveaxis, np.ravel: ravel, np.split: split, np.outer: outer,
    np.zeros_like: zeros_like, np.ones_like: ones_like, np.full_like: full_like,
    np.argmax: argmax, np.argmin: argmin, np.argsort: argsort, np.any: any, np.all: all,
    np.round: round, np.tril: tril, np.triu: triu,
}
_PARAMS = {}
_INTROSPECTION = {np.shape: shape, np.ndim: ndim, np.size: lambda x: math.prod(
    d for d in shape(x) if d is not None)}


def _accepts(fn, kwargs):
    if fn not in _PARAMS:
        import inspect
        _PARAMS[fn] = set(inspect.signature(fn).parameters)
    return set(kwargs) <= _PARAMS[fn]


def _plain_values(v):
    if type(v) is Tensor or isinstance(v, Variable):
        return np.asarray(v.value)
    if type(v) is KerasTensor:
        raise TypeError("numpy functions cannot run on a symbolic KerasTensor; use the "
                        "ckeras.ops function of the same name.")
    if isinstance(v, (list, tuple)):
        return type(v)(_plain_values(e) for e in v)
    return v


def _tracked_in(v, tape):
    if isinstance(v, (list, tuple)):
        return builtins_any(_tracked_in(e, tape) for e in v)
    return _need(tape, v)


def apply_function(func, args, kwargs):
    """What ``np.<function>(tensor, ...)`` does (NEP 18): the matching op
    (``np.concatenate`` records ``ops.concatenate``), else numpy on plain
    values, refused while one of the inputs needs a gradient."""
    fn = _FUNCTIONS.get(func)
    if fn is not None and _accepts(fn, kwargs):
        return fn(*args, **kwargs)
    if func in _INTROSPECTION and len(args) == 1 and not kwargs:
        return _INTROSPECTION[func](args[0])   # also for KerasTensors (shape with None)
    out = func(*_plain_values(args), **{k: _plain_values(v) for k, v in kwargs.items()})
    tape = _tape()
    if (tape is not None and _floating(out)
            and (_tracked_in(args, tape) or _tracked_in(list(kwargs.values()), tape))):
        # (shapes, counts, comparisons carry no gradient and pass)
        raise TypeError(f"numpy's {func.__name__} has no gradient on the tape; use ckeras.ops "
                        "inside call() (or ops.stop_gradient first).")
    return out


def _floating(out):
    if isinstance(out, (list, tuple)):
        return builtins_any(_floating(o) for o in out)
    return isinstance(out, (np.ndarray, np.floating)) and np.result_type(out).kind in "fc"


_operators._ops = __import__(__name__, fromlist=["_"])
