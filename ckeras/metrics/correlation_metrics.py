"""Correlation metrics (Keras 3's correlation_metrics): the mean over samples of
Pearson's and Lin's concordance correlation, each computed along ``axis``."""
import numpy as np

from ckeras.config import epsilon
from ckeras.metrics.base import FixedFunctionMetric, _pair, squeeze_or_expand_to_same_rank


def _prepared(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """mean(z(y_true) * z(y_pred), axis), z the standardised values (population std)."""
    y_true, y_pred = _prepared(y_true, y_pred)
    t = y_true - y_true.mean(axis=axis, keepdims=True)
    p = y_pred - y_pred.mean(axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = t / t.std(axis=axis, keepdims=True)
        p = p / p.std(axis=axis, keepdims=True)
    return (t * p).mean(axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """mean(2 cov / (var_t + var_p + (mean_t - mean_p)**2 + eps), axis).

    As in Keras, the covariance term is (y_true - mean_p)(y_pred - mean_p): it
    centres y_true on y_pred's mean.
    """
    y_true, y_pred = _prepared(y_true, y_pred)
    mean_t = y_true.mean(axis=axis, keepdims=True)
    mean_p = y_pred.mean(axis=axis, keepdims=True)
    var_t = (y_true - mean_t).var(axis=axis, keepdims=True)
    var_p = (y_pred - mean_p).var(axis=axis, keepdims=True)
    covar = (y_true - mean_p) * (y_pred - mean_p)
    norm = var_t + var_p + np.square(mean_t - mean_p)
    return (2.0 * covar / (norm + epsilon())).mean(axis=axis)


class PearsonCorrelation(FixedFunctionMetric):
    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(FixedFunctionMetric):
    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
