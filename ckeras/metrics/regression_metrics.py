"""Regression metrics. The per-sample formulas are the losses' (``ckeras.losses``);
RootMeanSquaredError and R2Score keep their own running sums."""
import numpy as np

from ckeras.losses import regression as _losses
from ckeras.metrics.base import (Mean, FixedFunctionMetric, Metric, _divide_no_nan, _pair,
                                 _scalar_or_array, squeeze_or_expand_to_same_rank)


def mean_squared_error(y_true, y_pred):
    return _losses.MeanSquaredError().sample_values(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return _losses.MeanAbsoluteError().sample_values(y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    return _losses.MeanAbsolutePercentageError().sample_values(y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    return _losses.MeanSquaredLogarithmicError().sample_values(y_true, y_pred)


def log_cosh(y_true, y_pred):
    return _losses.LogCosh().sample_values(y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """keras.metrics.huber: the Huber loss's values."""
    return _losses.Huber(delta=delta).sample_values(y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    """The cosine itself (the loss is its negative)."""
    return -_losses.CosineSimilarity(axis=axis).sample_values(y_true, y_pred)


class MeanSquaredError(FixedFunctionMetric):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(FixedFunctionMetric):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(FixedFunctionMetric):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(FixedFunctionMetric):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(Σ w·mean_k((y_pred - y_true)^2) / Σ w)``."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _pair(y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        d = y_pred - y_true
        super().update_state(d * d, sample_weight=sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class CosineSimilarity(FixedFunctionMetric):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class LogCoshError(FixedFunctionMetric):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class R2Score(Metric):
    """Coefficient of determination per output column, then aggregated."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0,
                 name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError("Invalid value for argument `class_aggregation`. Expected "
                             "one of (None, 'uniform_average', 'variance_weighted_average'). "
                             f"Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a "
                             f"value >= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.reset_state()

    def reset_state(self):
        self._sums = None       # sum, squared_sum, residual, count (per column)
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _pair(y_true, y_pred)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape="
                             f"{y_pred.shape} and y_true.shape={y_true.shape}.")
        y_true = y_true.astype(np.float64)
        y_pred = y_pred.astype(np.float64)
        sw = np.float64(1.0) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if sw.ndim == 1:
            sw = sw[:, None]
        sw = np.broadcast_to(sw, y_true.shape)
        wy = y_true * sw
        batch = np.stack([wy.sum(0), (y_true * wy).sum(0),
                          ((y_true - y_pred) ** 2 * sw).sum(0), sw.sum(0)])
        self._sums = batch if self._sums is None else self._sums + batch
        self.num_samples += y_true.size

    def result(self):
        if self._sums is None:
            return 0.0
        s, sq, res, count = self._sums
        mean = _divide_no_nan(s, count)
        total = sq - s * mean
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = 1.0 - res / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            r2 = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            r2 = np.sum(total * raw) / np.sum(total)
        else:
            r2 = raw
        n, p = self.num_samples, self.num_regressors
        if p != 0 and p < n - 1:
            r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0)
        return _scalar_or_array(r2)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
