"""Stateful metrics (Keras 3 names, defaults, formulas, config keys).

Every metric has ``reset_state()``, ``update_state(y_true, y_pred,
sample_weight=None)``, ``result()`` and ``.name``. Updates are vectorised
numpy (no Python loop over samples). Mean-type metrics accumulate
``Σ w·value`` and ``Σ w`` (float64), so the epoch value is the sample-weighted
mean over everything seen since the last reset, whatever the batch size.

``get("accuracy", y_true=..., y_pred=...)`` resolves ``"accuracy"``/``"acc"``
(and ``"crossentropy"``/``"ce"``) from the shapes, Keras 3 rule
(docs/spec/training_loop.md §1.4), and the returned metric is named exactly as written.

Deliberate difference from Keras: when *both* ``y_true`` and ``y_pred`` are
rank 1, Keras averages each batch into one value counted once; here every
element is a sample (the batch size never changes the epoch value).
"""
import numpy as np

from ckeras.losses import squeeze_or_expand_to_same_rank  # one rule for losses and metrics
from ckeras import registry
from ckeras.registry import to_snake_case as _to_snake_case

EPSILON = 1e-7
NEG_INF = -1e10

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "CosineSimilarity", "LogCoshError", "R2Score",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
    "Precision", "Recall", "AUC", "FBetaScore", "F1Score",
    "get", "serialize", "deserialize",
]


# ---- array helpers -----------------------------------------------------------

def _pair(y_true, y_pred):
    """y_pred as a float array (float32 unless already float), y_true cast to it."""
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    return y_true, y_pred


def _mean_last(x):
    """Mean over the last axis; rank-1 input is already one value per sample."""
    return x.mean(axis=-1) if x.ndim >= 2 else x


def _divide_no_nan(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape, dtype=np.float64)
    np.divide(a, b, out=out, where=(b != 0))
    return out


def _scalar_or_array(x):
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def _log_softmax(x, axis=-1):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def _sigmoid(x):
    x = np.asarray(x)
    out = np.empty_like(x, dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


# ---- stateless metric functions (Keras 3 formulas) --------------------------

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


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    d = y_pred - y_true
    return _mean_last(d * d)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean_last(np.abs(y_pred - y_true))


def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON))
    return 100.0 * _mean_last(diff)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    d = np.log(np.maximum(y_pred, EPSILON) + 1.0) - np.log(np.maximum(y_true, EPSILON) + 1.0)
    return _mean_last(d * d)


def log_cosh(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    x = y_pred - y_true
    # log(cosh(x)) = x + softplus(-2x) - log(2), stable for large |x|
    return _mean_last(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0))


def cosine_similarity(y_true, y_pred, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)

    def normalize(x):
        sq = np.sum(x * x, axis=axis, keepdims=True)
        return x / np.sqrt(np.maximum(sq, 1e-12))
    return np.sum(normalize(y_true) * normalize(y_pred), axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        x = y_pred
        per = np.maximum(x, 0) - x * y_true + np.log1p(np.exp(-np.abs(x)))
    else:
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        per = -(y_true * np.log(p + EPSILON) + (1.0 - y_true) * np.log(1.0 - p + EPSILON))
    return per.mean(axis=axis) if per.ndim >= 2 else per


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        n = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / n
    if from_logits:
        logp = _log_softmax(y_pred, axis)
    else:
        p = y_pred / np.sum(y_pred, axis=axis, keepdims=True)
        logp = np.log(np.clip(p, EPSILON, 1.0 - EPSILON))
    return -np.sum(y_true * logp, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(np.float32)
    labels = _sparse_labels(y_true, y_pred).astype(np.int64)
    if from_logits:
        logp = _log_softmax(y_pred, axis)
    else:
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        logp = np.log(p) - np.log(np.sum(p, axis=axis, keepdims=True))
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = np.where(valid, labels, 0)
    out = -np.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]
    if valid is not None:
        out = out * valid
    return out


def kl_divergence(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    t = np.clip(y_true, EPSILON, 1.0)
    p = np.clip(y_pred, EPSILON, 1.0)
    return np.sum(t * np.log(t / p), axis=-1)


def poisson(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean_last(y_pred - y_true * np.log(y_pred + EPSILON))


def _hinge_labels(y_true):
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


def hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _mean_last(np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0))


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    h = np.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)
    return _mean_last(h * h)


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


_FUNCTIONS = {f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, log_cosh, cosine_similarity,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    kl_divergence, poisson, hinge, squared_hinge, categorical_hinge)}
_FUNCTIONS.update({"mse": mean_squared_error, "mae": mean_absolute_error,
                   "mape": mean_absolute_percentage_error,
                   "msle": mean_squared_logarithmic_error, "kld": kl_divergence,
                   "logcosh": log_cosh})


# ---- base classes ------------------------------------------------------------

class Metric:
    """Base class: ``update_state``, ``result``, ``reset_state``, ``name``."""

    def __init__(self, name=None, dtype=None):
        self.name = name if name else _to_snake_case(type(self).__name__)
        if isinstance(dtype, dict):       # Keras 3 DTypePolicy object
            dtype = (dtype.get("config") or {}).get("name")
        self._dtype = np.dtype(dtype).name if dtype is not None else "float32"

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        """A state variable (Keras 3): ``update_state`` changes it with
        ``assign``/``assign_add``; the default ``reset_state`` zeroes it."""
        from ckeras import initializers
        from ckeras.variables import Variable
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        variables = self.__dict__.setdefault("_variables", [])
        var = Variable(np.asarray(initializers.get(initializer)(shape)),
                       name=name or f"variable_{len(variables)}", trainable=False,
                       dtype=dtype or self.dtype)
        variables.append(var)
        return var

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None, **kwargs):
        return self.add_variable(shape, initializer, dtype, name=name)

    @property
    def variables(self):
        return list(self.__dict__.get("_variables", []))

    def reset_state(self):
        if not self.__dict__.get("_variables"):
            raise NotImplementedError(f"Metric {self.name!r}: implement reset_state(), or "
                                      "keep the state in add_variable() variables.")
        for v in self._variables:
            v.assign(np.zeros(v.shape, v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _reduce_to_samplewise(values, sample_weight):
    """Keras 3 ``reduce_to_samplewise_values`` with mean reduction."""
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        values, sw = squeeze_or_expand_to_same_rank(values, sw)
        w_nd, v_nd = sw.ndim, values.ndim
        if v_nd > w_nd:
            values = values.mean(axis=tuple(range(w_nd, v_nd)))
        sw = np.broadcast_to(sw, values.shape)
        values = values * sw
        if w_nd > 1:
            sw = sw.mean(axis=tuple(range(1, w_nd)))
        sample_weight = sw
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = _reduce_to_samplewise(values, sample_weight)
        self.total += float(np.sum(values))

    def result(self):
        return self.total


class Mean(Metric):
    """Weighted mean: ``Σ w·v / Σ w`` (``Σ w`` = sample count when unweighted)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if (sample_weight is not None and isinstance(sample_weight, (int, float))
                and np.ndim(values) == 0):
            self.total += float(values) * sample_weight
            self.count += sample_weight
            return
        values, sample_weight = _reduce_to_samplewise(values, sample_weight)
        self.total += float(np.sum(values))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        elif values.ndim >= 1:
            self.count += values.shape[0]
        else:
            self.count += 1

    def result(self):
        return self.total / self.count if self.count != 0 else 0.0


def _fn_name(fn):
    for key, value in _FUNCTIONS.items():
        if value is fn:
            return key
    return getattr(fn, "__name__", repr(fn))


class MeanMetricWrapper(Mean):
    """Mean of ``fn(y_true, y_pred, **kwargs)`` (one value per sample)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if isinstance(fn, str):
            fn = _resolve_fn(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "fn": _fn_name(self._fn)}
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = _resolve_fn(config["fn"])
        return cls(**config)


def _resolve_fn(fn):
    if isinstance(fn, dict):          # Keras 3 serialised function
        fn = fn.get("config", fn.get("class_name"))
    if callable(fn):
        return fn
    found = _FUNCTIONS.get(fn)
    if found is None:
        found = registry.lookup_custom(fn)
    if found is None:
        raise ValueError(f"Unknown metric function: {fn!r}. Accepted names: "
                         f"{', '.join(sorted(_FUNCTIONS))}")
    return found


# ---- accuracy ---------------------------------------------------------------

class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and (threshold <= 0 or threshold >= 1):
            raise ValueError("Invalid value for argument `threshold`. Expected a "
                             f"value in interval (0, 1). Received: threshold={threshold}")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


# ---- regression -------------------------------------------------------------

class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


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


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class LogCoshError(MeanMetricWrapper):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


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


# ---- probabilistic / hinge ---------------------------------------------------

class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None,
                 from_logits=False, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)
        self.from_logits = from_logits
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "axis": self.axis}


class KLDivergence(MeanMetricWrapper):
    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Poisson(MeanMetricWrapper):
    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Hinge(MeanMetricWrapper):
    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(MeanMetricWrapper):
    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CategoricalHinge(MeanMetricWrapper):
    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


# ---- confusion-matrix metrics -----------------------------------------------

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


# ---- lookup -------------------------------------------------------------------

_CLASSES = (
    Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError,
    R2Score, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, TruePositives,
    FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC,
    FBetaScore, F1Score)
_BUILTINS = {cls.__name__: cls for cls in _CLASSES}
_BUILTINS.update({_to_snake_case(cls.__name__): cls for cls in _CLASSES
                  if cls is not MeanMetricWrapper})   # needs `fn`: not a string metric
_BUILTINS.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "kld": KLDivergence, "logcosh": LogCoshError, "log_cosh": LogCoshError,
    "rmse": RootMeanSquaredError,
})

_SHAPE_RESOLVED = {
    "accuracy": (BinaryAccuracy, SparseCategoricalAccuracy, CategoricalAccuracy),
    "acc": (BinaryAccuracy, SparseCategoricalAccuracy, CategoricalAccuracy),
    "crossentropy": (BinaryCrossentropy, SparseCategoricalCrossentropy,
                     CategoricalCrossentropy),
    "ce": (BinaryCrossentropy, SparseCategoricalCrossentropy, CategoricalCrossentropy),
}


def _shape(x):
    if isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in x):
        return x
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(np.asarray(x))


def resolve_by_shape(y_true, y_pred):
    """Keras 3 rule (§1.4): ``"binary"``, ``"sparse"`` or ``"categorical"``.

    ``y_true``/``y_pred`` may be arrays or shape tuples. A rank-1 ``y_pred``
    (one score per sample) counts as binary.
    """
    ts, ps = _shape(y_true), _shape(y_pred)
    if len(ps) <= 1 or ps[-1] == 1:
        return "binary"
    if len(ts) < len(ps) or (len(ts) > 0 and ts[-1] == 1):
        return "sparse"
    return "categorical"


_KIND_INDEX = {"binary": 0, "sparse": 1, "categorical": 2}


class _ShapeResolvedMetric(Metric):
    """"accuracy"/"acc"/"crossentropy"/"ce" given without shapes: picks the
    concrete metric from the first ``update_state`` call."""

    def __init__(self, identifier, name=None, dtype=None):
        super().__init__(name=name or identifier, dtype=dtype)
        self._identifier = identifier
        self._inner = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._inner is None:
            classes = _SHAPE_RESOLVED[self._identifier.lower()]
            cls = classes[_KIND_INDEX[resolve_by_shape(y_true, y_pred)]]
            self._inner = cls(name=self.name, dtype=self.dtype)
        self._inner.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self):
        return 0.0 if self._inner is None else self._inner.result()

    def reset_state(self):
        if self._inner is not None:
            self._inner.reset_state()

    @property
    def resolved(self):
        return self._inner

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def serialize(metric):
    """Keras 3 dict ``{"module", "class_name", "config", "registered_name"}``."""
    if isinstance(metric, _ShapeResolvedMetric):
        return metric._identifier
    return registry.serialize(metric, "keras.metrics")


def deserialize(config, custom_objects=None):
    """Metric from a Keras 3 / Keras 2 dict (``MeanMetricWrapper`` with ``fn``
    included) or a name."""
    return registry.deserialize_object(config, _BUILTINS, "metric", custom_objects)


def get(identifier, y_true=None, y_pred=None, custom_objects=None):
    """Metric object for a compile() entry.

    Strings keep the user's spelling as ``.name`` (``"acc"`` -> ``acc``,
    ``"AUC"`` -> ``AUC``); ``"accuracy"``/``"acc"``/``"crossentropy"``/``"ce"``
    (any case) are resolved from the shapes of ``y_true``/``y_pred`` (arrays
    or shape tuples; without them, on the first update). Metric objects are
    returned unchanged; classes are instantiated; plain functions are wrapped
    in a MeanMetricWrapper named after the function.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects=custom_objects)
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _SHAPE_RESOLVED:
            if y_true is None or y_pred is None:
                return _ShapeResolvedMetric(identifier)
            cls = _SHAPE_RESOLVED[key][_KIND_INDEX[resolve_by_shape(y_true, y_pred)]]
            return cls(name=identifier)
        obj = registry.resolve(identifier, _BUILTINS, "metric",
                               custom_objects=custom_objects)
        if isinstance(obj, type):
            obj = obj()
        if not isinstance(obj, Metric):
            if not callable(obj):
                raise ValueError(f"Could not interpret metric identifier: {identifier}")
            obj = MeanMetricWrapper(obj, name=identifier)
        obj.name = identifier
        return obj
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier}")
