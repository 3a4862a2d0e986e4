"""Accuracy metrics: exact, binary, categorical, sparse, top-k."""
import numpy as np

from ckeras.metrics.base import FixedFunctionMetric, _pair, squeeze_or_expand_to_same_rank


def _mean_last(x):
    """Mean over the last axis; rank-1 input is already one value per sample."""
    return x.mean(axis=-1) if x.ndim >= 2 else x


def accuracy(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean_last((y_true == y_pred).astype(np.float32))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    pred = (y_pred > threshold).astype(y_true.dtype)
    return _mean_last((y_true == pred).astype(np.float32))


def categorical_accuracy(y_true, y_pred):
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _sparse_labels(y_true, y_pred):
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    y_true = _sparse_labels(y_true, y_pred)
    return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _in_top_k(targets, predictions, k):
    """TF ``in_top_k``: target counts as in the top k when fewer than k classes
    score strictly higher (ties at the boundary are all "in")."""
    n_classes = predictions.shape[-1]
    preds = predictions.reshape(-1, n_classes)
    targets = np.asarray(targets).reshape(-1)
    t = targets.astype(np.int64)
    valid = (t >= 0) & (t < n_classes) & (t == targets)
    t = np.where(valid, t, 0)
    score = preds[np.arange(len(t)), t]
    higher = np.count_nonzero(preds > score[:, None], axis=-1)
    return (higher < k) & valid & np.isfinite(score)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    labels = np.argmax(np.asarray(y_true), axis=-1)
    return _in_top_k(labels, y_pred, k).reshape(labels.shape).astype(np.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    return _in_top_k(y_true, y_pred, k).reshape(y_true.shape).astype(np.float32)


class Accuracy(FixedFunctionMetric):
    """How often ``y_pred`` equals ``y_true`` exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(FixedFunctionMetric):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and (threshold <= 0 or threshold >= 1):
            raise ValueError("Invalid value for argument `threshold`. Expected a "
                             f"value in interval (0, 1). Received: threshold={threshold}")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(FixedFunctionMetric):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(FixedFunctionMetric):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(FixedFunctionMetric):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(FixedFunctionMetric):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)

