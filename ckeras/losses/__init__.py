"""Losses with explicit gradients (Keras 3 names, defaults, shapes and reduction).

One module per family, each formula written once (the metrics that wrap a loss
call it):

* ``base.py``: ``Loss``, ``LossFunctionWrapper``, the reduction, the shared
  shape/rank rule (``squeeze_or_expand_to_same_rank``, also the metrics'), the tape plumbing;
* ``regression.py``: squared / absolute / percentage / logarithmic errors, Huber,
  log-cosh, cosine similarity;
* ``probabilistic.py``: the cross-entropies (fused softmax/sigmoid kernels),
  focal cross-entropies, KL divergence, Poisson;
* ``margin.py``: hinge, squared hinge, categorical hinge (not ``hinge.py``: that
  name would shadow the ``hinge`` function here);
* ``vjp_loss.py``: ``VJPLoss``, the base of the losses whose values are not one
  per last-axis row: ``overlap.py`` (Dice, Tversky over any ``axis``),
  ``metric_learning.py`` (Circle), ``generalized_crossentropy.py``
  (CategoricalGeneralizedCrossEntropy), ``ctc_loss.py`` (CTC, its forward-backward).

This module re-exports them and owns the string names and get/serialize/deserialize.
"""
from ckeras import registry
from ckeras.losses.base import (Loss, LossFunctionWrapper, autodiff_forward_backward,  # noqa: F401
                                squeeze_or_expand_to_same_rank, standardize_reduction)
from ckeras.losses.regression import (  # noqa: F401
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, CosineSimilarity,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, cosine_similarity)
from ckeras.losses.margin import (Hinge, SquaredHinge, CategoricalHinge,  # noqa: F401
                                  hinge, squared_hinge, categorical_hinge)
from ckeras.losses.probabilistic import (  # noqa: F401
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, SparseCategoricalCrossentropy, AutoCrossentropy,
    KLDivergence, Poisson,
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson)
from ckeras.losses.overlap import Dice, Tversky, dice, tversky  # noqa: F401
from ckeras.losses.metric_learning import Circle, circle  # noqa: F401
from ckeras.losses.generalized_crossentropy import (  # noqa: F401
    CategoricalGeneralizedCrossEntropy, categorical_generalized_cross_entropy)
from ckeras.losses.ctc_loss import CTC, ctc  # noqa: F401

__all__ = [
    "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "BinaryCrossentropy",
    "BinaryFocalCrossentropy", "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
    "SparseCategoricalCrossentropy", "Hinge", "SquaredHinge", "CategoricalHinge", "Huber",
    "KLDivergence", "LogCosh", "Poisson", "CosineSimilarity",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_crossentropy", "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy", "hinge", "squared_hinge", "categorical_hinge",
    "huber", "kl_divergence", "log_cosh", "poisson", "cosine_similarity",
    "Dice", "Tversky", "Circle", "CategoricalGeneralizedCrossEntropy", "CTC",
    "dice", "tversky", "circle", "categorical_generalized_cross_entropy", "ctc",
    "mse", "mae", "mape", "msle", "kld", "MSE", "MAE", "MAPE", "MSLE", "KLD", "logcosh",
    "get", "serialize", "deserialize",
]

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh


# ---- registry ----------------------------------------------------------------------

_CLASSES = [MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, BinaryCrossentropy, BinaryFocalCrossentropy,
            CategoricalCrossentropy, CategoricalFocalCrossentropy,
            SparseCategoricalCrossentropy, Hinge, SquaredHinge, CategoricalHinge, Huber,
            KLDivergence, LogCosh, Poisson, CosineSimilarity, Dice, Tversky, Circle,
            CategoricalGeneralizedCrossEntropy, CTC]

_FUNCTIONS = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    hinge: Hinge, squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge,
    huber: Huber, kl_divergence: KLDivergence, log_cosh: LogCosh, poisson: Poisson,
    cosine_similarity: CosineSimilarity, dice: Dice, tversky: Tversky, circle: Circle,
    ctc: CTC,
}

_BUILTINS = {cls.__name__: cls for cls in _CLASSES}
_BUILTINS.update({fn.__name__: cls for fn, cls in _FUNCTIONS.items()})
_BUILTINS.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "kld": KLDivergence, "KLD": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "logcosh": LogCosh, "huber_loss": Huber,
    "crossentropy": AutoCrossentropy, "ce": AutoCrossentropy,
    "AutoCrossentropy": AutoCrossentropy,
})

def get(identifier, custom_objects=None):
    """str / dict / Loss / Loss class / function -> a Loss object (None -> None)."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict) and identifier.get("class_name") == "function":
        identifier = identifier.get("config")  # Keras 3 form of a loss function
    obj = registry.resolve(identifier, _BUILTINS, "loss", custom_objects)
    if callable(obj) and not isinstance(obj, type) and obj in _FUNCTIONS:
        return _FUNCTIONS[obj]()
    if isinstance(obj, type):
        obj = obj()
    if isinstance(obj, Loss):
        return obj
    if callable(obj):
        return LossFunctionWrapper(obj)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss):
    """Keras 3 dict form (module "keras.losses")."""
    if loss is not None and not isinstance(loss, Loss):
        loss = get(loss)
    return registry.serialize(loss, "keras.losses")


def deserialize(config, custom_objects=None):
    return get(config, custom_objects=custom_objects)
