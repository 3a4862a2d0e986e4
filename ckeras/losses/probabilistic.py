"""Probabilistic losses: the cross-entropies (with their fused softmax/sigmoid
kernels), their focal variants, KL divergence and Poisson."""
import warnings

import numpy as np

from ckeras import ops
from ckeras.config import epsilon  # backend.set_epsilon reaches every use
from ckeras.losses.base import Loss, _BuiltinLoss, _coef, _shape_error, _to_samples, \
    squeeze_or_expand_to_same_rank, _as_float


class KLDivergence(_BuiltinLoss):
    """sum(y_true * log(y_true / y_pred), axis=-1), both clipped to [eps, 1]."""

    averages_last_axis = False

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        tc = np.clip(t, epsilon(), 1.0)
        pc = np.clip(p, epsilon(), 1.0)
        values = (tc * np.log(tc / pc)).sum(axis=-1)
        g = None
        if need_grad:
            g = tc / pc
            g *= -1.0
            g *= (p >= epsilon()) & (p <= 1.0)
        return values, g, None, 1



class Poisson(_BuiltinLoss):
    """mean(y_pred - y_true * log(y_pred + eps), axis=-1)"""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _compute(self, t, p, need_grad):
        pe = p + epsilon()
        values = (p - t * np.log(pe)).mean(axis=-1)
        g = None
        if need_grad:
            g = t / pe
            np.subtract(1.0, g, out=g)
        return values, g, None, p.shape[-1]



class _CrossentropyBase(_BuiltinLoss):
    """Fused-kernel plumbing shared by the cross-entropies.

    ``fusable_activation`` names the activation the loss's kernel folds in
    (ckeras/models/output_fusion.py decides when the trainer uses it); None means
    no kernel: the loss is always computed from its input, logits or not.
    """

    fusable_activation = None

    def forward_backward(self, y_true, y_pred, sample_scale):
        if self.from_logits and self.fusable_activation is not None:
            losses, grad, _ = self._fused(y_true, y_pred, sample_scale, want_probs=False)
            return losses, grad
        return super().forward_backward(y_true, y_pred, sample_scale)

    def logits_forward_backward(self, y_true, logits, sample_scale):
        """Loss on ``activation(logits)`` computed from the logits (no clipping).

        Returns (losses (N,), dlogits, y_pred probabilities for the metrics).
        """
        if self.fusable_activation is None:
            raise NotImplementedError(f"{self.name} has no fused-logits path.")
        return self._fused(y_true, logits, sample_scale, want_probs=True)

    def _fused(self, y_true, logits, sample_scale, want_probs):
        """(losses (N,), dlogits, probabilities or None) from the fused kernel
        ``_fused_kernel(logits (rows, k), targets (rows, k), row scales, want_probs)``."""
        t, z, shape = self._prepare(y_true, logits, per_sample=True)
        t = self._smooth(t)
        k = z.shape[-1]
        vshape = z.shape[:-1]
        coef = _coef(vshape, z.dtype, sample_scale)
        rows = coef.reshape(-1) if len(vshape) == 1 else np.broadcast_to(coef, vshape).reshape(-1)
        losses, g, probs = self._fused_kernel(np.ascontiguousarray(z).reshape(-1, k),
                                              t.reshape(-1, k), rows, want_probs)
        per = _to_samples(losses.reshape(vshape))
        return per, g.reshape(shape), (None if probs is None else probs.reshape(shape))

    def get_config(self):
        config = super().get_config()
        config["from_logits"] = self.from_logits
        return config


class BinaryCrossentropy(_CrossentropyBase):
    """mean(-(t log p + (1 - t) log(1 - p)), axis=-1); p clipped to [eps, 1 - eps]."""

    fusable_activation = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if axis not in (-1,):
            raise ValueError(f"{type(self).__name__}: only axis=-1 is supported, got {axis}.")
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def _smooth(self, t):
        if self.label_smoothing:
            ls = float(self.label_smoothing)
            return t * (1.0 - ls) + 0.5 * ls
        return t

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        k = p.shape[-1]
        if self.from_logits:
            losses, g, _ = ops.sigmoid_binary_cross_entropy(
                np.ascontiguousarray(p).reshape(-1, k), t.reshape(-1, k))
            # the kernel's grad is already divided by k
            return losses.reshape(p.shape[:-1]), g.reshape(p.shape), None, 1
        pc = np.clip(p, epsilon(), 1.0 - epsilon())
        one_m = 1.0 - pc
        elem = t * np.log(pc)
        elem += (1.0 - t) * np.log(one_m)
        values = elem.mean(axis=-1)
        values *= -1.0
        g = None
        if need_grad:
            g = (1.0 - t) / one_m
            g -= t / pc
            g *= (p >= epsilon()) & (p <= 1.0 - epsilon())
        return values, g, None, k

    @staticmethod
    def _fused_kernel(z, t, rows, want_probs):
        return ops.sigmoid_binary_cross_entropy(z, t, rows)

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing, "axis": self.axis})
        return config


class BinaryFocalCrossentropy(BinaryCrossentropy):
    """Focal BCE: mean(w * (1 - p_t)**gamma * bce), p_t = t p + (1 - t)(1 - p)."""

    fusable_activation = None  # the focal factor changes the loss: no fused kernel

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        gamma, alpha = float(self.gamma), float(self.alpha)
        prob = ops.sigmoid(p) if self.from_logits else p
        pc = np.clip(prob, epsilon(), 1.0 - epsilon())
        bce = -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))
        one_m_pt = 1.0 - (t * prob + (1.0 - t) * (1.0 - prob))  # 1 - p_t
        focal = one_m_pt ** gamma
        w = (t * alpha + (1.0 - t) * (1.0 - alpha)) if self.apply_class_balancing else 1.0
        values = (w * focal * bce).mean(axis=-1).astype(p.dtype, copy=False)
        g = None
        if need_grad:
            inside = (prob >= epsilon()) & (prob <= 1.0 - epsilon())
            dbce = ((1.0 - t) / (1.0 - pc) - t / pc) * inside
            # d(1 - p_t)/dprob = 1 - 2t
            if gamma == 0.0:
                dfocal = 0.0
            else:
                dfocal = gamma * np.where(one_m_pt > 0, one_m_pt, 1.0) ** (gamma - 1.0) \
                    * (one_m_pt > 0) * (1.0 - 2.0 * t)
            g = w * (dfocal * bce + focal * dbce)
            if self.from_logits:
                g = g * (prob * (1.0 - prob))
            g = np.asarray(g, p.dtype)
        return values, g, None, p.shape[-1]

    def get_config(self):
        config = super().get_config()
        config.update({"apply_class_balancing": self.apply_class_balancing,
                       "alpha": self.alpha, "gamma": self.gamma})
        return config


def _check_categorical_targets(name, y_true, y_pred, t, p):
    if p.shape[-1] > 1 and t.ndim >= 1 and (t.ndim < p.ndim or t.shape[-1] == 1) \
            and t.shape[:1] == p.shape[:1]:
        raise ValueError(
            f"{name}: y_true has shape {np.shape(y_true)} (class indices?) but y_pred has "
            f"shape {np.shape(y_pred)} with {p.shape[-1]} classes. categorical_crossentropy "
            "expects one-hot targets of the same shape as y_pred: use "
            "loss='sparse_categorical_crossentropy' for integer labels, or one-hot encode "
            "them with ckeras.utils.to_categorical(y, num_classes).")
    if t.shape != p.shape:
        raise _shape_error(name, y_true, y_pred)


class CategoricalCrossentropy(_CrossentropyBase):
    """-sum(y_true * log(y_pred / sum(y_pred)), axis=-1), clipped to [eps, 1 - eps]."""

    averages_last_axis = False

    fusable_activation = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(axis, bool) or axis not in (-1,):
            raise ValueError(f"{type(self).__name__}: only axis=-1 is supported, got {axis}.")
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def _prepare(self, y_true, y_pred, per_sample):
        y_pred_arr = np.asarray(y_pred)
        p = _as_float(y_pred_arr)
        t = _as_float(y_true, p.dtype)
        t, p = squeeze_or_expand_to_same_rank(t, p)
        if p.ndim == 0:
            raise ValueError(f"{self.name}: y_pred must have a batch dimension.")
        _check_categorical_targets(self.name, y_true, y_pred, t, p)
        if p.ndim == 1:
            if per_sample:
                t, p = t[:, None], p[:, None]
        if p.shape[-1] == 1:
            warnings.warn(f"In loss {self.name}, expected y_pred.shape to be (batch_size, "
                          f"num_classes) with num_classes > 1. Received: y_pred.shape="
                          f"{y_pred_arr.shape}. Consider using 'binary_crossentropy' if you "
                          "only have 2 classes.", SyntaxWarning, stacklevel=3)
        return t, p, y_pred_arr.shape

    def _smooth(self, t):
        if self.label_smoothing:
            ls = float(self.label_smoothing)
            return t * (1.0 - ls) + ls / t.shape[-1]
        return t

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        if self.from_logits:
            c = p.shape[-1]
            losses, g, _ = ops.softmax_cross_entropy(
                np.ascontiguousarray(p).reshape(-1, c), t.reshape(-1, c))
            return losses.reshape(p.shape[:-1]), g.reshape(p.shape), None, 1
        s = p.sum(axis=-1, keepdims=True)
        q = p / s
        qc = np.clip(q, epsilon(), 1.0 - epsilon())
        values = -np.einsum("...k,...k->...", t, np.log(qc))
        g = None
        if need_grad:
            gq = t / qc
            gq *= -1.0
            gq *= (q >= epsilon()) & (q <= 1.0 - epsilon())
            # through the normalisation q = p / sum(p)
            g = gq - np.einsum("...k,...k->...", gq, q)[..., None]
            g /= s
        return values, g, None, 1

    @staticmethod
    def _fused_kernel(z, t, rows, want_probs):
        return ops.softmax_cross_entropy(z, t, rows, want_probs)

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing, "axis": self.axis})
        return config


class CategoricalFocalCrossentropy(CategoricalCrossentropy):
    """sum(alpha * (1 - q)**gamma * -y_true log q), q = clip(y_pred / sum(y_pred))."""

    fusable_activation = None  # the focal factor changes the loss: no fused kernel

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
                         reduction=reduction, name=name, dtype=dtype)
        self.alpha = alpha
        self.gamma = gamma

    def _compute(self, t, p, need_grad):
        t = self._smooth(t)
        gamma = float(self.gamma)
        alpha = np.asarray(self.alpha, p.dtype)
        prob = ops.softmax(p) if self.from_logits else p
        s = prob.sum(axis=-1, keepdims=True)
        q = prob / s
        qc = np.clip(q, epsilon(), 1.0 - epsilon())
        logq = np.log(qc)
        mod = (1.0 - qc) ** gamma
        values = -(alpha * mod * t * logq).sum(axis=-1).astype(p.dtype, copy=False)
        g = None
        if need_grad:
            dmod = gamma * (1.0 - qc) ** (gamma - 1.0) if gamma != 0.0 else 0.0
            # d/dqc of -alpha * mod * t * log qc
            gq = alpha * (dmod * t * logq - mod * t / qc)
            gq = gq * ((q >= epsilon()) & (q <= 1.0 - epsilon()))
            gp = (gq - (gq * q).sum(axis=-1, keepdims=True)) / s
            if self.from_logits:
                gp = prob * (gp - (gp * prob).sum(axis=-1, keepdims=True))
            g = np.asarray(gp, p.dtype)
        return values, g, None, 1

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "gamma": self.gamma})
        return config


class SparseCategoricalCrossentropy(_CrossentropyBase):
    """-log(y_pred[label]) for integer labels of shape (N,) or (N, 1)."""

    averages_last_axis = False

    fusable_activation = "softmax"

    def __init__(self, from_logits=False, ignore_class=None,
                 reduction="sum_over_batch_size", name="sparse_categorical_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def _prepare(self, y_true, y_pred, per_sample):
        y_pred_arr = np.asarray(y_pred)
        p = _as_float(y_pred_arr)
        labels = np.asarray(y_true)
        if p.ndim < 2:
            raise ValueError(f"{self.name}: y_pred must have shape (batch_size, num_classes), "
                             f"got y_pred.shape={p.shape}.")
        if labels.ndim == p.ndim and labels.shape[-1] == 1:
            labels = labels[..., 0]
        if labels.shape != p.shape[:-1]:
            hint = ""
            if labels.shape == p.shape:
                hint = ("y_true looks one-hot encoded: use loss='categorical_crossentropy' "
                        "for one-hot targets.")
            raise _shape_error(self.name, y_true, y_pred,
                               hint or "Expected integer labels of shape y_pred.shape[:-1] "
                                       "(or with a trailing 1).")
        if labels.dtype.kind == "f":
            if not np.all(np.isfinite(labels)) or np.any(labels != np.floor(labels)):
                bad = labels[~np.isfinite(labels) | (labels != np.floor(labels))].reshape(-1)[0]
                raise ValueError(f"{self.name}: labels must be integer class ids, got {bad!r}.")
        elif labels.dtype.kind not in "iub":
            raise ValueError(f"{self.name}: labels must be integer class ids, got dtype "
                             f"{labels.dtype}.")
        labels = labels.astype(np.int64, copy=False)
        mask = None
        if self.ignore_class is not None:
            mask = labels != int(self.ignore_class)
            labels = np.where(mask, labels, 0)
        c = p.shape[-1]
        bad = (labels < 0) | (labels >= c)
        if bad.any():
            raise ValueError(f"{self.name}: label {int(labels[bad].reshape(-1)[0])} is out of "
                             f"range for y_pred with {c} classes (valid labels are 0 to "
                             f"{c - 1}).")
        return (labels, mask), p, y_pred_arr.shape

    def _compute(self, labels_mask, p, need_grad):
        labels, mask = labels_mask
        c = p.shape[-1]
        if self.from_logits:
            losses, g, _ = ops.softmax_cross_entropy(
                np.ascontiguousarray(p).reshape(-1, c), labels.reshape(-1))
            values = losses.reshape(p.shape[:-1])
            return values, g.reshape(p.shape), mask, 1
        # Keras (TF): log of the clipped probabilities, then softmax cross-entropy.
        qc = np.clip(p, epsilon(), 1.0 - epsilon())
        z = qc.sum(axis=-1)
        idx = labels[..., None]
        q_y = np.take_along_axis(qc, idx, axis=-1)[..., 0]
        values = np.log(z) - np.log(q_y)
        g = None
        if need_grad:
            inside = (p >= epsilon()) & (p <= 1.0 - epsilon())
            g = np.broadcast_to((1.0 / z)[..., None], p.shape).astype(p.dtype)
            g_y = np.take_along_axis(g, idx, -1) - (1.0 / q_y)[..., None]
            np.put_along_axis(g, idx, g_y, axis=-1)
            g *= inside
        return values, g, mask, 1

    def _fused(self, y_true, logits, sample_scale, want_probs):
        (labels, mask), z, shape = self._prepare(y_true, logits, per_sample=True)
        c = z.shape[-1]
        vshape = z.shape[:-1]
        coef = _coef(vshape, z.dtype, sample_scale, mask)
        rows = (coef.reshape(-1) if coef.shape == vshape
                else np.broadcast_to(coef, vshape).reshape(-1))
        losses, g, probs = ops.softmax_cross_entropy(
            np.ascontiguousarray(z).reshape(-1, c), labels.reshape(-1), rows, want_probs)
        per = _to_samples(losses.reshape(vshape), mask)
        return per, g.reshape(shape), (probs.reshape(shape) if want_probs else None)

    def get_config(self):
        config = super().get_config()
        config["ignore_class"] = self.ignore_class
        return config


class AutoCrossentropy(Loss):
    """'crossentropy' / 'ce': picks binary, sparse or categorical CE from the shapes
    of y_true and y_pred (Keras 3's rule), on first use or via ``resolve``."""

    def __init__(self, reduction="sum_over_batch_size", name="crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.resolved = None

    def resolve(self, y_true, y_pred):
        if self.resolved is None:
            t_shape, p_shape = np.shape(y_true), np.shape(y_pred)
            t_last = t_shape[-1] if t_shape else 1
            p_last = p_shape[-1] if p_shape else 1
            kw = {"reduction": self.reduction}
            if p_last == 1:
                self.resolved = BinaryCrossentropy(**kw)
            elif len(t_shape) < len(p_shape) or (t_last == 1 and p_last > 1):
                self.resolved = SparseCategoricalCrossentropy(**kw)
            else:
                self.resolved = CategoricalCrossentropy(**kw)
        return self.resolved

    def call(self, y_true, y_pred):
        return self.resolve(y_true, y_pred).call(y_true, y_pred)

    def _values_and_mask(self, y_true, y_pred):
        return self.resolve(y_true, y_pred)._values_and_mask(y_true, y_pred)

    def per_sample(self, y_true, y_pred):
        return self.resolve(y_true, y_pred).per_sample(y_true, y_pred)

    def forward_backward(self, y_true, y_pred, sample_scale):
        return self.resolve(y_true, y_pred).forward_backward(y_true, y_pred, sample_scale)

    def logits_forward_backward(self, y_true, logits, sample_scale):
        return self.resolve(y_true, logits).logits_forward_backward(y_true, logits, sample_scale)




def poisson(y_true, y_pred):
    return Poisson().call(y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return KLDivergence().call(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                              axis=axis).call(y_true, y_pred)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryFocalCrossentropy(apply_class_balancing=apply_class_balancing, alpha=alpha,
                                   gamma=gamma, from_logits=from_logits,
                                   label_smoothing=label_smoothing, axis=axis).call(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                                   axis=axis).call(y_true, y_pred)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    return CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=from_logits,
                                        label_smoothing=label_smoothing,
                                        axis=axis).call(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    if axis not in (-1, np.ndim(y_pred) - 1):
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    return SparseCategoricalCrossentropy(from_logits=from_logits,
                                         ignore_class=ignore_class).call(y_true, y_pred)
