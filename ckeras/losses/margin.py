"""Hinge losses (maximum-margin): hinge, squared hinge, categorical hinge."""
import numpy as np

from ckeras.losses.base import _BuiltinLoss


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

    averages_last_axis = False

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



def hinge(y_true, y_pred):
    return Hinge().call(y_true, y_pred)


def squared_hinge(y_true, y_pred):
    return SquaredHinge().call(y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    return CategoricalHinge().call(y_true, y_pred)
