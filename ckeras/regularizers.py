"""Weight regularizers: ``reg(w) -> float`` penalty and ``reg.gradient(w)`` = d penalty / dw.

Keras 3 formulas: L1 ``l1 * sum(|w|)``, L2 ``l2 * sum(w**2)`` (no 1/2),
L1L2 both. The class defaults are Keras 3's (L1(0.01), L2(0.01), L1L2(0, 0));
the strings 'l1', 'l2', 'l1_l2' give 0.01 for each factor.
"""
import math

import numpy as np

from ckeras import registry

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer",
           "l1", "l2", "l1_l2", "orthogonal_regularizer",
           "get", "serialize", "deserialize"]

_EPSILON = 1e-7


def _factor(value, name):
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)




class Regularizer:
    """Base class: implement ``__call__(w) -> float`` and ``gradient(w) -> array``."""

    def __call__(self, w):
        return 0.0

    def gradient(self, w):
        raise NotImplementedError(
            f"{type(self).__name__} has no gradient(w): ckeras computes gradients "
            "explicitly, so custom regularizers must implement gradient(w) -> "
            "d penalty / dw (same shape as w).")

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**registry.known_kwargs(cls, config, "Regularizer"))

    def __repr__(self):
        return registry.config_repr(self)


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, w):
        w = np.asarray(w)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.abs(w).sum(dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.vdot(w, w))
        return penalty

    def gradient(self, w):
        w = np.asarray(w)
        g = np.zeros_like(w)
        if self.l1:
            g += self.l1 * np.sign(w)
        if self.l2:
            g += (2.0 * self.l2) * w
        return g

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, w):
        return self.l1 * float(np.abs(np.asarray(w)).sum(dtype=np.float64))

    def gradient(self, w):
        w = np.asarray(w)
        return self.l1 * np.sign(w)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, w):
        w = np.asarray(w)
        return self.l2 * float(np.vdot(w, w))

    def gradient(self, w):
        w = np.asarray(w)
        return (2.0 * self.l2) * w

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean |<u_i, u_j>| over pairs i < j of L2-normalised rows (or columns).

    Keras 3: ``factor * 0.5 * sum_{i != j} |P_ij| / (n (n-1) / 2)``.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError('Invalid value for argument `mode`. Expected one of '
                             f'{{"rows", "columns"}}. Received: mode={mode!r}')
        self.mode = mode

    def _vectors(self, w):
        w = np.asarray(w)
        if w.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. "
                             f"Received: inputs.shape={w.shape}")
        return w if self.mode == "rows" else w.T

    @staticmethod
    def _normalize(v):
        norm = np.sqrt((v * v).sum(axis=1, keepdims=True))
        denom = np.maximum(norm, _EPSILON)
        return v / denom, norm, denom

    def __call__(self, w):
        v = self._vectors(w)
        n = v.shape[0]
        if n < 2:
            return 0.0
        u, _, _ = self._normalize(v.astype(np.float64))
        p = u @ u.T
        np.fill_diagonal(p, 0.0)
        return float(self.factor * 0.5 * np.abs(p).sum() / (n * (n - 1) / 2.0))

    def gradient(self, w):
        w = np.asarray(w)
        v = self._vectors(w)
        n = v.shape[0]
        if n < 2:
            return np.zeros_like(w)
        v64 = v.astype(np.float64)
        u, norm, denom = self._normalize(v64)
        s = np.sign(u @ u.T)
        np.fill_diagonal(s, 0.0)
        c = self.factor * 0.5 / (n * (n - 1) / 2.0)
        gu = 2.0 * c * (s @ u)  # d/du of c * sum_{i!=j} |u_i . u_j|
        big = norm > _EPSILON
        radial = (gu * u).sum(axis=1, keepdims=True)
        gv = np.where(big, (gu - radial * u) / denom, gu / _EPSILON)
        g = gv if self.mode == "rows" else gv.T
        return g.astype(w.dtype, copy=False)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras also exports the lower-case names (they are the classes).
l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer


def l1_l2(l1=0.01, l2=0.01):
    """L1L2 with both factors 0.01 by default (what the string 'l1_l2' gives)."""
    return L1L2(l1=l1, l2=l2)


_BUILTINS = {
    "L1": L1, "l1": L1, "L2": L2, "l2": L2,
    "L1L2": L1L2, "l1l2": L1L2, "l1_l2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def get(identifier, custom_objects=None):
    if isinstance(identifier, str) and identifier == "l1_l2":
        return l1_l2()
    return registry.get_object(identifier, _BUILTINS, "regularizer", custom_objects)


def serialize(regularizer):
    return registry.serialize(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    return get(config, custom_objects=custom_objects)
