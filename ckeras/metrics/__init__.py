"""Stateful metrics (Keras 3 names, defaults, formulas, config keys).

One module per family: ``base.py`` (Metric, Mean, Sum, MeanMetricWrapper),
``accuracy_metrics.py``, ``regression_metrics.py``, ``probabilistic_metrics.py``,
``hinge_metrics.py``, ``confusion_metrics.py`` (Keras's file names; ``accuracy.py``
would shadow the ``accuracy`` function) (counts, precision/recall, AUC, F-scores),
``sensitivity_specificity.py`` (a rate at a constraint on another, on the confusion
counts), ``iou_metrics.py`` (confusion-matrix IoU) and ``correlation_metrics.py``. A metric that is the
mean of a loss calls the loss (``ckeras.losses``), which owns the formula, and
both use one shape/rank rule (``ckeras.losses.base.squeeze_or_expand_to_same_rank``).
This module re-exports them and owns the string names and get/serialize/deserialize.

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

from ckeras import registry
from ckeras.metrics.base import (Metric, Mean, Sum, MeanMetricWrapper,  # noqa: F401
                                 _FUNCTIONS, _to_snake_case)
from ckeras.metrics.accuracy_metrics import (  # noqa: F401
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)
from ckeras.metrics.regression_metrics import (  # noqa: F401
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError, R2Score,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, log_cosh, cosine_similarity)
from ckeras.metrics.probabilistic_metrics import (  # noqa: F401
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence,
    Poisson, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    kl_divergence, poisson)
from ckeras.metrics.hinge_metrics import (Hinge, SquaredHinge, CategoricalHinge,  # noqa: F401
                                  hinge, squared_hinge, categorical_hinge)
from ckeras.metrics.confusion_metrics import (  # noqa: F401
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC,
    FBetaScore, F1Score, _ConfusionMatrixConditionCount, _PrecisionRecallBase)
from ckeras.metrics.sensitivity_specificity import (  # noqa: F401
    SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision)
from ckeras.metrics.iou_metrics import (  # noqa: F401
    IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU)
from ckeras.metrics.correlation_metrics import (  # noqa: F401
    PearsonCorrelation, ConcordanceCorrelation, pearson_correlation, concordance_correlation)
from ckeras.metrics.probabilistic_metrics import (  # noqa: F401
    binary_focal_crossentropy, categorical_focal_crossentropy)
from ckeras.metrics.regression_metrics import huber  # noqa: F401


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
    "SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall",
    "RecallAtPrecision", "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU",
    "PearsonCorrelation", "ConcordanceCorrelation", "pearson_correlation",
    "concordance_correlation", "binary_focal_crossentropy", "categorical_focal_crossentropy",
    "huber",
    "get", "serialize", "deserialize",
]

_FUNCTIONS.update({f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, log_cosh, cosine_similarity,
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    kl_divergence, poisson, hinge, squared_hinge, categorical_hinge,
    pearson_correlation, concordance_correlation, binary_focal_crossentropy,
    categorical_focal_crossentropy, huber)})
_FUNCTIONS.update({"mse": mean_squared_error, "mae": mean_absolute_error,
                   "mape": mean_absolute_percentage_error,
                   "msle": mean_squared_logarithmic_error, "kld": kl_divergence,
                   "logcosh": log_cosh})


# ---- lookup -------------------------------------------------------------------

_CLASSES = (
    Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError,
    R2Score, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, TruePositives,
    FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC,
    FBetaScore, F1Score, SensitivityAtSpecificity, SpecificityAtSensitivity,
    PrecisionAtRecall, RecallAtPrecision, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
    PearsonCorrelation, ConcordanceCorrelation)
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
        obj = registry.deserialize_object(identifier, _BUILTINS, "metric", custom_objects)
        if not isinstance(obj, Metric):
            if not callable(obj):
                raise ValueError(f"Could not interpret metric identifier: {identifier}")
            obj = MeanMetricWrapper(obj, name=identifier)
        obj.name = identifier
        return obj
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier}")
