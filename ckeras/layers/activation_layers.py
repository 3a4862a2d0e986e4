"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU.

Each is an elementwise map (Softmax: a normalisation over ``axis``) with
its derivative beside it; Keras 3 arguments, defaults and configs
(ThresholdedReLU is tf.keras 2's, kept for old scripts and files).
"""
import numpy as np

from ckeras.layers.layer import Layer, as_float32
from ckeras.layers.weight_options import add_weight_with_options, config_values, set_weight_options

# Keras's Softmax: masked entries get this logit, then output 0.
_LARGE_NEGATIVE = -1e9


def _number(cls_name, arg, value, allow_none=False, minimum=0.0):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not value >= minimum:
        raise ValueError(f"{cls_name}: `{arg}` must be a number >= {minimum}"
                         f"{' or None' if allow_none else ''}, got {value!r}.")
    return float(value)


class _Elementwise(Layer):
    """y = f(x) elementwise; subclasses give ``_f(x)`` and ``_df(x)`` (dy/dx)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        y = self._f(x)

        def backward(dy, need_dx=True):
            return dy * self._df(x) if need_dx else None
        return y, backward


class ReLU(_Elementwise):
    """y = min(x, max_value) for x >= threshold, else negative_slope * (x - threshold)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _number("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _number("ReLU", "negative_slope", negative_slope)
        self.threshold = _number("ReLU", "threshold", threshold)

    def _f(self, x):
        t = self.threshold
        y = np.where(x >= t, x, self.negative_slope * (x - t)) if self.negative_slope \
            else np.where(x >= t, x, 0.0)
        if self.max_value is not None:
            y = np.minimum(y, self.max_value)
        return y.astype(x.dtype, copy=False)

    def _df(self, x):
        d = np.where(x >= self.threshold, 1.0, self.negative_slope)
        if self.max_value is not None:
            d = np.where(x >= self.max_value, 0.0, d)
        return d.astype(x.dtype, copy=False)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_Elementwise):
    """y = x for x >= 0, else negative_slope * x (tf.keras 2 called it ``alpha``)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)

    def _f(self, x):
        return np.where(x >= 0, x, self.negative_slope * x).astype(x.dtype, copy=False)

    def _df(self, x):
        return np.where(x >= 0, 1.0, self.negative_slope).astype(x.dtype, copy=False)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(_Elementwise):
    """y = x for x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def _f(self, x):
        neg = self.alpha * np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, neg).astype(x.dtype, copy=False)

    def _df(self, x):
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0))).astype(
            x.dtype, copy=False)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(_Elementwise):
    """y = x for x > theta, else 0 (tf.keras 2)."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = _number("ThresholdedReLU", "theta", theta)

    def _f(self, x):
        return np.where(x > self.theta, x, 0.0).astype(x.dtype, copy=False)

    def _df(self, x):
        return (x > self.theta).astype(x.dtype)

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


class PReLU(Layer):
    """y = x for x >= 0, else alpha * x with a learned ``alpha`` of shape
    input_shape[1:] (size 1 along ``shared_axes``)."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        set_weight_options(self, "alpha", alpha_initializer, alpha_regularizer, alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) or a < 1
                   for a in axes):
                raise ValueError(f"PReLU: `shared_axes` must be axes >= 1 (the batch axis "
                                 f"0 is always shared), got {shared_axes!r}.")
            self.shared_axes = [int(a) for a in axes]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or ():
            if a > len(shape):
                raise ValueError(f"Layer {self.name!r} (PReLU): shared axis {a} is out of "
                                 f"range for input shape {tuple(input_shape)}.")
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"Layer {self.name!r} (PReLU): the non-shared axes must have "
                             f"known sizes, got input shape {tuple(input_shape)}.")
        self.alpha = add_weight_with_options(self, "alpha", shape)
        self._shared = tuple(self.shared_axes or ())
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        alpha = self.alpha.value
        if x.ndim != alpha.ndim + 1 or any(
                a != 1 and a != d for a, d in zip(alpha.shape, x.shape[1:])):
            raise ValueError(f"Input 0 of layer {self.name!r} (PReLU) is incompatible: "
                             f"alpha has shape {alpha.shape}, input {x.shape}.")
        neg = x < 0
        y = np.where(neg, alpha * x, x).astype(x.dtype, copy=False)

        def backward(dy, need_dx=True):
            if self.trainable:
                g = np.where(neg, dy * x, 0.0).sum(axis=0)
                self.alpha.grad += g.sum(axis=tuple(a - 1 for a in self._shared),
                                         keepdims=True).reshape(self.alpha.shape)
            return np.where(neg, dy * alpha, dy) if need_dx else None
        return y, backward

    def get_config(self):
        config = super().get_config()
        config.update(config_values(self, (
            "alpha_initializer", "alpha_regularizer", "alpha_constraint", "shared_axes")))
        return config


def masked_softmax(x, mask, axis):
    """Keras's Softmax(axis)(x, mask): masked entries take a large negative
    logit and output 0. ``axis`` is an int or a tuple of axes."""
    axes = tuple(a % x.ndim for a in (axis if isinstance(axis, (list, tuple)) else (axis,)))
    if mask is not None:
        x = np.where(mask, x, _LARGE_NEGATIVE)
    z = x - x.max(axis=axes, keepdims=True)
    e = np.exp(z)
    y = e / e.sum(axis=axes, keepdims=True)
    if mask is not None:
        y = np.where(mask, y, 0.0)
    return y.astype(x.dtype, copy=False), axes


class Softmax(Layer):
    """softmax over ``axis`` (an int or a list of axes), with an optional mask
    broadcastable to the input (True / > 0.5 keeps an entry)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = [int(a) for a in axis]
        elif isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Softmax: `axis` must be an int or a list of ints, got {axis!r}.")
        else:
            axis = int(axis)
        self.axis = axis
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _mask(self, x, mask):
        if mask is None:
            return None
        mask = np.asarray(mask)
        if mask.ndim > x.ndim or any(m != 1 and m != d for m, d in
                                     zip(mask.shape[::-1], x.shape[::-1])):
            raise ValueError(f"Layer {self.name!r} (Softmax): the mask must be "
                             f"broadcastable to the inputs; got mask shape {mask.shape} "
                             f"for inputs of shape {x.shape}.")
        return mask if mask.dtype == bool else mask > 0.5

    def forward(self, x, training=False, mask=None):
        x = as_float32(x)
        m = self._mask(x, mask)
        axes = tuple(a % x.ndim for a in
                     (self.axis if isinstance(self.axis, list) else [self.axis]))
        if m is None and axes == (x.ndim - 1,) and x.dtype == np.float32:
            from ckeras import ops
            y = ops.softmax(x)
        else:
            y, axes = masked_softmax(x, m, axes)

        def backward(dy, need_dx=True):
            if not need_dx:
                return None
            return y * (dy - (dy * y).sum(axis=axes, keepdims=True))
        return y, backward

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
