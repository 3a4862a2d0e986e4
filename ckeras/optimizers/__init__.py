"""Optimizers (Keras 3 names, defaults, formulas and saved-state layout).

``get("adam")``, ``get({"class_name": "Adam", "config": {...}})`` (Keras 2
``"Custom>Adam"`` too), ``get(instance)``; ``serialize`` / ``deserialize``.
"""
from ckeras import registry as _registry
from ckeras.optimizers import schedules
from ckeras.optimizers.base import Optimizer
from ckeras.optimizers.sgd import SGD
from ckeras.optimizers.rmsprop import RMSprop
from ckeras.optimizers.adam import Adam, AdamW, Adamax, Nadam
from ckeras.optimizers.adagrad import Adagrad, Adadelta, Ftrl
from ckeras.optimizers.lion import Lion
from ckeras.optimizers.lamb import Lamb
from ckeras.optimizers.adafactor import Adafactor
from ckeras.optimizers import wrapper as _wrapper
from ckeras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from ckeras.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from ckeras.optimizers.muon import Muon
from ckeras.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from ckeras.optimizers.schedules import LearningRateSchedule

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam",
           "Adagrad", "Adadelta", "Ftrl", "Lion", "Lamb", "Adafactor", "LossScaleOptimizer",
           "MultiOptimizer", "OptimizerMap", "Muon", "ScheduleFreeAdamW",
           "LearningRateSchedule",
           "schedules", "get", "serialize", "deserialize"]

_CLASSES = (SGD, RMSprop, Adam, AdamW, Adamax, Nadam, Adagrad, Adadelta, Ftrl, Lion, Lamb,
            Adafactor, LossScaleOptimizer, MultiOptimizer, Muon, ScheduleFreeAdamW)
# Keras 3 accepts the class name in any case ("adam", "Adam", "ADAM", "rmsprop").
_BY_LOWER = {cls.__name__.lower(): cls for cls in _CLASSES}


def serialize(optimizer):
    """Keras 3 dict ``{"module", "class_name", "config", "registered_name"}``."""
    return _registry.serialize(optimizer, "keras.optimizers")


def _unknown(name):
    accepted = ", ".join(sorted(_BY_LOWER))
    return ValueError(f"Could not interpret optimizer identifier: {name}. "
                      f"Accepted names: {accepted} (any case), or a custom "
                      "optimizer passed via custom_objects / registered with "
                      "@register_keras_serializable().")


def deserialize(config, custom_objects=None):
    """Optimizer from a Keras 3 / Keras 2 dict or a name."""
    if isinstance(config, Optimizer):
        return config
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict):
        raise _unknown(config)
    name = config.get("class_name")
    bare = _registry.bare_class_name(name)
    cls = _registry.lookup_custom(bare, config.get("registered_name"), custom_objects)
    if cls is None:
        if not isinstance(bare, str) or bare.lower() not in _BY_LOWER:
            raise _unknown(name)
        cls = _BY_LOWER[bare.lower()]
    if isinstance(cls, type):
        return _registry.from_config(cls, config.get("config") or {}, custom_objects)
    return cls


def get(identifier, custom_objects=None):
    """``None`` -> ``None``; an Optimizer -> itself; a string or dict -> new
    optimizer. Anything else raises ValueError."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier, custom_objects=custom_objects)
        if isinstance(obj, Optimizer):
            return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


_wrapper.deserialize = deserialize   # inner optimizers of LossScale/MultiOptimizer configs
