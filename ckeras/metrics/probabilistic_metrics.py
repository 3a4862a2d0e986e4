"""Probabilistic metrics: the mean of the cross-entropy, KL and Poisson losses
(``ckeras.losses.probabilistic`` owns the formulas, as in Keras 3)."""
import numpy as np

from ckeras.losses import probabilistic as _losses
from ckeras.metrics.base import FixedFunctionMetric


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return _losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                                      axis=axis).sample_values(y_true, y_pred)


def _class_axis_last(y_true, y_pred, axis):
    """The losses take the class axis last; a metric may name another one."""
    y_pred = np.asarray(y_pred)
    if axis in (-1, y_pred.ndim - 1):
        return y_true, y_pred
    return np.moveaxis(np.asarray(y_true), axis, -1), np.moveaxis(y_pred, axis, -1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _class_axis_last(y_true, y_pred, axis)
    return _losses.CategoricalCrossentropy(
        from_logits=from_logits, label_smoothing=label_smoothing).sample_values(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    if axis not in (-1, np.ndim(y_pred) - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    return _losses.SparseCategoricalCrossentropy(
        from_logits=from_logits, ignore_class=ignore_class).sample_values(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return _losses.KLDivergence().sample_values(y_true, y_pred)


def poisson(y_true, y_pred):
    return _losses.Poisson().sample_values(y_true, y_pred)


class BinaryCrossentropy(FixedFunctionMetric):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(FixedFunctionMetric):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(FixedFunctionMetric):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None,
                 from_logits=False, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


class KLDivergence(FixedFunctionMetric):
    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(FixedFunctionMetric):
    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)



def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """keras.metrics.binary_focal_crossentropy: the loss's values."""
    return _losses.BinaryFocalCrossentropy(
        apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
        from_logits=from_logits, label_smoothing=label_smoothing,
        axis=axis).sample_values(y_true, y_pred)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """keras.metrics.categorical_focal_crossentropy: the loss's values."""
    y_true, y_pred = _class_axis_last(y_true, y_pred, axis)
    return _losses.CategoricalFocalCrossentropy(
        alpha=alpha, gamma=gamma, from_logits=from_logits,
        label_smoothing=label_smoothing).sample_values(y_true, y_pred)
