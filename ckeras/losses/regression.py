"""Regression losses: squared, absolute, percentage, logarithmic, Huber, log-cosh, cosine."""
import math

import numpy as np

from ckeras.config import epsilon  # backend.set_epsilon reaches every use
from ckeras.losses.base import _BuiltinLoss, _coef, _to_samples

_LOG2 = math.log(2.0)


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



class CosineSimilarity(_BuiltinLoss):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)"""

    averages_last_axis = False

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


def cosine_similarity(y_true, y_pred, axis=-1):
    return CosineSimilarity(axis=axis).call(y_true, y_pred)
