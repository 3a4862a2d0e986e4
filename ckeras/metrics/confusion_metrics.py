"""Confusion-matrix metrics: TP/FP/TN/FN counts, Precision, Recall, AUC, F-beta/F1.

Counts are weighted histograms over thresholds (O(N + T)), Keras's bucketing.
"""
import numpy as np

from ckeras.metrics.base import EPSILON, Metric, _divide_no_nan, _scalar_or_array, \
    squeeze_or_expand_to_same_rank

NEG_INF = -1e10


def _sigmoid(x):
    x = np.asarray(x)
    out = np.empty_like(x, dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out

def _parse_thresholds(thresholds, default):
    if thresholds is not None:
        values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) \
            else [thresholds]
        bad = [t for t in values if t is None or t < 0 or t > 1]
        if bad:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
        return [float(t) for t in values]
    return [float(default)]


def _evenly_distributed(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _filter_top_k(x, k):
    """Keep the top k values of the last axis; the rest become NEG_INF."""
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return np.where(mask, x, np.float32(NEG_INF)).astype(x.dtype)


def _confusion_counts(y_true, y_pred, thresholds, top_k=None, class_id=None,
                      sample_weight=None, multi_label=False, label_weights=None,
                      evenly=False):
    """Weighted (tp, fp, tn, fn) per threshold, each (T,) or (T, labels).

    A prediction is positive at threshold t when ``y_pred > t``; labels are
    ``y_true != 0``. Vectorised as a histogram of "how many thresholds each
    prediction exceeds" followed by a reverse cumulative sum (O(N + T)).
    """
    y_pred = np.asarray(y_pred, dtype=np.float32)
    y_true = np.asarray(y_true)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)[..., None]
        _, sw = squeeze_or_expand_to_same_rank(y_true, sw, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array "
                             "with shape (num_samples, num_classes), found shape: "
                             f"{y_pred.shape}")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    y_true = np.broadcast_to(y_true, y_pred.shape)
    weights = (np.broadcast_to(sw, y_pred.shape) if sw is not None
               else np.ones(y_pred.shape, dtype=np.float64))
    if label_weights is not None and not multi_label:
        weights = weights * np.broadcast_to(np.asarray(label_weights, np.float64), y_pred.shape)
    thresholds = np.asarray(thresholds, dtype=np.float32)
    n_thr = len(thresholds)

    if evenly:
        with_eps = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        p = np.clip(y_pred, np.float32(0.0), np.float32(1.0))
        bucket = np.ceil(p * np.float32(n_thr - 1)) - 1
        if with_eps:
            bucket = np.maximum(bucket, 0)
        bucket = np.nan_to_num(bucket, nan=-1.0)
        exceeded = bucket.astype(np.int64) + 1       # thresholds [0, exceeded) are below p
        order = None
    else:
        order = np.argsort(thresholds, kind="stable")
        exceeded = np.searchsorted(thresholds[order], y_pred, side="left").astype(np.int64)

    is_pos = y_true != 0
    pos_w = np.where(is_pos, weights, 0.0)
    neg_w = np.where(is_pos, 0.0, weights)
    if multi_label:
        n_labels = y_pred.shape[-1]
        exceeded = exceeded.reshape(-1, n_labels)
        offsets = np.arange(n_labels, dtype=np.int64) * (n_thr + 1)
        idx = (exceeded + offsets).reshape(-1)
        size = n_labels * (n_thr + 1)

        def count(w):
            hist = np.bincount(idx, weights=w.reshape(-1), minlength=size)
            hist = hist.reshape(n_labels, n_thr + 1)
            return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:].T   # (T, L)
        total_pos = pos_w.reshape(-1, n_labels).sum(axis=0)
        total_neg = neg_w.reshape(-1, n_labels).sum(axis=0)
    else:
        idx = exceeded.reshape(-1)

        def count(w):
            hist = np.bincount(idx, weights=w.reshape(-1), minlength=n_thr + 1)
            return np.cumsum(hist[::-1])[::-1][1:]
        total_pos = pos_w.sum()
        total_neg = neg_w.sum()
    tp = count(pos_w)
    fp = count(neg_w)
    if order is not None:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(n_thr)
        tp, fp = tp[inverse], fp[inverse]
    return tp, fp, total_neg - fp, total_pos - tp


class _ConfusionMatrixConditionCount(Metric):
    _which = None   # index into (tp, fp, tn, fn)

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self._evenly = _evenly_distributed(self.thresholds)
        self.reset_state()

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds), dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = _confusion_counts(y_true, y_pred, self.thresholds,
                                   sample_weight=sample_weight, evenly=self._evenly)
        self.accumulator += counts[self._which]

    def result(self):
        if len(self.thresholds) == 1:
            return float(self.accumulator[0])
        return self.accumulator.copy()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    _which = 0


class FalsePositives(_ConfusionMatrixConditionCount):
    _which = 1


class TrueNegatives(_ConfusionMatrixConditionCount):
    _which = 2


class FalseNegatives(_ConfusionMatrixConditionCount):
    _which = 3


class _PrecisionRecallBase(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default)
        self._evenly = _evenly_distributed(self.thresholds)
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n, dtype=np.float64)
        self.false_positives = np.zeros(n, dtype=np.float64)
        self.false_negatives = np.zeros(n, dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = _confusion_counts(
            y_true, y_pred, self.thresholds, top_k=self.top_k, class_id=self.class_id,
            sample_weight=sample_weight, evenly=self._evenly)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def _finish(self, value):
        return float(value[0]) if len(self.thresholds) == 1 else value

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecallBase):
    """``tp / (tp + fp)`` (0 when nothing was predicted positive)."""

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives,
                                           self.true_positives + self.false_positives))


class Recall(_PrecisionRecallBase):
    """``tp / (tp + fn)`` (0 when there were no positives)."""

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives,
                                           self.true_positives + self.false_negatives))


class AUC(Metric):
    """Area under the ROC or PR curve, Keras's bucketed approximation.

    ``num_thresholds`` evenly spaced thresholds (plus ``-eps`` and ``1+eps``
    end points); ROC uses the trapezoidal rule on (fpr, tpr); PR with
    ``summation_method="interpolation"`` uses Davis & Goadrich interpolation.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False,
                 num_labels=None, label_weights=None, from_logits=False):
        curve_key = str(curve)
        if curve_key in ("pr", "PR"):
            curve = "PR"
        elif curve_key in ("roc", "ROC"):
            curve = "ROC"
        else:
            raise ValueError(f'Invalid AUC curve value: "{curve}". '
                             'Expected values are ["PR", "ROC"]')
        method = str(summation_method).lower()
        if method not in ("interpolation", "majoring", "minoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(float(t) for t in thresholds)
            self._evenly = _evenly_distributed([0.0] + thresholds + [1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1)
                          for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + thresholds + [1.0 + EPSILON])
        self.curve = curve
        self.summation_method = method
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else np.asarray(label_weights, dtype=np.float64))
        self._from_logits = from_logits
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self._num_labels = num_labels if multi_label else None
        self.reset_state()

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        shape = (self.num_thresholds,)
        if self.multi_label:
            shape = None if not self._num_labels else (self.num_thresholds, self._num_labels)
        if shape is None:
            self.true_positives = self.false_positives = None
            self.true_negatives = self.false_negatives = None
            return
        self.true_positives = np.zeros(shape)
        self.false_positives = np.zeros(shape)
        self.true_negatives = np.zeros(shape)
        self.false_negatives = np.zeros(shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        if self.multi_label and self.true_positives is None:
            if y_pred.ndim != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Found rank {y_pred.ndim}. Full shape received for "
                                 f"`y_pred`: {y_pred.shape}")
            self._num_labels = y_pred.shape[1]
            self.reset_state()
        if self._from_logits:
            y_pred = _sigmoid(y_pred)
        tp, fp, tn, fn = _confusion_counts(
            y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            evenly=self._evenly)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _average(self, by_label):
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights),
                                    np.sum(self.label_weights)))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        safe_ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _divide_no_nan(prec_slope * (dtp + intercept * np.log(safe_ratio)),
                                    np.maximum(tp[1:] + fn[1:], 0))
        return self._average(np.sum(increments, axis=0))

    def result(self):
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average(np.sum((x[:-1] - x[1:]) * heights, axis=0))

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype,
                  "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": (None if self.label_weights is None
                                    else self.label_weights.tolist()),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config


class FBetaScore(Metric):
    """F-beta per class (``average=None``) or averaged (micro/macro/weighted)."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: "
                             "[None, 'micro', 'macro', 'weighted']. "
                             f"Received: average={average}")
        if not isinstance(beta, (int, float)) or beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None and (not isinstance(threshold, float)
                                      or threshold > 1.0 or threshold <= 0.0):
            raise ValueError("Invalid `threshold` argument value. It should be a Python "
                             f"float with 0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.reset_state()

    def reset_state(self):
        self._state = None   # tp, fp, fn, support

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError("FBetaScore expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape="
                             f"{y_pred.shape} and y_true.shape={y_true.shape}.")
        if self.threshold is None:
            top = y_pred.max(axis=-1, keepdims=True)
            pred = ((y_pred >= top) & (np.abs(y_pred) > 1e-9)).astype(np.float64)
        else:
            pred = (y_pred > self.threshold).astype(np.float64)
        w = None if sample_weight is None else np.asarray(sample_weight, np.float64)[:, None]
        axis = None if self.average == "micro" else 0

        def wsum(v):
            return np.sum(v if w is None else v * w, axis=axis)
        batch = np.array([wsum(pred * y_true), wsum(pred * (1 - y_true)),
                          wsum((1 - pred) * y_true), wsum(y_true)])
        self._state = batch if self._state is None else self._state + batch

    def result(self):
        if self._state is None:
            return 0.0
        tp, fp, fn, support = self._state
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta ** 2
        f = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            f = np.sum(f * support / (np.sum(support) + EPSILON))
        elif self.average is not None:
            f = np.mean(f)
        return _scalar_or_array(f)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "average": self.average,
                "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
