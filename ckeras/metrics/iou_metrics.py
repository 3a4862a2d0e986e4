"""Intersection-over-union metrics (Keras 3's iou_metrics): IoU, MeanIoU,
BinaryIoU, OneHotIoU, OneHotMeanIoU.

All accumulate one (num_classes, num_classes) confusion matrix, rows the true
class and columns the predicted one, in the metric's dtype: Keras's default is
"int" (int32), so float sample weights are truncated to integers, as Keras
does (with its warning). Pairs whose true or predicted class lies outside
[0, num_classes), or whose true class is ``ignore_class``, are not counted.
The result averages ``tp / (tp + fp + fn)`` over the target classes that
occurred at all (an absent class counts neither as 0 nor in the mean).
"""
import warnings

import numpy as np

from ckeras.metrics.base import EPSILON, Metric


def _flat(x):
    x = np.asarray(x)
    return x.reshape(-1) if x.ndim > 1 else x


class _IoUBase(Metric):

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
                or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be a positive integer. "
                             f"Received: num_classes={num_classes!r}")
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.reset_state()

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes), self.dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        dtype = np.dtype(self.dtype)
        y_true, y_pred = _flat(y_true).astype(dtype), _flat(y_pred).astype(dtype)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__}: y_true and y_pred hold {y_true.size} and "
                             f"{y_pred.size} class ids; they must match.")
        if sample_weight is None:
            weights = np.ones(y_true.shape, dtype)
        else:
            sample_weight = np.asarray(sample_weight)
            if sample_weight.dtype.kind == "f" and dtype.kind in "iu":
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                              "result in an incorrect weight due to type casting Consider "
                              "using integer weights.", stacklevel=2)
            weights = np.broadcast_to(_flat(sample_weight).astype(dtype), y_true.shape)
        n = self.num_classes
        keep = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        index = y_true[keep].astype(np.int64) * n + y_pred[keep].astype(np.int64)
        counts = np.bincount(index, weights=weights[keep].astype(np.float64), minlength=n * n)
        self.total_cm = self.total_cm + counts.reshape(n, n).astype(dtype)



class IoU(_IoUBase):
    """Mean IoU over ``target_class_ids``."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        ids = list(target_class_ids)
        if not ids:
            raise ValueError(f"{type(self).__name__}: target_class_ids is empty.")
        if max(ids) >= num_classes or min(ids) < 0:
            bad = max(ids) if max(ids) >= num_classes else min(ids)
            raise ValueError(f"Target class id {bad} is out of range, which is "
                             f"[0, {num_classes}).")
        self.target_class_ids = ids

    def result(self):
        cm = self.total_cm.astype(np.float64)
        tp = np.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        tp = tp[self.target_class_ids]
        valid = denominator > 1e-9
        iou = np.where(valid, tp / (denominator + EPSILON), 0.0)
        return float(iou.sum() / (valid.sum() + EPSILON))

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes,
                       "target_class_ids": self.target_class_ids,
                       "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                       "sparse_y_pred": self.sparse_y_pred, "axis": self.axis})
        return config


class BinaryIoU(IoU):
    """IoU of two classes: y_pred >= threshold is class 1."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, np.float32) >= self.threshold
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over every class."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """IoU with one-hot y_true (and, unless ``sparse_y_pred``, scores as y_pred)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU with one-hot y_true (and, unless ``sparse_y_pred``, scores as y_pred)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
