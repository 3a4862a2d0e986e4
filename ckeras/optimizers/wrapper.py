"""What the optimizers that drive other optimizers share (LossScaleOptimizer,
MultiOptimizer): the deserialiser
of their inner optimizers' configs."""
from ckeras.optimizers.base import Optimizer

# ckeras.optimizers.deserialize, set by the package on import (importing the
# package from here would be an import circle)
deserialize = None


def inner_from_config(value, custom_objects=None):
    """An inner optimizer from its config (an Optimizer passes through)."""
    if isinstance(value, Optimizer):
        return value
    return deserialize(value, custom_objects=custom_objects)


def build_for_set_variables(optimizer, trainable_variables):
    """``set_variables`` needs the slots: build them, or say how."""
    if not optimizer.built:
        if trainable_variables is None:
            raise ValueError("You are calling `set_variables()` on an optimizer that has not "
                             "yet been built. Please call `optimizer.build(trainable_variables)` "
                             "first.")
        optimizer.build(trainable_variables)
