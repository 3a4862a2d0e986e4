"""``keras.ops.nn``: activations, normalisation, cross-entropies, pooling and
convolution, differentiable on the tape (see ``ckeras.ops.array_ops``)."""
import math

import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops import dispatch as _dispatch
from ckeras.ops import linalg as _linalg
from ckeras.ops.array_ops import (_float, _record, _recording,
                                   _recording_pair, _unary, _v, op)

__all__ = [
    "relu", "relu6", "sigmoid", "softmax", "log_softmax", "gelu", "silu", "swish", "elu",
    "selu", "leaky_relu", "softplus", "softsign", "hard_sigmoid", "hard_silu", "tanh",
    "log_sigmoid",
    "moments", "batch_normalization", "one_hot", "sparse_categorical_crossentropy",
    "categorical_crossentropy", "binary_crossentropy", "conv", "max_pool", "average_pool",
    "normalize",
]

tanh = _a.tanh
one_hot = _a.one_hot
_EPS = 1e-7


def _kernels():
    return _dispatch


def _fused32(a):
    return type(a) is np.ndarray and a.dtype == np.float32 and a.ndim >= 1


def _relu_value(a):
    return _kernels().activation_from_output("relu", a) if _fused32(a) else np.maximum(a, 0)


def _relu_grad(g, a, y):
    if _fused32(y) and isinstance(g, np.ndarray) and g.shape == y.shape:
        return _kernels().activation_backward_from_output("relu", g, y)   # one fused pass
    return g * (a > 0)


@op
def relu(x):
    return _unary(x, _relu_value, _relu_grad)


@op
def relu6(x):
    return _unary(x, lambda a: np.clip(a, 0, 6), lambda g, a, y: g * ((a > 0) & (a < 6)))


def _sigmoid_value(a):
    a = _float(a)
    if a.dtype == np.float32 and a.ndim >= 1 and type(a) is np.ndarray:
        return _kernels().sigmoid(a)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-a))


@op
def sigmoid(x):
    return _unary(x, _sigmoid_value, lambda g, a, y: g * y * (1 - y))


def _softmax_value(a, axis):
    a = _float(a)
    if axis in (-1, a.ndim - 1) and a.dtype == np.float32 and a.ndim >= 1 \
            and type(a) is np.ndarray and a.shape[-1] > 0:
        return _kernels().softmax(a)
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@op
def softmax(x, axis=-1):
    def grad(g, a, y):
        return y * (g - np.sum(g * y, axis=axis, keepdims=True))
    return _unary(x, lambda a: _softmax_value(a, axis), grad)


@op
def log_softmax(x, axis=-1):
    def f(a):
        a = _float(a)
        m = np.max(a, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        return a - m - np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))
    return _unary(x, f, lambda g, a, y: g - np.exp(y) * np.sum(g, axis=axis, keepdims=True))


_GELU_C = math.sqrt(2 / math.pi)


@op
def gelu(x, approximate=True):
    if approximate:
        def f(a):
            a = _float(a)
            return 0.5 * a * (1 + np.tanh(_GELU_C * (a + 0.044715 * a ** 3)))

        def grad(g, a, y):
            t = np.tanh(_GELU_C * (a + 0.044715 * a ** 3))
            dt = (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * a * a)
            return g * (0.5 * (1 + t) + 0.5 * a * dt)
        return _unary(x, f, grad)

    def f_exact(a):
        a = _float(a)
        return 0.5 * a * (1 + _a._erf(a / math.sqrt(2)))

    def grad_exact(g, a, y):
        cdf = 0.5 * (1 + _a._erf(a / math.sqrt(2)))
        return g * (cdf + a * np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi))
    return _unary(x, f_exact, grad_exact)


@op
def silu(x):
    def f(a):
        return _float(a) * _sigmoid_value(a)

    def grad(g, a, y):
        s = _sigmoid_value(a)
        return g * (s + a * s * (1 - s))
    return _unary(x, f, grad)


swish = silu


@op
def hard_sigmoid(x):
    return _unary(x, lambda a: np.clip(_float(a) / 6 + 0.5, 0, 1),
                  lambda g, a, y: g * (((a > -3) & (a < 3)) / 6))


@op
def hard_silu(x):
    return _a.multiply(x, hard_sigmoid(x))


@op
def elu(x, alpha=1.0):
    return _unary(x, lambda a: np.where(a > 0, a, alpha * np.expm1(np.minimum(_float(a), 0))),
                  lambda g, a, y: g * np.where(a > 0, 1, y + alpha))


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


@op
def selu(x):
    return _a.multiply(elu(x, _SELU_ALPHA), _SELU_SCALE)


@op
def leaky_relu(x, negative_slope=0.2):
    return _unary(x, lambda a: np.where(a > 0, a, negative_slope * a),
                  lambda g, a, y: g * np.where(a > 0, 1, negative_slope))


@op
def softplus(x):
    return _unary(x, lambda a: np.logaddexp(0, _float(a)),
                  lambda g, a, y: g * _sigmoid_value(a))


@op
def log_sigmoid(x):
    return _unary(x, lambda a: -np.logaddexp(0, -_float(a)),
                  lambda g, a, y: g * _sigmoid_value(-a))


@op
def softsign(x):
    return _unary(x, lambda a: _float(a) / (1 + np.abs(a)),
                  lambda g, a, y: g / np.square(1 + np.abs(a)))


# ---- normalisation -------------------------------------------------------------------

@op
def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) over ``axes``."""
    return _a.mean(x, axis=axes, keepdims=keepdims), _a.var(x, axis=axes, keepdims=keepdims)


@op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    nd = np.ndim(_v(x))
    shape = [1] * nd
    shape[axis % nd] = -1

    def b(t):
        return _a.reshape(t, shape) if np.ndim(_v(t)) == 1 else t
    inv = _a.rsqrt(_a.add(b(variance), epsilon))
    if scale is not None:
        inv = _a.multiply(inv, b(scale))
    res = _a.multiply(_a.subtract(x, b(mean)), inv)
    return res if offset is None else _a.add(res, b(offset))


# ---- cross-entropies (per-element values, Keras ops.nn semantics) ------------------------

@op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    if from_logits:
        logp = log_softmax(output, axis=axis)
    else:
        p = _a.divide(output, _a.sum(output, axis=axis, keepdims=True))
        logp = _a.log(_a.clip(p, _EPS, 1 - _EPS))
    return _a.negative(_a.sum(_a.multiply(target, logp), axis=axis))


@op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    t = np.asarray(_v(target))
    out_nd = np.ndim(_v(output))
    if t.ndim == out_nd and t.shape[-1] == 1:
        t = t[..., 0]
    t = t.astype(np.intp)
    if from_logits:
        logp = log_softmax(output, axis=axis)
    else:
        p = _a.divide(output, _a.sum(output, axis=axis, keepdims=True))
        logp = _a.log(_a.clip(p, _EPS, 1 - _EPS))
    picked = _a.take_along_axis(logp, np.expand_dims(t, axis), axis=axis)
    return _a.negative(_a.squeeze(picked, axis=axis))


@op
def binary_crossentropy(target, output, from_logits=False):
    if from_logits:
        # max(x, 0) - x t + log(1 + exp(-|x|))
        return _a.add(_a.subtract(relu(output), _a.multiply(output, target)),
                      _a.log1p(_a.exp(_a.negative(_a.abs(output)))))
    p = _a.clip(output, _EPS, 1 - _EPS)
    return _a.negative(_a.add(_a.multiply(target, _a.log(p)),
                              _a.multiply(_a.subtract(1, target), _a.log(_a.subtract(1, p)))))


# ---- convolution and pooling (channels_last) ---------------------------------------------

def _tuple(v, n):
    return (int(v),) * n if isinstance(v, (int, np.integer)) else tuple(int(k) for k in v)


def _window_index(in_size, k, stride, dilation, padding):
    """(out positions, tap) -> input position, and the left padding."""
    span = (k - 1) * dilation + 1
    if padding == "same":
        out = -(-in_size // stride)
        pad_total = max((out - 1) * stride + span - in_size, 0)
        left = pad_total // 2
    else:
        out = (in_size - span) // stride + 1
        left = 0
    if out <= 0:
        raise ValueError(f"window of size {k} (dilation {dilation}) does not fit an input "
                         f"of size {in_size} with padding={padding!r}")
    pos = np.arange(out)[:, None] * stride + np.arange(k)[None, :] * dilation - left
    return pos, out


def _patches_index(spatial, ksize, strides, dilation, padding):
    """Per spatial axis gather indices into the padded input, plus pads."""
    idx, pads, outs = [], [], []
    for n, k, s, d in zip(spatial, ksize, strides, dilation):
        pos, out = _window_index(n, k, s, d, padding)
        lo = max(-int(pos.min()), 0)
        hi = max(int(pos.max()) - (n - 1), 0)
        idx.append(pos + lo)
        pads.append((lo, hi))
        outs.append(out)
    return idx, pads, outs


def _gather_patches(a, idx, pads, fill):
    """(N, *spatial, C) -> (N, *out, *k, C) windows."""
    nd = len(idx)
    a = np.pad(a, [(0, 0)] + pads + [(0, 0)], constant_values=fill)
    for ax, pos in enumerate(idx):
        a = np.take(a, pos, axis=1 + ax + ax)  # (.., out_i, k_i, ..) after each step
    # axes are now N, o1, k1, o2, k2, ..., C: bring the taps after all outputs
    order = [0] + [1 + 2 * i for i in range(nd)] + [2 + 2 * i for i in range(nd)] + [1 + 2 * nd]
    return np.transpose(a, order)


def _scatter_patches(gp, shape, idx, pads):
    """Adjoint of _gather_patches: add (N, *out, *k, C) windows back."""
    nd = len(idx)
    padded = [shape[0]] + [n + lo + hi for n, (lo, hi) in zip(shape[1:-1], pads)] + [shape[-1]]
    d = np.zeros(padded, gp.dtype)
    grids = []
    for ax, pos in enumerate(idx):
        o, k = pos.shape
        sh = [1] * (2 * nd)
        sh[ax], sh[nd + ax] = o, k
        grids.append(pos.reshape(sh))
    index = (np.arange(shape[0]).reshape([-1] + [1] * (2 * nd + 1)),) + tuple(
        g.reshape([1] + list(g.shape) + [1]) for g in grids) + (
        np.arange(shape[-1]).reshape([1] * (2 * nd + 1) + [-1]),)
    np.add.at(d, index, gp)
    crop = (builtin_slice(None),) + tuple(builtin_slice(lo, lo + n) for n, (lo, _) in
                                          zip(shape[1:-1], pads)) + (builtin_slice(None),)
    return d[crop]


builtin_slice = slice


@op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution, channels_last; kernel (*k, C_in, C_out)."""
    if data_format not in (None, "channels_last"):
        raise NotImplementedError("ckeras.ops.conv: only data_format='channels_last'.")
    x, w = np.asarray(_v(inputs)), np.asarray(_v(kernel))
    nd = x.ndim - 2
    ksize = w.shape[:nd]
    idx, pads, outs = _patches_index(x.shape[1:-1], ksize, _tuple(strides, nd),
                                     _tuple(dilation_rate, nd), padding.lower())
    patches = _gather_patches(x, idx, pads, 0)          # (N, *out, *k, C)
    n_in = ksize + (x.shape[-1],)
    cols = patches.reshape((-1, int(np.prod(n_in))))
    w2 = w.reshape((-1, w.shape[-1]))
    y = _a._gemm(np.ascontiguousarray(cols), np.ascontiguousarray(w2)).reshape(
        (x.shape[0],) + tuple(outs) + (w.shape[-1],))
    tape, n1, n2 = _recording_pair(inputs, kernel)
    if tape is None:
        return y

    def back(g):
        g2 = np.ascontiguousarray(g.reshape((-1, w.shape[-1])))
        dw = _a._gemm_t(np.ascontiguousarray(cols), g2, True, False).reshape(w.shape) if n2 else None
        dx = None
        if n1:
            dcols = _a._gemm_t(g2, np.ascontiguousarray(w2), False, True).reshape(patches.shape)
            dx = _scatter_patches(dcols, x.shape, idx, pads)
        return dx, dw
    return _record(tape, y, (inputs, kernel), (n1, n2), back)


def _pool(inputs, pool_size, strides, padding, reduce):
    x = np.asarray(_v(inputs))
    nd = x.ndim - 2
    ksize = _tuple(pool_size, nd)
    strides = ksize if strides is None else _tuple(strides, nd)
    idx, pads, _ = _patches_index(x.shape[1:-1], ksize, strides, (1,) * nd, padding.lower())
    fill = -np.inf if reduce == "max" else 0
    patches = _gather_patches(_float(x), idx, pads, fill)   # (N, *out, *k, C)
    tap_axes = tuple(range(1 + nd, 1 + 2 * nd))
    if reduce == "max":
        y = patches.max(axis=tap_axes)
    else:
        # 'same' padding: average over the real (unpadded) inputs only
        ones = _gather_patches(np.ones(x.shape[:-1] + (1,), x.dtype), idx, pads, 0)
        count = ones.sum(axis=tap_axes)
        y = patches.sum(axis=tap_axes) / count
    tape = _recording(inputs)
    if tape is None:
        return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y

    def back(g):
        ge = np.expand_dims(g, tap_axes)
        if reduce == "max":
            mask = patches == np.expand_dims(y, tap_axes)
            gp = mask * (ge / mask.sum(axis=tap_axes, keepdims=True))
        else:
            gp = np.broadcast_to(ge / np.expand_dims(count, tap_axes), patches.shape)
        return (_scatter_patches(np.ascontiguousarray(gp), x.shape, idx, pads),)
    return _record(tape, y, (inputs,), (True,), back)


@op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool(inputs, pool_size, strides, padding, "max")


@op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool(inputs, pool_size, strides, padding, "mean")


@op
def normalize(x, axis=-1, order=2):
    """x / ||x|| along ``axis`` (the norm floored at 1e-12, as Keras)."""
    norm = _linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return _a.divide(x, _a.maximum(norm, 1e-12))


# dispatch.sigmoid/softmax hand tensors to us; we sit above it.
_dispatch._nn = __import__(__name__, fromlist=["_"])
