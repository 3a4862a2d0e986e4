"""Overlap losses for segmentation: Dice and Tversky (Keras 3 formulas).

Both reduce over ``axis`` (None: every axis, so one value for the whole batch,
as Keras). Tversky with alpha = beta = 0.5 is Dice up to where eps sits.
"""
import numpy as np

from ckeras.config import epsilon
from ckeras.losses.base import _shape_error, squeeze_or_expand_to_same_rank
from ckeras.losses.vjp_loss import VJPLoss, normalize_axis


class _OverlapLoss(VJPLoss):
    """values = 1 - I / D with I = sum(t p) and D a linear sum over ``axis``."""

    def _sums(self, t, p, axes):
        raise NotImplementedError   # -> (I, D, dD/dp) keeping the reduced axes

    def _forward(self, t, p):
        t, p = squeeze_or_expand_to_same_rank(t, p)
        if t.shape != p.shape:
            raise _shape_error(self.name, t, p)
        axes = normalize_axis(self.axis, p.ndim, self.name)
        inter, denom, d_denom = self._sums(t, p, axes)
        values = 1.0 - inter / denom
        return np.squeeze(values, axis=axes).astype(p.dtype, copy=False), None, \
            (t, inter, denom, d_denom, axes)

    def _vjp(self, ctx, cotangent):
        t, inter, denom, d_denom, axes = ctx
        c = np.expand_dims(cotangent, axes)
        # d(1 - I/D) = -(dI D - I dD) / D^2, dI/dp = t
        return -c * (t * denom - inter * d_denom) / (denom * denom)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dice(_OverlapLoss):
    """1 - 2 sum(t p) / (sum(t) + sum(p) + eps) over ``axis``."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = axis

    def _sums(self, t, p, axes):
        # 2 I / S written as I / (S / 2), so that dI/dp = t as in _OverlapLoss
        inter = np.sum(t * p, axis=axes, keepdims=True)
        half = 0.5 * (np.sum(t, axis=axes, keepdims=True) + np.sum(p, axis=axes, keepdims=True)
                      + epsilon())
        return inter, half, np.full(p.shape, 0.5, p.dtype)


class Tversky(_OverlapLoss):
    """1 - I / (I + alpha FP + beta FN + eps): I = sum(t p), FP = sum((1 - p) t),
    FN = sum(p (1 - t)) over ``axis`` (Keras's names for the two sums)."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis

    def _sums(self, t, p, axes):
        alpha, beta = float(self.alpha), float(self.beta)
        inter = np.sum(t * p, axis=axes, keepdims=True)
        fp = np.sum((1.0 - p) * t, axis=axes, keepdims=True)
        fn = np.sum(p * (1.0 - t), axis=axes, keepdims=True)
        denom = inter + alpha * fp + beta * fn + epsilon()
        return inter, denom, t - alpha * t + beta * (1.0 - t)

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "beta": self.beta})
        return config


def dice(y_true, y_pred, axis=None):
    return Dice(axis=axis).call(y_true, y_pred)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    return Tversky(alpha=alpha, beta=beta, axis=axis).call(y_true, y_pred)
