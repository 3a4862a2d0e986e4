"""``keras.ops.nn``: activations, normalisation, cross-entropies, pooling and
convolution, differentiable on the tape (see ``ckeras.ops.array_ops``)."""
import math

import numpy as np

from ckeras.ops import array_ops as _a
from ckeras.ops import dispatch as _dispatch
from ckeras.ops import linalg as _linalg
from ckeras.ops.ctc import ctc_decode, ctc_loss  # noqa: F401  (ops.nn names)
from ckeras.ops.array_ops import (_float, _record, _recording,
                                   _recording_pair, _unary, _v, op)

__all__ = [
    "relu", "relu6", "sigmoid", "softmax", "log_softmax", "gelu", "silu", "swish", "elu",
    "selu", "leaky_relu", "softplus", "softsign", "hard_sigmoid", "hard_silu", "tanh",
    "log_sigmoid",
    "moments", "batch_normalization", "one_hot", "sparse_categorical_crossentropy",
    "categorical_crossentropy", "binary_crossentropy", "conv", "max_pool", "average_pool",
    "normalize",
    # Keras 3 additions
    "celu", "glu", "hard_shrink", "hard_swish", "hard_tanh", "soft_shrink", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold",
    "dot_product_attention", "layer_normalization", "rms_normalization", "multi_hot", "psnr",
    "polar", "depth_to_space", "space_to_depth", "conv_transpose", "depthwise_conv",
    "separable_conv", "adaptive_average_pool", "adaptive_max_pool", "unfold", "fold",
    "ctc_loss", "ctc_decode",
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


# ---- more activations (Keras 3 ops.nn names) ----------------------------------------------

@op
def celu(x, alpha=1.0):
    return _unary(x, lambda a: np.maximum(_float(a), 0)
                  + alpha * np.expm1(np.minimum(_float(a), 0) / alpha),
                  lambda g, a, y: g * np.where(a > 0, 1, np.exp(np.minimum(a, 0) / alpha)))


@op
def hard_tanh(x):
    return _unary(x, lambda a: np.clip(_float(a), -1, 1),
                  lambda g, a, y: g * ((a > -1) & (a < 1)))


hard_swish = hard_silu


@op
def hard_shrink(x, threshold=0.5):
    return _unary(x, lambda a: np.where(np.abs(a) > threshold, _float(a), 0),
                  lambda g, a, y: g * (np.abs(a) > threshold))


@op
def soft_shrink(x, threshold=0.5):
    def f(a):
        a = _float(a)
        return np.where(a > threshold, a - threshold, np.where(a < -threshold, a + threshold, 0))
    return _unary(x, f, lambda g, a, y: g * (np.abs(a) > threshold))


@op
def sparse_plus(x):
    def f(a):
        a = _float(a)
        return np.where(a <= -1, 0, np.where(a >= 1, a, (a + 1) ** 2 / 4))
    return _unary(x, f, lambda g, a, y: g * np.clip((a + 1) / 2, 0, 1))


@op
def sparse_sigmoid(x):
    return _unary(x, lambda a: np.clip((_float(a) + 1) / 2, 0, 1),
                  lambda g, a, y: g * (((a > -1) & (a < 1)) / 2))


@op
def squareplus(x, b=4):
    return _unary(x, lambda a: (_float(a) + np.sqrt(np.square(_float(a)) + b)) / 2,
                  lambda g, a, y: g * (1 + a / np.sqrt(a * a + b)) / 2)


@op
def tanh_shrink(x):
    return _unary(x, lambda a: _float(a) - np.tanh(_float(a)),
                  lambda g, a, y: g * np.square(np.tanh(a)))


@op
def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value."""
    return _a.where(_a.greater(x, threshold), x, default_value)


@op
def glu(x, axis=-1):
    """a * sigmoid(b), a and b the two halves of ``x`` along ``axis``."""
    n = np.shape(_v(x))[axis]
    if n % 2:
        raise ValueError(f"ops.glu: axis {axis} must have an even size, got {n}.")
    a, b = _a.split(x, 2, axis=axis)
    return _a.multiply(a, sigmoid(b))


@op
def sparsemax(x, axis=-1):
    """Keras 3's sparsemax: max(x - tau, 0). tau is computed as Keras computes it
    on every backend, (sum over the support of the sorted cumulative sums - 1) / k,
    so the values (and gradients) match Keras's, even though the outputs then do
    not sum to 1 as in Martins et al."""
    xs = _float(_v(x))
    srt = -np.sort(-xs, axis=axis)
    csum = np.cumsum(srt, axis=axis)
    shape = [1] * xs.ndim
    shape[axis] = -1
    r = np.arange(1, xs.shape[axis] + 1).reshape(shape)
    support = srt - (csum - 1) / r > 0
    k = support.sum(axis=axis, keepdims=True)
    # support and ranks are piecewise constant: the differentiable part is
    # tau = (sum_{rank i < k} (k - i) * sorted_i - 1) / k, the sorted values taken from x.
    order = np.argsort(-xs, axis=axis, kind="stable")
    sorted_x = _a.take_along_axis(x, order, axis=axis)
    weights = (np.where(support, k - (r - 1), 0) / k).astype(xs.dtype)
    tau = _a.subtract(_a.sum(_a.multiply(sorted_x, weights), axis=axis, keepdims=True),
                      (1 / k).astype(xs.dtype))
    return relu(_a.subtract(x, tau))


# ---- attention and normalisation --------------------------------------------------------------

_F32_LARGE_NEGATIVE = -0.7 * 3.38953e38   # Keras's masked-logit fill (float32)


@op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """softmax(q k^T * scale + bias, masked) v over (B, T, N, H) inputs; key and
    value (B, S, K, H) with N a multiple of K (grouped-query attention)."""
    if attn_logits_soft_cap is not None:
        raise ValueError("ops.dot_product_attention: attn_logits_soft_cap is only supported "
                         "by Keras on JAX TPUs; pass attn_logits_soft_cap=None.")
    if flash_attention:
        raise ValueError("ops.dot_product_attention: flash_attention=True is not supported "
                         "on the CPU; pass None or False.")
    qs, ks, vs = (np.shape(_v(t)) for t in (query, key, value))
    if len(qs) != 4 or len(ks) != 4 or len(vs) != 4:
        raise ValueError("ops.dot_product_attention only supports 4-D inputs. Received: "
                         f"query.shape={qs}, key.shape={ks}, value.shape={vs}.")
    n, kh = qs[2], ks[2]
    if n % kh:
        raise ValueError(f"ops.dot_product_attention: the query's {n} heads are not a "
                         f"multiple of the key's {kh} heads.")
    if n != kh:   # query head i reads key/value head i // (n // kh)
        key = _a.repeat(key, n // kh, axis=2)
        value = _a.repeat(value, n // kh, axis=2)
    scale = 1.0 / math.sqrt(ks[-1]) if scale is None else scale
    logits = _a.multiply(_a.einsum("btnh,bsnh->bnts", query, key), scale)
    if bias is not None:
        logits = _a.add(logits, bias)
    if mask is not None or is_causal:
        keep = np.ones(np.shape(_v(logits)), bool)
        if mask is not None:
            keep = keep & np.asarray(_v(mask)).astype(bool)
        if is_causal:
            t, s = keep.shape[2], keep.shape[3]
            keep = keep & np.tril(np.ones((t, s), bool))
        logits = _a.where(keep, logits, _F32_LARGE_NEGATIVE)
    probs = softmax(logits, axis=-1)
    return _a.einsum("bnts,bsnh->btnh", probs, value)


def _norm_axes(axis, nd):
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    return sorted(int(a) % nd for a in axes)


def _broadcast_param(p, axes, shape):
    """A gamma/beta/scale over ``axes`` reshaped to broadcast against ``shape``."""
    if p is None or np.ndim(_v(p)) == len(shape) or axes == [len(shape) - 1]:
        return p
    bshape = [shape[i] if i in axes else 1 for i in range(len(shape))]
    return _a.reshape(p, bshape)


@op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta over ``axis``."""
    from ckeras import config
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"ops.layer_normalization: unexpected arguments {sorted(kwargs)}.")
    epsilon = config.epsilon() if epsilon is None else epsilon
    shape = np.shape(_v(x))
    axes = _norm_axes(axis, len(shape))
    gamma, beta = _broadcast_param(gamma, axes, shape), _broadcast_param(beta, axes, shape)
    if rms_scaling:
        import warnings
        warnings.warn("You passed `rms_scaling=True`, which is deprecated (it scales by the "
                      "variance, not the root mean square); use ops.rms_normalization.")
        out = _a.multiply(x, _a.rsqrt(_a.add(_a.var(x, axis=axes, keepdims=True), epsilon)))
        return out if gamma is None else _a.multiply(out, gamma)
    mean, var = moments(x, axes, keepdims=True)
    inv = _a.rsqrt(_a.add(var, epsilon))
    if gamma is not None:
        inv = _a.multiply(inv, gamma)
    res = _a.multiply(_a.negative(mean), inv)
    if beta is not None:
        res = _a.add(res, beta)
    return _a.add(_a.multiply(x, inv), res)


@op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """x / sqrt(mean(x^2) + epsilon) * scale over ``axis``."""
    from ckeras import config
    epsilon = config.epsilon() if epsilon is None else epsilon
    if np.ndim(_v(x)) == 0:
        x = _a.expand_dims(x, 0)
    axes = _norm_axes(axis, np.ndim(_v(x)))
    rrms = _a.rsqrt(_a.add(_a.mean(_a.square(x), axis=axes, keepdims=True), epsilon))
    out = _a.multiply(x, rrms)
    return out if scale is None else _a.multiply(out, scale)


# ---- encodings, metrics, complex numbers -------------------------------------------------------

@op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """1 at every label of each row (Keras: one_hot then max over axis 1, or 0 for 1-D)."""
    if sparse:
        raise ValueError("ops.multi_hot: sparse=True is not supported by ckeras.")
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError("ops.multi_hot: pass num_classes.")
    if kwargs:
        raise TypeError(f"ops.multi_hot: unexpected arguments {sorted(kwargs)}.")
    ids = np.asarray(_v(inputs))
    hot = _a.one_hot(ids.astype(np.int32), num_classes, axis=axis, dtype=dtype)
    return np.max(hot, axis=1 if ids.ndim > 1 else 0)


@op
def psnr(x1, x2, max_val):
    """20 log10(max_val) - 10 log10(mean((x1 - x2)^2))."""
    if np.shape(_v(x1)) != np.shape(_v(x2)):
        raise ValueError(f"Input shapes {np.shape(_v(x1))} and {np.shape(_v(x2))} must match "
                         "for PSNR calculation.")
    mse = _a.mean(_a.square(_a.subtract(x1, x2)))
    return _a.subtract(20 * np.log10(_v(max_val)), _a.multiply(10.0, _a.log10(mse)))


@op
def polar(abs_, angle):
    """abs_ * (cos(angle) + i sin(angle)) as a complex array (no gradient)."""
    r, t = np.asarray(_v(abs_)), np.asarray(_v(angle))
    r = r.astype(_float(r).dtype, copy=False)
    c = np.complex128 if np.result_type(r, t, np.float32) == np.float64 else np.complex64
    return (r * np.cos(t) + 1j * (r * np.sin(t))).astype(c)


def _channels_last(data_format, name):
    from ckeras import config
    fmt = config.image_data_format() if data_format is None else data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"ops.{name}: data_format must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}.")
    return fmt == "channels_last"


def _block_geometry(x, block_size, data_format, name):
    """(n, h, w, c, b, channels_last) of a 4-D depth_to_space/space_to_depth input."""
    shape = np.shape(_v(x))
    if len(shape) != 4:
        raise ValueError(f"`{name}` requires a 4D input tensor. Received: x.shape={shape}")
    last = _channels_last(data_format, name)
    n, h, w, c = shape if last else (shape[0], shape[2], shape[3], shape[1])
    return n, h, w, c, int(block_size), last


@op
def depth_to_space(x, block_size, data_format="channels_last"):
    """(N, H, W, C) -> (N, H*b, W*b, C/b^2) (pixel shuffle)."""
    n, h, w, c, b, last = _block_geometry(x, block_size, data_format, "depth_to_space")
    if c % (b * b):
        raise ValueError(f"The number of channels ({c}) must be divisible by "
                         f"block_size**2 ({b * b}).")
    if last:
        y = _a.transpose(_a.reshape(x, (n, h, w, b, b, c // (b * b))), (0, 1, 3, 2, 4, 5))
        return _a.reshape(y, (n, h * b, w * b, c // (b * b)))
    y = _a.transpose(_a.reshape(x, (n, c // (b * b), b, b, h, w)), (0, 1, 4, 2, 5, 3))
    return _a.reshape(y, (n, c // (b * b), h * b, w * b))


@op
def space_to_depth(x, block_size, data_format="channels_last"):
    """(N, H, W, C) -> (N, H/b, W/b, C*b^2), the inverse of depth_to_space."""
    n, h, w, c, b, last = _block_geometry(x, block_size, data_format, "space_to_depth")
    if h % b or w % b:
        raise ValueError(f"Height ({h}) and width ({w}) must be divisible by block_size ({b}).")
    if last:
        y = _a.transpose(_a.reshape(x, (n, h // b, b, w // b, b, c)), (0, 1, 3, 2, 4, 5))
        return _a.reshape(y, (n, h // b, w // b, c * b * b))
    y = _a.transpose(_a.reshape(x, (n, c, h // b, b, w // b, b)), (0, 1, 3, 5, 2, 4))
    return _a.reshape(y, (n, c * b * b, h // b, w // b))


# ---- more convolutions (channels_last), built on differentiable window patches ------------------

def _to_channels_last(x, data_format, name):
    """(x in channels_last, function bringing a channels_last result back)."""
    if _channels_last(data_format, name):
        return x, lambda y: y
    nd = np.ndim(_v(x))
    fwd = (0,) + tuple(range(2, nd)) + (1,)
    back = (0, nd - 1) + tuple(range(1, nd - 1))
    return _a.transpose(x, fwd), lambda y: _a.transpose(y, back)


@op
def _window_patches(x, ksize, strides, dilation, padding):
    """(N, *spatial, C) -> (N, *out, *k, C) windows, differentiable."""
    a = np.asarray(_v(x))
    idx, pads, _ = _patches_index(a.shape[1:-1], ksize, strides, dilation, padding)
    y = _gather_patches(a, idx, pads, 0)
    tape = _recording(x)
    if tape is None:
        return y
    return _record(tape, y, (x,), (True,),
                   lambda g: (_scatter_patches(np.ascontiguousarray(g), a.shape, idx, pads),))


def _spatial_letters(nd):
    return "defg"[:nd], "pqrs"[:nd]   # output positions, kernel taps


def _geometry(x, kernel_nd, strides, padding, dilation_rate):
    nd = np.ndim(_v(x)) - 2
    if kernel_nd is not None and nd != kernel_nd:
        raise ValueError(f"input of rank {nd + 2} does not match a kernel with {kernel_nd} "
                         "spatial axes")
    pad = padding.lower()
    if pad not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return nd, _tuple(strides, nd), _tuple(dilation_rate, nd), pad


@op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Depthwise convolution; kernel (*k, C, M) -> C*M output channels (c*M + m)."""
    x, restore = _to_channels_last(inputs, data_format, "depthwise_conv")
    ks = np.shape(_v(kernel))
    nd, st, dil, pad = _geometry(x, len(ks) - 2, strides, padding, dilation_rate)
    p = _window_patches(x, ks[:nd], st, dil, pad)
    o, k = _spatial_letters(nd)
    y = _a.einsum(f"n{o}{k}c,{k}cm->n{o}cm", p, kernel)
    ys = np.shape(_v(y))
    return restore(_a.reshape(y, ys[:-2] + (ys[-2] * ys[-1],)))


@op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """depthwise_conv, then a 1x1 conv with pointwise_kernel (1.., C*M, F)."""
    x, restore = _to_channels_last(inputs, data_format, "separable_conv")
    y = depthwise_conv(x, depthwise_kernel, strides, padding, "channels_last", dilation_rate)
    return restore(conv(y, pointwise_kernel, 1, "valid"))


@op
def _dilate(x, strides):
    """Insert strides-1 zeros between the entries of each spatial axis."""
    a = np.asarray(_v(x))
    key = (builtin_slice(None),) + tuple(builtin_slice(None, None, s) for s in strides) \
        + (builtin_slice(None),)
    shape = (a.shape[0],) + tuple((n - 1) * s + 1 for n, s in zip(a.shape[1:-1], strides)) \
        + (a.shape[-1],)
    y = np.zeros(shape, a.dtype)
    y[key] = a
    tape = _recording(x)
    if tape is None:
        return y
    return _record(tape, y, (x,), (True,), lambda g: (g[key],))


def _transpose_pads(k, stride, dilation, padding, output_padding):
    """Keras's (left, right) padding of the dilated input, per spatial axis."""
    span = (k - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return span - 1, span - 1 + extra
    if output_padding is None:
        total = stride + span - 2
    else:
        total = span + span % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, span - 1)
    return left, total - left


@op
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution; kernel (*k, C_out, C_in) as Keras's."""
    x, restore = _to_channels_last(inputs, data_format, "conv_transpose")
    ks = np.shape(_v(kernel))
    nd, st, dil, pad = _geometry(x, len(ks) - 2, strides, padding, dilation_rate)
    if ks[-1] != np.shape(_v(x))[-1]:
        raise ValueError(f"ops.conv_transpose: the kernel's last axis ({ks[-1]}) must equal "
                         f"the input channels ({np.shape(_v(x))[-1]}).")
    op_ = [None] * nd if output_padding is None else list(_tuple(output_padding, nd))
    pads = [_transpose_pads(ks[i], st[i], dil[i], pad, op_[i]) for i in range(nd)]
    xd = _a.pad(_dilate(x, st), [(0, 0)] + pads + [(0, 0)])
    # a stride-1 correlation of the dilated, padded input with the flipped
    # kernel, (*k, C_in, C_out): ops.conv, on the GEMM kernel
    w = _a.swapaxes(_a.flip(kernel, axis=tuple(range(nd))), -1, -2)
    return restore(conv(xd, w, 1, "valid", "channels_last", dil))


# ---- adaptive pooling ----------------------------------------------------------------------------

def _adaptive_pool(inputs, output_size, data_format, reduce, name):
    x, restore = _to_channels_last(inputs, data_format, name)
    nd = np.ndim(_v(x)) - 2
    if nd not in (1, 2, 3):
        raise ValueError(f"ops.{name}: expected a 3-D, 4-D or 5-D input, got rank {nd + 2}.")
    outs = _tuple(output_size, nd)
    for ax in range(nd):
        size, out = np.shape(_v(x))[1 + ax], outs[ax]
        # window i covers [floor(i L / out), ceil((i + 1) L / out)), as Keras / PyTorch
        parts = []
        for i in range(out):
            lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
            key = (builtin_slice(None),) * (1 + ax) + (builtin_slice(lo, hi),)
            parts.append(reduce(_a.getitem(x, key), axis=1 + ax, keepdims=True))
        x = _a.concatenate(parts, axis=1 + ax)
    return restore(x)


@op
def adaptive_average_pool(inputs, output_size, data_format=None):
    return _adaptive_pool(inputs, output_size, data_format, _a.mean, "adaptive_average_pool")


@op
def adaptive_max_pool(inputs, output_size, data_format=None):
    return _adaptive_pool(inputs, output_size, data_format, _a.max, "adaptive_max_pool")


# ---- unfold / fold (channels_first, as Keras and PyTorch) ----------------------------------------

def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)


@op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) -> (N, C*kH*kW, L) sliding blocks (im2col)."""
    shape = np.shape(_v(x))
    if len(shape) != 4:
        raise ValueError(f"ops.unfold expects a 4-D (N, C, H, W) input, got shape {shape}.")
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    xl = _a.pad(_a.transpose(x, (0, 2, 3, 1)), [(0, 0), (p[0], p[0]), (p[1], p[1]), (0, 0)])
    pt = _window_patches(xl, k, s, d, "valid")          # (N, oH, oW, kH, kW, C)
    n, oh, ow, _, _, c = np.shape(_v(pt))
    pt = _a.transpose(pt, (0, 5, 3, 4, 1, 2))           # (N, C, kH, kW, oH, oW)
    return _a.reshape(pt, (n, c * k[0] * k[1], oh * ow))


@op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C*kH*kW, L) -> (N, C, oH, oW), overlapping blocks summed (col2im):
    the adjoint of unfold."""
    n, ckk, length = np.shape(_v(x))
    o, k, d, p, s = (_pair(v) for v in (output_size, kernel_size, dilation, padding, stride))
    if ckk % (k[0] * k[1]):
        raise ValueError(f"The second dimension of the input ({ckk}) must be divisible by "
                         f"kernel_size product ({k[0] * k[1]}).")
    c = ckk // (k[0] * k[1])
    padded = (n, o[0] + 2 * p[0], o[1] + 2 * p[1], c)
    idx, pads, outs = _patches_index(padded[1:3], k, s, d, "valid")
    if outs[0] * outs[1] != length:
        raise ValueError(f"ops.fold: {length} blocks do not fit output_size={o} with "
                         f"kernel_size={k}, dilation={d}, padding={p}, stride={s} "
                         f"(expected {outs[0] * outs[1]}).")
    blocks = _a.transpose(_a.reshape(x, (n, c, k[0], k[1], outs[0], outs[1])), (0, 4, 5, 2, 3, 1))
    y = _scatter_op(blocks, padded, idx, pads)          # (N, oH+2p, oW+2p, C)
    y = _a.getitem(y, (builtin_slice(None), builtin_slice(p[0], p[0] + o[0]),
                       builtin_slice(p[1], p[1] + o[1])))
    return _a.transpose(y, (0, 3, 1, 2))


@op
def _scatter_op(blocks, shape, idx, pads):
    """_scatter_patches as an op: its adjoint is the gather."""
    b = np.ascontiguousarray(_v(blocks))
    y = _scatter_patches(b, shape, idx, pads)
    tape = _recording(blocks)
    if tape is None:
        return y
    return _record(tape, y, (blocks,), (True,), lambda g: (_gather_patches(g, idx, pads, 0),))

# dispatch.sigmoid/softmax hand tensors to us; we sit above it.
_dispatch._nn = __import__(__name__, fromlist=["_"])
