"""Hinge metrics: the mean of the hinge losses (``ckeras.losses.margin``)."""
from ckeras.losses import margin as _losses
from ckeras.metrics.base import FixedFunctionMetric


def hinge(y_true, y_pred):
    return _losses.Hinge().sample_values(y_true, y_pred)


def squared_hinge(y_true, y_pred):
    return _losses.SquaredHinge().sample_values(y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    return _losses.CategoricalHinge().sample_values(y_true, y_pred)


class Hinge(FixedFunctionMetric):
    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(FixedFunctionMetric):
    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(FixedFunctionMetric):
    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)

