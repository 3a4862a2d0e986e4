"""Weight constraints: ``c(w) -> projected w``, applied after each optimizer step.

Keras 3 formulas; norms are taken over ``axis`` (0 by default: for a Dense
kernel (in, units) that is the incoming weight vector of each unit).
"""
from ckeras.config import epsilon  # backend.set_epsilon reaches every use
import numpy as np

from ckeras import registry

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm",
           "max_norm", "non_neg", "unit_norm", "min_max_norm",
           "get", "serialize", "deserialize"]



def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    return np.sqrt((w * w).sum(axis=_axis(axis), keepdims=True))




class Constraint:
    """Base class: implement ``__call__(w) -> w``."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**registry.known_kwargs(cls, config, "Constraint"))

    def __repr__(self):
        return registry.config_repr(self)


class MaxNorm(Constraint):
    """Rescale slices whose L2 norm exceeds ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0.0, self.max_value)
        return w * (desired / (norms + epsilon()))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative entries."""

    def __call__(self, w):
        w = np.asarray(w)
        return w * (w >= 0.0)


class UnitNorm(Constraint):
    """Scale slices to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return w / (_norms(w, self.axis) + epsilon())

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move slice norms into [min_value, max_value] at ``rate`` (1 = all the way)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * np.clip(norms, self.min_value, self.max_value)
                   + (1.0 - self.rate) * norms)
        return w * (desired / (norms + epsilon()))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_BUILTINS = {
    "MaxNorm": MaxNorm, "max_norm": MaxNorm, "maxnorm": MaxNorm,
    "NonNeg": NonNeg, "non_neg": NonNeg, "nonneg": NonNeg,
    "UnitNorm": UnitNorm, "unit_norm": UnitNorm, "unitnorm": UnitNorm,
    "MinMaxNorm": MinMaxNorm, "min_max_norm": MinMaxNorm,
}


def get(identifier, custom_objects=None):
    return registry.get_object(identifier, _BUILTINS, "constraint", custom_objects)


def serialize(constraint):
    return registry.serialize(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    return get(config, custom_objects=custom_objects)
