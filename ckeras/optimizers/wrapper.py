"""What the optimizers that drive other optimizers share (LossScaleOptimizer,
MultiOptimizer): the argument orders ``apply`` accepts, and the deserialiser
of their inner optimizers' configs."""
from ckeras.optimizers.base import Optimizer, _all_variables

# ckeras.optimizers.deserialize, set by the package on import (importing the
# package from here would be an import circle)
deserialize = None


def inner_from_config(value, custom_objects=None):
    """An inner optimizer from its config (an Optimizer passes through)."""
    if isinstance(value, Optimizer):
        return value
    return deserialize(value, custom_objects=custom_objects)


def apply_arguments(optimizer, variables, grads, trainable_variables):
    """``apply``'s arguments as (variables, gradients), as ``Optimizer.apply``
    reads them: ckeras's ``(variables, grads=None)`` (None: each ``.grad``) or
    Keras's ``(grads, trainable_variables)``."""
    if trainable_variables is not None:
        variables, grads = trainable_variables, variables
    elif variables is not None and not _all_variables(variables):
        variables, grads = grads, variables
    if variables is None:
        if not optimizer.built:
            raise ValueError("Pass the trainable variables to the first `apply()` call, or "
                             "call `build()` first.")
        variables = optimizer._trainable
    variables = list(variables)
    grads = [v.grad for v in variables] if grads is None else list(grads)
    if len(grads) != len(variables):
        raise ValueError(f"Got {len(grads)} gradients for {len(variables)} variables.")
    return variables, grads


def build_for_set_variables(optimizer, trainable_variables):
    """``set_variables`` needs the slots: build them, or say how."""
    if not optimizer.built:
        if trainable_variables is None:
            raise ValueError("You are calling `set_variables()` on an optimizer that has not "
                             "yet been built. Please call `optimizer.build(trainable_variables)` "
                             "first.")
        optimizer.build(trainable_variables)
