"""``VJPLoss``: a loss whose values need not be one per element of the last axis.

Dice and Tversky reduce over any ``axis`` (all of them by default: one value
for the batch), Circle compares every sample with every other, CTC sums over a
whole sequence. Each subclass writes its formula once as

* ``_forward(t, p)`` -> ``(values, mask, ctx)``: Keras's values (any shape whose
  first axis is the batch, or a scalar), an optional validity mask of that shape
  (Keras's ``set_keras_mask``) and whatever the backward needs;
* ``_vjp(ctx, cotangent)`` -> ``d sum(cotangent * values) / d p``.

This class turns that into the ``Loss`` protocol (``call`` on and off the tape,
``forward_backward`` for the trainer) with the reduction and mask rules of
``losses/base.py``.
"""
import numpy as np

from ckeras.losses.base import Loss, _as_float, _coef, _on_tape, _to_samples, _value
from ckeras.ops import tape as _tape
from ckeras.ops.array_ops import _record


class VJPLoss(Loss):

    def _forward(self, t, p):
        raise NotImplementedError

    def _vjp(self, ctx, cotangent):
        raise NotImplementedError

    def _inputs(self, y_true, y_pred):
        """(y_true, y_pred as float): Keras casts y_true to y_pred's dtype first."""
        p = _as_float(_value(y_pred))
        return np.asarray(_value(y_true)).astype(p.dtype, copy=False), p

    def _values_and_mask(self, y_true, y_pred):
        values, mask, _ = self._forward(*self._inputs(y_true, y_pred))
        return values, mask

    def call(self, y_true, y_pred):
        t, p = self._inputs(y_true, y_pred)
        values, mask, ctx = self._forward(t, p)
        if mask is not None:
            values = np.where(mask, values, 0.0).astype(values.dtype, copy=False)
        if not _on_tape(y_pred):
            return values

        def vjp(dv):
            d = np.asarray(dv, p.dtype)
            if mask is not None:
                d = d * mask
            return (self._vjp(ctx, np.broadcast_to(d, np.shape(values))),)
        return _record(_tape.current(), values, (y_pred,), (True,), vjp)

    def value(self, y_true, y_pred):
        return self._per_sample(*self._inputs(y_true, y_pred))[0]

    per_sample = value

    def _per_sample(self, t, p):
        values, mask, ctx = self._forward(t, p)
        n = p.shape[0] if p.ndim else 1
        if np.ndim(values) == 0:   # one value for the batch: every sample carries it
            return np.full(n, values, p.dtype), values, mask, ctx
        if np.shape(values)[0] != n:
            raise ValueError(
                f"{self.name}: its values have shape {np.shape(values)}, which has no batch "
                f"axis of {n} samples (axis={getattr(self, 'axis', None)!r} reduces it), so "
                "they cannot be trained on per sample. Reduce every axis (axis=None) or "
                "keep axis 0.")
        return _to_samples(values, mask), values, mask, ctx

    def forward_backward(self, y_true, y_pred, sample_scale):
        t, p = self._inputs(y_true, y_pred)
        per, values, mask, ctx = self._per_sample(t, p)
        if np.ndim(values) == 0:
            n = per.shape[0]
            scale = np.ones(n) if sample_scale is None else np.asarray(sample_scale)
            cot = np.asarray(np.sum(scale), p.dtype)
        else:
            cot = np.broadcast_to(_coef(values.shape, p.dtype, sample_scale, mask),
                                  values.shape)
        return per, np.asarray(self._vjp(ctx, cot), p.dtype).reshape(np.shape(y_pred))


def normalize_axis(axis, ndim, name):
    """Keras's ``axis`` (None, an int or a tuple) -> a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{name}: axis={axis!r} is out of range for inputs of rank {ndim}.")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis={axis!r} repeats an axis.")
    return tuple(sorted(out))
