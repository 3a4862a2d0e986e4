"""Losses with explicit gradients (Keras 3 names, defaults, shapes and reduction).

Every built-in loss object offers

* ``call(y_true, y_pred)`` -> Keras's per-element values (shape ``y_pred.shape[:-1]``),
* ``__call__(y_true, y_pred, sample_weight=None)`` -> the reduced value, as Keras
  (default ``"sum_over_batch_size"``: ``sum(w_i * l_i) / N``),
* ``per_sample(y_true, y_pred)`` -> ``(N,)`` losses (values averaged over any
  axes between the batch and the last one),
* ``forward_backward(y_true, y_pred, sample_scale)`` -> ``(losses (N,), grad)``
  with ``grad = sample_scale[i] * d losses_i / d y_pred`` (what the trainer calls
  each step, ``sample_scale = sample_weight / N``),
* ``fused_activation`` ('softmax' / 'sigmoid' / None) and, for the
  cross-entropies, ``logits_forward_backward(y_true, logits, sample_scale)`` ->
  ``(losses, dlogits, probabilities)`` through the fused ``ops`` kernels.

With ``ignore_class`` (SparseCategoricalCrossentropy), Keras divides by the
number of valid entries instead of N; the per-sample losses returned here
already carry that factor (``total / valid``), so ``sum(w_i * l_i) / N`` over
them is still Keras's value.
"""
from ckeras.config import epsilon  # backend.set_epsilon reaches every use
import math
import warnings

import numpy as np

from ckeras import ops
from ckeras.ops import tape as _tape
from ckeras.ops.array_ops import _record
from ckeras import registry
from ckeras.registry import to_snake_case as _snake

_LOG2 = math.log(2.0)

__all__ = [
    "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "BinaryCrossentropy",
    "BinaryFocalCrossentropy", "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy", "Hinge", "SquaredHinge", "CategoricalHinge", "Huber",
    "KLDivergence", "LogCosh", "Poisson", "CosineSimilarity",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_crossentropy", "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy", "hinge", "squared_hinge", "categorical_hinge",
    "huber", "kl_divergence", "log_cosh", "poisson", "cosine_similarity",
    "mse", "mae", "mape", "msle", "kld", "MSE", "MAE", "MAPE", "MSLE", "KLD", "logcosh",
    "get", "serialize", "deserialize",
]

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def standardize_reduction(reduction):
    if reduction == "auto":  # tf.keras 2 configs; it meant sum_over_batch_size
        return "sum_over_batch_size"
    if reduction not in _REDUCTIONS:
        raise ValueError("Invalid value for argument `reduction`. Expected one of "
                         f"{_REDUCTIONS}. Received: reduction={reduction!r}")
    return reduction


def _as_float(x, dtype=None):
    a = np.asarray(x)
    if dtype is not None:
        return a.astype(dtype, copy=False)
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    return a


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's rule: fix a rank difference of 1 when the odd one out ends in 1."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _per_sample_broadcast(sw, values):
    # per-sample weights on (N, T, ...) values apply to every time step
    if sw.ndim < values.ndim and sw.shape == values.shape[:sw.ndim]:
        sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
    return sw


def _reduce_weighted(values, sample_weight, mask, reduction):
    """Keras's reduce_weighted_values (apply_mask + weights + reduction)."""
    values = np.asarray(values)
    dtype = values.dtype
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype)
    if mask is not None:
        m = mask.astype(dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            valid = m.sum()
            m = m * (m.size / valid) if valid else m * 0.0
        if sw is not None:
            m, sw = squeeze_or_expand_to_same_rank(m, sw)
            sw = _per_sample_broadcast(sw, m) * m
        else:
            sw = m
    if sw is not None:
        values, sw = squeeze_or_expand_to_same_rank(values, sw)
        values = values * _per_sample_broadcast(sw, values)
    if reduction is None or reduction == "none" or values.ndim == 0 or values.shape == (0,):
        return float(values) if values.ndim == 0 else values
    total = float(values.sum(dtype=np.float64))
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sw is not None:
        divisor = float(np.asarray(sw, np.float64).sum())
    else:
        divisor = float(values.size)
    return total / divisor if divisor else 0.0


def _mask_factor(mask):
    valid = int(mask.sum())
    return mask.size / valid if valid else 0.0


def _to_samples(values, mask=None):
    """Keras values (N, ...) -> (N,) per-sample losses (masked like Keras)."""
    if mask is not None:
        values = values * (mask * _mask_factor(mask)).astype(values.dtype)
    if values.ndim == 1:
        return values
    return values.reshape(values.shape[0], -1).mean(axis=1)


def _coef(vshape, dtype, sample_scale, mask=None):
    """Per-value gradient coefficient: sample_scale_i / (values per sample), masked."""
    n = vshape[0]
    per = math.prod(vshape[1:])
    if sample_scale is None:
        scale = np.ones(n, dtype)
    else:
        scale = np.asarray(sample_scale, dtype).reshape(-1)
        if scale.shape[0] != n:
            raise ValueError(f"sample_scale has {scale.shape[0]} entries but the batch has "
                             f"{n} samples.")
    coef = scale.reshape((n,) + (1,) * (len(vshape) - 1))
    if per != 1:
        coef = coef * (1.0 / per)
    if mask is not None:
        coef = coef * (mask * _mask_factor(mask)).astype(dtype)
    return coef


def _shape_error(name, y_true, y_pred, hint=""):
    return ValueError(f"{name}: y_true and y_pred have incompatible shapes "
                      f"y_true.shape={np.shape(y_true)} and y_pred.shape={np.shape(y_pred)}."
                      + (" " + hint if hint else ""))


# ---- losses on the tape -------------------------------------------------------------

def _on_tape(x):
    tape = _tape.current()
    return tape is not None and _tape.requires_grad(x, tape)


def _value(x):
    return x.value if type(x) is _tape.Tensor or hasattr(x, "grad_for_overwrite") else x


def autodiff_forward_backward(values_fn, name, y_true, y_pred, sample_scale):
    """``forward_backward`` of a loss written with ``ckeras.ops``: run
    ``values_fn(y_true, y_pred)`` on a tape, average each sample's values, and
    differentiate ``sum(sample_scale * losses)`` with respect to ``y_pred``."""
    p = _as_float(_value(y_pred))
    t = np.asarray(_value(y_true))
    n = p.shape[0] if p.ndim else 1
    tape = _tape.Tape()
    with tape:
        pt = _tape.Tensor(p, tape)
        values = values_fn(t, pt)
        nd = np.ndim(_value(values))
        if nd == 0:       # the function already reduced: every sample carries it
            per = ops.multiply(values, np.ones(n, p.dtype))
        elif nd > 1:
            per = ops.mean(values, axis=tuple(range(1, nd)))
        else:
            per = values
        if np.shape(_value(per)) != (n,):
            raise ValueError(f"Loss {name!r} returned values of shape "
                             f"{np.shape(_value(values))} for a batch of {n}; expected one "
                             "value per sample (or per sample and step, or a scalar).")
        scale = np.ones(n, p.dtype) if sample_scale is None else \
            np.broadcast_to(np.asarray(sample_scale, p.dtype), (n,))
        total = ops.sum(ops.multiply(per, scale))
    if type(total) is not _tape.Tensor or total._tape is not tape.token:
        raise TypeError(f"Loss {name!r}: its value does not depend on y_pred through "
                        "ckeras.ops, so it has no gradient. Write it with ckeras.ops "
                        "(ops.mean, ops.square, ...) rather than numpy functions.")
    grad = tape.backward([(total, np.ones((), p.dtype))]).get(id(pt))
    grad = np.zeros_like(p) if grad is None else np.asarray(grad, p.dtype).reshape(p.shape)
    return np.asarray(_value(per)), grad


def _reduced_on_tape(loss, y_true, y_pred, sample_weight):
    """``loss(y_true, y_pred, sample_weight)`` as a tape Tensor: its value by
    the loss's reduction, its gradient from ``forward_backward``."""
    t, p = np.asarray(_value(y_true)), _value(y_pred)
    n = len(p)
    sw = None if sample_weight is None else np.asarray(_value(sample_weight), np.float64)
    if sw is not None and sw.ndim > 1:
        raise NotImplementedError(f"Loss {loss.name!r} on the tape: sample_weight must be "
                                  f"one value per sample, got shape {sw.shape}.")
    ones = np.ones(n)
    red = loss.reduction
    if red is None or red == "none":
        per, _ = loss.forward_backward(t, p, ones.astype(p.dtype))
        return _record(_tape.current(), per, (y_pred,), (True,),
                       lambda g: (loss.forward_backward(t, p, np.asarray(g, p.dtype))[1],))
    weights = ones if sw is None else sw
    if red in ("sum_over_batch_size", "mean"):
        scale = weights / n
    elif red == "sum":
        scale = weights
    else:  # mean_with_sample_weight
        scale = weights / weights.sum() if weights.sum() else weights * 0
    per, d = loss.forward_backward(t, p, scale.astype(p.dtype))
    value = np.asarray(np.dot(np.asarray(per, np.float64), scale), p.dtype)
    return _record(_tape.current(), value, (y_pred,), (True,), lambda g: (g * d,))




class Loss:
    """Base class (Keras API). Subclasses implement ``call(y_true, y_pred)``.

    For training, ckeras also needs ``forward_backward``; the built-in losses
    implement it, a custom subclass must too.
    """

    fused_activation = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def _values_and_mask(self, y_true, y_pred):
        return np.asarray(self.call(np.asarray(y_true), _as_float(y_pred))), None

    def __call__(self, y_true, y_pred, sample_weight=None):
        if _on_tape(y_pred):   # inside a GradientTape / train_step: differentiable
            return _reduced_on_tape(self, y_true, y_pred, sample_weight)
        values, mask = self._values_and_mask(y_true, y_pred)
        return _reduce_weighted(values, sample_weight, mask, self.reduction)

    def per_sample(self, y_true, y_pred):
        values, mask = self._values_and_mask(y_true, y_pred)
        values = np.atleast_1d(values)
        return _to_samples(values, mask)

    def forward_backward(self, y_true, y_pred, sample_scale):
        """A subclass's ``call`` written with ckeras.ops: gradient from the tape."""
        return autodiff_forward_backward(self.call, self.name, y_true, y_pred, sample_scale)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        config = {k: v for k, v in config.items() if k != "fn"}
        return cls(**registry.known_kwargs(cls, config, "Loss"))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """Wraps a plain ``fn(y_true, y_pred, **kwargs)`` written with ckeras.ops
    (its gradient comes from the tape), or with a ``forward_backward``
    attribute of the Loss signature (used instead)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true = np.asarray(_value(y_true))
        y_pred = y_pred if type(y_pred) is _tape.Tensor else _as_float(y_pred)
        if y_true.dtype.kind in "iub" and np.result_type(_value(y_pred)).kind == "f":
            y_true = y_true.astype(np.result_type(_value(y_pred)))   # Keras casts y_true
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def forward_backward(self, y_true, y_pred, sample_scale):
        fb = getattr(self.fn, "forward_backward", None)
        if callable(fb):
            return fb(y_true, y_pred, sample_scale)
        return autodiff_forward_backward(self.call, self.name, y_true, y_pred, sample_scale)

    def get_config(self):
        config = super().get_config()
        config["fn"] = getattr(self.fn, "__name__", repr(self.fn))
        config.update(self._fn_kwargs)
        return config


class _BuiltinLoss(Loss):
    """Shared plumbing: subclasses implement ``_compute(t, p, need_grad)``.

    ``_compute`` gets prepared arrays (float, Keras shape rules applied) and
    returns ``(values, G, mask, k)``: values of shape ``p.shape[:-1]``, ``G`` with
    ``G / k = d values / d p`` (``k`` lets mean-over-last-axis losses fold their
    1/K into the per-row coefficient), and an optional validity mask.
    """

    def _prepare(self, y_true, y_pred, per_sample):
        y_pred_arr = np.asarray(y_pred)
        p = _as_float(y_pred_arr)
        t = _as_float(y_true, p.dtype)
        t, p = squeeze_or_expand_to_same_rank(t, p)
        if per_sample and p.ndim == 1:
            p = p[:, None]
            if t.ndim == 1:
                t = t[:, None]
        if p.ndim == 0:
            raise ValueError(f"{self.name}: y_pred must have a batch dimension, got a scalar.")
        if t.shape != p.shape:
            raise _shape_error(self.name, y_true, y_pred)
        return t, p, y_pred_arr.shape

    def _values_and_mask(self, y_true, y_pred):
        t, p, _ = self._prepare(y_true, y_pred, per_sample=False)
        values, _, mask, _ = self._compute(t, p, False)
        return values, mask

    def call(self, y_true, y_pred):
        if _on_tape(y_pred):
            return self._call_on_tape(y_true, y_pred)
        values, mask = self._values_and_mask(y_true, y_pred)
        if mask is not None:
            values = np.where(mask, values, 0.0).astype(values.dtype, copy=False)
        return values

    def _call_on_tape(self, y_true, y_pred):
        """The per-element values as a tape Tensor; the vector-Jacobian
        product from ``_compute``'s ``G / k = d values / d p``."""
        t, p, shape = self._prepare(np.asarray(_value(y_true)), _value(y_pred), per_sample=False)
        values, g, mask, k = self._compute(t, p, True)
        if mask is not None:
            values = np.where(mask, values, 0.0).astype(values.dtype, copy=False)
        axis = getattr(self, "_feature_axis", None)
        moved = axis is not None and axis(p.ndim) != p.ndim - 1

        def vjp(dv):
            d = np.asarray(dv, g.dtype)
            if mask is not None:
                d = d * mask
            d = d[..., None] * g
            if k != 1:
                d = d * (1.0 / k)
            if moved:
                d = np.moveaxis(d, -1, axis(p.ndim))
            return (d.reshape(shape),)
        return _record(_tape.current(), values, (y_pred,), (True,), vjp)

    def per_sample(self, y_true, y_pred):
        t, p, _ = self._prepare(y_true, y_pred, per_sample=True)
        values, _, mask, _ = self._compute(t, p, False)
        return _to_samples(values, mask)

    def forward_backward(self, y_true, y_pred, sample_scale):
        t, p, shape = self._prepare(y_true, y_pred, per_sample=True)
        values, g, mask, k = self._compute(t, p, True)
        coef = _coef(values.shape, p.dtype, sample_scale, mask)
        if k != 1:
            coef = coef * (1.0 / k)
        g *= coef[..., None]
        return _to_samples(values, mask), g.reshape(shape)


# ---- regression ---------------------------------------------------------------

class MeanSquaredError(_BuiltinLoss):
    """mean((y_true - y_pred)**2, axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        d = p - t
        values = np.einsum("...k,...k->...", d, d) / d.shape[-1]
        if need_grad:
            d *= 2.0
        return values, d, None, p.shape[-1]


class MeanAbsoluteError(_BuiltinLoss):
    """mean(|y_true - y_pred|, axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        d = p - t
        values = np.abs(d).mean(axis=-1)
        return values, (np.sign(d, out=d) if need_grad else None), None, p.shape[-1]


class MeanAbsolutePercentageError(_BuiltinLoss):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        denom = np.maximum(np.abs(t), epsilon())
        r = (p - t) / denom
        values = 100.0 * np.abs(r).mean(axis=-1)
        g = None
        if need_grad:
            g = np.sign(r)
            g *= 100.0
            g /= denom
        return values, g, None, p.shape[-1]


class MeanSquaredLogarithmicError(_BuiltinLoss):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        pp1 = np.maximum(p, epsilon()) + 1.0
        d = np.log(pp1) - np.log(np.maximum(t, epsilon()) + 1.0)
        values = (d * d).mean(axis=-1)
        g = None
        if need_grad:
            g = d * 2.0
            g /= pp1
            g *= p > epsilon()
        return values, g, None, p.shape[-1]


class Huber(_BuiltinLoss):
    """mean(0.5 e**2 if |e| <= delta else delta |e| - 0.5 delta**2), e = y_pred - y_true"""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.delta = delta

    def _compute(self, t, p, need_grad):
        delta = float(self.delta)
        e = p - t
        a = np.abs(e)
        quad = a <= delta
        elem = np.where(quad, 0.5 * e * e, delta * a - 0.5 * delta * delta)
        values = elem.astype(p.dtype, copy=False).mean(axis=-1)
        g = None
        if need_grad:
            g = np.where(quad, e, delta * np.sign(e)).astype(p.dtype, copy=False)
        return values, g, None, p.shape[-1]

    def get_config(self):
        config = super().get_config()
        config["delta"] = self.delta
        return config


class LogCosh(_BuiltinLoss):
    """mean(log(cosh(y_pred - y_true)), axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        e = p - t
        # log cosh e = e + softplus(-2e) - log 2, stable for large |e|
        elem = e + np.logaddexp(-2.0 * e, 0.0) - _LOG2
        values = elem.astype(p.dtype, copy=False).mean(axis=-1)
        return values, (np.tanh(e, out=e) if need_grad else None), None, p.shape[-1]


class Poisson(_BuiltinLoss):
    """mean(y_pred - y_true * log(y_pred + eps), axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        pe = p + epsilon()
        values = (p - t * np.log(pe)).mean(axis=-1)
        g = None
        if need_grad:
            g = t / pe
            np.subtract(1.0, g, out=g)
        return values, g, None, p.shape[-1]


class CosineSimilarity(_BuiltinLoss):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)"""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = axis

    def _feature_axis(self, ndim):
        axis = self.axis % ndim
        if axis == 0 and ndim > 1:
            raise ValueError(f"{self.name}: axis={self.axis} is the batch axis.")
        return axis

    def _prepare(self, y_true, y_pred, per_sample):
        t, p, shape = super()._prepare(y_true, y_pred, per_sample)
        axis = self._feature_axis(p.ndim)
        if axis != p.ndim - 1:
            t, p = np.moveaxis(t, axis, -1), np.moveaxis(p, axis, -1)
        return t, p, shape

    def forward_backward(self, y_true, y_pred, sample_scale):
        t, p, shape = self._prepare(y_true, y_pred, per_sample=True)
        values, g, _, _ = self._compute(t, p, True)
        g *= _coef(values.shape, p.dtype, sample_scale)[..., None]
        axis = self._feature_axis(p.ndim)
        if axis != p.ndim - 1:
            g = np.moveaxis(g, -1, axis)
        return _to_samples(values), g.reshape(shape)

    @staticmethod
    def _normalize(x):
        norm = np.sqrt(np.einsum("...k,...k->...", x, x))[..., None]
        denom = np.maximum(norm, epsilon())
        return x / denom, norm, denom

    def _compute(self, t, p, need_grad):
        tn, _, _ = self._normalize(t)
        pn, pnorm, pdenom = self._normalize(p)
        values = -np.einsum("...k,...k->...", tn, pn)
        g = None
        if need_grad:
            # d/dp of -tn.pn: (-tn - (-tn.pn) pn) / |p| above eps, -tn / eps below.
            radial = values[..., None]  # = -tn.pn
            g = np.where(pnorm > epsilon(), (-tn - radial * pn) / pdenom, -tn / epsilon())
            g = g.astype(p.dtype, copy=False)
        return values, g, None, 1

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


# ---- hinge ------------------------------------------------------------------------

def _hinge_labels(t):
    """Keras converts {0, 1} labels to {-1, 1} when every label is 0 or 1."""
    if np.all((t == 0) | (t == 1)):
        return 2.0 * t - 1.0
    return t


class Hinge(_BuiltinLoss):
    """mean(max(1 - y_true * y_pred, 0), axis=-1); {0,1} labels become {-1,1}."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        tt = _hinge_labels(t)
        m = 1.0 - tt * p
        values = np.maximum(m, 0.0).mean(axis=-1)
        g = None
        if need_grad:
            g = -tt * (m > 0)
        return values, g, None, p.shape[-1]


class SquaredHinge(_BuiltinLoss):
    """mean(max(1 - y_true * y_pred, 0)**2, axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        tt = _hinge_labels(t)
        h = np.maximum(1.0 - tt * p, 0.0)
        values = (h * h).mean(axis=-1)
        g = None
        if need_grad:
            g = h * tt
            g *= -2.0
        return values, g, None, p.shape[-1]


class CategoricalHinge(_BuiltinLoss):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)"""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        pos = np.einsum("...k,...k->...", t, p)
        z = (1.0 - t) * p
        idx = z.argmax(axis=-1)[..., None]
        neg = np.take_along_axis(z, idx, axis=-1)[..., 0]
        values = np.maximum(neg - pos + 1.0, 0.0)
        g = None
        if need_grad:
            g = -t
            np.put_along_axis(g, idx, np.take_along_axis(g, idx, -1)
                              + 1.0 - np.take_along_axis(t, idx, -1), axis=-1)
            g *= (values > 0)[..., None]
        return values, g, None, 1


# ---- probabilistic -----------------------------------------------------------------

class KLDivergence(_BuiltinLoss):
    """sum(y_true * log(y_true / y_pred), axis=-1), both clipped to [eps, 1]."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        tc = np.clip(t, epsilon(), 1.0)
        pc = np.clip(p, epsilon(), 1.0)
        values = (tc * np.log(tc / pc)).sum(axis=-1)
        g = None
        if need_grad:
            g = tc / pc
            g *= -1.0
            g *= (p >= epsilon()) & (p <= 1.0)
        return values, g, None, 1


class _CrossentropyBase(_BuiltinLoss):
    """Fused-kernel plumbing shared by the three cross-entropies."""

    _fused_name = None

    @property
    def fused_activation(self):
        return None if self.from_logits else self._fused_name

    def forward_backward(self, y_true, y_pred, sample_scale):
        if self.from_logits:
            losses, grad, _ = self._fused(y_true, y_pred, sample_scale, want_probs=False)
            return losses, grad
        return super().forward_backward(y_true, y_pred, sample_scale)

    def logits_forward_backward(self, y_true, logits, sample_scale):
        """Loss on ``activation(logits)`` computed from the logits (no clipping).

        Returns (losses (N,), dlogits, y_pred probabilities for the metrics).
        """
        return self._fused(y_true, logits, sample_scale, want_probs=True)

    def get_config(self):
        config = super().get_config()
        config["from_logits"] = self.from_logits
        return config


class BinaryCrossentropy(_CrossentropyBase):
    """mean(-(t log p + (1 - t) log(1 - p)), axis=-1); p clipped to [eps, 1 - eps]."""

    _fused_name = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if axis not in (-1,):
            raise ValueError(f"{type(self).__name__}: only axis=-1 is supported, got {axis}.")
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def _smooth(self, t):
        if self.label_smoothing:
            ls = float(self.label_smoothing)
            return t * (1.0 - ls) + 0.5 * ls
        return t

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        k = p.shape[-1]
        if self.from_logits:
            losses, g, _ = ops.sigmoid_binary_cross_entropy(
                np.ascontiguousarray(p).reshape(-1, k), t.reshape(-1, k))
            # the kernel's grad is already divided by k
            return losses.reshape(p.shape[:-1]), g.reshape(p.shape), None, 1
        pc = np.clip(p, epsilon(), 1.0 - epsilon())
        one_m = 1.0 - pc
        elem = t * np.log(pc)
        elem += (1.0 - t) * np.log(one_m)
        values = elem.mean(axis=-1)
        values *= -1.0
        g = None
        if need_grad:
            g = (1.0 - t) / one_m
            g -= t / pc
            g *= (p >= epsilon()) & (p <= 1.0 - epsilon())
        return values, g, None, k

    def _fused(self, y_true, logits, sample_scale, want_probs):
        t, z, shape = self._prepare(y_true, logits, per_sample=True)
        t = self._smooth(t)
        k = z.shape[-1]
        vshape = z.shape[:-1]
        coef = _coef(vshape, z.dtype, sample_scale)
        rows = coef.reshape(-1) if len(vshape) == 1 else np.broadcast_to(coef, vshape).reshape(-1)
        losses, g, probs = ops.sigmoid_binary_cross_entropy(
            np.ascontiguousarray(z).reshape(-1, k), t.reshape(-1, k), rows)
        per = _to_samples(losses.reshape(vshape))
        return per, g.reshape(shape), probs.reshape(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing, "axis": self.axis})
        return config


class _UnfusedCrossentropy:
    """For focal losses built on a cross-entropy: they change the loss, so the
    parent's fused softmax/sigmoid path must not be used."""

    @property
    def fused_activation(self):
        return None

    def forward_backward(self, y_true, y_pred, sample_scale):
        return _BuiltinLoss.forward_backward(self, y_true, y_pred, sample_scale)

    def logits_forward_backward(self, y_true, logits, sample_scale):
        raise NotImplementedError(f"{self.name} has no fused-logits path.")


class BinaryFocalCrossentropy(_UnfusedCrossentropy, BinaryCrossentropy):
    """Focal BCE: mean(w * (1 - p_t)**gamma * bce), p_t = t p + (1 - t)(1 - p)."""

    _fused_name = None  # no fused kernel: always computed from probabilities

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        gamma, alpha = float(self.gamma), float(self.alpha)
        prob = ops.sigmoid(p) if self.from_logits else p
        pc = np.clip(prob, epsilon(), 1.0 - epsilon())
        bce = -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))
        one_m_pt = 1.0 - (t * prob + (1.0 - t) * (1.0 - prob))  # 1 - p_t
        focal = one_m_pt ** gamma
        w = (t * alpha + (1.0 - t) * (1.0 - alpha)) if self.apply_class_balancing else 1.0
        values = (w * focal * bce).mean(axis=-1).astype(p.dtype, copy=False)
        g = None
        if need_grad:
            inside = (prob >= epsilon()) & (prob <= 1.0 - epsilon())
            dbce = ((1.0 - t) / (1.0 - pc) - t / pc) * inside
            # d(1 - p_t)/dprob = 1 - 2t
            if gamma == 0.0:
                dfocal = 0.0
            else:
                dfocal = gamma * np.where(one_m_pt > 0, one_m_pt, 1.0) ** (gamma - 1.0) \
                    * (one_m_pt > 0) * (1.0 - 2.0 * t)
            g = w * (dfocal * bce + focal * dbce)
            if self.from_logits:
                g = g * (prob * (1.0 - prob))
            g = np.asarray(g, p.dtype)
        return values, g, None, p.shape[-1]

    def get_config(self):
        config = super().get_config()
        config.update({"apply_class_balancing": self.apply_class_balancing,
                       "alpha": self.alpha, "gamma": self.gamma})
        return config


def _check_categorical_targets(name, y_true, y_pred, t, p):
    if p.shape[-1] > 1 and t.ndim >= 1 and (t.ndim < p.ndim or t.shape[-1] == 1) \
            and t.shape[:1] == p.shape[:1]:
        raise ValueError(
            f"{name}: y_true has shape {np.shape(y_true)} (class indices?) but y_pred has "
            f"shape {np.shape(y_pred)} with {p.shape[-1]} classes. categorical_crossentropy "
            "expects one-hot targets of the same shape as y_pred: use "
            "loss='sparse_categorical_crossentropy' for integer labels, or one-hot encode "
            "them with ckeras.utils.to_categorical(y, num_classes).")
    if t.shape != p.shape:
        raise _shape_error(name, y_true, y_pred)


class CategoricalCrossentropy(_CrossentropyBase):
    """-sum(y_true * log(y_pred / sum(y_pred)), axis=-1), clipped to [eps, 1 - eps]."""

    _fused_name = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(axis, bool) or axis not in (-1,):
            raise ValueError(f"{type(self).__name__}: only axis=-1 is supported, got {axis}.")
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def _prepare(self, y_true, y_pred, per_sample):
        y_pred_arr = np.asarray(y_pred)
        p = _as_float(y_pred_arr)
        t = _as_float(y_true, p.dtype)
        t, p = squeeze_or_expand_to_same_rank(t, p)
        if p.ndim == 0:
            raise ValueError(f"{self.name}: y_pred must have a batch dimension.")
        _check_categorical_targets(self.name, y_true, y_pred, t, p)
        if p.ndim == 1:
            if per_sample:
                t, p = t[:, None], p[:, None]
        if p.shape[-1] == 1:
            warnings.warn(f"In loss {self.name}, expected y_pred.shape to be (batch_size, "
                          f"num_classes) with num_classes > 1. Received: y_pred.shape="
                          f"{y_pred_arr.shape}. Consider using 'binary_crossentropy' if you "
                          "only have 2 classes.", SyntaxWarning, stacklevel=3)
        return t, p, y_pred_arr.shape

    def _smooth(self, t):
        if self.label_smoothing:
            ls = float(self.label_smoothing)
            return t * (1.0 - ls) + ls / t.shape[-1]
        return t

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        if self.from_logits:
            c = p.shape[-1]
            losses, g, _ = ops.softmax_cross_entropy(
                np.ascontiguousarray(p).reshape(-1, c), t.reshape(-1, c))
            return losses.reshape(p.shape[:-1]), g.reshape(p.shape), None, 1
        s = p.sum(axis=-1, keepdims=True)
        q = p / s
        qc = np.clip(q, epsilon(), 1.0 - epsilon())
        values = -np.einsum("...k,...k->...", t, np.log(qc))
        g = None
        if need_grad:
            gq = t / qc
            gq *= -1.0
            gq *= (q >= epsilon()) & (q <= 1.0 - epsilon())
            # through the normalisation q = p / sum(p)
            g = gq - np.einsum("...k,...k->...", gq, q)[..., None]
            g /= s
        return values, g, None, 1

    def _fused(self, y_true, logits, sample_scale, want_probs):
        t, z, shape = self._prepare(y_true, logits, per_sample=True)
        t = self._smooth(t)
        c = z.shape[-1]
        vshape = z.shape[:-1]
        coef = _coef(vshape, z.dtype, sample_scale)
        rows = coef.reshape(-1) if len(vshape) == 1 else np.broadcast_to(coef, vshape).reshape(-1)
        losses, g, probs = ops.softmax_cross_entropy(
            np.ascontiguousarray(z).reshape(-1, c), t.reshape(-1, c), rows, want_probs)
        per = _to_samples(losses.reshape(vshape))
        return per, g.reshape(shape), (probs.reshape(shape) if want_probs else None)

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing, "axis": self.axis})
        return config


class CategoricalFocalCrossentropy(_UnfusedCrossentropy, CategoricalCrossentropy):
    """sum(alpha * (1 - q)**gamma * -y_true log q), q = clip(y_pred / sum(y_pred))."""

    _fused_name = None

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        self.alpha = alpha
        self.gamma = gamma

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        gamma = float(self.gamma)
        alpha = np.asarray(self.alpha, p.dtype)
        prob = ops.softmax(p) if self.from_logits else p
        s = prob.sum(axis=-1, keepdims=True)
        q = prob / s
        qc = np.clip(q, epsilon(), 1.0 - epsilon())
        logq = np.log(qc)
        mod = (1.0 - qc) ** gamma
        values = -(alpha * mod * t * logq).sum(axis=-1).astype(p.dtype, copy=False)
        g = None
        if need_grad:
            dmod = gamma * (1.0 - qc) ** (gamma - 1.0) if gamma != 0.0 else 0.0
            # d/dqc of -alpha * mod * t * log qc
            gq = alpha * (dmod * t * logq - mod * t / qc)
            gq = gq * ((q >= epsilon()) & (q <= 1.0 - epsilon()))
            gp = (gq - (gq * q).sum(axis=-1, keepdims=True)) / s
            if self.from_logits:
                gp = prob * (gp - (gp * prob).sum(axis=-1, keepdims=True))
            g = np.asarray(gp, p.dtype)
        return values, g, None, 1

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "gamma": self.gamma})
        return config


class SparseCategoricalCrossentropy(_CrossentropyBase):
    """-log(y_pred[label]) for integer labels of shape (N,) or (N, 1)."""

    _fused_name = "softmax"

    def __init__(self, from_logits=False, ignore_class=None,
                 reduction="sum_over_batch_size", name="sparse_categorical_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def _prepare(self, y_true, y_pred, per_sample):
        y_pred_arr = np.asarray(y_pred)
        p = _as_float(y_pred_arr)
        labels = np.asarray(y_true)
        if p.ndim < 2:
            raise ValueError(f"{self.name}: y_pred must have shape (batch_size, num_classes), "
                             f"got y_pred.shape={p.shape}.")
        if labels.ndim == p.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        if labels.shape != p.shape[:-1]:
            hint = ""
            if labels.shape == p.shape:
                hint = ("y_true looks one-hot encoded: use loss='categorical_crossentropy' "
                        "for one-hot targets.")
            raise _shape_error(self.name, y_true, y_pred,
                               hint or "Expected integer labels of shape y_pred.shape[:-1] "
                                       "(or with a trailing 1).")
        if labels.dtype.kind == "f":
            if not np.all(np.isfinite(labels)) or np.any(labels != np.floor(labels)):
                bad = labels[~np.isfinite(labels) | (labels != np.floor(labels))].reshape(-1)[0]
                raise ValueError(f"{self.name}: labels must be integer class ids, got {bad!r}.")
        elif labels.dtype.kind not in "iub":
            raise ValueError(f"{self.name}: labels must be integer class ids, got dtype "
                             f"{labels.dtype}.")
        labels = labels.astype(np.int64, copy=False)
        mask = None
        if self.ignore_class is not None:
            mask = labels != int(self.ignore_class)
            labels = np.where(mask, labels, 0)
        c = p.shape[-1]
        bad = (labels < 0) | (labels >= c)
        if bad.any():
            raise ValueError(f"{self.name}: label {int(labels[bad].reshape(-1)[0])} is out of "
                             f"range for y_pred with {c} classes (valid labels are 0 to "
                             f"{c - 1}).")
        return (labels, mask), p, y_pred_arr.shape

    def _compute(self, labels_mask, p, need_grad):
        labels, mask = labels_mask
        c = p.shape[-1]
        if self.from_logits:
            losses, g, _ = ops.softmax_cross_entropy(
                np.ascontiguousarray(p).reshape(-1, c), labels.reshape(-1))
            values = losses.reshape(p.shape[:-1])
            return values, g.reshape(p.shape), mask, 1
        # Keras (TF): log of the clipped probabilities, then softmax cross-entropy.
        qc = np.clip(p, epsilon(), 1.0 - epsilon())
        z = qc.sum(axis=-1)
        idx = labels[..., None]
        q_y = np.take_along_axis(qc, idx, axis=-1)[..., 0]
        values = np.log(z) - np.log(q_y)
        g = None
        if need_grad:
            inside = (p >= epsilon()) & (p <= 1.0 - epsilon())
            g = np.broadcast_to((1.0 / z)[..., None], p.shape).astype(p.dtype)
            g_y = np.take_along_axis(g, idx, -1) - (1.0 / q_y)[..., None]
            np.put_along_axis(g, idx, g_y, axis=-1)
            g *= inside
        return values, g, mask, 1

    def _fused(self, y_true, logits, sample_scale, want_probs):
        (labels, mask), z, shape = self._prepare(y_true, logits, per_sample=True)
        c = z.shape[-1]
        vshape = z.shape[:-1]
        coef = _coef(vshape, z.dtype, sample_scale, mask)
        rows = (coef.reshape(-1) if coef.shape == vshape
                else np.broadcast_to(coef, vshape).reshape(-1))
        losses, g, probs = ops.softmax_cross_entropy(
            np.ascontiguousarray(z).reshape(-1, c), labels.reshape(-1), rows, want_probs)
        per = _to_samples(losses.reshape(vshape), mask)
        return per, g.reshape(shape), (probs.reshape(shape) if want_probs else None)

    def get_config(self):
        config = super().get_config()
        config["ignore_class"] = self.ignore_class
        return config


class AutoCrossentropy(Loss):
    """'crossentropy' / 'ce': picks binary, sparse or categorical CE from the shapes
    of y_true and y_pred (Keras 3's rule), on first use or via ``resolve``."""

    def __init__(self, reduction="sum_over_batch_size", name="crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.resolved = None

    def resolve(self, y_true, y_pred):
        if self.resolved is None:
            t_shape, p_shape = np.shape(y_true), np.shape(y_pred)
            t_last = t_shape[-1] if t_shape else 1
            p_last = p_shape[-1] if p_shape else 1
            kw = {"reduction": self.reduction}
            if p_last == 1:
                self.resolved = BinaryCrossentropy(**kw)
            elif len(t_shape) < len(p_shape) or (t_last == 1 and p_last > 1):
                self.resolved = SparseCategoricalCrossentropy(**kw)
            else:
                self.resolved = CategoricalCrossentropy(**kw)
        return self.resolved

    @property
    def fused_activation(self):
        return None if self.resolved is None else self.resolved.fused_activation

    def call(self, y_true, y_pred):
        return self.resolve(y_true, y_pred).call(y_true, y_pred)

    def _values_and_mask(self, y_true, y_pred):
        return self.resolve(y_true, y_pred)._values_and_mask(y_true, y_pred)

    def per_sample(self, y_true, y_pred):
        return self.resolve(y_true, y_pred).per_sample(y_true, y_pred)

    def forward_backward(self, y_true, y_pred, sample_scale):
        return self.resolve(y_true, y_pred).forward_backward(y_true, y_pred, sample_scale)

    def logits_forward_backward(self, y_true, logits, sample_scale):
        return self.resolve(y_true, logits).logits_forward_backward(y_true, logits, sample_scale)


# ---- functional forms (Keras values: shape y_pred.shape[:-1]) -------------------

def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    return MeanAbsolutePercentageError().call(y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    return MeanSquaredLogarithmicError().call(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    return Huber(delta=delta).call(y_true, y_pred)


def log_cosh(y_true, y_pred):
    return LogCosh().call(y_true, y_pred)


def poisson(y_true, y_pred):
    return Poisson().call(y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    return CosineSimilarity(axis=axis).call(y_true, y_pred)


def hinge(y_true, y_pred):
    return Hinge().call(y_true, y_pred)


def squared_hinge(y_true, y_pred):
    return SquaredHinge().call(y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    return CategoricalHinge().call(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return KLDivergence().call(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                              axis=axis).call(y_true, y_pred)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryFocalCrossentropy(apply_class_balancing=apply_class_balancing, alpha=alpha,
                                   gamma=gamma, from_logits=from_logits,
                                   label_smoothing=label_smoothing, axis=axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                                   axis=axis).call(y_true, y_pred)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    return CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=from_logits,
                                        label_smoothing=label_smoothing,
                                        axis=axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    if axis not in (-1, np.ndim(y_pred) - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    return SparseCategoricalCrossentropy(from_logits=from_logits,
                                         ignore_class=ignore_class).call(y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh


# ---- registry ----------------------------------------------------------------------

_CLASSES = [MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, BinaryCrossentropy, BinaryFocalCrossentropy,
            CategoricalCrossentropy, CategoricalFocalCrossentropy,
            SparseCategoricalCrossentropy, Hinge, SquaredHinge, CategoricalHinge, Huber,
            KLDivergence, LogCosh, Poisson, CosineSimilarity]

_FUNCTIONS = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    hinge: Hinge, squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
    huber: Huber, kl_divergence: KLDivergence, log_cosh: LogCosh, poisson: Poisson,
    cosine_similarity: CosineSimilarity,
}

_BUILTINS = {cls.__name__: cls for cls in _CLASSES}
_BUILTINS.update({fn.__name__: cls for fn, cls in _FUNCTIONS.items()})
_BUILTINS.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "kld": KLDivergence, "KLD": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "logcosh": LogCosh, "huber_loss": Huber,
    "crossentropy": AutoCrossentropy, "ce": AutoCrossentropy,
    "AutoCrossentropy": AutoCrossentropy,
})

# Keras 3 losses ckeras does not implement: a clear error rather than "unknown".
_UNSUPPORTED = ("ctc", "CTC", "dice", "Dice", "tversky", "Tversky", "circle", "Circle",
                "iou", "IoU", "categorical_generalized_cross_entropy",
                "CategoricalGeneralizedCrossEntropy")


def get(identifier, custom_objects=None):
    """str / dict / Loss / Loss class / function -> a Loss object (None -> None)."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        identifier = identifier.get("config")  # Keras 3 form of a loss function
    name = identifier if isinstance(identifier, str) else (
        identifier.get("class_name") if isinstance(identifier, dict) else None)
    if name in _UNSUPPORTED and registry.lookup_custom(name, None, custom_objects) is None:
        raise ValueError(f"The Keras loss {name!r} is not implemented in ckeras.")
    obj = registry.resolve(identifier, _BUILTINS, "loss", custom_objects)
    if callable(obj) and not isinstance(obj, type) and obj in _FUNCTIONS:
        return _FUNCTIONS[obj]()
    if isinstance(obj, type):
        obj = obj()
    if isinstance(obj, Loss):
        return obj
    if callable(obj):
        return LossFunctionWrapper(obj)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss):
    """Keras 3 dict form (module "keras.losses")."""
    if loss is not None and not isinstance(loss, Loss):
        loss = get(loss)
    return registry.serialize(loss, "keras.losses")


def deserialize(config, custom_objects=None):
    return get(config, custom_objects=custom_objects)
