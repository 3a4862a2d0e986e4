"""Losses with explicit gradients (Keras 3 names, defaults, shapes and reduction).

Every built-in loss object offers

* ``call(y_true, y_pred)`` -> Keras's per-element values (shape ``y_pred.shape[:-1]``),
* ``__call__(y_true, y_pred, sample_weight=None)`` -> the reduced value, as Keras
  (default ``"sum_over_batch_size"``: ``sum(w_i * l_i) / N``),
* ``per_sample(y_true, y_pred)`` -> ``(N,)`` losses (values averaged over any
  axes between the batch and the last one),
* ``forward_backward(y_true, y_pred, sample_scale)`` -> ``(losses (N,), grad)``
  with ``grad = sample_scale[i] * d losses_i / d y_pred`` (what the trainer calls
  each step, ``sample_scale = sample_weight / N``), and ``value(y_true, y_pred)``
  -> its losses alone (evaluation),
* ``fusable_activation`` (a class attribute: 'softmax' / 'sigmoid' / None), the
  activation the loss's fused kernel folds in; the cross-entropies then offer
  ``logits_forward_backward(y_true, logits, sample_scale)`` ->
  ``(losses, dlogits, probabilities)`` and ``logits_value(y_true, logits)`` ->
  ``(losses, probabilities)``. When the trainer uses them is decided in
  ``ckeras/models/output_fusion.py``.

With ``ignore_class`` (SparseCategoricalCrossentropy), Keras divides by the
number of valid entries instead of N; the per-sample losses returned here
already carry that factor (``total / valid``), so ``sum(w_i * l_i) / N`` over
them is still Keras's value.
"""
import math

import numpy as np

from ckeras import ops
from ckeras.ops import tape as _tape
from ckeras.ops.array_ops import _record
from ckeras import registry
from ckeras.registry import to_snake_case as _snake

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

    fusable_activation = None   # see ckeras/models/output_fusion.py

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

    def value(self, y_true, y_pred):
        """Per-sample losses (N,) as ``forward_backward`` gives them, without
        the gradient (evaluation). A scalar from ``call`` counts for every sample."""
        values, mask = self._values_and_mask(y_true, y_pred)
        if np.ndim(values) == 0:
            n = np.shape(y_pred)[0] if np.ndim(y_pred) else 1
            return np.full(n, values, np.result_type(values, np.float32))
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

    # Whether the values average the last axis (MSE, hinge, BCE, ...) rather than
    # sum or reduce it (cross-entropy, KL, cosine): the metrics' rank-1 rule needs it.
    averages_last_axis = True

    def _values_and_mask(self, y_true, y_pred):
        t, p, _ = self._prepare(y_true, y_pred, per_sample=False)
        values, _, mask, _ = self._compute(t, p, False)
        return values, mask

    def sample_values(self, y_true, y_pred):
        """The values a metric averages (what ``ckeras.metrics`` functions return).

        As ``call``, except that where both inputs are rank 1 and the loss averages
        the last axis, each element is one sample (``call`` gives one value for the
        batch, as Keras): the metrics' epoch value then never depends on the batch size.
        """
        t, p, _ = self._prepare(y_true, y_pred, per_sample=self.averages_last_axis)
        values, _, mask, _ = self._compute(t, p, False)
        if mask is not None:
            values = np.where(mask, values, 0.0).astype(values.dtype, copy=False)
        return values

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

    value = per_sample   # the values forward_backward returns, no gradient

    def forward_backward(self, y_true, y_pred, sample_scale):
        t, p, shape = self._prepare(y_true, y_pred, per_sample=True)
        values, g, mask, k = self._compute(t, p, True)
        coef = _coef(values.shape, p.dtype, sample_scale, mask)
        if k != 1:
            coef = coef * (1.0 / k)
        g *= coef[..., None]
        return _to_samples(values, mask), g.reshape(shape)


