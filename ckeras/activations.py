"""Activation functions with explicit derivatives (Keras 3 names and defaults).

Two faces, as in Keras:

* module-level functions (``ckeras.activations.relu(x)``, ``gelu(x, approximate=True)``)
  that take an array and return an array;
* ``get(identifier)`` -> an :class:`ActivationFunction` object, what layers hold:
  ``.name`` (the Keras string written in layer configs), ``forward(x)``,
  ``backward(dy, x, y)`` (``x`` the pre-activation input, ``y`` the output) and
  ``.fusable`` (True for the names in ``ops.FUSED_ACTIVATIONS``, which Dense
  fuses into its kernel).

Everything works in the dtype of the input (float32 at runtime, float64 in the
gradient checks): constants are Python floats so NumPy never upcasts.
"""
import math

import numpy as np

from ckeras import ops
from ckeras import registry

__all__ = [
    "ActivationFunction", "get", "serialize", "deserialize",
    "linear", "relu", "relu6", "leaky_relu", "sigmoid", "softmax", "log_softmax",
    "tanh", "elu", "selu", "celu", "softplus", "softsign", "gelu", "silu", "swish",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "exponential", "mish",
    "log_sigmoid", "tanh_shrink", "squareplus", "soft_shrink", "hard_shrink",
    "sparse_plus", "sparse_sigmoid", "glu", "sparsemax", "threshold",
]

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _as_float(x):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


def _erf(x):
    from scipy.special import erf  # lazily: scipy.special is slow to import (benchmarks/README.md)
    return erf(x)


def _softplus(x):
    # log(1 + exp(x)) without overflow.
    return np.logaddexp(x, 0.0).astype(x.dtype, copy=False)


# ---- each activation: its function (array in, array out), then its
# derivative ``d(dy, x, y) -> dy * d act / dx`` (x the input, y the output),
# registered for the ActivationFunction objects by ``@_derivative``.

_PAIRS = {}   # name -> (forward used by the layers, derivative), in definition order


def _derivative(name, forward=None):
    """Pair the decorated derivative with activation ``name``: the module
    function of that name, or ``forward`` (e.g. the ops kernel) when given."""
    def register(grad):
        _PAIRS[name] = (forward if forward is not None else globals()[name], grad)
        return grad
    return register


def linear(x):
    return _as_float(x)


@_derivative("linear")
def _d_linear(dy, x, y):
    return dy


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras 3 relu: max(x, 0), with optional leak, cap and threshold."""
    x = _as_float(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return np.maximum(x, 0.0).astype(x.dtype, copy=False)
    if threshold != 0.0:
        pos = np.where(x > threshold, x, 0.0)
        neg = np.maximum(threshold - x, 0.0)
    else:
        pos = np.maximum(x, 0.0)
        neg = np.maximum(-x, 0.0)
    if max_value is not None:
        pos = np.clip(pos, 0.0, max_value)
    out = pos - negative_slope * neg if negative_slope != 0.0 else pos
    return out.astype(x.dtype, copy=False)


@_derivative("relu")
def _d_relu(dy, x, y):
    return dy * (y > 0)   # y > 0 exactly where x > 0; the output alone suffices


def relu6(x):
    x = _as_float(x)
    return np.clip(x, 0.0, 6.0)


@_derivative("relu6")
def _d_relu6(dy, x, y):
    return dy * ((x > 0) & (x < 6))


def leaky_relu(x, negative_slope=0.2):
    x = _as_float(x)
    return np.where(x >= 0, x, negative_slope * x).astype(x.dtype, copy=False)


@_derivative("leaky_relu")
def _d_leaky_relu(dy, x, y):
    return np.where(x >= 0, dy, 0.2 * dy)


def sigmoid(x):
    return ops.sigmoid(_as_float(x))


@_derivative("sigmoid", ops.sigmoid)
def _d_sigmoid(dy, x, y):
    return dy * y * (1.0 - y)


def softmax(x, axis=-1):
    x = _as_float(x)
    if axis in (-1, x.ndim - 1):
        return ops.softmax(x)
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


@_derivative("softmax", ops.softmax)
def _d_softmax(dy, x, y):
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def log_softmax(x, axis=-1):
    x = _as_float(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


@_derivative("log_softmax")
def _d_log_softmax(dy, x, y):
    return dy - np.exp(y) * dy.sum(axis=-1, keepdims=True)


def tanh(x):
    return np.tanh(_as_float(x))


@_derivative("tanh", np.tanh)
def _d_tanh(dy, x, y):
    return dy * (1.0 - y * y)


def elu(x, alpha=1.0):
    x = _as_float(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))).astype(x.dtype, copy=False)


@_derivative("elu")
def _d_elu(dy, x, y):
    return np.where(x > 0, dy, dy * (y + 1.0))


def selu(x):
    x = _as_float(x)
    neg = (_SELU_SCALE * _SELU_ALPHA) * np.expm1(np.minimum(x, 0.0))
    return np.where(x > 0, _SELU_SCALE * x, neg).astype(x.dtype, copy=False)


@_derivative("selu")
def _d_selu(dy, x, y):
    return np.where(x > 0, _SELU_SCALE * dy, dy * (y + _SELU_SCALE * _SELU_ALPHA))


def celu(x, alpha=1.0):
    x = _as_float(x)
    neg = alpha * np.expm1(np.minimum(x, 0.0) / alpha)
    return (np.maximum(x, 0.0) + np.minimum(neg, 0.0)).astype(x.dtype, copy=False)


@_derivative("celu")
def _d_celu(dy, x, y):
    return np.where(x > 0, dy, dy * np.exp(np.minimum(x, 0.0)))


def softplus(x):
    return _softplus(_as_float(x))


@_derivative("softplus")
def _d_softplus(dy, x, y):
    return dy * ops.sigmoid(x)


def softsign(x):
    x = _as_float(x)
    return x / (np.abs(x) + 1.0)


@_derivative("softsign")
def _d_softsign(dy, x, y):
    d = 1.0 + np.abs(x)
    return dy / (d * d)


def gelu(x, approximate=False):
    """Keras 3 default is the exact (erf) form; approximate=True is the tanh form."""
    x = _as_float(x)
    if approximate:
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        return (0.5 * x * (1.0 + np.tanh(inner))).astype(x.dtype, copy=False)
    return (0.5 * x * (1.0 + _erf(x / _SQRT_2))).astype(x.dtype, copy=False)


@_derivative("gelu")
def _d_gelu(dy, x, y):
    cdf = 0.5 * (1.0 + _erf(x / _SQRT_2))
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return dy * (cdf + x * pdf)


def silu(x):
    x = _as_float(x)
    return x * ops.sigmoid(x)


@_derivative("silu")
def _d_silu(dy, x, y):
    s = ops.sigmoid(x)
    return dy * (s * (1.0 + x * (1.0 - s)))


swish = silu


def hard_sigmoid(x):
    """Keras 3: relu6(x + 3) / 6."""
    x = _as_float(x)
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


@_derivative("hard_sigmoid")
def _d_hard_sigmoid(dy, x, y):
    return np.where((x > -3.0) & (x < 3.0), dy / 6.0, 0.0).astype(dy.dtype, copy=False)


def hard_silu(x):
    x = _as_float(x)
    return x * hard_sigmoid(x)


@_derivative("hard_silu")
def _d_hard_silu(dy, x, y):
    # d/dx [x * relu6(x + 3) / 6] = (relu6(x + 3) + x * [-3 < x < 3]) / 6
    inside = (x > -3.0) & (x < 3.0)
    return dy * ((np.clip(x + 3.0, 0.0, 6.0) + np.where(inside, x, 0.0)) / 6.0)


hard_swish = hard_silu


def hard_tanh(x):
    return np.clip(_as_float(x), -1.0, 1.0)


@_derivative("hard_tanh")
def _d_hard_tanh(dy, x, y):
    return dy * ((x > -1.0) & (x < 1.0))


def exponential(x):
    return np.exp(_as_float(x))


@_derivative("exponential")
def _d_exponential(dy, x, y):
    return dy * y


def mish(x):
    x = _as_float(x)
    return x * np.tanh(_softplus(x))


@_derivative("mish")
def _d_mish(dy, x, y):
    t = np.tanh(_softplus(x))
    return dy * (t + x * (1.0 - t * t) * ops.sigmoid(x))


def log_sigmoid(x):
    x = _as_float(x)
    return -_softplus(-x)


@_derivative("log_sigmoid")
def _d_log_sigmoid(dy, x, y):
    return dy * ops.sigmoid(-x)


def tanh_shrink(x):
    x = _as_float(x)
    return x - np.tanh(x)


@_derivative("tanh_shrink")
def _d_tanh_shrink(dy, x, y):
    t = np.tanh(x)
    return dy * (t * t)


def squareplus(x, b=4):
    x = _as_float(x)
    return (x + np.sqrt(x * x + float(b))) / 2.0


@_derivative("squareplus")
def _d_squareplus(dy, x, y):
    return dy * 0.5 * (1.0 + x / np.sqrt(x * x + 4.0))


def soft_shrink(x, threshold=0.5):
    x = _as_float(x)
    out = np.where(x > threshold, x - threshold, np.where(x < -threshold, x + threshold, 0.0))
    return out.astype(x.dtype, copy=False)


@_derivative("soft_shrink")
def _d_soft_shrink(dy, x, y):
    return dy * (np.abs(x) > 0.5)


def hard_shrink(x, threshold=0.5):
    x = _as_float(x)
    return np.where(np.abs(x) > threshold, x, 0.0).astype(x.dtype, copy=False)


@_derivative("hard_shrink")
def _d_hard_shrink(dy, x, y):
    return dy * (np.abs(x) > 0.5)


def sparse_plus(x):
    x = _as_float(x)
    mid = (x + 1.0) ** 2 / 4.0
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, mid)).astype(x.dtype, copy=False)


@_derivative("sparse_plus")
def _d_sparse_plus(dy, x, y):
    return dy * np.where(x <= -1.0, 0.0, np.where(x >= 1.0, 1.0, (x + 1.0) / 2.0))


def sparse_sigmoid(x):
    """0 below -1, (x + 1) / 2 between, 1 above 1."""
    x = _as_float(x)
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)


@_derivative("sparse_sigmoid")
def _d_sparse_sigmoid(dy, x, y):
    return np.where((x > -1.0) & (x < 1.0), dy * 0.5, 0.0).astype(dy.dtype, copy=False)


def glu(x, axis=-1):
    """a * sigmoid(b), a and b the halves of x along ``axis`` (the output is half as wide)."""
    return ops.nn.glu(_as_float(x), axis=axis)


@_derivative("glu")
def _d_glu(dy, x, y):
    a, b = np.split(x, 2, axis=-1)
    s = ops.sigmoid(b)
    return np.concatenate([dy * s, dy * a * s * (1.0 - s)], axis=-1)


def sparsemax(x, axis=-1):
    """Keras's sparsemax, max(x - tau, 0) (tau as ops.nn.sparsemax computes it)."""
    return ops.nn.sparsemax(_as_float(x), axis=axis)


@_derivative("sparsemax")
def _d_sparsemax(dy, x, y):
    # tau = sum_{rank i < k} (k - i) / k * sorted_i - 1 / k: d tau / d x_j is
    # (k - rank_j) / k on the support (see ops.nn.sparsemax)
    n = x.shape[-1]
    rank = np.argsort(np.argsort(-x, axis=-1, kind="stable"), axis=-1, kind="stable")
    srt = -np.sort(-x, axis=-1)
    support = srt - (np.cumsum(srt, axis=-1) - 1.0) / np.arange(1, n + 1) > 0
    k = support.sum(axis=-1, keepdims=True)
    dtau = np.where(rank < k, (k - rank) / k, 0.0)
    live = y > 0
    dx = live * dy - dtau * np.sum(live * dy, axis=-1, keepdims=True)
    return dx.astype(dy.dtype, copy=False)


def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value (Keras: both arguments required)."""
    x = _as_float(x)
    return np.where(x > threshold, x, default_value).astype(x.dtype, copy=False)


@_derivative("threshold")
def _d_threshold(dy, x, y):
    return dy * (y == x)   # kept entries pass the gradient; replaced ones get none


# ---- objects ------------------------------------------------------------------

class ActivationFunction:
    """An activation with its derivative.

    ``fn`` maps x -> y; ``grad`` maps (dy, x, y) -> dx (None for a user
    function without a gradient: ``backward`` then raises, ``forward`` works).
    """

    def __init__(self, fn, grad=None, name=None, fusable=False):
        self.fn = fn
        self.grad = grad
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.fusable = bool(fusable)

    def forward(self, x):
        return self.fn(x)

    def backward(self, dy, x, y):
        if self.grad is None:
            raise NotImplementedError(
                f"Activation {self.name!r} is a user function without a gradient, so it "
                "cannot be trained through: ckeras computes gradients explicitly. Give "
                "the function a `backward(dy, x, y)` attribute returning dL/dx, wrap it "
                "as ckeras.activations.ActivationFunction(fn, grad=...), or use a "
                "built-in activation.")
        return self.grad(dy, x, y)

    def __call__(self, x):
        return self.forward(x)

    def get_config(self):
        return self.name

    def __repr__(self):
        return f"<ActivationFunction {self.name}>"

    def __eq__(self, other):
        if isinstance(other, ActivationFunction):
            return self.fn is other.fn and self.name == other.name
        return NotImplemented

    def __hash__(self):
        return hash((id(self.fn), self.name))


def _builtin(name, fn, grad):
    return ActivationFunction(fn, grad, name=name, fusable=name in ops.FUSED_ACTIVATIONS)


def _make_builtins():
    objs = {name: _builtin(name, fn, grad) for name, (fn, grad) in _PAIRS.items()}
    objs["swish"] = objs["silu"]            # Keras 3 aliases
    objs["hard_swish"] = objs["hard_silu"]
    return objs


_BUILTINS = _make_builtins()

# Module functions passed as objects (activation=ckeras.activations.relu) map
# back to the builtin object, so their name and fused kernel are kept.
_BY_FUNCTION = {globals()[name]: obj for name, obj in _BUILTINS.items() if name in globals()}
_BY_FUNCTION.update({np.tanh: _BUILTINS["tanh"], np.exp: _BUILTINS["exponential"],
                     ops.sigmoid: _BUILTINS["sigmoid"], ops.softmax: _BUILTINS["softmax"]})


def _wrap(obj, identifier):
    if isinstance(obj, ActivationFunction):
        return obj
    if obj in _BY_FUNCTION:
        return _BY_FUNCTION[obj]
    if isinstance(obj, type):
        obj = obj()
    if callable(obj):
        grad = getattr(obj, "backward", None)
        if grad is not None and not callable(grad):
            grad = None
        name = (getattr(obj, "__name__", None) or getattr(obj, "name", None)
                or type(obj).__name__)
        return ActivationFunction(obj, grad, name=name)
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def _unwrap_dict(identifier):
    # Keras 3 writes functions as {"class_name": "function", "config": "relu", ...}.
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        return identifier.get("config")
    return identifier


def get(identifier, custom_objects=None):
    """str name, None (-> linear), dict, ActivationFunction or callable -> ActivationFunction."""
    if identifier is None:
        return _BUILTINS["linear"]
    if isinstance(identifier, ActivationFunction):
        return identifier
    identifier = _unwrap_dict(identifier)
    obj = registry.resolve(identifier, _BUILTINS, "activation", custom_objects)
    return _wrap(obj, identifier)


def serialize(activation):
    """The Keras string name (what Keras writes in layer configs)."""
    if activation is None:
        return "linear"
    return get(activation).name


def deserialize(config, custom_objects=None):
    return get(config, custom_objects=custom_objects)
