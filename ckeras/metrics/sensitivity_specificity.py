"""One rate at a constraint on another (Keras 3's SensitivitySpecificityBase
family): SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
RecallAtPrecision.

Counts at ``num_thresholds`` evenly spaced thresholds in [0, 1] (one threshold,
0.5, when ``num_thresholds`` is 1) come from ``confusion_metrics._confusion_counts``;
the result is the largest value of the reported rate over the thresholds where
the constrained rate reaches ``value`` (0 when none does).
"""
import numpy as np

from ckeras.metrics.base import Metric, _divide_no_nan
from ckeras.metrics.confusion_metrics import _confusion_counts


def _rates(tp, fp, tn, fn):
    return {"sensitivity": _divide_no_nan(tp, tp + fn), "recall": _divide_no_nan(tp, tp + fn),
            "specificity": _divide_no_nan(tn, tn + fp), "precision": _divide_no_nan(tp, tp + fp)}


class _RateAtRate(Metric):
    _constrained = None   # the rate that must reach the argument (its name)
    _reported = None      # the rate maximised under that constraint

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        arg = self._constrained
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                or not 0 <= value <= 1:
            raise ValueError(f"Argument `{arg}` must be in the range [0, 1]. "
                             f"Received: {arg}={value!r}")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) \
                or num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds!r}")
        super().__init__(name=name, dtype=dtype)
        setattr(self, arg, value)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True
        self.reset_state()

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.true_negatives = np.zeros(n)
        self.false_negatives = np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = _confusion_counts(y_true, y_pred, self.thresholds,
                                           class_id=self.class_id, sample_weight=sample_weight,
                                           evenly=self._evenly)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def result(self):
        rates = _rates(self.true_positives, self.false_positives, self.true_negatives,
                       self.false_negatives)
        feasible = rates[self._constrained] >= self.value
        return float(np.max(np.where(feasible, rates[self._reported], 0.0), initial=0.0))


    def get_config(self):
        config = super().get_config()
        config.update({"class_id": self.class_id, "num_thresholds": self.num_thresholds,
                       self._constrained: self.value})
        return config


class SensitivityAtSpecificity(_RateAtRate):
    _constrained, _reported = "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_RateAtRate):
    _constrained, _reported = "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_RateAtRate):
    _constrained, _reported = "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_RateAtRate):
    _constrained, _reported = "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
