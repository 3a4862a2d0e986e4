"""Generalized cross-entropy (Zhang & Sabuncu 2018), Keras's
CategoricalGeneralizedCrossEntropy: (1 - p_y**q) / q on integer labels y."""
import numpy as np

from ckeras.losses.base import _shape_error
from ckeras.losses.vjp_loss import VJPLoss


def _check_q(q):
    if isinstance(q, bool) or not isinstance(q, (int, float, np.floating)) or not 0 < q < 1:
        raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in the interval "
                         f"(0, 1). Received: q={q!r}")


class CategoricalGeneralizedCrossEntropy(VJPLoss):
    """y_true: class indices (N,) or (N, 1) (or (N, ...) with y_pred (N, ..., C));
    y_pred: probabilities (N, ..., C). A label outside [0, C) picks no class:
    p_y = 0 and the loss is 1 / q (Keras's one_hot gives a zero row)."""

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        _check_q(q)
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.q = q

    def _forward(self, t, p):
        if p.ndim < 1:
            raise ValueError(f"{self.name}: y_pred must have a class axis, got a scalar.")
        labels = t
        if labels.ndim == p.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]   # (N, 1) labels: Keras's docstring accepts them
        if labels.shape != p.shape[:-1]:
            raise _shape_error(self.name, t, p, "y_true holds one class index per row of "
                               "y_pred (shape y_pred.shape[:-1]).")
        labels = labels.astype(np.int64)
        n_classes = p.shape[-1]
        valid = (labels >= 0) & (labels < n_classes)
        index = np.where(valid, labels, 0)[..., None]
        p_y = np.where(valid, np.take_along_axis(p, index, axis=-1)[..., 0], 0.0)
        q = float(self.q)
        values = ((1.0 - np.power(p_y, q)) / q).astype(p.dtype, copy=False)
        return values, None, (p, p_y, index, valid)

    def _vjp(self, ctx, cotangent):
        p, p_y, index, valid = ctx
        q = float(self.q)
        with np.errstate(divide="ignore"):
            d_py = np.where(valid, -np.power(p_y, q - 1.0), 0.0) * cotangent
        grad = np.zeros_like(p)
        np.put_along_axis(grad, index, d_py[..., None].astype(p.dtype), axis=-1)
        return grad

    def get_config(self):
        config = super().get_config()
        config["q"] = self.q
        return config


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    return CategoricalGeneralizedCrossEntropy(q=q).call(y_true, y_pred)
